//! The fast parser against clap: the table is clap's, and whenever the fast parser answers,
//! clap answers the same.

use super::*;
use clap::{ArgAction, CommandFactory, FromArgMatches};

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

/// A valid value for each option that takes one.
fn sample(long: &str) -> &'static str {
    match long {
        "pdeathsig" => "TERM",
        "remap-exit" => "3",
        "rewrite" => "TERM:INT",
        "grace" | "exit-grace" => "1s",
        "wait" => "all",
        "exit-on" => "first",
        "pid-file" => "/p",
        _ => panic!("no sample value for --{long}: add one"),
    }
}

/// The name of a [`Takes`], without its field.
fn kind(t: Takes) -> &'static str {
    match t {
        Flag(_) => "Flag",
        Count(_) => "Count",
        Once(_) => "Once",
        Each(_) => "Each",
        Clap => "Clap",
    }
}

/// [`OPTIONS`] is clap's definition: every option, its long and short names (hidden short
/// aliases included), and how it takes a value; and [`CONFLICTS`] are its conflicts.
#[test]
fn table_is_clap_s() {
    let mut cmd = Cli::command();
    cmd.build();
    let mut theirs = Vec::new();
    let mut conflicts = Vec::new();
    for a in cmd.get_arguments().filter(|a| !a.is_positional()) {
        let takes = match a.get_action() {
            ArgAction::SetTrue => "Flag",
            ArgAction::Count => "Count",
            ArgAction::Set => "Once",
            ArgAction::Append => "Each",
            ArgAction::Help | ArgAction::Version => "Clap",
            other => panic!("--{:?}: the fast parser knows no {other:?}", a.get_long()),
        };
        let long = a.get_long().expect("every option has a long name");
        assert_eq!(
            a.get_all_aliases(),
            None,
            "--{long}: the fast parser knows no aliases"
        );
        let mut shorts: Vec<char> = a.get_short().into_iter().collect();
        shorts.extend(a.get_all_short_aliases().unwrap_or_default());
        theirs.push((long.to_string(), shorts, takes));
        for b in cmd.get_arg_conflicts_with(a) {
            let pair = (long, b.get_long().expect("long"));
            if !conflicts.contains(&(pair.1, pair.0)) {
                conflicts.push(pair);
            }
        }
    }
    let ours: Vec<_> = OPTIONS
        .iter()
        .map(|o| (o.long.to_string(), o.shorts.to_vec(), kind(o.takes)))
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(conflicts, CONFLICTS);
}

/// Every option, by each of its names, with a value where it takes one: the fast parser
/// answers (but for help and version) and clap agrees.
#[test]
fn every_option_by_every_name() {
    for o in &OPTIONS {
        let v = o.takes.value().then(|| sample(o.long));
        let long = format!("--{}", o.long);
        let long_eq = v.map(|v| format!("{long}={v}"));
        let shorts: Vec<String> = o.shorts.iter().map(|c| format!("-{c}")).collect();
        let attached: Vec<String> = shorts
            .iter()
            .map(|s| format!("{s}{}", v.unwrap_or("")))
            .collect();
        let mut forms: Vec<Vec<&str>> = vec![[long.as_str()].into_iter().chain(v).collect()];
        forms.extend(long_eq.as_deref().map(|l| vec![l]));
        forms.extend(
            shorts
                .iter()
                .map(|s| [s.as_str()].into_iter().chain(v).collect()),
        );
        forms.extend(attached.iter().map(|s| vec![s.as_str()]));
        for mut args in forms {
            args.push("x");
            assert_eq!(agrees(&args), kind(o.takes) != "Clap", "{args:?}");
            // Twice: a flag or a single value is refused by clap, by the fast parser left to it.
            let twice: Vec<&str> = args[..args.len() - 1]
                .repeat(2)
                .into_iter()
                .chain(["x"])
                .collect();
            let again = agrees(&twice);
            assert_eq!(again, matches!(o.takes, Count(_) | Each(_)), "{twice:?}");
        }
    }
}

/// How many of `corpus` the fast parser answers; clap agrees with each of them. Each group
/// below asserts a floor on it, so that the fast path keeps answering what it answers now.
fn answered(corpus: &[&[&str]]) -> usize {
    corpus.iter().filter(|a| agrees(a)).count()
}

/// The command and the `--` before it, with option-like words in the command's arguments.
#[test]
fn commands_and_separators_agree_with_clap() {
    let corpus: &[&[&str]] = &[
        &["true"],
        &["--", "true"],
        &["--", "echo", "-l", "--", "x"],
        &["echo", "-l", "-v"],
        &["-", "x"],
        &[],
    ];
    let used = answered(corpus);
    assert!(used >= 6, "the fast path answered only {used} cases");
}

/// Flags and counted flags: alone, clustered, repeated, and given a value they take none of.
#[test]
fn flags_agree_with_clap() {
    let corpus: &[&[&str]] = &[
        &["-s", "-v", "-w", "-g", "--", "x"],
        &["-swgv", "x"],
        &["-vvv", "x"],
        &["-v", "-v", "--verbose", "x"],
        &["-c", "x"],
        &["--single-child", "x"],
        &["--setsid", "x"],
        &["-c", "--setsid", "x"],
        &["--setsid", "--sing", "x"],
        &["-P"],
        &["--pause"],
        &["-P", "x"],
        &["-s", "-s", "x"],
        &["--setsid", "--setsid", "x"],
        &["--verbose=2", "x"],
        &["--setsid=1", "x"],
    ];
    let used = answered(corpus);
    assert!(used >= 10, "the fast path answered only {used} cases");
}

/// The signal and exit-code values (`-p`, `-e`, `-r`): each spelling, attached or not,
/// repeated, out of range, and clustered after a flag.
#[test]
fn signal_and_exit_code_values_agree_with_clap() {
    let corpus: &[&[&str]] = &[
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
        &["-p", "-9", "x"],
        &["-vp", "TERM", "x"],
        &["-vpTERM", "x"],
        &["-pv", "x"],
    ];
    let used = answered(corpus);
    assert!(used >= 8, "the fast path answered only {used} cases");
}

/// The long-only values: grace periods, `--wait`/`--exit-on` modes, the pid file.
#[test]
fn durations_modes_and_pid_file_agree_with_clap() {
    let corpus: &[&[&str]] = &[
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
        &["--pid-file", "", "x"],
    ];
    let used = answered(corpus);
    assert!(used >= 7, "the fast path answered only {used} cases");
}

/// What the fast parser mostly leaves to clap: help, version, licence, unknown options,
/// missing values.
#[test]
fn clap_only_forms_agree_with_clap() {
    let corpus: &[&[&str]] = &[
        &["--bogus", "x"],
        &["-Z", "x"],
        &["-sZ", "x"],
        &["-h"],
        &["--help"],
        &["-V"],
        &["--version"],
        &["-l"],
        &["-L"],
        &["-lL"],
        &["--license"],
        &["-vl", "x"],
        &["-p"],
        &["-e"],
        &["--grace"],
    ];
    let used = answered(corpus);
    assert!(used >= 4, "the fast path answered only {used} cases");
}

/// Abbreviated long options in use, the ambiguous ones included.
#[test]
fn abbreviated_forms_agree_with_clap() {
    let corpus: &[&[&str]] = &[
        &["--proc", "--sub", "--warn", "--gr=1s", "x"],
        &["--s", "--re", "TERM:INT", "x"],
        &["--r=1:2", "--rem", "3", "x"],
        &["--se", "--pa"],
        &["--exit", "all", "x"],
        &["--v", "x"],
        &["--ver", "x"],
        &["--verb", "--verbo", "x"],
        &["--=x", "x"],
        &["--li", "x"],
    ];
    let used = answered(corpus);
    assert!(used >= 6, "the fast path answered only {used} cases");
}

/// The everyday forms never need clap.
#[test]
fn everyday_forms_need_no_clap() {
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
    let longs: Vec<&str> = OPTIONS.iter().map(|o| o.long).collect();
    for l in &longs {
        for end in 1..=l.len() {
            let p = &l[..end];
            let word = format!("--{p}");
            let owners: Vec<&str> = longs.iter().copied().filter(|o| o.starts_with(p)).collect();
            let expect = if longs.contains(&p) {
                Some(p)
            } else if owners.len() == 1 {
                Some(owners[0])
            } else {
                match p {
                    "s" => Some("single-child"),
                    "r" | "re" => Some("rewrite"),
                    _ => None,
                }
            };
            assert_eq!(long_option(p).map(|i| OPTIONS[i].long), expect, "{word}");
            let mut args = vec![word.as_str()];
            let takes = expect.and_then(long_option).map(|i| OPTIONS[i].takes);
            if takes.is_some_and(Takes::value) {
                args.extend(expect.map(sample));
            }
            args.push("x");
            agrees(&args);
            match takes {
                Some(Clap) | None => {}
                Some(_) => assert!(clap(&args).is_ok(), "{args:?}"),
            }
            if expect.is_none() {
                assert!(clap(&args).is_err(), "{args:?} is ambiguous");
            }
        }
    }
}
