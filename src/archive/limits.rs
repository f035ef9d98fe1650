//! Safety limits against hostile archives (zip bombs, entry floods, huge files), and a reader
//! that enforces them while bytes are inflated, whatever the headers claim.
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

/// Caps applied while opening and reading an archive. All are configurable from the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most entries an archive (or a nested node zip) may list.
    pub max_entries: usize,
    /// Most bytes one entry may inflate to.
    pub max_entry_bytes: u64,
    /// Most bytes all entries of one archive may inflate to, together.
    pub max_total_bytes: u64,
    /// Highest inflated/compressed ratio tolerated for an entry bigger than `ratio_floor_bytes`.
    pub max_ratio: u64,
    /// Entries up to this size are never judged by their ratio (small files compress well).
    pub ratio_floor_bytes: u64,
    /// Most bytes a nested `nodes/<node>.zip` may have (it is held in memory).
    pub max_nested_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 500_000,
            max_entry_bytes: 2 << 30,
            max_total_bytes: 64 << 30,
            max_ratio: 250,
            ratio_floor_bytes: 16 << 20,
            max_nested_bytes: 1 << 30,
        }
    }
}

impl Limits {
    /// How many bytes an entry with this compressed size may inflate to.
    pub fn entry_budget(&self, compressed: Option<u64>) -> u64 {
        match compressed {
            Some(c) => c
                .saturating_mul(self.max_ratio)
                .max(self.ratio_floor_bytes)
                .min(self.max_entry_bytes),
            None => self.max_entry_bytes,
        }
    }
}

/// Why a capped read stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapHit {
    /// The entry itself grew past its budget.
    Entry(u64),
    /// The archive as a whole inflated past `max_total_bytes`.
    Total(u64),
}

/// Reads an entry fully, stopping with a [`CapHit`] as soon as a budget is exceeded.
/// `total` is the running count of bytes inflated from the whole archive.
pub fn read_capped<R: Read>(
    mut r: R,
    entry_budget: u64,
    total: &AtomicU64,
    total_budget: u64,
    size_hint: u64,
) -> io::Result<Result<Vec<u8>, CapHit>> {
    let cap = usize::try_from(size_hint.min(entry_budget).min(64 << 20)).unwrap_or(0);
    let mut out = Vec::with_capacity(cap);
    // Sized by the declared size: a fresh 256 KiB buffer per tiny entry costs more than the
    // entry itself when a bundle holds a million of them.
    let buf_len = usize::try_from(size_hint.saturating_add(1)).unwrap_or(usize::MAX);
    let mut buf = vec![0u8; buf_len.clamp(4096, 256 * 1024)];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(Ok(out)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if out.len() as u64 + n as u64 > entry_budget {
            return Ok(Err(CapHit::Entry(entry_budget)));
        }
        let before = total.fetch_add(n as u64, Ordering::Relaxed);
        if before + n as u64 > total_budget {
            return Ok(Err(CapHit::Total(total_budget)));
        }
        out.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
}

/// A reader that fails once more than `budget` bytes went through it (used on whole gzip
/// streams, where entries have no compressed size of their own).
pub struct BudgetReader<R> {
    inner: R,
    left: u64,
    what: &'static str,
}

impl<R> BudgetReader<R> {
    /// Wraps `inner`, allowing `budget` bytes.
    pub fn new(inner: R, budget: u64, what: &'static str) -> Self {
        BudgetReader {
            inner,
            left: budget,
            what,
        }
    }
}

impl<R: Read> Read for BudgetReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(format!(
                "{} inflates beyond its limit (possible decompression bomb)",
                self.what
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_uses_ratio_above_floor() {
        let l = Limits {
            max_ratio: 10,
            ratio_floor_bytes: 100,
            max_entry_bytes: 1000,
            ..Limits::default()
        };
        assert_eq!(l.entry_budget(Some(5)), 100);
        assert_eq!(l.entry_budget(Some(50)), 500);
        assert_eq!(l.entry_budget(Some(500)), 1000);
        assert_eq!(l.entry_budget(None), 1000);
    }

    #[test]
    fn capped_read_stops_on_entry_and_total() {
        let total = AtomicU64::new(0);
        let data = vec![b' '; 10_000];
        let r = read_capped(&data[..], 5_000, &total, u64::MAX, 0).unwrap();
        assert_eq!(r, Err(CapHit::Entry(5_000)));
        let total = AtomicU64::new(0);
        let r = read_capped(&data[..], u64::MAX, &total, 1_000, 0).unwrap();
        assert_eq!(r, Err(CapHit::Total(1_000)));
        let total = AtomicU64::new(0);
        let r = read_capped(&data[..], 10_000, &total, 10_000, 0).unwrap();
        assert_eq!(r.unwrap().len(), 10_000);
    }

    #[test]
    fn budget_reader_fails_past_budget() {
        let data = [0u8; 100];
        let mut r = BudgetReader::new(&data[..], 50, "test stream");
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert!(e.to_string().contains("decompression bomb"));
    }
}
