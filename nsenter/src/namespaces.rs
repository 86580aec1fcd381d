//! The namespaces to enter: where each comes from (the target through its pidfd, a file,
//! `--from`'s directory, `--netns`, the target's socket, the parent of a user namespace),
//! opened and checked before anything changes, and only those that differ from ours.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nsutils_common::exit;
use nsutils_common::nsfs::{netns_name_hint, netns_path, NsFile, NsId};
use nsutils_common::{sys, Error, KindMap, NsKind, Result};

use crate::cli::{Cli, PROG};
use crate::join::Entry;
use crate::target::{need_target, Target};

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

/// Our own namespaces, each stat'ed at most once (`/proc/self/ns/X`); `None` where the
/// kernel lacks the kind.
#[derive(Debug, Default)]
struct OurNs(KindMap<Option<Option<NsId>>>);

impl OurNs {
    fn get(&mut self, kind: NsKind) -> Option<NsId> {
        *self.0[kind].get_or_insert_with(|| NsId::of_process(None, kind).ok())
    }
}

/// The namespaces to enter, opened and checked: where each comes from, the parent of a user
/// namespace for `--user-parent`, and only those that differ from ours.
pub(crate) fn namespaces(cli: &Cli, target: Option<&Target>) -> Result<Vec<Entry>> {
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

/// The kinds and where each comes from, the more specific option over the more general:
/// `-a`'s (the target's, where the kernel has the kind), over them `--from`'s files (the
/// kinds present in DIR), over those each namespace option (its file; without one the
/// target's, or with no target `--from`'s), `--netns`, `-N` and `--user-parent`. So
/// `--from` fills in the kinds no namespace option names, as an explicit FILE wins over
/// the target in util-linux.
fn sources(
    cli: &Cli,
    target: Option<&Target>,
    ours: &mut OurNs,
) -> Result<BTreeMap<NsKind, Source>> {
    let mut want = BTreeMap::new();
    if cli.all && target.is_some() {
        for kind in NsKind::ALL {
            if ours.get(kind).is_some() {
                want.insert(kind, Source::Target);
            }
        }
    }
    if let Some(dir) = &cli.from {
        want.extend(from_dir(dir)?);
    }
    for kind in cli.ns.kinds() {
        match (cli.ns.get(kind).flatten(), target) {
            (Some(f), _) => {
                want.insert(kind, Source::File(f.clone()));
            }
            (None, Some(_)) => {
                want.insert(kind, Source::Target);
            }
            (None, None) if !want.contains_key(&kind) => {
                return Err(Error::msg(format!(
                    "--{}: no {kind} file in the --from directory and no target (-t PID)",
                    kind.long_flag()
                )));
            }
            (None, None) => {}
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
        return Err(
            Error::msg(format!("{} holds no namespace files", dir.display())).hint(format!(
                "expected files named {} (as nsrun --persist=DIR saves them)",
                NsKind::names()
            )),
        );
    }
    Ok(want)
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

/// Open a namespace file given on the command line; a bare name that is no file here but
/// an `ip netns` name gets a hint.
fn open_file(path: &Path, kind: NsKind) -> Result<NsFile> {
    NsFile::open(path, Some(kind)).map_err(|e| match netns_name_hint(kind, path) {
        Some(h) => e.hint(h),
        None => e,
    })
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

/// `--user-parent`: the parent of `--user`'s namespace (its file, else the target's, else
/// `--from`'s), else of the owner of another namespace being entered, else of the target's.
fn user_parent(cli: &Cli, entries: &[Entry], target: Option<&Target>) -> Result<NsFile> {
    let base = match (cli.ns.get(NsKind::User), entries.first(), target) {
        (Some(Some(f)), _, _) => open_file(f, NsKind::User)?,
        (Some(None), _, Some(t)) => t.ns_file(NsKind::User)?,
        // No target: --from's (sources() has checked that DIR has one).
        (Some(None), _, None) => match &cli.from {
            Some(dir) => open_file(&dir.join(NsKind::User.proc_name()), NsKind::User)?,
            None => return Err(Error::msg("--user needs a file or a target (-t PID)")),
        },
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
