//! The Markdown report (templates/report.md, embedded): ticket-ready, GitHub-flavoured. The
//! customer's description quoted at the top, then each incident (impact, the whole fix, its
//! cause with evidence, the findings it explains folded in `<details>`), the findings no
//! incident holds, informational findings and checks not evaluated as lists.
//!
//! A GitHub issue body holds 65,536 characters, so the report is budgeted: every field from the
//! bundle is capped, and when the whole is still too long the related findings lose their
//! excerpts, then become one line each, then lists are cut with a count of what was left out and
//! where it is (report.html, report.json). A last resort cuts at a line and closes what is open.
//! Prose is never put in a code block; only a remediation's `$ ` lines go in ```` ```sh ````.
use minijinja::value::Value;

use super::layout::{Block, Group, blocks, groups, steps};
use super::{CheckStatus, Finding, Report, Severity};
use crate::text::one_line;

/// What GitHub takes in an issue body or comment, in characters.
pub const LIMIT: usize = 65_536;
/// What the report aims under, leaving room for the last-resort note.
const BUDGET: usize = LIMIT - 1_536;
/// Summaries up to this many lines are shown whole; longer ones fold after it.
const HEAD_LINES: usize = 10;
/// Lines of an excerpt kept.
const EXCERPT_LINES: usize = 12;
/// Characters of a line kept (summaries, excerpts, fixes, the customer's words).
const LINE_CHARS: usize = 1_000;
/// Characters of a title or an id kept.
const TITLE_CHARS: usize = 1_000;
/// Characters of the folded rest of a summary, and of the customer's description, kept.
const BLOCK_CHARS: usize = 4_000;
/// Steps of a fix kept.
const FIX_STEPS: usize = 40;
/// Evidence items of a finding shown.
const EVIDENCE_ITEMS: usize = 5;

/// Keeps Markdown structure intact whatever a string holds: no code fence can be closed early
/// and no HTML tag can open (`<` and `>` become look-alike text).
fn defuse(s: &str) -> String {
    s.replace("```", "ˋˋˋ").replace('<', "‹").replace('>', "›")
}

/// Text for inside a fenced code block, where Markdown renders no HTML: only a fence that would
/// close the block early is made harmless, so a command's `>` redirection stays a `>`.
fn fenced(s: &str) -> String {
    s.replace("```", "ˋˋˋ")
}

/// One line, defused and capped.
fn line(s: &str, max: usize) -> String {
    defuse(&one_line(s, max))
}

/// A line kept as it is (leading spaces too), capped at `max` characters.
fn cap_line(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// At most `n` lines (each capped) and at most `chars` characters, with a note of what is left.
fn trim_lines(s: &str, n: usize, chars: usize) -> String {
    let lines: Vec<&str> = s.trim_end().lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut used = 0;
    for l in lines.iter().take(n) {
        let l = cap_line(l, LINE_CHARS);
        used += l.chars().count() + 1;
        if used > chars && !out.is_empty() {
            break;
        }
        out.push(l);
    }
    if out.len() < lines.len() {
        out.push(format!(
            "… ({} more lines in report.html)",
            lines.len() - out.len()
        ));
    }
    defuse(&out.join("\n"))
}

/// How much of a finding is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Everything: summary, fix, evidence with excerpts, references.
    Full,
    /// Evidence as locations only.
    NoExcerpt,
    /// One line: title and id.
    Line,
}

/// How much of the report is written; each plan is shorter than the one before.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Detail of an incident's cause.
    cause: Detail,
    /// Detail of the findings an incident explains.
    effects: Detail,
    /// Detail of the warnings and errors no incident holds.
    others: Detail,
    /// Incidents written in full; the rest get a line each.
    full_incidents: usize,
    /// Findings listed per incident, findings outside incidents, lines of each list.
    items: usize,
}

const ALL: usize = usize::MAX;

/// From everything to the least that still names every incident's cause and fix.
const PLANS: [Plan; 6] = [
    Plan {
        cause: Detail::Full,
        effects: Detail::Full,
        others: Detail::Full,
        full_incidents: ALL,
        items: ALL,
    },
    Plan {
        cause: Detail::Full,
        effects: Detail::NoExcerpt,
        others: Detail::Full,
        full_incidents: ALL,
        items: ALL,
    },
    Plan {
        cause: Detail::Full,
        effects: Detail::Line,
        others: Detail::NoExcerpt,
        full_incidents: ALL,
        items: ALL,
    },
    Plan {
        cause: Detail::Full,
        effects: Detail::Line,
        others: Detail::Line,
        full_incidents: 12,
        items: 40,
    },
    Plan {
        cause: Detail::NoExcerpt,
        effects: Detail::Line,
        others: Detail::Line,
        full_incidents: 6,
        items: 15,
    },
    Plan {
        cause: Detail::Line,
        effects: Detail::Line,
        others: Detail::Line,
        full_incidents: 3,
        items: 5,
    },
];

fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Error => "🔴",
        Severity::Warning => "🟠",
        Severity::Info => "🔵",
    }
}

/// A fix as blocks: runs of prose lines, runs of commands (one ```sh block each) and literal
/// text to paste (one ```yaml block each, indentation kept); at most [`FIX_STEPS`] steps.
fn fix_value(remediation: &str) -> Vec<Value> {
    let all = steps(remediation);
    let left = all.len().saturating_sub(FIX_STEPS);
    let mut out: Vec<Value> = blocks(all.into_iter().take(FIX_STEPS))
        .into_iter()
        .map(|b| match b {
            Block::Commands(c) => {
                let c: Vec<String> = c
                    .iter()
                    .map(|c| fenced(&cap_line(c, LINE_CHARS * 2)))
                    .collect();
                minijinja::context! { commands => c }
            }
            Block::Prose(p) => {
                let p: Vec<String> = p.iter().map(|p| line(p, LINE_CHARS * 2)).collect();
                minijinja::context! { prose => p }
            }
            Block::Literal(l) => {
                let l: Vec<String> = l
                    .iter()
                    .map(|l| fenced(&cap_line(l, LINE_CHARS * 2)))
                    .collect();
                minijinja::context! { literal => l }
            }
        })
        .collect();
    if left > 0 {
        out.push(minijinja::context! { prose => vec![format!("… and {left} more step(s) in report.html")] });
    }
    out
}

/// A finding at a level of detail; `fix` is left out for findings an incident holds (the
/// incident's fix is the one to follow).
fn finding_value(f: &Finding, detail: Detail, with_fix: bool) -> Value {
    let title = line(&f.title, TITLE_CHARS);
    let id = line(&f.id, TITLE_CHARS);
    if detail == Detail::Line {
        return minijinja::context! { line => true, icon => icon(f.severity), title, id };
    }
    let lines: Vec<&str> = f.summary.trim_end().lines().collect();
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
        .take(EVIDENCE_ITEMS)
        .map(|e| {
            let loc = match (e.line, e.end_line) {
                (0, _) => e.file.clone(),
                (a, b) if b > a => format!("{}:{a}-{b}", e.file),
                (a, _) => format!("{}:{a}", e.file),
            };
            minijinja::context! {
                loc => line(&loc, TITLE_CHARS),
                excerpt => (detail == Detail::Full && !e.excerpt.trim().is_empty())
                    .then(|| trim_lines(&e.excerpt, EXCERPT_LINES, BLOCK_CHARS)),
            }
        })
        .collect();
    minijinja::context! {
        line => false,
        icon => icon(f.severity),
        title,
        id,
        summary_head => trim_lines(&head, HEAD_LINES, BLOCK_CHARS),
        summary_rest => (!rest.trim().is_empty()).then(|| trim_lines(&rest, 80, BLOCK_CHARS)),
        fix => if with_fix { fix_value(&f.remediation) } else { Vec::new() },
        evidence => evidence,
        evidence_more => f.evidence.len().saturating_sub(EVIDENCE_ITEMS),
        references => f.references.iter().take(10).map(|s| line(s, TITLE_CHARS)).collect::<Vec<_>>(),
    }
}

/// The template's context for one plan, and what it leaves out (for the closing note).
fn context(
    r: &Report,
    plan: Plan,
    groups: &[Group<'_>],
    loose: &[&Finding],
) -> (Value, Vec<String>) {
    let mut left_out: Vec<String> = Vec::new();
    let full = groups.iter().take(plan.full_incidents);
    let incidents: Vec<Value> = full
        .map(|g| {
            let i = g.incident;
            let fix = if i.remediation.trim().is_empty() {
                g.cause.map(|c| c.remediation.as_str()).unwrap_or("")
            } else {
                i.remediation.as_str()
            };
            let shown = g.effects.len().min(plan.items);
            minijinja::context! {
                icon => icon(i.severity),
                title => line(&i.title, TITLE_CHARS),
                impact => (!i.impact.trim().is_empty()).then(|| line(&i.impact, BLOCK_CHARS)),
                fix => fix_value(fix),
                cause => g.cause.map(|c| finding_value(c, plan.cause, false)),
                effects_total => g.effects.len(),
                effects => g.effects.iter().take(shown).map(|f| finding_value(f, plan.effects, false)).collect::<Vec<_>>(),
                effects_more => g.effects.len() - shown,
            }
        })
        .collect();
    if plan.effects != Detail::Full && groups.iter().any(|g| !g.effects.is_empty()) {
        left_out.push(match plan.effects {
            Detail::NoExcerpt => "related findings without their excerpts".to_string(),
            _ => "related findings as one line each".to_string(),
        });
    }
    let rest = groups.get(plan.full_incidents..).unwrap_or_default();
    let brief: Vec<Value> = rest
        .iter()
        .take(plan.items)
        .map(|g| {
            minijinja::context! {
                icon => icon(g.incident.severity),
                title => line(&g.incident.title, TITLE_CHARS),
                id => line(&g.incident.id, TITLE_CHARS),
                findings => usize::from(g.cause.is_some()) + g.effects.len(),
            }
        })
        .collect();
    if !rest.is_empty() {
        left_out.push(format!("{} incident(s) listed by title only", rest.len()));
    }
    let (others, infos): (Vec<&Finding>, Vec<&Finding>) =
        loose.iter().partition(|f| f.severity >= Severity::Warning);
    let others_shown = others.len().min(plan.items);
    let infos_shown = infos.len().min(plan.items);
    let skipped: Vec<_> = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::NotEvaluated)
        .collect();
    let skipped_shown = skipped.len().min(plan.items);
    if plan.items != ALL {
        left_out.push("long lists cut".to_string());
    }
    let b = &r.bundle;
    let issue: Vec<String> = b
        .issue_description
        .as_deref()
        .map(|d| trim_lines(d, 40, BLOCK_CHARS))
        .map(|d| d.lines().map(str::to_string).collect())
        .unwrap_or_default();
    let ctx = minijinja::context! {
        headline => line(&r.verdict.headline, BLOCK_CHARS),
        issue => issue,
        issue_url => b.issue_url.as_deref().filter(|u| !u.trim().is_empty()).map(|u| line(u, TITLE_CHARS)),
        b => minijinja::context! {
            source => line(&b.source, TITLE_CHARS),
            cluster_id => line(b.cluster_id.as_deref().unwrap_or("unknown"), TITLE_CHARS),
            harvester_version => line(&b.harvester_version, TITLE_CHARS),
            kubernetes_version => line(b.kubernetes_version.as_deref().unwrap_or("unknown"), TITLE_CHARS),
            created_at => line(b.created_at.as_deref().unwrap_or("unknown"), TITLE_CHARS),
            nodes => b.nodes,
        },
        v => minijinja::context! {
            errors => r.verdict.errors,
            warnings => r.verdict.warnings,
            infos => r.verdict.infos,
            not_evaluated => r.verdict.not_evaluated,
        },
        incident_count => groups.len(),
        incidents => incidents,
        brief_total => rest.len(),
        brief => brief,
        brief_more => rest.len().saturating_sub(plan.items),
        others => others.iter().take(others_shown).map(|f| finding_value(f, plan.others, true)).collect::<Vec<_>>(),
        others_more => others.len() - others_shown,
        infos_total => infos.len(),
        infos => infos.iter().take(infos_shown).map(|f| minijinja::context! {
            id => line(&f.id, TITLE_CHARS),
            title => line(&f.title, TITLE_CHARS),
        }).collect::<Vec<_>>(),
        infos_more => infos.len() - infos_shown,
        skipped_total => skipped.len(),
        skipped => skipped.iter().take(skipped_shown).map(|c| minijinja::context! {
            rule => line(&c.rule, TITLE_CHARS),
            check => c.check.as_deref().map(|k| line(k, TITLE_CHARS)),
            reason => line(&c.reason, LINE_CHARS),
        }).collect::<Vec<_>>(),
        skipped_more => skipped.len() - skipped_shown,
        limit => "65,536",
        version => line(&r.tool.version, TITLE_CHARS),
    };
    (ctx, left_out)
}

fn render_plan(r: &Report, plan: Plan, g: &[Group<'_>], loose: &[&Finding]) -> String {
    let (ctx, left_out) = context(r, plan, g, loose);
    let ctx = minijinja::context! { shortened => left_out.join("; "), ..ctx };
    match super::render_template("report.md", ctx) {
        Ok(s) => format!("{}\n", tidy(s.trim_end())),
        Err(e) => format!("sbdiag: cannot render the Markdown template: {e}\n"),
    }
}

/// One blank line between blocks: runs of blank lines outside code blocks become one (inside a
/// code block every line is kept).
fn tidy(md: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut fenced = false;
    for l in md.lines() {
        if l.starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && l.trim().is_empty() && out.last().is_some_and(|p| p.trim().is_empty()) {
            continue;
        }
        out.push(l);
    }
    out.join("\n")
}

/// The last resort: the text cut at a line before `budget` characters, any open code fence and
/// `<details>` closed, and a note of the cut.
fn hard_cut(md: &str, budget: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for l in md.lines() {
        let n = l.chars().count() + 1;
        if used + n > budget {
            break;
        }
        used += n;
        out.push_str(l);
        out.push('\n');
    }
    if out.matches("```").count() % 2 == 1 {
        out.push_str("```\n");
    }
    let open = out
        .matches("<details>")
        .count()
        .saturating_sub(out.matches("</details>").count());
    for _ in 0..open {
        out.push_str("\n</details>\n");
    }
    out.push_str(&format!(
        "\n_Cut at {used} characters to fit a GitHub issue ({LIMIT} characters): report.html and report.json hold everything._\n"
    ));
    out
}

/// Renders the Markdown report, under [`LIMIT`] characters whatever the bundle holds.
pub fn render(r: &Report) -> String {
    let (g, loose) = groups(r);
    let mut last = String::new();
    for plan in PLANS {
        last = render_plan(r, plan, &g, &loose);
        if last.chars().count() <= BUDGET {
            return last;
        }
    }
    hard_cut(&last, BUDGET)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Evidence;
    use crate::report::layout::tests::{finding, incident};

    /// The code blocks of a Markdown text: (info string, lines).
    fn code_blocks(md: &str) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        let mut cur: Option<(String, Vec<String>)> = None;
        for l in md.lines() {
            if let Some(info) = l.strip_prefix("```") {
                match cur.take() {
                    Some(b) => out.push(b),
                    None => cur = Some((info.to_string(), Vec::new())),
                }
            } else if let Some((_, lines)) = cur.as_mut() {
                lines.push(l.to_string());
            }
        }
        assert!(cur.is_none(), "a code block is left open");
        out
    }

    fn node_down() -> Report {
        let mut r = Report::empty_for_tests();
        r.verdict.headline = "Node n2 is down".into();
        r.bundle.issue_description =
            Some("VMs on n2 are gone <script>x</script>\n```\nsince the power cut".into());
        r.bundle.issue_url = Some("https://example.com/t/1".into());
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
                "fleet.stale-status:Bundle/x",
                Severity::Warning,
                "Fleet status is stale",
            ),
            finding(
                "node.cordoned:Node/n3",
                Severity::Warning,
                "Node n3 is cordoned",
            ),
            finding(
                "vm.info:VirtualMachine/ns/v",
                Severity::Info,
                "VM ns/v is stopped",
            ),
        ];
        r.findings[1].remediation = "Delete the pod.\n$ kubectl -n ns delete pod a".into();
        r.findings[3].remediation =
            "Uncordon it when its maintenance is over.\n$ kubectl uncordon n3".into();
        incident(
            &mut r,
            "incident:Node/n2",
            "Node n2 is down",
            "node.not-ready:Node/n2",
            &[
                "upgrade.precheck.pod-status:Pod/ns/a",
                "fleet.stale-status:Bundle/x",
            ],
        );
        r.incidents[0].remediation = "Check the node's power and network.\nThen its kubelet:\n$ sbdiag logs -b b.zip n2 -c kubelet\n$ sbdiag describe node n2 -b b.zip\nLonghorn rebuilds the replicas.".into();
        r
    }

    #[test]
    fn incidents_come_first_with_their_fix_and_effects_folded() {
        let md = render(&node_down());
        let at = |needle: &str| {
            md.find(needle)
                .unwrap_or_else(|| panic!("{needle:?} not in\n{md}"))
        };
        assert!(md.starts_with("## sbdiag: Node n2 is down\n"));
        // The customer's words quoted, defused, at the top.
        assert!(
            md.contains("> VMs on n2 are gone ‹script›x‹/script›\n> ˋˋˋ\n> since the power cut\n"),
            "{md}"
        );
        assert!(md.contains("> Issue: https://example.com/t/1"));
        assert!(at("> VMs on n2") < at("## 🔴 Node n2 is down"));
        assert!(at("## 🔴 Node n2 is down") < at("**Impact:** Impact of incident:Node/n2."));
        assert!(at("**Fix**") < at("### Cause: 🔴 Node n2 is not Ready"));
        assert!(
            at("<details><summary>2 related finding(s)</summary>")
                < at("#### 🔴 Pod ns/a is not Ready")
        );
        // The effect's own fix is not offered: the incident's is the one to follow.
        assert!(!md.contains("delete pod a"));
        // A finding outside incidents keeps its fix, after the incidents.
        assert!(at("## Findings outside incidents") > at("#### 🟠 Fleet status is stale"));
        assert!(md.contains("$ kubectl uncordon n3") || md.contains("kubectl uncordon n3\n```"));
        assert!(md.contains("- `vm.info:VirtualMachine/ns/v` VM ns/v is stopped"));
        assert!(!md.contains("Shortened"));
    }

    #[test]
    fn only_commands_go_in_sh_blocks() {
        let md = render(&node_down());
        let blocks = code_blocks(&md);
        let sh: Vec<&Vec<String>> = blocks
            .iter()
            .filter(|(i, _)| i == "sh")
            .map(|(_, l)| l)
            .collect();
        assert_eq!(
            sh,
            [
                &vec![
                    "sbdiag logs -b b.zip n2 -c kubelet".to_string(),
                    "sbdiag describe node n2 -b b.zip".to_string()
                ],
                &vec!["kubectl uncordon n3".to_string()],
            ]
        );
        assert!(
            md.contains("\nCheck the node's power and network.  \nThen its kubelet:\n"),
            "{md}"
        );
        assert!(md.contains("\nLonghorn rebuilds the replicas.\n"));
        // A text from before the `$ ` convention is prose, never a code block.
        let mut r = node_down();
        r.incidents[0].remediation = "Fix the pod (kubectl -n ns describe pod a).".into();
        let md = render(&r);
        assert!(
            code_blocks(&md)
                .iter()
                .all(|(i, l)| i != "sh" || l == &vec!["kubectl uncordon n3".to_string()])
        );
        assert!(md.contains("\nFix the pod (kubectl -n ns describe pod a).\n"));
    }

    #[test]
    fn yaml_to_paste_keeps_its_indentation_in_a_yaml_block() {
        let mut r = node_down();
        r.incidents[0].remediation = LIT.into();
        let md = render(&r);
        let blocks = code_blocks(&md);
        let yaml: Vec<&Vec<String>> = blocks
            .iter()
            .filter(|(i, _)| i == "yaml")
            .map(|(_, l)| l)
            .collect();
        assert_eq!(
            yaml,
            [&vec![
                "- apiVersion: storage.k8s.io/v1".to_string(),
                "  kind: StorageClass".to_string(),
                "  jsonPointers:".to_string(),
                "  - /parameters/numberOfReplicas".to_string(),
            ]],
            "{md}"
        );
        assert!(md.contains("\nThen force a redeploy:\n"), "{md}");
    }

    #[test]
    fn a_command_keeps_its_redirection_and_cannot_close_its_block() {
        let mut r = node_down();
        r.incidents[0].remediation =
            "Save it:\n$ kubectl get sc x -o yaml > x.yaml\n$ echo ``` <b>".into();
        let md = render(&r);
        let blocks = code_blocks(&md);
        let sh = blocks
            .iter()
            .find(|(i, _)| i == "sh")
            .map(|(_, l)| l.clone());
        assert_eq!(
            sh,
            Some(vec![
                "kubectl get sc x -o yaml > x.yaml".to_string(),
                "echo ˋˋˋ <b>".to_string()
            ]),
            "{md}"
        );
    }

    const LIT: &str = "Keep the field and tell Fleet to ignore it. Append to spec.diff.comparePatches:\n  - apiVersion: storage.k8s.io/v1\n    kind: StorageClass\n    jsonPointers:\n    - /parameters/numberOfReplicas\nThen force a redeploy:\n$ kubectl -n fleet-local patch bundles.fleet.cattle.io mcc-harvester";

    #[test]
    fn any_report_fits_a_github_issue() {
        let mut r = node_down();
        let long = "x ".repeat(300);
        let mut effects = Vec::new();
        for i in 0..3_000 {
            let sev = if i % 3 == 0 {
                Severity::Error
            } else {
                Severity::Warning
            };
            let mut f = finding(
                &format!("upgrade.precheck.pod-status:Pod/ns/p{i}"),
                sev,
                &format!("Pod ns/p{i} is not Ready {long}"),
            );
            // The first hundred carry every field at its longest; the rest are ordinary.
            let big = i < 100;
            f.summary = format!("{long}\n").repeat(if big { 15 } else { 3 });
            f.remediation =
                format!("$ kubectl delete pod p{i} {long}\n").repeat(if big { 45 } else { 1 });
            f.evidence = vec![
                Evidence {
                    file: "f.yaml".into(),
                    line: 1,
                    end_line: 40,
                    excerpt: format!("{long}\n").repeat(if big { 20 } else { 4 }),
                    focus: None,
                    focus_last: false
                };
                if big { 8 } else { 1 }
            ];
            f.references = vec![long.clone(); if big { 12 } else { 1 }];
            r.findings.push(f);
            if i < 2_000 {
                effects.push(format!("upgrade.precheck.pod-status:Pod/ns/p{i}"));
            }
        }
        for i in 0..2_000 {
            r.findings.push(finding(
                &format!("vm.info:VirtualMachine/ns/v{i}"),
                Severity::Info,
                &long,
            ));
        }
        let effects: Vec<&str> = effects.iter().map(String::as_str).collect();
        incident(
            &mut r,
            "incident:Node/n2",
            "Node n2 is down",
            "node.not-ready:Node/n2",
            &effects,
        );
        // Hundreds of small incidents, one finding each.
        for i in 2_000..2_600 {
            let id = format!("upgrade.precheck.pod-status:Pod/ns/p{i}");
            incident(
                &mut r,
                &format!("incident:Pod/ns/p{i}"),
                &format!("Pod p{i} {long}"),
                &id,
                &[],
            );
        }
        r.bundle.issue_description = Some(format!("{long}\n").repeat(100));
        let md = render(&r);
        let n = md.chars().count();
        assert!(n < LIMIT, "{n} characters");
        // Still leads with the first incident and its whole fix, and says what it left out.
        assert!(md.contains("## 🔴 Node n2 is down"));
        assert!(md.contains("sbdiag logs -b b.zip n2 -c kubelet"));
        assert!(md.contains("report.html and report.json"));
        assert_eq!(md.matches("```").count() % 2, 0);
        assert_eq!(
            md.matches("<details>").count(),
            md.matches("</details>").count()
        );
        code_blocks(&md);
    }

    #[test]
    fn the_last_resort_closes_what_it_cuts_open() {
        let md = "a\n```sh\nb\nc\n```\n";
        let cut = hard_cut(md, 10);
        assert!(cut.starts_with("a\n```sh\nb\n```\n"), "{cut}");
        let cut = hard_cut(
            "<details><summary>x</summary>\n\nlong line\n</details>\n",
            34,
        );
        assert_eq!(cut.matches("</details>").count(), 1, "{cut}");
        assert!(cut.contains("report.html and report.json hold everything"));
    }
}
