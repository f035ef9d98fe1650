//! Fuzz target: decoding one resource list file into typed objects, the way the index does
//! it (split, nesting guard, kind-specific view with the generic view as fallback, whole-file
//! reparse for other layouts). Input: a first line with the bundle-relative path (it sets
//! namespace and API group, e.g. `yamls/namespaced/default/v1/pods.yaml`), then the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbdiag::index::index_file_bytes;

fuzz_target!(|data: &[u8]| {
    let (path, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let path = String::from_utf8_lossy(path);
    let (objects, errors) = index_file_bytes(&path, body);
    for o in &objects {
        assert!(
            !o.key.name.is_empty() && !o.key.kind.is_empty(),
            "{:?}",
            o.key
        );
        assert!(
            o.line >= 1 && o.line <= o.end_line,
            "{}..{}",
            o.line,
            o.end_line
        );
        let _ = (o.api_version(), format!("{:?}", o.view));
    }
    for e in &errors {
        let _ = e.error.len();
    }
});
