//! nsinit: a minimal init for PID 1 of a PID namespace, or a subreaper.
//!
//! This is the foundation's first cut: run the command as a child, reap every child that
//! exits (orphans included; as a child subreaper when not PID 1), forward signals through a
//! signalfd, and exit with the command's status (128+N for a signal). The full tini /
//! dumb-init / catatonit feature set is its own issue.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use nix::sys::signal::{SigSet, SigmaskHow};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use nsutils_common::cli::parse_args;
use nsutils_common::exit::{report, Outcome, TOOL_FAILURE};
use nsutils_common::spawn::{self, ForkResult};
use nsutils_common::{Error, Result};

const PROG: &str = "nsinit";

/// A minimal init: run COMMAND, reap zombies, forward signals.
#[derive(Debug, Parser)]
#[command(name = PROG, version, about)]
pub struct Cli {
    /// The command and its arguments
    #[arg(trailing_var_arg = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// The tool's full clap definition, for man pages and shell completions.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
}

/// The whole tool: parse the arguments, run, report. `main.rs` only calls this.
pub fn main() -> ExitCode {
    match parse_args::<Cli>(PROG, TOOL_FAILURE) {
        Ok(cli) => report(PROG, run(cli)),
        Err(code) => code,
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    spawn::check_single_threaded()?;
    if nix::unistd::getpid().as_raw() != 1 {
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| Error::errno("cannot become a child subreaper", e))?;
    }
    let all = SigSet::all();
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&all), Some(&mut old))
        .map_err(|e| Error::errno("cannot block signals", e))?;
    let child = match spawn::fork()? {
        ForkResult::Child => {
            let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
            let err = spawn::prepare_exec(&[])
                .err()
                .unwrap_or_else(|| spawn::exec(&cli.command));
            nsutils_common::exit::print_error(PROG, &err);
            spawn::exit_child(err.exit_code());
        }
        ForkResult::Parent(pid) => pid,
    };
    let sfd = SignalFd::with_flags(&all, SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::errno("cannot create a signalfd", e))?;
    loop {
        let info = match sfd.read_signal() {
            Ok(Some(i)) => i,
            Ok(None) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::errno("cannot read the signalfd", e)),
        };
        let sig = info.ssi_signo as i32;
        if sig != libc::SIGCHLD {
            let _ = nsutils_common::sys::kill(child, sig);
            continue;
        }
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(st) if st.pid() == Some(Pid::from_raw(child)) => {
                    if let Some(o) = spawn::outcome_of(st) {
                        return Ok(Outcome::Code(o.shell_code()));
                    }
                }
                Ok(_) => {}
            }
        }
    }
}
