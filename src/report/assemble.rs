//! What the analysis concludes beyond single findings, put into the report before any renderer
//! sees it: the one-sentence verdict, the timeline of recent history (events, condition
//! transitions, upgrade phases, Fleet claims, first log errors, all relative to capture), and
//! the piece of the status graph around each error finding.
use std::collections::BTreeSet;

use super::{TimelineEntry, Verdict};
use crate::analyze::Analysis;
use crate::graph::{self, EdgeKind};
use crate::model::{Age, time};
use crate::rules::{
    Check, CheckStatus, Evidence, Finding, GraphEdge, GraphNode, ObjectRef, Severity, SubGraph,
};

/// Longest timeline kept (the most recent entries).
const TIMELINE_MAX: usize = 300;
/// Condition transitions older than this before capture are left out of the timeline.
const CONDITION_WINDOW_SECS: i64 = 7 * 24 * 3600;

/// The verdict.
pub fn verdict(a: &Analysis, findings: &[Finding], checks: &[Check]) -> Verdict {
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let admission = checks.iter().find(|c| c.rule == "upgrade.admission");
    let cx = a.context();
    let target = cx.harvester_version().and_then(|(from, _)| {
        crate::upgrade::target(&a.index, &from, a.options.to_version.as_deref())
            .map(|t| t.version.raw)
    });
    let denials = findings
        .iter()
        .filter(|f| f.rule == "upgrade.admission" && f.severity == Severity::Error)
        .count();
    let stuck = findings.iter().any(|f| f.rule == "upgrade.stuck");
    let upgrade = match admission.map(|c| c.status) {
        Some(CheckStatus::Fail) | Some(CheckStatus::Pass) => Some(match (&target, denials) {
            (Some(t), 0) if !stuck => {
                format!("An upgrade to {t} would pass the upgrade webhook's checks")
            }
            (None, 0) if !stuck => "No upgrade webhook check would refuse an upgrade".into(),
            (t, n) => {
                let to = t.as_deref().map(|t| format!(" to {t}")).unwrap_or_default();
                if stuck && n == 0 {
                    format!("An upgrade is in progress and stuck; a new upgrade{to} is refused")
                } else {
                    format!(
                        "Upgrade{to} would be refused: {n} reason{}",
                        if n == 1 { "" } else { "s" }
                    )
                }
            }
        }),
        _ => None,
    };
    let headline = match (&upgrade, errors, warnings) {
        (Some(u), e, _) if e > 0 && (denials > 0 || stuck) => u.clone(),
        (_, 0, 0) => "Healthy: nothing above info".into(),
        (_, 0, w) => format!("No error; {w} warning{}", if w == 1 { "" } else { "s" }),
        (_, e, _) => {
            let first = findings
                .iter()
                .find(|f| f.severity == Severity::Error)
                .map(|f| f.title.clone())
                .unwrap_or_default();
            format!(
                "{e} error{}: {}",
                if e == 1 { "" } else { "s" },
                crate::fleet::one_line(&first, 160)
            )
        }
    };
    Verdict {
        headline,
        upgrade,
        errors,
        warnings,
        infos,
        not_evaluated: checks
            .iter()
            .filter(|c| c.status == CheckStatus::NotEvaluated)
            .count(),
    }
}

fn obj_ref(o: &crate::index::Object) -> ObjectRef {
    ObjectRef {
        api_version: o.api_version(),
        kind: o.key.kind.clone(),
        namespace: o.key.namespace.clone(),
        name: o.key.name.clone(),
    }
}

fn name_of(o: &crate::index::Object) -> String {
    if o.key.namespace.is_empty() {
        format!("{} {}", o.key.kind, o.key.name)
    } else {
        format!("{} {}/{}", o.key.kind, o.key.namespace, o.key.name)
    }
}

/// Conditions whose True is the bad state.
fn bad_when_true(kind: &str) -> bool {
    matches!(
        kind,
        "MemoryPressure"
            | "DiskPressure"
            | "PIDPressure"
            | "NetworkUnavailable"
            | "Stalled"
            | "Failed"
            | "ReplicaFailure"
            | "Degraded"
    )
}

/// The timeline.
pub fn timeline(a: &Analysis) -> Vec<TimelineEntry> {
    let cap = a.bundle.created_at;
    let ago = |t: &str| {
        Age::at(Some(t), cap)
            .map(|x| format!("{x} before capture"))
            .unwrap_or_default()
    };
    let file = |o: &crate::index::Object| {
        a.index
            .file_of(o)
            .map(|f| f.path.clone())
            .unwrap_or_default()
    };
    let mut out: Vec<TimelineEntry> = Vec::new();
    // Events, de-duplicated across API groups.
    for (o, e) in crate::query::get::events(a, None, None) {
        let Some(at) = e.last.clone() else { continue };
        if time::parse(&at).is_none() {
            continue;
        }
        let count = if e.count > 1 {
            format!(" (x{})", e.count)
        } else {
            String::new()
        };
        out.push(TimelineEntry {
            ago: ago(&at),
            at,
            kind: "event".into(),
            text: format!(
                "{} {}/{}: {}{count}",
                e.reason.as_deref().unwrap_or(""),
                e.regarding.kind,
                e.regarding.name,
                crate::fleet::one_line(e.message.as_deref().unwrap_or(""), 240)
            ),
            level: if e.kind.as_deref() == Some("Warning") {
                "warning".into()
            } else {
                "normal".into()
            },
            object: None,
            evidence: Some(Evidence::lines(file(o), o.name_line, o.name_line)),
        });
        // A bundle can hold a hundred thousand events: keep the entries bounded.
        if out.len() >= 4 * TIMELINE_MAX {
            keep_latest(&mut out);
        }
    }
    // Condition transitions of the objects that explain a cluster's state.
    let kinds: &[(&str, &str)] = &[
        ("", "Node"),
        ("apps", "Deployment"),
        ("apps", "DaemonSet"),
        ("apps", "StatefulSet"),
        ("management.cattle.io", "ManagedChart"),
        ("fleet.cattle.io", "Bundle"),
        ("harvesterhci.io", "Upgrade"),
        ("kubevirt.io", "VirtualMachine"),
        ("longhorn.io", "Volume"),
    ];
    for (g, k) in kinds {
        for o in a.index.of_kind(g, k) {
            for c in &o.status.conditions {
                let Some(at) = c
                    .last_transition_time
                    .clone()
                    .or_else(|| c.last_update_time.clone())
                else {
                    continue;
                };
                let Some(age) = Age::at(Some(&at), cap) else {
                    continue;
                };
                if age.0 > CONDITION_WINDOW_SECS || age.0 < 0 {
                    continue;
                }
                let bad = (c.status == "True") == bad_when_true(&c.kind);
                let kind = match *k {
                    "Upgrade" => "upgrade",
                    "ManagedChart" | "Bundle" => "fleet",
                    _ => "condition",
                };
                out.push(TimelineEntry {
                    ago: ago(&at),
                    at,
                    kind: kind.into(),
                    text: format!(
                        "{} {} → {}{}",
                        name_of(o),
                        c.kind,
                        c.status,
                        c.message
                            .as_deref()
                            .or(c.reason.as_deref())
                            .map(|m| format!(": {}", crate::fleet::one_line(m, 200)))
                            .unwrap_or_default()
                    ),
                    level: if bad { "warning" } else { "normal" }.into(),
                    object: Some(obj_ref(o)),
                    evidence: Some(
                        Evidence::lines(file(o), o.line, o.end_line)
                            .focus(format!("type: {}", c.kind)),
                    ),
                });
            }
        }
    }
    // First log errors the analysis searched for: lines that start with a timestamp.
    for h in &a.log_hits {
        let stamp = h
            .text
            .split_whitespace()
            .next()
            .filter(|w| time::parse(w).is_some())
            .map(str::to_string);
        if let Some(at) = stamp {
            out.push(TimelineEntry {
                ago: ago(&at),
                at,
                kind: "log".into(),
                text: format!(
                    "{} ({}×): {}",
                    h.file.rsplit('/').nth(1).unwrap_or(&h.file),
                    h.count,
                    crate::fleet::one_line(&h.text, 240)
                ),
                level: "warning".into(),
                object: None,
                evidence: Some(Evidence::lines(h.file.clone(), h.line, h.line)),
            });
        }
    }
    keep_latest(&mut out);
    out
}

/// Sorts entries by time, drops duplicates and keeps the latest [`TIMELINE_MAX`]. Pruning
/// early gives the same result as once at the end: an entry dropped has `TIMELINE_MAX`
/// distinct later ones, and so has any equal entry added afterwards.
fn keep_latest(out: &mut Vec<TimelineEntry>) {
    out.sort_by(|x, y| {
        time::parse(&x.at)
            .cmp(&time::parse(&y.at))
            .then_with(|| x.cmp(y))
    });
    out.dedup();
    if out.len() > TIMELINE_MAX {
        out.drain(..out.len() - TIMELINE_MAX);
    }
}

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
                    status: crate::fleet::one_line(&status, 120),
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

#[cfg(test)]
mod tests {
    use super::{TIMELINE_MAX, TimelineEntry, keep_latest};

    fn entry(i: u64) -> TimelineEntry {
        // Times repeat (i % 997 seconds) and texts repeat (i % 3), so there are ties and
        // duplicates; some times do not parse.
        let at = if i % 101 == 0 {
            "not a time".to_string()
        } else {
            format!("2025-02-14T09:{:02}:{:02}Z", (i % 997) / 60, (i % 997) % 60)
        };
        TimelineEntry {
            at,
            ago: String::new(),
            kind: "event".into(),
            text: format!("t{}", i % 3),
            level: "normal".into(),
            object: None,
            evidence: None,
        }
    }

    #[test]
    fn pruning_early_keeps_the_same_latest_entries() {
        let all: Vec<TimelineEntry> = (0..5000u64).map(|i| entry(i * 7919 % 5003)).collect();
        let mut once = all.clone();
        keep_latest(&mut once);
        let mut early = Vec::new();
        for e in all {
            early.push(e);
            if early.len() >= 4 * TIMELINE_MAX {
                keep_latest(&mut early);
            }
        }
        keep_latest(&mut early);
        assert_eq!(once.len(), TIMELINE_MAX);
        assert_eq!(once, early);
    }
}
