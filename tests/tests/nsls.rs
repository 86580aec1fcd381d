//! nsls against the real kernel. The oracle is the kernel — `/proc/PID/ns/*` identities,
//! `NSpid`, the NS_GET_* ioctls through `nsutils_common::nsfs::NsFile` — and lsns where
//! lsns is right (JSON types, header names).

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use harness::{need_root, ns_ino, skip, status_field, Bg, Cmd, Netns, TempDir};
use nsutils_common::nsfs::NsFile;
use serde_json::Value;

/// Every row of `nsls -J ARGS`, children of trees included, flattened.
fn rows(args: &[&str]) -> Vec<Value> {
    let out = Cmd::tool("nsls").arg("-J").args(args).run();
    out.ok();
    let v: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("invalid JSON ({e}):{out:?}"));
    let mut all = Vec::new();
    fn walk(list: &Value, all: &mut Vec<Value>) {
        for r in list.as_array().expect("array") {
            all.push(r.clone());
            if let Some(c) = r.get("children") {
                walk(c, all);
            }
        }
    }
    walk(&v["namespaces"], &mut all);
    all
}

fn row(rows: &[Value], ino: u64) -> &Value {
    rows.iter()
        .find(|r| r["ns"] == ino)
        .unwrap_or_else(|| panic!("namespace {ino} not listed in {rows:#?}"))
}

/// The inode of the namespace an NsFile refers to.
fn ino_of(f: &NsFile) -> u64 {
    f.id().expect("fstat namespace").ino
}

fn ns_file(path: &str) -> NsFile {
    NsFile::open(Path::new(path), None).unwrap_or_else(|e| panic!("{e}"))
}

/// A process that prints `ready` and sleeps, started by `program args…`.
fn sleeper(cmd: Cmd) -> Bg {
    let mut bg = cmd.spawn();
    assert_eq!(bg.read_line(), "ready", "the helper did not start");
    bg
}

const READY: &str = "echo ready; exec sleep 60";

/// Wait until `pid` (a [`READY`] script run in place) has exec'd its `sleep`: `ready` comes
/// from the shell before the exec, and a COMMAND read in between is the shell's.
fn wait_exec_sleep(pid: i32) {
    let start = Instant::now();
    while !std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\0")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{pid} never exec'd sleep"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_gone(pid: i32) {
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{pid} did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn finds_namespaces_of_nsrun_and_unshare_with_the_kernels_values() {
    if !need_root() {
        return;
    }
    let a = sleeper(Cmd::tool("nsrun").args(["-n", "-u", "sh", "-c", READY]));
    let b = sleeper(Cmd::new("unshare").args(["-U", "-p", "-f", "sh", "-c", READY]));
    // unshare -f: the shell is unshare's child, PID 1 of the new pid namespace.
    let b_child: i32 = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", b.pid()))
        .expect("children")
        .split_whitespace()
        .next()
        .expect("unshare has a child")
        .parse()
        .expect("pid");
    let all = rows(&["-l", "-o", "NS,TYPE,NPROCS,PID,PNS,ONS,SOURCE,USER,UID"]);
    for kind in ["net", "uts"] {
        let ino = ns_ino(Some(a.pid()), kind);
        let r = row(&all, ino);
        assert_eq!(r["type"], kind, "{r}");
        assert_eq!(r["nprocs"], 1, "{r}");
        assert_eq!(r["pid"], a.pid(), "{r}");
        assert_eq!(r["pns"], 0, "{r}");
        let owner = ns_file(&format!("/proc/{}/ns/{kind}", a.pid()))
            .owner()
            .expect("NS_GET_USERNS");
        assert_eq!(r["ons"], ino_of(&owner), "{r}");
        assert_eq!(r["source"], "process", "{r}");
        assert_eq!(r["user"], "root", "{r}");
    }
    // The new pid namespace: its parent is ours, its owner the new user namespace.
    let pidns = ns_file(&format!("/proc/{b_child}/ns/pid"));
    let r = row(&all, ino_of(&pidns));
    assert_eq!(r["type"], "pid");
    assert_eq!(r["pid"], b_child, "{r}");
    assert_eq!(r["pns"], ino_of(&pidns.parent().expect("parent")), "{r}");
    assert_eq!(r["pns"], ns_ino(None, "pid"), "{r}");
    let userns = ns_ino(Some(b.pid()), "user");
    assert_eq!(r["ons"], userns, "{r}");
    let r = row(&all, userns);
    assert_eq!(r["type"], "user");
    assert_eq!(r["nprocs"], 2, "unshare and its child: {r}");
    assert_eq!(r["pid"], b.pid().min(b_child), "the lower of the two: {r}");
    assert_eq!(r["pns"], ns_ino(None, "user"), "{r}");
    assert_eq!(r["ons"], ns_ino(None, "user"), "{r}");
    assert_eq!(r["uid"], 0, "{r}");
}

#[test]
fn ip_netns_bind_mounts_have_nsfs_name_netnsid_and_the_owners_user() {
    if !need_root() {
        return;
    }
    let n = Netns::add("nsls-mount");
    let path = n.path().display().to_string();
    Cmd::new("ip")
        .args(["netns", "set", n.name(), "77"])
        .run()
        .ok();
    let ino = ns_file(&path).id().expect("id").ino;
    let all = rows(&[
        "-l",
        "-t",
        "net",
        "-o",
        "NS,TYPE,NPROCS,PID,USER,UID,NETNSID,NSFS,NAME,SOURCE,PATH",
    ]);
    let r = row(&all, ino);
    assert_eq!(r["type"], "net");
    assert_eq!(r["nprocs"], 0, "{r}");
    assert_eq!(r["pid"], Value::Null, "{r}");
    assert_eq!(r["nsfs"], path, "{r}");
    assert_eq!(r["name"], n.name(), "{r}");
    assert_eq!(r["path"], path, "{r}");
    assert_eq!(r["source"], "mount", "{r}");
    assert_eq!(r["netnsid"], "77", "ip netns set gave it 77: {r}");
    assert_eq!(
        (r["user"].clone(), r["uid"].clone()),
        ("root".into(), 0.into())
    );
    // -P: only namespaces without processes; ours is one of them.
    let persistent = rows(&["-P", "-l", "-o", "NS,NPROCS"]);
    row(&persistent, ino);
    assert!(
        persistent.iter().all(|r| r["nprocs"] == 0),
        "{persistent:#?}"
    );
    // The table shows NSFS and NETNSID by default for -t net.
    let out = Cmd::tool("nsls").args(["-t", "net", "-l"]).run();
    out.ok();
    let header: Vec<&str> = out
        .stdout
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NS", "TYPE", "NPROCS", "PID", "USER", "NETNSID", "NSFS", "COMMAND"]
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&ino.to_string()))
        .unwrap_or_else(|| panic!("{ino} missing:{out:?}"));
    assert!(line.contains(&path) && line.contains(" 77 "), "{line}");
}

/// Lazily unmounts a path on drop.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Cmd::new("umount").arg("-l").arg(&self.0).run();
    }
}

#[test]
fn bind_mount_of_a_process_namespace_keeps_it_listed_after_the_process() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("nsls-bind");
    let file = dir.path().join("uts");
    std::fs::write(&file, b"").expect("create mount point");
    // TempDir only unmounts the directory itself: unmount the file first, even on failure.
    let _unmount = Unmount(file.clone());
    let a = sleeper(Cmd::tool("nsrun").args(["-u", "sh", "-c", READY]));
    let ino = ns_ino(Some(a.pid()), "uts");
    Cmd::new("mount")
        .args(["--bind", &format!("/proc/{}/ns/uts", a.pid())])
        .arg(&file)
        .run()
        .ok();
    let f = file.to_string_lossy().into_owned();
    let all = rows(&["-l", "-t", "uts", "-o", "NS,NPROCS,NSFS,NAME,SOURCE"]);
    let r = row(&all, ino);
    assert_eq!(
        (r["nprocs"].clone(), r["nsfs"].clone(), r["name"].clone()),
        (1.into(), f.clone().into(), f.clone().into())
    );
    assert_eq!(r["source"], "process,mount");
    let pid = a.pid();
    drop(a);
    wait_gone(pid);
    let all = rows(&["-l", "-t", "uts", "-o", "NS,NPROCS,NSFS,SOURCE,PATH"]);
    let r = row(&all, ino);
    assert_eq!(r["nprocs"], 0, "{r}");
    assert_eq!(r["source"], "mount", "{r}");
    assert_eq!(r["path"], f, "{r}");
}

#[test]
fn namespace_held_only_by_a_thread_is_found() {
    if !need_root() {
        return;
    }
    // A thread of this test process moves into a new UTS namespace; the leader stays.
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUTS).expect("unshare uts");
        let tid = nix::unistd::gettid().as_raw();
        let ino = ns_ino(None, "uts"); // /proc/self resolves to the leader: not this one
        let mine = std::fs::metadata("/proc/thread-self/ns/uts")
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .expect("stat thread-self");
        tx.send((tid, ino, mine)).expect("send");
        let _ = stop_rx.recv();
    });
    let (tid, leader_ino, ino) = rx.recv().expect("thread started");
    assert_ne!(leader_ino, ino);
    let me = std::process::id() as i32;
    let all = rows(&["-l", "-t", "uts", "-o", "NS,NPROCS,PID,SOURCE,PATH"]);
    let r = row(&all, ino);
    assert_eq!(r["nprocs"], 1, "{r}");
    assert_eq!(r["pid"], me, "{r}");
    assert_eq!(r["source"], "thread", "{r}");
    assert_eq!(r["path"], format!("/proc/{me}/task/{tid}/ns/uts"), "{r}");
    // The process tree puts it under the namespace the process itself is in.
    let tree = Cmd::tool("nsls")
        .args(["-J", "-t", "uts", "-o", "NS,PID", "--tree=process"])
        .run();
    let v: Value = serde_json::from_str(&tree.stdout).expect("json");
    let parent = v["namespaces"]
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["ns"] == leader_ino)
        .unwrap_or_else(|| panic!("{leader_ino} not a root:{tree:?}"));
    assert!(
        parent["children"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["ns"] == ino)),
        "{parent}"
    );
    stop_tx.send(()).expect("stop");
    t.join().expect("thread");
}

#[test]
fn fd_held_namespace_and_its_processless_owner() {
    if !need_root() {
        return;
    }
    if !harness::need_rootless() {
        return;
    }
    // Nobody makes a user+net namespace; root opens the net namespace as fd 3; nobody's
    // process exits. Then only the fd holds the net namespace, and only the net namespace
    // holds nobody's user namespace.
    let a = sleeper(
        Cmd::new("unshare")
            .as_nobody()
            .args(["-U", "-r", "-n", "sh", "-c", READY]),
    );
    let holder =
        sleeper(Cmd::new("sh").args(["-c", &format!("exec 3</proc/{}/ns/net; {READY}", a.pid())]));
    let apid = a.pid();
    drop(a);
    wait_gone(apid);
    let fd3 = format!("/proc/{}/fd/3", holder.pid());
    let (net_ino, user_ino, owner_uid) = {
        // Closed again before nsls looks, so that the holder's fd is the only one.
        let net = ns_file(&fd3);
        let user = net.owner().expect("owner");
        (
            ino_of(&net),
            ino_of(&user),
            user.owner_uid().expect("owner uid"),
        )
    };
    let all = rows(&[
        "-l",
        "-o",
        "NS,TYPE,NPROCS,PID,UID,USER,PNS,ONS,SOURCE,PATH",
    ]);
    let r = row(&all, net_ino);
    assert_eq!(r["type"], "net");
    assert_eq!(r["nprocs"], 0, "{r}");
    assert_eq!(r["source"], "fd", "{r}");
    assert_eq!(r["path"], fd3, "{r}");
    assert_eq!(r["ons"], user_ino, "{r}");
    // lsns would say root: the owner is nobody.
    assert_eq!(
        (r["uid"].clone(), r["user"].clone()),
        (65534.into(), "nobody".into())
    );
    let r = row(&all, user_ino);
    assert_eq!(r["type"], "user");
    assert_eq!(r["nprocs"], 0, "{r}");
    assert_eq!(r["source"], "owner", "{r}");
    assert_eq!(r["uid"], owner_uid, "{r}");
    assert_eq!(r["uid"], 65534, "{r}");
    assert_eq!(r["pns"], ns_ino(None, "user"), "{r}");
    assert_eq!(r["path"], Value::Null, "{r}");
    // The owner tree: the net namespace under nobody's user namespace, under ours.
    let out = Cmd::tool("nsls")
        .args(["-J", "--tree=owner", "-o", "NS,TYPE"])
        .run();
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let root = v["namespaces"]
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["ns"] == ns_ino(None, "user"))
        .unwrap_or_else(|| panic!("our user namespace is no root:{out:?}"))
        .clone();
    let mid = root["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|r| r["ns"] == user_ino)
        .unwrap_or_else(|| panic!("{user_ino} not under our user namespace: {root}"))
        .clone();
    assert!(mid["children"]
        .as_array()
        .is_some_and(|c| c.iter().any(|r| r["ns"] == net_ino)));
    drop(holder);
}

#[test]
fn tree_modes_draw_the_kernels_relations() {
    if !need_root() {
        return;
    }
    // A pid namespace inside a pid namespace, each with a user namespace.
    let b = sleeper(Cmd::new("unshare").args([
        "-U", "-r", "-p", "-f", "unshare", "-U", "-r", "-p", "-f", "sh", "-c", READY,
    ]));
    let inner = innermost(b.pid());
    let pid2 = ns_file(&format!("/proc/{inner}/ns/pid"));
    let pid1 = pid2.parent().expect("parent");
    let (i2, i1) = (ino_of(&pid2), ino_of(&pid1));
    // --tree=parent: ours > pid1 > pid2, the NS column carries the glyphs.
    let out = Cmd::tool("nsls")
        .args(["--tree=parent", "-t", "pid", "-o", "NS,TYPE,PID"])
        .run();
    out.ok();
    let line_of = |ino: u64| {
        out.stdout
            .lines()
            .find(|l| l.contains(&ino.to_string()))
            .unwrap_or_else(|| panic!("{ino} missing:{out:?}"))
            .to_string()
    };
    let (l0, l1, l2) = (line_of(ns_ino(None, "pid")), line_of(i1), line_of(i2));
    assert!(l0.starts_with(&ns_ino(None, "pid").to_string()), "{l0}");
    assert!(l1.contains(&format!("─{i1}")), "{l1}");
    assert!(
        l2.contains(&format!("  └─{i2}")) || l2.contains(&format!("│ └─{i2}")),
        "{l2}"
    );
    // -T alone is the owner tree; in the process tree the COMMAND column is indented.
    let out = Cmd::tool("nsls").args(["-T", "-t", "pid"]).run();
    out.ok();
    assert!(
        out.stdout.lines().next().unwrap_or("").starts_with("NS "),
        "{out:?}"
    );
    let out = Cmd::tool("nsls").args(["-t", "pid"]).run();
    out.ok();
    let l = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&i1.to_string()))
        .unwrap_or_else(|| panic!("{i1}:{out:?}"));
    assert!(l.contains("└─") || l.contains("├─"), "process tree: {l}");
    // JSON nests the same way.
    let v: Value = serde_json::from_str(
        &Cmd::tool("nsls")
            .args(["-J", "--tree=parent", "-t", "pid", "-o", "NS"])
            .run()
            .stdout,
    )
    .expect("json");
    let top = v["namespaces"]
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["ns"] == ns_ino(None, "pid"))
        .expect("root")
        .clone();
    let c1 = top["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|r| r["ns"] == i1)
        .expect("pid1 under ours")
        .clone();
    assert_eq!(c1["children"][0]["ns"], i2);
    drop(b);
}

/// The deepest descendant of `pid` (following first children).
fn innermost(pid: i32) -> i32 {
    let start = Instant::now();
    let mut p = pid;
    loop {
        let kids =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        match kids.split_whitespace().next().and_then(|k| k.parse().ok()) {
            Some(k) => p = k,
            None if p != pid => return p,
            None => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no child of {pid}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn nspid_across_nested_pid_namespaces() {
    if !need_root() {
        return;
    }
    let b = sleeper(
        Cmd::tool("nsrun").args(["-p", "--fork", "unshare", "-p", "-f", "sh", "-c", READY]),
    );
    let inner = innermost(b.pid());
    let nspid: Vec<i64> = status_field(inner, "NSpid")
        .expect("NSpid")
        .split_whitespace()
        .map(|w| w.parse().expect("number"))
        .collect();
    assert_eq!(nspid.len(), 3, "{nspid:?}");
    assert_eq!(nspid[2], 1);
    let pid2 = ns_file(&format!("/proc/{inner}/ns/pid"));
    let pid1 = pid2.parent().expect("parent");
    let want_ns = [ns_ino(None, "pid"), ino_of(&pid1), ino_of(&pid2)];
    let out = Cmd::tool("nsls")
        .args(["--pids", &inner.to_string(), "-J"])
        .run();
    out.ok();
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let levels = v["nspids"].as_array().expect("nspids");
    assert_eq!(levels.len(), 3, "{out:?}");
    for (l, lv) in levels.iter().enumerate() {
        assert_eq!(lv["level"], l, "{lv}");
        assert_eq!(lv["pid"], nspid[l], "{lv}");
        assert_eq!(lv["ns"], want_ns[l], "{lv}");
    }
    // The NSPID column of the innermost namespace's process.
    let all = rows(&["-l", "-o", "NS,PID,NSPID", "-t", "pid"]);
    let r = row(&all, want_ns[2]);
    assert_eq!(r["pid"], inner);
    assert_eq!(r["nspid"], serde_json::json!(nspid), "{r}");
    // Positional: the processes of that namespace.
    let out = Cmd::tool("nsls")
        .args([&want_ns[2].to_string(), "-r", "-n", "-o", "PID,NSPID"])
        .run();
    out.ok();
    assert_eq!(
        out.stdout.trim(),
        format!("{inner} {}\\x20{}\\x201", nspid[0], nspid[1]),
        "{out:?}"
    );
}

/// lsns ARGS, retried: lsns exits 1 without a word when a process vanishes under it, which
/// the other tests running in parallel make likely.
fn lsns(args: &[&str]) -> harness::Output {
    for _ in 0..10 {
        let out = Cmd::new("lsns").args(args).run();
        if out.status.success() {
            return out;
        }
    }
    let out = Cmd::new("lsns").args(args).run();
    out.ok();
    out
}

#[test]
fn json_is_valid_and_typed_like_lsns() {
    let all = rows(&["-l", "--output-all"]);
    assert!(!all.is_empty());
    let types: Vec<(&str, &str)> = vec![
        ("ns", "number"),
        ("type", "string"),
        ("path", "string"),
        ("nprocs", "number"),
        ("pid", "number"),
        ("ppid", "number"),
        ("command", "string"),
        ("uid", "number"),
        ("user", "string"),
        ("netnsid", "string"),
        ("nsfs", "string"),
        ("pns", "number"),
        ("ons", "number"),
        ("source", "string"),
        ("name", "string"),
        ("nspid", "array"),
        ("pidino", "number"),
        ("container", "string"),
    ];
    let kind = |v: &Value| match v {
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Null => "null",
        _ => "other",
    };
    for r in &all {
        let keys: Vec<&String> = r.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), types.len(), "{r}");
        for (k, t) in &types {
            let got = kind(&r[*k]);
            assert!(got == *t || got == "null", "{k} is {got}, want {t}: {r}");
        }
        assert_ne!(r["ns"], Value::Null);
    }
    // -J -l is flat (lsns nests -J alone, tested in json_nests_like_lsns).
    let flat = Cmd::tool("nsls").args(["-J", "-l"]).run();
    flat.ok();
    let v: Value = serde_json::from_str(&flat.stdout).expect("json");
    assert!(is_flat(&v), "{flat:?}");
    // lsns agrees on the type of every column it has, wherever it has a value.
    if !harness::have("lsns") {
        return skip("lsns is not installed");
    }
    let out = lsns(&["-J", "-l", "--output-all"]);
    let lsns: Value = serde_json::from_str(&out.stdout).expect("lsns JSON");
    let lrows = lsns["namespaces"].as_array().expect("array");
    for k in lrows[0].as_object().expect("object").keys() {
        let Some(v) = lrows.iter().map(|r| &r[k]).find(|v| !v.is_null()) else {
            continue;
        };
        let ours = all.iter().find(|r| !r[k].is_null()).map(|r| kind(&r[k]));
        assert_eq!(ours, Some(kind(v)), "column {k}: lsns {v}");
    }
}

#[test]
fn default_output_matches_lsns_layout() {
    if !harness::have("lsns") {
        return skip("lsns is not installed");
    }
    for args in [
        &[][..],
        &["-l"],
        &["-t", "net"],
        &["-o", "+PNS,ONS"],
        &["-r"],
    ] {
        let ours = Cmd::tool("nsls").args(args).run();
        ours.ok();
        let theirs = lsns(args);
        let head = |s: &str| {
            s.lines()
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(head(&ours.stdout), head(&theirs.stdout), "{args:?}");
    }
    // Our own namespaces: same PID as lsns in the flat list.
    let me = ns_ino(None, "mnt").to_string();
    let pick = |out: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(&me))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
    };
    let ours = Cmd::tool("nsls").args(["-l", "-n", "-o", "NS,PID"]).run();
    let theirs = lsns(&["-l", "-n", "-o", "NS,PID"]);
    assert_eq!(pick(&ours.stdout), pick(&theirs.stdout));
    // Every namespace lsns lists, nsls lists too. Namespaces come and go while tests run
    // (and nsfs reuses inode numbers at once), so a namespace counts as missed only when
    // the process lsns found it in was still in it, by the kernel's word, after nsls ran.
    let before = lsns(&["-l", "-n", "-o", "NS,TYPE,PID"]).stdout;
    let ours: HashSet<String> = Cmd::tool("nsls")
        .args(["-l", "-n", "-o", "NS"])
        .run()
        .stdout
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    let still_there = |ns: &str, kind: &str, pid: &str| {
        std::fs::metadata(format!("/proc/{pid}/ns/{kind}"))
            .is_ok_and(|m| std::os::unix::fs::MetadataExt::ino(&m).to_string() == ns)
    };
    let missing: Vec<&str> = before
        .lines()
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() == 3 && !ours.contains(w[0]) && still_there(w[0], w[1], w[2])
        })
        .collect();
    assert!(missing.is_empty(), "nsls misses {missing:?}");
}

#[test]
fn filters_select_rows_by_any_column() {
    if !need_root() {
        return;
    }
    let a = sleeper(Cmd::tool("nsrun").args(["-n", "sh", "-c", READY]));
    wait_exec_sleep(a.pid());
    let net = ns_ino(Some(a.pid()), "net");
    let pid = a.pid().to_string();
    let q = |expr: &str, cols: &str| rows(&["-l", "-o", cols, "-Q", expr]);
    let r = q(&format!("PID == {pid} and TYPE eq \"net\""), "NS");
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0]["ns"], net);
    // Columns in the filter need not be shown.
    let r = q(&format!("NS == {net} && (NPROCS > 0 || PID < 0)"), "TYPE");
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0]["type"], "net");
    let r = q(&format!("COMMAND =~ '^sleep 6' and NS eq {net}"), "NS,TYPE");
    assert_eq!(r.len(), 1, "{r:#?}");
    let r = q(&format!("COMMAND !~ '^sleep' and NS eq {net}"), "NS,TYPE");
    assert!(r.is_empty(), "{r:#?}");
    let r = q(&format!("not (TYPE != 'net') and PID == {pid}"), "NS");
    assert_eq!(r.len(), 1);
    let r = q(
        &format!("PID >= {pid} && PID <= {pid} && TYPE == 'user'"),
        "NS",
    );
    assert!(
        r.is_empty(),
        "the user namespace's lowest PID is not ours: {r:#?}"
    );
    let r = q("TYPE == 'net' and NPROCS ge 1", "TYPE,NPROCS");
    assert!(!r.is_empty() && r.iter().all(|r| r["type"] == "net"));
}

#[test]
fn task_and_namespace_arguments() {
    if !need_root() {
        return;
    }
    let a = sleeper(Cmd::tool("nsrun").args(["-n", "sh", "-c", READY]));
    let all = rows(&["-p", &a.pid().to_string(), "-l", "-o", "NS,TYPE"]);
    assert_eq!(all.len(), 8, "{all:#?}");
    for r in &all {
        let kind = r["type"].as_str().expect("type");
        assert_eq!(r["ns"], ns_ino(Some(a.pid()), kind), "{r}");
    }
    let net = ns_ino(Some(a.pid()), "net");
    let out = Cmd::tool("nsls").arg(net.to_string()).run();
    out.ok();
    let head: Vec<&str> = out
        .stdout
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(head, ["PID", "PPID", "USER", "COMMAND"], "{out:?}");
    assert!(
        out.stdout
            .lines()
            .nth(1)
            .is_some_and(|l| l.trim_start().starts_with(&a.pid().to_string())),
        "{out:?}"
    );
    // Scripting: -n -o PID -t net feeds xargs; -0 separates records with NUL.
    let out = Cmd::tool("nsls")
        .args(["-n", "-o", "PID", "-t", "net", "-l"])
        .run();
    out.ok();
    assert!(
        out.stdout
            .lines()
            .all(|l| l.trim().is_empty() || l.trim().parse::<i32>().is_ok()),
        "{out:?}"
    );
    assert!(out.stdout.lines().any(|l| l.trim() == a.pid().to_string()));
    let out = Cmd::tool("nsls")
        .args(["-n", "-r", "-0", "-o", "NS", "-t", "net", "-l"])
        .run();
    out.ok();
    assert!(
        !out.stdout.contains('\n') && out.stdout.split('\0').any(|f| f == net.to_string()),
        "{out:?}"
    );
}

#[test]
fn list_columns_and_help() {
    let out = Cmd::tool("nsls").arg("-H").run();
    out.ok();
    for c in [
        "NS",
        "TYPE",
        "PATH",
        "NPROCS",
        "PID",
        "PPID",
        "COMMAND",
        "UID",
        "USER",
        "NETNSID",
        "NSFS",
        "PNS",
        "ONS",
        "SOURCE",
        "NAME",
        "NSPID",
        "PIDINO",
        "CONTAINER",
    ] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.split_whitespace().next() == Some(c)),
            "{c}:{out:?}"
        );
    }
    let out = Cmd::tool("nsls").args(["-H", "-J"]).run();
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["columns"].as_array().map(Vec::len), Some(18));
    Cmd::tool("nsls")
        .arg("--help")
        .run()
        .ok()
        .stdout_has("NETNSID");
    Cmd::tool("nsls").arg("-V").run().ok().stdout_has("nsls");
}

#[test]
fn rootless_lists_own_namespaces_and_counts_the_rest() {
    if !harness::need_rootless() {
        return;
    }
    let a = sleeper(
        Cmd::tool("nsrun")
            .as_nobody()
            .args(["-r", "-n", "sh", "-c", READY]),
    );
    let out = Cmd::tool("nsls")
        .as_nobody()
        .args(["-J", "-l", "-o", "NS,TYPE,NPROCS,PID,USER,ONS"])
        .run();
    out.ok();
    // root's processes cannot be read by nobody: a script's stderr stays clean (as lsns's),
    // a terminal is told, --strict fails.
    assert!(out.stderr.is_empty(), "{out:?}");
    let tty = on_terminal(
        Cmd::new("script").as_nobody(),
        &harness::bin_for_nobody("nsls"),
        "-l",
    );
    tty.ok();
    assert!(tty.stdout.contains("could not be read"), "{tty:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let all = v["namespaces"].as_array().expect("array").clone();
    for kind in ["user", "net"] {
        let r = row(&all, ns_ino(Some(a.pid()), kind));
        assert_eq!(r["type"], kind);
        assert_eq!(r["pid"], a.pid(), "{r}");
        assert_eq!(r["user"], "nobody", "{r}");
    }
    let r = row(&all, ns_ino(Some(a.pid()), "net"));
    assert_eq!(r["ons"], ns_ino(Some(a.pid()), "user"), "{r}");
    Cmd::tool("nsls")
        .as_nobody()
        .args(["--strict"])
        .run()
        .code_is(1)
        .stderr_has("could not be read");
}

/// Run `prog args` with a terminal for stdin, stdout and stderr (`script`), whose output
/// (both streams) comes back as stdout.
fn on_terminal(script: Cmd, prog: &Path, args: &str) -> harness::Output {
    script
        .args(["-qec", &format!("{} {args}", prog.display()), "/dev/null"])
        .run()
}

/// Every input error is alone on stderr: one line, at most a hint after it, exit 1, nothing
/// on stdout, and no scan warning before it.
fn alone_on_stderr(out: &harness::Output, want: &[&str]) {
    out.code_is(1);
    assert!(out.stdout.is_empty(), "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        (1..=2).contains(&lines.len())
            && lines[0].starts_with("nsls: ")
            && lines.get(1).map_or(true, |l| l.starts_with("nsls: hint: ")),
        "{out:?}"
    );
    for w in want {
        out.stderr_has(w);
    }
}

#[test]
fn bad_input_is_one_clear_line_and_exit_1() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["-o", "NS,BOGUS"], &["unknown column: BOGUS"]),
        (
            &["-t", "bogus"],
            &["unknown namespace type: bogus", "types are cgroup"],
        ),
        (
            &["-Q", "PID == "],
            &["cannot parse filter: column 8: unexpected end"],
        ),
        (
            &["-Q", "FOO > 1"],
            &["column 1: unknown column 'FOO'", "--list-columns"],
        ),
        // Issue 16 item 10: a bare word after an operator was meant as a string.
        (
            &["-Q", "TYPE == net && NPROCS > 1"],
            &[
                "unknown column 'net'",
                r#"hint: strings need quotes inside the expression: -Q 'TYPE == "net" && NPROCS > 1'"#,
            ],
        ),
        (&["-J", "-r"], &["cannot be used with"]),
        (
            &["-p", "999999999"],
            &[
                "cannot read the namespaces of process 999999999: No such process",
                "check the PID",
            ],
        ),
        (&["--pids", "999999999"], &["cannot read process 999999999"]),
        (&["123"], &["namespace 123 not found", "NS column"]),
        (&["abc"], &["invalid namespace argument: 'abc'"]),
        // Issue 16 item 9: valid values listed, misspellings get "did you mean".
        (
            &["--tree=foo"],
            &["'foo'", "hint: valid values: process, parent, owner"],
        ),
        (&["--trees"], &["'--trees'", "hint: did you mean '--tree'?"]),
        (
            &["--outpt", "NS"],
            &["'--outpt'", "did you mean '--output'?"],
        ),
        (
            &["--no"],
            &[
                "option '--no' is ambiguous",
                "'--noheadings', '--notruncate', '--nowrap'",
            ],
        ),
        (&["-p", "abc"], &["invalid PID"]),
    ];
    for (args, want) in cases {
        alone_on_stderr(&Cmd::tool("nsls").args(*args).run(), want);
    }
    // As nobody on a terminal the scan would warn about root's processes: an error about
    // the input still comes alone (issue 13 item 3). `script` merges the two streams.
    if !harness::have("script") {
        return skip("script (bsdutils) is not installed");
    }
    for (args, want) in [
        ("-p 999999999", "No such process"),
        ("12345", "namespace 12345 not found"),
        ("-Q 'TYPE == net'", "unknown column 'net'"),
    ] {
        let out = on_terminal(
            Cmd::new("script").as_nobody(),
            &harness::bin_for_nobody("nsls"),
            args,
        );
        out.code_is(1);
        let lines: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(
            lines.len() <= 2 && lines[0].contains(want),
            "{args}: {out:?}"
        );
        assert!(!out.stdout.contains("warning"), "{args}: {out:?}");
    }
    // The namespace that was not found may belong to a process nobody cannot read: the
    // hint says so.
    Cmd::tool("nsls")
        .as_nobody()
        .arg("12345")
        .run()
        .code_is(1)
        .stderr_has("could not be read (run as root to see theirs)");
}

/// Long-option prefixes as util-linux's getopt_long takes them, side by side with lsns
/// (issue 16 item 1): a unique prefix is the option, an ambiguous one is an error.
#[test]
fn long_option_prefixes_like_lsns() {
    if !harness::have("lsns") {
        return skip("lsns is not installed");
    }
    let cases: &[&[&str]] = &[
        &["--typ", "net"],
        &["--ty=net"],
        &["--js"],
        &["--jso", "-l"],
        &["--noh"],
        &["--notr", "--now"],
        &["--ra"],
        &["--tas", "SELF"],
        &["--tre=owner"],
        &["--outp", "NS"],
        &["--out", "NS"],
        &["--no"],
        &["--n"],
        &["--list", "--output-a"],
    ];
    for args in cases {
        // `--li` alone is --list for lsns 2.38 but ambiguous for nsls, which has
        // --list-columns too (as lsns 2.39+ does): the table avoids it, the man page says so.
        let me = std::process::id().to_string();
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "SELF" { me.as_str() } else { a })
            .collect();
        // lsns 2.38 now and then exits 1, silently, when a namespace vanishes while it
        // reads (other tests make and drop them all the time): a disagreement is looked at
        // again, a few times. One about the options themselves is there every time.
        let (mut theirs, mut ours);
        let mut attempts = 0;
        loop {
            theirs = Cmd::new("lsns").args(&args).run();
            ours = Cmd::tool("nsls").args(&args).run();
            attempts += 1;
            if ours.status.success() == theirs.status.success() || attempts == 5 {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            ours.status.success(),
            theirs.status.success(),
            "{args:?}: lsns {theirs:?} nsls {ours:?}"
        );
        if !ours.status.success() {
            alone_on_stderr(&ours, &["ambiguous"]);
        }
    }
    let ours = Cmd::tool("nsls").arg("--li").run();
    alone_on_stderr(&ours, &["'--list', '--list-columns'"]);
}

/// A zombie keeps its pid and user namespaces (their links stay readable while the others
/// vanish): lsns lists such a namespace, and so must nsls — a PID-namespace init whose
/// parent has not reaped it yet is common while a container shuts down.
#[test]
fn zombie_held_pid_namespace_is_listed() {
    if !need_root() {
        return;
    }
    // `unshare -p` without -f: perl's first child is PID 1 of the new namespace; it exits
    // at once and perl does not reap it.
    let mut holder = Cmd::new("unshare")
        .args([
            "-p",
            "perl",
            "-e",
            "$|=1; my $p=fork(); if(!$p){exit 0} print \"$p\\n\"; sleep 60",
        ])
        .spawn();
    let zombie: i32 = holder.read_line().parse().expect("zombie pid");
    // Wait until the child really is a zombie.
    for _ in 0..200 {
        if harness::status_field(zombie, "State").is_some_and(|s| s.starts_with('Z')) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let ino = harness::ns_ino(Some(zombie), "pid").to_string();
    let out = Cmd::tool("nsls")
        .args(["-l", "-n", "-o", "NS,TYPE,NPROCS,PID", "-t", "pid"])
        .run();
    out.ok();
    let row = out
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(ino.as_str()))
        .unwrap_or_else(|| panic!("zombie-held pid namespace {ino} not listed:{out:?}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1..], ["pid", "1", &zombie.to_string()], "{row}");
    Cmd::tool("nsls")
        .args(["-p", &zombie.to_string(), "-n", "-o", "NS", "-t", "pid"])
        .run()
        .ok()
        .stdout_has(&ino);
}

/// Debian's python3 (not a pyenv shim, which nobody may not reach).
const PY: &str = "/usr/bin/python3";

/// A process that keeps a network namespace alive by one socket only: its child unshares a
/// net namespace (and a user namespace, with `user`), makes a UDP socket there, hands it
/// over with SCM_RIGHTS and exits. The holder prints its PID, the socket's fd, the socket's
/// inode and — the oracle — the inode of the socket's namespace by the kernel's SIOCGSKNS.
const SOCKET_HOLDER: &str = r#"
import ctypes, fcntl, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
pid = os.fork()
if pid == 0:
    flags = 0x40000000 | (0x10000000 if sys.argv[1] == "user" else 0)
    if libc.unshare(flags) != 0:
        os._exit(1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    socket.send_fds(b, [b"x"], [s.fileno()])
    os._exit(0)
_, fds, _, _ = socket.recv_fds(a, 1, 1)
os.waitpid(pid, 0)
a.close(); b.close()
fd = fds[0]
nsfd = fcntl.ioctl(fd, 0x894C)
ns = os.fstat(nsfd).st_ino
os.close(nsfd)
print(os.getpid(), fd, os.fstat(fd).st_ino, ns, flush=True)
time.sleep(60)
"#;

/// Start a socket holder; (holder, fd, socket inode, namespace inode).
fn socket_holder(cmd: Cmd) -> (Bg, i32, u64, u64) {
    let mut bg = cmd.spawn();
    let line = bg.read_line();
    let w: Vec<u64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap_or_else(|_| panic!("holder said {line:?}")))
        .collect();
    assert_eq!(w.len(), 4, "holder said {line:?}");
    assert_ne!(
        w[3],
        ns_ino(Some(bg.pid()), "net"),
        "the socket is in the holder's own netns"
    );
    (bg, w[1] as i32, w[2], w[3])
}

fn need_root_and_python() -> bool {
    if !Path::new(PY).exists() {
        skip("needs /usr/bin/python3 (Debian package python3)");
        return false;
    }
    need_root()
}

fn check_socket_row(all: &[Value], ns: u64, user: &str) {
    let r = row(all, ns);
    assert_eq!(r["type"], "net", "{r}");
    assert_eq!(r["nprocs"], 0, "{r}");
    assert_eq!(r["pid"], Value::Null, "{r}");
    assert_eq!(r["source"], "socket", "{r}");
    assert_eq!(r["user"], user, "{r}");
    assert_eq!(r["nsfs"], Value::Null, "{r}");
    // NETNSID is asked of the kernel through the namespace, reopened by the socket.
    assert!(r["netnsid"].is_string(), "{r}");
}

/// Issue 13 item 1: a network namespace that only a socket keeps alive is listed, with its
/// columns, as root and for one's own processes unprivileged.
#[test]
fn socket_held_network_namespace_is_found() {
    if !need_root_and_python() {
        return;
    }
    let (h, _fd, _sock, ns) = socket_holder(Cmd::new(PY).args(["-c", SOCKET_HOLDER, "root"]));
    let cols = "NS,TYPE,NPROCS,PID,USER,SOURCE,NETNSID,NSFS,PATH";
    let all = rows(&["-l", "-o", cols]);
    check_socket_row(&all, ns, "root");
    // -Q finds it by its inode; --shallow does not look at sockets.
    let r = rows(&["-l", "-o", "NS,SOURCE", "-Q", &format!("NS == {ns}")]);
    assert_eq!(r.len(), 1, "{r:#?}");
    let out = Cmd::tool("nsls")
        .args(["--shallow", "-l", "-n", "-o", "NS"])
        .run();
    out.ok();
    assert!(
        !out.stdout.lines().any(|l| l.trim() == ns.to_string()),
        "{out:?}"
    );
    // Its owner is the user namespace it was made in (ours).
    let r = rows(&["-l", "-o", "NS,ONS", "-t", "net"]);
    assert_eq!(row(&r, ns)["ons"], ns_ino(None, "user"));
    drop(h);
    if !harness::need_rootless() {
        return;
    }
    let (h, _fd, _sock, ns) =
        socket_holder(Cmd::new(PY).as_nobody().args(["-c", SOCKET_HOLDER, "user"]));
    let out = Cmd::tool("nsls")
        .as_nobody()
        .args(["-J", "-l", "-o", cols])
        .run();
    out.ok();
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    check_socket_row(v["namespaces"].as_array().expect("array"), ns, "nobody");
    drop(h);
}

/// Sockets that close and processes that exit while nsls reads them never fail the
/// listing, and never yield a namespace that was not the socket's: every socket-found row
/// is a network namespace with no process.
#[test]
fn socket_source_survives_churn() {
    if !need_root_and_python() {
        return;
    }
    // Processes that each hold a socket in a new net namespace for a moment, then close it
    // (its fd number reused at once by a plain file) and exit, until the stop file appears
    // (at most a minute). The listings are counted, not timed: on a loaded machine a few
    // seconds may hold only a couple of them.
    let dir = TempDir::new("nsls-churn");
    let stop = dir.path().join("stop");
    let churn = r#"
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
end = time.time() + 60
n = 0
print("started", flush=True)
while time.time() < end and not os.path.exists(sys.argv[1]):
    if os.fork() == 0:
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        libc.unshare(0x40000000)
        s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(20)]
        libc.setns(home, 0x40000000)
        os.close(home)
        for x in s:
            fd = x.fileno(); x.close(); os.open("/dev/null", os.O_RDONLY)
        os._exit(0)
    os.wait()
    n += 1
print("done", n, flush=True)
"#;
    let mut c = Cmd::new(PY).args(["-c", churn]).arg(&stop).spawn();
    assert_eq!(c.read_line(), "started");
    for _ in 0..8 {
        let out = Cmd::tool("nsls")
            // Every type, not `-t net`: a socket row of another type would be a wrong
            // namespace, which the filter would hide.
            .args(["-J", "-l", "-o", "NS,TYPE,NPROCS,SOURCE"])
            .run();
        out.ok();
        let v: Value = serde_json::from_str(&out.stdout).expect("json");
        for r in v["namespaces"].as_array().expect("array") {
            if r["source"].as_str().is_some_and(|s| s.contains("socket")) {
                assert_eq!(r["type"], "net", "{r}");
            }
            if r["source"] == "socket" {
                assert_eq!(r["nprocs"], 0, "{r}");
            }
        }
    }
    std::fs::write(&stop, "").expect("stop file");
    let done = c.read_line();
    let made: u32 = done
        .strip_prefix("done ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the churn ended early: {done:?}"));
    assert!(made > 0, "no namespace came and went during the listings");
}

/// Issue 13 item 2: `-J` nests like lsns's default process tree, compared with the
/// installed lsns on one population: the same rows, and every parent/child pair lsns nests
/// nested the same way (nsls may nest more: see the man page).
#[test]
fn json_nests_like_lsns() {
    if !need_root() {
        return;
    }
    if !harness::have("lsns") {
        return skip("lsns is not installed");
    }
    // A shell with new net+uts (the PID of two rows: children go under the higher inode),
    // a child with a new ipc, a grandchild with a new uts behind a plain shell (lsns leaves
    // it at the top), and a net namespace nested three deep.
    let script = r#"unshare -i sleep 60 &
sh -c 'unshare -u sleep 60' &
unshare -m sh -c 'unshare -n sleep 60 & sleep 60' &
echo ready; exec sleep 60"#;
    let top = sleeper(Cmd::new("unshare").args(["-n", "-u", "sh", "-c", script]));
    // Settled when all five sleeps run (every unshare done): both tools see one population.
    let start = Instant::now();
    while harness::processes_mentioning("sleep 60")
        .iter()
        .filter(|l| l.ends_with(": sleep 60 ") && descends(l, top.pid()))
        .count()
        < 5
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "population never settled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mine = |pid: &Value| {
        pid.as_i64()
            .is_some_and(|p| descends_pid(p as i32, top.pid()))
    };
    // (ns, parent ns or 0) of every row, by walking the nested JSON.
    fn pairs(v: &Value) -> Vec<(u64, u64, Value)> {
        fn walk(list: &Value, parent: u64, out: &mut Vec<(u64, u64, Value)>) {
            for r in list.as_array().expect("array") {
                let ns = r["ns"].as_u64().expect("ns");
                out.push((ns, parent, r["pid"].clone()));
                if let Some(c) = r.get("children") {
                    walk(c, ns, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&v["namespaces"], 0, &mut out);
        out
    }
    let json = |out: harness::Output| -> Value {
        out.ok();
        serde_json::from_str(&out.stdout).expect("json")
    };
    let theirs = pairs(&json(lsns(&["-J"])));
    let ours = pairs(&json(Cmd::tool("nsls").arg("-J").run()));
    let ours_of = |ns: u64| ours.iter().find(|(n, _, _)| *n == ns);
    let population: Vec<&(u64, u64, Value)> = theirs.iter().filter(|(_, _, p)| mine(p)).collect();
    assert!(population.len() >= 6, "{theirs:?}");
    let mut nested = 0;
    for (ns, parent, pid) in &population {
        let o = ours_of(*ns).unwrap_or_else(|| panic!("lsns row {ns} missing: {ours:?}"));
        assert_eq!(&o.2, pid, "PID of {ns}");
        if *parent != 0 {
            nested += 1;
            assert_eq!(
                o.1, *parent,
                "lsns nests {ns} under {parent}, nsls under {}",
                o.1
            );
        }
    }
    // nsfs reuses inodes, and lsns nests only under a row with a lower one: how many of
    // the population's rows it nests varies from run to run.
    assert!(nested >= 1, "lsns nested none: {theirs:?}");
    // The grandchild behind a plain shell: lsns leaves it at the top, nsls nests it.
    let deep = theirs.iter().find(|(_, parent, pid)| {
        *parent == 0 && mine(pid) && pid.as_i64() != Some(top.pid().into())
    });
    if let Some((ns, _, _)) = deep {
        assert_ne!(ours_of(*ns).map(|o| o.1), Some(0), "nsls nests {ns} too");
    }
    // -J -l is flat, and without COMMAND (the tree column) -J is flat too, as lsns's.
    for args in [&["-J", "-l"][..], &["-J", "-o", "NS,TYPE"]] {
        let v = json(Cmd::tool("nsls").args(args).run());
        let l = json(lsns(args));
        for v in [&v, &l] {
            assert!(is_flat(v), "{args:?}: {v}");
        }
    }
    drop(top);
}

/// Whether the process of a `PID: command` line descends from `top` (or is it).
fn descends(line: &str, top: i32) -> bool {
    descends_pid(
        line.split(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
        top,
    )
}

/// Whether a `-J` listing has no nested rows.
fn is_flat(v: &Value) -> bool {
    v["namespaces"]
        .as_array()
        .expect("array")
        .iter()
        .all(|r| r.get("children").is_none())
}

/// Whether process `p` descends from `top` (or is it).
fn descends_pid(mut p: i32, top: i32) -> bool {
    for _ in 0..64 {
        if p == top {
            return true;
        }
        p = status_field(p, "PPid")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if p <= 0 {
            return false;
        }
    }
    false
}

/// Issue 16 item 13: PIDINO is the pidfs inode that nsenter's `-t PID:INODE` checks.
#[test]
fn pidino_is_what_nsenter_pins() {
    if !need_root() {
        return;
    }
    let a = sleeper(Cmd::tool("nsrun").args(["-n", "sh", "-c", READY]));
    let pid = a.pid().to_string();
    let out = Cmd::tool("nsls")
        .args([
            "-n",
            "-l",
            "-t",
            "net",
            "-o",
            "PID,PIDINO",
            "-Q",
            &format!("PID == {pid}"),
        ])
        .run();
    out.ok();
    let w: Vec<&str> = out.stdout.split_whitespace().collect();
    assert_eq!(w.len(), 2, "{out:?}");
    assert_eq!(w[0], pid);
    let ino: u64 = w[1].parse().expect("PIDINO is a number");
    assert_eq!(harness::pidfs_inode(&pid), ino);
    Cmd::tool("nsenter")
        .args(["-t", &format!("{pid}:{ino}"), "-n", "true"])
        .run()
        .ok();
}
