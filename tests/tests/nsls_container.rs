//! nsls's CONTAINER column against real runtimes (issue 12 item 5): a podman container and a
//! systemd-nspawn machine, each from a static busybox root filesystem made here, named by
//! `nsls -o +CONTAINER` and found by `-Q`. The oracle is the runtime's own word (`podman
//! inspect`'s id) and the kernel's (`/proc/PID/cgroup`, `/proc/PID/environ`). Small and
//! self-contained; the full runtime interop suite is `containers.rs`.

use std::path::Path;
use std::time::{Duration, Instant};

use harness::{have, is_root, skip, Bg, Cmd, TempDir};
use serde_json::Value;

/// A root filesystem with the static busybox as `sh`, `sleep` and `cat`.
fn busybox_root(dir: &Path) -> Option<()> {
    let out = Cmd::new("file").args(["-L", "/bin/busybox"]).run();
    if !out.stdout.contains("statically linked") {
        skip("needs a static /bin/busybox (Debian package busybox-static)");
        return None;
    }
    for d in ["bin", "usr", "etc", "proc", "sys", "dev", "tmp", "run"] {
        std::fs::create_dir_all(dir.join(d)).expect("mkdir");
    }
    std::fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("copy busybox");
    for c in ["sh", "sleep", "cat"] {
        std::os::unix::fs::symlink("busybox", dir.join("bin").join(c)).expect("symlink");
    }
    std::fs::write(dir.join("etc/os-release"), "ID=busybox\n").expect("os-release");
    Some(())
}

/// CONTAINER of every row whose PID is `pid`, from `nsls -J -l`.
fn containers_of(pid: i32) -> Vec<Value> {
    let out = Cmd::tool("nsls")
        .args([
            "-J",
            "-l",
            "-o",
            "NS,TYPE,PID,CONTAINER",
            "-p",
            &pid.to_string(),
        ])
        .run();
    out.ok();
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    v["namespaces"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| r["pid"] == pid)
        .map(|r| r["container"].clone())
        .collect()
}

/// Wait until `pid`'s command line is `want`, (the runtime has exec'd the payload).
fn wait_for_exec(pid: i32, want: &str) {
    let start = Instant::now();
    loop {
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmd).replace('\0', " ").trim() == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{pid} never ran {want}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// podman, its storage under a temporary directory, as this machine needs it (hybrid
/// cgroups: runc and cgroupfs; the rlimits podman would raise otherwise fail with EPERM).
struct Podman {
    dir: TempDir,
}

impl Podman {
    fn cmd(&self) -> Cmd {
        let d = self.dir.path();
        Cmd::new("podman")
            .arg(format!("--root={}", d.join("root").display()))
            .arg(format!("--runroot={}", d.join("runroot").display()))
            .arg(format!("--tmpdir={}", d.join("tmp").display()))
            .args([
                "--storage-driver=vfs",
                "--runtime=runc",
                "--cgroup-manager=cgroupfs",
                "--events-backend=file",
            ])
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.cmd().args(["rm", "-a", "-f", "-t", "0"]).run();
        let _ = self.cmd().args(["rmi", "-a", "-f"]).run();
        let _ = self.cmd().args(["system", "reset", "-f"]).run();
    }
}

#[test]
fn container_column_names_a_podman_container() {
    if !is_root() {
        return skip("needs root");
    }
    if !have("podman") || !have("runc") {
        return skip("needs podman and runc (Debian packages podman, runc)");
    }
    let pm = Podman {
        dir: TempDir::new("nsls-podman"),
    };
    let rootfs = pm.dir.path().join("rootfs");
    if busybox_root(&rootfs).is_none() {
        return;
    }
    let tar = pm.dir.path().join("rootfs.tar");
    Cmd::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .run()
        .ok();
    let tag = format!("nsls-{}", std::process::id());
    pm.cmd().arg("import").arg(&tar).arg(&tag).run().ok();
    pm.cmd()
        .args(["run", "-d", "--name", &tag, "--network=none"])
        .args(["--ulimit=nofile=1024:1024", "--ulimit=nproc=1024:1024"])
        .args([&tag, "/bin/sleep", "60"])
        .run()
        .ok();
    let out = pm
        .cmd()
        .args(["inspect", "--format", "{{.State.Pid}} {{.Id}}", &tag])
        .run();
    out.ok();
    let (pid, id) = out.stdout.trim().split_once(' ').expect("PID ID");
    let pid: i32 = pid.parse().expect("pid");
    wait_for_exec(pid, "/bin/sleep 60");
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    println!("podman container {pid}: /proc/PID/cgroup:\n{cgroup}");
    let want = format!("podman:{}", &id[..12]);
    let got = containers_of(pid);
    // Every namespace of the container (not the host's it shares) says so.
    assert!(got.len() >= 4, "{got:?}");
    assert!(got.iter().all(|c| *c == want.as_str()), "{want}: {got:?}");
    // -Q on it, shown or not, finds the container's rows and only those.
    let out = Cmd::tool("nsls")
        .args([
            "-J",
            "-l",
            "-o",
            "NS,PID",
            "-Q",
            &format!("CONTAINER == '{want}'"),
        ])
        .run();
    out.ok();
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let rows = v["namespaces"].as_array().expect("array");
    assert_eq!(rows.len(), got.len(), "{out:?}");
    assert!(rows.iter().all(|r| r["pid"] == pid), "{out:?}");
}

#[test]
fn container_column_names_an_nspawn_machine() {
    if !is_root() {
        return skip("needs root");
    }
    if !have("systemd-nspawn") {
        return skip("needs systemd-nspawn (Debian package systemd-container)");
    }
    let dir = TempDir::new("nsls-nspawn");
    let root = dir.path().join("root");
    if busybox_root(&root).is_none() {
        return;
    }
    let name = format!("nsls-box-{}", std::process::id());
    // Without systemd as PID 1 (this machine kind) nspawn cannot register a machine or a
    // scope: --register=no --keep-unit, and the payload's cgroup is …/payload. Where
    // systemd runs, the scope is machine.slice/machine-NAME.scope.
    let systemd = Path::new("/run/systemd/system").exists();
    let mut cmd = Cmd::new("systemd-nspawn").args(["-q", "-D"]).arg(&root);
    cmd = cmd.arg(format!("--machine={name}"));
    if !systemd {
        cmd = cmd.args(["--register=no", "--keep-unit"]);
    }
    let nspawn: Bg = cmd.args(["/bin/sleep", "60"]).spawn();
    // The payload: nspawn's child (after its own fork) that runs sleep.
    let start = Instant::now();
    let pid = loop {
        let found = harness::processes_mentioning("/bin/sleep 60")
            .iter()
            .filter_map(|l| l.split(':').next()?.parse::<i32>().ok())
            .find(|&p| {
                std::fs::read_to_string(format!("/proc/{p}/environ"))
                    .is_ok_and(|e| e.contains("container=systemd-nspawn"))
                    && harness::status_field(p, "NSpid").is_some_and(|s| s.ends_with("\t1"))
                    && ancestors_include(p, nspawn.pid())
            });
        if let Some(p) = found {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nspawn payload not found"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    println!("nspawn payload {pid}: /proc/PID/cgroup:\n{cgroup}");
    let want = if cgroup.contains(&format!("machine-{}.scope", name.replace('-', "\\x2d"))) {
        format!("nspawn:{name}")
    } else {
        // No machine scope: the container interface's environment names it.
        let env = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
        let uuid = env
            .split(|&b| b == 0)
            .find_map(|kv| kv.strip_prefix(b"container_uuid="))
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .expect("container_uuid");
        format!("nspawn:{uuid}")
    };
    let got = containers_of(pid);
    assert!(
        !got.is_empty() && got.iter().all(|c| *c == want.as_str()),
        "{want}: {got:?}"
    );
    drop(nspawn);
}

/// Whether `anc` is `pid` or one of its ancestors.
fn ancestors_include(pid: i32, anc: i32) -> bool {
    let mut p = pid;
    for _ in 0..64 {
        if p == anc {
            return true;
        }
        p = harness::status_field(p, "PPid")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if p <= 0 {
            return false;
        }
    }
    false
}
