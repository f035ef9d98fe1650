//! Terminal summary of a report: one line for the bundle, counts, and the findings, coloured
//! only on a terminal and never when `NO_COLOR` is set.
use std::fmt::Write;

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

/// Renders the summary.
pub fn render(r: &Report, color: bool) -> String {
    let mut out = String::new();
    let b = &r.bundle;
    let _ = writeln!(
        out,
        "{}  cluster {}  Harvester {}  Kubernetes {}  captured {}",
        b.source,
        b.cluster_id.as_deref().unwrap_or("unknown"),
        b.harvester_version,
        b.kubernetes_version.as_deref().unwrap_or("unknown"),
        b.created_at.as_deref().unwrap_or("unknown"),
    );
    let _ = writeln!(
        out,
        "{} node(s), {} files, {} objects; {} gap(s) in coverage, {} parse error(s)",
        b.nodes,
        b.files,
        b.objects,
        r.coverage.missing.len(),
        r.coverage.parse_errors.len()
    );
    let count = |s| r.findings.iter().filter(|f| f.severity == s).count();
    let not_eval = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::NotEvaluated)
        .count();
    let _ = writeln!(
        out,
        "findings: {} error, {} warning, {} info; checks: {} run, {} not evaluated",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        r.checks.len() - not_eval,
        not_eval
    );
    for f in &r.findings {
        let (label, code) = match f.severity {
            Severity::Error => ("ERROR  ", "1;31"),
            Severity::Warning => ("WARN   ", "33"),
            Severity::Info => ("INFO   ", "36"),
        };
        let _ = writeln!(out, "{}{}", paint(label, code, color), f.title);
        if let Some(e) = f.evidence.first() {
            let _ = writeln!(out, "       at {}:{}", e.file, e.line);
        }
    }
    for c in r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::NotEvaluated)
    {
        let _ = writeln!(
            out,
            "{}{}: {}",
            paint("SKIP   ", "2", color),
            c.rule,
            c.reason
        );
    }
    out
}
