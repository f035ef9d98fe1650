//! What finished, failed or deleted upgrades leave behind (`reference/upgrade-blockers.md`
//! §B.4): Upgrades without a final state, several `latestUpgrade` labels, artefacts labelled
//! with an Upgrade that is gone or finished (repo VM, image, plans, jobs), the upgrade-log
//! operator chart, paused ManagedCharts, the Longhorn setting the upgrade raised, node markers,
//! the provisioning cluster's drain hooks. Each rule is one function in the table [`RULES`];
//! the rules about markers a running upgrade sets itself (6–10) run only when none is running.
use super::Env;
use super::admission::{unfinished_upgrades, upgrades};
use crate::facts::harvester;
use crate::index::Object;
use crate::model::condition;
use crate::model::typed::harvester::Upgrade;
use crate::model::views::View;

/// One leftover.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    /// Stable key for the finding id: the object's `Kind/namespace/name` and what is left
    /// (`VirtualMachine/harvester-system/x:orphan`), or a key of its own when several objects
    /// make one leftover (`latest-upgrade`).
    pub key: String,
    /// Rule of §B.4 it comes from (1–10), or of the v1.7+ flow (§E): 11 the KubeVirt workload
    /// update methods, 12 the descheduler addon, 13 the skip-rke2-manifests plans.
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

/// The key of a leftover about `o`: `Kind/namespace/name:aspect` (the subject of a finding id).
fn key(o: &Object, aspect: &str) -> String {
    format!("{}:{aspect}", o.key)
}

fn idx(env: &Env, o: &Object) -> Option<usize> {
    env.index.position(&o.key)
}

/// Completed condition of an Upgrade (`True`, `False`, `Unknown`, or `None`).
fn completed(o: &Object) -> Option<String> {
    condition(&o.status.conditions, "Completed").map(|c| c.status.clone())
}

/// Every leftover.
/// What every rule reads: the environment, the Upgrades in harvester-system, those without a
/// final state, and whether one of them is still in progress.
struct Scan<'a> {
    env: &'a Env<'a>,
    /// Every Upgrade in harvester-system.
    ups: Vec<(usize, &'a Object)>,
    /// Upgrades whose upgradeState is absent or not final (C3's selection).
    unfinished: Vec<(usize, &'a Object)>,
    /// An unfinished Upgrade has not failed: an upgrade is in progress, and the markers it
    /// sets while it runs (rules 6–10) are its own, not leftovers.
    running: bool,
}

impl<'a> Scan<'a> {
    fn new(env: &'a Env<'a>) -> Scan<'a> {
        let ups: Vec<(usize, &Object)> = upgrades(env).collect();
        let unfinished = unfinished_upgrades(env);
        let running = unfinished
            .iter()
            .any(|(_, o)| completed(o).as_deref() != Some("False"));
        Scan {
            env,
            ups,
            unfinished,
            running,
        }
    }

    /// How the Upgrade `name` ended, when it did: gone, succeeded or failed; `None` while it
    /// runs.
    fn finished(&self, name: &str) -> Option<&'static str> {
        match self.ups.iter().find(|(_, o)| o.key.name == name) {
            None => Some("no longer exists"),
            Some((_, o)) => match completed(o).as_deref() {
                Some("True") => Some("succeeded"),
                Some("False") => Some("failed"),
                _ => None,
            },
        }
    }
}

/// When a rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// Always: what it finds blocks or confuses the next upgrade whether one runs or not.
    Always,
    /// Only with no upgrade in progress: a running upgrade sets these markers itself.
    NoUpgradeRunning,
}

/// A rule of §B.4.
type RuleFn = for<'a, 'b> fn(&'a Scan<'b>) -> Vec<Leftover>;

/// The rules of §B.4: number, when it runs, the rule, in report order (rule 10 before rule 9,
/// the order findings have always come in).
const RULES: &[(u8, When, RuleFn)] = &[
    (1, When::Always, unfinished_upgrade),
    (1, When::Always, last_upgrade_failed),
    (2, When::Always, cleanup_pending),
    (3, When::Always, latest_upgrade_label),
    (4, When::Always, orphan_artefacts),
    (5, When::Always, upgradelog_operator_chart),
    (6, When::NoUpgradeRunning, paused_managed_charts),
    (7, When::NoUpgradeRunning, provisioning_drain_hooks),
    (8, When::NoUpgradeRunning, node_markers),
    (10, When::NoUpgradeRunning, machine_plan_hooks),
    (9, When::NoUpgradeRunning, longhorn_replenishment_wait),
    (11, When::NoUpgradeRunning, workload_update_methods),
    (12, When::NoUpgradeRunning, descheduler_disabled),
    (13, When::Always, skip_rke2_manifests),
];

/// Every leftover: each rule of [`RULES`] in turn, rules 6–10 only when no upgrade is in
/// progress. A leftover carries the number of the rule that found it.
pub fn find(env: &Env) -> Vec<Leftover> {
    let scan = Scan::new(env);
    RULES
        .iter()
        .filter(|(_, when, _)| !(scan.running && *when == When::NoUpgradeRunning))
        .flat_map(|(rule, _, f)| f(&scan).into_iter().map(|l| Leftover { rule: *rule, ..l }))
        .collect()
}

/// A leftover of no rule yet ([`find`] numbers it) that blocks nothing.
fn leftover(
    key: String,
    what: String,
    objects: Vec<(usize, Option<String>)>,
    fix: String,
) -> Leftover {
    Leftover {
        key,
        rule: 0,
        what,
        objects,
        fix,
        blocks: None,
    }
}

/// Rule 1: Unfinished Upgrades that already failed or never got a state: C3 denies the next one.
fn unfinished_upgrade(s: &Scan) -> Vec<Leftover> {
    let mut out = Vec::new();
    for (i, o) in &s.unfinished {
        let state = o.meta.labels.get("harvesterhci.io/upgradeState");
        if completed(o).as_deref() == Some("False") || state.is_none() {
            out.push(Leftover {
                blocks: harvester::denial("C3", "", &s.env.from, &[("upgrade", &o.key.name)]),
                ..leftover(
                    key(o, "unfinished"),
                    format!(
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
                    vec![(*i, Some("harvesterhci.io/upgradeState".into()))],
                    format!(
                        "Delete it once you no longer need its status (its owned repo VM, image \
                         and jobs go with it):\n$ kubectl -n harvester-system delete \
                         upgrades.harvesterhci.io {}",
                        o.key.name
                    ),
                )
            });
        }
    }
    out
}

/// Rule 1: The newest upgrade failed: what failed, so the leftovers of the other rules have a
/// cause.
fn last_upgrade_failed(s: &Scan) -> Vec<Leftover> {
    let env = s.env;
    let mut out = Vec::new();
    for (i, o) in &s.ups {
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
            // Logging switched off for this upgrade is a choice, not a failure.
            .filter(|c| !(c.kind == "LogReady" && c.reason.as_deref() == Some("Disabled")))
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
            .filter(|j| {
                j.meta.labels.get(crate::facts::upgrade::UPGRADE_LABEL) == Some(&o.key.name)
            })
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
        // v1.7+: the upgrade-log infrastructure was not ready within logReadyTimeout.
        let log_timeout = condition(&o.status.conditions, "Completed").is_some_and(|c| {
            c.reason.as_deref() == Some("Timeout")
                && c.message.as_deref() == Some(crate::facts::upgrade::LOG_TIMEOUT_MESSAGE)
        });
        let timeout_cause = log_timeout.then(|| {
            let minutes = crate::facts::cluster::upgrade_config(env.index)
                .and_then(|c| c.log_ready_timeout)
                .and_then(|t| t.parse::<i64>().ok())
                .filter(|m| (1..=20).contains(m));
            format!(
                ". The upgrade-log infrastructure (UpgradeLog {}-upgradelog) was not ready within \
                 upgrade-config logReadyTimeout ({}), so the upgrade failed before it changed the \
                 cluster",
                o.key.name,
                match minutes {
                    Some(m) => format!("{m} min"),
                    None => format!(
                        "unset or out of 1–20: the default {} min",
                        crate::facts::upgrade::LOG_READY_TIMEOUT_DEFAULT
                    ),
                }
            )
        });
        if let Some(l) = env.index.find(
            "harvesterhci.io",
            "UpgradeLog",
            &o.key.namespace,
            &format!("{}-upgradelog", o.key.name),
        ) && log_timeout
            && let Some(li) = idx(env, l)
        {
            objects.push((li, Some("InfraReady".into())));
        }
        out.push(leftover(
            key(o, "failed"),
            format!(
                "the last upgrade, {} to {}, failed: {}{}{}",
                o.key.name,
                Upgrade::of(*o).and_then(Upgrade::version).unwrap_or("?"),
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
                },
                timeout_cause.as_deref().unwrap_or("")
            ),
            objects,
            {
                // The failed jobs' pods, whose logs say why (`sbdiag logs` lines; the rule
                // adds the bundle, which this stage does not know).
                let pods: Vec<String> = failed_jobs
                    .iter()
                    .flat_map(|j| {
                        env.index.of_kind("", "Pod").filter(move |p| {
                            p.key.namespace == j.key.namespace
                                && p.meta.labels.get("job-name") == Some(&j.key.name)
                        })
                    })
                    .take(3)
                    .map(|p| format!("\n$ sbdiag logs -n {} {}", p.key.namespace, p.key.name))
                    .collect();
                format!(
                    "{}{}Fix the cause, clean up the leftovers listed with it, then delete the \
                     failed Upgrade and start a new one:\n$ kubectl -n {} delete \
                     upgrades.harvesterhci.io {}",
                    if pods.is_empty() {
                        String::new()
                    } else {
                        format!("Read the failed job's pod logs:{}\n", pods.concat())
                    },
                    if log_timeout {
                        "Find why the logging pods did not start (an air-gapped cluster needs the \
                         logging images preloaded); give them more time with upgrade-config \
                         logReadyTimeout (1–20 minutes), or start the next upgrade with logging \
                         disabled.\n"
                    } else {
                        ""
                    },
                    o.key.namespace,
                    o.key.name
                )
            },
        ));
    }
    out
}

/// Rule 2: Cleanup still Pending after the upgrade finished (v1.7+): C4 denies the next one.
fn cleanup_pending(s: &Scan) -> Vec<Leftover> {
    s.ups
        .iter()
        .filter(|(_, o)| {
            o.meta
                .labels
                .get("harvesterhci.io/upgradeCleanup")
                .map(String::as_str)
                == Some("Pending")
                && matches!(completed(o).as_deref(), Some("True" | "False"))
        })
        .map(|(i, o)| Leftover {
            blocks: harvester::denial("C4", "", &s.env.from, &[("upgrades", &o.key.name)]),
            ..leftover(
                key(o, "cleanup"),
                format!(
                    "Upgrade {} finished but its cleanup is still Pending",
                    o.key.name
                ),
                vec![(*i, Some("upgradeCleanup".into()))],
                "Check the harvester controller's logs for the cleanup error.".into(),
            )
        })
        .collect()
}

/// Rule 3: `latestUpgrade=true` on several Upgrades, or on none while one runs: the upgrade
/// controllers require exactly one.
fn latest_upgrade_label(s: &Scan) -> Vec<Leftover> {
    let latest: Vec<&(usize, &Object)> = s
        .ups
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
        vec![leftover(
            "latest-upgrade".into(),
            format!(
                "{} Upgrades carry harvesterhci.io/latestUpgrade=true ({}); the upgrade \
                 controllers require exactly one and fail with \"There are {} on-going upgrades\"",
                latest.len(),
                latest
                    .iter()
                    .map(|(_, o)| o.key.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                latest.len()
            ),
            latest
                .iter()
                .map(|(i, _)| (*i, Some("latestUpgrade".into())))
                .collect(),
            latest
                .iter()
                .filter(|(_, o)| o.key.name != newest)
                .map(|(_, o)| {
                    format!(
                        "$ kubectl -n harvester-system label upgrades.harvesterhci.io {} \
                         harvesterhci.io/latestUpgrade-",
                        o.key.name
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        )]
    } else if latest.is_empty() && s.running {
        vec![leftover(
            "latest-upgrade".into(),
            "an upgrade is in progress but no Upgrade carries harvesterhci.io/latestUpgrade=true"
                .into(),
            s.unfinished.iter().map(|(i, _)| (*i, None)).collect(),
            "Label the running Upgrade harvesterhci.io/latestUpgrade=true.".into(),
        )]
    } else {
        Vec::new()
    }
}

/// The kinds an upgrade creates and labels with its name: (group, kind, resource for kubectl).
const ARTEFACTS: &[(&str, &str, &str)] = &[
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
    // v1.7+: the repository Deployment, and v1.7.0's per-upgrade StorageClass.
    ("apps", "Deployment", "deployments"),
    ("storage.k8s.io", "StorageClass", "storageclasses"),
];

/// Rule 4: Artefacts of an Upgrade that is gone or finished (repo VM, image, plans, service, repo
/// claim). Jobs expire after 7 days: a failed upgrade's jobs are its evidence meanwhile.
fn orphan_artefacts(s: &Scan) -> Vec<Leftover> {
    let env = s.env;
    let mut out = Vec::new();
    for (g, k, res) in ARTEFACTS {
        for o in env.index.of_kind(g, k) {
            let Some(u) = crate::facts::upgrade::owning_upgrade(k, o) else {
                continue;
            };
            let Some(how) = s.finished(&u) else { continue };
            if *k == "Job" {
                continue;
            }
            // The skip-rke2-manifests plans of an Upgrade that still exists are rule 13's.
            if *k == "Plan" && how != "no longer exists" && skip_manifests_plan(o) {
                continue;
            }
            let Some(i) = idx(env, o) else { continue };
            let what = match *k {
                "Deployment" => format!(
                    "the upgrade repository Deployment {}/{} (nginx serving the OS image, \
                     v1.7+) belongs to Upgrade {u}, which {how}",
                    o.key.namespace, o.key.name
                ),
                "VirtualMachineImage"
                    if o.meta
                        .annotations
                        .contains_key(crate::facts::upgrade::OS_IMAGE_ANNOTATION) =>
                {
                    format!(
                        "the upgrade's OS image, VirtualMachineImage {}/{} (annotation {}), \
                         belongs to Upgrade {u}, which {how}: its volume keeps the ISO's space",
                        o.key.namespace,
                        o.key.name,
                        crate::facts::upgrade::OS_IMAGE_ANNOTATION
                    )
                }
                _ if o.key.namespace.is_empty() => {
                    format!("{k} {} belongs to Upgrade {u}, which {how}", o.key.name)
                }
                _ => format!(
                    "{k} {}/{} belongs to Upgrade {u}, which {how}",
                    o.key.namespace, o.key.name
                ),
            };
            let ns = if o.key.namespace.is_empty() {
                String::new()
            } else {
                format!("-n {} ", o.key.namespace)
            };
            out.push(leftover(
                key(o, "orphan"),
                what,
                vec![(i, Some("harvesterhci.io/upgrade".into()))],
                format!("$ kubectl {ns}delete {res} {}", o.key.name),
            ));
        }
    }
    out
}

/// Rule 5: The upgrade-log operator chart of an Upgrade whose UpgradeLog is gone or which finished:
/// not Ready, it makes C12 deny (issue #7560).
fn upgradelog_operator_chart(s: &Scan) -> Vec<Leftover> {
    let env = s.env;
    let mut out = Vec::new();
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
        let upgrade_done = s.finished(&u);
        if !(log_gone || upgrade_done.is_some()) {
            continue;
        }
        let ready = condition(&m.status.conditions, "Ready").map(|c| c.status.clone());
        let Some(i) = idx(env, m) else { continue };
        out.push(Leftover {
            // C12 of the running version, when it has one (no quoted text for an unknown
            // version).
            blocks: (ready.as_deref() != Some("True"))
                .then(|| harvester::managed_chart_denial(&m.key.name, &env.from))
                .flatten(),
            ..leftover(
                key(m, "upgradelog-chart"),
                format!(
                    "ManagedChart {} of Upgrade {u} ({}) is still here{}",
                    m.key.name,
                    upgrade_done.unwrap_or("its UpgradeLog is gone"),
                    if ready.as_deref() == Some("True") {
                        String::new()
                    } else {
                        " and not Ready".into()
                    }
                ),
                vec![(i, Some("type: Ready".into()))],
                format!(
                    "Delete the UpgradeLog if it still exists (its cleanup removes the \
                     chart):\n$ kubectl -n harvester-system delete upgradelogs.harvesterhci.io \
                     {u}-upgradelog\nOtherwise delete the chart:\n$ kubectl -n fleet-local delete \
                     managedcharts.management.cattle.io {}",
                    m.key.name
                ),
            )
        });
    }
    out
}

/// Rule 6: Paused ManagedCharts in fleet-local with no upgrade in progress.
fn paused_managed_charts(s: &Scan) -> Vec<Leftover> {
    let env = s.env;
    let mut out = Vec::new();
    for m in env.index.of_kind("management.cattle.io", "ManagedChart") {
        if let View::Fleet(f) = &m.view
            && f.paused
            && m.key.namespace == "fleet-local"
            && let Some(i) = idx(env, m)
        {
            out.push(leftover(
                key(m, "paused"),
                format!(
                    "ManagedChart {} is paused with no upgrade in progress: Fleet neither deploys \
                     nor re-evaluates it, and the next upgrade's wait_managed_chart can hang",
                    m.key.name
                ),
                vec![(i, Some("paused:".into()))],
                format!(
                    "Resume it (docs: upgrade troubleshooting, \"Stop the ongoing upgrade\", step \
                     4):\n$ kubectl -n fleet-local patch managedcharts.management.cattle.io {} \
                     --type merge -p '{{\"spec\":{{\"paused\":false}}}}'",
                    m.key.name
                ),
            ));
        }
    }
    out
}

/// Rule 7: The provisioning cluster keeps Harvester's pre/post-drain hooks.
fn provisioning_drain_hooks(s: &Scan) -> Vec<Leftover> {
    let env = s.env;
    let Some(pc) = env
        .index
        .find("provisioning.cattle.io", "Cluster", "fleet-local", "local")
    else {
        return Vec::new();
    };
    let Some(t) = pc.tree() else {
        return Vec::new();
    };
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
    match idx(env, pc) {
        Some(i) if hooks => vec![leftover(
            key(pc, "drain-hooks"),
            "clusters.provisioning.cattle.io fleet-local/local still has Harvester's \
             pre/post-drain hooks although no upgrade runs"
                .into(),
            vec![(i, Some("DrainHooks".into()))],
            "Remove the drain options from spec.rkeConfig.upgradeStrategy (the upgrade's cleanup \
             resets rkeConfig to provisionGeneration and registries)."
                .into(),
        )],
        _ => Vec::new(),
    }
}

/// Rule 8: Node markers an upgrade sets while it works on a node: the pendingOSImage annotation and
/// the kubevirt.io/drain taint.
fn node_markers(s: &Scan) -> Vec<Leftover> {
    let env = s.env;
    let mut out = Vec::new();
    for n in env.index.of_kind("", "Node") {
        let View::Node(v) = &n.view else { continue };
        let Some(i) = idx(env, n) else { continue };
        if let Some(p) = n.meta.annotations.get("harvesterhci.io/pendingOSImage") {
            out.push(leftover(
                key(n, "pending-os"),
                format!(
                    "node {} still has annotation harvesterhci.io/pendingOSImage={p:?} (it runs \
                     {:?})",
                    n.key.name,
                    v.os_image.as_deref().unwrap_or("")
                ),
                vec![(i, Some("pendingOSImage".into()))],
                format!(
                    "$ kubectl annotate node {} harvesterhci.io/pendingOSImage-",
                    n.key.name
                ),
            ));
        }
        if v.taints.iter().any(|t| t.key == "kubevirt.io/drain") {
            out.push(leftover(
                key(n, "drain-taint"),
                format!("node {} still has the taint kubevirt.io/drain", n.key.name),
                vec![(i, Some("kubevirt.io/drain".into()))],
                format!("$ kubectl taint node {} kubevirt.io/drain-", n.key.name),
            ));
        }
    }
    out
}

/// Rule 10: Machine-plan secrets whose drain hook Rancher waits on while nobody answers.
fn machine_plan_hooks(s: &Scan) -> Vec<Leftover> {
    let env = s.env;
    let mut out = Vec::new();
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
                out.push(leftover(
                    key(sec, rancher.trim_start_matches("rke.cattle.io/")),
                    format!(
                        "machine-plan secret {} asks for {rancher} but {harvester} does not \
                         acknowledge it, while no upgrade runs: Rancher waits for an \
                         acknowledgement nobody will give",
                        sec.key.name
                    ),
                    vec![(i, Some(rancher.to_string()))],
                    format!(
                        "Copy the value of {rancher} into {harvester} on secret fleet-local/{}, \
                         as Harvester does during an upgrade:\n$ kubectl -n fleet-local annotate \
                         secret {} --overwrite {}",
                        sec.key.name,
                        sec.key.name,
                        crate::text::shell_quote(&format!(
                            "{harvester}={}",
                            want.map(String::as_str).unwrap_or_default()
                        ))
                    ),
                ));
            }
        }
    }
    out
}

/// Rule 9: The Longhorn setting an upgrade raises to 1800 s while it drains nodes, not restored.
fn longhorn_replenishment_wait(s: &Scan) -> Vec<Leftover> {
    const NAME: &str = "replica-replenishment-wait-interval";
    let env = s.env;
    if crate::facts::cluster::setting(env.index, "longhorn.io", NAME).as_deref() != Some("1800") {
        return Vec::new();
    }
    let Some((o, i)) = env
        .index
        .find("longhorn.io", "Setting", "longhorn-system", NAME)
        .and_then(|o| Some((o, idx(env, o)?)))
    else {
        return Vec::new();
    };
    let original = s
        .ups
        .iter()
        .filter_map(|(_, u)| {
            u.meta
                .annotations
                .get("harvesterhci.io/replica-replenishment-wait-interval")
                .cloned()
        })
        .next();
    vec![leftover(
        key(o, "not-restored"),
        format!(
            "Longhorn setting replica-replenishment-wait-interval is still 1800 s, the value an \
             upgrade sets while it drains nodes{}",
            original
                .as_deref()
                .map(|o| format!(" (it was {o} before)"))
                .unwrap_or_default()
        ),
        vec![(i, Some("value".into()))],
        format!(
            "$ kubectl -n longhorn-system patch settings.longhorn.io \
             replica-replenishment-wait-interval --type merge -p '{{\"value\":\"{}\"}}'",
            original.as_deref().unwrap_or("600")
        ),
    )]
}

/// Whether a SUC Plan is one of an upgrade's skip-rke2-manifests plans (label
/// `harvesterhci.io/upgradeComponent` `apply-`/`remove-skip-rke2-manifests`).
fn skip_manifests_plan(o: &Object) -> bool {
    matches!(
        o.meta
            .labels
            .get(crate::facts::upgrade::COMPONENT_LABEL)
            .map(String::as_str),
        Some("apply-skip-rke2-manifests" | "remove-skip-rke2-manifests")
    )
}

/// Rule 11 (v1.7.2, v1.8.1+): ManagedChart `harvester`'s KubeVirt workload update methods
/// differ from the backup an upgrade kept in its annotation: `upgrade_manifests.sh` sets them
/// to `[]` and only the controller's cleanup restores them, so a failed upgrade can leave
/// `LiveMigrate` removed.
fn workload_update_methods(s: &Scan) -> Vec<Leftover> {
    use crate::facts::upgrade::{
        WORKLOAD_UPDATE_METHODS_ANNOTATION, WORKLOAD_UPDATE_METHODS_BACKUP, target_of,
    };
    let env = s.env;
    let Some(chart) = env.index.find(
        "management.cattle.io",
        "ManagedChart",
        "fleet-local",
        "harvester",
    ) else {
        return Vec::new();
    };
    let View::Fleet(f) = &chart.view else {
        return Vec::new();
    };
    // The newest finished Upgrade to a version that keeps the backup, with its backup.
    let Some((ui, u, backup)) = s
        .ups
        .iter()
        .filter(|(_, o)| completed(o).is_some_and(|c| c == "True" || c == "False"))
        .filter(|(_, o)| WORKLOAD_UPDATE_METHODS_BACKUP.contains(&target_of(o)))
        .filter_map(|(i, o)| {
            let b = o.meta.annotations.get(WORKLOAD_UPDATE_METHODS_ANNOTATION)?;
            Some((*i, *o, b.clone()))
        })
        .max_by_key(|(_, o, _)| o.meta.creation_timestamp.clone().unwrap_or_default())
    else {
        return Vec::new();
    };
    // The bundle generator writes an empty string as "null" and sbdiag reads that back as
    // "": both are the backup of a key that was absent.
    let backup = if backup.is_empty() {
        "null".to_string()
    } else {
        backup
    };
    let Ok(want) = serde_json::from_str::<serde_json::Value>(&backup) else {
        return Vec::new();
    };
    let now = f.workload_update_methods.clone();
    let want_list: Option<Vec<String>> = want.as_array().map(|a| {
        a.iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    });
    if now == want_list {
        return Vec::new();
    }
    let Some(ci) = idx(env, chart) else {
        return Vec::new();
    };
    let show = |m: &Option<Vec<String>>| match m {
        Some(v) => format!("[{}]", v.join(", ")),
        None => "absent".to_string(),
    };
    let lost_live = want_list
        .as_ref()
        .is_some_and(|w| w.iter().any(|m| m == "LiveMigrate"))
        && !now
            .as_ref()
            .is_some_and(|n| n.iter().any(|m| m == "LiveMigrate"));
    let how = s.finished(&u.key.name).unwrap_or("finished");
    let patch = format!(
        "{{\"spec\":{{\"values\":{{\"kubevirt\":{{\"spec\":{{\"workloadUpdateStrategy\":\
         {{\"workloadUpdateMethods\":{}}}}}}}}}}}}}",
        serde_json::to_string(&want).unwrap_or_else(|_| "null".into())
    );
    vec![leftover(
        key(chart, "workload-update-methods"),
        format!(
            "ManagedChart harvester's kubevirt.spec.workloadUpdateStrategy.workloadUpdateMethods \
             is {} but Upgrade {} ({how}) backed it up as {backup} in annotation {}: the upgrade \
             emptied it and its cleanup did not restore it{}",
            show(&now),
            u.key.name,
            WORKLOAD_UPDATE_METHODS_ANNOTATION,
            if lost_live {
                ". Without LiveMigrate, KubeVirt no longer live-migrates VMs to apply CPU or \
                 memory hotplug and workload updates, so those silently stop working"
            } else {
                ""
            }
        ),
        vec![
            (ci, Some("workloadUpdateMethods".into())),
            (ui, Some(WORKLOAD_UPDATE_METHODS_ANNOTATION.into())),
        ],
        format!(
            "Restore the value the upgrade backed up (only while no upgrade runs):\n$ kubectl -n \
             fleet-local patch managedcharts.management.cattle.io harvester --type merge -p {}",
            crate::text::shell_quote(&patch)
        ),
    )]
}

/// Rule 12 (v1.7+): the descheduler addon an upgrade disabled and was to re-enable (annotation
/// `harvesterhci.io/reenable-descheduler-addon: "true"` on a finished Upgrade) is still
/// disabled.
fn descheduler_disabled(s: &Scan) -> Vec<Leftover> {
    use crate::facts::upgrade::REENABLE_DESCHEDULER_ANNOTATION;
    let env = s.env;
    let Some(addon) = env
        .index
        .find("harvesterhci.io", "Addon", "kube-system", "descheduler")
    else {
        return Vec::new();
    };
    if crate::model::typed::harvester::Addon::of(addon).and_then(|a| a.enabled()) == Some(true) {
        return Vec::new();
    }
    let Some((ui, u)) = s
        .ups
        .iter()
        .filter(|(_, o)| {
            o.meta
                .annotations
                .get(REENABLE_DESCHEDULER_ANNOTATION)
                .map(String::as_str)
                == Some("true")
        })
        .max_by_key(|(_, o)| o.meta.creation_timestamp.clone().unwrap_or_default())
    else {
        return Vec::new();
    };
    let Some(ai) = idx(env, addon) else {
        return Vec::new();
    };
    let how = s.finished(&u.key.name).unwrap_or("has not finished");
    vec![leftover(
        key(addon, "not-reenabled"),
        format!(
            "the descheduler addon (kube-system/descheduler) is disabled and Upgrade {} ({how}) \
             still carries {REENABLE_DESCHEDULER_ANNOTATION}: \"true\": the upgrade disabled the \
             addon and its cleanup did not re-enable it, so VMs are no longer rebalanced",
            u.key.name
        ),
        vec![
            (ai, Some("enabled".into())),
            (*ui, Some(REENABLE_DESCHEDULER_ANNOTATION.into())),
        ],
        format!(
            "Re-enable the addon as the upgrade's cleanup would have:\n$ kubectl -n kube-system patch addons.harvesterhci.io descheduler \
             --type merge -p '{{\"spec\":{{\"enabled\":true}}}}'\nThen drop the marker:\n$ \
             kubectl -n {} annotate upgrades.harvesterhci.io {} {REENABLE_DESCHEDULER_ANNOTATION}-",
            u.key.namespace, u.key.name
        ),
    )]
}

/// Rule 13 (v1.7.2, v1.8.0+): a finished Upgrade whose skip-rke2-manifests "apply" plan
/// completed but whose "remove" plan did not: the `.skip` files it wrote on every node for
/// rke2's own manifests (`rke2-multus.yaml`) are likely still there, and the controller waits
/// for the remove plan before its cleanup.
fn skip_rke2_manifests(s: &Scan) -> Vec<Leftover> {
    use crate::facts::upgrade::{
        SKIP_MANIFESTS_APPLIED, SKIP_MANIFESTS_REMOVED, SKIP_RKE2_MANIFESTS,
        SKIPPED_RKE2_MANIFESTS, UPGRADE_LABEL, target_of,
    };
    let env = s.env;
    let mut out = Vec::new();
    for (i, o) in &s.ups {
        let Some(how) = s.finished(&o.key.name) else {
            continue;
        };
        if !SKIP_RKE2_MANIFESTS.contains(&target_of(o))
            || !o.meta.annotations.contains_key(SKIP_MANIFESTS_APPLIED)
            || o.meta.annotations.contains_key(SKIP_MANIFESTS_REMOVED)
        {
            continue;
        }
        let plans: Vec<&Object> = env
            .index
            .of_kind("upgrade.cattle.io", "Plan")
            .filter(|p| p.meta.labels.get(UPGRADE_LABEL) == Some(&o.key.name))
            .filter(|p| skip_manifests_plan(p))
            .collect();
        let mut objects = vec![(*i, Some(SKIP_MANIFESTS_APPLIED.to_string()))];
        objects.extend(
            plans
                .iter()
                .filter_map(|p| idx(env, p).map(|x| (x, Some("upgradeComponent".into())))),
        );
        let skip: Vec<String> = SKIPPED_RKE2_MANIFESTS
            .iter()
            .map(|m| format!("/var/lib/rancher/rke2/server/manifests/{m}.skip"))
            .collect();
        let remove = format!("{}-skip-manifests-remove", o.key.name);
        out.push(leftover(
            key(o, "skip-rke2-manifests"),
            format!(
                "Upgrade {} {how}, its skip-rke2-manifests apply plan completed ({SKIP_MANIFESTS_APPLIED}) \
                 but the remove plan never did ({SKIP_MANIFESTS_REMOVED} absent){}: the nodes \
                 likely still have {}, so rke2 does not apply those manifests, and the controller \
                 waits for the remove plan before it cleans up",
                o.key.name,
                if plans.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (plans left: {})",
                        plans
                            .iter()
                            .map(|p| p.key.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                skip.join(", ")
            ),
            objects,
            format!(
                "Find why plan cattle-system/{remove} does not complete on every node (its jobs \
                 and their logs); the controller recreates it while it waits, so do not delete it:\n\
                 $ kubectl -n cattle-system get jobs -l upgrade.cattle.io/plan={remove}\nIf a node \
                 can never run it, remove {} on that node by hand.",
                skip.join(" ")
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    //! One test per rule of `reference/upgrade-blockers.md` §B.4, and the rule that an upgrade
    //! in progress hides rules 6–10 (its own markers are not leftovers).
    use serde_json::{Value, json};

    use super::*;
    use crate::upgrade::testkit::*;

    fn leftovers(objects: &[Value], from: &str) -> Vec<Leftover> {
        World::new(objects).env(from, None, find)
    }

    /// (rule, key) of each leftover, in order.
    fn keys(v: &[Leftover]) -> Vec<(u8, &str)> {
        v.iter().map(|l| (l.rule, l.key.as_str())).collect()
    }

    fn with(more: &[Value]) -> Vec<Value> {
        let mut v = cluster(3);
        v.extend(more.iter().cloned());
        v
    }

    fn label(v: Value, key: &str, value: &str) -> Value {
        set(
            v,
            &format!("/metadata/labels/{}", key.replace('/', "~1")),
            json!(value),
        )
    }

    fn annotate(v: Value, key: &str, value: &str) -> Value {
        set(
            v,
            &format!("/metadata/annotations/{}", key.replace('/', "~1")),
            json!(value),
        )
    }

    fn done(name: &str) -> Value {
        upgrade(name, Some("Succeeded"), Some("True"))
    }

    fn running(name: &str) -> Value {
        label(
            upgrade(name, Some("UpgradingNodes"), Some("Unknown")),
            "harvesterhci.io/latestUpgrade",
            "true",
        )
    }

    #[test]
    fn healthy_cluster_leaves_nothing() {
        let objs = with(&[label(
            done("hvst-upgrade-a"),
            "harvesterhci.io/latestUpgrade",
            "true",
        )]);
        assert_eq!(leftovers(&objs, "v1.4.0"), Vec::new());
    }

    #[test]
    fn rule1_an_upgrade_that_failed_or_never_got_a_state_blocks_the_next() {
        let objs = with(&[
            upgrade("hvst-upgrade-a", Some("UpgradingNodes"), Some("False")),
            upgrade("hvst-upgrade-b", None, None),
            label(
                upgrade("hvst-upgrade-c", Some("UpgradingNodes"), Some("Unknown")),
                "harvesterhci.io/latestUpgrade",
                "true",
            ),
        ]);
        let v = leftovers(&objs, "v1.4.0");
        let ones: Vec<&Leftover> = v.iter().filter(|l| l.rule == 1).collect();
        assert_eq!(
            ones.iter().map(|l| l.key.as_str()).collect::<Vec<_>>(),
            [
                "Upgrade/harvester-system/hvst-upgrade-a:unfinished",
                "Upgrade/harvester-system/hvst-upgrade-b:unfinished"
            ]
        );
        assert_eq!(
            ones[0].what,
            "Upgrade hvst-upgrade-a has upgradeState UpgradingNodes but its Completed condition \
             is False: it will never finish on its own"
        );
        assert_eq!(
            ones[1].what,
            "Upgrade hvst-upgrade-b has no upgradeState label but nothing processes it: it will \
             never finish on its own"
        );
        assert_eq!(
            ones[0].blocks.as_deref(),
            Some("cannot proceed until previous upgrade \"hvst-upgrade-a\" completes")
        );
        // An unknown running version quotes no text.
        let v = leftovers(&objs, "");
        assert!(v.iter().filter(|l| l.rule == 1).all(|l| l.blocks.is_none()));
    }

    #[test]
    fn rule1_the_last_upgrade_failed_with_its_failed_job() {
        let failed = set(
            label(
                upgrade("hvst-upgrade-a", Some("Failed"), Some("False")),
                "harvesterhci.io/latestUpgrade",
                "true",
            ),
            "/status/conditions/1",
            json!({"type": "SystemServicesUpgraded", "status": "False", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}),
        );
        let job = json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": "hvst-upgrade-a-apply-manifests",
                "namespace": "harvester-system",
                "labels": {"harvesterhci.io/upgrade": "hvst-upgrade-a"},
            },
            "spec": {},
            "status": {"conditions": [{"type": "Failed", "status": "True"}]},
        });
        let w = World::new(&with(&[failed, job]));
        let v = w.env("v1.4.0", None, find);
        assert_eq!(
            keys(&v),
            [(1, "Upgrade/harvester-system/hvst-upgrade-a:failed")]
        );
        assert_eq!(
            v[0].what,
            "the last upgrade, hvst-upgrade-a to v1.4.1, failed: Completed False; \
             SystemServicesUpgraded False (BackoffLimitExceeded): Job has reached the specified \
             backoff limit (failed job: hvst-upgrade-a-apply-manifests)"
        );
        let job_at = w.pos(
            "batch",
            "Job",
            "harvester-system",
            "hvst-upgrade-a-apply-manifests",
        );
        assert!(v[0].objects.iter().any(|(i, _)| *i == job_at));
        assert_eq!(v[0].blocks, None);
    }

    #[test]
    fn rule2_cleanup_pending_after_the_upgrade_finished() {
        let pending = label(
            label(
                done("hvst-upgrade-a"),
                "harvesterhci.io/upgradeCleanup",
                "Pending",
            ),
            "harvesterhci.io/latestUpgrade",
            "true",
        );
        let v = leftovers(&with(&[pending]), "v1.7.0");
        assert_eq!(
            keys(&v),
            [(2, "Upgrade/harvester-system/hvst-upgrade-a:cleanup")]
        );
        assert_eq!(
            v[0].blocks.as_deref(),
            Some(
                "cannot proceed until the following upgrades completed their cleanup process: \
                 hvst-upgrade-a"
            )
        );
        // Not finished yet: its cleanup has not begun.
        let unfinished = label(
            label(
                running("hvst-upgrade-a"),
                "harvesterhci.io/upgradeCleanup",
                "Pending",
            ),
            "harvesterhci.io/latestUpgrade",
            "true",
        );
        assert!(
            leftovers(&with(&[unfinished]), "v1.7.0")
                .iter()
                .all(|l| l.rule != 2)
        );
    }

    #[test]
    fn rule3_exactly_one_latest_upgrade() {
        let a = set(
            label(
                done("hvst-upgrade-a"),
                "harvesterhci.io/latestUpgrade",
                "true",
            ),
            "/metadata/creationTimestamp",
            json!("2025-01-01T00:00:00Z"),
        );
        let b = label(
            done("hvst-upgrade-b"),
            "harvesterhci.io/latestUpgrade",
            "true",
        );
        let v = leftovers(&with(&[a, b]), "v1.4.0");
        assert_eq!(keys(&v), [(3, "latest-upgrade")]);
        assert!(v[0].what.contains("\"There are 2 on-going upgrades\""));
        // The older one loses the label.
        assert_eq!(
            v[0].fix,
            "$ kubectl -n harvester-system label upgrades.harvesterhci.io hvst-upgrade-a \
             harvesterhci.io/latestUpgrade-"
        );
        // None while an upgrade runs.
        let v = leftovers(
            &with(&[upgrade(
                "hvst-upgrade-c",
                Some("UpgradingNodes"),
                Some("Unknown"),
            )]),
            "v1.4.0",
        );
        assert_eq!(keys(&v), [(3, "latest-upgrade")]);
        assert!(
            v[0].what
                .starts_with("an upgrade is in progress but no Upgrade carries")
        );
    }

    #[test]
    fn rule4_artefacts_of_an_upgrade_gone_or_finished() {
        let of = |v: Value, u: &str| label(v, "harvesterhci.io/upgrade", u);
        let repo_vm = of(
            json!({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                   "metadata": {"name": "upgrade-repo-hvst-upgrade-gone", "namespace": "harvester-system"}}),
            "hvst-upgrade-gone",
        );
        let image = of(
            json!({"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
                   "metadata": {"name": "hvst-upgrade-a", "namespace": "harvester-system"}}),
            "hvst-upgrade-a",
        );
        let plan = of(
            json!({"apiVersion": "upgrade.cattle.io/v1", "kind": "Plan",
                   "metadata": {"name": "hvst-upgrade-a-prepare", "namespace": "cattle-system"}}),
            "hvst-upgrade-a",
        );
        // No upgrade label: matched by name.
        let skip = json!({"apiVersion": "upgrade.cattle.io/v1", "kind": "Plan",
            "metadata": {"name": "hvst-upgrade-a-skip-restart-rancher-system-agent", "namespace": "cattle-system"}});
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "upgrade-repo-hvst-upgrade-a-disk-0", "namespace": "harvester-system"}});
        let svc = of(
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "upgrade-repo-hvst-upgrade-a", "namespace": "harvester-system"}, "spec": {}}),
            "hvst-upgrade-a",
        );
        // Jobs are evidence for 7 days, not leftovers.
        let job = of(
            json!({"apiVersion": "batch/v1", "kind": "Job",
                   "metadata": {"name": "hvst-upgrade-a-apply-manifests", "namespace": "harvester-system"}, "spec": {}}),
            "hvst-upgrade-a",
        );
        // The running upgrade's own repo VM is no leftover.
        let live_vm = of(
            json!({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                   "metadata": {"name": "upgrade-repo-hvst-upgrade-b", "namespace": "harvester-system"}}),
            "hvst-upgrade-b",
        );
        let objs = with(&[
            label(
                done("hvst-upgrade-a"),
                "harvesterhci.io/latestUpgrade",
                "false",
            ),
            running("hvst-upgrade-b"),
            repo_vm,
            image,
            plan,
            skip,
            pvc,
            svc,
            job,
            live_vm,
        ]);
        let v = leftovers(&objs, "v1.4.0");
        assert_eq!(
            keys(&v),
            [
                (
                    4,
                    "VirtualMachine/harvester-system/upgrade-repo-hvst-upgrade-gone:orphan"
                ),
                (
                    4,
                    "VirtualMachineImage/harvester-system/hvst-upgrade-a:orphan"
                ),
                (4, "Plan/cattle-system/hvst-upgrade-a-prepare:orphan"),
                (
                    4,
                    "Plan/cattle-system/hvst-upgrade-a-skip-restart-rancher-system-agent:orphan"
                ),
                (
                    4,
                    "Service/harvester-system/upgrade-repo-hvst-upgrade-a:orphan"
                ),
                (
                    4,
                    "PersistentVolumeClaim/harvester-system/upgrade-repo-hvst-upgrade-a-disk-0:orphan"
                ),
            ]
        );
        assert_eq!(
            v[0].what,
            "VirtualMachine harvester-system/upgrade-repo-hvst-upgrade-gone belongs to Upgrade \
             hvst-upgrade-gone, which no longer exists"
        );
        assert_eq!(
            v[1].fix,
            "$ kubectl -n harvester-system delete virtualmachineimages.harvesterhci.io hvst-upgrade-a"
        );
        assert!(v[1].what.ends_with("which succeeded"));
    }

    #[test]
    fn rule5_the_upgrade_log_operator_chart_of_a_gone_upgrade_blocks_c12() {
        let chart = managed_chart(
            "fleet-local",
            "hvst-upgrade-rqqrp-upgradelog-operator",
            Some("False"),
        );
        let v = leftovers(&with(std::slice::from_ref(&chart)), "v1.4.0");
        assert_eq!(
            keys(&v),
            [(
                5,
                "ManagedChart/fleet-local/hvst-upgrade-rqqrp-upgradelog-operator:upgradelog-chart"
            )]
        );
        assert_eq!(
            v[0].what,
            "ManagedChart hvst-upgrade-rqqrp-upgradelog-operator of Upgrade hvst-upgrade-rqqrp \
             (no longer exists) is still here and not Ready"
        );
        assert_eq!(
            v[0].blocks.as_deref(),
            Some(
                "managed chart hvst-upgrade-rqqrp-upgradelog-operator is not ready, please wait \
                 for it to be ready"
            )
        );
        // A Ready chart blocks nothing.
        let ready = managed_chart(
            "fleet-local",
            "hvst-upgrade-rqqrp-upgradelog-operator",
            Some("True"),
        );
        let v = leftovers(&with(&[ready]), "v1.4.0");
        assert_eq!(v[0].rule, 5);
        assert_eq!(v[0].blocks, None);
        // The running upgrade's own log chart, with its UpgradeLog, is no leftover.
        let log = json!({"apiVersion": "harvesterhci.io/v1beta1", "kind": "UpgradeLog",
            "metadata": {"name": "hvst-upgrade-rqqrp-upgradelog", "namespace": "harvester-system"}});
        let v = leftovers(
            &with(&[running("hvst-upgrade-rqqrp"), log, chart]),
            "v1.4.0",
        );
        assert!(v.iter().all(|l| l.rule != 5), "{v:?}");
    }

    fn paused_chart() -> Value {
        set(
            managed_chart("fleet-local", "harvester-crd", Some("True")),
            "/spec/paused",
            json!(true),
        )
    }

    fn provisioning_with_hooks() -> Value {
        json!({
            "apiVersion": "provisioning.cattle.io/v1",
            "kind": "Cluster",
            "metadata": {"name": "local", "namespace": "fleet-local"},
            "spec": {"rkeConfig": {"upgradeStrategy": {"controlPlaneDrainOptions": {
                "preDrainHooks": [{"annotation": "harvesterhci.io/pre-hook"}],
                "postDrainHooks": [{"annotation": "harvesterhci.io/post-hook"}],
            }}}},
        })
    }

    fn marked_node() -> Value {
        set(
            annotate(
                node("n4"),
                "harvesterhci.io/pendingOSImage",
                "Harvester v1.4.1",
            ),
            "/spec/taints",
            json!([{"key": "kubevirt.io/drain", "value": "draining", "effect": "NoSchedule"}]),
        )
    }

    fn longhorn_setting() -> Value {
        json!({"apiVersion": "longhorn.io/v1beta2", "kind": "Setting",
            "metadata": {"name": "replica-replenishment-wait-interval", "namespace": "longhorn-system"},
            "value": "1800"})
    }

    fn machine_plan(pre: &str, ack: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "type": "rke.cattle.io/machine-plan",
            "metadata": {"name": "custom-abc-machine-plan", "namespace": "fleet-local",
                "labels": {"rke.cattle.io/machine-name": "custom-abc"},
                "annotations": {"rke.cattle.io/pre-drain": pre, "harvesterhci.io/pre-hook": ack}}})
    }

    #[test]
    fn rule6_paused_managed_charts() {
        let v = leftovers(&with(&[paused_chart()]), "v1.4.0");
        assert_eq!(
            keys(&v),
            [(6, "ManagedChart/fleet-local/harvester-crd:paused")]
        );
        assert!(v[0].fix.contains("{\"spec\":{\"paused\":false}}"));
        // Charts outside fleet-local are not the upgrade's.
        let other = set(
            managed_chart("fleet-default", "x", Some("True")),
            "/spec/paused",
            json!(true),
        );
        assert_eq!(leftovers(&with(&[other]), "v1.4.0"), Vec::new());
    }

    #[test]
    fn rule7_provisioning_cluster_keeps_harvesters_drain_hooks() {
        let v = leftovers(&with(&[provisioning_with_hooks()]), "v1.4.0");
        assert_eq!(keys(&v), [(7, "Cluster/fleet-local/local:drain-hooks")]);
        let rancher_hook = set(
            provisioning_with_hooks(),
            "/spec/rkeConfig/upgradeStrategy/controlPlaneDrainOptions",
            json!({"preDrainHooks": [{"annotation": "example.com/hook"}]}),
        );
        assert_eq!(leftovers(&with(&[rancher_hook]), "v1.4.0"), Vec::new());
    }

    #[test]
    fn rule8_node_markers() {
        let v = leftovers(&with(&[marked_node()]), "v1.4.0");
        assert_eq!(
            keys(&v),
            [(8, "Node/n4:pending-os"), (8, "Node/n4:drain-taint")]
        );
        assert_eq!(
            v[0].what,
            "node n4 still has annotation harvesterhci.io/pendingOSImage=\"Harvester v1.4.1\" (it \
             runs \"Harvester v1.4.0\")"
        );
        assert_eq!(v[1].fix, "$ kubectl taint node n4 kubevirt.io/drain-");
    }

    #[test]
    fn rule9_longhorn_replenishment_wait_not_restored() {
        let saved = annotate(
            done("hvst-upgrade-a"),
            "harvesterhci.io/replica-replenishment-wait-interval",
            "600",
        );
        let v = leftovers(
            &with(&[
                label(saved, "harvesterhci.io/latestUpgrade", "true"),
                longhorn_setting(),
            ]),
            "v1.4.0",
        );
        assert_eq!(
            keys(&v),
            [(
                9,
                "Setting/longhorn-system/replica-replenishment-wait-interval:not-restored"
            )]
        );
        assert!(v[0].what.ends_with("(it was 600 before)"));
        assert!(v[0].fix.ends_with("-p '{\"value\":\"600\"}'"));
        let other = set(longhorn_setting(), "/value", json!("600"));
        assert_eq!(leftovers(&with(&[other]), "v1.4.0"), Vec::new());
    }

    #[test]
    fn rule10_machine_plan_hooks_nobody_acknowledges() {
        let v = leftovers(&with(&[machine_plan("drain-1", "")]), "v1.4.0");
        assert_eq!(
            keys(&v),
            [(10, "Secret/fleet-local/custom-abc-machine-plan:pre-drain")]
        );
        assert_eq!(
            leftovers(&with(&[machine_plan("drain-1", "drain-1")]), "v1.4.0"),
            Vec::new()
        );
    }

    #[test]
    fn an_upgrade_in_progress_hides_rules_6_to_10_but_not_1_to_5() {
        let markers = [
            paused_chart(),
            provisioning_with_hooks(),
            marked_node(),
            longhorn_setting(),
            machine_plan("drain-1", ""),
            managed_chart(
                "fleet-local",
                "hvst-upgrade-old-upgradelog-operator",
                Some("False"),
            ),
        ];
        let idle = leftovers(&with(&markers), "v1.4.0");
        let mut rules: Vec<u8> = idle.iter().map(|l| l.rule).collect();
        rules.dedup();
        assert_eq!(rules, [5, 6, 7, 8, 10, 9]);
        let mut busy = markers.to_vec();
        busy.push(running("hvst-upgrade-b"));
        let v = leftovers(&with(&busy), "v1.4.0");
        assert_eq!(
            keys(&v),
            [(
                5,
                "ManagedChart/fleet-local/hvst-upgrade-old-upgradelog-operator:upgradelog-chart"
            )]
        );
        // A failed upgrade is not in progress: the markers are its leftovers.
        let mut failed = markers.to_vec();
        failed.push(label(
            upgrade("hvst-upgrade-b", Some("UpgradingNodes"), Some("False")),
            "harvesterhci.io/latestUpgrade",
            "true",
        ));
        let v = leftovers(&with(&failed), "v1.4.0");
        assert!(v.iter().any(|l| l.rule == 6) && v.iter().any(|l| l.rule == 1));
    }

    /// A failed Upgrade `hvst-upgrade-f` to `to` with annotations.
    fn failed_to(to: &str, annotations: &[(&str, &str)]) -> Value {
        let mut u = upgrade("hvst-upgrade-f", Some("Failed"), Some("False"));
        u = set(u, "/spec/version", json!(to));
        for (k, v) in annotations {
            u = annotate(u, k, v);
        }
        u
    }

    /// ManagedChart harvester with these workload update methods.
    fn chart_with_methods(methods: Value) -> Value {
        set(
            managed_chart("fleet-local", "harvester", Some("True")),
            "/spec/values",
            json!({"kubevirt": {"spec": {"workloadUpdateStrategy": {"workloadUpdateMethods": methods}}}}),
        )
    }

    fn without_default_chart(more: &[Value]) -> Vec<Value> {
        let mut v: Vec<Value> = cluster(3)
            .into_iter()
            .filter(|o| o["kind"] != "ManagedChart")
            .collect();
        v.extend(more.iter().cloned());
        v
    }

    #[test]
    fn rule11_live_migrate_removed_by_a_failed_upgrade_from_v1_7_2_and_v1_8_1() {
        let backup = r#"["LiveMigrate"]"#;
        let objs = |to: &str| {
            without_default_chart(&[
                chart_with_methods(json!([])),
                failed_to(
                    to,
                    &[(
                        crate::facts::upgrade::WORKLOAD_UPDATE_METHODS_ANNOTATION,
                        backup,
                    )],
                ),
            ])
        };
        for to in ["v1.7.2", "v1.8.1", "v1.9.0"] {
            let v = leftovers(&objs(to), "v1.7.2");
            let l = v
                .iter()
                .find(|l| l.rule == 11)
                .unwrap_or_else(|| panic!("{to}: {:?}", keys(&v)));
            assert_eq!(
                l.key,
                "ManagedChart/fleet-local/harvester:workload-update-methods"
            );
            assert!(
                l.what.contains(
                    r#"is [] but Upgrade hvst-upgrade-f (failed) backed it up as ["LiveMigrate"]"#
                ),
                "{}",
                l.what
            );
            assert!(l.what.contains("CPU or memory hotplug"));
            assert!(l.fix.contains(
                r#"-p '{"spec":{"values":{"kubevirt":{"spec":{"workloadUpdateStrategy":{"workloadUpdateMethods":["LiveMigrate"]}}}}}}'"#
            ), "{}", l.fix);
        }
        // Upgrades to v1.7.1 and v1.8.0 keep no backup: nothing to restore from.
        for to in ["v1.7.1", "v1.8.0"] {
            let v = leftovers(&objs(to), "v1.7.1");
            assert!(!v.iter().any(|l| l.rule == 11), "{to}: {:?}", keys(&v));
        }
        // Restored (the chart matches its backup): nothing.
        let ok = without_default_chart(&[
            chart_with_methods(json!(["LiveMigrate"])),
            failed_to(
                "v1.8.1",
                &[(
                    crate::facts::upgrade::WORKLOAD_UPDATE_METHODS_ANNOTATION,
                    backup,
                )],
            ),
        ]);
        assert!(!leftovers(&ok, "v1.8.1").iter().any(|l| l.rule == 11));
        // While an upgrade runs, the emptied methods are its own.
        let mut busy = objs("v1.8.1");
        busy.push(running("hvst-upgrade-g"));
        assert!(!leftovers(&busy, "v1.8.1").iter().any(|l| l.rule == 11));
        // A backup of "null" (the key was absent): the fix removes the key.
        let null = without_default_chart(&[
            chart_with_methods(json!([])),
            failed_to(
                "v1.8.1",
                &[(
                    crate::facts::upgrade::WORKLOAD_UPDATE_METHODS_ANNOTATION,
                    "null",
                )],
            ),
        ]);
        let v = leftovers(&null, "v1.8.1");
        let l = v.iter().find(|l| l.rule == 11).expect("rule 11");
        assert!(
            l.fix.contains(r#""workloadUpdateMethods":null"#),
            "{}",
            l.fix
        );
        assert!(!l.what.contains("hotplug"));
    }

    #[test]
    fn rule12_descheduler_left_disabled() {
        let addon = |enabled: bool| {
            json!({"apiVersion": "harvesterhci.io/v1beta1", "kind": "Addon",
                   "metadata": {"name": "descheduler", "namespace": "kube-system"},
                   "spec": {"enabled": enabled}})
        };
        let marked = failed_to(
            "v1.7.0",
            &[(
                crate::facts::upgrade::REENABLE_DESCHEDULER_ANNOTATION,
                "true",
            )],
        );
        let v = leftovers(&with(&[addon(false), marked.clone()]), "v1.7.0");
        let l = v.iter().find(|l| l.rule == 12).expect("rule 12");
        assert_eq!(l.key, "Addon/kube-system/descheduler:not-reenabled");
        assert!(l.fix.contains(
            "$ kubectl -n kube-system patch addons.harvesterhci.io descheduler --type merge -p '{\"spec\":{\"enabled\":true}}'"
        ), "{}", l.fix);
        assert!(l.fix.contains(
            "$ kubectl -n harvester-system annotate upgrades.harvesterhci.io hvst-upgrade-f harvesterhci.io/reenable-descheduler-addon-"
        ));
        // Enabled again, or no marker: nothing.
        assert!(
            !leftovers(&with(&[addon(true), marked]), "v1.7.0")
                .iter()
                .any(|l| l.rule == 12)
        );
        assert!(
            !leftovers(&with(&[addon(false), failed_to("v1.7.0", &[])]), "v1.7.0")
                .iter()
                .any(|l| l.rule == 12)
        );
    }

    #[test]
    fn rule13_skip_rke2_manifests_remove_plan_never_completed() {
        use crate::facts::upgrade::{SKIP_MANIFESTS_APPLIED, SKIP_MANIFESTS_REMOVED};
        let plan = json!({"apiVersion": "upgrade.cattle.io/v1", "kind": "Plan",
            "metadata": {"name": "hvst-upgrade-f-skip-manifests-remove", "namespace": "cattle-system",
                "labels": {"harvesterhci.io/upgrade": "hvst-upgrade-f",
                           "harvesterhci.io/upgradeComponent": "remove-skip-rke2-manifests"}}});
        let stuck = failed_to("v1.8.1", &[(SKIP_MANIFESTS_APPLIED, "true")]);
        let v = leftovers(&with(&[stuck, plan.clone()]), "v1.8.1");
        let l = v.iter().find(|l| l.rule == 13).expect("rule 13");
        assert_eq!(
            l.key,
            "Upgrade/harvester-system/hvst-upgrade-f:skip-rke2-manifests"
        );
        assert!(
            l.what
                .contains("/var/lib/rancher/rke2/server/manifests/rke2-multus.yaml.skip")
        );
        assert!(
            l.what
                .contains("plans left: hvst-upgrade-f-skip-manifests-remove")
        );
        // The plan is rule 13's, not an orphan to delete.
        assert!(!v.iter().any(|l| l.rule == 4), "{:?}", keys(&v));
        // Removed too: nothing; an upgrade to v1.7.1 has no such plans.
        let done = failed_to(
            "v1.8.1",
            &[
                (SKIP_MANIFESTS_APPLIED, "true"),
                (SKIP_MANIFESTS_REMOVED, "true"),
            ],
        );
        assert!(
            !leftovers(&with(&[done]), "v1.8.1")
                .iter()
                .any(|l| l.rule == 13)
        );
        let old = failed_to("v1.7.1", &[(SKIP_MANIFESTS_APPLIED, "true")]);
        assert!(
            !leftovers(&with(&[old]), "v1.7.1")
                .iter()
                .any(|l| l.rule == 13)
        );
    }

    #[test]
    fn rule4_the_v1_7_repository_deployment_and_os_image_after_the_upgrade() {
        let labels = json!({"harvesterhci.io/upgrade": "hvst-upgrade-f", "harvesterhci.io/upgradeComponent": "repo"});
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "upgrade-repo-hvst-upgrade-f", "namespace": "harvester-system", "labels": labels},
            "spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 2}});
        let image = json!({"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
            "metadata": {"name": "hvst-upgrade-f", "namespace": "harvester-system",
                "labels": {"harvesterhci.io/upgrade": "hvst-upgrade-f"},
                "annotations": {"harvesterhci.io/os-upgrade-image": "True"}},
            "spec": {"targetStorageClassName": "longhorn-static"}});
        let v = leftovers(
            &with(&[failed_to("v1.7.2", &[]), deployment.clone(), image.clone()]),
            "v1.7.2",
        );
        let d = v
            .iter()
            .find(|l| l.key == "Deployment/harvester-system/upgrade-repo-hvst-upgrade-f:orphan")
            .expect("deployment");
        assert!(d.what.starts_with(
            "the upgrade repository Deployment harvester-system/upgrade-repo-hvst-upgrade-f"
        ));
        assert_eq!(
            d.fix,
            "$ kubectl -n harvester-system delete deployments upgrade-repo-hvst-upgrade-f"
        );
        let i = v
            .iter()
            .find(|l| l.key == "VirtualMachineImage/harvester-system/hvst-upgrade-f:orphan")
            .expect("image");
        assert!(i.what.contains("the upgrade's OS image"), "{}", i.what);
        // While the upgrade runs, both are its own.
        let mut r = running("hvst-upgrade-f");
        r = set(r, "/spec/version", json!("v1.7.2"));
        let v = leftovers(&with(&[r, deployment, image]), "v1.7.2");
        assert!(!v.iter().any(|l| l.rule == 4), "{:?}", keys(&v));
    }

    #[test]
    fn rule1_the_v1_7_upgrade_log_timeout_with_its_cause() {
        let msg = crate::facts::upgrade::LOG_TIMEOUT_MESSAGE;
        let mut u = label(
            upgrade("hvst-upgrade-t", Some("Failed"), None),
            "harvesterhci.io/latestUpgrade",
            "true",
        );
        u = set(
            u,
            "/status/conditions",
            json!([
                {"type": "Completed", "status": "False", "reason": "Timeout", "message": msg},
                {"type": "LogReady", "status": "False", "reason": "Timeout", "message": msg},
            ]),
        );
        let cfg = setting("upgrade-config", r#"{"logReadyTimeout":"10"}"#);
        let v = leftovers(&with(&[u.clone(), cfg]), "v1.7.0");
        let l = v
            .iter()
            .find(|l| l.key.ends_with(":failed"))
            .expect("failed");
        assert!(
            l.what.ends_with(
                "was not ready within upgrade-config logReadyTimeout (10 min), so the upgrade \
                 failed before it changed the cluster"
            ),
            "{}",
            l.what
        );
        assert!(l.fix.contains("logReadyTimeout (1–20 minutes)"));
        let v = leftovers(&with(&[u]), "v1.7.0");
        let l = v
            .iter()
            .find(|l| l.key.ends_with(":failed"))
            .expect("failed");
        assert!(
            l.what.contains("(unset or out of 1–20: the default 5 min)"),
            "{}",
            l.what
        );
    }
}
