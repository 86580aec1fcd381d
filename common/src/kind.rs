//! The one table of namespace kinds.
//!
//! Everything the workspace knows about a kind — its `/proc/PID/ns` name, its clone flag, the
//! `*_for_children` link, the command-line letter and long flag, and where it goes in the
//! join order — is answered by one exhaustive `match` per property below, so adding or
//! misspelling a kind is a compile error, not a drift between tables.

use std::fmt;
use std::str::FromStr;

/// A Linux namespace kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NsKind {
    /// Cgroup root directory (`CLONE_NEWCGROUP`).
    Cgroup,
    /// System V IPC and POSIX message queues (`CLONE_NEWIPC`).
    Ipc,
    /// Mount points (`CLONE_NEWNS`).
    Mnt,
    /// Network devices, stacks, ports (`CLONE_NEWNET`).
    Net,
    /// Process IDs (`CLONE_NEWPID`).
    Pid,
    /// Boot and monotonic clocks (`CLONE_NEWTIME`).
    Time,
    /// User and group IDs, capabilities (`CLONE_NEWUSER`).
    User,
    /// Hostname and NIS domain name (`CLONE_NEWUTS`).
    Uts,
}

/// `CLONE_NEWTIME`, spelled out because not every libc binding carries it.
const CLONE_NEWTIME: libc::c_int = 0x0000_0080;

impl NsKind {
    /// Every kind, in alphabetical order of the `/proc` name (the order `ls /proc/self/ns` shows).
    pub const ALL: [NsKind; 8] = [
        NsKind::Cgroup,
        NsKind::Ipc,
        NsKind::Mnt,
        NsKind::Net,
        NsKind::Pid,
        NsKind::Time,
        NsKind::User,
        NsKind::Uts,
    ];

    /// The order in which namespaces are joined one by one with `setns(2)`.
    ///
    /// The user namespace comes first: an unprivileged caller gains the capabilities needed
    /// for the others only by entering it. (A privileged caller that wants to keep its
    /// host privileges for the other kinds uses [`NsKind::join_order`] with `user_first =
    /// false`, which moves it to the end.) The mount namespace comes after pid and net
    /// because entering it changes the root and cwd, which would break the `/proc` paths of
    /// the files still to be opened; time comes last as it is the newest and the least
    /// likely to exist. cgroup goes before the rest so later kinds see the target's cgroup
    /// root, as util-linux's nsenter does.
    pub const JOIN_ORDER: [NsKind; 8] = [
        NsKind::User,
        NsKind::Cgroup,
        NsKind::Ipc,
        NsKind::Uts,
        NsKind::Net,
        NsKind::Pid,
        NsKind::Mnt,
        NsKind::Time,
    ];

    /// The join order with the user namespace first (`user_first`) or last.
    ///
    /// Entering a user namespace first grants the capabilities there that an unprivileged
    /// caller needs for the rest; a root caller whose host capabilities already suffice
    /// enters it last, so that it does not give up host privilege before the other
    /// `setns` calls.
    pub fn join_order(user_first: bool) -> [NsKind; 8] {
        let mut order = Self::JOIN_ORDER;
        if !user_first {
            order.rotate_left(1);
        }
        order
    }

    /// The name of the link in `/proc/PID/ns/` (also the name lsns prints as TYPE).
    pub const fn proc_name(self) -> &'static str {
        match self {
            NsKind::Cgroup => "cgroup",
            NsKind::Ipc => "ipc",
            NsKind::Mnt => "mnt",
            NsKind::Net => "net",
            NsKind::Pid => "pid",
            NsKind::Time => "time",
            NsKind::User => "user",
            NsKind::Uts => "uts",
        }
    }

    /// The `CLONE_NEW*` flag for `unshare(2)`, `clone(2)` and `setns(2)`; also the value
    /// `NS_GET_NSTYPE` returns.
    pub const fn clone_flag(self) -> libc::c_int {
        match self {
            NsKind::Cgroup => libc::CLONE_NEWCGROUP,
            NsKind::Ipc => libc::CLONE_NEWIPC,
            NsKind::Mnt => libc::CLONE_NEWNS,
            NsKind::Net => libc::CLONE_NEWNET,
            NsKind::Pid => libc::CLONE_NEWPID,
            NsKind::Time => CLONE_NEWTIME,
            NsKind::User => libc::CLONE_NEWUSER,
            NsKind::Uts => libc::CLONE_NEWUTS,
        }
    }

    /// The link that names the namespace the process's *future children* will be in, for the
    /// kinds where that can differ from its own (`unshare(CLONE_NEWPID)` and
    /// `unshare(CLONE_NEWTIME)` only affect children).
    pub const fn for_children_name(self) -> Option<&'static str> {
        match self {
            NsKind::Pid => Some("pid_for_children"),
            NsKind::Time => Some("time_for_children"),
            NsKind::Cgroup
            | NsKind::Ipc
            | NsKind::Mnt
            | NsKind::Net
            | NsKind::User
            | NsKind::Uts => None,
        }
    }

    /// The short command-line flag shared by unshare and nsenter (`-m`, `-u`, …).
    pub const fn short_flag(self) -> char {
        match self {
            NsKind::Cgroup => 'C',
            NsKind::Ipc => 'i',
            NsKind::Mnt => 'm',
            NsKind::Net => 'n',
            NsKind::Pid => 'p',
            NsKind::Time => 'T',
            NsKind::User => 'U',
            NsKind::Uts => 'u',
        }
    }

    /// The long command-line flag shared by unshare and nsenter, without dashes.
    pub const fn long_flag(self) -> &'static str {
        match self {
            NsKind::Cgroup => "cgroup",
            NsKind::Ipc => "ipc",
            NsKind::Mnt => "mount",
            NsKind::Net => "net",
            NsKind::Pid => "pid",
            NsKind::Time => "time",
            NsKind::User => "user",
            NsKind::Uts => "uts",
        }
    }

    /// The kind whose clone flag is `flag` (as returned by `NS_GET_NSTYPE`).
    pub fn from_clone_flag(flag: libc::c_int) -> Option<NsKind> {
        Self::ALL.into_iter().find(|k| k.clone_flag() == flag)
    }

    /// The kind named by a `/proc` name (`net`), a long flag (`mount`) or a
    /// `*_for_children` link name.
    pub fn from_name(name: &str) -> Option<NsKind> {
        Self::ALL.into_iter().find(|k| {
            k.proc_name() == name || k.long_flag() == name || k.for_children_name() == Some(name)
        })
    }

    /// The combined clone flags of several kinds.
    pub fn mask<I: IntoIterator<Item = NsKind>>(kinds: I) -> libc::c_int {
        kinds.into_iter().fold(0, |m, k| m | k.clone_flag())
    }
}

impl fmt::Display for NsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proc_name())
    }
}

impl FromStr for NsKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NsKind::from_name(s).ok_or_else(|| {
            let names: Vec<&str> = NsKind::ALL.iter().map(|k| k.proc_name()).collect();
            format!(
                "unknown namespace type '{s}' (expected one of: {})",
                names.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_is_consistent() {
        let mut flags = HashSet::new();
        let mut letters = HashSet::new();
        for k in NsKind::ALL {
            assert!(flags.insert(k.clone_flag()), "duplicate flag for {k}");
            assert!(letters.insert(k.short_flag()), "duplicate letter for {k}");
            assert_eq!(NsKind::from_clone_flag(k.clone_flag()), Some(k));
            assert_eq!(NsKind::from_name(k.proc_name()), Some(k));
            assert_eq!(NsKind::from_name(k.long_flag()), Some(k));
            assert_eq!(k.proc_name().parse::<NsKind>(), Ok(k));
        }
        assert_eq!(NsKind::Time.clone_flag(), 0x80);
        assert_eq!(NsKind::Mnt.clone_flag(), 0x0002_0000);
        assert_eq!(NsKind::from_name("pid_for_children"), Some(NsKind::Pid));
        assert!("bogus".parse::<NsKind>().is_err());
    }

    #[test]
    fn proc_names_match_the_kernel() {
        let mut have: Vec<String> = std::fs::read_dir("/proc/self/ns")
            .expect("read /proc/self/ns")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with("_for_children"))
            .collect();
        have.sort();
        let ours: Vec<&str> = NsKind::ALL.iter().map(|k| k.proc_name()).collect();
        assert_eq!(have, ours);
    }

    #[test]
    fn join_order_covers_every_kind_once() {
        for user_first in [true, false] {
            let order = NsKind::join_order(user_first);
            let set: HashSet<_> = order.iter().collect();
            assert_eq!(set.len(), 8);
            let user_pos = order.iter().position(|k| *k == NsKind::User);
            assert_eq!(user_pos, Some(if user_first { 0 } else { 7 }));
        }
        let order = NsKind::JOIN_ORDER;
        let pos = |k| order.iter().position(|x| *x == k).expect("present");
        assert!(pos(NsKind::Mnt) > pos(NsKind::Net));
        assert!(pos(NsKind::Mnt) > pos(NsKind::Pid));
    }

    #[test]
    fn mask_combines() {
        assert_eq!(
            NsKind::mask([NsKind::Net, NsKind::Uts]),
            libc::CLONE_NEWNET | libc::CLONE_NEWUTS
        );
    }
}
