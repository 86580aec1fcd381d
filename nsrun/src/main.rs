//! The `nsrun` binary: everything lives in the library so that man pages and completions
//! can be generated from the same clap definition.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    nsrun::main()
}
