//! Upgrade readiness on the samples: the exact denials the running version's webhook would
//! return (and how they change with --from-version), the upgrade in progress and what it waits
//! on, leftovers, pre-checks and known issues.
mod common;

use common::by_id;
use common::{ok, report, sample, sbdiag};
use serde_json::Value;

fn with(rule_prefix: &str, r: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with(rule_prefix))
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

fn report_with(bundle: &str, args: &[&str]) -> Value {
    let p = sample(bundle);
    let mut a = vec!["analyze", p.to_str().unwrap(), "--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&ok(&a)).unwrap()
}

/// Denial ids and texts of upgrade.admission, in the report's (webhook's) order.
fn denials(r: &Value) -> Vec<(String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "upgrade.admission" && f["severity"] == "error")
        .map(|f| {
            let id = f["id"]
                .as_str()
                .unwrap()
                .trim_start_matches("upgrade.admission:");
            let title = f["title"].as_str().unwrap();
            let text = title.split_once("): ").map(|x| x.1).unwrap_or(title);
            (id.to_string(), text.to_string())
        })
        .collect()
}

fn has(s: &Value, needle: &str) {
    let t = s.as_str().unwrap();
    assert!(t.contains(needle), "{needle:?} not in:\n{t}");
}

#[test]
fn blocked_cluster_every_denial_in_webhook_order_for_v1_4_0() {
    let r = report(&sample("upgrade-blocked-v1.4.0"));
    assert_eq!(
        denials(&r),
        vec![
            ("C7".into(), "there are degraded volumes, please check all volumes are healthy".into()),
            ("C10".into(), "please wait until all vmbackups are stopped, for example default/svmb-8af0b500-7fd2-468d-807c-ded2b5dd9c79-20250214.0900 is under processing".into()),
            ("C11".into(), "please suspend all backup/snapshot schedule, for example default/svmbackup-vm-web-01 is running".into()),
            ("C15".into(), "node harvester-node-2 is unschedulable, please wait for it to be schedulable".into()),
            ("C22".into(), "The backing volumes of the following PVCs have single replica configured, please consider shutdown the corresponding workload before upgrade: default/vm-db-01-disk-0-f5tvr".into()),
            ("C24".into(), "There are non-live migratable VMs that need to be shut off before initiating the upgrade: default/vm-gpu-01".into()),
        ]
    );
    let c15 = by_id(&r, "upgrade.admission:C15");
    has(
        &c15["summary"],
        "admission webhook \"validator.harvesterhci.io\" denied the request: node harvester-node-2 is unschedulable",
    );
    has(
        &c15["summary"],
        "node harvester-node-2 is in maintenance mode (completed)",
    );
    has(&c15["summary"], "6 check(s) deny in all");
    has(&c15["remediation"], "kubectl uncordon");
    has(
        &by_id(&r, "upgrade.admission:C24")["summary"],
        "host devices",
    );
    // Live-only checks are said to be not evaluated, with the proxy.
    let c18 = by_id(&r, "upgrade.admission:C18:not-evaluated");
    assert_eq!(c18["severity"], "info");
    has(&c18["summary"], "DiskPressure");
    // The target is the Version object above the running version.
    has(
        &by_id(&r, "upgrade.admission:C7")["title"],
        "Upgrade to v1.4.1",
    );
    // The webhook's own log shows the refusal it gave (the first failure only).
    assert!(with("webhook.denial", &r)
        .iter()
        .any(|(_, id)| id == "webhook.denial:validator.harvesterhci.io:denied-upgrade-check-c7"));
}

#[test]
fn denials_follow_the_running_version() {
    // v1.3.2: no backup checks (they start at v1.4.0).
    let r = report_with(
        "upgrade-blocked-v1.4.0",
        &["--from-version", "v1.3.2", "--to-version", "v1.4.0"],
    );
    let ids: Vec<String> = denials(&r).into_iter().map(|d| d.0).collect();
    assert_eq!(ids, ["C7", "C15", "C22", "C24"]);
    // v1.5.0: the single-replica check counts detached volumes too and has a new text.
    let r = report_with(
        "upgrade-blocked-v1.4.0",
        &["--from-version", "v1.5.0", "--to-version", "v1.5.1"],
    );
    let d = denials(&r);
    let ids: Vec<&str> = d.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(ids, ["C2", "C7", "C10", "C11", "C15", "C23", "C24"]);
    assert_eq!(d[0].1, "version v1.5.1 is not found");
    assert!(d[5].1.starts_with("Following PVCs with single-replica volume, even the volume is detached, upgrade may have potential data integrity concerns: default/vm-db-01-disk-0-f5tvr"));
    // v1.5.x has no disk-space C17 any more, but the certificate check C27 (not evaluated).
    let nev: Vec<String> = with("upgrade.admission", &r)
        .into_iter()
        .filter(|(s, _)| s == "info")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(
        nev,
        [
            "upgrade.admission:C18:not-evaluated",
            "upgrade.admission:C27:not-evaluated"
        ]
    );
    // v1.7.0: C12's text changes, on the stale-Fleet sample.
    let r = report_with("fleet-stale-v1.4.0", &["--from-version", "v1.7.0"]);
    assert!(denials(&r).contains(&(
        "C12".into(),
        "managed chart harvester is not ready, please wait for it to be ready or fix it".into()
    )));
    // A version guard failure with a target below the running version.
    let r = report_with("healthy-v1.4.0", &["--to-version", "v1.3.2"]);
    let a5 = by_id(&r, "upgrade.admission:A.5");
    assert_eq!(
        a5["title"],
        "Upgrade to v1.3.2 would fail its version check: downgrading is prohibited"
    );
    has(
        &a5["summary"],
        "the controller would fail it after the repo VM is up",
    );
}

#[test]
fn stuck_in_pre_drained_names_the_pdb_and_the_orphan_engine() {
    let r = report(&sample("upgrade-stuck-predrained-v1.4.0"));
    let f = by_id(
        &r,
        "upgrade.stuck:Upgrade/harvester-system/hvst-upgrade-mq7xk",
    );
    assert_eq!(f["severity"], "error");
    has(
        &f["title"],
        "stuck in UpgradingNodes (harvester-node-1 Pre-drained)",
    );
    has(&f["summary"], "NodesUpgraded is Unknown");
    has(
        &f["summary"],
        "harvester-node-0 Succeeded, harvester-node-1 Pre-drained, harvester-node-2 Images preloaded",
    );
    has(
        &f["summary"],
        "PodDisruptionBudget longhorn-system/instance-manager-3a8431bf87705af48b57467377e1cb87 (disruptionsAllowed 0)",
    );
    has(
        &f["summary"],
        "Longhorn still counts engine(s) that are stopped and on no node: \
         pvc-8bae9db4-b53f-4af3-b368-559386e7fd37-e-0",
    );
    // The detached volume's engine (stopped, on no node: normal) is not among them.
    assert!(
        !f["summary"]
            .as_str()
            .unwrap()
            .contains("pvc-afa096cf-7429-4a0d-a143-cc683674ca2b-e-0"),
        "{}",
        f["summary"]
    );
    has(
        &f["remediation"],
        "kubectl -n longhorn-system delete pdb instance-manager-3a8431bf87705af48b57467377e1cb87",
    );
    // The longhorn-manager log is cited at its latest "PDB is blocked" line.
    let ev = f["evidence"].as_array().unwrap();
    let log = ev
        .iter()
        .find(|e| {
            e["file"]
                .as_str()
                .unwrap()
                .ends_with("longhorn-manager.log")
        })
        .expect("longhorn-manager log evidence");
    has(&log["excerpt"], "PDB is blocked");
    // Admission: the upgrade in progress blocks a new one (C3), the cordoned node too (C15).
    let ids: Vec<String> = denials(&r).into_iter().map(|d| d.0).collect();
    assert_eq!(ids, ["C3", "C15"]);
    assert!(
        with("upgrade.known-issue", &r)
            .iter()
            .any(|(_, id)| id == "upgrade.known-issue:orphan-engine-blocks-instance-manager-pdb")
    );
    // The finished pre-drain log of node-1 is no evidence of a pre-drain wait now.
    assert!(
        !with("upgrade.known-issue", &r)
            .iter()
            .any(|(_, id)| id.contains("pre-drain"))
    );
}

#[test]
fn stale_fleet_known_issue_only_where_fleet_says_not_ready_of_a_ready_workload() {
    const ID: &str = "upgrade.known-issue:stale-fleet-status-after-reboot";
    // Fleet claims whereabouts not ready (6/7); the capture shows it 7/7.
    let r = report(&sample("fleet-stale-v1.4.0"));
    has(
        &by_id(&r, ID)["summary"],
        "Fleet claims DaemonSet kube-system/harvester-whereabouts is not ready; the capture shows \
         it ready (stale)",
    );
    // Fleet says Ready while the workloads are broken: the opposite direction, not this issue.
    for s in ["fleet-agent-down-v1.4.0", "node-down-vm-degraded-v1.4.0"] {
        let r = report(&sample(s));
        assert!(
            !with("fleet.stale-status", &r).is_empty(),
            "{s}: Fleet's Ready claims are stale there"
        );
        assert!(
            !with("upgrade.known-issue", &r)
                .iter()
                .any(|(_, id)| id == ID),
            "{s}"
        );
    }
}

#[test]
fn failed_upgrade_leftovers_with_their_cleanup() {
    let r = report(&sample("upgrade-failed-leftovers-v1.4.0"));
    let ids = with("upgrade.leftover", &r);
    for want in [
        (
            "error",
            "upgrade.leftover:ManagedChart/fleet-local/hvst-upgrade-x7b2p-upgradelog-operator:upgradelog-chart",
        ),
        (
            "warning",
            "upgrade.leftover:Upgrade/harvester-system/hvst-upgrade-x7b2p:failed",
        ),
        ("warning", "upgrade.leftover:latest-upgrade"),
        (
            "warning",
            "upgrade.leftover:Setting/longhorn-system/replica-replenishment-wait-interval:not-restored",
        ),
        (
            "warning",
            "upgrade.leftover:VirtualMachine/harvester-system/upgrade-repo-hvst-upgrade-x7b2p:orphan",
        ),
        (
            "warning",
            "upgrade.leftover:VirtualMachineImage/harvester-system/hvst-upgrade-x7b2p:orphan",
        ),
        (
            "warning",
            "upgrade.leftover:PersistentVolumeClaim/harvester-system/upgrade-repo-hvst-upgrade-x7b2p-disk-0:orphan",
        ),
        (
            "warning",
            "upgrade.leftover:Plan/cattle-system/hvst-upgrade-x7b2p-prepare:orphan",
        ),
        (
            "warning",
            "upgrade.leftover:Plan/cattle-system/hvst-upgrade-x7b2p-skip-restart-rancher-system-agent:orphan",
        ),
        (
            "warning",
            "upgrade.leftover:Service/harvester-system/upgrade-repo-hvst-upgrade-x7b2p:orphan",
        ),
        (
            "warning",
            "upgrade.leftover:ManagedChart/fleet-local/harvester:paused",
        ),
        (
            "warning",
            "upgrade.leftover:ManagedChart/fleet-local/harvester-crd:paused",
        ),
        (
            "warning",
            "upgrade.leftover:ManagedChart/fleet-local/rancher-logging-crd:paused",
        ),
        (
            "warning",
            "upgrade.leftover:ManagedChart/fleet-local/rancher-monitoring-crd:paused",
        ),
        (
            "warning",
            "upgrade.leftover:Node/harvester-node-0:pending-os",
        ),
    ] {
        assert!(
            ids.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} missing from {ids:#?}"
        );
    }
    has(
        &by_id(
            &r,
            "upgrade.leftover:Upgrade/harvester-system/hvst-upgrade-x7b2p:failed",
        )["title"],
        "SystemServicesUpgraded False (BackoffLimitExceeded)",
    );
    let chart = by_id(
        &r,
        "upgrade.leftover:ManagedChart/fleet-local/hvst-upgrade-x7b2p-upgradelog-operator:upgradelog-chart",
    );
    has(
        &chart["summary"],
        "managed chart hvst-upgrade-x7b2p-upgradelog-operator is not ready, please wait for it to be ready",
    );
    has(
        &chart["remediation"],
        "kubectl -n harvester-system delete upgradelogs.harvesterhci.io hvst-upgrade-x7b2p-upgradelog",
    );
    has(
        &by_id(&r, "upgrade.leftover:latest-upgrade")["remediation"],
        "label upgrades.harvesterhci.io hvst-upgrade-8hk2d harvesterhci.io/latestUpgrade-",
    );
    has(
        &by_id(
            &r,
            "upgrade.leftover:ManagedChart/fleet-local/harvester:paused",
        )["remediation"],
        "'{\"spec\":{\"paused\":false}}'",
    );
    // The leftover chart is what the webhook would refuse on.
    let d = denials(&r);
    assert_eq!(d, vec![("C12".into(), "managed chart hvst-upgrade-x7b2p-upgradelog-operator is not ready, please wait for it to be ready".into())]);
    // No upgrade is running.
    assert!(with("upgrade.stuck", &r).is_empty());
}

#[test]
fn clean_v1_5_0_has_nothing_to_say() {
    let r = report(&sample("clean-v1.5.0"));
    for f in r["findings"].as_array().unwrap() {
        assert_eq!(f["severity"], "info", "{f}");
    }
    assert_eq!(r["bundle"]["harvester_version"], "v1.5.0");
    // The v1.5 webhook's live-only checks, and nothing else.
    let nev: Vec<String> = with("upgrade.admission", &r)
        .into_iter()
        .map(|x| x.1)
        .collect();
    assert_eq!(
        nev,
        [
            "upgrade.admission:C18:not-evaluated",
            "upgrade.admission:C27:not-evaluated"
        ]
    );
    // Fleet v0.12 runs the agent as a Deployment; the Fleet rules agree everything is ready.
    assert!(with("fleet.", &r).is_empty());
}

#[test]
fn explain_lists_the_checks_with_versions() {
    let out = ok(&["rules", "--explain", "upgrade.admission"]);
    assert!(out.contains("C12    every ManagedChart in fleet-local Ready"));
    assert!(out.contains("C22    no active single-replica volume"));
    assert!(out.contains("v1.3.0 – v1.4.3"));
    assert!(out.contains("reads: virtualmachineinstances.kubevirt.io"));
    let known = ok(&["rules", "--explain", "upgrade.known-issue"]);
    assert!(known.contains("stale-fleet-status-after-reboot"));
}

#[test]
fn rules_versions_shows_each_check_against_each_release() {
    let out = ok(&["rules", "--versions"]);
    let lines: Vec<&str> = out.lines().collect();
    let cols = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let head = cols(lines[0]);
    assert_eq!(head[..2], ["CHECK".to_string(), "WHAT".to_string()]);
    assert_eq!(head.last().map(String::as_str), Some("v1.9"));
    let row = |id: &str| {
        let l = lines
            .iter()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} in\n{out}"));
        let c = cols(l);
        c[c.len() - 3..].to_vec()
    };
    // v1.7, v1.8, v1.9: C25 from v1.8.2; C22 gone after v1.4; the v1.9 UpgradeLog webhook.
    assert_eq!(row("C25"), ["-", ".2+", "yes"]);
    assert_eq!(row("C22"), ["-", "-", "-"]);
    assert_eq!(row("UPGRADELOG_WEBHOOK"), ["-", "-", "yes"]);
    assert!(out.contains("Knowledge checked against Harvester releases up to v1.9.0"));
}

#[test]
fn a_knowledge_file_adds_a_release_and_moves_a_gate_without_a_new_sbdiag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("v1.10.yaml"),
        "releases: [v1.10.0]\nchecks:\n  - id: C25\n    versions: {since: v1.8.2, until: v1.9.x}\n",
    )
    .unwrap();
    let kdir = dir.path().to_str().unwrap();
    let out = ok(&["rules", "--versions", "--knowledge", kdir]);
    let head: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(head.last(), Some(&"v1.10"), "{out}");
    let c25: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("C25 "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(c25[c25.len() - 3..], [".2+", "yes", "-"], "{out}");
    assert!(out.contains("Knowledge checked against Harvester releases up to v1.10.0"));
    // v1.10.0 is known now: no "newer than the knowledge" note.
    let newer = |r: &Value| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "upgrade.admission:newer-than-known")
    };
    let args = ["--from-version", "v1.10.0"];
    assert!(newer(&report_with("healthy-v1.4.0", &args)));
    assert!(!newer(&report_with(
        "healthy-v1.4.0",
        &["--knowledge", kdir, "--from-version", "v1.10.0"]
    )));
    // A gate name the code does not ask is refused, naming the file and line.
    std::fs::write(
        dir.path().join("v1.10.yaml"),
        "gates:\n  - name: NO_SUCH_GATE\n    versions: [{since: v1.10.0}]\n",
    )
    .unwrap();
    let out = common::sbdiag(&["rules", "--versions", "--knowledge", kdir]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("v1.10.yaml:2: gates NO_SUCH_GATE: is not a gate"),
        "{err}"
    );
}

#[test]
fn dev_build_is_not_judged_without_from_version() {
    for b in common::real_bundles() {
        let r = report(&b);
        let c = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["rule"] == "upgrade.admission")
            .unwrap();
        assert_eq!(c["status"], "not_evaluated");
        assert!(c["reason"].as_str().unwrap().contains("1a861fc-dirty"));
        // With a version, its two not-ready charts deny (the webhook of v1.1.2 has C12).
        let out = sbdiag(&[
            "analyze",
            b.to_str().unwrap(),
            "--json",
            "--from-version",
            "v1.1.2",
        ]);
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        let c12 = by_id(&r, "upgrade.admission:C12");
        has(&c12["summary"], "ManagedChart harvester Ready=False");
        has(
            &c12["summary"],
            "ManagedChart rancher-monitoring Ready=False",
        );
    }
}

#[test]
fn unacknowledged_drain_hook_is_a_leftover() {
    // Rancher asks for a pre-drain hook on a machine-plan secret; Harvester never answered and
    // no upgrade runs. An empty annotation ("null" in the bundle) asks for nothing.
    let text = "# Assumed capture time of the support bundle: 2025-02-14T09:41:07Z\n---\n\
apiVersion: v1\nkind: Secret\nmetadata:\n  name: custom-a-machine-plan\n  namespace: fleet-local\n  labels:\n    rke.cattle.io/machine-name: custom-a\n  annotations:\n    rke.cattle.io/pre-drain: '{\"IgnoreErrors\":false}'\n    rke.cattle.io/post-drain: \"null\"\n---\n\
apiVersion: harvesterhci.io/v1beta1\nkind: Upgrade\nmetadata:\n  name: hvst-upgrade-old\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgradeState: Succeeded\n    harvesterhci.io/latestUpgrade: \"true\"\nstatus:\n  conditions:\n  - type: Completed\n    status: \"True\"\n";
    let dir = tempfile::tempdir().unwrap();
    let root = common::build_bundle(text, dir.path());
    let r = report(&root);
    assert_eq!(
        with("upgrade.leftover", &r),
        vec![(
            "warning".to_string(),
            "upgrade.leftover:Secret/fleet-local/custom-a-machine-plan:pre-drain".to_string()
        )]
    );
}

/// The report's entries for the sub-checks of upgrade.admission: (check, status).
fn admission_checks(r: &Value) -> Vec<(String, String)> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"] == "upgrade.admission" && c.get("check").is_some())
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn status_of<'a>(checks: &'a [(String, String)], id: &str) -> &'a str {
    checks
        .iter()
        .find(|(c, _)| c == id)
        .map(|(_, s)| s.as_str())
        .unwrap_or_else(|| panic!("no sub-check {id} in {checks:?}"))
}

#[test]
fn sub_checks_listed_in_webhook_order_with_version_gates() {
    let r = report_with("upgrade-blocked-v1.4.0", &[]);
    let c = admission_checks(&r);
    let ids: Vec<&str> = c.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "C1", "C2", "C3", "C4", "C7", "C8/C9", "C10", "C11", "C12", "C13", "C14", "C15", "C16",
            "C17", "C18", "C20", "C21", "C22", "C23", "C24", "C25", "C26", "C27", "C28", "A.5"
        ]
    );
    // v1.4.0 has neither the v1.7 checks, nor C21 (v1.5.1), C23/C27/C28 (v1.5.0), C25/C26
    // (v1.8.2).
    for absent in ["C4", "C13", "C21", "C23", "C25", "C26", "C27", "C28"] {
        assert_eq!(status_of(&c, absent), "not_applicable", "{absent}");
    }
    // C17/C18 need the kubelet: never pass.
    assert_eq!(status_of(&c, "C17"), "not_evaluated");
    assert_eq!(status_of(&c, "C18"), "not_evaluated");
    // The six denials of this sample fail; the rest of v1.4.0's checks pass.
    let fails: Vec<&str> = c
        .iter()
        .filter(|(_, s)| s == "fail")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(fails.len(), denials(&r).len());
    // An old version lacks most checks: not_applicable, never pass.
    let old = admission_checks(&report_with(
        "upgrade-blocked-v1.4.0",
        &["--from-version", "v1.0.3"],
    ));
    for (id, s) in &old {
        if id == "C1" || id == "C3" {
            assert_ne!(s, "not_applicable", "{id} exists in every version");
        } else {
            assert_eq!(s, "not_applicable", "{id} on v1.0.3");
        }
    }
}

#[test]
fn sub_checks_not_evaluated_when_their_lists_were_not_collected() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&sample("upgrade-blocked-v1.4.0"), dir.path(), |_, t| t);
    let y = dir.path().join("yamls");
    for f in [
        "cluster/v1/nodes.yaml",
        "namespaced/default/kubevirt.io/v1/virtualmachines.yaml",
        "namespaced/default/kubevirt.io/v1/virtualmachineinstances.yaml",
    ] {
        std::fs::remove_file(y.join(f)).unwrap();
    }
    let log = dir.path().join("bundleGenerationError.log");
    let mut text = std::fs::read_to_string(&log).unwrap_or_default();
    text.push_str(
        "Failed to get /api/v1/nodes: context deadline exceeded\n\
         Failed to get /apis/kubevirt.io/v1/virtualmachines: context deadline exceeded\n\
         Failed to get /apis/kubevirt.io/v1/virtualmachineinstances: context deadline exceeded\n",
    );
    std::fs::write(&log, text).unwrap();
    let p = dir.path().to_str().unwrap();
    let r: Value =
        serde_json::from_str(&ok(&["analyze", p, "--json", "--from-version", "v1.9.0"])).unwrap();
    let c = admission_checks(&r);
    for id in ["C7", "C14", "C15", "C16", "C21", "C23", "C24", "C25", "C26"] {
        assert_eq!(status_of(&c, id), "not_evaluated", "{id}: {c:?}");
    }
    let reason = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["check"] == "C25")
        .unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("nodes (core)"), "{reason}");
    // Checks whose lists are there still run; no admission finding comes from a check that
    // could not look.
    assert_eq!(status_of(&c, "C12"), "pass");
    for (_, id) in with("upgrade.admission", &r) {
        for nev in ["C14", "C15", "C16", "C25", "C26"] {
            assert!(!id.ends_with(&format!(":{nev}")), "{id}");
        }
    }
}

#[test]
fn one_denial_text_per_version_in_the_whole_report() {
    // On v1.7.0 the C12 text gains "or fix it": every sentence sbdiag writes quotes that one;
    // only what the capture itself holds (log lines, their excerpts) keeps the old wording.
    let r = report_with("fleet-stale-v1.4.0", &["--from-version", "v1.7.0"]);
    let old = "please wait for it to be ready\"";
    let mut quoted_new = 0;
    for f in r["findings"].as_array().unwrap() {
        if f["rule"] == "webhook.denial" {
            continue; // quotes the captured log line
        }
        for field in ["title", "summary", "remediation"] {
            let t = f[field].as_str().unwrap();
            assert!(
                !t.contains(old) && !t.contains("please wait for it to be ready —"),
                "{}: {field} quotes the pre-v1.7 text:\n{t}",
                f["id"]
            );
            let t = t.replace("please wait for it to be ready or fix it", "");
            assert!(
                !t.contains("managed chart harvester is not ready, please wait for it to be ready"),
                "{}: {field} quotes the pre-v1.7 text",
                f["id"]
            );
            quoted_new += f[field]
                .as_str()
                .unwrap()
                .matches("please wait for it to be ready or fix it")
                .count();
        }
    }
    assert!(quoted_new >= 3, "{quoted_new}");
    // The Fleet effect follows the version: none on a version without C12.
    let r = report_with("fleet-stale-v1.4.0", &["--from-version", "v1.0.3"]);
    let s = by_id(
        &r,
        "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/harvester-whereabouts",
    )["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(s.contains("does not check ManagedCharts"), "{s}");
    assert!(!s.contains("denied the request"), "{s}");
    // …and its title does not say the stale status blocks upgrades.
    let t = by_id(
        &r,
        "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/harvester-whereabouts",
    )["title"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(t.starts_with("Fleet status is stale: "), "{t}");
    let r = report_with("fleet-stale-v1.4.0", &[]);
    let t = by_id(
        &r,
        "fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/harvester-whereabouts",
    )["title"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(t.starts_with("Stale Fleet status blocks upgrades: "), "{t}");
}

#[test]
fn pre_checks_outside_their_script_versions_are_not_applicable() {
    let status = |r: &Value, rule: &str| -> String {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["rule"] == rule && c.get("check").is_none())
            .unwrap_or_else(|| panic!("no check {rule}"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // (version, pre-check, status): check.sh runs backup-target only on v1.4.1–v1.4.2,
    // rwx-network-ip from v1.8.0, cos-state-size on v1.7.x, backing images from v1.4.0; a live
    // check on a version it applies to cannot be judged from a bundle.
    let expect: &[(&str, &[(&str, &str)])] = &[
        (
            "v1.4.0",
            &[
                ("backup-target", "not_applicable"),
                ("rwx-network-ip", "not_applicable"),
                ("cos-state-size", "not_applicable"),
                ("longhorn-backing-images", "pass"),
            ],
        ),
        ("v1.4.1", &[("backup-target", "pass")]),
        (
            "v1.7.2",
            &[
                ("cos-state-size", "not_evaluated"),
                ("longhorn-backing-images", "pass"),
            ],
        ),
        ("v1.3.2", &[("longhorn-backing-images", "not_applicable")]),
    ];
    for (version, checks) in expect {
        let r = report_with("healthy-v1.4.0", &["--from-version", version]);
        for (check, want) in *checks {
            let rule = format!("upgrade.precheck.{check}");
            assert_eq!(status(&r, &rule), *want, "{rule} on {version}");
        }
    }
}

/// A knowledge file for a release that does not exist, as a support team would add the next
/// release's known issue without a new sbdiag.
const MADE_UP: &str = "- id: made-up-v1-99-witness-drain
  title: Made-up v1.99 issue for the knowledge-file test
  severity: warning
  from: {since: v1.99.0}
  when:
    - nodes: {min: 1}
  symptom: the made-up symptom
  cause: the made-up cause
  workaround: |-
    Do the made-up thing:
    $ kubectl get nodes
";

#[test]
fn a_knowledge_file_adds_a_known_issue_without_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v1.99.yaml"), MADE_UP).unwrap();
    let kdir = dir.path().to_str().unwrap();
    let id = "upgrade.known-issue:made-up-v1-99-witness-drain";
    let has = |r: &Value| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == id)
    };
    // Without the file, or on a release it does not cover: nothing.
    assert!(!has(&report_with(
        "healthy-v1.4.0",
        &["--from-version", "v1.99.0"]
    )));
    assert!(!has(&report_with("healthy-v1.4.0", &["--knowledge", kdir])));
    // With it, on the made-up release: the finding, and the note that v1.99.0 is newer than
    // what the embedded knowledge covers.
    let r = report_with(
        "healthy-v1.4.0",
        &["--knowledge", kdir, "--from-version", "v1.99.0"],
    );
    assert!(has(&r), "{:#?}", r["findings"]);
    assert_eq!(
        by_id(&r, id)["title"],
        "Known issue: Made-up v1.99 issue for the knowledge-file test"
    );
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "upgrade.admission:newer-than-known")
    );
    // The same through SBDIAG_KNOWLEDGE.
    let p = sample("healthy-v1.4.0");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sbdiag"))
        .args([
            "analyze",
            p.to_str().unwrap(),
            "--json",
            "--from-version",
            "v1.99.0",
        ])
        .env("SBDIAG_KNOWLEDGE", kdir)
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(has(&r));
    // `rules --explain` lists it with the embedded ones.
    let explain = ok(&[
        "rules",
        "--explain",
        "upgrade.known-issue",
        "--knowledge",
        kdir,
    ]);
    assert!(explain.contains("made-up-v1-99-witness-drain"), "{explain}");
}

#[test]
fn a_malformed_knowledge_file_fails_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = MADE_UP.replace(
        "    - nodes: {min: 1}\n",
        "    - log: {namespace: ns, matches: \"(x\"}\n",
    );
    std::fs::write(
        dir.path().join("broken.yaml"),
        format!("# a comment\n{bad}"),
    )
    .unwrap();
    let p = sample("healthy-v1.4.0");
    let out = sbdiag(&[
        "analyze",
        p.to_str().unwrap(),
        "--knowledge",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.yaml:2: known issue made-up-v1-99-witness-drain: when.log.matches"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_knowledge_file_gives_a_check_the_text_of_a_newer_release() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("v1.99.yaml"),
        "denials:\n  - check: C12\n    since: v1.99.0\n    text: managed chart {chart} is not ready (made-up v1.99 text)\n",
    )
    .unwrap();
    let kdir = dir.path().to_str().unwrap();
    let texts = |args: &[&str]| -> Vec<String> {
        denials(&report_with("fleet-stale-v1.4.0", args))
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    };
    let newer = texts(&["--knowledge", kdir, "--from-version", "v1.99.0"]);
    assert!(
        newer
            .iter()
            .any(|t| t.contains("managed chart harvester is not ready (made-up v1.99 text)")),
        "{newer:?}"
    );
    // Older releases keep the table's text.
    let old = texts(&["--knowledge", kdir, "--from-version", "v1.4.0"]);
    assert!(
        old.iter()
            .any(|t| t.contains("please wait for it to be ready")),
        "{old:?}"
    );
}

#[test]
fn v1_7_node_paused_by_the_user_is_not_a_stuck_upgrade() {
    let r = report(&sample("upgrade-paused-node-v1.7.0"));
    assert_eq!(r["bundle"]["harvester_version"], "v1.7.0");
    let f = by_id(
        &r,
        "upgrade.stuck:Upgrade/harvester-system/hvst-upgrade-p4z7k",
    );
    // Not a fault, but the upgrade (and C3 for a new one) waits on the user: a warning, and
    // the headline leads with it rather than with the C3 denial it causes.
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["title"],
        "Upgrade hvst-upgrade-p4z7k paused by the user before harvester-node-0, as requested (not \
         stuck); it waits until the node is unpaused"
    );
    assert!(
        r["verdict"]["headline"]
            .as_str()
            .unwrap()
            .starts_with("Upgrade hvst-upgrade-p4z7k paused by the user"),
        "{}",
        r["verdict"]["headline"]
    );
    has(
        &f["summary"],
        "harvester-node-0: Node-upgrade paused (AdministrativelyPaused: Node upgrade paused as \
         requested by the user)",
    );
    has(
        &f["remediation"],
        "$ kubectl -n harvester-system annotate upgrades.harvesterhci.io hvst-upgrade-p4z7k \
         --overwrite 'harvesterhci.io/node-upgrade-pause-map={\"harvester-node-0\":\"unpause\",\
         \"harvester-node-1\":\"pause\"}'",
    );
    has(
        &f["remediation"],
        "mode manual, pauseNodes harvester-node-0, harvester-node-1",
    );
    assert!(!f["title"].as_str().unwrap().contains("stuck in"));
    // The repository Deployment and the OS image belong to the running upgrade: no leftover,
    // and no finding offers to delete them.
    assert!(
        with("upgrade.leftover", &r).is_empty(),
        "{:?}",
        with("upgrade.leftover", &r)
    );
    for f in r["findings"].as_array().unwrap() {
        let fix = f["remediation"].as_str().unwrap_or_default();
        assert!(!fix.contains("delete deployments upgrade-repo"), "{f}");
    }
    // C3 says to resume, not to undo.
    has(
        &by_id(&r, "upgrade.admission:C3")["remediation"],
        "holds because the user paused harvester-node-0 (upgrade.stuck shows how to resume)",
    );
}

#[test]
fn v1_8_1_failed_upgrade_left_live_migrate_removed_and_the_descheduler_disabled() {
    let r = report(&sample("upgrade-failed-livemigrate-v1.8.1"));
    assert_eq!(r["bundle"]["harvester_version"], "v1.8.1");
    let left: Vec<String> = with("upgrade.leftover", &r)
        .into_iter()
        .map(|x| x.1)
        .collect();
    for id in [
        "upgrade.leftover:ManagedChart/fleet-local/harvester:workload-update-methods",
        "upgrade.leftover:Addon/kube-system/descheduler:not-reenabled",
        "upgrade.leftover:Upgrade/harvester-system/hvst-upgrade-k8r3t:skip-rke2-manifests",
        "upgrade.leftover:Upgrade/harvester-system/hvst-upgrade-k8r3t:cleanup",
        "upgrade.leftover:Deployment/harvester-system/upgrade-repo-hvst-upgrade-k8r3t:orphan",
        "upgrade.leftover:VirtualMachineImage/harvester-system/hvst-upgrade-k8r3t:orphan",
    ] {
        assert!(left.iter().any(|l| l == id), "{id} not in {left:?}");
    }
    // The skip-manifests plans are the controller's to finish, not orphans to delete.
    assert!(
        !left.iter().any(|l| l.contains("skip-manifests")),
        "{left:?}"
    );
    let f = by_id(
        &r,
        "upgrade.leftover:ManagedChart/fleet-local/harvester:workload-update-methods",
    );
    has(
        &f["summary"],
        "is [] but Upgrade hvst-upgrade-k8r3t (failed) backed it up as [\"LiveMigrate\"] in \
         annotation harvesterhci.io/kubevirt-workload-update-methods",
    );
    has(&f["summary"], "CPU or memory hotplug");
    has(
        &f["remediation"],
        "$ kubectl -n fleet-local patch managedcharts.management.cattle.io harvester --type merge \
         -p '{\"spec\":{\"values\":{\"kubevirt\":{\"spec\":{\"workloadUpdateStrategy\":\
         {\"workloadUpdateMethods\":[\"LiveMigrate\"]}}}}}}'",
    );
    let d = by_id(
        &r,
        "upgrade.leftover:Addon/kube-system/descheduler:not-reenabled",
    );
    has(
        &d["remediation"],
        "$ kubectl -n kube-system patch addons.harvesterhci.io descheduler --type merge -p \
         '{\"spec\":{\"enabled\":true}}'",
    );
    let s = by_id(
        &r,
        "upgrade.leftover:Upgrade/harvester-system/hvst-upgrade-k8r3t:skip-rke2-manifests",
    );
    has(&s["summary"], "rke2-multus.yaml.skip");
    has(
        &s["remediation"],
        "$ kubectl -n cattle-system get jobs -l upgrade.cattle.io/plan=hvst-upgrade-k8r3t-skip-manifests-remove",
    );
    // Logging was switched off for that upgrade: not one of its failures.
    let failed = by_id(
        &r,
        "upgrade.leftover:Upgrade/harvester-system/hvst-upgrade-k8r3t:failed",
    );
    assert!(!failed["summary"].as_str().unwrap().contains("LogReady"));
}

#[test]
fn v1_8_2_refuses_a_pending_volume_hotplug_and_v1_8_1_does_not() {
    let r = report(&sample("hotplug-pending-v1.8.2"));
    assert_eq!(r["bundle"]["harvester_version"], "v1.8.2");
    let f = by_id(&r, "upgrade.admission:C25");
    assert_eq!(f["severity"], "error");
    has(
        &f["title"],
        "Upgrade to v1.9.0 would be refused (C25): There are VMs with pending volume hotplug \
         requests (status.volumeRequests) which are no longer processed with the \
         DeclarativeHotplugVolumes feature gate and block the VM reconciliation. Stop and start \
         these VMs before initiating the upgrade: default/vm-web-01",
    );
    has(&f["summary"], "The webhook of v1.8.2");
    has(
        &f["summary"],
        "VM default/vm-web-01 has pending volumeRequests",
    );
    let ev = &f["evidence"][0];
    assert_eq!(
        ev["file"],
        "yamls/namespaced/default/kubevirt.io/v1/virtualmachines.yaml"
    );
    has(&ev["excerpt"], "name: vm-web-01");
    let status = |r: &Value| {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["rule"] == "upgrade.admission" && c["check"] == "C25")
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status(&r), "fail");
    // The other side of the gate: v1.8.1's webhook has no C25, so the same VM is not refused.
    let old = report_with("hotplug-pending-v1.8.2", &["--from-version", "v1.8.1"]);
    assert_eq!(status(&old), "not_applicable");
    assert!(
        old["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "upgrade.admission:C25"),
    );
}

#[test]
fn v1_9_ready_chart_with_unavailable_deployments_holds_the_manifests_job() {
    let r = report(&sample("upgrade-chart-unavailable-v1.9.0"));
    assert_eq!(r["bundle"]["harvester_version"], "v1.9.0");
    let f = by_id(
        &r,
        "upgrade.stuck:Upgrade/harvester-system/hvst-upgrade-u3n6b",
    );
    assert_eq!(f["severity"], "error");
    has(
        &f["title"],
        "Upgrade hvst-upgrade-u3n6b stuck in UpgradingSystemServices, last progress 38m before \
         capture: job hvst-upgrade-u3n6b-apply-manifests loops in wait_managed_chart",
    );
    has(
        &f["summary"],
        "ManagedChart(s) holding it: harvester (Ready, but status.unavailable is 1; the v1.9.1 \
         script also waits for 0)",
    );
    has(
        &f["remediation"],
        "ManagedChart harvester is Ready, but Fleet still counts unavailable bundle deployments",
    );
    has(
        &f["remediation"],
        "$ kubectl get bundledeployments.fleet.cattle.io -A -l fleet.cattle.io/bundle-name=mcc-harvester -o yaml",
    );
    let ev = f["evidence"].as_array().unwrap();
    let chart = ev
        .iter()
        .find(|e| {
            e["file"] == "yamls/namespaced/fleet-local/management.cattle.io/v3/managedcharts.yaml"
        })
        .expect("the chart cited");
    has(&chart["excerpt"], "unavailable: 1");
    // A new Upgrade meanwhile is refused by C3, as the running v1.9.0 webhook does.
    let c3 = by_id(&r, "upgrade.admission:C3");
    has(
        &c3["title"],
        "cannot proceed until previous upgrade \"hvst-upgrade-u3n6b\" completes",
    );
    // The v1.9 certificate check reads the kubernetes EndpointSlice: not refused.
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "upgrade.admission:C28")
    );
}
