//! Pre-check #15 Pod-Status: no pod with Ready=False, completed pods exempt.
use std::fmt::Write as _;

use super::{Hit, RES, findings, full, of_kind, subject};
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
                    "Fix the pod before upgrading (sbdiag describe pod -n {ns} {name}: events, \
                     container states, logs). A pod left behind by a deleted workload or a \
                     finished job can be deleted: kubectl -n {ns} delete pod {name}",
                    ns = p.key.namespace,
                    name = p.key.name
                ),
            })
        })
        .collect()
}

fn eval_pod_status<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    pod_status(&of_kind(cx.index, "", "Pod"))
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
        assert!(hits[0].remediation.contains("kubectl -n ns delete pod web"));
    }
}
