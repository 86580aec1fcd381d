//! Value parsers: `ip netns` names, PIDs, fds, signals (and their names), durations, signed
//! clock offsets, users and groups. Strings in, values or a one-line message out; no
//! syscalls beyond name lookups.

use std::time::Duration;

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
