//! A fast parser for the block-style YAML the support-bundle generator writes, used before
//! `yaml_serde` when decoding items.
//!
//! The generator emits every resource list with gopkg.in/yaml.v2: block style, keys sorted,
//! 2-space indentation, sequences at their parent key's indentation (`items:\n- a`), no anchors,
//! aliases, tags or comments, multi-line strings as literal blocks (`|`, `|-`, `|+`, `|2`…),
//! long strings folded over several lines (plain, single- or double-quoted). This module reads
//! exactly that subset into a small tree and hands it to serde through a deserializer that
//! behaves like `yaml_serde`'s on the same text, so a typed view decoded here is the view
//! `yaml_serde::from_str` would give.
//!
//! It declines (returns `None`) on anything it is not sure about, and the caller then uses
//! `yaml_serde`, so odd inputs and errors keep `yaml_serde`'s exact behaviour:
//! * flow collections other than `{}` and `[]`, anchors, aliases, tags, directives, comments,
//!   complex (`? `) keys, folded (`>`) block scalars, a second document, `...`;
//! * tabs, carriage returns, control characters, byte-order marks, Unicode line separators;
//! * a document that is not a block mapping or sequence, odd indentation, a key without a
//!   value, a scalar alone on a line, duplicate keys, keys longer than 1000 bytes, nesting
//!   deeper than 100 levels;
//! * plain scalars whose type is not plainly a string, `null`/`~`, a boolean, a decimal integer
//!   that fits 64 bits, or a decimal float (`1e+06`, `0.5`): hex/octal/binary integers, `+1`,
//!   `.5`, `.inf`, `.nan`, `-0`, 128-bit integers, plain keys that are not strings;
//! * escaped line breaks in double-quoted scalars, plain scalars containing `: ` or ` #`.
//!
//! Plain scalars are typed with the rules of `yaml_serde` (ported verbatim below: YAML 1.2 core
//! schema, `digits_but_not_number`), and the deserializer mirrors `yaml_serde`'s per-method
//! behaviour (a struct never reads from a sequence, a string field never reads a number, the
//! 128-level recursion limit, the length checks after a sequence or map): where `yaml_serde`
//! would accept something this one does not, the decode fails here and the caller falls back.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};

/// Deepest nesting of collections the fast path reads (`yaml_serde` stops at 128).
const MAX_DEPTH: usize = 100;
/// Longest key, quotes included (libyaml refuses simple keys past 1024 characters).
const MAX_KEY_BYTES: usize = 1000;
/// `yaml_serde`'s recursion budget, mirrored by [`De`].
const RECURSION_LIMIT: u8 = 128;

/// Parses `text` as JSON-like data: `Some` exactly when the fast path recognises the text, and
/// then equal to `yaml_serde::from_str::<serde_json::Value>(text)`.
pub fn parse(text: &str) -> Option<serde_json::Value> {
    from_str(text)
}

/// Decodes `text` into `T` through the fast path; `None` when the text is outside the subset
/// or `T` does not decode from it (the caller then uses `yaml_serde`, which may still succeed).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Option<T> {
    let node = Parser::new(text)?.document()?;
    T::deserialize(De::new(&node)).ok()
}

/// Whether the fast path recognises `text` (parses it into a tree).
pub fn accepts(text: &str) -> bool {
    Parser::new(text).and_then(Parser::document).is_some()
}

// ---------------------------------------------------------------- tree

/// A parsed value. Map entries keep the document order.
#[derive(Debug, Clone, PartialEq)]
enum Node<'a> {
    Null,
    Bool(bool),
    /// A non-negative integer.
    Pos(u64),
    /// A negative integer.
    Neg(i64),
    /// A finite float.
    Float(f64),
    Str(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    Map(Vec<(Cow<'a, str>, Node<'a>)>),
}

// ---------------------------------------------------------------- characters

/// Refuses what libyaml rejects or reads specially anywhere in a document: control characters
/// (tab and carriage return included; the generator never writes them raw), DEL, C1 controls
/// (NEL is a line break to libyaml), U+2028/U+2029 (line breaks), U+FEFF (skipped at a line
/// start), U+FFFE/U+FFFF.
fn clean_chars(b: &[u8]) -> bool {
    // Fast pass over ASCII text, 16 bytes at a time (vectorised).
    let mut chunks = b.chunks_exact(16);
    let mut clean = true;
    for c in &mut chunks {
        let ok = c.iter().fold(true, |a, &x| {
            a & (((0x20..0x7F).contains(&x)) | (x == b'\n'))
        });
        if !ok {
            clean = false;
            break;
        }
    }
    if clean
        && chunks
            .remainder()
            .iter()
            .all(|&x| (0x20..0x7F).contains(&x) || x == b'\n')
    {
        return true;
    }
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let next = |k: usize| b.get(i + k).copied();
        let bad = match c {
            b'\n' => false,
            0x00..=0x1F | 0x7F => true,
            0xC2 => next(1).is_some_and(|d| d < 0xA0),
            0xE2 => next(1) == Some(0x80) && matches!(next(2), Some(0xA8 | 0xA9)),
            0xEF => {
                (next(1) == Some(0xBB) && next(2) == Some(0xBF))
                    || (next(1) == Some(0xBF) && matches!(next(2), Some(0xBE | 0xBF)))
            }
            _ => false,
        };
        if bad {
            return false;
        }
        i += 1;
    }
    true
}

// ---------------------------------------------------------------- plain scalar types

/// What a plain scalar means to `yaml_serde`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plain {
    Null,
    Bool(bool),
    Pos(u64),
    Neg(i64),
    Float(f64),
    Str,
    /// A number or null in a form the fast path does not take (hex, `+1`, `.inf`, `-0`, …).
    Exotic,
}

/// `yaml_serde`'s `visit_untagged_scalar`, restricted: the common forms are typed, the rest is
/// [`Plain::Exotic`]. Strings are exactly the scalars `yaml_serde` reads as strings.
fn resolve(v: &str) -> Plain {
    let Some(&c) = v.as_bytes().first() else {
        return Plain::Exotic;
    };
    match c {
        // Only these letters start a null or a boolean; no letter starts a finite number
        // (`inf`, `nan`, `infinity` parse to non-finite floats, which yaml_serde keeps as text).
        b'~' | b'n' | b'N' => match v {
            "~" | "null" | "Null" | "NULL" => Plain::Null,
            _ => Plain::Str,
        },
        b't' | b'T' | b'f' | b'F' => match v {
            "true" | "True" | "TRUE" => Plain::Bool(true),
            "false" | "False" | "FALSE" => Plain::Bool(false),
            _ => Plain::Str,
        },
        b'0'..=b'9' | b'+' | b'-' | b'.' => numeric(v),
        _ => Plain::Str,
    }
}

fn numeric(v: &str) -> Plain {
    if let Some(n) = parse_unsigned_int(v, u64::from_str_radix) {
        return if clean_int(v) {
            Plain::Pos(n)
        } else {
            Plain::Exotic
        };
    }
    if let Some(n) = parse_negative_int(v, i64::from_str_radix) {
        return if clean_int(v) && n < 0 {
            Plain::Neg(n)
        } else {
            Plain::Exotic
        };
    }
    if parse_unsigned_int(v, u128::from_str_radix).is_some()
        || parse_negative_int(v, i128::from_str_radix).is_some()
    {
        return Plain::Exotic;
    }
    if !digits_but_not_number(v)
        && let Some(f) = parse_f64(v)
    {
        return if clean_float(v) {
            Plain::Float(f)
        } else {
            Plain::Exotic
        };
    }
    Plain::Str
}

/// `-?(0|[1-9][0-9]*)`.
fn clean_int(v: &str) -> bool {
    let d = v.strip_prefix('-').unwrap_or(v).as_bytes();
    match d {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// `-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?` with a fraction or an exponent (Go's and ryu's
/// shortest float forms).
fn clean_float(v: &str) -> bool {
    let b = v.strip_prefix('-').unwrap_or(v).as_bytes();
    let digits = |s: &[u8]| -> usize { s.iter().take_while(|c| c.is_ascii_digit()).count() };
    let int = digits(b);
    if int == 0 {
        return false;
    }
    let mut rest = b.get(int..).unwrap_or_default();
    let mut marked = false;
    if let Some(r) = rest.strip_prefix(b".") {
        let n = digits(r);
        if n == 0 {
            return false;
        }
        rest = r.get(n..).unwrap_or_default();
        marked = true;
    }
    if let Some(r) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let r = r
            .strip_prefix(b"+")
            .or_else(|| r.strip_prefix(b"-"))
            .unwrap_or(r);
        let n = digits(r);
        if n == 0 {
            return false;
        }
        rest = r.get(n..).unwrap_or_default();
        marked = true;
    }
    marked && rest.is_empty()
}

// The four functions below are yaml_serde's (de.rs), kept identical so that "is a string"
// means the same thing here and there.

fn parse_unsigned_int<T>(
    scalar: &str,
    from_str_radix: fn(&str, radix: u32) -> Result<T, std::num::ParseIntError>,
) -> Option<T> {
    let unpositive = scalar.strip_prefix('+').unwrap_or(scalar);
    if let Some(rest) = unpositive.strip_prefix("0x") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 16) {
            return Some(int);
        }
    }
    if let Some(rest) = unpositive.strip_prefix("0o") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 8) {
            return Some(int);
        }
    }
    if let Some(rest) = unpositive.strip_prefix("0b") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 2) {
            return Some(int);
        }
    }
    if unpositive.starts_with(['+', '-']) {
        return None;
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(unpositive, 10).ok()
}

fn parse_negative_int<T>(
    scalar: &str,
    from_str_radix: fn(&str, radix: u32) -> Result<T, std::num::ParseIntError>,
) -> Option<T> {
    if let Some(rest) = scalar.strip_prefix("-0x") {
        let negative = format!("-{rest}");
        if let Ok(int) = from_str_radix(&negative, 16) {
            return Some(int);
        }
    }
    if let Some(rest) = scalar.strip_prefix("-0o") {
        let negative = format!("-{rest}");
        if let Ok(int) = from_str_radix(&negative, 8) {
            return Some(int);
        }
    }
    if let Some(rest) = scalar.strip_prefix("-0b") {
        let negative = format!("-{rest}");
        if let Ok(int) = from_str_radix(&negative, 2) {
            return Some(int);
        }
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(scalar, 10).ok()
}

fn parse_f64(scalar: &str) -> Option<f64> {
    let unpositive = if let Some(unpositive) = scalar.strip_prefix('+') {
        if unpositive.starts_with(['+', '-']) {
            return None;
        }
        unpositive
    } else {
        scalar
    };
    if let ".inf" | ".Inf" | ".INF" = unpositive {
        return Some(f64::INFINITY);
    }
    if let "-.inf" | "-.Inf" | "-.INF" = scalar {
        return Some(f64::NEG_INFINITY);
    }
    if let ".nan" | ".NaN" | ".NAN" = scalar {
        return Some(f64::NAN.copysign(1.0));
    }
    if let Ok(float) = unpositive.parse::<f64>()
        && float.is_finite()
    {
        return Some(float);
    }
    None
}

fn digits_but_not_number(scalar: &str) -> bool {
    // Leading zero(s) followed by numeric characters is a string according to
    // the YAML 1.2 spec. https://yaml.org/spec/1.2/spec.html#id2761292
    let scalar = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    scalar.len() > 1
        && scalar.starts_with('0')
        && scalar.bytes().skip(1).all(|b| b.is_ascii_digit())
}

/// The node of a plain scalar, `None` for the exotic forms.
fn plain_node(v: Cow<'_, str>) -> Option<Node<'_>> {
    Some(match resolve(&v) {
        Plain::Null => Node::Null,
        Plain::Bool(b) => Node::Bool(b),
        Plain::Pos(n) => Node::Pos(n),
        Plain::Neg(n) => Node::Neg(n),
        Plain::Float(f) => Node::Float(f),
        Plain::Str => Node::Str(v),
        Plain::Exotic => return None,
    })
}

// ---------------------------------------------------------------- parser

/// A key found at the start of a line, or the reason there is none.
enum Key<'a> {
    /// The key and the offset just past its `:`.
    Found(Cow<'a, str>, usize),
    /// The line holds a scalar or a collection, not a `key:`.
    NotKey,
}

/// A quoted scalar and the offset past its closing quote; `None` when it does not close on its
/// line and may not continue.
type Quoted<'a> = Option<(Cow<'a, str>, usize)>;

/// Line-oriented reader. The "current line" is a position (`pos`, at column `col`) up to
/// `eol`; after `- ` the position moves inside the line (compact nodes).
struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    col: usize,
    eol: usize,
    eof: bool,
}

fn is_entry(r: &[u8]) -> bool {
    r.first() == Some(&b'-') && r.get(1).is_none_or(|&c| c == b' ')
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Option<Self> {
        clean_chars(text.as_bytes()).then_some(Parser {
            text,
            b: text.as_bytes(),
            pos: 0,
            col: 0,
            eol: 0,
            eof: true,
        })
    }

    fn line_end(&self, from: usize) -> usize {
        self.b
            .get(from..)
            .and_then(|r| r.iter().position(|&c| c == b'\n'))
            .map_or(self.b.len(), |p| from + p)
    }

    fn spaces(&self, from: usize) -> usize {
        self.b
            .get(from..)
            .map_or(0, |r| r.iter().take_while(|&&c| c == b' ').count())
    }

    fn rest(&self) -> &'a [u8] {
        self.b.get(self.pos..self.eol).unwrap_or_default()
    }

    fn str(&self, from: usize, to: usize) -> Option<&'a str> {
        self.text.get(from..to)
    }

    /// Only spaces between `from` and the end of its line.
    fn blank_to_eol(&self, from: usize) -> bool {
        let e = self.line_end(from);
        self.b
            .get(from..e)
            .is_some_and(|r| r.iter().all(|&c| c == b' '))
    }

    /// Moves to the first non-blank line starting at or after `from` (a line start).
    /// Declines comment lines and document markers.
    fn seek(&mut self, mut from: usize) -> Option<()> {
        loop {
            if from >= self.b.len() {
                self.eof = true;
                self.pos = self.b.len();
                self.eol = self.b.len();
                self.col = 0;
                return Some(());
            }
            let eol = self.line_end(from);
            let n = self.spaces(from);
            if from + n >= eol {
                from = eol + 1;
                continue;
            }
            let line = self.b.get(from..eol)?;
            if line.get(n) == Some(&b'#') {
                return None;
            }
            if n == 0
                && (line.starts_with(b"---") || line.starts_with(b"..."))
                && line.get(3).is_none_or(|&c| c == b' ')
            {
                return None;
            }
            self.pos = from + n;
            self.col = n;
            self.eol = eol;
            self.eof = false;
            return Some(());
        }
    }

    fn document(mut self) -> Option<Node<'a>> {
        // An optional `---` alone on the first non-blank line.
        let mut start = 0;
        loop {
            if start >= self.b.len() {
                return None;
            }
            let eol = self.line_end(start);
            let line = self.b.get(start..eol)?;
            if line.iter().all(|&c| c == b' ') {
                start = eol + 1;
                continue;
            }
            let doc_start = line.starts_with(b"---")
                && line.get(3..).is_some_and(|r| r.iter().all(|&c| c == b' '));
            self.seek(if doc_start { eol + 1 } else { start })?;
            break;
        }
        if self.eof {
            return None;
        }
        let node = self.block_node(0)?;
        self.eof.then_some(node)
    }

    /// A mapping or sequence starting at the current line.
    fn block_node(&mut self, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let col = self.col;
        if is_entry(self.rest()) {
            self.seq(col, depth)
        } else {
            self.map(col, depth, None)
        }
    }

    fn map(
        &mut self,
        col: usize,
        depth: usize,
        mut first: Option<(Cow<'a, str>, usize)>,
    ) -> Option<Node<'a>> {
        let mut entries: Vec<(Cow<'a, str>, Node<'a>)> = Vec::new();
        loop {
            let (key, after) = match first.take() {
                Some(k) => k,
                None => match self.key()? {
                    Key::Found(k, a) => (k, a),
                    Key::NotKey => return None,
                },
            };
            let value = self.map_value(after, col, depth + 1)?;
            entries.push((key, value));
            if self.eof || self.col < col {
                break;
            }
            if self.col > col || is_entry(self.rest()) {
                return None;
            }
        }
        if has_duplicates(&entries) {
            return None;
        }
        Some(Node::Map(entries))
    }

    /// The value after `key:` (`after` is just past the colon) of a mapping at `col`.
    fn map_value(&mut self, after: usize, col: usize, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let s = after + self.spaces(after);
        if s < self.eol {
            return self.scalar(s, col);
        }
        self.seek(self.eol + 1)?;
        if self.eof {
            return None;
        }
        if self.col > col {
            self.block_node(depth)
        } else if self.col == col && is_entry(self.rest()) {
            // yaml.v2's sequences sit at their key's indentation.
            self.seq(col, depth)
        } else {
            None
        }
    }

    fn seq(&mut self, col: usize, depth: usize) -> Option<Node<'a>> {
        let mut items = Vec::new();
        loop {
            let s = self.pos + 1 + self.spaces(self.pos + 1);
            let item = if s >= self.eol {
                self.seek(self.eol + 1)?;
                if self.eof || self.col <= col {
                    return None;
                }
                self.block_node(depth + 1)?
            } else {
                self.col += s - self.pos;
                self.pos = s;
                self.inline_node(col, depth + 1)?
            };
            items.push(item);
            if self.eof || self.col < col {
                break;
            }
            if self.col > col {
                return None;
            }
            if !is_entry(self.rest()) {
                // The end of a sequence at its key's indentation; any other case is refused
                // by the caller (a line at this column that is not an entry).
                break;
            }
        }
        Some(Node::Seq(items))
    }

    /// What follows `- ` of an entry of a sequence at column `ctx`: a nested sequence, a
    /// compact mapping, or a scalar.
    fn inline_node(&mut self, ctx: usize, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let col = self.col;
        if is_entry(self.rest()) {
            return self.seq(col, depth);
        }
        match self.key()? {
            Key::Found(k, a) => self.map(col, depth, Some((k, a))),
            Key::NotKey => self.scalar(self.pos, ctx),
        }
    }

    /// Reads a `key:` at the current position.
    fn key(&self) -> Option<Key<'a>> {
        let r = self.rest();
        let first = *r.first()?;
        let (key, end) = match first {
            b'"' | b'\'' => match self.quoted(self.pos, first == b'\'', None)? {
                Some(k) => k,
                None => return Some(Key::NotKey),
            },
            // An entry, a complex key or a value indicator; followed by anything else, these
            // start a plain scalar.
            b'?' | b':' | b'-' if r.get(1).is_none_or(|&c| c == b' ') => return None,
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%'
            | b'@' | b'`' => return Some(Key::NotKey),
            _ => {
                let mut colon = None;
                for (i, &c) in r.iter().enumerate() {
                    if c == b':' && r.get(i + 1).is_none_or(|&n| n == b' ') {
                        colon = Some(i);
                        break;
                    }
                    if c == b'#' && i > 0 && r.get(i - 1) == Some(&b' ') {
                        return None;
                    }
                }
                let Some(i) = colon else {
                    return Some(Key::NotKey);
                };
                let raw = self.str(self.pos, self.pos + i)?;
                // (`<<` is an ordinary key to yaml_serde: it never merges while decoding.)
                if raw.ends_with(' ') || resolve(raw) != Plain::Str {
                    return None;
                }
                (Cow::Borrowed(raw), self.pos + i)
            }
        };
        if end - self.pos > MAX_KEY_BYTES {
            return None;
        }
        match (self.b.get(end), self.b.get(end + 1)) {
            (Some(b':'), None | Some(b' ' | b'\n')) => Some(Key::Found(key, end + 1)),
            (Some(b':'), _) => None,
            _ => Some(Key::NotKey),
        }
    }

    /// A scalar (or `{}` / `[]`) starting at `s` on the current line, in a collection whose
    /// libyaml indentation is `ctx`; moves to the line after it.
    fn scalar(&mut self, s: usize, ctx: usize) -> Option<Node<'a>> {
        let first = *self.b.get(s)?;
        let next = self.b.get(s + 1).copied();
        match first {
            b'"' | b'\'' => {
                let (v, end) = self.quoted(s, first == b'\'', Some(ctx + 1))??;
                if !self.blank_to_eol(end) {
                    return None;
                }
                let e = self.line_end(end);
                self.seek(e + 1)?;
                Some(Node::Str(v))
            }
            b'|' => self.literal(s, ctx),
            b'{' | b'[' => {
                let close = if first == b'{' { b'}' } else { b']' };
                if next != Some(close) || !self.blank_to_eol(s + 2) {
                    return None;
                }
                self.seek(self.eol + 1)?;
                Some(if first == b'{' {
                    Node::Map(Vec::new())
                } else {
                    Node::Seq(Vec::new())
                })
            }
            b'-' | b'?' | b':' if next.is_none_or(|c| c == b' ' || c == b'\n') => None,
            b',' | b']' | b'}' | b'#' | b'&' | b'*' | b'!' | b'>' | b'%' | b'@' | b'`' => None,
            _ => self.plain(s, ctx),
        }
    }

    /// The end (trailing spaces dropped) of a plain line segment `s..eol`; `None` when it
    /// holds `: `, a final `:` or ` #`.
    fn plain_segment(&self, s: usize, eol: usize) -> Option<usize> {
        let r = self.b.get(s..eol)?;
        let mut prev = b' ';
        for (i, &c) in r.iter().enumerate() {
            match c {
                b':' if r.get(i + 1).is_none_or(|&n| n == b' ') => return None,
                b'#' if prev == b' ' => return None,
                _ => {}
            }
            prev = c;
        }
        let trimmed = r.iter().rposition(|&c| c != b' ').map_or(0, |p| p + 1);
        Some(s + trimmed)
    }

    /// A plain scalar, possibly folded over more-indented lines (libyaml: each line break
    /// becomes a space, or n line breaks for n empty lines).
    fn plain(&mut self, s: usize, ctx: usize) -> Option<Node<'a>> {
        let end = self.plain_segment(s, self.eol)?;
        let mut value = Cow::Borrowed(self.str(s, end)?);
        let mut next = self.eol + 1;
        loop {
            let mut breaks = 0;
            let mut p = next;
            let (start, eol) = loop {
                if p >= self.b.len() {
                    break (None, p);
                }
                let eol = self.line_end(p);
                let n = self.spaces(p);
                if p + n >= eol {
                    breaks += 1;
                    p = eol + 1;
                    continue;
                }
                break (Some(p + n).filter(|_| n > ctx), eol);
            };
            let Some(cs) = start else {
                break;
            };
            if self.b.get(cs) == Some(&b'#') {
                return None;
            }
            let ce = self.plain_segment(cs, eol)?;
            let v = value.to_mut();
            if breaks == 0 {
                v.push(' ');
            } else {
                v.extend(std::iter::repeat_n('\n', breaks));
            }
            v.push_str(self.str(cs, ce)?);
            next = eol + 1;
        }
        self.seek(next)?;
        plain_node(value)
    }

    /// A single- or double-quoted scalar starting at `s` (its quote). With `min_col`, it may
    /// continue on lines indented at least that much; without, it must close on its line
    /// (`Some(None)` otherwise). Returns the value and the offset past the closing quote.
    fn quoted(&self, s: usize, single: bool, min_col: Option<usize>) -> Option<Quoted<'a>> {
        let q = if single { b'\'' } else { b'"' };
        let b = self.b;
        let start = s + 1;
        let special = |c: u8| c == q || c == b'\n' || (!single && c == b'\\');
        // Common case: no escape, no line break.
        let run = b.get(start..)?.iter().position(|&c| special(c))?;
        if b.get(start + run) == Some(&q) && !(single && b.get(start + run + 1) == Some(&q)) {
            return Some(Some((
                Cow::Borrowed(self.str(start, start + run)?),
                start + run + 1,
            )));
        }
        let mut out = String::new();
        let mut i = start;
        loop {
            let c = *b.get(i)?;
            if c == q {
                if single && b.get(i + 1) == Some(&q) {
                    out.push('\'');
                    i += 2;
                    continue;
                }
                return Some(Some((Cow::Owned(out), i + 1)));
            }
            match c {
                b'\\' if !single => {
                    let e = *b.get(i + 1)?;
                    let simple = match e {
                        b'0' => Some('\0'),
                        b'a' => Some('\x07'),
                        b'b' => Some('\x08'),
                        b't' => Some('\t'),
                        b'n' => Some('\n'),
                        b'v' => Some('\x0B'),
                        b'f' => Some('\x0C'),
                        b'r' => Some('\r'),
                        b'e' => Some('\x1B'),
                        b' ' => Some(' '),
                        b'"' => Some('"'),
                        b'/' => Some('/'),
                        b'\\' => Some('\\'),
                        b'N' => Some('\u{85}'),
                        b'_' => Some('\u{A0}'),
                        b'L' => Some('\u{2028}'),
                        b'P' => Some('\u{2029}'),
                        b'x' | b'u' | b'U' => None,
                        // Escaped line breaks and unknown escapes: declined.
                        _ => return None,
                    };
                    if let Some(ch) = simple {
                        out.push(ch);
                        i += 2;
                    } else {
                        let len = match e {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex = self.str(i + 2, i + 2 + len)?;
                        if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                            return None;
                        }
                        let code = u32::from_str_radix(hex, 16).ok()?;
                        out.push(char::from_u32(code)?);
                        i += 2 + len;
                    }
                }
                b' ' => {
                    let n = self.spaces(i);
                    if b.get(i + n) != Some(&b'\n') {
                        out.push_str(self.str(i, i + n)?);
                    }
                    // Spaces before a line break are dropped (folding below).
                    i += n;
                }
                b'\n' => {
                    let min_col = match min_col {
                        Some(m) => m,
                        None => return Some(None),
                    };
                    let mut breaks = 0;
                    i += 1;
                    loop {
                        let n = self.spaces(i);
                        match b.get(i + n) {
                            None => return None,
                            Some(b'\n') => {
                                breaks += 1;
                                i += n + 1;
                            }
                            Some(_) => {
                                if n < min_col {
                                    return None;
                                }
                                i += n;
                                break;
                            }
                        }
                    }
                    if breaks == 0 {
                        out.push(' ');
                    } else {
                        out.extend(std::iter::repeat_n('\n', breaks));
                    }
                }
                _ => {
                    let n = b
                        .get(i..)?
                        .iter()
                        .position(|&c| special(c) || c == b' ')
                        .unwrap_or(b.len() - i);
                    out.push_str(self.str(i, i + n)?);
                    i += n;
                }
            }
        }
    }

    /// A literal block scalar (`|`, `|-`, `|+`, `|2`, …) whose header starts at `s`, in a
    /// collection whose libyaml indentation is `ctx`: libyaml's algorithm, line by line.
    fn literal(&mut self, s: usize, ctx: usize) -> Option<Node<'a>> {
        let b = self.b;
        let mut i = s + 1;
        let mut chomp = 0i8;
        let mut increment = 0usize;
        let chomp_of = |c: Option<&u8>| match c {
            Some(b'+') => Some(1i8),
            Some(b'-') => Some(-1i8),
            _ => None,
        };
        let digit_of = |c: Option<&u8>| match c {
            Some(&d @ b'1'..=b'9') => Some(usize::from(d - b'0')),
            _ => None,
        };
        if let Some(c) = chomp_of(b.get(i)) {
            chomp = c;
            i += 1;
            if let Some(d) = digit_of(b.get(i)) {
                increment = d;
                i += 1;
            }
        } else if let Some(d) = digit_of(b.get(i)) {
            increment = d;
            i += 1;
            if let Some(c) = chomp_of(b.get(i)) {
                chomp = c;
                i += 1;
            }
        }
        if !self.blank_to_eol(i) {
            return None;
        }
        let mut indent = if increment > 0 { ctx + increment } else { 0 };
        let mut p = self.line_end(i) + 1;
        let mut out = String::new();
        let mut trailing = 0usize;
        let mut leading_break = false;
        let (mut col, mut at_end) = self.block_breaks(&mut p, &mut indent, &mut trailing, ctx);
        while col == indent && !at_end {
            if leading_break {
                out.push('\n');
            }
            out.extend(std::iter::repeat_n('\n', trailing));
            leading_break = false;
            trailing = 0;
            let eol = self.line_end(p);
            out.push_str(self.str(p + indent, eol)?);
            if eol >= b.len() {
                p = b.len();
                break;
            }
            leading_break = true;
            p = eol + 1;
            (col, at_end) = self.block_breaks(&mut p, &mut indent, &mut trailing, ctx);
        }
        if chomp != -1 && leading_break {
            out.push('\n');
        }
        if chomp == 1 {
            out.extend(std::iter::repeat_n('\n', trailing));
        }
        self.seek(p)?;
        Some(Node::Str(Cow::Owned(out)))
    }

    /// libyaml's `yaml_parser_scan_block_scalar_breaks`: skips empty lines from the line
    /// start `*p` (counting them in `trailing`), sets the indentation when still unknown, and
    /// returns the column reached on the next line and whether the text ended.
    fn block_breaks(
        &self,
        p: &mut usize,
        indent: &mut usize,
        trailing: &mut usize,
        ctx: usize,
    ) -> (usize, bool) {
        let mut max_indent = 0;
        let (col, at_end) = loop {
            let eol = self.line_end(*p);
            let n = self.spaces(*p).min(eol.saturating_sub(*p));
            let col = if *indent == 0 { n } else { n.min(*indent) };
            max_indent = max_indent.max(col);
            if *p + col < eol {
                break (col, false);
            }
            if eol >= self.b.len() {
                break (col, true);
            }
            *trailing += 1;
            *p = eol + 1;
        };
        if *indent == 0 {
            *indent = max_indent.max(ctx + 1).max(1);
        }
        (col, at_end)
    }
}

/// Duplicate keys make `yaml_serde` fail on typed structs and keep the last value in a
/// `serde_json::Value`: declined.
fn has_duplicates(entries: &[(Cow<'_, str>, Node<'_>)]) -> bool {
    if entries.windows(2).all(|w| match w {
        [a, b] => a.0 < b.0,
        _ => true,
    }) {
        return false;
    }
    let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_ref()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| matches!(w, [a, b] if a == b))
}

// ---------------------------------------------------------------- deserializer

/// The only error of [`De`]: the caller falls back to `yaml_serde` for the real one.
#[derive(Debug)]
struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("declined by the fast YAML path")
    }
}

impl std::error::Error for Declined {}

impl de::Error for Declined {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Declined
    }
}

type Res<T> = Result<T, Declined>;

/// A borrowed view of a node (map keys are strings).
#[derive(Clone, Copy)]
enum R<'n> {
    Null,
    Bool(bool),
    Pos(u64),
    Neg(i64),
    Float(f64),
    Str(&'n str),
    Seq(&'n [Node<'n>]),
    Map(&'n [(Cow<'n, str>, Node<'n>)]),
}

impl<'n> R<'n> {
    fn of(n: &'n Node<'n>) -> Self {
        match n {
            Node::Null => R::Null,
            Node::Bool(b) => R::Bool(*b),
            Node::Pos(v) => R::Pos(*v),
            Node::Neg(v) => R::Neg(*v),
            Node::Float(v) => R::Float(*v),
            Node::Str(s) => R::Str(s),
            Node::Seq(v) => R::Seq(v),
            Node::Map(v) => R::Map(v),
        }
    }
}

/// Deserializer over the tree that answers each request the way `yaml_serde`'s deserializer
/// answers it for the scalar or collection the node came from (plain numbers, booleans and
/// nulls, strings of any style), or fails where `yaml_serde` might do something else.
struct De<'n> {
    node: R<'n>,
    /// `yaml_serde`'s remaining recursion budget.
    depth: u8,
}

impl<'n> De<'n> {
    fn new(node: &'n Node<'n>) -> Self {
        De {
            node: R::of(node),
            depth: RECURSION_LIMIT,
        }
    }
}

fn visit_seq<'de, V: Visitor<'de>>(items: &'de [Node<'de>], depth: u8, v: V) -> Res<V::Value> {
    let depth = depth.checked_sub(1).ok_or(Declined)?;
    let mut acc = SeqAcc {
        it: items.iter(),
        depth,
    };
    let out = v.visit_seq(&mut acc)?;
    // yaml_serde fails when the visitor leaves elements behind.
    if acc.it.len() == 0 {
        Ok(out)
    } else {
        Err(Declined)
    }
}

fn visit_map<'de, V: Visitor<'de>>(
    entries: &'de [(Cow<'de, str>, Node<'de>)],
    depth: u8,
    v: V,
) -> Res<V::Value> {
    let depth = depth.checked_sub(1).ok_or(Declined)?;
    let mut acc = MapAcc {
        it: entries.iter(),
        value: None,
        depth,
    };
    let out = v.visit_map(&mut acc)?;
    if acc.it.len() == 0 && acc.value.is_none() {
        Ok(out)
    } else {
        Err(Declined)
    }
}

impl<'de> de::Deserializer<'de> for De<'de> {
    type Error = Declined;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Null => v.visit_unit(),
            R::Bool(b) => v.visit_bool(b),
            R::Pos(n) => v.visit_u64(n),
            R::Neg(n) => v.visit_i64(n),
            R::Float(f) => v.visit_f64(f),
            R::Str(s) => v.visit_borrowed_str(s),
            R::Seq(items) => visit_seq(items, self.depth, v),
            R::Map(entries) => visit_map(entries, self.depth, v),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Bool(b) => v.visit_bool(b),
            _ => Err(Declined),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_i64(v)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_i64(v)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_i64(v)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Pos(n) => v.visit_i64(i64::try_from(n).map_err(|_| Declined)?),
            R::Neg(n) => v.visit_i64(n),
            _ => Err(Declined),
        }
    }

    fn deserialize_i128<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Pos(n) => v.visit_i128(i128::from(n)),
            R::Neg(n) => v.visit_i128(i128::from(n)),
            _ => Err(Declined),
        }
    }

    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_u64(v)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_u64(v)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_u64(v)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Pos(n) => v.visit_u64(n),
            _ => Err(Declined),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Pos(n) => v.visit_u128(u128::from(n)),
            _ => Err(Declined),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_f64(v)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        // yaml_serde parses the decimal text; a correctly rounded conversion gives the same.
        match self.node {
            R::Pos(n) => v.visit_f64(n as f64),
            R::Neg(n) => v.visit_f64(n as f64),
            R::Float(f) => v.visit_f64(f),
            _ => Err(Declined),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        // yaml_serde gives any scalar's text here; only strings keep theirs in the tree.
        match self.node {
            R::Str(s) => v.visit_borrowed_str(s),
            _ => Err(Declined),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _v: V) -> Res<V::Value> {
        Err(Declined)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _v: V) -> Res<V::Value> {
        Err(Declined)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Null => v.visit_unit(),
            _ => Err(Declined),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, v: V) -> Res<V::Value> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Res<V::Value> {
        let depth = self.depth.checked_sub(1).ok_or(Declined)?;
        v.visit_newtype_struct(De {
            node: self.node,
            depth,
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Seq(items) => visit_seq(items, self.depth, v),
            _ => Err(Declined),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Res<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Res<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        match self.node {
            R::Map(entries) => visit_map(entries, self.depth, v),
            _ => Err(Declined),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Res<V::Value> {
        // Never from a sequence: yaml_serde refuses that.
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Res<V::Value> {
        // Untagged YAML gives unit variants from a scalar's text, nothing else.
        match self.node {
            R::Str(s) => v.visit_enum(UnitEnum {
                s,
                depth: self.depth,
            }),
            _ => Err(Declined),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Res<V::Value> {
        v.visit_unit()
    }
}

struct SeqAcc<'n> {
    it: std::slice::Iter<'n, Node<'n>>,
    depth: u8,
}

impl<'de> de::SeqAccess<'de> for SeqAcc<'de> {
    type Error = Declined;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Res<Option<T::Value>> {
        match self.it.next() {
            Some(n) => seed
                .deserialize(De {
                    node: R::of(n),
                    depth: self.depth,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

struct MapAcc<'n> {
    it: std::slice::Iter<'n, (Cow<'n, str>, Node<'n>)>,
    value: Option<&'n Node<'n>>,
    depth: u8,
}

impl<'de> de::MapAccess<'de> for MapAcc<'de> {
    type Error = Declined;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Res<Option<K::Value>> {
        match self.it.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(De {
                    node: R::Str(k),
                    depth: self.depth,
                })
                .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Res<V::Value> {
        let n = self.value.take().ok_or(Declined)?;
        seed.deserialize(De {
            node: R::of(n),
            depth: self.depth,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

struct UnitEnum<'n> {
    s: &'n str,
    depth: u8,
}

impl<'de> de::EnumAccess<'de> for UnitEnum<'de> {
    type Error = Declined;
    type Variant = UnitOnly;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Res<(V::Value, UnitOnly)> {
        seed.deserialize(De {
            node: R::Str(self.s),
            depth: self.depth,
        })
        .map(|v| (v, UnitOnly))
    }
}

struct UnitOnly;

impl<'de> de::VariantAccess<'de> for UnitOnly {
    type Error = Declined;

    fn unit_variant(self) -> Res<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Res<T::Value> {
        Err(Declined)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _v: V) -> Res<V::Value> {
        Err(Declined)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _v: V,
    ) -> Res<V::Value> {
        Err(Declined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fast path equals yaml_serde, and accepted.
    fn same(y: &str) {
        let slow: serde_json::Value =
            yaml_serde::from_str(y).unwrap_or_else(|e| panic!("{y:?}: {e}"));
        let fast = parse(y).unwrap_or_else(|| panic!("declined: {y:?}"));
        assert_eq!(fast, slow, "{y:?}");
    }

    /// Fast path gives yaml_serde's value or declines (and declines when yaml_serde fails).
    fn agree(y: &str) {
        match yaml_serde::from_str::<serde_json::Value>(y) {
            Ok(slow) => assert!(parse(y).is_none_or(|f| f == slow), "{y:?}"),
            Err(_) => declines(y),
        }
    }

    /// Fast path declines.
    fn declines(y: &str) {
        assert_eq!(parse(y), None, "{y:?}");
    }

    #[test]
    fn block_structures() {
        same("a: 1\nb:\n  c: x\n  d:\n  - 1\n  - two\n  - k: v\n    l: w\ne: []\nf: {}\n");
        same("  apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n\n\n    uid: u\n");
        same("- a\n- - b\n  - c\n- d: 1\n  e:\n  - f\n");
        same("a:\n    - x\n    - y\nb: 2\n");
        same("---\na: 1\n");
        same("a: 1");
        same("\"quoted key\": 1\n'single': 2\nf:metadata: {}\nv:\"x\"null: {}\n<<: {}\n");
    }

    #[test]
    fn scalars() {
        same(
            "a: null\nb: ~\nc: true\nd: False\ne: 3\nf: -7\ng: 1e+06\nh: 2.31131136e+08\ni: 0.5\n",
        );
        same(
            "a: 0123\nb: 1_000\nc: 10.52.0.1\nd: 2Gi\ne: 1e400\nf: inf\ng: nan\nh: yes\ni: 1.2.3\n",
        );
        same(
            "a: \"1\"\nb: 'it''s'\nc: \"t\\tab \\\\ \\\" \\x41 \\u00e9 \\U0001F600 \\N \\_ \\/\"\n",
        );
        same("a: -\"x\nb: http://x:8080/y\nc: a#b\nd: :x:y\ne: ?z\n:k: 1\n?l: 2\n");
        same("a: 18446744073709551615\nb: -9223372036854775808\nc: -0.0\n");
        declines("a: 0x1F\n");
        declines("a: +1\n");
        declines("a: .5\n");
        declines("a: .inf\n");
        declines("a: -0\n");
        declines("a: 18446744073709551616\n");
    }

    #[test]
    fn folded_lines() {
        same("a: word word\n  word word\nb: 1\n");
        same("- word word\n  word\n\n  more\n- x\n");
        same("a: 'word word\n  word '' word'\nb: \"x\n  \\ y\n\n  z\"\n");
        same("k:\n- a: long\n    text\n  b: c\n");
    }

    #[test]
    fn literal_blocks() {
        same("a: |\n  line1\n\n  line3\nb: 1\n");
        same("a: |-\n  x\n  y\nb: |+\n  z\n\n\nc: |2\n   lead\n  next\n");
        same("a: |2+\n\nb: 1\n");
        same("- |\n  x\n   y\n- |-\n  z\n");
        agree("a: |\n    deep\n  shallow\n");
        declines("a: |\n    deep\n  shallow\n");
        same("a: |\n  x");
        declines("a: |\n      \n  x\n");
        same("a: |\n  \n  x\n");
    }

    #[test]
    fn declines_the_rest() {
        for y in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: [1, 2]\n",
            "a: {b: 1}\n",
            "a: 1 # c\n",
            "# c\na: 1\n",
            "a: 1\na: 2\n",
            "? a\n: 1\n",
            "a:\tb\n",
            "a: 1\r\n",
            "a: >\n  x\n",
            "a: 1\n---\nb: 2\n",
            "a:\n",
            "a:\nb: 1\n",
            "a: b: c\n",
            "1: a\n",
            "true: a\n",
            "a: \"x\\\n  y\"\n",
            "a:\n  b\n",
            "a: 1\n  b: 2\n",
            "x",
            "",
        ] {
            declines(y);
        }
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct S {
        #[serde(default)]
        a: Option<String>,
        #[serde(default)]
        b: Vec<u32>,
    }

    #[test]
    fn typed_mismatches_decline() {
        // yaml_serde reads the text of any scalar as a string; the fast path declines.
        assert_eq!(from_str::<S>("a: 5\n"), None);
        assert_eq!(
            yaml_serde::from_str::<S>("a: 5\n").unwrap().a.as_deref(),
            Some("5")
        );
        // a struct is never read from a sequence
        assert_eq!(from_str::<S>("- 1\n"), None);
        assert!(yaml_serde::from_str::<S>("- 1\n").is_err());
        assert_eq!(
            from_str::<S>("a: x\nb:\n- 1\n"),
            Some(S {
                a: Some("x".into()),
                b: vec![1]
            })
        );
    }

    #[test]
    fn deep_nesting_declines() {
        let mut y = String::new();
        for i in 0..150 {
            y.push_str(&" ".repeat(i * 2));
            y.push_str("a:\n");
        }
        y.push_str(&" ".repeat(300));
        y.push_str("b: 1\n");
        declines(&y);
    }
}
