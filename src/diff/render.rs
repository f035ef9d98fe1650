//! Renderers of a [`Diff`]: plain text (terminal), Markdown (tickets; every bundle-derived
//! string escaped so it cannot open HTML or break the layout) and JSON (pretty, stable field
//! order). Renderers only format: every comparison is already in the `Diff`.
use super::{Diff, FieldChange, FindingRef, Transition};
use crate::text::plural;

const ABSENT: &str = "—";

fn val(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or(ABSENT)
}

fn change_text(c: &FieldChange) -> String {
    format!("{}: {} → {}", c.field, val(&c.old), val(&c.new))
}

fn header_line(d: &Diff) -> String {
    let same = d.old.cluster_id == d.new.cluster_id;
    match (&d.old.cluster_id, same) {
        (Some(id), true) => format!("cluster {id}"),
        _ => format!(
            "clusters {} and {}",
            d.old.cluster_id.as_deref().unwrap_or("unknown"),
            d.new.cluster_id.as_deref().unwrap_or("unknown")
        ),
    }
}

/// Plain text, for the terminal.
pub fn text(d: &Diff) -> String {
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(&s);
        o.push('\n');
    };
    line(format!("sbdiag diff — {}", header_line(d)));
    line(format!(
        "OLD  {}  captured {}  Harvester {}",
        d.old.source,
        d.old.created_at.as_deref().unwrap_or("unknown"),
        d.old.harvester_version
    ));
    line(format!(
        "NEW  {}  captured {}  Harvester {}{}",
        d.new.source,
        d.new.created_at.as_deref().unwrap_or("unknown"),
        d.new.harvester_version,
        d.elapsed
            .as_ref()
            .map(|e| format!("  ({e} later)"))
            .unwrap_or_default()
    ));
    for n in &d.notes {
        line(format!("note: {n}"));
    }
    if !d.versions.is_empty() {
        line(String::new());
        line("Versions".into());
        for c in &d.versions {
            line(format!("  {}", change_text(c)));
        }
    }
    let f = &d.findings;
    line(String::new());
    line(format!(
        "Findings: {} appeared, {} resolved, {} changed severity ({} unchanged)",
        f.appeared.len(),
        f.resolved.len(),
        f.changed.len(),
        f.unchanged
    ));
    let finding =
        |sign: &str, x: &FindingRef| format!("  {sign} {:<8} {}  {}", x.severity, x.id, x.title);
    for x in &f.appeared {
        line(finding("+", x));
    }
    for x in &f.resolved {
        line(finding("-", x));
    }
    for c in &f.changed {
        line(format!(
            "  ~ {:<8} {}  {} (was {})",
            c.finding.severity, c.finding.id, c.finding.title, c.old_severity
        ));
    }
    let section = |line: &mut dyn FnMut(String), title: &str, ts: &[Transition]| {
        line(String::new());
        if ts.is_empty() {
            line(format!("{title}: no change"));
            return;
        }
        line(format!(
            "{title}: {}",
            plural(ts.len(), "change", "changes")
        ));
        for t in ts {
            let sign = match t.change.as_str() {
                "added" => "+",
                "removed" => "-",
                _ => "~",
            };
            line(format!("  {sign} {} ({})", t.subject, t.change));
            for c in &t.fields {
                line(format!("      {}", change_text(c)));
            }
        }
    };
    section(&mut line, "Fleet", &d.fleet);
    section(&mut line, "Upgrades", &d.upgrades);
    let ob = &d.objects;
    line(String::new());
    line(format!(
        "Objects: {} added, {} removed, {} changed in status ({} unchanged; {} not compared)",
        ob.added.len(),
        ob.removed.len(),
        ob.changed.len(),
        ob.unchanged,
        ob.skipped.join(", ")
    ));
    for c in &ob.changed {
        line(format!("  ~ {}", c.object.display()));
        for f in &c.fields {
            line(format!("      {}", change_text(f)));
        }
    }
    for a in &ob.added {
        line(format!("  + {}", a.display()));
    }
    for r in &ob.removed {
        line(format!("  - {}", r.display()));
    }
    o
}

/// Escapes Markdown-significant ASCII punctuation (CommonMark backslash escapes), so bundle
/// content can neither open HTML nor format text; newlines become spaces.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A code span that no content can close (backticks replaced by a look-alike).
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "ˋ").replace(['\n', '\r'], " "))
}

fn md_change(c: &FieldChange) -> String {
    format!(
        "{}: {} → {}",
        md_escape(&c.field),
        c.old.as_deref().map(code).unwrap_or_else(|| ABSENT.into()),
        c.new.as_deref().map(code).unwrap_or_else(|| ABSENT.into())
    )
}

/// Markdown, for a ticket.
pub fn markdown(d: &Diff) -> String {
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(&s);
        o.push('\n');
    };
    line(format!("## sbdiag diff: {}", md_escape(&header_line(d))));
    line(String::new());
    line("| | bundle | captured | Harvester |".into());
    line("| --- | --- | --- | --- |".into());
    for (label, s) in [("OLD", &d.old), ("NEW", &d.new)] {
        line(format!(
            "| {label} | {} | {} | {} |",
            code(&s.source),
            md_escape(s.created_at.as_deref().unwrap_or("unknown")),
            md_escape(&s.harvester_version)
        ));
    }
    line(String::new());
    if let Some(e) = &d.elapsed {
        line(format!("NEW was captured {} after OLD.", md_escape(e)));
        line(String::new());
    }
    for n in &d.notes {
        line(format!("> **Note:** {}", md_escape(n)));
        line(String::new());
    }
    if !d.versions.is_empty() {
        line("### Versions".into());
        line(String::new());
        for c in &d.versions {
            line(format!("- {}", md_change(c)));
        }
        line(String::new());
    }
    let f = &d.findings;
    line(format!(
        "### Findings: {} appeared, {} resolved, {} changed severity ({} unchanged)",
        f.appeared.len(),
        f.resolved.len(),
        f.changed.len(),
        f.unchanged
    ));
    line(String::new());
    let item = |what: &str, x: &FindingRef| {
        format!(
            "- {what} **{}** {}: {}",
            x.severity,
            code(&x.id),
            md_escape(&x.title)
        )
    };
    for x in &f.appeared {
        line(item("🆕 appeared", x));
    }
    for x in &f.resolved {
        line(item("✅ resolved", x));
    }
    for c in &f.changed {
        line(format!(
            "- ↕ {} → **{}** {}: {}",
            c.old_severity,
            c.finding.severity,
            code(&c.finding.id),
            md_escape(&c.finding.title)
        ));
    }
    line(String::new());
    for (title, ts) in [("Fleet", &d.fleet), ("Upgrades", &d.upgrades)] {
        if ts.is_empty() {
            line(format!("### {title}: no change"));
            line(String::new());
            continue;
        }
        line(format!("### {title}"));
        line(String::new());
        for t in ts {
            line(format!("- {} ({})", code(&t.subject), t.change));
            for c in &t.fields {
                line(format!("  - {}", md_change(c)));
            }
        }
        line(String::new());
    }
    let ob = &d.objects;
    line(format!(
        "### Objects: {} added, {} removed, {} changed in status ({} unchanged)",
        ob.added.len(),
        ob.removed.len(),
        ob.changed.len(),
        ob.unchanged
    ));
    line(String::new());
    for c in &ob.changed {
        line(format!("- {}", code(&c.object.display())));
        for f in &c.fields {
            line(format!("  - {}", md_change(f)));
        }
    }
    if !ob.added.is_empty() {
        line(String::new());
        line("<details><summary>Added</summary>".into());
        line(String::new());
        for a in &ob.added {
            line(format!("- {}", code(&a.display())));
        }
        line(String::new());
        line("</details>".into());
    }
    if !ob.removed.is_empty() {
        line(String::new());
        line("<details><summary>Removed</summary>".into());
        line(String::new());
        for r in &ob.removed {
            line(format!("- {}", code(&r.display())));
        }
        line(String::new());
        line("</details>".into());
    }
    format!("{}\n", o.trim_end())
}

/// Pretty JSON with a trailing newline.
pub fn json(d: &Diff) -> String {
    match serde_json::to_string_pretty(d) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!("{{\"error\": \"cannot serialise the diff: {e}\"}}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cannot_open_html() {
        assert_eq!(md_escape("<script>"), "\\<script\\>");
        assert_eq!(md_escape("a|b*c"), "a\\|b\\*c");
        assert_eq!(code("a`b"), "`aˋb`");
    }
}
