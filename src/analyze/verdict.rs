//! The report's conclusion in one sentence, computed in the analysis stage (renderers only
//! show it): the headline names the first incident (the worst cause, DESIGN §3) and how many
//! more there are; beside it, the upgrade verdict when the upgrade admission rule ran, and the
//! counts by severity.
use crate::report::Verdict;
use crate::rules::{Check, CheckStatus, Finding, Severity};

use super::incidents::Incident;

use super::Analysis;

/// The verdict of an analysed bundle.
pub fn verdict(
    a: &Analysis,
    findings: &[Finding],
    checks: &[Check],
    incidents: &[Incident],
) -> Verdict {
    let cx = a.context();
    let target = cx.harvester_version().and_then(|(from, _)| {
        crate::upgrade::target(&a.index, &from, a.options.to_version.as_deref())
            .map(|t| t.version.raw)
    });
    conclude(findings, checks, target, incidents)
}

/// The verdict from the findings, the checks, the upgrade target version, if known, and the
/// incidents (worst first).
fn conclude(
    findings: &[Finding],
    checks: &[Check],
    target: Option<String>,
    incidents: &[Incident],
) -> Verdict {
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
    let headline = match incidents.first() {
        None => "Healthy: nothing above info".to_string(),
        Some(first) => {
            let alike = incidents
                .iter()
                .filter(|i| i.severity == first.severity)
                .count();
            let more = match (first.severity, alike - 1) {
                (_, 0) => String::new(),
                (Severity::Error, 1) => " (and 1 more problem)".into(),
                (Severity::Error, n) => format!(" (and {n} more problems)"),
                (_, 1) => " (and 1 more warning)".into(),
                (_, n) => format!(" (and {n} more warnings)"),
            };
            let lead = if first.severity == Severity::Error {
                ""
            } else {
                "No error; "
            };
            format!("{lead}{}{more}", crate::text::one_line(&first.title, 400))
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
    use crate::analyze::incidents::Incident;
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

    fn incident(severity: Severity, title: &str) -> Incident {
        Incident {
            id: format!("incident:{title}"),
            severity,
            title: title.into(),
            cause: 0,
            effects: Vec::new(),
            cause_id: String::new(),
            effect_ids: Vec::new(),
            impact: String::new(),
            remediation: String::new(),
            graph: None,
        }
    }

    #[test]
    fn the_headline_names_the_first_incident() {
        let v = conclude(&[finding("bundle.x", Severity::Info, "i")], &[], None, &[]);
        assert_eq!(v.headline, "Healthy: nothing above info");
        assert_eq!((v.errors, v.warnings, v.infos, v.upgrade), (0, 0, 1, None));
        let w = [finding("node.a", Severity::Warning, "w")];
        let one = [incident(Severity::Warning, "Node n1 is cordoned")];
        assert_eq!(
            conclude(&w, &[], None, &one).headline,
            "No error; Node n1 is cordoned"
        );
        let e = [
            finding("node.not-ready", Severity::Error, "Node n is not Ready"),
            finding("vm.x", Severity::Error, "second"),
            finding("node.a", Severity::Warning, "w"),
        ];
        let checks = [
            check("node.not-ready", CheckStatus::Fail),
            check("vm.x", CheckStatus::NotEvaluated),
        ];
        let inc = [
            incident(Severity::Error, "Node n is not Ready"),
            incident(Severity::Error, "second"),
            incident(Severity::Error, "third"),
            incident(Severity::Warning, "w"),
        ];
        let v = conclude(&e, &checks, None, &inc);
        assert_eq!(v.headline, "Node n is not Ready (and 2 more problems)");
        assert_eq!((v.errors, v.warnings, v.not_evaluated), (2, 1, 1));
        assert_eq!(conclude(&e, &checks, None, &inc[1..2]).headline, "second");
    }

    #[test]
    fn the_upgrade_verdict_stands_beside_the_headline() {
        let f = [
            finding("upgrade.admission", Severity::Error, "C7"),
            finding("upgrade.admission", Severity::Error, "C10"),
            finding("node.not-ready", Severity::Error, "n"),
        ];
        let c = [check("upgrade.admission", CheckStatus::Fail)];
        let inc = [incident(Severity::Error, "Node n is down")];
        let v = conclude(&f, &c, Some("v1.4.1".into()), &inc);
        assert_eq!(v.headline, "Node n is down");
        assert_eq!(
            v.upgrade.as_deref(),
            Some("Upgrade to v1.4.1 would be refused: 2 reasons")
        );
        let pass = [check("upgrade.admission", CheckStatus::Pass)];
        let v = conclude(&[], &pass, Some("v1.4.1".into()), &[]);
        assert_eq!(
            v.upgrade.as_deref(),
            Some("An upgrade to v1.4.1 would pass the upgrade webhook's checks")
        );
        assert_eq!(v.headline, "Healthy: nothing above info");
        let stuck = [finding("upgrade.stuck", Severity::Error, "stuck")];
        let v = conclude(&stuck, &c, None, &[]);
        assert_eq!(
            v.upgrade.as_deref(),
            Some("An upgrade is in progress and stuck; a new upgrade is refused")
        );
        // Not evaluated: no upgrade verdict at all, whatever its sub-checks say.
        let mut sub = check("upgrade.admission", CheckStatus::Pass);
        sub.check = Some("C1".into());
        let ne = [sub, check("upgrade.admission", CheckStatus::NotEvaluated)];
        assert_eq!(conclude(&[], &ne, None, &[]).upgrade, None);
    }
}
