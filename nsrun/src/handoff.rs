//! Hand-offs to the calling script: its fds taken (`--info-fd`, `--ready-fd`, `--block-fd`),
//! and once the namespaces are set up the pid file, the `--info-fd` JSON (bubblewrap's keys),
//! the `--ready-fd` byte, and the `--block-fd` wait.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::AtFlags;
use nsutils_common::pidfd::PidFd;
use nsutils_common::{sys, Error, NsKind, Result};

use crate::cli::Extras;
use crate::helper::Helper;
use crate::plan::Plan;

/// The fds the caller handed nsrun: our close-on-exec duplicates.
#[derive(Debug, Default)]
pub struct UserFds {
    /// `--info-fd`.
    pub info: Option<OwnedFd>,
    /// `--block-fd`.
    pub block: Option<OwnedFd>,
    /// `--ready-fd`.
    pub ready: Option<OwnedFd>,
}

impl UserFds {
    /// Duplicate `--info-fd`, `--block-fd` and `--ready-fd` close-on-exec and close the
    /// originals: the command must not inherit them, and the caller's EOF must come when
    /// nsrun is done with them.
    pub fn take(x: &Extras) -> Result<UserFds> {
        let take_fd = |name: &str, fd: Option<i32>| -> Result<Option<OwnedFd>> {
            let Some(fd) = fd else { return Ok(None) };
            let dup = sys::dup_cloexec(fd).map_err(|e| {
                Error::os(
                    format!("--{name}={fd}: file descriptor {fd} is not open"),
                    e,
                )
            })?;
            Ok(Some(dup))
        };
        let info = take_fd("info-fd", x.info_fd)?;
        let block = take_fd("block-fd", x.block_fd)?;
        let ready = take_fd("ready-fd", x.ready_fd)?;
        for fd in [x.info_fd, x.block_fd, x.ready_fd].into_iter().flatten() {
            if fd > 2 {
                let _ = nix::unistd::close(fd);
            }
        }
        Ok(UserFds { info, block, ready })
    }
}
/// The `--info-fd` object: `"child-pid"` and `"<kind>-namespace": inode` for every kind
/// created, read from the process that runs the command, and ours: `"child-pidfs-inode"`,
/// the inode that `nsenter -t PID:INODE` checks (Linux 6.9+, where pidfds live on pidfs).
/// `proc` is the host's `/proc`, opened before the child could mount a new one over it in
/// the mount namespace we share.
pub fn info_json(pid: i32, kinds: &[NsKind], proc: &OwnedFd) -> Result<String> {
    let mut obj = serde_json::Map::new();
    obj.insert("child-pid".into(), pid.into());
    if let Some(ino) = pidfs_inode(pid) {
        obj.insert("child-pidfs-inode".into(), ino.into());
    }
    for kind in kinds {
        let rel = format!("{pid}/ns/{}", kind.proc_name());
        let st = nix::sys::stat::fstatat(proc, rel.as_str(), AtFlags::empty())
            .map_err(|e| Error::errno(format!("cannot stat /proc/{rel}"), e))?;
        obj.insert(format!("{}-namespace", kind.proc_name()), st.st_ino.into());
    }
    Ok(serde_json::Value::Object(obj).to_string())
}

/// The pidfs inode of `pid`; `None` before Linux 6.9, where every pidfd shares one anonymous
/// inode that names no process.
fn pidfs_inode(pid: i32) -> Option<u64> {
    const PIDFS_MAGIC: i64 = 0x5049_4446;
    let fd = PidFd::open(pid).ok()?;
    let fs = nix::sys::statfs::fstatfs(fd.as_fd()).ok()?;
    if fs.filesystem_type().0 as i64 != PIDFS_MAGIC {
        return None;
    }
    fd.inode().ok()
}

fn write_fd(fd: OwnedFd, data: &[u8], what: &str) -> Result<()> {
    std::fs::File::from(fd)
        .write_all(data)
        .map_err(|e| Error::os(format!("cannot write to {what}"), e))
}

/// Pid file, info and ready, for `pid` (the process that runs the command, or the init).
/// The fds are closed afterwards, so a caller reading to EOF gets it now. The pid file is
/// renamed into place by the helper when there is one (it kept the caller's credentials).
pub fn announce(plan: &mut Plan, pid: i32, helper: Option<&mut Helper>) -> Result<()> {
    if let Some(pf) = plan.pid_file.as_mut() {
        pf.fill(pid)?;
        match helper {
            Some(h) => h.place_pid_file()?,
            None => pf.place()?,
        }
    }
    if let (Some(fd), Some(proc)) = (plan.fds.info.take(), plan.proc_dir.as_ref()) {
        let mut json = info_json(pid, &plan.kinds, proc)?;
        json.push('\n');
        write_fd(fd, json.as_bytes(), "--info-fd")?;
    }
    if let Some(fd) = plan.fds.ready.take() {
        write_fd(fd, b"1", "--ready-fd")?;
    }
    Ok(())
}

/// Wait for one byte, or EOF, on `--block-fd`.
pub fn block(plan: &mut Plan) -> Result<()> {
    if let Some(fd) = plan.fds.block.take() {
        let mut f = std::fs::File::from(fd);
        let mut b = [0u8; 1];
        loop {
            match f.read(&mut b) {
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::os("cannot read --block-fd", e)),
            }
        }
    }
    Ok(())
}
