//! Objects as captured: an indexed object's own lines of its list file, as a standalone YAML
//! document or as JSON, for `get -o yaml|json`, printer columns read by JSONPath and `serve`.
//! Each list file is read once per [`Whole`] and kept with its line offsets, so listing many
//! objects of one file reads and splits it once. Safe to share between threads.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::bundle::Bundle;
use crate::index::{Index, Object};

/// Largest object (bytes of YAML) converted to JSON; larger ones are refused like hostile input.
const MAX_OBJECT: usize = 8 * 1024 * 1024;

/// A list file's text with the byte offset of each line start.
struct FileText {
    text: String,
    starts: Vec<usize>,
}

impl FileText {
    fn new(text: String) -> FileText {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        FileText { text, starts }
    }

    /// Lines `first..=last` (1-based).
    fn lines(&self, first: u32, last: u32) -> Vec<&str> {
        let (first, last) = (first.max(1) as usize, last.max(first) as usize);
        let from = self
            .starts
            .get(first - 1)
            .copied()
            .unwrap_or(self.text.len());
        let to = self
            .starts
            .get(last)
            .copied()
            .unwrap_or(self.text.len())
            .max(from);
        self.text
            .get(from..to)
            .unwrap_or_default()
            .lines()
            .collect()
    }
}

/// Reads objects as captured, each list file once.
pub struct Whole<'a> {
    bundle: &'a Bundle,
    index: &'a Index,
    /// File texts read so far (`None`: unreadable), by index file number.
    files: Mutex<HashMap<u32, Option<Arc<FileText>>>>,
}

impl<'a> Whole<'a> {
    /// A reader over `bundle`'s resource lists as `index` knows them.
    pub fn new(bundle: &'a Bundle, index: &'a Index) -> Self {
        Whole {
            bundle,
            index,
            files: Mutex::new(HashMap::new()),
        }
    }

    fn file(&self, o: &Object) -> Option<Arc<FileText>> {
        if let Some(f) = self.files.lock().ok()?.get(&o.file) {
            return f.clone();
        }
        // Read outside the lock: another thread may read the same file meanwhile (same text).
        let text = self
            .index
            .file_of(o)
            .and_then(|f| self.bundle.read_text(&f.path).ok())
            .map(|t| Arc::new(FileText::new(t)));
        self.files.lock().ok()?.insert(o.file, text.clone());
        text
    }

    /// The object's lines as a standalone YAML document (the list's `- ` and indentation
    /// removed); `metadata.managedFields` left out unless `managed_fields`.
    pub fn yaml(&self, o: &Object, managed_fields: bool) -> Option<String> {
        let f = self.file(o)?;
        Some(standalone(&f.lines(o.line, o.end_line), managed_fields))
    }

    /// The object as JSON; `None` when its lines cannot be read or parsed, or are larger
    /// than 8 MiB.
    pub fn json(&self, o: &Object, managed_fields: bool) -> Option<serde_json::Value> {
        let y = self.yaml(o, managed_fields)?;
        if y.len() > MAX_OBJECT || crate::model::de::too_deep(&y).is_some() {
            return None;
        }
        let v: serde_json::Value = yaml_serde::from_str(&y).ok()?;
        v.is_object().then_some(v)
    }
}

/// An item's lines (the first starting with `- `, possibly indented) as a standalone document.
pub fn standalone(lines: &[&str], managed_fields: bool) -> String {
    let mut out = String::new();
    let mut skipping = false;
    let first = lines.first().copied().unwrap_or_default();
    let ind = first.len() - first.trim_start().len() + 2;
    for (i, l) in lines.iter().enumerate() {
        let l = if i == 0 {
            first.trim_start().strip_prefix("- ").unwrap_or(first)
        } else {
            let spaces = l.len() - l.trim_start_matches(' ').len();
            l.get(spaces.min(ind)..).unwrap_or(l)
        };
        let indent = l.len() - l.trim_start().len();
        if !managed_fields {
            if skipping && (indent > 2 || l.starts_with("  - ") || l.trim().is_empty()) {
                continue;
            }
            skipping = false;
            if l == "  managedFields:" {
                skipping = true;
                continue;
            }
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_items_lines_become_a_document_without_managed_fields() {
        let lines = [
            "- apiVersion: v1",
            "  kind: Pod",
            "  metadata:",
            "    managedFields:",
            "    - manager: x",
            "    name: a",
            "  spec:",
            "    x: 1",
        ];
        assert_eq!(
            standalone(&lines, false),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  x: 1\n"
        );
        assert!(standalone(&lines, true).contains("managedFields"));
    }

    #[test]
    fn line_ranges_are_cut_at_line_starts() {
        let f = FileText::new("a\nbb\nccc\n".into());
        assert_eq!(f.lines(2, 3), ["bb", "ccc"]);
        assert_eq!(f.lines(3, 9), ["ccc"]);
        assert!(f.lines(7, 9).is_empty());
    }
}
