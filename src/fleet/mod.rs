//! What Fleet claims about the cluster, and how each claim compares with what was captured.
//!
//! A combiner between the typed views and the rules (`reference/fleet-status.md` §3.7):
//! it collects every claim Fleet recorded — `nonReadyStatus`/`modifiedStatus` copies in Bundle
//! (and ManagedChart) summaries, BundleDeployments when collected, the aggregated `Ready`
//! message when only the message is there, and the implicit "ready" of a Ready bundle about each
//! object of its release — recomputes the captured object's readiness with Fleet's own
//! summarizer, and gives each claim a [`Verdict`]. It also judges the agent (heartbeat,
//! workload) and works out which Fleet version and rule family produced the status.
//! Rules turn verdicts into findings; this module never reads the archive.
pub mod drift;

use std::collections::{BTreeMap, BTreeSet};

use crate::facts::objectset;
use crate::graph::{self, Graph};
use crate::index::{Index, Object};
use crate::model::fleet::{Drift, FleetView, MessagePart, NamedResource, parse_ready_message};
use crate::model::summary::{Family, Summary};
use crate::model::views::View;
use crate::model::{Condition, ObjectKey, Timestamp, condition, time};
use crate::text::one_line;

/// Seconds within which a change before capture counts as "in flux" (capture skew, S13).
pub const IN_FLUX_SECS: i64 = 300;
/// Agent heartbeat interval (Fleet default `agentCheckinInterval`) plus grace, in seconds.
pub const AGENT_STALE_SECS: i64 = 20 * 60;

/// How the agent refreshes readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// Fleet ≤ v0.9: a 30-minute informer resync re-runs the monitor.
    Periodic,
    /// Fleet ≥ v0.10: only watch events, spec changes or an agent restart.
    EventDriven,
}

/// The Fleet the bundle ran, and what follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetVersion {
    /// `major.minor.patch` when known.
    pub version: Option<(u64, u64, u64)>,
    /// Where it was read.
    pub source: String,
    /// Refresh model.
    pub era: Era,
    /// Summarizer family.
    pub family: Family,
}

impl FleetVersion {
    /// `v0.10.2`, or the range the data shapes imply (`≤ v0.9`, `≥ v0.10`).
    pub fn label(&self) -> String {
        match (self.version, self.era) {
            (Some((a, b, c)), _) => format!("v{a}.{b}.{c}"),
            (None, Era::Periodic) => "≤ v0.9".into(),
            (None, Era::EventDriven) => "≥ v0.10".into(),
        }
    }

    /// The fleet-agent workload kind for this version.
    pub fn agent_kind(&self) -> &'static str {
        match self.version {
            Some((0, 10 | 11, _)) => "statefulset",
            _ => "deployment",
        }
    }
}

/// `(major, minor, patch)` of a version string (a tag, a Harvester version); `None` for dev
/// builds. Through the one version type.
fn parse_semver(s: &str) -> Option<(u64, u64, u64)> {
    crate::facts::version::Version::parse(s).num
}

/// Fleet shipped with a Harvester release (`reference/fleet-status.md` §1.1).
fn fleet_for_harvester(h: (u64, u64, u64)) -> Option<(u64, u64, u64)> {
    Some(match h {
        (1, 2, 0 | 1) => (0, 7, 0),
        (1, 2, _) | (1, 3, 0) => (0, 9, 0),
        (1, 3, 1) => (0, 9, 2),
        (1, 3, _) => (0, 9, 5),
        (1, 4, 0) => (0, 10, 2),
        (1, 4, 1) => (0, 10, 4),
        (1, 4, _) => (0, 11, 2),
        (1, 5, 0 | 1) => (0, 12, 0),
        (1, 5, _) => (0, 12, 4),
        (1, 6, _) => (0, 13, 0),
        (1, 7, _) => (0, 14, 0),
        (1, 8, _) => (0, 15, 0),
        (1, v, _) if v > 8 => (0, 15, 0),
        _ => return None,
    })
}

/// Works out the Fleet version: the fleet-agent image tag, else the Harvester version, else
/// data shapes only older Fleet writes (agent node counts, a `Processed` condition).
pub fn detect_version(index: &Index, harvester: Option<&str>) -> FleetVersion {
    let mut found: Option<((u64, u64, u64), String)> = None;
    for kind in ["StatefulSet", "Deployment"] {
        for o in index.of_kind("apps", kind) {
            if o.key.name != "fleet-agent" || !o.key.namespace.starts_with("cattle-fleet") {
                continue;
            }
            if let View::Workload(w) = &o.view
                && let Some(img) = w
                    .containers
                    .iter()
                    .map(|c| c.image.as_str())
                    .find(|i| i.contains("fleet-agent"))
                && let Some(v) = img.rsplit_once(':').and_then(|(_, t)| parse_semver(t))
            {
                found = Some((v, format!("image {img} of {kind} {}", o.key.name)));
            }
        }
    }
    if found.is_none()
        && let Some(h) = harvester.and_then(parse_semver)
        && let Some(v) = fleet_for_harvester(h)
    {
        found = Some((
            v,
            format!("shipped with Harvester v{}.{}.{}", h.0, h.1, h.2),
        ));
    }
    if let Some((v, source)) = found {
        return FleetVersion {
            version: Some(v),
            source,
            era: if v < (0, 10, 0) {
                Era::Periodic
            } else {
                Era::EventDriven
            },
            family: if v < (0, 13, 0) { Family::A } else { Family::B },
        };
    }
    let legacy_agent = index
        .of_kind("fleet.cattle.io", "Cluster")
        .any(|c| matches!(&c.view, View::Fleet(f) if f.agent.as_ref().is_some_and(|a| a.ready_nodes.is_some())));
    let processed = index
        .of_kind("fleet.cattle.io", "Bundle")
        .any(|b| condition(&b.status.conditions, "Processed").is_some());
    if legacy_agent || processed {
        return FleetVersion {
            version: None,
            source: if legacy_agent {
                "Cluster status.agent has node counts, which only Fleet ≤ v0.9 writes".into()
            } else {
                "Bundles carry a Processed condition, which only Fleet ≤ v0.9 writes".into()
            },
            era: Era::Periodic,
            family: Family::A,
        };
    }
    FleetVersion {
        version: None,
        source: "not found in the bundle; assuming Fleet ≥ v0.10 (Harvester ≥ v1.4)".into(),
        era: Era::EventDriven,
        family: Family::A,
    }
}

/// The local fleet-agent, as the bundle shows it.
#[derive(Debug, Clone, Default)]
pub struct Agent {
    /// The fleet `Cluster` `fleet-local/local`.
    pub cluster: Option<usize>,
    /// `status.agent.lastSeen`.
    pub last_seen: Option<String>,
    /// Seconds between `lastSeen` and capture.
    pub last_seen_age: Option<i64>,
    /// The agent workload (StatefulSet or Deployment `fleet-agent`).
    pub workload: Option<usize>,
    /// Its pods.
    pub pods: Vec<usize>,
    /// Pod problems, in words (`fleet-agent-0: CrashLoopBackOff, 41 restarts`).
    pub problems: Vec<String>,
    /// When the running agent container last started (newest among its pods).
    pub started_at: Option<String>,
    /// Namespace of the agent.
    pub namespace: String,
}

impl Agent {
    /// `lastSeen` older than the heartbeat interval plus grace.
    pub fn heartbeat_stale(&self) -> bool {
        self.last_seen_age.is_some_and(|a| a > AGENT_STALE_SECS)
    }
}

fn find_agent(index: &Index, g: &Graph, capture: Option<Timestamp>) -> Agent {
    let mut a = Agent {
        namespace: "cattle-fleet-local-system".into(),
        ..Agent::default()
    };
    if let Some(c) = index.find("fleet.cattle.io", "Cluster", "fleet-local", "local")
        && let Some(i) = index.position(&c.key)
    {
        a.cluster = Some(i);
        if let View::Fleet(f) = &c.view
            && let Some(agent) = &f.agent
        {
            a.last_seen = agent.last_seen.clone();
            a.last_seen_age = time::Age::at(agent.last_seen.as_deref(), capture).map(|x| x.0);
            if let Some(ns) = &agent.namespace {
                a.namespace = ns.clone();
            }
        }
    }
    for kind in ["StatefulSet", "Deployment"] {
        if let Some(w) = index.find("apps", kind, &a.namespace, "fleet-agent") {
            a.workload = index.position(&w.key);
        }
    }
    if let Some(w) = a.workload {
        a.pods = g.pods_of(index, w);
    }
    if a.pods.is_empty() {
        // No workload captured (or no owner references): the agent's pods by name.
        a.pods = index
            .of_kind("", "Pod")
            .filter(|p| p.key.namespace == a.namespace && p.key.name.starts_with("fleet-agent"))
            .filter_map(|p| index.position(&p.key))
            .collect();
    }
    for &p in &a.pods {
        let Some(o) = index.objects.get(p) else {
            continue;
        };
        let View::Pod(v) = &o.view else { continue };
        for c in &v.container_statuses {
            if let Some(t) = c.state.running.as_ref().and_then(|r| r.started_at.clone())
                && a.started_at.as_ref().is_none_or(|s| *s < t)
            {
                a.started_at = Some(t);
            }
        }
        if let Some(p) = pod_problem(o) {
            a.problems.push(p);
        }
    }
    a
}

/// A short description of what is wrong with a pod, if anything.
pub fn pod_problem(o: &Object) -> Option<String> {
    let View::Pod(p) = &o.view else { return None };
    let ready = condition(&o.status.conditions, "Ready").is_some_and(|c| c.status == "True");
    let phase = o.status.phase.as_deref().unwrap_or("Unknown");
    if o.meta.deletion_timestamp.is_some() {
        return Some(format!("{}: terminating", o.key.name));
    }
    if ready || phase == "Succeeded" {
        return None;
    }
    let mut parts = vec![p.display_status(o.status.phase.as_deref(), false)];
    let restarts = p.restarts();
    if restarts > 0 {
        parts.push(format!("{restarts} restarts"));
    }
    for c in p
        .container_statuses
        .iter()
        .chain(&p.init_container_statuses)
    {
        // The back-off message only repeats the reason; the last termination says more.
        if let Some(w) = &c.state.waiting
            && w.reason.as_deref() != Some("CrashLoopBackOff")
            && let Some(m) = w.message.as_deref().filter(|m| !m.is_empty())
        {
            parts.push(format!("{}: {}", c.name, one_line(m, 200)));
        }
        if let Some(t) = &c.last_state.terminated {
            let mut s = format!(
                "{} last exited {}",
                c.name,
                t.reason.as_deref().unwrap_or("")
            );
            if let Some(code) = t.exit_code {
                s.push_str(&format!(" (exit code {code})"));
            }
            if let Some(f) = &t.finished_at {
                s.push_str(&format!(" at {f}"));
            }
            parts.push(s);
        }
    }
    if let Some(c) = condition(&o.status.conditions, "PodScheduled")
        && c.status == "False"
    {
        parts.push(format!(
            "unschedulable: {}",
            one_line(c.message.as_deref().unwrap_or(""), 200)
        ));
    }
    if let Some(n) = &p.node_name {
        parts.push(format!("on {n}"));
    }
    Some(format!("{}: {}", o.key.name, parts.join("; ")))
}

/// What Fleet says about one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Assertion {
    /// Not ready, with the recorded summary (from `nonReadyStatus`) or message.
    NotReady(Summary),
    /// Drifted from the release.
    Drift(Drift),
}

/// The resource a claim is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// API group (`""` for core), when known.
    pub group: String,
    /// Kind as the API spells it, or lower-case when it came from a message.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `apiVersion` when recorded.
    pub api_version: String,
    /// The uid Fleet recorded, if any.
    pub uid: Option<String>,
}

impl Target {
    /// How Fleet prints it: `daemonset.apps kube-system/x`.
    pub fn fleet_name(&self) -> String {
        let av = if self.api_version.is_empty() {
            if self.group.is_empty() {
                "v1".to_string()
            } else {
                self.group.clone()
            }
        } else {
            self.api_version.clone()
        };
        crate::model::summary::resource_name(&self.kind, &av, &self.namespace, &self.name)
    }
}

/// Where a claim was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `status.summary.nonReadyResources[].nonReadyStatus[]` (Bundle/ManagedChart).
    SummaryNonReady,
    /// `status.summary.nonReadyResources[].modifiedStatus[]`.
    SummaryModified,
    /// BundleDeployment `status.nonReadyStatus[]`.
    DeploymentNonReady,
    /// BundleDeployment `status.modifiedStatus[]`.
    DeploymentModified,
    /// The aggregated `Ready` condition message.
    ReadyMessage,
    /// A Ready bundle implies every object of its release is ready.
    ImpliedReady,
}

impl Field {
    /// The field path, for reports.
    pub fn path(&self) -> &'static str {
        match self {
            Field::SummaryNonReady => "status.summary.nonReadyResources[].nonReadyStatus[]",
            Field::SummaryModified => "status.summary.nonReadyResources[].modifiedStatus[]",
            Field::DeploymentNonReady => "status.nonReadyStatus[]",
            Field::DeploymentModified => "status.modifiedStatus[]",
            Field::ReadyMessage => "status.conditions[Ready].message",
            Field::ImpliedReady => "status.conditions[Ready] (True) and status.summary",
        }
    }
}

/// One claim.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The resource.
    pub target: Target,
    /// What is claimed.
    pub assertion: Assertion,
    /// Where it was read.
    pub field: Field,
    /// The object it was read from (Bundle, ManagedChart, BundleDeployment or Cluster).
    pub recorded_in: usize,
    /// The BundleDeployment's state (`NotReady`, `Modified`, `ErrApplied`, …).
    pub bundle_state: String,
}

/// One Fleet bundle (with the ManagedChart that generates it), and what it claims.
#[derive(Debug, Clone)]
pub struct Source {
    /// Bundle name (`mcc-harvester`).
    pub name: String,
    /// Namespace (`fleet-local`).
    pub namespace: String,
    /// The Bundle, when captured.
    pub bundle: Option<usize>,
    /// The ManagedChart, when there is one.
    pub chart: Option<usize>,
    /// BundleDeployments of this bundle, when captured.
    pub deployments: Vec<usize>,
    /// The `Ready` condition as recorded (Bundle's, else ManagedChart's).
    pub ready: Option<Condition>,
    /// The deployment state (`display.state`, else from the entries).
    pub state: String,
    /// States of the per-cluster entries with their messages (`ErrApplied`, "helm error…").
    pub entries: Vec<(String, String, Option<String>)>,
    /// `spec.paused` on the Bundle or ManagedChart.
    pub paused: bool,
    /// Bundle `spec.forceSyncGeneration`.
    pub force_sync_generation: Option<i64>,
    /// Bundle `metadata.generation` and `status.observedGeneration`.
    pub generation: (Option<i64>, Option<i64>),
    /// Claims.
    pub claims: Vec<Claim>,
    /// A list that Fleet truncates (10 entries) was full: absence proves nothing.
    pub truncated: bool,
}

impl Source {
    /// The object that best represents it (Bundle, else ManagedChart).
    pub fn primary(&self) -> Option<usize> {
        self.bundle
            .or(self.chart)
            .or(self.deployments.first().copied())
    }

    /// `lastUpdateTime` of the recorded `Ready` condition.
    pub fn claimed_at(&self) -> Option<&str> {
        self.ready
            .as_ref()
            .and_then(|c| c.last_update_time.as_deref())
    }

    /// Whether Fleet reports it Ready.
    pub fn is_ready(&self) -> bool {
        self.ready.as_ref().is_some_and(|c| c.status == "True")
    }
}

/// How a claim compares with the capture.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The capture contradicts the claim.
    Stale(Stale),
    /// The capture contradicts it, but the object changed within minutes of capture.
    InFlux {
        /// Recomputed summary.
        observed: Summary,
        /// When the object last changed.
        changed_at: String,
    },
    /// The capture confirms a not-ready claim.
    ConfirmedNotReady {
        /// Recomputed summary.
        observed: Summary,
        /// Fleet's numbers differ from today's (verdict right, detail old).
        detail_differs: bool,
    },
    /// The object exists but lacks Fleet's objectset labels, so Fleet cannot see it as its own.
    NotOwned,
    /// The capture confirms the drift.
    Drifted(drift::Classification),
    /// The object is absent and its type was collected there: confirmed missing.
    ConfirmedMissing,
    /// The bundle cannot tell (type not collected, or no object to compare).
    Unverifiable(String),
}

/// The ways a claim can be stale.
#[derive(Debug, Clone, PartialEq)]
pub enum Stale {
    /// Claimed not ready; the captured object is ready.
    NotReadyButReady(Summary),
    /// Implied ready; the captured object is not.
    ReadyButNotReady(Summary),
    /// Claimed missing; the object is present and Fleet-owned.
    MissingButPresent,
    /// Claimed drift; the captured object matches the release again.
    DriftGone,
    /// Claimed drift only in fields the bundle's `diff.comparePatches` now tell Fleet to
    /// ignore (the pointers that cover them): the claim predates the entry.
    DriftIgnored(Vec<String>),
    /// Claimed extra; the object is gone.
    ExtraGone,
    /// Claimed extra; the object is there but no longer carries Fleet's objectset hash label,
    /// by which the agent finds the objects of its release, so the agent no longer sees it.
    ExtraUnowned,
    /// The claimed object no longer exists.
    ObjectGone,
    /// The object was recreated (uid differs), so the claim is about a previous incarnation.
    Recreated(Summary),
}

impl Verdict {
    /// What the capture shows of the claimed object, as a direction word: `ready`,
    /// `not-ready`, `present`, `absent`, `as-released` (it matches the release again),
    /// `drifted`, or `unknown`. With [`FleetState::claimed`] it says which way a claim is
    /// wrong: a stale `not-ready` claim about a `ready` object is the opposite of a stale
    /// `ready` one about a `not-ready` object.
    pub fn observed(&self) -> &'static str {
        let readiness = |s: &Summary| if s.is_ready() { "ready" } else { "not-ready" };
        match self {
            Verdict::Stale(Stale::NotReadyButReady(_)) => "ready",
            Verdict::Stale(Stale::ReadyButNotReady(_)) => "not-ready",
            Verdict::Stale(Stale::Recreated(s)) => readiness(s),
            Verdict::Stale(Stale::MissingButPresent | Stale::ExtraUnowned) | Verdict::NotOwned => {
                "present"
            }
            Verdict::Stale(Stale::DriftGone) => "as-released",
            Verdict::Stale(Stale::DriftIgnored(_)) => "ignored",
            Verdict::Stale(Stale::ExtraGone | Stale::ObjectGone) | Verdict::ConfirmedMissing => {
                "absent"
            }
            Verdict::InFlux { observed, .. } => readiness(observed),
            Verdict::ConfirmedNotReady { .. } => "not-ready",
            Verdict::Drifted(_) => "drifted",
            Verdict::Unverifiable(_) => "unknown",
        }
    }
}

/// The words [`FleetState::claimed`] gives what Fleet claims.
pub const CLAIMS: &[&str] = &[
    "ready",
    "not-ready",
    "missing",
    "not-owned",
    "extra",
    "modified",
];

/// The words [`Verdict::observed`] gives what the capture shows.
pub const OBSERVED: &[&str] = &[
    "ready",
    "not-ready",
    "present",
    "absent",
    "as-released",
    "ignored",
    "drifted",
    "unknown",
];

/// A claim with its verdict and the captured object.
#[derive(Debug, Clone)]
pub struct Judged {
    /// Index into [`FleetState::sources`].
    pub source: usize,
    /// Index into that source's claims.
    pub claim: usize,
    /// The captured object, when found.
    pub live: Option<usize>,
    /// Verdict.
    pub verdict: Verdict,
    /// When the captured object last changed (newest of pod Ready transitions, condition
    /// times, creation), if known.
    pub changed_at: Option<String>,
}

/// Everything the Fleet rules need.
#[derive(Debug, Clone)]
pub struct FleetState {
    /// Fleet version and rule family.
    pub version: FleetVersion,
    /// The agent.
    pub agent: Agent,
    /// Bundles and charts.
    pub sources: Vec<Source>,
    /// Judged claims.
    pub judged: Vec<Judged>,
}

fn key(group: &str, kind: &str, ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        group: group.into(),
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

fn fleet_view(o: &Object) -> Option<&FleetView> {
    match &o.view {
        View::Fleet(f) => Some(f),
        _ => None,
    }
}

impl FleetState {
    /// Builds the state from the index and the graph, comparing drift patches with the typed
    /// views only (no whole objects).
    pub fn build(
        index: &Index,
        g: &Graph,
        harvester: Option<&str>,
        capture: Option<Timestamp>,
    ) -> FleetState {
        FleetState::build_with(index, g, harvester, capture, &|_| None)
    }

    /// Builds the state; `whole(o)` gives the whole captured object as JSON (the pipeline
    /// reads it from the object's lines in the bundle), with which Fleet's "modified" patches
    /// are compared field by field whatever the kind.
    pub fn build_with(
        index: &Index,
        g: &Graph,
        harvester: Option<&str>,
        capture: Option<Timestamp>,
        whole: &dyn Fn(&Object) -> Option<serde_json::Value>,
    ) -> FleetState {
        let version = detect_version(index, harvester);
        let agent = find_agent(index, g, capture);
        let sources = collect_sources(index);
        let mut st = FleetState {
            version,
            agent,
            sources,
            judged: Vec::new(),
        };
        st.judge(index, g, capture, whole);
        st
    }

    fn judge(
        &mut self,
        index: &Index,
        g: &Graph,
        capture: Option<Timestamp>,
        whole: &dyn Fn(&Object) -> Option<serde_json::Value>,
    ) {
        let family = self.version.family;
        let mut judged = Vec::new();
        for (si, src) in self.sources.iter().enumerate() {
            let mut claimed: BTreeSet<usize> = BTreeSet::new();
            for (ci, c) in src.claims.iter().enumerate() {
                let (live, verdict) = judge_claim(index, g, c, family, capture, src, whole);
                if let Some(l) = live {
                    claimed.insert(l);
                }
                let changed_at = live.and_then(|l| last_change(index, g, l));
                judged.push(Judged {
                    source: si,
                    claim: ci,
                    live,
                    verdict,
                    changed_at,
                });
            }
            // Implied-ready claims: a Ready bundle (or a not-ready one whose lists were not
            // truncated) says nothing else of its release is unready.
            let Some(primary) = src.primary() else {
                continue;
            };
            if src.truncated || src.paused {
                continue;
            }
            let has_entries = !src.entries.is_empty() || !src.claims.is_empty();
            if !src.is_ready() && !has_entries {
                continue;
            }
            // Objects Fleet lists for the release count even without labels.
            let listed: BTreeSet<usize> = src
                .deployments
                .iter()
                .chain(src.bundle.iter())
                .filter_map(|&i| index.objects.get(i).and_then(fleet_view))
                .flat_map(|f| f.resources.iter())
                .filter_map(|r| {
                    let g = crate::model::split_api_version(&r.api_version).0;
                    index.position(&key(g, &r.kind, &r.namespace, &r.name))
                })
                .collect();
            let mut release: BTreeSet<usize> = g.deployed_by(index, primary).into_iter().collect();
            release.extend(listed.iter().copied());
            for obj in release {
                if claimed.contains(&obj) {
                    continue;
                }
                let Some(o) = index.objects.get(obj) else {
                    continue;
                };
                if !listed.contains(&obj) && !objectset::owned_by_fleet(o) {
                    continue;
                }
                let s = graph::observed(o, family, capture);
                if s.is_ready() {
                    continue;
                }
                let changed_at = last_change(index, g, obj);
                let verdict = if in_flux(changed_at.as_deref(), src.claimed_at(), capture) {
                    Verdict::InFlux {
                        observed: s,
                        changed_at: changed_at.clone().unwrap_or_default(),
                    }
                } else {
                    Verdict::Stale(Stale::ReadyButNotReady(s))
                };
                judged.push(Judged {
                    source: si,
                    claim: usize::MAX,
                    live: Some(obj),
                    verdict,
                    changed_at,
                });
            }
        }
        self.judged = judged;
    }

    /// What Fleet claims about a judged object, as a direction word (one of [`CLAIMS`]):
    /// `ready` for an object of the release Fleet does not list (implied ready).
    pub fn claimed(&self, j: &Judged) -> &'static str {
        match self.claim(j).map(|c| &c.assertion) {
            Some(Assertion::NotReady(_)) => "not-ready",
            Some(Assertion::Drift(Drift::Missing)) => "missing",
            Some(Assertion::Drift(Drift::NotOwned)) => "not-owned",
            Some(Assertion::Drift(Drift::Extra)) => "extra",
            Some(Assertion::Drift(Drift::Patch(_))) => "modified",
            None => "ready",
        }
    }

    /// What Fleet claims about the object at index position `i`, with the verdict, in words
    /// (`claims [progressing] Available: 6/7 — stale`).
    pub fn claimed_status(&self, i: usize) -> Option<String> {
        let j = self.judged.iter().find(|j| j.live == Some(i))?;
        let claimed = match self.claim(j).map(|c| &c.assertion) {
            Some(Assertion::NotReady(s)) => s.display(),
            Some(Assertion::Drift(Drift::Missing)) => "missing".into(),
            Some(Assertion::Drift(Drift::NotOwned)) => "not owned".into(),
            Some(Assertion::Drift(Drift::Extra)) => "extra".into(),
            Some(Assertion::Drift(Drift::Patch(_))) => "modified".into(),
            None => "ready".into(),
        };
        let verdict = match &j.verdict {
            Verdict::Stale(_) => "stale",
            Verdict::InFlux { .. } => "in flux",
            Verdict::ConfirmedNotReady { .. } => "confirmed",
            Verdict::NotOwned => "Fleet cannot see it as its own",
            Verdict::Drifted(c) if c.benign => "benign drift",
            Verdict::Drifted(_) => "drift confirmed",
            Verdict::ConfirmedMissing => "confirmed",
            Verdict::Unverifiable(_) => "not verifiable",
        };
        Some(format!("Fleet claims {claimed} — {verdict}"))
    }

    /// The claim of a judged entry (`None` for implied-ready ones).
    pub fn claim(&self, j: &Judged) -> Option<&Claim> {
        self.sources.get(j.source)?.claims.get(j.claim)
    }
}

fn in_flux(changed: Option<&str>, claimed: Option<&str>, capture: Option<Timestamp>) -> bool {
    let (Some(c), Some(now)) = (changed.and_then(time::parse), capture) else {
        return false;
    };
    let after_claim = claimed.and_then(time::parse).is_none_or(|cl| c >= cl);
    after_claim && (now - c).num_seconds() <= IN_FLUX_SECS
}

fn collect_sources(index: &Index) -> Vec<Source> {
    let mut by_name: BTreeMap<(String, String), Source> = BTreeMap::new();
    let new_source = |ns: &str, name: &str| Source {
        name: name.into(),
        namespace: ns.into(),
        bundle: None,
        chart: None,
        deployments: Vec::new(),
        ready: None,
        state: String::new(),
        entries: Vec::new(),
        paused: false,
        force_sync_generation: None,
        generation: (None, None),
        claims: Vec::new(),
        truncated: false,
    };
    for b in index.of_kind("fleet.cattle.io", "Bundle") {
        let s = by_name
            .entry((b.key.namespace.clone(), b.key.name.clone()))
            .or_insert_with(|| new_source(&b.key.namespace, &b.key.name));
        s.bundle = index.position(&b.key);
    }
    for m in index.of_kind("management.cattle.io", "ManagedChart") {
        let name = format!("mcc-{}", m.key.name);
        let s = by_name
            .entry((m.key.namespace.clone(), name.clone()))
            .or_insert_with(|| new_source(&m.key.namespace, &name));
        s.chart = index.position(&m.key);
    }
    for d in index.of_kind("fleet.cattle.io", "BundleDeployment") {
        let (Some(bn), Some(bns)) = (
            d.meta.labels.get("fleet.cattle.io/bundle-name"),
            d.meta.labels.get("fleet.cattle.io/bundle-namespace"),
        ) else {
            continue;
        };
        let s = by_name
            .entry((bns.clone(), bn.clone()))
            .or_insert_with(|| new_source(bns, bn));
        if let Some(i) = index.position(&d.key) {
            s.deployments.push(i);
        }
    }
    let mut out: Vec<Source> = by_name.into_values().collect();
    for s in &mut out {
        fill_source(index, s);
    }
    out
}

fn fill_source(index: &Index, s: &mut Source) {
    let bundle = s.bundle.and_then(|i| index.objects.get(i));
    let chart = s.chart.and_then(|i| index.objects.get(i));
    // The Bundle is the original; the ManagedChart carries a copy; without either (not
    // collected), the BundleDeployment itself.
    let Some(rec_i) = s.bundle.or(s.chart).or(s.deployments.first().copied()) else {
        return;
    };
    let Some(rec) = index.objects.get(rec_i) else {
        return;
    };
    s.ready = condition(&rec.status.conditions, "Ready").cloned();
    s.paused = bundle.and_then(fleet_view).is_some_and(|f| f.paused)
        || chart.and_then(fleet_view).is_some_and(|f| f.paused);
    if let Some(b) = bundle {
        s.generation = (b.meta.generation, b.status.observed_generation);
        s.force_sync_generation = fleet_view(b).and_then(|f| f.force_sync_generation);
    }
    let Some(f) = fleet_view(rec) else { return };
    s.state = f.display.get("state").cloned().unwrap_or_default();
    let mut seen: BTreeSet<(Target, String)> = BTreeSet::new();
    // BundleDeployments are authoritative when collected.
    for d in s.deployments.clone() {
        let Some(bd) = index.objects.get(d).and_then(fleet_view) else {
            continue;
        };
        if bd.non_ready_status.len() >= 10 || bd.modified_status.len() >= 10 || bd.incomplete_state
        {
            s.truncated = true;
        }
        for n in &bd.non_ready_status {
            push_non_ready(s, &mut seen, n, Field::DeploymentNonReady, d, "");
        }
        for m in &bd.modified_status {
            push_modified(s, &mut seen, m, Field::DeploymentModified, d, "");
        }
    }
    if f.summary.non_ready_resources.len() >= 10 {
        s.truncated = true;
    }
    for e in &f.summary.non_ready_resources {
        s.entries
            .push((e.name.clone(), e.bundle_state.clone(), e.message.clone()));
        if e.non_ready_status.len() >= 10 || e.modified_status.len() >= 10 {
            s.truncated = true;
        }
        for n in &e.non_ready_status {
            push_non_ready(
                s,
                &mut seen,
                n,
                Field::SummaryNonReady,
                rec_i,
                &e.bundle_state,
            );
        }
        for m in &e.modified_status {
            push_modified(
                s,
                &mut seen,
                m,
                Field::SummaryModified,
                rec_i,
                &e.bundle_state,
            );
        }
    }
    // The deployment state of each captured BundleDeployment, as fleet-controller derives it
    // (GetDeploymentState): a BD stuck in apply shows even when the Bundle copy lags.
    for &d in &s.deployments {
        let Some(bo) = index.objects.get(d) else {
            continue;
        };
        let Some(bd) = fleet_view(bo) else { continue };
        let cond_false =
            |t: &str| condition(&bo.status.conditions, t).is_some_and(|c| c.status == "False");
        let state = if bd.applied_deployment_id != bd.deployment_id {
            if cond_false("Deployed") {
                "ErrApplied"
            } else {
                "WaitApplied"
            }
        } else if bd.ready == Some(false) {
            "NotReady"
        } else if bd.deployment_id != bd.staged_deployment_id && bd.staged_deployment_id.is_some() {
            "OutOfSync"
        } else if bd.non_modified == Some(false) {
            "Modified"
        } else {
            "Ready"
        };
        if matches!(state, "ErrApplied" | "WaitApplied" | "OutOfSync")
            && !s.entries.iter().any(|(_, st, _)| st == state)
        {
            let cluster = format!(
                "{}/{}",
                bo.meta
                    .labels
                    .get("fleet.cattle.io/cluster-namespace")
                    .map(String::as_str)
                    .unwrap_or("?"),
                bo.meta
                    .labels
                    .get("fleet.cattle.io/cluster")
                    .map(String::as_str)
                    .unwrap_or("?")
            );
            let message = ["Deployed", "Installed", "Monitored"].iter().find_map(|t| {
                condition(&bo.status.conditions, t)
                    .and_then(|c| c.message.clone())
                    .filter(|m| !m.is_empty())
            });
            s.entries.push((cluster, state.to_string(), message));
        }
    }
    if s.state.is_empty()
        && let Some((_, st, _)) = s.entries.first()
    {
        s.state = st.clone();
    }
    // Only the message: parse it (partial by construction — at most 4 resources per state).
    if s.claims.is_empty()
        && let Some(msg) = s.ready.as_ref().and_then(|c| c.message.clone())
    {
        let mut state = String::new();
        for part in parse_ready_message(&msg) {
            match part {
                MessagePart::State {
                    state: st,
                    kind,
                    name,
                    message,
                    ..
                } => {
                    state = st.clone();
                    if s.entries.is_empty() {
                        s.entries.push((format!("{kind} {name}"), st, message));
                    }
                }
                MessagePart::NonReady {
                    resource,
                    transitioning,
                    error,
                    message,
                } => {
                    let t = target_from_named(index, &resource);
                    let sum = Summary {
                        state: String::new(),
                        error,
                        transitioning,
                        message: if message.is_empty() {
                            Vec::new()
                        } else {
                            vec![message]
                        },
                    };
                    if seen.insert((t.clone(), "nr".into())) {
                        s.claims.push(Claim {
                            target: t,
                            assertion: Assertion::NotReady(sum),
                            field: Field::ReadyMessage,
                            recorded_in: rec_i,
                            bundle_state: state.clone(),
                        });
                    }
                }
                MessagePart::Modified { resource, drift } => {
                    let t = target_from_named(index, &resource);
                    if seen.insert((t.clone(), "mod".into())) {
                        s.claims.push(Claim {
                            target: t,
                            assertion: Assertion::Drift(drift),
                            field: Field::ReadyMessage,
                            recorded_in: rec_i,
                            bundle_state: state.clone(),
                        });
                    }
                }
                MessagePart::Other(_) => {}
            }
        }
        if s.state.is_empty() {
            s.state = state;
        }
        // The message lists at most 4 resources per state: never assume the rest ready.
        s.truncated = true;
    }
}

fn push_non_ready(
    s: &mut Source,
    seen: &mut BTreeSet<(Target, String)>,
    n: &crate::model::fleet::NonReadyStatus,
    field: Field,
    recorded_in: usize,
    state: &str,
) {
    let t = Target {
        group: crate::model::split_api_version(&n.api_version)
            .0
            .to_string(),
        kind: n.kind.clone(),
        namespace: n.namespace.clone(),
        name: n.name.clone(),
        api_version: n.api_version.clone(),
        uid: (!n.uid.is_empty()).then(|| n.uid.clone()),
    };
    let mut dedup = t.clone();
    dedup.uid = None;
    if seen.insert((dedup, "nr".into())) {
        s.claims.push(Claim {
            target: t,
            assertion: Assertion::NotReady(n.summary.to_summary()),
            field,
            recorded_in,
            bundle_state: state.to_string(),
        });
    }
}

fn push_modified(
    s: &mut Source,
    seen: &mut BTreeSet<(Target, String)>,
    m: &crate::model::fleet::ModifiedStatus,
    field: Field,
    recorded_in: usize,
    state: &str,
) {
    let t = Target {
        group: crate::model::split_api_version(&m.api_version)
            .0
            .to_string(),
        kind: m.kind.clone(),
        namespace: m.namespace.clone(),
        name: m.name.clone(),
        api_version: m.api_version.clone(),
        uid: None,
    };
    if seen.insert((t.clone(), "mod".into())) {
        s.claims.push(Claim {
            target: t,
            assertion: Assertion::Drift(m.drift()),
            field,
            recorded_in,
            bundle_state: state.to_string(),
        });
    }
}

/// Maps a message's `daemonset.apps ns/x` to a real kind and group using the index.
fn target_from_named(index: &Index, r: &NamedResource) -> Target {
    let group = if r.group == "v1" || r.group.is_empty() {
        String::new()
    } else {
        r.group.clone()
    };
    let kind = index
        .resource_types()
        .into_iter()
        .find(|t| t.group == group && t.kind.to_lowercase() == r.kind)
        .map(|t| t.kind)
        .unwrap_or_else(|| r.kind.clone());
    Target {
        group,
        kind,
        namespace: r.namespace.clone(),
        name: r.name.clone(),
        api_version: String::new(),
        uid: None,
    }
}

/// Plural resource name of a kind, from the index's files (for "was it collected?").
fn plural_of(index: &Index, group: &str, kind: &str) -> Option<String> {
    index
        .resource_types()
        .into_iter()
        .find(|t| t.group == group && t.kind == kind)
        .map(|t| t.plural)
}

/// Whether the list that would hold this object was collected: then its absence is real.
fn collected(index: &Index, t: &Target) -> Option<bool> {
    let plural = plural_of(index, &t.group, &t.kind)?;
    if index.has_list_in(&t.group, &plural, &t.namespace) {
        return Some(true);
    }
    // Newer generators skip empty lists: a namespace that was collected and a type listed
    // elsewhere means "none here".
    let ns_collected =
        t.namespace.is_empty() || index.files.iter().any(|f| f.namespace == t.namespace);
    Some(ns_collected)
}

/// The `diff.comparePatches` Fleet's agent applies for a bundle, with the object they were read
/// from: its BundleDeployments' (what the agent reads), else the Bundle's (copied into them),
/// else the ManagedChart's (copied into the Bundle by Rancher).
pub fn compare_patches<'a>(
    index: &'a Index,
    src: &Source,
) -> Option<(usize, &'a [crate::model::fleet::ComparePatch])> {
    let of = |i: &usize| {
        index
            .objects
            .get(*i)
            .and_then(fleet_view)
            .map(|f| (*i, f.compare_patches.as_slice()))
            .filter(|(_, p)| !p.is_empty())
    };
    src.deployments
        .iter()
        .find_map(of)
        .or_else(|| src.bundle.as_ref().and_then(of))
        .or_else(|| src.chart.as_ref().and_then(of))
}

/// Replica drift on a Deployment or StatefulSet that a HorizontalPodAutoscaler in its namespace
/// scales is the autoscaler's work, not an edit: benign, with the autoscaler named.
fn hpa_scaled(
    index: &Index,
    o: &Object,
    mut class: drift::Classification,
    whole: &dyn Fn(&Object) -> Option<serde_json::Value>,
) -> drift::Classification {
    let replicas_only =
        !class.fields.is_empty() && class.fields.iter().all(|f| f.path == "spec.replicas");
    if !replicas_only
        || o.key.group != "apps"
        || !matches!(o.key.kind.as_str(), "Deployment" | "StatefulSet")
    {
        return class;
    }
    let scaler = index
        .of_kind("autoscaling", "HorizontalPodAutoscaler")
        .filter(|h| h.key.namespace == o.key.namespace)
        .find(|h| {
            whole(h).is_some_and(|v| {
                v.pointer("/spec/scaleTargetRef/kind")
                    .and_then(|k| k.as_str())
                    == Some(o.key.kind.as_str())
                    && v.pointer("/spec/scaleTargetRef/name")
                        .and_then(|k| k.as_str())
                        == Some(o.key.name.as_str())
            })
        });
    if let Some(h) = scaler {
        class.benign = true;
        class.reason = format!(
            "HorizontalPodAutoscaler {}/{} scales it, so its replica count differs from the \
             chart's by design; newer Fleet versions leave the replicas of an autoscaled \
             workload out of the comparison (rancher/fleet#4593)",
            h.key.namespace, h.key.name
        );
    }
    class
}

fn judge_claim(
    index: &Index,
    g: &Graph,
    c: &Claim,
    family: Family,
    capture: Option<Timestamp>,
    src: &Source,
    whole: &dyn Fn(&Object) -> Option<serde_json::Value>,
) -> (Option<usize>, Verdict) {
    let t = &c.target;
    let live = index.position(&key(&t.group, &t.kind, &t.namespace, &t.name));
    let obj = live.and_then(|i| index.objects.get(i));
    match &c.assertion {
        Assertion::NotReady(_) if obj.is_none() => {
            let v = match collected(index, t) {
                Some(true) => Verdict::Stale(Stale::ObjectGone),
                Some(false) => Verdict::Unverifiable(format!(
                    "{} was not collected in the bundle",
                    t.fleet_name()
                )),
                None => Verdict::Unverifiable(format!(
                    "no {} object of this type is in the bundle",
                    t.kind
                )),
            };
            (None, v)
        }
        Assertion::NotReady(claimed) => {
            let Some(o) = obj else {
                return (None, Verdict::Unverifiable("not found".into()));
            };
            let observed = graph::observed(o, family, capture);
            if let Some(uid) = &t.uid
                && !o.meta.uid.is_empty()
                && *uid != o.meta.uid
            {
                return (live, Verdict::Stale(Stale::Recreated(observed)));
            }
            let changed = live.and_then(|l| last_change(index, g, l));
            if observed.is_ready() {
                if in_flux(changed.as_deref(), src.claimed_at(), capture) {
                    return (
                        live,
                        Verdict::InFlux {
                            observed,
                            changed_at: changed.unwrap_or_default(),
                        },
                    );
                }
                return (live, Verdict::Stale(Stale::NotReadyButReady(observed)));
            }
            let claimed_msgs = claimed.message_text();
            let detail_differs = !claimed_msgs.is_empty()
                && claimed_msgs != observed.message_text()
                && !observed.message_text().contains(&claimed_msgs);
            (
                live,
                Verdict::ConfirmedNotReady {
                    observed,
                    detail_differs,
                },
            )
        }
        Assertion::Drift(d) => match (d, obj) {
            (Drift::Missing | Drift::NotOwned, Some(o)) => {
                if objectset::owned_by_fleet(o) && *d == Drift::Missing {
                    (live, Verdict::Stale(Stale::MissingButPresent))
                } else {
                    (live, Verdict::NotOwned)
                }
            }
            (Drift::Missing | Drift::NotOwned, None) => match collected(index, t) {
                Some(true) => (None, Verdict::ConfirmedMissing),
                _ => (
                    None,
                    Verdict::Unverifiable(format!(
                        "{} was not collected, so its absence cannot be confirmed",
                        t.fleet_name()
                    )),
                ),
            },
            (Drift::Extra, None) => match collected(index, t) {
                Some(true) => (None, Verdict::Stale(Stale::ExtraGone)),
                _ => (
                    None,
                    Verdict::Unverifiable(format!("{} was not collected", t.fleet_name())),
                ),
            },
            (Drift::Extra, Some(o)) if !o.meta.labels.contains_key(objectset::HASH_LABEL) => {
                (live, Verdict::Stale(Stale::ExtraUnowned))
            }
            (Drift::Extra, Some(_)) => (live, Verdict::Drifted(drift::Classification::extra())),
            (Drift::Patch(p), Some(o)) => match drift::classify_ignoring(
                o,
                p,
                whole(o).as_ref(),
                &drift::ignored_pointers(
                    compare_patches(index, src).map_or(&[], |(_, p)| p),
                    &t.group,
                    &t.kind,
                    &t.api_version,
                    &t.namespace,
                    &t.name,
                ),
            ) {
                drift::Compared::Matches => (live, Verdict::Stale(Stale::DriftGone)),
                drift::Compared::Ignored(by) => (live, Verdict::Stale(Stale::DriftIgnored(by))),
                drift::Compared::Differs(class) => {
                    (live, Verdict::Drifted(hpa_scaled(index, o, class, whole)))
                }
            },
            (Drift::Patch(_), None) => match collected(index, t) {
                Some(true) => (None, Verdict::Stale(Stale::ObjectGone)),
                _ => (
                    None,
                    Verdict::Unverifiable(format!("{} was not collected", t.fleet_name())),
                ),
            },
        },
    }
}

/// The most recent change the bundle shows for an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// When.
    pub at: String,
    /// Which object carries the timestamp (the object itself or one of its pods).
    pub object: usize,
    /// What changed, in words (`pod x became Ready`, `condition Available`).
    pub what: String,
}

/// When the object last changed, as far as the bundle shows: the newest of its conditions'
/// times, its pods' `Ready` transitions (for workloads), its deletion and its creation.
pub fn last_change(index: &Index, g: &Graph, i: usize) -> Option<String> {
    last_change_detail(index, g, i).map(|c| c.at)
}

/// [`last_change`] with where the timestamp was read.
pub fn last_change_detail(index: &Index, g: &Graph, i: usize) -> Option<Change> {
    let o = index.objects.get(i)?;
    let mut best: Option<Change> = None;
    let mut consider = |t: Option<&str>, object: usize, what: &dyn Fn() -> String| {
        if let Some(t) = t
            && time::parse(t).is_some()
            && best.as_ref().is_none_or(|b| b.at.as_str() < t)
        {
            best = Some(Change {
                at: t.to_string(),
                object,
                what: what(),
            });
        }
    };
    consider(o.meta.creation_timestamp.as_deref(), i, &|| {
        "created".into()
    });
    for c in &o.status.conditions {
        let what = || format!("condition {} became {}", c.kind, c.status);
        consider(c.last_transition_time.as_deref(), i, &what);
        consider(c.last_update_time.as_deref(), i, &what);
    }
    if matches!(o.view, View::Workload(_)) {
        for p in g.pods_of(index, i) {
            if let Some(po) = index.objects.get(p) {
                let node = match &po.view {
                    View::Pod(v) => v
                        .node_name
                        .as_deref()
                        .map(|n| format!(" on {n}"))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                consider(po.meta.creation_timestamp.as_deref(), p, &|| {
                    format!("pod {} was created{node}", po.key.name)
                });
                if let Some(c) = condition(&po.status.conditions, "Ready") {
                    let verb = if c.status == "True" {
                        "became Ready"
                    } else {
                        "became not Ready"
                    };
                    consider(c.last_transition_time.as_deref(), p, &|| {
                        format!("pod {} {verb}{node}", po.key.name)
                    });
                }
            }
        }
    }
    if let Some(d) = &o.meta.deletion_timestamp {
        consider(Some(d), i, &|| "deletion requested".into());
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_versions_by_harvester() {
        assert_eq!(fleet_for_harvester((1, 4, 0)), Some((0, 10, 2)));
        assert_eq!(fleet_for_harvester((1, 3, 2)), Some((0, 9, 5)));
        assert_eq!(fleet_for_harvester((1, 6, 1)), Some((0, 13, 0)));
        assert_eq!(fleet_for_harvester((0, 3, 0)), None);
        assert_eq!(parse_semver("v0.10.2"), Some((0, 10, 2)));
        assert_eq!(parse_semver("v1.4.0-rc1"), Some((1, 4, 0)));
        assert_eq!(parse_semver("1a861fc-dirty"), None);
        let v = FleetVersion {
            version: Some((0, 11, 2)),
            source: String::new(),
            era: Era::EventDriven,
            family: Family::A,
        };
        assert_eq!(v.agent_kind(), "statefulset");
        assert_eq!(v.label(), "v0.11.2");
    }

    #[test]
    fn in_flux_window() {
        let cap = time::parse("2025-01-01T00:10:00Z");
        assert!(in_flux(
            Some("2025-01-01T00:08:00Z"),
            Some("2025-01-01T00:07:00Z"),
            cap
        ));
        assert!(!in_flux(
            Some("2025-01-01T00:01:00Z"),
            Some("2025-01-01T00:00:00Z"),
            cap
        ));
        // A change before the claim cannot explain the disagreement.
        assert!(!in_flux(
            Some("2025-01-01T00:08:00Z"),
            Some("2025-01-01T00:09:00Z"),
            cap
        ));
        assert!(!in_flux(None, None, cap));
    }
}
