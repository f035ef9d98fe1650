//! The Harvester upgrade admission webhook (`validator.harvesterhci.io`, Upgrade CREATE),
//! simulated check by check for the version running now (`reference/upgrade-blockers.md` §A).
//! The webhook stops at the first failure; here every check runs, in the webhook's order, and
//! each one that would deny carries the exact text the webhook would return. Checks that need
//! live data (kubelet stats, TLS handshakes) are not evaluated, with the reason and the best
//! proxy the bundle offers.
use super::Env;
use super::version::{HVersion, guard, show};
use crate::index::Object;
use crate::model::views::View;
use crate::model::{condition, tree::Tree};

type V = (u64, u64, u64);

/// What a check concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Would pass, and why.
    Pass(String),
    /// Would deny.
    Deny {
        /// The exact text the webhook returns (for the first offender in list order).
        message: String,
        /// Every offender, with its own text when the webhook would name it.
        offenders: Vec<Offender>,
    },
    /// The check exists in this version but a precondition exempts the cluster.
    Exempt(String),
    /// Cannot be judged from the bundle.
    NotEvaluated {
        /// Why.
        reason: String,
        /// What the bundle offers instead, when anything.
        proxy: Option<String>,
        /// Objects the proxy looked at.
        objects: Vec<usize>,
    },
}

/// One object that makes a check deny.
#[derive(Debug, Clone, PartialEq)]
pub struct Offender {
    /// Position in the index, when it is an object of the bundle.
    pub object: Option<usize>,
    /// What is wrong with it, in words.
    pub what: String,
    /// Text the webhook would use if this were the first offender.
    pub message: String,
    /// Text to focus the evidence on.
    pub focus: Option<String>,
}

/// One check of the webhook.
pub struct CheckDef {
    /// Id as in the reference (`C12`).
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// First version with the check.
    pub since: V,
    /// Last version with it (inclusive), when removed.
    pub until: Option<V>,
    /// What it reads.
    pub reads: &'static str,
    eval: fn(&Env) -> Outcome,
}

impl CheckDef {
    /// Versions, in words (`v1.4.0+`, `v1.3.0 – v1.4.3`).
    pub fn versions(&self) -> String {
        match self.until {
            Some(u) => format!("{} – {}", show(self.since), show(u)),
            None => format!("{}+", show(self.since)),
        }
    }
}

/// A check's result.
pub struct CheckResult {
    /// The check.
    pub def: &'static CheckDef,
    /// Its outcome.
    pub outcome: Outcome,
}

fn offender(o: Option<(usize, &Object)>, what: String, message: String) -> Offender {
    Offender {
        object: o.map(|x| x.0),
        what,
        message,
        focus: None,
    }
}

fn deny(mut offenders: Vec<Offender>) -> Outcome {
    match offenders.first() {
        Some(first) => {
            let message = first.message.clone();
            offenders.dedup_by(|a, b| a.object == b.object && a.what == b.what);
            Outcome::Deny { message, offenders }
        }
        None => Outcome::Pass(String::new()),
    }
}

fn not_collected(what: &str) -> Outcome {
    Outcome::NotEvaluated {
        reason: format!("{what} not collected in the bundle"),
        proxy: None,
        objects: Vec::new(),
    }
}

pub fn tree(o: &Object) -> Option<&Tree> {
    match &o.view {
        View::Tree(t) => Some(t),
        _ => None,
    }
}

/// The checks, in the webhook's order of evaluation (§A.1).
pub static CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "C1",
        name: "version or image specified",
        since: (1, 0, 0),
        until: None,
        reads: "the new Upgrade's spec.version / spec.image",
        eval: c1,
    },
    CheckDef {
        id: "C2",
        name: "target Version object exists",
        since: (1, 2, 0),
        until: None,
        reads: "versions.harvesterhci.io harvester-system/<spec.version>",
        eval: c2,
    },
    CheckDef {
        id: "C3",
        name: "no other upgrade in progress",
        since: (1, 0, 0),
        until: None,
        reads: "upgrades.harvesterhci.io in harvester-system, label harvesterhci.io/upgradeState notin (Succeeded,Failed) — a missing label matches too",
        eval: c3,
    },
    CheckDef {
        id: "C4",
        name: "no upgrade waiting for cleanup",
        since: (1, 7, 0),
        until: None,
        reads: "upgrades.harvesterhci.io, label harvesterhci.io/upgradeCleanup=Pending",
        eval: c4,
    },
    CheckDef {
        id: "C7",
        name: "no degraded volume (3+ nodes)",
        since: (1, 1, 0),
        until: None,
        reads: "nodes (count); volumes.longhorn.io in longhorn-system, status.robustness",
        eval: c7,
    },
    CheckDef {
        id: "C8/C9",
        name: "CAPI cluster fleet-local/local provisioned",
        since: (1, 1, 0),
        until: None,
        reads: "clusters.cluster.x-k8s.io fleet-local/local, status.phase",
        eval: c8,
    },
    CheckDef {
        id: "C10",
        name: "no VM backup or snapshot in progress",
        since: (1, 4, 0),
        until: None,
        reads: "virtualmachinebackups.harvesterhci.io, status.error and status.readyToUse",
        eval: c10,
    },
    CheckDef {
        id: "C11",
        name: "every backup/snapshot schedule suspended",
        since: (1, 4, 0),
        until: None,
        reads: "schedulevmbackups.harvesterhci.io, status.suspended",
        eval: c11,
    },
    CheckDef {
        id: "C12",
        name: "every ManagedChart in fleet-local Ready",
        since: (1, 1, 2),
        until: None,
        reads: "managedcharts.management.cattle.io in fleet-local, the first status.conditions[type=Ready]",
        eval: c12,
    },
    CheckDef {
        id: "C13",
        name: "addons settled",
        since: (1, 7, 0),
        until: None,
        reads: "addons.harvesterhci.io, spec.enabled and status.status",
        eval: c13,
    },
    CheckDef {
        id: "C14",
        name: "every node Ready",
        since: (1, 1, 2),
        until: None,
        reads: "nodes, status.conditions[type=Ready]",
        eval: c14,
    },
    CheckDef {
        id: "C15",
        name: "no node unschedulable (cordoned, maintenance)",
        since: (1, 1, 2),
        until: None,
        reads: "nodes, spec.unschedulable",
        eval: c15,
    },
    CheckDef {
        id: "C16",
        name: "every node has rke2.io/internal-ip",
        since: (1, 2, 0),
        until: None,
        reads: "nodes, annotation rke2.io/internal-ip",
        eval: c16,
    },
    CheckDef {
        id: "C17",
        name: "free system partition space (30 GiB)",
        since: (1, 2, 0),
        until: Some((1, 4, 3)),
        reads: "kubelet /stats/summary of each node (live)",
        eval: c17,
    },
    CheckDef {
        id: "C18",
        name: "image garbage-collection threshold after loading new images",
        since: (1, 2, 2),
        until: None,
        reads: "kubelet /stats/summary and /configz of each node (live)",
        eval: c18,
    },
    CheckDef {
        id: "C20",
        name: "every CAPI machine Running",
        since: (1, 1, 2),
        until: None,
        reads: "machines.cluster.x-k8s.io in fleet-local, status.phase",
        eval: c20,
    },
    CheckDef {
        id: "C21",
        name: "nodes and machines match",
        since: (1, 5, 1),
        until: None,
        reads: "nodes (label harvesterhci.io/managed, annotation cluster.x-k8s.io/machine); machines, status.nodeRef",
        eval: c21,
    },
    CheckDef {
        id: "C22",
        name: "no active single-replica volume",
        since: (1, 3, 0),
        until: Some((1, 4, 3)),
        reads: "volumes.longhorn.io spec.numberOfReplicas and status.state; status.kubernetesStatus",
        eval: c22,
    },
    CheckDef {
        id: "C23",
        name: "no single-replica volume, even detached",
        since: (1, 5, 0),
        until: None,
        reads: "volumes.longhorn.io spec.numberOfReplicas; status.kubernetesStatus",
        eval: c23,
    },
    CheckDef {
        id: "C24",
        name: "no non-live-migratable VM running",
        since: (1, 2, 2),
        until: None,
        reads: "virtualmachineinstances.kubevirt.io (nodeSelector, hostDevices, required node affinity, cdrom/containerDisk in v1.4.1–v1.7.x); nodes; setting upgrade-config restoreVM (v1.6+)",
        eval: c24,
    },
    CheckDef {
        id: "C25",
        name: "no pending volume hotplug request",
        since: (1, 9, 0),
        until: None,
        reads: "virtualmachines.kubevirt.io status.volumeRequests",
        eval: c25,
    },
    CheckDef {
        id: "C26",
        name: "no hot-plugged volume missing from the VM spec",
        since: (1, 9, 0),
        until: None,
        reads: "virtualmachineinstances.kubevirt.io volumes (hotpluggable) vs virtualmachines.kubevirt.io spec.template.spec.volumes",
        eval: c26,
    },
    CheckDef {
        id: "C27",
        name: "RKE2 certificates valid for 7+ days",
        since: (1, 5, 0),
        until: None,
        reads: "a live TLS handshake with default/kubernetes",
        eval: c27,
    },
];

/// Runs every check that exists in `env.from`'s version, in order.
pub fn evaluate(env: &Env) -> Vec<CheckResult> {
    CHECKS
        .iter()
        .filter(|d| env.from.within(d.since, d.until))
        .map(|d| CheckResult {
            def: d,
            outcome: (d.eval)(env),
        })
        .collect()
}

/// The version-compatibility gate (§A.5), when a target is known: not a webhook check — the
/// controller fails the Upgrade after the repo VM is up.
pub fn compatibility(env: &Env) -> Option<CheckResult> {
    static DEF: CheckDef = CheckDef {
        id: "A.5",
        name: "version compatibility (controller, after the repo VM is up)",
        since: (1, 2, 2),
        until: None,
        reads: "the running version; the target Version's spec.minUpgradableVersion",
        eval: compat,
    };
    env.to.as_ref()?;
    Some(CheckResult {
        def: &DEF,
        outcome: compat(env),
    })
}

fn compat(env: &Env) -> Outcome {
    let Some(to) = &env.to else {
        return Outcome::Exempt("no target version".into());
    };
    let min = to
        .object
        .and_then(|i| env.index.objects.get(i))
        .and_then(tree)
        .and_then(|t| t.str("/spec/minUpgradableVersion"))
        .map(HVersion::parse);
    let obj = to
        .object
        .and_then(|i| env.index.objects.get(i).map(|o| (i, o)));
    if env.from.at_least((1, 4, 0)) {
        match guard(&env.from, &to.version, min.as_ref()) {
            Ok(()) => Outcome::Pass(format!(
                "{} → {} is allowed{}",
                env.from,
                to.version,
                min.map(|m| format!(" (minimum upgradable version {m})"))
                    .unwrap_or_default()
            )),
            Err(e) => deny(vec![offender(
                obj,
                format!("{} → {}", env.from, to.version),
                e,
            )]),
        }
    } else {
        match (&min, env.from.num, min.as_ref().and_then(|m| m.num)) {
            (Some(m), Some(f), Some(mn)) if f < mn => deny(vec![offender(
                obj,
                format!("{} → {}", env.from, to.version),
                format!(
                    "The current version {} is less than the minimum upgradable version {m}.",
                    env.from
                ),
            )]),
            _ => Outcome::Pass(format!("{} → {} is allowed", env.from, to.version)),
        }
    }
}

fn c1(env: &Env) -> Outcome {
    match &env.to {
        Some(t) => Outcome::Pass(format!(
            "simulated Upgrade with spec.version {} (as the UI creates it)",
            t.version
        )),
        None => Outcome::Pass("an Upgrade created from the UI always names a version".into()),
    }
}

fn c2(env: &Env) -> Outcome {
    let Some(to) = &env.to else {
        return Outcome::NotEvaluated {
            reason: format!(
                "no target version: no Version object newer than {} in harvester-system and no \
                 --to-version, so the UI offers no upgrade",
                env.from
            ),
            proxy: None,
            objects: Vec::new(),
        };
    };
    if to.object.is_some() {
        return Outcome::Pass(format!("Version harvester-system/{} exists", to.version));
    }
    if !(env.collected)("harvesterhci.io", "versions") {
        return not_collected("versions.harvesterhci.io");
    }
    deny(vec![offender(
        None,
        format!("no Version object harvester-system/{}", to.version),
        format!("version {} is not found", to.version),
    )])
}

/// Upgrades whose upgradeState label is absent or not final.
pub fn unfinished_upgrades<'a>(env: &'a Env<'a>) -> Vec<(usize, &'a Object)> {
    upgrades(env)
        .filter(|(_, o)| {
            !matches!(
                o.meta
                    .labels
                    .get("harvesterhci.io/upgradeState")
                    .map(String::as_str),
                Some("Succeeded" | "Failed")
            )
        })
        .collect()
}

/// Upgrades in harvester-system, by name.
pub fn upgrades<'a>(env: &'a Env<'a>) -> impl Iterator<Item = (usize, &'a Object)> + 'a {
    env.index
        .of_kind("harvesterhci.io", "Upgrade")
        .filter(|o| o.key.namespace == "harvester-system")
        .filter_map(|o| env.index.position(&o.key).map(|i| (i, o)))
}

fn c3(env: &Env) -> Outcome {
    if !(env.collected)("harvesterhci.io", "upgrades") {
        return not_collected("upgrades.harvesterhci.io");
    }
    deny(
        unfinished_upgrades(env)
            .into_iter()
            .map(|(i, o)| {
                let state = o
                    .meta
                    .labels
                    .get("harvesterhci.io/upgradeState")
                    .cloned()
                    .unwrap_or_else(|| "no upgradeState label".into());
                let mut off = offender(
                    Some((i, o)),
                    format!("Upgrade {} ({state})", o.key.name),
                    format!(
                        "cannot proceed until previous upgrade {:?} completes",
                        o.key.name
                    ),
                );
                off.focus = Some("harvesterhci.io/upgradeState".into());
                off
            })
            .collect(),
    )
}

fn c4(env: &Env) -> Outcome {
    if !(env.collected)("harvesterhci.io", "upgrades") {
        return not_collected("upgrades.harvesterhci.io");
    }
    let pending: Vec<(usize, &Object)> = upgrades(env)
        .filter(|(_, o)| {
            o.meta
                .labels
                .get("harvesterhci.io/upgradeCleanup")
                .map(String::as_str)
                == Some("Pending")
        })
        .collect();
    if pending.is_empty() {
        return Outcome::Pass("no Upgrade has upgradeCleanup=Pending".into());
    }
    let names: Vec<&str> = pending.iter().map(|(_, o)| o.key.name.as_str()).collect();
    let message = format!(
        "cannot proceed until the following upgrades completed their cleanup process: {}",
        names.join(",")
    );
    deny(
        pending
            .iter()
            .map(|(i, o)| {
                let mut off = offender(
                    Some((*i, o)),
                    format!("Upgrade {} cleanup Pending", o.key.name),
                    message.clone(),
                );
                off.focus = Some("harvesterhci.io/upgradeCleanup".into());
                off
            })
            .collect(),
    )
}

pub fn nodes<'a>(env: &'a Env<'a>) -> Vec<(usize, &'a Object)> {
    env.index
        .of_kind("", "Node")
        .filter_map(|o| env.index.position(&o.key).map(|i| (i, o)))
        .collect()
}

pub fn volumes<'a>(env: &'a Env<'a>) -> Vec<(usize, &'a Object, &'a Tree)> {
    env.index
        .of_kind("longhorn.io", "Volume")
        .filter(|o| o.key.namespace == "longhorn-system")
        .filter_map(|o| {
            let t = tree(o)?;
            env.index.position(&o.key).map(|i| (i, o, t))
        })
        .collect()
}

fn c7(env: &Env) -> Outcome {
    let n = nodes(env).len();
    if n < 3 {
        return Outcome::Exempt(format!(
            "{n} node(s): the webhook checks degraded volumes only with 3 or more nodes"
        ));
    }
    if !(env.collected)("longhorn.io", "volumes") {
        return not_collected("volumes.longhorn.io");
    }
    deny(
        volumes(env)
            .into_iter()
            .filter(|(_, _, t)| t.str("/status/robustness") == Some("degraded"))
            .map(|(i, o, t)| {
                let mut off = offender(
                    Some((i, o)),
                    format!(
                        "Volume {} is degraded{}",
                        o.key.name,
                        pvc_of(t).map(|p| format!(" (PVC {p})")).unwrap_or_default()
                    ),
                    "there are degraded volumes, please check all volumes are healthy".into(),
                );
                off.focus = Some("robustness: degraded".into());
                off
            })
            .collect(),
    )
}

fn pvc_of(t: &Tree) -> Option<String> {
    Some(format!(
        "{}/{}",
        t.str("/status/kubernetesStatus/namespace")?,
        t.str("/status/kubernetesStatus/pvcName")?
    ))
}

fn c8(env: &Env) -> Outcome {
    if !(env.collected)("cluster.x-k8s.io", "clusters") {
        return not_collected("clusters.cluster.x-k8s.io");
    }
    match env.index.find("cluster.x-k8s.io", "Cluster", "fleet-local", "local") {
        None => deny(vec![offender(
            None,
            "CAPI Cluster fleet-local/local is missing".into(),
            "can't find fleet-local/local cluster, err: clusters.cluster.x-k8s.io \"local\" not found"
                .into(),
        )]),
        Some(o) => {
            let phase = tree(o)
                .and_then(|t| t.str("/status/phase"))
                .unwrap_or("")
                .to_string();
            if phase == "Provisioned" || !env.from.at_least((1, 1, 2)) {
                return Outcome::Pass(format!("phase {phase}"));
            }
            let mut off = offender(
                env.index.position(&o.key).map(|i| (i, o)),
                format!(
                    "CAPI Cluster fleet-local/local phase is {}",
                    if phase.is_empty() { "empty" } else { &phase }
                ),
                format!(
                    "cluster fleet-local/local status is {phase}, please wait for it to be provisioned"
                ),
            );
            off.focus = Some("phase:".into());
            deny(vec![off])
        }
    }
}

fn c10(env: &Env) -> Outcome {
    if !(env.collected)("harvesterhci.io", "virtualmachinebackups") {
        return not_collected("virtualmachinebackups.harvesterhci.io");
    }
    let nil_status_counts = env.from.within((1, 4, 0), Some((1, 4, 99)));
    deny(
        env.index
            .of_kind("harvesterhci.io", "VirtualMachineBackup")
            .filter_map(|o| {
                let t = tree(o)?;
                let no_status = !t.present("/status");
                let error = t.present("/status/error");
                let ready = t.bool("/status/readyToUse") == Some(true);
                let processing = if no_status {
                    nil_status_counts
                } else {
                    !error && !ready
                };
                processing.then(|| {
                    let mut off = offender(
                        env.index.position(&o.key).map(|i| (i, o)),
                        format!(
                            "{} {}/{} is in progress (readyToUse {}, no error)",
                            t.str("/spec/type").unwrap_or("backup"),
                            o.key.namespace,
                            o.key.name,
                            t.bool("/status/readyToUse")
                                .map(|b| b.to_string())
                                .unwrap_or_else(|| "unset".into())
                        ),
                        format!(
                            "please wait until all vmbackups are stopped, for example {}/{} is under processing",
                            o.key.namespace, o.key.name
                        ),
                    );
                    off.focus = Some("readyToUse".into());
                    off
                })
            })
            .collect(),
    )
}

fn c11(env: &Env) -> Outcome {
    if !(env.collected)("harvesterhci.io", "schedulevmbackups") {
        return not_collected("schedulevmbackups.harvesterhci.io");
    }
    deny(
        env.index
            .of_kind("harvesterhci.io", "ScheduleVMBackup")
            .filter_map(|o| {
                let t = tree(o)?;
                // The webhook's index formats status.suspended: an unset field reads false.
                (t.bool("/status/suspended") != Some(true)).then(|| {
                    let mut off = offender(
                        env.index.position(&o.key).map(|i| (i, o)),
                        format!(
                            "schedule {}/{} is active (cron {})",
                            o.key.namespace,
                            o.key.name,
                            t.str("/spec/cron").unwrap_or("?")
                        ),
                        format!(
                            "please suspend all backup/snapshot schedule, for example {}/{} is running",
                            o.key.namespace, o.key.name
                        ),
                    );
                    off.focus = Some("suspended".into());
                    off
                })
            })
            .collect(),
    )
}

fn c12(env: &Env) -> Outcome {
    if !(env.collected)("management.cattle.io", "managedcharts") {
        return not_collected("managedcharts.management.cattle.io");
    }
    let fix = env.from.at_least((1, 7, 0));
    deny(
        env.index
            .of_kind("management.cattle.io", "ManagedChart")
            .filter(|o| o.key.namespace == "fleet-local")
            .filter_map(|o| {
                let c = condition(&o.status.conditions, "Ready")?;
                (c.status != "True").then(|| {
                    let mut off = offender(
                        env.index.position(&o.key).map(|i| (i, o)),
                        format!(
                            "ManagedChart {} Ready={}{}",
                            o.key.name,
                            c.status,
                            c.message
                                .as_deref()
                                .map(|m| format!(": {}", crate::fleet::one_line(m, 160)))
                                .unwrap_or_default()
                        ),
                        if fix {
                            format!(
                                "managed chart {} is not ready, please wait for it to be ready or fix it",
                                o.key.name
                            )
                        } else {
                            format!(
                                "managed chart {} is not ready, please wait for it to be ready",
                                o.key.name
                            )
                        },
                    );
                    off.focus = Some("type: Ready".into());
                    off
                })
            })
            .collect(),
    )
}

fn c13(env: &Env) -> Outcome {
    if !(env.collected)("harvesterhci.io", "addons") {
        return not_collected("addons.harvesterhci.io");
    }
    deny(
        env.index
            .of_kind("harvesterhci.io", "Addon")
            .filter_map(|o| {
                let t = tree(o)?;
                let enabled = t.bool("/spec/enabled") == Some(true);
                let status = t.str("/status/status").unwrap_or("");
                let bad = if enabled {
                    status != "AddonDeploySuccessful"
                } else {
                    !(status.is_empty() || status == "AddonDisabled")
                };
                bad.then(|| {
                    let word = if enabled { "enabled" } else { "disabled" };
                    offender(
                        env.index.position(&o.key).map(|i| (i, o)),
                        format!("addon {}/{} {word}, status {status:?}", o.key.namespace, o.key.name),
                        format!(
                            "addon {}/{} is {word} but still on status {status}, please wait for it to be ready or fix it",
                            o.key.namespace, o.key.name
                        ),
                    )
                })
            })
            .collect(),
    )
}

fn c14(env: &Env) -> Outcome {
    deny(
        nodes(env)
            .into_iter()
            .filter_map(|(i, o)| {
                let c = condition(&o.status.conditions, "Ready")?;
                (c.status != "True").then(|| {
                    let mut off = offender(
                        Some((i, o)),
                        format!(
                            "node {} Ready={} ({})",
                            o.key.name,
                            c.status,
                            c.reason.as_deref().unwrap_or("")
                        ),
                        format!(
                            "node {} is not ready, please wait for it to be ready",
                            o.key.name
                        ),
                    );
                    off.focus = Some("type: Ready".into());
                    off
                })
            })
            .collect(),
    )
}

fn c15(env: &Env) -> Outcome {
    deny(
        nodes(env)
            .into_iter()
            .filter_map(|(i, o)| {
                let View::Node(n) = &o.view else { return None };
                n.unschedulable.then(|| {
                    let maint = o.meta.annotations.get("harvesterhci.io/maintain-status");
                    let mut off = offender(
                        Some((i, o)),
                        format!(
                            "node {} is {}",
                            o.key.name,
                            match maint {
                                Some(m) => format!("in maintenance mode ({m})"),
                                None => "cordoned".to_string(),
                            }
                        ),
                        format!(
                            "node {} is unschedulable, please wait for it to be schedulable",
                            o.key.name
                        ),
                    );
                    off.focus = Some("unschedulable".into());
                    off
                })
            })
            .collect(),
    )
}

fn c16(env: &Env) -> Outcome {
    deny(
        nodes(env)
            .into_iter()
            .filter(|(_, o)| !o.meta.annotations.contains_key("rke2.io/internal-ip"))
            .map(|(i, o)| {
                offender(
                    Some((i, o)),
                    format!("node {} has no rke2.io/internal-ip annotation", o.key.name),
                    format!(
                        "node {} doesn't have rke2.io/internal-ip annotation",
                        o.key.name
                    ),
                )
            })
            .collect(),
    )
}

/// Nodes under disk pressure: the only disk signal a bundle's YAML holds.
fn disk_proxy(env: &Env) -> (Option<String>, Vec<usize>) {
    let pressed: Vec<(usize, &Object)> = nodes(env)
        .into_iter()
        .filter(|(_, o)| {
            condition(&o.status.conditions, "DiskPressure").is_some_and(|c| c.status == "True")
        })
        .collect();
    if pressed.is_empty() {
        (
            Some("no node reports DiskPressure (a coarse signal only: the kubelet sets it at its eviction threshold, well above the webhook's)".into()),
            Vec::new(),
        )
    } else {
        (
            Some(format!(
                "node(s) under DiskPressure, which the check would almost certainly fail: {}",
                pressed
                    .iter()
                    .map(|(_, o)| o.key.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            pressed.into_iter().map(|(i, _)| i).collect(),
        )
    }
}

fn c17(env: &Env) -> Outcome {
    let (proxy, objects) = disk_proxy(env);
    Outcome::NotEvaluated {
        reason: "needs each kubelet's live /stats/summary (free bytes of the system partition, \
                 30 GiB minimum or the Version's harvesterhci.io/minFreeDiskSpaceGB)"
            .into(),
        proxy,
        objects,
    }
}

fn c18(env: &Env) -> Outcome {
    let (proxy, objects) = disk_proxy(env);
    Outcome::NotEvaluated {
        reason:
            "needs each kubelet's live /stats/summary and /configz: (used + 13 GiB) / capacity \
                 must stay under imageGCHighThresholdPercent (85 by default)"
                .into(),
        proxy,
        objects,
    }
}

pub fn machines<'a>(env: &'a Env<'a>) -> Vec<(usize, &'a Object, &'a Tree)> {
    env.index
        .of_kind("cluster.x-k8s.io", "Machine")
        .filter(|o| o.key.namespace == "fleet-local")
        .filter_map(|o| Some((env.index.position(&o.key)?, o, tree(o)?)))
        .collect()
}

fn c20(env: &Env) -> Outcome {
    if !(env.collected)("cluster.x-k8s.io", "machines") {
        return not_collected("machines.cluster.x-k8s.io");
    }
    deny(
        machines(env)
            .into_iter()
            .filter(|(_, _, t)| t.str("/status/phase") != Some("Running"))
            .map(|(i, o, t)| {
                let mut off = offender(
                    Some((i, o)),
                    format!(
                        "machine {}/{} phase {}{}",
                        o.key.namespace,
                        o.key.name,
                        t.str("/status/phase").unwrap_or("(none)"),
                        t.str("/status/nodeRef/name")
                            .map(|n| format!(", node {n}"))
                            .unwrap_or_else(|| ", no node".into())
                    ),
                    format!("machine {}/{} is not running", o.key.namespace, o.key.name),
                );
                off.focus = Some("phase:".into());
                off
            })
            .collect(),
    )
}

fn c21(env: &Env) -> Outcome {
    if !(env.collected)("cluster.x-k8s.io", "machines") {
        return not_collected("machines.cluster.x-k8s.io");
    }
    let ns = nodes(env);
    let ms = machines(env);
    if ns.is_empty() {
        return deny(vec![offender(
            None,
            "no node listed".into(),
            "no node was listed, this shall not happen".into(),
        )]);
    }
    if ns.len() != ms.len() {
        let nn: Vec<&str> = ns.iter().map(|(_, o)| o.key.name.as_str()).collect();
        let mm: Vec<&str> = ms.iter().map(|(_, o, _)| o.key.name.as_str()).collect();
        return deny(vec![
            offender(
                None,
                format!("{} nodes but {} machines", ns.len(), ms.len()),
                format!(
                    "nodes({}) and machines({}) do not match, check the cluster provision",
                    ns.len(),
                    ms.len()
                ),
            )
            .with_detail(format!(
                "nodes: {}; machines: {}",
                nn.join(", "),
                mm.join(", ")
            )),
        ]);
    }
    let mut offs = Vec::new();
    for (i, o, t) in &ms {
        if t.str("/status/nodeRef/name").is_none() {
            offs.push(offender(
                Some((*i, o)),
                format!("machine {} has no nodeRef", o.key.name),
                format!(
                    "machine {} has empty NodeRef, check the cluster provision",
                    o.key.name
                ),
            ));
        }
    }
    for (i, o) in &ns {
        let name = &o.key.name;
        if o.meta.labels.is_empty() {
            offs.push(offender(
                Some((*i, o)),
                format!("node {name} has no labels"),
                format!("node {name} has no labels"),
            ));
            continue;
        }
        if o.meta
            .labels
            .get("harvesterhci.io/managed")
            .map(String::as_str)
            != Some("true")
        {
            offs.push(offender(
                Some((*i, o)),
                format!("node {name} lacks label harvesterhci.io/managed=true"),
                format!("node {name} has no expected label harvesterhci.io/managed"),
            ));
            continue;
        }
        if o.meta.annotations.is_empty() {
            offs.push(offender(
                Some((*i, o)),
                format!("node {name} has no annotations"),
                format!("node {name} has no nnnotations"),
            ));
            continue;
        }
        let Some(m) = o.meta.annotations.get("cluster.x-k8s.io/machine") else {
            offs.push(offender(
                Some((*i, o)),
                format!("node {name} lacks annotation cluster.x-k8s.io/machine"),
                format!(
                    "node {name} has no expected annotation cluster.x-k8s.io/machine, check the cluster provision"
                ),
            ));
            continue;
        };
        match ms.iter().find(|(_, mo, _)| mo.key.name == *m) {
            None => offs.push(offender(
                Some((*i, o)),
                format!("node {name} refers to missing machine {m}"),
                format!("node {name} refers to machine {m}, but the machine does not exist"),
            )),
            Some((_, _, mt)) => {
                let other = mt.str("/status/nodeRef/name").unwrap_or("");
                if other != name {
                    offs.push(offender(
                        Some((*i, o)),
                        format!("node {name} refers to machine {m}, which refers to {other}"),
                        format!(
                            "node {name} refers to machine {m}, but the machine refers to another node {other}"
                        ),
                    ));
                }
            }
        }
    }
    deny(offs)
}

impl Offender {
    fn with_detail(mut self, d: String) -> Offender {
        self.what = format!("{} ({d})", self.what);
        self
    }
}

fn single_replica<'a>(env: &'a Env<'a>, active_only: bool) -> Vec<(usize, &'a Object, String)> {
    volumes(env)
        .into_iter()
        .filter(|(_, _, t)| t.int("/spec/numberOfReplicas") == Some(1))
        .filter(|(_, _, t)| {
            !active_only
                || matches!(
                    t.str("/status/state"),
                    Some("creating" | "attached" | "attaching")
                )
        })
        .map(|(i, o, t)| {
            let pvc = format!(
                "{}/{}",
                t.str("/status/kubernetesStatus/namespace").unwrap_or(""),
                t.str("/status/kubernetesStatus/pvcName").unwrap_or("")
            );
            (i, o, pvc)
        })
        .collect()
}

fn replica_check(env: &Env, active_only: bool, text: &str) -> Outcome {
    if nodes(env).len() == 1 {
        return Outcome::Exempt("single-node cluster: the check is skipped".into());
    }
    if !(env.collected)("longhorn.io", "volumes") {
        return not_collected("volumes.longhorn.io");
    }
    let vols = single_replica(env, active_only);
    let list: Vec<&str> = vols.iter().map(|(_, _, p)| p.as_str()).collect();
    let message = format!("{text}: {}", list.join(", "));
    deny(
        vols.iter()
            .map(|(i, o, pvc)| {
                let state = env
                    .index
                    .objects
                    .get(*i)
                    .and_then(tree)
                    .and_then(|t| t.str("/status/state"))
                    .unwrap_or("?")
                    .to_string();
                let mut off = offender(
                    Some((*i, o)),
                    format!(
                        "volume {} (PVC {pvc}) has 1 replica, state {state}",
                        o.key.name
                    ),
                    message.clone(),
                );
                off.focus = Some("numberOfReplicas: 1".into());
                off
            })
            .collect(),
    )
}

fn c22(env: &Env) -> Outcome {
    replica_check(
        env,
        true,
        "The backing volumes of the following PVCs have single replica configured, please consider shutdown the corresponding workload before upgrade",
    )
}

fn c23(env: &Env) -> Outcome {
    replica_check(
        env,
        false,
        "Following PVCs with single-replica volume, even the volume is detached, upgrade may have potential data integrity concerns",
    )
}

/// `upgrade-config` setting's `restoreVM`.
pub fn restore_vm(env: &Env) -> bool {
    env.index
        .find("harvesterhci.io", "Setting", "", "upgrade-config")
        .and_then(|o| match &o.view {
            View::Setting(s) => s.effective().map(str::to_string),
            _ => None,
        })
        .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
        .and_then(|v| v.get("restoreVM").and_then(|b| b.as_bool()))
        .unwrap_or(false)
}

fn label_matches(labels: &crate::model::StrMap, expr: &crate::model::tree::Node) -> bool {
    let key = expr.get("key").and_then(|k| k.as_str()).unwrap_or("");
    let op = expr.get("operator").and_then(|k| k.as_str()).unwrap_or("");
    let values: Vec<&str> = expr
        .get("values")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    let val = labels.get(key).map(String::as_str);
    match op {
        "In" => val.is_some_and(|v| values.contains(&v)),
        "NotIn" => val.is_none_or(|v| !values.contains(&v)),
        "Exists" => val.is_some(),
        "DoesNotExist" => val.is_none(),
        // Gt/Lt: compare integers.
        "Gt" | "Lt" => {
            let (Some(v), Some(w)) = (
                val.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|w| w.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if op == "Gt" { v > w } else { v < w }
        }
        _ => false,
    }
}

/// Why a VMI cannot live-migrate, per the webhook's helper (empty when it can).
fn non_migratable_reasons(env: &Env, vmi: &Object, t: &Tree) -> Vec<String> {
    let mut why = Vec::new();
    if t.at("/spec/nodeSelector").is_some() {
        why.push("a nodeSelector".to_string());
    }
    if !t.list("/spec/domain/devices/hostDevices").is_empty() {
        why.push("host devices (PCI/USB passthrough)".into());
    }
    let terms = t.list(
        "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms",
    );
    if !terms.is_empty() {
        let here = t.str("/status/nodeName").unwrap_or("");
        let other_fits = env.index.of_kind("", "Node").any(|n| {
            let View::Node(nv) = &n.view else {
                return false;
            };
            n.key.name != here
                && !nv.unschedulable
                && terms.iter().any(|term| {
                    term.get("matchExpressions")
                        .and_then(|e| e.as_array())
                        .is_some_and(|ex| ex.iter().all(|e| label_matches(&n.meta.labels, e)))
                })
        });
        if !other_fits {
            why.push("a required node affinity no other schedulable node matches".into());
        }
    }
    if env.from.within((1, 4, 1), Some((1, 7, 99))) {
        if t.list("/spec/domain/devices/disks")
            .iter()
            .any(|d| d.get("cdrom").is_some())
        {
            why.push("a CD-ROM disk".into());
        }
        if t.list("/spec/volumes")
            .iter()
            .any(|v| v.get("containerDisk").is_some())
        {
            why.push("a container disk".into());
        }
    }
    let _ = vmi;
    why
}

fn migration_exempt(env: &Env) -> Option<String> {
    let ns = nodes(env);
    let non_witness = ns
        .iter()
        .filter(|(_, o)| {
            o.meta
                .labels
                .get("node-role.harvesterhci.io/witness")
                .map(String::as_str)
                != Some("true")
        })
        .count();
    let count = if env.from.at_least((1, 6, 0)) {
        non_witness
    } else {
        ns.len()
    };
    if count == 1 {
        return Some("a single (non-witness) node: the check is skipped".into());
    }
    if env.from.at_least((1, 6, 0)) && restore_vm(env) {
        return Some("setting upgrade-config has restoreVM: true: VMs are shut down and restored, the check is skipped".into());
    }
    None
}

fn c24(env: &Env) -> Outcome {
    if let Some(why) = migration_exempt(env) {
        return Outcome::Exempt(why);
    }
    if !(env.collected)("kubevirt.io", "virtualmachineinstances") {
        return not_collected("virtualmachineinstances.kubevirt.io");
    }
    let bad: Vec<(usize, &Object, Vec<String>)> = env
        .index
        .of_kind("kubevirt.io", "VirtualMachineInstance")
        .filter_map(|o| {
            let t = tree(o)?;
            let why = non_migratable_reasons(env, o, t);
            if why.is_empty() {
                return None;
            }
            Some((env.index.position(&o.key)?, o, why))
        })
        .collect();
    let names: Vec<String> = bad
        .iter()
        .map(|(_, o, _)| format!("{}/{}", o.key.namespace, o.key.name))
        .collect();
    let message = format!(
        "There are non-live migratable VMs that need to be shut off before initiating the upgrade: {}",
        names.join(", ")
    );
    deny(
        bad.into_iter()
            .map(|(i, o, why)| {
                let node = tree(o)
                    .and_then(|t| t.str("/status/nodeName"))
                    .map(|n| format!(" on {n}"))
                    .unwrap_or_default();
                offender(
                    Some((i, o)),
                    format!(
                        "VM {}/{}{node} cannot live-migrate: {}",
                        o.key.namespace,
                        o.key.name,
                        why.join(", ")
                    ),
                    message.clone(),
                )
            })
            .collect(),
    )
}

fn c25(env: &Env) -> Outcome {
    if let Some(why) = migration_exempt(env) {
        return Outcome::Exempt(why);
    }
    let bad: Vec<(usize, &Object)> = env
        .index
        .of_kind("kubevirt.io", "VirtualMachine")
        .filter(|o| tree(o).is_some_and(|t| !t.list("/status/volumeRequests").is_empty()))
        .filter_map(|o| Some((env.index.position(&o.key)?, o)))
        .collect();
    let names: Vec<String> = bad
        .iter()
        .map(|(_, o)| format!("{}/{}", o.key.namespace, o.key.name))
        .collect();
    let message = format!(
        "There are VMs with pending volume hotplug requests (status.volumeRequests) which are no longer processed with the DeclarativeHotplugVolumes feature gate and block the VM reconciliation. Stop and start these VMs before initiating the upgrade: {}",
        names.join(", ")
    );
    deny(
        bad.into_iter()
            .map(|(i, o)| {
                offender(
                    Some((i, o)),
                    format!(
                        "VM {}/{} has pending volumeRequests",
                        o.key.namespace, o.key.name
                    ),
                    message.clone(),
                )
            })
            .collect(),
    )
}

fn c26(env: &Env) -> Outcome {
    if let Some(why) = migration_exempt(env) {
        return Outcome::Exempt(why);
    }
    let mut bad = Vec::new();
    for vmi in env.index.of_kind("kubevirt.io", "VirtualMachineInstance") {
        let Some(t) = tree(vmi) else { continue };
        let vm = env
            .index
            .find(
                "kubevirt.io",
                "VirtualMachine",
                &vmi.key.namespace,
                &vmi.key.name,
            )
            .and_then(tree);
        let spec_names: Vec<&str> = vm
            .map(|v| {
                v.list("/spec/template/spec/volumes")
                    .iter()
                    .filter_map(|x| x.get("name").and_then(|n| n.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let missing = t.list("/spec/volumes").iter().any(|v| {
            let hot = v
                .pointer("/persistentVolumeClaim/hotpluggable")
                .and_then(|h| h.as_bool())
                == Some(true)
                || v.pointer("/dataVolume/hotpluggable")
                    .and_then(|h| h.as_bool())
                    == Some(true);
            let name = v.get("name").and_then(|n| n.as_str()).unwrap_or("");
            hot && !spec_names.contains(&name)
        });
        if missing && let Some(i) = env.index.position(&vmi.key) {
            bad.push((i, vmi));
        }
    }
    let names: Vec<String> = bad
        .iter()
        .map(|(_, o)| format!("{}/{}", o.key.namespace, o.key.name))
        .collect();
    let message = format!(
        "There are running VMs with hot-plugged volumes that exist in the VMI but not in the VM spec. Such volumes are hot-unplugged automatically with the DeclarativeHotplugVolumes feature gate. Remove the volumes or make them persistent before initiating the upgrade: {}",
        names.join(", ")
    );
    deny(
        bad.into_iter()
            .map(|(i, o)| {
                offender(
                    Some((i, o)),
                    format!(
                        "VM {}/{} has a hot-plugged volume not in its spec",
                        o.key.namespace, o.key.name
                    ),
                    message.clone(),
                )
            })
            .collect(),
    )
}

fn c27(env: &Env) -> Outcome {
    let auto = env
        .index
        .find("harvesterhci.io", "Setting", "", "auto-rotate-rke2-certs")
        .and_then(|o| match &o.view {
            View::Setting(s) => s.effective().map(str::to_string),
            _ => None,
        });
    Outcome::NotEvaluated {
        reason: "needs a live TLS handshake with default/kubernetes to read the certificate's \
                 expiry (7 days minimum, or the Upgrade's harvesterhci.io/minCertsExpirationInDay)"
            .into(),
        proxy: Some(match auto {
            Some(v) => format!(
                "setting auto-rotate-rke2-certs is {v}; on a node, check with: for f in \
                 /var/lib/rancher/rke2/server/tls/*.crt; do openssl x509 -enddate -noout -in $f; done"
            ),
            None => "on a control-plane node: for f in /var/lib/rancher/rke2/server/tls/*.crt; \
                     do openssl x509 -enddate -noout -in $f; done"
                .into(),
        }),
        objects: Vec::new(),
    }
}
