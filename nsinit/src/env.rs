//! The environment twins of the flags, for runtimes that cannot pass flags: `NSINIT_*`, and
//! the anchors' own variables read the way the anchors read them (`TINI_SUBREAPER`,
//! `TINI_VERBOSITY`, `TINI_KILL_PROCESS_GROUP`, `DUMB_INIT_SETSID`). Each option's `--help`
//! names its twins (`[env: …]`); a unit test of `cli` holds the two together.
//!
//! Every variable is read and checked, even when its flag wins: a typo should not hide.

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use nsutils_common::cli::{parse_duration, parse_signal};
use nsutils_common::{Error, Result};

use crate::cli::{parse_rewrite, ExitOnArg, WaitArg};

/// What the environment says, for each option (`None`, `false`, empty: nothing).
#[derive(Debug, Default)]
pub struct Env {
    /// `NSINIT_SUBREAPER`, `TINI_SUBREAPER` (no effect, as `-s`).
    pub subreaper: bool,
    /// `NSINIT_PDEATHSIG`.
    pub pdeathsig: Option<i32>,
    /// `NSINIT_VERBOSITY`, else `TINI_VERBOSITY` (one more than ours).
    pub verbosity: Option<u8>,
    /// `NSINIT_WARN_ON_REAP`.
    pub warn_on_reap: bool,
    /// `NSINIT_KILL_PROCESS_GROUP`, `TINI_KILL_PROCESS_GROUP`.
    pub process_group: bool,
    /// `NSINIT_REMAP_EXIT`.
    pub remap_exit: Vec<u8>,
    /// `NSINIT_REWRITE`.
    pub rewrite: Vec<(i32, i32)>,
    /// `NSINIT_SETSID`, else `NSINIT_SINGLE_CHILD` (on: no setsid), else `DUMB_INIT_SETSID`.
    pub setsid: Option<bool>,
    /// `NSINIT_PAUSE`.
    pub pause: bool,
    /// `NSINIT_GRACE`.
    pub grace: Option<Duration>,
    /// `NSINIT_EXIT_GRACE`.
    pub exit_grace: Option<Duration>,
    /// `NSINIT_WAIT`.
    pub wait: Option<WaitArg>,
    /// `NSINIT_EXIT_ON`.
    pub exit_on: Option<ExitOnArg>,
    /// `NSINIT_PID_FILE` (empty: none).
    pub pid_file: Option<PathBuf>,
}

/// How the environment is read: `std::env::var(name).ok()` in the tool, a map in tests.
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Env {
    /// Read and check every variable; the first bad one is the error, named.
    pub fn read(env: Vars) -> Result<Env> {
        Ok(Env {
            // tini reads its variables without validating them: set at all is on
            // (TINI_SUBREAPER=0 too), TINI_VERBOSITY with atoi(3).
            subreaper: boolean(env, "NSINIT_SUBREAPER")? || env("TINI_SUBREAPER").is_some(),
            pdeathsig: value(env, "NSINIT_PDEATHSIG", parse_signal)?,
            verbosity: verbosity(env)?,
            warn_on_reap: boolean(env, "NSINIT_WARN_ON_REAP")?,
            process_group: boolean(env, "NSINIT_KILL_PROCESS_GROUP")?
                || env("TINI_KILL_PROCESS_GROUP").is_some(),
            remap_exit: list(env, "NSINIT_REMAP_EXIT", parse_code)?,
            rewrite: list(env, "NSINIT_REWRITE", parse_rewrite)?,
            setsid: setsid(env)?,
            pause: boolean(env, "NSINIT_PAUSE")?,
            grace: value(env, "NSINIT_GRACE", parse_duration)?,
            exit_grace: value(env, "NSINIT_EXIT_GRACE", parse_duration)?,
            wait: value(env, "NSINIT_WAIT", value_enum::<WaitArg>)?,
            exit_on: value(env, "NSINIT_EXIT_ON", value_enum::<ExitOnArg>)?,
            pid_file: env("NSINIT_PID_FILE")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        })
    }
}

/// `NSINIT_VERBOSITY`, else tini's `TINI_VERBOSITY`: read with atoi(3) into an unsigned int
/// (so -1 is the most verbose), its levels starting at 1 (warnings) where ours start at 0.
fn verbosity(env: Vars) -> Result<Option<u8>> {
    let ours = value(env, "NSINIT_VERBOSITY", |s| {
        s.trim()
            .parse::<u8>()
            .map_err(|_| format!("invalid verbosity '{s}': expected a number"))
    })?;
    let tini = env("TINI_VERBOSITY").map(|s| {
        let v = atoi(&s) as u32;
        u8::try_from(v.max(1) - 1).unwrap_or(u8::MAX)
    });
    Ok(ours.or(tini))
}

/// Whether the command leads its own session, by the environment: `NSINIT_SETSID`, else
/// `NSINIT_SINGLE_CHILD=1` (no), else dumb-init's `DUMB_INIT_SETSID`, where "0" is off and any
/// other value on (`yes`, empty and ` 0` included).
fn setsid(env: Vars) -> Result<Option<bool>> {
    let single = boolean_or_unset(env, "NSINIT_SINGLE_CHILD")?;
    let ours = boolean_or_unset(env, "NSINIT_SETSID")?;
    let dumb = env("DUMB_INIT_SETSID").map(|v| v != "0");
    Ok(ours.or((single == Some(true)).then_some(false)).or(dumb))
}

/// A boolean variable of ours: 1/true/yes/on, 0/false/no/off/empty.
fn boolean_or_unset(env: Vars, name: &str) -> Result<Option<bool>> {
    let Some(v) = env(name) else {
        return Ok(None);
    };
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(Some(true)),
        "" | "0" | "false" | "no" | "off" => Ok(Some(false)),
        _ => Err(Error::msg(format!(
            "invalid {name} '{v}': expected 1 or 0 (true/false, yes/no, on/off)"
        ))),
    }
}

/// [`boolean_or_unset`], unset being off.
fn boolean(env: Vars, name: &str) -> Result<bool> {
    Ok(boolean_or_unset(env, name)?.unwrap_or(false))
}

/// A value of ours, parsed with the same parser as its flag.
fn value<T>(
    env: Vars,
    name: &str,
    parse: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<Option<T>> {
    match env(name) {
        None => Ok(None),
        Some(v) => parse(&v)
            .map(Some)
            .map_err(|e| Error::msg(format!("{name}: {e}"))),
    }
}

/// A comma- or space-separated list of values.
fn list<T>(
    env: Vars,
    name: &str,
    parse: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<Vec<T>> {
    let Some(v) = env(name) else {
        return Ok(Vec::new());
    };
    v.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).map_err(|e| Error::msg(format!("{name}: {e}"))))
        .collect()
}

/// glibc's `atoi`, as tini reads TINI_VERBOSITY: leading white space, an optional sign, the
/// digits up to the first other character (0 when there are none), saturated to a `long` as
/// `strtol` does, then truncated to an `int`.
fn atoi(s: &str) -> i32 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    // Truncated, as glibc's atoi is (int) strtol(s, NULL, 10).
    (if neg { -n } else { n }) as i32
}

/// An exit code of `NSINIT_REMAP_EXIT`.
fn parse_code(s: &str) -> std::result::Result<u8, String> {
    s.trim()
        .parse::<u8>()
        .map_err(|_| format!("invalid exit code '{s}': expected 0 to 255"))
}

/// A `--wait` or `--exit-on` value, in any case.
fn value_enum<T: ValueEnum>(s: &str) -> std::result::Result<T, String> {
    T::from_str(s.trim(), true).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!("invalid value '{s}': expected one of {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_as_glibc() {
        assert_eq!(atoi("99999999999999999999999"), -1);
        assert_eq!(atoi("4294967298"), 2);
        assert_eq!(atoi("\t+7 "), 7);
        assert_eq!(atoi("2x"), 2);
        assert_eq!(atoi("abc"), 0);
    }
}
