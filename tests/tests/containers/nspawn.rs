//! systemd-nspawn (root only: it has no unprivileged mode), with our nsinit as the
//! container's PID 1: nsenter and nsls against it, and the exit code through nspawn.

use std::time::Duration;

use harness::containers::{need, Nspawn};
use harness::skip;

use crate::{check_container, check_nsenter, check_nsls, descendant_named, unique, ROOT_INSIDE};

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
    // Without systemd as PID 1 the cgroup path names no machine (…/payload): the column
    // comes from the systemd container interface's container= and container_uuid.
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
    let uuid = environ
        .split(|&b| b == 0)
        .find_map(|kv| kv.strip_prefix(b"container_uuid="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .expect("nspawn sets container_uuid");
    check_container(pid, false, Some(&format!("nspawn:{uuid}")));
    drop(n);

    let n = Nspawn::start(
        &unique("nspawn-exit"),
        &["/sbin/nsinit", "--", "sh", "-c", "exit 3"],
    );
    let out = n.wait(Duration::from_secs(60));
    assert_eq!(out.code(), 3, "{out:?}");
}
