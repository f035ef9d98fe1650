//! From the analysis' own values to the report contract (`report::contract`): one explicit
//! conversion per type, field by field, so an internal type can gain, lose or rename fields
//! without changing `report.json` unless a line here says so.
use crate::archive::Format;
use crate::bundle::Problem;
use crate::facts::coverage::{Collected, Coverage, Gap, GapEvidence, GapLevel};
use crate::index::ParseError;
use crate::report::contract as c;
use crate::rules::{
    self, Check, CheckStatus, Evidence, Finding, GraphEdge, GraphNode, ObjectRef, RuleInfo,
    Severity, SubGraph,
};

use super::incidents::Incident;
use super::timeline::{Entry, Kind, Level};

impl From<Severity> for c::Severity {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Info => c::Severity::Info,
            Severity::Warning => c::Severity::Warning,
            Severity::Error => c::Severity::Error,
        }
    }
}

impl From<CheckStatus> for c::CheckStatus {
    fn from(s: CheckStatus) -> Self {
        match s {
            CheckStatus::Pass => c::CheckStatus::Pass,
            CheckStatus::Fail => c::CheckStatus::Fail,
            CheckStatus::NotEvaluated => c::CheckStatus::NotEvaluated,
            CheckStatus::NotApplicable => c::CheckStatus::NotApplicable,
        }
    }
}

impl From<Format> for c::ArchiveFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Dir => c::ArchiveFormat::Dir,
            Format::Zip => c::ArchiveFormat::Zip,
            Format::Tar => c::ArchiveFormat::Tar,
            Format::TarGz => c::ArchiveFormat::TarGz,
        }
    }
}

impl From<GapLevel> for c::GapLevel {
    fn from(l: GapLevel) -> Self {
        match l {
            GapLevel::Info => c::GapLevel::Info,
            GapLevel::Warning => c::GapLevel::Warning,
            GapLevel::Error => c::GapLevel::Error,
        }
    }
}

impl From<Kind> for c::TimelineKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Condition => c::TimelineKind::Condition,
            Kind::Event => c::TimelineKind::Event,
            Kind::Fleet => c::TimelineKind::Fleet,
            Kind::Log => c::TimelineKind::Log,
            Kind::Upgrade => c::TimelineKind::Upgrade,
        }
    }
}

impl From<Level> for c::TimelineLevel {
    fn from(l: Level) -> Self {
        match l {
            Level::Normal => c::TimelineLevel::Normal,
            Level::Warning => c::TimelineLevel::Warning,
        }
    }
}

// Findings, checks and timeline entries are moved into the report (no copy of excerpts);
// the coverage ledger stays with the analysis and is copied.

fn object(o: ObjectRef) -> c::ObjectRef {
    c::ObjectRef {
        api_version: o.api_version,
        kind: o.kind,
        namespace: o.namespace,
        name: o.name,
    }
}

fn evidence(e: Evidence) -> c::Evidence {
    c::Evidence {
        file: e.file,
        line: e.line,
        end_line: e.end_line,
        excerpt: e.excerpt,
        focus: e.focus,
        focus_last: e.focus_last,
    }
}

fn graph_node(n: GraphNode) -> c::GraphNode {
    c::GraphNode {
        object: object(n.object),
        status: n.status,
        ready: n.ready,
        claimed: n.claimed,
    }
}

fn graph_edge(e: GraphEdge) -> c::GraphEdge {
    c::GraphEdge {
        from: e.from,
        to: e.to,
        kind: e.kind,
    }
}

fn sub_graph(g: SubGraph) -> c::SubGraph {
    c::SubGraph {
        nodes: g.nodes.into_iter().map(graph_node).collect(),
        edges: g.edges.into_iter().map(graph_edge).collect(),
    }
}

/// A finding of the report.
pub fn finding(f: Finding) -> c::Finding {
    c::Finding {
        id: f.id,
        rule: f.rule,
        severity: f.severity.into(),
        title: f.title,
        summary: f.summary,
        objects: f.objects.into_iter().map(object).collect(),
        evidence: f.evidence.into_iter().map(evidence).collect(),
        remediation: f.remediation,
        references: f.references,
        graph: f.graph.map(sub_graph),
        incident: None,
    }
}

/// The findings of the report, each with the id of the incident that holds it.
pub fn findings(findings: Vec<Finding>, incidents: &[Incident]) -> Vec<c::Finding> {
    let mut of: Vec<Option<&str>> = vec![None; findings.len()];
    for i in incidents {
        for &m in std::iter::once(&i.cause).chain(&i.effects) {
            if let Some(slot) = of.get_mut(m) {
                *slot = Some(i.id.as_str());
            }
        }
    }
    findings
        .into_iter()
        .zip(of)
        .map(|(f, inc)| c::Finding {
            incident: inc.map(str::to_string),
            ..finding(f)
        })
        .collect()
}

/// An incident of the report: its cause and effects by finding id.
pub fn incident(i: Incident) -> c::Incident {
    c::Incident {
        id: i.id,
        severity: i.severity.into(),
        title: i.title,
        cause: i.cause_id,
        effects: i.effect_ids,
        impact: i.impact,
        remediation: i.remediation,
        graph: i.graph.map(sub_graph),
    }
}

/// A check of the report: a rule's, or one of its sub-checks (`check`).
pub fn check(k: Check) -> c::Check {
    c::Check {
        rule: k.rule,
        check: k.check,
        status: k.status.into(),
        reason: k.reason,
    }
}

fn location(e: &GapEvidence) -> c::Location {
    c::Location {
        file: e.file.clone(),
        line: e.line,
        end_line: e.end_line,
    }
}

fn gap(g: &Gap) -> c::Gap {
    c::Gap {
        what: g.what.clone(),
        why: g.why.clone(),
        rule: g.rule.to_string(),
        level: g.level.into(),
        evidence: g.evidence.iter().map(location).collect(),
        fix: g.fix.to_string(),
    }
}

fn parse_error(p: &ParseError) -> c::ParseError {
    c::ParseError {
        file: p.file.clone(),
        line: p.line,
        error: p.error.clone(),
    }
}

fn failure(p: &Problem) -> c::Failure {
    c::Failure {
        file: p.file.clone(),
        error: p.error.clone(),
    }
}

fn collected(x: &Collected) -> c::Collected {
    c::Collected {
        resource_lists: x.resource_lists,
        namespaces: x.namespaces.clone(),
        pod_logs: x.pod_logs,
        previous_pod_logs: x.previous_pod_logs,
        node_bundles: x.node_bundles.clone(),
    }
}

/// The coverage section.
pub fn coverage(x: &Coverage) -> c::CoverageReport {
    c::CoverageReport {
        missing: x.missing.iter().map(gap).collect(),
        collection_errors: x.collection_errors,
        parse_errors: x.parse_errors.iter().map(parse_error).collect(),
        collected: collected(&x.collected),
        failed: x.failed.iter().map(failure).collect(),
    }
}

/// A timeline entry of the report.
pub fn timeline_entry(t: Entry) -> c::TimelineEntry {
    c::TimelineEntry {
        at: t.at,
        ago: t.ago,
        kind: t.kind.into(),
        text: t.text,
        level: t.level.into(),
        object: t.object.map(object),
        evidence: t.evidence.map(evidence),
    }
}

/// A rule of the catalog as the report describes it.
pub fn rule(i: &RuleInfo) -> c::RuleDescription {
    c::RuleDescription {
        id: i.id.to_string(),
        title: i.title.to_string(),
        description: i.description.to_string(),
        versions: i.versions.to_string(),
    }
}

/// The catalog's rules, in catalog order.
pub fn rules(catalog: &[Box<dyn rules::Rule>]) -> Vec<c::RuleDescription> {
    catalog.iter().map(|r| rule(r.info())).collect()
}

/// The report's VM view (see [`c::VmView`]): each VM's chain from the VM fact, its links'
/// places in the bundle and the warning and error findings about them (matched by the
/// finding's subject, its first object). Every VM when there are at most [`c::VM_VIEW_ALL`],
/// else those with a finding on the way; worst first, then by namespace and name.
pub fn vm_views(
    index: &crate::index::Index,
    storage: &crate::facts::storage::Storage,
    vms: &crate::facts::vm::Vms,
    findings: &[c::Finding],
) -> Vec<c::VmView> {
    let mut by_subject: std::collections::HashMap<String, Vec<&c::Finding>> =
        std::collections::HashMap::new();
    for f in findings
        .iter()
        .filter(|f| f.severity >= c::Severity::Warning)
    {
        if let Some(o) = f.objects.first() {
            by_subject
                .entry(format!("{}/{}/{}", o.kind, o.namespace, o.name))
                .or_default()
                .push(f);
        }
    }
    let all = vms.vms.len() <= c::VM_VIEW_ALL;
    let mut out: Vec<c::VmView> = vms
        .vms
        .iter()
        .filter_map(|f| {
            let vm = f.vm(index)?;
            let mut ids: Vec<&c::Finding> = Vec::new();
            let links: Vec<c::VmLink> = crate::facts::vm::vm_links(index, storage, f)
                .into_iter()
                .map(|l| {
                    let o = l.at.and_then(|i| index.objects.get(i));
                    let here: Vec<&c::Finding> = o
                        .and_then(|o| {
                            by_subject.get(&format!(
                                "{}/{}/{}",
                                o.key.kind, o.key.namespace, o.key.name
                            ))
                        })
                        .cloned()
                        .unwrap_or_default();
                    for h in &here {
                        if !ids.iter().any(|x| x.id == h.id) {
                            ids.push(h);
                        }
                    }
                    c::VmLink {
                        depth: l.depth,
                        relation: l.relation.to_string(),
                        object: l.what,
                        state: l.state,
                        file: o.and_then(|o| index.file_of(o)).map(|x| x.path.clone()),
                        line: o.map(|o| o.line),
                        end_line: o.map(|o| o.end_line),
                        findings: here.iter().map(|h| h.id.clone()).collect(),
                    }
                })
                .collect();
            if !all && ids.is_empty() {
                return None;
            }
            ids.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
            Some(c::VmView {
                namespace: vm.key.namespace.clone(),
                name: vm.key.name.clone(),
                status: f.printed(index).unwrap_or("unknown").to_string(),
                worst: ids.first().map(|x| x.severity),
                links,
                findings: ids.into_iter().map(|x| x.id.clone()).collect(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.worst
            .cmp(&a.worst)
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_keeps_every_contract_field() {
        let mut f = Finding {
            id: "r.x:Node/n".into(),
            rule: "r.x".into(),
            severity: Severity::Warning,
            title: "t".into(),
            summary: "s".into(),
            objects: vec![ObjectRef {
                api_version: "v1".into(),
                kind: "Node".into(),
                namespace: String::new(),
                name: "n".into(),
            }],
            evidence: vec![Evidence::lines("f.yaml", 3, 4).focus("type: Ready")],
            remediation: "fix".into(),
            references: vec!["https://x".into()],
            graph: Some(SubGraph {
                nodes: vec![GraphNode {
                    object: ObjectRef {
                        api_version: "v1".into(),
                        kind: "Node".into(),
                        namespace: String::new(),
                        name: "n".into(),
                    },
                    status: "Ready".into(),
                    ready: true,
                    claimed: None,
                }],
                edges: vec![GraphEdge {
                    from: 0,
                    to: 0,
                    kind: "owns".into(),
                }],
            }),
            order: 7,
            topics: vec!["check:C1".into()],
            explains: Vec::new(),
        };
        f.evidence[0].excerpt = "a\nb\n".into();
        let internal = serde_json::to_value(&f).unwrap_or_default();
        let contract = serde_json::to_value(finding(f.clone())).unwrap_or_default();
        // Today the two serialize alike; the contract no longer depends on it.
        assert_eq!(internal, contract);
        assert_eq!(contract["severity"], "warning");
        assert_eq!(contract["evidence"][0]["excerpt"], "a\nb\n");
        assert!(contract.get("order").is_none());
        let ev = &finding(f).evidence[0];
        assert_eq!(ev.focus.as_deref(), Some("type: Ready"));
    }

    #[test]
    fn coverage_keeps_what_the_html_shows_and_the_json_leaves_out() {
        let mut cov = Coverage::default();
        cov.missing.push(Gap {
            rule: "bundle.pod-logs",
            level: GapLevel::Warning,
            key: "Namespace/harvester-system".into(),
            what: "w".into(),
            why: "y".into(),
            evidence: vec![GapEvidence::new("logs/a.log", 0, 0)],
            fix: "collect",
            concerns: Vec::new(),
        });
        cov.failed.push(Problem {
            file: "f".into(),
            error: "e".into(),
        });
        let r = coverage(&cov);
        let g = &r.missing[0];
        assert_eq!(
            (g.rule.as_str(), g.level, g.fix.as_str()),
            ("bundle.pod-logs", c::GapLevel::Warning, "collect")
        );
        assert_eq!(g.evidence[0].file, "logs/a.log");
        assert_eq!(
            serde_json::to_value(&r).unwrap_or_default(),
            serde_json::to_value(&cov).unwrap_or_default()
        );
    }
}
