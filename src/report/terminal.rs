//! Terminal summary of a report: one line for the bundle, counts, and the findings, coloured
//! only on a terminal and never when `NO_COLOR` is set.
use super::Report;
use crate::rules::{CheckStatus, Severity};

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

/// The first command of a remediation (a line starting with `kubectl`), else its first line.
fn first_command(remediation: &str) -> String {
    remediation
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("kubectl "))
        .or_else(|| remediation.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("")
        .to_string()
}

/// The summary template, embedded at compile time.
const TEMPLATE: &str = include_str!("../../templates/summary.txt");

/// Renders the summary.
pub fn render(r: &Report, color: bool) -> String {
    use minijinja::value::{Serde, Value};
    let count = |s| r.findings.iter().filter(|f| f.severity == s).count();
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
                title => f.title.as_str(),
                at => f.evidence.first().map(|e| format!("{}:{}", e.file, e.line)),
                fix => (f.severity == Severity::Error)
                    .then(|| first_command(&f.remediation))
                    .filter(|s| !s.is_empty()),
            }
        })
        .collect();
    let skipped: Vec<&crate::rules::Check> = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::NotEvaluated)
        .collect();
    let ctx = minijinja::context! {
        b => Value::from(Serde(&r.bundle)),
        gaps => r.coverage.missing.len(),
        parse_errors => r.coverage.parse_errors.len(),
        errors => count(Severity::Error),
        warnings => count(Severity::Warning),
        infos => count(Severity::Info),
        run => r.checks.len() - skipped.len(),
        skipped => Value::from(Serde(&skipped)),
        skip_label => paint("SKIP   ", "2", color),
        findings => findings,
    };
    match minijinja::Environment::new().render_str(TEMPLATE, ctx) {
        Ok(s) => format!("{}\n", s.trim_end()),
        Err(e) => format!("sbdiag: cannot render the summary template: {e}\n"),
    }
}
