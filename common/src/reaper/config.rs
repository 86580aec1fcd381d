//! What the init loop is told: [`ReaperConfig`] with nsinit's defaults, and the two
//! answers derived from it alone — the signal to forward for one received, and the exit code
//! reported for the main command's outcome.

use std::path::PathBuf;
use std::time::Duration;

use super::job::is_job_stop;
use crate::exit::Outcome;

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
}
