//! The status graph at capture time: objects of the index as nodes, and the relations that
//! explain why one object's health depends on another as edges — owns (ownerReferences),
//! runs-on (Pod → Node), deploys (ManagedChart → Bundle → BundleDeployment → the release's
//! objects). Each node's observed status is recomputed from the object itself with Fleet's
//! summarizer; what Fleet claims about it is attached by the Fleet combiner (`crate::fleet`).
//! Built once from the index; rules and `describe` walk it, none of them reads the archive.
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::facts::objectset;
use crate::index::{Index, Object};
use crate::model::View;
use crate::model::summary::{self, Family, Subject, Summary};
use crate::model::typed::core::VolumeAttachment;
use crate::model::typed::kubevirt::{VirtualMachine, Vmi};
use crate::model::typed::longhorn::{LhEngine, LhReplica, LhVolume};
use crate::model::{ObjectKey, Timestamp};

/// Kind of relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// Owner → owned (ownerReferences).
    Owns,
    /// Pod → Node it runs on.
    RunsOn,
    /// ManagedChart → Bundle → BundleDeployment → deployed objects.
    Deploys,
    /// Service → the pods its selector picks.
    Selects,
    /// Admission webhook configuration → the Service it calls.
    Calls,
    /// Storage: Pod → PVC → PV → Longhorn Volume → replicas and engine (→ node).
    Stores,
}

impl EdgeKind {
    /// Verb shown in trees (`owns`, `runs on`, `deploys`).
    pub fn verb(&self) -> &'static str {
        match self {
            EdgeKind::Owns => "owns",
            EdgeKind::RunsOn => "runs on",
            EdgeKind::Deploys => "deploys",
            EdgeKind::Selects => "selects",
            EdgeKind::Calls => "calls",
            EdgeKind::Stores => "stores on",
        }
    }
}

/// The graph: adjacency by position in [`Index::objects`].
#[derive(Debug, Default)]
pub struct Graph {
    out: HashMap<usize, Vec<(EdgeKind, usize)>>,
    inc: HashMap<usize, Vec<(EdgeKind, usize)>>,
}

impl Graph {
    /// Builds every edge from the index.
    pub fn build(index: &Index) -> Graph {
        let mut g = Graph::default();
        // Owners by (uid, kind): a uid alone can be shared by a bogus generator or a
        // hostile bundle (a VM and its VMI with one uid), the kind disambiguates.
        let mut by_uid: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, o) in index.objects.iter().enumerate() {
            if o.alias_of.is_none() && !o.meta.uid.is_empty() {
                by_uid.insert((o.meta.uid.as_str(), o.key.kind.as_str()), i);
            }
        }
        // Release objects by objectset id and by Helm release (namespace, name).
        let mut by_set_id: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_release: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, o) in index.objects.iter().enumerate() {
            if o.alias_of.is_some() {
                continue;
            }
            for r in &o.meta.owner_references {
                let owner = by_uid
                    .get(&(r.uid.as_str(), r.kind.as_str()))
                    .copied()
                    .or_else(|| {
                        index.position(&ObjectKey {
                            group: crate::model::split_api_version(&r.api_version)
                                .0
                                .to_string(),
                            kind: r.kind.clone(),
                            namespace: o.key.namespace.clone(),
                            name: r.name.clone(),
                        })
                    });
                if let Some(owner) = owner {
                    g.add(owner, EdgeKind::Owns, i);
                }
            }
            if let View::Pod(p) = &o.view
                && let Some(node) = p.node_name.as_deref()
                && let Some(n) = index.position(&ObjectKey {
                    group: String::new(),
                    kind: "Node".into(),
                    namespace: String::new(),
                    name: node.into(),
                })
            {
                g.add(i, EdgeKind::RunsOn, n);
            }
            if let Some(id) = o.meta.annotations.get(objectset::ID_ANNOTATION) {
                by_set_id.entry(id.as_str()).or_default().push(i);
            }
            if let (Some(rel), Some(ns)) = (
                o.meta.annotations.get("meta.helm.sh/release-name"),
                o.meta.annotations.get("meta.helm.sh/release-namespace"),
            ) {
                by_release
                    .entry((ns.as_str(), rel.as_str()))
                    .or_default()
                    .push(i);
            }
        }
        g.add_service_edges(index);
        g.add_storage_edges(index);
        // ManagedChart → Bundle mcc-<name>; Bundle → BundleDeployments; → release objects.
        for b in index.of_kind("fleet.cattle.io", "Bundle") {
            let Some(bi) = index.position(&b.key) else {
                continue;
            };
            if let Some(chart) = crate::facts::objectset::managed_chart_of(&b.key.name)
                && let Some(mi) = index.position(&ObjectKey {
                    group: "management.cattle.io".into(),
                    kind: "ManagedChart".into(),
                    namespace: b.key.namespace.clone(),
                    name: chart.into(),
                })
            {
                g.add(mi, EdgeKind::Deploys, bi);
            }
            let bds: Vec<usize> = index
                .of_kind("fleet.cattle.io", "BundleDeployment")
                .filter(|d| {
                    d.meta.labels.get("fleet.cattle.io/bundle-name") == Some(&b.key.name)
                        && d.meta.labels.get("fleet.cattle.io/bundle-namespace")
                            == Some(&b.key.namespace)
                })
                .filter_map(|d| index.position(&d.key))
                .collect();
            let from = if bds.is_empty() {
                vec![bi]
            } else {
                bds.clone()
            };
            for d in &bds {
                g.add(bi, EdgeKind::Deploys, *d);
            }
            let mut targets: Vec<usize> = by_set_id
                .get(objectset::local_id(&b.key.name).as_str())
                .cloned()
                .unwrap_or_default();
            if let View::Fleet(f) = &b.view
                && let (Some(rel), Some(ns)) = (&f.release_name, &f.default_namespace)
            {
                targets.extend(
                    by_release
                        .get(&(ns.as_str(), rel.as_str()))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            targets.sort_unstable();
            targets.dedup();
            for t in targets {
                for f in &from {
                    g.add(*f, EdgeKind::Deploys, t);
                }
            }
        }
        for v in g.out.values_mut().chain(g.inc.values_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        g
    }

    /// Service → selected pods; webhook configuration → called Service.
    fn add_service_edges(&mut self, index: &Index) {
        let mut pods_by_ns: HashMap<&str, Vec<(usize, &Object)>> = HashMap::new();
        for p in index.of_kind("", "Pod") {
            if let Some(i) = index.position(&p.key) {
                pods_by_ns
                    .entry(p.key.namespace.as_str())
                    .or_default()
                    .push((i, p));
            }
        }
        for s in index.of_kind("", "Service") {
            let View::Service(v) = &s.view else { continue };
            let Some(si) = index.position(&s.key) else {
                continue;
            };
            if v.selector.is_empty() {
                continue;
            }
            for (pi, p) in pods_by_ns
                .get(s.key.namespace.as_str())
                .into_iter()
                .flatten()
            {
                if v.selector
                    .iter()
                    .all(|(k, val)| p.meta.labels.get(k) == Some(val))
                {
                    self.add(si, EdgeKind::Selects, *pi);
                }
            }
        }
        for kind in [
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
        ] {
            for w in index.of_kind("admissionregistration.k8s.io", kind) {
                let View::Webhooks(v) = &w.view else { continue };
                let Some(wi) = index.position(&w.key) else {
                    continue;
                };
                for h in &v.webhooks {
                    if let Some((ns, name)) = &h.service
                        && let Some(si) = index.position(&ObjectKey {
                            group: String::new(),
                            kind: "Service".into(),
                            namespace: ns.clone(),
                            name: name.clone(),
                        })
                    {
                        self.add(wi, EdgeKind::Calls, si);
                    }
                }
            }
        }
    }

    /// Pod → PVC → PV → Longhorn Volume → Replica / Engine → Node (and Longhorn node → Node);
    /// PV → VolumeAttachment.
    fn add_storage_edges(&mut self, index: &Index) {
        let key = |g: &str, k: &str, ns: &str, n: &str| ObjectKey {
            group: g.into(),
            kind: k.into(),
            namespace: ns.into(),
            name: n.into(),
        };
        for p in index.of_kind("", "Pod") {
            let View::Pod(v) = &p.view else { continue };
            let Some(pi) = index.position(&p.key) else {
                continue;
            };
            for c in &v.claims {
                if let Some(ci) =
                    index.position(&key("", "PersistentVolumeClaim", &p.key.namespace, c))
                {
                    self.add(pi, EdgeKind::Stores, ci);
                }
            }
        }
        // A VMI's disks: its volumes' claims (persistentVolumeClaim or dataVolume).
        for (vmi, t) in index.typed::<Vmi>() {
            let Some(vi) = index.position(&vmi.key) else {
                continue;
            };
            for v in t.volumes() {
                if let Some(c) = v.claim_name()
                    && let Some(ci) =
                        index.position(&key("", "PersistentVolumeClaim", &vmi.key.namespace, c))
                {
                    self.add(vi, EdgeKind::Stores, ci);
                }
            }
        }
        for pv in index.of_kind("", "PersistentVolume") {
            let View::PersistentVolume(v) = &pv.view else {
                continue;
            };
            let Some(pvi) = index.position(&pv.key) else {
                continue;
            };
            if let (Some(ns), Some(n)) = (&v.claim_namespace, &v.claim_name)
                && let Some(ci) = index.position(&key("", "PersistentVolumeClaim", ns, n))
            {
                self.add(ci, EdgeKind::Stores, pvi);
            }
            // Longhorn knows the volume by the PV's volumeHandle (the PV's name for the volumes
            // Harvester provisions).
            if let Some(vi) = index.position(&key(
                "longhorn.io",
                "Volume",
                "longhorn-system",
                v.volume_handle.as_deref().unwrap_or(&pv.key.name),
            )) {
                self.add(pvi, EdgeKind::Stores, vi);
            }
        }
        // The CSI attachment of a PV to a node.
        for (a, t) in index.typed::<VolumeAttachment>() {
            if let (Some(ai), Some(pv)) = (index.position(&a.key), t.pv_name())
                && let Some(pvi) = index.position(&key("", "PersistentVolume", "", pv))
            {
                self.add(pvi, EdgeKind::Stores, ai);
            }
        }
        for (r, t) in index.typed::<LhReplica>() {
            let Some(ri) = index.position(&r.key) else {
                continue;
            };
            if let Some(vol) = t.volume_name()
                && r.meta.owner_references.is_empty()
                && let Some(vi) =
                    index.position(&key("longhorn.io", "Volume", &r.key.namespace, vol))
            {
                self.add(vi, EdgeKind::Stores, ri);
            }
            if let Some(node) = t.node_id()
                && let Some(ni) = index.position(&key("", "Node", "", node))
            {
                self.add(ri, EdgeKind::RunsOn, ni);
            }
        }
        // A volume's engine serves it from the node it is attached to: a down node takes the
        // volumes whose engines run there.
        for (e, t) in index.typed::<LhEngine>() {
            let Some(ei) = index.position(&e.key) else {
                continue;
            };
            if let Some(vol) = t.volume_name()
                && e.meta.owner_references.is_empty()
                && let Some(vi) =
                    index.position(&key("longhorn.io", "Volume", &e.key.namespace, vol))
            {
                self.add(vi, EdgeKind::Stores, ei);
            }
            if let Some(node) = t.node_id()
                && let Some(ni) = index.position(&key("", "Node", "", node))
            {
                self.add(ei, EdgeKind::RunsOn, ni);
            }
        }
        for ln in index.of_kind("longhorn.io", "Node") {
            if let (Some(li), Some(ni)) = (
                index.position(&ln.key),
                index.position(&key("", "Node", "", &ln.key.name)),
            ) {
                self.add(li, EdgeKind::RunsOn, ni);
            }
        }
    }

    /// Everything that depends on `i`, transitively (reverse reachability): its blast radius.
    pub fn dependents(&self, i: usize, limit: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        seen.insert(i);
        let mut queue = std::collections::VecDeque::from([i]);
        while let Some(n) = queue.pop_front() {
            for (_, p) in self.inc(n) {
                if seen.insert(*p) {
                    out.push(*p);
                    if out.len() >= limit {
                        return out;
                    }
                    queue.push_back(*p);
                }
            }
        }
        out
    }

    fn add(&mut self, from: usize, kind: EdgeKind, to: usize) {
        if from == to {
            return;
        }
        self.out.entry(from).or_default().push((kind, to));
        self.inc.entry(to).or_default().push((kind, from));
    }

    /// Outgoing edges of a node.
    pub fn out(&self, i: usize) -> &[(EdgeKind, usize)] {
        self.out.get(&i).map(Vec::as_slice).unwrap_or_default()
    }

    /// Incoming edges of a node.
    pub fn inc(&self, i: usize) -> &[(EdgeKind, usize)] {
        self.inc.get(&i).map(Vec::as_slice).unwrap_or_default()
    }

    /// Targets of outgoing edges of one kind.
    pub fn children(&self, i: usize, kind: EdgeKind) -> impl Iterator<Item = usize> + '_ {
        self.out(i)
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, t)| *t)
    }

    /// Sources of incoming edges of one kind.
    pub fn parents(&self, i: usize, kind: EdgeKind) -> impl Iterator<Item = usize> + '_ {
        self.inc(i)
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, t)| *t)
    }

    /// Pods owned by a workload, directly or through ReplicaSets (Deployment → RS → Pod).
    pub fn pods_of(&self, index: &Index, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![(i, 0)];
        while let Some((n, depth)) = stack.pop() {
            for c in self.children(n, EdgeKind::Owns) {
                let Some(o) = index.objects.get(c) else {
                    continue;
                };
                if o.key.kind == "Pod" && o.key.group.is_empty() {
                    out.push(c);
                } else if depth < 2 {
                    stack.push((c, depth + 1));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The objects deployed by a ManagedChart or Bundle (through its BundleDeployments).
    pub fn deployed_by(&self, index: &Index, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![i];
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            for c in self.children(n, EdgeKind::Deploys) {
                if !seen.insert(c) {
                    continue;
                }
                let Some(o) = index.objects.get(c) else {
                    continue;
                };
                let fleet_obj = matches!(
                    (o.key.group.as_str(), o.key.kind.as_str()),
                    ("fleet.cattle.io", "Bundle" | "BundleDeployment")
                );
                if fleet_obj {
                    stack.push(c);
                } else {
                    out.push(c);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

/// Health of an object for display: Fleet's summary, sharpened where a kind says more than
/// its conditions (Longhorn volume robustness, a failed replica, a node not Ready, a VM's
/// printable status). Returns the text and whether it is healthy.
pub fn health(o: &Object, family: Family, capture: Option<Timestamp>) -> (String, bool) {
    let s = observed(o, family, capture);
    let base = if s.is_ready() {
        (s.state.clone(), true)
    } else {
        (crate::text::one_line(&s.display(), 100), false)
    };
    if o.tree().is_none() {
        if o.key.kind == "Node"
            && o.key.group.is_empty()
            && crate::model::condition(&o.status.conditions, "Ready")
                .is_some_and(|c| c.status != "True")
        {
            return ("NotReady".into(), false);
        }
        return base;
    }
    if let Some(v) = LhVolume::of(o) {
        let state = v.state().unwrap_or("?");
        return match v.robustness() {
            Some(r @ ("degraded" | "faulted")) => (format!("{state} ({r})"), false),
            Some(r) => (format!("{state} ({r})"), true),
            None => base,
        };
    }
    if let Some(r) = LhReplica::of(o) {
        let state = r.current_state().unwrap_or("?");
        return match r.failed_at() {
            Some(f) => (format!("{state} (failed at {f})"), false),
            None => (state.to_string(), base.1),
        };
    }
    match VirtualMachine::of(o).and_then(VirtualMachine::printable_status) {
        Some(p) => (
            p.to_string(),
            base.1
                && !matches!(
                    p,
                    "ErrorUnschedulable"
                        | "CrashLoopBackOff"
                        | "ErrImagePull"
                        | "ImagePullBackOff"
                        | "DataVolumeError"
                ),
        ),
        None => base,
    }
}

/// Fleet's summary of an indexed object.
pub fn observed(o: &Object, family: Family, capture: Option<Timestamp>) -> Summary {
    summary::summarize(&subject(o), family, capture)
}

/// The summarizer's view of an indexed object.
pub fn subject(o: &Object) -> Subject<'_> {
    Subject {
        group: &o.key.group,
        version: &o.version,
        kind: &o.key.kind,
        meta: &o.meta,
        status: &o.status,
        view: &o.view,
    }
}

/// One line of a neighbourhood tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeLine {
    /// Position in the index.
    pub index: usize,
    /// Depth (0 = the root).
    pub depth: usize,
    /// The relation from the parent line (`None` for the root).
    pub edge: Option<String>,
    /// The object.
    pub key: ObjectKey,
    /// Observed status, in Fleet's words.
    pub observed: String,
    /// Whether observed is ready.
    pub ready: bool,
}

/// What the node hangs from: its owners and the charts/bundles that deploy it, transitively.
pub fn ancestors(index: &Index, g: &Graph, i: usize) -> Vec<(EdgeKind, usize)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![i];
    while let Some(n) = stack.pop() {
        for (k, p) in g.inc(n) {
            if *k == EdgeKind::RunsOn || !seen.insert(*p) || index.objects.get(*p).is_none() {
                continue;
            }
            out.push((*k, *p));
            stack.push(*p);
        }
    }
    out
}

/// The neighbourhood of a node as an indented tree of what it deploys, owns and runs on,
/// to `depth`.
pub fn tree(
    index: &Index,
    g: &Graph,
    root: usize,
    depth: usize,
    family: Family,
    capture: Option<Timestamp>,
) -> Vec<TreeLine> {
    let mut lines = Vec::new();
    let mut seen = std::collections::HashSet::new();
    walk(
        index, g, root, None, 0, depth, family, capture, &mut seen, &mut lines,
    );
    lines
}

#[allow(clippy::too_many_arguments)]
fn walk(
    index: &Index,
    g: &Graph,
    n: usize,
    edge: Option<String>,
    level: usize,
    max: usize,
    family: Family,
    capture: Option<Timestamp>,
    seen: &mut std::collections::HashSet<usize>,
    lines: &mut Vec<TreeLine>,
) {
    let Some(o) = index.objects.get(n) else {
        return;
    };
    let (observed, ready) = health(o, family, capture);
    lines.push(TreeLine {
        index: n,
        depth: level,
        edge,
        key: o.key.clone(),
        observed,
        ready,
    });
    if !seen.insert(n) || level >= max {
        return;
    }
    // A node reached from below is a leaf: its own pods are another story.
    if level > 0 && o.key.kind == "Node" && o.key.group.is_empty() {
        return;
    }
    let mut next: BTreeMap<(EdgeKind, ObjectKey), usize> = BTreeMap::new();
    // Below a workload, show its pods (through ReplicaSets) rather than the ReplicaSets.
    let workload = matches!(o.view, View::Workload(_) | View::Job(_));
    for p in g.pods_of(index, n).into_iter().filter(|_| workload) {
        if let Some(o) = index.objects.get(p)
            && !g.out(n).iter().any(|(_, t)| *t == p)
        {
            next.insert((EdgeKind::Owns, o.key.clone()), p);
        }
    }
    for (k, t) in g.out(n) {
        if let Some(o) = index.objects.get(*t) {
            next.insert((*k, o.key.clone()), *t);
        }
    }
    for ((k, _), t) in next {
        walk(
            index,
            g,
            t,
            Some(k.verb().to_string()),
            level + 1,
            max,
            family,
            capture,
            seen,
            lines,
        );
    }
}
