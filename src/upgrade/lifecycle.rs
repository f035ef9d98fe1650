//! The upgrade in progress, rebuilt from the Upgrade CR (labels, conditions, node statuses) and
//! the objects each phase creates (`reference/upgrade-blockers.md` §B): which phase, which
//! node, since when relative to capture, and what it waits on — a VM that will not migrate, a
//! degraded volume, a PodDisruptionBudget that blocks the drain, a manifest job waiting on a
//! chart, a pod that cannot pull its image.
use super::Env;
use super::admission::unfinished_upgrades;
use super::known::LogHit;
use crate::facts::upgrade::{PRE_DRAIN_STEP_HIT, PRE_DRAIN_STEPS, waited_volume};
use crate::index::Object;
use crate::model::condition;
use crate::model::typed::core::Pdb;
use crate::model::typed::harvester::{Upgrade, VmImage};
use crate::model::typed::kubevirt::{VirtualMachine, Vmi};
use crate::model::typed::longhorn::{LhEngine, LhVolume};
use crate::model::views::View;

/// Conditions of an Upgrade in flow order.
pub const FLOW: &[&str] = &[
    "LogReady",
    "ImageReady",
    "RepoReady",
    "NodesPrepared",
    "SystemServicesUpgraded",
    "NodesUpgraded",
    "Completed",
];

/// Something the upgrade waits on.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// In words.
    pub what: String,
    /// Objects behind it, with a focus for the evidence.
    pub objects: Vec<(usize, Option<String>)>,
    /// Logs of pods involved: (namespace, pod, text to find the latest line of).
    pub logs: Vec<(String, String, String)>,
    /// The documented way out.
    pub fix: String,
}

/// An upgrade in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct InProgress {
    /// The Upgrade.
    pub upgrade: usize,
    /// Label `harvesterhci.io/upgradeState`.
    pub state: String,
    /// Target version (`spec.version`).
    pub version: String,
    /// The first condition of the flow that is not True, with its status.
    pub pending: Option<(String, String)>,
    /// Time of the newest condition transition: the last progress the Upgrade shows.
    pub last_progress: Option<String>,
    /// The node being worked on and its state.
    pub node: Option<(String, String)>,
    /// Node states in words (`node-0 Succeeded, node-1 Pre-drained, …`).
    pub nodes: Vec<(String, String)>,
    /// What it waits on.
    pub waits: Vec<Wait>,
    /// Nodes the user paused (v1.7+, state `Node-upgrade paused`): the upgrade holds by the
    /// user's choice, not because it is stuck.
    pub paused: Vec<String>,
    /// How to resume the paused nodes, when some are.
    pub resume: String,
}

/// `": why; why"` after a wait's words, or nothing when there is no reason.
fn reasons_tail<'a>(why: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = why.collect();
    if v.is_empty() {
        String::new()
    } else {
        format!(": {}", v.join("; "))
    }
}

impl InProgress {
    /// The target version as shown in a sentence (`?` when the Upgrade has none).
    pub fn version_shown(&self) -> &str {
        if self.version.is_empty() {
            "?"
        } else {
            &self.version
        }
    }

    /// The phase label as shown in a sentence.
    pub fn state_shown(&self) -> &str {
        if self.state.is_empty() {
            "(no upgradeState label)"
        } else {
            &self.state
        }
    }
}

fn idx(env: &Env, o: &Object) -> Option<usize> {
    env.index.position(&o.key)
}

/// Rebuilds every unfinished Upgrade.
pub fn in_progress(env: &Env) -> Vec<InProgress> {
    unfinished_upgrades(env)
        .into_iter()
        .filter_map(|(i, o)| rebuild(env, i, o))
        .collect()
}

fn rebuild(env: &Env, i: usize, o: &Object) -> Option<InProgress> {
    let t = Upgrade::of(o)?;
    let state = o
        .meta
        .labels
        .get("harvesterhci.io/upgradeState")
        .cloned()
        .unwrap_or_default();
    let pending = FLOW.iter().find_map(|c| {
        let cond = condition(&o.status.conditions, c)?;
        (cond.status != "True").then(|| (c.to_string(), cond.status.clone()))
    });
    let last_progress = o
        .status
        .conditions
        .iter()
        .filter_map(|c| {
            c.last_transition_time
                .clone()
                .or(c.last_update_time.clone())
        })
        .max()
        .or(o.meta.creation_timestamp.clone());
    let mut nodes: Vec<(String, String)> = t
        .node_statuses()
        .map(|(n, s)| (n.to_string(), s.state().unwrap_or("").to_string()))
        .collect();
    nodes.sort();
    let node = nodes
        .iter()
        .find(|(_, s)| !matches!(s.as_str(), "Succeeded" | "Images preloaded" | ""))
        .cloned();
    let name = o.key.name.clone();
    let previous = crate::facts::upgrade::previous_of(o, &env.from);
    let pause_known = crate::facts::upgrade::NODE_UPGRADE_PAUSE.contains(&env.from)
        || crate::facts::upgrade::NODE_UPGRADE_PAUSE.contains(&previous);
    let paused: Vec<String> = if pause_known {
        nodes
            .iter()
            .filter(|(_, s)| s == crate::facts::upgrade::PAUSED_STATE)
            .map(|(n, _)| n.clone())
            .collect()
    } else {
        Vec::new()
    };
    let resume = if paused.is_empty() {
        String::new()
    } else {
        resume_fix(env, o, &paused)
    };
    let mut waits = Vec::new();
    match state.as_str() {
        "PreparingLoggingInfra" | "" if pending.as_ref().is_some_and(|p| p.0 == "LogReady") => {
            waits.extend(logging_waits(env, &name));
        }
        "PreparingRepo" => waits.extend(repo_waits(
            env,
            &name,
            crate::facts::upgrade::REPO_DEPLOYMENT.contains(&previous),
        )),
        "PreparingNodes" => waits.extend(prepare_waits(env, &name)),
        "UpgradingSystemServices" => {
            waits.extend(manifest_waits(env, &name, t.version().unwrap_or("")))
        }
        "UpgradingNodes" => {
            if let Some((n, s)) = &node
                && !paused.contains(n)
            {
                waits.extend(node_waits(env, &name, n, s, t));
            }
        }
        _ => {}
    }
    let _ = i;
    Some(InProgress {
        upgrade: i,
        state,
        version: t.version().unwrap_or("").to_string(),
        pending,
        last_progress,
        node,
        nodes,
        waits,
        paused,
        resume,
    })
}

/// How to resume the nodes the user paused: set each one's entry of the Upgrade's
/// `harvesterhci.io/node-upgrade-pause-map` to `unpause` (the map from the bundle, the other
/// entries kept), and why they are paused (setting `upgrade-config`).
fn resume_fix(env: &Env, o: &Object, paused: &[String]) -> String {
    use crate::facts::upgrade::{PAUSE_MAP_ANNOTATION, pause_map};
    let mut map = pause_map(o).unwrap_or_default();
    for n in paused {
        map.insert(n.clone(), "unpause".into());
    }
    let json = serde_json::to_string(&map).unwrap_or_default();
    let config = crate::facts::cluster::upgrade_config(env.index)
        .filter(|c| c.node_upgrade_mode.is_some() || !c.pause_nodes.is_empty())
        .map(|c| {
            format!(
                " (setting upgrade-config has nodeUpgradeOption.strategy mode {}{})",
                c.node_upgrade_mode.as_deref().unwrap_or("unset"),
                if c.pause_nodes.is_empty() {
                    String::new()
                } else {
                    format!(", pauseNodes {}", c.pause_nodes.join(", "))
                }
            )
        })
        .unwrap_or_default();
    format!(
        "Nothing is broken: the upgrade waits for you to resume {nodes}{config}. When you are \
         ready for {nodes} to be drained and upgraded, resume it: Harvester creates the \
         pre-drain job of a node once its entry in annotation {PAUSE_MAP_ANNOTATION} is \
         \"unpause\":\n$ kubectl -n {ns} annotate upgrades.harvesterhci.io {name} --overwrite {arg}",
        nodes = paused.join(", "),
        ns = o.key.namespace,
        name = o.key.name,
        arg = crate::text::shell_quote(&format!("{PAUSE_MAP_ANNOTATION}={json}")),
    )
}

fn pods_with_label<'a>(env: &'a Env, key: &str, value: &str) -> Vec<&'a Object> {
    env.index
        .of_kind("", "Pod")
        .filter(|p| p.meta.labels.get(key).map(String::as_str) == Some(value))
        .collect()
}

fn bad_pods(env: &Env, pods: &[&Object]) -> Vec<(usize, Option<String>, String)> {
    pods.iter()
        .filter_map(|p| {
            let problem = crate::fleet::pod_problem(p)?;
            Some((idx(env, p)?, Some("containerStatuses".into()), problem))
        })
        .collect()
}

fn logging_waits(env: &Env, u: &str) -> Vec<Wait> {
    let l = format!("{u}-upgradelog");
    let pods = pods_with_label(env, "harvesterhci.io/upgradeLog", &l);
    let bad = bad_pods(env, &pods);
    if bad.is_empty() {
        return Vec::new();
    }
    vec![Wait {
        what: format!(
            "the upgrade-log infrastructure is not ready: {}",
            bad.iter()
                .map(|b| b.2.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        objects: bad.iter().map(|b| (b.0, b.1.clone())).collect(),
        logs: Vec::new(),
        fix: "On an air-gapped cluster the logging images must be preloaded: patch the Logging \
              CR <upgrade>-upgradelog-infra to the preloaded images, or restart the upgrade with \
              logging disabled (Harvester docs, v1.4.2→v1.5.0 known issue 2)."
            .into(),
    }]
}

fn repo_waits(env: &Env, u: &str, deployment: bool) -> Vec<Wait> {
    let mut v = Vec::new();
    if let Some(img) = env.index.find(
        "harvesterhci.io",
        "VirtualMachineImage",
        "harvester-system",
        u,
    ) && let Some(t) = VmImage::of(img)
        && !img
            .status
            .conditions
            .iter()
            .any(|c| c.kind == "Imported" && c.status == "True")
    {
        v.push(Wait {
            what: format!(
                "the ISO image {u} is not imported yet (progress {}%)",
                t.progress().unwrap_or(0)
            ),
            objects: idx(env, img)
                .map(|i| (i, Some("progress".into())))
                .into_iter()
                .collect(),
            logs: Vec::new(),
            fix:
                "Check that the ISO URL of the Version is reachable from the cluster (air-gapped: \
                  upload the ISO as an image and upgrade with spec.image)."
                    .into(),
        });
    }
    let vm_name = crate::facts::upgrade::repo_vm_name(u);
    if deployment {
        v.extend(repo_deployment_wait(env, &vm_name));
    } else if let Some(vm) = env.index.find(
        "kubevirt.io",
        "VirtualMachine",
        "harvester-system",
        &vm_name,
    ) {
        let printable = VirtualMachine::of(vm)
            .and_then(VirtualMachine::printable_status)
            .unwrap_or("unknown")
            .to_string();
        if printable != "Running" {
            let pods = pods_with_label(env, "harvesterhci.io/upgradeComponent", "repo");
            let bad = bad_pods(env, &pods);
            let mut objects: Vec<(usize, Option<String>)> = idx(env, vm)
                .map(|i| (i, Some("printableStatus".into())))
                .into_iter()
                .collect();
            objects.extend(bad.iter().map(|b| (b.0, b.1.clone())));
            v.push(Wait {
                what: format!(
                    "the upgrade repo VM {vm_name} is {printable}{}",
                    reasons_tail(bad.iter().map(|b| b.2.as_str()))
                ),
                objects,
                logs: Vec::new(),
                fix: "The repo VM needs a node with room for it (1 vCPU, 1 GiB) and its image \
                      volume healthy; check its virt-launcher pod and events."
                    .into(),
            });
        }
    }
    v
}

/// An upgrade from v1.7+ serves its repository from Deployment `name` (nginx pods mounting the
/// OS image's volume): the wait when its replicas are not ready.
fn repo_deployment_wait(env: &Env, name: &str) -> Option<Wait> {
    let d = env
        .index
        .find("apps", "Deployment", "harvester-system", name)?;
    let View::Workload(w) = &d.view else {
        return None;
    };
    let want = w.spec_replicas.unwrap_or(1);
    let ready = w.ready_replicas.unwrap_or(0);
    if ready >= want {
        return None;
    }
    let pods = pods_with_label(
        env,
        crate::facts::upgrade::UPGRADE_LABEL,
        name.trim_start_matches("upgrade-repo-"),
    )
    .into_iter()
    .filter(|p| {
        p.meta
            .labels
            .get(crate::facts::upgrade::COMPONENT_LABEL)
            .map(String::as_str)
            == Some("repo")
    })
    .collect::<Vec<_>>();
    let bad = bad_pods(env, &pods);
    let mut objects: Vec<(usize, Option<String>)> = idx(env, d)
        .map(|i| (i, Some("readyReplicas".into())))
        .into_iter()
        .collect();
    objects.extend(bad.iter().map(|b| (b.0, b.1.clone())));
    Some(Wait {
        what: format!(
            "the upgrade repository Deployment {name} has {ready} of {want} replicas ready{}",
            reasons_tail(bad.iter().map(|b| b.2.as_str()))
        ),
        objects,
        logs: Vec::new(),
        fix: format!(
            "The repository pods mount the OS image's volume (VirtualMachineImage {u} in \
             harvester-system): check that volume is attached and healthy, and the pods' events:\n\
             $ sbdiag describe deployment -n harvester-system {name}",
            u = name.trim_start_matches("upgrade-repo-")
        ),
    })
}

fn prepare_waits(env: &Env, u: &str) -> Vec<Wait> {
    let plan = format!("{u}-prepare");
    let jobs: Vec<&Object> = env
        .index
        .of_kind("batch", "Job")
        .filter(|j| j.meta.labels.get("upgrade.cattle.io/plan") == Some(&plan))
        .collect();
    let unfinished: Vec<&Object> = jobs
        .iter()
        .copied()
        .filter(|j| {
            !j.status
                .conditions
                .iter()
                .any(|c| c.kind == "Complete" && c.status == "True")
        })
        .collect();
    if unfinished.is_empty() {
        return Vec::new();
    }
    let mut objects = Vec::new();
    let mut logs = Vec::new();
    let mut what = Vec::new();
    for j in unfinished {
        let node = j
            .meta
            .labels
            .get("upgrade.cattle.io/node")
            .cloned()
            .unwrap_or_default();
        let failed = j
            .status
            .conditions
            .iter()
            .any(|c| c.kind == "Failed" && c.status == "True");
        what.push(format!(
            "image preload job {} on {node} {}",
            j.key.name,
            if failed { "failed" } else { "is still running" }
        ));
        if let Some(i) = idx(env, j) {
            objects.push((i, Some("  status:".into())));
        }
        for p in env
            .graph
            .pods_of(env.index, idx(env, j).unwrap_or(usize::MAX))
        {
            if let Some(po) = env.index.objects.get(p) {
                logs.push((po.key.namespace.clone(), po.key.name.clone(), String::new()));
            }
        }
    }
    vec![Wait {
        what: what.join("; "),
        objects,
        logs,
        fix: "Image preloading needs free space on each node (the upgrade images are ~13 GiB); \
              read the job's log, free space (crictl rmi --prune) or skip preloading with \
              upgrade-config imagePreloadOption.strategy.type=skip and a private registry."
            .into(),
    }]
}

/// What `wait_managed_chart` of the target version's script waits on for a ManagedChart in
/// fleet-local, in words; `None` when the chart would let it go on.
fn chart_holds(m: &Object, target: &str) -> Option<String> {
    if let Some(c) = condition(&m.status.conditions, "Ready")
        && c.status != "True"
    {
        return Some(format!("{} (not Ready)", m.key.name));
    }
    let unavailable = match &m.view {
        crate::model::views::View::Fleet(f) => f.unavailable.unwrap_or(0),
        _ => 0,
    };
    (unavailable > 0
        && crate::facts::harvester::WAIT_MANAGED_CHART_UNAVAILABLE
            .contains(&crate::facts::version::Version::parse(target)))
    .then(|| {
        format!(
            "{} (Ready, but status.unavailable is {unavailable}; the {target} script also waits \
             for 0)",
            m.key.name
        )
    })
}

fn manifest_waits(env: &Env, u: &str, target: &str) -> Vec<Wait> {
    let job = format!("{u}-apply-manifests");
    let mut v = Vec::new();
    let Some(j) = env.index.find("batch", "Job", "harvester-system", &job) else {
        return v;
    };
    let Some(ji) = idx(env, j) else { return v };
    let mut logs = Vec::new();
    for p in env.graph.pods_of(env.index, ji) {
        if let Some(po) = env.index.objects.get(p) {
            logs.push((
                po.key.namespace.clone(),
                po.key.name.clone(),
                "Waiting for".to_string(),
            ));
        }
    }
    let held: Vec<(&Object, String)> = env
        .index
        .of_kind("management.cattle.io", "ManagedChart")
        .filter(|m| m.key.namespace == "fleet-local")
        .filter_map(|m| chart_holds(m, target).map(|w| (m, w)))
        .collect();
    let charts: Vec<&Object> = held.iter().map(|(m, _)| *m).collect();
    // Ready charts hold it by their status.unavailable alone (v1.9+ scripts).
    let unavailable: Vec<&str> = held
        .iter()
        .filter(|(_, w)| w.contains("status.unavailable"))
        .map(|(m, _)| m.key.name.as_str())
        .collect();
    let mut objects = vec![(ji, Some("  status:".into()))];
    objects.extend(charts.iter().filter_map(|m| {
        let focus = if unavailable.contains(&m.key.name.as_str()) {
            "unavailable:"
        } else {
            "type: Ready"
        };
        idx(env, m).map(|i| (i, Some(focus.into())))
    }));
    v.push(Wait {
        what: if charts.is_empty() {
            format!("job {job} (upgrade_manifests.sh) is still running")
        } else {
            format!(
                "job {job} loops in wait_managed_chart, which ends only when each chart reports \
                 ready: ManagedChart(s) holding it: {}",
                held.iter()
                    .map(|(_, w)| w.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        objects,
        logs,
        fix: if unavailable.is_empty() {
            "See the fleet.* findings for why each chart is not Ready; the script continues by \
             itself once they are."
                .into()
        } else {
            format!(
                "{} Ready, but Fleet still counts unavailable bundle deployments; the script \
                 continues by itself once status.unavailable is 0. See which one and why:\n{}\n\
                 Then look at the chart's workloads that are not available (`kubectl get \
                 deployments,daemonsets -A`; not-ready pods of the chart's namespace).",
                if unavailable.len() == 1 {
                    format!("ManagedChart {} is", unavailable.join(""))
                } else {
                    format!("ManagedCharts {} are", unavailable.join(", "))
                },
                unavailable
                    .iter()
                    .map(|n| format!(
                        "$ kubectl get bundledeployments.fleet.cattle.io -A -l fleet.cattle.io/bundle-name=mcc-{n} -o yaml"
                    ))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        },
    });
    v
}

/// The latest pre-drain step the job's current log shows: the step, and the log line of it.
fn pre_drain_step<'a>(env: &'a Env, pods: &[&Object]) -> Option<(&'static str, &'a LogHit)> {
    env.log_hits
        .iter()
        // The current log: the previous one (`.log.1`) is of a container that has exited.
        .filter(|h| h.file.ends_with(".log"))
        .filter(|h| {
            pods.iter().any(|p| {
                h.file
                    .starts_with(&format!("logs/{}/{}/", p.key.namespace, p.key.name))
            })
        })
        .filter_map(|h| {
            let name = h.issue.strip_prefix(PRE_DRAIN_STEP_HIT)?;
            let step = PRE_DRAIN_STEPS.iter().find(|s| s.name == name)?;
            Some((step.name, h))
        })
        .max_by_key(|(_, h)| h.line)
}

/// What the pre-drain job of `node` waits on, led by the blocker of the step its log shows:
/// the script waits for the volumes of running engines to be healthy before it waits for the
/// VMs to leave the node (`facts::upgrade::PRE_DRAIN_STEPS`); without a log, in that order.
fn pre_draining_waits(env: &Env, u: &str, node: &str) -> Vec<Wait> {
    let job = format!("{u}-pre-drain-{node}");
    let job_pods: Vec<&Object> = env
        .index
        .find("batch", "Job", "harvester-system", &job)
        .and_then(|j| idx(env, j))
        .map(|ji| env.graph.pods_of(env.index, ji))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| env.index.objects.get(p))
        .collect();
    let step = pre_drain_step(env, &job_pods);
    let logs = |focus: &str| -> Vec<(String, String, String)> {
        job_pods
            .iter()
            .map(|p| {
                (
                    p.key.namespace.clone(),
                    p.key.name.clone(),
                    focus.to_string(),
                )
            })
            .collect()
    };
    let at = |h: &LogHit| format!("{}:{}", h.file, h.line);
    let mut engines: Option<Wait> = None;
    let degraded: Vec<&Object> = env
        .index
        .of_kind("longhorn.io", "Volume")
        .filter(|o| LhVolume::of(*o).is_some_and(|x| x.robustness() == Some("degraded")))
        .collect();
    let waited = step
        .filter(|(s, _)| *s == "wait_longhorn_engines")
        .and_then(|(_, h)| Some((h, waited_volume(&h.text)?)));
    if let Some((h, vol)) = waited {
        let o = env
            .index
            .find("longhorn.io", "Volume", "longhorn-system", vol);
        let state = o
            .and_then(LhVolume::of)
            .map(|x| {
                format!(
                    "robustness {}, state {}",
                    x.robustness().unwrap_or("unknown"),
                    x.state().unwrap_or("unknown")
                )
            })
            .unwrap_or_else(|| "not in the bundle".into());
        engines = Some(Wait {
            what: format!(
                "the pre-drain job is in its first step, wait_longhorn_engines: its log's latest \
                 step line ({}) waits for volume {vol} to be healthy ({state})",
                at(h)
            ),
            objects: o
                .and_then(|o| idx(env, o))
                .map(|i| (i, Some("robustness".into())))
                .into_iter()
                .collect(),
            logs: logs("Waiting for volume"),
            fix: format!(
                "Let volume {vol} rebuild its replicas; if it can never be healthy (more replicas \
                 than schedulable nodes), lower its numberOfReplicas, or touch /tmp/skip-{vol} in \
                 the pre-drain pod (issue #3164)."
            ),
        });
    } else if !degraded.is_empty() && step.is_none_or(|(s, _)| s == "wait_longhorn_engines") {
        engines = Some(Wait {
            what: format!(
                "the pre-drain job first waits for the volumes of running engines to be healthy \
                 (wait_longhorn_engines); degraded: {}",
                degraded
                    .iter()
                    .map(|o| o.key.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            objects: degraded
                .iter()
                .filter_map(|o| idx(env, o).map(|i| (i, Some("robustness".into()))))
                .collect(),
            logs: logs("Waiting for"),
            fix: format!(
                "Let the replicas rebuild; if a volume can never be healthy (more replicas than \
                 schedulable nodes), lower its numberOfReplicas, or make the job skip it: touch \
                 {} in the pre-drain pod (issue #3164).",
                degraded
                    .iter()
                    .map(|o| format!("/tmp/skip-{}", o.key.name))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        });
    }
    let vmis: Vec<&Object> = env
        .index
        .of_kind("kubevirt.io", "VirtualMachineInstance")
        .filter(|o| {
            Vmi::of(*o)
                .is_some_and(|x| x.node_name() == Some(node) && x.phase() != Some("Succeeded"))
        })
        .collect();
    // A VM asked to stop whose launcher pod is stuck Terminating keeps its VMI (issue #4725):
    // the blocker is the pod, not a migration.
    let mut stuck: Vec<(&Object, &Object)> = Vec::new();
    let mut moving: Vec<&Object> = Vec::new();
    for vmi in &vmis {
        match stuck_launcher(env, vmi) {
            Some(p) => stuck.push((vmi, p)),
            None => moving.push(vmi),
        }
    }
    let then = if engines.is_some() { "then " } else { "" };
    let mut vm_waits = Vec::new();
    let in_vm_step = step
        .filter(|(s, _)| *s == "wait_vms_out_or_shutdown")
        .map(|(_, h)| match crate::facts::upgrade::failed_migration_shutdown(&h.text) {
            // v1.7+: the job stops a VM whose evacuation migration failed.
            Some((ns, vm)) => format!(
                " (its log's latest step line, {}, says it is shutting down VM {ns}/{vm} because \
                 its migration failed)",
                at(h)
            ),
            None => format!(" (its log's latest step line: {})", at(h)),
        })
        .unwrap_or_default();
    for (vmi, pod) in &stuck {
        let since = pod
            .meta
            .deletion_timestamp
            .as_deref()
            .map(|t| format!(" since {t}"))
            .unwrap_or_default();
        vm_waits.push(Wait {
            what: format!(
                "the pre-drain job {then}waits for the VMs on {node} to leave{in_vm_step}: VM \
                 {}/{} is stopped, but its virt-launcher pod {} on {node} is stuck Terminating\
                 {since}, so its VMI stays",
                vmi.key.namespace, vmi.key.name, pod.key.name
            ),
            objects: [(*vmi, "nodeName"), (*pod, "deletionTimestamp")]
                .iter()
                .filter_map(|(o, f)| idx(env, o).map(|i| (i, Some(f.to_string()))))
                .collect(),
            logs: logs("Waiting for"),
            fix: format!(
                "Find why pod {ns}/{p} does not finish terminating on {node} (its events, and \
                 the kubelet and containerd logs of {node}):\n$ sbdiag describe pod -n {ns} {p}\n\
                 Once the VM's qemu process is confirmed gone from {node}, force-delete the pod \
                 (issue #4725):\n$ kubectl -n {ns} delete pod {p} --grace-period=0 --force",
                ns = pod.key.namespace,
                p = pod.key.name
            ),
        });
    }
    if !moving.is_empty() {
        vm_waits.push(Wait {
            what: format!(
                "the pre-drain job {then}waits for the VMs on {node} to live-migrate or shut \
                 down{in_vm_step}: {}",
                moving
                    .iter()
                    .map(|o| format!("{}/{}", o.key.namespace, o.key.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            objects: moving
                .iter()
                .filter_map(|o| idx(env, o).map(|i| (i, Some("nodeName".into()))))
                .collect(),
            logs: logs("Waiting for"),
            fix: {
                let mut f = String::from(
                    "Migrate or stop these VMs by hand; VMs with host devices, node selectors, \
                     CD-ROMs or container disks cannot migrate (issue #7005).",
                );
                for o in &moving {
                    if let Some((u, crate::facts::upgrade::Owned::RepoVm)) =
                        crate::facts::upgrade::owned_by_running(env.index, o)
                    {
                        f.push_str(&format!(
                            "\nExcept {}: it is the repository VM of upgrade {u}, which serves \
                             the new OS image to the nodes and is removed when the upgrade \
                             finishes; do not stop it.",
                            o.key.name
                        ));
                    }
                }
                f
            },
        });
    }
    // The engine wait leads when the log shows it (or, without a log, by the script's order);
    // once the log shows the VM wait, the engines are behind it.
    engines.into_iter().chain(vm_waits).collect()
}

/// The virt-launcher pod of a VMI whose VM was asked to stop (stopped, or `runStrategy:
/// Halted` / `running: false`), when that pod is being deleted.
fn stuck_launcher<'a>(env: &'a Env, vmi: &Object) -> Option<&'a Object> {
    let vm = env
        .index
        .find(
            "kubevirt.io",
            "VirtualMachine",
            &vmi.key.namespace,
            &vmi.key.name,
        )
        .and_then(VirtualMachine::of)?;
    let stop_requested = vm.printable_status() == Some("Stopped")
        || vm.run_strategy() == Some("Halted")
        || vm.running() == Some(false);
    if !stop_requested {
        return None;
    }
    let vi = idx(env, vmi)?;
    env.graph
        .pods_of(env.index, vi)
        .into_iter()
        .filter_map(|p| env.index.objects.get(p))
        .find(|p| p.meta.deletion_timestamp.is_some())
}

fn node_waits(env: &Env, u: &str, node: &str, state: &str, t: Upgrade) -> Vec<Wait> {
    let mut v = Vec::new();
    match state {
        "Pre-draining" => v.extend(pre_draining_waits(env, u, node)),
        "Pre-drained" => {
            // Rancher drains the node; what blocks eviction is a PDB with no disruption left
            // that protects a pod on this node.
            let pods_here: Vec<&Object> = env
                .index
                .of_kind("", "Pod")
                .filter(|p| matches!(&p.view, View::Pod(v) if v.node_name.as_deref() == Some(node)))
                .collect();
            for pdb in env.index.of_kind("policy", "PodDisruptionBudget") {
                let Some(pt) = Pdb::of(pdb) else { continue };
                if pt.disruptions_allowed().unwrap_or(0) > 0 {
                    continue;
                }
                let sel: Vec<(&str, Option<&str>)> = pt.match_labels().collect();
                if sel.is_empty() {
                    continue;
                }
                let protected: Vec<&&Object> = pods_here
                    .iter()
                    .filter(|p| p.key.namespace == pdb.key.namespace)
                    .filter(|p| {
                        sel.iter()
                            .all(|(k, v)| p.meta.labels.get(k).map(String::as_str) == *v)
                    })
                    .collect();
                if protected.is_empty() {
                    continue;
                }
                let mut objects: Vec<(usize, Option<String>)> = idx(env, pdb)
                    .map(|i| (i, Some("disruptionsAllowed".into())))
                    .into_iter()
                    .collect();
                let mut what = format!(
                    "the drain of {node} is blocked by PodDisruptionBudget {}/{} \
                     (disruptionsAllowed 0), which protects {}",
                    pdb.key.namespace,
                    pdb.key.name,
                    protected
                        .iter()
                        .map(|p| p.key.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let mut logs = Vec::new();
                let mut fix = format!(
                    "Find what keeps {}'s pods needed; delete the PDB only when it is safe.",
                    pdb.key.name
                );
                if pdb.key.namespace == "longhorn-system"
                    && pdb.key.name.starts_with("instance-manager")
                {
                    // D-6: an orphan engine (stopped, no node) is still counted.
                    let orphans: Vec<&Object> = env
                        .index
                        .of_kind("longhorn.io", "Engine")
                        .filter(|e| {
                            LhEngine::of(*e).is_some_and(|x| {
                                x.node_id().is_none()
                                    && matches!(x.current_state(), Some("stopped") | None)
                            })
                        })
                        // A detached volume's engine is stopped and on no node: that is normal,
                        // and Longhorn does not count it.
                        .filter(|e| {
                            LhEngine::of(*e)
                                .and_then(LhEngine::volume_name)
                                .and_then(|v| {
                                    env.index.find("longhorn.io", "Volume", &e.key.namespace, v)
                                })
                                .and_then(LhVolume::of)
                                .and_then(LhVolume::state)
                                != Some("detached")
                        })
                        .collect();
                    if !orphans.is_empty() {
                        what.push_str(&format!(
                            "; Longhorn still counts engine(s) that are stopped and on no node: {}",
                            orphans
                                .iter()
                                .map(|e| e.key.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                        objects.extend(
                            orphans.iter().filter_map(|e| {
                                idx(env, e).map(|i| (i, Some("currentState".into())))
                            }),
                        );
                    }
                    for lm in env.index.of_kind("", "Pod").filter(|p| {
                        p.key.namespace == "longhorn-system"
                            && p.key.name.starts_with("longhorn-manager")
                            && matches!(&p.view, View::Pod(v) if v.node_name.as_deref() == Some(node))
                    }) {
                        logs.push((lm.key.namespace.clone(), lm.key.name.clone(), "PDB is blocked".into()));
                    }
                    fix = format!(
                        "Confirm every attached volume is healthy:\n$ kubectl -n longhorn-system \
                         get volumes.longhorn.io\nThen delete the instance-manager PDB of {node} \
                         so the drain continues (Harvester docs, v1.4.0→v1.4.1 known issue 1):\n\
                         $ kubectl -n longhorn-system delete pdb {}",
                        pdb.key.name
                    );
                }
                v.push(Wait {
                    what,
                    objects,
                    logs,
                    fix,
                });
            }
        }
        "Waiting Reboot" => {
            if let Some(n) = env.index.find("", "Node", "", node) {
                let pending = n.meta.annotations.get("harvesterhci.io/pendingOSImage");
                let os = match &n.view {
                    View::Node(v) => v.os_image.clone().unwrap_or_default(),
                    _ => String::new(),
                };
                v.push(Wait {
                    what: format!(
                        "{node} has to reboot into the new OS: it runs {os:?}, expected {}",
                        pending
                            .map(|p| format!("{p:?}"))
                            .unwrap_or_else(|| "(no pendingOSImage annotation)".into())
                    ),
                    objects: idx(env, n)
                        .map(|i| (i, Some("pendingOSImage".into())))
                        .into_iter()
                        .collect(),
                    logs: Vec::new(),
                    fix: "Check the node's console and its kernel/rke2 logs in the node bundle \
                          (network setup errors from truncated /oem/90_custom.yaml are known, \
                          issue #9033)."
                        .into(),
                });
            }
        }
        "Failed" => {
            let st = t.node_status(node);
            v.push(Wait {
                what: format!(
                    "the upgrade of {node} failed: {} {}",
                    st.and_then(|s| s.reason()).unwrap_or(""),
                    st.and_then(|s| s.message()).unwrap_or("")
                ),
                objects: Vec::new(),
                logs: Vec::new(),
                fix: "Read the failed job's log (harvester-system, label harvesterhci.io/node)."
                    .into(),
            });
        }
        _ => {}
    }
    v
}

#[cfg(test)]
mod tests {
    //! One test per phase the life-cycle recognises (`reference/upgrade-blockers.md` §B.1,
    //! §B.2, §B.5), asserting what it says the upgrade waits on.
    use serde_json::{Value, json};

    use super::*;
    use crate::upgrade::testkit::*;

    const U: &str = "hvst-upgrade-a";

    /// Upgrade `U` in `state` with conditions (type, status) at successive times and these
    /// node states.
    fn up(state: &str, conditions: &[(&str, &str)], nodes: &[(&str, &str)]) -> Value {
        let mut u = upgrade(U, (!state.is_empty()).then_some(state), None);
        let conds: Vec<Value> = conditions
            .iter()
            .enumerate()
            .map(|(n, (t, s))| {
                json!({"type": t, "status": s, "lastTransitionTime": format!("2026-01-0{}T00:00:00Z", n + 1)})
            })
            .collect();
        u = set(u, "/status/conditions", json!(conds));
        let mut statuses = serde_json::Map::new();
        for (n, s) in nodes {
            statuses.insert(n.to_string(), json!({"state": s}));
        }
        set(u, "/status/nodeStatuses", Value::Object(statuses))
    }

    /// A pod on `node`, with `labels`, owned by `owner` (apiVersion, kind, name) when given,
    /// ready or waiting with `reason`.
    fn pod(
        ns: &str,
        name: &str,
        node: &str,
        labels: Value,
        owner: Option<(&str, &str, &str)>,
        waiting: Option<(&str, &str)>,
    ) -> Value {
        let owners: Vec<Value> = owner
            .map(|(a, k, n)| json!({"apiVersion": a, "kind": k, "name": n, "uid": format!("uid-{n}")}))
            .into_iter()
            .collect();
        let (phase, ready, state) = match waiting {
            Some((reason, message)) => (
                "Pending",
                "False",
                json!({"waiting": {"reason": reason, "message": message}}),
            ),
            None => ("Running", "True", json!({"running": {}})),
        };
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": owners},
            "spec": {"nodeName": node, "containers": [{"name": "main", "image": "x"}]},
            "status": {
                "phase": phase,
                "conditions": [{"type": "Ready", "status": ready}],
                "containerStatuses": [{"name": "main", "ready": ready == "True", "restartCount": 0, "state": state}],
            },
        })
    }

    fn job(ns: &str, name: &str, labels: Value, condition: Option<&str>) -> Value {
        let conds: Vec<Value> = condition
            .map(|c| json!({"type": c, "status": "True"}))
            .into_iter()
            .collect();
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {},
            "status": {"conditions": conds},
        })
    }

    fn progress(objects: &[Value]) -> (World, Vec<InProgress>) {
        let mut v = cluster(3);
        v.extend(objects.iter().cloned());
        let w = World::new(&v);
        let p = w.env("v1.4.0", None, in_progress);
        (w, p)
    }

    /// The only upgrade in progress.
    #[track_caller]
    fn one(p: Vec<InProgress>) -> InProgress {
        assert_eq!(p.len(), 1, "{p:?}");
        p.into_iter().next().expect("one upgrade")
    }

    #[test]
    fn state_pending_condition_progress_and_node_of_an_upgrade() {
        let (w, p) = progress(&[
            up(
                "UpgradingNodes",
                &[
                    ("Completed", "Unknown"),
                    ("LogReady", "True"),
                    ("ImageReady", "True"),
                    ("RepoReady", "True"),
                    ("NodesPrepared", "True"),
                    ("SystemServicesUpgraded", "True"),
                    ("NodesUpgraded", "Unknown"),
                ],
                &[
                    ("n3", "Images preloaded"),
                    ("n1", "Succeeded"),
                    ("n2", "Post-draining"),
                ],
            ),
            upgrade("hvst-upgrade-old", Some("Succeeded"), Some("True")),
        ]);
        let p = one(p);
        assert_eq!(
            p.upgrade,
            w.pos("harvesterhci.io", "Upgrade", "harvester-system", U)
        );
        assert_eq!(p.state, "UpgradingNodes");
        assert_eq!(p.version, "v1.4.1");
        // The first condition of the flow not True, not the first in the list.
        assert_eq!(
            p.pending,
            Some(("NodesUpgraded".to_string(), "Unknown".to_string()))
        );
        assert_eq!(p.last_progress.as_deref(), Some("2026-01-07T00:00:00Z"));
        assert_eq!(
            p.node,
            Some(("n2".to_string(), "Post-draining".to_string()))
        );
        assert_eq!(
            p.nodes,
            [
                ("n1".to_string(), "Succeeded".to_string()),
                ("n2".to_string(), "Post-draining".to_string()),
                ("n3".to_string(), "Images preloaded".to_string()),
            ]
        );
        // Post-draining waits on nothing sbdiag can name.
        assert!(p.waits.is_empty());
    }

    #[test]
    fn logging_infrastructure_that_cannot_pull_its_images() {
        let labels = json!({"harvesterhci.io/upgradeLog": format!("{U}-upgradelog")});
        let stuck = pod(
            "cattle-logging-system",
            "hvst-upgrade-a-upgradelog-infra-fluentbit-x1",
            "n1",
            labels.clone(),
            None,
            Some((
                "ImagePullBackOff",
                "Back-off pulling image \"rancher/mirrored-fluent-fluent-bit\"",
            )),
        );
        for state in ["PreparingLoggingInfra", ""] {
            let (w, p) = progress(&[
                up(
                    state,
                    &[("Completed", "Unknown"), ("LogReady", "Unknown")],
                    &[],
                ),
                stuck.clone(),
            ]);
            let p = one(p);
            assert_eq!(p.waits.len(), 1, "{state}: {p:?}");
            let wait = &p.waits[0];
            assert!(
                wait.what.starts_with(
                    "the upgrade-log infrastructure is not ready: \
                     hvst-upgrade-a-upgradelog-infra-fluentbit-x1"
                ),
                "{}",
                wait.what
            );
            assert!(wait.what.contains("ImagePullBackOff"));
            assert_eq!(
                wait.objects[0].0,
                w.pos(
                    "",
                    "Pod",
                    "cattle-logging-system",
                    "hvst-upgrade-a-upgradelog-infra-fluentbit-x1"
                )
            );
            assert!(wait.fix.contains("air-gapped"));
        }
        // Pods that run: nothing to wait on.
        let fine = pod("cattle-logging-system", "fb", "n1", labels, None, None);
        let (_, p) = progress(&[
            up("PreparingLoggingInfra", &[("LogReady", "Unknown")], &[]),
            fine,
        ]);
        assert!(one(p).waits.is_empty());
    }

    #[test]
    fn repo_image_not_imported_and_repo_vm_not_running() {
        let image = json!({
            "apiVersion": "harvesterhci.io/v1beta1",
            "kind": "VirtualMachineImage",
            "metadata": {"name": U, "namespace": "harvester-system"},
            "spec": {"url": "https://releases/v1.4.1/harvester.iso"},
            "status": {"progress": 42, "conditions": [{"type": "Imported", "status": "Unknown"}]},
        });
        let vm = json!({
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachine",
            "metadata": {"name": format!("upgrade-repo-{U}"), "namespace": "harvester-system"},
            "spec": {},
            "status": {"printableStatus": "Starting"},
        });
        let launcher = pod(
            "harvester-system",
            "virt-launcher-upgrade-repo-hvst-upgrade-a-abcde",
            "n1",
            json!({"harvesterhci.io/upgradeComponent": "repo"}),
            None,
            Some(("ContainerCreating", "")),
        );
        let (w, p) = progress(&[
            up("PreparingRepo", &[("ImageReady", "Unknown")], &[]),
            image.clone(),
            vm,
            launcher,
        ]);
        let p = one(p);
        assert_eq!(p.waits.len(), 2, "{p:?}");
        assert_eq!(
            p.waits[0].what,
            "the ISO image hvst-upgrade-a is not imported yet (progress 42%)"
        );
        assert!(
            p.waits[1]
                .what
                .starts_with("the upgrade repo VM upgrade-repo-hvst-upgrade-a is Starting: "),
            "{}",
            p.waits[1].what
        );
        assert!(
            p.waits[1]
                .what
                .contains("virt-launcher-upgrade-repo-hvst-upgrade-a-abcde")
        );
        let launcher_at = w.pos(
            "",
            "Pod",
            "harvester-system",
            "virt-launcher-upgrade-repo-hvst-upgrade-a-abcde",
        );
        assert!(p.waits[1].objects.iter().any(|(i, _)| *i == launcher_at));
        // Imported, VM running: nothing.
        let imported = set(image, "/status/conditions/0/status", json!("True"));
        let running = json!({
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachine",
            "metadata": {"name": format!("upgrade-repo-{U}"), "namespace": "harvester-system"},
            "status": {"printableStatus": "Running"},
        });
        let (_, p) = progress(&[up("PreparingRepo", &[], &[]), imported, running]);
        assert!(one(p).waits.is_empty());
    }

    #[test]
    fn image_preload_jobs_running_or_failed() {
        let plan = format!("{U}-prepare");
        let on = |n: &str| json!({"upgrade.cattle.io/plan": plan, "upgrade.cattle.io/node": n});
        let name = |n: &str| format!("apply-{U}-prepare-on-{n}-with-1234");
        let (w, p) = progress(&[
            up("PreparingNodes", &[("NodesPrepared", "Unknown")], &[]),
            job("cattle-system", &name("n1"), on("n1"), Some("Complete")),
            job("cattle-system", &name("n2"), on("n2"), None),
            job("cattle-system", &name("n3"), on("n3"), Some("Failed")),
            pod(
                "cattle-system",
                "apply-n2-pod",
                "n2",
                json!({}),
                Some(("batch/v1", "Job", &name("n2"))),
                None,
            ),
        ]);
        let p = one(p);
        assert_eq!(p.waits.len(), 1);
        assert_eq!(
            p.waits[0].what,
            format!(
                "image preload job {} on n2 is still running; image preload job {} on n3 failed",
                name("n2"),
                name("n3")
            )
        );
        assert_eq!(
            p.waits[0].logs,
            [(
                "cattle-system".to_string(),
                "apply-n2-pod".to_string(),
                String::new()
            )]
        );
        assert_eq!(
            p.waits[0].objects.iter().map(|o| o.0).collect::<Vec<_>>(),
            [
                w.pos("batch", "Job", "cattle-system", &name("n2")),
                w.pos("batch", "Job", "cattle-system", &name("n3"))
            ]
        );
        // Every job complete: nothing.
        let (_, p) = progress(&[
            up("PreparingNodes", &[], &[]),
            job("cattle-system", &name("n1"), on("n1"), Some("Complete")),
        ]);
        assert!(one(p).waits.is_empty());
    }

    #[test]
    fn from_v1_9_a_ready_chart_with_unavailable_replicas_holds_the_manifests_job() {
        let manifests = job(
            "harvester-system",
            &format!("{U}-apply-manifests"),
            json!({"harvesterhci.io/upgrade": U, "harvesterhci.io/upgradeComponent": "manifest"}),
            None,
        );
        let waits = |target: &str| {
            let (_, p) = progress(&[
                set(
                    up(
                        "UpgradingSystemServices",
                        &[("SystemServicesUpgraded", "Unknown")],
                        &[],
                    ),
                    "/spec/version",
                    json!(target),
                ),
                manifests.clone(),
                set(
                    managed_chart("fleet-local", "rancher-monitoring", Some("True")),
                    "/status/unavailable",
                    json!(1),
                ),
            ]);
            one(p).waits
        };
        // v1.8.2's script waits only for Ready.
        let w = waits("v1.8.2");
        assert_eq!(w.len(), 1);
        assert_eq!(
            w[0].what,
            "job hvst-upgrade-a-apply-manifests (upgrade_manifests.sh) is still running"
        );
        // v1.9.0's also for status.unavailable == 0 (harvester/harvester#10693).
        let w = waits("v1.9.0");
        assert_eq!(
            w[0].what,
            "job hvst-upgrade-a-apply-manifests loops in wait_managed_chart, which ends only when \
             each chart reports ready: ManagedChart(s) holding it: rancher-monitoring (Ready, but \
             status.unavailable is 1; the v1.9.0 script also waits for 0)"
        );
    }

    #[test]
    fn system_services_wait_on_managed_charts() {
        let manifests = job(
            "harvester-system",
            &format!("{U}-apply-manifests"),
            json!({"harvesterhci.io/upgrade": U, "harvesterhci.io/upgradeComponent": "manifest"}),
            None,
        );
        let runner = pod(
            "harvester-system",
            "hvst-upgrade-a-apply-manifests-xyz",
            "n1",
            json!({}),
            Some(("batch/v1", "Job", "hvst-upgrade-a-apply-manifests")),
            None,
        );
        let (w, p) = progress(&[
            up(
                "UpgradingSystemServices",
                &[("SystemServicesUpgraded", "Unknown")],
                &[],
            ),
            manifests.clone(),
            runner,
            managed_chart("fleet-local", "harvester-crd", Some("True")),
            set(
                managed_chart("fleet-local", "rancher-monitoring-crd", Some("True")),
                "/status/conditions/0/status",
                json!("False"),
            ),
        ]);
        let p = one(p);
        assert_eq!(p.waits.len(), 1);
        assert_eq!(
            p.waits[0].what,
            "job hvst-upgrade-a-apply-manifests loops in wait_managed_chart, which ends only when \
             each chart reports ready: ManagedChart(s) holding it: rancher-monitoring-crd (not \
             Ready)"
        );
        assert_eq!(
            p.waits[0].logs,
            [(
                "harvester-system".to_string(),
                "hvst-upgrade-a-apply-manifests-xyz".to_string(),
                "Waiting for".to_string()
            )]
        );
        assert!(p.waits[0].objects.contains(&(
            w.pos(
                "management.cattle.io",
                "ManagedChart",
                "fleet-local",
                "rancher-monitoring-crd"
            ),
            Some("type: Ready".to_string())
        )));
        // Every chart Ready: the script is still at work.
        let (_, p) = progress(&[up("UpgradingSystemServices", &[], &[]), manifests]);
        assert_eq!(
            one(p).waits[0].what,
            "job hvst-upgrade-a-apply-manifests (upgrade_manifests.sh) is still running"
        );
    }

    #[test]
    fn pre_draining_waits_for_vms_and_degraded_volumes() {
        let (w, p) = progress(&[
            up(
                "UpgradingNodes",
                &[("NodesUpgraded", "Unknown")],
                &[("n1", "Succeeded"), ("n2", "Pre-draining")],
            ),
            vmi("vm1", "n2"),
            set(vmi("vm2", "n2"), "/status/phase", json!("Succeeded")),
            vmi("vm3", "n1"),
            volume("pvc-a", 3, "attached", "degraded"),
        ]);
        let p = one(p);
        assert_eq!(p.node, Some(("n2".to_string(), "Pre-draining".to_string())));
        assert_eq!(p.waits.len(), 2, "{p:?}");
        // Without a log, in the script's order: the engines' volumes, then the VMs.
        assert_eq!(
            p.waits[0].what,
            "the pre-drain job first waits for the volumes of running engines to be healthy \
             (wait_longhorn_engines); degraded: pvc-a"
        );
        assert!(
            p.waits[0]
                .fix
                .contains("touch /tmp/skip-pvc-a in the pre-drain pod")
        );
        assert_eq!(
            p.waits[1].what,
            "the pre-drain job then waits for the VMs on n2 to live-migrate or shut down: \
             default/vm1"
        );
        assert_eq!(
            p.waits[1].objects,
            [(
                w.pos("kubevirt.io", "VirtualMachineInstance", "default", "vm1"),
                Some("nodeName".to_string())
            )]
        );
    }

    /// A pre-drain job for n2 of `U` with its pod, and the objects of a Pre-draining upgrade.
    fn pre_draining(extra: &[Value]) -> Vec<Value> {
        let job_name = format!("{U}-pre-drain-n2");
        let mut v = vec![
            up(
                "UpgradingNodes",
                &[("NodesUpgraded", "Unknown")],
                &[("n1", "Succeeded"), ("n2", "Pre-draining")],
            ),
            job("harvester-system", &job_name, json!({}), None),
            pod(
                "harvester-system",
                &format!("{job_name}-x1"),
                "n2",
                json!({}),
                Some(("batch/v1", "Job", &job_name)),
                None,
            ),
        ];
        v.extend(extra.iter().cloned());
        v
    }

    /// A line of the pre-drain pod's current log that shows `step`.
    fn step_hit(step: &str, line: u32, text: &str) -> LogHit {
        LogHit {
            issue: format!("{PRE_DRAIN_STEP_HIT}{step}"),
            pattern: String::new(),
            file: format!("logs/harvester-system/{U}-pre-drain-n2-x1/pre-drain.log"),
            line,
            text: format!("2025-02-14T05:57:11.1Z {text}"),
            count: 1,
        }
    }

    fn waits_with(objects: &[Value], hits: Vec<LogHit>) -> Vec<Wait> {
        let mut v = cluster(3);
        v.extend(objects.iter().cloned());
        let w = World::new(&v).with_hits(hits);
        one(w.env("v1.4.0", None, in_progress)).waits
    }

    #[test]
    fn pre_draining_leads_with_the_step_its_log_shows() {
        let objects = pre_draining(&[
            vmi("vm1", "n2"),
            volume("pvc-a", 3, "attached", "degraded"),
            volume("pvc-b", 3, "attached", "degraded"),
        ]);
        let engines = step_hit(
            "wait_longhorn_engines",
            40,
            "Waiting for volume pvc-b to be healthy...",
        );
        let log = format!("logs/harvester-system/{U}-pre-drain-n2-x1/pre-drain.log");
        // Still in wait_longhorn_engines: the volume it waits for leads, the VMs come after.
        let w = waits_with(&objects, vec![engines.clone()]);
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            w[0].what,
            format!(
                "the pre-drain job is in its first step, wait_longhorn_engines: its log's latest \
                 step line ({log}:40) waits for volume pvc-b to be healthy (robustness degraded, \
                 state attached)"
            )
        );
        assert!(
            w[0].fix
                .contains("touch /tmp/skip-pvc-b in the pre-drain pod")
        );
        assert!(
            w[1].what
                .starts_with("the pre-drain job then waits for the VMs on n2")
        );
        // In wait_vms_out_or_shutdown: the engines are behind it, the VMs are the blocker.
        let vms = step_hit(
            "wait_vms_out_or_shutdown",
            90,
            "Waiting for VM live-migration or shutdown...(count: 1)",
        );
        let w = waits_with(&objects, vec![engines, vms]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(
            w[0].what,
            format!(
                "the pre-drain job waits for the VMs on n2 to live-migrate or shut down (its \
                 log's latest step line: {log}:90): default/vm1"
            )
        );
    }

    #[test]
    fn a_stopped_vm_whose_launcher_pod_is_stuck_terminating_names_the_pod() {
        let launcher = set(
            pod(
                "default",
                "virt-launcher-vm1-abcde",
                "n2",
                json!({"kubevirt.io": "virt-launcher"}),
                Some(("kubevirt.io/v1", "VirtualMachineInstance", "vm1")),
                None,
            ),
            "/metadata/deletionTimestamp",
            json!("2025-02-14T06:00:00Z"),
        );
        let stopped = set(
            set(vm("vm1"), "/status/printableStatus", json!("Stopped")),
            "/spec/runStrategy",
            json!("Halted"),
        );
        let objects = pre_draining(&[vmi("vm1", "n2"), stopped, launcher, vmi("vm2", "n2")]);
        let w = waits_with(&objects, Vec::new());
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            w[0].what,
            "the pre-drain job waits for the VMs on n2 to leave: VM default/vm1 is stopped, but \
             its virt-launcher pod virt-launcher-vm1-abcde on n2 is stuck Terminating since \
             2025-02-14T06:00:00Z, so its VMI stays"
        );
        assert!(
            w[0].fix.contains(
                "kubectl -n default delete pod virt-launcher-vm1-abcde --grace-period=0 --force"
            ),
            "{}",
            w[0].fix
        );
        assert!(!w[0].fix.contains("Migrate or stop"));
        // A running VM still has to migrate.
        assert!(
            w[1].what
                .ends_with("live-migrate or shut down: default/vm2")
        );
    }

    #[test]
    fn pre_drained_blocked_by_the_instance_manager_pdb_and_an_orphan_engine() {
        let pdb = |allowed: i64| {
            json!({
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "instance-manager-abc", "namespace": "longhorn-system"},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"longhorn.io/instance-manager-name": "instance-manager-abc"}}},
                "status": {"disruptionsAllowed": allowed},
            })
        };
        let im = pod(
            "longhorn-system",
            "instance-manager-abc",
            "n2",
            json!({"longhorn.io/instance-manager-name": "instance-manager-abc"}),
            None,
            None,
        );
        let manager = pod(
            "longhorn-system",
            "longhorn-manager-q7x",
            "n2",
            json!({"app": "longhorn-manager"}),
            None,
            None,
        );
        let engine = json!({
            "apiVersion": "longhorn.io/v1beta2",
            "kind": "Engine",
            "metadata": {"name": "pvc-1-e-0", "namespace": "longhorn-system"},
            "spec": {"nodeID": "", "volumeName": "pvc-1"},
            "status": {"currentState": "stopped"},
        });
        let state = up(
            "UpgradingNodes",
            &[("NodesUpgraded", "Unknown")],
            &[("n1", "Succeeded"), ("n2", "Pre-drained")],
        );
        // A detached volume's engine is stopped and on no node too: normal, not listed.
        let detached_engine = json!({
            "apiVersion": "longhorn.io/v1beta2",
            "kind": "Engine",
            "metadata": {"name": "pvc-2-e-0", "namespace": "longhorn-system"},
            "spec": {"nodeID": "", "volumeName": "pvc-2"},
            "status": {"currentState": "stopped"},
        });
        let (w, p) = progress(&[
            state.clone(),
            pdb(0),
            im.clone(),
            manager.clone(),
            engine.clone(),
            detached_engine,
            volume("pvc-1", 3, "attached", "healthy"),
            volume("pvc-2", 3, "detached", "unknown"),
        ]);
        let p = one(p);
        assert_eq!(p.waits.len(), 1, "{p:?}");
        let wait = &p.waits[0];
        assert_eq!(
            wait.what,
            "the drain of n2 is blocked by PodDisruptionBudget longhorn-system/instance-manager-abc \
             (disruptionsAllowed 0), which protects instance-manager-abc; Longhorn still counts \
             engine(s) that are stopped and on no node: pvc-1-e-0"
        );
        assert_eq!(
            wait.objects.iter().map(|o| o.0).collect::<Vec<_>>(),
            [
                w.pos(
                    "policy",
                    "PodDisruptionBudget",
                    "longhorn-system",
                    "instance-manager-abc"
                ),
                w.pos("longhorn.io", "Engine", "longhorn-system", "pvc-1-e-0"),
            ]
        );
        assert_eq!(
            wait.logs,
            [(
                "longhorn-system".to_string(),
                "longhorn-manager-q7x".to_string(),
                "PDB is blocked".to_string()
            )]
        );
        assert!(
            wait.fix
                .ends_with("\n$ kubectl -n longhorn-system delete pdb instance-manager-abc"),
            "{}",
            wait.fix
        );
        // A PDB that allows a disruption blocks nothing.
        let (_, p) = progress(&[state, pdb(1), im, manager, engine]);
        assert!(one(p).waits.is_empty());
    }

    #[test]
    fn waiting_reboot_into_the_new_os() {
        let all: Vec<Value> = cluster(3)
            .into_iter()
            .map(|o| {
                if o["kind"] == "Node" && o["metadata"]["name"] == "n2" {
                    set(
                        o,
                        "/metadata/annotations/harvesterhci.io~1pendingOSImage",
                        json!("Harvester v1.4.1"),
                    )
                } else {
                    o
                }
            })
            .chain([up(
                "UpgradingNodes",
                &[("NodesUpgraded", "Unknown")],
                &[("n1", "Succeeded"), ("n2", "Waiting Reboot")],
            )])
            .collect();
        let w = World::new(&all);
        let p = one(w.env("v1.4.0", None, in_progress));
        assert_eq!(p.waits.len(), 1);
        assert_eq!(
            p.waits[0].what,
            "n2 has to reboot into the new OS: it runs \"Harvester v1.4.0\", expected \
             \"Harvester v1.4.1\""
        );
        assert_eq!(
            p.waits[0].objects,
            [(
                w.pos("", "Node", "", "n2"),
                Some("pendingOSImage".to_string())
            )]
        );
    }

    #[test]
    fn a_failed_node_says_why() {
        let u = set(
            up(
                "UpgradingNodes",
                &[("NodesUpgraded", "Unknown")],
                &[("n1", "Succeeded"), ("n2", "Failed")],
            ),
            "/status/nodeStatuses/n2",
            json!({"state": "Failed", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}),
        );
        let (_, p) = progress(&[u]);
        let p = one(p);
        assert_eq!(
            p.waits[0].what,
            "the upgrade of n2 failed: BackoffLimitExceeded Job has reached the specified backoff \
             limit"
        );
    }

    #[test]
    fn finished_upgrades_are_not_in_progress() {
        let (_, p) = progress(&[
            upgrade("hvst-upgrade-a", Some("Succeeded"), Some("True")),
            upgrade("hvst-upgrade-b", Some("Failed"), Some("False")),
        ]);
        assert!(p.is_empty());
    }

    /// Upgrade `U` from `previous` in UpgradingNodes with n1 done and n2 paused by the user.
    fn paused_upgrade(previous: &str) -> Value {
        let mut u = up(
            "UpgradingNodes",
            &[("Completed", "Unknown")],
            &[("n1", "Succeeded")],
        );
        u = set(u, "/status/previousVersion", json!(previous));
        u = set(
            u,
            "/status/nodeStatuses/n2",
            json!({"state": "Node-upgrade paused", "reason": "AdministrativelyPaused",
                   "message": "Node upgrade paused as requested by the user"}),
        );
        u["metadata"]["annotations"] = json!({
            "harvesterhci.io/node-upgrade-pause-map": r#"{"n2":"pause","n3":"pause"}"#
        });
        u
    }

    #[test]
    fn a_node_the_user_paused_is_not_a_stuck_upgrade_from_v1_7() {
        let mut v = cluster(3);
        v.push(paused_upgrade("v1.7.0"));
        v.push(setting(
            "upgrade-config",
            r#"{"nodeUpgradeOption":{"strategy":{"mode":"manual","pauseNodes":["n2","n3"]}}}"#,
        ));
        let w = World::new(&v);
        let p = one(w.env("v1.7.0", None, in_progress));
        assert_eq!(p.paused, ["n2"]);
        assert!(p.waits.is_empty(), "{:?}", p.waits);
        assert!(
            p.resume.contains(
                "$ kubectl -n harvester-system annotate upgrades.harvesterhci.io hvst-upgrade-a \
                 --overwrite 'harvesterhci.io/node-upgrade-pause-map={\"n2\":\"unpause\",\"n3\":\"pause\"}'"
            ),
            "{}",
            p.resume
        );
        assert!(
            p.resume.contains("mode manual, pauseNodes n2, n3"),
            "{}",
            p.resume
        );
        // v1.6 has no pause: the state is not read as the user's choice.
        let mut v = cluster(3);
        v.push(paused_upgrade("v1.6.1"));
        let w = World::new(&v);
        let p = one(w.env("v1.6.1", None, in_progress));
        assert!(p.paused.is_empty());
        assert!(p.resume.is_empty());
    }

    #[test]
    fn the_repository_is_a_deployment_from_v1_7_and_a_vm_before() {
        let labels =
            json!({"harvesterhci.io/upgrade": U, "harvesterhci.io/upgradeComponent": "repo"});
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("upgrade-repo-{U}"), "namespace": "harvester-system", "labels": labels},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels}},
            "status": {"replicas": 2, "readyReplicas": 1}});
        let repo = |previous: &str| {
            let u = up(
                "PreparingRepo",
                &[
                    ("Completed", "Unknown"),
                    ("LogReady", "True"),
                    ("ImageReady", "True"),
                    ("RepoReady", "Unknown"),
                ],
                &[],
            );
            set(u, "/status/previousVersion", json!(previous))
        };
        let mut v = cluster(3);
        v.extend([repo("v1.7.1"), deployment.clone()]);
        let w = World::new(&v);
        let p = one(w.env("v1.7.1", None, in_progress));
        assert_eq!(p.waits.len(), 1, "{:?}", p.waits);
        assert_eq!(
            p.waits[0].what,
            "the upgrade repository Deployment upgrade-repo-hvst-upgrade-a has 1 of 2 replicas ready"
        );
        // From v1.6 the repository is the VM: a Deployment of that name is not read.
        let mut v = cluster(3);
        v.extend([repo("v1.6.1"), deployment]);
        let w = World::new(&v);
        let p = one(w.env("v1.6.1", None, in_progress));
        assert!(p.waits.is_empty(), "{:?}", p.waits);
    }
}
