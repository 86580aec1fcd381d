//! nsrun persisting namespaces (`--uts=FILE`, `--netns=NAME`, `--persist=DIR`, `--owner`) and
//! bad input: one line, exit 125, nothing left behind. The oracle is mountinfo, the namespace
//! inodes and util-linux's nsenter / iproute2's `ip netns` entering what was persisted.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use harness::{mounts_under, need_rootless, processes_mentioning, Cmd, Netns, TempDir};

const UL_NSENTER: &str = "/usr/bin/nsenter";

fn root() -> bool {
    harness::need_root_and(&[UL_NSENTER, "ip"])
}

fn ino(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .ino()
}

#[test]
fn persisted_uts_outlives_the_command() {
    if !root() {
        return;
    }
    let dir = TempDir::private_mount("nsrun-uts", 0o755);
    let file = dir.path().join("uts");
    Cmd::tool("nsrun")
        .arg(format!("--uts={}", file.display()))
        .args(["--hostname=persisted", "true"])
        .run()
        .ok();
    let out = Cmd::new(UL_NSENTER)
        .arg(format!("--uts={}", file.display()))
        .arg("hostname")
        .run();
    out.ok();
    assert_eq!(out.out(), "persisted");
}

#[test]
fn netns_name_works_with_ip_netns_and_nsenter() {
    if !root() {
        return;
    }
    let ns = Netns::new("nsrun-ipnetns");
    let out = Cmd::tool("nsrun")
        .arg(format!("--netns={}", ns.name()))
        .args(["stat", "-L", "-c", "%i", "/proc/self/ns/net"])
        .run();
    out.ok();
    let inside: u64 = out.out().parse().expect("inode");
    assert_eq!(
        ino(&ns.path()),
        inside,
        "the bind mount is the command's namespace"
    );
    // The same mount setup as `ip netns add`: /run/netns is a shared mount.
    let info = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let run_netns = info
        .lines()
        .rfind(|l| l.split_whitespace().nth(4) == Some("/run/netns"))
        .expect("/run/netns is a mount point");
    assert!(run_netns.contains(" shared:"), "{run_netns}");
    let list = Cmd::new("ip").args(["netns", "list"]).run();
    list.ok().stdout_has(ns.name());
    let out = Cmd::new("ip")
        .args(["netns", "exec", ns.name(), "ip", "-o", "link", "show", "lo"])
        .run();
    out.ok();
    assert!(out.stdout.contains(",UP"), "lo was brought up:{out:?}");
    let out = Cmd::new(UL_NSENTER)
        .arg(format!("--net={}", ns.path().display()))
        .args(["stat", "-L", "-c", "%i", "/proc/self/ns/net"])
        .run();
    out.ok();
    assert_eq!(out.out().parse::<u64>().ok(), Some(inside));
    // The name is taken now: a second nsrun refuses, and leaves it alone.
    Cmd::tool("nsrun")
        .arg(format!("--netns={}", ns.name()))
        .arg("true")
        .run()
        .code_is(125)
        .stderr_has("already exists");
    assert_eq!(ino(&ns.path()), inside);
}

#[test]
fn persist_dir_holds_every_kind_created() {
    if !root() {
        return;
    }
    let dir = TempDir::private_mount("nsrun-persist", 0o755);
    let set = dir.path().join("set");
    let info = dir.path().join("info");
    let script = format!(
        "exec {} -U -r -m -u -i -n -p -C -T --persist={} --info-fd=3 true 3>{}",
        harness::bin("nsrun").display(),
        set.display(),
        info.display()
    );
    Cmd::new("sh").args(["-c", &script]).run().ok();
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&info).expect("info")).expect("json");
    for kind in harness::KINDS {
        let path = set.join(kind);
        let want = info[format!("{kind}-namespace")].as_u64();
        assert_eq!(Some(ino(&path)), want, "{kind}: {info}");
    }
    // Enter the persisted set with util-linux's nsenter (user first, then the rest).
    let p = |k: &str| format!("{}", set.join(k).display());
    let out = Cmd::new(UL_NSENTER)
        .arg(format!("--user={}", p("user")))
        .arg(format!("--uts={}", p("uts")))
        .arg(format!("--net={}", p("net")))
        .arg(format!("--mount={}", p("mnt")))
        .args([
            "sh",
            "-c",
            "id -u; stat -L -c %i /proc/self/ns/uts /proc/self/ns/net",
        ])
        .run();
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "0", "root through the persisted map:{out:?}");
    assert_eq!(lines[1].parse::<u64>().ok(), Some(ino(&set.join("uts"))));
    assert_eq!(lines[2].parse::<u64>().ok(), Some(ino(&set.join("net"))));
}

#[test]
fn owner_owns_the_user_namespace() {
    if !root() || !need_rootless() {
        return;
    }
    let dir = TempDir::private_mount("nsrun-owner", 0o755);
    let enter_as_nobody = |file: &Path| {
        Cmd::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                UL_NSENTER,
            ])
            .arg(format!("--user={}", file.display()))
            .args(["--preserve-credentials", "true"])
            .run()
    };
    // Owned by 65534: nobody holds every capability in it from outside, so may enter it.
    // With -r the owner's ids are the ones mapped (it is who creates the namespace).
    let owned = dir.path().join("owned");
    let out = Cmd::tool("nsrun")
        .arg(format!("--user={}", owned.display()))
        .args([
            "--owner=65534:65534",
            "-r",
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map",
        ])
        .run();
    out.ok();
    let words: Vec<&str> = out.stdout.split_whitespace().collect();
    assert_eq!(words, ["0", "0", "65534", "1"], "{out:?}");
    enter_as_nobody(&owned).ok();
    // Owned by root: nobody may not.
    let rooted = dir.path().join("rooted");
    Cmd::tool("nsrun")
        .arg(format!("--user={}", rooted.display()))
        .arg("true")
        .run()
        .ok();
    assert_ne!(enter_as_nobody(&rooted).code(), 0);
}

/// Run nsrun with bad input: exit 125, one `nsrun:` line (plus maybe a hint or clap's
/// "Try" line), containing `needle`.
fn bad(c: Cmd, needle: &str) {
    let out = c.run();
    out.code_is(125).stderr_has(needle);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("nsrun: ") && lines.len() <= 2,
        "one line:{out:?}"
    );
}

#[test]
fn bad_input_is_one_line_125_and_changes_nothing() {
    if !root() {
        return;
    }
    let dir = TempDir::private_mount("nsrun-bad", 0o755);
    let d = dir.path();
    let uts = d.join("uts");
    let pid = d.join("pid");
    let with_persist = || {
        Cmd::tool("nsrun")
            .arg(format!("--uts={}", uts.display()))
            .arg(format!("--pid-file={}", pid.display()))
    };
    let n = || Cmd::tool("nsrun");
    bad(n().arg("--bogus"), "--bogus");
    bad(
        with_persist().args(["--map-users=1:2", "true"]),
        "invalid id map '1:2'",
    );
    bad(
        with_persist().args(["--map-users=0:100000:10", "--map-users=5:200000:10", "true"]),
        "overlaps",
    );
    bad(
        with_persist().args(["--map-user=no-such-user-x", "true"]),
        "unknown user 'no-such-user-x'",
    );
    bad(
        with_persist().args(["--map-group=no-such-group-x", "true"]),
        "unknown group",
    );
    bad(
        with_persist().args(["--monotonic=10", "true"]),
        "--monotonic needs --time",
    );
    bad(
        with_persist().args(["-r", "--setgroups=allow", "true"]),
        "--setgroups=allow",
    );
    bad(
        with_persist().args(["--init", "true"]),
        "--init needs --pid",
    );
    bad(
        n().args(["--uts=/nonexistent/dir/uts", "true"]),
        "directory /nonexistent/dir does not exist",
    );
    bad(
        with_persist().args(["--root=/etc/passwd", "true"]),
        "not a directory",
    );
    bad(
        with_persist().args(["--block-fd=77", "true"]),
        "file descriptor 77 is not open",
    );
    bad(
        with_persist().args(["--info-fd=77", "true"]),
        "file descriptor 77 is not open",
    );
    bad(
        with_persist().args(["--timeout=soon", "true"]),
        "invalid duration",
    );
    // Failing after the bind mount was made: it is undone, the files we made are gone.
    bad(
        with_persist().args(["-p", "--mount-proc=/nonexistent-dir", "true"]),
        "cannot mount proc on /nonexistent-dir",
    );
    let out = with_persist().args(["-u", "/nonexistent/cmd"]).run();
    out.code_is(127);
    let out = with_persist().args(["-u", "-p", "/nonexistent/cmd"]).run();
    out.code_is(127);
    assert!(
        mounts_under(d)
            .iter()
            .all(|m| m == &d.display().to_string()),
        "{:?}",
        mounts_under(d)
    );
    assert!(
        !uts.exists() && !pid.exists(),
        "persist target or pid file left behind"
    );
    let left = processes_mentioning(&d.display().to_string());
    assert!(left.is_empty(), "processes of ours left: {left:?}");

    if !need_rootless() {
        return;
    }
    // Unmappable: ranges outside nobody's subordinate ids.
    bad(
        n().as_nobody().args(["--map-users=0:0:10", "true"]),
        "not among the subordinate ids",
    );
    // A failing newuidmap is nsrun's failure (125) naming the helper, not "not found".
    let fake = TempDir::new("nsrun-fakemap");
    std::fs::set_permissions(fake.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for h in ["newuidmap", "newgidmap"] {
        let p = fake.path().join(h);
        std::fs::write(&p, "#!/bin/sh\necho 'fake: refused' >&2\nexit 1\n").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let subids = std::fs::read_to_string("/etc/subuid")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("nobody:"));
    if subids {
        let out = n()
            .as_nobody()
            .env("PATH", format!("{}:/usr/bin:/bin", fake.path().display()))
            .args(["--map-users=1:100000:10", "true"])
            .run();
        out.code_is(125)
            .stderr_has("newuidmap")
            .stderr_has("failed (exit status 1)");
    }
}

#[test]
fn persisting_a_mount_namespace_on_a_shared_mount_is_explained() {
    if !root() {
        return;
    }
    // A shared mount with a peer elsewhere (as / has on systemd hosts): a bind mount of a
    // mount namespace file there would propagate, which the kernel refuses. (A shared mount
    // without other peers works: nsrun makes its own copy private before persisting.)
    let dir = TempDir::new("nsrun-shared");
    let peer = TempDir::new("nsrun-shared-peer");
    let d = dir.path().display().to_string();
    let p = peer.path().display();
    Cmd::new("sh")
        .args([
            "-c",
            &format!("mount --bind {d} {d} && mount --make-shared {d} && mount --bind {d} {p}"),
        ])
        .run()
        .ok();
    let target = dir.path().join("mnt");
    let out = Cmd::tool("nsrun")
        .arg(format!("--mount={}", target.display()))
        .arg("true")
        .run();
    out.code_is(125)
        .stderr_has("Invalid argument")
        .stderr_has("is on a shared mount");
    assert!(!target.exists(), "the target we created is removed again");
    assert_eq!(mounts_under(dir.path()), [d]);
}

/// The `/run/netns` mounts seen after naming a network namespace `name` with `tool`, in a
/// mount namespace of its own where `/run/netns` starts as a plain directory; normalised (no
/// mount ids, peer group numbers or inodes). The file is removed again (the directory is the
/// host's).
fn netns_setup_by(tool: &str, name: &str) -> Vec<String> {
    let script = format!(
        "umount -l /run/netns 2>/dev/null; {tool}; grep ' /run/netns' /proc/self/mountinfo; \
         umount /run/netns/{name}; rm -f /run/netns/{name}"
    );
    let out = Cmd::new("unshare").args(["-m", "sh", "-c", &script]).run();
    out.ok();
    out.stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let root = f[3].split(':').next().unwrap_or("");
            let optional: Vec<&str> = f[6..]
                .iter()
                .take_while(|t| **t != "-")
                .map(|t| t.split(':').next().unwrap_or(""))
                .collect();
            let fstype = f.iter().skip_while(|t| **t != "-").nth(1).unwrap_or(&"");
            format!("{root} {} {} {fstype}", f[4], optional.join(","))
        })
        .collect()
}

#[test]
fn run_netns_is_set_up_as_ip_netns_add_does() {
    if !root() {
        return;
    }
    let name = format!("nsrun-setup-{}", std::process::id());
    let nsrun = harness::bin("nsrun");
    let ours = netns_setup_by(&format!("{} --netns={name} true", nsrun.display()), &name);
    let ip = netns_setup_by(&format!("ip netns add {name}"), &name);
    assert_eq!(ours, ip);
    assert_eq!(ours.len(), 2, "{ours:?}");
}
