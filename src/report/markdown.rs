//! The Markdown report (templates/report.md, embedded): ticket-ready, GitHub-flavoured,
//! errors and warnings in full with their fix, long summaries and evidence folded in
//! `<details>`, informational findings as one list. Excerpts are trimmed so the whole fits a
//! GitHub comment; report.html keeps everything.
use minijinja::value::{Serde, Value};

use super::Report;
use super::{CheckStatus, Severity};

/// The template.
const TEMPLATE: &str = include_str!("../../templates/report.md");
/// Summaries up to this many lines are shown whole; longer ones fold after it.
const HEAD_LINES: usize = 10;
/// Lines of an excerpt kept.
const EXCERPT_LINES: usize = 12;

/// Keeps Markdown structure intact whatever a string holds: no code fence can be closed early
/// and no HTML tag can open (`<` and `>` become look-alike text).
fn defuse(s: &str) -> String {
    s.replace("```", "ˋˋˋ").replace('<', "‹").replace('>', "›")
}

fn trim_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    if lines.len() <= n {
        return s.trim_end().to_string();
    }
    let mut out: Vec<&str> = lines.iter().take(n).copied().collect();
    let more = format!("… ({} more lines in report.html)", lines.len() - n);
    out.push(&more);
    out.join("\n")
}

/// Renders the Markdown report.
pub fn render(r: &Report) -> String {
    let findings: Vec<Value> = r
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| {
            let lines: Vec<&str> = f.summary.lines().collect();
            let head = lines
                .iter()
                .take(HEAD_LINES)
                .copied()
                .collect::<Vec<_>>()
                .join("\n");
            let rest = lines
                .iter()
                .skip(HEAD_LINES)
                .copied()
                .collect::<Vec<_>>()
                .join("\n");
            let evidence: Vec<Value> = f
                .evidence
                .iter()
                .map(|e| {
                    minijinja::context! {
                        file => defuse(&e.file),
                        line => e.line,
                        end_line => e.end_line,
                        excerpt => defuse(&trim_lines(&e.excerpt, EXCERPT_LINES)),
                    }
                })
                .collect();
            minijinja::context! {
                icon => if f.severity == Severity::Error { "🔴" } else { "🟠" },
                id => defuse(&f.id),
                title => defuse(&f.title),
                summary_head => defuse(&head),
                summary_rest => defuse(&rest),
                remediation => defuse(f.remediation.trim_end()),
                evidence => evidence,
                references => f.references.iter().map(|s| defuse(s)).collect::<Vec<_>>(),
            }
        })
        .collect();
    let infos: Vec<Value> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Info)
        .map(|f| minijinja::context! { id => defuse(&f.id), title => defuse(&f.title) })
        .collect();
    let skipped: Vec<Value> = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::NotEvaluated)
        .map(|c| {
            minijinja::context! {
                rule => defuse(&c.rule),
                check => c.check.as_deref().map(defuse),
                reason => defuse(&c.reason),
            }
        })
        .collect();
    let ctx = minijinja::context! {
        r => Value::from(Serde(r)),
        findings => findings,
        infos => infos,
        skipped => skipped,
    };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    match env.render_str(TEMPLATE, ctx) {
        Ok(s) => format!("{}\n", s.trim_end()),
        Err(e) => format!("sbdiag: cannot render the Markdown template: {e}\n"),
    }
}
