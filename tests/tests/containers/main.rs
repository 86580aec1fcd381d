//! Our tools against the containers people actually run: runc and podman (rootful and
//! rootless), bubblewrap, systemd-nspawn and `ip netns`, with an image built offline from
//! busybox-static and our static nsinit (`harness::containers`); and the shapes that broke
//! `nsenter -a` (a user namespace that denies `setgroups` plus its own `/proc`), side by
//! side with util-linux's nsenter.
//!
//! For every container: `nsenter -t PID -a` lands in each of its namespaces (the kernel's
//! inodes), as its root, sees its files with `-r -w`, and each kind alone lands in that
//! kind; what the runtime's own `exec` sees agrees with what nsenter sees; `nsls -p PID`
//! has the right NPROCS, PID and COMMAND, the default tree nests the container's namespaces
//! under the runtime's, `nsls --pids` gives its PID at every level. nsinit as PID 1 is run
//! through one table with catatonit (podman's default init) in the same test.
//!
//! The oracle is `/proc` as root sees it from the host.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::containers::poll;
use harness::{children, ns_ino, parse_ns, Bg, Cmd, Output, KINDS, NOBODY, PRINT_NS};

mod bwrap;
mod netns;
mod nspawn;
mod podman;
mod readme;
mod runc;
mod shapes;

/// A name no other test process uses (for containers, machines, netns names).
fn unique(tag: &str) -> String {
    harness::unique_name(&format!("nsutils-{tag}"))
}

/// One of our tools, as root or as uid 65534.
fn tool(name: &str, nobody: bool) -> Cmd {
    let c = Cmd::tool(name);
    if nobody {
        c.as_nobody()
    } else {
        c
    }
}

/// The namespaces of `pid` as the kernel shows them.
fn kernel_ns(pid: i32) -> BTreeMap<String, u64> {
    KINDS
        .iter()
        .map(|k| (k.to_string(), ns_ino(Some(pid), k)))
        .collect()
}

/// The kinds in which `pid` is not in the test's own (the host's) namespace.
fn own_kinds(pid: i32) -> Vec<&'static str> {
    KINDS
        .iter()
        .copied()
        .filter(|k| ns_ino(Some(pid), k) != ns_ino(None, k))
        .collect()
}

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The first process named `name` at or below `pid`, if there is one now.
fn find_named(pid: i32, name: &str) -> Option<i32> {
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if comm(p) == name {
            return Some(p);
        }
        todo.extend(children(p));
    }
    None
}

/// The first process named `name` at or below `pid`, waiting for it to appear.
fn descendant_named(pid: i32, name: &str) -> i32 {
    poll(
        Duration::from_secs(20),
        &format!("a {name} below {pid}"),
        || find_named(pid, name),
    )
}

/// The first process named `name` below the background process `bg`, waiting for it; if
/// `bg` ends first, fail with its output.
fn started(mut bg: Bg, name: &str) -> (Bg, i32) {
    let start = Instant::now();
    loop {
        if let Some(p) = find_named(bg.pid(), name) {
            return (bg, p);
        }
        if bg.has_exited() {
            panic!(
                "it ended before a {name} ran:{:?}",
                bg.wait(Duration::from_secs(5))
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no {name} below {}",
            bg.pid()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The PIDs (as the host sees them) of every process in namespace `ino` of `kind`.
fn members(kind: &str, ino: u64) -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            std::fs::metadata(format!("/proc/{p}/ns/{kind}"))
                .is_ok_and(|m| std::os::unix::fs::MetadataExt::ino(&m) == ino)
        })
        .collect();
    pids.sort_unstable();
    pids
}

fn cmdline(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw)
        .trim_end_matches('\0')
        .replace('\0', " ")
}

/// `nsenter -t PID -a` (as root, or as uid 65534 for its own rootless container) lands in
/// every namespace of the container as uid `uid` there, and with `-r -w` sees its files;
/// each kind alone lands in that kind.
fn check_nsenter(pid: i32, nobody: bool, uid: u32) {
    let t = pid.to_string();
    let out = tool("nsenter", nobody)
        .args(["-t", &t, "-a", "sh", "-c", PRINT_NS])
        .run();
    assert_eq!(parse_ns(&out.ok().stdout), kernel_ns(pid), "{out:?}");
    let out = tool("nsenter", nobody)
        .args(["-t", &t, "-a", "id", "-u"])
        .run();
    assert_eq!(out.ok().out(), uid.to_string(), "{out:?}");
    let want = std::fs::read_to_string(format!("/proc/{pid}/root/etc/hostname"))
        .expect("the container's /etc/hostname");
    let out = tool("nsenter", nobody)
        .args(["-t", &t, "-a", "-r", "-w", "cat", "/etc/hostname"])
        .run();
    assert_eq!(out.ok().stdout, want, "{out:?}");
    for kind in own_kinds(pid) {
        check_one_kind(pid, kind, nobody);
    }
}

/// `nsenter -t PID --KIND` alone (with `-U` for uid 65534, whose privilege comes from the
/// container's user namespace) runs its command in that namespace: looked at from outside,
/// since in the container's mount namespace alone `/proc/self` is not the command's.
fn check_one_kind(pid: i32, kind: &str, nobody: bool) {
    let flag = match kind {
        "cgroup" => "--cgroup",
        "ipc" => "--ipc",
        "mnt" => "--mount",
        "net" => "--net",
        "pid" => "--pid",
        "time" => "--time",
        "user" => "--user",
        "uts" => "--uts",
        _ => unreachable!("{kind}"),
    };
    let mut cmd = tool("nsenter", nobody).args(["-t", &pid.to_string(), flag]);
    if nobody && kind != "user" {
        cmd = cmd.arg("--user");
    }
    // nsenter execs the command in place, or forks it when it entered a PID namespace.
    let (bg, runner) = started(cmd.args(["sleep", "60"]).spawn(), "sleep");
    assert_eq!(
        ns_ino(Some(runner), kind),
        ns_ino(Some(pid), kind),
        "nsenter {flag} (as {}) did not land in the {kind} namespace of {pid}",
        if nobody { "uid 65534" } else { "root" }
    );
    drop(bg);
    // A command forked into the container is reaped by the container's init: wait, so that
    // it is not counted among the container's processes afterwards.
    poll(Duration::from_secs(10), "the command to be reaped", || {
        (!std::path::Path::new(&format!("/proc/{runner}")).exists()).then_some(())
    });
}

/// The runtime's own `exec` (`run_in(script)`) and `nsenter -t PID -a` see the same
/// hostname, processes (less the observer's own) and network links.
fn check_agree(pid: i32, nobody: bool, run_in: impl Fn(&str) -> Output) {
    let nsenter = |script: &str| {
        tool("nsenter", nobody)
            .args(["-t", &pid.to_string(), "-a", "sh", "-c", script])
            .run()
    };
    for script in ["hostname", "ip -o link"] {
        let (a, b) = (run_in(script), nsenter(script));
        assert_eq!(a.ok().stdout, b.ok().stdout, "{script}: {a:?}{b:?}");
    }
    // The processes, less the observing shell and its children.
    let ps = "echo $$; ps -o pid,ppid,args";
    let others = |out: Output| -> Vec<String> {
        let text = out.ok().stdout.clone();
        let mut lines = text.lines();
        let me = lines.next().expect("$$").trim().to_string();
        lines
            .skip(1)
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() >= 2 && f[0] != me && f[1] != me
            })
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (others(run_in(ps)), others(nsenter(ps)));
    assert!(!a.is_empty(), "no process seen");
    assert_eq!(a, b, "ps differs between the runtime's exec and nsenter");
}

/// `nsls -p PID` (as root, or uid 65534 for its own container): every namespace of the
/// container that is not the host's has the kernel's NPROCS, lowest PID and its COMMAND.
fn check_nsls_p(pid: i32, nobody: bool) {
    let kinds = own_kinds(pid);
    let snapshot = || -> Vec<Vec<i32>> {
        kinds
            .iter()
            .map(|k| members(k, ns_ino(Some(pid), k)))
            .collect()
    };
    // The oracle is taken before and after nsls. Processes come and go in some of these
    // namespaces (rootless podman runs its own helpers in its user namespace), so a
    // mismatch while they changed means: look again, a little later.
    for attempt in 0.. {
        let before = snapshot();
        let out = tool("nsls", nobody)
            .args([
                "-p",
                &pid.to_string(),
                "-J",
                "-l",
                "-o",
                "NS,TYPE,NPROCS,PID,COMMAND",
            ])
            .run();
        let stable = before == snapshot();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("nsls -J");
        let rows = v["namespaces"].as_array().expect("namespaces");
        let mismatch = kinds.iter().zip(&before).find_map(|(kind, procs)| {
            let ino = ns_ino(Some(pid), kind);
            let row = rows.iter().find(|r| r["ns"].as_u64() == Some(ino));
            let want = serde_json::json!({
                "ns": ino, "type": kind, "nprocs": procs.len(), "pid": procs[0],
                "command": cmdline(procs[0]),
            });
            (row != Some(&want)).then(|| format!("{kind}: want {want}"))
        });
        match mismatch {
            None if stable || attempt >= 30 => return,
            Some(m) if attempt >= 30 => panic!("nsls -p {pid}: {m}:{out:?}"),
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// The depth of a tree row: how many glyph columns precede the command.
fn tree_depth(command: &str) -> Option<usize> {
    let mut depth = 0;
    let mut rest = command;
    loop {
        if let Some(r) = rest.strip_prefix("│ ").or_else(|| rest.strip_prefix("  ")) {
            depth += 1;
            rest = r;
        } else if rest.starts_with("├─") || rest.starts_with("└─") {
            return Some(depth + 1);
        } else {
            return (depth == 0).then_some(0);
        }
    }
}

/// `nsls` (default tree, as root) nests the container's namespace of `kind` under the
/// namespace of that kind its runtime's process is in (the nearest ancestor outside it).
fn check_nsls_tree(pid: i32, kind: &str) {
    let ino = ns_ino(Some(pid), kind);
    // The row shows the namespace's lowest PID; its ancestors decide where it nests.
    let mut up = members(kind, ino)[0];
    let outer = loop {
        up = harness::status_field(up, "PPid")
            .and_then(|p| p.parse().ok())
            .expect("a parent");
        let ns = ns_ino(Some(up), kind);
        if ns != ino {
            break ns;
        }
    };
    let out = tool("nsls", false)
        .args(["-t", kind, "-u", "-o", "NS,COMMAND"])
        .run();
    let rows: Vec<(u64, usize)> = out
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| {
            // NS is right-aligned; one space, then the tree glyphs and the command.
            let (ns, cmd) = l.trim_start().split_once(' ')?;
            Some((ns.parse().ok()?, tree_depth(cmd)?))
        })
        .collect();
    let i = rows
        .iter()
        .position(|r| r.0 == ino)
        .unwrap_or_else(|| panic!("{kind} {ino} not in the tree:{out:?}"));
    let depth = rows[i].1;
    assert!(depth > 0, "{kind} {ino} is not nested:{out:?}");
    let parent = rows[..i]
        .iter()
        .rev()
        .find(|r| r.1 < depth)
        .expect("a parent row");
    assert_eq!(
        parent.0, outer,
        "{kind} {ino} nests under {} instead of {outer}, the runtime's:{out:?}",
        parent.0
    );
}

/// `nsls --pids PID`: the PID at every level, outermost first, as `NSpid` says, with each
/// level's namespace ending in the container's.
fn check_nsls_pids(pid: i32, nobody: bool) {
    let out = tool("nsls", nobody)
        .args(["--pids", &pid.to_string(), "-J"])
        .run();
    let v: serde_json::Value = serde_json::from_str(&out.ok().stdout).expect("JSON");
    let levels = v["nspids"].as_array().expect("nspids");
    let nspid: Vec<i64> = harness::status_field(pid, "NSpid")
        .expect("NSpid")
        .split_whitespace()
        .map(|p| p.parse().expect("pid"))
        .collect();
    let got: Vec<i64> = levels
        .iter()
        .map(|l| l["pid"].as_i64().expect("pid"))
        .collect();
    assert_eq!(got, nspid, "{out:?}");
    assert_eq!(
        levels[0]["ns"].as_u64(),
        Some(ns_ino(None, "pid")),
        "{out:?}"
    );
    let last = levels.last().expect("a level");
    assert_eq!(
        last["ns"].as_u64(),
        Some(ns_ino(Some(pid), "pid")),
        "{out:?}"
    );
}

/// Every nsls check for a container whose PID 1 is `pid`.
fn check_nsls(pid: i32, nobody: bool) {
    check_nsls_p(pid, nobody);
    if nobody {
        check_nsls_p(pid, false);
    }
    for kind in ["mnt", "pid"] {
        check_nsls_tree(pid, kind);
    }
    check_nsls_pids(pid, nobody);
}

/// `nsls -o +CONTAINER` (as root, or uid 65534 for its own container): every namespace of
/// the container that is not the host's names `want` (`RUNTIME:ID`), or nothing.
fn check_container(pid: i32, nobody: bool, want: Option<&str>) {
    let out = tool("nsls", nobody)
        .args(["-J", "-l", "-o", "NS,PID,CONTAINER", "-p", &pid.to_string()])
        .run();
    let v: serde_json::Value = serde_json::from_str(&out.ok().stdout).expect("nsls -J");
    let rows = v["namespaces"].as_array().expect("namespaces");
    let mut shown = Vec::new();
    for kind in own_kinds(pid) {
        let ino = ns_ino(Some(pid), kind);
        let row = rows
            .iter()
            .find(|r| r["ns"].as_u64() == Some(ino))
            .unwrap_or_else(|| panic!("{kind} {ino} not listed:{out:?}"));
        if row["pid"].as_i64() != Some(i64::from(pid)) {
            continue; // a namespace shown with another process (podman's user namespace)
        }
        assert_eq!(row["container"].as_str(), want, "{kind}:{out:?}");
        shown.push(ino);
    }
    if let Some(want) = want {
        check_container_filter(nobody, want, &shown);
    }
}

/// `nsls -Q "CONTAINER == 'WANT'"`, CONTAINER not shown, finds the namespaces `ours` (the
/// container's, checked above) and only namespaces whose CONTAINER is `want`.
fn check_container_filter(nobody: bool, want: &str, ours: &[u64]) {
    let listing = |args: &[&str]| -> BTreeMap<u64, serde_json::Value> {
        let out = tool("nsls", nobody).args(["-J", "-l"]).args(args).run();
        let v: serde_json::Value = serde_json::from_str(&out.ok().stdout).expect("nsls -J");
        v["namespaces"]
            .as_array()
            .expect("namespaces")
            .iter()
            .filter_map(|r| Some((r["ns"].as_u64()?, r["container"].clone())))
            .collect()
    };
    let filter = format!("CONTAINER == '{want}'");
    let found = listing(&["-o", "NS,PID", "-Q", &filter]);
    let all = listing(&["-o", "NS,CONTAINER"]);
    for ns in ours {
        assert!(
            found.contains_key(ns),
            "-Q {filter:?} misses {ns}: {found:?}"
        );
    }
    for ns in found.keys() {
        // A namespace made between the two listings is not in the second: nothing to say.
        if let Some(c) = all.get(ns) {
            assert_eq!(c.as_str(), Some(want), "-Q {filter:?} found {ns}");
        }
    }
}

/// The states (`/proc/PID/stat` field 3) of every process in the container, from its own
/// `/proc` through the runtime's exec (`run_in`), less the observer's.
fn states_inside(run_in: &impl Fn(&str) -> Output) -> Vec<(String, String)> {
    let out = run_in("for f in /proc/[0-9]*/stat; do read -r l < $f && echo \"$l\"; done");
    out.ok()
        .stdout
        .lines()
        .filter_map(|l| {
            let (pid, rest) = l.split_once(' ')?;
            let (name, rest) = rest.rsplit_once(") ")?;
            Some((
                format!("{pid} {name})"),
                rest.split(' ').next()?.to_string(),
            ))
        })
        .collect()
}

/// Wait until the container's `/proc` shows no zombie (an orphan its init reaped).
fn check_no_zombie(run_in: impl Fn(&str) -> Output) {
    let start = Instant::now();
    loop {
        let zombies: Vec<_> = states_inside(&run_in)
            .into_iter()
            .filter(|(_, s)| s == "Z")
            .collect();
        if zombies.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "zombies in the container: {zombies:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The uid a rootless caller is inside its own container (mapped to root there).
const ROOT_INSIDE: u32 = 0;
/// The uid bubblewrap gives a rootless caller: its own.
const NOBODY_INSIDE: u32 = NOBODY;

/// Every check of nsenter and nsls against a running container whose PID 1 is `pid`
/// (made by uid 65534 when `rootless`: then root is checked too), `exec` being the
/// runtime's own way in.
fn check_container_entered(what: &str, pid: i32, rootless: bool, exec: impl Fn(&str) -> Output) {
    descendant_named(pid, "sleep");
    eprintln!("{what}: PID {pid}, cgroup {}", cgroup_v2_path(pid));
    check_nsenter(pid, rootless, ROOT_INSIDE);
    if rootless {
        check_nsenter(pid, false, ROOT_INSIDE);
    }
    check_agree(pid, rootless, exec);
    check_nsls(pid, rootless);
}

/// Whether every `(program, package)` is installed (else a skip naming the package).
fn need_tools(tools: &[(&str, &str)]) -> bool {
    tools
        .iter()
        .all(|(p, pkg)| harness::containers::need(p, pkg))
}

/// The cgroup v2 path of `pid` (the `0::` line of `/proc/PID/cgroup`), for the report.
fn cgroup_v2_path(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or("")
        .to_string()
}
