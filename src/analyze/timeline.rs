//! The timeline of the cluster's recent history, relative to capture: events (merged across
//! API groups), condition transitions of the objects that explain a cluster's state, upgrade
//! phases, Fleet claims, and the log lines the analysis searched for. Computed here, in the
//! analysis stage; the report only shows it.
use crate::index::{Index, Object};
use crate::model::views::{EventView, View};
use crate::model::{Age, time};
use crate::rules::{Evidence, ObjectRef};

use super::{Analysis, obj_ref};

/// Longest timeline kept (the most recent entries).
const TIMELINE_MAX: usize = 300;
/// Condition transitions older than this before capture are left out of the timeline.
const CONDITION_WINDOW_SECS: i64 = 7 * 24 * 3600;

/// What a timeline entry records. Declared in the alphabetical order of the names, so entries
/// of one time sort by their kind's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A condition transition.
    Condition,
    /// A Kubernetes event.
    Event,
    /// A condition transition of a Fleet Bundle or ManagedChart.
    Fleet,
    /// A log line the analysis searched for.
    Log,
    /// A condition transition of a Harvester Upgrade.
    Upgrade,
}

/// Level of an entry (alphabetical order too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Routine.
    Normal,
    /// A Warning event, a bad condition, a failure.
    Warning,
}

/// One moment of the cluster's recent history.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// RFC 3339 time.
    pub at: String,
    /// Relative to capture ("2d3h before capture").
    pub ago: String,
    /// What it records.
    pub kind: Kind,
    /// What happened.
    pub text: String,
    /// How bad.
    pub level: Level,
    /// The object it is about.
    pub object: Option<ObjectRef>,
    /// Where it is written (the excerpt is filled in later).
    pub evidence: Option<Evidence>,
}

/// Events of the bundle, merged across API groups (`v1` and `events.k8s.io`), de-duplicated,
/// oldest first; optionally of one namespace and one type (`Warning`, case-insensitive).
pub fn events<'a>(
    index: &'a Index,
    namespace: Option<&str>,
    kind_filter: Option<&str>,
) -> Vec<(&'a Object, &'a EventView)> {
    let mut seen = std::collections::HashSet::new();
    let mut v: Vec<(&Object, &EventView)> = index
        .primary()
        .filter_map(|o| match &o.view {
            View::Event(e) => Some((o, e.as_ref())),
            _ => None,
        })
        .filter(|(o, _)| namespace.is_none_or(|n| n == o.key.namespace))
        .filter(|(_, e)| {
            kind_filter.is_none_or(|t| e.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(t)))
        })
        .filter(|(o, e)| {
            // Copies without uids: same namespace, object, reason, message and time.
            seen.insert((
                o.key.namespace.clone(),
                e.regarding.kind.clone(),
                e.regarding.name.clone(),
                e.reason.clone(),
                e.message.clone(),
                e.last.clone(),
            ))
        })
        .collect();
    v.sort_by(|(oa, a), (ob, b)| a.last.cmp(&b.last).then_with(|| oa.key.cmp(&ob.key)));
    v
}

fn name_of(o: &Object) -> String {
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

/// The timeline, oldest first, at most [`TIMELINE_MAX`] entries (the latest).
pub fn timeline(a: &Analysis) -> Vec<Entry> {
    let cap = a.bundle.created_at;
    let ago = |t: &str| {
        Age::at(Some(t), cap)
            .map(|x| format!("{x} before capture"))
            .unwrap_or_default()
    };
    let file = |o: &Object| {
        a.index
            .file_of(o)
            .map(|f| f.path.clone())
            .unwrap_or_default()
    };
    let mut out: Vec<Entry> = Vec::new();
    // Events, de-duplicated across API groups.
    for (o, e) in events(&a.index, None, None) {
        let Some(at) = e.last.clone() else { continue };
        if time::parse(&at).is_none() {
            continue;
        }
        let count = if e.count > 1 {
            format!(" (x{})", e.count)
        } else {
            String::new()
        };
        out.push(Entry {
            ago: ago(&at),
            at,
            kind: Kind::Event,
            text: format!(
                "{} {}/{}: {}{count}",
                e.reason.as_deref().unwrap_or(""),
                e.regarding.kind,
                e.regarding.name,
                crate::text::one_line(e.message.as_deref().unwrap_or(""), 240)
            ),
            level: if e.kind.as_deref() == Some("Warning") {
                Level::Warning
            } else {
                Level::Normal
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
                    "Upgrade" => Kind::Upgrade,
                    "ManagedChart" | "Bundle" => Kind::Fleet,
                    _ => Kind::Condition,
                };
                out.push(Entry {
                    ago: ago(&at),
                    at,
                    kind,
                    text: format!(
                        "{} {} → {}{}",
                        name_of(o),
                        c.kind,
                        c.status,
                        c.message
                            .as_deref()
                            .or(c.reason.as_deref())
                            .map(|m| format!(": {}", crate::text::one_line(m, 200)))
                            .unwrap_or_default()
                    ),
                    level: if bad { Level::Warning } else { Level::Normal },
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
    // (Pre-drain step markers say where a job is, not that something went wrong.)
    for h in a.log_hits.iter().filter(|h| {
        !h.issue
            .starts_with(crate::facts::upgrade::PRE_DRAIN_STEP_HIT)
    }) {
        let stamp = h
            .text
            .split_whitespace()
            .next()
            .filter(|w| time::parse(w).is_some())
            .map(str::to_string);
        if let Some(at) = stamp {
            out.push(Entry {
                ago: ago(&at),
                at,
                kind: Kind::Log,
                text: format!(
                    "{} ({}×): {}",
                    h.file.rsplit('/').nth(1).unwrap_or(&h.file),
                    h.count,
                    crate::text::one_line(&h.text, 240)
                ),
                level: Level::Warning,
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
fn keep_latest(out: &mut Vec<Entry>) {
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

#[cfg(test)]
mod tests {
    use super::{Entry, Kind, Level, TIMELINE_MAX, keep_latest};

    fn entry(i: u64) -> Entry {
        // Times repeat (i % 997 seconds) and texts repeat (i % 3), so there are ties and
        // duplicates; some times do not parse.
        let at = if i.is_multiple_of(101) {
            "not a time".to_string()
        } else {
            format!("2025-02-14T09:{:02}:{:02}Z", (i % 997) / 60, (i % 997) % 60)
        };
        Entry {
            at,
            ago: String::new(),
            kind: if i.is_multiple_of(2) {
                Kind::Event
            } else {
                Kind::Log
            },
            text: format!("t{}", i % 3),
            level: Level::Normal,
            object: None,
            evidence: None,
        }
    }

    #[test]
    fn pruning_early_keeps_the_same_latest_entries() {
        let all: Vec<Entry> = (0..5000u64).map(|i| entry(i * 7919 % 5003)).collect();
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

    /// Entries of one time sort by the name of their kind and level, as they did when both
    /// were strings: the order of the report's timeline does not depend on the enums' layout.
    #[test]
    fn kinds_and_levels_sort_by_name() {
        let report_name = |k: Kind| crate::report::TimelineKind::from(k).as_str();
        let kinds = [
            Kind::Condition,
            Kind::Event,
            Kind::Fleet,
            Kind::Log,
            Kind::Upgrade,
        ];
        for x in kinds {
            for y in kinds {
                assert_eq!(x.cmp(&y), report_name(x).cmp(report_name(y)), "{x:?} {y:?}");
            }
        }
        let level_name = |l: Level| crate::report::TimelineLevel::from(l).as_str();
        assert_eq!(
            Level::Normal.cmp(&Level::Warning),
            level_name(Level::Normal).cmp(level_name(Level::Warning))
        );
    }
}
