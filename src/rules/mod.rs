//! The rule engine. A rule declares the inputs it needs; the engine runs it only when the
//! bundle collected them and otherwise records `not_evaluated` with the missing input, so a
//! silent rule always means "checked and fine". Rules see the index, the coverage ledger and
//! the detected versions, never the archive; evidence excerpts are filled in afterwards.
pub mod bundle_gaps;
pub mod capacity;
pub mod finding;
pub mod fleet;
pub mod health;
pub mod nodelog;
pub mod precheck;
pub mod storage;
pub mod upgrade;
pub mod vm;
pub mod webhook;

use crate::bundle::generr::{CollectionError, ErrorKind};
use crate::bundle::nodes::NodeBundle;
use crate::facts::coverage::Coverage;
use crate::facts::detect::Versions;
use crate::fleet::FleetState;
use crate::graph::Graph;
use crate::index::Index;
use crate::model::Timestamp;
pub use finding::{
    Check, CheckStatus, Evidence, Finding, GraphEdge, GraphNode, ObjectRef, Severity, SubGraph,
    subject,
};

pub use crate::facts::input::Input;

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
    /// Options given on the command line.
    pub options: &'a AnalysisOptions,
    /// The bundle's file listing (paths and kinds, not contents): where pod logs are.
    pub files: &'a [crate::bundle::BundleFile],
    /// Pod log lines matching the known-issue patterns.
    pub log_hits: &'a [crate::upgrade::known::LogHit],
    /// The line that likely explains each failing container, from its logs.
    pub causes: &'a [crate::facts::logcause::CauseLine],
    /// The storage chain of every volume (`facts::storage`).
    pub storage: &'a crate::facts::storage::Storage,
    /// Kernel storage, filesystem and memory errors per node, from the node bundles.
    pub kernel: &'a [crate::facts::kernel::NodeKernel],
    /// Every VM and everything under it (`facts::vm`).
    pub vms: &'a crate::facts::vm::Vms,
    /// Service failures and clock evidence per node, from the node bundles' service logs.
    pub services: &'a [crate::facts::services::NodeServices],
    /// The bundle's file or folder name, as the report's `bundle.source` shows it: the value
    /// a remediation gives `sbdiag … -b` (see [`Context::sbdiag`]).
    pub source: &'a str,
}

/// Options that change what rules judge.
#[derive(Debug, Clone, Default)]
pub struct AnalysisOptions {
    /// `--from-version`: judge upgrades as this Harvester version would.
    pub from_version: Option<String>,
    /// `--to-version`: the upgrade target.
    pub to_version: Option<String>,
}

/// Log lines that likely explain why containers fail, as a finding quotes them: one sentence
/// per distinct line (`last fatal line of container c in 3 pods (logs/ns/p/c.log:12, …):
/// "…"`), and the evidence of each file and line (at most [`MAX_CAUSE_EVIDENCE`]).
pub fn quote_causes(causes: &[&crate::facts::logcause::CauseLine]) -> (Vec<String>, Vec<Evidence>) {
    use crate::facts::logcause::Level;
    let mut groups: Vec<(Level, &str, &str, Vec<String>)> = Vec::new();
    let mut evidence = Vec::new();
    for c in causes {
        let at = format!("{}:{}", c.file, c.line);
        match groups
            .iter_mut()
            .find(|g| (g.0, g.1, g.2) == (c.level, c.container.as_str(), c.text.as_str()))
        {
            Some(g) => g.3.push(at),
            None => groups.push((c.level, &c.container, &c.text, vec![at])),
        }
        if evidence.len() < MAX_CAUSE_EVIDENCE {
            evidence.push(Evidence::lines(c.file.clone(), c.line, c.line));
        }
    }
    let words = groups
        .into_iter()
        .map(|(level, container, text, at)| {
            format!(
                "last {} line of container {container}{} ({}): \"{text}\"",
                match level {
                    Level::Fatal => "fatal",
                    Level::Error => "error",
                },
                if at.len() > 1 {
                    format!(" in {} pods", at.len())
                } else {
                    String::new()
                },
                at.join(", ")
            )
        })
        .collect();
    (words, evidence)
}

/// Most log lines a finding cites as causes.
pub const MAX_CAUSE_EVIDENCE: usize = 6;

impl Context<'_> {
    /// The running Harvester version with where it was read: `--from-version`, else the
    /// detected one; `None` when unknown or a development build.
    pub fn harvester_version(&self) -> Option<(crate::facts::version::Version, String)> {
        let (raw, source) = match &self.options.from_version {
            Some(v) => (v.clone(), "--from-version".to_string()),
            None => (
                self.versions.harvester.clone()?,
                self.versions
                    .harvester_source
                    .clone()
                    .unwrap_or_else(|| "detected".into()),
            ),
        };
        let v = crate::facts::version::Version::parse(&raw);
        (!v.is_dev()).then_some((v, source))
    }

    /// A time of the bundle with its age at capture (`… (3h before capture)`), or "an unknown
    /// time".
    pub fn ago(&self, ts: Option<&str>) -> String {
        crate::model::time::with_age(ts, self.created_at)
            .unwrap_or_else(|| "an unknown time".into())
    }

    /// The log lines that likely explain why the containers of a pod fail
    /// (`facts::logcause`, read before the rules), one per failing container with such a line.
    pub fn log_causes<'c>(
        &'c self,
        namespace: &'c str,
        pod: &'c str,
    ) -> impl Iterator<Item = &'c crate::facts::logcause::CauseLine> + 'c {
        self.causes
            .iter()
            .filter(move |c| c.namespace == namespace && c.pod == pod)
    }

    /// An `sbdiag` command run on this bundle: `sbdiag logs -b <bundle> <args>`, with the
    /// bundle's name from the capture (quoted for the shell when it needs it), so that a
    /// remediation never holds a placeholder.
    pub fn sbdiag(&self, command: &str, args: &str) -> String {
        format!(
            "sbdiag {command} -b {} {args}",
            crate::text::shell_quote(self.source)
        )
    }

    /// A remediation written by a stage that does not know the bundle (the upgrade stage, the
    /// known-issue catalog), with `-b <bundle>` added to each `$ sbdiag <command>` line.
    pub fn bind(&self, remediation: &str) -> String {
        remediation
            .lines()
            .map(|l| match l.strip_prefix("$ sbdiag ") {
                Some(rest) if !rest.contains(" -b ") => {
                    let (command, args) = rest.split_once(' ').unwrap_or((rest, ""));
                    format!("$ {}", self.sbdiag(command, args).trim_end())
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Paths of the logs of a pod (current first, then previous instances).
    pub fn pod_logs(&self, namespace: &str, pod: &str) -> Vec<&str> {
        let mut v: Vec<(bool, &str)> = self
            .files
            .iter()
            .filter_map(|f| match &f.kind {
                crate::bundle::PathKind::PodLog {
                    namespace: ns,
                    pod: p,
                    previous,
                    ..
                } if ns == namespace && p == pod => Some((*previous, f.path.as_str())),
                _ => None,
            })
            .collect();
        v.sort();
        v.into_iter().map(|(_, p)| p).collect()
    }

    /// Whether a resource list (group, plural) was collected. Since support-bundle-kit v0.0.29
    /// empty lists are not written, so an absent file means "none" unless the generator logged
    /// a failure for it.
    pub fn collected(&self, group: &str, plural: &str) -> bool {
        if !self.has_resources {
            return false;
        }
        if self.index.has_list(group, plural) {
            return true;
        }
        let tail = format!("/{plural}");
        !self.generation_errors.iter().any(|e| match &e.kind {
            ErrorKind::ListFailed {
                api_path,
                benign: false,
            }
            | ErrorKind::ParseFailed { api_path } => {
                api_path.ends_with(&tail) && (group.is_empty() || api_path.contains(group))
            }
            ErrorKind::ResourcesSkipped { .. } => true,
            _ => false,
        })
    }

    /// `Ok` when the input is there, else why not.
    pub fn available(&self, input: Input) -> Result<(), String> {
        let ok = match input {
            Input::CaptureTime => self.created_at.is_some(),
            Input::Resources => self.has_resources,
            Input::Resource(g, r) => self.collected(g, r),
            Input::GenerationLog => self.has_generation_log,
            Input::Coverage => true,
            Input::NodeBundles => self.nodes.iter().any(|n| !n.is_empty()),
            Input::PodLogs => self.has_pod_logs,
            Input::Live(_) => false,
            Input::HarvesterVersion => self.harvester_version().is_some(),
        };
        if ok {
            Ok(())
        } else if input == Input::HarvesterVersion {
            Err(match &self.versions.harvester {
                Some(v) => format!(
                    "the bundle's Harvester version {v:?} is a development build, whose upgrade \
                     rules cannot be chosen; pass --from-version vX.Y.Z"
                ),
                None => "the bundle does not say which Harvester version runs; pass \
                         --from-version vX.Y.Z"
                    .into(),
            })
        } else if let Input::Live(what) = input {
            Err(format!(
                "needs {what}, which a support bundle does not hold; run the check on the cluster"
            ))
        } else {
            Err(format!("input not collected: {}", input.describe()))
        }
    }
}

/// A rule as its author writes it: a declaration and a pure function from the facts in the
/// [`Context`] to findings. This is the one shape of rule; the engine sees it through [`Rule`].
pub struct RuleDef {
    /// Id, title, description, inputs, versions.
    pub info: RuleInfo,
    /// Its findings. Gets its own declaration (a family of rules may share one function).
    pub eval: fn(&RuleInfo, &Context) -> Vec<Finding>,
    /// Sub-checks, for a rule made of several (the admission checks).
    pub checks: Option<SubChecks>,
    /// The running versions the rule applies to (`None`: every version); outside them the
    /// rule is `not_applicable`, never `pass`. A rule with a range declares
    /// [`Input::HarvesterVersion`], so an unknown version is `not_evaluated`.
    pub only: Option<crate::facts::version::Range>,
    /// More than the description for `rules --explain` (e.g. the checks a rule runs).
    pub explain: Option<fn() -> String>,
    /// What the rule needs beyond its inputs' presence (fields inside them): `Err` with the
    /// reason makes it `not_evaluated` instead of a silent pass.
    pub needs: Option<Needs>,
}

/// What a rule needs inside its inputs: `Err` with the reason when the capture lacks it.
pub type Needs = fn(&Context) -> Result<(), String>;

/// The sub-checks of a rule made of several.
pub struct SubChecks {
    /// Their ids, in order.
    pub ids: fn() -> Vec<&'static str>,
    /// Runs the rule with its sub-checks' outcomes (replaces [`RuleDef::eval`]).
    pub run: fn(&Context) -> (Vec<Finding>, Vec<SubCheck>),
}

impl RuleDef {
    /// A rule of one check: a declaration and its function.
    pub const fn new(info: RuleInfo, eval: fn(&RuleInfo, &Context) -> Vec<Finding>) -> RuleDef {
        RuleDef {
            info,
            eval,
            checks: None,
            only: None,
            explain: None,
            needs: None,
        }
    }

    /// The same rule, `not_evaluated` with the reason `needs` gives when the capture lacks
    /// what it reads inside its inputs.
    pub const fn needs(self, needs: Needs) -> RuleDef {
        RuleDef {
            needs: Some(needs),
            ..self
        }
    }

    /// The same rule for the running versions in `range` only: elsewhere it is
    /// `not_applicable`. Its inputs should include [`Input::HarvesterVersion`].
    pub const fn only(self, range: crate::facts::version::Range) -> RuleDef {
        RuleDef {
            only: Some(range),
            ..self
        }
    }
}

impl Rule for RuleDef {
    fn info(&self) -> &RuleInfo {
        &self.info
    }
    fn applies(&self, cx: &Context) -> Result<(), String> {
        applies_to_running(self.only, cx)
    }
    fn evaluate(&self, cx: &Context) -> Vec<Finding> {
        match &self.checks {
            Some(c) => (c.run)(cx).0,
            None => (self.eval)(&self.info, cx),
        }
    }
    fn explain(&self) -> Option<String> {
        self.explain.map(|f| f())
    }
    fn evaluable(&self, cx: &Context) -> Result<(), String> {
        self.needs.map_or(Ok(()), |f| f(cx))
    }
    fn sub_checks(&self) -> Vec<&'static str> {
        self.checks.as_ref().map(|c| (c.ids)()).unwrap_or_default()
    }
    fn evaluate_checks(&self, cx: &Context) -> (Vec<Finding>, Vec<SubCheck>) {
        match &self.checks {
            Some(c) => (c.run)(cx),
            None => ((self.eval)(&self.info, cx), Vec::new()),
        }
    }
}

/// `Err` with the reason when the running version is outside `only`.
pub fn applies_to_running(
    only: Option<crate::facts::version::Range>,
    cx: &Context,
) -> Result<(), String> {
    match (only, cx.harvester_version()) {
        (Some(r), Some((v, _))) if !r.contains(&v) => {
            Err(format!("applies to {r}; the running version is {v}"))
        }
        _ => Ok(()),
    }
}

/// A rule, as the engine runs it ([`RuleDef`] is the one implementation rules use).
pub trait Rule: Sync + Send {
    /// Its description.
    fn info(&self) -> &RuleInfo;
    /// Runs it; the engine has checked the inputs.
    fn evaluate(&self, cx: &Context) -> Vec<Finding>;
    /// More than the description for `rules --explain` (e.g. the checks a rule runs).
    fn explain(&self) -> Option<String> {
        None
    }
    /// `Err` with the reason when the rule does not apply to the running version: the engine
    /// then records it `not_applicable` instead of running it.
    fn applies(&self, _cx: &Context) -> Result<(), String> {
        Ok(())
    }
    /// Whether the capture holds what the rule reads inside its inputs (`Err`: why not); the
    /// engine makes it `not_evaluated` then.
    fn evaluable(&self, _cx: &Context) -> Result<(), String> {
        Ok(())
    }
    /// The ids of the sub-checks a rule made of several runs (`C1`, `C2`, …), in order; empty
    /// for a rule that is one check.
    fn sub_checks(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// Runs it with its sub-checks' outcomes (one per id of [`Rule::sub_checks`]); the engine
    /// has checked the rule's inputs.
    fn evaluate_checks(&self, cx: &Context) -> (Vec<Finding>, Vec<SubCheck>) {
        (self.evaluate(cx), Vec::new())
    }
}

/// The outcome of one sub-check of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubCheck {
    /// Its id (`C25`).
    pub id: &'static str,
    /// Outcome.
    pub status: CheckStatus,
    /// Why.
    pub reason: String,
}

/// Every rule sbdiag knows.
pub fn catalog() -> Vec<Box<dyn Rule>> {
    let mut v = bundle_gaps::rules();
    v.extend(fleet::rules());
    v.extend(upgrade::rules());
    v.extend(precheck::rules());
    v.extend(webhook::rules());
    v.extend(health::rules());
    v.extend(vm::rules());
    v.extend(storage::rules());
    v.extend(nodelog::rules());
    v.extend(capacity::rules());
    v
}

/// Runs every rule; returns findings (sorted) and one check per rule (sorted by rule id).
pub fn run(rules: &[Box<dyn Rule>], cx: &Context) -> (Vec<Finding>, Vec<Check>) {
    use rayon::prelude::*;
    let results: Vec<(Vec<Finding>, Vec<Check>)> = rules
        .par_iter()
        .map(|r| {
            let info = r.info();
            let entry = |check: Option<&str>, status, reason: String| Check {
                rule: info.id.to_string(),
                check: check.map(str::to_string),
                status,
                reason,
            };
            if let Err(reason) = r.applies(cx) {
                let mut checks = vec![entry(None, CheckStatus::NotApplicable, reason.clone())];
                checks.extend(
                    r.sub_checks()
                        .into_iter()
                        .map(|id| entry(Some(id), CheckStatus::NotApplicable, reason.clone())),
                );
                return (Vec::new(), checks);
            }
            if let Some(reason) = info
                .inputs
                .iter()
                .find_map(|i| cx.available(*i).err())
                .or_else(|| r.evaluable(cx).err())
            {
                let mut checks = vec![entry(None, CheckStatus::NotEvaluated, reason.clone())];
                checks.extend(
                    r.sub_checks()
                        .into_iter()
                        .map(|id| entry(Some(id), CheckStatus::NotEvaluated, reason.clone())),
                );
                return (Vec::new(), checks);
            }
            let (findings, subs) = r.evaluate_checks(cx);
            let worst = findings.iter().map(|f| f.severity).max();
            let mut checks = vec![match worst {
                Some(s) if s >= Severity::Warning => entry(
                    None,
                    CheckStatus::Fail,
                    format!("{} finding(s), worst {}", findings.len(), s.as_str()),
                ),
                Some(_) => entry(
                    None,
                    CheckStatus::Pass,
                    format!("{} informational finding(s)", findings.len()),
                ),
                None => entry(None, CheckStatus::Pass, "nothing found".into()),
            }];
            checks.extend(
                subs.into_iter()
                    .map(|c| entry(Some(c.id), c.status, c.reason)),
            );
            (findings, checks)
        })
        .collect();
    let mut findings = Vec::new();
    let mut checks = Vec::new();
    for (f, c) in results {
        findings.extend(f);
        checks.extend(c);
    }
    finding::sort(&mut findings);
    // By rule; a rule's sub-checks stay after it, in their own order (a stable sort).
    checks.sort_by(|a, b| a.rule.cmp(&b.rule));
    (findings, checks)
}

/// A small cluster for rule unit tests: objects from YAML, the graph and Fleet state built
/// from them, a running Harvester version, everything else empty; `cx()` is the context a
/// rule sees. Capture time 2025-02-14T09:41:07Z.
#[cfg(test)]
pub(crate) struct TestBed {
    index: Index,
    graph: Graph,
    fleet: FleetState,
    coverage: Coverage,
    versions: Versions,
    options: AnalysisOptions,
    storage: crate::facts::storage::Storage,
    vms: crate::facts::vm::Vms,
    log_hits: Vec<crate::upgrade::known::LogHit>,
}

#[cfg(test)]
impl TestBed {
    /// Objects (one item's YAML each, with `apiVersion` and `kind`) on a cluster running
    /// `harvester` (`None`: unknown).
    pub(crate) fn new(items: &[&str], harvester: Option<&str>) -> TestBed {
        let index = Index::from_yaml_objects(items);
        let graph = Graph::build(&index);
        let capture = crate::model::time::parse("2025-02-14T09:41:07Z");
        // Fleet's claims are judged on the whole objects, as in a real analysis.
        let whole = |o: &crate::index::Object| {
            index
                .position(&o.key)
                .and_then(|i| items.get(i))
                .and_then(|y| yaml_serde::from_str::<serde_json::Value>(y).ok())
        };
        let fleet = FleetState::build_with(&index, &graph, harvester, capture, &whole);
        let storage = crate::facts::storage::Storage::build(&index);
        let vms = crate::facts::vm::Vms::build(&index, &storage);
        TestBed {
            storage,
            vms,
            log_hits: Vec::new(),
            index,
            graph,
            fleet,
            coverage: Coverage::default(),
            versions: Versions {
                harvester: harvester.map(str::to_string),
                harvester_source: harvester.map(|_| "test".to_string()),
                ..Versions::default()
            },
            options: AnalysisOptions::default(),
        }
    }

    /// The context a rule sees.
    pub(crate) fn cx(&self) -> Context<'_> {
        Context {
            index: &self.index,
            graph: &self.graph,
            fleet: &self.fleet,
            coverage: &self.coverage,
            versions: &self.versions,
            created_at: crate::model::time::parse("2025-02-14T09:41:07Z"),
            nodes: &[],
            has_resources: true,
            has_generation_log: false,
            has_pod_logs: false,
            generation_errors: &[],
            options: &self.options,
            files: &[],
            log_hits: &self.log_hits,
            causes: &[],
            storage: &self.storage,
            kernel: &[],
            vms: &self.vms,
            services: &[],
            source: "supportbundle_test.zip",
        }
    }

    /// The bed with these pod log hits (as the log scan before the rules finds them).
    pub(crate) fn with_log_hits(mut self, hits: Vec<crate::upgrade::known::LogHit>) -> TestBed {
        self.log_hits = hits;
        self
    }

    /// Runs one rule (its inputs are not checked: the bed has what it was given).
    pub(crate) fn run(&self, rule: &RuleDef) -> Vec<Finding> {
        rule.evaluate(&self.cx())
    }
}
