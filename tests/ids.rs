//! Finding ids (DESIGN §3): unique within a report, and the same across two captures of one
//! cluster whose gap counts differ, so `diff` and `scan` line the findings up.
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dst = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// Another capture of the healthy cluster (at the same time, so that no age crosses a
/// threshold): one more started pod in kube-system and one in longhorn-system without logs,
/// and one more previous-instance log the generator could not fetch. Every gap is the same;
/// only its counts differ.
fn later_capture(dir: &Path) -> PathBuf {
    let root = dir.join("supportbundle_healthy_again");
    copy_tree(&sample("healthy-v1.4.0"), &root);
    for pod in [
        "logs/kube-system/harvester-whereabouts-6mp6s",
        "logs/longhorn-system/longhorn-manager-psvgv",
    ] {
        std::fs::remove_dir_all(root.join(pod)).unwrap_or_else(|e| panic!("{pod}: {e}"));
    }
    let log = root.join("bundleGenerationError.log");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str(
        "BUG: Support bundle: cannot get log for pod rke2-canal-tn2z4 container calico-node: \
         previous terminated container \"calico-node\" in pod \"rke2-canal-tn2z4\" not found\n",
    );
    std::fs::write(&log, text).unwrap();
    root
}

fn findings(r: &serde_json::Value) -> &Vec<serde_json::Value> {
    r["findings"].as_array().unwrap()
}

fn ids(r: &serde_json::Value) -> BTreeSet<String> {
    findings(r)
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn summary_of<'a>(r: &'a serde_json::Value, id: &str) -> &'a str {
    findings(r)
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))["summary"]
        .as_str()
        .unwrap()
}

#[test]
fn ids_are_the_same_in_two_captures_whose_gap_counts_differ() {
    let t = tempfile::tempdir().unwrap();
    let first = sample("healthy-v1.4.0");
    let later = later_capture(t.path());
    let (a, b) = (report(&first), report(&later));
    assert_eq!(ids(&a), ids(&b));
    // The gaps did change, in their text only.
    let kube = "bundle.pod-logs:Namespace/kube-system";
    assert!(summary_of(&a, kube).starts_with("logs of 18 started pod(s) in kube-system:"));
    assert!(summary_of(&b, kube).starts_with("logs of 19 started pod(s) in kube-system:"));
    let lh = "bundle.pod-logs:Namespace/longhorn-system";
    assert!(summary_of(&a, lh).starts_with("logs of 10 started pod(s)"));
    assert!(summary_of(&b, lh).starts_with("logs of 11 started pod(s)"));
    let prev = "bundle.collection-errors:previous-pod-logs";
    assert!(summary_of(&a, prev).starts_with("previous pod logs: 1 collection error(s)"));
    assert!(summary_of(&b, prev).starts_with("previous pod logs: 2 collection error(s)"));

    // diff lines them up: nothing appeared or resolved.
    let (fa, fb) = (first.to_str().unwrap(), later.to_str().unwrap());
    let d: serde_json::Value =
        serde_json::from_str(&ok(&["diff", fa, fb, "--format", "json"])).unwrap();
    assert_eq!(d["findings"]["appeared"], serde_json::json!([]), "{d:#}");
    assert_eq!(d["findings"]["resolved"], serde_json::json!([]), "{d:#}");
    assert_eq!(d["findings"]["unchanged"], findings(&a).len());

    // scan lines them up: one matrix row per finding, naming both bundles.
    let out = t.path().join("scan");
    ok(&[
        "scan",
        fa,
        fb,
        "-o",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(out.join("scan.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(ids(&rows[0]), ids(&rows[1]));
    assert_eq!(ids(&rows[0]), ids(&a));
    let html = std::fs::read_to_string(out.join("scan.html")).unwrap();
    let code = format!("<code>{}</code>", kube.replace('/', "&#x2f;"));
    assert_eq!(html.matches(&code).count(), 1, "{code} once in scan.html");
}

#[test]
fn pre_check_and_leftover_ids_are_the_same_in_two_captures() {
    // The failed-upgrade cluster captured again with one more pod's logs missing: the
    // pre-check and leftover findings are the same, so are their ids.
    let t = tempfile::tempdir().unwrap();
    let first = sample("upgrade-failed-leftovers-v1.4.0");
    let later = t.path().join("supportbundle_leftovers_again");
    copy_tree(&first, &later);
    std::fs::remove_dir_all(later.join("logs/kube-system/rke2-canal-tn2z4")).unwrap();
    let (a, b) = (report(&first), report(&later));
    let ours = |r: &serde_json::Value| -> BTreeSet<String> {
        ids(r)
            .into_iter()
            .filter(|id| id.starts_with("upgrade.precheck.") || id.starts_with("upgrade.leftover:"))
            .collect()
    };
    assert_eq!(ours(&a), ours(&b));
    for id in [
        "upgrade.leftover:ManagedChart/fleet-local/harvester:paused",
        "upgrade.leftover:Node/harvester-node-0:pending-os",
        "upgrade.leftover:Upgrade/harvester-system/hvst-upgrade-x7b2p:failed",
        "upgrade.precheck.virtual-machines:VirtualMachine/harvester-system/upgrade-repo-hvst-upgrade-x7b2p",
    ] {
        assert!(ours(&b).contains(id), "{id} in {:#?}", ours(&b));
    }
    // Only the gap changed.
    assert_ne!(
        summary_of(&a, "bundle.pod-logs:Namespace/kube-system"),
        summary_of(&b, "bundle.pod-logs:Namespace/kube-system")
    );
}

/// Subjects of pre-check and leftover ids that name no one object.
const KEYS: &[&str] = &[
    "count",
    "witness-count",
    "not-evaluated",
    "longhorn-eviction:not-evaluated",
    "latest-upgrade",
];

#[test]
fn pre_check_and_leftover_ids_name_their_object_first() {
    let mut bundles = samples();
    bundles.extend(real_bundles());
    let mut seen = 0;
    for b in bundles {
        let r = report(&b);
        for f in findings(&r) {
            let (id, rule) = (f["id"].as_str().unwrap(), f["rule"].as_str().unwrap());
            if !(rule.starts_with("upgrade.precheck.") || rule == "upgrade.leftover") {
                continue;
            }
            let subject = &id[rule.len() + 1..];
            if KEYS.contains(&subject) {
                continue;
            }
            let objects: Vec<String> = f["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| match o["namespace"].as_str() {
                    Some(ns) => format!(
                        "{}/{ns}/{}",
                        o["kind"].as_str().unwrap(),
                        o["name"].as_str().unwrap()
                    ),
                    None => format!(
                        "{}/{}",
                        o["kind"].as_str().unwrap(),
                        o["name"].as_str().unwrap()
                    ),
                })
                .collect();
            // The object first (a missing one is named the way it would be), an aspect after.
            let object = subject.split(':').next().unwrap();
            assert!(
                objects.iter().any(|o| o == object)
                    || (objects.is_empty()
                        && object.starts_with(char::is_uppercase)
                        && object.contains('/')),
                "{}: {id} does not start with one of its objects {objects:?}",
                b.display()
            );
            seen += 1;
        }
    }
    assert!(seen > 50, "only {seen} ids checked");
}

#[test]
fn ids_are_unique_in_every_report() {
    let mut bundles = samples();
    bundles.extend(real_bundles());
    for b in bundles {
        let r = report(&b);
        let mut seen = BTreeSet::new();
        for f in findings(&r) {
            let id = f["id"].as_str().unwrap();
            assert!(seen.insert(id), "{}: {id} twice", b.display());
            let rule = f["rule"].as_str().unwrap();
            assert!(
                id.strip_prefix(rule)
                    .is_some_and(|s| s.starts_with(':') && s.len() > 1),
                "{id} is not {rule}:subject"
            );
            assert!(!id.contains(char::is_whitespace), "{id} holds prose");
        }
    }
}

#[test]
fn configurations_of_two_kinds_with_one_name_keep_two_ids() {
    // The webhook-down cluster with a MutatingWebhookConfiguration that copies the
    // ValidatingWebhookConfiguration harvester-validator, names included (the real bundle's
    // rancher-monitoring-admission is such a pair): both are unavailable, two findings.
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("supportbundle_webhook_pair");
    copy_tree(&sample("webhook-down-v1.4.0"), &root);
    let dir = root.join("yamls/cluster/admissionregistration.k8s.io/v1");
    let validating =
        std::fs::read_to_string(dir.join("validatingwebhookconfigurations.yaml")).unwrap();
    let items: Vec<&str> = validating.split("\n- apiVersion: ").collect();
    let item = items
        .iter()
        .find(|i| i.contains("\n    name: harvester-validator\n"))
        .unwrap()
        .replace(
            "kind: ValidatingWebhookConfiguration",
            "kind: MutatingWebhookConfiguration",
        );
    let mutating_file = dir.join("mutatingwebhookconfigurations.yaml");
    let mutating = std::fs::read_to_string(&mutating_file).unwrap();
    let at = mutating.find("\nkind: List\n").unwrap();
    let mutating = format!(
        "{}\n- apiVersion: {}{}",
        &mutating[..at],
        item.trim_end(),
        &mutating[at..]
    );
    std::fs::write(&mutating_file, mutating).unwrap();
    let r = report(&root);
    let unavailable: Vec<&str> = findings(&r)
        .iter()
        .filter(|f| f["rule"] == "webhook.unavailable")
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        unavailable,
        [
            "webhook.unavailable:MutatingWebhookConfiguration/harvester-validator:validator.harvesterhci.io",
            "webhook.unavailable:ValidatingWebhookConfiguration/harvester-validator:validator.harvesterhci.io",
            "webhook.unavailable:MutatingWebhookConfiguration/harvester-mutator:mutator.harvesterhci.io",
        ]
    );
}
