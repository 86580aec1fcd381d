//! nsinit: a PID 1 for a PID namespace or container, or a child subreaper anywhere else.
//!
//! A superset of tini, dumb-init and catatonit: their flags ([`cli`]), and the init loop of
//! [`nsutils_common::reaper`] (zero idle wake-ups, every signal forwarded, grace-period
//! shutdown, several commands). [`run`] turns what the user typed into that loop's
//! configuration.

#![forbid(unsafe_code)]

pub mod cli;
pub mod errors;
pub mod fast;
pub mod run;

use std::process::ExitCode;

use nsutils_common::exit::{report, TOOL_FAILURE};

/// The program name, in messages.
pub const PROG: &str = "nsinit";

/// The tool's full clap definition, for man pages and shell completions.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    cli::Cli::command()
}

/// The whole tool: parse the arguments, run, report. `main.rs` only calls this.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The fast path keeps clap's code out of an init's memory; anything unusual (help,
    // errors) goes through clap as in every tool.
    let parsed = match fast::parse(args.get(1..).unwrap_or_default()) {
        Some(c) => Ok(c),
        None => errors::parse::<cli::Cli>(PROG, TOOL_FAILURE, args),
    };
    match parsed {
        Ok(cli) => report(PROG, run::run(cli)),
        Err(code) => code,
    }
}
