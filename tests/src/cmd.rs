//! Running a program: [`Cmd`] (builder), [`Output`] (a finished run), [`Bg`] (a background
//! process killed with everything it started on drop).
//!
//! Output is read by one thread per pipe, a line at a time, into a channel, so that nothing
//! here waits without a bound: a command's run and each [`Bg::read_line`] end at the time
//! limit. A command that has exited may have left a process behind that still holds its
//! stdout or stderr (nsrun's helper finishing its undo, a daemon): its output is complete
//! only once that closes, which may take until the time limit, and at least [`PIPE_GRACE`]
//! after the exit. A pipe still open then is held for good; the test fails naming the
//! process that holds it, where it used to hang.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::BufRead;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::bins::{bin, bin_dir, bin_for_nobody, TOOLS};
use crate::kernel::descendants;

/// The default time limit of one command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a command's stdout and stderr may stay open after it has exited, at least (the
/// rest of its time limit, if that is longer).
pub const PIPE_GRACE: Duration = Duration::from_secs(5);

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

    /// Change the time limit: of the run, or of each line read from a [`Bg`].
    pub fn timeout(mut self, t: Duration) -> Cmd {
        self.timeout = t;
        self
    }

    /// Run as uid/gid 65534 with no supplementary groups (via `setpriv`). Our own binaries
    /// are run from a copy that user can reach.
    pub fn as_nobody(mut self) -> Cmd {
        if let Some(name) = self.program.file_name().and_then(OsStr::to_str) {
            if self.program.starts_with(bin_dir()) && TOOLS.contains(&name) {
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

    fn start(&self, stdin: Stdio) -> Child {
        let mut c = self.command();
        c.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
        c.spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.cmdline()))
    }

    /// Run to completion (killing it at the time limit) and collect its output.
    pub fn run(self) -> Output {
        let stdin = if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let started = Instant::now();
        let mut child = self.start(stdin);
        if let Some(data) = self.stdin.clone() {
            let mut stdin = child.stdin.take().expect("stdin");
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = stdin.write_all(&data);
            });
        }
        let out = Pipe::read(child.stdout.take());
        let err = Pipe::read(child.stderr.take());
        let cmdline = self.cmdline();
        let Some(status) = wait_timeout(&mut child, self.timeout) else {
            kill_group(child.id() as i32);
            let _ = child.wait();
            let (stdout, stderr) = (out.rest_now(), err.rest_now());
            panic!(
                "timed out after {:?}: {cmdline}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
                self.timeout,
            )
        };
        let pipes = Pipes {
            out,
            err,
            deadline: started + self.timeout,
        };
        pipes.finish(cmdline, child.id() as i32, status)
    }

    /// Start it in the background; it (with its process group and every descendant) is
    /// killed when the guard drops. stdout is piped: read lines from it with
    /// [`Bg::read_line`], each within the time limit.
    pub fn spawn(self) -> Bg {
        let mut child = self.start(Stdio::null());
        let stdout = Pipe::read(child.stdout.take());
        let stderr = Pipe::read(child.stderr.take());
        Bg {
            child,
            cmdline: self.cmdline(),
            stdout,
            stderr,
            timeout: self.timeout,
        }
    }
}

/// One pipe from a child, read a line at a time by a thread into a channel.
#[derive(Debug)]
struct Pipe {
    lines: Receiver<Vec<u8>>,
    /// The pipe's inode (`pipe:[INO]` in `/proc/PID/fd`), to name who holds it open.
    ino: u64,
}

impl Pipe {
    fn read<R: std::io::Read + AsRawFd + Send + 'static>(r: Option<R>) -> Pipe {
        let (tx, lines) = mpsc::channel();
        let Some(r) = r else {
            return Pipe { lines, ino: 0 };
        };
        let ino =
            std::fs::metadata(format!("/proc/self/fd/{}", r.as_raw_fd())).map_or(0, |m| m.ino());
        std::thread::spawn(move || {
            let mut r = std::io::BufReader::new(r);
            loop {
                let mut line = Vec::new();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Pipe { lines, ino }
    }

    /// Everything still to come until the pipe closes, or `Err` with what came by `deadline`.
    fn rest(&self, deadline: Instant) -> Result<String, String> {
        let mut buf = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => buf.extend(l),
                Err(RecvTimeoutError::Disconnected) => {
                    return Ok(String::from_utf8_lossy(&buf).into_owned())
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(String::from_utf8_lossy(&buf).into_owned())
                }
            }
        }
    }

    /// What has come so far, and what comes within a short while (for failure messages).
    fn rest_now(&self) -> String {
        let deadline = Instant::now() + Duration::from_millis(200);
        self.rest(deadline).unwrap_or_else(|partial| partial)
    }

    /// The processes that hold this pipe open, as `PID (command line)`.
    fn holders(&self) -> Vec<String> {
        let want = format!("pipe:[{}]", self.ino);
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        procs
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&p| p != std::process::id() as i32)
            .filter(|p| {
                std::fs::read_dir(format!("/proc/{p}/fd")).is_ok_and(|fds| {
                    fds.flatten()
                        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == *want))
                })
            })
            .map(|p| {
                let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
                format!(
                    "{p} ({})",
                    String::from_utf8_lossy(&cmd).replace('\0', " ").trim()
                )
            })
            .collect()
    }
}

/// A command's stdout and stderr, and until when they may stay open.
struct Pipes {
    out: Pipe,
    err: Pipe,
    deadline: Instant,
}

impl Pipes {
    /// The output of a command that has exited: its pipes may stay open until the deadline
    /// or [`PIPE_GRACE`], whichever is later. One a background process still holds then
    /// fails the test, naming that process (whose process group, the command's, is killed
    /// so that it does not outlive the test).
    fn finish(self, cmdline: String, pgid: i32, status: ExitStatus) -> Output {
        let deadline = self.deadline.max(Instant::now() + PIPE_GRACE);
        let (stdout, stderr) = (self.out.rest(deadline), self.err.rest(deadline));
        if let (Ok(stdout), Ok(stderr)) = (&stdout, &stderr) {
            return Output {
                cmdline,
                status,
                stdout: stdout.clone(),
                stderr: stderr.clone(),
            };
        }
        let mut holders = Vec::new();
        if stdout.is_err() {
            holders.extend(self.out.holders());
        }
        if stderr.is_err() {
            holders.extend(self.err.holders());
        }
        holders.dedup();
        kill_group(pgid);
        let text = |r: Result<String, String>| r.unwrap_or_else(|s| s);
        panic!(
            "{cmdline} exited ({status}) but its output is still open, held by {holders:?}: a \
             process it left in the background keeps the pipe (redirect that process's output, \
             or end it first)\n--- stdout:\n{}\n--- stderr:\n{}",
            text(stdout),
            text(stderr),
        )
    }
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

/// A background process, killed on drop with every descendant (found through the kernel's
/// children lists, so a command that moved to a process group of its own is not missed) and
/// its process group.
#[derive(Debug)]
pub struct Bg {
    child: Child,
    cmdline: String,
    stdout: Pipe,
    stderr: Pipe,
    timeout: Duration,
}

impl Bg {
    /// Its PID (in our PID namespace).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The next line of its stdout, without the newline; `""` once stdout has closed.
    /// Panics when none comes within the command's time limit.
    #[track_caller]
    pub fn read_line(&mut self) -> String {
        match self.stdout.lines.recv_timeout(self.timeout) {
            Ok(l) => String::from_utf8_lossy(&l).trim_end().to_string(),
            Err(RecvTimeoutError::Disconnected) => String::new(),
            Err(RecvTimeoutError::Timeout) => panic!(
                "no line from {} within {:?}; stderr so far:\n{}",
                self.cmdline,
                self.timeout,
                self.stderr.rest_now()
            ),
        }
    }

    /// The next line of its stdout if one comes within `t` (`None`: none came, or stdout
    /// closed).
    pub fn line_within(&mut self, t: Duration) -> Option<String> {
        let l = self.stdout.lines.recv_timeout(t).ok()?;
        Some(String::from_utf8_lossy(&l).trim_end().to_string())
    }

    /// Wait for it to end (up to `limit`) and return its status and the output not read
    /// yet.
    #[track_caller]
    pub fn wait(mut self, limit: Duration) -> Output {
        let started = Instant::now();
        let Some(status) = wait_timeout(&mut self.child, limit) else {
            panic!(
                "timed out after {limit:?}: {}\n--- stderr:\n{}",
                self.cmdline,
                self.stderr.rest_now()
            )
        };
        let none = || Pipe::read(None::<std::fs::File>);
        let pipes = Pipes {
            out: std::mem::replace(&mut self.stdout, none()),
            err: std::mem::replace(&mut self.stderr, none()),
            deadline: started + limit,
        };
        pipes.finish(self.cmdline.clone(), self.pid(), status)
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
        let pid = self.pid();
        // Only while it is not reaped: until then its PID cannot belong to anyone else.
        if let Ok(None) = self.child.try_wait() {
            for d in descendants(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(d),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        kill_group(pid);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
