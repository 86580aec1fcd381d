//! [`NsFlags`]: the namespace flags as clap arguments, built from the kind table.

use std::path::PathBuf;

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

#[cfg(test)]
mod tests {
    use super::super::test_support::{parse, T};
    use super::*;

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

    #[test]
    fn implied_kinds() {
        let mut f = NsFlags::default();
        f.imply(NsKind::Mnt);
        f.imply(NsKind::Mnt);
        assert_eq!(f.kinds(), [NsKind::Mnt]);
    }
}
