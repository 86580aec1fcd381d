//! `-Q/--filter EXPR`: lexer, parser and evaluator of lsns's filter expressions.
//!
//! ```text
//! expr    := or
//! or      := and   (("or" | "||") and)*
//! and     := unary (("and" | "&&") unary)*
//! unary   := ("not" | "!") unary | primary
//! primary := "(" expr ")" | operand [cmp operand]
//! cmp     := == != < > <= >= =~ !~ | eq ne lt gt le ge
//! operand := COLUMN | NUMBER | "string" | 'string'
//! ```
//!
//! Numbers compare numerically when both sides are numbers, anything else compares as text;
//! `=~` matches a regular expression (compiled once, when parsed). A column on its own is
//! true when it has a value other than 0. A comparison with an empty value is false (`!=`
//! true). Columns named in a filter need not be shown. Errors say where: `column N` counts
//! characters from 1.

use nsutils_common::{Error, Result};
use regex_lite::Regex;

use crate::columns::{Cell, Col};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Col(Col),
    Num(i128),
    Str(String),
    Cmp(Cmp),
    And,
    Or,
    Not,
    Open,
    Close,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Match,
    NoMatch,
}

/// A parsed filter.
#[derive(Debug)]
pub enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// A column on its own: has a non-zero value.
    Truthy(Operand),
    /// A comparison.
    Cmp(Operand, CmpOp, Operand),
}

/// One side of a comparison.
#[derive(Debug)]
pub enum Operand {
    /// A column's value.
    Col(Col),
    /// A number.
    Num(i128),
    /// A string.
    Str(String),
}

/// A comparison operator with its compiled regex.
#[derive(Debug)]
pub struct CmpOp {
    op: Cmp,
    re: Option<Regex>,
}

/// The most tokens an expression may have. Evaluating and dropping an expression recurse
/// once per level of its tree, and `A and B and …` is as deep as it is long: without a
/// bound, a long enough `-Q` (an argument may be 128 KiB) overflowed the stack.
pub const MAX_TOKENS: usize = 1000;
/// The deepest nesting of `(` and `not`, which the parser itself recurses into.
pub const MAX_DEPTH: usize = 64;

fn err(pos: usize, what: impl std::fmt::Display) -> Error {
    Error::msg(format!("cannot parse filter: column {pos}: {what}"))
}

/// A word that is no column, at `chars[start..end]`. After a comparison it was most likely
/// meant as a string: the hint shows the expression with it quoted.
fn unknown_word(chars: &[char], start: usize, end: usize, after_cmp: bool) -> Error {
    let word: String = chars[start..end].iter().collect();
    let e = err(start + 1, format!("unknown column '{word}'"));
    if after_cmp {
        let quoted: String = chars[..start]
            .iter()
            .chain(format!("\"{word}\"").chars().collect::<Vec<_>>().iter())
            .chain(chars[end..].iter())
            .collect();
        e.hint(format!(
            "strings need quotes inside the expression: -Q '{quoted}'"
        ))
    } else {
        e.hint("nsls --list-columns lists the columns")
    }
}

/// Split an expression into tokens, each with its column (1-based) for messages.
fn lex(src: &str) -> Result<Vec<(usize, Tok)>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<(usize, Tok)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        let (tok, next) = if c.is_whitespace() {
            i += 1;
            continue;
        } else if let Some((tok, len)) = operator(&chars[i..]) {
            (tok, i + len)
        } else if c == '"' || c == '\'' {
            let (text, next) = string(&chars, i)?;
            (Tok::Str(text), next)
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            number(&chars, i)?
        } else if c.is_ascii_alphabetic() || c == '_' {
            let after_cmp = matches!(out.last(), Some((_, Tok::Cmp(_))));
            word(&chars, i, after_cmp)?
        } else {
            return Err(err(pos, format!("unexpected character '{c}'")));
        };
        out.push((pos, tok));
        i = next;
    }
    Ok(out)
}

/// The operator `rest` begins with, and its length: two characters (`==`, `&&`, `=~`, …)
/// before one (`<`, `!`, `(`, …).
fn operator(rest: &[char]) -> Option<(Tok, usize)> {
    let two: String = rest.iter().take(2).collect();
    let tok = match two.as_str() {
        "==" => Tok::Cmp(Cmp::Eq),
        "!=" => Tok::Cmp(Cmp::Ne),
        "<=" => Tok::Cmp(Cmp::Le),
        ">=" => Tok::Cmp(Cmp::Ge),
        "=~" => Tok::Cmp(Cmp::Match),
        "!~" => Tok::Cmp(Cmp::NoMatch),
        "&&" => Tok::And,
        "||" => Tok::Or,
        _ => {
            let one = match rest.first()? {
                '<' => Tok::Cmp(Cmp::Lt),
                '>' => Tok::Cmp(Cmp::Gt),
                '!' => Tok::Not,
                '(' => Tok::Open,
                ')' => Tok::Close,
                _ => return None,
            };
            return Some((one, 1));
        }
    };
    Some((tok, 2))
}

/// The string quoted at `chars[start]` (by `"` or `'`; a backslash takes the next
/// character as it is), and where the text after it begins.
fn string(chars: &[char], start: usize) -> Result<(String, usize)> {
    let quote = chars[start];
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(err(start + 1, "unterminated string")),
            Some(&q) if q == quote => return Ok((s, i + 1)),
            Some('\\') if chars.get(i + 1).is_some() => {
                s.push(chars[i + 1]);
                i += 2;
            }
            Some(&ch) => {
                s.push(ch);
                i += 1;
            }
        }
    }
}

/// The (possibly negative) number at `chars[start]`, and where the text after it begins.
fn number(chars: &[char], start: usize) -> Result<(Tok, usize)> {
    let mut i = start + 1;
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    let s: String = chars[start..i].iter().collect();
    let n = s
        .parse()
        .map_err(|_| err(start + 1, format!("bad number '{s}'")))?;
    Ok((Tok::Num(n), i))
}

/// The word at `chars[start]`: a spelled operator (`and`, `eq`, …) or a column name, and
/// where the text after it begins. `after_cmp`: it follows a comparison, where an unknown
/// word was likely meant as a string (the hint says so).
fn word(chars: &[char], start: usize, after_cmp: bool) -> Result<(Tok, usize)> {
    let mut i = start;
    while chars
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
    {
        i += 1;
    }
    let word: String = chars[start..i].iter().collect();
    let tok = match word.to_ascii_lowercase().as_str() {
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        "eq" => Tok::Cmp(Cmp::Eq),
        "ne" => Tok::Cmp(Cmp::Ne),
        "lt" => Tok::Cmp(Cmp::Lt),
        "gt" => Tok::Cmp(Cmp::Gt),
        "le" => Tok::Cmp(Cmp::Le),
        "ge" => Tok::Cmp(Cmp::Ge),
        _ => {
            Tok::Col(Col::from_name(&word).ok_or_else(|| unknown_word(chars, start, i, after_cmp))?)
        }
    };
    Ok((tok, i))
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |(p, _)| *p)
    }
    fn or(&mut self) -> Result<Expr> {
        let mut l = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            l = Expr::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Expr> {
        let mut l = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            l = Expr::And(Box::new(l), Box::new(self.unary()?));
        }
        Ok(l)
    }
    fn unary(&mut self) -> Result<Expr> {
        if self.peek() == Some(&Tok::Not) {
            self.nest()?;
            self.at += 1;
            let e = Expr::Not(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        self.primary()
    }
    /// One more level of `(` or `not`, refused past [`MAX_DEPTH`].
    fn nest(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.pos(),
                format!("nested too deeply (more than {MAX_DEPTH} levels of '(' and 'not')"),
            ));
        }
        Ok(())
    }
    fn operand(&mut self) -> Result<Operand> {
        let pos = self.pos();
        let o = match self.peek() {
            Some(Tok::Col(c)) => Operand::Col(*c),
            Some(Tok::Num(n)) => Operand::Num(*n),
            Some(Tok::Str(s)) => Operand::Str(s.clone()),
            Some(t) => {
                return Err(err(
                    pos,
                    format!("expected a column, number or string, found {}", describe(t)),
                ))
            }
            None => return Err(err(pos, "unexpected end of expression")),
        };
        self.at += 1;
        Ok(o)
    }
    fn primary(&mut self) -> Result<Expr> {
        if self.peek() == Some(&Tok::Open) {
            let open = self.pos();
            self.nest()?;
            self.at += 1;
            let e = self.or()?;
            if self.peek() != Some(&Tok::Close) {
                return Err(err(
                    self.pos(),
                    format!("expected ')' to close the '(' at column {open}"),
                ));
            }
            self.at += 1;
            self.depth -= 1;
            return Ok(e);
        }
        let l = self.operand()?;
        let Some(Tok::Cmp(op)) = self.peek().cloned() else {
            return Ok(Expr::Truthy(l));
        };
        self.at += 1;
        let rpos = self.pos();
        let r = self.operand()?;
        let re = match (op, &r) {
            (Cmp::Match | Cmp::NoMatch, Operand::Str(s)) => {
                Some(Regex::new(s).map_err(|e| err(rpos, format!("bad regular expression: {e}")))?)
            }
            (Cmp::Match | Cmp::NoMatch, _) => {
                return Err(err(rpos, "the right side of =~ must be a quoted string"))
            }
            _ => None,
        };
        Ok(Expr::Cmp(l, CmpOp { op, re }, r))
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Col(c) => format!("column {}", c.info().name),
        Tok::Num(n) => format!("number {n}"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Cmp(_) => "an operator".into(),
        Tok::And => "'and'".into(),
        Tok::Or => "'or'".into(),
        Tok::Not => "'not'".into(),
        Tok::Open => "'('".into(),
        Tok::Close => "')'".into(),
    }
}

/// Parse a filter expression.
pub fn parse(src: &str) -> Result<Expr> {
    let toks = lex(src)?;
    let end = src.chars().count() + 1;
    if toks.is_empty() {
        return Err(err(1, "empty expression"));
    }
    if let Some((pos, _)) = toks.get(MAX_TOKENS) {
        return Err(err(
            *pos,
            format!("too long (more than {MAX_TOKENS} words, numbers and operators)"),
        ));
    }
    let mut p = Parser {
        toks,
        at: 0,
        end,
        depth: 0,
    };
    let e = p.or()?;
    if let Some(t) = p.peek() {
        return Err(err(p.pos(), format!("unexpected {}", describe(t))));
    }
    Ok(e)
}

/// A value during evaluation.
enum Val {
    Empty,
    Num(i128),
    Str(String),
}

fn value(o: &Operand, get: &mut dyn FnMut(Col) -> Cell) -> Val {
    match o {
        Operand::Num(n) => Val::Num(*n),
        Operand::Str(s) => Val::Str(s.clone()),
        Operand::Col(c) => match get(*c) {
            Cell::Empty => Val::Empty,
            Cell::Num(n) => Val::Num(n),
            other if other.is_empty() => Val::Empty,
            other => Val::Str(other.text(",")),
        },
    }
}

impl Expr {
    /// The columns the expression reads.
    pub fn columns(&self, out: &mut Vec<Col>) {
        let mut op = |o: &Operand| {
            if let Operand::Col(c) = o {
                out.push(*c);
            }
        };
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Expr::Not(a) => a.columns(out),
            Expr::Truthy(o) => op(o),
            Expr::Cmp(l, _, r) => {
                op(l);
                op(r);
            }
        }
    }

    /// Evaluate against one row; `get` yields a column's value.
    pub fn eval(&self, get: &mut dyn FnMut(Col) -> Cell) -> bool {
        match self {
            Expr::And(a, b) => a.eval(get) && b.eval(get),
            Expr::Or(a, b) => a.eval(get) || b.eval(get),
            Expr::Not(a) => !a.eval(get),
            Expr::Truthy(o) => match value(o, get) {
                Val::Empty => false,
                Val::Num(n) => n != 0,
                Val::Str(s) => !s.is_empty(),
            },
            Expr::Cmp(l, op, r) => {
                let (l, r) = (value(l, get), value(r, get));
                if let Some(re) = &op.re {
                    let m = match &l {
                        Val::Empty => false,
                        Val::Num(n) => re.is_match(&n.to_string()),
                        Val::Str(s) => re.is_match(s),
                    };
                    return m == (op.op == Cmp::Match);
                }
                let ord = match (&l, &r) {
                    (Val::Empty, _) | (_, Val::Empty) => return op.op == Cmp::Ne,
                    (Val::Num(a), Val::Num(b)) => a.cmp(b),
                    (Val::Num(a), Val::Str(b)) => a.to_string().as_str().cmp(b.as_str()),
                    (Val::Str(a), Val::Num(b)) => a.as_str().cmp(b.to_string().as_str()),
                    (Val::Str(a), Val::Str(b)) => a.cmp(b),
                };
                use std::cmp::Ordering::*;
                match op.op {
                    Cmp::Eq => ord == Equal,
                    Cmp::Ne => ord != Equal,
                    Cmp::Lt => ord == Less,
                    Cmp::Gt => ord == Greater,
                    Cmp::Le => ord != Greater,
                    Cmp::Ge => ord != Less,
                    Cmp::Match | Cmp::NoMatch => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(c: Col) -> Cell {
        match c {
            Col::Ns => Cell::Num(4026531833),
            Col::Type => Cell::Str("net".into()),
            Col::Pid => Cell::Num(42),
            Col::Command => Cell::Str("sleep 100".into()),
            Col::Nsfs => Cell::Lines(vec!["/run/netns/a".into()]),
            _ => Cell::Empty,
        }
    }

    fn t(src: &str) -> bool {
        parse(src)
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .eval(&mut row)
    }

    #[test]
    fn evaluates() {
        assert!(t("TYPE == \"net\""));
        assert!(t("type eq 'net' and PID > 10"));
        assert!(t("PID >= 42 && PID <= 42 && PID lt 43 && PID ge 42"));
        assert!(t("NS == 4026531833"));
        assert!(!t("TYPE != 'net'"));
        assert!(t("COMMAND =~ '^sle+p'"));
        assert!(t("COMMAND !~ 'bash'"));
        assert!(t("not (TYPE == 'pid' || PID < 10)"));
        assert!(t("! PID == 1"));
        assert!(t("NSFS && NSFS =~ 'netns'"));
        assert!(!t("PPID"));
        assert!(!t("PPID == 0"));
        assert!(t("PPID != 0"));
        assert!(t("TYPE == 'pid' or TYPE == 'net' and PID == 42"));
    }

    #[test]
    fn errors_say_where() {
        for (src, want) in [
            ("PID >", "column 6: unexpected end of expression"),
            ("FOO == 1", "column 1: unknown column 'FOO'"),
            ("PID == 1 1", "column 10: unexpected number 1"),
            (
                "(PID == 1",
                "column 10: expected ')' to close the '(' at column 1",
            ),
            ("TYPE == 'net", "column 9: unterminated string"),
            ("PID # 1", "column 5: unexpected character '#'"),
            ("COMMAND =~ '('", "column 12: bad regular expression"),
            ("", "column 1: empty expression"),
        ] {
            let e = parse(src).expect_err(src).to_string();
            assert!(
                e.starts_with(&format!("cannot parse filter: {want}")),
                "{src}: {e}"
            );
        }
    }

    /// Found by fuzzing the `nsls_filter` target with long inputs: 131,000 `!`, 60,000
    /// nested parentheses or a chain of 43,000 `&&` overflowed the stack (SIGSEGV) while
    /// parsing, evaluating or dropping the expression.
    #[test]
    fn deep_or_long_expressions_are_refused_not_a_crash() {
        let deep_not = format!("{}PID", "!".repeat(131_000));
        let deep_paren = format!("{}PID{}", "(".repeat(60_000), ")".repeat(60_000));
        let long_and = format!("{}1", "1&&".repeat(43_000));
        let not_100 = format!("{}PID", "!".repeat(100));
        let paren_100 = format!("{}PID{}", "(".repeat(100), ")".repeat(100));
        for (src, want) in [
            (&deep_not, "column 1001: too long (more than 1000 words"),
            (&deep_paren, "column 1001: too long (more than 1000 words"),
            (&long_and, "column 1501: too long (more than 1000 words"),
            (&not_100, "column 65: nested too deeply"),
            (&paren_100, "column 65: nested too deeply"),
        ] {
            let e = parse(src).expect_err("accepted").to_string();
            assert!(
                e.starts_with(&format!("cannot parse filter: {want}")),
                "{e}"
            );
        }
        // Right at the limits it still works.
        let ok_not = format!("{}PID", "!".repeat(MAX_DEPTH));
        assert!(t(&ok_not)); // an even number of negations
        let ok_paren = format!("{}PID{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(t(&ok_paren));
        let ok_and = format!("{}1", "1&&".repeat((MAX_TOKENS - 1) / 2));
        assert!(t(&ok_and));
        // Depth counts nesting, not how many groups there are.
        let wide = vec!["(PID)"; 200].join(" and ");
        assert!(t(&wide));
    }

    #[test]
    fn reports_columns() {
        let mut v = Vec::new();
        parse("PNS == 0 or ONS > 1").expect("parse").columns(&mut v);
        assert_eq!(v, [Col::Pns, Col::Ons]);
    }
}

/// Property tests of the evaluator: the operators against Rust's, and the algebraic laws of
/// `not`, `and`, `or` on random expressions and random rows.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// A row: PID and NS numbers (PID sometimes empty), TYPE and COMMAND text.
    #[derive(Debug, Clone)]
    struct Row {
        pid: Option<i64>,
        ns: i64,
        kind: &'static str,
        command: String,
    }

    impl Row {
        fn get(&self, c: Col) -> Cell {
            match c {
                Col::Pid => self.pid.map_or(Cell::Empty, |p| Cell::Num(p.into())),
                Col::Ns => Cell::Num(self.ns.into()),
                Col::Type => Cell::Str(self.kind.into()),
                Col::Command => Cell::Str(self.command.clone()),
                _ => Cell::Empty,
            }
        }
    }

    fn row() -> impl Strategy<Value = Row> {
        (
            proptest::option::of(-5i64..50),
            any::<i64>(),
            prop::sample::select(vec!["net", "pid", "user", "mnt"]),
            "[a-c ]{0,6}",
        )
            .prop_map(|(pid, ns, kind, command)| Row {
                pid,
                ns,
                kind,
                command,
            })
    }

    const OPS: [&str; 12] = [
        "==", "!=", "<", ">", "<=", ">=", "eq", "ne", "lt", "gt", "le", "ge",
    ];

    /// Leaves: comparisons, bare columns, regular expressions.
    fn atom() -> impl Strategy<Value = String> {
        prop_oneof![
            (prop::sample::select(OPS.to_vec()), -5i64..50)
                .prop_map(|(op, n)| format!("PID {op} {n}")),
            (prop::sample::select(OPS.to_vec()), any::<i64>())
                .prop_map(|(op, n)| format!("NS {op} {n}")),
            prop::sample::select(vec!["net", "pid", "x"]).prop_map(|t| format!("TYPE == '{t}'")),
            Just("PID".to_string()),
            Just("PPID".to_string()),
            "[abc]{1,2}".prop_map(|re| format!("COMMAND =~ \"{re}\"")),
            "[abc]{1,2}".prop_map(|re| format!("COMMAND !~ '{re}'")),
        ]
    }

    fn expr() -> impl Strategy<Value = String> {
        atom().prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
                inner.clone().prop_map(|a| format!("not ({a})")),
                inner.prop_map(|a| format!("!({a})")),
            ]
        })
    }

    fn eval(src: &str, r: &Row) -> bool {
        parse(src)
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .eval(&mut |c| r.get(c))
    }

    proptest! {
        #[test]
        fn not_is_negation(a in expr(), r in row()) {
            let v = eval(&a, &r);
            prop_assert_eq!(eval(&format!("not ({a})"), &r), !v);
            prop_assert_eq!(eval(&format!("!({a})"), &r), !v);
            prop_assert_eq!(eval(&format!("not not ({a})"), &r), v);
        }

        #[test]
        fn and_or_commute_and_match_rust(a in expr(), b in expr(), r in row()) {
            let (va, vb) = (eval(&a, &r), eval(&b, &r));
            for (x, y) in [(&a, &b), (&b, &a)] {
                prop_assert_eq!(eval(&format!("({x}) and ({y})"), &r), va && vb);
                prop_assert_eq!(eval(&format!("({x}) && ({y})"), &r), va && vb);
                prop_assert_eq!(eval(&format!("({x}) or ({y})"), &r), va || vb);
                prop_assert_eq!(eval(&format!("({x}) || ({y})"), &r), va || vb);
            }
            // De Morgan.
            prop_assert_eq!(
                eval(&format!("not (({a}) and ({b}))"), &r),
                eval(&format!("!({a}) or !({b})"), &r)
            );
        }

        /// `and` binds tighter than `or`, as in C.
        #[test]
        fn precedence(a in atom(), b in atom(), c in atom(), r in row()) {
            let (va, vb, vc) = (eval(&a, &r), eval(&b, &r), eval(&c, &r));
            prop_assert_eq!(eval(&format!("{a} or {b} and {c}"), &r), va || (vb && vc));
            prop_assert_eq!(eval(&format!("{a} and {b} or {c}"), &r), (va && vb) || vc);
        }

        /// Numbers compare as Rust compares them, whatever the spelling of the operator,
        /// with the number on either side; an empty column compares false (`!=` true).
        #[test]
        fn comparisons_agree_with_rust(x in any::<i64>(), y in any::<i64>(), empty in any::<bool>()) {
            let r = Row { pid: (!empty).then_some(x), ns: 0, kind: "net", command: String::new() };
            // (symbol, word, Rust's operator, the symbol with the sides swapped)
            type Op = (&'static str, &'static str, fn(&i64, &i64) -> bool, &'static str);
            let table: [Op; 6] = [
                ("==", "eq", i64::eq, "=="),
                ("!=", "ne", i64::ne, "!="),
                ("<", "lt", i64::lt, ">"),
                (">", "gt", i64::gt, "<"),
                ("<=", "le", i64::le, ">="),
                (">=", "ge", i64::ge, "<="),
            ];
            for (sym, word, rust, mirrored) in table {
                let want = if empty { sym == "!=" } else { rust(&x, &y) };
                prop_assert_eq!(eval(&format!("PID {sym} {y}"), &r), want, "PID {} {}", sym, y);
                prop_assert_eq!(eval(&format!("PID {word} {y}"), &r), want);
                prop_assert_eq!(eval(&format!("{y} {mirrored} PID"), &r), want);
                prop_assert_eq!(eval(&format!("{x} {sym} {y}"), &r), rust(&x, &y));
            }
        }
    }
}
