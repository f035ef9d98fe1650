//! The upgrade in progress, rebuilt from the Upgrade CR (labels, conditions, node statuses) and
//! the objects each phase creates (`reference/upgrade-blockers.md` §B): which phase, which
//! node, since when relative to capture, and what it waits on — a VM that will not migrate, a
//! degraded volume, a PodDisruptionBudget that blocks the drain, a manifest job waiting on a
//! chart, a pod that cannot pull its image.
use super::Env;
use super::admission::{tree, unfinished_upgrades};
use crate::index::Object;
use crate::model::condition;
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
    let t = tree(o)?;
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
        .at("/status/nodeStatuses")
        .and_then(|v| v.as_object())
        .map(|m| {
            m.iter()
                .map(|(n, s)| {
                    (
                        n.to_string(),
                        s.get("state")
                            .and_then(|x| x.as_str())
                            .unwrap_or("")
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    nodes.sort();
    let node = nodes
        .iter()
        .find(|(_, s)| !matches!(s.as_str(), "Succeeded" | "Images preloaded" | ""))
        .cloned();
    let name = o.key.name.clone();
    let mut waits = Vec::new();
    match state.as_str() {
        "PreparingLoggingInfra" | "" if pending.as_ref().is_some_and(|p| p.0 == "LogReady") => {
            waits.extend(logging_waits(env, &name));
        }
        "PreparingRepo" => waits.extend(repo_waits(env, &name)),
        "PreparingNodes" => waits.extend(prepare_waits(env, &name)),
        "UpgradingSystemServices" => waits.extend(manifest_waits(env, &name)),
        "UpgradingNodes" => {
            if let Some((n, s)) = &node {
                waits.extend(node_waits(env, &name, n, s, t));
            }
        }
        _ => {}
    }
    let _ = i;
    Some(InProgress {
        upgrade: i,
        state,
        version: t.str("/spec/version").unwrap_or("").to_string(),
        pending,
        last_progress,
        node,
        nodes,
        waits,
    })
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

fn repo_waits(env: &Env, u: &str) -> Vec<Wait> {
    let mut v = Vec::new();
    if let Some(img) = env.index.find(
        "harvesterhci.io",
        "VirtualMachineImage",
        "harvester-system",
        u,
    ) && let Some(t) = tree(img)
        && !img
            .status
            .conditions
            .iter()
            .any(|c| c.kind == "Imported" && c.status == "True")
    {
        v.push(Wait {
            what: format!(
                "the ISO image {u} is not imported yet (progress {}%)",
                t.int("/status/progress").unwrap_or(0)
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
    let vm_name = format!("upgrade-repo-{u}");
    if let Some(vm) = env.index.find(
        "kubevirt.io",
        "VirtualMachine",
        "harvester-system",
        &vm_name,
    ) {
        let printable = tree(vm)
            .and_then(|t| t.str("/status/printableStatus"))
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
                    if bad.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ": {}",
                            bad.iter()
                                .map(|b| b.2.as_str())
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    }
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

fn manifest_waits(env: &Env, u: &str) -> Vec<Wait> {
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
    let charts: Vec<&Object> = env
        .index
        .of_kind("management.cattle.io", "ManagedChart")
        .filter(|m| m.key.namespace == "fleet-local")
        .filter(|m| condition(&m.status.conditions, "Ready").is_some_and(|c| c.status != "True"))
        .collect();
    let mut objects = vec![(ji, Some("  status:".into()))];
    objects.extend(
        charts
            .iter()
            .filter_map(|m| idx(env, m).map(|i| (i, Some("type: Ready".into())))),
    );
    v.push(Wait {
        what: if charts.is_empty() {
            format!("job {job} (upgrade_manifests.sh) is still running")
        } else {
            format!(
                "job {job} loops in wait_managed_chart, which ends only when each chart reports \
                 ready: ManagedChart(s) not Ready: {}",
                charts
                    .iter()
                    .map(|m| m.key.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        objects,
        logs,
        fix: "See the fleet.* findings for why each chart is not Ready; the script continues by \
              itself once they are."
            .into(),
    });
    v
}

fn node_waits(
    env: &Env,
    u: &str,
    node: &str,
    state: &str,
    t: &crate::model::tree::Tree,
) -> Vec<Wait> {
    let mut v = Vec::new();
    match state {
        "Pre-draining" => {
            let vmis: Vec<&Object> = env
                .index
                .of_kind("kubevirt.io", "VirtualMachineInstance")
                .filter(|o| {
                    tree(o).is_some_and(|x| {
                        x.str("/status/nodeName") == Some(node)
                            && x.str("/status/phase") != Some("Succeeded")
                    })
                })
                .collect();
            let job = format!("{u}-pre-drain-{node}");
            let logs: Vec<(String, String, String)> = env
                .index
                .find("batch", "Job", "harvester-system", &job)
                .and_then(|j| idx(env, j))
                .map(|ji| env.graph.pods_of(env.index, ji))
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| env.index.objects.get(p))
                .map(|p| {
                    (
                        p.key.namespace.clone(),
                        p.key.name.clone(),
                        "Waiting for".to_string(),
                    )
                })
                .collect();
            if !vmis.is_empty() {
                v.push(Wait {
                    what: format!(
                        "the pre-drain job waits for the VMs on {node} to live-migrate or shut \
                         down: {}",
                        vmis.iter()
                            .map(|o| format!("{}/{}", o.key.namespace, o.key.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    objects: vmis
                        .iter()
                        .filter_map(|o| idx(env, o).map(|i| (i, Some("nodeName".into()))))
                        .collect(),
                    logs: logs.clone(),
                    fix: "Migrate or stop these VMs by hand; VMs with host devices, node \
                          selectors, CD-ROMs or container disks cannot migrate (issue #7005)."
                        .into(),
                });
            }
            let degraded: Vec<&Object> = env
                .index
                .of_kind("longhorn.io", "Volume")
                .filter(|o| {
                    tree(o).is_some_and(|x| x.str("/status/robustness") == Some("degraded"))
                })
                .collect();
            if !degraded.is_empty() {
                v.push(Wait {
                    what: format!(
                        "the pre-drain job waits for degraded volumes to become healthy: {}",
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
                    logs,
                    fix: "Let the replicas rebuild; if a volume can never be healthy (more \
                          replicas than schedulable nodes), lower its numberOfReplicas, or touch \
                          /tmp/skip-<pv> in the pre-drain pod (issue #3164)."
                        .into(),
                });
            }
        }
        "Pre-drained" => {
            // Rancher drains the node; what blocks eviction is a PDB with no disruption left
            // that protects a pod on this node.
            let pods_here: Vec<&Object> = env
                .index
                .of_kind("", "Pod")
                .filter(|p| matches!(&p.view, View::Pod(v) if v.node_name.as_deref() == Some(node)))
                .collect();
            for pdb in env.index.of_kind("policy", "PodDisruptionBudget") {
                let Some(pt) = tree(pdb) else { continue };
                if pt.int("/status/disruptionsAllowed").unwrap_or(0) > 0 {
                    continue;
                }
                let sel = pt
                    .at("/spec/selector/matchLabels")
                    .and_then(|m| m.as_object())
                    .unwrap_or_default();
                if sel.is_empty() {
                    continue;
                }
                let protected: Vec<&&Object> = pods_here
                    .iter()
                    .filter(|p| p.key.namespace == pdb.key.namespace)
                    .filter(|p| {
                        sel.iter()
                            .all(|(k, v)| p.meta.labels.get(k).map(String::as_str) == v.as_str())
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
                            tree(e).is_some_and(|x| {
                                x.str("/spec/nodeID").is_none()
                                    && matches!(
                                        x.str("/status/currentState"),
                                        Some("stopped") | None
                                    )
                            })
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
                        "Confirm every attached volume is healthy (kubectl -n longhorn-system get \
                         volumes.longhorn.io), then delete the instance-manager PDB so the drain \
                         continues: kubectl -n longhorn-system delete pdb {} (Harvester docs, \
                         v1.4.0→v1.4.1 known issue 1).",
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
            let st = t.sub(&format!("/status/nodeStatuses/{node}"));
            v.push(Wait {
                what: format!(
                    "the upgrade of {node} failed: {} {}",
                    st.str("/reason").unwrap_or(""),
                    st.str("/message").unwrap_or("")
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
