//! What the init does with each signal read from its signalfd: SIGCHLD reaps; a signal the
//! init sent itself is dropped; SIGINT/SIGTERM stop the run (with the grace period); every
//! other signal is forwarded to the commands (or their process groups), after `rewrite`; a
//! job-control stop stops the init too (`job`).

use std::time::Instant;

use super::job::is_job_stop;
use super::{Init, WaitMode};
use crate::cli::signal_name;
use crate::sys;

/// SIGINT and SIGTERM: the signals that tell the init to stop.
fn is_stop(sig: i32) -> bool {
    sig == libc::SIGINT || sig == libc::SIGTERM
}

impl Init<'_> {
    pub(super) fn on_signal(&mut self, info: &libc::signalfd_siginfo) {
        let sig = info.ssi_signo as i32;
        if sig == libc::SIGCHLD {
            self.reap();
            return;
        }
        if self.sent_by_us(info) {
            return;
        }
        if is_stop(sig) && self.waiting_for_all() {
            self.stop_waiting(sig);
        } else if self.cmds.is_empty() {
            self.on_signal_paused(sig);
        } else {
            if sig == libc::SIGCONT {
                self.on_continue();
            }
            self.forward_rewritten(sig);
            if is_job_stop(sig) {
                // A job-control stop meant for the job we are part of: stop too, so that the
                // shell that started us sees the job stopped; SIGCONT (fg, bg) comes back
                // through the signalfd and is forwarded. dumb-init does it "even if you
                // rewrite it to something else".
                self.suspend();
            }
        }
    }

    /// A signal the init sent itself (a SIGPIPE from writing a log line to a closed pipe; the
    /// SIGHUP and SIGCONT that giving up its terminal sends in its name): not the workload's.
    fn sent_by_us(&self, info: &libc::signalfd_siginfo) -> bool {
        info.ssi_pid as i32 == self.me
            && (info.ssi_code == libc::SI_USER || info.ssi_code == libc::SI_TKILL)
    }

    /// `--wait=all` is waiting for the descendants to finish on their own.
    fn waiting_for_all(&self) -> bool {
        self.triggered && self.cfg.wait == WaitMode::All && !self.stop_waiting
    }

    /// Asked to stop while `--wait=all` waits: shut the descendants down now, with the grace
    /// period.
    fn stop_waiting(&mut self, sig: i32) {
        let name = signal_name(sig);
        self.log(
            1,
            format_args!("received SIG{name}, shutting down the descendants"),
        );
        self.stop_waiting = true;
        self.stop_requested = true;
        self.terminate_rest(self.cfg.grace);
    }

    /// Pause mode (no command): SIGINT/SIGTERM end it; anything else has nobody to go to.
    fn on_signal_paused(&mut self, sig: i32) {
        let name = signal_name(sig);
        if is_stop(sig) {
            self.log(1, format_args!("received SIG{name}, exiting"));
            self.pause_exit = true;
            self.stop_requested = true;
        } else {
            self.log(
                2,
                format_args!("received SIG{name}, nobody to forward it to"),
            );
        }
    }

    /// Forward `sig` as `rewrite` says (or drop it); SIGINT/SIGTERM also start the grace
    /// period, after which the commands are killed.
    fn forward_rewritten(&mut self, sig: i32) {
        let to = self.cfg.rewritten(sig);
        if to == 0 {
            self.log(1, format_args!("dropped SIG{}", signal_name(sig)));
            return;
        }
        self.forward(to);
        if is_stop(sig) {
            self.stop_requested = true;
            if !self.triggered && self.kill_at.is_none() {
                self.kill_at = Some(Instant::now() + self.cfg.grace);
            }
        }
    }

    /// The PID to signal for a command: itself, or its process group.
    pub(super) fn target(&self, pid: i32) -> i32 {
        if self.cfg.process_group || self.cfg.setsid {
            -pid
        } else {
            pid
        }
    }

    /// Send `sig` to every command still running.
    fn forward(&self, sig: i32) {
        for c in self.cmds.iter().filter(|c| c.outcome.is_none()) {
            let t = self.target(c.pid);
            let r = sys::kill(t, sig);
            self.log(
                1,
                format_args!(
                    "forwarded SIG{} to {} {}{}",
                    signal_name(sig),
                    if t < 0 { "process group" } else { "pid" },
                    c.pid,
                    if r.is_err() { " (gone)" } else { "" }
                ),
            );
        }
    }
}
