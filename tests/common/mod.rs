//! Shared helpers for integration tests: run the binary, locate the real bundles, and turn a
//! bundle folder into zip / tar.gz archives on the fly.
#![allow(dead_code)]

pub mod serve;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `sbdiag` with arguments.
pub fn sbdiag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sbdiag"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run sbdiag")
}

/// Stdout as text, asserting success.
pub fn ok(args: &[&str]) -> String {
    let out = sbdiag(args);
    assert!(
        out.status.success(),
        "sbdiag {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// `analyze --json` parsed.
pub fn report(bundle: &Path) -> serde_json::Value {
    let s = ok(&["analyze", bundle.to_str().expect("path"), "--json"]);
    serde_json::from_str(&s).expect("json report")
}

/// The real bundles: `$SBDIAG_REAL_BUNDLES` (which must exist when set) or
/// `../shared/data/real` (skipped when absent, e.g. outside CI).
pub fn real_bundles() -> Vec<PathBuf> {
    let (dir, required) = match std::env::var_os("SBDIAG_REAL_BUNDLES") {
        Some(d) => (PathBuf::from(d), true),
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real"),
            false,
        ),
    };
    if !dir.is_dir() {
        assert!(
            !required,
            "SBDIAG_REAL_BUNDLES={} does not exist",
            dir.display()
        );
        eprintln!("skipping: {} not present", dir.display());
        return Vec::new();
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read real bundle dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect();
    v.sort();
    assert!(!v.is_empty() || !required, "no .zip in {}", dir.display());
    v
}

/// The project's sample bundles (folders under `samples/` holding metadata.yaml).
pub fn samples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("samples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("metadata.yaml").is_file())
        .collect();
    v.sort();
    v
}

/// A sample by folder name.
pub fn sample(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name);
    assert!(p.join("metadata.yaml").is_file(), "sample {name} missing");
    p
}

/// Every file below `dir`, as (path relative to `dir` with `/`, full path), sorted by name.
pub fn files_under(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut v = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.expect("walk");
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .expect("prefix")
                .to_string_lossy()
                .replace('\\', "/");
            v.push((rel, e.path().to_path_buf()));
        }
    }
    v
}

/// Zips a bundle folder under a top folder `top/`, like the generator.
pub fn zip_dir(dir: &Path, top: &str, out: &Path) {
    let f = std::fs::File::create(out).expect("create zip");
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (rel, path) in files_under(dir) {
        z.start_file(format!("{top}/{rel}"), opts).expect("start");
        z.write_all(&std::fs::read(path).expect("read"))
            .expect("write");
    }
    z.finish().expect("finish zip");
}

/// Tars (gzip) a bundle folder under `top/`.
pub fn tar_gz_dir(dir: &Path, top: &str, out: &Path) {
    let f = std::fs::File::create(out).expect("create tgz");
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    for (rel, path) in files_under(dir) {
        t.append_path_with_name(&path, format!("{top}/{rel}"))
            .expect("append");
    }
    t.into_inner().expect("tar").finish().expect("gz");
}

/// Extracts a zip into a folder (test-only, trusted input).
pub fn unzip(zip_path: &Path, out: &Path) {
    let f = std::fs::File::open(zip_path).expect("open zip");
    let mut z = zip::ZipArchive::new(f).expect("zip");
    z.extract(out).expect("extract");
}

/// A report with the fields that name the container (source, format) removed, and the
/// source's name replaced wherever a text quotes it.
pub fn comparable(mut v: serde_json::Value) -> serde_json::Value {
    let source = v["bundle"]["source"].as_str().map(str::to_string);
    if let Some(b) = v.get_mut("bundle").and_then(|b| b.as_object_mut()) {
        b.remove("source");
        b.remove("format");
    }
    // Remediations name the bundle (`sbdiag logs -b <its file name>`): compare them without it.
    match source.filter(|s| !s.is_empty()) {
        Some(src) => {
            let text = v.to_string().replace(&src, "SOURCE");
            serde_json::from_str(&text).expect("json")
        }
        None => v,
    }
}

fn plural(kind: &str) -> String {
    match kind {
        "Bundle" => "bundles".into(),
        "BundleDeployment" => "bundledeployments".into(),
        "Cluster" => "clusters".into(),
        "ManagedChart" => "managedcharts".into(),
        k => format!("{}s", k.to_lowercase()),
    }
}

/// Writes the fixture's documents as a bundle under `dir` and returns its root.
pub fn build_bundle(text: &str, dir: &Path) -> PathBuf {
    let capture = text
        .lines()
        .find_map(|l| {
            l.split("Assumed capture time of the support bundle: ")
                .nth(1)
        })
        .expect("capture time in the header")
        .trim()
        .to_string();
    let root = dir.join("supportbundle_fixture");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("metadata.yaml"),
        format!(
            "bundlename: fixture\nbundleversion: 0.1.0\nprojectnamespaceuuid: fixture\nbundlecreatedat: \"{capture}\"\n"
        ),
    )
    .unwrap();
    let mut lists: std::collections::BTreeMap<PathBuf, Vec<String>> =
        std::collections::BTreeMap::new();
    for doc in text.split("\n---\n").skip(1) {
        let v: serde_json::Value = match yaml_serde::from_str(doc) {
            Ok(v) => v,
            Err(_) => continue,
        };
        let Some(kind) = v.get("kind").and_then(|k| k.as_str()) else {
            continue;
        };
        let av = v["apiVersion"].as_str().unwrap();
        let ns = v["metadata"]["namespace"].as_str().unwrap_or("");
        let gv = if av.contains('/') {
            av.to_string()
        } else {
            format!("v1/{av}")
        };
        let (group, version) = gv.split_once('/').unwrap();
        let group = if group == "v1" && version == "v1" {
            "v1".to_string()
        } else {
            group.to_string()
        };
        let rel = if ns.is_empty() {
            PathBuf::from("yamls/cluster")
        } else {
            PathBuf::from("yamls/namespaced").join(ns)
        };
        let path = if group == "v1" {
            rel.join("v1").join(format!("{}.yaml", plural(kind)))
        } else {
            rel.join(group)
                .join(version)
                .join(format!("{}.yaml", plural(kind)))
        };
        let item = yaml_serde::to_string(&v).unwrap();
        let mut s = String::new();
        for (i, line) in item.lines().enumerate() {
            s.push_str(if i == 0 { "- " } else { "  " });
            s.push_str(line);
            s.push('\n');
        }
        lists.entry(path).or_default().push(s);
    }
    for (path, items) in lists {
        let full = root.join(&path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(
            full,
            format!("apiVersion: v1\nitems:\n{}kind: List\n", items.concat()),
        )
        .unwrap();
    }
    root
}

/// The finding `id` of a JSON report; panics naming the ids there are when it is absent.
pub fn by_id<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    let all = r["findings"].as_array().expect("findings");
    all.iter().find(|f| f["id"] == id).unwrap_or_else(|| {
        let ids: Vec<&str> = all.iter().filter_map(|f| f["id"].as_str()).collect();
        panic!("no finding {id} among {ids:?}")
    })
}

/// Copies the tree `from` to `to`, passing each UTF-8 file's bundle-relative path and text
/// through `edit` (other files are copied as they are).
pub fn copy_tree(from: &Path, to: &Path, edit: impl Fn(&str, String) -> String) {
    for (rel, path) in files_under(from) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        match std::fs::read_to_string(&path) {
            Ok(text) => std::fs::write(&dest, edit(&rel, text)).unwrap(),
            Err(_) => {
                std::fs::copy(&path, &dest).unwrap();
            }
        }
    }
}
