//! podman, rootful and rootless (uid 65534, its own `HOME` and `XDG_RUNTIME_DIR`), with
//! runc and cgroupfs, its storage and configuration in a directory the test owns: nsenter
//! and nsls against a container started with `--init --init-path=` our static nsinit, what
//! `podman exec` sees against what nsenter sees, and the init table for nsinit and for
//! podman's default init, catatonit, in the same test.

use std::path::Path;
use std::time::{Duration, Instant};

use harness::containers::{need, Image, Podman};
use harness::skip;

use crate::{check_container, check_container_entered, check_no_zombie, descendant_named, unique};

/// The name the image is imported under (the README's commands use it too).
pub const IMAGE: &str = "localhost/busybox";

/// podman's default init (`init_path` in containers.conf).
pub const CATATONIT: &str = "/usr/libexec/podman/catatonit";

/// Whether rootless podman can run here; otherwise a skip saying what is missing.
pub fn rootless_ready() -> bool {
    if !harness::need_rootless() {
        return false;
    }
    let subids = ["/etc/subuid", "/etc/subgid"].iter().all(|f| {
        std::fs::read_to_string(f).is_ok_and(|t| t.lines().any(|l| l.starts_with("nobody:")))
    });
    if !subids {
        skip("no /etc/subuid, /etc/subgid line for nobody: rootless podman maps a range (.ci/run adds nobody:100000:65536)");
        return false;
    }
    let tun = std::fs::metadata("/dev/net/tun")
        .is_ok_and(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o006 == 0o006);
    if !tun {
        skip("/dev/net/tun is not usable by uid 65534: rootless podman's network (slirp4netns) needs it (.ci/run makes it 0666, as udev does)");
        return false;
    }
    true
}

/// One init's row of the table: `init` is `--init` plus `--init-path=…` for nsinit.
struct Table<'a> {
    podman: &'a Podman,
    init: &'a [String],
    nsinit: bool,
}

impl Table<'_> {
    fn tag(&self) -> &'static str {
        if self.nsinit {
            "nsinit"
        } else {
            "catatonit"
        }
    }

    /// `podman run -d` of `cmd` under the init; returns once its `sleep` runs.
    fn start(&self, what: &str, cmd: &[&str]) -> String {
        let name = unique(&format!("podman-{}-{what}", self.tag()));
        let mut args: Vec<String> = vec!["run".into(), "-d".into(), "--name".into(), name.clone()];
        args.extend(self.init.iter().cloned());
        args.push(IMAGE.into());
        args.extend(cmd.iter().map(|s| s.to_string()));
        self.podman.run(&args).ok();
        descendant_named(self.podman.pid(&name), "sleep");
        name
    }

    fn exit_code(&self, name: &str) -> i32 {
        let out = self.podman.run(["wait", name]);
        out.ok().out().parse().expect("an exit code")
    }

    fn rm(&self, name: &str) {
        self.podman.run(["rm", "--force", "--time", "0", name]).ok();
    }

    /// The command's exit code comes out of `podman run`; `podman stop` ends a command that
    /// exits on SIGTERM at once (TERM forwarded, the command dies of it).
    fn exit_and_stop(&self) {
        let tag = self.tag();
        let mut args: Vec<String> = vec!["run".into(), "--rm".into()];
        args.extend(self.init.iter().cloned());
        args.extend([IMAGE, "sh", "-c", "exit 3"].map(String::from));
        assert_eq!(self.podman.run(&args).code(), 3, "{tag}: podman run");

        let name = self.start("stop", &["sleep", "1000"]);
        let t = Instant::now();
        self.podman.run(["stop", &name]).ok();
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{tag}: stop took {:?}",
            t.elapsed()
        );
        assert_eq!(self.exit_code(&name), 128 + libc::SIGTERM, "{tag}");
        self.rm(&name);
    }

    /// A command that ignores SIGTERM: nsinit SIGKILLs it at the end of its own grace
    /// period (5 s); catatonit leaves it to podman, which SIGKILLs at 10 s.
    fn stop_ignoring_term(&self) {
        let tag = self.tag();
        let name = self.start(
            "ignore-term",
            &["sh", "-c", "trap '' TERM; while :; do sleep 1; done"],
        );
        let t = Instant::now();
        self.podman.run(["stop", &name]).ok();
        let took = t.elapsed();
        assert_eq!(self.exit_code(&name), 128 + libc::SIGKILL, "{tag}");
        eprintln!("podman stop, TERM ignored, {tag}: {took:?}");
        if self.nsinit {
            assert!(took < Duration::from_secs(9), "{tag}: {took:?}");
            assert!(took >= Duration::from_secs(4), "{tag}: {took:?}");
        } else {
            assert!(took >= Duration::from_secs(9), "{tag}: {took:?}");
        }
        self.rm(&name);
    }

    /// Signals sent with `podman kill` reach the command — catatonit, as PID 1, drops SEGV
    /// and TSTP (the bench's signal table has the rest).
    fn kill_signals(&self) {
        let tag = self.tag();
        for sig in ["HUP", "USR1", "SEGV", "TSTP"] {
            let trap = format!("trap 'exit 42' {sig}; while :; do sleep 0.1; done");
            let name = self.start(&format!("kill-{sig}"), &["sh", "-c", &trap]);
            self.podman.run(["kill", "--signal", sig, &name]).ok();
            if !self.nsinit && matches!(sig, "SEGV" | "TSTP") {
                std::thread::sleep(Duration::from_secs(1));
                let out = self
                    .podman
                    .run(["inspect", "--format", "{{.State.Status}}", &name]);
                assert_eq!(
                    out.ok().out(),
                    "running",
                    "{tag}: {sig} should have been dropped"
                );
            } else {
                assert_eq!(
                    self.exit_code(&name),
                    42,
                    "{tag}: {sig} did not reach the command"
                );
            }
            self.rm(&name);
        }
    }

    /// An orphan made inside is reaped: no zombie in the container's /proc.
    fn orphans(&self) {
        let name = self.start("orphan", &["sh", "-c", "(sleep 0.2 &); exec sleep 1000"]);
        std::thread::sleep(Duration::from_secs(1)); // the orphan has exited by now
        check_no_zombie(|script| self.podman.run(["exec", &name, "sh", "-c", script]));
        self.rm(&name);
    }

    /// Every case; the slow one alongside the others.
    fn run(&self) {
        std::thread::scope(|s| {
            s.spawn(|| self.stop_ignoring_term());
            self.exit_and_stop();
            self.kill_signals();
            self.orphans();
        });
    }
}

fn podman_suite(rootless: bool) {
    if !need("podman", "podman") || !need("runc", "runc") {
        return;
    }
    if !harness::is_root() {
        return skip("needs root (and uid 65534 for the rootless half)");
    }
    if rootless && !rootless_ready() {
        return;
    }
    let podman = Podman::new(rootless);
    podman.import(IMAGE);
    let nsinit = Image::get().rootfs().join("sbin/nsinit");
    let init_path = format!("--init-path={}", nsinit.display());
    let name = unique("podman");
    podman
        .run([
            "run", "-d", "--name", &name, "--init", &init_path, IMAGE, "sleep", "1000",
        ])
        .ok();
    let pid = podman.pid(&name);
    let what = format!(
        "podman ({}) container {name}",
        if rootless { "rootless" } else { "rootful" }
    );
    check_container_entered(&what, pid, rootless, |script| {
        podman.run(["exec", &name, "sh", "-c", script])
    });
    // The container column: from the cgroup path (rootful: libpod_parent/libpod-ID), or,
    // where podman made no cgroup (rootless on cgroup v1), from container= and HOSTNAME.
    let id = podman.run(["inspect", "--format", "{{.Id}}", &name]);
    let want = format!("podman:{}", &id.ok().out()[..12]);
    check_container(pid, rootless, Some(&want));
    if rootless {
        check_container(pid, false, Some(&want));
    }

    let ours = vec!["--init".to_string(), init_path.clone()];
    let default = vec!["--init".to_string()];
    std::thread::scope(|s| {
        let podman = &podman;
        s.spawn(|| {
            Table {
                podman,
                init: &ours,
                nsinit: true,
            }
            .run()
        });
        if Path::new(CATATONIT).exists() {
            s.spawn(|| {
                Table {
                    podman,
                    init: &default,
                    nsinit: false,
                }
                .run()
            });
        } else {
            skip("podman's default init, catatonit, is not installed (Debian package catatonit)");
        }
    });
}

#[test]
fn podman_rootful() {
    podman_suite(false);
}

#[test]
fn podman_rootless() {
    podman_suite(true);
}
