//! The signal state the caller had (its mask, its ignored signals, SIGPIPE's disposition
//! from before the Rust runtime ignored it): recorded as the init blocks every signal, and
//! given back to each command right before exec.

use nix::sys::signal::{SigSet, SigmaskHow};

use crate::error::{Error, Result};
use crate::{spawn, sys};

/// The signal state the caller had, given to every command.
#[derive(Debug)]
pub(super) struct Inherited {
    mask: SigSet,
    ignored: Vec<i32>,
}

impl Inherited {
    /// Record the mask and the ignored signals, block everything, and set ignored signals
    /// back to SIG_DFL (still blocked): an ignored signal is discarded when sent and would
    /// never reach the signalfd. SIGCHLD ignored would even make the kernel reap for us.
    pub(super) fn capture_and_block() -> Result<Inherited> {
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
    pub(super) fn restore(&self) {
        if !self.ignored.contains(&libc::SIGPIPE) {
            let _ = spawn::reset_sigpipe();
        }
        for &sig in &self.ignored {
            let _ = sys::set_signal_default(sig, false);
        }
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.mask), None);
    }
}
