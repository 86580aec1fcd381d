//! The tools composed the way scripts use them: nsrun hands a target over (pid file, info
//! fd, persisted set) and nsenter enters it. The oracle is the kernel: the inodes nsenter's
//! command sees must be the ones nsrun's command is in.

use harness::{ns_ino, skip, Cmd, TempDir};

/// A shell snippet printing `kind inode` for the given kinds, as seen by the command.
fn show(kinds: &[&str]) -> String {
    format!(
        "for k in {}; do echo $k $(stat -L -c %i /proc/self/ns/$k); done",
        kinds.join(" ")
    )
}

fn parse(out: &str) -> Vec<(String, u64)> {
    out.lines()
        .filter_map(|l| {
            let (k, i) = l.split_once(' ')?;
            Some((k.to_string(), i.parse().ok()?))
        })
        .collect()
}

#[test]
fn by_pid_from_nsruns_pid_file() {
    if !harness::is_root() {
        return skip("needs root");
    }
    let dir = TempDir::new("compose-pidfile");
    let pidfile = dir.path().join("pid");
    let mut target = Cmd::tool("nsrun")
        .args(["-n", "-u", "-i"])
        .arg(format!("--pid-file={}", pidfile.display()))
        .args(["--", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(target.read_line(), "ready");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("pid file")
        .trim()
        .parse()
        .expect("a PID");
    let out = Cmd::tool("nsenter")
        .args(["-t", &pid.to_string(), "-n", "-u", "-i", "sh", "-c"])
        .arg(show(&["net", "uts", "ipc"]))
        .run();
    out.ok();
    let seen = parse(&out.stdout);
    assert_eq!(seen.len(), 3, "{out:?}");
    for (k, ino) in seen {
        assert_eq!(ino, ns_ino(Some(pid), &k), "{k}:{out:?}");
        assert_ne!(ino, ns_ino(None, &k), "{k} is the host's:{out:?}");
    }
}

#[test]
fn by_the_info_fd_json() {
    if !harness::is_root() {
        return skip("needs root");
    }
    let dir = TempDir::new("compose-info");
    let info = dir.path().join("info.json");
    let nsrun = harness::bin("nsrun");
    let mut target = Cmd::new("sh")
        .arg("-c")
        .arg(format!(
            "exec 3>'{}'; exec '{}' --info-fd=3 -n -u -p -- sh -c 'echo ready; exec sleep 60'",
            info.display(),
            nsrun.display()
        ))
        .spawn();
    assert_eq!(target.read_line(), "ready");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&info).expect("info file"))
            .expect("valid JSON");
    let child = json["child-pid"].as_i64().expect("child-pid") as i32;
    let out = Cmd::tool("nsenter")
        .args(["-t", &child.to_string(), "-n", "-u", "-p", "sh", "-c"])
        .arg(show(&["net", "uts", "pid"]))
        .run();
    out.ok();
    for (k, ino) in parse(&out.stdout) {
        let key = format!("{k}-namespace");
        assert_eq!(json[&key].as_u64(), Some(ino), "{key} in {json}:{out:?}");
        assert_eq!(ino, ns_ino(Some(child), &k), "{k}:{out:?}");
    }
    assert_eq!(parse(&out.stdout).len(), 3, "{out:?}");
}

#[test]
fn persisted_set_is_entered_with_from() {
    if !harness::is_root() {
        return skip("needs root");
    }
    let dir = TempDir::new("compose-persist");
    let set = dir.path().join("set");
    // The command exits at once; the namespaces live on, bind-mounted under DIR.
    Cmd::tool("nsrun")
        .arg(format!("--persist={}", set.display()))
        .args(["-n", "-u", "-i", "true"])
        .run()
        .ok();
    let expected: Vec<(String, u64)> = ["ipc", "net", "uts"]
        .iter()
        .map(|k| {
            let md = std::fs::metadata(set.join(k)).expect("persisted file");
            (k.to_string(), std::os::unix::fs::MetadataExt::ino(&md))
        })
        .collect();
    let out = Cmd::tool("nsenter")
        .arg(format!("--from={}", set.display()))
        .args(["sh", "-c"])
        .arg(show(&["ipc", "net", "uts"]))
        .run();
    out.ok();
    assert_eq!(parse(&out.stdout), expected, "{out:?}");
    for (k, ino) in &expected {
        assert_ne!(*ino, ns_ino(None, k), "{k} is the host's");
    }
}
