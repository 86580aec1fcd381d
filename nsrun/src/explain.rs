//! Errors that explain themselves: why `unshare(2)` said EPERM or ENOSPC, read from the
//! sysctls that decide it, and what the user can do about it.

use nix::errno::Errno;
use nsutils_common::{Error, NsKind};

fn sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// The error for a failed `unshare` of `kinds`.
pub fn unshare_error(e: Errno, kinds: &[NsKind], is_root: bool) -> Error {
    let names: Vec<&str> = kinds.iter().map(|k| k.proc_name()).collect();
    let err = Error::errno(
        format!("cannot create namespaces ({})", names.join(", ")),
        e,
    );
    let user = kinds.contains(&NsKind::User);
    match e {
        Errno::EPERM => match eperm_hint(user, is_root) {
            Some(h) => err.hint(h),
            None => err,
        },
        Errno::ENOSPC | Errno::EUSERS => err.hint(enospc_hint(kinds)),
        _ => err,
    }
}

fn eperm_hint(user: bool, is_root: bool) -> Option<String> {
    // user.max_user_namespaces = 0 is ENOSPC, not EPERM: see enospc_hint.
    if user {
        if !is_root {
            if sysctl("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
                return Some(
                    "unprivileged user namespaces are disabled \
                     (sysctl kernel.unprivileged_userns_clone = 0)"
                        .into(),
                );
            }
            if sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref()
                == Some("1")
            {
                return Some(
                    "AppArmor restricts unprivileged user namespaces \
                     (sysctl kernel.apparmor_restrict_unprivileged_userns = 1); \
                     an AppArmor profile with 'userns,' must allow this program"
                        .into(),
                );
            }
        }
        return Some(
            "creating a user namespace was refused: from inside a chroot, a seccomp filter \
             (a container runtime), or a nesting deeper than 32"
                .into(),
        );
    }
    if !is_root {
        return Some(
            "creating namespaces needs CAP_SYS_ADMIN: add --user (-U) or --map-root-user (-r), \
             or run as root"
                .into(),
        );
    }
    None
}

fn enospc_hint(kinds: &[NsKind]) -> String {
    let limit = |k: NsKind| format!("user.max_{}_namespaces", k.proc_name());
    let zero: Vec<String> = kinds
        .iter()
        .filter(|k| {
            sysctl(&format!("/proc/sys/user/max_{}_namespaces", k.proc_name())).as_deref()
                == Some("0")
        })
        .map(|k| limit(*k))
        .collect();
    if !zero.is_empty() {
        return format!("the limit {} is 0", zero.join(", "));
    }
    let all: Vec<String> = kinds.iter().map(|k| limit(*k)).collect();
    format!(
        "a namespace limit was reached: check sysctl {} (per user namespace, also of the \
         parent ones)",
        all.join(", ")
    )
}
