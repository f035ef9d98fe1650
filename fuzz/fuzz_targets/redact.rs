//! Fuzz target: redaction as a property. For any bundle the input makes (see
//! `sbdiag_fuzz::Input`: the grammar's bundles, or raw archive bytes), `redact::in_memory_with`
//! (fixed key) must not panic, its own leak check must find nothing, and, checked here
//! independently of that check, no identifier it replaced (every pair of the pseudonym maker,
//! the collected identifiers and the addresses met) may be left as a word in any output line
//! or entry name, node zips included. Identifiers that are words of the system's vocabulary are
//! replaced only as whole values, so only the redactor's own check judges them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbdiag::archive::{Archive, Entry};
use sbdiag::bundle::Bundle;
use sbdiag::index::Index;
use sbdiag::redact::{self, Class, Pseudonyms, ids};
use sbdiag_fuzz::{Input, dump, limits, setup};

/// Whether `o` (lower case) stands as a word in `l` (lower case) outside every pseudonym.
fn leaks(l: &str, o: &str, pseudonyms: &[String]) -> bool {
    l.match_indices(o).any(|(i, _)| {
        ids::boundary(l, i, i + o.len())
            && !pseudonyms.iter().any(|p| {
                l.match_indices(p.as_str())
                    .any(|(j, _)| j <= i && i + o.len() <= j + p.len())
            })
    })
}

fuzz_target!(|data: &[u8]| {
    setup();
    let Some(input) = Input::of(data) else {
        return;
    };
    if let Input::Generated(g) = &input {
        dump(g, "redact.txt", None);
    }
    let (bytes, _, _) = input.into_parts();
    let limits = limits();
    let open = || {
        Archive::from_bytes("bundle.zip", bytes.clone(), &limits)
            .and_then(|a| Bundle::from_archive("bundle.zip".into(), a))
    };
    let Ok(bundle) = open() else {
        return;
    };
    // What the redactor will collect, found again here: which identifiers are vocabulary words.
    let vocab = {
        let Ok(b) = open() else { return };
        let index = Index::build(&b, &|_, _| {});
        ids::Vocabulary::of(&index, &ids::collect(&b, &index))
    };
    let p = Pseudonyms::with_key([7; 32]);
    let mem = match redact::in_memory_with(bundle, &limits, &p) {
        Ok(m) => m,
        Err(e) => return drop(e.to_string()),
    };
    assert!(
        mem.leaks.is_empty(),
        "the leak check failed: {:#?}",
        mem.leaks
    );
    let out = mem
        .bundle
        .expect("a copy whose leak check passed is opened");
    let pairs = p.pairs();
    let pseudonyms: Vec<String> = pairs
        .iter()
        .map(|(_, _, ps)| ps.to_ascii_lowercase())
        .collect();
    let free: Vec<String> = pairs
        .iter()
        .filter(|(c, o, ps)| {
            o != ps
                && (matches!(
                    c,
                    Class::Ipv4 | Class::Ipv6 | Class::Mac | Class::Email | Class::Domain
                ) || !vocab.has(o))
        })
        .map(|(_, o, _)| o.to_ascii_lowercase())
        .collect();
    let check = |file: &str, text: &str| {
        for (n, line) in std::iter::once(file).chain(text.lines()).enumerate() {
            let l = line.to_ascii_lowercase();
            for o in &free {
                assert!(
                    !leaks(&l, o, &pseudonyms),
                    "{o:?} left in {file} line {n} (0: the name): {line}"
                );
            }
            let found = redact::check_text(&mem.check, file, line);
            assert!(found.is_empty(), "{found:?}");
        }
    };
    let a = &out.archive;
    for e in a.entries().iter().filter(|e| !e.is_dir) {
        let Ok(b) = a.read_entry(e) else { continue };
        if b.starts_with(b"PK\x03\x04") {
            check(&e.path, "");
            let Ok(inner) = Archive::from_zip_bytes(&e.path, b, &limits) else {
                continue;
            };
            let files: Vec<&Entry> = inner.entries().iter().filter(|x| !x.is_dir).collect();
            for ie in files {
                if let Ok(t) = inner.read_entry(ie) {
                    check(&ie.path, &String::from_utf8_lossy(&t));
                }
            }
        } else {
            check(&e.path, &String::from_utf8_lossy(&b));
        }
    }
});
