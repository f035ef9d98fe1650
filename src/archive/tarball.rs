//! Tar and tar.gz backend. Tars have no index, so listing is one streaming pass and reading is
//! another; links and special files are refused, a truncated tar keeps what was listed.
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::limits::BudgetReader;
use super::{Archive, Entry, Listing, Rejected, path, too_many};
use crate::archive::Limits;
use crate::error::{Error, Result};

pub(super) struct TarBackend {
    /// The file, or the name the bytes are known by (messages only).
    path: PathBuf,
    /// The tar's bytes when held in memory (`None`: read from `path`).
    bytes: Option<Arc<[u8]>>,
    gz: bool,
    file_len: u64,
}

impl TarBackend {
    /// Most bytes the whole gzip stream may inflate to (`None` for a plain tar).
    fn stream_budget(&self, limits: &Limits) -> Option<u64> {
        self.gz.then(|| {
            self.file_len
                .saturating_mul(limits.max_ratio)
                .max(limits.ratio_floor_bytes)
                .min(limits.max_total_bytes)
        })
    }

    fn reader(&self, limits: &Limits) -> Result<Box<dyn Read>> {
        let f: Box<dyn Read> = match &self.bytes {
            Some(b) => Box::new(std::io::Cursor::new(b.clone())),
            None => {
                let f = File::open(&self.path).map_err(|source| Error::Io {
                    path: self.path.clone(),
                    source,
                })?;
                Box::new(BufReader::with_capacity(1 << 20, f))
            }
        };
        Ok(if let Some(budget) = self.stream_budget(limits) {
            Box::new(BudgetReader::new(
                flate2::read::MultiGzDecoder::new(f),
                budget,
                "gzip stream",
            ))
        } else {
            Box::new(f)
        })
    }

    pub(super) fn open(path: &Path, gz: bool, limits: &Limits) -> Result<(TarBackend, Listing)> {
        let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Self::list(
            TarBackend {
                path: path.to_path_buf(),
                bytes: None,
                gz,
                file_len,
            },
            limits,
        )
    }

    /// A tar (or tar.gz) held in memory; `origin` names it in messages.
    pub(super) fn from_bytes(
        origin: &Path,
        bytes: Vec<u8>,
        gz: bool,
        limits: &Limits,
    ) -> Result<(TarBackend, Listing)> {
        Self::list(
            TarBackend {
                path: origin.to_path_buf(),
                file_len: bytes.len() as u64,
                bytes: Some(bytes.into()),
                gz,
            },
            limits,
        )
    }

    /// The listing pass.
    fn list(b: TarBackend, limits: &Limits) -> Result<(TarBackend, Listing)> {
        let path = b.path.clone();
        let path = path.as_path();
        let mut tar = tar::Archive::new(b.reader(limits)?);
        let mut entries = Vec::new();
        let mut rejected = Vec::new();
        let iter = tar.entries().map_err(|e| Error::BadArchive {
            path: path.to_path_buf(),
            reason: format!("corrupt tar: {e}"),
        })?;
        for (slot, item) in iter.enumerate() {
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    if entries.is_empty() && rejected.is_empty() {
                        return Err(Error::BadArchive {
                            path: path.to_path_buf(),
                            reason: format!("corrupt or truncated tar: {e}"),
                        });
                    }
                    rejected.push(Rejected {
                        name: format!("entries after #{slot}"),
                        reason: format!("archive truncated or corrupt: {e}"),
                    });
                    break;
                }
            };
            if entries.len() + rejected.len() >= limits.max_entries {
                return Err(too_many(path, limits));
            }
            let raw = String::from_utf8_lossy(&item.path_bytes()).into_owned();
            if let Some(budget) = b.stream_budget(limits)
                && item.raw_file_position().saturating_add(item.size()) > budget
            {
                // Skipping it means inflating it: the stream would hit its budget anyway.
                rejected.push(Rejected {
                    name: raw,
                    reason: format!(
                        "ends past the {budget} bytes the gzip stream may inflate to (possible \
                         decompression bomb; raise it with --max-ratio if the bundle is \
                         trusted); it and the entries after it are not read"
                    ),
                });
                break;
            }
            let kind = item.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                rejected.push(Rejected {
                    name: raw,
                    reason: "link, not followed".into(),
                });
                continue;
            }
            let is_dir = kind.is_dir();
            if !is_dir && !kind.is_file() && !kind.is_contiguous() {
                if !kind.is_pax_global_extensions() && !kind.is_gnu_longname() {
                    rejected.push(Rejected {
                        name: raw,
                        reason: format!("unsupported tar entry type {:?}", kind.as_byte() as char),
                    });
                }
                continue;
            }
            match path::normalize(&raw) {
                Ok(p) => entries.push(Entry {
                    path: p,
                    size: item.size(),
                    compressed: None,
                    is_dir,
                    slot,
                }),
                Err(why) => rejected.push(Rejected {
                    name: raw,
                    reason: why.into(),
                }),
            }
        }
        Ok((b, Listing { entries, rejected }))
    }

    /// One pass over the tar, handing each wanted entry to `f`.
    pub(super) fn stream(
        &self,
        archive: &Archive,
        wanted: &[&Entry],
        f: &mut dyn FnMut(&Entry, Result<Vec<u8>>),
    ) -> Result<()> {
        let slots: HashMap<usize, &Entry> = wanted.iter().map(|e| (e.slot, *e)).collect();
        let mut left = slots.len();
        let mut tar = tar::Archive::new(self.reader(&archive.limits)?);
        let iter = tar.entries().map_err(|e| Error::BadArchive {
            path: self.path.clone(),
            reason: format!("corrupt tar: {e}"),
        })?;
        for (slot, item) in iter.enumerate() {
            if left == 0 {
                break;
            }
            let item = match item {
                Ok(i) => i,
                Err(_) => break,
            };
            // An entry that ends past what the whole stream may inflate to would be cut
            // anyway: refuse it before filling memory with it, and stop there.
            if let Some(budget) = self.stream_budget(&archive.limits)
                && item.raw_file_position().saturating_add(item.size()) > budget
            {
                if let Some(e) = slots.get(&slot) {
                    f(
                        e,
                        Err(Error::Limit {
                            path: PathBuf::from(&e.path),
                            what: "entry ends past what the gzip stream may inflate to \
                                   (possible decompression bomb)"
                                .into(),
                            limit: budget,
                            flag: "--max-ratio",
                        }),
                    );
                }
                break;
            }
            if let Some(e) = slots.get(&slot) {
                left -= 1;
                f(e, archive.read_limited(e, item));
            }
        }
        Ok(())
    }
}
