//! Files the tools create, write or mount onto at a path the user gave: pid files and the
//! files namespaces are persisted on (`--net=FILE` and every other kind, `--persist=DIR` and
//! the files in it, `/run/netns/NAME`). Root runs the tools from scripts with paths in
//! `/tmp`, where anyone may plant a symlink, a FIFO or a file of their own; whatever
//! `fs.protected_symlinks` and `fs.protected_regular` say, nothing planted there may make us
//! write or mount over someone else's file:
//!
//! * The directory is resolved once, one component at a time ([`Dir::open`]), following a
//!   symlink only where the kernel's `protected_symlinks` rule would (`/var/run` → `/run` is
//!   fine; another user's link in a sticky world-writable directory is not; procfs's own links
//!   such as `/proc/PID/root` are followed by the kernel). Everything after is relative to that
//!   directory's fd.
//! * The last component is never followed: a symlink there is refused, and so is an existing
//!   entry that is not a regular file (FIFO, device, socket, directory) or that belongs to
//!   another user in a sticky directory (what `protected_regular` guards).
//! * New files are created `O_EXCL|O_NOFOLLOW`. A pid file is written into a fresh temporary
//!   file in the same directory and renamed over the target ([`PidFile`]): no existing file
//!   is written through, and no reader sees half a PID.
//! * A mount goes onto the file we opened ([`Target::fd`]), never onto the path again.
//! * Undo removes only what we made: a mount is taken down only while our namespace is what
//!   is mounted at the name ([`Named::unmount_if`]), and an entry is unlinked only while it is
//!   still the file (device and inode) we created.
//!
//! Every refusal is one line naming the path (the tools exit 125 with it).
//!
//! [`open_dir_fd`] is the plain `O_PATH` open of a directory the tools only read through or
//! change into (`/proc` before `setns`, `--root=DIR`, `--wd=DIR`), following symlinks as
//! `open(2)` does: nothing is written there.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, renameat, AtFlags, OFlag, AT_FDCWD};
use nix::mount::{umount2, MntFlags};
use nix::sys::stat::{fstat, fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::sys::statfs::PROC_SUPER_MAGIC;
use nix::unistd::{unlinkat, UnlinkatFlags};
use nix::NixPath;

use crate::error::{Error, Result};

/// Symlinks followed while resolving one directory (the kernel's `MAXSYMLINKS`).
const MAX_LINKS: u32 = 40;
/// Attempts when the entry keeps vanishing between "it exists" and opening it.
const MAX_TRIES: u32 = 16;
/// The longest file name (`NAME_MAX`).
const NAME_MAX: usize = 255;

/// What a file is, whatever its name: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity in a stat result.
    pub fn of(st: &FileStat) -> FileId {
        FileId {
            dev: st.st_dev,
            ino: st.st_ino,
        }
    }
}

fn file_type(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// Why an existing entry is not used, or `None` when it is what we want — a regular file (or
/// with `want_dir` a directory) we may replace, mount over or create files in. `dir` is the
/// stat of the directory holding it.
fn refusal(dir: &FileStat, st: &FileStat, want_dir: bool, euid: u32) -> Option<String> {
    let ty = file_type(st);
    let wanted = if want_dir {
        SFlag::S_IFDIR
    } else {
        SFlag::S_IFREG
    };
    if ty == wanted {
        let sticky = dir.st_mode & libc::S_ISVTX != 0;
        return (sticky && st.st_uid != euid && st.st_uid != dir.st_uid).then(|| {
            format!(
                "belongs to uid {} in a sticky directory, so it is not ours to use",
                st.st_uid
            )
        });
    }
    let what = match ty {
        SFlag::S_IFLNK => return Some("is a symbolic link, which is never followed".into()),
        SFlag::S_IFREG => "a regular file",
        SFlag::S_IFDIR => "a directory",
        SFlag::S_IFIFO => "a FIFO",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        _ => "of an unknown type",
    };
    let not = if want_dir {
        "not a directory"
    } else {
        "not a regular file"
    };
    Some(format!("is {what}, {not}"))
}

/// The kernel's `protected_symlinks` rule: a symlink in a sticky world-writable directory is
/// followed only by its owner, or when the directory's owner owns it too.
fn may_follow(dir: &FileStat, link: &FileStat, euid: u32) -> bool {
    let sticky_world = libc::S_ISVTX | libc::S_IWOTH;
    dir.st_mode & sticky_world != sticky_world || link.st_uid == euid || link.st_uid == dir.st_uid
}

fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Why a directory could not be opened: the OS said no, or we refused to follow a link.
#[derive(Debug)]
enum WalkError {
    Os(Errno),
    Refused(String),
}

impl WalkError {
    /// As an error of the step `what` (`cannot create /tmp/x/job.pid`).
    fn into_error(self, what: impl Into<String>) -> Error {
        match self {
            WalkError::Os(e) => Error::errno(what, e),
            WalkError::Refused(msg) => Error::msg(msg),
        }
    }
}

/// The components of `path` still to resolve, last first (popped in order); `/` stands for
/// "back to the root" (a component never contains a slash).
fn push_components(todo: &mut Vec<OsString>, path: &OsStr) {
    let bytes = path.as_bytes();
    let parts = bytes
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| OsString::from_vec(c.to_vec()));
    let mut parts: Vec<OsString> = parts.collect();
    if bytes.first() == Some(&b'/') {
        parts.insert(0, OsString::from("/"));
    }
    todo.extend(parts.into_iter().rev());
}

/// Whether `fd` is on a procfs (`/proc`), whose links are the kernel's.
fn on_procfs(fd: &OwnedFd) -> bool {
    nix::sys::statfs::fstatfs(fd).is_ok_and(|s| s.filesystem_type() == PROC_SUPER_MAGIC)
}

/// The directory `path` as an `O_PATH` fd, close-on-exec, following symlinks as `open(2)`
/// does: a handle that reads nothing yet, to `fchdir` to or to resolve `*at` calls from
/// later (after `setns`, what was decided before). A directory to create something in or
/// mount on, at a path the user gave, is a [`Dir`].
pub fn open_dir_fd<P: ?Sized + NixPath>(path: &P) -> nix::Result<OwnedFd> {
    open_dir_fd_at(AT_FDCWD, path)
}

/// [`open_dir_fd`] of `path` relative to the directory `dir`.
pub fn open_dir_fd_at<P: ?Sized + NixPath>(dir: impl AsFd, path: &P) -> nix::Result<OwnedFd> {
    openat(
        dir,
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

fn open_path(dir: impl AsFd, name: &OsStr) -> nix::Result<OwnedFd> {
    openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// Resolve the directory `path` one component at a time, following a symlink only where
/// [`may_follow`] allows it, up to [`MAX_LINKS`] of them.
fn walk(path: &Path) -> std::result::Result<OwnedFd, WalkError> {
    let os = WalkError::Os;
    let mut todo = Vec::new();
    push_components(&mut todo, path.as_os_str());
    let start = if path.is_absolute() { "/" } else { "." };
    let mut cur = open_path(AT_FDCWD, OsStr::new(start)).map_err(os)?;
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == "/" {
            cur = open_path(AT_FDCWD, OsStr::new("/")).map_err(os)?;
            continue;
        }
        let fd = open_path(&cur, &name).map_err(os)?;
        let st = fstat(&fd).map_err(os)?;
        match file_type(&st) {
            SFlag::S_IFDIR => cur = fd,
            SFlag::S_IFLNK => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(os(Errno::ELOOP));
                }
                let dir_st = fstat(&cur).map_err(os)?;
                if !may_follow(&dir_st, &st, euid()) {
                    return Err(WalkError::Refused(format!(
                        "{}: the symbolic link {} belongs to uid {} in a sticky \
                         world-writable directory, so it is not followed",
                        path.display(),
                        Path::new(&name).display(),
                        st.st_uid
                    )));
                }
                if on_procfs(&fd) {
                    // /proc/PID/root, /proc/PID/cwd, /proc/self: the kernel's (magic) links,
                    // which no user plants and whose text is no path to follow: the kernel
                    // follows them.
                    cur = open_dir_fd_at(&cur, name.as_os_str()).map_err(os)?;
                } else {
                    let target = readlinkat(&fd, "").map_err(os)?;
                    push_components(&mut todo, &target);
                }
            }
            _ => return Err(os(Errno::ENOTDIR)),
        }
    }
    Ok(cur)
}

/// The last component of `path`, which must be a plain name (not `/`, `.` or `..`).
fn last_name(path: &Path) -> Result<OsString> {
    path.file_name().map(OsStr::to_os_string).ok_or_else(|| {
        Error::msg(format!(
            "{}: not a file name (a path ending in a name is needed)",
            path.display()
        ))
    })
}

/// A directory opened once (`O_PATH`): every file below it is opened, created, renamed and
/// removed relative to this fd, so the directory cannot be swapped for another in between.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    /// The path as the user gave it, for messages.
    path: PathBuf,
    /// The path made absolute when opened, to find the directory again by name ([`Mark`]).
    abs: PathBuf,
}

impl Dir {
    /// Open the directory `path`, following symlinks on the way only where the kernel's
    /// `protected_symlinks` rule would, whatever the sysctl says.
    pub fn open(path: &Path) -> Result<Dir> {
        Dir::open_as(path, || format!("cannot open directory {}", path.display()))
    }

    /// [`Dir::open`], a failure of the OS reported as `what` (`cannot change root to /x`).
    pub fn open_as(path: &Path, what: impl FnOnce() -> String) -> Result<Dir> {
        let fd = walk(path).map_err(|e| e.into_error(what()))?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
            abs: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
        })
    }

    /// The directory that holds `path`, and the name of `path` in it. A failure to open it
    /// is reported as `what` (`cannot create /tmp/x/job.pid: No such file or directory`).
    pub fn parent_of(path: &Path, what: impl FnOnce() -> String) -> Result<(Dir, OsString)> {
        let name = last_name(path)?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Ok((Dir::open_as(parent, what)?, name))
    }

    /// The path of `name` in this directory, for messages.
    pub fn join(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }

    fn stat(&self) -> nix::Result<FileStat> {
        fstat(&self.fd)
    }

    /// The entry `name` if there is one (`None` if not): refused, as one line naming `shown`,
    /// unless it is a regular file (`want_dir`: a directory) we may replace, mount over or
    /// create files in.
    pub fn check_entry(
        &self,
        name: &OsStr,
        shown: &Path,
        want_dir: bool,
    ) -> Result<Option<FileId>> {
        let st = match fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(Error::errno(format!("cannot stat {}", shown.display()), e)),
        };
        let dir = self
            .stat()
            .map_err(|e| Error::errno(format!("cannot stat {}", self.path.display()), e))?;
        match refusal(&dir, &st, want_dir, euid()) {
            None => Ok(Some(FileId::of(&st))),
            Some(why) => Err(Error::msg(format!("{} {why}", shown.display()))),
        }
    }

    /// Remove the entry `name` if it is still the file `id` (`dir`: a directory we made).
    /// Never removes anything else; errors are ignored (it is undo).
    pub fn unlink_if(&self, name: &OsStr, id: FileId, dir: bool) {
        let same = fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW)
            .is_ok_and(|st| FileId::of(&st) == id);
        if same {
            let flag = if dir {
                UnlinkatFlags::RemoveDir
            } else {
                UnlinkatFlags::NoRemoveDir
            };
            let _ = unlinkat(&self.fd, name, flag);
        }
    }

    /// `path` itself as a directory, created (`mode`, less the umask) if missing. Its last
    /// component is never followed: a symlink there, a non-directory, or another user's
    /// directory in a sticky one is refused. Returns also what to undo if we created it.
    pub fn create_or_open(path: &Path, mode: u32) -> Result<(Dir, Option<MadeDir>)> {
        let what = || format!("cannot create directory {}", path.display());
        let (parent, name) = Dir::parent_of(path, what)?;
        let made = match mkdirat(&parent.fd, name.as_os_str(), Mode::from_bits_truncate(mode)) {
            Ok(()) => true,
            Err(Errno::EEXIST) => false,
            Err(e) => return Err(Error::errno(what(), e)),
        };
        let (dir, id) = parent.open_dir_entry(&name, path, what)?;
        let made = made.then(|| MadeDir {
            id,
            name,
            parent: Rc::new(parent),
        });
        Ok((dir, made))
    }

    /// The directory `name` in this one (`shown` in messages), opened without following it:
    /// a symlink, a non-directory or another user's directory in a sticky one is refused. A
    /// failure of the OS is reported as `what`.
    pub fn open_dir_entry(
        &self,
        name: &OsStr,
        shown: &Path,
        what: impl Fn() -> String,
    ) -> Result<(Dir, FileId)> {
        let fd = open_path(&self.fd, name).map_err(|e| Error::errno(what(), e))?;
        let st = fstat(&fd).map_err(|e| Error::errno(what(), e))?;
        let pst = self.stat().map_err(|e| Error::errno(what(), e))?;
        if let Some(why) = refusal(&pst, &st, true, euid()) {
            return Err(Error::msg(format!("{} {why}", shown.display())));
        }
        let dir = Dir {
            fd,
            path: shown.to_path_buf(),
            abs: std::path::absolute(shown).unwrap_or_else(|_| shown.to_path_buf()),
        };
        Ok((dir, FileId::of(&st)))
    }

    /// The directory's fd (`O_PATH`): for `fchdir`, or as the base of `*at` calls.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// A fresh file of ours in this directory, named after `name` (`.NAME.PID.N.tmp`),
    /// opened for writing.
    fn create_temp(&self, name: &OsStr, mode: u32) -> nix::Result<(OsString, File, FileId)> {
        let pid = std::process::id();
        let salt = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for n in 0..MAX_TRIES {
            let mut tmp = OsString::from(".");
            tmp.push(name);
            tmp.push(format!(".{pid}.{salt:x}{n}.tmp"));
            if tmp.len() > NAME_MAX {
                tmp = OsString::from(format!(".nsutils.{pid}.{salt:x}{n}.tmp"));
            }
            let flags = OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC;
            match openat(
                &self.fd,
                tmp.as_os_str(),
                flags,
                Mode::from_bits_truncate(mode),
            ) {
                Ok(fd) => {
                    let id = FileId::of(&fstat(&fd)?);
                    return Ok((tmp, File::from(fd), id));
                }
                Err(Errno::EEXIST) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Errno::EEXIST)
    }
}

/// A directory [`Dir::create_or_open`] created: [`MadeDir::remove`] takes it away again
/// (if it is still that directory, and empty).
#[derive(Debug)]
pub struct MadeDir {
    parent: Rc<Dir>,
    name: OsString,
    id: FileId,
}

impl MadeDir {
    /// Remove the directory if it is still the one we made and is empty.
    pub fn remove(self) {
        self.parent.unlink_if(&self.name, self.id, true);
    }
}

/// How [`Target::open`] treats an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Use an existing regular file (when we may), else create one.
    IfMissing,
    /// Create it; an existing one is an error (a named network namespace).
    Exclusive,
}

/// A file to mount onto: one we created (empty, mode 0, as `ip netns add` makes them) or an
/// existing regular file we may use, open so that the mount lands on this very file.
#[derive(Debug)]
pub struct Target {
    named: Named,
    fd: OwnedFd,
}

impl Target {
    /// Open (or create) the file at `path` to mount onto.
    pub fn open(path: &Path, create: Create) -> Result<Target> {
        let what = || format!("cannot create {}", path.display());
        let (dir, name) = Dir::parent_of(path, what)?;
        Target::open_in(Rc::new(dir), &name, path, create)
    }

    /// Open (or create) `name` in `dir` to mount onto; `path` names it in messages.
    pub fn open_in(dir: Rc<Dir>, name: &OsStr, path: &Path, create: Create) -> Result<Target> {
        let fail = |e| Error::errno(format!("cannot create {}", path.display()), e);
        for _ in 0..MAX_TRIES {
            // O_RDONLY|O_CREAT|O_EXCL, mode 0, as `ip netns add` does; O_EXCL never follows
            // a symlink, dangling or not.
            let flags = OFlag::O_RDONLY
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC;
            let (fd, made) = match openat(&dir.fd, name, flags, Mode::empty()) {
                Ok(fd) => {
                    let id = FileId::of(&fstat(&fd).map_err(fail)?);
                    (fd, Some(id))
                }
                Err(Errno::EEXIST) if create == Create::IfMissing => {
                    match open_path(&dir.fd, name) {
                        Ok(fd) => (fd, None),
                        Err(Errno::ENOENT) => continue, // removed in between: again
                        Err(e) => return Err(fail(e)),
                    }
                }
                Err(e) => return Err(fail(e)),
            };
            let target = Target {
                named: Named {
                    dir: Rc::clone(&dir),
                    name: name.to_os_string(),
                    path: path.to_path_buf(),
                    made,
                },
                fd,
            };
            if made.is_none() {
                // What we opened (without following it) is what we check.
                let st = fstat(&target.fd).map_err(fail)?;
                let dst = dir.stat().map_err(fail)?;
                if let Some(why) = refusal(&dst, &st, false, euid()) {
                    return Err(Error::msg(format!("{} {why}", path.display())));
                }
            }
            return Ok(target);
        }
        Err(Error::msg(format!(
            "{}: keeps appearing and vanishing; giving up",
            path.display()
        )))
    }

    /// The open file, for `move_mount` (or `/proc/self/fd/N`) as the mount target.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The path as the user gave it.
    pub fn path(&self) -> &Path {
        self.named.path()
    }

    /// Whether we created the file.
    pub fn created(&self) -> bool {
        self.named.made.is_some()
    }

    /// Remove the file if we created it and it is still ours.
    pub fn remove_if_created(&self) {
        self.named.remove_if_created();
    }

    /// Once mounted onto, the file's own fd is no longer needed (fds are scarce under a low
    /// `ulimit -n`): keep what undo needs.
    pub fn into_named(self) -> Named {
        self.named
    }
}

/// A [`Target`] that was mounted onto, without its fd: where it is and whether we made it.
#[derive(Debug)]
pub struct Named {
    dir: Rc<Dir>,
    name: OsString,
    path: PathBuf,
    made: Option<FileId>,
}

impl Named {
    /// The path as the user gave it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remove the file if we created it and it is still ours (after unmounting: an entry with
    /// a mount on it is not the file we made).
    pub fn remove_if_created(&self) {
        if let Some(id) = self.made {
            self.dir.unlink_if(&self.name, id, false);
        }
    }

    /// Unmount (lazily) what is mounted at the name if it is `mounted` (a namespace we bound
    /// there): found through the directory fd, the name never followed as a symlink.
    /// Anything else there is left alone (`Ok`).
    pub fn unmount_if(&self, mounted: FileId) -> nix::Result<()> {
        let here = fstatat(
            &self.dir.fd,
            self.name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
        if FileId::of(&here) != mounted {
            return Ok(());
        }
        let mut at = PathBuf::from(format!("/proc/self/fd/{}", self.dir.fd.as_raw_fd()));
        at.push(&self.name);
        umount2(&at, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW)
    }
}

/// A pid file: [`PidFile::prepare`] checks the path and creates a temporary file next to it
/// (so a bad path fails before anything starts), [`PidFile::write`] writes the PID into it and
/// renames it over the target, and dropping it removes what is still ours of it — unless it
/// was [`disown`](PidFile::disown)ed or turned into a [`Mark`].
#[derive(Debug)]
pub struct PidFile {
    dir: Dir,
    name: OsString,
    path: PathBuf,
    tmp: OsString,
    /// The temporary file, until it is renamed into place.
    file: Option<File>,
    id: FileId,
    keep: bool,
}

impl PidFile {
    /// Check `path` (an existing symlink, FIFO, directory... or another user's file in a
    /// sticky directory is refused) and create the temporary file that will replace it.
    pub fn prepare(path: &Path) -> Result<PidFile> {
        let what = || format!("cannot create {}", path.display());
        let (dir, name) = Dir::parent_of(path, what)?;
        dir.check_entry(&name, path, false)?;
        let (tmp, file, id) = dir
            .create_temp(&name, 0o644)
            .map_err(|e| Error::errno(what(), e))?;
        Ok(PidFile {
            dir,
            name,
            path: path.to_path_buf(),
            tmp,
            file: Some(file),
            id,
            keep: false,
        })
    }

    /// The path as the user gave it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write `pid` and a newline, whole, and rename the file into place. Once only.
    pub fn write(&mut self, pid: i32) -> Result<()> {
        self.fill(pid)?;
        self.place()
    }

    /// Write `pid` and a newline into the temporary file (through the fd opened by
    /// [`PidFile::prepare`]). Once only. [`PidFile::place`] or [`Mark::place`] then renames it.
    pub fn fill(&mut self, pid: i32) -> Result<()> {
        let path = self.path.display();
        let Some(mut f) = self.file.take() else {
            return Err(Error::msg(format!("pid file {path} was written already")));
        };
        f.write_all(format!("{pid}\n").as_bytes())
            .map_err(|e| Error::os(format!("cannot write pid file {path}"), e))
    }

    /// Rename the filled temporary file into place.
    pub fn place(&self) -> Result<()> {
        place(&self.dir, &self.tmp, &self.name, &self.path)
    }

    /// How to find and remove it later by path alone, for a process that cannot keep our
    /// fds (nsrun's helper; nsinit, which closes every fd).
    pub fn mark(&self) -> Mark {
        Mark {
            path: self.path.clone(),
            dir: self.dir.abs.clone(),
            name: self.name.clone(),
            tmp: self.tmp.clone(),
            id: self.id,
        }
    }

    /// Close our fds without removing anything: what it was is in the [`Mark`].
    pub fn into_mark(mut self) -> Mark {
        self.keep = true;
        self.mark()
    }

    /// Forget it without removing anything (a forked copy: the other process owns it).
    pub fn disown(mut self) {
        self.keep = true;
    }

    /// The fds it holds, for a forked process that must close them but never drops this.
    pub fn raw_fds(&self) -> Vec<RawFd> {
        let mut v = vec![self.dir.fd.as_raw_fd()];
        v.extend(self.file.as_ref().map(AsRawFd::as_raw_fd));
        v
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if !self.keep {
            self.dir.unlink_if(&self.tmp, self.id, false);
            self.dir.unlink_if(&self.name, self.id, false);
        }
    }
}

/// Where a [`PidFile`] is, by path, and which file it is: [`Mark::remove`] removes it (or
/// its temporary file) only while the entry is still that file.
#[derive(Debug, Clone)]
pub struct Mark {
    path: PathBuf,
    dir: PathBuf,
    name: OsString,
    tmp: OsString,
    id: FileId,
}

impl Mark {
    /// [`PidFile::place`] from another process (nsrun's helper, which keeps the caller's
    /// credentials where nsrun may have entered a new user namespace): the directory found
    /// again by path, and only our own temporary file renamed.
    pub fn place(&self) -> Result<()> {
        let what = || format!("cannot write pid file {}", self.path.display());
        let dir = Dir::open_as(&self.dir, what)?;
        let ours = fstatat(&dir.fd, self.tmp.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
            .is_ok_and(|st| FileId::of(&st) == self.id);
        if !ours {
            return Err(Error::errno(what(), Errno::ENOENT));
        }
        place(&dir, &self.tmp, &self.name, &self.path)
    }

    /// Remove the pid file (or the temporary file not yet renamed) if it is still ours.
    pub fn remove(&self) {
        if let Ok(dir) = Dir::open(&self.dir) {
            dir.unlink_if(&self.tmp, self.id, false);
            dir.unlink_if(&self.name, self.id, false);
        }
    }
}

/// Rename the temporary file `tmp` over `name` in `dir`, checking `name` again first: rename
/// replaces a symlink or FIFO swapped in since the first check (never following it), but a
/// refusal is clearer.
fn place(dir: &Dir, tmp: &OsStr, name: &OsStr, shown: &Path) -> Result<()> {
    dir.check_entry(name, shown, false)?;
    renameat(&dir.fd, tmp, &dir.fd, name)
        .map_err(|e| Error::errno(format!("cannot write pid file {}", shown.display()), e))
}

/// Check, changing nothing, that [`Target::open`] (or with `want_dir`,
/// [`Dir::create_or_open`]) could make or use `path`: its directory resolves, and an existing
/// entry is one we may use. For errors before anything changes; the real step checks again.
pub fn check(path: &Path, want_dir: bool) -> Result<()> {
    let what = || format!("cannot open the directory of {}", path.display());
    let (dir, name) = Dir::parent_of(path, what)?;
    dir.check_entry(&name, path, want_dir).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    /// A fresh directory under the temp dir, removed on drop.
    struct Tmp(PathBuf);

    impl Tmp {
        fn new(tag: &str) -> Tmp {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let p = std::env::temp_dir()
                .join(format!("nsutils-safefile-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir(&p).expect("mkdir");
            Tmp(p)
        }

        fn join(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn is_root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    fn mkfifo(p: &Path) {
        nix::unistd::mkfifo(p, Mode::from_bits_truncate(0o600)).expect("mkfifo");
    }

    #[test]
    fn a_target_is_created_fresh_or_an_existing_regular_file_is_used() {
        let t = Tmp::new("target");
        let p = t.join("ns");
        let made = Target::open(&p, Create::IfMissing).expect("create");
        assert!(made.created());
        let md = p.symlink_metadata().expect("made");
        assert!(
            md.is_file() && md.mode() & 0o7777 == 0 && md.len() == 0,
            "{md:?}"
        );
        let again = Target::open(&p, Create::IfMissing).expect("existing");
        assert!(!again.created());
        again.remove_if_created();
        assert!(p.exists(), "removed a file it did not create");
        let e = Target::open(&p, Create::Exclusive).expect_err("exclusive");
        assert!(e.to_string().contains("File exists"), "{e}");
        made.remove_if_created();
        assert!(!p.exists());
    }

    #[test]
    fn a_symlink_fifo_or_directory_as_the_last_component_is_refused() {
        let t = Tmp::new("refuse");
        let victim = t.join("victim");
        std::fs::write(&victim, "root's").expect("victim");
        let link = t.join("link");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        let dangling = t.join("dangling");
        std::os::unix::fs::symlink(t.join("ghost"), &dangling).expect("symlink");
        let fifo = t.join("fifo");
        mkfifo(&fifo);
        let dir = t.join("dir");
        std::fs::create_dir(&dir).expect("mkdir");
        for (p, why) in [
            (&link, "is a symbolic link"),
            (&dangling, "is a symbolic link"),
            (&fifo, "is a FIFO, not a regular file"),
            (&dir, "is a directory, not a regular file"),
        ] {
            for create in [Create::IfMissing, Create::Exclusive] {
                let e = Target::open(p, create).expect_err("refused");
                assert!(e.to_string().contains(&p.display().to_string()), "{e}");
                if create == Create::IfMissing {
                    assert!(
                        e.to_string().ends_with(why) || e.to_string().contains(why),
                        "{e}"
                    );
                }
            }
            let e = PidFile::prepare(p).expect_err("refused");
            assert!(e.to_string().contains(why), "{e}");
            assert!(check(p, false).is_err());
        }
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "root's");
        assert!(
            !t.join("ghost").exists(),
            "a dangling link's target was created"
        );
        assert!(check(&dir, true).is_ok() && check(&t.join("new"), false).is_ok());
    }

    #[test]
    fn a_pid_file_is_written_whole_by_rename_and_removed_only_while_ours() {
        let t = Tmp::new("pid");
        let p = t.join("job.pid");
        std::fs::write(&p, "stale\n").expect("stale");
        let old_ino = p.metadata().expect("stale").ino();
        let mut pf = PidFile::prepare(&p).expect("prepare");
        assert_eq!(std::fs::read_to_string(&p).expect("untouched"), "stale\n");
        pf.write(4242).expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("written"), "4242\n");
        assert_ne!(p.metadata().expect("new").ino(), old_ino, "written through");
        assert!(pf.write(1).is_err(), "written twice");
        let names = std::fs::read_dir(&t.0).expect("dir").count();
        assert_eq!(names, 1, "temporary file left");
        // Someone replaces it: dropping ours leaves theirs.
        std::fs::write(t.join("theirs"), "9\n").expect("theirs");
        std::fs::rename(t.join("theirs"), &p).expect("swap");
        drop(pf);
        assert_eq!(std::fs::read_to_string(&p).expect("theirs"), "9\n");
        // Ours: removed on drop, by mark too.
        std::fs::remove_file(&p).expect("rm");
        let mut pf = PidFile::prepare(&p).expect("prepare");
        pf.write(7).expect("write");
        let mark = pf.into_mark();
        assert!(p.exists(), "a mark removes nothing by itself");
        mark.remove();
        assert!(!p.exists());
        // Never written: the temporary file goes with it.
        drop(PidFile::prepare(&p).expect("prepare"));
        assert_eq!(std::fs::read_dir(&t.0).expect("dir").count(), 0);
    }

    #[test]
    fn a_symlink_swapped_in_after_prepare_is_refused_not_followed() {
        let t = Tmp::new("swap");
        let victim = t.join("victim");
        std::fs::write(&victim, "root's").expect("victim");
        let p = t.join("job.pid");
        let mut pf = PidFile::prepare(&p).expect("prepare");
        std::os::unix::fs::symlink(&victim, &p).expect("plant");
        let e = pf.write(1).expect_err("refused");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "root's");
        drop(pf);
        assert!(
            p.symlink_metadata().expect("link").is_symlink(),
            "their link removed"
        );
        assert_eq!(
            std::fs::read_dir(&t.0).expect("dir").count(),
            2,
            "temp left"
        );
    }

    #[test]
    fn directories_above_resolve_through_our_own_links_dots_and_loops() {
        let t = Tmp::new("walk");
        let real = t.join("real");
        std::fs::create_dir(&real).expect("mkdir");
        std::os::unix::fs::symlink(&real, t.join("abs")).expect("symlink");
        std::os::unix::fs::symlink("real", t.join("rel")).expect("symlink");
        std::os::unix::fs::symlink("loop", t.join("loop")).expect("symlink");
        for via in ["abs", "rel", "real/../rel", "./abs/."] {
            let mut pf = PidFile::prepare(&t.join(via).join("x.pid")).expect(via);
            pf.write(1).expect("write");
            assert!(real.join("x.pid").exists(), "{via}");
        }
        let e = PidFile::prepare(&t.join("loop").join("x")).expect_err("loop");
        assert!(e.to_string().contains("Too many symbolic links"), "{e}");
        let e = PidFile::prepare(&t.join("nowhere").join("x")).expect_err("missing");
        assert!(e.to_string().starts_with("cannot create"), "{e}");
        assert!(!real.join("x.pid").exists(), "removed when dropped");
        std::fs::write(real.join("file"), "").expect("file");
        let e = PidFile::prepare(&real.join("file").join("y")).expect_err("not a dir");
        assert!(e.to_string().contains("Not a directory"), "{e}");
        for bad in ["/", "..", "."] {
            assert!(PidFile::prepare(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_persist_directory_is_made_or_used_never_through_a_link() {
        let t = Tmp::new("dir");
        let d = t.join("p");
        let (dir, made) = Dir::create_or_open(&d, 0o755).expect("create");
        let made = made.expect("made");
        let target = Target::open_in(
            Rc::new(dir),
            OsStr::new("net"),
            &d.join("net"),
            Create::IfMissing,
        )
        .expect("file in it");
        assert!(d.join("net").exists());
        let (_, again) = Dir::create_or_open(&d, 0o755).expect("existing");
        assert!(
            again.is_none(),
            "an existing directory was reported as made"
        );
        made.remove_if_empty_check(&d);
        target.remove_if_created();
        std::os::unix::fs::symlink(&d, t.join("link")).expect("symlink");
        let e = Dir::create_or_open(&t.join("link"), 0o755).expect_err("link");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        std::fs::write(t.join("file"), "").expect("file");
        let e = Dir::create_or_open(&t.join("file"), 0o755).expect_err("file");
        assert!(e.to_string().contains("not a directory"), "{e}");
        assert!(check(&t.join("link"), true).is_err() && check(&d, true).is_ok());
    }

    impl MadeDir {
        /// Removing a non-empty directory we made fails quietly; emptied, it goes.
        fn remove_if_empty_check(self, d: &Path) {
            let id = self.id;
            let parent = Rc::clone(&self.parent);
            let name = self.name.clone();
            self.remove();
            assert!(d.exists(), "a non-empty directory was removed");
            std::fs::remove_file(d.join("net")).expect("rm");
            parent.unlink_if(&name, id, true);
            assert!(!d.exists());
        }
    }

    /// The sticky rules, with another user's entries (needs root to chown).
    #[test]
    fn another_users_entries_in_a_sticky_directory() {
        if !is_root() {
            return;
        }
        let t = Tmp::new("sticky");
        std::fs::set_permissions(&t.0, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        let nobody = Some(65534);
        let theirs = t.join("theirs");
        std::fs::write(&theirs, "theirs").expect("file");
        std::os::unix::fs::chown(&theirs, nobody, nobody).expect("chown");
        let e = Target::open(&theirs, Create::IfMissing).expect_err("theirs");
        assert!(e.to_string().contains("belongs to uid 65534"), "{e}");
        assert!(PidFile::prepare(&theirs).is_err());
        let sub = t.join("sub");
        std::fs::create_dir(&sub).expect("mkdir");
        std::os::unix::fs::chown(&sub, nobody, nobody).expect("chown");
        assert!(
            Dir::create_or_open(&sub, 0o755).is_err(),
            "their directory used"
        );
        // Their symlink to a directory, on the way: not followed; root's own: followed.
        let link = t.join("link");
        std::os::unix::fs::symlink(&sub, &link).expect("symlink");
        std::os::unix::fs::lchown(&link, nobody, nobody).expect("lchown");
        let e = PidFile::prepare(&link.join("x.pid")).expect_err("their link");
        assert!(e.to_string().contains("is not followed"), "{e}");
        std::os::unix::fs::lchown(&link, Some(0), Some(0)).expect("lchown");
        assert!(
            PidFile::prepare(&link.join("x.pid")).is_ok(),
            "root's own link"
        );
        // Not sticky: their file is theirs to hand us (as protected_regular sees it).
        std::fs::set_permissions(&t.0, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        assert!(Target::open(&theirs, Create::IfMissing).is_ok());
    }
}
