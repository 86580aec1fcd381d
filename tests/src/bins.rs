//! Where the tests find our binaries, and that they are the ones the sources make.
//!
//! Binaries are found by path — `$NSUTILS_BIN_DIR`, else `target/debug` of the workspace
//! (or `$CARGO_TARGET_DIR/debug`) — never through `PATH`: our `nsenter` has util-linux's
//! name. Cargo does not build another package's binaries for a test, so a plain
//! `cargo test` after an edit would run the binaries of before. [`bin`] therefore checks, once
//! per test process, that every tool is there and newer than its sources (its package's
//! `src/` and `build.rs`, `common/src/`, and `build/src/` for the tools that link through
//! it); if not, it runs `cargo build --workspace` itself, as the README's test command
//! does, and fails if that does not help. With `$NSUTILS_BIN_DIR` set (binaries from
//! elsewhere, e.g. installed ones) nothing is built or checked but their existence.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::cmd::Cmd;

/// Our four tools, by binary name.
pub const TOOLS: [&str; 4] = ["nsrun", "nsenter", "nsls", "nsinit"];

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The directory holding the built binaries.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("NSUTILS_BIN_DIR") {
        return PathBuf::from(d);
    }
    target_dir().join("debug")
}

/// The build directory: `$CARGO_TARGET_DIR`, else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The path of one of our binaries (`nsrun`, `nsenter`, `nsls`, `nsinit`), built first if
/// it is missing or older than its sources (see the module header).
#[track_caller]
pub fn bin(name: &str) -> PathBuf {
    static FRESH: OnceLock<Result<(), String>> = OnceLock::new();
    if std::env::var_os("NSUTILS_BIN_DIR").is_none() {
        if let Err(e) = FRESH.get_or_init(ensure_fresh) {
            panic!("{e}");
        }
    }
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "{} is missing: build the binaries first (cargo build --workspace)",
        p.display()
    );
    p
}

/// The newest source file of tool `name`, if any.
fn newest_source(name: &str) -> Option<(SystemTime, PathBuf)> {
    let root = workspace_root();
    let pkg = root.join(name);
    let mut dirs = vec![pkg.join("src"), root.join("common/src")];
    if pkg.join("build.rs").is_file() {
        dirs.push(root.join("build/src"));
    }
    let mut files = vec![pkg.join("build.rs")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files
        .into_iter()
        .filter_map(|f| Some((f.metadata().ok()?.modified().ok()?, f)))
        .max()
}

/// What is wrong with the built tools: missing, or older than a source (which one).
fn stale_tools() -> Vec<String> {
    TOOLS
        .iter()
        .filter_map(|t| {
            let built = bin_dir().join(t).metadata().and_then(|m| m.modified());
            let Ok(built) = built else {
                return Some(format!("{t} is missing"));
            };
            let (newest, file) = newest_source(t)?;
            (newest > built).then(|| format!("{t} is older than {}", file.display()))
        })
        .collect()
}

/// Build the tools when one is missing or stale; an error says what is still wrong.
fn ensure_fresh() -> Result<(), String> {
    let stale = stale_tools();
    if stale.is_empty() {
        return Ok(());
    }
    eprintln!(
        "harness: {}: running cargo build --workspace",
        stale.join("; ")
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Cmd::new(cargo)
        .args(["build", "--workspace", "--manifest-path"])
        .arg(workspace_root().join("Cargo.toml"))
        .timeout(Duration::from_secs(1800))
        .run();
    if !out.status.success() {
        return Err(format!(
            "the binaries are not up to date ({}) and cargo build --workspace failed:{out:?}",
            stale.join("; ")
        ));
    }
    let still = stale_tools();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "after cargo build --workspace: {} (a source file dated in the future?)",
            still.join("; ")
        ))
    }
}

/// A copy of our binaries in a directory every user can traverse, for running them as
/// another user (the work tree may sit under a directory only root can enter).
pub fn bin_for_nobody(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    bin(name); // built and up to date, before it is copied
    let dir = DIR.get_or_init(|| {
        let dir = nobody_bin_dir();
        std::fs::create_dir_all(&dir).expect("create bin copy dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        for tool in TOOLS {
            let src = bin_dir().join(tool);
            let Ok(src_md) = src.metadata() else { continue };
            let dst = dir.join(tool);
            let fresh = dst
                .metadata()
                .is_ok_and(|d| d.len() == src_md.len() && d.mtime() >= src_md.mtime());
            if fresh {
                continue;
            }
            // Copy then rename: test processes running at the same time never see a half
            // written binary (and a running one keeps its old inode).
            let tmp = dir.join(format!(".{tool}.{}", std::process::id()));
            std::fs::copy(&src, &tmp).expect("copy binary");
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            std::fs::rename(&tmp, &dst).expect("rename binary");
        }
        dir
    });
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} is missing: build the binaries first",
        p.display()
    );
    p
}

/// Where [`bin_for_nobody`] keeps its copies: `nsutils-test-bin` next to the build
/// directory when every directory above it lets others through (then `cargo clean` removes
/// it with the rest), else `/tmp/nsutils-test-bin-HASH` — one per build directory, not per
/// test process, refreshed in place, left behind for the next run (~85 MB of debug
/// binaries; the README says so).
pub fn nobody_bin_dir() -> PathBuf {
    let build = bin_dir();
    let reachable = build
        .ancestors()
        .skip(1)
        .all(|d| d.metadata().is_ok_and(|m| m.mode() & 0o001 != 0));
    match build.parent() {
        Some(target) if reachable => target.join("nsutils-test-bin"),
        _ => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            build.hash(&mut h);
            std::env::temp_dir().join(format!("nsutils-test-bin-{:016x}", h.finish()))
        }
    }
}
