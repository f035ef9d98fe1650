//! The VM rules, on the VM fact (`facts::vm`: VM → VMI → launcher pods → volume chains →
//! migrations): `vm.not-running`, `vm.status-mismatch` (the printed status the objects
//! contradict), `vm.launcher-terminating` (a launcher pod stuck terminating, with the likely
//! cause the capture shows), `vm.volume-unhealthy` (a VM on a lost, faulted or degraded volume:
//! a symptom the storage finding explains), `vm.migration-stuck` (migrations pending too long or
//! failed, and why), `vm.launcher-not-ready`. Fixes never undo what a running upgrade owns (its
//! repository VM, the migrations of the nodes it drains) and never force-delete a launcher pod
//! without saying what it risks.
use std::fmt::Write as _;

use super::health::finding;
use super::{
    Context, Evidence, Finding, Input, ObjectRef, Rule, RuleDef, RuleInfo, Severity, subject,
};
use crate::facts::storage::{self as storage_facts, VolumeChain};
use crate::facts::upgrade::{self as upgrade_facts, Owned};
use crate::facts::vm::{self as vm_facts, Mismatch, VolumeTrouble};
use crate::index::Object;
use crate::model::condition;
use crate::model::typed::core::VolumeAttachment;
use crate::model::typed::kubevirt::{VirtualMachine, Vmi, VmiMigration};
use crate::model::typed::longhorn::LhVolume;

/// The VM rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(RuleDef::new(VM_NOT_RUNNING, vm_not_running)),
        Box::new(RuleDef::new(VM_MIGRATION, vm_migration)),
        Box::new(RuleDef::new(VM_LAUNCHER, vm_launcher)),
        Box::new(RuleDef::new(VM_STATUS, vm_status_mismatch)),
        Box::new(RuleDef::new(VM_TERMINATING, vm_launcher_terminating)),
        Box::new(RuleDef::new(VM_VOLUME, vm_volume_unhealthy)),
        Box::new(RuleDef::new(VM_NOT_MIGRATABLE, vm_not_migratable)),
    ]
}

// ---------------------------------------------------------------- not live-migratable

static VM_NOT_MIGRATABLE: RuleInfo = RuleInfo {
    id: "vm.not-live-migratable",
    title: "Running VMs KubeVirt says cannot live-migrate",
    description: "A running VMI whose LiveMigratable condition is False (host devices, GPUs, a \
        bridge on the pod network, volumes that cannot be shared, …, in KubeVirt's own words). \
        An upgrade or maintenance drains each node and waits for its VMs to migrate: such a VM \
        holds its node's drain until it is stopped. Users asked the pre-check to flag them \
        (reference/upgrade-blockers.md §E); Harvester's webhook refuses some of them up front \
        (C24), by its own criteria, which differ by version.",
    inputs: &[
        Input::Resources,
        Input::Resource("kubevirt.io", "virtualmachineinstances"),
    ],
    versions: "all",
};

fn vm_not_migratable(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let schedulable_nodes = cx
        .index
        .of_kind("", "Node")
        .filter(|n| !crate::facts::cluster::is_witness(n))
        .count();
    if schedulable_nodes < 2 {
        // One node: nothing to migrate to; the upgrade stops VMs instead.
        return Vec::new();
    }
    let restore = crate::facts::cluster::upgrade_config(cx.index).is_some_and(|c| c.restore_vm())
        && cx.harvester_version().is_some_and(|(v, _)| {
            crate::facts::harvester::RESTORE_VM_AND_WITNESS_AWARE.contains(&v)
        });
    let mut out = Vec::new();
    for (o, t) in cx.index.typed::<Vmi>() {
        if t.phase() != Some("Running") || o.meta.deletion_timestamp.is_some() {
            continue;
        }
        let Some(c) = condition(&o.status.conditions, "LiveMigratable") else {
            continue;
        };
        if c.status != "False" {
            continue;
        }
        let reason = c.reason.as_deref().unwrap_or("no reason given");
        let node = t.node_name().unwrap_or("its node");
        let name = format!("{}/{}", o.key.namespace, o.key.name);
        let mut summary = format!(
            "VMI {name} runs on {node} and KubeVirt's LiveMigratable condition is False ({reason}): \
             \"{}\". ",
            c.message.as_deref().unwrap_or("no message")
        );
        let repo = repo_vm_note(cx, o);
        let (severity, remediation) = if !repo.is_empty() {
            // The running upgrade's own repository VM: it is the upgrade's to stop.
            summary
                .push_str("It belongs to the running upgrade, which removes it when it finishes.");
            (Severity::Info, repo.trim_end().to_string())
        } else if restore {
            summary.push_str(
                "Setting upgrade-config has restoreVM: true, so an upgrade shuts it down before \
                 draining its node and starts it again after; maintenance mode still waits for it.",
            );
            (
                Severity::Info,
                format!(
                    "Nothing is needed for an upgrade (restoreVM). Before maintenance of {node}, \
                     stop it in a window the VM's users agree to:\n$ virtctl stop {} -n {}",
                    o.key.name, o.key.namespace
                ),
            )
        } else {
            summary.push_str(&format!(
                "An upgrade or maintenance of {node} drains the node and waits for its VMs to \
                 migrate; this one cannot, so the drain would likely wait until it is stopped."
            ));
            (
                Severity::Warning,
                format!(
                    "Before an upgrade or maintenance of {node}, stop it in a window the VM's users \
                     agree to (or remove what KubeVirt names: {reason}):\n$ virtctl stop {} -n {}\n\
                     From v1.6, setting upgrade-config restoreVM: true makes the upgrade stop and \
                     restore such VMs itself.",
                    o.key.name, o.key.namespace
                ),
            )
        };
        out.push(
            Finding::about(
                info.id,
                o,
                severity,
                format!("VM {name} cannot live-migrate off {node} ({reason})"),
            )
            .with_summary(summary)
            .with_evidence(vec![Evidence::of(
                cx.index,
                o,
                Some("type: LiveMigratable"),
            )])
            .with_remediation(remediation),
        );
    }
    out
}

/// For a running upgrade's repository VM (or its VMI): what it is and that it must not be
/// stopped, as the first lines of a remediation; empty for any other VM.
pub fn repo_vm_note(cx: &Context, vm: &Object) -> String {
    match upgrade_facts::owned_by_running(cx.index, vm) {
        Some((upgrade, Owned::RepoVm)) => format!(
            "{}/{} is the repository VM of upgrade {upgrade}, which has not finished: it serves \
             the new OS image to the nodes and is removed when the upgrade finishes. Do not \
             stop or delete it while the upgrade runs.\n",
            vm.key.namespace, vm.key.name
        ),
        _ => String::new(),
    }
}

/// The running Upgrade draining `node` (its cordon, drain and the VMs it stops or migrates
/// there are the upgrade's), if any.
fn upgrade_draining(cx: &Context, node: &str) -> Option<String> {
    let n = cx.index.find("", "Node", "", node)?;
    match upgrade_facts::owned_by_running(cx.index, n) {
        Some((u, Owned::Node(_))) => Some(u),
        _ => None,
    }
}

fn describe_vm(cx: &Context, vm: &Object) -> String {
    cx.sbdiag(
        "describe",
        &format!("vm {} -n {}", vm.key.name, vm.key.namespace),
    )
}

const VM_INPUTS: &[Input] = &[
    Input::Resources,
    Input::Resource("kubevirt.io", "virtualmachines"),
];

static VM_NOT_RUNNING: RuleInfo = RuleInfo {
    id: "vm.not-running",
    title: "VMs that should run but do not",
    description: "A VirtualMachine with runStrategy Always/RerunOnFailure (or running: true) \
        whose printableStatus is not Running, with the cause the graph shows (its launcher pod, \
        its volumes, its node).",
    inputs: VM_INPUTS,
    versions: "all",
};

fn vm_not_running(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    cx.index
        .typed::<VirtualMachine>()
        .filter_map(|(o, t)| {
            let wants = match t.run_strategy() {
                Some(s) => matches!(s, "Always" | "RerunOnFailure"),
                None => t.running() == Some(true),
            };
            let status = t.printable_status().unwrap_or("Unknown");
            (wants && status != "Running").then(|| {
                finding(
                    "vm.not-running",
                    subject(o, ""),
                    Severity::Error,
                    format!(
                        "VM {}/{} should run but is {status}",
                        o.key.namespace, o.key.name
                    ),
                    format!(
                        "runStrategy {} but printableStatus {status}.",
                        t.run_strategy().unwrap_or("(running: true)")
                    ),
                    o,
                    cx,
                    Some("printableStatus"),
                    format!(
                        "{}See its VMI, launcher pod and volumes, and fix the first one that is \
                         not ready:\n$ {}",
                        repo_vm_note(cx, o),
                        describe_vm(cx, o)
                    ),
                )
            })
        })
        .collect()
}

// ---------------------------------------------------------------- printed status

static VM_STATUS: RuleInfo = RuleInfo {
    id: "vm.status-mismatch",
    title: "VMs whose printed status the objects contradict",
    description: "status.printableStatus (what the UI and `kubectl get vm` show) against the \
        objects: Stopped while the VMI still runs or a virt-launcher pod has not finished, a \
        condition saying the launcher pod is terminating (PodTerminating), Running with no VMI, \
        Starting for more than 10 minutes. The printed status then hides what blocks the VM.",
    inputs: VM_INPUTS,
    versions: "all",
};

/// One mismatch in words, with the object and field that show it.
fn mismatch_text<'a>(
    cx: &Context,
    m: &Mismatch<'a>,
) -> (String, Option<(&'a Object, &'static str)>) {
    match m {
        Mismatch::StoppedWithVmi { vmi, phase } => (
            format!(
                "its VMI {} still exists in phase {phase}{}",
                vmi.key.name,
                vmi.meta
                    .deletion_timestamp
                    .as_deref()
                    .map(|d| format!(", deleting since {}", cx.ago(Some(d))))
                    .unwrap_or_default()
            ),
            Some((*vmi, "phase")),
        ),
        Mismatch::StoppedWithPod { pod } => (
            format!(
                "its launcher pod {} is still {}{}",
                pod.key.name,
                pod.status.phase.as_deref().unwrap_or("present"),
                pod.meta
                    .deletion_timestamp
                    .as_deref()
                    .map(|d| format!(" and Terminating (deletionTimestamp {d})"))
                    .unwrap_or_default()
            ),
            Some((*pod, "deletionTimestamp")),
        ),
        Mismatch::PodTerminating { on, condition } => (
            format!(
                "the {} {}'s condition {condition} says the launcher pod is terminating \
                 (reason PodTerminating)",
                on.key.kind, on.key.name
            ),
            Some((*on, "PodTerminating")),
        ),
        Mismatch::RunningWithoutVmi => ("the capture holds no VMI for it".into(), None),
        Mismatch::StartingLong { since, age } => (
            format!("it has been starting since {since} ({age} before capture)"),
            None,
        ),
    }
}

fn vm_status_mismatch(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in &cx.vms.vms {
        let Some(vm) = f.vm(cx.index) else { continue };
        let ms = f.mismatches(cx.index, cx.created_at);
        if ms.is_empty() {
            continue;
        }
        let printed = f.printed(cx.index).unwrap_or("no status");
        let texts: Vec<(String, Option<(&Object, &str)>)> =
            ms.iter().map(|m| mismatch_text(cx, m)).collect();
        let stuck: Vec<String> = f
            .terminating(cx.index, cx.created_at)
            .iter()
            .map(|t| t.pod.key.name.clone())
            .collect();
        let mut evidence = vec![Evidence::of(cx.index, vm, Some("printableStatus"))];
        for (_, at) in &texts {
            if let Some((o, field)) = at
                && !evidence.iter().any(|e| {
                    cx.index.file_of(o).is_some_and(|f| f.path == e.file) && e.line == o.line
                })
            {
                evidence.push(Evidence::of(cx.index, o, Some(field)));
            }
        }
        let fix = format!(
            "{}The printed status is KubeVirt's one-word summary; the objects say more. Read the \
             whole chain (VMI, launcher pods, volumes, migrations):\n$ {}{}",
            repo_vm_note(cx, vm),
            describe_vm(cx, vm),
            if stuck.is_empty() {
                String::new()
            } else {
                format!(
                    "\nThe VM cannot start again until its old launcher pod {} is gone: see the \
                     vm.launcher-terminating finding for why it stays and what is safe to do.",
                    stuck.join(", ")
                )
            }
        );
        out.push(
            Finding::about("vm.status-mismatch", vm, Severity::Warning, {
                format!(
                    "VM {}/{} shows {printed}, but {}",
                    vm.key.namespace,
                    vm.key.name,
                    texts.first().map(|(t, _)| t.as_str()).unwrap_or_default()
                )
            })
            .with_summary(format!(
                "printableStatus is {printed}, while {}.",
                texts
                    .iter()
                    .map(|(t, _)| t.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
            .with_objects(
                std::iter::once(ObjectRef::of(vm))
                    .chain(
                        texts
                            .iter()
                            .filter_map(|(_, a)| a.map(|(o, _)| ObjectRef::of(o))),
                    )
                    .collect::<Vec<_>>(),
            )
            .with_evidence(evidence)
            .with_remediation(fix),
        );
    }
    out
}

// ---------------------------------------------------------------- launcher pods stuck terminating

static VM_TERMINATING: RuleInfo = RuleInfo {
    id: "vm.launcher-terminating",
    title: "virt-launcher pods stuck terminating",
    description: "A VM's virt-launcher pod still in the capture more than 5 minutes after its \
        deletionTimestamp (the deletion request plus its grace period): the VM cannot start \
        again while it stays. Names the node, how long, the finalizers, and the likely cause the \
        capture shows (the node not Ready or absent, the VM's volume still attached there, a lost \
        or faulted volume, the kubelet's Warning events).",
    inputs: &[
        Input::Resources,
        Input::Resource("kubevirt.io", "virtualmachines"),
        Input::Resource("", "pods"),
        Input::CaptureTime,
    ],
    versions: "all",
};

/// The VolumeAttachments of a chain that say attached to `node`.
fn attached_on<'a>(cx: &Context<'a>, c: &VolumeChain, node: &str) -> Vec<&'a Object> {
    VolumeChain::objects(cx.index, &c.attachments)
        .into_iter()
        .filter(|a| {
            VolumeAttachment::of(*a)
                .is_some_and(|t| t.attached() == Some(true) && t.node_name() == Some(node))
        })
        .collect()
}

/// Whether the capture holds Longhorn's Volume list (only then is a missing volume lost).
fn volumes_listed(cx: &Context) -> bool {
    cx.collected("longhorn.io", "volumes") && storage_facts::longhorn_collected(cx.index)
}

/// The subjects of a chain's objects (claim, PV, Longhorn Volume): what the storage findings
/// about it are about, as topics.
fn chain_subjects(cx: &Context, c: &VolumeChain) -> Vec<String> {
    [c.pvc(cx.index), c.pv(cx.index), c.volume(cx.index)]
        .into_iter()
        .flatten()
        .map(|o| ObjectRef::of(o).subject())
        .collect()
}

fn vm_launcher_terminating(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let listed = volumes_listed(cx);
    let mut out = Vec::new();
    for f in &cx.vms.vms {
        let Some(vm) = f.vm(cx.index) else { continue };
        for t in f.terminating(cx.index, cx.created_at) {
            let pod = t.pod;
            let node = t.node.unwrap_or("");
            let mut summary = format!(
                "Its deletionTimestamp {} (the deletion request plus the grace period) passed {} \
                 before the capture; the pod is still {}{}.",
                t.deadline,
                t.overdue,
                pod.status.phase.as_deref().unwrap_or("present"),
                if node.is_empty() {
                    String::new()
                } else {
                    format!(" on {node}")
                }
            );
            if t.finalizers.is_empty() {
                summary.push_str(
                    " It has no finalizers: it stays until the kubelet reports its containers \
                     stopped and its volumes unmounted.",
                );
            } else {
                let _ = write!(
                    summary,
                    " Finalizers: {} (each must be removed by its controller).",
                    t.finalizers.join(", ")
                );
            }
            let mut evidence = vec![Evidence::of(cx.index, pod, Some("deletionTimestamp"))];
            let mut objects = vec![ObjectRef::of(pod), ObjectRef::of(vm)];
            let mut topics: Vec<String> = Vec::new();
            let mut causes: Vec<String> = Vec::new();
            let mut attached_vols: Vec<String> = Vec::new();
            // The node.
            let n = cx.index.find("", "Node", "", node);
            match n {
                None if !node.is_empty() => causes.push(format!(
                    "node {node} is not in the capture: no kubelet there can report the pod gone"
                )),
                Some(n) => {
                    if let Some(c) = condition(&n.status.conditions, "Ready")
                        && c.status != "True"
                    {
                        causes.push(format!(
                            "node {node} is not Ready ({} since {}): its kubelet cannot report \
                             the pod gone",
                            c.reason.as_deref().unwrap_or(&c.status),
                            cx.ago(c.last_transition_time.as_deref())
                        ));
                        evidence.push(Evidence::of(cx.index, n, Some("type: Ready")));
                        objects.push(ObjectRef::of(n));
                    }
                }
                None => {}
            }
            // Its volumes.
            for c in f.chains(cx.storage) {
                let claim = c.claim.as_ref().map(|(_, n)| n.as_str()).unwrap_or("");
                if let Some(trouble) = vm_facts::volume_trouble(cx.index, c, listed)
                    && trouble != VolumeTrouble::Degraded
                {
                    causes.push(format!(
                        "its volume {} (claim {claim}) is {}",
                        c.name,
                        trouble.word()
                    ));
                    topics.extend(chain_subjects(cx, c));
                }
                for a in attached_on(cx, c, node) {
                    attached_vols.push(c.name.clone());
                    causes.push(format!(
                        "its volume {} (claim {claim}) is still attached to {node} \
                         (VolumeAttachment {}{}): likely the kubelet has not unmapped it, and the \
                         pod cannot finish before it does",
                        c.name,
                        a.key.name,
                        c.volume(cx.index)
                            .and_then(LhVolume::of)
                            .and_then(|v| v.state())
                            .map(|s| format!("; Longhorn volume {s}"))
                            .unwrap_or_default()
                    ));
                    evidence.push(Evidence::of(cx.index, a, Some("attached")));
                    objects.push(ObjectRef::of(a));
                }
            }
            // What the kubelet says.
            let warnings: Vec<(&Object, &crate::model::views::EventView)> =
                vm_facts::events_about(cx.index, pod)
                    .into_iter()
                    .filter(|(_, e)| e.kind.as_deref() == Some("Warning"))
                    .collect();
            if let Some((eo, e)) = warnings.last() {
                let _ = write!(
                    summary,
                    "\nThe last Warning event about it, seen {}: {}.",
                    cx.ago(e.last.as_deref()),
                    vm_facts::event_text(e)
                );
                evidence.push(Evidence::of(cx.index, eo, Some("reason")));
            }
            if causes.is_empty() {
                summary.push_str(
                    "\nThe capture shows no cause in the API objects (node Ready, volumes \
                     detached): the kubelet's log on the node says why it does not finish the pod.",
                );
            } else {
                let _ = write!(summary, "\nLikely cause: {}.", causes.join("; "));
            }
            let upgrade = upgrade_draining(cx, node);
            let severity = if upgrade.is_some() {
                Severity::Info
            } else {
                Severity::Warning
            };
            let fix = match &upgrade {
                Some(u) => format!(
                    "Upgrade {u} is draining {node}: it stops and migrates the VMs there, and \
                     this pod is part of that. Leave it to the upgrade; if the upgrade stays \
                     stuck, see its finding:\n$ {}",
                    cx.sbdiag("describe", &format!("upgrade {u} -n harvester-system"))
                ),
                None => {
                    let mut s = String::new();
                    if n.is_some_and(|n| {
                        condition(&n.status.conditions, "Ready").is_some_and(|c| c.status != "True")
                    }) {
                        let _ = writeln!(
                            s,
                            "Bring {node} back: once its kubelet reports again, it finishes the \
                             pod."
                        );
                    } else if cx.nodes.iter().any(|b| b.name == node) {
                        let _ = writeln!(
                            s,
                            "Read why the kubelet on {node} does not finish the pod, in its log:\n$ {}",
                            cx.sbdiag(
                                "logs",
                                &format!("{node} -c kubelet --grep {}", pod.key.name)
                            )
                        );
                    } else if !node.is_empty() {
                        let _ = writeln!(
                            s,
                            "Read why the kubelet on {node} does not finish the pod, in its log on \
                             the node (`/var/lib/rancher/rke2/agent/logs/kubelet.log`), lines \
                             naming {}.",
                            pod.key.name
                        );
                    }
                    let _ = writeln!(
                        s,
                        "Do not force-delete the pod while {}: `--force` only removes the API \
                         object, the VM's QEMU process may still run on {node} and hold the \
                         volume, and a new launcher started elsewhere could then write to the \
                         same volume at the same time (data corruption).",
                        if attached_vols.is_empty() {
                            format!("{node} may still run its QEMU process")
                        } else {
                            format!("volume {} is attached to {node}", attached_vols.join(", "))
                        }
                    );
                    let _ = write!(
                        s,
                        "Only once {node} runs no QEMU process for {} (`pgrep -af 'qemu.*{}'` on \
                         the node) and the volume is detached, remove the pod object:\n$ kubectl \
                         -n {} delete pod {} --force --grace-period=0",
                        vm.key.name, vm.key.name, pod.key.namespace, pod.key.name
                    );
                    s
                }
            };
            let mut explains = vec![ObjectRef::of(vm).subject()];
            if let Some(vmi) = f.vmi(cx.index) {
                explains.push(ObjectRef::of(vmi).subject());
            }
            out.push(
                Finding::about(
                    "vm.launcher-terminating",
                    pod,
                    severity,
                    format!(
                        "Launcher pod {}/{} of VM {} is stuck terminating{} for {}",
                        pod.key.namespace,
                        pod.key.name,
                        vm.key.name,
                        if node.is_empty() {
                            String::new()
                        } else {
                            format!(" on {node}")
                        },
                        t.overdue
                    ),
                )
                .with_summary(summary)
                .with_objects(objects)
                .with_evidence(evidence)
                .with_remediation(fix)
                .with_topics(topics)
                .explaining(explains),
            );
        }
    }
    out
}

// ---------------------------------------------------------------- VMs on bad volumes

static VM_VOLUME: RuleInfo = RuleInfo {
    id: "vm.volume-unhealthy",
    title: "VMs on lost, faulted or degraded volumes",
    description: "A VM whose volume (its claim's chain: PVC → PV → Longhorn Volume → replicas) \
        is lost, faulted or degraded: what the VM sees of a storage problem. The storage finding \
        about the volume is the cause; this one names the VM, its state and its place in the \
        chain, and is folded under it.",
    inputs: VM_INPUTS,
    versions: "all",
};

fn vm_volume_unhealthy(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let listed = volumes_listed(cx);
    let mut out = Vec::new();
    for f in &cx.vms.vms {
        let Some(vm) = f.vm(cx.index) else { continue };
        let vmi = f.vmi(cx.index);
        for c in f.chains(cx.storage) {
            let Some(trouble) = vm_facts::volume_trouble(cx.index, c, listed) else {
                continue;
            };
            let claim = c.claim.as_ref().map(|(_, n)| n.as_str()).unwrap_or("");
            let in_use = vmi.is_some() || f.wants_running(cx.index);
            let severity = match trouble {
                VolumeTrouble::Degraded => Severity::Warning,
                _ if in_use => Severity::Error,
                _ => Severity::Warning,
            };
            let printed = f.printed(cx.index).unwrap_or("no status");
            let vmi_state = match vmi {
                Some(v) => {
                    let t = Vmi::of(v);
                    let mut s = format!(
                        "its VMI is {}{}",
                        t.and_then(|t| t.phase()).unwrap_or("in no phase"),
                        t.and_then(|t| t.node_name())
                            .map(|n| format!(" on {n}"))
                            .unwrap_or_default()
                    );
                    for cnd in v
                        .status
                        .conditions
                        .iter()
                        .filter(|x| x.kind == "Paused" && x.status == "True")
                    {
                        let _ = write!(
                            s,
                            ", paused ({}{})",
                            cnd.reason.as_deref().unwrap_or("no reason"),
                            cnd.message
                                .as_deref()
                                .map(|m| format!(": {}", crate::text::one_line(m, 200)))
                                .unwrap_or_default()
                        );
                    }
                    s
                }
                None => "it has no VMI".into(),
            };
            let lh = c.volume(cx.index);
            let lh_state = lh.and_then(LhVolume::of).map(|t| {
                format!(
                    "Longhorn volume {}: {}, robustness {}",
                    c.longhorn_name.as_deref().unwrap_or(&c.name),
                    t.state().unwrap_or("state unknown"),
                    t.robustness().unwrap_or("unknown")
                )
            });
            let replicas: Vec<String> = VolumeChain::objects(cx.index, &c.replicas)
                .into_iter()
                .map(|r| {
                    let l = storage_facts::volume_links(cx.index, c, 0, false);
                    l.iter()
                        .find(|x| {
                            x.at.and_then(|i| cx.index.objects.get(i))
                                .is_some_and(|o| o.key == r.key)
                        })
                        .map(|x| format!("{} ({})", r.key.name, x.state))
                        .unwrap_or_else(|| r.key.name.clone())
                })
                .collect();
            let mut summary = format!(
                "VM {}/{} shows {printed}; {vmi_state}. It mounts claim {claim}, bound to \
                 PersistentVolume {}, which is {}.",
                vm.key.namespace,
                vm.key.name,
                c.name,
                trouble.word()
            );
            match trouble {
                VolumeTrouble::Lost => summary.push_str(
                    " Longhorn no longer serves it (see the storage.volume-lost finding).",
                ),
                _ => {
                    if let Some(s) = &lh_state {
                        let _ = write!(summary, " {s}.");
                    }
                    if !replicas.is_empty() {
                        let _ = write!(summary, " Replicas: {}.", replicas.join("; "));
                    }
                }
            }
            let mut evidence = vec![Evidence::of(cx.index, vm, Some("printableStatus"))];
            if let Some(v) = vmi {
                evidence.push(Evidence::of(cx.index, v, Some("phase")));
            }
            match lh {
                Some(l) => evidence.push(Evidence::of(cx.index, l, Some("robustness"))),
                None => evidence.extend(
                    c.pv(cx.index)
                        .map(|pv| Evidence::of(cx.index, pv, Some("volumeHandle"))),
                ),
            }
            let objects: Vec<ObjectRef> = std::iter::once(vm)
                .chain(vmi)
                .chain(c.pvc(cx.index))
                .chain(c.pv(cx.index))
                .chain(lh)
                .map(ObjectRef::of)
                .collect();
            let fix = format!(
                "{}The volume is the cause: fix it first (its storage finding has the steps), \
                 then the VM follows. Its whole chain:\n$ {}\n{}",
                repo_vm_note(cx, vm),
                describe_vm(cx, vm),
                match trouble {
                    VolumeTrouble::Lost => format!(
                        "Keep the VM stopped until the volume is restored (from a backup or \
                         snapshot of claim {claim}): a VM started on it has no disk to boot from."
                    ),
                    VolumeTrouble::Faulted => "Do not delete the VM, its claim or the volume: \
                        Longhorn can salvage a failed replica that still holds the data once its \
                        node and disk are back (Longhorn UI, volume, Salvage)."
                        .to_string(),
                    VolumeTrouble::Degraded => "The VM keeps running on the healthy replicas; \
                        Longhorn rebuilds the missing one when a node and disk can take it."
                        .to_string(),
                }
            );
            out.push(
                Finding::about("vm.volume-unhealthy", vm, severity, {
                    format!(
                        "VM {}/{}'s volume {} (claim {claim}) is {}",
                        vm.key.namespace,
                        vm.key.name,
                        c.name,
                        trouble.word()
                    )
                })
                .with_subject_aspect(claim)
                .with_summary(summary)
                .with_objects(objects)
                .with_evidence(evidence)
                .with_remediation(fix)
                .with_topics(chain_subjects(cx, c)),
            );
        }
    }
    out
}

// ---------------------------------------------------------------- migrations

static VM_MIGRATION: RuleInfo = RuleInfo {
    id: "vm.migration-stuck",
    title: "Live migrations that do not finish or failed",
    description: "A VirtualMachineInstanceMigration not Succeeded/Failed more than 30 minutes \
        after its creation at capture time, or the last migration of a VM that Failed, with why \
        in the capture's words: its failure reason and conditions, its Warning events, its \
        target virt-launcher pod's scheduling condition and events (Unschedulable: no node with \
        room, the VM's node selector or CPU model, taints). A migration of a node a running \
        upgrade drains is the upgrade's (info).",
    inputs: &[Input::Resources, Input::CaptureTime],
    versions: "all",
};

fn vm_migration(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    // The newest migration of each VMI: only it says what the VM's migration state is.
    let mut newest: std::collections::HashMap<(&str, &str), (&str, usize)> =
        std::collections::HashMap::new();
    for (o, t) in cx.index.typed::<VmiMigration>() {
        let (Some(vmi), Some(i)) = (t.vmi_name(), cx.index.position(&o.key)) else {
            continue;
        };
        let created = o.meta.creation_timestamp.as_deref().unwrap_or("");
        let e = newest
            .entry((o.key.namespace.as_str(), vmi))
            .or_insert((created, i));
        if (created, i) > *e {
            *e = (created, i);
        }
    }
    let mut out = Vec::new();
    for (o, t) in cx.index.typed::<VmiMigration>() {
        let Some(i) = cx.index.position(&o.key) else {
            continue;
        };
        let Some(m) = vm_facts::migration_view(cx.index, i) else {
            continue;
        };
        let vmi_name = t.vmi_name().unwrap_or("");
        let is_newest = newest
            .get(&(o.key.namespace.as_str(), vmi_name))
            .is_some_and(|(_, n)| *n == i);
        let Some(age) = crate::model::Age::at(o.meta.creation_timestamp.as_deref(), cx.created_at)
        else {
            continue;
        };
        let failed = m.phase == "Failed";
        let stuck =
            !matches!(m.phase, "Succeeded" | "Failed") && age.0 > vm_facts::MIGRATION_LIMIT_SECS;
        if !(stuck || failed && is_newest) {
            continue;
        }
        let vmi = cx.index.find(
            "kubevirt.io",
            "VirtualMachineInstance",
            &o.key.namespace,
            vmi_name,
        );
        let source = vmi.and_then(Vmi::of).and_then(|v| v.node_name());
        let hint = m
            .reasons
            .iter()
            .find_map(|r| vm_facts::unschedulable_hint(r));
        let title = if failed {
            format!(
                "Migration {} of VM {vmi_name} failed{}",
                o.key.name,
                m.reasons
                    .first()
                    .map(|r| format!(": {}", crate::text::one_line(r, 120)))
                    .unwrap_or_default()
            )
        } else {
            format!(
                "Migration {} of VM {vmi_name} is {} since {age}",
                o.key.name, m.phase
            )
        };
        let mut summary = format!(
            "Created {}, phase {}{}.",
            cx.ago(o.meta.creation_timestamp.as_deref()),
            m.phase,
            t.phase_since()
                .filter(|_| failed)
                .map(|s| format!(" since {}", cx.ago(Some(s))))
                .unwrap_or_default()
        );
        if let Some(n) = source {
            let _ = write!(summary, " The VM still runs on {n}.");
        }
        if m.reasons.is_empty() {
            summary.push_str(
                " The capture holds no reason (no failure reason, condition or Warning event).",
            );
        } else {
            let _ = write!(
                summary,
                "\nWhy, as the capture shows it:\n- {}",
                m.reasons.join("\n- ")
            );
        }
        if let Some(h) = hint {
            let _ = write!(summary, "\nSo {h}.");
        }
        if !m.gone_targets.is_empty() {
            let _ = write!(
                summary,
                "\nTarget pod {} is no longer in the capture.",
                m.gone_targets.join(", ")
            );
        }
        // The migration's own phase is cited by `finding`.
        let mut evidence: Vec<Evidence> = Vec::new();
        evidence.extend(
            m.targets
                .iter()
                .map(|p| Evidence::of(cx.index, p, Some("PodScheduled"))),
        );
        evidence.extend(
            m.events
                .iter()
                .map(|e| Evidence::of(cx.index, e, Some("reason"))),
        );
        let mut objects = vec![ObjectRef::of(o)];
        objects.extend(vmi.map(ObjectRef::of));
        objects.extend(m.targets.iter().map(|p| ObjectRef::of(p)));
        let note = vmi.map(|v| repo_vm_note(cx, v)).unwrap_or_default();
        let (severity, fix) = match &m.upgrade {
            Some(u) => (
                Severity::Info,
                format!(
                    "{note}This migration evacuates a node that upgrade {u} drains: it is the \
                     upgrade's. Do not delete it while the upgrade runs; the upgrade waits for \
                     it. If the upgrade stays stuck, see its finding:\n$ {}",
                    cx.sbdiag("describe", &format!("upgrade {u} -n harvester-system"))
                ),
            ),
            None if failed => (
                Severity::Warning,
                format!(
                    "{note}A failed migration leaves the VM where it ran. Remove the cause \
                     above{}, then migrate again from the Harvester UI (Migrate) or:\n$ virtctl \
                     migrate {vmi_name} -n {}",
                    if hint.is_some() {
                        " (free a node that can take the VM, or relax its node selector)"
                    } else {
                        ""
                    },
                    o.key.namespace
                ),
            ),
            None => (
                Severity::Warning,
                format!(
                    "{note}Check the target virt-launcher pod and the VM's migratability \
                     (LiveMigratable condition). To cancel the migration (the VM stays where it \
                     runs), delete it:\n$ kubectl -n {} delete \
                     virtualmachineinstancemigrations.kubevirt.io {}",
                    o.key.namespace, o.key.name
                ),
            ),
        };
        out.push(
            finding(
                "vm.migration-stuck",
                subject(o, ""),
                severity,
                title,
                summary,
                o,
                cx,
                Some("phase"),
                fix,
            )
            .with_objects(objects)
            .with_evidence(evidence),
        );
    }
    out
}

static VM_LAUNCHER: RuleInfo = RuleInfo {
    id: "vm.launcher-not-ready",
    title: "Running VMs whose virt-launcher pod is not ready",
    description: "A VMI whose launcher pod (kubevirt.io/created-by or owner) is not Ready (a pod \
        stuck terminating is vm.launcher-terminating's).",
    inputs: &[
        Input::Resources,
        Input::Resource("kubevirt.io", "virtualmachineinstances"),
    ],
    versions: "all",
};

fn vm_launcher(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for vmi in cx.index.of_kind("kubevirt.io", "VirtualMachineInstance") {
        let Some(vi) = cx.index.position(&vmi.key) else {
            continue;
        };
        for p in cx.graph.pods_of(cx.index, vi) {
            let Some(po) = cx.index.objects.get(p) else {
                continue;
            };
            if vm_facts::terminating(po, cx.created_at).is_some()
                && cx.vms.of(&vmi.key.namespace, &vmi.key.name).is_some()
            {
                continue;
            }
            if let Some(problem) = crate::fleet::pod_problem(po) {
                out.push(finding(
                    "vm.launcher-not-ready",
                    subject(po, ""),
                    Severity::Warning,
                    format!(
                        "Launcher pod of VM {}/{} is not ready: {}",
                        vmi.key.namespace,
                        vmi.key.name,
                        crate::text::one_line(&problem, 120)
                    ),
                    problem,
                    po,
                    cx,
                    Some("containerStatuses"),
                    format!(
                        "{}Read why the launcher is not ready:\n$ {}",
                        repo_vm_note(cx, vmi),
                        cx.sbdiag(
                            "logs",
                            &format!("-n {} {} -c compute", po.key.namespace, po.key.name)
                        )
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::TestBed;

    const UPGRADE: &str = "apiVersion: harvesterhci.io/v1beta1\nkind: Upgrade\nmetadata:\n  \
        name: hvst-upgrade-a\n  namespace: harvester-system\n  labels:\n    \
        harvesterhci.io/upgradeState: UpgradingNodes\nstatus:\n  nodeStatuses:\n    n2:\n      \
        state: Pre-drained\n";
    const REPO_VM: &str = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  \
        name: upgrade-repo-hvst-upgrade-a\n  namespace: harvester-system\n  labels:\n    \
        harvesterhci.io/upgrade: hvst-upgrade-a\nspec:\n  runStrategy: Always\nstatus:\n  \
        printableStatus: Starting\n";
    const VM: &str = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: vm1\n  \
        namespace: ns\nspec:\n  runStrategy: Halted\nstatus:\n  printableStatus: Stopped\n";
    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: virt-launcher-vm1-abcde\n  \
        namespace: ns\n  deletionTimestamp: \"2025-02-14T08:00:00Z\"\n  labels:\n    \
        vm.kubevirt.io/name: vm1\nspec:\n  nodeName: n2\nstatus:\n  phase: Running\n";
    const NODE_DOWN: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\nstatus:\n  \
        conditions:\n  - type: Ready\n    status: Unknown\n    reason: NodeStatusUnknown\n    \
        lastTransitionTime: \"2025-02-14T07:50:00Z\"\n";

    #[test]
    fn the_repository_vm_of_a_running_upgrade_is_never_to_be_stopped() {
        let rule = RuleDef::new(VM_NOT_RUNNING, vm_not_running);
        let f = TestBed::new(&[REPO_VM, UPGRADE], Some("v1.4.0")).run(&rule);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].remediation.starts_with(
                "harvester-system/upgrade-repo-hvst-upgrade-a is the repository VM of upgrade \
                 hvst-upgrade-a"
            ),
            "{}",
            f[0].remediation
        );
        assert!(f[0].remediation.contains("Do not stop or delete it"));
        assert!(f[0].remediation.contains(
            "\n$ sbdiag describe -b supportbundle_test.zip vm upgrade-repo-hvst-upgrade-a -n \
             harvester-system"
        ));
        let failed = UPGRADE.replace("UpgradingNodes", "Failed");
        let f = TestBed::new(&[REPO_VM, &failed], Some("v1.4.0")).run(&rule);
        assert!(!f[0].remediation.contains("repository VM"));
    }

    #[test]
    fn a_launcher_stuck_on_a_down_node_names_the_node_and_explains_the_printed_status() {
        let rule = RuleDef::new(VM_TERMINATING, vm_launcher_terminating);
        let f = TestBed::new(&[VM, POD, NODE_DOWN], Some("v1.4.0")).run(&rule);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].id,
            "vm.launcher-terminating:Pod/ns/virt-launcher-vm1-abcde"
        );
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].title,
            "Launcher pod ns/virt-launcher-vm1-abcde of VM vm1 is stuck terminating on n2 for 1h41m"
        );
        assert!(
            f[0].summary.contains(
                "Likely cause: node n2 is not Ready (NodeStatusUnknown since 2025-02-14T07:50:00Z"
            ),
            "{}",
            f[0].summary
        );
        assert!(f[0].remediation.starts_with("Bring n2 back"));
        assert!(f[0].explains.contains(&"VirtualMachine/ns/vm1".to_string()));
        // The mismatch it explains.
        let m = TestBed::new(&[VM, POD, NODE_DOWN], Some("v1.4.0"))
            .run(&RuleDef::new(VM_STATUS, vm_status_mismatch));
        assert_eq!(m[0].id, "vm.status-mismatch:VirtualMachine/ns/vm1");
        // A running upgrade draining n2 owns it: info, nothing deleted.
        let f = TestBed::new(&[VM, POD, NODE_DOWN, UPGRADE], Some("v1.4.0")).run(&rule);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(
            f[0].remediation
                .starts_with("Upgrade hvst-upgrade-a is draining n2")
        );
        assert!(!f[0].remediation.contains("delete pod"));
        // Deleted a minute before the capture: still within its grace, not stuck.
        let soon = POD.replace("2025-02-14T08:00:00Z", "2025-02-14T09:40:00Z");
        assert!(TestBed::new(&[VM, &soon], None).run(&rule).is_empty());
    }

    #[test]
    fn a_pending_migration_quotes_its_unschedulable_target_and_an_evacuation_is_the_upgrades() {
        let mig = "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstanceMigration\nmetadata:\n  \
            name: vm1-mig\n  namespace: ns\n  uid: m-1\n  creationTimestamp: \"2025-02-14T09:00:00Z\"\n\
            spec:\n  vmiName: vm1\nstatus:\n  phase: Scheduling\n";
        let target = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: virt-launcher-vm1-zzzzz\n  \
            namespace: ns\n  labels:\n    kubevirt.io/migrationJobUID: m-1\nspec:\n  \
            containers: []\nstatus:\n  phase: Pending\n  conditions:\n  - type: PodScheduled\n    \
            status: \"False\"\n    reason: Unschedulable\n    \
            message: \"0/3 nodes are available: 3 Insufficient memory.\"\n";
        let rule = RuleDef::new(VM_MIGRATION, vm_migration);
        let f = TestBed::new(&[mig, target], None).run(&rule);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].title,
            "Migration vm1-mig of VM vm1 is Scheduling since 41m"
        );
        assert!(
            f[0].summary.contains(
                "- target pod virt-launcher-vm1-zzzzz not scheduled (Unschedulable): 0/3 nodes \
                 are available: 3 Insufficient memory."
            ),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].summary
                .contains("So likely no other node has the free CPU or memory the VM requests.")
        );
        assert!(f[0].remediation.contains(
            "$ kubectl -n ns delete virtualmachineinstancemigrations.kubevirt.io vm1-mig"
        ));
        // The evacuation of a node a running upgrade drains is the upgrade's.
        let evac = mig.replace(
            "  uid: m-1\n",
            "  uid: m-1\n  annotations:\n    kubevirt.io/evacuationMigration: n2\n",
        );
        let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n";
        let f = TestBed::new(&[&evac, target, node, UPGRADE], None).run(&rule);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(!f[0].remediation.contains("$ kubectl"));
        // Younger than 30 minutes: still migrating.
        let young = mig.replace("09:00:00Z", "09:30:00Z");
        assert!(TestBed::new(&[&young], None).run(&rule).is_empty());
    }
}
