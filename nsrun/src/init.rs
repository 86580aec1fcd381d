//! `--init`: PID 1 of the new PID namespace is a reaper (nsinit's logic, in-process) and
//! the command is its child.

use std::ffi::OsString;

use nsutils_common::exit::Outcome;
use nsutils_common::{Error, Result};

/// Run the reaper with the command as its only child; its outcome is the command's.
pub fn run(argv: Vec<OsString>) -> Result<Outcome> {
    let _ = argv;
    Err(Error::msg("--init is not available yet"))
}
