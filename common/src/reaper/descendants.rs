//! Finding a subreaper's descendants for shutdown: `/proc/PID/task/TID/children` walked down
//! from it, or, on a kernel without those files, a parent map of every `/proc/PID/stat`.

use std::path::Path;

/// Every descendant of `me`, from `/proc/PID/task/TID/children` (or, without it, a scan of
/// every `/proc/PID/stat`). Empty when `/proc` belongs to another PID namespace: its numbers
/// would name other processes.
pub fn descendants(me: i32) -> Vec<i32> {
    if !proc_is_ours() {
        return Vec::new();
    }
    if Path::new(&format!("/proc/{me}/task/{me}/children")).exists() {
        return walk(me, children_files);
    }
    let parents = parent_map();
    walk(me, |p| children_in(&parents, p))
}

/// Whether `/proc` is our PID namespace's: `/proc/self` names us.
fn proc_is_ours() -> bool {
    std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str().and_then(|s| s.parse::<i32>().ok()))
        == Some(nix::unistd::getpid().as_raw())
}

/// Everything below `top`, depth first, given each process's children.
fn walk(top: i32, mut children: impl FnMut(i32) -> Vec<i32>) -> Vec<i32> {
    let mut out = Vec::new();
    let mut stack = vec![top];
    while let Some(p) = stack.pop() {
        for c in children(p) {
            out.push(c);
            stack.push(c);
        }
    }
    out
}

/// The children of `pid`'s threads (`/proc/PID/task/TID/children`).
fn children_files(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in tasks.flatten() {
        let mut path = t.path();
        path.push("children");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        out.extend(
            text.split_whitespace()
                .filter_map(|s| s.parse::<i32>().ok()),
        );
    }
    out
}

/// `(pid, parent pid)` of every process in `/proc`, from `/proc/PID/stat`.
fn parent_map() -> Vec<(i32, i32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut parent = Vec::new();
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The parent is the second field after the command name, which may hold spaces and
        // parentheses: read from its last ')'.
        if let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1))
            .and_then(|s| s.parse::<i32>().ok())
        {
            parent.push((pid, ppid));
        }
    }
    parent
}

/// The children of `pid` by a [`parent_map`].
fn children_in(parents: &[(i32, i32)], pid: i32) -> Vec<i32> {
    parents
        .iter()
        .filter(|&&(_, pp)| pp == pid)
        .map(|&(c, _)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_of_a_process_without_children() {
        // A fresh `sleep` has no children; the walk must find none and not fail.
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let me = std::process::id() as i32;
        assert!(descendants(me).contains(&(child.id() as i32)));
        assert!(descendants(child.id() as i32).is_empty());
        // The fallback finds the same child.
        let parents = parent_map();
        let by_stat = walk(me, |p| children_in(&parents, p));
        assert!(by_stat.contains(&(child.id() as i32)));
        let _ = child.kill();
        let _ = child.wait();
    }
}
