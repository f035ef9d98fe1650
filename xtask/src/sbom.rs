//! The bill of materials: CycloneDX 1.5 JSON of the crates compiled into the static binary (the
//! build's own list, so build scripts, proc macros and their dependencies are left out), with
//! their licenses, crates.io checksums (Cargo.lock) and dependency edges (`cargo metadata`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result};
use serde_json::{Value, json};

use crate::util::Workspace;

/// The document for the packages `in_binary` (package ids, sbdiag's included).
pub fn cyclonedx(ws: &Workspace, in_binary: &BTreeSet<String>, mtime: u64) -> Result<String> {
    let lock =
        std::fs::read_to_string(ws.root.join("Cargo.lock")).context("cannot read Cargo.lock")?;
    let checksums = lock_checksums(&lock);
    let packages: BTreeMap<&str, &Value> = ws.metadata["packages"]
        .as_array()
        .context("cargo metadata has no packages")?
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .filter(|(id, _)| in_binary.contains(*id))
        .collect();
    let root = packages
        .iter()
        .find(|(_, p)| p["name"] == "sbdiag" && p["source"].is_null())
        .map(|(id, _)| *id)
        .context("the build compiled no sbdiag package")?;
    let purl = |p: &Value| {
        format!(
            "pkg:cargo/{}@{}",
            p["name"].as_str().unwrap_or_default(),
            p["version"].as_str().unwrap_or_default()
        )
    };
    let mut components = Vec::new();
    for (id, p) in &packages {
        if *id == root {
            continue;
        }
        let mut c = component(p, &purl(p));
        let key = (
            p["name"].as_str().unwrap_or_default().to_string(),
            p["version"].as_str().unwrap_or_default().to_string(),
        );
        if let Some(sum) = checksums.get(&key) {
            c["hashes"] = json!([{"alg": "SHA-256", "content": sum}]);
        }
        components.push(c);
    }
    let mut dependencies = Vec::new();
    for node in ws.metadata["resolve"]["nodes"]
        .as_array()
        .context("cargo metadata has no resolve graph")?
    {
        let Some(id) = node["id"].as_str() else {
            continue;
        };
        let Some(p) = packages.get(id) else { continue };
        let mut on: Vec<String> = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| {
                // Normal dependencies only: build and dev dependencies are not in the binary.
                d["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null())
            })
            .filter_map(|d| packages.get(d["pkg"].as_str()?).map(|q| purl(q)))
            .collect();
        on.sort();
        on.dedup();
        dependencies.push(json!({"ref": purl(p), "dependsOn": on}));
    }
    let timestamp = chrono::DateTime::from_timestamp(i64::try_from(mtime)?, 0)
        .context("the commit time is out of range")?
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let root_pkg = packages.get(root).context("no sbdiag package")?;
    let mut main = component(root_pkg, &purl(root_pkg));
    main["type"] = json!("application");
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{"type": "application", "name": "cargo xtask dist",
                "description": "sbdiag's release task (xtask/src/sbom.rs)"}]},
            "component": main,
        },
        "components": components,
        "dependencies": dependencies,
    });
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

/// One component: name, version, purl, description, licenses, repository.
fn component(p: &Value, purl: &str) -> Value {
    let mut c = json!({
        "type": "library",
        "bom-ref": purl,
        "name": p["name"],
        "version": p["version"],
        "purl": purl,
    });
    if let Some(d) = p["description"].as_str() {
        c["description"] = json!(d.trim());
    }
    c["licenses"] = match (p["license"].as_str(), p["license_file"].as_str()) {
        // Old manifests write `MIT/Apache-2.0` for `MIT OR Apache-2.0`.
        (Some(l), _) => json!([{"expression": l.replace('/', " OR ")}]),
        (None, Some(f)) => {
            json!([{"license": {"name": format!("the crate's {}", f.rsplit('/').next().unwrap_or(f))}}])
        }
        (None, None) => json!([]),
    };
    if let Some(r) = p["repository"].as_str() {
        c["externalReferences"] = json!([{"type": "vcs", "url": r}]);
    }
    c
}

/// `(name, version)` → the crates.io SHA-256 Cargo.lock records.
fn lock_checksums(lock: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for block in lock.split("[[package]]") {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(key)?
                    .trim_start()
                    .strip_prefix('=')?
                    .trim()
                    .strip_prefix('"')?
                    .strip_suffix('"')
                    .map(str::to_string)
            })
        };
        if let (Some(n), Some(v), Some(c)) = (field("name"), field("version"), field("checksum")) {
            out.insert((n, v), c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_come_from_the_lock_blocks() {
        let lock = "version = 4\n\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.105\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"abc\"\n\n[[package]]\nname = \"sbdiag\"\nversion = \"0.1.0\"\n";
        let sums = lock_checksums(lock);
        assert_eq!(sums.len(), 1);
        assert_eq!(
            sums.get(&("anyhow".into(), "1.0.105".into()))
                .map(String::as_str),
            Some("abc")
        );
    }

    #[test]
    fn slash_licenses_become_spdx_expressions() {
        let p = json!({"name": "x", "version": "1.0.0", "license": "MIT/Apache-2.0"});
        let c = component(&p, "pkg:cargo/x@1.0.0");
        assert_eq!(c["licenses"][0]["expression"], "MIT OR Apache-2.0");
        assert_eq!(c["type"], "library");
    }
}
