//! The report contract (DESIGN §3): the types `report.json` is serialized from, and nothing
//! else. They are plain data with no dependency on the analysis; the analysis stage builds them
//! from its own values by explicit conversion (`analyze/report.rs`), so renaming or adding an
//! internal field cannot change the JSON by accident. `schema/report.schema.json` describes the
//! same shape and `tests/schema.rs` holds every written report to it.
//!
//! Field order is serialization order: it is part of the byte-identical output. Fields may be
//! added (optional, or skipped when empty); none may be removed or change meaning. A few fields
//! are marked `#[serde(skip)]`: they are what the HTML renderer shows beside the contract
//! (a gap's rule and fix, the line an excerpt focuses on, the rule catalog for SARIF) and are
//! not part of `report.json`.
use serde::Serialize;

/// Schema version of the JSON report.
pub const SCHEMA_VERSION: u32 = 1;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
    /// The name as in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
    /// The name as in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::NotEvaluated => "not_evaluated",
            CheckStatus::NotApplicable => "not_applicable",
        }
    }
}

/// The tool that wrote the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    /// `sbdiag`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

/// The container format of the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveFormat {
    /// An unpacked folder.
    Dir,
    /// A zip file.
    Zip,
    /// An uncompressed tar.
    Tar,
    /// A gzip-compressed tar (`targz`).
    TarGz,
}

/// What the bundle is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleSummary {
    /// File or folder name given.
    pub source: String,
    /// Container format.
    pub format: ArchiveFormat,
    /// Capture time (RFC 3339), `null` when unknown.
    pub created_at: Option<String>,
    /// Cluster id (UID of harvester-system).
    pub cluster_id: Option<String>,
    /// Kubernetes version.
    pub kubernetes_version: Option<String>,
    /// Harvester version, or `unknown`.
    pub harvester_version: String,
    /// Where the Harvester version was read.
    pub harvester_version_source: Option<String>,
    /// Rancher version.
    pub rancher_version: Option<String>,
    /// Number of Kubernetes nodes (Node objects; node bundles when none).
    pub nodes: usize,
    /// Node names.
    pub node_names: Vec<String>,
    /// Files in the bundle.
    pub files: usize,
    /// Distinct objects indexed.
    pub objects: usize,
    /// Second copies served by another API group (not counted in `objects`).
    pub duplicate_objects: usize,
    /// The customer's own words: `metadata.yaml`'s `issuedescription`, when not empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_description: Option<String>,
    /// `metadata.yaml`'s `issueurl`, when not empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_url: Option<String>,
}

/// How much a coverage gap costs the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GapLevel {
    /// Worth knowing.
    Info,
    /// Some checks lose their input.
    Warning,
    /// Most checks lose their input.
    Error,
}

impl GapLevel {
    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            GapLevel::Info => "info",
            GapLevel::Warning => "warning",
            GapLevel::Error => "error",
        }
    }
}

/// A place in the bundle without its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Bundle-relative file.
    pub file: String,
    /// First line (1-based; 0 when the whole file or its absence is meant).
    pub line: u32,
    /// Last line.
    pub end_line: u32,
}

/// Something not collected (or collected only in part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// What is missing.
    pub what: String,
    /// Why, and what it means for the analysis.
    pub why: String,
    /// Which `bundle.*` rule reports it (HTML only).
    #[serde(skip)]
    pub rule: String,
    /// How much it costs (HTML only).
    #[serde(skip)]
    pub level: GapLevel,
    /// Where it shows (HTML only).
    #[serde(skip)]
    pub evidence: Vec<Location>,
    /// What to do about this gap in particular; empty: the rule's general advice (HTML only).
    #[serde(skip)]
    pub fix: String,
}

/// A file or item that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseError {
    /// Bundle-relative file.
    pub file: String,
    /// Line (1-based) where the problem is.
    pub line: u32,
    /// What is wrong.
    pub error: String,
}

/// What the bundle holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Collected {
    /// Resource list files.
    pub resource_lists: usize,
    /// Namespaces with resource lists or logs.
    pub namespaces: Vec<String>,
    /// Pod log files (current instance).
    pub pod_logs: usize,
    /// Previous-instance log files (`.log.1`).
    pub previous_pod_logs: usize,
    /// Node bundles, by node name.
    pub node_bundles: Vec<String>,
}

/// A file that could not be read, or an archive entry refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Bundle-relative file (or entry name).
    pub file: String,
    /// What went wrong.
    pub error: String,
}

/// The coverage section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageReport {
    /// What is missing and why.
    pub missing: Vec<Gap>,
    /// Number of data-losing collection errors.
    pub collection_errors: usize,
    /// Parse errors.
    pub parse_errors: Vec<ParseError>,
    /// What was collected.
    pub collected: Collected,
    /// Unreadable files and refused entries.
    pub failed: Vec<Failure>,
}

/// An object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    /// `group/version` (or `v1`).
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped, and then left out).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// Where in the bundle a finding shows, with the lines themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Bundle-relative file (`nodes/n.zip!n/logs/kernel.log` inside node zips).
    pub file: String,
    /// First line, 1-based (0: the file as a whole, or its absence).
    pub line: u32,
    /// Last line.
    pub end_line: u32,
    /// The lines `line..=end_line` (trimmed when long).
    pub excerpt: String,
    /// The text the excerpt was narrowed around, for the HTML to mark its line.
    #[serde(skip)]
    pub focus: Option<String>,
    /// The mark goes on the last line holding `focus` instead of the first.
    #[serde(skip)]
    pub focus_last: bool,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id: `rule:subject`.
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
    /// The status graph around the finding's subject (error findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<SubGraph>,
    /// The incident this finding belongs to (every error and warning finding belongs to one,
    /// as its cause or among its effects); left out for an info finding no incident holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

/// A cause and the symptoms it explains (DESIGN §3, §7): what a support engineer would write
/// on the ticket as one problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// Stable id, `incident:` and the identity of the cause's subject (`incident:Node/n2`).
    pub id: String,
    /// The worst severity among its findings.
    pub severity: Severity,
    /// The problem in a support engineer's words.
    pub title: String,
    /// Id of the finding that is the cause.
    pub cause: String,
    /// Ids of the findings it explains, in report order.
    pub effects: Vec<String>,
    /// What stops working for the user.
    pub impact: String,
    /// The whole fix, safe in the cluster's current state.
    pub remediation: String,
    /// The status graph that explains it, once for the incident (error incidents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<SubGraph>,
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

/// One check: a rule (or one sub-check of it) and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Rule id.
    pub rule: String,
    /// Sub-check id (`C25`) for rules made of several checks; left out for the rule itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// Outcome.
    pub status: CheckStatus,
    /// Why.
    pub reason: String,
}

/// The report's conclusion in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// One sentence: "Upgrade to v1.4.1 would be refused: 2 reasons", or the overall state.
    pub headline: String,
    /// The upgrade verdict alone, when the upgrade rules ran.
    pub upgrade: Option<String>,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Informational findings.
    pub infos: usize,
    /// Checks not evaluated.
    pub not_evaluated: usize,
}

/// Level of a timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimelineLevel {
    /// Routine.
    Normal,
    /// A Warning event, a bad condition, a failure.
    Warning,
}

impl TimelineLevel {
    /// The name as in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            TimelineLevel::Normal => "normal",
            TimelineLevel::Warning => "warning",
        }
    }
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimelineKind {
    /// A Kubernetes event.
    Event,
    /// A condition transition.
    Condition,
    /// A condition transition of a Harvester Upgrade.
    Upgrade,
    /// A condition transition of a Fleet Bundle or ManagedChart.
    Fleet,
    /// A log line the analysis searched for.
    Log,
}

impl TimelineKind {
    /// The name as in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            TimelineKind::Event => "event",
            TimelineKind::Condition => "condition",
            TimelineKind::Upgrade => "upgrade",
            TimelineKind::Fleet => "fleet",
            TimelineKind::Log => "log",
        }
    }
}

/// One moment of the cluster's recent history, relative to capture time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// RFC 3339 time.
    pub at: String,
    /// Relative to capture ("2d3h before capture").
    pub ago: String,
    /// What it records.
    pub kind: TimelineKind,
    /// What happened.
    pub text: String,
    /// `warning` for Warning events and failures, else `normal`.
    pub level: TimelineLevel,
    /// The object it is about.
    pub object: Option<ObjectRef>,
    /// Where it is written.
    pub evidence: Option<Evidence>,
}

/// One VM and everything under it, for the report's VM view: VM → VMI → launcher pods →
/// each volume's chain → replicas and nodes → migrations, each link with its state, where the
/// bundle shows it, and the findings about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmView {
    /// The VM's namespace.
    pub namespace: String,
    /// The VM's name.
    pub name: String,
    /// Its printed status (`status.printableStatus`), or `unknown`.
    pub status: String,
    /// The worst severity among the findings on the way (warnings and errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst: Option<Severity>,
    /// The links, from the VM down.
    pub links: Vec<VmLink>,
    /// The ids of every warning and error finding whose subject is a link, worst first.
    pub findings: Vec<String>,
}

/// One link of a VM's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmLink {
    /// Nesting depth (0: the VM).
    pub depth: usize,
    /// How it hangs from the link above (`runs as`, `mounts`, `bound to`, …); empty for the VM.
    pub relation: String,
    /// `Kind namespace/name`.
    pub object: String,
    /// Its state, or `absent from the capture`.
    pub state: String,
    /// The bundle file that shows it, when the capture holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its first line in that file (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Its last line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    /// The ids of the warning and error findings about it.
    pub findings: Vec<String>,
}

/// A rule of the catalog, as SARIF describes it (not part of `report.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDescription {
    /// Rule id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// What it checks and why it matters.
    pub description: String,
    /// Harvester versions it applies to.
    pub versions: String,
}

/// Up to this many VMs, the VM view shows every VM; above it, only those with a problem.
pub const VM_VIEW_ALL: usize = 50;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool.
    pub tool: Tool,
    /// The bundle.
    pub bundle: BundleSummary,
    /// Coverage.
    pub coverage: CoverageReport,
    /// Causes with the findings they explain, worst first; the headline is about the first.
    pub incidents: Vec<Incident>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// One check per rule (and per sub-check).
    pub checks: Vec<Check>,
    /// The conclusion in one sentence.
    pub verdict: Verdict,
    /// Recent history, oldest first: events, condition transitions, upgrade phases, Fleet
    /// claims, first log errors.
    pub timeline: Vec<TimelineEntry>,
    /// The VM view: every VM with a problem on its chain, or every VM when there are at most
    /// [`VM_VIEW_ALL`]; worst first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vms: Vec<VmView>,
    /// Every rule that ran, in catalog order (for SARIF's rule list; not in `report.json`).
    #[serde(skip)]
    pub rules: Vec<RuleDescription>,
}

impl Report {
    /// The most severe finding's severity.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// The checks not evaluated, for a reader: a rule not evaluated once, with how many of its
    /// sub-checks share its reason; a sub-check on its own only when its rule ran.
    pub fn not_evaluated_folded(&self) -> Vec<(&Check, usize)> {
        let skipped = |c: &&Check| c.status == CheckStatus::NotEvaluated;
        let rule_skipped = |rule: &str| {
            self.checks.iter().any(|c| {
                c.rule == rule && c.check.is_none() && c.status == CheckStatus::NotEvaluated
            })
        };
        self.checks
            .iter()
            .filter(skipped)
            .filter(|c| c.check.is_none() || !rule_skipped(&c.rule))
            .map(|c| {
                let folded = match c.check {
                    None => self
                        .checks
                        .iter()
                        .filter(skipped)
                        .filter(|s| s.rule == c.rule && s.check.is_some())
                        .count(),
                    Some(_) => 0,
                };
                (c, folded)
            })
            .collect()
    }
}

#[cfg(test)]
impl Report {
    /// A report of nothing, for renderer tests to fill.
    pub(crate) fn empty_for_tests() -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "sbdiag".into(),
                version: "0.0.0".into(),
            },
            bundle: BundleSummary {
                source: "b".into(),
                format: ArchiveFormat::Dir,
                created_at: None,
                cluster_id: None,
                kubernetes_version: None,
                harvester_version: "unknown".into(),
                harvester_version_source: None,
                rancher_version: None,
                nodes: 0,
                node_names: Vec::new(),
                files: 0,
                objects: 0,
                duplicate_objects: 0,
                issue_description: None,
                issue_url: None,
            },
            coverage: CoverageReport {
                missing: Vec::new(),
                collection_errors: 0,
                parse_errors: Vec::new(),
                collected: Collected::default(),
                failed: Vec::new(),
            },
            incidents: Vec::new(),
            findings: Vec::new(),
            checks: Vec::new(),
            verdict: Verdict {
                headline: "Healthy: nothing above info".into(),
                upgrade: None,
                errors: 0,
                warnings: 0,
                infos: 0,
                not_evaluated: 0,
            },
            timeline: Vec::new(),
            vms: Vec::new(),
            rules: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn not_evaluated_rules_fold_their_sub_checks() {
        let ch = |rule: &str, check: Option<&str>, status| Check {
            rule: rule.into(),
            check: check.map(str::to_string),
            status,
            reason: "r".into(),
        };
        let mut r = Report::empty_for_tests();
        r.checks = vec![
            ch("a", None, CheckStatus::NotEvaluated),
            ch("a", Some("C1"), CheckStatus::NotEvaluated),
            ch("a", Some("C2"), CheckStatus::NotEvaluated),
            ch("b", None, CheckStatus::Pass),
            ch("b", Some("C17"), CheckStatus::NotEvaluated),
            ch("b", Some("C18"), CheckStatus::Pass),
        ];
        let folded: Vec<(&str, Option<&str>, usize)> = r
            .not_evaluated_folded()
            .into_iter()
            .map(|(c, n)| (c.rule.as_str(), c.check.as_deref(), n))
            .collect();
        assert_eq!(folded, [("a", None, 2), ("b", Some("C17"), 0)]);
    }
    use super::*;

    fn to_json<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap_or_default()
    }

    #[test]
    fn enum_names_match_their_json() {
        for s in [Severity::Info, Severity::Warning, Severity::Error] {
            assert_eq!(to_json(&s), format!("\"{}\"", s.as_str()));
        }
        for s in [
            CheckStatus::Pass,
            CheckStatus::Fail,
            CheckStatus::NotEvaluated,
            CheckStatus::NotApplicable,
        ] {
            assert_eq!(to_json(&s), format!("\"{}\"", s.as_str()));
        }
        for k in [
            TimelineKind::Event,
            TimelineKind::Condition,
            TimelineKind::Upgrade,
            TimelineKind::Fleet,
            TimelineKind::Log,
        ] {
            assert_eq!(to_json(&k), format!("\"{}\"", k.as_str()));
        }
        for l in [TimelineLevel::Normal, TimelineLevel::Warning] {
            assert_eq!(to_json(&l), format!("\"{}\"", l.as_str()));
        }
        assert_eq!(to_json(&ArchiveFormat::TarGz), "\"targz\"");
        assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
    }

    #[test]
    fn optional_fields_are_left_out_only_where_the_contract_says() {
        let c = Check {
            rule: "upgrade.admission".into(),
            check: None,
            status: CheckStatus::Pass,
            reason: "r".into(),
        };
        assert_eq!(
            to_json(&c),
            r#"{"rule":"upgrade.admission","status":"pass","reason":"r"}"#
        );
        let c = Check {
            check: Some("C25".into()),
            status: CheckStatus::NotApplicable,
            ..c
        };
        assert_eq!(
            to_json(&c),
            r#"{"rule":"upgrade.admission","check":"C25","status":"not_applicable","reason":"r"}"#
        );
        let g = Gap {
            what: "w".into(),
            why: "y".into(),
            rule: "bundle.x".into(),
            level: GapLevel::Error,
            evidence: vec![Location {
                file: "f".into(),
                line: 1,
                end_line: 2,
            }],
            fix: "do".into(),
        };
        assert_eq!(to_json(&g), r#"{"what":"w","why":"y"}"#);
        let e = Evidence {
            file: "f".into(),
            line: 0,
            end_line: 0,
            excerpt: String::new(),
            focus: Some("x".into()),
            focus_last: true,
        };
        assert_eq!(
            to_json(&e),
            r#"{"file":"f","line":0,"end_line":0,"excerpt":""}"#
        );
        let o = ObjectRef {
            api_version: "v1".into(),
            kind: "Node".into(),
            namespace: String::new(),
            name: "n".into(),
        };
        assert_eq!(
            to_json(&o),
            r#"{"api_version":"v1","kind":"Node","name":"n"}"#
        );
        let t = TimelineEntry {
            at: "2025-01-01T00:00:00Z".into(),
            ago: "1h before capture".into(),
            kind: TimelineKind::Log,
            text: "t".into(),
            level: TimelineLevel::Warning,
            object: None,
            evidence: None,
        };
        assert_eq!(
            to_json(&t),
            r#"{"at":"2025-01-01T00:00:00Z","ago":"1h before capture","kind":"log","text":"t","level":"warning","object":null,"evidence":null}"#
        );
    }
}
