//! The semantic diff of two bundles of one cluster (`sbdiag diff OLD NEW`): objects added,
//! removed or changed **in status** (never in `resourceVersion`, `managedFields`, generation or
//! timestamp noise), findings appeared / resolved / changed in severity, Fleet bundle and
//! agent transitions, Harvester upgrade transitions, and version changes.
//!
//! Each bundle is reduced to a [`Snapshot`] (the analysis can be dropped before the other
//! bundle is loaded); [`compare`] orders the two by capture time whatever the argument order,
//! and refuses bundles of different clusters unless forced. Renderers are in [`render`].
pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analyze::Analysis;
use crate::fleet::Verdict;
use crate::graph;
use crate::index::Object;
use crate::model::summary::Family;
use crate::model::time::{self, Age, Timestamp};
use crate::model::typed::capi::{CapiCluster, CapiMachine};
use crate::model::typed::core::{EndpointSlice, Endpoints, Pdb};
use crate::model::typed::harvester::{ScheduleVmBackup, Upgrade, VmBackup, VmImage};
use crate::model::typed::kubevirt::{VirtualMachine, Vmi, VmiMigration};
use crate::model::typed::longhorn::{LhEngine, LhReplica, LhVolume};
use crate::model::views::View;
use crate::model::{Condition, ObjectKey};
use crate::report::Report;

/// Why two bundles cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The bundles come from different clusters.
    #[error(
        "{old_source} (cluster {old_id}) and {new_source} (cluster {new_id}) are bundles of \
         different clusters; pass --force to compare them anyway"
    )]
    DifferentClusters {
        /// First bundle.
        old_source: String,
        /// Its cluster id.
        old_id: String,
        /// Second bundle.
        new_source: String,
        /// Its cluster id.
        new_id: String,
    },
}

/// Kinds left out of the object comparison: every capture has other events.
const SKIPPED_KINDS: &[(&str, &str)] = &[("", "Event"), ("events.k8s.io", "Event")];

/// An object's identity in the diff.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectId {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped objects).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectId {
    fn of(k: &ObjectKey) -> ObjectId {
        ObjectId {
            group: k.group.clone(),
            kind: k.kind.clone(),
            namespace: k.namespace.clone(),
            name: k.name.clone(),
        }
    }

    /// `DaemonSet kube-system/harvester-whereabouts`; the group is added for kinds outside the
    /// core, `apps` and `batch` groups (`Cluster.fleet.cattle.io fleet-local/local`).
    pub fn display(&self) -> String {
        let kind = if matches!(self.group.as_str(), "" | "apps" | "batch") {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        if self.namespace.is_empty() {
            format!("{kind} {}", self.name)
        } else {
            format!("{kind} {}/{}", self.namespace, self.name)
        }
    }
}

/// A finding, as the diff shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRef {
    /// Stable id.
    pub id: String,
    /// Rule.
    pub rule: String,
    /// `error`, `warning`, `info`.
    pub severity: String,
    /// Title.
    pub title: String,
}

/// A field that differs; `None` means absent on that side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Field in words (`ready`, `condition Ready`, `image harvester`).
    pub field: String,
    /// Value in the older bundle.
    pub old: Option<String>,
    /// Value in the newer bundle.
    pub new: Option<String>,
}

/// What a bundle is, for the diff header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// File or folder name.
    pub source: String,
    /// Capture time.
    pub created_at: Option<String>,
    /// Cluster id.
    pub cluster_id: Option<String>,
    /// Harvester version.
    pub harvester_version: String,
}

/// The comparable essence of one bundle.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Identity.
    pub side: Side,
    /// Versions and sizes that may change between captures.
    pub versions: BTreeMap<String, String>,
    /// Findings by id.
    pub findings: BTreeMap<String, FindingRef>,
    /// Status fields of every object (events left out).
    pub objects: BTreeMap<ObjectId, BTreeMap<String, String>>,
    /// Fleet bundles and the agent: status fields by subject.
    pub fleet: BTreeMap<String, BTreeMap<String, String>>,
    /// Harvester Upgrades: status fields by name.
    pub upgrades: BTreeMap<String, BTreeMap<String, String>>,
}

fn cond_text(c: &Condition) -> String {
    match c.reason.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => format!("{} ({r})", c.status),
        None => c.status.clone(),
    }
}

fn opt_num(v: Option<i64>) -> Option<String> {
    v.map(|n| n.to_string())
}

fn of(n: Option<i64>, total: Option<i64>) -> Option<String> {
    match (n, total) {
        (_, None) => None,
        (n, Some(t)) => Some(format!("{}/{t}", n.unwrap_or(0))),
    }
}

/// The status fields of one object (what the diff compares).
pub fn status_fields(
    o: &Object,
    family: Family,
    capture: Option<Timestamp>,
) -> BTreeMap<String, String> {
    let mut f: BTreeMap<String, String> = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            f.insert(k.to_string(), v);
        }
    };
    put("status", Some(graph::health(o, family, capture).0));
    put("uid", Some(o.meta.uid.clone()));
    put(
        "deleting",
        o.meta
            .deletion_timestamp
            .as_ref()
            .map(|_| "yes".to_string()),
    );
    put("phase", o.status.phase.clone());
    put("state", o.status.state.clone());
    for c in &o.status.conditions {
        put(&format!("condition {}", c.kind), Some(cond_text(c)));
    }
    match &o.view {
        View::Workload(w) => {
            let desired = if o.key.kind == "DaemonSet" {
                w.desired_number_scheduled
            } else {
                w.spec_replicas
            };
            let (ready, available, updated) = if o.key.kind == "DaemonSet" {
                (
                    w.number_ready,
                    w.number_available,
                    w.updated_number_scheduled,
                )
            } else {
                (w.ready_replicas, w.available_replicas, w.updated_replicas)
            };
            put("ready", of(ready, desired));
            put("available", of(available, desired));
            put("updated", of(updated, desired));
            put("spec.replicas", opt_num(w.spec_replicas));
            put("paused", w.paused.then(|| "yes".to_string()));
            for c in &w.containers {
                put(&format!("image {}", c.name), Some(c.image.clone()));
            }
        }
        View::Pod(p) => {
            let (r, n) = p.ready_count();
            put("node", p.node_name.clone());
            put("ready", Some(format!("{r}/{n}")));
            put("restarts", Some(p.restarts().to_string()));
            put(
                "pod status",
                Some(p.display_status(
                    o.status.phase.as_deref(),
                    o.meta.deletion_timestamp.is_some(),
                )),
            );
            for c in &p.containers {
                put(&format!("image {}", c.name), Some(c.image.clone()));
            }
        }
        View::Node(n) => {
            put("unschedulable", n.unschedulable.then(|| "yes".to_string()));
            let mut taints: Vec<String> = n
                .taints
                .iter()
                .map(|t| match t.value.as_deref().filter(|v| !v.is_empty()) {
                    Some(v) => format!("{}={v}:{}", t.key, t.effect),
                    None => format!("{}:{}", t.key, t.effect),
                })
                .collect();
            taints.sort();
            put("taints", Some(taints.join(", ")));
            put("kubelet", n.kubelet_version.clone());
            put("os", n.os_image.clone());
        }
        View::Job(j) => {
            put("active", opt_num(j.active));
            put("succeeded", opt_num(j.succeeded));
            put("failed", opt_num(j.failed));
        }
        View::Setting(s) => put("value", s.effective().map(str::to_string)),
        View::Fleet(fv) => {
            put("paused", fv.paused.then(|| "yes".to_string()));
            put(
                "summary ready",
                of(fv.summary.ready, fv.summary.desired_ready),
            );
            put("display state", fv.display.get("state").cloned());
        }
        View::Tree(_) => {
            // The fields that say how an object kept whole is doing, by its typed view.
            let text = |v: Option<&str>| v.map(str::to_string);
            let flag = |v: Option<bool>| v.map(|b| b.to_string());
            if let Some(v) = LhVolume::of(o) {
                put("state", text(v.state()));
                put("robustness", text(v.robustness()));
                put("node", text(v.current_node_id()));
                put("replicas", opt_num(v.number_of_replicas()));
            } else if let Some(r) = LhReplica::of(o) {
                put("state", text(r.current_state()));
                put("node", text(r.node_id()));
                put("failed at", text(r.failed_at()));
            } else if let Some(e) = LhEngine::of(o) {
                put("state", text(e.current_state()));
                put("node", text(e.node_id()));
            } else if let Some(vm) = VirtualMachine::of(o) {
                put("printable status", text(vm.printable_status()));
                put("running", flag(vm.running()));
                put("run strategy", text(vm.run_strategy()));
            } else if let Some(vmi) = Vmi::of(o) {
                put("phase", text(vmi.phase()));
                put("node", text(vmi.node_name()));
            } else if let Some(m) = VmiMigration::of(o) {
                put("phase", text(m.phase()));
            } else if let Some(i) = VmImage::of(o) {
                put("progress", opt_num(i.progress()));
            } else if let Some(b) = VmBackup::of(o) {
                put("ready to use", flag(b.ready_to_use()));
            } else if let Some(b) = ScheduleVmBackup::of(o) {
                put("suspended", flag(b.suspend()));
            } else if let Some(u) = Upgrade::of(o) {
                put("version", text(u.version()));
            } else if let Some(m) = CapiMachine::of(o) {
                put("phase", text(m.phase()));
                put("node", text(m.node_ref_name()));
            } else if let Some(c) = CapiCluster::of(o) {
                put("phase", text(c.phase()));
            }
            let int = |v: Option<i64>| v.map(|n| n.to_string());
            if let Some(p) = Pdb::of(o) {
                put("disruptions allowed", int(p.disruptions_allowed()));
                put("healthy", int(p.current_healthy()));
                put("desired healthy", int(p.desired_healthy()));
            } else if let Some(e) = Endpoints::of(o) {
                let count = |ready: bool| e.addresses().filter(|a| a.ready() == ready).count();
                put("ready addresses", Some(count(true).to_string()));
                put("not ready addresses", Some(count(false).to_string()));
            } else if let Some(es) = EndpointSlice::of(o) {
                let total = es.endpoints().count();
                let ready = es.endpoints().filter(|e| e.ready()).count();
                put("ready endpoints", Some(format!("{ready}/{total}")));
            }
        }
        _ => {}
    }
    f
}

impl Snapshot {
    /// Reduces an analysis and its report to what the diff compares.
    pub fn take(a: &Analysis, r: &Report) -> Snapshot {
        let family = a.fleet.version.family;
        let capture = a.bundle.created_at;
        let b = &r.bundle;
        let side = Side {
            source: b.source.clone(),
            created_at: b.created_at.clone(),
            cluster_id: b.cluster_id.clone(),
            harvester_version: b.harvester_version.clone(),
        };
        let mut versions = BTreeMap::new();
        versions.insert("Harvester".to_string(), b.harvester_version.clone());
        for (k, v) in [
            ("Kubernetes", &b.kubernetes_version),
            ("Rancher", &b.rancher_version),
        ] {
            if let Some(v) = v {
                versions.insert(k.to_string(), v.clone());
            }
        }
        versions.insert("Fleet".to_string(), a.fleet.version.label());
        versions.insert("nodes".to_string(), b.node_names.join(", "));
        let findings = r
            .findings
            .iter()
            .map(|f| {
                (
                    f.id.clone(),
                    FindingRef {
                        id: f.id.clone(),
                        rule: f.rule.clone(),
                        severity: f.severity.as_str().to_string(),
                        title: crate::text::one_line(&f.title, 300),
                    },
                )
            })
            .collect();
        let objects = a
            .index
            .primary()
            .filter(|o| {
                !SKIPPED_KINDS
                    .iter()
                    .any(|(g, k)| o.key.group == *g && o.key.kind == *k)
            })
            .map(|o| (ObjectId::of(&o.key), status_fields(o, family, capture)))
            .collect();
        Snapshot {
            side,
            versions,
            findings,
            objects,
            fleet: fleet_fields(a),
            upgrades: upgrade_fields(a),
        }
    }
}

/// Fleet bundles (Ready, state, claims and how many are stale) and the local agent.
fn fleet_fields(a: &Analysis) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (si, s) in a.fleet.sources.iter().enumerate() {
        let mut f = BTreeMap::new();
        f.insert(
            "Ready".to_string(),
            s.ready
                .as_ref()
                .map(cond_text)
                .unwrap_or_else(|| "absent".into()),
        );
        if let Some(m) = s
            .ready
            .as_ref()
            .and_then(|c| c.message.as_deref())
            .filter(|m| !m.is_empty())
        {
            f.insert("message".to_string(), crate::text::one_line(m, 240));
        }
        if !s.state.is_empty() {
            f.insert("state".to_string(), s.state.clone());
        }
        if s.paused {
            f.insert("paused".to_string(), "yes".into());
        }
        let judged: Vec<_> = a.fleet.judged.iter().filter(|j| j.source == si).collect();
        let stale = judged
            .iter()
            .filter(|j| matches!(j.verdict, Verdict::Stale(_)))
            .count();
        f.insert("claims".to_string(), s.claims.len().to_string());
        f.insert("stale claims".to_string(), stale.to_string());
        let kind = if s.bundle.is_some() {
            "Bundle"
        } else if s.chart.is_some() {
            "ManagedChart"
        } else {
            "BundleDeployments of"
        };
        out.insert(format!("{kind} {}/{}", s.namespace, s.name), f);
    }
    let ag = &a.fleet.agent;
    if ag.cluster.is_some() || ag.workload.is_some() || !ag.pods.is_empty() {
        let mut f = BTreeMap::new();
        f.insert(
            "heartbeat".to_string(),
            match (ag.last_seen.as_ref(), ag.heartbeat_stale()) {
                (None, _) => "unknown".to_string(),
                (Some(_), true) => "stale at capture".to_string(),
                (Some(_), false) => "current at capture".to_string(),
            },
        );
        f.insert(
            "pods".to_string(),
            if ag.problems.is_empty() {
                "no problem".to_string()
            } else {
                ag.problems.join("; ")
            },
        );
        out.insert(format!("fleet-agent {}", ag.namespace), f);
    }
    out
}

/// Harvester Upgrades: state label, target version, first pending condition, node states.
fn upgrade_fields(a: &Analysis) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for o in a.index.of_kind("harvesterhci.io", "Upgrade") {
        let mut f = BTreeMap::new();
        let labels = &o.meta.labels;
        f.insert(
            "state".to_string(),
            labels
                .get("harvesterhci.io/upgradeState")
                .filter(|s| !s.is_empty())
                .cloned()
                .unwrap_or_else(|| "none".into()),
        );
        if let Some(l) = labels.get("harvesterhci.io/latestUpgrade") {
            f.insert("latest".to_string(), l.clone());
        }
        let pending = crate::upgrade::lifecycle::FLOW.iter().find_map(|c| {
            let cond = crate::model::condition(&o.status.conditions, c)?;
            (cond.status != "True").then(|| format!("{c} {}", cond_text(cond)))
        });
        f.insert(
            "pending".to_string(),
            pending.unwrap_or_else(|| "none".into()),
        );
        if let Some(u) = Upgrade::of(o) {
            if let Some(v) = u.version() {
                f.insert("version".to_string(), v.to_string());
            }
            for (node, st) in u.node_statuses() {
                f.insert(format!("node {node}"), st.state().unwrap_or("").to_string());
            }
        }
        out.insert(format!("{}/{}", o.key.namespace, o.key.name), f);
    }
    out
}

/// Something that appeared, disappeared or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// What it is about.
    pub subject: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
    /// The fields (all of them for added/removed objects).
    pub fields: Vec<FieldChange>,
}

/// An object whose status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectChange {
    /// The object.
    pub object: ObjectId,
    /// What changed.
    pub fields: Vec<FieldChange>,
}

/// Objects added, removed and changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ObjectsDiff {
    /// In the newer bundle only.
    pub added: Vec<ObjectId>,
    /// In the older bundle only.
    pub removed: Vec<ObjectId>,
    /// In both, with a different status.
    pub changed: Vec<ObjectChange>,
    /// In both, same status.
    pub unchanged: usize,
    /// Kinds not compared.
    pub skipped: Vec<String>,
}

/// A finding whose severity changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeverityChange {
    /// The finding (newer bundle's title and severity).
    pub finding: FindingRef,
    /// Severity in the older bundle.
    pub old_severity: String,
}

/// Findings appeared, resolved and changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FindingsDiff {
    /// In the newer bundle only.
    pub appeared: Vec<FindingRef>,
    /// In the older bundle only.
    pub resolved: Vec<FindingRef>,
    /// In both with another severity.
    pub changed: Vec<SeverityChange>,
    /// In both, same severity.
    pub unchanged: usize,
}

/// The whole diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// The older bundle (by capture time).
    pub old: Side,
    /// The newer bundle.
    pub new: Side,
    /// The arguments were given newest first and were swapped.
    pub swapped: bool,
    /// Time between the captures (`2d3h`).
    pub elapsed: Option<String>,
    /// Remarks: order, forced comparison, unknown cluster ids or capture times.
    pub notes: Vec<String>,
    /// Version and node list changes.
    pub versions: Vec<FieldChange>,
    /// Findings.
    pub findings: FindingsDiff,
    /// Fleet bundles and agent.
    pub fleet: Vec<Transition>,
    /// Harvester upgrades.
    pub upgrades: Vec<Transition>,
    /// Objects.
    pub objects: ObjectsDiff,
}

fn field_changes(
    old: Option<&BTreeMap<String, String>>,
    new: Option<&BTreeMap<String, String>>,
) -> Vec<FieldChange> {
    let empty = BTreeMap::new();
    let (o, n) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (a, b) = (o.get(k), n.get(k));
            (a != b).then(|| FieldChange {
                field: k.clone(),
                old: a.cloned(),
                new: b.cloned(),
            })
        })
        .collect()
}

fn transitions(
    old: &BTreeMap<String, BTreeMap<String, String>>,
    new: &BTreeMap<String, BTreeMap<String, String>>,
) -> Vec<Transition> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (a, b) = (old.get(k), new.get(k));
            let fields = field_changes(a, b);
            if fields.is_empty() {
                return None;
            }
            let change = match (a, b) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            Some(Transition {
                subject: k.clone(),
                change: change.to_string(),
                fields,
            })
        })
        .collect()
}

fn parse_time(s: &Option<String>) -> Option<Timestamp> {
    s.as_deref().and_then(time::parse)
}

/// Compares two snapshots. They are ordered by capture time (older first) whatever the
/// argument order; bundles of different clusters are refused unless `force`.
pub fn compare(first: Snapshot, second: Snapshot, force: bool) -> Result<Diff, DiffError> {
    let mut notes = Vec::new();
    match (&first.side.cluster_id, &second.side.cluster_id) {
        (Some(a), Some(b)) if a != b => {
            if !force {
                return Err(DiffError::DifferentClusters {
                    old_source: first.side.source.clone(),
                    old_id: a.clone(),
                    new_source: second.side.source.clone(),
                    new_id: b.clone(),
                });
            }
            notes.push(format!(
                "the bundles are of different clusters ({a} and {b}); compared because of --force"
            ));
        }
        (Some(_), Some(_)) => {}
        _ => notes.push(
            "a bundle has no cluster id (metadata.yaml projectnamespaceuuid): cannot tell \
             whether both are of the same cluster"
                .to_string(),
        ),
    }
    let (t1, t2) = (
        parse_time(&first.side.created_at),
        parse_time(&second.side.created_at),
    );
    let swapped = matches!((t1, t2), (Some(a), Some(b)) if a > b);
    let (old, new) = if swapped {
        notes.push(format!(
            "the arguments were given newest first: {} (captured {}) is compared as OLD, {} \
             (captured {}) as NEW",
            second.side.source,
            second.side.created_at.as_deref().unwrap_or("?"),
            first.side.source,
            first.side.created_at.as_deref().unwrap_or("?"),
        ));
        (second, first)
    } else {
        (first, second)
    };
    let elapsed = match (
        parse_time(&old.side.created_at),
        parse_time(&new.side.created_at),
    ) {
        (Some(a), Some(b)) => {
            if a == b {
                notes.push("both bundles have the same capture time".to_string());
            }
            Some(Age((b - a).num_seconds()).to_string())
        }
        _ => {
            notes.push(
                "a capture time is unknown: the bundles are compared in argument order".to_string(),
            );
            None
        }
    };
    // Findings.
    let mut findings = FindingsDiff::default();
    for (id, f) in &new.findings {
        match old.findings.get(id) {
            None => findings.appeared.push(f.clone()),
            Some(o) if o.severity != f.severity => findings.changed.push(SeverityChange {
                finding: f.clone(),
                old_severity: o.severity.clone(),
            }),
            Some(_) => findings.unchanged += 1,
        }
    }
    for (id, f) in &old.findings {
        if !new.findings.contains_key(id) {
            findings.resolved.push(f.clone());
        }
    }
    let by_severity = |v: &mut Vec<FindingRef>| {
        v.sort_by(|a, b| {
            crate::scan::severity_rank(&b.severity)
                .cmp(&crate::scan::severity_rank(&a.severity))
                .then_with(|| a.id.cmp(&b.id))
        })
    };
    by_severity(&mut findings.appeared);
    by_severity(&mut findings.resolved);
    // Objects.
    let mut objects = ObjectsDiff {
        skipped: SKIPPED_KINDS
            .iter()
            .map(|(g, k)| {
                if g.is_empty() {
                    k.to_string()
                } else {
                    format!("{k}.{g}")
                }
            })
            .collect(),
        ..ObjectsDiff::default()
    };
    for (id, n) in &new.objects {
        match old.objects.get(id) {
            None => objects.added.push(id.clone()),
            Some(o) => {
                let fields = field_changes(Some(o), Some(n));
                if fields.is_empty() {
                    objects.unchanged += 1;
                } else {
                    objects.changed.push(ObjectChange {
                        object: id.clone(),
                        fields,
                    });
                }
            }
        }
    }
    objects.removed = old
        .objects
        .keys()
        .filter(|id| !new.objects.contains_key(*id))
        .cloned()
        .collect();
    Ok(Diff {
        versions: field_changes(Some(&old.versions), Some(&new.versions)),
        fleet: transitions(&old.fleet, &new.fleet),
        upgrades: transitions(&old.upgrades, &new.upgrades),
        old: old.side,
        new: new.side,
        swapped,
        elapsed,
        notes,
        findings,
        objects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(id: Option<&str>, at: &str, source: &str) -> Snapshot {
        Snapshot {
            side: Side {
                source: source.into(),
                created_at: Some(at.into()),
                cluster_id: id.map(str::to_string),
                harvester_version: "v1.4.0".into(),
            },
            versions: BTreeMap::new(),
            findings: BTreeMap::new(),
            objects: BTreeMap::new(),
            fleet: BTreeMap::new(),
            upgrades: BTreeMap::new(),
        }
    }

    fn obj(name: &str) -> ObjectId {
        ObjectId {
            group: "apps".into(),
            kind: "DaemonSet".into(),
            namespace: "kube-system".into(),
            name: name.into(),
        }
    }

    #[test]
    fn orders_by_capture_time_and_refuses_other_clusters() {
        let a = snap(Some("c1"), "2025-02-14T09:41:07Z", "new.zip");
        let b = snap(Some("c1"), "2025-02-12T09:41:07Z", "old.zip");
        let d = compare(a.clone(), b.clone(), false).unwrap();
        assert!(d.swapped);
        assert_eq!(d.old.source, "old.zip");
        assert_eq!(d.elapsed.as_deref(), Some("2d"));
        assert!(d.notes.iter().any(|n| n.contains("newest first")));
        let c = snap(Some("c2"), "2025-02-12T09:41:07Z", "other.zip");
        assert!(matches!(
            compare(a.clone(), c.clone(), false),
            Err(DiffError::DifferentClusters { .. })
        ));
        let forced = compare(a, c, true).unwrap();
        assert!(forced.notes.iter().any(|n| n.contains("--force")));
    }

    #[test]
    fn compares_status_fields_findings_and_transitions() {
        let mut old = snap(Some("c"), "2025-02-12T09:41:07Z", "old");
        let mut new = snap(Some("c"), "2025-02-14T09:41:07Z", "new");
        let fields = |ready: &str| {
            BTreeMap::from([
                ("ready".to_string(), ready.to_string()),
                ("uid".to_string(), "u1".to_string()),
            ])
        };
        old.objects.insert(obj("ds"), fields("6/7"));
        new.objects.insert(obj("ds"), fields("7/7"));
        old.objects.insert(obj("same"), fields("1/1"));
        new.objects.insert(obj("same"), fields("1/1"));
        old.objects.insert(obj("gone"), fields("1/1"));
        new.objects.insert(obj("born"), fields("1/1"));
        let f = |id: &str, sev: &str| FindingRef {
            id: id.into(),
            rule: "r".into(),
            severity: sev.into(),
            title: "t".into(),
        };
        old.findings.insert("a".into(), f("a", "error"));
        old.findings.insert("b".into(), f("b", "warning"));
        new.findings.insert("b".into(), f("b", "error"));
        new.findings.insert("c".into(), f("c", "info"));
        old.upgrades.insert(
            "harvester-system/u".into(),
            BTreeMap::from([("state".to_string(), "UpgradingNodes".to_string())]),
        );
        new.upgrades.insert(
            "harvester-system/u".into(),
            BTreeMap::from([("state".to_string(), "Succeeded".to_string())]),
        );
        let d = compare(old, new, false).unwrap();
        assert!(!d.swapped);
        assert_eq!(d.objects.added, vec![obj("born")]);
        assert_eq!(d.objects.removed, vec![obj("gone")]);
        assert_eq!(d.objects.unchanged, 1);
        assert_eq!(d.objects.changed.len(), 1);
        assert_eq!(
            d.objects.changed[0].fields,
            vec![FieldChange {
                field: "ready".into(),
                old: Some("6/7".into()),
                new: Some("7/7".into())
            }]
        );
        assert_eq!(d.findings.appeared[0].id, "c");
        assert_eq!(d.findings.resolved[0].id, "a");
        assert_eq!(d.findings.changed[0].old_severity, "warning");
        assert_eq!(d.upgrades[0].change, "changed");
        assert_eq!(d.upgrades[0].fields[0].new.as_deref(), Some("Succeeded"));
        assert_eq!(obj("x").display(), "DaemonSet kube-system/x".to_string());
    }
}
