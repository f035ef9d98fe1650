//! The Harvester upgrade admission webhook (`validator.harvesterhci.io`, Upgrade CREATE),
//! simulated check by check for the version running now (`reference/upgrade-blockers.md` §A).
//! The webhook stops at the first failure; here every check runs, in the webhook's order, and
//! each one that would deny carries the exact text the webhook would return. Checks that need
//! live data (kubelet stats, TLS handshakes) are not evaluated, with the reason and the best
//! proxy the bundle offers.
use super::Env;
use crate::facts::cluster;
use crate::facts::harvester::{self, AdmissionCheck, Judged};
use crate::facts::input::Input;
use crate::facts::version::{Version, guard};
use crate::index::Object;
use crate::model::condition;
use crate::model::typed::capi::{CapiCluster, CapiMachine};
use crate::model::typed::harvester::{Addon, HarvesterVersion, ScheduleVmBackup, VmBackup};
use crate::model::typed::kubevirt::{
    NodeSelectorRequirement, NodeSelectorTerm, VirtualMachine, Vmi,
};
use crate::model::typed::longhorn::LhVolume;
use crate::model::views::View;

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
    /// The running version has no such check.
    NotApplicable(String),
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

/// A check's result.
pub struct CheckResult {
    /// The check, from the table of Harvester behaviour.
    pub def: &'static AdmissionCheck,
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

/// The text check `id` of the running version returns for `case`, filled in. Only called from
/// a check that runs, so the version has the check; a case the version lacks gives `None`.
fn say(env: &Env, id: &str, case: &str, args: &[(&str, &str)]) -> Option<String> {
    harvester::denial(id, case, &env.from, args)
}

/// [`say`] for a case every version of the check has.
fn text(env: &Env, id: &str, case: &str, args: &[(&str, &str)]) -> String {
    say(env, id, case, args).unwrap_or_default()
}

/// How sbdiag evaluates each check of the table it simulates (or offers a proxy for).
fn evaluator(id: &str) -> Option<fn(&Env) -> Outcome> {
    Some(match id {
        "C1" => c1,
        "C2" => c2,
        "C3" => c3,
        "C4" => c4,
        "C7" => c7,
        "C8/C9" => c8,
        "C10" => c10,
        "C11" => c11,
        "C12" => c12,
        "C13" => c13,
        "C14" => c14,
        "C15" => c15,
        "C16" => c16,
        "C17" => c17,
        "C18" => c18,
        "C20" => c20,
        "C21" => c21,
        "C22" => c22,
        "C23" => c23,
        "C24" => c24,
        "C25" => c25,
        "C26" => c26,
        "C27" => c27,
        "C28" => c28,
        "A.5" => compat,
        _ => return None,
    })
}

/// The checks sbdiag judges (simulated, or live with a proxy), in the webhook's order, the
/// controller's version gate last.
pub fn judged() -> impl Iterator<Item = &'static AdmissionCheck> {
    harvester::admission()
        .iter()
        .filter(|c| c.judged != Judged::Recognised && evaluator(&c.id).is_some())
}

/// Runs every check sbdiag judges, in the webhook's order: a check the running version lacks
/// is [`Outcome::NotApplicable`]; one whose inputs were not collected is
/// [`Outcome::NotEvaluated`] without running (the engine decides, not the check); the version
/// gate A.5 only with a target.
pub fn evaluate(env: &Env) -> Vec<CheckResult> {
    judged()
        .map(|def| CheckResult {
            def,
            outcome: outcome(env, def),
        })
        .collect()
}

fn outcome(env: &Env, def: &'static AdmissionCheck) -> Outcome {
    if !def.exists_in(&env.from) {
        return Outcome::NotApplicable(format!(
            "{} has no such check (it exists in {})",
            env.from, def.versions
        ));
    }
    if def.id == "A.5" && env.to.is_none() {
        return Outcome::NotEvaluated {
            reason: "no target version: no Version object newer than the running version and no \
                     --to-version"
                .into(),
            proxy: None,
            objects: Vec::new(),
        };
    }
    let live = def.inputs.iter().any(|i| matches!(i, Input::Live(_)));
    if !live && let Some(reason) = def.inputs.iter().find_map(|i| (env.available)(*i).err()) {
        return Outcome::NotEvaluated {
            reason,
            proxy: None,
            objects: Vec::new(),
        };
    }
    match evaluator(&def.id) {
        Some(eval) => eval(env),
        None => Outcome::NotEvaluated {
            reason: "not simulated".into(),
            proxy: None,
            objects: Vec::new(),
        },
    }
}

fn compat(env: &Env) -> Outcome {
    let Some(to) = &env.to else {
        return Outcome::Exempt("no target version".into());
    };
    let min = to
        .object
        .and_then(|i| env.index.objects.get(i))
        .and_then(HarvesterVersion::of)
        .and_then(HarvesterVersion::min_upgradable_version)
        .map(Version::parse);
    let obj = to
        .object
        .and_then(|i| env.index.objects.get(i).map(|o| (i, o)));
    let path = format!("{} → {}", env.from, to.version);
    let refusal = if harvester::VERSION_GUARD.contains(&env.from) {
        guard(&env.from, &to.version, min.as_ref()).err()
    } else {
        match (env.from.num, min.as_ref().and_then(|m| m.num)) {
            (Some(f), Some(mn)) if f < mn => Some("min-version"),
            _ => None,
        }
    };
    match refusal {
        None => Outcome::Pass(format!(
            "{path} is allowed{}",
            min.map(|m| format!(" (minimum upgradable version {m})"))
                .unwrap_or_default()
        )),
        Some(case) => {
            let from = env.from.to_string();
            let m = min.map(|m| m.to_string()).unwrap_or_default();
            let message = text(env, "A.5", case, &[("from", &from), ("min", &m)]);
            deny(vec![offender(obj, path, message)])
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
    deny(vec![offender(
        None,
        format!("no Version object harvester-system/{}", to.version),
        text(env, "C2", "", &[("version", &to.version.to_string())]),
    )])
}

/// Upgrades whose upgradeState label is absent or not final.
pub fn unfinished_upgrades<'a>(env: &'a Env<'a>) -> Vec<(usize, &'a Object)> {
    crate::facts::upgrade::unfinished(env.index)
        .filter_map(|o| env.index.position(&o.key).map(|i| (i, o)))
        .collect()
}

/// Upgrades in harvester-system, by name.
pub fn upgrades<'a>(env: &'a Env<'a>) -> impl Iterator<Item = (usize, &'a Object)> + 'a {
    crate::facts::upgrade::all(env.index).filter_map(|o| env.index.position(&o.key).map(|i| (i, o)))
}

fn c3(env: &Env) -> Outcome {
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
                    text(env, "C3", "", &[("upgrade", &o.key.name)]),
                );
                off.focus = Some("harvesterhci.io/upgradeState".into());
                off
            })
            .collect(),
    )
}

fn c4(env: &Env) -> Outcome {
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
    let message = text(env, "C4", "", &[("upgrades", &names.join(","))]);
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

pub fn volumes<'a>(env: &'a Env<'a>) -> Vec<(usize, &'a Object, LhVolume<'a>)> {
    env.index
        .typed::<LhVolume>()
        .filter(|(o, _)| o.key.namespace == "longhorn-system")
        .filter_map(|(o, t)| env.index.position(&o.key).map(|i| (i, o, t)))
        .collect()
}

fn c7(env: &Env) -> Outcome {
    let n = nodes(env).len();
    if n < 3 {
        return Outcome::Exempt(format!(
            "{n} node(s): the webhook checks degraded volumes only with 3 or more nodes"
        ));
    }
    deny(
        volumes(env)
            .into_iter()
            .filter(|(_, _, t)| t.robustness() == Some("degraded"))
            .map(|(i, o, t)| {
                let mut off = offender(
                    Some((i, o)),
                    format!(
                        "Volume {} is degraded{}",
                        o.key.name,
                        t.pvc()
                            .map(|(ns, n)| format!(" (PVC {ns}/{n})"))
                            .unwrap_or_default()
                    ),
                    text(env, "C7", "", &[]),
                );
                off.focus = Some("robustness: degraded".into());
                off
            })
            .collect(),
    )
}

fn c8(env: &Env) -> Outcome {
    match env
        .index
        .find("cluster.x-k8s.io", "Cluster", "fleet-local", "local")
    {
        None => deny(vec![offender(
            None,
            "CAPI Cluster fleet-local/local is missing".into(),
            text(env, "C8/C9", "missing", &[]),
        )]),
        Some(o) => {
            let phase = CapiCluster::of(o)
                .and_then(CapiCluster::phase)
                .unwrap_or("")
                .to_string();
            let message = say(env, "C8/C9", "phase", &[("phase", &phase)]);
            let Some(message) = message.filter(|_| phase != "Provisioned") else {
                return Outcome::Pass(format!("phase {phase}"));
            };
            let mut off = offender(
                env.index.position(&o.key).map(|i| (i, o)),
                format!(
                    "CAPI Cluster fleet-local/local phase is {}",
                    if phase.is_empty() { "empty" } else { &phase }
                ),
                message,
            );
            off.focus = Some("phase:".into());
            deny(vec![off])
        }
    }
}

fn c10(env: &Env) -> Outcome {
    let nil_status_counts = harvester::BACKUP_WITHOUT_STATUS_IN_PROGRESS.contains(&env.from);
    deny(
        env.index
            .typed::<VmBackup>()
            .filter_map(|(o, t)| {
                // Go pointers: an empty `status: {}` or `error: {}` is there all the same.
                let no_status = !t.has_status();
                let error = t.has_error();
                let ready = t.ready_to_use() == Some(true);
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
                            t.backup_type().unwrap_or("backup"),
                            o.key.namespace,
                            o.key.name,
                            t.ready_to_use()
                                .map(|b| b.to_string())
                                .unwrap_or_else(|| "unset".into())
                        ),
                        text(
                            env,
                            "C10",
                            "",
                            &[("backup", &format!("{}/{}", o.key.namespace, o.key.name))],
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
    deny(
        env.index
            .typed::<ScheduleVmBackup>()
            // The webhook's index formats status.suspended: an unset field reads false.
            .filter(|(_, t)| t.suspended() != Some(true))
            .map(|(o, t)| {
                let mut off = offender(
                    env.index.position(&o.key).map(|i| (i, o)),
                    format!(
                        "schedule {}/{} is active (cron {})",
                        o.key.namespace,
                        o.key.name,
                        t.cron().unwrap_or("?")
                    ),
                    text(
                        env,
                        "C11",
                        "",
                        &[("schedule", &format!("{}/{}", o.key.namespace, o.key.name))],
                    ),
                );
                off.focus = Some("suspended".into());
                off
            })
            .collect(),
    )
}

fn c12(env: &Env) -> Outcome {
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
                                .map(|m| format!(": {}", crate::text::one_line(m, 160)))
                                .unwrap_or_default()
                        ),
                        harvester::managed_chart_denial(&o.key.name, &env.from).unwrap_or_default(),
                    );
                    off.focus = Some("type: Ready".into());
                    off
                })
            })
            .collect(),
    )
}

fn c13(env: &Env) -> Outcome {
    deny(
        env.index
            .typed::<Addon>()
            .filter_map(|(o, t)| {
                let enabled = t.enabled() == Some(true);
                let status = t.status().unwrap_or("");
                let bad = if enabled {
                    status != "AddonDeploySuccessful"
                } else {
                    !(status.is_empty() || status == "AddonDisabled")
                };
                bad.then(|| {
                    let word = if enabled { "enabled" } else { "disabled" };
                    offender(
                        env.index.position(&o.key).map(|i| (i, o)),
                        format!(
                            "addon {}/{} {word}, status {status:?}",
                            o.key.namespace, o.key.name
                        ),
                        text(
                            env,
                            "C13",
                            "",
                            &[
                                ("addon", &format!("{}/{}", o.key.namespace, o.key.name)),
                                ("enabled", word),
                                ("status", status),
                            ],
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
                // The webhook's loop judges the first Ready condition; a node without one
                // passes (as in C12).
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
                        text(env, "C14", "", &[("node", &o.key.name)]),
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
                        text(env, "C15", "", &[("node", &o.key.name)]),
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
                    text(env, "C16", "", &[("node", &o.key.name)]),
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

pub fn machines<'a>(env: &'a Env<'a>) -> Vec<(usize, &'a Object, CapiMachine<'a>)> {
    env.index
        .typed::<CapiMachine>()
        .filter(|(o, _)| o.key.namespace == "fleet-local")
        .filter_map(|(o, t)| Some((env.index.position(&o.key)?, o, t)))
        .collect()
}

fn c20(env: &Env) -> Outcome {
    deny(
        machines(env)
            .into_iter()
            .filter(|(_, _, t)| t.phase() != Some("Running"))
            .map(|(i, o, t)| {
                let mut off = offender(
                    Some((i, o)),
                    format!(
                        "machine {}/{} phase {}{}",
                        o.key.namespace,
                        o.key.name,
                        t.phase().unwrap_or("(none)"),
                        t.node_ref_name()
                            .map(|n| format!(", node {n}"))
                            .unwrap_or_else(|| ", no node".into())
                    ),
                    text(
                        env,
                        "C20",
                        "",
                        &[("machine", &format!("{}/{}", o.key.namespace, o.key.name))],
                    ),
                );
                off.focus = Some("phase:".into());
                off
            })
            .collect(),
    )
}

fn c21(env: &Env) -> Outcome {
    let ns = nodes(env);
    let ms = machines(env);
    if ns.is_empty() {
        return deny(vec![offender(
            None,
            "no node listed".into(),
            text(env, "C21", "no-node", &[]),
        )]);
    }
    if ns.len() != ms.len() {
        let nn: Vec<&str> = ns.iter().map(|(_, o)| o.key.name.as_str()).collect();
        let mm: Vec<&str> = ms.iter().map(|(_, o, _)| o.key.name.as_str()).collect();
        return deny(vec![
            offender(
                None,
                format!("{} nodes but {} machines", ns.len(), ms.len()),
                text(
                    env,
                    "C21",
                    "count",
                    &[
                        ("nodes", &ns.len().to_string()),
                        ("machines", &ms.len().to_string()),
                    ],
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
        if t.node_ref_name().is_none() {
            offs.push(offender(
                Some((*i, o)),
                format!("machine {} has no nodeRef", o.key.name),
                text(env, "C21", "empty-noderef", &[("machine", &o.key.name)]),
            ));
        }
    }
    for (i, o) in &ns {
        let name = &o.key.name;
        if o.meta.labels.is_empty() {
            offs.push(offender(
                Some((*i, o)),
                format!("node {name} has no labels"),
                text(env, "C21", "no-labels", &[("node", name)]),
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
                text(env, "C21", "no-managed-label", &[("node", name)]),
            ));
            continue;
        }
        if o.meta.annotations.is_empty() {
            offs.push(offender(
                Some((*i, o)),
                format!("node {name} has no annotations"),
                text(env, "C21", "no-annotations", &[("node", name)]),
            ));
            continue;
        }
        // An empty value is no annotation (`mc == ""`).
        let Some(m) = o
            .meta
            .annotations
            .get("cluster.x-k8s.io/machine")
            .filter(|m| !m.is_empty())
        else {
            offs.push(offender(
                Some((*i, o)),
                format!("node {name} lacks annotation cluster.x-k8s.io/machine"),
                text(env, "C21", "no-machine-annotation", &[("node", name)]),
            ));
            continue;
        };
        match ms.iter().find(|(_, mo, _)| mo.key.name == *m) {
            None => offs.push(offender(
                Some((*i, o)),
                format!("node {name} refers to missing machine {m}"),
                text(
                    env,
                    "C21",
                    "missing-machine",
                    &[("node", name), ("machine", m)],
                ),
            )),
            Some((_, _, mt)) => {
                let other = mt.node_ref_name().unwrap_or("");
                if other != name {
                    offs.push(offender(
                        Some((*i, o)),
                        format!("node {name} refers to machine {m}, which refers to {other}"),
                        text(
                            env,
                            "C21",
                            "other-node",
                            &[("node", name), ("machine", m), ("other", other)],
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
        .filter(|(_, _, t)| t.number_of_replicas() == Some(1))
        .filter(|(_, _, t)| {
            !active_only || matches!(t.state(), Some("creating" | "attached" | "attaching"))
        })
        .map(|(i, o, t)| {
            let pvc = format!(
                "{}/{}",
                t.pvc_namespace().unwrap_or(""),
                t.pvc_name().unwrap_or("")
            );
            (i, o, pvc)
        })
        .collect()
}

fn replica_check(env: &Env, active_only: bool, id: &str) -> Outcome {
    if nodes(env).len() == 1 {
        return Outcome::Exempt("single-node cluster: the check is skipped".into());
    }
    let vols = single_replica(env, active_only);
    let list: Vec<&str> = vols.iter().map(|(_, _, p)| p.as_str()).collect();
    let message = text(env, id, "", &[("pvcs", &list.join(", "))]);
    deny(
        vols.iter()
            .map(|(i, o, pvc)| {
                let state = env
                    .index
                    .objects
                    .get(*i)
                    .and_then(LhVolume::of)
                    .and_then(LhVolume::state)
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
    replica_check(env, true, "C22")
}

fn c23(env: &Env) -> Outcome {
    replica_check(env, false, "C23")
}

/// Whether the `upgrade-config` setting turns `restoreVM` on, as Harvester reads it.
pub fn restore_vm(env: &Env) -> bool {
    cluster::upgrade_config(env.index).is_some_and(|c| c.restore_vm())
}

fn label_matches(labels: &crate::model::StrMap, expr: NodeSelectorRequirement) -> bool {
    let key = expr.key().unwrap_or("");
    let op = expr.operator().unwrap_or("");
    let values: Vec<&str> = expr.values().collect();
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

/// Whether a node matches a term of a required node affinity, as Kubernetes'
/// `MatchNodeSelectorTerms` reads it: every expression on its labels and every field
/// requirement holds, and a term with neither selects no node.
fn term_matches(node: &Object, term: NodeSelectorTerm) -> bool {
    let mut exprs = term.match_expressions().peekable();
    let mut fields = term.match_fields().peekable();
    if exprs.peek().is_none() && fields.peek().is_none() {
        return false;
    }
    exprs.all(|e| label_matches(&node.meta.labels, e))
        && fields.all(|f| field_matches(&node.key.name, f))
}

/// A `matchFields` requirement: the only node field is `metadata.name`, and the only
/// operators are `In`/`NotIn` with one value (Kubernetes refuses anything else as an error,
/// which matches no node here).
fn field_matches(node_name: &str, req: NodeSelectorRequirement) -> bool {
    let value = if req.key() == Some("metadata.name") {
        node_name
    } else {
        ""
    };
    let values: Vec<&str> = req.values().collect();
    match (req.operator(), values.as_slice()) {
        (Some("In"), [v]) => value == *v,
        (Some("NotIn"), [v]) => value != *v,
        _ => false,
    }
}

/// Why a VMI cannot live-migrate, per the webhook's helper (empty when it can).
fn non_migratable_reasons(env: &Env, t: Vmi) -> Vec<String> {
    let mut why = Vec::new();
    if t.has_node_selector() {
        why.push("a nodeSelector".to_string());
    }
    let host_devices = if harvester::MIGRATION_CHECK_COUNTS_EMPTY_HOST_DEVICES.contains(&env.from) {
        t.host_devices_set()
    } else {
        t.has_host_devices()
    };
    if host_devices {
        why.push("host devices (PCI/USB passthrough)".into());
    }
    // `migratableByNodeAffinity`: the VMI can move to a node other than its own that is
    // schedulable and, when it has a required node affinity, matches it; with no such node it
    // cannot migrate, affinity or not. Witness nodes are no candidates from v1.6.
    let skip_witness = harvester::RESTORE_VM_AND_WITNESS_AWARE.contains(&env.from);
    let here = t.node_name().unwrap_or("");
    let affinity = t.has_required_node_affinity();
    let terms: Vec<NodeSelectorTerm> = t.required_node_selector_terms().collect();
    let candidates: Vec<(usize, &Object)> = nodes(env)
        .into_iter()
        .filter(|(_, n)| !(skip_witness && cluster::is_witness(n)))
        .collect();
    let fits = candidates.iter().any(|(_, n)| {
        let View::Node(nv) = &n.view else {
            return false;
        };
        n.key.name != here
            && !nv.unschedulable
            && (!affinity || terms.iter().any(|term| term_matches(n, *term)))
    });
    if !fits {
        let other = if skip_witness && candidates.len() < nodes(env).len() {
            "other schedulable non-witness node"
        } else {
            "other schedulable node"
        };
        why.push(if affinity {
            format!("a required node affinity no {other} matches")
        } else {
            format!("no {other} to move to")
        });
    }
    if harvester::MIGRATION_CHECK_COUNTS_CDROM.contains(&env.from) {
        if t.disks().any(|d| d.is_cdrom()) {
            why.push("a CD-ROM disk".into());
        }
        if t.volumes().any(|v| v.is_container_disk()) {
            why.push("a container disk".into());
        }
    }
    why
}

fn migration_exempt(env: &Env) -> Option<String> {
    let ns = nodes(env);
    let non_witness = ns.iter().filter(|(_, o)| !cluster::is_witness(o)).count();
    let aware = harvester::RESTORE_VM_AND_WITNESS_AWARE.contains(&env.from);
    let count = if aware { non_witness } else { ns.len() };
    if count == 1 {
        return Some("a single (non-witness) node: the check is skipped".into());
    }
    if aware && restore_vm(env) {
        return Some("setting upgrade-config has restoreVM: true: VMs are shut down and restored, the check is skipped".into());
    }
    None
}

fn c24(env: &Env) -> Outcome {
    if let Some(why) = migration_exempt(env) {
        return Outcome::Exempt(why);
    }
    let bad: Vec<(usize, &Object, Vec<String>)> = env
        .index
        .typed::<Vmi>()
        .filter_map(|(o, t)| {
            let why = non_migratable_reasons(env, t);
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
    let message = text(env, "C24", "", &[("vms", &names.join(", "))]);
    deny(
        bad.into_iter()
            .map(|(i, o, why)| {
                let node = Vmi::of(o)
                    .and_then(Vmi::node_name)
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
        .typed::<VirtualMachine>()
        .filter(|(_, t)| t.has_volume_requests())
        .filter_map(|(o, _)| Some((env.index.position(&o.key)?, o)))
        .collect();
    let names: Vec<String> = bad
        .iter()
        .map(|(_, o)| format!("{}/{}", o.key.namespace, o.key.name))
        .collect();
    let message = text(env, "C25", "", &[("vms", &names.join(", "))]);
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
    for (vmi, t) in env.index.typed::<Vmi>() {
        let vm = env
            .index
            .find(
                "kubevirt.io",
                "VirtualMachine",
                &vmi.key.namespace,
                &vmi.key.name,
            )
            .and_then(VirtualMachine::of);
        let spec_names: Vec<&str> = vm
            .map(|v| v.template_volume_names().collect())
            .unwrap_or_default();
        let missing = t
            .volumes()
            .any(|v| v.hotpluggable() && !spec_names.contains(&v.name().unwrap_or("")));
        if missing && let Some(i) = env.index.position(&vmi.key) {
            bad.push((i, vmi));
        }
    }
    let names: Vec<String> = bad
        .iter()
        .map(|(_, o)| format!("{}/{}", o.key.namespace, o.key.name))
        .collect();
    let message = text(env, "C26", "", &[("vms", &names.join(", "))]);
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
    let auto = cluster::setting(env.index, "harvesterhci.io", "auto-rotate-rke2-certs");
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

/// C28: before the certificate check (C27) the webhook reads the API server's addresses:
/// the Endpoints object default/kubernetes (to v1.8.x; absent, the lister's error is the
/// text), or the ready IPv4 endpoints of its EndpointSlices (v1.9.0+). None: it refuses.
fn c28(env: &Env) -> Outcome {
    use crate::model::typed::core::{EndpointSlice, Endpoints};
    let index = env.index;
    let no_ip = |o: Option<(usize, &Object)>, what: String| {
        deny(vec![offender(o, what, text(env, "C28", "no-ip", &[]))])
    };
    // default/kubernetes is always there; an absence means only something when the namespace
    // was collected at all.
    if !index.objects.iter().any(|o| o.key.namespace == "default") {
        return Outcome::NotEvaluated {
            reason: "nothing of namespace default was collected, where default/kubernetes's \
                     addresses are"
                .into(),
            proxy: None,
            objects: Vec::new(),
        };
    }
    if harvester::KUBERNETES_IPS_FROM_ENDPOINT_SLICES.contains(&env.from) {
        let slices: Vec<(usize, &Object)> = index
            .of_kind("discovery.k8s.io", "EndpointSlice")
            .filter(|o| {
                o.key.namespace == "default"
                    && o.meta
                        .labels
                        .get("kubernetes.io/service-name")
                        .map(String::as_str)
                        == Some("kubernetes")
            })
            .filter_map(|o| index.position(&o.key).map(|i| (i, o)))
            .collect();
        let ips: std::collections::BTreeSet<&str> = slices
            .iter()
            .filter_map(|(_, o)| EndpointSlice::of(*o))
            .filter(|s| s.address_type() == Some("IPv4"))
            .flat_map(EndpointSlice::endpoints)
            .filter(|e| e.ready())
            .flat_map(|e| e.addresses())
            .collect();
        return match ips.len() {
            0 => no_ip(
                slices.first().copied(),
                format!(
                    "default/kubernetes has no ready IPv4 endpoint in its {} EndpointSlice(s)",
                    slices.len()
                ),
            ),
            n => Outcome::Pass(format!(
                "default/kubernetes's EndpointSlices list {n} ready IPv4 address(es)"
            )),
        };
    }
    let Some(ep) = index.find("", "Endpoints", "default", "kubernetes") else {
        return deny(vec![offender(
            None,
            "Endpoints default/kubernetes is not in the capture".into(),
            text(
                env,
                "C28",
                "list",
                &[("err", "endpoints \"kubernetes\" not found")],
            ),
        )]);
    };
    let ready = Endpoints::of(ep)
        .into_iter()
        .flat_map(Endpoints::addresses)
        .filter(|a| a.ready() && a.ip().is_some())
        .count();
    let at = index.position(&ep.key).map(|i| (i, ep));
    match ready {
        0 => no_ip(
            at,
            "Endpoints default/kubernetes has no ready address".into(),
        ),
        n => Outcome::Pass(format!(
            "Endpoints default/kubernetes lists {n} ready address(es)"
        )),
    }
}

#[cfg(test)]
mod tests {
    //! Every check the table judges, against `reference/upgrade-blockers.md` §A: the exact text
    //! of each version range (written out here from the reference, not taken from the table),
    //! a pass on a healthy cluster, not applicable just outside its versions, not evaluated
    //! without its declared inputs.
    use serde_json::json;

    use super::*;
    use crate::facts::input::lists;
    use crate::upgrade::testkit::*;

    /// The outcome of check `id` on `w` running `from`, upgrading to `to`.
    fn run(w: &World, from: &str, to: Option<&str>, id: &str) -> Outcome {
        w.env(from, to, |env| {
            evaluate(env)
                .into_iter()
                .find(|r| r.def.id == id)
                .unwrap_or_else(|| panic!("{id} is judged"))
                .outcome
        })
    }

    fn check(w: &World, from: &str, id: &str) -> Outcome {
        run(w, from, None, id)
    }

    /// The message and offenders of a denial.
    #[track_caller]
    fn denied(o: Outcome) -> (String, Vec<Offender>) {
        match o {
            Outcome::Deny { message, offenders } => (message, offenders),
            other => panic!("expected a denial, got {other:?}"),
        }
    }

    #[track_caller]
    fn denies_with(o: Outcome, text: &str) {
        assert_eq!(denied(o).0, text);
    }

    #[track_caller]
    fn passes(o: Outcome) {
        assert!(matches!(o, Outcome::Pass(_)), "expected a pass, got {o:?}");
    }

    #[track_caller]
    fn exempt(o: Outcome) -> String {
        match o {
            Outcome::Exempt(why) => why,
            other => panic!("expected an exemption, got {other:?}"),
        }
    }

    #[track_caller]
    fn not_applicable(w: &World, from: &str, id: &str) {
        let o = check(w, from, id);
        assert!(
            matches!(o, Outcome::NotApplicable(_)),
            "{id} on {from}: expected not applicable, got {o:?}"
        );
    }

    #[track_caller]
    fn not_evaluated(o: Outcome) -> (String, Option<String>, Vec<usize>) {
        match o {
            Outcome::NotEvaluated {
                reason,
                proxy,
                objects,
            } => (reason, proxy, objects),
            other => panic!("expected not evaluated, got {other:?}"),
        }
    }

    fn with(mut base: Vec<serde_json::Value>, more: &[serde_json::Value]) -> World {
        base.extend(more.iter().cloned());
        World::new(&base)
    }

    #[test]
    fn judges_every_check_of_the_table_in_the_webhooks_order() {
        let ids: Vec<&str> = judged().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "C1", "C2", "C3", "C4", "C7", "C8/C9", "C10", "C11", "C12", "C13", "C14", "C15",
                "C16", "C17", "C18", "C20", "C21", "C22", "C23", "C24", "C25", "C26", "C27", "C28",
                "A.5"
            ]
        );
    }

    #[test]
    fn a_healthy_cluster_passes_every_check_of_every_version() {
        let w = with(
            cluster(3),
            &[
                version_object("v9.0.0", Some("v1.0.0")),
                volume("pvc-a", 3, "attached", "healthy"),
                vmi("vm1", "n1"),
                vm("vm1"),
                upgrade("hvst-upgrade-old", Some("Succeeded"), Some("True")),
                kubernetes_endpoints(json!([{"ip": "10.0.0.11"}])),
                kubernetes_slice(Some(true), "IPv4"),
            ],
        );
        for from in [
            "v1.1.2", "v1.2.2", "v1.3.2", "v1.4.0", "v1.4.1", "v1.5.0", "v1.5.1", "v1.6.0",
            "v1.7.0", "v1.8.2", "v1.9.0",
        ] {
            let results = w.env(from, Some("v9.0.0"), |env| {
                evaluate(env)
                    .into_iter()
                    .map(|r| (r.def, r.outcome))
                    .collect::<Vec<_>>()
            });
            for (def, o) in results {
                match (def.judged, def.exists_in(&Version::parse(from))) {
                    (_, false) => assert!(
                        matches!(o, Outcome::NotApplicable(_)),
                        "{} on {from}: {o:?}",
                        def.id
                    ),
                    (Judged::Live, true) => assert!(
                        matches!(o, Outcome::NotEvaluated { .. }),
                        "{} on {from}: {o:?}",
                        def.id
                    ),
                    (_, true) => {
                        assert!(matches!(o, Outcome::Pass(_)), "{} on {from}: {o:?}", def.id)
                    }
                }
            }
        }
    }

    #[test]
    fn a_missing_declared_input_is_not_evaluated_before_the_check_runs() {
        // The chart is not Ready, but without the list the check must not judge it.
        let w = with(
            cluster(3),
            &[managed_chart("fleet-local", "harvester-crd", Some("False"))],
        )
        .without(lists::MANAGED_CHARTS);
        let (reason, proxy, _) = not_evaluated(check(&w, "v1.4.0", "C12"));
        assert_eq!(
            reason,
            "managedcharts.management.cattle.io was not collected"
        );
        assert_eq!(proxy, None);
        // Any one of several declared inputs is enough.
        let w = with(cluster(3), &[vmi("vm1", "n1")]).without(lists::SETTINGS);
        let (reason, ..) = not_evaluated(check(&w, "v1.6.0", "C24"));
        assert!(reason.contains("settings.harvesterhci.io"), "{reason}");
        let w = World::new(&cluster(3)).without(lists::NODES);
        for id in ["C7", "C14", "C15", "C16", "C21", "C22"] {
            let from = if id == "C21" { "v1.5.1" } else { "v1.4.0" };
            not_evaluated(check(&w, from, id));
        }
        // A check the version lacks stays not applicable, inputs or not.
        not_applicable(&w, "v1.4.0", "C21");
    }

    #[test]
    fn c1_a_simulated_upgrade_names_its_version() {
        let w = World::new(&cluster(3));
        passes(run(&w, "v1.4.0", Some("v1.4.1"), "C1"));
        passes(check(&w, "v1.0.0", "C1"));
        not_applicable(&w, "v0.3.0", "C1");
        assert_eq!(
            harvester::denial("C1", "", &Version::parse("v1.0.0"), &[]).as_deref(),
            Some("version or image field are not specified.")
        );
    }

    #[test]
    fn c2_the_target_version_object_must_exist() {
        let w = with(cluster(3), &[version_object("v1.4.1", None)]);
        passes(run(&w, "v1.4.0", Some("v1.4.1"), "C2"));
        denies_with(
            run(&w, "v1.4.0", Some("v1.5.0"), "C2"),
            "version v1.5.0 is not found",
        );
        denies_with(
            run(&w, "v1.2.0", Some("v1.5.0"), "C2"),
            "version v1.5.0 is not found",
        );
        // Without a target there is no Upgrade to judge.
        not_evaluated(check(&w, "v1.4.0", "C2"));
        assert!(matches!(
            run(&w, "v1.1.2", Some("v1.5.0"), "C2"),
            Outcome::NotApplicable(_)
        ));
        let w = w.without(lists::VERSIONS);
        not_evaluated(run(&w, "v1.4.0", Some("v1.5.0"), "C2"));
    }

    #[test]
    fn c3_an_upgrade_not_succeeded_or_failed_blocks_even_without_a_state_label() {
        let ok = with(
            cluster(3),
            &[
                upgrade("hvst-upgrade-a", Some("Succeeded"), Some("True")),
                upgrade("hvst-upgrade-b", Some("Failed"), Some("False")),
            ],
        );
        passes(check(&ok, "v1.4.0", "C3"));
        let w = with(
            cluster(3),
            &[upgrade(
                "hvst-upgrade-a",
                Some("UpgradingNodes"),
                Some("Unknown"),
            )],
        );
        for from in ["v1.0.0", "v1.4.0", "v1.9.0"] {
            denies_with(
                check(&w, from, "C3"),
                "cannot proceed until previous upgrade \"hvst-upgrade-a\" completes",
            );
        }
        // A `notin` selector matches an Upgrade without the label.
        let w = with(cluster(3), &[upgrade("hvst-upgrade-x", None, None)]);
        let (message, offenders) = denied(check(&w, "v1.4.0", "C3"));
        assert_eq!(
            message,
            "cannot proceed until previous upgrade \"hvst-upgrade-x\" completes"
        );
        assert!(offenders[0].what.contains("no upgradeState label"));
        not_applicable(&w, "v0.3.0", "C3");
    }

    #[test]
    fn c4_upgrades_waiting_for_cleanup_from_v1_7() {
        let pending = |n: &str| {
            set(
                upgrade(n, Some("Succeeded"), Some("True")),
                "/metadata/labels/harvesterhci.io~1upgradeCleanup",
                json!("Pending"),
            )
        };
        let w = with(
            cluster(3),
            &[pending("hvst-upgrade-a"), pending("hvst-upgrade-b")],
        );
        let (message, offenders) = denied(check(&w, "v1.7.0", "C4"));
        assert_eq!(
            message,
            "cannot proceed until the following upgrades completed their cleanup process: \
             hvst-upgrade-a,hvst-upgrade-b"
        );
        assert_eq!(offenders.len(), 2);
        not_applicable(&w, "v1.6.1", "C4");
        let done = set(
            upgrade("hvst-upgrade-a", Some("Succeeded"), Some("True")),
            "/metadata/labels/harvesterhci.io~1upgradeCleanup",
            json!("Succeeded"),
        );
        passes(check(&with(cluster(3), &[done]), "v1.7.0", "C4"));
    }

    #[test]
    fn c7_degraded_volumes_block_only_with_three_nodes_witness_included() {
        let degraded = volume("pvc-a", 3, "attached", "degraded");
        let text = "there are degraded volumes, please check all volumes are healthy";
        denies_with(
            check(
                &with(cluster(3), std::slice::from_ref(&degraded)),
                "v1.1.0",
                "C7",
            ),
            text,
        );
        // Two nodes: never blocked (issue #6425).
        let why = exempt(check(
            &with(cluster(2), std::slice::from_ref(&degraded)),
            "v1.4.0",
            "C7",
        ));
        assert!(why.starts_with("2 node(s)"), "{why}");
        // A witness counts as a node.
        let mut objs = cluster(2);
        objs.push(witness("w1"));
        objs.push(machine("m-w1", "w1"));
        denies_with(check(&with(objs, &[degraded]), "v1.4.0", "C7"), text);
        // Detached volumes are not degraded.
        passes(check(
            &with(cluster(3), &[volume("pvc-b", 3, "detached", "unknown")]),
            "v1.4.0",
            "C7",
        ));
        not_applicable(&World::new(&cluster(3)), "v1.0.3", "C7");
    }

    #[test]
    fn c8_c9_the_capi_cluster_must_exist_and_from_v1_1_2_be_provisioned() {
        let objs = |phase: &str| {
            let mut v = cluster(3);
            v.retain(|o| o["kind"] != "Cluster");
            v.push(capi_cluster(phase));
            World::new(&v)
        };
        for from in ["v1.1.2", "v1.4.0", "v1.9.0"] {
            denies_with(
                check(&objs("Provisioning"), from, "C8/C9"),
                "cluster fleet-local/local status is Provisioning, please wait for it to be \
                 provisioned",
            );
        }
        // An empty phase fails too.
        denies_with(
            check(&objs(""), "v1.4.0", "C8/C9"),
            "cluster fleet-local/local status is , please wait for it to be provisioned",
        );
        // v1.1.0 and v1.1.1 only check that the cluster exists.
        passes(check(&objs("Provisioning"), "v1.1.1", "C8/C9"));
        let mut none = cluster(3);
        none.retain(|o| o["kind"] != "Cluster");
        let none = World::new(&none);
        for from in ["v1.1.0", "v1.4.0"] {
            let (message, _) = denied(check(&none, from, "C8/C9"));
            assert!(
                message.starts_with("can't find fleet-local/local cluster, err: "),
                "{message}"
            );
        }
        passes(check(&objs("Provisioned"), "v1.4.0", "C8/C9"));
        not_applicable(&none, "v1.0.3", "C8/C9");
    }

    fn backup(name: &str, status: Option<serde_json::Value>) -> serde_json::Value {
        let mut b = json!({
            "apiVersion": "harvesterhci.io/v1beta1",
            "kind": "VirtualMachineBackup",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"type": "backup", "source": {"kind": "VirtualMachine", "name": "vm1"}},
        });
        if let Some(s) = status {
            b["status"] = s;
        }
        b
    }

    #[test]
    fn c10_backups_in_progress_and_a_missing_status_only_in_v1_4() {
        let text = "please wait until all vmbackups are stopped, for example default/b1 is under \
                    processing";
        let running = backup("b1", Some(json!({"readyToUse": false})));
        for from in ["v1.4.0", "v1.5.0", "v1.9.0"] {
            denies_with(
                check(
                    &with(cluster(3), std::slice::from_ref(&running)),
                    from,
                    "C10",
                ),
                text,
            );
        }
        // readyToUse missing counts as not ready.
        denies_with(
            check(
                &with(cluster(3), &[backup("b1", Some(json!({"progress": 10})))]),
                "v1.5.0",
                "C10",
            ),
            text,
        );
        // An error or readyToUse true ends it.
        for done in [
            json!({"readyToUse": true}),
            json!({"readyToUse": false, "error": {"message": "target unreachable"}}),
        ] {
            passes(check(
                &with(cluster(3), &[backup("b1", Some(done))]),
                "v1.4.0",
                "C10",
            ));
        }
        // No status at all: in progress for v1.4.x's IsBackupProgressing only.
        let bare = with(cluster(3), &[backup("b1", None)]);
        denies_with(check(&bare, "v1.4.0", "C10"), text);
        denies_with(check(&bare, "v1.4.3", "C10"), text);
        passes(check(&bare, "v1.5.0", "C10"));
        not_applicable(&bare, "v1.3.2", "C10");
        // An empty status is a status (a non-nil pointer): no error, readyToUse missing.
        let empty = with(cluster(3), &[backup("b1", Some(json!({})))]);
        denies_with(check(&empty, "v1.5.0", "C10"), text);
        // An empty error is an error all the same.
        passes(check(
            &with(
                cluster(3),
                &[backup(
                    "b1",
                    Some(json!({"readyToUse": false, "error": {}})),
                )],
            ),
            "v1.5.0",
            "C10",
        ));
    }

    #[test]
    fn c11_every_schedule_must_be_suspended() {
        let schedule = |suspended: Option<bool>| {
            let mut s = json!({
                "apiVersion": "harvesterhci.io/v1beta1",
                "kind": "ScheduleVMBackup",
                "metadata": {"name": "s1", "namespace": "default"},
                "spec": {"cron": "0 * * * *"},
                "status": {},
            });
            if let Some(b) = suspended {
                s["status"]["suspended"] = json!(b);
            }
            s
        };
        let text = "please suspend all backup/snapshot schedule, for example default/s1 is running";
        denies_with(
            check(&with(cluster(3), &[schedule(Some(false))]), "v1.4.0", "C11"),
            text,
        );
        denies_with(
            check(&with(cluster(3), &[schedule(None)]), "v1.8.2", "C11"),
            text,
        );
        let w = with(cluster(3), &[schedule(Some(true))]);
        passes(check(&w, "v1.4.0", "C11"));
        not_applicable(&w, "v1.3.2", "C11");
    }

    #[test]
    fn c12_every_managed_chart_in_fleet_local_by_its_first_ready_condition() {
        let w = with(
            cluster(3),
            &[managed_chart(
                "fleet-local",
                "rancher-monitoring-crd",
                Some("False"),
            )],
        );
        for from in ["v1.1.2", "v1.4.0", "v1.6.1"] {
            denies_with(
                check(&w, from, "C12"),
                "managed chart rancher-monitoring-crd is not ready, please wait for it to be ready",
            );
        }
        for from in ["v1.7.0", "v1.9.0"] {
            denies_with(
                check(&w, from, "C12"),
                "managed chart rancher-monitoring-crd is not ready, please wait for it to be \
                 ready or fix it",
            );
        }
        not_applicable(&w, "v1.1.1", "C12");
        // No Ready condition passes; other namespaces are not read.
        passes(check(
            &with(
                cluster(3),
                &[
                    managed_chart("fleet-local", "harvester-crd", None),
                    managed_chart("fleet-default", "other", Some("False")),
                ],
            ),
            "v1.4.0",
            "C12",
        ));
        // The first Ready condition decides.
        let two = set(
            managed_chart("fleet-local", "harvester-crd", Some("Unknown")),
            "/status/conditions/1",
            json!({"type": "Ready", "status": "True"}),
        );
        denies_with(
            check(&with(cluster(3), &[two]), "v1.4.0", "C12"),
            "managed chart harvester-crd is not ready, please wait for it to be ready",
        );
    }

    fn addon(name: &str, enabled: bool, status: &str) -> serde_json::Value {
        json!({
            "apiVersion": "harvesterhci.io/v1beta1",
            "kind": "Addon",
            "metadata": {"name": name, "namespace": "harvester-system"},
            "spec": {"enabled": enabled, "chart": name},
            "status": {"status": status},
        })
    }

    #[test]
    fn c13_addons_enabled_and_deployed_or_disabled() {
        denies_with(
            check(
                &with(cluster(3), &[addon("vcluster", true, "AddonDeploying")]),
                "v1.7.0",
                "C13",
            ),
            "addon harvester-system/vcluster is enabled but still on status AddonDeploying, \
             please wait for it to be ready or fix it",
        );
        denies_with(
            check(
                &with(
                    cluster(3),
                    &[addon("vcluster", false, "AddonDeploySuccessful")],
                ),
                "v1.9.0",
                "C13",
            ),
            "addon harvester-system/vcluster is disabled but still on status \
             AddonDeploySuccessful, please wait for it to be ready or fix it",
        );
        let ok = with(
            cluster(3),
            &[
                addon("a", true, "AddonDeploySuccessful"),
                addon("b", false, "AddonDisabled"),
                addon("c", false, ""),
            ],
        );
        passes(check(&ok, "v1.7.0", "C13"));
        not_applicable(
            &with(cluster(3), &[addon("vcluster", true, "AddonDeploying")]),
            "v1.6.1",
            "C13",
        );
    }

    /// A three-node cluster whose node n2 is changed by `f`.
    fn n2(f: impl Fn(serde_json::Value) -> serde_json::Value) -> World {
        let objs: Vec<serde_json::Value> = cluster(3)
            .into_iter()
            .map(|o| {
                if o["kind"] == "Node" && o["metadata"]["name"] == "n2" {
                    f(o)
                } else {
                    o
                }
            })
            .collect();
        World::new(&objs)
    }

    #[test]
    fn c14_every_node_ready() {
        let text = "node n2 is not ready, please wait for it to be ready";
        for status in ["False", "Unknown"] {
            let w = n2(|n| set(n, "/status/conditions/0/status", json!(status)));
            denies_with(check(&w, "v1.1.2", "C14"), text);
            denies_with(check(&w, "v1.9.0", "C14"), text);
            not_applicable(&w, "v1.1.1", "C14");
        }
        // No Ready condition at all: the webhook's loop over the conditions never judges it.
        let w = n2(|n| set(n, "/status/conditions", json!([])));
        passes(check(&w, "v1.4.0", "C14"));
        passes(check(&n2(|n| n), "v1.4.0", "C14"));
    }

    #[test]
    fn c15_no_node_unschedulable_cordoned_or_in_maintenance() {
        let text = "node n2 is unschedulable, please wait for it to be schedulable";
        let w = n2(|n| set(n, "/spec/unschedulable", json!(true)));
        denies_with(check(&w, "v1.1.2", "C15"), text);
        let (_, offenders) = denied(check(&w, "v1.4.0", "C15"));
        assert_eq!(offenders[0].what, "node n2 is cordoned");
        let w = n2(|n| {
            set(
                set(n, "/spec/unschedulable", json!(true)),
                "/metadata/annotations/harvesterhci.io~1maintain-status",
                json!("completed"),
            )
        });
        let (message, offenders) = denied(check(&w, "v1.4.0", "C15"));
        assert_eq!(message, text);
        assert!(offenders[0].what.contains("maintenance mode"));
        not_applicable(&w, "v1.1.1", "C15");
        passes(check(&n2(|n| n), "v1.1.2", "C15"));
    }

    #[test]
    fn c16_every_node_has_its_internal_ip_annotation() {
        let w = n2(|n| unset(n, "/metadata/annotations/rke2.io~1internal-ip"));
        denies_with(
            check(&w, "v1.2.0", "C16"),
            "node n2 doesn't have rke2.io/internal-ip annotation",
        );
        not_applicable(&w, "v1.1.3", "C16");
        passes(check(&n2(|n| n), "v1.2.0", "C16"));
    }

    #[test]
    fn c17_c18_disk_checks_need_live_data_and_offer_disk_pressure_as_proxy() {
        let pressed = n2(|n| {
            set(
                n,
                "/status/conditions/1",
                json!({"type": "DiskPressure", "status": "True"}),
            )
        });
        let n2_at = pressed.pos("", "Node", "", "n2");
        for (id, from) in [
            ("C17", "v1.2.0"),
            ("C17", "v1.4.3"),
            ("C18", "v1.2.2"),
            ("C18", "v1.9.0"),
        ] {
            let (reason, proxy, objects) = not_evaluated(check(&pressed, from, id));
            assert!(reason.starts_with("needs each kubelet's live /stats/summary"));
            assert!(proxy.is_some_and(|p| p.contains("under DiskPressure") && p.ends_with("n2")));
            assert_eq!(objects, vec![n2_at]);
            let (_, proxy, objects) = not_evaluated(check(&n2(|n| n), from, id));
            assert!(proxy.is_some_and(|p| p.starts_with("no node reports DiskPressure")));
            assert!(objects.is_empty());
        }
        not_applicable(&pressed, "v1.1.3", "C17");
        not_applicable(&pressed, "v1.5.0", "C17");
        not_applicable(&pressed, "v1.2.1", "C18");
        // The texts of each version, as the reference quotes them (Go verbs filled in).
        let v = Version::parse;
        assert_eq!(
            harvester::denial(
                "C17",
                "",
                &v("v1.4.3"),
                &[
                    ("node", "n1"),
                    ("free", "20 GiB"),
                    ("df", "df -h"),
                    ("min", "30 GiB")
                ]
            )
            .as_deref(),
            Some(
                "Node \"n1\" has insufficient free system partition space 20 GiB (df -h). The \
                 upgrade requires at least 30 GiB of free system partition space on each node."
            )
        );
        let args = [("node", "n1"), ("percent", "88.12"), ("threshold", "85")];
        assert_eq!(
            harvester::denial("C18", "", &v("v1.3.2"), &args).as_deref(),
            Some(
                "Node \"n1\" uses 88.12% storage space. It's higher than kubelet image garbage \
                 collection threshold 85%."
            )
        );
        assert_eq!(
            harvester::denial("C18", "", &v("v1.4.0"), &args).as_deref(),
            Some(
                "Node \"n1\" will reach 88.12% storage space after loading new images. It's \
                 higher than kubelet image garbage collection threshold 85%."
            )
        );
    }

    #[test]
    fn c20_every_machine_running() {
        let objs: Vec<serde_json::Value> = cluster(3)
            .into_iter()
            .map(|o| {
                if o["metadata"]["name"] == "m-n2" {
                    set(o, "/status/phase", json!("Provisioning"))
                } else {
                    o
                }
            })
            .collect();
        let w = World::new(&objs);
        for from in ["v1.1.2", "v1.9.0"] {
            denies_with(
                check(&w, from, "C20"),
                "machine fleet-local/m-n2 is not running",
            );
        }
        not_applicable(&w, "v1.1.1", "C20");
        passes(check(&World::new(&cluster(3)), "v1.1.2", "C20"));
    }

    #[test]
    fn c21_nodes_and_machines_match_every_case() {
        let from = "v1.5.1";
        let objs = |f: &dyn Fn(serde_json::Value) -> Option<serde_json::Value>| -> World {
            World::new(&cluster(3).into_iter().filter_map(f).collect::<Vec<_>>())
        };
        let is = |o: &serde_json::Value, kind: &str, name: &str| {
            o["kind"] == kind && o["metadata"]["name"] == name
        };
        passes(check(&objs(&Some), from, "C21"));
        not_applicable(&objs(&Some), "v1.5.0", "C21");
        let cases: Vec<(&str, World)> = vec![
            (
                "no node was listed, this shall not happen",
                objs(&|o| (o["kind"] != "Node").then_some(o)),
            ),
            (
                "nodes(3) and machines(2) do not match, check the cluster provision",
                objs(&|o| (!is(&o, "Machine", "m-n3")).then_some(o)),
            ),
            (
                "machine m-n2 has empty NodeRef, check the cluster provision",
                objs(&|o| {
                    Some(if is(&o, "Machine", "m-n2") {
                        unset(o, "/status/nodeRef")
                    } else {
                        o
                    })
                }),
            ),
            (
                "node n2 has no labels",
                objs(&|o| {
                    Some(if is(&o, "Node", "n2") {
                        unset(o, "/metadata/labels")
                    } else {
                        o
                    })
                }),
            ),
            (
                "node n2 has no expected label harvesterhci.io/managed",
                objs(&|o| {
                    Some(if is(&o, "Node", "n2") {
                        unset(o, "/metadata/labels/harvesterhci.io~1managed")
                    } else {
                        o
                    })
                }),
            ),
            (
                "node n2 has no nnnotations",
                objs(&|o| {
                    Some(if is(&o, "Node", "n2") {
                        unset(o, "/metadata/annotations")
                    } else {
                        o
                    })
                }),
            ),
            (
                "node n2 has no expected annotation cluster.x-k8s.io/machine, check the cluster \
                 provision",
                objs(&|o| {
                    Some(if is(&o, "Node", "n2") {
                        unset(o, "/metadata/annotations/cluster.x-k8s.io~1machine")
                    } else {
                        o
                    })
                }),
            ),
            (
                "node n2 has no expected annotation cluster.x-k8s.io/machine, check the cluster \
                 provision",
                objs(&|o| {
                    Some(if is(&o, "Node", "n2") {
                        set(
                            o,
                            "/metadata/annotations/cluster.x-k8s.io~1machine",
                            json!(""),
                        )
                    } else {
                        o
                    })
                }),
            ),
            (
                "node n2 refers to machine m-gone, but the machine does not exist",
                objs(&|o| {
                    Some(if is(&o, "Node", "n2") {
                        set(
                            o,
                            "/metadata/annotations/cluster.x-k8s.io~1machine",
                            json!("m-gone"),
                        )
                    } else {
                        o
                    })
                }),
            ),
            (
                "node n2 refers to machine m-n2, but the machine refers to another node n9",
                objs(&|o| {
                    Some(if is(&o, "Machine", "m-n2") {
                        set(o, "/status/nodeRef/name", json!("n9"))
                    } else {
                        o
                    })
                }),
            ),
        ];
        for (text, w) in cases {
            denies_with(check(&w, from, "C21"), text);
            denies_with(check(&w, "v1.9.0", "C21"), text);
        }
    }

    #[test]
    fn c22_active_single_replica_volumes_v1_3_to_v1_4() {
        let text = "The backing volumes of the following PVCs have single replica configured, \
                    please consider shutdown the corresponding workload before upgrade: \
                    default/pvc-a";
        for state in ["creating", "attached", "attaching"] {
            let w = with(cluster(3), &[volume("pvc-a", 1, state, "healthy")]);
            denies_with(check(&w, "v1.3.0", "C22"), text);
            denies_with(check(&w, "v1.4.3", "C22"), text);
        }
        let w = with(cluster(3), &[volume("pvc-a", 1, "detached", "unknown")]);
        passes(check(&w, "v1.4.0", "C22"));
        passes(check(
            &with(cluster(3), &[volume("pvc-a", 2, "attached", "healthy")]),
            "v1.4.0",
            "C22",
        ));
        // Skipped on a single node.
        exempt(check(
            &with(cluster(1), &[volume("pvc-a", 1, "attached", "healthy")]),
            "v1.4.0",
            "C22",
        ));
        not_applicable(&w, "v1.2.2", "C22");
        not_applicable(&w, "v1.5.0", "C22");
    }

    #[test]
    fn c23_any_single_replica_volume_from_v1_5_even_detached() {
        let text = "Following PVCs with single-replica volume, even the volume is detached, \
                    upgrade may have potential data integrity concerns: default/pvc-a, \
                    default/pvc-b";
        let w = with(
            cluster(3),
            &[
                volume("pvc-a", 1, "detached", "unknown"),
                volume("pvc-b", 1, "attached", "healthy"),
                volume("pvc-c", 3, "attached", "healthy"),
            ],
        );
        let (message, offenders) = denied(check(&w, "v1.5.0", "C23"));
        assert_eq!(message, text);
        assert_eq!(offenders.len(), 2);
        denies_with(check(&w, "v1.9.0", "C23"), text);
        not_applicable(&w, "v1.4.3", "C23");
        exempt(check(
            &with(cluster(1), &[volume("pvc-a", 1, "detached", "unknown")]),
            "v1.5.0",
            "C23",
        ));
        // The annotation's text (not simulated: the UI's new Upgrade does not carry it).
        assert_eq!(
            harvester::denial(
                "C23",
                "skip-detached",
                &Version::parse("v1.5.0"),
                &[("pvcs", "default/pvc-b")]
            )
            .as_deref(),
            Some(
                "Following PVCs with active single-replica volume, please consider shutdown the \
                 corresponding workload before upgrade: default/pvc-b"
            )
        );
    }

    const C24: &str = "There are non-live migratable VMs that need to be shut off before \
                       initiating the upgrade: default/vm1";

    /// Three nodes and VMI `vm1` on n1 changed by `f`.
    fn vm1(f: impl FnOnce(serde_json::Value) -> serde_json::Value) -> World {
        with(cluster(3), &[f(vmi("vm1", "n1"))])
    }

    #[test]
    fn c24_node_selector_and_host_devices() {
        let w = vm1(|v| {
            set(
                v,
                "/spec/nodeSelector",
                json!({"kubernetes.io/hostname": "n1"}),
            )
        });
        for from in ["v1.2.2", "v1.4.0", "v1.9.0"] {
            let (message, offenders) = denied(check(&w, from, "C24"));
            assert_eq!(message, C24);
            assert!(offenders[0].what.contains("a nodeSelector"));
        }
        not_applicable(&w, "v1.2.1", "C24");
        let w = vm1(|v| {
            set(
                v,
                "/spec/domain/devices/hostDevices",
                json!([{"name": "gpu", "deviceName": "nvidia.com/GA102"}]),
            )
        });
        denies_with(check(&w, "v1.4.0", "C24"), C24);
        denies_with(check(&w, "v1.9.0", "C24"), C24);
        passes(check(&vm1(|v| v), "v1.4.0", "C24"));
    }

    #[test]
    fn c24_an_empty_host_devices_list_counts_up_to_v1_8_2() {
        // §E: up to v1.8.2 `hostDevices != nil` counts, so `hostDevices: []` does; v1.9 counts
        // only a non-empty list.
        let w = vm1(|v| set(v, "/spec/domain/devices/hostDevices", json!([])));
        denies_with(check(&w, "v1.4.0", "C24"), C24);
        denies_with(check(&w, "v1.8.2", "C24"), C24);
        passes(check(&w, "v1.9.0", "C24"));
    }

    #[test]
    fn c24_required_node_affinity_no_other_schedulable_node_matches() {
        let affinity = |values: serde_json::Value| {
            move |v: serde_json::Value| {
                set(
                    v,
                    "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution",
                    json!({"nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "kubernetes.io/hostname", "operator": "In", "values": values}
                    ]}]}),
                )
            }
        };
        // Only the node it runs on matches.
        let (_, offenders) = denied(check(&vm1(affinity(json!(["n1"]))), "v1.4.0", "C24"));
        assert!(
            offenders[0]
                .what
                .contains("a required node affinity no other schedulable node matches")
        );
        // Another node matches.
        passes(check(&vm1(affinity(json!(["n1", "n2"]))), "v1.4.0", "C24"));
        // The other matching node is cordoned: it does not count.
        let objs: Vec<serde_json::Value> = cluster(3)
            .into_iter()
            .map(|o| {
                if o["kind"] == "Node" && o["metadata"]["name"] == "n2" {
                    set(o, "/spec/unschedulable", json!(true))
                } else {
                    o
                }
            })
            .chain([affinity(json!(["n1", "n2"]))(vmi("vm1", "n1"))])
            .collect();
        denies_with(check(&World::new(&objs), "v1.4.0", "C24"), C24);
    }

    #[test]
    fn c24_cdrom_and_container_disk_only_from_v1_4_1_through_v1_7() {
        let cdrom = vm1(|v| {
            set(
                v,
                "/spec/domain/devices/disks/1",
                json!({"name": "cd", "cdrom": {"bus": "sata"}}),
            )
        });
        let container = vm1(|v| {
            set(
                v,
                "/spec/volumes/1",
                json!({"name": "cd", "containerDisk": {"image": "registry/x"}}),
            )
        });
        for w in [&cdrom, &container] {
            passes(check(w, "v1.4.0", "C24"));
            denies_with(check(w, "v1.4.1", "C24"), C24);
            denies_with(check(w, "v1.7.3", "C24"), C24);
            passes(check(w, "v1.8.0", "C24"));
        }
    }

    #[test]
    fn c24_a_null_cdrom_or_container_disk_is_none() {
        // Go reads `disk.CDRom != nil` and `ContainerDisk != nil`: a null key is no device.
        let w = vm1(|v| {
            let v = set(
                v,
                "/spec/domain/devices/disks/1",
                json!({"name": "cd", "cdrom": null}),
            );
            set(
                v,
                "/spec/volumes/1",
                json!({"name": "cd", "containerDisk": null}),
            )
        });
        for from in ["v1.4.1", "v1.7.3"] {
            passes(check(&w, from, "C24"));
        }
    }

    /// Nodes n1–n3, with those in `cordoned` unschedulable, plus `more`.
    fn cordoned(cordoned: &[&str], more: &[serde_json::Value]) -> World {
        let objs: Vec<serde_json::Value> = cluster(3)
            .into_iter()
            .map(|o| {
                let name = o["metadata"]["name"].as_str().unwrap_or_default();
                if o["kind"] == "Node" && cordoned.contains(&name) {
                    set(o, "/spec/unschedulable", json!(true))
                } else {
                    o
                }
            })
            .chain(more.iter().cloned())
            .collect();
        World::new(&objs)
    }

    #[test]
    fn c24_no_other_schedulable_node_counts_without_an_affinity() {
        // `migratableByNodeAffinity` needs another schedulable node in every version, affinity
        // or not.
        let w = cordoned(&["n2", "n3"], &[vmi("vm1", "n1")]);
        for from in ["v1.2.2", "v1.5.2", "v1.6.0", "v1.9.0"] {
            let (message, offenders) = denied(check(&w, from, "C24"));
            assert_eq!(message, C24);
            assert!(
                offenders[0]
                    .what
                    .ends_with("cannot live-migrate: no other schedulable node to move to"),
                "{}",
                offenders[0].what
            );
        }
        passes(check(
            &cordoned(&["n2"], &[vmi("vm1", "n1")]),
            "v1.2.2",
            "C24",
        ));
    }

    #[test]
    fn c24_witness_nodes_are_no_migration_target_from_v1_6() {
        // n1 and n2 cordoned: the witness is the only other schedulable node.
        let mut objs = cluster(2);
        objs.push(witness("w1"));
        objs.push(machine("m-w1", "w1"));
        let objs: Vec<serde_json::Value> = objs
            .into_iter()
            .map(|o| {
                if o["kind"] == "Node" && o["metadata"]["name"] == "n2" {
                    set(o, "/spec/unschedulable", json!(true))
                } else {
                    o
                }
            })
            .chain([vmi("vm1", "n1")])
            .collect();
        let w = World::new(&objs);
        passes(check(&w, "v1.5.2", "C24"));
        let (message, offenders) = denied(check(&w, "v1.6.0", "C24"));
        assert_eq!(message, C24);
        assert!(
            offenders[0]
                .what
                .ends_with("no other schedulable non-witness node to move to"),
            "{}",
            offenders[0].what
        );
        denies_with(check(&w, "v1.9.0", "C24"), C24);
        // The same with an affinity only the witness matches.
        let only_w1 = set(
            vmi("vm1", "n1"),
            "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution",
            json!({"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["w1"]}
            ]}]}),
        );
        let mut objs = cluster(2);
        objs.extend([witness("w1"), machine("m-w1", "w1"), only_w1]);
        let w = World::new(&objs);
        passes(check(&w, "v1.5.2", "C24"));
        let (_, offenders) = denied(check(&w, "v1.6.0", "C24"));
        assert!(
            offenders[0]
                .what
                .contains("a required node affinity no other schedulable non-witness node matches")
        );
    }

    #[test]
    fn c24_affinity_terms_read_as_kubernetes_matches_them() {
        let terms = |terms: serde_json::Value| {
            set(
                vmi("vm1", "n1"),
                "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution",
                json!({ "nodeSelectorTerms": terms }),
            )
        };
        let run = |v: serde_json::Value| check(&cordoned(&[], &[v]), "v1.4.0", "C24");
        // matchFields on metadata.name.
        passes(run(terms(json!([{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": ["n2"]}
        ]}]))));
        denies_with(
            run(terms(json!([{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": ["n1"]}
            ]}]))),
            C24,
        );
        // An empty term, an empty list of expressions or no terms select no node.
        for t in [json!([{}]), json!([{"matchExpressions": []}]), json!([])] {
            denies_with(run(terms(t)), C24);
        }
    }

    #[test]
    fn c24_to_c26_single_node_witness_and_restore_vm_exemptions() {
        let selector = |v| set(v, "/spec/nodeSelector", json!({"a": "b"}));
        // One node: skipped in every version.
        let one = with(cluster(1), &[selector(vmi("vm1", "n1"))]);
        for from in ["v1.2.2", "v1.5.1", "v1.6.0"] {
            exempt(check(&one, from, "C24"));
        }
        // One node plus a witness: a witness counts as a node before v1.6 only.
        let mut objs = cluster(1);
        objs.push(witness("w1"));
        objs.push(machine("m-w1", "w1"));
        objs.push(selector(vmi("vm1", "n1")));
        let w = World::new(&objs);
        denies_with(check(&w, "v1.5.1", "C24"), C24);
        exempt(check(&w, "v1.6.0", "C24"));
        // restoreVM: true skips from v1.6.
        let w = with(
            cluster(3),
            &[
                selector(vmi("vm1", "n1")),
                setting("upgrade-config", r#"{"restoreVM": true}"#),
            ],
        );
        denies_with(check(&w, "v1.5.1", "C24"), C24);
        let why = exempt(check(&w, "v1.6.0", "C24"));
        assert!(why.contains("restoreVM: true"), "{why}");
        for id in ["C25", "C26"] {
            exempt(check(&w, "v1.9.0", id));
            let mut objs = cluster(1);
            objs.push(witness("w1"));
            exempt(check(&World::new(&objs), "v1.9.0", id));
        }
        // A string "true" is not true for Harvester's decoder.
        let w = with(
            cluster(3),
            &[
                selector(vmi("vm1", "n1")),
                setting("upgrade-config", r#"{"restoreVM": "true"}"#),
            ],
        );
        denies_with(check(&w, "v1.6.0", "C24"), C24);
    }

    #[test]
    fn c25_pending_volume_hotplug_requests_from_v1_8_2() {
        let w = with(
            cluster(3),
            &[set(
                vm("vm1"),
                "/status/volumeRequests",
                json!([{"addVolumeOptions": {"name": "hp"}}]),
            )],
        );
        let text = "There are VMs with pending volume hotplug requests (status.volumeRequests) \
                    which are no longer processed with the DeclarativeHotplugVolumes feature \
                    gate and block the VM reconciliation. Stop and start these VMs before \
                    initiating the upgrade: default/vm1";
        // §E: backported to v1.8.2; no v1.7.x or earlier v1.8 has it.
        denies_with(check(&w, "v1.8.2", "C25"), text);
        denies_with(check(&w, "v1.9.0", "C25"), text);
        not_applicable(&w, "v1.8.1", "C25");
        not_applicable(&w, "v1.7.3", "C25");
        passes(check(&with(cluster(3), &[vm("vm1")]), "v1.9.0", "C25"));
    }

    #[test]
    fn c26_hot_plugged_volumes_missing_from_the_vm_spec_from_v1_8_2() {
        let hot = |kind: &str| {
            set(
                vmi("vm1", "n1"),
                "/spec/volumes/1",
                json!({"name": "hp", kind: {"claimName": "hp", "hotpluggable": true}}),
            )
        };
        let text = "There are running VMs with hot-plugged volumes that exist in the VMI but not \
                    in the VM spec. Such volumes are hot-unplugged automatically with the \
                    DeclarativeHotplugVolumes feature gate. Remove the volumes or make them \
                    persistent before initiating the upgrade: default/vm1";
        for kind in ["persistentVolumeClaim", "dataVolume"] {
            let w = with(cluster(3), &[vm("vm1"), hot(kind)]);
            denies_with(check(&w, "v1.8.2", "C26"), text);
            denies_with(check(&w, "v1.9.0", "C26"), text);
            not_applicable(&w, "v1.8.1", "C26");
        }
        // In the VM spec: persistent, fine.
        let spec = set(
            vm("vm1"),
            "/spec/template/spec/volumes/1",
            json!({"name": "hp", "persistentVolumeClaim": {"claimName": "hp"}}),
        );
        passes(check(
            &with(cluster(3), &[spec, hot("persistentVolumeClaim")]),
            "v1.9.0",
            "C26",
        ));
    }

    #[test]
    fn c27_certificate_expiry_needs_a_live_handshake() {
        let w = with(cluster(3), &[setting("auto-rotate-rke2-certs", "false")]);
        let (reason, proxy, _) = not_evaluated(check(&w, "v1.5.0", "C27"));
        assert!(reason.contains("TLS handshake with default/kubernetes"));
        assert!(proxy.is_some_and(|p| p.starts_with("setting auto-rotate-rke2-certs is false")));
        not_applicable(&w, "v1.4.3", "C27");
        assert_eq!(
            harvester::denial(
                "C27",
                "",
                &Version::parse("v1.5.0"),
                &[("cert", "kube-apiserver"), ("days", "3")]
            )
            .as_deref(),
            Some(
                "earliest expiring cert for default/kubernetes ClusterIP is kube-apiserver, it \
                 will expire in 3 days. Please rotate RKE2 certificates."
            )
        );
    }

    fn kubernetes_endpoints(addresses: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": "kubernetes", "namespace": "default"},
               "subsets": [{"addresses": addresses, "ports": [{"name": "https", "port": 6443}]}]})
    }

    fn kubernetes_slice(ready: Option<bool>, family: &str) -> serde_json::Value {
        let mut e = json!({"addresses": ["10.0.0.11"]});
        if let Some(r) = ready {
            e["conditions"] = json!({"ready": r});
        }
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"name": "kubernetes", "namespace": "default",
                            "labels": {"kubernetes.io/service-name": "kubernetes"}},
               "addressType": family, "endpoints": [e]})
    }

    #[test]
    fn c28_reads_endpoints_to_v1_8_and_endpoint_slices_from_v1_9() {
        let empty = "can't get kubernetes ip, err: cluster ip is empty";
        let ip = json!([{"ip": "10.0.0.11"}]);
        // Up to v1.8.2: the Endpoints object.
        let w = with(
            cluster(3),
            &[
                kubernetes_endpoints(ip.clone()),
                kubernetes_slice(Some(false), "IPv4"),
            ],
        );
        passes(check(&w, "v1.8.2", "C28"));
        let w = with(
            cluster(3),
            &[
                kubernetes_endpoints(json!([])),
                kubernetes_slice(None, "IPv4"),
            ],
        );
        denies_with(check(&w, "v1.8.2", "C28"), empty);
        passes(check(&w, "v1.9.0", "C28"));
        // Absent Endpoints: the lister's error, as a 500.
        let w = with(cluster(3), &[kubernetes_slice(None, "IPv4")]);
        denies_with(
            check(&w, "v1.5.0", "C28"),
            "can't get list of kubernetes ip, err: endpoints \"kubernetes\" not found",
        );
        // From v1.9.0: ready IPv4 endpoints of the slices only (a nil ready counts as ready).
        let w = with(
            cluster(3),
            &[
                kubernetes_endpoints(ip.clone()),
                kubernetes_slice(Some(false), "IPv4"),
            ],
        );
        denies_with(check(&w, "v1.9.0", "C28"), empty);
        let w = with(
            cluster(3),
            &[
                kubernetes_endpoints(ip.clone()),
                kubernetes_slice(None, "IPv6"),
            ],
        );
        denies_with(check(&w, "v1.9.0", "C28"), empty);
        let w = with(
            cluster(3),
            &[
                kubernetes_endpoints(ip),
                kubernetes_slice(Some(true), "IPv4"),
            ],
        );
        passes(check(&w, "v1.9.0", "C28"));
        not_applicable(&w, "v1.4.3", "C28");
        // Nothing of namespace default collected: not judged.
        let w = with(cluster(3), &[]);
        let (reason, _, _) = not_evaluated(check(&w, "v1.6.0", "C28"));
        assert!(reason.contains("namespace default"), "{reason}");
    }

    #[test]
    fn a5_version_compatibility_before_and_after_the_v1_4_version_guard() {
        let w = with(
            cluster(3),
            &[
                version_object("v1.4.0", Some("v1.3.2")),
                version_object("v1.4.1", Some("v1.3.2")),
                version_object("v1.5.0", Some("v1.4.1")),
                version_object("v1.5.0-rc1", Some("v1.4.0")),
            ],
        );
        // Before v1.4.0: the minimum version only, with its own text.
        denies_with(
            run(&w, "v1.3.1", Some("v1.4.0"), "A.5"),
            "The current version v1.3.1 is less than the minimum upgradable version v1.3.2.",
        );
        passes(run(&w, "v1.3.2", Some("v1.4.0"), "A.5"));
        // A downgrade is not refused before the guard.
        passes(run(&w, "v1.3.2", Some("v1.2.2"), "A.5"));
        // From v1.4.0: the version guard.
        denies_with(
            run(&w, "v1.4.0", Some("v1.5.0"), "A.5"),
            "current version does not meet minimum upgrade requirement",
        );
        denies_with(
            run(&w, "v1.4.1", Some("v1.4.0"), "A.5"),
            "downgrading is prohibited",
        );
        denies_with(
            run(&w, "v1.4.0", Some("master-head"), "A.5"),
            "incomparable: dev version",
        );
        denies_with(
            run(&w, "v1.4.1", Some("v1.5.0-rc1"), "A.5"),
            "cross-version upgrades from/to any prerelease version are prohibited",
        );
        passes(run(&w, "v1.4.0", Some("v1.4.1"), "A.5"));
        passes(run(&w, "v1.4.1", Some("v1.5.0"), "A.5"));
        // Without a target: nothing to judge.
        not_evaluated(check(&w, "v1.4.0", "A.5"));
        assert!(matches!(
            run(&w, "v1.2.1", Some("v1.4.0"), "A.5"),
            Outcome::NotApplicable(_)
        ));
        assert_eq!(
            harvester::denial("A.5", "dev-to-release", &Version::parse("v1.4.0"), &[]).as_deref(),
            Some("upgrading from dev versions to non-dev versions is prohibited")
        );
    }
}
