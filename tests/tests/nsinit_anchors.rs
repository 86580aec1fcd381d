//! nsinit's habits side by side with the anchors' binaries in the same test (tini 0.19,
//! dumb-init 1.2.5, catatonit): the anchors' environment variables read by their rules,
//! abbreviated long options, and how long the exit takes when the command leaves a process
//! behind. Where nsinit deliberately differs, the test says what its docs say instead.

use std::time::{Duration, Instant};

use harness::{skip, Cmd, TempDir};

mod nsinit_support;
use nsinit_support::{need_programs, need_python, PY};

/// The init's command's session leadership: `pid sid` of `sh`, read from the kernel.
const SESSION: &str = "read pid comm st ppid pgrp sid rest < /proc/self/stat; echo $pid $sid";

fn leads_its_session(out: &harness::Output) -> bool {
    let v: Vec<&str> = out.out().split_whitespace().collect();
    assert_eq!(v.len(), 2, "{out:?}");
    v[0] == v[1]
}

/// DUMB_INIT_SETSID: dumb-init turns setsid mode off for "0" only; anything else (`yes`,
/// empty, ` 0`) is on. Unset, dumb-init's default is setsid mode and nsinit's is not (its
/// --single-child default is tini's; documented).
#[test]
fn dumb_init_setsid_is_read_as_dumb_init_reads_it() {
    if !need_programs(&["dumb-init"]) {
        return;
    }
    for v in ["0", "1", "yes", "no", "", " 0", "00", "true"] {
        let theirs = Cmd::new("dumb-init")
            .args(["--", "sh", "-c", SESSION])
            .env("DUMB_INIT_SETSID", v)
            .run();
        let ours = Cmd::tool("nsinit")
            .args(["--", "sh", "-c", SESSION])
            .env("DUMB_INIT_SETSID", v)
            .run();
        theirs.ok();
        ours.ok();
        assert_eq!(
            leads_its_session(&ours),
            leads_its_session(&theirs),
            "DUMB_INIT_SETSID={v:?}:{ours:?}{theirs:?}"
        );
        assert_eq!(leads_its_session(&ours), v != "0", "{v:?}");
    }
    let theirs = Cmd::new("dumb-init")
        .args(["--", "sh", "-c", SESSION])
        .run();
    let ours = Cmd::tool("nsinit").args(["--", "sh", "-c", SESSION]).run();
    assert!(leads_its_session(&theirs) && !leads_its_session(&ours));
}

/// TINI_VERBOSITY is read with atoi(3) (`2x` is 2, `abc` is 0); tini's level 2 logs the
/// spawn, 3 every reaped child. nsinit's levels start one lower (0 quiet, 1 the spawn, 2 every
/// reaped orphan): the same variable makes both log at the same points.
#[test]
fn tini_verbosity_is_read_as_tini_reads_it() {
    if !need_programs(&["tini"]) {
        return;
    }
    // An orphan for the init to reap; TINI_SUBREAPER so that tini reaps it too.
    let cmd = ["--", "sh", "-c", "(sleep 0.05 &); sleep 0.3"];
    for v in ["0", "1", "2", "3", "4", "2x", " 3", "abc", "-1", ""] {
        let theirs = Cmd::new("tini")
            .args(cmd)
            .env("TINI_VERBOSITY", v)
            .env("TINI_SUBREAPER", "")
            .run();
        let ours = Cmd::tool("nsinit").args(cmd).env("TINI_VERBOSITY", v).run();
        theirs.ok();
        ours.ok();
        let t = format!("{}{}", theirs.stdout, theirs.stderr);
        let spawn = (t.contains("[INFO"), ours.stderr.contains("nsinit: spawned"));
        let reap = (
            t.contains("[DEBUG"),
            ours.stderr.contains("nsinit: reaped pid"),
        );
        assert_eq!(spawn.0, spawn.1, "TINI_VERBOSITY={v:?}:{ours:?}{theirs:?}");
        assert_eq!(reap.0, reap.1, "TINI_VERBOSITY={v:?}:{ours:?}{theirs:?}");
    }
}

/// TINI_KILL_PROCESS_GROUP and TINI_SUBREAPER are on when set, whatever the value (`0` and
/// empty included), as tini reads them.
#[test]
fn tini_switches_are_on_when_set() {
    if !need_programs(&["tini"]) || !need_python() {
        return;
    }
    let dir = TempDir::new("nsinit-anchors-pgrp");
    for v in [None, Some(""), Some("0"), Some("1"), Some("no")] {
        let mut got = Vec::new();
        for init in ["tini", "nsinit"] {
            let mark = dir.path().join(format!("{init}-{}", v.unwrap_or("unset")));
            // sh ignores USR1; its child, a python in the same process group, records it:
            // only a signal sent to the group reaches it.
            let rec = format!(
                "import signal, sys\nsignal.signal(signal.SIGUSR1, lambda s, f: \
                 open({:?}, 'w').write('x'))\nprint('ready', flush=True)\nwhile True:\n    \
                 signal.pause()\n",
                mark.display().to_string()
            );
            let mut c = if init == "tini" {
                Cmd::new("tini").arg("-s")
            } else {
                Cmd::tool("nsinit")
            };
            c = c.args(["--", "sh", "-c", "trap '' USR1; \"$0\" -c \"$1\"", PY, &rec]);
            if let Some(v) = v {
                c = c.env("TINI_KILL_PROCESS_GROUP", v);
            }
            let mut bg = c.spawn();
            assert_eq!(bg.read_line(), "ready", "{init}");
            bg.signal(libc::SIGUSR1);
            let start = Instant::now();
            let limit = Duration::from_millis(if v.is_some() { 10_000 } else { 500 });
            while !mark.exists() && start.elapsed() < limit {
                std::thread::sleep(Duration::from_millis(10));
            }
            got.push(mark.exists());
            drop(bg);
        }
        assert_eq!(
            got,
            [v.is_some(); 2],
            "TINI_KILL_PROCESS_GROUP={v:?}: [tini, nsinit]"
        );
    }
    // TINI_SUBREAPER=0 registers tini as a subreaper (no warning); nsinit always is one.
    let theirs = Cmd::new("tini")
        .args(["--", "true"])
        .env("TINI_SUBREAPER", "0")
        .run();
    theirs.ok();
    assert!(!theirs.stderr.contains("subreaper"), "{theirs:?}");
    let unset = Cmd::new("tini").args(["--", "true"]).run();
    assert!(unset.stderr.contains("subreaper"), "{unset:?}");
}

/// Abbreviated long options, getopt_long's rule as dumb-init (and catatonit, for its one
/// long option) apply it: a unique prefix is the option, an ambiguous one fails naming the
/// candidates in the same words. Where nsinit's extra options would make a prefix ambiguous
/// that dumb-init's options do not (`--s`, `--r`, `--re`), dumb-init's meaning holds.
/// tini takes only the exact `--version`; nsinit accepts its prefixes too (a superset).
#[test]
fn abbreviated_options_as_dumb_init_takes_them() {
    if !need_programs(&["dumb-init", "catatonit", "tini"]) {
        return;
    }
    let table: &[&[&str]] = &[
        &["--single", "--", "true"],
        &["--s", "--", "true"],
        &["--r", "15:10", "--", "true"],
        &["--re=15:10", "--", "true"],
        &["--rew", "15:10", "--", "true"],
        &["--verb", "--", "true"],
        &["--vers"],
        &["--h"],
        &["--ver", "--", "true"],
        &["--v", "--", "true"],
        &["--bogus", "--", "true"],
    ];
    for args in table {
        let theirs = Cmd::new("dumb-init").args(*args).run();
        let ours = Cmd::tool("nsinit").args(*args).run();
        assert_eq!(
            ours.status.success(),
            theirs.status.success(),
            "{args:?}:{ours:?}{theirs:?}"
        );
        if let Some(rest) = theirs.stderr.strip_prefix("dumb-init: option") {
            // dumb-init: option '--ver' is ambiguous; possibilities: '--verbose' '--version'
            assert!(rest.contains("is ambiguous"), "{theirs:?}");
            assert_eq!(
                ours.stderr.lines().next(),
                Some(format!("nsinit: option{}", rest.trim_end()).as_str()),
                "{args:?}:{ours:?}"
            );
            ours.code_is(125);
        }
    }
    let theirs = Cmd::new("catatonit").arg("--vers").run();
    theirs.ok().stdout_has("version");
    Cmd::tool("nsinit")
        .arg("--vers")
        .run()
        .ok()
        .stdout_has("nsinit");
    assert!(!Cmd::new("tini").args(["--vers"]).run().status.success());
}

/// `unshare -pf --mount-proc INIT -- sh -c '(trap "" TERM; sleep 100) & exit 7'`: tini,
/// dumb-init and catatonit exit at once (and the kernel then kills the namespace). nsinit gives
/// the leftover SIGTERM and --exit-grace (100 ms) — it used to hold the exit for the whole
/// 5 s --grace. All four exit 7. bench/nsinit measures the times.
#[test]
fn the_exit_is_not_held_for_a_leftover() {
    if !need_programs(&["tini", "dumb-init", "catatonit", "unshare"]) {
        return;
    }
    if !harness::is_root() {
        return skip("needs root to create a PID namespace");
    }
    let script = "(trap '' TERM; sleep 100) & sleep 0.1; exit 7";
    for init in ["tini", "dumb-init", "catatonit", "nsinit"] {
        let path = if init == "nsinit" {
            harness::bin("nsinit").display().to_string()
        } else {
            init.to_string()
        };
        let t0 = Instant::now();
        Cmd::new("unshare")
            .args(["-pf", "--mount-proc", &path, "--", "sh", "-c", script])
            .run()
            .code_is(7);
        // Generous: the point is that no 5 s grace period is waited out.
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "{init}: {:?}",
            t0.elapsed()
        );
    }
    // Not PID 1: tini -s leaves the leftover running (re-parented above it); nsinit, a
    // subreaper, shuts it down before it exits.
    let script = "(trap '' TERM; exec sleep 100 >/dev/null 2>&1) & echo $!; exit 7";
    let ours = Cmd::tool("nsinit").args(["--", "sh", "-c", script]).run();
    ours.code_is(7);
    let left: i32 = ours.out().parse().expect("pid");
    assert!(!std::path::Path::new(&format!("/proc/{left}")).exists());
    let theirs = Cmd::new("tini")
        .args(["-s", "--", "sh", "-c", script])
        .run();
    theirs.code_is(7);
    let left: i32 = theirs.out().parse().expect("pid");
    let alive = std::path::Path::new(&format!("/proc/{left}")).exists();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(left),
        nix::sys::signal::Signal::SIGKILL,
    );
    assert!(alive, "tini -s left nothing behind this time");
}
