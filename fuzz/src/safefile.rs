//! The `safefile` target: a model of an attacker and of our tools sharing a directory. Each
//! input byte is one step — the attacker puts something at one of two names (nothing, a
//! regular file of theirs, a symlink to the victim, a dangling symlink, a FIFO, a directory,
//! a symlink to a directory) or the tool calls `common::safefile` there (prepare, write and
//! drop a pid file, keep and use its mark, open a mount target, remove it, make a persist
//! directory, check a path). The order of the bytes is the interleaving, so every
//! "swapped between two of our steps" case is one input away.
//!
//! After every step: the victim is byte-for-byte unchanged and the same inode; a dangling
//! link's target is never created; whatever we opened to mount onto is a regular file (never
//! the victim); an error is one line naming the path; and an entry that is not the file we
//! made is never removed by our undo.

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use nsutils_common::safefile::{self, Create, Dir, MadeDir, Mark, PidFile, Target};

const VICTIM: &[u8] = b"root's file\n";

/// A fresh scene per input: `victim`, `vdir/` and the shared directory `d/`.
struct Scene {
    root: PathBuf,
    victim: PathBuf,
    victim_ino: u64,
}

impl Scene {
    fn new() -> Scene {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let root =
            std::env::temp_dir().join(format!("nsutils-fuzz-safefile-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("d")).expect("mkdir");
        std::fs::create_dir(root.join("vdir")).expect("mkdir");
        let victim = root.join("victim");
        std::fs::write(&victim, VICTIM).expect("victim");
        let victim_ino = victim.metadata().expect("victim").ino();
        Scene {
            root,
            victim,
            victim_ino,
        }
    }

    fn entry(&self, which: u8) -> PathBuf {
        self.root.join("d").join(format!("e{}", which % 2))
    }

    /// The attacker's step: replace whatever is at `p` (atomically where rename can).
    fn plant(&self, p: &Path, what: u8) {
        let _ = std::fs::remove_file(p);
        let _ = std::fs::remove_dir(p);
        let tmp = self.root.join("d").join(".plant");
        let _ = std::fs::remove_file(&tmp);
        let made = match what % 7 {
            0 => return,
            1 => std::fs::write(&tmp, "theirs\n"),
            2 => std::os::unix::fs::symlink(&self.victim, &tmp),
            3 => std::os::unix::fs::symlink(self.root.join("ghost"), &tmp),
            4 => nix::unistd::mkfifo(&tmp, nix::sys::stat::Mode::from_bits_truncate(0o600))
                .map_err(std::io::Error::from),
            5 => std::fs::create_dir(&tmp),
            _ => std::os::unix::fs::symlink(self.root.join("vdir"), &tmp),
        };
        if made.is_ok() {
            let _ = std::fs::rename(&tmp, p);
        }
    }

    #[track_caller]
    fn check(&self) {
        assert_eq!(
            std::fs::read(&self.victim).expect("victim"),
            VICTIM,
            "victim written"
        );
        assert_eq!(
            self.victim.metadata().expect("victim").ino(),
            self.victim_ino,
            "victim replaced"
        );
        assert!(
            self.root.join("ghost").symlink_metadata().is_err(),
            "a dangling link's target was created"
        );
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// An error must be one line naming the path (or its directory).
#[track_caller]
fn one_line(e: &nsutils_common::Error, p: &Path) {
    let s = e.to_string();
    assert!(!s.contains('\n'), "two lines: {s:?}");
    let dir = p.parent().unwrap_or(p);
    assert!(
        s.contains(&p.display().to_string()) || s.contains(&dir.display().to_string()),
        "{s:?} does not name {}",
        p.display()
    );
}

/// Where `p` is now, its directory resolved (symlinks and all): the tool works on the
/// directory it resolved when it started, which is where the model must look later, whatever
/// the path says by then.
fn real(p: &Path) -> PathBuf {
    let dir = p.parent().unwrap_or(Path::new("/"));
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    dir.join(p.file_name().unwrap_or_default())
}

/// Inode at `p` without following, if any.
fn ino(p: &Path) -> Option<u64> {
    p.symlink_metadata().ok().map(|m| m.ino())
}

/// Run `undo` and check it removed nothing but `ours` at `p`.
#[track_caller]
fn undo_keeps_theirs(p: &Path, ours: Option<u64>, undo: impl FnOnce()) {
    let before = ino(p);
    undo();
    if before.is_some() && before != ours {
        assert_eq!(
            ino(p),
            before,
            "undo removed {} which was not ours",
            p.display()
        );
    }
}

/// A persist directory we made, and its inode.
type Made = (MadeDir, u64);

/// What the tool holds between steps.
#[derive(Default)]
struct Held {
    /// The pid file, the path it was given (for messages) and where it really is, and
    /// once written, its inode.
    pid: Option<(PathBuf, PathBuf, PidFile, Option<u64>)>,
    mark: Option<(PathBuf, Mark, u64)>,
    target: Option<(PathBuf, Target)>,
    dir: Option<(PathBuf, Rc<Dir>, Option<Made>)>,
}

/// The body of the target.
pub fn safefile(data: &[u8]) {
    if data.len() > 64 {
        return;
    }
    let s = Scene::new();
    let mut held = Held::default();
    for &b in data {
        let p = s.entry(b >> 7);
        match b & 0x7f {
            0..=31 => s.plant(&p, b),
            32..=39 => prepare_pid(&mut held, &p),
            // Renamed into place by the pid file itself, or (odd bytes) through its mark, as
            // nsrun's helper does.
            40..=47 => write_pid(&mut held, b & 1 == 1),
            48..=51 => {
                if let Some((_, q, pf, ours)) = held.pid.take() {
                    undo_keeps_theirs(&q, ours, || drop(pf));
                }
            }
            52..=55 => {
                if let Some((_, q, pf, Some(ours))) = held.pid.take() {
                    held.mark = Some((q, pf.into_mark(), ours));
                }
            }
            56..=59 => {
                if let Some((q, m, ours)) = held.mark.take() {
                    undo_keeps_theirs(&q, Some(ours), || m.remove());
                }
            }
            60..=75 => open_target(&mut held, &p, b & 1 == 1),
            76..=83 => {
                if let Some((q, t)) = held.target.take() {
                    let ours = nix::sys::stat::fstat(t.fd()).expect("fstat").st_ino;
                    undo_keeps_theirs(&q, t.created().then_some(ours), || t.remove_if_created());
                }
            }
            84..=99 => make_dir(&mut held, &p),
            100..=107 => {
                if let Some((q, _, made)) = held.dir.take() {
                    let ours = made.as_ref().map(|(_, ino)| *ino);
                    undo_keeps_theirs(&q, ours, || {
                        if let Some((m, _)) = made {
                            m.remove();
                        }
                    });
                }
            }
            108..=115 => file_in_dir(&mut held),
            116..=119 => prepare_pid(&mut held, &p.join("inner")),
            _ => {
                if let Err(e) = safefile::check(&p, b & 1 == 1) {
                    one_line(&e, &p);
                }
            }
        }
        s.check();
    }
}

fn prepare_pid(held: &mut Held, p: &Path) {
    if held.pid.is_some() {
        return;
    }
    let before = p.symlink_metadata().ok();
    match PidFile::prepare(p) {
        Ok(pf) => {
            if let Some(md) = before {
                assert!(md.is_file(), "prepared over a {:?}", md.file_type());
            }
            held.pid = Some((p.to_path_buf(), real(p), pf, None));
        }
        Err(e) => one_line(&e, p),
    }
}

fn write_pid(held: &mut Held, by_mark: bool) {
    let Some((shown, q, pf, ours)) = held.pid.as_mut() else {
        return;
    };
    let written = if by_mark {
        pf.fill(4242).and_then(|()| pf.mark().place())
    } else {
        pf.write(4242)
    };
    match written {
        Ok(()) => {
            let md = q.symlink_metadata().expect("written");
            assert!(md.is_file(), "pid file is a {:?}", md.file_type());
            assert_eq!(std::fs::read(&*q).expect("pid"), b"4242\n");
            *ours = Some(md.ino());
        }
        Err(e) => one_line(&e, shown),
    }
}

fn open_target(held: &mut Held, p: &Path, exclusive: bool) {
    if held.target.is_some() {
        return;
    }
    let create = if exclusive {
        Create::Exclusive
    } else {
        Create::IfMissing
    };
    match Target::open(p, create) {
        Ok(t) => {
            let st = nix::sys::stat::fstat(t.fd()).expect("fstat");
            assert_eq!(
                st.st_mode & libc::S_IFMT,
                libc::S_IFREG,
                "a mount target that is not a regular file"
            );
            held.target = Some((real(p), t));
        }
        Err(e) => one_line(&e, p),
    }
}

fn make_dir(held: &mut Held, p: &Path) {
    if held.dir.is_some() {
        return;
    }
    match Dir::create_or_open(p, 0o755) {
        Ok((d, made)) => {
            let md = p.symlink_metadata().expect("dir");
            assert!(md.is_dir(), "persist dir is a {:?}", md.file_type());
            let made = made.map(|m| (m, md.ino()));
            held.dir = Some((real(p), Rc::new(d), made));
        }
        Err(e) => one_line(&e, p),
    }
}

/// A file in the persist directory, relative to the fd opened before (the directory's path
/// may have been swapped since: the file still lands in the directory we checked).
fn file_in_dir(held: &mut Held) {
    let Some((_, d, _)) = held.dir.as_ref() else {
        return;
    };
    let shown = d.join(OsStr::new("net"));
    match Target::open_in(Rc::clone(d), OsStr::new("net"), &shown, Create::IfMissing) {
        Ok(t) => t.remove_if_created(),
        Err(e) => one_line(&e, &shown),
    }
}
