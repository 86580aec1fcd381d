//! User and group id maps.
//!
//! Parsing and printing the forms users type (`inner:outer:count`, the legacy util-linux
//! `outer,inner,count`), the map algebra (a single id wins over a range it overlaps: the range
//! loses that id; overlapping ranges are an error), the `/etc/subuid` and `/etc/subgid`
//! lookup (exact match on the user's name or numeric id only — root must never pick up
//! another user's line), and writing `setgroups`, `uid_map` and `gid_map` either directly or
//! through `newuidmap`/`newgidmap`. The `/proc` root is injectable ([`ProcRoot`]) so unit
//! tests check exactly what is written.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The kernel's limit on lines in one map (Linux 4.15+).
pub const MAX_LINES: usize = 340;
/// The kernel accepts one write of less than a page.
pub const MAX_BYTES: usize = 4095;

/// One line of a map: ids `inner..inner+count` in the new namespace are
/// `outer..outer+count` in the parent's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IdRange {
    /// First id inside the namespace.
    pub inner: u32,
    /// First id in the parent namespace.
    pub outer: u32,
    /// Number of ids (at least 1).
    pub count: u32,
}

fn parse_u32(s: &str, what: &str) -> std::result::Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| format!("invalid {what} '{s}': expected a number from 0 to 4294967295"))
}

impl IdRange {
    /// Parse `inner:outer:count`, or the legacy `outer,inner,count` of util-linux < 2.40.
    pub fn parse(s: &str) -> std::result::Result<IdRange, String> {
        let (parts, legacy): (Vec<&str>, bool) = if s.contains(':') {
            (s.split(':').collect(), false)
        } else {
            (s.split(',').collect(), true)
        };
        if parts.len() != 3 {
            return Err(format!(
                "invalid id map '{s}': expected INNER:OUTER:COUNT (or OUTER,INNER,COUNT)"
            ));
        }
        let (inner, outer) = if legacy {
            (
                parse_u32(parts[1], "inner id")?,
                parse_u32(parts[0], "outer id")?,
            )
        } else {
            (
                parse_u32(parts[0], "inner id")?,
                parse_u32(parts[1], "outer id")?,
            )
        };
        let count = parse_u32(parts[2], "count")?;
        IdRange::new(inner, outer, count).map_err(|e| format!("invalid id map '{s}': {e}"))
    }

    /// A range, checked: count ≥ 1 and neither side runs past 2^32 - 1.
    pub fn new(inner: u32, outer: u32, count: u32) -> std::result::Result<IdRange, String> {
        if count == 0 {
            return Err("count must be at least 1".into());
        }
        let end = u64::from(u32::MAX);
        if u64::from(inner) + u64::from(count) > end + 1
            || u64::from(outer) + u64::from(count) > end + 1
        {
            return Err("range runs past the largest id 4294967295".into());
        }
        Ok(IdRange {
            inner,
            outer,
            count,
        })
    }

    fn inner_end(&self) -> u64 {
        u64::from(self.inner) + u64::from(self.count)
    }

    fn outer_end(&self) -> u64 {
        u64::from(self.outer) + u64::from(self.count)
    }

    fn overlaps(&self, other: &IdRange) -> bool {
        let inner =
            u64::from(self.inner) < other.inner_end() && u64::from(other.inner) < self.inner_end();
        let outer =
            u64::from(self.outer) < other.outer_end() && u64::from(other.outer) < self.outer_end();
        inner || outer
    }

    /// This range without the id at `offset` from its start: up to two ranges.
    fn without_offset(&self, offset: u32) -> impl Iterator<Item = IdRange> {
        let before = (offset > 0).then_some(IdRange {
            inner: self.inner,
            outer: self.outer,
            count: offset,
        });
        let after = (offset + 1 < self.count).then(|| IdRange {
            inner: self.inner + offset + 1,
            outer: self.outer + offset + 1,
            count: self.count - offset - 1,
        });
        before.into_iter().chain(after)
    }
}

impl fmt::Display for IdRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.inner, self.outer, self.count)
    }
}

/// A whole uid or gid map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdMap {
    ranges: Vec<IdRange>,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> IdMap {
        IdMap::default()
    }

    /// Whether the map has no lines.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The lines, in the order they were added.
    pub fn ranges(&self) -> &[IdRange] {
        &self.ranges
    }

    /// Add a range; an overlap with an existing line (inside or outside) is an error, as the
    /// kernel would refuse it.
    pub fn add_range(&mut self, r: IdRange) -> std::result::Result<(), String> {
        if let Some(o) = self.ranges.iter().find(|o| o.overlaps(&r)) {
            return Err(format!("id map {r} overlaps {o}"));
        }
        self.ranges.push(r);
        Ok(())
    }

    /// Add a single id that wins over any range it overlaps: ranges lose the ids `inner` (in
    /// the namespace) and `outer` (outside) and are split around them.
    pub fn add_single(&mut self, inner: u32, outer: u32) {
        let mut out = Vec::with_capacity(self.ranges.len() + 2);
        for r in self.ranges.drain(..) {
            let mut pieces = vec![r];
            for (id, by_inner) in [(inner, true), (outer, false)] {
                pieces = pieces
                    .into_iter()
                    .flat_map(|p| {
                        let start = if by_inner { p.inner } else { p.outer };
                        let hit =
                            id >= start && u64::from(id) < u64::from(start) + u64::from(p.count);
                        let v: Vec<IdRange> = if hit {
                            p.without_offset(id - start).collect()
                        } else {
                            vec![p]
                        };
                        v
                    })
                    .collect();
            }
            out.extend(pieces);
        }
        out.insert(
            0,
            IdRange {
                inner,
                outer,
                count: 1,
            },
        );
        self.ranges = out;
    }

    /// The kernel's `uid_map` text: one `inner outer count` line per range. Fails past the
    /// kernel's limits (340 lines, one page).
    pub fn to_kernel_format(&self) -> std::result::Result<String, String> {
        if self.ranges.len() > MAX_LINES {
            return Err(format!(
                "id map has {} lines; the kernel accepts at most {MAX_LINES}",
                self.ranges.len()
            ));
        }
        let text: String = self
            .ranges
            .iter()
            .map(|r| format!("{} {} {}\n", r.inner, r.outer, r.count))
            .collect();
        if text.len() > MAX_BYTES {
            return Err(format!(
                "id map is {} bytes; the kernel accepts at most {MAX_BYTES}",
                text.len()
            ));
        }
        Ok(text)
    }

    /// Parse the kernel's format (as read from `/proc/PID/uid_map`).
    pub fn parse_kernel_format(text: &str) -> std::result::Result<IdMap, String> {
        let mut map = IdMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 3 {
                return Err(format!("malformed id map line '{line}'"));
            }
            let r = IdRange::new(
                parse_u32(f[0], "inner id")?,
                parse_u32(f[1], "outer id")?,
                parse_u32(f[2], "count")?,
            )?;
            map.add_range(r)?;
        }
        Ok(map)
    }

    /// The map a child namespace needs to see every id its parent sees, unchanged
    /// (`--map-users=all`): each parent line `inner outer count` becomes `inner inner count`.
    pub fn identity_of(parent: &IdMap) -> IdMap {
        IdMap {
            ranges: parent
                .ranges
                .iter()
                .map(|r| IdRange {
                    inner: r.inner,
                    outer: r.inner,
                    count: r.count,
                })
                .collect(),
        }
    }

    /// The arguments `newuidmap PID` takes after the PID: `inner outer count …`.
    pub fn helper_args(&self) -> Vec<String> {
        self.ranges
            .iter()
            .flat_map(|r| [r.inner, r.outer, r.count])
            .map(|n| n.to_string())
            .collect()
    }
}

impl fmt::Display for IdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Which map: user ids or group ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    /// `uid_map`, `/etc/subuid`, `newuidmap`.
    Uid,
    /// `gid_map`, `/etc/subgid`, `newgidmap`.
    Gid,
}

impl MapKind {
    /// The file in `/proc/PID/`.
    pub fn proc_file(self) -> &'static str {
        match self {
            MapKind::Uid => "uid_map",
            MapKind::Gid => "gid_map",
        }
    }

    /// The subordinate id file.
    pub fn subid_file(self) -> &'static str {
        match self {
            MapKind::Uid => "/etc/subuid",
            MapKind::Gid => "/etc/subgid",
        }
    }

    /// The setuid helper from the uidmap package.
    pub fn helper(self) -> &'static str {
        match self {
            MapKind::Uid => "newuidmap",
            MapKind::Gid => "newgidmap",
        }
    }
}

/// A subordinate id range from `/etc/subuid` or `/etc/subgid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubIds {
    /// First subordinate id.
    pub start: u32,
    /// How many.
    pub count: u32,
}

/// The first line of a subid file whose owner field is exactly `name` or exactly the decimal
/// `id`. Malformed lines and comments are skipped.
pub fn find_subids(contents: &str, name: Option<&str>, id: u32) -> Option<SubIds> {
    let id_text = id.to_string();
    contents.lines().find_map(|line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let mut f = line.split(':');
        let (owner, start, count) = (f.next()?, f.next()?, f.next()?);
        if f.next().is_some() {
            return None;
        }
        if owner != id_text && Some(owner) != name {
            return None;
        }
        let start = start.trim().parse().ok()?;
        let count: u32 = count.trim().parse().ok()?;
        (count > 0).then_some(SubIds { start, count })
    })
}

/// Where `/proc` is: the real one, or a directory a test made.
#[derive(Debug, Clone)]
pub struct ProcRoot {
    root: PathBuf,
}

impl Default for ProcRoot {
    fn default() -> Self {
        ProcRoot {
            root: PathBuf::from("/proc"),
        }
    }
}

impl ProcRoot {
    /// A `/proc` at another place (for tests).
    pub fn at(root: impl Into<PathBuf>) -> ProcRoot {
        ProcRoot { root: root.into() }
    }

    /// `ROOT/PID/FILE` or `ROOT/self/FILE`.
    pub fn path(&self, pid: Option<i32>, file: &str) -> PathBuf {
        match pid {
            Some(p) => self.root.join(p.to_string()).join(file),
            None => self.root.join("self").join(file),
        }
    }

    fn write_once(&self, path: &Path, text: &str) -> Result<()> {
        // One write(2) call: the kernel parses uid_map and setgroups from a single write.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::os(format!("cannot open {}", path.display()), e))?;
        f.write_all(text.as_bytes())
            .map_err(|e| Error::os(format!("cannot write {}", path.display()), e))
    }

    /// Write `deny` (or `allow`) to `setgroups`. Must happen before an unprivileged process
    /// writes its `gid_map`.
    pub fn write_setgroups(&self, pid: Option<i32>, allow: bool) -> Result<()> {
        let text = if allow { "allow" } else { "deny" };
        self.write_once(&self.path(pid, "setgroups"), text)
    }

    /// Write a map directly (root, or a single id of our own).
    pub fn write_map(&self, pid: Option<i32>, kind: MapKind, map: &IdMap) -> Result<()> {
        let text = map.to_kernel_format().map_err(Error::msg)?;
        let path = self.path(pid, kind.proc_file());
        self.write_once(&path, &text).map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) => e.hint(
                "an unprivileged process can only map its own id; ranges need newuidmap/newgidmap and /etc/subuid, /etc/subgid",
            ),
            _ => e,
        })
    }

    /// Read a map (`/proc/PID/uid_map`).
    pub fn read_map(&self, pid: Option<i32>, kind: MapKind) -> Result<IdMap> {
        let path = self.path(pid, kind.proc_file());
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::os(format!("cannot read {}", path.display()), e))?;
        IdMap::parse_kernel_format(&text)
            .map_err(|e| Error::msg(format!("{}: {e}", path.display())))
    }
}

/// Write the map of process `pid` with the setuid helper (`newuidmap`/`newgidmap`), found as
/// `helper` (a name looked up in PATH, or a path). A missing or failing helper is the tool's
/// own failure (exit 125), named — never confused with "command not found".
pub fn write_map_with_helper(helper: &Path, pid: i32, map: &IdMap) -> Result<()> {
    let out = Command::new(helper)
        .arg(pid.to_string())
        .args(map.helper_args())
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            let err = Error::os(format!("cannot run {}", helper.display()), e);
            if err.raw_os_error() == Some(libc::ENOENT) {
                err.hint("install the uidmap package, which provides newuidmap and newgidmap")
            } else {
                err
            }
        })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let detail = stderr.lines().last().unwrap_or("").trim();
    let status = match out.status.code() {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".to_string(),
    };
    Err(Error::msg(format!(
        "{} {pid} {} failed ({status}){}{}",
        helper.display(),
        map.helper_args().join(" "),
        if detail.is_empty() { "" } else { ": " },
        detail
    ))
    .hint("check /etc/subuid and /etc/subgid: the ranges must be the caller's own"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(inner: u32, outer: u32, count: u32) -> IdRange {
        IdRange::new(inner, outer, count).expect("range")
    }

    #[test]
    fn parse_both_forms() {
        assert_eq!(IdRange::parse("0:1000:1"), Ok(r(0, 1000, 1)));
        assert_eq!(IdRange::parse("1000,0,1"), Ok(r(0, 1000, 1)));
        assert_eq!(IdRange::parse("1:100000:65536"), Ok(r(1, 100_000, 65536)));
        assert_eq!(r(1, 100_000, 65536).to_string(), "1:100000:65536");
    }

    #[test]
    fn parse_rejects_garbage() {
        for bad in [
            "",
            "1:2",
            "1:2:3:4",
            "a:1:1",
            "0:0:0",
            "-1:0:1",
            "4294967295:0:2",
            "1,2",
        ] {
            assert!(IdRange::parse(bad).is_err(), "{bad} accepted");
        }
        let e = IdRange::parse("x:1:1").expect_err("bad");
        assert!(e.contains("inner id 'x'"), "{e}");
    }

    #[test]
    fn overlaps_rejected() {
        let mut m = IdMap::new();
        m.add_range(r(0, 100_000, 1000)).expect("first");
        assert!(m.add_range(r(999, 200_000, 1)).is_err(), "inner overlap");
        assert!(m.add_range(r(5000, 100_999, 1)).is_err(), "outer overlap");
        m.add_range(r(1000, 101_000, 10)).expect("adjacent is fine");
    }

    #[test]
    fn single_punches_holes() {
        let mut m = IdMap::new();
        m.add_range(r(0, 100_000, 65536)).expect("auto");
        m.add_single(0, 1000); // -r over --map-users=auto: the range loses inner 0
        assert_eq!(m.ranges(), &[r(0, 1000, 1), r(1, 100_001, 65535)]);

        let mut m = IdMap::new();
        m.add_range(r(0, 0, 10)).expect("identity");
        m.add_single(5, 1000); // inner 5 removed from the middle
        assert_eq!(m.ranges(), &[r(5, 1000, 1), r(0, 0, 5), r(6, 6, 4)]);

        let mut m = IdMap::new();
        m.add_range(r(0, 995, 10)).expect("range");
        m.add_single(0, 1000); // both inner 0 and outer 1000 (offset 5) are removed
        assert_eq!(m.ranges(), &[r(0, 1000, 1), r(1, 996, 4), r(6, 1001, 4)]);
    }

    #[test]
    fn kernel_format_round_trip_and_limits() {
        let mut m = IdMap::new();
        m.add_range(r(0, 1000, 1)).expect("a");
        m.add_range(r(1, 100_000, 65536)).expect("b");
        let text = m.to_kernel_format().expect("fmt");
        assert_eq!(text, "0 1000 1\n1 100000 65536\n");
        assert_eq!(IdMap::parse_kernel_format(&text), Ok(m.clone()));
        assert_eq!(
            IdMap::parse_kernel_format("         0          0 4294967295\n"),
            Ok(IdMap {
                ranges: vec![r(0, 0, u32::MAX)]
            })
        );
        assert_eq!(m.helper_args(), ["0", "1000", "1", "1", "100000", "65536"]);
        assert_eq!(m.to_string(), "0:1000:1,1:100000:65536");

        let mut big = IdMap::new();
        for i in 0..341 {
            big.add_range(r(i * 2, i * 2, 1)).expect("add");
        }
        assert!(big.to_kernel_format().is_err());
    }

    #[test]
    fn identity_of_parent() {
        let parent = IdMap::parse_kernel_format("0 1000 1\n1 100000 65536\n").expect("p");
        let all = IdMap::identity_of(&parent);
        assert_eq!(all.ranges(), &[r(0, 0, 1), r(1, 1, 65536)]);
    }

    #[test]
    fn subid_lookup_is_exact() {
        let file = "# comment\nalice2:300000:65536\nalice:100000:65536\n1000:200000:10\nbad line\nroot:500000:0\n";
        assert_eq!(
            find_subids(file, Some("alice"), 1001),
            Some(SubIds {
                start: 100_000,
                count: 65536
            })
        );
        assert_eq!(
            find_subids(file, Some("bob"), 1000),
            Some(SubIds {
                start: 200_000,
                count: 10
            })
        );
        assert_eq!(find_subids(file, Some("alic"), 1), None);
        // root's line has count 0 and root's uid 0 matches nobody else's line.
        assert_eq!(find_subids(file, Some("root"), 0), None);
        assert_eq!(find_subids(file, None, 100), None);
    }

    fn fake_proc(tag: &str) -> (PathBuf, ProcRoot) {
        let dir = std::env::temp_dir().join(format!("nsutils-proc-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("42")).expect("mkdir");
        for f in ["setgroups", "uid_map", "gid_map"] {
            std::fs::write(dir.join("42").join(f), "").expect("touch");
        }
        (dir.clone(), ProcRoot::at(dir))
    }

    #[test]
    fn writes_under_a_fake_proc() {
        let (dir, proc_root) = fake_proc("write");
        let mut m = IdMap::new();
        m.add_range(r(0, 1000, 1)).expect("a");
        proc_root
            .write_setgroups(Some(42), false)
            .expect("setgroups");
        proc_root
            .write_map(Some(42), MapKind::Uid, &m)
            .expect("uid_map");
        proc_root
            .write_map(Some(42), MapKind::Gid, &m)
            .expect("gid_map");
        let read = |f: &str| std::fs::read_to_string(dir.join("42").join(f)).expect("read");
        assert_eq!(read("setgroups"), "deny");
        assert_eq!(read("uid_map"), "0 1000 1\n");
        assert_eq!(read("gid_map"), "0 1000 1\n");
        assert_eq!(proc_root.read_map(Some(42), MapKind::Uid).expect("read"), m);
        let err = proc_root
            .write_map(Some(43), MapKind::Uid, &m)
            .expect_err("no such pid dir");
        assert!(err.to_string().starts_with("cannot open "), "{err}");
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn missing_helper_is_named() {
        let m = IdMap::new();
        let err =
            write_map_with_helper(Path::new("/nonexistent/newuidmap"), 1, &m).expect_err("ran");
        assert_eq!(err.exit_code(), None);
        assert!(err.to_string().contains("/nonexistent/newuidmap"), "{err}");
        let err = write_map_with_helper(Path::new("false"), 1, &m).expect_err("ran");
        assert!(err.to_string().contains("failed (exit status 1)"), "{err}");
    }
}

/// Property tests of the map algebra against a brute-force model: a map is the set of
/// (inner, outer) pairs it maps, listed for ranges small enough to enumerate.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    type Pairs = BTreeSet<(u32, u32)>;

    fn pairs(m: &IdMap) -> Pairs {
        m.ranges()
            .iter()
            .flat_map(|r| (0..r.count).map(move |k| (r.inner + k, r.outer + k)))
            .collect()
    }

    fn disjoint(m: &IdMap) -> bool {
        let rs = m.ranges();
        rs.iter()
            .enumerate()
            .all(|(i, a)| rs[i + 1..].iter().all(|b| !a.overlaps(b)))
    }

    /// Small ranges in a small id space, so that they meet often.
    fn small_range() -> impl Strategy<Value = IdRange> {
        (0u32..64, 0u32..64, 1u32..16).prop_map(|(i, o, c)| IdRange::new(i, o, c).expect("small"))
    }

    /// A map built from ranges, skipping the ones that overlap.
    fn small_map() -> impl Strategy<Value = IdMap> {
        proptest::collection::vec(small_range(), 0..8).prop_map(|rs| {
            let mut m = IdMap::new();
            for r in rs {
                let _ = m.add_range(r);
            }
            m
        })
    }

    proptest! {
        /// A single id takes the pairs that share its inner or its outer id out of the
        /// ranges, and nothing else; the result is still a valid (disjoint) map.
        #[test]
        fn single_punches_exactly_the_overlapping_ids(
            m in small_map(),
            singles in proptest::collection::vec((0u32..80, 0u32..80), 1..4),
        ) {
            let mut m = m;
            for (inner, outer) in singles {
                let mut want: Pairs = pairs(&m)
                    .into_iter()
                    .filter(|&(i, o)| i != inner && o != outer)
                    .collect();
                want.insert((inner, outer));
                m.add_single(inner, outer);
                prop_assert_eq!(pairs(&m), want);
                prop_assert_eq!(m.ranges()[0], IdRange { inner, outer, count: 1 });
                prop_assert!(m.ranges().iter().all(|r| r.count >= 1));
                prop_assert!(disjoint(&m));
            }
        }

        /// A range is refused exactly when one of its ids is already mapped, inside or
        /// outside (brute force over the pairs), and a refused range leaves the map alone.
        #[test]
        fn overlap_rejection_matches_brute_force(m in small_map(), r in small_range()) {
            let before = pairs(&m);
            let clash = before.iter().any(|&(i, o)| {
                (r.inner..r.inner + r.count).contains(&i) || (r.outer..r.outer + r.count).contains(&o)
            });
            let mut m2 = m.clone();
            let res = m2.add_range(r);
            prop_assert_eq!(res.is_err(), clash);
            if clash {
                prop_assert_eq!(m2, m);
            } else {
                let mut want = before;
                want.extend((0..r.count).map(|k| (r.inner + k, r.outer + k)));
                prop_assert_eq!(pairs(&m2), want);
            }
        }

        /// The kernel's limits: at most 340 lines and 4095 bytes, both enforced, neither
        /// stricter than the kernel.
        #[test]
        fn kernel_limits(n in 300usize..400, digits in 1u32..=10) {
            // Disjoint single-id lines whose ids have about `digits` digits.
            let base = if digits == 1 { 0 } else { 10u32.pow(digits - 1) };
            let step = if digits == 1 { 1 } else { 2 };
            let mut m = IdMap::new();
            for k in 0..n as u32 {
                let id = base.saturating_add(k * step).min(u32::MAX - 1 - k);
                let _ = m.add_range(IdRange { inner: id, outer: id, count: 1 });
            }
            let lines = m.ranges().len();
            let bytes: usize = m
                .ranges()
                .iter()
                .map(|r| format!("{} {} {}\n", r.inner, r.outer, r.count).len())
                .sum();
            let res = m.to_kernel_format();
            prop_assert_eq!(res.is_ok(), lines <= MAX_LINES && bytes <= MAX_BYTES,
                "{} lines, {} bytes", lines, bytes);
            if let Ok(t) = res {
                prop_assert_eq!(t.len(), bytes);
            }
        }

        /// Kernel format round trip, whatever the spacing the kernel (or a human) used.
        #[test]
        fn kernel_format_round_trips(
            m in small_map(),
            big in proptest::collection::vec((any::<u32>(), any::<u32>(), any::<u32>()), 0..4),
            pad in proptest::collection::vec(0usize..12, 3),
        ) {
            let mut m = m;
            for (i, o, c) in big {
                if let Ok(r) = IdRange::new(i, o, c) {
                    let _ = m.add_range(r);
                }
            }
            let text = m.to_kernel_format().expect("small map within limits");
            prop_assert_eq!(IdMap::parse_kernel_format(&text), Ok(m.clone()));
            // The kernel right-aligns in columns of 10; blank lines are skipped.
            let spaced: String = m
                .ranges()
                .iter()
                .map(|r| {
                    format!("{}{}\t{}{} {}\n\n", " ".repeat(pad[0]), r.inner,
                            " ".repeat(pad[1]), r.outer, r.count)
                })
                .collect();
            prop_assert_eq!(IdMap::parse_kernel_format(&spaced), Ok(m));
        }

        /// Both user forms print and parse back; the legacy form swaps inner and outer.
        #[test]
        fn range_forms_round_trip(i in any::<u32>(), o in any::<u32>(), c in any::<u32>()) {
            match IdRange::new(i, o, c) {
                Ok(r) => {
                    prop_assert_eq!(IdRange::parse(&r.to_string()), Ok(r));
                    prop_assert_eq!(IdRange::parse(&format!("{o},{i},{c}")), Ok(r));
                }
                Err(_) => {
                    let text = format!("{i}:{o}:{c}");
                    prop_assert!(IdRange::parse(&text).is_err());
                }
            }
        }
    }
}
