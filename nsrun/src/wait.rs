//! The parent's wait for the command: plain `waitpid`, or — with `--timeout` or
//! `--forward-signals` — a `poll` on the child's pidfd, a signalfd and the deadline.
//!
//! `--timeout` ends the whole job, as timeout(1) does and more: with a new PID namespace the
//! command is its PID 1, whose death kills every process in it; without one nsrun is a child
//! subreaper of the command (see `run`), so every descendant — a background job, a
//! double-forked daemon in its own session — is a child of nsrun once its parent is gone,
//! and is killed in turn. While it waits, nsrun reaps those orphans.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use nsutils_common::exit::{Outcome, TIMEOUT};
use nsutils_common::pidfd::PidFd;
use nsutils_common::{spawn, sys, Error, Result};

/// Wait for `child`; forward what arrives on `signals`; at `timeout` kill it and, when
/// `subreaper`, every descendant, and report 124.
pub fn wait(
    child: i32,
    timeout: Option<Duration>,
    signals: Option<&SignalFd>,
    subreaper: bool,
) -> Result<Outcome> {
    if timeout.is_none() && signals.is_none() {
        return spawn::wait_for(child);
    }
    let pidfd = PidFd::open(child)?;
    let orphans = if subreaper { Some(sigchld_fd()?) } else { None };
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        if orphans.is_some() {
            if let Some(outcome) = reap_orphans(child)? {
                return Ok(outcome);
            }
        }
        let Some((child_done, sig_ready)) = poll_once(&pidfd, signals, orphans.as_ref(), deadline)?
        else {
            continue;
        };
        if let Some(o) = &orphans {
            while let Ok(Some(_)) = o.read_signal() {}
        }
        if child_done {
            return spawn::wait_for(child);
        }
        if sig_ready {
            if let Some(Ok(Some(info))) = signals.map(SignalFd::read_signal) {
                // The child may be gone already; its exit shows up on the pidfd next.
                let _ = pidfd.signal(info.ssi_signo as i32);
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = pidfd.signal(libc::SIGKILL);
            if subreaper {
                kill_descendants()?;
            } else {
                spawn::wait_for(child)?;
            }
            return Ok(Outcome::Code(TIMEOUT));
        }
    }
}

/// One `poll` on the child's pidfd, the signals and the orphans, until `deadline`: whether
/// the child has ended and whether a signal is ready; `None` when interrupted.
fn poll_once(
    pidfd: &PidFd,
    signals: Option<&SignalFd>,
    orphans: Option<&SignalFd>,
    deadline: Option<Instant>,
) -> Result<Option<(bool, bool)>> {
    let wait_ms = match deadline {
        None => PollTimeout::NONE,
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            // Round up, so we never wake a millisecond early and spin.
            let ms = left.as_millis().saturating_add(1).min(i32::MAX as u128);
            PollTimeout::try_from(ms as i32).unwrap_or(PollTimeout::MAX)
        }
    };
    let mut fds = vec![PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    if let Some(s) = signals {
        fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
    }
    if let Some(o) = orphans {
        fds.push(PollFd::new(o.as_fd(), PollFlags::POLLIN));
    }
    match poll(&mut fds, wait_ms) {
        Ok(_) => {}
        Err(Errno::EINTR) => return Ok(None),
        Err(e) => return Err(Error::errno("cannot poll", e)),
    }
    let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
    Ok(Some((ready(&fds[0]), signals.is_some() && ready(&fds[1]))))
}

/// SIGCHLD, blocked and read from a signalfd: it wakes the wait when an orphan exits.
fn sigchld_fd() -> Result<SignalFd> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .map_err(|e| Error::errno("cannot block SIGCHLD", e))?;
    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| Error::errno("cannot create a signalfd", e))
}

/// Reap the orphans that have exited; the command's outcome if it was among them.
fn reap_orphans(child: i32) -> Result<Option<Outcome>> {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(None),
            Ok(st) => {
                if st.pid() == Some(Pid::from_raw(child)) {
                    if let Some(o) = spawn::outcome_of(st) {
                        return Ok(Some(o));
                    }
                }
            }
            Err(Errno::EINTR) => {}
            Err(e) => return Err(Error::errno("cannot reap", e)),
        }
    }
}

/// Kill every child, reap it, and do the same to the orphans that its death makes our
/// children, until none is left. A child's orphans are ours before its exit is reported,
/// so each round sees every process the previous one orphaned.
fn kill_descendants() -> Result<()> {
    loop {
        for pid in children() {
            let _ = sys::kill(pid, libc::SIGKILL);
        }
        match waitpid(None, None) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(Errno::ECHILD) => return Ok(()),
            Err(e) => return Err(Error::errno("cannot reap", e)),
        }
    }
}

/// Our children ([`nsutils_common::proc::children`]).
fn children() -> Vec<i32> {
    nsutils_common::proc::children(nix::unistd::getpid().as_raw())
}
