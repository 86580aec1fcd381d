//! nsenter: run a command in the namespaces of another process, or of namespace files.
//!
//! A superset of util-linux 2.42's nsenter: the target is pinned by a pidfd before anything
//! of it is read, its namespaces are entered with one atomic `setns(pidfd, mask)` (per file
//! where the kernel lacks that), and every file is opened and checked before the first
//! `setns`, so bad input changes nothing.
//!
//! | module | owns |
//! |---|---|
//! | `cli` | the options as typed, checks that need no syscall |
//! | `plan` | everything opened and checked up front; nothing changed |
//! | `run` | the steps, top to bottom |
//! | `namespaces` | the namespaces to enter: where each comes from, opened and checked |
//! | `target` | the pinned target and what is read of it from `/proc` |
//! | `join` | the order of the `setns` calls: atomic, files around it, fallback |
//! | `creds` | the credentials to take: `-S`/`-G`, `follow`, the defaults (set by `nsutils_common::creds`) |
//! | `ownproc` | our own `/proc`, opened before entering, for reading ourselves after |
//! | `cgroup` | `--join-cgroup` |
//! | `forward` | fork, signal forwarding, exit-status mirroring |

#![forbid(unsafe_code)]

use std::process::ExitCode;

use nsutils_common::cli::{abbreviations, parse_abbreviated, value_trap};
use nsutils_common::exit::{report, Tool};

mod cgroup;
mod cli;
mod creds;
mod forward;
mod join;
mod namespaces;
mod ownproc;
mod plan;
mod run;
mod target;

pub use cli::Cli;
/// util-linux 2.38 nsenter's long options, for the side-by-side abbreviation tests.
#[doc(hidden)]
pub use cli::NSENTER_LONGS;
/// The `-t PID[:INODE]` parser, public for the fuzz targets.
#[doc(hidden)]
pub use cli::{parse_target, TargetArg};

/// The tool's full clap definition, for man pages and shell completions: long options may
/// be abbreviated as util-linux nsenter's are.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    abbreviations(Cli::command(), cli::NSENTER_LONGS)
}

const TOOL: Tool = Tool::new(cli::PROG);

/// Parse the arguments; errors are reported as every tool reports them.
fn parse(raw: Vec<std::ffi::OsString>) -> Result<Cli, ExitCode> {
    use clap::{CommandFactory, FromArgMatches};
    parse_abbreviated(&TOOL, Cli::command(), command, &raw, |cmd, m| {
        let mut cli = Cli::from_arg_matches(m)?;
        cli.trap = value_trap(cmd, &raw, cli.command.len());
        Ok(cli)
    })
}

/// The whole tool: parse the arguments, run, report. `main.rs` only calls this.
pub fn main() -> ExitCode {
    match parse(std::env::args_os().collect()) {
        Ok(cli) => report(&TOOL, plan::Plan::new(cli).and_then(plan::Plan::execute)),
        Err(code) => code,
    }
}
