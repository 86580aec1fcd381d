//! The credentials to take: `-S`/`-G` (`follow` resolved through the target), or — entering a
//! user namespace without `--preserve-credentials` — uid and gid 0 there with no
//! supplementary groups (util-linux's behaviour: the ids the caller had are usually not
//! mapped there), or the target's own ids where 0 is not mapped. Decided before entering;
//! `nsutils_common::creds` sets them after, reading whether the namespace entered denies
//! `setgroups` through [`OwnProc`](crate::ownproc::OwnProc): after entering, `/proc/self`
//! is not ours.

use nsutils_common::creds::Creds;
use nsutils_common::{Error, NsKind, Result};

use crate::cli::{Cli, IdArg};
use crate::join::Entry;
use crate::target::{map_into, Target};

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
