//! `sbdiag scan`: a folder of bundles with a broken archive scans in one command, every good
//! bundle gets its reports, the summary names the findings bundles share, duplicates are
//! skipped, and shards merged give the unsharded summary byte for byte.
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{samples, sbdiag, zip_dir};
use sbdiag::scan::Shard;

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Random-looking bytes (fixed seed) that no archive reader accepts.
fn junk(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn run(args: &[&Path], extra: &[&str]) -> Output {
    let mut a: Vec<&str> = vec!["scan"];
    a.extend(args.iter().map(|p| p.to_str().expect("utf-8 path")));
    a.extend_from_slice(extra);
    sbdiag(&a)
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "scan failed: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn rows(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("scan.jsonl"))
        .expect("scan.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn scan_reports_every_bundle_and_the_broken_one() {
    let t = tempfile::tempdir().unwrap();
    let broken = t.path().join("broken.zip");
    std::fs::write(&broken, junk(4096)).unwrap();
    let out = t.path().join("out");
    let o = run(
        &[&samples_dir(), &broken],
        &["-o", out.to_str().unwrap(), "--jobs", "2"],
    );
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    let samples = samples();
    assert_eq!(lines.len(), samples.len() + 1, "{text}");
    // One error line for the broken archive, naming it, and the scan went on.
    let err: Vec<&&str> = lines.iter().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(err.len(), 1, "{text}");
    assert!(err[0].starts_with("broken  ERROR  broken.zip: not a readable archive"));
    // Every good bundle: its line (cluster, version, capture time, counts, top finding) and its
    // reports.
    for s in &samples {
        let n = name(s);
        let meta = std::fs::read_to_string(s.join("metadata.yaml")).unwrap();
        let cluster = meta
            .lines()
            .find_map(|l| l.strip_prefix("projectnamespaceuuid: "))
            .unwrap();
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{n}  ")))
            .unwrap_or_else(|| panic!("no line for {n}:\n{text}"));
        assert!(line.contains(&format!("cluster {cluster}")), "{line}");
        assert!(line.contains("captured 2025-02-14T09:41:07Z"), "{line}");
        assert!(line.contains("top: "), "{line}");
        for f in ["report.html", "report.md", "report.json"] {
            assert!(out.join(&n).join(f).is_file(), "{n}/{f} missing");
        }
        let r: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(&n).join("report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(r["bundle"]["cluster_id"], cluster);
    }
    let stale = lines
        .iter()
        .find(|l| l.starts_with("fleet-stale-v1.4.0  "))
        .unwrap();
    assert!(stale.contains("harvester v1.4.0"), "{stale}");
    assert!(
        stale.contains(
            "top: error fleet.stale-status:Bundle/fleet-local/mcc-harvester:DaemonSet/kube-system/harvester-whereabouts"
        ),
        "{stale}"
    );
    // Summary files.
    let rows = rows(&out);
    assert_eq!(rows.len(), samples.len() + 1);
    let broken_row = rows.iter().find(|r| r["name"] == "broken").unwrap();
    assert_eq!(broken_row["status"], "error");
    assert_eq!(broken_row["path"], "broken.zip");
    assert!(
        rows.iter()
            .filter(|r| r["name"] != "broken")
            .all(|r| r["status"] == "ok")
    );
    let csv = std::fs::read_to_string(out.join("scan.csv")).unwrap();
    assert_eq!(csv.lines().count(), samples.len() + 2);
    assert!(csv.starts_with("name,path,status,cluster_id,harvester_version,"));
    // The summary names the findings bundles share, with the bundles that have them.
    let html = std::fs::read_to_string(out.join("scan.html")).unwrap();
    let mut shared: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in &rows {
        for f in r["findings"].as_array().unwrap() {
            if f["severity"] != "info" {
                shared
                    .entry(f["id"].as_str().unwrap().to_string())
                    .or_default()
                    .push(r["name"].as_str().unwrap().to_string());
            }
        }
    }
    let c12 = &shared["upgrade.admission:C12"];
    assert!(c12.len() >= 2, "{c12:?}");
    assert!(c12.contains(&"fleet-stale-v1.4.0".to_string()));
    let section = html
        .split("<h2 id=\"shared\">")
        .nth(1)
        .and_then(|s| s.split("<h2 id=\"matrix\">").next())
        .unwrap();
    for (id, bundles) in shared.iter().filter(|(_, b)| b.len() > 1) {
        let esc = id.replace('/', "&#x2f;");
        let at = section
            .find(&format!("<code>{esc}</code>"))
            .unwrap_or_else(|| panic!("{id} not in the shared findings"));
        let row = &section[at..section[at..].find("</tr>").unwrap() + at];
        for b in bundles {
            assert!(row.contains(&format!(">{b}</a>")), "{b} not named for {id}");
        }
    }
    assert!(html.contains("id=\"failed\""));
    assert!(html.contains("broken.zip: not a readable archive"));
    // Nothing machine-specific in the summary: no absolute path of this run.
    let tmp = t.path().to_str().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    for f in ["scan.html", "scan.csv", "scan.jsonl"] {
        let s = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!s.contains(tmp) && !s.contains(root), "{f} holds a path");
    }
}

/// Two file names in different shards of 2.
fn names_in_both_shards() -> (String, String) {
    let zero = Shard { index: 0, count: 2 };
    let mut a = None;
    let mut b = None;
    for i in 0.. {
        let n = format!("copy-{i}.zip");
        if zero.contains(&n) {
            a.get_or_insert(n);
        } else {
            b.get_or_insert(n);
        }
        if a.is_some() && b.is_some() {
            break;
        }
    }
    (a.unwrap(), b.unwrap())
}

#[test]
fn shards_merged_equal_the_unsharded_scan() {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir_all(input.join("archives")).unwrap();
    // The same zip under two names that land in different shards: the merge must resolve the
    // duplicate as a single scan does.
    let (a, b) = names_in_both_shards();
    let z = input.join("archives").join(&a);
    zip_dir(
        &samples_dir().join("fleet-drift-v1.4.0"),
        "supportbundle_drift",
        &z,
    );
    std::fs::copy(&z, input.join(&b)).unwrap();
    std::fs::write(input.join("archives/broken.tgz"), junk(1000)).unwrap();
    let args = [samples_dir(), input.clone()];
    let args: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
    let o = |d: &str| t.path().join(d);
    let full = stdout(&run(&args, &["-o", o("full").to_str().unwrap()]));
    let s0 = stdout(&run(
        &args,
        &["-o", o("s0").to_str().unwrap(), "--shard", "0/2"],
    ));
    let s1 = stdout(&run(
        &args,
        &[
            "-o",
            o("s1").to_str().unwrap(),
            "--shard",
            "1/2",
            "--jobs",
            "1",
        ],
    ));
    // The shards partition the bundles.
    let count = |s: &str| s.lines().count();
    assert_eq!(count(&s0) + count(&s1), count(&full));
    assert!(count(&s0) > 0 && count(&s1) > 0);
    let merged = sbdiag(&[
        "scan",
        "--merge",
        o("s0").to_str().unwrap(),
        o("s1").to_str().unwrap(),
        "-o",
        o("merged").to_str().unwrap(),
    ]);
    let merged_out = stdout(&merged);
    assert_eq!(merged_out, full, "merge lines differ from the scan's");
    for f in ["scan.jsonl", "scan.csv", "scan.html"] {
        let x = std::fs::read(o("full").join(f)).unwrap();
        let y = std::fs::read(o("merged").join(f)).unwrap();
        assert!(
            x == y,
            "{f}: merge of shards differs from the unsharded scan"
        );
    }
    // The duplicate across shards is resolved as one scan resolves it.
    let rows = rows(&o("full"));
    let dup: Vec<&serde_json::Value> = rows.iter().filter(|r| r["status"] == "duplicate").collect();
    assert_eq!(dup.len(), 1, "{rows:?}");
    let keeper = dup[0]["duplicate_of"].as_str().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["name"] == keeper && r["status"] == "ok")
    );
    // The merged folder has every analysed bundle's reports, identical to the scan's.
    for r in rows.iter().filter(|r| r["status"] == "ok") {
        let n = r["name"].as_str().unwrap();
        for f in ["report.json", "report.md", "report.html"] {
            let x = std::fs::read(o("full").join(n).join(f)).unwrap();
            let y = std::fs::read(o("merged").join(n).join(f))
                .unwrap_or_else(|_| panic!("{n}/{f} not merged"));
            assert!(x == y, "{n}/{f} differs");
        }
    }
    assert!(!o("merged").join(dup[0]["name"].as_str().unwrap()).exists());
    // A second scan gives the same bytes (nothing depends on the run).
    stdout(&run(&args, &["-o", o("again").to_str().unwrap()]));
    for f in ["scan.jsonl", "scan.csv", "scan.html"] {
        assert!(
            std::fs::read(o("full").join(f)).unwrap() == std::fs::read(o("again").join(f)).unwrap()
        );
    }
}

#[test]
fn the_same_zip_twice_is_scanned_once() {
    let t = tempfile::tempdir().unwrap();
    let z = t.path().join("stale.zip");
    zip_dir(
        &samples_dir().join("fleet-stale-v1.4.0"),
        "supportbundle_stale",
        &z,
    );
    let out = t.path().join("out");
    let text = stdout(&run(&[&z, &z], &["-o", out.to_str().unwrap()]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("stale  cluster 6e1b9c47-2d3a-4f8e-b5c0-91a7d4e3f682"));
    assert_eq!(
        lines[1],
        "stale-2  DUPLICATE  same SHA-256 as stale, skipped"
    );
    assert!(out.join("stale/report.json").is_file());
    assert!(!out.join("stale-2").exists());
    let rows = rows(&out);
    assert_eq!(rows[1]["status"], "duplicate");
    assert_eq!(rows[1]["sha256"], rows[0]["sha256"]);
}

#[test]
fn rule_filter_fail_on_and_unusable_arguments() {
    let t = tempfile::tempdir().unwrap();
    let stale = samples_dir().join("fleet-stale-v1.4.0");
    let healthy = samples_dir().join("healthy-v1.4.0");
    let out = t.path().join("out");
    let o = run(
        &[&stale, &healthy],
        &["-o", out.to_str().unwrap(), "--rules", "fleet.,webhook"],
    );
    stdout(&o);
    for r in rows(&out) {
        for f in r["findings"].as_array().unwrap() {
            let rule = f["rule"].as_str().unwrap();
            assert!(
                rule.starts_with("fleet.") || rule.starts_with("webhook."),
                "{rule}"
            );
        }
    }
    // --fail-on: exit 1 when a bundle has an error finding.
    let o = run(
        &[&stale],
        &["-o", out.to_str().unwrap(), "--fail-on", "error"],
    );
    assert_eq!(o.status.code(), Some(1));
    let o = run(
        &[&healthy],
        &["-o", out.to_str().unwrap(), "--fail-on", "error"],
    );
    assert_eq!(o.status.code(), Some(0));
    // Unusable arguments exit 2 with a message.
    for (args, extra, msg) in [
        (
            vec![stale.clone()],
            vec!["--rules", "nope"],
            "matches no rule",
        ),
        (vec![stale.clone()], vec!["--shard", "2/2"], "not a shard"),
        (vec![t.path().join("missing")], vec![], "missing"),
        (
            vec![t.path().join("out/fleet-stale-v1.4.0")],
            vec![],
            "no bundle found",
        ),
    ] {
        let paths: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
        let mut e = extra.clone();
        let o2 = t.path().join("o2");
        e.extend(["-o", o2.to_str().unwrap()]);
        let o = run(&paths, &e);
        assert_eq!(o.status.code(), Some(2), "{args:?} {extra:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(msg), "{err}");
    }
    // A shard output that is not one.
    std::fs::create_dir_all(t.path().join("bad")).unwrap();
    std::fs::write(t.path().join("bad/scan.jsonl"), "{not json}\n").unwrap();
    let o = sbdiag(&[
        "scan",
        "--merge",
        t.path().join("bad").to_str().unwrap(),
        "-o",
        t.path().join("m").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("scan.jsonl:1: not a scan row"));
}
