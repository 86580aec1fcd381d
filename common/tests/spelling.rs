//! The kind table (`common/src/kind.rs`) is the only place a namespace kind is spelled: this
//! test reads the workspace's sources and fails on a kind's name written anywhere else — a
//! string that is a kind's `/proc` name or long flag (`"net"`, `c"mnt"`, `"mount"`), a
//! `/proc` path that ends in one (`"self/ns/net"`), or a hand-written list of kinds in code,
//! help text or a comment (`cgroup, ipc, mnt, …`). Use [`NsKind`]'s methods and
//! `NsKind::names()` instead.
//!
//! Not checked: test modules (`#[cfg(test)]` onwards; tests state kernel facts in their own
//! words on purpose) and the documentation outside the crates (man pages, README).

use std::path::{Path, PathBuf};

use nsutils_common::NsKind;

/// Words that look like a kind but are not one here, each with the reason.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "nsls/src/columns.rs",
        "\"pid\"",
        "the PID column's name (-o pid), not the kind",
    ),
    (
        "nsls/src/columns.rs",
        "\"user\"",
        "the USER column's name (-o user), not the kind",
    ),
    (
        "nsls/src/scan.rs",
        "\"mount\"",
        "the SOURCE value of a namespace found as a bind mount",
    ),
    (
        "nsenter/src/target.rs",
        "\"cgroup\"",
        "/proc/PID/cgroup, the process's cgroup file, not its namespace",
    ),
    (
        "common/src/reaper/signals.rs",
        "\"pid\"",
        "a log line's word for a process id",
    ),
];

/// The crates whose sources are checked.
const CRATES: &[&str] = &["common", "nsrun", "nsenter", "nsls", "nsinit", "gen"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let path = e.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Every spelling of a kind: `/proc` names, long flags, `*_for_children` links.
fn spellings() -> Vec<&'static str> {
    let mut v: Vec<&str> = NsKind::ALL
        .iter()
        .flat_map(|k| {
            [
                Some(k.proc_name()),
                Some(k.long_flag()),
                k.for_children_name(),
            ]
        })
        .flatten()
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The problems on one line of code (`code`: the line without a `//` comment).
fn problems(line: &str, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for name in spellings() {
        // Also finds `c"net"`.
        let quoted = format!("\"{name}\"");
        if code.contains(&quoted) {
            out.push(quoted);
        }
        if code.contains(&format!("ns/{name}\"")) {
            out.push(format!("ns/{name}"));
        }
    }
    // Three kinds or more in a row, separated by commas, slashes or spaces: a list.
    let words: Vec<&str> = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ',' || c == '/'))
        .flat_map(|w| w.split([',', '/']))
        .collect();
    let names: Vec<&str> = NsKind::ALL.iter().map(|k| k.proc_name()).collect();
    let mut run = 0;
    for w in words.iter().filter(|w| !w.is_empty()) {
        run = if names.contains(w) { run + 1 } else { 0 };
        if run == 3 {
            out.push("a list of kinds".to_string());
        }
    }
    out
}

#[test]
fn kinds_are_spelled_only_in_the_kind_table() {
    let root = workspace();
    let mut files = Vec::new();
    for c in CRATES {
        rust_files(&root.join(c).join("src"), &mut files);
    }
    assert!(files.len() > 20, "found the sources: {files:?}");
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&root).expect("in the workspace");
        let rel = rel.to_string_lossy().into_owned();
        if rel == "common/src/kind.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        let mut anchor_list = false;
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            // The long options of the util-linux anchors (`UNSHARE_LONGS`): their words,
            // checked side by side with util-linux by tests/tests/dropin.rs.
            if line.contains("_LONGS: &[&str] = &[") {
                anchor_list = true;
            }
            if anchor_list {
                anchor_list = line.trim() != "];";
                continue;
            }
            let code = match line.trim_start().starts_with("//") {
                true => "",
                false => line.split(" // ").next().unwrap_or(line),
            };
            for p in problems(line, code) {
                let allowed = ALLOWED.iter().any(|(f, w, _)| *f == rel && *w == p);
                if !allowed {
                    found.push(format!("{rel}:{}: {p}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "namespace kinds spelled outside common/src/kind.rs (use NsKind's methods, or add \
         a reasoned entry to ALLOWED):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checker_sees_what_it_should() {
    assert_eq!(problems("x(\"net\")", "x(\"net\")"), ["\"net\""]);
    assert_eq!(problems("c\"mnt\"", "c\"mnt\""), ["\"mnt\""]);
    assert_eq!(problems("\"self/ns/uts\"", "\"self/ns/uts\""), ["ns/uts"]);
    assert_eq!(
        problems("/// types: cgroup, ipc, mnt", ""),
        ["a list of kinds"]
    );
    assert!(problems("/// the user and pid namespaces", "").is_empty());
    assert!(problems("let network = 1;", "let network = 1;").is_empty());
}

/// The anchors' option lists, skipped above, hold every kind's long flag.
#[test]
fn anchor_lists_hold_every_kind() {
    let root = workspace();
    for file in ["nsrun/src/cli.rs", "nsenter/src/cli.rs"] {
        let text = std::fs::read_to_string(root.join(file)).expect("read");
        for k in NsKind::ALL {
            assert!(
                text.contains(&format!("    \"{}\",\n", k.long_flag())),
                "{file}: {k}"
            );
        }
    }
}
