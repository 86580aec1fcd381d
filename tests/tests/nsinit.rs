//! nsinit against the real kernel: as PID 1 of a new PID namespace (under our `nsrun --pid
//! --mount-proc`) and as a subreaper. The oracles are the kernel's: `/proc/PID/status`
//! (PPid, SigBlk, SigIgn, context switches), `/proc/PID/stat` (state, pgrp, session, tpgid),
//! exit statuses, and what a recording child says it received.

use std::ffi::OsString;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{child_of, descendants, skip, Bg, Cmd, TempDir};

mod nsinit_support;
use nsinit_support::{need_python, nsinit, PY};

/// A child that prints `got N` for every signal it receives, after `ready`.
const RECORDER: &str = r#"
import signal, sys
def h(s, f):
    sys.stdout.write("got %d\n" % s)
    sys.stdout.flush()
for s in range(1, signal.SIGRTMAX + 1):
    if s in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
        continue
    try:
        signal.signal(s, h)
    except (OSError, ValueError):
        pass
print("ready", flush=True)
while True:
    signal.pause()
"#;

fn need_root() -> bool {
    if harness::is_root() {
        return true;
    }
    skip("needs root to create a PID namespace");
    false
}

/// `nsrun --pid --mount-proc nsinit ARGS…`: nsinit is PID 1 of a new PID namespace.
fn as_pid1<I: IntoIterator<Item = S>, S: Into<OsString>>(args: I) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        harness::bin("nsrun").into(),
        "--pid".into(),
        "--mount-proc".into(),
        nsinit().into(),
    ];
    v.extend(args.into_iter().map(Into::into));
    v
}

/// `nsinit ARGS…`, not PID 1.
fn plain<I: IntoIterator<Item = S>, S: Into<OsString>>(args: I) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![nsinit().into()];
    v.extend(args.into_iter().map(Into::into));
    v
}

fn kill(pid: i32, sig: i32) {
    // kill(1) rather than nix: nix's Signal has no real-time signals.
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .expect("run kill");
    assert!(st.success(), "kill -{sig} {pid} failed");
}

/// `argv` in the background with `env` added; each line read from it within 20 s, and it
/// is killed with all its descendants on drop.
fn start(argv: Vec<OsString>, env: &[(&str, &str)]) -> Bg {
    let mut c = Cmd::new(&argv[0])
        .args(&argv[1..])
        .timeout(Duration::from_secs(20));
    for (k, v) in env {
        c = c.env(k, v);
    }
    c.spawn()
}

fn status_field(pid: i32, field: &str) -> String {
    harness::status_field(pid, field).unwrap_or_default()
}

/// Fields of `/proc/PID/stat` after the command name, numbered as in proc(5) (3 = state).
/// Wait until `pid` is in state `want` (`/proc/PID/stat`'s third field); panics after 20 s.
fn wait_state(pid: i32, want: &str) {
    let start = Instant::now();
    while stat_field(pid, 3) != want && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(stat_field(pid, 3), want, "state of {pid}");
}

fn stat_field(pid: i32, n: usize) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    s.rsplit_once(')')
        .and_then(|(_, r)| r.split_whitespace().nth(n - 3))
        .unwrap_or_default()
        .to_string()
}

// ---------------------------------------------------------------------------------------
// Reaping

/// Run a 10,000-orphan storm under nsinit; the main command reports, from /proc, the
/// zombies left once the storm's parent has exited and nsinit had time to reap.
fn zombie_storm(argv: Vec<OsString>) {
    // The inner python forks 10,000 children that exit at once and exits without waiting:
    // they become orphans of nsinit. The outer one then polls /proc until no zombie is left
    // (or 20 s pass) and prints what it saw.
    let script = r#"
import os, subprocess, sys, time
subprocess.run([sys.executable, "-c", "import os\nfor i in range(10000):\n    if os.fork() == 0:\n        os._exit(0)\n"], check=True)
def zombies():
    n = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        n += 1
            except OSError:
                pass
    return n
deadline = time.time() + 20
while zombies() and time.time() < deadline:
    time.sleep(0.02)
print("zombies", zombies(), "ppid-of-orphans-is", os.getppid(), flush=True)
"#;
    let mut argv = argv;
    argv.extend(["--", PY, "-c", script].map(OsString::from));
    let mut p = start(argv, &[]);
    let line = p.read_line();
    let out = p.wait(Duration::from_secs(40));
    out.code_is(0);
    assert!(line.starts_with("zombies 0 "), "{line}{out:?}");
}

#[test]
fn zombie_storm_of_10000_orphans_as_pid_1() {
    if !need_root() || !need_python() {
        return;
    }
    zombie_storm(as_pid1(Vec::<OsString>::new()));
}

#[test]
fn zombie_storm_of_10000_orphans_as_subreaper() {
    if !need_python() {
        return;
    }
    // Not PID 1: the zombies are in the host's /proc, where other tests' processes may be
    // zombies for a moment; count only those whose parent is this nsinit instead.
    let script = r#"
import os, subprocess, sys, time
init = os.getppid()
subprocess.run([sys.executable, "-c", "import os\nfor i in range(10000):\n    if os.fork() == 0:\n        os._exit(0)\n"], check=True)
def mine():
    n = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == init:
                        n += 1
            except (OSError, ValueError):
                pass
    return n
deadline = time.time() + 20
while mine() > 1 and time.time() < deadline:
    time.sleep(0.02)
print("left", mine() - 1, flush=True)
"#;
    let mut p = start(plain(["--", PY, "-c", script]), &[]);
    let line = p.read_line();
    let out = p.wait(Duration::from_secs(40));
    out.code_is(0);
    assert_eq!(line, "left 0", "{out:?}");
}

#[test]
fn subreaper_when_not_pid_1() {
    // The orphan's parent, says the kernel, is nsinit (not the test runner or init).
    let out = Cmd::tool("nsinit")
        .args([
            "--",
            "sh",
            "-c",
            "p=$(sh -c 'sleep 2 >/dev/null 2>&1 & echo $!'); grep PPid /proc/$p/status; echo init=$PPID; kill $p",
        ])
        .run();
    out.ok();
    let mut lines = out.stdout.lines();
    let ppid = lines.next().and_then(|l| l.split_whitespace().nth(1));
    let init = lines.next().and_then(|l| l.strip_prefix("init="));
    assert!(ppid.is_some() && ppid == init, "{out:?}");
}

/// A shell script: make an orphan that exits after 0.1 s, wait (bounded, 10 s) until its
/// `/proc` entry is gone (a zombie keeps it, so only reaping removes it), then list every
/// process and its state: a test that finds no `Z` knows the orphan was reaped, however
/// slow the machine, instead of guessing how long the reaper may take.
const ORPHAN_REAPED_THEN_PS: &str = "p=$(sh -c 'sleep 0.1 >/dev/null 2>&1 & echo $!'); i=0; \
     while [ -e /proc/$p ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; \
     ps -o pid=,stat= -e";

#[test]
fn reaps_orphans_as_pid_1_and_returns_the_status() {
    if !need_root() {
        return;
    }
    let out = Cmd::tool("nsrun")
        .args(["--pid", "--mount-proc"])
        .arg(nsinit())
        .args([
            "--",
            "sh",
            "-c",
            &format!("{ORPHAN_REAPED_THEN_PS}; exit 5"),
        ])
        .run();
    out.code_is(5);
    assert!(!out.stdout.contains('Z'), "a zombie was left:{out:?}");
    assert!(
        out.stdout
            .lines()
            .next()
            .is_some_and(|l| l.trim().starts_with("1 ")),
        "{out:?}"
    );
}

#[test]
fn rootless_as_subreaper_and_as_pid_1() {
    if !harness::have("setpriv") {
        return skip("needs setpriv");
    }
    // As uid 65534, not PID 1: still a subreaper (PR_SET_CHILD_SUBREAPER needs no
    // privilege), so the orphan's parent is nsinit.
    let orphan = "p=$(sh -c 'sleep 2 >/dev/null 2>&1 & echo $!'); \
                  grep PPid /proc/$p/status; echo init=$PPID; grep -E '^Uid' /proc/$$/status; kill $p";
    let out = Cmd::tool("nsinit")
        .args(["--", "sh", "-c", orphan])
        .as_nobody()
        .run();
    out.ok();
    let mut lines = out.stdout.lines();
    let ppid = lines.next().and_then(|l| l.split_whitespace().nth(1));
    let init = lines.next().and_then(|l| l.strip_prefix("init="));
    assert!(ppid.is_some() && ppid == init, "{out:?}");
    out.stdout_has("65534");
    // As PID 1 of a rootless user + PID namespace.
    if !harness::need_rootless() {
        return;
    }
    let out = Cmd::tool("nsrun")
        .args(["-r", "--pid", "--mount-proc"])
        .arg(harness::bin_for_nobody("nsinit"))
        .args([
            "--",
            "sh",
            "-c",
            &format!("{ORPHAN_REAPED_THEN_PS}; exit 9"),
        ])
        .as_nobody()
        .run();
    out.code_is(9);
    assert!(!out.stdout.contains('Z'), "a zombie was left:{out:?}");
    assert!(
        out.stdout
            .lines()
            .next()
            .is_some_and(|l| l.trim().starts_with("1 ")),
        "{out:?}"
    );
}

#[test]
fn warn_on_reap_logs_each_zombie() {
    let out = Cmd::tool("nsinit")
        .args([
            "-w",
            "--",
            "sh",
            "-c",
            "sh -c 'sleep 0.1 & echo $!'; sleep 0.5",
        ])
        .run();
    out.ok();
    let pid = out.out().lines().next().unwrap_or_default().trim();
    out.stderr_has(&format!("nsinit: Reaped zombie process with pid={pid}"));
}

// ---------------------------------------------------------------------------------------
// Signals

/// Every catchable signal 1–31 (but KILL, STOP, CHLD) and some real-time ones: the ones
/// the anchors drop included.
fn signal_table() -> Vec<i32> {
    let mut v: Vec<i32> = (1..=31)
        .filter(|s| ![libc::SIGKILL, libc::SIGSTOP, libc::SIGCHLD].contains(s))
        .collect();
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    v.extend([min, min + 1, min + 7, max - 1, max]);
    v
}

fn every_signal_reaches_the_child(argv: Vec<OsString>, pid1: bool) {
    let mut argv = argv;
    argv.extend(["--grace=120s", "--", PY, "-c", RECORDER].map(OsString::from));
    let mut p = start(argv, &[]);
    assert_eq!(p.read_line(), "ready");
    let init = if pid1 { child_of(p.pid()) } else { p.pid() };
    if pid1 {
        assert_eq!(
            status_field(init, "NSpid").split_whitespace().nth(1),
            Some("1")
        );
    }
    for sig in signal_table() {
        kill(init, sig);
        assert_eq!(p.read_line(), format!("got {sig}"), "signal {sig}");
        if !pid1 && [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU].contains(&sig) {
            // A job-control stop stops nsinit too (not PID 1: the kernel ignores that);
            // SIGCONT continues it and is forwarded.
            wait_state(init, "T");
            kill(init, libc::SIGCONT);
            assert_eq!(
                p.read_line(),
                format!("got {}", libc::SIGCONT),
                "after {sig}"
            );
            wait_state(init, "S");
        }
    }
    // nsinit survived even SEGV/ILL/BUS/FPE/ABRT/TRAP/SYS sent with kill.
    assert_eq!(stat_field(init, 3).len(), 1, "nsinit is gone");
    kill(init, libc::SIGTERM);
}

#[test]
fn every_signal_reaches_the_child_not_pid_1() {
    if need_python() {
        every_signal_reaches_the_child(plain(Vec::<OsString>::new()), false);
    }
}

#[test]
fn every_signal_reaches_the_child_as_pid_1() {
    if need_root() && need_python() {
        every_signal_reaches_the_child(as_pid1(Vec::<OsString>::new()), true);
    }
}

#[test]
fn rewrite_and_drop() {
    if !need_python() {
        return;
    }
    let mut p = start(
        plain([
            "-r",
            "USR1:USR2",
            "--rewrite=HUP:0",
            "-r",
            "15:2",
            "--",
            PY,
            "-c",
            RECORDER,
        ]),
        &[],
    );
    assert_eq!(p.read_line(), "ready");
    kill(p.pid(), libc::SIGUSR1);
    assert_eq!(p.read_line(), format!("got {}", libc::SIGUSR2));
    kill(p.pid(), libc::SIGHUP);
    assert_eq!(
        p.line_within(Duration::from_millis(300)),
        None,
        "HUP was not dropped"
    );
    kill(p.pid(), libc::SIGTERM);
    assert_eq!(p.read_line(), format!("got {}", libc::SIGINT));
}

#[test]
fn process_group_reaches_a_grandchild() {
    if !need_python() {
        return;
    }
    // sh ignores USR1 and is not the recorder: only a signal to the group reaches it.
    let sh = format!(
        "trap '' USR1; {PY} -c '{}'; :",
        RECORDER.replace('\'', "\"")
    );
    for (flag, reaches) in [("-g", true), ("--setsid", true), ("-c", false)] {
        let mut p = start(plain([flag, "--grace=60s", "--", "sh", "-c", &sh]), &[]);
        assert_eq!(p.read_line(), "ready");
        kill(p.pid(), libc::SIGUSR1);
        let got = p.line_within(Duration::from_millis(if reaches { 10_000 } else { 300 }));
        if reaches {
            assert_eq!(got.as_deref(), Some("got 10"), "{flag}");
        } else {
            assert_eq!(got, None, "{flag}");
        }
    }
}

#[test]
fn setsid_makes_a_session_leader() {
    let mut p = start(
        plain(["--setsid", "--", "sh", "-c", "echo $$; exec sleep 30"]),
        &[],
    );
    let pid: i32 = p.read_line().parse().expect("pid");
    assert_eq!(stat_field(pid, 6), pid.to_string(), "session");
    assert_eq!(stat_field(pid, 5), pid.to_string(), "process group");
    let mut env = start(
        plain(["--", "sh", "-c", "echo $$; exec sleep 30"]),
        &[("DUMB_INIT_SETSID", "1")],
    );
    let pid: i32 = env.read_line().parse().expect("pid");
    assert_eq!(stat_field(pid, 6), pid.to_string(), "DUMB_INIT_SETSID=1");
    // Default: own process group, nsinit's session.
    let mut d = start(plain(["--", "sh", "-c", "echo $$; exec sleep 30"]), &[]);
    let pid: i32 = d.read_line().parse().expect("pid");
    assert_eq!(stat_field(pid, 5), pid.to_string());
    assert_eq!(stat_field(pid, 6), stat_field(d.pid(), 6));
}

#[test]
fn setsid_mode_stops_the_group_and_itself_on_tstp() {
    // dumb-init's setsid mode: TSTP sent to nsinit stops the command's group and nsinit;
    // CONT resumes both.
    let mut p = start(
        plain(["--setsid", "--", "sh", "-c", "echo $$; exec sleep 30"]),
        &[],
    );
    let child: i32 = p.read_line().parse().expect("pid");
    kill(p.pid(), libc::SIGTSTP);
    wait_state(child, "T");
    wait_state(p.pid(), "T");
    kill(p.pid(), libc::SIGCONT);
    wait_state(p.pid(), "S");
    wait_state(child, "S");
}

#[test]
fn death_by_signal_is_128_plus_n() {
    for sig in [libc::SIGTERM, libc::SIGKILL, libc::SIGSEGV, libc::SIGUSR1] {
        Cmd::tool("nsinit")
            .args(["--", "sh", "-c", &format!("kill -{sig} $$")])
            .run()
            .code_is(128 + sig);
    }
    if need_root() {
        Cmd::new(harness::bin("nsrun"))
            .args(["--pid", "--mount-proc"])
            .arg(nsinit())
            .args(["--", "sh", "-c", "kill -ABRT $$"])
            .run()
            .code_is(128 + libc::SIGABRT);
    }
}

#[test]
fn exit_codes_pass_through_and_remap() {
    // One nsinit per code, 32 at a time.
    let codes: Vec<i32> = (0..=255).collect();
    for chunk in codes.chunks(32) {
        let procs: Vec<(i32, Bg)> = chunk
            .iter()
            .map(|&c| {
                (
                    c,
                    start(plain(["--", "sh", "-c", &format!("exit {c}")]), &[]),
                )
            })
            .collect();
        for (c, p) in procs {
            let out = p.wait(Duration::from_secs(30));
            out.code_is(c);
        }
    }
    Cmd::tool("nsinit")
        .args(["-e", "3", "--", "sh", "-c", "exit 3"])
        .run()
        .code_is(0);
    Cmd::tool("nsinit")
        .args(["-e", "3", "--", "sh", "-c", "exit 4"])
        .run()
        .code_is(4);
    Cmd::tool("nsinit")
        .args(["-e", "143", "-e", "1", "--", "sh", "-c", "kill $$"])
        .run()
        .code_is(0);
    Cmd::tool("nsinit")
        .env("NSINIT_REMAP_EXIT", "7")
        .args(["--", "sh", "-c", "exit 7"])
        .run()
        .code_is(0);
}

// ---------------------------------------------------------------------------------------
// Shutdown

#[test]
fn grace_then_sigkill_of_a_child_that_ignores_sigterm() {
    // SIGTERM sent to nsinit: forwarded, ignored, SIGKILL after the grace period.
    let mut p = start(
        plain([
            "--grace=300ms",
            "--",
            "sh",
            "-c",
            "trap '' TERM; echo ready; while :; do sleep 0.05; done",
        ]),
        &[],
    );
    assert_eq!(p.read_line(), "ready");
    let t0 = Instant::now();
    kill(p.pid(), libc::SIGTERM);
    let out = p.wait(Duration::from_secs(20));
    out.code_is(128 + libc::SIGKILL);
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );

    // The main command exits on its own; a leftover that ignores SIGTERM is SIGKILLed after
    // --exit-grace (--grace is for being told to stop) and nsinit still returns the main
    // command's status.
    let (elapsed, left) = leftover_run(&["--grace=60s", "--exit-grace=300ms"], &[], false);
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert!(!pid_exists(left), "leftover {left} survived");
}

fn pid_exists(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// `nsinit FLAGS -- sh -c SCRIPT` where the script starts a leftover that ignores SIGTERM
/// and exits 6 when the test says so through a fifo (with `term`: when the test sends nsinit
/// SIGTERM): the time from then to nsinit's exit, and the leftover's PID, which must be
/// gone. Another fifo tells the script when the leftover has set its trap.
fn leftover_run(flags: &[&str], env: &[(&str, &str)], term: bool) -> (Duration, i32) {
    let dir = TempDir::new("nsinit-grace");
    let fifo = dir.path().join("fifo");
    let go = dir.path().join("go");
    let end = if term {
        "trap 'exit 6' TERM; echo ready; while :; do sleep 0.05; done".to_string()
    } else {
        format!("read x < {}; exit 6", go.display())
    };
    let script = format!(
        "mkfifo {f} {g}; sh -c \"trap '' TERM; echo \\$\\$ > {f}; exec sleep 60\" >/dev/null & \
         read p < {f}; echo $p; {end}",
        f = fifo.display(),
        g = go.display()
    );
    let mut argv = plain(flags.iter().copied());
    argv.extend(["--", "sh", "-c", &script].map(OsString::from));
    let mut p = start(argv, env);
    let left: i32 = p.read_line().parse().expect("pid");
    if term {
        assert_eq!(p.read_line(), "ready");
    }
    let t0 = Instant::now();
    if term {
        kill(p.pid(), libc::SIGTERM);
    } else {
        std::fs::write(&go, "\n").expect("write the fifo");
    }
    let out = p.wait(Duration::from_secs(60));
    let elapsed = t0.elapsed();
    out.code_is(6);
    assert!(!pid_exists(left), "leftover {left} survived");
    (elapsed, left)
}

/// The grace periods: leftovers of commands that ended on their own get the short
/// --exit-grace (100 ms by default: tini, dumb-init and catatonit exit at once); when nsinit
/// was told to stop, the whole shutdown gets --grace.
#[test]
fn exit_grace_for_leftovers_and_grace_when_told_to_stop() {
    let (elapsed, _) = leftover_run(&[], &[], false);
    assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(3),
        "default exit grace: {elapsed:?}"
    );
    let (elapsed, _) = leftover_run(&["--exit-grace=0"], &[], false);
    assert!(
        elapsed < Duration::from_secs(3),
        "--exit-grace=0: {elapsed:?}"
    );
    let (elapsed, _) = leftover_run(&[], &[], true);
    assert!(
        elapsed >= Duration::from_secs(5),
        "told to stop, the default --grace (5 s): {elapsed:?}"
    );
    let (elapsed, _) = leftover_run(&["--grace=700ms"], &[], true);
    assert!(elapsed >= Duration::from_millis(700), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // The environment twin.
    let (elapsed, _) = leftover_run(&[], &[("NSINIT_EXIT_GRACE", "800ms")], false);
    assert!(elapsed >= Duration::from_millis(800), "{elapsed:?}");
}

#[test]
fn wait_all_waits_for_a_background_process() {
    let dir = TempDir::new("nsinit-wait");
    let f = dir.path().join("done");
    let script = format!("(sleep 0.3; echo x > {}) & exit 0", f.display());
    Cmd::tool("nsinit")
        .args(["--wait=all", "--", "sh", "-c", &script])
        .run()
        .ok();
    assert!(
        f.exists(),
        "--wait=all returned before the background process"
    );
    let _ = std::fs::remove_file(&f);
    // The default shuts it down instead (SIGTERM), well before it writes.
    Cmd::tool("nsinit")
        .args(["--", "sh", "-c", &script])
        .run()
        .ok();
    std::thread::sleep(Duration::from_millis(500));
    assert!(!f.exists(), "the background process outlived nsinit");
    // Same from the environment.
    Cmd::tool("nsinit")
        .env("NSINIT_WAIT", "all")
        .args(["--", "sh", "-c", &script])
        .run()
        .ok();
    assert!(f.exists(), "NSINIT_WAIT=all");
    // SIGTERM to nsinit while it waits: the descendants are shut down after all.
    let mut p = start(
        plain([
            "--wait=all",
            "--",
            "sh",
            "-c",
            "sleep 60 >/dev/null & echo $!; exit 0",
        ]),
        &[],
    );
    let bg: i32 = p.read_line().parse().expect("pid");
    // The main command has exited once its pid is reaped: nsinit is then only waiting.
    let start = Instant::now();
    while descendants(p.pid()).len() > 1 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(descendants(p.pid()), [bg]);
    kill(p.pid(), libc::SIGTERM);
    let out = p.wait(Duration::from_secs(20));
    out.code_is(0);
    assert!(!std::path::Path::new(&format!("/proc/{bg}")).exists());
}

/// SIGTERM while the main command still runs under `--wait=all`: the command ends on it, and
/// what it left behind is shut down too — being told to stop ends the wait, whichever of the
/// two (the command's exit, the stop) nsinit reads first.
#[test]
fn wait_all_stops_the_leftovers_when_told_to_stop_first() {
    let mut p = start(
        plain([
            "--wait=all",
            "--",
            "sh",
            "-c",
            "trap 'exit 0' TERM; sleep 60 >/dev/null 2>&1 & echo $!; sleep 30 & wait",
        ]),
        &[],
    );
    let bg: i32 = p.read_line().parse().expect("pid");
    kill(p.pid(), libc::SIGTERM);
    let t0 = Instant::now();
    let out = p.wait(Duration::from_secs(20));
    out.code_is(0);
    assert!(
        t0.elapsed() < Duration::from_secs(8),
        "held past the grace period: {:?}",
        t0.elapsed()
    );
    assert!(!std::path::Path::new(&format!("/proc/{bg}")).exists());
}

#[test]
fn several_commands_and_exit_on() {
    let dir = TempDir::new("nsinit-multi");
    let f = dir.path().join("second");
    // main (default): the main command ends the run; the other is shut down.
    let t0 = Instant::now();
    Cmd::tool("nsinit")
        .args(["--", "sh", "-c", "sleep 0.1; exit 3", ":::", "sleep", "60"])
        .run()
        .code_is(3);
    assert!(t0.elapsed() < Duration::from_secs(20));
    // first: the second command ends the run; the status is still the main one's (SIGTERM).
    Cmd::tool("nsinit")
        .args([
            "--exit-on=first",
            "--",
            "sleep",
            "60",
            ":::",
            "sh",
            "-c",
            "exit 4",
        ])
        .run()
        .code_is(128 + libc::SIGTERM);
    // all: the main exits first, the other one finishes its work.
    Cmd::tool("nsinit")
        .args([
            "--exit-on=all",
            "--",
            "sh",
            "-c",
            "exit 2",
            ":::",
            "sh",
            "-c",
            &format!("sleep 0.3; echo x > {}", f.display()),
        ])
        .run()
        .code_is(2);
    assert!(
        f.exists(),
        "--exit-on=all did not wait for the second command"
    );
    // A failing second command does not change the main status.
    Cmd::tool("nsinit")
        .args(["--", "sh", "-c", "sleep 0.2", ":::", "/nonexistent/x"])
        .run()
        .code_is(0)
        .stderr_has("failed to execute /nonexistent/x");
}

#[test]
fn several_commands_share_the_namespace_as_pid_1() {
    if !need_root() {
        return;
    }
    // "server + test client": both are children of PID 1 in one namespace.
    let out = Cmd::tool("nsrun")
        .args(["--pid", "--mount-proc"])
        .arg(nsinit())
        .args([
            "--exit-on=first",
            "--",
            "sleep",
            "60",
            ":::",
            "sh",
            "-c",
            // PID 2 is forked before PID 3 but may not have exec'd `sleep` yet when this
            // shell looks: wait (bounded) for the exec rather than race it.
            "grep PPid /proc/$$/status; for i in $(seq 200); do \
             c=$(ps -o comm= -p 2); [ \"$c\" = sleep ] && break; sleep 0.05; done; echo \"$c\"",
        ])
        .run();
    out.code_is(128 + libc::SIGTERM);
    assert!(out.stdout.contains("PPid:\t1"), "{out:?}");
    out.stdout_has("sleep");
}

#[test]
fn pause_mode_reaps_and_exits_0_on_int_and_term() {
    if !need_root() {
        return;
    }
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let p = start(as_pid1(["-P"]), &[]);
        let init = child_of(p.pid());
        // Inject an orphan into its namespace: util-linux nsenter (by path) runs a shell
        // there whose background child is re-parented to nsinit when the shell exits.
        let st = Command::new("/usr/bin/nsenter")
            .args(["-t", &init.to_string(), "-p", "--"])
            .args(["sh", "-c", "sleep 0.1 & exit 0"])
            .status()
            .expect("nsenter");
        assert!(st.success());
        // Other signals do not end it.
        kill(init, libc::SIGUSR1);
        std::thread::sleep(Duration::from_millis(400));
        let zombies: Vec<i32> = descendants(init)
            .into_iter()
            .filter(|&d| stat_field(d, 3) == "Z")
            .collect();
        assert!(zombies.is_empty(), "zombies {zombies:?}");
        assert_eq!(stat_field(init, 3).len(), 1, "pause mode ended on USR1");
        kill(init, sig);
        let out = p.wait(Duration::from_secs(20));
        out.code_is(0);
    }
    Cmd::tool("nsinit")
        .args(["-P", "true"])
        .run()
        .code_is(125)
        .stderr_has("--pause takes no command");
}

// ---------------------------------------------------------------------------------------
// What the child inherits, what nsinit keeps

#[test]
fn inherited_mask_and_ignores_are_preserved() {
    if !need_python() {
        return;
    }
    // A parent that blocks USR1 and RTMIN+2 and ignores HUP, QUIT and PIPE, then execs ARGV.
    let wrapper = r#"
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGRTMIN + 2})
for s in (signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])
"#;
    let probe = ["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"];
    let grep = "/usr/bin/grep";
    let direct = Cmd::new(PY)
        .args(["-c", wrapper, grep])
        .args(&probe[1..])
        .run();
    direct.ok();
    let via = Cmd::new(PY)
        .args(["-c", wrapper])
        .arg(nsinit())
        .args(["--", grep])
        .args(&probe[1..])
        .run();
    via.ok();
    assert_eq!(via.stdout, direct.stdout, "{via:?}");
    let bit = |out: &harness::Output, field: &str, sig: i32| -> bool {
        let hex = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .map(str::trim)
            .unwrap_or_default();
        let mask = u64::from_str_radix(hex, 16).expect("hex mask");
        mask & (1u64 << (sig - 1)) != 0
    };
    for sig in [libc::SIGHUP, libc::SIGQUIT, libc::SIGPIPE] {
        assert!(bit(&via, "SigIgn:", sig), "{sig} not ignored:{via:?}");
    }
    for sig in [libc::SIGUSR1, libc::SIGRTMIN() + 2] {
        assert!(bit(&via, "SigBlk:", sig), "{sig} not blocked:{via:?}");
    }
    // SIGPIPE not ignored stays not ignored, although Rust ignores it inside nsinit.
    let out = Cmd::tool("nsinit").args(["--"]).args(probe).run();
    assert!(!bit(&out, "SigIgn:", libc::SIGPIPE), "{out:?}");
    assert_eq!(out.stdout, Cmd::new(grep).args(&probe[1..]).run().stdout);
    // nohup keeps working.
    let out = Cmd::new("nohup")
        .arg(nsinit())
        .args(["--"])
        .args(probe)
        .run();
    assert!(bit(&out, "SigIgn:", libc::SIGHUP), "{out:?}");
}

#[test]
fn moves_to_root_keeps_no_inherited_fd_and_passes_them_on() {
    // fd 7 is inherited by nsinit: the child keeps it, nsinit closes it after the spawn.
    let script = format!(
        "exec 7</dev/null; exec {} -- sh -c 'sleep 0.3; ls /proc/self/fd | tr \"\\n\" \" \"; echo; \
         readlink /proc/$PPID/cwd; for f in /proc/$PPID/fd/*; do readlink $f; done'",
        nsinit().display()
    );
    let dir = TempDir::new("nsinit-cwd");
    let out = Cmd::new("sh")
        .args(["-c", &format!("cd {} && {script}", dir.path().display())])
        .run();
    out.ok();
    let mut lines = out.stdout.lines();
    let child_fds = lines.next().unwrap_or_default();
    assert!(child_fds.split_whitespace().any(|f| f == "7"), "{out:?}");
    assert_eq!(lines.next(), Some("/"), "nsinit's cwd:{out:?}");
    let nsinit_fds: Vec<&str> = lines.collect();
    // 0, 1, 2 and its own signalfd; nothing inherited.
    assert_eq!(nsinit_fds.len(), 4, "{out:?}");
    assert!(nsinit_fds[3].contains("signalfd"), "{out:?}");
}

#[test]
fn listen_pid_is_rewritten_for_the_child() {
    let script = format!(
        "LISTEN_PID=$$ LISTEN_FDS=1 exec {} -- sh -c 'echo $LISTEN_PID $$'",
        nsinit().display()
    );
    let out = Cmd::new("sh").args(["-c", &script]).run();
    out.ok();
    let v: Vec<&str> = out.out().split_whitespace().collect();
    assert!(v.len() == 2 && v[0] == v[1], "{out:?}");
    // A LISTEN_PID naming someone else is left alone.
    let out = Cmd::tool("nsinit")
        .env("LISTEN_PID", "999999")
        .args(["--", "sh", "-c", "echo $LISTEN_PID"])
        .run();
    assert_eq!(out.out(), "999999");
}

#[test]
fn pid_file_holds_the_main_pid_and_is_removed() {
    let dir = TempDir::new("nsinit-pidfile");
    let f = dir.path().join("main.pid");
    let out = Cmd::tool("nsinit")
        .arg(format!("--pid-file={}", f.display()))
        .args(["--", "sh", "-c", &format!("cat {}; echo $$", f.display())])
        .run();
    out.ok();
    let v: Vec<&str> = out.out().lines().collect();
    assert!(v.len() == 2 && v[0] == v[1], "{out:?}");
    assert!(!f.exists(), "pid file left behind");
    // An unwritable pid file: nothing starts.
    let marker = dir.path().join("started");
    Cmd::tool("nsinit")
        .args(["--pid-file=/nonexistent/dir/x.pid", "--", "touch"])
        .arg(&marker)
        .run()
        .code_is(125)
        .stderr_has("cannot create /nonexistent/dir/x.pid");
    assert!(!marker.exists());
    // A failure after the pid file was created removes it again (here: a real-time
    // parent-death signal, which the shared helper refuses).
    Cmd::tool("nsinit")
        .arg(format!("--pid-file={}", f.display()))
        .args(["-p", "RTMIN", "--", "touch"])
        .arg(&marker)
        .run()
        .code_is(125)
        .stderr_has("parent-death signal");
    assert!(!marker.exists() && !f.exists());
}

#[test]
fn parent_death_signal_is_forwarded() {
    let dir = TempDir::new("nsinit-pdeath");
    let f = dir.path().join("got");
    // The subshell that starts nsinit exits at once: nsinit gets SIGUSR1 and forwards it.
    let script = format!(
        "( {} -p USR1 -- sh -c 'trap \"echo usr1 > {}; exit 0\" USR1; while :; do sleep 0.05; done' & sleep 0.3 )",
        nsinit().display(),
        f.display()
    );
    Cmd::new("sh").args(["-c", &script]).run().ok();
    let start = Instant::now();
    while !f.exists() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        f.exists(),
        "the parent-death signal did not reach the child"
    );
}

// ---------------------------------------------------------------------------------------
// Idle

#[test]
fn no_wake_ups_while_idle() {
    let mut procs = vec![(start(plain(["--", "sleep", "60"]), &[]), false)];
    if harness::is_root() {
        procs.push((start(as_pid1(["--", "sleep", "60"]), &[]), true));
    }
    let pids: Vec<i32> = procs
        .iter()
        .map(|(p, pid1)| if *pid1 { child_of(p.pid()) } else { p.pid() })
        .collect();
    // Let it settle (spawn, exec of sleep) before counting.
    std::thread::sleep(Duration::from_millis(500));
    let count = |pid: i32| {
        (
            status_field(pid, "voluntary_ctxt_switches"),
            status_field(pid, "nonvoluntary_ctxt_switches"),
        )
    };
    let before: Vec<_> = pids.iter().map(|&p| count(p)).collect();
    std::thread::sleep(Duration::from_secs(3));
    let after: Vec<_> = pids.iter().map(|&p| count(p)).collect();
    assert!(!before[0].0.is_empty());
    assert_eq!(before, after, "nsinit woke up while idle");
}

// ---------------------------------------------------------------------------------------
// Bad input and exec failures

#[test]
fn exec_failures_are_127_and_126() {
    Cmd::tool("nsinit")
        .args(["--", "/nonexistent/x"])
        .run()
        .code_is(127)
        .stderr_has("nsinit: failed to execute /nonexistent/x: No such file or directory");
    let dir = TempDir::new("nsinit-noexec");
    let f = dir.path().join("script");
    std::fs::write(&f, "#!/bin/sh\n").expect("write");
    Cmd::tool("nsinit")
        .arg("--")
        .arg(&f)
        .run()
        .code_is(126)
        .stderr_has("Permission denied");
}

#[test]
fn bad_input_is_one_line_125_and_starts_nothing() {
    let dir = TempDir::new("nsinit-bad");
    let marker = dir.path().join("started");
    let m = marker.to_string_lossy().into_owned();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--bogus", "touch", &m],
            vec![],
            "unexpected argument '--bogus'",
        ),
        (
            vec!["-p", "SIGNOPE", "touch", &m],
            vec![],
            "invalid signal 'SIGNOPE'",
        ),
        (vec!["-p", "99", "touch", &m], vec![], "invalid signal '99'"),
        (vec!["-r", "TERM", "touch", &m], vec![], "expected S:R"),
        (
            vec!["-r", "TERM:FOO", "touch", &m],
            vec![],
            "invalid signal 'FOO'",
        ),
        (
            vec!["--grace=soon", "touch", &m],
            vec![],
            "invalid duration 'soon'",
        ),
        (vec!["-e", "300", "touch", &m], vec![], "300"),
        (vec!["--wait=never", "touch", &m], vec![], "never"),
        // Invalid values list the valid ones; misspellings get "did you mean".
        (
            vec!["--exit-on", "foo", "touch", &m],
            vec![],
            "possible values: main, first, all",
        ),
        (
            vec!["--exit-on=firs", "touch", &m],
            vec![],
            "nsinit: hint: did you mean 'first'?",
        ),
        (
            vec!["--gracee=1s", "touch", &m],
            vec![],
            "nsinit: hint: did you mean '--grace'?",
        ),
        // An ambiguous abbreviation names its candidates.
        (
            vec!["--p", "touch", &m],
            vec![],
            "option '--p' is ambiguous; possibilities: '--pdeathsig' '--process-group' \
             '--pause' '--pid-file'",
        ),
        (vec!["touch", &m, ":::"], vec![], "is empty"),
        (vec![":::", "touch", &m], vec![], "is empty"),
        (vec!["-P", "touch", &m], vec![], "--pause takes no command"),
        (vec![], vec![], "no command given"),
        (
            vec!["touch", &m],
            vec![("NSINIT_GRACE", "x")],
            "NSINIT_GRACE",
        ),
        (
            vec!["touch", &m],
            vec![("NSINIT_PAUSE", "1")],
            "--pause takes no command",
        ),
        (
            vec!["touch", &m],
            vec![("NSINIT_REWRITE", "HUP")],
            "NSINIT_REWRITE",
        ),
    ];
    for (args, env, msg) in cases {
        let mut c = Cmd::tool("nsinit").args(&args);
        for (k, v) in env {
            c = c.env(k, v);
        }
        let out = c.run();
        out.code_is(125).stderr_has(msg);
        assert!(
            out.stderr
                .lines()
                .next()
                .is_some_and(|l| l.starts_with("nsinit: ")),
            "{out:?}"
        );
        assert!(!marker.exists(), "a child was started for {args:?}");
    }
}

#[test]
fn verbose_logs_spawn_reap_and_exit() {
    let out = Cmd::tool("nsinit")
        .args([
            "-v",
            "--",
            "sh",
            "-c",
            "trap '' USR1; kill -USR1 $PPID; sleep 0.2; exit 3",
        ])
        .run();
    out.code_is(3);
    for needle in [
        "nsinit: spawned sh as pid ",
        "nsinit: forwarded SIGUSR1 to pid ",
        "exited with status 3",
        "nsinit: exiting with status 3",
    ] {
        out.stderr_has(needle);
    }
    let out = Cmd::tool("nsinit")
        .args([
            "-vv",
            "--",
            "sh",
            "-c",
            "sh -c 'sleep 0.1 & echo $!'; sleep 0.4",
        ])
        .run();
    out.ok();
    out.stderr_has(&format!("nsinit: reaped pid {}", out.out()));
    let quiet = Cmd::tool("nsinit").args(["--", "true"]).run();
    assert_eq!(quiet.stderr, "", "{quiet:?}");
    // tini's license and version flags, catatonit's -L; --help says both.
    Cmd::tool("nsinit").arg("-l").run().ok().stdout_has("MIT");
    Cmd::tool("nsinit").arg("-L").run().ok().stdout_has("MIT");
    let help = Cmd::tool("nsinit").arg("--help").run();
    let line = help.stdout.lines().skip_while(|l| !l.contains("--license"));
    assert!(
        line.take(3).any(|l| l.contains("-L")),
        "--help does not mention -L:{help:?}"
    );
    Cmd::tool("nsinit")
        .arg("--version")
        .run()
        .ok()
        .stdout_has("nsinit ");
    // Option parsing stops at the command.
    Cmd::tool("nsinit")
        .args(["echo", "-l"])
        .run()
        .ok()
        .stdout_has("-l");
}
