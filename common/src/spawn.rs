//! Fork, exec and wait, the way every tool needs them.
//!
//! * The tools stay single-threaded until they exec: `unshare(CLONE_NEWUSER)` and `setns`
//!   into user and mount namespaces fail in a multithreaded process, and `fork` is only
//!   sound without other threads. [`check_single_threaded`] says so up front.
//! * Before exec: SIGPIPE back to its default (Rust ignores it at start-up, and an ignored
//!   signal survives exec): [`reset_sigpipe`], done by [`Program::exec`]. Every fd the tools
//!   open is close-on-exec; the fds their caller gave them pass on to the command.
//! * Exec failure maps to 127 (not found) or 126 (found, not executable).
//! * A wait status becomes an [`Outcome`] (which [`crate::exit::report`] turns into the
//!   tool's own end, dying of the child's fatal signal).

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::exit::{self, Outcome};
use crate::sys;

pub use crate::sys::ForkResult;

/// Fail unless the process has exactly one thread: up front, before the first `setns` or
/// `unshare` (which fail in a multithreaded process), for a clear message.
/// [`fork`] checks again itself.
pub fn check_single_threaded() -> Result<()> {
    match sys::thread_count() {
        Ok(0 | 1) => Ok(()),
        Ok(n) => Err(Error::msg(format!(
            "internal error: {n} threads where one is required"
        ))),
        // No /proc (an init started in a bare image before anything mounts it): nothing to
        // check against. The tools never start threads, so this is a sanity check only and
        // must not stop them from working.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::os("cannot read /proc/self/task", e)),
    }
}

/// Before exec: SIGPIPE back to its default. The Rust runtime (and `sys::run_main`) ignore
/// it, and an ignored signal stays ignored across exec: the command would get EPIPE where
/// it expects to die quietly (`yes | head`).
pub fn reset_sigpipe() -> Result<()> {
    sys::set_signal_default(libc::SIGPIPE, true).map_err(|e| Error::os("cannot reset SIGPIPE", e))
}

/// A pipe, both ends close-on-exec: (read, write).
pub fn pipe() -> Result<(std::fs::File, std::fs::File)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| Error::errno("cannot create a pipe", e))?;
    Ok((r.into(), w.into()))
}

/// `fork(2)`, for the single-threaded tools (refused with more than one thread).
pub fn fork() -> Result<ForkResult> {
    sys::fork().map_err(|e| Error::os("cannot fork", e))
}

/// End a forked child at once (no atexit handlers, no double-flushed buffers).
pub fn exit_child(code: u8) -> ! {
    sys::exit_now(i32::from(code))
}

fn cstring(s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        Error::msg(format!(
            "argument contains a NUL byte: {}",
            s.to_string_lossy()
        ))
    })
}

/// Replace the process with `argv[0]`, looked up in PATH. Returns only on failure, with the
/// error carrying 127 (not found) or 126 (not executable). The signal dispositions are the
/// caller's business (see [`reset_sigpipe`]).
pub fn exec(argv: &[OsString]) -> Error {
    let Some(prog) = argv.first() else {
        return Error::msg("no command given");
    };
    let args: Result<Vec<CString>> = argv.iter().map(|a| cstring(a)).collect();
    let (prog_c, args) = match (cstring(prog), args) {
        (Ok(p), Ok(a)) => (p, a),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let Err(errno) = nix::unistd::execvp(&prog_c, &args);
    exec_error(prog, errno)
}

/// The error for a failed exec of `prog`, with the right exit code.
pub fn exec_error(prog: &OsStr, errno: Errno) -> Error {
    let code = match errno {
        Errno::ENOENT | Errno::ENOTDIR => exit::NOT_FOUND,
        _ => exit::NOT_EXECUTABLE,
    };
    Error::errno(
        format!("failed to execute {}", prog.to_string_lossy()),
        errno,
    )
    .code(code)
}

/// The user's shell, for tools run without a command: `$SHELL`, else `/bin/sh`.
pub fn user_shell() -> OsString {
    match std::env::var_os("SHELL") {
        Some(s) if !s.is_empty() => s,
        _ => OsString::from("/bin/sh"),
    }
}

/// What nsrun and nsenter run: the command given, looked up in `PATH` — or, given none, the
/// user's login shell as util-linux runs it: [`user_shell`] executed by that path, with
/// argv\[0\] `-NAME` (`-bash`), so that it reads the profile of the namespaces it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The command's name or path (the shell's path for a login shell).
    pub path: OsString,
    /// Its arguments, argv\[0\] included.
    pub argv: Vec<OsString>,
    login: bool,
}

impl Program {
    /// `argv` as typed: run by name, looked up in `PATH` (never the login shell).
    pub fn command(argv: Vec<OsString>) -> Program {
        Program {
            path: argv.first().cloned().unwrap_or_default(),
            argv,
            login: false,
        }
    }

    /// `cmd`, or the login shell when it is empty.
    pub fn command_or_login_shell(cmd: Vec<OsString>) -> Program {
        if !cmd.is_empty() {
            return Program::command(cmd);
        }
        let path = user_shell();
        let name = std::path::Path::new(&path)
            .file_name()
            .map_or_else(|| path.clone(), OsStr::to_os_string);
        let mut arg0 = OsString::from("-");
        arg0.push(name);
        Program {
            path,
            argv: vec![arg0],
            login: true,
        }
    }

    /// Whether this is the login shell (no command was given).
    pub fn is_login_shell(&self) -> bool {
        self.login
    }

    /// Replace the process with it ([`Program::exec_keeping_signals`]), SIGPIPE back to its
    /// default first ([`reset_sigpipe`]). Returns only on failure.
    pub fn exec(&self) -> Error {
        if let Err(e) = reset_sigpipe() {
            return e;
        }
        self.exec_keeping_signals()
    }

    /// Replace the process with it: a command through [`exec`], the login shell by its path,
    /// without a `PATH` search (as util-linux), with its `-NAME` argv\[0\]. The signal
    /// dispositions stay as they are: for a caller that set them up itself (the reaper
    /// gives back the ones it inherited). Returns only on failure.
    pub fn exec_keeping_signals(&self) -> Error {
        if !self.login {
            return exec(&self.argv);
        }
        let args: Result<Vec<CString>> = self.argv.iter().map(|a| cstring(a)).collect();
        let (path, args) = match (cstring(&self.path), args) {
            (Ok(p), Ok(a)) => (p, a),
            (Err(e), _) | (_, Err(e)) => return e,
        };
        let Err(errno) = nix::unistd::execv(&path, &args);
        exec_error(&self.path, errno)
    }
}

/// What a wait status means for the waiting tool; `None` for a stop or continue.
pub fn outcome_of(status: WaitStatus) -> Option<Outcome> {
    match status {
        WaitStatus::Exited(_, code) => Some(Outcome::Code(code as u8)),
        WaitStatus::Signaled(_, sig, _) => Some(Outcome::Signal(sig as i32)),
        _ => None,
    }
}

/// Wait for child `pid` to end (retrying on EINTR, skipping stops) and say how it ended.
pub fn wait_for(pid: i32) -> Result<Outcome> {
    loop {
        match waitpid(Pid::from_raw(pid), None) {
            Ok(st) => {
                if let Some(o) = outcome_of(st) {
                    return Ok(o);
                }
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Error::errno(format!("cannot wait for process {pid}"), e)),
        }
    }
}

/// Set the parent-death signal and close the race where the parent already died before
/// it was set: if our parent is no longer `expected_parent`, raise the signal now.
pub fn set_parent_death_signal(sig: i32, expected_parent: i32) -> Result<()> {
    let s = Signal::try_from(sig)
        .map_err(|_| Error::msg(format!("signal {sig} cannot be a parent-death signal")))?;
    nix::sys::prctl::set_pdeathsig(s)
        .map_err(|e| Error::errno("cannot set PR_SET_PDEATHSIG", e))?;
    if nix::unistd::getppid().as_raw() != expected_parent {
        let _ = sys::kill(nix::unistd::getpid().as_raw(), sig);
    }
    Ok(())
}

/// [`set_parent_death_signal`] for a child in a new PID namespace, where `getppid()` returns
/// 0 and cannot tell whether the parent is still there: the parent opened a pidfd on itself
/// before forking (`parent`), and a pidfd becomes readable once its process has exited. If
/// it already has, raise the signal now.
pub fn set_parent_death_signal_pidfd(sig: i32, parent: &crate::pidfd::PidFd) -> Result<()> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let s = Signal::try_from(sig)
        .map_err(|_| Error::msg(format!("signal {sig} cannot be a parent-death signal")))?;
    nix::sys::prctl::set_pdeathsig(s)
        .map_err(|e| Error::errno("cannot set PR_SET_PDEATHSIG", e))?;
    let mut fds = [PollFd::new(parent.as_fd(), PollFlags::POLLIN)];
    let gone = matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0);
    if gone {
        let _ = sys::kill(nix::unistd::getpid().as_raw(), sig);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_errors_map_to_126_and_127() {
        let e = exec_error(OsStr::new("nope"), Errno::ENOENT);
        assert_eq!(e.exit_code(), Some(127));
        assert_eq!(
            e.to_string(),
            "failed to execute nope: No such file or directory"
        );
        assert_eq!(
            exec_error(OsStr::new("x"), Errno::EACCES).exit_code(),
            Some(126)
        );
        assert_eq!(
            exec_error(OsStr::new("x"), Errno::ENOEXEC).exit_code(),
            Some(126)
        );
    }

    #[test]
    fn wait_statuses() {
        let p = Pid::from_raw(1);
        assert_eq!(outcome_of(WaitStatus::Exited(p, 3)), Some(Outcome::Code(3)));
        assert_eq!(
            outcome_of(WaitStatus::Signaled(p, Signal::SIGTERM, false)),
            Some(Outcome::Signal(15))
        );
        assert_eq!(outcome_of(WaitStatus::Stopped(p, Signal::SIGSTOP)), None);
    }

    #[test]
    fn login_shell_fallback() {
        let p = Program::command_or_login_shell(vec!["ls".into(), "-l".into()]);
        assert_eq!((p.path.as_os_str(), p.argv.len()), (OsStr::new("ls"), 2));
        assert!(!p.is_login_shell());
        let p = Program::command_or_login_shell(vec![]);
        assert!(p.is_login_shell());
        let name = std::path::Path::new(&p.path).file_name().expect("name");
        let mut want = OsString::from("-");
        want.push(name);
        assert_eq!(p.argv, [want]);
    }

    /// The test harness runs tests on threads of its own: fork refuses.
    #[test]
    fn fork_refuses_with_threads() {
        let t = std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_secs(2)));
        let e = fork().expect_err("forked with two threads");
        assert!(e.to_string().starts_with("cannot fork: "), "{e}");
        assert!(
            e.to_string().ends_with("threads where one is required"),
            "{e}"
        );
        assert!(check_single_threaded().is_err());
        t.join().expect("join");
    }
}
