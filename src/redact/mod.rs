//! `sbdiag redact`: a pseudonymized copy of a bundle that can be shared, and the check that
//! nothing identifying or secret is left in it (DESIGN.md §10).
//!
//! The identifiers are found from the bundle first ([`ids`]), their pseudonyms made by a
//! keyed function ([`pseudo`]), then every entry is rewritten line by line ([`text`]),
//! node zips included, in the same container format, without unpacking to disk. The output
//! is written beside its final name and kept only when the leak check finds nothing of the
//! originals and no secret-shaped string in it.
pub mod ids;
pub mod pseudo;
pub mod text;
pub mod words;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::archive::{Archive, Entry, Format, Limits};
use crate::bundle::{Bundle, PathKind};
use crate::error::{Error, Result};
use crate::index::{Index, Views};
pub use pseudo::{Class, Pseudonyms};
use text::{FileState, LeakCheck, Rewriter};

/// What a run did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    /// Files written.
    pub files: usize,
    /// Identifiers found in the bundle (replaced everywhere / only as whole values).
    pub identifiers: usize,
    /// Of which words of the system's vocabulary, replaced only where they are a whole value.
    pub whole_values_only: usize,
    /// Pseudonyms made (identifiers, addresses, domains, e-mails).
    pub pseudonyms: usize,
    /// Files left out (binary files that cannot be rewritten), with why.
    pub dropped: Vec<(String, String)>,
}

/// A line of the output that still holds an original or a secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Leak {
    /// Path in the output (`nodes/x.zip!inner` inside a node zip).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// What was found.
    pub what: String,
}

/// How much of a leak list is printed.
pub const LEAKS_SHOWN: usize = 20;

/// Redacts `input` into `output` (same container format; a folder for a folder). `map`: the
/// mapping file to reuse and update. The output is removed again when the leak check fails.
pub fn redact(
    input: &Path,
    output: &Path,
    limits: &Limits,
    map: Option<&Path>,
) -> Result<(Summary, Vec<Leak>)> {
    let bundle = Bundle::open(input, limits)?;
    let p = pseudonyms(map)?;
    let (found, vocab) = prepare(&bundle, &p);
    let rw = Rewriter::new(&found, &vocab, &p)?;
    if output.exists() {
        return Err(Error::Usage(format!(
            "{}: already exists; choose a new output name (nothing is overwritten)",
            output.display()
        )));
    }
    let partial = partial_path(output);
    let _ = remove(&partial);
    let mut summary = Summary {
        identifiers: found.ids.len(),
        whole_values_only: rw.counts().1,
        ..Summary::default()
    };
    let written = write(&bundle, &rw, Some(&partial), &mut summary);
    if let Err(e) = written {
        let _ = remove(&partial);
        return Err(e);
    }
    summary.pseudonyms = p.pairs().len();
    // The leak check: every original collected or met, as the rewriter matched it.
    let check = leak_check_for(&p, &vocab);
    let leaks =
        match Archive::open(&partial, limits).and_then(|a| check_archive(&a, limits, &check)) {
            Ok(l) => l,
            Err(e) => {
                let _ = remove(&partial);
                return Err(e);
            }
        };
    if !leaks.is_empty() {
        let _ = remove(&partial);
        return Ok((summary, leaks));
    }
    std::fs::rename(&partial, output).map_err(|e| Error::Io {
        path: output.to_path_buf(),
        source: e,
    })?;
    if let Some(m) = map {
        p.save(m)?;
    }
    Ok((summary, leaks))
}

/// The pseudonym maker of a run: `map`'s key and pairs when given and present, else a fresh key.
fn pseudonyms(map: Option<&Path>) -> Result<Pseudonyms> {
    match map {
        Some(m) => Pseudonyms::from_map(m),
        None => Ok(Pseudonyms::fresh()),
    }
}

/// Indexes the bundle, finds its identifiers and the system's vocabulary, and makes every
/// identifier's pseudonym in `p` now (so that the mapping holds them all); the index is not
/// kept.
fn prepare(bundle: &Bundle, p: &Pseudonyms) -> (ids::Found, ids::Vocabulary) {
    let index = Index::build_with(bundle, &|_, _| {}, Views::Only(ids::VIEWS_READ));
    let found = ids::collect(bundle, &index);
    let vocab = ids::Vocabulary::of(&index, &found);
    for (id, class) in &found.ids {
        p.of(*class, id);
    }
    // Freeing a large bundle's index takes a while (a tenth of a second for 50,000 objects):
    // done on a thread of its own while the rewriter is built.
    let _ = std::thread::Builder::new().spawn(move || drop(index));
    (found, vocab)
}

/// The leak check for the pairs of `p`.
pub fn leak_check_for(p: &Pseudonyms, vocab: &ids::Vocabulary) -> LeakCheck {
    let pairs = p.pairs();
    let pseudonyms = pairs.iter().map(|(_, _, ps)| ps.clone()).collect();
    let originals = pairs
        .into_iter()
        .filter(|(_, o, ps)| o != ps)
        .map(|(c, o, _)| {
            let whole = !matches!(
                c,
                Class::Ipv4 | Class::Ipv6 | Class::Mac | Class::Email | Class::Domain
            ) && vocab.has(&o);
            (o, whole)
        })
        .collect();
    LeakCheck::new(originals, pseudonyms)
}

/// Checks a redacted bundle alone: secret-shaped strings, and the originals of `map` when
/// given. An original that is a word of the system's vocabulary was replaced only where it is
/// a whole value, and is looked for only there; the vocabulary is the copy's own (kinds,
/// resources and the system's names are kept, so it is the original bundle's).
pub fn check(path: &Path, limits: &Limits, map: Option<&Path>) -> Result<Vec<Leak>> {
    let Some(m) = map else {
        let check = leak_check_for(&Pseudonyms::with_key([0; 32]), &ids::Vocabulary::default());
        return check_archive(&Archive::open(path, limits)?, limits, &check);
    };
    if !m.exists() {
        return Err(Error::Usage(format!("--map {}: no such file", m.display())));
    }
    let p = Pseudonyms::from_map(m)?;
    let bundle = Bundle::open(path, limits)?;
    let found = ids::Found {
        ids: p.pairs().into_iter().map(|(c, o, _)| (o, c)).collect(),
    };
    // The vocabulary reads names only.
    let index = Index::build_with(&bundle, &|_, _| {}, Views::Only(&[]));
    let vocab = ids::Vocabulary::of(&index, &found);
    check_archive(&bundle.archive, limits, &leak_check_for(&p, &vocab))
}

/// A redacted copy held in memory, opened as a bundle, for `analyze --redact`.
pub struct InMemory {
    /// What the redaction did.
    pub summary: Summary,
    /// What the leak check found in the copy (empty: it passed).
    pub leaks: Vec<Leak>,
    /// The copy, opened (`None` when the leak check failed).
    pub bundle: Option<Bundle>,
    /// The leak check, to run on the reports too.
    pub check: LeakCheck,
}

/// Redacts `input` into memory and opens the copy as a bundle named by the pseudonymized
/// name of the input: nothing is written. `map` is reused when it exists and written after.
pub fn in_memory(input: &Path, limits: &Limits, map: Option<&Path>) -> Result<InMemory> {
    let bundle = Bundle::open(input, limits)?;
    let p = pseudonyms(map)?;
    let mem = in_memory_with(bundle, limits, &p)?;
    if let (Some(_), Some(m)) = (&mem.bundle, map) {
        p.save(m)?;
    }
    Ok(mem)
}

/// Redacts an opened bundle (one read from a file, or held in memory) into memory with the
/// pseudonyms of `p`, which then holds every pair made (a fixed key, [`Pseudonyms::with_key`],
/// makes the copy reproducible), and opens the copy as a bundle when the leak check passes.
pub fn in_memory_with(bundle: Bundle, limits: &Limits, p: &Pseudonyms) -> Result<InMemory> {
    let (found, vocab) = prepare(&bundle, p);
    let rw = Rewriter::new(&found, &vocab, p)?;
    let mut summary = Summary {
        identifiers: found.ids.len(),
        whole_values_only: rw.counts().1,
        ..Summary::default()
    };
    let zip = write(&bundle, &rw, None, &mut summary)?.unwrap_or_default();
    let name = rw.path(&bundle.source);
    drop(bundle);
    summary.pseudonyms = p.pairs().len();
    let check = leak_check_for(p, &vocab);
    // The copy is the bundle, not a node zip: the whole-bundle limits apply.
    let archive = Archive::from_zip_bytes(&name, zip, limits)?;
    let leaks = check_archive(&archive, limits, &check)?;
    let bundle = if leaks.is_empty() {
        Some(Bundle::from_archive(name, archive)?)
    } else {
        None
    };
    Ok(InMemory {
        summary,
        leaks,
        bundle,
        check,
    })
}

/// The leaks of a text (a report) under `check`, named `file`. A large text is checked in
/// pieces of whole lines, in parallel (the check keeps no state from line to line).
pub fn check_text(check: &LeakCheck, file: &str, text: &str) -> Vec<Leak> {
    check_in_pieces(check, file, text, CHECK_PIECE)
}

fn check_in_pieces(check: &LeakCheck, file: &str, text: &str, size: usize) -> Vec<Leak> {
    use rayon::prelude::*;
    let pieces = line_pieces(text, size);
    let mut first_line = Vec::with_capacity(pieces.len());
    let mut n = 1u32;
    for p in &pieces {
        first_line.push(n);
        n = n.saturating_add(memchr::memchr_iter(b'\n', p.as_bytes()).count() as u32);
    }
    pieces
        .par_iter()
        .zip(first_line)
        .flat_map_iter(|(piece, first)| {
            check.lines(piece).into_iter().map(move |(i, what)| Leak {
                file: file.to_string(),
                line: first.saturating_add(i as u32),
                what,
            })
        })
        .collect()
}

/// How much text one worker of the leak check takes at a time.
const CHECK_PIECE: usize = 1 << 20;

/// `text` cut after line endings into pieces of about `size` bytes (one piece when small).
fn line_pieces(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while rest.len() > size {
        let cut = match memchr::memchr(b'\n', rest.as_bytes().get(size..).unwrap_or_default()) {
            Some(i) => size + i + 1,
            None => rest.len(),
        };
        let (piece, tail) = rest.split_at(cut);
        out.push(piece);
        rest = tail;
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest);
    }
    out
}

fn partial_path(output: &Path) -> PathBuf {
    let mut name = output
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    output.with_file_name(name)
}

fn remove(p: &Path) -> std::io::Result<()> {
    if p.is_dir() {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    }
}

/// Rewrites a text file's bytes. A large text is rewritten in pieces of whole lines in
/// parallel (a node's kernel log alone can be tens of megabytes), each piece from the state a
/// file starts in; a piece whose real starting state differs (a PEM block or a secret's block
/// scalar running over the cut) is rewritten again, in order, from the state the piece before
/// it ended in, so the result is always that of one pass from the top.
///
/// The pieces are returned as they are, in order, to be written one after the other: joining
/// them would copy the whole file once more into fresh memory.
fn rewrite_text(rw: &Rewriter, path: &str, bytes: &[u8]) -> Chunks {
    let text = crate::text::utf8_lossy(bytes);
    Chunks(
        rewrite_in_pieces(rw, path, &text, REWRITE_PIECE)
            .into_iter()
            .map(String::into_bytes)
            .collect(),
    )
}

/// A file's content as consecutive pieces.
struct Chunks(Vec<Vec<u8>>);

impl Chunks {
    fn len(&self) -> usize {
        self.0.iter().map(Vec::len).sum()
    }

    /// Writes every piece, in order.
    fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        self.0.iter().try_for_each(|c| w.write_all(c))
    }

    /// A reader of the pieces, in order.
    fn reader(&self) -> ChunksReader<'_> {
        ChunksReader {
            rest: &self.0,
            at: 0,
        }
    }
}

/// Reads [`Chunks`] in order.
struct ChunksReader<'a> {
    rest: &'a [Vec<u8>],
    /// How much of the first of `rest` is read.
    at: usize,
}

impl std::io::Read for ChunksReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some((first, others)) = self.rest.split_first() {
            let left = first.get(self.at..).unwrap_or_default();
            if left.is_empty() {
                self.rest = others;
                self.at = 0;
                continue;
            }
            let n = left.len().min(buf.len());
            if let (Some(to), Some(from)) = (buf.get_mut(..n), left.get(..n)) {
                to.copy_from_slice(from);
            }
            self.at += n;
            return Ok(n);
        }
        Ok(0)
    }
}

/// How much text one worker of the rewriter takes at a time.
const REWRITE_PIECE: usize = 1 << 20;

fn rewrite_in_pieces(rw: &Rewriter, path: &str, text: &str, size: usize) -> Vec<String> {
    use rayon::prelude::*;
    let pieces = line_pieces(text, size);
    let start = FileState::for_path(path);
    let mut done: Vec<(String, FileState)> = pieces
        .par_iter()
        .map(|p| {
            let mut st = start.clone();
            (rewrite_lines(rw, p, &mut st), st)
        })
        .collect();
    let mut ended = start.clone();
    for (piece, (text, st)) in pieces.iter().zip(done.iter_mut()) {
        if ended != start {
            let mut again = ended.clone();
            *text = rewrite_lines(rw, piece, &mut again);
            *st = again;
        }
        ended = st.clone();
    }
    done.into_iter().map(|(text, _)| text).collect()
}

/// Rewrites whole lines of one file from state `st`, keeping each line ending.
fn rewrite_lines(rw: &Rewriter, text: &str, st: &mut FileState) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    rw.lines(text, st, &mut out);
    out
}

/// Whether bytes are text (no NUL in the first 8 KiB).
fn is_text(bytes: &[u8]) -> bool {
    !bytes.iter().take(8192).any(|b| *b == 0)
}

/// What becomes of one file.
enum Rewritten {
    File(Chunks),
    /// A node zip, rewritten: stored, not compressed again.
    Zip(Vec<u8>),
    Dropped(String),
}

fn rewrite_entry(
    rw: &Rewriter,
    bundle_path: &str,
    bytes: Vec<u8>,
    limits: &Limits,
    is_node_zip: bool,
) -> Rewritten {
    if is_node_zip {
        return match rewrite_zip(rw, bundle_path, bytes, limits) {
            Ok(z) => Rewritten::Zip(z),
            Err(e) => Rewritten::Dropped(format!("node zip could not be rewritten: {e}")),
        };
    }
    if is_text(&bytes) {
        Rewritten::File(rewrite_text(rw, bundle_path, &bytes))
    } else {
        Rewritten::Dropped("binary file: cannot be checked for identifiers, left out".into())
    }
}

/// Rewrites a node zip held in memory into a new zip (deflated entries).
fn rewrite_zip(rw: &Rewriter, origin: &str, bytes: Vec<u8>, limits: &Limits) -> Result<Vec<u8>> {
    let inner = Archive::from_zip_bytes(origin, bytes, limits)?;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let zerr = |e: zip::result::ZipError| Error::Entry {
        entry: origin.to_string(),
        reason: format!("cannot write the redacted node zip: {e}"),
    };
    // Entries rewritten and compressed in parallel (a node's kernel log alone can be tens of
    // megabytes), appended in the zip's order.
    use rayon::prelude::*;
    let prepared: Vec<Result<Option<zip::write::PreparedZipFile>>> = inner
        .entries()
        .par_iter()
        .map(|e| {
            let path = rw.path(&e.path);
            if e.is_dir {
                return Ok(None);
            }
            let Ok(data) = inner.read_entry(e) else {
                return Ok(None);
            };
            if !is_text(&data) {
                return Ok(None);
            }
            let out = rewrite_text(rw, &e.path, &data);
            drop(data);
            let opts = if out.len() < STORED_BELOW {
                opts.compression_method(zip::CompressionMethod::Stored)
                    .compression_level(None)
            } else {
                opts
            };
            prepare_file(&path, opts, &out).map(Some).map_err(zerr)
        })
        .collect();
    for e in inner.entries().iter().filter(|e| e.is_dir) {
        w.add_directory(rw.path(&e.path), opts).map_err(zerr)?;
    }
    for p in prepared {
        if let Some(p) = p? {
            w.add_prepared_file(p).map_err(zerr)?;
        }
    }
    Ok(w.finish().map_err(zerr)?.into_inner())
}

/// Where one output goes.
enum Sink {
    Zip(Box<Mutex<zip::ZipWriter<std::io::BufWriter<std::fs::File>>>>),
    Memory(Box<Mutex<zip::ZipWriter<std::io::Cursor<Vec<u8>>>>>),
    Dir(PathBuf),
    Tar(Mutex<tar::Builder<Box<dyn Write + Send>>>),
}

/// Writes the redacted copy to `out`, or into memory (a zip) when `out` is `None`; returns
/// the zip held in memory.
fn write(
    bundle: &Bundle,
    rw: &Rewriter,
    out: Option<&Path>,
    summary: &mut Summary,
) -> Result<Option<Vec<u8>>> {
    let shown = out.map_or_else(|| PathBuf::from("(memory)"), Path::to_path_buf);
    let io = |e: std::io::Error| Error::Io {
        path: shown.clone(),
        source: e,
    };
    let archive = &bundle.archive;
    let sink = match (out, archive.format()) {
        (None, _) => Sink::Memory(Box::new(Mutex::new(zip::ZipWriter::new(
            std::io::Cursor::new(Vec::new()),
        )))),
        (Some(out), Format::Dir) => {
            std::fs::create_dir_all(out).map_err(io)?;
            Sink::Dir(out.to_path_buf())
        }
        (Some(out), Format::Zip) => {
            let f = std::fs::File::create(out).map_err(io)?;
            Sink::Zip(Box::new(Mutex::new(zip::ZipWriter::new(
                std::io::BufWriter::new(f),
            ))))
        }
        (Some(out), Format::Tar | Format::TarGz) => {
            let f = std::io::BufWriter::new(std::fs::File::create(out).map_err(io)?);
            let w: Box<dyn Write + Send> = if archive.format() == Format::TarGz {
                Box::new(flate2::write::GzEncoder::new(
                    f,
                    flate2::Compression::fast(),
                ))
            } else {
                Box::new(f)
            };
            Sink::Tar(Mutex::new(tar::Builder::new(w)))
        }
    };
    let node_zips: std::collections::HashSet<&str> = bundle
        .files
        .iter()
        .filter(|f| matches!(f.kind, PathKind::NodeZip { .. }))
        .map(|f| f.entry.as_str())
        .collect();
    let limits = archive.limits().clone();
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let dropped: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let files = std::sync::atomic::AtomicUsize::new(0);
    let fail = |e: Error| {
        if let Ok(mut f) = failed.lock() {
            f.get_or_insert(e);
        }
    };
    let entries: Vec<&Entry> = archive.entries().iter().filter(|e| !e.is_dir).collect();
    let read = archive.read_many(&entries, |e: &Entry, bytes: Result<Vec<u8>>| {
        if failed.lock().map(|f| f.is_some()).unwrap_or(true) {
            return;
        }
        let bytes = match bytes {
            Ok(b) => b,
            Err(err) => {
                if let Ok(mut d) = dropped.lock() {
                    d.push((e.path.clone(), format!("unreadable: {err}")));
                }
                return;
            }
        };
        let path = rw.path(&e.path);
        let node_zip = node_zips.contains(e.path.as_str());
        let (data, stored) = match rewrite_entry(rw, &e.path, bytes, &limits, node_zip) {
            Rewritten::File(d) => (d, false),
            Rewritten::Zip(d) => (Chunks(vec![d]), true),
            Rewritten::Dropped(why) => {
                if let Ok(mut d) = dropped.lock() {
                    d.push((e.path.clone(), why));
                }
                return;
            }
        };
        let r = put(&sink, &path, &data, stored);
        match r {
            Ok(()) => {
                files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Err(err) => fail(Error::Entry {
                entry: path,
                reason: format!("cannot write: {err}"),
            }),
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    read?;
    summary.files = files.into_inner();
    summary.dropped = dropped.into_inner().unwrap_or_default();
    summary.dropped.sort();
    let finish_err = |e: String| Error::Entry {
        entry: shown.display().to_string(),
        reason: format!("cannot finish the redacted bundle: {e}"),
    };
    match sink {
        Sink::Zip(z) => {
            let z = z.into_inner().map_err(|e| finish_err(e.to_string()))?;
            let mut f = z.finish().map_err(|e| finish_err(e.to_string()))?;
            f.flush().map_err(io)?;
        }
        Sink::Memory(z) => {
            let z = z.into_inner().map_err(|e| finish_err(e.to_string()))?;
            let c = z.finish().map_err(|e| finish_err(e.to_string()))?;
            return Ok(Some(c.into_inner()));
        }
        Sink::Tar(t) => {
            let t = t.into_inner().map_err(|e| finish_err(e.to_string()))?;
            let mut w = t.into_inner().map_err(io)?;
            w.flush().map_err(io)?;
        }
        Sink::Dir(_) => {}
    }
    Ok(None)
}

/// One file compressed for a zip, its pieces fed to the compressor in order.
fn prepare_file(
    path: &str,
    opts: zip::write::SimpleFileOptions,
    data: &Chunks,
) -> zip::result::ZipResult<zip::write::PreparedZipFile> {
    let mut b = zip::write::ZipFileBuilder::new(path, opts)?;
    data.write_to(&mut b)?;
    b.finish()
}

/// Appends one file to a zip: compressed here, by the worker that read it; only the append is
/// serial.
fn append<W: Write + std::io::Seek>(
    z: &Mutex<zip::ZipWriter<W>>,
    path: &str,
    opts: zip::write::SimpleFileOptions,
    data: &Chunks,
) -> std::io::Result<()> {
    let other = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    let prepared = prepare_file(path, opts, data).map_err(other)?;
    let mut z = z
        .lock()
        .map_err(|_| std::io::Error::other("writer poisoned"))?;
    z.add_prepared_file(prepared).map_err(other)
}

/// Files this small are stored, not deflated: setting up a compressor costs more than the few
/// hundred bytes it would save (most files of a bundle are empty lists).
const STORED_BELOW: usize = 1024;

/// Writes one file into the sink.
fn put(sink: &Sink, path: &str, data: &Chunks, stored: bool) -> std::io::Result<()> {
    let stored = stored || data.len() < STORED_BELOW;
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(if stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        })
        .compression_level((!stored).then_some(1))
        .large_file(data.len() as u64 >= u32::MAX as u64);
    match sink {
        Sink::Memory(z) => append(z, path, opts, data),
        Sink::Zip(z) => append(z, path, opts, data),
        Sink::Dir(root) => {
            let rel = crate::archive::path::normalize(path)
                .map_err(|why| std::io::Error::other(format!("unsafe path {path:?}: {why}")))?;
            let dest = root.join(rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut f = std::io::BufWriter::new(std::fs::File::create(dest)?);
            data.write_to(&mut f)?;
            f.flush()
        }
        Sink::Tar(t) => {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(0);
            h.set_cksum();
            let mut t = t
                .lock()
                .map_err(|_| std::io::Error::other("writer poisoned"))?;
            t.append_data(&mut h, path, data.reader())
        }
    }
}

/// Runs the leak check over every text line of a bundle (node zips included).
pub fn check_archive(archive: &Archive, limits: &Limits, check: &LeakCheck) -> Result<Vec<Leak>> {
    let entries: Vec<&Entry> = archive.entries().iter().filter(|e| !e.is_dir).collect();
    let leaks: Mutex<Vec<Leak>> = Mutex::new(Vec::new());
    let add = |found: Vec<Leak>| {
        if let (false, Ok(mut v)) = (found.is_empty(), leaks.lock()) {
            v.extend(found);
        }
    };
    // A file's own name (rewritten like text) as line 0, then its lines; `file` says where it
    // is (`outer.zip!inner` inside a node zip).
    let scan = |file: &str, own_name: &str, bytes: Option<&[u8]>| {
        let name = check.line(own_name).map(|what| Leak {
            file: file.to_string(),
            line: 0,
            what: format!("{what} (in the file's name)"),
        });
        add(name.into_iter().collect());
        if let Some(b) = bytes {
            add(check_text(check, file, &crate::text::utf8_lossy(b)));
        }
    };
    archive.read_many(&entries, |e, bytes| {
        let Ok(bytes) = bytes else { return };
        if bytes.starts_with(b"PK\x03\x04") {
            scan(&e.path, &e.path, None);
            if let Ok(inner) = Archive::from_zip_bytes(&e.path, bytes, limits) {
                use rayon::prelude::*;
                let files: Vec<&Entry> = inner.entries().iter().filter(|x| !x.is_dir).collect();
                files.into_par_iter().for_each(|ie| {
                    let name = format!("{}!{}", e.path, ie.path);
                    scan(&name, &ie.path, inner.read_entry(ie).ok().as_deref());
                });
            }
        } else {
            scan(
                &e.path,
                &e.path,
                is_text(&bytes).then_some(bytes.as_slice()),
            );
        }
    })?;
    let mut v = leaks.into_inner().unwrap_or_default();
    v.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_in_pieces_as_in_one() {
        let check = LeakCheck::new(vec![("acme-prod".into(), false)], vec![]);
        let mut text = String::new();
        for i in 0..5000 {
            text.push_str(if i % 7 == 3 {
                "ns acme-prod here\r\n"
            } else {
                "plain line\n"
            });
        }
        text.push_str("last acme-prod");
        let whole: Vec<u32> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| check.line(l).is_some())
            .map(|(i, _)| i as u32 + 1)
            .collect();
        assert_eq!(whole.len(), (0..5000).filter(|i| i % 7 == 3).count() + 1);
        for size in [1, 10, 100, 4096, 1 << 20] {
            let pieces = line_pieces(&text, size);
            assert_eq!(pieces.concat(), text);
            assert!(pieces.iter().rev().skip(1).all(|p| p.ends_with('\n')));
        }
        let got: Vec<u32> = check_text(&check, "f", &text)
            .iter()
            .map(|l| l.line)
            .collect();
        assert_eq!(got, whole);
        // The same in small pieces.
        let small: Vec<&str> = line_pieces(&text, 100);
        assert!(small.len() > 100);
    }

    /// The pieces of a file read back as the file, whatever the reader's buffer.
    #[test]
    fn chunks_read_back_whole() {
        use std::io::Read;
        let c = Chunks(vec![b"ab".to_vec(), vec![], b"cde".to_vec(), b"f".to_vec()]);
        assert_eq!(c.len(), 6);
        for size in 1..8 {
            let (mut r, mut got, mut buf) = (c.reader(), Vec::new(), vec![0; size]);
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"abcdef", "buffer of {size}");
        }
        let mut w = Vec::new();
        c.write_to(&mut w).unwrap();
        assert_eq!(w, b"abcdef");
    }

    #[test]
    fn text_keeps_line_endings_and_count() {
        let p = Pseudonyms::with_key([1; 32]);
        let rw = Rewriter::new(&ids::Found::default(), &ids::Vocabulary::default(), &p).unwrap();
        let out = rewrite_text(&rw, "a.log", b"ip 10.0.0.1\r\nnext\nlast");
        let s = String::from_utf8(out.0.concat()).unwrap();
        assert_eq!(s.matches("\r\n").count(), 1);
        assert!(s.ends_with("\nlast"));
        assert!(!s.contains("10.0.0.1"));
    }

    /// Rewriting in pieces gives what one pass from the top gives, also where a PEM block, a
    /// Secret's data or a secret block scalar runs over a cut (the pieces after it are
    /// rewritten again from the right state).
    #[test]
    fn rewritten_in_pieces_as_in_one() {
        let p = Pseudonyms::with_key([2; 32]);
        let rw = Rewriter::new(&ids::Found::default(), &ids::Vocabulary::default(), &p).unwrap();
        let secrets = "items:\r\n- apiVersion: v1\n  data:\n    tls.crt: QUJD\n    tls.key: REVG\n    \
                       ca.crt: R0hJ\n  kind: Secret\n  metadata:\n    name: web 10.1.2.3\n\
                       - data:\n    a: Yg==\n  kind: Secret\n";
        let log = "start 10.0.0.7\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n\
                   AoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4R\n-----END PRIVATE KEY-----\nafter a@b.com\n\
                   userData: |\n  #cloud-config\n  password: hunter2\n  chpasswd: x\nnext: 10.0.0.8\nlast";
        for (path, text) in [("yamls/v1/secrets.yaml", secrets), ("logs/a.log", log)] {
            let whole = rewrite_in_pieces(&rw, path, text, usize::MAX).concat();
            for size in 1..text.len() + 2 {
                assert_eq!(
                    rewrite_in_pieces(&rw, path, text, size).concat(),
                    whole,
                    "{path} in pieces of {size}"
                );
            }
            assert!(
                !whole.contains("hunter2") && !whole.contains("QUJD") && !whole.contains("MIIEvQ")
            );
        }
    }

    /// A bundle held in memory redacts in memory: its identifiers collected and replaced in
    /// every entry (the node zip's too), the same copy again from the same key, and the leak
    /// check passes.
    #[test]
    fn a_bundle_in_memory_redacts_in_memory_reproducibly() {
        let node_zip = {
            let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let o = zip::write::SimpleFileOptions::default();
            z.start_file("acme-node-7/journal.log", o).unwrap();
            z.write_all(b"acme-node-7 kernel: eth0 up 192.168.50.7\n")
                .unwrap();
            z.finish().unwrap().into_inner()
        };
        let nodes = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata:\n    \
                     name: acme-node-7\n  status:\n    addresses:\n    - address: 192.168.50.7\n      \
                     type: InternalIP\nkind: List\n";
        let files: [(&str, &[u8]); 4] = [
            (
                "sb/metadata.yaml",
                b"bundlename: bundle-x1\nbundlecreatedat: \"2025-02-14T09:41:07Z\"\n",
            ),
            ("sb/yamls/cluster/v1/nodes.yaml", nodes.as_bytes()),
            (
                "sb/logs/default/web/web.log",
                b"ready; peer acme-node-7 at 192.168.50.7\n",
            ),
            ("sb/nodes/acme-node-7.zip", &node_zip),
        ];
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in files {
            z.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(body).unwrap();
        }
        let bytes = z.finish().unwrap().into_inner();
        let limits = Limits::default();
        let run = || {
            let a = Archive::from_bytes("mem.zip", bytes.clone(), &limits).unwrap();
            let bundle = Bundle::from_archive("mem.zip".into(), a).unwrap();
            let p = Pseudonyms::with_key([7; 32]);
            let mem = in_memory_with(bundle, &limits, &p).unwrap();
            assert!(mem.leaks.is_empty(), "{:?}", mem.leaks);
            let out = mem.bundle.expect("the copy passes the leak check");
            let mut texts = Vec::new();
            for e in out.archive.entries().iter().filter(|e| !e.is_dir) {
                let b = out.archive.read_entry(e).unwrap();
                if e.path.ends_with(".zip") {
                    let inner = Archive::from_zip_bytes(&e.path, b, &limits).unwrap();
                    for ie in inner.entries() {
                        let t = inner.read_entry(ie).unwrap();
                        texts.push((ie.path.clone(), String::from_utf8(t).unwrap()));
                    }
                } else {
                    texts.push((e.path.clone(), String::from_utf8(b).unwrap()));
                }
            }
            (texts, p.pairs())
        };
        let (texts, pairs) = run();
        assert!(
            pairs
                .iter()
                .any(|(c, o, _)| *c == Class::Node && o == "acme-node-7")
        );
        assert!(pairs.iter().any(|(_, o, _)| o == "192.168.50.7"));
        assert_eq!(texts.len(), 4, "{texts:?}");
        for (path, text) in &texts {
            for original in ["acme-node-7", "192.168.50.7"] {
                assert!(
                    !path.contains(original) && !text.contains(original),
                    "{path}: {text}"
                );
            }
        }
        assert!(texts.iter().any(|(_, t)| t.contains("ready; peer node-")));
        assert_eq!(run().0, texts, "the same key makes the same copy");
    }
}
