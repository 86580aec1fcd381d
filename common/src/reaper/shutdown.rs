//! Shutdown: when the run is over ([`ExitOn`]), everything left gets SIGTERM (and SIGCONT, so
//! that a stopped process can act on it), then SIGKILL when the grace period ends — the
//! commands, and with [`WaitMode::Main`] the whole namespace as PID 1 (`kill(-1)`) or the
//! subreaper's descendants otherwise.

use std::time::{Duration, Instant};

use super::{Command, ExitOn, Init, WaitMode};
use crate::proc::descendants;
use crate::sys;

impl Init<'_> {
    /// Move to shutdown when the commands say the run is over.
    pub(super) fn update(&mut self) {
        if self.triggered || !self.run_is_over() {
            return;
        }
        self.triggered = true;
        // Told to stop before the run was over: `--wait=all` no longer waits for the
        // descendants either; they are shut down with the commands.
        self.stop_waiting |= self.stop_requested;
        self.log(1, format_args!("shutting down"));
        // The full grace period when we were told to stop or a command is still running
        // (they were started on purpose); the short one for leftovers alone.
        let grace = if self.stop_requested || self.cmds.iter().any(|c| c.outcome.is_none()) {
            self.cfg.grace
        } else {
            self.cfg.exit_grace
        };
        self.terminate_rest(grace);
        // Nothing may be left at all.
        self.reap();
    }

    /// Whether the commands' exits (as `exit_on` counts them), or SIGINT/SIGTERM in pause
    /// mode, ended the run.
    fn run_is_over(&self) -> bool {
        if self.cmds.is_empty() {
            return self.pause_exit;
        }
        let done = |c: &Command| c.outcome.is_some();
        match self.cfg.exit_on {
            ExitOn::Main => done(&self.cmds[0]),
            ExitOn::First => self.cmds.iter().any(done),
            ExitOn::All => self.cmds.iter().all(done),
        }
    }

    /// SIGTERM and SIGCONT to what shutdown concerns, and SIGKILL after `grace` (or sooner,
    /// if an earlier grace period ends first) if anything was there.
    pub(super) fn terminate_rest(&mut self, grace: Duration) {
        if self.signal_rest(libc::SIGTERM) {
            self.signal_rest(libc::SIGCONT);
            let deadline = Instant::now() + grace;
            self.kill_at = Some(self.kill_at.map_or(deadline, |t| t.min(deadline)));
        }
    }

    /// The grace period is over: SIGKILL.
    pub(super) fn escalate(&mut self) {
        self.kill_at = None;
        if self.triggered {
            self.log(1, format_args!("grace period over, sending SIGKILL"));
            self.killed = true;
            self.signal_rest(libc::SIGKILL);
        } else {
            // SIGTERM/SIGINT reached the commands a grace period ago and they are still here.
            self.log(1, format_args!("grace period over, killing the commands"));
            for c in self.cmds.iter().filter(|c| c.outcome.is_none()) {
                let _ = sys::kill(self.target(c.pid), libc::SIGKILL);
            }
        }
    }

    /// Send `sig` to what shutdown concerns: the live commands, and with [`WaitMode::Main`]
    /// everything else left (the namespace as PID 1, the descendants otherwise). Returns
    /// whether anything was there to signal.
    pub(super) fn signal_rest(&self, sig: i32) -> bool {
        let mut any = false;
        for c in self.cmds.iter().filter(|c| c.outcome.is_none()) {
            any |= sys::kill(self.target(c.pid), sig).is_ok();
        }
        if self.cfg.wait == WaitMode::All && !self.stop_waiting {
            return any;
        }
        if self.pid1 {
            any |= sys::kill(-1, sig).is_ok();
        } else {
            // A deeper descendant could exit and its PID be reused between the walk and the
            // kill; our own children cannot (only we reap them), and the window is a few
            // microseconds of a shutdown.
            for pid in descendants(self.me) {
                any |= sys::kill(pid, sig).is_ok();
            }
        }
        any
    }
}
