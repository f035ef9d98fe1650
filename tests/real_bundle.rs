//! The real Harvester bundle of `../shared/data/real` (or `$SBDIAG_REAL_BUNDLES`): indexing,
//! coverage, queries, determinism, and the same index from zip, folder and tar.gz.
mod common;

use common::*;

#[test]
fn get_daemonsets_lists_longhorn_manager() {
    for b in real_bundles() {
        let out = ok(&[
            "get",
            "daemonsets",
            "-n",
            "longhorn-system",
            "-b",
            b.to_str().unwrap(),
        ]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("NAME")
                && lines[0].contains("DESIRED")
                && lines[0].contains("AVAILABLE")
        );
        let lm = lines
            .iter()
            .find(|l| l.starts_with("longhorn-manager "))
            .expect("longhorn-manager listed");
        assert_eq!(
            lm.split_whitespace().collect::<Vec<_>>(),
            ["longhorn-manager", "1", "1", "1", "1", "1", "<none>", "16d"]
        );
        // short name, -o name, label selector
        let names = ok(&[
            "get",
            "ds",
            "-n",
            "longhorn-system",
            "-b",
            b.to_str().unwrap(),
            "-o",
            "name",
            "-l",
            "app=longhorn-manager",
        ]);
        assert_eq!(names, "daemonset.apps/longhorn-manager\n");
    }
}

#[test]
fn analyze_reports_capture_nodes_and_every_object() {
    for b in real_bundles() {
        let r = report(&b);
        assert_eq!(r["schema_version"], 1);
        assert_eq!(r["bundle"]["created_at"], "2022-03-22T23:49:32Z");
        assert_eq!(
            r["bundle"]["cluster_id"],
            "9b6b22de-6e5d-4905-aec8-1f226e413986"
        );
        assert_eq!(r["bundle"]["kubernetes_version"], "v1.21.7+rke2r1");
        assert_eq!(r["bundle"]["nodes"], 1);
        assert_eq!(r["bundle"]["files"], 1175);
        // 1246 list items; 10 are the same objects served by a second API group.
        assert_eq!(r["bundle"]["objects"], 1236);
        assert_eq!(r["bundle"]["duplicate_objects"], 10);
        // A dev build: the node release file says so.
        assert_eq!(r["bundle"]["harvester_version"], "1a861fc-dirty");
        assert!(r["coverage"]["parse_errors"].as_array().unwrap().is_empty());
        assert_eq!(
            r["coverage"]["collection_errors"], 0,
            "all 24 generator errors are benign"
        );
    }
}

#[test]
fn removed_files_are_reported_not_collected() {
    for b in real_bundles() {
        let r = report(&b);
        let missing: Vec<String> = r["coverage"]["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["what"].as_str().unwrap().to_string())
            .collect();
        assert!(
            missing
                .iter()
                .any(|m| m.ends_with("customresourcedefinitions.yaml")),
            "{missing:?}"
        );
        let virt = missing
            .iter()
            .find(|m| m.contains("in harvester-system"))
            .expect("harvester-system log gap");
        for pod in ["virt-api-", "virt-controller-", "virt-handler-"] {
            assert!(virt.contains(pod), "{virt}");
        }
        let checks = r["checks"].as_array().unwrap();
        assert!(checks.iter().any(|c| c["rule"] == "bundle.pod-logs"));
        let f = r["findings"].as_array().unwrap();
        let logs = f
            .iter()
            .find(|f| {
                f["rule"] == "bundle.pod-logs"
                    && f["summary"].as_str().unwrap().contains("virt-api")
            })
            .unwrap();
        let ev = &logs["evidence"][0];
        assert_eq!(ev["file"], "yamls/namespaced/harvester-system/v1/pods.yaml");
        assert!(ev["line"].as_u64().unwrap() > 0);
        assert!(
            ev["excerpt"]
                .as_str()
                .unwrap()
                .starts_with("    name: virt-")
        );
    }
}

#[test]
fn analyze_is_byte_identical_across_runs() {
    for b in real_bundles() {
        let a = ok(&["analyze", b.to_str().unwrap(), "--json"]);
        let c = ok(&["analyze", b.to_str().unwrap(), "--json"]);
        assert_eq!(a, c);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        ok(&["analyze", b.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(std::fs::read_to_string(out.join("report.json")).unwrap(), a);
    }
}

#[test]
fn zip_folder_and_tar_gz_give_the_same_index() {
    for b in real_bundles() {
        let dir = tempfile::tempdir().unwrap();
        unzip(&b, dir.path());
        let top = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let tgz = dir.path().join("b.tar.gz");
        tar_gz_dir(&top, "renamed-top", &tgz);
        let from_zip = comparable(report(&b));
        let from_dir = comparable(report(&top));
        let from_tgz = comparable(report(&tgz));
        assert_eq!(from_zip, from_dir);
        assert_eq!(from_zip, from_tgz);
    }
}

#[test]
fn describe_events_and_logs() {
    for b in real_bundles() {
        let bs = b.to_str().unwrap();
        let d = ok(&[
            "describe",
            "ds",
            "longhorn-manager",
            "-n",
            "longhorn-system",
            "-b",
            bs,
        ]);
        assert!(
            d.contains("Source:       yamls/namespaced/longhorn-system/apps/v1/daemonsets.yaml:")
        );
        assert!(d.contains("Created:      2022-03-06T22:50:37Z (16d before capture)"));
        let ev = ok(&["events", "-b", bs, "-n", "harvester-system"]);
        assert!(ev.lines().next().unwrap().starts_with("LAST SEEN"));
        // the generator's `"null` suffix on strings ending in a quote is undone
        assert!(
            ev.contains("Pulling image \"rancher/support-bundle-kit:master-head\"\n"),
            "{ev}"
        );
        // core and events.k8s.io copies are merged: each event once
        let n = ev
            .lines()
            .filter(|l| l.contains("Started container manager"))
            .count();
        assert_eq!(n, 1);
        let log = ok(&[
            "logs",
            "-b",
            bs,
            "default-default-dng8k",
            "-n",
            "harvester-system",
        ]);
        assert!(log.starts_with("2022-"));
        let kern = ok(&[
            "logs",
            "-b",
            bs,
            "node1",
            "-c",
            "kernel",
            "--grep",
            "Linux version",
            "--tail",
            "1",
        ]);
        assert!(
            kern.contains(":") && kern.contains("Linux version"),
            "{kern}"
        );
        let bad = sbdiag(&["get", "frobnicators", "-b", bs]);
        assert_eq!(bad.status.code(), Some(2));
    }
}
