//! The VM fact, built once from the index and the storage chains: for every VirtualMachine,
//! its VirtualMachineInstance, its virt-launcher pods (label `kubevirt.io/created-by` = the
//! VMI's uid, label `vm.kubevirt.io/name`, or a VMI owner reference), its volumes (each claim's
//! chain in [`Storage`]: PVC → PV → Longhorn Volume → engines and replicas), and its
//! VirtualMachineInstanceMigrations. Beside it, what the capture says of each link: a launcher
//! pod stuck terminating, a printed status that the objects contradict, a volume lost, faulted
//! or degraded, a migration's target pods and the reasons it waits or failed. The `vm.*` rules,
//! `describe vm` and the report's VM view read it.
use std::collections::HashMap;

use crate::facts::storage::{self, Link, Storage, VolumeChain};
use crate::facts::upgrade::{self as upgrade_facts, Owned};
use crate::index::{Index, Object};
use crate::model::typed::kubevirt::{VirtualMachine, Vmi, VmiMigration};
use crate::model::typed::longhorn::LhVolume;
use crate::model::views::{EventView, View};
use crate::model::{Age, Timestamp, condition};

/// Label of a virt-launcher pod naming the uid of the VMI that created it.
pub const CREATED_BY: &str = "kubevirt.io/created-by";
/// The label (key, value) every virt-launcher pod carries.
pub const LAUNCHER_LABEL: (&str, &str) = ("kubevirt.io", "virt-launcher");
/// Label of a virt-launcher pod naming its VM.
pub const VM_NAME_LABEL: &str = "vm.kubevirt.io/name";
/// Label of a migration target pod naming the uid of its VirtualMachineInstanceMigration.
pub const MIGRATION_JOB_UID: &str = "kubevirt.io/migrationJobUID";
/// Annotation of an evacuation migration (a drain) naming the node it empties.
pub const EVACUATION: &str = "kubevirt.io/evacuationMigration";
/// The reason KubeVirt's conditions give while the launcher pod is terminating.
pub const POD_TERMINATING: &str = "PodTerminating";

/// How long past its `deletionTimestamp` a pod may still be in the capture before it counts as
/// stuck. The API server sets `deletionTimestamp` to the deletion request plus the grace period,
/// so the grace period is already in it; the margin covers the kubelet's last steps.
pub const TERMINATING_MARGIN_SECS: i64 = 5 * 60;

/// How long a VM may print `Starting` (or `Provisioning`, `WaitingForVolumeBinding`) before it
/// counts as stuck there.
pub const STARTING_LIMIT_SECS: i64 = 10 * 60;

/// How long a migration may stay unfinished before it counts as stuck.
pub const MIGRATION_LIMIT_SECS: i64 = 30 * 60;

/// One volume of a VM: the claim its VMI (or, stopped, its template) names, and that claim's
/// chain.
#[derive(Debug, Clone, PartialEq)]
pub struct VmVolume {
    /// The claim's name (in the VM's namespace).
    pub claim: String,
    /// Its chain's position in [`Storage::volumes`], when the capture knows the claim.
    pub chain: Option<usize>,
}

/// One VM and everything under it, by index position.
#[derive(Debug, Clone, PartialEq)]
pub struct VmFact {
    /// The VirtualMachine.
    pub vm: usize,
    /// Its VirtualMachineInstance (same namespace and name).
    pub vmi: Option<usize>,
    /// Its virt-launcher pods (the running one, migration targets, pods left terminating).
    pub launchers: Vec<usize>,
    /// Its volumes: the VMI's claims, else the template's.
    pub volumes: Vec<VmVolume>,
    /// Its VirtualMachineInstanceMigrations, oldest first.
    pub migrations: Vec<usize>,
}

/// Every VM's fact, with a lookup by namespace and name.
#[derive(Debug, Clone, Default)]
pub struct Vms {
    /// The VMs, in index order.
    pub vms: Vec<VmFact>,
    by_name: HashMap<(String, String), usize>,
}

impl Vms {
    /// Builds every VM's fact in one pass over pods and migrations.
    pub fn build(index: &Index, storage: &Storage) -> Vms {
        let mut pods_by_uid: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        let mut pods_by_vm: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for p in index.of_kind("", "Pod") {
            let Some(i) = index.position(&p.key) else {
                continue;
            };
            let ns = p.key.namespace.as_str();
            if let Some(u) = p.meta.labels.get(CREATED_BY) {
                pods_by_uid.entry((ns, u)).or_default().push(i);
            }
            let vm = p
                .meta
                .labels
                .get(VM_NAME_LABEL)
                .map(String::as_str)
                .or_else(|| {
                    p.meta
                        .owner_references
                        .iter()
                        .find(|r| r.kind == "VirtualMachineInstance")
                        .map(|r| r.name.as_str())
                });
            if let Some(vm) = vm {
                pods_by_vm.entry((ns, vm)).or_default().push(i);
            }
        }
        let mut migrations: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (o, t) in index.typed::<VmiMigration>() {
            if let (Some(vmi), Some(i)) = (t.vmi_name(), index.position(&o.key)) {
                migrations
                    .entry((&o.key.namespace, vmi))
                    .or_default()
                    .push(i);
            }
        }
        let mut out = Vms::default();
        for (o, t) in index.typed::<VirtualMachine>() {
            let Some(vm) = index.position(&o.key) else {
                continue;
            };
            let ns = o.key.namespace.as_str();
            let name = o.key.name.as_str();
            let vmi_obj = index.find("kubevirt.io", "VirtualMachineInstance", ns, name);
            let vmi = vmi_obj.and_then(|v| index.position(&v.key));
            let mut launchers: Vec<usize> =
                pods_by_vm.get(&(ns, name)).cloned().unwrap_or_default();
            if let Some(v) = vmi_obj.filter(|v| !v.meta.uid.is_empty()) {
                launchers.extend(
                    pods_by_uid
                        .get(&(ns, v.meta.uid.as_str()))
                        .into_iter()
                        .flatten(),
                );
            }
            launchers.sort_unstable();
            launchers.dedup();
            let claims: Vec<&str> = match vmi_obj.and_then(Vmi::of) {
                Some(v) => v.volumes().filter_map(|x| x.claim_name()).collect(),
                None => t
                    .template_volumes()
                    .filter_map(|x| x.claim_name())
                    .collect(),
            };
            let volumes = claims
                .into_iter()
                .map(|c| VmVolume {
                    claim: c.to_string(),
                    chain: storage.position_of_claim(ns, c),
                })
                .collect();
            let mut migs = migrations.get(&(ns, name)).cloned().unwrap_or_default();
            migs.sort_by(|a, b| {
                let created = |i: &usize| {
                    index
                        .objects
                        .get(*i)
                        .and_then(|o| o.meta.creation_timestamp.clone())
                };
                created(a).cmp(&created(b)).then(a.cmp(b))
            });
            out.by_name
                .insert((ns.to_string(), name.to_string()), out.vms.len());
            out.vms.push(VmFact {
                vm,
                vmi,
                launchers,
                volumes,
                migrations: migs,
            });
        }
        out
    }

    /// The VM `namespace/name`.
    pub fn of(&self, namespace: &str, name: &str) -> Option<&VmFact> {
        self.by_name
            .get(&(namespace.to_string(), name.to_string()))
            .and_then(|&i| self.vms.get(i))
    }
}

/// A pod past its `deletionTimestamp` by more than [`TERMINATING_MARGIN_SECS`] at capture.
#[derive(Debug, Clone)]
pub struct Terminating<'a> {
    /// The pod.
    pub pod: &'a Object,
    /// Its `deletionTimestamp` (the deletion request plus the grace period).
    pub deadline: &'a str,
    /// How long before the capture that deadline passed.
    pub overdue: Age,
    /// The node it is on.
    pub node: Option<&'a str>,
    /// Its finalizers.
    pub finalizers: Vec<&'a str>,
}

/// Whether `pod` is stuck terminating at `capture` (see [`Terminating`]).
pub fn terminating(pod: &Object, capture: Option<Timestamp>) -> Option<Terminating<'_>> {
    let View::Pod(v) = &pod.view else {
        return None;
    };
    let deadline = pod.meta.deletion_timestamp.as_deref()?;
    let overdue = Age::at(Some(deadline), capture)?;
    (overdue.0 > TERMINATING_MARGIN_SECS).then(|| Terminating {
        pod,
        deadline,
        overdue,
        node: v.node_name.as_deref(),
        finalizers: pod.meta.finalizer_names(),
    })
}

/// A link of a VM whose state the capture contradicts its printed status with.
#[derive(Debug, Clone)]
pub enum Mismatch<'a> {
    /// Printed `Stopped` (or `Stopping`) while its VMI still exists and has not finished.
    StoppedWithVmi {
        /// The VMI.
        vmi: &'a Object,
        /// Its phase.
        phase: &'a str,
    },
    /// Printed `Stopped` while a launcher pod has not finished.
    StoppedWithPod {
        /// The pod.
        pod: &'a Object,
    },
    /// A condition of the VM or its VMI says the launcher pod is terminating (`PodTerminating`)
    /// while the VM prints something else.
    PodTerminating {
        /// The object whose condition says so.
        on: &'a Object,
        /// The condition's type.
        condition: &'a str,
    },
    /// Printed `Running` with no VMI in the capture.
    RunningWithoutVmi,
    /// Printed `Starting` (or provisioning) for longer than [`STARTING_LIMIT_SECS`].
    StartingLong {
        /// Since when, as the capture shows it (the VMI's creation, else the VM's `Ready`
        /// condition's last change).
        since: &'a str,
        /// How long before the capture.
        age: Age,
    },
}

impl VmFact {
    /// The VirtualMachine.
    pub fn vm<'a>(&self, index: &'a Index) -> Option<&'a Object> {
        index.objects.get(self.vm)
    }

    /// The VirtualMachineInstance.
    pub fn vmi<'a>(&self, index: &'a Index) -> Option<&'a Object> {
        index.objects.get(self.vmi?)
    }

    /// The launcher pods.
    pub fn launchers<'a>(&self, index: &'a Index) -> Vec<&'a Object> {
        VolumeChain::objects(index, &self.launchers)
    }

    /// The VM's printed status (`status.printableStatus`).
    pub fn printed<'a>(&self, index: &'a Index) -> Option<&'a str> {
        self.vm(index)
            .and_then(VirtualMachine::of)
            .and_then(|t| t.printable_status())
    }

    /// Whether the VM is meant to run: `runStrategy` `Always` or `RerunOnFailure`, or
    /// `running: true`.
    pub fn wants_running(&self, index: &Index) -> bool {
        let Some(t) = self.vm(index).and_then(VirtualMachine::of) else {
            return false;
        };
        match t.run_strategy() {
            Some(s) => matches!(s, "Always" | "RerunOnFailure"),
            None => t.running() == Some(true),
        }
    }

    /// What the capture shows against the VM's printed status.
    pub fn mismatches<'a>(
        &self,
        index: &'a Index,
        capture: Option<Timestamp>,
    ) -> Vec<Mismatch<'a>> {
        let mut out = Vec::new();
        let Some(vm) = self.vm(index) else {
            return out;
        };
        let printed = self.printed(index).unwrap_or("");
        let vmi = self.vmi(index);
        let unfinished =
            |o: &Object| !matches!(o.status.phase.as_deref(), Some("Succeeded" | "Failed"));
        if printed == "Stopped" {
            if let Some(v) = vmi.filter(|v| unfinished(v)) {
                out.push(Mismatch::StoppedWithVmi {
                    vmi: v,
                    phase: Vmi::of(v).and_then(|t| t.phase()).unwrap_or("unknown"),
                });
            }
            for p in self.launchers(index).into_iter().filter(|p| unfinished(p)) {
                out.push(Mismatch::StoppedWithPod { pod: p });
            }
        }
        if !matches!(printed, "Terminating" | "Stopping") {
            for o in [Some(vm), vmi].into_iter().flatten() {
                if let Some(c) =
                    o.status.conditions.iter().find(|c| {
                        c.status != "True" && c.reason.as_deref() == Some(POD_TERMINATING)
                    })
                {
                    out.push(Mismatch::PodTerminating {
                        on: o,
                        condition: &c.kind,
                    });
                    break;
                }
            }
        }
        if printed == "Running" && vmi.is_none() {
            out.push(Mismatch::RunningWithoutVmi);
        }
        if matches!(
            printed,
            "Starting" | "Provisioning" | "WaitingForVolumeBinding"
        ) {
            let since = vmi
                .and_then(|v| v.meta.creation_timestamp.as_deref())
                .or_else(|| {
                    condition(&vm.status.conditions, "Ready")
                        .and_then(|c| c.last_transition_time.as_deref())
                });
            if let Some(since) = since
                && let Some(age) = Age::at(Some(since), capture)
                && age.0 > STARTING_LIMIT_SECS
            {
                out.push(Mismatch::StartingLong { since, age });
            }
        }
        out
    }

    /// The launcher pods stuck terminating at `capture`.
    pub fn terminating<'a>(
        &self,
        index: &'a Index,
        capture: Option<Timestamp>,
    ) -> Vec<Terminating<'a>> {
        self.launchers(index)
            .into_iter()
            .filter_map(|p| terminating(p, capture))
            .collect()
    }

    /// The chains of its volumes (those the capture knows), with their claims.
    pub fn chains<'a>(&self, storage: &'a Storage) -> Vec<&'a VolumeChain> {
        self.volumes
            .iter()
            .filter_map(|v| storage.volumes.get(v.chain?))
            .collect()
    }
}

/// What is wrong with a volume under a VM, worst first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum VolumeTrouble {
    /// Lost (see [`VolumeChain::lost`]).
    Lost,
    /// Longhorn says `faulted`: no healthy replica.
    Faulted,
    /// Longhorn says `degraded`: fewer healthy replicas than wanted.
    Degraded,
}

impl VolumeTrouble {
    /// The word for it.
    pub fn word(&self) -> &'static str {
        match self {
            VolumeTrouble::Lost => "lost",
            VolumeTrouble::Faulted => "faulted",
            VolumeTrouble::Degraded => "degraded",
        }
    }
}

/// What is wrong with a volume chain, if anything: lost (with `volumes_listed`, see
/// [`VolumeChain::lost`]), else Longhorn's robustness `faulted` or `degraded`.
pub fn volume_trouble(
    index: &Index,
    c: &VolumeChain,
    volumes_listed: bool,
) -> Option<VolumeTrouble> {
    if c.lost(index, volumes_listed).is_some() {
        return Some(VolumeTrouble::Lost);
    }
    match c.volume(index).and_then(LhVolume::of)?.robustness()? {
        "faulted" => Some(VolumeTrouble::Faulted),
        "degraded" => Some(VolumeTrouble::Degraded),
        _ => None,
    }
}

/// The events about an object (by uid, else by kind, namespace and name), oldest first.
pub fn events_about<'a>(index: &'a Index, o: &Object) -> Vec<(&'a Object, &'a EventView)> {
    events_named(
        index,
        &o.key.kind,
        &o.key.namespace,
        &o.key.name,
        &o.meta.uid,
    )
}

/// The events about `kind namespace/name` (or the object of `uid`), oldest first, one per
/// reason and message (the copies of a second API group dropped).
pub fn events_named<'a>(
    index: &'a Index,
    kind: &str,
    namespace: &str,
    name: &str,
    uid: &str,
) -> Vec<(&'a Object, &'a EventView)> {
    let mut seen = std::collections::HashSet::new();
    let mut v: Vec<(&Object, &EventView)> = index
        .primary()
        .filter(|o| o.key.namespace == namespace)
        .filter_map(|o| match &o.view {
            View::Event(e) => Some((o, e.as_ref())),
            _ => None,
        })
        .filter(|(_, e)| {
            (!uid.is_empty() && e.regarding.uid == uid)
                || (&*e.regarding.kind == kind && e.regarding.name == name)
        })
        .filter(|(_, e)| seen.insert((e.reason.clone(), e.message.clone(), e.last.clone())))
        .collect();
    v.sort_by(|(_, a), (_, b)| a.last.cmp(&b.last));
    v
}

/// A migration and what the capture shows of why it waits or failed.
#[derive(Debug, Clone)]
pub struct MigrationView<'a> {
    /// The VirtualMachineInstanceMigration.
    pub migration: &'a Object,
    /// Its phase (`Pending` when it has none).
    pub phase: &'a str,
    /// Its target virt-launcher pods in the capture (label [`MIGRATION_JOB_UID`] or named by
    /// its status).
    pub targets: Vec<&'a Object>,
    /// The target pod names its events or status name that the capture no longer holds.
    pub gone_targets: Vec<String>,
    /// Why, in the capture's words: `failureReason`, False conditions, Warning events of the
    /// migration and of its target pods, a target pod's `PodScheduled` False message.
    pub reasons: Vec<String>,
    /// The running Upgrade whose drain made it (an evacuation of a node that upgrade drains).
    pub upgrade: Option<String>,
    /// The Warning events the reasons quote, to cite.
    pub events: Vec<&'a Object>,
}

/// The migration at `i` with its targets and reasons.
pub fn migration_view(index: &Index, i: usize) -> Option<MigrationView<'_>> {
    let o = index.objects.get(i)?;
    let t = VmiMigration::of(o)?;
    let ns = o.key.namespace.as_str();
    let mut reasons: Vec<String> = Vec::new();
    if let Some(r) = t.failure_reason() {
        reasons.push(format!("failure reason: {}", crate::text::one_line(r, 300)));
    }
    for c in o.status.conditions.iter().filter(|c| c.status == "False") {
        if let Some(m) = c.message.as_deref().or(c.reason.as_deref()) {
            reasons.push(format!(
                "condition {} False: {}",
                c.kind,
                crate::text::one_line(m, 300)
            ));
        }
    }
    let mut target_names: Vec<String> = t.target_pod().into_iter().map(str::to_string).collect();
    let mut events: Vec<&Object> = Vec::new();
    for (eo, e) in events_about(index, o) {
        if e.kind.as_deref() == Some("Warning") {
            reasons.push(event_text(e));
            events.push(eo);
        }
        // KubeVirt names the target pod it creates or deletes: "… target pod ns/name …".
        if let Some(m) = &e.message {
            for w in m.split_whitespace() {
                let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '/');
                let name = w.strip_prefix(&format!("{ns}/")).unwrap_or(w);
                if name.starts_with("virt-launcher-") && !target_names.iter().any(|n| n == name) {
                    target_names.push(name.to_string());
                }
            }
        }
    }
    let mut targets: Vec<&Object> = index
        .of_kind("", "Pod")
        .filter(|p| {
            p.key.namespace == ns
                && !o.meta.uid.is_empty()
                && p.meta.labels.get(MIGRATION_JOB_UID).map(String::as_str) == Some(&o.meta.uid)
        })
        .collect();
    let mut gone_targets = Vec::new();
    for n in &target_names {
        match index.find("", "Pod", ns, n) {
            Some(p) => {
                if !targets.iter().any(|x| x.key == p.key) {
                    targets.push(p);
                }
            }
            None => gone_targets.push(n.clone()),
        }
    }
    for p in &targets {
        if let Some(c) = condition(&p.status.conditions, "PodScheduled")
            && c.status == "False"
        {
            reasons.push(format!(
                "target pod {} not scheduled ({}): {}",
                p.key.name,
                c.reason.as_deref().unwrap_or("no reason"),
                crate::text::one_line(c.message.as_deref().unwrap_or(""), 300)
            ));
        }
        for (eo, e) in events_about(index, p) {
            if e.kind.as_deref() == Some("Warning") {
                reasons.push(format!("target pod {}: {}", p.key.name, event_text(e)));
                events.push(eo);
            }
        }
    }
    for n in &gone_targets {
        for (eo, e) in events_named(index, "Pod", ns, n, "") {
            if e.kind.as_deref() == Some("Warning") {
                reasons.push(format!("target pod {n} (gone): {}", event_text(e)));
                events.push(eo);
            }
        }
    }
    reasons.dedup();
    let upgrade = o
        .meta
        .annotations
        .get(EVACUATION)
        .and_then(|node| index.find("", "Node", "", node))
        .and_then(|n| match upgrade_facts::owned_by_running(index, n) {
            Some((u, Owned::Node(_))) => Some(u),
            _ => None,
        });
    Some(MigrationView {
        migration: o,
        phase: t.phase().unwrap_or("Pending"),
        targets,
        gone_targets,
        reasons,
        upgrade,
        events,
    })
}

/// An event as one line: `Reason (×count): message`.
pub fn event_text(e: &EventView) -> String {
    format!(
        "{}{}: {}",
        e.reason.as_deref().unwrap_or("event"),
        if e.count > 1 {
            format!(" (×{})", e.count)
        } else {
            String::new()
        },
        crate::text::one_line(e.message.as_deref().unwrap_or(""), 300)
    )
}

/// What a scheduler message says of why no node fits, in words, when it names a cause this
/// knows (node affinity or selector, which a VM's CPU model and node selector become; too
/// little CPU or memory; taints; anti-affinity); `None` otherwise.
pub fn unschedulable_hint(message: &str) -> Option<&'static str> {
    if message.contains("node affinity/selector") {
        Some(
            "likely no other node matches the VM's node selector, affinity or CPU model \
             (KubeVirt's node labeller labels each node with the CPU models it supports)",
        )
    } else if message.contains("Insufficient memory") || message.contains("Insufficient cpu") {
        Some("likely no other node has the free CPU or memory the VM requests")
    } else if message.contains("untolerated taint") || message.contains("had taint") {
        Some("likely the other nodes are tainted (cordoned, drained or in maintenance)")
    } else if message.contains("anti-affinity") {
        Some("likely anti-affinity rules keep the VM off the other nodes")
    } else {
        None
    }
}

/// The whole chain under a VM as `describe` and the report's VM view print it: VM → VMI →
/// launcher pods → each claim's chain ([`storage::volume_links`]: PV, attachments, Longhorn
/// Volume, engines, replicas with node and disk) → migrations and their target pods.
pub fn vm_links(index: &Index, storage: &Storage, f: &VmFact) -> Vec<Link> {
    let mut out = Vec::new();
    let Some(vm) = f.vm(index) else {
        return out;
    };
    out.extend(storage::present(index, 0, "", f.vm));
    let ns = vm.key.namespace.as_str();
    match f.vmi {
        Some(i) => out.extend(storage::present(index, 1, "runs as", i)),
        None => {
            let mut l = storage::absent(
                1,
                "runs as",
                storage::what("VirtualMachineInstance", ns, &vm.key.name),
            );
            if f.printed(index) == Some("Stopped") {
                l.state.push_str(" (the VM is stopped)");
            }
            out.push(l);
        }
    }
    let migration_targets: Vec<usize> = f
        .migrations
        .iter()
        .filter_map(|&m| migration_view(index, m))
        .flat_map(|m| m.targets)
        .filter_map(|p| index.position(&p.key))
        .collect();
    for &p in f
        .launchers
        .iter()
        .filter(|p| !migration_targets.contains(p))
    {
        out.extend(storage::present(index, 2, "in pod", p));
    }
    for v in &f.volumes {
        match v.chain.and_then(|c| storage.volumes.get(c)) {
            Some(c) => out.extend(storage::volume_links(index, c, 1, false)),
            None => out.push(
                match index
                    .find("", "PersistentVolumeClaim", ns, &v.claim)
                    .and_then(|o| index.position(&o.key))
                {
                    Some(i) => storage::present(index, 1, "mounts", i).unwrap_or_else(|| {
                        storage::absent(
                            1,
                            "mounts",
                            storage::what("PersistentVolumeClaim", ns, &v.claim),
                        )
                    }),
                    None => storage::absent(
                        1,
                        "mounts",
                        storage::what("PersistentVolumeClaim", ns, &v.claim),
                    ),
                },
            ),
        }
    }
    for &m in &f.migrations {
        out.extend(storage::present(index, 1, "migrated by", m));
        if let Some(v) = migration_view(index, m) {
            for p in &v.targets {
                out.extend(
                    index
                        .position(&p.key)
                        .and_then(|i| storage::present(index, 2, "target pod", i)),
                );
            }
            for n in &v.gone_targets {
                out.push(storage::absent(
                    2,
                    "target pod",
                    storage::what("Pod", ns, n),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const VM: &str = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: vm1\n  \
        namespace: ns\nspec:\n  runStrategy: Halted\n  template:\n    spec:\n      volumes:\n      \
        - name: d\n        persistentVolumeClaim:\n          claimName: data\nstatus:\n  \
        printableStatus: Stopped\n  conditions:\n  - type: Ready\n    status: \"False\"\n    \
        reason: PodTerminating\n";
    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: virt-launcher-vm1-abcde\n  \
        namespace: ns\n  deletionTimestamp: \"2025-02-14T06:00:00Z\"\n  finalizers:\n  - x/y\n  \
        labels:\n    vm.kubevirt.io/name: vm1\nspec:\n  nodeName: n2\n  volumes:\n  - name: d\n    \
        persistentVolumeClaim:\n      claimName: data\nstatus:\n  phase: Running\n";
    const PVC: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  \
        namespace: ns\nspec:\n  volumeName: pvc-1\nstatus:\n  phase: Bound\n";
    const PV: &str = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-1\nspec:\n  \
        claimRef:\n    namespace: ns\n    name: data\n  csi:\n    driver: driver.longhorn.io\n    \
        volumeHandle: pvc-1\nstatus:\n  phase: Bound\n";
    const VOLUME: &str = "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  \
        name: pvc-1\n  namespace: longhorn-system\nstatus:\n  state: attached\n  \
        robustness: faulted\n";

    fn capture() -> Option<Timestamp> {
        crate::model::time::parse("2025-02-14T09:00:00Z")
    }

    #[test]
    fn a_stopped_vm_with_a_pod_stuck_terminating_on_a_faulted_volume() {
        let index = Index::from_yaml_objects(&[VM, POD, PVC, PV, VOLUME]);
        let storage = Storage::build(&index);
        let vms = Vms::build(&index, &storage);
        let f = vms.of("ns", "vm1").unwrap();
        assert!(f.vmi.is_none());
        assert_eq!(f.launchers.len(), 1);
        assert_eq!(f.volumes[0].claim, "data");
        assert!(!f.wants_running(&index));
        let t = f.terminating(&index, capture());
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].overdue.0, t[0].node), (3 * 3600, Some("n2")));
        assert_eq!(t[0].finalizers, ["x/y"]);
        let m = f.mismatches(&index, capture());
        assert!(matches!(m[0], Mismatch::StoppedWithPod { .. }), "{m:?}");
        assert!(matches!(
            m[1],
            Mismatch::PodTerminating {
                condition: "Ready",
                ..
            }
        ));
        let chains = f.chains(&storage);
        assert_eq!(
            volume_trouble(&index, chains[0], true),
            Some(VolumeTrouble::Faulted)
        );
        // Just deleted: within its grace period and the margin, not stuck.
        let soon = crate::model::time::parse("2025-02-14T06:04:00Z");
        assert!(f.terminating(&index, soon).is_empty());
    }

    #[test]
    fn a_running_vm_without_its_vmi_and_one_starting_for_long() {
        let running = VM
            .replace("printableStatus: Stopped", "printableStatus: Running")
            .replace(
                "    reason: PodTerminating\n",
                "    lastTransitionTime: \"2025-02-14T08:00:00Z\"\n",
            );
        let index = Index::from_yaml_objects(&[&running]);
        let vms = Vms::build(&index, &Storage::build(&index));
        let f = &vms.vms[0];
        let m = f.mismatches(&index, capture());
        assert!(matches!(m[..], [Mismatch::RunningWithoutVmi]), "{m:?}");
        let starting = running.replace("printableStatus: Running", "printableStatus: Starting");
        let index = Index::from_yaml_objects(&[&starting]);
        let vms = Vms::build(&index, &Storage::build(&index));
        let m = vms.vms[0].mismatches(&index, capture());
        assert!(
            matches!(
                m[..],
                [Mismatch::StartingLong {
                    since: "2025-02-14T08:00:00Z",
                    age: Age(3600)
                }]
            ),
            "{m:?}"
        );
        // Starting for five minutes is starting.
        let soon = crate::model::time::parse("2025-02-14T08:05:00Z");
        assert!(vms.vms[0].mismatches(&index, soon).is_empty());
    }

    #[test]
    fn a_failed_migration_names_its_gone_target_pod_and_why() {
        let mig = "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstanceMigration\nmetadata:\n  \
            name: vm1-mig\n  namespace: ns\n  uid: m-1\n  creationTimestamp: \"2025-02-14T08:00:00Z\"\n\
            spec:\n  vmiName: vm1\nstatus:\n  phase: Failed\n";
        let ev = |name: &str, kind: &str, reason: &str, msg: &str| {
            format!(
                "apiVersion: v1\nkind: Event\nmetadata:\n  name: {name}\n  namespace: ns\n\
                 involvedObject:\n  kind: {kind}\n  namespace: ns\n  name: {}\n\
                 type: Warning\nreason: {reason}\nmessage: \"{msg}\"\ncount: 3\n\
                 lastTimestamp: \"2025-02-14T08:05:00Z\"\n",
                if kind == "Pod" {
                    "virt-launcher-vm1-zzzzz"
                } else {
                    "vm1-mig"
                }
            )
        };
        let e1 = ev(
            "e1",
            "VirtualMachineInstanceMigration",
            "FailedMigration",
            "Migration target pod ns/virt-launcher-vm1-zzzzz is unschedulable.",
        );
        let e2 = ev(
            "e2",
            "Pod",
            "FailedScheduling",
            "0/3 nodes are available: 2 Insufficient memory.",
        );
        let index = Index::from_yaml_objects(&[VM, mig, &e1, &e2]);
        let vms = Vms::build(&index, &Storage::build(&index));
        let f = &vms.vms[0];
        assert_eq!(f.migrations.len(), 1);
        let m = migration_view(&index, f.migrations[0]).unwrap();
        assert_eq!(m.phase, "Failed");
        assert!(m.targets.is_empty());
        assert_eq!(m.gone_targets, ["virt-launcher-vm1-zzzzz"]);
        assert_eq!(
            m.reasons,
            [
                "FailedMigration (×3): Migration target pod ns/virt-launcher-vm1-zzzzz is \
                 unschedulable.",
                "target pod virt-launcher-vm1-zzzzz (gone): FailedScheduling (×3): 0/3 nodes are \
                 available: 2 Insufficient memory."
            ]
        );
        assert!(m.upgrade.is_none());
        assert_eq!(
            unschedulable_hint("0/3 nodes are available: 2 Insufficient memory."),
            Some("likely no other node has the free CPU or memory the VM requests")
        );
        assert_eq!(unschedulable_hint("something else"), None);
    }

    #[test]
    fn a_vm_chain_from_the_vm_to_the_replicas() {
        let vm = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: vm1\n  \
            namespace: mon\nspec:\n  template:\n    spec:\n      volumes:\n      - name: d\n        \
            persistentVolumeClaim:\n          claimName: data\nstatus:\n  printableStatus: Stopped\n";
        let pv = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-1\nspec:\n  \
            claimRef:\n    namespace: mon\n    name: data\n  csi:\n    driver: driver.longhorn.io\n    \
            volumeHandle: pvc-1\nstatus:\n  phase: Bound\n";
        let pvc = PVC.replace("namespace: ns", "namespace: mon");
        let replica = "apiVersion: longhorn.io/v1beta2\nkind: Replica\nmetadata:\n  \
            name: pvc-1-r-1\n  namespace: longhorn-system\nspec:\n  volumeName: pvc-1\n  nodeID: n2\n\
            status:\n  currentState: running\n";
        let pv = pv.replace("namespace: ns", "namespace: mon");
        let index = Index::from_yaml_objects(&[vm, &pv, &pvc, VOLUME, replica]);
        let s = Storage::build(&index);
        let vms = Vms::build(&index, &s);
        let links: Vec<String> = vm_links(&index, &s, &vms.vms[0])
            .iter()
            .map(|l| format!("{} {} {}", l.depth, l.relation, l.what))
            .collect();
        assert_eq!(
            links,
            [
                "0  VirtualMachine mon/vm1",
                "1 runs as VirtualMachineInstance mon/vm1",
                "1 mounts PersistentVolumeClaim mon/data",
                "2 bound to PersistentVolume pvc-1",
                "3 stored in Volume.longhorn.io longhorn-system/pvc-1",
                "4 replicated on Replica.longhorn.io longhorn-system/pvc-1-r-1",
            ]
        );
    }
}
