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
use nsutils_common::{sys, Error, NsKind, Result};

use crate::cli::{Cli, IdArg};
use crate::join::Entry;
use crate::ownproc::OwnProc;
use crate::target::{map_into, Target};

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

/// The credentials: `-S`/`-G` (`follow` resolved), else — entering a user namespace without
/// `--preserve-credentials` — the default ids, with the supplementary groups dropped.
pub(crate) fn credentials(cli: &Cli, target: Option<&Target>, entries: &[Entry]) -> Result<Creds> {
    let user = entries.iter().find(|e| e.file.kind() == NsKind::User);
    let user_via_target = user.map(|e| e.via_target);
    let set_default_ids = user.is_some() && !cli.preserve_credentials;
    let (default_uid, default_gid) = if set_default_ids {
        default_ids(target, user_via_target)?
    } else {
        (None, None)
    };
    let gid = resolve_id(cli.setgid, false, target, user_via_target)?.or(default_gid);
    let uid = resolve_id(cli.setuid, true, target, user_via_target)?.or(default_uid);
    Ok(Creds {
        clear_groups: set_default_ids || cli.setgid.is_some(),
        gid,
        uid,
        keep_caps: cli.keep_caps,
    })
}

/// Resolve `follow` or an id for `-S`/`-G`; `None` when the option was not given.
fn resolve_id(
    arg: Option<IdArg>,
    uid: bool,
    target: Option<&Target>,
    user_via_target: Option<bool>,
) -> Result<Option<u32>> {
    let what = if uid { "--setuid" } else { "--setgid" };
    match arg {
        None => Ok(None),
        Some(IdArg::Id(id)) => Ok(Some(id)),
        Some(IdArg::Follow) => {
            let t = target
                .ok_or_else(|| Error::msg(format!("{what}=follow needs a target (-t PID)")))?;
            let id = t.effective_id(uid)?;
            match user_via_target {
                // Not entering a user namespace: our ids are the ones to set.
                None => Ok(Some(id)),
                Some(true) => {
                    let map = t.id_map(uid)?;
                    map_into(&map, id).map(Some).ok_or_else(|| {
                        Error::msg(format!(
                            "{what}=follow: id {id} of process {} is not mapped in its user namespace",
                            t.pid()
                        ))
                    })
                }
                Some(false) => Err(Error::msg(format!(
                    "{what}=follow only works with the target's own user namespace"
                ))),
            }
        }
    }
}

/// The uid and gid to take after entering a user namespace when `-S`/`-G` are not given:
/// 0, as util-linux does — unless 0 is not mapped in the target's user namespace (a
/// bubblewrap sandbox maps only the user's own id), where setuid(0) could only fail: then
/// the target's own ids, so that we become what the target is.
fn default_ids(
    target: Option<&Target>,
    user_via_target: Option<bool>,
) -> Result<(Option<u32>, Option<u32>)> {
    if let (Some(t), Some(true)) = (target, user_via_target) {
        let pick = |uid: bool| -> Result<u32> {
            let map = t.id_map(uid)?;
            if map_into_inner_has_zero(&map) {
                return Ok(0);
            }
            let own = t.effective_id(uid)?;
            map_into(&map, own).ok_or_else(|| {
                let what = if uid { "uid" } else { "gid" };
                Error::msg(format!(
                    "neither {what} 0 nor the target's {what} {own} is mapped in the user \
                     namespace of process {}",
                    t.pid()
                ))
                .hint("keep your ids with --preserve-credentials (and --keep-caps), or give -S/-G")
            })
        };
        return Ok((Some(pick(true)?), Some(pick(false)?)));
    }
    Ok((Some(0), Some(0)))
}

/// Whether id 0 exists inside a namespace with this map.
fn map_into_inner_has_zero(map: &nsutils_common::idmap::IdMap) -> bool {
    map.ranges().iter().any(|r| r.inner == 0)
}
