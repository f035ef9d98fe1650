//! What the nodes themselves say: `node.kernel-errors` (filesystem, block I/O, hung-task and
//! OOM lines of the node bundles' kernel logs, counted per node and device, tied to the pod
//! whose process the lines name and to its volume), `node.ghost` (node names that events and
//! Longhorn objects still use but no Node object has) and `node.system-restarts` (restarted
//! containers of system pods, with their last exit and the end of the previous log). The kernel
//! logs are read before the rules (`analyze::scan_kernel`, `facts::kernel`); rules read the
//! result. `node.service-failures` (rke2, kubelet and containerd failures in the node
//! bundles' service logs) and `node.clock-skew` (etcd's clock-drift warnings, x509 "not yet
//! valid" errors, node log lines dated after the bundle could have been collected) read
//! `facts::services`, filled in the same pass.
use std::collections::{BTreeMap, BTreeSet};

use super::{
    CheckStatus, Context, Evidence, Finding, Input, ObjectRef, Rule, RuleDef, RuleInfo, Severity,
    SubCheck, SubChecks,
};
use crate::facts::input::lists;
use crate::facts::kernel::{Group, Kind};
use crate::index::Object;
use crate::model::typed::longhorn::{LhReplica, LhVolume};
use crate::model::views::View;
use crate::text::{grouped, plural};

/// The rules of this family.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(RuleDef::new(KERNEL_ERRORS, kernel_errors)),
        Box::new(RuleDef::new(GHOST_NODES, ghost_nodes)),
        Box::new(RuleDef::new(SYSTEM_RESTARTS, system_restarts)),
        Box::new(RuleDef::new(SERVICE_FAILURES, service_failures)),
        Box::new(RuleDef {
            info: CLOCK_SKEW,
            eval: clock_skew,
            checks: Some(SubChecks {
                ids: clock_ids,
                run: clock_run,
            }),
            only: None,
            explain: None,
            needs: None,
        }),
    ]
}

// ---------------------------------------------------------------- kernel errors

static KERNEL_ERRORS: RuleInfo = RuleInfo {
    id: "node.kernel-errors",
    title: "Kernel storage, filesystem and memory errors on nodes",
    description: "Filesystem errors (EXT4/XFS, remounts read-only), block I/O errors, hung \
        tasks and OOM kills in the kernel logs of the node bundles, counted per node and device \
        with the first and last line, the processes the lines name, and the pod (and its \
        volume) that likely runs that process on the node. A filesystem failing under a running \
        pod loses or corrupts its data while Kubernetes still shows the pod Running.",
    inputs: &[Input::NodeBundles],
    versions: "all",
};

/// Pods on `node` that likely run `comm`: a container named like the process (`prometheus`),
/// or whose name starts the process name (`grafana` for `grafana-server`).
fn pods_running<'a>(cx: &'a Context, node: &str, comm: &str) -> Vec<(&'a Object, String)> {
    let matches = |name: &str| {
        name.len() >= 4
            && (comm == name
                || comm
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(['-', '_'])))
    };
    cx.index
        .of_kind("", "Pod")
        .filter_map(|p| {
            let View::Pod(v) = &p.view else { return None };
            if v.node_name.as_deref() != Some(node)
                || p.status.phase.as_deref() == Some("Succeeded")
            {
                return None;
            }
            let c = v.containers.iter().find(|c| matches(&c.name))?;
            Some((p, c.name.clone()))
        })
        .collect()
}

/// The PersistentVolumeClaims a pod mounts, with their PersistentVolumes when captured.
fn volumes_of<'a>(
    cx: &'a Context,
    pod: &Object,
) -> Vec<(String, Option<&'a Object>, Option<&'a Object>)> {
    let View::Pod(v) = &pod.view else {
        return Vec::new();
    };
    v.claims
        .iter()
        .map(|claim| {
            let pvc = cx
                .index
                .find("", "PersistentVolumeClaim", &pod.key.namespace, claim);
            let pv = cx.index.of_kind("", "PersistentVolume").find(|pv| {
                matches!(&pv.view, View::PersistentVolume(v)
                    if v.claim_namespace.as_deref() == Some(pod.key.namespace.as_str())
                        && v.claim_name.as_deref() == Some(claim.as_str()))
            });
            (claim.clone(), pvc, pv)
        })
        .collect()
}

fn kernel_errors(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for nk in cx.kernel {
        for g in &nk.groups {
            out.push(kernel_finding(info, cx, g, nk.suppressed_fs));
        }
    }
    out
}

fn kernel_finding(info: &RuleInfo, cx: &Context, g: &Group, suppressed: u64) -> Finding {
    let node = &g.node;
    let on = g
        .device
        .as_deref()
        .map(|d| format!(" on device {d}"))
        .unwrap_or_default();
    let severity = match g.kind {
        Kind::Filesystem | Kind::Io => Severity::Error,
        Kind::HungTask | Kind::OomKill => Severity::Warning,
    };
    let comms: Vec<String> = {
        let mut v: Vec<(&String, &u64)> = g.comms.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.into_iter()
            .map(|(c, n)| format!("{c} ({})", grouped(*n)))
            .collect()
    };
    let by = if comms.is_empty() {
        String::new()
    } else {
        format!(
            ", process{} {}",
            if comms.len() > 1 { "es" } else { "" },
            comms.join(", ")
        )
    };
    let title = format!(
        "Node {node}: {} {}{on}{by}",
        grouped(g.count),
        match (g.kind, g.count) {
            (Kind::Filesystem, 1) => "filesystem error",
            (Kind::Io, 1) => "block I/O error",
            (Kind::HungTask, 1) => "hung task",
            (Kind::OomKill, 1) => "OOM kill",
            (k, _) => k.words(),
        }
    );
    let mut summary = if g.count == 1 {
        format!(
            "The kernel log of node {node} holds 1 line of {}{on}, at {} ({}:{}).",
            g.kind.words(),
            or_unknown(&g.first.when),
            g.first.file,
            g.first.line,
        )
    } else {
        format!(
            "The kernel log of node {node} holds {} lines of {}{on}, the first logged at {} \
             ({}:{}), the last at {} ({}:{}).",
            grouped(g.count),
            g.kind.words(),
            or_unknown(&g.first.when),
            g.first.file,
            g.first.line,
            or_unknown(&g.last.when),
            g.last.file,
            g.last.line,
        )
    };
    summary.push_str(&format!(
        " {}: \"{}\".",
        if g.count == 1 {
            "The line"
        } else {
            "Last line"
        },
        g.last.text
    ));
    if let Some(n) = g.fsck_errors {
        summary.push_str(&format!(
            " The filesystem itself counts {} errors since its last fsck{}.",
            grouped(n),
            g.first_error
                .as_deref()
                .map(|t| format!(", the first at {t}"))
                .unwrap_or_default()
        ));
    }
    if g.read_only {
        summary.push_str(" The kernel remounted the filesystem read-only (or shut it down).");
    }
    if g.kind == Kind::Filesystem && suppressed > 0 {
        summary.push_str(&format!(
            " The kernel also suppressed {} filesystem error messages on this node (rate \
             limit; they name no device).",
            grouped(suppressed)
        ));
    }
    // The Node is the subject (in the id), not an object: the finding does not explain
    // everything else about the node (its cordon, its other pods).
    let mut objects: Vec<ObjectRef> = Vec::new();
    let mut evidence = vec![Evidence::lines(
        g.first.file.clone(),
        g.first.line,
        g.first.line,
    )];
    if (g.last.file.as_str(), g.last.line) != (g.first.file.as_str(), g.first.line) {
        evidence.push(Evidence::lines(
            g.last.file.clone(),
            g.last.line,
            g.last.line,
        ));
    }
    // The pods that likely run the processes, and what they mount.
    let mut tied = Vec::new();
    let mut explains = Vec::new();
    for comm in g.comms.keys() {
        for (pod, container) in pods_running(cx, node, comm) {
            objects.push(ObjectRef::of(pod));
            explains.push(ObjectRef::of(pod).subject());
            let vols = volumes_of(cx, pod);
            let mut words = format!(
                "process {comm} likely runs in container {container} of pod {}/{}",
                pod.key.namespace, pod.key.name
            );
            if g.device.is_some() && !vols.is_empty() {
                let names: Vec<String> = vols
                    .iter()
                    .map(|(claim, pvc, pv)| {
                        if let Some(o) = pvc {
                            objects.push(ObjectRef::of(o));
                        }
                        if let Some(o) = pv {
                            objects.push(ObjectRef::of(o));
                        }
                        match pv {
                            Some(pv) => format!("PVC {claim} (PV {})", pv.key.name),
                            None => format!("PVC {claim}"),
                        }
                    })
                    .collect();
                words.push_str(&format!(
                    ", which mounts {}{}",
                    names.join(", "),
                    if names.len() > 1 {
                        format!(
                            ": {} is likely one of them",
                            g.device.as_deref().unwrap_or("")
                        )
                    } else {
                        format!(
                            ", likely the volume on {}",
                            g.device.as_deref().unwrap_or("")
                        )
                    }
                ));
            }
            evidence.push(Evidence::of(cx.index, pod, Some("nodeName:")));
            tied.push(words);
        }
    }
    if !tied.is_empty() {
        summary.push_str(&format!(
            " The lines name the process, not the pod: {} (matched by container name on {node}).",
            tied.join("; ")
        ));
    }
    // The device as a Longhorn disk: its BlockDevice, the disk mounted from it, the replicas.
    let lh_disk = match (g.kind, g.device.as_deref()) {
        (Kind::Filesystem | Kind::Io, Some(d)) => {
            crate::facts::storage::device_disk(cx.index, node, d)
        }
        _ => None,
    };
    if let Some(dd) = &lh_disk {
        objects.push(ObjectRef::of(dd.block_device));
        evidence.push(Evidence::of(
            cx.index,
            dd.block_device,
            Some(&format!("devPath: {}", dd.dev_path)),
        ));
        summary.push_str(&disk_words(cx, node, g.device.as_deref().unwrap_or(""), dd));
        for r in &dd.replicas {
            objects.push(ObjectRef::of(r));
            explains.push(ObjectRef::of(r).subject());
            if let Some(v) = LhReplica::of(*r)
                .and_then(|x| x.volume_name())
                .and_then(|v| cx.index.find("longhorn.io", "Volume", "longhorn-system", v))
            {
                objects.push(ObjectRef::of(v));
            }
        }
    }
    objects.sort();
    objects.dedup();
    let previous_boot = if g.last.file.ends_with("kernel.log.1") {
        " -p"
    } else {
        ""
    };
    let pattern = match (g.kind, g.device.as_deref()) {
        (_, Some(d)) => d,
        (Kind::HungTask, None) => "blocked for more than",
        (_, None) => "Killed process",
    };
    let logs = cx.sbdiag(
        "logs",
        &format!(
            "{node} -c kernel{previous_boot} --grep {}",
            crate::text::shell_quote(pattern)
        ),
    );
    let remediation = match g.kind {
        Kind::Filesystem | Kind::Io => match lh_disk
            .as_ref()
            .and_then(|dd| dd.longhorn_disk.map(|(_, disk)| (disk, dd.dev_path)))
        {
            // A Longhorn disk: its replicas move, the disk is replaced; no pod mounts it.
            Some((disk, dev)) => format!(
                "Read the kernel log around the cited lines:\n$ {logs}\n\
                 It is Longhorn disk {disk} of node {node}: check the disk's health (`smartctl -a \
                 {dev}` on the node), disable scheduling on that disk and request eviction of its \
                 replicas (Longhorn UI, Node → Edit node and disks); replace the disk once no \
                 replica is left on it."
            ),
            None => format!(
                "Read the kernel log around the cited lines:\n$ {logs}\n{}\
                 On the node, find what {} is (`lsblk -o NAME,SIZE,MOUNTPOINT` and `ls -l /dev/longhorn/` \
                 map a Longhorn volume to its device) and which pod mounts it.\n\
                 Stop the workload that uses it before repairing: a filesystem check on a mounted \
                 filesystem corrupts it further. For a Longhorn volume, scale the workload down, \
                 then check the volume's replicas in the Longhorn UI; run `fsck` only on the \
                 detached volume.",
                if g.kind == Kind::Io {
                    "If it is a physical disk, check its health (`smartctl -a` on the node) and, \
                     when it is a Longhorn disk, disable scheduling on it and request eviction of \
                     its replicas (Longhorn UI, Node → Edit disks) before replacing it.\n"
                } else {
                    ""
                },
                g.device.as_deref().unwrap_or("the device")
            ),
        },
        Kind::HungTask => format!(
            "Read the kernel log around the cited lines (a hung task usually waits on storage \
             or the network):\n$ {logs}"
        ),
        Kind::OomKill => format!(
            "Read the kernel log around the cited lines; raise the memory limit of the killed \
             process's pod or free memory on the node:\n$ {logs}"
        ),
    };
    let subject = format!(
        "Node/{node}:{}{}",
        g.kind.slug(),
        g.device
            .as_deref()
            .map(|d| format!(":{d}"))
            .unwrap_or_default()
    );
    let disk = g
        .device
        .as_deref()
        .map(|d| super::finding::topic::disk(node, d));
    if let (Some(d), Kind::Io) = (&disk, g.kind) {
        explains.push(d.clone());
    }
    let f = Finding::new(info.id, subject, severity, title)
        .with_summary(summary)
        .with_objects(objects)
        .with_evidence(evidence)
        .explaining(explains)
        .with_remediation(remediation);
    match (disk, g.kind) {
        (Some(d), Kind::Filesystem) => f.with_topic(d),
        _ => f,
    }
}

/// What a device is to Longhorn, in words: its BlockDevice, the Longhorn disk mounted from it
/// and the volumes whose replicas are on it.
fn disk_words(
    cx: &Context,
    node: &str,
    device: &str,
    dd: &crate::facts::storage::DeviceDisk,
) -> String {
    let bd = format!(
        " Device {device} is {} on {node}: BlockDevice {}/{}",
        dd.dev_path, dd.block_device.key.namespace, dd.block_device.key.name
    );
    let Some(mount) = dd.mount_point else {
        return format!(
            "{bd}, which Harvester shows not provisioned (no mount point): it is not a Longhorn \
             disk."
        );
    };
    let Some((_, disk)) = dd.longhorn_disk else {
        return format!("{bd}, mounted at {mount}; no disk of Longhorn node {node} has that path.");
    };
    if dd.replicas.is_empty() {
        return format!(
            "{bd}, mounted at {mount} as Longhorn disk {disk} of node {node}, which holds no \
             replica."
        );
    }
    let mut by_volume: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &dd.replicas {
        let lr = LhReplica::of(*r);
        let v = lr.and_then(|x| x.volume_name()).unwrap_or_default();
        let state = match (
            lr.and_then(|x| x.failed_at()).filter(|t| !t.is_empty()),
            lr.and_then(|x| x.current_state()),
        ) {
            (Some(t), _) => format!(", failed at {t}"),
            (None, Some(s)) => format!(", {s}"),
            (None, None) => String::new(),
        };
        by_volume
            .entry(v.to_string())
            .or_default()
            .push(format!("{}{state}", r.key.name));
    }
    let volumes: Vec<String> = by_volume
        .iter()
        .map(|(v, reps)| {
            let claim = cx
                .index
                .find("longhorn.io", "Volume", "longhorn-system", v)
                .and_then(LhVolume::of)
                .and_then(|lv| lv.pvc())
                .map(|(ns, n)| format!(", PVC {ns}/{n}"))
                .unwrap_or_default();
            format!("{v} (replica {}{claim})", reps.join(", "))
        })
        .collect();
    format!(
        "{bd}, mounted at {mount} as Longhorn disk {disk} of node {node}, which holds {} of {}: \
         {}. Replicas on a failing disk fail with it: those volumes likely stay available only \
         through their replicas on other disks.",
        plural(dd.replicas.len(), "replica", "replicas"),
        plural(by_volume.len(), "volume", "volumes"),
        volumes.join("; ")
    )
}

fn or_unknown(when: &str) -> &str {
    if when.is_empty() {
        "an unknown time"
    } else {
        when
    }
}

// ---------------------------------------------------------------- ghost nodes

static GHOST_NODES: RuleInfo = RuleInfo {
    id: "node.ghost",
    title: "Node names in use with no Node object",
    description: "Events (about a Node, or reported by a node's kubelet) and Longhorn objects \
        (nodes.longhorn.io, replicas and engines by spec.nodeID, instance and backing-image \
        managers by their longhorn.io/node label) that name a node no Node object has: a \
        removed or renamed node whose leftovers remain, or a machine whose kubelet still \
        reports to the cluster without being a member.",
    inputs: &[Input::Resources, lists::NODES],
    versions: "all",
};

/// One reference to a node name.
struct NodeRef<'a> {
    object: &'a Object,
    /// How it names the node (`spec.nodeID`, `involvedObject`, …).
    how: &'static str,
    /// Text to focus the evidence on.
    focus: String,
}

/// Every node name the capture uses outside Node objects, with what uses it.
fn node_references<'a>(cx: &'a Context) -> BTreeMap<String, Vec<NodeRef<'a>>> {
    let mut refs: BTreeMap<String, Vec<NodeRef>> = BTreeMap::new();
    let mut add = |name: &str, object: &'a Object, how: &'static str, focus: String| {
        if !name.is_empty() && name != "null" {
            refs.entry(name.to_string())
                .or_default()
                .push(NodeRef { object, how, focus });
        }
    };
    for e in cx
        .index
        .of_kind("", "Event")
        .chain(cx.index.of_kind("events.k8s.io", "Event"))
    {
        let View::Event(v) = &e.view else { continue };
        if &*v.regarding.kind == "Node" {
            add(
                &v.regarding.name,
                e,
                "is about Node",
                format!("name: {}", v.regarding.name),
            );
        } else if let Some(h) = &v.host {
            add(h, e, "was reported from host", format!("host: {h}"));
        }
    }
    for o in cx.index.primary().filter(|o| o.key.group == "longhorn.io") {
        if o.key.kind == "Node" {
            add(
                &o.key.name,
                o,
                "is the Longhorn node",
                format!("name: {}", o.key.name),
            );
            continue;
        }
        if let Some(n) = o.tree().and_then(|t| t.str("/spec/nodeID")) {
            add(n, o, "has spec.nodeID", format!("nodeID: {n}"));
        } else if let Some(n) = o.meta.labels.get("longhorn.io/node") {
            add(
                n,
                o,
                "has label longhorn.io/node",
                format!("longhorn.io/node: {n}"),
            );
        }
    }
    for p in cx.index.of_kind("", "Pod") {
        if let View::Pod(v) = &p.view
            && let Some(n) = &v.node_name
        {
            add(n, p, "is scheduled on", format!("nodeName: {n}"));
        }
    }
    refs
}

/// Events from a node within this many seconds of capture mean its kubelet still runs.
const ALIVE_WITHIN: i64 = 3600;

fn ghost_nodes(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let nodes: BTreeSet<&str> = cx
        .index
        .of_kind("", "Node")
        .map(|n| n.key.name.as_str())
        .collect();
    if nodes.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, refs) in node_references(cx) {
        if nodes.contains(name.as_str()) {
            continue;
        }
        let mut lines = Vec::new();
        let mut latest: Option<(i64, String)> = None;
        let mut kinds: BTreeSet<&str> = BTreeSet::new();
        for r in &refs {
            kinds.insert(r.object.key.kind.as_str());
            let what = format!(
                "{} {}{} {} {name}",
                r.object.key.kind,
                if r.object.key.namespace.is_empty() {
                    String::new()
                } else {
                    format!("{}/", r.object.key.namespace)
                },
                r.object.key.name,
                r.how
            );
            let detail = match &r.object.view {
                View::Event(v) => {
                    if let Some(last) = &v.last
                        && let Some(age) = crate::model::Age::at(Some(last), cx.created_at)
                        && latest.as_ref().is_none_or(|l| age.0 < l.0)
                    {
                        latest = Some((age.0, last.clone()));
                    }
                    format!(
                        " ({}, count {}, last {})",
                        v.reason.as_deref().unwrap_or("no reason"),
                        grouped(v.count.max(0) as u64),
                        cx.ago(v.last.as_deref())
                    )
                }
                _ => String::new(),
            };
            lines.push(format!("{what}{detail}"));
        }
        let alive = latest.as_ref().is_some_and(|l| l.0 <= ALIVE_WITHIN);
        let shown: Vec<&String> = lines.iter().take(8).collect();
        let mut summary = format!(
            "No Node {name} exists in the capture, yet {} name{} it: {}{}.",
            plural(refs.len(), "object", "objects"),
            if refs.len() == 1 { "s" } else { "" },
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            if lines.len() > shown.len() {
                format!("; and {} more", lines.len() - shown.len())
            } else {
                String::new()
            }
        );
        if alive {
            summary.push_str(&format!(
                " An event about {name} was recorded {} before capture: a kubelet likely still \
                 runs under that name and reports to this cluster without a Node object (a \
                 removed node whose machine kept running, a renamed node, or one whose \
                 registration fails).",
                crate::model::Age(latest.as_ref().map(|l| l.0).unwrap_or(0))
            ));
        } else {
            summary.push_str(
                " Nothing shows it alive at capture: likely a removed or renamed node whose \
                 objects were left behind.",
            );
        }
        let mut remediation = String::new();
        if alive {
            remediation.push_str(&format!(
                "Find the machine whose kubelet reports as {name} (the events' source) and \
                 either join it to the cluster properly or stop rke2 on it:\n\
                 $ kubectl get events -A --field-selector involvedObject.name={name}\n"
            ));
        }
        let longhorn: Vec<&NodeRef> = refs
            .iter()
            .filter(|r| r.object.key.group == "longhorn.io")
            .collect();
        if !longhorn.is_empty() {
            remediation.push_str(&format!(
                "Longhorn objects still name {name}: check them before removing anything (a \
                 replica there may hold data no other copy has):\n\
                 $ kubectl -n longhorn-system get nodes.longhorn.io,replicas.longhorn.io,instancemanagers.longhorn.io,backingimagemanagers.longhorn.io -o wide\n\
                 Remove a node from Longhorn only once no replica or engine lists it, from the \
                 Longhorn UI (Node → Remove) or by deleting its nodes.longhorn.io object.\n"
            ));
        }
        if kinds.contains("Event") && !alive {
            remediation.push_str(
                "Old events expire by themselves (the API server's event TTL); nothing to do \
                 about them.\n",
            );
        }
        let evidence: Vec<Evidence> = refs
            .iter()
            .take(6)
            .map(|r| Evidence::of(cx.index, r.object, Some(&r.focus)))
            .collect();
        let mut objects: Vec<ObjectRef> = refs.iter().map(|r| ObjectRef::of(r.object)).collect();
        objects.sort();
        objects.dedup();
        out.push(
            Finding::new(
                info.id,
                format!("Node/{name}"),
                Severity::Warning,
                format!(
                    "Node {name} is named by {} but no Node object exists{}",
                    plural(refs.len(), "object", "objects"),
                    if alive {
                        " (its kubelet likely still reports)"
                    } else {
                        ""
                    }
                ),
            )
            .with_summary(summary)
            .with_objects(objects)
            .with_evidence(evidence)
            .with_remediation(remediation.trim_end().to_string()),
        );
    }
    out
}

// ---------------------------------------------------------------- system pod restarts

static SYSTEM_RESTARTS: RuleInfo = RuleInfo {
    id: "node.system-restarts",
    title: "Restarted containers of system pods",
    description: "Containers of pods in kube-system, harvester-system, longhorn-system and \
        cattle-system (kube-vip, etcd, kube-apiserver, the rke2 components, Harvester and \
        Longhorn) that restarted: the restart count, the last exit reason and code, and the \
        end of the previous instance's log when the bundle has it (`.log.1`). A warning when \
        the container is not ready now, or restarted 3 times or more with the last exit \
        within a day of capture.",
    inputs: &[Input::Resources, Input::Resource("", "pods")],
    versions: "all",
};

/// Namespaces whose pods are the system's own.
const SYSTEM_NAMESPACES: &[&str] = &[
    "kube-system",
    "harvester-system",
    "longhorn-system",
    "cattle-system",
];

/// A restart this recent (seconds before capture), after [`REPEATED_RESTARTS`] or more,
/// makes the finding a warning.
const RECENT_RESTART: i64 = 24 * 3600;

/// Restarts that make a recent last exit a warning.
const REPEATED_RESTARTS: i64 = 3;

fn system_restarts(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in cx.index.of_kind("", "Pod") {
        if !SYSTEM_NAMESPACES.contains(&p.key.namespace.as_str()) {
            continue;
        }
        let View::Pod(v) = &p.view else { continue };
        for c in &v.container_statuses {
            let restarts = c.restart_count.unwrap_or(0);
            if restarts <= 0 {
                continue;
            }
            let last = c.last_state.terminated.as_deref();
            let finished = last.and_then(|t| t.finished_at.as_deref());
            let recent = crate::model::Age::at(finished, cx.created_at)
                .is_some_and(|a| a.0 <= RECENT_RESTART);
            let ready = c.ready == Some(true);
            // One restart (a reboot, an upgrade) is routine; repeated recent ones are not.
            let severity = if !ready || (recent && restarts >= REPEATED_RESTARTS) {
                Severity::Warning
            } else {
                Severity::Info
            };
            let on = v
                .node_name
                .as_deref()
                .map(|n| format!(" on {n}"))
                .unwrap_or_default();
            let exit = match last {
                Some(t) => format!(
                    "last exit {}{} at {}",
                    t.reason.as_deref().unwrap_or("without a reason"),
                    t.exit_code
                        .map(|c| format!(" (exit code {c})"))
                        .unwrap_or_default(),
                    cx.ago(finished)
                ),
                None => "the last exit is not in the capture".to_string(),
            };
            let mut summary = format!(
                "Container {} of pod {}/{}{on} restarted {} ({exit}); {} at capture.",
                c.name,
                p.key.namespace,
                p.key.name,
                plural(restarts as usize, "time", "times"),
                if ready {
                    "it is ready"
                } else {
                    "it is not ready"
                }
            );
            if let Some(msg) = last
                .and_then(|t| t.message.as_deref())
                .filter(|m| !m.is_empty())
            {
                summary.push_str(&format!(
                    " Its last termination message: \"{}\".",
                    crate::text::one_line(msg, 300)
                ));
            }
            let mut evidence = vec![Evidence::of(cx.index, p, Some("restartCount:"))];
            let previous = format!("logs/{}/{}/{}.log.1", p.key.namespace, p.key.name, c.name);
            let has_previous = cx.files.iter().any(|f| f.path == previous);
            if has_previous {
                summary.push_str(&format!(
                    " The previous instance's log ({previous}) ends with the lines shown as \
                     evidence."
                ));
                evidence.push(Evidence::log_tail(previous.clone(), ""));
            } else {
                summary.push_str(
                    " The bundle has no log of the previous instance (a .log.1 file: collected \
                     since support-bundle-kit v0.0.26, when the kubelet still kept it).",
                );
            }
            let causes: Vec<&crate::facts::logcause::CauseLine> = cx
                .log_causes(&p.key.namespace, &p.key.name)
                .filter(|l| l.container == c.name)
                .collect();
            if !causes.is_empty() {
                let (words, ev) = super::quote_causes(&causes);
                summary.push_str(&format!(" Likely cause: {}.", words.join("; ")));
                evidence.extend(ev);
            }
            let logs = cx.sbdiag(
                "logs",
                &format!("-n {} {} -c {}", p.key.namespace, p.key.name, c.name),
            );
            out.push(
                Finding::about(
                    info.id,
                    p,
                    severity,
                    format!(
                        "{} {}/{} restarted {}, {}",
                        c.name,
                        p.key.namespace,
                        p.key.name,
                        plural(restarts as usize, "time", "times"),
                        last.map(|t| format!(
                            "last exit {}",
                            t.reason.as_deref().unwrap_or("without a reason")
                        ))
                        .unwrap_or_else(|| "last exit not captured".into())
                    ),
                )
                .with_subject_aspect(&c.name)
                .with_summary(summary)
                .with_evidence(evidence)
                .with_remediation(format!(
                    "Read the container's log around its restarts:\n$ {logs}\n\
                     On a live cluster, the previous instance's log is what \
                     `kubectl logs --previous` prints:\n\
                     $ kubectl logs -n {} {} -c {} --previous",
                    p.key.namespace, p.key.name, c.name
                )),
            );
        }
    }
    out
}

// ---------------------------------------------------------------- service failures

static SERVICE_FAILURES: RuleInfo = RuleInfo {
    id: "node.service-failures",
    title: "rke2, kubelet and containerd failures in the node logs",
    description: "systemd's `Main process exited … status=1/FAILURE`, `Failed with result` and \
        `Start request repeated too quickly` lines in the rke2-server and rke2-agent journals, \
        and the services' own fatal lines (`level=fatal`, klog `F…`, `failed to run Kubelet`, \
        `panic:`) in those journals, kubelet.log and containerd.log, counted per node and \
        service with the first and last line. One failure is not reported (rke2 commonly \
        exits once at boot while etcd or the server is not up yet, and systemd restarts it): \
        two or more are a warning, an error when systemd stopped restarting the unit and the \
        journal shows no start after it.",
    inputs: &[Input::NodeBundles],
    versions: "all",
};

/// Failures of one service on one node below which nothing is reported (one exit at boot is
/// routine; see the rule's description).
const MIN_FAILURES: u64 = 2;

fn service_failures(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for ns in cx.services {
        for f in &ns.failures {
            if f.failures() < MIN_FAILURES && f.start_limit == 0 {
                continue;
            }
            out.push(service_finding(info, cx, f));
        }
    }
    out
}

fn service_finding(info: &RuleInfo, cx: &Context, f: &crate::facts::services::Failures) -> Finding {
    let node = &f.node;
    let svc = f.service.name();
    let n = f.failures();
    let gave_up = f.start_limit > 0 && !f.restarted_after;
    let severity = if gave_up {
        Severity::Error
    } else {
        Severity::Warning
    };
    let title = format!(
        "Node {node}: {svc} failed {}{}",
        plural(n as usize, "time", "times"),
        if gave_up {
            ", systemd stopped restarting it"
        } else {
            ""
        }
    );
    let results = |r: &BTreeMap<String, u64>, pick: &dyn Fn(&str) -> bool| -> String {
        let v: Vec<String> = r
            .iter()
            .filter(|(k, _)| pick(k))
            .map(|(k, c)| format!("{k} ×{}", grouped(*c)))
            .collect();
        if v.is_empty() {
            String::new()
        } else {
            format!(" ({})", v.join(", "))
        }
    };
    let mut parts = Vec::new();
    if f.exits > 0 {
        parts.push(format!(
            "{} failing exit{}{}",
            grouped(f.exits),
            if f.exits == 1 { "" } else { "s" },
            results(&f.results, &|k| k.starts_with("status="))
        ));
    }
    if f.failed > 0 {
        parts.push(format!(
            "{} `Failed with result` line{}{}",
            grouped(f.failed),
            if f.failed == 1 { "" } else { "s" },
            results(&f.results, &|k| !k.starts_with("status="))
        ));
    }
    if f.fatal > 0 {
        parts.push(format!(
            "{} fatal line{} of {svc} itself",
            grouped(f.fatal),
            if f.fatal == 1 { "" } else { "s" }
        ));
    }
    if f.start_limit > 0 {
        parts.push(format!(
            "{} `Start request repeated too quickly`",
            grouped(f.start_limit)
        ));
    }
    let log = if f.service.is_unit() {
        format!("journal of {svc}.service")
    } else {
        format!("{svc}.log")
    };
    let mut summary = format!(
        "The {log} of node {node} holds {}: {svc} likely failed {}, the first failure line at \
         {} ({}:{}), the last at {} ({}:{}). Last line: \"{}\".",
        parts.join(", "),
        plural(n as usize, "time", "times"),
        or_unknown(&f.first.when),
        f.first.file,
        f.first.line,
        or_unknown(&f.last.when),
        f.last.file,
        f.last.line,
        f.last.text
    );
    if let Some(l) = f.last_fatal.as_ref().filter(|l| l.line != f.last.line) {
        summary.push_str(&format!(
            " The last fatal line of {svc} itself ({}:{}): \"{}\".",
            l.file, l.line, l.text
        ));
    }
    if gave_up {
        summary.push_str(&format!(
            " systemd stopped restarting {svc}.service (start limit hit) and the journal shows \
             no start after it: {svc} was likely not running when the node collected its logs."
        ));
    } else if f.service.is_unit() && f.restarted_after {
        summary.push_str(&format!(
            " systemd started {svc}.service again after the last failure."
        ));
    }
    let mut evidence = vec![Evidence::lines(
        f.first.file.clone(),
        f.first.line,
        f.first.line,
    )];
    for l in [Some(&f.last), f.last_fatal.as_ref()].into_iter().flatten() {
        if !evidence
            .iter()
            .any(|e| e.file == l.file && e.line == l.line)
        {
            evidence.push(Evidence::lines(l.file.clone(), l.line, l.line));
        }
    }
    let logs = cx.sbdiag(
        "logs",
        &format!(
            "{node} -c {svc} --grep {}",
            crate::text::shell_quote("fatal|Failed|exited|too quickly|panic")
        ),
    );
    let mut remediation = format!(
        "Read the {svc} log around the cited lines: the line before each failure says why it \
         exited.\n$ {logs}\nOn node {node}, check the service now:\n"
    );
    if f.service.is_unit() {
        remediation.push_str(&format!(
            "$ systemctl status {svc}\n$ journalctl -u {svc} -b --no-pager | tail -n 200\n"
        ));
        if gave_up {
            remediation.push_str(&format!(
                "Once the cause is fixed, clear the start limit and start it again:\n\
                 $ systemctl reset-failed {svc}\n$ systemctl start {svc}"
            ));
        }
    } else {
        remediation.push_str(&format!(
            "`systemctl status rke2-server` or `systemctl status rke2-agent` (rke2 runs {svc}); \
             its current log is /var/lib/rancher/rke2/agent/{}.",
            if f.service == crate::facts::services::Service::Kubelet {
                "logs/kubelet.log"
            } else {
                "containerd/containerd.log"
            }
        ));
    }
    Finding::new(info.id, format!("Node/{node}:{svc}"), severity, title)
        .with_summary(summary)
        .with_evidence(evidence)
        .with_remediation(remediation.trim_end().to_string())
        .with_topic(super::finding::topic::services(node))
}

// ---------------------------------------------------------------- clock skew

static CLOCK_SKEW: RuleInfo = RuleInfo {
    id: "node.clock-skew",
    title: "Node clocks out of step, where the logs show it",
    description: "Three signs a bundle can hold: etcd's `prober found high clock drift` \
        warnings (a member's clock over a second from a peer's; etcd pod logs), x509 \
        `certificate has expired or is not yet valid` errors in rke2, kubelet or containerd \
        logs (the node's clock behind the issuer's), and node log lines dated after the node \
        could have collected them (the last line of each kernel and service log against the \
        bundle's creation time plus the longest collection window). Each sub-check is \
        `not_evaluated` when the bundle lacks what it reads. A clock off by more than a few \
        seconds can fail certificate checks (rke2 and the kubelet then fail to start or to \
        join) and makes the nodes' logs disagree on when things happened.",
    inputs: &[Input::NodeBundles],
    versions: "all",
};

/// How long after the bundle's creation a node's logs can still be collected: the
/// node-collection timeout is 30 min and the generation timeout at most 50 min by default
/// (bundle-format.md §3.2); a node line dated later than this after `bundlecreatedat` means
/// the node's clock was ahead.
const COLLECTION_WINDOW_MIN: i64 = 60;

fn clock_ids() -> Vec<&'static str> {
    vec!["etcd-drift", "x509-not-yet-valid", "node-log-times"]
}

fn clock_skew(_info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    clock_run(cx).0
}

fn clock_run(cx: &Context) -> (Vec<Finding>, Vec<SubCheck>) {
    use crate::facts::services::{CLOCK_DRIFT_HIT, ETCD_PODS, parse_rfc3339};
    let info = &CLOCK_SKEW;
    let mut out = Vec::new();
    let mut subs = Vec::new();
    let check = |id, n: usize, evaluated: Result<(), String>| SubCheck {
        id,
        status: match (&evaluated, n) {
            (Err(_), _) => CheckStatus::NotEvaluated,
            (Ok(()), 0) => CheckStatus::Pass,
            _ => CheckStatus::Fail,
        },
        reason: match evaluated {
            Err(r) => r,
            Ok(()) if n == 0 => "nothing found".into(),
            Ok(()) => format!("{n} finding(s)"),
        },
    };
    // etcd's own measurement.
    let etcd_logs = cx.files.iter().any(|f| {
        matches!(&f.kind, crate::bundle::PathKind::PodLog { namespace, pod, .. }
            if namespace == ETCD_PODS.0 && pod.starts_with(ETCD_PODS.1))
    });
    let before = out.len();
    for h in cx.log_hits.iter().filter(|h| h.issue == CLOCK_DRIFT_HIT) {
        let pod = h.file.split('/').nth(2).unwrap_or("");
        let node = pod.strip_prefix(ETCD_PODS.1).unwrap_or(pod);
        let field = |k: &str| {
            h.text
                .split(&format!("\"{k}\":\""))
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        };
        let drift = field("clock-drift");
        let peer = field("remote-peer-id");
        let f = Finding::new(
            info.id,
            format!("Node/{node}:etcd-drift"),
            Severity::Warning,
            format!(
                "etcd on {node} found a peer's clock off{}",
                drift
                    .as_deref()
                    .map(|d| format!(" by {d}"))
                    .unwrap_or_default()
            ),
        )
        .with_summary(format!(
            "etcd on {node} logged \"prober found high clock drift\" {} ({}:{}){}: a member's \
             clock differs from a peer's by more than etcd's 1 s limit{}. Last line: \"{}\".",
            plural(h.count, "time", "times"),
            h.file,
            h.line,
            peer.as_deref()
                .map(|p| format!(", about peer {p}"))
                .unwrap_or_default(),
            drift
                .as_deref()
                .map(|d| format!(" (last measured {d})"))
                .unwrap_or_default(),
            h.text
        ))
        .with_evidence(vec![Evidence::lines(h.file.clone(), h.line, h.line)])
        .with_remediation(
            "Check time synchronisation on every node (`chronyc tracking` and `chronyc \
             sources`; Harvester configures NTP servers in the `ntp-servers` setting) and \
             fix the node whose offset is large."
                .to_string(),
        );
        // The etcd pod is not an object of it: the finding does not explain its restarts.
        out.push(f);
    }
    subs.push(check(
        "etcd-drift",
        out.len() - before,
        if etcd_logs {
            Ok(())
        } else {
            Err("no etcd pod log (logs/kube-system/etcd-*) in the bundle".into())
        },
    ));
    // x509 "not yet valid".
    let before = out.len();
    for ns in cx.services {
        let Some((count, l)) = &ns.not_yet_valid else {
            continue;
        };
        let node = &ns.node;
        // `current time A is before B`: the node's clock was at least B - A behind.
        let behind = l
            .text
            .split("current time ")
            .nth(1)
            .and_then(|r| {
                let mut w = r.split_whitespace();
                let a = w.next()?;
                let b = w.nth(2)?;
                let t = |x: &str| parse_rfc3339(x.trim_end_matches(['"', '\\', '.', ',']));
                Some(t(b)? - t(a)?)
            })
            .filter(|d| d.num_seconds() > 0)
            .map(|d| format!(" by at least {}", crate::model::Age(d.num_seconds())))
            .unwrap_or_default();
        out.push(
            Finding::new(
                info.id,
                format!("Node/{node}:x509-not-yet-valid"),
                Severity::Warning,
                format!(
                    "Node {node}'s clock was likely behind{behind}: {} x509 \"not yet valid\" {}",
                    grouped(*count),
                    if *count == 1 { "error" } else { "errors" }
                ),
            )
            .with_summary(format!(
                "The service logs of node {node} hold {} x509 \"certificate has expired or is \
                 not yet valid\" {} that say the current time is before a certificate's start; \
                 the last at {} ({}:{}): \"{}\". A certificate is not yet valid when the \
                 checking node's clock is behind the clock of the node that issued it: {node}'s \
                 clock was likely behind{behind} then.",
                grouped(*count),
                if *count == 1 { "line" } else { "lines" },
                or_unknown(&l.when),
                l.file,
                l.line,
                l.text
            ))
            .with_evidence(vec![Evidence::lines(l.file.clone(), l.line, l.line)])
            .with_remediation(format!(
                "On node {node}, compare its clock with a server node's (`date -u` on both) and \
                 check time synchronisation (`chronyc tracking`, the `ntp-servers` setting)."
            ))
            // A service of this node that failed on the same x509 error failed because of it.
            .explaining(
                ns.failures
                    .iter()
                    .any(|f| {
                        f.last_fatal
                            .as_ref()
                            .is_some_and(|l| l.text.contains("not yet valid"))
                    })
                    .then(|| super::finding::topic::services(node)),
            ),
        );
    }
    let dated = cx.services.iter().any(|s| s.newest.is_some());
    subs.push(check(
        "x509-not-yet-valid",
        out.len() - before,
        if cx.services.is_empty() {
            Err("no rke2, kubelet or containerd log in the node bundles".into())
        } else {
            Ok(())
        },
    ));
    // Node lines dated after the collection window.
    let before = out.len();
    if let Some(created) = cx.created_at {
        for ns in cx.services {
            let Some(l) = &ns.newest else { continue };
            let Some(t) = parse_rfc3339(&l.when) else {
                continue;
            };
            let after = (t - created).num_minutes();
            if after <= COLLECTION_WINDOW_MIN {
                continue;
            }
            let node = &ns.node;
            let ahead = crate::model::Age((after - COLLECTION_WINDOW_MIN) * 60);
            let late = crate::model::Age(after * 60);
            out.push(
                Finding::new(
                    info.id,
                    format!("Node/{node}:log-times"),
                    Severity::Warning,
                    format!("Node {node}: clock likely ahead by at least {ahead}"),
                )
                .with_summary(format!(
                    "Node {node}'s logs hold a line dated {} ({}:{}), {late} after the bundle \
                     was created ({}, the support-bundle manager's clock). A node collects its \
                     logs within {COLLECTION_WINDOW_MIN} min of that in the default settings \
                     (node-collection timeout 30 min, generation timeout at most 50 min), so \
                     {node}'s clock was likely ahead by at least {ahead}. The line: \"{}\".",
                    l.when,
                    l.file,
                    l.line,
                    created.format("%Y-%m-%dT%H:%M:%SZ"),
                    l.text
                ))
                .with_evidence(vec![Evidence::lines(l.file.clone(), l.line, l.line)])
                .with_remediation(format!(
                    "On node {node}, compare its clock with another node's (`date -u` on both) \
                     and check time synchronisation (`chronyc tracking`, the `ntp-servers` \
                     setting)."
                )),
            );
        }
    }
    subs.push(check(
        "node-log-times",
        out.len() - before,
        match (cx.created_at, dated) {
            (None, _) => Err("metadata.yaml has no bundlecreatedat".into()),
            (_, false) => Err(
                "no node log line with a full date (journal lines without a year header and \
                 a UTC zone cannot be placed)"
                    .into(),
            ),
            _ => Ok(()),
        },
    ));
    (out, subs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::kernel::{Line, NodeKernel};
    use crate::rules::TestBed;

    const NODE: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: node1\n  uid: u1\nstatus:\n  conditions:\n  - type: Ready\n    status: \"True\"\n";
    const GRAFANA: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: grafana-1\n  namespace: mon\n  uid: p1\nspec:\n  nodeName: node1\n  containers:\n  - name: grafana-sc-dashboard\n    image: x\n  - name: grafana\n    image: y\n  volumes:\n  - name: storage\n    persistentVolumeClaim:\n      claimName: grafana\nstatus:\n  phase: Running\n";
    const PVC: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: grafana\n  namespace: mon\n  uid: c1\nspec:\n  volumeName: pvc-123\n";
    const PV: &str = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-123\n  uid: v1\nspec:\n  claimRef:\n    name: grafana\n    namespace: mon\n";
    const GHOST_EVENT: &str = "apiVersion: v1\nkind: Event\nmetadata:\n  name: node2.1\n  namespace: default\n  uid: e1\ncount: 34075\nfirstTimestamp: \"2025-02-01T00:00:00Z\"\nlastTimestamp: \"2025-02-14T09:39:07Z\"\ninvolvedObject:\n  kind: Node\n  name: node2\n  uid: node2\nreason: NodeHasSufficientMemory\nsource:\n  component: kubelet\n  host: node2\ntype: Normal\n";
    const KUBE_VIP: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-vip-a\n  namespace: harvester-system\n  uid: k1\nspec:\n  nodeName: node1\n  containers:\n  - name: kube-vip\n    image: z\nstatus:\n  phase: Running\n  containerStatuses:\n  - name: kube-vip\n    ready: true\n    restartCount: 4\n    image: z\n    lastState:\n      terminated:\n        reason: Error\n        exitCode: 1\n        finishedAt: \"2025-02-01T04:52:04Z\"\n    state:\n      running:\n        startedAt: \"2025-02-01T04:52:10Z\"\n";

    fn line(n: u32, when: &str) -> Line {
        Line {
            file: "nodes/node1.zip!node1/logs/kernel.log".into(),
            line: n,
            when: when.into(),
            text: "EXT4-fs error (device sdc): __ext4_find_entry:1532: inode #2: comm grafana-server: reading directory lblock 0".into(),
        }
    }

    #[test]
    fn kernel_errors_name_node_device_count_process_pod_and_volume() {
        let bed = TestBed::new(&[NODE, GRAFANA, PVC, PV], Some("v1.4.0"));
        let kernel = vec![NodeKernel {
            node: "node1".into(),
            files: vec!["nodes/node1.zip!node1/logs/kernel.log".into()],
            groups: vec![Group {
                node: "node1".into(),
                kind: Kind::Filesystem,
                device: Some("sdc".into()),
                count: 126042,
                first: line(10, "2022-03-08T00:02:38Z"),
                last: line(900, "2022-03-22T23:50:45Z"),
                comms: [("grafana-server".to_string(), 126042)]
                    .into_iter()
                    .collect(),
                read_only: false,
                fsck_errors: Some(367534),
                first_error: None,
            }],
            suppressed_fs: 3,
        }];
        let mut cx = bed.cx();
        cx.kernel = &kernel;
        let f = kernel_errors(&KERNEL_ERRORS, &cx);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.id, "node.kernel-errors:Node/node1:fs:sdc");
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.title.contains(
                "126,042 filesystem errors on device sdc, process grafana-server (126,042)"
            ),
            "{}",
            f.title
        );
        assert!(
            f.summary.contains("container grafana of pod mon/grafana-1"),
            "{}",
            f.summary
        );
        assert!(
            f.summary
                .contains("PVC grafana (PV pvc-123), likely the volume on sdc"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("367,534 errors since its last fsck"));
        assert!(f.summary.contains("suppressed 3 filesystem error messages"));
        assert_eq!(f.evidence[0].line, 10);
        assert_eq!(f.evidence[1].line, 900);
        assert!(
            f.objects
                .iter()
                .any(|o| o.kind == "PersistentVolume" && o.name == "pvc-123")
        );
        assert!(
            f.remediation
                .contains("$ sbdiag logs -b supportbundle_test.zip node1 -c kernel --grep sdc"),
            "{}",
            f.remediation
        );
        // Without kernel lines, nothing.
        assert!(kernel_errors(&KERNEL_ERRORS, &bed.cx()).is_empty());
    }

    #[test]
    fn ghost_node_from_a_recent_kubelet_event() {
        let bed = TestBed::new(&[NODE, GHOST_EVENT, GRAFANA], Some("v1.4.0"));
        let f = ghost_nodes(&GHOST_NODES, &bed.cx());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, "node.ghost:Node/node2");
        assert!(
            f[0].summary.contains("No Node node2 exists"),
            "{}",
            f[0].summary
        );
        assert!(f[0].summary.contains("count 34,075"), "{}", f[0].summary);
        assert!(
            f[0].summary.contains("2m before capture"),
            "{}",
            f[0].summary
        );
        assert!(f[0].summary.contains("kubelet likely still runs"));
        assert!(f[0].remediation.contains("involvedObject.name=node2"));
        // node1 exists: not a ghost, although the pod and nothing else name it.
        let bed = TestBed::new(&[NODE, GRAFANA], Some("v1.4.0"));
        assert!(ghost_nodes(&GHOST_NODES, &bed.cx()).is_empty());
    }

    #[test]
    fn service_failures_above_the_threshold_and_clock_evidence() {
        use crate::facts::services::{Failures, NodeServices, Service};
        let at = |n: u32, when: &str, text: &str| Line {
            file: "nodes/n2.zip!n2/logs/rke2-agent.log".into(),
            line: n,
            when: when.into(),
            text: text.into(),
        };
        let failures = |exits, start_limit, restarted_after| Failures {
            node: "n2".into(),
            service: Service::Rke2Agent,
            exits,
            failed: exits,
            start_limit,
            fatal: 0,
            first: at(3, "2030-03-20T10:00:00Z", "first"),
            last: at(
                9,
                "2030-03-20T10:00:11Z",
                "rke2-agent.service: Start request repeated too quickly.",
            ),
            last_fatal: None,
            restarted_after,
            results: [("status=1/FAILURE".to_string(), exits)]
                .into_iter()
                .collect(),
        };
        let nyv = at(
            5,
            "2030-03-20T10:00:01Z",
            "x509: certificate has expired or is not yet valid: current time 2030-03-20T10:00:01Z is before 2030-03-20T11:30:00Z",
        );
        let services = vec![NodeServices {
            node: "n2".into(),
            files: vec![],
            failures: vec![failures(2, 1, false)],
            not_yet_valid: Some((3, nyv)),
            newest: Some(at(40, "2025-02-14T12:00:00Z", "late")),
        }];
        let bed = TestBed::new(&[NODE], Some("v1.4.0"));
        let mut cx = bed.cx();
        cx.services = &services;
        let f = service_failures(&SERVICE_FAILURES, &cx);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "node.service-failures:Node/n2:rke2-agent");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(
            f[0].title,
            "Node n2: rke2-agent failed 2 times, systemd stopped restarting it"
        );
        assert!(
            f[0].summary.contains("status=1/FAILURE ×2"),
            "{}",
            f[0].summary
        );
        assert!(f[0].summary.contains("was likely not running"));
        assert!(
            f[0].remediation
                .contains("$ systemctl reset-failed rke2-agent")
        );
        assert_eq!((f[0].evidence[0].line, f[0].evidence[1].line), (3, 9));
        // Restarted afterwards: a warning. One failure without the start limit: nothing.
        let mut s2 = services.clone();
        s2[0].failures = vec![failures(2, 1, true)];
        cx.services = &s2;
        assert_eq!(
            service_failures(&SERVICE_FAILURES, &cx)[0].severity,
            Severity::Warning
        );
        let mut s3 = services.clone();
        s3[0].failures = vec![failures(1, 0, false)];
        cx.services = &s3;
        assert!(service_failures(&SERVICE_FAILURES, &cx).is_empty());
        // Clock: the x509 times give the least offset; the newest line (capture
        // 2025-02-14T09:41:07Z) is 2h18m later: 1h18m beyond the window.
        cx.services = &services;
        let (f, subs) = clock_run(&cx);
        let ids: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "node.clock-skew:Node/n2:x509-not-yet-valid",
                "node.clock-skew:Node/n2:log-times"
            ]
        );
        assert!(
            f[0].summary
                .contains("likely behind by at least 1h29m then"),
            "{}",
            f[0].summary
        );
        assert!(
            f[1].title.contains("ahead by at least 1h18m"),
            "{}",
            f[1].title
        );
        assert_eq!(subs[0].status, CheckStatus::NotEvaluated);
        assert_eq!(subs[2].status, CheckStatus::Fail);
        // Nothing dated: the log-time check cannot be made.
        cx.services = &[];
        let (f, subs) = clock_run(&cx);
        assert!(f.is_empty());
        assert_eq!(subs[2].status, CheckStatus::NotEvaluated);
    }

    #[test]
    fn restarted_system_pod_with_last_exit() {
        let bed = TestBed::new(&[NODE, KUBE_VIP, GRAFANA], Some("v1.4.0"));
        let f = system_restarts(&SYSTEM_RESTARTS, &bed.cx());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0].id,
            "node.system-restarts:Pod/harvester-system/kube-vip-a:kube-vip"
        );
        assert_eq!(f[0].severity, Severity::Info);
        assert!(
            f[0].title.contains("restarted 4 times, last exit Error"),
            "{}",
            f[0].title
        );
        assert!(f[0].summary.contains("exit code 1"), "{}", f[0].summary);
        assert!(f[0].summary.contains("13d"), "{}", f[0].summary);
    }
}
