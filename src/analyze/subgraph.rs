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
    let family = a.fleet.version.family;
    let cap = a.bundle.created_at;
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
        f.graph = Some(SubGraph {
            nodes: gnodes,
            edges: gedges,
        });
    }
}
