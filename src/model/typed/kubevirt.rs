//! KubeVirt (`kubevirt.io`) views: VirtualMachine and VirtualMachineInstanceMigration.
use super::view;

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
}

view! {
    /// A KubeVirt VirtualMachineInstanceMigration.
    Migration = "kubevirt.io" / "VirtualMachineInstanceMigration"
}

impl<'a> Migration<'a> {
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
        assert!(Migration::of(&o).is_none());
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
    fn migration_fields() {
        let o = obj(
            "kubevirt.io",
            "VirtualMachineInstanceMigration",
            "kind: VirtualMachineInstanceMigration\nmetadata:\n  name: m\nspec:\n  vmiName: vm\nstatus:\n  phase: Scheduling\n",
        );
        let m = Migration::of(&o).unwrap();
        assert_eq!(m.phase(), Some("Scheduling"));
        assert_eq!(m.vmi_name(), Some("vm"));
    }
}
