//! The clap path's error messages: util-linux's two lines (`nsinit: message`, `Try 'nsinit
//! --help'…`) as every tool prints them, with what clap's first line leaves out — an
//! ambiguous abbreviation lists its candidates (getopt_long's wording, as dumb-init prints
//! it), an invalid value lists the valid ones, and a misspelled option or value gets a
//! `nsinit: hint: did you mean '…'?` line.
//!
//! The drop-in work of issue 16 brings the same to `nsutils_common::cli` for every tool,
//! with the same wording; once it is there, this module gives way to it.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use nsutils_common::cli::clap_error_line;

/// Parse with clap; on an error print it and return the exit code (`--help`, `--version`:
/// print them and return success).
pub fn parse<T: clap::Parser>(prog: &str, failure: u8, args: Vec<OsString>) -> Result<T, ExitCode> {
    let mut cmd = T::command();
    let parsed = cmd
        .try_get_matches_from_mut(args)
        .and_then(|m| T::from_arg_matches(&m));
    parsed.map_err(|e| {
        if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        let (msg, hint) = message(&cmd, &e);
        eprintln!("{prog}: {msg}");
        if let Some(h) = hint {
            eprintln!("{prog}: hint: {h}");
        }
        eprintln!("Try '{prog} --help' for more information.");
        ExitCode::from(failure)
    })
}

/// The error line and an optional hint.
pub fn message(cmd: &clap::Command, e: &clap::Error) -> (String, Option<String>) {
    let text = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let did_you_mean = |k: ContextKind| text(k).map(|s| format!("did you mean '{s}'?"));
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = text(ContextKind::InvalidArg).unwrap_or_default();
            let name = arg
                .strip_prefix("--")
                .map(|a| a.split('=').next().unwrap_or(a));
            let candidates: Vec<String> = name
                .filter(|n| !n.is_empty())
                .map(|n| {
                    cmd.get_arguments()
                        .filter_map(|a| a.get_long())
                        .filter(|l| l.starts_with(n))
                        .map(|l| format!("'--{l}'"))
                        .collect()
                })
                .unwrap_or_default();
            if candidates.len() > 1 {
                let typed = arg.split('=').next().unwrap_or(&arg);
                let msg = format!(
                    "option '{typed}' is ambiguous; possibilities: {}",
                    candidates.join(" ")
                );
                return (msg, None);
            }
            (clap_error_line(e), did_you_mean(ContextKind::SuggestedArg))
        }
        ErrorKind::InvalidValue => {
            let mut line = clap_error_line(e);
            if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
                if !valid.is_empty() {
                    line.push_str(&format!("; possible values: {}", valid.join(", ")));
                }
            }
            (line, did_you_mean(ContextKind::SuggestedValue))
        }
        _ => (clap_error_line(e), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory;

    fn err(args: &[&str]) -> (String, Option<String>) {
        let mut cmd = Cli::command();
        let e = cmd
            .try_get_matches_from_mut(std::iter::once("nsinit").chain(args.iter().copied()))
            .expect_err("an error");
        message(&cmd, &e)
    }

    #[test]
    fn ambiguous_abbreviations_list_the_candidates() {
        let (m, h) = err(&["--ver", "x"]);
        assert_eq!(
            m,
            "option '--ver' is ambiguous; possibilities: '--verbose' '--version'"
        );
        assert_eq!(h, None);
        let (m, _) = err(&["--exit=all", "x"]);
        assert_eq!(
            m,
            "option '--exit' is ambiguous; possibilities: '--exit-grace' '--exit-on'"
        );
    }

    #[test]
    fn invalid_values_list_the_valid_ones() {
        let (m, h) = err(&["--exit-on", "foo", "x"]);
        assert!(m.starts_with("invalid value 'foo' for '--exit-on"), "{m}");
        assert!(m.ends_with("possible values: main, first, all"), "{m}");
        assert_eq!(h, None);
        let (_, h) = err(&["--exit-on=firs", "x"]);
        assert_eq!(h.as_deref(), Some("did you mean 'first'?"));
    }

    #[test]
    fn misspelled_options_get_did_you_mean() {
        let (m, h) = err(&["--gracee", "1s", "x"]);
        assert_eq!(m, "unexpected argument '--gracee' found");
        assert_eq!(h.as_deref(), Some("did you mean '--grace'?"));
        let (_, h) = err(&["--single-chld", "x"]);
        assert_eq!(h.as_deref(), Some("did you mean '--single-child'?"));
    }
}
