//! Textual splitting of List files into items, as the generator writes them (yaml.v2 block
//! style: `items:` at column 0, each item a `- ` line at column 0). Each item keeps its line
//! range; `metadata.managedFields` is blanked out (lines kept empty, so line numbers in parse
//! errors stay true) because no rule reads it and it is most of the bytes.

/// One item of a List file, ready for decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawItem {
    /// 1-based line of the item's first line in the file.
    pub line: u32,
    /// 1-based last non-blank line of the item.
    pub end_line: u32,
    /// The item as a standalone YAML mapping (the leading `- ` replaced by two spaces).
    pub text: String,
    /// `kind:` of the item, read textually.
    pub kind: Option<String>,
    /// `apiVersion:` of the item, read textually.
    pub api_version: Option<String>,
    /// 1-based line of `metadata.name` (the item's first line when not found).
    pub name_line: u32,
}

/// What a file turned out to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// A List with these items (possibly none).
    List(Vec<RawItem>),
    /// A single object document (not a List).
    Single(RawItem),
    /// Nothing that looks like Kubernetes objects.
    NotObjects,
    /// `items:` is there but its layout is not the generator's (e.g. indented items).
    OtherLayout,
}

fn scalar_value(rest: &str) -> String {
    let v = rest.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    v.to_string()
}

/// Builds the standalone text of an item from its lines, blanking managedFields.
fn build_item(lines: &[&str], first_line: u32, indent: usize) -> RawItem {
    let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    let mut kind = None;
    let mut api_version = None;
    let mut in_metadata = false;
    let mut skipping = false;
    let mut last_nonblank = 0usize;
    let mut name_at = 0usize;
    for (i, raw) in lines.iter().enumerate() {
        let raw = dedent(raw, indent);
        let line: &str = if i == 0 {
            raw.strip_prefix('-').unwrap_or(raw)
        } else {
            raw
        };
        if !line.trim().is_empty() {
            last_nonblank = i;
        }
        let indent = if i == 0 {
            2
        } else {
            line.len() - line.trim_start_matches(' ').len()
        };
        let body = line.trim_start_matches(' ');
        if skipping {
            if body.is_empty()
                || indent > 4
                || (indent == 4 && body.starts_with("- "))
                || (indent == 4 && body == "-")
            {
                text.push('\n');
                continue;
            }
            skipping = false;
        }
        if indent == 2 {
            in_metadata = body.starts_with("metadata:");
            if let Some(v) = body.strip_prefix("kind:") {
                kind = Some(scalar_value(v));
            } else if let Some(v) = body.strip_prefix("apiVersion:") {
                api_version = Some(scalar_value(v));
            }
        }
        if in_metadata && indent == 4 && body.starts_with("name:") && name_at == 0 {
            name_at = i;
        }
        if in_metadata && indent == 4 && body.starts_with("managedFields:") {
            skipping = body.trim_end() == "managedFields:";
            text.push('\n');
            continue;
        }
        if i == 0 {
            text.push_str("  ");
            text.push_str(line.trim_start_matches(' '));
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    RawItem {
        line: first_line,
        end_line: first_line + last_nonblank as u32,
        text,
        kind,
        api_version,
        name_line: first_line + name_at as u32,
    }
}

/// Removes up to `n` leading spaces.
fn dedent(l: &str, n: usize) -> &str {
    let spaces = l.len() - l.trim_start_matches(' ').len();
    l.get(spaces.min(n)..).unwrap_or(l)
}

/// Splits a file's text into its items, all built at once.
pub fn split(text: &str) -> Split {
    match split_lazy(text) {
        Lazy::List(r) => Split::List((0..r.len()).filter_map(|i| r.build(i)).collect()),
        Lazy::Done(s) => s,
    }
}

/// A List's items found but not built yet: building an item copies its text (blanking
/// managedFields), so a caller that decodes items one by one holds only the items in flight,
/// not a second copy of the whole file. Items are kept as byte ranges of the text (no table of
/// every line: 16 bytes a line was as large as the file's objects for event lists).
#[derive(Debug)]
pub struct ItemRanges<'a> {
    text: &'a str,
    /// Byte range (start inclusive, end exclusive) and 0-based first line of each item.
    ranges: Vec<(usize, usize, u32)>,
    indent: usize,
}

impl ItemRanges<'_> {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Builds item `i`.
    pub fn build(&self, i: usize) -> Option<RawItem> {
        let &(start, end, line) = self.ranges.get(i)?;
        let lines: Vec<&str> = self.text.get(start..end)?.lines().collect();
        Some(build_item(&lines, line + 1, self.indent))
    }
}

/// [`split`] with the items of a List left to build.
#[derive(Debug)]
pub enum Lazy<'a> {
    /// A List whose items are built on demand.
    List(ItemRanges<'a>),
    /// Anything else, as [`split`] gives it.
    Done(Split),
}

/// Finds a file's items without building them (see [`ItemRanges`]). One pass over the lines,
/// nothing kept per line.
pub fn split_lazy(text: &str) -> Lazy<'_> {
    // Lines are slices of `text`: their offset is their distance from its start.
    let offset = |l: &str| (l.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let empty = || {
        Lazy::List(ItemRanges {
            text,
            ranges: Vec::new(),
            indent: 0,
        })
    };
    let mut lines = text.lines().enumerate();
    let Some((_, items_line)) = lines
        .by_ref()
        .find(|(_, l)| *l == "items:" || l.starts_with("items: "))
    else {
        return Lazy::Done(single(&text.lines().collect::<Vec<_>>()));
    };
    if items_line.trim_end() != "items:" {
        // `items: []` or a flow sequence: only `[]` is the generator's.
        return if items_line.trim_end() == "items: []" {
            empty()
        } else {
            Lazy::Done(Split::OtherLayout)
        };
    }
    // The generator writes items at column 0; other writers indent them. The first item's
    // dash sets the indentation for the whole list.
    let Some((_, first)) = lines.clone().find(|(_, l)| !l.trim().is_empty()) else {
        return empty();
    };
    let indent = first.len() - first.trim_start_matches(' ').len();
    if !first.trim_start().starts_with('-') {
        return Lazy::Done(Split::OtherLayout);
    }
    let is_dash = |l: &str| {
        let d = dedent(l, indent);
        d.len() + indent == l.len() && (d.starts_with("- ") || d == "-")
    };
    let mut ranges = Vec::new();
    // (first line, byte offset) of the item being read.
    let mut start: Option<(usize, usize)> = None;
    let mut end = text.len();
    for (i, l) in lines {
        if is_dash(l) {
            if let Some((line, from)) = start {
                ranges.push((from, offset(l), line as u32));
            }
            start = Some((i, offset(l)));
        } else if !(l.trim().is_empty() || l.len() - l.trim_start_matches(' ').len() > indent) {
            end = offset(l);
            break;
        }
    }
    if let Some((line, from)) = start {
        ranges.push((from, end, line as u32));
    }
    Lazy::List(ItemRanges {
        text,
        ranges,
        indent,
    })
}

fn single(lines: &[&str]) -> Split {
    let has = |k: &str| lines.iter().any(|l| l.starts_with(k));
    if !(has("kind:") && has("metadata:")) {
        return Split::NotObjects;
    }
    // Re-indent by two spaces so the same decoder applies.
    let mut body: Vec<String> = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            body.push(format!("- {l}"));
        } else if l.is_empty() {
            body.push(String::new());
        } else {
            body.push(format!("  {l}"));
        }
    }
    let refs: Vec<&str> = body.iter().map(String::as_str).collect();
    Split::Single(build_item(&refs, 1, 0))
}

/// The item of a file that starts at `line` (1-based), built as [`split`] builds it (list
/// indentation stripped, managedFields blanked); `None` when no item starts there. Lets the
/// load stage read one object's whole YAML again without re-decoding the file.
pub fn item_at(text: &str, line: u32) -> Option<RawItem> {
    match split_lazy(text) {
        Lazy::List(items) => items
            .ranges
            .iter()
            .position(|&(_, _, l)| l + 1 == line)
            .and_then(|i| items.build(i)),
        Lazy::Done(Split::Single(item)) if item.line == line => Some(item),
        Lazy::Done(Split::List(items)) => items.into_iter().find(|i| i.line == line),
        Lazy::Done(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    creationTimestamp: \"2022-03-06T23:09:58Z\"\n    managedFields:\n    - apiVersion: v1\n      fieldsV1:\n        f:metadata:\n          v:\"wrangler.cattle.io/x\"null: {}\n      manager: m\n    name: a\n  spec:\n    x: |\n      line1\n\n      line3\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\nkind: List\nmetadata:\n  continue: \"null\"\n  resourceVersion: \"1\"\n";

    #[test]
    fn item_at_finds_the_item_starting_at_a_line() {
        let b = item_at(LIST, 19).expect("item b");
        let v: yaml_serde::Value = yaml_serde::from_str(&b.text).unwrap();
        assert_eq!(v["metadata"]["name"].as_str(), Some("b"));
        assert!(item_at(LIST, 3).is_some_and(|a| a.text.contains("line3")));
        assert!(item_at(LIST, 4).is_none());
    }

    #[test]
    fn splits_items_with_lines_and_drops_managed_fields() {
        let Split::List(items) = split(LIST) else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        assert_eq!((items[0].line, items[0].end_line), (3, 18));
        assert_eq!((items[1].line, items[1].end_line), (19, 22));
        assert_eq!((items[0].name_line, items[1].name_line), (13, 22));
        assert_eq!(items[0].kind.as_deref(), Some("Pod"));
        assert_eq!(items[0].api_version.as_deref(), Some("v1"));
        assert!(!items[0].text.contains("managedFields"));
        assert!(!items[0].text.contains("wrangler"));
        assert!(items[0].text.contains("line3"));
        // line count preserved
        assert_eq!(items[0].text.lines().count(), 16);
        let v: yaml_serde::Value = yaml_serde::from_str(&items[0].text).unwrap();
        assert_eq!(v["metadata"]["name"].as_str(), Some("a"));
        assert_eq!(v["spec"]["x"].as_str(), Some("line1\n\nline3\n"));
    }

    #[test]
    fn empty_lists_and_other_shapes() {
        assert_eq!(
            split("apiVersion: v1\nitems: []\nkind: List\nmetadata: {}\n"),
            Split::List(vec![])
        );
        assert_eq!(split(""), Split::NotObjects);
        assert_eq!(split("hello: world\n"), Split::NotObjects);
        assert_eq!(split("items:\n  a: 1\n"), Split::OtherLayout);
        let Split::List(ind) = split(
            "apiVersion: v1\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata:\n      name: a\n      managedFields:\n        - manager: x\n      uid: u\n  - kind: Pod\n    metadata:\n      name: b\nkind: List\n",
        ) else {
            panic!()
        };
        assert_eq!(ind.len(), 2);
        assert_eq!((ind[0].line, ind[0].end_line, ind[1].line), (3, 9, 10));
        assert!(!ind[0].text.contains("manager: x"));
        let v: yaml_serde::Value = yaml_serde::from_str(&ind[0].text).unwrap();
        assert_eq!(v["metadata"]["uid"].as_str(), Some("u"));
        let Split::Single(one) = split("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n") else {
            panic!()
        };
        assert_eq!(one.kind.as_deref(), Some("Pod"));
        let v: yaml_serde::Value = yaml_serde::from_str(&one.text).unwrap();
        assert_eq!(v["metadata"]["name"].as_str(), Some("x"));
    }

    #[test]
    fn truncated_file_keeps_complete_items() {
        let cut = &LIST[..LIST.find("  metadata:\n    name: b").unwrap() + 12];
        let Split::List(items) = split(cut) else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].kind.as_deref(), Some("Pod"));
    }
}
