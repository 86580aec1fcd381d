//! What the kernel says, for the tests' oracles: namespace identities, `/proc/PID/status`
//! fields, the process tree, mounts, processes by command line.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cmd::Cmd;

/// The eight `/proc` namespace names.
pub const KINDS: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// A shell script that prints `KIND INODE` for each namespace it runs in, one a line; read
/// it back with [`parse_ns`].
pub const PRINT_NS: &str =
    "for k in cgroup ipc mnt net pid time user uts; do echo $k $(stat -L -c %i /proc/self/ns/$k); done";

/// The `KIND INODE` lines of [`PRINT_NS`], by kind.
pub fn parse_ns(out: &str) -> BTreeMap<String, u64> {
    out.lines()
        .filter_map(|l| {
            let (k, i) = l.split_once(' ')?;
            Some((k.to_string(), i.trim().parse().ok()?))
        })
        .collect()
}

/// The identity of `/proc/PID/ns/KIND` (`pid = None`: the test process itself).
pub fn ns_id(pid: Option<i32>, kind: &str) -> (u64, u64) {
    let p = match pid {
        Some(p) => format!("/proc/{p}/ns/{kind}"),
        None => format!("/proc/self/ns/{kind}"),
    };
    let md = std::fs::metadata(&p).unwrap_or_else(|e| panic!("stat {p}: {e}"));
    (md.dev(), md.ino())
}

/// The inode of `/proc/PID/ns/KIND`.
pub fn ns_ino(pid: Option<i32>, kind: &str) -> u64 {
    ns_id(pid, kind).1
}

/// The pidfs inode of process `pid` as the kernel gives it (`fstat` of a pidfd, through
/// Python's `os.pidfd_open`: an oracle that shares no code with ours). Needs python3.
pub fn pidfs_inode(pid: impl fmt::Display) -> u64 {
    let out = Cmd::new("python3")
        .args([
            "-c",
            "import os,sys; print(os.fstat(os.pidfd_open(int(sys.argv[1]))).st_ino)",
        ])
        .arg(pid.to_string())
        .run();
    out.ok().out().parse().expect("an inode")
}

/// A field of `/proc/PID/status` (`NSpid`, `Uid`, …), value only.
pub fn status_field(pid: i32, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(field)
            .and_then(|r| r.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    })
}

/// The children of `pid` (of every thread), from the kernel's children lists.
pub fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .flat_map(|t| {
            let text = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            text.split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// The first child of `pid`, waiting (up to 20 s) for it to appear.
#[track_caller]
pub fn child_of(pid: i32) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(&c) = children(pid).first() {
            return c;
        }
        assert!(Instant::now() < deadline, "process {pid} never forked");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Every descendant of `pid`, parents before their children.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for c in children(p) {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

/// Live processes (other than the test itself) whose command line mentions `needle`, as
/// `PID: command line` — the oracle for "no process of ours is left" (zombies have an empty
/// command line and are not listed).
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.parse::<i32>().ok()?;
            if name == me {
                return None;
            }
            let cmd = std::fs::read(format!("/proc/{name}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains(needle).then(|| format!("{name}: {cmd}"))
        })
        .collect()
}

/// The mount points under `dir` in our mount namespace (from `/proc/self/mountinfo`).
pub fn mounts_under(dir: &Path) -> Vec<String> {
    // common::mountinfo decodes the octal escapes (space, tab, newline, backslash).
    nsutils_common::mountinfo::read_self()
        .expect("mountinfo")
        .into_iter()
        .filter(|m| m.mount_point.starts_with(dir))
        .map(|m| m.mount_point.to_string_lossy().into_owned())
        .collect()
}

/// How many fds `pid` holds (`/proc/PID/fd`), or nothing once it is gone.
pub fn fd_count(pid: i32) -> Option<usize> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|d| d.count())
}

/// Whether `/etc/subuid` and `/etc/subgid` both give uid 65534 a range (by name or number),
/// as `newuidmap` needs for nsrun's range maps as that user. `.ci/run` adds
/// `nobody:100000:65536`.
pub fn nobody_has_subids() -> bool {
    ["/etc/subuid", "/etc/subgid"].iter().all(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with("nobody:") || l.starts_with("65534:"))
    })
}
