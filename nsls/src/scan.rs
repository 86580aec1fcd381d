//! Discovery: every namespace we can see, and how we found it.
//!
//! Sources, cheapest first:
//! * every process: `fstatat(/proc/PID, "ns/KIND")` relative to one `O_PATH` fd of the
//!   process's `/proc` directory (raw syscalls, no procfs crate, no path strings: this is the
//!   hot path);
//! * every thread that is not the leader (`/proc/PID/task/TID/ns`), looked at only when
//!   `st_nlink` of `/proc/PID/task` says the process has more than one thread;
//! * open file descriptors: `readlinkat(/proc/PID/fd, N)` reads `net:[4026532177]` for an
//!   fd that refers to a namespace;
//! * open sockets (`socket:[N]` links): the network namespace each is in
//!   ([`crate::sockets`]), for a namespace that only a socket keeps alive;
//! * nsfs bind mounts in our mount namespace (`/proc/self/mountinfo`, e.g. `/run/netns/*`);
//! * ancestors that nothing else holds, through `NS_GET_PARENT` and `NS_GET_USERNS`
//!   ([`Scan::resolve`]), walked for user and pid namespaces, for namespaces without a
//!   process, and for every namespace when its parent or owner is asked for.
//!
//! A process whose namespaces cannot be read (EACCES: not ours, no ptrace access) is
//! counted in [`Scan::unreadable`], never silently dropped. A process that exits during the
//! scan is simply no longer there.

use std::collections::HashMap;
use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode};
use nsutils_common::exit::NSLS_UNSUPPORTED;
use nsutils_common::mountinfo::{self, parse_ns_link};
use nsutils_common::nsfs::{NsFile, NsId};
use nsutils_common::proc::read_small;
/// `/proc/PID/stat`, as common reads it (public here for the fuzz targets).
pub use nsutils_common::proc::{parse_stat, read_stat, Stat};
use nsutils_common::safefile::{open_dir_fd, open_dir_fd_at};
use nsutils_common::{sys, Error, KindMap, NsKind, Result};

use crate::sockets::{parse_socket_link, Sockets, Stop};

/// Found as a process's namespace.
pub const SRC_PROCESS: u8 = 1;
/// Found as the namespace of a thread that is not its process's leader.
pub const SRC_THREAD: u8 = 2;
/// Found as an open file descriptor.
pub const SRC_FD: u8 = 8;
/// Found as an nsfs bind mount.
pub const SRC_MOUNT: u8 = 16;
/// Found as the parent of another namespace (`NS_GET_PARENT`).
pub const SRC_PARENT: u8 = 32;
/// Found as the owner of another namespace (`NS_GET_USERNS`).
pub const SRC_OWNER: u8 = 64;
/// Found as the network namespace of an open socket of a process in another one.
pub const SRC_SOCKET: u8 = 128;

/// The names of the sources, in bit order, as the SOURCE column prints them.
pub const SOURCE_NAMES: [(u8, &str); 7] = [
    (SRC_PROCESS, "process"),
    (SRC_THREAD, "thread"),
    (SRC_FD, "fd"),
    (SRC_SOCKET, "socket"),
    (SRC_MOUNT, "mount"),
    (SRC_PARENT, "parent"),
    (SRC_OWNER, "owner"),
];

/// Something that keeps a namespace alive and through which it can be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// `/proc/PID/ns/KIND`.
    Process(i32),
    /// `/proc/PID/task/TID/ns/KIND`.
    Thread(i32, i32),
    /// `/proc/PID/fd/FD`.
    Fd(i32, i32),
    /// Socket `sock` (its inode) at fd `fd` of process `pid`, for a network namespace: it
    /// has no path; [`crate::sockets::reopen`] opens it again.
    Socket(i32, i32, u64),
    /// A bind mount.
    Mount(PathBuf),
    /// Only reachable through another namespace (an ancestor).
    None,
}

impl Holder {
    /// Which holder PATH shows when several hold a namespace: a process (whose PID the
    /// row shows), then a thread, a bind mount (stable), an fd.
    fn rank(&self) -> u8 {
        match self {
            Holder::Process(_) => 0,
            Holder::Thread(..) => 1,
            Holder::Mount(_) => 2,
            Holder::Fd(..) => 3,
            Holder::Socket(..) => 4,
            Holder::None => 5,
        }
    }

    /// The path through which the namespace can be opened (PATH column).
    pub fn path(&self, kind: NsKind) -> Option<PathBuf> {
        Some(PathBuf::from(match self {
            Holder::Process(p) => format!("/proc/{p}/ns/{kind}"),
            Holder::Thread(p, t) => format!("/proc/{p}/task/{t}/ns/{kind}"),
            Holder::Fd(p, fd) => format!("/proc/{p}/fd/{fd}"),
            Holder::Mount(m) => return Some(m.clone()),
            Holder::Socket(..) | Holder::None => return None,
        }))
    }
}

/// One namespace.
#[derive(Debug)]
pub struct Ns {
    /// Its inode (the NS column).
    pub ino: u64,
    /// Its kind.
    pub kind: NsKind,
    /// Processes in it (a process counts once, whether by its leader or by other threads).
    pub nprocs: u32,
    /// The lowest PID in it.
    pub pid: Option<i32>,
    /// `SRC_*` bits.
    pub sources: u8,
    /// The first thing found holding it.
    pub holder: Holder,
    /// nsfs bind mounts of it in our mount namespace.
    pub mounts: Vec<PathBuf>,
    /// Parent (pid, user), `Some(0)` at the top or for other kinds; `None` not resolved.
    pub parent: Option<u64>,
    /// Owning user namespace, `Some(0)` when outside our view; `None` not resolved.
    pub owner: Option<u64>,
    /// The creator's uid of the user namespace itself (user) or of its owner (others).
    pub owner_uid: Option<u32>,
    resolved: bool,
}

/// One process as the scan saw it.
#[derive(Debug)]
pub struct Proc {
    /// Its PID in our PID namespace.
    pub pid: i32,
    /// The inode of each kind of its namespaces, 0 when not scanned.
    pub ns: KindMap<u64>,
}

/// What to look at.
#[derive(Debug, Clone)]
pub struct ScanOpts {
    /// Kinds to scan processes for.
    pub kinds: KindMap<bool>,
    /// Look at threads that are not the leader.
    pub threads: bool,
    /// Look at open file descriptors.
    pub fds: bool,
    /// Look at the network namespaces of open sockets (with `fds`).
    pub sockets: bool,
    /// Look at nsfs bind mounts.
    pub mounts: bool,
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every namespace found.
    pub nss: Vec<Ns>,
    /// Inode → index in `nss`.
    pub index: HashMap<u64, usize>,
    /// Every process read, by ascending PID.
    pub procs: Vec<Proc>,
    /// Processes that could not be read, with the errno.
    pub unreadable: Vec<(i32, Errno)>,
    /// Processes whose sockets could not be looked at (no ptrace access), with the errno.
    pub sockets_unreadable: Vec<(i32, Errno)>,
    /// What is known about sockets.
    pub sockets: Sockets,
    stats: HashMap<i32, Option<Stat>>,
    uids: HashMap<i32, Option<u32>>,
}

/// An unsigned number in decimal into `buf`, for building `/proc` names without allocating.
fn decimal(mut n: u32, buf: &mut [u8; 16]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// An unsigned number in decimal as a C string in `buf`.
fn cname(n: u32, buf: &mut [u8; 17]) -> &CStr {
    let mut d = [0u8; 16];
    let digits = decimal(n, &mut d);
    buf[..digits.len()].copy_from_slice(digits);
    buf[digits.len()] = 0;
    CStr::from_bytes_with_nul(&buf[..=digits.len()]).unwrap_or(c"0")
}

fn parse_name(name: &[u8]) -> Option<i32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// The numeric entries of directory `name` under `dirfd` (PIDs, TIDs, fd numbers),
/// ascending, into `out`; the directory fd is returned for further `*at` calls.
fn numeric_entries<Fd: AsFd>(
    dirfd: Fd,
    name: &CStr,
    buf: &mut Vec<u8>,
    out: &mut Vec<i32>,
) -> nix::Result<OwnedFd> {
    let dir = openat(
        dirfd.as_fd(),
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    out.clear();
    sys::for_each_dirent(dir.as_fd(), buf, |n| {
        if let Some(v) = parse_name(n) {
            out.push(v);
        }
    })
    .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    out.sort_unstable();
    Ok(dir)
}

impl Scan {
    /// Scan everything `opts` asks for.
    pub fn run(opts: &ScanOpts) -> Result<Scan> {
        let mut s = Scan::default();
        let procfd = open_dir_fd("/proc").map_err(|e| Error::errno("cannot open /proc", e))?;
        let mut dirbuf = Vec::new();
        let mut pids = Vec::new();
        numeric_entries(&procfd, c".", &mut dirbuf, &mut pids)
            .map_err(|e| Error::errno("cannot read /proc", e))?;
        let mut names = Vec::new();
        let mut socks = Vec::new();
        if opts.fds && opts.sockets && opts.kinds[NsKind::Net] {
            let own = NsId::of_process(None, NsKind::Net).ok();
            s.sockets = Sockets::new(own.map(|id| id.ino));
        }
        s.procs.reserve(pids.len());
        s.index.reserve(pids.len() / 2 + 64);
        s.nss.reserve(pids.len() / 2 + 64);
        let mut buf = [0u8; 16];
        let mut thread_seen: Vec<u64> = Vec::new();
        for pid in pids {
            let Some((dfd, p)) = s.scan_process(&procfd, pid, opts, &mut buf) else {
                continue;
            };
            if opts.threads {
                // st_nlink of /proc/PID/task is 2 + the number of threads: one fstatat
                // spares the directory read of every single-threaded process.
                if let Ok(st) = fstatat(&dfd, c"task", AtFlags::empty()) {
                    if st.st_nlink > 3 {
                        thread_seen.clear();
                        s.scan_threads(&dfd, &p, opts, &mut thread_seen, &mut dirbuf);
                    }
                }
            }
            if opts.fds {
                s.scan_fds(&dfd, pid, opts, &mut dirbuf, &mut names, &mut socks);
                s.scan_sockets(&p, &socks);
            }
            s.procs.push(p);
        }
        if opts.mounts {
            s.scan_mounts(opts);
        }
        Ok(s)
    }

    /// One process's namespaces, through an `O_PATH` fd of its `/proc` directory (returned
    /// for the other sources); `None` when it has gone or cannot be read (then counted in
    /// [`Scan::unreadable`]).
    fn scan_process(
        &mut self,
        procfd: &OwnedFd,
        pid: i32,
        opts: &ScanOpts,
        buf: &mut [u8; 16],
    ) -> Option<(OwnedFd, Proc)> {
        let name = decimal(pid as u32, buf);
        let mut p = Proc {
            pid,
            ns: KindMap::default(),
        };
        let read = open_dir_fd_at(procfd, name)
            .and_then(|dfd| read_ns(&dfd, &opts.kinds, &mut p.ns).map(|()| dfd));
        let dfd = match read {
            Ok(fd) => fd,
            Err(Errno::ENOENT | Errno::ESRCH) => return None,
            Err(e) => {
                self.unreadable.push((pid, e));
                return None;
            }
        };
        for (k, &ino) in p.ns.iter() {
            if ino != 0 {
                let i = self.add(ino, k, SRC_PROCESS, || Holder::Process(pid));
                let ns = &mut self.nss[i];
                ns.nprocs += 1;
                ns.pid.get_or_insert(pid);
            }
        }
        Some((dfd, p))
    }

    /// nsfs bind mounts in our mount namespace. Without a readable mount table only the
    /// mounts are missing, not the listing.
    fn scan_mounts(&mut self, opts: &ScanOpts) {
        let Ok(mounts) = mountinfo::read_self() else {
            return;
        };
        for m in mounts {
            if let Some((k, ino)) = m.nsfs_target() {
                if opts.kinds[k] {
                    let path = m.mount_point.clone();
                    let i = self.add(ino, k, SRC_MOUNT, || Holder::Mount(path));
                    self.nss[i].mounts.push(m.mount_point);
                }
            }
        }
    }

    /// Find or add a namespace, marking how it was found.
    fn add(&mut self, ino: u64, kind: NsKind, src: u8, holder: impl FnOnce() -> Holder) -> usize {
        if let Some(&i) = self.index.get(&ino) {
            let ns = &mut self.nss[i];
            if ns.sources & src == 0 {
                ns.sources |= src;
                let h = holder();
                if h.rank() < ns.holder.rank() {
                    ns.holder = h;
                }
            }
            return i;
        }
        let i = self.nss.len();
        self.nss.push(Ns {
            ino,
            kind,
            nprocs: 0,
            pid: None,
            sources: src,
            holder: holder(),
            mounts: Vec::new(),
            parent: None,
            owner: None,
            owner_uid: None,
            resolved: false,
        });
        self.index.insert(ino, i);
        i
    }

    fn scan_threads(
        &mut self,
        dfd: &OwnedFd,
        p: &Proc,
        opts: &ScanOpts,
        seen: &mut Vec<u64>,
        buf: &mut Vec<u8>,
    ) {
        let mut tids = Vec::new();
        let Ok(task) = numeric_entries(dfd, c"task", buf, &mut tids) else {
            return;
        };
        let mut buf = [0u8; 16];
        for tid in tids.into_iter().filter(|&t| t != p.pid) {
            let tname = decimal(tid as u32, &mut buf);
            let Ok(tfd) = open_dir_fd_at(&task, tname) else {
                continue;
            };
            let mut ns = KindMap::default();
            if read_ns(&tfd, &opts.kinds, &mut ns).is_err() {
                continue;
            }
            for (k, &ino) in ns.iter() {
                if ino == 0 || ino == p.ns[k] {
                    continue;
                }
                let pid = p.pid;
                let i = self.add(ino, k, SRC_THREAD, || Holder::Thread(pid, tid));
                // A process counts once in a namespace however many of its threads are in it.
                if !seen.contains(&ino) {
                    seen.push(ino);
                    let n = &mut self.nss[i];
                    n.nprocs += 1;
                    n.pid = Some(n.pid.map_or(pid, |q| q.min(pid)));
                }
            }
        }
    }

    fn scan_fds(
        &mut self,
        dfd: &OwnedFd,
        pid: i32,
        opts: &ScanOpts,
        dirbuf: &mut Vec<u8>,
        fds: &mut Vec<i32>,
        socks: &mut Vec<(i32, u64)>,
    ) {
        socks.clear();
        let Ok(fddir) = numeric_entries(dfd, c"fd", dirbuf, fds) else {
            return;
        };
        let want_socks = opts.sockets && opts.kinds[NsKind::Net];
        let mut name = [0u8; 17];
        let mut text = [0u8; 64];
        for &fd in fds.iter() {
            // Namespace and socket links are short (`net:[4026531840]`); a longer one is
            // a path, cut here and no match.
            let Ok(n) = sys::readlinkat_into(fddir.as_fd(), cname(fd as u32, &mut name), &mut text)
            else {
                continue;
            };
            let link = &text[..n];
            if want_socks {
                if let Some(sock) = parse_socket_link(link) {
                    socks.push((fd, sock));
                    continue;
                }
            }
            if let Some((k, ino)) = parse_ns_link(link) {
                if opts.kinds[k] {
                    self.add(ino, k, SRC_FD, || Holder::Fd(pid, fd));
                }
            }
        }
    }

    /// The network namespaces of the sockets `socks` (fd, socket inode) of process `p`; one
    /// in which `p` itself is not is added as socket-held.
    fn scan_sockets(&mut self, p: &Proc, socks: &[(i32, u64)]) {
        let own = p.ns[NsKind::Net];
        let mut pidfd: Option<OwnedFd> = None;
        for &(fd, sock) in socks {
            if pidfd.is_none() {
                match sys::pidfd_open(p.pid) {
                    Ok(f) => pidfd = Some(f),
                    Err(_) => return, // gone
                }
            }
            let Some(pfd) = pidfd.as_ref() else { return };
            match self.sockets.netns(pfd.as_fd(), fd, sock) {
                Ok(Some(ns)) if ns != own => {
                    let pid = p.pid;
                    self.add(ns, NsKind::Net, SRC_SOCKET, || {
                        Holder::Socket(pid, fd, sock)
                    });
                }
                Ok(_) => {}
                Err(Stop::Gone) => return,
                Err(Stop::Denied(e)) => {
                    self.sockets_unreadable.push((p.pid, e));
                    return;
                }
            }
        }
    }

    /// The namespace with this inode.
    pub fn get(&self, ino: u64) -> Option<&Ns> {
        self.index.get(&ino).map(|&i| &self.nss[i])
    }

    /// The process with this PID, if it was read.
    pub fn proc(&self, pid: i32) -> Option<&Proc> {
        self.procs
            .binary_search_by_key(&pid, |p| p.pid)
            .ok()
            .map(|i| &self.procs[i])
    }

    /// `/proc/PID/stat` of a process, read once and cached.
    pub fn stat(&mut self, pid: i32) -> Option<&Stat> {
        self.stats
            .entry(pid)
            .or_insert_with(|| read_stat(pid))
            .as_ref()
    }

    /// The owner of `/proc/PID` (the effective uid, as lsns shows it), looked up only for
    /// the processes shown.
    pub fn uid(&mut self, pid: i32) -> Option<u32> {
        *self.uids.entry(pid).or_insert_with(|| {
            nix::sys::stat::stat(format!("/proc/{pid}").as_str())
                .ok()
                .map(|st| st.st_uid)
        })
    }

    /// The parent PID of a process (0 for the top or when it has gone).
    pub fn ppid(&mut self, pid: i32) -> i32 {
        self.stat(pid).map_or(0, |s| s.ppid)
    }

    /// Open a namespace through whatever holds it.
    pub fn open(&self, i: usize) -> Option<NsFile> {
        let ns = &self.nss[i];
        if let Holder::Socket(pid, fd, sock) = ns.holder {
            return crate::sockets::reopen(pid, fd, sock, ns.ino);
        }
        let path = ns.holder.path(ns.kind)?;
        NsFile::open(&path, Some(ns.kind)).ok()
    }

    /// Fill in parent, owner and owner uid of namespace `i`, adding ancestors that nothing
    /// else holds. Fails (exit 2) only when the kernel lacks the ioctls.
    pub fn resolve(&mut self, i: usize) -> Result<()> {
        if self.nss[i].resolved {
            return Ok(());
        }
        match self.open(i) {
            Some(f) => self.resolve_with(i, &f),
            None => {
                // Gone since the scan, or not openable by us: leave it unresolved.
                self.nss[i].resolved = true;
                Ok(())
            }
        }
    }

    /// Resolve every namespace, ancestors included.
    pub fn resolve_all(&mut self) -> Result<()> {
        let mut i = 0;
        // Resolving adds ancestors at the end, which the loop then reaches too.
        while i < self.nss.len() {
            self.resolve(i)?;
            i += 1;
        }
        Ok(())
    }

    /// Resolve the namespaces that can lead to an ancestor nothing else holds: user and pid
    /// namespaces (their parents), and those without a process (their owners).
    pub fn discover_ancestors(&mut self) -> Result<()> {
        let mut i = 0;
        while i < self.nss.len() {
            let ns = &self.nss[i];
            if matches!(ns.kind, NsKind::User | NsKind::Pid) || ns.nprocs == 0 {
                self.resolve(i)?;
            }
            i += 1;
        }
        Ok(())
    }

    /// An ancestor reached through an ioctl: marked `parent`/`owner` only when nothing else
    /// had found it, so SOURCE says how it was *found*.
    fn ancestor(&mut self, ino: u64, kind: NsKind, src: u8) -> usize {
        match self.index.get(&ino) {
            Some(&i) => i,
            None => self.add(ino, kind, src, || Holder::None),
        }
    }

    fn resolve_with(&mut self, i: usize, f: &NsFile) -> Result<()> {
        self.nss[i].resolved = true;
        let kind = self.nss[i].kind;
        match f.owner() {
            Ok(o) => {
                let ino = o.id().map(|id| id.ino).unwrap_or(0);
                self.nss[i].owner = Some(ino);
                if ino != 0 && ino != self.nss[i].ino {
                    let oi = self.ancestor(ino, NsKind::User, SRC_OWNER);
                    if !self.nss[oi].resolved {
                        self.resolve_with(oi, &o)?;
                    }
                }
            }
            Err(e) => {
                unsupported(&e, "NS_GET_USERNS")?;
                self.nss[i].owner = Some(0);
            }
        }
        if matches!(kind, NsKind::User | NsKind::Pid) {
            match f.parent() {
                Ok(p) => {
                    let ino = p.id().map(|id| id.ino).unwrap_or(0);
                    self.nss[i].parent = Some(ino);
                    if ino != 0 {
                        let pi = self.ancestor(ino, kind, SRC_PARENT);
                        if !self.nss[pi].resolved {
                            self.resolve_with(pi, &p)?;
                        }
                    }
                }
                Err(e) => {
                    unsupported(&e, "NS_GET_PARENT")?;
                    self.nss[i].parent = Some(0);
                }
            }
        } else {
            self.nss[i].parent = Some(0);
        }
        if kind == NsKind::User {
            match f.owner_uid() {
                Ok(uid) => self.nss[i].owner_uid = Some(uid),
                Err(e) => unsupported(&e, "NS_GET_OWNER_UID")?,
            }
        } else if let Some(o) = self.nss[i].owner.and_then(|o| self.get(o)) {
            self.nss[i].owner_uid = o.owner_uid;
        }
        Ok(())
    }
}

/// ENOTTY from an nsfs ioctl: this kernel lacks it, and nsls exits 2.
fn unsupported(e: &Error, ioctl: &str) -> Result<()> {
    if e.raw_os_error() == Some(libc::ENOTTY) {
        return Err(Error::msg(format!("the kernel does not support {ioctl}"))
            .hint("PNS, ONS, the parent and owner trees and complete discovery need Linux 4.9+")
            .code(NSLS_UNSUPPORTED));
    }
    Ok(())
}

/// Stat the `ns/KIND` links of one process or thread directory, relative to an `O_PATH` fd
/// of its `ns/` directory: each `fstatat` walks one component instead of two, fewer lookups
/// on the scan's hottest path.
///
/// `pid_for_children` and `time_for_children` are not looked at: the kernel hides the first
/// until the namespace has an init (which is then found as its process), and `execve` moves
/// a process into the second, so neither holds a namespace for long.
fn read_ns(dfd: &OwnedFd, kinds: &KindMap<bool>, out: &mut KindMap<u64>) -> nix::Result<()> {
    let nsfd = open_dir_fd_at(dfd, c"ns")?;
    let mut found = false;
    let mut asked = false;
    for kind in kinds.kinds() {
        asked = true;
        match fstatat(&nsfd, kind.proc_cname(), AtFlags::empty()) {
            Ok(st) => {
                out[kind] = st.st_ino;
                found = true;
            }
            // A kind this kernel lacks (time before 5.6) is absent; so are all but the pid
            // and user links of a zombie, which still holds those two namespaces (lsns
            // lists them too). Only a process with no link left has vanished.
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
    }
    if asked && !found {
        return Err(Errno::ENOENT);
    }
    Ok(())
}

/// The command line of a process, arguments joined by spaces; the `comm` name for kernel
/// threads (empty command line).
pub fn read_cmdline(pid: i32) -> Option<String> {
    let data = read_small(&format!("/proc/{pid}/cmdline"))?;
    let trimmed = data.strip_suffix(b"\0").unwrap_or(&data);
    if trimmed.is_empty() {
        return None;
    }
    let joined: Vec<u8> = trimmed
        .iter()
        .map(|&b| if b == 0 { b' ' } else { b })
        .collect();
    Some(String::from_utf8_lossy(&joined).into_owned())
}

/// The `NSpid` line of `/proc/PID/status`: the PID at each level, outermost first.
pub fn read_nspid(pid: i32) -> Option<Vec<i32>> {
    parse_nspid(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// The `NSpid` line of the text of a `/proc/PID/status` file.
pub fn parse_nspid(text: &str) -> Option<Vec<i32>> {
    let line = text.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    line.split_ascii_whitespace()
        .map(|w| w.parse().ok())
        .collect()
}

/// Whether a path is a bind mount of a namespace under `/run/netns` (the `ip netns` name).
pub fn netns_name(path: &Path) -> Option<&str> {
    let rest = path.strip_prefix("/run/netns").ok()?;
    let s = rest.to_str()?;
    (!s.is_empty() && !s.contains('/')).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_names() {
        let mut b = [0u8; 16];
        assert_eq!(decimal(0, &mut b), b"0");
        assert_eq!(decimal(4026531837, &mut b), b"4026531837");
        assert_eq!(parse_name(b"123"), Some(123));
        let mut c = [0u8; 17];
        assert_eq!(cname(4294967295, &mut c), c"4294967295");
        assert_eq!(cname(7, &mut c), c"7");
        assert_eq!(parse_name(b"self"), None);
    }

    #[test]
    fn parses_stat_and_status_text() {
        let st = parse_stat(b"77 (a) b (c)) S 12 77 77 0 -1").expect("stat");
        assert_eq!((st.ppid, st.comm.as_str()), (12, "a) b (c)"));
        assert!(parse_stat(b"77 )a( S 1").is_none());
        assert!(parse_stat(b"").is_none());
        assert_eq!(
            parse_nspid("Name:\tsh\nNSpid:\t100\t7\t1\nNSpgid:\t1\n"),
            Some(vec![100, 7, 1])
        );
        assert_eq!(parse_nspid("NSpid:\t1 x\n"), None);
        assert_eq!(parse_nspid("Pid:\t1\n"), None);
    }

    #[test]
    fn reads_our_own_process() {
        let me = std::process::id() as i32;
        let st = read_stat(me).expect("stat");
        assert_eq!(st.ppid, nix::unistd::getppid().as_raw());
        assert!(read_cmdline(me).is_some());
        assert_eq!(read_nspid(me).and_then(|v| v.last().copied()), Some(me));
        assert_eq!(netns_name(Path::new("/run/netns/blue")), Some("blue"));
        assert_eq!(netns_name(Path::new("/run/netns/a/b")), None);
        assert_eq!(netns_name(Path::new("/tmp/x")), None);
    }
}
