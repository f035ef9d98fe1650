//! The structure-aware input of the `pipeline` and `redact` targets: fuzzer bytes choose a
//! small bundle (a few KB) made of pieces of the project's samples (`samples/*-v1.*`, read
//! once per process, the long lists no rule reads entry by entry cut: see [`CAPPED`]): one
//! sample's `metadata.yaml`, a handful of its resource lists with a few of their items each, a
//! window of a few pod logs, a node zip with a few of its files, and the analysis options.
//! Each chosen text can then be edited line by line: a value replaced by one of [`VALUES`] (versions, states, booleans, quantities, times, names, YAML oddities) or
//! by another line's value, a line dropped or repeated. The pieces keep the samples' shapes
//! (names that refer to each other, conditions, labels), so the rules see objects they judge,
//! while the edits reach the states and versions that make them fire.
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{Result, Unstructured};

/// The root folder of every generated bundle (as the generator names it: id and time).
pub const ROOT: &str = "supportbundle_3f6c2a1e-8b7d-4e2a-9c41-5d0e7a9b1c23_2025-02-14T09-41-07Z/";

/// Values an edit puts in place of a line's value.
pub const VALUES: &[&str] = &[
    "\"True\"",
    "\"False\"",
    "\"Unknown\"",
    "true",
    "false",
    "\"\"",
    "null",
    "~",
    "0",
    "1",
    "-1",
    "3",
    "2147483648",
    "18446744073709551616",
    "1e400",
    ".nan",
    "v1.3.2",
    "v1.4.0",
    "v1.4.1",
    "v1.4.2",
    "v1.5.0",
    "v1.6.0",
    "v1.7.0",
    "v1.8.1",
    "v1.9.0",
    "v1.4.0-rc1",
    "master-7f3e2a1-head",
    "v2.9.2",
    "v1.7.1",
    "v1.29.9+rke2r1",
    "\"2025-02-14T09:41:07Z\"",
    "\"2025-02-14T09:45:00Z\"",
    "\"2024-11-19T14:05:12Z\"",
    "\"1970-01-01T00:00:00Z\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"2025-02-30T25:61:61Z\"",
    "harvester-node-0",
    "harvester-node-1",
    "harvester-node-9",
    "harvester-system",
    "longhorn-system",
    "default",
    "Running",
    "Pending",
    "Failed",
    "Succeeded",
    "Terminating",
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "Ready",
    "NotReady",
    "healthy",
    "degraded",
    "faulted",
    "unknown",
    "attached",
    "detached",
    "attaching",
    "Stopped",
    "Starting",
    "Migrating",
    "ErrGitRepoNotFound",
    "WaitApplied",
    "Modified",
    "NotReady",
    "OutOfSync",
    "Upgrading",
    "PreparingRepo",
    "UpgradingNodes",
    "Error",
    "\"50Gi\"",
    "\"0\"",
    "10Gi",
    "-5Mi",
    "\"64424509440\"",
    "500m",
    "192.168.50.7",
    "10.52.0.1",
    "fe80::1",
    "\"{}\"",
    "{}",
    "[]",
    "[a, b]",
    "{a: 1}",
    "'it''s'",
    "\"a\\\"b\\u00e9\"",
    "&anchor x",
    "*anchor",
    "!!binary aGVsbG8=",
    "|",
    ">-",
    "\"\\x00\\t\"",
    "ünïcödé",
    "x\ty",
];

/// Resource lists chosen more often: what the rules read.
const IMPORTANT: &[&str] = &[
    "/v1/nodes.yaml",
    "harvesterhci.io/v1beta1/settings.yaml",
    "management.cattle.io/v3/settings.yaml",
    "harvesterhci.io/v1beta1/upgrades.yaml",
    "harvesterhci.io/v1beta1/versions.yaml",
    "longhorn.io/v1beta2/volumes.yaml",
    "longhorn.io/v1beta2/replicas.yaml",
    "longhorn.io/v1beta2/engines.yaml",
    "longhorn.io/v1beta2/nodes.yaml",
    "longhorn.io/v1beta2/instancemanagers.yaml",
    "longhorn.io/v1beta2/settings.yaml",
    "kubevirt.io/v1/virtualmachines.yaml",
    "kubevirt.io/v1/virtualmachineinstances.yaml",
    "kubevirt.io/v1/virtualmachineinstancemigrations.yaml",
    "fleet.cattle.io/v1alpha1/bundles.yaml",
    "fleet.cattle.io/v1alpha1/clusters.yaml",
    "management.cattle.io/v3/managedcharts.yaml",
    "apps/v1/daemonsets.yaml",
    "apps/v1/deployments.yaml",
    "/v1/pods.yaml",
    "/v1/persistentvolumeclaims.yaml",
    "/v1/persistentvolumes.yaml",
    "validatingwebhookconfigurations.yaml",
    "cluster.x-k8s.io/v1beta1/machines.yaml",
    "cluster.x-k8s.io/v1beta1/clusters.yaml",
    "upgrade.cattle.io/v1/plans.yaml",
    "batch/v1/jobs.yaml",
    "storage.k8s.io/v1/volumeattachments.yaml",
    "/v1/events.yaml",
    "/v1/secrets.yaml",
    "/v1/endpoints.yaml",
];

/// Largest generated bundle (before zipping), so that a run stays in milliseconds.
const BUDGET: usize = 16 * 1024;

/// Keys whose block sequences are cut to their first [`CAPPED_ENTRIES`] entries when the
/// samples are read: long lists no rule reads entry by entry (a node's cached images, the
/// managed-fields history the index blanks) that made an item several KB.
const CAPPED: &[&str] = &["images", "managedFields"];

/// Entries of a [`CAPPED`] key's sequence an item keeps.
const CAPPED_ENTRIES: usize = 2;

/// One resource list of a sample: its bundle-relative path and its items (each with its
/// leading `- ` line and the lines under it).
struct ListFile {
    path: String,
    items: Vec<String>,
}

/// What a sample offers.
struct Sample {
    metadata: String,
    generation_log: Option<String>,
    lists: Vec<ListFile>,
    /// Indexes into `lists` of the [`IMPORTANT`] ones.
    important: Vec<usize>,
    /// Pod logs (`logs/<ns>/<pod>/<container>.log`) and their text.
    logs: Vec<(String, String)>,
    /// Node zips: `nodes/<node>.zip` and their text files.
    node_zips: Vec<(String, Vec<(String, String)>)>,
}

/// The samples' folder (the fuzz crate sits in the repository's `fuzz/`).
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

fn samples() -> &'static [Sample] {
    static S: OnceLock<Vec<Sample>> = OnceLock::new();
    S.get_or_init(|| {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(samples_dir())
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        dirs.retain(|d| d.join("metadata.yaml").is_file());
        dirs.sort();
        let s: Vec<Sample> = dirs.iter().map(|d| load(d)).collect();
        assert!(
            !s.is_empty(),
            "no samples under {}",
            samples_dir().display()
        );
        s
    })
}

fn files_under(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut v: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    v.sort_by_key(|e| e.file_name());
    for e in v {
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if e.path().is_dir() {
            files_under(&e.path(), &r, out);
        } else {
            out.push((r, e.path()));
        }
    }
}

/// The indentation of `line` (spaces).
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `item` with the block sequence under each [`CAPPED`] key cut to its first
/// [`CAPPED_ENTRIES`] entries (the key line and the entries kept as written).
fn cap_lists(item: &str) -> String {
    let lines: Vec<&str> = item.split_inclusive('\n').collect();
    let mut out = String::with_capacity(item.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        out.push_str(line);
        i += 1;
        let t = line.trim_end();
        let key = t.trim_start().trim_start_matches("- ");
        let Some(name) = key.strip_suffix(':') else {
            continue;
        };
        if !CAPPED.contains(&name) {
            continue;
        }
        // The key's column; its block: deeper lines, or `- ` entries at that column.
        let col = t.len() - key.len();
        let in_block = |l: &str| {
            let d = indent(l);
            l.trim().is_empty() || d > col || (d == col && l[d..].starts_with("- "))
        };
        let Some(first) = lines.get(i).filter(|l| in_block(l)) else {
            continue;
        };
        let entry_col = indent(first);
        let mut entries = 0;
        while i < lines.len() && in_block(lines[i]) {
            let l = lines[i];
            if indent(l) == entry_col && l[entry_col..].starts_with('-') {
                entries += 1;
            }
            if entries <= CAPPED_ENTRIES {
                out.push_str(l);
            }
            i += 1;
        }
    }
    out
}

/// The items of a List file as the generator writes it (`- ` at column 0).
fn items_of(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur: Option<String> = None;
    for l in text.split_inclusive('\n') {
        if l.starts_with("- ") || l.starts_with("-\n") {
            items.extend(cur.take());
            cur = Some(l.to_string());
        } else if l.starts_with(' ') {
            if let Some(c) = &mut cur {
                c.push_str(l);
            }
        } else {
            items.extend(cur.take());
        }
    }
    items.extend(cur);
    items
}

fn load(dir: &Path) -> Sample {
    let mut files = Vec::new();
    files_under(dir, "", &mut files);
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    let mut s = Sample {
        metadata: read(&dir.join("metadata.yaml")),
        generation_log: None,
        lists: Vec::new(),
        important: Vec::new(),
        logs: Vec::new(),
        node_zips: Vec::new(),
    };
    for (rel, path) in files {
        if rel == "bundleGenerationError.log" {
            s.generation_log = Some(read(&path));
        } else if rel.starts_with("yamls/") && rel.ends_with(".yaml") {
            let items: Vec<String> = items_of(&read(&path))
                .iter()
                .map(|i| cap_lists(i))
                .collect();
            if !items.is_empty() {
                if IMPORTANT.iter().any(|i| rel.ends_with(i)) {
                    s.important.push(s.lists.len());
                }
                s.lists.push(ListFile { path: rel, items });
            }
        } else if rel.starts_with("logs/") {
            s.logs.push((rel, read(&path)));
        } else if rel.starts_with("nodes/") && rel.ends_with(".zip") {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(mut z) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
                continue;
            };
            let mut inner = Vec::new();
            for i in 0..z.len() {
                let Ok(mut f) = z.by_index(i) else { continue };
                if f.is_dir() {
                    continue;
                }
                let name = f.name().unwrap_or_default().to_string();
                let mut text = String::new();
                if std::io::Read::read_to_string(&mut f, &mut text).is_ok() {
                    inner.push((name, text));
                }
            }
            s.node_zips.push((rel, inner));
        }
    }
    s
}

/// A generated bundle: its files (bundle-relative, under [`ROOT`] once zipped), node zips
/// as their inner files, and the analysis options.
#[derive(Debug, Default, Clone)]
pub struct Generated {
    /// `(bundle-relative path, content)`, in the order chosen.
    pub files: Vec<(String, String)>,
    /// `(nodes/<node>.zip, its (inner path, content))`.
    pub node_zips: Vec<(String, Vec<(String, String)>)>,
    /// `--from-version`.
    pub from_version: Option<String>,
    /// `--to-version`.
    pub to_version: Option<String>,
}

/// Where a line's value starts (`key: value`, `- value`), if it has one.
fn value_start(line: &str) -> Option<usize> {
    let t = line.trim_start();
    let indent = line.len() - t.len();
    if let Some(rest) = t.strip_prefix("- ") {
        return match rest.find(": ") {
            Some(i) => Some(indent + 2 + i + 2),
            None => Some(indent + 2),
        };
    }
    t.find(": ").map(|i| indent + i + 2)
}

/// Edits `text` line by line: up to `most` edits, each chosen by `u`.
fn edit(u: &mut Unstructured, text: &str, most: u8) -> Result<String> {
    let n = u.int_in_range(0..=most)?;
    if n == 0 {
        return Ok(text.to_string());
    }
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..n {
        if lines.is_empty() {
            break;
        }
        let i = u.choose_index(lines.len())?;
        match u.int_in_range(0..=7u8)? {
            0..=3 => {
                if let Some(p) = value_start(&lines[i]) {
                    lines[i].truncate(p);
                    lines[i].push_str(u.choose(VALUES)?);
                }
            }
            4 => {
                let j = u.choose_index(lines.len())?;
                if let (Some(p), Some(q)) = (value_start(&lines[i]), value_start(&lines[j])) {
                    let v = lines[j][q..].to_string();
                    lines[i].truncate(p);
                    lines[i].push_str(&v);
                }
            }
            5 => {
                lines.remove(i);
            }
            6 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            _ => {
                // A line of another text of the same kind: a value turned into a mapping, a
                // list, or the reverse, at this line's indentation.
                let indent = lines[i].len() - lines[i].trim_start().len();
                let j = u.choose_index(lines.len())?;
                let other = lines[j].trim_start().to_string();
                lines.insert(i + 1, format!("{}{other}", " ".repeat(indent + 2)));
            }
        }
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// A window of at most `most` lines of `text`.
fn window(u: &mut Unstructured, text: &str, most: usize) -> Result<String> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return Ok(String::new());
    }
    let start = u.choose_index(lines.len())?;
    let len = u.int_in_range(1..=most.min(lines.len() - start))?;
    let mut out = lines[start..start + len].join("\n");
    out.push('\n');
    Ok(out)
}

/// A bundle chosen by `u` (see the module's documentation).
pub fn bundle(u: &mut Unstructured) -> Result<Generated> {
    let all = samples();
    let s = u.choose(all)?;
    let mut g = Generated::default();
    let mut size = 0usize;
    if !u.ratio(1, 16)? {
        let m = edit(u, &s.metadata, 2)?;
        size += m.len();
        g.files.push(("metadata.yaml".into(), m));
    }
    if let Some(log) = &s.generation_log
        && u.ratio(1, 4)?
    {
        let w = window(u, log, 12)?;
        size += w.len();
        g.files.push(("bundleGenerationError.log".into(), w));
    }
    // The lists: nodes most of the time, then a few important ones, then any.
    let mut chosen: Vec<&ListFile> = Vec::new();
    if let Some(nodes) = s
        .lists
        .iter()
        .find(|l| l.path == "yamls/cluster/v1/nodes.yaml")
        && !u.ratio(1, 8)?
    {
        chosen.push(nodes);
    }
    for _ in 0..u.int_in_range(0..=6u8)? {
        if let Ok(&i) = u.choose(&s.important) {
            chosen.push(&s.lists[i]);
        }
    }
    for _ in 0..u.int_in_range(0..=2u8)? {
        let other = u.choose(all)?;
        if let Ok(l) = u.choose(&other.lists) {
            chosen.push(l);
        }
    }
    let mut lists: BTreeMap<&str, String> = BTreeMap::new();
    for l in chosen {
        let text = lists.entry(l.path.as_str()).or_default();
        for _ in 0..u.int_in_range(1..=2u8)? {
            let item = u.choose(&l.items)?;
            if size + item.len() > BUDGET {
                continue;
            }
            let item = edit(u, item, 3)?;
            size += item.len();
            text.push_str(&item);
        }
    }
    for (path, items) in lists {
        let body = if items.is_empty() {
            "apiVersion: v1\nitems: []\nkind: List\n".to_string()
        } else {
            format!(
                "apiVersion: v1\nitems:\n{items}kind: List\nmetadata:\n  resourceVersion: \"\"\n"
            )
        };
        g.files.push((path.to_string(), body));
    }
    for _ in 0..u.int_in_range(0..=3u8)? {
        if let Ok((path, text)) = u.choose(&s.logs) {
            let w = window(u, text, 16)?;
            let w = edit(u, &w, 1)?;
            size += w.len();
            g.files.push((path.clone(), w));
        }
    }
    for _ in 0..u.int_in_range(0..=2u8)? {
        let Ok((zip_name, inner)) = u.choose(&s.node_zips) else {
            break;
        };
        let mut files = Vec::new();
        for (name, text) in inner {
            if size < BUDGET && u.ratio(1, 3)? {
                let w = window(u, text, 16)?;
                let w = edit(u, &w, 1)?;
                size += w.len();
                files.push((name.clone(), w));
            }
        }
        g.node_zips.push((zip_name.clone(), files));
    }
    g.from_version = version(u)?;
    g.to_version = version(u)?;
    Ok(g)
}

/// An analysis option's version, one time in four.
fn version(u: &mut Unstructured) -> Result<Option<String>> {
    Ok(if u.ratio(1, 4)? {
        Some(u.choose(VALUES)?.trim_matches('"').to_string())
    } else {
        None
    })
}

/// Stored zip entries (cheap to write and to read).
fn zip_of<'a>(files: impl Iterator<Item = (String, &'a [u8])>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    for (name, body) in files {
        if w.start_file(name, opts).is_ok() {
            let _ = w.write_all(body);
        }
    }
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

impl Generated {
    /// The bundle as a zip (stored entries) with every file under [`ROOT`].
    pub fn to_zip(&self) -> Vec<u8> {
        let nested: Vec<(String, Vec<u8>)> = self
            .node_zips
            .iter()
            .map(|(name, files)| {
                let z = zip_of(files.iter().map(|(n, t)| (n.clone(), t.as_bytes())));
                (name.clone(), z)
            })
            .collect();
        zip_of(
            self.files
                .iter()
                .map(|(n, t)| (format!("{ROOT}{n}"), t.as_bytes()))
                .chain(
                    nested
                        .iter()
                        .map(|(n, z)| (format!("{ROOT}{n}"), z.as_slice())),
                ),
        )
    }

    /// The bundle in the `pipeline` target's textual format ([`crate::TextBundle`]): to keep
    /// a failing input as a readable file, or to turn it into a test's bundle.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut section = |marker: &str, name: &str, body: &str| {
            out.push_str(marker);
            out.push_str(name);
            out.push('\n');
            out.push_str(body);
            if !body.is_empty() && !body.ends_with('\n') {
                out.push('\n');
            }
        };
        for (n, t) in &self.files {
            section("=== ", &format!("{ROOT}{n}"), t);
        }
        for (n, files) in &self.node_zips {
            let mut inner = String::new();
            for (name, t) in files {
                inner.push_str("+++ ");
                inner.push_str(name);
                inner.push('\n');
                inner.push_str(t);
                if !t.is_empty() && !t.ends_with('\n') {
                    inner.push('\n');
                }
            }
            section("=== ", &format!("{ROOT}{n}"), &inner);
        }
        if let Some(v) = &self.from_version {
            section("=== ", "@from-version", v);
        }
        if let Some(v) = &self.to_version {
            section("=== ", "@to-version", v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_split_at_column_zero_dashes() {
        let t = "apiVersion: v1\nitems:\n- a: 1\n  b: 2\n- a: 3\nkind: List\n";
        assert_eq!(items_of(t), vec!["- a: 1\n  b: 2\n", "- a: 3\n"]);
    }

    #[test]
    fn capped_lists_keep_their_first_entries_and_what_follows() {
        let item = "- metadata:\n    managedFields:\n    - manager: a\n      fieldsV1: {}\n    - manager: b\n    - manager: c\n      time: x\n    name: n\n  status:\n    images:\n    - names:\n      - i1\n      sizeBytes: 1\n    - names:\n      - i2\n    - names:\n      - i3\n    - names:\n      - i4\n    conditions:\n    - type: Ready\n";
        assert_eq!(
            cap_lists(item),
            "- metadata:\n    managedFields:\n    - manager: a\n      fieldsV1: {}\n    - manager: b\n    name: n\n  status:\n    images:\n    - names:\n      - i1\n      sizeBytes: 1\n    - names:\n      - i2\n    conditions:\n    - type: Ready\n"
        );
        // A sequence at the key's own column, and a key that is not capped, stay whole.
        let flat = "- a:\n  images:\n  - x\n  - y\n  - z\n  other:\n  - 1\n  - 2\n  - 3\n";
        assert_eq!(
            cap_lists(flat),
            "- a:\n  images:\n  - x\n  - y\n  other:\n  - 1\n  - 2\n  - 3\n"
        );
    }

    #[test]
    fn sample_nodes_are_read_with_their_images_cut() {
        // The samples' Node items are up to 10 KB, most of it their cached images; read
        // through `cap_lists`, every one is under 7 KB and lists two images at most.
        let mut nodes = 0;
        for s in samples() {
            for l in s
                .lists
                .iter()
                .filter(|l| l.path.ends_with("/v1/nodes.yaml"))
            {
                for i in &l.items {
                    nodes += 1;
                    assert!(i.len() < 7 * 1024, "{}: {} bytes", l.path, i.len());
                    assert!(i.matches("\n    - names:").count() <= CAPPED_ENTRIES, "{i}");
                }
            }
        }
        assert!(nodes > 0);
    }

    #[test]
    fn values_start_after_the_key_or_the_dash() {
        assert_eq!(value_start("  name: x"), Some(8));
        assert_eq!(value_start("- type: Ready"), Some(8));
        assert_eq!(value_start("  - x"), Some(4));
        assert_eq!(value_start("items:"), None);
    }

    #[test]
    fn every_input_makes_a_bundle_with_metadata_or_lists() {
        for seed in 0u8..=255 {
            let data: Vec<u8> = (0..512u32)
                .map(|i| (i as u8).wrapping_mul(seed) ^ seed)
                .collect();
            let g = bundle(&mut Unstructured::new(&data)).unwrap();
            assert!(!g.files.is_empty() || !g.node_zips.is_empty());
            let z = g.to_zip();
            assert!(z.starts_with(b"PK"));
            let text = g.to_text();
            let back = crate::TextBundle::parse(text.as_bytes());
            assert!(back.is_some() || text.is_empty());
        }
    }
}
