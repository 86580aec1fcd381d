//! What the user typed: the clap definition and its validation into [`Opts`]. No syscalls.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use nsutils_common::cli::parse_pid;
use nsutils_common::{Error, KindMap, NsKind, Result};

use crate::columns::{self, Col};
use crate::filter::{self, Expr};

/// The relation `--tree` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TreeMode {
    /// Namespaces nest as the processes in them descend from each other (the default).
    Process,
    /// Pid and user namespaces under their parent namespace.
    Parent,
    /// Every namespace under the user namespace that owns it.
    Owner,
}

/// List namespaces: who is in them, who owns them, their parents and persisted files.
#[derive(Debug, Parser)]
#[command(
    name = "nsls",
    version,
    // util-linux's getopt_long takes any unambiguous prefix: `lsns --typ net`, `--js`.
    infer_long_args = true,
    about = "List namespaces: every process's and thread's, open and bind-mounted ones, and \
             their ancestors",
    after_help = columns::help_text(),
)]
pub struct Cli {
    /// Use JSON output format
    #[arg(short = 'J', long, conflicts_with = "raw")]
    pub json: bool,
    /// Use list output format (no tree)
    #[arg(short = 'l', long, conflicts_with = "tree")]
    pub list: bool,
    /// Don't print headings
    #[arg(short = 'n', long)]
    pub noheadings: bool,
    /// Columns to print (comma-separated; +LIST appends to the defaults)
    #[arg(short = 'o', long, value_name = "LIST")]
    pub output: Vec<String>,
    /// Output all columns
    #[arg(long)]
    pub output_all: bool,
    /// Only namespaces without processes
    #[arg(short = 'P', long)]
    pub persistent: bool,
    /// Only the namespaces of this process
    #[arg(short = 'p', long = "task", value_name = "PID", value_parser = parse_pid)]
    pub task: Option<i32>,
    /// Only rows for which EXPR holds, e.g. 'TYPE == "net" && NPROCS > 1'
    #[arg(short = 'Q', long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Use the raw output format
    #[arg(short = 'r', long)]
    pub raw: bool,
    #[arg(
        short = 't',
        long = "type",
        value_name = "TYPE",
        help = format!(
            "Namespace type ({}); repeatable or comma-separated",
            NsKind::names()
        )
    )]
    pub types: Vec<String>,
    /// Don't truncate text in columns
    #[arg(short = 'u', long)]
    pub notruncate: bool,
    /// Don't use multi-line cells (NSFS: comma-separated)
    #[arg(short = 'W', long)]
    pub nowrap: bool,
    /// Use tree format: process (default layout), parent or owner (when REL is omitted)
    #[arg(
        short = 'T',
        long,
        value_name = "REL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "owner"
    )]
    pub tree: Option<TreeMode>,
    /// List the available columns and exit
    #[arg(short = 'H', long)]
    pub list_columns: bool,
    /// End each record with NUL instead of newline (for xargs -0)
    #[arg(short = '0', long)]
    pub null: bool,
    /// Fail when a process cannot be read (without it: a warning on a terminal, silence in
    /// scripts, as lsns)
    #[arg(long)]
    pub strict: bool,
    /// Skip the costly sources, threads and open fds (processes, bind mounts and ancestors
    /// stay): about a fifth less CPU on a host with thousands of processes
    #[arg(long)]
    pub shallow: bool,
    /// Show the PID of PID in every PID namespace, outermost first, with each level's namespace
    #[arg(long, value_name = "PID", value_parser = parse_pid, conflicts_with_all = ["task", "namespace"])]
    pub pids: Option<i32>,
    /// List the processes in this namespace (an inode number)
    #[arg(value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// Space-separated, escaped cells.
    Raw,
    /// JSON.
    Json,
}

/// The validated request.
#[derive(Debug)]
pub struct Opts {
    /// What to print.
    pub mode: Mode,
    /// Kinds to list.
    pub kinds: KindMap<bool>,
    /// Columns to show.
    pub columns: Vec<Col>,
    /// Output format.
    pub format: Format,
    /// The tree drawn, `None` for a flat list.
    pub tree: Option<TreeMode>,
    /// `--tree` was given (JSON nests only then).
    pub tree_explicit: bool,
    /// No header line.
    pub noheadings: bool,
    /// Never truncate.
    pub notruncate: bool,
    /// No multi-line cells.
    pub nowrap: bool,
    /// NUL-terminated records.
    pub null: bool,
    /// Only namespaces without processes.
    pub persistent: bool,
    /// Only the namespaces of this process.
    pub task: Option<i32>,
    /// The filter.
    pub filter: Option<Expr>,
    /// Unreadable processes are an error.
    pub strict: bool,
    /// Skip threads and fds.
    pub shallow: bool,
}

/// What nsls prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One row per namespace.
    Namespaces,
    /// The processes of one namespace.
    Processes(u64),
    /// The PID of one process at every level (`--pids`).
    Pids(i32),
    /// The table of columns (`-H`).
    ListColumns,
}

/// Parse the command line as util-linux would: any unambiguous prefix of a long option is
/// that option (`--typ net`); an ambiguous one lists its candidates, a misspelled one says
/// which it resembles, an invalid value lists the valid ones (common's
/// [`Wording::Hints`](nsutils_common::cli::Wording::Hints)). Errors exit 1.
pub fn parse_from(args: Vec<OsString>) -> std::result::Result<Cli, ExitCode> {
    nsutils_common::cli::parse_with_hints(&crate::TOOL, &args)
}

impl Cli {
    /// Check the combination and turn strings into values: the kinds, what to print, the
    /// columns, the format and the tree.
    pub fn validate(self) -> Result<Opts> {
        let kinds = self.kinds()?;
        let mode = self.mode()?;
        let columns = self.columns(mode, &kinds)?;
        let format = if self.json {
            Format::Json
        } else if self.raw {
            Format::Raw
        } else {
            Format::Table
        };
        let tree = if self.list || matches!(mode, Mode::Pids(_)) {
            None
        } else {
            Some(self.tree.unwrap_or(TreeMode::Process))
        };
        let filter = self.filter.as_deref().map(filter::parse).transpose()?;
        Ok(Opts {
            mode,
            kinds,
            columns,
            format,
            tree,
            tree_explicit: self.tree.is_some(),
            noheadings: self.noheadings,
            notruncate: self.notruncate,
            nowrap: self.nowrap || format == Format::Raw,
            null: self.null,
            persistent: self.persistent,
            task: self.task,
            filter,
            strict: self.strict,
            shallow: self.shallow,
        })
    }

    /// The kinds of `-t` (repeatable, comma-separated); none given: every kind.
    fn kinds(&self) -> Result<KindMap<bool>> {
        let mut kinds = KindMap::splat(false);
        for spec in &self.types {
            for name in spec.split(',').filter(|s| !s.is_empty()) {
                let k = NsKind::from_name(name).ok_or_else(|| {
                    Error::msg(format!("unknown namespace type: {name}"))
                        .hint(format!("types are {}", NsKind::names()))
                })?;
                kinds[k] = true;
            }
        }
        if kinds.kinds().next().is_none() {
            kinds = KindMap::splat(true);
        }
        Ok(kinds)
    }

    /// What to print: `-H`, `--pids`, the processes of a NAMESPACE, or the namespaces.
    fn mode(&self) -> Result<Mode> {
        Ok(if self.list_columns {
            Mode::ListColumns
        } else if let Some(pid) = self.pids {
            Mode::Pids(pid)
        } else if let Some(ns) = &self.namespace {
            let ino = ns
                .parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| Error::msg(format!("invalid namespace argument: '{ns}'")))?;
            Mode::Processes(ino)
        } else {
            Mode::Namespaces
        })
    }

    /// The columns: `--output-all`, the `-o` lists (`+LIST` appends to the defaults; a later
    /// plain `-o` replaces, as in lsns), or the defaults of the mode (network ones for
    /// `-t net` alone).
    fn columns(&self, mode: Mode, kinds: &KindMap<bool>) -> Result<Vec<Col>> {
        let only_net = kinds.iter().all(|(k, &on)| on == (k == NsKind::Net));
        let defaults: &[Col] = match mode {
            Mode::Processes(_) => &columns::DEFAULT_PROCS,
            _ if only_net => &columns::DEFAULT_NET,
            _ => &columns::DEFAULT,
        };
        if self.output_all {
            return Ok(columns::COLUMNS.iter().map(|i| i.col).collect());
        }
        if self.output.is_empty() {
            return Ok(defaults.to_vec());
        }
        let mut cols = Vec::new();
        for (n, spec) in self.output.iter().enumerate() {
            let base: &[Col] = if n == 0 { defaults } else { &[] };
            let mut more = columns::parse_list(spec, base)?;
            if n > 0 && !spec.starts_with('+') {
                cols.clear();
            }
            cols.append(&mut more);
        }
        Ok(cols)
    }
}
