//! Longhorn (`longhorn.io`) views: Volume, Replica, Engine, Node, BackingImage,
//! BackingImageManager and InstanceManager.
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

    /// `spec.backingImage`: the backing image it is built on.
    pub fn backing_image(self) -> Option<&'a str> {
        self.0.str("/spec/backingImage")
    }

    /// The condition `kind` of `status.conditions`, as (status, reason, message): a list of
    /// conditions (Longhorn v1beta2) or a map by type (v1beta1).
    pub fn condition(self, kind: &str) -> Option<LhCondition<'a>> {
        let c = match self.0.at("/status/conditions")? {
            n if n.as_array().is_some() => n
                .as_array()?
                .iter()
                .find(|c| c.get("type").and_then(Node::as_str) == Some(kind))?,
            n => n.get(kind)?,
        };
        let s = |k: &str| c.get(k).and_then(Node::as_str);
        Some(LhCondition {
            status: s("status").unwrap_or(""),
            reason: s("reason"),
            message: s("message"),
        })
    }
}

/// A condition of a Longhorn object's `status.conditions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LhCondition<'a> {
    /// `status` (`True`, `False`), empty when absent.
    pub status: &'a str,
    /// `reason`.
    pub reason: Option<&'a str>,
    /// `message`.
    pub message: Option<&'a str>,
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

    /// `spec.diskID`: the UUID of the disk it is on.
    pub fn disk_id(self) -> Option<&'a str> {
        self.0.str("/spec/diskID")
    }

    /// `spec.diskPath`: the path of the disk it is on.
    pub fn disk_path(self) -> Option<&'a str> {
        self.0.str("/spec/diskPath")
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

impl<'a> LhNode<'a> {
    /// `status.diskStatus.<disk>.diskUUID`: the UUID replicas name in `spec.diskID`.
    pub fn disk_uuid(self, disk: &str) -> Option<&'a str> {
        self.0
            .at("/status/diskStatus")
            .and_then(Node::as_object)
            .unwrap_or_default()
            .iter()
            .find(|(name, _)| &**name == disk)
            .and_then(|(_, d)| d.get("diskUUID"))
            .and_then(Node::as_str)
    }
}

impl<'a> LhDisk<'a> {
    /// `path`: where the disk is mounted on the node.
    pub fn path(self) -> Option<&'a str> {
        self.0.get("path").and_then(Node::as_str)
    }
}

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

impl<'a> LhBackingImage<'a> {
    /// `spec.minNumberOfCopies`.
    pub fn min_number_of_copies(self) -> Option<i64> {
        self.0.int("/spec/minNumberOfCopies")
    }

    /// `status.diskFileStatusMap`: the copy on each disk, as (disk UUID, copy), in the tree's
    /// order (by UUID).
    pub fn disk_files(self) -> impl Iterator<Item = (&'a str, LhFileStatus<'a>)> {
        self.0
            .at("/status/diskFileStatusMap")
            .and_then(Node::as_object)
            .unwrap_or_default()
            .iter()
            .map(|(uuid, f)| (&**uuid, LhFileStatus(f)))
    }
}

/// A backing image file on one disk: an entry of a BackingImage's `diskFileStatusMap` or of a
/// BackingImageManager's `backingImageFileMap`.
#[derive(Debug, Clone, Copy)]
pub struct LhFileStatus<'a>(&'a Node);

impl<'a> LhFileStatus<'a> {
    /// `state` (`ready`, `in-progress`, `pending`, `failed`, `unknown`), when a string.
    pub fn state(self) -> Option<&'a str> {
        self.0.get("state").and_then(Node::as_str)
    }

    /// `message`, when a string.
    pub fn message(self) -> Option<&'a str> {
        self.0.get("message").and_then(Node::as_str)
    }

    /// `lastStateTransitionTime`, when a string.
    pub fn since(self) -> Option<&'a str> {
        self.0.get("lastStateTransitionTime").and_then(Node::as_str)
    }
}

view! {
    /// A Longhorn BackingImageManager: the pod serving backing image files on one disk.
    LhBackingImageManager = "longhorn.io" / "BackingImageManager"
}

impl<'a> LhBackingImageManager<'a> {
    /// `spec.nodeID`: the node of its disk.
    pub fn node_id(self) -> Option<&'a str> {
        self.0.str("/spec/nodeID")
    }

    /// `spec.diskUUID`: the disk it serves.
    pub fn disk_uuid(self) -> Option<&'a str> {
        self.0.str("/spec/diskUUID")
    }

    /// `status.currentState` (`running`, `unknown`, `error`, …).
    pub fn current_state(self) -> Option<&'a str> {
        self.0.str("/status/currentState")
    }

    /// `status.backingImageFileMap`: its files, as (backing image, file).
    pub fn files(self) -> impl Iterator<Item = (&'a str, LhFileStatus<'a>)> {
        self.0
            .at("/status/backingImageFileMap")
            .and_then(Node::as_object)
            .unwrap_or_default()
            .iter()
            .map(|(name, f)| (&**name, LhFileStatus(f)))
    }
}

view! {
    /// A Longhorn InstanceManager: the pod running the engines or replicas of one node.
    LhInstanceManager = "longhorn.io" / "InstanceManager"
}

impl<'a> LhInstanceManager<'a> {
    /// `spec.nodeID`: its node.
    pub fn node_id(self) -> Option<&'a str> {
        self.0.str("/spec/nodeID")
    }

    /// `spec.type` (`engine`, `replica`, `aio`).
    pub fn manager_type(self) -> Option<&'a str> {
        self.0.str("/spec/type")
    }

    /// `status.currentState` (`running`, `stopped`, `error`, `unknown`, …).
    pub fn current_state(self) -> Option<&'a str> {
        self.0.str("/status/currentState")
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
    fn backing_image_files_and_managers() {
        let o = obj(
            "longhorn.io",
            "BackingImage",
            "kind: BackingImage\nmetadata:\n  name: b\nstatus:\n  diskFileStatusMap:\n    d2:\n      state: failed\n      message: failed to calculate checksum\n      lastStateTransitionTime: \"2022-03-08T00:03:36Z\"\n    d1:\n      state: ready\n",
        );
        let files: Vec<(&str, Option<&str>, Option<&str>)> = LhBackingImage::of(&o)
            .unwrap()
            .disk_files()
            .map(|(d, f)| (d, f.state(), f.message()))
            .collect();
        assert_eq!(
            files,
            [
                ("d1", Some("ready"), None),
                ("d2", Some("failed"), Some("failed to calculate checksum"))
            ]
        );
        let m = obj(
            "longhorn.io",
            "BackingImageManager",
            "kind: BackingImageManager\nmetadata:\n  name: m\nspec:\n  nodeID: n2\n  diskUUID: d2\nstatus:\n  currentState: unknown\n  backingImageFileMap:\n    b:\n      state: failed\n",
        );
        let m = LhBackingImageManager::of(&m).unwrap();
        assert_eq!(
            (m.node_id(), m.disk_uuid(), m.current_state()),
            (Some("n2"), Some("d2"), Some("unknown"))
        );
        assert_eq!(
            m.files().map(|(b, f)| (b, f.state())).collect::<Vec<_>>(),
            [("b", Some("failed"))]
        );
        let im = obj(
            "longhorn.io",
            "InstanceManager",
            "kind: InstanceManager\nmetadata:\n  name: im\nspec:\n  nodeID: n1\n  type: replica\nstatus:\n  currentState: error\n",
        );
        let im = LhInstanceManager::of(&im).unwrap();
        assert_eq!(
            (im.node_id(), im.manager_type(), im.current_state()),
            (Some("n1"), Some("replica"), Some("error"))
        );
    }

    #[test]
    fn volume_conditions_as_a_list_or_a_map() {
        let list = obj(
            "longhorn.io",
            "Volume",
            "kind: Volume\nmetadata:\n  name: v\nspec:\n  backingImage: img\nstatus:\n  conditions:\n  - type: Scheduled\n    status: \"True\"\n  - type: WaitForBackingImage\n    status: \"True\"\n    reason: WaitForBackingImageFailed\n    message: copy failed\n",
        );
        let v = LhVolume::of(&list).unwrap();
        assert_eq!(v.backing_image(), Some("img"));
        assert_eq!(
            v.condition("WaitForBackingImage"),
            Some(LhCondition {
                status: "True",
                reason: Some("WaitForBackingImageFailed"),
                message: Some("copy failed")
            })
        );
        let map = obj(
            "longhorn.io",
            "Volume",
            "kind: Volume\nmetadata:\n  name: v\nstatus:\n  conditions:\n    restore:\n      status: \"False\"\n",
        );
        let v = LhVolume::of(&map).unwrap();
        assert_eq!(v.condition("restore").map(|c| c.status), Some("False"));
        assert_eq!(v.condition("WaitForBackingImage"), None);
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
            "kind: Replica\nmetadata:\n  name: r\nspec:\n  volumeName: pvc-1\n  nodeID: n1\n  diskID: d1\n  failedAt: \"2025-01-01T00:00:00Z\"\nstatus:\n  currentState: error\n",
        );
        let r = LhReplica::of(&o).unwrap();
        assert_eq!(r.volume_name(), Some("pvc-1"));
        assert_eq!(r.node_id(), Some("n1"));
        assert_eq!((r.disk_id(), r.disk_path()), (Some("d1"), None));
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
