//! Fleet verdicts on the project's samples and on the real bundle: the exact findings each
//! scenario must give (rule, severity, id) and the facts their text must carry.
mod common;

use common::by_id;
use common::{ok, real_bundles, report, sample};
use serde_json::Value;

fn fleet(r: &Value) -> Vec<&Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("fleet."))
        .collect()
}

/// (severity, id) of every fleet.* finding, sorted.
fn ids(r: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = fleet(r)
        .iter()
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

fn pair(sev: &str, id: &str) -> (String, String) {
    (sev.to_string(), id.to_string())
}

fn check(r: &Value, rule: &str) -> String {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == rule)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn healthy_sample_has_no_fleet_finding() {
    let r = report(&sample("healthy-v1.4.0"));
    assert!(ids(&r).is_empty(), "{:?}", ids(&r));
    for rule in [
        "fleet.stale-status",
        "fleet.not-ready",
        "fleet.modified",
        "fleet.apply-error",
    ] {
        assert_eq!(check(&r, rule), "pass", "{rule}");
    }
}

#[test]
fn seed_case_stale_claim_blocks_the_upgrade() {
    let bundle = sample("fleet-stale-v1.4.0");
    let r = report(&bundle);
    let id = "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/harvester-whereabouts";
    assert_eq!(ids(&r), vec![pair("error", id)]);
    let f = by_id(&r, id);
    // The first error of the report: the first thing a reader sees.
    assert_eq!(r["findings"][0]["id"], id);
    has(&f["title"], "Stale Fleet status blocks upgrades");
    has(&f["title"], "DaemonSet kube-system/harvester-whereabouts");
    has(&f["title"], "Available: 6/7");
    has(&f["title"], "7/7 available");
    let s = &f["summary"];
    has(s, "recorded 2025-02-12T09:44:34Z");
    has(
        s,
        "2025-02-12T09:45:12Z (1d23h before capture): pod harvester-whereabouts-fr2dl became Ready on harvester-node-5, after Fleet's claim",
    );
    has(s, "no periodic re-check since Fleet v0.10");
    has(s, "Fleet v0.10.2");
    has(s, "A resync clears it");
    has(
        s,
        "denied the request: managed chart harvester is not ready, please wait for it to be ready",
    );
    let fix = &f["remediation"];
    has(
        fix,
        "kubectl -n fleet-local patch bundles.fleet.cattle.io mcc-harvester --type merge -p '{\"spec\":{\"forceSyncGeneration\":1}}'",
    );
    has(
        fix,
        "kubectl -n cattle-fleet-local-system rollout restart statefulset/fleet-agent",
    );
    has(fix, "Never delete the BundleDeployment");
    // Evidence: the claim in the Bundle and the ManagedChart, the DaemonSet's status, the pod
    // that recovered after the claim, the agent's heartbeat.
    let ev: Vec<String> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["file"].as_str().unwrap(), e["line"]))
        .collect();
    assert_eq!(ev.len(), 5, "{ev:?}");
    assert!(
        ev[0].starts_with("yamls/namespaced/fleet-local/fleet.cattle.io/v1alpha1/bundles.yaml:")
    );
    assert!(
        ev[1].starts_with(
            "yamls/namespaced/fleet-local/management.cattle.io/v3/managedcharts.yaml:"
        )
    );
    assert!(ev[2].starts_with("yamls/namespaced/kube-system/apps/v1/daemonsets.yaml:"));
    assert!(ev[3].starts_with("yamls/namespaced/kube-system/v1/pods.yaml:"));
    assert!(
        ev[4].starts_with("yamls/namespaced/fleet-local/fleet.cattle.io/v1alpha1/clusters.yaml:")
    );
    has(&f["evidence"][0]["excerpt"], "[progressing] Available: 6/7");
    has(&f["evidence"][2]["excerpt"], "numberAvailable: 7");
    has(
        &f["evidence"][3]["excerpt"],
        "lastTransitionTime: \"2025-02-12T09:45:12Z\"",
    );
    // The terminal summary puts the verdict and the fix on its first finding lines.
    let out = tempfile::tempdir().unwrap();
    let text = ok(&[
        "analyze",
        bundle.to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
    ]);
    let lines: Vec<&str> = text.lines().collect();
    // The headline names the cause (the first incident), with what it costs the upgrade.
    assert!(
        lines[0].starts_with("Stale Fleet status blocks upgrades: ManagedChart harvester claims")
            && lines[0].contains("a new upgrade is refused (C12)"),
        "{text}"
    );
    // The first problem listed is the stale claim, and its fix (every step) follows it.
    let first = lines
        .iter()
        .position(|l| l.starts_with("ERROR  "))
        .expect("an error");
    assert!(
        lines[first].starts_with("ERROR  Stale Fleet status blocks upgrades"),
        "{text}"
    );
    let fix = lines[first..]
        .iter()
        .position(|l| l.trim() == "fix:")
        .map(|i| first + i)
        .expect("a fix");
    assert!(
        lines[fix + 1..]
            .iter()
            .take_while(|l| l.starts_with("         "))
            .any(|l| l
                .contains("kubectl -n fleet-local patch bundles.fleet.cattle.io mcc-harvester")),
        "{text}"
    );
}

#[test]
fn agent_down_fleet_says_ready_while_a_daemonset_is_two_of_three() {
    let r = report(&sample("fleet-agent-down-v1.4.0"));
    assert_eq!(
        ids(&r),
        vec![
            pair("error", "fleet.apply-error:Cluster/fleet-local/local:agent"),
            pair(
                "error",
                "fleet.stale-status:Bundle/fleet-local/fleet-agent-local:StatefulSet/cattle-fleet-local-system/fleet-agent"
            ),
            pair(
                "error",
                "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/harvester-system/harvester-network-controller"
            ),
        ]
    );
    let a = by_id(&r, "fleet.apply-error:Cluster/fleet-local/local:agent");
    has(
        &a["title"],
        "not checking in: last seen 2d12h before capture",
    );
    has(&a["summary"], "2025-02-11T21:41:07Z");
    has(
        &a["summary"],
        "fleet-agent-0: CrashLoopBackOff; 693 restarts",
    );
    has(
        &a["remediation"],
        "kubectl -n cattle-fleet-local-system rollout restart statefulset/fleet-agent",
    );
    has(&a["remediation"], "redeployAgentGeneration");
    let s = by_id(
        &r,
        "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/harvester-system/harvester-network-controller",
    );
    has(&s["title"], "reports Ready");
    has(&s["title"], "2/3 available");
    has(
        &s["summary"],
        "Ready condition True since 2024-11-19T16:52:12Z",
    );
    has(
        &s["summary"],
        "the fleet-agent last checked in at 2025-02-11T21:41:07Z",
    );
    has(
        &s["summary"],
        "pod harvester-network-controller-n2fvl became not Ready on harvester-node-1",
    );
    has(
        &s["summary"],
        "harvester-network-controller-n2fvl: CrashLoopBackOff",
    );
    has(&s["remediation"], "First bring the fleet-agent back");
}

#[test]
fn drift_benign_ca_bundle_and_edited_image() {
    let r = report(&sample("fleet-drift-v1.4.0"));
    let img = "fleet.modified:Bundle/fleet-local/mcc-harvester:Deployment/harvester-system/harvester-network-webhook";
    let ca = "fleet.modified:Bundle/fleet-local/mcc-harvester:ValidatingWebhookConfiguration/harvester-snapshot-validation-webhook";
    let sc = "fleet.modified:Bundle/fleet-local/mcc-harvester:StorageClass/harvester-longhorn";
    assert_eq!(
        ids(&r),
        vec![pair("error", img), pair("error", sc), pair("warning", ca)]
    );
    // harvester/harvester#7072: StorageClass parameters are immutable, so no plain resync.
    let s = by_id(&r, sc);
    has(&s["summary"], "parameters.numberOfReplicas: 3 → 2");
    has(&s["remediation"], "Do not only force a redeploy");
    has(&s["remediation"], "updates to parameters are forbidden");
    has(&s["remediation"], "- /parameters/numberOfReplicas");
    let c = by_id(&r, ca);
    has(&c["title"], "Benign drift");
    has(&c["summary"], "webhooks[0].clientConfig.caBundle");
    has(&c["summary"], "Classification: benign");
    has(&c["remediation"], "- /webhooks/0/clientConfig/caBundle");
    has(&c["remediation"], "comparePatches");
    let i = by_id(&r, img);
    has(&i["title"], "Chart drift");
    has(
        &i["summary"],
        "spec.template.spec.containers[0].image: rancher/harvester-network-webhook:v0.5.4 → rancher/harvester-network-webhook:v0.5.4-hotfix1",
    );
    has(&i["summary"], "Classification: not benign");
    has(&i["remediation"], "forceSyncGeneration");
    // The live object's evidence points at the edited image line.
    let ev = i["evidence"].as_array().unwrap().last().unwrap();
    has(
        &ev["excerpt"],
        "image: rancher/harvester-network-webhook:v0.5.4-hotfix1",
    );
}

#[test]
fn genuine_not_ready_names_the_image_pull_failure() {
    let r = report(&sample("fleet-not-ready-v1.4.0"));
    let id = "fleet.not-ready:Bundle/fleet-local/mcc-harvester:Deployment/harvester-system/harvester-network-webhook";
    assert_eq!(ids(&r), vec![pair("error", id)]);
    let f = by_id(&r, id);
    has(&f["title"], "0/1 ready");
    has(&f["title"], "ImagePullBackOff");
    has(
        &f["summary"],
        "Fleet is right: a resync will not make it Ready",
    );
    has(
        &f["summary"],
        "harvester-network-webhook-d7m5czbs54-k5z27: ImagePullBackOff",
    );
    has(&f["summary"], "on harvester-node-0");
    has(&f["summary"], "no such host");
    has(&f["remediation"], "air-gapped");
}

#[test]
fn describe_shows_the_fleet_chain() {
    let out = ok(&[
        "describe",
        "managedchart",
        "harvester",
        "-n",
        "fleet-local",
        "-b",
        sample("fleet-stale-v1.4.0").to_str().unwrap(),
    ]);
    let graph = &out[out.find("Graph:").expect("graph section")..];
    assert!(graph.contains("  ManagedChart.management.cattle.io fleet-local/harvester:"));
    assert!(graph.contains("    deploys Bundle.fleet.cattle.io fleet-local/mcc-harvester:"));
    assert!(graph.contains(
        "      deploys DaemonSet.apps kube-system/harvester-whereabouts: active  [Fleet claims [progressing] Available: 6/7 — stale]"
    ));
    assert!(graph.contains(
        "        owns Pod kube-system/harvester-whereabouts-fr2dl: running (on harvester-node-5)"
    ));
    let ds = ok(&[
        "describe",
        "ds",
        "harvester-whereabouts",
        "-n",
        "kube-system",
        "-b",
        sample("fleet-stale-v1.4.0").to_str().unwrap(),
    ]);
    assert!(ds.contains("  ^ deployed by Bundle.fleet.cattle.io fleet-local/mcc-harvester"));
}

#[test]
fn real_bundle_fleet_verdicts() {
    for b in real_bundles() {
        let r = report(&b);
        assert_eq!(
            ids(&r),
            vec![
                pair(
                    "error",
                    "fleet.not-ready:Bundle/fleet-local/mcc-rancher-monitoring:PersistentVolumeClaim/cattle-monitoring-system/rancher-monitoring-grafana"
                ),
                pair(
                    "error",
                    "fleet.stale-status:Bundle/fleet-local/mcc-harvester:ConfigMap/longhorn-system/longhorn-storageclass"
                ),
                pair(
                    "warning",
                    "fleet.modified:Bundle/fleet-local/mcc-rancher-monitoring:MutatingWebhookConfiguration/rancher-monitoring-admission"
                ),
                pair(
                    "warning",
                    "fleet.modified:Bundle/fleet-local/mcc-rancher-monitoring:ValidatingWebhookConfiguration/rancher-monitoring-admission"
                ),
            ]
        );
        // Grafana's PVC has been terminating for 14 days, held by pvc-protection while the
        // Grafana pod still mounts it: Fleet is right.
        let pvc = by_id(
            &r,
            "fleet.not-ready:Bundle/fleet-local/mcc-rancher-monitoring:PersistentVolumeClaim/cattle-monitoring-system/rancher-monitoring-grafana",
        );
        has(
            &pvc["summary"],
            "Deletion requested 2022-03-08T00:02:31Z (14d before capture)",
        );
        has(
            &pvc["summary"],
            "kubernetes.io/pvc-protection holds it while pods still use it: rancher-monitoring-grafana-d9c56d79b-rt4pt",
        );
        // The real bundle runs a development build: the effect is stated without quoting a
        // denial text no known version is sure to return.
        has(
            &pvc["summary"],
            "Effect: ManagedChart rancher-monitoring is reported not Ready. Harvester's upgrade \
             webhook (v1.1.2+) refuses a new Upgrade",
        );
        assert!(
            !pvc["summary"]
                .as_str()
                .unwrap()
                .contains("denied the request")
        );
        // longhorn-storageclass exists: a post-install hook, created by Helm without Fleet's
        // labels, so Fleet calls it missing.
        let cm = by_id(
            &r,
            "fleet.stale-status:Bundle/fleet-local/mcc-harvester:ConfigMap/longhorn-system/longhorn-storageclass",
        );
        has(&cm["title"], "Helm hook");
        has(&cm["summary"], "is a Helm hook (post-install,post-upgrade)");
        // A known issue (harvester#2088): the upstream fix, never "label it Fleet's".
        has(
            &cm["summary"],
            "Known issue: Harvester's chart replaces Longhorn's",
        );
        has(&cm["remediation"], "longhorn/longhorn#3880");
        has(
            &cm["remediation"],
            "Do not give the hook ConfigMap Fleet's labels",
        );
        assert!(
            !cm["remediation"]
                .as_str()
                .unwrap()
                .contains("kubectl annotate"),
            "{cm}"
        );
        assert_eq!(
            cm["references"],
            serde_json::json!([
                "https://github.com/harvester/harvester/issues/2088",
                "https://github.com/longhorn/longhorn/issues/3880"
            ])
        );
        // The claim's evidence is the status message, not the spec's template of that name.
        for e in cm["evidence"].as_array().unwrap().iter().take(2) {
            has(&e["excerpt"], "longhorn-system/longhorn-storageclass");
            assert!(!e["excerpt"].as_str().unwrap().contains("content:"), "{e}");
        }
        // The monitoring webhooks differ only in failurePolicy Ignore → Fail, which
        // kube-webhook-certgen writes: benign.
        for kind in [
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ] {
            let w = by_id(
                &r,
                &format!(
                    "fleet.modified:Bundle/fleet-local/mcc-rancher-monitoring:{kind}/rancher-monitoring-admission"
                ),
            );
            has(&w["summary"], "webhooks[0].failurePolicy: Ignore → Fail");
            has(&w["summary"], "Classification: benign");
            has(&w["remediation"], "- /webhooks/0/failurePolicy");
        }
        // Fleet ≤ v0.9 (the agent reports node counts): the 30-minute resync era.
        assert!(ids(&r).iter().all(|(_, id)| !id.contains("apply-error")));
    }
}
