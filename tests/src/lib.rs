//! The integration-test harness: run the built binaries against the real kernel.
//!
//! * Binaries are found by path — `$NSUTILS_BIN_DIR`, else the workspace's
//!   `target/debug` (or `$CARGO_TARGET_DIR/debug`) — never through `PATH`: our `nsenter` has
//!   util-linux's name. Build them first (`cargo build --workspace`), as the README's test
//!   command does.
//! * [`Cmd`] runs a program with a timeout; a failed expectation panics with the command,
//!   status, stdout and stderr.
//! * [`Cmd::as_nobody`] runs it as uid/gid 65534 through `setpriv`, from a copy of the
//!   binaries in a directory that user can reach.
//! * [`Bg`] is a background process killed (with its process group) on drop.
//! * [`skip`] prints `skipped: <why>`; with `NSUTILS_TEST_STRICT=1` it fails the test instead,
//!   so CI never passes by skipping.
//! * [`ns_id`] and friends read `/proc/PID/ns/*` identities: the kernel is the oracle.
//! * [`containers`]: the test image and real runtimes (runc, podman, systemd-nspawn,
//!   bubblewrap) in directories the test owns.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod containers;

/// uid and gid of the unprivileged user the rootless tests run as.
pub const NOBODY: u32 = 65534;

/// The default time limit of one command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The directory holding the built binaries.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("NSUTILS_BIN_DIR") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug")
}

/// The path of one of our binaries (`nsrun`, `nsenter`, `nsls`, `nsinit`).
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "{} is missing: build the binaries first (cargo build --workspace)",
        p.display()
    );
    p
}

/// A copy of our binaries in a directory every user can traverse, for running them as
/// another user (the work tree may sit under a directory only root can enter).
pub fn bin_for_nobody(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = nobody_bin_dir();
        std::fs::create_dir_all(&dir).expect("create bin copy dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        for tool in ["nsrun", "nsenter", "nsls", "nsinit"] {
            let src = bin_dir().join(tool);
            let Ok(src_md) = src.metadata() else { continue };
            let dst = dir.join(tool);
            let fresh = dst
                .metadata()
                .is_ok_and(|d| d.len() == src_md.len() && d.mtime() >= src_md.mtime());
            if fresh {
                continue;
            }
            // Copy then rename: test processes running at the same time never see a half
            // written binary (and a running one keeps its old inode).
            let tmp = dir.join(format!(".{tool}.{}", std::process::id()));
            std::fs::copy(&src, &tmp).expect("copy binary");
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            std::fs::rename(&tmp, &dst).expect("rename binary");
        }
        dir
    });
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} is missing: build the binaries first",
        p.display()
    );
    p
}

/// Where [`bin_for_nobody`] keeps its copies: `nsutils-test-bin` next to the build
/// directory when every directory above it lets others through (then `cargo clean` removes
/// it with the rest), else `/tmp/nsutils-test-bin-HASH` — one per build directory, not per
/// test process, refreshed in place, left behind for the next run (~85 MB of debug
/// binaries; the README says so).
pub fn nobody_bin_dir() -> PathBuf {
    let build = bin_dir();
    let reachable = build
        .ancestors()
        .skip(1)
        .all(|d| d.metadata().is_ok_and(|m| m.mode() & 0o001 != 0));
    match build.parent() {
        Some(target) if reachable => target.join("nsutils-test-bin"),
        _ => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            build.hash(&mut h);
            std::env::temp_dir().join(format!("nsutils-test-bin-{:016x}", h.finish()))
        }
    }
}

/// Whether `NSUTILS_TEST_STRICT=1` is set (CI): skips become failures.
pub fn strict() -> bool {
    std::env::var("NSUTILS_TEST_STRICT").is_ok_and(|v| v == "1")
}

/// Report that a test cannot run here. Returns normally (the caller then returns) unless
/// strict mode is on, in which case it panics.
pub fn skip(why: impl fmt::Display) {
    if strict() {
        panic!("skipped: {why} (NSUTILS_TEST_STRICT=1 turns skips into failures)");
    }
    eprintln!("skipped: {why}");
}

/// Whether we are root (most kernel tests need it, or use `as_nobody`).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            let p = d.join(program);
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
        })
    })
}

/// The finished run of a command.
pub struct Output {
    /// What was run, for messages.
    pub cmdline: String,
    /// How it ended.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\n--- command: {}\n--- status: {:?}\n--- stdout:\n{}\n--- stderr:\n{}\n---",
            self.cmdline, self.status, self.stdout, self.stderr
        )
    }
}

impl Output {
    /// The exit code, or `128+N` when killed by signal N.
    pub fn code(&self) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        self.status
            .code()
            .unwrap_or_else(|| 128 + self.status.signal().unwrap_or(0))
    }

    /// The signal that killed it, if any.
    pub fn signal(&self) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        self.status.signal()
    }

    /// Assert it exited 0; returns self for chaining.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert!(self.status.success(), "expected success:{self:?}");
        self
    }

    /// Assert it exited with `code`.
    #[track_caller]
    pub fn code_is(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "unexpected exit code:{self:?}");
        self
    }

    /// Assert stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:{self:?}"
        );
        self
    }

    /// Assert stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:{self:?}"
        );
        self
    }

    /// stdout with surrounding whitespace trimmed.
    pub fn out(&self) -> &str {
        self.stdout.trim()
    }
}

/// A command to run, builder-style.
#[derive(Debug)]
pub struct Cmd {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    nobody: bool,
}

impl Cmd {
    /// One of our binaries by name (`nsrun`), found by [`bin`].
    pub fn tool(name: &str) -> Cmd {
        Cmd::new(bin(name))
    }

    /// Any program (a path, or a name resolved in PATH by the OS).
    pub fn new(program: impl Into<PathBuf>) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
            nobody: false,
        }
    }

    /// Add one argument.
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Cmd {
        self.args.push(a.as_ref().to_owned());
        self
    }

    /// Add arguments.
    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Set an environment variable.
    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Cmd {
        self.env
            .push((k.as_ref().to_owned(), Some(v.as_ref().to_owned())));
        self
    }

    /// Feed this to stdin (default: /dev/null).
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(data.into());
        self
    }

    /// Change the time limit.
    pub fn timeout(mut self, t: Duration) -> Cmd {
        self.timeout = t;
        self
    }

    /// Run as uid/gid 65534 with no supplementary groups (via `setpriv`). Our own binaries
    /// are run from a copy that user can reach.
    pub fn as_nobody(mut self) -> Cmd {
        if let Some(name) = self.program.file_name().and_then(OsStr::to_str) {
            if self.program.starts_with(bin_dir())
                && ["nsrun", "nsenter", "nsls", "nsinit"].contains(&name)
            {
                self.program = bin_for_nobody(name);
            }
        }
        self.nobody = true;
        self
    }

    fn cmdline(&self) -> String {
        let mut s = String::new();
        if self.nobody {
            s.push_str("setpriv --reuid=65534 --regid=65534 --clear-groups ");
        }
        s.push_str(&self.program.to_string_lossy());
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }

    fn command(&self) -> Command {
        let mut c = if self.nobody {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
            c.arg(&self.program);
            c
        } else {
            Command::new(&self.program)
        };
        c.args(&self.args);
        for (k, v) in &self.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if self.nobody {
            // HOME=/root and the work tree may not be reachable by nobody (a HOME the caller
            // set wins).
            if !self.env.iter().any(|(k, _)| k == "HOME") {
                c.env("HOME", "/");
            }
            c.current_dir("/");
        }
        // Each test's children get their own process group, so a guard can kill the whole
        // tree and a test's signals never reach the test runner. (To hand a command an extra
        // fd, run it through `sh -c 'exec 5>FILE; …'`.)
        c.process_group(0);
        c
    }

    /// Run to completion (killing it at the time limit) and collect its output.
    pub fn run(self) -> Output {
        let mut c = self.command();
        c.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = c
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.cmdline()));
        if let Some(data) = self.stdin.clone() {
            let mut stdin = child.stdin.take().expect("stdin");
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = stdin.write_all(&data);
            });
        }
        let out_h = reader(child.stdout.take());
        let err_h = reader(child.stderr.take());
        let Some(status) = wait_timeout(&mut child, self.timeout) else {
            kill_group(child.id() as i32);
            let _ = child.wait();
            let stdout = out_h.join().unwrap_or_default();
            let stderr = err_h.join().unwrap_or_default();
            panic!(
                "timed out after {:?}: {}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
                self.timeout,
                self.cmdline()
            )
        };
        Output {
            cmdline: self.cmdline(),
            status,
            stdout: out_h.join().unwrap_or_default(),
            stderr: err_h.join().unwrap_or_default(),
        }
    }

    /// Start it in the background; it (and its process group) is killed when the guard drops.
    /// stdout is piped: read lines from it with [`Bg::read_line`].
    pub fn spawn(self) -> Bg {
        let mut c = self.command();
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.cmdline()));
        let mut child = child;
        let stdout = child.stdout.take().map(std::io::BufReader::new);
        Bg {
            child,
            cmdline: self.cmdline(),
            stdout,
        }
    }
}

fn reader<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    let mut nap = Duration::from_millis(1);
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st);
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(50));
    }
}

fn kill_group(pgid: i32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pgid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// A background process, killed with its whole process group on drop.
#[derive(Debug)]
pub struct Bg {
    child: Child,
    cmdline: String,
    stdout: Option<std::io::BufReader<std::process::ChildStdout>>,
}

impl Bg {
    /// Its PID (in our PID namespace).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Read one line of its stdout (blocking until a line or EOF arrives).
    pub fn read_line(&mut self) -> String {
        use std::io::BufRead;
        let r = self.stdout.as_mut().expect("stdout piped");
        let mut line = String::new();
        r.read_line(&mut line).expect("read line");
        line.trim_end().to_string()
    }

    /// Wait for it to end (up to `limit`) and return its output.
    pub fn wait(mut self, limit: Duration) -> Output {
        let out_h = reader(self.stdout.take());
        let err_h = reader(self.child.stderr.take());
        let status = wait_timeout(&mut self.child, limit)
            .unwrap_or_else(|| panic!("timed out after {limit:?}: {}", self.cmdline));
        Output {
            cmdline: self.cmdline.clone(),
            status,
            stdout: out_h.join().unwrap_or_default(),
            stderr: err_h.join().unwrap_or_default(),
        }
    }

    /// Whether it has ended (its status is kept for [`Bg::wait`]).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Send a signal to it (the process itself, not its group).
    pub fn signal(&self, sig: i32) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid()),
            nix::sys::signal::Signal::try_from(sig).ok(),
        );
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        kill_group(self.pid());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The identity of `/proc/PID/ns/KIND` (`pid = None`: the test process itself).
pub fn ns_id(pid: Option<i32>, kind: &str) -> (u64, u64) {
    let p = match pid {
        Some(p) => format!("/proc/{p}/ns/{kind}"),
        None => format!("/proc/self/ns/{kind}"),
    };
    let md = std::fs::metadata(&p).unwrap_or_else(|e| panic!("stat {p}: {e}"));
    (md.dev(), md.ino())
}

/// The inode of `/proc/PID/ns/KIND`.
pub fn ns_ino(pid: Option<i32>, kind: &str) -> u64 {
    ns_id(pid, kind).1
}

/// The pidfs inode of process `pid` as the kernel gives it (`fstat` of a pidfd, through
/// Python's `os.pidfd_open`: an oracle that shares no code with ours). Needs python3.
pub fn pidfs_inode(pid: impl fmt::Display) -> u64 {
    let out = Cmd::new("python3")
        .args([
            "-c",
            "import os,sys; print(os.fstat(os.pidfd_open(int(sys.argv[1]))).st_ino)",
        ])
        .arg(pid.to_string())
        .run();
    out.ok().out().parse().expect("an inode")
}

/// The eight `/proc` namespace names.
pub const KINDS: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// A field of `/proc/PID/status` (`NSpid`, `Uid`, …), value only.
pub fn status_field(pid: i32, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(field)
            .and_then(|r| r.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    })
}

/// Whether unprivileged user namespaces work here (as uid 65534).
pub fn unprivileged_userns_works() -> bool {
    have("setpriv")
        && Cmd::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "unshare",
                "-U",
                "true",
            ])
            .run()
            .status
            .success()
}

/// A fresh directory under the temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Make one; `tag` goes into the name.
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("nsutils-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir temp");
        TempDir(p)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Unmount whatever a test left mounted at or below it — directories and files
        // (namespace bind mounts are files) — deepest first, lazily, then remove it.
        let mut mounts = mounts_under(&self.0);
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The mount points under `dir` in our mount namespace (from `/proc/self/mountinfo`).
pub fn mounts_under(dir: &Path) -> Vec<String> {
    // common::mountinfo decodes the octal escapes (space, tab, newline, backslash).
    nsutils_common::mountinfo::read_self()
        .expect("mountinfo")
        .into_iter()
        .filter(|m| m.mount_point.starts_with(dir))
        .map(|m| m.mount_point.to_string_lossy().into_owned())
        .collect()
}

impl TempDir {
    /// A temp dir that is a private mount of its own, with permission bits `mode`: namespace
    /// files can be bind-mounted in it even where its parent mount is shared (the kernel
    /// refuses that with EINVAL), and `mode` lets the rootless cases in (e.g. `0o1777`).
    pub fn private_mount(tag: &str, mode: u32) -> TempDir {
        let dir = TempDir::new(tag);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).expect("chmod");
        let d = dir.path().display().to_string();
        Cmd::new("sh")
            .args([
                "-c",
                &format!("mount --bind {d} {d} && mount --make-private {d}"),
            ])
            .run()
            .ok();
        dir
    }
}

/// Live processes (other than the test itself) whose command line mentions `needle`, as
/// `PID: command line` — the oracle for "no process of ours is left" (zombies have an empty
/// command line and are not listed).
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.parse::<i32>().ok()?;
            if name == me {
                return None;
            }
            let cmd = std::fs::read(format!("/proc/{name}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains(needle).then(|| format!("{name}: {cmd}"))
        })
        .collect()
}

/// The size of the stress and race tests: `full` times `NSUTILS_STRESS_SCALE` (default 0.1
/// under `cargo test`; `make stress` sets 1), at least `min`.
pub fn stress_scaled(full: usize, min: usize) -> usize {
    let scale = std::env::var("NSUTILS_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(0.1);
    ((full as f64 * scale).round() as usize).max(min)
}

/// Wait (polling every millisecond, up to `limit`) until the pid file at `path` holds a
/// PID, and return it; panics at the limit.
#[track_caller]
pub fn wait_pid_file(path: &Path, limit: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(p) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            return p;
        }
        assert!(
            start.elapsed() < limit,
            "no PID in {} after {limit:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
