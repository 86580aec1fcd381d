//! The CONTAINER column: which runtime's container a process is in, and its id or name,
//! read from the process's cgroup path (`/proc/PID/cgroup`), where runtimes name their
//! containers:
//!
//! | path component | shown as |
//! |---|---|
//! | `libpod-ID.scope` (systemd), `libpod-ID` (cgroupfs) | `podman:ID` |
//! | `docker-ID.scope`, `docker/ID` | `docker:ID` |
//! | `cri-containerd-ID.scope` | `containerd:ID` |
//! | `crio-ID.scope` | `cri-o:ID` |
//! | `kubepods…/pod…/ID` (cgroupfs driver) | `kubepods:ID` |
//! | `runc-ID.scope` | `runc:ID` |
//! | `machine.slice/machine-NAME.scope` | `nspawn:NAME` (systemd's `\x2d` escapes undone) |
//! | `lxc.payload.NAME`, `lxc/NAME` | `lxc:NAME` |
//!
//! Where the cgroup path names none (a host without systemd, where `systemd-nspawn
//! --keep-unit` leaves the payload in `…/payload`; rootless podman on cgroup v1, which makes
//! no cgroup), the process's environment may: the `container=` variable of the systemd
//! container interface (`systemd-nspawn`, `podman`, `lxc`, …) gives the runtime, and
//! `container_uuid` (nspawn) or `HOSTNAME` (podman: the short id unless `--hostname`) the id.
//!
//! A 64-digit hex id is shortened to 12, as `podman ps` and `docker ps` show it (both
//! accept it). The monitors (`libpod-conmon-ID`, `crio-conmon-ID`, `lxc.monitor.NAME`) are
//! not the container. The innermost match of a path wins; the cgroup v2 line is read first,
//! then v1's `name=systemd`, then the other v1 hierarchies (a hybrid host, like this one,
//! may name the container in only some of them).

/// The container of the process whose `/proc/PID/cgroup` reads `text`, as `RUNTIME:ID`.
pub fn from_cgroup(text: &str) -> Option<String> {
    let mut paths: Vec<(u8, &str)> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctl, path) = (f.next()?, f.next()?, f.next()?);
            let rank = match ctl {
                "" => 0,
                "name=systemd" => 1,
                _ => 2,
            };
            Some((rank, path))
        })
        .collect();
    paths.sort_by_key(|&(rank, _)| rank);
    paths.into_iter().find_map(|(_, p)| from_path(p))
}

/// The container named by a process's environment (`/proc/PID/environ`, NUL-separated),
/// as `RUNTIME:ID` or `RUNTIME` alone.
pub fn from_environ(env: &[u8]) -> Option<String> {
    let var = |name: &str| {
        env.split(|&b| b == 0).find_map(|kv| {
            let v = kv.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
            (!v.is_empty()).then(|| String::from_utf8_lossy(v).into_owned())
        })
    };
    let runtime = match var("container")?.as_str() {
        "systemd-nspawn" => "nspawn".to_string(),
        other => other.to_string(),
    };
    match var("container_uuid").or_else(|| var("HOSTNAME")) {
        Some(id) => Some(format!("{runtime}:{}", short(&id))),
        None => Some(runtime),
    }
}

/// The container a cgroup path names, innermost component first.
pub fn from_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    (0..parts.len()).rev().find_map(|i| component(&parts[..=i]))
}

/// The container the last of `parts` names, looking at its ancestors where the runtime
/// names the container by its place (`docker/ID`, `kubepods/…/pod…/ID`, `lxc/NAME`).
fn component(parts: &[&str]) -> Option<String> {
    let (&c, up) = parts.split_last()?;
    let parent = up.last().copied().unwrap_or("");
    let scope = c.strip_suffix(".scope");
    let name = scope.unwrap_or(c);
    for (prefix, runtime, monitor) in [
        ("libpod-", "podman", "libpod-conmon-"),
        ("docker-", "docker", ""),
        ("cri-containerd-", "containerd", ""),
        ("crio-", "cri-o", "crio-conmon-"),
        ("runc-", "runc", ""),
    ] {
        if !monitor.is_empty() && name.starts_with(monitor) {
            return None;
        }
        if let Some(id) = name.strip_prefix(prefix) {
            // podman's cgroupfs manager drops the .scope; the others are systemd scopes.
            if (scope.is_some() || runtime == "podman") && is_id(id) {
                return Some(format!("{runtime}:{}", short(id)));
            }
        }
    }
    if parent == "docker" && is_id(c) {
        return Some(format!("docker:{}", short(c)));
    }
    if parent.starts_with("pod") && up.iter().any(|p| p.starts_with("kubepods")) && is_id(c) {
        return Some(format!("kubepods:{}", short(c)));
    }
    if let Some(m) = scope.and_then(|s| s.strip_prefix("machine-")) {
        if parent == "machine.slice" && !m.is_empty() {
            return Some(format!("nspawn:{}", unescape(m)));
        }
    }
    if let Some(n) = c
        .strip_prefix("lxc.payload.")
        .or(if parent == "lxc" { Some(c) } else { None })
    {
        if !n.is_empty() {
            return Some(format!("lxc:{n}"));
        }
    }
    None
}

/// A container id: hex, at least 12 digits.
fn is_id(s: &str) -> bool {
    s.len() >= 12 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The 12-digit form of a full 64-digit id.
fn short(id: &str) -> &str {
    if id.len() == 64 {
        &id[..12]
    } else {
        id
    }
}

/// Undo systemd's unit-name escaping (`\x2d` for `-` and the like).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            if let Some(v) = s
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "a4710693ccdc780a501276dc9df11396b9b1c3949e4456315bb36675702136b5";

    fn hybrid(path: &str) -> String {
        // This machine's shape: v1 controllers and name=systemd, and an empty v2 line.
        format!(
            "9:name=systemd:{path}\n8:pids:{path}\n4:memory:/process_api/026dc9d7\n1:cpu:{path}\n0::/\n"
        )
    }

    #[test]
    fn podman() {
        // Root podman with --cgroup-manager cgroupfs, as seen on this machine.
        let t = hybrid(&format!("/libpod_parent/libpod-{ID}"));
        assert_eq!(from_cgroup(&t).as_deref(), Some("podman:a4710693ccdc"));
        // Its monitor is not the container.
        assert_eq!(from_cgroup(&hybrid("/libpod_parent/conmon")), None);
        // systemd manager, cgroup v2, and --cgroups=split's sub-cgroup.
        let v2 = format!("0::/machine.slice/libpod-{ID}.scope/container\n");
        assert_eq!(from_cgroup(&v2).as_deref(), Some("podman:a4710693ccdc"));
        let conmon = format!("0::/machine.slice/libpod-conmon-{ID}.scope\n");
        assert_eq!(from_cgroup(&conmon), None);
        // Rootless podman on cgroup v1 cannot make cgroups: nothing to tell.
        assert_eq!(
            from_cgroup(&hybrid("/user.slice/user-1000.slice/session-1.scope")),
            None
        );
    }

    #[test]
    fn docker_containerd_crio_kubepods_runc() {
        let cases = [
            (format!("0::/system.slice/docker-{ID}.scope"), "docker:a4710693ccdc"),
            (format!("12:memory:/docker/{ID}"), "docker:a4710693ccdc"),
            (
                format!("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_5678.slice/cri-containerd-{ID}.scope"),
                "containerd:a4710693ccdc",
            ),
            (
                format!("0::/kubepods.slice/kubepods-pod12.slice/crio-{ID}.scope"),
                "cri-o:a4710693ccdc",
            ),
            (
                format!("11:pids:/kubepods/burstable/pod0f5a8c4e-2b9b-4d8e-9a53-6f3b0e1f2a7c/{ID}"),
                "kubepods:a4710693ccdc",
            ),
            (format!("0::/system.slice/runc-{ID}.scope"), "runc:a4710693ccdc"),
        ];
        for (text, want) in &cases {
            assert_eq!(from_cgroup(text).as_deref(), Some(*want), "{text}");
        }
        // Not ids, not scopes, or monitors: nothing.
        for text in [
            "0::/system.slice/docker.service",
            "0::/system.slice/docker-nothex.scope",
            "0::/system.slice/runc-abc",
            "0::/kubepods.slice/kubepods-pod12.slice/crio-conmon-0123456789abcdef.scope",
            "0::/docker",
            "0::/",
            "",
        ] {
            assert_eq!(from_cgroup(text), None, "{text}");
        }
    }

    #[test]
    fn nspawn_and_lxc() {
        let t = hybrid("/machine.slice/machine-my\\x2dbox.scope/payload");
        assert_eq!(from_cgroup(&t).as_deref(), Some("nspawn:my-box"));
        let t = "0::/machine.slice/machine-test.scope/init.scope\n";
        assert_eq!(from_cgroup(t).as_deref(), Some("nspawn:test"));
        assert_eq!(from_cgroup("0::/machine.slice\n"), None);
        assert_eq!(
            from_cgroup("0::/lxc.payload.web1/init.scope\n").as_deref(),
            Some("lxc:web1")
        );
        assert_eq!(
            from_cgroup("5:cpu:/lxc/web2\n").as_deref(),
            Some("lxc:web2")
        );
        assert_eq!(from_cgroup("0::/lxc.monitor.web1\n"), None);
    }

    #[test]
    fn environment() {
        // systemd-nspawn --keep-unit on this machine (no systemd): /payload, and this.
        let nspawn = b"PATH=/bin\0container=systemd-nspawn\0container_uuid=a61b8798-cb28-4a02\0";
        assert_eq!(
            from_environ(nspawn).as_deref(),
            Some("nspawn:a61b8798-cb28-4a02")
        );
        let podman = b"TERM=xterm\0container=podman\0HOSTNAME=ea242848077b\0HOME=/\0";
        assert_eq!(from_environ(podman).as_deref(), Some("podman:ea242848077b"));
        assert_eq!(from_environ(b"container=lxc\0").as_deref(), Some("lxc"));
        assert_eq!(
            from_environ(b"HOSTNAME=x\0mycontainer=podman\0container=\0"),
            None
        );
        assert_eq!(from_environ(b""), None);
    }

    #[test]
    fn v2_line_wins_then_name_systemd() {
        let t = format!("9:name=systemd:/docker/{ID}\n0::/machine.slice/machine-a.scope\n");
        assert_eq!(from_cgroup(&t).as_deref(), Some("nspawn:a"));
        // The innermost component wins: a podman container inside an nspawn machine.
        let t = format!("0::/machine.slice/machine-a.scope/payload/libpod-{ID}\n");
        assert_eq!(from_cgroup(&t).as_deref(), Some("podman:a4710693ccdc"));
        assert_eq!(unescape("a\\x2db\\x"), "a-b\\x");
    }
}
