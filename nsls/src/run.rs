//! The steps of nsls, top to bottom: scan, resolve what the columns need, pick the rows,
//! filter, build the tree, print.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use nsutils_common::exit::{warn, Outcome, NSLS_UNSUPPORTED};
use nsutils_common::nsfs::NsFile;
use nsutils_common::{Error, KindMap, NsKind, Result};

use crate::cli::{Format, Mode, Opts, TreeMode};
use crate::columns::{Cell, Col, JsonType, COLUMNS};
use crate::netnsid::{NetNsId, NsIdQuery};
use crate::output::{self, Head, Style, Table};
use crate::scan::{self, Holder, Scan, ScanOpts, SOURCE_NAMES};

/// Run the request.
pub fn run(opts: Opts) -> Result<Outcome> {
    let mut incomplete = None;
    let table = match opts.mode {
        Mode::ListColumns => list_columns(),
        Mode::Pids(pid) => pid_levels(pid)?,
        Mode::Namespaces | Mode::Processes(_) => {
            let (t, note) = listing(&opts)?;
            incomplete = note;
            t
        }
    };
    let key = match opts.mode {
        Mode::ListColumns => "columns",
        Mode::Pids(_) => "nspids",
        _ => "namespaces",
    };
    print(&opts, key, &table)?;
    // Only once the listing stands: an error about the input is never preceded by it.
    if let Some(msg) = incomplete {
        if std::io::stderr().is_terminal() {
            warn("nsls", msg);
        }
    }
    Ok(Outcome::Code(0))
}

fn print(opts: &Opts, key: &str, table: &Table) -> Result<()> {
    let stdout = std::io::stdout();
    let width = if opts.notruncate || !stdout.is_terminal() {
        None
    } else {
        nsutils_common::sys::terminal_width(std::os::fd::AsFd::as_fd(&stdout)).map(usize::from)
    };
    let st = Style {
        noheadings: opts.noheadings,
        nowrap: opts.nowrap,
        null: opts.null,
        width,
        tree: match opts.format {
            // As lsns: JSON nests like the table (the default process tree whenever COMMAND
            // is shown), and an explicit --tree nests whatever the columns; -l is flat.
            Format::Json => opts.tree.is_some() && (opts.tree_explicit || table.tree_col.is_some()),
            _ => opts.tree.is_some() && table.tree_col.is_some(),
        },
    };
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let r = match opts.format {
        Format::Table => output::table(&mut out, table, &st),
        Format::Raw => output::raw(&mut out, table, &st),
        Format::Json => output::json(&mut out, key, table, &st),
    }
    .and_then(|()| out.flush());
    match r {
        // A closed pipe (`nsls | head`) is the reader's choice, not our failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::os("cannot write the output", e)),
        Ok(()) => Ok(()),
    }
}

fn head(c: Col) -> Head {
    let i = c.info();
    Head {
        name: i.name,
        key: i.key,
        align: i.align,
        trunc: i.trunc,
        min_width: i.min_width,
        json: i.json,
    }
}

fn plain_head(name: &'static str, key: &'static str, json: JsonType) -> Head {
    Head {
        name,
        key,
        align: if json == JsonType::Number {
            crate::columns::Align::Right
        } else {
            crate::columns::Align::Left
        },
        trunc: false,
        min_width: 1,
        json,
    }
}

/// `-H`: the columns, their types and meaning.
fn list_columns() -> Table {
    let mut t = Table {
        heads: vec![
            plain_head("NAME", "name", JsonType::String),
            plain_head("TYPE", "type", JsonType::String),
            plain_head("DESCRIPTION", "description", JsonType::String),
        ],
        ..Table::default()
    };
    for i in &COLUMNS {
        t.rows.push(vec![
            Cell::Str(i.name.into()),
            Cell::Str(i.json.name().into()),
            Cell::Str(i.help.into()),
        ]);
    }
    t
}

/// `--pids PID`: the PID at every level with that level's pid namespace.
fn pid_levels(pid: i32) -> Result<Table> {
    let nspid = scan::read_nspid(pid).ok_or_else(|| {
        let e = std::fs::metadata(format!("/proc/{pid}"))
            .err()
            .unwrap_or_else(|| std::io::Error::from_raw_os_error(libc::ENOENT));
        Error::os(format!("cannot read process {pid}"), e)
            .hint("check the PID: the process does not exist or has exited")
    })?;
    // Innermost first: the process's own pid namespace, then its parents up to ours.
    let mut chain = Vec::new();
    let mut f = NsFile::open_proc(Some(pid), NsKind::Pid, false)?;
    loop {
        chain.push(f.id()?.ino);
        match f.parent() {
            Ok(p) => f = p,
            Err(e) if e.raw_os_error() == Some(libc::ENOTTY) => {
                return Err(
                    Error::msg("the kernel does not support NS_GET_PARENT").code(NSLS_UNSUPPORTED)
                )
            }
            Err(_) => break,
        }
    }
    chain.reverse();
    let mut t = Table {
        heads: vec![
            plain_head("LEVEL", "level", JsonType::Number),
            head(Col::Ns),
            head(Col::Pid),
        ],
        ..Table::default()
    };
    // Both lists run from our level down to the process's; align them at the inner end.
    for (level, p) in nspid.iter().enumerate() {
        let from_inner = nspid.len() - level;
        let ns = chain
            .len()
            .checked_sub(from_inner)
            .and_then(|j| chain.get(j))
            .map_or(Cell::Empty, |&i| Cell::Num(i.into()));
        t.rows
            .push(vec![Cell::Num(level as i128), ns, Cell::Num((*p).into())]);
    }
    Ok(t)
}

/// Values that cost a syscall, computed at most once per namespace or process.
struct Ctx {
    scan: Scan,
    users: HashMap<u32, String>,
    cmdlines: HashMap<i32, Option<String>>,
    netnsids: HashMap<u64, Cell>,
    nsid_query: Option<Option<NsIdQuery>>,
}

impl Ctx {
    fn user(&mut self, uid: u32) -> String {
        self.users
            .entry(uid)
            .or_insert_with(|| {
                nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map_or_else(|| uid.to_string(), |u| u.name)
            })
            .clone()
    }

    fn command(&mut self, pid: i32) -> Cell {
        if !self.cmdlines.contains_key(&pid) {
            let c = scan::read_cmdline(pid).or_else(|| self.scan.stat(pid).map(|s| s.comm.clone()));
            self.cmdlines.insert(pid, c);
        }
        self.cmdlines
            .get(&pid)
            .cloned()
            .flatten()
            .map_or(Cell::Empty, Cell::Str)
    }

    fn netnsid(&mut self, i: usize) -> Cell {
        let ns = &self.scan.nss[i];
        if ns.kind != NsKind::Net {
            return Cell::Empty;
        }
        let ino = ns.ino;
        if let Some(c) = self.netnsids.get(&ino) {
            return c.clone();
        }
        let q = self.nsid_query.get_or_insert_with(|| NsIdQuery::new().ok());
        let cell = match (q, self.scan.open(i)) {
            (Some(q), Some(f)) => match q.query(&f) {
                Ok(NetNsId::Id(n)) => Cell::Str(n.to_string()),
                Ok(NetNsId::Unassigned) => Cell::Str("unassigned".into()),
                Err(_) => Cell::Empty,
            },
            _ => Cell::Empty,
        };
        self.netnsids.insert(ino, cell.clone());
        cell
    }

    /// The value of column `col` for namespace `i` as seen through process `pid`.
    fn cell(&mut self, i: usize, pid: Option<i32>, col: Col) -> Cell {
        let ns = &self.scan.nss[i];
        let num = |n: Option<u64>| n.map_or(Cell::Empty, |n| Cell::Num(n.into()));
        match col {
            Col::Ns => Cell::Num(ns.ino.into()),
            Col::Type => Cell::Str(ns.kind.proc_name().into()),
            Col::Path => {
                let holder = match (pid, &ns.holder) {
                    (Some(p), Holder::Process(_)) => Holder::Process(p),
                    (_, h) => h.clone(),
                };
                holder
                    .path(ns.kind)
                    .map_or(Cell::Empty, |p| Cell::Str(p.to_string_lossy().into_owned()))
            }
            Col::Nprocs => Cell::Num(ns.nprocs.into()),
            Col::Pid => pid.map_or(Cell::Empty, |p| Cell::Num(p.into())),
            Col::Ppid => match pid {
                Some(p) => self
                    .scan
                    .stat(p)
                    .map_or(Cell::Empty, |s| Cell::Num(s.ppid.into())),
                None => Cell::Empty,
            },
            Col::Command => pid.map_or(Cell::Empty, |p| self.command(p)),
            Col::Uid | Col::User => {
                let uid = match pid {
                    Some(p) => self.scan.uid(p),
                    None => ns.owner_uid,
                };
                match (uid, col) {
                    (None, _) => Cell::Empty,
                    (Some(u), Col::Uid) => Cell::Num(u.into()),
                    (Some(u), _) => Cell::Str(self.user(u)),
                }
            }
            Col::Netnsid => self.netnsid(i),
            Col::Nsfs => {
                if ns.mounts.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Lines(
                        ns.mounts
                            .iter()
                            .map(|m| m.to_string_lossy().into_owned())
                            .collect(),
                    )
                }
            }
            Col::Pns => num(ns.parent),
            Col::Ons => num(ns.owner),
            Col::Source => Cell::Str(
                SOURCE_NAMES
                    .iter()
                    .filter(|(bit, _)| ns.sources & bit != 0)
                    .map(|(_, n)| *n)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Col::Name => {
                let named = ns.mounts.iter().find_map(|m| scan::netns_name(m));
                match (named, ns.mounts.first()) {
                    (Some(n), _) => Cell::Str(n.into()),
                    (None, Some(m)) => Cell::Str(m.to_string_lossy().into_owned()),
                    (None, None) => Cell::Empty,
                }
            }
            Col::Pidino => pid
                .and_then(pidfs_inode)
                .map_or(Cell::Empty, |n| Cell::Num(n.into())),
            Col::Container => pid.and_then(container).map_or(Cell::Empty, Cell::Str),
            Col::Nspid => match pid.and_then(scan::read_nspid) {
                Some(v) => Cell::Nums(v.into_iter().map(i64::from).collect()),
                None => Cell::Empty,
            },
        }
    }
}

/// The container of process `pid`: its cgroup path, else its environment.
fn container(pid: i32) -> Option<String> {
    use crate::container::{from_cgroup, from_environ};
    nsutils_common::proc::read_small(&format!("/proc/{pid}/cgroup"))
        .and_then(|t| from_cgroup(&String::from_utf8_lossy(&t)))
        .or_else(|| {
            from_environ(&nsutils_common::proc::read_small(&format!(
                "/proc/{pid}/environ"
            ))?)
        })
}

/// The pidfs inode of process `pid` (Linux 6.9+, where pidfds live on pidfs; before, every
/// pidfd shares one anonymous inode, which names no process).
fn pidfs_inode(pid: i32) -> Option<u64> {
    const PIDFS_MAGIC: i64 = 0x5049_4446;
    let fd = nsutils_common::pidfd::PidFd::open(pid).ok()?;
    let fs = nix::sys::statfs::fstatfs(&fd).ok()?;
    if fs.filesystem_type().0 as i64 != PIDFS_MAGIC {
        return None;
    }
    fd.inode().ok()
}

/// The namespace listing, or the processes of one namespace, and what made it incomplete
/// (processes that could not be read), if anything: scan, pick the rows, fill the cells,
/// draw the tree.
fn listing(opts: &Opts) -> Result<(Table, Option<String>)> {
    let (scan, incomplete) = scan(opts)?;
    let task_ns: Option<KindMap<u64>> = match opts.task {
        None => None,
        Some(pid) => Some(task_namespaces(&scan, pid)?),
    };
    let mut ctx = Ctx {
        scan,
        users: HashMap::new(),
        cmdlines: HashMap::new(),
        netnsids: HashMap::new(),
        nsid_query: None,
    };
    let mut rows = match opts.mode {
        Mode::Processes(ino) => process_rows(&ctx.scan, ino)?,
        _ => namespace_rows(&ctx.scan, opts, task_ns.as_ref()),
    };
    if let Some(f) = &opts.filter {
        rows.retain(|&(i, pid)| f.eval(&mut |c| ctx.cell(i, pid, c)));
    }
    let mut t = Table {
        heads: opts.columns.iter().map(|&c| head(c)).collect(),
        ..Table::default()
    };
    for &(i, pid) in &rows {
        let cells = opts.columns.iter().map(|&c| ctx.cell(i, pid, c)).collect();
        t.rows.push(cells);
    }
    if let Some(mode) = opts.tree {
        t.parent = parents(&mut ctx.scan, &rows, mode, opts.mode);
        let tree_col = match (opts.mode, mode) {
            (Mode::Processes(_), _) | (_, TreeMode::Process) => Col::Command,
            _ => Col::Ns,
        };
        t.tree_col = opts.columns.iter().position(|&c| c == tree_col);
        // Glyphs grow to the right: the tree column is left-aligned, as in lsns.
        if let Some(c) = t.tree_col {
            t.heads[c].align = crate::columns::Align::Left;
        }
    }
    Ok((t, incomplete))
}

/// Scan what `opts` needs — every ancestor resolved when a column, the filter or the tree
/// asks for parents or owners — and the note on unreadable processes (an error with
/// `--strict`).
fn scan(opts: &Opts) -> Result<(Scan, Option<String>)> {
    let mut wanted: Vec<Col> = opts.columns.clone();
    if let Some(f) = &opts.filter {
        f.columns(&mut wanted);
    }
    let need_all = wanted.iter().any(|c| matches!(c, Col::Pns | Col::Ons))
        || matches!(opts.tree, Some(TreeMode::Parent | TreeMode::Owner));
    let scan_opts = ScanOpts {
        kinds: opts.kinds,
        threads: !opts.shallow,
        fds: !opts.shallow,
        sockets: !opts.shallow,
        mounts: true,
    };
    if let Some(pid) = opts.task {
        // What the user typed is checked before the scan, so its error comes alone.
        task_exists(pid)?;
    }
    let mut scan = Scan::run(&scan_opts)?;
    let incomplete = unreadable_note(&scan, opts)?;
    scan.discover_ancestors()?;
    if need_all {
        scan.resolve_all()?;
    }
    Ok((scan, incomplete))
}

/// The rows of `nsls NAMESPACE`: (namespace index, PID) for every process in it.
fn process_rows(scan: &Scan, ino: u64) -> Result<Vec<(usize, Option<i32>)>> {
    let i = *scan.index.get(&ino).ok_or_else(|| {
        let hint = match scan.unreadable.len() {
            0 => "give the inode of a namespace, as the NS column shows it".to_string(),
            n => format!(
                "give the inode of a namespace, as the NS column shows it; {n} \
                 process{} could not be read (run as root to see theirs)",
                if n == 1 { "" } else { "es" }
            ),
        };
        Error::msg(format!("namespace {ino} not found")).hint(hint)
    })?;
    let k = scan.nss[i].kind;
    Ok(scan
        .procs
        .iter()
        .filter(|p| p.ns[k] == ino)
        .map(|p| (i, Some(p.pid)))
        .collect())
}

/// The rows of the namespace listing, by inode: (namespace index, the PID shown for it),
/// for the kinds asked, without processes with `-P`, those of `-p PID` only.
fn namespace_rows(
    scan: &Scan,
    opts: &Opts,
    task_ns: Option<&KindMap<u64>>,
) -> Vec<(usize, Option<i32>)> {
    let mut v: Vec<(usize, Option<i32>)> = scan
        .nss
        .iter()
        .enumerate()
        .filter(|(_, ns)| opts.kinds[ns.kind])
        .filter(|(_, ns)| !opts.persistent || ns.nprocs == 0)
        .filter(|(_, ns)| task_ns.map_or(true, |t| t[ns.kind] == ns.ino))
        .map(|(i, ns)| (i, ns.pid))
        .collect();
    v.sort_by_key(|&(i, _)| scan.nss[i].ino);
    v
}

/// The parent row of every row, for the tree `mode`.
fn parents(
    scan: &mut Scan,
    rows: &[(usize, Option<i32>)],
    mode: TreeMode,
    what: Mode,
) -> Vec<Option<usize>> {
    if let Mode::Processes(_) = what {
        let by_pid: HashMap<i32, usize> = rows
            .iter()
            .enumerate()
            .filter_map(|(r, &(_, p))| Some((p?, r)))
            .collect();
        return rows
            .iter()
            .map(|&(_, p)| p.and_then(|p| by_pid.get(&scan.ppid(p)).copied()))
            .collect();
    }
    if mode == TreeMode::Process {
        return process_parents(scan, rows);
    }
    let by_ino: HashMap<u64, usize> = rows
        .iter()
        .enumerate()
        .map(|(r, &(i, _))| (scan.nss[i].ino, r))
        .collect();
    rows.iter()
        .map(|&(i, _)| match mode {
            TreeMode::Owner => scan.nss[i].owner.and_then(|o| by_ino.get(&o).copied()),
            _ => scan.nss[i].parent.and_then(|p| by_ino.get(&p).copied()),
        })
        .collect()
}

/// The process tree of the default layout. lsns's rule first: going through the rows in
/// ascending inode order, a row nests under the last row before it whose PID is its PID's
/// parent process (nsfs reuses inodes, so that may miss a parent listed after it). Where lsns
/// leaves a row at the top, nsls nests it under the namespace of the same kind that its
/// nearest ancestor process in another one is in (a thread-held namespace: the one its own
/// process is in), when that one is listed.
fn process_parents(scan: &mut Scan, rows: &[(usize, Option<i32>)]) -> Vec<Option<usize>> {
    let is_in = |scan: &Scan, i: usize, p: i32| {
        let ns = &scan.nss[i];
        scan.proc(p).is_some_and(|pr| pr.ns[ns.kind] == ns.ino)
    };
    let by_ino: HashMap<u64, usize> = rows
        .iter()
        .enumerate()
        .map(|(r, &(i, _))| (scan.nss[i].ino, r))
        .collect();
    // The last row so far with each PID (rows are in ascending inode order).
    let mut by_pid: HashMap<i32, usize> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (r, &(i, pid)) in rows.iter().enumerate() {
        let Some(p) = pid else {
            out.push(None);
            continue;
        };
        let lsns = if is_in(scan, i, p) {
            let parent = by_pid.get(&scan.ppid(p)).copied();
            by_pid.insert(p, r);
            parent
        } else {
            None
        };
        out.push(lsns.or_else(|| same_kind_ancestor(scan, i, p, &by_ino)));
    }
    out
}

/// The row of the namespace of `i`'s kind that the nearest of `p` and its ancestors that
/// is not in `i` is in.
fn same_kind_ancestor(
    scan: &mut Scan,
    i: usize,
    p: i32,
    by_ino: &HashMap<u64, usize>,
) -> Option<usize> {
    let (ino, k) = (scan.nss[i].ino, scan.nss[i].kind);
    let mut p = p;
    for _ in 0..4096 {
        if let Some(pr) = scan.proc(p) {
            let there = pr.ns[k];
            if there != ino && there != 0 {
                return by_ino.get(&there).copied();
            }
        }
        p = scan.ppid(p);
        if p <= 0 {
            return None;
        }
    }
    None
}

/// The namespaces of `-p PID`, which must have been read.
fn task_namespaces(scan: &Scan, pid: i32) -> Result<KindMap<u64>> {
    if let Some(p) = scan.proc(pid) {
        return Ok(p.ns);
    }
    let errno = scan
        .unreadable
        .iter()
        .find(|(p, _)| *p == pid)
        .map_or(nix::errno::Errno::ESRCH, |(_, e)| *e);
    let mut e = Error::errno(
        format!("cannot read the namespaces of process {pid}"),
        errno,
    );
    if errno == nix::errno::Errno::ESRCH {
        e = e.hint("check the PID: the process does not exist or has exited");
    }
    Err(e)
}

/// `-p PID` names a process that exists (a zombie included); checked before the scan.
fn task_exists(pid: i32) -> Result<()> {
    match std::fs::symlink_metadata(format!("/proc/{pid}/ns")) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::errno(
            format!("cannot read the namespaces of process {pid}"),
            nix::errno::Errno::ESRCH,
        )
        .hint("check the PID: the process does not exist or has exited")),
        _ => Ok(()),
    }
}

/// Processes (or their sockets) that could not be read: with `--strict` an error, else the
/// warning that `run` prints once the listing stands — on a terminal only, where a person
/// reads it; a script's stderr stays as clean as lsns leaves it.
fn unreadable_note(scan: &Scan, opts: &Opts) -> Result<Option<String>> {
    let mut parts = Vec::new();
    for (list, what) in [
        (&scan.unreadable, ""),
        (&scan.sockets_unreadable, " (their sockets)"),
    ] {
        let n = list.len();
        if n == 0 {
            continue;
        }
        let mut pids: Vec<String> = list.iter().take(8).map(|(p, _)| p.to_string()).collect();
        if n > 8 {
            pids.push("…".into());
        }
        parts.push(format!(
            "{n} process{}{what} could not be read ({} {}: {})",
            if n == 1 { "" } else { "es" },
            if n == 1 { "PID" } else { "PIDs" },
            pids.join(" "),
            list[0].1.desc()
        ));
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let msg = format!("{}, the listing is incomplete", parts.join("; "));
    if opts.strict {
        return Err(
            Error::msg(msg).hint("run as root, or without --strict to list what can be read")
        );
    }
    Ok(Some(msg))
}
