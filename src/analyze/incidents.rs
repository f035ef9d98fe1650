//! From findings to incidents (DESIGN §3, §7): the correlation stage after the rules. It finds
//! the causes among the findings and folds under each the symptoms it explains, so that a
//! report leads with what is wrong.
//!
//! Every finding is placed on a causal level (a stuck upgrade and a down node first; a webhook
//! outage; the last failed upgrade; node, storage and VM problems; leftovers; Fleet; known
//! issues; the pre-checks; the admission webhook's denials; the denials seen in logs; gaps in
//! the bundle last). A finding *explains* another of a later level (or of the same level and
//! later in the report) when what it reaches meets what the other touches:
//! - what a finding touches: its objects (`Kind/ns/name`), the Fleet chart of the ManagedCharts
//!   and Bundles it names (`chart:ns/bundle`; Fleet's own findings touch the resource they
//!   judge instead), its topics (`check:C12`, `webhook:NAME`, `cordon:Node/n`), and for a pod
//!   the workload it belongs to (`pods-of:…`, so one failed Job's pods fold together);
//! - what a finding reaches: the same objects, what its rule says it explains
//!   ([`Finding::explains`]), and what the mechanisms below derive from the status graph and
//!   the facts:
//!   - a node that is down reaches everything that depends on it in the graph: the pods on it,
//!     their workloads, the Longhorn replicas it holds, their volumes, claims and VMs;
//!   - an upgrade in progress reaches what it owns ([`facts::upgrade::owned_by_running`]): its
//!     artefacts, its repository VM, the cordons of the nodes it drains, the `C3` denial and
//!     the kubelet version skew it causes;
//!   - an unavailable webhook reaches its backing pods' workloads and every call naming it;
//!   - the last failed upgrade reaches what it created and every other leftover.
//!
//! Causes are the error and warning findings nothing explains (a down node and a stuck upgrade
//! always are). Each takes every finding it explains, directly or through others; a finding two
//! causes explain goes to the worse incident. Incidents are ordered by severity, then by level,
//! then by how much they explain. Info findings may be folded in, never lead.
use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::facts;
use crate::graph::{EdgeKind, Graph};
use crate::index::{Index, Object};
use crate::model::ObjectKey;
use crate::rules::finding::topic;
use crate::rules::{Finding, ObjectRef, Severity, SubGraph};

/// An incident, in the analysis' terms (findings by position in the report).
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// `incident:` and the identity of the cause's subject.
    pub id: String,
    /// The worst severity among its findings.
    pub severity: Severity,
    /// The problem in words.
    pub title: String,
    /// The cause: a position in the findings.
    pub cause: usize,
    /// What it explains, in report order.
    pub effects: Vec<usize>,
    /// The cause's finding id.
    pub cause_id: String,
    /// The effects' finding ids.
    pub effect_ids: Vec<String>,
    /// What stops working.
    pub impact: String,
    /// The whole fix (the cause's).
    pub remediation: String,
    /// The status graph that explains it (the cause's).
    pub graph: Option<SubGraph>,
}

/// Key prefix of a workload's pods (`pods-of:Job/ns/j`): the pods of one workload fold into
/// the first of them. Every such pod both reaches and touches the key, so the stage links each
/// to the next in report order (a chain) rather than each to all (quadratic in the pods).
const PODS_OF: &str = "pods-of:";

/// Kinds that are Fleet's records about other objects, not objects that run.
fn is_fleet_record(kind: &str) -> bool {
    matches!(kind, "ManagedChart" | "Bundle" | "BundleDeployment")
}

/// The chart key of a Fleet record: a ManagedChart `X` and its Bundle `mcc-X` share one.
fn chart_key(o: &ObjectRef) -> Option<String> {
    match o.kind.as_str() {
        "ManagedChart" => Some(topic::chart(&o.namespace, &format!("mcc-{}", o.name))),
        "Bundle" | "BundleDeployment" => Some(topic::chart(&o.namespace, &o.name)),
        _ => None,
    }
}

/// The objects a finding is about for correlation. The node, storage and VM rules list their
/// blast radius (what depends on their subject) after the subject: that is what they affect,
/// not what they are about, so only the subject counts.
fn about(f: &Finding) -> &[ObjectRef] {
    let r = f.rule.as_str();
    if r == "node.system-restarts" {
        // About a pod (and its restarts), not about a node with a blast radius.
        return &f.objects;
    }
    if r.starts_with("node.") || r.starts_with("storage.") || r.starts_with("vm.") {
        if r == "node.version-skew" {
            // About the versions, not about any one node (its topic says so).
            return &[];
        }
        return f.objects.get(..1).unwrap_or_default();
    }
    &f.objects
}

/// The subjects an object stands for: itself, and for a VirtualMachineInstance its
/// VirtualMachine (same namespace and name) and the other way round, which rules name
/// interchangeably.
fn subjects(o: &ObjectRef) -> Vec<String> {
    let mut v = vec![o.subject()];
    if o.kind == "VirtualMachineInstance" {
        v.push(format!("VirtualMachine/{}/{}", o.namespace, o.name));
    }
    if o.kind == "VirtualMachine" {
        v.push(format!("VirtualMachineInstance/{}/{}", o.namespace, o.name));
    }
    v
}

/// Causal level: lower explains higher.
fn level(f: &Finding) -> u8 {
    let r = f.rule.as_str();
    match r {
        "upgrade.stuck" => 0,
        "node.not-ready" => 10,
        "webhook.unavailable" => 20,
        "upgrade.leftover" if f.explains.iter().any(|k| k == topic::LEFTOVER) => 30,
        "fleet.apply-error" if f.explains.iter().any(|k| k == topic::FLEET_AGENT) => 35,
        // A filesystem failing on a volume's device is what a node sees of a storage problem
        // (a lost or faulted volume): after the storage findings, which explain it through the
        // volume both name. A disk's own I/O errors touch no volume and stay causes.
        "node.kernel-errors" => 42,
        // What a VM shows of a storage or node problem: after the storage findings, which
        // explain it through the volume (or VMI) both name.
        _ if r.starts_with("vm.") => 41,
        // A system pod's restarts are a symptom to read, not a cause of other findings.
        "node.system-restarts" => 100,
        _ if r.starts_with("node.") || r.starts_with("storage.") => 40,
        "upgrade.leftover" => 45,
        _ if r.starts_with("fleet.") => 50,
        "upgrade.known-issue" => 60,
        _ if r.starts_with("upgrade.precheck.") => 70,
        "upgrade.admission" => 80,
        "webhook.denial" => 90,
        _ => 100,
    }
}

/// Findings that are always causes: nothing else in a capture explains a node that stopped
/// reporting or an upgrade that stopped progressing.
fn always_cause(f: &Finding) -> bool {
    matches!(f.rule.as_str(), "upgrade.stuck" | "node.not-ready")
}

fn key_of(index: &Index, r: &ObjectRef) -> Option<usize> {
    index.position(&ObjectKey {
        group: crate::model::split_api_version(&r.api_version)
            .0
            .to_string(),
        kind: r.kind.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
    })
}

fn subject_of(o: &Object) -> String {
    ObjectRef::of(o).subject()
}

/// The workload a pod belongs to (through a ReplicaSet to its Deployment), by its subject.
fn workload_of(index: &Index, graph: &Graph, pod: usize) -> Option<String> {
    let mut top = None;
    let mut n = pod;
    for _ in 0..3 {
        let Some(p) = graph.parents(n, EdgeKind::Owns).next() else {
            break;
        };
        top = Some(p);
        n = p;
    }
    top.and_then(|i| index.objects.get(i)).map(subject_of)
}

/// What a finding touches (see the module doc).
fn touches(index: &Index, graph: &Graph, f: &Finding) -> BTreeSet<String> {
    let mut t: BTreeSet<String> = f.topics.iter().cloned().collect();
    let fleet = f.rule.starts_with("fleet.");
    let judged: Vec<&ObjectRef> = about(f)
        .iter()
        .filter(|o| !is_fleet_record(&o.kind) && o.kind != "Cluster")
        .filter(|o| key_of(index, o).is_some())
        .collect();
    if fleet && !judged.is_empty() {
        t.extend(judged.iter().flat_map(|o| subjects(o)));
    } else {
        for o in about(f) {
            t.extend(subjects(o));
            t.extend(chart_key(o));
        }
    }
    if f.rule == "upgrade.precheck.pod-status" {
        for o in f.objects.iter().filter(|o| o.kind == "Pod") {
            if let Some(w) = key_of(index, o).and_then(|i| workload_of(index, graph, i)) {
                t.insert(format!("{PODS_OF}{w}"));
            }
        }
    }
    t
}

/// What a finding reaches (see the module doc).
fn reaches(index: &Index, graph: &Graph, f: &Finding) -> BTreeSet<String> {
    let mut r: BTreeSet<String> = f.explains.iter().cloned().collect();
    let fleet = f.rule.starts_with("fleet.");
    for o in about(f) {
        if !(fleet && is_fleet_record(&o.kind)) {
            r.extend(subjects(o));
        }
    }
    let positions: Vec<usize> = about(f).iter().filter_map(|o| key_of(index, o)).collect();
    match f.rule.as_str() {
        "node.not-ready" => {
            for &n in positions
                .iter()
                .filter(|&&i| index.objects.get(i).is_some_and(|o| o.key.kind == "Node"))
            {
                r.extend(dependents(index, graph, n));
            }
        }
        "upgrade.stuck" => {
            for u in f.objects.iter().filter(|o| o.kind == "Upgrade") {
                r.extend(owned_by_running(index, &u.name));
            }
            r.insert(topic::check("C3"));
            r.insert(topic::KUBELET_SKEW.to_string());
        }
        "webhook.unavailable" => {
            for &p in positions
                .iter()
                .filter(|&&i| index.objects.get(i).is_some_and(|o| o.key.kind == "Pod"))
            {
                if let Some(w) = workload_of(index, graph, p) {
                    r.insert(w);
                }
            }
        }
        "upgrade.leftover" if f.explains.iter().any(|k| k == topic::LEFTOVER) => {
            for u in f.objects.iter().filter(|o| o.kind == "Upgrade") {
                r.extend(created_by(index, &u.name));
            }
        }
        _ => {}
    }
    r
}

/// Everything that depends on a node in the status graph (pods on it, their workloads, the
/// replicas it holds and what stores on them), leaving out Fleet's records: a chart is not
/// broken because one of its workloads lost a pod, its claims are judged by Fleet's rules.
fn dependents(index: &Index, graph: &Graph, node: usize) -> Vec<String> {
    const LIMIT: usize = 20_000;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::from([node]);
    let mut queue = VecDeque::from([node]);
    while let Some(n) = queue.pop_front() {
        for (k, p) in graph.inc(n) {
            if *k == EdgeKind::Deploys || !seen.insert(*p) {
                continue;
            }
            let Some(o) = index.objects.get(*p) else {
                continue;
            };
            if is_fleet_record(&o.key.kind) {
                continue;
            }
            out.push(subject_of(o));
            if out.len() >= LIMIT {
                return out;
            }
            queue.push_back(*p);
        }
    }
    out
}

/// What the running Upgrade `upgrade` owns, as subjects, and the cordons of the nodes it
/// drains.
fn owned_by_running(index: &Index, upgrade: &str) -> Vec<String> {
    let mut out = Vec::new();
    for o in &index.objects {
        if o.alias_of.is_some() {
            continue;
        }
        if let Some((u, how)) = facts::upgrade::owned_by_running(index, o)
            && u == upgrade
        {
            if let facts::upgrade::Owned::Node(_) = how {
                out.push(topic::cordon(&o.key.name));
            } else {
                out.push(subject_of(o));
            }
        }
    }
    out
}

/// What the (finished) Upgrade `upgrade` created, as subjects: its labelled artefacts, the two
/// named ones, and the pods of its Jobs.
fn created_by(index: &Index, upgrade: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut jobs: BTreeSet<(String, String)> = BTreeSet::new();
    for o in &index.objects {
        if o.alias_of.is_none()
            && facts::upgrade::owning_upgrade(&o.key.kind, o).as_deref() == Some(upgrade)
        {
            if o.key.kind == "Job" {
                jobs.insert((o.key.namespace.clone(), o.key.name.clone()));
            }
            out.push(subject_of(o));
        }
    }
    for p in index.of_kind("", "Pod") {
        if let Some(j) = p.meta.labels.get("job-name")
            && jobs.contains(&(p.key.namespace.clone(), j.clone()))
        {
            out.push(subject_of(p));
        }
    }
    out
}

/// One finding in the correlation: its level, what it explains (positions), and the
/// incident that took it.
struct Slot<'a> {
    finding: &'a Finding,
    level: u8,
    out: Vec<usize>,
    explained: bool,
    owner: Option<usize>,
}

/// Builds the incidents of `findings` (in report order).
pub fn correlate(index: &Index, graph: &Graph, findings: &[Finding]) -> Vec<Incident> {
    let mut slots: Vec<Slot> = findings
        .iter()
        .map(|f| Slot {
            finding: f,
            level: level(f),
            out: Vec::new(),
            explained: false,
            owner: None,
        })
        .collect();
    let touch: Vec<BTreeSet<String>> = findings.iter().map(|f| touches(index, graph, f)).collect();
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in touch.iter().enumerate() {
        for k in t {
            by_key.entry(k.as_str()).or_default().push(i);
        }
    }
    // Edges: cause → effect, from a lower (level, position) to a higher one.
    let rank_of: Vec<(u8, usize)> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| (s.level, i))
        .collect();
    let mut explained: BTreeSet<usize> = BTreeSet::new();
    for (f, slot) in slots.iter_mut().enumerate() {
        let Some(&mine) = rank_of.get(f) else {
            continue;
        };
        let mut targets: BTreeSet<usize> = BTreeSet::new();
        for k in reaches(index, graph, slot.finding) {
            for &g in by_key
                .get(k.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let later = rank_of.get(g).is_some_and(|&theirs| mine < theirs);
                if later && findings.get(g).is_some_and(|x| !always_cause(x)) {
                    targets.insert(g);
                }
            }
        }
        explained.extend(targets.iter().copied());
        slot.out = targets.into_iter().collect();
    }
    for (key, members) in &by_key {
        if !key.starts_with(PODS_OF) {
            continue;
        }
        for pair in members.windows(2) {
            if let [a, b] = *pair
                && let Some(s) = slots.get_mut(a)
                && !s.out.contains(&b)
            {
                s.out.push(b);
                explained.insert(b);
            }
        }
    }
    for &g in &explained {
        if let Some(s) = slots.get_mut(g) {
            s.explained = true;
        }
    }
    let leads = |s: &Slot| s.finding.severity >= Severity::Warning;
    let mut roots = rank(
        &slots,
        slots
            .iter()
            .enumerate()
            .filter(|(_, s)| leads(s) && !s.explained)
            .map(|(i, _)| i)
            .collect(),
    );
    let mut incidents = Vec::new();
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut next = 0;
    loop {
        // Causes: what nothing explains; then, in rank order, any error or warning that only
        // an info finding no incident holds would explain.
        if next == roots.len() {
            let left: Vec<usize> = slots
                .iter()
                .enumerate()
                .filter(|(_, s)| leads(s) && s.owner.is_none())
                .map(|(i, _)| i)
                .collect();
            if left.is_empty() {
                break;
            }
            roots.extend(rank(&slots, left).into_iter().take(1));
        }
        let Some(&root) = roots.get(next) else { break };
        next += 1;
        let Some(cause) = findings.get(root) else {
            continue;
        };
        if slots.get(root).is_none_or(|s| s.owner.is_some()) {
            continue;
        }
        let effects = claim(&mut slots, root);
        let effs: Vec<&Finding> = effects.iter().filter_map(|&e| findings.get(e)).collect();
        let subject = cause
            .id
            .split_once(':')
            .map(|(_, s)| s)
            .unwrap_or(&cause.id);
        let mut id = format!("incident:{subject}");
        if !ids.insert(id.clone()) {
            id = format!("incident:{}", cause.id);
            ids.insert(id.clone());
        }
        let severity = effs
            .iter()
            .map(|f| f.severity)
            .chain([cause.severity])
            .max()
            .unwrap_or(cause.severity);
        incidents.push(Incident {
            id,
            severity,
            title: title(index, graph, cause, &effs),
            cause: root,
            cause_id: cause.id.clone(),
            effect_ids: effs.iter().map(|f| f.id.clone()).collect(),
            effects,
            impact: impact(index, graph, cause, &effs),
            remediation: cause.remediation.clone(),
            graph: cause.graph.clone(),
        });
    }
    // Worst first; among equals, in the order they were claimed (rank).
    incidents.sort_by_key(|i| std::cmp::Reverse(i.severity));
    incidents
}

/// Everything `root` explains, directly or through others.
fn reach_all(slots: &[Slot], root: usize) -> Vec<usize> {
    let mut seen = BTreeSet::from([root]);
    let mut queue = VecDeque::from([root]);
    while let Some(x) = queue.pop_front() {
        for &y in slots.get(x).map(|s| s.out.as_slice()).unwrap_or_default() {
            if seen.insert(y) {
                queue.push_back(y);
            }
        }
    }
    seen.into_iter().collect()
}

/// Causes in the order they take their effects: worst incident first, then the lower level,
/// then the one explaining more, then report order.
fn rank(slots: &[Slot], roots: Vec<usize>) -> Vec<usize> {
    let mut r: Vec<(Severity, u8, usize, usize)> = roots
        .into_iter()
        .map(|i| {
            let all = reach_all(slots, i);
            let sev = all
                .iter()
                .filter_map(|&j| slots.get(j))
                .map(|s| s.finding.severity)
                .max()
                .unwrap_or(Severity::Info);
            (sev, slots.get(i).map_or(u8::MAX, |s| s.level), all.len(), i)
        })
        .collect();
    r.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(b.2.cmp(&a.2))
            .then(a.3.cmp(&b.3))
    });
    r.into_iter().map(|(.., i)| i).collect()
}

/// Gives `root` every finding it explains that no incident holds yet, breadth-first (so a
/// finding goes to the nearest cause of the worse incident); returns them in report order.
fn claim(slots: &mut [Slot], root: usize) -> Vec<usize> {
    let mut members = Vec::new();
    if let Some(s) = slots.get_mut(root) {
        s.owner = Some(root);
    }
    let mut queue = VecDeque::from([root]);
    while let Some(x) = queue.pop_front() {
        let next: Vec<usize> = slots.get(x).map(|s| s.out.clone()).unwrap_or_default();
        for y in next {
            if let Some(s) = slots.get_mut(y)
                && s.owner.is_none()
            {
                s.owner = Some(root);
                members.push(y);
                queue.push_back(y);
            }
        }
    }
    members.sort_unstable();
    members
}

/// Upgrade webhook checks among the effects that refuse a new upgrade, in the webhook's order.
fn denials(effects: &[&Finding]) -> Vec<String> {
    let mut d: Vec<(u32, String)> = effects
        .iter()
        .filter(|f| f.rule == "upgrade.admission" && f.severity == Severity::Error)
        .map(|f| {
            (
                f.order,
                f.id.split_once(':')
                    .map(|(_, c)| c.to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    d.sort();
    d.dedup();
    d.into_iter().map(|(_, c)| c).collect()
}

/// The incident's title: the cause's, in a support engineer's words where the cause alone
/// does not say it (a group of pods of one workload), and what it costs the next upgrade.
fn title(index: &Index, graph: &Graph, cause: &Finding, effects: &[&Finding]) -> String {
    // The cause's own title is in the report in full; the incident's keeps to a clause.
    let mut t = crate::text::clause(&cause.title, 260);
    if cause.rule == "upgrade.precheck.pod-status" {
        let siblings = effects.iter().filter(|e| e.rule == cause.rule).count();
        let workload = cause
            .objects
            .iter()
            .filter_map(|o| key_of(index, o))
            .find_map(|i| {
                let w = workload_of(index, graph, i)?;
                Some(w)
            });
        if siblings > 0
            && let Some(w) = workload
        {
            let (kind, rest) = w.split_once('/').unwrap_or(("", &w));
            let state = cause
                .title
                .split_once("is not Ready: ")
                .map(|(_, s)| format!(": {s}"))
                .unwrap_or_default();
            t = format!(
                "{} pods of {kind} {rest} are not Ready{state}",
                siblings + 1
            );
        }
    }
    if cause.explains.iter().any(|k| k == topic::LEFTOVER)
        && let Some(u) = cause.objects.iter().find(|o| o.kind == "Upgrade")
    {
        let to = key_of(index, u)
            .and_then(|i| index.objects.get(i))
            .and_then(crate::model::typed::harvester::Upgrade::of)
            .and_then(|t| t.version())
            .map(|v| format!(" to {v}"))
            .unwrap_or_default();
        let left = effects
            .iter()
            .filter(|e| e.rule == "upgrade.leftover")
            .count();
        let state = if cause.title.contains("failed") {
            "failed"
        } else {
            "did not finish"
        };
        t = if left == 0 {
            format!("Upgrade {}{to} {state}", u.name)
        } else {
            format!(
                "Upgrade {}{to} {state} and left {left} thing{} behind",
                u.name,
                if left == 1 { "" } else { "s" }
            )
        };
    }
    let own: Vec<String> = if cause.rule == "upgrade.admission" {
        Vec::new()
    } else {
        denials(effects)
    };
    if !own.is_empty() {
        t.push_str(&format!("; a new upgrade is refused ({})", own.join(", ")));
    }
    t
}

/// Names of a list, at most three, then how many more.
fn some(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
    match names.len().saturating_sub(3) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// What the incident costs, from what it explains: the pods, workloads, volumes and VMs it
/// touches, by name; the refused calls and leftovers; the upgrade checks that refuse.
fn impact(index: &Index, graph: &Graph, cause: &Finding, effects: &[&Finding]) -> String {
    if effects.is_empty() {
        return String::new();
    }
    let mut workloads: BTreeSet<String> = BTreeSet::new();
    let mut volumes: BTreeSet<String> = BTreeSet::new();
    let mut vms: BTreeSet<String> = BTreeSet::new();
    let mut pods = 0;
    for f in effects.iter().copied().chain([cause]) {
        if f.rule == "upgrade.precheck.pod-status" {
            pods += 1;
        }
        for o in about(f) {
            match o.kind.as_str() {
                // An upgrade's repository Deployment (v1.7+) is the upgrade's own.
                "Deployment"
                    if key_of(index, o)
                        .and_then(|i| index.objects.get(i))
                        .is_some_and(|d| {
                            facts::upgrade::owning_upgrade(&d.key.kind, d).is_some()
                        }) => {}
                "Deployment" | "DaemonSet" | "StatefulSet" => {
                    workloads.insert(format!("{} {}/{}", o.kind, o.namespace, o.name));
                }
                "Volume" => {
                    volumes.insert(o.name.clone());
                    // The VMs whose disks it holds.
                    if let Some(i) = key_of(index, o) {
                        vms.extend(vms_above(index, graph, i));
                    }
                }
                // An upgrade's repository VM is the upgrade's own, not a user's VM it affects.
                "VirtualMachine" | "VirtualMachineInstance"
                    if !key_of(index, o)
                        .and_then(|i| index.objects.get(i))
                        .is_some_and(|v| {
                            facts::upgrade::owning_upgrade(&v.key.kind, v).is_some()
                        }) =>
                {
                    vms.insert(format!("{}/{}", o.namespace, o.name));
                }
                _ => {}
            }
        }
    }
    let count = |p: &dyn Fn(&Finding) -> bool| effects.iter().filter(|f| p(f)).count();
    let mut parts: Vec<String> = Vec::new();
    if pods > 0 {
        parts.push(crate::text::plural(pods, "pod not Ready", "pods not Ready"));
    }
    let workloads: Vec<String> = workloads.into_iter().collect();
    if !workloads.is_empty() {
        parts.push(format!("workloads: {}", some(&workloads)));
    }
    let volumes: Vec<String> = volumes.into_iter().collect();
    if !volumes.is_empty() {
        parts.push(format!("Longhorn volumes: {}", some(&volumes)));
    }
    let vms: Vec<String> = vms.into_iter().collect();
    if !vms.is_empty() {
        parts.push(format!("VMs: {}", some(&vms)));
    }
    let calls = count(&|f| f.rule == "webhook.denial");
    if calls > 0 {
        parts.push(crate::text::plural(
            calls,
            "kind of refused or failed webhook call in the events and logs",
            "kinds of refused or failed webhook calls in the events and logs",
        ));
    }
    let leftovers = count(&|f| f.rule == "upgrade.leftover");
    if leftovers > 0 {
        parts.push(crate::text::plural(
            leftovers,
            "leftover to clean up",
            "leftovers to clean up",
        ));
    }
    let mut s = String::new();
    if !parts.is_empty() {
        s = parts.join("; ");
    }
    let checks = denials(effects);
    if !checks.is_empty() && cause.rule != "upgrade.admission" {
        if !s.is_empty() {
            s.push_str("; ");
        }
        s.push_str(&format!(
            "the upgrade webhook refuses a new upgrade ({})",
            checks.join(", ")
        ));
    }
    if s.is_empty() {
        s = crate::text::plural(effects.len(), "related finding", "related findings");
    }
    s.push('.');
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The VirtualMachines above an object in the status graph (a volume's claim's VM), by
/// `namespace/name`.
fn vms_above(index: &Index, graph: &Graph, from: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::from([from]);
    let mut frontier = vec![from];
    for _ in 0..5 {
        let mut next = Vec::new();
        for n in frontier {
            for (k, p) in graph.inc(n) {
                if !matches!(k, EdgeKind::Stores | EdgeKind::Owns) || !seen.insert(*p) {
                    continue;
                }
                if let Some(o) = index.objects.get(*p)
                    && o.key.kind == "VirtualMachine"
                {
                    out.push(format!("{}/{}", o.key.namespace, o.key.name));
                }
                next.push(*p);
            }
        }
        frontier = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(rule: &str, subject: &str, sev: Severity, objects: &[&Object]) -> Finding {
        Finding::new(rule, subject, sev, format!("{rule} {subject}"))
            .with_objects(objects.iter().map(|o| ObjectRef::of(o)).collect())
    }

    struct Bed {
        index: Index,
        graph: Graph,
    }

    impl Bed {
        fn new(items: &[&str]) -> Bed {
            let index = Index::from_yaml_objects(items);
            let graph = Graph::build(&index);
            Bed { index, graph }
        }
    }

    const NODES: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n";

    #[test]
    fn a_down_node_explains_its_pods_and_the_denial_that_quotes_it() {
        let bed = Bed::new(&[
            NODES,
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ds\n  namespace: kube-system\n  uid: d1\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ds-x\n  namespace: kube-system\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: DaemonSet\n    name: ds\n    uid: d1\nspec:\n  nodeName: n2\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: other\n  namespace: default\nspec:\n  nodeName: n1\n",
        ]);
        let ix = &bed.index;
        let node = ix.find("", "Node", "", "n2").unwrap();
        let pod = ix.find("", "Pod", "kube-system", "ds-x").unwrap();
        let other = ix.find("", "Pod", "default", "other").unwrap();
        let findings = vec![
            f("upgrade.admission", "C14", Severity::Error, &[node]).with_topic(topic::check("C14")),
            f("node.not-ready", "Node/n2", Severity::Error, &[node]),
            f(
                "upgrade.precheck.pod-status",
                "Pod/kube-system/ds-x",
                Severity::Error,
                &[pod],
            ),
            f(
                "upgrade.precheck.pod-status",
                "Pod/default/other",
                Severity::Error,
                &[other],
            ),
            f("webhook.denial", "x:c14", Severity::Warning, &[]).with_topic(topic::check("C14")),
        ];
        let mut findings = findings;
        findings[0] = findings[0].clone().explaining([topic::check("C14")]);
        let inc = correlate(ix, &bed.graph, &findings);
        assert_eq!(inc.len(), 2, "{inc:#?}");
        assert_eq!(inc[0].id, "incident:Node/n2");
        assert_eq!(inc[0].cause, 1);
        // The denial, the pod on the node, and (through the denial) the log line.
        assert_eq!(inc[0].effects, vec![0, 2, 4]);
        assert!(
            inc[0].title.ends_with("; a new upgrade is refused (C14)"),
            "{}",
            inc[0].title
        );
        assert!(
            inc[0].impact.contains("1 pod not Ready"),
            "{}",
            inc[0].impact
        );
        // A pod on another node is its own problem.
        assert_eq!(inc[1].cause, 3);
        assert!(inc[1].effects.is_empty());
    }

    #[test]
    fn pods_of_one_workload_fold_together_and_every_warning_has_an_incident() {
        let bed = Bed::new(&[
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  namespace: ns\n  uid: j1\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: j-a\n  namespace: ns\n  ownerReferences:\n  - apiVersion: batch/v1\n    kind: Job\n    name: j\n    uid: j1\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: j-b\n  namespace: ns\n  ownerReferences:\n  - apiVersion: batch/v1\n    kind: Job\n    name: j\n    uid: j1\n",
        ]);
        let ix = &bed.index;
        let a = ix.find("", "Pod", "ns", "j-a").unwrap();
        let b = ix.find("", "Pod", "ns", "j-b").unwrap();
        let findings = vec![
            Finding::new(
                "upgrade.precheck.pod-status",
                "Pod/ns/j-a",
                Severity::Error,
                "Pod ns/j-a is not Ready: Error (0/1 ready)",
            )
            .with_object(ObjectRef::of(a)),
            Finding::new(
                "upgrade.precheck.pod-status",
                "Pod/ns/j-b",
                Severity::Error,
                "Pod ns/j-b is not Ready: Error (0/1 ready)",
            )
            .with_object(ObjectRef::of(b)),
            Finding::new("node.version-skew", "kubelet", Severity::Warning, "skew"),
            Finding::new("bundle.pod-logs", "Namespace/ns", Severity::Info, "logs"),
        ];
        let inc = correlate(ix, &bed.graph, &findings);
        assert_eq!(inc.len(), 2);
        assert_eq!(
            inc[0].title,
            "2 pods of Job ns/j are not Ready: Error (0/1 ready)"
        );
        assert_eq!(inc[0].effects, vec![1]);
        assert_eq!(inc[1].cause, 2);
        assert_eq!(inc[1].severity, Severity::Warning);
        // Info findings lead nothing.
        assert!(inc.iter().all(|i| i.cause != 3 && !i.effects.contains(&3)));
    }
}
