//! What the user typed: the flags of tini, dumb-init and catatonit plus nsinit's own — clap's
//! definition, the one source of truth (`crate::fast` parses the everyday command lines
//! without building it, held to it by tests) — and [`Cli::resolve`], which merges them with
//! their environment twins (`crate::env`) into the init loop's configuration, with the checks
//! that need no syscall.
//!
//! Precedence: a flag on the command line, then `NSINIT_*`, then the anchors' own variables
//! (`TINI_SUBREAPER`, `TINI_VERBOSITY`, `TINI_KILL_PROCESS_GROUP`, `DUMB_INIT_SETSID`).
//! Option parsing stops at the first non-option (`nsinit echo -l` runs `echo -l`).

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser, ValueEnum};
use nsutils_common::cli::{parse_duration, parse_signal};
use nsutils_common::reaper::{ExitOn, ReaperConfig, WaitMode};
use nsutils_common::{Error, Result};

use crate::env::{Env, Vars};

/// The separator between several commands.
pub const SEPARATOR: &str = ":::";

/// dumb-init 1.2.5's long options, the anchor of nsinit's abbreviations: where nsinit's extra
/// options make a prefix ambiguous that names one of these (`--s`: its --single-child, though
/// nsinit also has --subreaper and --setsid; `--r`, `--re`: --rewrite, not --remap-exit), its
/// meaning wins (`nsutils_common::cli::abbreviations`).
pub const DUMB_INIT_LONGS: [&str; 5] = ["single-child", "rewrite", "verbose", "help", "version"];

/// `--wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WaitArg {
    /// Exit when the run is over, shutting down what is left
    Main,
    /// Exit only when every descendant is gone
    All,
}

/// `--exit-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExitOnArg {
    /// The main (first) command exited
    Main,
    /// Any command exited
    First,
    /// Every command exited
    All,
}

/// A PID 1 and subreaper: run COMMAND as a child, reap every zombie, forward every signal.
///
/// Accepts the flags of tini, dumb-init and catatonit. Several commands:
/// `nsinit [OPTIONS] -- CMD1 ARGS ::: CMD2 ARGS`; the first is the main one. Each option also
/// reads an environment variable (shown as [env: …]), for runtimes that cannot pass flags.
#[derive(Debug, Parser, Default)]
#[command(
    name = "nsinit",
    version,
    about,
    disable_version_flag = true,
    after_help = "Exit status: the main command's (128+N if killed by signal N), 125 if nsinit \
                  itself failed, 126/127 if the command could not be executed / was not found."
)]
pub struct Cli {
    /// Register as a child subreaper (always done when not PID 1; accepted for tini)
    /// [env: NSINIT_SUBREAPER, TINI_SUBREAPER]
    #[arg(short = 's', long = "subreaper")]
    pub subreaper: bool,

    /// Signal nsinit gets when its parent dies (forwarded like any other) [env: NSINIT_PDEATHSIG]
    #[arg(short = 'p', long = "pdeathsig", value_name = "SIGNAL", value_parser = parse_signal)]
    pub pdeathsig: Option<i32>,

    /// More log lines on stderr: -v spawn, forward, exit, shutdown; -vv every reaped orphan
    /// [env: NSINIT_VERBOSITY=N, TINI_VERBOSITY=N+1]
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,

    /// Log "Reaped zombie process with pid=N" for each reaped process that is not a command
    /// [env: NSINIT_WARN_ON_REAP]
    #[arg(short = 'w', long = "warn-on-reap")]
    pub warn_on_reap: bool,

    /// Send signals to each command's process group
    /// [env: NSINIT_KILL_PROCESS_GROUP, TINI_KILL_PROCESS_GROUP]
    #[arg(short = 'g', long = "process-group")]
    pub process_group: bool,

    /// Report exit code CODE (0-255, after 128+N) as 0; repeatable
    /// [env: NSINIT_REMAP_EXIT=CODE,…]
    #[arg(short = 'e', long = "remap-exit", value_name = "CODE", action = ArgAction::Append)]
    pub remap_exit: Vec<u8>,

    /// Forward signal S as R (names or numbers); R=0 drops S; repeatable
    /// [env: NSINIT_REWRITE=S:R,…]
    #[arg(short = 'r', long = "rewrite", value_name = "S:R", value_parser = parse_rewrite, action = ArgAction::Append)]
    pub rewrite: Vec<(i32, i32)>,

    /// Signals go to the command only, not its group (dumb-init -c; the default)
    /// [env: NSINIT_SINGLE_CHILD, DUMB_INIT_SETSID=0]
    #[arg(short = 'c', long = "single-child", conflicts_with = "setsid")]
    pub single_child: bool,

    /// Start the command as a session leader owning the terminal (nsinit gives up its own);
    /// signals go to its group; TSTP/TTIN/TTOU are forwarded as SIGSTOP unless -r names them
    /// (dumb-init's default mode) [env: NSINIT_SETSID, DUMB_INIT_SETSID=anything but 0]
    #[arg(long = "setsid")]
    pub setsid: bool,

    /// No command: reap orphans until SIGINT or SIGTERM, then exit 0 (catatonit -P)
    /// [env: NSINIT_PAUSE]
    #[arg(short = 'P', long = "pause")]
    pub pause: bool,

    /// When nsinit is told to stop (SIGTERM/SIGINT): time between forwarding it and SIGKILL,
    /// for the commands and what they leave (500ms, 10s, 1m; default 5s) [env: NSINIT_GRACE]
    #[arg(long = "grace", value_name = "DURATION", value_parser = parse_duration)]
    pub grace: Option<Duration>,

    /// When the commands exit on their own: time between SIGTERM and SIGKILL for what they
    /// leave behind (default 100ms; 0 kills at once) [env: NSINIT_EXIT_GRACE]
    #[arg(long = "exit-grace", value_name = "DURATION", value_parser = parse_duration)]
    pub exit_grace: Option<Duration>,

    /// When the run is over: shut down what is left and exit (main), or wait until every
    /// descendant has exited on its own (all) [env: NSINIT_WAIT]
    #[arg(long = "wait", value_name = "WHEN", value_enum)]
    pub wait: Option<WaitArg>,

    /// With several commands, which exits end the run [env: NSINIT_EXIT_ON]
    #[arg(long = "exit-on", value_name = "WHICH", value_enum)]
    pub exit_on: Option<ExitOnArg>,

    /// Write the main command's PID to FILE (removed at exit) [env: NSINIT_PID_FILE]
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,

    /// Show the licence and exit; -L too (tini spells it -l, catatonit -L)
    #[arg(short = 'l', short_alias = 'L', long = "license")]
    pub license: bool,

    /// Show the version and exit
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    pub version: Option<bool>,

    /// The command(s): CMD [ARGS…] [::: CMD [ARGS…]]…
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// `S:R` of `-r`: two signals; R may be 0 (drop).
pub fn parse_rewrite(s: &str) -> std::result::Result<(i32, i32), String> {
    let (from, to) = s
        .split_once(':')
        .ok_or_else(|| format!("invalid rewrite '{s}': expected S:R, e.g. TERM:INT or 15:0"))?;
    let from = parse_signal(from).map_err(|e| format!("in rewrite '{s}': {e}"))?;
    let to = if to.trim() == "0" {
        0
    } else {
        parse_signal(to).map_err(|e| format!("in rewrite '{s}': {e}"))?
    };
    Ok((from, to))
}

/// Split `CMD1 … ::: CMD2 …` into commands; an empty one is an error.
pub fn split_commands(args: Vec<OsString>) -> Result<Vec<Vec<OsString>>> {
    if args.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = vec![Vec::new()];
    for a in args {
        if a == OsStr::new(SEPARATOR) {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(a);
        }
    }
    if let Some(i) = out.iter().position(Vec::is_empty) {
        return Err(Error::msg(format!(
            "command {} of {} is empty (nothing between two '{SEPARATOR}' or at an end)",
            i + 1,
            out.len()
        ))
        .hint(format!(
            "write commands as CMD1 ARGS {SEPARATOR} CMD2 ARGS, each non-empty"
        )));
    }
    Ok(out)
}

/// What to run: either the licence text or a reaper configuration and the commands.
#[derive(Debug)]
pub enum Action {
    /// `-l`: print the licence.
    License,
    /// Run these commands under the init loop (none: pause mode).
    Run(Box<ReaperConfig>, Vec<Vec<OsString>>),
}

/// Pause mode takes no command; without it, a command is needed.
fn check_pause(commands: &[Vec<OsString>], pause: bool) -> Result<()> {
    if pause && !commands.is_empty() {
        return Err(Error::msg("--pause takes no command")
            .hint("drop the command, or drop --pause (and NSINIT_PAUSE)"));
    }
    if !pause && commands.is_empty() {
        return Err(Error::msg("no command given")
            .hint("nsinit [OPTIONS] -- COMMAND [ARGS]…, or --pause to only reap"));
    }
    Ok(())
}

impl Cli {
    /// Merge the environment (read through `env`, so tests need not touch the process's)
    /// and check what clap cannot. A flag wins over its environment twins.
    pub fn resolve(mut self, env: Vars) -> Result<Action> {
        if self.license {
            return Ok(Action::License);
        }
        let env = Env::read(env)?;
        let commands = split_commands(std::mem::take(&mut self.command))?;
        check_pause(&commands, self.pause || env.pause)?;
        Ok(Action::Run(Box::new(self.config(env)), commands))
    }

    /// The init loop's configuration: each flag, else its twins, else the default. The
    /// repeatable options add up, the environment's first.
    fn config(self, env: Env) -> ReaperConfig {
        let default = ReaperConfig::default();
        ReaperConfig {
            grace: self.grace.or(env.grace).unwrap_or(default.grace),
            exit_grace: self
                .exit_grace
                .or(env.exit_grace)
                .unwrap_or(default.exit_grace),
            wait: match self.wait.or(env.wait) {
                Some(WaitArg::All) => WaitMode::All,
                Some(WaitArg::Main) | None => WaitMode::Main,
            },
            exit_on: match self.exit_on.or(env.exit_on) {
                Some(ExitOnArg::First) => ExitOn::First,
                Some(ExitOnArg::All) => ExitOn::All,
                Some(ExitOnArg::Main) | None => ExitOn::Main,
            },
            process_group: self.process_group || env.process_group,
            // --setsid and --single-child are exclusive (clap says so).
            setsid: self.setsid || (!self.single_child && env.setsid.unwrap_or(false)),
            rewrite: [env.rewrite, self.rewrite].concat(),
            success_codes: [env.remap_exit, self.remap_exit].concat(),
            parent_death_signal: self.pdeathsig.or(env.pdeathsig),
            verbosity: match self.verbose {
                0 => env.verbosity.unwrap_or(0),
                n => n,
            },
            log_reaped: self.warn_on_reap || env.warn_on_reap,
            pid_file: self.pid_file.or(env.pid_file),
            // -s and its twins change nothing: nsinit always becomes a subreaper when it is
            // not PID 1 (accepted for tini).
            ..default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("nsinit").chain(args.iter().copied()))
    }

    fn resolve(args: &[&str], env: &[(&str, &str)]) -> Result<Action> {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(args).expect("clap").resolve(&|k| map.get(k).cloned())
    }

    fn cfg(args: &[&str], env: &[(&str, &str)]) -> (ReaperConfig, Vec<Vec<OsString>>) {
        match resolve(args, env).expect("resolve") {
            Action::Run(c, cmds) => (*c, cmds),
            Action::License => panic!("licence"),
        }
    }

    #[test]
    fn parsing_stops_at_the_first_non_option() {
        let (_, cmds) = cfg(&["echo", "-l", "-v"], &[]);
        assert_eq!(cmds, [vec!["echo", "-l", "-v"]]);
        assert!(parse(&["--bogus", "x"]).is_err());
        assert!(parse(&["-Z"]).is_err());
        let (c, cmds) = cfg(&["-vv", "--", "ls", "-g"], &[]);
        assert_eq!(c.verbosity, 2);
        assert!(!c.process_group);
        assert_eq!(cmds, [vec!["ls", "-g"]]);
    }

    #[test]
    fn tini_flags() {
        let (c, _) = cfg(
            &[
                "-s", "-p", "SIGKILL", "-w", "-g", "-e", "143", "-e", "3", "true",
            ],
            &[],
        );
        assert_eq!(c.parent_death_signal, Some(9));
        assert!(c.log_reaped && c.process_group);
        assert_eq!(c.success_codes, [143, 3]);
        assert!(parse(&["-e", "256", "x"]).is_err());
        assert!(parse(&["-p", "NOPE", "x"]).is_err());
        assert!(matches!(resolve(&["-l"], &[]), Ok(Action::License)));
        assert!(matches!(resolve(&["-L"], &[]), Ok(Action::License)));
    }

    #[test]
    fn dumb_init_flags() {
        let (c, _) = cfg(&["-r", "TERM:INT", "--rewrite=10:0", "x"], &[]);
        assert_eq!(c.rewrite, [(15, 2), (10, 0)]);
        assert!(!c.setsid);
        assert!(cfg(&["--setsid", "x"], &[]).0.setsid);
        // dumb-init's rule: anything but "0" is on.
        for (v, on) in [
            ("1", true),
            ("yes", true),
            ("", true),
            (" 0", true),
            ("0", false),
        ] {
            assert_eq!(
                cfg(&["x"], &[("DUMB_INIT_SETSID", v)]).0.setsid,
                on,
                "{v:?}"
            );
        }
        assert!(!cfg(&["-c", "x"], &[("DUMB_INIT_SETSID", "1")]).0.setsid);
        assert!(parse(&["-c", "--setsid", "x"]).is_err());
        for bad in ["15", "15:", "FOO:1", "1:BAR", ":"] {
            assert!(parse(&["-r", bad, "x"]).is_err(), "{bad}");
        }
    }

    #[test]
    fn pause_mode() {
        let (_, cmds) = cfg(&["-P"], &[]);
        assert!(cmds.is_empty());
        let e = resolve(&["-P", "sleep", "1"], &[]).expect_err("pause with command");
        assert_eq!(e.to_string(), "--pause takes no command");
        assert!(resolve(&[], &[]).is_err());
        assert!(matches!(
            resolve(&[], &[("NSINIT_PAUSE", "1")]),
            Ok(Action::Run(_, c)) if c.is_empty()
        ));
    }

    #[test]
    fn several_commands() {
        let (_, cmds) = cfg(&["--", "a", "1", ":::", "b", ":::", "c", "-x"], &[]);
        assert_eq!(cmds, [vec!["a", "1"], vec!["b"], vec!["c", "-x"]]);
        for bad in [
            &["a", ":::"][..],
            &[":::", "a"],
            &["a", ":::", ":::", "b"],
            &[":::"],
        ] {
            let e = resolve(bad, &[]).expect_err("empty command");
            assert!(e.to_string().contains("is empty"), "{e}");
        }
    }

    #[test]
    fn own_options_and_defaults() {
        let (c, _) = cfg(&["x"], &[]);
        assert_eq!(c.grace, Duration::from_secs(5));
        assert_eq!(c.exit_grace, Duration::from_millis(100));
        assert_eq!(c.wait, WaitMode::Main);
        assert_eq!(c.exit_on, ExitOn::Main);
        let (c, _) = cfg(
            &[
                "--grace=500ms",
                "--exit-grace=0",
                "--wait=all",
                "--exit-on",
                "first",
                "--pid-file=/p",
                "x",
            ],
            &[],
        );
        assert_eq!(c.grace, Duration::from_millis(500));
        assert_eq!(c.exit_grace, Duration::ZERO);
        assert_eq!(c.wait, WaitMode::All);
        assert_eq!(c.exit_on, ExitOn::First);
        assert_eq!(c.pid_file, Some(PathBuf::from("/p")));
        assert!(parse(&["--grace=soon", "x"]).is_err());
        assert!(parse(&["--wait=some", "x"]).is_err());
        assert!(parse(&["--exit-on=last", "x"]).is_err());
    }

    #[test]
    fn environment_twins() {
        let env = [
            ("NSINIT_GRACE", "2s"),
            ("NSINIT_EXIT_GRACE", "3s"),
            ("NSINIT_WAIT", "all"),
            ("NSINIT_EXIT_ON", "all"),
            ("NSINIT_VERBOSITY", "2"),
            ("NSINIT_WARN_ON_REAP", "yes"),
            ("NSINIT_KILL_PROCESS_GROUP", "1"),
            ("NSINIT_REMAP_EXIT", "1,2"),
            ("NSINIT_REWRITE", "TERM:QUIT USR1:0"),
            ("NSINIT_PDEATHSIG", "TERM"),
            ("NSINIT_PID_FILE", "/run/x.pid"),
            ("NSINIT_SETSID", "1"),
        ];
        let (c, _) = cfg(&["x"], &env);
        assert_eq!(c.grace, Duration::from_secs(2));
        assert_eq!(c.exit_grace, Duration::from_secs(3));
        assert_eq!(c.wait, WaitMode::All);
        assert_eq!(c.exit_on, ExitOn::All);
        assert_eq!(c.verbosity, 2);
        assert!(c.log_reaped && c.process_group && c.setsid);
        assert_eq!(c.success_codes, [1, 2]);
        assert_eq!(c.rewrite, [(15, 3), (10, 0)]);
        assert_eq!(c.parent_death_signal, Some(15));
        assert_eq!(c.pid_file, Some(PathBuf::from("/run/x.pid")));
        // Flags win over the environment.
        let (c, _) = cfg(&["--grace=1s", "-v", "x"], &env);
        assert_eq!(c.grace, Duration::from_secs(1));
        assert_eq!(c.verbosity, 1);
        // tini's variables.
        let (c, _) = cfg(
            &["x"],
            &[
                ("TINI_VERBOSITY", "3"),
                ("TINI_KILL_PROCESS_GROUP", ""),
                ("TINI_SUBREAPER", ""),
            ],
        );
        assert_eq!(c.verbosity, 2);
        assert!(c.process_group);
        // TINI_VERBOSITY is read with atoi(3), as tini does; its 1 is our 0.
        for (v, level) in [
            ("2x", 1),
            ("  3", 2),
            ("abc", 0),
            ("-4", 255),
            ("1", 0),
            ("", 0),
        ] {
            let (c, _) = cfg(&["x"], &[("TINI_VERBOSITY", v)]);
            assert_eq!(c.verbosity, level, "{v:?}");
        }
        // Bad values are errors, named.
        for (k, v) in [
            ("NSINIT_GRACE", "soon"),
            ("NSINIT_WAIT", "x"),
            ("NSINIT_PAUSE", "maybe"),
            ("NSINIT_REWRITE", "1"),
            ("NSINIT_REMAP_EXIT", "300"),
        ] {
            let e = resolve(&["x"], &[(k, v)]).expect_err(k);
            assert!(e.to_string().contains(k), "{e}");
        }
    }

    /// Each option's `[env: …]` in `--help` names the variables the code reads for it, and
    /// each of them means what the flag means.
    #[test]
    fn environment_twins_are_the_help_s() {
        use clap::CommandFactory;
        use std::cell::RefCell;
        use std::collections::BTreeSet;
        // (option, flag, variable, value): the variable set as the value is the flag.
        let twins: &[(&str, &[&str], &str, &str)] = &[
            ("subreaper", &["-s"], "NSINIT_SUBREAPER", "1"),
            ("subreaper", &["-s"], "TINI_SUBREAPER", "0"),
            ("pdeathsig", &["-p", "TERM"], "NSINIT_PDEATHSIG", "TERM"),
            ("verbose", &["-vv"], "NSINIT_VERBOSITY", "2"),
            ("verbose", &["-vv"], "TINI_VERBOSITY", "3"),
            ("warn-on-reap", &["-w"], "NSINIT_WARN_ON_REAP", "on"),
            ("process-group", &["-g"], "NSINIT_KILL_PROCESS_GROUP", "1"),
            ("process-group", &["-g"], "TINI_KILL_PROCESS_GROUP", ""),
            (
                "remap-exit",
                &["-e", "3", "-e4"],
                "NSINIT_REMAP_EXIT",
                "3,4",
            ),
            (
                "rewrite",
                &["-r15:2", "-r", "HUP:0"],
                "NSINIT_REWRITE",
                "TERM:INT 1:0",
            ),
            ("single-child", &["-c"], "NSINIT_SINGLE_CHILD", "1"),
            ("single-child", &["-c"], "DUMB_INIT_SETSID", "0"),
            ("setsid", &["--setsid"], "NSINIT_SETSID", "yes"),
            ("setsid", &["--setsid"], "DUMB_INIT_SETSID", "1"),
            ("pause", &["-P"], "NSINIT_PAUSE", "1"),
            ("grace", &["--grace=2s"], "NSINIT_GRACE", "2s"),
            (
                "exit-grace",
                &["--exit-grace", "0"],
                "NSINIT_EXIT_GRACE",
                "0",
            ),
            ("wait", &["--wait=all"], "NSINIT_WAIT", "all"),
            ("exit-on", &["--exit-on=all"], "NSINIT_EXIT_ON", "all"),
            ("pid-file", &["--pid-file=/p"], "NSINIT_PID_FILE", "/p"),
        ];
        let mut cmd = Cli::command();
        cmd.build();
        let mut documented = BTreeSet::new();
        for a in cmd.get_arguments() {
            let help = a.get_help().map(ToString::to_string).unwrap_or_default();
            let Some((_, rest)) = help.split_once("[env: ") else {
                continue;
            };
            let list = rest.split(']').next().unwrap_or_default();
            for var in list.split(", ") {
                let name = var.split('=').next().unwrap_or_default();
                documented.insert((a.get_long().unwrap_or_default(), name.to_string()));
            }
        }
        let listed: BTreeSet<_> = twins.iter().map(|t| (t.0, t.2.to_string())).collect();
        assert_eq!(documented, listed);
        // Everything the code reads is documented.
        let read = RefCell::new(BTreeSet::new());
        Env::read(&|k| {
            read.borrow_mut().insert(k.to_string());
            None
        })
        .expect("empty environment");
        let names: BTreeSet<String> = listed.into_iter().map(|t| t.1).collect();
        assert_eq!(read.into_inner(), names);
        for &(_, flag, var, val) in twins {
            let cmd: &[&str] = if flag == ["-P"] { &[] } else { &["x"] };
            let by_flag = cfg(&[flag, cmd].concat(), &[]);
            let by_env = cfg(cmd, &[(var, val)]);
            assert_eq!(format!("{by_flag:?}"), format!("{by_env:?}"), "{var}={val}");
        }
    }
}
