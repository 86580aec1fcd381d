//! The fast path of argument parsing: the everyday command lines, without clap.
//!
//! Building clap's `Command` touches a few hundred KB of code and heap, which is most of an
//! init's resident memory. [`parse`] is a small getopt_long(3) reading [`OPTIONS`] — one row
//! per option of [`Cli`]: its names, how it takes a value, and where the value goes — and
//! returns `None` for anything it does not answer exactly as clap would (help, version, an
//! error, an ambiguous abbreviation, a repeated value, `-p=9`): clap then parses and reports
//! as always.
//!
//! clap's definition is the source of truth. The unit tests hold the table to it: the same
//! long and short names (aliases included), the same kind of value (`ArgAction`), the same
//! conflicts; every abbreviation resolved as clap resolves it; and whenever this parser
//! answers, clap answers the same `Cli` (also fuzzed: `fuzz/`, target `nsinit_args`).

use std::ffi::OsString;

use clap::ValueEnum;
use nsutils_common::cli::{parse_duration, parse_signal};

use crate::cli::{parse_rewrite, Cli, ExitOnArg, WaitArg, DUMB_INIT_LONGS};

/// How an option takes its value (clap's `ArgAction` for it), and where it goes in [`Cli`].
#[derive(Debug, Clone, Copy)]
pub enum Takes {
    /// No value, at most once (`SetTrue`).
    Flag(fn(&mut Cli) -> &mut bool),
    /// No value, counted (`Count`).
    Count(fn(&mut Cli) -> &mut u8),
    /// One value, at most once (`Set`): parse and store it; `None` if clap refuses it.
    Once(fn(&mut Cli, &str) -> Option<()>),
    /// One value each time, repeatable (`Append`): parse and add it, or `None`.
    Each(fn(&mut Cli, &str) -> Option<()>),
    /// Only clap answers (`Help`, `Version`).
    Clap,
}

impl Takes {
    /// Whether the option takes a value.
    pub fn value(self) -> bool {
        matches!(self, Once(_) | Each(_))
    }
}

/// One option of [`Cli`].
#[derive(Debug)]
pub struct Opt {
    /// Its long name, without `--`.
    pub long: &'static str,
    /// Its short name, then its hidden short aliases.
    pub shorts: &'static [char],
    /// How it takes a value, and where it goes.
    pub takes: Takes,
}

use Takes::{Clap, Count, Each, Flag, Once};

/// Store a parsed value, or `None` if the parser refused it.
fn set<T, E>(slot: &mut Option<T>, parsed: std::result::Result<T, E>) -> Option<()> {
    *slot = Some(parsed.ok()?);
    Some(())
}

/// Add a parsed value, or `None` if the parser refused it.
fn push<T, E>(list: &mut Vec<T>, parsed: std::result::Result<T, E>) -> Option<()> {
    list.push(parsed.ok()?);
    Some(())
}

/// A `--wait` or `--exit-on` value, as clap's `value_enum` reads it.
fn choice<T: ValueEnum>(v: &str) -> std::result::Result<T, String> {
    T::from_str(v, false)
}

/// Every option of [`Cli`], in `--help`'s order, with the value parsers clap uses.
#[rustfmt::skip]
pub const OPTIONS: [Opt; 18] = [
    opt("subreaper",     &['s'],      Flag(|c| &mut c.subreaper)),
    opt("pdeathsig",     &['p'],      Once(|c, v| set(&mut c.pdeathsig, parse_signal(v)))),
    opt("verbose",       &['v'],      Count(|c| &mut c.verbose)),
    opt("warn-on-reap",  &['w'],      Flag(|c| &mut c.warn_on_reap)),
    opt("process-group", &['g'],      Flag(|c| &mut c.process_group)),
    opt("remap-exit",    &['e'],      Each(|c, v| push(&mut c.remap_exit, v.parse()))),
    opt("rewrite",       &['r'],      Each(|c, v| push(&mut c.rewrite, parse_rewrite(v)))),
    opt("single-child",  &['c'],      Flag(|c| &mut c.single_child)),
    opt("setsid",        &[],         Flag(|c| &mut c.setsid)),
    opt("pause",         &['P'],      Flag(|c| &mut c.pause)),
    opt("grace",         &[],         Once(|c, v| set(&mut c.grace, parse_duration(v)))),
    opt("exit-grace",    &[],         Once(|c, v| set(&mut c.exit_grace, parse_duration(v)))),
    opt("wait",          &[],         Once(|c, v| set(&mut c.wait, choice::<WaitArg>(v)))),
    opt("exit-on",       &[],         Once(|c, v| set(&mut c.exit_on, choice::<ExitOnArg>(v)))),
    opt("pid-file",      &[],         Once(|c, v| set(&mut c.pid_file, v.parse()))),
    opt("license",       &['l', 'L'], Flag(|c| &mut c.license)),
    opt("version",       &['V'],      Clap),
    opt("help",          &['h'],      Clap),
];

/// A row of [`OPTIONS`].
const fn opt(long: &'static str, shorts: &'static [char], takes: Takes) -> Opt {
    Opt {
        long,
        shorts,
        takes,
    }
}

// [`Parser::given`] has a bit for each.
const _: () = assert!(OPTIONS.len() <= 32);

/// Options that may not be given together (clap's `conflicts_with`).
pub const CONFLICTS: [(&str, &str); 1] = [("single-child", "setsid")];

/// The option whose long name is `name` as getopt_long(3) reads it: itself, else the only
/// option it is a prefix of, else dumb-init's choice ([`DUMB_INIT_LONGS`], as
/// `nsutils_common::cli::abbreviations` makes clap read it). `None` when it names none or
/// several.
pub fn long_option(name: &str) -> Option<usize> {
    let index = |long: &str| OPTIONS.iter().position(|o| o.long == long);
    if let Some(i) = index(name) {
        return Some(i);
    }
    if name.is_empty() {
        return None;
    }
    only_prefixed(name, OPTIONS.iter().map(|o| o.long))
        .or_else(|| only_prefixed(name, DUMB_INIT_LONGS.iter().copied()))
        .and_then(index)
}

/// The one name of `names` that begins with `prefix`, if only one does.
fn only_prefixed<'a>(prefix: &str, mut names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let first = names.find(|l| l.starts_with(prefix))?;
    names.all(|l| !l.starts_with(prefix)).then_some(first)
}

/// Parse the arguments (without the program name) the way clap would, or `None`.
pub fn parse(args: &[OsString]) -> Option<Cli> {
    let mut p = Parser {
        cli: Cli::default(),
        given: 0,
        args,
        i: 0,
    };
    while p.i < args.len() {
        let a = args[p.i].to_str()?;
        if a == "--" {
            p.cli.command = args[p.i + 1..].to_vec();
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            p.long(long)?;
        } else if let Some(shorts) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            p.shorts(shorts)?;
        } else {
            // Parsing stops at the first non-option: the command and its arguments.
            p.cli.command = args[p.i..].to_vec();
            break;
        }
        p.i += 1;
    }
    let given = |long| long_option(long).is_some_and(|i| p.given & (1 << i) != 0);
    if CONFLICTS.iter().any(|&(a, b)| given(a) && given(b)) {
        return None;
    }
    Some(p.cli)
}

/// The state of one [`parse`].
struct Parser<'a> {
    cli: Cli,
    /// Bit `i`: [`OPTIONS`]`[i]` was given.
    given: u32,
    args: &'a [OsString],
    /// The argument being read.
    i: usize,
}

impl<'a> Parser<'a> {
    /// `--name` or `--name=value` (`long` without the dashes).
    fn long(&mut self, long: &'a str) -> Option<()> {
        let (name, attached) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (long, None),
        };
        let i = long_option(name)?;
        if attached.is_some() && !OPTIONS[i].takes.value() {
            return None;
        }
        self.give(i, attached)
    }

    /// A group of short options (`-sv`, `-pTERM`, `-e 3`): flags, then at most one option
    /// that takes the rest of the group, or else the next argument, as its value.
    fn shorts(&mut self, group: &'a str) -> Option<()> {
        for (pos, c) in group.char_indices() {
            let i = OPTIONS.iter().position(|o| o.shorts.contains(&c))?;
            if OPTIONS[i].takes.value() {
                let rest = &group[pos + c.len_utf8()..];
                if rest.starts_with('=') {
                    return None;
                }
                return self.give(i, Some(rest).filter(|r| !r.is_empty()));
            }
            self.give(i, None)?;
        }
        Some(())
    }

    /// Option `i` is given, with its value if attached to it.
    fn give(&mut self, i: usize, attached: Option<&'a str>) -> Option<()> {
        let again = self.given & (1 << i) != 0;
        self.given |= 1 << i;
        let cli = &mut self.cli;
        match OPTIONS[i].takes {
            Flag(_) | Once(_) if again => None,
            Flag(field) => {
                *field(cli) = true;
                Some(())
            }
            Count(field) => {
                let n = field(cli);
                *n = n.checked_add(1)?;
                Some(())
            }
            Once(store) | Each(store) => {
                let value = match attached {
                    Some(v) => v,
                    None => self.next_value()?,
                };
                // clap's value parsers refuse an empty value (PathBuf's too): its message.
                if value.is_empty() {
                    return None;
                }
                store(&mut self.cli, value)
            }
            Clap => None,
        }
    }

    /// The next argument as a value, unless it looks like an option.
    fn next_value(&mut self) -> Option<&'a str> {
        self.i += 1;
        let v = self.args.get(self.i)?.to_str()?;
        (!v.starts_with('-')).then_some(v)
    }
}

#[cfg(test)]
mod tests;
