//! The steps: resolve the flags and the environment, then hand over to the init loop.

use nsutils_common::exit::Outcome;
use nsutils_common::reaper;
use nsutils_common::spawn::Program;
use nsutils_common::Result;

use crate::cli::{Action, Cli};

/// The licence notice of `-l`.
const LICENSE: &str = "nsinit is part of nsutils, licensed under the MIT licence or the \
Apache License 2.0, at your option.\n";

/// Run nsinit with what the user typed.
pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.resolve(&|k| std::env::var(k).ok())? {
        Action::License => {
            print!("{LICENSE}");
            Ok(Outcome::Code(0))
        }
        Action::Run(cfg, commands) => {
            reaper::run(&cfg, commands.into_iter().map(Program::command).collect())
        }
    }
}
