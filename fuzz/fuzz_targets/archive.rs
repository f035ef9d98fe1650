//! Fuzz target: opening an archive from arbitrary bytes. The bytes are written to a file and
//! opened as the CLI does (`Archive::open`, which recognises zip, tar and tar.gz by content),
//! and, when they look like a zip, also as a nested `nodes/<node>.zip` held in memory; every
//! entry is then read, and `.zip` entries are opened one level deep.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbdiag::archive::Archive;
use sbdiag_fuzz::{limits, read_all, scratch};

fuzz_target!(|data: &[u8]| {
    let limits = limits();
    if let Some(path) = scratch("input.bin", data) {
        match Archive::open(&path, &limits) {
            Ok(a) => read_all(&a, true),
            Err(e) => drop(e.to_string()),
        }
    }
    if data.starts_with(b"PK") {
        match Archive::from_zip_bytes("nodes/n.zip", data.to_vec(), &limits) {
            Ok(a) => read_all(&a, true),
            Err(e) => drop(e.to_string()),
        }
    }
});
