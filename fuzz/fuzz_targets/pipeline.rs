//! Fuzz target: the whole pipeline on a small bundle held in memory: `Archive::from_bytes` →
//! `Bundle::from_archive` → `Analysis::of` → `report()` → one renderer (JSON, SARIF, Markdown,
//! HTML, JUnit or terminal, chosen by the input: the grammar's last byte, a textual bundle's
//! `@format` entry, else the length; see `sbdiag_fuzz::Input::with_format`. One renderer a
//! run, not six, keeps a run short; the seeds hold each textual bundle once per format).
//! Input (see `sbdiag_fuzz::Input`): most inputs choose a bundle of a few KB through the
//! grammar (`sbdiag_fuzz::grammar`: pieces of the samples, edited); a zero byte, `=== `, `PK`
//! or the gzip magic first makes it raw bytes: a textual bundle (`=== <entry name>` sections,
//! see `sbdiag_fuzz::TextBundle`) zipped in memory, or an archive (zip, tar, tar.gz) as it is.
//! Nothing is written to disk; the thread pool is made once. The JSON and SARIF outputs must
//! be JSON (parsed without building a tree: `IgnoredAny`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sbdiag_fuzz::pipeline(data));
