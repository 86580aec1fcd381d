//! Drop-in means unchanged scripts: each habit an administrator brings from util-linux,
//! run against the anchor (`/usr/bin/unshare`, `/usr/bin/nsenter`, `timeout`) and ours side
//! by side in the same test, checking that ours does what theirs does — or what our docs say
//! where we deliberately differ. The kernel is the oracle where there is one (namespace
//! inodes, the pidfs inode, which processes are left), the anchor's behaviour where the
//! habit is about the command line.
//!
//! | habit | tests |
//! |---|---|
//! | abbreviated long options | `abbreviations_resolve_as_util_linux_does`, `abbreviated_habits_side_by_side`, `ambiguous_abbreviations_side_by_side` |
//! | `--net=FILE` is `./FILE` | `relative_namespace_files_side_by_side`, `netns_names_are_their_own_option` |
//! | a login shell without a command (`--init` too) | `login_shell_side_by_side` |
//! | `--timeout` ends the whole job | `timeout_ends_the_whole_job_side_by_side`, `rootless_timeout_ends_the_whole_job` |
//! | `make install` leaves util-linux's nsenter first | `make_install_does_not_shadow_util_linux_nsenter` |
//! | hints quote what was typed | `optional_value_trap_hints_quote_what_was_typed`, `invalid_values_and_misspellings_side_by_side` |
//! | a PID namespace without init | `pid_namespace_without_init_side_by_side` |
//! | the pidfs inode for `PID:INODE` | `pidfs_inode_is_reachable` |
//! | the docs | `docs_*`, `readme_*` |

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use harness::{
    bin, is_root, need_programs, need_root, need_root_and, skip, Bg, Cmd, Netns, Output, TempDir,
};

const UL_UNSHARE: &str = "/usr/bin/unshare";
const UL_NSENTER: &str = "/usr/bin/nsenter";

/// util-linux's tool, or a skip.
fn anchor(path: &str) -> bool {
    need_programs(&[path])
}

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// A target process in a network namespace of its own, for nsenter: `unshare -n` execs the
/// sleep, so the PID is that of the process in the new namespace.
fn net_target() -> Bg {
    let bg = Cmd::new(UL_UNSHARE)
        .args(["-n", "sleep", &format!("30.{}", std::process::id())])
        .spawn();
    for _ in 0..500 {
        if harness::ns_ino(Some(bg.pid()), "net") != harness::ns_ino(None, "net") {
            return bg;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("the target never entered its network namespace");
}

// ------------------------------------------------------------- 1. abbreviated options

/// The long options a util-linux tool lists in its `--help`.
fn anchor_longs(path: &str) -> Vec<String> {
    let out = Cmd::new(path).arg("--help").run();
    let mut longs = Vec::new();
    for word in out
        .stdout
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
    {
        if let Some(l) = word.strip_prefix("--") {
            if !l.is_empty() && !longs.iter().any(|x| x == l) {
                longs.push(l.to_owned());
            }
        }
    }
    longs
}

#[derive(Debug, PartialEq, Eq)]
enum Resolved {
    To(String),
    Ambiguous,
    Unknown,
}

/// getopt_long's rule over a list of long options: an exact name, else the one option the
/// prefix begins, else ambiguous (several) or unknown (none).
fn getopt_resolve(longs: &[String], p: &str) -> Resolved {
    if longs.iter().any(|l| l == p) {
        return Resolved::To(p.to_owned());
    }
    let c: Vec<&String> = longs.iter().filter(|l| l.starts_with(p)).collect();
    match c.len() {
        0 => Resolved::Unknown,
        1 => Resolved::To(c[0].clone()),
        _ => Resolved::Ambiguous,
    }
}

/// What our parser makes of `--p`, asked of clap itself with the tool's full definition.
fn our_resolve(cmd: &clap::Command, p: &str) -> Resolved {
    use clap::error::{ContextKind, ErrorKind};
    let long_of = |id: &str| {
        cmd.get_arguments()
            .find(|a| a.get_id().as_str() == id)
            .and_then(|a| a.get_long())
            .map(str::to_owned)
    };
    match cmd.clone().try_get_matches_from(["x", &format!("--{p}")]) {
        Ok(m) => {
            let ids: Vec<String> = m
                .ids()
                .filter(|id| {
                    m.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
                })
                .filter_map(|id| long_of(id.as_str()))
                .collect();
            assert_eq!(ids.len(), 1, "--{p} set {ids:?}");
            Resolved::To(ids[0].clone())
        }
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp => Resolved::To("help".into()),
            ErrorKind::DisplayVersion => Resolved::To("version".into()),
            ErrorKind::UnknownArgument => {
                let candidates = cmd
                    .get_arguments()
                    .filter(|a| a.get_long().is_some_and(|l| l.starts_with(p)))
                    .count()
                    + usize::from("help".starts_with(p))
                    + usize::from("version".starts_with(p));
                if candidates > 1 {
                    Resolved::Ambiguous
                } else {
                    Resolved::Unknown
                }
            }
            // "a value is required for '--setuid <UID>'": resolved, the value is missing.
            _ => match e.get(ContextKind::InvalidArg) {
                Some(clap::error::ContextValue::String(s)) => {
                    let long = s.trim_start_matches('-');
                    let long = long.split([' ', '[', '=']).next().unwrap_or(long);
                    Resolved::To(long.to_owned())
                }
                _ => panic!("--{p}: {e}"),
            },
        },
    }
}

/// Every prefix of every long option of util-linux's unshare and nsenter (as installed):
/// where util-linux selects an option, ours selects the same one; where it finds the
/// prefix ambiguous, so do we. The alias lists in our code are util-linux 2.38's options.
#[test]
fn abbreviations_resolve_as_util_linux_does() {
    for (path, ours, ours_list) in [
        (UL_UNSHARE, nsrun::command(), nsrun::cli::UNSHARE_LONGS),
        (UL_NSENTER, nsenter::command(), nsenter::NSENTER_LONGS),
    ] {
        if !anchor(path) {
            return;
        }
        let theirs = anchor_longs(path);
        let listed: BTreeSet<&str> = ours_list.iter().copied().collect();
        let installed: BTreeSet<&str> = theirs.iter().map(String::as_str).collect();
        if Cmd::new(path)
            .arg("--version")
            .run()
            .stdout
            .contains(" 2.38")
        {
            assert_eq!(
                listed, installed,
                "{path}: the anchor list is 2.38's --help"
            );
        }
        let mut checked = 0;
        for long in &theirs {
            for end in 1..=long.len() {
                let p = &long[..end];
                let want = getopt_resolve(&theirs, p);
                let got = our_resolve(&ours, p);
                match &want {
                    Resolved::To(_) => assert_eq!(got, want, "{path} --{p}"),
                    Resolved::Ambiguous => assert_eq!(got, Resolved::Ambiguous, "{path} --{p}"),
                    Resolved::Unknown => {}
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "{path}: only {checked} prefixes");
    }
}

/// One habit run by both tools with the same arguments: both must pass `check` and end
/// with the same exit code.
#[track_caller]
fn same_habit(theirs: &str, ours: &str, args: &[&str], check: &dyn Fn(&Output) -> bool) {
    let a = Cmd::new(theirs).args(args).run();
    let b = Cmd::tool(ours).args(args).run();
    assert!(
        check(&a),
        "util-linux does not do what the test expects:{a:?}"
    );
    assert!(
        check(&b),
        "{ours} differs from util-linux:{b:?}\nutil-linux:{a:?}"
    );
    assert_eq!(a.code(), b.code(), "exit codes:{a:?}{b:?}");
}

#[test]
fn abbreviated_habits_side_by_side() {
    if !need_root() || !anchor(UL_UNSHARE) || !anchor(UL_NSENTER) {
        return;
    }
    let host = |k: &str| harness::ns_ino(None, k).to_string();
    let host_net = host("net");
    let host_time = harness::ns_ino(None, "time_for_children").to_string();
    let out_is = |want: &'static str| move |o: &Output| o.status.success() && o.out() == want;
    type Case<'a> = (&'a [&'a str], Box<dyn Fn(&Output) -> bool + 'a>);
    let unshare: Vec<Case<'_>> = vec![
        (&["--map-root", "id", "-u"], Box::new(out_is("0"))),
        (
            &["--map-root-u", "--map-current", "id", "-u"],
            Box::new(out_is("0")),
        ),
        (&["--propag", "private", "-m", "true"], Box::new(out_is(""))),
        (&["--f", "-p", "sh", "-c", "echo $$"], Box::new(out_is("1"))),
        (
            &["--mount-", "-fp", "sh", "-c", "ls -d /proc/[0-9]*"],
            Box::new(out_is("/proc/1")),
        ),
        (
            &["--ne", "stat", "-L", "-c", "%i", "/proc/self/ns/net"],
            Box::new(|o: &Output| o.status.success() && o.out() != host_net && !o.out().is_empty()),
        ),
        (
            &[
                "--ti",
                "stat",
                "-L",
                "-c",
                "%i",
                "/proc/self/ns/time_for_children",
            ],
            Box::new(|o: &Output| {
                o.status.success() && o.out() != host_time && !o.out().is_empty()
            }),
        ),
        (
            &["--h"],
            Box::new(|o: &Output| o.status.success() && o.stdout.contains("sage")),
        ),
    ];
    for (args, check) in &unshare {
        same_habit(UL_UNSHARE, "nsrun", args, check.as_ref());
    }
    let target = net_target();
    let pid = target.pid().to_string();
    let want = harness::ns_ino(Some(target.pid()), "net").to_string();
    let theirs_net = move |o: &Output| o.status.success() && o.out() == want;
    for args in [
        &[
            "--targ",
            &pid,
            "--ne",
            "stat",
            "-L",
            "-c",
            "%i",
            "/proc/self/ns/net",
        ][..],
        &["--target", &pid, "--n=/proc/self/ns/net", "true"][..],
        &[
            "--ta",
            &pid,
            "--net",
            "--preserve",
            "stat",
            "-L",
            "-c",
            "%i",
            "/proc/self/ns/net",
        ][..],
    ] {
        if args.iter().any(|a| a.starts_with("--n=")) {
            // --n is ambiguous for both (--net, --no-fork; ours also --netns, --net-socket).
            let a = Cmd::new(UL_NSENTER).args(args).run();
            let b = Cmd::tool("nsenter").args(args).run();
            assert!(!a.status.success() && b.code() == 125, "{a:?}{b:?}");
            assert!(first_line(&a.stderr).contains("is ambiguous"), "{a:?}");
            assert!(first_line(&b.stderr).contains("is ambiguous"), "{b:?}");
            continue;
        }
        same_habit(UL_NSENTER, "nsenter", args, &theirs_net);
    }
}

/// An ambiguous prefix: the same message as util-linux's (glibc's wording, the word as
/// typed), candidates a superset of util-linux's (ours has more options), exit 125 where
/// util-linux exits 1.
#[test]
fn ambiguous_abbreviations_side_by_side() {
    if !anchor(UL_UNSHARE) || !anchor(UL_NSENTER) {
        return;
    }
    for (theirs, ours, args) in [
        (UL_UNSHARE, "nsrun", &["--map-u=0", "true"][..]),
        (UL_UNSHARE, "nsrun", &["--ma", "true"][..]),
        (UL_UNSHARE, "nsrun", &["--s", "0", "true"][..]),
        (UL_NSENTER, "nsenter", &["--w", "true"][..]),
        (UL_NSENTER, "nsenter", &["--p", "true"][..]),
    ] {
        let a = Cmd::new(theirs).args(args).run();
        let b = Cmd::tool(ours).args(args).run();
        assert_eq!(a.code(), 1, "{a:?}");
        assert_eq!(b.code(), 125, "{b:?}");
        // glibc prefixes its message with argv[0] as given (`/usr/bin/unshare: `).
        let (la, lb) = (first_line(&a.stderr), first_line(&b.stderr));
        let ma = la.split_once(": ").expect("their prefix").1;
        let mb = lb.strip_prefix(&format!("{ours}: ")).expect("our prefix");
        let split = |m: &str| -> (String, BTreeSet<String>) {
            let (head, cands) = m.split_once("; possibilities: ").expect("possibilities");
            (
                head.to_owned(),
                cands.split(' ').map(str::to_owned).collect(),
            )
        };
        let ((ha, ca), (hb, cb)) = (split(ma), split(mb));
        assert_eq!(ha, hb, "{la}\n{lb}");
        assert!(cb.is_superset(&ca), "{la}\n{lb}");
        b.stderr_has(&format!("Try '{ours} --help' for more information."));
    }
}

// ------------------------------------------------------- 2. the meaning of --net=FILE

/// `--net=netfile` and `--uts=utsfile` are `./netfile` and `./utsfile` for util-linux and
/// for us, creating and entering; nothing appears in /run/netns.
#[test]
fn relative_namespace_files_side_by_side() {
    if !need_root() || !anchor(UL_UNSHARE) || !anchor(UL_NSENTER) {
        return;
    }
    let dir = TempDir::private_mount("dropin-rel", 0o755);
    let d = dir.path();
    let tag = std::process::id();
    let inode_of = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).map(|m| m.ino()).unwrap_or(0)
    };
    let mut made = Vec::new();
    for (who, tool) in [
        ("ul", UL_UNSHARE.to_owned()),
        ("ours", bin("nsrun").display().to_string()),
    ] {
        let (net, uts) = (format!("net{who}{tag}"), format!("uts{who}{tag}"));
        if who == "ul" {
            // util-linux binds onto existing files only; nsrun creates missing ones.
            for f in [&net, &uts] {
                std::fs::write(d.join(f), "").expect("touch");
            }
        }
        let out = Cmd::new("sh")
            .args([
                "-c",
                &format!(
                    "cd {} && exec {tool} --net={net} --uts={uts} true",
                    d.display()
                ),
            ])
            .run();
        out.ok();
        for f in [&net, &uts] {
            assert!(d.join(f).is_file(), "{who}: no ./{f}:{out:?}");
            assert!(
                !Path::new("/run/netns").join(f).exists(),
                "{who}: /run/netns/{f} made"
            );
        }
        made.push((net, uts));
    }
    // Both nsenters read a bare name as ./NAME, for util-linux's file and for ours.
    for (net, _) in &made {
        let want = inode_of(&d.join(net)).to_string();
        for tool in [UL_NSENTER.to_owned(), bin("nsenter").display().to_string()] {
            let out = Cmd::new("sh")
                .args([
                    "-c",
                    &format!(
                        "cd {} && exec {tool} --net={net} stat -L -c %i /proc/self/ns/net",
                        d.display()
                    ),
                ])
                .run();
            assert_eq!(out.ok().out(), want, "{tool} --net={net}");
        }
    }
}

/// The `ip netns` convenience is `--netns=NAME`, which cannot collide with a file; a bare
/// `--net=NAME` that is no file but an ip netns name gets a hint naming both readings.
#[test]
fn netns_names_are_their_own_option() {
    if !need_root_and(&["ip"]) {
        return;
    }
    let netns = Netns::new("dropin");
    let name = netns.name();
    Cmd::tool("nsrun")
        .arg(format!("--netns={name}"))
        .arg("true")
        .run()
        .ok();
    Cmd::new("ip")
        .args(["netns", "list"])
        .run()
        .ok()
        .stdout_has(name);
    let run = netns.path();
    let want = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&run)
            .expect("persisted")
            .ino()
            .to_string()
    };
    let ours = Cmd::tool("nsenter")
        .arg(format!("--netns={name}"))
        .args(["stat", "-L", "-c", "%i", "/proc/self/ns/net"])
        .run();
    assert_eq!(ours.ok().out(), want);
    let theirs = Cmd::new(UL_NSENTER)
        .arg(format!("--net={}", run.display()))
        .args(["stat", "-L", "-c", "%i", "/proc/self/ns/net"])
        .run();
    assert_eq!(theirs.ok().out(), want);
    // The bare name is a relative path for both, here (/) one that does not exist.
    let theirs = Cmd::new(UL_NSENTER)
        .arg(format!("--net={name}"))
        .arg("true")
        .run();
    assert_eq!(theirs.code(), 1, "{theirs:?}");
    let ours = Cmd::tool("nsenter")
        .arg(format!("--net={name}"))
        .arg("true")
        .run();
    ours.code_is(125)
        .stderr_has(&format!(
            "nsenter: cannot open {name}: No such file or directory"
        ))
        .stderr_has(&format!(
            "nsenter: hint: '{name}' is the file ./{name}, as util-linux reads it"
        ))
        .stderr_has(&format!("write --netns={name}"));
    // Taken names are refused, and a name is no path.
    Cmd::tool("nsrun")
        .arg(format!("--netns={name}"))
        .arg("true")
        .run()
        .code_is(125)
        .stderr_has("already exists");
    Cmd::tool("nsrun")
        .args(["--netns=a/b", "true"])
        .run()
        .code_is(125)
        .stderr_has("for a file, use --net=FILE");
}

// ------------------------------------------------------------------ 3. a login shell

#[test]
fn login_shell_side_by_side() {
    if !need_root() || !anchor(UL_UNSHARE) || !anchor(UL_NSENTER) {
        return;
    }
    let target = net_target();
    let pid = target.pid().to_string();
    for (shell, want) in [
        (Some("/bin/bash"), "-bash"),
        (Some("/bin/sh"), "-sh"),
        (None, "-sh"),
    ] {
        let run = |c: Cmd| {
            let c = c.stdin("echo $0\n");
            let c = match shell {
                Some(s) => c.env("SHELL", s),
                None => c.env("SHELL", ""),
            };
            c.run()
        };
        // SHELL="" is a difference: util-linux tries to execute "", we take /bin/sh.
        if shell.is_some() {
            assert_eq!(run(Cmd::new(UL_UNSHARE).arg("-r")).ok().out(), want);
            assert_eq!(
                run(Cmd::new(UL_NSENTER).args(["-t", &pid, "-n"]))
                    .ok()
                    .out(),
                want
            );
        }
        assert_eq!(
            run(Cmd::tool("nsrun").arg("-r")).ok().out(),
            want,
            "{shell:?}"
        );
        // With a reaper as PID 1 the shell is its child, and still a login shell.
        if shell.is_some() {
            let ul = run(Cmd::new(UL_UNSHARE).args(["-r", "--pid", "--fork"]));
            assert_eq!(ul.ok().out(), want);
        }
        let init = run(Cmd::tool("nsrun").args(["-r", "--pid", "--fork", "--init"]));
        assert_eq!(init.ok().out(), want, "--init, {shell:?}");
        let ours = run(Cmd::tool("nsenter").args(["-t", &pid, "-n"]));
        assert_eq!(ours.ok().out(), want, "{shell:?}");
    }
}

// ------------------------------------------------------- 4. --timeout ends the whole job

/// A flaky job: a background sleep in the job's process group, one in a session of its own
/// (a daemon), and a foreground sleep. Each sleep's duration carries `tag`, so the test can
/// find exactly its own processes.
fn flaky_script(dir: &Path, tag: &str) -> std::path::PathBuf {
    let p = dir.join("flaky");
    std::fs::write(
        &p,
        // The sleeps do not hold the test's output pipes: a leftover would keep `run` waiting.
        format!(
            "#!/bin/sh\nexec >/dev/null 2>&1\nsleep 100.{tag}1 &\nsetsid sleep 100.{tag}2 &\n\
             sleep 100.{tag}3\n"
        ),
    )
    .expect("write flaky");
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    p
}

/// The sleeps of `tag` still running, by their duration; killed after being counted.
fn leftovers(tag: &str) -> Vec<String> {
    let left = harness::processes_mentioning(&format!("sleep 100.{tag}"));
    for l in &left {
        if let Some(pid) = l.split(':').next().and_then(|p| p.parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    left
}

#[test]
fn timeout_ends_the_whole_job_side_by_side() {
    if !harness::have("timeout") || !harness::have("setsid") {
        return skip("needs timeout and setsid (coreutils, util-linux)");
    }
    let dir = TempDir::new("dropin-timeout");
    // Fixed width, so that no tag is a prefix of another test's.
    let tag = format!("{:05}", std::process::id() % 100_000);
    let flaky = flaky_script(dir.path(), &tag);
    let t = Cmd::new("timeout").arg("1s").arg(&flaky).run();
    t.code_is(124);
    // Let the killed shell's orphans settle: timeout(1) signals the process group only.
    std::thread::sleep(Duration::from_millis(200));
    let theirs = leftovers(&tag);
    assert_eq!(
        theirs.len(),
        1,
        "timeout(1) leaves exactly the setsid'd one: {theirs:?}"
    );
    assert!(theirs[0].contains(&format!("100.{tag}2")), "{theirs:?}");
    for extra in [&[][..], &["-m"][..], &["-p"][..]] {
        if !extra.is_empty() && !is_root() {
            continue;
        }
        let out = Cmd::tool("nsrun")
            .args(extra)
            .arg("--timeout=1s")
            .arg(&flaky)
            .run();
        out.code_is(124);
        std::thread::sleep(Duration::from_millis(200));
        let ours = leftovers(&tag);
        assert!(ours.is_empty(), "nsrun {extra:?} --timeout left {ours:?}");
    }
}

#[test]
fn rootless_timeout_ends_the_whole_job() {
    if !harness::need_rootless() {
        return;
    }
    let dir = TempDir::new("dropin-timeout-nobody");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let tag = format!("{:05}", (std::process::id() + 7) % 100_000);
    let flaky = flaky_script(dir.path(), &tag);
    let out = Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "--timeout=500ms"])
        .arg(&flaky)
        .run();
    out.code_is(124);
    std::thread::sleep(Duration::from_millis(200));
    let left = leftovers(&tag);
    assert!(left.is_empty(), "left: {left:?}");
    // A command that ends in time leaves nsrun's status alone: no 124.
    Cmd::tool("nsrun")
        .as_nobody()
        .args(["-r", "--timeout=30s", "sh", "-c", "exit 3"])
        .run()
        .code_is(3);
}

// ------------------------------------------------------------ 5. make install naming

/// `make install`'s commands (dry run, nothing built or installed): ours is
/// `nsutils-nsenter` by default, `nsenter` only with `NSENTER_NAME=nsenter`.
#[test]
fn make_install_does_not_shadow_util_linux_nsenter() {
    if !harness::have("make") {
        return skip("needs make");
    }
    let dry = |extra: &[&str]| {
        let out = Cmd::new("make")
            .args(["-n", "-s", "-C"])
            .arg(workspace())
            .args([
                "install",
                "DESTDIR=/nonexistent-dropin",
                "PREFIX=/usr/local",
            ])
            .args(extra)
            .run();
        out.ok();
        out.stdout
    };
    let default = dry(&[]);
    assert!(
        default.contains("'/nonexistent-dropin/usr/local/bin/nsutils-nsenter'"),
        "{default}"
    );
    assert!(!default.contains("/usr/local/bin/nsenter'"), "{default}");
    assert!(
        default.contains("/nonexistent-dropin/usr/local/lib/nsutils/bin/nsenter"),
        "{default}"
    );
    let named = dry(&["NSENTER_NAME=nsenter"]);
    assert!(
        named.contains("'/nonexistent-dropin/usr/local/bin/nsenter'"),
        "{named}"
    );
    let packaging = doc("docs/packaging.md");
    assert!(packaging.contains("`make install` installs ours as `nsutils-nsenter`"));
    assert!(packaging.contains("make install NSENTER_NAME=nsenter"));
    let readme = flat(&doc("README.md"));
    assert!(readme.contains("`make install` installs ours as `nsutils-nsenter`"));
    assert!(readme.contains("make install NSENTER_NAME=nsenter"));
}

// ------------------------------------------------------- 8, 9. hints that help more

/// `--net /path cmd` runs `/path` for util-linux and for us; our hint quotes the spelling
/// the user typed. util-linux's exit code is the same (126/127).
#[test]
fn optional_value_trap_hints_quote_what_was_typed() {
    if !need_root() || !anchor(UL_UNSHARE) || !anchor(UL_NSENTER) {
        return;
    }
    for (args, code, quoted, fix) in [
        (
            &["--net", "nsxred", "true"][..],
            127,
            "'--net nsxred'",
            "(--net=nsxred); an ip netns name is --netns=nsxred",
        ),
        (
            &["-n", "/etc/passwd"][..],
            126,
            "'-n /etc/passwd'",
            "(--net=/etc/passwd)",
        ),
        (
            &["-u", "/nonexistent"][..],
            127,
            "'-u /nonexistent'",
            "(--uts=/nonexistent)",
        ),
        (
            &["-Uu", "/nonexistent"][..],
            127,
            "'-Uu /nonexistent'",
            "(--uts=/nonexistent)",
        ),
        (
            &["--ne", "/etc/passwd"][..],
            126,
            "'--ne /etc/passwd'",
            "(--net=/etc/passwd)",
        ),
    ] {
        let theirs = Cmd::new(UL_UNSHARE).args(args).run();
        theirs.code_is(code);
        let ours = Cmd::tool("nsrun").args(args).run();
        ours.code_is(code)
            .stderr_has(&format!("nsrun: hint: {quoted} ran "))
            .stderr_has(fix);
        assert!(
            !ours.stderr.contains("'--uts ") && !ours.stderr.contains("'--net /etc"),
            "{ours:?}"
        );
    }
    let target = net_target();
    let pid = target.pid().to_string();
    let args = ["-t", &pid, "--net", "/run/netns/foo", "ip", "a"];
    let theirs = Cmd::new(UL_NSENTER).args(args).run();
    let ours = Cmd::tool("nsenter").args(args).run();
    assert_eq!(theirs.code(), ours.code(), "{theirs:?}{ours:?}");
    ours.stderr_has("nsenter: hint: '--net /run/netns/foo' ran /run/netns/foo as the command")
        .stderr_has("(--net=/run/netns/foo)");
}

/// Invalid values list the valid ones, misspelled options and values get "did you mean";
/// util-linux refuses the same input (exit 1), we exit 125.
#[test]
fn invalid_values_and_misspellings_side_by_side() {
    if !anchor(UL_UNSHARE) {
        return;
    }
    for (args, line, hint) in [
        (
            &["--propagation", "privat", "true"][..],
            "nsrun: invalid value 'privat' for '--propagation <MODE>'; possible values: private, shared, slave, unchanged",
            Some("nsrun: hint: did you mean 'private'?"),
        ),
        (
            &["--mount-porc", "true"][..],
            "nsrun: unexpected argument '--mount-porc' found",
            Some("nsrun: hint: did you mean '--mount-proc'?"),
        ),
        (
            &["--setgroups=alow", "-U", "true"][..],
            "nsrun: invalid value 'alow' for '--setgroups <allow|deny>'; possible values: allow, deny",
            Some("nsrun: hint: did you mean 'allow'?"),
        ),
        (
            &["--timeout", "inf", "true"][..],
            "nsrun: invalid value 'inf' for '--timeout <DURATION>': invalid duration 'inf': too large (not a finite number of seconds)",
            None,
        ),
    ] {
        let theirs_args: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with("--timeout") && *a != "inf").collect();
        if theirs_args.len() == args.len() {
            Cmd::new(UL_UNSHARE).args(args).run().code_is(1);
        }
        let ours = Cmd::tool("nsrun").args(args).run();
        ours.code_is(125);
        let lines: Vec<&str> = ours.stderr.lines().collect();
        assert_eq!(lines.first().copied(), Some(line), "{ours:?}");
        // The hint, or else util-linux's pointer to --help: two lines in all.
        let second = hint.unwrap_or("Try 'nsrun --help' for more information.");
        assert_eq!(lines.get(1).copied(), Some(second), "{ours:?}");
        assert_eq!(lines.len(), 2, "{ours:?}");
    }
    // clap would suggest the hidden alias `--b` (of --boottime) for this one: no hint then.
    let ours = Cmd::tool("nsrun").args(["--bogus", "true"]).run();
    ours.code_is(125);
    assert_eq!(
        ours.stderr,
        "nsrun: unexpected argument '--bogus' found\nTry 'nsrun --help' for more information.\n"
    );
    let ours = Cmd::tool("nsenter").args(["--targte", "1", "true"]).run();
    ours.code_is(125)
        .stderr_has("nsenter: hint: did you mean '--target'?");
}

// ------------------------------------------------ 11. a PID namespace without its init

/// util-linux and ours persist a PID namespace whose init then exits; entering it fails at
/// the fork with ENOMEM for both — ours says why, and nsrun warned when it happened.
#[test]
fn pid_namespace_without_init_side_by_side() {
    if !need_root() || !anchor(UL_UNSHARE) || !anchor(UL_NSENTER) {
        return;
    }
    let dir = TempDir::private_mount("dropin-pidns", 0o755);
    let d = dir.path();
    // util-linux binds onto an existing file only.
    let ul_file = d.join("ul-pid");
    std::fs::write(&ul_file, "").expect("touch");
    Cmd::new(UL_UNSHARE)
        .arg(format!("--pid={}", ul_file.display()))
        .args(["-f", "true"])
        .run()
        .ok();
    let ours = Cmd::tool("nsrun")
        .arg(format!("--persist={}", d.join("p").display()))
        .args(["-p", "true"])
        .run();
    ours.ok().stderr_has(&format!(
        "nsrun: warning: the PID namespace persisted at {} has no init any more",
        d.join("p/pid").display()
    ));
    for file in [ul_file, d.join("p/pid")] {
        let theirs = Cmd::new(UL_NSENTER)
            .arg(format!("--pid={}", file.display()))
            .arg("true")
            .run();
        assert_eq!(theirs.code(), 1, "{theirs:?}");
        assert!(
            theirs.stderr.contains("Cannot allocate memory"),
            "{theirs:?}"
        );
        let ours = Cmd::tool("nsenter")
            .arg(format!("--pid={}", file.display()))
            .arg("true")
            .run();
        ours.code_is(125)
            .stderr_has("nsenter: cannot fork: Out of memory")
            .stderr_has(
                "nsenter: hint: the PID namespace entered has no init: its PID 1 has exited",
            );
    }
    // Without persisting there is nothing to warn about.
    let out = Cmd::tool("nsrun").args(["-p", "true"]).run();
    assert_eq!(out.ok().stderr, "");
}

// ------------------------------------------------------ 13. the pidfs inode of PID:INODE

/// `--info-fd`'s `child-pidfs-inode` is the kernel's pidfs inode of the command (asked of
/// the kernel with Python's `os.pidfd_open`), and `nsenter -t PID:INODE` takes it; a
/// mistyped inode names both causes.
#[test]
fn pidfs_inode_is_reachable() {
    if !need_root() || !harness::have("python3") {
        return skip("needs root and python3");
    }
    let dir = TempDir::new("dropin-pidfs");
    let info = dir.path().join("info");
    let _bg = Cmd::new("sh")
        .args([
            "-c",
            &format!(
                "exec {} -n --info-fd=3 sleep 30.{} 3>{}",
                bin("nsrun").display(),
                std::process::id(),
                info.display()
            ),
        ])
        .spawn();
    let mut text = String::new();
    for _ in 0..1000 {
        text = std::fs::read_to_string(&info).unwrap_or_default();
        if text.ends_with('\n') {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let v: serde_json::Value = serde_json::from_str(&text).expect("info json");
    let pid = v["child-pid"].as_i64().expect("child-pid");
    let ino = v["child-pidfs-inode"].as_u64().expect("child-pidfs-inode");
    assert_eq!(harness::pidfs_inode(pid), ino);
    Cmd::tool("nsenter")
        .args(["-t", &format!("{pid}:{ino}"), "-n", "true"])
        .run()
        .ok();
    Cmd::tool("nsenter")
        .args(["-t", &format!("{pid}:{}", ino + 1), "-n", "true"])
        .run()
        .code_is(125)
        .stderr_has(&format!(
            "nsenter: process {pid} has pidfs inode {ino}, not {}",
            ino + 1
        ))
        .stderr_has("either INODE is mistyped, or the process you meant has exited")
        .stderr_has("child-pidfs-inode");
}

// ------------------------------------------------------------------------ 15. the docs

fn doc(path: &str) -> String {
    std::fs::read_to_string(workspace().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `text` with every run of whitespace one space: a phrase does not depend on where the
/// lines are wrapped.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What our docs say util-linux does with exit codes is what it does: 1 for its own
/// failures, 126/127 when the command cannot be executed or found; ours 125/126/127.
#[test]
fn docs_exit_status_claims_hold() {
    if !need_root() || !anchor(UL_UNSHARE) || !anchor(UL_NSENTER) {
        return;
    }
    let target = net_target();
    let pid = target.pid().to_string();
    for (theirs, ours, pre) in [
        (UL_UNSHARE, "nsrun", vec!["-n"]),
        (UL_NSENTER, "nsenter", vec!["-t", pid.as_str(), "-n"]),
    ] {
        for (cmd, ul, us) in [
            (&["/nonexistent"][..], 127, 127),
            (&["/etc/passwd"][..], 126, 126),
            (&["--bogus-option"][..], 1, 125),
        ] {
            let args: Vec<&str> = pre.iter().copied().chain(cmd.iter().copied()).collect();
            Cmd::new(theirs).args(&args).run().code_is(ul);
            Cmd::tool(ours).args(&args).run().code_is(us);
        }
    }
    let nsenter = doc("man/nsenter.roff");
    assert!(!nsenter.contains("exits 1 for all of them"));
    assert!(nsenter.contains(
        "126 and 127 when the command cannot be executed or is not found, as util\\-linux"
    ));
    let readme = flat(&doc("README.md"));
    assert!(readme.contains("nsrun and nsenter exit 125 (as `env`, `timeout`,"));
}

/// `--mount-proc` with `--root`: util-linux 2.38 mounts proc inside the new root as we do,
/// so it is no difference, and the README does not list it as one.
#[test]
fn docs_mount_proc_with_root_side_by_side() {
    if !need_root() || !anchor(UL_UNSHARE) {
        return;
    }
    let Some(busybox) = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
    else {
        return skip("needs busybox-static");
    };
    let rootfs = TempDir::new("dropin-rootfs");
    let r = rootfs.path();
    std::fs::create_dir_all(r.join("bin")).expect("mkdir");
    std::fs::create_dir_all(r.join("proc")).expect("mkdir");
    std::fs::copy(busybox, r.join("bin/busybox")).expect("copy busybox");
    let show = [
        "/bin/busybox",
        "sh",
        "-c",
        "test -d /proc/1/ns && echo proc-inside",
    ];
    for tool in [Cmd::new(UL_UNSHARE), Cmd::tool("nsrun")] {
        let out = tool
            .args(["-fp", "--mount-proc"])
            .arg(format!("--root={}", r.display()))
            .args(show)
            .run();
        assert_eq!(out.ok().out(), "proc-inside");
        assert!(
            harness::mounts_under(r).is_empty(),
            "nothing mounted on the host's side"
        );
    }
    let readme = doc("README.md");
    assert!(
        !readme.contains("With `--mount-proc` and `--root`, proc is mounted inside the new root.")
    );
}

/// The documents that show our tools being run.
const DOCS: [&str; 5] = [
    "README.md",
    "docs/containers.md",
    "docs/hardening.md",
    "docs/packaging.md",
    "docs/paths.md",
];

/// Whether `cmd` takes `--long` (a long name or alias, or a prefix of exactly one, as
/// util-linux's abbreviations).
fn takes_long(cmd: &clap::Command, long: &str) -> bool {
    let mut names: Vec<String> = vec!["help".into(), "version".into()];
    for a in cmd.get_arguments() {
        names.extend(a.get_long().map(str::to_owned));
        names.extend(a.get_all_aliases().into_iter().flatten().map(str::to_owned));
    }
    names.iter().any(|n| n == long) || names.iter().filter(|n| n.starts_with(long)).count() == 1
}

/// Whether option `opt` (`-t`, `--target`, `--net=FILE`) of `cmd` takes the next word as
/// its value.
fn value_follows(cmd: &clap::Command, opt: &str) -> bool {
    let arg = if let Some(l) = opt.strip_prefix("--") {
        if l.contains('=') {
            return false;
        }
        cmd.get_arguments().find(|a| a.get_long() == Some(l))
    } else {
        let c = opt.chars().last().unwrap_or('-');
        cmd.get_arguments().find(|a| a.get_short() == Some(c))
    };
    arg.is_some_and(|a| {
        a.get_num_args().is_some_and(|n| n.min_values() > 0) && !a.is_require_equals_set()
    })
}

/// Every long option the README and docs name exists: on an example line, as an option of
/// the tool that line runs (no option of a future issue, no stale spelling); in the
/// README's prose, as an option of one of the four tools.
#[test]
fn documented_options_exist() {
    let tools = [
        ("nsrun", nsrun::command()),
        ("nsenter", nsenter::command()),
        ("nsls", nsls::command()),
        ("nsinit", nsinit::command()),
        ("nsinit-static", nsinit::command()),
    ];
    for path in DOCS {
        let text = doc(path);
        let mut code = false;
        for line in text.lines() {
            if line.starts_with("```") {
                code = !code;
                continue;
            }
            if !code {
                continue;
            }
            let line = line.split(" # ").next().unwrap_or(line);
            let words: Vec<&str> = line.split_whitespace().collect();
            for (i, w) in words.iter().enumerate() {
                let Some((tool, cmd)) = tools.iter().find(|(t, _)| w.rsplit('/').next() == Some(t))
                else {
                    continue;
                };
                let mut rest = words[i + 1..].iter();
                while let Some(opt) = rest.next() {
                    if !opt.starts_with('-') || *opt == "--" {
                        break;
                    }
                    if let Some(l) = opt.strip_prefix("--") {
                        let name = l.split('=').next().unwrap_or(l);
                        assert!(
                            takes_long(cmd, name),
                            "{path}: {tool} has no --{name}: {line}"
                        );
                    }
                    if value_follows(cmd, opt) {
                        rest.next();
                    }
                }
            }
        }
    }
    // Prose: options of the four tools (or of a program the README quotes by name).
    let others = ["release", "workspace", "init", "init-path"];
    let readme = doc("README.md");
    let mut code = false;
    let prose: String = readme
        .lines()
        .filter(|l| {
            code ^= l.starts_with("```");
            !code && !l.starts_with("```")
        })
        .collect::<Vec<_>>()
        .join("\n");
    for word in prose.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '=')) {
        let Some(l) = word.strip_prefix("--") else {
            continue;
        };
        let name = l.split('=').next().unwrap_or(l);
        // `--KIND=FILE` and the like are placeholders, not options.
        let placeholder = name.chars().any(|c| c.is_ascii_uppercase());
        let word = name.starts_with(|c: char| c.is_ascii_lowercase());
        if !word || placeholder || others.contains(&name) {
            continue;
        }
        assert!(
            tools.iter().any(|(_, cmd)| takes_long(cmd, name)),
            "README names --{name}, which no tool has"
        );
    }
}

/// Each top-level section of the README appears once (a merge once left a second, stale
/// copy of four of them).
#[test]
fn readme_sections_appear_once() {
    let readme = doc("README.md");
    let mut seen = BTreeSet::new();
    for h in readme.lines().filter(|l| l.starts_with("## ")) {
        assert!(seen.insert(h), "README: {h:?} twice");
    }
}

/// Examples set nothing that is thrown away: an nsrun example that sets a hostname either
/// keeps its UTS namespace or runs a command that reads it.
#[test]
fn readme_examples_keep_what_they_set() {
    for path in ["README.md", "man/nsrun.roff"] {
        let text = doc(path);
        for line in text
            .lines()
            .filter(|l| l.contains("nsrun") && l.contains("--hostname"))
        {
            let keeps = line.contains("--uts=") || line.contains("--persist=");
            let cmd = line.split('#').next().unwrap_or(line).trim_end();
            let reads = !cmd.ends_with(" true");
            assert!(keeps || reads, "{path}: {line}");
        }
    }
    let readme = doc("README.md");
    assert!(readme.contains("nsrun --netns=blue true"));
}

/// Figures live next to the benchmark that wrote them (bench/*/RESULTS.md); the README and
/// the docs that link them quote none, so none goes stale: no size, time or ratio.
#[test]
fn docs_quote_no_figures() {
    for bench in [
        "nsrun", "nsenter", "nsls", "nsinit", "sizes", "stress", "fuzz",
    ] {
        let script = if bench == "fuzz" { "report" } else { "run" };
        let results = doc(&format!("bench/{bench}/RESULTS.md"));
        assert!(
            results.contains(&format!("Written by `bench/{bench}/{script}")),
            "bench/{bench}/RESULTS.md is the script's"
        );
        let path = format!("bench/{bench}/{script}");
        assert!(
            doc(&path).contains(&format!("bench/{bench}/RESULTS.md")),
            "{path} writes bench/{bench}/RESULTS.md"
        );
        assert!(
            doc("README.md").contains(&format!("bench/{bench}/RESULTS.md")),
            "the README links bench/{bench}/RESULTS.md"
        );
    }
    for path in ["README.md", "docs/packaging.md", "docs/containers.md"] {
        let text = doc(path);
        let chars: Vec<char> = text.chars().collect();
        for (i, w) in chars.windows(3).enumerate() {
            let unit_at = |j: usize| {
                ["KB", "MB", "ms", "µs"]
                    .iter()
                    .any(|u| chars[j..].starts_with(&u.chars().collect::<Vec<_>>()))
            };
            // `608 KB`, `2.6ms`, `1.07x`
            let figure = w[0].is_ascii_digit()
                && ((w[1] == ' ' && unit_at(i + 2))
                    || unit_at(i + 1)
                    || (w[1] == 'x'
                        && !w[2].is_ascii_alphanumeric()
                        && i > 1
                        && chars[i - 2] == '.'));
            let from = i.saturating_sub(30);
            assert!(
                !figure,
                "{path}: a figure: {}",
                chars[from..(i + 5).min(chars.len())]
                    .iter()
                    .collect::<String>()
            );
        }
    }
}

/// The test suite's binary copies for uid 65534 are where the README says.
#[test]
fn readme_says_where_the_test_binaries_go() {
    let dir = harness::nobody_bin_dir();
    let readme = doc("README.md");
    assert!(
        readme.contains("`target/nsutils-test-bin`")
            && readme.contains("/tmp/nsutils-test-bin-<hash>")
    );
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    assert!(
        name == "nsutils-test-bin" || name.starts_with("nsutils-test-bin-"),
        "{}",
        dir.display()
    );
}
