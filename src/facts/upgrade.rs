//! What a Harvester upgrade creates and owns, named once: the label that ties an artefact to
//! its Upgrade, the repository VM's name, and which Upgrade an artefact belongs to (by label,
//! or by name for the two artefacts the controller leaves unlabelled). The life cycle, the
//! leftover rules and the incident grouping read it from here, as they read which Upgrades
//! have not finished and what such an upgrade owns while it runs ([`owned_by_running`]), and
//! the pre-drain job's waiting steps with the log lines that show each ([`PRE_DRAIN_STEPS`]).
//! The v1.6+/v1.7+ flow is here too (`reference/upgrade-blockers.md` §E, checked against the
//! `harvester/harvester` tags): nodes the user paused, the upgrade-log timeout, the repository
//! Deployment and its OS image, the Upgrade annotations that back up what an upgrade changes
//! (descheduler addon, KubeVirt workload update methods, skip-rke2-manifests plans), and the
//! version gates of each.
use std::collections::BTreeMap;

use crate::facts::harvester::Gate;
use crate::facts::version::Version;
use crate::index::{Index, Object};
use crate::model::typed::harvester::Upgrade;

/// Label holding an Upgrade's state (`Succeeded` and `Failed` are final).
pub const STATE_LABEL: &str = "harvesterhci.io/upgradeState";

/// Namespace Harvester creates Upgrades and their artefacts in.
pub const NAMESPACE: &str = "harvester-system";

/// Upgrades in harvester-system, in the index's order (by name).
pub fn all(index: &Index) -> impl Iterator<Item = &Object> {
    index
        .of_kind("harvesterhci.io", "Upgrade")
        .filter(|o| o.key.namespace == NAMESPACE)
}

/// Whether an Upgrade reached a final state (`Succeeded` or `Failed` in [`STATE_LABEL`]).
pub fn finished(o: &Object) -> bool {
    matches!(
        o.meta.labels.get(STATE_LABEL).map(String::as_str),
        Some("Succeeded" | "Failed")
    )
}

/// Upgrades that have not reached a final state: the webhook's C3 refuses a new one while any
/// exists, and what they created is their own state.
pub fn unfinished(index: &Index) -> impl Iterator<Item = &Object> {
    all(index).filter(|o| !finished(o))
}

/// The state of `node` in an Upgrade's `status.nodeStatuses`, when recorded.
pub fn node_state<'a>(upgrade: &'a Object, node: &str) -> Option<&'a str> {
    Upgrade::of(upgrade)?.node_status(node)?.state()
}

/// How an object belongs to an upgrade that is still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    /// The Upgrade object itself.
    Upgrade,
    /// Its repository: the VM (or the VM's claim) up to v1.6, the Deployment
    /// `upgrade-repo-<upgrade>` (its ReplicaSet and nginx pods) from v1.7. The nodes download
    /// the new OS image from it.
    RepoVm,
    /// Something it created (a Job, its pods, a Plan, the image, the log chart, …).
    Artefact,
    /// A node it is draining or rebooting (state as in its status): the node's cordon and
    /// drain taint are its own.
    Node(String),
}

/// The running (unfinished) Upgrade that owns `o`, and how; `None` when no running upgrade
/// owns it. Pods belong to the upgrade of their Job (the Job carries the label; its pods
/// carry the Job's name in `job-name`).
pub fn owned_by_running(index: &Index, o: &Object) -> Option<(String, Owned)> {
    let running: Vec<&Object> = unfinished(index).collect();
    if running.is_empty() {
        return None;
    }
    let is_running = |name: &str| running.iter().any(|u| u.key.name == name);
    let kind = o.key.kind.as_str();
    if kind == "Upgrade" && o.key.group == "harvesterhci.io" {
        return is_running(&o.key.name).then(|| (o.key.name.clone(), Owned::Upgrade));
    }
    if kind == "Node" && o.key.group.is_empty() {
        let u = running.iter().find_map(|u| {
            let state = node_state(u, &o.key.name)?;
            crate::facts::node::OWNED_NODE_STATES
                .contains(&state)
                .then(|| (u.key.name.clone(), Owned::Node(state.to_string())))
        });
        return u;
    }
    let owner = owning_upgrade(kind, o).or_else(|| {
        // A pod of a Job the upgrade created.
        let job = o.meta.labels.get("job-name")?;
        (kind == "Pod")
            .then(|| index.find("batch", "Job", &o.key.namespace, job))
            .flatten()
            .and_then(|j| owning_upgrade("Job", j))
    })?;
    if !is_running(&owner) {
        return None;
    }
    let repo = o.key.namespace == NAMESPACE
        && match kind {
            "VirtualMachine" | "VirtualMachineInstance" | "Deployment" => {
                o.key.name == repo_vm_name(&owner)
            }
            "PersistentVolumeClaim" => o.key.name.starts_with(&repo_vm_name(&owner)),
            // The repository Deployment's ReplicaSet and pods carry its template's labels.
            "ReplicaSet" | "Pod" => {
                o.meta.labels.get(COMPONENT_LABEL).map(String::as_str) == Some("repo")
            }
            _ => false,
        };
    Some((owner, if repo { Owned::RepoVm } else { Owned::Artefact }))
}

/// Label the upgrade controller puts on what it creates for an Upgrade (its name).
pub const UPGRADE_LABEL: &str = "harvesterhci.io/upgrade";

/// Label naming the part of an upgrade an artefact is (`repo`, `node`, `manifest`, …).
pub const COMPONENT_LABEL: &str = "harvesterhci.io/upgradeComponent";

/// The repository the controller creates for Upgrade `upgrade`, in `harvester-system`: a VM up
/// to v1.6, a Deployment of the same name from v1.7 ([`REPO_DEPLOYMENT`]).
pub fn repo_vm_name(upgrade: &str) -> String {
    format!("upgrade-repo-{upgrade}")
}

/// The Upgrade an artefact of `kind` belongs to: its [`UPGRADE_LABEL`], else what its name says
/// for the two unlabelled ones (the skip-restart plan; the repo VM's claim, made from its
/// volumeClaimTemplates as `upgrade-repo-<upgrade>-disk-<n>`).
pub fn owning_upgrade(kind: &str, o: &Object) -> Option<String> {
    if let Some(u) = o.meta.labels.get(UPGRADE_LABEL) {
        return Some(u.clone());
    }
    match kind {
        "Plan" => o
            .key
            .name
            .strip_suffix("-skip-restart-rancher-system-agent")
            .map(str::to_string),
        "PersistentVolumeClaim" => o
            .key
            .name
            .strip_prefix("upgrade-repo-")
            .and_then(|rest| rest.rsplit_once("-disk-"))
            .map(|(u, _)| u.to_string()),
        _ => None,
    }
}

/// An upgrade that starts from these versions serves its repository from a Deployment
/// `upgrade-repo-<upgrade>` (nginx, 2 replicas, 1 on a single node) instead of a VM
/// (`upgrade_repo.go`, v1.7.0). The reference's "3 replicas" is not what the source says.
pub const REPO_DEPLOYMENT: Gate = Gate("REPO_DEPLOYMENT");

/// The repository's OS image (VirtualMachineImage `<upgrade>`, annotation
/// [`OS_IMAGE_ANNOTATION`]) is stored in StorageClass `longhorn-static` from v1.7.1; v1.7.0
/// created a StorageClass named after the upgrade (labelled with it) and deletes it in cleanup.
pub const REPO_IMAGE_IN_LONGHORN_STATIC: Gate = Gate("REPO_IMAGE_IN_LONGHORN_STATIC");

/// Annotation on the repository's OS image (v1.7+).
pub const OS_IMAGE_ANNOTATION: &str = "harvesterhci.io/os-upgrade-image";

/// `setting upgrade-config` `nodeUpgradeOption.strategy` (mode `auto`/`manual`, `pauseNodes`)
/// and `logReadyTimeout`, and the node state [`PAUSED_STATE`] (v1.7.0).
pub const NODE_UPGRADE_PAUSE: Gate = Gate("NODE_UPGRADE_PAUSE");

/// Node state of a node whose upgrade the user paused (v1.7+): the controller does not create
/// its pre-drain job while the node's entry in [`PAUSE_MAP_ANNOTATION`] is `pause`.
pub const PAUSED_STATE: &str = "Node-upgrade paused";

/// Reason of [`PAUSED_STATE`].
pub const PAUSED_REASON: &str = "AdministrativelyPaused";

/// Upgrade annotation: a JSON map of node → `pause` | `unpause` (the mutator fills it from
/// `upgrade-config` when the strategy's mode is `manual`; the validator accepts only these two
/// values).
pub const PAUSE_MAP_ANNOTATION: &str = "harvesterhci.io/node-upgrade-pause-map";

/// The node → action map of an Upgrade's [`PAUSE_MAP_ANNOTATION`], when it parses.
pub fn pause_map(upgrade: &Object) -> Option<BTreeMap<String, String>> {
    serde_json::from_str(upgrade.meta.annotations.get(PAUSE_MAP_ANNOTATION)?).ok()
}

/// Message of the `Completed=False` condition (reason `Timeout`) when the upgrade-log
/// infrastructure is not ready within `upgrade-config` `logReadyTimeout` (minutes, default 5;
/// v1.7.0+, `checkLogReadyCondition`).
pub const LOG_TIMEOUT_MESSAGE: &str = "Timed out creating upgrade logging infrastructure";

/// Default of `logReadyTimeout`, in minutes.
pub const LOG_READY_TIMEOUT_DEFAULT: i64 = 5;

/// Restore-VM jobs `<upgrade>-restore-vm-<node>` (`restoreVM` on multi-node clusters) from
/// v1.6.0.
pub const RESTORE_VM_JOBS: Gate = Gate("RESTORE_VM_JOBS");

/// Upgrade annotation set to `"true"` when the upgrade disabled the descheduler addon
/// (`kube-system/descheduler`, labelled with the upgrade); the cleanup re-enables the addon
/// and removes the annotation (v1.7.0+).
pub const REENABLE_DESCHEDULER_ANNOTATION: &str = "harvesterhci.io/reenable-descheduler-addon";

/// Upgrade annotation backing up ManagedChart `harvester`'s
/// `spec.values.kubevirt.spec.workloadUpdateStrategy.workloadUpdateMethods` as JSON (`null`
/// when the key was absent) before `upgrade_manifests.sh` sets it to `[]`; the cleanup
/// restores it.
pub const WORKLOAD_UPDATE_METHODS_ANNOTATION: &str =
    "harvesterhci.io/kubevirt-workload-update-methods";

/// Upgrades to these versions back up the workload update methods in
/// [`WORKLOAD_UPDATE_METHODS_ANNOTATION`] (v1.7.2, v1.8.1; v1.8.0 empties them without a
/// backup, v1.7.0–v1.7.1 do not touch them).
pub const WORKLOAD_UPDATE_METHODS_BACKUP: Gate = Gate("WORKLOAD_UPDATE_METHODS_BACKUP");

/// Upgrades to these versions run the skip-rke2-manifests plans (`<upgrade>-skip-manifests-apply`
/// / `-remove` in cattle-system: `.skip` files for `rke2-multus.yaml` on every node while the
/// upgrade runs), recorded in [`SKIP_MANIFESTS_APPLIED`] / [`SKIP_MANIFESTS_REMOVED`].
pub const SKIP_RKE2_MANIFESTS: Gate = Gate("SKIP_RKE2_MANIFESTS");

/// Upgrade annotation: the plan that writes the `.skip` files completed.
pub const SKIP_MANIFESTS_APPLIED: &str = "harvesterhci.io/apply-skip-rke2-manifests-plan-completed";

/// Upgrade annotation: the plan that removes the `.skip` files completed.
pub const SKIP_MANIFESTS_REMOVED: &str =
    "harvesterhci.io/remove-skip-rke2-manifests-plan-completed";

/// The rke2 manifests the skip-rke2-manifests plans skip while an upgrade runs.
pub const SKIPPED_RKE2_MANIFESTS: &[&str] = &["rke2-multus.yaml"];

/// The version an Upgrade goes to (`spec.version`; a Version object's name).
pub fn target_of(upgrade: &Object) -> Version {
    Version::parse(
        Upgrade::of(upgrade)
            .and_then(Upgrade::version)
            .unwrap_or_default(),
    )
}

/// The version an Upgrade started from (`status.previousVersion`), else `running`.
pub fn previous_of(upgrade: &Object, running: &Version) -> Version {
    upgrade
        .tree()
        .and_then(|t| t.str("/status/previousVersion"))
        .map(Version::parse)
        .unwrap_or_else(|| running.clone())
}

/// The line the v1.7+ pre-drain job logs when it stops a VM whose evacuation migration
/// failed (`shutting down virtual machine <ns>/<vm> due to failed migration…`): the VM and
/// its namespace.
pub fn failed_migration_shutdown(line: &str) -> Option<(&str, &str)> {
    const AT: &str = "shutting down virtual machine ";
    let rest = &line[line.find(AT)? + AT.len()..];
    let (vm, tail) = rest.split_once(' ')?;
    tail.starts_with("due to failed migration")
        .then(|| vm.split_once('/'))
        .flatten()
}

/// A step of the pre-drain job (`upgrade_node.sh pre-drain`, `reference/upgrade-blockers.md`
/// §B.4) and the log lines that show it running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreDrainStep {
    /// The script's function.
    pub name: &'static str,
    /// A regex on a line of the job's log (bash -x traces and what the step prints).
    pub lines: &'static str,
}

/// The pre-drain job's waiting steps, in the order the script runs them: first
/// `wait_longhorn_engines` (every running engine's volume healthy), then the VMs
/// (`vm-live-migrate-detector`, the `kubevirt.io/drain` taint, `wait_vms_out_or_shutdown`).
pub const PRE_DRAIN_STEPS: &[PreDrainStep] = &[
    PreDrainStep {
        name: "wait_longhorn_engines",
        lines: r"\+ wait_longhorn_engines$|Checking running engine |Waiting for volume \S+ to be healthy",
    },
    PreDrainStep {
        name: "wait_vms_out_or_shutdown",
        lines: r"vm-live-migrate-detector|\+ wait_vms_out_or_shutdown$|Waiting for VM live-migration or shutdown|shutting down virtual machine \S+ due to failed migration",
    },
];

/// Prefix of the `issue` of a log hit that shows a pre-drain step (`pre-drain-step:<name>`):
/// the analysis searches [`PRE_DRAIN_STEPS`] with the known-issue patterns.
pub const PRE_DRAIN_STEP_HIT: &str = "pre-drain-step:";

/// The pods whose logs [`PRE_DRAIN_STEPS`] are searched in: harvester-system, the upgrade's
/// jobs (`hvst-upgrade-…-pre-drain-<node>-…`).
pub const PRE_DRAIN_POD_PREFIX: &str = "hvst-upgrade-";

/// The volume a `Waiting for volume <pv> to be healthy...` line of the pre-drain log names.
pub fn waited_volume(line: &str) -> Option<&str> {
    let rest = &line[line.find("Waiting for volume ")? + "Waiting for volume ".len()..];
    let name = rest.split(' ').next()?;
    rest[name.len()..]
        .starts_with(" to be healthy")
        .then_some(name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pre_drain_steps_recognise_their_lines() {
        let step = |l: &str| {
            PRE_DRAIN_STEPS
                .iter()
                .find(|s| regex::Regex::new(s.lines).is_ok_and(|r| r.is_match(l)))
                .map(|s| s.name)
        };
        let t = "2025-02-14T05:57:11.1Z ";
        assert_eq!(
            step(&format!("{t}+ wait_longhorn_engines")),
            Some("wait_longhorn_engines")
        );
        assert_eq!(
            step(&format!("{t}Waiting for volume pvc-1 to be healthy...")),
            Some("wait_longhorn_engines")
        );
        assert_eq!(
            step(&format!(
                "{t}Waiting for VM live-migration or shutdown...(count: 1)"
            )),
            Some("wait_vms_out_or_shutdown")
        );
        assert_eq!(
            step(&format!(
                "{t}shutting down virtual machine default/vm1 due to failed migration kubevirt-evacuation-abcde"
            )),
            Some("wait_vms_out_or_shutdown")
        );
        assert_eq!(step(&format!("{t}+ sleep 10")), None);
        assert_eq!(
            waited_volume(&format!("{t}Waiting for volume pvc-1 to be healthy...")),
            Some("pvc-1")
        );
        assert_eq!(
            waited_volume("+ echo 'Waiting for volume pvc-1 to be healthy...'"),
            Some("pvc-1")
        );
        assert_eq!(waited_volume("Waiting for VM live-migration"), None);
    }

    use super::*;

    #[test]
    fn what_a_running_upgrade_owns() {
        let upgrade = |state: &str| {
            format!(
                "apiVersion: harvesterhci.io/v1beta1\nkind: Upgrade\nmetadata:\n  name: hvst-upgrade-a\n  \
                 namespace: harvester-system\n  labels:\n    harvesterhci.io/upgradeState: {state}\n\
                 status:\n  nodeStatuses:\n    n1:\n      state: Pre-drained\n    n2:\n      state: Succeeded\n"
            )
        };
        let others = [
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  unschedulable: true\n",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n",
            "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: upgrade-repo-hvst-upgrade-a\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgrade: hvst-upgrade-a\n",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hvst-upgrade-a-pre-drain-n1\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgrade: hvst-upgrade-a\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hvst-upgrade-a-pre-drain-n1-x\n  namespace: harvester-system\n  labels:\n    job-name: hvst-upgrade-a-pre-drain-n1\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: other\n  namespace: harvester-system\n",
        ];
        let find = |ix: &Index, kind: &str, name: &str| {
            ix.objects
                .iter()
                .find(|o| o.key.kind == kind && o.key.name == name)
                .map(|o| owned_by_running(ix, o))
                .unwrap()
        };
        let running = upgrade("UpgradingNodes");
        let mut items: Vec<&str> = others.to_vec();
        items.push(&running);
        let ix = Index::from_yaml_objects(&items);
        let u = "hvst-upgrade-a".to_string();
        assert_eq!(
            find(&ix, "Upgrade", "hvst-upgrade-a"),
            Some((u.clone(), Owned::Upgrade))
        );
        assert_eq!(
            find(&ix, "Node", "n1"),
            Some((u.clone(), Owned::Node("Pre-drained".into())))
        );
        assert_eq!(find(&ix, "Node", "n2"), None);
        assert_eq!(
            find(&ix, "VirtualMachine", "upgrade-repo-hvst-upgrade-a"),
            Some((u.clone(), Owned::RepoVm))
        );
        assert_eq!(
            find(&ix, "Job", "hvst-upgrade-a-pre-drain-n1"),
            Some((u.clone(), Owned::Artefact))
        );
        assert_eq!(
            find(&ix, "Pod", "hvst-upgrade-a-pre-drain-n1-x"),
            Some((u, Owned::Artefact))
        );
        assert_eq!(find(&ix, "Pod", "other"), None);
        // Once the upgrade has failed, nothing is owned by a running upgrade: the same objects
        // are leftovers.
        let failed = upgrade("Failed");
        let mut items: Vec<&str> = others.to_vec();
        items.push(&failed);
        let ix = Index::from_yaml_objects(&items);
        for (k, n) in [
            ("Upgrade", "hvst-upgrade-a"),
            ("Node", "n1"),
            ("VirtualMachine", "upgrade-repo-hvst-upgrade-a"),
        ] {
            assert_eq!(find(&ix, k, n), None, "{k}/{n}");
        }
    }

    #[test]
    fn owners_by_label_and_by_name() {
        let labelled = Object::from_yaml(
            "VirtualMachine",
            "kubevirt.io",
            "metadata:\n  name: upgrade-repo-hvst-upgrade-a\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgrade: hvst-upgrade-a\n",
        );
        assert_eq!(
            owning_upgrade("VirtualMachine", &labelled).as_deref(),
            Some("hvst-upgrade-a")
        );
        let claim = Object::from_yaml(
            "PersistentVolumeClaim",
            "",
            "metadata:\n  name: upgrade-repo-hvst-upgrade-b-disk-0\n  namespace: harvester-system\n",
        );
        assert_eq!(
            owning_upgrade("PersistentVolumeClaim", &claim).as_deref(),
            Some("hvst-upgrade-b")
        );
        let plan = Object::from_yaml(
            "Plan",
            "upgrade.cattle.io",
            "metadata:\n  name: hvst-upgrade-c-skip-restart-rancher-system-agent\n  namespace: cattle-system\n",
        );
        assert_eq!(
            owning_upgrade("Plan", &plan).as_deref(),
            Some("hvst-upgrade-c")
        );
        // An unlabelled object of another kind belongs to nobody, whatever its name.
        let vm = Object::from_yaml(
            "VirtualMachine",
            "kubevirt.io",
            "metadata:\n  name: upgrade-repo-x-disk-0\n  namespace: default\n",
        );
        assert_eq!(owning_upgrade("VirtualMachine", &vm), None);
        assert_eq!(
            repo_vm_name("hvst-upgrade-a"),
            "upgrade-repo-hvst-upgrade-a"
        );
    }

    #[test]
    fn the_v1_7_repository_deployment_and_its_pods_are_the_running_upgrades_repo() {
        let items = [
            "apiVersion: harvesterhci.io/v1beta1\nkind: Upgrade\nmetadata:\n  name: hvst-upgrade-a\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgradeState: UpgradingNodes\n",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: upgrade-repo-hvst-upgrade-a\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgrade: hvst-upgrade-a\n    harvesterhci.io/upgradeComponent: repo\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: upgrade-repo-hvst-upgrade-a-7c9-x\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgrade: hvst-upgrade-a\n    harvesterhci.io/upgradeComponent: repo\n",
            "apiVersion: harvesterhci.io/v1beta1\nkind: VirtualMachineImage\nmetadata:\n  name: hvst-upgrade-a\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgrade: hvst-upgrade-a\n  annotations:\n    harvesterhci.io/os-upgrade-image: \"True\"\n",
        ];
        let ix = Index::from_yaml_objects(&items);
        let of = |kind: &str, name: &str| {
            let o = ix
                .objects
                .iter()
                .find(|o| o.key.kind == kind && o.key.name == name)
                .unwrap();
            owned_by_running(&ix, o)
        };
        let u = "hvst-upgrade-a".to_string();
        assert_eq!(
            of("Deployment", "upgrade-repo-hvst-upgrade-a"),
            Some((u.clone(), Owned::RepoVm))
        );
        assert_eq!(
            of("Pod", "upgrade-repo-hvst-upgrade-a-7c9-x"),
            Some((u.clone(), Owned::RepoVm))
        );
        assert_eq!(
            of("VirtualMachineImage", "hvst-upgrade-a"),
            Some((u, Owned::Artefact))
        );
    }

    #[test]
    fn version_gates_of_the_v1_7_flow() {
        let v = Version::parse;
        assert!(!WORKLOAD_UPDATE_METHODS_BACKUP.contains(&v("v1.7.1")));
        assert!(WORKLOAD_UPDATE_METHODS_BACKUP.contains(&v("v1.7.2")));
        assert!(WORKLOAD_UPDATE_METHODS_BACKUP.contains(&v("v1.7.3")));
        assert!(!WORKLOAD_UPDATE_METHODS_BACKUP.contains(&v("v1.8.0")));
        assert!(WORKLOAD_UPDATE_METHODS_BACKUP.contains(&v("v1.8.1")));
        assert!(!SKIP_RKE2_MANIFESTS.contains(&v("v1.7.1")));
        assert!(SKIP_RKE2_MANIFESTS.contains(&v("v1.7.2")));
        assert!(SKIP_RKE2_MANIFESTS.contains(&v("v1.8.0")));
        assert!(!NODE_UPGRADE_PAUSE.contains(&v("v1.6.1")));
        assert!(NODE_UPGRADE_PAUSE.contains(&v("v1.7.0")));
        assert!(!REPO_DEPLOYMENT.contains(&v("v1.6.1")));
        assert!(REPO_DEPLOYMENT.contains(&v("v1.7.0")));
        assert!(!REPO_IMAGE_IN_LONGHORN_STATIC.contains(&v("v1.7.0")));
        assert!(REPO_IMAGE_IN_LONGHORN_STATIC.contains(&v("v1.7.1")));
        assert_eq!(
            failed_migration_shutdown(
                "2026-01-01T00:00:00Z shutting down virtual machine default/vm1 due to failed migration kubevirt-evacuation-x"
            ),
            Some(("default", "vm1"))
        );
        assert_eq!(
            failed_migration_shutdown("shutting down virtual machine default/vm1"),
            None
        );
    }
}
