//! Terminal and job control for the init loop: who owns the terminal's foreground, handing it
//! to the main command and back, and stopping the init with its job — TSTP/TTIN/TTOU sent to
//! it, or the main command stopped on the terminal — so that the shell that started it sees a
//! stopped job (dumb-init's behaviour, described in its README). With `setsid`, giving up the
//! init's own controlling terminal so that the command's session can take it.

use std::os::fd::AsFd;

use nix::unistd::Pid;

use super::Init;
use crate::sys;

/// TSTP, TTIN and TTOU: the signals a terminal's job control stops a job with.
pub(super) fn is_job_stop(sig: i32) -> bool {
    matches!(sig, libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU)
}

/// For `setsid`: the command is to lead a new session owning the terminal, which it can only
/// take if no session owns it any more, so give up ours (TIOCNOTTY; nothing happens if stdin
/// is not our controlling terminal), as dumb-init does. As the leader of the session that
/// owned it, that sends SIGHUP and SIGCONT to the terminal's foreground process group — us,
/// when we were in the foreground. They are not forwarded (a SIGHUP would end the command):
/// the kernel sends them in our name (SI_USER, our PID), and the loop never forwards what we
/// sent ourselves.
fn release_terminal() {
    let _ = sys::release_controlling_terminal(std::io::stdin().as_fd());
}

/// At start: with `setsid`, give up our controlling terminal ([`release_terminal`]) and
/// keep no foreground; otherwise whether the main command is to get the terminal's
/// foreground (`foreground` asked for, and ours to give).
pub(super) fn foreground_at_start(foreground: bool, setsid: bool) -> bool {
    if setsid {
        release_terminal();
        return false;
    }
    foreground && owns_terminal_foreground()
}

/// Whether stdin is our controlling terminal (tcgetpgrp fails with ENOTTY otherwise): a
/// shell's job control may then be watching us.
fn has_controlling_terminal() -> bool {
    nix::unistd::tcgetpgrp(std::io::stdin().as_fd()).is_ok()
}

/// Whether stdin is our controlling terminal and its foreground process group is ours.
///
/// Not by comparing `tcgetpgrp` with `getpgrp`: in a PID namespace (`unshare -pf nsinit`)
/// both groups may be invisible and both numbers 0. A zero-length read tells: the kernel
/// fails it with EIO for a background group when SIGTTIN is blocked (as it is while the init
/// runs) and returns 0 in the foreground, without reading anything.
fn owns_terminal_foreground() -> bool {
    let stdin = std::io::stdin();
    has_controlling_terminal() && nix::unistd::read(stdin.as_fd(), &mut []).is_ok()
}

impl Init<'_> {
    /// The main command stopped (Ctrl-Z, or TTIN/TTOU in the background) and a terminal's job
    /// control is in play: stop too, so that our parent's shell sees a stopped job, and once
    /// continued continue the command's process group (in the foreground on `fg`).
    ///
    /// PID 1 cannot stop itself, but the job that started it (`unshare -pf nsinit …` at a
    /// shell prompt, in our process group) can: it gets a SIGTSTP, and our SIGCONT handler
    /// gives the terminal back on `fg`. In a container we lead our own group, and nothing
    /// happens.
    pub(super) fn on_stop(&mut self, pid: i32) {
        let is_main = self.cmds.first().is_some_and(|c| c.pid == pid);
        if !is_main || self.cfg.setsid || !has_controlling_terminal() {
            return;
        }
        if self.pid1 {
            self.take_terminal_back();
            self.log(1, format_args!("{pid} stopped; stopping our process group"));
            self.group_stopped = true;
            let _ = sys::kill(0, libc::SIGTSTP);
            return;
        }
        self.log(1, format_args!("{pid} stopped; stopping too"));
        self.suspend();
        let _ = sys::kill(-pid, libc::SIGCONT);
    }

    /// Stop ourselves (SIGSTOP), after taking the terminal back from the main command; once
    /// continued, give it to the command again if we are in the foreground (`fg`, not
    /// `bg`). PID 1 cannot stop itself (the kernel drops its own SIGSTOP): nothing to do.
    pub(super) fn suspend(&mut self) {
        if self.pid1 {
            return;
        }
        self.take_terminal_back();
        // A pending SIGCONT means we were continued before we could stop, and our SIGSTOP
        // would discard it: then do not stop at all.
        if !sys::signal_pending(libc::SIGCONT) {
            self.log(1, format_args!("stopping"));
            let _ = sys::kill(self.me, libc::SIGSTOP);
        }
        // Continued. The commands are continued by the SIGCONT forwarded next; their stop
        // reports from before are stale: read them now, not as new stops.
        self.reap_with(false);
        self.give_terminal();
    }

    /// SIGCONT: `fg` continues our job with the terminal ours: hand it to the main command
    /// before the command continues (so that it does not stop again on reading it), and
    /// continue the whole group that the terminal stopped.
    pub(super) fn on_continue(&mut self) {
        self.give_terminal();
        if let Some(main) = self.cmds.first().filter(|_| self.group_stopped) {
            let _ = sys::kill(-main.pid, libc::SIGCONT);
        }
        self.group_stopped = false;
    }

    /// Hand the terminal's foreground to the main command, if we hold it and the command is
    /// still running (job control).
    pub(super) fn give_terminal(&mut self) {
        let Some(main) = self.cmds.first().filter(|c| c.outcome.is_none()) else {
            return;
        };
        if self.cfg.foreground && !self.cfg.setsid && owns_terminal_foreground() {
            let stdin = std::io::stdin();
            let _ = nix::unistd::tcsetpgrp(stdin.as_fd(), Pid::from_raw(main.pid));
            self.foreground = true;
        }
    }

    /// Take the terminal's foreground back from the main command's process group, if we gave
    /// it and it is still there (never from the shell that put us in the background).
    pub(super) fn take_terminal_back(&mut self) {
        let Some(main) = self.cmds.first() else {
            return;
        };
        if std::mem::take(&mut self.foreground) {
            let stdin = std::io::stdin();
            if nix::unistd::tcgetpgrp(stdin.as_fd()).is_ok_and(|g| g.as_raw() == main.pid) {
                let _ = nix::unistd::tcsetpgrp(stdin.as_fd(), nix::unistd::getpgrp());
            }
        }
    }
}
