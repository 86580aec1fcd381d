//! nsrun against the real kernel: the oracle is /proc (namespace inodes, `NSpid`, `uid_map`,
//! mountinfo), not nsrun's own output.

use std::time::{Duration, Instant};

use harness::{
    bin, bin_for_nobody, need_root, need_rootless, ns_ino, parse_ns, skip, Cmd, TempDir, KINDS,
    PRINT_NS,
};

/// The flags and the kinds they create (user namespace mapped with -r when rootless).
const FLAGS: [(&str, &str); 8] = [
    ("--cgroup", "cgroup"),
    ("--ipc", "ipc"),
    ("--mount", "mnt"),
    ("--net", "net"),
    ("--pid", "pid"),
    ("--time", "time"),
    ("--user", "user"),
    ("--uts", "uts"),
];

fn check_kinds(nobody: bool) {
    for (flag, kind) in FLAGS {
        let mut c = Cmd::tool("nsrun");
        if nobody {
            c = c.as_nobody().arg("-r");
        }
        let out = c.args([flag, "sh", "-c", PRINT_NS]).run();
        out.ok();
        let got = parse_ns(&out.stdout);
        assert_eq!(got.len(), KINDS.len(), "{out:?}");
        for (k, ino) in got {
            let new = k == kind || (nobody && k == "user");
            if new {
                assert_ne!(ino, ns_ino(None, &k), "{flag}: {k} should be new:{out:?}");
            } else {
                assert_eq!(
                    ino,
                    ns_ino(None, &k),
                    "{flag}: {k} should be the host's:{out:?}"
                );
            }
        }
    }
}

#[test]
fn each_kind_new_and_the_rest_unchanged() {
    if need_root() {
        check_kinds(false);
    }
}

#[test]
fn each_kind_rootless() {
    if need_rootless() {
        check_kinds(true);
    }
}

#[test]
fn pid_namespace_runs_the_command_as_pid_1() {
    if !need_root() {
        return;
    }
    let out = Cmd::tool("nsrun")
        .args([
            "--pid",
            "sh",
            "-c",
            "echo $$; exec grep NSpid /proc/self/status",
        ])
        .run();
    out.ok();
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("1"), "{out:?}");
    let nspid: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .collect();
    assert_eq!(nspid.len(), 2, "two levels, host PID and 1:{out:?}");
    assert_eq!(nspid[1], "1", "{out:?}");
}

#[test]
fn mount_proc_shows_only_the_namespace() {
    if !need_rootless() {
        return;
    }
    let before = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "--pid", "--mount-proc", "ps", "-e", "-o", "pid="])
        .run();
    out.ok();
    let pids: Vec<&str> = out.stdout.split_whitespace().collect();
    assert_eq!(pids, ["1"], "ps sees only itself, as PID 1:{out:?}");
    let after = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert_eq!(before, after, "the host's mounts are untouched");
}

fn maps(c: Cmd) -> (String, String, String) {
    let out = c
        .args([
            "sh",
            "-c",
            "cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; cat /proc/self/setgroups",
        ])
        .run();
    out.ok();
    let norm = |s: &str| {
        s.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let parts: Vec<String> = out.stdout.split("--\n").map(norm).collect();
    assert_eq!(parts.len(), 3, "{out:?}");
    (parts[0].clone(), parts[1].clone(), parts[2].clone())
}

#[test]
fn id_maps_as_root() {
    if !need_root() {
        return;
    }
    let nsrun = || Cmd::tool("nsrun");
    assert_eq!(
        maps(nsrun().arg("-r")),
        ("0 0 1".into(), "0 0 1".into(), "deny".into())
    );
    assert_eq!(
        maps(nsrun().args(["--map-user=1000", "--map-group=2000"])),
        ("1000 0 1".into(), "2000 0 1".into(), "deny".into())
    );
    assert_eq!(
        maps(nsrun().arg("-c")),
        ("0 0 1".into(), "0 0 1".into(), "deny".into())
    );
    // Ranges, written by root directly; the legacy OUTER,INNER,COUNT form too.
    let (u, g, sg) = maps(nsrun().args([
        "--map-users=0:100000:65536",
        "--map-groups=200000,0,1000",
        "--setgroups=allow",
    ]));
    assert_eq!(
        (u.as_str(), g.as_str(), sg.as_str()),
        ("0 100000 65536", "0 200000 1000", "allow")
    );
    // A single id punches a hole in a range it overlaps.
    let (u, _, _) = maps(nsrun().args(["--map-users=0:100000:65536", "--map-user=0"]));
    assert_eq!(u, "0 0 1\n1 100001 65535");
    // all: the parent's whole map, identically.
    let (u, _, _) = maps(nsrun().args(["--map-users=all"]));
    assert_eq!(u, "0 0 4294967295");
    // Root's own subordinate ids are looked up exactly: nobody's line is not root's.
    Cmd::tool("nsrun")
        .args(["--map-auto", "true"])
        .run()
        .code_is(125)
        .stderr_has("no subordinate ids for root in /etc/subuid");
}

fn nobody_has_subids() -> bool {
    let ok = harness::nobody_has_subids();
    if !ok {
        skip("no /etc/subuid, /etc/subgid line for nobody (.ci/run adds nobody:100000:65536)");
    }
    ok
}

#[test]
fn id_maps_rootless() {
    if !need_rootless() {
        return;
    }
    let nsrun = || Cmd::tool("nsrun").as_nobody();
    assert_eq!(
        maps(nsrun().arg("-r")),
        ("0 65534 1".into(), "0 65534 1".into(), "deny".into())
    );
    assert_eq!(
        maps(nsrun().arg("-c")),
        (
            "65534 65534 1".into(),
            "65534 65534 1".into(),
            "deny".into()
        )
    );
    assert_eq!(
        maps(nsrun().args(["--map-user=7", "--map-group=8"])),
        ("7 65534 1".into(), "8 65534 1".into(), "deny".into())
    );
    if !nobody_has_subids() {
        return;
    }
    // Ranges through newuidmap/newgidmap, and -r punching its hole.
    let (u, g, sg) = maps(nsrun().args(["--map-auto", "-r"]));
    assert_eq!(u, "0 65534 1\n1 100001 65535");
    assert_eq!(g, "0 65534 1\n1 100001 65535");
    assert_eq!(sg, "deny");
    let (u, g, _) = maps(nsrun().args(["--map-users=1:100000:10", "--map-groups=subids"]));
    assert_eq!(u, "1 100000 10");
    assert_eq!(g, "100000 100000 65536");
    let (u, g, _) = maps(nsrun().arg("--map-subids"));
    assert_eq!(
        (u.as_str(), g.as_str()),
        ("100000 100000 65536", "100000 100000 65536")
    );
}

#[test]
fn mapped_root_cannot_write_a_root_owned_host_file() {
    if !need_rootless() {
        return;
    }
    let dir = TempDir::new("nsrun-rootfile");
    let file = dir.path().join("owned-by-root");
    std::fs::write(&file, "host\n").expect("write");
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "sh", "-c"])
        .arg(format!("id -u; echo pwned >> {}", file.display()))
        .run();
    assert_ne!(out.code(), 0, "{out:?}");
    assert_eq!(out.stdout.trim(), "0", "root inside:{out:?}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "host\n");
}

#[test]
fn hostname_domainname_and_loopback() {
    if !need_rootless() {
        return;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "--hostname=inside", "--domainname=dom.example", "-n"])
        .args([
            "sh",
            "-c",
            "cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname; ip -o link show lo",
        ])
        .run();
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(&lines[..2], ["inside", "dom.example"], "{out:?}");
    assert!(lines[2].contains(",UP"), "lo is up:{out:?}");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname"),
        host
    );
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args([
            "-r",
            "-n",
            "--no-loopback",
            "ip",
            "-o",
            "link",
            "show",
            "lo",
        ])
        .run();
    out.ok();
    assert!(!out.stdout.contains(",UP"), "lo stays down:{out:?}");
}

#[test]
fn info_fd_pid_file_and_ready_match_the_kernel() {
    if !need_rootless() {
        return;
    }
    let dir = TempDir::new("nsrun-info");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let d = dir.path().display();
    let script = format!(
        "exec {nsrun} -r -n -u -p --pid-file={d}/pid --info-fd=3 --ready-fd=4 \
         sh -c '{PRINT_NS}; cp {d}/pid {d}/pid.seen; exec grep NSpid /proc/self/status' \
         3>{d}/info 4>{d}/ready",
        nsrun = bin_for_nobody("nsrun").display()
    );
    let out = Cmd::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
        ])
        .arg(&script)
        .run();
    out.ok();
    let host_pid: i64 = out
        .stdout
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("NSpid:{out:?}"));
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("info")).expect("info"))
            .expect("json");
    assert_eq!(info["child-pid"].as_i64(), Some(host_pid), "{info}");
    let inside = parse_ns(&out.stdout);
    let obj = info.as_object().expect("object");
    assert_eq!(
        obj.len(),
        2 + 4,
        "child-pid, child-pidfs-inode and net, uts, pid, user:{info}"
    );
    assert!(obj["child-pidfs-inode"].as_u64().is_some(), "{info}");
    for kind in ["net", "uts", "pid", "user"] {
        let ino = inside[kind];
        assert_eq!(
            obj[&format!("{kind}-namespace")].as_u64(),
            Some(ino),
            "{kind}: {info}"
        );
    }
    // The pid file, as the command saw it; removed once the command has exited.
    let pid_file = std::fs::read_to_string(dir.path().join("pid.seen")).expect("pid file");
    assert_eq!(pid_file.trim().parse::<i64>().ok(), Some(host_pid));
    assert!(!dir.path().join("pid").exists(), "pid file left after exit");
    assert_eq!(
        std::fs::read(dir.path().join("ready"))
            .expect("ready")
            .len(),
        1
    );
}

#[test]
fn block_fd_holds_the_command_until_released() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsrun-block");
    let d = dir.path().display();
    let script = format!(
        "mkfifo {d}/blk; exec 3<>{d}/blk; \
         {nsrun} -u --block-fd=3 --ready-fd=5 sh -c 'echo ran' 5>{d}/ready >{d}/out & \
         while [ ! -s {d}/ready ]; do sleep 0.01; done; \
         sleep 0.2; [ -s {d}/out ] && echo EARLY; echo go >&3; wait $!; cat {d}/out",
        nsrun = bin("nsrun").display()
    );
    let out = Cmd::new("sh").args(["-c", &script]).run();
    out.ok();
    assert_eq!(out.stdout.trim(), "ran", "{out:?}");
}

#[test]
fn exit_codes_and_signals_are_mirrored() {
    if !need_rootless() {
        return;
    }
    let nsrun = || Cmd::tool("nsrun").as_nobody();
    nsrun().args(["-r", "sh", "-c", "exit 7"]).run().code_is(7);
    nsrun()
        .args(["-r", "-p", "sh", "-c", "exit 9"])
        .run()
        .code_is(9);
    let out = nsrun()
        .args(["-r", "--fork", "sh", "-c", "kill -TERM $$"])
        .run();
    assert_eq!(out.signal(), Some(libc::SIGTERM), "{out:?}");
    let out = nsrun().args(["-r", "sh", "-c", "kill -USR1 $$"]).run();
    assert_eq!(out.signal(), Some(libc::SIGUSR1), "{out:?}");
    nsrun()
        .args(["-r", "/nonexistent/cmd"])
        .run()
        .code_is(127)
        .stderr_has("nsrun: failed to execute /nonexistent/cmd: No such file or directory");
    nsrun()
        .args(["-r", "-p", "/nonexistent/cmd"])
        .run()
        .code_is(127);
    nsrun().args(["-r", "/etc/passwd"]).run().code_is(126);
}

#[test]
fn optional_argument_trap_gets_a_hint() {
    if !need_root() {
        return;
    }
    Cmd::tool("nsrun")
        .args(["--net", "/etc/passwd"])
        .run()
        .code_is(126)
        .stderr_has("'--net /etc/passwd' ran /etc/passwd as the command")
        .stderr_has("(--net=/etc/passwd)");
}

#[test]
fn timeout_kills_the_whole_pid_namespace() {
    if !need_rootless() {
        return;
    }
    let start = Instant::now();
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "-p", "--timeout=300ms", "sh", "-c"])
        .arg("stat -L -c %i /proc/self/ns/pid; sleep 60 & sleep 60")
        .run();
    out.code_is(124);
    assert!(start.elapsed() < Duration::from_secs(20), "{out:?}");
    let ino: u64 = out.stdout.trim().parse().expect("inode");
    // Nothing of that PID namespace is left.
    let left: Vec<String> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.parse::<i32>().ok()?;
            let md = std::fs::metadata(format!("/proc/{name}/ns/pid")).ok()?;
            (std::os::unix::fs::MetadataExt::ino(&md) == ino).then_some(name)
        })
        .collect();
    assert!(left.is_empty(), "processes left in the namespace: {left:?}");
    Cmd::tool("nsrun")
        .as_nobody()
        .args(["--timeout=200ms", "sleep", "60"])
        .run()
        .code_is(124);
}

fn wait_gone(pid: i32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie waiting for its reaper.
        if stat.is_empty()
            || stat
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn kill_child_dies_with_nsrun() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsrun-kill");
    let pid_file = dir.path().join("pid");
    let mut bg = Cmd::tool("nsrun")
        .args(["-p", "--kill-child"])
        .arg(format!("--pid-file={}", pid_file.display()))
        .args(["sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let child: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    bg.signal(libc::SIGKILL);
    assert!(wait_gone(child), "the child outlived nsrun");
}

#[test]
fn forward_signals_passes_sigterm_on() {
    if !need_root() {
        return;
    }
    let mut bg = Cmd::tool("nsrun")
        .args(["--forward-signals", "sh", "-c"])
        .arg("trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done")
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    bg.signal(libc::SIGTERM);
    let out = bg.wait(Duration::from_secs(20));
    out.code_is(7).stdout_has("got TERM");
}

#[test]
fn init_reaps_orphans_and_forwards_sigterm() {
    if !need_rootless() {
        return;
    }
    // The orphan (a grandchild whose parent exits) is reparented to the init and reaped:
    // ps shows no zombie.
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "-p", "--mount-proc", "--init", "sh", "-c"])
        .arg("(sleep 0.2 &); sleep 1; ps -e -o stat=,comm=")
        .run();
    out.ok();
    assert!(
        !out.stdout.lines().any(|l| l.starts_with('Z')),
        "zombie:{out:?}"
    );
    assert!(
        out.stdout.contains("nsrun"),
        "the init is PID 1's nsrun:{out:?}"
    );
    // SIGTERM to nsrun with --forward-signals reaches the init, which passes it on.
    let mut bg = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "-p", "--init", "--forward-signals", "sh", "-c"])
        .arg("trap 'exit 9' TERM; echo $$; while :; do sleep 0.05; done")
        .spawn();
    assert_eq!(bg.read_line(), "2", "the command is the init's child");
    bg.signal(libc::SIGTERM);
    bg.wait(Duration::from_secs(20)).code_is(9);
}

#[test]
fn the_command_gets_no_fd_of_ours() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsrun-fds");
    let d = dir.path().display();
    // Every fd-using path: helper (persist), pid file, info fd, fork, a fd 5 we pass on.
    let script = format!(
        "exec 5</dev/null; exec {nsrun} -p --mount-proc -u --uts={d}/uts --pid-file={d}/pid \
         --info-fd=4 sh -c 'ls /proc/$$/fd' 4>/dev/null",
        nsrun = bin("nsrun").display()
    );
    let out = Cmd::new("sh").args(["-c", &script]).run();
    out.ok();
    let _ = std::process::Command::new("umount")
        .arg(dir.path().join("uts"))
        .status();
    // What the caller itself hands on (0, 1, 2, 5 and whatever the test runner inherited).
    let base = Cmd::new("sh")
        .args(["-c", "exec 5</dev/null; exec sh -c 'ls /proc/$$/fd'"])
        .run();
    base.ok();
    let fds = |s: &str| {
        let mut v: Vec<u32> = s
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        v.sort_unstable();
        v
    };
    assert!(fds(&base.stdout).contains(&5), "{base:?}");
    assert_eq!(fds(&out.stdout), fds(&base.stdout), "{out:?}");
}

#[test]
fn time_namespace_offsets() {
    if !need_rootless() {
        return;
    }
    let host: f64 = std::fs::read_to_string("/proc/uptime")
        .expect("uptime")
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .expect("uptime");
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args([
            "-r",
            "-T",
            "--boottime=+2days",
            "--monotonic=3600",
            "cat",
            "/proc/uptime",
        ])
        .run();
    out.ok();
    let inside: f64 = out
        .stdout
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .expect("uptime");
    let diff = inside - host;
    assert!(
        (172_790.0..172_900.0).contains(&diff),
        "boottime offset: {diff}"
    );
    // The kernel's own record of the offsets (a humantime and a plain number of seconds).
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "-T", "--boottime=+2days", "--monotonic=3600"])
        .args(["cat", "/proc/self/timens_offsets"])
        .run();
    out.ok();
    let offsets: Vec<String> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(offsets.contains(&"monotonic 3600 0".to_string()), "{out:?}");
    assert!(
        offsets.contains(&"boottime 172800 0".to_string()),
        "{out:?}"
    );
}

#[test]
fn help_and_version() {
    let out = Cmd::tool("nsrun").arg("--help").run();
    out.ok().stdout_has("--map-users").stdout_has("--persist");
    let out = Cmd::tool("nsrun").arg("-V").run();
    out.ok();
    assert!(out.stdout.starts_with("nsrun "), "{out:?}");
}

#[test]
fn keep_caps_setuid_setgid_root_wd_env() {
    if !need_rootless() {
        return;
    }
    let cap = |extra: &[&str]| {
        let out = Cmd::tool("nsrun")
            .as_nobody()
            .args(["-U", "--map-user=1"])
            .args(extra)
            .args(["grep", "CapEff", "/proc/self/status"])
            .run();
        out.ok();
        out.stdout
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string()
    };
    assert_ne!(cap(&["--keep-caps"]), "0000000000000000");
    assert_eq!(cap(&[]), "0000000000000000");
    let out = Cmd::tool("nsrun")
        .args([
            "--setuid=65534",
            "--setgid=65534",
            "-R",
            "/",
            "-w",
            "/etc",
            "sh",
            "-c",
        ])
        .arg("id -u; id -g; id -G; pwd")
        .run();
    out.ok();
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["65534", "65534", "65534", "/etc"],
        "{out:?}"
    );
    let out = Cmd::tool("nsrun")
        .env("NSRUN_KEEP", "yes")
        .env("NSRUN_DROP", "no")
        .args(["--whitelist-env=NSRUN_KEEP,PATH", "env"])
        .run();
    out.ok();
    assert!(out.stdout.contains("NSRUN_KEEP=yes"), "{out:?}");
    assert!(!out.stdout.contains("NSRUN_DROP"), "{out:?}");
    let out = Cmd::tool("nsrun")
        .args(["--clear-env", "/usr/bin/env"])
        .run();
    out.ok();
    assert_eq!(out.stdout, "", "{out:?}");
}

#[test]
fn binfmt_misc_instance() {
    if !need_rootless() {
        return;
    }
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args([
            "-r",
            "--mount-binfmt",
            "--load-interp=:nsrun-test:E::nsrt::/bin/cat:",
        ])
        .args([
            "sh",
            "-c",
            "cat /proc/sys/fs/binfmt_misc/status; ls /proc/sys/fs/binfmt_misc",
        ])
        .run();
    out.ok();
    assert!(out.stdout.starts_with("enabled"), "{out:?}");
    assert!(out.stdout.contains("nsrun-test"), "{out:?}");
    assert!(
        !std::path::Path::new("/proc/sys/fs/binfmt_misc/nsrun-test").exists(),
        "the host's binfmt_misc is untouched"
    );
}

#[test]
fn propagation_modes() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsrun-prop");
    let d = dir.path().to_string_lossy().into_owned();
    let sh = |s: &str| {
        Cmd::new("sh").args(["-c", s]).run().ok();
    };
    sh(&format!("mount --bind {d} {d} && mount --make-shared {d}"));
    for (mode, want) in [
        (None, ""),
        (Some("private"), ""),
        (Some("shared"), "shared:"),
        (Some("slave"), "master:"),
        (Some("unchanged"), "shared:"),
    ] {
        let mut c = Cmd::tool("nsrun").arg("-m");
        if let Some(m) = mode {
            c = c.arg(format!("--propagation={m}"));
        }
        let out = c.args(["cat", "/proc/self/mountinfo"]).run();
        out.ok();
        let line = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().nth(4) == Some(d.as_str()))
            .unwrap_or_else(|| panic!("no mount line:{out:?}"))
            .to_string();
        let optional: Vec<&str> = line
            .split(" - ")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(6)
            .collect();
        if want.is_empty() {
            assert!(optional.is_empty(), "{mode:?}: {line}");
        } else {
            assert!(
                optional.iter().any(|t| t.starts_with(want)),
                "{mode:?}: {line}"
            );
        }
    }
}

#[test]
fn unshare_errors_explain_themselves() {
    if !need_rootless() {
        return;
    }
    Cmd::tool("nsrun")
        .as_nobody()
        .args(["-n", "true"])
        .run()
        .code_is(125)
        .stderr_has("nsrun: cannot create namespaces (net): Operation not permitted")
        .stderr_has("nsrun: hint: creating namespaces needs CAP_SYS_ADMIN: add --user");
    // ENOSPC: a zero limit inside a user namespace of our own (the host's stays as it is).
    let inner = bin_for_nobody("nsrun");
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "sh", "-c"])
        .arg(format!(
            "echo 0 > /proc/sys/user/max_net_namespaces && {} -n true",
            inner.display()
        ))
        .run();
    out.code_is(125)
        .stderr_has("No space left on device")
        .stderr_has("user.max_net_namespaces");
}

/// uid 65534 holding the supplementary groups 5 and 6, running `prog` (setpriv execs it by
/// `PATH` when it has no slash).
fn nobody_with_groups(prog: impl AsRef<std::ffi::OsStr>) -> Cmd {
    Cmd::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--groups=5,6", "--"])
        .arg(prog)
}

/// `-G` runs the command without supplementary groups (`nsutils_common::creds`), or says why
/// it cannot: refused with nothing to drop is no failure; refused where groups would stay is,
/// as with unshare; where the user namespace denies setgroups (`-r`) no one can drop them and
/// the command runs with them (unshare 2.38 fails there too, even without groups).
#[test]
fn setgid_drops_the_groups_or_says_why() {
    if !need_rootless() {
        return;
    }
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-G", "65534", "id", "-G"])
        .run();
    assert_eq!(out.ok().out(), "65534", "nothing to drop");

    let nsrun = bin_for_nobody("nsrun");
    nobody_with_groups(&nsrun)
        .args(["-G", "65534", "id", "-G"])
        .run()
        .code_is(125)
        .stderr_has("nsrun: cannot drop supplementary groups: Operation not permitted")
        .stderr_has("nsrun: hint: dropping them needs CAP_SETGID");
    let ul = nobody_with_groups("unshare")
        .args(["-G", "65534", "id", "-G"])
        .run();
    assert_ne!(ul.code(), 0, "unshare refuses too:{ul:?}");
    ul.stderr_has("setgroups failed");

    let out = nobody_with_groups(&nsrun)
        .args(["-r", "-G", "0", "sh", "-c", "id -g; id -G"])
        .run();
    out.ok();
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["0", "0 65534"],
        "the gid set, the groups kept as the overflow group:{out:?}"
    );

    Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "-G", "5", "true"])
        .run()
        .code_is(125)
        .stderr_has("nsrun: cannot set gid 5: Invalid argument")
        .stderr_has("map it with --map-user(s)/--map-group(s)");
}

/// `--keep-caps` through a uid change from 0 (PR_SET_KEEPCAPS before setresuid, then the
/// ambient set): the command, uid 1, keeps the user namespace's capabilities.
#[test]
fn keep_caps_through_a_uid_change() {
    if !need_root() {
        return;
    }
    // uid, groups and the effective capabilities, on one line.
    let ids_caps = "echo $(id -u) $(id -G) $(grep CapEff /proc/self/status | cut -f2)";
    let run = |extra: &[&str]| {
        Cmd::tool("nsrun")
            .args(["-U", "--map-users=0:100000:10", "--map-groups=0:100000:10"])
            .args(["-S", "1", "-G", "1"])
            .args(extra)
            .args(["sh", "-c", ids_caps])
            .run()
            .ok()
            .out()
            .to_string()
    };
    assert_eq!(run(&[]), "1 1 0000000000000000");
    let kept = run(&["--keep-caps"]);
    assert!(kept.starts_with("1 1 "), "{kept}");
    assert_ne!(kept, "1 1 0000000000000000");
}
