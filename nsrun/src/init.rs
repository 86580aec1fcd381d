//! `--init`: PID 1 of the new PID namespace is a reaper — nsinit's loop from
//! `nsutils_common::reaper`, run in-process, not a second binary — and the command is its
//! child: orphans are reaped, every catchable signal is forwarded, the outcome is the
//! command's.

use std::os::fd::RawFd;

use nsutils_common::exit::Outcome;
use nsutils_common::reaper::{self, ReaperConfig};
use nsutils_common::spawn::Program;
use nsutils_common::Result;

/// Run the reaper with the command (or the login shell) as its only child. The caller owns
/// no fd ≥ 3 any more (the reaper closes them all once the command is started), but may
/// hand over one that the command's child writes `E` to if its exec fails.
pub fn run(program: Program, exec_failure_fd: Option<RawFd>) -> Result<Outcome> {
    let cfg = ReaperConfig {
        prog: "nsrun",
        exec_failure_fd,
        ..ReaperConfig::default()
    };
    reaper::run(&cfg, vec![program])
}
