//! What the nsinit test files share: where python3 and nsinit are, and the checks that skip
//! (through the harness) when a program a test needs is missing.

// Each test file uses a part of this.
#![allow(dead_code)]

use std::path::PathBuf;

/// Debian's python3 (not a pyenv shim): the recording children and the pty drivers.
pub const PY: &str = "/usr/bin/python3";

/// The nsinit under test.
pub fn nsinit() -> PathBuf {
    harness::bin("nsinit")
}

/// Whether /usr/bin/python3 is here; skips otherwise.
pub fn need_python() -> bool {
    if std::path::Path::new(PY).is_file() {
        return true;
    }
    harness::skip("needs /usr/bin/python3 (Debian package python3)");
    false
}

/// Whether every program is on PATH; skips otherwise.
pub fn need_programs(progs: &[&str]) -> bool {
    for p in progs {
        if !harness::have(p) {
            harness::skip(format!("needs {p} (Debian package of the same name)"));
            return false;
        }
    }
    true
}
