//! The integration-test harness: run the built binaries against the real kernel.
//!
//! * [`bin`] finds our binaries by path, never through `PATH` (our `nsenter` has
//!   util-linux's name), and builds them first when they are missing or older than their
//!   sources, so that a plain `cargo test` never runs stale ones (module `bins`).
//! * [`Cmd`] runs a program with a time limit; a failed expectation panics with the
//!   command, status, stdout and stderr. [`Cmd::as_nobody`] runs it as uid/gid 65534
//!   through `setpriv`, from a copy of the binaries in a directory that user can reach.
//!   [`Bg`] is a background process killed with everything it started on drop. Nothing
//!   waits without a bound (module `cmd`).
//! * [`need_root`] and friends: [`skip`] prints `skipped: <why>`; with
//!   `NSUTILS_TEST_STRICT=1` it fails the test instead, so CI never passes by skipping.
//! * [`ns_id`], [`parse_ns`], [`status_field`], [`descendants`], …: the kernel is the oracle
//!   (module `kernel`).
//! * [`TempDir`], [`Netns`]: what a test makes, undone on drop (module `fixtures`).
//! * [`containers`]: the test image and real runtimes (runc, podman, systemd-nspawn,
//!   bubblewrap) in directories the test owns.

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

mod bins;
mod cmd;
pub mod containers;
mod fixtures;
mod kernel;

pub use bins::{bin, bin_dir, bin_for_nobody, nobody_bin_dir, target_dir, TOOLS};
pub use cmd::{Bg, Cmd, Output, DEFAULT_TIMEOUT, PIPE_GRACE};
pub use fixtures::{nsrun_target, stress_scaled, unique_name, wait_pid_file, Netns, TempDir};
pub use kernel::{
    child_of, children, descendants, fd_count, mounts_under, nobody_has_subids, ns_id, ns_ino,
    parse_ns, pidfs_inode, processes_mentioning, status_field, KINDS, PRINT_NS,
};

/// uid and gid of the unprivileged user the rootless tests run as.
pub const NOBODY: u32 = 65534;

/// Whether `NSUTILS_TEST_STRICT=1` is set (CI): skips become failures.
pub fn strict() -> bool {
    std::env::var("NSUTILS_TEST_STRICT").is_ok_and(|v| v == "1")
}

/// Report that a test cannot run here. Returns normally (the caller then returns) unless
/// strict mode is on, in which case it panics.
pub fn skip(why: impl fmt::Display) {
    if strict() {
        panic!("skipped: {why} (NSUTILS_TEST_STRICT=1 turns skips into failures)");
    }
    eprintln!("skipped: {why}");
}

/// Whether we are root (most kernel tests need it, or use `as_nobody`).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            let p = d.join(program);
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
        })
    })
}

/// Whether we are root; otherwise a [`skip`] saying so: `if !need_root() { return; }`.
pub fn need_root() -> bool {
    if is_root() {
        return true;
    }
    skip("needs root");
    false
}

/// Whether every program is there — a name on PATH, or an absolute path; otherwise a
/// [`skip`] naming the first one missing (`.ci/run` installs them all).
pub fn need_programs(programs: &[&str]) -> bool {
    for p in programs {
        let found = if p.starts_with('/') {
            Path::new(p).is_file()
        } else {
            have(p)
        };
        if !found {
            skip(format!(
                "needs {p}, which is not installed (.ci/run installs it)"
            ));
            return false;
        }
    }
    true
}

/// [`need_root`] and [`need_programs`].
pub fn need_root_and(programs: &[&str]) -> bool {
    need_root() && need_programs(programs)
}

/// Whether unprivileged user namespaces work here (as uid 65534).
pub fn unprivileged_userns_works() -> bool {
    have("setpriv")
        && Cmd::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "unshare",
                "-U",
                "true",
            ])
            .run()
            .status
            .success()
}

/// Whether the rootless tests can run (unprivileged user namespaces work, as uid 65534);
/// otherwise a [`skip`] saying so.
pub fn need_rootless() -> bool {
    if unprivileged_userns_works() {
        return true;
    }
    skip("unprivileged user namespaces are not available");
    false
}
