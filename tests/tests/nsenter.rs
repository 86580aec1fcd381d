//! nsenter against the real kernel: entering namespaces (each kind alone, all at once,
//! atomically and per file), compositions with nsrun, util-linux unshare, `ip netns` and
//! bubblewrap, credentials, directories, environment, cgroup, exit-status fidelity, and
//! every bad input of the issue. The oracle is `/proc/PID/ns/*` as the kernel shows it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use harness::{
    child_of, need_root, need_root_and, need_rootless, ns_ino, parse_ns, pidfs_inode, skip,
    status_field, Bg, Cmd, Netns, TempDir, KINDS, PRINT_NS,
};

/// A target in a new namespace of every kind, made by our nsrun as root (uid 0 mapped to 0).
/// Returns the guard and the PID of the process inside (nsrun's child).
fn all_ns_target() -> (Bg, i32) {
    harness::nsrun_target(&["-r", "-m", "-u", "-i", "-n", "-p", "-C", "-T"])
}

/// A marker file path a command would create; checked to be absent after a failure.
fn marker(dir: &TempDir) -> PathBuf {
    dir.path().join("command-ran")
}

/// Assert nsenter failed the documented way: exit 125, one `nsenter:` line (plus an
/// optional hint), no command run.
#[track_caller]
fn bad_input(args: &[&str], needle: &str) {
    let dir = TempDir::new("nsenter-bad");
    let m = marker(&dir);
    let out = Cmd::tool("nsenter").args(args).arg("touch").arg(&m).run();
    out.code_is(125).stderr_has(needle);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        !lines.is_empty() && lines.len() <= 2,
        "one line (+ hint) expected:{out:?}"
    );
    assert!(lines[0].starts_with("nsenter: "), "{out:?}");
    if let Some(h) = lines.get(1) {
        assert!(
            h.starts_with("nsenter: hint: ") || h.starts_with("Try 'nsenter --help'"),
            "{out:?}"
        );
    }
    assert!(!m.exists(), "the command ran:{out:?}");
}

/// Unmounts files that namespaces were bind-mounted on, on drop (TempDir's `umount -R`
/// only reaches mounts below a directory that is itself a mount point).
struct FileMounts(Vec<PathBuf>);
impl Drop for FileMounts {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = Cmd::new("umount").arg("-l").arg(p).run();
        }
    }
}

#[test]
fn enters_each_kind_singly_and_all_together() {
    if !need_root() {
        return;
    }
    let (_bg, pid) = all_ns_target();
    let p = pid.to_string();
    for (how, env) in [("atomic", "0"), ("per-file", "1")] {
        let out = Cmd::tool("nsenter")
            .env("NSUTILS_NSENTER_PER_FILE", env)
            .args(["-t", &p, "-a", "sh", "-c", PRINT_NS])
            .run();
        out.ok();
        let got = parse_ns(&out.stdout);
        assert_eq!(got.len(), KINDS.len(), "{how}:{out:?}");
        for (k, ino) in got {
            assert_eq!(ino, ns_ino(Some(pid), &k), "{how} {k}:{out:?}");
            assert_ne!(ino, ns_ino(None, &k), "{how} {k} is ours:{out:?}");
        }
    }
    for kind in KINDS {
        let flag = match kind {
            "mnt" => "--mount".to_string(),
            k => format!("--{k}"),
        };
        let out = Cmd::tool("nsenter")
            .args(["-t", &p, &flag, "sh", "-c", PRINT_NS])
            .run();
        out.ok();
        for (k, ino) in parse_ns(&out.stdout) {
            // The user namespace owns the others; entering only `kind` leaves the rest ours.
            let want = if k == kind {
                ns_ino(Some(pid), &k)
            } else {
                ns_ino(None, &k)
            };
            assert_eq!(ino, want, "--{kind}: {k}:{out:?}");
        }
    }
}

#[test]
fn pid_namespace_forks_unless_no_fork() {
    if !need_root() {
        return;
    }
    let (_bg, pid) = all_ns_target();
    let p = pid.to_string();
    let out = Cmd::tool("nsenter")
        .args(["-t", &p, "-p", "sh", "-c", "grep NSpid /proc/self/status"])
        .run();
    out.ok();
    // Host PID and PID inside the target's namespace: two levels.
    assert_eq!(out.out().split_whitespace().count(), 3, "{out:?}");
    let out = Cmd::tool("nsenter")
        .args(["-t", &p, "-p", "-F", "sh", "-c"])
        .arg("stat -L -c %i /proc/$$/ns/pid /proc/$$/ns/pid_for_children")
        .run();
    out.ok();
    let inos: Vec<u64> = out
        .stdout
        .lines()
        .map(|l| l.parse().expect("ino"))
        .collect();
    assert_eq!(
        inos[0],
        ns_ino(None, "pid"),
        "-F: the command itself stays:{out:?}"
    );
    assert_eq!(
        inos[1],
        ns_ino(Some(pid), "pid"),
        "-F: its children go in:{out:?}"
    );
}

#[test]
fn warns_when_given_the_unshare_parent() {
    if !need_root() {
        return;
    }
    // util-linux unshare -p without -f: the parent's children go in the new PID namespace.
    let mut bg = Cmd::new("unshare")
        .args(["-p", "sh", "-c", "sleep 60 & echo ready; wait"])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let parent = bg.pid();
    // The sh that unshare exec'd forks sleep into the new PID namespace.
    let child = child_of(parent);
    let out = Cmd::tool("nsenter")
        .args(["-t", &parent.to_string(), "-p", "true"])
        .run();
    out.ok()
        .stderr_has("nsenter: warning:")
        .stderr_has(&format!("use -t {child}"));
    // The child is where the namespace is; no warning there.
    let out = Cmd::tool("nsenter")
        .args(["-t", &child.to_string(), "-p", "true"])
        .run();
    out.ok();
    assert!(!out.stderr.contains("warning"), "{out:?}");
}

#[test]
fn from_dir_and_persisted_files() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsenter-from");
    for k in ["net", "uts", "ipc"] {
        std::fs::write(dir.path().join(k), b"").expect("touch");
    }
    let d = dir.path();
    let _mounts = FileMounts(["net", "uts", "ipc"].iter().map(|k| d.join(k)).collect());
    Cmd::new("unshare")
        .arg(format!("--net={}", d.join("net").display()))
        .arg(format!("--uts={}", d.join("uts").display()))
        .arg(format!("--ipc={}", d.join("ipc").display()))
        .arg("true")
        .run()
        .ok();
    let ino = |k: &str| harness::ns_id(None, k).1;
    let file_ino = |k: &str| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(d.join(k)).expect("stat").ino()
    };
    let out = Cmd::tool("nsenter")
        .arg(format!("--from={}", d.display()))
        .args(["sh", "-c", PRINT_NS])
        .run();
    out.ok();
    for (k, i) in parse_ns(&out.stdout) {
        let want = if ["net", "uts", "ipc"].contains(&k.as_str()) {
            file_ino(&k)
        } else {
            ino(&k)
        };
        assert_eq!(i, want, "{k}:{out:?}");
    }
    // One file alone, and a file overriding --from.
    let out = Cmd::tool("nsenter")
        .arg(format!("--uts={}", d.join("uts").display()))
        .args(["stat", "-L", "-c", "%i", "/proc/self/ns/uts"])
        .run();
    assert_eq!(out.ok().out(), file_ino("uts").to_string());
    let out = Cmd::tool("nsenter")
        .arg(format!("--from={}", d.display()))
        .arg("--uts=/proc/self/ns/uts")
        .args(["stat", "-L", "-c", "%i", "/proc/self/ns/uts"])
        .run();
    assert_eq!(out.ok().out(), ns_ino(None, "uts").to_string());
}

#[test]
fn bare_net_name_means_run_netns() {
    if !need_root_and(&["ip"]) {
        return;
    }
    let netns = Netns::add("nsutils-nsenter");
    let name = netns.name();
    let want = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(netns.path()).expect("stat netns").ino()
    };
    let out = Cmd::tool("nsenter")
        .arg(format!("--netns={name}"))
        .args(["stat", "-L", "-c", "%i", "/proc/self/ns/net"])
        .run();
    assert_eq!(out.ok().out(), want.to_string());
}

#[test]
fn rootless_enters_its_own_user_namespace() {
    if !need_rootless() {
        return;
    }
    let mut target = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "-n", "-u", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(target.read_line(), "ready");
    let pid = target.pid().to_string();
    // The target's user namespace through the pidfd, then a namespace file owned by it
    // (entered after the user namespace: an unprivileged caller gains its rights there).
    let net_file = format!("--net=/proc/{pid}/ns/net");
    for args in [
        vec!["-U", "-n", "-u"],
        vec!["-a"],
        vec!["-U", "-u", net_file.as_str()],
    ] {
        let out = Cmd::tool("nsenter")
            .as_nobody()
            .args(["-t", &pid])
            .args(&args)
            .args(["sh", "-c", "id -u; stat -L -c %i /proc/self/ns/net"])
            .run();
        out.ok();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines[0], "0", "{out:?}");
        assert_eq!(
            lines[1].parse::<u64>().ok(),
            Some(ns_ino(Some(target.pid()), "net"))
        );
    }
}

#[test]
fn rootless_enters_a_bubblewrap_sandbox() {
    if !need_rootless() {
        return;
    }
    if !harness::have("bwrap") {
        return skip("bwrap (bubblewrap) is not installed");
    }
    let mut bg = Cmd::new("bwrap")
        .as_nobody()
        .args(["--unshare-all", "--dev", "/dev", "--ro-bind", "/", "/"])
        .args(["sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    // bwrap forks: the sandboxed command is its child.
    let pid = child_of(bg.pid());
    let pid = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()
        .and_then(|c| c.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(pid);
    let out = Cmd::tool("nsenter")
        .as_nobody()
        .args(["-t", &pid.to_string(), "-a", "sh", "-c", PRINT_NS])
        .run();
    out.ok();
    let got = parse_ns(&out.stdout);
    assert_eq!(got.len(), KINDS.len(), "{out:?}");
    for (k, ino) in got {
        assert_eq!(ino, ns_ino(Some(pid), &k), "{k}:{out:?}");
    }
    // bwrap maps only the user's own id: we become what the sandbox is, not uid 0.
    let out = Cmd::tool("nsenter")
        .as_nobody()
        .args(["-t", &pid.to_string(), "-a", "id", "-u"])
        .run();
    assert_eq!(out.ok().out(), "65534");
}

#[test]
fn exited_target_is_never_entered() {
    // A zombie: its PID exists, its namespaces are gone. sh forks `true` and then execs
    // sleep, which never reaps it.
    let mut bg = Cmd::new("sh")
        .args(["-c", "true & echo $!; exec sleep 60"])
        .spawn();
    let zombie: i32 = bg.read_line().parse().expect("pid");
    let deadline = Instant::now() + Duration::from_secs(20);
    while status_field(zombie, "State").is_some_and(|s| !s.starts_with('Z')) {
        assert!(Instant::now() < deadline, "no zombie");
        std::thread::sleep(Duration::from_millis(5));
    }
    bad_input(&["-t", &zombie.to_string(), "-n"], "nsenter: cannot open");
    bad_input(&["-t", &zombie.to_string(), "-a"], "nsenter: ");
}

#[test]
fn pid_colon_inode_must_match() {
    if !need_root() {
        return;
    }
    if !harness::have("python3") {
        return skip("python3 is not installed");
    }
    let (_bg, pid) = all_ns_target();
    let ino = pidfs_inode(pid);
    let out = Cmd::tool("nsenter")
        .args([
            "-t",
            &format!("{pid}:{ino}"),
            "-n",
            "stat",
            "-L",
            "-c",
            "%i",
        ])
        .arg("/proc/self/ns/net")
        .run();
    assert_eq!(out.ok().out(), ns_ino(Some(pid), "net").to_string());
    bad_input(
        &["-t", &format!("{pid}:{}", ino + 1), "-n"],
        &format!("process {pid} has pidfs inode {ino}, not {}", ino + 1),
    );
}

/// A target in a user namespace with ids 0-99 mapped to themselves (written from outside:
/// root may), running `sleep` through `shell` (a command ending in `sh -c`) once mapped.
fn mapped_user_target(shell: &str) -> Bg {
    let mut bg = Cmd::new("unshare")
        .args(["-U", "sh", "-c"])
        .arg(format!(
            "echo ready; until grep -q . /proc/$$/gid_map; do sleep 0.01; done; \
             exec {shell} 'echo mapped; exec sleep 60'"
        ))
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    std::fs::write(format!("/proc/{}/uid_map", bg.pid()), "0 0 100\n").expect("uid_map");
    std::fs::write(format!("/proc/{}/gid_map", bg.pid()), "0 0 100\n").expect("gid_map");
    assert_eq!(bg.read_line(), "mapped");
    bg
}

#[test]
fn credentials_after_entering_a_user_namespace() {
    if !need_root() {
        return;
    }
    // The target runs as 5:6 inside.
    let bg = mapped_user_target("setpriv --reuid=5 --regid=6 --clear-groups sh -c");
    let p = bg.pid().to_string();
    let ids = "echo $(id -u) $(id -g) [$(id -G)]";
    let run = |extra: &[&str]| {
        let out = Cmd::tool("nsenter")
            .args(["-t", &p, "-U"])
            .args(extra)
            .args(["sh", "-c", ids])
            .run();
        out.ok();
        out.out().to_string()
    };
    assert_eq!(run(&[]), "0 0 [0]");
    assert_eq!(run(&["-S", "7", "-G", "8"]), "7 8 [8]");
    assert_eq!(run(&["-S", "follow", "-G", "follow"]), "5 6 [6]");
    assert_eq!(run(&["-S", "daemon", "-G", "daemon"]), "1 1 [1]");
    // Root's ids are mapped there (0-99), so they show as themselves, groups kept.
    let out = Cmd::tool("nsenter")
        .args(["-t", &p, "-U", "--preserve-credentials", "sh", "-c"])
        .arg("grep -E '^(Uid|Groups)' /proc/self/status")
        .run();
    out.ok().stdout_has("Uid:\t0\t0\t0\t0");
}

#[test]
fn preserve_credentials_and_keep_caps() {
    if !need_root() {
        return;
    }
    // A user namespace with no map: our uid 0 is unmapped there.
    let mut bg = Cmd::new("unshare")
        .args(["-U", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let p = bg.pid().to_string();
    let capeff = |extra: &[&str]| -> u64 {
        let out = Cmd::tool("nsenter")
            .args(["-t", &p, "-U", "--preserve-credentials"])
            .args(extra)
            .args(["grep", "CapEff", "/proc/self/status"])
            .run();
        out.ok();
        let hex = out.out().split_whitespace().nth(1).expect("CapEff value");
        u64::from_str_radix(hex, 16).expect("hex")
    };
    assert_eq!(capeff(&[]), 0, "an unmapped uid loses its caps on exec");
    assert_ne!(capeff(&["--keep-caps"]), 0, "--keep-caps keeps them");
    // Without --preserve-credentials, uid 0 is not mapped: a clear error.
    let out = Cmd::tool("nsenter").args(["-t", &p, "-U", "true"]).run();
    out.code_is(125)
        .stderr_has("is mapped in the user namespace");
}

#[test]
fn exit_codes_and_signals_are_mirrored() {
    if !need_root() {
        return;
    }
    let (_bg, pid) = all_ns_target();
    let p = pid.to_string();
    for fork in [&["-p"][..], &["-n"][..]] {
        let out = Cmd::tool("nsenter")
            .args(["-t", &p])
            .args(fork)
            .args(["sh", "-c", "exit 7"])
            .run();
        out.code_is(7);
        let out = Cmd::tool("nsenter")
            .args(["-t", &p])
            .args(fork)
            .args(["sh", "-c", "kill -TERM $$"])
            .run();
        assert_eq!(out.signal(), Some(15), "{out:?}");
        Cmd::tool("nsenter")
            .args(["-t", &p])
            .args(fork)
            .arg("/nonexistent/command")
            .run()
            .code_is(127)
            .stderr_has("nsenter: failed to execute /nonexistent/command");
        Cmd::tool("nsenter")
            .args(["-t", &p])
            .args(fork)
            .arg("/etc/passwd")
            .run()
            .code_is(126);
    }
    // A signal sent to nsenter reaches the forked command.
    let mut bg = Cmd::tool("nsenter")
        .args(["-t", &p, "-p", "sh", "-c"])
        .arg("trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.1; done")
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    bg.signal(libc::SIGTERM);
    let out = bg.wait(Duration::from_secs(20));
    out.code_is(3).stdout_has("got TERM");
}

#[test]
fn no_stray_fd_reaches_the_command() {
    if !need_root() {
        return;
    }
    let (_bg, pid) = all_ns_target();
    // What ls sees when the test starts it directly: 0, 1, 2, its own directory fd, and
    // whatever the test runner hands on to every child (fds the caller gives pass on).
    let nums = |s: &str| {
        let mut v: Vec<u32> = s
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        v.sort_unstable();
        v
    };
    let base = Cmd::new("ls").arg("/proc/self/fd").run();
    let base = nums(&base.ok().stdout);
    assert!(base.starts_with(&[0, 1, 2, 3]), "{base:?}");
    for args in [&["-a"][..], &["-n", "-r", "-w", "-e"][..]] {
        let out = Cmd::tool("nsenter")
            .args(["-t", &pid.to_string()])
            .args(args)
            .args(["ls", "/proc/self/fd"])
            .run();
        out.ok();
        assert_eq!(nums(&out.stdout), base, "{out:?}");
    }
}

#[test]
fn root_wd_wdns_and_env() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsenter-wd");
    let d = dir.path().display().to_string();
    let mut bg = Cmd::new("sh")
        .env("NSUTILS_MARK", "from-target")
        .args(["-c", &format!("cd {d} && echo ready && exec sleep 60")])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let p = bg.pid().to_string();
    // No namespace option at all (util-linux 2.41 refuses this).
    let out = Cmd::tool("nsenter").args(["-t", &p, "-w", "pwd"]).run();
    assert_eq!(out.ok().out(), d);
    let out = Cmd::tool("nsenter")
        .args(["-t", &p, "-r", "-w", "pwd"])
        .run();
    assert_eq!(out.ok().out(), d);
    let out = Cmd::tool("nsenter")
        .args(["-t", &p, "-r=/", "-W", "/proc", "pwd"])
        .run();
    assert_eq!(out.ok().out(), "/proc");
    // -r=DIR: the command sees DIR as /.
    std::fs::create_dir(dir.path().join("inner")).expect("mkdir");
    let out = Cmd::tool("nsenter")
        .arg(format!("--root={d}"))
        .args(["-w=/", "/bin/sh", "-c", "true"])
        .run();
    // No /bin/sh in the empty new root: exec fails, which proves the chroot happened.
    out.code_is(127);
    let out = Cmd::tool("nsenter")
        .args(["-t", &p, "-e", "sh", "-c", "echo $NSUTILS_MARK"])
        .run();
    assert_eq!(out.ok().out(), "from-target");
    let out = Cmd::tool("nsenter")
        .args(["-t", &p, "sh", "-c", "echo ${NSUTILS_MARK:-unset}"])
        .run();
    assert_eq!(out.ok().out(), "unset");
}

/// A cgroup v2 directory, removed on drop (after its processes are gone).
struct CgroupDir(PathBuf);
impl Drop for CgroupDir {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::remove_dir(&self.0).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn cgroup2_mount() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        if post.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        pre.split_whitespace().nth(4).map(PathBuf::from)
    })
}

#[test]
fn join_cgroup() {
    if !need_root() {
        return;
    }
    let Some(mnt) = cgroup2_mount() else {
        return skip("no cgroup2 mount");
    };
    let name = format!("nsutils-nsenter-{}", std::process::id());
    let cg = CgroupDir(mnt.join(&name));
    std::fs::create_dir(&cg.0).expect("mkdir cgroup");
    // The target moves itself into the cgroup, then sleeps there.
    let mut bg = Cmd::new("sh")
        .args([
            "-c",
            &format!(
                "echo 0 > {}/cgroup.procs && echo ready && exec sleep 60",
                cg.0.display()
            ),
        ])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let out = Cmd::tool("nsenter")
        .args([
            "-t",
            &bg.pid().to_string(),
            "-c",
            "cat",
            "/proc/self/cgroup",
        ])
        .run();
    out.ok().stdout_has(&format!("0::/{name}"));
    drop(bg);
}

#[test]
fn net_socket_enters_the_sockets_namespace() {
    if !need_root() {
        return;
    }
    // A UDP socket made in our network namespace, held by a process that then moved to a
    // new one: -N follows the socket, not the process.
    let mut bg = Cmd::new("bash")
        .args([
            "-c",
            "exec 3<>/dev/udp/127.0.0.1/9 && exec unshare -n sh -c 'echo ready; exec sleep 60'",
        ])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let p = bg.pid().to_string();
    assert_ne!(ns_ino(Some(bg.pid()), "net"), ns_ino(None, "net"));
    let out = Cmd::tool("nsenter")
        .args([
            "-t",
            &p,
            "-N",
            "3",
            "stat",
            "-L",
            "-c",
            "%i",
            "/proc/self/ns/net",
        ])
        .run();
    assert_eq!(out.ok().out(), ns_ino(None, "net").to_string());
    bad_input(&["-t", &p, "-N", "0"], "file descriptor 0 of process");
    bad_input(&["-t", &p, "-N", "77"], "cannot get file descriptor 77");
}

#[test]
fn user_parent_enters_the_outer_user_namespace() {
    if !need_root() {
        return;
    }
    let mut bg = Cmd::new("unshare")
        .args([
            "-r",
            "unshare",
            "-r",
            "-n",
            "sh",
            "-c",
            "echo ready; exec sleep 60",
        ])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let inner = bg.pid();
    // Both unshares exec, so the pid is the same; find the outer user namespace by
    // asking its owner: the parent of the inner one is what util-linux's first unshare made.
    let out = Cmd::tool("nsenter")
        .args(["-t", &inner.to_string(), "--user-parent", "-n", "sh", "-c"])
        .arg("stat -L -c %i /proc/self/ns/user /proc/self/ns/net")
        .run();
    out.ok();
    let got: Vec<u64> = out
        .stdout
        .lines()
        .map(|l| l.parse().expect("ino"))
        .collect();
    assert_eq!(got[1], ns_ino(Some(inner), "net"), "{out:?}");
    // The kernel's own answer: NS_GET_PARENT (0xb702) of the target's user namespace.
    let parent = Cmd::new("python3")
        .args([
            "-c",
            &format!(
                "import os, fcntl; fd = os.open('/proc/{inner}/ns/user', os.O_RDONLY); \
             print(os.fstat(fcntl.ioctl(fd, 0xb702)).st_ino)"
            ),
        ])
        .run();
    let parent: u64 = parent.ok().out().parse().expect("parent inode");
    assert_eq!(got[0], parent, "{out:?}");
    assert_ne!(got[0], ns_ino(Some(inner), "user"), "{out:?}");
    assert_ne!(got[0], ns_ino(None, "user"), "{out:?}");
}

#[test]
fn bad_input_changes_nothing() {
    bad_input(
        &["-t", "2147483647", "-n"],
        "nsenter: cannot open process 2147483647: No such process",
    );
    bad_input(
        &["--net=/etc/passwd"],
        "nsenter: /etc/passwd is not a namespace file",
    );
    bad_input(
        &["--net=/proc/self/ns/uts"],
        "nsenter: /proc/self/ns/uts is a uts namespace, not a net namespace",
    );
    bad_input(&["-t", "1", "-w", "-W", "/"], "cannot be used with");
    bad_input(
        &["-n"],
        "nsenter: --net needs a file (--net=FILE) or a target process (-t PID)",
    );
    bad_input(
        &["--net=no-such-netns-here"],
        "nsenter: cannot open no-such-netns-here: No such file or directory",
    );
    bad_input(
        &["--netns=no-such-netns-here"],
        "nsenter: cannot open /run/netns/no-such-netns-here: No such file or directory",
    );
    let empty = TempDir::new("nsenter-empty");
    bad_input(
        &[&format!("--from={}", empty.path().display())],
        "holds no namespace files",
    );
    bad_input(&["-t", "1", "-Z"], "SELinux is not enabled");
}

#[test]
fn proc_ns_not_permitted_is_a_clear_error() {
    if !need_root() {
        return;
    }
    // A root process that uid 65534 may not look into.
    let mut bg = Cmd::new("sh")
        .args(["-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let dir = TempDir::new("nsenter-eperm");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let m = marker(&dir);
    let out = Cmd::tool("nsenter")
        .as_nobody()
        .args(["-t", &bg.pid().to_string(), "-n", "touch"])
        .arg(&m)
        .run();
    out.code_is(125)
        .stderr_has(&format!("nsenter: cannot open /proc/{}/ns/net", bg.pid()));
    assert!(!m.exists());
}

#[test]
fn eperm_names_the_owning_user_namespace() {
    if !need_root() {
        return;
    }
    if !need_rootless() {
        return;
    }
    // A network namespace owned by a new user namespace, persisted in a file uid 65534
    // can open but has no privilege over.
    let dir = TempDir::new("nsenter-eperm-owner");
    let net = dir.path().join("net");
    std::fs::write(&net, b"").expect("touch");
    let mut bg = Cmd::new("unshare")
        .args(["-U", "-r", "-n", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let _mounts = FileMounts(vec![net.clone()]);
    Cmd::new("mount")
        .arg("--bind")
        .arg(format!("/proc/{}/ns/net", bg.pid()))
        .arg(&net)
        .run()
        .ok();
    drop(bg);
    let out = Cmd::tool("nsenter")
        .as_nobody()
        .arg(format!("--net={}", net.display()))
        .arg("true")
        .run();
    out.code_is(125)
        .stderr_has(&format!(
            "nsenter: cannot enter net namespace {}: Operation not permitted",
            net.display()
        ))
        .stderr_has("owned by a user namespace you are not in");
}

#[test]
fn all_skips_namespaces_that_are_already_ours() {
    if !need_root() {
        return;
    }
    // Only the network namespace differs; -a must not try to re-enter our user namespace
    // (EINVAL) and must keep our credentials.
    let mut bg = Cmd::new("unshare")
        .args(["-n", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let out = Cmd::tool("nsenter")
        .args(["-t", &bg.pid().to_string(), "-a", "sh", "-c"])
        .arg("id -u; id -G; stat -L -c %i /proc/self/ns/net /proc/self/ns/user")
        .run();
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "0", "{out:?}");
    assert_eq!(
        lines[2],
        ns_ino(Some(bg.pid()), "net").to_string(),
        "{out:?}"
    );
    assert_eq!(lines[3], ns_ino(None, "user").to_string(), "{out:?}");
    // Explicitly asking for our own user namespace is not an error either.
    Cmd::tool("nsenter")
        .args(["-t", &bg.pid().to_string(), "-U", "-n", "true"])
        .run()
        .ok();
}

/// `--keep-caps` through a uid change from 0 in the user namespace entered: `-S 7` keeps
/// the capabilities only with it.
#[test]
fn keep_caps_through_a_uid_change() {
    if !need_root() {
        return;
    }
    let bg = mapped_user_target("sh -c");
    let p = bg.pid().to_string();
    let uid_caps = |extra: &[&str]| {
        Cmd::tool("nsenter")
            .args(["-t", &p, "-U", "-S", "7", "-G", "8"])
            .args(extra)
            .args([
                "sh",
                "-c",
                "echo $(id -u) $(grep CapEff /proc/self/status | cut -f2)",
            ])
            .run()
            .ok()
            .out()
            .to_string()
    };
    assert_eq!(uid_caps(&[]), "7 0000000000000000");
    let kept = uid_caps(&["--keep-caps"]);
    assert!(kept.starts_with("7 "), "{kept}");
    assert_ne!(kept, "7 0000000000000000");
}

/// `-G` without entering a user namespace, unprivileged: with no supplementary groups
/// there is nothing to drop (as util-linux); with groups nsenter refuses rather than run
/// the command with them (util-linux 2.38 keeps them silently).
#[test]
fn setgid_unprivileged_drops_the_groups_or_refuses() {
    if !need_root() {
        return;
    }
    let me = std::process::id().to_string();
    for prog in [harness::bin_for_nobody("nsenter"), PathBuf::from("nsenter")] {
        let out = Cmd::new(&prog)
            .as_nobody()
            .args(["-t", &me, "-G", "65534", "id", "-G"])
            .run();
        assert_eq!(out.ok().out(), "65534", "{prog:?}");
    }
    Cmd::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--groups=5,6", "--"])
        .arg(harness::bin_for_nobody("nsenter"))
        .args(["-t", &me, "-G", "65534", "true"])
        .run()
        .code_is(125)
        .stderr_has("nsenter: cannot drop supplementary groups: Operation not permitted");
}
