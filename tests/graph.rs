//! The status graph and what it makes cheap: `sbdiag graph` (text and DOT), node / storage / VM
//! rules with their blast radius, webhook chains and denials.
mod common;

use common::by_id;
use common::{ok, report, sample, sbdiag};
use serde_json::Value;

fn ids(prefix: &str, r: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with(prefix))
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn has(s: &Value, needle: &str) {
    let t = s.as_str().unwrap();
    assert!(t.contains(needle), "{needle:?} not in:\n{t}");
}

#[test]
fn graph_text_walks_chart_workload_pods_nodes() {
    let out = ok(&[
        "graph",
        "ds/harvester-whereabouts",
        "-n",
        "kube-system",
        "-b",
        sample("fleet-stale-v1.4.0").to_str().unwrap(),
        "--depth",
        "2",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("^ deployed by ManagedChart fleet-local/harvester:"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("^ deployed by Bundle fleet-local/mcc-harvester:"),
        "{out}"
    );
    assert_eq!(
        lines[2],
        "DaemonSet kube-system/harvester-whereabouts: active  [Fleet claims [progressing] Available: 6/7 — stale]"
    );
    assert!(out.contains("  owns Pod kube-system/harvester-whereabouts-fr2dl: running\n    runs on Node harvester-node-5: active\n"));
    assert!(out.contains("blast radius: 2 object(s) depend on it"));
}

#[test]
fn graph_dot_and_storage_chain() {
    let b = sample("upgrade-blocked-v1.4.0");
    let dot = ok(&[
        "graph",
        "vm/vm-web-01",
        "-n",
        "default",
        "-b",
        b.to_str().unwrap(),
        "--depth",
        "6",
        "--format",
        "dot",
    ]);
    assert!(dot.starts_with("digraph sbdiag {"));
    assert!(dot.trim_end().ends_with('}'));
    // VM → VMI → launcher pod → PVC → PV → Longhorn volume (degraded, red) → replicas → nodes.
    for needle in [
        "VirtualMachineInstance default/vm-web-01",
        "PersistentVolumeClaim default/vm-web-01-disk-0-8mvwd",
        "Volume longhorn-system/pvc-8bae9db4-b53f-4af3-b368-559386e7fd37",
        "label=\"stores on\"",
        "label=\"runs on\"",
        "color=red",
    ] {
        assert!(dot.contains(needle), "{needle:?} not in:\n{dot}");
    }
    // A bad target is a usage error (exit 2) that says what was expected.
    let out = sbdiag(&["graph", "harvester", "-b", b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected KIND/NAME"));
}

#[test]
fn storage_and_node_rules_with_blast_radius() {
    let r = report(&sample("upgrade-blocked-v1.4.0"));
    let vol = by_id(
        &r,
        "storage.volume-health:Volume/longhorn-system/pvc-8bae9db4-b53f-4af3-b368-559386e7fd37",
    );
    assert_eq!(vol["severity"], "warning");
    has(
        &vol["title"],
        "(PVC default/vm-web-01-disk-0-8mvwd) is degraded",
    );
    has(&vol["summary"], "on harvester-node-2");
    has(&vol["summary"], "failed at 2025-02-13T03:28:40Z");
    // Blast radius: the claim, the VM's launcher pod, VMI and VM depend on the volume.
    has(&vol["summary"], "Blast radius (what depends on it)");
    has(&vol["summary"], "VirtualMachine(s): vm-web-01");
    assert!(
        vol["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["kind"] == "VirtualMachine" && o["name"] == "vm-web-01")
    );
    assert!(ids("storage.single-replica", &r).contains(&(
        "warning".into(),
        "storage.single-replica:Volume/longhorn-system/pvc-74c946b3-1c9d-4a53-a8a1-4916d9747f15".into()
    )));
    let cordon = by_id(&r, "node.cordoned:Node/harvester-node-2");
    has(&cordon["title"], "maintenance mode (completed)");
    // A healthy cluster gives none of these above info (its benign noise: virt-handler and
    // etcd restarted once each, node.system-restarts at info).
    let h = report(&sample("healthy-v1.4.0"));
    for prefix in ["node.", "storage.", "vm.", "webhook."] {
        let above: Vec<_> = ids(prefix, &h)
            .into_iter()
            .filter(|(sev, _)| sev != "info")
            .collect();
        assert!(above.is_empty(), "{prefix} {above:?}");
    }
}

#[test]
fn webhook_denials_from_logs_are_tied_to_the_webhook() {
    let r = report(&sample("fleet-stale-v1.4.0"));
    let f = by_id(
        &r,
        "webhook.denial:validator.harvesterhci.io:denied-upgrade-check-c12",
    );
    has(
        &f["title"],
        "validator.harvesterhci.io: managed chart harvester is not ready, please wait for it to be ready (2 occurrence(s))",
    );
    has(
        &f["summary"],
        "ValidatingWebhookConfiguration harvester-validator",
    );
    let files: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(
        &"logs/harvester-system/harvester-webhook-mjvss9phlx-zb7hc/harvester-webhook.log"
    ));
    has(&f["remediation"], "upgrade.admission");
}

#[test]
fn webhook_down_names_the_broken_link_and_the_blocked_operations() {
    let r = report(&sample("webhook-down-v1.4.0"));
    assert_eq!(
        ids("webhook.", &r),
        vec![
            (
                "error".to_string(),
                "webhook.denial:validator.harvesterhci.io:failed-connection-refused".to_string()
            ),
            (
                "error".to_string(),
                "webhook.unavailable:ValidatingWebhookConfiguration/harvester-validator:validator.harvesterhci.io".to_string()
            ),
            (
                "warning".to_string(),
                "webhook.unavailable:MutatingWebhookConfiguration/harvester-mutator:mutator.harvesterhci.io".to_string()
            ),
        ]
    );
    let v = by_id(
        &r,
        "webhook.unavailable:ValidatingWebhookConfiguration/harvester-validator:validator.harvesterhci.io",
    );
    // The broken link: the Service has no ready endpoint because every pod crash-loops.
    has(
        &v["summary"],
        "calls harvester-system/harvester-webhook, and its Service harvester-system/harvester-webhook has no ready endpoint",
    );
    has(&v["summary"], "CrashLoopBackOff; 25 restarts");
    has(&v["summary"], "failurePolicy is Fail");
    // The blocked operations in words, including the core group the generator writes "null".
    has(
        &v["summary"],
        "CREATE/UPDATE/DELETE of keypairs.harvesterhci.io, settings.harvesterhci.io, upgrades.harvesterhci.io",
    );
    has(
        &v["summary"],
        "CREATE/UPDATE/DELETE of persistentvolumeclaims (core), nodes (core) in all namespaces",
    );
    has(
        &v["summary"],
        "CREATE/UPDATE/DELETE of virtualmachines.kubevirt.io in all namespaces",
    );
    let files: Vec<&str> = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    for f in [
        "yamls/cluster/admissionregistration.k8s.io/v1/validatingwebhookconfigurations.yaml",
        "yamls/namespaced/harvester-system/v1/services.yaml",
        "yamls/namespaced/harvester-system/v1/endpoints.yaml",
        "yamls/namespaced/harvester-system/v1/pods.yaml",
    ] {
        assert!(files.contains(&f), "{f} not in {files:?}");
    }
    has(&v["remediation"], "--previous");
    // failurePolicy Ignore: lower severity, says validation is skipped.
    let m = by_id(
        &r,
        "webhook.unavailable:MutatingWebhookConfiguration/harvester-mutator:mutator.harvesterhci.io",
    );
    has(&m["summary"], "failurePolicy is Ignore");
    // The refused calls, from events and pod logs, tied to the webhook and the object.
    let d = by_id(
        &r,
        "webhook.denial:validator.harvesterhci.io:failed-connection-refused",
    );
    has(&d["summary"], "VirtualMachineImage default/image-w4r7t");
    assert!(
        d["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"] == "yamls/namespaced/default/v1/events.yaml")
    );
    // `sbdiag graph` shows the chain from the configuration to the crash-looping pods.
    let out = ok(&[
        "graph",
        "validatingwebhookconfiguration/harvester-validator",
        "-b",
        sample("webhook-down-v1.4.0").to_str().unwrap(),
        "--depth",
        "4",
    ]);
    for needle in [
        "calls Service harvester-system/harvester-webhook",
        "selects Pod harvester-system/harvester-webhook-mjvss9phlx-4xmmx: [progressing,error]",
        "Containers in CrashLoop",
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }
}

#[test]
fn node_down_blast_radius_reaches_the_vm() {
    let b = sample("node-down-vm-degraded-v1.4.0");
    let r = report(&b);
    let n = by_id(&r, "node.not-ready:Node/harvester-node-2");
    assert_eq!(n["severity"], "error");
    has(&n["summary"], "Kubelet stopped posting node status");
    has(&n["summary"], "26m before capture");
    has(
        &n["summary"],
        "Replica(s): pvc-8bae9db4-b53f-4af3-b368-559386e7fd37-r-d94fefc2",
    );
    let vol = by_id(
        &r,
        "storage.volume-health:Volume/longhorn-system/pvc-8bae9db4-b53f-4af3-b368-559386e7fd37",
    );
    has(
        &vol["summary"],
        "r-d94fefc2 on harvester-node-2 (node NotReady)",
    );
    has(&vol["summary"], "VirtualMachine(s): vm-web-01");
    // The graph walks VM storage down to the NotReady node.
    let out = ok(&[
        "graph",
        "vm/vm-web-01",
        "-n",
        "default",
        "-b",
        b.to_str().unwrap(),
        "--depth",
        "8",
    ]);
    for needle in [
        "stores on Volume longhorn-system/pvc-8bae9db4-b53f-4af3-b368-559386e7fd37: attached (degraded)",
        "owns Replica longhorn-system/pvc-8bae9db4-b53f-4af3-b368-559386e7fd37-r-d94fefc2: stopped",
        "runs on Node harvester-node-2: NotReady",
        // The engine serves the volume from the node it is attached to.
        "owns Engine longhorn-system/pvc-8bae9db4-b53f-4af3-b368-559386e7fd37-e-0: active\n              \
         runs on Node harvester-node-1: active",
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }
}

/// The evidence of a finding at `file`, line `line`.
fn evidence_at<'a>(f: &'a Value, file: &str, line: u64) -> &'a Value {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"] == file && e["line"] == line)
        .unwrap_or_else(|| panic!("no evidence {file}:{line} in {:#}", f["evidence"]))
}

#[test]
fn failing_pods_quote_the_log_line_that_explains_them() {
    const TLS: &str = "failed to run webhook server: failed to load TLS secret \
                       harvester-system/harvester-webhook-tls: tls: private key does not match \
                       public key";
    const LOG: &str =
        "logs/harvester-system/harvester-webhook-mjvss9phlx-4xmmx/harvester-webhook.log";
    let r = report(&sample("webhook-down-v1.4.0"));
    let v = by_id(
        &r,
        "webhook.unavailable:ValidatingWebhookConfiguration/harvester-validator:validator.harvesterhci.io",
    );
    // The title names the cause, the summary quotes it once for the three pods, with file:line.
    has(&v["title"], "tls: private key does not match public key");
    has(
        &v["summary"],
        &format!(
            "last fatal line of container harvester-webhook in 3 pods ({LOG}:6, \
             logs/harvester-system/harvester-webhook-mjvss9phlx-85l5w/harvester-webhook.log:6, \
             logs/harvester-system/harvester-webhook-mjvss9phlx-vbj7d/harvester-webhook.log:6): \
             \"{TLS}\""
        ),
    );
    has(&evidence_at(v, LOG, 6)["excerpt"], "level=fatal");
    // The pre-check's pod finding quotes it too.
    let p = by_id(
        &r,
        "upgrade.precheck.pod-status:Pod/harvester-system/harvester-webhook-mjvss9phlx-4xmmx",
    );
    has(
        &p["summary"],
        &format!("last fatal line of container harvester-webhook ({LOG}:6): \"{TLS}\""),
    );
    has(
        &evidence_at(p, LOG, 6)["excerpt"],
        "tls: private key does not match",
    );
    // A failed job's pod: kubectl's error is the last line of its log, and the cause.
    let r = report(&sample("upgrade-failed-leftovers-v1.4.0"));
    let p = by_id(
        &r,
        "upgrade.precheck.pod-status:Pod/harvester-system/hvst-upgrade-x7b2p-apply-manifests-f7r8l",
    );
    has(
        &p["summary"],
        "last error line of container apply \
         (logs/harvester-system/hvst-upgrade-x7b2p-apply-manifests-f7r8l/apply.log:42): \
         \"Error from server: etcdserver: leader changed\"",
    );
    // Pods on a dead node have ready containers: their logs do not say why the node is down.
    let r = report(&sample("node-down-vm-degraded-v1.4.0"));
    for f in r["findings"].as_array().unwrap() {
        assert!(
            !f["summary"].as_str().unwrap().contains("likely says why"),
            "{}",
            f["id"]
        );
    }
}
