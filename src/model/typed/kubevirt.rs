//! KubeVirt (`kubevirt.io`) views: VirtualMachine, VirtualMachineInstance and
//! VirtualMachineInstanceMigration.
use super::view;
use crate::model::tree::Node;

view! {
    /// A KubeVirt VirtualMachine.
    VirtualMachine = "kubevirt.io" / "VirtualMachine"
}

impl<'a> VirtualMachine<'a> {
    /// `spec.runStrategy` (`Always`, `RerunOnFailure`, `Manual`, `Halted`, …).
    pub fn run_strategy(self) -> Option<&'a str> {
        self.0.str("/spec/runStrategy")
    }

    /// `spec.running` (the older switch `runStrategy` replaces).
    pub fn running(self) -> Option<bool> {
        self.0.bool("/spec/running")
    }

    /// `status.printableStatus` (`Running`, `Stopped`, `ErrorUnschedulable`, …).
    pub fn printable_status(self) -> Option<&'a str> {
        self.0.str("/status/printableStatus")
    }

    /// `spec.template.spec.domain.devices.disks`: the disks the VM starts with.
    pub fn template_disks(self) -> impl Iterator<Item = Disk<'a>> {
        self.0
            .list("/spec/template/spec/domain/devices/disks")
            .iter()
            .map(Disk)
    }

    /// `spec.template.spec.volumes`: the names of the volumes the VM starts with (those that
    /// have a string name).
    pub fn template_volume_names(self) -> impl Iterator<Item = &'a str> {
        self.0
            .list("/spec/template/spec/volumes")
            .iter()
            .filter_map(|v| v.get("name").and_then(Node::as_str))
    }

    /// `spec.template.spec.volumes`: the volumes the VM starts with.
    pub fn template_volumes(self) -> impl Iterator<Item = VmiVolume<'a>> {
        self.0
            .list("/spec/template/spec/volumes")
            .iter()
            .map(VmiVolume)
    }

    /// Whether `status.volumeRequests` (hot-plug requests not yet applied) is a non-empty list.
    pub fn has_volume_requests(self) -> bool {
        !self.0.list("/status/volumeRequests").is_empty()
    }

    /// `spec.template.spec.domain.devices.hostDevices`: PCI/USB devices passed through.
    pub fn template_host_devices(self) -> impl Iterator<Item = HostDevice<'a>> {
        self.0
            .list("/spec/template/spec/domain/devices/hostDevices")
            .iter()
            .map(HostDevice)
    }
}

/// A disk of a VM's or VMI's `domain.devices.disks`.
#[derive(Debug, Clone, Copy)]
pub struct Disk<'a>(&'a Node);

impl<'a> Disk<'a> {
    /// `name`, when a string.
    pub fn name(self) -> Option<&'a str> {
        self.0.get("name").and_then(Node::as_str)
    }

    /// Whether it is a CD-ROM: `cdrom` set (present and not null, as Go's `CDRom != nil`).
    pub fn is_cdrom(self) -> bool {
        self.0.get("cdrom").is_some_and(|c| !c.is_null())
    }
}

/// A device of a VM's or VMI's `domain.devices.hostDevices`.
#[derive(Debug, Clone, Copy)]
pub struct HostDevice<'a>(&'a Node);

impl<'a> HostDevice<'a> {
    /// `name`, else `deviceName` when `name` is absent; `None` when that is not a string.
    pub fn name(self) -> Option<&'a str> {
        self.0
            .get("name")
            .or_else(|| self.0.get("deviceName"))
            .and_then(Node::as_str)
    }
}

view! {
    /// A KubeVirt VirtualMachineInstance: a VM while it runs.
    Vmi = "kubevirt.io" / "VirtualMachineInstance"
}

impl<'a> Vmi<'a> {
    /// Whether `spec.nodeSelector` is there (not null; an empty map counts).
    pub fn has_node_selector(self) -> bool {
        self.0.at("/spec/nodeSelector").is_some()
    }

    /// Whether `spec.domain.devices.hostDevices` is there (not null; an empty list counts, as
    /// a Go slice that is not nil).
    pub fn host_devices_set(self) -> bool {
        self.0.at(HOST_DEVICES).is_some()
    }

    /// Whether `spec.domain.devices.hostDevices` is a non-empty list.
    pub fn has_host_devices(self) -> bool {
        !self.0.list(HOST_DEVICES).is_empty()
    }

    /// `spec.domain.devices.disks`.
    pub fn disks(self) -> impl Iterator<Item = Disk<'a>> {
        self.0.list("/spec/domain/devices/disks").iter().map(Disk)
    }

    /// Whether `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution` is
    /// there (not null): a node must then match one of its terms, and with no terms none does.
    pub fn has_required_node_affinity(self) -> bool {
        self.0.at(REQUIRED_AFFINITY).is_some()
    }

    /// `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
    /// .nodeSelectorTerms`: the node may be any that matches one of them.
    pub fn required_node_selector_terms(self) -> impl Iterator<Item = NodeSelectorTerm<'a>> {
        self.0
            .list(&format!("{REQUIRED_AFFINITY}/nodeSelectorTerms"))
            .iter()
            .map(NodeSelectorTerm)
    }

    /// `status.phase` (`Pending`, `Scheduled`, `Running`, `Succeeded`, `Failed`).
    pub fn phase(self) -> Option<&'a str> {
        self.0.str("/status/phase")
    }

    /// `status.nodeName`: the node it runs on.
    pub fn node_name(self) -> Option<&'a str> {
        self.0.str("/status/nodeName")
    }

    /// `status.migrationState.failureReason` of its last migration, when it failed.
    pub fn migration_failure(self) -> Option<&'a str> {
        (self.0.bool("/status/migrationState/failed") == Some(true))
            .then(|| self.0.str("/status/migrationState/failureReason"))
            .flatten()
    }

    /// `spec.volumes`.
    pub fn volumes(self) -> impl Iterator<Item = VmiVolume<'a>> {
        self.0.list("/spec/volumes").iter().map(VmiVolume)
    }
}

const HOST_DEVICES: &str = "/spec/domain/devices/hostDevices";
const REQUIRED_AFFINITY: &str =
    "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution";

/// A term of a required node affinity: a node matches it when it matches all its expressions.
#[derive(Debug, Clone, Copy)]
pub struct NodeSelectorTerm<'a>(&'a Node);

impl<'a> NodeSelectorTerm<'a> {
    /// `matchExpressions`: requirements on the node's labels (none when not a list).
    pub fn match_expressions(self) -> impl Iterator<Item = NodeSelectorRequirement<'a>> {
        self.requirements("matchExpressions")
    }

    /// `matchFields`: requirements on the node's fields, of which Kubernetes knows only
    /// `metadata.name` (none when not a list).
    pub fn match_fields(self) -> impl Iterator<Item = NodeSelectorRequirement<'a>> {
        self.requirements("matchFields")
    }

    fn requirements(self, key: &str) -> impl Iterator<Item = NodeSelectorRequirement<'a>> {
        self.0
            .get(key)
            .and_then(Node::as_array)
            .unwrap_or_default()
            .iter()
            .map(NodeSelectorRequirement)
    }
}

/// One expression of a [`NodeSelectorTerm`]: a label `key`, an `operator` and `values`.
#[derive(Debug, Clone, Copy)]
pub struct NodeSelectorRequirement<'a>(&'a Node);

impl<'a> NodeSelectorRequirement<'a> {
    /// `key`: the label, when a string.
    pub fn key(self) -> Option<&'a str> {
        self.0.get("key").and_then(Node::as_str)
    }

    /// `operator` (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`), when a string.
    pub fn operator(self) -> Option<&'a str> {
        self.0.get("operator").and_then(Node::as_str)
    }

    /// `values`: those that are strings.
    pub fn values(self) -> impl Iterator<Item = &'a str> {
        self.0
            .get("values")
            .and_then(Node::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
    }
}

/// One of a VMI's `spec.volumes`.
#[derive(Debug, Clone, Copy)]
pub struct VmiVolume<'a>(&'a Node);

impl<'a> VmiVolume<'a> {
    /// `name`, when a string.
    pub fn name(self) -> Option<&'a str> {
        self.0.get("name").and_then(Node::as_str)
    }

    /// Whether it is a container disk: `containerDisk` set (present and not null, as Go's
    /// `ContainerDisk != nil`).
    pub fn is_container_disk(self) -> bool {
        self.0.get("containerDisk").is_some_and(|c| !c.is_null())
    }

    /// Whether it is hot-plugged: `persistentVolumeClaim.hotpluggable` or
    /// `dataVolume.hotpluggable` is the boolean `true`.
    pub fn hotpluggable(self) -> bool {
        [
            "/persistentVolumeClaim/hotpluggable",
            "/dataVolume/hotpluggable",
        ]
        .iter()
        .any(|p| self.0.pointer(p).and_then(Node::as_bool) == Some(true))
    }

    /// The claim it mounts: `persistentVolumeClaim.claimName`, else `dataVolume.name` (a
    /// DataVolume's claim has its name); `None` when the first of them present is not a string.
    pub fn claim_name(self) -> Option<&'a str> {
        self.0
            .pointer("/persistentVolumeClaim/claimName")
            .or_else(|| self.0.pointer("/dataVolume/name"))
            .and_then(Node::as_str)
    }
}

view! {
    /// A KubeVirt VirtualMachineInstanceMigration.
    VmiMigration = "kubevirt.io" / "VirtualMachineInstanceMigration"
}

impl<'a> VmiMigration<'a> {
    /// `status.phase` (`Pending`, `Scheduling`, `Running`, `Succeeded`, `Failed`).
    pub fn phase(self) -> Option<&'a str> {
        self.0.str("/status/phase")
    }

    /// `spec.vmiName`: the instance it migrates.
    pub fn vmi_name(self) -> Option<&'a str> {
        self.0.str("/spec/vmiName")
    }

    /// `status.migrationState.failureReason`: why KubeVirt says it failed.
    pub fn failure_reason(self) -> Option<&'a str> {
        self.0.str("/status/migrationState/failureReason")
    }

    /// `status.migrationState.targetPod`: the target virt-launcher pod, once KubeVirt named it.
    pub fn target_pod(self) -> Option<&'a str> {
        self.0.str("/status/migrationState/targetPod")
    }

    /// The time of the last `status.phaseTransitionTimestamps` entry: when it reached its
    /// phase.
    pub fn phase_since(self) -> Option<&'a str> {
        self.0
            .list("/status/phaseTransitionTimestamps")
            .iter()
            .filter_map(|t| t.get("phaseTransitionTimestamp").and_then(Node::as_str))
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::typed::testing::obj;

    #[test]
    fn vm_fields() {
        let o = obj(
            "kubevirt.io",
            "VirtualMachine",
            "kind: VirtualMachine\nmetadata:\n  name: vm\nspec:\n  running: \"true\"\n  runStrategy: Always\nstatus:\n  printableStatus: Stopped\n",
        );
        let vm = VirtualMachine::of(&o).unwrap();
        assert_eq!(vm.run_strategy(), Some("Always"));
        assert_eq!(vm.running(), Some(true));
        assert_eq!(vm.printable_status(), Some("Stopped"));
        assert!(VmiMigration::of(&o).is_none());
        assert_eq!(vm.template_disks().count(), 0);
        assert!(!vm.has_volume_requests());
        let bare = obj(
            "kubevirt.io",
            "VirtualMachine",
            "kind: VirtualMachine\nmetadata:\n  name: vm\n",
        );
        let vm = VirtualMachine::of(&bare).unwrap();
        assert_eq!(
            (vm.run_strategy(), vm.running(), vm.printable_status()),
            (None, None, None)
        );
    }

    #[test]
    fn vm_template_devices() {
        let o = obj(
            "kubevirt.io",
            "VirtualMachine",
            r#"kind: VirtualMachine
metadata:
  name: vm
spec:
  template:
    spec:
      domain:
        devices:
          disks:
          - name: iso
            cdrom:
              bus: sata
          - name: root
            disk:
              bus: virtio
          hostDevices:
          - name: gpu
            deviceName: nvidia.com/GP
          - deviceName: usb.example/x
      volumes:
      - name: disk-0
      - name: 7
status:
  volumeRequests:
  - addVolumeOptions: {}
"#,
        );
        let vm = VirtualMachine::of(&o).unwrap();
        let disks: Vec<(Option<&str>, bool)> = vm
            .template_disks()
            .map(|d| (d.name(), d.is_cdrom()))
            .collect();
        assert_eq!(disks, [(Some("iso"), true), (Some("root"), false)]);
        let devices: Vec<Option<&str>> = vm.template_host_devices().map(HostDevice::name).collect();
        assert_eq!(devices, [Some("gpu"), Some("usb.example/x")]);
        assert_eq!(vm.template_volume_names().collect::<Vec<_>>(), ["disk-0"]);
        assert!(vm.has_volume_requests());
    }

    #[test]
    fn vmi_migration_blockers() {
        let o = obj(
            "kubevirt.io",
            "VirtualMachineInstance",
            r#"kind: VirtualMachineInstance
metadata:
  name: vm
spec:
  nodeSelector: {}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - key: zone
            operator: In
            values: [a, 1, b]
        - {}
        - matchFields:
          - key: metadata.name
            operator: In
            values: [n2]
  domain:
    devices:
      hostDevices: []
      disks:
      - name: iso
        cdrom: null
      - name: root
        disk: {}
  volumes:
  - name: hot
    persistentVolumeClaim:
      claimName: c
      hotpluggable: true
  - name: cold
    dataVolume:
      name: d
      hotpluggable: "true"
  - name: boot
    containerDisk:
      image: x
  - name: nothing
    containerDisk: null
"#,
        );
        let vmi = Vmi::of(&o).unwrap();
        assert!(vmi.has_node_selector() && vmi.has_required_node_affinity());
        assert!(vmi.host_devices_set() && !vmi.has_host_devices());
        let terms: Vec<NodeSelectorTerm> = vmi.required_node_selector_terms().collect();
        assert_eq!(terms.len(), 3);
        let exprs: Vec<NodeSelectorRequirement> = terms[0].match_expressions().collect();
        assert_eq!(
            (exprs[0].key(), exprs[0].operator()),
            (Some("zone"), Some("In"))
        );
        assert_eq!(exprs[0].values().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(terms[0].match_fields().count(), 0);
        assert_eq!(
            (
                terms[1].match_expressions().count(),
                terms[1].match_fields().count()
            ),
            (0, 0)
        );
        let fields: Vec<NodeSelectorRequirement> = terms[2].match_fields().collect();
        assert_eq!(
            (fields[0].key(), fields[0].values().collect::<Vec<_>>()),
            (Some("metadata.name"), vec!["n2"])
        );
        // A null cdrom is no CD-ROM (Go reads `CDRom != nil`).
        let disks: Vec<bool> = vmi.disks().map(|d| d.is_cdrom()).collect();
        assert_eq!(disks, [false, false]);
        let vols: Vec<(Option<&str>, bool, bool)> = vmi
            .volumes()
            .map(|v| (v.name(), v.hotpluggable(), v.is_container_disk()))
            .collect();
        assert_eq!(
            vols,
            [
                (Some("hot"), true, false),
                (Some("cold"), false, false),
                (Some("boot"), false, true),
                (Some("nothing"), false, false)
            ]
        );
        let bare = obj(
            "kubevirt.io",
            "VirtualMachineInstance",
            "kind: VirtualMachineInstance\nmetadata:\n  name: vm\n",
        );
        let vmi = Vmi::of(&bare).unwrap();
        assert!(!vmi.has_node_selector() && !vmi.host_devices_set());
        assert!(!vmi.has_required_node_affinity());
        assert_eq!(vmi.required_node_selector_terms().count(), 0);
    }

    #[test]
    fn vmi_volume_claims() {
        let o = obj(
            "kubevirt.io",
            "VirtualMachineInstance",
            r#"kind: VirtualMachineInstance
metadata:
  name: vm
spec:
  volumes:
  - name: disk-0
    persistentVolumeClaim:
      claimName: vm-disk-0
  - name: disk-1
    dataVolume:
      name: vm-dv-1
  - name: cloudinit
    cloudInitNoCloud:
      userData: x
status:
  phase: Running
  nodeName: n1
"#,
        );
        let claims: Vec<Option<&str>> = Vmi::of(&o)
            .unwrap()
            .volumes()
            .map(|v| v.claim_name())
            .collect();
        assert_eq!(claims, [Some("vm-disk-0"), Some("vm-dv-1"), None]);
    }

    #[test]
    fn migration_fields() {
        let o = obj(
            "kubevirt.io",
            "VirtualMachineInstanceMigration",
            "kind: VirtualMachineInstanceMigration\nmetadata:\n  name: m\nspec:\n  vmiName: vm\nstatus:\n  phase: Scheduling\n",
        );
        let m = VmiMigration::of(&o).unwrap();
        assert_eq!(m.phase(), Some("Scheduling"));
        assert_eq!(m.vmi_name(), Some("vm"));
    }
}
