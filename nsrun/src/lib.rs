//! nsrun: create new namespaces and run a command in them — every option of util-linux
//! `unshare`, and what it lacks (see the README's nsrun section).
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | what the user typed: the clap definition, nsrun's own value parsers, implied options and refused combinations |
//! | `plan` | everything worked out and checked before the first `unshare` |
//! | `maps` | the id maps and `setgroups`, resolved and checked |
//! | `run` | the steps, top to bottom |
//! | `helper` | the process that stays outside: range maps, persisting, undo |
//! | `setup` | steps inside the new namespaces |
//! | `handoff` | pid file, `--info-fd`, `--ready-fd`, `--block-fd` |
//! | `wait` | the parent's wait: timeout, signal forwarding |
//! | `explain` | hints for EPERM and ENOSPC from `unshare` |
//! | `init` | `--init`: the in-process reaper as PID 1 |

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

use clap::CommandFactory;
use nsutils_common::cli::{abbreviations, parse_abbreviated};
use nsutils_common::exit::{report, Tool};

pub mod cli;
mod explain;
mod handoff;
mod helper;
mod init;
mod maps;
mod plan;
mod run;
mod setup;
mod wait;

const TOOL: Tool = Tool::new("nsrun");

/// The tool's full clap definition, for man pages and shell completions: long options may
/// be abbreviated as unshare's are.
pub fn command() -> clap::Command {
    abbreviations(cli::Cli::command(), cli::UNSHARE_LONGS)
}

/// Parse from the matches: which of `-r`, `-c` and `--map-user` came last decides the map,
/// as in unshare.
fn parse(raw: Vec<OsString>) -> Result<cli::Cli, ExitCode> {
    parse_abbreviated(&TOOL, cli::Cli::command(), command, &raw, |cmd, m| {
        cli::Cli::from_matches(cmd, m, &raw)
    })
}

/// The whole tool: parse the arguments, run, report. `main.rs` only calls this.
pub fn main() -> ExitCode {
    match parse(std::env::args_os().collect()) {
        Ok(cli) => report(&TOOL, plan::Plan::new(cli).and_then(plan::Plan::execute)),
        Err(code) => code,
    }
}
