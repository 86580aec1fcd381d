//! Build-script helpers of the nsutils tools: what a tool's `build.rs` calls.
//!
//! One piece of the start-up machinery that build/README.md documents as a whole (with the
//! measurements behind it, how to re-measure, and the CI tripwires in `.ci/tripwires`).
//!
//! [`link_unwinder_statically`]: link the unwinder (`libgcc_eh.a`) into a tool's binary, so
//! that it does not load `libgcc_s.so.1` at start-up. Used by nsrun and nsenter, which are
//! started once per command, so their start-up time is their speed. Why: on x86-64
//! `libgcc_s`'s constructor probes the CPU with a series of CPUID instructions, each a VM
//! exit under virtualisation: measured with bench/nsrun/run, the library cost ~170 µs of a
//! ~2.5 ms `nsrun -r true`, more than nsrun's own code. Rust's std links `-lgcc_s` only for
//! its unwinder, which `libgcc_eh.a` provides as well (it is what a `crt-static` build
//! uses); with its symbols defined in the binary, the linker's `--as-needed` drops
//! `libgcc_s`.

use std::path::PathBuf;
use std::process::Command;

/// From a build script: link `libgcc_eh.a` whole into the package's binaries.
///
/// Only the binaries are affected (`rustc-link-arg-bins`), not the library other crates
/// link (e.g. the man page generator). Skipped, leaving the default linking, where it does
/// not apply: other targets than linux-gnu, `crt-static` builds (which link `libgcc_eh`
/// already), or a C compiler that does not know the archive. `.ci/tripwires` fails when the
/// release binaries need `libgcc_s` all the same.
///
/// `NSUTILS_NO_STATIC_UNWINDER=1` in the build's environment skips it too: the build to
/// measure against (build/README.md says how).
pub fn link_unwinder_statically() {
    println!("cargo:rerun-if-env-changed=CC");
    println!("cargo:rerun-if-env-changed=NSUTILS_NO_STATIC_UNWINDER");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("NSUTILS_NO_STATIC_UNWINDER") == "1"
        || var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || var("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|f| f == "crt-static")
    {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let Ok(out) = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
    else {
        return;
    };
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    // An unknown file is echoed back as a bare name: only an existing absolute path counts.
    if out.status.success() && path.is_absolute() && path.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--whole-archive,{},--no-whole-archive",
            path.display()
        );
    }
}
