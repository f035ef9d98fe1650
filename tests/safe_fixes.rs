//! Fixes that are safe in context (issue 14, item 3), on every sample and the real bundle:
//! remediations follow the convention (one step per line, a command alone on a `$ ` line),
//! hold the bundle's values instead of placeholders, and never undo what a running upgrade
//! owns or delete a pod whose node is the problem.
mod common;

use common::{real_bundles, report, sample, samples};
use serde_json::Value;

fn findings(r: &Value) -> &Vec<Value> {
    r["findings"].as_array().expect("findings")
}

fn remediation(f: &Value) -> &str {
    f["remediation"].as_str().unwrap_or_default()
}

/// Prose of a line with its `inline code` spans removed.
fn prose(line: &str) -> String {
    let mut out = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        }
    }
    out
}

/// A placeholder: `<name>`, `<node>`, `<current+1>`, `<instance-manager-…>`, or `BUNDLE`.
fn placeholder(line: &str) -> Option<String> {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'<'
            && b.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic())
            && let Some(end) = line[i..].find('>')
            && end <= 60
            && !line[i + 1..i + end].contains('<')
        {
            return Some(line[i..=i + end].to_string());
        }
    }
    line.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| w == "BUNDLE")
        .then(|| "BUNDLE".to_string())
}

fn check_bundle(name: &str, r: &Value) {
    let incidents = r["incidents"].as_array().cloned().unwrap_or_default();
    for f in findings(r).iter().chain(&incidents) {
        let id = f["id"].as_str().unwrap_or_default();
        for line in remediation(f).lines() {
            assert!(
                placeholder(line).is_none(),
                "{name}: {id}: placeholder {:?} in {line:?}",
                placeholder(line)
            );
            if let Some(cmd) = line.strip_prefix("$ ") {
                assert!(!cmd.trim().is_empty(), "{name}: {id}: empty command line");
                // A namespace flag always names one (a cluster-scoped object takes none).
                assert!(
                    !cmd.contains(" -n  ") && !cmd.trim_end().ends_with(" -n"),
                    "{name}: {id}: empty namespace in {cmd:?}"
                );
                if cmd.starts_with("sbdiag logs") || cmd.starts_with("sbdiag describe") {
                    assert!(cmd.contains(" -b "), "{name}: {id}: {cmd:?} lacks -b");
                }
            } else {
                let p = prose(line);
                for word in ["kubectl ", "sbdiag ", "helm ", "crictl "] {
                    assert!(
                        !p.contains(word),
                        "{name}: {id}: a command in prose outside a `$ ` line or backticks: \
                         {line:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn no_placeholder_and_every_command_on_its_own_line_in_every_sample() {
    let all = samples();
    assert!(all.len() >= 10, "samples/ holds {} bundles", all.len());
    for s in &all {
        let name = s.file_name().unwrap().to_string_lossy().into_owned();
        check_bundle(&name, &report(s));
    }
}

#[test]
fn no_placeholder_and_every_command_on_its_own_line_in_the_real_bundle() {
    for b in real_bundles() {
        check_bundle(&b.display().to_string(), &report(&b));
    }
}

#[test]
fn sbdiag_commands_name_the_analysed_bundle() {
    let r = report(&sample("webhook-down-v1.4.0"));
    let f = findings(&r)
        .iter()
        .find(|f| f["rule"] == "webhook.unavailable" && f["severity"] == "error")
        .expect("webhook.unavailable");
    assert!(
        remediation(f).contains(
            "\n$ sbdiag logs -b webhook-down-v1.4.0 -n harvester-system harvester-webhook-"
        ),
        "{}",
        remediation(f)
    );
}

/// The running upgrade's name, its repository VM and the nodes it drains, on
/// upgrade-stuck-predrained.
const UPGRADE: &str = "hvst-upgrade-mq7xk";
const REPO_VM: &str = "upgrade-repo-hvst-upgrade-mq7xk";

#[test]
fn nothing_a_running_upgrade_owns_is_offered_for_undoing() {
    let r = report(&sample("upgrade-stuck-predrained-v1.4.0"));
    let all = findings(&r);
    let incidents = r["incidents"].as_array().cloned().unwrap_or_default();
    for f in all.iter().chain(&incidents) {
        let id = f["id"].as_str().unwrap_or_default();
        let fix = remediation(f);
        for line in fix.lines() {
            if let Some(cmd) = line.strip_prefix("$ ") {
                assert!(!cmd.contains("uncordon"), "{id}: {line}");
                assert!(
                    !(cmd.contains(" delete ") && cmd.contains(UPGRADE)),
                    "{id}: deletes what upgrade {UPGRADE} owns: {line}"
                );
                assert!(
                    !(cmd.contains(REPO_VM) && (cmd.contains("stop") || cmd.contains("delete"))),
                    "{id}: {line}"
                );
            }
            let lower = line.to_lowercase();
            if lower.contains("shut") || lower.contains("stop") {
                assert!(
                    !line.contains(REPO_VM) || line.contains("Do not stop"),
                    "{id}: {line}"
                );
            }
        }
        // A finding about the repository VM (its first object) never asks to shut it down.
        let about_repo = f["objects"][0]["name"] == REPO_VM;
        if about_repo {
            assert!(!fix.to_lowercase().contains("shut"), "{id}: {fix}");
            assert!(fix.contains("Do not stop"), "{id}: {fix}");
        }
    }
    // The cordon is the upgrade's state, not a problem.
    let cordon = all
        .iter()
        .find(|f| f["id"] == "node.cordoned:Node/harvester-node-1")
        .expect("node.cordoned");
    assert_eq!(cordon["severity"], "info");
    assert_eq!(
        cordon["title"],
        "Node harvester-node-1 is cordoned by upgrade hvst-upgrade-mq7xk (node state Pre-drained)"
    );
    assert!(
        cordon["summary"]
            .as_str()
            .unwrap()
            .contains("lifted when the node's upgrade completes")
    );
    // The webhook and the pre-check do refuse, but their fix is the upgrade.
    for id in [
        "upgrade.admission:C15",
        "upgrade.precheck.node-status:Node/harvester-node-1:unschedulable",
    ] {
        let f = all.iter().find(|f| f["id"] == id).expect(id);
        assert_eq!(f["severity"], "error", "{id}");
        let fix = remediation(f);
        assert!(fix.contains("upgrade.stuck"), "{id}: {fix}");
        assert!(fix.contains("not an uncordon"), "{id}: {fix}");
    }
}

#[test]
fn pods_on_a_dead_node_are_the_nodes_problem() {
    let r = report(&sample("node-down-vm-degraded-v1.4.0"));
    let pods: Vec<&Value> = findings(&r)
        .iter()
        .filter(|f| f["rule"] == "upgrade.precheck.pod-status")
        .collect();
    assert!(pods.len() >= 20, "{}", pods.len());
    for f in &pods {
        let id = f["id"].as_str().unwrap();
        let title = f["title"].as_str().unwrap();
        assert!(
            title.ends_with("is on NotReady node harvester-node-2"),
            "{id}: {title}"
        );
        assert_eq!(f["severity"], "warning", "{id}");
        let fix = remediation(f);
        assert!(
            fix.starts_with("The fix is node harvester-node-2, not the pod"),
            "{id}: {fix}"
        );
        let deletes = fix
            .lines()
            .any(|l| l.starts_with("$ ") && l.contains("delete pod"));
        // Only a Terminating pod of a workload gets the documented last resort, worded so.
        if deletes {
            assert!(
                fix.contains("Only if harvester-node-2 is gone for good"),
                "{id}"
            );
            assert!(fix.contains("--force --grace-period=0"), "{id}");
        }
    }
    // Static (mirror) pods and DaemonSet pods are never deleted.
    for pod in [
        "kube-system/etcd-harvester-node-2",
        "kube-system/kube-apiserver-harvester-node-2",
        "kube-system/rke2-canal-fgfrc",
        "longhorn-system/longhorn-manager-bfs4f",
    ] {
        let id = format!("upgrade.precheck.pod-status:Pod/{pod}");
        let f = pods.iter().find(|f| f["id"] == id.as_str()).expect(&id);
        assert!(
            !remediation(f).contains("delete"),
            "{id}: {}",
            remediation(f)
        );
    }
}
