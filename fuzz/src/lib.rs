//! The bodies of the fuzz targets, shared by the libFuzzer binaries (`fuzz_targets/*.rs`,
//! nightly) and the corpus replay test (`tests/replay.rs`, stable).
//!
//! Each target feeds the bytes to the parsers that take user input — the real functions
//! of `nsutils_common` and of the tools' libraries, never a copy — and checks more than
//! "no panic": round trips (print then parse gives the same value), agreements between two
//! parsers of the same thing (nsinit's fast argument parser against clap, `find_subids` on
//! a whole file against line by line), and the invariants of the id-map algebra against a
//! brute-force model. A failed check panics, which libFuzzer reports as a crash.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use nsutils_common::cli::{
    parse_duration, parse_pid, parse_signal, parse_time_offset, signal_name,
};
use nsutils_common::idmap::{find_subids, IdMap, IdRange, MAX_BYTES, MAX_LINES};
use nsutils_common::mountinfo;

mod safefile;
pub use safefile::safefile;

/// The body of a target: one input.
pub type Target = fn(&[u8]);

/// Every target: its name (the directory of its corpus) and its body.
pub const TARGETS: &[(&str, Target)] = &[
    ("idmap_parse", idmap_parse),
    ("idmap_kernel", idmap_kernel),
    ("idmap_algebra", idmap_algebra),
    ("subids", subids),
    ("signal", signal),
    ("time", time),
    ("pid", pid),
    ("nsenter_target", nsenter_target),
    ("nsinit_args", nsinit_args),
    ("nsls_filter", nsls_filter),
    ("nsls_columns", nsls_columns),
    ("mountinfo", mountinfo_text),
    ("proc_status", proc_status),
    ("safefile", safefile),
];

/// The input as text; the parsers take `&str` (the OS hands them UTF-8 or they refuse).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// `IdRange::parse` (`-m`-style `INNER:OUTER:COUNT`, legacy `OUTER,INNER,COUNT`) and nsrun's
/// `--map-users` values (`auto|subids|all` or a range).
pub fn idmap_parse(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let parsed = IdRange::parse(s);
    if let Ok(r) = parsed {
        assert!(r.count >= 1, "{s:?} gave an empty range");
        assert!(u64::from(r.inner) + u64::from(r.count) <= 1 << 32, "{s:?}");
        assert!(u64::from(r.outer) + u64::from(r.count) <= 1 << 32, "{s:?}");
        assert_eq!(
            IdRange::parse(&r.to_string()),
            Ok(r),
            "{s:?} does not round-trip"
        );
    }
    match nsrun::cli::parse_map_spec(s) {
        Ok(nsrun::cli::MapSpec::Range(r)) => assert_eq!(parsed, Ok(r), "{s:?}"),
        Ok(_) => assert!(matches!(s, "auto" | "subids" | "all"), "{s:?}"),
        Err(_) => assert!(parsed.is_err(), "{s:?}: map spec refused a range"),
    }
}

/// `IdMap::parse_kernel_format` (`/proc/PID/uid_map`) and `to_kernel_format`.
pub fn idmap_kernel(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let Ok(map) = IdMap::parse_kernel_format(s) else {
        return;
    };
    check_disjoint(&map);
    match map.to_kernel_format() {
        Ok(out) => {
            assert!(map.ranges().len() <= MAX_LINES && out.len() <= MAX_BYTES);
            assert_eq!(IdMap::parse_kernel_format(&out).as_ref(), Ok(&map));
        }
        Err(_) => assert!(over_limits(&map), "{map} refused within the limits"),
    }
}

/// Whether a map is past the kernel's limits: more than 340 lines or a page of text.
fn over_limits(map: &IdMap) -> bool {
    let bytes: usize = map
        .ranges()
        .iter()
        .map(|r| format!("{} {} {}\n", r.inner, r.outer, r.count).len())
        .sum();
    map.ranges().len() > MAX_LINES || bytes > MAX_BYTES
}

/// No two lines of a map overlap, inside or outside: what the kernel demands.
fn check_disjoint(map: &IdMap) {
    let end = |start: u32, r: &IdRange| u64::from(start) + u64::from(r.count);
    let rs = map.ranges();
    for (i, a) in rs.iter().enumerate() {
        assert!(a.count >= 1, "empty line in {map}");
        for b in &rs[i + 1..] {
            let inner =
                u64::from(a.inner) < end(b.inner, b) && u64::from(b.inner) < end(a.inner, a);
            let outer =
                u64::from(a.outer) < end(b.outer, b) && u64::from(b.outer) < end(a.outer, a);
            assert!(!inner && !outer, "{a} and {b} overlap in {map}");
        }
    }
}

/// The (inner, outer) pairs a map maps, when it is small enough to list.
fn pairs(map: &IdMap) -> Option<BTreeSet<(u32, u32)>> {
    let total: u64 = map.ranges().iter().map(|r| u64::from(r.count)).sum();
    if total > 512 {
        return None;
    }
    Some(
        map.ranges()
            .iter()
            .flat_map(|r| (0..r.count).map(move |k| (r.inner + k, r.outer + k)))
            .collect(),
    )
}

/// A little reader of the fuzz input, for structured targets.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u32(&mut self) -> Option<u32> {
        let b = self.0.get(..4)?;
        let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        self.0 = &self.0[4..];
        Some(v)
    }
    /// Mostly small ids (so ranges meet and the model can list them), sometimes any u32.
    fn id(&mut self) -> Option<u32> {
        let b = self.u8()?;
        if b >= 0xf0 {
            // Near the top of the id space, where `inner + count` overflows u32.
            Some(u32::MAX - u32::from(b & 0x0f))
        } else if b >= 0xe0 {
            self.u32()
        } else {
            Some(u32::from(b) % 64)
        }
    }
}

/// The id-map algebra: a sequence of `add_range` and `add_single` against a model that
/// lists every mapped pair. A single id replaces every pair that shares its inner or its
/// outer id and touches nothing else; a range is refused exactly when it overlaps a line.
pub fn idmap_algebra(data: &[u8]) {
    let mut b = Bytes(data);
    let mut map = IdMap::new();
    // A bounded number of steps keeps every run fast (the model is quadratic).
    for _ in 0..48 {
        let Some(op) = b.u8() else { return };
        let before = pairs(&map);
        let before_lines = map.ranges().len();
        if op & 1 == 0 {
            let (Some(inner), Some(outer)) = (b.id(), b.id()) else {
                return;
            };
            map.add_single(inner, outer);
            assert_eq!(
                map.ranges()[0],
                IdRange::new(inner, outer, 1).expect("one id")
            );
            // Each old line loses at most two ids, so it becomes at most three pieces.
            assert!(map.ranges().len() <= 1 + 3 * before_lines);
            if let (Some(before), Some(after)) = (before, pairs(&map)) {
                let mut want: BTreeSet<_> = before
                    .into_iter()
                    .filter(|&(i, o)| i != inner && o != outer)
                    .collect();
                want.insert((inner, outer));
                assert_eq!(after, want, "add_single({inner}, {outer})");
            }
        } else {
            let (Some(inner), Some(outer), Some(count)) = (b.id(), b.id(), b.id()) else {
                return;
            };
            let Ok(r) = IdRange::new(inner, outer, count) else {
                assert!(
                    count == 0
                        || u64::from(inner) + u64::from(count) > 1 << 32
                        || u64::from(outer) + u64::from(count) > 1 << 32
                );
                continue;
            };
            let old = map.clone();
            let clash = old.ranges().iter().any(|o| {
                let hit = |a: u32, b: u32| {
                    u64::from(a) < u64::from(b) + u64::from(r.count)
                        && u64::from(b) < u64::from(a) + u64::from(o.count)
                };
                hit(o.inner, r.inner) || hit(o.outer, r.outer)
            });
            match map.add_range(r) {
                Ok(()) => {
                    assert!(!clash, "{r} accepted over {old}");
                    assert_eq!(map.ranges().last(), Some(&r));
                }
                Err(_) => {
                    assert!(clash, "{r} refused by {old}");
                    assert_eq!(map, old, "a refused range changed the map");
                }
            }
            // Against the model too, when both are small.
            if let (Some(before), Some(after)) = (before, pairs(&map)) {
                if map != old {
                    let new: BTreeSet<_> =
                        (0..r.count).map(|k| (r.inner + k, r.outer + k)).collect();
                    // Nothing mapped before shares an inner or an outer id with the range.
                    assert!(!before.iter().any(|&(i, o)| {
                        (r.inner..=r.inner + (r.count - 1)).contains(&i)
                            || (r.outer..=r.outer + (r.count - 1)).contains(&o)
                    }));
                    assert_eq!(after, before.union(&new).copied().collect());
                }
            }
        }
        check_disjoint(&map);
        // The kernel's limits, and the round trip through its format.
        match map.to_kernel_format() {
            Ok(t) => {
                assert!(map.ranges().len() <= MAX_LINES && t.len() <= MAX_BYTES);
                assert_eq!(IdMap::parse_kernel_format(&t).as_ref(), Ok(&map));
            }
            Err(_) => assert!(over_limits(&map), "{map} refused within the limits"),
        }
    }
}

/// `/etc/subuid` lookup. The first two lines of the input are the user's name and id; the
/// rest is the file. nsrun looks the file up line by line (every line that is the user's):
/// the first line it finds must be the one `find_subids` finds in the whole text.
pub fn subids(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let mut parts = s.splitn(3, '\n');
    let name = parts.next().filter(|n| !n.is_empty());
    let id = parts.next().and_then(|i| i.parse().ok()).unwrap_or(1000);
    let contents = parts.next().unwrap_or("");
    let whole = find_subids(contents, name, id);
    let first_line = contents.lines().find_map(|l| find_subids(l, name, id));
    assert_eq!(whole, first_line, "whole file and line by line disagree");
    if let Some(r) = whole {
        assert!(r.count > 0);
    }
}

/// Signal names and numbers (`-s`, `--kill-child=`, `-p`), and nsinit's `-r S:R` pairs.
pub fn signal(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Ok(n) = parse_signal(s) {
        assert!((1..=libc::SIGRTMAX()).contains(&n), "{s:?} gave {n}");
        assert_eq!(parse_signal(&signal_name(n)), Ok(n), "{s:?}: name of {n}");
    }
    if let Ok((from, to)) = nsinit::cli::parse_rewrite(s) {
        assert!(from >= 1 && to >= 0, "{s:?} gave {from}:{to}");
    }
}

/// `--timeout`, `--grace` (durations) and `--monotonic`/`--boottime` (signed offsets).
pub fn time(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let _ = parse_duration(s);
    if let Ok(off) = parse_time_offset(s) {
        assert!((0..1_000_000_000).contains(&off.nanos), "{s:?}: {off:?}");
    }
}

/// PIDs (`-t`, `--target`, `-p`).
pub fn pid(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Ok(p) = parse_pid(s) {
        assert!(p > 0);
        assert_eq!(parse_pid(&p.to_string()), Ok(p));
    }
}

/// nsenter's `-t PID` and `-t PID:INODE` (a PID pinned to its pidfs inode).
pub fn nsenter_target(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let Ok(t) = nsenter::parse_target(s) else {
        return;
    };
    assert!(t.pid > 0, "{s:?}: {t:?}");
    let printed = match t.inode {
        Some(i) => format!("{}:{i}", t.pid),
        None => t.pid.to_string(),
    };
    assert_eq!(nsenter::parse_target(&printed), Ok(t), "{s:?}");
    if !s.contains(':') {
        assert_eq!(parse_pid(s), Ok(t.pid), "{s:?}");
    }
}

/// The environment variables nsinit reads, for `nsinit_args`.
const NSINIT_ENV: [&str; 21] = [
    "NSINIT_SUBREAPER",
    "NSINIT_PDEATHSIG",
    "NSINIT_VERBOSITY",
    "NSINIT_WARN_ON_REAP",
    "NSINIT_KILL_PROCESS_GROUP",
    "NSINIT_REMAP_EXIT",
    "NSINIT_REWRITE",
    "NSINIT_SINGLE_CHILD",
    "NSINIT_SETSID",
    "NSINIT_PAUSE",
    "NSINIT_GRACE",
    "NSINIT_EXIT_GRACE",
    "NSINIT_WAIT",
    "NSINIT_EXIT_ON",
    "NSINIT_PID_FILE",
    "TINI_SUBREAPER",
    "TINI_VERBOSITY",
    "TINI_KILL_PROCESS_GROUP",
    "DUMB_INIT_SETSID",
    "NSINIT_UNKNOWN",
    "PATH",
];

/// nsinit's arguments, NUL-separated, then optionally a 0x01 byte and environment entries
/// (NUL-separated; the first byte of each picks the variable, the rest is its value).
/// Whenever nsinit's fast parser (kept to spare an init clap's memory) answers, clap must
/// answer the same; then merging the environment (`Cli::resolve`) must not panic.
pub fn nsinit_args(data: &[u8]) {
    let (data, env_part) = match data.iter().position(|&b| b == 1) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let mut env = std::collections::HashMap::new();
    for e in env_part.into_iter().flat_map(|e| e.split(|&b| b == 0)) {
        if let Some((&k, v)) = e.split_first() {
            if let Ok(v) = std::str::from_utf8(v) {
                let name = NSINIT_ENV[usize::from(k) % NSINIT_ENV.len()];
                env.insert(name, v.to_string());
            }
        }
    }
    let args: Vec<OsString> = if data.is_empty() {
        Vec::new()
    } else {
        data.split(|&b| b == 0)
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect()
    };
    let Some(fast) = nsinit::fast::parse(&args) else {
        return;
    };
    use clap::FromArgMatches;
    // The clap path as the tool runs it: abbreviations included.
    let clap = nsinit::command()
        .try_get_matches_from(std::iter::once(OsString::from("nsinit")).chain(args.iter().cloned()))
        .and_then(|m| nsinit::cli::Cli::from_arg_matches(&m));
    match clap {
        Ok(c) => assert_eq!(format!("{fast:?}"), format!("{c:?}"), "{args:?}"),
        Err(e) => panic!("{args:?}: the fast parser accepted, clap said: {e}"),
    }
    if let Ok(nsinit::cli::Action::Run(cfg, commands)) =
        fast.resolve(&|k: &str| env.get(k).cloned())
    {
        assert!(commands.iter().all(|c| !c.is_empty()), "{args:?}");
        assert!(cfg.rewrite.iter().all(|&(from, to)| from >= 1 && to >= 0));
    }
}

/// nsls `-Q` expressions: lexer, parser, evaluator. A parsed expression must evaluate on a
/// row without panicking, and `not (E)` must parse and be its negation.
pub fn nsls_filter(data: &[u8]) {
    use nsls::columns::{Cell, Col};
    let Some(s) = text(data) else { return };
    let Ok(e) = nsls::filter::parse(s) else {
        return;
    };
    let mut cols = Vec::new();
    e.columns(&mut cols);
    let rows: [fn(Col) -> Cell; 2] = [
        |c| match c {
            Col::Ns => Cell::Num(4026531833),
            Col::Type => Cell::Str("net".into()),
            Col::Pid => Cell::Num(42),
            Col::Command => Cell::Str("sleep 100".into()),
            Col::Nsfs => Cell::Lines(vec!["/run/netns/a".into(), "/b".into()]),
            Col::Nspid => Cell::Nums(vec![42, 1]),
            _ => Cell::Empty,
        },
        |c| match c {
            Col::Ns => Cell::Num(-1),
            Col::Pid => Cell::Num(i128::MAX),
            Col::Command => Cell::Str(String::new()),
            _ => Cell::Str("0".into()),
        },
    ];
    for row in rows {
        let mut get = |c| row(c);
        let v = e.eval(&mut get);
        if let Ok(not) = nsls::filter::parse(&format!("not ({s})")) {
            assert_eq!(not.eval(&mut get), !v, "not ({s})");
        }
    }
}

/// nsls `-o LIST` and `-o +LIST`.
pub fn nsls_columns(data: &[u8]) {
    use nsls::columns::{parse_list, DEFAULT};
    let Some(s) = text(data) else { return };
    if let Ok(cols) = parse_list(s, &DEFAULT) {
        assert!(!cols.is_empty());
        // The names it prints parse back to the same list.
        let names: Vec<&str> = cols.iter().map(|c| c.info().name).collect();
        let again = parse_list(&names.join(","), &DEFAULT).expect("printed names parse");
        assert_eq!(again, cols);
    }
}

/// `/proc/PID/mountinfo` text, the nsfs `kind:[inode]` links, and the octal unescaping.
pub fn mountinfo_text(data: &[u8]) {
    let Some(s) = text(data) else { return };
    for m in mountinfo::parse(s) {
        if let Some((k, ino)) = m.nsfs_target() {
            assert_eq!(m.fstype, "nsfs");
            let link = format!("{k}:[{ino}]");
            assert_eq!(mountinfo::parse_ns_link(link.as_bytes()), Some((k, ino)));
        }
    }
    if let Some((k, ino)) = mountinfo::parse_ns_link(data) {
        let link = format!("{k}:[{ino}]");
        assert_eq!(mountinfo::parse_ns_link(link.as_bytes()), Some((k, ino)));
    }
    // Unescaping never grows a field, and leaves one without a backslash alone.
    let u = mountinfo::unescape(s);
    assert!(u.as_os_str().len() <= s.len());
    if !s.contains('\\') {
        assert_eq!(u.as_os_str().as_encoded_bytes(), s.as_bytes());
    }
}

/// `/proc/PID/status` (`NSpid:`) and `/proc/PID/stat` (`PID (COMM) S PPID …`) as nsls reads
/// them; COMM may hold spaces and parentheses.
pub fn proc_status(data: &[u8]) {
    if let Some(s) = text(data) {
        if let Some(v) = nsls::scan::parse_nspid(s) {
            let line = v.iter().map(i32::to_string).collect::<Vec<_>>().join("\t");
            assert_eq!(
                nsls::scan::parse_nspid(&format!("NSpid:\t{line}\n")),
                Some(v)
            );
        }
    }
    let _ = nsls::scan::parse_stat(data);
    // Whatever the command name, a stat line built around it parses back.
    let comm = String::from_utf8_lossy(data);
    let line = format!("77 ({comm}) S 1 77 77 0 -1 4194560\n");
    let st = nsls::scan::parse_stat(line.as_bytes()).expect("a well-formed stat line");
    assert_eq!((st.ppid, st.comm.as_str()), (1, &*comm));
}
