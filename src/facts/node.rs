//! Node facts several rules and the incident stage read: a node's roles (control plane, etcd,
//! worker, witness), its readiness, the node a CAPI machine became, and who put a node out of
//! scheduling — a running upgrade's drain, the
//! user's maintenance mode, or an unknown hand (a plain `kubectl cordon`). Derived here once,
//! so that a finding never offers to undo what an upgrade in progress owns.
use crate::index::{Index, Object};
use crate::model::views::View;

use super::cluster;
use super::upgrade;

/// Annotation Harvester sets on a node in maintenance mode (`running` while VMs are moved
/// away, `completed` once it is empty).
pub const MAINTAIN_STATUS: &str = "harvesterhci.io/maintain-status";

/// Taint the pre-drain job puts on the node being upgraded, so that KubeVirt moves its VMs.
pub const DRAIN_TAINT: &str = "kubevirt.io/drain";

/// Label prefix Kubernetes uses for a node's roles.
const ROLE_PREFIX: &str = "node-role.kubernetes.io/";

/// What a node does in the cluster, from its role labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles {
    /// Runs the Kubernetes control plane (`control-plane` or the older `master` role).
    pub control_plane: bool,
    /// Holds an etcd member.
    pub etcd: bool,
    /// A witness node: etcd only, no workloads (Harvester's witness label).
    pub witness: bool,
}

impl Roles {
    /// The roles in words, e.g. `control-plane, etcd`; `worker` when it has none of them.
    pub fn words(&self) -> String {
        let mut w: Vec<&str> = Vec::new();
        if self.witness {
            w.push("witness");
        }
        if self.control_plane {
            w.push("control-plane");
        }
        if self.etcd {
            w.push("etcd");
        }
        if w.is_empty() {
            "worker".into()
        } else {
            w.join(", ")
        }
    }
}

/// A node's roles from its labels. A role label counts whatever its value (RKE2 writes
/// `"true"`, older installs an empty string), as `kubectl get nodes` shows them.
pub fn roles(node: &Object) -> Roles {
    let has = |role: &str| {
        node.meta
            .labels
            .contains_key(&format!("{ROLE_PREFIX}{role}"))
    };
    Roles {
        control_plane: has("control-plane") || has("master"),
        etcd: has("etcd"),
        witness: cluster::is_witness(node),
    }
}

/// Who took a node out of scheduling (`spec.unschedulable`) or tainted it for draining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cordon {
    /// The upgrade `upgrade`, which is working on this node (its node state `state`): the
    /// cordon and the drain taint are its own and are lifted when the node's upgrade ends.
    Upgrade {
        /// The Upgrade's name.
        upgrade: String,
        /// The node's state in the Upgrade's status (`Pre-drained`, `Waiting Reboot`, …).
        state: String,
    },
    /// Harvester's maintenance mode (the value of [`MAINTAIN_STATUS`]).
    Maintenance(String),
    /// Nobody the capture names: a `kubectl cordon`, or a drain that did not finish.
    Unknown,
}

/// Node states of an Upgrade in which the node is being drained or rebooted by it, so its
/// cordon and drain taint belong to that upgrade (`reference/upgrade-blockers.md` §B.3;
/// `Node-upgrade paused` from v1.7 keeps the node as it was when paused).
pub const OWNED_NODE_STATES: &[&str] = &[
    "Pre-draining",
    "Pre-drained",
    "Post-draining",
    "Post-drained",
    "Waiting Reboot",
    "Node-upgrade paused",
];

/// Whether `node` is cordoned or carries the drain taint, and who did it; `None` when it is
/// neither. An upgrade that has not finished and is working on the node (one of
/// [`OWNED_NODE_STATES`]) comes first: the pre-drain job and Rancher's drain cordon the node,
/// whatever else is set on it.
pub fn cordon(index: &Index, node: &Object) -> Option<Cordon> {
    let View::Node(v) = &node.view else {
        return None;
    };
    let tainted = v.taints.iter().any(|t| t.key == DRAIN_TAINT);
    if !v.unschedulable && !tainted {
        return None;
    }
    if let Some((upgrade, state)) = upgrade_working_on(index, &node.key.name) {
        return Some(Cordon::Upgrade { upgrade, state });
    }
    if let Some(m) = node.meta.annotations.get(MAINTAIN_STATUS) {
        return Some(Cordon::Maintenance(m.clone()));
    }
    Some(Cordon::Unknown)
}

/// The unfinished Upgrade working on `node` and the node's state in it.
pub fn upgrade_working_on(index: &Index, node: &str) -> Option<(String, String)> {
    upgrade::unfinished(index).find_map(|u| {
        let state = upgrade::node_state(u, node)?;
        OWNED_NODE_STATES
            .contains(&state)
            .then(|| (u.key.name.clone(), state.to_string()))
    })
}

/// Annotation on a Node naming its CAPI machine (`cluster.x-k8s.io/machine`).
pub const MACHINE_ANNOTATION: &str = "cluster.x-k8s.io/machine";

/// The node a CAPI machine became, as the capture shows it.
#[derive(Debug, Clone, Copy)]
pub enum MachineNode<'a> {
    /// A Node object is the machine's: its `status.nodeRef`, or a node whose
    /// `cluster.x-k8s.io/machine` annotation names the machine.
    Exists(&'a Object),
    /// No Node object is the machine's; the name its `status.nodeRef` records, if any.
    Gone(Option<&'a str>),
}

/// The node of a CAPI Machine: the Node its `status.nodeRef.name` names, else the Node whose
/// `cluster.x-k8s.io/machine` annotation names it (a machine still provisioning has no nodeRef
/// yet while its node may already carry the annotation).
pub fn machine_node<'a>(index: &'a Index, machine: &'a Object) -> MachineNode<'a> {
    use crate::model::typed::capi::CapiMachine;
    let recorded = CapiMachine::of(machine).and_then(CapiMachine::node_ref_name);
    if let Some(n) = recorded.and_then(|n| index.find("", "Node", "", n)) {
        return MachineNode::Exists(n);
    }
    index
        .of_kind("", "Node")
        .find(|n| {
            n.meta
                .annotations
                .get(MACHINE_ANNOTATION)
                .map(String::as_str)
                == Some(machine.key.name.as_str())
        })
        .map_or(MachineNode::Gone(recorded), MachineNode::Exists)
}

/// A node's Ready condition status (`True`, `False`, `Unknown`), `None` without one.
pub fn node_ready(node: &Object) -> Option<&str> {
    crate::model::condition(&node.status.conditions, "Ready").map(|c| c.status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(extra_meta: &str, spec: &str) -> Object {
        Object::from_yaml(
            "Node",
            "",
            &format!(
                "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n{extra_meta}spec:\n{spec}"
            ),
        )
    }

    #[test]
    fn roles_from_labels() {
        let cp = node(
            "  labels:\n    node-role.kubernetes.io/control-plane: \"true\"\n    node-role.kubernetes.io/etcd: \"true\"\n",
            "  {}\n",
        );
        assert_eq!(roles(&cp).words(), "control-plane, etcd");
        let old = node(
            "  labels:\n    node-role.kubernetes.io/master: \"\"\n",
            "  {}\n",
        );
        assert!(roles(&old).control_plane);
        let witness = node(
            "  labels:\n    node-role.harvesterhci.io/witness: \"true\"\n    node-role.kubernetes.io/etcd: \"true\"\n",
            "  {}\n",
        );
        assert_eq!(roles(&witness).words(), "witness, etcd");
        assert_eq!(roles(&node("", "  {}\n")).words(), "worker");
    }

    fn upgrade(node_state: &str, final_state: &str) -> String {
        format!(
            "apiVersion: harvesterhci.io/v1beta1\nkind: Upgrade\nmetadata:\n  name: hvst-upgrade-a\n  \
             namespace: harvester-system\n  labels:\n    harvesterhci.io/upgradeState: {final_state}\n\
             spec:\n  version: v1.4.1\nstatus:\n  nodeStatuses:\n    n1:\n      state: {node_state}\n"
        )
    }

    fn index(objects: &[(&str, &str, String)]) -> Index {
        Index::from_yaml_objects(
            &objects
                .iter()
                .map(|(_, _, y)| y.as_str())
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn who_cordoned_a_node() {
        let cordoned =
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  unschedulable: true\n";
        let maint = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  annotations:\n    harvesterhci.io/maintain-status: completed\nspec:\n  unschedulable: true\n";
        let tainted = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  taints:\n  - key: kubevirt.io/drain\n    value: draining\n    effect: NoSchedule\n";
        let free = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nspec: {}\n";

        // A running upgrade draining the node owns its cordon, even in maintenance mode.
        for n in [cordoned, maint, tainted] {
            let ix = index(&[
                ("Node", "", n.to_string()),
                (
                    "Upgrade",
                    "harvesterhci.io",
                    upgrade("Pre-drained", "UpgradingNodes"),
                ),
            ]);
            let o = ix.find("", "Node", "", "n1").unwrap();
            assert_eq!(
                cordon(&ix, o),
                Some(Cordon::Upgrade {
                    upgrade: "hvst-upgrade-a".into(),
                    state: "Pre-drained".into()
                })
            );
        }
        // A finished upgrade, or a node the upgrade is not working on, owns nothing.
        for (state, fin) in [("Pre-drained", "Failed"), ("Succeeded", "UpgradingNodes")] {
            let ix = index(&[
                ("Node", "", cordoned.to_string()),
                ("Upgrade", "harvesterhci.io", upgrade(state, fin)),
            ]);
            let o = ix.find("", "Node", "", "n1").unwrap();
            assert_eq!(cordon(&ix, o), Some(Cordon::Unknown), "{state} {fin}");
        }
        let ix = index(&[("Node", "", maint.to_string())]);
        let o = ix.find("", "Node", "", "n1").unwrap();
        assert_eq!(
            cordon(&ix, o),
            Some(Cordon::Maintenance("completed".into()))
        );
        let ix = index(&[("Node", "", free.to_string())]);
        let o = ix.find("", "Node", "", "n1").unwrap();
        assert_eq!(cordon(&ix, o), None);
    }

    #[test]
    fn a_machine_node_by_node_ref_or_by_annotation() {
        let idx = Index::from_yaml_objects(&[
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nstatus:\n  conditions:\n  - type: Ready\n    status: \"True\"\n",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n  annotations:\n    cluster.x-k8s.io/machine: m2\n",
            "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Machine\nmetadata:\n  name: m1\n  namespace: fleet-local\nstatus:\n  nodeRef:\n    name: n1\n",
            "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Machine\nmetadata:\n  name: m2\n  namespace: fleet-local\nstatus:\n  phase: Provisioning\n",
            "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Machine\nmetadata:\n  name: m3\n  namespace: fleet-local\nstatus:\n  nodeRef:\n    name: gone\n",
            "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Machine\nmetadata:\n  name: m4\n  namespace: fleet-local\n",
        ]);
        let m = |n: &str| {
            let o = idx
                .find("cluster.x-k8s.io", "Machine", "fleet-local", n)
                .expect("machine");
            match machine_node(&idx, o) {
                MachineNode::Exists(n) => format!("exists {}", n.key.name),
                MachineNode::Gone(r) => format!("gone {r:?}"),
            }
        };
        assert_eq!(m("m1"), "exists n1");
        assert_eq!(m("m2"), "exists n2");
        assert_eq!(m("m3"), "gone Some(\"gone\")");
        assert_eq!(m("m4"), "gone None");
        let n1 = idx.find("", "Node", "", "n1").expect("n1");
        assert_eq!(node_ready(n1), Some("True"));
        assert_eq!(
            node_ready(idx.find("", "Node", "", "n2").expect("n2")),
            None
        );
    }
}
