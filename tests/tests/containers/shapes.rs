//! Issue 12's shapes: a user namespace whose `setgroups` is `deny` plus a `/proc` of its
//! own PID namespace, which nsenter once read as its own after entering (exit 125, "cannot
//! drop supplementary groups"). Each is made by root or by uid 65534 and entered with `-a`
//! by its maker (and, for a rootless one, by root too), side by side with util-linux's
//! nsenter on the same target: both land in the target's namespaces (the kernel's inodes).

use harness::{bin, skip, Cmd, KINDS, NOBODY};

use crate::{kernel_ns, own_kinds, started, tool};
use harness::{parse_ns, PRINT_NS};

/// How a shape is made.
struct Shape {
    /// The command line, up to the command it runs.
    argv: Vec<String>,
    /// Made by uid 65534 (else root).
    rootless: bool,
    /// The uid `-a` gives inside (0, or the maker's own where 0 is not mapped).
    uid: u32,
}

fn shape(argv: &[&str], rootless: bool, uid: u32) -> Shape {
    Shape {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        rootless,
        uid,
    }
}

fn shapes() -> Vec<Shape> {
    let nsrun = bin("nsrun").display().to_string();
    let nsrun_nobody = harness::bin_for_nobody("nsrun").display().to_string();
    let bwrap = [
        "bwrap",
        "--unshare-all",
        "--dev-bind",
        "/",
        "/",
        "--proc",
        "/proc",
    ];
    vec![
        shape(&["unshare", "-Urpfm", "--mount-proc"], false, 0),
        shape(
            &[
                "unshare",
                "--map-user=0",
                "--map-group=0",
                "-pf",
                "--mount-proc",
            ],
            false,
            0,
        ),
        shape(&bwrap, false, 0),
        shape(&[&nsrun, "-r", "--pid", "--mount-proc"], false, 0),
        shape(&[&nsrun_nobody, "-r", "--pid", "--mount-proc"], true, 0),
        shape(&["unshare", "-rpf", "--mount-proc"], true, 0),
        shape(&bwrap, true, NOBODY),
    ]
}

/// util-linux's spelling of "enter every namespace of the target" for `who`: `-a` for
/// root; for uid 65534 the kinds that differ, with `--preserve-credentials` (2.38's `-a`
/// also tries the namespaces it already shares and fails with EPERM on the host's
/// cgroup/time ones, and without `--preserve-credentials` it fails to drop groups where
/// `setgroups` is denied — the very case ours had wrong).
fn anchor_args(pid: i32, nobody: bool) -> Vec<String> {
    if !nobody {
        return vec!["-a".into()];
    }
    let mut args: Vec<String> = own_kinds(pid)
        .into_iter()
        .map(|k| match k {
            "mnt" => "--mount".to_string(),
            k => format!("--{k}"),
        })
        .collect();
    args.push("--preserve-credentials".into());
    args
}

fn check(s: &Shape, pid: i32, nobody: bool) {
    let what = format!(
        "{} entered as {}",
        s.argv.join(" "),
        if nobody { "65534" } else { "root" }
    );
    let t = pid.to_string();
    let ours = tool("nsenter", nobody)
        .args(["-t", &t, "-a", "sh", "-c", &format!("id -u; {PRINT_NS}")])
        .run();
    assert!(ours.status.success(), "{what}: ours failed:{ours:?}");
    let mut lines = ours.stdout.lines();
    // Root entering uid 65534's bubblewrap sandbox becomes what the sandbox is: only 65534
    // is mapped there.
    let uid = if !nobody && s.rootless && s.uid == NOBODY {
        NOBODY
    } else {
        s.uid
    };
    assert_eq!(
        lines.next(),
        Some(uid.to_string().as_str()),
        "{what}:{ours:?}"
    );
    let got = parse_ns(&ours.stdout);
    assert_eq!(got, kernel_ns(pid), "{what}: ours:{ours:?}");
    assert_eq!(got.len(), KINDS.len());

    let mut anchor = Cmd::new("nsenter").args(["-t", &t]);
    if nobody {
        anchor = anchor.as_nobody();
    }
    let mut args = anchor_args(pid, nobody);
    if !nobody && s.rootless && s.uid == NOBODY {
        // util-linux sets gid 0 and fails with EINVAL where it is not mapped: give the ids.
        args.extend([
            "-S".into(),
            NOBODY.to_string(),
            "-G".into(),
            NOBODY.to_string(),
        ]);
    }
    let ul = anchor.args(&args).args(["sh", "-c", PRINT_NS]).run();
    assert!(ul.status.success(), "{what}: util-linux failed:{ul:?}");
    assert_eq!(
        parse_ns(&ul.stdout),
        got,
        "{what}: util-linux and ours differ:{ul:?}"
    );
}

#[test]
fn every_shape_is_entered_by_its_maker_and_by_root() {
    if !harness::is_root() {
        return skip("needs root");
    }
    if !harness::need_rootless() {
        return;
    }
    if !crate::need_tools(&[("unshare", "util-linux"), ("bwrap", "bubblewrap")]) {
        return;
    }
    for s in shapes() {
        let mut cmd = Cmd::new(&s.argv[0])
            .args(&s.argv[1..])
            .args(["sleep", "60"]);
        if s.rootless {
            cmd = cmd.as_nobody();
        }
        let (_bg, pid) = started(cmd.spawn(), "sleep");
        check(&s, pid, s.rootless);
        if s.rootless {
            check(&s, pid, false);
        }
    }
}
