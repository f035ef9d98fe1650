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
        // The zip reader parses (and allocates for) every header the end record declares:
        // a million tiny entries are refused before that, not after.
        if declared_entries(bytes.as_ref()) > limits.max_entries as u64 {
            return Err(too_many(path, limits));
        }
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

/// The largest entry count declared by an end-of-central-directory record in the last 64 KiB
/// of `bytes` (every candidate, as a reader may fall back from one to another), read from the
/// zip64 record its locator points at when the 16-bit count is saturated. 0 when none is found.
fn declared_entries(bytes: &[u8]) -> u64 {
    let field = |at: usize, off: usize, n: usize| -> Option<&[u8]> {
        let start = at.checked_add(off)?;
        bytes.get(start..start.checked_add(n)?)
    };
    let le = |at: usize, off: usize, n: usize| -> Option<u64> {
        let b = field(at, off, n)?;
        Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
    };
    let zip64_count = |locator: usize| -> Option<u64> {
        if field(locator, 0, 4)? != b"PK\x06\x07" {
            return None;
        }
        let pointed = usize::try_from(le(locator, 8, 8)?).ok();
        [pointed, locator.checked_sub(56)]
            .into_iter()
            .flatten()
            .filter(|&at| field(at, 0, 4) == Some(b"PK\x06\x06"))
            .filter_map(|at| Some(le(at, 24, 8)?.max(le(at, 32, 8)?)))
            .max()
    };
    let from = bytes.len().saturating_sub(22 + 0xFFFF);
    let tail = bytes.get(from..).unwrap_or_default();
    tail.windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x05\x06")
        .filter_map(|(i, _)| {
            let at = from + i;
            let short = le(at, 8, 2)?.max(le(at, 10, 2)?);
            if short < 0xFFFF {
                return Some(short);
            }
            Some(at.checked_sub(20).and_then(zip64_count).unwrap_or(short))
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::declared_entries;

    fn zip_of(n: usize) -> Vec<u8> {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for i in 0..n {
            z.start_file(format!("f{i}"), zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b"x").unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn declared_entry_count_is_read_before_parsing() {
        assert_eq!(declared_entries(&zip_of(3)), 3);
        assert_eq!(declared_entries(&zip_of(0)), 0);
        assert_eq!(declared_entries(b"garbage"), 0);
        // A zip64 end record (count saturated in the classic record) declaring 10^6 entries.
        let mut z = Vec::new();
        z.extend_from_slice(b"PK\x06\x06");
        z.extend_from_slice(&44u64.to_le_bytes());
        z.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&1_000_000u64.to_le_bytes());
        z.extend_from_slice(&1_000_000u64.to_le_bytes());
        z.extend_from_slice(&[0; 16]);
        z.extend_from_slice(b"PK\x06\x07\0\0\0\0");
        z.extend_from_slice(&0u64.to_le_bytes());
        z.extend_from_slice(&1u32.to_le_bytes());
        z.extend_from_slice(b"PK\x05\x06\0\0\0\0\xff\xff\xff\xff");
        z.extend_from_slice(&[0; 10]);
        assert_eq!(declared_entries(&z), 1_000_000);
        // Truncated records are no answer, and no panic.
        for cut in 0..z.len() {
            let _ = declared_entries(&z[..cut]);
        }
    }
}
