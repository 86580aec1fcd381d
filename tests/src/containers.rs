//! Real container runtimes for the tests, set up offline in directories the test owns and
//! removed afterwards.
//!
//! * [`static_nsinit`]: `make nsinit-static`, once per test process, so that a fresh clone's
//!   `cargo test` has it too (cargo serializes concurrent builds itself).
//! * [`Image`]: a root file system of busybox-static plus our static nsinit at
//!   `/sbin/nsinit` and catatonit at `/sbin/catatonit`, and its tarball for `podman import`.
//!   Built once per build directory under the temp dir and reused while the binaries it
//!   holds are unchanged; read-only to every test.
//! * [`Runc`]: a state directory and OCI bundles (`runc spec`, `runc spec --rootless` run
//!   as uid 65534) whose root is the image's, read-only.
//! * [`Podman`]: storage and configuration in a temporary directory (`CONTAINERS_CONF`,
//!   `CONTAINERS_STORAGE_CONF`): runc, cgroupfs, vfs, the ulimits this machine kind needs;
//!   rootless as uid 65534 with its own `HOME` and `XDG_RUNTIME_DIR`. On drop every
//!   container and image goes, the rootless pause process ends, the directory is removed.
//! * [`Nspawn`]: systemd-nspawn on a machine without systemd as PID 1, in a cgroup and a
//!   private mount namespace of its own; undone on drop.
//! * [`Bwrap`]: bubblewrap, its sandbox's PID read from `--info-fd`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::bins::workspace_root;
use crate::{bin_dir, skip, target_dir, Bg, Cmd, Output, TempDir, NOBODY};

/// Whether `program` is installed; otherwise say so through [`skip`] (a failure in strict
/// mode: `.ci/run` installs every runtime).
pub fn need(program: &str, package: &str) -> bool {
    if crate::have(program) {
        return true;
    }
    skip(format!(
        "{program} is not installed (Debian package {package}; .ci/run installs it)"
    ));
    false
}

/// Whether the ELF file at `path` is statically linked (has no `PT_INTERP` program header).
pub fn is_static_elf(path: &Path) -> bool {
    let Ok(b) = std::fs::read(path) else {
        return false;
    };
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 {
        return false; // not a 64-bit ELF file
    }
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(b[0x20..0x28].try_into().expect("8 bytes")) as usize;
    let (entsize, num) = (u16_at(0x36), u16_at(0x38));
    (0..num).all(|i| {
        let o = phoff + i * entsize;
        // PT_INTERP = 3: the program asks for a dynamic loader.
        b.get(o..o + 4) != Some(&3u32.to_le_bytes()[..])
    })
}

/// Our nsinit, linked statically (`make nsinit-static`, built on first use in this test
/// process; a no-op build when it is up to date).
pub fn static_nsinit() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let out = Cmd::new("make")
            .args(["-s", "-C"])
            .arg(workspace_root())
            .arg("nsinit-static")
            .timeout(Duration::from_secs(1200))
            .run();
        assert!(out.status.success(), "make nsinit-static failed:{out:?}");
        let triple = Cmd::new("rustc").arg("-vV").run();
        let triple = triple
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("host: "))
            .expect("rustc -vV names the host")
            .to_string();
        let p = target_dir().join(triple).join("release/nsinit");
        assert!(is_static_elf(&p), "{} is not a static binary", p.display());
        p
    })
    .clone()
}

/// The test image: a busybox-static root file system with our static nsinit and catatonit.
#[derive(Debug)]
pub struct Image {
    dir: PathBuf,
}

/// What the image's `/etc/hostname` says.
pub const IMAGE_HOSTNAME: &str = "nsutils-image";

/// The static busybox: Debian's busybox-static installs it as /bin/busybox.
fn static_busybox() -> Option<PathBuf> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| is_static_elf(p))
}

/// A cheap fingerprint of the files the image copies: size and modification time.
fn fingerprint(files: &[&Path]) -> u64 {
    use std::hash::{Hash, Hasher};
    use std::os::unix::fs::MetadataExt;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        if let Ok(md) = f.metadata() {
            (md.len(), md.mtime(), md.mtime_nsec()).hash(&mut h);
        }
    }
    h.finish()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn build_rootfs(root: &Path, busybox: &Path, nsinit: &Path, catatonit: Option<&Path>) {
    for d in [
        "bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "usr", "run", "var",
    ] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod tmp");
    std::fs::copy(busybox, root.join("bin/busybox")).expect("copy busybox");
    let list = Cmd::new(busybox).arg("--list").run();
    for applet in list.ok().stdout.lines().filter(|a| *a != "busybox") {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).expect("symlink");
    }
    std::fs::copy(nsinit, root.join("sbin/nsinit")).expect("copy nsinit");
    if let Some(c) = catatonit {
        std::fs::copy(c, root.join("sbin/catatonit")).expect("copy catatonit");
    }
    let etc = root.join("etc");
    write(
        &etc.join("passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    );
    write(&etc.join("group"), "root:x:0:\nnogroup:x:65534:\n");
    write(&etc.join("hostname"), &format!("{IMAGE_HOSTNAME}\n"));
    // systemd-nspawn refuses a directory without os-release.
    write(
        &etc.join("os-release"),
        "ID=nsutils-test\nNAME=\"nsutils test image\"\n",
    );
}

impl Image {
    /// The image, built on first use (once per build directory while its inputs are unchanged).
    pub fn get() -> &'static Image {
        static IMAGE: OnceLock<Image> = OnceLock::new();
        IMAGE.get_or_init(Image::build)
    }

    fn build() -> Image {
        let busybox = static_busybox().expect(
            "a static busybox at /bin/busybox (Debian busybox-static; .ci/run installs it)",
        );
        let nsinit = static_nsinit();
        let catatonit = ["/usr/bin/catatonit", "/usr/libexec/podman/catatonit"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| is_static_elf(p));
        let base = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bin_dir().hash(&mut h);
            std::env::temp_dir().join(format!("nsutils-test-image-{:016x}", h.finish()))
        };
        std::fs::create_dir_all(&base).expect("mkdir image base");
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut inputs: Vec<&Path> = vec![&busybox, &nsinit];
        inputs.extend(catatonit.as_deref());
        let dir = base.join(format!("{:016x}", fingerprint(&inputs)));
        // One builder at a time across test processes.
        let lock = std::fs::File::create(base.join("lock")).expect("lock file");
        let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .expect("flock");
        if !dir.join("ready").exists() {
            let tmp = base.join(format!("new-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp).expect("mkdir image");
            build_rootfs(&tmp.join("rootfs"), &busybox, &nsinit, catatonit.as_deref());
            Cmd::new("tar")
                .args(["--numeric-owner", "-C"])
                .arg(tmp.join("rootfs"))
                .arg("-cf")
                .arg(tmp.join("rootfs.tar"))
                .arg(".")
                .run()
                .ok();
            write(&tmp.join("ready"), "");
            // Older versions go: no test process of this build directory uses them any more
            // once a build of new binaries has started.
            if let Ok(entries) = std::fs::read_dir(&base) {
                for e in entries.flatten() {
                    if e.path() != tmp && e.file_type().is_ok_and(|t| t.is_dir()) {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
            std::fs::rename(&tmp, &dir).expect("rename image");
        }
        for p in [dir.clone(), dir.join("rootfs")] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        Image { dir }
    }

    /// The root file system (read-only to the tests).
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// The root file system as a tarball, for `podman import`.
    pub fn tarball(&self) -> PathBuf {
        self.dir.join("rootfs.tar")
    }

    /// Whether catatonit is in the image (at `/sbin/catatonit`).
    pub fn has_catatonit(&self) -> bool {
        self.rootfs().join("sbin/catatonit").is_file()
    }
}

/// A temporary directory owned by uid 65534 when `rootless`, else by root; mode `mode`.
fn owned_dir(tag: &str, rootless: bool, mode: u32) -> TempDir {
    let dir = TempDir::new(tag);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).expect("chmod");
    if rootless {
        chown_nobody(dir.path());
    }
    dir
}

fn chown_nobody(p: &Path) {
    std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).expect("chown");
}

/// Poll `f` every 20 ms until it gives a value, up to `limit`.
pub fn poll<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "{what}: not after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// runc with a state directory of its own; rootful or rootless (as uid 65534).
#[derive(Debug)]
pub struct Runc {
    dir: TempDir,
    rootless: bool,
}

impl Runc {
    /// A runc whose state and bundles live in a fresh temporary directory.
    pub fn new(rootless: bool) -> Runc {
        let dir = owned_dir("runc", rootless, 0o755);
        Runc { dir, rootless }
    }

    /// Whether it runs as uid 65534.
    pub fn rootless(&self) -> bool {
        self.rootless
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// `runc --root STATE ARGS…`, as the runtime's user.
    pub fn cmd<I, S>(&self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let c = Cmd::new("runc").arg("--root").arg(self.state()).args(args);
        if self.rootless {
            c.as_nobody()
                .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
        } else {
            c
        }
    }

    /// The bundle directory of container `name`.
    pub fn bundle_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Make bundle `name` (`runc spec`, `--rootless` for rootless) running `args`, with
    /// hostname `name` and the image's root file system, read-only.
    pub fn bundle(&self, name: &str, args: &[&str]) -> PathBuf {
        let b = self.bundle_dir(name);
        std::fs::create_dir(&b).expect("mkdir bundle");
        if self.rootless {
            chown_nobody(&b);
        }
        let mut spec = self.cmd(["spec", "--bundle"]).arg(&b);
        if self.rootless {
            spec = spec.arg("--rootless");
        }
        spec.run().ok();
        let path = b.join("config.json");
        let text = std::fs::read_to_string(&path).expect("config.json");
        let mut c: serde_json::Value = serde_json::from_str(&text).expect("config.json is JSON");
        c["process"]["args"] = serde_json::json!(args);
        c["process"]["terminal"] = serde_json::json!(false);
        c["hostname"] = serde_json::json!(name);
        c["root"] = serde_json::json!({
            "path": Image::get().rootfs(),
            "readonly": true,
        });
        if !self.rootless {
            // The default, /ID, would be shared by containers of one id in other state
            // directories (another test process).
            c["linux"]["cgroupsPath"] = serde_json::json!(format!("/{name}"));
        }
        write(&path, &serde_json::to_string_pretty(&c).expect("json"));
        b
    }

    /// `runc run NAME` of bundle `name`, in the background (runc stays the container's
    /// parent, as a foreground `runc run` does).
    pub fn run(&self, name: &str) -> Bg {
        self.cmd(["run", "--bundle"])
            .arg(self.bundle_dir(name))
            .arg(name)
            .spawn()
    }

    /// The host PID of container `name`'s process 1, once it runs.
    pub fn pid(&self, name: &str) -> i32 {
        poll(Duration::from_secs(20), "runc state: running", || {
            let out = self.cmd(["state", name]).run();
            let v: serde_json::Value = serde_json::from_str(&out.stdout).ok()?;
            (v["status"] == "running")
                .then(|| v["pid"].as_i64())?
                .map(|p| p as i32)
        })
    }

    /// Kill and delete every container of this runc.
    pub fn clean(&self) {
        let list = self.cmd(["list", "-q"]).run();
        for id in list.stdout.lines().filter(|l| !l.is_empty()) {
            let _ = self.cmd(["kill", id, "KILL"]).run();
            let _ = self.cmd(["delete", "--force", id]).run();
        }
    }
}

impl Drop for Runc {
    fn drop(&mut self) {
        self.clean();
    }
}

/// podman with storage and configuration of its own; rootful or rootless (as uid 65534).
#[derive(Debug)]
pub struct Podman {
    dir: TempDir,
    rootless: bool,
}

/// `containers.conf` for this machine kind: runc (crun refuses hybrid cgroups), cgroupfs
/// (no systemd), ulimits podman can set (its defaults fail with EPERM here), events and
/// logs in files, every state directory under `dir`. Rootful containers get a network
/// namespace with only `lo` (no bridge or firewall rules on the shared host); rootless ones
/// podman's default, slirp4netns.
fn containers_conf(dir: &Path, rootless: bool) -> String {
    let d = dir.display();
    let netns = if rootless { "" } else { "netns = \"none\"\n" };
    format!(
        "[containers]\n\
         default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\
         log_driver = \"k8s-file\"\n\
         {netns}\
         [engine]\n\
         runtime = \"runc\"\n\
         cgroup_manager = \"cgroupfs\"\n\
         events_logger = \"file\"\n\
         tmp_dir = \"{d}/tmp\"\n\
         volume_path = \"{d}/volumes\"\n\
         image_copy_tmp_dir = \"{d}/imgtmp\"\n\
         [network]\n\
         network_config_dir = \"{d}/net\"\n"
    )
}

impl Podman {
    /// A podman whose storage and configuration live in a fresh temporary directory.
    pub fn new(rootless: bool) -> Podman {
        let dir = owned_dir("podman", rootless, 0o755);
        let d = dir.path();
        for (sub, mode) in [("home", 0o755), ("run", 0o700), ("imgtmp", 0o755)] {
            std::fs::create_dir(d.join(sub)).expect("mkdir");
            std::fs::set_permissions(d.join(sub), std::fs::Permissions::from_mode(mode))
                .expect("chmod");
            if rootless {
                chown_nobody(&d.join(sub));
            }
        }
        write(&d.join("containers.conf"), &containers_conf(d, rootless));
        write(
            &d.join("storage.conf"),
            &format!(
                "[storage]\ndriver = \"vfs\"\ngraphroot = \"{0}/root\"\nrunroot = \"{0}/runroot\"\n",
                d.display()
            ),
        );
        Podman { dir, rootless }
    }

    /// Whether it runs as uid 65534.
    pub fn rootless(&self) -> bool {
        self.rootless
    }

    /// The environment that points podman at this configuration (for scripts too).
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        let d = self.dir.path();
        let mut env = vec![
            ("CONTAINERS_CONF", d.join("containers.conf")),
            ("CONTAINERS_STORAGE_CONF", d.join("storage.conf")),
        ];
        if self.rootless {
            env.push(("HOME", d.join("home")));
            env.push(("XDG_RUNTIME_DIR", d.join("run")));
        }
        env
    }

    /// Run `program` (podman, or a script using it) with this podman's environment and user.
    pub fn with_env(&self, program: impl Into<PathBuf>) -> Cmd {
        let mut c = Cmd::new(program);
        for (k, v) in self.env() {
            c = c.env(k, v);
        }
        if self.rootless {
            c.as_nobody()
        } else {
            c
        }
    }

    /// `podman ARGS…`.
    pub fn cmd<I, S>(&self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.with_env("podman").args(args)
    }

    /// `podman ARGS…`, run to completion.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd(args).timeout(Duration::from_secs(120)).run()
    }

    /// Import the test image as `name` (`podman import`).
    pub fn import(&self, name: &str) {
        let tar = Image::get().tarball();
        self.run([Path::new("import"), &tar, Path::new(name)]).ok();
    }

    /// The host PID of container `name`'s process 1.
    pub fn pid(&self, name: &str) -> i32 {
        let out = self.run(["inspect", "--format", "{{.State.Pid}}", name]);
        out.ok().out().parse().expect("a PID")
    }

    /// The PID of the rootless pause process, if one runs (its pid file is in libpod's
    /// `tmp_dir`, which containers.conf puts at `DIR/tmp`).
    fn pause_pid(&self) -> Option<i32> {
        let f = self.dir.path().join("tmp/pause.pid");
        std::fs::read_to_string(f).ok()?.trim().parse().ok()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.run(["rm", "--all", "--force", "--time", "0"]);
        let _ = self.run(["rmi", "--all", "--force"]);
        if let Some(pid) = self.pause_pid() {
            // podman's own pause process (it holds the rootless user namespace).
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// The cgroup hierarchies systemd-nspawn uses on a hybrid system.
const NSPAWN_HIERARCHIES: [&str; 2] = ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"];

/// systemd-nspawn, run the way it works without systemd as PID 1: `--register=no
/// --keep-unit`, in a cgroup of its own (it puts the container in `payload/` and itself in
/// `supervisor/` below the cgroup it starts in) and a private mount namespace with a tmpfs
/// on `/run/systemd/nspawn` (it refuses to clean up its propagation directory on a
/// non-tmpfs `/run`).
#[derive(Debug)]
pub struct Nspawn {
    bg: Option<Bg>,
    cgroup: String,
}

impl Nspawn {
    /// Start machine `name` from the test image (read-only) running `args`.
    pub fn start(name: &str, args: &[&str]) -> Nspawn {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cgroup = format!("nsutils-test-nspawn-{}-{n}", std::process::id());
        let script = format!(
            "set -e\n\
             for h in {h}; do mkdir \"$h/{cgroup}\"; echo $$ > \"$h/{cgroup}/cgroup.procs\"; done\n\
             mkdir -p /run/systemd/nspawn\n\
             mount -t tmpfs -o mode=0755 nsutils-test /run/systemd/nspawn\n\
             name=$1; shift\n\
             exec systemd-nspawn --quiet --register=no --keep-unit --read-only \
             --directory=\"$0\" --machine=\"$name\" \"$@\"",
            h = NSPAWN_HIERARCHIES.join(" "),
        );
        let bg = Cmd::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .arg(Image::get().rootfs())
            .arg(name)
            .args(args)
            .spawn();
        Nspawn {
            bg: Some(bg),
            cgroup,
        }
    }

    /// The PID of the container's process 1 (nspawn's child), once it runs.
    pub fn pid(&self) -> i32 {
        let procs = format!(
            "{}/{}/payload/cgroup.procs",
            NSPAWN_HIERARCHIES[1], self.cgroup
        );
        poll(Duration::from_secs(20), "nspawn's container", || {
            let text = std::fs::read_to_string(&procs).ok()?;
            let pids: Vec<i32> = text.lines().filter_map(|l| l.parse().ok()).collect();
            // The first process of the payload is the container's PID 1 once it has
            // executed (before, it is nspawn's child still setting up).
            pids.iter()
                .copied()
                .find(|p| {
                    crate::status_field(*p, "NSpid")
                        .is_some_and(|s| s.split_whitespace().last() == Some("1"))
                })
                .filter(|p| {
                    std::fs::read_link(format!("/proc/{p}/exe"))
                        .is_ok_and(|e| !e.ends_with("systemd-nspawn"))
                })
        })
    }

    /// Wait for nspawn to end; its output.
    pub fn wait(mut self, limit: Duration) -> Output {
        self.bg.take().expect("running").wait(limit)
    }

    /// The nspawn process (for signals).
    pub fn bg(&self) -> &Bg {
        self.bg.as_ref().expect("running")
    }
}

impl Drop for Nspawn {
    fn drop(&mut self) {
        if let Some(bg) = self.bg.take() {
            bg.signal(libc::SIGTERM); // nspawn then SIGKILLs the container's PID 1
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                bg.wait(Duration::from_secs(10))
            }));
        }
        for h in NSPAWN_HIERARCHIES.iter().rev() {
            let dir = Path::new(h).join(&self.cgroup);
            for sub in ["payload", "supervisor", ""] {
                let d = dir.join(sub);
                // Whatever is left in it was started by this test: end it, then remove it.
                if let Ok(text) = std::fs::read_to_string(d.join("cgroup.procs")) {
                    for p in text.lines().filter_map(|l| l.parse::<i32>().ok()) {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(p),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                }
                let _ = poll_rmdir(&d);
            }
        }
    }
}

/// Remove an empty cgroup, retrying while its last processes are being reaped.
fn poll_rmdir(d: &Path) -> bool {
    let start = Instant::now();
    loop {
        match std::fs::remove_dir(d) {
            Ok(()) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            Err(_) if start.elapsed() < Duration::from_secs(5) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(_) => return false,
        }
    }
}

/// bubblewrap running `args` in the test image with every namespace unshared.
#[derive(Debug)]
pub struct Bwrap {
    bg: Bg,
    pid: i32,
    _dir: TempDir,
}

impl Bwrap {
    /// Start it (as uid 65534 when `rootless`); its sandbox's PID comes from `--info-fd`.
    pub fn start(hostname: &str, rootless: bool, args: &[&str]) -> Bwrap {
        let dir = owned_dir("bwrap", rootless, 0o755);
        let info = dir.path().join("info.json");
        let mut cmd = Cmd::new("sh")
            .args([
                "-c",
                "info=$1; shift; exec bwrap --info-fd 3 \"$@\" 3>\"$info\"",
                "sh",
            ])
            .arg(&info)
            .args(["--unshare-all", "--die-with-parent", "--ro-bind"])
            .arg(Image::get().rootfs())
            .args([
                "/",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "--hostname",
                hostname,
            ])
            .args(args);
        if rootless {
            cmd = cmd.as_nobody();
        }
        let bg = cmd.spawn();
        let pid = poll(Duration::from_secs(20), "bwrap --info-fd", || {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&info).ok()?).ok()?;
            v["child-pid"].as_i64().map(|p| p as i32)
        });
        Bwrap { bg, pid, _dir: dir }
    }

    /// The sandbox's PID 1 (bwrap's own init inside, the command is its child).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The outer bwrap process.
    pub fn bg(&self) -> &Bg {
        &self.bg
    }
}
