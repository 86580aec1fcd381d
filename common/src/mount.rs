//! Mounts the tools make: persisting a namespace by bind-mounting its `/proc/PID/ns/X` file
//! onto a path (and undoing that), the `/run/netns` setup `ip netns add` does, and the
//! propagation of a new mount namespace.
//!
//! Persisting must happen in the caller's mount namespace (a bind mount made inside a new
//! one vanishes with it); the callers run these functions from a process that stayed there.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;

use crate::error::{Error, Result};
use crate::kind::NsKind;

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

/// A namespace bind-mounted onto a path by [`persist`]; [`Persisted::undo`] removes the
/// mount again, and the file too when `persist` created it.
#[derive(Debug)]
pub struct Persisted {
    target: PathBuf,
    created: bool,
}

impl Persisted {
    /// The path the namespace is persisted at.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Unmount (lazily, in case someone holds it open) and remove the file if we made it.
    pub fn undo(self) -> Result<()> {
        let res = umount2(&self.target, MntFlags::MNT_DETACH)
            .map_err(|e| Error::errno(format!("cannot unmount {}", self.target.display()), e));
        if self.created {
            let _ = std::fs::remove_file(&self.target);
        }
        res
    }
}

/// Persist the namespace whose file is `source` (`/proc/PID/ns/X`) by bind-mounting it onto
/// `target`, creating `target` as an empty file (mode 0, as `ip netns add` does) if it does
/// not exist. With `exclusive` an existing `target` is an error (a named netns that exists).
/// On failure nothing is left behind.
pub fn persist(source: &Path, target: &Path, kind: NsKind, exclusive: bool) -> Result<Persisted> {
    // O_RDONLY|O_CREAT|O_EXCL, mode 0, as `ip netns add` does (std wants write access to
    // create).
    let create = || {
        nix::fcntl::open(
            target,
            OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map(drop)
        .map_err(|e| Error::errno(format!("cannot create {}", target.display()), e))
    };
    let created = if exclusive || target.symlink_metadata().is_err() {
        create()?;
        true
    } else {
        false
    };
    if let Err(e) = mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    ) {
        if created {
            let _ = std::fs::remove_file(target);
        }
        let err = Error::errno(
            format!(
                "cannot persist the {kind} namespace: bind-mounting {} onto {}",
                source.display(),
                target.display()
            ),
            e,
        );
        let err = match e {
            Errno::EINVAL => err.hint(format!(
                "{} is on a shared mount, where a {kind} namespace file cannot be bound; \
                 make its directory a private mount first \
                 (mount --bind DIR DIR && mount --make-private DIR)",
                target.display()
            )),
            Errno::EPERM | Errno::EACCES => {
                err.hint("persisting a namespace needs CAP_SYS_ADMIN in the caller's mount namespace (run as root)")
            }
            _ => err,
        };
        return Err(err);
    }
    Ok(Persisted {
        target: target.to_path_buf(),
        created,
    })
}
