//! Shared command-line pieces, one module each:
//!
//! * `nsflags`: [`NsFlags`], the namespace flags, built from the kind table;
//! * `values`: value parsers — PID, fd, signal name or number, durations and signed clock
//!   offsets, user and group names, `ip netns` names;
//! * `abbrev`: util-linux's abbreviated long options ([`abbreviations`]);
//! * `trap`: the optional-value trap ([`ValueTrap`]) and its hint;
//! * `errors`: the one policy for argument errors — one line, one more (a hint, or
//!   util-linux's `Try 'prog --help'`), the tool's failure code ([`Tool`](crate::exit::Tool)),
//!   worded as util-linux does or as nsls does ([`Wording`]).
//!
//! Everything is re-exported here: callers say `nsutils_common::cli::X`. This module only
//! turns strings into values; it makes no syscalls beyond name lookups.

mod abbrev;
mod errors;
mod nsflags;
mod trap;
mod values;

pub use abbrev::abbreviations;
pub use errors::{parse_abbreviated, parse_with_hints, Wording};
pub use nsflags::NsFlags;
pub use trap::{value_trap, ValueTrap};
pub use values::{
    parse_duration, parse_fd, parse_group, parse_netns_name, parse_pid, parse_signal,
    parse_time_offset, parse_user, signal_name, TimeOffset,
};

/// What the tests of the modules above share: a parser with the namespace flags, and a tool
/// with more long options than its util-linux anchor.
#[cfg(test)]
mod test_support {
    use std::ffi::OsString;

    use clap::Parser;

    use super::{abbreviations, NsFlags};

    /// A tool with the namespace flags and a command.
    #[derive(Debug, Parser)]
    pub(super) struct T {
        #[command(flatten)]
        pub(super) ns: NsFlags,
        #[arg(trailing_var_arg = true)]
        pub(super) cmd: Vec<OsString>,
    }

    /// `args` parsed by [`T`].
    pub(super) fn parse(args: &[&str]) -> Result<T, clap::Error> {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
    }

    /// A tool with more options than its util-linux anchor.
    pub(super) fn abbrev_cmd() -> clap::Command {
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

    /// `args` parsed by [`abbrev_cmd`].
    pub(super) fn abbrev(args: &[&str]) -> Result<clap::ArgMatches, clap::Error> {
        abbrev_cmd().try_get_matches_from(raw(args))
    }

    /// `args` as the tool gets them, the program name first.
    pub(super) fn raw(args: &[&str]) -> Vec<OsString> {
        std::iter::once("t")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }
}
