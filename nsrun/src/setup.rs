//! The steps inside the new namespaces: time offsets, the maps nsrun writes itself,
//! hostname and domain name, loopback, and — in the process that runs the command — root
//! and working directory, `/proc` and binfmt_misc mounts, user and group, capabilities and
//! the environment.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;

use nix::fcntl::{openat, OFlag};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::Mode;
use nsutils_common::creds;
use nsutils_common::idmap::{MapKind, ProcRoot};
use nsutils_common::safefile::{self, Dir};
use nsutils_common::{sys, Error, Result};

use crate::plan::Plan;

/// Write `--monotonic`/`--boottime` to `/proc/self/timens_offsets`, before any process
/// enters the new time namespace (the kernel refuses afterwards).
pub fn time_offsets(plan: &Plan) -> Result<()> {
    let mut text = String::new();
    for (name, off) in [("monotonic", plan.monotonic), ("boottime", plan.boottime)] {
        if let Some(o) = off {
            text.push_str(&format!("{name} {} {}\n", o.secs, o.nanos));
        }
    }
    if text.is_empty() {
        return Ok(());
    }
    std::fs::write("/proc/self/timens_offsets", text)
        .map_err(|e| Error::os("cannot write /proc/self/timens_offsets", e))
}

/// The single-id maps nsrun writes for itself (`setgroups` was written before).
pub fn own_maps(plan: &Plan) -> Result<()> {
    let proc_root = ProcRoot::default();
    for (kind, m) in [
        (MapKind::Uid, &plan.maps.uid),
        (MapKind::Gid, &plan.maps.gid),
    ] {
        if let Some(m) = m.as_ref().filter(|m| !m.by_helper) {
            proc_root.write_map(None, kind, &m.map)?;
        }
    }
    Ok(())
}

/// Hostname and NIS domain name of the new UTS namespace.
pub fn uts(plan: &Plan) -> Result<()> {
    if let Some(h) = &plan.hostname {
        nix::unistd::sethostname(h)
            .map_err(|e| Error::errno(format!("cannot set hostname to {h}"), e))?;
    }
    if let Some(d) = &plan.domainname {
        sys::setdomainname(d.as_bytes())
            .map_err(|e| Error::os(format!("cannot set domain name to {d}"), e))?;
    }
    Ok(())
}

/// `lo` up in the new network namespace.
pub fn loopback() -> Result<()> {
    sys::set_loopback_up()
        .map_err(|e| Error::os("cannot bring up the loopback interface", e))
        .map_err(|e| e.hint("use --no-loopback to leave it down"))
}

/// Mount a fresh `fstype` on the directory `dir`, opened with [`Dir`]'s walk and never through
/// a symlink as its last component; the mount goes onto that directory (as the working
/// directory, `.`), not onto the path again. Returns the new mount's root.
fn mount_fs(fstype: &str, dir: &Path) -> Result<Dir> {
    let what = || format!("cannot mount {fstype} on {}", dir.display());
    let (parent, name) = Dir::parent_of(dir, what)?;
    let (target, target_id) = parent.open_dir_entry(&name, dir, what)?;
    let cwd = safefile::open_dir_fd(".").map_err(|e| Error::errno(what(), e))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let res = nix::unistd::fchdir(target.fd())
        .and_then(|()| mount(Some(fstype), ".", Some(fstype), flags, None::<&str>))
        .map_err(|e| Error::errno(what(), e))
        .and_then(|()| {
            // The name now leads to the new mount's root (a lookup crosses mount points).
            let (root, root_id) = parent.open_dir_entry(&name, dir, what)?;
            if root_id == target_id {
                return Err(Error::msg(format!("{}: the mount went elsewhere", what())));
            }
            // As unshare does: the new mount itself is private, whatever --propagation said.
            nix::unistd::fchdir(root.fd())
                .and_then(|()| {
                    mount(
                        None::<&str>,
                        ".",
                        None::<&str>,
                        MsFlags::MS_PRIVATE | MsFlags::MS_REC,
                        None::<&str>,
                    )
                })
                .map_err(|e| Error::errno(format!("cannot make {} private", dir.display()), e))?;
            Ok(root)
        });
    nix::unistd::fchdir(&cwd)
        .map_err(|e| Error::errno("cannot return to the working directory", e))?;
    res
}

/// `chdir` into a directory the user named (`what` names the step in errors), resolved by
/// [`Dir::open`]'s walk: a symlink on the way is followed only where the kernel's
/// protected_symlinks rule would.
fn change_dir(dir: &Path, what: impl Fn() -> String) -> Result<()> {
    let d = Dir::open_as(dir, &what)?;
    nix::unistd::fchdir(d.fd()).map_err(|e| Error::errno(what(), e))
}

/// Root and working directory, then the filesystems mounted for the command (after the
/// fork, so `/proc` shows the new PID namespace; after chroot, so they land inside it).
pub fn filesystems(plan: &Plan) -> Result<()> {
    let cd = |wd: &Path| format!("cannot change directory to {}", wd.display());
    if let Some(root) = &plan.root {
        let what = || format!("cannot change root to {}", root.display());
        change_dir(root, what)?;
        nix::unistd::chroot(".").map_err(|e| Error::errno(what(), e))?;
        let wd = plan.wd.as_deref().unwrap_or(Path::new("/"));
        change_dir(wd, || cd(wd))?;
    } else if let Some(wd) = &plan.wd {
        change_dir(wd, || cd(wd))?;
    }
    if let Some(dir) = &plan.mount_proc {
        mount_fs("proc", dir)?;
    }
    if let Some(dir) = &plan.mount_binfmt {
        let root = mount_fs("binfmt_misc", dir)?;
        if let Some(interp) = &plan.load_interp {
            // In the binfmt_misc just mounted, whatever `dir` leads to by now.
            let reg = dir.join("register");
            let what = || format!("cannot register an interpreter in {}", reg.display());
            let fd = openat(
                root.fd(),
                "register",
                OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| Error::errno(what(), e))?;
            std::fs::File::from(fd)
                .write_all(interp.as_bytes())
                .map_err(|e| Error::os(what(), e))?;
        }
    }
    Ok(())
}

/// `--setgid` (without supplementary groups), `--setuid`, `--keep-caps`, as
/// `nsutils_common::creds` sets them; an unmapped id gets nsrun's own hint.
pub fn identity(plan: &Plan) -> Result<()> {
    let denied = || {
        plan.proc_dir
            .as_ref()
            .is_some_and(|p| creds::setgroups_denied(p.as_fd()))
    };
    plan.creds
        .apply(denied)
        .map_err(|e| {
            match e.raw_os_error() {
        Some(libc::EINVAL) => e.hint(
            "the id is not mapped in the user namespace: map it with --map-user(s)/--map-group(s)",
        ),
        _ => e,
    }
        })
}

/// `--clear-env`, `--whitelist-env`. The process is single-threaded, so changing the
/// environment is sound.
pub fn environment(plan: &Plan) {
    if !plan.env.clear && plan.env.keep.is_empty() {
        return;
    }
    for (k, _) in std::env::vars_os() {
        let keep = k
            .to_str()
            .is_some_and(|k| plan.env.keep.iter().any(|w| w == k));
        if !keep {
            std::env::remove_var(&k);
        }
    }
}
