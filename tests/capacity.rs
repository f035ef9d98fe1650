//! `vm.migration-headroom` through the binary, on copies of the healthy sample whose VM asks
//! for more memory than the other nodes have free, and whose best target is cordoned.
mod common;

use std::path::{Path, PathBuf};

use common::{copy_tree, report, sample};
use serde_json::Value;

/// A copy of `healthy-v1.4.0` with `edit` applied to each file's text.
fn edited(dir: &Path, edit: impl Fn(&str, String) -> String) -> PathBuf {
    let root = dir.join("healthy-edited");
    copy_tree(&sample("healthy-v1.4.0"), &root, edit);
    root
}

/// The launcher pod of vm-web-01 asks for `memory`.
fn with_vm_memory(rel: &str, text: String, memory: &str) -> String {
    if rel.ends_with("default/v1/pods.yaml") {
        text.replace("memory: 4403768Ki", &format!("memory: {memory}"))
    } else {
        text
    }
}

fn headroom(r: &Value) -> Vec<&Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "vm.migration-headroom")
        .collect()
}

fn check(r: &Value) -> (String, String) {
    let c = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "vm.migration-headroom" && c["check"].is_null())
        .expect("the rule's check");
    (
        c["status"].as_str().unwrap().to_string(),
        c["reason"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_vm_the_other_nodes_cannot_hold_is_named_with_the_room_they_have() {
    // As captured: 4.2 GiB fits easily.
    let r = report(&sample("healthy-v1.4.0"));
    assert!(headroom(&r).is_empty());
    assert_eq!(check(&r).0, "pass");
    // 95 GiB: more than either other node has allocatable.
    let dir = tempfile::tempdir().unwrap();
    let big = edited(dir.path(), |rel, t| with_vm_memory(rel, t, "95Gi"));
    let r = report(&big);
    let f = headroom(&r);
    assert_eq!(f.len(), 1, "{:#?}", r["findings"]);
    let f = f[0];
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["id"],
        "vm.migration-headroom:Node/harvester-node-1:migration-headroom"
    );
    assert_eq!(
        f["title"],
        "Draining node harvester-node-1 would likely leave 1 VM without room to live-migrate"
    );
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("default/vm-web-01 (95Gi memory, 125m CPU)"),
        "{s}"
    );
    assert!(s.contains("harvester-node-0 "), "{s}");
    assert!(s.contains("harvester-node-2 "), "{s}");
    assert!(s.contains("Insufficient memory"), "{s}");
    let files: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert!(
        files.iter().any(|p| p.ends_with("cluster/v1/nodes.yaml")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|p| p.ends_with("default/v1/pods.yaml")),
        "{files:?}"
    );
    assert!(
        f["remediation"]
            .as_str()
            .unwrap()
            .contains("kubectl describe node harvester-node-1")
    );
}

#[test]
fn a_cordoned_node_is_no_migration_target() {
    // 70 GiB fits only harvester-node-0 (93 GiB allocatable); cordoned, it is no target.
    let dir = tempfile::tempdir().unwrap();
    let fits = edited(dir.path(), |rel, t| with_vm_memory(rel, t, "70Gi"));
    assert!(headroom(&report(&fits)).is_empty());
    let dir = tempfile::tempdir().unwrap();
    let cordoned = edited(dir.path(), |rel, t| {
        let t = with_vm_memory(rel, t, "70Gi");
        if rel.ends_with("cluster/v1/nodes.yaml") {
            cordon(&t, "harvester-node-0")
        } else {
            t
        }
    });
    let r = report(&cordoned);
    let f = headroom(&r);
    assert_eq!(f.len(), 1, "{:#?}", r["findings"]);
    let s = f[0]["summary"].as_str().unwrap();
    assert!(!s.contains("harvester-node-0 "), "{s}");
    assert!(s.contains("harvester-node-2 "), "{s}");
}

#[test]
fn without_requests_the_rule_is_not_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let bare = edited(dir.path(), |rel, t| {
        if rel.ends_with("default/v1/pods.yaml") {
            t.replace("memory: 4403768Ki", "ephemeral-storage: 1Gi")
        } else {
            t
        }
    });
    let (status, reason) = check(&report(&bare));
    assert_eq!(status, "not_evaluated");
    assert_eq!(
        reason,
        "the running virt-launcher pods list no memory requests"
    );
}

/// The nodes list with `spec.unschedulable: true` on `node`.
fn cordon(nodes: &str, node: &str) -> String {
    let mut v: Value = yaml_serde::from_str(nodes).unwrap();
    for item in v["items"].as_array_mut().unwrap() {
        if item["metadata"]["name"] == node {
            item["spec"]["unschedulable"] = Value::Bool(true);
        }
    }
    yaml_serde::to_string(&v).unwrap()
}
