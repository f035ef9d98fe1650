//! Fuzz target: the whole pipeline on a small bundle: `Analysis::load` → `report()` → every
//! renderer (JSON, Markdown, HTML, SARIF, JUnit, terminal). Input: a textual bundle
//! (`=== <entry name>` sections, see `sbdiag_fuzz::TextBundle`) zipped in memory, or raw
//! archive bytes (zip, tar, tar.gz) used as they are. The JSON and SARIF outputs must be JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbdiag::analyze::Analysis;
use sbdiag::report;
use sbdiag_fuzz::{TextBundle, limits, scratch};

fuzz_target!(|data: &[u8]| {
    let text = TextBundle::parse(data);
    let bytes = match &text {
        Some(t) => match t.to_zip() {
            Some(z) => z,
            None => return,
        },
        None => data.to_vec(),
    };
    let Some(path) = scratch("bundle.zip", &bytes) else {
        return;
    };
    let mut a = match Analysis::load(&path, &limits(), &|_, _| {}) {
        Ok(a) => a,
        Err(e) => return drop(e.to_string()),
    };
    if let Some(t) = &text {
        a.options.from_version = t.option("@from-version");
        a.options.to_version = t.option("@to-version");
    }
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
