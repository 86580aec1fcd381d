//! nsenter against the real kernel.

use harness::{ns_ino, skip, unprivileged_userns_works, Cmd, KINDS};

#[test]
fn enters_every_namespace_of_a_target() {
    if !harness::is_root() {
        return skip("needs root");
    }
    let mut target = Cmd::tool("nsrun")
        .args([
            "-U",
            "-m",
            "-u",
            "-i",
            "-n",
            "-p",
            "-C",
            "--",
            "sh",
            "-c",
            "echo ready; exec sleep 60",
        ])
        .spawn();
    assert_eq!(target.read_line(), "ready");
    // The sleeping command is the child of nsrun (it forked for --pid).
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", target.pid()))
        .expect("children");
    let pid: i32 = children
        .split_whitespace()
        .next()
        .expect("a child")
        .parse()
        .expect("pid");
    let out = Cmd::tool("nsenter")
        .args(["-t", &pid.to_string(), "-a", "sh", "-c"])
        .arg("for k in cgroup ipc mnt net pid time user uts; do echo $k $(stat -L -c %i /proc/self/ns/$k); done")
        .run();
    out.ok();
    for line in out.stdout.lines() {
        let (k, ino) = line.split_once(' ').expect("kind ino");
        assert_eq!(
            ino.parse::<u64>().ok(),
            Some(ns_ino(Some(pid), k)),
            "{k}:{out:?}"
        );
    }
    assert_eq!(out.stdout.lines().count(), KINDS.len());
}

#[test]
fn rootless_enters_its_own_user_namespace() {
    if !unprivileged_userns_works() {
        return skip("unprivileged user namespaces are not available");
    }
    let mut target = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "-n", "-u", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(target.read_line(), "ready");
    let pid = target.pid().to_string();
    let out = Cmd::tool("nsenter")
        .as_nobody()
        .args([
            "-t",
            &pid,
            "-U",
            "-n",
            "-u",
            "sh",
            "-c",
            "id -u; stat -L -c %i /proc/self/ns/net",
        ])
        .run();
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "0", "{out:?}");
    assert_eq!(
        lines[1].parse::<u64>().ok(),
        Some(ns_ino(Some(target.pid()), "net"))
    );
}

#[test]
fn missing_target_is_a_clear_error() {
    Cmd::tool("nsenter")
        .args(["-t", "2147483647", "-n", "true"])
        .run()
        .code_is(125)
        .stderr_has("nsenter: cannot open process 2147483647: No such process");
}
