//! Man pages: the generated title, NAME, SYNOPSIS and OPTIONS merged with the hand-written
//! sections of `man/<tool>.roff`.
//!
//! A fragment is roff. Its line `.\" @OPTIONS@` marks where the generated OPTIONS sections go
//! (after DESCRIPTION, as man-pages(7) orders them). `@nsrun@`, `@nsenter@`, `@nsls@` and
//! `@nsinit@` are replaced by the installed command names, so that examples and SEE ALSO stay
//! right when a tool is installed under another name (BIN_PREFIX, the nsenter rename).
//! `@ABBREVIATIONS@` becomes the list of abbreviations the tool resolves the way util-linux
//! does although its own extra options make them ambiguous (its hidden aliases), so the page
//! cannot drift from the parser there either.

use std::fs;
use std::path::Path;

use clap_mangen::Man;

use crate::Tool;

/// The line in a fragment that the generated OPTIONS replace.
const OPTIONS_MARKER: &str = ".\\\" @OPTIONS@";

/// Sections every page must have; a fragment lacking one is a build error, not a thin page.
const REQUIRED: [&str; 4] = ["DESCRIPTION", "EXIT STATUS", "EXAMPLES", "SEE ALSO"];

/// Write `dir/<installed>.<section>` for every tool.
/// `alias_dir`, when given, holds a link with the upstream name of a renamed nsenter.
pub fn write_all(
    tools: &[Tool],
    src: &Path,
    alias_dir: Option<&str>,
    dir: &Path,
) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for tool in tools {
        let page = render(tool, tools, src, alias_dir)?;
        let path = dir.join(format!("{}.{}", tool.installed, tool.section));
        fs::write(&path, page).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn render(
    tool: &Tool,
    tools: &[Tool],
    src: &Path,
    alias_dir: Option<&str>,
) -> Result<String, String> {
    let frag_path = src.join(format!("{}.roff", tool.name));
    let mut frag = fs::read_to_string(&frag_path)
        .map_err(|e| format!("cannot read {}: {e}", frag_path.display()))?;
    for t in tools {
        frag = frag.replace(&format!("@{}@", t.name), &escape_roff(&t.installed));
    }
    frag = frag.replace("@ABBREVIATIONS@", &abbreviation_list(&tool.command));
    for section in REQUIRED {
        let heading = |l: &str| {
            l.strip_prefix(".SH ")
                .is_some_and(|h| h.trim().trim_matches('"') == section)
        };
        if !frag.lines().any(heading) {
            return Err(format!("{}: no `.SH {section}` line", frag_path.display()));
        }
    }
    let Some((before, after)) = split_at_marker(&frag) else {
        return Err(format!(
            "{}: no `{OPTIONS_MARKER}` line",
            frag_path.display()
        ));
    };

    let version = tool.command.get_version().unwrap_or_default().to_owned();
    let manual = if tool.section == "8" {
        "System Administration"
    } else {
        "User Commands"
    };
    let man = Man::new(tool.command.clone())
        .title(tool.installed.to_uppercase())
        .section(tool.section)
        .date(page_date())
        .source(format!("nsutils {version}"))
        .manual(manual);

    let mut out = Vec::new();
    let io = |e: std::io::Error| format!("rendering {}: {e}", tool.name);
    man.render_title(&mut out).map_err(io)?;
    man.render_name_section(&mut out).map_err(io)?;
    out.extend_from_slice(synopsis(&tool.command).as_bytes());
    out.extend_from_slice(before.as_bytes());
    if tool.installed != tool.name {
        out.extend_from_slice(rename_note(tool, alias_dir).as_bytes());
    }
    man.render_options_section(&mut out).map_err(io)?;
    out.extend_from_slice(after.as_bytes());
    String::from_utf8(out).map_err(|e| format!("rendering {}: {e}", tool.name))
}

/// SYNOPSIS: every visible option with its value as the parser takes it —
/// `[-m|--mount[=FILE]]`, `[--map-user UID|NAME]` — and the positionals; clap_mangen's own
/// drops the values.
fn synopsis(cmd: &clap::Command) -> String {
    let mut cmd = cmd.clone();
    cmd.build();
    let mut s = format!(".SH SYNOPSIS\n\\fB{}\\fR", escape_roff(cmd.get_name()));
    // In --help's order (an option given an alias is moved to the end of the list).
    let mut opts: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
        .collect();
    opts.sort_by_key(|a| a.get_display_order());
    for a in opts {
        let mut names = Vec::new();
        if let Some(c) = a.get_short() {
            names.push(format!("\\fB\\-{}\\fR", escape_roff(&c.to_string())));
        }
        if let Some(l) = a.get_long() {
            names.push(format!("\\fB\\-\\-{}\\fR", escape_roff(l)));
        }
        // \% keeps roff from hyphenating an option across lines.
        s.push_str(&format!(" \\%[{}{}]", names.join("|"), value_spec(a)));
    }
    for a in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let name = value_name(a);
        let many = a.get_num_args().is_some_and(|n| n.max_values() > 1);
        let rest = if many { " [\\fIARG\\fR...]" } else { "" };
        s.push_str(&format!(" \\%[\\fI{name}\\fR{rest}]"));
    }
    s.push('\n');
    s
}

/// How an option takes its value: ` VALUE`, `=VALUE` (required, after `=`), `[=VALUE]`
/// (optional, only after `=`), ` [VALUE]`, or nothing for a flag.
fn value_spec(a: &clap::Arg) -> String {
    let Some(n) = a.get_num_args().filter(|n| n.takes_values()) else {
        return String::new();
    };
    let name = format!("\\fI{}\\fR", value_name(a));
    match (a.is_require_equals_set(), n.min_values() == 0) {
        (true, true) => format!("[={name}]"),
        (true, false) => format!("={name}"),
        (false, true) => format!(" [{name}]"),
        (false, false) => format!(" {name}"),
    }
}

/// The value name clap shows for an argument (its id in capitals without one).
fn value_name(a: &clap::Arg) -> String {
    let name = match a.get_value_names() {
        Some(names) if !names.is_empty() => names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => a.get_id().as_str().to_uppercase(),
    };
    escape_roff(&name)
}

/// The abbreviations taken as util-linux takes them although our extra options make them
/// ambiguous — the hidden aliases `nsutils_common::cli::abbreviations` gave the options — as
/// roff: `--f, --fo, --for (--fork); --h (--help)`.
fn abbreviation_list(cmd: &clap::Command) -> String {
    let mut args: Vec<&clap::Arg> = cmd.get_arguments().collect();
    args.sort_by_key(|a| a.get_display_order());
    let opt = |s: &str| format!("\\fB\\-\\-{}\\fR", escape_roff(s));
    let items: Vec<String> = args
        .into_iter()
        .filter_map(|a| {
            let long = a.get_long()?;
            let aliases = a.get_aliases().filter(|v| !v.is_empty())?;
            let list: Vec<String> = aliases.iter().map(|p| opt(p)).collect();
            Some(format!("{} ({})", list.join(", "), opt(long)))
        })
        .collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join("; ")
    }
}

/// The fragment before and after the marker line (the marker itself dropped).
fn split_at_marker(frag: &str) -> Option<(&str, &str)> {
    let start = frag.find(&format!("\n{OPTIONS_MARKER}\n"))? + 1;
    let end = start + OPTIONS_MARKER.len() + 1;
    Some((&frag[..start], &frag[end..]))
}

/// Why the command on this system has another name than the page's prose uses.
fn rename_note(tool: &Tool, alias_dir: Option<&str>) -> String {
    let mut s = format!(
        ".PP\nOn this system \\fB{}\\fR is installed as \\fB{}\\fR",
        tool.name,
        escape_roff(&tool.installed)
    );
    if tool.name != "nsenter" {
        s.push_str(".\n");
        return s;
    }
    s.push_str(
        ", so that it does not replace util-linux's\n.BR nsenter (1).\n\
         Its messages still begin with \\(lqnsenter:\\(rq.\n",
    );
    if let Some(dir) = alias_dir {
        let dir = escape_roff(dir);
        s.push_str(&format!(
            "A link named \\fBnsenter\\fR to it is in\n.IR {dir} ;\n\
             scripts written for this \\fBnsenter\\fR can put that directory first in\n\
             .BR PATH .\n"
        ));
    }
    s
}

/// roff treats `-` as a hyphen; command names need the ASCII minus that can be typed.
fn escape_roff(s: &str) -> String {
    s.replace('-', "\\-")
}

/// The page date as YYYY-MM-DD: SOURCE_DATE_EPOCH when set (reproducible builds; the Makefile
/// sets it from the last commit, dpkg-buildpackage from debian/changelog), else today. It
/// must not be empty: an empty `.TH` argument shifts the footer fields.
fn page_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
        });
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
    }

    /// Every page renders from the real `command()`s and fragments, lists every visible long
    /// option of its tool, and has no placeholder left; a renamed nsenter is named as such.
    #[test]
    fn pages_cover_every_option() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../man");
        let tools = crate::tools("", Some("nsutils-nsenter"));
        for tool in &tools {
            let page =
                render(tool, &tools, &src, Some("/usr/lib/nsutils/bin")).expect("page renders");
            for arg in tool.command.get_arguments().filter(|a| !a.is_hide_set()) {
                if let Some(long) = arg.get_long() {
                    let roff = format!("\\-\\-{}", long.replace('-', "\\-"));
                    assert!(page.contains(&roff), "{}: --{long} missing", tool.name);
                }
            }
            for placeholder in [
                "@nsrun@",
                "@nsenter@",
                "@nsls@",
                "@nsinit@",
                "@ABBREVIATIONS@",
            ] {
                assert!(!page.contains(placeholder), "{}: {placeholder}", tool.name);
            }
            assert!(page.starts_with(".ie") || page.starts_with(".TH"));
        }
        let nsenter = render(&tools[1], &tools, &src, None).expect("page renders");
        assert!(nsenter.contains(".TH NSUTILS-NSENTER 1"));
        assert!(nsenter.contains("installed as \\fBnsutils\\-nsenter\\fR"));
        let nsrun = render(&tools[0], &tools, &src, None).expect("page renders");
        assert!(
            nsrun.contains(
                "\\fB\\-\\-f\\fR, \\fB\\-\\-fo\\fR, \\fB\\-\\-for\\fR (\\fB\\-\\-fork\\fR)"
            ),
            "the abbreviations unshare resolves are listed"
        );
        assert!(
            nsenter.contains("(\\fB\\-\\-net\\fR)"),
            "nsenter --ne is listed"
        );
        let nsls = render(&tools[2], &tools, &src, None).expect("page renders");
        assert!(
            nsls.contains("nsutils\\-nsenter \\-t"),
            "examples use the installed name"
        );
    }

    /// The SYNOPSIS shows every visible option with the value it takes, in the form the
    /// parser accepts (`[=FILE]` only after `=`).
    #[test]
    fn synopsis_shows_values() {
        let tools = crate::tools("", None);
        for tool in &tools {
            let syn = synopsis(&tool.command);
            let mut cmd = tool.command.clone();
            cmd.build();
            for a in cmd
                .get_arguments()
                .filter(|a| !a.is_hide_set() && !a.is_positional())
            {
                let Some(long) = a.get_long() else { continue };
                let opt = format!("\\-\\-{}\\fR", escape_roff(long));
                let at = syn.find(&format!("{opt}]")).or_else(|| syn.find(&opt));
                let at = at.unwrap_or_else(|| panic!("{}: --{long} missing: {syn}", tool.name));
                if a.get_num_args().is_some_and(|n| n.takes_values()) {
                    let after = &syn[at + opt.len()..];
                    assert!(
                        after.starts_with(" \\fI")
                            || after.starts_with("[=\\fI")
                            || after.starts_with("=\\fI")
                            || after.starts_with(" [\\fI"),
                        "{}: --{long} has no value: {after}",
                        tool.name
                    );
                }
            }
        }
        let nsrun = synopsis(&tools[0].command);
        assert!(
            nsrun.contains("[\\fB\\-n\\fR|\\fB\\-\\-net\\fR[=\\fIFILE\\fR]]"),
            "{nsrun}"
        );
        assert!(
            nsrun.contains("[\\fB\\-\\-map\\-user\\fR \\fIUID|NAME\\fR]"),
            "{nsrun}"
        );
        assert!(
            nsrun.contains("[\\fICOMMAND\\fR [\\fIARG\\fR...]]"),
            "{nsrun}"
        );
    }

    #[test]
    fn marker_split() {
        let f = ".SH DESCRIPTION\ntext\n.\\\" @OPTIONS@\n.SH EXAMPLES\n";
        let (a, b) = split_at_marker(f).expect("marker present");
        assert_eq!(a, ".SH DESCRIPTION\ntext\n");
        assert_eq!(b, ".SH EXAMPLES\n");
        assert!(split_at_marker(".SH DESCRIPTION\n").is_none());
    }
}
