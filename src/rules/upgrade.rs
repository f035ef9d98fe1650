//! Upgrade rules: `upgrade.admission` (every denial the running version's upgrade webhook
//! would return, with its exact text), `upgrade.stuck` (the upgrade in progress and what it
//! waits on), `upgrade.leftover` (what finished or failed upgrades left behind), the
//! `upgrade.precheck.*` family (the upgrade-helpers pre-check script's checks a bundle can
//! answer) and `upgrade.known-issue` (known blockers by upgrade path, kept as data).
use std::fmt::Write as _;

use super::{
    CheckStatus, Context, Evidence, Finding, Input, ObjectRef, Rule, RuleDef, RuleInfo, Severity,
    SubCheck, SubChecks,
};
use crate::facts::harvester::{self, Judged};
use crate::facts::version::Version;
use crate::index::Object;
use crate::rules::finding::topic;
use crate::upgrade::admission::{self, CheckResult, Outcome};
use crate::upgrade::{self, Env};

/// The upgrade rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(RuleDef {
            info: ADMISSION_INFO,
            eval: admission,
            checks: Some(SubChecks {
                ids: admission_ids,
                run: admission_run,
            }),
            only: None,
            explain: Some(admission_explain),
            needs: None,
        }),
        Box::new(RuleDef {
            info: STUCK_INFO,
            eval: stuck,
            checks: None,
            only: None,
            explain: None,
            needs: None,
        }),
        Box::new(RuleDef {
            info: LEFTOVER_INFO,
            eval: leftovers,
            checks: None,
            only: None,
            explain: None,
            needs: None,
        }),
        Box::new(RuleDef {
            info: KNOWN_INFO,
            eval: known_issues,
            checks: None,
            only: None,
            explain: Some(known_issues_explain),
            needs: None,
        }),
    ]
}

/// Runs `f` on the upgrade environment of the running version (`None` without a usable one)
/// and the upgrade target.
pub(crate) fn with_env<T>(cx: &Context, f: impl FnOnce(&Env) -> T) -> Option<T> {
    let (from, from_source) = cx.harvester_version()?;
    let to = upgrade::target(cx.index, &from, cx.options.to_version.as_deref());
    Some(in_env(cx, from, from_source, to, f))
}

/// Runs `f` on the upgrade environment of the running version when known (an unknown version
/// compares with nothing), without a target: for rules that read upgrade state, not judge
/// an upgrade.
pub(crate) fn with_any_env<T>(cx: &Context, f: impl FnOnce(&Env) -> T) -> T {
    let from = cx.harvester_version().map(|v| v.0).unwrap_or_default();
    in_env(cx, from, String::new(), None, f)
}

fn in_env<T>(
    cx: &Context,
    from: Version,
    from_source: String,
    to: Option<upgrade::TargetVersion>,
    f: impl FnOnce(&Env) -> T,
) -> T {
    let collected = |g: &str, p: &str| cx.collected(g, p);
    let available = |i: Input| cx.available(i);
    let env = Env {
        index: cx.index,
        graph: cx.graph,
        fleet: cx.fleet,
        capture: cx.created_at,
        from,
        from_source,
        to,
        collected: &collected,
        available: &available,
        log_hits: cx.log_hits,
    };
    f(&env)
}

// ---------------------------------------------------------------- upgrade.admission

const ADMISSION_INFO: RuleInfo = RuleInfo {
    id: "upgrade.admission",
    title: "Reasons the upgrade webhook of the running version would refuse a new Upgrade",
    description: "Simulates Harvester's upgrade admission webhook (validator.harvesterhci.io, \
        Upgrade CREATE) of the version running now — the from version judges an upgrade, not the \
        target — check by check in the webhook's order, and reports every check that would deny, \
        each with the exact text the webhook would return and the objects behind it. The webhook \
        itself stops at the first failure. Checks that need live data (kubelet disk stats, TLS \
        handshakes) are reported as not evaluated with the best proxy the bundle offers. With a \
        target (--to-version, else the newest Version object), also the version-compatibility \
        gate the controller applies after the repo VM is up.",
    inputs: &[Input::Resources, Input::HarvesterVersion],
    versions: "v1.0.0+ (each check by its own version range; `rules --explain` lists them)",
};

fn admission_explain() -> String {
    let mut s = String::from(
        "Checks, in the webhook's order (a denial stops the real webhook; sbdiag runs all), \
             each with the versions that have it, what it reads and its denial texts:\n",
    );
    for c in harvester::admission() {
        let how = match c.judged {
            Judged::Simulated => "",
            Judged::Live => " [live data: not evaluated, proxy only]",
            Judged::Recognised => " [not simulated; recognised in events and logs]",
        };
        let _ = writeln!(s, "  {:<6} {:<58} {}{how}", c.id, c.name, c.versions);
        let _ = writeln!(s, "         reads: {}", c.reads);
        for t in &c.texts {
            let case = if t.case.is_empty() {
                String::new()
            } else {
                format!("[{}] ", t.case)
            };
            let _ = writeln!(s, "         {case}{}: {}", t.versions, t.text);
        }
    }
    s.push_str(
        "  A.5 is the controller's version gate (with a target), not the webhook's. The \
             skipWebhook annotation on a new Upgrade bypasses C7 onwards.\n",
    );
    s
}

fn admission_run(cx: &Context) -> (Vec<Finding>, Vec<SubCheck>) {
    let Some(results) = with_env(cx, |env| {
        let results = admission::evaluate(env);
        // The order a support engineer would see: the checks this version runs.
        let run: Vec<&CheckResult> = results
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::NotApplicable(_)))
            .filter(|r| r.def.id != "A.5" || env.to.is_some())
            .collect();
        let denials = run
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Deny { .. }))
            .count();
        let mut findings: Vec<Finding> = run
            .iter()
            .enumerate()
            .filter_map(|(pos, r)| finding(cx, env, r, pos + 1, run.len(), denials))
            .collect();
        findings.extend(newer_than_known(cx));
        (findings, results.iter().map(sub_check).collect())
    }) else {
        return (Vec::new(), Vec::new());
    };
    results
}

fn admission_ids() -> Vec<&'static str> {
    admission::judged().map(|c| c.id.as_str()).collect()
}

fn admission(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    admission_run(cx).0
}

/// A running version newer than every release the knowledge covers is judged with the newest
/// rules: the report says so, so nobody reads a silent pass as "checked against that release".
fn newer_than_known(cx: &Context) -> Option<Finding> {
    let (v, source) = cx.harvester_version()?;
    let newest = harvester::newest_release();
    let num = v.num?;
    if num <= newest {
        return None;
    }
    let shown = crate::facts::version::show(newest);
    Some(
        Finding::new(
            "upgrade.admission",
            "newer-than-known",
            Severity::Info,
            format!(
                "Harvester {} is newer than any release sbdiag knows ({shown}): its upgrade \
                 checks are judged with {shown}'s rules",
                v.raw
            ),
        )
        .with_summary(format!(
            "The running version {} ({source}) is newer than {shown}, the newest release this \
             sbdiag's knowledge was checked against. Checks, texts and version gates are those \
             of {shown}; a check added or changed since is not known. `sbdiag rules --versions` \
             shows the table.",
            v.raw
        ))
        .with_remediation(
            "Use an sbdiag whose knowledge covers this release, when there is one, to confirm the \
             verdict."
                .into(),
        ),
    )
}

/// A check's outcome as an entry of the report's `checks`.
fn sub_check(r: &CheckResult) -> SubCheck {
    let (status, reason) = match &r.outcome {
        Outcome::Pass(why) if why.is_empty() => (CheckStatus::Pass, "nothing denies".to_string()),
        Outcome::Pass(why) => (CheckStatus::Pass, why.clone()),
        Outcome::Exempt(why) => (CheckStatus::Pass, format!("skipped by the webhook: {why}")),
        Outcome::Deny { message, offenders } => (
            CheckStatus::Fail,
            format!(
                "would deny ({} offender(s)): {message}",
                offenders.len().max(1)
            ),
        ),
        Outcome::NotEvaluated { reason, .. } => (CheckStatus::NotEvaluated, reason.clone()),
        Outcome::NotApplicable(why) => (CheckStatus::NotApplicable, why.clone()),
    };
    SubCheck {
        id: &r.def.id,
        status,
        reason,
    }
}

fn target_label(env: &Env) -> String {
    match &env.to {
        Some(t) => format!("to {}", t.version),
        None => "(no target version known)".into(),
    }
}

/// `kubectl` resource name of an object's kind (`virtualmachinebackups.harvesterhci.io`).
fn resource(o: &Object) -> String {
    let plural = format!("{}s", o.key.kind.to_lowercase());
    if o.key.group.is_empty() {
        plural
    } else {
        format!("{plural}.{}", o.key.group)
    }
}

/// `-n <ns> ` for a namespaced object, nothing for a cluster-scoped one.
fn ns_flag(o: &Object) -> String {
    if o.key.namespace.is_empty() {
        String::new()
    } else {
        format!("-n {} ", o.key.namespace)
    }
}

/// The fix of a denying check, with the offenders' names from the bundle: one `$ ` line per
/// command (the remediation convention), and nothing that undoes what a running upgrade owns.
fn remedy(cx: &Context, id: &str, env: &Env, offenders: &[admission::Offender]) -> String {
    let objs: Vec<&Object> = offenders
        .iter()
        .filter_map(|o| o.object.and_then(|i| cx.index.objects.get(i)))
        .collect();
    let each = |f: &dyn Fn(&Object) -> String| -> String {
        objs.iter()
            .take(10)
            .map(|o| format!("\n$ {}", f(o)))
            .collect()
    };
    match id {
        "C2" => "Create the target Version object in harvester-system (the UI adds it when the \
                 release is listed; for an air-gapped site apply the Version YAML of the release \
                 notes, with isoURL pointing at a reachable ISO)."
            .to_string(),
        "C3" => {
            let mut s = "Let the previous upgrade finish, or stop it (see upgrade.stuck and \
                         upgrade.leftover for its state)."
                .to_string();
            for u in objs.iter().filter(|o| o.key.kind == "Upgrade") {
                let busy: Vec<String> = crate::model::typed::harvester::Upgrade::of(*u)
                    .map(|t| {
                        t.node_statuses()
                            .filter_map(|(n, st)| Some((n, st.state()?)))
                            .filter(|(_, st)| crate::facts::node::OWNED_NODE_STATES.contains(st))
                            .map(|(n, st)| format!("{n} is {st}"))
                            .collect()
                    })
                    .unwrap_or_default();
                let paused: Vec<String> = busy
                    .iter()
                    .filter_map(|b| {
                        b.strip_suffix(&format!(" is {}", crate::facts::upgrade::PAUSED_STATE))
                            .map(str::to_string)
                    })
                    .collect();
                if !busy.is_empty() && paused.len() == busy.len() {
                    let _ = write!(
                        s,
                        "\nUpgrade {} holds because the user paused {} (upgrade.stuck shows how \
                         to resume): the way forward is to resume it, not to undo what it owns.",
                        u.key.name,
                        paused.join(", ")
                    );
                } else if busy.is_empty() {
                    let _ = write!(
                        s,
                        "\nTo abandon {name}, delete it (Harvester docs, upgrade troubleshooting, \
                         \"Stop the ongoing upgrade\"):\n$ kubectl -n {ns} delete \
                         upgrades.harvesterhci.io {name}",
                        name = u.key.name,
                        ns = u.key.namespace
                    );
                } else {
                    let _ = write!(
                        s,
                        "\nUpgrade {} is upgrading a node ({}): Harvester refuses to delete it \
                         while a node upgrade is in progress, and nothing it owns (cordons, \
                         jobs, its repository) is to be undone by hand; the way forward is \
                         that upgrade (upgrade.stuck).",
                        u.key.name,
                        busy.join(", ")
                    );
                }
            }
            s
        }
        "C4" => "Let the previous upgrade's cleanup finish (repo VM, plans and jobs are removed \
                 by the controller); check harvester pods' logs if it stays Pending."
            .into(),
        "C7" => "Wait for the degraded volumes to rebuild their replicas (Longhorn UI → Volumes), \
                 or bring back the node or disk that holds the missing replica. To list them:\n\
                 $ kubectl -n longhorn-system get volumes.longhorn.io -o wide | grep degraded"
            .into(),
        "C8/C9" => format!(
            "Wait until CAPI cluster fleet-local/local is Provisioned; if it stays Provisioning, \
             read {}, check expired RKE2 certificates, and that secret \
             fleet-local/local-kubeconfig carries the label cluster.x-k8s.io/cluster-name=local.",
            crate::rules::precheck::capi_logs(cx)
        ),
        "C10" => format!(
            "Wait for the VM backups/snapshots in progress to finish. Only one that is stuck \
             (no progress) is to be deleted:{}",
            each(&|o| format!(
                "kubectl {}delete {} {}",
                ns_flag(o),
                resource(o),
                o.key.name
            ))
        ),
        "C11" => format!(
            "Suspend every backup/snapshot schedule before the upgrade (UI: Backup & Snapshot → \
             Schedules → Suspend), and resume them afterwards. With kubectl:{}",
            each(&|o| format!(
                "kubectl {}patch {} {} --type merge -p '{{\"spec\":{{\"suspend\":true}}}}'",
                ns_flag(o),
                resource(o),
                o.key.name
            ))
        ),
        "C12" => "Make each ManagedChart Ready again. The fleet.* findings say why it is not: a \
                  stale claim (bump the Bundle's spec.forceSyncGeneration), drift (comparePatches \
                  or revert), or an object really not ready (fix it)."
            .into(),
        "C13" => format!(
            "Wait for the addon to finish deploying or disabling, or fix its HelmChart (its \
             helm-install job's logs say why):{}",
            each(&|o| format!(
                "kubectl {}get {} {} -o yaml",
                ns_flag(o),
                resource(o),
                o.key.name
            ))
        ),
        "C14" => format!(
            "Bring every node back to Ready: check its power and network, then its kubelet and \
             rke2 logs in its node bundle:{}",
            each(&|o| cx.sbdiag("describe", &format!("node {}", o.key.name)))
        ),
        "C15" => {
            let mut s = String::new();
            for n in objs.iter().filter(|o| o.key.kind == "Node") {
                let name = &n.key.name;
                let line = match crate::facts::node::cordon(cx.index, n) {
                    Some(crate::facts::node::Cordon::Upgrade { upgrade, state }) => format!(
                        "{name}: upgrade {upgrade}, which is still running, cordoned it (node \
                         state {state}). The cordon is that upgrade's and must not be undone; \
                         the way forward is the upgrade (see upgrade.stuck), not an uncordon. \
                         The check passes once the node's upgrade completes."
                    ),
                    Some(crate::facts::node::Cordon::Maintenance(_)) => format!(
                        "{name} is in maintenance mode: when the maintenance is over, leave it \
                         the Harvester way (not `kubectl uncordon`):\nUI: Hosts → {name} → ⋮ → \
                         Disable Maintenance Mode."
                    ),
                    _ => format!(
                        "{name} is cordoned and the capture does not say by whom: uncordon it \
                         when it is meant to take workloads again:\n$ kubectl uncordon {name}"
                    ),
                };
                if !s.is_empty() {
                    s.push('\n');
                }
                s.push_str(&line);
            }
            if s.is_empty() {
                s = "Make every node schedulable again: uncordon it, or take it out of \
                     maintenance mode (UI: Hosts → Disable Maintenance Mode)."
                    .into();
            }
            s
        }
        "C16" => "The node lacks the rke2.io/internal-ip annotation that rke2 sets at \
                  registration: restart rke2 on it, or add the annotation with its internal IP."
            .into(),
        "C20" => format!(
            "Find why the machine is not Running. An orphan machine left by a removed or \
             reinstalled node can be deleted after checking it has no node (issues #6253, \
             #6095):{}",
            each(&|o| format!(
                "kubectl {}delete {} {}",
                ns_flag(o),
                resource(o),
                o.key.name
            ))
        ),
        "C21" => {
            "Fix the node↔machine mapping: every node needs label harvesterhci.io/managed=true \
                  and annotation cluster.x-k8s.io/machine naming a machine whose status.nodeRef \
                  is that node; delete orphan machines, reinstall nodes without one."
                .into()
        }
        "C22" | "C23" => format!(
            "Raise the volume's replica count (Longhorn UI, or the command below), or stop the \
             workload using it. From v1.5.0 the upgrade dialog's checkbox (annotation \
             harvesterhci.io/skipSingleReplicaDetachedVol) tolerates detached volumes.{}",
            each(&|o| format!(
                "kubectl {}patch {} {} --type merge -p '{{\"spec\":{{\"numberOfReplicas\":3}}}}'",
                ns_flag(o),
                resource(o),
                o.key.name
            ))
        ),
        "C24" => {
            let mut s = String::new();
            let mut others = false;
            for o in &objs {
                if let Some((u, crate::facts::upgrade::Owned::RepoVm)) =
                    crate::facts::upgrade::owned_by_running(cx.index, o)
                {
                    let _ = writeln!(
                        s,
                        "{}/{} is the repository VM of upgrade {u}, which is still running: it \
                         serves the new OS image to the nodes and is removed when the upgrade \
                         finishes. Do not stop it.",
                        o.key.namespace, o.key.name
                    );
                } else {
                    others = true;
                }
            }
            if others || objs.is_empty() {
                if harvester::RESTORE_VM_AND_WITNESS_AWARE.contains(&env.from) {
                    s.push_str(
                        "Shut the other VMs down before the upgrade, or set restoreVM: true in \
                         setting upgrade-config so the upgrade shuts them down and restores them.",
                    );
                } else {
                    s.push_str(
                        "Shut the other VMs down before the upgrade: they cannot live-migrate off \
                         a node that is drained.",
                    );
                }
            }
            if !s.contains("repository VM") {
                s = s.replace("the other VMs", "these VMs");
            }
            s.trim_end().to_string()
        }
        "C25" => "Stop and start these VMs before the upgrade.".into(),
        "C26" => {
            "Remove the hot-plugged volumes or make them persistent before the upgrade.".into()
        }
        "A.5" => "Upgrade in steps through versions whose minimum upgradable version the running \
                  version meets (the release notes' upgrade path)."
            .into(),
        _ => String::new(),
    }
}

fn finding(
    cx: &Context,
    env: &Env,
    r: &CheckResult,
    pos: usize,
    total: usize,
    denials: usize,
) -> Option<Finding> {
    let id = r.def.id.as_str();
    match &r.outcome {
        Outcome::Deny { message, offenders } => {
            let webhook = r.def.id != "A.5";
            let mut summary = String::new();
            if webhook {
                let _ = writeln!(
                    summary,
                    "The webhook of {} ({}) would answer a new Upgrade {}:\n  {}",
                    env.from,
                    env.from_source,
                    target_label(env),
                    harvester::as_user_sees(message)
                );
            } else {
                let _ = writeln!(
                    summary,
                    "The webhook would accept the Upgrade, but the controller would fail it after \
                     the repo VM is up (Completed=False, reason: {message})."
                );
            }
            let _ = writeln!(
                summary,
                "Check {id} ({}), {} of {total} in the webhook's order; {denials} check(s) deny \
                 in all — the webhook reports only the first one.",
                r.def.name, pos
            );
            if offenders.len() > 1 || offenders.first().is_some_and(|o| o.message != *message) {
                let _ = writeln!(summary, "Everything this check objects to:");
            } else {
                let _ = writeln!(summary, "What it objects to:");
            }
            for o in offenders.iter().take(20) {
                let _ = writeln!(summary, "  - {}", o.what);
            }
            if offenders.len() > 20 {
                let _ = writeln!(summary, "  … and {} more", offenders.len() - 20);
            }
            if id == "C12" {
                let fleet_findings: Vec<&str> = offenders
                    .iter()
                    .filter_map(|o| o.object)
                    .filter_map(|i| cx.index.objects.get(i))
                    .map(|o| o.key.name.as_str())
                    .collect();
                if !fleet_findings.is_empty() {
                    let _ = writeln!(
                        summary,
                        "Why each chart is not Ready, and whether Fleet's status is stale: see the \
                         fleet.* findings for {}.",
                        fleet_findings.join(", ")
                    );
                }
            }
            let mut objects = Vec::new();
            let mut evidence = Vec::new();
            // C15 quotes a node's cordon: whoever cordoned it explains the denial.
            let cordons: Vec<String> = if id == "C15" {
                offenders
                    .iter()
                    .filter_map(|o| o.object.and_then(|i| cx.index.objects.get(i)))
                    .filter(|o| o.key.kind == "Node")
                    .map(|o| topic::cordon(&o.key.name))
                    .collect()
            } else {
                Vec::new()
            };
            for o in offenders {
                if let Some(obj) = o.object.and_then(|i| cx.index.objects.get(i)) {
                    objects.push(ObjectRef::of(obj));
                    if evidence.len() < 12 {
                        evidence.push(Evidence::of(cx.index, obj, o.focus.as_deref()));
                    }
                }
            }
            Some(
                Finding::new(
                    "upgrade.admission",
                    id,
                    Severity::Error,
                    if webhook {
                        format!(
                            "Upgrade {} would be refused ({id}): {message}",
                            target_label(env)
                        )
                    } else {
                        format!(
                            "Upgrade {} would fail its version check: {message}",
                            target_label(env)
                        )
                    },
                )
                .with_summary(summary.trim_end().to_string())
                .with_objects(objects)
                .with_evidence(evidence)
                .with_remediation(remedy(cx, id, env, offenders))
                .with_references(vec![
                    "https://docs.harvesterhci.io/v1.4/upgrade/troubleshooting".into(),
                ])
                .with_order(pos as u32)
                .with_topic(topic::check(id))
                .with_topics(cordons)
                .explaining([topic::check(id)]),
            )
        }
        // A check that needs live data gets a finding with the bundle's best proxy; one whose
        // lists were not collected is only a `not_evaluated` entry of the report's checks (the
        // bundle.* findings report the gap itself).
        Outcome::NotEvaluated {
            reason,
            proxy,
            objects,
        } if r.def.judged == Judged::Live => {
            let mut summary = format!(
                "Check {id} ({}) of the {} webhook cannot be judged from the bundle: {reason}.",
                r.def.name, env.from
            );
            if let Some(p) = proxy {
                let _ = write!(summary, "\nBest proxy in the bundle: {p}.");
            }
            let objs: Vec<&Object> = objects
                .iter()
                .filter_map(|i| cx.index.objects.get(*i))
                .collect();
            Some(
                Finding::new(
                    "upgrade.admission",
                    format!("{id}:not-evaluated"),
                    if objs.is_empty() {
                        Severity::Info
                    } else {
                        Severity::Warning
                    },
                    format!(
                        "Upgrade check {id} ({}) not evaluated: needs live data",
                        r.def.name
                    ),
                )
                .with_summary(summary)
                .with_objects(objs.iter().map(|o| ObjectRef::of(o)).collect())
                .with_evidence(
                    objs.iter()
                        .map(|o| Evidence::of(cx.index, o, Some("DiskPressure")))
                        .collect(),
                )
                .with_remediation(match id {
                    "C17" | "C18" => "Check the free space on each node before upgrading (on the \
                                      node: `df -h /usr/local`); free space with `crictl rmi \
                                      --prune` if needed."
                        .into(),
                    _ => String::new(),
                })
                .with_order(pos as u32),
            )
        }
        Outcome::Pass(_)
        | Outcome::Exempt(_)
        | Outcome::NotEvaluated { .. }
        | Outcome::NotApplicable(_) => None,
    }
}

// ---------------------------------------------------------------- upgrade.stuck

const STUCK_INFO: RuleInfo = RuleInfo {
    id: "upgrade.stuck",
    title: "The upgrade in progress: phase, node, since when, and what it waits on",
    description: "Rebuilds each Upgrade without a final state from its labels, conditions and \
        node statuses and from the objects its phase creates (repo VM and image, prepare plan \
        jobs, the apply-manifests job, pre/post-drain jobs, node markers), and says what it \
        waits on: the upgrade-log pods, the ISO import, the repo VM, image preloading, a \
        ManagedChart that is not Ready, VMs that do not migrate, degraded volumes, a \
        PodDisruptionBudget blocking the drain (with Longhorn's orphan engines), a node that \
        does not come back from its reboot. Logs of the pods involved are cited at their \
        latest relevant line.",
    inputs: &[
        Input::Resources,
        Input::CaptureTime,
        Input::Resource("harvesterhci.io", "upgrades"),
    ],
    versions: "v1.2+ (Upgrade life cycle of v1.4; states common to all versions)",
};

fn stuck(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let legacy = with_any_env(cx, crate::upgrade::lifecycle::in_progress);
    let legacy_names: Vec<&str> = legacy
        .iter()
        .filter_map(|p| cx.index.objects.get(p.upgrade))
        .map(|o| o.key.name.as_str())
        .collect();
    let mut out: Vec<Finding> = legacy.iter().filter_map(|p| stuck_finding(cx, p)).collect();
    out.extend(
        crate::upgrade::plan::plans(cx.index)
            .iter()
            .filter_map(|p| plan_finding(cx, p, &legacy_names)),
    );
    out
}

/// An Upgrade V2 plan that has not succeeded: what it shows, read as an UpgradePlan (not a
/// legacy Upgrade), and an error when a legacy upgrade runs at the same time.
fn plan_finding(cx: &Context, p: &crate::upgrade::plan::Plan, legacy: &[&str]) -> Option<Finding> {
    if !p.running() && !p.failed() {
        return None;
    }
    let o = cx.index.objects.get(p.object)?;
    let name = &o.key.name;
    let phase = if p.phase.is_empty() {
        "no phase yet"
    } else {
        p.phase.as_str()
    };
    let mut summary = format!(
        "UpgradePlan {name} (Upgrade V2, the experimental harvester-upgrade-manager addon) \
         upgrades {}to {}; phase {phase}{}.\n",
        p.from
            .as_deref()
            .map(|f| format!("from {f} "))
            .unwrap_or_default(),
        if p.version.is_empty() {
            "?"
        } else {
            &p.version
        },
        p.since
            .as_deref()
            .map(|t| format!(" since {}", cx.ago(Some(t))))
            .unwrap_or_default()
    );
    if !p.nodes.is_empty() {
        let _ = writeln!(
            summary,
            "Nodes: {}.",
            p.nodes
                .iter()
                .map(|(n, s, why)| match why {
                    Some(w) => format!("{n} {s} ({w})"),
                    None => format!("{n} {s}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(m) = &p.degraded {
        let _ = writeln!(summary, "Degraded: {m}.");
    }
    let _ = writeln!(
        summary,
        "It is not a legacy Upgrade (upgrades.harvesterhci.io): the upgrade webhook's checks and \
         the legacy upgrade's phases do not describe it."
    );
    let both = p.running() && !legacy.is_empty();
    if both {
        let _ = writeln!(
            summary,
            "A built-in upgrade runs at the same time ({}): Harvester's Upgrade Manager \
             documentation forbids running both, as their state changes conflict.",
            legacy.join(", ")
        );
    }
    let (severity, title) = if both {
        (
            Severity::Error,
            format!(
                "Two upgrade mechanisms at once: UpgradePlan {name} ({phase}) and Upgrade {}",
                legacy.join(", ")
            ),
        )
    } else if p.failed() {
        (
            Severity::Error,
            format!(
                "Upgrade V2 plan {name} to {} failed{}",
                p.version,
                p.degraded
                    .as_deref()
                    .map(|m| format!(": {}", crate::text::clause(m, 140)))
                    .unwrap_or_default()
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "Upgrade V2 plan {name} to {} in progress: {phase}{}",
                p.version,
                p.since
                    .as_deref()
                    .and_then(|t| crate::model::Age::at(Some(t), cx.created_at))
                    .map(|a| format!(" for {a}"))
                    .unwrap_or_default()
            ),
        )
    };
    let failed_nodes: Vec<&str> = p
        .nodes
        .iter()
        .filter(|(_, s, _)| s.ends_with("Failed"))
        .map(|(n, _, _)| n.as_str())
        .collect();
    let mut fix = String::new();
    if both {
        let _ = writeln!(
            fix,
            "Do not let both continue: decide which upgrade is wanted with the cluster's owner \
             before changing either (stopping one mid-way leaves its own state to clean up)."
        );
    }
    let _ = writeln!(
        fix,
        "Read the plan's status and the Upgrade Manager's pods and logs in harvester-system{}:",
        if failed_nodes.is_empty() {
            String::new()
        } else {
            format!(" (failed on {})", failed_nodes.join(", "))
        }
    );
    let _ = writeln!(fix, "$ sbdiag get upgradeplans {name} -o yaml");
    let _ = write!(fix, "$ sbdiag get pods -n harvester-system");
    Some(
        Finding::new("upgrade.stuck", ObjectRef::of(o).subject(), severity, title)
            .with_summary(summary.trim_end().to_string())
            .with_objects(vec![ObjectRef::of(o)])
            .with_evidence(vec![Evidence::of(cx.index, o, Some("currentPhase:"))])
            .with_remediation(cx.bind(&fix))
            .with_references(vec![
                "https://docs.harvesterhci.io/v1.8/advanced/addons/upgrade-manager".into(),
            ]),
    )
}

fn stuck_finding(cx: &Context, p: &crate::upgrade::lifecycle::InProgress) -> Option<Finding> {
    let u = cx.index.objects.get(p.upgrade)?;
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "Upgrade {} to {} is in phase {} ({}), last progress at {}.",
        u.key.name,
        p.version_shown(),
        p.state_shown(),
        p.pending
            .as_ref()
            .map(|(c, s)| format!("{c} is {s}"))
            .unwrap_or_else(|| "every condition True".into()),
        cx.ago(p.last_progress.as_deref())
    );
    if !p.nodes.is_empty() {
        let _ = writeln!(
            summary,
            "Nodes: {}.",
            p.nodes
                .iter()
                .map(|(n, s)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if p.waits.is_empty() {
        let _ = writeln!(
            summary,
            "sbdiag found nothing it waits on in the bundle; read the upgrade's job and pod logs \
             (sbdiag get jobs -n harvester-system -l harvesterhci.io/upgrade={}).",
            u.key.name
        );
    } else {
        let _ = writeln!(summary, "It waits on:");
        for w in &p.waits {
            let _ = writeln!(summary, "  - {}", w.what);
        }
    }
    let mut evidence = vec![Evidence::of(cx.index, u, Some("nodeStatuses"))];
    let mut objects = vec![ObjectRef::of(u)];
    for w in &p.waits {
        for (i, focus) in &w.objects {
            if let Some(o) = cx.index.objects.get(*i) {
                objects.push(ObjectRef::of(o));
                evidence.push(Evidence::of(cx.index, o, focus.as_deref()));
            }
        }
        for (ns, pod, text) in &w.logs {
            if let Some(path) = cx.pod_logs(ns, pod).first() {
                evidence.push(Evidence::log_tail(*path, text.clone()));
            }
        }
    }
    objects.sort();
    objects.dedup();
    let (title_wait, fix) = match p.waits.first() {
        Some(w) => (
            format!(": {}", crate::text::clause(&w.what, 140)),
            p.waits
                .iter()
                .map(|w| w.fix.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        None => (String::new(), String::new()),
    };
    let node = p
        .node
        .as_ref()
        .map(|(n, s)| format!(" ({n} {s})"))
        .unwrap_or_default();
    // A node the user paused (v1.7+) holds the upgrade by choice: not stuck.
    if !p.paused.is_empty() && p.waits.is_empty() {
        let paused = p.paused.join(", ");
        let reasons: Vec<String> = crate::model::typed::harvester::Upgrade::of(u)
            .map(|t| {
                p.paused
                    .iter()
                    .filter_map(|n| {
                        let st = t.node_status(n)?;
                        Some(format!(
                            "{n}: {} ({}{})",
                            st.state().unwrap_or(""),
                            st.reason().unwrap_or(""),
                            st.message().map(|m| format!(": {m}")).unwrap_or_default()
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut s = format!(
            "Upgrade {} to {} is in phase {} and holds before {paused}: the upgrade of {paused} \
             was paused as the user asked (upgrade-config nodeUpgradeOption, annotation {}), not \
             stuck. Harvester does not start the pre-drain of a paused node until it is \
             resumed.",
            u.key.name,
            p.version_shown(),
            p.state_shown(),
            crate::facts::upgrade::PAUSE_MAP_ANNOTATION
        );
        for r in &reasons {
            let _ = write!(s, "\n  - {r}");
        }
        if !p.nodes.is_empty() {
            let _ = write!(
                s,
                "\nNodes: {}.",
                p.nodes
                    .iter()
                    .map(|(n, st)| format!("{n} {st}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        return Some(
            Finding::new(
                "upgrade.stuck",
                ObjectRef::of(u).subject(),
                // Not a fault, but the upgrade (and every new one, C3) waits on the user.
                Severity::Warning,
                format!(
                    "Upgrade {} paused by the user before {paused}, as requested (not stuck); it \
                     waits until the node is unpaused",
                    u.key.name
                ),
            )
            .with_summary(s)
            .with_objects(vec![ObjectRef::of(u)])
            .with_evidence(vec![Evidence::of(
                cx.index,
                u,
                Some(crate::facts::upgrade::PAUSED_REASON),
            )])
            .with_remediation(cx.bind(&p.resume)),
        );
    }
    Some(
        Finding::new(
            "upgrade.stuck",
            ObjectRef::of(u).subject(),
            Severity::Error,
            format!(
                "Upgrade {} stuck in {}{node}, last progress {}{title_wait}",
                u.key.name,
                if p.state.is_empty() {
                    "an unknown phase"
                } else {
                    &p.state
                },
                crate::model::Age::at(p.last_progress.as_deref(), cx.created_at)
                    .map(|a| format!("{a} before capture"))
                    .unwrap_or_else(|| "at an unknown time".into())
            ),
        )
        .with_summary(summary.trim_end().to_string())
        .with_objects(objects)
        .with_evidence(evidence)
        .with_remediation(cx.bind(&fix))
        .with_references(vec![
            "https://docs.harvesterhci.io/v1.4/upgrade/troubleshooting".into(),
        ]),
    )
}

// ---------------------------------------------------------------- upgrade.leftover

const LEFTOVER_INFO: RuleInfo = RuleInfo {
    id: "upgrade.leftover",
    title: "Objects left behind by finished, failed or deleted upgrades",
    description: "Upgrades that failed or never got a state (they block the next one), \
        cleanup pending, more or less than one latestUpgrade label, repo VMs, images, plans, \
        services and claims of an Upgrade that is gone or finished, the upgrade-log operator \
        ManagedChart (not Ready, it blocks the next upgrade), paused ManagedCharts, Harvester \
        drain hooks left on the provisioning cluster or unacknowledged on machine-plan \
        secrets, node markers (pendingOSImage, the kubevirt.io/drain taint), Longhorn's replica-replenishment-wait-interval left at \
        1800 s, and from v1.7 the repository Deployment and OS image, ManagedChart harvester's \
        KubeVirt workloadUpdateMethods not restored from the Upgrade's backup (LiveMigrate \
        removed), the descheduler addon left disabled and skip-rke2-manifests plans that never \
        completed — each with its safe cleanup.",
    inputs: &[
        Input::Resources,
        Input::Resource("harvesterhci.io", "upgrades"),
    ],
    versions: "v1.2+",
};

fn leftovers(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    with_any_env(cx, |env| {
        crate::upgrade::leftover::find(env)
            .into_iter()
            .map(|l| {
                let objs: Vec<&Object> = l
                    .objects
                    .iter()
                    .filter_map(|(i, _)| cx.index.objects.get(*i))
                    .collect();
                let mut summary = l.what.clone();
                if let Some(b) = &l.blocks {
                    let _ = write!(
                        summary,
                        "\nIt blocks the next upgrade: {}",
                        harvester::as_user_sees(b)
                    );
                }
                Finding::new(
                    "upgrade.leftover",
                    &l.key,
                    if l.blocks.is_some() {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    format!("Upgrade leftover: {}", crate::text::one_line(&l.what, 160)),
                )
                .with_summary(summary)
                .with_objects(objs.iter().map(|o| ObjectRef::of(o)).collect())
                .with_evidence(
                    l.objects
                        .iter()
                        .filter_map(|(i, f)| {
                            cx.index
                                .objects
                                .get(*i)
                                .map(|o| Evidence::of(cx.index, o, f.as_deref()))
                        })
                        .collect(),
                )
                .with_remediation(cx.bind(&l.fix))
                .with_references(vec![
                    "https://docs.harvesterhci.io/v1.4/upgrade/troubleshooting".into(),
                ])
                .with_topic(topic::LEFTOVER)
                // The last failed (or never finished) upgrade left the others behind.
                .explaining((l.rule == 1).then(|| topic::LEFTOVER.to_string()))
            })
            .collect()
    })
}

// ---------------------------------------------------------------- upgrade.known-issue

const KNOWN_INFO: RuleInfo = RuleInfo {
    id: "upgrade.known-issue",
    title: "Known upgrade issues whose signature the bundle shows",
    description: "Matches the catalog of known Harvester upgrade issues \
        (src/upgrade/known-issues.yaml: version range, signature in objects, Fleet verdicts and \
        states, pod log lines, node count; symptom, cause, workaround, links) against the \
        bundle. Extending it needs no code: add an entry to the YAML.",
    inputs: &[Input::Resources],
    versions: "per entry (`from` range of the running version)",
};

fn known_issues(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    with_any_env(cx, |env| {
        crate::upgrade::known::catalog()
            .iter()
            .filter_map(|k| {
                let m = crate::upgrade::known::matches(env, k, cx.log_hits)?;
                let mut summary = format!(
                    "Symptom: {}\nCause: {}\nIn this bundle:",
                    crate::upgrade::known::symptom(
                        &crate::upgrade::known::matched_names(&k.symptom, cx.index, &m),
                        &env.from
                    ),
                    k.cause
                );
                for d in &m.details {
                    let _ = write!(summary, "\n  - {d}");
                }
                let mut objects: Vec<ObjectRef> = Vec::new();
                let mut evidence = Vec::new();
                for (i, focus) in &m.objects {
                    if let Some(o) = cx.index.objects.get(*i) {
                        objects.push(ObjectRef::of(o));
                        evidence.push(Evidence::of(cx.index, o, focus.as_deref()));
                    }
                }
                for h in &m.logs {
                    evidence.push(Evidence::lines(h.file.clone(), h.line, h.line));
                }
                objects.sort();
                objects.dedup();
                Some(
                    Finding::new(
                        "upgrade.known-issue",
                        &k.id,
                        match k.severity.as_str() {
                            "error" => Severity::Error,
                            "info" => Severity::Info,
                            _ => Severity::Warning,
                        },
                        format!("Known issue: {}", k.title),
                    )
                    .with_summary(summary)
                    .with_objects(objects)
                    .with_evidence(evidence)
                    .with_remediation(cx.bind(&crate::upgrade::known::workaround(
                        &k.workaround,
                        cx.index,
                        &m,
                    )))
                    .with_references(k.links.clone()),
                )
            })
            .collect()
    })
}

fn known_issues_explain() -> String {
    let mut s = String::from("Catalog:\n");
    for k in crate::upgrade::known::catalog() {
        let range = match &k.from {
            Some(r) => format!(
                "{} – {}",
                r.since.as_deref().unwrap_or("any"),
                r.until.as_deref().unwrap_or("any")
            ),
            None => "all versions".into(),
        };
        let _ = writeln!(
            s,
            "  {:<48} {:<8} {range}\n      {}",
            k.id, k.severity, k.title
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::TestBed;

    const FAILED_PLAN: &str = "apiVersion: management.harvesterhci.io/v1beta1\nkind: UpgradePlan\nmetadata:\n  name: hvst-upgrade-p2x9k\nspec:\n  version: v1.8.1\nstatus:\n  currentPhase: Failed\n  previousVersion: v1.8.0\n  conditions:\n  - type: Degraded\n    status: \"True\"\n    reason: NodeUpgradeFailed\n    message: node n2 failed to upgrade its OS\n  nodeUpgradeStatuses:\n    n1:\n      state: OSUpgraded\n    n2:\n      state: OSUpgradeFailed\n      reason: JobFailed\n";

    const LEGACY: &str = "apiVersion: harvesterhci.io/v1beta1\nkind: Upgrade\nmetadata:\n  name: hvst-upgrade-old\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgradeState: UpgradingNodes\n  creationTimestamp: \"2025-02-14T08:00:00Z\"\nspec:\n  version: v1.8.1\nstatus:\n  previousVersion: v1.8.0\n";

    #[test]
    fn a_version_newer_than_known_is_judged_with_the_newest_rules_and_says_so() {
        let bed = TestBed::new(&[], Some("v1.10.0"));
        let f = newer_than_known(&bed.cx()).expect("a note");
        assert_eq!(f.id, "upgrade.admission:newer-than-known");
        assert_eq!(
            f.title,
            "Harvester v1.10.0 is newer than any release sbdiag knows (v1.9.0): its upgrade checks \
             are judged with v1.9.0's rules"
        );
        assert!(newer_than_known(&TestBed::new(&[], Some("v1.9.0")).cx()).is_none());
        assert!(newer_than_known(&TestBed::new(&[], Some("v1.4.0")).cx()).is_none());
    }

    #[test]
    fn an_upgrade_v2_plan_is_read_as_a_plan_not_a_legacy_upgrade() {
        let bed = TestBed::new(&[FAILED_PLAN], Some("v1.8.0"));
        let out = stuck(&STUCK_INFO, &bed.cx());
        assert_eq!(out.len(), 1, "{out:#?}");
        let f = &out[0];
        assert_eq!(f.id, "upgrade.stuck:UpgradePlan/hvst-upgrade-p2x9k");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.title,
            "Upgrade V2 plan hvst-upgrade-p2x9k to v1.8.1 failed: node n2 failed to upgrade its OS"
        );
        assert!(
            f.summary
                .contains("Nodes: n1 OSUpgraded, n2 OSUpgradeFailed (JobFailed)."),
            "{}",
            f.summary
        );
        assert!(
            f.summary.contains("It is not a legacy Upgrade"),
            "{}",
            f.summary
        );
        assert!(
            f.remediation.contains("(failed on n2)"),
            "{}",
            f.remediation
        );
        // Running next to a legacy upgrade: both mechanisms at once is the error.
        let running = FAILED_PLAN
            .replace("currentPhase: Failed", "currentPhase: NodeUpgrading")
            .replace(
                "  - type: Degraded\n    status: \"True\"",
                "  - type: Degraded\n    status: \"False\"",
            );
        let bed = TestBed::new(&[&running, LEGACY], Some("v1.8.0"));
        let out = stuck(&STUCK_INFO, &bed.cx());
        let plan = out
            .iter()
            .find(|f| f.id == "upgrade.stuck:UpgradePlan/hvst-upgrade-p2x9k")
            .expect("the plan's finding");
        assert_eq!(plan.severity, Severity::Error);
        assert!(plan.title.starts_with("Two upgrade mechanisms at once: UpgradePlan hvst-upgrade-p2x9k (NodeUpgrading) and Upgrade hvst-upgrade-old"), "{}", plan.title);
        // Alone and running, it is shown, not called stuck.
        let bed = TestBed::new(&[&running], Some("v1.8.0"));
        let out = stuck(&STUCK_INFO, &bed.cx());
        assert_eq!(out[0].severity, Severity::Warning);
        assert!(
            out[0].title.starts_with(
                "Upgrade V2 plan hvst-upgrade-p2x9k to v1.8.1 in progress: NodeUpgrading"
            ),
            "{}",
            out[0].title
        );
        // A succeeded plan says nothing.
        let done = FAILED_PLAN.replace("currentPhase: Failed", "currentPhase: Succeeded");
        assert!(stuck(&STUCK_INFO, &TestBed::new(&[&done], Some("v1.8.1")).cx()).is_empty());
    }
}
