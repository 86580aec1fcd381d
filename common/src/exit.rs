//! Exit codes and the one exit policy every `main` uses.
//!
//! | tool | situation | code |
//! |---|---|---|
//! | nsrun, nsenter | the command ran | its exit code; died by a signal: the tool re-raises it on itself |
//! | nsrun, nsenter, nsinit | the tool itself failed (bad flags included) | 125 ([`TOOL_FAILURE`]) |
//! | all that exec | command found but not executable / not found | 126 / 127 |
//! | nsrun | `--timeout` expired | 124 ([`TIMEOUT`]), as timeout(1) |
//! | nsinit | child died by signal N | 128+N (PID 1 cannot re-raise on itself) |
//! | nsls | success / error / unsupported kernel feature | 0 / 1 / 2 |
//!
//! Nothing below `main` prints an error or calls `exit`: it returns an [`Outcome`] or an
//! [`Error`], and [`report`] turns that into the process's end. An error that decided no
//! code of its own ends the tool with the tool's failure code ([`Tool`]).

use std::io::Write;
use std::process::ExitCode;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use crate::error::Error;
use crate::sys;

/// `--timeout` expired (as timeout(1)).
pub const TIMEOUT: u8 = 124;
/// The tool itself failed: bad flags, a failed syscall, a failing helper.
pub const TOOL_FAILURE: u8 = 125;
/// The command was found but could not be executed.
pub const NOT_EXECUTABLE: u8 = 126;
/// The command was not found.
pub const NOT_FOUND: u8 = 127;
/// nsls: an error.
pub const NSLS_ERROR: u8 = 1;
/// nsls: the kernel lacks a feature (an ioctl) that is needed.
pub const NSLS_UNSUPPORTED: u8 = 2;

/// What the shared policies need to know of a tool: its name in messages and the exit code
/// of its own failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The program name, the `prog` of `prog: message`.
    pub name: &'static str,
    /// The exit code of the tool's own failures, bad input included: [`TOOL_FAILURE`]; nsls
    /// [`NSLS_ERROR`].
    pub failure: u8,
}

impl Tool {
    /// A tool whose own failures exit [`TOOL_FAILURE`] (125).
    pub const fn new(name: &'static str) -> Tool {
        Tool {
            name,
            failure: TOOL_FAILURE,
        }
    }

    /// The code `e` ends this tool with: its own if it decided one, else the tool's.
    pub fn code_of(&self, e: &Error) -> u8 {
        e.exit_code().unwrap_or(self.failure)
    }
}

/// How a tool's work ended, when it did not fail itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit with this code.
    Code(u8),
    /// The command died by this signal: die of the same signal, so our own parent sees
    /// exactly what it would have seen without us in between.
    Signal(i32),
}

impl Outcome {
    /// The code a shell shows for this outcome (`128+N` for a signal).
    pub fn shell_code(self) -> u8 {
        match self {
            Outcome::Code(c) => c,
            Outcome::Signal(s) => 128u8.wrapping_add(s as u8),
        }
    }
}

/// Print an error as `prog: message` (and `prog: hint: …`) on stderr and return its code;
/// or end the way `outcome` says. Re-raising a signal does not return.
pub fn report(tool: &Tool, result: Result<Outcome, Error>) -> ExitCode {
    match result {
        Ok(Outcome::Code(c)) => ExitCode::from(c),
        Ok(Outcome::Signal(sig)) => {
            reraise(sig);
            ExitCode::from(128u8.wrapping_add(sig as u8))
        }
        Err(e) => {
            print_error(tool.name, &e);
            ExitCode::from(tool.code_of(&e))
        }
    }
}

/// Die of signal `sig`, as the child did, so a script sees the same status with or without
/// us: default disposition, no core dump of our own, unblocked, raised. Returns only if the
/// signal does not kill (e.g. SIGCHLD), and then the caller exits with 128+N.
pub fn reraise(sig: i32) {
    // A core of the tool would be misleading (the child already dumped one if it could).
    let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0);
    let _ = sys::set_signal_default(sig, true);
    if let Ok(s) = Signal::try_from(sig) {
        let mut set = SigSet::empty();
        set.add(s);
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    }
    // kill(2) on ourselves rather than nix's raise: its Signal enum lacks real-time signals.
    let _ = sys::kill(nix::unistd::getpid().as_raw(), sig);
}

/// Print an error the way [`report`] does, for tools that go on after it (warnings).
pub fn print_error(prog: &str, e: &Error) {
    let mut err = std::io::stderr().lock();
    // A failing stderr leaves nothing better to do than to exit with the code.
    let _ = writeln!(err, "{prog}: {e}");
    if let Some(h) = e.hint_text() {
        let _ = writeln!(err, "{prog}: hint: {h}");
    }
}

/// Print a warning line, `prog: warning: …`.
pub fn warn(prog: &str, msg: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{prog}: warning: {msg}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_decide_the_code_of_errors_that_did_not() {
        let nsls = Tool {
            name: "nsls",
            failure: NSLS_ERROR,
        };
        assert_eq!(nsls.code_of(&Error::msg("x")), 1);
        assert_eq!(Tool::new("nsrun").code_of(&Error::msg("x")), 125);
        let exec = Error::msg("x").code(NOT_FOUND);
        assert_eq!(
            (nsls.code_of(&exec), Tool::new("t").code_of(&exec)),
            (127, 127)
        );
    }

    #[test]
    fn shell_codes() {
        assert_eq!(Outcome::Code(3).shell_code(), 3);
        assert_eq!(Outcome::Signal(9).shell_code(), 137);
        assert_eq!(Outcome::Signal(15).shell_code(), 143);
    }
}
