//! The steps of nsenter, top to bottom.
//!
//! [`Plan::new`] (see `plan`) does everything that can fail on bad input before anything
//! changes. [`Plan::execute`] then joins the cgroup, enters the namespaces, changes root and
//! directory, sets the credentials and runs the command (forking first when a PID namespace
//! was entered, so the command really is in it).

use std::ffi::OsString;

use nsutils_common::cli::ValueTrap;
use nsutils_common::exit::{self, Outcome};
use nsutils_common::spawn::{self, ForkResult};
use nsutils_common::{Error, Result};

use crate::cli::PROG;
use crate::plan::Plan;
use crate::target::Target;
use crate::{cgroup, forward, join};

impl Plan {
    /// Make the changes, in this order, and run the command.
    pub fn execute(self) -> Result<Outcome> {
        self.set_selinux_context()?;
        if let Some((f, path)) = &self.cgroup {
            cgroup::join(f, path)?;
        }
        join::enter_all(
            self.target.as_ref().map(Target::pidfd),
            &self.entries,
            self.user_first,
            self.use_pidfd,
            &self.own_proc,
        )?;
        // Root and directory before the credentials: chroot needs CAP_SYS_CHROOT, which a
        // uid other than 0 no longer has.
        self.change_root_and_directory()?;
        self.creds.apply(|| self.own_proc.setgroups_denied())?;
        self.take_environment();
        self.run_command()
    }

    /// `-Z`: the target's context for the command's exec.
    fn set_selinux_context(&self) -> Result<()> {
        match &self.selinux_context {
            Some(ctx) => std::fs::write("/proc/thread-self/attr/exec", ctx)
                .map_err(|e| Error::os("cannot set the SELinux exec context", e)),
            None => Ok(()),
        }
    }

    /// `-r`, then `-w` (opened before entering) or `-W` (resolved now, inside).
    fn change_root_and_directory(&self) -> Result<()> {
        if let Some(root) = &self.root {
            nix::unistd::fchdir(root)
                .and_then(|()| nix::unistd::chroot("."))
                .map_err(|e| Error::errno("cannot change the root directory", e))?;
        }
        if let Some(wd) = &self.wd {
            nix::unistd::fchdir(wd)
                .map_err(|e| Error::errno("cannot change the working directory", e))?;
        } else if let Some(dir) = &self.wdns {
            nix::unistd::chdir(dir.as_path()).map_err(|e| {
                Error::errno(format!("cannot change directory to {}", dir.display()), e)
            })?;
        }
        Ok(())
    }

    /// `-e`: the target's environment instead of ours.
    fn take_environment(&self) {
        if let Some(env) = &self.env {
            let old: Vec<OsString> = std::env::vars_os().map(|(k, _)| k).collect();
            for k in old {
                std::env::remove_var(k);
            }
            for (k, v) in env {
                std::env::set_var(k, v);
            }
        }
    }

    /// Run the command: exec it, or — a PID namespace entered — fork it, so that it is in
    /// that namespace, and stand in for it.
    fn run_command(self) -> Result<Outcome> {
        let Plan {
            entries,
            root,
            wd,
            cgroup,
            own_proc,
            target,
            fork,
            program,
            trap,
            ..
        } = self;
        let exec = || ValueTrap::explain(trap.as_ref(), program.exec());
        // Our fds are close-on-exec anyway; closing them early keeps the child's table small.
        drop((entries, root, wd, cgroup, own_proc));
        if !fork {
            drop(target);
            return Err(exec());
        }
        let blocked = forward::block()?;
        match spawn::fork().map_err(fork_error)? {
            ForkResult::Child => {
                drop(target);
                let err = blocked.restore().err().unwrap_or_else(exec);
                exit::print_error(PROG, &err);
                spawn::exit_child(err.exit_code().unwrap_or(exit::TOOL_FAILURE))
            }
            ForkResult::Parent(child) => blocked.supervise(child),
        }
    }
}

/// nsenter forks only into a PID namespace it entered: ENOMEM there means that namespace's
/// init has exited (the kernel then refuses every new process in it), not a lack of memory.
fn fork_error(e: Error) -> Error {
    if e.raw_os_error() == Some(libc::ENOMEM) {
        e.hint(
            "the PID namespace entered has no init: its PID 1 has exited, and a PID namespace \
             cannot take new processes then (keep its first process running, e.g. \
             nsrun -p --persist=DIR sleep infinity &)",
        )
    } else {
        e
    }
}
