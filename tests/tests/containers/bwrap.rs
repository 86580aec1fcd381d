//! bubblewrap, as root and as uid 65534, with our nsinit as the sandbox's command: nsenter
//! and nsls against the sandbox (its PID from `--info-fd`).

use harness::containers::{need, Bwrap};
use harness::{skip, unprivileged_userns_works, NOBODY};

use crate::{
    check_container, check_nsenter, check_nsls, descendant_named, unique, NOBODY_INSIDE,
    ROOT_INSIDE,
};

fn bwrap_suite(rootless: bool) {
    if !need("bwrap", "bubblewrap") {
        return;
    }
    if !harness::is_root() {
        return skip("needs root (and uid 65534 for the rootless half)");
    }
    if rootless && !unprivileged_userns_works() {
        return skip("unprivileged user namespaces are not available");
    }
    let b = Bwrap::start(
        &unique("bwrap"),
        rootless,
        &["/sbin/nsinit", "--", "sleep", "1000"],
    );
    let pid = b.pid();
    descendant_named(pid, "sleep");
    // bwrap maps only the caller's own id: uid 65534 stays 65534 inside, and root entering
    // that sandbox becomes 65534 too (0 is not mapped there).
    let uid = if rootless { NOBODY_INSIDE } else { ROOT_INSIDE };
    check_nsenter(pid, rootless, uid);
    if rootless {
        check_nsenter(pid, false, NOBODY);
    }
    check_nsls(pid, rootless);
    check_container(pid, rootless, None);
    drop(b);
}

#[test]
fn bwrap_rootful() {
    bwrap_suite(false);
}

#[test]
fn bwrap_rootless() {
    bwrap_suite(true);
}
