//! Folder backend: an unpacked bundle. Symbolic links are listed as rejected, never followed.
use std::path::{Path, PathBuf};

use super::{Archive, Entry, Listing, Rejected, too_many};
use crate::archive::Limits;
use crate::error::{Error, Result};

pub(super) struct DirBackend {
    files: Vec<PathBuf>,
}

impl DirBackend {
    pub(super) fn open(root: &Path, limits: &Limits) -> Result<(DirBackend, Listing)> {
        let mut files = Vec::new();
        let mut entries = Vec::new();
        let mut rejected = Vec::new();
        for item in walkdir::WalkDir::new(root).follow_links(false).min_depth(1) {
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    rejected.push(Rejected {
                        name: e
                            .path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                        reason: format!("unreadable: {e}"),
                    });
                    continue;
                }
            };
            let rel = match item.path().strip_prefix(root) {
                Ok(r) => r,
                Err(_) => continue,
            };
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let ft = item.file_type();
            if ft.is_symlink() {
                rejected.push(Rejected {
                    name,
                    reason: "symbolic link, not followed".into(),
                });
                continue;
            }
            if !ft.is_file() && !ft.is_dir() {
                rejected.push(Rejected {
                    name,
                    reason: "not a regular file".into(),
                });
                continue;
            }
            if entries.len() >= limits.max_entries {
                return Err(too_many(root, limits));
            }
            let size = item.metadata().map(|m| m.len()).unwrap_or(0);
            entries.push(Entry {
                path: name,
                size,
                compressed: None,
                is_dir: ft.is_dir(),
                slot: files.len(),
            });
            files.push(item.into_path());
        }
        Ok((DirBackend { files }, Listing { entries, rejected }))
    }

    pub(super) fn read(&self, archive: &Archive, entry: &Entry) -> Result<Vec<u8>> {
        archive.read_limited(entry, self.open_entry(entry)?)
    }

    /// The entry's file, opened for reading.
    pub(super) fn open_entry(&self, entry: &Entry) -> Result<std::fs::File> {
        let path = self.files.get(entry.slot).ok_or_else(|| Error::Entry {
            entry: entry.path.clone(),
            reason: "unknown entry".into(),
        })?;
        std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })
    }
}
