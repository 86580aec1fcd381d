//! The optional-value trap: `--net /path cmd` runs `/path`, as util-linux does
//! ([`value_trap`] finds it), and a failed exec of that command says why
//! ([`ValueTrap::explain`]).

use std::ffi::OsString;

use crate::error::Error;
use crate::exit::{NOT_EXECUTABLE, NOT_FOUND};
use crate::kind::NsKind;

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

#[cfg(test)]
mod tests {
    use super::super::abbreviations;
    use super::super::test_support::{raw, T};
    use super::*;

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
}
