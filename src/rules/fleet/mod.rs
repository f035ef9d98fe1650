//! Fleet rules: each claim Fleet recorded, judged against the captured objects by
//! `crate::fleet`, becomes a finding — `fleet.stale-status` (the capture contradicts the claim,
//! or Fleet cannot see the object as its own), `fleet.not-ready` (the capture confirms it, with
//! the real reason), `fleet.modified` (drift, classified benign or not) and `fleet.apply-error`
//! (deploy states, paused charts, the agent's heartbeat and workload). Every finding shows the
//! claim, the observation, the times of both, and the documented fix.
use crate::facts::harvester;
use crate::facts::version::Version;
use crate::rules::finding::topic;
use std::fmt::Write as _;

use super::{Context, Evidence, Finding, Input, ObjectRef, Rule, RuleDef, RuleInfo, Severity};
use crate::facts::objectset;
use crate::fleet::drift::Classification;
use crate::fleet::{
    self, Agent, Assertion, Claim, Era, FleetState, Judged, Source, Stale, Target, Verdict,
};
use crate::index::Object;
use crate::model::summary::Summary;
use crate::model::views::View;
use crate::model::{Age, Timestamp, condition, time};
use crate::text;

mod apply_error;
mod modified;
mod not_ready;
mod stale;

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
        Box::new(RuleDef::new(stale::STALE_INFO, stale::stale_status)),
        Box::new(RuleDef::new(
            not_ready::NOT_READY_INFO,
            not_ready::not_ready,
        )),
        Box::new(RuleDef::new(modified::MODIFIED_INFO, modified::modified)),
        Box::new(RuleDef::new(
            apply_error::APPLY_INFO,
            apply_error::apply_error,
        )),
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
    time::with_age(ts, capture).unwrap_or_else(|| "unknown".into())
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

/// Whether the running version's upgrade webhook refuses upgrades for a not-Ready ManagedChart
/// (check C12); `None` when the version is not known.
fn c12_applies(cx: &Context) -> Option<bool> {
    let (v, _) = cx.harvester_version()?;
    Some(harvester::check("C12").is_some_and(|c| c.exists_in(&v)))
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

/// How to read the local fleet-agent's logs: one `sbdiag logs` line per agent pod the bundle
/// holds (its previous instance), else in words where to look.
pub(super) fn agent_logs(cx: &Context) -> String {
    let a = &cx.fleet.agent;
    let lines: Vec<String> = a
        .pods
        .iter()
        .filter_map(|&p| at(cx, p))
        .map(|p| {
            format!(
                "$ {}",
                cx.sbdiag(
                    "logs",
                    &format!("-n {} {} --previous", p.key.namespace, p.key.name)
                )
            )
        })
        .collect();
    if lines.is_empty() {
        format!(
            "The bundle holds no fleet-agent pod; on the cluster `kubectl -n {} get pods` lists \
             them, and `kubectl logs --previous` on each shows why it stopped.",
            a.namespace
        )
    } else {
        lines.join("\n")
    }
}

/// The command that redeploys the local fleet-agent: `spec.redeployAgentGeneration` of the
/// fleet Cluster fleet-local/local set to its `status.agentDeployedGeneration + 1`, with the
/// value from the bundle; in words when the bundle does not hold it.
pub(super) fn redeploy_agent(cx: &Context) -> String {
    let cluster = cx.fleet.agent.cluster.and_then(|i| at(cx, i));
    let generation = cluster.and_then(|c| match &c.view {
        View::Fleet(f) => f.agent_deployed_generation,
        _ => None,
    });
    match (cluster, generation) {
        (Some(c), Some(g)) => format!(
            "$ kubectl -n {} patch clusters.fleet.cattle.io {} --type merge -p \
             '{{\"spec\":{{\"redeployAgentGeneration\":{}}}}}'",
            c.key.namespace,
            c.key.name,
            g + 1
        ),
        _ => "Set spec.redeployAgentGeneration of clusters.fleet.cattle.io fleet-local/local to \
              its status.agentDeployedGeneration + 1 (the bundle does not hold it; `kubectl -n \
              fleet-local get clusters.fleet.cattle.io local -o \
              jsonpath='{.status.agentDeployedGeneration}'` prints it)."
            .into(),
    }
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
             reports changes while it is down. Read its logs, then redeploy it:\n{}\n{}",
            agent_logs(cx),
            redeploy_agent(cx)
        );
        step += 1;
    }
    if s.paused {
        let chart = chart_name(cx, s).unwrap_or_else(|| s.name.clone());
        let _ = writeln!(
            out,
            "{step}. Un-pause it (a paused bundle is skipped by the agent):\n$ kubectl -n \
             fleet-local patch managedcharts.management.cattle.io {chart} --type merge -p \
             '{{\"spec\":{{\"paused\":false}}}}'"
        );
        step += 1;
    }
    let _ = writeln!(
        out,
        "{step}. Force Fleet to redeploy and re-evaluate the bundle (documented by Harvester, \
         upgrade notes v1.4.2→v1.5.0 known issue 3; a ManagedChart has no such field, patch \
         the Bundle):\n$ kubectl -n {ns} patch bundles.fleet.cattle.io {name} --type merge \
         -p '{{\"spec\":{{\"forceSyncGeneration\":{n}}}}}'",
        ns = s.namespace,
        name = s.name,
        n = next_sync(s)
    );
    step += 1;
    let _ = writeln!(
        out,
        "{step}. Or restart the local fleet-agent, which re-evaluates every bundle:\n$ \
         kubectl -n {ns} rollout restart {kind}/fleet-agent",
        ns = st.agent.namespace,
        kind = st.version.agent_kind()
    );
    if let Some(c) = chart_name(cx, s) {
        let _ = writeln!(
            out,
            "Then check that Ready turns True within minutes:\n$ kubectl -n {} get \
             managedcharts.management.cattle.io {c}",
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
                    format!("modified {}", text::one_line(p, 300)),
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

/// The correlation key of a source's chart (see `rules::finding::topic::chart`).
fn chart_topic(s: &Source) -> String {
    topic::chart(&s.namespace, &s.name)
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
}
