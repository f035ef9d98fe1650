//! Terminal summary of a report: one line for the bundle, counts, and the findings, coloured
//! only on a terminal and never when `NO_COLOR` is set.
use super::Report;
use super::{CheckStatus, Severity};

/// Whether to colour output written to stdout.
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// Bundle text made safe for a terminal: control characters (an escape sequence planted in a
/// status message could recolour or rewrite the screen) become visible `^[`-style text.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{1b}' => "^[".to_string(),
            c if c.is_control() && c != '\n' && c != '\t' => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// The first command of a remediation (a `$ ` line, shown without its prompt; or a line
/// starting with `kubectl`), else its first line.
fn first_command(remediation: &str) -> String {
    remediation
        .lines()
        .find_map(|l| l.strip_prefix("$ "))
        .or_else(|| {
            remediation
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("kubectl "))
        })
        .or_else(|| remediation.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("")
        .to_string()
}

/// The summary template, embedded at compile time.
const TEMPLATE: &str = include_str!("../../templates/summary.txt");

/// Renders the summary.
pub fn render(r: &Report, color: bool) -> String {
    use minijinja::value::{Serde, Value};
    let findings: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let (label, code) = match f.severity {
                Severity::Error => ("ERROR  ", "1;31"),
                Severity::Warning => ("WARN   ", "33"),
                Severity::Info => ("INFO   ", "36"),
            };
            minijinja::context! {
                label => paint(label, code, color),
                title => clean(&f.title),
                at => f.evidence.first().map(|e| clean(&format!("{}:{}", e.file, e.line))),
                fix => (f.severity == Severity::Error)
                    .then(|| clean(&first_command(&f.remediation)))
                    .filter(|s| !s.is_empty()),
            }
        })
        .collect();
    let skipped = r.not_evaluated_folded();
    let mut bundle = r.bundle.clone();
    bundle.source = clean(&bundle.source);
    let headline_code = match r.worst() {
        Some(Severity::Error) => "1;31",
        Some(Severity::Warning) => "1;33",
        _ => "1;32",
    };
    let ctx = minijinja::context! {
        headline => paint(&clean(&r.verdict.headline), headline_code, color),
        b => Value::from(Serde(&bundle)),
        gaps => r.coverage.missing.len(),
        parse_errors => r.coverage.parse_errors.len(),
        errors => r.verdict.errors,
        warnings => r.verdict.warnings,
        infos => r.verdict.infos,
        run => r
            .checks
            .iter()
            .filter(|c| matches!(c.status, CheckStatus::Pass | CheckStatus::Fail))
            .count(),
        not_evaluated => r.verdict.not_evaluated,
        skipped => skipped
            .iter()
            .map(|(c, folded)| {
                let rule = match (&c.check, folded) {
                    (Some(k), _) => format!("{} {k}", c.rule),
                    (None, 0) => c.rule.clone(),
                    (None, n) => format!("{} (and its {n} checks)", c.rule),
                };
                minijinja::context! { rule => clean(&rule), reason => clean(&c.reason) }
            })
            .collect::<Vec<_>>(),
        skip_label => paint("SKIP   ", "2", color),
        findings => findings,
    };
    match minijinja::Environment::new().render_str(TEMPLATE, ctx) {
        Ok(s) => format!("{}\n", s.trim_end()),
        Err(e) => format!("sbdiag: cannot render the summary template: {e}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(clean("a\u{1b}[2Jb"), "a^[[2Jb");
        assert_eq!(clean("x\ry\u{7}"), "x\\u{d}y\\u{7}");
        assert_eq!(clean("line\nnext\ttab é"), "line\nnext\ttab é");
    }
}
