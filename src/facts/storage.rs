//! The storage chain, built once from the index: for every volume the capture knows of (a
//! PersistentVolume, a claim bound to a volume that is not there, or a Longhorn Volume), the
//! links VMI/pod → PersistentVolumeClaim → PersistentVolume → Longhorn Volume → Engine →
//! Replicas → node and disk, plus the CSI VolumeAttachments, each link present, absent or
//! deleting. Rules read it (a lost volume, a stuck attachment), `describe vm` prints it from
//! the VM down (`facts::vm::vm_links`). [`device_disk`] maps a node's block device (`sdb`, as
//! the kernel log names it) to the Harvester BlockDevice, the Longhorn disk mounted from it and
//! the replicas on that disk.
use std::collections::{BTreeMap, HashMap};

use crate::index::{Index, Object};
use crate::model::condition;
use crate::model::typed::core::{Pvc, VolumeAttachment};
use crate::model::typed::harvester::BlockDevice;
use crate::model::typed::kubevirt::{VirtualMachine, Vmi};
use crate::model::typed::longhorn::{LhEngine, LhNode, LhReplica, LhVolume};
use crate::model::views::View;

/// Longhorn's CSI driver: the `spec.csi.driver` of its PersistentVolumes and the `attacher` of
/// its VolumeAttachments.
pub const LONGHORN_DRIVER: &str = "driver.longhorn.io";

/// Longhorn's namespace, where its pods log.
pub const LONGHORN_NAMESPACE: &str = "longhorn-system";

/// The Longhorn pods (by name prefix) whose logs say a volume is not found:
/// longhorn-csi-plugin (`NodeGetVolumeStats … not found`) and longhorn-manager
/// (`volume.longhorn.io "…" not found`).
pub const VOLUME_LOG_PODS: &[&str] = &["longhorn-csi-plugin-", "longhorn-manager-"];

/// What those lines say.
pub const NOT_FOUND: &str = "not found";

/// Issue prefix of a log hit naming a lost volume, followed by its Longhorn name.
pub const NOT_FOUND_HIT: &str = "storage:not-found:";

/// Annotations on a claim naming the provisioner that made (or makes) its volume.
const PROVISIONER_ANNOTATIONS: &[&str] = &[
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
];

/// A node's block device as Longhorn uses it: the Harvester BlockDevice, the Longhorn disk
/// mounted from it and the replicas on that disk.
#[derive(Debug, Clone)]
pub struct DeviceDisk<'a> {
    /// The BlockDevice (`longhorn-system`) whose device path is the device or its disk.
    pub block_device: &'a Object,
    /// Its device path (`/dev/sdb`).
    pub dev_path: &'a str,
    /// Where it is mounted (`/var/lib/harvester/extra-disks/…`), if provisioned.
    pub mount_point: Option<&'a str>,
    /// The Longhorn Node and the name of its disk at that path, if Longhorn has one.
    pub longhorn_disk: Option<(&'a Object, &'a str)>,
    /// The replicas on that disk (by `spec.diskID`, or `spec.diskPath` on the node).
    pub replicas: Vec<&'a Object>,
}

/// `device` (`sdb`, `sdb1`) of `node` as Longhorn uses it, when a BlockDevice of the node has
/// that device path (or, for a partition, its disk's and no BlockDevice has the partition's).
pub fn device_disk<'a>(index: &'a Index, node: &str, device: &str) -> Option<DeviceDisk<'a>> {
    let of_node: Vec<(&Object, BlockDevice)> = index
        .typed::<BlockDevice>()
        .filter(|(_, b)| b.node_name() == Some(node))
        .collect();
    let find = |dev: &str| {
        of_node
            .iter()
            .find(|(_, b)| b.dev_path() == Some(&format!("/dev/{dev}")))
            .copied()
    };
    let disk = device.trim_end_matches(|c: char| c.is_ascii_digit());
    let (o, b) = find(device).or_else(|| (disk != device).then(|| find(disk)).flatten())?;
    let mount_point = b.mount_point();
    let longhorn_disk = mount_point.and_then(|m| {
        index.typed::<LhNode>().find_map(|(n, lh)| {
            if n.key.name != node {
                return None;
            }
            lh.disks()
                .find(|(_, d)| d.path() == Some(m))
                .map(|(name, _)| (n, name))
        })
    });
    let uuid = longhorn_disk.and_then(|(n, name)| LhNode::of(n).and_then(|lh| lh.disk_uuid(name)));
    let replicas = match (longhorn_disk, mount_point) {
        (Some(_), Some(m)) => index
            .typed::<LhReplica>()
            .filter(|(_, r)| {
                r.node_id() == Some(node)
                    && (uuid.is_some_and(|u| r.disk_id() == Some(u)) || r.disk_path() == Some(m))
            })
            .map(|(o, _)| o)
            .collect(),
        _ => Vec::new(),
    };
    Some(DeviceDisk {
        block_device: o,
        dev_path: b.dev_path().unwrap_or_default(),
        mount_point,
        longhorn_disk,
        replicas,
    })
}

/// One volume and everything on its way, by index position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeChain {
    /// The volume's name: the PersistentVolume's, else the claim's `spec.volumeName`, else the
    /// Longhorn Volume's.
    pub name: String,
    /// Whether Longhorn serves it (a PV of the Longhorn CSI driver, a claim provisioned by it,
    /// or a Longhorn Volume).
    pub longhorn: bool,
    /// The name Longhorn knows the volume by (the PV's `volumeHandle`), when Longhorn serves it.
    pub longhorn_name: Option<String>,
    /// The claim as (namespace, name): from the PV's `claimRef`, the claim itself, or the
    /// Longhorn Volume's `kubernetesStatus`.
    pub claim: Option<(String, String)>,
    /// The PersistentVolumeClaim.
    pub pvc: Option<usize>,
    /// The PersistentVolume.
    pub pv: Option<usize>,
    /// The Longhorn Volume.
    pub volume: Option<usize>,
    /// Its Longhorn Engines.
    pub engines: Vec<usize>,
    /// Its Longhorn Replicas.
    pub replicas: Vec<usize>,
    /// The VolumeAttachments naming the PV.
    pub attachments: Vec<usize>,
    /// The pods mounting the claim.
    pub pods: Vec<usize>,
    /// The VirtualMachineInstances whose volumes name the claim.
    pub vmis: Vec<usize>,
}

/// Why a volume is lost: what the capture shows of it.
#[derive(Debug, Clone)]
pub struct Lost<'a> {
    /// Longhorn serves it, yet no Longhorn Volume of that name is in the capture.
    pub no_volume: bool,
    /// The PV and the claim that carry a `deletionTimestamp`, with it.
    pub deleting: Vec<(&'a Object, &'a str)>,
    /// VolumeAttachments that say attached, with their node.
    pub attached: Vec<(&'a Object, &'a str)>,
    /// Pods that mount the claim and have not finished (not Succeeded or Failed).
    pub mounted_by: Vec<&'a Object>,
}

impl VolumeChain {
    /// The claim as borrowed (namespace, name), the key of [`Storage::of_claim`].
    fn claim_key(&self) -> Option<(&str, &str)> {
        self.claim.as_ref().map(|(ns, n)| (ns.as_str(), n.as_str()))
    }

    /// An object of the chain.
    fn get(index: &Index, i: Option<usize>) -> Option<&Object> {
        index.objects.get(i?)
    }

    /// The PersistentVolume, if captured.
    pub fn pv<'a>(&self, index: &'a Index) -> Option<&'a Object> {
        Self::get(index, self.pv)
    }

    /// The PersistentVolumeClaim, if captured.
    pub fn pvc<'a>(&self, index: &'a Index) -> Option<&'a Object> {
        Self::get(index, self.pvc)
    }

    /// The Longhorn Volume, if captured.
    pub fn volume<'a>(&self, index: &'a Index) -> Option<&'a Object> {
        Self::get(index, self.volume)
    }

    /// The objects at `positions`.
    pub fn objects<'a>(index: &'a Index, positions: &[usize]) -> Vec<&'a Object> {
        positions
            .iter()
            .filter_map(|&i| index.objects.get(i))
            .collect()
    }

    /// Whether the volume is lost: Longhorn serves it (a PV or a claim says so) and no
    /// Longhorn Volume of its name is in the capture, or its PV or claim is being deleted
    /// while an attachment says attached or a pod still mounts it. `volumes_listed` says
    /// whether the capture holds the Longhorn Volume list at all: without it, an absent
    /// volume proves nothing.
    pub fn lost<'a>(&self, index: &'a Index, volumes_listed: bool) -> Option<Lost<'a>> {
        let deleting: Vec<(&Object, &str)> = [self.pv(index), self.pvc(index)]
            .into_iter()
            .flatten()
            .filter_map(|o| Some((o, o.meta.deletion_timestamp.as_deref()?)))
            .collect();
        let attached: Vec<(&Object, &str)> = Self::objects(index, &self.attachments)
            .into_iter()
            .filter_map(|a| {
                let t = VolumeAttachment::of(a)?;
                (t.attached() == Some(true)).then(|| (a, t.node_name().unwrap_or("")))
            })
            .collect();
        let mounted_by: Vec<&Object> = Self::objects(index, &self.pods)
            .into_iter()
            .filter(|p| !matches!(p.status.phase.as_deref(), Some("Succeeded" | "Failed")))
            .collect();
        let no_volume = self.longhorn
            && volumes_listed
            && self.volume.is_none()
            && (self.pv.is_some() || self.pvc.is_some());
        let stuck = !deleting.is_empty() && (!attached.is_empty() || !mounted_by.is_empty());
        (no_volume || stuck).then_some(Lost {
            no_volume,
            deleting,
            attached,
            mounted_by,
        })
    }
}

/// Every volume's chain, with lookups by PV, claim and Longhorn name.
#[derive(Debug, Clone, Default)]
pub struct Storage {
    /// The chains: PVs (by name), then claims bound to absent PVs, then Longhorn Volumes no PV
    /// names.
    pub volumes: Vec<VolumeChain>,
    /// Positions in `volumes` of the chains with a claim, sorted by claim (no copies of the
    /// names: a bundle may hold tens of thousands of volumes).
    by_claim: Vec<u32>,
    /// Positions in `volumes` of the chains Longhorn serves, sorted by Longhorn name.
    by_longhorn: Vec<u32>,
}

impl Storage {
    /// Builds every chain in a few passes over the index.
    pub fn build(index: &Index) -> Storage {
        let mut lh_volumes: HashMap<&str, usize> = HashMap::new();
        for (o, _) in index.typed::<LhVolume>() {
            if let Some(i) = index.position(&o.key) {
                lh_volumes.insert(&o.key.name, i);
            }
        }
        let mut engines: HashMap<&str, Vec<usize>> = HashMap::new();
        for (o, t) in index.typed::<LhEngine>() {
            if let (Some(v), Some(i)) = (t.volume_name(), index.position(&o.key)) {
                engines.entry(v).or_default().push(i);
            }
        }
        let mut replicas: HashMap<&str, Vec<usize>> = HashMap::new();
        for (o, t) in index.typed::<LhReplica>() {
            if let (Some(v), Some(i)) = (t.volume_name(), index.position(&o.key)) {
                replicas.entry(v).or_default().push(i);
            }
        }
        let mut attachments: HashMap<&str, Vec<usize>> = HashMap::new();
        for (o, t) in index.typed::<VolumeAttachment>() {
            if let (Some(pv), Some(i)) = (t.pv_name(), index.position(&o.key)) {
                attachments.entry(pv).or_default().push(i);
            }
        }
        let mut pods: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for p in index.of_kind("", "Pod") {
            let View::Pod(v) = &p.view else { continue };
            let Some(i) = index.position(&p.key) else {
                continue;
            };
            for c in &v.claims {
                pods.entry((&p.key.namespace, c)).or_default().push(i);
            }
        }
        let mut vmis: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (o, t) in index.typed::<Vmi>() {
            let Some(i) = index.position(&o.key) else {
                continue;
            };
            for c in t.volumes().filter_map(|v| v.claim_name()) {
                vmis.entry((&o.key.namespace, c)).or_default().push(i);
            }
        }
        let mut claims: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for (o, _) in index.typed::<Pvc>() {
            if let Some(i) = index.position(&o.key) {
                claims.insert((&o.key.namespace, &o.key.name), i);
            }
        }

        let mut out = Storage::default();
        let mut used_claims: std::collections::HashSet<usize> = std::collections::HashSet::new();
        let mut used_volumes: std::collections::HashSet<usize> = std::collections::HashSet::new();
        let fill = |c: &mut VolumeChain| {
            if let Some(lh) = c.longhorn_name.clone() {
                c.volume = lh_volumes.get(lh.as_str()).copied();
                c.engines = engines.get(lh.as_str()).cloned().unwrap_or_default();
                c.replicas = replicas.get(lh.as_str()).cloned().unwrap_or_default();
            }
            c.attachments = attachments
                .get(c.name.as_str())
                .cloned()
                .unwrap_or_default();
            if let Some((ns, n)) = &c.claim {
                let k = (ns.as_str(), n.as_str());
                c.pvc = claims.get(&k).copied();
                c.pods = pods.get(&k).cloned().unwrap_or_default();
                c.vmis = vmis.get(&k).cloned().unwrap_or_default();
            }
        };
        for pv in index.of_kind("", "PersistentVolume") {
            let View::PersistentVolume(v) = &pv.view else {
                continue;
            };
            let longhorn = v.csi_driver.as_deref() == Some(LONGHORN_DRIVER);
            let mut c = VolumeChain {
                name: pv.key.name.clone(),
                longhorn,
                longhorn_name: longhorn
                    .then(|| v.volume_handle.clone().unwrap_or(pv.key.name.clone())),
                claim: v.claim_namespace.clone().zip(v.claim_name.clone()),
                pv: index.position(&pv.key),
                ..VolumeChain::default()
            };
            fill(&mut c);
            used_claims.extend(c.pvc);
            used_volumes.extend(c.volume);
            out.volumes.push(c);
        }
        // Claims bound to a PersistentVolume the capture does not hold.
        for (o, t) in index.typed::<Pvc>() {
            let Some(i) = index.position(&o.key) else {
                continue;
            };
            let Some(pv) = t.volume_name() else { continue };
            if used_claims.contains(&i) || index.find("", "PersistentVolume", "", pv).is_some() {
                continue;
            }
            let longhorn = PROVISIONER_ANNOTATIONS
                .iter()
                .any(|a| o.meta.annotations.get(a).map(String::as_str) == Some(LONGHORN_DRIVER));
            let mut c = VolumeChain {
                name: pv.to_string(),
                longhorn,
                longhorn_name: longhorn.then(|| pv.to_string()),
                claim: Some((o.key.namespace.clone(), o.key.name.clone())),
                ..VolumeChain::default()
            };
            fill(&mut c);
            used_volumes.extend(c.volume);
            out.volumes.push(c);
        }
        // Longhorn Volumes no PersistentVolume names (VM images, volumes made in Longhorn's UI).
        for (o, t) in index.typed::<LhVolume>() {
            let Some(i) = index.position(&o.key) else {
                continue;
            };
            if used_volumes.contains(&i) {
                continue;
            }
            let mut c = VolumeChain {
                name: o.key.name.clone(),
                longhorn: true,
                longhorn_name: Some(o.key.name.clone()),
                claim: t.pvc().map(|(ns, n)| (ns.to_string(), n.to_string())),
                ..VolumeChain::default()
            };
            fill(&mut c);
            out.volumes.push(c);
        }
        out.volumes.shrink_to_fit();
        // Positions are u32 (a bundle holds far fewer than 4 billion volumes); stable sorts,
        // so of two chains with one key the first built (a PV before a claim without one) is
        // the one found.
        let positions = |key: &dyn Fn(&VolumeChain) -> bool| -> Vec<u32> {
            out.volumes
                .iter()
                .enumerate()
                .filter(|(_, c)| key(c))
                .filter_map(|(k, _)| u32::try_from(k).ok())
                .collect()
        };
        let mut by_claim = positions(&|c| c.claim.is_some());
        by_claim.sort_by_key(|&k| out.at(k).and_then(VolumeChain::claim_key));
        let mut by_longhorn = positions(&|c| c.longhorn_name.is_some());
        by_longhorn.sort_by_key(|&k| out.at(k).and_then(|c| c.longhorn_name.as_deref()));
        out.by_claim = by_claim;
        out.by_longhorn = by_longhorn;
        out
    }

    /// The chain at position `k` of `volumes`.
    fn at(&self, k: u32) -> Option<&VolumeChain> {
        self.volumes.get(usize::try_from(k).ok()?)
    }

    /// The chain of the claim `namespace/name`.
    pub fn of_claim(&self, namespace: &str, name: &str) -> Option<&VolumeChain> {
        self.at(u32::try_from(self.position_of_claim(namespace, name)?).ok()?)
    }

    /// The position in [`Storage::volumes`] of the claim `namespace/name`'s chain.
    pub fn position_of_claim(&self, namespace: &str, name: &str) -> Option<usize> {
        let key = Some((namespace, name));
        let first = self
            .by_claim
            .partition_point(|&k| self.at(k).and_then(VolumeChain::claim_key) < key);
        let k = *self.by_claim.get(first)?;
        (self.at(k)?.claim_key() == key).then_some(usize::try_from(k).ok()?)
    }

    /// The chain of the volume Longhorn calls `name`.
    pub fn of_longhorn(&self, name: &str) -> Option<&VolumeChain> {
        let key = Some(name);
        let first = self
            .by_longhorn
            .partition_point(|&k| self.at(k).and_then(|c| c.longhorn_name.as_deref()) < key);
        let c = self.at(*self.by_longhorn.get(first)?)?;
        (c.longhorn_name.as_deref() == key).then_some(c)
    }

    /// The lost volumes ([`VolumeChain::lost`]); `volumes_listed`: whether the capture holds
    /// Longhorn's Volume list.
    pub fn lost<'a>(
        &'a self,
        index: &'a Index,
        volumes_listed: bool,
    ) -> Vec<(&'a VolumeChain, Lost<'a>)> {
        self.volumes
            .iter()
            .filter_map(|c| Some((c, c.lost(index, volumes_listed)?)))
            .collect()
    }
}

/// Whether the capture can say a Longhorn Volume is absent: Longhorn's namespace was collected
/// (a list file or an object in it; the support bundle writes no empty list). Another
/// namespace's (empty) Longhorn lists say nothing about Longhorn's own.
pub fn longhorn_collected(index: &Index) -> bool {
    index
        .files
        .iter()
        .any(|f| f.namespace == LONGHORN_NAMESPACE)
        || index
            .objects
            .iter()
            .any(|o| o.key.namespace == LONGHORN_NAMESPACE)
}

/// One link of a chain as `describe` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Nesting depth (0: the top of the chain).
    pub depth: usize,
    /// How it hangs from the link above (`runs`, `mounts`, `bound to`, …); empty at the top.
    pub relation: &'static str,
    /// Kind, namespace and name as `Kind ns/name` (or `Kind name`).
    pub what: String,
    /// The object, when the capture holds it.
    pub at: Option<usize>,
    /// Its state: present with phase/robustness/node, deleting since when, or absent.
    pub state: String,
}

/// A kind as a link names it: Longhorn's qualified (`Volume.longhorn.io`, `Replica.longhorn.io`:
/// a Longhorn Node or Volume is not Kubernetes'), others bare.
fn kind_name(o: &Object) -> String {
    if o.key.group == "longhorn.io" {
        format!("{}.longhorn.io", o.key.kind)
    } else {
        o.key.kind.clone()
    }
}

/// `Kind ns/name` (or `Kind name`).
pub fn what(kind: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {namespace}/{name}")
    }
}

/// A present object's state: its own words, then `deleting since …` when it has a
/// `deletionTimestamp`.
fn state_of(index: &Index, o: &Object) -> String {
    let mut parts: Vec<String> = Vec::new();
    let node_state = |n: &str| -> String {
        match index
            .find("", "Node", "", n)
            .map(|node| condition(&node.status.conditions, "Ready").map(|c| c.status == "True"))
        {
            None => format!("{n} (no Node {n} in the capture)"),
            Some(Some(false)) => format!("{n} (NotReady)"),
            _ => n.to_string(),
        }
    };
    if let Some(t) = LhVolume::of(o) {
        parts.push(format!(
            "{}, robustness {}",
            t.state().unwrap_or("state unknown"),
            t.robustness().unwrap_or("unknown")
        ));
        if let Some(n) = t.current_node_id() {
            parts.push(format!("on {}", node_state(n)));
        }
    } else if let Some(t) = LhEngine::of(o) {
        parts.push(t.current_state().unwrap_or("state unknown").to_string());
        if let Some(n) = t.node_id() {
            parts.push(format!("on {}", node_state(n)));
        }
    } else if let Some(t) = LhReplica::of(o) {
        parts.push(t.current_state().unwrap_or("state unknown").to_string());
        if let Some(n) = t.node_id() {
            parts.push(format!("on {}", node_state(n)));
        }
        if let Some(d) = t.disk_path().or(t.disk_id()) {
            parts.push(format!("disk {d}"));
        }
        if let Some(f) = t.failed_at() {
            parts.push(format!("failed at {f}"));
        }
    } else if let Some(t) = VolumeAttachment::of(o) {
        parts.push(match t.attached() {
            Some(true) => "attached".into(),
            Some(false) => "not attached".into(),
            None => "attachment unknown".into(),
        });
        if let Some(n) = t.node_name() {
            parts.push(format!("to {}", node_state(n)));
        }
        if let Some(e) = t.error() {
            parts.push(format!("error: {}", crate::text::one_line(e, 120)));
        }
    } else if let Some(t) = VirtualMachine::of(o) {
        parts.push(t.printable_status().unwrap_or("status unknown").to_string());
    } else if let Some(t) = Vmi::of(o) {
        parts.push(t.phase().unwrap_or("phase unknown").to_string());
        if let Some(n) = t.node_name() {
            parts.push(format!("on {}", node_state(n)));
        }
    } else {
        if let Some(p) = &o.status.phase {
            parts.push(p.clone());
        }
        if let View::Pod(p) = &o.view
            && let Some(n) = &p.node_name
        {
            parts.push(format!("on {}", node_state(n)));
        }
        if let View::PersistentVolume(v) = &o.view
            && let Some(d) = &v.csi_driver
        {
            parts.push(format!("CSI driver {d}"));
        }
    }
    if let Some(d) = &o.meta.deletion_timestamp {
        parts.push(format!("deleting since {d}"));
    }
    if parts.is_empty() {
        "present".into()
    } else {
        parts.join(", ")
    }
}

/// The link of the object at `i`, present in the capture, with its state.
pub fn present(index: &Index, depth: usize, relation: &'static str, i: usize) -> Option<Link> {
    let o = index.objects.get(i)?;
    Some(Link {
        depth,
        relation,
        what: what(&kind_name(o), &o.key.namespace, &o.key.name),
        at: Some(i),
        state: state_of(index, o),
    })
}

/// A link the capture does not hold.
pub fn absent(depth: usize, relation: &'static str, what: String) -> Link {
    Link {
        depth,
        relation,
        what,
        at: None,
        state: "absent from the capture".into(),
    }
}

/// The links of a volume chain from its claim down, the claim at `depth`: claim (and, with
/// `pods`, the pods mounting it) → PV → attachments and Longhorn Volume → engines, replicas
/// (each with node and disk).
pub fn volume_links(index: &Index, c: &VolumeChain, depth: usize, pods: bool) -> Vec<Link> {
    let mut out = Vec::new();
    let mut d = depth;
    if let Some((ns, n)) = &c.claim {
        out.extend(match c.pvc {
            Some(i) => present(index, d, "mounts", i),
            None => Some(absent(d, "mounts", what("PersistentVolumeClaim", ns, n))),
        });
        d += 1;
        if pods {
            for &p in &c.pods {
                out.extend(present(index, d, "mounted by", p));
            }
        }
    }
    out.extend(match c.pv {
        Some(i) => present(index, d, "bound to", i),
        None => Some(absent(d, "bound to", what("PersistentVolume", "", &c.name))),
    });
    for &a in &c.attachments {
        out.extend(present(index, d + 1, "attached by", a));
    }
    if let Some(lh) = &c.longhorn_name {
        out.extend(match c.volume {
            Some(i) => present(index, d + 1, "stored in", i),
            None => Some(absent(
                d + 1,
                "stored in",
                what("Volume.longhorn.io", "longhorn-system", lh),
            )),
        });
        for &e in &c.engines {
            out.extend(present(index, d + 2, "served by", e));
        }
        for &r in &c.replicas {
            out.extend(present(index, d + 2, "replicated on", r));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PV: &str = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-1\n  \
        deletionTimestamp: \"2025-02-01T00:00:00Z\"\nspec:\n  claimRef:\n    namespace: mon\n    \
        name: data\n  csi:\n    driver: driver.longhorn.io\n    volumeHandle: pvc-1\nstatus:\n  \
        phase: Bound\n";
    const PVC: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  \
        namespace: mon\nspec:\n  volumeName: pvc-1\nstatus:\n  phase: Bound\n";
    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: graf-0\n  namespace: mon\n\
        spec:\n  nodeName: n1\n  volumes:\n  - name: storage\n    persistentVolumeClaim:\n      \
        claimName: data\nstatus:\n  phase: Running\n";
    const VA: &str = "apiVersion: storage.k8s.io/v1\nkind: VolumeAttachment\nmetadata:\n  \
        name: csi-1\nspec:\n  attacher: driver.longhorn.io\n  nodeName: n1\n  source:\n    \
        persistentVolumeName: pvc-1\nstatus:\n  attached: true\n";
    const VOLUME: &str = "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  \
        name: pvc-1\n  namespace: longhorn-system\nstatus:\n  state: attached\n  \
        robustness: healthy\n  currentNodeID: n1\n";
    const REPLICA: &str = "apiVersion: longhorn.io/v1beta2\nkind: Replica\nmetadata:\n  \
        name: pvc-1-r-1\n  namespace: longhorn-system\nspec:\n  volumeName: pvc-1\n  nodeID: n2\n  \
        diskPath: /var/lib/harvester/defaultdisk\nstatus:\n  currentState: running\n";

    #[test]
    fn a_device_maps_to_its_block_device_longhorn_disk_and_replicas() {
        let bd = "apiVersion: harvesterhci.io/v1beta1\nkind: BlockDevice\nmetadata:\n  name: bd1\n  \
            namespace: longhorn-system\nspec:\n  devPath: /dev/sdb\n  nodeName: n2\n  fileSystem:\n    \
            mountPoint: /var/lib/harvester/extra-disks/bd1\nstatus:\n  deviceStatus:\n    \
            devPath: /dev/sdb\n    fileSystem:\n      mountPoint: /var/lib/harvester/extra-disks/bd1\n";
        let other = "apiVersion: harvesterhci.io/v1beta1\nkind: BlockDevice\nmetadata:\n  name: bd2\n  \
            namespace: longhorn-system\nspec:\n  devPath: /dev/sdc\n  nodeName: n2\n";
        let node = "apiVersion: longhorn.io/v1beta2\nkind: Node\nmetadata:\n  name: n2\n  \
            namespace: longhorn-system\nspec:\n  disks:\n    bd1:\n      \
            path: /var/lib/harvester/extra-disks/bd1\n    default-disk-1:\n      \
            path: /var/lib/harvester/defaultdisk\nstatus:\n  diskStatus:\n    bd1:\n      \
            diskUUID: u-bd1\n    default-disk-1:\n      diskUUID: u-def\n";
        let on_disk = "apiVersion: longhorn.io/v1beta2\nkind: Replica\nmetadata:\n  \
            name: pvc-1-r-2\n  namespace: longhorn-system\nspec:\n  volumeName: pvc-1\n  \
            nodeID: n2\n  diskID: u-bd1\n  diskPath: /var/lib/harvester/extra-disks/bd1\n";
        let index = Index::from_yaml_objects(&[bd, other, node, on_disk, REPLICA, VOLUME]);
        let d = device_disk(&index, "n2", "sdb1").expect("the partition's disk");
        assert_eq!(d.block_device.key.name, "bd1");
        assert_eq!(d.dev_path, "/dev/sdb");
        assert_eq!(d.mount_point, Some("/var/lib/harvester/extra-disks/bd1"));
        assert_eq!(
            d.longhorn_disk.map(|(n, disk)| (n.key.name.as_str(), disk)),
            Some(("n2", "bd1"))
        );
        // pvc-1-r-1 is on n2's default disk: not on this one.
        let names: Vec<&str> = d.replicas.iter().map(|r| r.key.name.as_str()).collect();
        assert_eq!(names, ["pvc-1-r-2"]);
        // Not provisioned: no Longhorn disk; another node's device: nothing.
        let d = device_disk(&index, "n2", "sdc").unwrap();
        assert!(d.mount_point.is_none() && d.longhorn_disk.is_none() && d.replicas.is_empty());
        assert!(device_disk(&index, "n1", "sdb").is_none());
    }

    #[test]
    fn a_longhorn_pv_without_its_volume_is_lost_with_its_claim_pod_and_attachment() {
        let index = Index::from_yaml_objects(&[PV, PVC, POD, VA]);
        let s = Storage::build(&index);
        assert_eq!(s.volumes.len(), 1);
        let c = &s.volumes[0];
        assert_eq!(c.claim, Some(("mon".into(), "data".into())));
        assert!(c.longhorn && c.pvc.is_some() && c.volume.is_none());
        assert_eq!((c.pods.len(), c.attachments.len()), (1, 1));
        assert_eq!(s.of_claim("mon", "data"), Some(c));
        // The capture holds no Longhorn Volume list: an absent volume proves nothing, but the
        // PV deleting while attached and mounted does.
        let lost = c.lost(&index, false).unwrap();
        assert!(!lost.no_volume);
        assert_eq!(lost.deleting.len(), 1);
        assert_eq!(lost.attached[0].1, "n1");
        assert_eq!(lost.mounted_by[0].key.name, "graf-0");
        assert!(c.lost(&index, true).unwrap().no_volume);
        let links = volume_links(&index, c, 0, true);
        let text: Vec<String> = links
            .iter()
            .map(|l| format!("{} {} {}: {}", l.depth, l.relation, l.what, l.state))
            .collect();
        assert_eq!(
            text,
            [
                "0 mounts PersistentVolumeClaim mon/data: Bound",
                "1 mounted by Pod mon/graf-0: Running, on n1 (no Node n1 in the capture)",
                "1 bound to PersistentVolume pvc-1: Bound, CSI driver driver.longhorn.io, \
                 deleting since 2025-02-01T00:00:00Z",
                "2 attached by VolumeAttachment csi-1: attached, to n1 (no Node n1 in the capture)",
                "2 stored in Volume.longhorn.io longhorn-system/pvc-1: absent from the capture",
            ]
        );
    }

    #[test]
    fn a_healthy_chain_reaches_the_replicas_and_is_not_lost() {
        let pv = PV.replace("  deletionTimestamp: \"2025-02-01T00:00:00Z\"\n", "");
        let index = Index::from_yaml_objects(&[&pv, PVC, POD, VA, VOLUME, REPLICA]);
        let s = Storage::build(&index);
        assert_eq!(s.volumes.len(), 1);
        let c = &s.volumes[0];
        assert!(c.volume.is_some());
        assert_eq!(c.replicas.len(), 1);
        assert!(c.lost(&index, true).is_none());
        assert_eq!(s.of_longhorn("pvc-1"), Some(c));
        let last = volume_links(&index, c, 0, false).pop().unwrap();
        assert_eq!(
            last.state,
            "running, on n2 (no Node n2 in the capture), disk /var/lib/harvester/defaultdisk"
        );
    }

    #[test]
    fn claims_of_absent_pvs_and_volumes_without_pv_have_chains() {
        let pvc = PVC.replace(
            "  namespace: mon\n",
            "  namespace: mon\n  annotations:\n    \
             volume.beta.kubernetes.io/storage-provisioner: driver.longhorn.io\n",
        );
        let other = VOLUME.replace("name: pvc-1", "name: image-vol");
        let index = Index::from_yaml_objects(&[&pvc, &other]);
        let s = Storage::build(&index);
        let names: Vec<(&str, bool)> = s
            .volumes
            .iter()
            .map(|c| (c.name.as_str(), c.pv.is_none()))
            .collect();
        assert_eq!(names, [("pvc-1", true), ("image-vol", true)]);
        assert!(s.volumes[0].lost(&index, true).unwrap().no_volume);
        assert!(s.volumes[1].lost(&index, true).is_none());
        // A claim of another provisioner is not Longhorn's to lose.
        let index = Index::from_yaml_objects(&[PVC]);
        let s = Storage::build(&index);
        assert!(!s.volumes[0].longhorn);
        assert!(s.volumes[0].lost(&index, true).is_none());
    }

    #[test]
    fn longhorn_is_collected_when_its_namespace_holds_something() {
        assert!(!longhorn_collected(&Index::from_yaml_objects(&[PV, PVC])));
        assert!(longhorn_collected(&Index::from_yaml_objects(&[
            PV, REPLICA
        ])));
    }
}
