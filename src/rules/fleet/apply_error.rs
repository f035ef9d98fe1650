//! `fleet.apply-error`: deploy states (ErrApplied, WaitApplied, OutOfSync, Pending), paused
//! charts, forced syncs that did not land, and the agent's heartbeat and workload.
use super::*;

pub(super) const APPLY_INFO: RuleInfo = RuleInfo {
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

pub(super) fn apply_error(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    // While the agent does not report, every claim about the cluster is stale; a Bundle's own
    // state (errors, paused, not propagated) is why its chart is not Ready.
    let mut out: Vec<Finding> = agent_findings(cx, &cx.fleet.agent)
        .into_iter()
        .map(|f| f.explaining([topic::FLEET_AGENT.to_string()]))
        .collect();
    for s in &cx.fleet.sources {
        out.extend(
            source_state_findings(cx, s)
                .into_iter()
                .map(|f| f.explaining([chart_topic(s)])),
        );
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
    let redeploy = super::redeploy_agent(cx);
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
                    "Cluster/fleet-local/local:agent",
                    Severity::Error,
                    format!(
                        "The local fleet-agent is not checking in: last seen {}{}",
                        a.last_seen_age
                            .map(|s| format!("{} before capture", Age(s)))
                            .unwrap_or_else(|| "never".into()),
                        a.problems
                            .first()
                            .map(|p| format!(" ({})", text::one_line(p, 100)))
                            .unwrap_or_default()
                    ),
                )
                .with_summary(summary)
                .with_objects(objects)
                .with_evidence(evidence)
                .with_remediation(format!(
                    "1. Find why it stops (API server reachability, certificates, leader \
                     election):\n{logs}\n2. Restart it:\n$ {restart}\n3. If it does not come \
                     back or is missing, redeploy it (Fleet docs, \"Agent is no longer \
                     registered\"; Harvester's upgrade script does the same):\n{redeploy}\n\
                     Then every bundle is re-evaluated once, and Fleet's statuses are current \
                     again.",
                    logs = super::agent_logs(cx),
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
            text::one_line(&a.problems.join("; "), 140)
        );
        let summary = format!(
            "Its heartbeat is still recent ({}), but the agent's pods are not ready: {}. While it \
             is down nothing Fleet reports is refreshed.",
            ago(a.last_seen.as_deref(), cap),
            a.problems.join("; ")
        );
        let fix = format!(
            "Read its logs:\n{}\nThen restart it:\n$ {restart}",
            super::agent_logs(cx)
        );
        out.push(
            Finding::new(
                "fleet.apply-error",
                "Cluster/fleet-local/local:agent-workload",
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
                    "Fix the deploy error above (Helm's message), then force a retry:\n$ \
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
                     retry:\n$ kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
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
            .map(|m| format!(" Deploy message: {}", text::one_line(m, 400)))
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
                        .map(|m| format!(" — {}", text::one_line(m, 120)))
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
            .with_remediation(match crate::facts::upgrade::unfinished(cx.index).next() {
                // The upgrade pauses the charts itself (pause_all_charts) and resumes them.
                Some(u) => format!(
                    "Upgrade {} has not finished: it pauses the charts while it upgrades \
                         them and resumes them itself. Do not resume the chart by hand while it \
                         runs; see upgrade.stuck.",
                    u.key.name
                ),
                None => format!(
                    "No upgrade is running, so resume it (Harvester upgrade \
                         troubleshooting, \"Stop the ongoing upgrade\", step 4):\n$ kubectl -n \
                         {} patch {res} {target} --type merge -p \
                         '{{\"spec\":{{\"paused\":false}}}}'",
                    s.namespace
                ),
            })
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
                 stuck:\n$ kubectl -n {} rollout restart {}/fleet-agent",
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
                                  restart it:\n$ kubectl -n cattle-fleet-system rollout restart \
                                  deployment/fleet-controller";
