//! Longhorn (`longhorn.io`) views: Volume, Replica, Engine, Node and BackingImage.
use super::view;
use crate::model::tree::Node;

view! {
    /// A Longhorn Volume.
    LhVolume = "longhorn.io" / "Volume"
}

impl<'a> LhVolume<'a> {
    /// `status.robustness` (`healthy`, `degraded`, `faulted`, `unknown`).
    pub fn robustness(self) -> Option<&'a str> {
        self.0.str("/status/robustness")
    }

    /// `status.state` (`attached`, `detached`, …).
    pub fn state(self) -> Option<&'a str> {
        self.0.str("/status/state")
    }

    /// `spec.numberOfReplicas`.
    pub fn number_of_replicas(self) -> Option<i64> {
        self.0.int("/spec/numberOfReplicas")
    }

    /// `status.currentNodeID`: the node it is attached to.
    pub fn current_node_id(self) -> Option<&'a str> {
        self.0.str("/status/currentNodeID")
    }

    /// `status.kubernetesStatus.workloadsStatus`: the pods using the volume.
    pub fn workloads(self) -> impl Iterator<Item = LhWorkload<'a>> {
        self.0
            .list("/status/kubernetesStatus/workloadsStatus")
            .iter()
            .map(LhWorkload)
    }

    /// `status.kubernetesStatus.namespace`: the namespace of the PVC using the volume.
    pub fn pvc_namespace(self) -> Option<&'a str> {
        self.0.str("/status/kubernetesStatus/namespace")
    }

    /// `status.kubernetesStatus.pvcName`: the PVC using the volume.
    pub fn pvc_name(self) -> Option<&'a str> {
        self.0.str("/status/kubernetesStatus/pvcName")
    }

    /// The PVC using the volume, as (namespace, name), when both are set.
    pub fn pvc(self) -> Option<(&'a str, &'a str)> {
        Some((self.pvc_namespace()?, self.pvc_name()?))
    }
}

/// One of a volume's `status.kubernetesStatus.workloadsStatus`: a pod using it.
#[derive(Debug, Clone, Copy)]
pub struct LhWorkload<'a>(&'a Node);

impl<'a> LhWorkload<'a> {
    /// `podName`, when a string.
    pub fn pod_name(self) -> Option<&'a str> {
        self.0.get("podName").and_then(Node::as_str)
    }

    /// `podStatus` (the pod's phase: `Running`, `Pending`, …), when a string.
    pub fn pod_status(self) -> Option<&'a str> {
        self.0.get("podStatus").and_then(Node::as_str)
    }
}

view! {
    /// A Longhorn Replica.
    LhReplica = "longhorn.io" / "Replica"
}

impl<'a> LhReplica<'a> {
    /// `spec.volumeName`: the volume it is a replica of.
    pub fn volume_name(self) -> Option<&'a str> {
        self.0.str("/spec/volumeName")
    }

    /// `spec.nodeID`: the node it is scheduled on.
    pub fn node_id(self) -> Option<&'a str> {
        self.0.str("/spec/nodeID")
    }

    /// `status.currentState` (`running`, `stopped`, `error`, …).
    pub fn current_state(self) -> Option<&'a str> {
        self.0.str("/status/currentState")
    }

    /// `spec.failedAt`: when it failed, empty while healthy.
    pub fn failed_at(self) -> Option<&'a str> {
        self.0.str("/spec/failedAt")
    }
}

view! {
    /// A Longhorn Engine: the volume's controller on the node it is attached to.
    LhEngine = "longhorn.io" / "Engine"
}

impl<'a> LhEngine<'a> {
    /// `spec.volumeName`: the volume it is the engine of.
    pub fn volume_name(self) -> Option<&'a str> {
        self.0.str("/spec/volumeName")
    }

    /// `spec.nodeID`: the node it runs on.
    pub fn node_id(self) -> Option<&'a str> {
        self.0.str("/spec/nodeID")
    }

    /// `status.currentState` (`running`, `stopped`, `error`, …).
    pub fn current_state(self) -> Option<&'a str> {
        self.0.str("/status/currentState")
    }
}

view! {
    /// A Longhorn Node: Longhorn's side of a node, with its disks.
    LhNode = "longhorn.io" / "Node"
}

impl<'a> LhNode<'a> {
    /// `spec.evictionRequested`: move every replica off the node.
    pub fn eviction_requested(self) -> Option<bool> {
        self.0.bool("/spec/evictionRequested")
    }

    /// `spec.disks`: (disk name, disk), in the tree's order (by name).
    pub fn disks(self) -> impl Iterator<Item = (&'a str, LhDisk<'a>)> {
        self.0
            .at("/spec/disks")
            .and_then(Node::as_object)
            .unwrap_or_default()
            .iter()
            .map(|(name, d)| (&**name, LhDisk(d)))
    }
}

/// One of a Longhorn node's `spec.disks`.
#[derive(Debug, Clone, Copy)]
pub struct LhDisk<'a>(&'a Node);

impl LhDisk<'_> {
    /// `evictionRequested`: move every replica off the disk.
    pub fn eviction_requested(self) -> Option<bool> {
        self.0.get("evictionRequested")?.lenient_bool()
    }
}

view! {
    /// A Longhorn BackingImage: a base image volumes are built on.
    LhBackingImage = "longhorn.io" / "BackingImage"
}

impl LhBackingImage<'_> {
    /// `spec.minNumberOfCopies`.
    pub fn min_number_of_copies(self) -> Option<i64> {
        self.0.int("/spec/minNumberOfCopies")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::typed::testing::obj;

    const VOLUME: &str = r#"apiVersion: longhorn.io/v1beta2
kind: Volume
metadata:
  name: pvc-1
  namespace: longhorn-system
spec:
  numberOfReplicas: "3"
status:
  state: attached
  robustness: degraded
  currentNodeID: n1
  kubernetesStatus:
    namespace: default
    pvcName: disk-0
    workloadsStatus:
    - podName: virt-launcher-vm-abcde
      podStatus: Pending
    - podName: other
"#;

    #[test]
    fn volume_fields() {
        let o = obj("longhorn.io", "Volume", VOLUME);
        let v = LhVolume::of(&o).unwrap();
        assert_eq!(v.robustness(), Some("degraded"));
        assert_eq!(v.state(), Some("attached"));
        assert_eq!(v.number_of_replicas(), Some(3));
        assert_eq!(v.pvc(), Some(("default", "disk-0")));
        assert_eq!(v.current_node_id(), Some("n1"));
        let pods: Vec<(Option<&str>, Option<&str>)> = v
            .workloads()
            .map(|w| (w.pod_name(), w.pod_status()))
            .collect();
        assert_eq!(
            pods,
            [
                (Some("virt-launcher-vm-abcde"), Some("Pending")),
                (Some("other"), None)
            ]
        );
        // Another kind, or another group, has no volume view.
        assert!(LhReplica::of(&o).is_none());
        assert!(LhVolume::of(&obj("example.io", "Volume", VOLUME)).is_none());
        let bare = obj(
            "longhorn.io",
            "Volume",
            "kind: Volume\nmetadata:\n  name: v\nstatus:\n  kubernetesStatus:\n    namespace: \"\"\n    pvcName: p\n",
        );
        let v = LhVolume::of(&bare).unwrap();
        assert_eq!(
            (v.robustness(), v.state(), v.number_of_replicas()),
            (None, None, None)
        );
        assert_eq!(v.pvc(), None);
        assert_eq!((v.pvc_namespace(), v.pvc_name()), (None, Some("p")));
        assert_eq!(v.workloads().count(), 0);
    }

    #[test]
    fn node_eviction() {
        let o = obj(
            "longhorn.io",
            "Node",
            "kind: Node\nmetadata:\n  name: n1\nspec:\n  evictionRequested: \"TRUE\"\n  disks:\n    d2:\n      evictionRequested: \"false\"\n    d1:\n      evictionRequested: true\n    d3: {}\n",
        );
        let n = LhNode::of(&o).unwrap();
        assert_eq!(n.eviction_requested(), Some(true));
        let disks: Vec<(&str, Option<bool>)> = n
            .disks()
            .map(|(d, disk)| (d, disk.eviction_requested()))
            .collect();
        assert_eq!(
            disks,
            [("d1", Some(true)), ("d2", Some(false)), ("d3", None)]
        );
        // A Kubernetes Node is not a Longhorn node.
        assert!(LhNode::of(&obj("", "Node", "kind: Node\nmetadata:\n  name: n1\n")).is_none());
    }

    #[test]
    fn backing_image_copies() {
        let o = obj(
            "longhorn.io",
            "BackingImage",
            "kind: BackingImage\nmetadata:\n  name: b\nspec:\n  minNumberOfCopies: 1.0\n",
        );
        assert_eq!(
            LhBackingImage::of(&o).unwrap().min_number_of_copies(),
            Some(1)
        );
    }

    #[test]
    fn engine_fields() {
        let o = obj(
            "longhorn.io",
            "Engine",
            "kind: Engine\nmetadata:\n  name: e\nspec:\n  nodeID: n2\nstatus:\n  currentState: running\n",
        );
        let e = LhEngine::of(&o).unwrap();
        assert_eq!(
            (e.node_id(), e.current_state()),
            (Some("n2"), Some("running"))
        );
    }

    #[test]
    fn replica_fields() {
        let o = obj(
            "longhorn.io",
            "Replica",
            "kind: Replica\nmetadata:\n  name: r\nspec:\n  volumeName: pvc-1\n  nodeID: n1\n  failedAt: \"2025-01-01T00:00:00Z\"\nstatus:\n  currentState: error\n",
        );
        let r = LhReplica::of(&o).unwrap();
        assert_eq!(r.volume_name(), Some("pvc-1"));
        assert_eq!(r.node_id(), Some("n1"));
        assert_eq!(r.failed_at(), Some("2025-01-01T00:00:00Z"));
        assert_eq!(r.current_state(), Some("error"));
        let healthy = obj(
            "longhorn.io",
            "Replica",
            "kind: Replica\nmetadata:\n  name: r\nspec:\n  failedAt: \"\"\n",
        );
        assert_eq!(LhReplica::of(&healthy).unwrap().failed_at(), None);
    }
}
