//! What the user typed: the clap definition of every option and the checks that need no
//! syscall (which options need a target, which exclude each other). Nothing here opens a
//! file or a process; `run::Plan::new` does that.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;
use nsutils_common::cli::{
    parse_fd, parse_group, parse_netns_name, parse_user, NsFlags, ValueTrap,
};
use nsutils_common::{Error, NsKind, Result};

/// The program name used in messages.
pub const PROG: &str = "nsenter";

/// The long options of util-linux 2.38's `nsenter` (its `--help`), which decide what an
/// abbreviation means where our extra options would make it ambiguous
/// (`nsutils_common::cli::abbreviations`): `--ne` is `--net`, `--us` `--user`, `--f`
/// `--follow-context`.
pub const NSENTER_LONGS: &[&str] = &[
    "all",
    "target",
    "mount",
    "uts",
    "ipc",
    "net",
    "pid",
    "cgroup",
    "user",
    "time",
    "setuid",
    "setgid",
    "preserve-credentials",
    "root",
    "wd",
    "wdns",
    "no-fork",
    "follow-context",
    "help",
    "version",
];

/// `-t PID` or `-t PID:INODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetArg {
    /// The PID in our PID namespace.
    pub pid: i32,
    /// The pidfs inode the process must have (a PID is reused, this inode is not).
    pub inode: Option<u64>,
}

/// Parse `PID` or `PID:INODE`.
pub fn parse_target(s: &str) -> std::result::Result<TargetArg, String> {
    let (p, i) = match s.split_once(':') {
        Some((p, i)) => (p, Some(i)),
        None => (s, None),
    };
    let pid = nsutils_common::cli::parse_pid(p)?;
    let inode = match i {
        None => None,
        Some(i) => Some(i.trim().parse::<u64>().map_err(|_| {
            format!("invalid target '{s}': expected PID or PID:INODE (INODE a number)")
        })?),
    };
    Ok(TargetArg { pid, inode })
}

/// A uid or gid for `-S`/`-G`: a number, a name, or `follow` (the target's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdArg {
    /// This id.
    Id(u32),
    /// The target's effective id.
    Follow,
}

fn parse_uid_arg(s: &str) -> std::result::Result<IdArg, String> {
    if s == "follow" {
        Ok(IdArg::Follow)
    } else {
        parse_user(s).map(IdArg::Id)
    }
}

fn parse_gid_arg(s: &str) -> std::result::Result<IdArg, String> {
    if s == "follow" {
        Ok(IdArg::Follow)
    } else {
        parse_group(s).map(IdArg::Id)
    }
}

/// Run a program in the namespaces of another process, or of namespace files.
#[derive(Debug, Parser)]
#[command(
    name = PROG,
    version,
    about,
    after_help = "A FILE given to a namespace option is a path (--net=blue is ./blue, as in \
                  util-linux); --netns=NAME is the ip netns name.\n\
                  Exit status: the command's; 125 if nsenter itself fails; 126/127 if the \
                  command cannot be run / is not found."
)]
pub struct Cli {
    /// Target process to get the namespaces from; PID:INODE also checks its pidfs inode
    #[arg(short = 't', long, value_name = "PID[:INODE]", value_parser = parse_target)]
    pub target: Option<TargetArg>,
    /// Enter all namespaces of the target (the user namespace only if it is not ours)
    #[arg(short = 'a', long)]
    pub all: bool,
    #[command(flatten)]
    pub ns: NsFlags,
    /// Enter the network namespace ip netns calls NAME (/run/netns/NAME)
    #[arg(long, value_name = "NAME", value_parser = parse_netns_name,
          conflicts_with_all = [NsKind::Net.long_flag(), "net_socket"])]
    pub netns: Option<String>,
    /// Enter the namespace files found in DIR (DIR/net, DIR/mnt, …, as nsrun --persist=DIR saves them), over -a's; a namespace option wins for its kind (bare, with -t: the target's)
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Enter the network namespace of the target's socket FD
    #[arg(short = 'N', long = "net-socket", value_name = "FD", value_parser = parse_fd,
          requires = "target", conflicts_with = NsKind::Net.long_flag())]
    pub net_socket: Option<i32>,
    /// Enter the parent of the user namespace (of --user's, else of the other namespaces' owner)
    #[arg(long = "user-parent")]
    pub user_parent: bool,
    /// Set the uid in the entered namespaces (number, name or 'follow': the target's)
    #[arg(short = 'S', long = "setuid", value_name = "UID|follow", value_parser = parse_uid_arg)]
    pub setuid: Option<IdArg>,
    /// Set the gid and drop supplementary groups (number, name or 'follow': the target's)
    #[arg(short = 'G', long = "setgid", value_name = "GID|follow", value_parser = parse_gid_arg)]
    pub setgid: Option<IdArg>,
    /// Do not change uid, gid or groups when entering a user namespace
    #[arg(long = "preserve-credentials")]
    pub preserve_credentials: bool,
    /// Keep the capabilities granted in the user namespace for the command (ambient set)
    #[arg(long = "keep-caps")]
    pub keep_caps: bool,
    /// Set the root directory [to DIR; default: the target's]
    #[arg(short = 'r', long = "root", value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub root: Option<Option<PathBuf>>,
    /// Set the working directory [to DIR, opened before entering; default: the target's]
    #[arg(short = 'w', long = "wd", value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub wd: Option<Option<PathBuf>>,
    /// Set the working directory to DIR, resolved after entering the namespaces and root
    #[arg(short = 'W', long = "wdns", value_name = "DIR", conflicts_with = "wd")]
    pub wdns: Option<PathBuf>,
    /// Take the environment of the target
    #[arg(short = 'e', long = "env")]
    pub env: bool,
    /// Do not fork before running the command (an entered PID namespace then only applies to its children)
    #[arg(short = 'F', long = "no-fork")]
    pub no_fork: bool,
    /// Join the target's cgroup (cgroup v2)
    #[arg(short = 'c', long = "join-cgroup")]
    pub join_cgroup: bool,
    /// Run the command in the target's SELinux context
    #[arg(short = 'Z', long = "follow-context")]
    pub follow_context: bool,
    /// The command and its arguments (default: $SHELL, as a login shell)
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
    /// `--net /path cmd` runs `/path`: the option that took no value, if that happened.
    #[arg(skip)]
    pub trap: Option<ValueTrap>,
}

impl Cli {
    /// The checks clap cannot express: options that need `-t`, and a namespace asked for
    /// with neither a file nor a target.
    pub fn validate(&self) -> Result<()> {
        if self.target.is_none() {
            let needs: &[(bool, &str)] = &[
                (self.all, "--all"),
                (matches!(self.root, Some(None)), "--root without DIR"),
                (matches!(self.wd, Some(None)), "--wd without DIR"),
                (self.env, "--env"),
                (self.join_cgroup, "--join-cgroup"),
                (self.follow_context, "--follow-context"),
                (self.setuid == Some(IdArg::Follow), "--setuid=follow"),
                (self.setgid == Some(IdArg::Follow), "--setgid=follow"),
            ];
            if let Some((_, what)) = needs.iter().find(|(on, _)| *on) {
                return Err(Error::msg(format!(
                    "{what} needs a target process (-t PID)"
                )));
            }
            let from_dir = self.from.is_some();
            for kind in self.ns.kinds() {
                let named = kind == NsKind::Net && self.netns.is_some();
                if self.ns.get(kind) == Some(None) && !from_dir && !named {
                    return Err(Error::msg(format!(
                        "--{} needs a file (--{}=FILE) or a target process (-t PID)",
                        kind.long_flag(),
                        kind.long_flag()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether a user namespace is asked for (`-U`, `--user-parent`; `-a` decides later).
    pub fn wants_user(&self) -> bool {
        self.ns.get(NsKind::User).is_some() || self.user_parent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        use clap::FromArgMatches;
        let m = crate::command()
            .try_get_matches_from(std::iter::once("nsenter").chain(args.iter().copied()))?;
        Cli::from_arg_matches(&m)
    }

    #[test]
    fn abbreviations_as_util_linux() {
        let c = parse(&["--targ", "1", "--ne", "--us", "true"]).expect("parse");
        assert_eq!(c.target.map(|t| t.pid), Some(1));
        assert_eq!(c.ns.kinds(), [NsKind::Net, NsKind::User]);
        assert!(c.net_socket.is_none() && !c.user_parent);
        let c = parse(&["--netn=blue", "--preserve", "true"]).expect("parse");
        assert_eq!(c.netns.as_deref(), Some("blue"));
        assert!(c.preserve_credentials);
        assert!(
            parse(&["--n", "true"]).is_err(),
            "--net, --netns, --net-socket, --no-fork"
        );
        assert!(parse(&["--netns=a/b", "true"]).is_err());
        assert!(parse(&["--net=/x", "--netns=b", "true"]).is_err());
    }

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("42"),
            Ok(TargetArg {
                pid: 42,
                inode: None
            })
        );
        assert_eq!(
            parse_target("42:1234"),
            Ok(TargetArg {
                pid: 42,
                inode: Some(1234)
            })
        );
        for bad in ["0", "x", "42:", "42:x", ":5", "-1:3"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parsing_stops_at_the_command() {
        let c = parse(&["-t", "1", "-a", "ls", "-l", "-a"]).expect("parse");
        assert!(c.all);
        assert_eq!(c.command, ["ls", "-l", "-a"]);
        let c = parse(&["-t1", "--net=/run/netns/x", "-S", "follow", "-G", "0"]).expect("parse");
        assert_eq!(c.setuid, Some(IdArg::Follow));
        assert_eq!(c.setgid, Some(IdArg::Id(0)));
        assert!(c.command.is_empty());
        let c = parse(&["-S", "root", "-G", "root", "true"]).expect("names");
        assert_eq!(c.setuid, Some(IdArg::Id(0)));
    }

    #[test]
    fn conflicts_and_requirements() {
        assert!(parse(&["-t", "1", "-w", "-W", "/x"]).is_err());
        assert!(parse(&["-t", "1", "-w=/a", "--wdns=/x"]).is_err());
        assert!(parse(&["-N", "3"]).is_err(), "-N needs -t");
        assert!(parse(&["-t", "1", "-N", "3", "-n"]).is_err());
        assert!(parse(&["-t", "1", "-S", "nobody-such-user-xyz"]).is_err());
        let c = parse(&["-n"]).expect("parse");
        assert!(c.validate().is_err());
        let c = parse(&["-e"]).expect("parse");
        assert!(c.validate().is_err());
        let c = parse(&["--net=/run/netns/x"]).expect("parse");
        assert!(c.validate().is_ok());
        let c = parse(&["-r=/", "-w=/", "true"]).expect("parse");
        assert!(c.validate().is_ok());
    }
}
