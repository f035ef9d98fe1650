//! The support bundle as a whole: its root inside the archive, every file classified,
//! `metadata.yaml`, `bundleGenerationError.log` and the per-node zips (listed in memory).
//! What needs the index (the versions it reveals, the coverage ledger) is in [`crate::facts`].
pub mod generr;
pub mod layout;
pub mod metadata;
pub mod nodes;

use std::path::Path;

use crate::archive::{Archive, Entry, Limits};
use crate::error::{Error, Result};
use crate::model::time::{self, Timestamp};
pub use generr::CollectionError;
pub use layout::PathKind;
pub use metadata::Metadata;
pub use nodes::NodeBundle;

/// A file of the bundle.
#[derive(Debug, Clone)]
pub struct BundleFile {
    /// Path relative to the bundle root.
    pub path: String,
    /// What it holds.
    pub kind: PathKind,
    /// Declared size in bytes.
    pub size: u64,
    /// Path inside the archive (root prefix included).
    pub entry: String,
}

/// A problem met while opening the bundle that did not stop the analysis.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Bundle-relative file (or entry name).
    pub file: String,
    /// What went wrong.
    pub error: String,
}

/// An opened bundle.
pub struct Bundle {
    /// What the user passed (file or folder name).
    pub source: String,
    /// The archive.
    pub archive: Archive,
    /// Prefix of the root inside the archive (`""` or `name/`).
    pub root: String,
    /// Every file under the root, sorted by path.
    pub files: Vec<BundleFile>,
    /// `metadata.yaml`, when present and readable.
    pub metadata: Option<Metadata>,
    /// Capture time (`bundlecreatedat`).
    pub created_at: Option<Timestamp>,
    /// Lines of `bundleGenerationError.log`; `None` when the file is absent.
    pub generation_errors: Option<Vec<CollectionError>>,
    /// Node bundles.
    pub nodes: Vec<NodeBundle>,
    /// Files that could not be read or parsed at this stage.
    pub problems: Vec<Problem>,
}

impl Bundle {
    /// Opens a bundle from a zip, tar, tar.gz or folder.
    pub fn open(path: &Path, limits: &Limits) -> Result<Bundle> {
        let archive = Archive::open(path, limits)?;
        let source = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::from_archive(source, archive)
    }

    /// Builds the bundle view of an opened archive.
    pub fn from_archive(source: String, archive: Archive) -> Result<Bundle> {
        let Some((root, _has_meta)) =
            layout::find_root(archive.entries().iter().map(|e| e.path.as_str()))
        else {
            return Err(Error::NotABundle {
                path: archive.origin().to_path_buf(),
                reason:
                    "no metadata.yaml, yamls/ or logs/ inside; is this a Harvester support bundle?"
                        .into(),
            });
        };
        let mut files = Vec::new();
        for e in archive.entries() {
            if e.is_dir {
                continue;
            }
            let Some(rel) = e.path.strip_prefix(&root) else {
                continue;
            };
            files.push(BundleFile {
                path: rel.to_string(),
                kind: layout::classify(rel),
                size: e.size,
                entry: e.path.clone(),
            });
        }
        let mut b = Bundle {
            source,
            archive,
            root,
            files,
            metadata: None,
            created_at: None,
            generation_errors: None,
            nodes: Vec::new(),
            problems: Vec::new(),
        };
        b.read_metadata();
        b.read_generation_errors();
        b.nodes = nodes::open_all(&b);
        Ok(b)
    }

    /// The file at a bundle-relative path.
    pub fn file(&self, path: &str) -> Option<&BundleFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .and_then(|i| self.files.get(i))
    }

    /// The archive entry of a bundle file.
    pub fn entry(&self, f: &BundleFile) -> Option<&Entry> {
        self.archive.get(&f.entry)
    }

    /// Reads a bundle-relative file.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        let f = self.file(path).ok_or_else(|| Error::Entry {
            entry: path.to_string(),
            reason: "not in the bundle".into(),
        })?;
        self.archive.read(&f.entry)
    }

    /// The node zip at bundle-relative `zip` (`nodes/<n>.zip`), opened.
    fn node_zip(&self, zip: &str) -> Result<crate::archive::Archive> {
        let node = match self.file(zip).map(|f| &f.kind) {
            Some(PathKind::NodeZip { node }) => node.as_str(),
            _ => {
                return Err(Error::Entry {
                    entry: zip.to_string(),
                    reason: "not a node zip of the bundle".into(),
                });
            }
        };
        nodes::open_node_zip(self, node).ok_or_else(|| Error::Entry {
            entry: zip.to_string(),
            reason: "not in the bundle".into(),
        })?
    }

    /// Reads a bundle-relative file as text (invalid UTF-8 replaced). `nodes/<n>.zip!<inner>`
    /// reads `<inner>` from inside that node zip.
    pub fn read_text(&self, path: &str) -> Result<String> {
        let bytes = match path.split_once('!') {
            Some((zip, inner)) => self.node_zip(zip)?.read(inner)?,
            None => self.read(path)?,
        };
        // Valid UTF-8 (nearly always) becomes the string without a copy of the file.
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// Hands the lines of a bundle file to `f` with their 1-based numbers, split and
    /// trimmed of `\n` / `\r\n` as `read_text(path)?.lines()` would give them (invalid UTF-8
    /// replaced), until `f` returns `false`. Entries are streamed, never held whole, also
    /// `nodes/<n>.zip!path` files (only the node zip itself, compressed, is held).
    pub fn for_each_line(&self, path: &str, mut f: impl FnMut(u32, &str) -> bool) -> Result<()> {
        let streamed = match path.split_once('!') {
            Some((zip, inner)) => {
                let z = self.node_zip(zip)?;
                let size = z.get(inner).map_or(0, |e| e.size);
                z.read_with(inner, |r| stream_lines(r, size, &mut f))?
            }
            None => {
                let file = self.file(path).ok_or_else(|| Error::Entry {
                    entry: path.to_string(),
                    reason: "not in the bundle".into(),
                })?;
                self.archive
                    .read_with(&file.entry, |r| stream_lines(r, file.size, &mut f))?
            }
        };
        streamed.map_err(|e| Error::Entry {
            entry: path.to_string(),
            reason: format!("read failed: {e}"),
        })
    }

    /// Whether any file lives under this bundle-relative folder.
    pub fn has_dir(&self, prefix: &str) -> bool {
        let p = format!("{}/", prefix.trim_end_matches('/'));
        let i = self.files.partition_point(|f| f.path.as_str() < p.as_str());
        self.files.get(i).is_some_and(|f| f.path.starts_with(&p))
    }

    fn read_metadata(&mut self) {
        if self.file("metadata.yaml").is_none() {
            return;
        }
        match self.read_text("metadata.yaml") {
            Ok(t) => match Metadata::parse(&t) {
                Ok(m) => {
                    self.created_at = m.bundlecreatedat.as_deref().and_then(time::parse);
                    if m.bundlecreatedat.is_some() && self.created_at.is_none() {
                        self.problems.push(Problem {
                            file: "metadata.yaml".into(),
                            error: "bundlecreatedat is not an RFC 3339 time".into(),
                        });
                    }
                    self.metadata = Some(m);
                }
                Err(e) => self.problems.push(Problem {
                    file: "metadata.yaml".into(),
                    error: format!("unparsable: {e}"),
                }),
            },
            Err(e) => self.problems.push(Problem {
                file: "metadata.yaml".into(),
                error: e.to_string(),
            }),
        }
    }

    fn read_generation_errors(&mut self) {
        if self.file("bundleGenerationError.log").is_none() {
            return;
        }
        match self.read_text("bundleGenerationError.log") {
            Ok(t) => self.generation_errors = Some(generr::parse(&t)),
            Err(e) => self.problems.push(Problem {
                file: "bundleGenerationError.log".into(),
                error: e.to_string(),
            }),
        }
    }

    /// Files of one kind of path, e.g. all resource lists.
    pub fn resource_lists(&self) -> impl Iterator<Item = &BundleFile> {
        self.files
            .iter()
            .filter(|f| matches!(f.kind, PathKind::ResourceList { .. }))
    }
}

/// Hands the lines read from `r` to `f` (see [`Bundle::for_each_line`]). `size` is the
/// entry's size as its archive declares it, only a hint for the read buffer (4 to 256 KiB, as
/// `read_capped` sizes its own): the buffer is zeroed before its first read (the zip and
/// budget readers fill a `&mut [u8]`), and a fixed 256 KiB made every small log cost 256 KiB
/// of zeroing (9 % of the `pipeline` fuzz target's instructions).
fn stream_lines(
    r: &mut dyn std::io::Read,
    size: u64,
    f: &mut impl FnMut(u32, &str) -> bool,
) -> std::io::Result<()> {
    use std::io::BufRead;
    let cap = size.saturating_add(1).clamp(4 * 1024, 256 * 1024);
    let mut r = std::io::BufReader::with_capacity(usize::try_from(cap).unwrap_or(4 * 1024), r);
    let mut buf = Vec::new();
    let mut n = 0u32;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        n = n.saturating_add(1);
        // Valid UTF-8 (nearly every line) is handed on as is; only the rest is repaired.
        let go = match std::str::from_utf8(line) {
            Ok(l) => f(n, l),
            Err(_) => f(n, &String::from_utf8_lossy(line)),
        };
        if !go {
            return Ok(());
        }
    }
}
