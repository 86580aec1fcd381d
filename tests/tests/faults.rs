//! Injected faults (issue 9): namespace limits reached, `newuidmap` missing, failing or
//! slow, `/run/netns` unwritable, a persist target on a shared mount, the command failing to
//! exec after everything was persisted, nsrun SIGKILLed mid-setup. After each: one clear
//! line, the documented exit code, and nothing of ours left — no mount (mountinfo), no
//! persisted file, no pid file, no `/run/netns` entry, no process (every process of ours
//! carries the test's unique temp path in its command line).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::{
    mounts_under, need_root_and, nobody_has_subids, processes_mentioning, skip,
    unprivileged_userns_works, Cmd, Netns, Output, TempDir,
};

fn root() -> bool {
    need_root_and(&["unshare", "mount"])
}

/// What is left of ours under `dir` (its own mount aside), in `/run/netns/<netns>`, and
/// among the processes.
fn leftovers(dir: &Path, netns: Option<&str>) -> Vec<String> {
    let mut left = Vec::new();
    let d = dir.display().to_string();
    left.extend(
        mounts_under(dir)
            .into_iter()
            .filter(|m| *m != d)
            .map(|m| format!("mount {m}")),
    );
    if let Ok(rd) = std::fs::read_dir(dir) {
        left.extend(rd.flatten().filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            // The fixtures a test put there itself.
            (!n.starts_with("fixture")).then(|| format!("file {}", e.path().display()))
        }));
    }
    if let Some(n) = netns {
        let p = Path::new("/run/netns").join(n);
        if p.symlink_metadata().is_ok() {
            left.push(format!("netns {}", p.display()));
        }
        let info = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        if info.lines().any(|l| l.contains(&p.display().to_string())) {
            left.push(format!("netns mount {}", p.display()));
        }
    }
    left.extend(
        processes_mentioning(&d)
            .into_iter()
            .map(|p| format!("process {p}")),
    );
    left
}

/// Poll until nothing of ours is left (a helper may still be finishing its undo).
#[track_caller]
fn assert_nothing_left(dir: &Path, netns: Option<&str>) {
    let start = Instant::now();
    loop {
        let left = leftovers(dir, netns);
        if left.is_empty() {
            return;
        }
        if start.elapsed() > Duration::from_secs(20) {
            panic!("left behind: {left:#?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One `nsrun:` line (plus at most a hint line) containing `needle`, and exit `code`.
#[track_caller]
fn one_clear_line(out: &Output, tool: &str, code: i32, needle: &str) {
    out.code_is(code).stderr_has(needle);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        !lines.is_empty()
            && lines[0].starts_with(&format!("{tool}: "))
            && !lines[0].contains(&format!("{tool}: hint:"))
            && lines.len() <= 2
            && lines
                .get(1)
                .map_or(true, |l| l.starts_with(&format!("{tool}: hint: "))),
        "one clear line (+ hint):{out:?}"
    );
}

fn nsrun() -> String {
    harness::bin("nsrun").display().to_string()
}

// ---------------------------------------------------------------- namespace limits

/// For each kind: inside a user (and mount) namespace of the test, `user.max_<kind>_namespaces`
/// set to 0, then nsrun asked to create and persist that kind (and a pid file): ENOSPC, with
/// a hint naming the sysctl, and nothing created.
#[test]
fn namespace_limit_reached_names_the_sysctl() {
    if !root() {
        return;
    }
    let dir = TempDir::private_mount("flt-limit", 0o1777);
    let d = dir.path().display();
    let n = nsrun();
    for (flag, kind) in [
        ("net", "net"),
        ("ipc", "ipc"),
        ("uts", "uts"),
        ("mount", "mnt"),
        ("pid", "pid"),
        ("cgroup", "cgroup"),
        ("time", "time"),
        ("user", "user"),
    ] {
        let script = format!(
            "echo 0 > /proc/sys/user/max_{kind}_namespaces || exit 99; \
             exec {n} --{flag} --persist={d}/p-{kind} --pid-file={d}/pf-{kind} true"
        );
        let out = Cmd::tool("nsrun")
            .args(["-r", "--", "sh", "-c", &script])
            .run();
        one_clear_line(
            &out,
            "nsrun",
            125,
            &format!("cannot create namespaces ({kind}): No space left on device"),
        );
        out.stderr_has(&format!(
            "nsrun: hint: the limit user.max_{kind}_namespaces is 0"
        ));
    }
    // A limit that is not 0 but reached (one net namespace allowed, and it exists).
    let script = format!(
        "echo 1 > /proc/sys/user/max_net_namespaces || exit 99; \
         exec {n} -n {n} -n --pid-file={d}/pf-nested true"
    );
    let out = Cmd::tool("nsrun")
        .args(["-r", "--", "sh", "-c", &script])
        .run();
    one_clear_line(&out, "nsrun", 125, "No space left on device");
    out.stderr_has("a namespace limit was reached: check sysctl user.max_net_namespaces");
    assert_nothing_left(dir.path(), None);

    // The same, rootless.
    if !harness::need_rootless() {
        return;
    }
    let n = harness::bin_for_nobody("nsrun").display().to_string();
    let script = format!(
        "echo 0 > /proc/sys/user/max_uts_namespaces || exit 99; \
         exec {n} -u --pid-file={d}/pf-nobody true"
    );
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "--", "sh", "-c", &script])
        .run();
    one_clear_line(&out, "nsrun", 125, "No space left on device");
    out.stderr_has("user.max_uts_namespaces is 0");
    assert_nothing_left(dir.path(), None);
}

// ---------------------------------------------------------------- newuidmap

/// A directory with fake `newuidmap`/`newgidmap` scripts running `body`, and real ones for
/// the kinds not faked.
fn fake_helpers(dir: &Path, fake: &[&str], body: &str) -> PathBuf {
    let bin = dir.join("fixture-bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for h in ["newuidmap", "newgidmap"] {
        let p = bin.join(h);
        if fake.contains(&h) {
            std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        } else {
            std::os::unix::fs::symlink(format!("/usr/bin/{h}"), &p).expect("symlink");
        }
    }
    bin
}

fn setpriv_path() -> PathBuf {
    ["/usr/bin/setpriv", "/bin/setpriv"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("setpriv")
}

fn rootless_ranges() -> bool {
    if !harness::have("newuidmap") || !nobody_has_subids() || !unprivileged_userns_works() {
        skip("needs newuidmap, subordinate ids for nobody and unprivileged user namespaces");
        return false;
    }
    true
}

/// nsrun looks `newuidmap`/`newgidmap` up in PATH: without them, or when they fail, ranges
/// cannot be mapped — nsrun's own failure (125), naming the helper, never 127.
#[test]
fn newuidmap_missing_or_failing_is_125_naming_the_helper() {
    if !root() || !rootless_ranges() {
        return;
    }
    let dir = TempDir::private_mount("flt-newuidmap", 0o1777);
    let d = dir.path();
    let maps = ["--map-users=0:100000:10", "--map-groups=0:100000:10"];
    let run = |path: &str| {
        Cmd::tool("nsrun")
            .as_nobody()
            .env("PATH", path)
            .arg(format!("--pid-file={}/pf", d.display()))
            .args(maps)
            .args(["-u", "--", "/bin/true"])
            .run()
    };
    // Missing: a PATH without them (only setpriv, which runs nsrun as nobody).
    let nomap = d.join("fixture-nomap");
    std::fs::create_dir(&nomap).expect("mkdir");
    std::os::unix::fs::symlink(setpriv_path(), nomap.join("setpriv")).expect("symlink");
    let out = run(&nomap.display().to_string());
    one_clear_line(
        &out,
        "nsrun",
        125,
        "needs newuidmap, which is not installed",
    );
    assert_nothing_left(d, None);
    // Failing: newuidmap, then newgidmap alone.
    for which in ["newuidmap", "newgidmap"] {
        let bin = fake_helpers(d, &[which], "echo \"fake: refused $*\" >&2; exit 1");
        let out = run(&format!("{}:/usr/bin:/bin", bin.display()));
        one_clear_line(&out, "nsrun", 125, which);
        out.stderr_has("failed (exit status 1)");
        assert_nothing_left(d, None);
        std::fs::remove_dir_all(&bin).expect("rm fixture");
    }
    // Killed by a signal.
    let bin = fake_helpers(d, &["newuidmap"], "kill -SEGV $$");
    let out = run(&format!("{}:/usr/bin:/bin", bin.display()));
    one_clear_line(&out, "nsrun", 125, "newuidmap");
    assert_ne!(out.code(), 127);
    std::fs::remove_dir_all(&bin).expect("rm fixture");
    assert_nothing_left(d, None);
}

// ---------------------------------------------------------------- /run/netns

/// `/run/netns` read-only (a read-only tmpfs over it, in a mount namespace of the test):
/// `--netns=NAME` fails with one line naming the path, exit 125, and what was already made
/// (the `--persist` directory, the pid file) is removed.
#[test]
fn run_netns_unwritable_fails_cleanly() {
    if !root() {
        return;
    }
    let dir = TempDir::private_mount("flt-netns-ro", 0o1777);
    let d = dir.path().display();
    let name = Netns::new("flt-ro");
    let script = format!(
        "mkdir -p /run/netns && mount -t tmpfs -o ro,mode=755 fltro /run/netns || exit 99; \
         {n} --netns={name} --uts={d}/uts --persist={d}/p --pid-file={d}/pf true; rc=$?; \
         ls -A /run/netns; grep -c ' /run/netns/{name} ' /proc/self/mountinfo; exit $rc",
        n = nsrun(),
        name = name.name()
    );
    let out = Cmd::new("unshare")
        .args(["-m", "--propagation=private", "sh", "-c", &script])
        .run();
    one_clear_line(
        &out,
        "nsrun",
        125,
        &format!(
            "cannot create /run/netns/{}: Read-only file system",
            name.name()
        ),
    );
    assert_eq!(out.out(), "0", "nothing in /run/netns, no mount:{out:?}");
    assert_nothing_left(dir.path(), Some(name.name()));
}

/// Rootless, `/run/netns` cannot be set up at all (the caller's mount namespace is the
/// host's): one line with a hint saying what it takes, 125, nothing created.
#[test]
fn run_netns_refused_to_an_unprivileged_user_is_explained() {
    if !root() {
        return;
    }
    if !harness::need_rootless() {
        return;
    }
    let dir = TempDir::private_mount("flt-netns-nobody", 0o1777);
    let name = Netns::new("flt-nobody");
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .arg(format!("--pid-file={}/pf", dir.path().display()))
        .args(["-r", &format!("--netns={}", name.name()), "true"])
        .run();
    one_clear_line(&out, "nsrun", 125, "/run/netns");
    out.stderr_has("nsrun: hint: naming a network namespace in /run/netns needs CAP_SYS_ADMIN");
    assert_nothing_left(dir.path(), Some(name.name()));
}

// ---------------------------------------------------------------- shared mount

/// A persist target on a shared mount with a peer: the kernel's EINVAL is explained, and the
/// files created for persisting are removed.
#[test]
fn persist_target_on_a_shared_mount_is_explained() {
    if !root() {
        return;
    }
    let dir = TempDir::private_mount("flt-shared", 0o1777);
    let d = dir.path();
    let shared = d.join("fixture-shared");
    let peer = d.join("fixture-peer");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::create_dir(&peer).expect("mkdir");
    let (s, p) = (shared.display(), peer.display());
    Cmd::new("sh")
        .args([
            "-c",
            &format!("mount --bind {s} {s} && mount --make-shared {s} && mount --bind {s} {p}"),
        ])
        .run()
        .ok();
    for args in [
        vec![format!("--mount={s}/mnt")],
        vec![format!("--persist={s}/set"), "-m".into(), "-u".into()],
        vec![
            format!("--persist={s}/set"),
            format!("--pid-file={}/pf", d.display()),
            "-fpm".into(),
        ],
    ] {
        let out = Cmd::tool("nsrun").args(&args).arg("true").run();
        one_clear_line(&out, "nsrun", 125, "Invalid argument");
        out.stderr_has("is on a shared mount");
        assert!(
            std::fs::read_dir(&shared).expect("ls").next().is_none(),
            "persist targets removed ({args:?})"
        );
        assert!(!d.join("pf").exists(), "pid file removed ({args:?})");
    }
    for m in [&peer, &shared] {
        Cmd::new("umount").arg(m).run().ok();
    }
    assert_nothing_left(d, None);
}

// ---------------------------------------------------------------- exec failure

/// The command cannot be executed after the namespaces exist and were persisted
/// (`/run/netns/NAME`, `--persist=DIR`, `--uts=FILE`, a pid file): 127 (not found) or 126
/// (not executable), one line, and everything persisted is removed again — with and
/// without a fork, and under `--init`.
#[test]
fn exec_failure_after_persisting_is_127_and_undone() {
    if !root() {
        return;
    }
    let dir = TempDir::private_mount("flt-exec", 0o1777);
    let d = dir.path();
    let noexec = d.join("fixture-noexec");
    std::fs::write(&noexec, "#!/bin/sh\n").expect("write");
    let name = Netns::new("flt-exec");
    for mode in [&[][..], &["-f"][..], &["-fp"][..], &["-fp", "--init"][..]] {
        for (cmd, code) in [("/nonexistent/cmd", 127), (&*noexec.to_string_lossy(), 126)] {
            let out = Cmd::tool("nsrun")
                .args(mode)
                .arg(format!("--netns={}", name.name()))
                .arg(format!("--uts={}/uts", d.display()))
                .arg(format!("--persist={}/p", d.display()))
                .arg(format!("--pid-file={}/pf", d.display()))
                .arg(cmd)
                .run();
            let what = if code == 127 {
                "No such file or directory"
            } else {
                "Permission denied"
            };
            one_clear_line(
                &out,
                "nsrun",
                code,
                &format!("failed to execute {cmd}: {what}"),
            );
            assert_nothing_left(d, Some(name.name()));
        }
    }
}

// ---------------------------------------------------------------- SIGKILL mid-setup

/// Start nsrun held at `--block-fd` (a FIFO the test keeps open, so no EOF) after all its
/// setup — namespaces persisted, pid file written — SIGKILL it, and check that nothing is
/// left: the helper undoes the persisting and removes the pid file; the forked child waiting
/// to run the command dies with nsrun.
#[test]
fn sigkill_mid_setup_leaves_nothing() {
    if !root() {
        return;
    }
    let dir = TempDir::private_mount("flt-kill", 0o1777);
    let d = dir.path();
    let fifo = d.join("fixture-fifo");
    Cmd::new("mkfifo").arg(&fifo).run().ok();
    let name = Netns::new("flt-kill");
    for mode in [&[][..], &["-f"][..], &["-fp"][..], &["-fp", "--init"][..]] {
        let pf = d.join("pf");
        let script = format!(
            "exec 7<>{fifo}; exec {n} {mode} --netns={name} --persist={d}/p --uts={d}/uts \
             --pid-file={pf} --block-fd=7 -- sh -c 'echo ran > {d}/ran'",
            fifo = fifo.display(),
            n = nsrun(),
            mode = mode.join(" "),
            name = name.name(),
            d = d.display(),
            pf = pf.display()
        );
        let bg = Cmd::new("sh").args(["-c", &script]).spawn();
        // Set up: the pid file is written right before the wait on --block-fd.
        let start = Instant::now();
        while std::fs::read_to_string(&pf).unwrap_or_default().is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "nsrun {mode:?} never got set up"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            Path::new("/run/netns").join(name.name()).exists() && d.join("p/net").exists(),
            "persisted before the kill"
        );
        bg.signal(libc::SIGKILL);
        let out = bg.wait(Duration::from_secs(20));
        assert_eq!(out.signal(), Some(libc::SIGKILL), "{out:?}");
        assert_nothing_left(d, Some(name.name()));
        assert!(!d.join("ran").exists(), "the command never runs");
    }
}

/// nsrun SIGKILLed while its helper waits for a slow `newuidmap` (rootless ranges): once
/// the helper has finished that step it sees nsrun gone and removes the pid file; nothing
/// else is left.
#[test]
fn sigkill_while_newuidmap_runs_leaves_nothing() {
    if !root() || !rootless_ranges() {
        return;
    }
    let dir = TempDir::private_mount("flt-kill-map", 0o1777);
    let d = dir.path();
    let started = d.join("fixture-started");
    let bin = fake_helpers(
        d,
        &["newuidmap"],
        &format!(
            "echo x > {}; sleep 2; exec /usr/bin/newuidmap \"$@\"",
            started.display()
        ),
    );
    let pf = d.join("pf");
    let bg = Cmd::tool("nsrun")
        .as_nobody()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .arg(format!("--pid-file={}", pf.display()))
        .args(["--map-users=0:100000:10", "-u", "--", "/bin/true"])
        .spawn();
    let start = Instant::now();
    while !started.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "newuidmap never ran"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The pid file is written whole once the command's process exists; during setup there
    // is its temporary file (`.pf.*.tmp`), which the helper must take away too.
    let tmp_exists = std::fs::read_dir(d)
        .expect("read dir")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with(".pf."));
    assert!(
        tmp_exists && !pf.exists(),
        "the pid file's temporary file exists during setup"
    );
    // Through setpriv, the Bg's pid is nsrun itself (setpriv execs it).
    bg.signal(libc::SIGKILL);
    let out = bg.wait(Duration::from_secs(20));
    assert_eq!(out.signal(), Some(libc::SIGKILL), "{out:?}");
    std::fs::remove_dir_all(&bin).expect("rm fixture");
    std::fs::remove_file(&started).expect("rm fixture");
    assert_nothing_left(d, None);
}

// ---------------------------------------------------------------- fd limit

/// RLIMIT_NOFILE from 4 to 14 (`ulimit -n`): nsrun either runs the command (and keeps what
/// it persisted) or fails at the first fd it cannot get with one line, exit 125, and nothing
/// left — at every limit in between.
#[test]
fn fd_limit_reached_fails_cleanly() {
    if !root() {
        return;
    }
    let dir = TempDir::private_mount("flt-nofile", 0o1777);
    let d = dir.path();
    let name = Netns::new("flt-nofile");
    let (mut ran, mut refused) = (0, 0);
    for n in 4..=14 {
        let script = format!(
            "ulimit -n {n} && exec {nsrun} -fp --init --netns={name} --persist={d}/p \
             --pid-file={d}/pf -- true",
            nsrun = nsrun(),
            name = name.name(),
            d = d.display()
        );
        let out = Cmd::new("sh").args(["-c", &script]).run();
        if out.status.success() {
            ran += 1;
            // Ran: what it persisted stays; take it down for the next limit.
            Cmd::new("sh")
                .args([
                    "-c",
                    &format!(
                        "for m in {d}/p/*; do umount $m; done; rm -rf {d}/p {d}/pf; \
                         umount /run/netns/{name} && rm /run/netns/{name}",
                        d = d.display(),
                        name = name.name()
                    ),
                ])
                .run()
                .ok();
        } else {
            refused += 1;
            one_clear_line(&out, "nsrun", 125, "Too many open files");
        }
        assert_nothing_left(d, Some(name.name()));
    }
    assert!(ran > 0 && refused > 0, "ran {ran}, refused {refused}");
}
