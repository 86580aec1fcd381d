//! `/proc/PID/mountinfo`: the mount table of a mount namespace, one line per mount.
//!
//! Only the fields the tools need are kept: the mount id, parent id, device, root within the
//! filesystem, the mount point (octal escapes such as `\040` decoded), the filesystem type and
//! the source. For nsfs bind mounts (persisted namespaces such as `/run/netns/NAME`) the root
//! is `net:[4026532177]`: [`Mount::nsfs_target`] turns that into the kind and the inode.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use crate::kind::NsKind;

/// One line of a mountinfo file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Unique id of the mount.
    pub id: u32,
    /// Id of the parent mount.
    pub parent: u32,
    /// `major:minor` of the filesystem.
    pub dev: String,
    /// The root of the mount within its filesystem (decoded).
    pub root: PathBuf,
    /// The mount point relative to the reader's root (decoded).
    pub mount_point: PathBuf,
    /// Filesystem type (`nsfs`, `proc`, `ext4`, …).
    pub fstype: String,
    /// Mount source (decoded).
    pub source: PathBuf,
}

impl Mount {
    /// For an nsfs mount: the kind and inode of the namespace it persists.
    pub fn nsfs_target(&self) -> Option<(NsKind, u64)> {
        if self.fstype != "nsfs" {
            return None;
        }
        parse_ns_link(self.root.as_os_str().as_encoded_bytes())
    }
}

/// Parse the `net:[4026532177]` form that nsfs uses for link targets and mount roots.
pub fn parse_ns_link(s: &[u8]) -> Option<(NsKind, u64)> {
    let open = s.iter().position(|&b| b == b'[')?;
    let name = s.get(..open)?.strip_suffix(b":")?;
    let rest = s.get(open + 1..)?.strip_suffix(b"]")?;
    let kind = NsKind::from_name(std::str::from_utf8(name).ok()?)?;
    let ino = std::str::from_utf8(rest).ok()?.parse().ok()?;
    Some((kind, ino))
}

/// Decode the octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash)
/// the kernel uses for whitespace in mountinfo fields.
pub fn unescape(field: &str) -> PathBuf {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            let oct = &b[i + 1..i + 4];
            if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let v = u32::from(oct[0] - b'0') * 64
                    + u32::from(oct[1] - b'0') * 8
                    + u32::from(oct[2] - b'0');
                if let Ok(byte) = u8::try_from(v) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    PathBuf::from(OsString::from_vec(out))
}

/// Parse one mountinfo line; `None` for a malformed one.
pub fn parse_line(line: &str) -> Option<Mount> {
    let (pre, post) = line.split_once(" - ")?;
    let mut f = pre.split(' ');
    let id = f.next()?.parse().ok()?;
    let parent = f.next()?.parse().ok()?;
    let dev = f.next()?.to_string();
    let root = unescape(f.next()?);
    let mount_point = unescape(f.next()?);
    let mut g = post.split(' ');
    let fstype = g.next()?.to_string();
    let source = unescape(g.next().unwrap_or(""));
    Some(Mount {
        id,
        parent,
        dev,
        root,
        mount_point,
        fstype,
        source,
    })
}

/// Parse a whole mountinfo text, skipping malformed lines.
pub fn parse(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_line).collect()
}

/// The mounts of our own mount namespace (`/proc/self/mountinfo`).
pub fn read_self() -> std::io::Result<Vec<Mount>> {
    Ok(parse(&std::fs::read_to_string("/proc/self/mountinfo")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_nsfs_bind_mount() {
        let m =
            parse_line("612 29 0:4 net:[4026532177] /run/netns/blue rw shared:310 - nsfs nsfs rw")
                .expect("parse");
        assert_eq!(m.id, 612);
        assert_eq!(m.parent, 29);
        assert_eq!(m.mount_point, PathBuf::from("/run/netns/blue"));
        assert_eq!(m.nsfs_target(), Some((NsKind::Net, 4026532177)));
    }

    #[test]
    fn decodes_escapes_and_ignores_optional_fields() {
        let m = parse_line(
            "1 2 8:1 / /mnt/a\\040b\\134c rw,relatime master:1 shared:2 - ext4 /dev/sda1 rw",
        )
        .expect("parse");
        assert_eq!(m.mount_point, PathBuf::from("/mnt/a b\\c"));
        assert_eq!(m.fstype, "ext4");
        assert_eq!(m.nsfs_target(), None);
    }

    #[test]
    fn ns_links() {
        assert_eq!(
            parse_ns_link(b"user:[4026531837]"),
            Some((NsKind::User, 4026531837))
        );
        assert_eq!(parse_ns_link(b"socket:[123]"), None);
        assert_eq!(parse_ns_link(b"/dev/null"), None);
        assert_eq!(parse_ns_link(b"net:[x]"), None);
        assert!(parse(&std::fs::read_to_string("/proc/self/mountinfo").expect("read")).len() > 1);
    }
}
