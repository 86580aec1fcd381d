//! Fork the command and stand in for it: the parent forwards the signals it is sent to the
//! child and ends the way the child ends (its exit code, or dying of its fatal signal).
//!
//! Single-threaded: the forwarded signals (and SIGCHLD) are blocked before `fork`, so none
//! is lost in between, and the parent reads them from a signalfd. The child restores the
//! original mask before exec. Signals the kernel sends for the terminal (Ctrl-C: `si_code`
//! SI_KERNEL) already reach the child, which is in the same foreground process group, so
//! they are not forwarded a second time.

use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;
use nsutils_common::exit::Outcome;
use nsutils_common::spawn;
use nsutils_common::{sys, Error, Result};

/// The signals passed on to the command.
const FORWARDED: [Signal; 9] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGWINCH,
    Signal::SIGCONT,
];

/// `si_code` of a signal the kernel generated (a terminal's Ctrl-C, Ctrl-\).
const SI_KERNEL: i32 = 0x80;

/// Signals blocked around the fork; restore with [`Blocked::restore`].
#[derive(Debug)]
pub struct Blocked {
    old: SigSet,
    set: SigSet,
}

/// Block the forwarded signals and SIGCHLD.
pub fn block() -> Result<Blocked> {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
    let mut old = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))
        .map_err(|e| Error::errno("cannot block signals", e))?;
    Ok(Blocked { old, set })
}

impl Blocked {
    /// Put the signal mask back as it was (in the child, before exec).
    pub fn restore(&self) -> Result<()> {
        sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.old), None)
            .map_err(|e| Error::errno("cannot restore the signal mask", e))
    }

    /// In the parent: forward signals to `child` until it ends; say how it ended.
    pub fn supervise(&self, child: i32) -> Result<Outcome> {
        let sfd = SignalFd::with_flags(&self.set, SfdFlags::SFD_CLOEXEC)
            .map_err(|e| Error::errno("cannot create a signalfd", e))?;
        let pid = Pid::from_raw(child);
        loop {
            // Reap first: the child may have ended before the signalfd existed (its SIGCHLD
            // is then pending and read below anyway).
            match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(st) => {
                    if let Some(o) = spawn::outcome_of(st) {
                        return Ok(o);
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::errno(format!("cannot wait for process {child}"), e)),
            }
            let info = match sfd.read_signal() {
                Ok(Some(info)) => info,
                Ok(None) | Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::errno("cannot read the signalfd", e)),
            };
            let sig = info.ssi_signo as i32;
            if sig == libc::SIGCHLD || info.ssi_code == SI_KERNEL {
                continue;
            }
            // The child may be gone already: then the next waitpid reports it.
            let _ = sys::kill(child, sig);
        }
    }
}
