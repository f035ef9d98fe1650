//! The report files: Markdown against golden files, SARIF against the SARIF 2.1.0 schema's
//! types, JUnit structure, and every format byte-identical across runs.
mod common;

use common::{ok, real_bundles, sample, samples};
use std::path::Path;

fn analyze(bundle: &str, formats: &str, dir: &Path) {
    ok(&[
        "analyze",
        sample(bundle).to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--format",
        formats,
    ]);
}

/// Compares with `tests/golden/<name>`; `SBDIAG_UPDATE_GOLDEN=1` rewrites it.
fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("SBDIAG_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run with SBDIAG_UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert!(
        want == got,
        "{} differs from the golden file; if the change is intended, run \
         SBDIAG_UPDATE_GOLDEN=1 cargo test --test reports",
        path.display()
    );
}

#[test]
fn markdown_golden_files() {
    for (bundle, file) in [
        ("fleet-stale-v1.4.0", "fleet-stale.md"),
        ("upgrade-blocked-v1.4.0", "upgrade-blocked.md"),
        ("healthy-v1.4.0", "healthy.md"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        analyze(bundle, "md", dir.path());
        let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        golden(file, &md);
    }
}

/// GitHub's limit for an issue body, in characters.
const GITHUB_LIMIT: usize = 65_536;

/// The lines inside ```` ```sh ```` blocks of a Markdown text.
fn sh_lines(md: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut block: Option<bool> = None;
    for l in md.lines() {
        if let Some(info) = l.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some(info == "sh"),
            };
        } else if block == Some(true) {
            out.push(l);
        }
    }
    out
}

#[test]
fn every_report_md_fits_a_github_issue_and_leads_with_incidents() {
    let mut bundles = samples();
    bundles.extend(real_bundles());
    assert!(bundles.len() > 5);
    for b in bundles {
        let dir = tempfile::tempdir().unwrap();
        ok(&[
            "analyze",
            b.to_str().unwrap(),
            "-o",
            dir.path().to_str().unwrap(),
            "--format",
            "md,json",
        ]);
        let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        let name = b.display();
        let n = md.chars().count();
        assert!(n < GITHUB_LIMIT, "{name}: report.md has {n} characters");
        assert_eq!(md.matches("```").count() % 2, 0, "{name}: fences balance");
        assert_eq!(
            md.matches("<details>").count(),
            md.matches("</details>").count(),
            "{name}: folds balance"
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
                .unwrap();
        // Every line of an sh block is a command from a fix (a `$ ` line), never prose.
        let commands: Vec<String> = report["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .chain(report["findings"].as_array().unwrap())
            .flat_map(|x| {
                x["remediation"]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("$ ").map(|c| c.trim().to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for l in sh_lines(&md) {
            assert!(
                commands
                    .iter()
                    .any(|c| c.starts_with(l.trim_end_matches('…'))),
                "{name}: {l:?} in an sh block is not a command of a fix"
            );
        }
        // The first incident is the first section after the header.
        if let Some(first) = report["incidents"][0]["title"].as_str() {
            let first_section = md
                .lines()
                .find(|l| l.starts_with("## ") && !l.starts_with("## sbdiag:"));
            assert!(
                first_section
                    .is_some_and(|l| l.ends_with(&first.replace('<', "‹").replace('>', "›"))),
                "{name}: first section {first_section:?}, first incident {first:?}"
            );
        }
        if let Some(d) = report["bundle"]["issue_description"].as_str() {
            let first_line = d.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let quoted = md
                .find("> The customer")
                .or_else(|| md.find("> **The customer's description**"));
            assert!(quoted.is_some(), "{name}: the customer's description");
            assert!(
                md.contains(&format!(
                    "> {}",
                    first_line.trim().replace('<', "‹").replace('>', "›")
                )),
                "{name}: {first_line:?} quoted"
            );
        }
    }
}

#[test]
fn markdown_is_short_and_defused() {
    let dir = tempfile::tempdir().unwrap();
    analyze("upgrade-blocked-v1.4.0", "md", dir.path());
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    // The headline names the first incident.
    assert!(
        md.starts_with("## sbdiag: Longhorn volume pvc-8bae9db4-b53f-4af3-b368-559386e7fd37"),
        "{}",
        md.lines().next().unwrap_or_default()
    );
    // GitHub comments hold 65536 characters.
    assert!(md.chars().count() < 65_536, "{} chars", md.chars().count());
    // Code fences balance, so nothing from the bundle can close one early.
    assert_eq!(md.matches("```").count() % 2, 0);
    assert!(md.contains("<details><summary>"));
}

/// The SARIF 2.1.0 JSON schema, from serde-sarif's package in the cargo registry.
fn sarif_schema() -> serde_json::Value {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let src = home.join("registry").join("src");
    let found = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e}", src.display()))
        .filter_map(|d| d.ok())
        .map(|d| d.path().join("serde-sarif-0.8.0/src/schema.json"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "serde-sarif's schema.json not found under {}",
                src.display()
            )
        });
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&found).unwrap()).unwrap();
    // The published 2.1.0 schema's `language` patterns have a stray `]`, which a strict
    // ECMA-262 regex compiler refuses; take the pattern they mean.
    fn fix(v: &mut serde_json::Value, n: &mut usize) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
                        *n += 1;
                    } else {
                        fix(x, n);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| fix(x, n)),
            _ => {}
        }
    }
    let mut n = 0;
    fix(&mut schema, &mut n);
    assert!(n > 0, "the schema changed: review the pattern fix");
    schema
}

#[test]
fn sarif_follows_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    analyze("upgrade-blocked-v1.4.0", "sarif,json", dir.path());
    let text = std::fs::read_to_string(dir.path().join("report.sarif")).unwrap();
    // serde-sarif's types are generated from the SARIF 2.1.0 JSON schema: required fields,
    // enums (levels) and shapes must match for this to parse.
    let log: serde_sarif::sarif::Sarif = serde_json::from_str(&text).expect("valid SARIF 2.1.0");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // And against the SARIF 2.1.0 JSON schema itself (the copy shipped in serde-sarif's
    // package), with a JSON-schema validator: every constraint, not only the shapes.
    let schema = sarif_schema();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report.sarif breaks the schema:\n{errors:#?}"
    );
    // The validator is not vacuous: a result with an unknown level is refused.
    let mut bad = v.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad));
    assert_eq!(v["version"], "2.1.0");
    let _ = log;
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "upgrade.admission"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), report["findings"].as_array().unwrap().len());
    // Each result names the incident that holds its finding, as report.json does.
    for f in report["findings"].as_array().unwrap() {
        let res = results
            .iter()
            .find(|x| x["partialFingerprints"]["sbdiagFindingId"] == f["id"])
            .unwrap();
        assert_eq!(
            res["properties"].get("incident"),
            f.get("incident"),
            "{}",
            f["id"]
        );
        if let Some(id) = f["incident"].as_str() {
            let i = report["incidents"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == id)
                .unwrap();
            assert_eq!(res["properties"]["incidentTitle"], i["title"]);
        }
    }
    let c15 = results
        .iter()
        .find(|r| r["partialFingerprints"]["sbdiagFindingId"] == "upgrade.admission:C15")
        .unwrap();
    assert_eq!(c15["level"], "error");
    let loc = &c15["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "yamls/cluster/v1/nodes.yaml"
    );
    assert!(loc["region"]["startLine"].as_u64().unwrap() > 0);
    // ruleIndex points at the rule.
    let i = c15["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[i]["id"], "upgrade.admission");
    // Checks not evaluated are notifications, not silent passes.
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let skipped = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "not_evaluated")
        .count();
    assert!(skipped > 0);
    assert_eq!(notes.len(), skipped);
    assert!(notes.iter().all(|n| {
        n["message"]["text"]
            .as_str()
            .unwrap()
            .contains("not evaluated: ")
    }));
}

#[test]
fn junit_has_one_case_per_check() {
    let dir = tempfile::tempdir().unwrap();
    analyze("upgrade-blocked-v1.4.0", "junit,json", dir.path());
    let xml = std::fs::read_to_string(dir.path().join("report.junit.xml")).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let checks = report["checks"].as_array().unwrap();
    let in_incidents = xml
        .matches("<testcase classname=\"sbdiag.incident.")
        .count();
    assert_eq!(
        xml.matches("<testcase ").count() - in_incidents,
        checks.len()
    );
    let held: usize = report["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| 1 + i["effects"].as_array().unwrap().len())
        .sum();
    assert_eq!(in_incidents, held);
    let fails = checks.iter().filter(|c| c["status"] == "fail").count();
    let incident_fails = xml
        .split("<testcase classname=\"sbdiag.incident.")
        .skip(1)
        .filter(|c| c.split("</testcase>").next().unwrap().contains("<failure "))
        .count();
    assert_eq!(xml.matches("<failure ").count(), fails + incident_fails);
    assert!(xml.contains(&format!("failures=\"{fails}\"")));
    assert!(xml.contains("<skipped message="));
    assert!(xml.contains("name=\"upgrade.admission\""));
    // Well formed: every element closed in order, under one <testsuites>.
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut rest = xml.as_str();
    while let Some(i) = rest.find('<') {
        let end = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "</{name}> out of order");
        } else {
            let name = tag.split_whitespace().next().unwrap();
            if stack.is_empty() {
                roots += 1;
            }
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1);
    // One test suite for the checks, and one per incident with a case per finding it holds.
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 1 + incidents.len());
    for i in incidents {
        let id = i["id"].as_str().unwrap().replace('/', "&#x2f;");
        assert!(xml.contains(&format!("<property name=\"incident\" value=\"{id}\"/>")));
    }
}

#[test]
fn every_format_is_byte_identical_across_runs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let all = "html,md,json,sarif,junit";
    analyze("upgrade-stuck-predrained-v1.4.0", all, a.path());
    analyze("upgrade-stuck-predrained-v1.4.0", all, b.path());
    for f in [
        "report.html",
        "report.md",
        "report.json",
        "report.sarif",
        "report.junit.xml",
    ] {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(x == y, "{f} differs between runs");
        assert!(!x.is_empty() || f == "report.html", "{f} is empty");
    }
}

#[test]
fn no_rendered_fix_undoes_what_a_running_upgrade_owns() {
    // On the stuck-upgrade sample the node is cordoned by the upgrade's own drain and the VM
    // that cannot migrate is its repository VM: the findings that see them alone would say
    // "uncordon" and "shut the VM down". Every rendered report offers the incident's fix instead.
    let dir = tempfile::tempdir().unwrap();
    let summary = ok(&[
        "analyze",
        sample("upgrade-stuck-predrained-v1.4.0").to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
        "--format",
        "html,md,json,sarif,junit",
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    // The sample holds what a naive fix would undo: the upgrade's cordon and its repository VM
    // (else this test would prove nothing).
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"node.cordoned:Node/harvester-node-1"),
        "{ids:?}"
    );
    assert!(
        ids.iter()
            .any(|i| i.contains("upgrade-repo-hvst-upgrade-mq7xk")),
        "{ids:?}"
    );
    for (what, text) in [
        ("summary", summary),
        (
            "report.md",
            std::fs::read_to_string(dir.path().join("report.md")).unwrap(),
        ),
        (
            "report.html",
            std::fs::read_to_string(dir.path().join("report.html")).unwrap(),
        ),
        (
            "report.sarif",
            std::fs::read_to_string(dir.path().join("report.sarif")).unwrap(),
        ),
        (
            "report.junit.xml",
            std::fs::read_to_string(dir.path().join("report.junit.xml")).unwrap(),
        ),
    ] {
        assert!(
            !text.contains("kubectl uncordon"),
            "{what} offers to uncordon"
        );
        assert!(!text.contains("virtctl stop"), "{what} offers to stop a VM");
        assert!(
            !text.contains("Shut the VM down"),
            "{what} offers to shut the VM down"
        );
    }
}
