//! Harvester (`harvesterhci.io`) views: Upgrade, VirtualMachineImage, VirtualMachineBackup and
//! ScheduleVMBackup (Settings have their own decoded view, `views::SettingView`).
use super::view;
use crate::model::tree::Node;

view! {
    /// A Harvester Upgrade.
    Upgrade = "harvesterhci.io" / "Upgrade"
}

impl<'a> Upgrade<'a> {
    /// `spec.version`: the version upgraded to.
    pub fn version(self) -> Option<&'a str> {
        self.0.str("/spec/version")
    }

    /// `status.nodeStatuses`: (node name, its status), in the tree's order (by node name).
    pub fn node_statuses(self) -> impl Iterator<Item = (&'a str, UpgradeNodeStatus<'a>)> {
        self.0
            .at("/status/nodeStatuses")
            .and_then(Node::as_object)
            .unwrap_or_default()
            .iter()
            .map(|(node, st)| (&**node, UpgradeNodeStatus(st)))
    }
}

/// One node's entry of an Upgrade's `status.nodeStatuses`.
#[derive(Debug, Clone, Copy)]
pub struct UpgradeNodeStatus<'a>(&'a Node);

impl<'a> UpgradeNodeStatus<'a> {
    /// `state` (`Images preloaded`, `Pre-drained`, `Succeeded`, …), when a string.
    pub fn state(self) -> Option<&'a str> {
        self.0.get("state").and_then(Node::as_str)
    }
}

view! {
    /// A Harvester VirtualMachineImage.
    VmImage = "harvesterhci.io" / "VirtualMachineImage"
}

impl VmImage<'_> {
    /// `status.progress`: download or upload progress, in percent.
    pub fn progress(self) -> Option<i64> {
        self.0.int("/status/progress")
    }
}

view! {
    /// A Harvester VirtualMachineBackup.
    VmBackup = "harvesterhci.io" / "VirtualMachineBackup"
}

impl VmBackup<'_> {
    /// `status.readyToUse`.
    pub fn ready_to_use(self) -> Option<bool> {
        self.0.bool("/status/readyToUse")
    }
}

view! {
    /// A Harvester ScheduleVMBackup: a recurring backup or snapshot of a VM.
    ScheduleVmBackup = "harvesterhci.io" / "ScheduleVMBackup"
}

impl ScheduleVmBackup<'_> {
    /// `spec.suspend`: the schedule is switched off by its owner.
    pub fn suspend(self) -> Option<bool> {
        self.0.bool("/spec/suspend")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::typed::testing::obj;

    #[test]
    fn upgrade_fields() {
        let o = obj(
            "harvesterhci.io",
            "Upgrade",
            r#"kind: Upgrade
metadata:
  name: hvst-upgrade-x
spec:
  version: v1.4.1
status:
  nodeStatuses:
    node-1:
      state: Succeeded
    node-0:
      state: Pre-drained
    node-2: {}
"#,
        );
        let u = Upgrade::of(&o).unwrap();
        assert_eq!(u.version(), Some("v1.4.1"));
        let states: Vec<(&str, Option<&str>)> =
            u.node_statuses().map(|(n, s)| (n, s.state())).collect();
        assert_eq!(
            states,
            [
                ("node-0", Some("Pre-drained")),
                ("node-1", Some("Succeeded")),
                ("node-2", None)
            ]
        );
        let bare = obj(
            "harvesterhci.io",
            "Upgrade",
            "kind: Upgrade\nmetadata:\n  name: u\n",
        );
        let u = Upgrade::of(&bare).unwrap();
        assert_eq!((u.version(), u.node_statuses().count()), (None, 0));
    }

    #[test]
    fn image_and_backup_fields() {
        let image = obj(
            "harvesterhci.io",
            "VirtualMachineImage",
            "kind: VirtualMachineImage\nmetadata:\n  name: i\nstatus:\n  progress: 20\n",
        );
        assert_eq!(VmImage::of(&image).unwrap().progress(), Some(20));
        let backup = obj(
            "harvesterhci.io",
            "VirtualMachineBackup",
            "kind: VirtualMachineBackup\nmetadata:\n  name: b\nstatus:\n  readyToUse: \"false\"\n",
        );
        assert_eq!(VmBackup::of(&backup).unwrap().ready_to_use(), Some(false));
        let schedule = obj(
            "harvesterhci.io",
            "ScheduleVMBackup",
            "kind: ScheduleVMBackup\nmetadata:\n  name: s\nspec:\n  suspend: true\n",
        );
        assert_eq!(
            ScheduleVmBackup::of(&schedule).unwrap().suspend(),
            Some(true)
        );
        assert!(VmBackup::of(&schedule).is_none());
    }
}
