//! `sbdiag diff`: two bundles of one cluster, built from the fleet-stale sample — an older
//! capture where DaemonSet kube-system/harvester-whereabouts was 6/7 (its node-5 pod not Ready,
//! Fleet's not-ready claim confirmed) and the sample itself (7/7, the claim now stale).
mod common;

use std::path::{Path, PathBuf};

use common::{sample, sbdiag, zip_dir};

const DS_ID: &str = "DaemonSet/kube-system/harvester-whereabouts";

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        let dst = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// Replaces text inside the list item (`- ` at column 0) whose metadata.name is `name`.
fn edit_item(file: &Path, name: &str, edits: &[(&str, &str)]) {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.split('\n').collect();
    let at = lines
        .iter()
        .position(|l| *l == format!("    name: {name}"))
        .unwrap_or_else(|| panic!("{name} not in {}", file.display()));
    let start = (0..=at)
        .rev()
        .find(|&i| lines[i].starts_with("- "))
        .unwrap();
    let end = (at + 1..lines.len())
        .find(|&i| lines[i].starts_with("- ") || lines[i].starts_with("kind: "))
        .unwrap_or(lines.len());
    let mut item = lines[start..end].join("\n");
    for (a, b) in edits {
        assert!(item.contains(a), "{a:?} not in {name}");
        item = item.replacen(a, b, 1);
    }
    let out = [lines[..start].join("\n"), item, lines[end..].join("\n")].join("\n");
    std::fs::write(file, out).unwrap();
}

/// The fleet-stale cluster two days earlier: captured 2025-02-12T09:50:00Z, after Fleet
/// recorded `Available: 6/7` (09:44:34Z) and before harvester-node-5's pod became Ready again.
fn older_capture(dir: &Path) -> PathBuf {
    let root = dir.join("supportbundle_stale_older");
    copy_tree(&sample("fleet-stale-v1.4.0"), &root);
    let meta = root.join("metadata.yaml");
    let m = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(
        &meta,
        m.replace("2025-02-14T09:41:07Z", "2025-02-12T09:50:00Z"),
    )
    .unwrap();
    edit_item(
        &root.join("yamls/namespaced/kube-system/apps/v1/daemonsets.yaml"),
        "harvester-whereabouts",
        &[
            ("numberAvailable: 7", "numberAvailable: 6"),
            ("numberReady: 7", "numberReady: 6\n    numberUnavailable: 1"),
        ],
    );
    edit_item(
        &root.join("yamls/namespaced/kube-system/v1/pods.yaml"),
        "harvester-whereabouts-fr2dl",
        &[
            (
                "lastTransitionTime: \"2025-02-12T09:45:12Z\"\n      status: \"True\"\n      type: Ready",
                "lastTransitionTime: \"2025-02-12T09:40:50Z\"\n      status: \"False\"\n      type: Ready",
            ),
            (
                "lastTransitionTime: \"2025-02-12T09:45:12Z\"\n      status: \"True\"\n      type: ContainersReady",
                "lastTransitionTime: \"2025-02-12T09:40:50Z\"\n      status: \"False\"\n      type: ContainersReady",
            ),
            ("ready: true", "ready: false"),
        ],
    );
    root
}

fn run(args: &[&str]) -> std::process::Output {
    let mut a = vec!["diff"];
    a.extend_from_slice(args);
    sbdiag(&a)
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "diff {args:?}: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn ids(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect()
}

#[test]
fn diff_explains_what_changed_between_two_captures() {
    let t = tempfile::tempdir().unwrap();
    let old = older_capture(t.path());
    // The older one as a zip, the newer as the sample folder, given newest first.
    let old_zip = t.path().join("older.zip");
    zip_dir(&old, "supportbundle_stale_older", &old_zip);
    let new = sample("fleet-stale-v1.4.0");
    let (new_s, old_s) = (new.to_str().unwrap(), old_zip.to_str().unwrap());
    let d: serde_json::Value =
        serde_json::from_str(&ok(&[new_s, old_s, "--format", "json"])).unwrap();
    // Ordered by capture time, and it says so.
    assert_eq!(d["swapped"], true);
    assert_eq!(d["old"]["source"], "older.zip");
    assert_eq!(d["old"]["created_at"], "2025-02-12T09:50:00Z");
    assert_eq!(d["new"]["created_at"], "2025-02-14T09:41:07Z");
    assert_eq!(d["elapsed"], "1d23h");
    assert!(d["notes"][0].as_str().unwrap().contains("newest first"));
    // The DaemonSet went from 6/7 to 7/7, its node-5 pod became Ready.
    let changed = d["objects"]["changed"].as_array().unwrap();
    let ds = changed
        .iter()
        .find(|c| {
            c["object"]["kind"] == "DaemonSet" && c["object"]["name"] == "harvester-whereabouts"
        })
        .expect("DaemonSet change");
    let field = |c: &serde_json::Value, f: &str| {
        c["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["field"] == f)
            .cloned()
            .unwrap_or_else(|| panic!("no {f} in {c}"))
    };
    assert_eq!(field(ds, "ready")["old"], "6/7");
    assert_eq!(field(ds, "ready")["new"], "7/7");
    assert_eq!(field(ds, "status")["new"], "active");
    let pod = changed
        .iter()
        .find(|c| c["object"]["name"] == "harvester-whereabouts-fr2dl")
        .expect("pod change");
    assert_eq!(field(pod, "condition Ready")["old"], "False");
    assert_eq!(field(pod, "condition Ready")["new"], "True");
    // Nothing else changed status: resourceVersion, managedFields and timestamps are noise.
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert!(d["objects"]["added"].as_array().unwrap().is_empty());
    assert!(d["objects"]["removed"].as_array().unwrap().is_empty());
    // Findings: the confirmed not-ready resolved, the stale-status error appeared.
    let appeared = ids(&d["findings"]["appeared"]);
    let resolved = ids(&d["findings"]["resolved"]);
    assert!(
        appeared.contains(
            &format!("fleet.stale-status:Bundle/fleet-local/mcc-harvester:{DS_ID}").as_str()
        ),
        "{appeared:?}"
    );
    assert!(
        resolved.contains(
            &format!("fleet.not-ready:Bundle/fleet-local/mcc-harvester:{DS_ID}").as_str()
        ),
        "{resolved:?}"
    );
    // Fleet transition: the same claim, now stale.
    let fleet = d["fleet"].as_array().unwrap();
    let mcc = fleet
        .iter()
        .find(|t| t["subject"] == "Bundle fleet-local/mcc-harvester")
        .expect("mcc-harvester transition");
    assert_eq!(field(mcc, "stale claims")["old"], "0");
    assert_eq!(field(mcc, "stale claims")["new"], "1");
    assert!(d["upgrades"].as_array().unwrap().is_empty());

    // Text and Markdown say the same.
    let text = ok(&[new_s, old_s]);
    assert!(
        text.contains("note: the arguments were given newest first"),
        "{text}"
    );
    assert!(text.contains("  ~ DaemonSet kube-system/harvester-whereabouts\n      available: 6/7 → 7/7\n      ready: 6/7 → 7/7\n"), "{text}");
    assert!(text.contains(&format!(
        "  + error    fleet.stale-status:Bundle/fleet-local/mcc-harvester:{DS_ID}"
    )));
    assert!(text.contains(&format!(
        "  - error    fleet.not-ready:Bundle/fleet-local/mcc-harvester:{DS_ID}"
    )));
    let md = ok(&[old_s, new_s, "--format", "md"]);
    assert!(md.starts_with("## sbdiag diff: cluster 6e1b9c47-2d3a-4f8e-b5c0-91a7d4e3f682\n"));
    assert!(!md.contains("newest first"), "argument order was right");
    assert!(
        md.contains(
            "- `DaemonSet kube-system/harvester-whereabouts`\n  - available: `6/7` → `7/7`"
        )
    );
    // Deterministic.
    assert_eq!(md, ok(&[old_s, new_s, "--format", "md"]));
}

#[test]
fn a_bundle_against_itself_has_no_change() {
    let t = tempfile::tempdir().unwrap();
    let z = t.path().join("stale.zip");
    let s = sample("fleet-stale-v1.4.0");
    zip_dir(&s, "supportbundle_stale", &z);
    let d: serde_json::Value = serde_json::from_str(&ok(&[
        s.to_str().unwrap(),
        z.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(d["swapped"], false);
    assert!(d["objects"]["changed"].as_array().unwrap().is_empty());
    assert!(d["objects"]["added"].as_array().unwrap().is_empty());
    assert!(d["findings"]["appeared"].as_array().unwrap().is_empty());
    assert!(d["findings"]["resolved"].as_array().unwrap().is_empty());
    assert!(d["fleet"].as_array().unwrap().is_empty());
    assert!(d["objects"]["unchanged"].as_u64().unwrap() > 300);
}

#[test]
fn bundles_of_different_clusters_need_force() {
    let a = sample("healthy-v1.4.0");
    let b = sample("fleet-stale-v1.4.0");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = run(&[a, b]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("different clusters"), "{err}");
    assert!(
        err.contains("3f6c2a1e-8b7d-4e2a-9c41-5d0e7a9b1c23"),
        "{err}"
    );
    assert!(
        err.contains("6e1b9c47-2d3a-4f8e-b5c0-91a7d4e3f682"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(o.stdout.is_empty());
    let text = ok(&[a, b, "--force"]);
    assert!(
        text.contains("note: the bundles are of different clusters"),
        "{text}"
    );
    // An unusable input is exit 2 too, naming the file.
    let o = run(&[a, "/nonexistent/bundle.zip"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/bundle.zip"));
}
