//! nsrun: create new namespaces and run a command in them.
//!
//! This is the foundation's first cut: the namespace flags, `--fork` (implied by `--pid`) and
//! `--map-root-user`. The full util-linux `unshare` option set is its own issue.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use nix::mount::{mount, MsFlags};
use nix::sched::CloneFlags;
use nsutils_common::cli::{parse_args, NsFlags};
use nsutils_common::exit::{report, Outcome};
use nsutils_common::idmap::{IdMap, IdRange, MapKind, ProcRoot};
use nsutils_common::spawn::{self, ForkResult};
use nsutils_common::{Error, NsKind, Result};

const PROG: &str = "nsrun";

/// Run a program in new namespaces.
#[derive(Debug, Parser)]
#[command(name = PROG, version, about)]
pub struct Cli {
    #[command(flatten)]
    ns: NsFlags,
    /// Fork before running the command (implied by --pid)
    #[arg(short = 'f', long)]
    fork: bool,
    /// Mount a fresh proc filesystem at DIR (default /proc) in the new namespaces (implies --mount)
    #[arg(long = "mount-proc", value_name = "DIR", num_args = 0..=1, require_equals = true, default_missing_value = "/proc")]
    mount_proc: Option<std::path::PathBuf>,
    /// Map the current user to root in a new user namespace (implies --user)
    #[arg(short = 'r', long = "map-root-user")]
    map_root_user: bool,
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

fn run(mut cli: Cli) -> Result<Outcome> {
    if cli.map_root_user {
        cli.ns.imply(NsKind::User);
    }
    if cli.mount_proc.is_some() {
        cli.ns.imply(NsKind::Mnt);
    }
    if let Some(kind) = cli
        .ns
        .kinds()
        .into_iter()
        .find(|k| cli.ns.get(*k).flatten().is_some())
    {
        return Err(Error::msg(format!(
            "persisting a {kind} namespace (--{}=FILE) is not implemented yet",
            kind.long_flag()
        )));
    }
    spawn::check_single_threaded()?;
    let (uid, gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    let flags = NsKind::mask(cli.ns.kinds());
    nix::sched::unshare(CloneFlags::from_bits_retain(flags))
        .map_err(|e| Error::errno("unshare failed", e))?;
    if cli.map_root_user {
        let proc_root = ProcRoot::default();
        let single = |id| -> Result<IdMap> {
            let mut m = IdMap::new();
            m.add_range(IdRange::new(0, id, 1).map_err(Error::msg)?)
                .map_err(Error::msg)?;
            Ok(m)
        };
        proc_root.write_setgroups(None, false)?;
        proc_root.write_map(None, MapKind::Uid, &single(uid)?)?;
        proc_root.write_map(None, MapKind::Gid, &single(gid)?)?;
    }
    if cli.ns.get(NsKind::Mnt).is_some() {
        // A new mount namespace is private: mounts made in it never reach the host.
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(|e| Error::errno("cannot make / private in the new mount namespace", e))?;
    }
    let argv = spawn::command_or_shell(cli.command);
    if cli.fork || cli.ns.get(NsKind::Pid).is_some() {
        match spawn::fork()? {
            ForkResult::Parent(child) => return spawn::wait_for(child),
            ForkResult::Child => {}
        }
    }
    if let Some(dir) = &cli.mount_proc {
        // After the fork: a proc mounted now shows the PID namespace we are in.
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        mount(Some("proc"), dir, Some("proc"), flags, None::<&str>)
            .map_err(|e| Error::errno(format!("cannot mount proc on {}", dir.display()), e))?;
    }
    spawn::prepare_exec(&[])?;
    Err(spawn::exec(&argv))
}
