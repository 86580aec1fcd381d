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
//!   (`kill(-1)`); otherwise the subreaper's descendants ([`crate::proc::descendants`]). SIGTERM or SIGINT sent to the init is forwarded and, if the
//!   commands are still there after the grace period, followed by SIGKILL.
//! * **Outcome.** The main (first) command's exit code, or 128+N when it died by signal N
//!   (PID 1 cannot re-raise a signal on itself), after the `success_codes` remap.
//!
//! Each part has its module, and [`run`] calls them in order, one named step each:
//! `config` ([`ReaperConfig`]: what the loop is told), `inherited` (the caller's signal
//! state), `start` (the commands), `event_loop` (the one `poll`), `signals` (what each signal
//! does), `reap`, `job` (terminal and job control) and `shutdown`.

use std::fmt;
use std::io::Write;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::safefile::{Mark, PidFile};
use crate::spawn;

mod config;
mod event_loop;
mod inherited;
mod job;
mod reap;
mod shutdown;
mod signals;
mod start;

pub use crate::proc::descendants;
pub use config::{ExitOn, ReaperConfig, WaitMode, DEFAULT_EXIT_GRACE, DEFAULT_GRACE};
use inherited::Inherited;

/// Run in the process that is (or acts as) init, single-threaded, before it has forked any
/// child: becomes a child subreaper when not PID 1, starts each command as a child (the first
/// is the main one; none: reap until SIGINT/SIGTERM, catatonit's pause mode), reaps every
/// child that exits (orphans included), forwards signals, applies the grace-period shutdown,
/// and returns the main command's outcome as nsinit reports it (`Outcome::Code(code or
/// 128+N)`). Exec failures of the command: 126/127. A [`spawn::Program`] runs as it says: a
/// command by `PATH`, the login shell by its path with its `-NAME` argv\[0\].
///
/// Anything that fails before the commands run changes nothing: the pid file it prepared is
/// removed (dropped), the commands already started are killed.
pub fn run(cfg: &ReaperConfig, commands: Vec<spawn::Program>) -> Result<Outcome> {
    if commands.iter().any(|p| p.argv.is_empty()) {
        return Err(Error::msg("empty command"));
    }
    spawn::check_single_threaded()?;
    let me = nix::unistd::getpid().as_raw();
    let pid_file = prepare_pid_file(cfg)?;
    let inherited = become_init(cfg, me == 1)?;
    let mut init = Init::new(cfg, me, commands.len());
    init.start(&commands, &inherited)?;
    let mark = pid_file.and_then(|pf| init.write_pid_file(pf));
    let result = init.supervise();
    if let Some(m) = mark {
        m.remove();
    }
    result
}

/// Check the pid file's path before anything starts, so that a bad path changes nothing.
fn prepare_pid_file(cfg: &ReaperConfig) -> Result<Option<PidFile>> {
    cfg.pid_file
        .as_deref()
        .map(|p| PidFile::prepare(p).map_err(|e| e.context("--pid-file")))
        .transpose()
}

/// Block every signal (recording what the commands inherit), become a child subreaper when
/// not PID 1, and set the parent-death signal.
fn become_init(cfg: &ReaperConfig, pid1: bool) -> Result<Inherited> {
    let inherited = Inherited::capture_and_block()?;
    if !pid1 {
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| Error::errno("cannot become a child subreaper", e))?;
    }
    if let Some(sig) = cfg.parent_death_signal {
        let parent = nix::unistd::getppid().as_raw();
        spawn::set_parent_death_signal(sig, parent)?;
    }
    Ok(inherited)
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

impl<'a> Init<'a> {
    fn new(cfg: &'a ReaperConfig, me: i32, commands: usize) -> Init<'a> {
        Init {
            cfg,
            me,
            pid1: me == 1,
            cmds: Vec::with_capacity(commands),
            triggered: false,
            kill_at: None,
            killed: false,
            no_children: false,
            foreground: job::foreground_at_start(cfg.foreground, cfg.setsid),
            pause_exit: false,
            stop_waiting: false,
            stop_requested: false,
            group_stopped: false,
        }
    }

    fn log(&self, level: u8, msg: fmt::Arguments<'_>) {
        if self.cfg.verbosity >= level {
            let _ = writeln!(std::io::stderr().lock(), "{}: {msg}", self.cfg.prog);
        }
    }

    /// Write the main command's PID, whole and renamed into place; then keep only its mark
    /// (no fd: every fd is closed next), to remove it at exit if it is still ours. Not
    /// written (no command, or it failed: a warning), it is dropped, which removes its
    /// temporary file.
    fn write_pid_file(&self, mut pf: PidFile) -> Option<Mark> {
        let main = self.cmds.first()?;
        match pf.write(main.pid) {
            Ok(()) => Some(pf.into_mark()),
            Err(e) => {
                crate::exit::warn(self.cfg.prog, e.to_string());
                None
            }
        }
    }
}
