//! The fast path of argument parsing: the everyday command lines, without clap.
//!
//! Building clap's `Command` touches a few hundred KB of code and heap, which is most of an
//! init's resident memory. [`parse`] handles what an entry point usually says, abbreviated
//! long options included, and returns `None` for anything else (help, version, licence, an
//! error, an ambiguous abbreviation, a repeated value, `-p=9`): clap then parses and reports
//! exactly as always. The unit tests check that whenever this answers, clap answers the same.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::ValueEnum;
use nsutils_common::cli::{parse_duration, parse_signal};

use crate::cli::{parse_rewrite, Cli, ExitOnArg, WaitArg, DUMB_INIT_LONGS};

/// Every long option of [`Cli`], with clap's `--help` (a unit test checks the list against
/// clap's).
pub const LONGS: [&str; 18] = [
    "subreaper",
    "pdeathsig",
    "verbose",
    "warn-on-reap",
    "process-group",
    "remap-exit",
    "rewrite",
    "single-child",
    "setsid",
    "pause",
    "grace",
    "exit-grace",
    "wait",
    "exit-on",
    "pid-file",
    "license",
    "version",
    "help",
];

/// The long option `name` stands for, as getopt_long(3) reads it: itself, else the only
/// option it is a prefix of, else dumb-init's choice ([`DUMB_INIT_LONGS`], as
/// `nsutils_common::cli::abbreviations` makes clap read it). `None` when it names none or
/// several.
pub fn long_option(name: &str) -> Option<&'static str> {
    if let Some(l) = LONGS.iter().find(|l| **l == name) {
        return Some(l);
    }
    let only = |list: &[&'static str]| {
        let mut c = list.iter().filter(|l| l.starts_with(name));
        c.next().filter(|_| c.next().is_none()).copied()
    };
    if name.is_empty() {
        return None;
    }
    only(&LONGS).or_else(|| only(&DUMB_INIT_LONGS))
}

/// The value of an option: attached (`--grace=1s`, `-p9`) or the next argument, which must
/// not look like an option.
fn value(args: &[OsString], i: &mut usize, attached: Option<&str>) -> Option<String> {
    if let Some(v) = attached {
        return Some(v.to_string());
    }
    *i += 1;
    let v = args.get(*i)?.to_str()?;
    if v.starts_with('-') {
        return None;
    }
    Some(v.to_string())
}

/// Set a flag that was not set yet (clap rejects a repeated flag).
fn flag(set: &mut bool) -> Option<()> {
    if *set {
        return None;
    }
    *set = true;
    Some(())
}

/// Parse the arguments (without the program name) the way clap would, or `None`.
pub fn parse(args: &[OsString]) -> Option<Cli> {
    let mut cli = Cli::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].to_str()?;
        if a == "--" {
            cli.command = args[i + 1..].to_vec();
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            self::long(
                &mut cli,
                &mut seen,
                long_option(name)?,
                args,
                &mut i,
                attached,
            )?;
        } else if let Some(shorts) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            short(&mut cli, &mut seen, shorts, args, &mut i)?;
        } else {
            cli.command = args[i..].to_vec();
            break;
        }
        i += 1;
    }
    if cli.single_child && cli.setsid {
        return None;
    }
    Some(cli)
}

/// Each option that takes one value may appear once (clap's rule for `Option<T>`).
fn once<'a>(seen: &mut Vec<&'a str>, name: &'a str) -> Option<()> {
    if seen.contains(&name) {
        return None;
    }
    seen.push(name);
    Some(())
}

/// One long option, by its full name.
fn long(
    cli: &mut Cli,
    seen: &mut Vec<&'static str>,
    name: &'static str,
    args: &[OsString],
    i: &mut usize,
    attached: Option<&str>,
) -> Option<()> {
    let no_value = |set: &mut bool| if attached.is_some() { None } else { flag(set) };
    match name {
        "subreaper" => no_value(&mut cli.subreaper)?,
        "warn-on-reap" => no_value(&mut cli.warn_on_reap)?,
        "process-group" => no_value(&mut cli.process_group)?,
        "single-child" => no_value(&mut cli.single_child)?,
        "setsid" => no_value(&mut cli.setsid)?,
        "pause" => no_value(&mut cli.pause)?,
        "verbose" if attached.is_none() => cli.verbose = cli.verbose.checked_add(1)?,
        "remap-exit" => cli.remap_exit.push(value(args, i, attached)?.parse().ok()?),
        "rewrite" => cli
            .rewrite
            .push(parse_rewrite(&value(args, i, attached)?).ok()?),
        _ => {
            // The options that take one value, once.
            once(seen, if name == "pdeathsig" { "p" } else { name })?;
            let v = value(args, i, attached)?;
            match name {
                "pdeathsig" => cli.pdeathsig = Some(parse_signal(&v).ok()?),
                "grace" => cli.grace = Some(parse_duration(&v).ok()?),
                "exit-grace" => cli.exit_grace = Some(parse_duration(&v).ok()?),
                "wait" => cli.wait = Some(WaitArg::from_str(&v, false).ok()?),
                "exit-on" => cli.exit_on = Some(ExitOnArg::from_str(&v, false).ok()?),
                "pid-file" if !v.is_empty() => cli.pid_file = Some(PathBuf::from(v)),
                _ => return None,
            }
        }
    }
    Some(())
}

/// A group of short options (`-sv`, `-pTERM`, `-e 3`).
fn short(
    cli: &mut Cli,
    seen: &mut Vec<&'static str>,
    shorts: &str,
    args: &[OsString],
    i: &mut usize,
) -> Option<()> {
    for (pos, c) in shorts.char_indices() {
        let rest = &shorts[pos + c.len_utf8()..];
        let attached = (!rest.is_empty()).then_some(rest);
        match c {
            's' => flag(&mut cli.subreaper)?,
            'w' => flag(&mut cli.warn_on_reap)?,
            'g' => flag(&mut cli.process_group)?,
            'c' => flag(&mut cli.single_child)?,
            'P' => flag(&mut cli.pause)?,
            'v' => cli.verbose = cli.verbose.checked_add(1)?,
            'p' | 'e' | 'r' => {
                if attached.is_some_and(|r| r.starts_with('=')) {
                    return None;
                }
                let v = value(args, i, attached)?;
                match c {
                    'p' => {
                        once(seen, "p")?;
                        cli.pdeathsig = Some(parse_signal(&v).ok()?);
                    }
                    'e' => cli.remap_exit.push(v.parse().ok()?),
                    _ => cli.rewrite.push(parse_rewrite(&v).ok()?),
                }
                return Some(());
            }
            _ => return None,
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    /// What the clap path makes of `args`: the tool's full definition, abbreviations included.
    fn clap(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        let m = crate::command()
            .try_get_matches_from(std::iter::once("nsinit").chain(args.iter().copied()))?;
        Cli::from_arg_matches(&m)
    }

    fn fast(args: &[&str]) -> Option<Cli> {
        let os: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&os)
    }

    /// Whenever the fast parser answers, clap answers the same.
    fn agrees(args: &[&str]) -> bool {
        let clap = clap(args);
        match fast(args) {
            Some(f) => {
                let c = clap.unwrap_or_else(|e| panic!("{args:?}: fast ok, clap: {e}"));
                assert_eq!(format!("{f:?}"), format!("{c:?}"), "{args:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn fast_parser_agrees_with_clap() {
        let corpus: &[&[&str]] = &[
            &["true"],
            &["--", "true"],
            &["--", "echo", "-l", "--", "x"],
            &["echo", "-l", "-v"],
            &["-s", "-v", "-w", "-g", "--", "x"],
            &["-swgv", "x"],
            &["-vvv", "x"],
            &["-v", "-v", "--verbose", "x"],
            &["-p", "SIGKILL", "x"],
            &["-pTERM", "x"],
            &["-p=9", "x"],
            &["--pdeathsig=9", "x"],
            &["--pdeathsig", "usr1", "x"],
            &["-p", "1", "-p", "2", "x"],
            &["-p", "1", "--pdeath=2", "x"],
            &[
                "-e",
                "3",
                "-e143",
                "--remap-exit=4",
                "--remap-exit",
                "5",
                "x",
            ],
            &["-e", "256", "x"],
            &[
                "-r",
                "TERM:INT",
                "-r15:0",
                "--rewrite=HUP:0",
                "--rewrite",
                "1:2",
                "x",
            ],
            &["-r", "TERM", "x"],
            &["-c", "x"],
            &["--single-child", "x"],
            &["--setsid", "x"],
            &["-c", "--setsid", "x"],
            &["-P"],
            &["--pause"],
            &["-P", "x"],
            &["--grace=500ms", "x"],
            &["--grace", "10s", "x"],
            &["--grace", "soon", "x"],
            &["--grace=1s", "--grace=2s", "x"],
            &["--exit-grace=0", "--grace=2s", "x"],
            &["--exit-grace", "1s", "--exit-g=2s", "x"],
            &["--wait=all", "--exit-on=first", "a", ":::", "b"],
            &["--wait", "main", "--exit-on", "all", "--", "a", ":::", "b"],
            &["--wait=ALL", "x"],
            &["--exit-on=last", "x"],
            &["--pid-file=/run/p", "x"],
            &["--pid-file", "/run/p", "x"],
            &["--pid-file=", "x"],
            &["-s", "-s", "x"],
            &["--setsid", "--setsid", "x"],
            &["--bogus", "x"],
            &["-Z", "x"],
            &["-h"],
            &["--help"],
            &["-V"],
            &["--version"],
            &["-l"],
            &["-L"],
            &["--license"],
            &["-", "x"],
            &["-p"],
            &["-e"],
            &["--grace"],
            &["-p", "-9", "x"],
            &["--verbose=2", "x"],
            &["--setsid=1", "x"],
            // Abbreviations.
            &["--proc", "--sub", "--warn", "--gr=1s", "x"],
            &["--s", "--re", "TERM:INT", "x"],
            &["--r=1:2", "--rem", "3", "x"],
            &["--se", "--pa"],
            &["--exit", "all", "x"],
            &["--v", "x"],
            &["--ver", "x"],
            &["--verb", "--verbo", "x"],
            &["--=x", "x"],
            &[],
        ];
        let used = corpus.iter().filter(|a| agrees(a)).count();
        assert!(used >= 30, "the fast path answered only {used} cases");
        // The everyday forms never need clap.
        for args in [
            &["--", "x"][..],
            &["-g", "x"],
            &["--grace=2s", "--", "x"],
            &["-P"],
            &["--proc", "--single", "x"],
        ] {
            assert!(fast(args).is_some(), "{args:?}");
        }
    }

    /// Every prefix of every long option means the same to both parsers, and getopt_long's
    /// rule holds: a prefix of one option only is that option, a prefix of several is none,
    /// except where dumb-init's options decide.
    #[test]
    fn abbreviations_agree_with_clap() {
        let values = |l: &str| match l {
            "pdeathsig" => Some("TERM"),
            "remap-exit" => Some("3"),
            "rewrite" => Some("TERM:INT"),
            "grace" | "exit-grace" => Some("1s"),
            "wait" => Some("all"),
            "exit-on" => Some("first"),
            "pid-file" => Some("/p"),
            _ => None,
        };
        for l in LONGS {
            for end in 1..=l.len() {
                let p = &l[..end];
                let word = format!("--{p}");
                let owners: Vec<&str> =
                    LONGS.iter().copied().filter(|o| o.starts_with(p)).collect();
                let expect = if owners.len() == 1 || LONGS.contains(&p) {
                    Some(if LONGS.contains(&p) { p } else { owners[0] })
                } else {
                    match p {
                        "s" => Some("single-child"),
                        "r" | "re" => Some("rewrite"),
                        _ => None,
                    }
                };
                assert_eq!(long_option(p), expect, "{word}");
                let mut args = vec![word.as_str()];
                args.extend(expect.and_then(values));
                args.push("x");
                agrees(&args);
                match expect {
                    Some("help" | "version" | "license") | None => {}
                    Some(_) => assert!(clap(&args).is_ok(), "{args:?}"),
                }
                if expect.is_none() {
                    assert!(clap(&args).is_err(), "{args:?} is ambiguous");
                }
            }
        }
    }

    /// [`LONGS`] is clap's list of long options.
    #[test]
    fn longs_are_clap_s() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut theirs: Vec<&str> = cmd.get_arguments().filter_map(|a| a.get_long()).collect();
        let mut ours = LONGS.to_vec();
        theirs.sort_unstable();
        ours.sort_unstable();
        assert_eq!(ours, theirs);
    }
}
