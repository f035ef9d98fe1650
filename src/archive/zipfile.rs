//! Zip backend: the file is read with positioned reads (or held in memory for nested zips)
//! and every reader works on a cheap clone of the parsed central directory, so entries
//! inflate in parallel. No memory map: every page of a mapped zip that is read counts in the
//! process's resident memory, so a 2 GB bundle would cost 2 GB of RSS on its own.
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zip::ZipArchive;

use super::{Archive, Entry, Listing, Rejected, path, too_many};
use crate::archive::Limits;
use crate::error::{Error, Result};

/// The bytes of one zip, shared by all its readers.
#[derive(Clone)]
enum Source {
    /// An open file and its length (positioned reads, no shared cursor).
    File(Arc<File>, u64),
    /// Bytes in memory (nested zips, or a platform without positioned reads).
    Owned(Arc<[u8]>),
}

impl Source {
    fn len(&self) -> u64 {
        match self {
            Source::File(_, len) => *len,
            Source::Owned(v) => v.len() as u64,
        }
    }

    /// Reads at `pos` into `buf`; 0 at the end.
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            #[cfg(unix)]
            Source::File(f, _) => std::os::unix::fs::FileExt::read_at(&**f, buf, pos),
            #[cfg(not(unix))]
            Source::File(..) => Err(io::Error::other("positioned reads need unix")),
            Source::Owned(v) => {
                let from = usize::try_from(pos).unwrap_or(usize::MAX).min(v.len());
                let src = v.get(from..).unwrap_or_default();
                let n = src.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
                    dst.copy_from_slice(src);
                }
                Ok(n)
            }
        }
    }

    /// The last `n` bytes (fewer when the zip is shorter) and the offset they start at.
    fn tail(&self, n: u64) -> io::Result<(Vec<u8>, u64)> {
        let from = self.len().saturating_sub(n);
        let mut out = vec![0u8; usize::try_from(self.len() - from).unwrap_or(0)];
        let mut got = 0;
        while let Some(rest) = out.get_mut(got..).filter(|r| !r.is_empty()) {
            match self.read_at(from + got as u64, rest)? {
                0 => break,
                k => got += k,
            }
        }
        out.truncate(got);
        Ok((out, from))
    }
}

/// A cursor over a [`Source`]: cloning it is cheap and clones do not share the position.
#[derive(Clone)]
struct Reader {
    src: Source,
    pos: u64,
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.src.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Reader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let (base, delta) = match to {
            SeekFrom::Start(p) => (0, i128::from(p)),
            SeekFrom::End(d) => (self.src.len(), i128::from(d)),
            SeekFrom::Current(d) => (self.pos, i128::from(d)),
        };
        let p = i128::from(base) + delta;
        self.pos = u64::try_from(p)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

pub(super) struct ZipBackend {
    zip: ZipArchive<Reader>,
}

impl ZipBackend {
    pub(super) fn open_file(path: &Path, limits: &Limits) -> Result<(ZipBackend, Listing)> {
        let io_err = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let src = if cfg!(unix) {
            let file = File::open(path).map_err(io_err)?;
            let len = file.metadata().map_err(io_err)?.len();
            Source::File(Arc::new(file), len)
        } else {
            Source::Owned(std::fs::read(path).map_err(io_err)?.into())
        };
        Self::new(path, src, limits)
    }

    pub(super) fn from_bytes(
        origin: &Path,
        bytes: Vec<u8>,
        limits: &Limits,
    ) -> Result<(ZipBackend, Listing)> {
        Self::new(origin, Source::Owned(bytes.into()), limits)
    }

    fn new(path: &Path, src: Source, limits: &Limits) -> Result<(ZipBackend, Listing)> {
        // The zip reader parses (and allocates for) every header the end record declares:
        // a million tiny entries are refused before that, not after. The end records are in
        // the last 64 KiB (plus the zip64 record and locator before them).
        let (tail, base) = src
            .tail(22 + 0xFFFF + 20 + 56)
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if declared_entries(&tail, base) > limits.max_entries as u64 {
            return Err(too_many(path, limits));
        }
        let reader = Reader { src, pos: 0 };
        let mut zip = ZipArchive::new(reader).map_err(|e| Error::BadArchive {
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

    /// Hands the entry's inflating reader to `f`.
    pub(super) fn with_reader<T>(
        &self,
        entry: &Entry,
        f: impl FnOnce(&mut dyn Read) -> T,
    ) -> Result<T> {
        let mut zip = self.zip.clone();
        let mut r = zip.by_index(entry.slot).map_err(|e| Error::Entry {
            entry: entry.path.clone(),
            reason: format!("cannot open zip entry: {e}"),
        })?;
        Ok(f(&mut r))
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
/// zip64 record its locator points at when the 16-bit count is saturated. `bytes` is the end
/// of the zip, starting at offset `base` of it (the locator's pointer is an offset in the
/// zip). 0 when none is found.
fn declared_entries(bytes: &[u8], base: u64) -> u64 {
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
        let pointed = le(locator, 8, 8)?
            .checked_sub(base)
            .and_then(|p| usize::try_from(p).ok());
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
        assert_eq!(declared_entries(&zip_of(3), 0), 3);
        assert_eq!(declared_entries(&zip_of(0), 0), 0);
        assert_eq!(declared_entries(b"garbage", 0), 0);
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
        assert_eq!(declared_entries(&z, 0), 1_000_000);
        // Truncated records are no answer, and no panic.
        for cut in 0..z.len() {
            let _ = declared_entries(&z[..cut], 0);
        }
    }
}
