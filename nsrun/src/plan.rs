//! The plan: everything nsrun is going to do, worked out and checked before the first
//! `unshare`. Implied options are applied, id maps are built (subordinate ids looked up, the
//! caller's own single id punched into ranges), persist targets are resolved and their
//! directories checked, user-named fds are duplicated, the pid file is opened. Bad input
//! therefore fails here, with nothing changed — except the pid file's temporary file, which
//! [`PidFile`] removes again on any later failure.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nsutils_common::cli::{NsFlags, TimeOffset, ValueTrap};
use nsutils_common::idmap::{find_subids, IdMap, IdRange, MapKind, ProcRoot};
use nsutils_common::mount::Propagation;
use nsutils_common::nsfs::netns_path;
use nsutils_common::safefile::{self, PidFile};
use nsutils_common::{spawn, sys, Error, NsKind, Result};

use crate::cli::{Cli, Extras, MapSpec, SetGroups, Single};

/// One namespace to persist.
#[derive(Debug, Clone)]
pub struct Persist {
    /// Which namespace.
    pub kind: NsKind,
    /// Where: a file, created if missing.
    pub target: PathBuf,
    /// A `--netns=NAME` under `/run/netns`: must not exist yet, and `/run/netns` is set up as
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
    /// The id maps and `setgroups`.
    pub maps: Maps,
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
    /// `--info-fd`, `--block-fd`, `--ready-fd`.
    pub fds: UserFds,
    /// The command, or the login shell.
    pub program: spawn::Program,
    /// The namespace option that took no value before the command (`--net /path cmd`).
    pub trap: Option<ValueTrap>,
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
            || self.maps.uid.as_ref().is_some_and(|m| m.by_helper)
            || self.maps.gid.as_ref().is_some_and(|m| m.by_helper)
    }

    /// Whether `--timeout` must find the command's descendants itself: without a new PID
    /// namespace (whose PID 1 takes every process in it along when it dies), nsrun is a
    /// child subreaper, so that they all become its children as their parents die.
    pub fn reaps_job(&self) -> bool {
        self.timeout.is_some() && !self.creates(NsKind::Pid)
    }

    /// Whether the kind is created.
    pub fn creates(&self, kind: NsKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Whether the parent and the child talk before the command starts.
    pub fn has_handoff(&self) -> bool {
        self.pid_file.is_some()
            || self.fds.info.is_some()
            || self.fds.ready.is_some()
            || self.persists_pid()
    }

    /// Whether the PID namespace is persisted (after the fork, by the helper).
    pub fn persists_pid(&self) -> bool {
        self.persist.iter().any(|p| p.kind == NsKind::Pid)
    }

    /// Work out and check everything; change nothing (but the pid file's temporary file).
    /// The steps, as the man page has them: the kinds other options imply, the option
    /// combinations, the id maps and `setgroups`, the namespaces to persist, root and
    /// working directory, the caller's fds, `--fork` and what implies it, the pid file.
    pub fn new(cli: Cli) -> Result<Plan> {
        let ns = cli.implied_kinds()?;
        let kinds = ns.kinds();
        let is_root = nix::unistd::geteuid().is_root();
        cli.validate(&kinds, is_root)?;
        let maps = id_maps(&cli, is_root)?;
        let persist = persist_targets(&ns, &kinds, &cli.more)?;
        check_root_and_wd(&cli)?;
        let fds = UserFds::take(&cli.more)?;
        let fork = cli.forks(&kinds);
        let mount_binfmt = cli.binfmt_dir();
        let x = cli.more;
        let program = spawn::Program::command_or_login_shell(cli.command);
        // Last, as it is the only step that leaves something behind (removed on failure).
        let pid_file = match &x.pid_file {
            None => None,
            Some(path) => Some(PidFile::prepare(path).map_err(|e| e.context("--pid-file"))?),
        };
        Ok(Plan {
            kinds,
            persist,
            persist_dir: x.persist,
            maps,
            owner: cli.owner,
            fork,
            kill_child: cli.kill_child,
            forward_signals: cli.forward_signals,
            init: x.init,
            timeout: x.timeout,
            propagation: cli.propagation.unwrap_or_default(),
            hostname: x.hostname,
            domainname: x.domainname,
            loopback: !x.no_loopback,
            mount_proc: cli.mount_proc,
            mount_binfmt,
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
            fds,
            program,
            trap: cli.trap,
            is_root,
        })
    }
}

impl Cli {
    /// The kinds to create: those asked for, and those other options imply (`--map-*`,
    /// `--owner`, `--mount-binfmt` and `--load-interp` imply `--user`; `--mount-proc` and
    /// binfmt_misc `--mount`; `--hostname`, `--domainname` `--uts`; `--netns` `--net`).
    pub fn implied_kinds(&self) -> Result<NsFlags> {
        let mut ns = self.ns.clone();
        let x = &self.more;
        if self.uses_maps() || self.owner.is_some() || self.loads_binfmt() {
            ns.imply(NsKind::User);
        }
        if self.mount_proc.is_some() || self.loads_binfmt() {
            ns.imply(NsKind::Mnt);
        }
        if x.hostname.is_some() || x.domainname.is_some() {
            ns.imply(NsKind::Uts);
        }
        if let Some(name) = &x.netns {
            if let Some(Some(file)) = ns.get(NsKind::Net) {
                return Err(Error::msg(format!(
                    "--net={} and --netns={name} both name where to persist the network namespace",
                    file.display(),
                ))
                .hint("give one of them: --net=FILE (a path) or --netns=NAME (/run/netns/NAME)"));
            }
            ns.imply(NsKind::Net);
        }
        Ok(ns)
    }

    /// The option combinations that depend on the kinds created (`kinds`) and on whether
    /// the caller is root.
    pub fn validate(&self, kinds: &[NsKind], is_root: bool) -> Result<()> {
        let creates = |k| kinds.contains(&k);
        if self.more.init && !creates(NsKind::Pid) {
            return Err(Error::msg("--init needs --pid (-p)")
                .hint("the reaper runs as PID 1 of a new PID namespace"));
        }
        for (name, v) in [
            ("--monotonic", &self.monotonic),
            ("--boottime", &self.boottime),
        ] {
            if v.is_some() && !creates(NsKind::Time) {
                return Err(Error::msg(format!("{name} needs --time (-T)")));
            }
        }
        if self.owner.is_some() && !is_root {
            return Err(Error::msg("--owner needs root"));
        }
        if self.setgroups.is_some() && !creates(NsKind::User) {
            return Err(Error::msg("--setgroups needs --user (-U)"));
        }
        Ok(())
    }

    /// Whether any option maps ids.
    fn uses_maps(&self) -> bool {
        self.user_single.is_some()
            || self.group_single.is_some()
            || !self.map_users.is_empty()
            || !self.map_groups.is_empty()
            || self.map_auto
            || self.map_subids
    }

    /// Whether a binfmt_misc instance is mounted (`--mount-binfmt`, `--load-interp`).
    fn loads_binfmt(&self) -> bool {
        self.mount_binfmt.is_some() || self.load_interp.is_some()
    }

    /// Where binfmt_misc is mounted, if it is.
    pub fn binfmt_dir(&self) -> Option<PathBuf> {
        self.loads_binfmt().then(|| {
            self.mount_binfmt
                .clone()
                .unwrap_or_else(|| PathBuf::from("/proc/sys/fs/binfmt_misc"))
        })
    }

    /// Whether nsrun forks, the command running in the child: `--fork`, or an option that
    /// implies it. With a pid file nsrun stays to remove it once the command has exited, as
    /// daemons do theirs: a pid file naming a dead (or reused) PID is worse than none.
    pub fn forks(&self, kinds: &[NsKind]) -> bool {
        let x = &self.more;
        self.fork
            || x.pid_file.is_some()
            || kinds.contains(&NsKind::Pid)
            || self.kill_child.is_some()
            || self.forward_signals
            || x.init
            || x.timeout.is_some()
    }
}

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

/// The id maps: "current" is who we will be when unshare runs (`--owner` changes it).
fn id_maps(cli: &Cli, is_root: bool) -> Result<Maps> {
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

/// The namespaces to persist, their directories checked now: `--KIND=FILE` (a path,
/// relative ones to the working directory, as util-linux reads it), `--netns=NAME`, and
/// every kind created under `--persist=DIR`.
fn persist_targets(ns: &NsFlags, kinds: &[NsKind], x: &Extras) -> Result<Vec<Persist>> {
    let mut persist = Vec::new();
    for kind in kinds {
        if let Some(Some(file)) = ns.get(*kind) {
            check_dir_of(*kind, file)?;
            persist.push(Persist {
                kind: *kind,
                target: file.clone(),
                netns_name: false,
                in_dir: false,
            });
        }
    }
    if let Some(name) = &x.netns {
        persist.push(netns_target(name)?);
    }
    if let Some(dir) = &x.persist {
        check_persist_dir(dir)?;
        persist.extend(kinds.iter().map(|kind| Persist {
            kind: *kind,
            target: dir.join(kind.proc_name()),
            netns_name: false,
            in_dir: true,
        }));
    }
    Ok(persist)
}

/// `--netns=NAME`: `/run/netns/NAME`, which must not exist yet.
fn netns_target(name: &str) -> Result<Persist> {
    let target = netns_path(name);
    if target.symlink_metadata().is_ok() {
        return Err(Error::msg(format!(
            "network namespace {name} already exists ({})",
            target.display()
        ))
        .hint(format!("remove it with: ip netns delete {name}")));
    }
    Ok(Persist {
        kind: NsKind::Net,
        target,
        netns_name: true,
        in_dir: false,
    })
}

/// `--persist=DIR`: its parent exists; DIR is not a symlink, a file or another user's
/// directory in /tmp.
fn check_persist_dir(dir: &Path) -> Result<()> {
    let parent = parent_of(dir);
    if !parent.is_dir() {
        return Err(Error::msg(format!(
            "--persist={}: directory {} does not exist",
            dir.display(),
            parent.display()
        )));
    }
    safefile::check(dir, true).map_err(|e| e.context("--persist"))
}

/// `--root` is a directory, and so is `--wd` (inside the new root).
fn check_root_and_wd(cli: &Cli) -> Result<()> {
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
    Ok(())
}

/// The fds the caller handed nsrun: our close-on-exec duplicates.
#[derive(Debug, Default)]
pub struct UserFds {
    /// `--info-fd`.
    pub info: Option<OwnedFd>,
    /// `/proc`, opened for `--info-fd` (a child may mount another over it).
    pub proc_dir: Option<OwnedFd>,
    /// `--block-fd`.
    pub block: Option<OwnedFd>,
    /// `--ready-fd`.
    pub ready: Option<OwnedFd>,
}

impl UserFds {
    /// Duplicate `--info-fd`, `--block-fd` and `--ready-fd` close-on-exec and close the
    /// originals: the command must not inherit them, and the caller's EOF must come when
    /// nsrun is done with them.
    fn take(x: &Extras) -> Result<UserFds> {
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
        let proc_dir = match &info {
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
        Ok(UserFds {
            info,
            proc_dir,
            block,
            ready,
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
