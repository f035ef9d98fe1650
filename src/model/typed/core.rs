//! Views of the Kubernetes and add-on kinds kept whole that the webhook, life-cycle, diff and
//! pre-check code read: Endpoints, EndpointSlice (`discovery.k8s.io`), PodDisruptionBudget
//! (`policy`), Whereabouts' IPPool (`whereabouts.cni.cncf.io`), PersistentVolumeClaim and
//! VolumeAttachment (`storage.k8s.io`).
use super::view;
use crate::model::tree::Node;

view! {
    /// A core Endpoints object: the addresses behind a Service.
    Endpoints = "" / "Endpoints"
}

impl<'a> Endpoints<'a> {
    /// Every address of every `subsets` entry: `addresses` (ready) first, then
    /// `notReadyAddresses`, subset by subset.
    pub fn addresses(self) -> impl Iterator<Item = EndpointAddress<'a>> {
        self.0.list("/subsets").iter().flat_map(|s| {
            [("addresses", true), ("notReadyAddresses", false)]
                .into_iter()
                .flat_map(move |(field, ready)| {
                    s.get(field)
                        .and_then(Node::as_array)
                        .unwrap_or_default()
                        .iter()
                        .map(move |a| EndpointAddress { node: a, ready })
                })
        })
    }
}

/// One address of an [`Endpoints`] subset.
#[derive(Debug, Clone, Copy)]
pub struct EndpointAddress<'a> {
    node: &'a Node,
    ready: bool,
}

impl<'a> EndpointAddress<'a> {
    /// Whether it is listed under `addresses` (not `notReadyAddresses`).
    pub fn ready(self) -> bool {
        self.ready
    }

    /// `targetRef.name`: the pod behind it, when a string.
    pub fn target_name(self) -> Option<&'a str> {
        self.node.pointer("/targetRef/name").and_then(Node::as_str)
    }

    /// `ip`.
    pub fn ip(self) -> Option<&'a str> {
        self.node.get("ip").and_then(Node::as_str)
    }
}

view! {
    /// A `discovery.k8s.io` EndpointSlice: part of the endpoints of a Service (label
    /// `kubernetes.io/service-name`).
    EndpointSlice = "discovery.k8s.io" / "EndpointSlice"
}

impl<'a> EndpointSlice<'a> {
    /// `addressType` (`IPv4`, `IPv6`, `FQDN`).
    pub fn address_type(self) -> Option<&'a str> {
        self.0.str("/addressType")
    }

    /// `endpoints`.
    pub fn endpoints(self) -> impl Iterator<Item = SliceEndpoint<'a>> {
        self.0.list("/endpoints").iter().map(SliceEndpoint)
    }
}

/// One of an [`EndpointSlice`]'s `endpoints`.
#[derive(Debug, Clone, Copy)]
pub struct SliceEndpoint<'a>(&'a Node);

impl<'a> SliceEndpoint<'a> {
    /// Whether it is ready: `conditions.ready` is not false (absent or unreadable means ready,
    /// as Kubernetes reads a nil `ready`).
    pub fn ready(self) -> bool {
        self.0
            .pointer("/conditions/ready")
            .and_then(Node::lenient_bool)
            != Some(false)
    }

    /// `targetRef.name`: the pod behind it, when a string.
    pub fn target_name(self) -> Option<&'a str> {
        self.0.pointer("/targetRef/name").and_then(Node::as_str)
    }

    /// `addresses` that are strings.
    pub fn addresses(self) -> impl Iterator<Item = &'a str> {
        self.0
            .get("addresses")
            .and_then(Node::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
    }
}

view! {
    /// A `policy` PodDisruptionBudget.
    Pdb = "policy" / "PodDisruptionBudget"
}

impl<'a> Pdb<'a> {
    /// `status.disruptionsAllowed`: how many protected pods may be evicted now.
    pub fn disruptions_allowed(self) -> Option<i64> {
        self.0.int("/status/disruptionsAllowed")
    }

    /// `status.currentHealthy`.
    pub fn current_healthy(self) -> Option<i64> {
        self.0.int("/status/currentHealthy")
    }

    /// `status.desiredHealthy`.
    pub fn desired_healthy(self) -> Option<i64> {
        self.0.int("/status/desiredHealthy")
    }

    /// `spec.selector.matchLabels`: label and value (`None` when not a string).
    pub fn match_labels(self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> {
        self.0
            .at("/spec/selector/matchLabels")
            .and_then(Node::as_object)
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| (&**k, v.as_str()))
    }
}

view! {
    /// A Whereabouts IPPool: the addresses handed out in one range.
    IpPool = "whereabouts.cni.cncf.io" / "IPPool"
}

impl IpPool<'_> {
    /// How many addresses `spec.allocations` holds (0 when absent or not a map).
    pub fn allocation_count(self) -> usize {
        self.0
            .at("/spec/allocations")
            .and_then(Node::as_object)
            .map_or(0, <[_]>::len)
    }
}

view! {
    /// A PersistentVolumeClaim.
    Pvc = "" / "PersistentVolumeClaim"
}

impl<'a> Pvc<'a> {
    /// `spec.volumeName`: the PersistentVolume it is bound to.
    pub fn volume_name(self) -> Option<&'a str> {
        self.0.str("/spec/volumeName")
    }

    /// `status.phase` (`Pending`, `Bound`, `Lost`).
    pub fn phase(self) -> Option<&'a str> {
        self.0.str("/status/phase")
    }
}

view! {
    /// A `storage.k8s.io` VolumeAttachment: a CSI driver's record that a PersistentVolume is
    /// attached to a node.
    VolumeAttachment = "storage.k8s.io" / "VolumeAttachment"
}

impl<'a> VolumeAttachment<'a> {
    /// `spec.attacher`: the CSI driver (`driver.longhorn.io`).
    pub fn attacher(self) -> Option<&'a str> {
        self.0.str("/spec/attacher")
    }

    /// `spec.nodeName`: the node it attaches to.
    pub fn node_name(self) -> Option<&'a str> {
        self.0.str("/spec/nodeName")
    }

    /// `spec.source.persistentVolumeName`: the PersistentVolume attached.
    pub fn pv_name(self) -> Option<&'a str> {
        self.0.str("/spec/source/persistentVolumeName")
    }

    /// `status.attached`.
    pub fn attached(self) -> Option<bool> {
        self.0.bool("/status/attached")
    }

    /// `status.attachError.message` (else `status.detachError.message`): the driver's last
    /// error.
    pub fn error(self) -> Option<&'a str> {
        self.0
            .str("/status/attachError/message")
            .or_else(|| self.0.str("/status/detachError/message"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::typed::testing::obj;

    #[test]
    fn claims_and_attachments() {
        let c = obj(
            "",
            "PersistentVolumeClaim",
            "kind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: ns\nspec:\n  volumeName: pvc-1\nstatus:\n  phase: Bound\n",
        );
        let c = Pvc::of(&c).unwrap();
        assert_eq!((c.volume_name(), c.phase()), (Some("pvc-1"), Some("Bound")));
        let a = obj(
            "storage.k8s.io",
            "VolumeAttachment",
            "kind: VolumeAttachment\nmetadata:\n  name: csi-1\nspec:\n  attacher: driver.longhorn.io\n  nodeName: n1\n  source:\n    persistentVolumeName: pvc-1\nstatus:\n  attached: true\n  attachError:\n    message: volume not found\n",
        );
        let a = VolumeAttachment::of(&a).unwrap();
        assert_eq!(a.attacher(), Some("driver.longhorn.io"));
        assert_eq!((a.node_name(), a.pv_name()), (Some("n1"), Some("pvc-1")));
        assert_eq!(a.attached(), Some(true));
        assert_eq!(a.error(), Some("volume not found"));
    }

    #[test]
    fn endpoints_addresses() {
        let o = obj(
            "",
            "Endpoints",
            r#"kind: Endpoints
metadata:
  name: svc
subsets:
- addresses:
  - ip: 10.0.0.1
    targetRef:
      name: p1
  - ip: 10.0.0.2
  notReadyAddresses:
  - ip: 10.0.0.3
    targetRef:
      name: p3
- addresses:
  - ip: 10.0.0.4
    targetRef:
      name: p4
"#,
        );
        let a: Vec<(bool, Option<&str>)> = Endpoints::of(&o)
            .unwrap()
            .addresses()
            .map(|a| (a.ready(), a.target_name()))
            .collect();
        assert_eq!(
            a,
            [
                (true, Some("p1")),
                (true, None),
                (false, Some("p3")),
                (true, Some("p4"))
            ]
        );
        assert!(EndpointSlice::of(&o).is_none());
    }

    #[test]
    fn endpoint_slice_endpoints() {
        let o = obj(
            "discovery.k8s.io",
            "EndpointSlice",
            r#"kind: EndpointSlice
metadata:
  name: svc-abc
endpoints:
- conditions:
    ready: true
  targetRef:
    name: p1
- conditions:
    ready: false
  targetRef:
    name: p2
- conditions:
    ready: "false"
- targetRef:
    name: p4
"#,
        );
        let e: Vec<(bool, Option<&str>)> = EndpointSlice::of(&o)
            .unwrap()
            .endpoints()
            .map(|e| (e.ready(), e.target_name()))
            .collect();
        assert_eq!(
            e,
            [
                (true, Some("p1")),
                (false, Some("p2")),
                (false, None),
                (true, Some("p4"))
            ]
        );
    }

    #[test]
    fn pdb_fields() {
        let o = obj(
            "policy",
            "PodDisruptionBudget",
            r#"kind: PodDisruptionBudget
metadata:
  name: im
spec:
  selector:
    matchLabels:
      app: im
      n: 3
status:
  disruptionsAllowed: 0
  currentHealthy: 1
  desiredHealthy: 1
"#,
        );
        let p = Pdb::of(&o).unwrap();
        assert_eq!(
            (
                p.disruptions_allowed(),
                p.current_healthy(),
                p.desired_healthy()
            ),
            (Some(0), Some(1), Some(1))
        );
        assert_eq!(
            p.match_labels().collect::<Vec<_>>(),
            [("app", Some("im")), ("n", None)]
        );
        let bare = obj(
            "policy",
            "PodDisruptionBudget",
            "kind: PodDisruptionBudget\nmetadata:\n  name: x\n",
        );
        let p = Pdb::of(&bare).unwrap();
        assert_eq!(
            (p.disruptions_allowed(), p.match_labels().count()),
            (None, 0)
        );
    }

    #[test]
    fn ippool_allocations() {
        let o = obj(
            "whereabouts.cni.cncf.io",
            "IPPool",
            "kind: IPPool\nmetadata:\n  name: p\nspec:\n  allocations:\n    \"1\":\n      id: a\n    \"7\":\n      id: b\n",
        );
        assert_eq!(IpPool::of(&o).unwrap().allocation_count(), 2);
        let bare = obj(
            "whereabouts.cni.cncf.io",
            "IPPool",
            "kind: IPPool\nmetadata:\n  name: p\n",
        );
        assert_eq!(IpPool::of(&bare).unwrap().allocation_count(), 0);
    }
}
