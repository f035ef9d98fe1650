//! Fleet rules: each claim Fleet recorded, judged against the captured objects by
//! `crate::fleet`, becomes a finding — `fleet.stale-status` (the capture contradicts the claim,
//! or Fleet cannot see the object as its own), `fleet.not-ready` (the capture confirms it, with
//! the real reason), `fleet.modified` (drift, classified benign or not) and `fleet.apply-error`
//! (deploy states, paused charts, the agent's heartbeat and workload). Every finding shows the
//! claim, the observation, the times of both, and the documented fix.
use crate::facts::harvester;
use crate::facts::version::Version;
use std::fmt::Write as _;

use super::{Context, Evidence, Finding, Input, ObjectRef, Rule, RuleDef, RuleInfo, Severity};
use crate::fleet::drift::Classification;
use crate::fleet::{
    self, Agent, Assertion, Claim, Era, FleetState, Judged, Source, Stale, Target, Verdict,
};
use crate::graph;
use crate::index::Object;
use crate::model::summary::Summary;
use crate::model::views::View;
use crate::model::{Age, Timestamp, condition, time};

const INPUTS: &[Input] = &[
    Input::Resources,
    Input::CaptureTime,
    Input::Resource("fleet.cattle.io", "bundles"),
    Input::Resource("management.cattle.io", "managedcharts"),
];

const FLEET_REFS: &[&str] = &[
    "https://github.com/harvester/harvester/issues/7454",
    "https://fleet.rancher.io/ref-status-fields",
];

/// The Fleet rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(RuleDef {
            info: STALE_INFO,
            eval: stale_status,
            checks: None,
            explain: None,
        }),
        Box::new(RuleDef {
            info: NOT_READY_INFO,
            eval: not_ready,
            checks: None,
            explain: None,
        }),
        Box::new(RuleDef {
            info: MODIFIED_INFO,
            eval: modified,
            checks: None,
            explain: None,
        }),
        Box::new(RuleDef {
            info: APPLY_INFO,
            eval: apply_error,
            checks: None,
            explain: None,
        }),
    ]
}

// ---------------------------------------------------------------- shared helpers

fn target_ref(t: &Target) -> ObjectRef {
    ObjectRef {
        api_version: if t.api_version.is_empty() {
            if t.group.is_empty() {
                "v1".into()
            } else {
                t.group.clone()
            }
        } else {
            t.api_version.clone()
        },
        kind: t.kind.clone(),
        namespace: t.namespace.clone(),
        name: t.name.clone(),
    }
}

fn at<'a>(cx: &Context<'a>, i: usize) -> Option<&'a Object> {
    cx.index.objects.get(i)
}

fn ago(ts: Option<&str>, capture: Option<Timestamp>) -> String {
    match (ts, Age::at(ts, capture)) {
        (Some(t), Some(a)) => format!("{t} ({a} before capture)"),
        (Some(t), None) => t.to_string(),
        _ => "unknown".into(),
    }
}

/// `ManagedChart fleet-local/harvester (Bundle mcc-harvester)`, or `Bundle fleet-local/x`.
fn source_label(cx: &Context, s: &Source) -> String {
    match s.chart.and_then(|i| at(cx, i)) {
        Some(c) if s.bundle.is_some() => format!(
            "ManagedChart {}/{} (Bundle {})",
            c.key.namespace, c.key.name, s.name
        ),
        Some(c) => format!("ManagedChart {}/{}", c.key.namespace, c.key.name),
        None => format!("Bundle {}/{}", s.namespace, s.name),
    }
}

/// `ManagedChart harvester`, else `Bundle mcc-x`.
fn short_label(cx: &Context, s: &Source) -> String {
    chart_name(cx, s)
        .map(|c| format!("ManagedChart {c}"))
        .unwrap_or_else(|| format!("Bundle {}", s.name))
}

fn chart_name(cx: &Context, s: &Source) -> Option<String> {
    s.chart.and_then(|i| at(cx, i)).map(|c| c.key.name.clone())
}

/// What a ManagedChart that is not Ready does to upgrades, as the running version (or
/// `--from-version`) behaves: the exact denial where that version checks ManagedCharts (C12),
/// no claim where it does not, and no quoted text where the version is unknown.
fn effect(cx: &Context, s: &Source) -> String {
    match chart_name(cx, s) {
        Some(c) if s.namespace == "fleet-local" => chart_effect(&c, cx.harvester_version()),
        _ => format!(
            "Effect: Bundle {}/{} is reported not Ready.",
            s.namespace, s.name
        ),
    }
}

fn chart_effect(chart: &str, running: Option<(Version, String)>) -> String {
    let c12 = harvester::check("C12");
    match running {
        Some((v, _)) => match harvester::managed_chart_denial(chart, &v) {
            Some(text) => format!(
                "Effect: ManagedChart {chart} is not Ready, so the upgrade webhook of {v} refuses \
                 a new Upgrade (check C12) with: {}.",
                harvester::as_user_sees(&text)
            ),
            None => format!(
                "Effect: ManagedChart {chart} is reported not Ready. The upgrade webhook of {v} \
                 does not check ManagedCharts (it does from {}), so this alone does not block an \
                 upgrade.",
                c12.map(|c| c.versions.to_string()).unwrap_or_default()
            ),
        },
        None => format!(
            "Effect: ManagedChart {chart} is reported not Ready. Harvester's upgrade webhook \
             ({}) refuses a new Upgrade while any ManagedChart in fleet-local is not Ready; the \
             running version is not known, so its exact denial text is not quoted.",
            c12.map(|c| c.versions.to_string()).unwrap_or_default()
        ),
    }
}

/// Observed counts of a workload, short: `7/7 available`, `0/1 ready`.
fn short_counts(o: &Object) -> Option<String> {
    let View::Workload(w) = &o.view else {
        return None;
    };
    let n = |x: Option<i64>| x.unwrap_or(0);
    Some(match o.key.kind.as_str() {
        "DaemonSet" => format!(
            "{}/{} available",
            n(w.number_available),
            n(w.desired_number_scheduled)
        ),
        _ => format!(
            "{}/{} ready",
            n(w.ready_replicas),
            w.spec_replicas.unwrap_or(1)
        ),
    })
}

/// Observed counts of a workload, in words.
fn counts(o: &Object) -> Option<String> {
    let View::Workload(w) = &o.view else {
        return None;
    };
    let n = |x: Option<i64>| x.unwrap_or(0);
    Some(match o.key.kind.as_str() {
        "DaemonSet" => format!(
            "{}/{} available (desired {}, current {}, updated {}, ready {})",
            n(w.number_available),
            n(w.desired_number_scheduled),
            n(w.desired_number_scheduled),
            n(w.current_number_scheduled),
            n(w.updated_number_scheduled),
            n(w.number_ready)
        ),
        _ => format!(
            "{}/{} ready (replicas {}, updated {}, available {})",
            n(w.ready_replicas),
            w.spec_replicas.unwrap_or(1),
            n(w.replicas),
            n(w.updated_replicas),
            n(w.available_replicas)
        ),
    })
}

fn generation(o: &Object) -> String {
    match (o.meta.generation, o.status.observed_generation) {
        (Some(g), Some(obs)) if g == obs => format!("generation {g} observed"),
        (Some(g), Some(obs)) => format!("generation {g}, observed {obs}"),
        (Some(g), None) => format!("generation {g}"),
        _ => String::new(),
    }
}

fn describe_observed(o: &Object, s: &Summary) -> String {
    let mut out = format!(
        "{} {}",
        o.key.kind,
        if o.key.namespace.is_empty() {
            o.key.name.clone()
        } else {
            format!("{}/{}", o.key.namespace, o.key.name)
        }
    );
    if s.is_ready() {
        out.push_str(" is ready");
    } else {
        out.push_str(" is not ready");
    }
    if let Some(c) = counts(o) {
        let _ = write!(out, ": {c}");
    }
    let g = generation(o);
    if !g.is_empty() {
        let _ = write!(out, "; {g}");
    }
    let _ = write!(
        out,
        ". Fleet's summarizer on the captured object gives: {}",
        if s.is_ready() {
            format!("{} ({})", s.state, s.message_text())
        } else {
            s.display()
        }
    );
    out
}

/// Bundle spec.forceSyncGeneration + 1.
fn next_sync(s: &Source) -> i64 {
    s.force_sync_generation.unwrap_or(0) + 1
}

fn resync_fix(cx: &Context, s: &Source) -> String {
    let st = cx.fleet;
    let mut out = String::new();
    let mut step = 1;
    if st.agent.heartbeat_stale() {
        let _ = writeln!(
            out,
            "{step}. First bring the fleet-agent back (see fleet.apply-error): nothing Fleet \
             reports changes while it is down. Read its logs (sbdiag logs -b BUNDLE -n {ns} \
             <fleet-agent pod> --previous), then redeploy it:\n   kubectl -n fleet-local patch \
             clusters.fleet.cattle.io local --type merge -p \
             '{{\"spec\":{{\"redeployAgentGeneration\":<status.agentDeployedGeneration + 1>}}}}'",
            ns = st.agent.namespace
        );
        step += 1;
    }
    if s.paused {
        let chart = chart_name(cx, s).unwrap_or_else(|| s.name.clone());
        let _ = writeln!(
            out,
            "{step}. Un-pause it (a paused bundle is skipped by the agent):\n   kubectl -n \
             fleet-local patch managedcharts.management.cattle.io {chart} --type merge -p \
             '{{\"spec\":{{\"paused\":false}}}}'"
        );
        step += 1;
    }
    let _ = writeln!(
        out,
        "{step}. Force Fleet to redeploy and re-evaluate the bundle (documented by Harvester, \
         upgrade notes v1.4.2→v1.5.0 known issue 3; a ManagedChart has no such field, patch \
         the Bundle):\n   kubectl -n {ns} patch bundles.fleet.cattle.io {name} --type merge \
         -p '{{\"spec\":{{\"forceSyncGeneration\":{n}}}}}'",
        ns = s.namespace,
        name = s.name,
        n = next_sync(s)
    );
    step += 1;
    let _ = writeln!(
        out,
        "{step}. Or restart the local fleet-agent, which re-evaluates every bundle:\n   \
         kubectl -n {ns} rollout restart {kind}/fleet-agent",
        ns = st.agent.namespace,
        kind = st.version.agent_kind()
    );
    if let Some(c) = chart_name(cx, s) {
        let _ = writeln!(
            out,
            "Then check: kubectl -n {} get managedcharts.management.cattle.io {c} (Ready should \
             turn True within minutes).",
            s.namespace
        );
    }
    let _ = write!(
        out,
        "Never delete the BundleDeployment (or the Bundle) of {} to reset it: the agent treats \
         that as \"uninstall the Helm release\" and removes the chart's components.",
        s.name
    );
    out
}

/// Why a claim cannot have been refreshed.
fn why_frozen(cx: &Context, s: &Source, changed_at: Option<&str>) -> String {
    let st = cx.fleet;
    let cap = cx.created_at;
    let mut why = Vec::new();
    if st.agent.heartbeat_stale() {
        why.push(format!(
            "the fleet-agent last checked in at {} (heartbeat every 15 min): it is down or cut \
             off, so every status Fleet shows is frozen",
            ago(st.agent.last_seen.as_deref(), cap)
        ));
    }
    if s.paused {
        why.push("the bundle is paused, and the agent skips paused bundles entirely".into());
    }
    if matches!(s.state.as_str(), "WaitApplied" | "ErrApplied") {
        why.push(format!(
            "the bundle is {}: the current deployment was never applied, so readiness still \
             describes the previous one",
            s.state
        ));
    }
    if why.is_empty() {
        match st.version.era {
            Era::EventDriven => {
                let mut w = format!(
                    "Fleet {} re-evaluates a bundle only on a watch event from one of its \
                     objects, a spec change or an agent restart — there is no periodic re-check \
                     since Fleet v0.10",
                    st.version.label()
                );
                if let Some(c) = changed_at {
                    let _ = write!(
                        w,
                        "; the object's last change at {} produced no re-evaluation (a missed \
                         watch event, harvester/harvester#7454)",
                        ago(Some(c), cap)
                    );
                }
                let restarted_after = st
                    .agent
                    .started_at
                    .as_deref()
                    .zip(changed_at)
                    .is_some_and(|(a, c)| a > c);
                if restarted_after {
                    let _ = write!(
                        w,
                        "; note the agent restarted at {} after that change and still kept the \
                         claim, which points at a failing monitor pass rather than a missed event",
                        ago(st.agent.started_at.as_deref(), cap)
                    );
                } else if let Some(a) = st.agent.started_at.as_deref() {
                    let _ = write!(
                        w,
                        "; the agent has run since {} without a restart",
                        ago(Some(a), cap)
                    );
                }
                why.push(w);
            }
            Era::Periodic => why.push(format!(
                "Fleet {} re-checks every bundle every 30 minutes, so a claim this old with the \
                 agent alive means the monitor pass is failing or fleet-controller/Rancher are \
                 not copying the status up",
                st.version.label()
            )),
        }
    }
    why.join("; ")
}

fn claim_line(c: &Claim) -> String {
    match &c.assertion {
        Assertion::NotReady(s) => format!("{} {}", c.target.fleet_name(), s.display()),
        Assertion::Drift(d) => format!(
            "{} {}",
            c.target.fleet_name(),
            match d {
                crate::model::fleet::Drift::Missing => "missing".to_string(),
                crate::model::fleet::Drift::NotOwned => "is not owned by us".to_string(),
                crate::model::fleet::Drift::Extra => "extra".to_string(),
                crate::model::fleet::Drift::Patch(p) =>
                    format!("modified {}", fleet::one_line(p, 300)),
            }
        ),
    }
}

fn claim_where(cx: &Context, s: &Source, c: &Claim) -> String {
    let rec = at(cx, c.recorded_in)
        .map(|o| format!("{} {}/{}", o.key.kind, o.key.namespace, o.key.name))
        .unwrap_or_default();
    let copy = match (s.bundle, s.chart) {
        (Some(b), Some(m)) if c.recorded_in == b => at(cx, m)
            .map(|o| {
                format!(
                    ", copied to ManagedChart {}/{}",
                    o.key.namespace, o.key.name
                )
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    format!("{rec} {}{copy}", c.field.path())
}

/// Evidence for a claim: where it is recorded (and the ManagedChart copy), at the first
/// mention of `namespace/name` as Fleet's status messages write it (the bare name can come
/// first in the spec: a Bundle's `spec.resources` holds `templates/<name>…` files).
fn claim_evidence(cx: &Context, s: &Source, t: &Target, rec: usize) -> Vec<Evidence> {
    let needle = if t.namespace.is_empty() {
        t.name.clone()
    } else {
        format!("{}/{}", t.namespace, t.name)
    };
    let at_claim = |o: &Object| Evidence::of(cx.index, o, Some(&needle));
    let mut out = Vec::new();
    if let Some(o) = at(cx, rec) {
        out.push(at_claim(o));
    }
    for other in [s.bundle, s.chart].into_iter().flatten() {
        if other != rec
            && let Some(o) = at(cx, other)
        {
            out.push(at_claim(o));
        }
    }
    out
}

fn source_objects(cx: &Context, s: &Source) -> Vec<ObjectRef> {
    [s.chart, s.bundle]
        .into_iter()
        .flatten()
        .filter_map(|i| at(cx, i))
        .map(ObjectRef::of)
        .collect()
}

/// The identity part of a claim's finding id: the Bundle and the resource it claims about
/// (`Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/harvester-whereabouts`).
fn subject(s: &Source, t: &Target) -> String {
    let ns = if t.namespace.is_empty() {
        String::new()
    } else {
        format!("{}/", t.namespace)
    };
    format!(
        "Bundle/{}/{}:{}/{ns}{}",
        s.namespace, s.name, t.kind, t.name
    )
}

fn target_of(cx: &Context, j: &Judged) -> Option<Target> {
    if let Some(c) = cx.fleet.claim(j) {
        return Some(c.target.clone());
    }
    let o = at(cx, j.live?)?;
    Some(Target {
        group: o.key.group.clone(),
        kind: o.key.kind.clone(),
        namespace: o.key.namespace.clone(),
        name: o.key.name.clone(),
        api_version: o.api_version(),
        uid: None,
    })
}

// ---------------------------------------------------------------- fleet.stale-status

const STALE_INFO: RuleInfo = RuleInfo {
    id: "fleet.stale-status",
    title: "Fleet status contradicted by the captured objects",
    description: "Recomputes the readiness of every object Fleet reports on (Bundle and \
        ManagedChart summaries, BundleDeployments, the Ready message) with Fleet's own \
        summarizer, for the Fleet version in the bundle, and reports claims the capture \
        contradicts: not ready / modified / missing while the object is ready, present and \
        matching, or ready while it is not; also objects Fleet cannot see as its own \
        (no objectset labels) and ManagedCharts whose copy of the Bundle status lags. Each \
        finding shows claimed vs observed, when each last changed, why the claim is frozen \
        and whether a resync clears it.",
    inputs: INPUTS,
    versions: "all (Fleet v0.7+ rules, both summarizer families)",
};

fn stale_status(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let st = cx.fleet;
    let mut out = Vec::new();
    for j in &st.judged {
        let Some(s) = st.sources.get(j.source) else {
            continue;
        };
        match &j.verdict {
            Verdict::Stale(kind) => out.push(stale_finding(cx, s, j, kind)),
            Verdict::InFlux {
                observed,
                changed_at,
            } => out.push(in_flux_finding(cx, s, j, observed, changed_at)),
            Verdict::NotOwned => out.push(not_owned_finding(cx, s, j)),
            _ => {}
        }
    }
    out.extend(chart_lag(cx));
    out.extend(cluster_lag(cx));
    out
}

/// S5: the fleet Cluster's summary names bundles in states their own status contradicts
/// (it says a bundle is not ready while the Bundle is Ready, or the reverse).
fn cluster_lag(cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(c) = cx.fleet.agent.cluster.and_then(|i| at(cx, i)) else {
        return out;
    };
    let View::Fleet(cv) = &c.view else {
        return out;
    };
    let listed: std::collections::BTreeMap<&str, &str> = cv
        .summary
        .non_ready_resources
        .iter()
        .map(|e| (e.name.as_str(), e.bundle_state.as_str()))
        .collect();
    let truncated = cv.summary.non_ready_resources.len() >= 10;
    for s in &cx.fleet.sources {
        if s.namespace != c.key.namespace || s.bundle.is_none() || s.ready.is_none() {
            continue;
        }
        let in_list = listed.get(s.name.as_str()).copied();
        let contradiction = match in_list {
            Some(state) if s.is_ready() => Some(format!(
                "the Cluster lists bundle {} as {state}, while the Bundle itself is Ready",
                s.name
            )),
            None if !s.is_ready() && !truncated => Some(format!(
                "the Bundle {} is {} but the Cluster's summary does not list it",
                s.name,
                if s.state.is_empty() {
                    "not Ready"
                } else {
                    s.state.as_str()
                }
            )),
            _ => None,
        };
        let Some(why) = contradiction else { continue };
        let Some(b) = s.bundle.and_then(|i| at(cx, i)) else {
            continue;
        };
        out.push(
            Finding::new(
                "fleet.stale-status",
                format!("Cluster/{}/{}:{}", c.key.namespace, c.key.name, s.name),
                Severity::Warning,
                format!(
                    "Cluster {}/{} and Bundle {} disagree",
                    c.key.namespace, c.key.name, s.name
                ),
            )
            .with_summary(format!(
                "fleet-controller recomputes the Cluster's summary from the same BundleDeployments \
                 as the Bundle's; here {why}. One of the two was not updated (controller lag)."
            ))
            .with_objects(vec![ObjectRef::of(c), ObjectRef::of(b)])
            .with_evidence(vec![
                Evidence::of(cx.index, c, Some(s.name.as_str())),
                Evidence::of(cx.index, b, Some("type: Ready")),
            ])
            .with_remediation(
                "Restart fleet-controller so it recomputes both: kubectl -n \
                          cattle-fleet-system rollout restart deployment/fleet-controller"
                    .into(),
            )
            .with_references(vec!["https://fleet.rancher.io/ref-status-fields".into()]),
        );
    }
    out
}

fn stale_finding(cx: &Context, s: &Source, j: &Judged, kind: &Stale) -> Finding {
    let cap = cx.created_at;
    let claim = cx.fleet.claim(j);
    let Some(t) = target_of(cx, j) else {
        return fallback(cx, s, j);
    };
    let live = j.live.and_then(|i| at(cx, i));
    let mut summary = String::new();
    let (title, severity) = match kind {
        Stale::NotReadyButReady(obs) | Stale::Recreated(obs) => {
            let claimed = match claim.map(|c| &c.assertion) {
                Some(Assertion::NotReady(c)) => c.message_text(),
                _ => String::new(),
            };
            let seen = live
                .and_then(short_counts)
                .unwrap_or_else(|| obs.state.clone());
            let blocks =
                !s.is_ready() && chart_name(cx, s).is_some() && s.namespace == "fleet-local";
            let lead = match (kind, blocks) {
                (Stale::Recreated(_), _) => "Fleet status is about a recreated object",
                (_, true) => "Stale Fleet status blocks upgrades",
                _ => "Fleet status is stale",
            };
            (
                format!(
                    "{lead}: {} claims {} {}/{} is not ready ({claimed}); the capture shows it \
                     ready ({seen})",
                    short_label(cx, s),
                    t.kind,
                    t.namespace,
                    t.name
                ),
                Severity::Error,
            )
        }
        Stale::ReadyButNotReady(obs) => (
            format!(
                "Fleet status is stale: {} reports Ready, but {} {}{} is not ready ({})",
                source_label(cx, s),
                t.kind,
                if t.namespace.is_empty() {
                    String::new()
                } else {
                    format!("{}/", t.namespace)
                },
                t.name,
                live.and_then(short_counts)
                    .unwrap_or_else(|| obs.message_text())
            ),
            if cx.fleet.agent.heartbeat_stale() {
                Severity::Error
            } else {
                Severity::Warning
            },
        ),
        Stale::MissingButPresent => (
            format!(
                "Fleet status is stale: {} says {} is missing, but it is in the capture with \
                 Fleet's labels",
                source_label(cx, s),
                t.fleet_name()
            ),
            Severity::Error,
        ),
        Stale::DriftGone => (
            format!(
                "Fleet status is stale: {} reports drift on {}, but the captured object \
                 matches the chart again",
                source_label(cx, s),
                t.fleet_name()
            ),
            Severity::Error,
        ),
        Stale::ExtraGone => (
            format!(
                "Fleet status is stale: {} reports {} as left over, but it is gone",
                source_label(cx, s),
                t.fleet_name()
            ),
            Severity::Error,
        ),
        Stale::ObjectGone => (
            format!(
                "Fleet status is stale: {} reports on {}, which no longer exists",
                source_label(cx, s),
                t.fleet_name()
            ),
            Severity::Error,
        ),
    };
    // Claimed vs observed, side by side.
    if let Some(c) = claim {
        let _ = writeln!(
            summary,
            "Claimed by Fleet ({}):\n  {}\n  recorded {} (Ready condition lastUpdateTime), \
             bundle state {}",
            claim_where(cx, s, c),
            claim_line(c),
            ago(s.claimed_at(), cap),
            if c.bundle_state.is_empty() {
                s.state.as_str()
            } else {
                c.bundle_state.as_str()
            }
        );
    } else {
        let _ = writeln!(
            summary,
            "Claimed by Fleet: {} is Ready (Ready condition True since {}), so every object of \
             its release is ready as far as Fleet knows.",
            source_label(cx, s),
            ago(s.claimed_at(), cap)
        );
    }
    let mut extra_evidence = Vec::new();
    match (live, kind) {
        (Some(o), Stale::ReadyButNotReady(obs)) => {
            let _ = writeln!(
                summary,
                "Observed in the capture:\n  {}",
                describe_observed(o, obs)
            );
            let why = reason_for(cx, o);
            for l in why.lines.iter().take(4) {
                let _ = writeln!(summary, "  - {l}");
            }
            extra_evidence = why.evidence;
        }
        (Some(o), Stale::NotReadyButReady(obs)) => {
            let _ = writeln!(
                summary,
                "Observed in the capture:\n  {}",
                describe_observed(o, obs)
            );
        }
        (Some(o), Stale::Recreated(obs)) => {
            let _ = writeln!(
                summary,
                "Observed in the capture:\n  {}\n  Its uid is {} while Fleet recorded {}: the \
                 object was recreated at {} and the claim is about the previous one.",
                describe_observed(o, obs),
                o.meta.uid,
                t.uid.as_deref().unwrap_or("?"),
                ago(o.meta.creation_timestamp.as_deref(), cap)
            );
        }
        (Some(o), _) => {
            let _ = writeln!(
                summary,
                "Observed in the capture: {} {} exists{}.",
                o.key.kind,
                o.key.name,
                if graph::owned_by_fleet(o) {
                    " and carries Fleet's objectset labels"
                } else {
                    ""
                }
            );
        }
        (None, _) => {
            let _ = writeln!(
                summary,
                "Observed in the capture: no such object, although its list was collected."
            );
        }
    }
    let change = j
        .live
        .and_then(|l| fleet::last_change_detail(cx.index, cx.graph, l));
    if let Some(ch) = &change {
        let order = match s
            .claimed_at()
            .and_then(time::parse)
            .zip(time::parse(&ch.at))
        {
            Some((cl, t)) if t > cl => "after Fleet's claim",
            Some(_) => "before Fleet's claim",
            None => "",
        };
        let _ = writeln!(
            summary,
            "The object last changed {}: {}, {order}.",
            ago(Some(&ch.at), cap),
            ch.what
        );
    }
    let _ = writeln!(
        summary,
        "Why the claim is frozen: {}.",
        why_frozen(cx, s, j.changed_at.as_deref())
    );
    let resync = match kind {
        Stale::ReadyButNotReady(_) => {
            "A resync makes Fleet report the object's real state; the object itself still needs \
             fixing (see the object's own findings)."
        }
        _ => "A resync clears it: the object is fine, only Fleet's record is old.",
    };
    let _ = writeln!(summary, "{resync}");
    if !s.is_ready() {
        let _ = write!(summary, "{}", effect(cx, s));
    }
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&t));
    let mut evidence = match claim {
        Some(c) => claim_evidence(cx, s, &t, c.recorded_in),
        None => s
            .primary()
            .and_then(|i| at(cx, i))
            .map(|o| vec![Evidence::of(cx.index, o, Some("type: Ready"))])
            .unwrap_or_default(),
    };
    if let Some(o) = live {
        evidence.push(Evidence::of(cx.index, o, Some("  status:")));
    }
    if let Some(ch) = &change
        && Some(ch.object) != j.live
        && let Some(p) = at(cx, ch.object)
    {
        evidence.push(Evidence::of(
            cx.index,
            p,
            Some(&format!("lastTransitionTime: \"{}\"", ch.at)),
        ));
    }
    evidence.extend(extra_evidence);
    if let Some(c) = cx.fleet.agent.cluster.and_then(|i| at(cx, i)) {
        evidence.push(Evidence::of(cx.index, c, Some("lastSeen")));
    }
    Finding::new("fleet.stale-status", subject(s, &t), severity, title)
        .with_summary(summary.trim_end().to_string())
        .with_objects(objects)
        .with_evidence(evidence)
        .with_remediation(resync_fix(cx, s))
        .with_references(FLEET_REFS.iter().map(|s| s.to_string()).collect())
}

fn fallback(cx: &Context, s: &Source, j: &Judged) -> Finding {
    Finding::new(
        "fleet.stale-status",
        format!("Bundle/{}/{}:{}", s.namespace, s.name, j.claim),
        Severity::Warning,
        format!(
            "Fleet status of {} contradicts the capture",
            source_label(cx, s)
        ),
    )
    .with_objects(source_objects(cx, s))
    .with_remediation(resync_fix(cx, s))
}

fn in_flux_finding(
    cx: &Context,
    s: &Source,
    j: &Judged,
    observed: &Summary,
    changed_at: &str,
) -> Finding {
    let t = target_of(cx, j).unwrap_or_else(|| Target {
        group: String::new(),
        kind: String::new(),
        namespace: String::new(),
        name: String::new(),
        api_version: String::new(),
        uid: None,
    });
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&t));
    let mut evidence = Vec::new();
    if let Some(o) = j.live.and_then(|i| at(cx, i)) {
        evidence.push(Evidence::of(cx.index, o, Some("  status:")));
    }
    Finding::new(
        "fleet.stale-status",
        subject(s, &t),
        Severity::Info,
        format!(
            "Fleet and the capture disagree on {} {}, which changed minutes before capture",
            t.kind, t.name
        ),
    )
    .with_summary(format!(
        "{} and the captured object disagree (observed: {}), but the object last changed \
             {}, within {} minutes of the capture: the bundle caught it mid-change and Fleet \
             lags by seconds. Not a stale claim.",
        source_label(cx, s),
        if observed.is_ready() {
            "ready".to_string()
        } else {
            observed.display()
        },
        ago(Some(changed_at), cx.created_at),
        fleet::IN_FLUX_SECS / 60
    ))
    .with_objects(objects)
    .with_evidence(evidence)
    .with_remediation(
        "Nothing to do unless it persists: take a new support bundle in a few \
                      minutes and compare (sbdiag diff OLD NEW)."
            .into(),
    )
}

fn not_owned_finding(cx: &Context, s: &Source, j: &Judged) -> Finding {
    let claim = cx.fleet.claim(j);
    let t = target_of(cx, j).unwrap_or_else(|| Target {
        group: String::new(),
        kind: String::new(),
        namespace: String::new(),
        name: String::new(),
        api_version: String::new(),
        uid: None,
    });
    let live = j.live.and_then(|i| at(cx, i));
    let mut summary = String::new();
    if let Some(c) = claim {
        let _ = writeln!(
            summary,
            "Claimed by Fleet ({}):\n  {}",
            claim_where(cx, s, c),
            claim_line(c)
        );
    }
    let hook = live.and_then(|o| o.meta.annotations.get("helm.sh/hook").cloned());
    if let (Some(o), Some(h)) = (live, hook.as_deref()) {
        let _ = writeln!(
            summary,
            "Observed: {} exists (created {}) and is a Helm hook ({h}). Helm creates hook \
             objects itself, outside Fleet's apply, so they never carry Fleet's objectset \
             labels and Fleet reports them missing — a false \"missing\" (S9 in sbdiag's Fleet \
             notes). The object is fine; a resync does not clear the report, because the hook is \
             recreated the same way on every install or upgrade.",
            t.fleet_name(),
            ago(o.meta.creation_timestamp.as_deref(), cx.created_at)
        );
    } else if let Some(o) = live {
        let id = o
            .meta
            .annotations
            .get(graph::OBJECTSET_ID)
            .map(String::as_str)
            .unwrap_or("(none)");
        let hash = if o.meta.labels.contains_key(graph::OBJECTSET_HASH) {
            "present"
        } else {
            "absent"
        };
        let _ = writeln!(
            summary,
            "Observed: {} exists (created {}), but its annotation {} is {id} and its label {} is \
             {hash}: Fleet only counts objects carrying both, so it reports this one as missing \
             and leaves it out of readiness (harvester/harvester#5505). A resync does not clear \
             this.",
            t.fleet_name(),
            ago(o.meta.creation_timestamp.as_deref(), cx.created_at),
            graph::OBJECTSET_ID,
            graph::OBJECTSET_HASH
        );
    }
    if !s.is_ready() {
        let _ = write!(summary, "{}", effect(cx, s));
    }
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&t));
    let mut evidence = claim
        .map(|c| claim_evidence(cx, s, &t, c.recorded_in))
        .unwrap_or_default();
    if let Some(o) = live {
        evidence.push(Evidence::of(
            cx.index,
            o,
            hook.as_deref().map(|_| "helm.sh/hook:"),
        ));
    }
    Finding::new(
        "fleet.stale-status",
        subject(s, &t),
        Severity::Error,
        match hook.as_deref() {
            Some(h) => format!(
                "Fleet reports Helm hook {} missing although it exists ({h} hooks lack Fleet's \
                 labels); {} stays not Ready",
                t.fleet_name(),
                chart_name(cx, s)
                    .map(|c| format!("ManagedChart {c}"))
                    .unwrap_or_else(|| format!("Bundle {}", s.name))
            ),
            None => format!(
                "Fleet cannot see {} as its own: it exists without Fleet's objectset labels, so \
                 {} reports it missing",
                t.fleet_name(),
                source_label(cx, s)
            ),
        },
    )
    .with_summary(summary.trim_end().to_string())
    .with_objects(objects)
    .with_evidence(evidence)
    .with_remediation(if hook.is_some() {
        hook_fix(cx, s, &t)
    } else {
        not_owned_fix(cx, s, &t)
    })
    .with_references(vec![
        "https://github.com/harvester/harvester/issues/5505".into(),
    ])
}

/// The objectset hash label carried by the other objects of a bundle's release.
fn release_hash(cx: &Context, s: &Source) -> Option<String> {
    let id = graph::objectset_id(&s.name);
    cx.index
        .primary()
        .filter(|o| o.meta.annotations.get(graph::OBJECTSET_ID) == Some(&id))
        .find_map(|o| o.meta.labels.get(graph::OBJECTSET_HASH).cloned())
}

fn kubectl_target(t: &Target) -> String {
    format!(
        "{}{} {}",
        if t.namespace.is_empty() {
            String::new()
        } else {
            format!("-n {} ", t.namespace)
        },
        t.kind.to_lowercase(),
        t.name
    )
}

fn hook_fix(cx: &Context, s: &Source, t: &Target) -> String {
    let hash = release_hash(cx, s).unwrap_or_else(|| {
        "<the objectset.rio.cattle.io/hash label of the bundle's other objects>".into()
    });
    format!(
        "Give the hook Fleet's markers so that Fleet counts it, then let Fleet re-evaluate:\n   \
         kubectl annotate {tgt} {id}={idv}\n   kubectl label {tgt} {hl}={hash}\n   kubectl -n \
         {bns} patch bundles.fleet.cattle.io {bundle} --type merge -p \
         '{{\"spec\":{{\"forceSyncGeneration\":{n}}}}}'\nThe next install or upgrade of the chart \
         recreates the hook without them; deleting it does not help either (Helm recreates it the \
         same way). Do not delete the Bundle or its BundleDeployment.",
        tgt = kubectl_target(t),
        id = graph::OBJECTSET_ID,
        idv = graph::objectset_id(&s.name),
        hl = graph::OBJECTSET_HASH,
        bns = s.namespace,
        bundle = s.name,
        n = next_sync(s),
    )
}

fn not_owned_fix(cx: &Context, s: &Source, t: &Target) -> String {
    let hash = release_hash(cx, s).unwrap_or_else(|| {
        "<the objectset.rio.cattle.io/hash label of the bundle's other objects>".into()
    });
    format!(
        "Let Fleet adopt the object again. Either delete it and force a redeploy so Helm \
             recreates it with Fleet's labels (only if nothing depends on it meanwhile):\n   \
             kubectl delete {kind} {nsflag}{name}\n   kubectl -n {bns} patch bundles.fleet.cattle.io \
             {bundle} --type merge -p '{{\"spec\":{{\"forceSyncGeneration\":{n}}}}}'\nor add the \
             markers by hand: annotation {id}={idv} and label {hl}={hash}.",
        kind = t.kind.to_lowercase(),
        nsflag = if t.namespace.is_empty() {
            String::new()
        } else {
            format!("-n {} ", t.namespace)
        },
        name = t.name,
        bns = s.namespace,
        bundle = s.name,
        n = next_sync(s),
        id = graph::OBJECTSET_ID,
        idv = graph::objectset_id(&s.name),
        hl = graph::OBJECTSET_HASH,
    )
}

/// S6: a ManagedChart whose status copy disagrees with its Bundle, or whose `Defined` is False.
fn chart_lag(cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &cx.fleet.sources {
        let (Some(bi), Some(mi)) = (s.bundle, s.chart) else {
            continue;
        };
        let (Some(b), Some(m)) = (at(cx, bi), at(cx, mi)) else {
            continue;
        };
        let br = condition(&b.status.conditions, "Ready");
        let mr = condition(&m.status.conditions, "Ready");
        let defined = condition(&m.status.conditions, "Defined");
        let mut why = Vec::new();
        if let Some(d) = defined.filter(|d| d.status == "False") {
            why.push(format!(
                "its Defined condition is False since {} ({}): Rancher's handler fails before \
                 it copies the Bundle status",
                ago(d.last_update_time.as_deref(), cx.created_at),
                d.message.as_deref().unwrap_or("no message")
            ));
        }
        let differs = match (br, mr) {
            (Some(b), Some(m)) => b.status != m.status || b.message != m.message,
            (Some(_), None) => true,
            _ => false,
        };
        if differs {
            why.push(format!(
                "its Ready condition ({}) differs from Bundle {}'s ({})",
                mr.map(|c| c.status.as_str()).unwrap_or("absent"),
                s.name,
                br.map(|c| c.status.as_str()).unwrap_or("absent")
            ));
        }
        if why.is_empty() {
            continue;
        }
        let mr_false = mr.is_some_and(|c| c.status != "True");
        out.push(
            Finding::new(
                "fleet.stale-status",
                format!("ManagedChart/{}/{}", m.key.namespace, m.key.name),
                if mr_false {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                format!(
                    "ManagedChart {} shows a stale copy of Bundle {}'s status",
                    m.key.name, s.name
                ),
            )
            .with_summary(format!(
                "Rancher copies the Bundle's status into the ManagedChart; here {}. The upgrade \
                 webhook reads the ManagedChart, not the Bundle.",
                why.join("; ")
            ))
            .with_objects(vec![ObjectRef::of(m), ObjectRef::of(b)])
            .with_evidence(vec![
                Evidence::of(cx.index, m, Some("type: Defined")),
                Evidence::of(cx.index, b, Some("type: Ready")),
            ])
            .with_remediation(
                "Fix what blocks Rancher's ManagedChart handler (the Defined message; \
                          usually the chart cannot be fetched from ClusterRepo harvester-charts), \
                          then restart Rancher so it copies the status again:\n   kubectl -n \
                          cattle-system rollout restart deployment/rancher"
                    .into(),
            )
            .with_references(vec!["https://fleet.rancher.io/ref-status-fields".into()]),
        );
    }
    out
}

// ---------------------------------------------------------------- fleet.not-ready

const NOT_READY_INFO: RuleInfo = RuleInfo {
    id: "fleet.not-ready",
    title: "Bundle or ManagedChart not ready, confirmed by the captured objects",
    description: "For each object Fleet reports not ready, the recomputed readiness of the \
        captured object agrees: the finding names the object and the real reason — pods not \
        ready and on which node, image pull and crash-loop errors, unschedulable pods, a \
        deletion stuck on a finalizer and since when, the Warning events — so a Fleet resync \
        will not help.",
    inputs: INPUTS,
    versions: "all",
};

fn not_ready(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let st = cx.fleet;
    let mut out = Vec::new();
    for j in &st.judged {
        let Verdict::ConfirmedNotReady {
            observed,
            detail_differs,
        } = &j.verdict
        else {
            continue;
        };
        let (Some(s), Some(c)) = (st.sources.get(j.source), st.claim(j)) else {
            continue;
        };
        let Some(o) = j.live.and_then(|i| at(cx, i)) else {
            continue;
        };
        out.push(not_ready_finding(cx, s, c, o, observed, *detail_differs));
    }
    out
}

/// The real reason an object is not ready, with the evidence for it.
struct Reason {
    lines: Vec<String>,
    evidence: Vec<Evidence>,
    fixes: Vec<String>,
    objects: Vec<ObjectRef>,
}

fn reason_for(cx: &Context, o: &Object) -> Reason {
    let cap = cx.created_at;
    let mut r = Reason {
        lines: Vec::new(),
        evidence: Vec::new(),
        fixes: Vec::new(),
        objects: Vec::new(),
    };
    let Some(oi) = cx.index.position(&o.key) else {
        return r;
    };
    if let Some(d) = &o.meta.deletion_timestamp {
        let fins = o.meta.finalizer_names();
        r.lines.push(format!(
            "Deletion requested {} but not finished: finalizers {}.",
            ago(Some(d), cap),
            if fins.is_empty() {
                "none (waiting on dependents)".to_string()
            } else {
                fins.join(", ")
            }
        ));
        r.evidence
            .push(Evidence::of(cx.index, o, Some("deletionTimestamp")));
        if fins.contains(&"kubernetes.io/pvc-protection") && o.key.kind == "PersistentVolumeClaim" {
            let users: Vec<&Object> = cx
                .index
                .of_kind("", "Pod")
                .filter(|p| {
                    p.key.namespace == o.key.namespace
                        && matches!(&p.view, View::Pod(v) if v.claims.contains(&o.key.name))
                })
                .collect();
            if users.is_empty() {
                r.lines.push(
                    "No captured pod mounts it, so kubernetes.io/pvc-protection should have been \
                     released: check kube-controller-manager."
                        .into(),
                );
            } else {
                r.lines.push(format!(
                    "kubernetes.io/pvc-protection holds it while pods still use it: {}.",
                    users
                        .iter()
                        .map(|p| p.key.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                for p in users {
                    r.evidence
                        .push(Evidence::of(cx.index, p, Some(&o.key.name)));
                    r.objects.push(ObjectRef::of(p));
                }
            }
            r.fixes.push(format!(
                "The PVC finishes deleting once no pod uses it. If the deletion was intended, \
                 stop or delete the pods that mount it; if not, the chart needs the PVC back: \
                 after it is gone, force a redeploy so Helm recreates it. Do not strip the \
                 finalizer by hand while a pod still writes to {}.",
                o.key.name
            ));
        } else {
            r.fixes.push(
                "Find what holds the finalizer (its controller's logs) and let it finish; remove \
                 a finalizer by hand only when its controller is gone for good."
                    .into(),
            );
        }
    }
    let mut pods: Vec<usize> = cx.graph.pods_of(cx.index, oi);
    if o.key.kind == "Pod" {
        pods = vec![oi];
    }
    let mut bad = 0;
    for p in pods {
        let Some(po) = at(cx, p) else { continue };
        if let Some(problem) = fleet::pod_problem(po) {
            bad += 1;
            if bad <= 5 {
                r.lines.push(format!("Pod {problem}."));
                r.evidence
                    .push(Evidence::of(cx.index, po, Some("containerStatuses")));
                r.objects.push(ObjectRef::of(po));
                if let View::Pod(v) = &po.view {
                    let waiting: Vec<&str> = v
                        .container_statuses
                        .iter()
                        .chain(&v.init_container_statuses)
                        .filter_map(|c| c.state.waiting.as_ref()?.reason.as_deref())
                        .collect();
                    if waiting
                        .iter()
                        .any(|w| *w == "ImagePullBackOff" || *w == "ErrImagePull")
                    {
                        let imgs: Vec<&str> =
                            v.containers.iter().map(|c| c.image.as_str()).collect();
                        r.fixes.push(format!(
                            "Make the image available to the node ({}): on an air-gapped \
                             cluster push it to the private registry or import it into \
                             containerd on every node; the kubelet retries on its own.",
                            imgs.join(", ")
                        ));
                    }
                    if waiting.contains(&"CrashLoopBackOff") {
                        r.fixes.push(format!(
                            "Read why the container exits: sbdiag logs -b BUNDLE -n {} {} \
                             --previous",
                            po.key.namespace, po.key.name
                        ));
                    }
                    if let Some(n) = v.node_name.as_deref()
                        && let Some(node) = cx.index.find("", "Node", "", n)
                        && condition(&node.status.conditions, "Ready")
                            .is_some_and(|c| c.status != "True")
                    {
                        r.lines.push(format!("Its node {n} is NotReady."));
                        r.evidence
                            .push(Evidence::of(cx.index, node, Some("type: Ready")));
                    }
                }
            }
        }
    }
    if bad > 5 {
        r.lines
            .push(format!("… and {} more pods not ready.", bad - 5));
    }
    // Warning events about the object or its pods, newest first.
    let names: std::collections::BTreeSet<&str> = std::iter::once(o.key.name.as_str())
        .chain(r.objects.iter().map(|x| x.name.as_str()))
        .collect();
    let mut evs: Vec<(&Object, String, String)> = cx
        .index
        .of_kind("", "Event")
        .chain(cx.index.of_kind("events.k8s.io", "Event"))
        .filter_map(|e| match &e.view {
            View::Event(v)
                if v.kind.as_deref() == Some("Warning")
                    && e.key.namespace == o.key.namespace
                    && names.contains(v.regarding.name.as_str()) =>
            {
                Some((
                    e,
                    v.last.clone().unwrap_or_default(),
                    format!(
                        "{} {}: {}",
                        v.reason.as_deref().unwrap_or(""),
                        v.regarding.name,
                        fleet::head_tail(v.message.as_deref().unwrap_or(""), 300)
                    ),
                ))
            }
            _ => None,
        })
        .collect();
    // Most telling first: the kubelet's detailed messages before its "Error: <reason>" echoes.
    let generic = |t: &str| t.contains(": Error: ") || t.contains(": Back-off ");
    evs.sort_by(|a, b| {
        generic(&a.2)
            .cmp(&generic(&b.2))
            .then_with(|| b.1.cmp(&a.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    evs.dedup_by(|a, b| a.2 == b.2);
    for (e, last, text) in evs.into_iter().take(3) {
        r.lines.push(format!(
            "Event (Warning, last {}): {text}",
            ago(Some(&last), cap)
        ));
        r.evidence.push(Evidence::of(cx.index, e, Some("message:")));
    }
    if r.fixes.is_empty() {
        r.fixes.push(format!(
            "Fix {} {} itself (sbdiag describe {} {} -n {}); Fleet follows within seconds of \
             its next status change.",
            o.key.kind,
            o.key.name,
            o.key.kind.to_lowercase(),
            o.key.name,
            o.key.namespace
        ));
    }
    r
}

fn not_ready_finding(
    cx: &Context,
    s: &Source,
    c: &Claim,
    o: &Object,
    observed: &Summary,
    detail_differs: bool,
) -> Finding {
    let cap = cx.created_at;
    let reason = reason_for(cx, o);
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "Claimed by Fleet ({}):\n  {}\n  recorded {}",
        claim_where(cx, s, c),
        claim_line(c),
        ago(s.claimed_at(), cap)
    );
    let _ = writeln!(
        summary,
        "Observed in the capture:\n  {}",
        describe_observed(o, observed)
    );
    if detail_differs {
        let _ = writeln!(
            summary,
            "Fleet's numbers are older than the capture (the verdict is right, the detail is \
             not refreshed)."
        );
    }
    if !reason.lines.is_empty() {
        let _ = writeln!(summary, "Why:");
        for l in &reason.lines {
            let _ = writeln!(summary, "  - {l}");
        }
    }
    let _ = writeln!(
        summary,
        "Fleet is right: a resync will not make it Ready until the object recovers."
    );
    if !s.is_ready() {
        let _ = write!(summary, "{}", effect(cx, s));
    }
    let mut objects = source_objects(cx, s);
    objects.push(ObjectRef::of(o));
    objects.extend(reason.objects);
    let mut evidence = claim_evidence(cx, s, &c.target, c.recorded_in);
    evidence.push(Evidence::of(cx.index, o, Some("  status:")));
    evidence.extend(reason.evidence);
    let first_reason = reason
        .lines
        .first()
        .map(|l| format!(": {}", l.trim_end_matches('.')))
        .unwrap_or_default();
    Finding::new(
        "fleet.not-ready",
        subject(s, &c.target),
        Severity::Error,
        format!(
            "{} not ready because {} is not ready ({}){}",
            chart_name(cx, s)
                .map(|n| format!("ManagedChart {n}"))
                .unwrap_or_else(|| format!("Bundle {}", s.name)),
            c.target.fleet_name(),
            short_counts(o).unwrap_or_else(|| observed.message_text()),
            fleet::one_line(&first_reason, 160)
        ),
    )
    .with_summary(summary.trim_end().to_string())
    .with_objects(objects)
    .with_evidence(evidence)
    .with_remediation(reason.fixes.join("\n"))
}

// ---------------------------------------------------------------- fleet.modified

const MODIFIED_INFO: RuleInfo = RuleInfo {
    id: "fleet.modified",
    title: "Drift between a Fleet-deployed chart and the cluster, classified",
    description: "For each object Fleet reports modified, missing or extra, compares Fleet's \
        recorded patch with the captured object field by field: drift limited to a webhook \
        caBundle (and the failurePolicy a cert job writes) is benign by design, an edited \
        image or replica count of a chart-managed workload is not, a missing object whose list \
        was collected is confirmed. Drift keeps the bundle (and its ManagedChart) not Ready, \
        which blocks Harvester upgrades.",
    inputs: INPUTS,
    versions: "all",
};

fn modified(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let st = cx.fleet;
    let mut out = Vec::new();
    for j in &st.judged {
        let (Some(s), Some(c)) = (st.sources.get(j.source), st.claim(j)) else {
            continue;
        };
        match &j.verdict {
            Verdict::Drifted(class) => out.push(drift_finding(cx, s, c, j, class)),
            Verdict::ConfirmedMissing => out.push(missing_finding(cx, s, c)),
            Verdict::Unverifiable(why) if matches!(c.assertion, Assertion::Drift(_)) => {
                out.push(unverifiable_finding(cx, s, c, why))
            }
            _ => {}
        }
    }
    out
}

fn compare_patch_path(path: &str) -> String {
    // webhooks[0].clientConfig.caBundle → /webhooks/0/clientConfig/caBundle
    let mut out = String::new();
    for part in path.split('.') {
        out.push('/');
        match part.split_once('[') {
            Some((name, idx)) => {
                out.push_str(name);
                out.push('/');
                out.push_str(idx.trim_end_matches(']'));
            }
            None => out.push_str(part),
        }
    }
    out
}

fn drift_finding(
    cx: &Context,
    s: &Source,
    c: &Claim,
    j: &Judged,
    class: &Classification,
) -> Finding {
    let live = j.live.and_then(|i| at(cx, i));
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "Claimed by Fleet ({}):\n  {}",
        claim_where(cx, s, c),
        claim_line(c)
    );
    if !class.fields.is_empty() {
        let _ = writeln!(summary, "Fields that differ (chart → cluster):");
        for f in &class.fields {
            let _ = writeln!(summary, "  - {}: {} → {}", f.path, f.chart, f.live);
        }
    }
    let _ = writeln!(
        summary,
        "Classification: {} — {}.",
        if class.benign { "benign" } else { "not benign" },
        class.reason
    );
    if let Some(o) = live {
        let _ = writeln!(
            summary,
            "The object was created {}.",
            ago(o.meta.creation_timestamp.as_deref(), cx.created_at)
        );
    }
    if !s.is_ready() {
        let _ = write!(summary, "{}", effect(cx, s));
    }
    let chart = chart_name(cx, s);
    let remediation = if class.benign {
        let pointers: Vec<String> = class
            .fields
            .iter()
            .map(|f| compare_patch_path(&f.path))
            .collect();
        let mut r = String::new();
        let _ = writeln!(
            r,
            "Leave the object as it is (the field is managed at run time: reverting it would be \
             undone, or break the webhook) and tell Fleet to ignore the field with a \
             diff.comparePatches entry{}:",
            match &chart {
                Some(n) => format!(
                    " in ManagedChart {n} (Rancher copies spec.diff into the Bundle): kubectl -n \
                     {} edit managedcharts.management.cattle.io {n}, and append to spec.diff.comparePatches",
                    s.namespace
                ),
                None => " in the bundle's fleet.yaml (diff.comparePatches)".into(),
            }
        );
        let _ = writeln!(
            r,
            "  - apiVersion: {}\n    kind: {}\n    name: {}{}\n    jsonPointers:",
            c.target.api_version,
            c.target.kind,
            c.target.name,
            if c.target.namespace.is_empty() {
                String::new()
            } else {
                format!("\n    namespace: {}", c.target.namespace)
            }
        );
        for p in pointers {
            let _ = writeln!(r, "    - {p}");
        }
        let _ = write!(
            r,
            "Fleet then reports the bundle Ready on its next pass (force one by bumping the \
             Bundle's spec.forceSyncGeneration to {}).",
            next_sync(s)
        );
        r
    } else if c.assertion == Assertion::Drift(crate::model::fleet::Drift::Extra) {
        format!(
            "If the object is no longer wanted, delete it (kubectl delete {} {}{}); otherwise \
             add it back to the chart.",
            c.target.kind.to_lowercase(),
            if c.target.namespace.is_empty() {
                String::new()
            } else {
                format!("-n {} ", c.target.namespace)
            },
            c.target.name
        )
    } else {
        format!(
            "Decide which state is wanted. To return to the chart's values, force a redeploy \
             (Helm re-applies them):\n   kubectl -n {} patch bundles.fleet.cattle.io {} --type \
             merge -p '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'\nTo keep the change, make it \
             in the chart's values ({}) instead of editing the object, or Fleet keeps reporting \
             the bundle Modified.",
            s.namespace,
            s.name,
            next_sync(s),
            chart
                .as_deref()
                .map(|n| format!("ManagedChart {n} spec.values"))
                .unwrap_or_else(|| "the bundle's values".into())
        )
    };
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&c.target));
    let mut evidence = claim_evidence(cx, s, &c.target, c.recorded_in);
    if let Some(o) = live {
        let focus = class.fields.first().map(|f| {
            let leaf = f.path.rsplit('.').next().unwrap_or(&f.path);
            let leaf = leaf.split('[').next().unwrap_or(leaf);
            if f.live.len() < 40 && !f.live.contains('…') && f.live != "(unset)" {
                format!("{leaf}: {}", f.live)
            } else {
                format!("{leaf}:")
            }
        });
        evidence.push(Evidence::of(cx.index, o, focus.as_deref()));
    }
    // Benign drift is harmless to the cluster but still makes the chart not Ready.
    let severity = if class.benign {
        Severity::Warning
    } else if chart.is_some() {
        Severity::Error
    } else {
        Severity::Warning
    };
    Finding::new(
        "fleet.modified",
        subject(s, &c.target),
        severity,
        format!(
            "{} drift on {} ({}): {}",
            if class.benign { "Benign" } else { "Chart" },
            c.target.fleet_name(),
            short_label(cx, s),
            if class.fields.is_empty() {
                fleet::one_line(&class.reason, 80)
            } else {
                class
                    .fields
                    .iter()
                    .map(|f| f.path.rsplit('.').next().unwrap_or(&f.path).to_string())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
                    + " changed"
            }
        ),
    )
    .with_summary(summary.trim_end().to_string())
    .with_objects(objects)
    .with_evidence(evidence)
    .with_remediation(remediation)
    .with_references(vec!["https://fleet.rancher.io/bundle-diffs".into()])
}

fn missing_finding(cx: &Context, s: &Source, c: &Claim) -> Finding {
    let mut summary = format!(
        "Claimed by Fleet ({}):\n  {}\nObserved: the list that would hold it was collected and \
         it is not there, so the object is really missing.\n",
        claim_where(cx, s, c),
        claim_line(c)
    );
    if !s.is_ready() {
        summary.push_str(&effect(cx, s));
    }
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&c.target));
    Finding::new(
        "fleet.modified",
        subject(s, &c.target),
        if chart_name(cx, s).is_some() {
            Severity::Error
        } else {
            Severity::Warning
        },
        format!(
            "{} is missing from the cluster ({} reports it)",
            c.target.fleet_name(),
            source_label(cx, s)
        ),
    )
    .with_summary(summary.trim_end().to_string())
    .with_objects(objects)
    .with_evidence(claim_evidence(cx, s, &c.target, c.recorded_in))
    .with_remediation(format!(
        "Recreate it by forcing a redeploy of the release (Helm re-applies every object):\n   \
             kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
             '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'\nIf something deletes it again, find \
             what (events, audit log).",
        s.namespace,
        s.name,
        next_sync(s)
    ))
    .with_references(vec!["https://fleet.rancher.io/bundle-diffs".into()])
}

fn unverifiable_finding(cx: &Context, s: &Source, c: &Claim, why: &str) -> Finding {
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&c.target));
    Finding::new(
        "fleet.modified",
        subject(s, &c.target),
        Severity::Warning,
        format!(
            "{} reports {} — the bundle cannot confirm it",
            source_label(cx, s),
            fleet::one_line(&claim_line(c), 120)
        ),
    )
    .with_summary(format!(
        "Claimed by Fleet ({}):\n  {}\nNot verifiable from this bundle: {why}.{}",
        claim_where(cx, s, c),
        claim_line(c),
        if s.is_ready() {
            String::new()
        } else {
            format!("\n{}", effect(cx, s))
        }
    ))
    .with_objects(objects)
    .with_evidence(claim_evidence(cx, s, &c.target, c.recorded_in))
    .with_remediation(format!(
        "Check on the cluster: kubectl get {} {}{}; if it is really missing or changed, \
             force a redeploy: kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
             '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'",
        c.target.kind.to_lowercase(),
        if c.target.namespace.is_empty() {
            String::new()
        } else {
            format!("-n {} ", c.target.namespace)
        },
        c.target.name,
        s.namespace,
        s.name,
        next_sync(s)
    ))
}

// ---------------------------------------------------------------- fleet.apply-error

const APPLY_INFO: RuleInfo = RuleInfo {
    id: "fleet.apply-error",
    title: "Fleet cannot apply or report: deploy errors, paused charts, agent down",
    description: "Bundles in ErrApplied / WaitApplied / OutOfSync / Pending (with the deploy \
        error), paused Bundles and ManagedCharts, Bundles whose spec the controller has not \
        processed, and the local fleet-agent: its heartbeat (Cluster fleet-local/local \
        status.agent.lastSeen, every 15 min) old at capture time, a cluster waiting for \
        check-in, or its workload not ready.",
    inputs: &[
        Input::Resources,
        Input::CaptureTime,
        Input::Resource("fleet.cattle.io", "bundles"),
        Input::Resource("fleet.cattle.io", "clusters"),
    ],
    versions: "all",
};

fn apply_error(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut out = agent_findings(cx, &cx.fleet.agent);
    for s in &cx.fleet.sources {
        out.extend(source_state_findings(cx, s));
    }
    out
}

fn agent_findings(cx: &Context, a: &Agent) -> Vec<Finding> {
    let cap = cx.created_at;
    let st: &FleetState = cx.fleet;
    let mut out = Vec::new();
    let cluster = a.cluster.and_then(|i| at(cx, i));
    let workload = a.workload.and_then(|i| at(cx, i));
    let pod_evidence = |out: &mut Vec<Evidence>, objs: &mut Vec<ObjectRef>| {
        for &p in &a.pods {
            if let Some(po) = at(cx, p)
                && fleet::pod_problem(po).is_some()
            {
                out.push(Evidence::of(cx.index, po, Some("containerStatuses")));
                objs.push(ObjectRef::of(po));
            }
        }
    };
    let restart = format!(
        "kubectl -n {} rollout restart {}/fleet-agent",
        a.namespace,
        st.version.agent_kind()
    );
    let redeploy = "kubectl -n fleet-local patch clusters.fleet.cattle.io local --type merge -p \
                    '{\"spec\":{\"redeployAgentGeneration\":<status.agentDeployedGeneration + 1>}}'";
    if let Some(c) = cluster {
        let wait_checkin = matches!(&c.view, View::Fleet(f) if f.display.get("state").map(String::as_str) == Some("WaitCheckIn"));
        if a.heartbeat_stale() || wait_checkin || (a.last_seen.is_none() && cap.is_some()) {
            let mut evidence = vec![Evidence::of(cx.index, c, Some("lastSeen"))];
            let mut objects = vec![ObjectRef::of(c)];
            if let Some(w) = workload {
                evidence.push(Evidence::of(cx.index, w, Some("  status:")));
                objects.push(ObjectRef::of(w));
            }
            pod_evidence(&mut evidence, &mut objects);
            let mut summary = match a.last_seen.as_deref() {
                Some(ls) => format!(
                    "Cluster fleet-local/local status.agent.lastSeen is {}; the agent patches it \
                     every 15 minutes while it runs. Every BundleDeployment status — and so \
                     every Bundle, ManagedChart and Cluster status — is frozen since then: \
                     Fleet may call broken workloads Ready, or healthy ones not ready.",
                    ago(Some(ls), cap)
                ),
                None => "Cluster fleet-local/local has no status.agent.lastSeen: the agent \
                         never checked in (display state WaitCheckIn)."
                    .to_string(),
            };
            if a.problems.is_empty() {
                if a.workload.is_none() {
                    summary.push_str(&format!(
                        "\nNo fleet-agent workload was captured in {}.",
                        a.namespace
                    ));
                }
            } else {
                summary.push_str("\nThe agent's pods: ");
                summary.push_str(&a.problems.join("; "));
                summary.push('.');
            }
            out.push(
                Finding::new(
                    "fleet.apply-error",
                    "agent/fleet-local/local",
                    Severity::Error,
                    format!(
                        "The local fleet-agent is not checking in: last seen {}{}",
                        a.last_seen_age
                            .map(|s| format!("{} before capture", Age(s)))
                            .unwrap_or_else(|| "never".into()),
                        a.problems
                            .first()
                            .map(|p| format!(" ({})", fleet::one_line(p, 100)))
                            .unwrap_or_default()
                    ),
                )
                .with_summary(summary)
                .with_objects(objects)
                .with_evidence(evidence)
                .with_remediation(format!(
                    "1. Find why it stops: sbdiag logs -b BUNDLE -n {ns} <fleet-agent pod> \
                     --previous (API server reachability, certificates, leader election).\n2. \
                     Restart it: {restart}\n3. If it does not come back or is missing, redeploy \
                     it (Fleet docs, \"Agent is no longer registered\"; Harvester's upgrade \
                     script does the same):\n   {redeploy}\nThen every bundle is re-evaluated \
                     once, and Fleet's statuses are current again.",
                    ns = a.namespace
                ))
                .with_references(vec![
                    "https://fleet.rancher.io/troubleshooting".into(),
                    "https://github.com/harvester/harvester/issues/6255".into(),
                ]),
            );
            return out;
        }
    }
    if !a.problems.is_empty() {
        let mut evidence = Vec::new();
        let mut objects = Vec::new();
        if let Some(w) = workload {
            evidence.push(Evidence::of(cx.index, w, Some("  status:")));
            objects.push(ObjectRef::of(w));
        }
        pod_evidence(&mut evidence, &mut objects);
        let title = format!(
            "The local fleet-agent workload is unhealthy: {}",
            fleet::one_line(&a.problems.join("; "), 140)
        );
        let summary = format!(
            "Its heartbeat is still recent ({}), but the agent's pods are not ready: {}. While it \
             is down nothing Fleet reports is refreshed.",
            ago(a.last_seen.as_deref(), cap),
            a.problems.join("; ")
        );
        let fix = format!(
            "Read its logs (sbdiag logs -b BUNDLE -n {} <pod> --previous) and restart it: \
             {restart}",
            a.namespace
        );
        out.push(
            Finding::new(
                "fleet.apply-error",
                "agent-workload",
                Severity::Warning,
                title,
            )
            .with_summary(summary)
            .with_objects(objects)
            .with_evidence(evidence)
            .with_remediation(fix)
            .with_references(vec!["https://fleet.rancher.io/troubleshooting".into()]),
        );
    }
    out
}

fn source_state_findings(cx: &Context, s: &Source) -> Vec<Finding> {
    let cap = cx.created_at;
    let mut out = Vec::new();
    let Some(p) = s.primary().and_then(|i| at(cx, i)) else {
        return out;
    };
    let label = source_label(cx, s);
    let chart = chart_name(cx, s);
    for (cluster, state, message) in &s.entries {
        let (sev, what, fix) = match state.as_str() {
            "ErrApplied" => (
                Severity::Error,
                "the agent failed to deploy the current version",
                format!(
                    "Fix the deploy error above (Helm's message), then force a retry:\n   \
                     kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
                     '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'",
                    s.namespace,
                    s.name,
                    next_sync(s)
                ),
            ),
            "WaitApplied" => (
                if chart.is_some() {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                "the current version is not applied yet; readiness still describes the previous one",
                format!(
                    "Check the agent (fleet.apply-error on the agent, its logs), then force a \
                     retry: kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
                     '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'",
                    s.namespace,
                    s.name,
                    next_sync(s)
                ),
            ),
            "OutOfSync" => (
                Severity::Warning,
                "a new version is staged but not released (rollout held or bundle paused)",
                "Un-pause the bundle or its ManagedChart if it is paused; otherwise check the \
                 rollout strategy (maxUnavailable) of the bundle."
                    .to_string(),
            ),
            "Pending" => (
                Severity::Warning,
                "no BundleDeployment exists yet for the target cluster",
                "Check fleet-controller (cattle-fleet-system) logs and the bundle's targets."
                    .to_string(),
            ),
            _ => continue,
        };
        let msg = message
            .as_deref()
            .map(|m| format!(" Deploy message: {}", fleet::one_line(m, 400)))
            .unwrap_or_default();
        let mut summary = format!(
            "{label} is {state} for {cluster}: {what}.{msg} Recorded {}.",
            ago(s.claimed_at(), cap)
        );
        if !s.is_ready() {
            summary.push('\n');
            summary.push_str(&effect(cx, s));
        }
        out.push(
            Finding::new(
                "fleet.apply-error",
                format!("Bundle/{}/{}:{}", s.namespace, s.name, state.to_lowercase()),
                sev,
                format!(
                    "{label}: {state}{}",
                    message
                        .as_deref()
                        .map(|m| format!(" — {}", fleet::one_line(m, 120)))
                        .unwrap_or_default()
                ),
            )
            .with_summary(summary)
            .with_objects(source_objects(cx, s))
            .with_evidence(vec![Evidence::of(cx.index, p, Some(state.as_str()))])
            .with_remediation(fix)
            .with_references(vec!["https://fleet.rancher.io/ref-status-fields".into()]),
        );
    }
    if s.paused {
        let target = chart.clone().unwrap_or_else(|| s.name.clone());
        let res = if chart.is_some() {
            "managedcharts.management.cattle.io"
        } else {
            "bundles.fleet.cattle.io"
        };
        out.push(
            Finding::new(
                "fleet.apply-error",
                format!("Bundle/{}/{}:paused", s.namespace, s.name),
                Severity::Warning,
                format!("{label} is paused: Fleet neither deploys nor re-evaluates it"),
            )
            .with_summary(
                "spec.paused is true. The agent skips paused bundles entirely, so their status \
                 stays frozen and staged versions wait (OutOfSync). Harvester pauses the \
                 harvester, harvester-crd, rancher-monitoring-crd and rancher-logging-crd \
                 charts during an upgrade; a stopped or failed upgrade can leave them paused."
                    .into(),
            )
            .with_objects(source_objects(cx, s))
            .with_evidence(
                [s.chart, s.bundle]
                    .into_iter()
                    .flatten()
                    .filter_map(|i| at(cx, i))
                    .map(|o| Evidence::of(cx.index, o, Some("paused:")))
                    .collect(),
            )
            .with_remediation(format!(
                "If no upgrade is running, resume it (Harvester upgrade troubleshooting, \"Stop \
                 the ongoing upgrade\", step 4):\n   kubectl -n {} patch {res} {target} --type \
                 merge -p '{{\"spec\":{{\"paused\":false}}}}'",
                s.namespace
            ))
            .with_references(vec![
                "https://docs.harvesterhci.io/v1.4/upgrade/troubleshooting".into(),
            ]),
        );
    }
    for &d in &s.deployments {
        let Some(bo) = at(cx, d) else { continue };
        let View::Fleet(bd) = &bo.view else { continue };
        let want = bd.force_sync_generation.unwrap_or(0);
        if want > 0 && bd.sync_generation != Some(want) {
            let title = format!(
                "Forced sync of {} not completed: forceSyncGeneration {want}, syncGeneration {}",
                s.name,
                bd.sync_generation
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "unset".into())
            );
            let fix = format!(
                "Check the agent (its logs, fleet.apply-error on the agent); restart it if it is \
                 stuck: kubectl -n {} rollout restart {}/fleet-agent",
                cx.fleet.agent.namespace,
                cx.fleet.version.agent_kind()
            );
            let summary = "The agent has not finished a deploy and status pass since \
                           forceSyncGeneration was bumped; until it does, the BundleDeployment's \
                           readiness describes the state before the bump.";
            out.push(
                Finding::about("fleet.apply-error", bo, Severity::Warning, title)
                    .with_subject_aspect("sync")
                    .with_summary(summary.into())
                    .with_evidence(vec![Evidence::of(cx.index, bo, Some("syncGeneration"))])
                    .with_remediation(fix),
            );
        }
        if let (Some(b), Some(bundle)) = (s.force_sync_generation, s.bundle.and_then(|i| at(cx, i)))
            && bd.force_sync_generation.unwrap_or(0) != b
        {
            let title = format!(
                "Bundle {} forceSyncGeneration {b} not propagated to its BundleDeployment ({})",
                s.name,
                bd.force_sync_generation.unwrap_or(0)
            );
            let summary = "fleet-controller copies the Bundle's forceSyncGeneration into the \
                           BundleDeployment's options; it has not, so the forced redeploy has \
                           not reached the agent.";
            out.push(
                Finding::new(
                    "fleet.apply-error",
                    format!("{}:propagation", ObjectRef::of(bo).subject()),
                    Severity::Warning,
                    title,
                )
                .with_summary(summary.into())
                .with_objects(vec![ObjectRef::of(bundle), ObjectRef::of(bo)])
                .with_evidence(vec![
                    Evidence::of(cx.index, bundle, Some("forceSyncGeneration")),
                    Evidence::of(cx.index, bo, Some("forceSyncGeneration")),
                ])
                .with_remediation(RESTART_CONTROLLER.into()),
            );
        }
    }
    if let (Some(g), Some(obs)) = s.generation
        && g != obs
        && let Some(b) = s.bundle.and_then(|i| at(cx, i))
    {
        let title = format!(
            "Bundle {} spec not processed: generation {g}, observed {obs}",
            s.name
        );
        let summary = "fleet-controller has not finished a pass over the Bundle's current spec, \
                       so its status (and the ManagedChart copy) describes an older spec.";
        out.push(
            Finding::about("fleet.apply-error", b, Severity::Warning, title)
                .with_subject_aspect("generation")
                .with_summary(summary.into())
                .with_evidence(vec![Evidence::of(cx.index, b, Some("observedGeneration"))])
                .with_remediation(RESTART_CONTROLLER.into()),
        );
    }
    out
}

/// Restarting fleet-controller, the fix for a controller pass that did not happen.
const RESTART_CONTROLLER: &str = "Check fleet-controller in cattle-fleet-system (pods, logs) and \
                                  restart it: kubectl -n cattle-fleet-system rollout restart \
                                  deployment/fleet-controller";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effect_follows_the_running_version() {
        let at = |v: &str| Some((Version::parse(v), "test".to_string()));
        assert!(chart_effect("harvester", at("v1.4.0")).ends_with(
            "denied the request: managed chart harvester is not ready, please wait for it to be \
             ready."
        ));
        assert!(chart_effect("harvester", at("v1.7.1")).ends_with("be ready or fix it."));
        let old = chart_effect("harvester", at("v1.1.0"));
        assert!(old.contains("does not check ManagedCharts (it does from v1.1.2+)"));
        assert!(!old.contains("denied the request"));
        let unknown = chart_effect("harvester", None);
        assert!(!unknown.contains("denied the request"));
        assert!(unknown.contains("not quoted"));
    }

    #[test]
    fn compare_patch_pointers() {
        assert_eq!(
            compare_patch_path("webhooks[0].clientConfig.caBundle"),
            "/webhooks/0/clientConfig/caBundle"
        );
    }
}
