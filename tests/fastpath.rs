//! The fast YAML path (`sbdiag::model::fastyaml`) against `yaml_serde` on real data: every item
//! of every resource list of every sample and of the real bundle(s) is
//! (a) accepted by the fast path (at least 99 % of items; declining is allowed but rare),
//! (b) parsed to the same `serde_json::Value` as `yaml_serde` gives, and
//! (c) decoded to the same typed view whichever parser runs (`decode_with` Auto / Slow / Fast,
//!     for the item's own kind and for the generic fallback).
//! Then property tests: random JSON-like values written by a port of yaml.v2's emitter and by
//! `yaml_serde::to_string` (and randomly damaged) are declined or parsed exactly like yaml_serde.
mod common;

use std::io::Read;
use std::path::Path;

use sbdiag::bundle::layout::{PathKind, classify};
use sbdiag::index::split::{self, Split};
use sbdiag::model::fastyaml;
use sbdiag::model::views::{YamlPath, decode_with};

/// Counts for one bundle.
#[derive(Default, Debug)]
struct Tally {
    items: usize,
    /// `fastyaml::parse` recognised the text.
    parsed: usize,
    /// The item's typed view came from the fast path (no fallback to yaml_serde).
    typed_fast: usize,
    bytes: usize,
    declined: Vec<String>,
}

/// Resource-list files of a bundle as (bundle-relative path, text).
fn lists_of_dir(dir: &Path) -> Vec<(String, String)> {
    common::files_under(dir)
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("yamls/"))
        .map(|(rel, path)| {
            let bytes = std::fs::read(&path).expect("read");
            (rel, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

fn lists_of_zip(zip: &Path) -> Vec<(String, String)> {
    let f = std::fs::File::open(zip).expect("open zip");
    let mut a = zip::ZipArchive::new(f).expect("zip");
    let mut v = Vec::new();
    for i in 0..a.len() {
        let mut e = a.by_index(i).expect("entry");
        if e.is_dir() {
            continue;
        }
        let name = e.name().expect("entry name").to_string();
        // Drop the single top-level folder.
        let Some((_, rel)) = name.split_once('/') else {
            continue;
        };
        if !rel.starts_with("yamls/") {
            continue;
        }
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).expect("read entry");
        v.push((
            rel.to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    v
}

fn check_item(path: &str, dir_group: &str, it: &split::RawItem, t: &mut Tally) {
    let text = &it.text;
    t.items += 1;
    t.bytes += text.len();
    let (group, kind) = match it.api_version.as_deref() {
        Some(av) if !av.is_empty() && av != "null" => (
            sbdiag::model::split_api_version(av).0.to_string(),
            it.kind.clone().unwrap_or_default(),
        ),
        _ => (dir_group.to_string(), it.kind.clone().unwrap_or_default()),
    };
    let at = format!("{path}:{}", it.line);

    // (b) the generic tree
    let slow: Result<serde_json::Value, _> = yaml_serde::from_str(text);
    match fastyaml::parse(text) {
        Some(fast) => {
            t.parsed += 1;
            let slow = slow
                .unwrap_or_else(|e| panic!("{at}: fast path parsed what yaml_serde refuses: {e}"));
            assert_eq!(fast, slow, "{at}: fast and slow trees differ");
        }
        None => t.declined.push(at.clone()),
    }

    // (c) typed views, for the item's kind and for the generic decode
    for (n, (k, g)) in [(kind.as_str(), group.as_str()), ("", "")]
        .into_iter()
        .enumerate()
    {
        let slow = decode_with(k, g, text, YamlPath::Slow).map(|d| format!("{d:?}"));
        let auto = decode_with(k, g, text, YamlPath::Auto).map(|d| format!("{d:?}"));
        match (&slow, &auto) {
            (Ok(s), Ok(a)) => assert_eq!(a, s, "{at}: typed view ({k}) differs"),
            (Err(s), Err(a)) => assert_eq!(a.to_string(), s.to_string(), "{at}: errors differ"),
            _ => panic!("{at}: slow {slow:?} vs auto {auto:?}"),
        }
        if let Ok(fast) = decode_with(k, g, text, YamlPath::Fast) {
            assert_eq!(
                Ok(format!("{fast:?}")),
                slow.map_err(|e| e.to_string()),
                "{at}: fast-only differs"
            );
            if n == 0 {
                t.typed_fast += 1;
            }
        }
    }
}

fn check_lists(lists: &[(String, String)], t: &mut Tally) {
    for (path, text) in lists {
        let PathKind::ResourceList { group, .. } = classify(path) else {
            continue;
        };
        let items = match split::split(text) {
            Split::List(items) => items,
            Split::Single(item) => vec![item],
            Split::NotObjects | Split::OtherLayout => continue,
        };
        for it in &items {
            check_item(path, &group, it, t);
        }
    }
}

fn report(name: &str, t: &Tally) -> f64 {
    let rate = t.parsed as f64 / t.items.max(1) as f64;
    eprintln!(
        "{name}: {} items ({:.1} MB): fast path parsed {} ({:.2} %), typed views from the fast path {} ({:.2} %); declined: {:?}",
        t.items,
        t.bytes as f64 / 1e6,
        t.parsed,
        100.0 * rate,
        t.typed_fast,
        100.0 * t.typed_fast as f64 / t.items.max(1) as f64,
        &t.declined.iter().take(10).collect::<Vec<_>>()
    );
    rate
}

#[test]
fn samples_decode_identically_on_both_paths() {
    let mut all = Tally::default();
    for s in common::samples() {
        let mut t = Tally::default();
        check_lists(&lists_of_dir(&s), &mut t);
        report(&s.file_name().unwrap_or_default().to_string_lossy(), &t);
        all.items += t.items;
        all.parsed += t.parsed;
        all.typed_fast += t.typed_fast;
        all.bytes += t.bytes;
        all.declined.extend(t.declined);
    }
    assert!(all.items > 1000, "samples hold items: {}", all.items);
    let rate = report("all samples", &all);
    assert!(rate >= 0.99, "fast path acceptance on samples {rate}");
}

#[test]
fn real_bundle_decodes_identically_on_both_paths() {
    for b in common::real_bundles() {
        let mut t = Tally::default();
        check_lists(&lists_of_zip(&b), &mut t);
        assert!(t.items > 1000, "{}: items {}", b.display(), t.items);
        let rate = report(&b.file_name().unwrap_or_default().to_string_lossy(), &t);
        assert!(
            rate >= 0.99,
            "fast path acceptance on {} {rate}",
            b.display()
        );
    }
}

/// The large generated bench bundle (`python3 bench/run.py` writes it), when present:
/// `cargo test --release --test fastpath -- --ignored`.
#[test]
#[ignore = "needs target/bench/big-*.zip (bench/run.py) and a release build"]
fn bench_bundle_decodes_identically_on_both_paths() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let mut found = false;
    for e in std::fs::read_dir(&dir).expect("target/bench") {
        let p = e.expect("entry").path();
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if !(name.starts_with("big-") && name.ends_with(".zip")) {
            continue;
        }
        found = true;
        let mut t = Tally::default();
        check_lists(&lists_of_zip(&p), &mut t);
        let rate = report(&name, &t);
        assert!(rate >= 0.99, "fast path acceptance on {name} {rate}");
    }
    assert!(found, "no big-*.zip in {}", dir.display());
}

// ======================================================================== property tests

/// A port of samples/generate.py's yaml.v2 emitter (`yaml_dump`: `_analyze`,
/// `_emit_scalar_text`, the libyaml writer state), itself a port of gopkg.in/yaml.v2 v2.2.8:
/// block style, natural key order, sequences at their key's indentation, yaml.v2's quoting
/// and 80-column folding of long scalars, every number a float64 printed like Go's `%g`.
mod yamlv2 {
    use serde_json::Value as J;
    use std::sync::LazyLock;

    /// Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
    pub fn go_float(f: f64) -> String {
        if f == 0.0 {
            return if f.is_sign_negative() { "-0" } else { "0" }.into();
        }
        // Rust's `{:e}` gives the shortest round-trip digits, like Go's shortest mode.
        let e = format!("{:e}", f.abs());
        let (mant, exp) = e.split_once('e').expect("exponent");
        let exp: i32 = exp.parse().expect("exp");
        let digits: String = mant.chars().filter(|c| *c != '.').collect();
        let nd = digits.len() as i32;
        let neg = if f < 0.0 { "-" } else { "" };
        if !(-4..6).contains(&exp) {
            let m = if nd > 1 {
                format!("{}.{}", &digits[..1], &digits[1..])
            } else {
                digits.clone()
            };
            let sign = if exp < 0 { '-' } else { '+' };
            return format!("{neg}{m}e{sign}{:02}", exp.abs());
        }
        let dp = exp + 1; // digits before the point
        if dp <= 0 {
            format!("{neg}0.{}{digits}", "0".repeat((-dp) as usize))
        } else if dp >= nd {
            format!("{neg}{digits}{}", "0".repeat((dp - nd) as usize))
        } else {
            format!("{neg}{}.{}", &digits[..dp as usize], &digits[dp as usize..])
        }
    }

    /// yaml.v2 sorter.go `keyList.Less` for two string keys.
    fn key_less(a: &str, b: &str) -> bool {
        let ar: Vec<char> = a.chars().collect();
        let br: Vec<char> = b.chars().collect();
        let n = ar.len().min(br.len());
        for i in 0..n {
            if ar[i] == br[i] {
                continue;
            }
            let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
            if al && bl {
                return ar[i] < br[i];
            }
            if al || bl {
                return bl;
            }
            let (mut an, mut bn) = (0i64, 0i64);
            if ar[i] == '0' || br[i] == '0' {
                let mut j = i as isize - 1;
                while j >= 0 && ar[j as usize].is_ascii_digit() {
                    if ar[j as usize] != '0' {
                        an = 1;
                        bn = 1;
                        break;
                    }
                    j -= 1;
                }
            }
            let mut ai = i;
            while ai < ar.len() && ar[ai].is_ascii_digit() {
                an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
                ai += 1;
            }
            let mut bi = i;
            while bi < br.len() && br[bi].is_ascii_digit() {
                bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
                bi += 1;
            }
            if an != bn {
                return an < bn;
            }
            if ai != bi {
                return ai < bi;
            }
            return ar[i] < br[i];
        }
        ar.len() < br.len()
    }

    /// Insertion sort with yaml.v2's order (which need not be a total order).
    fn sorted_keys(m: &serde_json::Map<String, J>) -> Vec<&String> {
        let mut v: Vec<&String> = Vec::new();
        for k in m.keys() {
            let pos = v.iter().position(|x| key_less(k, x)).unwrap_or(v.len());
            v.insert(pos, k);
        }
        v
    }

    const RESOLVE_MAP: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null",
        "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];

    fn re(s: &str) -> regex::Regex {
        regex::Regex::new(s).expect("regex")
    }

    static TS: LazyLock<[regex::Regex; 3]> = LazyLock::new(|| {
        [
            re(
                r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
            ),
            re(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2} [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?$"),
            re(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$"),
        ]
    });
    static YAML_FLOAT: LazyLock<regex::Regex> =
        LazyLock::new(|| re(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"));
    static GO_FLOAT: LazyLock<regex::Regex> = LazyLock::new(|| {
        re(r"(?i)^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$|^[-+]?(inf|infinity|nan)$")
    });
    static BASE60: LazyLock<regex::Regex> =
        LazyLock::new(|| re(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$"));

    /// strconv.ParseInt/ParseUint(s, 0, 64) succeeds?
    fn go_parse_int(s: &str) -> bool {
        let body = s.strip_prefix(['+', '-']).unwrap_or(s);
        let all = |t: &str, f: fn(char) -> bool| !t.is_empty() && t.chars().all(f);
        let v = if let Some(h) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
            all(h, |c| c.is_ascii_hexdigit())
                .then(|| u128::from_str_radix(h, 16).ok())
                .flatten()
        } else if let Some(o) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
            all(o, |c| ('0'..='7').contains(&c))
                .then(|| u128::from_str_radix(o, 8).ok())
                .flatten()
        } else if let Some(b) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
            all(b, |c| c == '0' || c == '1')
                .then(|| u128::from_str_radix(b, 2).ok())
                .flatten()
        } else if body.starts_with('0') && body.chars().all(|c| ('0'..='7').contains(&c)) {
            u128::from_str_radix(body, 8).ok()
        } else if all(body, |c| c.is_ascii_digit()) && !body.starts_with('0') {
            body.parse::<u128>().ok()
        } else {
            None
        };
        v.is_some_and(|v| v < (1u128 << 64))
    }

    /// Would yaml.v2 read this string back as a string if written plain?
    fn resolves_to_str(s: &str) -> bool {
        let Some(c) = s.chars().next() else {
            return false;
        };
        let hint = if c == '+' || c == '-' {
            'S'
        } else if c.is_ascii_digit() {
            'D'
        } else if "yYnNtTfFoO~".contains(c) {
            'M'
        } else if c == '.' {
            '.'
        } else {
            return true;
        };
        if RESOLVE_MAP.contains(&s) {
            return false;
        }
        if hint == 'M' {
            return true;
        }
        if hint == '.' {
            return !GO_FLOAT.is_match(s);
        }
        if TS.iter().any(|r| r.is_match(s)) {
            return false;
        }
        let plain = s.replace('_', "");
        if go_parse_int(&plain) || YAML_FLOAT.is_match(&plain) {
            return false;
        }
        let bin = |t: &str| !t.is_empty() && t.chars().all(|c| c == '0' || c == '1');
        if plain.strip_prefix("0b").is_some_and(bin) || plain.strip_prefix("-0b").is_some_and(bin) {
            return false;
        }
        true
    }

    fn printable(c: char) -> bool {
        let o = c as u32;
        o == 0x0A
            || (0x20..=0x7E).contains(&o)
            || (0xA0..=0xD7FF).contains(&o)
            || ((0xE000..=0xFFFD).contains(&o) && o != 0xFEFF)
    }

    const BREAKS: &[char] = &['\r', '\n', '\u{85}', '\u{2028}', '\u{2029}'];

    #[derive(Default)]
    struct Styles {
        block_plain: bool,
        single: bool,
        block: bool,
    }

    /// libyaml `yaml_emitter_analyze_scalar`.
    fn analyze(s: &str) -> Styles {
        if s.is_empty() {
            return Styles {
                block_plain: true,
                single: true,
                block: false,
            };
        }
        let ch: Vec<char> = s.chars().collect();
        let n = ch.len();
        let (mut block_ind, mut line_breaks, mut special) = (false, false, false);
        if s.starts_with("---") || s.starts_with("...") {
            block_ind = true;
        }
        let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
            (false, false, false, false);
        let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
            (false, false, false, false);
        let mut preceded_by_ws = true;
        for (i, &c) in ch.iter().enumerate() {
            let followed_by_ws = i + 1 >= n || ch[i + 1] == ' ' || ch[i + 1] == '\t';
            if i == 0 {
                if "#,[]{}&*!|>'\"%@`".contains(c) {
                    block_ind = true;
                } else if c == '?' || c == ':' {
                    if followed_by_ws {
                        block_ind = true;
                    }
                } else if c == '-' && followed_by_ws {
                    block_ind = true;
                }
            } else if (c == ':' && followed_by_ws) || (c == '#' && preceded_by_ws) {
                block_ind = true;
            }
            if !printable(c) {
                special = true;
            }
            if c == ' ' {
                if i == 0 {
                    leading_space = true;
                }
                if i == n - 1 {
                    trailing_space = true;
                }
                if previous_break {
                    break_space = true;
                }
                previous_space = true;
                previous_break = false;
            } else if BREAKS.contains(&c) {
                line_breaks = true;
                if i == 0 {
                    leading_break = true;
                }
                if i == n - 1 {
                    trailing_break = true;
                }
                if previous_space {
                    space_break = true;
                }
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_ws = c == ' ' || c == '\t' || BREAKS.contains(&c);
        }
        let mut r = Styles {
            block_plain: true,
            single: true,
            block: true,
        };
        if leading_space || leading_break || trailing_space || trailing_break {
            r.block_plain = false;
        }
        if trailing_space {
            r.block = false;
        }
        if break_space {
            r.block_plain = false;
            r.single = false;
        }
        if space_break || special {
            r.block_plain = false;
            r.single = false;
            r.block = false;
        }
        if line_breaks || block_ind {
            r.block_plain = false;
        }
        r
    }

    struct Out {
        buf: String,
        column: usize,
        whitespace: bool,
        indention: bool,
    }

    const BEST_WIDTH: usize = 80;

    impl Out {
        fn put(&mut self, c: char) {
            self.buf.push(c);
            self.column += 1;
        }
        fn put_break(&mut self) {
            self.buf.push('\n');
            self.column = 0;
        }
        /// Go's write_break: `\n` is a line break, other break characters are written as is.
        fn write_break(&mut self, c: char) {
            if c == '\n' {
                self.put_break();
            } else {
                self.buf.push(c);
                self.column = 0;
            }
        }
        fn write_indent(&mut self, indent: isize) {
            let indent = indent.max(0) as usize;
            if !self.indention
                || self.column > indent
                || (self.column == indent && !self.whitespace)
            {
                self.put_break();
            }
            while self.column < indent {
                self.put(' ');
            }
            self.whitespace = true;
            self.indention = true;
        }
        fn indicator(&mut self, text: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
            if need_ws && !self.whitespace {
                self.put(' ');
            }
            for c in text.chars() {
                self.put(c);
            }
            self.whitespace = is_ws;
            self.indention = self.indention && is_indention;
        }
        fn plain(&mut self, s: &str, indent: isize, allow_breaks: bool) {
            if !self.whitespace {
                self.put(' ');
            }
            let ch: Vec<char> = s.chars().collect();
            let mut spaces = false;
            for (i, &c) in ch.iter().enumerate() {
                if c == ' ' {
                    let nxt = ch.get(i + 1).copied();
                    if allow_breaks && !spaces && self.column > BEST_WIDTH && nxt != Some(' ') {
                        self.write_indent(indent);
                    } else {
                        self.put(c);
                    }
                    spaces = true;
                } else {
                    self.put(c);
                    self.indention = false;
                    spaces = false;
                }
            }
            self.whitespace = false;
            self.indention = false;
        }
        fn single(&mut self, s: &str, indent: isize, allow_breaks: bool) {
            self.indicator("'", true, false, false);
            let ch: Vec<char> = s.chars().collect();
            let n = ch.len();
            let mut spaces = false;
            for (i, &c) in ch.iter().enumerate() {
                if c == ' ' {
                    let nxt = ch.get(i + 1).copied();
                    if allow_breaks
                        && !spaces
                        && self.column > BEST_WIDTH
                        && i > 0
                        && i < n - 1
                        && nxt != Some(' ')
                    {
                        self.write_indent(indent);
                    } else {
                        self.put(c);
                    }
                    spaces = true;
                } else if BREAKS.contains(&c) {
                    self.write_break(c);
                    self.indention = true;
                    spaces = false;
                } else {
                    if c == '\'' {
                        self.put('\'');
                    }
                    self.put(c);
                    self.indention = false;
                    spaces = false;
                }
            }
            self.indicator("'", false, false, false);
            self.whitespace = false;
            self.indention = false;
        }
        fn double(&mut self, s: &str, indent: isize, allow_breaks: bool) {
            self.indicator("\"", true, false, false);
            let ch: Vec<char> = s.chars().collect();
            let n = ch.len();
            let mut spaces = false;
            for (i, &c) in ch.iter().enumerate() {
                let o = c as u32;
                if !printable(c) || o == 0xFEFF || BREAKS.contains(&c) || c == '"' || c == '\\' {
                    self.put('\\');
                    let esc = match c {
                        '\0' => Some('0'),
                        '\x07' => Some('a'),
                        '\x08' => Some('b'),
                        '\t' => Some('t'),
                        '\n' => Some('n'),
                        '\x0B' => Some('v'),
                        '\x0C' => Some('f'),
                        '\r' => Some('r'),
                        '\x1B' => Some('e'),
                        '"' => Some('"'),
                        '\\' => Some('\\'),
                        '\u{85}' => Some('N'),
                        '\u{A0}' => Some('_'),
                        '\u{2028}' => Some('L'),
                        '\u{2029}' => Some('P'),
                        _ => None,
                    };
                    let text = match esc {
                        Some(e) => e.to_string(),
                        None if o <= 0xFF => format!("x{o:02X}"),
                        None if o <= 0xFFFF => format!("u{o:04X}"),
                        None => format!("U{o:08X}"),
                    };
                    for t in text.chars() {
                        self.put(t);
                    }
                    spaces = false;
                } else if c == ' ' {
                    if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i < n - 1 {
                        self.write_indent(indent);
                        if ch.get(i + 1) == Some(&' ') {
                            self.put('\\');
                        }
                    } else {
                        self.put(c);
                    }
                    spaces = true;
                } else {
                    self.put(c);
                    spaces = false;
                }
            }
            self.indicator("\"", false, false, false);
            self.whitespace = false;
            self.indention = false;
        }
        fn literal(&mut self, s: &str, indent: isize) {
            self.indicator("|", true, false, false);
            let first = s.chars().next();
            if first == Some(' ') || first.is_some_and(|c| BREAKS.contains(&c)) {
                self.indicator("2", false, false, false);
            }
            let ch: Vec<char> = s.chars().collect();
            let chomp = if ch.last().is_none_or(|c| !BREAKS.contains(c)) {
                "-"
            } else if ch.len() == 1 || BREAKS.contains(&ch[ch.len() - 2]) {
                "+"
            } else {
                ""
            };
            if !chomp.is_empty() {
                self.indicator(chomp, false, false, false);
            }
            self.put_break();
            self.indention = true;
            self.whitespace = true;
            let mut breaks = true;
            for &c in &ch {
                if BREAKS.contains(&c) {
                    self.write_break(c);
                    self.indention = true;
                    breaks = true;
                } else {
                    if breaks {
                        self.write_indent(indent);
                    }
                    self.put(c);
                    self.indention = false;
                    breaks = false;
                }
            }
        }
    }

    fn scalar(out: &mut Out, v: &J, indent: isize, simple_key: bool) {
        let sindent = if indent < 0 { 0 } else { indent + 2 };
        let s = match v {
            J::Null => return out.plain("null", sindent, !simple_key),
            J::Bool(b) => {
                return out.plain(if *b { "true" } else { "false" }, sindent, !simple_key);
            }
            J::Number(n) => {
                return out.plain(&go_float(n.as_f64().expect("f64")), sindent, !simple_key);
            }
            J::String(s) => s.as_str(),
            _ => unreachable!(),
        };
        let mut style = if s.contains('\n') {
            "literal"
        } else if resolves_to_str(s) && !BASE60.is_match(s) {
            "plain"
        } else {
            "double"
        };
        let a = analyze(s);
        if style == "plain" && (!a.block_plain || (s.is_empty() && simple_key)) {
            style = "single";
        }
        if style == "single" && !a.single {
            style = "double";
        }
        if style == "literal" && (!a.block || simple_key) {
            style = "double";
        }
        match style {
            "plain" => out.plain(s, sindent, !simple_key),
            "single" => out.single(s, sindent, !simple_key),
            "double" => out.double(s, sindent, !simple_key),
            _ => out.literal(s, sindent),
        }
    }

    fn node(out: &mut Out, v: &J, indent: isize, mapping_context: bool) {
        match v {
            J::Object(m) if m.is_empty() => {
                out.indicator("{", true, true, false);
                out.indicator("}", false, false, false);
            }
            J::Object(m) => {
                let mindent = if indent < 0 { 0 } else { indent + 2 };
                for k in sorted_keys(m) {
                    out.write_indent(mindent);
                    scalar(out, &J::String(k.clone()), mindent, true);
                    out.indicator(":", false, false, false);
                    node(out, &m[k.as_str()], mindent, true);
                }
            }
            J::Array(a) if a.is_empty() => {
                out.indicator("[", true, true, false);
                out.indicator("]", false, false, false);
            }
            J::Array(a) => {
                let indentless = mapping_context && !out.indention;
                let sindent = if indentless {
                    indent
                } else if indent < 0 {
                    0
                } else {
                    indent + 2
                };
                for item in a {
                    out.write_indent(sindent);
                    out.indicator("-", true, false, true);
                    node(out, item, sindent, false);
                }
            }
            _ => scalar(out, v, indent, false),
        }
    }

    /// yaml.v2's `Marshal` of decoded JSON.
    pub fn dump(v: &J) -> String {
        let mut out = Out {
            buf: String::new(),
            column: 0,
            whitespace: true,
            indention: true,
        };
        node(&mut out, v, -1, false);
        out.write_indent(0);
        out.buf
    }

    #[test]
    fn matches_the_python_port_examples() {
        let floats: Vec<String> = [
            0.0,
            3.0,
            100.0,
            999999.0,
            1e6,
            231131136.0,
            1.073741824e10,
            0.5,
            0.0001,
            0.00001,
            -2500000.0,
            1.5e21,
        ]
        .iter()
        .map(|f| go_float(*f))
        .collect();
        assert_eq!(
            floats,
            [
                "0",
                "3",
                "100",
                "999999",
                "1e+06",
                "2.31131136e+08",
                "1.073741824e+10",
                "0.5",
                "0.0001",
                "1e-05",
                "-2.5e+06",
                "1.5e+21"
            ]
        );
        let j: J =
            serde_json::json!({"items": [{"b": 1000000, "a": ""}], "kind": "List", "metadata": {}});
        assert_eq!(
            dump(&j),
            "items:\n- a: \"\"\n  b: 1e+06\nkind: List\nmetadata: {}\n"
        );
        let j: J = serde_json::json!({"s": ["True", "123456", "2024-05-01T10:00:00Z", "*x", "a: b", "v1.4.0", []]});
        assert_eq!(
            dump(&j),
            "s:\n- \"True\"\n- \"123456\"\n- \"2024-05-01T10:00:00Z\"\n- '*x'\n- 'a: b'\n- v1.4.0\n- []\n"
        );
        let j: J = serde_json::json!({"m": "line1\nline2\n", "n": "x\ny", "z": null});
        assert_eq!(
            dump(&j),
            "m: |\n  line1\n  line2\n\"n\": |-\n  x\n  y\nz: null\n"
        );
        let j: J = serde_json::json!({"message": "word ".repeat(20)});
        assert_eq!(
            dump(&j),
            "message: 'word word word word word word word word word word word word word word word\n  word word word word word '\n"
        );
        let keys: Vec<&str> = {
            let m: serde_json::Map<String, J> =
                ["b", "a", ".", "node10", "node2", "a_b", "a1", "Z"]
                    .iter()
                    .map(|k| (k.to_string(), J::Null))
                    .collect();
            sorted_keys(&m)
                .into_iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .into_iter()
                .map(|s| Box::leak(s.to_string().into_boxed_str()) as &str)
                .collect()
        };
        assert_eq!(keys, [".", "Z", "a", "a_b", "a1", "b", "node2", "node10"]);
    }
}

mod props {
    use super::yamlv2;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    use sbdiag::index::split::{self, Split};
    use sbdiag::model::fastyaml;
    use serde_json::Value as J;

    /// `n` cases, or `$PROPTEST_CASES` for a longer hunt.
    fn cases(n: u32) -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(n)
    }

    /// Pieces of strings that stress quoting, typing and folding.
    const ATOMS: &[&str] = &[
        "a",
        "b",
        "word",
        "Word",
        "x1",
        "node10",
        "null",
        "Null",
        "true",
        "True",
        "false",
        "~",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "1",
        "0",
        "-1",
        "007",
        "0123",
        "1e3",
        "1E3",
        "1.5",
        "-0",
        "-0.0",
        ".5",
        "+1",
        "0x1F",
        "0o17",
        "0b101",
        "1_000",
        ".inf",
        "-.inf",
        ".nan",
        "inf",
        "nan",
        "1e400",
        "18446744073709551616",
        "2024-05-01T10:00:00Z",
        "2024-05-01",
        "12:30",
        "v1.4.0",
        "10.52.0.1",
        "2Gi",
        "100m",
        "-",
        "- ",
        "--",
        "---",
        "...",
        "?",
        "? ",
        ":",
        ": ",
        "::",
        "#",
        " #",
        "# ",
        "'",
        "''",
        "\"",
        "\\",
        "\\n",
        "/",
        "[",
        "]",
        "{",
        "}",
        "{}",
        "[]",
        ",",
        "&a",
        "*a",
        "!",
        "!!str",
        "|",
        "|-",
        ">",
        "%",
        "@",
        "`",
        "<<",
        "=",
        " ",
        "  ",
        "\n",
        "\n\n",
        " \n",
        "\n ",
        "é",
        "日本",
        "😀",
        "\u{a0}",
        "\u{85}",
        "\u{2028}",
        "\u{feff}",
        "\t",
        "\r",
        "\0",
        "\x1b",
        "\x7f",
        "\u{fffe}",
        "word word word word word word word word word word ",
    ];

    fn string(exotic: bool) -> BoxedStrategy<String> {
        let atoms: Vec<&'static str> = ATOMS
            .iter()
            .copied()
            .filter(|a| exotic || !a.contains(['\u{2028}', '\u{2029}']))
            .collect();
        let piece = prop_oneof![
            6 => proptest::sample::select(atoms).prop_map(str::to_string),
            1 => any::<char>()
                .prop_filter("exotic", move |c| exotic || !matches!(c, '\u{2028}' | '\u{2029}'))
                .prop_map(|c| c.to_string()),
        ];
        prop::collection::vec(piece, 0..6)
            .prop_map(|v| v.concat())
            .boxed()
    }

    fn key(exotic: bool) -> BoxedStrategy<String> {
        // yaml.v2 writes keys longer than 128 characters as complex keys (`? `): kept short.
        string(exotic)
            .prop_map(|s| s.chars().take(40).collect())
            .boxed()
    }

    fn number(exotic: bool) -> BoxedStrategy<J> {
        prop_oneof![
            (-1000i64..1000).prop_map(J::from),
            any::<i64>().prop_map(J::from),
            any::<u64>().prop_map(J::from),
            proptest::sample::select(vec![
                0.5,
                1e6,
                2.31131136e8,
                1.498674085376e12,
                1e-5,
                -2.5e6,
                1.5e21,
                3.0,
                100.0,
                1e300
            ])
            .prop_map(J::from),
            any::<f64>()
                .prop_filter("finite", move |f| f.is_finite() && (exotic || *f != 0.0))
                .prop_map(J::from),
        ]
        .boxed()
    }

    fn value(exotic: bool) -> BoxedStrategy<J> {
        let leaf = prop_oneof![
            1 => Just(J::Null),
            1 => any::<bool>().prop_map(J::Bool),
            2 => number(exotic),
            6 => string(exotic).prop_map(J::String),
        ];
        leaf.prop_recursive(6, 80, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
                prop::collection::btree_map(key(exotic), inner, 0..6)
                    .prop_map(|m| J::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
    }

    /// A document: mostly a mapping, sometimes a Kubernetes-like object with managedFields.
    fn doc(exotic: bool) -> BoxedStrategy<J> {
        prop_oneof![
            1 => value(exotic),
            3 => prop::collection::btree_map(key(exotic), value(exotic), 1..8)
                .prop_map(|m| J::Object(m.into_iter().collect())),
            2 => (value(exotic), value(exotic), value(exotic), string(exotic)).prop_map(|(spec, status, mf, name)| {
                serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "Thing",
                    "metadata": {"name": name, "managedFields": [{"fieldsV1": mf, "manager": "m"}]},
                    "spec": spec,
                    "status": status,
                })
            }),
        ]
        .boxed()
    }

    /// The texts the fast path meets for a value: both emitters' documents, and the items
    /// split out of a List (indented by two, managedFields blanked) in yaml.v2 style.
    fn texts(v: &J) -> Vec<(&'static str, String)> {
        let mut out = vec![("yaml.v2", yamlv2::dump(v))];
        if let Ok(s) = yaml_serde::to_string(v) {
            out.push(("libyaml", s));
        }
        let list = serde_json::json!({"apiVersion": "v1", "items": [v, v], "kind": "List"});
        if let Split::List(items) = split::split(&yamlv2::dump(&list)) {
            for it in items {
                out.push(("item", it.text));
            }
        }
        out
    }

    /// The property: the fast path declines or gives exactly yaml_serde's value.
    fn agrees(style: &str, text: &str) -> Result<bool, TestCaseError> {
        let slow: Result<J, _> = yaml_serde::from_str(text);
        match fastyaml::parse(text) {
            None => Ok(false),
            Some(fast) => {
                prop_assert!(
                    slow.is_ok(),
                    "{style}: fast path parsed what yaml_serde refuses ({:?}):\n{text}",
                    slow.err()
                );
                prop_assert_eq!(
                    Some(&fast),
                    slow.as_ref().ok(),
                    "{}: values differ:\n{}",
                    style,
                    text
                );
                Ok(true)
            }
        }
    }

    proptest! {
        #![proptest_config(Config { cases: cases(3000), .. Config::default() })]

        #[test]
        fn fast_path_equals_yaml_serde_or_declines(v in doc(true)) {
            for (style, text) in texts(&v) {
                agrees(style, &text)?;
            }
        }
    }

    // Texts with random edits (a line dropped, duplicated, indented, characters swapped):
    // broken or odd YAML must be declined or parsed identically.
    proptest! {
        #![proptest_config(Config { cases: cases(2000), .. Config::default() })]

        #[test]
        fn mutated_texts_agree(v in doc(true), edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..6, any::<prop::sample::Index>()), 1..4)) {
            let mut text = yamlv2::dump(&v);
            for (at, op, what) in edits {
                let lines: Vec<&str> = text.split('\n').collect();
                let i = at.index(lines.len());
                let mut lines: Vec<String> = lines.into_iter().map(str::to_string).collect();
                let tokens = [" ", "- ", ": ", "#", "'", "\"", "|", "{", "&a ", "\t", "---", "  "];
                match op {
                    0 => { lines.remove(i); }
                    1 => { let l = lines[i].clone(); lines.insert(i, l); }
                    2 => lines[i].insert(0, ' '),
                    3 => { if lines[i].starts_with(' ') { lines[i].remove(0); } }
                    4 => { let t = what.get(&tokens); let p = lines[i].char_indices().map(|(p, _)| p).nth(what.index(lines[i].chars().count().max(1))).unwrap_or(lines[i].len()); lines[i].insert_str(p, t); }
                    _ => { if i + 1 < lines.len() { lines.swap(i, i + 1); } }
                }
                text = lines.join("\n");
            }
            agrees("mutated", &text)?;
        }
    }

    proptest! {
        #![proptest_config(Config { cases: cases(3000), .. Config::default() })]

        /// Short texts made of YAML's significant characters: whatever the fast path takes,
        /// yaml_serde reads the same way.
        #[test]
        fn arbitrary_texts_agree(chars in prop::collection::vec(
            proptest::sample::select(vec![
                ' ', ' ', ' ', ' ', '\n', '\n', '-', ':', '#', '"', '\'', '|', '>', '{', '}', '[', ']',
                'a', 'a', 'b', '1', '0', '.', '\\', '&', '*', '!', '?', ',', 'e', '+', 't', 'n',
                '~', 'x', '2', '%', '@', '`', 'é',
            ]),
            0..120,
        )) {
            let text: String = chars.into_iter().collect();
            agrees("arbitrary", &text)?;
            agrees("arbitrary item", &format!("a:\n  b: 1\n{text}"))?;
        }
    }

    /// One line of block-YAML-looking text: indentation, maybe `- `, maybe a key, maybe a
    /// value (plain, quoted, block header, `{}`/`[]`, a number), odd spacing included.
    fn yamlish_line() -> impl Strategy<Value = String> {
        let word = proptest::sample::select(vec![
            "a", "b", "k", "x y", "1", "-2", "0.5", "1e+06", "null", "~", "true", "0x1F", "0123",
            "a:b", "a#b", "-x", ":x", "?x", "é", "'q'", "\"d\"", "a  b", "---", "...", "<<",
        ]);
        let value = prop_oneof![
            word.clone().prop_map(str::to_string),
            Just("\"a\\tb\\\"c\\x41\"".to_string()),
            Just("'it''s'".to_string()),
            Just("\"open".to_string()),
            Just("'open".to_string()),
            Just("close\"".to_string()),
            Just("|".to_string()),
            Just("|-".to_string()),
            Just("|+".to_string()),
            Just("|2".to_string()),
            Just("|1-".to_string()),
            Just(">".to_string()),
            Just("{}".to_string()),
            Just("[]".to_string()),
            Just("".to_string()),
        ];
        (
            0usize..7,
            any::<bool>(),
            proptest::option::of(word),
            any::<bool>(),
            value,
            0usize..3,
        )
            .prop_map(|(indent, dash, key, colon_space, value, trailing)| {
                let mut l = " ".repeat(indent);
                if dash {
                    l.push_str("- ");
                }
                if let Some(k) = key {
                    l.push_str(k);
                    l.push(':');
                    if colon_space {
                        l.push(' ');
                    }
                }
                l.push_str(&value);
                l.push_str(&" ".repeat(trailing));
                l
            })
    }

    proptest! {
        #![proptest_config(Config { cases: cases(5000), .. Config::default() })]

        /// Random line-structured block YAML (indentation, entries, keys, folded scalars,
        /// block scalars, blank lines): declined or read exactly as yaml_serde reads it.
        #[test]
        fn yamlish_texts_agree(lines in prop::collection::vec(yamlish_line(), 1..12)) {
            let text = lines.join("\n");
            agrees("yamlish", &text)?;
            agrees("yamlish", &format!("{text}\n"))?;
        }
    }

    /// Sample items (kind as written, the List's directory group, the item as JSON).
    static SAMPLE_ITEMS: std::sync::LazyLock<Vec<(String, J)>> = std::sync::LazyLock::new(|| {
        let mut out = Vec::new();
        for s in crate::common::samples() {
            for (path, text) in crate::lists_of_dir(&s) {
                let Split::List(items) = split::split(&text) else {
                    continue;
                };
                for it in items {
                    if let Ok(v) = yaml_serde::from_str::<J>(&it.text) {
                        out.push((path.clone(), v));
                    }
                }
            }
        }
        out
    });

    /// Replaces the node reached by following `path` (stopping after `depth` steps or at a
    /// leaf) with `with`.
    fn graft(v: &mut J, path: &[prop::sample::Index], depth: usize, with: J) {
        let child = match (depth, path.split_first(), &mut *v) {
            (0, _, _) | (_, None, _) => None,
            (_, Some((ix, _)), J::Object(m)) if !m.is_empty() => {
                let k = m.keys().nth(ix.index(m.len())).cloned().unwrap_or_default();
                m.get_mut(&k)
            }
            (_, Some((ix, _)), J::Array(a)) if !a.is_empty() => {
                let i = ix.index(a.len());
                a.get_mut(i)
            }
            _ => None,
        };
        match child {
            Some(c) => graft(c, &path[1..], depth - 1, with),
            None => *v = with,
        }
    }

    proptest! {
        #![proptest_config(Config { cases: cases(1500), .. Config::default() })]

        /// Real objects of every kind with random subtrees grafted in (numbers where strings
        /// are expected, lists for maps, nulls, quirky strings…), written as a List by the
        /// yaml.v2 emitter and split like the indexer does: the same tree and the same typed
        /// views on both paths (`check_item`).
        #[test]
        fn grafted_objects_decode_identically(
            item in any::<prop::sample::Index>(),
            grafts in prop::collection::vec(
                (prop::collection::vec(any::<prop::sample::Index>(), 6), 1usize..7, value(true)),
                1..4,
            ),
        ) {
            let items = &*SAMPLE_ITEMS;
            prop_assume!(!items.is_empty());
            let (path, v) = &items[item.index(items.len())];
            let mut v = v.clone();
            for (p, depth, with) in grafts {
                graft(&mut v, &p, depth, with);
            }
            let list = serde_json::json!({"apiVersion": "v1", "items": [v], "kind": "List"});
            let mut t = crate::Tally::default();
            crate::check_lists(&[(path.clone(), yamlv2::dump(&list))], &mut t);
        }
    }

    /// The fast path takes (nearly) every yaml.v2 document of ordinary data.
    #[test]
    fn fast_path_accepts_yaml_v2_output() {
        let mut runner = TestRunner::new(Config::default());
        // Root scalars and a root `{}` / `[]` are declined by design (items are mappings).
        let strategy = doc(false).prop_filter("a non-empty collection", |v| match v {
            J::Object(m) => !m.is_empty(),
            J::Array(a) => !a.is_empty(),
            _ => false,
        });
        let (mut n, mut ok, mut ok_libyaml, mut n_libyaml) = (0usize, 0usize, 0usize, 0usize);
        let (mut declined, mut declined_libyaml) = (Vec::new(), Vec::new());
        for _ in 0..3000 {
            let v = strategy.new_tree(&mut runner).expect("value").current();
            for (style, text) in texts(&v) {
                let accepted = agrees(style, &text).expect("agrees");
                if style == "libyaml" {
                    n_libyaml += 1;
                    ok_libyaml += usize::from(accepted);
                    if !accepted
                        && declined_libyaml.len() < 3
                        && !text.contains("\n? ")
                        && !text.starts_with("? ")
                    {
                        declined_libyaml.push(text);
                    }
                    continue;
                }
                n += 1;
                if accepted {
                    ok += 1;
                } else if declined.len() < 5 {
                    declined.push(text);
                }
            }
        }
        let rate = ok as f64 / n as f64;
        eprintln!(
            "yaml.v2-style texts accepted: {ok}/{n} ({:.2} %); yaml_serde::to_string texts accepted: {ok_libyaml}/{n_libyaml} ({:.2} %)",
            100.0 * rate,
            100.0 * ok_libyaml as f64 / n_libyaml as f64
        );
        for d in &declined {
            eprintln!("declined (yaml.v2 style):\n{d}\n---");
        }
        for d in &declined_libyaml {
            eprintln!("declined (yaml_serde::to_string):\n{d}\n---");
        }
        assert!(rate >= 0.99, "acceptance {rate}");
    }
}
