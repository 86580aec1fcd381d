//! Things a test makes and must not leave behind: temporary directories (with whatever was
//! mounted in them), `/run/netns` names; and waiting for a pid file.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::cmd::{Bg, Cmd};
use crate::kernel::mounts_under;

/// `TAG-PID-N`: a name no other test process (nor another test of this one) uses, for
/// anything global — `/run/netns` names, containers, cgroups.
pub fn unique_name(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{tag}-{}-{n}", std::process::id())
}

/// A fresh directory under the temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Make one; `tag` goes into the name.
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(unique_name(&format!("nsutils-{tag}")));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir temp");
        TempDir(p)
    }

    /// A temp dir that is a private mount of its own, with permission bits `mode`: namespace
    /// files can be bind-mounted in it even where its parent mount is shared (the kernel
    /// refuses that with EINVAL), and `mode` lets the rootless cases in (e.g. `0o1777`).
    pub fn private_mount(tag: &str, mode: u32) -> TempDir {
        let dir = TempDir::new(tag);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).expect("chmod");
        let d = dir.path().display().to_string();
        Cmd::new("sh")
            .args([
                "-c",
                &format!("mount --bind {d} {d} && mount --make-private {d}"),
            ])
            .run()
            .ok();
        dir
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Unmount whatever a test left mounted at or below it — directories and files
        // (namespace bind mounts are files) — deepest first, lazily, then remove it.
        let mut mounts = mounts_under(&self.0);
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `/run/netns` name of the test's, undone on drop however the test ends, whoever made
/// it (`ip netns add`, `nsrun --netns`, or nobody: a failure test checks nothing was made):
/// unmounted lazily and removed, which is what `ip netns delete` does.
#[derive(Debug)]
pub struct Netns(String);

impl Netns {
    /// A unique name (`TAG-PID-N`); nothing is created yet.
    pub fn new(tag: &str) -> Netns {
        Netns(unique_name(tag))
    }

    /// `ip netns add` a unique name (needs root and iproute2).
    pub fn add(tag: &str) -> Netns {
        let n = Netns::new(tag);
        Cmd::new("ip").args(["netns", "add", n.name()]).run().ok();
        n
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// `/run/netns/NAME`.
    pub fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.0)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let p = self.path();
        let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_file(p);
    }
}

/// The size of the stress and race tests: `full` times `NSUTILS_STRESS_SCALE` (default 0.1
/// under `cargo test`; `make stress` sets 1), at least `min`.
pub fn stress_scaled(full: usize, min: usize) -> usize {
    let scale = std::env::var("NSUTILS_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(0.1);
    ((full as f64 * scale).round() as usize).max(min)
}

/// Wait (polling every millisecond, up to `limit`) until the pid file at `path` holds a
/// PID, and return it; panics at the limit.
#[track_caller]
pub fn wait_pid_file(path: &Path, limit: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(p) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            return p;
        }
        assert!(
            start.elapsed() < limit,
            "no PID in {} after {limit:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A target for nsenter and nsls: `nsrun ARGS --fork -- sh` that says `ready` and then is
/// `sleep 60` (killed with the guard). Returns the guard and the PID of the process inside
/// the new namespaces (nsrun's child), once it is there.
pub fn nsrun_target(args: &[&str]) -> (Bg, i32) {
    let mut bg = Cmd::tool("nsrun")
        .args(args)
        .args(["--fork", "--", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let pid = crate::kernel::child_of(bg.pid());
    (bg, pid)
}
