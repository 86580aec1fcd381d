//! Leak audits by fd (issue 9): the command never inherits a stray fd from nsrun or nsinit —
//! in every shape (fork or not, PID namespace, `--init`, rootless, with every hand-off fd
//! and a persisting helper) it sees exactly the fds its caller gave it — and the tools'
//! own fd counts do not grow while the command runs. (valgrind runs are in
//! `bench/stress/run`: too slow for `cargo test`.)

use std::path::Path;
use std::time::{Duration, Instant};

use harness::{bin, fd_count, need_root, skip, unprivileged_userns_works, Cmd, TempDir};

fn fds(s: &str) -> Vec<u32> {
    let mut v: Vec<u32> = s
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

/// What a command started by the caller's shell sees: 0, 1, 2, the fd 5 it is given, and
/// whatever the test runner itself leaks to children (the same for every run).
fn baseline() -> Vec<u32> {
    let out = Cmd::new("sh")
        .args(["-c", "exec 5</dev/null; exec sh -c 'ls /proc/$$/fd'"])
        .run();
    out.ok();
    let b = fds(&out.stdout);
    assert!(b.contains(&5) && b.starts_with(&[0, 1, 2]), "{out:?}");
    b
}

/// Every nsrun shape, with fd 5 given to the command, and `--info-fd`, `--ready-fd`,
/// `--block-fd`, `--pid-file` and `--persist` in use: the command sees the baseline.
#[test]
fn nsrun_command_inherits_no_stray_fd() {
    if !need_root() {
        return;
    }
    let nobody = unprivileged_userns_works();
    if !nobody {
        return skip("unprivileged user namespaces are not available");
    }
    let base = baseline();
    let dir = TempDir::private_mount("fds-nsrun", 0o1777);
    let d = dir.path().display().to_string();
    let shapes: &[(&str, bool)] = &[
        ("-u", false),
        ("-f -u", false),
        ("-fp --mount-proc", false),
        ("-fp --mount-proc --init", false),
        ("-u -n --persist={d}/p{i}", false),
        ("-fp --mount-proc --init --persist={d}/p{i}", false),
        ("-r", true),
        ("-r -fp --mount-proc", true),
        ("-r -fp --mount-proc --init", true),
    ];
    for (i, (shape, as_nobody)) in shapes.iter().enumerate() {
        let shape = shape.replace("{d}", &d).replace("{i}", &i.to_string());
        let n = if *as_nobody {
            harness::bin_for_nobody("nsrun")
        } else {
            bin("nsrun")
        };
        let setpriv = if *as_nobody {
            "setpriv --reuid=65534 --regid=65534 --clear-groups"
        } else {
            ""
        };
        let script = format!(
            "exec 5</dev/null; exec {setpriv} {n} {shape} --pid-file={d}/pf{i} --info-fd=4 \
             --ready-fd=6 --block-fd=7 -- sh -c 'ls /proc/$$/fd' 4>/dev/null 6>/dev/null \
             7</dev/null",
            n = n.display()
        );
        let out = Cmd::new("sh").args(["-c", &script]).run();
        out.ok();
        assert_eq!(fds(&out.stdout), base, "nsrun {shape}:{out:?}");
    }
    println!(
        "STRESS fds_nsrun shapes={} stray_fds=0 baseline={base:?}",
        shapes.len()
    );
}

/// nsrun's own fds (the waiting parent, with `--forward-signals` and `--timeout` too): the
/// set it holds while the command runs is no larger than while it set up (held at
/// `--block-fd`), and its helper is gone once the command runs.
#[test]
fn nsrun_parent_fds_do_not_grow() {
    if !need_root() {
        return;
    }
    let dir = TempDir::new("fds-nsrun-parent");
    let d = dir.path().display().to_string();
    Cmd::new("sh")
        .args([
            "-c",
            &format!("mount --bind {d} {d} && mount --make-private {d} && mkfifo {d}/fifo"),
        ])
        .run()
        .ok();
    for extra in ["", "--forward-signals --timeout=5m"] {
        let _ = std::fs::remove_file(dir.path().join("pf"));
        let _ = std::fs::remove_file(dir.path().join("running"));
        let script = format!(
            "exec 7<>{d}/fifo; exec {n} -f -u {extra} --persist={d}/p --pid-file={d}/pf \
             --block-fd=7 -- sh -c ': > {d}/running; read x < {d}/fifo'",
            n = bin("nsrun").display()
        );
        let bg = Cmd::new("sh").args(["-c", &script]).spawn();
        let pid = bg.pid();
        let pf = dir.path().join("pf");
        let t = Instant::now();
        while std::fs::read_to_string(&pf).unwrap_or_default().is_empty() {
            assert!(t.elapsed() < Duration::from_secs(20), "never set up");
            std::thread::sleep(Duration::from_millis(10));
        }
        let before = fd_count(pid).expect("nsrun's fds");
        // Release --block-fd (one byte), then wait for the command.
        std::fs::write(dir.path().join("fifo"), "g").expect("release");
        let running = dir.path().join("running");
        while !running.exists() {
            assert!(t.elapsed() < Duration::from_secs(20), "never ran");
            std::thread::sleep(Duration::from_millis(10));
        }
        let during = fd_count(pid).expect("nsrun's fds");
        assert!(
            during <= before,
            "nsrun {extra}: {before} fds while setting up, {during} while waiting"
        );
        let helpers: Vec<_> = helper_processes(&d, pid);
        assert!(helpers.is_empty(), "helper still there: {helpers:?}");
        std::fs::write(dir.path().join("fifo"), "x\n").expect("end");
        bg.wait(Duration::from_secs(20)).ok();
        println!("STRESS fds_nsrun_parent mode='{extra}' setup_fds={before} wait_fds={during}");
        let _ = Cmd::new("umount")
            .args(["-R", "-l", &format!("{d}/p")])
            .run();
        let _ = std::fs::remove_dir_all(dir.path().join("p"));
    }
}

/// nsrun processes mentioning `marker` other than `parent` (the forked child that became the
/// command no longer runs nsrun).
fn helper_processes(marker: &str, parent: i32) -> Vec<String> {
    let nsrun = bin("nsrun").display().to_string();
    let t = Instant::now();
    loop {
        let found: Vec<String> = std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                let pid = name.parse::<i32>().ok()?;
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
                let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                let ours = cmd.contains(marker) && cmd.starts_with(&nsrun) && pid != parent;
                ours.then(|| format!("{pid}: {cmd}"))
            })
            .collect();
        if found.is_empty() || t.elapsed() > Duration::from_secs(10) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// nsinit: every command (one, or several with `:::`) sees the baseline; nsinit itself
/// holds 0, 1, 2 and its signalfd.
#[test]
fn nsinit_command_inherits_no_stray_fd() {
    let n = bin("nsinit");
    let dir = TempDir::new("fds-nsinit");
    let d = dir.path().display();
    // Each command lists its own fds into a file (a pipe would show the shell's own end);
    // the baseline is the same command started by the shell directly.
    let list = |k: usize| format!("sh -c 'ls /proc/$$/fd > {d}/fds-{k}'");
    Cmd::new("sh")
        .args(["-c", &format!("exec 5</dev/null; exec {}", list(9))])
        .run()
        .ok();
    let base = fds(&std::fs::read_to_string(dir.path().join("fds-9")).expect("fds"));
    assert!(base.contains(&5), "{base:?}");
    for cmds in [
        list(0),
        format!("{} ::: {} ::: {}", list(1), list(2), list(3)),
    ] {
        let script = format!(
            "exec 5</dev/null; exec {n} --exit-on=all -- {cmds}",
            n = n.display()
        );
        Cmd::new("sh").args(["-c", &script]).run().ok();
    }
    for k in 0..4 {
        let got = std::fs::read_to_string(dir.path().join(format!("fds-{k}"))).expect("fds");
        assert_eq!(fds(&got), base, "nsinit command {k}");
    }
    // nsinit's own: 0, 1, 2, the signalfd — with fd 5 inherited and closed.
    let script = format!(
        "exec 5</dev/null; exec {n} -- sh -c ': > {d}/up; while [ ! -e {d}/go ]; do sleep 0.05; done'",
        n = n.display()
    );
    let bg = Cmd::new("sh").args(["-c", &script]).spawn();
    let up = dir.path().join("up");
    let t = Instant::now();
    while !up.exists() || fd_count(bg.pid()).is_some_and(|c| c != 4) {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "nsinit holds {:?} fds, not 4",
            fd_count(bg.pid())
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::write(Path::new(&dir.path().join("go")), "").expect("go");
    bg.wait(Duration::from_secs(20)).ok();
    println!("STRESS fds_nsinit stray_fds=0 own_fds=4");
}

/// nsenter: the command sees the baseline, forking into a PID namespace or not, with `-e`,
/// `-r`/`-w` and `-c` (which open files of the target) in use.
#[test]
fn nsenter_command_inherits_no_stray_fd() {
    if !need_root() {
        return;
    }
    let base = baseline();
    let dir = TempDir::new("fds-nsenter");
    let pf = dir.path().join("pf");
    let _target = Cmd::tool("nsrun")
        .arg(format!("--pid-file={}", pf.display()))
        .args(["-fp", "--mount-proc", "-n", "-u", "--", "sleep", "600"])
        .spawn();
    let pid = harness::wait_pid_file(&pf, Duration::from_secs(20));
    // (-F only without -m: the target mounted a /proc of its PID namespace.)
    let shapes = ["-a", "-n -u -F", "-n -u", "-a -e -r -w", "-m -p -c"];
    for shape in shapes {
        let script = format!(
            "exec 5</dev/null; exec {n} -t {pid} {shape} -- sh -c 'ls /proc/$$/fd'",
            n = bin("nsenter").display()
        );
        let out = Cmd::new("sh").args(["-c", &script]).run();
        out.ok();
        assert_eq!(fds(&out.stdout), base, "nsenter {shape}:{out:?}");
    }
    println!("STRESS fds_nsenter shapes={} stray_fds=0", shapes.len());
}
