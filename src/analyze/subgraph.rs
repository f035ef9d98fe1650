//! The piece of the status graph around each error finding's subject (its owners and charts
//! above, what it runs on and stores to below), attached to the finding for renderers to draw.
use std::collections::BTreeSet;

use crate::graph::{self, EdgeKind};
use crate::rules::{Finding, GraphEdge, GraphNode, ObjectRef, Severity, SubGraph};

use super::{Analysis, obj_ref};

/// The subject of a finding in the graph: its first object that is not a Fleet or
/// ManagedChart record (those are claims about the subject), else its first object.
fn subject(a: &Analysis, f: &Finding) -> Option<usize> {
    let pos = |o: &ObjectRef| {
        let group = crate::model::split_api_version(&o.api_version)
            .0
            .to_string();
        a.index.position(&crate::model::ObjectKey {
            group,
            kind: o.kind.clone(),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
        })
    };
    f.objects
        .iter()
        .filter(|o| {
            !matches!(
                o.kind.as_str(),
                "ManagedChart" | "Bundle" | "BundleDeployment" | "Cluster" | "Event"
            )
        })
        .find_map(pos)
        .or_else(|| f.objects.iter().find_map(pos))
}

/// Attaches the graph around each error finding's subject.
pub fn attach_graphs(a: &Analysis, findings: &mut [Finding]) {
    for f in findings
        .iter_mut()
        .filter(|f| f.severity == Severity::Error)
    {
        let Some(root) = subject(a, f) else { continue };
        let mut nodes: Vec<usize> = vec![root];
        let mut edges: BTreeSet<(usize, usize, EdgeKind)> = BTreeSet::new();
        // Up: what it hangs from (owners, charts), two levels.
        let mut frontier = vec![root];
        for _ in 0..2 {
            let mut next = Vec::new();
            for n in frontier {
                for (k, p) in a.graph.inc(n) {
                    if matches!(k, EdgeKind::Owns | EdgeKind::Deploys) && nodes.len() < 14 {
                        edges.insert((*p, n, *k));
                        if !nodes.contains(p) {
                            nodes.push(*p);
                            next.push(*p);
                        }
                    }
                }
            }
            frontier = next;
        }
        // Down: what it depends on, two levels (pods through owners, nodes, storage).
        let mut frontier = vec![root];
        for _ in 0..3 {
            let mut next = Vec::new();
            for n in frontier {
                for (k, c) in a.graph.out(n) {
                    if nodes.len() >= 24 {
                        break;
                    }
                    edges.insert((n, *c, *k));
                    if !nodes.contains(c) {
                        nodes.push(*c);
                        next.push(*c);
                    }
                }
            }
            frontier = next;
        }
        if nodes.len() < 2 {
            continue;
        }
        f.graph = Some(to_sub_graph(a, &nodes, &edges));
    }
}

/// The piece of the graph as the report carries it: each node with its observed status and
/// Fleet's claim.
fn to_sub_graph(
    a: &Analysis,
    nodes: &[usize],
    edges: &BTreeSet<(usize, usize, EdgeKind)>,
) -> SubGraph {
    let family = a.fleet.version.family;
    let cap = a.bundle.created_at;
    let gnodes: Vec<GraphNode> = nodes
        .iter()
        .filter_map(|i| a.index.objects.get(*i).map(|o| (i, o)))
        .map(|(i, o)| {
            let (status, ready) = graph::health(o, family, cap);
            GraphNode {
                object: obj_ref(o),
                status: crate::text::one_line(&status, 120),
                ready,
                claimed: a.fleet.claimed_status(*i),
            }
        })
        .collect();
    let at = |i: usize| nodes.iter().position(|n| *n == i);
    let gedges: Vec<GraphEdge> = edges
        .iter()
        .filter_map(|(x, y, k)| {
            Some(GraphEdge {
                from: at(*x)?,
                to: at(*y)?,
                kind: k.verb().to_string(),
            })
        })
        .collect();
    SubGraph {
        nodes: gnodes,
        edges: gedges,
    }
}

/// Most nodes an incident's graph shows: enough to explain it, small enough to read.
const INCIDENT_NODES: usize = 20;

/// Pods an incident's graph shows for themselves (not as the link to their workload).
const INCIDENT_PODS: usize = 4;

/// How much an effect's subject says about an incident, for choosing what its graph shows
/// first: workloads, VMs and volumes before single pods.
fn weight(kind: &str) -> u8 {
    match kind {
        "Node" | "Deployment" | "DaemonSet" | "StatefulSet" | "Job" => 0,
        "VirtualMachine" | "Volume" | "PersistentVolumeClaim" => 1,
        "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" | "Service" => 1,
        "Pod" => 3,
        _ => 2,
    }
}

/// The status graph that explains an incident: its cause's subject and the subjects of what
/// it explains, each joined to the rest by the shortest path in the status graph (through
/// running objects, never through Fleet's records, which would join everything a chart
/// deploys), at most [`INCIDENT_NODES`] nodes. `None` when fewer than two objects connect.
pub fn incident_graph(a: &Analysis, cause: &Finding, effects: &[&Finding]) -> Option<SubGraph> {
    let root = subject(a, cause)?;
    let mut targets: Vec<usize> = effects.iter().filter_map(|f| subject(a, f)).collect();
    targets.sort_by_key(|&i| (a.index.objects.get(i).map_or(9, |o| weight(&o.key.kind)), i));
    targets.dedup();
    let mut nodes: Vec<usize> = vec![root];
    let mut edges: BTreeSet<(usize, usize, EdgeKind)> = BTreeSet::new();
    // Pods the incident explains are shown through their workloads; a few on their own.
    let mut pods = 0;
    for t in targets {
        if nodes.len() >= INCIDENT_NODES {
            break;
        }
        if nodes.contains(&t) {
            continue;
        }
        if a.index.objects.get(t).is_some_and(|o| o.key.kind == "Pod") {
            pods += 1;
            if pods > INCIDENT_PODS {
                continue;
            }
        }
        let Some(path) = path_to(a, t, &nodes) else {
            continue;
        };
        if nodes.len() + path.len() > INCIDENT_NODES + 1 {
            continue;
        }
        for (x, y, k) in path {
            edges.insert((x, y, k));
            for n in [x, y] {
                if !nodes.contains(&n) {
                    nodes.push(n);
                }
            }
        }
    }
    (nodes.len() >= 2).then(|| to_sub_graph(a, &nodes, &edges))
}

/// The shortest path (as graph edges, oriented as in the graph) from `from` to any of `to`,
/// at most four steps, not through Fleet's records.
fn path_to(a: &Analysis, from: usize, to: &[usize]) -> Option<Vec<(usize, usize, EdgeKind)>> {
    let record = |i: usize| {
        a.index.objects.get(i).is_some_and(|o| {
            matches!(
                o.key.kind.as_str(),
                "ManagedChart" | "Bundle" | "BundleDeployment"
            )
        })
    };
    let mut back: std::collections::HashMap<usize, (usize, (usize, usize, EdgeKind))> =
        std::collections::HashMap::new();
    let mut frontier = vec![from];
    for _ in 0..4 {
        let mut next = Vec::new();
        for n in frontier {
            let steps = a
                .graph
                .out(n)
                .iter()
                .map(|(k, c)| (*c, (n, *c, *k)))
                .chain(a.graph.inc(n).iter().map(|(k, p)| (*p, (*p, n, *k))));
            for (m, e) in steps {
                if m == from || back.contains_key(&m) || (record(m) && !to.contains(&m)) {
                    continue;
                }
                back.insert(m, (n, e));
                if to.contains(&m) {
                    let mut path = vec![e];
                    let mut at = n;
                    while at != from {
                        let (prev, e) = *back.get(&at)?;
                        path.push(e);
                        at = prev;
                    }
                    return Some(path);
                }
                next.push(m);
            }
        }
        frontier = next;
    }
    None
}
