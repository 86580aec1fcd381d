//! Shared command-line pieces: the namespace flags (built from the kind table), value parsers
//! (PID, signal name or number, durations and signed clock offsets, user and group names,
//! `ip netns` names), util-linux's abbreviated long options and the optional-value trap, and
//! the one policy for argument errors: one line, one more (a hint, or util-linux's `Try
//! 'prog --help'`), the tool's failure code ([`Tool`]) — worded as util-linux does, or as
//! nsls does ([`Wording`]).
//!
//! This module only turns strings into values; it makes no syscalls beyond name lookups.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::error::Error;
use crate::exit::{Tool, NOT_EXECUTABLE, NOT_FOUND};
use crate::kind::{KindMap, NsKind};

/// The namespace flags, one per kind, each with an optional `=FILE` (a persisted namespace
/// to create or join). `require_equals` keeps util-linux's meaning: `--net /path cmd` runs
/// `/path`.
///
/// Built from the kind table ([`NsKind::short_flag`], [`NsKind::long_flag`],
/// [`NsKind::flag_help`], in [`NsKind::FLAG_ORDER`]) rather than derived field by field; the
/// argument ids are the long flags (`conflicts_with = "net"`). Use it as
/// `#[command(flatten)] ns: NsFlags`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NsFlags(KindMap<Option<Option<PathBuf>>>);

impl NsFlags {
    /// `None`: kind not asked; `Some(None)`: asked without a file; `Some(Some(f))`: with one.
    pub fn get(&self, kind: NsKind) -> Option<Option<&PathBuf>> {
        self.0[kind].as_ref().map(Option::as_ref)
    }

    /// Mark a kind as asked (for options that imply one, like `--mount-proc`).
    pub fn imply(&mut self, kind: NsKind) {
        self.0[kind].get_or_insert(None);
    }

    /// The kinds asked for, in [`NsKind::ALL`] order.
    pub fn kinds(&self) -> Vec<NsKind> {
        self.0
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k)
            .collect()
    }
}

impl clap::Args for NsFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        NsKind::FLAG_ORDER.into_iter().fold(cmd, |cmd, kind| {
            cmd.arg(
                clap::Arg::new(kind.long_flag())
                    .short(kind.short_flag())
                    .long(kind.long_flag())
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .action(clap::ArgAction::Set)
                    .num_args(0..=1)
                    .require_equals(true)
                    .help(kind.flag_help()),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for NsFlags {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = NsFlags::default();
        flags.update_from_arg_matches(m)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        for kind in NsKind::ALL {
            let id = kind.long_flag();
            if m.contains_id(id) {
                self.0[kind] = Some(m.get_one::<PathBuf>(id).cloned());
            }
        }
        Ok(())
    }
}

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

/// Parse `raw` (the program name first) for a tool whose [`abbreviations`] need aliases,
/// reporting errors in util-linux's [`Wording`]; `finish` turns the matches into the tool's
/// options (with the definition that parsed, for [`value_trap`]).
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

/// Every long option name of `cmd`, hidden ones included, and the `--help`/`--version` clap
/// adds when it builds the command.
fn long_names(cmd: &clap::Command) -> Vec<&str> {
    // In --help's order (which the derive's declaration order gives).
    let mut args: Vec<&clap::Arg> = cmd.get_arguments().collect();
    args.sort_by_key(|a| a.get_display_order());
    let mut out: Vec<&str> = args.into_iter().filter_map(|a| a.get_long()).collect();
    for (flag, on) in [
        ("help", !cmd.is_disable_help_flag_set()),
        (
            "version",
            !cmd.is_disable_version_flag_set() && cmd.get_version().is_some(),
        ),
    ] {
        if on && !out.contains(&flag) {
            out.push(flag);
        }
    }
    out
}

/// Long options may be abbreviated to any unambiguous prefix, as util-linux's getopt_long(3)
/// allows (`--map-root` is `--map-root-user`); a prefix that several options share is an
/// error listing them. `anchor` is the long options of the util-linux tool this one
/// replaces, in the version tested side by side (2.38): where our extra options make a
/// prefix ambiguous that selects exactly one option there (`nsenter --ne`: `--net`, though
/// we also have `--net-socket`), the anchor's choice wins, so its scripts keep working. That
/// is done with hidden aliases, which neither `--help`, the man pages nor the completions
/// show.
pub fn abbreviations(cmd: clap::Command, anchor: &[&'static str]) -> clap::Command {
    // Runs at every start of nsrun and nsenter: one common-prefix length per pair of names
    // instead of a string comparison per prefix, and the aliases set in one pass.
    let ours = long_names(&cmd);
    let mut aliases: Vec<(&str, Vec<&'static str>)> = Vec::new();
    for &long in anchor {
        if !ours.contains(&long) {
            continue;
        }
        // Another name begins with `long[..end]` exactly when their common prefix is at
        // least `end` long: the anchor alone selects `long` for ends past its longest common
        // prefix with the anchor's other names, and ours share ends up to theirs.
        let common = |other: &str| match (long.as_bytes(), other.as_bytes()) {
            // Most names differ in their first letter: settle those without iterating.
            ([a, ..], [b, ..]) if a != b => 0,
            (l, o) => l.iter().zip(o).take_while(|(a, b)| a == b).count(),
        };
        let longest = |names: &mut dyn Iterator<Item = &str>| {
            names.filter(|n| *n != long).map(common).max().unwrap_or(0)
        };
        let theirs = longest(&mut anchor.iter().copied());
        let mine = longest(&mut ours.iter().copied());
        let prefixes: Vec<&'static str> = (theirs + 1..=mine.min(long.len() - 1))
            .filter(|&end| long.is_char_boundary(end))
            .map(|end| &long[..end])
            .filter(|p| !ours.contains(p))
            .collect();
        if !prefixes.is_empty() {
            aliases.push((long, prefixes));
        }
    }
    let mut cmd = cmd.infer_long_args(true);
    if aliases.iter().any(|(l, _)| *l == "help" || *l == "version") {
        cmd = own_help_and_version(cmd);
    }
    if aliases.is_empty() {
        return cmd;
    }
    cmd.mut_args(|a| {
        let hit = a
            .get_long()
            .and_then(|l| aliases.iter().find(|(x, _)| *x == l));
        match hit {
            Some((_, prefixes)) => a.aliases(prefixes.iter().copied()),
            None => a,
        }
    })
}

/// clap's own `-h/--help` and `-V/--version`, defined by us so that they can take aliases.
fn own_help_and_version(cmd: clap::Command) -> clap::Command {
    use clap::{Arg, ArgAction};
    let long_help = cmd.get_arguments().any(|a| a.get_long_help().is_some())
        || cmd.get_long_about().is_some()
        || cmd.get_after_long_help().is_some()
        || cmd.get_before_long_help().is_some();
    let mut help = Arg::new("help")
        .short('h')
        .long("help")
        .action(ArgAction::Help)
        .help_heading(None);
    help = if long_help {
        help.help("Print help (see more with '--help')")
            .long_help("Print help (see a summary with '-h')")
    } else {
        help.help("Print help")
    };
    let has_version = cmd.get_version().is_some() && !cmd.is_disable_version_flag_set();
    let mut cmd = cmd.disable_help_flag(true).arg(help);
    if has_version {
        cmd = cmd.disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Print version")
                .help_heading(None),
        );
    }
    cmd
}

/// An option whose value is optional and must follow `=` (`--net[=FILE]`, `-n`) written with
/// its value as the next word: `nsrun --net /path cmd` runs `/path`, as util-linux does. Kept
/// so that a failed exec can say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueTrap {
    /// The option word as the user typed it (`-n`, `-Un`, `--ne`, `--net`).
    pub typed: String,
    /// Its long name (`net`).
    pub long: String,
    /// The word that became the command.
    pub command: String,
}

impl ValueTrap {
    /// The hint for a command that could not be executed, quoting what the user typed.
    pub fn hint(&self) -> String {
        let (t, l, c) = (&self.typed, &self.long, &self.command);
        let mut h = format!(
            "'{t} {c}' ran {c} as the command, as util-linux does: the value of --{l} must \
             follow '=' (--{l}={c})"
        );
        if l == NsKind::Net.long_flag() && !c.contains('/') {
            h.push_str(&format!("; an ip netns name is --netns={c}"));
        }
        h
    }

    /// `err`, the failure to exec the command, with the trap's [`hint`](ValueTrap::hint)
    /// where it explains it: the command was not found or could not be run.
    pub fn explain(trap: Option<&ValueTrap>, err: Error) -> Error {
        match trap {
            Some(t) if matches!(err.exit_code(), Some(NOT_FOUND | NOT_EXECUTABLE)) => {
                err.hint(t.hint())
            }
            _ => err,
        }
    }
}

/// The [`ValueTrap`] in `raw` (the program name first), whose last `command_len` words are
/// the command, as parsed by `cmd` (with its abbreviations).
pub fn value_trap(cmd: &clap::Command, raw: &[OsString], command_len: usize) -> Option<ValueTrap> {
    if command_len == 0 || raw.len() < command_len + 2 {
        return None;
    }
    let typed = raw[raw.len() - command_len - 1].to_str()?;
    let command = raw[raw.len() - command_len].to_str()?;
    let arg = if let Some(name) = typed.strip_prefix("--") {
        if name.contains('=') {
            return None;
        }
        let by_name = |a: &&clap::Arg| {
            a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
        };
        cmd.get_arguments().find(by_name).or_else(|| {
            let mut c = cmd
                .get_arguments()
                .filter(|a| a.get_long().is_some_and(|l| l.starts_with(name)));
            c.next().filter(|_| c.next().is_none())
        })?
    } else {
        let last = typed.strip_prefix('-')?.chars().last()?;
        cmd.get_arguments().find(|a| a.get_short() == Some(last))?
    };
    let optional = arg.get_num_args().is_some_and(|n| n.min_values() == 0);
    if !(optional && arg.is_require_equals_set()) {
        return None;
    }
    Some(ValueTrap {
        typed: typed.to_owned(),
        long: arg.get_long()?.to_owned(),
        command: command.to_owned(),
    })
}

/// An `ip netns` name for `--netns=NAME`: what `ip netns add` accepts as a file name in
/// `/run/netns` — not empty, no `/`, not `.` or `..`.
pub fn parse_netns_name(s: &str) -> Result<String, String> {
    if s.is_empty() || s.contains('/') || s == "." || s == ".." {
        return Err(format!(
            "invalid network namespace name '{s}': expected a name without '/' \
             (for a file, use --net=FILE)"
        ));
    }
    Ok(s.to_owned())
}

/// A process ID: a positive decimal number.
pub fn parse_pid(s: &str) -> Result<i32, String> {
    match s.trim().parse::<i32>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("invalid PID '{s}': expected a positive number")),
    }
}

/// A file descriptor number (`--info-fd`, `--net-socket`): a decimal number ≥ 0.
pub fn parse_fd(s: &str) -> Result<i32, String> {
    match s.trim().parse::<i32>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(format!(
            "invalid file descriptor '{s}': expected a number ≥ 0"
        )),
    }
}

const SIGNAL_NAMES: [(&str, i32); 33] = [
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGIO),
    ("PWR", libc::SIGPWR),
];

/// The highest real-time signal; glibc reserves the first two, so SIGRTMIN is libc's.
fn sigrtmin() -> i32 {
    libc::SIGRTMIN()
}
fn sigrtmax() -> i32 {
    libc::SIGRTMAX()
}

/// A signal: a name with or without `SIG` in any case (`term`, `SIGTERM`), `RTMIN+N`,
/// `RTMAX-N`, or a number from 1 to SIGRTMAX.
pub fn parse_signal(s: &str) -> Result<i32, String> {
    let err = || {
        format!(
            "invalid signal '{s}': expected a name like TERM or a number from 1 to {}",
            sigrtmax()
        )
    };
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        return if (1..=sigrtmax()).contains(&n) {
            Ok(n)
        } else {
            Err(err())
        };
    }
    let up = t.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if name == "SYS" {
        return Ok(libc::SIGSYS);
    }
    if let Some(&(_, n)) = SIGNAL_NAMES.iter().find(|(nm, _)| *nm == name) {
        return Ok(n);
    }
    let rt = |base: i32, rest: &str, sign: i32| -> Result<i32, String> {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.parse().map_err(|_| err())?
        };
        // Checked: RTMIN+2147483647 or RTMAX--2147483648 overflowed (a panic in debug builds).
        match off.checked_mul(sign).and_then(|d| base.checked_add(d)) {
            Some(n) if (sigrtmin()..=sigrtmax()).contains(&n) => Ok(n),
            _ => Err(err()),
        }
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return rt(sigrtmin(), rest.strip_prefix('+').unwrap_or(rest), 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return rt(sigrtmax(), rest.strip_prefix('-').unwrap_or(rest), -1);
    }
    Err(err())
}

/// The conventional name of a signal number, without `SIG` (`TERM`, `RTMIN+3`).
pub fn signal_name(sig: i32) -> String {
    if sig == libc::SIGSYS {
        return "SYS".into();
    }
    if let Some((n, _)) = SIGNAL_NAMES.iter().find(|(_, v)| *v == sig) {
        return (*n).to_string();
    }
    if (sigrtmin()..=sigrtmax()).contains(&sig) {
        return format!("RTMIN+{}", sig - sigrtmin());
    }
    sig.to_string()
}

/// A duration: humantime (`500ms`, `30s`, `5m`, `1h 30m`) or a plain number of seconds
/// (`30`, `0.5`), as timeout(1) takes it.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        // f64 also parses `inf`, `infinity` and `NaN`, which are no number of seconds.
        if secs.is_nan() {
            return Err(format!(
                "invalid duration '{s}': not a number of seconds (examples: 500ms, 30s, 5m, 1h)"
            ));
        }
        if secs == f64::INFINITY {
            return Err(format!(
                "invalid duration '{s}': too large (not a finite number of seconds)"
            ));
        }
        if secs < 0.0 {
            return Err(format!("invalid duration '{s}': must not be negative"));
        }
        // try_: past u64::MAX seconds (`1e20`) from_secs_f64 panics.
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("invalid duration '{s}': too large"));
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("invalid duration '{s}': {e} (examples: 500ms, 30s, 5m, 1h)"))
}

/// A signed clock offset for a time namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOffset {
    /// Whole seconds (negative for a negative offset).
    pub secs: i64,
    /// Nanoseconds, 0..1e9, added to `secs` (so -1.5 s is secs -2, nanos 5e8).
    pub nanos: i64,
}

/// A clock offset: a signed number of seconds (`-3600`, unshare's form) or a signed humantime
/// duration (`-1h`, `+2days`).
pub fn parse_time_offset(s: &str) -> Result<TimeOffset, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<i64>() {
        return Ok(TimeOffset { secs, nanos: 0 });
    }
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let d = humantime::parse_duration(body.trim())
        .map_err(|e| format!("invalid offset '{s}': {e} (examples: -3600, -1h, +2days, 90s)"))?;
    let secs = i64::try_from(d.as_secs()).map_err(|_| format!("offset '{s}' is too large"))?;
    let nanos = i64::from(d.subsec_nanos());
    Ok(if neg && nanos > 0 {
        TimeOffset {
            secs: -secs - 1,
            nanos: 1_000_000_000 - nanos,
        }
    } else if neg {
        TimeOffset {
            secs: -secs,
            nanos: 0,
        }
    } else {
        TimeOffset { secs, nanos }
    })
}

/// A user: a numeric uid or a name from the user database.
pub fn parse_user(s: &str) -> Result<u32, String> {
    if let Ok(n) = s.trim().parse::<u32>() {
        return Ok(n);
    }
    match nix::unistd::User::from_name(s) {
        Ok(Some(u)) => Ok(u.uid.as_raw()),
        _ => Err(format!("unknown user '{s}'")),
    }
}

/// A group: a numeric gid or a name from the group database.
pub fn parse_group(s: &str) -> Result<u32, String> {
    if let Ok(n) = s.trim().parse::<u32>() {
        return Ok(n);
    }
    match nix::unistd::Group::from_name(s) {
        Ok(Some(g)) => Ok(g.gid.as_raw()),
        _ => Err(format!("unknown group '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        ns: NsFlags,
        #[arg(trailing_var_arg = true)]
        cmd: Vec<OsString>,
    }

    fn parse(args: &[&str]) -> Result<T, clap::Error> {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
    }

    #[test]
    fn ns_flags_optional_values_need_equals() {
        let t = parse(&["-n", "--mount=/tmp/m", "/bin/echo", "-n", "x"]).expect("parse");
        assert_eq!(t.ns.get(NsKind::Net), Some(None));
        assert_eq!(t.ns.get(NsKind::Mnt), Some(Some(&PathBuf::from("/tmp/m"))));
        assert_eq!(t.ns.get(NsKind::Pid), None);
        assert_eq!(t.cmd, ["/bin/echo", "-n", "x"]);
        let t = parse(&["--net", "/path", "arg"]).expect("parse");
        assert_eq!(t.ns.get(NsKind::Net), Some(None));
        assert_eq!(t.cmd, ["/path", "arg"]);
        let t = parse(&["-Ump"]).expect("bundled");
        assert_eq!(t.ns.kinds(), [NsKind::Mnt, NsKind::Pid, NsKind::User]);
        assert!(parse(&["--bogus"]).is_err());
    }

    /// The flags come from the kind table, in util-linux's order, with the derive's ids.
    #[test]
    fn ns_flags_are_the_kind_table() {
        let cmd = <T as clap::CommandFactory>::command();
        let args: Vec<&clap::Arg> = cmd
            .get_arguments()
            .filter(|a| a.get_short().is_some())
            .collect();
        assert_eq!(args.len(), NsKind::COUNT);
        for (a, k) in args.iter().zip(NsKind::FLAG_ORDER) {
            assert_eq!(a.get_id().as_str(), k.long_flag());
            assert_eq!(a.get_long(), Some(k.long_flag()));
            assert_eq!(a.get_short(), Some(k.short_flag()));
            assert!(a.is_require_equals_set());
        }
        let help = cmd.clone().render_help().to_string();
        assert!(
            help.contains("-m, --mount[=<FILE>]   Mount namespace [at FILE]"),
            "{help}"
        );
    }

    /// A tool with more options than its util-linux anchor.
    fn abbrev_cmd() -> clap::Command {
        use clap::{Arg, ArgAction};
        let flag = |l: &'static str| Arg::new(l).long(l).action(ArgAction::SetTrue);
        let cmd = clap::Command::new("t")
            .version("1")
            .arg(flag("map-user"))
            .arg(flag("map-users"))
            .arg(flag("map-root-user"))
            .arg(flag("net"))
            .arg(flag("net-socket"))
            .arg(flag("hostname"))
            .arg(
                Arg::new("prop")
                    .long("propagation")
                    .value_parser(["private", "shared"]),
            );
        abbreviations(
            cmd,
            &[
                "map-user",
                "map-users",
                "map-root-user",
                "net",
                "propagation",
                "help",
                "version",
            ],
        )
    }

    fn abbrev(args: &[&str]) -> Result<clap::ArgMatches, clap::Error> {
        abbrev_cmd().try_get_matches_from(raw(args))
    }

    fn raw(args: &[&str]) -> Vec<OsString> {
        std::iter::once("t")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn unambiguous_prefixes_select_their_option() {
        let m = abbrev(&["--map-root", "--hostn", "--propag", "private"]).expect("parse");
        assert!(m.get_flag("map-root-user"));
        assert!(m.get_flag("hostname"));
        assert_eq!(
            m.get_one::<String>("prop").map(String::as_str),
            Some("private")
        );
        // Exact names win over longer ones.
        let m = abbrev(&["--map-user", "--net"]).expect("parse");
        assert!(m.get_flag("map-user") && !m.get_flag("map-users"));
        assert!(m.get_flag("net") && !m.get_flag("net-socket"));
    }

    /// Where util-linux picks one option and our extra ones make the prefix ambiguous, its
    /// choice wins: `--ne` is `--net` (not `--net-socket`), `--h` is `--help` (not
    /// `--hostname`).
    #[test]
    fn the_anchor_decides_what_our_extra_options_make_ambiguous() {
        let m = abbrev(&["--ne"]).expect("parse");
        assert!(m.get_flag("net"));
        let e = abbrev(&["--h"]).expect_err("help");
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp);
        let e = abbrev(&["--v"]).expect_err("version");
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayVersion);
        // The aliases are hidden: --help does not show them.
        let help = abbrev_cmd().render_long_help().to_string();
        assert!(
            !help.contains("--ne,") && !help.contains("[aliases"),
            "{help}"
        );
        assert!(
            help.contains("--help") && help.contains("--version"),
            "{help}"
        );
    }

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
    fn the_optional_value_trap_quotes_what_was_typed() {
        let cmd = clap::Command::new("t")
            .arg(clap::Arg::new("cmd").num_args(0..).trailing_var_arg(true))
            .args(
                <T as clap::CommandFactory>::command()
                    .get_arguments()
                    .filter(|a| a.get_long().is_some())
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        let cmd = abbreviations(cmd, &["net", "uts", "user"]);
        let t = value_trap(&cmd, &raw(&["-n", "/etc/passwd"]), 1).expect("trap");
        assert_eq!((t.typed.as_str(), t.long.as_str()), ("-n", "net"));
        let h = t.hint();
        assert!(
            h.starts_with("'-n /etc/passwd' ran /etc/passwd as the command"),
            "{h}"
        );
        assert!(h.contains("(--net=/etc/passwd)"), "{h}");
        let t = value_trap(&cmd, &raw(&["-Uu", "/x", "a"]), 2).expect("trap");
        assert_eq!((t.typed.as_str(), t.long.as_str()), ("-Uu", "uts"));
        let t = value_trap(&cmd, &raw(&["--ne", "nsxred", "true"]), 2).expect("trap");
        assert_eq!(
            (t.typed.as_str(), t.long.as_str(), t.command.as_str()),
            ("--ne", "net", "nsxred")
        );
        assert_eq!(value_trap(&cmd, &raw(&["--net=/x", "ls"]), 1), None);
        assert_eq!(value_trap(&cmd, &raw(&["--net", "--", "ls"]), 1), None);
        assert_eq!(value_trap(&cmd, &raw(&["ls"]), 1), None);
        // The hint goes on a failed exec only, and only with a trap.
        let t = value_trap(&cmd, &raw(&["-n", "/x"]), 1);
        let not_found = || Error::msg("failed to execute /x").code(NOT_FOUND);
        let hint = ValueTrap::explain(t.as_ref(), not_found());
        assert_eq!(hint.hint_text(), t.as_ref().map(ValueTrap::hint).as_deref());
        let other = ValueTrap::explain(t.as_ref(), Error::msg("x").code(1));
        assert_eq!(other.hint_text(), None);
        assert_eq!(ValueTrap::explain(None, not_found()).hint_text(), None);
    }

    #[test]
    fn fds() {
        assert_eq!(parse_fd("0"), Ok(0));
        assert_eq!(parse_fd(" 3"), Ok(3));
        for bad in ["-1", "x", "", "99999999999"] {
            let e = parse_fd(bad).expect_err(bad);
            assert!(e.contains("expected a number ≥ 0"), "{e}");
        }
    }

    #[test]
    fn netns_names() {
        assert_eq!(parse_netns_name("blue"), Ok("blue".into()));
        for bad in ["", "a/b", ".", "..", "/run/netns/x"] {
            let e = parse_netns_name(bad).expect_err(bad);
            assert!(e.contains("--net=FILE"), "{e}");
        }
    }

    #[test]
    fn implied_kinds() {
        let mut f = NsFlags::default();
        f.imply(NsKind::Mnt);
        f.imply(NsKind::Mnt);
        assert_eq!(f.kinds(), [NsKind::Mnt]);
    }

    #[test]
    fn error_line_is_one_line() {
        let e = parse(&["--bogus"]).expect_err("bogus");
        let line = clap_error_line(&e);
        assert!(line.contains("--bogus"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn pids() {
        assert_eq!(parse_pid("42"), Ok(42));
        for bad in ["0", "-1", "x", ""] {
            assert!(parse_pid(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signals() {
        assert_eq!(parse_signal("TERM"), Ok(15));
        assert_eq!(parse_signal("sigkill"), Ok(9));
        assert_eq!(parse_signal("9"), Ok(9));
        assert_eq!(parse_signal("SYS"), Ok(libc::SIGSYS));
        assert_eq!(parse_signal("RTMIN"), Ok(libc::SIGRTMIN()));
        assert_eq!(parse_signal("RTMIN+2"), Ok(libc::SIGRTMIN() + 2));
        assert_eq!(parse_signal("RTMAX-1"), Ok(libc::SIGRTMAX() - 1));
        for bad in ["0", "65", "FOO", "RTMIN+99", ""] {
            assert!(parse_signal(bad).is_err(), "{bad}");
        }
        assert_eq!(signal_name(15), "TERM");
        assert_eq!(signal_name(libc::SIGRTMIN() + 1), "RTMIN+1");
        for n in 1..=libc::SIGRTMAX() {
            assert_eq!(parse_signal(&signal_name(n)), Ok(n), "{n}");
        }
    }

    /// An offset from RTMIN/RTMAX near i32's limits overflowed the arithmetic (found by
    /// reviewing what the `signal` fuzz target reaches; a panic under debug assertions).
    #[test]
    fn huge_realtime_offsets_are_refused() {
        for bad in [
            "RTMIN+2147483647",
            "RTMAX--2147483648",
            "RTMAX-2147483647",
            "rtmin+-2147483648",
        ] {
            assert!(parse_signal(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_signal("RTMAX-0"), Ok(libc::SIGRTMAX()));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("0.25"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
    }

    /// `inf` parsed as an f64 and was refused as "must not be negative".
    #[test]
    fn non_finite_durations_say_what_is_wrong() {
        for (s, want) in [
            ("inf", "too large (not a finite number of seconds)"),
            ("infinity", "too large"),
            ("NaN", "not a number of seconds"),
            ("-inf", "must not be negative"),
            ("-1", "must not be negative"),
        ] {
            let e = parse_duration(s).expect_err(s);
            assert!(e.contains(want), "{s}: {e}");
            assert!(e.contains(&format!("'{s}'")), "{s}: {e}");
        }
    }

    /// Found by the `time` fuzz target: a number of seconds past u64::MAX panicked in
    /// `Duration::from_secs_f64` instead of being refused.
    #[test]
    fn huge_durations_are_refused() {
        for huge in ["1.e53", "1e20", "18446744073709551616"] {
            let e = parse_duration(huge).expect_err(huge);
            assert!(e.contains("too large"), "{huge}: {e}");
        }
        assert_eq!(
            parse_duration("1e18"),
            Ok(Duration::from_secs(1_000_000_000_000_000_000))
        );
    }

    #[test]
    fn time_offsets() {
        assert_eq!(
            parse_time_offset("-3600"),
            Ok(TimeOffset {
                secs: -3600,
                nanos: 0
            })
        );
        assert_eq!(
            parse_time_offset("-1h"),
            Ok(TimeOffset {
                secs: -3600,
                nanos: 0
            })
        );
        assert_eq!(
            parse_time_offset("+2days"),
            Ok(TimeOffset {
                secs: 172_800,
                nanos: 0
            })
        );
        assert_eq!(
            parse_time_offset("-1500ms"),
            Ok(TimeOffset {
                secs: -2,
                nanos: 500_000_000
            })
        );
        assert!(parse_time_offset("yesterday").is_err());
    }

    #[test]
    fn users_and_groups() {
        assert_eq!(parse_user("root"), Ok(0));
        assert_eq!(parse_user("1234"), Ok(1234));
        assert!(parse_user("no-such-user-here").is_err());
        assert_eq!(parse_group("root"), Ok(0));
        assert!(parse_group("no-such-group-here").is_err());
    }
}
