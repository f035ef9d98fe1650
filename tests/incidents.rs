//! Incidents on every sample and the real bundle (DESIGN §3, §7): each error or warning finding
//! belongs to exactly one incident; the first incident is the problem the sample was made for;
//! no error incident is a symptom of another; the headline names the first incident.
mod common;

use std::collections::BTreeMap;

use common::{real_bundles, report, sample, samples};
use serde_json::Value;

fn incidents(r: &Value) -> &Vec<Value> {
    r["incidents"].as_array().expect("incidents")
}

/// (cause, effects) of each incident.
fn shape(r: &Value) -> Vec<(String, Vec<String>)> {
    incidents(r)
        .iter()
        .map(|i| {
            (
                i["cause"].as_str().unwrap().to_string(),
                i["effects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

fn check_invariants(name: &str, r: &Value) {
    let findings = r["findings"].as_array().unwrap();
    let mut holder: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for i in incidents(r) {
        let id = i["id"].as_str().unwrap();
        for m in std::iter::once(&i["cause"]).chain(i["effects"].as_array().unwrap()) {
            holder.entry(m.as_str().unwrap()).or_default().push(id);
        }
        // The incident is as bad as its worst finding.
        let worst = std::iter::once(&i["cause"])
            .chain(i["effects"].as_array().unwrap())
            .map(|m| {
                let f = findings.iter().find(|f| f["id"] == *m).unwrap();
                match f["severity"].as_str().unwrap() {
                    "error" => 2,
                    "warning" => 1,
                    _ => 0,
                }
            })
            .max()
            .unwrap();
        let sev = match i["severity"].as_str().unwrap() {
            "error" => 2,
            "warning" => 1,
            _ => 0,
        };
        assert_eq!(sev, worst, "{name}: {id}");
    }
    for f in findings {
        let id = f["id"].as_str().unwrap();
        let held = holder.get(id).cloned().unwrap_or_default();
        assert!(held.len() <= 1, "{name}: {id} is in {held:?}");
        if f["severity"] != "info" {
            assert_eq!(held.len(), 1, "{name}: {id} belongs to no incident");
        }
        assert_eq!(
            f.get("incident").and_then(Value::as_str),
            held.first().copied(),
            "{name}: {id}'s incident field"
        );
    }
    // Worst first, and the headline names the first.
    let sev: Vec<&str> = incidents(r)
        .iter()
        .map(|i| i["severity"].as_str().unwrap())
        .collect();
    let rank = |s: &str| ["error", "warning", "info"].iter().position(|x| *x == s);
    assert!(
        sev.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "{name}: {sev:?}"
    );
    match incidents(r).first() {
        Some(first) => {
            let title = first["title"].as_str().unwrap();
            let head = r["verdict"]["headline"].as_str().unwrap();
            let start: String = title.chars().take(60).collect();
            assert!(
                head.contains(&start),
                "{name}: headline {head:?} vs {title:?}"
            );
        }
        None => assert_eq!(r["verdict"]["headline"], "Healthy: nothing above info"),
    }
}

#[test]
fn every_finding_above_info_belongs_to_exactly_one_incident() {
    for s in samples() {
        let r = report(&s);
        check_invariants(&s.display().to_string(), &r);
    }
    for b in real_bundles() {
        check_invariants(&b.display().to_string(), &report(&b));
    }
}

/// The first incident's cause, for each sample: the problem the sample was made for.
#[test]
fn the_first_incident_is_the_problem_each_sample_was_made_for() {
    let want = [
        (
            "node-down-vm-degraded-v1.4.0",
            "node.not-ready:Node/harvester-node-2",
        ),
        (
            "upgrade-stuck-predrained-v1.4.0",
            "upgrade.stuck:Upgrade/harvester-system/hvst-upgrade-mq7xk",
        ),
        (
            "webhook-down-v1.4.0",
            "webhook.unavailable:ValidatingWebhookConfiguration/harvester-validator:validator.harvesterhci.io",
        ),
        (
            "fleet-stale-v1.4.0",
            "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/harvester-whereabouts",
        ),
        (
            "fleet-not-ready-v1.4.0",
            "fleet.not-ready:Bundle/fleet-local/mcc-harvester:Deployment/harvester-system/harvester-network-webhook",
        ),
        (
            "fleet-drift-v1.4.0",
            "fleet.modified:Bundle/fleet-local/mcc-harvester:Deployment/harvester-system/harvester-network-webhook",
        ),
        (
            "fleet-agent-down-v1.4.0",
            "fleet.apply-error:Cluster/fleet-local/local:agent",
        ),
        (
            "node-disk-errors-v1.4.0",
            "node.kernel-errors:Node/harvester-node-1:block-io:sdc",
        ),
    ];
    for (name, cause) in want {
        let r = report(&sample(name));
        let first = incidents(&r).first().unwrap_or_else(|| panic!("{name}"));
        assert_eq!(first["cause"], cause, "{name}");
        assert_eq!(first["severity"], "error", "{name}");
    }
    // The failed upgrade leads its leftovers, the denial they cause, its job's pods and
    // repository VM, and the charts it left paused.
    let r = report(&sample("upgrade-failed-leftovers-v1.4.0"));
    let first = &incidents(&r)[0];
    let cause = first["cause"].as_str().unwrap();
    assert!(
        cause.starts_with("upgrade.leftover:") && cause.contains("hvst-upgrade-x7b2p"),
        "{cause}"
    );
    assert!(
        first["title"]
            .as_str()
            .unwrap()
            .starts_with("Upgrade hvst-upgrade-x7b2p to v1.4.1 failed and left"),
        "{}",
        first["title"]
    );
    let effects: Vec<&str> = first["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(effects.contains(&"upgrade.admission:C12"), "{effects:?}");
    assert_eq!(
        effects
            .iter()
            .filter(|e| e.starts_with("upgrade.precheck.pod-status:"))
            .count(),
        7
    );
    assert!(
        effects
            .iter()
            .any(|e| e.starts_with("upgrade.precheck.virtual-machines:"))
    );
    assert!(effects.iter().any(|e| e.contains("paused")));
    // Healthy samples have none.
    for name in ["healthy-v1.4.0", "clean-v1.5.0"] {
        let r = report(&sample(name));
        assert!(incidents(&r).is_empty(), "{name}");
    }
}

#[test]
fn one_dead_node_is_one_incident() {
    let r = report(&sample("node-down-vm-degraded-v1.4.0"));
    let errors: Vec<&Value> = incidents(&r)
        .iter()
        .filter(|i| i["severity"] == "error")
        .collect();
    assert!(errors.len() <= 3, "{:#?}", shape(&r));
    let node = errors[0];
    let effects: Vec<&str> = node["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    // The pods on it, the DaemonSets Fleet still calls ready, the denials that quote it, the
    // degraded volume that lost its replica there, and the node bundle that could not be read.
    for want in [
        "upgrade.precheck.pod-status:Pod/kube-system/etcd-harvester-node-2",
        "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/kube-vip",
        "upgrade.admission:C14",
        "upgrade.admission:C7",
        "storage.volume-health:Volume/longhorn-system/pvc-8bae9db4-b53f-4af3-b368-559386e7fd37",
        "bundle.node-bundles:Node/harvester-node-2",
    ] {
        assert!(
            effects.iter().any(|e| e.starts_with(want) || *e == want),
            "{want} not under the node: {effects:#?}"
        );
    }
    let title = node["title"].as_str().unwrap();
    assert!(title.starts_with("Node harvester-node-2 "), "{title}");
    assert!(
        title.ends_with("a new upgrade is refused (C7, C14)"),
        "{title}"
    );
    assert!(
        node["impact"]
            .as_str()
            .unwrap()
            .contains("22 pods not Ready")
    );
}

#[test]
fn a_running_upgrade_owns_its_cordon_repository_vm_and_the_skew_it_causes() {
    let r = report(&sample("upgrade-stuck-predrained-v1.4.0"));
    let all = shape(&r);
    assert_eq!(all.len(), 1, "{all:#?}");
    let (cause, effects) = &all[0];
    assert_eq!(
        cause,
        "upgrade.stuck:Upgrade/harvester-system/hvst-upgrade-mq7xk"
    );
    for want in [
        "upgrade.admission:C3",
        "upgrade.admission:C15",
        "upgrade.precheck.node-status:Node/harvester-node-1:unschedulable",
        "node.version-skew:kubelet",
    ] {
        assert!(effects.iter().any(|e| e == want), "{want}: {effects:#?}");
    }
    // The cordon itself is the upgrade's state, an info finding outside the incidents.
    let cordon = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "node.cordoned:Node/harvester-node-1")
        .unwrap();
    assert_eq!(cordon["severity"], "info");
    assert!(
        effects
            .iter()
            .any(|e| e.starts_with("upgrade.precheck.virtual-machines:")
                && e.contains("upgrade-repo-hvst-upgrade-mq7xk"))
    );
}

#[test]
fn a_webhook_outage_holds_its_pods_chart_and_the_calls_it_failed() {
    let r = report(&sample("webhook-down-v1.4.0"));
    let all = shape(&r);
    assert_eq!(all.len(), 1, "{all:#?}");
    let effects = &all[0].1;
    for want in [
        "webhook.unavailable:MutatingWebhookConfiguration/harvester-mutator:mutator.harvesterhci.io",
        "fleet.not-ready:Bundle/fleet-local/mcc-harvester:Deployment/harvester-system/harvester-webhook",
        "upgrade.admission:C12",
    ] {
        assert!(effects.iter().any(|e| e == want), "{want}: {effects:#?}");
    }
    assert!(
        effects
            .iter()
            .any(|e| e.starts_with("webhook.denial:validator.harvesterhci.io:"))
    );
    assert_eq!(
        effects
            .iter()
            .filter(|e| e.starts_with("upgrade.precheck.pod-status:"))
            .count(),
        3
    );
}

#[test]
fn each_blocker_is_reported_once_with_the_checks_that_saw_it() {
    let r = report(&sample("upgrade-blocked-v1.4.0"));
    let all = shape(&r);
    // Seven causes: a degraded volume, a node in maintenance, a single-replica volume, a VM
    // that cannot migrate, a running backup, a running backup schedule, and the I/O errors of
    // node-2's disk sdb (which explain the filesystem errors on it; the kernel log does not say
    // which Longhorn disk sdb is, so they stay apart from the degraded volume).
    assert_eq!(all.len(), 7, "{all:#?}");
    let of = |cause_prefix: &str| {
        all.iter()
            .find(|(c, _)| c.starts_with(cause_prefix))
            .unwrap_or_else(|| panic!("{cause_prefix}: {all:#?}"))
            .1
            .clone()
    };
    let vol = of("storage.volume-health:");
    assert!(vol.contains(&"upgrade.admission:C7".to_string()));
    assert!(
        vol.iter()
            .any(|e| e.starts_with("upgrade.precheck.longhorn-volume-health:"))
    );
    assert!(vol.iter().any(|e| e.starts_with("webhook.denial:")));
    let node = of("node.cordoned:");
    assert!(node.contains(&"upgrade.admission:C15".to_string()));
    assert!(
        node.iter()
            .any(|e| e.starts_with("upgrade.precheck.node-status:"))
    );
    assert!(of("storage.single-replica:").contains(&"upgrade.admission:C22".to_string()));
    assert_eq!(
        of("node.kernel-errors:Node/harvester-node-2:block-io:sdb"),
        vec!["node.kernel-errors:Node/harvester-node-2:fs:sdb".to_string()]
    );
    // KubeVirt's own word that the GPU VM cannot migrate leads what the webhook (C24) and the
    // pre-check script say about it.
    let vm = of("vm.not-live-migratable:VirtualMachineInstance/default/vm-gpu-01");
    assert!(vm.contains(&"upgrade.admission:C24".to_string()), "{vm:?}");
    assert!(
        vm.iter()
            .any(|e| e.starts_with("upgrade.precheck.virtual-machines:")),
        "{vm:?}"
    );
}
