//! Cluster API (`cluster.x-k8s.io`) views: Cluster and Machine.
use super::view;

view! {
    /// A CAPI Cluster (Harvester's is `fleet-local/local`).
    CapiCluster = "cluster.x-k8s.io" / "Cluster"
}

impl<'a> CapiCluster<'a> {
    /// `status.phase` (`Provisioning`, `Provisioned`, …).
    pub fn phase(self) -> Option<&'a str> {
        self.0.str("/status/phase")
    }

    /// `spec.paused`: CAPI does not reconcile the cluster.
    pub fn paused(self) -> Option<bool> {
        self.0.bool("/spec/paused")
    }
}

view! {
    /// A CAPI Machine: one node of the cluster as CAPI sees it.
    CapiMachine = "cluster.x-k8s.io" / "Machine"
}

impl<'a> CapiMachine<'a> {
    /// `status.phase` (`Provisioning`, `Running`, `Deleting`, …).
    pub fn phase(self) -> Option<&'a str> {
        self.0.str("/status/phase")
    }

    /// `status.nodeRef.name`: the node it became.
    pub fn node_ref_name(self) -> Option<&'a str> {
        self.0.str("/status/nodeRef/name")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::typed::testing::obj;

    #[test]
    fn cluster_and_machine_fields() {
        let c = obj(
            "cluster.x-k8s.io",
            "Cluster",
            "kind: Cluster\nmetadata:\n  name: local\n  namespace: fleet-local\nspec:\n  paused: \"true\"\nstatus:\n  phase: Provisioned\n",
        );
        let cluster = CapiCluster::of(&c).unwrap();
        assert_eq!(
            (cluster.phase(), cluster.paused()),
            (Some("Provisioned"), Some(true))
        );
        assert!(CapiMachine::of(&c).is_none());
        let m = obj(
            "cluster.x-k8s.io",
            "Machine",
            "kind: Machine\nmetadata:\n  name: m\nstatus:\n  phase: Running\n  nodeRef:\n    kind: Node\n    name: node-0\n",
        );
        let m = CapiMachine::of(&m).unwrap();
        assert_eq!(
            (m.phase(), m.node_ref_name()),
            (Some("Running"), Some("node-0"))
        );
        // A Rancher provisioning Cluster (another group) has no CAPI view.
        let p = obj(
            "provisioning.cattle.io",
            "Cluster",
            "kind: Cluster\nmetadata:\n  name: local\n",
        );
        assert!(CapiCluster::of(&p).is_none());
    }
}
