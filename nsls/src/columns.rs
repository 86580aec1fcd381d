//! The columns of nsls, as ONE table: name, header, minimum width, alignment, help text and
//! JSON type, the way lsns keeps them together — plus the default column sets.
//!
//! The first thirteen are lsns's (util-linux 2.42), with its names and JSON types; SOURCE,
//! NAME, NSPID, PIDINO and CONTAINER are ours.

use nsutils_common::{Error, Result};

/// A column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Col {
    /// Namespace inode.
    Ns,
    /// Kind.
    Type,
    /// A path through which the namespace can be opened.
    Path,
    /// Number of processes.
    Nprocs,
    /// Lowest PID.
    Pid,
    /// Parent of that PID.
    Ppid,
    /// Command line of that PID.
    Command,
    /// UID of that PID.
    Uid,
    /// User name of that PID.
    User,
    /// The network subsystem's id of a net namespace.
    Netnsid,
    /// nsfs bind mounts.
    Nsfs,
    /// Parent namespace.
    Pns,
    /// Owning user namespace.
    Ons,
    /// How it was found.
    Source,
    /// `ip netns` name or persisted path.
    Name,
    /// PID at every level of PID namespaces.
    Nspid,
    /// The pidfs inode of the PID.
    Pidino,
    /// The container of the PID (runtime and id, from its cgroup).
    Container,
}

/// How a column's values appear in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// A number (or null when empty).
    Number,
    /// A string (or null when empty).
    String,
    /// An array of numbers.
    NumberArray,
}

impl JsonType {
    /// The name `--list-columns` prints.
    pub fn name(self) -> &'static str {
        match self {
            JsonType::Number => "<integer>",
            JsonType::String => "<string>",
            JsonType::NumberArray => "<array>",
        }
    }
}

/// Alignment in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Padded on the right.
    Left,
    /// Padded on the left.
    Right,
}

/// One row of the table of columns.
#[derive(Debug)]
pub struct Info {
    /// The column.
    pub col: Col,
    /// Its name (the header, and in lower case the JSON key).
    pub name: &'static str,
    /// The JSON key.
    pub key: &'static str,
    /// How narrow it may be truncated to on a terminal.
    pub min_width: usize,
    /// Alignment.
    pub align: Align,
    /// May be truncated to fit a terminal (the command line).
    pub trunc: bool,
    /// JSON type.
    pub json: JsonType,
    /// Help text.
    pub help: &'static str,
}

macro_rules! col {
    ($col:ident, $name:literal, $key:literal, $w:literal, $align:ident, $trunc:literal, $json:ident, $help:literal) => {
        Info {
            col: Col::$col,
            name: $name,
            key: $key,
            min_width: $w,
            align: Align::$align,
            trunc: $trunc,
            json: JsonType::$json,
            help: $help,
        }
    };
}

/// Every column, in `--output-all` and `--help` order.
pub const COLUMNS: [Info; 18] = [
    col!(
        Ns,
        "NS",
        "ns",
        10,
        Right,
        false,
        Number,
        "namespace identifier (inode number)"
    ),
    col!(
        Type,
        "TYPE",
        "type",
        5,
        Left,
        false,
        String,
        "kind of namespace"
    ),
    col!(
        Path,
        "PATH",
        "path",
        10,
        Left,
        false,
        String,
        "path to the namespace"
    ),
    col!(
        Nprocs,
        "NPROCS",
        "nprocs",
        5,
        Right,
        false,
        Number,
        "number of processes in the namespace"
    ),
    col!(
        Pid,
        "PID",
        "pid",
        5,
        Right,
        false,
        Number,
        "lowest PID in the namespace"
    ),
    col!(
        Ppid,
        "PPID",
        "ppid",
        5,
        Right,
        false,
        Number,
        "PPID of the PID"
    ),
    col!(
        Command,
        "COMMAND",
        "command",
        10,
        Left,
        true,
        String,
        "command line of the PID"
    ),
    col!(
        Uid,
        "UID",
        "uid",
        5,
        Right,
        false,
        Number,
        "UID of the PID (of the owner for a namespace without processes)"
    ),
    col!(
        User,
        "USER",
        "user",
        8,
        Left,
        false,
        String,
        "username of the PID (of the owner for a namespace without processes)"
    ),
    col!(
        Netnsid,
        "NETNSID",
        "netnsid",
        10,
        Right,
        false,
        String,
        "namespace ID as used by network subsystem"
    ),
    col!(
        Nsfs,
        "NSFS",
        "nsfs",
        10,
        Left,
        false,
        String,
        "nsfs mountpoint (usually used network subsystem)"
    ),
    col!(
        Pns,
        "PNS",
        "pns",
        10,
        Right,
        false,
        Number,
        "parent namespace identifier (inode number)"
    ),
    col!(
        Ons,
        "ONS",
        "ons",
        10,
        Right,
        false,
        Number,
        "owner namespace identifier (inode number)"
    ),
    col!(
        Source,
        "SOURCE",
        "source",
        7,
        Left,
        false,
        String,
        "how it was found: process, thread, fd, mount, parent, owner"
    ),
    col!(
        Name,
        "NAME",
        "name",
        8,
        Left,
        false,
        String,
        "ip netns name, or the path it is persisted at"
    ),
    col!(
        Nspid,
        "NSPID",
        "nspid",
        5,
        Left,
        false,
        NumberArray,
        "the PID in each PID namespace, outermost first"
    ),
    col!(
        Pidino,
        "PIDINO",
        "pidino",
        6,
        Right,
        false,
        Number,
        "pidfs inode of the PID (nsenter -t PID:PIDINO pins that very process)"
    ),
    col!(
        Container,
        "CONTAINER",
        "container",
        9,
        Left,
        false,
        String,
        "runtime:id of the PID's container, from its cgroup (podman, docker, nspawn, ...)"
    ),
];

impl Col {
    /// The column's row of [`COLUMNS`].
    pub fn info(self) -> &'static Info {
        // COLUMNS is in declaration order of `Col`; the test below keeps it so.
        &COLUMNS[self as usize]
    }

    /// The column named `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Col> {
        COLUMNS
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
            .map(|i| i.col)
    }

    /// Whether the values are numbers (compared numerically by filters).
    pub fn numeric(self) -> bool {
        self.info().json == JsonType::Number
    }
}

/// One value of one column of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// No value (JSON null).
    Empty,
    /// A number.
    Num(i128),
    /// Text.
    Str(String),
    /// Several lines of text (NSFS: one mount point each).
    Lines(Vec<String>),
    /// Several numbers (NSPID).
    Nums(Vec<i64>),
}

impl Cell {
    /// The value as one line of text; `sep` joins multi-valued cells.
    pub fn text(&self, sep: &str) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Num(n) => n.to_string(),
            Cell::Str(s) => s.clone(),
            Cell::Lines(l) => l.join(sep),
            Cell::Nums(v) => v.iter().map(i64::to_string).collect::<Vec<_>>().join(" "),
        }
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Str(s) => s.is_empty(),
            Cell::Lines(l) => l.is_empty(),
            Cell::Nums(v) => v.is_empty(),
            Cell::Num(_) => false,
        }
    }
}

/// lsns's default columns.
pub const DEFAULT: [Col; 6] = [
    Col::Ns,
    Col::Type,
    Col::Nprocs,
    Col::Pid,
    Col::User,
    Col::Command,
];
/// The defaults when only network namespaces are listed.
pub const DEFAULT_NET: [Col; 8] = [
    Col::Ns,
    Col::Type,
    Col::Nprocs,
    Col::Pid,
    Col::User,
    Col::Netnsid,
    Col::Nsfs,
    Col::Command,
];
/// The defaults when listing the processes of one namespace.
pub const DEFAULT_PROCS: [Col; 4] = [Col::Pid, Col::Ppid, Col::User, Col::Command];

/// Parse a comma-separated column list (`NS,TYPE`); `+LIST` appends to `defaults`.
pub fn parse_list(spec: &str, defaults: &[Col]) -> Result<Vec<Col>> {
    let (mut cols, rest) = match spec.strip_prefix('+') {
        Some(rest) => (defaults.to_vec(), rest),
        None => (Vec::new(), spec),
    };
    for name in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let col = Col::from_name(name).ok_or_else(|| {
            Error::msg(format!("unknown column: {name}")).hint("nsls --list-columns lists them")
        })?;
        cols.push(col);
    }
    if cols.is_empty() {
        return Err(Error::msg("no columns given to --output"));
    }
    Ok(cols)
}

/// The `--help` epilogue: the columns and their meaning.
pub fn help_text() -> String {
    let mut s = String::from("Available output columns:\n");
    for i in &COLUMNS {
        s.push_str(&format!("  {:>8}  {}\n", i.name, i.help));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_declaration_order_and_names_are_unique() {
        for (n, i) in COLUMNS.iter().enumerate() {
            assert_eq!(i.col as usize, n, "{}", i.name);
            assert_eq!(i.key, i.name.to_ascii_lowercase());
            assert_eq!(Col::from_name(i.name), Some(i.col));
            assert_eq!(Col::from_name(i.key), Some(i.col));
        }
    }

    #[test]
    fn lists() {
        assert_eq!(
            parse_list("+PNS,ons", &DEFAULT).expect("parse"),
            [&DEFAULT[..], &[Col::Pns, Col::Ons]].concat()
        );
        assert_eq!(parse_list("NS", &DEFAULT).expect("parse"), [Col::Ns]);
        let e = parse_list("NS,FOO", &DEFAULT).expect_err("accepted");
        assert_eq!(e.to_string(), "unknown column: FOO");
        assert_eq!(crate::TOOL.code_of(&e), 1);
    }
}
