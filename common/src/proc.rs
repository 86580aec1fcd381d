//! Processes as `/proc` shows them: a process's children and descendants, the parent and
//! command name of its `stat`, the ids of its `status`, its cgroup v2 path. One home for what
//! nsrun, nsenter, nsls and the init loop read of other processes.
//!
//! The procfs crate parses the `cgroup` file. The rest is read by hand, for measured
//! reasons (release builds, this machine):
//!
//! * `stat` and the children lists: the init loop of nsinit and `nsrun --init` lists
//!   descendants at shutdown, and procfs's `Process`/`Task`/`Stat` added 42 KB (+2.8%) to the
//!   static nsinit, the size-measured PID 1 (bench/sizes); its `Stat` parser alone 20 KB.
//!   nsls reads `stat` of every process it lists: through procfs, `nsls --shallow` took 5%
//!   more CPU (234 ms against 223, bench/nsls), and its tests feed [`parse_stat`] shortened
//!   lines (`PID (COMM) S PPID`) that procfs refuses.
//! * `status`: procfs's `Status` parses every field into a map, 55 KB more in nsenter
//!   (+6.5%) for the one `Uid:`/`Gid:` line it needs.
//!
//! Elsewhere, on purpose: nsls's scan (raw `*at` syscalls relative to one fd per process:
//! the hot path), the mount table ([`crate::mountinfo`]: procfs's `MountInfo` keeps the
//! octal escapes (`\040`) in mount points and needs UTF-8; ours unescapes bytes), the thread
//! count before a fork ([`crate::sys::thread_count`]: one `stat`).

use procfs::ProcessCGroups;

/// Whether `/proc` is our PID namespace's: `/proc/self` names our PID. Another one's
/// numbers would name other processes (an init whose `/proc` the container mounted later).
fn proc_is_ours() -> bool {
    std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str()?.parse::<i32>().ok())
        == Some(nix::unistd::getpid().as_raw())
}

/// The numeric entries of a `/proc` directory (PIDs, TIDs).
fn numbers(dir: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The children of `pid`, from the `children` file of each of its threads (empty when it
/// has exited). Only where [`children_supported`].
fn children_files(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for tid in numbers(&format!("/proc/{pid}/task")) {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|c| c.parse::<i32>().ok()),
            );
        }
    }
    out
}

/// Whether this kernel has `/proc/PID/task/TID/children` (Linux 4.2+ with
/// `CONFIG_PROC_CHILDREN`; ours always exists where it does).
fn children_supported() -> bool {
    std::path::Path::new("/proc/thread-self/children").exists()
}

/// Every process and its parent, from each `/proc/PID/stat`: the fallback where the
/// `children` files are missing.
fn parent_map() -> Vec<(i32, i32)> {
    numbers("/proc")
        .into_iter()
        .filter_map(|pid| Some((pid, read_stat(pid)?.ppid)))
        .collect()
}

/// `/proc/PID/stat`, the parts the tools use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Parent PID.
    pub ppid: i32,
    /// The command name (`comm`).
    pub comm: String,
}

/// Read `/proc/PID/stat`: the parent PID and the command name.
pub fn read_stat(pid: i32) -> Option<Stat> {
    parse_stat(&read_small(&format!("/proc/{pid}/stat"))?)
}

/// Parse the text of `/proc/PID/stat`: `PID (COMM) S PPID …`, where COMM may itself contain
/// parentheses and spaces (so the last `)` ends it).
pub fn parse_stat(data: &[u8]) -> Option<Stat> {
    let open = data.iter().position(|&b| b == b'(')?;
    let close = data.iter().rposition(|&b| b == b')')?;
    let comm = String::from_utf8_lossy(data.get(open + 1..close)?).into_owned();
    let rest = std::str::from_utf8(data.get(close + 1..)?).ok()?;
    let ppid = rest.split_ascii_whitespace().nth(1)?.parse().ok()?;
    Some(Stat { ppid, comm })
}

/// Read a small `/proc` file with plain `open`/`read`/`close`: `std::fs::read` adds a
/// `statx` and a final empty `read`, a third more syscalls on nsls's most frequent reads.
/// A read that leaves room in the buffer got the whole file (procfs fills what it can).
pub fn read_small(path: &str) -> Option<Vec<u8>> {
    use nix::fcntl::OFlag;
    let fd = nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .ok()?;
    let mut data = vec![0u8; 4096];
    let mut len = 0;
    loop {
        let n = nix::unistd::read(&fd, &mut data[len..]).ok()?;
        len += n;
        if n == 0 || len < data.len() {
            break;
        }
        data.resize(data.len() * 2, 0);
    }
    data.truncate(len);
    Some(data)
}

/// The children of process `pid` (empty when it has none, has exited, or `/proc` is not
/// our PID namespace's).
pub fn children(pid: i32) -> Vec<i32> {
    if !proc_is_ours() {
        return Vec::new();
    }
    if children_supported() {
        return children_files(pid);
    }
    parent_map()
        .into_iter()
        .filter(|&(_, ppid)| ppid == pid)
        .map(|(c, _)| c)
        .collect()
}

/// Every descendant of process `pid`, parents before their children (empty when `/proc`
/// is not our PID namespace's).
pub fn descendants(pid: i32) -> Vec<i32> {
    if !proc_is_ours() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if children_supported() {
        let mut stack = vec![pid];
        while let Some(p) = stack.pop() {
            for c in children_files(p) {
                out.push(c);
                stack.push(c);
            }
        }
        return out;
    }
    let parents = parent_map();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        for &(c, _) in parents.iter().filter(|(_, pp)| *pp == p) {
            out.push(c);
            stack.push(c);
        }
    }
    out
}

/// The effective uid (`uid`) or gid in the text of a `/proc/PID/status` file: the second
/// field of its `Uid:` or `Gid:` line (real, effective, saved, fs), as our user namespace
/// sees it. A command name that is not UTF-8 does not stop the parse.
pub fn effective_id(status: &[u8], uid: bool) -> Option<u32> {
    let text = String::from_utf8_lossy(status);
    let field = if uid { "Uid:" } else { "Gid:" };
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// The cgroup v2 path (the `0::PATH` line) in the text of a `/proc/PID/cgroup` file.
pub fn cgroup_v2_path(cgroup: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(cgroup);
    let groups = <ProcessCGroups as procfs::FromBufRead>::from_buf_read(text.as_bytes()).ok()?;
    groups
        .into_iter()
        .find(|g| g.hierarchy == 0 && g.controllers.is_empty())
        .map(|g| g.pathname)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_children_and_descendants() {
        let me = std::process::id() as i32;
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn");
        let pid = child.id() as i32;
        assert!(children(me).contains(&pid));
        assert!(descendants(me).contains(&pid));
        assert!(children(pid).is_empty());
        // The fallback of kernels without the children files finds the same child.
        assert!(parent_map().contains(&(pid, me)));
        child.kill().expect("kill");
        child.wait().expect("wait");
        assert!(!children(me).contains(&pid));
        assert!(children(i32::MAX).is_empty());
    }

    /// The parser's cases are nsls's tests (`nsls::scan`), which use it.
    #[test]
    fn reads_our_stat() {
        let me = read_stat(std::process::id() as i32).expect("our stat");
        assert_eq!(me.ppid, nix::unistd::getppid().as_raw());
    }

    #[test]
    fn ids_from_status() {
        let text = std::fs::read(format!("/proc/{}/status", std::process::id())).expect("read");
        assert_eq!(
            effective_id(&text, true),
            Some(nix::unistd::geteuid().as_raw())
        );
        assert_eq!(
            effective_id(&text, false),
            Some(nix::unistd::getegid().as_raw())
        );
        assert_eq!(effective_id(b"Name:\tx\n", true), None);
    }

    #[test]
    fn cgroup_paths() {
        let hybrid = b"12:pids:/user.slice\n1:name=systemd:/init.scope\n0::/a/b c\n";
        assert_eq!(cgroup_v2_path(hybrid).as_deref(), Some("/a/b c"));
        assert_eq!(cgroup_v2_path(b"1:name=systemd:/x\n"), None);
    }
}
