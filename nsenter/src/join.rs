//! Entering the namespaces: the order of the `setns` calls.
//!
//! The target's own namespaces go in ONE atomic `setns(pidfd, mask)`: the kernel checks the
//! privileges for all of them before switching any, and enters the user namespace in the
//! right place itself — which is how nested user namespaces (bubblewrap's) are entered
//! unprivileged. Where the kernel answers EINVAL (no pidfd support for setns, before 5.8),
//! the same namespaces are entered one file at a time in [`NsKind::join_order`].
//!
//! Namespace files (`--net=FILE`, `--from=DIR`, `--net-socket`, `--user-parent`) cannot go
//! through the pidfd. They are entered around the atomic call: when the user namespace
//! grants the privilege (an unprivileged caller), it comes first and the files after it; when
//! we are root with CAP_SYS_ADMIN, the files come first, while our host privilege still
//! holds, and a user namespace file last.

use nsutils_common::nsfs::NsFile;
use nsutils_common::pidfd::PidFd;
use nsutils_common::{Error, NsKind, Result};

use crate::ownproc::OwnProc;

/// One namespace to enter.
#[derive(Debug)]
pub struct Entry {
    /// The open namespace file (for the target's namespaces: taken from its pidfd, used for
    /// the fallback and for identity checks).
    pub file: NsFile,
    /// The target's own namespace, enterable through the pidfd.
    pub via_target: bool,
}

/// Set `NSUTILS_NSENTER_PER_FILE=1` to skip `setns(pidfd, mask)` and take the per-file path
/// a kernel before 5.8 would take (for tests and for comparing the two).
pub const PER_FILE_ENV: &str = "NSUTILS_NSENTER_PER_FILE";

fn position(order: &[NsKind; NsKind::COUNT], kind: NsKind) -> usize {
    order.iter().position(|k| *k == kind).unwrap_or(order.len())
}

/// Say why entering `file` was not permitted: a namespace owned by a user namespace we are
/// not in (and not privileged over) needs that user namespace entered too. Our user
/// namespace is the one we are in now, some namespaces later: read through `proc`.
fn explain_eperm(err: Error, file: &NsFile, proc: &OwnProc) -> Error {
    if err.raw_os_error() != Some(libc::EPERM) {
        return err;
    }
    let ours = proc.ns(NsKind::User);
    let owner = file.owner().and_then(|o| o.id()).ok();
    match (owner, ours) {
        (Some(owner), Some(ours)) if owner != ours && file.kind() != NsKind::User => err.hint(
            "it is owned by a user namespace you are not in: enter that one too (-U, \
             --user=FILE), or run as root",
        ),
        _ => err.hint("entering needs CAP_SYS_ADMIN over it: run as root, or as the creator of its user namespace"),
    }
}

fn enter_files(entries: &[&Entry], order: &[NsKind; NsKind::COUNT], proc: &OwnProc) -> Result<()> {
    let mut sorted: Vec<&&Entry> = entries.iter().collect();
    sorted.sort_by_key(|e| position(order, e.file.kind()));
    for e in sorted {
        e.file
            .enter()
            .map_err(|err| explain_eperm(err, &e.file, proc))?;
    }
    Ok(())
}

fn kinds_list(kinds: &[NsKind]) -> String {
    kinds
        .iter()
        .map(|k| k.proc_name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Enter the target's namespaces `entries` (all `via_target`) atomically, falling back to
/// per-file `setns` on EINVAL.
fn enter_target(
    pidfd: &PidFd,
    entries: &[&Entry],
    order: &[NsKind; NsKind::COUNT],
    use_pidfd: bool,
    proc: &OwnProc,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    if use_pidfd {
        let kinds: Vec<NsKind> = entries.iter().map(|e| e.file.kind()).collect();
        match pidfd.setns(&kinds) {
            Ok(()) => return Ok(()),
            Err(nix::errno::Errno::EINVAL) => {}
            Err(e) => {
                let err = Error::errno(
                    format!(
                        "cannot enter the {} namespaces of process {}",
                        kinds_list(&kinds),
                        pidfd.pid()
                    ),
                    e,
                );
                return Err(match e {
                    nix::errno::Errno::ESRCH => err.hint("the process has exited"),
                    nix::errno::Errno::EPERM => err.hint(
                        "entering needs CAP_SYS_ADMIN over them: run as root, or as the \
                         user who created their user namespace",
                    ),
                    _ => err,
                });
            }
        }
    }
    enter_files(entries, order, proc)
}

/// Enter every entry. `user_first`: the caller lacks the privilege a user namespace would
/// grant (see the module text). `proc`: our `/proc`, opened before, for the hints.
pub fn enter_all(
    target: Option<&PidFd>,
    entries: &[Entry],
    user_first: bool,
    use_pidfd: bool,
    proc: &OwnProc,
) -> Result<()> {
    let order = NsKind::join_order(user_first);
    let via_target: Vec<&Entry> = entries.iter().filter(|e| e.via_target).collect();
    let (user_files, files): (Vec<&Entry>, Vec<&Entry>) = entries
        .iter()
        .filter(|e| !e.via_target)
        .partition(|e| e.file.kind() == NsKind::User);
    if user_first {
        enter_files(&user_files, &order, proc)?;
    } else {
        enter_files(&files, &order, proc)?;
    }
    if let Some(pidfd) = target {
        enter_target(pidfd, &via_target, &order, use_pidfd, proc)?;
    }
    if user_first {
        enter_files(&files, &order, proc)
    } else {
        enter_files(&user_files, &order, proc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target that exits after it was pinned (between lookup and entry) is never entered:
    /// the atomic setns through its pidfd fails with ESRCH rather than reaching a process
    /// that reused the PID.
    #[test]
    fn exited_target_is_not_entered() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("spawn sleep");
        let pidfd = PidFd::open(child.id() as i32).expect("pidfd");
        // Our own uts namespace, so even a wrong success would change nothing.
        let file = pidfd.ns_file(NsKind::Uts, false).expect("uts");
        child.kill().expect("kill");
        child.wait().expect("reap");
        let entries = [Entry {
            file,
            via_target: true,
        }];
        let err =
            enter_all(Some(&pidfd), &entries, true, true, &OwnProc::open()).expect_err("entered");
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH), "{err}");
        assert_eq!(err.hint_text(), Some("the process has exited"));
    }

    #[test]
    fn per_file_order_puts_user_first_or_last() {
        let order = NsKind::join_order(false);
        assert!(position(&order, NsKind::User) > position(&order, NsKind::Net));
        let order = NsKind::join_order(true);
        assert_eq!(position(&order, NsKind::User), 0);
    }
}
