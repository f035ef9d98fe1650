//! JUnit XML (templates/report.junit.xml, embedded): one test case per rule check — a failure
//! for a rule with a warning or error finding (listing them, each with its incident), skipped
//! for not evaluated or not applicable (the running version has no such check) — then one test
//! suite per incident, with a test case per finding it holds (its cause first) and the
//! incident's id, severity and cause as properties, so a CI system shows a bundle's health
//! like a test run, grouped by problem. Everything is XML-escaped.
use minijinja::value::Value;

use super::layout::groups;
use super::{CheckStatus, Finding, Report, Severity};

/// Renders the JUnit report.
pub fn render(r: &Report) -> String {
    let checks: Vec<Value> = r
        .checks
        .iter()
        .map(|c| {
            // A sub-check's own finding carries its id (`upgrade.admission:C12`); the rule's
            // test case lists them all.
            let mine = |f: &&super::Finding| {
                f.rule == c.rule
                    && c.check.as_ref().is_none_or(|k| {
                        f.id.strip_prefix(&c.rule)
                            .and_then(|rest| rest.strip_prefix(':'))
                            .is_some_and(|rest| rest == k || rest.starts_with(&format!("{k}:")))
                    })
            };
            let findings: Vec<Value> = r
                .findings
                .iter()
                .filter(mine)
                .map(|f| {
                    minijinja::context! {
                        severity => f.severity.as_str(),
                        title => f.title.as_str(),
                        id => f.id.as_str(),
                        incident => f.incident.as_deref(),
                    }
                })
                .collect();
            let worst = r
                .findings
                .iter()
                .filter(mine)
                .map(|f| f.severity)
                .max()
                .map(|s| s.as_str())
                .unwrap_or("");
            minijinja::context! {
                rule => c.rule.as_str(),
                name => match &c.check {
                    Some(k) => format!("{} {k}", c.rule),
                    None => c.rule.clone(),
                },
                family => c.rule.split('.').next().unwrap_or(""),
                status => c.status.as_str(),
                reason => c.reason.as_str(),
                worst => worst,
                findings => findings,
            }
        })
        .collect();
    let (held, _) = groups(r);
    let case = |f: &Finding, role: &str| {
        minijinja::context! {
            role => role,
            id => f.id.as_str(),
            title => f.title.as_str(),
            severity => f.severity.as_str(),
            summary => f.summary.trim_end(),
            fails => f.severity >= Severity::Warning,
        }
    };
    let mut incident_tests = 0;
    let mut incident_failures = 0;
    let incidents: Vec<Value> = held
        .iter()
        .enumerate()
        .map(|(n, g)| {
            let all: Vec<&Finding> = g
                .cause
                .into_iter()
                .chain(g.effects.iter().copied())
                .collect();
            let failures = all
                .iter()
                .filter(|f| f.severity >= Severity::Warning)
                .count();
            incident_tests += all.len();
            incident_failures += failures;
            let findings: Vec<Value> = g
                .cause
                .map(|c| case(c, "cause"))
                .into_iter()
                .chain(g.effects.iter().map(|f| case(f, "effect")))
                .collect();
            minijinja::context! {
                n => n + 1,
                id => g.incident.id.as_str(),
                title => g.incident.title.as_str(),
                severity => g.incident.severity.as_str(),
                cause => g.incident.cause.as_str(),
                failures => failures,
                findings => findings,
            }
        })
        .collect();
    let count = |s: CheckStatus| r.checks.iter().filter(|c| c.status == s).count();
    let ctx = minijinja::context! {
        incidents => incidents,
        incident_tests => incident_tests,
        incident_failures => incident_failures,
        source => r.bundle.source.as_str(),
        captured => r.bundle.created_at.clone().unwrap_or_default(),
        tests => r.checks.len(),
        failures => count(CheckStatus::Fail),
        skipped => count(CheckStatus::NotEvaluated) + count(CheckStatus::NotApplicable),
        checks => checks,
    };
    // Escaped for HTML, which is XML-safe for text and attribute values.
    match super::render_template("report.junit.xml", ctx) {
        Ok(s) => format!("{}\n", s.trim_end()),
        Err(e) => format!(
            "<!-- sbdiag: cannot render the JUnit template: {} -->\n",
            e.to_string().replace("--", "- -")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::report::layout::tests::{incident, node_down_findings};
    use crate::report::{Check, CheckStatus, Report};

    #[test]
    fn incidents_are_test_suites_of_their_findings() {
        let mut r = Report::empty_for_tests();
        r.findings = node_down_findings("Node n2 <down>");
        incident(
            &mut r,
            "incident:Node/n2",
            "Node n2 is down",
            "node.not-ready:Node/n2",
            &["fleet.stale-status:Bundle/x", "vm.info:VirtualMachine/ns/v"],
        );
        r.checks.push(Check {
            rule: "node.not-ready".into(),
            check: None,
            status: CheckStatus::Fail,
            reason: "1 finding".into(),
        });
        let x = render(&r);
        assert!(
            x.contains(r#"<testsuites name="sbdiag b" tests="4" failures="3" skipped="0">"#),
            "{x}"
        );
        assert!(x.contains(r#"<testsuite name="incident:Node&#x2f;n2: Node n2 is down" tests="3" failures="2" skipped="0""#), "{x}");
        assert!(x.contains(r#"<property name="cause" value="node.not-ready:Node&#x2f;n2"/>"#));
        assert!(x.contains(
            r#"<testcase classname="sbdiag.incident.1" name="cause: node.not-ready:Node&#x2f;n2">"#
        ));
        assert!(x.contains(r#"<failure type="error" message="Node n2 &lt;down&gt;">Summary of node.not-ready:Node&#x2f;n2.</failure>"#), "{x}");
        assert!(x.contains(r#"<system-out>[info] VM ns&#x2f;v is stopped</system-out>"#));
        // The check's failure names each finding's incident.
        assert!(
            x.contains("(node.not-ready:Node&#x2f;n2) in incident:Node&#x2f;n2\n"),
            "{x}"
        );
        assert_eq!(
            x.matches("<testsuite ").count(),
            x.matches("</testsuite>").count()
        );
        assert_eq!(
            x.matches("<testcase ").count(),
            x.matches("</testcase>").count()
        );
    }

    #[test]
    fn checks_not_evaluated_or_not_applicable_are_skipped() {
        let mut r = Report::empty_for_tests();
        for (rule, check, status) in [
            ("a.one", None, CheckStatus::Pass),
            ("a.two", None, CheckStatus::NotEvaluated),
            ("a.two", Some("C25"), CheckStatus::NotApplicable),
        ] {
            r.checks.push(Check {
                rule: rule.into(),
                check: check.map(String::from),
                status,
                reason: format!("{} <why>", status.as_str()),
            });
        }
        let x = render(&r);
        assert!(x.contains(r#"tests="3" failures="0" skipped="2""#), "{x}");
        assert!(
            x.contains(r#"<skipped message="not_evaluated &lt;why&gt;"/>"#),
            "{x}"
        );
        assert!(
            x.contains(r#"<skipped message="not applicable: not_applicable &lt;why&gt;"/>"#),
            "{x}"
        );
    }
}
