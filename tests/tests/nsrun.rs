//! nsrun against the real kernel: the oracle is /proc, not nsrun's own output.

use harness::{ns_ino, skip, unprivileged_userns_works, Cmd, KINDS};

/// Print the inode of every namespace of the command, one `kind ino` per line.
const SHOW_NS: &str = "for k in cgroup ipc mnt net pid time user uts; do echo $k $(stat -L -c %i /proc/self/ns/$k); done";

fn parse_ns(out: &str) -> Vec<(String, u64)> {
    out.lines()
        .filter_map(|l| {
            let (k, i) = l.split_once(' ')?;
            Some((k.to_string(), i.parse().ok()?))
        })
        .collect()
}

#[test]
fn each_kind_new_and_the_rest_unchanged() {
    if !harness::is_root() {
        return skip("needs root to create every kind of namespace");
    }
    for (flag, kind) in [
        ("--cgroup", "cgroup"),
        ("--ipc", "ipc"),
        ("--mount", "mnt"),
        ("--net", "net"),
        ("--uts", "uts"),
        ("--user", "user"),
    ] {
        let out = Cmd::tool("nsrun").args([flag, "sh", "-c", SHOW_NS]).run();
        out.ok();
        for (k, ino) in parse_ns(&out.stdout) {
            let host = ns_ino(None, &k);
            if k == kind {
                assert_ne!(ino, host, "{flag}: {k} should be new:{out:?}");
            } else {
                assert_eq!(ino, host, "{flag}: {k} should be the host's:{out:?}");
            }
        }
        assert_eq!(parse_ns(&out.stdout).len(), KINDS.len());
    }
}

#[test]
fn pid_namespace_runs_the_command_as_pid_1() {
    if !harness::is_root() {
        return skip("needs root");
    }
    let out = Cmd::tool("nsrun")
        .args(["--pid", "sh", "-c", "echo $$; grep NSpid /proc/self/status"])
        .run();
    out.ok();
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("1"), "{out:?}");
    // NSpid has two levels: the host PID and 1.
    let nspid: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .collect();
    assert_eq!(nspid.len(), 2, "{out:?}");
}

#[test]
fn rootless_map_root_user() {
    if !unprivileged_userns_works() {
        return skip("unprivileged user namespaces are not available");
    }
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args([
            "-r",
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups",
        ])
        .run();
    out.ok();
    let words: Vec<&str> = out.stdout.split_whitespace().collect();
    assert_eq!(
        words,
        ["0", "0", "65534", "1", "0", "65534", "1", "deny"],
        "{out:?}"
    );
}

#[test]
fn exit_codes_and_signals_are_mirrored() {
    if !unprivileged_userns_works() {
        return skip("unprivileged user namespaces are not available");
    }
    Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "sh", "-c", "exit 7"])
        .run()
        .code_is(7);
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "--fork", "sh", "-c", "kill -TERM $$"])
        .run();
    assert_eq!(out.signal(), Some(libc::SIGTERM), "{out:?}");
    Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "/nonexistent/cmd"])
        .run()
        .code_is(127)
        .stderr_has("nsrun: failed to execute /nonexistent/cmd: No such file or directory");
    Cmd::tool("nsrun")
        .args(["--bogus"])
        .run()
        .code_is(125)
        .stderr_has("--bogus");
}
