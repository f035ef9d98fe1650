//! Pre-check #14 Virtual-Machines: no running VM that cannot live-migrate (CD-ROM disks,
//! host devices, node selectors), unless `upgrade-config` asks to restore VMs.

use super::{Hit, RES, TROUBLESHOOTING, effective, findings, full, of_kind, subject};
use crate::facts::cluster;
use crate::facts::cluster::UpgradeConfig;
use crate::facts::upgrade::{Owned, owned_by_running};
use crate::index::Object;
use crate::model::typed::kubevirt::VirtualMachine;
use crate::rules::{Context, Input, RuleDef, RuleInfo, Severity};

pub(super) const VIRTUAL_MACHINES: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.virtual-machines",
        title: "Pre-check #14 Virtual-Machines: no running VM that cannot live-migrate",
        description: "check_virtual_machines_live_migration reads setting upgrade-config \
            (restoreVM) and every virtualmachines.kubevirt.io whose status.printableStatus \
            is not Stopped: unless restoreVM is true, a VM with a cdrom disk in \
            spec.template.spec.domain.devices.disks[] or with \
            spec.template.spec.domain.devices.hostDevices fails (it cannot live-migrate off \
            a node being drained).",
        inputs: &[RES, Input::Resource("kubevirt.io", "virtualmachines")],
        versions: "all (check.sh v1.x; restoreVM exists from v1.6.0)",
    },
    |info, cx| findings(info, cx, &[TROUBLESHOOTING], eval_virtual_machines(cx)),
);

/// `restoreVM` of an `upgrade-config` value, as check.sh reads it.
fn restore_vm(upgrade_config: Option<&str>) -> bool {
    upgrade_config
        .and_then(UpgradeConfig::parse)
        .is_some_and(|c| c.restore_vm_for_check_sh())
}

fn virtual_machines<'a>(vms: &[&'a Object], restore: bool) -> Vec<Hit<'a>> {
    if restore {
        return Vec::new();
    }
    vms.iter()
        .filter_map(|vm| {
            let t = VirtualMachine::of(*vm)?;
            let status = t.printable_status().unwrap_or("");
            if status == "Stopped" {
                return None;
            }
            let cdroms: Vec<&str> = t
                .template_disks()
                .filter(|d| d.is_cdrom())
                .map(|d| d.name().unwrap_or("?"))
                .collect();
            let host_devices: Vec<&str> = t
                .template_host_devices()
                .map(|d| d.name().unwrap_or("?"))
                .collect();
            if cdroms.is_empty() && host_devices.is_empty() {
                return None;
            }
            let mut why = Vec::new();
            if !cdroms.is_empty() {
                why.push(format!("CD-ROM disk {}", cdroms.join(", ")));
            }
            if !host_devices.is_empty() {
                why.push(format!("host device {}", host_devices.join(", ")));
            }
            let shown = if status.is_empty() {
                "no printableStatus"
            } else {
                status
            };
            Some(Hit {
                subject: subject(vm, ""),
                severity: Severity::Error,
                title: format!(
                    "VM {} ({shown}) cannot live-migrate: {}",
                    full(vm),
                    why.join("; ")
                ),
                summary: format!(
                    "virtualmachines.kubevirt.io {} is {shown} and has {}; setting \
                     upgrade-config restoreVM is false. check_virtual_machines_live_migration \
                     fails on every VM that is not Stopped with a cdrom disk or host devices: it \
                     cannot live-migrate off a node being drained, so the upgrade waits in \
                     pre-drain (\"Waiting for VM live-migration or shutdown\"); \
                     Virtual-Machines Test: Failed.",
                    full(vm),
                    why.join(" and ")
                ),
                objects: vec![(
                    *vm,
                    Some(if cdroms.is_empty() {
                        "hostDevices:".into()
                    } else {
                        "cdrom:".into()
                    }),
                )],
                remediation: "Shut the VM down before the upgrade (start it again afterwards), \
                              or eject the CD-ROM / detach the host device.\nFrom v1.6.0, \
                              setting upgrade-config {\"restoreVM\": true} makes the upgrade \
                              shut such VMs down and restore them."
                    .into(),
            })
        })
        .collect()
}

fn eval_virtual_machines<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    let config = cluster::setting_object(cx.index, "harvesterhci.io", "upgrade-config");
    let mut hits = virtual_machines(
        &of_kind(cx.index, "kubevirt.io", "VirtualMachine"),
        restore_vm(config.and_then(effective)),
    );
    // The repository VM of a running upgrade fails the check too (its CD-ROM), but stopping
    // it would break that upgrade: say what it is instead.
    for h in &mut hits {
        let Some((vm, _)) = h.objects.first() else {
            continue;
        };
        if let Some((upgrade, Owned::RepoVm)) = owned_by_running(cx.index, vm) {
            h.summary = format!(
                "{} It is the repository VM of upgrade {upgrade}, which has not finished: it \
                 serves the new OS image to the nodes and is removed when the upgrade finishes.",
                h.summary
            );
            h.remediation = format!(
                "Do not stop or delete {}: it is the repository VM of upgrade {upgrade}, which \
                 is still running, and the nodes download the new OS image from it. It is \
                 removed when that upgrade finishes; the way forward is the upgrade (see \
                 upgrade.stuck).",
                full(vm)
            );
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::precheck::fixtures::object;

    #[test]
    fn virtual_machines_with_cdrom_unless_restore_vm() {
        let vm = object(
            "VirtualMachine",
            "kubevirt.io",
            "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: vm1\n  namespace: default\nspec:\n  template:\n    spec:\n      domain:\n        devices:\n          disks:\n          - cdrom:\n              bus: sata\n            name: iso\n          - disk:\n              bus: virtio\n            name: root\nstatus:\n  printableStatus: Running\n",
        );
        let stopped = object(
            "VirtualMachine",
            "kubevirt.io",
            "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: vm2\n  namespace: default\nspec:\n  template:\n    spec:\n      domain:\n        devices:\n          hostDevices:\n          - deviceName: nvidia.com/GP\n            name: gpu\nstatus:\n  printableStatus: Stopped\n",
        );
        let hits = virtual_machines(&[&vm, &stopped], false);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].subject, "VirtualMachine/default/vm1");
        assert!(hits[0].title.contains("CD-ROM disk iso"));
        assert!(virtual_machines(&[&vm], true).is_empty());
        assert!(restore_vm(Some("{\"restoreVM\":true}")));
        assert!(!restore_vm(Some("{\"imagePreloadOption\":{}}")));
    }
}
