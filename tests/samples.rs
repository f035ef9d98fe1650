//! The project's sample bundles: each analysed as folder, zip and tar.gz (same report), the
//! healthy cluster's facts, queries on it, and the samples being the generator's output.
mod common;

use common::*;

#[test]
fn every_sample_reads_the_same_as_folder_zip_and_tar_gz() {
    let samples = samples();
    assert!(!samples.is_empty());
    for s in samples {
        let dir = tempfile::tempdir().unwrap();
        let r = report(&s);
        let id = r["bundle"]["cluster_id"].as_str().unwrap().to_string();
        let ts = r["bundle"]["created_at"]
            .as_str()
            .unwrap()
            .replace(':', "-");
        let top = format!("supportbundle_{id}_{ts}");
        let z = dir.path().join(format!("{top}.zip"));
        let t = dir.path().join(format!("{top}.tar.gz"));
        zip_dir(&s, &top, &z);
        tar_gz_dir(&s, &top, &t);
        let base = comparable(r);
        assert_eq!(base, comparable(report(&z)), "{}: zip differs", s.display());
        assert_eq!(
            base,
            comparable(report(&t)),
            "{}: tar.gz differs",
            s.display()
        );
        assert!(
            base["coverage"]["parse_errors"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{}",
            s.display()
        );
    }
}

#[test]
fn healthy_cluster_facts() {
    let r = report(&sample("healthy-v1.4.0"));
    let b = &r["bundle"];
    assert_eq!(b["created_at"], "2025-02-14T09:41:07Z");
    assert_eq!(b["cluster_id"], "3f6c2a1e-8b7d-4e2a-9c41-5d0e7a9b1c23");
    assert_eq!(b["harvester_version"], "v1.4.0");
    assert_eq!(b["rancher_version"], "v2.9.2");
    assert_eq!(b["kubernetes_version"], "v1.29.9+rke2r1");
    assert_eq!(b["nodes"], 3);
    assert_eq!(b["objects"], 310);
    // 13 events served again by events.k8s.io. The fleet, CAPI and provisioning `Cluster`s
    // named local share a uid in the generator but are distinct objects.
    assert_eq!(b["duplicate_objects"], 13);
    // A healthy cluster: nothing above info; every check ran except those that need the live
    // cluster (the pre-check script's host checks), which say so.
    for f in r["findings"].as_array().unwrap() {
        assert_eq!(f["severity"], "info", "{f}");
    }
    let mut live = Vec::new();
    let mut na = Vec::new();
    for c in r["checks"].as_array().unwrap() {
        if let Some(k) = c.get("check") {
            // Admission sub-checks: the ones v1.4.0 lacks are not applicable, the two that need
            // the kubelet's live stats are not evaluated, every other one passes.
            let k = k.as_str().unwrap();
            let want = match k {
                "C4" | "C13" | "C21" | "C23" | "C25" | "C26" | "C27" | "C28" => "not_applicable",
                "C17" | "C18" => "not_evaluated",
                _ => "pass",
            };
            assert_eq!(c["status"], want, "{c}");
            continue;
        }
        if c["status"] == "not_evaluated" {
            assert!(
                c["reason"]
                    .as_str()
                    .unwrap()
                    .contains("which a support bundle does not hold"),
                "{c}"
            );
            live.push(c["rule"].as_str().unwrap().to_string());
        } else if c["status"] == "not_applicable" {
            // check.sh runs these only on other versions than v1.4.0.
            na.push(c["rule"].as_str().unwrap().to_string());
        } else {
            assert_eq!(c["status"], "pass", "{c}");
        }
    }
    assert_eq!(
        na,
        [
            "upgrade.precheck.backup-target",
            "upgrade.precheck.cos-state-size",
            "upgrade.precheck.network-config",
            "upgrade.precheck.rwx-network-ip",
        ]
    );
    assert_eq!(
        live,
        [
            "upgrade.precheck.certificates",
            "upgrade.precheck.host",
            "upgrade.precheck.node-free-space",
        ]
    );
    // The etcd restart whose previous log could not be fetched is known, as info.
    let generr = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "bundle.collection-errors")
        .expect("previous-log failure reported");
    assert!(generr["summary"].as_str().unwrap().contains("etcd"));
    assert_eq!(generr["evidence"][0]["file"], "bundleGenerationError.log");
    assert!(
        generr["evidence"][0]["excerpt"]
            .as_str()
            .unwrap()
            .contains("cannot get log for pod")
    );
}

#[test]
fn healthy_cluster_queries() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let ds = ok(&[
        "get",
        "ds",
        "harvester-whereabouts",
        "-n",
        "kube-system",
        "-b",
        b,
    ]);
    assert_eq!(
        ds.lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        [
            "harvester-whereabouts",
            "3",
            "3",
            "3",
            "3",
            "3",
            "<none>",
            "273d"
        ]
    );
    let vms = ok(&["get", "vm", "-b", b]);
    assert!(
        vms.lines()
            .any(|l| l.starts_with("vm-web-01") && l.contains("Running")),
        "{vms}"
    );
    let mcc = ok(&[
        "get",
        "managedcharts.management.cattle.io",
        "-n",
        "fleet-local",
        "-o",
        "name",
        "-b",
        b,
    ]);
    assert!(mcc.contains("managedchart.management.cattle.io/harvester\n"));
    let all = ok(&["get", "pods", "-A", "-b", b]);
    assert_eq!(all.lines().count(), 62 + 1);
    assert!(all.starts_with("NAMESPACE"));
    // kubectl's habit: an empty list is no error.
    let none = sbdiag(&["get", "pods", "-b", b, "-n", "nope"]);
    assert_eq!(none.status.code(), Some(0));
    assert!(none.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&none.stderr),
        "No resources found in nope namespace.\n"
    );
    // previous container instance, and node logs from the nested zips
    let prev = ok(&["logs", "-b", b, "virt-handler-8wnxm", "--previous"]);
    assert!(!prev.is_empty());
    let kern = ok(&[
        "logs",
        "-b",
        b,
        "harvester-node-1",
        "-c",
        "kernel",
        "--tail",
        "3",
    ]);
    assert_eq!(kern.lines().count(), 3);
    let y = ok(&["get", "node", "harvester-node-0", "-o", "yaml", "-b", b]);
    assert!(y.starts_with("# source: yamls/cluster/v1/nodes.yaml:"));
    assert!(y.contains("\nkind: Node\n"));
    let j: serde_json::Value = serde_json::from_str(&ok(&[
        "get",
        "node",
        "harvester-node-0",
        "-o",
        "json",
        "-b",
        b,
    ]))
    .unwrap();
    assert_eq!(j["metadata"]["name"], "harvester-node-0");
    let d = ok(&[
        "describe",
        "pod",
        "virt-handler-8wnxm",
        "-n",
        "harvester-system",
        "-b",
        b,
    ]);
    assert!(d.contains("Namespace:    harvester-system"), "{d}");
    assert!(d.contains("restarts=1"), "{d}");
}

#[test]
fn samples_are_the_generators_output() {
    let out = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/generate.py"))
        .arg("--check")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "samples differ from samples/generate.py output:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `events.k8s.io` copies of core Events are kept light in a zip or folder (read with the
/// core events first) and shown with their primary's view; a tar.gz, read in one pass, keeps
/// them whole. Either way they are aliases and the queries see the same events.
#[test]
fn event_copies_are_light_aliases_that_show_their_primary() {
    use sbdiag::analyze::Analysis;
    use sbdiag::archive::Limits;
    use sbdiag::model::View;
    let s = samples()
        .into_iter()
        .find(|p| p.ends_with("healthy-v1.4.0"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("b.tar.gz");
    tar_gz_dir(&s, "supportbundle_x_2025-02-14T09-41-07Z", &t);
    for (path, light) in [(s.as_path(), true), (t.as_path(), false)] {
        let a = Analysis::load(path, &Limits::default(), &|_, _| {}).unwrap();
        let copies: Vec<_> = a.index.of_kind_all("events.k8s.io", "Event").collect();
        assert_eq!(copies.len(), 13, "{}", path.display());
        for c in copies {
            let p = c.alias_of.expect("a copy is an alias");
            let primary = &a.index.objects[p];
            assert_eq!(primary.key.group, "");
            assert_eq!(primary.meta.uid, c.meta.uid);
            assert_eq!(matches!(c.view, View::Generic), light, "{}", path.display());
            assert_eq!(a.index.view_of(c), &primary.view);
            assert!(matches!(a.index.view_of(c), View::Event(_)));
        }
    }
}

/// Evidence in a large list (over 4 MiB) is read by streaming its cited lines: the excerpts
/// are the cited lines of the file, in a zip and in a folder.
#[test]
fn evidence_in_a_large_list_is_streamed_and_exact() {
    let src = sample("healthy-v1.4.0");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("b");
    copy_tree(&src, &root, |_, t| t);
    // The core events of `default`, their items copied under new names and uids until the
    // list is over 4 MiB; copies are newer, so they fill the timeline.
    let rel = "yamls/namespaced/default/v1/events.yaml";
    let list = std::fs::read_to_string(root.join(rel)).unwrap();
    let items = &list[list.find("items:\n").unwrap() + "items:\n".len()..];
    let (items, tail) = items.split_at(items.find("\nkind: ").map_or(items.len(), |i| i + 1));
    let mut grown = String::from("apiVersion: v1\nitems:\n");
    grown.push_str(items);
    let mut n = 0;
    while grown.len() < 5 << 20 {
        n += 1;
        grown.push_str(
            &items
                .replace("2025-02-14T09:", "2025-02-14T10:")
                .replace("    name: ", &format!("    name: copy{n}-"))
                .replace("    uid: ", &format!("    uid: {n}-")),
        );
    }
    grown.push_str(tail);
    std::fs::write(root.join(rel), &grown).unwrap();
    let lines: Vec<&str> = grown.lines().collect();
    let z = dir.path().join("b.zip");
    zip_dir(&root, "supportbundle_x_2025-02-14T09-41-07Z", &z);
    for bundle in [&root, &z] {
        // The lines as streamed (not a fallback to reading the file whole) are the file's.
        let b = sbdiag::bundle::Bundle::open(bundle, &sbdiag::archive::Limits::default()).unwrap();
        let mut streamed = Vec::new();
        b.for_each_line(rel, |n, l| {
            assert_eq!(n as usize, streamed.len() + 1);
            streamed.push(l.to_string());
            true
        })
        .unwrap();
        assert_eq!(streamed, lines, "{}", bundle.display());
        let r = report(bundle);
        let cited: Vec<&serde_json::Value> = r["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t.get("evidence"))
            .filter(|e| e["file"] == rel)
            .collect();
        assert!(cited.len() > 100, "{}: {}", bundle.display(), cited.len());
        for e in cited {
            let line = e["line"].as_u64().unwrap() as usize;
            assert_eq!(
                e["excerpt"].as_str().unwrap(),
                format!("{}\n", lines[line - 1]),
                "{} line {line}",
                bundle.display()
            );
            assert!(lines[line - 1].trim_start().starts_with("name: copy"));
        }
    }
}
