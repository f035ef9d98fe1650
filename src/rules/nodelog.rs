//! What the nodes themselves say: `node.kernel-errors` (filesystem, block I/O, hung-task and
//! OOM lines of the node bundles' kernel logs, counted per node and device, tied to the pod
//! whose process the lines name and to its volume), `node.ghost` (node names that events and
//! Longhorn objects still use but no Node object has) and `node.system-restarts` (restarted
//! containers of system pods, with their last exit and the end of the previous log). The kernel
//! logs are read before the rules (`analyze::scan_kernel`, `facts::kernel`); rules read the
//! result.
use std::collections::{BTreeMap, BTreeSet};

use super::{Context, Evidence, Finding, Input, ObjectRef, Rule, RuleDef, RuleInfo, Severity};
use crate::facts::input::lists;
use crate::facts::kernel::{Group, Kind};
use crate::index::Object;
use crate::model::views::View;
use crate::text::{grouped, plural};

/// The rules of this family.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(RuleDef::new(KERNEL_ERRORS, kernel_errors)),
        Box::new(RuleDef::new(GHOST_NODES, ghost_nodes)),
        Box::new(RuleDef::new(SYSTEM_RESTARTS, system_restarts)),
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
        Kind::Filesystem | Kind::Io => format!(
            "Read the kernel log around the cited lines:\n$ {logs}\n{}\
             On the node, find what {} is (`lsblk -o NAME,SIZE,MOUNTPOINT` and `ls -l /dev/longhorn/` \
             map a Longhorn volume to its device) and which pod mounts it.\n\
             Stop the workload that uses it before repairing: a filesystem check on a mounted \
             filesystem corrupts it further. For a Longhorn volume, scale the workload down, \
             then check the volume's replicas in the Longhorn UI; run `fsck` only on the \
             detached volume.",
            if g.kind == Kind::Io {
                "If it is a physical disk, check its health (`smartctl -a` on the node) and, when \
                 it is a Longhorn disk, disable scheduling on it and request eviction of its \
                 replicas (Longhorn UI, Node → Edit disks) before replacing it.\n"
            } else {
                ""
            },
            g.device.as_deref().unwrap_or("the device")
        ),
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
