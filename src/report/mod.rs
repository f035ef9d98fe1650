//! The `Report` value (the JSON contract of DESIGN §3, in [`contract`]) and its renderers.
//! Renderers only format: the analysis stage has already computed every verdict, severity,
//! timeline entry and rule description the report shows. Nothing here reads the bundle, the
//! index, the rules or the queries.
pub mod contract;
pub mod html;
pub mod json;
pub mod junit;
pub mod layout;
pub mod markdown;
pub mod sarif;
pub mod terminal;

pub use contract::{
    ArchiveFormat, BundleSummary, Check, CheckStatus, Collected, CoverageReport, Evidence, Failure,
    Finding, Gap, GapLevel, GraphEdge, GraphNode, Incident, Location, ObjectRef, ParseError,
    Report, RuleDescription, SCHEMA_VERSION, Severity, SubGraph, TimelineEntry, TimelineKind,
    TimelineLevel, Tool, Verdict,
};
