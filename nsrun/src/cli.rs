//! What the user typed: the clap definition of every option, the value parsers that belong
//! to nsrun alone, what options imply and which combinations are refused. Validation only —
//! no syscalls beyond user and group name lookups; turning this into work to do is the
//! `plan` module's job.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Args, FromArgMatches, Parser, ValueEnum};
use nsutils_common::cli::{
    parse_duration, parse_fd, parse_group, parse_netns_name, parse_signal, parse_time_offset,
    parse_user, value_trap, NsFlags, TimeOffset, ValueTrap,
};
use nsutils_common::idmap::IdRange;
use nsutils_common::mount::Propagation;
use nsutils_common::{Error, NsKind, Result};

/// The long options of util-linux 2.38's `unshare` (its `--help`), which decide what an
/// abbreviation means where our extra options would make it ambiguous
/// (`nsutils_common::cli::abbreviations`): `--h` is `--help`, `--f` `--fork`, `--t` `--time`.
pub const UNSHARE_LONGS: &[&str] = &[
    "mount",
    "uts",
    "ipc",
    "net",
    "pid",
    "user",
    "cgroup",
    "time",
    "fork",
    "map-user",
    "map-group",
    "map-root-user",
    "map-current-user",
    "map-auto",
    "map-users",
    "map-groups",
    "kill-child",
    "mount-proc",
    "propagation",
    "setgroups",
    "keep-caps",
    "root",
    "wd",
    "setuid",
    "setgid",
    "monotonic",
    "boottime",
    "help",
    "version",
];

/// One `--map-users`/`--map-groups` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapSpec {
    /// `INNER:OUTER:COUNT` (or the legacy `OUTER,INNER,COUNT`).
    Range(IdRange),
    /// The caller's first subordinate range, at inner id 0.
    Auto,
    /// The caller's first subordinate range, mapped onto itself.
    Subids,
    /// The parent namespace's whole map, identically.
    All,
}

/// A `--map-users`/`--map-groups` value (public for the fuzz targets and property tests).
#[doc(hidden)]
pub fn parse_map_spec(s: &str) -> Result<MapSpec, String> {
    match s {
        "auto" => Ok(MapSpec::Auto),
        "subids" => Ok(MapSpec::Subids),
        "all" => Ok(MapSpec::All),
        _ => IdRange::parse(s).map(MapSpec::Range),
    }
}

fn parse_owner(s: &str) -> Result<(u32, u32), String> {
    let (u, g) = s
        .split_once(':')
        .ok_or_else(|| format!("invalid owner '{s}': expected UID:GID"))?;
    Ok((parse_user(u)?, parse_group(g)?))
}

/// `--setgroups`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SetGroups {
    /// setgroups(2) stays allowed in the new user namespace.
    Allow,
    /// setgroups(2) is permanently denied (needed for an unprivileged gid map).
    Deny,
}

/// Run a program in new namespaces (a superset of util-linux unshare).
#[derive(Debug, Parser)]
#[command(
    name = "nsrun",
    version,
    about,
    args_override_self = true,
    after_help = "Exit status: the command's, or 125 if nsrun itself fails, 126/127 if the \
                  command cannot be executed / is not found, 124 if --timeout expired."
)]
pub struct Cli {
    #[command(flatten)]
    pub ns: NsFlags,

    /// Fork before running the command (implied by --pid, --kill-child, --forward-signals,
    /// --init, --timeout)
    #[arg(short = 'f', long)]
    pub fork: bool,
    /// When nsrun dies, send SIGNAL (default KILL) to the child (implies --fork)
    #[arg(long = "kill-child", value_name = "SIGNAL", num_args = 0..=1, require_equals = true,
          default_missing_value = "KILL", value_parser = parse_signal)]
    pub kill_child: Option<i32>,
    /// Pass SIGTERM and SIGINT on to the child instead of ignoring them (implies --fork)
    #[arg(long = "forward-signals")]
    pub forward_signals: bool,
    /// Mount a fresh proc filesystem at DIR (default /proc) before running the command
    /// (implies --mount)
    #[arg(long = "mount-proc", value_name = "DIR", num_args = 0..=1, require_equals = true,
          default_missing_value = "/proc")]
    pub mount_proc: Option<PathBuf>,
    /// Mount a binfmt_misc instance at DIR (default /proc/sys/fs/binfmt_misc)
    /// (implies --user and --mount)
    #[arg(long = "mount-binfmt", value_name = "DIR", num_args = 0..=1, require_equals = true,
          default_missing_value = "/proc/sys/fs/binfmt_misc")]
    pub mount_binfmt: Option<PathBuf>,
    /// Register an interpreter: write STRING to the binfmt_misc register file
    /// (implies --mount-binfmt)
    #[arg(short = 'l', long = "load-interp", value_name = "STRING")]
    pub load_interp: Option<String>,

    /// Map the current effective user to UID in the new user namespace (implies --user)
    #[arg(long = "map-user", value_name = "UID|NAME", value_parser = parse_user)]
    pub map_user: Option<u32>,
    /// Map the current effective group to GID in the new user namespace (implies --user)
    #[arg(long = "map-group", value_name = "GID|NAME", value_parser = parse_group)]
    pub map_group: Option<u32>,
    /// Map a range of user ids: INNER:OUTER:COUNT, auto, subids or all (repeatable;
    /// implies --user)
    #[arg(long = "map-users", value_name = "MAP", action = clap::ArgAction::Append,
          value_parser = parse_map_spec)]
    pub map_users: Vec<MapSpec>,
    /// Map a range of group ids: INNER:OUTER:COUNT, auto, subids or all (repeatable;
    /// implies --user)
    #[arg(long = "map-groups", value_name = "MAP", action = clap::ArgAction::Append,
          value_parser = parse_map_spec)]
    pub map_groups: Vec<MapSpec>,
    /// Same as --map-users=auto --map-groups=auto
    #[arg(long = "map-auto")]
    pub map_auto: bool,
    /// Same as --map-users=subids --map-groups=subids
    #[arg(long = "map-subids")]
    pub map_subids: bool,
    /// Map the current user and group to root (implies --user and --setgroups=deny)
    #[arg(short = 'r', long = "map-root-user")]
    pub map_root_user: bool,
    /// Map the current user and group to themselves (implies --user and --setgroups=deny)
    #[arg(short = 'c', long = "map-current-user")]
    pub map_current_user: bool,
    /// Make UID:GID the owner of the new user namespace (root only)
    #[arg(long, value_name = "UID:GID", value_parser = parse_owner)]
    pub owner: Option<(u32, u32)>,
    /// Mount propagation of the new mount namespace
    #[arg(long, value_name = "MODE", value_enum)]
    pub propagation: Option<Propagation>,
    /// Allow or deny setgroups(2) in the new user namespace
    #[arg(long, value_name = "allow|deny", value_enum)]
    pub setgroups: Option<SetGroups>,
    /// Keep the capabilities of the new user namespace across exec
    #[arg(long = "keep-caps")]
    pub keep_caps: bool,
    /// Run the command with DIR as its root directory
    #[arg(short = 'R', long = "root", value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Run the command in DIR
    #[arg(short = 'w', long = "wd", value_name = "DIR")]
    pub wd: Option<PathBuf>,
    /// Run the command as UID (inside the namespaces)
    #[arg(short = 'S', long = "setuid", value_name = "UID", value_parser = parse_user)]
    pub setuid: Option<u32>,
    /// Run the command as GID, without supplementary groups
    #[arg(short = 'G', long = "setgid", value_name = "GID", value_parser = parse_group)]
    pub setgid: Option<u32>,
    /// CLOCK_MONOTONIC offset in the new time namespace: seconds or a signed duration
    /// (-1h, +2days); needs --time
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true,
          value_parser = parse_time_offset)]
    pub monotonic: Option<TimeOffset>,
    /// CLOCK_BOOTTIME offset in the new time namespace; needs --time
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true,
          value_parser = parse_time_offset)]
    pub boottime: Option<TimeOffset>,
    /// Start the command with an empty environment
    #[arg(long = "clear-env")]
    pub clear_env: bool,
    /// Keep only these environment variables
    #[arg(long = "whitelist-env", value_name = "VAR,...", value_delimiter = ',',
          action = clap::ArgAction::Append)]
    pub whitelist_env: Vec<String>,

    #[command(flatten)]
    pub more: Extras,

    /// The command and its arguments (default: $SHELL, as a login shell)
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,

    /// Who maps the current user, resolved from the order the options came in.
    #[arg(skip)]
    pub user_single: Option<Single>,
    /// Who maps the current group.
    #[arg(skip)]
    pub group_single: Option<Single>,
    /// `--net /path cmd` runs `/path`: the option that took no value, if that happened.
    #[arg(skip)]
    pub trap: Option<ValueTrap>,
}

/// What nsrun adds to unshare's options.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Beyond unshare")]
pub struct Extras {
    /// Leave the loopback interface of a new network namespace down
    #[arg(long = "no-loopback")]
    pub no_loopback: bool,
    /// Run a reaper as PID 1 of the new PID namespace, the command as its child (needs --pid)
    #[arg(long)]
    pub init: bool,
    /// Set the hostname in a new UTS namespace (implies --uts)
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Set the NIS domain name in a new UTS namespace (implies --uts)
    #[arg(long, value_name = "NAME")]
    pub domainname: Option<String>,
    /// Persist the new network namespace as NAME for ip netns (/run/netns/NAME; implies --net)
    #[arg(long, value_name = "NAME", value_parser = parse_netns_name)]
    pub netns: Option<String>,
    /// Persist every namespace created as DIR/KIND (DIR is created if missing)
    #[arg(long, value_name = "DIR")]
    pub persist: Option<PathBuf>,
    /// Write the host PID of the process running the command (or of the init) to FILE,
    /// removed once it has exited (implies --fork)
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Write a JSON object (child-pid, KIND-namespace inodes) to fd N once set up
    #[arg(long = "info-fd", value_name = "N", value_parser = parse_fd)]
    pub info_fd: Option<i32>,
    /// Wait for a byte (or EOF) on fd N before running the command
    #[arg(long = "block-fd", value_name = "N", value_parser = parse_fd)]
    pub block_fd: Option<i32>,
    /// Write one byte to fd N once set up
    #[arg(long = "ready-fd", value_name = "N", value_parser = parse_fd)]
    pub ready_fd: Option<i32>,
    /// Kill the command (the whole PID namespace if one was created) after DURATION
    /// (30s, 5m) and exit 124
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
}

/// A single-id map of the current user or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Single {
    /// Mapped to this id inside.
    To(u32),
    /// Mapped to itself (`-c`).
    Current,
}

/// The position of the last occurrence of an option, if given.
fn last_index(m: &ArgMatches, id: &str) -> Option<usize> {
    if m.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
        return None;
    }
    m.indices_of(id).and_then(|i| i.max())
}

impl Cli {
    /// Build from clap's matches of `cmd` (nsrun's [`crate::command`]), resolving "the last
    /// of -r, -c, --map-user wins" by the options' positions, and noting the
    /// optional-argument trap.
    pub fn from_matches(
        cmd: &clap::Command,
        m: &ArgMatches,
        raw: &[OsString],
    ) -> Result<Cli, clap::Error> {
        let mut cli = Cli::from_arg_matches(m)?;
        let r = last_index(m, "map_root_user");
        let c = last_index(m, "map_current_user");
        let pick = |own: Option<(usize, u32)>| -> Option<Single> {
            let mut best: Option<(usize, Single)> = None;
            for cand in [
                r.map(|i| (i, Single::To(0))),
                c.map(|i| (i, Single::Current)),
                own.map(|(i, v)| (i, Single::To(v))),
            ]
            .into_iter()
            .flatten()
            {
                if best.map_or(true, |(bi, _)| cand.0 > bi) {
                    best = Some(cand);
                }
            }
            best.map(|(_, s)| s)
        };
        cli.user_single = pick(last_index(m, "map_user").zip(cli.map_user));
        cli.group_single = pick(last_index(m, "map_group").zip(cli.map_group));
        cli.trap = value_trap(cmd, raw, cli.command.len());
        Ok(cli)
    }
}

impl Cli {
    /// The kinds to create: those asked for, and those other options imply (`--map-*`,
    /// `--owner`, `--mount-binfmt` and `--load-interp` imply `--user`; `--mount-proc` and
    /// binfmt_misc `--mount`; `--hostname`, `--domainname` `--uts`; `--netns` `--net`).
    pub fn implied_kinds(&self) -> Result<NsFlags> {
        let mut ns = self.ns.clone();
        let x = &self.more;
        if self.uses_maps() || self.owner.is_some() || self.loads_binfmt() {
            ns.imply(NsKind::User);
        }
        if self.mount_proc.is_some() || self.loads_binfmt() {
            ns.imply(NsKind::Mnt);
        }
        if x.hostname.is_some() || x.domainname.is_some() {
            ns.imply(NsKind::Uts);
        }
        if let Some(name) = &x.netns {
            if let Some(Some(file)) = ns.get(NsKind::Net) {
                return Err(Error::msg(format!(
                    "--net={} and --netns={name} both name where to persist the network namespace",
                    file.display(),
                ))
                .hint("give one of them: --net=FILE (a path) or --netns=NAME (/run/netns/NAME)"));
            }
            ns.imply(NsKind::Net);
        }
        Ok(ns)
    }

    /// The option combinations that depend on the kinds created (`kinds`) and on whether
    /// the caller is root.
    pub fn validate(&self, kinds: &[NsKind], is_root: bool) -> Result<()> {
        let creates = |k| kinds.contains(&k);
        if self.more.init && !creates(NsKind::Pid) {
            return Err(Error::msg("--init needs --pid (-p)")
                .hint("the reaper runs as PID 1 of a new PID namespace"));
        }
        for (name, v) in [
            ("--monotonic", &self.monotonic),
            ("--boottime", &self.boottime),
        ] {
            if v.is_some() && !creates(NsKind::Time) {
                return Err(Error::msg(format!("{name} needs --time (-T)")));
            }
        }
        if self.owner.is_some() && !is_root {
            return Err(Error::msg("--owner needs root"));
        }
        if self.setgroups.is_some() && !creates(NsKind::User) {
            return Err(Error::msg("--setgroups needs --user (-U)"));
        }
        Ok(())
    }

    /// Whether any option maps ids.
    fn uses_maps(&self) -> bool {
        self.user_single.is_some()
            || self.group_single.is_some()
            || !self.map_users.is_empty()
            || !self.map_groups.is_empty()
            || self.map_auto
            || self.map_subids
    }

    /// Whether a binfmt_misc instance is mounted (`--mount-binfmt`, `--load-interp`).
    fn loads_binfmt(&self) -> bool {
        self.mount_binfmt.is_some() || self.load_interp.is_some()
    }

    /// Where binfmt_misc is mounted, if it is.
    pub fn binfmt_dir(&self) -> Option<PathBuf> {
        self.loads_binfmt().then(|| {
            self.mount_binfmt
                .clone()
                .unwrap_or_else(|| PathBuf::from("/proc/sys/fs/binfmt_misc"))
        })
    }

    /// Whether nsrun forks, the command running in the child: `--fork`, or an option that
    /// implies it. With a pid file nsrun stays to remove it once the command has exited, as
    /// daemons do theirs: a pid file naming a dead (or reused) PID is worse than none.
    pub fn forks(&self, kinds: &[NsKind]) -> bool {
        let x = &self.more;
        self.fork
            || x.pid_file.is_some()
            || kinds.contains(&NsKind::Pid)
            || self.kill_child.is_some()
            || self.forward_signals
            || x.init
            || x.timeout.is_some()
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use nsutils_common::NsKind;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let raw: Vec<OsString> = std::iter::once("nsrun")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let cmd = crate::command();
        let m = cmd.clone().try_get_matches_from(&raw)?;
        Cli::from_matches(&cmd, &m, &raw)
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
        crate::command().debug_assert();
    }

    #[test]
    fn abbreviations_as_unshare() {
        let c = parse(&["--map-root", "--propag", "private", "--mount-p", "true"]).expect("parse");
        assert_eq!(c.user_single, Some(Single::To(0)));
        assert_eq!(c.propagation, Some(Propagation::Private));
        assert!(c.mount_proc.is_some());
        // Ours make these ambiguous; unshare 2.38 picks one.
        let c = parse(&["--f", "--ti", "--pi", "--ne", "true"]).expect("parse");
        assert!(c.fork);
        assert_eq!(c.ns.kinds(), [NsKind::Net, NsKind::Pid, NsKind::Time]);
        assert!(parse(&["--map-u=0", "true"]).is_err());
    }

    #[test]
    fn last_single_map_wins() {
        let c = parse(&["-r", "--map-user=5", "true"]).expect("parse");
        assert_eq!(c.user_single, Some(Single::To(5)));
        assert_eq!(c.group_single, Some(Single::To(0)));
        let c = parse(&["--map-user=5", "-c", "true"]).expect("parse");
        assert_eq!(c.user_single, Some(Single::Current));
        let c = parse(&["--map-users=auto", "--map-users=1:2:3", "true"]).expect("parse");
        assert_eq!(c.map_users.len(), 2);
        assert_eq!(c.user_single, None);
    }

    #[test]
    fn command_flags_pass_through() {
        let c = parse(&["-n", "ls", "-l", "--net"]).expect("parse");
        assert_eq!(c.command, ["ls", "-l", "--net"]);
        let c = parse(&["--monotonic", "-1h", "-T", "true"]).expect("parse");
        assert_eq!(c.monotonic.map(|o| o.secs), Some(-3600));
    }

    #[test]
    fn optional_argument_trap() {
        let trap = |args: &[&str]| parse(args).expect("parse").trap.map(|t| (t.typed, t.long));
        let t = |typed: &str, long: &str| Some((typed.to_owned(), long.to_owned()));
        assert_eq!(trap(&["--net", "/run/netns/x", "true"]), t("--net", "net"));
        assert_eq!(trap(&["-Un", "/x"]), t("-Un", "net"));
        assert_eq!(trap(&["-u", "/nonexistent"]), t("-u", "uts"));
        assert_eq!(trap(&["--ne", "nsxred", "true"]), t("--ne", "net"));
        assert_eq!(
            trap(&["--mount-proc", "/x"]),
            t("--mount-proc", "mount-proc")
        );
        assert_eq!(trap(&["--net", "--", "/x"]), None);
        assert_eq!(trap(&["--hostname", "x", "ls"]), None);
    }
}
