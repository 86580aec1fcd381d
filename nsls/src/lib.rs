//! nsls: list namespaces.
//!
//! This is the foundation's first cut: every namespace any process is in, with lsns's
//! default flat columns NS, TYPE, NPROCS, PID, COMMAND. The full lsns option and column set
//! is its own issue.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Parser;
use nsutils_common::cli::parse_args;
use nsutils_common::exit::{report, Outcome, NSLS_ERROR};
use nsutils_common::nsfs::NsId;
use nsutils_common::{NsKind, Result};

const PROG: &str = "nsls";

/// List namespaces.
#[derive(Debug, Parser)]
#[command(name = PROG, version, about)]
pub struct Cli {
    /// Only namespaces of this type
    #[arg(short = 't', long = "type")]
    kind: Vec<NsKind>,
    /// Do not print a header line
    #[arg(short = 'n', long)]
    noheadings: bool,
}

struct Row {
    kind: NsKind,
    nprocs: usize,
    pid: i32,
}

/// The tool's full clap definition, for man pages and shell completions.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
}

/// The whole tool: parse the arguments, run, report. `main.rs` only calls this.
pub fn main() -> ExitCode {
    match parse_args::<Cli>(PROG, NSLS_ERROR) {
        Ok(cli) => report(PROG, run(cli)),
        Err(code) => code,
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    let kinds: Vec<NsKind> = if cli.kind.is_empty() {
        NsKind::ALL.to_vec()
    } else {
        cli.kind
    };
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .map_err(|e| nsutils_common::Error::os("cannot read /proc", e).code(NSLS_ERROR))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    let mut rows: BTreeMap<u64, Row> = BTreeMap::new();
    for pid in pids {
        for &kind in &kinds {
            // A process that exits during the scan is simply no longer listed.
            let Ok(id) = NsId::of_process(Some(pid), kind) else {
                continue;
            };
            rows.entry(id.ino)
                .and_modify(|r| r.nprocs += 1)
                .or_insert(Row {
                    kind,
                    nprocs: 1,
                    pid,
                });
        }
    }
    let mut out = String::new();
    if !cli.noheadings {
        out.push_str("        NS TYPE   NPROCS   PID COMMAND\n");
    }
    for (ino, r) in &rows {
        let cmd = std::fs::read_to_string(format!("/proc/{}/comm", r.pid)).unwrap_or_default();
        out.push_str(&format!(
            "{ino:>10} {:<6} {:>6} {:>5} {}\n",
            r.kind.proc_name(),
            r.nprocs,
            r.pid,
            cmd.trim_end()
        ));
    }
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(Outcome::Code(0))
}
