//! Namespace files: `/proc/PID/ns/X`, `/proc/PID/ns/X_for_children` and persisted bind
//! mounts of them.
//!
//! [`NsFile`] holds an open, close-on-exec fd that has been checked with `NS_GET_NSTYPE` to be
//! a namespace of the expected kind, so a regular file or a namespace of the wrong kind is a
//! clear error when it is opened — not an EINVAL from `setns` after other namespaces have
//! already been entered. It answers identity (device, inode), the owning user namespace, the
//! parent namespace and the owner uid, and enters itself with `setns`.

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{open, OFlag};
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;

use crate::error::{Error, Result};
use crate::kind::NsKind;
use crate::sys;

/// The identity of a namespace: the nsfs device and inode. Two fds refer to the same
/// namespace exactly when these are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsId {
    /// Device number of the nsfs mount.
    pub dev: u64,
    /// Inode number: what lsns shows in its NS column and `readlink` shows as `net:[INODE]`.
    pub ino: u64,
}

impl NsId {
    /// The identity of the namespace a path (`/proc/PID/ns/X` or a bind mount) refers to.
    pub fn of_path(path: &Path) -> std::io::Result<NsId> {
        let md = std::fs::metadata(path)?;
        Ok(NsId {
            dev: md.dev(),
            ino: md.ino(),
        })
    }

    /// The identity of namespace `kind` of process `pid` (`None`: ourselves).
    pub fn of_process(pid: Option<i32>, kind: NsKind) -> std::io::Result<NsId> {
        Self::of_path(&proc_ns_path(pid, kind, false))
    }
}

impl fmt::Display for NsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.ino)
    }
}

/// `/proc/PID/ns/X` (or `/proc/self/…`), or its `X_for_children` twin where the kind has one.
pub fn proc_ns_path(pid: Option<i32>, kind: NsKind, for_children: bool) -> PathBuf {
    let name = match (for_children, kind.for_children_name()) {
        (true, Some(n)) => n,
        _ => kind.proc_name(),
    };
    match pid {
        Some(p) => PathBuf::from(format!("/proc/{p}/ns/{name}")),
        None => PathBuf::from(format!("/proc/self/ns/{name}")),
    }
}

/// Where `ip netns` keeps the network namespace named `name`: `/run/netns/NAME`. The tools
/// take such a name only as `--netns=NAME`; a namespace option's `=FILE` is always a path,
/// relative ones to the working directory, as util-linux reads it (`--net=blue` is
/// `./blue`).
pub fn netns_path(name: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(name)
}

/// The directory of `ip netns` names.
pub const NETNS_DIR: &str = "/run/netns";

/// A hint for a namespace file given as a bare name that does not exist where `ip netns`
/// has a network namespace of that name: the user likely meant `--netns=NAME`.
pub fn netns_name_hint(kind: NsKind, arg: &Path) -> Option<String> {
    let name = arg.to_str()?;
    if kind != NsKind::Net || name.contains('/') || arg.symlink_metadata().is_ok() {
        return None;
    }
    let named = netns_path(name);
    named.symlink_metadata().ok()?;
    Some(format!(
        "'{name}' is the file ./{name}, as util-linux reads it; for the ip netns name \
         {name} ({}) write --netns={name}",
        named.display()
    ))
}

/// An open namespace file of a known kind.
#[derive(Debug)]
pub struct NsFile {
    fd: OwnedFd,
    kind: NsKind,
    path: PathBuf,
}

impl NsFile {
    /// Open `path` close-on-exec and check that it is a namespace file — of kind `expect`
    /// when given.
    pub fn open(path: &Path, expect: Option<NsKind>) -> Result<NsFile> {
        let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| Error::errno(format!("cannot open {}", path.display()), e))?;
        Self::from_fd(fd, path.to_path_buf(), expect)
    }

    /// Open namespace `kind` of process `pid` (`None`: ourselves), or the namespace its
    /// children will be in.
    pub fn open_proc(pid: Option<i32>, kind: NsKind, for_children: bool) -> Result<NsFile> {
        Self::open(&proc_ns_path(pid, kind, for_children), Some(kind))
    }

    /// Check an already open fd and wrap it; `path` is only used in messages.
    pub fn from_fd(fd: OwnedFd, path: PathBuf, expect: Option<NsKind>) -> Result<NsFile> {
        let nstype = match sys::ns_get_nstype(fd.as_fd()) {
            Ok(t) => t,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTTY) | Some(libc::EINVAL)) => {
                return Err(
                    Error::msg(format!("{} is not a namespace file", path.display())).hint(
                        "give a /proc/PID/ns/* link or a file a namespace was bind-mounted on",
                    ),
                );
            }
            Err(e) => {
                return Err(Error::os(
                    format!("cannot query namespace type of {}", path.display()),
                    e,
                ))
            }
        };
        let kind = NsKind::from_clone_flag(nstype).ok_or_else(|| {
            Error::msg(format!(
                "{} is a namespace of unknown type {nstype:#x}",
                path.display()
            ))
        })?;
        if let Some(want) = expect {
            if want != kind {
                return Err(Error::msg(format!(
                    "{} is a {kind} namespace, not a {want} namespace",
                    path.display()
                )));
            }
        }
        Ok(NsFile { fd, kind, path })
    }

    /// The kind of namespace.
    pub fn kind(&self) -> NsKind {
        self.kind
    }

    /// The path it was opened from (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Device and inode of the namespace.
    pub fn id(&self) -> Result<NsId> {
        let st = nix::sys::stat::fstat(self.fd.as_fd())
            .map_err(|e| Error::errno(format!("cannot stat {}", self.path.display()), e))?;
        Ok(NsId {
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }

    /// The user namespace that owns this namespace (`NS_GET_USERNS`). EPERM when the owner
    /// is outside the caller's user namespace.
    pub fn owner(&self) -> Result<NsFile> {
        let fd = sys::ns_get_userns(self.fd.as_fd()).map_err(|e| {
            Error::os(
                format!(
                    "cannot get the owning user namespace of {}",
                    self.path.display()
                ),
                e,
            )
        })?;
        Self::from_fd(fd, self.path.join("..owner"), Some(NsKind::User))
    }

    /// The parent of a pid or user namespace (`NS_GET_PARENT`). EPERM at the top of the
    /// caller's own hierarchy; EINVAL for other kinds.
    pub fn parent(&self) -> Result<NsFile> {
        let fd = sys::ns_get_parent(self.fd.as_fd()).map_err(|e| {
            Error::os(
                format!("cannot get the parent namespace of {}", self.path.display()),
                e,
            )
        })?;
        Self::from_fd(fd, self.path.join("..parent"), Some(self.kind))
    }

    /// The uid of the creator of a user namespace (`NS_GET_OWNER_UID`).
    pub fn owner_uid(&self) -> Result<u32> {
        sys::ns_get_owner_uid(self.fd.as_fd()).map_err(|e| {
            Error::os(
                format!("cannot get the owner uid of {}", self.path.display()),
                e,
            )
        })
    }

    /// Move the calling thread into this namespace with `setns(2)`.
    pub fn enter(&self) -> Result<()> {
        nix::sched::setns(
            self.fd.as_fd(),
            CloneFlags::from_bits_retain(self.kind.clone_flag()),
        )
        .map_err(|e| {
            let err = Error::errno(
                format!(
                    "cannot enter {} namespace {}",
                    self.kind,
                    self.path.display()
                ),
                e,
            );
            match e {
                nix::errno::Errno::EPERM => err.hint(
                    "entering needs CAP_SYS_ADMIN in the user namespace that owns it \
                     (try adding --user, or run as root)",
                ),
                nix::errno::Errno::EINVAL if self.kind == NsKind::User => {
                    err.hint("a multithreaded process, or the user namespace is already ours")
                }
                _ => err,
            }
        })
    }
}

impl AsFd for NsFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_own_namespaces_with_the_right_kind() {
        for kind in NsKind::ALL {
            let f = NsFile::open_proc(None, kind, false).expect("open own ns");
            assert_eq!(f.kind(), kind);
            let id = f.id().expect("id");
            assert_eq!(id, NsId::of_process(None, kind).expect("stat"));
        }
    }

    #[test]
    fn rejects_a_regular_file() {
        let path = std::env::temp_dir().join(format!("nsutils-notns-{}", std::process::id()));
        std::fs::write(&path, b"x").expect("write");
        let err = NsFile::open(&path, None).expect_err("regular file accepted");
        std::fs::remove_file(&path).expect("rm");
        assert!(
            err.to_string().ends_with("is not a namespace file"),
            "{err}"
        );
        assert!(err.hint_text().is_some());
    }

    #[test]
    fn rejects_the_wrong_kind() {
        let err = NsFile::open(Path::new("/proc/self/ns/uts"), Some(NsKind::Net))
            .expect_err("wrong kind accepted");
        assert_eq!(
            err.to_string(),
            "/proc/self/ns/uts is a uts namespace, not a net namespace"
        );
    }

    #[test]
    fn missing_file_names_path_and_errno() {
        let err = NsFile::open(Path::new("/nonexistent/ns"), None).expect_err("opened");
        assert_eq!(
            err.to_string(),
            "cannot open /nonexistent/ns: No such file or directory"
        );
    }

    #[test]
    fn owner_of_net_is_a_user_namespace() {
        let net = NsFile::open_proc(None, NsKind::Net, false).expect("open");
        let owner = net.owner().expect("owner");
        assert_eq!(owner.kind(), NsKind::User);
        let user = NsFile::open_proc(None, NsKind::User, false).expect("open");
        assert_eq!(owner.id().expect("id"), user.id().expect("id"));
    }

    #[test]
    fn for_children_paths() {
        assert_eq!(
            proc_ns_path(Some(7), NsKind::Pid, true),
            PathBuf::from("/proc/7/ns/pid_for_children")
        );
        assert_eq!(
            proc_ns_path(None, NsKind::Net, true),
            PathBuf::from("/proc/self/ns/net")
        );
    }

    #[test]
    fn netns_names_live_in_run_netns() {
        assert_eq!(netns_path("blue"), PathBuf::from("/run/netns/blue"));
        assert_eq!(
            netns_name_hint(NsKind::Uts, Path::new("x")),
            None,
            "only network namespaces have names"
        );
        assert_eq!(
            netns_name_hint(NsKind::Net, Path::new("./x")),
            None,
            "a path is a path"
        );
    }
}
