//! `--join-cgroup`: move ourselves into the target's cgroup v2 before entering anything.
//!
//! The cgroup2 mount is found in `/proc/self/mountinfo` (it is `/sys/fs/cgroup` on a
//! unified system, `/sys/fs/cgroup/unified` on a hybrid one), the target's path in its
//! `/proc/PID/cgroup` (`0::/path`, read from our cgroup namespace). Writing "0" to the
//! group's `cgroup.procs` moves the writer; the forked command inherits it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use nsutils_common::{mountinfo, Error, Result};

/// The first cgroup2 mount of a mountinfo text: (mount root, mount point).
pub fn cgroup2_mount(mountinfo: &str) -> Option<(String, PathBuf)> {
    mountinfo::parse(mountinfo)
        .into_iter()
        .find(|m| m.fstype == "cgroup2")
        .map(|m| (m.root.to_string_lossy().into_owned(), m.mount_point))
}

/// The `cgroup.procs` file for cgroup `path` (as `/proc/PID/cgroup` names it) under a
/// cgroup2 mount of `root` at `mnt`.
pub fn procs_file(root: &str, mnt: &Path, path: &str) -> PathBuf {
    let rel = path
        .strip_prefix(root.trim_end_matches('/'))
        .unwrap_or(path)
        .trim_start_matches('/');
    let dir = if rel.is_empty() {
        mnt.to_path_buf()
    } else {
        mnt.join(rel)
    };
    dir.join("cgroup.procs")
}

/// The open `cgroup.procs` of the target's cgroup, ready for [`join`].
pub fn open_procs(cgroup_path: &str) -> Result<(File, PathBuf)> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| Error::os("cannot read /proc/self/mountinfo", e))?;
    let (root, mnt) = cgroup2_mount(&info).ok_or_else(|| {
        Error::msg("cannot join the cgroup: no cgroup2 file system is mounted")
            .hint("mount one: mount -t cgroup2 none /sys/fs/cgroup")
    })?;
    let path = procs_file(&root, &mnt, cgroup_path);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| Error::os(format!("cannot open {}", path.display()), e))?;
    Ok((f, path))
}

/// Move the calling process into the cgroup whose `cgroup.procs` is `f`.
pub fn join(mut f: &File, path: &Path) -> Result<()> {
    f.write_all(b"0").map_err(|e| {
        Error::os(
            format!("cannot join the cgroup: write to {}", path.display()),
            e,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
25 1 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
26 25 0:24 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
27 25 0:25 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
";

    #[test]
    fn finds_the_cgroup2_mount() {
        assert_eq!(
            cgroup2_mount(HYBRID),
            Some(("/".to_string(), PathBuf::from("/sys/fs/cgroup/unified")))
        );
        assert_eq!(cgroup2_mount("1 0 0:1 / / rw - ext4 /dev/x rw"), None);
        let esc = "26 25 0:24 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw";
        assert_eq!(
            cgroup2_mount(esc).map(|m| m.1),
            Some(PathBuf::from("/mnt/my cg"))
        );
    }

    #[test]
    fn procs_paths() {
        let mnt = Path::new("/sys/fs/cgroup");
        assert_eq!(
            procs_file("/", mnt, "/a/b"),
            PathBuf::from("/sys/fs/cgroup/a/b/cgroup.procs")
        );
        assert_eq!(
            procs_file("/", mnt, "/"),
            PathBuf::from("/sys/fs/cgroup/cgroup.procs")
        );
        assert_eq!(
            procs_file("/a", mnt, "/a/b"),
            PathBuf::from("/sys/fs/cgroup/b/cgroup.procs")
        );
    }
}
