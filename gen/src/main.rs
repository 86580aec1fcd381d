//! nsutils-gen: writes the man pages and shell completions of the four tools.
//!
//! Everything about options comes from each tool's `command()` (its full clap definition), so
//! the pages and completions cannot drift from the parser. The prose a reader expects and clap
//! cannot produce (DESCRIPTION, EXIT STATUS, EXAMPLES, differences, SEE ALSO) lives in
//! `man/<tool>.roff` and is merged around the generated OPTIONS. The Makefile runs this at
//! build time; nothing generated is committed.

#![forbid(unsafe_code)]

mod complete;
mod man;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Generate the nsutils man pages and shell completions.
#[derive(Debug, Parser)]
#[command(name = "nsutils-gen", version, about)]
struct Cli {
    /// Write the man pages (NAME.SECTION) into DIR
    #[arg(long, value_name = "DIR")]
    man: Option<PathBuf>,
    /// Write bash, zsh and fish completions into DIR/bash, DIR/zsh, DIR/fish
    #[arg(long, value_name = "DIR")]
    completions: Option<PathBuf>,
    /// Directory of the hand-written man page sections
    #[arg(long, value_name = "DIR", default_value = "man")]
    man_src: PathBuf,
    /// Prepended to every installed command name (as `make install BIN_PREFIX=`)
    #[arg(long, value_name = "PREFIX", default_value = "")]
    bin_prefix: String,
    /// Installed name of nsenter (default: BIN_PREFIX + nsenter); util-linux owns `nsenter`
    #[arg(long, value_name = "NAME")]
    nsenter_name: Option<String>,
    /// Directory holding a link named `nsenter` to the renamed one (mentioned in the page)
    #[arg(long, value_name = "DIR")]
    alias_dir: Option<String>,
}

/// One tool: its upstream name, man section, clap definition, and the name it is installed as.
#[derive(Debug)]
pub struct Tool {
    /// The tool's own name: the crate, the `man/<name>.roff` fragment, the `@name@` placeholder.
    pub name: &'static str,
    /// Man section: nsls is an administration tool like lsns(8), the others are section 1.
    pub section: &'static str,
    /// The installed command name, which may differ (BIN_PREFIX, the nsenter rename).
    pub installed: String,
    /// The clap definition, renamed to the installed name.
    pub command: clap::Command,
}

/// The four tools, with the names `make install` gives them.
fn tools(bin_prefix: &str, nsenter_name: Option<&str>) -> Vec<Tool> {
    let p = bin_prefix;
    let defs: [(&'static str, &'static str, clap::Command); 4] = [
        ("nsrun", "1", nsrun::command()),
        ("nsenter", "1", nsenter::command()),
        ("nsls", "8", nsls::command()),
        ("nsinit", "1", nsinit::command()),
    ];
    defs.into_iter()
        .map(|(name, section, command)| {
            let installed = match (name, nsenter_name) {
                ("nsenter", Some(n)) => n.to_owned(),
                _ => format!("{p}{name}"),
            };
            // The synopsis and the completions must show what the user types. clap wants a
            // 'static name unless its `string` feature is on, which would then be unified into
            // the tools' own builds; four leaked names in a one-shot generator cost nothing.
            let leaked: &'static str = Box::leak(installed.clone().into_boxed_str());
            let command = command.name(leaked).bin_name(leaked);
            Tool {
                name,
                section,
                installed,
                command,
            }
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.man.is_none() && cli.completions.is_none() {
        eprintln!("nsutils-gen: nothing to do: give --man DIR and/or --completions DIR");
        return ExitCode::from(2);
    }
    let tools = tools(&cli.bin_prefix, cli.nsenter_name.as_deref());
    let result = (|| -> Result<(), String> {
        if let Some(dir) = &cli.man {
            man::write_all(&tools, &cli.man_src, cli.alias_dir.as_deref(), dir)?;
        }
        if let Some(dir) = &cli.completions {
            complete::write_all(&tools, dir)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nsutils-gen: {e}");
            ExitCode::FAILURE
        }
    }
}
