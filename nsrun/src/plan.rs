//! The plan: everything nsrun is going to do, worked out and checked before the first
//! `unshare`. Implied options are applied, id maps are built (`maps`), persist targets are
//! resolved and their directories checked, user-named fds are duplicated, the pid file is
//! opened. Bad input therefore fails here, with nothing changed — except the pid file's
//! temporary file, which [`PidFile`] removes again on any later failure.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nsutils_common::cli::{NsFlags, TimeOffset, ValueTrap};
use nsutils_common::creds::Creds;
use nsutils_common::mount::Propagation;
use nsutils_common::nsfs::netns_path;
use nsutils_common::safefile::{self, PidFile};
use nsutils_common::{spawn, Error, NsKind, Result};

use crate::cli::{Cli, Extras};
use crate::handoff::UserFds;
use crate::maps::{id_maps, Maps};

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
    /// `--setgid`, `--setuid`, `--keep-caps`.
    pub creds: Creds,
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
    /// The caller's `/proc`, opened now: for `--info-fd` (a child may mount another over
    /// it), and for `--setgid`, to ask whether `setgroups` is denied once the command's
    /// process is set up (after `--root` there may be no `/proc` at all).
    pub proc_dir: Option<OwnedFd>,
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
        let proc_dir = open_proc(&cli, &fds)?;
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
            creds: Creds {
                clear_groups: cli.setgid.is_some(),
                gid: cli.setgid,
                uid: cli.setuid,
                keep_caps: cli.keep_caps,
            },
            monotonic: cli.monotonic,
            boottime: cli.boottime,
            env: EnvPolicy {
                clear: cli.clear_env,
                keep: cli.whitelist_env,
            },
            pid_file,
            fds,
            proc_dir,
            program,
            trap: cli.trap,
            is_root,
        })
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

/// The caller's `/proc` as an `O_PATH` directory: needed for `--info-fd`; for `--setgid`
/// only if there is one (without, setgroups counts as allowed, as where it cannot be read).
fn open_proc(cli: &Cli, fds: &UserFds) -> Result<Option<OwnedFd>> {
    let open = || safefile::open_dir_fd("/proc");
    if fds.info.is_some() {
        open()
            .map(Some)
            .map_err(|e| Error::errno("cannot open /proc", e))
    } else {
        Ok(cli.setgid.and_then(|_| open().ok()))
    }
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
