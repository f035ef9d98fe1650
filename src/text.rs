//! Small text helpers shared by every stage (flattening, shortening, counting nouns, compiled
//! regular expressions kept for the process). A leaf module: it depends on nothing in the
//! crate, so any stage may use it without a cycle.

/// Bytes as text: borrowed when they are UTF-8 (checked by the standard library's validator,
/// several times quicker on ASCII than `String::from_utf8_lossy`'s decoder), else decoded
/// lossily, invalid sequences as U+FFFD.
pub fn utf8_lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Collapses every run of whitespace (newlines included) into one space and trims the ends.
pub fn flatten(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Collapses whitespace and trims to `max` characters, marking a cut with `…`.
pub fn one_line(s: &str, max: usize) -> String {
    let flat = flatten(s);
    if flat.chars().count() > max {
        let mut t: String = flat.chars().take(max).collect();
        t.push('…');
        t
    } else {
        flat
    }
}

/// Collapses whitespace and, when longer than `max` characters, cuts at the last clause
/// boundary before it (` (`, `; `, `: `, ` — `, `, `), marking the cut with `…`; a word
/// boundary when no clause ends in the second half of the limit. Titles stay readable instead of
/// ending mid-word (`(disruptio…`).
pub fn clause(s: &str, max: usize) -> String {
    let flat = flatten(s);
    if flat.chars().count() <= max {
        return flat;
    }
    let head: String = flat.chars().take(max).collect();
    let floor = head.len() / 2;
    let cut = [" (", "; ", ": ", " — ", ", "]
        .iter()
        .filter_map(|b| head.rfind(b))
        .filter(|&i| i >= floor)
        .max()
        .or_else(|| head.rfind(' ').filter(|&i| i >= floor))
        .unwrap_or(head.len());
    let mut t = head.get(..cut).unwrap_or(&head).trim_end().to_string();
    t.push('…');
    t
}

/// Collapses whitespace and keeps the head and the tail when longer than `max` characters:
/// error chains put the root cause last (`…: dial tcp: lookup x: no such host`).
pub fn head_tail(s: &str, max: usize) -> String {
    let flat = flatten(s);
    let n = flat.chars().count();
    if n <= max {
        return flat;
    }
    let head = max * 2 / 5;
    let tail = max - head;
    let mut t: String = flat.chars().take(head).collect();
    t.push_str(" … ");
    t.extend(flat.chars().skip(n - tail));
    t
}

/// `1 node`, `3 nodes`: the count and the noun form that goes with it.
/// A count with thousands separated by commas (`126,042`).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A word as the shell reads it: unchanged when it holds only safe characters (letters,
/// digits, `-_.,:/@%+=`), else in single quotes (a quote inside written `'\''`).
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/@%+=".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The regular expression `pattern`, compiled once per process and kept (a pattern from the
/// embedded catalogs or a knowledge file is then compiled once, not on every analysis). At
/// most [`REGEX_CACHE`] patterns are kept; others are compiled on every call.
pub fn regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(r) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(r);
    }
    let r = regex::Regex::new(pattern)?;
    if let Ok(mut c) = cache.lock()
        && c.len() < REGEX_CACHE
    {
        c.insert(pattern.to_string(), r.clone());
    }
    Ok(r)
}

/// Most patterns [`regex`] keeps.
pub const REGEX_CACHE: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_lossy_borrows_valid_text_and_replaces_invalid() {
        assert!(matches!(
            utf8_lossy(b"plain"),
            std::borrow::Cow::Borrowed("plain")
        ));
        assert_eq!(utf8_lossy(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn regexes_are_compiled_once_and_errors_are_kept_out() {
        let a = regex(r"^x[0-9]+$").unwrap();
        let b = regex(r"^x[0-9]+$").unwrap();
        assert!(a.is_match("x12") && b.is_match("x3") && !a.is_match("y"));
        assert_eq!(a.as_str(), b.as_str());
        assert!(regex("(unclosed").is_err());
        assert!(regex("(unclosed").is_err());
    }

    #[test]
    fn grouped_counts() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(126042), "126,042");
        assert_eq!(grouped(1234567), "1,234,567");
    }

    #[test]
    fn clauses_are_cut_at_a_boundary() {
        assert_eq!(clause("short", 10), "short");
        assert_eq!(
            clause(
                "blocked by PodDisruptionBudget x/y (disruptionsAllowed 0, 1 pod)",
                50
            ),
            "blocked by PodDisruptionBudget x/y…"
        );
        assert_eq!(clause("aaaa bbbb cccc dddd", 12), "aaaa bbbb…");
        assert_eq!(clause("abcdefghijklmnop", 5), "abcde…");
    }

    #[test]
    fn shell_quote_leaves_plain_words_alone() {
        assert_eq!(
            shell_quote("supportbundle_9b6b_2022-03-22T23-49-32Z.zip"),
            "supportbundle_9b6b_2022-03-22T23-49-32Z.zip"
        );
        assert_eq!(shell_quote("my bundle.zip"), "'my bundle.zip'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn flatten_joins_lines_and_runs_of_spaces() {
        assert_eq!(flatten("  a\n\tb   c \n"), "a b c");
        assert_eq!(flatten(""), "");
    }

    #[test]
    fn one_line_cuts_at_max_characters_not_bytes() {
        assert_eq!(one_line("a\n b", 10), "a b");
        assert_eq!(one_line("abcdef", 6), "abcdef");
        assert_eq!(one_line("abcdefg", 6), "abcdef…");
        // Multi-byte characters count once each.
        assert_eq!(one_line("ééééé", 3), "ééé…");
    }

    #[test]
    fn long_messages_keep_the_root_cause() {
        let m = format!("{} no such host", "x ".repeat(300));
        let t = head_tail(&m, 100);
        assert!(t.ends_with("no such host"), "{t}");
        assert!(t.starts_with("x x "), "{t}");
        assert_eq!(t.chars().count(), 103);
        assert_eq!(head_tail("a  b", 10), "a b");
    }

    #[test]
    fn plural_picks_the_form_by_count() {
        assert_eq!(plural(0, "node", "nodes"), "0 nodes");
        assert_eq!(plural(1, "node", "nodes"), "1 node");
        assert_eq!(
            plural(2, "CAPI machine", "CAPI machines"),
            "2 CAPI machines"
        );
    }
}
