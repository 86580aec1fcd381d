//! The command's credentials: supplementary groups, gid, uid and, with `--keep-caps`, the
//! capabilities — set in that order, because each step needs privilege the next one gives
//! up. One implementation for `nsrun -S/-G/--keep-caps` (inside the namespaces it made) and
//! for nsenter (after entering: `-S/-G`, or uid and gid 0 of a user namespace entered, unless
//! `--preserve-credentials`); each tool decides *which* ids, this module sets them.
//!
//! * Groups: dropped with `setgroups(0)`. Refused (EPERM) where there is nothing to drop,
//!   or where the user namespace denies `setgroups` — an unprivileged map's, or one below it:
//!   nobody there may ever change groups, and whatever groups the process holds show as the
//!   unmapped overflow group — the refusal is no failure. Anywhere else it is: the command
//!   would keep groups it was asked to run without (util-linux's unshare fails there too).
//! * Ids: `setresgid`/`setresuid`, real, effective and saved alike, so the command cannot
//!   take the old ones back. EINVAL means the id is not mapped in the user namespace.
//! * `--keep-caps`, one rule: `PR_SET_KEEPCAPS` before the ids change (so a uid change from 0
//!   keeps the permitted set; the flag does nothing else and is cleared by exec), then every
//!   permitted capability made inheritable and ambient, so the command keeps them whatever
//!   its uid ([`sys::keep_caps_across_exec`]).
//!
//! Whether `setgroups` is denied is read from `/proc/self/setgroups`, through a `/proc`
//! opened before anything changed ([`setgroups_denied`]): after `setns` into a container's
//! mount namespace, or a chroot, the path `/proc/self` is not ours.

use std::io::Read;
use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};

use crate::{sys, Error, Result};

/// What to do with the credentials, decided before anything changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Creds {
    /// Drop the supplementary groups.
    pub clear_groups: bool,
    /// Set this gid (in the user namespace the process is in by then).
    pub gid: Option<u32>,
    /// Set this uid.
    pub uid: Option<u32>,
    /// Keep the capabilities for the command, whatever its uid.
    pub keep_caps: bool,
}

impl Creds {
    /// Apply them to the calling process. `setgroups_denied` answers, when dropping the
    /// groups is refused, whether the user namespace denies `setgroups` (see
    /// [`setgroups_denied`]); it is not called otherwise.
    pub fn apply(&self, setgroups_denied: impl FnOnce() -> bool) -> Result<()> {
        if self.keep_caps {
            nix::sys::prctl::set_keepcaps(true)
                .map_err(|e| Error::errno("cannot set PR_SET_KEEPCAPS", e))?;
        }
        if self.clear_groups {
            drop_groups(setgroups_denied)?;
        }
        if let Some(gid) = self.gid {
            let g = Gid::from_raw(gid);
            nix::unistd::setresgid(g, g, g).map_err(|e| id_error("gid", gid, e))?;
        }
        if let Some(uid) = self.uid {
            let u = Uid::from_raw(uid);
            nix::unistd::setresuid(u, u, u).map_err(|e| id_error("uid", uid, e))?;
        }
        if self.keep_caps {
            sys::keep_caps_across_exec()
                .map_err(|e| Error::os("cannot keep the capabilities across exec", e))?;
        }
        Ok(())
    }
}

/// `setgroups(0)`, its refusal forgiven as the module text says.
fn drop_groups(setgroups_denied: impl FnOnce() -> bool) -> Result<()> {
    let err = match nix::unistd::setgroups(&[]) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let nothing_to_drop = || nix::unistd::getgroups().is_ok_and(|g| g.is_empty());
    if refusal_forgiven(err, nothing_to_drop, setgroups_denied) {
        return Ok(());
    }
    let e = Error::errno("cannot drop supplementary groups", err);
    Err(match err {
        Errno::EPERM => e.hint(
            "dropping them needs CAP_SETGID (in a user namespace: a gid map written and \
             setgroups allowed)",
        ),
        _ => e,
    })
}

/// Whether a failed `setgroups(0)` is no failure: EPERM with no groups to drop, or where
/// the user namespace denies `setgroups`. The questions are asked in that order, and only
/// as far as needed.
fn refusal_forgiven(
    err: Errno,
    nothing_to_drop: impl FnOnce() -> bool,
    setgroups_denied: impl FnOnce() -> bool,
) -> bool {
    err == Errno::EPERM && (nothing_to_drop() || setgroups_denied())
}

/// The error of `setresgid`/`setresuid`: EINVAL is an id the user namespace does not map.
fn id_error(what: &str, id: u32, e: Errno) -> Error {
    let err = Error::errno(format!("cannot set {what} {id}"), e);
    match e {
        Errno::EINVAL => err.hint(format!("{what} {id} is not mapped in the user namespace")),
        _ => err,
    }
}

/// Whether the user namespace the caller is in now denies `setgroups`: its
/// `self/setgroups` under `proc`, a `/proc` directory opened before anything changed.
/// `false` when that cannot be read.
pub fn setgroups_denied(proc: BorrowedFd<'_>) -> bool {
    let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    let Ok(fd) = openat(proc, "self/setgroups", flags, Mode::empty()) else {
        return false;
    };
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).is_ok() && s.trim() == "deny"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn only_eperm_with_nothing_to_drop_or_denied_is_forgiven() {
        let never = || -> bool { panic!("asked, but the answer is already known") };
        assert!(refusal_forgiven(Errno::EPERM, || true, never));
        assert!(refusal_forgiven(Errno::EPERM, || false, || true));
        assert!(!refusal_forgiven(Errno::EPERM, || false, || false));
        assert!(!refusal_forgiven(Errno::EINVAL, never, never));
    }

    #[test]
    fn unmapped_ids_say_so() {
        let e = id_error("gid", 5, Errno::EINVAL);
        assert_eq!(e.to_string(), "cannot set gid 5: Invalid argument");
        assert_eq!(
            e.hint_text(),
            Some("gid 5 is not mapped in the user namespace")
        );
        assert_eq!(id_error("uid", 5, Errno::EPERM).hint_text(), None);
    }

    #[test]
    fn setgroups_state_is_read_through_the_fd() {
        let proc = crate::safefile::open_dir_fd("/proc").expect("open /proc");
        let text = std::fs::read_to_string("/proc/self/setgroups").expect("read");
        assert_eq!(setgroups_denied(proc.as_fd()), text.trim() == "deny");
        // Not a /proc: unknown, so not denied.
        let tmp = std::fs::File::open(std::env::temp_dir()).expect("open tmp");
        assert!(!setgroups_denied(tmp.as_fd()));
    }

    #[test]
    fn nothing_asked_changes_nothing() {
        let before = nix::unistd::getgroups().expect("getgroups");
        Creds::default()
            .apply(|| panic!("no groups to drop, nothing to ask"))
            .expect("apply");
        assert_eq!(nix::unistd::getgroups().expect("getgroups"), before);
    }
}
