//! Credentials after entering: supplementary groups, gid, uid and, with `--keep-caps`, the
//! ambient capabilities — in that order, because each step needs privilege the next one
//! gives up.
//!
//! After entering a user namespace the caller is, by default, uid 0 and gid 0 there with no
//! supplementary groups (util-linux's behaviour: the ids it had are usually not mapped
//! there). `--preserve-credentials` keeps everything; `-S`/`-G` choose other ids.
//! Whether the namespace entered denies `setgroups` is read through [`OwnProc`]: after
//! entering, `/proc/self` is not ours.

use nix::unistd::{setgid, setgroups, setuid, Gid, Uid};
use nsutils_common::{sys, Error, Result};

use crate::ownproc::OwnProc;

/// What to do with the credentials, decided before entering.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Creds {
    /// Drop the supplementary groups.
    pub clear_groups: bool,
    /// Set this gid (in the namespace entered).
    pub gid: Option<u32>,
    /// Set this uid.
    pub uid: Option<u32>,
    /// Make the permitted capabilities ambient so the command keeps them.
    pub keep_caps: bool,
}

impl Creds {
    /// Apply them to the calling process; `proc` is our `/proc`, opened before entering.
    pub fn apply(&self, proc: &OwnProc) -> Result<()> {
        if self.clear_groups {
            match setgroups(&[]) {
                Ok(()) => {}
                // A user namespace whose setgroups file says "deny" (an unprivileged map)
                // never lets anyone change groups; the caller's groups are already the
                // unmapped overflow group there, so there is nothing to drop.
                Err(nix::errno::Errno::EPERM) if proc.setgroups_denied() => {}
                Err(e) => return Err(Error::errno("cannot drop supplementary groups", e)),
            }
        }
        if self.keep_caps {
            nix::sys::prctl::set_keepcaps(true)
                .map_err(|e| Error::errno("cannot set PR_SET_KEEPCAPS", e))?;
        }
        if let Some(gid) = self.gid {
            setgid(Gid::from_raw(gid)).map_err(|e| {
                let err = Error::errno(format!("cannot set gid {gid}"), e);
                if e == nix::errno::Errno::EINVAL {
                    err.hint("the gid is not mapped in the user namespace")
                } else {
                    err
                }
            })?;
        }
        if let Some(uid) = self.uid {
            setuid(Uid::from_raw(uid)).map_err(|e| {
                let err = Error::errno(format!("cannot set uid {uid}"), e);
                if e == nix::errno::Errno::EINVAL {
                    err.hint("the uid is not mapped in the user namespace")
                } else {
                    err
                }
            })?;
        }
        if self.keep_caps {
            sys::keep_caps_across_exec()
                .map_err(|e| Error::os("cannot make the capabilities ambient", e))?;
        }
        Ok(())
    }
}
