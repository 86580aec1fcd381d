//! The plan: everything nsrun is going to do, worked out and checked before the first
//! `unshare`. Implied options are applied, id maps are built (subordinate ids looked up, the
//! caller's own single id punched into ranges), persist targets are resolved and their
//! directories checked, user-named fds are duplicated, the pid file is opened. Bad input
//! therefore fails here, with nothing changed — except the pid file's temporary file, which
//! [`PidFile`] removes again on any later failure.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nsutils_common::cli::TimeOffset;
use nsutils_common::idmap::{find_subids, IdMap, IdRange, MapKind, ProcRoot};
use nsutils_common::mount::Propagation;
use nsutils_common::nsfs::resolve_ns_arg;
use nsutils_common::safefile::{self, PidFile};
use nsutils_common::{spawn, sys, Error, NsKind, Result};

use crate::cli::{Cli, MapSpec, SetGroups, Single};

/// One namespace to persist.
#[derive(Debug, Clone)]
pub struct Persist {
    /// Which namespace.
    pub kind: NsKind,
    /// Where: a file, created if missing.
    pub target: PathBuf,
    /// A `--net=NAME` under `/run/netns`: must not exist yet, and `/run/netns` is set up as
    /// `ip netns add` does.
    pub netns_name: bool,
    /// One of `--persist=DIR`'s files, `DIR/<kind>`: opened relative to the directory.
    pub in_dir: bool,
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

/// How the command's environment is built.
#[derive(Debug, Clone, Default)]
pub struct EnvPolicy {
    /// Start from nothing.
    pub clear: bool,
    /// Keep only these (when not empty).
    pub keep: Vec<String>,
}

/// Everything to do, in the order `run` does it.
#[derive(Debug)]
pub struct Plan {
    /// Kinds to create.
    pub kinds: Vec<NsKind>,
    /// Namespaces to persist.
    pub persist: Vec<Persist>,
    /// `--persist=DIR`, created by the helper if missing.
    pub persist_dir: Option<PathBuf>,
    /// The uid map, if any.
    pub uid_map: Option<MapPlan>,
    /// The gid map, if any.
    pub gid_map: Option<MapPlan>,
    /// What to write to `setgroups` (`true` = allow).
    pub setgroups: Option<bool>,
    /// `--owner`.
    pub owner: Option<(u32, u32)>,
    /// Fork, the command runs in the child.
    pub fork: bool,
    /// `--kill-child`.
    pub kill_child: Option<i32>,
    /// `--forward-signals`.
    pub forward_signals: bool,
    /// `--init`.
    pub init: bool,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// Propagation of a new mount namespace.
    pub propagation: Propagation,
    /// `--hostname`.
    pub hostname: Option<String>,
    /// `--domainname`.
    pub domainname: Option<String>,
    /// Bring `lo` up in a new network namespace.
    pub loopback: bool,
    /// `--mount-proc`.
    pub mount_proc: Option<PathBuf>,
    /// `--mount-binfmt`.
    pub mount_binfmt: Option<PathBuf>,
    /// `--load-interp`.
    pub load_interp: Option<String>,
    /// `--root`.
    pub root: Option<PathBuf>,
    /// `--wd`.
    pub wd: Option<PathBuf>,
    /// `--setuid`.
    pub setuid: Option<u32>,
    /// `--setgid`.
    pub setgid: Option<u32>,
    /// `--keep-caps`.
    pub keep_caps: bool,
    /// `--monotonic`.
    pub monotonic: Option<TimeOffset>,
    /// `--boottime`.
    pub boottime: Option<TimeOffset>,
    /// The command's environment.
    pub env: EnvPolicy,
    /// `--pid-file`: checked and its temporary file made; written once the command's
    /// process exists, removed (if still ours) when nsrun exits.
    pub pid_file: Option<PidFile>,
    /// `--info-fd` (our duplicate).
    pub info_fd: Option<OwnedFd>,
    /// `/proc`, opened for `--info-fd` (a child may mount another over it).
    pub proc_dir: Option<OwnedFd>,
    /// `--block-fd` (our duplicate).
    pub block_fd: Option<OwnedFd>,
    /// `--ready-fd` (our duplicate).
    pub ready_fd: Option<OwnedFd>,
    /// The command.
    pub argv: Vec<OsString>,
    /// The namespace flag that swallowed no value before a command path.
    pub trap_flag: Option<String>,
    /// The caller is root.
    pub is_root: bool,
}

impl Plan {
    /// Whether a helper process must stay in the caller's namespaces: to write range maps
    /// or to persist namespaces from outside — or to remove the pid file (or its temporary
    /// file) should nsrun be killed (SIGKILL) before the command runs: nothing else outlives
    /// nsrun.
    pub fn needs_helper(&self) -> bool {
        !self.persist.is_empty()
            || self.pid_file.is_some()
            || self.uid_map.as_ref().is_some_and(|m| m.by_helper)
            || self.gid_map.as_ref().is_some_and(|m| m.by_helper)
    }

    /// Whether the kind is created.
    pub fn creates(&self, kind: NsKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Whether the parent and the child talk before the command starts.
    pub fn has_handoff(&self) -> bool {
        self.pid_file.is_some()
            || self.info_fd.is_some()
            || self.ready_fd.is_some()
            || self.persists_pid()
    }

    /// Whether the PID namespace is persisted (after the fork, by the helper).
    pub fn persists_pid(&self) -> bool {
        self.persist.iter().any(|p| p.kind == NsKind::Pid)
    }

    /// Work out and check everything.
    pub fn new(cli: Cli) -> Result<Plan> {
        let mut ns = cli.ns.clone();
        let x = &cli.more;
        let uses_maps = cli.user_single.is_some()
            || cli.group_single.is_some()
            || !cli.map_users.is_empty()
            || !cli.map_groups.is_empty()
            || cli.map_auto
            || cli.map_subids;
        let load_binfmt = cli.mount_binfmt.is_some() || cli.load_interp.is_some();
        if uses_maps || cli.owner.is_some() || load_binfmt {
            ns.imply(NsKind::User);
        }
        if cli.mount_proc.is_some() || load_binfmt {
            ns.imply(NsKind::Mnt);
        }
        if x.hostname.is_some() || x.domainname.is_some() {
            ns.imply(NsKind::Uts);
        }
        let kinds = ns.kinds();
        let creates = |k| kinds.contains(&k);

        if x.init && !creates(NsKind::Pid) {
            return Err(Error::msg("--init needs --pid (-p)")
                .hint("the reaper runs as PID 1 of a new PID namespace"));
        }
        for (name, v) in [
            ("--monotonic", &cli.monotonic),
            ("--boottime", &cli.boottime),
        ] {
            if v.is_some() && !creates(NsKind::Time) {
                return Err(Error::msg(format!("{name} needs --time (-T)")));
            }
        }
        let is_root = nix::unistd::geteuid().is_root();
        if cli.owner.is_some() && !is_root {
            return Err(Error::msg("--owner needs root"));
        }
        if cli.setgroups.is_some() && !creates(NsKind::User) {
            return Err(Error::msg("--setgroups needs --user (-U)"));
        }

        // Id maps: "current" is who we will be when unshare runs (--owner changes it).
        let (own_uid, own_gid) = cli.owner.unwrap_or((
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ));
        // The user database is read only when subordinate ids are looked up: it is the
        // slowest part of a plain `nsrun -r` otherwise (NSS, nscd, /etc/passwd).
        let needs_name = !is_root && (!cli.map_users.is_empty() || !cli.map_groups.is_empty())
            || cli.map_auto
            || cli.map_subids
            || cli
                .map_users
                .iter()
                .chain(&cli.map_groups)
                .any(|s| matches!(s, MapSpec::Auto | MapSpec::Subids));
        let user_name = if needs_name {
            nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(own_uid))
                .ok()
                .flatten()
                .map(|u| u.name)
        } else {
            None
        };
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
        let who = MapOwner {
            name: user_name.as_deref(),
            uid: own_uid,
            is_root,
        };
        let uid_map = build_map(MapKind::Uid, &uid_specs, cli.user_single, own_uid, &who)?;
        let gid_map = build_map(MapKind::Gid, &gid_specs, cli.group_single, own_gid, &who)?;
        let self_written_gid = gid_map.as_ref().is_some_and(|m| !m.by_helper);
        // A single group map implies deny, as in unshare; nsrun writing it itself needs it.
        let setgroups = match (cli.setgroups, cli.group_single.is_some(), self_written_gid) {
            (Some(SetGroups::Allow), _, true) => {
                return Err(Error::msg(
                    "--setgroups=allow cannot be combined with a single group map",
                )
                .hint(
                    "the kernel lets a process map its own group only once setgroups is \
                     denied; map a range with --map-groups instead",
                ))
            }
            (Some(SetGroups::Allow), _, false) => Some(true),
            (Some(SetGroups::Deny), _, _) | (None, true, _) => Some(false),
            (None, false, _) => None,
        };

        // Persisting: targets resolved and their directories checked now.
        let mut persist = Vec::new();
        for kind in &kinds {
            if let Some(Some(file)) = ns.get(*kind) {
                let target = resolve_ns_arg(*kind, file);
                let netns_name = &target != file;
                if netns_name {
                    if target.symlink_metadata().is_ok() {
                        return Err(Error::msg(format!(
                            "network namespace {} already exists ({})",
                            file.display(),
                            target.display()
                        )));
                    }
                } else {
                    check_dir_of(*kind, &target)?;
                }
                persist.push(Persist {
                    kind: *kind,
                    target,
                    netns_name,
                    in_dir: false,
                });
            }
        }
        let persist_dir = x.persist.clone();
        if let Some(dir) = &persist_dir {
            let parent = parent_of(dir);
            if !parent.is_dir() {
                return Err(Error::msg(format!(
                    "--persist={}: directory {} does not exist",
                    dir.display(),
                    parent.display()
                )));
            }
            // Not a symlink, a file or another user's directory in /tmp.
            safefile::check(dir, true).map_err(|e| e.context("--persist"))?;
            for kind in &kinds {
                persist.push(Persist {
                    kind: *kind,
                    target: dir.join(kind.proc_name()),
                    netns_name: false,
                    in_dir: true,
                });
            }
        }

        if let Some(root) = &cli.root {
            if !root.is_dir() {
                return Err(Error::msg(format!(
                    "--root={}: not a directory",
                    root.display()
                )));
            }
        }
        if let Some(wd) = &cli.wd {
            let seen = match &cli.root {
                Some(root) => root.join(wd.strip_prefix("/").unwrap_or(wd)),
                None => wd.clone(),
            };
            if !seen.is_dir() {
                return Err(Error::msg(format!(
                    "--wd={}: not a directory",
                    wd.display()
                )));
            }
        }

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
        let info_fd = take_fd("info-fd", x.info_fd)?;
        let block_fd = take_fd("block-fd", x.block_fd)?;
        let ready_fd = take_fd("ready-fd", x.ready_fd)?;
        // The command must not inherit them, and the caller's EOF must come when nsrun is
        // done with them: keep only our close-on-exec copies.
        for fd in [x.info_fd, x.block_fd, x.ready_fd].into_iter().flatten() {
            if fd > 2 {
                let _ = nix::unistd::close(fd);
            }
        }

        let proc_dir = match &info_fd {
            None => None,
            Some(_) => Some(
                nix::fcntl::open(
                    "/proc",
                    nix::fcntl::OFlag::O_PATH
                        | nix::fcntl::OFlag::O_DIRECTORY
                        | nix::fcntl::OFlag::O_CLOEXEC,
                    nix::sys::stat::Mode::empty(),
                )
                .map_err(|e| Error::errno("cannot open /proc", e))?,
            ),
        };
        // With a pid file nsrun stays to remove it once the command has exited, as daemons
        // do theirs: a pid file naming a dead (or reused) PID is worse than none.
        let fork = cli.fork
            || x.pid_file.is_some()
            || creates(NsKind::Pid)
            || cli.kill_child.is_some()
            || cli.forward_signals
            || x.init
            || x.timeout.is_some();
        let argv = spawn::command_or_shell(cli.command);

        // Last, as it is the only step that leaves something behind (removed on failure).
        let pid_file = match &x.pid_file {
            None => None,
            Some(path) => Some(PidFile::prepare(path).map_err(|e| e.context("--pid-file"))?),
        };

        Ok(Plan {
            kinds,
            persist,
            persist_dir,
            uid_map,
            gid_map,
            setgroups,
            owner: cli.owner,
            fork,
            kill_child: cli.kill_child,
            forward_signals: cli.forward_signals,
            init: x.init,
            timeout: x.timeout,
            propagation: cli.propagation.unwrap_or_default(),
            hostname: x.hostname.clone(),
            domainname: x.domainname.clone(),
            loopback: !x.no_loopback,
            mount_proc: cli.mount_proc,
            mount_binfmt: if load_binfmt {
                Some(
                    cli.mount_binfmt
                        .unwrap_or_else(|| PathBuf::from("/proc/sys/fs/binfmt_misc")),
                )
            } else {
                None
            },
            load_interp: cli.load_interp,
            root: cli.root,
            wd: cli.wd,
            setuid: cli.setuid,
            setgid: cli.setgid,
            keep_caps: cli.keep_caps,
            monotonic: cli.monotonic,
            boottime: cli.boottime,
            env: EnvPolicy {
                clear: cli.clear_env,
                keep: cli.whitelist_env,
            },
            pid_file,
            info_fd,
            proc_dir,
            block_fd,
            ready_fd,
            argv,
            trap_flag: cli.trap_flag,
            is_root,
        })
    }
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn check_dir_of(kind: NsKind, target: &Path) -> Result<()> {
    let dir = parent_of(target);
    if !dir.is_dir() {
        return Err(Error::msg(format!(
            "cannot persist the {kind} namespace at {}: directory {} does not exist",
            target.display(),
            dir.display()
        )));
    }
    // A planted symlink, FIFO or file: refused now, before anything changes.
    safefile::check(target, false)
        .map_err(|e| e.context(format!("cannot persist the {kind} namespace")))
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
    let add = |map: &mut IdMap, r: IdRange| {
        map.add_range(r)
            .map_err(|e| Error::msg(format!("{opt}: {e}")))
    };
    for spec in specs {
        match spec {
            MapSpec::Range(r) => add(&mut map, *r)?,
            MapSpec::Auto => {
                let s = who.first_subids(kind)?;
                add(
                    &mut map,
                    IdRange::new(0, s.outer, s.count).map_err(Error::msg)?,
                )?;
            }
            MapSpec::Subids => add(&mut map, who.first_subids(kind)?)?,
            MapSpec::All => {
                let parent = ProcRoot::default().read_map(None, kind)?;
                for r in IdMap::identity_of(&parent).ranges() {
                    add(&mut map, *r)?;
                }
            }
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
    }
    Ok(Some(MapPlan { map, by_helper }))
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
