//! No symlink, FIFO or file another user planted makes our tools write or mount over someone
//! else's file (issue 15). As root, with `fs.protected_symlinks` (and `protected_regular`,
//! `protected_fifos`) at 0 for the test — the kernel then protects nothing and our tools are
//! the only line — uid 65534 plants things in a sticky directory the test made. Each command
//! refuses (exit 125, one line naming the path) or writes a fresh regular file of its own; the
//! victim file is byte-for-byte unchanged and nothing is mounted on it (mountinfo). A race:
//! another process flips a path between a regular file, a symlink and nothing while nsrun
//! persists onto it and writes pid files there, a few hundred times; no mount ever lands on
//! the symlink's target.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::{mounts_under, stress_scaled, Cmd, Output, TempDir};
use nix::fcntl::{Flock, FlockArg};

/// The system's python (a `python3` earlier in root's PATH may sit where uid 65534 cannot
/// reach it).
const PYTHON: &str = "/usr/bin/python3";

fn root() -> bool {
    harness::need_root_and(&["setpriv", PYTHON])
}

/// The sysctls that would make the kernel refuse to follow a planted link or open a planted
/// FIFO or file for us.
const SYSCTLS: [&str; 3] = [
    "/proc/sys/fs/protected_symlinks",
    "/proc/sys/fs/protected_regular",
    "/proc/sys/fs/protected_fifos",
];

/// The kernel's protections off for as long as it lives, then restored. Tests in this file,
/// in other test processes and in other work trees on the same kernel take turns (an
/// exclusive lock on one file in /run), so none restores a value under another's feet.
struct Unprotected {
    saved: Vec<(&'static str, String)>,
    _lock: Flock<File>,
}

impl Unprotected {
    fn new() -> Unprotected {
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open("/run/nsutils-test-protected-sysctls.lock")
            .expect("lock file");
        let lock = Flock::lock(f, FlockArg::LockExclusive).expect("flock");
        let mut saved = Vec::new();
        for s in SYSCTLS {
            let Ok(v) = std::fs::read_to_string(s) else {
                continue; // an older kernel lacks protected_regular/fifos
            };
            std::fs::write(s, "0").expect("set sysctl");
            saved.push((s, v));
        }
        Unprotected { saved, _lock: lock }
    }
}

impl Drop for Unprotected {
    fn drop(&mut self) {
        for (s, v) in &self.saved {
            let _ = std::fs::write(s, v.trim());
        }
    }
}

/// A sticky world-writable directory (a private mount, so persisting works in it whatever
/// /tmp's propagation), and root's victim file in a directory only root may write.
struct Scene {
    _guard: Unprotected,
    sticky: TempDir,
    vault: TempDir,
    victim: PathBuf,
    content: Vec<u8>,
    victim_ino: u64,
}

impl Scene {
    fn new(tag: &str) -> Scene {
        let guard = Unprotected::new();
        let sticky = TempDir::private_mount(tag, 0o1777);
        let vault = TempDir::new(&format!("{tag}-vault"));
        std::fs::set_permissions(vault.path(), PermissionsExt::from_mode(0o755)).expect("chmod");
        let victim = vault.path().join("important");
        let content = format!("root's file {}\n", std::process::id()).into_bytes();
        std::fs::write(&victim, &content).expect("victim");
        let victim_ino = victim.metadata().expect("victim").ino();
        Scene {
            _guard: guard,
            sticky,
            vault,
            victim,
            content,
            victim_ino,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.sticky.path().join(name)
    }

    /// As uid 65534: a symlink at `name` to the victim (or to `to`).
    fn plant_link(&self, name: &str, to: &Path) -> PathBuf {
        let p = self.path(name);
        as_nobody(&[
            "ln",
            "-s",
            &to.display().to_string(),
            &p.display().to_string(),
        ]);
        p
    }

    fn plant_fifo(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        as_nobody(&["mkfifo", &p.display().to_string()]);
        p
    }

    fn plant_file(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        as_nobody(&["sh", "-c", &format!("echo nobody > {}", p.display())]);
        p
    }

    /// The victim is byte-for-byte what it was, the same inode, nothing is mounted on it,
    /// and nothing new appeared next to it.
    #[track_caller]
    fn assert_victim_untouched(&self, what: &str) {
        let now = std::fs::read(&self.victim).expect("victim");
        assert_eq!(now, self.content, "{what}: the victim was written");
        let md = self.victim.metadata().expect("victim");
        assert_eq!(md.ino(), self.victim_ino, "{what}: the victim was replaced");
        assert!(
            mounts_under(self.vault.path()).is_empty(),
            "{what}: mounted on the victim: {:?}",
            mounts_under(self.vault.path())
        );
        let names: Vec<_> = std::fs::read_dir(self.vault.path())
            .expect("vault")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            names.len(),
            1,
            "{what}: new files next to the victim: {names:?}"
        );
    }
}

fn as_nobody(argv: &[&str]) {
    Cmd::new(argv[0]).args(&argv[1..]).as_nobody().run().ok();
}

/// Exit 125 and exactly one line: `TOOL: …PATH…`.
#[track_caller]
fn refused(out: &Output, tool: &str, path: &Path) {
    out.code_is(125);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1
            && lines[0].starts_with(&format!("{tool}: "))
            && lines[0].contains(&path.display().to_string()),
        "not one line naming {}: {out:?}",
        path.display()
    );
}

/// The commands of the issue, each writing or persisting at `path`: (tool, arguments).
fn commands(path: &Path) -> Vec<(&'static str, Vec<String>)> {
    let p = path.display();
    vec![
        (
            "nsrun",
            vec!["-u".into(), format!("--pid-file={p}"), "true".into()],
        ),
        (
            "nsinit",
            vec![format!("--pid-file={p}"), "--".into(), "true".into()],
        ),
        ("nsrun", vec![format!("--net={p}"), "true".into()]),
        (
            "nsrun",
            vec![format!("--uts={p}"), "-i".into(), "true".into()],
        ),
    ]
}

fn run(tool: &str, args: &[String]) -> Output {
    Cmd::tool(tool)
        .args(args)
        .timeout(Duration::from_secs(20))
        .run()
}

#[test]
fn a_planted_symlink_is_never_followed() {
    if !root() {
        return;
    }
    let s = Scene::new("sec-link");
    for i in 0..commands(&s.victim).len() {
        let p = s.plant_link(&format!("job{i}"), &s.victim);
        let (tool, args) = commands(&p).swap_remove(i);
        let out = run(tool, &args);
        refused(&out, tool, &p);
        out.stderr_has("symbolic link");
        s.assert_victim_untouched(&format!("{tool} {args:?}"));
        assert!(p.symlink_metadata().expect("link").is_symlink());
    }
    // A dangling link: O_EXCL never creates its target either.
    let ghost = s.vault.path().join("ghost");
    let p = s.plant_link("dangling", &ghost);
    for (tool, args) in commands(&p) {
        refused(&run(tool, &args), tool, &p);
        assert!(
            ghost.symlink_metadata().is_err(),
            "{tool} {args:?} created the link's target"
        );
    }
    assert!(
        mounts_under(s.sticky.path()).len() == 1,
        "only the temp dir's own mount"
    );
}

#[test]
fn a_planted_fifo_is_refused_without_blocking() {
    if !root() {
        return;
    }
    let s = Scene::new("sec-fifo");
    let p = s.plant_fifo("job.fifo");
    for (tool, args) in commands(&p) {
        let t = Instant::now();
        let out = run(tool, &args);
        refused(&out, tool, &p);
        out.stderr_has("FIFO");
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{tool} {args:?} blocked"
        );
    }
    let md = p.symlink_metadata().expect("fifo");
    assert!(md.file_type().is_fifo_like(), "the FIFO was replaced");
    assert_eq!(
        mounts_under(s.sticky.path()).len(),
        1,
        "a mount on the FIFO"
    );
}

/// `FileType::is_fifo` without the extension trait import at every use.
trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_fifo()
    }
}

#[test]
fn another_users_file_in_a_sticky_directory_is_refused() {
    if !root() {
        return;
    }
    let s = Scene::new("sec-foreign");
    let p = s.plant_file("job.other");
    for (tool, args) in commands(&p) {
        let out = run(tool, &args);
        refused(&out, tool, &p);
        out.stderr_has("belongs to uid 65534");
        assert_eq!(std::fs::read_to_string(&p).expect("theirs"), "nobody\n");
    }
    assert_eq!(
        mounts_under(s.sticky.path()).len(),
        1,
        "a mount on their file"
    );
}

/// A planted link in the directories above is followed only where the kernel's
/// protected_symlinks rule would (root's own `/var/run` → `/run` style links are fine).
#[test]
fn a_planted_directory_link_above_the_file_is_not_followed() {
    if !root() {
        return;
    }
    let s = Scene::new("sec-dirlink");
    let sub = s.plant_link("sub", s.vault.path());
    for (tool, args) in commands(&sub.join("job")) {
        let out = run(tool, &args);
        refused(&out, tool, &sub);
        out.stderr_has("not followed");
        s.assert_victim_untouched(&format!("{tool} {args:?}"));
    }
    // --persist=DIR naming the planted link itself.
    let out = run(
        "nsrun",
        &[
            format!("--persist={}", sub.display()),
            "-u".into(),
            "true".into(),
        ],
    );
    refused(&out, "nsrun", &sub);
    s.assert_victim_untouched("--persist=LINK");
    // Root's own link in a directory of root's: followed, the file written there and removed
    // after the command.
    let real = s.vault.path().join("real");
    std::fs::create_dir(&real).expect("mkdir");
    let own = s.path("own");
    std::os::unix::fs::symlink(&real, &own).expect("symlink");
    let pf = own.join("x.pid");
    let out = Cmd::tool("nsrun")
        .arg(format!("--pid-file={}", pf.display()))
        .args(["-u", "cat"])
        .arg(real.join("x.pid"))
        .run();
    out.ok();
    assert!(out.out().parse::<i32>().is_ok_and(|p| p > 0), "{out:?}");
    assert!(!real.join("x.pid").exists(), "pid file left after exit");
    std::fs::remove_dir(&real).expect("rmdir");
    s.assert_victim_untouched("own link");
}

/// Where nothing was planted, each writes a fresh regular file of its own (and the
/// persisted ones are real mounts of the namespace).
#[test]
fn a_clean_path_gets_a_fresh_file_of_ours() {
    if !root() {
        return;
    }
    let s = Scene::new("sec-clean");
    for i in 0..commands(&s.victim).len() {
        let p = s.path(&format!("fresh{i}"));
        let (tool, args) = commands(&p).swap_remove(i);
        run(tool, &args).ok();
        if args.iter().any(|a| a.starts_with("--pid-file")) {
            assert!(
                p.symlink_metadata().is_err(),
                "{tool}: pid file left after exit"
            );
        } else {
            let md = p.symlink_metadata().expect("persisted");
            assert!(md.is_file() && md.uid() == 0, "{tool} {args:?}: {md:?}");
            assert!(
                mounts_under(&p).contains(&p.display().to_string()),
                "{tool} not persisted"
            );
            nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH).expect("umount");
        }
    }
    s.assert_victim_untouched("clean");
}

/// The python loop of the attacker (uid 65534): flip `p` between a regular file of its own, a
/// symlink to the victim and nothing, and move whatever is at `p` aside now and then, as fast
/// as it can until killed. The directory is world-writable but not sticky, so it may also move
/// or remove the file nsrun just created before the mount lands.
const FLIPPER: &str = r#"
import os, sys
d, victim = sys.argv[1], sys.argv[2]
p = os.path.join(d, "p")
i = 0
while True:
    i += 1
    try:
        step = i % 4
        if step == 0:
            with open(os.path.join(d, "r.tmp"), "w") as f:
                f.write("attacker\n")
            os.rename(os.path.join(d, "r.tmp"), p)
        elif step == 1:
            l = os.path.join(d, "l.tmp")
            if os.path.lexists(l):
                os.unlink(l)
            os.symlink(victim, l)
            os.rename(l, p)
        elif step == 2:
            os.rename(p, os.path.join(d, "aside-%d" % (i % 8)))
            os.symlink(victim, p)
        else:
            os.unlink(p)
    except OSError:
        pass
"#;

/// The flip race: no mount ever lands on the symlink's target, the victim is never written,
/// and every round either refused or persisted onto a regular file in the directory.
#[test]
fn flipping_the_path_never_redirects_a_mount() {
    if !root() {
        return;
    }
    let s = Scene::new("sec-race");
    let d = s.path("flip");
    std::fs::create_dir(&d).expect("mkdir");
    std::fs::set_permissions(&d, PermissionsExt::from_mode(0o777)).expect("chmod");
    let _flipper = Cmd::new(PYTHON)
        .as_nobody()
        .args(["-c", FLIPPER])
        .arg(&d)
        .arg(&s.victim)
        .spawn();
    let p = d.join("p");
    let rounds = stress_scaled(3000, 300);
    let (mut ok, mut refusals, mut other) = (0, 0, 0);
    for i in 0..rounds {
        let args: Vec<String> = match i % 3 {
            0 => vec![format!("--uts={}", p.display()), "true".into()],
            // Persisted, then undone when the command cannot run.
            1 => vec![format!("--uts={}", p.display()), "/nonexistent/cmd".into()],
            _ => vec![
                "-u".into(),
                format!("--pid-file={}", p.display()),
                "true".into(),
            ],
        };
        let out = run("nsrun", &args);
        match out.code() {
            0 => ok += 1,
            125 => {
                refusals += 1;
                assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
            }
            127 if i % 3 == 1 => other += 1,
            _ => panic!("round {i}: {out:?}"),
        }
        let info = nsutils_common::mountinfo::read_self().expect("mountinfo");
        let on_victim = info.iter().any(|m| m.mount_point == s.victim);
        assert!(
            !on_victim,
            "round {i}: a mount landed on the victim ({args:?})"
        );
        // Whatever was persisted went onto a file in the directory: take it down.
        let mut here = mounts_under(&d);
        here.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in here {
            let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
        s.assert_victim_untouched(&format!("round {i} {args:?}"));
    }
    println!("STRESS security_flip rounds={rounds} ok={ok} refused={refusals} undone={other}");
    assert!(
        ok > 0 && refusals > 0,
        "the race never went both ways: ok {ok}, refused {refusals}"
    );
}

/// The directories nsrun mounts on or enters for the command: `--mount-proc=DIR` never
/// through a symlink as its last component, `--root`/`--wd` never through another user's
/// link in a sticky directory.
#[test]
fn mount_proc_root_and_wd_do_not_follow_planted_links() {
    if !root() {
        return;
    }
    let s = Scene::new("sec-dirs");
    let link = s.plant_link("procdir", s.vault.path());
    let out = run(
        "nsrun",
        &[
            "-m".into(),
            "--propagation=shared".into(),
            format!("--mount-proc={}", link.display()),
            "true".into(),
        ],
    );
    refused(&out, "nsrun", &link);
    out.stderr_has("symbolic link");
    s.assert_victim_untouched("--mount-proc=LINK");
    for opt in ["--root", "--wd"] {
        let out = run(
            "nsrun",
            &[
                "-m".into(),
                format!("{opt}={}", link.display()),
                "true".into(),
            ],
        );
        refused(&out, "nsrun", &link);
        out.stderr_has("not followed");
    }
    // Root's own: followed as ever.
    let own = s.path("own");
    std::os::unix::fs::symlink("/", &own).expect("symlink");
    let out = Cmd::tool("nsrun")
        .args(["-m", "-p"])
        .arg(format!("--root={}", own.display()))
        .arg(format!("--wd={}", own.display()))
        .args(["--mount-proc", "sh", "-c", "pwd; echo $$"])
        .run();
    out.ok();
    assert_eq!(out.stdout, "/\n1\n", "{out:?}");
}

/// procfs's own links are the kernel's to follow: a pid file at `/proc/PID/root/…` lands in
/// that process's mount namespace (a container's file tree), where the path leads, not in
/// ours.
#[test]
fn a_pid_file_through_proc_pid_root_lands_in_that_namespace() {
    if !root() {
        return;
    }
    let s = Scene::new("sec-procroot");
    let inner = s.path("inner");
    std::fs::create_dir(&inner).expect("mkdir");
    let mut bg = Cmd::tool("nsrun")
        .args(["-m", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs tmpfs {} && echo ready && exec sleep 60",
            inner.display()
        ))
        .spawn();
    assert_eq!(bg.read_line(), "ready");
    let there = PathBuf::from(format!("/proc/{}/root", bg.pid()))
        .join(inner.strip_prefix("/").expect("absolute"));
    let pf = there.join("x.pid");
    let out = Cmd::tool("nsrun")
        .arg(format!("--pid-file={}", pf.display()))
        .args(["-u", "cat"])
        .arg(&pf)
        .run();
    out.ok();
    assert!(out.out().parse::<i32>().is_ok_and(|p| p > 0), "{out:?}");
    assert!(
        !inner.join("x.pid").exists(),
        "written in our mount namespace"
    );
    assert!(!pf.exists(), "left after exit");
}

/// Root entering a new user namespace (`-U`) loses its override of directory permissions on
/// the host; the pid file is renamed into place by nsrun's helper, which keeps them, so a
/// directory root does not own still gets it (as when the file was written through an fd
/// opened before `unshare`).
#[test]
fn a_pid_file_in_a_directory_root_does_not_own_with_a_new_user_namespace() {
    if !root() {
        return;
    }
    let dir = TempDir::new("sec-owndir");
    std::os::unix::fs::chown(dir.path(), Some(harness::NOBODY), None).expect("chown");
    std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o755)).expect("chmod");
    let pf = dir.path().join("x.pid");
    let out = Cmd::tool("nsrun")
        .arg(format!("--pid-file={}", pf.display()))
        .args(["-U", "cat"])
        .arg(&pf)
        .run();
    out.ok();
    assert!(out.out().parse::<i32>().is_ok_and(|p| p > 0), "{out:?}");
}
