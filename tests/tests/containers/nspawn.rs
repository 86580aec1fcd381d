//! systemd-nspawn (root only: it has no unprivileged mode), with our nsinit as the
//! container's PID 1: nsenter and nsls against it, and the exit code through nspawn.

use std::time::Duration;

use harness::containers::{need, Nspawn};
use harness::skip;

use crate::{check_nsenter, check_nsls, descendant_named, unique, ROOT_INSIDE};

#[test]
fn nspawn() {
    if !need("systemd-nspawn", "systemd-container") {
        return;
    }
    if !harness::is_root() {
        return skip("systemd-nspawn needs root");
    }
    let name = unique("nspawn");
    let n = Nspawn::start(&name, &["/sbin/nsinit", "--", "sleep", "1000"]);
    let pid = n.pid();
    descendant_named(pid, "sleep");
    eprintln!(
        "nspawn container {name}: PID {pid}, cgroup {}",
        crate::cgroup_v2_path(pid)
    );
    check_nsenter(pid, false, ROOT_INSIDE);
    check_nsls(pid, false);
    drop(n);

    let n = Nspawn::start(
        &unique("nspawn-exit"),
        &["/sbin/nsinit", "--", "sh", "-c", "exit 3"],
    );
    let out = n.wait(Duration::from_secs(60));
    assert_eq!(out.code(), 3, "{out:?}");
}
