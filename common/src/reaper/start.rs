//! Starting the commands: each forked with the caller's signal state, in its own process
//! group (or its own session with `setsid`), the main one in the terminal's foreground when
//! the init owned it; and taking them down again when a later one cannot be started.

use std::os::fd::AsFd;

use nix::sys::signal::{SigSet, SigmaskHow};
use nix::unistd::Pid;

use super::inherited::Inherited;
use super::{Command, Init};
use crate::error::{Error, Result};
use crate::spawn::{self, ForkResult, Program};
use crate::sys;

impl Init<'_> {
    /// Start every command, the main one first; if one cannot be started, take down the
    /// ones already running and fail.
    pub(super) fn start(&mut self, commands: &[Program], inh: &Inherited) -> Result<()> {
        for (i, program) in commands.iter().enumerate() {
            match self.spawn(program, i == 0, inh) {
                Ok(pid) => self.cmds.push(Command {
                    pid,
                    name: program.path.to_string_lossy().into_owned(),
                    outcome: None,
                }),
                Err(e) => {
                    self.abort_spawned();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Fork and exec one command; returns its PID.
    fn spawn(&self, program: &Program, main: bool, inh: &Inherited) -> Result<i32> {
        match spawn::fork()? {
            ForkResult::Child => {
                let err = self.exec_child(program, main, inh);
                crate::exit::print_error(self.cfg.prog, &err);
                if let Some(fd) = self.cfg.exec_failure_fd {
                    let _ = sys::write_raw(fd, b"E");
                }
                spawn::exit_child(err.exit_code().unwrap_or(crate::exit::TOOL_FAILURE));
            }
            ForkResult::Parent(pid) => {
                if !self.cfg.setsid {
                    // Also in the parent, so a signal to the group cannot race the child's
                    // own setpgid. EACCES once the child has exec'd is fine: it did it.
                    let _ = nix::unistd::setpgid(Pid::from_raw(pid), Pid::from_raw(pid));
                }
                self.log(
                    1,
                    format_args!("spawned {} as pid {pid}", program.path.to_string_lossy()),
                );
                Ok(pid)
            }
        }
    }

    /// The child's side of [`Init::spawn`]: returns only on failure.
    fn exec_child(&self, program: &Program, main: bool, inh: &Inherited) -> Error {
        let stdin = std::io::stdin();
        if self.cfg.setsid {
            let _ = nix::unistd::setsid();
            if nix::unistd::isatty(stdin.as_fd()).unwrap_or(false) {
                // Best effort, as dumb-init: fails when another session owns the terminal.
                let _ = sys::set_controlling_terminal(stdin.as_fd());
            }
        } else {
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            if main && self.foreground {
                // Still fully blocked, so SIGTTOU cannot stop us while in the background.
                let _ = nix::unistd::tcsetpgrp(stdin.as_fd(), nix::unistd::getpgrp());
            }
        }
        if main && self.cfg.listen_pid {
            self.point_listen_pid_at_me();
        }
        inh.restore();
        program.exec_keeping_signals()
    }

    /// Socket activation: `LISTEN_PID` naming the init now names the main command (this
    /// child, about to exec it).
    fn point_listen_pid_at_me(&self) {
        let names_init = std::env::var("LISTEN_PID")
            .ok()
            .and_then(|v| v.trim().parse::<i32>().ok())
            == Some(self.me);
        if names_init {
            std::env::set_var("LISTEN_PID", nix::unistd::getpid().as_raw().to_string());
        }
    }

    /// A later command could not be started, or nothing can watch them: take down the ones
    /// already started.
    pub(super) fn abort_spawned(&mut self) {
        for c in &self.cmds {
            let _ = sys::kill(c.pid, libc::SIGKILL);
            let _ = spawn::wait_for(c.pid);
        }
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&SigSet::all()), None);
    }
}
