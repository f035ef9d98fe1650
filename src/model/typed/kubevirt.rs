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

    /// Whether it is a CD-ROM: `cdrom` set (present and not null).
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
    /// `status.phase` (`Pending`, `Scheduled`, `Running`, `Succeeded`, `Failed`).
    pub fn phase(self) -> Option<&'a str> {
        self.0.str("/status/phase")
    }

    /// `status.nodeName`: the node it runs on.
    pub fn node_name(self) -> Option<&'a str> {
        self.0.str("/status/nodeName")
    }

    /// `spec.volumes`.
    pub fn volumes(self) -> impl Iterator<Item = VmiVolume<'a>> {
        self.0.list("/spec/volumes").iter().map(VmiVolume)
    }
}

/// One of a VMI's `spec.volumes`.
#[derive(Debug, Clone, Copy)]
pub struct VmiVolume<'a>(&'a Node);

impl<'a> VmiVolume<'a> {
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
