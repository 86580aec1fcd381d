//! Shell completions: bash, zsh and fish scripts from the clap definitions.
//!
//! File names follow what each shell's loader looks for: `bash/NAME` (bash-completion loads
//! by command name), `zsh/_NAME` (`#compdef` functions), `fish/NAME.fish`.

use std::fs;
use std::path::Path;

use clap_complete::Shell;

use crate::Tool;

/// Write the three scripts of every tool under `dir/{bash,zsh,fish}/`.
pub fn write_all(tools: &[Tool], dir: &Path) -> Result<(), String> {
    for (shell, sub) in [
        (Shell::Bash, "bash"),
        (Shell::Zsh, "zsh"),
        (Shell::Fish, "fish"),
    ] {
        let out = dir.join(sub);
        fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        for tool in tools {
            let name = &tool.installed;
            let file = match shell {
                Shell::Zsh => format!("_{name}"),
                Shell::Fish => format!("{name}.fish"),
                _ => name.clone(),
            };
            let mut buf = Vec::new();
            let mut cmd = tool.command.clone();
            clap_complete::generate(shell, &mut cmd, name.as_str(), &mut buf);
            let path = out.join(file);
            fs::write(&path, buf).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(())
}
