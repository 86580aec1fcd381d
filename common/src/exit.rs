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
//! [`Error`], and [`report`] turns that into the process's end.

use std::io::Write;
use std::process::ExitCode;

use crate::error::Error;

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
pub fn report(prog: &str, result: Result<Outcome, Error>) -> ExitCode {
    match result {
        Ok(Outcome::Code(c)) => ExitCode::from(c),
        Ok(Outcome::Signal(sig)) => {
            crate::spawn::reraise(sig);
            ExitCode::from(128u8.wrapping_add(sig as u8))
        }
        Err(e) => {
            print_error(prog, &e);
            ExitCode::from(e.exit_code())
        }
    }
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
    fn shell_codes() {
        assert_eq!(Outcome::Code(3).shell_code(), 3);
        assert_eq!(Outcome::Signal(9).shell_code(), 137);
        assert_eq!(Outcome::Signal(15).shell_code(), 143);
    }
}
