//! The one error type of the workspace.
//!
//! An [`Error`] says what we were doing and to what (`cannot open /proc/42/ns/net`), keeps the
//! OS error as its [`source`](std::error::Error::source) (printed after a colon, as the
//! util-linux tools do), may carry a one-line hint, and may carry the exit code the tool
//! should end with. A code decided where the error is made — 126 versus 127 for an exec, nsls's
//! 2 for a missing kernel feature — is decided once; every other error ends the tool with its
//! own failure code ([`crate::exit::Tool`]: 125, nsls 1), so no call site has to say it.
//!
//! This module depends on no other of the crate.

use std::fmt;
use std::io;

/// A failure of one of the tools, ready to be reported by [`crate::exit::report`].
#[derive(Debug)]
pub struct Error {
    what: String,
    source: Option<io::Error>,
    hint: Option<String>,
    code: Option<u8>,
}

/// The workspace's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with no OS cause, e.g. a bad combination of flags. `what` is the whole
    /// message: `--init needs --pid`.
    pub fn msg(what: impl Into<String>) -> Self {
        Error {
            what: what.into(),
            source: None,
            hint: None,
            code: None,
        }
    }

    /// An error caused by the OS. `what` names the step and the object,
    /// `cannot open /proc/42/ns/net`; the OS error follows it after a colon.
    pub fn os(what: impl Into<String>, source: impl Into<io::Error>) -> Self {
        Error {
            what: what.into(),
            source: Some(source.into()),
            hint: None,
            code: None,
        }
    }

    /// An error from a `nix` call.
    pub fn errno(what: impl Into<String>, errno: nix::errno::Errno) -> Self {
        Self::os(what, io::Error::from_raw_os_error(errno as i32))
    }

    /// Attach a hint: one line telling the user what to do about it.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Set the exit code this error ends the tool with, instead of the tool's failure code.
    #[must_use]
    pub fn code(mut self, code: u8) -> Self {
        self.code = Some(code);
        self
    }

    /// The exit code this error decided, if it did; `None`: the tool's own failure code
    /// ([`crate::exit::Tool::code_of`]).
    pub fn exit_code(&self) -> Option<u8> {
        self.code
    }

    /// The hint line, if any.
    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The OS error number, if the error came from the OS.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.as_ref().and_then(io::Error::raw_os_error)
    }

    /// Prefix the message with more context: `"entering the target"` turns
    /// `cannot open …` into `entering the target: cannot open …`.
    #[must_use]
    pub fn context(mut self, outer: impl fmt::Display) -> Self {
        self.what = format!("{outer}: {}", self.what);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)?;
        if let Some(src) = &self.source {
            write!(f, ": {}", strerror(src))?;
        }
        Ok(())
    }
}

/// The OS error's text without Rust's ` (os error N)` suffix, as C tools print it.
pub fn strerror(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => nix::errno::Errno::from_raw(n).desc().to_string(),
        None => e.to_string(),
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_step_object_and_errno() {
        let e = Error::errno("cannot open /proc/42/ns/net", nix::errno::Errno::ESRCH);
        assert_eq!(
            e.to_string(),
            "cannot open /proc/42/ns/net: No such process"
        );
        assert_eq!(e.exit_code(), None);
        assert_eq!(e.raw_os_error(), Some(libc::ESRCH));
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn hint_code_and_context() {
        let e = Error::msg("--init needs --pid")
            .hint("add --pid")
            .code(1)
            .context("nsrun");
        assert_eq!(e.to_string(), "nsrun: --init needs --pid");
        assert_eq!(e.hint_text(), Some("add --pid"));
        assert_eq!(e.exit_code(), Some(1));
    }
}
