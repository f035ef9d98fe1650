//! The `Report` value (JSON contract of DESIGN §3) and its renderers. Renderers only format:
//! every verdict is already in the report.
pub mod assemble;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod terminal;

use serde::Serialize;

use crate::bundle::Problem;
use crate::bundle::coverage::{Collected, Gap};
use crate::index::ParseError;
use crate::rules::{Check, Finding};

/// Schema version of the JSON report.
pub const SCHEMA_VERSION: u32 = 1;

/// The tool that wrote the report.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// `sbdiag`.
    pub name: &'static str,
    /// Crate version.
    pub version: &'static str,
}

/// What the bundle is.
#[derive(Debug, Clone, Serialize)]
pub struct BundleSummary {
    /// File or folder name given.
    pub source: String,
    /// Container format.
    pub format: crate::archive::Format,
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
}

/// The coverage section.
#[derive(Debug, Clone, Serialize)]
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
    pub failed: Vec<Problem>,
}

/// The report's conclusion in words, computed by the analysis (renderers only show it).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Verdict {
    /// One sentence: "Upgrade to v1.4.1 would be refused: 2 reasons", or the overall state.
    pub headline: String,
    /// The upgrade verdict alone, when the upgrade rules ran.
    pub upgrade: Option<String>,
    /// Findings by severity.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Informational findings.
    pub infos: usize,
    /// Rules not evaluated.
    pub not_evaluated: usize,
}

/// One moment of the cluster's recent history, relative to capture time.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimelineEntry {
    /// RFC 3339 time.
    pub at: String,
    /// Relative to capture ("2d3h before capture").
    pub ago: String,
    /// `event`, `condition`, `upgrade`, `fleet`, `log`.
    pub kind: String,
    /// What happened.
    pub text: String,
    /// `warning` for Warning events and failures, else `normal`.
    pub level: String,
    /// The object it is about.
    pub object: Option<crate::rules::ObjectRef>,
    /// Where it is written.
    pub evidence: Option<crate::rules::Evidence>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool.
    pub tool: Tool,
    /// The bundle.
    pub bundle: BundleSummary,
    /// Coverage.
    pub coverage: CoverageReport,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// One check per rule.
    pub checks: Vec<Check>,
    /// The conclusion in one sentence.
    pub verdict: Verdict,
    /// Recent history, oldest first: events, condition transitions, upgrade phases, Fleet
    /// claims, first log errors.
    pub timeline: Vec<TimelineEntry>,
}

impl Report {
    /// The most severe finding's severity.
    pub fn worst(&self) -> Option<crate::rules::Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}
