//! util-linux's abbreviated long options ([`abbreviations`]): any unambiguous prefix, and
//! the anchor tool's choice where our extra options make a prefix ambiguous.

/// Every long option name of `cmd`, hidden ones included, and the `--help`/`--version` clap
/// adds when it builds the command.
pub(super) fn long_names(cmd: &clap::Command) -> Vec<&str> {
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{abbrev, abbrev_cmd};

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
}
