//! Findings and checks: what rules produce and every renderer shows, and the kit rules build
//! them with — [`Finding::new`] / [`Finding::about`] and the `with_*` builders, [`ObjectRef::of`],
//! [`Evidence::of`]. No rule writes a `Finding { … }` literal: ids are made here, from the rule
//! and the identity of what the finding is about, never from counts or prose.
use serde::Serialize;

use crate::index::{Index, Object};

/// Correlation topics and keys findings carry for the incident stage ([`Finding::topics`],
/// [`Finding::explains`]), written once so a rule and the stage cannot spell them apart.
pub mod topic {
    /// An upgrade webhook check (`check:C12`): its denial, and the same denial seen in logs.
    pub fn check(id: &str) -> String {
        format!("check:{id}")
    }

    /// An admission webhook by name (`webhook:validator.harvesterhci.io`).
    pub fn webhook(name: &str) -> String {
        format!("webhook:{name}")
    }

    /// A node's cordon or drain taint (`cordon:Node/n1`): who put it there explains the
    /// findings about it.
    pub fn cordon(node: &str) -> String {
        format!("cordon:Node/{node}")
    }

    /// A Fleet Bundle's summary (`chart:fleet-local/mcc-harvester`): what the upgrade webhook's
    /// C12 and the pre-checks read; a ManagedChart `X` is Bundle `mcc-X`.
    pub fn chart(namespace: &str, bundle: &str) -> String {
        format!("chart:{namespace}/{bundle}")
    }

    /// A node's system services (`services:Node/n1`): a cause the node's logs name (its clock
    /// behind the certificates') explains their failures.
    pub fn services(node: &str) -> String {
        format!("services:Node/{node}")
    }

    /// A disk of a node (`disk:Node/n1/sdc`, partitions folded into their disk): its block I/O
    /// errors explain the filesystem errors on it.
    pub fn disk(node: &str, device: &str) -> String {
        let base = if ["sd", "vd", "xvd", "hd"]
            .iter()
            .any(|p| device.starts_with(p))
        {
            device.trim_end_matches(|c: char| c.is_ascii_digit())
        } else {
            device
        };
        format!("disk:Node/{node}/{base}")
    }

    /// Fleet's agent: while it does not report, every claim about the cluster is stale.
    pub const FLEET_AGENT: &str = "fleet-agent";

    /// Nodes running different kubelet versions (an upgrade in progress causes it).
    pub const KUBELET_SKEW: &str = "kubelet-skew";

    /// What upgrades left behind; the last failed upgrade explains them.
    pub const LEFTOVER: &str = "leftover";
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Degrades something or hides a problem.
    Warning,
    /// Breaks a function or blocks an upgrade.
    Error,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// An object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct ObjectRef {
    /// `group/version` (or `v1`).
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// The reference to an indexed object.
    pub fn of(o: &Object) -> ObjectRef {
        ObjectRef {
            api_version: o.api_version(),
            kind: o.key.kind.clone(),
            namespace: o.key.namespace.clone(),
            name: o.key.name.clone(),
        }
    }

    /// `Kind/namespace/name` (`Kind/name` when cluster-scoped): the identity part of an id.
    pub fn subject(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The identity part of a finding's id for an object: its `Kind/namespace/name`, then
/// `:aspect` unless empty, when one object can have several findings of a rule
/// (`Node/n1:DiskPressure`).
pub fn subject(o: &Object, aspect: &str) -> String {
    let s = ObjectRef::of(o).subject();
    if aspect.is_empty() {
        s
    } else {
        format!("{s}:{aspect}")
    }
}

/// Where in the bundle a finding shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct Evidence {
    /// Bundle-relative file (`nodes/n.zip!n/logs/kernel.log` inside node zips).
    pub file: String,
    /// First line, 1-based (0: the file as a whole, or its absence).
    pub line: u32,
    /// Last line.
    pub end_line: u32,
    /// The lines themselves (filled in after the rules ran; trimmed when long).
    pub excerpt: String,
    /// Text to look for inside `line..=end_line`: when set, the excerpt stage narrows the
    /// range to the lines around its first occurrence (a rule knows the object, not the line
    /// of one field inside it).
    #[serde(skip)]
    pub focus: Option<String>,
    /// Focus on the last occurrence instead of the first (logs: the latest state).
    #[serde(skip)]
    pub focus_last: bool,
}

impl Evidence {
    /// Evidence for a line range; the excerpt is filled in later.
    pub fn lines(file: impl Into<String>, line: u32, end_line: u32) -> Evidence {
        Evidence {
            file: file.into(),
            line,
            end_line: end_line.max(line),
            excerpt: String::new(),
            focus: None,
            focus_last: false,
        }
    }

    /// A whole file (a log), narrowed later to the lines around the last line containing
    /// `text` (every line contains `""`: the file's end).
    pub fn log_tail(file: impl Into<String>, text: impl Into<String>) -> Evidence {
        let mut e = Evidence::lines(file, 1, u32::MAX).focus(text);
        e.focus_last = true;
        e
    }

    /// An indexed object's lines: around `focus` when given (narrowed when the excerpt is
    /// filled in), else its `name:` line.
    pub fn of(index: &Index, o: &Object, focus: Option<&str>) -> Evidence {
        let file = index.file_of(o).map(|f| f.path.clone()).unwrap_or_default();
        match focus {
            Some(f) => Evidence::lines(file, o.line, o.end_line).focus(f),
            None => Evidence::lines(file, o.name_line, o.name_line),
        }
    }

    /// Narrows this evidence to the lines around `text` when the excerpt is filled in.
    pub fn focus(mut self, text: impl Into<String>) -> Evidence {
        self.focus = Some(text.into());
        self
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id, `rule:subject`, unique within a report: the subject is the identity of what
    /// the finding is about (objects as `Kind/namespace/name`, a check id such as `C12`, a
    /// bundle path, a fixed aspect word), never a count, a line number or prose, so the same
    /// problem has the same id in the next capture and `diff` and `scan` line them up.
    pub id: String,
    /// Rule id.
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// Title.
    pub title: String,
    /// What was found and what it means.
    pub summary: String,
    /// Objects concerned.
    pub objects: Vec<ObjectRef>,
    /// Evidence.
    pub evidence: Vec<Evidence>,
    /// What to do.
    pub remediation: String,
    /// Links.
    pub references: Vec<String>,
    /// The status graph around the finding's subject (error findings), for renderers to draw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<SubGraph>,
    /// Position among the rule's findings when their order means something (the upgrade
    /// webhook's order of checks); 0 otherwise. Not serialised: the id carries identity.
    #[serde(skip)]
    pub order: u32,
    /// What the finding is about beyond its objects, for the incident stage
    /// (`analyze::incidents`): `check:C12`, `webhook:validator.harvesterhci.io`,
    /// `cordon:Node/n1`. A finding that explains one of them takes this one as its effect.
    #[serde(skip)]
    pub topics: Vec<String>,
    /// What this finding explains, beyond what the incident stage derives from the status graph
    /// and the facts: object subjects (`Kind/ns/name`) and topics. Only rules that know the
    /// direction of a cause set it (a Fleet verdict confirmed by a broken workload explains the
    /// chart's not-ready summary; a stale claim of "ready" explains nothing).
    #[serde(skip)]
    pub explains: Vec<String>,
}

impl Finding {
    /// A finding of `rule` whose subject (the identity part of its id, `rule:subject`) is
    /// `subject`: an object's `Kind/namespace/name`, a check id, a stable key. Fill the rest
    /// with the `with_*` builders.
    pub fn new(
        rule: &str,
        subject: impl AsRef<str>,
        severity: Severity,
        title: impl Into<String>,
    ) -> Finding {
        Finding {
            id: format!("{rule}:{}", subject.as_ref()),
            rule: rule.to_string(),
            severity,
            title: title.into(),
            summary: String::new(),
            objects: Vec::new(),
            evidence: Vec::new(),
            remediation: String::new(),
            references: Vec::new(),
            graph: None,
            order: 0,
            topics: Vec::new(),
            explains: Vec::new(),
        }
    }

    /// A finding of `rule` about one object: its id is `rule:Kind/namespace/name` and the
    /// object comes first in its objects.
    pub fn about(rule: &str, o: &Object, severity: Severity, title: impl Into<String>) -> Finding {
        let r = ObjectRef::of(o);
        Finding::new(rule, r.subject(), severity, title).with_object(r)
    }

    /// Adds an aspect to the subject of the id (`rule:Kind/ns/name:aspect`), when one object
    /// can have several findings of a rule.
    pub fn with_subject_aspect(mut self, aspect: &str) -> Finding {
        self.id = format!("{}:{aspect}", self.id);
        self
    }

    /// What was found and what it means.
    pub fn with_summary(mut self, summary: String) -> Finding {
        self.summary = summary;
        self
    }

    /// One more object concerned.
    pub fn with_object(mut self, o: ObjectRef) -> Finding {
        self.objects.push(o);
        self
    }

    /// More objects concerned.
    pub fn with_objects(mut self, objects: Vec<ObjectRef>) -> Finding {
        self.objects.extend(objects);
        self
    }

    /// More evidence.
    pub fn with_evidence(mut self, evidence: Vec<Evidence>) -> Finding {
        self.evidence.extend(evidence);
        self
    }

    /// One more correlation topic (see [`Finding::topics`]).
    pub fn with_topic(mut self, topic: impl Into<String>) -> Finding {
        let t = topic.into();
        if !self.topics.contains(&t) {
            self.topics.push(t);
        }
        self
    }

    /// More correlation topics.
    pub fn with_topics(self, topics: impl IntoIterator<Item = String>) -> Finding {
        topics.into_iter().fold(self, Finding::with_topic)
    }

    /// More keys this finding explains (see [`Finding::explains`]).
    pub fn explaining(mut self, keys: impl IntoIterator<Item = String>) -> Finding {
        for k in keys {
            if !self.explains.contains(&k) {
                self.explains.push(k);
            }
        }
        self
    }

    /// What to do.
    pub fn with_remediation(mut self, remediation: String) -> Finding {
        self.remediation = remediation;
        self
    }

    /// Links.
    pub fn with_references(mut self, references: Vec<String>) -> Finding {
        self.references.extend(references);
        self
    }

    /// The status graph around the finding's subject.
    pub fn with_graph(mut self, graph: Option<SubGraph>) -> Finding {
        self.graph = graph;
        self
    }

    /// Position among the rule's findings when their order means something.
    pub fn with_order(mut self, order: u32) -> Finding {
        self.order = order;
        self
    }
}

/// A small piece of the status graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubGraph {
    /// Nodes; the first is the finding's subject.
    pub nodes: Vec<GraphNode>,
    /// Edges between them (indices into `nodes`).
    pub edges: Vec<GraphEdge>,
}

/// A node of a [`SubGraph`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphNode {
    /// The object.
    pub object: ObjectRef,
    /// Observed status in words.
    pub status: String,
    /// Healthy.
    pub ready: bool,
    /// What Fleet claims about it, with the verdict, when it reports on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed: Option<String>,
}

/// An edge of a [`SubGraph`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphEdge {
    /// From (index into nodes).
    pub from: usize,
    /// To.
    pub to: usize,
    /// Relation (`owns`, `runs on`, `deploys`, …).
    pub kind: String,
}

/// Result of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Ran and found nothing at warning or above.
    Pass,
    /// Ran and found something.
    Fail,
    /// Could not run: an input was not collected.
    NotEvaluated,
    /// The running version has no such check.
    NotApplicable,
}

impl CheckStatus {
    /// Name as in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::NotEvaluated => "not_evaluated",
            CheckStatus::NotApplicable => "not_applicable",
        }
    }
}

/// One check: a rule, or one sub-check of a rule made of several, and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Rule id.
    pub rule: String,
    /// The sub-check (`C25`), for a rule made of several; `None` for the rule itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// Outcome.
    pub status: CheckStatus,
    /// Why.
    pub reason: String,
}

/// Sorts findings: most severe first, then by rule and id (deterministic).
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.order.cmp(&b.order))
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_rule_and_object_identity() {
        let node = Object::from_yaml("Node", "", "metadata:\n  name: n1\n");
        let f = Finding::about("node.not-ready", &node, Severity::Error, "t");
        assert_eq!(f.id, "node.not-ready:Node/n1");
        assert_eq!(f.objects, vec![ObjectRef::of(&node)]);
        let vol = Object::from_yaml(
            "Volume",
            "longhorn.io",
            "metadata:\n  name: pvc-1\n  namespace: longhorn-system\n",
        );
        let f = Finding::about("storage.volume-health", &vol, Severity::Warning, "t")
            .with_subject_aspect("degraded");
        assert_eq!(
            f.id,
            "storage.volume-health:Volume/longhorn-system/pvc-1:degraded"
        );
        let f = Finding::new("upgrade.admission", "C12", Severity::Error, "t")
            .with_summary("s".into())
            .with_order(3);
        assert_eq!((f.id.as_str(), f.order), ("upgrade.admission:C12", 3));
    }
}
