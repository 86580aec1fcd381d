//! nsinit: a PID 1 for a PID namespace or container, or a child subreaper anywhere else.
//!
//! A superset of tini, dumb-init and catatonit: their flags ([`cli`], parsed without clap on
//! the everyday paths by [`fast`]) and environment variables ([`mod@env`]), and the init loop of
//! [`nsutils_common::reaper`] (zero idle wake-ups, every signal forwarded, grace-period
//! shutdown, several commands). [`run`] turns what the user typed into that loop's
//! configuration.

#![forbid(unsafe_code)]

pub mod cli;
pub mod env;
pub mod fast;
pub mod run;

use std::process::ExitCode;

use nsutils_common::cli::{abbreviations, parse_abbreviated};
use nsutils_common::exit::{report, Tool};

/// The program name, in messages.
pub const PROG: &str = "nsinit";
const TOOL: Tool = Tool::new(PROG);

/// The tool's full clap definition, for man pages and shell completions: long options may be
/// abbreviated as dumb-init's are.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    abbreviations(cli::Cli::command(), &cli::DUMB_INIT_LONGS)
}

/// Parse with clap, as every tool does (abbreviations, errors with hints).
pub fn parse_clap(raw: &[std::ffi::OsString]) -> Result<cli::Cli, ExitCode> {
    use clap::{CommandFactory, FromArgMatches};
    parse_abbreviated(&TOOL, cli::Cli::command(), command, raw, |_, m| {
        cli::Cli::from_arg_matches(m)
    })
}

/// The whole tool: parse the arguments, run, report. `main.rs` only calls this.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The fast path keeps clap's code out of an init's memory; anything unusual (help,
    // errors) goes through clap as in every tool.
    let parsed = match fast::parse(args.get(1..).unwrap_or_default()) {
        Some(c) => Ok(c),
        None => parse_clap(&args),
    };
    match parsed {
        Ok(cli) => report(&TOOL, run::run(cli)),
        Err(code) => code,
    }
}
