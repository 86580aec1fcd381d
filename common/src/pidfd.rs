//! Pidfds: a handle on one process that a recycled PID can never be mistaken for.
//!
//! [`PidFd::open`] pins the target before anything else about it is read. Namespace files
//! are then taken from the pidfd itself (`PIDFD_GET_*_NAMESPACE`, Linux 6.11+) or, on older
//! kernels, from `/proc/PID/ns/X` followed by a liveness check on the pidfd, so a PID that
//! exited and was reused in between is detected. [`PidFd::setns`] enters several namespaces
//! of the target in one atomic `setns(pidfd, mask)` (Linux 5.8+); callers fall back to
//! per-file `setns` when the kernel answers EINVAL.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::sched::CloneFlags;

use crate::error::{Error, Result};
use crate::kind::NsKind;
use crate::nsfs::{proc_ns_path, NsFile};
use crate::sys;

/// An open pidfd and the PID it was opened for.
#[derive(Debug)]
pub struct PidFd {
    fd: OwnedFd,
    pid: i32,
}

impl PidFd {
    /// Open a pidfd for `pid`. ESRCH becomes "no process with PID N".
    pub fn open(pid: i32) -> Result<PidFd> {
        if pid <= 0 {
            return Err(Error::msg(format!("invalid PID {pid}")));
        }
        match sys::pidfd_open(pid) {
            Ok(fd) => Ok(PidFd { fd, pid }),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                Err(Error::os(format!("cannot open process {pid}"), e)
                    .hint("check the PID: the process does not exist or has exited"))
            }
            Err(e) => Err(Error::os(format!("cannot open process {pid}"), e)),
        }
    }

    /// The PID this pidfd was opened for (in our PID namespace).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The pidfs inode of the process (Linux 6.9+): unique for the boot, unlike the PID.
    pub fn inode(&self) -> Result<u64> {
        nix::sys::stat::fstat(self.fd.as_fd())
            .map(|st| st.st_ino)
            .map_err(|e| Error::errno(format!("cannot stat pidfd of {}", self.pid), e))
    }

    /// Whether the process still runs (it may be a zombie).
    pub fn is_alive(&self) -> bool {
        sys::pidfd_send_signal(self.fd.as_fd(), 0).is_ok()
    }

    /// Whether the process has exited, zombies included: a pidfd becomes readable once its
    /// process has exited, whether or not it was reaped ([`PidFd::is_alive`] still says
    /// `true` for a zombie, which has no namespaces left to enter).
    pub fn has_exited(&self) -> bool {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
    }

    /// Send signal `sig` to the process — never to a process that reused its PID.
    pub fn signal(&self, sig: i32) -> Result<()> {
        sys::pidfd_send_signal(self.fd.as_fd(), sig).map_err(|e| {
            Error::os(
                format!("cannot send signal {sig} to process {}", self.pid),
                e,
            )
        })
    }

    /// Open namespace `kind` of the process (its children's, with `for_children`).
    ///
    /// Asks the pidfd first; where the kernel lacks the ioctl (ENOTTY/EINVAL) it opens the
    /// `/proc` link and then checks the pidfd is still alive, so the link cannot belong to a
    /// process that reused the PID.
    pub fn ns_file(&self, kind: NsKind, for_children: bool) -> Result<NsFile> {
        let path = proc_ns_path(Some(self.pid), kind, for_children);
        match sys::pidfd_get_namespace(self.fd.as_fd(), kind, for_children) {
            Ok(fd) => return NsFile::from_fd(fd, path, Some(kind)),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTTY) | Some(libc::EINVAL)) => {}
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                return Err(Error::os(format!("cannot open {}", path.display()), e)
                    .hint("the process has exited"))
            }
            // EPERM/EACCES etc.: /proc applies the same ptrace checks; let it name the cause.
            Err(_) => {}
        }
        let file = NsFile::open(&path, Some(kind))?;
        if !self.is_alive() {
            return Err(Error::errno(
                format!("cannot open {}", path.display()),
                nix::errno::Errno::ESRCH,
            )
            .hint("the process exited while its namespaces were being opened"));
        }
        Ok(file)
    }

    /// Enter namespaces `kinds` of the process at once with `setns(pidfd, mask)`.
    ///
    /// The call is atomic: either every namespace is entered or none. An `Err` of EINVAL
    /// means the kernel does not support pidfds here (before 5.8) or one of the kinds; the
    /// caller then enters per file.
    pub fn setns(&self, kinds: &[NsKind]) -> std::result::Result<(), nix::errno::Errno> {
        let mask = NsKind::mask(kinds.iter().copied());
        nix::sched::setns(self.fd.as_fd(), CloneFlags::from_bits_retain(mask))
    }
}

impl AsFd for PidFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nsfs::NsId;

    #[test]
    fn own_process() {
        let me = PidFd::open(std::process::id() as i32).expect("pidfd");
        assert!(me.is_alive());
        assert!(me.inode().is_ok());
        for kind in NsKind::ALL {
            let f = me.ns_file(kind, false).expect("ns file");
            assert_eq!(f.kind(), kind);
            assert_eq!(
                f.id().expect("id"),
                NsId::of_process(None, kind).expect("stat")
            );
        }
    }

    #[test]
    fn missing_process_is_a_clear_error() {
        // PIDs are below pid_max (at most 2^22), so this one never exists.
        let err = PidFd::open(i32::MAX).expect_err("opened");
        assert_eq!(
            err.to_string(),
            format!("cannot open process {}: No such process", i32::MAX)
        );
        assert!(PidFd::open(0).is_err());
    }

    #[test]
    fn exited_child_is_detected() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let fd = PidFd::open(child.id() as i32).expect("pidfd");
        assert!(fd.is_alive() || fd.has_exited());
        // A zombie is still "alive" to a signal, but it has exited.
        let t = std::time::Instant::now();
        while !fd.has_exited() {
            assert!(
                t.elapsed() < std::time::Duration::from_secs(20),
                "never exited"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.wait().expect("wait");
        assert!(!fd.is_alive());
        assert!(fd.ns_file(NsKind::Net, false).is_err());
    }
}
