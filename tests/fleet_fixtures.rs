//! The Fleet rules on the reference fixtures of `../shared/data/fleet/` (synthetic objects in
//! the shapes Fleet writes, with the analyst's expected verdict in their header). Each fixture
//! is turned into a minimal bundle folder — metadata.yaml with the capture time the header
//! states, and one List file per (namespace, group, version, resource) — and analysed.
mod common;

use std::path::Path;

fn fixture(name: &str) -> Option<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/fleet")
        .join(name);
    match std::fs::read_to_string(&p) {
        Ok(s) => Some(s),
        Err(_) => {
            assert!(
                std::env::var_os("SBDIAG_REAL_BUNDLES").is_none(),
                "{} is missing",
                p.display()
            );
            eprintln!("skipping: {} not present", p.display());
            None
        }
    }
}

fn fleet_findings(r: &serde_json::Value) -> Vec<&serde_json::Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("fleet."))
        .collect()
}

#[test]
fn stale_not_ready_fixture_is_a_stale_claim() {
    let Some(text) = fixture("synthetic_stale-notready-mcc-harvester.yaml") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = common::build_bundle(&text, dir.path());
    let r = common::report(&root);
    let f = fleet_findings(&r);
    let stale: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "fleet.stale-status")
        .collect();
    assert_eq!(stale.len(), 1, "{f:#?}");
    let s = stale[0];
    assert_eq!(s["severity"], "error");
    assert_eq!(
        s["id"],
        "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/harvester-whereabouts"
    );
    let summary = s["summary"].as_str().unwrap();
    // Read from the captured BundleDeployment, the authoritative record.
    assert!(
        summary.contains("BundleDeployment cluster-fleet-local-local-1a3d67d0a899/mcc-harvester"),
        "{summary}"
    );
    assert!(summary.contains("Available: 6/7"), "{summary}");
    assert!(summary.contains("7/7 available"), "{summary}");
    assert!(summary.contains("after Fleet's claim"), "{summary}");
    // The fixture says no Harvester version: the effect is stated, no denial text quoted.
    assert!(
        summary.contains("Effect: ManagedChart harvester is reported not Ready"),
        "{summary}"
    );
    assert!(!summary.contains("denied the request"), "{summary}");
    assert!(
        s["remediation"]
            .as_str()
            .unwrap()
            .contains("forceSyncGeneration")
    );
    // Nothing else: the agent is alive (lastSeen 8 minutes before capture).
    assert!(
        !f.iter().any(|x| x["rule"] == "fleet.apply-error"),
        "{f:#?}"
    );
}

#[test]
fn stale_ready_agent_down_fixture_blames_the_agent() {
    let Some(text) = fixture("synthetic_stale-ready-agent-down.yaml") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = common::build_bundle(&text, dir.path());
    let r = common::report(&root);
    let f = fleet_findings(&r);
    let agent: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "fleet.apply-error")
        .collect();
    assert!(
        agent.iter().any(|x| x["severity"] == "error"
            && x["title"].as_str().unwrap().contains("not checking in")),
        "{f:#?}"
    );
    let stale: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "fleet.stale-status")
        .collect();
    assert!(
        stale.iter().any(|x| {
            let t = x["title"].as_str().unwrap();
            t.contains("reports Ready") && t.contains("harvester-network-controller")
        }),
        "{f:#?}"
    );
}

#[test]
fn forced_sync_and_controller_lag_are_reported() {
    let Some(text) = fixture("synthetic_stale-notready-mcc-harvester.yaml") else {
        return;
    };
    // The BundleDeployment got forceSyncGeneration 2 but never completed it; the Bundle asks
    // for 3, which fleet-controller has not propagated; the Cluster's summary forgot the bundle.
    let edited = text
        .replacen(
            "    defaultNamespace: harvester-system\n    helm: {releaseName: harvester, version: 1.4.0, timeoutSeconds: 600}\n  stagedOptions:",
            "    defaultNamespace: harvester-system\n    forceSyncGeneration: 2\n    helm: {releaseName: harvester, version: 1.4.0, timeoutSeconds: 600}\n  stagedOptions:",
            1,
        )
        .replacen(
            "spec:\n  defaultNamespace: harvester-system\n  helm:",
            "spec:\n  forceSyncGeneration: 3\n  defaultNamespace: harvester-system\n  helm:",
            1,
        )
        .replacen("    - name: mcc-harvester\n", "    - name: mcc-other\n", 1);
    assert_ne!(edited, text);
    let dir = tempfile::tempdir().unwrap();
    let root = common::build_bundle(&edited, dir.path());
    let r = common::report(&root);
    let ids: Vec<(String, String)> = fleet_findings(&r)
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().into(),
                f["id"].as_str().unwrap().into(),
            )
        })
        .collect();
    for want in [
        (
            "warning",
            "fleet.apply-error:BundleDeployment/cluster-fleet-local-local-1a3d67d0a899/mcc-harvester:sync",
        ),
        (
            "warning",
            "fleet.apply-error:BundleDeployment/cluster-fleet-local-local-1a3d67d0a899/mcc-harvester:propagation",
        ),
        (
            "warning",
            "fleet.stale-status:Cluster/fleet-local/local:mcc-harvester",
        ),
        (
            "error",
            "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/harvester-whereabouts",
        ),
    ] {
        assert!(
            ids.iter().any(|(s, i)| s == want.0 && i == want.1),
            "{want:?} missing from {ids:#?}"
        );
    }
    // The resync advice bumps past the Bundle's current value.
    let stale = fleet_findings(&r)
        .into_iter()
        .find(|f| {
            f["rule"] == "fleet.stale-status" && f["id"].as_str().unwrap().contains("DaemonSet")
        })
        .unwrap();
    assert!(
        stale["remediation"]
            .as_str()
            .unwrap()
            .contains("\"forceSyncGeneration\":4")
    );
}
