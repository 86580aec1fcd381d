//! The steps, top to bottom: [`Plan::execute`].
//!
//! 1. ([`Plan::new`], done by the caller) everything checked and opened;
//! 2. the helper forked, still in the caller's namespaces; `--owner`'s effective ids;
//! 3. `unshare` of every kind at once; `setgroups`, time offsets, mount propagation;
//! 4. the helper writes range maps and persists the namespaces from outside — before the
//!    command can start; nsrun writes its own single-id maps;
//! 5. hostname, domain name, loopback;
//! 6. with `--fork` (implied by `--pid` and friends) the child becomes the command while the
//!    parent announces it (pid file, info, ready), waits, forwards signals, enforces the
//!    timeout (as a child subreaper of the command when no PID namespace does that job)
//!    and mirrors the exit; without, nsrun becomes the command itself.
//!
//! Any failure after the helper persisted something makes it undo that, and nsrun waits
//! until it has before exiting 125.

use std::fs::File;
use std::io::{Read, Write};

use nix::sched::CloneFlags;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nsutils_common::cli::ValueTrap;
use nsutils_common::exit::{Outcome, TOOL_FAILURE};
use nsutils_common::idmap::ProcRoot;
use nsutils_common::mount::set_propagation;
use nsutils_common::pidfd::PidFd;
use nsutils_common::spawn::{self, ForkResult};
use nsutils_common::{sys, Error, NsKind, Result};

use crate::helper::Helper;
use crate::plan::Plan;
use crate::{explain, handoff, setup, wait};

fn read_byte(f: &mut File) -> Option<u8> {
    let mut b = [0u8; 1];
    loop {
        match f.read(&mut b) {
            Ok(1) => return Some(b[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            _ => return None,
        }
    }
}

impl Plan {
    /// Create the namespaces and run the command in them: the steps, in order.
    pub fn execute(self) -> Result<Outcome> {
        // A forked child in a new PID namespace sees getppid() == 0: it tells whether we died
        // before its PDEATHSIG was armed by polling this pidfd instead.
        let me = if self.kill_child.is_some() || (self.fork && self.fds.block.is_some()) {
            Some(PidFd::open(nix::unistd::getpid().as_raw())?)
        } else {
            None
        };
        let mut helper = if self.needs_helper() {
            Some(Helper::start(&self)?)
        } else {
            None
        };
        self.become_owner()?;
        self.unshare()?;
        if let Some(h) = helper.as_mut() {
            h.unshared()?;
        }
        setup::own_maps(&self)?;
        if self.creates(NsKind::Uts) {
            setup::uts(&self)?;
        }
        if self.creates(NsKind::Net) && self.loopback {
            setup::loopback()?;
        }
        if self.fork {
            fork_and_wait(self, helper, me)
        } else {
            command(self, helper, None)
        }
    }

    /// `--owner`: the owner of a user namespace is the effective uid that creates it.
    fn become_owner(&self) -> Result<()> {
        let Some((uid, gid)) = self.owner else {
            return Ok(());
        };
        nix::unistd::setegid(nix::unistd::Gid::from_raw(gid))
            .map_err(|e| Error::errno(format!("--owner: cannot set effective gid {gid}"), e))?;
        nix::unistd::seteuid(nix::unistd::Uid::from_raw(uid))
            .map_err(|e| Error::errno(format!("--owner: cannot set effective uid {uid}"), e))?;
        // Changing the effective ids made us non-dumpable, which hands /proc/self/* to
        // root: we could not write our own setgroups and maps any more.
        nix::sys::prctl::set_dumpable(true)
            .map_err(|e| Error::errno("--owner: cannot set PR_SET_DUMPABLE", e))
    }

    /// `unshare` of every kind at once, then what must precede any other process in the
    /// new namespaces: `setgroups`, the time offsets, the mount propagation.
    fn unshare(&self) -> Result<()> {
        let flags = NsKind::mask(self.kinds.iter().copied());
        nix::sched::unshare(CloneFlags::from_bits_retain(flags))
            .map_err(|e| explain::unshare_error(e, &self.kinds, self.is_root))?;
        if let Some(allow) = self.maps.setgroups {
            ProcRoot::default().write_setgroups(None, allow)?;
        }
        setup::time_offsets(self)?;
        if self.creates(NsKind::Mnt) {
            set_propagation(self.propagation)?;
        }
        Ok(())
    }
}

/// The child's side of the talk with the parent: `R` (set up, waiting for the go), `E`
/// (failed; also sent by `Drop` on any early return) or EOF (the command was executed).
struct ChildSync {
    status: Option<File>,
    go: Option<File>,
    /// nsrun's pidfd, opened before the fork, for `--block-fd`: see [`ChildSync::block`].
    parent: Option<PidFd>,
    /// `--kill-child` armed PDEATHSIG already.
    kill_child: bool,
}

impl ChildSync {
    /// Tell the parent we are set up and wait for it to announce us. `false`: the parent
    /// gave up (it reports why).
    fn handoff(&mut self) -> bool {
        let Some(mut go) = self.go.take() else {
            return true;
        };
        if let Some(s) = self.status.as_mut() {
            let _ = s.write_all(b"R");
        }
        read_byte(&mut go).is_some()
    }

    /// Wait on `--block-fd`. nsrun closed the `go` pipe when it let us go, so its death
    /// would no longer be seen here: a SIGKILLed nsrun would leave this child to run the
    /// command unsupervised, after the helper undid the persisting. Die with nsrun while
    /// waiting (PDEATHSIG, its race closed by the pidfd), then disarm again unless
    /// `--kill-child` wants it.
    fn block(&mut self, plan: &mut Plan) -> Result<()> {
        let arm = !self.kill_child && plan.fds.block.is_some();
        if let (true, Some(parent)) = (arm, self.parent.as_ref()) {
            spawn::set_parent_death_signal_pidfd(libc::SIGKILL, parent)?;
        }
        handoff::block(plan)?;
        if arm {
            nix::sys::prctl::set_pdeathsig(None)
                .map_err(|e| Error::errno("cannot reset PR_SET_PDEATHSIG", e))?;
        }
        self.parent = None;
        Ok(())
    }

    /// The command starts in this process without an exec of ours (`--init`): the status
    /// pipe goes, unowned, to the reaper's command child, which reports a failed exec on it
    /// (so the parent undoes the persisting as for any exec failure) or closes it by
    /// executing; the reaper closes our copy after the spawn.
    fn started(mut self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::IntoRawFd;
        self.status.take().map(IntoRawFd::into_raw_fd)
    }
}

impl Drop for ChildSync {
    fn drop(&mut self) {
        if let Some(s) = self.status.as_mut() {
            let _ = s.write_all(b"E");
        }
    }
}

/// With `--fork` (or what implies it): the child becomes the command; the parent announces
/// it, waits for it and mirrors its exit.
fn fork_and_wait(plan: Plan, helper: Option<Helper>, me: Option<PidFd>) -> Result<Outcome> {
    let handoff = plan.has_handoff();
    let status = if helper.is_some() || handoff {
        Some(spawn::pipe()?)
    } else {
        None
    };
    let go = if handoff { Some(spawn::pipe()?) } else { None };
    let (mask, old) = block_signals(&plan)?;
    if plan.reaps_job() {
        // Before the fork, so that no orphan of the command can slip past us to init. Not
        // inherited by the child. The helper (a grandchild) is init's already.
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| Error::errno("cannot become a child subreaper", e))?;
    }
    match spawn::fork()? {
        ForkResult::Child => {
            let sync = ChildSync {
                status: status.map(|(_, w)| w),
                go: go.map(|(r, _)| r),
                parent: me,
                kill_child: plan.kill_child.is_some(),
            };
            child(plan, helper, &old, sync)
        }
        ForkResult::Parent(child) => {
            drop(me);
            let signals = if plan.forward_signals {
                Some(
                    SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC)
                        .map_err(|e| Error::errno("cannot create a signalfd", e))?,
                )
            } else {
                None
            };
            parent(
                plan,
                child,
                helper,
                status.map(|(r, _)| r),
                go.map(|(_, w)| w),
                signals,
            )
        }
    }
}

/// While it waits, nsrun ignores SIGINT and SIGTERM (as unshare does) or forwards them;
/// with --kill-child alone they kill it, and the child with it. Blocked before the fork
/// and unblocked in the child, so no signal slips through in between. Returns the signals
/// blocked and the mask before.
fn block_signals(plan: &Plan) -> Result<(SigSet, SigSet)> {
    let mut mask = SigSet::empty();
    if plan.forward_signals || plan.kill_child.is_none() {
        mask.add(Signal::SIGINT);
        mask.add(Signal::SIGTERM);
    }
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut old))
        .map_err(|e| Error::errno("cannot block signals", e))?;
    Ok((mask, old))
}

/// The forked child: leave the helper and the pid file to the parent, take the signal mask
/// back, arm `--kill-child`, and become the command.
fn child(mut plan: Plan, helper: Option<Helper>, old: &SigSet, sync: ChildSync) -> Result<Outcome> {
    if let Some(h) = helper {
        h.forget();
    }
    if let Some(pf) = plan.pid_file.take() {
        pf.disown(); // the parent owns it
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(old), None)
        .map_err(|e| Error::errno("cannot unblock signals", e))?;
    if let (Some(sig), Some(me)) = (plan.kill_child, sync.parent.as_ref()) {
        spawn::set_parent_death_signal_pidfd(sig, me)?;
    }
    command(plan, None, Some(sync))
}

fn parent(
    mut plan: Plan,
    child: i32,
    mut helper: Option<Helper>,
    status: Option<File>,
    go: Option<File>,
    signals: Option<SignalFd>,
) -> Result<Outcome> {
    // A failed child has reported its own error: mirror its exit; the helper undoes what it
    // persisted and the pid file goes (when `plan` drops) before we exit.
    let child_failed = |helper: Option<Helper>| -> Result<Outcome> {
        let outcome = spawn::wait_for(child)?;
        drop(helper);
        Ok(outcome)
    };
    let Some(mut status) = status else {
        return wait::wait(child, plan.timeout, signals.as_ref(), plan.reaps_job());
    };
    if let Some(mut go) = go {
        if read_byte(&mut status) != Some(b'R') {
            return child_failed(helper);
        }
        let persisted = match helper.as_mut() {
            Some(h) if plan.persists_pid() => h.forked(),
            _ => Ok(()),
        };
        let announced =
            persisted.and_then(|()| handoff::announce(&mut plan, child, helper.as_mut()));
        if let Err(e) = announced {
            let _ = sys::kill(child, libc::SIGKILL);
            let _ = spawn::wait_for(child);
            drop(helper);
            return Err(e);
        }
        let _ = go.write_all(b"G");
    }
    if read_byte(&mut status).is_some() {
        return child_failed(helper);
    }
    // EOF: the command has been executed. Keep what was persisted; the pid file stays
    // while the command runs and goes (when `plan` drops) once it has exited.
    if let Some(h) = helper {
        h.commit();
    }
    let outcome = wait::wait(child, plan.timeout, signals.as_ref(), plan.reaps_job());
    warn_pid_namespace_without_init(&plan);
    outcome
}

/// A persisted PID namespace outlives its PID 1 (the command, or `--init`'s reaper), but
/// takes no new process once that has exited: entering it fails with ENOMEM at the fork.
fn warn_pid_namespace_without_init(plan: &Plan) {
    let files: Vec<String> = plan
        .persist
        .iter()
        .filter(|p| p.kind == NsKind::Pid)
        .map(|p| p.target.display().to_string())
        .collect();
    if !files.is_empty() {
        nsutils_common::exit::warn(
            "nsrun",
            format!(
                "the PID namespace persisted at {} has no init any more: its PID 1 has \
                 exited, so it cannot take new processes (entering it fails with ENOMEM); \
                 keep the command running to use it",
                files.join(" and ")
            ),
        );
    }
}

/// Become the command: the last setup steps in the process that runs it, then exec.
fn command(mut plan: Plan, mut helper: Option<Helper>, sync: Option<ChildSync>) -> Result<Outcome> {
    let mut sync = sync;
    setup::filesystems(&plan)?;
    setup::identity(&plan)?;
    match sync.as_mut() {
        Some(s) => {
            if !s.handoff() {
                return Ok(Outcome::Code(TOOL_FAILURE));
            }
        }
        None => handoff::announce(&mut plan, nix::unistd::getpid().as_raw(), helper.as_mut())?,
    }
    match sync.as_mut() {
        Some(s) => s.block(&mut plan)?,
        None => handoff::block(&mut plan)?,
    }
    let program = plan.program.clone();
    setup::environment(&plan);
    if plan.init {
        let exec_failure_fd = sync.and_then(ChildSync::started);
        // The reaper closes every fd >= 3 once the command runs: own none of them.
        drop(plan);
        drop(helper);
        // Without a command, the login shell, as without --init.
        return crate::init::run(program, exec_failure_fd);
    }
    if let Some(h) = helper.as_mut() {
        h.commit_before_exec();
    }
    Err(ValueTrap::explain(plan.trap.as_ref(), program.exec()))
}
