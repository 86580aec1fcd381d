//! nsinit on a real terminal, side by side with dumb-init 1.2.5 (whose README is the spec):
//! a python driver owns a pty (`pty.fork`, so the program it starts leads a session that owns
//! the terminal, as `docker run -t` / `podman run -t` start a container's PID 1) and plays
//! the user or the shell. Each case runs nsinit as a subreaper and as PID 1 (`unshare -pf
//! --mount-proc`, with `setsid -c` where PID 1 must lead the session that owns the
//! terminal). The oracles are the kernel's: `/proc/PID/stat` (state, process group,
//! session, tty_nr, tpgid) and what bash's job table says.

use harness::{skip, Cmd};

mod nsinit_support;
use nsinit_support::{need_programs, need_python, nsinit, PY};

/// The driver's helpers; each test appends its body. `spawn(argv)` starts argv on a new pty;
/// `until(word)` reads the terminal up to the next `word` (20 s at most); `fail(why)` kills
/// every process we started and exits 1 with what the terminal said.
const PRELUDE: &str = r#"
import os, pty, sys, time, select, signal
buf, pos, pid, fd = b"", 0, None, None
def spawn(argv, env=None):
    global pid, fd
    pid, fd = pty.fork()
    if pid == 0:
        if env:
            os.environ.update(env)
        os.execvp(argv[0], argv)
def kids(p):
    out = []
    try:
        for t in os.listdir("/proc/%d/task" % p):
            with open("/proc/%d/task/%s/children" % (p, t)) as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out
def tree(p):
    out, stack = [], [p]
    while stack:
        q = stack.pop()
        out.append(q)
        stack += kids(q)
    return out
def cleanup():
    for p in tree(os.getpid())[1:]:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
def fail(why):
    cleanup()
    print("FAIL", why, buf.decode(errors="replace").replace("\r", ""), flush=True)
    sys.exit(1)
def read_some(t):
    global buf
    r, _, _ = select.select([fd], [], [], t)
    if not r:
        return True
    try:
        d = os.read(fd, 4096)
    except OSError:
        return False
    buf += d
    return bool(d)
def until(word, t=20):
    global pos
    end = time.time() + t
    while True:
        i = buf.find(word.encode(), pos)
        if i >= 0:
            start, pos = pos, i + len(word)
            return buf[start:pos].decode(errors="replace")
        if time.time() > end or not read_some(max(0.0, end - time.time())):
            fail("waiting for %r" % word)
def drain():
    while read_some(0.05):
        if not select.select([fd], [], [], 0)[0]:
            break
def state(p):
    try:
        with open("/proc/%d/stat" % p) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
def wait_state(p, want, t=20):
    end = time.time() + t
    while state(p) not in want:
        if time.time() > end:
            fail("%d is %s, not %s" % (p, state(p), want))
        drain()
        time.sleep(0.01)
    return state(p)
def only_child(p, t=20):
    end = time.time() + t
    while not kids(p):
        if time.time() > end:
            fail("%d has no child" % p)
        time.sleep(0.01)
    return kids(p)[0]
def out(*a):
    print(*a, flush=True)
"#;

/// Whether python3, bash, dumb-init and util-linux's unshare and setsid are here.
fn ready() -> bool {
    if !need_python() || !need_programs(&["bash", "dumb-init", "unshare", "setsid"]) {
        return false;
    }
    if !harness::is_root() {
        skip("needs root to create PID namespaces");
        return false;
    }
    true
}

/// Run the driver `PRELUDE + body` with `args` (sys.argv[1:]); its stdout.
fn drive(body: &str, args: &[String]) -> String {
    let script = format!("{PRELUDE}\n{body}");
    let out = Cmd::new(PY).args(["-c", &script]).args(args).run();
    out.ok();
    out.stdout
}

/// The inits side by side: (name, argv prefix up to and including `--`).
fn inits(nsinit_flags: &[&str], dumb_flags: &[&str]) -> Vec<(&'static str, Vec<String>)> {
    let mut ours = vec![nsinit().display().to_string()];
    ours.extend(nsinit_flags.iter().map(|s| s.to_string()));
    ours.push("--".into());
    let mut theirs = vec!["dumb-init".to_string()];
    theirs.extend(dumb_flags.iter().map(|s| s.to_string()));
    theirs.push("--".into());
    vec![("nsinit", ours), ("dumb-init", theirs)]
}

/// As PID 1 leading the session that owns the terminal: `unshare -pf --mount-proc setsid -c`
/// (PID 1 is no group leader, so setsid does not fork, and -c takes the terminal).
fn as_session_pid1(argv: &[String]) -> Vec<String> {
    let mut v: Vec<String> = ["unshare", "-pf", "--mount-proc", "setsid", "-c"]
        .map(String::from)
        .to_vec();
    v.extend_from_slice(argv);
    v
}

/// The value after `key=` on the driver's `result` line.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .filter(|l| l.starts_with("result "))
        .flat_map(str::split_whitespace)
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in {out}"))
}

/// `--setsid` (and DUMB_INIT_SETSID=yes) leading a session that owns the terminal: the
/// command leads its own session with the terminal as its controlling terminal and its group
/// in the foreground; the init gave its own up (tty_nr 0), and the SIGHUP and SIGCONT that
/// TIOCNOTTY sent it never reached the command.
#[test]
fn setsid_hands_the_terminal_to_the_command() {
    if !ready() {
        return;
    }
    let body = r#"
env = {"DUMB_INIT_SETSID": sys.argv[1]} if sys.argv[1] != "-" else None
cmd = ('trap "echo got-hup" HUP; trap "echo got-cont" CONT; '
       'read pid comm st ppid pgrp sid tty tpgid rest < /proc/self/stat; '
       'read ipid icomm ist ippid ipgrp isid itty rest < /proc/$PPID/stat; '
       'echo "info $pid $pgrp $sid $tty $tpgid $itty"; sleep 0.3; echo done')
spawn(sys.argv[2:] + ["sh", "-c", cmd], env)
until("done")
info = [l for l in buf.decode().splitlines() if l.startswith("info")][0].split()
_, st = os.waitpid(pid, 0)
out("result pid=%s pgrp=%s sid=%s tty=%s tpgid=%s init_tty=%s hup=%d cont=%d status=%d" % (
    tuple(info[1:]) + (b"got-hup" in buf, b"got-cont" in buf, st)))
"#;
    let mut rows = Vec::new();
    for (env, nsinit_flags) in [("-", &["--setsid"][..]), ("yes", &[][..])] {
        for (name, argv) in inits(nsinit_flags, &[]) {
            for pid1 in [false, true] {
                let argv = if pid1 {
                    as_session_pid1(&argv)
                } else {
                    argv.clone()
                };
                let mut args = vec![env.to_string()];
                args.extend(argv);
                let out = drive(body, &args);
                let what = format!("{name} pid1={pid1} DUMB_INIT_SETSID={env}: {out}");
                let pid = field(&out, "pid");
                assert_eq!(field(&out, "pgrp"), pid, "{what}");
                assert_eq!(field(&out, "sid"), pid, "session leader: {what}");
                assert_eq!(field(&out, "tpgid"), pid, "foreground: {what}");
                assert_ne!(field(&out, "tty"), "0", "controlling terminal: {what}");
                assert_eq!(field(&out, "init_tty"), "0", "the init kept it: {what}");
                assert_eq!(field(&out, "hup"), "0", "SIGHUP forwarded: {what}");
                assert_eq!(field(&out, "cont"), "0", "SIGCONT forwarded: {what}");
                assert_eq!(field(&out, "status"), "0", "{what}");
                rows.push(name);
            }
        }
    }
    assert_eq!(rows.len(), 8);
}

/// `bash -m` under `--setsid` gets job control ("no job control" is what it says without a
/// controlling terminal).
#[test]
fn setsid_gives_bash_job_control() {
    if !ready() {
        return;
    }
    let body = r#"
spawn(sys.argv[1:] + ["bash", "--norc", "--noprofile", "-mc",
                      "sleep 0.2 & fg %1 >/dev/null && echo fg-ok"])
until("fg-ok")
_, st = os.waitpid(pid, 0)
out("result jc=%d status=%d" % (b"job control" not in buf, st))
"#;
    for (name, argv) in inits(&["--setsid"], &[]) {
        for pid1 in [false, true] {
            let argv = if pid1 {
                as_session_pid1(&argv)
            } else {
                argv.clone()
            };
            let out = drive(body, &argv);
            assert_eq!(field(&out, "jc"), "1", "{name} pid1={pid1}: {out}");
            assert_eq!(field(&out, "status"), "0", "{name} pid1={pid1}: {out}");
        }
    }
}

/// With --setsid (dumb-init's default), a TSTP sent to the init stops the command's group (as
/// SIGSTOP) and then the init itself — also when -r rewrites TSTP to USR1, which the command
/// then gets instead. SIGCONT continues both. As PID 1 the init cannot stop (the kernel drops
/// its own SIGSTOP): neither can dumb-init.
#[test]
fn setsid_job_stop_stops_the_init_even_when_rewritten() {
    if !ready() {
        return;
    }
    let body = r#"
pid1 = sys.argv[1] == "1"
# Python, not a shell loop: dash forks with vfork, and a SIGSTOP landing between vfork and
# exec leaves the shell in D state, never stopped.
spawn(sys.argv[2:] + [sys.executable, "-c",
      "import signal\nsignal.signal(signal.SIGUSR1, lambda s, f: print('got-usr1', flush=True))"
      "\nprint('ready', flush=True)\nwhile True:\n    signal.pause()"])
until("ready")
init = only_child(pid) if pid1 else pid
cmd = only_child(init)
os.kill(init, signal.SIGTSTP)
if "20:10" in sys.argv:
    until("got-usr1")
else:
    wait_state(cmd, "T")
if not pid1:
    wait_state(init, "T")
time.sleep(0.2)
st_init, st_cmd = state(init), state(cmd)
os.kill(init, signal.SIGCONT)
after_init = wait_state(init, "SR")
time.sleep(0.2)
after_cmd = wait_state(cmd, "SR")
out("result init=%s cmd=%s after_init=%s after_cmd=%s usr1=%d" % (
    st_init, st_cmd, after_init in "SR", after_cmd in "SR", b"got-usr1" in buf))
cleanup()
"#;
    for rewrite in [false, true] {
        let (ours, theirs): (&[&str], &[&str]) = if rewrite {
            (&["--setsid", "-r", "20:10"], &["-r", "20:10"])
        } else {
            (&["--setsid"], &[])
        };
        for pid1 in [false, true] {
            let mut got = Vec::new();
            for (name, argv) in inits(ours, theirs) {
                let argv = if pid1 { as_session_pid1(&argv) } else { argv };
                let mut args = vec![if pid1 { "1" } else { "0" }.to_string()];
                args.extend(argv);
                let out = drive(body, &args);
                let what = format!("{name} pid1={pid1} rewrite={rewrite}: {out}");
                let want_init = if pid1 { "S" } else { "T" };
                assert_eq!(field(&out, "init"), want_init, "{what}");
                let want_cmd = if rewrite { "S" } else { "T" };
                assert_eq!(field(&out, "cmd"), want_cmd, "{what}");
                assert_eq!(
                    field(&out, "usr1"),
                    if rewrite { "1" } else { "0" },
                    "{what}"
                );
                assert_eq!(field(&out, "after_init"), "True", "{what}");
                assert_eq!(field(&out, "after_cmd"), "True", "{what}");
                got.push(
                    out.lines()
                        .find(|l| l.starts_with("result"))
                        .map(str::to_string),
                );
            }
            assert_eq!(got[0], got[1], "nsinit and dumb-init differ (pid1={pid1})");
        }
    }
}

/// The driver for bash's job table: an interactive bash on the pty; the job is the init,
/// alone (subreaper) or under `unshare -pf --mount-proc` (PID 1). `kill -TSTP %1` on the
/// background job (TSTP sent to the init) or Ctrl-Z on the foreground job stops it, `jobs`
/// says Stopped, `fg` continues it in the foreground: the command reads a line typed on the
/// terminal.
const JOBS: &str = r#"
pid1, ctrl_z = sys.argv[1] == "1", sys.argv[2] == "1"
spawn(["bash", "--norc", "--noprofile", "-i"], {"PS1": "@P@ ", "TERM": "dumb"})
def run(line, upto="@P@ "):
    os.write(fd, line.encode() + b"\n")
    return until(upto)
until("@P@ ")
run("bind 'set enable-bracketed-paste off' 2>/dev/null")
job = " ".join(sys.argv[3:]) + " sh -c 'echo started; sleep 0.5; head -n1; echo done'"
if pid1:
    job = "unshare -pf --mount-proc " + job
if ctrl_z:
    os.write(fd, job.encode() + b"\n")
    until("started")
    time.sleep(0.7)
    os.write(fd, b"\x1a")
    until("@P@ ")
else:
    run(job + " &")
    until("started")
    # Past the shell's vfork of sleep: a stop between vfork and exec hangs dash in D state.
    time.sleep(0.2)
    run("kill -TSTP %1")
top = only_child(pid)
init = only_child(top) if pid1 else top
cmd = only_child(init)
wait_state(top, "T")
time.sleep(0.3)
st_init, st_cmd = state(init), state(cmd)
jobs = run("jobs")
os.write(fd, b"fg\n")
time.sleep(0.7)
os.write(fd, b"hello\n")
until("done")
until("@P@ ")
rc = run("echo rc=$?")
out("result stopped=%d init=%s cmd=%s rc0=%d" % ("Stopped" in jobs, st_init, st_cmd,
    "rc=0" in rc))
os.write(fd, b"exit\n")
cleanup()
"#;

/// Without --setsid, a TSTP/TTIN/TTOU sent to nsinit is forwarded and stops nsinit too
/// (dumb-init -c does the same), so bash's `jobs` shows the job stopped; Ctrl-Z of the
/// command in the foreground too. As PID 1 the init cannot stop, but the job that started it
/// (`unshare`) does, and `fg` gives the command the terminal back.
#[test]
fn job_control_stops_the_job_without_setsid() {
    if !ready() {
        return;
    }
    for ctrl_z in [false, true] {
        for pid1 in [false, true] {
            let mut got = Vec::new();
            for (name, argv) in inits(&[], &["-c"]) {
                let mut args = vec![
                    if pid1 { "1" } else { "0" }.to_string(),
                    if ctrl_z { "1" } else { "0" }.to_string(),
                ];
                args.extend(argv);
                let out = drive(JOBS, &args);
                let what = format!("{name} pid1={pid1} ctrl_z={ctrl_z}: {out}");
                assert_eq!(field(&out, "stopped"), "1", "jobs: {what}");
                assert_eq!(field(&out, "init"), if pid1 { "S" } else { "T" }, "{what}");
                assert_eq!(field(&out, "cmd"), "T", "{what}");
                assert_eq!(field(&out, "rc0"), "1", "fg: {what}");
                got.push(
                    out.lines()
                        .find(|l| l.starts_with("result"))
                        .map(str::to_string),
                );
            }
            assert_eq!(got[0], got[1], "nsinit and dumb-init -c differ");
        }
    }
}

#[test]
fn terminal_job_control_under_a_pty() {
    if !need_python() {
        return;
    }
    // A python driver plays the shell: nsinit runs on a pty it controls. The child reports
    // its pid, pgrp and the terminal's foreground group (from /proc/self/stat), then Ctrl-Z
    // must stop the child AND nsinit (the driver sees a stopped job), SIGCONT (fg) resumes
    // it with the terminal, and Ctrl-C reaches it from the terminal.
    let driver = r#"
import os, pty, sys, time, select, signal
nsinit = sys.argv[1]
# The child execs python rather than looping over sleep: dash forks with vfork, and a
# Ctrl-Z landing between vfork and exec leaves the shell unstoppable in the kernel.
child_sh = 'read a b c d pgrp f g tpgid rest < /proc/self/stat; echo info $$ $pgrp $tpgid; exec "$1" -c "$0"'
child_py = "import signal, sys\ndef h(s, f):\n    print('got-int', flush=True)\n    sys.exit(7)\nsignal.signal(signal.SIGINT, h)\nprint('ready', flush=True)\nwhile True:\n    signal.pause()\n"
pid, fd = pty.fork()
if pid == 0:
    os.execv(nsinit, [nsinit, "--", "sh", "-c", child_sh, child_py, sys.executable])
buf = b""
def fail(why):
    # nsinit and its children are in other sessions and groups than ours: kill the tree.
    tree, stack = [], [pid]
    while stack:
        p = stack.pop()
        tree.append(p)
        for t in os.listdir("/proc/%d/task" % p) if os.path.exists("/proc/%d" % p) else []:
            with open("/proc/%d/task/%s/children" % (p, t)) as f:
                stack += [int(c) for c in f.read().split()]
    for p in tree:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    print(why, buf, flush=True)
    sys.exit(1)
def until(word, t=20):
    global buf
    end = time.time() + t
    while word.encode() not in buf:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            fail("timeout waiting for " + word)
        try:
            buf += os.read(fd, 1024)
        except OSError:
            fail("eof waiting for " + word)
until("ready")
info = [l for l in buf.decode().splitlines() if l.startswith("info")][0].split()
print("child", info[1], "pgrp", info[2], "tpgid", info[3], "nsinit", pid, flush=True)
os.write(fd, b"\x1a")
end = time.time() + 20
while True:
    p, st = os.waitpid(pid, os.WUNTRACED | os.WNOHANG)
    if p:
        break
    if time.time() > end:
        fail("nsinit did not stop")
    time.sleep(0.01)
print("stopped", os.WIFSTOPPED(st), flush=True)
os.kill(pid, signal.SIGCONT)
time.sleep(0.3)
with open("/proc/%s/stat" % info[1]) as f:
    print("child-state", f.read().rsplit(")", 1)[1].split()[0], flush=True)
os.write(fd, b"\x03")
until("got-int")
_, st = os.waitpid(pid, 0)
print("exit", os.WEXITSTATUS(st) if os.WIFEXITED(st) else -os.WTERMSIG(st), flush=True)
"#;
    let out = Cmd::new(PY).args(["-c", driver]).arg(nsinit()).run();
    out.ok();
    let get = |key: &str| -> Vec<String> {
        out.stdout
            .lines()
            .find(|l| l.starts_with(key))
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let c = get("child ");
    assert_eq!(c.len(), 8, "{out:?}");
    // Own process group, in the terminal's foreground.
    assert_eq!(c[1], c[3], "pgrp:{out:?}");
    assert_eq!(c[3], c[5], "tpgid:{out:?}");
    assert_ne!(c[3], c[7], "nsinit's pid:{out:?}");
    assert_eq!(get("stopped"), ["stopped", "True"], "{out:?}");
    let st = get("child-state");
    assert!(st.len() == 2 && st[1] != "T", "child still stopped:{out:?}");
    assert_eq!(get("exit"), ["exit", "7"], "{out:?}");
}

#[test]
fn bash_job_control_under_a_pty() {
    if !need_python() {
        return;
    }
    if !harness::have("bash") {
        return skip("needs bash");
    }
    // `bash -m` under nsinit on a terminal: it can put a job in the foreground and back.
    let driver = r#"
import os, pty, sys, time, select
nsinit = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(nsinit, [nsinit, "--", "bash", "--norc", "-mc",
                      "sleep 0.2 & fg %1 >/dev/null && echo fg-ok"])
buf = b""
end = time.time() + 20
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            d = os.read(fd, 1000)
        except OSError:
            break
        if not d:
            break
        buf += d
_, st = os.waitpid(pid, 0)
print(buf.decode(errors="replace").replace("\r", ""), "status", st)
"#;
    let out = Cmd::new(PY).args(["-c", driver]).arg(nsinit()).run();
    out.ok().stdout_has("fg-ok");
    assert!(out.stdout.contains("status 0"), "{out:?}");
}
