//! The report's conclusion in one sentence, computed in the analysis stage from the findings
//! and checks (renderers only show it): the upgrade verdict when the upgrade admission rule
//! ran, else the overall state, with the counts by severity.
use crate::report::Verdict;
use crate::rules::{Check, CheckStatus, Finding, Severity};

use super::Analysis;

/// The verdict.
pub fn verdict(a: &Analysis, findings: &[Finding], checks: &[Check]) -> Verdict {
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let admission = checks.iter().find(|c| c.rule == "upgrade.admission");
    let cx = a.context();
    let target = cx.harvester_version().and_then(|(from, _)| {
        crate::upgrade::target(&a.index, &from, a.options.to_version.as_deref())
            .map(|t| t.version.raw)
    });
    let denials = findings
        .iter()
        .filter(|f| f.rule == "upgrade.admission" && f.severity == Severity::Error)
        .count();
    let stuck = findings.iter().any(|f| f.rule == "upgrade.stuck");
    let upgrade = match admission.map(|c| c.status) {
        Some(CheckStatus::Fail) | Some(CheckStatus::Pass) => Some(match (&target, denials) {
            (Some(t), 0) if !stuck => {
                format!("An upgrade to {t} would pass the upgrade webhook's checks")
            }
            (None, 0) if !stuck => "No upgrade webhook check would refuse an upgrade".into(),
            (t, n) => {
                let to = t.as_deref().map(|t| format!(" to {t}")).unwrap_or_default();
                if stuck && n == 0 {
                    format!("An upgrade is in progress and stuck; a new upgrade{to} is refused")
                } else {
                    format!(
                        "Upgrade{to} would be refused: {n} reason{}",
                        if n == 1 { "" } else { "s" }
                    )
                }
            }
        }),
        _ => None,
    };
    let headline = match (&upgrade, errors, warnings) {
        (Some(u), e, _) if e > 0 && (denials > 0 || stuck) => u.clone(),
        (_, 0, 0) => "Healthy: nothing above info".into(),
        (_, 0, w) => format!("No error; {w} warning{}", if w == 1 { "" } else { "s" }),
        (_, e, _) => {
            let first = findings
                .iter()
                .find(|f| f.severity == Severity::Error)
                .map(|f| f.title.clone())
                .unwrap_or_default();
            format!(
                "{e} error{}: {}",
                if e == 1 { "" } else { "s" },
                crate::fleet::one_line(&first, 160)
            )
        }
    };
    Verdict {
        headline,
        upgrade,
        errors,
        warnings,
        infos,
        not_evaluated: checks
            .iter()
            .filter(|c| c.status == CheckStatus::NotEvaluated)
            .count(),
    }
}
