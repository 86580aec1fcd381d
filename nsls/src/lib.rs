//! nsls: list namespaces — a superset of util-linux `lsns`.
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | the clap definition and its validation |
//! | [`run`] | the steps: scan, resolve, rows, filter, tree, print |
//! | [`scan`] | discovery: processes, threads, fds, bind mounts, ancestors |
//! | [`sockets`] | the network namespaces of open sockets |
//! | [`columns`] | the one table of columns |
//! | [`container`] | the CONTAINER column: runtime and id from a cgroup path |
//! | [`filter`] | `-Q` expressions |
//! | [`output`] | table, raw, JSON, trees |
//! | [`netnsid`] | NETNSID through rtnetlink |

#![forbid(unsafe_code)]

use std::process::ExitCode;

use nsutils_common::exit::{report, Tool, NSLS_ERROR};

pub mod cli;
pub mod columns;
pub mod container;
pub mod filter;
pub mod netnsid;
pub mod output;
pub mod run;
pub mod scan;
pub mod sockets;

/// nsls's name in messages, and its exit code for errors: 1, as lsns.
pub const TOOL: Tool = Tool {
    name: "nsls",
    failure: NSLS_ERROR,
};

/// The tool's full clap definition, for man pages and shell completions.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    cli::Cli::command()
}

/// The whole tool: parse the arguments, run, report. `main.rs` only calls this.
pub fn main() -> ExitCode {
    match cli::parse_from(std::env::args_os().collect()) {
        Ok(cli) => report(&TOOL, cli.validate().and_then(run::run)),
        Err(code) => code,
    }
}
