//! What a Harvester upgrade creates and owns, named once: the label that ties an artefact to
//! its Upgrade, the repository VM's name, and which Upgrade an artefact belongs to (by label,
//! or by name for the two artefacts the controller leaves unlabelled). The life cycle, the
//! leftover rules and the incident grouping read it from here, as they read which Upgrades
//! have not finished and what such an upgrade owns while it runs ([`owned_by_running`]), and
//! the pre-drain job's waiting steps with the log lines that show each ([`PRE_DRAIN_STEPS`]).
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
    /// Its repository VM (or the VM's claim): the nodes download the new OS image from it.
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
            "VirtualMachine" | "VirtualMachineInstance" => o.key.name == repo_vm_name(&owner),
            "PersistentVolumeClaim" => o.key.name.starts_with(&repo_vm_name(&owner)),
            _ => false,
        };
    Some((owner, if repo { Owned::RepoVm } else { Owned::Artefact }))
}

/// Label the upgrade controller puts on what it creates for an Upgrade (its name).
pub const UPGRADE_LABEL: &str = "harvesterhci.io/upgrade";

/// The repository VM the controller creates for Upgrade `upgrade`, in `harvester-system`.
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
        lines: r"vm-live-migrate-detector|\+ wait_vms_out_or_shutdown$|Waiting for VM live-migration or shutdown",
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
}
