//! The helper: a process forked before `unshare` that stays in the caller's namespaces and
//! does, from outside, what the new namespaces cannot do for themselves — write range id
//! maps (`newuidmap`/`newgidmap`, or directly as root) and persist namespaces by
//! bind-mounting `/proc/NSRUN/ns/X` in the caller's mount namespace, before the command
//! starts. It lingers until the command has been executed, and undoes the persisting if a
//! later step fails — or if nsrun dies (even by SIGKILL) first, removing then also the pid
//! file nsrun made (or its temporary file), if it is still the file nsrun made.
//!
//! It is a grandchild (forked twice), so that the command nsrun may exec into never finds an
//! unexpected child of its own. Two pipes connect it to nsrun:
//!
//! * nsrun → helper: `U` once nsrun has unshared (maps, and persisting every kind but pid);
//!   `P` once nsrun has forked the first process of the new PID namespace (persisting pid:
//!   its `pid_for_children` link cannot be opened before that process exists); `F` once
//!   nsrun has written the PID into the pid file's temporary file (renaming it into place
//!   takes the caller's credentials: root in a new user namespace may no longer write a
//!   directory it does not own); later `C`
//!   (the command is being executed) or `A` (abort). At EOF the helper keeps what it did
//!   only if the last verdict was `C`.
//! * helper → nsrun: `K` (done) or `E` + message + `\n` + hint + NUL for each `U`/`P`/`F`; EOF
//!   once it has finished, undo included — nsrun waits for that EOF before reporting a
//!   failure, so nothing of ours is left when it exits.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nsutils_common::idmap::{write_map_with_helper, MapKind, ProcRoot};
use nsutils_common::mount::{persist, persist_in, prepare_netns_dir, Persisted};
use nsutils_common::nsfs::proc_ns_path;
use nsutils_common::safefile::{Dir, MadeDir, Mark};
use nsutils_common::spawn::{self, ForkResult};
use nsutils_common::{sys, Error, NsKind, Result};

use crate::maps::MapPlan;
use crate::plan::{Persist, Plan};

/// nsrun's end of the helper.
#[derive(Debug)]
pub struct Helper {
    to: Option<File>,
    from: File,
}

/// What the helper does, copied out of the plan before forking.
struct Work {
    uid_map: Option<MapPlan>,
    gid_map: Option<MapPlan>,
    persist: Vec<Persist>,
    persist_dir: Option<PathBuf>,
    is_root: bool,
    /// The pid file nsrun makes: removed with the rest when the command never ran.
    pid_file: Option<Mark>,
    /// Our copies of `--info-fd` and friends: closed in the helper, so a caller waiting for
    /// EOF on one is not kept waiting by it; and the pid file's, which it does not need.
    user_fds: Vec<i32>,
}

impl Helper {
    /// Fork the helper; it waits for [`Helper::unshared`].
    pub fn start(plan: &Plan) -> Result<Helper> {
        let work = Work {
            uid_map: plan.maps.uid.clone().filter(|m| m.by_helper),
            gid_map: plan.maps.gid.clone().filter(|m| m.by_helper),
            persist: plan.persist.clone(),
            persist_dir: plan.persist_dir.clone(),
            is_root: plan.is_root,
            pid_file: plan.pid_file.as_ref().map(|p| p.mark()),
            user_fds: [&plan.fds.info, &plan.fds.block, &plan.fds.ready]
                .into_iter()
                .flatten()
                .map(|fd| fd.as_raw_fd())
                .chain(plan.pid_file.iter().flat_map(|p| p.raw_fds()))
                .collect(),
        };
        let nsrun = nix::unistd::getpid().as_raw();
        let (to_r, to_w) = spawn::pipe()?;
        let (from_r, from_w) = spawn::pipe()?;
        match spawn::fork()? {
            ForkResult::Child => {
                drop(to_w);
                drop(from_r);
                // The middle process exits at once; its child is the helper, reparented away
                // from nsrun so the command never inherits it as a child.
                match spawn::fork() {
                    Ok(ForkResult::Child) => {
                        let code = helper_main(&work, nsrun, to_r, from_w);
                        spawn::exit_child(code)
                    }
                    _ => spawn::exit_child(0),
                }
            }
            ForkResult::Parent(mid) => {
                drop(to_r);
                drop(from_w);
                spawn::wait_for(mid)?;
                Ok(Helper {
                    to: Some(to_w),
                    from: from_r,
                })
            }
        }
    }

    /// nsrun has unshared: let the helper write the maps and persist, and wait for it.
    pub fn unshared(&mut self) -> Result<()> {
        self.ask(b'U')
    }

    /// The first process of the new PID namespace exists: persist the PID namespace.
    pub fn forked(&mut self) -> Result<()> {
        self.ask(b'P')
    }

    /// The pid file's temporary file holds the PID: rename it into place.
    pub fn place_pid_file(&mut self) -> Result<()> {
        self.ask(b'F')
    }

    fn ask(&mut self, what: u8) -> Result<()> {
        self.send(what);
        let mut byte = [0u8; 1];
        match self.from.read(&mut byte) {
            Ok(1) if byte[0] == b'K' => return Ok(()),
            Ok(1) if byte[0] == b'E' => {}
            _ => return Err(Error::msg("the helper process ended unexpectedly")),
        }
        let mut buf = Vec::new();
        while matches!(self.from.read(&mut byte), Ok(1)) && byte[0] != 0 {
            buf.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (msg, hint) = text.split_once('\n').unwrap_or((&text, ""));
        let mut e = Error::msg(msg.to_string());
        if !hint.is_empty() {
            e = e.hint(hint.to_string());
        }
        Err(e)
    }

    fn send(&mut self, b: u8) {
        if let Some(to) = self.to.as_mut() {
            // A helper that is gone has nothing to keep or undo.
            let _ = to.write_all(&[b]);
        }
    }

    /// The command is about to be executed by this process: keep what was persisted,
    /// unless an `A` follows (exec failed). The pipe closes at exec.
    pub fn commit_before_exec(&mut self) {
        self.send(b'C');
    }

    /// The command runs (in the child): keep everything, let the helper go.
    pub fn commit(mut self) {
        self.send(b'C');
        self.to = None;
        let _ = self.from.read_to_end(&mut Vec::new());
    }

    /// In a forked child of nsrun: close our copies without a word; the parent decides.
    pub fn forget(mut self) {
        self.to = None;
        std::mem::forget(self);
    }
}

impl Drop for Helper {
    /// Any way out but a commit is a failure: undo, and wait until the helper has.
    fn drop(&mut self) {
        self.send(b'A');
        self.to = None;
        let _ = self.from.read_to_end(&mut Vec::new());
    }
}

fn helper_main(work: &Work, nsrun: i32, mut from_nsrun: File, mut to_nsrun: File) -> u8 {
    // A Ctrl-C or a hang-up for the whole process group must not kill the helper halfway:
    // it outlives nsrun by design, sees nsrun's end as EOF, and undoes then.
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        let _ = sys::set_signal_default(sig, false);
    }
    for fd in &work.user_fds {
        let _ = nix::unistd::close(*fd);
    }
    let mut done = Done::default();
    let mut verdict = None;
    let mut b = [0u8; 1];
    while matches!(from_nsrun.read(&mut b), Ok(1)) {
        let res = match b[0] {
            b'U' => do_work(work, nsrun, &mut done, false),
            b'P' => do_work(work, nsrun, &mut done, true),
            b'F' => work.pid_file.as_ref().map_or(Ok(()), Mark::place),
            other => {
                verdict = Some(other);
                continue;
            }
        };
        let reply = match res {
            Ok(()) => b"K".to_vec(),
            Err(e) => {
                done.undo();
                format!("E{e}\n{}\0", e.hint_text().unwrap_or("")).into_bytes()
            }
        };
        let _ = to_nsrun.write_all(&reply);
    }
    // EOF: nsrun has exec'd, or exited. Anything but a final `C` means failure.
    if verdict != Some(b'C') {
        done.undo();
        if let Some(p) = &work.pid_file {
            p.remove();
        }
    }
    // Our fds on the directories go before nsrun hears that we are done.
    drop(done);
    drop(to_nsrun);
    0
}

/// What the helper made, to undo in reverse order.
#[derive(Default)]
struct Done {
    mounts: Vec<Persisted>,
    /// `--persist=DIR`, opened (or created) once; its files are made relative to it.
    dir: Option<Rc<Dir>>,
    made_dir: Option<MadeDir>,
}

impl Done {
    fn undo(&mut self) {
        while let Some(p) = self.mounts.pop() {
            let _ = p.undo();
        }
        self.dir = None;
        if let Some(d) = self.made_dir.take() {
            d.remove();
        }
    }
}

fn write_map(work: &Work, nsrun: i32, kind: MapKind, m: &MapPlan) -> Result<()> {
    if work.is_root {
        ProcRoot::default().write_map(Some(nsrun), kind, &m.map)
    } else {
        write_map_with_helper(Path::new(kind.helper()), nsrun, &m.map)
    }
}

fn do_work(work: &Work, nsrun: i32, done: &mut Done, pid_phase: bool) -> Result<()> {
    if pid_phase {
        for p in work.persist.iter().filter(|p| p.kind == NsKind::Pid) {
            persist_one(nsrun, p, done)?;
        }
        return Ok(());
    }
    if let Some(m) = &work.uid_map {
        write_map(work, nsrun, MapKind::Uid, m)?;
    }
    if let Some(m) = &work.gid_map {
        write_map(work, nsrun, MapKind::Gid, m)?;
    }
    if let Some(dir) = &work.persist_dir {
        // mkdir's usual 0777 less the umask, as before.
        let (d, made) = Dir::create_or_open(dir, 0o777).map_err(|e| e.context("--persist"))?;
        done.dir = Some(Rc::new(d));
        done.made_dir = made;
    }
    if work.persist.iter().any(|p| p.netns_name) {
        prepare_netns_dir()?;
    }
    for p in work.persist.iter().filter(|p| p.kind != NsKind::Pid) {
        persist_one(nsrun, p, done)?;
    }
    Ok(())
}

/// Bind `p`'s namespace of nsrun onto its file: `--persist=DIR`'s relative to the directory
/// opened once, the others by their own path.
fn persist_one(nsrun: i32, p: &Persist, done: &mut Done) -> Result<()> {
    // pid and time: the namespace the command will be in is nsrun's *_for_children.
    let source = proc_ns_path(Some(nsrun), p.kind, true);
    let persisted = match (&done.dir, p.in_dir) {
        (Some(dir), true) => {
            persist_in(&source, Rc::clone(dir), p.kind.proc_name().as_ref(), p.kind)?
        }
        _ => persist(&source, &p.target, p.kind, p.netns_name)?,
    };
    done.mounts.push(persisted);
    Ok(())
}
