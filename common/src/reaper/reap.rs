//! Reaping: on each SIGCHLD, `waitpid(-1, WNOHANG)` until nothing is left, orphans
//! re-parented to the init as well as the commands; a command's exit is recorded (and logged),
//! an orphan's only logged, and a stop of the main command handed to job control.

use std::io::Write;

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::Init;
use crate::exit::Outcome;
use crate::spawn;

impl Init<'_> {
    /// Reap every child that has exited; note stops of the main command.
    pub(super) fn reap(&mut self) {
        self.reap_with(true);
    }

    /// [`Init::reap`], acting on the stops it reads or not.
    pub(super) fn reap_with(&mut self, stops: bool) {
        let flags = WaitPidFlag::WNOHANG | WaitPidFlag::WUNTRACED;
        loop {
            match waitpid(Pid::from_raw(-1), Some(flags)) {
                Ok(WaitStatus::StillAlive) => break,
                Ok(WaitStatus::Stopped(pid, _)) if stops => self.on_stop(pid.as_raw()),
                Ok(WaitStatus::Stopped(..)) => {}
                Ok(st) => {
                    let (Some(pid), Some(outcome)) = (st.pid(), spawn::outcome_of(st)) else {
                        continue;
                    };
                    self.on_exit(pid.as_raw(), outcome);
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::ECHILD) => {
                    self.no_children = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if self.killed && !self.no_children {
            // Something may have forked between our sweep and its SIGKILL: sweep again.
            self.signal_rest(libc::SIGKILL);
        }
    }

    fn on_exit(&mut self, pid: i32, outcome: Outcome) {
        let idx = self.cmds.iter().position(|c| c.pid == pid);
        match idx {
            Some(i) => {
                self.log(
                    1,
                    format_args!(
                        "{} (pid {pid}) {}",
                        self.cmds[i].name,
                        match outcome {
                            Outcome::Code(c) => format!("exited with status {c}"),
                            Outcome::Signal(s) =>
                                format!("was killed by SIG{}", crate::cli::signal_name(s)),
                        }
                    ),
                );
                self.cmds[i].outcome = Some(outcome);
                if i == 0 {
                    self.take_terminal_back();
                }
            }
            None => {
                if self.cfg.log_reaped {
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "{}: Reaped zombie process with pid={pid}",
                        self.cfg.prog
                    );
                } else {
                    self.log(2, format_args!("reaped pid {pid}"));
                }
            }
        }
    }
}
