//! The pipeline runs one way: no top-level module of the library may depend, directly or
//! through others, on a module that depends on it. Reads `src/` as text, resolves every
//! `crate::` and `super::` path that leaves its top-level module (outside `#[cfg(test)]` items),
//! and fails on any cycle, printing it with the files that make each step.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level module (`rules`) → module it uses (`index`) → files where it does.
type Deps = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Module path of a file under `src/`: `rules/precheck/mod.rs` → `[rules, precheck]`,
/// `text.rs` → `[text]`; the crate root (`lib.rs`) → `[]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap();
    let stem = file.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The code of a Rust file with comments, string and character literals blanked out (so a
/// `crate::x` in a doc comment or a message is not a dependency).
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize| b.get(i).copied().unwrap_or('\0');
    while i < b.len() {
        let c = b[i];
        if c == '/' && at(i + 1) == '/' {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if i >= b.len() {
                    break;
                }
                if b[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (at(i + 1) == '"' || at(i + 1) == '#') && raw_prefix(&b, i) {
            // Raw string r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            if at(j) != '"' {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#') {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), or a lifetime ('a) left as is.
            if at(i + 1) == '\\' {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if at(i + 2) == '\'' {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `code` without the items marked `#[cfg(test)]` (test modules beside the code may build
/// their fixtures from any stage; the pipeline is about what the library runs).
fn without_tests(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let item = &rest[at + MARK.len()..];
        // The item ends at its first `;` outside braces, or at the brace closing its body.
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn prev(b: &[char], i: usize) -> char {
    i.checked_sub(1)
        .and_then(|j| b.get(j))
        .copied()
        .unwrap_or(' ')
}

/// Whether the `r` at `i` opens a raw string (`r"`, `br"`), not ends an identifier (`for"`).
fn raw_prefix(b: &[char], i: usize) -> bool {
    match prev(b, i) {
        'b' => !ident_char(prev(b, i - 1)),
        p => !ident_char(p),
    }
}

/// Reads an identifier starting at `i` (after skipping whitespace).
fn ident_at(s: &[char], mut i: usize) -> (String, usize) {
    while s.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    let start = i;
    while s.get(i).is_some_and(|c| ident_char(*c)) {
        i += 1;
    }
    (s[start..i].iter().collect(), i)
}

fn skip_ws(s: &[char], mut i: usize) -> usize {
    while s.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

/// First path segments of the items of a `{a, b::c, d::{e, f}}` group starting at `i` (the
/// `{`), each with the module path it is relative to.
fn group_heads(s: &[char], i: usize) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect = true;
    let mut j = i;
    while j < s.len() {
        match s[j] {
            '{' => {
                depth += 1;
                expect = depth == 1;
                j += 1;
            }
            '}' => {
                depth -= 1;
                j += 1;
                if depth == 0 {
                    break;
                }
            }
            ',' => {
                expect = depth == 1;
                j += 1;
            }
            c if expect && depth == 1 && ident_char(c) => {
                let (id, k) = ident_at(s, j);
                heads.push(id);
                expect = false;
                j = k;
            }
            _ => j += 1,
        }
    }
    heads
}

/// The top-level modules a file names through `crate::` and `super::` paths, other than its
/// own. `module` is the file's module path.
fn uses(code: &str, module: &[String], top_level: &BTreeSet<String>) -> BTreeSet<String> {
    let s: Vec<char> = code.chars().collect();
    let mut found = BTreeSet::new();
    let mut i = 0;
    while i < s.len() {
        if !ident_char(s[i]) || (i > 0 && (ident_char(s[i - 1]) || s[i - 1] == '$')) {
            i += 1;
            continue;
        }
        let (word, end) = ident_at(&s, i);
        // `crate::x` names x from the root; `super::super::x` from an ancestor of this module.
        let mut base: Option<Vec<String>> = match word.as_str() {
            "crate" => Some(Vec::new()),
            "super" => Some(module[..module.len().saturating_sub(1)].to_vec()),
            _ => None,
        };
        let mut j = end;
        if base.is_none() || !(s.get(j) == Some(&':') && s.get(j + 1) == Some(&':')) {
            i = end;
            continue;
        }
        j += 2;
        // Further `super::` segments climb on.
        loop {
            let k = skip_ws(&s, j);
            let (next, after) = ident_at(&s, k);
            if next == "super" && s.get(after) == Some(&':') && s.get(after + 1) == Some(&':') {
                if let Some(b) = base.as_mut() {
                    b.pop();
                }
                j = after + 2;
            } else {
                break;
            }
        }
        let base = base.unwrap_or_default();
        let k = skip_ws(&s, j);
        let heads = if s.get(k) == Some(&'{') {
            group_heads(&s, k)
        } else {
            vec![ident_at(&s, k).0]
        };
        if base.is_empty() {
            for h in heads {
                if top_level.contains(&h) && module.first() != Some(&h) {
                    found.insert(h);
                }
            }
        } else if module.first() != base.first() {
            found.insert(base[0].clone());
        }
        i = end;
    }
    found
}

/// The dependency graph of the library's top-level modules.
fn deps() -> Deps {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let top_level: BTreeSet<String> = files
        .iter()
        .filter_map(|p| module_path(p.strip_prefix(&root).unwrap()).first().cloned())
        .filter(|m| m != "main")
        .collect();
    let mut deps = Deps::new();
    for p in &files {
        let rel = p.strip_prefix(&root).unwrap();
        let module = module_path(rel);
        // The crate root declares the modules; the binary uses the library by its name.
        let Some(top) = module.first() else { continue };
        if top == "main" {
            continue;
        }
        let code = without_tests(&code_only(&fs::read_to_string(p).unwrap()));
        let entry = deps.entry(top.clone()).or_default();
        for used in uses(&code, &module, &top_level) {
            entry
                .entry(used)
                .or_default()
                .insert(rel.display().to_string());
        }
    }
    deps
}

/// Every elementary cycle would be too many to print; one cycle per strongly connected
/// component, found by walking back from a node to itself, names the problem.
fn cycles(deps: &Deps) -> Vec<Vec<String>> {
    let edge = |a: &str, b: &str| deps.get(a).is_some_and(|m| m.contains_key(b));
    let nodes: Vec<&String> = deps.keys().collect();
    let mut seen_in_cycle: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for start in nodes {
        if seen_in_cycle.contains(start) {
            continue;
        }
        // Breadth-first from start's successors back to start, keeping parents for the path.
        let mut parent: BTreeMap<String, String> = BTreeMap::new();
        let mut queue: std::collections::VecDeque<String> = std::collections::VecDeque::new();
        let mut visited: BTreeSet<String> = BTreeSet::new();
        for next in deps[start].keys().filter(|n| edge(start, n)) {
            if visited.insert(next.clone()) {
                parent.insert(next.clone(), start.clone());
                queue.push_back(next.clone());
            }
        }
        let mut closed = false;
        while let Some(n) = queue.pop_front() {
            if n == *start {
                closed = true;
                break;
            }
            for next in deps
                .get(&n)
                .map(|m| m.keys().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                if edge(&n, next) && visited.insert(next.clone()) {
                    parent.insert(next.clone(), n.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        if closed {
            let mut path = vec![start.clone()];
            let mut at = parent[start].clone();
            while at != *start {
                path.push(at.clone());
                at = parent[&at].clone();
            }
            path.push(start.clone());
            path.reverse();
            seen_in_cycle.extend(path.iter().cloned());
            out.push(path);
        }
    }
    out
}

fn describe(deps: &Deps, cycle: &[String]) -> String {
    let mut s = cycle.join(" → ");
    for w in cycle.windows(2) {
        let files: Vec<&String> = deps[&w[0]][&w[1]].iter().collect();
        s.push_str(&format!("\n    {} → {}: {:?}", w[0], w[1], files));
    }
    s
}

#[test]
fn no_import_cycle_among_top_level_modules() {
    let deps = deps();
    let found = cycles(&deps);
    let text: Vec<String> = found.iter().map(|c| describe(&deps, c)).collect();
    assert!(
        found.is_empty(),
        "import cycles among the modules of src/ (the pipeline must run one way):\n  {}",
        text.join("\n  ")
    );
}

#[test]
fn no_stage_after_the_index_reads_the_archive() {
    // House rule: only bundle and index open the archive; what follows works on the index.
    let deps = deps();
    for m in [
        "facts", "graph", "fleet", "upgrade", "webhook", "rules", "model", "text",
    ] {
        let uses = deps.get(m).map(|d| d.get("archive")).unwrap_or_default();
        assert!(uses.is_none(), "{m} uses archive in {uses:?}");
    }
}

#[test]
fn model_and_text_are_leaves() {
    // Every stage may use them because they use nothing of the crate.
    let deps = deps();
    for m in ["model", "text"] {
        let uses = deps.get(m).cloned().unwrap_or_default();
        assert!(uses.is_empty(), "{m} uses {uses:?}");
    }
}

#[test]
fn renderers_read_only_the_report() {
    // House rule: a renderer never computes a verdict. report/ holds the contract and the
    // renderers; besides the shared text helpers it may use nothing of the crate.
    let deps = deps();
    let uses: Vec<&String> = deps["report"].keys().filter(|m| *m != "text").collect();
    assert!(uses.is_empty(), "report uses {uses:?}");
}

#[test]
fn the_graph_sees_the_pipeline() {
    // The reader itself: the edges the pipeline is made of are found, so a silent parser
    // cannot pass the cycle test by finding nothing.
    let deps = deps();
    for (from, to) in [
        ("bundle", "archive"),
        ("index", "bundle"),
        ("facts", "index"),
        ("graph", "index"),
        ("fleet", "graph"),
        ("rules", "facts"),
        ("analyze", "rules"),
        ("analyze", "report"),
    ] {
        assert!(
            deps.get(from).is_some_and(|m| m.contains_key(to)),
            "{from} → {to} not found: {deps:#?}"
        );
    }
}

#[test]
fn paths_in_comments_and_strings_are_not_dependencies() {
    let top: BTreeSet<String> = ["index", "fleet", "graph", "rules", "bundle", "text"]
        .into_iter()
        .map(String::from)
        .collect();
    let module = vec![
        "rules".to_string(),
        "precheck".to_string(),
        "net".to_string(),
    ];
    let code = code_only(
        "//! see `crate::fleet`\n/* crate::graph /* nested */ crate::graph */\n\
         let s = \"crate::bundle\"; let r = r#\"crate::bundle\"#; let c = '\"';\n\
         let b = br\"crate::bundle\\\"; let e = \"\\\"crate::bundle\";\n\
         fn f<'a>(x: &'a str) {}\n\
         use crate::{index::Index, text::{self, one_line}};\n\
         use super::super::finding::Finding;\n",
    );
    assert_eq!(
        uses(&code, &module, &top),
        ["index", "text"].into_iter().map(String::from).collect()
    );
    // Items marked #[cfg(test)] are not part of the pipeline.
    let tested = without_tests(&code_only(
        "use crate::index::Index;\n#[cfg(test)]\nuse crate::bundle::Bundle;\n\
         #[cfg(test)]\nmod tests {\n    use crate::graph::Graph;\n    fn f() { if x { crate::fleet::y(); } }\n}\n\
         fn g() { crate::text::one_line(); }\n",
    ));
    assert_eq!(
        uses(&tested, &module, &top),
        ["index", "text"].into_iter().map(String::from).collect()
    );
    // `super::super::super::` from three levels down reaches the root's children.
    let up = code_only("use super::super::super::graph::Graph;");
    assert_eq!(
        uses(&up, &module, &top),
        ["graph"].into_iter().map(String::from).collect()
    );
    // A cycle is found and printed in order; without its closing edge there is none.
    let mut d = Deps::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        d.entry(a.into())
            .or_default()
            .entry(b.into())
            .or_default()
            .insert(format!("{a}.rs"));
    }
    let c = cycles(&d);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].first(), c[0].last());
    assert_eq!(c[0].len(), 4);
    assert!(describe(&d, &c[0]).contains("a → b: [\"a.rs\"]"));
    d.get_mut("c").unwrap().remove("a");
    assert!(cycles(&d).is_empty());
}
