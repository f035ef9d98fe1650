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
use crate::model::views::View;
use crate::model::{condition, tree::Tree};

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

pub fn tree(o: &Object) -> Option<&Tree> {
    match &o.view {
        View::Tree(t) => Some(t),
        _ => None,
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
        "A.5" => compat,
        _ => return None,
    })
}

/// The checks sbdiag judges (simulated, or live with a proxy), in the webhook's order, the
/// controller's version gate last.
pub fn judged() -> impl Iterator<Item = &'static AdmissionCheck> {
    harvester::ADMISSION
        .iter()
        .filter(|c| c.judged != Judged::Recognised && evaluator(c.id).is_some())
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
    match evaluator(def.id) {
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
        .and_then(tree)
        .and_then(|t| t.str("/spec/minUpgradableVersion"))
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
                    text(env, "C7", "", &[]),
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
            let phase = tree(o)
                .and_then(|t| t.str("/status/phase"))
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

pub fn machines<'a>(env: &'a Env<'a>) -> Vec<(usize, &'a Object, &'a Tree)> {
    env.index
        .of_kind("cluster.x-k8s.io", "Machine")
        .filter(|o| o.key.namespace == "fleet-local")
        .filter_map(|o| Some((env.index.position(&o.key)?, o, tree(o)?)))
        .collect()
}

fn c20(env: &Env) -> Outcome {
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
        if t.str("/status/nodeRef/name").is_none() {
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
        let Some(m) = o.meta.annotations.get("cluster.x-k8s.io/machine") else {
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
                let other = mt.str("/status/nodeRef/name").unwrap_or("");
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
    replica_check(env, true, "C22")
}

fn c23(env: &Env) -> Outcome {
    replica_check(env, false, "C23")
}

/// Whether the `upgrade-config` setting turns `restoreVM` on, as Harvester reads it.
pub fn restore_vm(env: &Env) -> bool {
    cluster::upgrade_config(env.index).is_some_and(|c| c.restore_vm())
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
    if harvester::MIGRATION_CHECK_COUNTS_CDROM.contains(&env.from) {
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
    let message = text(env, "C24", "", &[("vms", &names.join(", "))]);
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
