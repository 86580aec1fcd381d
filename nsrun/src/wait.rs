//! The parent's wait for the command: plain `waitpid`, or — with `--timeout` or
//! `--forward-signals` — a `poll` on the child's pidfd, a signalfd and the deadline.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signalfd::SignalFd;
use nsutils_common::exit::{Outcome, TIMEOUT};
use nsutils_common::pidfd::PidFd;
use nsutils_common::{spawn, Error, Result};

/// Wait for `child`; forward what arrives on `signals`; kill it at `timeout` (its PID
/// namespace dies with it when it is that namespace's PID 1) and report 124.
pub fn wait(child: i32, timeout: Option<Duration>, signals: Option<&SignalFd>) -> Result<Outcome> {
    if timeout.is_none() && signals.is_none() {
        return spawn::wait_for(child);
    }
    let pidfd = PidFd::open(child)?;
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let wait_ms = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up, so we never wake a millisecond early and spin.
                let ms = left.as_millis().saturating_add(1).min(i32::MAX as u128);
                PollTimeout::try_from(ms as i32).unwrap_or(PollTimeout::MAX)
            }
        };
        let (child_done, sig_ready) = {
            let mut fds = vec![PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
            if let Some(s) = signals {
                fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, wait_ms) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::errno("cannot poll", e)),
            }
            let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
            (ready(&fds[0]), fds.get(1).is_some_and(ready))
        };
        if child_done {
            return spawn::wait_for(child);
        }
        if sig_ready {
            if let Some(Ok(Some(info))) = signals.map(SignalFd::read_signal) {
                // The child may be gone already; its exit shows up on the pidfd next.
                let _ = pidfd.signal(info.ssi_signo as i32);
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = pidfd.signal(libc::SIGKILL);
            spawn::wait_for(child)?;
            return Ok(Outcome::Code(TIMEOUT));
        }
    }
}
