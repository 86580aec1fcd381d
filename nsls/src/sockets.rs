//! The socket source: the network namespace each open socket belongs to, so a namespace
//! that only a socket keeps alive (a daemon that left a namespace but kept a socket in it)
//! is found.
//!
//! A socket is reached with `pidfd_getfd` (ptrace access: root, or the caller's own
//! processes) and checked against the inode its `/proc/PID/fd/N` link named
//! (`socket:[N]`): a socket closed or a process gone in between is skipped, never
//! mistaken for another. Its namespace is identified by `SO_NETNS_COOKIE` (no new fd, no
//! privilege); only a cookie not seen before costs a `SIOCGSKNS` (a new nsfs fd, four
//! times the cost) to learn the namespace's inode. A socket inode seen before (shared
//! across `fork`) is not asked again.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::sys::stat::{fstat, SFlag};
use nsutils_common::nsfs::NsFile;
use nsutils_common::{sys, NsKind};

/// Why the sockets of a process could not be looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The process is gone.
    Gone,
    /// No ptrace access (another user's process, as non-root).
    Denied(Errno),
}

/// What is known about sockets so far, across processes.
#[derive(Debug, Default)]
pub struct Sockets {
    /// Socket inode → the inode of its network namespace (0: undetermined).
    by_socket: HashMap<u64, u64>,
    /// Namespace cookie → namespace inode.
    cookies: HashMap<u64, u64>,
    /// The kernel has no `SO_NETNS_COOKIE` (before 5.14): `SIOCGSKNS` for every socket.
    no_cookies: bool,
    /// Sockets whose namespace could not be learnt (`SIOCGSKNS` denied).
    pub undetermined: u32,
}

fn errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// A duplicate of fd `fd` of the process, checked to be socket `sock`.
fn take(pidfd: BorrowedFd<'_>, fd: i32, sock: u64) -> Result<Option<OwnedFd>, Stop> {
    let dup = match sys::pidfd_getfd(pidfd, fd) {
        Ok(d) => d,
        // Closed (or replaced by a non-file) since its link was read.
        Err(e) if e.raw_os_error() == Some(libc::EBADF) => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Err(Stop::Gone),
        Err(e) => return Err(Stop::Denied(errno(&e))),
    };
    match fstat(dup.as_fd()) {
        Ok(st)
            if st.st_ino == sock
                && SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFSOCK =>
        {
            Ok(Some(dup))
        }
        // Another file now sits at that fd number: not the socket the link named.
        _ => Ok(None),
    }
}

/// The inode of the namespace an nsfs fd refers to.
fn ino(f: &OwnedFd) -> Option<u64> {
    fstat(f.as_fd()).ok().map(|st| st.st_ino)
}

impl Sockets {
    /// Start, knowing the namespace of our own sockets (one cookie without `SIOCGSKNS`,
    /// which an unprivileged caller could not use on a namespace root owns).
    pub fn new(own_netns: Option<u64>) -> Sockets {
        let mut s = Sockets::default();
        let probe = nix::sys::socket::socket(
            nix::sys::socket::AddressFamily::Unix,
            nix::sys::socket::SockType::Datagram,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
            None,
        );
        if let (Ok(sock), Some(ns)) = (probe, own_netns) {
            match sys::socket_netns_cookie(sock.as_fd()) {
                Ok(c) => {
                    s.cookies.insert(c, ns);
                }
                Err(_) => s.no_cookies = true,
            }
        }
        s
    }

    /// The network namespace (inode) of socket `sock` at fd `fd` of the process behind
    /// `pidfd`; `Ok(None)` when it cannot be known (closed meanwhile, `SIOCGSKNS` denied).
    pub fn netns(
        &mut self,
        pidfd: BorrowedFd<'_>,
        fd: i32,
        sock: u64,
    ) -> Result<Option<u64>, Stop> {
        if let Some(&ns) = self.by_socket.get(&sock) {
            return Ok((ns != 0).then_some(ns));
        }
        let Some(dup) = take(pidfd, fd, sock)? else {
            return Ok(None);
        };
        let cookie = if self.no_cookies {
            None
        } else {
            match sys::socket_netns_cookie(dup.as_fd()) {
                Ok(c) => Some(c),
                Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {
                    self.no_cookies = true;
                    None
                }
                Err(_) => None,
            }
        };
        let ns = match cookie.and_then(|c| self.cookies.get(&c)) {
            Some(&ns) => ns,
            None => {
                let ns = sys::socket_netns(dup.as_fd())
                    .ok()
                    .and_then(|f| ino(&f))
                    .unwrap_or(0);
                if ns == 0 {
                    self.undetermined += 1;
                } else if let Some(c) = cookie {
                    self.cookies.insert(c, ns);
                }
                ns
            }
        };
        self.by_socket.insert(sock, ns);
        Ok((ns != 0).then_some(ns))
    }
}

/// The text after `socket:[` of an fd link, as a socket inode.
pub fn parse_socket_link(link: &[u8]) -> Option<u64> {
    let rest = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(rest).ok()?.parse().ok()
}

/// Open network namespace `ns` again through socket `sock` at fd `fd` of process `pid`,
/// checking both inodes, so a socket closed or a PID reused since the scan never yields
/// another namespace.
pub fn reopen(pid: i32, fd: i32, sock: u64, ns: u64) -> Option<NsFile> {
    let pidfd = sys::pidfd_open(pid).ok()?;
    let dup = take(pidfd.as_fd(), fd, sock).ok()??;
    let nsfd = sys::socket_netns(dup.as_fd()).ok()?;
    if ino(&nsfd)? != ns {
        return None;
    }
    let path = PathBuf::from(format!("socket {fd} of process {pid}"));
    NsFile::from_fd(nsfd, path, Some(NsKind::Net)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_links() {
        assert_eq!(parse_socket_link(b"socket:[123]"), Some(123));
        assert_eq!(parse_socket_link(b"socket:[]"), None);
        assert_eq!(parse_socket_link(b"socket:[12x]"), None);
        assert_eq!(parse_socket_link(b"net:[4026531840]"), None);
        assert_eq!(parse_socket_link(b"/tmp/socket:[1]"), None);
    }

    #[test]
    fn our_own_socket_is_in_our_namespace() {
        let own = nix::sys::stat::stat("/proc/self/ns/net")
            .expect("stat")
            .st_ino;
        let mut s = Sockets::new(Some(own));
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("socket");
        let fd = std::os::fd::AsRawFd::as_raw_fd(&sock);
        let ino = fstat(sock.as_fd()).expect("fstat").st_ino;
        let me = sys::pidfd_open(std::process::id() as i32).expect("pidfd");
        assert_eq!(s.netns(me.as_fd(), fd, ino), Ok(Some(own)));
        // Asked again: answered from what is known, without the fd.
        assert_eq!(s.netns(me.as_fd(), -1, ino), Ok(Some(own)));
        // A wrong inode for the fd is not that socket.
        assert_eq!(s.netns(me.as_fd(), fd, ino + 1_000_000), Ok(None));
        // A closed fd is skipped, not an error.
        assert_eq!(s.netns(me.as_fd(), 999_999, 1), Ok(None));
        let again = reopen(std::process::id() as i32, fd, ino, own).expect("reopen");
        assert_eq!(again.id().expect("id").ino, own);
        assert!(reopen(std::process::id() as i32, fd, ino, own + 1).is_none());
    }
}
