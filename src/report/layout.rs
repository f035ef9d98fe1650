//! What every renderer lays out the same way: the findings grouped under the incidents that hold
//! them (cause first, then effects, in report order), the findings no incident holds, and a
//! remediation split into its steps. Only arranging, never judging: which finding belongs to
//! which incident, and what the fix is, the analysis has already decided.
use std::collections::{BTreeMap, BTreeSet};

use super::{Finding, Incident, Report};

/// One step of a remediation (one line of its text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    /// Prose: what to do or check, in words.
    Prose(&'a str),
    /// A shell command to copy (the line after its `$ ` marker).
    Command(&'a str),
    /// Text to paste exactly as written (a YAML entry to add to an object): a run of indented
    /// lines, with the indentation they share removed and the rest kept.
    Literal(Vec<&'a str>),
}

/// The steps of a remediation: one per non-blank line; a line starting with `$ ` is a command,
/// a run of indented lines is one literal block (YAML keeps its meaning only with its
/// indentation), every other line is prose (a text written before the convention is all prose).
pub fn steps(remediation: &str) -> Vec<Step<'_>> {
    let mut out: Vec<Step<'_>> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for l in remediation.lines().map(str::trim_end) {
        if l.trim().is_empty() {
            flush_literal(&mut block, &mut out);
            continue;
        }
        match l.trim_start().strip_prefix("$ ") {
            Some(cmd) if !cmd.trim().is_empty() => {
                flush_literal(&mut block, &mut out);
                out.push(Step::Command(cmd.trim()));
            }
            _ if l.starts_with([' ', '\t']) => block.push(l),
            _ => {
                flush_literal(&mut block, &mut out);
                out.push(Step::Prose(l.trim()));
            }
        }
    }
    flush_literal(&mut block, &mut out);
    out
}

/// A remediation cut into the blocks a renderer draws: runs of prose lines, runs of commands,
/// and each literal text on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block<'a> {
    /// Consecutive prose steps.
    Prose(Vec<&'a str>),
    /// Consecutive commands (one copyable block).
    Commands(Vec<&'a str>),
    /// One literal text to paste, its lines as written.
    Literal(Vec<&'a str>),
}

/// The blocks of a list of steps, in order: neighbouring prose steps and neighbouring
/// commands join; a literal stays alone.
pub fn blocks<'a>(steps: impl IntoIterator<Item = Step<'a>>) -> Vec<Block<'a>> {
    let mut out: Vec<Block<'a>> = Vec::new();
    for s in steps {
        match (s, out.last_mut()) {
            (Step::Prose(p), Some(Block::Prose(v))) => v.push(p),
            (Step::Command(c), Some(Block::Commands(v))) => v.push(c),
            (Step::Prose(p), _) => out.push(Block::Prose(vec![p])),
            (Step::Command(c), _) => out.push(Block::Commands(vec![c])),
            (Step::Literal(l), _) => out.push(Block::Literal(l)),
        }
    }
    out
}

/// Ends a run of indented lines as one literal step, without the indentation they share.
fn flush_literal<'a>(block: &mut Vec<&'a str>, out: &mut Vec<Step<'a>>) {
    if block.is_empty() {
        return;
    }
    let indent = block
        .iter()
        .map(|l| l.len().saturating_sub(l.trim_start().len()))
        .min()
        .unwrap_or(0);
    let lines = block.iter().map(|l| l.get(indent..).unwrap_or(l)).collect();
    out.push(Step::Literal(lines));
    block.clear();
}

/// An incident with its findings.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    /// The incident.
    pub incident: &'a Incident,
    /// Its cause finding (absent only when the report does not hold that id).
    pub cause: Option<&'a Finding>,
    /// The findings it explains, in the incident's order.
    pub effects: Vec<&'a Finding>,
}

/// The report's incidents in order, each with its findings, and the findings no incident
/// holds, in report order. A finding is shown once: under the first incident that names it.
pub fn groups(r: &Report) -> (Vec<Group<'_>>, Vec<&Finding>) {
    let by_id: BTreeMap<&str, &Finding> = r.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut take = |id: &str| -> Option<&Finding> {
        let f = by_id.get(id).copied()?;
        placed.insert(f.id.as_str()).then_some(f)
    };
    let groups: Vec<Group<'_>> = r
        .incidents
        .iter()
        .map(|i| Group {
            incident: i,
            cause: take(&i.cause),
            effects: i.effects.iter().filter_map(|id| take(id)).collect(),
        })
        .collect();
    let loose = r
        .findings
        .iter()
        .filter(|f| !placed.contains(f.id.as_str()))
        .collect();
    (groups, loose)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::Severity;

    /// A finding for renderer tests.
    pub(crate) fn finding(id: &str, severity: Severity, title: &str) -> Finding {
        Finding {
            id: id.into(),
            rule: id.split(':').next().unwrap_or(id).into(),
            severity,
            title: title.into(),
            summary: format!("Summary of {id}."),
            objects: Vec::new(),
            evidence: Vec::new(),
            remediation: String::new(),
            references: Vec::new(),
            graph: None,
            incident: None,
        }
    }

    /// The findings of a small node-down report: the down node (titled `node_title`), a Fleet
    /// claim it explains and an informational VM finding.
    pub(crate) fn node_down_findings(node_title: &str) -> Vec<Finding> {
        vec![
            finding("node.not-ready:Node/n2", Severity::Error, node_title),
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
        ]
    }

    /// An incident for renderer tests; marks its findings as held by it.
    pub(crate) fn incident(r: &mut Report, id: &str, title: &str, cause: &str, effects: &[&str]) {
        let severity = r
            .findings
            .iter()
            .filter(|f| f.id == cause || effects.contains(&f.id.as_str()))
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Warning);
        for f in &mut r.findings {
            if f.id == cause || effects.contains(&f.id.as_str()) {
                f.incident = Some(id.into());
            }
        }
        r.incidents.push(Incident {
            id: id.into(),
            severity,
            title: title.into(),
            cause: cause.into(),
            effects: effects.iter().map(|s| s.to_string()).collect(),
            impact: format!("Impact of {id}."),
            remediation: String::new(),
            graph: None,
        });
    }

    #[test]
    fn steps_split_commands_from_prose() {
        let s = "Check the node's kubelet log.\n\n$ kubectl uncordon n1\n  $ kubectl get nodes  \n$ \nA $ in prose\nAppend:\n  - name: x\n    pointers:\n    - /a\n\n\t\tb: 1\nDone.";
        assert_eq!(
            steps(s),
            [
                Step::Prose("Check the node's kubelet log."),
                Step::Command("kubectl uncordon n1"),
                Step::Command("kubectl get nodes"),
                Step::Prose("$"),
                Step::Prose("A $ in prose"),
                Step::Prose("Append:"),
                Step::Literal(vec!["- name: x", "  pointers:", "  - /a"]),
                Step::Literal(vec!["b: 1"]),
                Step::Prose("Done."),
            ]
        );
        // A text written before the convention is prose, even when it names a command.
        assert_eq!(
            steps("kubectl -n x delete pod p"),
            [Step::Prose("kubectl -n x delete pod p")]
        );
        assert!(steps("").is_empty());
    }

    #[test]
    fn blocks_join_neighbours_and_keep_literals_alone() {
        let s = "Say.\nMore.\n$ a\n$ b\n  - x: 1\n\n  - y: 2\nEnd.";
        assert_eq!(
            blocks(steps(s)),
            [
                Block::Prose(vec!["Say.", "More."]),
                Block::Commands(vec!["a", "b"]),
                Block::Literal(vec!["- x: 1"]),
                Block::Literal(vec!["- y: 2"]),
                Block::Prose(vec!["End."]),
            ]
        );
    }

    #[test]
    fn findings_are_grouped_once_and_the_rest_left_loose() {
        let mut r = Report::empty_for_tests();
        r.findings = vec![
            finding("a:1", Severity::Error, "A"),
            finding("b:1", Severity::Error, "B"),
            finding("c:1", Severity::Warning, "C"),
            finding("d:1", Severity::Info, "D"),
        ];
        incident(&mut r, "incident:1", "One", "b:1", &["a:1", "gone:1"]);
        incident(&mut r, "incident:2", "Two", "c:1", &["a:1"]);
        let (g, loose) = groups(&r);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].cause.map(|f| f.id.as_str()), Some("b:1"));
        let ids = |v: &[&Finding]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&g[0].effects), ["a:1"]);
        // a:1 is shown under the first incident only.
        assert!(g[1].effects.is_empty());
        assert_eq!(ids(&loose), ["d:1"]);
    }
}
