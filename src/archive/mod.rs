//! One read-only interface over `.zip`, `.tar`, `.tar.gz`/`.tgz` and unpacked folders, plus
//! zips nested inside them (`nodes/<node>.zip`, opened in memory, never extracted).
//!
//! An [`Archive`] lists its entries once, under normalised bundle-relative names, and reads
//! them on demand: one at a time ([`Archive::read`]) or many in parallel
//! ([`Archive::read_many`], rayon for zips and folders, a streaming pass for tars). Every read
//! goes through the [`Limits`]; entries refused for their name or type are kept in
//! [`Archive::rejected`] so the coverage ledger can show them.
mod dir;
pub mod limits;
pub mod path;
mod tarball;
mod zipfile;

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

pub use limits::Limits;

use crate::error::{Error, Result};
use limits::CapHit;

/// One file or folder listed by an archive.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Normalised relative path (`a/b/c.yaml`), never absolute, never with `..`.
    pub path: String,
    /// Uncompressed size as declared by the archive (not trusted for reading).
    pub size: u64,
    /// Compressed size when the format knows it per entry (zip).
    pub compressed: Option<u64>,
    /// Whether the entry is a folder.
    pub is_dir: bool,
    slot: usize,
}

/// An entry the archive holds but that is never read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The raw name, made printable.
    pub name: String,
    /// Why it was refused (zip-slip, link, device, truncated archive...).
    pub reason: String,
}

/// The container format of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// An unpacked folder.
    Dir,
    /// A zip file (or a zip held in memory).
    Zip,
    /// An uncompressed tar.
    Tar,
    /// A gzip-compressed tar.
    TarGz,
}

enum Backend {
    Dir(dir::DirBackend),
    Zip(zipfile::ZipBackend),
    Tar(tarball::TarBackend),
}

/// An opened archive: its listing, and the means to read entries within the limits.
pub struct Archive {
    origin: PathBuf,
    format: Format,
    backend: Backend,
    entries: Vec<Entry>,
    by_path: HashMap<String, usize>,
    rejected: Vec<Rejected>,
    limits: Limits,
    inflated: AtomicU64,
}

/// What a backend hands back after listing.
struct Listing {
    entries: Vec<Entry>,
    rejected: Vec<Rejected>,
}

impl Archive {
    /// Opens a zip, tar, tar.gz or folder, recognised by content (not by extension).
    pub fn open(path: &Path, limits: &Limits) -> Result<Archive> {
        let io_err = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io_err)?;
        let (format, backend, listing) = if meta.is_dir() {
            let (b, l) = dir::DirBackend::open(path, limits)?;
            (Format::Dir, Backend::Dir(b), l)
        } else {
            let mut head = [0u8; 512];
            let mut f = File::open(path).map_err(io_err)?;
            let n = read_prefix(&mut f, &mut head).map_err(io_err)?;
            let head = head.get(..n).unwrap_or_default();
            match sniff(path, head)? {
                Format::Zip => {
                    let (b, l) = zipfile::ZipBackend::open_file(path, limits)?;
                    (Format::Zip, Backend::Zip(b), l)
                }
                f => {
                    let (b, l) = tarball::TarBackend::open(path, f == Format::TarGz, limits)?;
                    (f, Backend::Tar(b), l)
                }
            }
        };
        Ok(Self::assemble(
            path.to_path_buf(),
            format,
            backend,
            listing,
            limits,
        ))
    }

    /// Opens a zip held in memory, e.g. a `nodes/<node>.zip` read from the outer archive.
    /// `origin` is used in messages only.
    pub fn from_zip_bytes(origin: &str, bytes: Vec<u8>, limits: &Limits) -> Result<Archive> {
        let (b, l) = zipfile::ZipBackend::from_bytes(Path::new(origin), bytes, limits)?;
        Ok(Self::assemble(
            PathBuf::from(origin),
            Format::Zip,
            Backend::Zip(b),
            l,
            limits,
        ))
    }

    /// Opens a zip, tar or tar.gz held in memory, recognised by content as
    /// [`Archive::open`] does for a file; `origin` is used in messages only.
    pub fn from_bytes(origin: &str, bytes: Vec<u8>, limits: &Limits) -> Result<Archive> {
        let path = Path::new(origin);
        let (format, backend, listing) = match sniff(path, bytes.get(..512).unwrap_or(&bytes))? {
            Format::Zip => {
                let (b, l) = zipfile::ZipBackend::from_bytes(path, bytes, limits)?;
                (Format::Zip, Backend::Zip(b), l)
            }
            f => {
                let (b, l) =
                    tarball::TarBackend::from_bytes(path, bytes, f == Format::TarGz, limits)?;
                (f, Backend::Tar(b), l)
            }
        };
        Ok(Self::assemble(
            path.to_path_buf(),
            format,
            backend,
            listing,
            limits,
        ))
    }

    fn assemble(
        origin: PathBuf,
        format: Format,
        backend: Backend,
        listing: Listing,
        limits: &Limits,
    ) -> Archive {
        let mut entries = listing.entries;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let mut rejected = listing.rejected;
        let mut by_path = HashMap::with_capacity(entries.len());
        let mut unique = Vec::with_capacity(entries.len());
        for e in entries {
            if by_path.contains_key(&e.path) {
                rejected.push(Rejected {
                    name: e.path.clone(),
                    reason: "duplicate entry name; the first one is used".into(),
                });
                continue;
            }
            by_path.insert(e.path.clone(), unique.len());
            unique.push(e);
        }
        Archive {
            origin,
            format,
            backend,
            entries: unique,
            by_path,
            rejected,
            limits: limits.clone(),
            inflated: AtomicU64::new(0),
        }
    }

    /// Where the archive came from (file, folder, or `outer!inner` for nested zips).
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// The container format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Every readable entry, sorted by path.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Entries that are present but refused (unsafe names, links, devices).
    pub fn rejected(&self) -> &[Rejected] {
        &self.rejected
    }

    /// The entry with this exact normalised path.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.by_path.get(path).and_then(|&i| self.entries.get(i))
    }

    /// The limits this archive is read under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Reads one entry by path.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        let entry = self.get(path).ok_or_else(|| Error::Entry {
            entry: path.to_string(),
            reason: "no such entry in the archive".into(),
        })?;
        self.read_entry(entry)
    }

    /// Streams the entry at `path` through `f`, capped like [`Archive::read`] (reading past
    /// the cap is an I/O error): zips and folders inflate as `f` reads, so a large entry is
    /// never held whole; a tar entry is read whole first (a tar streams only from its start).
    pub fn read_with<T>(&self, path: &str, f: impl FnOnce(&mut dyn Read) -> T) -> Result<T> {
        let entry = self.get(path).ok_or_else(|| Error::Entry {
            entry: path.to_string(),
            reason: "no such entry in the archive".into(),
        })?;
        if entry.is_dir {
            return Err(self.entry_error(entry, "is a folder".into()));
        }
        let budget = self.limits.entry_budget(entry.compressed);
        if entry.size > budget {
            return Err(self.cap_error(entry, CapHit::Entry(budget)));
        }
        let what = "entry";
        match &self.backend {
            Backend::Zip(b) => b.with_reader(entry, |r| {
                f(&mut limits::BudgetReader::new(r, budget, what))
            }),
            Backend::Dir(b) => {
                let file = b.open_entry(entry)?;
                Ok(f(&mut limits::BudgetReader::new(file, budget, what)))
            }
            Backend::Tar(_) => {
                let bytes = self.read_entry(entry)?;
                Ok(f(&mut bytes.as_slice()))
            }
        }
    }

    /// Reads one entry.
    pub fn read_entry(&self, entry: &Entry) -> Result<Vec<u8>> {
        if entry.is_dir {
            return Err(self.entry_error(entry, "is a folder".into()));
        }
        match &self.backend {
            Backend::Dir(b) => b.read(self, entry),
            Backend::Zip(b) => b.read(self, entry),
            Backend::Tar(b) => {
                let mut out = None;
                b.stream(self, &[entry], &mut |_, r| out = Some(r))?;
                out.unwrap_or_else(|| {
                    Err(self.entry_error(entry, "not found on a second pass".into()))
                })
            }
        }
    }

    /// Reads many entries and hands each to `f` as soon as it is inflated: in parallel for zips
    /// and folders, in one streaming pass (with parsing in parallel) for tars.
    pub fn read_many<F>(&self, entries: &[&Entry], f: F) -> Result<()>
    where
        F: Fn(&Entry, Result<Vec<u8>>) + Sync + Send,
    {
        use rayon::prelude::*;
        match &self.backend {
            Backend::Dir(_) | Backend::Zip(_) => {
                // Largest first, each worker taking the next: the big lists are in flight while
                // the caller's results are still small, and the last files read (when its
                // results are largest) are the small ones; no big file is left to run alone.
                let mut order: Vec<&Entry> = entries.to_vec();
                order.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
                let next = std::sync::atomic::AtomicUsize::new(0);
                (0..rayon::current_num_threads().max(1))
                    .into_par_iter()
                    .for_each(|_| {
                        while let Some(e) =
                            order.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                        {
                            f(e, self.read_entry(e));
                        }
                    });
                Ok(())
            }
            Backend::Tar(b) => {
                let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Result<Vec<u8>>)>(4);
                let rx = std::sync::Mutex::new(rx);
                let by_slot: HashMap<usize, &Entry> =
                    entries.iter().map(|e| (e.slot, *e)).collect();
                let mut stream_result = Ok(());
                rayon::scope(|s| {
                    let workers = rayon::current_num_threads().max(1);
                    for _ in 0..workers {
                        s.spawn(|_| {
                            loop {
                                let next = match rx.lock() {
                                    Ok(guard) => guard.recv(),
                                    Err(_) => return,
                                };
                                match next {
                                    Ok((slot, r)) => {
                                        if let Some(e) = by_slot.get(&slot) {
                                            f(e, r)
                                        }
                                    }
                                    Err(_) => return,
                                }
                            }
                        });
                    }
                    stream_result = b.stream(self, entries, &mut |e, r| {
                        let _ = tx.send((e.slot, r));
                    });
                    drop(tx);
                });
                stream_result
            }
        }
    }

    fn entry_error(&self, entry: &Entry, reason: String) -> Error {
        Error::Entry {
            entry: entry.path.clone(),
            reason,
        }
    }

    /// Reads from `r` under this archive's limits. An entry whose declared size is already
    /// over its budget is refused without inflating a byte: its declared size is exact for
    /// tars and folders, and an upper bound the zip reader enforces for zips, so it would
    /// only be cut later, after filling memory.
    fn read_limited<R: Read>(&self, entry: &Entry, r: R) -> Result<Vec<u8>> {
        let budget = self.limits.entry_budget(entry.compressed);
        if entry.size > budget {
            return Err(self.cap_error(entry, CapHit::Entry(budget)));
        }
        match limits::read_capped(
            r,
            budget,
            &self.inflated,
            self.limits.max_total_bytes,
            entry.size,
        ) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(hit)) => Err(self.cap_error(entry, hit)),
            Err(e) => Err(self.entry_error(entry, format!("read failed: {e}"))),
        }
    }

    /// The error for an entry that hit a cap.
    fn cap_error(&self, entry: &Entry, hit: CapHit) -> Error {
        match hit {
            CapHit::Entry(limit) => Error::Limit {
                path: PathBuf::from(&entry.path),
                what: if entry.compressed.is_some() && limit < self.limits.max_entry_bytes {
                    format!(
                        "entry inflates more than {}:1 (possible zip bomb)",
                        self.limits.max_ratio
                    )
                } else {
                    "entry is larger than the per-entry limit".into()
                },
                limit,
                flag: if limit < self.limits.max_entry_bytes {
                    "--max-ratio"
                } else {
                    "--max-entry-size"
                },
            },
            CapHit::Total(limit) => Error::Limit {
                path: PathBuf::from(self.origin.file_name().unwrap_or(self.origin.as_os_str())),
                what: "archive inflates to more than the total limit".into(),
                limit,
                flag: "--max-total-size",
            },
        }
    }
}

fn read_prefix(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(buf.get_mut(n..).unwrap_or_default())? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The container format of a file from its first 512 bytes (never [`Format::Dir`]).
fn sniff(path: &Path, head: &[u8]) -> Result<Format> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Ok(Format::Zip)
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Format::TarGz)
    } else if head.get(257..262) == Some(b"ustar") {
        Ok(Format::Tar)
    } else {
        Err(Error::BadArchive {
            path: path.to_path_buf(),
            reason: if head.is_empty() {
                "the file is empty".into()
            } else {
                "unrecognised format: expected a .zip, .tar, .tar.gz/.tgz or a folder".into()
            },
        })
    }
}

/// Builds the error for "too many entries".
fn too_many(path: &Path, limits: &Limits) -> Error {
    Error::Limit {
        path: path.to_path_buf(),
        what: "archive lists too many entries".into(),
        limit: limits.max_entries as u64,
        flag: "--max-entries",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(body).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_in_memory_lists_reads_and_refuses_escapes() {
        let bytes = zip_bytes(&[
            ("b/metadata.yaml", b"x: 1\n"),
            ("../evil", b"no"),
            ("/abs", b"no"),
            ("b/a.txt", b"hello"),
        ]);
        let a = Archive::from_zip_bytes("mem.zip", bytes, &Limits::default()).unwrap();
        let names: Vec<&str> = a.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(names, vec!["b/a.txt", "b/metadata.yaml"]);
        assert_eq!(a.rejected().len(), 2);
        assert_eq!(a.read("b/a.txt").unwrap(), b"hello");
        assert!(a.read("nope").is_err());
    }

    #[test]
    /// The ratio cap stops a bomb, and before inflating a byte when its declared size is over.
    fn declared_size_over_budget_is_refused_before_inflating() {
        let big = vec![b' '; 4 << 20];
        let bytes = zip_bytes(&[("bomb.yaml", &big), ("ok.yaml", b"a: 1\n")]);
        let limits = Limits {
            ratio_floor_bytes: 1 << 20,
            max_ratio: 10,
            ..Limits::default()
        };
        let a = Archive::from_zip_bytes("mem.zip", bytes, &limits).unwrap();
        let err = a.read("bomb.yaml").unwrap_err().to_string();
        assert!(err.contains("10:1") && err.contains("--max-ratio"), "{err}");
        assert_eq!(a.inflated.load(std::sync::atomic::Ordering::Relaxed), 0);
        assert_eq!(a.read("ok.yaml").unwrap(), b"a: 1\n");
    }

    /// Writes a tar.gz of regular `files`, then whatever `more` appends.
    fn write_tgz(
        path: &Path,
        files: &[(&str, &[u8])],
        more: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<std::fs::File>>),
    ) {
        let f = std::fs::File::create(path).unwrap();
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        let mut t = tar::Builder::new(gz);
        for (name, body) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            t.append_data(&mut h, name, *body).unwrap();
        }
        more(&mut t);
        t.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn tar_gz_listing_stops_at_an_entry_past_the_stream_budget() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tgz");
        write_tgz(
            &path,
            &[
                ("r/metadata.yaml", &b"a: b\n"[..]),
                ("r/logs/big.log", &vec![b' '; 8 << 20][..]),
                ("r/after.yaml", &b"c: d\n"[..]),
            ],
            |_| {},
        );
        let limits = Limits {
            ratio_floor_bytes: 1 << 20,
            max_ratio: 10,
            ..Limits::default()
        };
        let a = Archive::open(&path, &limits).unwrap();
        let names: Vec<&str> = a.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(names, vec!["r/metadata.yaml"]);
        assert_eq!(a.rejected().len(), 1);
        assert_eq!(a.rejected()[0].name, "r/logs/big.log");
        assert!(a.rejected()[0].reason.contains("decompression bomb"));
        assert_eq!(a.read("r/metadata.yaml").unwrap(), b"a: b\n");
    }

    #[test]
    fn garbage_is_a_bad_archive() {
        let e = Archive::from_zip_bytes("x.zip", b"PK\x03\x04garbage".to_vec(), &Limits::default());
        assert!(matches!(e, Err(Error::BadArchive { .. })));
    }

    #[test]
    fn tar_gz_streams_and_refuses_links() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tgz");
        write_tgz(&path, &[("r/metadata.yaml", &b"a: b\n"[..])], |t| {
            let mut l = tar::Header::new_gnu();
            l.set_entry_type(tar::EntryType::Symlink);
            l.set_size(0);
            t.append_link(&mut l, "r/link", "/etc/passwd").unwrap();
        });
        let a = Archive::open(&path, &Limits::default()).unwrap();
        assert_eq!(a.format(), Format::TarGz);
        assert_eq!(a.entries().len(), 1);
        assert_eq!(a.rejected().len(), 1);
        let seen = std::sync::Mutex::new(Vec::new());
        let all: Vec<&Entry> = a.entries().iter().collect();
        a.read_many(&all, |e, r| {
            seen.lock().unwrap().push((e.path.clone(), r.unwrap()))
        })
        .unwrap();
        assert_eq!(
            seen.into_inner().unwrap(),
            vec![("r/metadata.yaml".to_string(), b"a: b\n".to_vec())]
        );
    }

    /// A bundle held in memory opens as the same file would: each format recognised by
    /// content, the same listing (links refused) and the same bytes, serially and in parallel;
    /// the gzip stream's budget is the in-memory size times the ratio, as for a file.
    #[test]
    fn from_bytes_matches_open_for_every_format() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = dir.path().join("t.tgz");
        let files: &[(&str, &[u8])] = &[("r/metadata.yaml", b"a: b\n"), ("r/x/y.log", b"line\n")];
        write_tgz(&tgz, files, |t| {
            let mut l = tar::Header::new_gnu();
            l.set_entry_type(tar::EntryType::Symlink);
            l.set_size(0);
            t.append_link(&mut l, "r/link", "/etc/passwd").unwrap();
        });
        let gz = std::fs::read(&tgz).unwrap();
        let plain = {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
                .unwrap();
            out
        };
        let tar = dir.path().join("t.tar");
        std::fs::write(&tar, &plain).unwrap();
        let zip = dir.path().join("t.zip");
        std::fs::write(&zip, zip_bytes(files)).unwrap();
        for (path, format) in [
            (&tgz, Format::TarGz),
            (&tar, Format::Tar),
            (&zip, Format::Zip),
        ] {
            let limits = Limits::default();
            let on_disk = Archive::open(path, &limits).unwrap();
            let bytes = std::fs::read(path).unwrap();
            let mem = Archive::from_bytes("mem", bytes, &limits).unwrap();
            assert_eq!((mem.format(), on_disk.format()), (format, format));
            assert_eq!(mem.origin(), Path::new("mem"));
            let names = |a: &Archive| {
                let mut v: Vec<String> = a.entries().iter().map(|e| e.path.clone()).collect();
                v.extend(a.rejected().iter().map(|r| format!("refused {}", r.name)));
                v
            };
            assert_eq!(names(&mem), names(&on_disk), "{format:?}");
            assert_eq!(mem.read("r/x/y.log").unwrap(), b"line\n");
            let seen = std::sync::Mutex::new(Vec::new());
            let all: Vec<&Entry> = mem.entries().iter().collect();
            mem.read_many(&all, |e, r| {
                seen.lock().unwrap().push((e.path.clone(), r.unwrap()))
            })
            .unwrap();
            let mut seen = seen.into_inner().unwrap();
            seen.sort();
            assert_eq!(seen.len(), 2, "{format:?}");
            assert_eq!(seen[0], ("r/metadata.yaml".to_string(), b"a: b\n".to_vec()));
        }
        let bomb = {
            let p = dir.path().join("bomb.tgz");
            write_tgz(
                &p,
                &[
                    ("r/metadata.yaml", &b"a\n"[..]),
                    ("r/big", &vec![b' '; 8 << 20][..]),
                ],
                |_| {},
            );
            std::fs::read(p).unwrap()
        };
        let limits = Limits {
            ratio_floor_bytes: 1 << 20,
            max_ratio: 10,
            ..Limits::default()
        };
        let a = Archive::from_bytes("bomb.tgz", bomb, &limits).unwrap();
        assert_eq!(a.entries().len(), 1);
        assert!(a.rejected()[0].reason.contains("decompression bomb"));
        for junk in [&b""[..], b"not an archive"] {
            let e = Archive::from_bytes("junk", junk.to_vec(), &Limits::default());
            assert!(matches!(e, Err(Error::BadArchive { .. })));
        }
    }
}
