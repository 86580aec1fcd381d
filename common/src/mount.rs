//! Mounts the tools make: persisting a namespace by bind-mounting its `/proc/PID/ns/X` file
//! onto a path (and undoing that), the `/run/netns` setup `ip netns add` does, and the
//! propagation of a new mount namespace.
//!
//! The file a namespace is persisted on is opened by [`crate::safefile`] (never through a
//! symlink someone planted) and the bind mount goes onto that open file.
//!
//! Persisting must happen in the caller's mount namespace (a bind mount made inside a new
//! one vanishes with it); the callers run these functions from a process that stayed there.

use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::Mode;

use crate::error::{Error, Result};
use crate::kind::NsKind;
use crate::safefile::{Create, Dir, FileId, Named, Target};
use crate::sys;

/// Where `ip netns` keeps named network namespaces.
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// The propagation a new mount namespace gets (`--propagation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Propagation {
    /// Nothing propagates in or out (the default: a new namespace is really unshared).
    #[default]
    Private,
    /// Mount events propagate both ways.
    Shared,
    /// Mount events propagate from the parent namespace into the new one only.
    Slave,
    /// Leave the propagation as copied from the parent namespace.
    Unchanged,
}

impl Propagation {
    /// The `MS_*` flag, or `None` for `unchanged`.
    pub fn flag(self) -> Option<MsFlags> {
        match self {
            Propagation::Private => Some(MsFlags::MS_PRIVATE),
            Propagation::Shared => Some(MsFlags::MS_SHARED),
            Propagation::Slave => Some(MsFlags::MS_SLAVE),
            Propagation::Unchanged => None,
        }
    }
}

/// Set the propagation of every mount of the caller's mount namespace (recursively from `/`).
pub fn set_propagation(p: Propagation) -> Result<()> {
    let Some(flag) = p.flag() else {
        return Ok(());
    };
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | flag,
        None::<&str>,
    )
    .map_err(|e| Error::errno(format!("cannot set mount propagation of / to {p:?}"), e))
}

/// EPERM/EACCES setting up `/run/netns`: say what it takes.
fn needs_root(err: Error) -> Error {
    match err.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => err.hint(format!(
            "naming a network namespace in {NETNS_RUN_DIR} needs CAP_SYS_ADMIN in the caller's \
             mount namespace (run as root), as ip netns add does"
        )),
        _ => err,
    }
}

/// Make `/run/netns` ready for named network namespaces exactly as `ip netns add` does:
/// create it (mode 0755) if missing, and make it a shared mount — when it is not a mount
/// point yet, by first bind-mounting it onto itself. Then a namespace file bound below it
/// shows up in every mount namespace that `ip netns exec` creates from this one.
pub fn prepare_netns_dir() -> Result<()> {
    let dir = Path::new(NETNS_RUN_DIR);
    match nix::unistd::mkdir(dir, nix::sys::stat::Mode::from_bits_truncate(0o755)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(Error::errno(format!("cannot create {NETNS_RUN_DIR}"), e)),
    }
    let make_shared = || {
        mount(
            Some(""),
            dir,
            Some("none"),
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        )
    };
    match make_shared() {
        Ok(()) => return Ok(()),
        Err(Errno::EINVAL) => {}
        Err(e) => {
            return Err(needs_root(Error::errno(
                format!("cannot make {NETNS_RUN_DIR} shared"),
                e,
            )))
        }
    }
    // EINVAL: not a mount point yet. Bind it onto itself, then share it.
    mount(
        Some(dir),
        dir,
        Some("none"),
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| {
        needs_root(Error::errno(
            format!("cannot bind-mount {NETNS_RUN_DIR} onto itself"),
            e,
        ))
    })?;
    make_shared().map_err(|e| {
        needs_root(Error::errno(
            format!("cannot make {NETNS_RUN_DIR} shared"),
            e,
        ))
    })
}

/// A namespace bind-mounted onto a file by [`persist`]; [`Persisted::undo`] takes that mount
/// down again, and the file too when `persist` created it and it is still the one it made.
///
/// No fd of the mount is kept: a script that unmounts the file right after nsrun must not
/// find it busy because our helper is still exiting. Undo finds the mount again through the
/// directory fd and the name, without following a symlink, and only while what is mounted
/// there is still our namespace.
#[derive(Debug)]
pub struct Persisted {
    target: Named,
    /// The namespace (the nsfs inode) mounted there.
    ns: FileId,
}

impl Persisted {
    /// The path the namespace is persisted at.
    pub fn target(&self) -> &Path {
        self.target.path()
    }

    /// Unmount (lazily, in case someone holds it open) and remove the file if we made it.
    pub fn undo(self) -> Result<()> {
        let res = self.target.unmount_if(self.ns).map_err(|e| {
            Error::errno(
                format!("cannot unmount {}", self.target.path().display()),
                e,
            )
        });
        self.target.remove_if_created();
        res
    }
}

/// Persist the namespace whose file is `source` (`/proc/PID/ns/X`) by bind-mounting it onto
/// `target`, creating `target` as an empty file (mode 0, as `ip netns add` does) if it does
/// not exist. With `exclusive` an existing `target` is an error (a named netns that exists).
/// The last component of `target` is never followed, and the mount lands on the file opened,
/// whatever happens to the path meanwhile ([`crate::safefile`]). On failure nothing is left
/// behind.
pub fn persist(source: &Path, target: &Path, kind: NsKind, exclusive: bool) -> Result<Persisted> {
    let create = if exclusive {
        Create::Exclusive
    } else {
        Create::IfMissing
    };
    let context = || format!("cannot persist the {kind} namespace");
    let target = Target::open(target, create).map_err(|e| e.context(context()))?;
    bind(source, target, kind)
}

/// [`persist`] onto `name` in the directory `dir` (`--persist=DIR`), created if missing.
pub fn persist_in(source: &Path, dir: Rc<Dir>, name: &OsStr, kind: NsKind) -> Result<Persisted> {
    let path = dir.join(name);
    let target = Target::open_in(dir, name, &path, Create::IfMissing)
        .map_err(|e| e.context(format!("cannot persist the {kind} namespace")))?;
    bind(source, target, kind)
}

/// Bind-mount `source` onto the file `target` is open on ([`bind_onto`]).
fn bind(source: &Path, target: Target, kind: NsKind) -> Result<Persisted> {
    let c_source = CString::new(source.as_os_str().as_bytes())
        .map_err(|_| Error::msg(format!("{}: contains a NUL byte", source.display())))?;
    match bind_onto(&c_source, target.fd()) {
        Ok(ns) => Ok(Persisted {
            target: target.into_named(),
            ns,
        }),
        Err(e) => {
            target.remove_if_created();
            Err(bind_error(source, target.path(), kind, e))
        }
    }
}

/// Bind-mount the namespace file `source` onto the file `onto` is open on, and return the
/// namespace's identity: a detached clone of the namespace file (`open_tree`) moved onto that
/// fd (`move_mount`); the clone's fd is closed once it is attached. Without that mount API
/// (ENOSYS: Linux before 5.2, or valgrind, which implements neither call), the classic bind
/// mount from and onto `/proc/self/fd/N` ([`bind_through_proc_fd`]).
fn bind_onto(source: &CStr, onto: BorrowedFd<'_>) -> std::io::Result<FileId> {
    let mounted = sys::open_tree_clone(source).and_then(|tree| {
        let ns = nix::sys::stat::fstat(&tree).map_err(std::io::Error::from)?;
        sys::move_mount_onto(tree.as_fd(), onto).map(|()| FileId::of(&ns))
    });
    match mounted {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => bind_through_proc_fd(source, onto),
        r => r,
    }
}

/// `mount --bind` of the namespace file `source` (opened once, the identity returned is that
/// of what was opened) onto the file `onto` is open on, both named by their
/// `/proc/self/fd/N` links: the kernel resolves such a link to the file open, so the mount
/// still lands on the file we checked, never on a path swapped in since. `/proc/self` is ours
/// here (the callers persist from their own mount namespace: see the module header); a
/// `/proc` where the link leads elsewhere is refused (EXDEV) rather than mounted through.
fn bind_through_proc_fd(source: &CStr, onto: BorrowedFd<'_>) -> std::io::Result<FileId> {
    let ns = nix::fcntl::open(source, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    let id = FileId::of(&nix::sys::stat::fstat(&ns)?);
    let link = |fd: BorrowedFd<'_>| -> std::io::Result<PathBuf> {
        let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        let (via, direct) = (nix::sys::stat::stat(&path)?, nix::sys::stat::fstat(fd)?);
        if FileId::of(&via) != FileId::of(&direct) {
            return Err(std::io::Error::from_raw_os_error(libc::EXDEV));
        }
        Ok(path)
    };
    let (from, to) = (link(ns.as_fd())?, link(onto)?);
    mount(
        Some(&from),
        &to,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )?;
    Ok(id)
}

fn bind_error(source: &Path, target: &Path, kind: NsKind, e: std::io::Error) -> Error {
    let errno = Errno::from_raw(e.raw_os_error().unwrap_or(0));
    let err = Error::os(
        format!(
            "cannot persist the {kind} namespace: bind-mounting {} onto {}",
            source.display(),
            target.display()
        ),
        e,
    );
    match errno {
        Errno::EINVAL | Errno::ELOOP => err.hint(format!(
            "{} is on a shared mount, where a {kind} namespace file cannot be bound; \
             make its directory a private mount first \
             (mount --bind DIR DIR && mount --make-private DIR)",
            target.display()
        )),
        Errno::EPERM | Errno::EACCES => err.hint(
            "persisting a namespace needs CAP_SYS_ADMIN in the caller's mount namespace (run as root)",
        ),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private bind mount of a fresh directory (nsfs files cannot be bound onto a shared
    /// mount), taken down with what was mounted in it.
    struct PrivateDir(PathBuf);

    impl PrivateDir {
        fn new() -> PrivateDir {
            let d = std::env::temp_dir().join(format!("nsutils-mount-{}", std::process::id()));
            std::fs::create_dir_all(&d).expect("mkdir");
            mount(Some(&d), &d, None::<&str>, MsFlags::MS_BIND, None::<&str>).expect("bind");
            let private = MsFlags::MS_PRIVATE | MsFlags::MS_REC;
            mount(None::<&str>, &d, None::<&str>, private, None::<&str>).expect("private");
            PrivateDir(d)
        }
    }

    impl Drop for PrivateDir {
        fn drop(&mut self) {
            let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The fallback without open_tree/move_mount lands on the file opened, not on a file
    /// swapped in at its name afterwards, and names the namespace it bound.
    #[test]
    fn bind_through_proc_fd_lands_on_the_file_opened() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = PrivateDir::new();
        let (name, moved) = (dir.0.join("ns"), dir.0.join("moved"));
        let target = Target::open(&name, Create::IfMissing).expect("target");
        std::fs::rename(&name, &moved).expect("rename");
        std::fs::write(&name, "swapped in").expect("swap");
        let id = bind_through_proc_fd(c"/proc/self/ns/uts", target.fd()).expect("bind");
        let ns = nix::sys::stat::stat("/proc/self/ns/uts").expect("stat");
        assert_eq!(id, FileId::of(&ns));
        let on = |p: &Path| FileId::of(&nix::sys::stat::stat(p).expect("stat"));
        assert_eq!(on(&moved), id, "not mounted on the file opened");
        assert_ne!(on(&name), id, "mounted on the file swapped in");
    }
}
