//! The plan of nsenter: everything that can fail on bad input — pins the target, opens and
//! checks every namespace file, the root and working directories, reads the environment and
//! the cgroup — done before anything changes. [`Plan::execute`](crate::run) then makes the
//! changes.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nsutils_common::cli::ValueTrap;
use nsutils_common::exit;
use nsutils_common::nsfs::{netns_name_hint, netns_path, NsFile, NsId};
use nsutils_common::spawn;
use nsutils_common::{sys, Error, NsKind, Result};

use crate::cgroup;
use crate::cli::{Cli, IdArg, PROG};
use crate::creds::Creds;
use crate::join::{self, Entry};
use crate::ownproc::OwnProc;
use crate::target::{map_into, Target};

/// Where a namespace to enter comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// The target's own (through its pidfd).
    Target,
    /// A namespace file.
    File(PathBuf),
    /// The network namespace of the target's socket FD (`-N`).
    Socket(i32),
    /// The parent of a user namespace (`--user-parent`).
    UserParent,
}

/// Everything opened and decided before the first change.
#[derive(Debug)]
pub struct Plan {
    pub(crate) target: Option<Target>,
    pub(crate) entries: Vec<Entry>,
    pub(crate) user_first: bool,
    pub(crate) use_pidfd: bool,
    pub(crate) selinux_context: Option<Vec<u8>>,
    pub(crate) cgroup: Option<(File, PathBuf)>,
    pub(crate) root: Option<OwnedFd>,
    pub(crate) wd: Option<OwnedFd>,
    pub(crate) wdns: Option<PathBuf>,
    pub(crate) creds: Creds,
    /// Our `/proc`, for what is read of ourselves after entering.
    pub(crate) own_proc: OwnProc,
    pub(crate) env: Option<Vec<(OsString, OsString)>>,
    pub(crate) fork: bool,
    pub(crate) program: spawn::Program,
    pub(crate) trap: Option<ValueTrap>,
}

/// Our own namespaces, each stat'ed at most once (`/proc/self/ns/X`); `None` where the
/// kernel lacks the kind.
#[derive(Debug, Default)]
struct OurNs([Option<Option<NsId>>; 8]);

impl OurNs {
    fn get(&mut self, kind: NsKind) -> Option<NsId> {
        let i = NsKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        *self.0[i].get_or_insert_with(|| NsId::of_process(None, kind).ok())
    }
}

/// Whether we are root with CAP_SYS_ADMIN: then the user namespace is entered last.
fn privileged() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    nix::unistd::geteuid().is_root()
        && sys::caps_permitted().is_ok_and(|c| c & (1 << CAP_SYS_ADMIN) != 0)
}

/// Open a namespace file given on the command line; a bare name that is no file here but
/// an `ip netns` name gets a hint.
fn open_file(path: &Path, kind: NsKind) -> Result<NsFile> {
    NsFile::open(path, Some(kind)).map_err(|e| match netns_name_hint(kind, path) {
        Some(h) => e.hint(h),
        None => e,
    })
}

/// Open a directory as an O_PATH fd, for `fchdir` after entering.
fn open_dir(path: &Path, what: &str) -> Result<OwnedFd> {
    open(
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::errno(format!("cannot open {what} {}", path.display()), e))
}

/// The kinds and where each comes from, from the options, in the man page's order of
/// precedence: `--from`'s files, `-a`'s (the target's, where the kernel has the kind), each
/// namespace option (its file, or without one the target's, over `--from`'s), then
/// `--netns`, `-N` and `--user-parent`.
fn sources(
    cli: &Cli,
    target: Option<&Target>,
    ours: &mut OurNs,
) -> Result<BTreeMap<NsKind, Source>> {
    let mut want = match &cli.from {
        Some(dir) => from_dir(dir)?,
        None => BTreeMap::new(),
    };
    if cli.all && target.is_some() {
        for kind in NsKind::ALL {
            if ours.get(kind).is_some() {
                want.entry(kind).or_insert(Source::Target);
            }
        }
    }
    for kind in cli.ns.kinds() {
        let from_file = cli.from.is_some() && matches!(want.get(&kind), Some(Source::File(_)));
        match (cli.ns.get(kind).flatten(), target) {
            (Some(f), _) => {
                want.insert(kind, Source::File(f.clone()));
            }
            // An explicit flag without a file means the target's, over --from's.
            (None, Some(_)) if !from_file => {
                want.insert(kind, Source::Target);
            }
            (None, None) if !want.contains_key(&kind) => {
                return Err(Error::msg(format!(
                    "--{}: no {kind} file in the --from directory and no target (-t PID)",
                    kind.long_flag()
                )));
            }
            _ => {}
        }
    }
    if let Some(name) = &cli.netns {
        want.insert(NsKind::Net, Source::File(netns_path(name)));
    }
    if let Some(fd) = cli.net_socket {
        want.insert(NsKind::Net, Source::Socket(fd));
    }
    if cli.user_parent {
        want.insert(NsKind::User, Source::UserParent);
    }
    Ok(want)
}

/// `--from=DIR`: every namespace file `DIR/<kind>` present (as `nsrun --persist=DIR` saves
/// them); at least one.
fn from_dir(dir: &Path) -> Result<BTreeMap<NsKind, Source>> {
    let md = std::fs::metadata(dir)
        .map_err(|e| Error::os(format!("cannot open {}", dir.display()), e))?;
    if !md.is_dir() {
        return Err(Error::msg(format!(
            "--from: {} is not a directory",
            dir.display()
        )));
    }
    let want: BTreeMap<NsKind, Source> = NsKind::ALL
        .into_iter()
        .map(|kind| (kind, dir.join(kind.proc_name())))
        .filter(|(_, p)| p.symlink_metadata().is_ok())
        .map(|(kind, p)| (kind, Source::File(p)))
        .collect();
    if want.is_empty() {
        return Err(Error::msg(format!(
            "{} holds no namespace files",
            dir.display()
        ))
        .hint("expected files named cgroup, ipc, mnt, net, pid, time, user, uts (as nsrun --persist=DIR saves them)"));
    }
    Ok(want)
}

/// Open the network namespace of fd `fd` of the target, a socket.
fn socket_netns(target: &Target, fd: i32) -> Result<NsFile> {
    let pid = target.pid();
    let sock = sys::pidfd_getfd(std::os::fd::AsFd::as_fd(target.pidfd()), fd).map_err(|e| {
        let errno = e.raw_os_error();
        let err = Error::os(
            format!("cannot get file descriptor {fd} of process {pid}"),
            e,
        );
        match errno {
            Some(libc::EBADF) => err.hint(format!("process {pid} has no file descriptor {fd}")),
            Some(libc::EPERM) => {
                err.hint("taking another process's fd needs ptrace permission over it")
            }
            _ => err,
        }
    })?;
    let ns = sys::socket_netns(std::os::fd::AsFd::as_fd(&sock)).map_err(|e| {
        if matches!(e.raw_os_error(), Some(libc::ENOTTY) | Some(libc::EINVAL)) {
            Error::msg(format!(
                "file descriptor {fd} of process {pid} is not a socket"
            ))
        } else {
            Error::os(
                format!("cannot get the network namespace of socket {fd} of process {pid}"),
                e,
            )
        }
    })?;
    NsFile::from_fd(
        ns,
        PathBuf::from(format!("socket {fd} of process {pid}")),
        Some(NsKind::Net),
    )
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

impl Plan {
    /// Open and check everything; change nothing. The steps, as the man page has them: the
    /// target, the namespaces to enter, the credentials, the SELinux context, the cgroup, the
    /// root and working directory, the environment, and whether to fork.
    pub fn new(cli: Cli) -> Result<Plan> {
        cli.validate()?;
        spawn::check_single_threaded()?;
        // Pin the target before anything else about it is read.
        let target = cli.target.map(Target::open).transpose()?;
        let t = target.as_ref();
        let entries = namespaces(&cli, t)?;
        let creds = credentials(&cli, t, &entries)?;
        let selinux_context = selinux_context(&cli, t)?;
        let cgroup = match cli.join_cgroup {
            true => Some(cgroup::open_procs(
                &need_target(t, "--join-cgroup")?.cgroup_v2_path()?,
            )?),
            false => None,
        };
        let root = directory(t, "root", &cli.root, "root directory")?;
        let wd = directory(t, "cwd", &cli.wd, "working directory")?;
        let env = match cli.env {
            true => Some(need_target(t, "--env")?.environ()?),
            false => None,
        };
        let fork = !cli.no_fork && entries.iter().any(|e| e.file.kind() == NsKind::Pid);
        Ok(Plan {
            target,
            entries,
            user_first: !privileged(),
            use_pidfd: std::env::var_os(join::PER_FILE_ENV).map_or(true, |v| v != "1"),
            selinux_context,
            cgroup,
            root,
            wd,
            wdns: cli.wdns,
            creds,
            own_proc: OwnProc::open(),
            env,
            fork,
            program: spawn::Program::command_or_login_shell(cli.command),
            trap: cli.trap,
        })
    }
}

/// The target, for an option that needs one (`Cli::validate` has said so already).
fn need_target<'t>(target: Option<&'t Target>, option: &str) -> Result<&'t Target> {
    target.ok_or_else(|| Error::msg(format!("{option} needs a target (-t PID)")))
}

/// The namespaces to enter, opened and checked: where each comes from, the parent of a user
/// namespace for `--user-parent`, and only those that differ from ours.
fn namespaces(cli: &Cli, target: Option<&Target>) -> Result<Vec<Entry>> {
    let mut ours = OurNs::default();
    let want = sources(cli, target, &mut ours)?;
    let mut entries = open_sources(&want, target)?;
    if want.get(&NsKind::User) == Some(&Source::UserParent) {
        let file = user_parent(cli, &entries, target)?;
        entries.push(Entry {
            file,
            via_target: false,
        });
    }
    let entries = differing(entries, &mut ours)?;
    if let Some(t) = target {
        if want.get(&NsKind::Pid) == Some(&Source::Target) {
            let own = entries
                .iter()
                .find(|e| e.file.kind() == NsKind::Pid)
                .map_or_else(|| ours.get(NsKind::Pid), |e| e.file.id().ok());
            warn_pid_for_children(t, own);
        }
    }
    Ok(entries)
}

/// Open each namespace but `--user-parent`'s: the target's through its pidfd, files by path,
/// `-N`'s through the target's socket.
fn open_sources(want: &BTreeMap<NsKind, Source>, target: Option<&Target>) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (kind, src) in want {
        let (file, via_target) = match src {
            Source::Target => (
                need_target(target, &format!("--{}", kind.long_flag()))?.ns_file(*kind)?,
                true,
            ),
            Source::File(p) => (open_file(p, *kind)?, false),
            Source::Socket(fd) => (
                socket_netns(need_target(target, "--net-socket")?, *fd)?,
                false,
            ),
            Source::UserParent => continue,
        };
        entries.push(Entry { file, via_target });
    }
    Ok(entries)
}

/// `--user-parent`: the parent of `--user`'s namespace, else of the owner of another
/// namespace being entered, else of the target's.
fn user_parent(cli: &Cli, entries: &[Entry], target: Option<&Target>) -> Result<NsFile> {
    let base = match (cli.ns.get(NsKind::User), entries.first(), target) {
        (Some(Some(f)), _, _) => open_file(f, NsKind::User)?,
        (Some(None), _, Some(t)) => t.ns_file(NsKind::User)?,
        (Some(None), _, None) => {
            return Err(Error::msg("--user needs a file or a target (-t PID)"))
        }
        (None, Some(e), _) => e.file.owner()?,
        (None, None, Some(t)) => t.ns_file(NsKind::User)?,
        (None, None, None) => {
            return Err(Error::msg(
                "--user-parent needs a target or another namespace to start from",
            ))
        }
    };
    base.parent().map_err(|e| match e.raw_os_error() {
        Some(libc::EPERM) => e.hint(
            "that user namespace has no parent you can see (it is yours or an ancestor of yours)",
        ),
        _ => e,
    })
}

/// Only the namespaces that differ from ours: setns into our own user namespace is EINVAL,
/// and skipping the rest keeps -a cheap.
fn differing(entries: Vec<Entry>, ours: &mut OurNs) -> Result<Vec<Entry>> {
    let mut differing = Vec::with_capacity(entries.len());
    for e in entries {
        let kind = e.file.kind();
        let ours = ours.get(kind).ok_or_else(|| {
            Error::msg(format!(
                "this kernel has no {kind} namespaces (no /proc/self/ns/{kind})"
            ))
        })?;
        if e.file.id()? != ours {
            differing.push(e);
        }
    }
    Ok(differing)
}

/// The credentials: `-S`/`-G` (`follow` resolved), else — entering a user namespace without
/// `--preserve-credentials` — the default ids, with the supplementary groups dropped.
fn credentials(cli: &Cli, target: Option<&Target>, entries: &[Entry]) -> Result<Creds> {
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

/// `-Z`: the target's SELinux context, to run the command in.
fn selinux_context(cli: &Cli, target: Option<&Target>) -> Result<Option<Vec<u8>>> {
    if !cli.follow_context {
        return Ok(None);
    }
    if !Path::new("/sys/fs/selinux/enforce").exists() {
        return Err(
            Error::msg("--follow-context: SELinux is not enabled on this system")
                .hint("there is no SELinux context to follow; drop -Z"),
        );
    }
    need_target(target, "--follow-context")?
        .read("attr/current")
        .map(Some)
}

/// `-r`/`-w`: the directory given, or without one the target's (`/proc/PID/root`, `cwd`),
/// opened now for `fchdir` after entering.
fn directory(
    target: Option<&Target>,
    name: &str,
    given: &Option<Option<PathBuf>>,
    what: &str,
) -> Result<Option<OwnedFd>> {
    match given {
        None => Ok(None),
        Some(Some(d)) => open_dir(d, what).map(Some),
        Some(None) => {
            let t =
                target.ok_or_else(|| Error::msg(format!("--{name} without DIR needs a target")))?;
            let fd = open_dir(Path::new(&format!("/proc/{}/{name}", t.pid())), what)?;
            if !t.pidfd().is_alive() {
                return Err(Error::msg(format!("process {} has exited", t.pid())));
            }
            Ok(Some(fd))
        }
    }
}

/// Warn when the target's children would be in another PID namespace than the target: the
/// user likely gave the `unshare --pid` parent instead of its child.
fn warn_pid_for_children(t: &Target, own: Option<NsId>) {
    let Ok(children) = t.pidfd().ns_file(NsKind::Pid, true).and_then(|f| f.id()) else {
        return;
    };
    if own.map_or(true, |own| own == children) {
        return;
    }
    let pid = t.pid();
    let msg = match t.first_child() {
        Some(c) => format!(
            "process {pid} is not in the PID namespace its children are in (an unshare parent?); \
             entering its own; its child {c} is in the other one: use -t {c}"
        ),
        None => format!(
            "process {pid} is not in the PID namespace its children are in (an unshare parent?); \
             entering its own"
        ),
    };
    exit::warn(PROG, msg);
}
