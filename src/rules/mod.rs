//! The rule engine. A rule declares the inputs it needs; the engine runs it only when the
//! bundle collected them and otherwise records `not_evaluated` with the missing input, so a
//! silent rule always means "checked and fine". Rules see the index, the coverage ledger and
//! the detected versions, never the archive; evidence excerpts are filled in afterwards.
pub mod bundle_gaps;
pub mod finding;
pub mod fleet;

use crate::bundle::coverage::Coverage;
use crate::bundle::generr::{CollectionError, ErrorKind};
use crate::bundle::nodes::NodeBundle;
use crate::bundle::versions::Versions;
use crate::fleet::FleetState;
use crate::graph::Graph;
use crate::index::Index;
use crate::model::Timestamp;
pub use finding::{Check, CheckStatus, Evidence, Finding, ObjectRef, Severity};

/// An input a rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// `metadata.yaml` with a capture time.
    CaptureTime,
    /// Any resource YAML at all.
    Resources,
    /// A resource list, by (group, plural).
    Resource(&'static str, &'static str),
    /// `bundleGenerationError.log`.
    GenerationLog,
    /// The coverage ledger (always available).
    Coverage,
    /// At least one node bundle.
    NodeBundles,
    /// Pod logs.
    PodLogs,
}

impl Input {
    /// Human name, for `rules --explain` and not-evaluated reasons.
    pub fn describe(&self) -> String {
        match self {
            Input::CaptureTime => "capture time (metadata.yaml bundlecreatedat)".into(),
            Input::Resources => "resource YAMLs (yamls/)".into(),
            Input::Resource(g, r) => {
                if g.is_empty() {
                    format!("{r} (core)")
                } else {
                    format!("{r}.{g}")
                }
            }
            Input::GenerationLog => "bundleGenerationError.log".into(),
            Input::Coverage => "coverage ledger".into(),
            Input::NodeBundles => "node bundles (nodes/*.zip)".into(),
            Input::PodLogs => "pod logs (logs/)".into(),
        }
    }
}

/// Static description of a rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    /// Stable id (`bundle.node-bundles`).
    pub id: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// What it checks and why it matters.
    pub description: &'static str,
    /// Inputs it needs.
    pub inputs: &'static [Input],
    /// Harvester versions it applies to.
    pub versions: &'static str,
}

/// What a rule can look at.
pub struct Context<'a> {
    /// The object index.
    pub index: &'a Index,
    /// The status graph.
    pub graph: &'a Graph,
    /// Fleet's claims and verdicts.
    pub fleet: &'a FleetState,
    /// The coverage ledger.
    pub coverage: &'a Coverage,
    /// Detected versions.
    pub versions: &'a Versions,
    /// Capture time.
    pub created_at: Option<Timestamp>,
    /// Node bundles (listings).
    pub nodes: &'a [NodeBundle],
    /// Whether `yamls/` exists.
    pub has_resources: bool,
    /// Whether `bundleGenerationError.log` exists.
    pub has_generation_log: bool,
    /// Whether `logs/` exists.
    pub has_pod_logs: bool,
    /// Lines of `bundleGenerationError.log`.
    pub generation_errors: &'a [CollectionError],
}

impl Context<'_> {
    /// `Ok` when the input is there, else why not.
    pub fn available(&self, input: Input) -> Result<(), String> {
        let ok = match input {
            Input::CaptureTime => self.created_at.is_some(),
            Input::Resources => self.has_resources,
            Input::Resource(g, r) => {
                // Since support-bundle-kit v0.0.29 empty lists are not written, so an absent
                // file means "none" unless the generator logged a failure for it.
                if !self.has_resources {
                    false
                } else if self.index.has_list(g, r) {
                    true
                } else {
                    let tail = format!("/{r}");
                    !self.generation_errors.iter().any(|e| match &e.kind {
                        ErrorKind::ListFailed {
                            api_path,
                            benign: false,
                        }
                        | ErrorKind::ParseFailed { api_path } => {
                            api_path.ends_with(&tail) && (g.is_empty() || api_path.contains(g))
                        }
                        ErrorKind::ResourcesSkipped { .. } => true,
                        _ => false,
                    })
                }
            }
            Input::GenerationLog => self.has_generation_log,
            Input::Coverage => true,
            Input::NodeBundles => self.nodes.iter().any(|n| !n.is_empty()),
            Input::PodLogs => self.has_pod_logs,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("input not collected: {}", input.describe()))
        }
    }
}

/// A rule.
pub trait Rule: Sync + Send {
    /// Its description.
    fn info(&self) -> &RuleInfo;
    /// Runs it; the engine has checked the inputs.
    fn evaluate(&self, cx: &Context) -> Vec<Finding>;
}

/// Every rule sbdiag knows.
pub fn catalog() -> Vec<Box<dyn Rule>> {
    let mut v = bundle_gaps::rules();
    v.extend(fleet::rules());
    v
}

/// Runs every rule; returns findings (sorted) and one check per rule (sorted by rule id).
pub fn run(rules: &[Box<dyn Rule>], cx: &Context) -> (Vec<Finding>, Vec<Check>) {
    use rayon::prelude::*;
    let results: Vec<(Vec<Finding>, Check)> = rules
        .par_iter()
        .map(|r| {
            let info = r.info();
            if let Some(reason) = info.inputs.iter().find_map(|i| cx.available(*i).err()) {
                return (
                    Vec::new(),
                    Check {
                        rule: info.id.to_string(),
                        status: CheckStatus::NotEvaluated,
                        reason,
                    },
                );
            }
            let findings = r.evaluate(cx);
            let worst = findings.iter().map(|f| f.severity).max();
            let check = match worst {
                Some(s) if s >= Severity::Warning => Check {
                    rule: info.id.to_string(),
                    status: CheckStatus::Fail,
                    reason: format!("{} finding(s), worst {}", findings.len(), s.as_str()),
                },
                Some(_) => Check {
                    rule: info.id.to_string(),
                    status: CheckStatus::Pass,
                    reason: format!("{} informational finding(s)", findings.len()),
                },
                None => Check {
                    rule: info.id.to_string(),
                    status: CheckStatus::Pass,
                    reason: "nothing found".into(),
                },
            };
            (findings, check)
        })
        .collect();
    let mut findings = Vec::new();
    let mut checks = Vec::new();
    for (f, c) in results {
        findings.extend(f);
        checks.push(c);
    }
    finding::sort(&mut findings);
    checks.sort_by(|a, b| a.rule.cmp(&b.rule));
    (findings, checks)
}
