//! The id maps: `--map-user`, `--map-group`, `-r`, `-c`, `--map-users`, `--map-groups`,
//! `--map-auto`, `--map-subids` resolved to a uid and a gid map (subordinate ids looked up,
//! the caller's own single id punched into ranges), checked against what the caller may
//! map, and what to write to `setgroups`. Nothing is written here: `setup` writes the single
//! ids, the `helper` the ranges.

use nsutils_common::idmap::{find_subids, IdMap, IdRange, MapKind, ProcRoot};
use nsutils_common::{Error, Result};

use crate::cli::{Cli, MapSpec, SetGroups, Single};

/// The uid and gid maps, and what to write to `setgroups`.
#[derive(Debug, Clone, Default)]
pub struct Maps {
    /// The uid map, if any.
    pub uid: Option<MapPlan>,
    /// The gid map, if any.
    pub gid: Option<MapPlan>,
    /// What to write to `setgroups` (`true` = allow).
    pub setgroups: Option<bool>,
}

/// A uid or gid map and who writes it.
#[derive(Debug, Clone)]
pub struct MapPlan {
    /// The whole map.
    pub map: IdMap,
    /// Written from outside the new namespace — by `newuidmap`/`newgidmap`, or directly when
    /// the caller is root — because it has ranges. Otherwise it is the caller's single id,
    /// which nsrun writes itself.
    pub by_helper: bool,
}

/// The id maps: "current" is who we will be when unshare runs (`--owner` changes it).
pub(crate) fn id_maps(cli: &Cli, is_root: bool) -> Result<Maps> {
    let (own_uid, own_gid) = cli.owner.unwrap_or((
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    ));
    let user_name = if needs_user_name(cli, is_root) {
        nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(own_uid))
            .ok()
            .flatten()
            .map(|u| u.name)
    } else {
        None
    };
    let who = MapOwner {
        name: user_name.as_deref(),
        uid: own_uid,
        is_root,
    };
    let (uid_specs, gid_specs) = map_specs(cli);
    let uid = build_map(MapKind::Uid, &uid_specs, cli.user_single, own_uid, &who)?;
    let gid = build_map(MapKind::Gid, &gid_specs, cli.group_single, own_gid, &who)?;
    let setgroups = setgroups(cli, &gid)?;
    Ok(Maps {
        uid,
        gid,
        setgroups,
    })
}

/// The `--map-users`/`--map-groups` specs, `--map-auto` and `--map-subids` added.
fn map_specs(cli: &Cli) -> (Vec<MapSpec>, Vec<MapSpec>) {
    let mut uid_specs = cli.map_users.clone();
    let mut gid_specs = cli.map_groups.clone();
    for (on, spec) in [
        (cli.map_auto, MapSpec::Auto),
        (cli.map_subids, MapSpec::Subids),
    ] {
        if on {
            uid_specs.push(spec);
            gid_specs.push(spec);
        }
    }
    (uid_specs, gid_specs)
}

/// Whether the maps need the caller's user name: only to look up subordinate ids. The
/// user database is the slowest part of a plain `nsrun -r` otherwise (NSS, nscd,
/// /etc/passwd).
fn needs_user_name(cli: &Cli, is_root: bool) -> bool {
    !is_root && (!cli.map_users.is_empty() || !cli.map_groups.is_empty())
        || cli.map_auto
        || cli.map_subids
        || cli
            .map_users
            .iter()
            .chain(&cli.map_groups)
            .any(|s| matches!(s, MapSpec::Auto | MapSpec::Subids))
}

/// What to write to `setgroups`: `--setgroups`, else deny with a single group map, as in
/// unshare; nsrun writing that map itself needs it.
fn setgroups(cli: &Cli, gid: &Option<MapPlan>) -> Result<Option<bool>> {
    let self_written_gid = gid.as_ref().is_some_and(|m| !m.by_helper);
    match (cli.setgroups, cli.group_single.is_some(), self_written_gid) {
        (Some(SetGroups::Allow), _, true) => Err(Error::msg(
            "--setgroups=allow cannot be combined with a single group map",
        )
        .hint(
            "the kernel lets a process map its own group only once setgroups is \
             denied; map a range with --map-groups instead",
        )),
        (Some(SetGroups::Allow), _, false) => Ok(Some(true)),
        (Some(SetGroups::Deny), _, _) | (None, true, _) => Ok(Some(false)),
        (None, false, _) => Ok(None),
    }
}

/// Whose subordinate ids the maps may use.
struct MapOwner<'a> {
    name: Option<&'a str>,
    uid: u32,
    is_root: bool,
}

impl MapOwner<'_> {
    /// Every line of the subid file that is exactly ours (by name or numeric uid).
    fn subid_lines(&self, kind: MapKind) -> Result<Vec<IdRange>> {
        let file = kind.subid_file();
        let text = std::fs::read_to_string(file).unwrap_or_default();
        // find_subids answers for one text; line by line it finds every line that is ours.
        let out = text
            .lines()
            .filter_map(|line| find_subids(line, self.name, self.uid))
            .filter_map(|s| IdRange::new(s.start, s.start, s.count).ok())
            .collect();
        Ok(out)
    }

    fn first_subids(&self, kind: MapKind) -> Result<IdRange> {
        self.subid_lines(kind)?.into_iter().next().ok_or_else(|| {
            let who = self
                .name
                .map_or_else(|| self.uid.to_string(), str::to_owned);
            Error::msg(format!(
                "no subordinate ids for {who} in {}",
                kind.subid_file()
            ))
            .hint(format!(
                "add a line '{who}:100000:65536' to {} (usermod --add-subuids/--add-subgids)",
                kind.subid_file()
            ))
        })
    }
}

fn option_name(kind: MapKind) -> &'static str {
    match kind {
        MapKind::Uid => "--map-users",
        MapKind::Gid => "--map-groups",
    }
}

/// The map of `kind` from its specs and the single id, checked: an unprivileged caller
/// may map only its own id and its subordinate ids, through `newuidmap`/`newgidmap`.
fn build_map(
    kind: MapKind,
    specs: &[MapSpec],
    single: Option<Single>,
    own: u32,
    who: &MapOwner<'_>,
) -> Result<Option<MapPlan>> {
    if specs.is_empty() && single.is_none() {
        return Ok(None);
    }
    let opt = option_name(kind);
    let mut map = IdMap::new();
    for spec in specs {
        for r in spec_ranges(kind, spec, who)? {
            map.add_range(r)
                .map_err(|e| Error::msg(format!("{opt}: {e}")))?;
        }
    }
    if let Some(s) = single {
        let inner = match s {
            Single::To(i) => i,
            Single::Current => own,
        };
        map.add_single(inner, own);
    }
    let by_helper = !specs.is_empty();
    if by_helper && !who.is_root {
        check_subordinate(kind, &map, own, who)?;
    }
    Ok(Some(MapPlan { map, by_helper }))
}

/// The ranges one `--map-users`/`--map-groups` value stands for.
fn spec_ranges(kind: MapKind, spec: &MapSpec, who: &MapOwner<'_>) -> Result<Vec<IdRange>> {
    Ok(match spec {
        MapSpec::Range(r) => vec![*r],
        MapSpec::Auto => {
            let s = who.first_subids(kind)?;
            vec![IdRange::new(0, s.outer, s.count).map_err(Error::msg)?]
        }
        MapSpec::Subids => vec![who.first_subids(kind)?],
        MapSpec::All => {
            let parent = ProcRoot::default().read_map(None, kind)?;
            IdMap::identity_of(&parent).ranges().to_vec()
        }
    })
}

/// An unprivileged caller's ranges: every outer id its own or among its subordinate ids,
/// and the setuid helper that writes them installed.
fn check_subordinate(kind: MapKind, map: &IdMap, own: u32, who: &MapOwner<'_>) -> Result<()> {
    let opt = option_name(kind);
    let mine = who.subid_lines(kind)?;
    for r in map.ranges() {
        if r.count == 1 && r.outer == own {
            continue;
        }
        let end = u64::from(r.outer) + u64::from(r.count);
        let inside = mine
            .iter()
            .any(|m| m.outer <= r.outer && end <= u64::from(m.outer) + u64::from(m.count));
        if !inside {
            let who_s = who.name.map_or_else(|| who.uid.to_string(), str::to_owned);
            return Err(Error::msg(format!(
                "{opt}: cannot map {r}: outer ids {}-{} are not among the subordinate ids of {who_s} in {}",
                r.outer,
                end - 1,
                kind.subid_file()
            ))
            .hint("an unprivileged user can map only its own id and its /etc/subuid, /etc/subgid ranges"));
        }
    }
    if !helper_available(kind.helper()) {
        return Err(Error::msg(format!(
            "{opt}: mapping ranges needs {}, which is not installed",
            kind.helper()
        ))
        .hint("install the uidmap package"));
    }
    Ok(())
}

fn helper_available(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: MapOwner<'static> = MapOwner {
        name: Some("root"),
        uid: 0,
        is_root: true,
    };

    fn range(s: &str) -> MapSpec {
        MapSpec::Range(IdRange::parse(s).expect("range"))
    }

    #[test]
    fn single_ids_are_written_by_nsrun_ranges_by_the_helper() {
        let m = build_map(MapKind::Uid, &[], Some(Single::To(0)), 1000, &ROOT)
            .expect("map")
            .expect("some");
        assert!(!m.by_helper);
        assert_eq!(m.map.to_string(), "0:1000:1");
        let m = build_map(MapKind::Uid, &[], Some(Single::Current), 1000, &ROOT)
            .expect("map")
            .expect("some");
        assert_eq!(m.map.to_string(), "1000:1000:1");
        let m = build_map(
            MapKind::Uid,
            &[range("0:100000:65536")],
            Some(Single::To(0)),
            1000,
            &ROOT,
        )
        .expect("map")
        .expect("some");
        assert!(m.by_helper);
        assert_eq!(m.map.to_string(), "0:1000:1,1:100001:65535");
        assert!(build_map(MapKind::Gid, &[], None, 0, &ROOT)
            .expect("none")
            .is_none());
    }

    #[test]
    fn overlapping_ranges_name_the_option() {
        let e = build_map(
            MapKind::Gid,
            &[range("0:100000:10"), range("5:200000:10")],
            None,
            0,
            &ROOT,
        )
        .expect_err("overlap");
        assert!(e.to_string().starts_with("--map-groups: "), "{e}");
    }

    #[test]
    fn unprivileged_ranges_must_be_subordinate_ids() {
        let nobody = MapOwner {
            name: Some("no-such-user-in-subuid"),
            uid: 4_000_000_000,
            is_root: false,
        };
        let e = build_map(
            MapKind::Uid,
            &[range("0:0:10")],
            None,
            4_000_000_000,
            &nobody,
        )
        .expect_err("unmappable");
        assert!(
            e.to_string().contains("not among the subordinate ids"),
            "{e}"
        );
    }
}
