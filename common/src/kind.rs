//! The one table of namespace kinds.
//!
//! Everything the workspace knows about a kind — its `/proc/PID/ns` name, its clone flag, the
//! `*_for_children` link, the command-line letter, long flag and help line, its pidfs ioctl,
//! and where it goes in the join order — is answered by one exhaustive `match` per property
//! below, so adding or misspelling a kind is a compile error, not a drift between tables.
//! Per-kind data elsewhere is a [`KindMap`], indexed by the kind itself. Nothing outside this
//! file spells a kind (`tests/spelling.rs` of this crate checks the workspace's sources).

use std::ffi::CStr;
use std::fmt;
use std::ops::{Index, IndexMut};
use std::str::FromStr;

/// A Linux namespace kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NsKind {
    /// Cgroup root directory (`CLONE_NEWCGROUP`).
    Cgroup = 0,
    /// System V IPC and POSIX message queues (`CLONE_NEWIPC`).
    Ipc = 1,
    /// Mount points (`CLONE_NEWNS`).
    Mnt = 2,
    /// Network devices, stacks, ports (`CLONE_NEWNET`).
    Net = 3,
    /// Process IDs (`CLONE_NEWPID`).
    Pid = 4,
    /// Boot and monotonic clocks (`CLONE_NEWTIME`).
    Time = 5,
    /// User and group IDs, capabilities (`CLONE_NEWUSER`).
    User = 6,
    /// Hostname and NIS domain name (`CLONE_NEWUTS`).
    Uts = 7,
}

/// `CLONE_NEWTIME`, spelled out because not every libc binding carries it.
const CLONE_NEWTIME: libc::c_int = 0x0000_0080;

impl NsKind {
    /// How many kinds there are.
    pub const COUNT: usize = 8;

    /// Every kind, in alphabetical order of the `/proc` name (the order `ls /proc/self/ns`
    /// shows); `ALL[k.index()] == k`.
    pub const ALL: [NsKind; NsKind::COUNT] = [
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
    pub const JOIN_ORDER: [NsKind; NsKind::COUNT] = [
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
    pub fn join_order(user_first: bool) -> [NsKind; NsKind::COUNT] {
        let mut order = Self::JOIN_ORDER;
        if !user_first {
            order.rotate_left(1);
        }
        order
    }

    /// The order of the namespace options in `--help` and the man pages: util-linux
    /// unshare's.
    pub const FLAG_ORDER: [NsKind; NsKind::COUNT] = [
        NsKind::Mnt,
        NsKind::Uts,
        NsKind::Ipc,
        NsKind::Net,
        NsKind::Pid,
        NsKind::User,
        NsKind::Cgroup,
        NsKind::Time,
    ];

    /// The kind's place in [`NsKind::ALL`] (and in a [`KindMap`]): `0..COUNT`.
    pub const fn index(self) -> usize {
        self as usize
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

    /// [`NsKind::proc_name`] as a C string, for `*at` calls that must not allocate (nsls's
    /// scan stats eight links per process).
    pub const fn proc_cname(self) -> &'static CStr {
        match self {
            NsKind::Cgroup => c"cgroup",
            NsKind::Ipc => c"ipc",
            NsKind::Mnt => c"mnt",
            NsKind::Net => c"net",
            NsKind::Pid => c"pid",
            NsKind::Time => c"time",
            NsKind::User => c"user",
            NsKind::Uts => c"uts",
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

    /// The help line of the namespace option (`--help`, the man pages).
    pub const fn flag_help(self) -> &'static str {
        match self {
            NsKind::Cgroup => "Cgroup namespace [at FILE]",
            NsKind::Ipc => "IPC namespace [at FILE]",
            NsKind::Mnt => "Mount namespace [at FILE]",
            NsKind::Net => {
                "Network namespace [at FILE; a relative FILE is in the working directory]"
            }
            NsKind::Pid => "PID namespace [at FILE]",
            NsKind::Time => "Time namespace [at FILE]",
            NsKind::User => "User namespace [at FILE]",
            NsKind::Uts => "UTS namespace (hostname, domain name) [at FILE]",
        }
    }

    /// The number `n` of the pidfs ioctl `PIDFD_GET_*_NAMESPACE` (`_IO(0xFF, n)`,
    /// `linux/pidfd.h`) for this kind, or its `_for_children` twin.
    pub const fn pidfd_ioctl_nr(self, for_children: bool) -> u8 {
        match (self, for_children) {
            (NsKind::Cgroup, _) => 1,
            (NsKind::Ipc, _) => 2,
            (NsKind::Mnt, _) => 3,
            (NsKind::Net, _) => 4,
            (NsKind::Pid, false) => 5,
            (NsKind::Pid, true) => 6,
            (NsKind::Time, false) => 7,
            (NsKind::Time, true) => 8,
            (NsKind::User, _) => 9,
            (NsKind::Uts, _) => 10,
        }
    }

    /// Every kind's `/proc` name, comma-separated (`cgroup, ipc, …, uts`), for messages and
    /// help text that list them.
    pub fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|k| k.proc_name()).collect();
        names.join(", ")
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
            format!(
                "unknown namespace type '{s}' (expected one of: {})",
                NsKind::names()
            )
        })
    }
}

/// One `T` per namespace kind, indexed by the kind: `map[NsKind::Net]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KindMap<T>([T; NsKind::COUNT]);

impl<T> KindMap<T> {
    /// The map with `f(kind)` for every kind.
    pub fn from_fn(mut f: impl FnMut(NsKind) -> T) -> KindMap<T> {
        KindMap(std::array::from_fn(|i| f(NsKind::ALL[i])))
    }

    /// Every kind with its value, in [`NsKind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (NsKind, &T)> {
        NsKind::ALL.into_iter().zip(self.0.iter())
    }
}

impl<T: Copy> KindMap<T> {
    /// The same `value` for every kind.
    pub const fn splat(value: T) -> KindMap<T> {
        KindMap([value; NsKind::COUNT])
    }
}

impl KindMap<bool> {
    /// The kinds set, in [`NsKind::ALL`] order.
    pub fn kinds(&self) -> impl Iterator<Item = NsKind> + '_ {
        self.iter().filter(|(_, on)| **on).map(|(k, _)| k)
    }
}

impl<T> Index<NsKind> for KindMap<T> {
    type Output = T;
    fn index(&self, kind: NsKind) -> &T {
        &self.0[kind.index()]
    }
}

impl<T> IndexMut<NsKind> for KindMap<T> {
    fn index_mut(&mut self, kind: NsKind) -> &mut T {
        &mut self.0[kind.index()]
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
        let mut ioctls = HashSet::new();
        for (i, k) in NsKind::ALL.into_iter().enumerate() {
            assert_eq!(k.index(), i, "ALL is in the order of the indices");
            assert_eq!(k.proc_cname().to_str(), Ok(k.proc_name()));
            assert!(ioctls.insert(k.pidfd_ioctl_nr(false)));
            if k.for_children_name().is_some() {
                assert!(ioctls.insert(k.pidfd_ioctl_nr(true)));
            } else {
                assert_eq!(k.pidfd_ioctl_nr(true), k.pidfd_ioctl_nr(false));
            }
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
        assert_eq!(ioctls.len(), 10);
        let mut ordered = NsKind::FLAG_ORDER;
        ordered.sort();
        assert_eq!(ordered, NsKind::ALL);
        assert_eq!(
            NsKind::names(),
            "cgroup, ipc, mnt, net, pid, time, user, uts"
        );
    }

    #[test]
    fn kind_maps_are_indexed_by_kind() {
        let mut m = KindMap::splat(0u64);
        m[NsKind::Net] = 7;
        assert_eq!(m[NsKind::Net], 7);
        assert_eq!(m.iter().filter(|(_, v)| **v != 0).count(), 1);
        let names = KindMap::from_fn(NsKind::proc_name);
        assert_eq!(names[NsKind::Uts], "uts");
        let mut set = KindMap::<bool>::default();
        set[NsKind::User] = true;
        set[NsKind::Cgroup] = true;
        assert_eq!(
            set.kinds().collect::<Vec<_>>(),
            [NsKind::Cgroup, NsKind::User]
        );
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
            assert_eq!(set.len(), NsKind::COUNT);
            let user_pos = order.iter().position(|k| *k == NsKind::User);
            assert_eq!(
                user_pos,
                Some(if user_first { 0 } else { NsKind::COUNT - 1 })
            );
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
