//! The VM rules on the `vm-stuck-v1.4.0` sample (a stopped VM whose launcher pod is stuck
//! terminating, a VM paused on a faulted volume, a failed migration) and on the real bundle:
//! ids, severities, texts, evidence, the incidents (the storage cause leads, the VM symptoms fold
//! under it), and `describe vm`'s chain.
mod common;

use common::by_id as finding;
use common::{ok, real_bundles, report, sample};
use serde_json::Value;

fn files(f: &Value) -> Vec<String> {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap().to_string())
        .collect()
}

const POD: &str = "virt-launcher-vm-test-01-f9jhr";

#[test]
fn a_launcher_pod_stuck_terminating_with_its_node_volume_and_kubelet_events() {
    let r = report(&sample("vm-stuck-v1.4.0"));
    let f = finding(&r, &format!("vm.launcher-terminating:Pod/default/{POD}"));
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["title"],
        format!(
            "Launcher pod default/{POD} of VM vm-test-01 is stuck terminating on harvester-node-2 \
             for 3h10m"
        )
    );
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.starts_with(
            "Its deletionTimestamp 2025-02-14T06:30:41Z (the deletion request plus the grace \
             period) passed 3h10m before the capture; the pod is still Running on harvester-node-2."
        ),
        "{s}"
    );
    assert!(s.contains("FailedKillPod (×38): error killing pod"), "{s}");
    assert!(
        s.contains(
            "Likely cause: its volume pvc-afa096cf-7429-4a0d-a143-cc683674ca2b (claim \
             vm-test-01-disk-0-2zzv2) is still attached to harvester-node-2 (VolumeAttachment csi-"
        ),
        "{s}"
    );
    assert_eq!(
        files(f),
        [
            "yamls/namespaced/default/v1/pods.yaml",
            "yamls/cluster/storage.k8s.io/v1/volumeattachments.yaml",
            "yamls/namespaced/default/v1/events.yaml"
        ]
    );
    let fix = f["remediation"].as_str().unwrap();
    // Force-deleting is offered only after the risk and the condition that makes it safe.
    let warn = fix
        .find("Do not force-delete the pod while volume")
        .unwrap();
    let cmd = fix
        .find(&format!(
            "$ kubectl -n default delete pod {POD} --force --grace-period=0"
        ))
        .unwrap();
    assert!(warn < cmd);
    assert!(fix.contains("(data corruption)"));
    // The kubelet's log from the node bundle, narrowed to the pod.
    assert!(
        fix.starts_with(&format!(
            "Read why the kubelet on harvester-node-2 does not finish the pod, in its log:\n$ \
             sbdiag logs -b vm-stuck-v1.4.0 harvester-node-2 -c kubelet --grep {POD}\n"
        )),
        "{fix}"
    );
}

#[test]
fn the_printed_status_against_the_objects() {
    let r = report(&sample("vm-stuck-v1.4.0"));
    let f = finding(&r, "vm.status-mismatch:VirtualMachine/default/vm-test-01");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["title"],
        format!(
            "VM default/vm-test-01 shows Stopped, but its launcher pod {POD} is still Running and \
             Terminating (deletionTimestamp 2025-02-14T06:30:41Z)"
        )
    );
    assert_eq!(
        files(f),
        [
            "yamls/namespaced/default/kubevirt.io/v1/virtualmachines.yaml",
            "yamls/namespaced/default/v1/pods.yaml"
        ]
    );
    // The stuck pod explains the status: one incident, the pod first.
    let inc = r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["cause"] == format!("vm.launcher-terminating:Pod/default/{POD}"))
        .expect("the stuck pod's incident");
    assert!(
        inc["effects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "vm.status-mismatch:VirtualMachine/default/vm-test-01")
    );
    // The other VMs print what they are.
    for vm in ["vm-db-01", "vm-web-01"] {
        let id = format!("vm.status-mismatch:VirtualMachine/default/{vm}");
        assert!(
            !r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == id.as_str())
        );
    }
}

#[test]
fn a_vm_on_a_faulted_volume_is_folded_under_the_volume() {
    let r = report(&sample("vm-stuck-v1.4.0"));
    let id = "vm.volume-unhealthy:VirtualMachine/default/vm-db-01:vm-db-01-disk-0-f5tvr";
    let f = finding(&r, id);
    assert_eq!(f["severity"], "error");
    assert_eq!(
        f["title"],
        "VM default/vm-db-01's volume pvc-74c946b3-1c9d-4a53-a8a1-4916d9747f15 (claim \
         vm-db-01-disk-0-f5tvr) is faulted"
    );
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.starts_with(
            "VM default/vm-db-01 shows Paused; its VMI is Running on harvester-node-0, paused \
             (PausedIOError: VMI was paused, low-level IO error detected)."
        ),
        "{s}"
    );
    assert!(s.contains("failed at 2025-02-14T07:54:00Z"), "{s}");
    assert_eq!(
        files(f),
        [
            "yamls/namespaced/default/kubevirt.io/v1/virtualmachines.yaml",
            "yamls/namespaced/default/kubevirt.io/v1/virtualmachineinstances.yaml",
            "yamls/namespaced/longhorn-system/longhorn.io/v1beta2/volumes.yaml"
        ]
    );
    assert!(
        f["remediation"]
            .as_str()
            .unwrap()
            .contains("Do not delete the VM")
    );
    // The storage cause leads; the VM's symptoms are its effects, not second headlines.
    let cause =
        "storage.volume-health:Volume/longhorn-system/pvc-74c946b3-1c9d-4a53-a8a1-4916d9747f15";
    let incidents = r["incidents"].as_array().unwrap();
    assert_eq!(incidents[0]["cause"], cause);
    let effects: Vec<&str> = incidents[0]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(effects.contains(&id), "{effects:?}");
    assert!(effects.contains(&"vm.not-running:VirtualMachine/default/vm-db-01"));
    assert!(!incidents.iter().any(|i| i["cause"] == id));
}

#[test]
fn a_failed_migration_says_why() {
    let r = report(&sample("vm-stuck-v1.4.0"));
    let f = finding(
        &r,
        "vm.migration-stuck:VirtualMachineInstanceMigration/default/vm-web-01-pwwj5",
    );
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["title"],
        "Migration vm-web-01-pwwj5 of VM vm-web-01 failed: FailedMigration: Migration target pod \
         for VMI [default/vm-web-01] is currently unschedulable."
    );
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("The VM still runs on harvester-node-1."), "{s}");
    assert!(
        s.contains(
            "- target pod virt-launcher-vm-web-01-5gvhq (gone): FailedScheduling (×6): 0/3 nodes \
             are available: 1 node(s) didn't match pod anti-affinity rules"
        ),
        "{s}"
    );
    assert!(
        s.contains("So likely no other node matches the VM's node selector"),
        "{s}"
    );
    assert_eq!(
        files(f),
        [
            "yamls/namespaced/default/kubevirt.io/v1/virtualmachineinstancemigrations.yaml",
            "yamls/namespaced/default/v1/events.yaml",
            "yamls/namespaced/default/v1/events.yaml"
        ]
    );
    let fix = f["remediation"].as_str().unwrap();
    assert!(
        fix.ends_with("$ virtctl migrate vm-web-01 -n default"),
        "{fix}"
    );
    assert!(!fix.contains("delete"), "{fix}");
}

#[test]
fn describe_vm_prints_the_chain_and_the_findings_on_the_way() {
    let b = sample("vm-stuck-v1.4.0");
    let out = ok(&[
        "describe",
        "-b",
        b.to_str().unwrap(),
        "vm",
        "vm-test-01",
        "-n",
        "default",
    ]);
    for line in [
        "    runs as VirtualMachineInstance default/vm-test-01: absent from the capture (the VM is stopped)",
        &format!(
            "      in pod Pod default/{POD}: Running, on harvester-node-2, deleting since \
             2025-02-14T06:30:41Z  (yamls/namespaced/default/v1/pods.yaml:164-336)"
        ),
        "to harvester-node-2  (yamls/cluster/storage.k8s.io/v1/volumeattachments.yaml:3-20)",
        "running, on harvester-node-0, disk /var/lib/harvester/defaultdisk",
        "Findings:     on the way (3)",
        &format!("  WARNING Launcher pod default/{POD} of VM vm-test-01 is stuck terminating"),
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    let out = ok(&[
        "describe",
        "-b",
        b.to_str().unwrap(),
        "vm",
        "vm-web-01",
        "-n",
        "default",
    ]);
    for line in [
        "    migrated by VirtualMachineInstanceMigration default/vm-web-01-pwwj5: Failed",
        "      target pod Pod default/virt-launcher-vm-web-01-5gvhq: absent from the capture",
        "[vm.migration-stuck:VirtualMachineInstanceMigration/default/vm-web-01-pwwj5]",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
}

#[test]
fn the_real_bundle_has_no_false_vm_finding() {
    for b in real_bundles() {
        let r = report(&b);
        let vm: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"].as_str().unwrap().starts_with("vm."))
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert!(vm.is_empty(), "{}: {vm:?}", b.display());
    }
}

#[test]
fn the_html_vm_view_shows_each_chain_linked_to_its_findings() {
    let b = sample("vm-stuck-v1.4.0");
    let out = tempfile::tempdir().unwrap();
    ok(&[
        "analyze",
        b.to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
        "--format",
        "html,json",
    ]);
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    // The report model holds the view; the renderer only lays it out.
    let vms = r["vms"].as_array().unwrap();
    let names: Vec<&str> = vms.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names[..2], ["vm-db-01", "vm-test-01"], "{names:?}");
    assert_eq!(vms[0]["worst"], "error");
    let test01 = &vms[1];
    assert_eq!(test01["status"], "Stopped");
    let pod_link = test01["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["object"] == format!("Pod default/{POD}"))
        .expect("the launcher pod's link");
    assert_eq!(pod_link["file"], "yamls/namespaced/default/v1/pods.yaml");
    let id = format!("vm.launcher-terminating:Pod/default/{POD}");
    assert!(
        pod_link["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == id.as_str())
    );
    // The HTML: a collapsed section per VM, the link pointing at the finding's anchor.
    assert!(html.contains("<section id=\"vms\">"));
    assert!(html.contains(
        "<details class=\"vm error\" id=\"vm-default-vm-test-01\">\n<summary><b>default/vm-test-01</b> · \
         Stopped · <span class=\"pill error\">3 problem(s)</span></summary>"
    ));
    let n = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f["id"] == id.as_str())
        .unwrap();
    let anchor = format!("href=\"#f{n}\"");
    let section = &html[html.find("<section id=\"vms\">").unwrap()..];
    assert!(section.contains(&anchor), "{anchor}");
    assert!(html.contains(&format!("<details class=\"finding warning\" id=\"f{n}\"")));
}

#[test]
fn the_graphs_stores_on_chain_reaches_the_volume_attachment() {
    let b = sample("vm-stuck-v1.4.0");
    let out = ok(&[
        "graph",
        "-b",
        b.to_str().unwrap(),
        "pvc/vm-test-01-disk-0-2zzv2",
        "-n",
        "default",
        "--depth",
        "4",
    ]);
    for line in [
        "  stores on PersistentVolume pvc-afa096cf-7429-4a0d-a143-cc683674ca2b: bound",
        "    stores on Volume longhorn-system/pvc-afa096cf-7429-4a0d-a143-cc683674ca2b: attached (healthy)",
        "        runs on Node harvester-node-2: active",
        "    stores on VolumeAttachment csi-c972b470c81361246b874394dbf078530aa3bba5e4b4725145156bd9ef2ccc89",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
}

#[test]
fn a_vm_kubevirt_cannot_migrate_leads_the_c24_refusal() {
    let r = report(&sample("upgrade-blocked-v1.4.0"));
    let id = "vm.not-live-migratable:VirtualMachineInstance/default/vm-gpu-01";
    let f = finding(&r, id);
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["title"],
        "VM default/vm-gpu-01 cannot live-migrate off harvester-node-1 (HostDeviceNotLiveMigratable)"
    );
    assert!(
        f["remediation"]
            .as_str()
            .unwrap()
            .contains("$ virtctl stop vm-gpu-01 -n default")
    );
    assert!(
        f["evidence"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("default/kubevirt.io/v1/virtualmachineinstances.yaml")
    );
    // KubeVirt's reason is the cause; the webhook's C24 refusal is its effect.
    let incident = r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["cause"] == id)
        .expect("an incident led by it");
    assert!(
        incident["effects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "upgrade.admission:C24")
    );
    // Every VMI of the healthy sample can migrate.
    let healthy = report(&sample("healthy-v1.4.0"));
    assert!(
        !healthy["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "vm.not-live-migratable")
    );
}

#[test]
fn a_running_upgrades_repository_vm_is_never_told_to_stop() {
    // The stuck upgrade's repository VMI, as if KubeVirt said it cannot migrate.
    let from = sample("upgrade-stuck-predrained-v1.4.0");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("b");
    common::copy_tree(&from, &root, |rel, t| {
        if rel.ends_with("harvester-system/kubevirt.io/v1/virtualmachineinstances.yaml") {
            let t = t.replace(
                "      status: \"True\"\n      type: LiveMigratable",
                "      reason: DisksNotLiveMigratable\n      status: \"False\"\n      type: LiveMigratable",
            );
            assert!(t.contains("DisksNotLiveMigratable"));
            t
        } else {
            t
        }
    });
    let r = report(&root);
    let f: Vec<&serde_json::Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "vm.not-live-migratable")
        .collect();
    assert_eq!(f.len(), 1, "{:#?}", r["findings"]);
    assert_eq!(f[0]["severity"], "info");
    let fix = f[0]["remediation"].as_str().unwrap();
    assert!(
        fix.contains("Do not stop or delete it while the upgrade runs"),
        "{fix}"
    );
    assert!(!fix.contains("virtctl stop"), "{fix}");
}
