//! What finished, failed or deleted upgrades leave behind (`reference/upgrade-blockers.md`
//! §B.4): Upgrades without a final state, several `latestUpgrade` labels, artefacts labelled
//! with an Upgrade that is gone or finished (repo VM, image, plans, jobs), the upgrade-log
//! operator chart, paused ManagedCharts, the Longhorn setting the upgrade raised, node markers,
//! the provisioning cluster's drain hooks.
use super::Env;
use super::admission::{tree, unfinished_upgrades, upgrades};
use crate::facts::harvester;
use crate::index::Object;
use crate::model::condition;
use crate::model::views::View;

/// One leftover.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    /// Stable key for the finding id (`orphan:VirtualMachine/harvester-system/x`).
    pub key: String,
    /// Rule of §B.4 it comes from (1–10).
    pub rule: u8,
    /// In words.
    pub what: String,
    /// Objects, with evidence focus.
    pub objects: Vec<(usize, Option<String>)>,
    /// Safe cleanup.
    pub fix: String,
    /// Blocks the next upgrade (and how), when it does.
    pub blocks: Option<String>,
}

fn idx(env: &Env, o: &Object) -> Option<usize> {
    env.index.position(&o.key)
}

/// Completed condition of an Upgrade (`True`, `False`, `Unknown`, or `None`).
fn completed(o: &Object) -> Option<String> {
    condition(&o.status.conditions, "Completed").map(|c| c.status.clone())
}

/// Every leftover.
pub fn find(env: &Env) -> Vec<Leftover> {
    let mut out = Vec::new();
    let ups: Vec<(usize, &Object)> = upgrades(env).collect();
    let unfinished = unfinished_upgrades(env);
    let running = unfinished
        .iter()
        .any(|(_, o)| completed(o).as_deref() != Some("False"));
    // 1. Unfinished Upgrades that already failed or never got a state.
    for (i, o) in &unfinished {
        let state = o.meta.labels.get("harvesterhci.io/upgradeState");
        if completed(o).as_deref() == Some("False") || state.is_none() {
            out.push(Leftover {
                key: format!("unfinished:{}", o.key.name),
                rule: 1,
                what: format!(
                    "Upgrade {} has {} but {}: it will never finish on its own",
                    o.key.name,
                    state
                        .map(|s| format!("upgradeState {s}"))
                        .unwrap_or_else(|| "no upgradeState label".into()),
                    match completed(o).as_deref() {
                        Some("False") => "its Completed condition is False",
                        _ => "nothing processes it",
                    }
                ),
                objects: vec![(*i, Some("harvesterhci.io/upgradeState".into()))],
                fix: format!(
                    "Delete it once you no longer need its status: kubectl -n harvester-system \
                     delete upgrades.harvesterhci.io {} (its owned repo VM, image and jobs go with \
                     it).",
                    o.key.name
                ),
                blocks: harvester::denial("C3", "", &env.from, &[("upgrade", &o.key.name)]),
            });
        }
    }
    // The newest upgrade failed: what failed, so the leftovers below have a cause.
    for (i, o) in &ups {
        let latest = o
            .meta
            .labels
            .get("harvesterhci.io/latestUpgrade")
            .map(String::as_str)
            == Some("true");
        let failed = o
            .meta
            .labels
            .get("harvesterhci.io/upgradeState")
            .map(String::as_str)
            == Some("Failed");
        if !(latest && failed) {
            continue;
        }
        let why: Vec<String> = o
            .status
            .conditions
            .iter()
            .filter(|c| c.status == "False")
            .map(|c| {
                format!(
                    "{} False{}{}",
                    c.kind,
                    c.reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default(),
                    c.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        let mut objects = vec![(*i, Some("type: Completed".to_string()))];
        let failed_jobs: Vec<&Object> = env
            .index
            .of_kind("batch", "Job")
            .filter(|j| j.meta.labels.get("harvesterhci.io/upgrade") == Some(&o.key.name))
            .filter(|j| {
                j.status
                    .conditions
                    .iter()
                    .any(|c| c.kind == "Failed" && c.status == "True")
            })
            .collect();
        objects.extend(
            failed_jobs
                .iter()
                .filter_map(|j| idx(env, j).map(|x| (x, Some("type: Failed".to_string())))),
        );
        out.push(Leftover {
            key: format!("failed:{}", o.key.name),
            rule: 1,
            what: format!(
                "the last upgrade, {} to {}, failed: {}{}",
                o.key.name,
                tree(o).and_then(|t| t.str("/spec/version")).unwrap_or("?"),
                if why.is_empty() {
                    "no condition says why".to_string()
                } else {
                    why.join("; ")
                },
                if failed_jobs.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (failed job: {})",
                        failed_jobs
                            .iter()
                            .map(|j| j.key.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
            objects,
            fix: format!(
                "Read the failed job's pod logs (sbdiag logs -b BUNDLE -n harvester-system <pod>), \
                 fix the cause, clean up the leftovers listed with it, then delete the failed \
                 Upgrade and start a new one: kubectl -n harvester-system delete \
                 upgrades.harvesterhci.io {}",
                o.key.name
            ),
            blocks: None,
        });
    }
    // 2. Cleanup pending for long (1.7+).
    for (i, o) in &ups {
        if o.meta
            .labels
            .get("harvesterhci.io/upgradeCleanup")
            .map(String::as_str)
            == Some("Pending")
            && matches!(completed(o).as_deref(), Some("True" | "False"))
        {
            out.push(Leftover {
                key: format!("cleanup:{}", o.key.name),
                rule: 2,
                what: format!(
                    "Upgrade {} finished but its cleanup is still Pending",
                    o.key.name
                ),
                objects: vec![(*i, Some("upgradeCleanup".into()))],
                fix: "Check the harvester controller's logs for the cleanup error.".into(),
                blocks: harvester::denial("C4", "", &env.from, &[("upgrades", &o.key.name)]),
            });
        }
    }
    // 3. latestUpgrade labels.
    let latest: Vec<&(usize, &Object)> = ups
        .iter()
        .filter(|(_, o)| {
            o.meta
                .labels
                .get("harvesterhci.io/latestUpgrade")
                .map(String::as_str)
                == Some("true")
        })
        .collect();
    if latest.len() > 1 {
        let newest = latest
            .iter()
            .max_by_key(|(_, o)| o.meta.creation_timestamp.clone().unwrap_or_default())
            .map(|(_, o)| o.key.name.clone())
            .unwrap_or_default();
        out.push(Leftover {
            key: "latest-upgrade".into(),
            rule: 3,
            what: format!(
                "{} Upgrades carry harvesterhci.io/latestUpgrade=true ({}); the upgrade \
                 controllers require exactly one and fail with \"There are {} on-going upgrades\"",
                latest.len(),
                latest.iter().map(|(_, o)| o.key.name.as_str()).collect::<Vec<_>>().join(", "),
                latest.len()
            ),
            objects: latest
                .iter()
                .map(|(i, _)| (*i, Some("latestUpgrade".into())))
                .collect(),
            fix: latest
                .iter()
                .filter(|(_, o)| o.key.name != newest)
                .map(|(_, o)| {
                    format!(
                        "kubectl -n harvester-system label upgrades.harvesterhci.io {} harvesterhci.io/latestUpgrade-",
                        o.key.name
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            blocks: None,
        });
    } else if latest.is_empty() && running {
        out.push(Leftover {
            key: "latest-upgrade".into(),
            rule: 3,
            what: "an upgrade is in progress but no Upgrade carries harvesterhci.io/latestUpgrade=true".into(),
            objects: unfinished.iter().map(|(i, _)| (*i, None)).collect(),
            fix: "Label the running Upgrade harvesterhci.io/latestUpgrade=true.".into(),
            blocks: None,
        });
    }
    // 4. Artefacts of an Upgrade that is gone or finished.
    let finished = |name: &str| -> Option<&'static str> {
        match ups.iter().find(|(_, o)| o.key.name == name) {
            None => Some("no longer exists"),
            Some((_, o)) => match completed(o).as_deref() {
                Some("True") => Some("succeeded"),
                Some("False") => Some("failed"),
                _ => None,
            },
        }
    };
    let kinds: &[(&str, &str, &str)] = &[
        (
            "kubevirt.io",
            "VirtualMachine",
            "virtualmachines.kubevirt.io",
        ),
        (
            "harvesterhci.io",
            "VirtualMachineImage",
            "virtualmachineimages.harvesterhci.io",
        ),
        ("upgrade.cattle.io", "Plan", "plans.upgrade.cattle.io"),
        ("", "Service", "services"),
        ("", "PersistentVolumeClaim", "persistentvolumeclaims"),
        ("batch", "Job", "jobs"),
    ];
    for (g, k, res) in kinds {
        for o in env.index.of_kind(g, k) {
            let owner = o
                .meta
                .labels
                .get("harvesterhci.io/upgrade")
                .cloned()
                .or_else(|| {
                    // The skip-restart plan carries no upgrade label: match it by name.
                    (*k == "Plan")
                        .then(|| {
                            o.key
                                .name
                                .strip_suffix("-skip-restart-rancher-system-agent")
                        })
                        .flatten()
                        .map(str::to_string)
                })
                .or_else(|| {
                    // The repo VM's claim comes from its volumeClaimTemplates, unlabelled:
                    // upgrade-repo-<upgrade>-disk-<n>.
                    (*k == "PersistentVolumeClaim")
                        .then(|| o.key.name.strip_prefix("upgrade-repo-"))
                        .flatten()
                        .and_then(|rest| rest.rsplit_once("-disk-"))
                        .map(|(u, _)| u.to_string())
                });
            let Some(u) = owner else { continue };
            let Some(how) = finished(&u) else { continue };
            // Jobs expire after 7 days: a failed upgrade's jobs are its evidence meanwhile.
            if *k == "Job" {
                continue;
            }
            let Some(i) = idx(env, o) else { continue };
            out.push(Leftover {
                key: format!("orphan:{k}/{}/{}", o.key.namespace, o.key.name),
                rule: 4,
                what: format!(
                    "{k} {}/{} belongs to Upgrade {u}, which {how}",
                    o.key.namespace, o.key.name
                ),
                objects: vec![(i, Some("harvesterhci.io/upgrade".into()))],
                fix: format!("kubectl -n {} delete {res} {}", o.key.namespace, o.key.name),
                blocks: None,
            });
        }
    }
    // 5. The upgrade-log operator chart.
    for m in env.index.of_kind("management.cattle.io", "ManagedChart") {
        let Some(u) = m.key.name.strip_suffix("-upgradelog-operator") else {
            continue;
        };
        let u = u.to_string();
        let log_gone = env
            .index
            .find(
                "harvesterhci.io",
                "UpgradeLog",
                "harvester-system",
                &format!("{u}-upgradelog"),
            )
            .is_none();
        let upgrade_done = finished(&u);
        if !(log_gone || upgrade_done.is_some()) {
            continue;
        }
        let ready = condition(&m.status.conditions, "Ready").map(|c| c.status.clone());
        let Some(i) = idx(env, m) else { continue };
        out.push(Leftover {
            key: format!("upgradelog-chart:{}", m.key.name),
            rule: 5,
            what: format!(
                "ManagedChart {} of Upgrade {u} ({}) is still here{}",
                m.key.name,
                upgrade_done.unwrap_or("its UpgradeLog is gone"),
                if ready.as_deref() == Some("True") {
                    String::new()
                } else {
                    " and not Ready".into()
                }
            ),
            objects: vec![(i, Some("type: Ready".into()))],
            fix: format!(
                "Delete the UpgradeLog if it still exists (its cleanup removes the chart): \
                 kubectl -n harvester-system delete upgradelogs.harvesterhci.io {u}-upgradelog; \
                 otherwise delete the chart: kubectl -n fleet-local delete \
                 managedcharts.management.cattle.io {}",
                m.key.name
            ),
            // C12 of the running version, when it has one (no quoted text for an unknown
            // version).
            blocks: (ready.as_deref() != Some("True"))
                .then(|| harvester::managed_chart_denial(&m.key.name, &env.from))
                .flatten(),
        });
    }
    if running {
        return out;
    }
    // 6. Paused ManagedCharts with no upgrade in progress.
    for m in env.index.of_kind("management.cattle.io", "ManagedChart") {
        if let View::Fleet(f) = &m.view
            && f.paused
            && m.key.namespace == "fleet-local"
            && let Some(i) = idx(env, m)
        {
            out.push(Leftover {
                key: format!("paused:{}", m.key.name),
                rule: 6,
                what: format!(
                    "ManagedChart {} is paused with no upgrade in progress: Fleet neither deploys \
                     nor re-evaluates it, and the next upgrade's wait_managed_chart can hang",
                    m.key.name
                ),
                objects: vec![(i, Some("paused:".into()))],
                fix: format!(
                    "kubectl -n fleet-local patch managedcharts.management.cattle.io {} --type \
                     merge -p '{{\"spec\":{{\"paused\":false}}}}' (docs: upgrade troubleshooting, \
                     \"Stop the ongoing upgrade\", step 4)",
                    m.key.name
                ),
                blocks: None,
            });
        }
    }
    // 7. The provisioning cluster keeps Harvester's drain hooks.
    if let Some(pc) = env
        .index
        .find("provisioning.cattle.io", "Cluster", "fleet-local", "local")
        && let Some(t) = tree(pc)
    {
        let hooks = ["controlPlaneDrainOptions", "workerDrainOptions"]
            .iter()
            .any(|k| {
                t.list(&format!(
                    "/spec/rkeConfig/upgradeStrategy/{k}/preDrainHooks"
                ))
                .iter()
                .chain(t.list(&format!(
                    "/spec/rkeConfig/upgradeStrategy/{k}/postDrainHooks"
                )))
                .any(|h| {
                    h.get("annotation")
                        .and_then(|a| a.as_str())
                        .is_some_and(|a| a.starts_with("harvesterhci.io/"))
                })
            });
        if hooks && let Some(i) = idx(env, pc) {
            out.push(Leftover {
                key: "provisioning-hooks".into(),
                rule: 7,
                what: "clusters.provisioning.cattle.io fleet-local/local still has Harvester's \
                       pre/post-drain hooks although no upgrade runs"
                    .into(),
                objects: vec![(i, Some("DrainHooks".into()))],
                fix: "Remove the drain options from spec.rkeConfig.upgradeStrategy (the upgrade's \
                      cleanup resets rkeConfig to provisionGeneration and registries)."
                    .into(),
                blocks: None,
            });
        }
    }
    // 8. Node markers left by an upgrade.
    for n in env.index.of_kind("", "Node") {
        let View::Node(v) = &n.view else { continue };
        let Some(i) = idx(env, n) else { continue };
        if let Some(p) = n.meta.annotations.get("harvesterhci.io/pendingOSImage") {
            out.push(Leftover {
                key: format!("pending-os:{}", n.key.name),
                rule: 8,
                what: format!(
                    "node {} still has annotation harvesterhci.io/pendingOSImage={p:?} (it runs {:?})",
                    n.key.name,
                    v.os_image.as_deref().unwrap_or("")
                ),
                objects: vec![(i, Some("pendingOSImage".into()))],
                fix: format!(
                    "kubectl annotate node {} harvesterhci.io/pendingOSImage-",
                    n.key.name
                ),
                blocks: None,
            });
        }
        if v.taints.iter().any(|t| t.key == "kubevirt.io/drain") {
            out.push(Leftover {
                key: format!("drain-taint:{}", n.key.name),
                rule: 8,
                what: format!("node {} still has the taint kubevirt.io/drain", n.key.name),
                objects: vec![(i, Some("kubevirt.io/drain".into()))],
                fix: format!("kubectl taint node {} kubevirt.io/drain-", n.key.name),
                blocks: None,
            });
        }
    }
    // 10. Machine-plan secrets whose drain hook Rancher waits on while nobody answers.
    for sec in env.index.of_kind("", "Secret") {
        if sec.key.namespace != "fleet-local"
            || !sec.meta.labels.contains_key("rke.cattle.io/machine-name")
        {
            continue;
        }
        for (rancher, harvester) in [
            ("rke.cattle.io/pre-drain", "harvesterhci.io/pre-hook"),
            ("rke.cattle.io/post-drain", "harvesterhci.io/post-hook"),
        ] {
            let want = sec.meta.annotations.get(rancher).filter(|v| !v.is_empty());
            let ack = sec
                .meta
                .annotations
                .get(harvester)
                .filter(|v| !v.is_empty());
            if want.is_some()
                && want != ack
                && let Some(i) = idx(env, sec)
            {
                out.push(Leftover {
                    key: format!("drain-hook:{}:{rancher}", sec.key.name),
                    rule: 10,
                    what: format!(
                        "machine-plan secret {} asks for {rancher} but {harvester} does not \
                         acknowledge it, while no upgrade runs: Rancher waits for an \
                         acknowledgement nobody will give",
                        sec.key.name
                    ),
                    objects: vec![(i, Some(rancher.to_string()))],
                    fix: format!(
                        "Copy the value of {rancher} into {harvester} on secret fleet-local/{} \
                         (kubectl -n fleet-local annotate secret {} --overwrite {harvester}=<value \
                         of {rancher}>), as Harvester does during an upgrade.",
                        sec.key.name, sec.key.name
                    ),
                    blocks: None,
                });
            }
        }
    }
    // 9. Longhorn setting raised by the upgrade.
    if super::setting(
        env.index,
        "longhorn.io",
        "replica-replenishment-wait-interval",
    )
    .as_deref()
        == Some("1800")
        && let Some(o) = env.index.find(
            "longhorn.io",
            "Setting",
            "longhorn-system",
            "replica-replenishment-wait-interval",
        )
        && let Some(i) = idx(env, o)
    {
        let original = ups
            .iter()
            .filter_map(|(_, u)| {
                u.meta
                    .annotations
                    .get("harvesterhci.io/replica-replenishment-wait-interval")
                    .cloned()
            })
            .next();
        out.push(Leftover {
            key: "longhorn-replenishment".into(),
            rule: 9,
            what: format!(
                "Longhorn setting replica-replenishment-wait-interval is still 1800 s, the value \
                 an upgrade sets while it drains nodes{}",
                original
                    .as_deref()
                    .map(|o| format!(" (it was {o} before)"))
                    .unwrap_or_default()
            ),
            objects: vec![(i, Some("value".into()))],
            fix: format!(
                "kubectl -n longhorn-system patch settings.longhorn.io \
                 replica-replenishment-wait-interval --type merge -p '{{\"value\":\"{}\"}}'",
                original.as_deref().unwrap_or("600")
            ),
            blocks: None,
        });
    }
    out
}
