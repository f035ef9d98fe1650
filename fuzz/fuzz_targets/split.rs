//! Fuzz target: textual splitting of List files into items (`sbdiag::index::split`), and the
//! nesting guard applied before parsing. Checks the line bookkeeping every item promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbdiag::index::split::{RawItem, Split, split};
use sbdiag::model::de::too_deep;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count() as u32;
    let check = |it: &RawItem| {
        assert!(it.line >= 1, "line {} of {it:?}", it.line);
        assert!(it.line <= it.end_line, "{it:?}");
        assert!(
            it.end_line <= lines.max(1),
            "end_line past the file's {lines} lines: {it:?}"
        );
        assert!((it.line..=it.end_line).contains(&it.name_line), "{it:?}");
        let _ = too_deep(&it.text);
    };
    match split(&text) {
        Split::List(items) => {
            for w in items.windows(2) {
                assert!(w[0].end_line < w[1].line, "items overlap: {w:?}");
            }
            items.iter().for_each(check);
        }
        Split::Single(it) => check(&it),
        Split::NotObjects | Split::OtherLayout => {}
    }
    let _ = too_deep(&text);
});
