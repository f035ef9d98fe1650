//! What the nodes say (issue 16, part B): kernel filesystem and I/O errors from the node
//! bundles, ghost nodes and restarted system pods, on the node-disk-errors sample and on the
//! real 2022 bundle (node1's 126,042 `EXT4-fs error (device sdc) … comm grafana-server` lines,
//! the kubelet events of the missing node2, kube-vip's 4 restarts).
mod common;

use common::by_id as finding;
use common::*;
use serde_json::Value;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

#[test]
fn sample_kernel_errors_name_node_device_count_process_pod_and_volume() {
    let r = report(&sample("node-disk-errors-v1.4.0"));
    let f = finding(&r, "node.kernel-errors:Node/harvester-node-1:fs:sdc");
    assert_eq!(f["severity"], "error");
    assert_eq!(
        s(&f["title"]),
        "Node harvester-node-1: 1,201 filesystem errors on device sdc, process grafana-server (1,201)"
    );
    let summary = s(&f["summary"]);
    for want in [
        "the first logged at 2025-02-14T04:28:59Z",
        "the last at 2025-02-14T09:40:59Z",
        "suppressed 120 filesystem error messages",
        "container grafana of pod default/grafana-",
        "PVC grafana-data (PV pvc-",
        "likely the volume on sdc",
    ] {
        assert!(summary.contains(want), "{want:?} not in {summary}");
    }
    let ev = f["evidence"].as_array().unwrap();
    let kernel = "nodes/harvester-node-1.zip!harvester-node-1/logs/kernel.log";
    assert_eq!(ev[0]["file"], kernel);
    assert!(s(&ev[0]["excerpt"]).contains("EXT4-fs error (device sdc)"));
    assert_eq!(ev[1]["file"], kernel);
    assert!(ev[1]["line"].as_u64() > ev[0]["line"].as_u64());
    assert!(s(&ev[1]["excerpt"]).starts_with("Feb 14 09:40:59"));
    let kinds: Vec<&str> = f["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| s(&o["kind"]))
        .collect();
    for k in ["Pod", "PersistentVolumeClaim", "PersistentVolume"] {
        assert!(kinds.contains(&k), "{k} not in {kinds:?}");
    }
    assert!(s(&f["remediation"]).contains("harvester-node-1 -c kernel --grep sdc"));
    // The block I/O error that came first is its own finding.
    let io = finding(&r, "node.kernel-errors:Node/harvester-node-1:block-io:sdc");
    assert!(s(&io["title"]).contains("1 block I/O error on device sdc"));
}

#[test]
fn sample_ghost_node_with_its_kubelet_events() {
    let r = report(&sample("node-disk-errors-v1.4.0"));
    let f = finding(&r, "node.ghost:Node/harvester-node-3");
    assert_eq!(f["severity"], "warning");
    let summary = s(&f["summary"]);
    assert!(
        summary.contains("No Node harvester-node-3 exists"),
        "{summary}"
    );
    assert!(summary.contains("count 4,127"), "{summary}");
    assert!(summary.contains("kubelet likely still runs"), "{summary}");
    let ev = &f["evidence"][0];
    assert_eq!(ev["file"], "yamls/namespaced/default/v1/events.yaml");
    assert!(s(&ev["excerpt"]).contains("name: harvester-node-3"));
    // The other samples' nodes all exist.
    for other in ["healthy-v1.4.0", "node-down-vm-degraded-v1.4.0"] {
        let r = report(&sample(other));
        assert!(
            !r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "node.ghost" || f["rule"] == "node.kernel-errors"),
            "{other}"
        );
    }
}

#[test]
fn sample_restarted_system_pods_quote_the_previous_log() {
    let r = report(&sample("healthy-v1.4.0"));
    let f = finding(
        &r,
        "node.system-restarts:Pod/harvester-system/virt-handler-8wnxm:virt-handler",
    );
    assert_eq!(f["severity"], "info");
    assert!(s(&f["summary"]).contains("last exit Error (exit code 2)"));
    let ev = f["evidence"].as_array().unwrap();
    assert!(ev.iter().any(|e| e["file"]
        == "logs/harvester-system/virt-handler-8wnxm/virt-handler.log.1"
        && !s(&e["excerpt"]).is_empty()));
}

#[test]
fn real_bundle_node1_sdc_grafana_node2_ghost_and_kube_vip() {
    for b in real_bundles() {
        let r = report(&b);
        let f = finding(&r, "node.kernel-errors:Node/node1:fs:sdc");
        assert_eq!(f["severity"], "error");
        assert_eq!(
            s(&f["title"]),
            "Node node1: 126,042 filesystem errors on device sdc, process grafana-server (126,042)"
        );
        let summary = s(&f["summary"]);
        for want in [
            "367,534 errors since its last fsck, the first at 2022-03-08T00:02:38Z",
            "pod cattle-monitoring-system/rancher-monitoring-grafana-d9c56d79b-rt4pt",
            "PVC rancher-monitoring-grafana (PV pvc-ce3fa571-6642-4018-b7fd-9eb2c1e56191)",
        ] {
            assert!(summary.contains(want), "{want:?} not in {summary}");
        }
        let ev = f["evidence"].as_array().unwrap();
        assert_eq!(ev[0]["file"], "nodes/node1.zip!node1/logs/kernel.log");
        assert_eq!(ev[0]["line"], 750);
        assert_eq!(ev[1]["line"], 132356);
        assert!(s(&ev[1]["excerpt"]).contains("comm grafana-server"));
        // The lost volume under grafana's PVC explains the filesystem failing on its device.
        let lost = r["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["cause"] == "storage.volume-lost:PersistentVolume/pvc-ce3fa571-6642-4018-b7fd-9eb2c1e56191")
            .expect("lost volume incident");
        assert!(
            lost["effects"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e == "node.kernel-errors:Node/node1:fs:sdc"),
            "{lost}"
        );
        // sdb: prometheus's volume, EXT4 warnings with error -5 (EIO).
        let sdb = finding(&r, "node.kernel-errors:Node/node1:fs:sdb");
        assert!(
            s(&sdb["title"]).contains("5,037 filesystem errors on device sdb, process prometheus")
        );
        assert!(s(&sdb["summary"]).contains("pvc-232180f3-6740-4682-ba5c-f4b57a75512b"));

        let g = finding(&r, "node.ghost:Node/node2");
        let summary = s(&g["summary"]);
        assert!(summary.contains("count 34,075"), "{summary}");
        assert!(
            summary.contains("2022-03-22T23:46:53Z (2m before capture)"),
            "{summary}"
        );
        assert!(
            summary.contains(
                "BackingImageManager longhorn-system/backing-image-manager-c00e-f0de has"
            ),
            "{summary}"
        );
        let files: Vec<&str> = g["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| s(&e["file"]))
            .collect();
        assert!(files.contains(&"yamls/namespaced/default/v1/events.yaml"));

        let k = finding(
            &r,
            "node.system-restarts:Pod/harvester-system/kube-vip-vchbv:kube-vip",
        );
        assert_eq!(
            s(&k["title"]),
            "kube-vip harvester-system/kube-vip-vchbv restarted 4 times, last exit Error"
        );
        assert!(
            s(&k["summary"]).contains("(exit code 1) at 2022-03-08T04:52:04Z (14d before capture)")
        );
    }
}

#[test]
fn sample_rke2_failures_and_the_clock_behind_them() {
    let r = report(&sample("node-disk-errors-v1.4.0"));
    let f = finding(
        &r,
        "node.service-failures:Node/harvester-node-2:rke2-server",
    );
    // systemd hit the start limit but started the unit again later: a warning.
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        s(&f["title"]),
        "Node harvester-node-2: rke2-server failed 3 times"
    );
    let summary = s(&f["summary"]);
    for want in [
        "3 failing exits (status=1/FAILURE ×3)",
        "1 `Start request repeated too quickly`",
        "the first failure line at 2025-02-12T03:11:31Z",
        "x509: certificate has expired or is not yet valid",
        "systemd started rke2-server.service again after the last failure",
    ] {
        assert!(summary.contains(want), "{want:?} not in {summary}");
    }
    let ev = f["evidence"].as_array().unwrap();
    let file = "nodes/harvester-node-2.zip!harvester-node-2/logs/rke2-server.log";
    assert_eq!(ev[0]["file"], file);
    assert!(s(&ev[0]["excerpt"]).contains("level=fatal"));
    assert!(s(&ev[1]["excerpt"]).contains("Start request repeated too quickly"));
    assert!(s(&f["remediation"]).contains(
        "$ sbdiag logs -b node-disk-errors-v1.4.0 harvester-node-2 -c rke2-server --grep"
    ));

    let x = finding(
        &r,
        "node.clock-skew:Node/harvester-node-2:x509-not-yet-valid",
    );
    assert_eq!(x["severity"], "warning");
    assert!(
        s(&x["summary"])
            .contains("harvester-node-2's clock was likely behind by at least 1h44m then"),
        "{}",
        s(&x["summary"])
    );
    assert_eq!(
        s(&x["title"]),
        "Node harvester-node-2's clock was likely behind by at least 1h44m: 3 x509 \"not yet valid\" errors"
    );
    // The clock is the cause; rke2-server failing on the same x509 error is its effect.
    let incident = r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["cause"] == "node.clock-skew:Node/harvester-node-2:x509-not-yet-valid")
        .expect("an incident led by the clock");
    assert_eq!(
        incident["effects"],
        serde_json::json!(["node.service-failures:Node/harvester-node-2:rke2-server"])
    );
    let e = finding(&r, "node.clock-skew:Node/harvester-node-0:etcd-drift");
    assert_eq!(
        s(&e["title"]),
        "etcd on harvester-node-0 found a peer's clock off by 1h47m38.266s"
    );
    assert!(s(&e["summary"]).contains("7 times (logs/kube-system/etcd-harvester-node-0/etcd.log:"));
    let checks: Vec<(&str, &str)> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"] == "node.clock-skew")
        .map(|c| (s(&c["check"]), s(&c["status"])))
        .collect();
    assert_eq!(
        checks,
        vec![
            ("", "fail"),
            ("etcd-drift", "fail"),
            ("x509-not-yet-valid", "fail"),
            ("node-log-times", "pass"),
        ]
    );
    // The healthy cluster: nothing.
    let h = report(&sample("healthy-v1.4.0"));
    assert!(
        !h["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| { f["rule"] == "node.service-failures" || f["rule"] == "node.clock-skew" })
    );
}

#[test]
fn real_bundle_no_service_failure_and_no_etcd_log_for_the_clock() {
    for b in real_bundles() {
        let r = report(&b);
        let checks: Vec<(&str, &str, &str)> = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["rule"] == "node.clock-skew" || c["rule"] == "node.service-failures")
            .map(|c| (s(&c["rule"]), s(&c["check"]), s(&c["status"])))
            .collect();
        // node1's last lines (23:56:05) are minutes after the bundle's creation (23:49:32).
        assert_eq!(
            checks,
            vec![
                ("node.clock-skew", "", "pass"),
                ("node.clock-skew", "etcd-drift", "not_evaluated"),
                ("node.clock-skew", "x509-not-yet-valid", "pass"),
                ("node.clock-skew", "node-log-times", "pass"),
                ("node.service-failures", "", "pass"),
            ]
        );
    }
}

#[test]
fn sample_disk_errors_mapped_to_the_longhorn_disk_and_its_replicas() {
    let r = report(&sample("node-disk-errors-v1.4.0"));
    let f = finding(&r, "node.kernel-errors:Node/harvester-node-0:block-io:sdb");
    assert_eq!(f["severity"], "error");
    assert_eq!(
        s(&f["title"]),
        "Node harvester-node-0: 27 block I/O errors on device sdb"
    );
    let summary = s(&f["summary"]);
    for want in [
        "Device sdb is /dev/sdb on harvester-node-0: BlockDevice longhorn-system/04d30b3e40db6714eafc79664343e916",
        "mounted at /var/lib/harvester/extra-disks/04d30b3e40db6714eafc79664343e916 as Longhorn disk \
         04d30b3e40db6714eafc79664343e916 of node harvester-node-0, which holds 1 replica of 1 volume",
        "(replica pvc-8bae9db4-b53f-4af3-b368-559386e7fd37-r-414e1d74, running, PVC default/vm-web-01-disk-0-8mvwd)",
    ] {
        assert!(summary.contains(want), "{want:?} not in {summary}");
    }
    let objects: Vec<String> = f["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| format!("{}/{}", s(&o["kind"]), s(&o["name"])))
        .collect();
    assert_eq!(
        objects,
        [
            "BlockDevice/04d30b3e40db6714eafc79664343e916",
            "Replica/pvc-8bae9db4-b53f-4af3-b368-559386e7fd37-r-414e1d74",
            "Volume/pvc-8bae9db4-b53f-4af3-b368-559386e7fd37",
        ]
    );
    let ev = f["evidence"].as_array().unwrap();
    assert!(s(&ev[0]["excerpt"]).contains("[sdb] tag#17 FAILED Result"));
    assert!(s(&ev[2]["excerpt"]).contains("devPath: /dev/sdb"));
    assert!(s(&f["remediation"]).contains(
        "It is Longhorn disk 04d30b3e40db6714eafc79664343e916 of node harvester-node-0: check the \
         disk's health (`smartctl -a /dev/sdb` on the node)"
    ));
}
