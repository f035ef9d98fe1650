//! Pre-check #15 Pod-Status: no pod with Ready=False, completed pods exempt.
use std::fmt::Write as _;

use super::{Hit, RES, findings, full, of_kind, subject};
use crate::facts::upgrade::owned_by_running;
use crate::index::Object;
use crate::model::condition;
use crate::model::views::View;
use crate::rules::{Context, Input, RuleDef, RuleInfo, Severity};

pub(super) const POD_STATUS: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.pod-status",
        title: "Pre-check #15 Pod-Status: no pod with Ready=False (except completed ones)",
        description: "check_error_pods fails on every Pod with a condition Ready=False whose \
            reason is not PodCompleted (pods of finished Jobs are exempt; a pod without a \
            Ready condition is not flagged).",
        inputs: &[RES, Input::Resource("", "pods")],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| findings(info, cx, &[], eval_pod_status(cx)),
);

fn pod_status<'a>(pods: &[&'a Object]) -> Vec<Hit<'a>> {
    pods.iter()
        .filter_map(|p| {
            let c = condition(&p.status.conditions, "Ready")?;
            if c.status != "False" || c.reason.as_deref() == Some("PodCompleted") {
                return None;
            }
            let phase = p.status.phase.as_deref().unwrap_or("(no phase)");
            let (display, node, waiting) = match &p.view {
                View::Pod(v) => {
                    let (ready, total) = v.ready_count();
                    let bad: Vec<String> = v
                        .container_statuses
                        .iter()
                        .filter(|s| s.ready != Some(true))
                        .map(|s| {
                            let why = s
                                .state
                                .waiting
                                .as_ref()
                                .and_then(|w| w.reason.clone())
                                .or_else(|| {
                                    s.state.terminated.as_ref().map(|t| {
                                        t.reason.clone().unwrap_or_else(|| "Terminated".into())
                                    })
                                })
                                .unwrap_or_else(|| "not ready".into());
                            format!("{} {why}", s.name)
                        })
                        .collect();
                    (
                        format!(
                            "{} ({ready}/{total} ready)",
                            v.display_status(
                                p.status.phase.as_deref(),
                                p.meta.deletion_timestamp.is_some()
                            )
                        ),
                        v.node_name.clone(),
                        bad,
                    )
                }
                _ => (phase.to_string(), None, Vec::new()),
            };
            let on = node.map(|n| format!(" on {n}")).unwrap_or_default();
            let reason = c.reason.as_deref().unwrap_or("no reason");
            let mut summary = format!(
                "Pod {}{on}: phase {phase}, {display}; condition Ready=False, reason {reason}{}.",
                full(p),
                c.last_transition_time
                    .as_deref()
                    .map(|t| format!(" since {t}"))
                    .unwrap_or_default()
            );
            if !waiting.is_empty() {
                let _ = write!(summary, " Containers not ready: {}.", waiting.join(", "));
            }
            let _ = write!(
                summary,
                "\ncheck_error_pods fails on every pod with Ready=False whose reason is not \
                 PodCompleted and lists {}; Pod-Status Test: Failed.",
                full(p)
            );
            Some(Hit {
                subject: subject(p, ""),
                severity: Severity::Error,
                title: format!("Pod {} is not Ready: {display}", full(p)),
                summary,
                objects: vec![(*p, Some("type: Ready".into()))],
                remediation: format!(
                    "Fix the pod {ns}/{name} before upgrading: its events, container states \
                     and logs say why it is not Ready.",
                    ns = p.key.namespace,
                    name = p.key.name
                ),
            })
        })
        .collect()
}

fn eval_pod_status<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    let mut hits = pod_status(&of_kind(cx.index, "", "Pod"));
    for h in &mut hits {
        if let Some((p, _)) = h.objects.first() {
            in_context(cx, p, h);
        }
    }
    hits
}

/// What owns a pod, as far as the fix is concerned.
enum Owner<'a> {
    /// A Job of an upgrade that is still running: the upgrade waits for it.
    RunningUpgrade(String),
    /// A static pod: the API object mirrors the kubelet's manifest on its node.
    Mirror,
    /// A DaemonSet, which recreates the pod on its node.
    DaemonSet(&'a str),
    /// Its owner is gone from a collected list, or is a Job that finished: the pod is left
    /// behind and may be deleted.
    LeftBehind(String),
    /// Anything else (a live workload, or an owner the capture cannot judge).
    Other,
}

fn owner<'a>(cx: &Context<'a>, p: &'a Object) -> Owner<'a> {
    if let Some((upgrade, _)) = owned_by_running(cx.index, p) {
        return Owner::RunningUpgrade(upgrade);
    }
    if p.meta.annotations.contains_key(MIRROR_ANNOTATION) {
        return Owner::Mirror;
    }
    let Some(o) = p.meta.controller() else {
        return Owner::Other;
    };
    let group = o.api_version.split_once('/').map_or("", |(g, _)| g);
    if o.kind == "DaemonSet" {
        return Owner::DaemonSet(&o.name);
    }
    let plural = match o.kind.as_str() {
        "ReplicaSet" => "replicasets",
        "Job" => "jobs",
        "StatefulSet" => "statefulsets",
        _ => return Owner::Other,
    };
    match cx.index.find(group, &o.kind, &p.key.namespace, &o.name) {
        None if cx.collected(group, plural) => {
            Owner::LeftBehind(format!("its {} {} is not in the bundle", o.kind, o.name))
        }
        Some(j) if o.kind == "Job" => match &j.view {
            View::Job(v) if v.active.unwrap_or(0) == 0 && v.completion_time.is_some() => {
                Owner::LeftBehind(format!("its Job {} has completed", o.name))
            }
            View::Job(v) if v.active.unwrap_or(0) == 0 && v.failed.unwrap_or(0) > 0 => {
                Owner::LeftBehind(format!(
                    "its Job {} has failed and runs no pod; its logs say why, read them first",
                    o.name
                ))
            }
            _ => Owner::Other,
        },
        _ => Owner::Other,
    }
}

/// Annotation the kubelet sets on the API mirror of a static pod.
const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Words and a fix that fit the pod's context: the node it runs on, who owns it, whether it
/// is being deleted. Never a delete for a static pod, a DaemonSet's pod or a pod a running
/// upgrade waits for.
fn in_context<'a>(cx: &Context<'a>, p: &'a Object, h: &mut Hit<'a>) {
    let (ns, name) = (&p.key.namespace, &p.key.name);
    let node = match &p.view {
        View::Pod(v) => v.node_name.as_deref(),
        _ => None,
    };
    let dead_node = node.and_then(|n| {
        let no = cx.index.find("", "Node", "", n)?;
        let ready = condition(&no.status.conditions, "Ready");
        ready
            .is_none_or(|c| c.status != "True")
            .then(|| (n, ready.map_or("Unknown", |c| c.status.as_str())))
    });
    let terminating = p.meta.deletion_timestamp.is_some();
    let owner = owner(cx, p);
    let describe = format!(
        "`{}` shows its events and containers.",
        cx.sbdiag("describe", &format!("pod -n {ns} {name}"))
    );
    if let Some((n, ready)) = dead_node {
        h.severity = Severity::Warning;
        h.title = format!("Pod {} is on NotReady node {n}", full(p));
        h.summary = format!(
            "{}\nNode {n} is not Ready (Ready={ready}): the pod's status is the last its kubelet \
             reported, and Kubernetes marked the pod not Ready because the node stopped \
             reporting. The capture does not show whether its containers still run.",
            h.summary
        );
        let node_bound = matches!(owner, Owner::Mirror | Owner::DaemonSet(_));
        h.remediation = if terminating && node_bound {
            format!(
                "The fix is node {n}, not the pod (see node.not-ready). The pod is Terminating \
                 and belongs to the node (a static pod or a DaemonSet's): it goes when {n} \
                 comes back or is removed from the cluster. Do not delete it by hand."
            )
        } else if terminating {
            format!(
                "The fix is node {n}, not the pod (see node.not-ready). The pod is Terminating: \
                 it finishes when {n} comes back or is removed from the cluster.\n\
                 Only if {n} is gone for good, the documented last resort is a force delete:\n\
                 $ kubectl -n {ns} delete pod {name} --force --grace-period=0"
            )
        } else {
            format!(
                "The fix is node {n}, not the pod (see node.not-ready): once {n} is Ready again \
                 its kubelet reports the pod's real state."
            )
        };
        if let Owner::RunningUpgrade(u) = owner {
            h.remediation.push_str(&format!(
                "\nIt belongs to upgrade {u}, which is still running: do not delete it or its Job."
            ));
        }
        return;
    }
    h.remediation = match owner {
        Owner::RunningUpgrade(u) => format!(
            "The pod belongs to a Job of upgrade {u}, which is still running: do not delete the \
             pod or its Job (the upgrade waits for them). See upgrade.stuck for what it waits \
             on. {describe}"
        ),
        Owner::Mirror => format!(
            "It is the mirror of a static pod that the kubelet{} runs from its manifest: \
             deleting it changes nothing. Fix what the kubelet reports for it. {describe}",
            node.map(|n| format!(" of {n}")).unwrap_or_default()
        ),
        Owner::DaemonSet(ds) => format!(
            "DaemonSet {ns}/{ds} runs it on its node and recreates it: deleting it is not the \
             fix. Fix why it is not Ready. {describe}"
        ),
        Owner::LeftBehind(why) => format!(
            "It is left behind ({why}), so it can be deleted:\n$ kubectl -n {ns} delete pod \
             {name}"
        ),
        Owner::Other => format!("Fix the pod before upgrading: {describe}"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::precheck::fixtures::object;

    fn pod(name: &str, status: &str, reason: &str) -> Object {
        object(
            "Pod",
            "",
            &format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ns\nspec:\n  \
                 containers:\n  - name: c\n    image: i\nstatus:\n  conditions:\n  - reason: \
                 {reason}\n    status: \"{status}\"\n    type: Ready\n  phase: Running\n"
            ),
        )
    }

    #[test]
    fn pod_status_exempts_pod_completed() {
        let done = pod("job-x", "False", "PodCompleted");
        let broken = pod("web", "False", "ContainersNotReady");
        let fine = pod("ok", "True", "null");
        let no_cond = object(
            "Pod",
            "",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pending\n  namespace: ns\nstatus:\n  phase: Pending\n",
        );
        let hits = pod_status(&[&done, &broken, &fine, &no_cond]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].subject, "Pod/ns/web");
        assert!(hits[0].summary.contains("ContainersNotReady"));
        // Nothing says the pod is left behind: no delete is offered.
        assert!(!hits[0].remediation.contains("delete"));
    }

    /// A not-Ready pod on `node` with extra metadata lines.
    fn pod_yaml(name: &str, node: &str, meta: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ns\n{meta}spec:\n  \
             nodeName: {node}\n  containers:\n  - name: c\n    image: i\nstatus:\n  phase: Running\n  \
             conditions:\n  - type: Ready\n    status: \"False\"\n    reason: ContainersNotReady\n"
        )
    }

    fn node_yaml(name: &str, ready: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\nstatus:\n  conditions:\n  - \
             type: Ready\n    status: \"{ready}\"\n"
        )
    }

    fn fixes(items: &[String]) -> Vec<(String, Severity, String, String)> {
        let refs: Vec<&str> = items.iter().map(String::as_str).collect();
        let bed = crate::rules::TestBed::new(&refs, Some("v1.4.0"));
        let cx = bed.cx();
        eval_pod_status(&cx)
            .into_iter()
            .map(|h| (h.subject, h.severity, h.title, h.remediation))
            .collect()
    }

    #[test]
    fn the_fix_fits_the_pods_node_and_owner() {
        let owner = |kind: &str, name: &str, api: &str| {
            format!(
                "  ownerReferences:\n  - apiVersion: {api}\n    kind: {kind}\n    name: {name}\n    \
                 controller: true\n"
            )
        };
        let items = vec![
            node_yaml("up", "True"),
            node_yaml("down", "Unknown"),
            // On a dead node: the node is the fix.
            pod_yaml("on-dead", "down", ""),
            pod_yaml(
                "mirror",
                "up",
                "  annotations:\n    kubernetes.io/config.mirror: abc\n",
            ),
            pod_yaml("ds-pod", "up", &owner("DaemonSet", "ds", "apps/v1")),
            pod_yaml("orphan", "up", &owner("ReplicaSet", "gone", "apps/v1")),
            pod_yaml("live", "up", &owner("ReplicaSet", "rs", "apps/v1")),
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: rs\n  namespace: ns\n"
                .to_string(),
            // A pod of a running upgrade's Job.
            pod_yaml(
                "upgrade-job-pod",
                "up",
                "  labels:\n    job-name: hvst-upgrade-a-apply-manifests\n",
            ),
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hvst-upgrade-a-apply-manifests\n  \
             namespace: ns\n  labels:\n    harvesterhci.io/upgrade: hvst-upgrade-a\nstatus:\n  \
             active: 1\n"
                .to_string(),
            "apiVersion: harvesterhci.io/v1beta1\nkind: Upgrade\nmetadata:\n  name: hvst-upgrade-a\n  \
             namespace: harvester-system\n  labels:\n    harvesterhci.io/upgradeState: \
             UpgradingSystemServices\n"
                .to_string(),
        ];
        let f = fixes(&items);
        let get = |aspect: &str| {
            f.iter()
                .find(|h| h.0 == aspect)
                .unwrap_or_else(|| panic!("{aspect} in {f:?}"))
        };
        let dead = get("Pod/ns/on-dead");
        assert_eq!(dead.1, Severity::Warning);
        assert_eq!(dead.2, "Pod ns/on-dead is on NotReady node down");
        assert!(dead.3.starts_with("The fix is node down, not the pod"));
        assert!(!dead.3.contains("delete"));
        for (aspect, says) in [
            ("Pod/ns/mirror", "mirror of a static pod"),
            ("Pod/ns/ds-pod", "DaemonSet ns/ds"),
            ("Pod/ns/live", "Fix the pod before upgrading"),
            (
                "Pod/ns/upgrade-job-pod",
                "upgrade hvst-upgrade-a, which is still running",
            ),
        ] {
            let h = get(aspect);
            assert_eq!(h.1, Severity::Error, "{aspect}");
            assert!(h.3.contains(says), "{aspect}: {}", h.3);
            assert!(!h.3.contains("$ kubectl"), "{aspect}: {}", h.3);
        }
        let orphan = get("Pod/ns/orphan");
        assert!(
            orphan
                .3
                .contains("its ReplicaSet gone is not in the bundle")
        );
        assert!(orphan.3.ends_with("\n$ kubectl -n ns delete pod orphan"));
    }
}
