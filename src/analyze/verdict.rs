//! The report's conclusion in one sentence, computed in the analysis stage from the findings
//! and checks (renderers only show it): the upgrade verdict when the upgrade admission rule
//! ran, else the overall state, with the counts by severity.
use crate::report::Verdict;
use crate::rules::{Check, CheckStatus, Finding, Severity};

use super::Analysis;

/// The verdict of an analysed bundle.
pub fn verdict(a: &Analysis, findings: &[Finding], checks: &[Check]) -> Verdict {
    let cx = a.context();
    let target = cx.harvester_version().and_then(|(from, _)| {
        crate::upgrade::target(&a.index, &from, a.options.to_version.as_deref())
            .map(|t| t.version.raw)
    });
    conclude(findings, checks, target)
}

/// The verdict from the findings, the checks and the upgrade target version, if known.
fn conclude(findings: &[Finding], checks: &[Check], target: Option<String>) -> Verdict {
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    // The rule's own entry, not one of its sub-checks.
    let admission = checks
        .iter()
        .find(|c| c.rule == "upgrade.admission" && c.check.is_none());
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
                crate::text::one_line(&first, 160)
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

#[cfg(test)]
mod tests {
    use super::conclude;
    use crate::rules::{Check, CheckStatus, Finding, Severity};

    fn finding(rule: &str, severity: Severity, title: &str) -> Finding {
        Finding::new(rule, title, severity, title)
    }

    fn check(rule: &str, status: CheckStatus) -> Check {
        Check {
            rule: rule.into(),
            check: None,
            status,
            reason: String::new(),
        }
    }

    #[test]
    fn healthy_warnings_and_errors() {
        let v = conclude(&[finding("bundle.x", Severity::Info, "i")], &[], None);
        assert_eq!(v.headline, "Healthy: nothing above info");
        assert_eq!((v.errors, v.warnings, v.infos, v.upgrade), (0, 0, 1, None));
        let w = [finding("node.a", Severity::Warning, "w")];
        assert_eq!(conclude(&w, &[], None).headline, "No error; 1 warning");
        let e = [
            finding("node.not-ready", Severity::Error, "Node n is not Ready"),
            finding("vm.x", Severity::Error, "second"),
            finding("node.a", Severity::Warning, "w"),
        ];
        let checks = [
            check("node.not-ready", CheckStatus::Fail),
            check("vm.x", CheckStatus::NotEvaluated),
        ];
        let v = conclude(&e, &checks, None);
        assert_eq!(v.headline, "2 errors: Node n is not Ready");
        assert_eq!((v.errors, v.warnings, v.not_evaluated), (2, 1, 1));
    }

    #[test]
    fn the_upgrade_verdict_leads_when_the_webhook_would_refuse() {
        let f = [
            finding("upgrade.admission", Severity::Error, "C7"),
            finding("upgrade.admission", Severity::Error, "C10"),
            finding("node.not-ready", Severity::Error, "n"),
        ];
        let c = [check("upgrade.admission", CheckStatus::Fail)];
        let v = conclude(&f, &c, Some("v1.4.1".into()));
        assert_eq!(v.headline, "Upgrade to v1.4.1 would be refused: 2 reasons");
        assert_eq!(v.upgrade.as_deref(), Some(v.headline.as_str()));
        let pass = [check("upgrade.admission", CheckStatus::Pass)];
        let v = conclude(&[], &pass, Some("v1.4.1".into()));
        assert_eq!(
            v.upgrade.as_deref(),
            Some("An upgrade to v1.4.1 would pass the upgrade webhook's checks")
        );
        assert_eq!(v.headline, "Healthy: nothing above info");
        let stuck = [finding("upgrade.stuck", Severity::Error, "stuck")];
        let v = conclude(&stuck, &c, None);
        assert_eq!(
            v.headline,
            "An upgrade is in progress and stuck; a new upgrade is refused"
        );
        // Not evaluated: no upgrade verdict at all, whatever its sub-checks say.
        let mut sub = check("upgrade.admission", CheckStatus::Pass);
        sub.check = Some("C1".into());
        let ne = [sub, check("upgrade.admission", CheckStatus::NotEvaluated)];
        assert_eq!(conclude(&[], &ne, None).upgrade, None);
    }
}
