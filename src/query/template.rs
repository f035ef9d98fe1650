//! kubectl's `-o jsonpath=TEMPLATE` and `-o custom-columns=HEADER:PATH,…` printers, on the
//! JSONPath subset of [`super::jsonpath`]: `{.items[*].metadata.name}`,
//! `{range .items[*]}{.metadata.name}{"\n"}{end}`, `{@.x}` inside a range, text between braces
//! printed as is; custom columns a header line then one row per object, `<none>` where a path
//! reaches nothing.
use serde_json::Value;

use super::jsonpath::{self, Path};

/// One piece of a JSONPath template.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Text outside braces, or a quoted literal (`{"\n"}`).
    Text(String),
    /// `{.path}`: every value it reaches, space-separated.
    Expr(Path),
    /// `{range .path}…{end}`: the body once per value reached, with `@` that value.
    Range(Path, Vec<Node>),
}

/// A parsed `-o jsonpath=` template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Node>);

/// A parsed `-o custom-columns=` spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns(Vec<(String, Path)>);

/// The printers beyond the built-in formats.
#[derive(Debug, Clone, PartialEq)]
pub enum Printer {
    /// `-o jsonpath=…`: applied to the object of `get KIND NAME`, else to the `List`.
    JsonPath(Template),
    /// `-o custom-columns=…`: one row per object.
    CustomColumns(Columns),
}

fn path(expr: &str) -> Result<Path, String> {
    let e = expr.trim();
    let e = e.strip_prefix('@').unwrap_or(e);
    Path::parse(e)
}

/// Parses `{…}` blocks until `{end}` (when `in_range`) or the end of the text.
fn nodes(s: &str, pos: &mut usize, in_range: bool) -> Result<Vec<Node>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    while *pos < s.len() {
        let rest = &s[*pos..];
        if !rest.starts_with('{') {
            let n = rest.find('{').unwrap_or(rest.len());
            text.push_str(&rest[..n]);
            *pos += n;
            continue;
        }
        if !text.is_empty() {
            out.push(Node::Text(std::mem::take(&mut text)));
        }
        let close = block_end(rest).ok_or_else(|| format!("unclosed {{ at {}", *pos))?;
        let inner = rest[1..close].trim();
        *pos += close + 1;
        if inner == "end" {
            if in_range {
                return Ok(out);
            }
            return Err("{end} without {range}".into());
        }
        // `{range .items[*]}`, or `{range.items[*]}` as kubectl also takes it.
        if let Some(p) = inner
            .strip_prefix("range")
            .filter(|p| p.starts_with(|c: char| c == '.' || c.is_whitespace()))
        {
            let body = nodes(s, pos, true)?;
            out.push(Node::Range(path(p)?, body));
        } else if let Some(q) = inner.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let lit = inner
                .strip_prefix(q)
                .and_then(|x| x.strip_suffix(q))
                .ok_or_else(|| format!("unterminated string in {{{inner}}}"))?;
            out.push(Node::Text(unescape(lit)));
        } else {
            out.push(Node::Expr(path(inner)?));
        }
    }
    if in_range {
        return Err("{range} without {end}".into());
    }
    if !text.is_empty() {
        out.push(Node::Text(text));
    }
    Ok(out)
}

/// The index of the `}` closing the block `s` starts with (braces in quotes do not count).
fn block_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
        escaped = false;
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

impl Template {
    /// Parses a template (`{.items[*].metadata.name}`).
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pos = 0;
        Ok(Template(nodes(text, &mut pos, false)?))
    }

    /// The template applied to `v`; what a path does not reach prints nothing (kubectl's
    /// default `--allow-missing-template-keys`).
    pub fn render(&self, v: &Value) -> String {
        let mut out = String::new();
        run(&self.0, v, &mut out);
        out
    }
}

fn run(nodes: &[Node], v: &Value, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Expr(p) => {
                let vals: Vec<String> = p.find(v).into_iter().map(jsonpath::text).collect();
                out.push_str(&vals.join(" "));
            }
            Node::Range(p, body) => {
                for x in p.find(v) {
                    run(body, x, out);
                }
            }
        }
    }
}

impl Columns {
    /// Parses `NAME:.metadata.name,NODE:.spec.nodeName` (a path without its leading dot is
    /// taken as if it had one, as kubectl does).
    pub fn parse(spec: &str) -> Result<Columns, String> {
        let mut cols = Vec::new();
        for part in spec.split(',') {
            let Some((h, p)) = part.split_once(':') else {
                return Err(format!(
                    "{part:?}: a custom column reads HEADER:JSONPATH (NAME:.metadata.name)"
                ));
            };
            let p = p.trim();
            let p = p
                .strip_prefix('{')
                .and_then(|x| x.strip_suffix('}'))
                .unwrap_or(p);
            let p = if p.starts_with('.') || p.starts_with('[') {
                p.to_string()
            } else {
                format!(".{p}")
            };
            cols.push((
                h.to_string(),
                Path::parse(&p).map_err(|e| format!("{part:?}: {e}"))?,
            ));
        }
        Ok(Columns(cols))
    }

    /// The header line and one row per object; `<none>` where a path reaches nothing,
    /// several values comma-separated.
    pub fn render(&self, objects: &[Value]) -> String {
        let headers: Vec<&str> = self.0.iter().map(|(h, _)| h.as_str()).collect();
        let rows: Vec<Vec<String>> = objects
            .iter()
            .map(|o| {
                self.0
                    .iter()
                    .map(|(_, p)| {
                        let vals: Vec<String> = p
                            .find(o)
                            .into_iter()
                            .filter(|v| !v.is_null())
                            .map(go_text)
                            .collect();
                        if vals.is_empty() {
                            "<none>".to_string()
                        } else {
                            vals.join(",")
                        }
                    })
                    .collect()
            })
            .collect();
        super::table::render(&headers, &rows)
    }
}

/// A value as Go's `%v` prints what kubectl decodes (custom columns): strings bare, maps as
/// `map[k:v …]` with sorted keys, lists as `[a b]`.
fn go_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_text).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut kv: Vec<(&String, &Value)> = m.iter().collect();
            kv.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = kv
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_text(v)))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
        other => other.to_string(),
    }
}

impl Printer {
    /// The printer named by `-o` (`jsonpath=…`, `custom-columns=…`), if it is one of these.
    pub fn parse(output: &str) -> Option<Result<Printer, String>> {
        if let Some(t) = output.strip_prefix("jsonpath=") {
            return Some(Template::parse(t).map(Printer::JsonPath));
        }
        if let Some(c) = output.strip_prefix("custom-columns=") {
            return Some(Columns::parse(c).map(Printer::CustomColumns));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Value {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app": "x"}},
             "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
            {"metadata": {"name": "b"},
             "status": {"conditions": [{"type": "Ready", "status": "False"}]}}
        ]})
    }

    #[test]
    fn jsonpath_templates_print_as_kubectl() {
        let r = |t: &str| Template::parse(t).unwrap().render(&list());
        assert_eq!(r("{.items[*].metadata.name}"), "a b");
        assert_eq!(
            r(
                r#"{range .items[*]}{.metadata.name}{"\t"}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#
            ),
            "a\tTrue\nb\tFalse\n"
        );
        assert_eq!(r("{range .items[*]}{@.metadata.name},{end}"), "a,b,");
        assert_eq!(r("names: {.items[0].metadata.name}"), "names: a");
        assert_eq!(r("{.items[1].metadata.labels}"), "");
        assert_eq!(r("{.items[0].metadata.labels}"), r#"{"app":"x"}"#);
        assert_eq!(r(r#"{"}"}"#), "}");
    }

    #[test]
    fn malformed_templates_are_errors() {
        for t in ["{.a", "{range .items[*]}{.a}", "{end}", "{..a}", r#"{"x}"#] {
            assert!(Template::parse(t).is_err(), "{t}");
        }
        assert!(Columns::parse("NAME").is_err());
        assert!(Columns::parse("NAME:.a[").is_err());
    }

    #[test]
    fn custom_columns_header_rows_and_none() {
        let items = list()["items"].as_array().unwrap().clone();
        let c = Columns::parse(
            "NAME:.metadata.name,APP:metadata.labels.app,READY:{.status.conditions[*].status}",
        )
        .unwrap();
        assert_eq!(
            c.render(&items),
            "NAME   APP      READY\na      x        True\nb      <none>   False\n"
        );
    }
}
