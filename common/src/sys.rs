//! The system calls nix does not wrap: namespace and pidfd ioctls, pidfds, `close_range`,
//! `open_tree`/`move_mount`, `fork`, signal dispositions, capabilities, the terminal.
//!
//! Where rustix (already in the build through clap and procfs) has a safe wrapper, this
//! module calls it; what is left is `unsafe`, and this is the only module of the workspace
//! with `unsafe` blocks — every one says why it is sound. Everything here returns
//! `io::Result` and takes or returns typed fds, so no caller handles `errno`.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::kind::NsKind;

/// `_IO(0xb7, n)`: the nsfs ioctls of `linux/nsfs.h`.
const fn nsio(n: u8) -> libc::c_ulong {
    (0xb7 << 8) | n as libc::c_ulong
}
const NS_GET_USERNS: libc::c_ulong = nsio(1);
const NS_GET_PARENT: libc::c_ulong = nsio(2);
const NS_GET_NSTYPE: libc::c_ulong = nsio(3);
const NS_GET_OWNER_UID: libc::c_ulong = nsio(4);

/// `_IO(0xFF, n)`: the pidfs ioctls of `linux/pidfd.h` (Linux 6.11+).
const fn pidfs_ns_ioctl(n: u8) -> libc::c_ulong {
    (0xFF << 8) | n as libc::c_ulong
}

fn cvt(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// An ioctl that takes no argument and returns an int (or a new fd). Only for the requests
/// of this module, each known to take none.
fn ioctl_noarg(fd: BorrowedFd<'_>, req: libc::c_ulong) -> io::Result<libc::c_int> {
    // An explicit 0 argument: ioctl is variadic, and without it the kernel sees whatever
    // the third register holds — the pidfs namespace ioctls reject a non-zero argument
    // with EINVAL, which silently sent PidFd::ns_file to its /proc fallback every time.
    // SAFETY: the request takes no argument (0 is passed); `fd` is a valid open descriptor.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, 0 as libc::c_ulong) };
    cvt(r as libc::c_long).map(|r| r as libc::c_int)
}

/// Take ownership of an fd that a successful syscall just returned (only for requests
/// that return a new fd).
fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: the kernel just returned this descriptor to us; nobody else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `NS_GET_NSTYPE`: the `CLONE_NEW*` flag of the namespace `fd` refers to. ENOTTY or EINVAL
/// mean `fd` is no namespace file.
pub fn ns_get_nstype(fd: BorrowedFd<'_>) -> io::Result<libc::c_int> {
    ioctl_noarg(fd, NS_GET_NSTYPE)
}

/// `NS_GET_USERNS`: the user namespace that owns the namespace `fd` refers to.
pub fn ns_get_userns(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    ioctl_noarg(fd, NS_GET_USERNS).map(owned)
}

/// `NS_GET_PARENT`: the parent of a pid or user namespace.
pub fn ns_get_parent(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    ioctl_noarg(fd, NS_GET_PARENT).map(owned)
}

/// `NS_GET_OWNER_UID`: the uid (in the caller's user namespace) of the creator of a user
/// namespace.
pub fn ns_get_owner_uid(fd: BorrowedFd<'_>) -> io::Result<libc::uid_t> {
    let mut uid: libc::uid_t = 0;
    // SAFETY: NS_GET_OWNER_UID writes one uid_t through the pointer, which points to a live
    // local of that type.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_OWNER_UID as _, &mut uid) };
    cvt(r as libc::c_long).map(|_| uid)
}

/// `PIDFD_GET_*_NAMESPACE`: the namespace `kind` (or its `_for_children` twin) of the
/// process the pidfd refers to, as a new fd.
pub fn pidfd_get_namespace(
    pidfd: BorrowedFd<'_>,
    kind: NsKind,
    for_children: bool,
) -> io::Result<OwnedFd> {
    let req = pidfs_ns_ioctl(kind.pidfd_ioctl_nr(for_children));
    ioctl_noarg(pidfd, req).map(owned)
}

/// `pidfd_open(2)`. EINVAL for a PID that is not positive.
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    let pid = (pid > 0)
        .then(|| rustix::process::Pid::from_raw(pid))
        .flatten()
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(rustix::process::pidfd_open(
        pid,
        rustix::process::PidfdFlags::empty(),
    )?)
}

/// `pidfd_send_signal(2)` with no siginfo; `sig` 0 only checks that the process lives.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: libc::c_int) -> io::Result<()> {
    let null: *const libc::siginfo_t = std::ptr::null();
    // SAFETY: a valid pidfd, a signal number, a NULL siginfo (allowed) and flags 0.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            null,
            0 as libc::c_uint,
        )
    };
    cvt(r).map(drop)
}

/// `open_tree(2)` with `OPEN_TREE_CLONE`: a detached bind mount of what `path` resolves to
/// (following a `/proc/PID/ns/X` link to the namespace), close-on-exec. Dropping it unattached
/// dissolves it; once attached by [`move_mount_onto`], the fd refers to the attached mount.
pub fn open_tree_clone(path: &std::ffi::CStr) -> io::Result<OwnedFd> {
    use rustix::mount::OpenTreeFlags;
    Ok(rustix::mount::open_tree(
        rustix::fs::CWD,
        path,
        OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC,
    )?)
}

/// `move_mount(2)` of the detached mount `tree` onto the file or directory `onto` is open on:
/// the mount lands on that very inode, whatever its path has become since it was opened.
pub fn move_mount_onto(tree: BorrowedFd<'_>, onto: BorrowedFd<'_>) -> io::Result<()> {
    use rustix::mount::MoveMountFlags;
    Ok(rustix::mount::move_mount(
        tree,
        c"",
        onto,
        c"",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )?)
}

/// The result of [`fork`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkResult {
    /// In the parent, with the child's PID.
    Parent(libc::pid_t),
    /// In the child.
    Child,
}

/// How many threads the process has: `/proc/self/task` has a link count of 2 plus that
/// number, so one `stat` answers (reading `/proc/self/stat` costs more). NotFound where no
/// `/proc` is mounted (an init started in a bare image) or where `/proc/self` is another
/// PID namespace's that we are not in (after `setns` into a container's mount namespace).
pub fn thread_count() -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata("/proc/self/task")?;
    Ok(md.nlink().saturating_sub(2))
}

/// `fork(2)`, refused in a process with more than one thread (an error, not a child that
/// could inherit a lock held by a thread it does not have).
pub fn fork() -> io::Result<ForkResult> {
    let threads = thread_count().ok();
    if let Some(n) = threads.filter(|&n| n > 1) {
        return Err(io::Error::other(format!(
            "{n} threads where one is required"
        )));
    }
    // SAFETY: the process has one thread, counted just above, so the child cannot inherit a
    // lock held by another thread. Where the threads cannot be counted (no /proc of ours),
    // the only users of this crate, the workspace's binaries, start no thread at all.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { child }) => Ok(ForkResult::Parent(child.as_raw())),
        Ok(nix::unistd::ForkResult::Child) => Ok(ForkResult::Child),
        Err(e) => Err(io::Error::from_raw_os_error(e as i32)),
    }
}

/// Set signal `sig`'s disposition to SIG_DFL (`default`) or SIG_IGN.
pub fn set_signal_default(sig: libc::c_int, default: bool) -> io::Result<()> {
    let handler = if default {
        libc::SIG_DFL
    } else {
        libc::SIG_IGN
    };
    // SAFETY: installing SIG_DFL or SIG_IGN runs no Rust code in signal context.
    let r = unsafe { libc::signal(sig, handler) };
    if r == libc::SIG_ERR {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Whether signal `sig` is currently ignored (SIG_IGN), without changing it.
pub fn signal_is_ignored(sig: libc::c_int) -> io::Result<bool> {
    // SAFETY: sigaction with a NULL new action only reads the current one into `old`, a
    // zeroed local of the right type.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(sig, std::ptr::null(), &mut old) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(old.sa_sigaction == libc::SIG_IGN)
    }
}

/// `_exit(2)`: end a forked child without running the parent's atexit handlers or
/// flushing its copied stdio buffers twice.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is always safe to call; it does not return.
    unsafe { libc::_exit(code) }
}

/// `write(2)` to a descriptor known only by number (one the process keeps open on purpose
/// across a fork, without an owner that would close it twice).
pub fn write_raw(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length come from a live slice; on a number that is not open
    // write fails with EBADF and touches nothing.
    let r = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    cvt(r as libc::c_long).map(|n| n as usize)
}

/// `kill(2)` with any signal number, real-time ones included (nix's `Signal` lacks them).
pub fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes two integers and has no memory effects in this process.
    let r = unsafe { libc::kill(pid, sig) };
    cvt(libc::c_long::from(r)).map(drop)
}

/// The width in columns of the terminal `fd` refers to (`TIOCGWINSZ`); `None` when it is no
/// terminal or reports a width of 0.
pub fn terminal_width(fd: BorrowedFd<'_>) -> Option<u16> {
    let ws = rustix::termios::tcgetwinsize(fd).ok()?;
    (ws.ws_col > 0).then_some(ws.ws_col)
}

/// Call `f` with the name of every entry of the directory open as `fd` (not `.` and `..`),
/// reading it with raw `getdents64(2)` into `buf` (grown to 32 KiB if smaller).
///
/// This spares `opendir`'s extra `fcntl`/`fstat`/`lseek` calls, which matter when a scan
/// reads thousands of small `/proc` directories. When a read leaves more room in `buf` than
/// the largest possible entry, the kernel stopped at the end of the directory, so the final
/// empty read is skipped too. That holds for procfs and the local filesystems, whose
/// readdir fills the buffer as far as it goes; a network or FUSE filesystem that returns
/// short batches would be read incompletely — use `std::fs::read_dir` there.
pub fn for_each_dirent(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    mut f: impl FnMut(&[u8]),
) -> io::Result<()> {
    /// Header of `struct linux_dirent64` (ino, off, reclen, type) plus a 255-byte name, NUL
    /// and padding.
    const MAX_ENTRY: usize = 19 + 256 + 8;
    if buf.len() < 32 * 1024 {
        buf.resize(32 * 1024, 0);
    }
    loop {
        // SAFETY: getdents64 writes at most `buf.len()` bytes into `buf`, which we own and
        // which stays alive for the call.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        let n = cvt(n)? as usize;
        if n == 0 {
            return Ok(());
        }
        let mut off = 0;
        while let Some(rec) = buf.get(off..off + 19) {
            let reclen = usize::from(u16::from_ne_bytes([rec[16], rec[17]]));
            if reclen < 19 || off + reclen > n {
                break;
            }
            let name = &buf[off + 19..off + reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            if name != b"." && name != b".." {
                f(name);
            }
            off += reclen;
        }
        if buf.len() - n > MAX_ENTRY {
            return Ok(());
        }
    }
}

/// Bring the loopback interface of the caller's network namespace up, as bubblewrap does for
/// a new one: a single `SIOCSIFFLAGS` ioctl on a throwaway datagram socket (about 45 µs; the
/// netlink route would cost more code and more time for the same effect).
pub fn set_loopback_up() -> io::Result<()> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain old data (integers, arrays and a union of them); all zeroes is
    // a valid value of it.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // lo starts with only IFF_LOOPBACK set; RUNNING is ignored by the kernel but harmless.
    req.ifr_ifru.ifru_flags =
        (libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_RUNNING) as libc::c_short;
    // SAFETY: SIOCSIFFLAGS reads one `struct ifreq` through the pointer, which points to a
    // live, initialised local of that type; `sock` is open for the duration of the call.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS as _, &req) };
    cvt(libc::c_long::from(r)).map(drop)
}

/// `setdomainname(2)`: set the NIS domain name of the caller's UTS namespace.
pub fn setdomainname(name: &[u8]) -> io::Result<()> {
    Ok(rustix::system::setdomainname(name)?)
}

/// One capability as rustix names it: the set with bit `cap` alone.
fn cap_bit(cap: u32) -> rustix::thread::CapabilitySet {
    rustix::thread::CapabilitySet::from_bits_retain(1 << cap)
}

/// Keep the capabilities the caller holds across `execve` even when the command does not
/// run as uid 0 (`--keep-caps`): make every permitted capability effective and inheritable,
/// then raise it in the ambient set (every capability the kernel knows: [`last_cap`]).
/// Capabilities outside the permitted set are skipped (the kernel refuses them with EPERM).
pub fn keep_caps_across_exec() -> io::Result<()> {
    use rustix::thread::{capabilities, configure_capability_in_ambient_set, set_capabilities};
    let last_cap = last_cap();
    let mut sets = capabilities(None)?;
    sets.effective = sets.permitted;
    sets.inheritable = sets.permitted;
    set_capabilities(None, sets)?;
    for cap in 0..=last_cap.min(63) {
        if sets.permitted.contains(cap_bit(cap)) {
            configure_capability_in_ambient_set(cap_bit(cap), true)?;
        }
    }
    Ok(())
}

/// The highest capability number this kernel knows: the last one `PR_CAPBSET_READ`
/// accepts (it answers EINVAL beyond). Asked of the kernel, not read from
/// `/proc/sys/kernel/cap_last_cap`: this runs after entering a container's mount namespace
/// or changing root, where `/proc` is another one or missing.
pub fn last_cap() -> u32 {
    (1..64u32)
        .take_while(|&cap| rustix::thread::capability_is_in_bounding_set(cap_bit(cap)).is_ok())
        .last()
        .unwrap_or(0)
}

/// `close_range(first, ~0, 0)`: close every descriptor from `first` upwards (falling back to
/// a walk of `/proc/self/fd` before Linux 5.11). For an init that must pin nothing its
/// parent gave it.
///
/// # Safety
///
/// No [`OwnedFd`] (or anything else that owns a descriptor: a `File`, a socket) numbered
/// `first` or above may be alive: it would be closed under its owner, which could then
/// close or use a number that has been reused for another file.
pub unsafe fn close_fds_from(first: RawFd) -> io::Result<()> {
    // SAFETY: close_range only closes descriptors; the caller guarantees (see # Safety) that
    // none of them is owned, so no live handle is invalidated.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            0 as libc::c_uint,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd >= first)
        .collect();
    for fd in fds {
        // As above (the caller's # Safety); a number that was the directory's own fd is
        // already closed, and EBADF then is harmless.
        let _ = nix::unistd::close(fd);
    }
    Ok(())
}

/// A close-on-exec duplicate of a descriptor known only by number (one the user named on
/// the command line, like `--info-fd=5`), as an `OwnedFd` we may read, write and drop
/// without touching the original. EBADF when `fd` is not open.
pub fn dup_cloexec(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor (≥ 3) or fails with EBADF; the
    // original is not affected and the new one is ours alone.
    let r = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    cvt(libc::c_long::from(r)).map(|fd| owned(fd as libc::c_int))
}

/// `ioctl(fd, TIOCSCTTY, 0)`: make the terminal on `fd` the controlling terminal of the
/// calling session leader (fails if another session already owns it).
pub fn set_controlling_terminal(fd: BorrowedFd<'_>) -> io::Result<()> {
    Ok(rustix::process::ioctl_tiocsctty(fd)?)
}

/// `ioctl(fd, TIOCNOTTY)`: give up the controlling terminal on `fd` (ENOTTY if it is not
/// ours). For a session leader this detaches the whole session and sends SIGHUP and SIGCONT
/// to the terminal's foreground process group.
pub fn release_controlling_terminal(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: TIOCNOTTY takes no argument; no memory is passed.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCNOTTY as _) };
    cvt(r as libc::c_long).map(drop)
}

/// Whether `sig` is pending for the calling thread or process (it must be blocked to stay
/// pending).
pub fn signal_pending(sig: libc::c_int) -> bool {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it and sigpending fills it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigpending(&mut set) == 0 && libc::sigismember(&set, sig) == 1
    }
}

/// What SIGPIPE's disposition was when the process started, before Rust's runtime set it to
/// SIG_IGN: 0 unknown, 1 not ignored, 2 ignored. Recorded by [`record_sigpipe`].
static SIGPIPE_AT_START: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Runs from `.init_array`, i.e. before `main` and before the Rust runtime ignores SIGPIPE,
/// so an init can hand its command the SIGPIPE disposition it really inherited.
extern "C" fn record_sigpipe() {
    let ignored = signal_is_ignored(libc::SIGPIPE).unwrap_or(false);
    SIGPIPE_AT_START.store(
        if ignored { 2 } else { 1 },
        std::sync::atomic::Ordering::Relaxed,
    );
}

#[used]
#[link_section = ".init_array"]
static RECORD_SIGPIPE: extern "C" fn() = record_sigpipe;

/// Whether SIGPIPE was ignored when the process started (Rust's runtime ignores it before
/// `main`, hiding what the parent gave us). `None` if that could not be recorded.
pub fn sigpipe_ignored_at_start() -> Option<bool> {
    match SIGPIPE_AT_START.load(std::sync::atomic::Ordering::Relaxed) {
        1 => Some(false),
        2 => Some(true),
        _ => None,
    }
}

/// `pidfd_getfd(2)`: a duplicate (close-on-exec) of fd `targetfd` of the process the pidfd
/// refers to. Needs ptrace-attach permission over it (Linux 5.6+).
pub fn pidfd_getfd(pidfd: BorrowedFd<'_>, targetfd: RawFd) -> io::Result<OwnedFd> {
    Ok(rustix::process::pidfd_getfd(
        pidfd,
        targetfd,
        rustix::process::PidfdGetfdFlags::empty(),
    )?)
}

/// `SIOCGSKNS` of `linux/sockios.h`: the network namespace of a socket.
const SIOCGSKNS: libc::c_ulong = 0x894C;

/// The network namespace a socket belongs to, as a new fd (`ioctl(SIOCGSKNS)`). ENOTTY (or
/// EINVAL) when `sock` is no socket.
pub fn socket_netns(sock: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    ioctl_noarg(sock, SIOCGSKNS).map(owned)
}

/// `SO_NETNS_COOKIE` of `asm-generic/socket.h` (Linux 5.14+).
const SO_NETNS_COOKIE: libc::c_int = 71;

/// The cookie of the network namespace a socket belongs to (`getsockopt(SO_NETNS_COOKIE)`):
/// a number unique to that namespace for the boot. Unlike [`socket_netns`] it makes no new
/// fd and needs no privilege — a quarter of the cost. ENOPROTOOPT before Linux 5.14.
pub fn socket_netns_cookie(sock: BorrowedFd<'_>) -> io::Result<u64> {
    let mut cookie: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: `cookie` and `len` are valid for writes and `len` is the size of `cookie`;
    // the kernel writes at most `len` bytes and updates `len`.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            (&mut cookie as *mut u64).cast(),
            &mut len,
        )
    };
    cvt(r.into()).map(|_| cookie)
}

/// `readlinkat(2)` into `buf`, without allocating (nix's allocates a `PATH_MAX` buffer per
/// call, a third of nsls's user time over a host's open fds): the length of the link text,
/// which is cut at `buf.len()` if longer.
pub fn readlinkat_into(
    dir: BorrowedFd<'_>,
    name: &std::ffi::CStr,
    buf: &mut [u8],
) -> io::Result<usize> {
    Ok(rustix::fs::readlinkat_raw(dir, name, buf)?)
}

/// The calling thread's permitted capability set as a 64-bit mask (`capget(2)`).
pub fn caps_permitted() -> io::Result<u64> {
    Ok(rustix::thread::capabilities(None)?.permitted.bits())
}

/// Define the process's C `main` to run `$main` (a `fn() -> ExitCode`) through [`run_main`]
/// instead of Rust's runtime start-up. A tool's `src/main.rs` is then
/// `#![no_main] nsutils_common::sys::entry!(tool::main);`.
///
/// Why: nsrun runs once per sandboxed command and nsinit stays resident as PID 1 of every
/// container. Rust's start-up installs a stack-overflow handler for the main thread: glibc's
/// `pthread_getattr_np` opens and parses `/proc/self/maps` (stdio and scanf code), and an
/// alternate signal stack is mapped. Measured (bench/nsrun, bench/nsinit): ~80 µs of CPU per
/// start, and ~300 KB of peak RSS in the static nsinit, i.e. the pages of that code. What
/// the start-up does that the tools rely on, [`run_main`] does too.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The C entry point: see `nsutils_common::sys::entry!`.
        // SAFETY: `no_mangle` exports this function as the C `main` the C runtime calls
        // with argc/argv; the binary is `#![no_main]`, so no other `main` exists.
        #[no_mangle]
        pub extern "C" fn main(
            _argc: ::std::os::raw::c_int,
            _argv: *const *const ::std::os::raw::c_char,
        ) -> ::std::os::raw::c_int {
            $crate::sys::run_main($main)
        }
    };
}
pub use entry;

/// The body of the C `main` defined by [`entry!`]: what Rust's start-up does that the tools
/// rely on, then `main`, then what Rust's shutdown does.
///
/// * fds 0, 1 and 2 that are closed are opened on `/dev/null`, so no file the tool opens
///   becomes its stdout by accident;
/// * SIGPIPE is ignored, so a write to a closed pipe is an `EPIPE` error, not death (the
///   disposition inherited is still known: [`sigpipe_ignored_at_start`]; children get the
///   default back before exec, as with std's `Command`);
/// * after `main`, stdout is flushed, and the exit code returned to the C runtime.
///
/// Left out: the main thread's stack-overflow handler (an overflow is a plain SIGSEGV rather
/// than a message) and naming the thread `main` (panic messages say `<unnamed>`).
/// `std::env::args` works as before: glibc passes argv to std through `.init_array`.
pub fn run_main(main: fn() -> std::process::ExitCode) -> libc::c_int {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of 3 pollfd for the duration of the call.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } >= 0 {
        for p in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
            // The new fd is the lowest free one, i.e. `p.fd`, and is deliberately never
            // closed (it is the process's stdio from now on).
            let fd = nix::fcntl::open(
                c"/dev/null",
                nix::fcntl::OFlag::O_RDWR,
                nix::sys::stat::Mode::empty(),
            )
            .map(std::os::fd::IntoRawFd::into_raw_fd);
            if fd.ok() != Some(p.fd) {
                // As std does: running without stdio we cannot trust is worse than stopping.
                std::process::abort();
            }
        }
    }
    let _ = set_signal_default(libc::SIGPIPE, false);
    let code = main();
    let _ = std::io::Write::flush(&mut std::io::stdout());
    // ExitCode keeps its value private; it is one of the 256 codes a process can exit with.
    (0..=255u8)
        .find(|&c| std::process::ExitCode::from(c) == code)
        .map_or(1, libc::c_int::from)
}

#[cfg(test)]
mod tests {
    #[test]
    fn last_cap_is_the_kernels() {
        let text = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap").expect("read");
        assert_eq!(
            super::last_cap(),
            text.trim().parse::<u32>().expect("number")
        );
    }
}
