//! nsenter: run a command in the namespaces of another process.
//!
//! This is the foundation's first cut: `-t PID`, the namespace flags (without files) and
//! `-a`, entered atomically through a pidfd. The full util-linux option set is its own issue.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use nsutils_common::cli::{parse_args, parse_pid, NsFlags};
use nsutils_common::exit::{report, Outcome};
use nsutils_common::nsfs::NsId;
use nsutils_common::pidfd::PidFd;
use nsutils_common::spawn::{self, ForkResult};
use nsutils_common::{Error, NsKind, Result};

const PROG: &str = "nsenter";

/// Run a program in the namespaces of another process.
#[derive(Debug, Parser)]
#[command(name = PROG, version, about)]
pub struct Cli {
    /// Target process to get the namespaces from
    #[arg(short = 't', long, value_parser = parse_pid)]
    target: i32,
    /// Enter all namespaces of the target
    #[arg(short = 'a', long)]
    all: bool,
    #[command(flatten)]
    ns: NsFlags,
    /// The command and its arguments (default: $SHELL)
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// The tool's full clap definition, for man pages and shell completions.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
}

/// The whole tool: parse the arguments, run, report. `main.rs` only calls this.
pub fn main() -> ExitCode {
    match parse_args::<Cli>(PROG, nsutils_common::exit::TOOL_FAILURE) {
        Ok(cli) => report(PROG, run(cli)),
        Err(code) => code,
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    spawn::check_single_threaded()?;
    let target = PidFd::open(cli.target)?;
    let asked = if cli.all {
        NsKind::ALL.to_vec()
    } else {
        cli.ns.kinds()
    };
    // Only the kinds that differ: setns into our own user namespace is EINVAL.
    let mut kinds = Vec::new();
    for kind in asked {
        let theirs = target.ns_file(kind, false)?.id()?;
        let ours = NsId::of_process(None, kind)
            .map_err(|e| Error::os(format!("cannot stat /proc/self/ns/{kind}"), e))?;
        if theirs != ours {
            kinds.push(kind);
        }
    }
    if !kinds.is_empty() {
        target.setns(&kinds).map_err(|e| {
            Error::errno(format!("cannot enter the namespaces of {}", cli.target), e)
        })?;
    }
    let argv = spawn::command_or_shell(cli.command);
    if kinds.contains(&NsKind::Pid) {
        match spawn::fork()? {
            ForkResult::Parent(child) => return spawn::wait_for(child),
            ForkResult::Child => {}
        }
    }
    spawn::prepare_exec(&[])?;
    Err(spawn::exec(&argv))
}
