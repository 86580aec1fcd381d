//! nsenter's `--from=DIR` combined with a target and with the other sources of a kind: the
//! more specific option wins (a namespace option over `--from`'s files over `-a`'s target).
//! The oracle is the kernel: the inodes of `/proc/self/ns/*` of the command.

use std::collections::BTreeMap;
use std::path::Path;

use harness::{need_root, ns_ino, parse_ns, Bg, Cmd, TempDir, KINDS, PRINT_NS};

/// Where a kind's namespace is expected to come from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Src {
    Ours,
    Target,
    Dir,
}

/// The namespaces of each source, by kind.
struct Sources {
    target: i32,
    dir: BTreeMap<String, u64>,
}

impl Sources {
    fn ino(&self, kind: &str, from: Src) -> u64 {
        match from {
            Src::Ours => ns_ino(None, kind),
            Src::Target => ns_ino(Some(self.target), kind),
            Src::Dir => self.dir[kind],
        }
    }
}

/// A target in new namespaces of every kind but user, made by our nsrun as root, so that
/// `-a` enters seven kinds and none is ours by accident. Returns the guard and the PID of
/// the process inside (nsrun's child).
fn target() -> (Bg, i32) {
    harness::nsrun_target(&["-m", "-u", "-i", "-n", "-p", "-C", "-T"])
}

/// `nsrun --persist=DIR` of a new ipc, net and uts namespace; their inodes by kind.
fn persisted(dir: &Path) -> BTreeMap<String, u64> {
    Cmd::tool("nsrun")
        .arg(format!("--persist={}", dir.display()))
        .args(["-i", "-n", "-u", "true"])
        .run()
        .ok();
    ["ipc", "net", "uts"]
        .iter()
        .map(|k| {
            let md = std::fs::metadata(dir.join(k)).expect("persisted file");
            (k.to_string(), std::os::unix::fs::MetadataExt::ino(&md))
        })
        .collect()
}

/// Run nsenter with `args` and check where each of the eight kinds came from: `from` for
/// the kinds it names, else `rest`.
#[track_caller]
fn check(src: &Sources, args: &[&str], from: &[(&str, Src)], rest: Src) {
    let out = Cmd::tool("nsenter")
        .args(args)
        .args(["sh", "-c", PRINT_NS])
        .run();
    out.ok();
    let got = parse_ns(&out.stdout);
    assert_eq!(got.len(), KINDS.len(), "{args:?}:{out:?}");
    for (k, ino) in got {
        let want = from
            .iter()
            .find(|(kind, _)| *kind == k)
            .map_or(rest, |(_, f)| *f);
        // The target's user namespace is ours: -a leaves it out.
        let want = if k == "user" { Src::Ours } else { want };
        assert_eq!(
            ino,
            src.ino(&k, want),
            "{args:?}: {k} from {want:?}:{out:?}"
        );
    }
}

#[test]
fn namespace_options_win_over_from_and_from_over_all() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsenter-from-prec");
    let set = dir.path().join("set");
    let (_bg, pid) = target();
    let src = Sources {
        target: pid,
        dir: persisted(&set),
    };
    for (k, ino) in &src.dir {
        assert_ne!(*ino, ns_ino(Some(pid), k), "{k}: the set is the target's");
        assert_ne!(*ino, ns_ino(None, k), "{k}: the set is ours");
    }
    let (p, d) = (pid.to_string(), format!("--from={}", set.display()));
    let (p, d) = (p.as_str(), d.as_str());
    let tnet = format!("--net=/proc/{pid}/ns/net");
    use Src::*;
    let dir3 = [("ipc", Dir), ("net", Dir), ("uts", Dir)];
    // --from alone, and with a target but no namespace option: the directory's.
    check(&src, &[d], &dir3, Ours);
    check(&src, &["-t", p, d], &dir3, Ours);
    // A bare namespace option: the target's with -t, the directory's without.
    check(
        &src,
        &["-t", p, d, "-n"],
        &[("ipc", Dir), ("net", Target), ("uts", Dir)],
        Ours,
    );
    check(&src, &[d, "-n"], &dir3, Ours);
    // --KIND=FILE: that file, with or without a target.
    check(
        &src,
        &[d, &tnet],
        &[("ipc", Dir), ("net", Target), ("uts", Dir)],
        Ours,
    );
    let own = [("ipc", Dir), ("net", Ours), ("uts", Dir)];
    check(&src, &["-t", p, d, "--net=/proc/self/ns/net"], &own, Ours);
    // -a: the target's for the kinds the directory lacks; a namespace option over both.
    check(&src, &["-t", p, "-a", d], &dir3, Target);
    let net = [("ipc", Dir), ("net", Target), ("uts", Dir)];
    check(&src, &["-t", p, "-a", d, "-n"], &net, Target);
    let uts = [("ipc", Dir), ("net", Dir), ("uts", Ours)];
    check(
        &src,
        &["-t", p, "-a", d, "--uts=/proc/self/ns/uts"],
        &uts,
        Target,
    );
}

#[test]
fn bare_option_without_target_needs_the_kind_in_from() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsenter-from-bare");
    let set = dir.path().join("set");
    persisted(&set);
    let marker = dir.path().join("command-ran");
    let out = Cmd::tool("nsenter")
        .arg(format!("--from={}", set.display()))
        .args(["-p", "touch"])
        .arg(&marker)
        .run();
    out.code_is(125)
        .stderr_has("nsenter: --pid: no pid file in the --from directory and no target");
    assert!(!marker.exists(), "the command ran:{out:?}");
}

#[test]
fn user_parent_of_from_user_without_target() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsenter-from-userparent");
    let set = dir.path().join("set");
    Cmd::tool("nsrun")
        .arg(format!("--persist={}", set.display()))
        .args(["-U", "true"])
        .run()
        .ok();
    // The parent of the saved user namespace is ours: nothing to enter, and no error.
    let out = Cmd::tool("nsenter")
        .arg(format!("--from={}", set.display()))
        .args(["-U", "--user-parent", "stat", "-L", "-c", "%i"])
        .arg("/proc/self/ns/user")
        .run();
    assert_eq!(out.ok().out(), ns_ino(None, "user").to_string());
}
