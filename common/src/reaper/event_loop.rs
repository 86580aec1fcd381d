//! The loop itself: once the commands run, let go of what the init inherited (its working
//! directory, its fds), then sleep in one `poll` on a signalfd — with a timeout only while a
//! grace period runs, so an idle init never wakes — until the run is over and no child is
//! left; then the outcome.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::SigSet;
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::Init;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::sys;

impl Init<'_> {
    /// Watch the commands until the run is over, and return the main command's outcome.
    /// Without a signalfd nothing can be supervised: the commands are taken down rather than
    /// left unreaped.
    pub(super) fn supervise(&mut self) -> Result<Outcome> {
        match self.detach().and_then(|()| signalfd()) {
            Ok(sfd) => self.event_loop(&sfd),
            Err(e) => {
                self.abort_spawned();
                Err(e)
            }
        }
    }

    /// Pin nothing: `chdir("/")`, and close every fd ≥ 3 (the commands keep theirs; nothing of
    /// ours is open: the pid file is closed, the signalfd comes next).
    fn detach(&self) -> Result<()> {
        if self.cfg.chdir_root {
            let _ = nix::unistd::chdir("/");
        }
        if self.cfg.close_fds {
            close_inherited_fds()?;
        }
        Ok(())
    }

    fn event_loop(&mut self, sfd: &SignalFd) -> Result<Outcome> {
        // Children may have exited before the signalfd existed: their SIGCHLD is pending and
        // shows up on the first read, but a pause-mode init with nothing to do must still
        // check once.
        self.reap();
        self.update();
        while !(self.triggered && self.no_children) {
            let mut fds = [PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
            match nix::poll::poll(&mut fds, self.poll_timeout()) {
                Ok(0) => {
                    if self.kill_at.is_some_and(|t| Instant::now() >= t) {
                        self.escalate();
                    }
                    continue;
                }
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::errno("cannot wait for signals", e)),
            }
            self.read_signals(sfd)?;
        }
        Ok(self.outcome())
    }

    /// Until the grace period ends (rounded up, so as never to spin on a sub-millisecond
    /// remainder), or for ever.
    fn poll_timeout(&self) -> PollTimeout {
        match self.kill_at {
            Some(t) => {
                let left = t.saturating_duration_since(Instant::now());
                PollTimeout::try_from(left + Duration::from_micros(999)).unwrap_or(PollTimeout::MAX)
            }
            None => PollTimeout::NONE,
        }
    }

    /// Act on every signal pending.
    fn read_signals(&mut self, sfd: &SignalFd) -> Result<()> {
        loop {
            match sfd.read_signal() {
                // Each signal moves the state on before the next is read: a SIGTERM read
                // right after the SIGCHLD of the main command must see the run as over.
                Ok(Some(info)) => {
                    self.on_signal(&info);
                    self.update();
                }
                Ok(None) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::errno("cannot read the signalfd", e)),
            }
        }
    }

    /// The run is over: the terminal back, and the main command's exit code (0 in pause
    /// mode), remapped.
    fn outcome(&mut self) -> Outcome {
        self.take_terminal_back();
        let outcome = match self.cmds.first() {
            Some(main) => main.outcome.unwrap_or(Outcome::Code(0)),
            None => Outcome::Code(0),
        };
        let code = self.cfg.exit_code(outcome);
        self.log(1, format_args!("exiting with status {code}"));
        Outcome::Code(code)
    }
}

/// Close every fd from 3 up that the init inherited, so that it pins nothing its parent gave
/// it. Called once the pid file is written and closed, before the signalfd is made.
#[allow(unsafe_code)]
fn close_inherited_fds() -> Result<()> {
    // SAFETY: nothing owns an fd from 3 up at this point: the pid file is closed (only its
    // mark, no fd, is kept), the commands are known by PID alone, `exec_failure_fd` is a
    // bare number nothing owns (nsrun gave up its File), and the signalfd comes after.
    unsafe { sys::close_fds_from(3) }.map_err(|e| Error::os("cannot close inherited fds", e))
}

/// Every signal, read without blocking (they are all blocked: see `Inherited`).
fn signalfd() -> Result<SignalFd> {
    SignalFd::with_flags(
        &SigSet::all(),
        SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
    )
    .map_err(|e| Error::errno("cannot create a signalfd", e))
}
