//! Zip backend: the file is memory-mapped (or held in memory for nested zips) and every reader
//! works on a cheap clone of the parsed central directory, so entries inflate in parallel.
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zip::ZipArchive;

use super::{Archive, Entry, Listing, Rejected, path, too_many};
use crate::archive::Limits;
use crate::error::{Error, Result};

/// Bytes shared by every reader of one zip.
#[derive(Clone)]
enum Bytes {
    Map(Arc<memmap2::Mmap>),
    Owned(Arc<[u8]>),
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

pub(super) struct ZipBackend {
    zip: ZipArchive<Cursor<Bytes>>,
}

impl ZipBackend {
    pub(super) fn open_file(path: &Path, limits: &Limits) -> Result<(ZipBackend, Listing)> {
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        // SAFETY: the map is read-only; a file truncated by another process while we read it
        // is outside what sbdiag defends against (inputs are copies on the analyst's disk).
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) };
        let bytes = match map {
            Ok(m) => Bytes::Map(Arc::new(m)),
            Err(_) => {
                let v = std::fs::read(path).map_err(|source| Error::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                Bytes::Owned(v.into())
            }
        };
        Self::new(path, bytes, limits)
    }

    pub(super) fn from_bytes(
        origin: &Path,
        bytes: Vec<u8>,
        limits: &Limits,
    ) -> Result<(ZipBackend, Listing)> {
        Self::new(origin, Bytes::Owned(bytes.into()), limits)
    }

    fn new(path: &Path, bytes: Bytes, limits: &Limits) -> Result<(ZipBackend, Listing)> {
        let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| Error::BadArchive {
            path: path.to_path_buf(),
            reason: format!("corrupt or truncated zip ({e})"),
        })?;
        if zip.len() > limits.max_entries {
            return Err(too_many(path, limits));
        }
        let mut entries = Vec::with_capacity(zip.len());
        let mut rejected = Vec::new();
        for slot in 0..zip.len() {
            let f = match zip.by_index_raw(slot) {
                Ok(f) => f,
                Err(e) => {
                    rejected.push(Rejected {
                        name: format!("entry #{slot}"),
                        reason: format!("unreadable zip header: {e}"),
                    });
                    continue;
                }
            };
            let raw = String::from_utf8_lossy(f.name_raw()).into_owned();
            if f.is_symlink() {
                rejected.push(Rejected {
                    name: raw,
                    reason: "symbolic link, not followed".into(),
                });
                continue;
            }
            match path::normalize(&raw) {
                Ok(p) => entries.push(Entry {
                    path: p,
                    size: f.size(),
                    compressed: Some(f.compressed_size()),
                    is_dir: f.is_dir(),
                    slot,
                }),
                Err(why) => rejected.push(Rejected {
                    name: raw,
                    reason: why.into(),
                }),
            }
        }
        Ok((ZipBackend { zip }, Listing { entries, rejected }))
    }

    pub(super) fn read(&self, archive: &Archive, entry: &Entry) -> Result<Vec<u8>> {
        if entry.size > archive.limits.max_entry_bytes {
            return Err(Error::Limit {
                path: PathBuf::from(&entry.path),
                what: "entry declares a size above the per-entry limit".into(),
                limit: archive.limits.max_entry_bytes,
                flag: "--max-entry-size",
            });
        }
        let mut zip = self.zip.clone();
        let f = zip.by_index(entry.slot).map_err(|e| Error::Entry {
            entry: entry.path.clone(),
            reason: format!("cannot open zip entry: {e}"),
        })?;
        archive.read_limited(entry, f)
    }
}
