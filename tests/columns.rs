//! The column model through `sbdiag get`: kubectl's columns for built-in kinds, the columns the
//! Longhorn, KubeVirt and Harvester CRDs declare when the bundle lacks them, and a CRD's own
//! `additionalPrinterColumns` when the bundle has them.
mod common;

use common::*;

/// (header, row) of a one-object listing, split on runs of 2+ spaces.
fn cells(out: &str, row_prefix: &str) -> Vec<(String, String)> {
    let split = |l: &str| -> Vec<String> {
        l.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut lines = out.lines();
    let header = split(lines.next().expect("header"));
    let row = lines
        .find(|l| l.starts_with(row_prefix))
        .unwrap_or_else(|| panic!("no row {row_prefix} in\n{out}"));
    // Column starts from the header, so empty cells keep their place.
    let head = out.lines().next().unwrap_or_default();
    let mut starts: Vec<usize> = Vec::new();
    let mut from = 0;
    for h in &header {
        let at = from + head[from..].find(h.as_str()).expect("header cell");
        starts.push(at);
        from = at + h.len();
    }
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let from = starts[i];
            let to = starts
                .get(i + 1)
                .copied()
                .unwrap_or(row.len())
                .min(row.len());
            (
                h.clone(),
                row.get(from..to).unwrap_or("").trim().to_string(),
            )
        })
        .collect()
}

fn cell<'a>(cells: &'a [(String, String)], name: &str) -> &'a str {
    cells
        .iter()
        .find(|(h, _)| h == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {name} in {cells:?}"))
}

#[test]
fn harvester_longhorn_kubevirt_and_storage_kinds_show_what_matters() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let lhv = ok(&["get", "lhv", "-n", "longhorn-system", "-b", b]);
    let c = cells(&lhv, "pvc-8bae9db4");
    assert_eq!(cell(&c, "STATE"), "attached");
    assert_eq!(cell(&c, "ROBUSTNESS"), "healthy");
    assert_eq!(cell(&c, "NODE"), "harvester-node-1");
    // The generator's "null" for an empty node reads as kubectl's <none>.
    let c = cells(&lhv, "pvc-afa096cf");
    assert_eq!(cell(&c, "NODE"), "<none>");

    let pvc = ok(&["get", "pvc", "-n", "default", "-o", "wide", "-b", b]);
    let c = cells(&pvc, "vm-web-01-disk-0-8mvwd");
    assert_eq!(cell(&c, "STATUS"), "Bound");
    assert_eq!(
        cell(&c, "VOLUME"),
        "pvc-8bae9db4-b53f-4af3-b368-559386e7fd37"
    );
    assert_eq!(cell(&c, "CAPACITY"), "40Gi");
    assert_eq!(cell(&c, "ACCESS MODES"), "RWX");
    assert_eq!(cell(&c, "STORAGECLASS"), "longhorn-image-kx9pd");
    assert_eq!(cell(&c, "VOLUMEMODE"), "Block");

    let pv = ok(&["get", "pv", "-b", b]);
    let c = cells(&pv, "pvc-8bae9db4");
    assert_eq!(cell(&c, "CLAIM"), "default/vm-web-01-disk-0-8mvwd");
    assert_eq!(cell(&c, "RECLAIM POLICY"), "Delete");
    assert!(!pv.contains("VOLUMEMODE"), "wide-only column shown:\n{pv}");

    let up = ok(&["get", "upgrades", "-A", "-b", b]);
    let c = cells(&up, "harvester-system");
    assert_eq!(cell(&c, "STATE"), "Succeeded");
    assert_eq!(cell(&c, "VERSION"), "v1.4.0");

    let vmi = ok(&["get", "vmi", "-n", "default", "-o", "wide", "-b", b]);
    let c = cells(&vmi, "vm-web-01");
    assert_eq!(cell(&c, "PHASE"), "Running");
    assert_eq!(cell(&c, "NODENAME"), "harvester-node-1");
    assert_eq!(cell(&c, "LIVE-MIGRATABLE"), "True");

    let nodes = ok(&["get", "nodes", "-o", "wide", "-b", b]);
    let c = cells(&nodes, "harvester-node-0");
    assert_eq!(cell(&c, "INTERNAL-IP"), "10.10.0.10");
    assert_eq!(cell(&c, "EXTERNAL-IP"), "<none>");

    // An integer the generator wrote as a float prints as an integer.
    let img = ok(&["get", "vmimage", "-n", "default", "-b", b]);
    assert_eq!(cell(&cells(&img, "image-kx9pd"), "SIZE"), "231131136");
}

#[test]
fn pdb_columns_on_the_real_bundle() {
    for b in real_bundles() {
        let out = ok(&["get", "pdb", "-A", "-b", b.to_str().unwrap()]);
        let head = out.lines().next().unwrap_or_default();
        assert!(
            head.contains("MIN AVAILABLE")
                && head.contains("MAX UNAVAILABLE")
                && head.contains("ALLOWED DISRUPTIONS"),
            "{out}"
        );
    }
}

#[test]
fn a_crds_printer_columns_win_when_the_bundle_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("healthy");
    copy_dir(&sample("healthy-v1.4.0"), &copy);
    let crds = copy.join("yamls/cluster/apiextensions.k8s.io/v1/customresourcedefinitions.yaml");
    let text = std::fs::read_to_string(&crds).unwrap();
    let anchor = "    - name: v1beta2\n";
    assert!(text.contains(anchor));
    let text = text.replacen(
        anchor,
        "    - additionalPrinterColumns:\n      - jsonPath: .status.robustness\n        name: Health\n        type: string\n      - jsonPath: .spec.numberOfReplicas\n        name: Replicas\n        type: integer\n        priority: 1\n      name: v1beta2\n",
        1,
    );
    std::fs::write(&crds, text).unwrap();
    let b = copy.to_str().unwrap();
    let out = ok(&["get", "lhv", "-n", "longhorn-system", "-b", b]);
    assert!(out.starts_with("NAME"), "{out}");
    let head = out.lines().next().unwrap();
    assert!(
        head.contains("HEALTH") && !head.contains("ROBUSTNESS"),
        "{out}"
    );
    assert!(
        !head.contains("REPLICAS"),
        "priority 1 only with -o wide:\n{out}"
    );
    assert_eq!(cell(&cells(&out, "pvc-8bae9db4"), "HEALTH"), "healthy");
    let wide = ok(&["get", "lhv", "-n", "longhorn-system", "-o", "wide", "-b", b]);
    assert!(wide.lines().next().unwrap().contains("REPLICAS"), "{wide}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
