//! nsinit against the real kernel: as PID 1 of a new PID namespace and as a subreaper.

use harness::{skip, Cmd};

#[test]
fn reaps_orphans_as_pid_1_and_returns_the_status() {
    if !harness::is_root() {
        return skip("needs root to create a PID namespace");
    }
    let nsinit = harness::bin("nsinit");
    // The orphan (sleep) is re-parented to nsinit; after the main command exits, no zombie
    // may be left: ps in the namespace lists only nsinit and the sleeper or nothing else.
    let out = Cmd::tool("nsrun")
        .args(["--pid", "--mount", "sh", "-c"])
        .arg(format!(
            "mount -t proc proc /proc && {} -- sh -c '(sh -c \"sleep 0.2 &\" ); sleep 0.5; ps -o pid=,stat=,comm= -e; exit 5'",
            nsinit.display()
        ))
        .run();
    out.code_is(5);
    assert!(!out.stdout.contains(" Z"), "a zombie was left:{out:?}");
    assert!(
        out.stdout
            .lines()
            .next()
            .is_some_and(|l| l.trim().starts_with("1 ")),
        "{out:?}"
    );
}

#[test]
fn forwards_sigterm_and_reports_128_plus_n() {
    let mut bg = Cmd::tool("nsinit")
        .args(["--", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    bg.signal(libc::SIGTERM);
    let out = bg.wait(std::time::Duration::from_secs(10));
    out.code_is(128 + libc::SIGTERM);
}

#[test]
fn exec_failure_is_127() {
    Cmd::tool("nsinit")
        .args(["--", "/nonexistent/x"])
        .run()
        .code_is(127)
        .stderr_has("failed to execute /nonexistent/x");
}
