//! The report contract against its JSON Schemas (`schema/`): every `report.json` the tool
//! writes (`analyze --json`, `analyze -o`, `scan`) for every sample, as a folder, a zip and a
//! tar.gz, and for the real bundle validates against `schema/report.schema.json`; every
//! `scan.jsonl` row against `schema/scan-row.schema.json`. The schemas are valid JSON Schema
//! 2020-12, and not vacuous: broken reports and rows are refused. What a schema cannot say
//! (an id starts with its rule, the verdict counts the findings) is checked beside it.
mod common;

use std::path::{Path, PathBuf};

use common::{ok, real_bundles, sample, samples, sbdiag, tar_gz_dir, zip_dir};
use serde_json::{Value, json};

fn schema(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the schema compiles")
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn assert_valid(v: &jsonschema::Validator, instance: &Value, what: &str) {
    let e = errors(v, instance);
    assert!(e.is_empty(), "{what} breaks the schema:\n{e:#?}");
}

/// What the contract says that a JSON Schema cannot.
fn assert_invariants(r: &Value, what: &str) {
    let findings = r["findings"].as_array().expect("findings");
    let rank = |s: &Value| match s.as_str() {
        Some("error") => 2,
        Some("warning") => 1,
        _ => 0,
    };
    for f in findings {
        let (id, rule) = (f["id"].as_str().unwrap(), f["rule"].as_str().unwrap());
        assert!(
            id.starts_with(&format!("{rule}:")),
            "{what}: id {id} is not of its rule {rule}"
        );
        for e in f["evidence"].as_array().unwrap() {
            assert!(
                e["end_line"].as_u64() >= e["line"].as_u64(),
                "{what}: {id}: evidence ends before it starts: {e}"
            );
        }
        if let Some(g) = f.get("graph") {
            let n = g["nodes"].as_array().unwrap().len() as u64;
            for e in g["edges"].as_array().unwrap() {
                assert!(
                    e["from"].as_u64().unwrap() < n && e["to"].as_u64().unwrap() < n,
                    "{what}: {id}: graph edge outside its nodes: {e}"
                );
            }
        }
    }
    // Most severe first.
    let ranks: Vec<i32> = findings.iter().map(|f| rank(&f["severity"])).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{what}: {ranks:?}");
    // The verdict counts what the report holds.
    let count = |s: &str| findings.iter().filter(|f| f["severity"] == s).count() as u64;
    let v = &r["verdict"];
    assert_eq!(v["errors"].as_u64(), Some(count("error")), "{what}");
    assert_eq!(v["warnings"].as_u64(), Some(count("warning")), "{what}");
    assert_eq!(v["infos"].as_u64(), Some(count("info")), "{what}");
    let not_evaluated = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "not_evaluated")
        .count() as u64;
    assert_eq!(v["not_evaluated"].as_u64(), Some(not_evaluated), "{what}");
    // One entry per rule and per sub-check; a sub-check's rule has its own entry.
    let mut seen = std::collections::BTreeSet::new();
    for c in r["checks"].as_array().unwrap() {
        let key = (
            c["rule"].as_str().unwrap(),
            c.get("check").and_then(Value::as_str),
        );
        assert!(seen.insert(key), "{what}: check {key:?} listed twice");
    }
    for (rule, check) in &seen {
        assert!(
            check.is_none() || seen.contains(&(*rule, None)),
            "{what}: sub-check {check:?} of {rule} without the rule's own entry"
        );
    }
}

fn check_report(v: &jsonschema::Validator, text: &str, what: &str) -> Value {
    let r: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_valid(v, &r, what);
    assert_invariants(&r, what);
    r
}

#[test]
fn the_schemas_are_json_schema_2020_12() {
    for name in ["report.schema.json", "scan-row.schema.json"] {
        let s = schema(name);
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        if let Err(e) = jsonschema::meta::validate(&s) {
            panic!("{name} is not a valid JSON Schema: {e}");
        }
    }
}

#[test]
fn every_report_written_follows_the_schema() {
    let v = validator(&schema("report.schema.json"));
    let t = tempfile::tempdir().unwrap();
    let mut formats = std::collections::BTreeSet::new();
    // Every sample, printed with --json.
    for s in samples() {
        let text = ok(&["analyze", s.to_str().unwrap(), "--json"]);
        let r = check_report(&v, &text, &s.display().to_string());
        formats.insert(r["bundle"]["format"].as_str().unwrap().to_string());
    }
    // One sample as each archive format, and the real bundles, written with -o.
    let stale = sample("fleet-stale-v1.4.0");
    let zip = t.path().join("stale.zip");
    zip_dir(&stale, "supportbundle_stale", &zip);
    let tgz = t.path().join("stale.tar.gz");
    tar_gz_dir(&stale, "supportbundle_stale", &tgz);
    let mut written: Vec<PathBuf> = vec![zip, tgz];
    written.extend(real_bundles());
    for (i, b) in written.iter().enumerate() {
        let out = t.path().join(format!("out{i}"));
        ok(&[
            "analyze",
            b.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
        let r = check_report(&v, &text, &b.display().to_string());
        formats.insert(r["bundle"]["format"].as_str().unwrap().to_string());
    }
    assert!(
        ["dir", "zip", "targz"].iter().all(|f| formats.contains(*f)),
        "{formats:?}"
    );
}

#[test]
fn every_scan_row_and_report_follows_the_schema() {
    let rows_v = validator(&schema("scan-row.schema.json"));
    let report_v = validator(&schema("report.schema.json"));
    let t = tempfile::tempdir().unwrap();
    let broken = t.path().join("broken.zip");
    std::fs::write(&broken, b"not an archive").unwrap();
    let zip = t.path().join("healthy.zip");
    zip_dir(&sample("healthy-v1.4.0"), "supportbundle_healthy", &zip);
    let out = t.path().join("out");
    let samples_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let o = sbdiag(&[
        "scan",
        samples_dir.to_str().unwrap(),
        broken.to_str().unwrap(),
        zip.to_str().unwrap(),
        zip.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("scan.jsonl")).expect("scan.jsonl");
    let mut statuses = std::collections::BTreeSet::new();
    let mut reports = 0;
    for line in text.lines() {
        let row: Value = serde_json::from_str(line).expect("a JSON row");
        assert_valid(&rows_v, &row, line);
        statuses.insert(row["status"].as_str().unwrap().to_string());
        if row["status"] == "ok" {
            let p = out.join(row["name"].as_str().unwrap()).join("report.json");
            let r = check_report(
                &report_v,
                &std::fs::read_to_string(&p).expect("report.json"),
                &p.display().to_string(),
            );
            assert_eq!(row["verdict"], r["verdict"]["headline"], "{line}");
            reports += 1;
        }
    }
    assert_eq!(reports, samples().len() + 1);
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["duplicate", "error", "ok"]
    );
}

/// A named change that breaks a report or a row.
type Break = Box<dyn Fn(&mut Value)>;

/// A report of a sample with findings of every part of the contract.
fn good_report() -> Value {
    let text = ok(&[
        "analyze",
        sample("upgrade-blocked-v1.4.0").to_str().unwrap(),
        "--json",
    ]);
    let mut r: Value = serde_json::from_str(&text).unwrap();
    // The breaks below edit the first finding: put first one with every part (objects and a
    // graph; the kernel findings that lead this sample name their node in the id only).
    let findings = r["findings"].as_array_mut().unwrap();
    let full = findings
        .iter()
        .position(|f| f["graph"].is_object() && !f["objects"].as_array().unwrap().is_empty())
        .unwrap();
    findings.swap(0, full);
    r
}

#[test]
fn the_report_schema_refuses_broken_reports() {
    let v = validator(&schema("report.schema.json"));
    let good = good_report();
    assert_valid(&v, &good, "the sample report");
    assert!(good["findings"][0]["graph"].is_object());
    let breaks: Vec<(&str, Break)> = vec![
        (
            "unknown severity",
            Box::new(|r| r["findings"][0]["severity"] = "critical".into()),
        ),
        (
            "finding without id",
            Box::new(|r| {
                r["findings"][0].as_object_mut().unwrap().remove("id");
            }),
        ),
        (
            "id not of a rule",
            Box::new(|r| r["findings"][0]["id"] = "no colon".into()),
        ),
        (
            "unknown field",
            Box::new(|r| r["findings"][0]["score"] = 3.into()),
        ),
        (
            "unknown top-level field",
            Box::new(|r| r["extra"] = json!({})),
        ),
        (
            "line as text",
            Box::new(|r| r["findings"][0]["evidence"][0]["line"] = "12".into()),
        ),
        (
            "negative line",
            Box::new(|r| r["findings"][0]["evidence"][0]["line"] = (-1).into()),
        ),
        (
            "open-ended range leaked",
            Box::new(|r| r["findings"][0]["evidence"][0]["end_line"] = u32::MAX.into()),
        ),
        (
            "unknown check status",
            Box::new(|r| r["checks"][0]["status"] = "skipped".into()),
        ),
        (
            "sub-check id with a space",
            Box::new(|r| {
                let c = r["checks"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|c| c.get("check").is_some())
                    .unwrap();
                c["check"] = "C 25".into();
            }),
        ),
        (
            "check without reason",
            Box::new(|r| {
                r["checks"][0].as_object_mut().unwrap().remove("reason");
            }),
        ),
        (
            "empty namespace",
            Box::new(|r| r["findings"][0]["objects"][0]["namespace"] = "".into()),
        ),
        (
            "graph node not ready as text",
            Box::new(|r| r["findings"][0]["graph"]["nodes"][0]["ready"] = "yes".into()),
        ),
        (
            "unknown timeline kind",
            Box::new(|r| r["timeline"][0]["kind"] = "alert".into()),
        ),
        (
            "timeline time not RFC 3339",
            Box::new(|r| r["timeline"][0]["at"] = "yesterday".into()),
        ),
        (
            "unknown archive format",
            Box::new(|r| r["bundle"]["format"] = "rar".into()),
        ),
        (
            "capture time not UTC RFC 3339",
            Box::new(|r| r["bundle"]["created_at"] = "22 March 2022".into()),
        ),
        (
            "schema version 2",
            Box::new(|r| r["schema_version"] = 2.into()),
        ),
        (
            "no verdict",
            Box::new(|r| {
                r.as_object_mut().unwrap().remove("verdict");
            }),
        ),
        (
            "negative count",
            Box::new(|r| r["verdict"]["errors"] = (-1).into()),
        ),
        (
            "gap without why",
            Box::new(|r| {
                r["coverage"]["missing"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("why");
            }),
        ),
        (
            "incident without cause",
            Box::new(|r| {
                r["incidents"] = json!([{
                    "id": "incident:Node/n", "severity": "error", "title": "t",
                    "effects": [], "impact": "i", "remediation": "r"
                }])
            }),
        ),
    ];
    for (what, f) in &breaks {
        let mut r = good.clone();
        f(&mut r);
        assert_ne!(r, good, "{what}: the change did not apply");
        assert!(!v.is_valid(&r), "the schema accepts a report with {what}");
    }
    // What the contract allows: sub-checks (`check`), `not_applicable`, incidents (DESIGN §3).
    let mut r = good.clone();
    r["checks"]
        .as_array_mut()
        .unwrap()
        .push(json!({"rule": "upgrade.admission", "check": "C25", "status": "not_applicable", "reason": "v1.4.0 has no such check"}));
    r["incidents"] = json!([{
        "id": "incident:Node/harvester-node-2",
        "severity": "error",
        "title": "Node harvester-node-2 is down: NotReady for 40m before capture",
        "cause": "node.not-ready:Node/harvester-node-2",
        "effects": ["fleet.stale-status:x", "upgrade.admission:C12"],
        "impact": "VMs on it stop",
        "remediation": "bring it back"
    }]);
    assert_valid(&v, &r, "a report with sub-checks and incidents");
}

#[test]
fn the_scan_row_schema_refuses_broken_rows() {
    let v = validator(&schema("scan-row.schema.json"));
    let ok_row = json!({
        "name": "a", "path": "a.zip", "status": "ok", "sha256": "0".repeat(64), "format": "zip",
        "harvester_version": "v1.4.0", "created_at": "2025-02-14T09:41:07Z", "nodes": 3,
        "objects": 10, "errors": 1, "warnings": 0, "infos": 0, "not_evaluated": 0,
        "verdict": "1 error: x", "top_finding": "node.not-ready:Node/n",
        "findings": [{"id": "node.not-ready:Node/n", "rule": "node.not-ready", "severity": "error", "title": "t"}],
        "reports": ["report.json"]
    });
    assert_valid(&v, &ok_row, "a good row");
    let breaks: Vec<(&str, Break)> = vec![
        (
            "unknown status",
            Box::new(|r| r["status"] = "skipped".into()),
        ),
        ("ok with an error", Box::new(|r| r["error"] = "boom".into())),
        (
            "error without why",
            Box::new(|r| r["status"] = "error".into()),
        ),
        (
            "duplicate of nothing",
            Box::new(|r| r["status"] = "duplicate".into()),
        ),
        (
            "unknown severity",
            Box::new(|r| r["findings"][0]["severity"] = "fatal".into()),
        ),
        ("short hash", Box::new(|r| r["sha256"] = "abc".into())),
        ("unknown field", Box::new(|r| r["score"] = 1.into())),
        (
            "missing count",
            Box::new(|r| {
                r.as_object_mut().unwrap().remove("errors");
            }),
        ),
    ];
    for (what, f) in &breaks {
        let mut r = ok_row.clone();
        f(&mut r);
        assert!(!v.is_valid(&r), "the schema accepts a row with {what}");
    }
}
