//! The recipes in examples/ run as tests: each script checks kernel facts itself (namespace
//! inodes, PIDs, owners) and exits non-zero on the first failed check; the test adds what
//! the script cannot see from inside — nothing it made is left on the host afterwards.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::{have, is_root, skip, unprivileged_userns_works, Cmd, TempDir};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .join("examples")
}

/// A copy of examples/ that uid 65534 can read, plus the directory of our binaries it can
/// reach (the work tree may sit under a directory only root may enter).
fn world_readable_examples(tmp: &TempDir) -> PathBuf {
    let dst = tmp.path().join("examples");
    std::fs::create_dir_all(&dst).expect("mkdir");
    for e in std::fs::read_dir(examples_dir()).expect("examples/") {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        std::fs::copy(e.path(), &to).expect("copy");
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    for d in [tmp.path(), dst.as_path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dst
}

/// Network namespace names under /run/netns that start with one of `prefixes` (each recipe
/// names its own, so recipes running in parallel do not see each other's).
fn netns_leftovers(prefixes: &[&str]) -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| prefixes.iter().any(|p| n.starts_with(p)))
                .collect()
        })
        .unwrap_or_default()
}

fn run_recipe(script: &str, as_nobody: bool) {
    let tmp = TempDir::new("recipe");
    let dir = world_readable_examples(&tmp);
    let bin_dir = harness::bin_for_nobody("nsrun")
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let mut cmd = Cmd::new("bash")
        .arg(dir.join(script))
        .env("NSUTILS_BIN_DIR", &bin_dir)
        .timeout(Duration::from_secs(180));
    if as_nobody {
        cmd = cmd.as_nobody();
    }
    let out = cmd.run();
    out.ok();
    assert!(out.stdout.contains("passed"), "{out:?}");
}

#[test]
fn recipe_1_isolated_daemon() {
    if !is_root() {
        return skip("recipe 1 needs root (ip netns, veth)");
    }
    for p in ["ip", "python3"] {
        if !have(p) {
            return skip(format!("recipe 1 needs {p}"));
        }
    }
    run_recipe("1-isolated-daemon.sh", false);
    let left = netns_leftovers(&["nsu-web-", "nsu-cli-"]);
    assert!(left.is_empty(), "left: {left:?}");
}

#[test]
fn recipe_2_ci_build_rootless() {
    if !unprivileged_userns_works() {
        return skip("recipe 2 needs unprivileged user namespaces");
    }
    if !have("cc") {
        return skip("recipe 2 needs a C compiler (cc)");
    }
    run_recipe("2-ci-build.sh", true);
}

#[test]
fn recipe_3_side_by_side() {
    if !is_root() {
        return skip("recipe 3 needs root (ip netns)");
    }
    if !have("python3") {
        return skip("recipe 3 needs python3");
    }
    run_recipe("3-side-by-side.sh", false);
    let left = netns_leftovers(&["nsu-v1-", "nsu-v2-"]);
    assert!(left.is_empty(), "left: {left:?}");
}

#[test]
fn recipe_4_package_build_rootless() {
    if !unprivileged_userns_works() {
        return skip("recipe 4 needs unprivileged user namespaces");
    }
    if !Path::new("/bin/busybox").exists() {
        return skip("recipe 4 needs /bin/busybox (Debian package busybox-static)");
    }
    run_recipe("4-package-build.sh", true);
}
