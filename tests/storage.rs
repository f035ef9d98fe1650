//! The storage chain and its rules end to end: the storage-lost sample (a lost volume under a
//! running pod, a faulted VM volume, a failed backing image copy) and the real bundle (the
//! grafana and prometheus volumes Longhorn no longer has), through `analyze` and `describe`.
mod common;

use common::*;
use serde_json::Value;

fn findings<'a>(r: &'a Value, rule: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn evidence_files(f: &Value) -> Vec<(String, u64)> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap_or_default().to_string(),
                e["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn kinds(f: &Value) -> Vec<String> {
    f["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn the_sample_reports_the_lost_volume_with_its_claim_pod_attachment_and_log() {
    let r = report(&sample("storage-lost-v1.4.0"));
    let lost = findings(&r, "storage.volume-lost");
    assert_eq!(lost.len(), 1, "{lost:?}");
    let f = lost[0];
    assert_eq!(
        f["id"],
        "storage.volume-lost:PersistentVolume/pvc-dff58e8a-9506-4fe4-9b85-c2026ef47e70"
    );
    assert_eq!(f["severity"], "error");
    assert_eq!(
        f["title"],
        "Longhorn has no volume pvc-dff58e8a-9506-4fe4-9b85-c2026ef47e70 (claim \
         default/web-cache-data), mounted by pod web-cache-gdr89z9qxt-z6bcn"
    );
    let s = f["summary"].as_str().unwrap();
    for want in [
        "PersistentVolume pvc-dff58e8a-9506-4fe4-9b85-c2026ef47e70 has been deleting since \
         2025-02-12T06:26:58Z (2d3h before capture)",
        "PersistentVolumeClaim default/web-cache-data has been deleting since",
        "Longhorn's Volume list has no volume pvc-dff58e8a-9506-4fe4-9b85-c2026ef47e70, and no \
         engine or replica of it either",
        "still says attached to harvester-node-0",
        "Pod default/web-cache-gdr89z9qxt-z6bcn (Running on harvester-node-0) mounts the claim.",
        "longhorn-manager.log has 615 lines naming it \"not found\"",
    ] {
        assert!(s.contains(want), "{want:?} not in {s}");
    }
    assert_eq!(
        kinds(f),
        [
            "PersistentVolume/pvc-dff58e8a-9506-4fe4-9b85-c2026ef47e70",
            "PersistentVolumeClaim/web-cache-data",
            "VolumeAttachment/csi-4570111687554e665060e093462b29960a7a7183d36e67ee4afd9b3e8c6e01db",
            "Pod/web-cache-gdr89z9qxt-z6bcn",
            "Deployment/web-cache",
        ]
    );
    let files = evidence_files(f);
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "yamls/cluster/v1/persistentvolumes.yaml",
            "yamls/namespaced/default/v1/persistentvolumeclaims.yaml",
            "yamls/cluster/storage.k8s.io/v1/volumeattachments.yaml",
            "yamls/namespaced/default/v1/pods.yaml",
            "logs/longhorn-system/longhorn-manager-4vswm/longhorn-manager.log",
        ]
    );
    // The evidence shows the lines that say so.
    let ev = f["evidence"].as_array().unwrap();
    assert!(
        ev[0]["excerpt"]
            .as_str()
            .unwrap()
            .contains("deletionTimestamp")
    );
    assert!(
        ev[2]["excerpt"]
            .as_str()
            .unwrap()
            .contains("attached: true")
    );
    assert!(
        ev[3]["excerpt"]
            .as_str()
            .unwrap()
            .contains("claimName: web-cache-data")
    );
    assert!(ev[4]["excerpt"].as_str().unwrap().contains("not found"));
    // The lost volume leads its own incident.
    let inc = r["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "incident:PersistentVolume/pvc-dff58e8a-9506-4fe4-9b85-c2026ef47e70")
        .expect("the lost volume's incident");
    assert_eq!(inc["severity"], "error");
}

#[test]
fn the_sample_reports_the_faulted_volume_and_the_failed_backing_image_copy() {
    let r = report(&sample("storage-lost-v1.4.0"));
    let health = findings(&r, "storage.volume-health");
    assert_eq!(health.len(), 1);
    let f = health[0];
    assert_eq!(
        f["id"],
        "storage.volume-health:Volume/longhorn-system/pvc-afa096cf-7429-4a0d-a143-cc683674ca2b"
    );
    assert_eq!(f["severity"], "error");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("is faulted: 3 replica(s) wanted, state detached."),
        "{s}"
    );
    assert!(s.contains(
        "Longhorn cannot schedule its replicas (condition Scheduled False, \
         ReplicaSchedulingFailure: insufficient storage)."
    ));
    assert_eq!(s.matches(", failed at 2025-02-14T02:59:5").count(), 3);

    let bi = findings(&r, "storage.backing-image");
    assert_eq!(bi.len(), 1);
    let f = bi[0];
    assert_eq!(
        f["id"],
        "storage.backing-image:BackingImage/longhorn-system/default-image-kx9pd"
    );
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["title"],
        "Backing image default-image-kx9pd has 1 failed or unknown copy on harvester-node-2"
    );
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("failed to calculate checksum"), "{s}");
    assert!(s.contains("its BackingImageManager backing-image-manager-ad58-2f9e is unknown"));
    assert!(s.ends_with("2 of 3 copies ready."));
    let ev = f["evidence"].as_array().unwrap();
    assert!(ev[0]["excerpt"].as_str().unwrap().contains("state: failed"));
    assert!(
        ev[1]["excerpt"]
            .as_str()
            .unwrap()
            .contains("currentState: unknown")
    );
    // Nothing else of the storage rules fires: the attachment matches a lost volume (judged
    // above), every instance manager runs.
    assert!(findings(&r, "storage.attachment-stuck").is_empty());
    assert!(findings(&r, "storage.instance-manager").is_empty());
}

#[test]
fn describe_prints_the_chain_from_the_vm_and_from_a_claim() {
    let b = sample("storage-lost-v1.4.0");
    let out = ok(&[
        "describe",
        "vm",
        "vm-test-01",
        "-n",
        "default",
        "-b",
        b.to_str().unwrap(),
    ]);
    let chain: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Storage:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(chain.len(), 9, "{out}");
    assert!(chain[0].starts_with(
        "  VirtualMachine default/vm-test-01: Stopped  \
         (yamls/namespaced/default/kubevirt.io/v1/virtualmachines.yaml:"
    ));
    assert_eq!(
        chain[1],
        "    runs as VirtualMachineInstance default/vm-test-01: absent from the capture (the VM \
         is stopped)"
    );
    assert!(chain[4].contains(
        "stored in Volume.longhorn.io longhorn-system/pvc-afa096cf-7429-4a0d-a143-cc683674ca2b: \
         detached, robustness faulted  (yamls/namespaced/longhorn-system/longhorn.io/v1beta2/\
         volumes.yaml:"
    ));
    assert!(chain[7].contains(
        "replicated on Replica.longhorn.io longhorn-system/pvc-afa096cf-7429-4a0d-a143-cc683674ca2b-r-c5afd509: \
         stopped, on harvester-node-0, disk /var/lib/harvester/defaultdisk, failed at \
         2025-02-14T02:59:55Z"
    ));

    let out = ok(&[
        "describe",
        "pvc",
        "web-cache-data",
        "-n",
        "default",
        "-b",
        b.to_str().unwrap(),
    ]);
    assert!(out.contains(
        "\n    mounted by Pod default/web-cache-gdr89z9qxt-z6bcn: Running, on harvester-node-0  \
         (yamls/namespaced/default/v1/pods.yaml:"
    ));
    assert!(out.contains(
        "\n      stored in Volume.longhorn.io longhorn-system/pvc-dff58e8a-9506-4fe4-9b85-c2026ef47e70: \
         absent from the capture\n"
    ));
}

#[test]
fn the_real_bundle_names_both_lost_monitoring_volumes_and_the_failed_image_copy() {
    for b in real_bundles() {
        let r = report(&b);
        let lost = findings(&r, "storage.volume-lost");
        let ids: Vec<&str> = lost.iter().map(|f| f["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "storage.volume-lost:PersistentVolume/pvc-232180f3-6740-4682-ba5c-f4b57a75512b",
                "storage.volume-lost:PersistentVolume/pvc-ce3fa571-6642-4018-b7fd-9eb2c1e56191",
            ]
        );
        for (f, claim, pod, workload) in [
            (
                lost[0],
                "prometheus-rancher-monitoring-prometheus-db-prometheus-rancher-monitoring-prometheus-0",
                "prometheus-rancher-monitoring-prometheus-0",
                "Prometheus/rancher-monitoring-prometheus",
            ),
            (
                lost[1],
                "rancher-monitoring-grafana",
                "rancher-monitoring-grafana-d9c56d79b-rt4pt",
                "Deployment/rancher-monitoring-grafana",
            ),
        ] {
            assert_eq!(f["severity"], "error");
            let o = kinds(f);
            assert_eq!(o[1], format!("PersistentVolumeClaim/{claim}"));
            assert!(o[2].starts_with("VolumeAttachment/csi-"));
            assert_eq!(o[3], format!("Pod/{pod}"));
            assert_eq!(o[4], workload);
            assert!(
                f["objects"][1]["namespace"] == "cattle-monitoring-system"
                    && f["objects"][3]["namespace"] == "cattle-monitoring-system"
            );
            let s = f["summary"].as_str().unwrap();
            assert!(
                s.contains("has been deleting since 2022-03-08T00:02:3"),
                "{s}"
            );
            assert!(s.contains("(14d before capture)"));
            assert!(s.contains("still says attached to node1"));
            assert!(s.contains(&format!(
                "Pod cattle-monitoring-system/{pod} (Running on node1)"
            )));
            // Longhorn's own words, from both of its logs.
            let files = evidence_files(f);
            let logs: Vec<&str> = files
                .iter()
                .map(|(p, _)| p.as_str())
                .filter(|p| p.starts_with("logs/"))
                .collect();
            assert_eq!(
                logs,
                [
                    "logs/longhorn-system/longhorn-csi-plugin-qqvbx/longhorn-csi-plugin.log",
                    "logs/longhorn-system/longhorn-manager-pmjr9/longhorn-manager.log",
                ]
            );
            assert!(s.contains("NodeGetVolumeStats"));
            assert!(
                s.contains("volume.longhorn.io \\\"pvc-")
                    || s.contains("volume.longhorn.io \"pvc-")
            );
        }
        // The capture's (empty) BackupVolume list: likely no backup.
        for f in &lost {
            assert!(
                f["remediation"]
                    .as_str()
                    .unwrap()
                    .contains("and the capture's BackupVolume list has none of that name: there is likely no backup of it.")
            );
        }
        // Who recreates each pod once it is deleted, and where its claim comes back from.
        assert!(lost[0]["remediation"].as_str().unwrap().contains(
            "(StatefulSet prometheus-rancher-monitoring-prometheus recreates it, with a new claim \
             from its volumeClaimTemplates):\n$ kubectl -n cattle-monitoring-system delete pod \
             prometheus-rancher-monitoring-prometheus-0\n"
        ));
        assert!(lost[1]["remediation"].as_str().unwrap().contains(
            "(Deployment rancher-monitoring-grafana recreates it; it stays Pending until the claim \
             exists again: Fleet bundle fleet-local/mcc-rancher-monitoring deployed it, and \
             redeploying that bundle recreates it)"
        ));
        // The grafana volume explains the chart's not-ready claim about its claim.
        let inc = r["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| {
                i["id"] == "incident:PersistentVolume/pvc-ce3fa571-6642-4018-b7fd-9eb2c1e56191"
            })
            .expect("the grafana volume's incident");
        let effects: Vec<&str> = inc["effects"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e.as_str())
            .collect();
        assert!(
            effects.contains(
                &"fleet.not-ready:Bundle/fleet-local/mcc-rancher-monitoring:PersistentVolumeClaim/\
                  cattle-monitoring-system/rancher-monitoring-grafana"
            ),
            "{effects:?}"
        );

        let bi = findings(&r, "storage.backing-image");
        assert_eq!(bi.len(), 1);
        assert_eq!(
            bi[0]["id"],
            "storage.backing-image:BackingImage/longhorn-system/default-image-kzndn"
        );
        let s = bi[0]["summary"].as_str().unwrap();
        assert!(
            s.contains("(node node2) is failed since 2022-03-08T00:03:36Z"),
            "{s}"
        );
        assert!(s.contains("failed to calculate checksum"));
        assert!(s.contains("its BackingImageManager backing-image-manager-c00e-f0de is unknown"));
        // The bundle holds no log of node2's manager pod: the command reads it on the cluster.
        assert!(bi[0]["remediation"].as_str().unwrap().contains(
            "\n$ kubectl -n longhorn-system logs backing-image-manager-c00e-f0de | grep -E \
             'failed|error'\n"
        ));
    }
}
