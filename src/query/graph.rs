//! `sbdiag graph`: an object's neighbourhood in the status graph, as an indented tree (what it
//! hangs from, what it deploys/owns/selects/calls/stores on/runs on, what depends on it) or as
//! Graphviz DOT, each node with its observed status and Fleet's claim where there is one.
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

use crate::analyze::Analysis;
use crate::error::Result;
use crate::graph::{self, EdgeKind};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Indented text.
    Text,
    /// Graphviz DOT.
    Dot,
}

fn node_label(a: &Analysis, i: usize) -> (String, bool) {
    let Some(o) = a.index.objects.get(i) else {
        return (String::new(), true);
    };
    let (status, ready) = graph::health(o, a.fleet.version.family, a.bundle.created_at);
    let name = if o.key.namespace.is_empty() {
        o.key.name.clone()
    } else {
        format!("{}/{}", o.key.namespace, o.key.name)
    };
    let mut l = format!("{} {name}: {status}", o.key.kind);
    if let Some(c) = a.fleet.claimed_status(i) {
        let _ = write!(l, "  [{c}]");
    }
    (l, ready)
}

/// Renders the neighbourhood of one object to `depth` edges away.
pub fn render(
    a: &Analysis,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    depth: usize,
    format: Format,
) -> Result<String> {
    let o = super::get::find_one(a, kind, name, namespace)?;
    let Some(root) = a.index.position(&o.key) else {
        return Ok(String::new());
    };
    match format {
        Format::Text => Ok(text(a, root, depth)),
        Format::Dot => Ok(dot(a, root, depth)),
    }
}

fn text(a: &Analysis, root: usize, depth: usize) -> String {
    let mut s = String::new();
    let up = graph::ancestors(&a.index, &a.graph, root);
    for (k, p) in up.iter().rev() {
        let verb = match k {
            EdgeKind::Owns => "owned by",
            EdgeKind::Deploys => "deployed by",
            EdgeKind::Selects => "selected by",
            EdgeKind::Calls => "called by",
            EdgeKind::Stores => "used for storage by",
            EdgeKind::RunsOn => "runs",
        };
        let _ = writeln!(s, "^ {verb} {}", node_label(a, *p).0);
    }
    let tree = graph::tree(
        &a.index,
        &a.graph,
        root,
        depth,
        a.fleet.version.family,
        a.bundle.created_at,
    );
    for l in &tree {
        let indent = "  ".repeat(l.depth);
        let (label, _) = node_label(a, l.index);
        match &l.edge {
            None => {
                let _ = writeln!(s, "{indent}{label}");
            }
            Some(e) => {
                let _ = writeln!(s, "{indent}{e} {label}");
            }
        }
    }
    // Direct dependents that are not owners/deployers (pods on a node, claims on a volume).
    let direct: Vec<usize> = a
        .graph
        .inc(root)
        .iter()
        .filter(|(k, _)| {
            matches!(
                k,
                EdgeKind::RunsOn | EdgeKind::Stores | EdgeKind::Selects | EdgeKind::Calls
            )
        })
        .map(|(_, p)| *p)
        .collect();
    if !direct.is_empty() {
        let _ = writeln!(s, "used by:");
        for p in direct {
            let _ = writeln!(s, "  {}", node_label(a, p).0);
        }
    }
    let all = a.graph.dependents(root, 100_000);
    if !all.is_empty() {
        let _ = writeln!(s, "blast radius: {} object(s) depend on it", all.len());
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn dot(a: &Analysis, root: usize, depth: usize) -> String {
    // Breadth-first in both directions.
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    let mut edges: BTreeSet<(usize, usize, EdgeKind)> = BTreeSet::new();
    let mut queue = VecDeque::from([(root, 0usize)]);
    seen.insert(root, 0);
    while let Some((n, d)) = queue.pop_front() {
        if d >= depth {
            continue;
        }
        for (k, t) in a.graph.out(n) {
            edges.insert((n, *t, *k));
            if !seen.contains_key(t) {
                seen.insert(*t, d + 1);
                queue.push_back((*t, d + 1));
            }
        }
        for (k, f) in a.graph.inc(n) {
            edges.insert((*f, n, *k));
            if !seen.contains_key(f) {
                seen.insert(*f, d + 1);
                queue.push_back((*f, d + 1));
            }
        }
    }
    let mut s = String::from("digraph sbdiag {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n");
    for n in seen.keys() {
        let (label, ready) = node_label(a, *n);
        let color = if *n == root {
            "color=blue, penwidth=2"
        } else if ready {
            "color=black"
        } else {
            "color=red"
        };
        let _ = writeln!(s, "  n{n} [label=\"{}\", {color}];", esc(&label));
    }
    for (f, t, k) in &edges {
        if seen.contains_key(f) && seen.contains_key(t) {
            let _ = writeln!(s, "  n{f} -> n{t} [label=\"{}\"];", k.verb());
        }
    }
    s.push_str("}\n");
    s
}
