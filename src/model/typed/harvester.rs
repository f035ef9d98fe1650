//! Harvester (`harvesterhci.io`) views: Upgrade, UpgradePlan (Upgrade V2), Version, Addon, VirtualMachineImage,
//! VirtualMachineBackup, ScheduleVMBackup and BlockDevice (Settings have their own decoded view,
//! `views::SettingView`).
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

    /// The `status.nodeStatuses` entry of `node`.
    pub fn node_status(self, node: &str) -> Option<UpgradeNodeStatus<'a>> {
        self.node_statuses()
            .find(|(n, _)| *n == node)
            .map(|(_, st)| st)
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

    /// `reason` (why the node failed), when a non-empty string.
    pub fn reason(self) -> Option<&'a str> {
        non_empty(self.0.get("reason"))
    }

    /// `message`, when a non-empty string.
    pub fn message(self) -> Option<&'a str> {
        non_empty(self.0.get("message"))
    }
}

view! {
    /// An Upgrade V2 plan (`upgradeplans.management.harvesterhci.io`, cluster-scoped) of the
    /// experimental harvester-upgrade-manager addon (v1.8+): not a legacy Upgrade.
    UpgradePlan = "management.harvesterhci.io" / "UpgradePlan"
}

impl<'a> UpgradePlan<'a> {
    /// `spec.version`: the Version upgraded to.
    pub fn version(self) -> Option<&'a str> {
        self.0.str("/spec/version")
    }

    /// `status.currentPhase` (`ImagePreloading`, `NodeUpgrading`, `Succeeded`, `Failed`, …).
    pub fn phase(self) -> Option<&'a str> {
        self.0.str("/status/currentPhase")
    }

    /// `status.previousVersion`.
    pub fn previous_version(self) -> Option<&'a str> {
        self.0.str("/status/previousVersion")
    }

    /// When the plan entered `phase`, from `status.phaseTransitionTimestamps`.
    pub fn phase_since(self, phase: &str) -> Option<&'a str> {
        self.0
            .list("/status/phaseTransitionTimestamps")
            .iter()
            .rev()
            .find(|t| t.get("phase").and_then(Node::as_str) == Some(phase))
            .and_then(|t| t.get("phaseTransitionTimestamp"))
            .and_then(Node::as_str)
    }

    /// `status.nodeUpgradeStatuses`: (node name, its status), by node name.
    pub fn node_statuses(self) -> impl Iterator<Item = (&'a str, UpgradeNodeStatus<'a>)> {
        self.0
            .at("/status/nodeUpgradeStatuses")
            .and_then(Node::as_object)
            .unwrap_or_default()
            .iter()
            .map(|(node, st)| (&**node, UpgradeNodeStatus(st)))
    }
}

fn non_empty(n: Option<&Node>) -> Option<&str> {
    n.and_then(Node::as_str).filter(|s| !s.is_empty())
}

view! {
    /// A Harvester Version: a version the cluster can be upgraded to.
    HarvesterVersion = "harvesterhci.io" / "Version"
}

impl<'a> HarvesterVersion<'a> {
    /// `spec.minUpgradableVersion`: the oldest version that may upgrade to it.
    pub fn min_upgradable_version(self) -> Option<&'a str> {
        self.0.str("/spec/minUpgradableVersion")
    }
}

view! {
    /// A Harvester Addon: an optional component, enabled or not.
    Addon = "harvesterhci.io" / "Addon"
}

impl<'a> Addon<'a> {
    /// `spec.enabled`.
    pub fn enabled(self) -> Option<bool> {
        self.0.bool("/spec/enabled")
    }

    /// `status.status` (`AddonDeploySuccessful`, `AddonDisabled`, `AddonDeployFailed`, …).
    pub fn status(self) -> Option<&'a str> {
        self.0.str("/status/status")
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

impl<'a> VmBackup<'a> {
    /// `spec.type` (`backup` or `snapshot`).
    pub fn backup_type(self) -> Option<&'a str> {
        self.0.str("/spec/type")
    }

    /// Whether `status` is there (not null; an empty `status: {}` counts, as a Go pointer).
    pub fn has_status(self) -> bool {
        self.0.at("/status").is_some()
    }

    /// Whether `status.error` is there (not null; an empty `error: {}` counts).
    pub fn has_error(self) -> bool {
        self.0.at("/status/error").is_some()
    }

    /// `status.readyToUse`.
    pub fn ready_to_use(self) -> Option<bool> {
        self.0.bool("/status/readyToUse")
    }
}

view! {
    /// A Harvester ScheduleVMBackup: a recurring backup or snapshot of a VM.
    ScheduleVmBackup = "harvesterhci.io" / "ScheduleVMBackup"
}

impl<'a> ScheduleVmBackup<'a> {
    /// `spec.suspend`: the schedule is switched off by its owner.
    pub fn suspend(self) -> Option<bool> {
        self.0.bool("/spec/suspend")
    }

    /// `status.suspended`: the controller has suspended the schedule.
    pub fn suspended(self) -> Option<bool> {
        self.0.bool("/status/suspended")
    }

    /// `spec.cron`: when it runs.
    pub fn cron(self) -> Option<&'a str> {
        self.0.str("/spec/cron")
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
    node-2:
      state: Failed
      reason: Job failed
      message: ""
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
                ("node-2", Some("Failed"))
            ]
        );
        let failed = u.node_status("node-2").unwrap();
        assert_eq!(
            (failed.reason(), failed.message()),
            (Some("Job failed"), None)
        );
        assert!(u.node_status("node-3").is_none());
        let bare = obj(
            "harvesterhci.io",
            "Upgrade",
            "kind: Upgrade\nmetadata:\n  name: u\n",
        );
        let u = Upgrade::of(&bare).unwrap();
        assert_eq!((u.version(), u.node_statuses().count()), (None, 0));
    }

    #[test]
    fn version_and_addon_fields() {
        let v = obj(
            "harvesterhci.io",
            "Version",
            "kind: Version\nmetadata:\n  name: v1.4.1\nspec:\n  minUpgradableVersion: v1.3.2\n",
        );
        let v = HarvesterVersion::of(&v).unwrap();
        assert_eq!(v.min_upgradable_version(), Some("v1.3.2"));
        let a = obj(
            "harvesterhci.io",
            "Addon",
            "kind: Addon\nmetadata:\n  name: a\nspec:\n  enabled: \"true\"\nstatus:\n  status: AddonDeployFailed\n",
        );
        let a = Addon::of(&a).unwrap();
        assert_eq!(
            (a.enabled(), a.status()),
            (Some(true), Some("AddonDeployFailed"))
        );
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
        let b = VmBackup::of(&backup).unwrap();
        assert_eq!((b.ready_to_use(), b.backup_type()), (Some(false), None));
        assert!(b.has_status() && !b.has_error());
        let failing = obj(
            "harvesterhci.io",
            "VirtualMachineBackup",
            "kind: VirtualMachineBackup\nmetadata:\n  name: b\nspec:\n  type: snapshot\nstatus:\n  error: {}\n",
        );
        let b = VmBackup::of(&failing).unwrap();
        assert_eq!(b.backup_type(), Some("snapshot"));
        assert!(b.has_status() && b.has_error());
        let bare = obj(
            "harvesterhci.io",
            "VirtualMachineBackup",
            "kind: VirtualMachineBackup\nmetadata:\n  name: b\n",
        );
        assert!(!VmBackup::of(&bare).unwrap().has_status());
        let schedule = obj(
            "harvesterhci.io",
            "ScheduleVMBackup",
            "kind: ScheduleVMBackup\nmetadata:\n  name: s\nspec:\n  suspend: true\n  cron: 0 * * * *\nstatus:\n  suspended: false\n",
        );
        let s = ScheduleVmBackup::of(&schedule).unwrap();
        assert_eq!((s.suspend(), s.suspended()), (Some(true), Some(false)));
        assert_eq!(s.cron(), Some("0 * * * *"));
        assert!(VmBackup::of(&schedule).is_none());
    }
}

view! {
    /// A Harvester BlockDevice (`longhorn-system`): a node's disk or partition as the node disk
    /// manager sees it, and where it is mounted when provisioned for Longhorn.
    BlockDevice = "harvesterhci.io" / "BlockDevice"
}

impl<'a> BlockDevice<'a> {
    /// `spec.nodeName`: the node it is on.
    pub fn node_name(self) -> Option<&'a str> {
        self.0.str("/spec/nodeName")
    }

    /// The device path (`/dev/sdb`): `status.deviceStatus.devPath`, else `spec.devPath`.
    pub fn dev_path(self) -> Option<&'a str> {
        self.0
            .str("/status/deviceStatus/devPath")
            .or_else(|| self.0.str("/spec/devPath"))
            .filter(|p| !p.is_empty())
    }

    /// Where its filesystem is mounted (a Longhorn disk's path):
    /// `status.deviceStatus.fileSystem.mountPoint`, else `spec.fileSystem.mountPoint`.
    pub fn mount_point(self) -> Option<&'a str> {
        self.0
            .str("/status/deviceStatus/fileSystem/mountPoint")
            .filter(|p| !p.is_empty())
            .or_else(|| self.0.str("/spec/fileSystem/mountPoint"))
            .filter(|p| !p.is_empty())
    }
}
