//! Terminal summary of a report: the verdict, the customer's description, one line for the
//! bundle, counts, then each incident with its impact, its whole fix and how many findings it
//! explains, then the findings no incident holds; coloured only on a terminal and never when
//! `NO_COLOR` is set. Everything from the bundle has its control characters shown as text.
use std::collections::BTreeMap;

use super::layout::{Step, groups, steps};
use super::{CheckStatus, Finding, Report, Severity};
use crate::text::plural;

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
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{1b}' => out.push_str("^["),
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// A remediation's steps as lines: prose as it is, a command after a `$ ` marker (bold on a
/// terminal), so the lines to copy stand out from the words around them, and literal text
/// (YAML to paste) indented under the prose with its own indentation kept.
fn fix_lines(remediation: &str, color: bool) -> Vec<String> {
    let mut out = Vec::new();
    for s in steps(remediation) {
        match s {
            Step::Prose(p) => out.push(clean(p)),
            Step::Command(c) => out.push(format!(
                "{} {}",
                paint("$", "2", color),
                paint(&clean(c), "1", color)
            )),
            Step::Literal(lines) => out.extend(lines.iter().map(|l| format!("  {}", clean(l)))),
        }
    }
    out
}

/// The severity label, padded to the column the titles start at.
fn label(s: Severity, color: bool) -> String {
    let (label, code) = match s {
        Severity::Error => ("ERROR  ", "1;31"),
        Severity::Warning => ("WARN   ", "33"),
        Severity::Info => ("INFO   ", "36"),
    };
    paint(label, code, color)
}

/// `file:line` of a finding's first evidence.
fn first_at(f: &Finding) -> Option<String> {
    f.evidence
        .first()
        .map(|e| clean(&format!("{}:{}", e.file, e.line)))
}

/// "N related findings: 8 upgrade.precheck.pod-status, 6 fleet.stale-status", rules by count.
fn related_line(effects: &[&Finding], verbose: bool) -> String {
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in effects {
        *by_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    let mut rules: Vec<(&str, usize)> = by_rule.into_iter().collect();
    rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let list = rules
        .iter()
        .map(|(rule, n)| format!("{n} {rule}"))
        .collect::<Vec<_>>()
        .join(", ");
    let more = if verbose {
        ":"
    } else {
        " (--verbose lists them)"
    };
    clean(&format!(
        "{}: {list}{more}",
        plural(effects.len(), "related finding", "related findings")
    ))
}

/// Renders the summary: the verdict, the customer's description, the bundle, then each incident
/// (severity, title, impact, cause, the whole fix, how many findings it explains), then the
/// findings no incident holds, then the checks not evaluated. `verbose` lists every finding an
/// incident explains, and where each informational finding shows.
pub fn render(r: &Report, color: bool, verbose: bool) -> String {
    use minijinja::value::{Serde, Value};
    let (groups, loose) = groups(r);
    let incidents: Vec<Value> = groups
        .iter()
        .map(|g| {
            let i = g.incident;
            let cause_title = g
                .cause
                .map(|f| clean(&f.title))
                .filter(|t| !clean(&i.title).starts_with(t.as_str()));
            minijinja::context! {
                label => label(i.severity, color),
                title => clean(&i.title),
                impact => (!i.impact.trim().is_empty()).then(|| clean(i.impact.trim())),
                cause => cause_title,
                at => g.cause.and_then(first_at),
                fix => fix_lines(&i.remediation, color),
                related => (!g.effects.is_empty()).then(|| related_line(&g.effects, verbose)),
                listed => if verbose {
                    g.effects
                        .iter()
                        .map(|f| minijinja::context! { label => label(f.severity, color), title => clean(&f.title) })
                        .collect::<Vec<_>>()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let findings: Vec<Value> = loose
        .iter()
        .map(|f| {
            minijinja::context! {
                label => label(f.severity, color),
                title => clean(&f.title),
                at => (f.severity > Severity::Info || verbose).then(|| first_at(f)).flatten(),
                fix => if f.severity == Severity::Error { fix_lines(&f.remediation, color) } else { Vec::new() },
            }
        })
        .collect();
    let skipped = r.not_evaluated_folded();
    let mut bundle = r.bundle.clone();
    bundle.source = clean(&bundle.source);
    bundle.cluster_id = bundle.cluster_id.as_deref().map(clean);
    bundle.kubernetes_version = bundle.kubernetes_version.as_deref().map(clean);
    bundle.harvester_version = clean(&bundle.harvester_version);
    bundle.created_at = bundle.created_at.as_deref().map(clean);
    let issue: Vec<String> = r
        .bundle
        .issue_description
        .as_deref()
        .map(|d| {
            d.lines()
                .map(|l| clean(l.trim_end()))
                .filter(|l| !l.trim().is_empty())
                .collect()
        })
        .unwrap_or_default();
    let headline_code = match r.worst() {
        Some(Severity::Error) => "1;31",
        Some(Severity::Warning) => "1;33",
        _ => "1;32",
    };
    let ctx = minijinja::context! {
        headline => paint(&clean(&r.verdict.headline), headline_code, color),
        // The upgrade verdict beside the headline, when the headline is about something else.
        upgrade => r
            .verdict
            .upgrade
            .as_deref()
            .filter(|u| *u != r.verdict.headline)
            .map(clean),
        issue => issue,
        issue_url => r.bundle.issue_url.as_deref().filter(|u| !u.trim().is_empty()).map(clean),
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
        incidents => incidents,
        findings => findings,
    };
    match super::render_template("summary.txt", ctx) {
        Ok(s) => format!("{}\n", s.trim_end()),
        Err(e) => format!("sbdiag: cannot render the summary template: {e}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::{clean, render};
    use crate::report::layout::tests::{finding, incident};
    use crate::report::{Report, Severity};

    /// A node-down report: one incident holding a cause and three effects, one loose info.
    fn report() -> Report {
        let mut r = Report::empty_for_tests();
        r.verdict.headline = "Node n2 is down".into();
        r.bundle.issue_description =
            Some("VMs on n2 \u{1b}[2J are gone\nsince the power cut".into());
        r.findings = vec![
            finding(
                "node.not-ready:Node/n2",
                Severity::Error,
                "Node n2 is not Ready",
            ),
            finding(
                "upgrade.precheck.pod-status:Pod/ns/a",
                Severity::Error,
                "Pod ns/a is not Ready",
            ),
            finding(
                "upgrade.precheck.pod-status:Pod/ns/b",
                Severity::Error,
                "Pod ns/b is not Ready",
            ),
            finding(
                "fleet.stale-status:Bundle/x",
                Severity::Warning,
                "Fleet status is stale",
            ),
            finding(
                "vm.info:VirtualMachine/ns/v",
                Severity::Info,
                "VM ns/v is stopped",
            ),
        ];
        incident(
            &mut r,
            "incident:Node/n2",
            "Node n2 is down: NotReady for 26m before capture",
            "node.not-ready:Node/n2",
            &[
                "upgrade.precheck.pod-status:Pod/ns/a",
                "upgrade.precheck.pod-status:Pod/ns/b",
                "fleet.stale-status:Bundle/x",
            ],
        );
        r.incidents[0].remediation =
            "Check the node's power and network.\n$ kubectl get node n2 -o wide\nThen read its kubelet log.\n$ sbdiag logs -b bundle.zip n2 -c kubelet".into();
        r
    }

    #[test]
    fn the_upgrade_verdict_stands_under_a_headline_about_something_else() {
        let mut r = report();
        r.verdict.upgrade = Some("Upgrade to v1.4.1 would be refused: 2 reasons".into());
        let out = render(&r, false, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Node n2 is down");
        assert_eq!(
            lines[1],
            "upgrade: Upgrade to v1.4.1 would be refused: 2 reasons"
        );
        // Not repeated when the headline already says it.
        r.verdict.headline = "Upgrade to v1.4.1 would be refused: 2 reasons".into();
        let out = render(&r, false, false);
        assert!(!out.contains("upgrade: "), "{out}");
    }

    #[test]
    fn incidents_lead_with_the_whole_fix_and_count_their_findings() {
        let out = render(&report(), false, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Node n2 is down");
        // The customer's words, control characters shown, every line kept.
        assert_eq!(lines[1], "customer's description: VMs on n2 ^[[2J are gone");
        assert_eq!(lines[2], "  since the power cut");
        let at = |needle: &str| {
            out.find(needle)
                .unwrap_or_else(|| panic!("{needle:?} not in\n{out}"))
        };
        assert!(at("ERROR  Node n2 is down: NotReady") < at("INFO   VM ns/v is stopped"));
        assert!(out.contains("       impact: Impact of incident:Node/n2.\n"));
        assert!(out.contains("       cause: Node n2 is not Ready\n"));
        // Every step, commands marked.
        assert!(out.contains(
            "       fix:\n         Check the node's power and network.\n         $ kubectl get node n2 -o wide\n         Then read its kubelet log.\n         $ sbdiag logs -b bundle.zip n2 -c kubelet\n"
        ), "{out}");
        assert!(out.contains(
            "       3 related findings: 2 upgrade.precheck.pod-status, 1 fleet.stale-status (--verbose lists them)\n"
        ), "{out}");
        // Findings an incident holds are not repeated as lines of their own.
        assert!(!out.contains("Pod ns/a is not Ready"));
        assert!(out.contains("incidents: 1; findings: 0 error, 0 warning, 0 info;"));

        let verbose = render(&report(), false, true);
        assert!(verbose.contains("3 related findings: 2 upgrade.precheck.pod-status, 1 fleet.stale-status:\n         ERROR  Pod ns/a is not Ready\n"), "{verbose}");
        assert!(verbose.contains("         WARN   Fleet status is stale\n"));
    }

    #[test]
    fn commands_are_coloured_and_loose_errors_keep_their_whole_fix() {
        let mut r = report();
        let coloured = render(&r, true, false);
        assert!(coloured.contains("\x1b[2m$\x1b[0m \x1b[1mkubectl get node n2 -o wide\x1b[0m"));
        // Bundle text cannot inject its own escape sequence.
        assert!(!coloured.contains("\x1b[2J"));
        r.incidents.clear();
        r.findings[1].remediation = "Look at the pod first.\n$ kubectl -n ns describe pod a".into();
        let out = render(&r, false, false);
        assert!(out.contains("ERROR  Pod ns/a is not Ready\n       fix:\n         Look at the pod first.\n         $ kubectl -n ns describe pod a\n"), "{out}");
        assert!(!out.contains("incidents:"));
    }

    #[test]
    fn yaml_to_paste_keeps_its_indentation() {
        let mut r = report();
        r.incidents[0].remediation = "Keep the field and tell Fleet to ignore it. Append to spec.diff.comparePatches:\n  - apiVersion: storage.k8s.io/v1\n    kind: StorageClass\n    jsonPointers:\n    - /parameters/numberOfReplicas\nThen force a redeploy:\n$ kubectl -n fleet-local patch bundles.fleet.cattle.io mcc-harvester".into();
        let out = render(&r, false, false);
        assert!(out.contains(
            "       fix:\n         Keep the field and tell Fleet to ignore it. Append to spec.diff.comparePatches:\n           - apiVersion: storage.k8s.io/v1\n             kind: StorageClass\n             jsonPointers:\n             - /parameters/numberOfReplicas\n         Then force a redeploy:\n         $ kubectl"
        ), "{out}");
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(clean("a\u{1b}[2Jb"), "a^[[2Jb");
        assert_eq!(clean("x\ry\u{7}"), "x\\u{d}y\\u{7}");
        assert_eq!(clean("line\nnext\ttab é"), "line\nnext\ttab é");
    }
}
