//! Printing a finished table: aligned columns (optionally a tree, multi-line cells, truncated
//! to a terminal), raw (space-separated, escaped), or JSON.
//!
//! The tree is given as a parent index per row; rows print in depth-first order, children in
//! the order they were given. JSON nests children under `"children"` only when a tree was
//! asked for explicitly (see the README: the flat array is the stable schema).

use std::io::{self, Write};

use crate::columns::{Align, Cell, JsonType};

/// A column as the printer needs it.
#[derive(Debug, Clone)]
pub struct Head {
    /// Header text.
    pub name: &'static str,
    /// JSON key.
    pub key: &'static str,
    /// Alignment.
    pub align: Align,
    /// May be truncated on a terminal.
    pub trunc: bool,
    /// Narrowest it may be truncated to.
    pub min_width: usize,
    /// JSON type.
    pub json: JsonType,
}

/// What to print.
#[derive(Debug, Default)]
pub struct Table {
    /// The columns.
    pub heads: Vec<Head>,
    /// The rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// The parent row of each row, for a tree.
    pub parent: Vec<Option<usize>>,
    /// The column that carries the tree glyphs.
    pub tree_col: Option<usize>,
}

/// How to print it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// No header line.
    pub noheadings: bool,
    /// Multi-line cells joined with `,` instead.
    pub nowrap: bool,
    /// Records end with NUL.
    pub null: bool,
    /// Terminal width to truncate to, if any.
    pub width: Option<usize>,
    /// Draw/nest the tree.
    pub tree: bool,
}

/// The roots and each row's children; everything is a root without a tree. A row whose
/// parent chain loops (which the kernel should never produce) becomes a root.
fn forest(t: &Table, tree: bool) -> (Vec<usize>, Vec<Vec<usize>>) {
    let n = t.rows.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for i in 0..n {
        match t.parent.get(i).copied().flatten() {
            Some(p) if tree && p < n && p != i && !loops(t, i) => children[p].push(i),
            _ => roots.push(i),
        }
    }
    (roots, children)
}

fn loops(t: &Table, start: usize) -> bool {
    let mut i = start;
    for _ in 0..t.rows.len() {
        match t.parent.get(i).copied().flatten() {
            Some(p) if p == start => return true,
            Some(p) => i = p,
            None => return false,
        }
    }
    true
}

/// Depth-first order of the rows, each with whether it is the last child at each level of
/// its ancestry (for the glyphs).
fn order(t: &Table, tree: bool) -> Vec<(usize, Vec<bool>)> {
    let (roots, children) = forest(t, tree);
    let mut out = Vec::with_capacity(t.rows.len());
    let mut stack: Vec<(usize, Vec<bool>)> = roots.iter().rev().map(|&r| (r, Vec::new())).collect();
    while let Some((i, lasts)) = stack.pop() {
        let kids = &children[i];
        for (k, &c) in kids.iter().enumerate().rev() {
            let mut l = lasts.clone();
            l.push(k + 1 == kids.len());
            stack.push((c, l));
        }
        out.push((i, lasts));
    }
    out
}

fn glyphs(lasts: &[bool]) -> String {
    let mut s = String::new();
    for (d, &last) in lasts.iter().enumerate() {
        if d + 1 == lasts.len() {
            s.push_str(if last { "└─" } else { "├─" });
        } else {
            s.push_str(if last { "  " } else { "│ " });
        }
    }
    s
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn truncate(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// Print aligned columns: each row's cells laid out as lines of text, the columns' widths
/// (shrunk to the terminal where they may be), then the header and every line.
pub fn table(out: &mut impl Write, t: &Table, st: &Style) -> io::Result<()> {
    let end = if st.null { "\0" } else { "\n" };
    let lines = cell_lines(t, st);
    let mut widths = natural_widths(t, st, &lines);
    if let Some(term) = st.width {
        fit_to_terminal(t, &mut widths, term);
    }
    let mut line = String::new();
    let mut emit = |texts: &[&str]| -> io::Result<()> {
        format_line(&mut line, t, &widths, texts);
        out.write_all(line.trim_end_matches(' ').as_bytes())?;
        out.write_all(end.as_bytes())
    };
    if !st.noheadings {
        let names: Vec<&str> = t.heads.iter().map(|h| h.name).collect();
        emit(&names)?;
    }
    for cells in &lines {
        let height = cells.iter().map(Vec::len).max().unwrap_or(1);
        for l in 0..height {
            let texts: Vec<&str> = cells
                .iter()
                .map(|parts| parts.get(l).map_or("", String::as_str))
                .collect();
            emit(&texts)?;
        }
    }
    Ok(())
}

/// Every printed row, in tree order: for each cell, its lines of text (several for a
/// multi-line cell unless `--nowrap`), the tree column prefixed with its glyphs.
fn cell_lines(t: &Table, st: &Style) -> Vec<Vec<Vec<String>>> {
    let rows = order(t, st.tree);
    let mut lines = Vec::with_capacity(rows.len());
    for (i, lasts) in &rows {
        let mut cells: Vec<Vec<String>> = Vec::with_capacity(t.heads.len());
        for (c, cell) in t.rows[*i].iter().enumerate() {
            let mut parts = match cell {
                Cell::Lines(l) if !st.nowrap && !l.is_empty() => l.clone(),
                other => vec![other.text(",")],
            };
            if Some(c) == t.tree_col && st.tree {
                parts[0] = glyphs(lasts) + &parts[0];
            }
            cells.push(parts);
        }
        lines.push(cells);
    }
    lines
}

/// Each column's width: its widest text, the heading included unless `--noheadings`.
fn natural_widths(t: &Table, st: &Style, lines: &[Vec<Vec<String>>]) -> Vec<usize> {
    let mut widths: Vec<usize> = t
        .heads
        .iter()
        .map(|h| if st.noheadings { 0 } else { width(h.name) })
        .collect();
    for cells in lines {
        for (c, parts) in cells.iter().enumerate() {
            for p in parts {
                widths[c] = widths[c].max(width(p));
            }
        }
    }
    widths
}

/// Shrink the truncatable columns, left to right, down to their heading or minimum width,
/// until the line fits `term` columns (or nothing more can give).
fn fit_to_terminal(t: &Table, widths: &mut [usize], term: usize) {
    let total: usize = widths.iter().sum::<usize>() + widths.len().saturating_sub(1);
    let Some(mut excess) = total.checked_sub(term).filter(|&e| e > 0) else {
        return;
    };
    for (c, h) in t.heads.iter().enumerate() {
        if h.trunc && excess > 0 {
            let floor = h.min_width.max(width(h.name));
            let cut = excess.min(widths[c].saturating_sub(floor));
            widths[c] -= cut;
            excess -= cut;
        }
    }
}

/// One line of the table into `line`: each text truncated where its column may be, padded
/// to the column's width on the side its alignment says (the last column is not padded).
fn format_line(line: &mut String, t: &Table, widths: &[usize], texts: &[&str]) {
    let last = t.heads.len().saturating_sub(1);
    line.clear();
    for (c, text) in texts.iter().enumerate() {
        let h = &t.heads[c];
        let text = if h.trunc {
            truncate(text, widths[c])
        } else {
            text.to_string()
        };
        let pad = widths[c].saturating_sub(width(&text));
        if c > 0 {
            line.push(' ');
        }
        match h.align {
            Align::Right => {
                line.extend(std::iter::repeat(' ').take(pad));
                line.push_str(&text);
            }
            Align::Left => {
                line.push_str(&text);
                if c != last {
                    line.extend(std::iter::repeat(' ').take(pad));
                }
            }
        }
    }
}

/// Escape a raw cell: bytes outside printable ASCII, the space and the backslash become
/// `\xNN`, as lsns does, so every cell is one word.
pub fn escape_raw(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_graphic() && b != b'\\' {
            o.push(b as char);
        } else {
            o.push_str(&format!("\\x{b:02x}"));
        }
    }
    o
}

/// Print space-separated, escaped cells (no tree glyphs: raw output is for programs).
pub fn raw(out: &mut impl Write, t: &Table, st: &Style) -> io::Result<()> {
    let end: &[u8] = if st.null { b"\0" } else { b"\n" };
    if !st.noheadings {
        let names: Vec<&str> = t.heads.iter().map(|h| h.name).collect();
        out.write_all(names.join(" ").as_bytes())?;
        out.write_all(end)?;
    }
    for (i, _) in order(t, st.tree) {
        let cells: Vec<String> = t.rows[i].iter().map(|c| escape_raw(&c.text(","))).collect();
        out.write_all(cells.join(" ").as_bytes())?;
        out.write_all(end)?;
    }
    Ok(())
}

fn json_value(cell: &Cell, ty: JsonType) -> serde_json::Value {
    use serde_json::Value;
    match cell {
        c if c.is_empty() => Value::Null,
        Cell::Num(n) => match ty {
            JsonType::String => Value::String(n.to_string()),
            _ => i64::try_from(*n)
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(n.to_string())),
        },
        Cell::Nums(v) => Value::Array(v.iter().map(|&n| Value::from(n)).collect()),
        Cell::Lines(l) => Value::String(l.join("\n")),
        Cell::Str(s) => match ty {
            JsonType::Number => s
                .parse::<i64>()
                .map_or(Value::String(s.clone()), Value::from),
            _ => Value::String(s.clone()),
        },
        Cell::Empty => Value::Null,
    }
}

/// Print `{"KEY": [ {column: value, …, "children": [...]}, … ]}`. Keys keep column order.
pub fn json(out: &mut impl Write, key: &str, t: &Table, st: &Style) -> io::Result<()> {
    let (roots, children) = forest(t, st.tree);
    let mut s = String::from("{\n  ");
    s.push_str(&serde_json::Value::from(key).to_string());
    s.push_str(": [");
    let mut seen = vec![false; t.rows.len()];
    json_rows(&mut s, t, &roots, &children, 2, &mut seen);
    s.push_str("\n  ]\n}\n");
    out.write_all(s.as_bytes())
}

fn json_rows(
    s: &mut String,
    t: &Table,
    rows: &[usize],
    children: &[Vec<usize>],
    depth: usize,
    seen: &mut [bool],
) {
    let ind = "  ".repeat(depth);
    let mut first = true;
    for &i in rows {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        if !first {
            s.push(',');
        }
        first = false;
        s.push_str(&format!("\n{ind}{{"));
        for (c, cell) in t.rows[i].iter().enumerate() {
            let h = &t.heads[c];
            if c > 0 {
                s.push(',');
            }
            s.push_str(&format!(
                "\n{ind}  {}: {}",
                serde_json::Value::from(h.key),
                json_value(cell, h.json)
            ));
        }
        if !children[i].is_empty() {
            s.push_str(&format!(",\n{ind}  \"children\": ["));
            json_rows(s, t, &children[i], children, depth + 2, seen);
            s.push_str(&format!("\n{ind}  ]"));
        }
        s.push_str(&format!("\n{ind}}}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Table {
        let h = |name, key, align, json| Head {
            name,
            key,
            align,
            trunc: false,
            min_width: 1,
            json,
        };
        Table {
            heads: vec![
                h("NS", "ns", Align::Right, JsonType::Number),
                h("NSFS", "nsfs", Align::Left, JsonType::String),
                h("COMMAND", "command", Align::Left, JsonType::String),
            ],
            rows: vec![
                vec![Cell::Num(10), Cell::Empty, Cell::Str("a b".into())],
                vec![
                    Cell::Num(7),
                    Cell::Lines(vec!["/x".into(), "/yy".into()]),
                    Cell::Str("c".into()),
                ],
                vec![Cell::Num(8), Cell::Empty, Cell::Str("d".into())],
            ],
            parent: vec![None, Some(0), Some(1)],
            tree_col: Some(2),
        }
    }

    fn render(f: fn(&mut Vec<u8>, &Table, &Style) -> io::Result<()>, st: Style) -> String {
        let mut v = Vec::new();
        f(&mut v, &t(), &st).expect("write");
        String::from_utf8(v).expect("utf8")
    }

    #[test]
    fn tables_align_and_draw_trees() {
        let st = Style {
            tree: true,
            ..Style::default()
        };
        assert_eq!(
            render(table, st),
            "NS NSFS COMMAND\n10      a b\n 7 /x   └─c\n   /yy\n 8        └─d\n"
        );
        let st = Style {
            nowrap: true,
            noheadings: true,
            ..Style::default()
        };
        assert_eq!(
            render(table, st),
            "10        a b\n 7 /x,/yy c\n 8        d\n"
        );
    }

    #[test]
    fn raw_escapes() {
        let st = Style::default();
        assert_eq!(
            render(raw, st),
            "NS NSFS COMMAND\n10  a\\x20b\n7 /x,/yy c\n8  d\n"
        );
    }

    #[test]
    fn json_nests_only_for_trees() {
        for tree in [false, true] {
            let st = Style {
                tree,
                ..Style::default()
            };
            let mut v = Vec::new();
            json(&mut v, "namespaces", &t(), &st).expect("write");
            let j: serde_json::Value = serde_json::from_slice(&v).expect("valid JSON");
            let top = j["namespaces"].as_array().expect("array");
            if tree {
                assert_eq!(top.len(), 1);
                assert_eq!(top[0]["children"][0]["children"][0]["ns"], 8);
                assert_eq!(top[0]["children"][0]["nsfs"], "/x\n/yy");
            } else {
                assert_eq!(top.len(), 3);
                assert_eq!(top[0]["nsfs"], serde_json::Value::Null);
                assert_eq!(top[2]["command"], "d");
            }
        }
    }
}
