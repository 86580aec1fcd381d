//! runc, rootful and rootless (`runc spec --rootless`, as uid 65534): nsenter and nsls
//! against a container whose `process.args[0]` is our static nsinit, and the init table
//! (exit code out of `runc run`, `runc kill TERM`, `runc kill HUP`, orphans) for nsinit
//! and for catatonit in the same image.

use std::time::{Duration, Instant};

use harness::containers::{need, Image, Runc};
use harness::{skip, unprivileged_userns_works};

use crate::{check_container, check_container_entered, check_no_zombie, descendant_named, unique};

/// One runtime-agnostic row of the init table, for `init` (the argv before the command).
fn init_table(runc: &Runc, init: &[&str]) {
    let tag = init[0].rsplit('/').next().unwrap_or("init");
    let bundle = |what: &str, cmd: &[&str]| -> String {
        let name = unique(&format!("runc-{tag}-{what}"));
        let argv: Vec<&str> = init.iter().chain(cmd).copied().collect();
        runc.bundle(&name, &argv);
        name
    };
    // The command's exit code comes out of `runc run`.
    let name = bundle("exit", &["sh", "-c", "exit 3"]);
    let out = runc.run(&name).wait(Duration::from_secs(30));
    assert_eq!(out.code(), 3, "{tag}: runc run:{out:?}");

    // `runc kill TERM` ends it at once: the init forwards TERM, the command dies of it.
    let name = bundle("term", &["sleep", "1000"]);
    let bg = runc.run(&name);
    let pid = runc.pid(&name);
    descendant_named(pid, "sleep");
    let start = Instant::now();
    runc.cmd(["kill", &name, "TERM"]).run().ok();
    let out = bg.wait(Duration::from_secs(20));
    assert_eq!(out.code(), 128 + libc::SIGTERM, "{tag}: after TERM:{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{tag}: TERM took {:?}",
        start.elapsed()
    );

    // HUP reaches the command.
    let name = bundle(
        "hup",
        &[
            "sh",
            "-c",
            "trap 'exit 42' HUP; while :; do sleep 0.1; done",
        ],
    );
    let bg = runc.run(&name);
    let pid = runc.pid(&name);
    descendant_named(pid, "sleep"); // the loop runs: the trap is set
    runc.cmd(["kill", &name, "HUP"]).run().ok();
    let out = bg.wait(Duration::from_secs(20));
    assert_eq!(out.code(), 42, "{tag}: after HUP:{out:?}");

    // An orphan made inside is reaped: no zombie in the container's /proc.
    let name = bundle("orphan", &["sh", "-c", "(sleep 0.2 &); exec sleep 1000"]);
    let bg = runc.run(&name);
    runc.pid(&name);
    std::thread::sleep(Duration::from_secs(1)); // the orphan has exited by now
    check_no_zombie(|script| runc.cmd(["exec", &name, "sh", "-c", script]).run());
    runc.cmd(["kill", &name, "KILL"]).run().ok();
    bg.wait(Duration::from_secs(20));
}

fn runc_suite(rootless: bool) {
    if !need("runc", "runc") {
        return;
    }
    if !harness::is_root() {
        return skip("needs root (and uid 65534 for the rootless half)");
    }
    if rootless && !unprivileged_userns_works() {
        return skip("unprivileged user namespaces are not available");
    }
    let runc = Runc::new(rootless);
    let name = unique("runc");
    runc.bundle(&name, &["/sbin/nsinit", "--", "sleep", "1000"]);
    let _bg = runc.run(&name);
    let pid = runc.pid(&name);
    let what = format!(
        "runc ({}) container {name}",
        if rootless { "rootless" } else { "rootful" }
    );
    check_container_entered(&what, pid, rootless, |script| {
        runc.cmd(["exec", &name, "sh", "-c", script]).run()
    });
    // runc names its container in the cgroup path only with the systemd driver
    // (runc-ID.scope); with cgroupfs the path is the bundle's cgroupsPath (here /NAME;
    // rootless on cgroup v1: none) and runc sets no container= variable.
    check_container(pid, rootless, None);

    let mut inits: Vec<&[&str]> = vec![&["/sbin/nsinit", "--"]];
    if Image::get().has_catatonit() {
        inits.push(&["/sbin/catatonit", "--"]);
    } else {
        skip("catatonit is not installed (Debian package catatonit): no anchor to compare nsinit with");
    }
    std::thread::scope(|s| {
        for init in inits {
            let runc = &runc;
            s.spawn(move || init_table(runc, init));
        }
    });
}

#[test]
fn runc_rootful() {
    runc_suite(false);
}

#[test]
fn runc_rootless() {
    runc_suite(true);
}
