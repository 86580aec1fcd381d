//! The target process: pinned by a pidfd before anything else about it is read, and what
//! nsenter reads of it through `/proc` (effective ids, environment, cgroup, SELinux context,
//! children). Every `/proc` read is followed by a liveness check on the pidfd, so data of a
//! process that reused the PID is never used.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use nsutils_common::idmap::IdMap;
use nsutils_common::nsfs::NsFile;
use nsutils_common::pidfd::PidFd;
use nsutils_common::{Error, NsKind, Result};

use crate::cli::TargetArg;

/// A pinned target process.
#[derive(Debug)]
pub struct Target {
    pidfd: PidFd,
}

impl Target {
    /// Pin `arg.pid` with a pidfd; with `PID:INODE`, check the pidfs inode.
    pub fn open(arg: TargetArg) -> Result<Target> {
        let pidfd = PidFd::open(arg.pid)?;
        if pidfd.has_exited() {
            // A zombie: nothing of it to enter, and its ids, cgroup or environment would be
            // those of a process that is gone.
            return Err(Error::msg(format!(
                "cannot open process {}: it has exited (a zombie not yet reaped by its parent)",
                arg.pid
            ))
            .hint("check the PID: the process does not exist or has exited"));
        }
        if let Some(want) = arg.inode {
            let have = pidfd.inode()?;
            if have != want {
                return Err(Error::msg(format!(
                    "process {} has pidfs inode {have}, not {want}",
                    arg.pid
                ))
                .hint(
                    "either INODE is mistyped, or the process you meant has exited and its \
                     PID was reused; nsls -o PID,PIDINO shows the inode, as nsrun --info-fd \
                     does (child-pidfs-inode)",
                ));
            }
        }
        Ok(Target { pidfd })
    }

    /// The pidfd.
    pub fn pidfd(&self) -> &PidFd {
        &self.pidfd
    }

    /// The PID (in our PID namespace).
    pub fn pid(&self) -> i32 {
        self.pidfd.pid()
    }

    /// The target's namespace `kind`, taken through the pidfd.
    pub fn ns_file(&self, kind: NsKind) -> Result<NsFile> {
        self.pidfd.ns_file(kind, false)
    }

    fn proc_path(&self, file: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/{file}", self.pid()))
    }

    /// Fail if the process is gone (after reading something of it from `/proc`).
    fn still_alive(&self, what: &str) -> Result<()> {
        if !self.pidfd.has_exited() {
            Ok(())
        } else {
            Err(Error::msg(format!(
                "process {} exited while its {what} was being read",
                self.pid()
            )))
        }
    }

    /// Read `/proc/PID/FILE` as bytes.
    pub fn read(&self, file: &str) -> Result<Vec<u8>> {
        let path = self.proc_path(file);
        let data = std::fs::read(&path)
            .map_err(|e| Error::os(format!("cannot read {}", path.display()), e))?;
        self.still_alive(file)?;
        Ok(data)
    }

    /// The effective uid (`uid`) or gid of the target as our user namespace sees it: the
    /// second field of the `Uid:`/`Gid:` line of `/proc/PID/status` (real, effective, saved,
    /// fs). The effective id is the one permission checks use and the owner of `/proc/PID`.
    pub fn effective_id(&self, uid: bool) -> Result<u32> {
        let field = if uid { "Uid:" } else { "Gid:" };
        nsutils_common::proc::effective_id(&self.read("status")?, uid).ok_or_else(|| {
            Error::msg(format!(
                "cannot find {field} in /proc/{}/status",
                self.pid()
            ))
        })
    }

    /// The target's uid or gid map, as seen from our user namespace.
    pub fn id_map(&self, uid: bool) -> Result<IdMap> {
        let file = if uid { "uid_map" } else { "gid_map" };
        let text = String::from_utf8_lossy(&self.read(file)?).into_owned();
        IdMap::parse_kernel_format(&text)
            .map_err(|e| Error::msg(format!("/proc/{}/{file}: {e}", self.pid())))
    }

    /// The environment of the target (`/proc/PID/environ`).
    pub fn environ(&self) -> Result<Vec<(OsString, OsString)>> {
        let data = self.read("environ")?;
        Ok(parse_environ(&data))
    }

    /// The target's cgroup v2 path (the `0::/path` line of `/proc/PID/cgroup`).
    pub fn cgroup_v2_path(&self) -> Result<String> {
        nsutils_common::proc::cgroup_v2_path(&self.read("cgroup")?).ok_or_else(|| {
            Error::msg(format!(
                "process {} is in no cgroup v2 hierarchy",
                self.pid()
            ))
            .hint("--join-cgroup needs cgroup v2 (a 0::/PATH line in /proc/PID/cgroup)")
        })
    }

    /// The target's first child, if it has one.
    pub fn first_child(&self) -> Option<i32> {
        nsutils_common::proc::children(self.pid()).first().copied()
    }
}

/// The target, for an option that needs one (`Cli::validate` has said so already).
pub(crate) fn need_target<'t>(target: Option<&'t Target>, option: &str) -> Result<&'t Target> {
    target.ok_or_else(|| Error::msg(format!("{option} needs a target (-t PID)")))
}
/// `KEY=VALUE\0…` into pairs; entries without `=` are skipped.
pub fn parse_environ(data: &[u8]) -> Vec<(OsString, OsString)> {
    data.split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            let eq = e.iter().skip(1).position(|b| *b == b'=')? + 1;
            Some((
                OsString::from_vec(e[..eq].to_vec()),
                OsString::from_vec(e[eq + 1..].to_vec()),
            ))
        })
        .collect()
}

/// Map an id of our user namespace into a child user namespace through its map (each line
/// `inner outer count`, outer as we see it). `None` when the id is not mapped there.
pub fn map_into(map: &IdMap, id: u32) -> Option<u32> {
    map.ranges().iter().find_map(|r| {
        let off = id.checked_sub(r.outer)?;
        (off < r.count).then(|| r.inner + off)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environ_parsing() {
        let env = parse_environ(b"A=1\0B=x=y\0junk\0=weird\0\0");
        assert_eq!(
            env,
            vec![
                (OsString::from("A"), OsString::from("1")),
                (OsString::from("B"), OsString::from("x=y")),
            ]
        );
    }

    #[test]
    fn ids_map_through_the_target_map() {
        let map = IdMap::parse_kernel_format("0 1000 1\n1 100000 65536\n").expect("map");
        assert_eq!(map_into(&map, 1000), Some(0));
        assert_eq!(map_into(&map, 100_000), Some(1));
        assert_eq!(map_into(&map, 100_009), Some(10));
        assert_eq!(map_into(&map, 0), None);
        assert_eq!(map_into(&map, 165_536), None);
    }

    #[test]
    fn own_process_reads() {
        let me = Target::open(TargetArg {
            pid: std::process::id() as i32,
            inode: None,
        })
        .expect("open self");
        assert_eq!(
            me.effective_id(true).expect("uid"),
            nix::unistd::geteuid().as_raw()
        );
        assert!(me.environ().is_ok());
        let ino = me.pidfd().inode().expect("inode");
        let wrong = Target::open(TargetArg {
            pid: me.pid(),
            inode: Some(ino + 1),
        })
        .expect_err("inode mismatch accepted");
        assert!(wrong.to_string().contains("pidfs inode"), "{wrong}");
        assert!(Target::open(TargetArg {
            pid: me.pid(),
            inode: Some(ino)
        })
        .is_ok());
    }
}
