//! Reproducible `.tar.gz` writing (sorted entries, one mtime, owner 0, modes 644/755, no gzip
//! name or time) and extraction.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use flate2::write::GzEncoder;

/// A tarball being written; every entry under one top folder.
pub struct TarGz {
    builder: tar::Builder<GzEncoder<BufWriter<File>>>,
    top: String,
    mtime: u64,
    path: PathBuf,
}

impl TarGz {
    /// Creates `path`; entries go under `top/`, all with modification time `mtime`.
    pub fn create(path: &Path, top: &str, mtime: u64) -> Result<TarGz> {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let gz = flate2::GzBuilder::new().write(BufWriter::new(file), flate2::Compression::best());
        let mut t = TarGz {
            builder: tar::Builder::new(gz),
            top: top.to_string(),
            mtime,
            path: path.to_path_buf(),
        };
        t.dir("")?;
        Ok(t)
    }

    fn header(&self, kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_mtime(self.mtime);
        h.set_uid(0);
        h.set_gid(0);
        h
    }

    fn name(&self, rel: &str) -> String {
        if rel.is_empty() {
            format!("{}/", self.top)
        } else {
            format!("{}/{rel}", self.top)
        }
    }

    /// A folder entry (`rel` relative to the top folder; "" is the top folder).
    pub fn dir(&mut self, rel: &str) -> Result<()> {
        let mut h = self.header(tar::EntryType::Directory, 0, 0o755);
        let name = self.name(rel);
        self.builder
            .append_data(&mut h, &name, std::io::empty())
            .with_context(|| format!("cannot write {name} into {}", self.path.display()))
    }

    /// A file entry with these bytes.
    pub fn file(&mut self, rel: &str, data: &[u8], executable: bool) -> Result<()> {
        let mode = if executable { 0o755 } else { 0o644 };
        let mut h = self.header(tar::EntryType::Regular, data.len() as u64, mode);
        let name = self.name(rel);
        self.builder
            .append_data(&mut h, &name, data)
            .with_context(|| format!("cannot write {name} into {}", self.path.display()))
    }

    /// A file entry copied from `src` (executable when any execute bit is set there).
    pub fn file_from(&mut self, rel: &str, src: &Path) -> Result<()> {
        let data = std::fs::read(src).with_context(|| format!("cannot read {}", src.display()))?;
        self.file(rel, &data, is_executable(src)?)
    }

    /// Every file under `dir`, sorted, as `rel/...` (folders get their own entries).
    pub fn tree(&mut self, rel: &str, dir: &Path) -> Result<()> {
        self.dir(rel)?;
        for (name, path, is_dir) in sorted_entries(dir)? {
            let sub = format!("{rel}/{name}");
            if is_dir {
                self.tree(&sub, &path)?;
            } else {
                self.file_from(&sub, &path)?;
            }
        }
        Ok(())
    }

    /// Writes the end of the archive.
    pub fn finish(self) -> Result<()> {
        let path = self.path.clone();
        let gz = self
            .builder
            .into_inner()
            .with_context(|| format!("cannot finish {}", path.display()))?;
        let mut out = gz
            .finish()
            .with_context(|| format!("cannot finish {}", path.display()))?;
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

fn is_executable(path: &Path) -> Result<bool> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    Ok(meta.permissions().mode() & 0o111 != 0)
}

/// The entries of `dir` sorted by name: (name, path, is a folder). Links are refused.
fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let e = e.with_context(|| format!("cannot list {}", dir.display()))?;
        let kind = e.file_type()?;
        anyhow::ensure!(
            !kind.is_symlink(),
            "{} is a symbolic link: the archives hold only files and folders",
            e.path().display()
        );
        let name = e
            .file_name()
            .into_string()
            .map_err(|n| anyhow::anyhow!("{n:?} under {} is not UTF-8", dir.display()))?;
        out.push((name, e.path(), kind.is_dir()));
    }
    out.sort();
    Ok(out)
}

/// Unpacks a `.tar.gz` into `into`.
pub fn extract(tarball: &Path, into: &Path) -> Result<()> {
    let f = File::open(tarball).with_context(|| format!("cannot open {}", tarball.display()))?;
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    a.set_preserve_permissions(true);
    a.unpack(into)
        .with_context(|| format!("cannot unpack {}", tarball.display()))
}
