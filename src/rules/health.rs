//! Node, storage and VM basics the status graph makes cheap: `node.not-ready`, `node.cordoned`,
//! `node.pressure`, `node.version-skew`; `storage.volume-health` (degraded / faulted Longhorn
//! volumes, with their replicas and nodes), `storage.single-replica`,
//! `storage.replicas-one-node` (the VM rules are in `vm.rs`). Each finding lists its blast
//! radius (what depends on the object, from the graph).
use crate::rules::finding::topic;
use std::fmt::Write as _;

use super::{
    Context, Evidence, Finding, Input, ObjectRef, Rule, RuleDef, RuleInfo, Severity, subject,
};
use crate::facts::harvester;
use crate::facts::node::{self as node_facts, Cordon};
use crate::index::Object;
use crate::model::condition;
use crate::model::typed::longhorn::{LhReplica, LhVolume};
use crate::model::views::View;

/// The health rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(RuleDef::new(NODE_NOT_READY, node_not_ready)),
        Box::new(RuleDef::new(NODE_CORDONED, node_cordoned)),
        Box::new(RuleDef::new(NODE_PRESSURE, node_pressure)),
        Box::new(RuleDef::new(NODE_SKEW, node_skew)),
        Box::new(RuleDef::new(VOLUME_HEALTH, volume_health)),
        Box::new(RuleDef::new(SINGLE_REPLICA, single_replica)),
        Box::new(RuleDef::new(ONE_NODE, replicas_one_node)),
    ]
}

/// What depends on `o`, from the graph, as object references (at most 50).
pub fn blast_radius(cx: &Context, o: &Object) -> Vec<ObjectRef> {
    let Some(i) = cx.index.position(&o.key) else {
        return Vec::new();
    };
    let mut v: Vec<ObjectRef> = cx
        .graph
        .dependents(i, 50)
        .into_iter()
        .filter_map(|d| cx.index.objects.get(d))
        .map(ObjectRef::of)
        .collect();
    v.sort();
    v
}

fn radius_text(r: &[ObjectRef]) -> String {
    if r.is_empty() {
        return String::new();
    }
    let mut kinds: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for o in r {
        kinds
            .entry(o.kind.as_str())
            .or_default()
            .push(o.name.as_str());
    }
    let parts: Vec<String> = kinds
        .iter()
        .map(|(k, names)| {
            let shown: Vec<&str> = names.iter().take(5).copied().collect();
            format!(
                "{} {k}(s): {}{}",
                names.len(),
                shown.join(", "),
                if names.len() > 5 { ", …" } else { "" }
            )
        })
        .collect();
    format!("\nBlast radius (what depends on it): {}.", parts.join("; "))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn finding(
    rule: &str,
    subject: String,
    severity: Severity,
    title: String,
    summary: String,
    o: &Object,
    cx: &Context,
    focus: Option<&str>,
    fix: String,
) -> Finding {
    let radius = blast_radius(cx, o);
    Finding::new(rule, subject, severity, title)
        .with_summary(format!("{summary}{}", radius_text(&radius)))
        .with_object(ObjectRef::of(o))
        .with_objects(radius)
        .with_evidence(vec![Evidence::of(cx.index, o, focus)])
        .with_remediation(fix)
}

// ---------------------------------------------------------------- nodes

const NODE_INPUTS: &[Input] = &[Input::Resources, Input::Resource("", "nodes")];

static NODE_NOT_READY: RuleInfo = RuleInfo {
    id: "node.not-ready",
    title: "Nodes not Ready",
    description: "A Node whose Ready condition is not True at capture: its pods, VMs and \
        volume replicas are affected (blast radius from the graph).",
    inputs: NODE_INPUTS,
    versions: "all",
};

fn node_not_ready(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    cx.index
        .of_kind("", "Node")
        .filter_map(|n| {
            let c = condition(&n.status.conditions, "Ready")?;
            (c.status != "True").then(|| {
                finding(
                    "node.not-ready",
                    subject(n, ""),
                    Severity::Error,
                    format!(
                        "Node {} is not Ready ({}) since {}",
                        n.key.name,
                        c.reason.as_deref().unwrap_or(&c.status),
                        crate::model::Age::at(c.last_transition_time.as_deref(), cx.created_at)
                            .map(|a| format!("{a} before capture"))
                            .unwrap_or_else(|| "an unknown time".into())
                    ),
                    format!(
                        "Ready is {} since {}: {}",
                        c.status,
                        cx.ago(c.last_transition_time.as_deref()),
                        c.message.as_deref().unwrap_or("no message")
                    ),
                    n,
                    cx,
                    Some("type: Ready"),
                    format!(
                        "Check the node's power and network, then its kubelet and rke2 logs \
                         (from its node bundle, when the bundle holds one):\n$ {}\n$ {}\n\
                         Longhorn rebuilds the node's replicas elsewhere after \
                         replica-replenishment-wait-interval.",
                        cx.sbdiag("logs", &format!("{} -c kubelet", n.key.name)),
                        cx.sbdiag("logs", &format!("{} -c rke2-server", n.key.name)),
                    ),
                )
            })
        })
        .collect()
}

static NODE_CORDONED: RuleInfo = RuleInfo {
    id: "node.cordoned",
    title: "Nodes cordoned or in maintenance mode",
    description: "spec.unschedulable: new pods and VMs cannot land there, and the upgrade \
        webhook of Harvester v1.1.2+ refuses a new Upgrade while it stays so (check C15, quoted \
        as the running version words it).",
    inputs: NODE_INPUTS,
    versions: "all",
};

fn node_cordoned(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let running = cx.harvester_version().map(|(v, _)| v);
    cx.index
        .of_kind("", "Node")
        .filter_map(|n| {
            let View::Node(v) = &n.view else { return None };
            if !v.unschedulable {
                return None;
            }
            let name = &n.key.name;
            // A running upgrade's cordon is that upgrade's state, never something to undo.
            if let Some(Cordon::Upgrade { upgrade, state }) = node_facts::cordon(cx.index, n) {
                return Some(finding(
                    info.id,
                    subject(n, ""),
                    Severity::Info,
                    format!("Node {name} is cordoned by upgrade {upgrade} (node state {state})"),
                    format!(
                        "spec.unschedulable is true and Upgrade {upgrade}, which has not \
                         finished, records {name} in state {state}: the upgrade's drain \
                         cordoned it. The cordon is lifted when the node's upgrade completes."
                    ),
                    n,
                    cx,
                    Some("unschedulable"),
                    format!(
                        "Do not uncordon {name}: upgrade {upgrade} owns the cordon while it \
                         drains and upgrades the node. If the upgrade does not progress, the way \
                         forward is that upgrade (see upgrade.stuck), not an uncordon."
                    ),
                ));
            }
            let maint = n.meta.annotations.get(node_facts::MAINTAIN_STATUS);
            // The upgrade webhook's C15, quoted only where the running version has it.
            let c15 = running
                .as_ref()
                .and_then(|v| harvester::denial("C15", "", v, &[("node", &n.key.name)]));
            let title = match maint {
                Some(m) => format!("Node {} is in maintenance mode ({m})", n.key.name),
                None => format!("Node {} is cordoned", n.key.name),
            };
            let summary = format!(
                "spec.unschedulable is true{}: nothing new is scheduled there{}.",
                maint
                    .map(|m| format!(" (harvesterhci.io/maintain-status: {m})"))
                    .unwrap_or_default(),
                c15.map(|t| format!(
                    ", and the upgrade webhook refuses a new Upgrade while it stays so (C15): {}",
                    harvester::as_user_sees(&t)
                ))
                .unwrap_or_default()
            );
            let fix = match maint {
                Some(_) => format!(
                    "Harvester's maintenance mode cordoned {name}. When the maintenance is \
                     over, leave it the Harvester way, which lifts the cordon and the \
                     annotation together (not `kubectl uncordon`):\n\
                     UI: Hosts → {name} → ⋮ → Disable Maintenance Mode."
                ),
                None => format!(
                    "Nothing in the capture says who cordoned {name} (no running upgrade drains \
                     it, no maintenance mode). When it is meant to take workloads again:\n\
                     $ kubectl uncordon {name}"
                ),
            };
            Some(
                finding(
                    info.id,
                    subject(n, ""),
                    Severity::Warning,
                    title,
                    summary,
                    n,
                    cx,
                    Some("unschedulable"),
                    fix,
                )
                .with_topic(topic::cordon(&n.key.name)),
            )
        })
        .collect()
}

static NODE_PRESSURE: RuleInfo = RuleInfo {
    id: "node.pressure",
    title: "Nodes under memory, disk or PID pressure",
    description: "MemoryPressure, DiskPressure or PIDPressure True: the kubelet evicts pods; \
        DiskPressure also makes the upgrade's image check (C18) likely to fail.",
    inputs: NODE_INPUTS,
    versions: "all",
};

fn node_pressure(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for n in cx.index.of_kind("", "Node") {
        for kind in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
            if let Some(c) = condition(&n.status.conditions, kind)
                && c.status == "True"
            {
                out.push(finding(
                    "node.pressure",
                    subject(n, kind),
                    Severity::Warning,
                    format!("Node {} has {kind}", n.key.name),
                    format!(
                        "{kind} since {}: {}",
                        cx.ago(c.last_transition_time.as_deref()),
                        c.message.as_deref().unwrap_or("")
                    ),
                    n,
                    cx,
                    Some(&format!("type: {kind}")),
                    match kind {
                        "DiskPressure" => {
                            "Free space on the node: remove unused images (on the node, \
                             `crictl rmi --prune`) and old logs."
                                .into()
                        }
                        _ => "Reduce the load on the node (move VMs, check for leaks).".into(),
                    },
                ));
            }
        }
    }
    out
}

static NODE_SKEW: RuleInfo = RuleInfo {
    id: "node.version-skew",
    title: "Nodes running different kubelet versions",
    description: "Kubelet versions differ between nodes: an upgrade stopped half-way, or a \
        node was left behind.",
    inputs: NODE_INPUTS,
    versions: "all",
};

fn node_skew(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut by: std::collections::BTreeMap<String, Vec<&Object>> =
        std::collections::BTreeMap::new();
    for n in cx.index.of_kind("", "Node") {
        if let View::Node(v) = &n.view
            && let Some(k) = &v.kubelet_version
        {
            by.entry(k.clone()).or_default().push(n);
        }
    }
    if by.len() < 2 {
        return Vec::new();
    }
    let text: Vec<String> = by
        .iter()
        .map(|(v, ns)| {
            format!(
                "{v}: {}",
                ns.iter()
                    .map(|n| n.key.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let first = by.values().flatten().next().copied();
    first
        .map(|n| {
            let mut f = finding(
                "node.version-skew",
                "kubelet".into(),
                Severity::Warning,
                format!("Nodes run {} different kubelet versions", by.len()),
                format!("Kubelet versions: {}.", text.join("; ")),
                n,
                cx,
                Some("kubeletVersion"),
                "Finish the upgrade that left nodes behind (upgrade.stuck), or re-run it.".into(),
            );
            f.evidence = by
                .values()
                .flatten()
                .map(|n| Evidence::of(cx.index, n, Some("kubeletVersion")))
                .collect();
            f.objects = by.values().flatten().map(|n| ObjectRef::of(n)).collect();
            f.with_topic(topic::KUBELET_SKEW)
        })
        .into_iter()
        .collect()
}

// ---------------------------------------------------------------- storage

const LH_INPUTS: &[Input] = &[Input::Resources, Input::Resource("longhorn.io", "volumes")];

fn volumes<'a>(cx: &'a Context) -> impl Iterator<Item = (&'a Object, LhVolume<'a>)> + 'a {
    cx.index.typed::<LhVolume>()
}

/// Longhorn replicas by volume name, built once per rule run (one pass, not one per volume:
/// a large cluster has tens of thousands of replicas).
fn replicas_by_volume<'a>(
    cx: &'a Context,
) -> std::collections::HashMap<&'a str, Vec<(&'a Object, LhReplica<'a>)>> {
    let mut m: std::collections::HashMap<&str, Vec<(&Object, LhReplica)>> =
        std::collections::HashMap::new();
    for (o, r) in cx.index.typed::<LhReplica>() {
        if let Some(v) = r.volume_name() {
            m.entry(v).or_default().push((o, r));
        }
    }
    m
}

fn pvc_of(v: LhVolume) -> String {
    match v.pvc() {
        Some((ns, n)) => format!(" (PVC {ns}/{n})"),
        None => String::new(),
    }
}

static VOLUME_HEALTH: RuleInfo = RuleInfo {
    id: "storage.volume-health",
    title: "Longhorn volumes degraded or faulted",
    description: "status.robustness degraded (fewer healthy replicas than wanted) or faulted \
        (no healthy replica: data unavailable), with each replica's node and state, why Longhorn \
        cannot schedule replicas (condition Scheduled False) and the blast radius up to the VMs \
        using the volume; a volume detached while a pod or VMI mounting its claim runs or waits \
        for it. A faulted or detached volume explains the pods and VMIs that mount it.",
    inputs: LH_INPUTS,
    versions: "all",
};

/// A detached volume a pod or VM waits for: the claim's pods that have not finished and the
/// VMIs that are not done.
fn needed_by(cx: &Context, volume: &Object) -> Vec<String> {
    let Some(c) = cx.storage.of_longhorn(&volume.key.name) else {
        return Vec::new();
    };
    let mut v: Vec<String> = crate::facts::storage::VolumeChain::objects(cx.index, &c.pods)
        .into_iter()
        .filter(|p| matches!(p.status.phase.as_deref(), Some("Pending" | "Running")))
        .map(|p| format!("pod {}/{}", p.key.namespace, p.key.name))
        .collect();
    v.extend(
        crate::facts::storage::VolumeChain::objects(cx.index, &c.vmis)
            .into_iter()
            .filter(|o| {
                crate::model::typed::kubevirt::Vmi::of(*o)
                    .and_then(|t| t.phase())
                    .is_some_and(|p| !matches!(p, "Succeeded" | "Failed"))
            })
            .map(|o| format!("VMI {}/{}", o.key.namespace, o.key.name)),
    );
    v
}

fn volume_health(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let by_volume = replicas_by_volume(cx);
    let mut detached: Vec<Finding> = volumes(cx)
        // Degraded and faulted volumes are reported below, with who uses them.
        .filter(|(_, t)| {
            t.state() == Some("detached")
                && !matches!(t.robustness(), Some("degraded" | "faulted"))
        })
        .filter_map(|(o, t)| {
            let needed = needed_by(cx, o);
            if needed.is_empty() {
                return None;
            }
            Some(
                finding(
                    "storage.volume-health",
                    subject(o, ""),
                    Severity::Warning,
                    format!(
                        "Longhorn volume {}{} is detached while {} needs it",
                        o.key.name,
                        pvc_of(t),
                        needed.first().map(String::as_str).unwrap_or_default()
                    ),
                    format!(
                        "Volume {} is detached (robustness {}) while {} mount its claim: they \
                         cannot start or do I/O until Longhorn attaches it.{}",
                        o.key.name,
                        t.robustness().unwrap_or("unknown"),
                        needed.join(", "),
                        scheduling_reason(t)
                    ),
                    o,
                    cx,
                    Some("state"),
                    format!(
                        "Read why Longhorn does not attach it (its conditions and \
                         longhorn-manager's log):\n$ kubectl -n {} get volumes.longhorn.io {} -o yaml",
                        o.key.namespace, o.key.name
                    ),
                )
                .explaining(needed_subjects(cx, o)),
            )
        })
        .collect();
    let mut out: Vec<Finding> = volumes(cx)
        .filter_map(|(o, t)| {
            let r = t.robustness()?;
            if !matches!(r, "degraded" | "faulted") {
                return None;
            }
            let reps = by_volume
                .get(o.key.name.as_str())
                .cloned()
                .unwrap_or_default();
            let mut s = format!(
                "Volume {}{} is {r}: {} replica(s) wanted, state {}.\nReplicas:",
                o.key.name,
                pvc_of(t),
                t.number_of_replicas().unwrap_or(0),
                t.state().unwrap_or("?")
            );
            for (ro, rt) in &reps {
                let node = rt.node_id().unwrap_or("(no node)");
                let node_obj = cx.index.find("", "Node", "", node);
                let node_ready = node_obj
                    .and_then(|n| condition(&n.status.conditions, "Ready"))
                    .map(|c| c.status == "True");
                let _ = write!(
                    s,
                    "\n  - {} on {node}{}: {}{}",
                    ro.key.name,
                    match (node_obj, node_ready) {
                        (Some(_), Some(false)) => " (node NotReady)",
                        (None, _) if rt.node_id().is_some() && cx.collected("", "nodes") => {
                            " (no Node of that name in the capture)"
                        }
                        _ => "",
                    },
                    rt.current_state().unwrap_or("?"),
                    rt.failed_at()
                        .map(|f| format!(", failed at {f}"))
                        .unwrap_or_default()
                );
            }
            s.push_str(&scheduling_reason(t));
            let needed = needed_by(cx, o);
            if !needed.is_empty() {
                let _ = write!(s, "\nUsed by: {}.", needed.join(", "));
            }
            Some(finding(
                "storage.volume-health",
                subject(o, ""),
                if r == "faulted" {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                format!("Longhorn volume {}{} is {r}", o.key.name, pvc_of(t)),
                s,
                o,
                cx,
                Some("robustness"),
                if r == "faulted" {
                    "No healthy replica: bring back the node or disk that held the last good \
                     replica; salvage from the Longhorn UI if needed."
                        .into()
                } else {
                    "Bring back the node holding the failed replica, or let Longhorn rebuild it \
                     elsewhere (needs enough schedulable nodes and disk space)."
                        .into()
                },
            )
            .explaining(if r == "faulted" {
                needed_subjects(cx, o)
            } else {
                Vec::new()
            }))
        })
        .collect();
    out.append(&mut detached);
    out
}

/// The subjects (`Pod/ns/name`, `VirtualMachineInstance/ns/name`) of what mounts a volume's
/// claim: what a volume that cannot serve them explains.
fn needed_subjects(cx: &Context, volume: &Object) -> Vec<String> {
    let Some(c) = cx.storage.of_longhorn(&volume.key.name) else {
        return Vec::new();
    };
    c.pods
        .iter()
        .chain(&c.vmis)
        .filter_map(|&i| cx.index.objects.get(i))
        .map(|o| ObjectRef::of(o).subject())
        .collect()
}

/// Why Longhorn cannot place the volume's replicas, from its `Scheduled` condition when False
/// (`ReplicaSchedulingFailure`: no schedulable node or disk with room), as a sentence; empty
/// otherwise.
fn scheduling_reason(t: LhVolume) -> String {
    match t.condition("Scheduled") {
        Some(c) if c.status == "False" => format!(
            "\nLonghorn cannot schedule its replicas (condition Scheduled False{}{}).",
            c.reason.map(|r| format!(", {r}")).unwrap_or_default(),
            c.message
                .filter(|m| !m.is_empty())
                .map(|m| format!(": {}", crate::text::one_line(m, 300)))
                .unwrap_or_default()
        ),
        _ => String::new(),
    }
}

static SINGLE_REPLICA: RuleInfo = RuleInfo {
    id: "storage.single-replica",
    title: "Longhorn volumes with a single replica",
    description: "spec.numberOfReplicas 1: one node or disk failure loses the data, and \
        Harvester refuses upgrades while such a volume is attached (C22/C23).",
    inputs: LH_INPUTS,
    versions: "all",
};

fn single_replica(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    if cx.index.of_kind("", "Node").count() <= 1 {
        return Vec::new();
    }
    volumes(cx)
        .filter(|(_, t)| t.number_of_replicas() == Some(1))
        .map(|(o, t)| {
            finding(
                "storage.single-replica",
                subject(o, ""),
                Severity::Warning,
                format!(
                    "Longhorn volume {}{} has a single replica",
                    o.key.name,
                    pvc_of(t)
                ),
                format!(
                    "numberOfReplicas is 1 (state {}).",
                    t.state().unwrap_or("?")
                ),
                o,
                cx,
                Some("numberOfReplicas"),
                format!(
                    "Raise the replica count in the Longhorn UI, or with:\n$ kubectl -n longhorn-system \
                     patch volumes.longhorn.io {} --type merge -p \
                     '{{\"spec\":{{\"numberOfReplicas\":3}}}}'",
                    o.key.name
                ),
            )
        })
        .collect()
}

static ONE_NODE: RuleInfo = RuleInfo {
    id: "storage.replicas-one-node",
    title: "Volumes whose replicas all sit on one node",
    description: "A volume with several replicas, all on the same node: the node is a single \
        point of failure for it.",
    inputs: LH_INPUTS,
    versions: "all",
};

fn replicas_one_node(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let by_volume = replicas_by_volume(cx);
    volumes(cx)
        .filter_map(|(o, t)| {
            let reps = by_volume
                .get(o.key.name.as_str())
                .cloned()
                .unwrap_or_default();
            if reps.len() < 2 {
                return None;
            }
            let nodes: std::collections::BTreeSet<&str> =
                reps.iter().filter_map(|(_, rt)| rt.node_id()).collect();
            (nodes.len() == 1).then(|| {
                let node = nodes.iter().next().copied().unwrap_or("");
                finding(
                    "storage.replicas-one-node",
                    subject(o, ""),
                    Severity::Warning,
                    format!(
                        "All {} replicas of volume {}{} are on {node}",
                        reps.len(),
                        o.key.name,
                        pvc_of(t)
                    ),
                    format!(
                        "Replicas: {}.",
                        reps.iter()
                            .map(|(r, _)| r.key.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    o,
                    cx,
                    None,
                    "Turn Longhorn's setting replica-soft-anti-affinity off (hard \
                     anti-affinity), then delete one replica so it is rebuilt on another node."
                        .into(),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::TestBed;

    const CORDONED: &str =
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  unschedulable: true\n";
    const MAINTENANCE: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n  annotations:\n    harvesterhci.io/maintain-status: completed\nspec:\n  unschedulable: true\n";
    const SCHEDULABLE: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n3\n";

    #[test]
    fn cordoned_nodes_and_the_webhook_text_of_the_running_version() {
        let rule = RuleDef::new(NODE_CORDONED, node_cordoned);
        let f = TestBed::new(&[CORDONED, MAINTENANCE, SCHEDULABLE], Some("v1.4.0")).run(&rule);
        let ids: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["node.cordoned:Node/n1", "node.cordoned:Node/n2"]);
        assert!(f[0].remediation.ends_with("\n$ kubectl uncordon n1"));
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[1].remediation.contains("Disable Maintenance Mode"));
        assert!(!f[1].remediation.contains("$ kubectl uncordon"));
        assert!(f[1].title.contains("maintenance mode (completed)"));
        assert!(f[0].summary.contains(
            "denied the request: node n1 is unschedulable, please wait for it to be schedulable"
        ));
        // v1.1.0 has no C15; an unknown version is not quoted either.
        for v in [Some("v1.1.0"), None] {
            let f = TestBed::new(&[CORDONED], v).run(&rule);
            assert_eq!(f.len(), 1);
            assert!(!f[0].summary.contains("webhook"), "{v:?}: {}", f[0].summary);
        }
    }

    const UPGRADE: &str = "apiVersion: harvesterhci.io/v1beta1\nkind: Upgrade\nmetadata:\n  \
        name: hvst-upgrade-a\n  namespace: harvester-system\n  labels:\n    \
        harvesterhci.io/upgradeState: UpgradingNodes\nstatus:\n  nodeStatuses:\n    n1:\n      \
        state: Pre-drained\n";
    #[test]
    fn a_running_upgrades_cordon_is_its_state_not_a_problem() {
        let rule = RuleDef::new(NODE_CORDONED, node_cordoned);
        let f = TestBed::new(&[CORDONED, UPGRADE], Some("v1.4.0")).run(&rule);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(
            f[0].title,
            "Node n1 is cordoned by upgrade hvst-upgrade-a (node state Pre-drained)"
        );
        assert!(
            f[0].summary
                .contains("lifted when the node's upgrade completes")
        );
        assert!(!f[0].remediation.contains("$ kubectl uncordon"));
        // Once the upgrade failed, nothing owns the cordon: uncordon is the fix again.
        let failed = UPGRADE.replace("UpgradingNodes", "Failed");
        let f = TestBed::new(&[CORDONED, &failed], Some("v1.4.0")).run(&rule);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].remediation.contains("$ kubectl uncordon n1"));
    }

    const FAULTED: &str = "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  \
        name: pvc-9\n  namespace: longhorn-system\nspec:\n  numberOfReplicas: 2\nstatus:\n  \
        state: detached\n  robustness: faulted\n  conditions:\n  - type: Scheduled\n    \
        status: \"False\"\n    reason: ReplicaSchedulingFailure\n    \
        message: insufficient storage\n  kubernetesStatus:\n    namespace: default\n    \
        pvcName: disk-9\n";
    const REPLICA_GONE: &str = "apiVersion: longhorn.io/v1beta2\nkind: Replica\nmetadata:\n  \
        name: pvc-9-r-1\n  namespace: longhorn-system\nspec:\n  volumeName: pvc-9\n  \
        nodeID: old-node\n  failedAt: \"2025-02-14T09:00:00Z\"\nstatus:\n  currentState: stopped\n";
    const POD_9: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: virt-launcher-vm9-x\n  \
        namespace: default\nspec:\n  volumes:\n  - name: d\n    persistentVolumeClaim:\n      \
        claimName: disk-9\nstatus:\n  phase: Pending\n";

    #[test]
    fn a_faulted_volume_says_why_and_explains_the_pods_that_mount_it() {
        let rule = RuleDef::new(VOLUME_HEALTH, volume_health);
        let f = TestBed::new(&[FAULTED, REPLICA_GONE, POD_9], None).run(&rule);
        assert_eq!(f.len(), 1);
        let faulted = &f[0];
        assert_eq!(faulted.severity, Severity::Error);
        assert_eq!(
            faulted.title,
            "Longhorn volume pvc-9 (PVC default/disk-9) is faulted"
        );
        assert!(
            faulted.summary.contains(
                "pvc-9-r-1 on old-node (no Node of that name in the capture): stopped, failed at \
             2025-02-14T09:00:00Z"
            ),
            "{}",
            faulted.summary
        );
        assert!(faulted.summary.contains(
            "Longhorn cannot schedule its replicas (condition Scheduled False, \
             ReplicaSchedulingFailure: insufficient storage)."
        ));
        assert!(
            faulted
                .summary
                .contains("Used by: pod default/virt-launcher-vm9-x.")
        );
        assert_eq!(faulted.explains, ["Pod/default/virt-launcher-vm9-x"]);
        // Detached with an unknown robustness while the pod waits: the detached finding.
        let unknown = FAULTED.replace("robustness: faulted", "robustness: unknown");
        let f = TestBed::new(&[&unknown, POD_9], None).run(&rule);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].id,
            "storage.volume-health:Volume/longhorn-system/pvc-9"
        );
        assert_eq!(
            f[0].title,
            "Longhorn volume pvc-9 (PVC default/disk-9) is detached while pod \
             default/virt-launcher-vm9-x needs it"
        );
        assert_eq!(f[0].explains, ["Pod/default/virt-launcher-vm9-x"]);
        // Nothing mounts it: a detached volume is just detached.
        assert!(TestBed::new(&[&unknown], None).run(&rule).is_empty());
        let f = TestBed::new(&[FAULTED, REPLICA_GONE], None).run(&rule);
        assert_eq!(f.len(), 1);
        assert!(f[0].explains.is_empty());
    }
}
