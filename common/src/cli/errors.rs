//! The one policy for argument errors: one line, one more (a hint, or util-linux's `Try
//! 'prog --help'`), the tool's failure code ([`Tool`]) — worded as util-linux does, or as
//! nsls does ([`Wording`]); and the two ways the tools parse ([`parse_abbreviated`],
//! [`parse_with_hints`]).

use std::ffi::OsString;
use std::process::ExitCode;

use super::abbrev::long_names;
use crate::exit::Tool;

/// How a tool words its command-line errors. Either way the error is one line, `prog:
/// message`, then one more, and the tool exits with its failure code ([`Tool`]); `--help`
/// and `--version` print and exit 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// util-linux's (nsrun, nsenter, nsinit): the second line is `prog: hint: did you mean
    /// …?` where clap has a suggestion, else `Try 'prog --help' for more information.`; an
    /// ambiguous prefix lists its candidates in glibc getopt_long's words, quoting the word
    /// as typed (`option '--map-u=0' is ambiguous; possibilities: '--map-user' …`), and an
    /// invalid value the valid ones (`…; possible values: a, b`).
    UtilLinux,
    /// nsls's: the second line is always a hint — the candidates of an ambiguous prefix
    /// (`did you mean one of '--a', '--b'?`), the valid values, the option clap suggests, or
    /// `'prog --help' lists the options`.
    Hints,
}

/// Parse `raw` (the program name first) for a tool whose
/// [`abbreviations`](super::abbreviations) need aliases, reporting errors in util-linux's
/// [`Wording`]; `finish` turns the matches into the tool's options (with the definition that
/// parsed, for [`value_trap`](super::value_trap)).
///
/// A first parse with `plain` (the definition with `infer_long_args` alone) serves every
/// command line that needs no alias, and only one that clap finds an unknown option in is
/// parsed again with `full()`. Setting the aliases up costs more than nsrun's whole parse
/// (~100k instructions for its 50 options), and they change no parse that succeeds without
/// them: each alias begins the long name of its option, so it only resolves a prefix that
/// is otherwise ambiguous.
pub fn parse_abbreviated<T>(
    tool: &Tool,
    plain: clap::Command,
    full: impl FnOnce() -> clap::Command,
    raw: &[OsString],
    finish: impl FnOnce(&clap::Command, &clap::ArgMatches) -> Result<T, clap::Error>,
) -> Result<T, ExitCode> {
    let report = |cmd: &clap::Command, e: clap::Error| {
        report_clap_error(tool, Wording::UtilLinux, cmd, &e, raw)
    };
    let mut cmd = plain.infer_long_args(true);
    let m = match cmd.try_get_matches_from_mut(raw) {
        Ok(m) => m,
        Err(e) if e.kind() == clap::error::ErrorKind::UnknownArgument => {
            cmd = full();
            cmd.try_get_matches_from_mut(raw)
                .map_err(|e| report(&cmd, e))?
        }
        Err(e) => return Err(report(&cmd, e)),
    };
    finish(&cmd, &m).map_err(|e| report(&cmd, e))
}

/// Parse `raw` (the program name first) with the derived definition of `T` as it stands
/// (its own `infer_long_args`, no aliases), reporting errors in the [`Wording::Hints`] way.
pub fn parse_with_hints<T: clap::Parser>(tool: &Tool, raw: &[OsString]) -> Result<T, ExitCode> {
    T::try_parse_from(raw)
        .map_err(|e| report_clap_error(tool, Wording::Hints, &T::command(), &e, raw))
}

/// Print a clap error (or the help or version it carries) and return the exit code. `raw`
/// is what was parsed (the program name first), to quote the user's own words.
fn report_clap_error(
    tool: &Tool,
    wording: Wording,
    cmd: &clap::Command,
    e: &clap::Error,
    raw: &[OsString],
) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let prog = tool.name;
    let (msg, hint) = clap_error_text(cmd, e, raw, wording, prog);
    eprintln!("{prog}: {msg}");
    match hint {
        Some(h) => eprintln!("{prog}: hint: {h}"),
        None => eprintln!("Try '{prog} --help' for more information."),
    }
    ExitCode::from(tool.failure)
}

/// The first line of a clap error, without clap's `error: ` prefix.
fn clap_error_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("invalid arguments");
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// What is wrong with a command line, as clap saw it, in the user's words.
#[derive(Debug)]
enum Problem<'a> {
    /// A prefix of several long options: the word as typed (`--map-u=0`), as clap names it
    /// (`--map-u`), and the options it begins, in `--help`'s order.
    Ambiguous {
        typed: String,
        arg: String,
        candidates: Vec<&'a str>,
    },
    /// An unknown option, and the real one clap finds it resembles.
    Unknown { suggestion: Option<String> },
    /// An invalid value: the valid ones, and the one clap finds it resembles.
    Invalid {
        valid: Vec<String>,
        suggestion: Option<String>,
    },
    /// Anything else (a conflict, a missing value).
    Other,
}

/// Classify a clap error. `raw` is what was parsed, the program name first.
fn problem<'a>(cmd: &'a clap::Command, e: &clap::Error, raw: &[OsString]) -> Problem<'a> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let string = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = string(ContextKind::InvalidArg).unwrap_or_default();
            if let Some(prefix) = arg.strip_prefix("--") {
                let candidates = long_candidates(cmd, prefix);
                if candidates.len() > 1 {
                    let typed = raw
                        .iter()
                        .skip(1)
                        .filter_map(|w| w.to_str())
                        .find(|w| w.split('=').next() == Some(arg.as_str()))
                        .unwrap_or(&arg)
                        .to_owned();
                    return Problem::Ambiguous {
                        typed,
                        arg,
                        candidates,
                    };
                }
            }
            // clap also suggests hidden aliases (`--b` for `--bogus`): only a real option's
            // name is worth suggesting.
            let real = |s: &String| {
                let name = s.trim_start_matches('-');
                cmd.get_arguments().any(|a| a.get_long() == Some(name))
                    || ["help", "version"].contains(&name)
            };
            Problem::Unknown {
                suggestion: string(ContextKind::SuggestedArg).filter(real),
            }
        }
        ErrorKind::InvalidValue => Problem::Invalid {
            valid: match e.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(v)) => v.clone(),
                _ => Vec::new(),
            },
            suggestion: string(ContextKind::SuggestedValue),
        },
        _ => Problem::Other,
    }
}

/// A clap error as one line and an optional hint, worded as `wording` says (see
/// [`Wording`]). `raw` is what was parsed, the program name first.
fn clap_error_text(
    cmd: &clap::Command,
    e: &clap::Error,
    raw: &[OsString],
    wording: Wording,
    prog: &str,
) -> (String, Option<String>) {
    let did_you_mean = |s: String| format!("did you mean '{s}'?");
    let quoted = |c: &[&str], sep: &str| {
        let list: Vec<String> = c.iter().map(|c| format!("'--{c}'")).collect();
        list.join(sep)
    };
    let line = clap_error_line(e);
    match (wording, problem(cmd, e, raw)) {
        (
            Wording::UtilLinux,
            Problem::Ambiguous {
                typed, candidates, ..
            },
        ) => (
            format!(
                "option '{typed}' is ambiguous; possibilities: {}",
                quoted(&candidates, " ")
            ),
            None,
        ),
        (Wording::UtilLinux, Problem::Unknown { suggestion }) => {
            (line, suggestion.map(did_you_mean))
        }
        (Wording::UtilLinux, Problem::Invalid { valid, suggestion }) => {
            let mut line = line;
            if !valid.is_empty() && !line.contains("possible values") {
                line.push_str(&format!("; possible values: {}", valid.join(", ")));
            }
            (line, suggestion.map(did_you_mean))
        }
        (Wording::UtilLinux, Problem::Other) => (line, None),
        (
            Wording::Hints,
            Problem::Ambiguous {
                arg, candidates, ..
            },
        ) => (
            format!("option '{arg}' is ambiguous"),
            Some(format!(
                "did you mean one of {}?",
                quoted(&candidates, ", ")
            )),
        ),
        (
            Wording::Hints,
            Problem::Unknown {
                suggestion: Some(s),
            },
        ) => (line, Some(did_you_mean(s))),
        (Wording::Hints, Problem::Invalid { valid, .. }) if !valid.is_empty() => {
            (line, Some(format!("valid values: {}", valid.join(", "))))
        }
        (Wording::Hints, _) => (line, Some(format!("'{prog} --help' lists the options"))),
    }
}

/// The long options of `cmd` (with `--help` and `--version`) that begin with `prefix`, in the
/// order they are defined.
fn long_candidates<'a>(cmd: &'a clap::Command, prefix: &str) -> Vec<&'a str> {
    long_names(cmd)
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{abbrev, abbrev_cmd, parse, raw};
    use super::*;

    #[test]
    fn ambiguous_prefixes_list_the_candidates() {
        let cmd = abbrev_cmd();
        let e = abbrev(&["--map-u=0"]).expect_err("ambiguous");
        let (msg, hint) = clap_error_text(&cmd, &e, &raw(&["--map-u=0"]), Wording::UtilLinux, "t");
        assert_eq!(
            msg,
            "option '--map-u=0' is ambiguous; possibilities: '--map-user' '--map-users'"
        );
        assert_eq!(hint, None);
        let e = abbrev(&["--ma"]).expect_err("ambiguous");
        let (msg, _) = clap_error_text(&cmd, &e, &raw(&["--ma"]), Wording::UtilLinux, "t");
        assert!(
            msg.ends_with("'--map-user' '--map-users' '--map-root-user'"),
            "{msg}"
        );
    }

    #[test]
    fn misspellings_and_invalid_values_get_did_you_mean() {
        let cmd = abbrev_cmd();
        let e = abbrev(&["--hostnmae"]).expect_err("unknown");
        let (msg, hint) = clap_error_text(&cmd, &e, &raw(&["--hostnmae"]), Wording::UtilLinux, "t");
        assert_eq!(msg, "unexpected argument '--hostnmae' found");
        assert_eq!(hint.as_deref(), Some("did you mean '--hostname'?"));
        let e = abbrev(&["--propagation", "privat"]).expect_err("invalid");
        let (msg, hint) = clap_error_text(
            &cmd,
            &e,
            &raw(&["--propagation", "privat"]),
            Wording::UtilLinux,
            "t",
        );
        assert!(
            msg.starts_with("invalid value 'privat' for '--propagation"),
            "{msg}"
        );
        assert!(msg.ends_with("; possible values: private, shared"), "{msg}");
        assert!(!msg.contains('\n'));
        assert_eq!(hint.as_deref(), Some("did you mean 'private'?"));
    }

    #[test]
    fn error_line_is_one_line() {
        let e = parse(&["--bogus"]).expect_err("bogus");
        let line = clap_error_line(&e);
        assert!(line.contains("--bogus"), "{line}");
        assert!(!line.contains('\n'));
    }
}
