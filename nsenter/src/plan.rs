//! The plan of nsenter: everything that can fail on bad input — pins the target, opens and
//! checks every namespace file, the root and working directories, reads the environment and
//! the cgroup — done before anything changes. [`Plan::execute`](crate::run) then makes the
//! changes.

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nsutils_common::cli::ValueTrap;
use nsutils_common::creds::Creds;
use nsutils_common::{safefile, spawn};
use nsutils_common::{sys, Error, NsKind, Result};

use crate::cgroup;
use crate::cli::Cli;
use crate::creds::credentials;
use crate::join::{self, Entry};
use crate::namespaces::namespaces;
use crate::ownproc::OwnProc;
use crate::target::{need_target, Target};

/// Everything opened and decided before the first change.
#[derive(Debug)]
pub struct Plan {
    /// `-t`: the target, pinned.
    pub(crate) target: Option<Target>,
    /// The namespaces to enter, only those that differ from ours.
    pub(crate) entries: Vec<Entry>,
    /// The user namespace grants the privilege (we are not root with CAP_SYS_ADMIN): it
    /// is entered first.
    pub(crate) user_first: bool,
    /// `setns(pidfd, mask)` for the target's namespaces (else per file: see `join`).
    pub(crate) use_pidfd: bool,
    /// `-Z`: the target's SELinux context.
    pub(crate) selinux_context: Option<Vec<u8>>,
    /// `-c`: the target's `cgroup.procs`, open for writing, and its path.
    pub(crate) cgroup: Option<(File, PathBuf)>,
    /// `-r`: the root directory, opened before entering.
    pub(crate) root: Option<OwnedFd>,
    /// `-w`: the working directory, opened before entering.
    pub(crate) wd: Option<OwnedFd>,
    /// `-W`: the working directory, resolved after entering.
    pub(crate) wdns: Option<PathBuf>,
    /// The credentials to take after entering.
    pub(crate) creds: Creds,
    /// Our `/proc`, for what is read of ourselves after entering.
    pub(crate) own_proc: OwnProc,
    /// `-e`: the target's environment.
    pub(crate) env: Option<Vec<(OsString, OsString)>>,
    /// Fork, so that the command is in the PID namespace entered.
    pub(crate) fork: bool,
    /// The command, or the login shell.
    pub(crate) program: spawn::Program,
    /// The namespace option that took no value before the command (`--net /path cmd`).
    pub(crate) trap: Option<ValueTrap>,
}

impl Plan {
    /// Open and check everything; change nothing. The steps, as the man page has them: the
    /// target, the namespaces to enter, the credentials, the SELinux context, the cgroup, the
    /// root and working directory, the environment, and whether to fork.
    pub fn new(cli: Cli) -> Result<Plan> {
        cli.validate()?;
        spawn::check_single_threaded()?;
        // Pin the target before anything else about it is read.
        let target = cli.target.map(Target::open).transpose()?;
        let t = target.as_ref();
        let entries = namespaces(&cli, t)?;
        let creds = credentials(&cli, t, &entries)?;
        let selinux_context = selinux_context(&cli, t)?;
        let cgroup = if cli.join_cgroup {
            let path = need_target(t, "--join-cgroup")?.cgroup_v2_path()?;
            Some(cgroup::open_procs(&path)?)
        } else {
            None
        };
        let root = directory(t, "root", &cli.root, "root directory")?;
        let wd = directory(t, "cwd", &cli.wd, "working directory")?;
        let env = if cli.env {
            Some(need_target(t, "--env")?.environ()?)
        } else {
            None
        };
        let fork = !cli.no_fork && entries.iter().any(|e| e.file.kind() == NsKind::Pid);
        Ok(Plan {
            target,
            entries,
            user_first: !privileged(),
            use_pidfd: std::env::var_os(join::PER_FILE_ENV).map_or(true, |v| v != "1"),
            selinux_context,
            cgroup,
            root,
            wd,
            wdns: cli.wdns,
            creds,
            own_proc: OwnProc::open(),
            env,
            fork,
            program: spawn::Program::command_or_login_shell(cli.command),
            trap: cli.trap,
        })
    }
}

/// `-Z`: the target's SELinux context, to run the command in.
fn selinux_context(cli: &Cli, target: Option<&Target>) -> Result<Option<Vec<u8>>> {
    if !cli.follow_context {
        return Ok(None);
    }
    if !Path::new("/sys/fs/selinux/enforce").exists() {
        return Err(
            Error::msg("--follow-context: SELinux is not enabled on this system")
                .hint("there is no SELinux context to follow; drop -Z"),
        );
    }
    need_target(target, "--follow-context")?
        .read("attr/current")
        .map(Some)
}

/// `-r`/`-w`: the directory given, or without one the target's (`/proc/PID/root`, `cwd`),
/// opened now for `fchdir` after entering.
fn directory(
    target: Option<&Target>,
    name: &str,
    given: &Option<Option<PathBuf>>,
    what: &str,
) -> Result<Option<OwnedFd>> {
    match given {
        None => Ok(None),
        Some(Some(d)) => open_dir(d, what).map(Some),
        Some(None) => {
            let t =
                target.ok_or_else(|| Error::msg(format!("--{name} without DIR needs a target")))?;
            let fd = open_dir(Path::new(&format!("/proc/{}/{name}", t.pid())), what)?;
            if !t.pidfd().is_alive() {
                return Err(Error::msg(format!("process {} has exited", t.pid())));
            }
            Ok(Some(fd))
        }
    }
}

/// Open a directory as an O_PATH fd, for `fchdir` after entering.
fn open_dir(path: &Path, what: &str) -> Result<OwnedFd> {
    safefile::open_dir_fd(path)
        .map_err(|e| Error::errno(format!("cannot open {what} {}", path.display()), e))
}

/// Whether we are root with CAP_SYS_ADMIN: then the user namespace is entered last.
fn privileged() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    nix::unistd::geteuid().is_root()
        && sys::caps_permitted().is_ok_and(|c| c & (1 << CAP_SYS_ADMIN) != 0)
}
