//! Fuzz target: the whole pipeline on a small bundle held in memory: `Archive::from_bytes` →
//! `Bundle::from_archive` → `Analysis::of` → `report()` → every renderer (JSON, Markdown, HTML,
//! SARIF, JUnit, terminal). Input (see `sbdiag_fuzz::Input`): most inputs choose a bundle of
//! a few KB through the grammar (`sbdiag_fuzz::grammar`: pieces of the samples, edited); a
//! zero byte, `=== `, `PK` or the gzip magic first makes it raw bytes: a textual bundle
//! (`=== <entry name>` sections, see `sbdiag_fuzz::TextBundle`) zipped in memory, or an archive
//! (zip, tar, tar.gz) as it is. Nothing is written to disk; the thread pool is made once.
//! The JSON and SARIF outputs must be JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbdiag::analyze::Analysis;
use sbdiag::archive::Archive;
use sbdiag::bundle::Bundle;
use sbdiag::report;
use sbdiag_fuzz::{Input, dump, limits, setup};

fuzz_target!(|data: &[u8]| {
    setup();
    let Some(input) = Input::of(data) else {
        return;
    };
    if let Input::Generated(g) = &input {
        dump(g, "pipeline.txt");
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
    let json = report::json::render(&r);
    assert!(
        serde_json::from_str::<serde_json::Value>(&json).is_ok(),
        "{json}"
    );
    let sarif = report::sarif::render(&r);
    assert!(
        serde_json::from_str::<serde_json::Value>(&sarif).is_ok(),
        "{sarif}"
    );
    let _ = report::markdown::render(&r);
    let _ = report::html::render(&r);
    let _ = report::junit::render(&r);
    let _ = report::terminal::render(&r, true, true);
    let _ = report::terminal::render(&r, false, false);
});
