//! The `Report` value (JSON contract of DESIGN §3) and its renderers. Renderers only format:
//! every verdict is already in the report.
pub mod json;
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
}

impl Report {
    /// The most severe finding's severity.
    pub fn worst(&self) -> Option<crate::rules::Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}
