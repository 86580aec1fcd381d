//! The init loop: what a PID 1 (or a child subreaper) does for the commands it runs.
//!
//! [`run`] is the whole of it, shared by `nsinit` and `nsrun --init`:
//!
//! * **Signals.** Every signal is blocked and read from a signalfd, so the loop sleeps in one
//!   `poll` with no timer while idle (zero wake-ups; tini wakes every second). Everything read
//!   there except SIGCHLD is forwarded — 1–31 and the real-time signals, TTIN/TTOU/TSTP and the
//!   "synchronous" SEGV/ILL/BUS/FPE/ABRT/TRAP/SYS included: a real fault of the init itself is
//!   force-delivered by the kernel and never reaches the signalfd, so what arrives there was
//!   *sent* (SI_USER, SI_QUEUE, SI_TKILL, SI_KERNEL) and belongs to the workload. Signals the
//!   init sent itself (a SIGPIPE from writing a log line to a closed pipe; the SIGHUP and SIGCONT
//!   that giving up its terminal sends in its name) are dropped.
//! * **Children.** Each command starts with the signal mask and the ignored dispositions the
//!   caller had (SIGPIPE's as it was before the Rust runtime ignored it), in its own process
//!   group (or its own session with `setsid`), in the terminal's foreground when the init owned
//!   it. The init becomes a child subreaper when it is not PID 1.
//! * **Reaping.** On each SIGCHLD, `waitpid(-1, WNOHANG)` until nothing is left: orphans
//!   re-parented to us are reaped as well as the commands.
//! * **Job control.** A TSTP, TTIN or TTOU sent to the init is forwarded and then stops the
//!   init too (as dumb-init does), and so does a stop of the main command while a terminal is
//!   in play: the shell that started the init sees a stopped job, and `fg`/`bg` continue both.
//!   With `setsid` the init gives up its controlling terminal first, so that the command's new
//!   session can take it.
//! * **Shutdown.** When the run is over ([`ExitOn`]), everything left gets SIGTERM (and SIGCONT,
//!   so a stopped process can act on it), then SIGKILL: after [`ReaperConfig::exit_grace`]
//!   when the commands ended on their own, after [`ReaperConfig::grace`] when the init was
//!   told to stop or a command is still running. As PID 1 "everything" is the whole namespace
//!   (`kill(-1)`); otherwise the subreaper's descendants, found through
//!   `/proc/PID/task/TID/children`. SIGTERM or SIGINT sent to the init is forwarded and, if the
//!   commands are still there after the grace period, followed by SIGKILL.
//! * **Outcome.** The main (first) command's exit code, or 128+N when it died by signal N
//!   (PID 1 cannot re-raise a signal on itself), after the `success_codes` remap.

use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::safefile::PidFile;
use crate::spawn::{self, ForkResult};
use crate::sys;

mod job;
use job::{is_job_stop, owns_terminal_foreground, release_terminal};

/// nsinit's default grace period between SIGTERM and SIGKILL when it is told to stop:
/// shorter than the 10 s `docker stop` and most runtimes wait before they SIGKILL the init
/// itself, so the init's own SIGKILL (and its reaping and exit status) comes first.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The default grace period for what is left when the commands ended on their own. tini,
/// dumb-init and catatonit exit at once (as PID 1 the kernel then SIGKILLs the namespace):
/// nobody asked for a graceful shutdown, so only a short one — enough for a process that
/// acts on SIGTERM to remove a socket or flush a log, short enough that a leftover ignoring
/// SIGTERM does not hold the exit (or a container's `--rm`) noticeably.
pub const DEFAULT_EXIT_GRACE: Duration = Duration::from_millis(100);

/// When the init exits, once the run is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitMode {
    /// Shut everything left down (SIGTERM, grace period, SIGKILL) and exit.
    #[default]
    Main,
    /// Shut down the remaining commands only, then wait until every descendant has exited
    /// on its own (SIGINT/SIGTERM sent to the init meanwhile shuts them down after all).
    All,
}

/// Which command exits end the run (with several commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExitOn {
    /// The main (first) command.
    #[default]
    Main,
    /// Any of the commands.
    First,
    /// All of the commands.
    All,
}

/// Knobs of the init loop; `Default` is nsinit's defaults.
#[derive(Debug, Clone)]
pub struct ReaperConfig {
    /// Name used in log lines and error messages (`nsinit`, `nsrun`).
    pub prog: &'static str,
    /// Time between SIGTERM and SIGKILL when the init was told to stop (SIGTERM/SIGINT), and
    /// at shutdown while a command is still running.
    pub grace: Duration,
    /// Time between SIGTERM and SIGKILL for what is left when the commands ended on their
    /// own.
    pub exit_grace: Duration,
    /// What to wait for once the run is over.
    pub wait: WaitMode,
    /// Which command exits end the run.
    pub exit_on: ExitOn,
    /// Forward signals to each command's process group rather than the command alone
    /// (tini `-g`).
    pub process_group: bool,
    /// Start each command as a session leader owning the terminal (the init gives up its
    /// own first); signals go to its process group; TSTP/TTIN/TTOU are forwarded as SIGSTOP
    /// (its group is orphaned) unless `rewrite` names them (dumb-init's default mode).
    pub setsid: bool,
    /// Forward signal `.0` as `.1`; `.1 == 0` drops it (dumb-init `-r`). Last one wins.
    pub rewrite: Vec<(i32, i32)>,
    /// Exit codes of the main command reported as 0 (tini `-e`), applied after 128+N.
    pub success_codes: Vec<u8>,
    /// Parent-death signal for the init itself (tini `-p`); it is forwarded like any other.
    pub parent_death_signal: Option<i32>,
    /// 0 quiet; 1 spawn, forward, exit of each command, shutdown; 2 also every reaped
    /// orphan.
    pub verbosity: u8,
    /// Log `Reaped zombie process with pid=N` for every reaped process that is not a command
    /// (tini `-w`).
    pub log_reaped: bool,
    /// Write the main command's PID (as seen by the init) here; removed at exit.
    pub pid_file: Option<PathBuf>,
    /// When stdin is a terminal whose foreground is the init's process group, hand the
    /// foreground to the main command (job control), and take it back when it stops or exits.
    pub foreground: bool,
    /// Close every fd ≥ 3 in the init after the spawn (the commands keep theirs), so the init
    /// pins nothing. The caller must then own no fd ≥ 3.
    pub close_fds: bool,
    /// `chdir("/")` in the init after the spawn, so it pins no directory.
    pub chdir_root: bool,
    /// Rewrite `LISTEN_PID` to the main command's PID when it names the init (socket
    /// activation).
    pub listen_pid: bool,
    /// An fd (O_CLOEXEC, ≥ 3, unowned: `close_fds` closes it in the init after the spawn) to
    /// which a command's child writes `E` when its exec fails, before it exits: the caller
    /// that handed it over (`nsrun --init`) learns that the command never ran — EOF means it
    /// was executed — and undoes what it persisted for it.
    pub exec_failure_fd: Option<std::os::fd::RawFd>,
}

impl Default for ReaperConfig {
    fn default() -> Self {
        ReaperConfig {
            prog: "nsinit",
            grace: DEFAULT_GRACE,
            exit_grace: DEFAULT_EXIT_GRACE,
            wait: WaitMode::Main,
            exit_on: ExitOn::Main,
            process_group: false,
            setsid: false,
            rewrite: Vec::new(),
            success_codes: Vec::new(),
            parent_death_signal: None,
            verbosity: 0,
            log_reaped: false,
            pid_file: None,
            foreground: true,
            close_fds: true,
            chdir_root: true,
            listen_pid: true,
            exec_failure_fd: None,
        }
    }
}

impl ReaperConfig {
    /// The signal to forward for `sig` (0: drop it): the last rewrite of `sig`, else, with
    /// `setsid`, SIGSTOP for TSTP/TTIN/TTOU (dumb-init's default rewrites: the command's
    /// process group is orphaned, so the kernel discards those three), else `sig`.
    pub fn rewritten(&self, sig: i32) -> i32 {
        match self.rewrite.iter().rev().find(|(from, _)| *from == sig) {
            Some(&(_, to)) => to,
            None if self.setsid && is_job_stop(sig) => libc::SIGSTOP,
            None => sig,
        }
    }

    /// The exit code reported for the main command's outcome.
    pub fn exit_code(&self, outcome: Outcome) -> u8 {
        let code = outcome.shell_code();
        if self.success_codes.contains(&code) {
            0
        } else {
            code
        }
    }
}

/// Run in the process that is (or acts as) init, single-threaded, before it has forked any
/// child: becomes a child subreaper when not PID 1, starts each command as a child (the first
/// is the main one; none: reap until SIGINT/SIGTERM, catatonit's pause mode), reaps every
/// child that exits (orphans included), forwards signals, applies the grace-period shutdown,
/// and returns the main command's outcome as nsinit reports it (`Outcome::Code(code or
/// 128+N)`). Exec failures of the command: 126/127.
pub fn run(cfg: &ReaperConfig, commands: Vec<Vec<OsString>>) -> Result<Outcome> {
    if commands.iter().any(Vec::is_empty) {
        return Err(Error::msg("empty command"));
    }
    spawn::check_single_threaded()?;
    let me = nix::unistd::getpid().as_raw();
    let pid1 = me == 1;
    // Check the pid file before anything starts, so a bad path changes nothing; dropped on
    // a failure, it removes what it made.
    let pid_file = match &cfg.pid_file {
        Some(p) => Some(PidFile::prepare(p).map_err(|e| e.context("--pid-file"))?),
        None => None,
    };
    let prepared = Inherited::capture_and_block().and_then(|inh| {
        if !pid1 {
            nix::sys::prctl::set_child_subreaper(true)
                .map_err(|e| Error::errno("cannot become a child subreaper", e))?;
        }
        if let Some(sig) = cfg.parent_death_signal {
            let parent = nix::unistd::getppid().as_raw();
            spawn::set_parent_death_signal(sig, parent)?;
        }
        Ok(inh)
    });
    let inherited = match prepared {
        Ok(inh) => inh,
        Err(e) => {
            drop(pid_file); // removes what it made
            return Err(e);
        }
    };
    if cfg.setsid {
        release_terminal();
    }
    let foreground = cfg.foreground && !cfg.setsid && owns_terminal_foreground();
    let mut init = Init {
        cfg,
        me,
        pid1,
        cmds: Vec::with_capacity(commands.len()),
        triggered: false,
        kill_at: None,
        killed: false,
        no_children: false,
        foreground,
        pause_exit: false,
        stop_waiting: false,
        stop_requested: false,
        group_stopped: false,
    };
    for (i, argv) in commands.iter().enumerate() {
        match init.spawn(argv, i == 0, &inherited) {
            Ok(pid) => init.cmds.push(Command {
                pid,
                name: argv[0].to_string_lossy().into_owned(),
                outcome: None,
            }),
            Err(e) => {
                init.abort_spawned();
                drop(pid_file); // removes what it made
                return Err(e);
            }
        }
    }
    // Written whole and renamed into place; then only its mark is kept (no fd: every fd
    // is closed below), to remove it at exit if it is still ours. Not written (no command,
    // or it failed): dropped, which removes its temporary file.
    let mut pid_file_mark = None;
    if let (Some(mut pf), Some(main)) = (pid_file, init.cmds.first()) {
        match pf.write(main.pid) {
            Ok(()) => pid_file_mark = Some(pf.into_mark()),
            Err(e) => crate::exit::warn(cfg.prog, e.to_string()),
        }
    }
    if cfg.chdir_root {
        let _ = nix::unistd::chdir("/");
    }
    let closed = if cfg.close_fds {
        close_inherited_fds()
    } else {
        Ok(())
    };
    let sfd = closed.and_then(|()| {
        SignalFd::with_flags(
            &SigSet::all(),
            SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
        )
        .map_err(|e| Error::errno("cannot create a signalfd", e))
    });
    let result = match sfd {
        Ok(sfd) => init.event_loop(&sfd),
        Err(e) => {
            // Without a signalfd nothing can be supervised: take the commands down rather
            // than leave them unreaped.
            init.abort_spawned();
            Err(e)
        }
    };
    if let Some(m) = pid_file_mark {
        m.remove();
    }
    result
}

/// Close every fd from 3 up that the init inherited, so that it pins nothing its parent gave
/// it. Called once the pid file is written and closed, before the signalfd is made.
#[allow(unsafe_code)]
fn close_inherited_fds() -> Result<()> {
    // SAFETY: nothing of ours is open from 3 up at this point: the pid file is closed (only
    // its mark, no fd, is kept), the pidfds and pipes of the spawn are closed, and the
    // signalfd comes after.
    unsafe { sys::close_fds_from(3) }.map_err(|e| Error::os("cannot close inherited fds", e))
}

/// The signal state the caller had, given to every command.
#[derive(Debug)]
struct Inherited {
    mask: SigSet,
    ignored: Vec<i32>,
}

impl Inherited {
    /// Record the mask and the ignored signals, block everything, and set ignored signals
    /// back to SIG_DFL (still blocked): an ignored signal is discarded when sent and would
    /// never reach the signalfd. SIGCHLD ignored would even make the kernel reap for us.
    fn capture_and_block() -> Result<Inherited> {
        let mut mask = SigSet::empty();
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut mask))
            .map_err(|e| Error::errno("cannot block signals", e))?;
        let mut ignored = Vec::new();
        for sig in 1..=libc::SIGRTMAX() {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            let ign = if sig == libc::SIGPIPE {
                sys::sigpipe_ignored_at_start().unwrap_or(false)
            } else {
                sys::signal_is_ignored(sig).unwrap_or(false)
            };
            if ign {
                ignored.push(sig);
            }
            if ign || sig == libc::SIGPIPE {
                // glibc refuses its two internal signals; those stay as they are.
                let _ = sys::set_signal_default(sig, true);
            }
        }
        Ok(Inherited { mask, ignored })
    }

    /// In a forked child: give back the ignores and the mask, right before exec.
    fn restore(&self) {
        if !self.ignored.contains(&libc::SIGPIPE) {
            let _ = spawn::reset_sigpipe();
        }
        for &sig in &self.ignored {
            let _ = sys::set_signal_default(sig, false);
        }
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.mask), None);
    }
}

#[derive(Debug)]
struct Command {
    pid: i32,
    name: String,
    outcome: Option<Outcome>,
}

#[derive(Debug)]
struct Init<'a> {
    cfg: &'a ReaperConfig,
    me: i32,
    pid1: bool,
    cmds: Vec<Command>,
    /// The run is over (ExitOn met, or SIGINT/SIGTERM in pause mode): shutting down.
    triggered: bool,
    /// When the grace period ends and SIGKILL follows.
    kill_at: Option<Instant>,
    /// SIGKILL has been sent to everything left.
    killed: bool,
    /// waitpid said ECHILD: no child is left.
    no_children: bool,
    /// The main command got the terminal's foreground.
    foreground: bool,
    /// Pause mode ended by SIGINT/SIGTERM.
    pause_exit: bool,
    /// SIGINT/SIGTERM arrived while [`WaitMode::All`] was waiting for the descendants: they
    /// are shut down as with [`WaitMode::Main`].
    stop_waiting: bool,
    /// The init was told to stop (SIGTERM/SIGINT forwarded, or ending pause mode): the
    /// shutdown gets the full grace period.
    stop_requested: bool,
    /// As PID 1, the main command's process group stopped on the terminal and we stopped our
    /// own group for it: the next SIGCONT continues the command's whole group.
    group_stopped: bool,
}

impl Init<'_> {
    fn log(&self, level: u8, msg: fmt::Arguments<'_>) {
        if self.cfg.verbosity >= level {
            let _ = writeln!(std::io::stderr().lock(), "{}: {msg}", self.cfg.prog);
        }
    }

    /// Fork and exec one command; returns its PID.
    fn spawn(&self, argv: &[OsString], main: bool, inh: &Inherited) -> Result<i32> {
        match spawn::fork()? {
            ForkResult::Child => {
                let err = self.exec_child(argv, main, inh);
                crate::exit::print_error(self.cfg.prog, &err);
                if let Some(fd) = self.cfg.exec_failure_fd {
                    let _ = sys::write_raw(fd, b"E");
                }
                spawn::exit_child(err.exit_code().unwrap_or(crate::exit::TOOL_FAILURE));
            }
            ForkResult::Parent(pid) => {
                if !self.cfg.setsid {
                    // Also in the parent, so a signal to the group cannot race the child's
                    // own setpgid. EACCES once the child has exec'd is fine: it did it.
                    let _ = nix::unistd::setpgid(Pid::from_raw(pid), Pid::from_raw(pid));
                }
                self.log(
                    1,
                    format_args!("spawned {} as pid {pid}", argv[0].to_string_lossy()),
                );
                Ok(pid)
            }
        }
    }

    /// The child's side of [`Init::spawn`]: returns only on failure.
    fn exec_child(&self, argv: &[OsString], main: bool, inh: &Inherited) -> Error {
        let stdin = std::io::stdin();
        if self.cfg.setsid {
            let _ = nix::unistd::setsid();
            if nix::unistd::isatty(stdin.as_fd()).unwrap_or(false) {
                // Best effort, as dumb-init: fails when another session owns the terminal.
                let _ = sys::set_controlling_terminal(stdin.as_fd());
            }
        } else {
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            if main && self.foreground {
                // Still fully blocked, so SIGTTOU cannot stop us while in the background.
                let _ = nix::unistd::tcsetpgrp(stdin.as_fd(), nix::unistd::getpgrp());
            }
        }
        if main && self.cfg.listen_pid {
            let names_init = std::env::var("LISTEN_PID")
                .ok()
                .and_then(|v| v.trim().parse::<i32>().ok())
                == Some(self.me);
            if names_init {
                std::env::set_var("LISTEN_PID", nix::unistd::getpid().as_raw().to_string());
            }
        }
        inh.restore();
        spawn::exec(argv)
    }

    /// A later command could not be forked: take down the ones already started.
    fn abort_spawned(&mut self) {
        for c in &self.cmds {
            let _ = sys::kill(c.pid, libc::SIGKILL);
            let _ = spawn::wait_for(c.pid);
        }
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&SigSet::all()), None);
    }

    fn event_loop(&mut self, sfd: &SignalFd) -> Result<Outcome> {
        // Children may have exited before the signalfd existed: their SIGCHLD is pending and
        // shows up on the first read, but a pause-mode init with nothing to do must still
        // check once.
        self.reap();
        self.update();
        loop {
            if self.triggered && self.no_children {
                break;
            }
            let timeout = match self.kill_at {
                Some(t) => {
                    let left = t.saturating_duration_since(Instant::now());
                    // Round up so we never spin on a sub-millisecond remainder.
                    PollTimeout::try_from(left + Duration::from_micros(999))
                        .unwrap_or(PollTimeout::MAX)
                }
                None => PollTimeout::NONE,
            };
            let mut fds = [PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
            match nix::poll::poll(&mut fds, timeout) {
                Ok(0) => {
                    if self.kill_at.is_some_and(|t| Instant::now() >= t) {
                        self.escalate();
                    }
                    continue;
                }
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::errno("cannot wait for signals", e)),
            }
            loop {
                match sfd.read_signal() {
                    Ok(Some(info)) => self.on_signal(&info),
                    Ok(None) => break,
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(Error::errno("cannot read the signalfd", e)),
                }
            }
            self.update();
        }
        self.take_terminal_back();
        let outcome = match self.cmds.first() {
            Some(main) => main.outcome.unwrap_or(Outcome::Code(0)),
            None => Outcome::Code(0),
        };
        let code = self.cfg.exit_code(outcome);
        self.log(1, format_args!("exiting with status {code}"));
        Ok(Outcome::Code(code))
    }

    fn on_signal(&mut self, info: &libc::signalfd_siginfo) {
        let sig = info.ssi_signo as i32;
        if sig == libc::SIGCHLD {
            self.reap();
            return;
        }
        let self_sent = info.ssi_pid as i32 == self.me
            && (info.ssi_code == libc::SI_USER || info.ssi_code == libc::SI_TKILL);
        if self_sent {
            return;
        }
        let name = crate::cli::signal_name(sig);
        let stop = sig == libc::SIGINT || sig == libc::SIGTERM;
        if stop && self.triggered && self.cfg.wait == WaitMode::All && !self.stop_waiting {
            // --wait=all was waiting for the descendants to finish on their own; being asked
            // to stop means: shut them down now, with the grace period.
            self.log(
                1,
                format_args!("received SIG{name}, shutting down the descendants"),
            );
            self.stop_waiting = true;
            self.stop_requested = true;
            if self.signal_rest(libc::SIGTERM) {
                self.signal_rest(libc::SIGCONT);
                let deadline = Instant::now() + self.cfg.grace;
                self.kill_at = Some(self.kill_at.map_or(deadline, |t| t.min(deadline)));
            }
            return;
        }
        if self.cmds.is_empty() {
            if sig == libc::SIGINT || sig == libc::SIGTERM {
                self.log(1, format_args!("received SIG{name}, exiting"));
                self.pause_exit = true;
                self.stop_requested = true;
            } else {
                self.log(
                    2,
                    format_args!("received SIG{name}, nobody to forward it to"),
                );
            }
            return;
        }
        if sig == libc::SIGCONT {
            // `fg` continues our job with the terminal ours: hand it to the main command
            // before the command continues (so that it does not stop again on reading it),
            // and continue the whole group that the terminal stopped.
            self.give_terminal();
            if let Some(main) = self.cmds.first().filter(|_| self.group_stopped) {
                let _ = sys::kill(-main.pid, libc::SIGCONT);
            }
            self.group_stopped = false;
        }
        let to = self.cfg.rewritten(sig);
        if to == 0 {
            self.log(1, format_args!("dropped SIG{name}"));
        } else {
            self.forward(to);
            if sig == libc::SIGTERM || sig == libc::SIGINT {
                self.stop_requested = true;
                if !self.triggered && self.kill_at.is_none() {
                    self.kill_at = Some(Instant::now() + self.cfg.grace);
                }
            }
        }
        if is_job_stop(sig) {
            // A job-control stop meant for the job we are part of: stop too, so that the shell
            // that started us sees the job stopped; SIGCONT (fg, bg) comes back through the
            // signalfd and is forwarded. dumb-init does it "even if you rewrite it to
            // something else".
            self.suspend();
        }
    }

    /// The PID to signal for a command: itself, or its process group.
    fn target(&self, pid: i32) -> i32 {
        if self.cfg.process_group || self.cfg.setsid {
            -pid
        } else {
            pid
        }
    }

    fn forward(&self, sig: i32) {
        for c in self.cmds.iter().filter(|c| c.outcome.is_none()) {
            let t = self.target(c.pid);
            let r = sys::kill(t, sig);
            self.log(
                1,
                format_args!(
                    "forwarded SIG{} to {} {}{}",
                    crate::cli::signal_name(sig),
                    if t < 0 { "process group" } else { "pid" },
                    c.pid,
                    if r.is_err() { " (gone)" } else { "" }
                ),
            );
        }
    }

    /// Reap every child that has exited; note stops of the main command.
    fn reap(&mut self) {
        self.reap_with(true);
    }

    /// [`Init::reap`], acting on the stops it reads or not.
    fn reap_with(&mut self, stops: bool) {
        let flags = WaitPidFlag::WNOHANG | WaitPidFlag::WUNTRACED;
        loop {
            match waitpid(Pid::from_raw(-1), Some(flags)) {
                Ok(WaitStatus::StillAlive) => break,
                Ok(WaitStatus::Stopped(pid, _)) if stops => self.on_stop(pid.as_raw()),
                Ok(WaitStatus::Stopped(..)) => {}
                Ok(st) => {
                    let (Some(pid), Some(outcome)) = (st.pid(), spawn::outcome_of(st)) else {
                        continue;
                    };
                    self.on_exit(pid.as_raw(), outcome);
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::ECHILD) => {
                    self.no_children = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if self.killed && !self.no_children {
            // Something may have forked between our sweep and its SIGKILL: sweep again.
            self.signal_rest(libc::SIGKILL);
        }
    }

    fn on_exit(&mut self, pid: i32, outcome: Outcome) {
        let idx = self.cmds.iter().position(|c| c.pid == pid);
        match idx {
            Some(i) => {
                self.log(
                    1,
                    format_args!(
                        "{} (pid {pid}) {}",
                        self.cmds[i].name,
                        match outcome {
                            Outcome::Code(c) => format!("exited with status {c}"),
                            Outcome::Signal(s) =>
                                format!("was killed by SIG{}", crate::cli::signal_name(s)),
                        }
                    ),
                );
                self.cmds[i].outcome = Some(outcome);
                if i == 0 {
                    self.take_terminal_back();
                }
            }
            None => {
                if self.cfg.log_reaped {
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "{}: Reaped zombie process with pid={pid}",
                        self.cfg.prog
                    );
                } else {
                    self.log(2, format_args!("reaped pid {pid}"));
                }
            }
        }
    }

    /// Move to shutdown when the commands say the run is over.
    fn update(&mut self) {
        if self.triggered {
            return;
        }
        let over = if self.cmds.is_empty() {
            self.pause_exit
        } else {
            let done = |c: &Command| c.outcome.is_some();
            match self.cfg.exit_on {
                ExitOn::Main => done(&self.cmds[0]),
                ExitOn::First => self.cmds.iter().any(done),
                ExitOn::All => self.cmds.iter().all(done),
            }
        };
        if !over {
            return;
        }
        self.triggered = true;
        self.log(1, format_args!("shutting down"));
        // The full grace period when we were told to stop or a command is still running
        // (they were started on purpose); the short one for leftovers alone.
        let grace = if self.stop_requested || self.cmds.iter().any(|c| c.outcome.is_none()) {
            self.cfg.grace
        } else {
            self.cfg.exit_grace
        };
        let any = self.signal_rest(libc::SIGTERM);
        if any {
            self.signal_rest(libc::SIGCONT);
            let deadline = Instant::now() + grace;
            self.kill_at = Some(self.kill_at.map_or(deadline, |t| t.min(deadline)));
        }
        // Nothing may be left at all.
        self.reap();
    }

    /// The grace period is over: SIGKILL.
    fn escalate(&mut self) {
        self.kill_at = None;
        if self.triggered {
            self.log(1, format_args!("grace period over, sending SIGKILL"));
            self.killed = true;
            self.signal_rest(libc::SIGKILL);
        } else {
            // SIGTERM/SIGINT reached the commands a grace period ago and they are still here.
            self.log(1, format_args!("grace period over, killing the commands"));
            for c in self.cmds.iter().filter(|c| c.outcome.is_none()) {
                let _ = sys::kill(self.target(c.pid), libc::SIGKILL);
            }
        }
    }

    /// Send `sig` to what shutdown concerns: the live commands, and with [`WaitMode::Main`]
    /// everything else left (the namespace as PID 1, the descendants otherwise). Returns
    /// whether anything was there to signal.
    fn signal_rest(&self, sig: i32) -> bool {
        let mut any = false;
        for c in self.cmds.iter().filter(|c| c.outcome.is_none()) {
            any |= sys::kill(self.target(c.pid), sig).is_ok();
        }
        if self.cfg.wait == WaitMode::All && !self.stop_waiting {
            return any;
        }
        if self.pid1 {
            any |= sys::kill(-1, sig).is_ok();
        } else {
            // A deeper descendant could exit and its PID be reused between the walk and the
            // kill; our own children cannot (only we reap them), and the window is a few
            // microseconds of a shutdown.
            for pid in descendants(self.me) {
                any |= sys::kill(pid, sig).is_ok();
            }
        }
        any
    }
}

/// Every descendant of `me`, from `/proc/PID/task/TID/children` (or, without it, a scan of
/// every `/proc/PID/stat`). Empty when `/proc` belongs to another PID namespace: its numbers
/// would name other processes.
pub fn descendants(me: i32) -> Vec<i32> {
    let ours = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str().and_then(|s| s.parse::<i32>().ok()))
        == Some(nix::unistd::getpid().as_raw());
    if !ours {
        return Vec::new();
    }
    if std::path::Path::new(&format!("/proc/{me}/task/{me}/children")).exists() {
        let mut out = Vec::new();
        let mut stack = vec![me];
        while let Some(p) = stack.pop() {
            let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
                continue;
            };
            for t in tasks.flatten() {
                let mut path = t.path();
                path.push("children");
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for c in text
                    .split_whitespace()
                    .filter_map(|s| s.parse::<i32>().ok())
                {
                    out.push(c);
                    stack.push(c);
                }
            }
        }
        return out;
    }
    // Fallback: a parent map of the whole of /proc.
    let mut parent: Vec<(i32, i32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            if let Some(ppid) = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().nth(1))
                .and_then(|s| s.parse::<i32>().ok())
            {
                parent.push((pid, ppid));
            }
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![me];
    while let Some(p) = stack.pop() {
        for &(c, _) in parent.iter().filter(|(_, pp)| *pp == p) {
            out.push(c);
            stack.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_last_wins_and_zero_drops() {
        let cfg = ReaperConfig {
            rewrite: vec![(15, 2), (15, 3), (10, 0)],
            ..ReaperConfig::default()
        };
        assert_eq!(cfg.rewritten(15), 3);
        assert_eq!(cfg.rewritten(10), 0);
        assert_eq!(cfg.rewritten(1), 1);
        assert_eq!(cfg.rewritten(libc::SIGTSTP), libc::SIGTSTP);
    }

    /// dumb-init's setsid mode: TSTP/TTIN/TTOU become SIGSTOP unless rewritten.
    #[test]
    fn setsid_stops_with_sigstop_unless_rewritten() {
        let cfg = ReaperConfig {
            setsid: true,
            rewrite: vec![
                (libc::SIGTTIN, libc::SIGTTIN),
                (libc::SIGUSR1, libc::SIGTSTP),
            ],
            ..ReaperConfig::default()
        };
        assert_eq!(cfg.rewritten(libc::SIGTSTP), libc::SIGSTOP);
        assert_eq!(cfg.rewritten(libc::SIGTTOU), libc::SIGSTOP);
        assert_eq!(cfg.rewritten(libc::SIGTTIN), libc::SIGTTIN);
        assert_eq!(cfg.rewritten(libc::SIGUSR1), libc::SIGTSTP);
        assert_eq!(cfg.rewritten(libc::SIGHUP), libc::SIGHUP);
    }

    #[test]
    fn exit_codes_and_remaps() {
        let cfg = ReaperConfig {
            success_codes: vec![143, 3],
            ..ReaperConfig::default()
        };
        assert_eq!(cfg.exit_code(Outcome::Code(3)), 0);
        assert_eq!(cfg.exit_code(Outcome::Code(4)), 4);
        assert_eq!(cfg.exit_code(Outcome::Signal(15)), 0);
        assert_eq!(cfg.exit_code(Outcome::Signal(9)), 137);
    }

    #[test]
    fn defaults() {
        let cfg = ReaperConfig::default();
        assert_eq!(cfg.grace, DEFAULT_GRACE);
        assert_eq!(cfg.exit_grace, DEFAULT_EXIT_GRACE);
        assert_eq!(cfg.wait, WaitMode::Main);
        assert_eq!(cfg.exit_on, ExitOn::Main);
        assert!(cfg.close_fds && cfg.chdir_root && cfg.listen_pid && cfg.foreground);
    }

    #[test]
    fn descendants_of_a_process_without_children() {
        // A fresh `sleep` has no children; the walk must find none and not fail.
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let me = std::process::id() as i32;
        assert!(descendants(me).contains(&(child.id() as i32)));
        assert!(descendants(child.id() as i32).is_empty());
        let _ = child.kill();
        let _ = child.wait();
    }
}
