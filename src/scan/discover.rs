//! Finding the bundles under the PATH arguments of `scan`, and naming them.
//!
//! A PATH is a bundle (an archive file, or a folder holding `metadata.yaml`) or a folder
//! searched recursively. Inside folders, a file is a bundle when its name ends in `.zip`,
//! `.tar`, `.tgz` or `.tar.gz` (any case) or when it starts like a zip or a tar; a folder
//! holding `metadata.yaml` is an unpacked bundle and is not descended into. Links are not
//! followed. The output folder, when it lies inside a PATH, is skipped.
//!
//! Every bundle gets a **key** (its path relative to the PATH argument, `/`-separated; the
//! file or folder name when the argument names it), which decides its shard, and a unique
//! **name** (the key without the archive extension, `-2`, `-3`… appended on collisions), which
//! names its report folder `DIR/<name>/`. Both are computed from the whole discovery, before
//! sharding, so every shard names every bundle alike.
use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::ScanError;

/// Archive extensions recognised by name (lower case).
const EXTENSIONS: &[&str] = &[".tar.gz", ".tgz", ".tar", ".zip"];

/// Names the summary files take in the output folder.
pub const RESERVED: &[&str] = &["scan.html", "scan.csv", "scan.jsonl"];

/// A bundle found by discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Where it is on disk (as reached from the PATH argument).
    pub path: PathBuf,
    /// Path relative to the PATH argument, `/`-separated: the shard key.
    pub key: String,
    /// Unique name: the report folder is `DIR/<name>/` (`/`-separated, never `..`).
    pub name: String,
    /// An unpacked folder rather than an archive file.
    pub is_dir: bool,
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Bundles, sorted by name.
    pub candidates: Vec<Candidate>,
    /// Folders or files that could not be listed (the walk went on).
    pub notes: Vec<String>,
}

/// Whether a folder is an unpacked bundle root.
pub fn is_bundle_dir(dir: &Path) -> bool {
    dir.join("metadata.yaml").is_file()
}

/// Whether a file found inside a folder looks like a bundle archive: by extension, else by its
/// first bytes (zip local header or end record, `ustar` tar header).
pub fn looks_like_archive(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if EXTENSIONS.iter().any(|e| name.ends_with(e)) {
        return true;
    }
    let mut head = [0u8; 262];
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut n = 0;
    while n < head.len() {
        match head.get_mut(n..).map(|b| f.read(b)) {
            Some(Ok(0)) | None => break,
            Some(Ok(k)) => n += k,
            Some(Err(_)) => return false,
        }
    }
    let head = head.get(..n).unwrap_or_default();
    head.starts_with(b"PK\x03\x04")
        || head.starts_with(b"PK\x05\x06")
        || head.get(257..262) == Some(b"ustar")
}

/// The key's text for a relative path: its normal components joined by `/`.
fn rel_key(rel: &Path) -> String {
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The key without the archive extension (files only).
fn base_name(key: &str, is_dir: bool) -> String {
    if is_dir {
        return key.to_string();
    }
    let lower = key.to_ascii_lowercase();
    for e in EXTENSIONS {
        if lower.ends_with(e)
            && key.len() > e.len()
            && let Some(b) = key.get(..key.len() - e.len())
        {
            return b.to_string();
        }
    }
    key.to_string()
}

/// Makes `name` safe as a relative folder: `/`-separated normal components only.
pub fn safe_relative(name: &str) -> Option<PathBuf> {
    let mut p = PathBuf::new();
    for part in name.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return None;
        }
        let c = Path::new(part);
        if c.components().count() != 1
            || !matches!(c.components().next(), Some(Component::Normal(_)))
        {
            return None;
        }
        p.push(part);
    }
    (!p.as_os_str().is_empty()).then_some(p)
}

/// Canonical form of a path when it exists.
fn canonical(p: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(p).ok()
}

/// Finds the bundles under `paths`; `exclude` (the output folder) is never entered.
/// A PATH that does not exist is an error; unreadable folders inside are notes.
pub fn discover(paths: &[PathBuf], exclude: Option<&Path>) -> Result<Discovery, ScanError> {
    let exclude = exclude.and_then(canonical);
    let mut found: Vec<(String, usize, PathBuf, bool)> = Vec::new();
    let mut notes = Vec::new();
    for (arg, root) in paths.iter().enumerate() {
        let meta = std::fs::metadata(root).map_err(|source| ScanError::Io {
            path: root.clone(),
            source,
        })?;
        let own_name = || {
            root.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .or_else(|| {
                    canonical(root)
                        .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
                })
                .unwrap_or_else(|| "bundle".into())
        };
        if !meta.is_dir() {
            found.push((own_name(), arg, root.clone(), false));
            continue;
        }
        if is_bundle_dir(root) {
            found.push((own_name(), arg, root.clone(), true));
            continue;
        }
        let root_canon = canonical(root);
        let mut walk = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .min_depth(1)
            .into_iter();
        while let Some(entry) = walk.next() {
            let e = match entry {
                Ok(e) => e,
                Err(err) => {
                    notes.push(format!("cannot list {}: {err}", root.display()));
                    continue;
                }
            };
            let rel = e.path().strip_prefix(root).unwrap_or(e.path());
            if e.file_type().is_dir() {
                if let (Some(rc), Some(ex)) = (&root_canon, &exclude)
                    && &rc.join(rel) == ex
                {
                    walk.skip_current_dir();
                    continue;
                }
                if is_bundle_dir(e.path()) {
                    found.push((rel_key(rel), arg, e.path().to_path_buf(), true));
                    walk.skip_current_dir();
                }
            } else if e.file_type().is_file() && looks_like_archive(e.path()) {
                found.push((rel_key(rel), arg, e.path().to_path_buf(), false));
            }
        }
    }
    found.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    let mut taken: HashSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    let mut candidates = Vec::with_capacity(found.len());
    for (key, _, path, is_dir) in found {
        let base = base_name(&key, is_dir);
        let base = if safe_relative(&base).is_some() {
            base
        } else {
            "bundle".to_string()
        };
        let mut name = base.clone();
        let mut n = 1;
        while !taken.insert(name.to_lowercase()) {
            n += 1;
            name = format!("{base}-{n}");
        }
        candidates.push(Candidate {
            path,
            key,
            name,
            is_dir,
        });
    }
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Discovery { candidates, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_strip_extensions_and_stay_relative() {
        assert_eq!(base_name("a/b.tar.gz", false), "a/b");
        assert_eq!(base_name("b.TGZ", false), "b");
        assert_eq!(base_name("b.zip", true), "b.zip");
        assert_eq!(base_name(".zip", false), ".zip");
        assert!(safe_relative("a/b").is_some());
        assert!(safe_relative("../a").is_none());
        assert!(safe_relative("/a").is_none());
        assert!(safe_relative("a//b").is_none());
        assert!(safe_relative("").is_none());
        assert!(safe_relative("a\\..\\b").is_none());
    }

    #[test]
    fn discovery_finds_archives_and_bundle_folders() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("c1/unpacked/yamls")).unwrap();
        std::fs::write(root.join("c1/unpacked/metadata.yaml"), "x: 1\n").unwrap();
        // Inside a bundle folder nothing is a candidate.
        std::fs::write(root.join("c1/unpacked/yamls/inner.zip"), b"PK\x03\x04").unwrap();
        std::fs::write(root.join("c1/b.zip"), b"junk").unwrap();
        std::fs::write(root.join("c1/b.tgz"), b"junk").unwrap();
        std::fs::write(root.join("notes.txt"), b"hello").unwrap();
        std::fs::write(root.join("noext"), b"PK\x05\x06rest").unwrap();
        std::fs::create_dir_all(root.join("out/x")).unwrap();
        std::fs::write(root.join("out/x/r.zip"), b"junk").unwrap();
        let d = discover(&[root.to_path_buf()], Some(&root.join("out"))).unwrap();
        let got: Vec<(&str, &str, bool)> = d
            .candidates
            .iter()
            .map(|c| (c.key.as_str(), c.name.as_str(), c.is_dir))
            .collect();
        assert_eq!(
            got,
            vec![
                ("c1/b.tgz", "c1/b", false),
                ("c1/b.zip", "c1/b-2", false),
                ("c1/unpacked", "c1/unpacked", true),
                ("noext", "noext", false),
            ]
        );
        // The same file twice gets two names (the second is a duplicate by content).
        let f = root.join("c1/b.zip");
        let d = discover(&[f.clone(), f], None).unwrap();
        let names: Vec<&str> = d.candidates.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["b", "b-2"]);
        assert!(discover(&[root.join("missing")], None).is_err());
    }
}
