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
use sbdiag::analyze::Analysis;
use sbdiag::archive::Archive;
use sbdiag::bundle::Bundle;
use sbdiag::report;
use sbdiag_fuzz::{Format, Input, dump, limits, setup};

fuzz_target!(|data: &[u8]| {
    setup();
    let Some((input, format)) = Input::with_format(data) else {
        return;
    };
    if let Input::Generated(g) = &input {
        dump(g, "pipeline.txt", Some(format));
    }
    let (bytes, from, to) = input.into_parts();
    let bundle = match Archive::from_bytes("bundle.zip", bytes, &limits())
        .and_then(|a| Bundle::from_archive("bundle.zip".into(), a))
    {
        Ok(b) => b,
        Err(e) => return drop(e.to_string()),
    };
    let mut a = Analysis::of(bundle, &|_, _| {});
    a.options.from_version = from;
    a.options.to_version = to;
    let r = a.report();
    let json = match format {
        Format::Json => report::json::render(&r),
        Format::Sarif => report::sarif::render(&r),
        Format::Markdown => return drop(report::markdown::render(&r)),
        Format::Html => return drop(report::html::render(&r)),
        Format::Junit => return drop(report::junit::render(&r)),
        Format::Terminal { color, verbose } => {
            return drop(report::terminal::render(&r, color, verbose));
        }
    };
    assert!(
        serde_json::from_str::<serde::de::IgnoredAny>(&json).is_ok(),
        "{format:?}: {json}"
    );
});
