//! Content identity for duplicate detection: SHA-256 of an archive's bytes, or of an unpacked
//! folder's sorted listing and contents (each regular file as `path NUL length contents`;
//! links are skipped, as the folder reader skips them). Streamed, 1 MiB at a time.
use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::ScanError;

const BUF: usize = 1 << 20;

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for d in [b >> 4, b & 0x0f] {
            if let Some(&c) = DIGITS.get(usize::from(d)) {
                s.push(char::from(c));
            }
        }
    }
    s
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ScanError + '_ {
    move |source| ScanError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn feed(h: &mut Sha256, path: &Path, buf: &mut [u8]) -> Result<u64, ScanError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mut total = 0u64;
    loop {
        let n = f.read(buf).map_err(io(path))?;
        if n == 0 {
            return Ok(total);
        }
        h.update(buf.get(..n).unwrap_or_default());
        total += n as u64;
    }
}

/// SHA-256 (lower-case hex) of a file's bytes.
pub fn file(path: &Path) -> Result<String, ScanError> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    feed(&mut h, path, &mut buf)?;
    Ok(hex(&h.finalize()))
}

/// SHA-256 (lower-case hex) of a folder: every regular file under it, sorted by relative
/// path, as `path NUL size(8 bytes LE) contents`.
pub fn folder(dir: &Path) -> Result<String, ScanError> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    for e in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.map_err(|err| ScanError::Io {
            path: dir.to_path_buf(),
            source: err.into(),
        })?;
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
        let rel = rel.to_string_lossy().replace('\\', "/");
        let len = e.metadata().map(|m| m.len()).unwrap_or(0);
        h.update(rel.as_bytes());
        h.update([0u8]);
        h.update(len.to_le_bytes());
        feed(&mut h, e.path(), &mut buf)?;
    }
    Ok(hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_hash_is_sha256() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a");
        std::fs::write(&p, b"hello world").unwrap();
        assert_eq!(
            file(&p).unwrap(),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
    }

    #[test]
    fn folder_hash_depends_on_names_and_contents() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        let b = t.path().join("b");
        for d in [&a, &b] {
            std::fs::create_dir_all(d.join("x")).unwrap();
            std::fs::write(d.join("x/f"), b"1").unwrap();
            std::fs::write(d.join("g"), b"2").unwrap();
        }
        assert_eq!(folder(&a).unwrap(), folder(&b).unwrap());
        std::fs::write(b.join("g"), b"3").unwrap();
        assert_ne!(folder(&a).unwrap(), folder(&b).unwrap());
        std::fs::write(b.join("g"), b"2").unwrap();
        std::fs::rename(b.join("g"), b.join("h")).unwrap();
        assert_ne!(folder(&a).unwrap(), folder(&b).unwrap());
    }
}
