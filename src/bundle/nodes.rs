//! Per-node bundles (`nodes/<node>.zip`): opened in memory, never extracted. We keep their
//! listing and the small release files; logs are re-read on demand.
use crate::archive::Archive;
use crate::bundle::{Bundle, PathKind, Problem};
use crate::error::Result;

/// What one node zip holds.
#[derive(Debug, Clone, Default)]
pub struct NodeBundle {
    /// Node name (from the zip name).
    pub name: String,
    /// Bundle-relative path of the zip.
    pub zip_path: String,
    /// Files inside (paths inside the nested zip), sorted.
    pub files: Vec<String>,
    /// Log files (`<node>/logs/*.log*`), paths inside the nested zip.
    pub logs: Vec<String>,
    /// `configs/etc/harvester-release.yaml` key/values, when present.
    pub release: Vec<(String, String)>,
    /// `configs/etc/os-release` key/values, when present.
    pub os_release: Vec<(String, String)>,
    /// Why the zip could not be opened, if it could not.
    pub error: Option<String>,
}

impl NodeBundle {
    /// A value of `harvester-release.yaml`.
    pub fn release_value(&self, key: &str) -> Option<&str> {
        self.release
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the zip held no files at all (the collector found no OS collector).
    pub fn is_empty(&self) -> bool {
        self.error.is_none() && self.files.is_empty()
    }
}

/// Opens the nested zip of a node; `None` if the bundle has no such node.
pub fn open_node_zip(bundle: &Bundle, node: &str) -> Option<Result<Archive>> {
    let f = bundle
        .files
        .iter()
        .find(|f| matches!(&f.kind, PathKind::NodeZip { node: n } if n == node))?;
    let limits = bundle.archive.limits();
    if f.size > limits.max_nested_bytes {
        return Some(Err(crate::Error::Limit {
            path: std::path::PathBuf::from(&f.path),
            what: "nested node zip is larger than the nested-archive limit".into(),
            limit: limits.max_nested_bytes,
            flag: "--max-entry-size",
        }));
    }
    let origin = format!("{}!", f.path);
    Some(
        bundle
            .archive
            .read(&f.entry)
            .and_then(|bytes| Archive::from_zip_bytes(&origin, bytes, limits)),
    )
}

/// `key: value` / `KEY="value"` lines, tolerant of comments and quotes.
pub fn parse_kv(text: &str, sep: char) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(sep))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                .unwrap_or(v);
            (k.trim().to_string(), v.to_string())
        })
        .filter(|(k, _)| !k.is_empty() && !k.contains(' '))
        .collect()
}

/// Opens every node zip of the bundle.
pub(super) fn open_all(bundle: &Bundle) -> Vec<NodeBundle> {
    let names: Vec<(String, String)> = bundle
        .files
        .iter()
        .filter_map(|f| match &f.kind {
            PathKind::NodeZip { node } => Some((node.clone(), f.path.clone())),
            _ => None,
        })
        .collect();
    use rayon::prelude::*;
    names
        .par_iter()
        .map(|(name, zip_path)| {
            let mut nb = NodeBundle {
                name: name.clone(),
                zip_path: zip_path.clone(),
                ..NodeBundle::default()
            };
            match open_node_zip(bundle, name) {
                Some(Ok(a)) => fill(&mut nb, &a),
                Some(Err(e)) => nb.error = Some(e.to_string()),
                None => nb.error = Some("not found".into()),
            }
            nb
        })
        .collect()
}

fn fill(nb: &mut NodeBundle, a: &Archive) {
    for e in a.entries().iter().filter(|e| !e.is_dir) {
        nb.files.push(e.path.clone());
        let rest = e.path.split_once('/').map(|(_, r)| r).unwrap_or(&e.path);
        if rest.starts_with("logs/") {
            nb.logs.push(e.path.clone());
        }
        let read = |sep| {
            a.read_entry(e)
                .map(|b| parse_kv(&String::from_utf8_lossy(&b), sep))
                .unwrap_or_default()
        };
        if rest == "configs/etc/harvester-release.yaml" {
            nb.release = read(':');
        } else if rest == "configs/etc/os-release" {
            nb.os_release = read('=');
        }
    }
    for r in a.rejected() {
        nb.error
            .get_or_insert_with(|| format!("{}: {}", r.name, r.reason));
    }
}

impl Bundle {
    /// Problems of the node zips, for the ledger.
    pub fn node_problems(&self) -> Vec<Problem> {
        self.nodes
            .iter()
            .filter_map(|n| {
                n.error.as_ref().map(|e| Problem {
                    file: n.zip_path.clone(),
                    error: e.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_kv;

    #[test]
    fn release_files() {
        let kv = parse_kv("harvester: v1.4.0\nos: Harvester v1.4.0\n# c\n", ':');
        assert_eq!(kv[0], ("harvester".into(), "v1.4.0".into()));
        let os = parse_kv("NAME=\"SLE Micro\"\nID=sle-micro-rancher\n", '=');
        assert_eq!(os[1], ("ID".into(), "sle-micro-rancher".into()));
    }
}
