//! JUnit XML (templates/report.junit.xml, embedded): one test case per rule check — a failure
//! for a rule with a warning or error finding (listing them), skipped for not evaluated or not
//! applicable (the running version has no such check) — so
//! a CI system shows a bundle's health like a test run. Everything is XML-escaped.
use minijinja::value::Value;

use super::CheckStatus;
use super::Report;

const TEMPLATE: &str = include_str!("../../templates/report.junit.xml");

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
    let count = |s: CheckStatus| r.checks.iter().filter(|c| c.status == s).count();
    let ctx = minijinja::context! {
        source => r.bundle.source.as_str(),
        captured => r.bundle.created_at.clone().unwrap_or_default(),
        tests => r.checks.len(),
        failures => count(CheckStatus::Fail),
        skipped => count(CheckStatus::NotEvaluated) + count(CheckStatus::NotApplicable),
        checks => checks,
    };
    let mut env = minijinja::Environment::new();
    // HTML escaping is XML-safe for text and attribute values.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    match env.render_str(TEMPLATE, ctx) {
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
    use crate::report::{Check, CheckStatus, Report};

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
