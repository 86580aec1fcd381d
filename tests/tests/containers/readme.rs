//! The container examples as they are written — the podman block of the README's "With
//! containers" and every block of docs/containers.md: each `sh` block is a script run by
//! `sh -e`, with our `nsenter`, `nsls` and the static nsinit (as `nsinit-static`) first in
//! `PATH`; the `dockerfile` block is the `Containerfile` the build block builds. The
//! environment gives what the examples take as given: podman configured for this machine
//! (through `CONTAINERS_CONF`), the image as `busybox`, a runc bundle in the current
//! directory, `$rootfs`.

use std::path::{Path, PathBuf};

use harness::containers::{need, Image, Podman, Runc};
use harness::{bin, bin_for_nobody, skip, Cmd, Output, TempDir};

use crate::podman::{rootless_ready, IMAGE};
use crate::unique;

/// The fenced blocks of `text`: (language, text).
fn fenced(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        match (line.strip_prefix("```"), current.take()) {
            (Some(lang), None) => current = Some((lang.to_string(), String::new())),
            (Some(_), Some(block)) => out.push(block),
            (None, Some((lang, mut body))) => {
                body.push_str(line);
                body.push('\n');
                current = Some((lang, body));
            }
            (None, None) => {}
        }
    }
    out
}

/// The container examples: the fenced blocks of the README's `## With containers` section
/// and of docs/containers.md.
fn blocks() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read =
        |f: &str| std::fs::read_to_string(root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let readme = read("README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("With containers\n"))
        .expect("a '## With containers' section in README.md");
    let mut out = fenced(section);
    out.extend(fenced(&read("docs/containers.md")));
    out
}

/// The block whose first line mentions `tag`.
fn block(lang: &str, tag: &str) -> String {
    blocks()
        .into_iter()
        .find(|(l, b)| l == lang && b.lines().next().is_some_and(|f| f.contains(tag)))
        .unwrap_or_else(|| {
            panic!("no {lang} block starting with a line about {tag} in README.md or docs/containers.md")
        })
        .1
}

/// A directory holding `nsenter`, `nsls` (ours) and `nsinit-static`, for the front of PATH.
fn tools_dir(nobody: bool) -> TempDir {
    let dir = TempDir::new("readme-path");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    for t in ["nsenter", "nsls"] {
        let target = if nobody { bin_for_nobody(t) } else { bin(t) };
        std::os::unix::fs::symlink(target, dir.path().join(t)).expect("symlink");
    }
    let nsinit = Image::get().rootfs().join("sbin/nsinit");
    std::os::unix::fs::symlink(nsinit, dir.path().join("nsinit-static")).expect("symlink");
    dir
}

/// Run `script` with `sh -e` in `cwd` with `tools` first in PATH, through `cmd` (which sets
/// the user and the environment). Its output goes to files in `cwd`, and whatever it leaves
/// running in its process group is killed once it ends, so a background process it failed
/// to end cannot hold the test.
fn run_script(cmd: Cmd, tools: &Path, cwd: &Path, script: &str) -> Output {
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let wrapped = format!("cd \"$0\"\nexec >.script.out 2>.script.err\n{script}");
    let out = cmd
        .env("PATH", path)
        .args(["-ec", &wrapped])
        .arg(cwd)
        .spawn()
        .wait(std::time::Duration::from_secs(180));
    let read = |f: &str| std::fs::read_to_string(cwd.join(f)).unwrap_or_default();
    Output {
        stdout: read(".script.out"),
        stderr: read(".script.err"),
        ..out
    }
}

/// A working directory the script's user can write.
fn work_dir(nobody: bool) -> TempDir {
    let dir = TempDir::new("readme-cwd");
    if nobody {
        std::os::unix::fs::chown(dir.path(), Some(harness::NOBODY), Some(harness::NOBODY))
            .expect("chown");
    }
    dir
}

fn podman_blocks(rootless: bool) {
    let podman = Podman::new(rootless);
    podman.import(IMAGE);
    let tools = tools_dir(rootless);
    let cwd = work_dir(rootless);

    let out = run_script(
        podman.with_env("sh"),
        tools.path(),
        cwd.path(),
        &block("sh", "# podman"),
    );
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let id = lines[0];
    // podman names the container's host after the short id: nsenter and podman exec agree.
    assert_eq!(lines[1], &id[..12], "{out:?}");
    assert_eq!(lines[2], &id[..12], "{out:?}");
    // `nsls -p` shows each namespace's lowest PID: in the container's PID namespace that is
    // its init, or its command when host PIDs wrapped (pid_max) between the two forks.
    let container_row = out.stdout.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let command = f.get(5..).unwrap_or_default().join(" ");
        let command = command.trim_start_matches(['│', '├', '└', '─', ' ']);
        f.get(1) == Some(&"pid")
            && ["/run/podman-init -- sleep 1000", "sleep 1000"].contains(&command)
    });
    assert!(
        container_row,
        "nsls -p shows no process of the container:{out:?}"
    );
    let level1 = lines.iter().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() == 3 && f[0] == "1" && f[2] == "1"
    });
    assert!(level1, "nsls --pids shows no PID 1 at level 1:{out:?}");

    let containerfile = block("dockerfile", "FROM");
    std::fs::write(cwd.path().join("Containerfile"), containerfile).expect("Containerfile");
    let out = run_script(
        podman.with_env("sh"),
        tools.path(),
        cwd.path(),
        &block("sh", "podman build"),
    );
    out.ok();
    let pid1 = out
        .stdout
        .lines()
        .any(|l| l.split_whitespace().next() == Some("1") && l.ends_with("/sbin/nsinit -- ps"));
    assert!(pid1, "nsinit is not PID 1 of the built image:{out:?}");
}

#[test]
fn readme_podman_rootful() {
    if need("podman", "podman") && need("runc", "runc") && harness::is_root() {
        podman_blocks(false);
    }
}

#[test]
fn readme_podman_rootless() {
    if need("podman", "podman") && need("runc", "runc") && harness::is_root() && rootless_ready() {
        podman_blocks(true);
    }
}

/// Kills the example's runc container by its pid file if the script left it behind.
struct PidFileGuard(PathBuf);
impl Drop for PidFileGuard {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

#[test]
fn readme_runc() {
    if !need("runc", "runc") {
        return;
    }
    if !harness::is_root() {
        return skip("the runc example runs as root");
    }
    let runc = Runc::new(false);
    let bundle = runc.bundle(&unique("readme"), &["/sbin/nsinit", "--", "sleep", "1000"]);
    let _guard = PidFileGuard(bundle.join("web.pid"));
    let tools = tools_dir(false);
    // The runc example uses runc's default state directory, /run/runc, where the name
    // `web` is global: the block runs in a mount namespace with a private one.
    let private_state =
        "mkdir -p /run/runc && mount -t tmpfs nsutils-test /run/runc && exec sh \"$@\"";
    let cmd = Cmd::new("unshare").args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        private_state,
        "sh",
    ]);
    let out = run_script(cmd, tools.path(), &bundle, &block("sh", "# runc"));
    out.ok();
    let pid1 = out.stdout.lines().any(|l| {
        l.split_whitespace().next() == Some("1") && l.ends_with("/sbin/nsinit -- sleep 1000")
    });
    assert!(pid1, "nsenter's ps shows no nsinit as PID 1:{out:?}");
}

#[test]
fn readme_bwrap() {
    if !need("bwrap", "bubblewrap") {
        return;
    }
    for nobody in [true, false] {
        if nobody && !harness::unprivileged_userns_works() {
            skip("unprivileged user namespaces are not available");
            continue;
        }
        let tools = tools_dir(nobody);
        let cwd = work_dir(nobody);
        let mut cmd = Cmd::new("sh").env("rootfs", Image::get().rootfs());
        if nobody {
            cmd = cmd.as_nobody();
        }
        let out = run_script(cmd, tools.path(), cwd.path(), &block("sh", "# bubblewrap"));
        out.ok();
        let sleep = out
            .stdout
            .lines()
            .any(|l| l.split_whitespace().next() == Some("2") && l.ends_with("sleep 1000"));
        assert!(sleep, "nsenter's ps shows no sleep in the sandbox:{out:?}");
    }
}
