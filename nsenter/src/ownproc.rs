//! Our own `/proc`, opened before entering anything, for what nsenter reads of itself after
//! entering.
//!
//! After `setns` into the target's mount namespace, the path `/proc` is the container's
//! procfs: it shows the container's PID namespace, in which we are not visible until we fork
//! into it, so `/proc/self` dangles (or, chrooted, there may be no `/proc` at all). The
//! procfs we were started under still knows us: `self` resolved through an fd opened on it
//! before entering is our own process, and its files show our credentials and namespaces as
//! they are *now* (the user namespace just entered, its `setgroups`).

use std::os::fd::{AsFd, OwnedFd};

use nix::sys::stat::fstatat;
use nsutils_common::nsfs::NsId;
use nsutils_common::NsKind;
use nsutils_common::{creds, safefile};

/// Our `/proc`, or nothing where none is mounted (then the answers below are unknown).
#[derive(Debug, Default)]
pub struct OwnProc(Option<OwnedFd>);

impl OwnProc {
    /// Open `/proc` (an `O_PATH` directory fd: it reads nothing yet).
    pub fn open() -> OwnProc {
        OwnProc(safefile::open_dir_fd("/proc").ok())
    }

    /// Whether the user namespace we are in now denies `setgroups` (its `setgroups` file
    /// says "deny"); `false` when that cannot be read.
    pub fn setgroups_denied(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|proc| creds::setgroups_denied(proc.as_fd()))
    }

    /// The namespace of `kind` we are in now.
    pub fn ns(&self, kind: NsKind) -> Option<NsId> {
        let proc = self.0.as_ref()?;
        let path = format!("self/ns/{}", kind.proc_name());
        let st = fstatat(proc, path.as_str(), nix::fcntl::AtFlags::empty()).ok()?;
        // The same identity as NsId::of_path: stat's device and inode.
        Some(NsId {
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_files() {
        let p = OwnProc::open();
        assert_eq!(
            p.ns(NsKind::User),
            NsId::of_process(None, NsKind::User).ok()
        );
        let text = std::fs::read_to_string("/proc/self/setgroups").expect("read");
        assert_eq!(p.setgroups_denied(), text.trim() == "deny");
        assert_eq!(OwnProc::default().ns(NsKind::User), None);
        assert!(!OwnProc::default().setgroups_denied());
    }
}
