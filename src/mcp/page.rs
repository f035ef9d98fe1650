//! Answers sized for a model's context: a list of items (table rows, log lines, findings) cut
//! into pages by count and bytes, a `cursor` to ask for the next page, and the bundle's text
//! fenced so that a client rendering Markdown shows it as data.
use std::fmt::Write as _;

use serde_json::{Value, json};

/// Items per page unless the call asks for another number.
pub const DEFAULT_LIMIT: usize = 200;
/// The most items a call may ask for.
pub const MAX_LIMIT: usize = 1000;
/// The most bytes of bundle text in one answer.
pub const MAX_BYTES: usize = 30 * 1024;
/// One item longer than this is cut (a minified JSON log line, a huge annotation).
pub const MAX_ITEM: usize = 4 * 1024;

/// What one page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The items shown, joined (each ends with a newline).
    pub body: String,
    /// Index of the first item shown.
    pub from: usize,
    /// Index after the last item shown.
    pub to: usize,
    /// How many items there are.
    pub total: usize,
    /// Items cut at [`MAX_ITEM`] bytes.
    pub long_items_cut: usize,
}

impl Page {
    /// The cursor of the next page, when there is more.
    pub fn next_cursor(&self) -> Option<String> {
        (self.to < self.total).then(|| self.to.to_string())
    }
}

/// The start index a `cursor` argument names: absent is the start; a cursor is what a previous
/// answer gave as `next_cursor`.
pub fn parse_cursor(cursor: Option<&str>, total: usize) -> Result<usize, String> {
    let Some(c) = cursor.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    match c.parse::<usize>() {
        Ok(n) if n < total || (n == 0 && total == 0) => Ok(n),
        Ok(n) => Err(format!(
            "cursor {n} is past the end: this answer has {total} item(s); omit cursor to start from the first"
        )),
        Err(_) => Err(format!(
            "cursor {c:?} is not one this server gave: pass the next_cursor of the previous answer (a number), or omit it"
        )),
    }
}

/// The page limit a `limit` argument asks for.
pub fn parse_limit(limit: Option<usize>) -> Result<usize, String> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err("limit must be at least 1".into()),
        Some(n) if n > MAX_LIMIT => Err(format!("limit {n} is above the maximum of {MAX_LIMIT}")),
        Some(n) => Ok(n),
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// The page of `items` from `start`: at most `limit` items and [`MAX_BYTES`] bytes, and always
/// at least one item when any remain (cut at [`MAX_ITEM`] bytes).
pub fn page(items: &[String], start: usize, limit: usize) -> Page {
    let mut body = String::new();
    let mut to = start.min(items.len());
    let mut long_items_cut = 0;
    for item in items.iter().skip(start).take(limit) {
        let shown = if item.len() > MAX_ITEM {
            long_items_cut += 1;
            let kept = cut(item, MAX_ITEM);
            format!(
                "{kept} […cut: {} more bytes]",
                item.len().saturating_sub(kept.len())
            )
        } else {
            item.clone()
        };
        if to > start && body.len() + shown.len() + 1 > MAX_BYTES {
            break;
        }
        body.push_str(&shown);
        if !shown.ends_with('\n') {
            body.push('\n');
        }
        to += 1;
    }
    Page {
        body,
        from: start.min(items.len()),
        to,
        total: items.len(),
        long_items_cut,
    }
}

/// The longest run of backticks in `text`.
fn longest_backticks(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// A code fence longer than every run of backticks in `text`, so that nothing in the text can
/// close it.
pub fn fence_for(text: &str) -> String {
    "`".repeat((longest_backticks(text) + 1).max(3))
}

/// `text` in a fenced block tagged `text`: a Markdown renderer shows it verbatim.
pub fn fenced(text: &str) -> String {
    let f = fence_for(text);
    let mut s = format!("{f}text\n{text}");
    if !text.ends_with('\n') {
        s.push('\n');
    }
    let _ = writeln!(s, "{f}");
    s
}

/// A value from the bundle placed in running text: an inline code span (Markdown shows it
/// verbatim, and a model copies it whole), with a delimiter no backtick run inside can close;
/// line breaks become spaces.
pub fn inline(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let tick = "`".repeat(longest_backticks(&flat) + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{tick}{pad}{flat}{pad}{tick}")
}

/// A tool's answer: text for the model, and the same facts as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Markdown-safe text.
    pub text: String,
    /// Structured content.
    pub structured: Value,
}

/// The answer for one page: `title` (the server's words), the page fenced, and, when cut, how
/// to get the rest. `what` names the items (`lines`, `findings`); `header` is repeated above
/// every page (a table's column names). `extra` is merged into the structured content.
pub fn answer(
    tool: &str,
    title: &str,
    what: &str,
    header: Option<&str>,
    p: &Page,
    extra: Value,
) -> Answer {
    let mut text = format!("{title}\n");
    if p.total == 0 {
        let _ = writeln!(text, "(no {what})");
    } else {
        let mut shown = String::new();
        if let Some(h) = header {
            shown.push_str(h);
            shown.push('\n');
        }
        shown.push_str(&p.body);
        let _ = writeln!(text, "{what} {}–{} of {}:", p.from + 1, p.to, p.total);
        text.push_str(&fenced(&shown));
    }
    if p.long_items_cut > 0 {
        let _ = writeln!(
            text,
            "{} item(s) longer than {MAX_ITEM} bytes were cut where marked.",
            p.long_items_cut
        );
    }
    if let Some(c) = p.next_cursor() {
        let _ = writeln!(
            text,
            "CUT: {} more {what} not shown. Call `{tool}` again with the same arguments and \
             \"cursor\": \"{c}\" for the next page (or narrow the question).",
            p.total - p.to
        );
    }
    let mut structured = json!({
        "total": p.total,
        "from": p.from,
        "to": p.to,
        "truncated": p.to < p.total,
        "next_cursor": p.next_cursor(),
    });
    if let (Some(o), Value::Object(e)) = (structured.as_object_mut(), extra) {
        o.extend(e);
    }
    Answer { text, structured }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("line {i}")).collect()
    }

    #[test]
    fn pages_cover_every_item_once() {
        let all = items(450);
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let start = parse_cursor(cursor.as_deref(), all.len()).unwrap();
            let p = page(&all, start, 200);
            seen.extend(p.body.lines().map(str::to_owned));
            pages += 1;
            match p.next_cursor() {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, all);
    }

    #[test]
    fn pages_stop_at_the_byte_cap() {
        let all: Vec<String> = (0..100)
            .map(|i| format!("{i:04}{}", "x".repeat(1000)))
            .collect();
        let p = page(&all, 0, 200);
        assert!(p.body.len() <= MAX_BYTES, "{}", p.body.len());
        assert_eq!(p.to, MAX_BYTES / 1005);
        assert_eq!(p.next_cursor(), Some(p.to.to_string()));
        // A single item above the cap is still shown, cut.
        let huge = vec!["é".repeat(MAX_BYTES)];
        let p = page(&huge, 0, 10);
        assert_eq!((p.to, p.long_items_cut), (1, 1));
        assert!(p.body.contains("…cut:"));
        assert!(p.body.len() < MAX_ITEM + 100);
    }

    #[test]
    fn bad_cursors_and_limits_are_refused() {
        assert_eq!(parse_cursor(None, 5), Ok(0));
        assert_eq!(parse_cursor(Some("3"), 5), Ok(3));
        assert_eq!(parse_cursor(Some("0"), 0), Ok(0));
        assert!(
            parse_cursor(Some("5"), 5)
                .unwrap_err()
                .contains("past the end")
        );
        assert!(
            parse_cursor(Some("abc"), 5)
                .unwrap_err()
                .contains("next_cursor")
        );
        assert!(parse_cursor(Some("-1"), 5).is_err());
        assert_eq!(parse_limit(None), Ok(DEFAULT_LIMIT));
        assert!(parse_limit(Some(0)).is_err());
        assert!(parse_limit(Some(MAX_LIMIT + 1)).is_err());
    }

    #[test]
    fn fences_outlast_the_text() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ```` b ` c"), "`````");
        let f = fenced("```\n# not a heading\n```");
        assert!(f.starts_with("````text\n"));
        assert!(f.ends_with("\n````\n"));
        assert_eq!(inline("a*b_[x](y)"), "`a*b_[x](y)`");
        assert_eq!(inline("a`b"), "``a`b``");
        assert_eq!(inline("``x\ny"), "``` ``x y ```");
    }

    #[test]
    fn a_cut_answer_says_how_to_get_the_rest() {
        let all = items(3);
        let p = page(&all, 0, 2);
        let a = answer(
            "logs",
            "log of x",
            "lines",
            None,
            &p,
            json!({"source": "f"}),
        );
        assert!(a.text.contains("lines 1–2 of 3"));
        assert!(a.text.contains("\"cursor\": \"2\""));
        assert_eq!(a.structured["next_cursor"], "2");
        assert_eq!(a.structured["source"], "f");
        let p = page(&all, 2, 2);
        let a = answer("logs", "log of x", "lines", None, &p, json!({}));
        assert!(!a.text.contains("CUT"));
        assert_eq!(a.structured["next_cursor"], Value::Null);
    }
}
