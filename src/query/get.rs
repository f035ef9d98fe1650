//! `get`, `describe` and `events`.
use std::fmt::Write;

use super::select::Selector;
use super::table;
use super::template::Printer;
use crate::analyze::Analysis;
use crate::error::{Error, Result};
use crate::index::Object;
use crate::model::Age;
use crate::model::kinds::{self, Resolved, ResourceType};
use crate::model::views::{EventView, View};

/// Output format of `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// kubectl's default table.
    Table,
    /// The table with more columns.
    Wide,
    /// The objects as captured (YAML).
    Yaml,
    /// The objects as JSON.
    Json,
    /// `kind.group/name` per line.
    Name,
}

/// Which objects to list.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `-n`; `None` means `default` (kubectl habit) unless `all`.
    pub namespace: Option<String>,
    /// `-A`.
    pub all: bool,
    /// `-l`.
    pub selector: Option<String>,
    /// Include copies of objects served by a second API group (set when the user named the
    /// group explicitly, e.g. `ingresses.extensions`).
    pub with_aliases: bool,
}

impl Scope {
    fn namespace(&self) -> Option<&str> {
        if self.all {
            None
        } else {
            Some(self.namespace.as_deref().unwrap_or("default"))
        }
    }
}

/// The resource types of the bundle: those its objects show, and the lists collected empty
/// (`items: []`), whose kind is the well-known one for their plural.
pub fn resource_types(a: &Analysis) -> Vec<ResourceType> {
    let mut types = a.index.resource_types();
    for f in &a.index.files {
        if f.resource.is_empty()
            || types
                .iter()
                .any(|t| t.group == f.group && t.plural == f.resource)
        {
            continue;
        }
        types.push(ResourceType {
            group: f.group.clone(),
            kind: kinds::kind_for_plural(&f.resource),
            plural: f.resource.clone(),
            namespaced: !f.namespace.is_empty(),
        });
    }
    types.sort();
    types
}

/// The short names the bundle's CRDs declare (`spec.names.shortNames`): (short, group, plural).
pub fn crd_short_names(a: &Analysis) -> Vec<(String, String, String)> {
    let whole = super::whole::Whole::new(&a.bundle, &a.index);
    let mut out = Vec::new();
    for c in a
        .index
        .of_kind("apiextensions.k8s.io", "CustomResourceDefinition")
    {
        if let Some((g, _, p, short)) = whole.yaml(c, false).as_deref().and_then(kinds::crd_names) {
            out.extend(short.into_iter().map(|s| (s, g.clone(), p.clone())));
        }
    }
    out
}

/// The short names of a resource type: its CRD's when the bundle has them, else kubectl's
/// well-known ones.
fn short_names_of(t: &ResourceType, crd: &[(String, String, String)]) -> Vec<String> {
    let from_crd: Vec<String> = crd
        .iter()
        .filter(|(_, g, p)| *g == t.group && *p == t.plural)
        .map(|(s, _, _)| s.clone())
        .collect();
    if from_crd.is_empty() {
        kinds::short_names(&t.group, &t.plural)
            .into_iter()
            .map(str::to_owned)
            .collect()
    } else {
        from_crd
    }
}

/// Resolves KIND against the bundle (with the short names its CRDs declare); a helpful error
/// when it cannot (with the closest names when it looks like a typo).
pub fn resolve_kind(a: &Analysis, kind: &str) -> Result<Vec<ResourceType>> {
    let types = resource_types(a);
    let resolved = match kinds::resolve(kind, &types) {
        Resolved::Unknown => kinds::resolve_with(kind, &types, &crd_short_names(a)),
        r => r,
    };
    match resolved {
        Resolved::Types(t) => Ok(t),
        Resolved::Ambiguous(names) => Err(Error::Usage(format!(
            "resource type {kind:?} is ambiguous in this bundle; use one of: {}",
            names.join(", ")
        ))),
        Resolved::Unknown => {
            let near = kinds::closest(kind, &types);
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", near.join(" or "))
            };
            Err(Error::Usage(format!(
                "the bundle holds no resource type {kind:?} (not collected, or a typo){hint}; `sbdiag get api-resources -b BUNDLE` lists what it holds"
            )))
        }
    }
}

/// Lists the resource types in the bundle (`get api-resources`): kubectl's columns (NAME
/// SHORTNAMES APIVERSION NAMESPACED KIND), then how many objects the bundle holds.
pub fn api_resources(a: &Analysis) -> String {
    let crd = crd_short_names(a);
    let mut rows = Vec::new();
    for t in resource_types(a) {
        let count = a.index.of_kind(&t.group, &t.kind).count();
        let version = a
            .index
            .of_kind(&t.group, &t.kind)
            .next()
            .map(|o| o.api_version().to_string())
            .or_else(|| {
                a.index
                    .files
                    .iter()
                    .find(|f| f.group == t.group && f.resource == t.plural && !f.version.is_empty())
                    .map(|f| {
                        if f.group.is_empty() {
                            f.version.clone()
                        } else {
                            format!("{}/{}", f.group, f.version)
                        }
                    })
            })
            .unwrap_or_default();
        rows.push(vec![
            t.plural.clone(),
            short_names_of(&t, &crd).join(","),
            version,
            t.namespaced.to_string(),
            t.kind.clone(),
            count.to_string(),
        ]);
    }
    table::render(
        &[
            "NAME",
            "SHORTNAMES",
            "APIVERSION",
            "NAMESPACED",
            "KIND",
            "OBJECTS",
        ],
        &rows,
    )
}

/// Objects matching the request, in key order.
pub fn select<'a>(
    a: &'a Analysis,
    types: &[ResourceType],
    name: Option<&str>,
    scope: &Scope,
) -> Result<Vec<&'a Object>> {
    let sel = match &scope.selector {
        Some(s) => Some(Selector::parse(s).map_err(Error::Usage)?),
        None => None,
    };
    let ns = scope.namespace();
    let mut out = Vec::new();
    for t in types {
        for o in a.index.of_kind_all(&t.group, &t.kind) {
            if o.alias_of.is_some() && !scope.with_aliases {
                continue;
            }
            if t.namespaced && ns.is_some_and(|n| n != o.key.namespace) {
                continue;
            }
            if name.is_some_and(|n| n != o.key.name) {
                continue;
            }
            if sel.as_ref().is_some_and(|s| !s.matches(&o.meta.labels)) {
                continue;
            }
            out.push(o);
        }
    }
    Ok(out)
}

/// How `get` prints beyond the format: kubectl's `--show-labels` and `--sort-by`.
#[derive(Debug, Clone, Default)]
pub struct Print {
    /// A LABELS column last.
    pub show_labels: bool,
    /// A JSONPath (`.metadata.creationTimestamp`, `{.status.phase}`) to sort by.
    pub sort_by: Option<String>,
    /// `-o jsonpath=…` or `-o custom-columns=…`, in place of the format.
    pub printer: Option<Printer>,
}

/// What `get` prints: the listing on stdout, and a note for stderr (kubectl's
/// `No resources found`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// For stdout.
    pub text: String,
    /// For stderr.
    pub note: Option<String>,
}

/// `sbdiag get`, with kubectl's habits: `KIND/NAME`, comma-separated kinds (one table each,
/// a blank line between, names prefixed with their kind when several kinds show, as kubectl
/// does), and `No resources found` (a note, not an error) when a table is empty. `-o json`,
/// `-o yaml`, `-o jsonpath=` and `-o custom-columns=` print every object of every kind as one
/// `List` (an empty one when nothing matches), or the object itself when one object is named.
pub fn get_all(
    a: &Analysis,
    kinds_arg: &str,
    name: Option<&str>,
    scope: &Scope,
    output: Output,
    managed_fields: bool,
    print: &Print,
) -> Result<Listing> {
    let names: Vec<&str> = name.into_iter().collect();
    get_names(a, kinds_arg, &names, scope, output, managed_fields, print)
}

/// [`get_all`] with any number of names after the kinds (`get po A B`, as kubectl takes
/// them): the objects of one kind show in one table, in the order named.
pub fn get_names(
    a: &Analysis,
    kinds_arg: &str,
    names: &[&str],
    scope: &Scope,
    output: Output,
    managed_fields: bool,
    print: &Print,
) -> Result<Listing> {
    let mut out = Listing::default();
    let mut parts: Vec<(&str, Option<&str>)> = Vec::new();
    for k in kinds_arg
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        match k.split_once('/') {
            Some((_, _)) if !names.is_empty() => {
                return Err(Error::Usage(format!(
                    "there is no need to give a name after {k:?}: KIND/NAME names the object already"
                )));
            }
            Some((kind, n)) if !kind.is_empty() && !n.is_empty() => parts.push((kind, Some(n))),
            Some(_) => return Err(Error::Usage(format!("{k:?}: expected KIND/NAME"))),
            None if names.is_empty() => parts.push((k, None)),
            None => parts.extend(names.iter().map(|n| (k, Some(*n)))),
        }
    }
    if parts.is_empty() {
        return Err(Error::Usage("no resource type given".into()));
    }
    if let [("api-resources", None)] = parts.as_slice() {
        out.text = api_resources(a);
        return Ok(out);
    }
    let mut found: Vec<(Vec<ResourceType>, Scope, Vec<&Object>)> = Vec::new();
    for (kind, name) in &parts {
        let (types, scope, objs) = matching(a, kind, *name, scope, print)?;
        // Objects of the kind just listed join its table (`get po A B`, `get po/A po/B`).
        match found.last_mut() {
            Some((t, _, o)) if *t == types && name.is_some() => o.extend(objs),
            _ => found.push((types, scope, objs)),
        }
    }
    // kubectl prints one object by itself only when one was named (`get po NAME`).
    let single = matches!(parts.as_slice(), [(_, Some(_))]);
    let generic = print.printer.is_some() || matches!(output, Output::Json | Output::Yaml);
    if generic {
        let mut all: Vec<&Object> = found.iter().flat_map(|(_, _, o)| o.clone()).collect();
        if print.sort_by.is_some() && found.len() > 1 {
            sort_by(a, &mut all, print.sort_by.as_deref().unwrap_or_default())?;
        }
        out.text = match (&print.printer, output) {
            (Some(Printer::CustomColumns(c)), _) => c.render(&values(a, &all, managed_fields)?),
            (Some(Printer::JsonPath(t)), _) => {
                let mut values = values(a, &all, managed_fields)?;
                match (single, values.len()) {
                    (true, 1) => t.render(&values.pop().unwrap_or_default()),
                    _ => t.render(&list(values)),
                }
            }
            (None, Output::Yaml) => yaml(a, &all, managed_fields, single)?,
            _ => json(a, &all, managed_fields, single)?,
        };
        return Ok(out);
    }
    // kubectl names each row KIND/NAME when the objects shown are of several kinds.
    let kinds_shown: std::collections::BTreeSet<(&str, &str)> = found
        .iter()
        .flat_map(|(_, _, objs)| {
            objs.iter()
                .map(|o| (o.key.group.as_str(), o.key.kind.as_str()))
        })
        .collect();
    let with_kind = kinds_shown.len() > 1;
    let mut namespaced = false;
    for (types, scope, objs) in &found {
        namespaced |= types.iter().any(|t| t.namespaced);
        if objs.is_empty() {
            continue;
        }
        let t = match output {
            Output::Name => objs
                .iter()
                .map(|o| {
                    format!(
                        "{}/{}\n",
                        kinds::qualified(&o.key.kind, &o.key.group).to_lowercase(),
                        o.key.name
                    )
                })
                .collect(),
            _ => table_for(
                a,
                objs,
                scope.namespace().is_none() && types.iter().any(|t| t.namespaced),
                output == Output::Wide,
                print.show_labels,
                with_kind,
            ),
        };
        if !out.text.is_empty() && output != Output::Name {
            out.text.push('\n');
        }
        out.text.push_str(&t);
    }
    // `-o name` prints nothing at all for an empty list, as kubectl does.
    if out.text.is_empty() && output != Output::Name {
        out.note = Some(match scope.namespace() {
            Some(ns) if namespaced => format!("No resources found in {ns} namespace."),
            _ => "No resources found".to_string(),
        });
    }
    Ok(out)
}

/// `sbdiag get` of one kind (no comma list); empty when a table finds nothing.
pub fn get(
    a: &Analysis,
    kind: &str,
    name: Option<&str>,
    scope: &Scope,
    output: Output,
    managed_fields: bool,
    print: &Print,
) -> Result<String> {
    Ok(get_all(a, kind, name, scope, output, managed_fields, print)?.text)
}

/// The objects of one KIND (and NAME) in scope, sorted as `--sort-by` asks: the resolved
/// types, the scope applied (copies served by a second group included when the user named the
/// group) and the objects. A NAME that matches nothing is an error saying where it exists.
#[allow(clippy::type_complexity)]
fn matching<'a>(
    a: &'a Analysis,
    kind: &str,
    name: Option<&str>,
    scope: &Scope,
    print: &Print,
) -> Result<(Vec<ResourceType>, Scope, Vec<&'a Object>)> {
    let types = resolve_kind(a, kind)?;
    let Some(t0) = types.first().cloned() else {
        return Err(Error::Usage(format!("no resource type {kind:?}")));
    };
    let scope = Scope {
        with_aliases: kind.contains('.'),
        ..scope.clone()
    };
    let mut objs = select(a, &types, name, &scope)?;
    if let Some(path) = &print.sort_by {
        sort_by(a, &mut objs, path)?;
    }
    if let (Some(n), true) = (name, objs.is_empty()) {
        let where_ = match scope.namespace() {
            Some(ns) if types.iter().any(|t| t.namespaced) => format!(" in namespace {ns}"),
            _ => String::new(),
        };
        let elsewhere = if scope.namespace().is_some() {
            select(
                a,
                &types,
                name,
                &Scope {
                    all: true,
                    ..scope.clone()
                },
            )?
            .len()
        } else {
            0
        };
        let hint = if elsewhere > 0 {
            format!(" ({elsewhere} in other namespaces: use -A or -n)")
        } else {
            String::new()
        };
        return Err(Error::Usage(format!(
            "{} {n:?} not found{where_}{hint}",
            kinds::qualified(&t0.kind, &t0.group)
        )));
    }
    Ok((types, scope, objs))
}

/// kubectl's `List` around `items` (`metadata.resourceVersion` empty, as kubectl prints it).
fn list(items: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    })
}

/// The raw lines of an object as a standalone YAML document.
pub fn raw_yaml(a: &Analysis, o: &Object, managed_fields: bool) -> Result<String> {
    let file = a
        .index
        .file_of(o)
        .ok_or_else(|| Error::Usage("object without file".into()))?;
    let text = a.bundle.read_text(&file.path)?;
    let lines: Vec<&str> = text
        .lines()
        .skip(o.line.saturating_sub(1) as usize)
        .take((o.end_line - o.line + 1) as usize)
        .collect();
    Ok(super::whole::standalone(&lines, managed_fields))
}

/// `-o yaml`: the object's own lines (with a `# source:` line) when one object is named, else
/// kubectl's `List` of them.
fn yaml(a: &Analysis, objs: &[&Object], mf: bool, single: bool) -> Result<String> {
    if let ([one], true) = (objs, single) {
        let mut s = raw_yaml(a, one, mf)?;
        s.insert_str(
            0,
            &format!(
                "# source: {}:{}-{}\n",
                a.index.file_of(one).map(|f| f.path.as_str()).unwrap_or(""),
                one.line,
                one.end_line
            ),
        );
        return Ok(s);
    }
    let mut out = String::from("apiVersion: v1\nitems:");
    out.push_str(if objs.is_empty() { " []\n" } else { "\n" });
    for o in objs {
        for (i, l) in raw_yaml(a, o, mf)?.lines().enumerate() {
            out.push_str(if i == 0 { "- " } else { "  " });
            out.push_str(l);
            out.push('\n');
        }
    }
    out.push_str("kind: List\nmetadata:\n  resourceVersion: \"\"\n");
    Ok(out)
}

/// The objects as JSON values, as captured.
fn values(a: &Analysis, objs: &[&Object], mf: bool) -> Result<Vec<serde_json::Value>> {
    let mut values = Vec::new();
    for o in objs {
        let v: serde_json::Value = yaml_serde::from_str(&raw_yaml(a, o, mf)?)
            .map_err(|e| Error::Usage(format!("{}: cannot convert to JSON: {e}", o.key)))?;
        values.push(v);
    }
    Ok(values)
}

/// `-o json`: the object when one object is named, else kubectl's `List`; indented by four
/// spaces, as kubectl prints it.
fn json(a: &Analysis, objs: &[&Object], mf: bool, single: bool) -> Result<String> {
    let mut values = values(a, objs, mf)?;
    let doc = if single && values.len() == 1 {
        values.pop().unwrap_or_default()
    } else {
        list(values)
    };
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut buf,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    serde::Serialize::serialize(&doc, &mut ser)
        .map_err(|e| Error::Usage(format!("cannot write JSON: {e}")))?;
    Ok(String::from_utf8_lossy(&buf).into_owned() + "\n")
}

fn age(a: &Analysis, ts: Option<&str>) -> String {
    Age::at(ts, a.bundle.created_at)
        .map(|x| x.to_string())
        .unwrap_or_else(|| "<unknown>".into())
}

fn opt(v: Option<i64>) -> String {
    v.unwrap_or(0).to_string()
}

fn event_row(a: &Analysis, e: &EventView) -> Vec<String> {
    super::columns::event_cells(a.bundle.created_at, e)
}

/// kubectl's table of `objs` (one kind), from the column model; the namespace first when
/// `with_ns`, the wide columns with `wide`, names as `kind.group/name` with `with_kind`.
fn table_for(
    a: &Analysis,
    objs: &[&Object],
    with_ns: bool,
    wide: bool,
    show_labels: bool,
    with_kind: bool,
) -> String {
    let whole = super::whole::Whole::new(&a.bundle, &a.index);
    let mut t = super::columns::Tables::new(a, &whole, a.bundle.created_at).table(objs);
    if show_labels {
        t.add_labels(objs);
    }
    if with_kind {
        for (row, o) in t.rows.iter_mut().zip(objs) {
            if let Some(name) = row.first_mut() {
                *name = format!(
                    "{}/{name}",
                    kinds::qualified(&o.key.kind, &o.key.group).to_lowercase()
                );
            }
        }
    }
    let ns: Vec<&str> = objs.iter().map(|o| o.key.namespace.as_str()).collect();
    t.render(wide, with_ns.then_some(ns.as_slice()))
}

/// Sorts objects by the value a JSONPath reaches in each, as captured (kubectl's `--sort-by`):
/// numbers by value, other values as text, objects without the field first.
fn sort_by(a: &Analysis, objs: &mut [&Object], path: &str) -> Result<()> {
    let p = super::jsonpath::Path::parse(path)
        .map_err(|e| Error::Usage(format!("--sort-by {path:?}: {e}")))?;
    let whole = super::whole::Whole::new(&a.bundle, &a.index);
    // (0 missing / 1 number / 2 text, number, text, position): a total order.
    let mut keyed: Vec<(u8, f64, String, usize)> = objs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let v = whole
                .json(o, false)
                .and_then(|j| p.find(&j).first().map(|v| (*v).clone()));
            match v {
                None | Some(serde_json::Value::Null) => (0, 0.0, String::new(), i),
                Some(v) => match v.as_f64() {
                    Some(n) => (1, n, String::new(), i),
                    None => (2, 0.0, super::jsonpath::text(&v), i),
                },
            }
        })
        .collect();
    keyed.sort_by(|x, y| {
        x.0.cmp(&y.0)
            .then(x.1.total_cmp(&y.1))
            .then_with(|| x.2.cmp(&y.2))
            .then(x.3.cmp(&y.3))
    });
    let sorted: Vec<&Object> = keyed
        .iter()
        .filter_map(|(_, _, _, i)| objs.get(*i).copied())
        .collect();
    objs.copy_from_slice(&sorted);
    Ok(())
}

/// Events of the bundle, merged across API groups, de-duplicated, oldest first (as the
/// report's timeline reads them).
pub fn events<'a>(
    a: &'a Analysis,
    namespace: Option<&str>,
    kind_filter: Option<&str>,
) -> Vec<(&'a Object, &'a EventView)> {
    crate::analyze::timeline::events(&a.index, namespace, kind_filter)
}

/// `sbdiag events`.
pub fn events_table(a: &Analysis, namespace: Option<&str>, kind_filter: Option<&str>) -> String {
    let evs = events(a, namespace, kind_filter);
    let rows: Vec<Vec<String>> = evs
        .iter()
        .map(|(o, e)| {
            let mut r = event_row(a, e);
            if namespace.is_none() {
                r.insert(0, o.key.namespace.clone());
            }
            r
        })
        .collect();
    let mut headers = vec!["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"];
    if namespace.is_none() {
        headers.insert(0, "NAMESPACE");
    }
    table::render(&headers, &rows)
}

/// `describe`'s view of the status graph: what the object hangs from (owners, the chart and
/// bundle that deploy it), then what it deploys, owns and runs on, each with its observed
/// status and, where Fleet reports on it, Fleet's claim and the verdict.
fn graph_section(a: &Analysis, o: &Object, s: &mut String) {
    let Some(i) = a.index.position(&o.key) else {
        return;
    };
    let family = a.fleet.version.family;
    let cap = a.bundle.created_at;
    let label = |n: usize| -> String {
        let Some(x) = a.index.objects.get(n) else {
            return String::new();
        };
        let (status, _) = crate::graph::health(x, family, cap);
        let mut t = format!(
            "{} {}: {}",
            kinds::qualified(&x.key.kind, &x.key.group),
            if x.key.namespace.is_empty() {
                x.key.name.clone()
            } else {
                format!("{}/{}", x.key.namespace, x.key.name)
            },
            crate::text::one_line(&status, 120)
        );
        if let View::Pod(p) = &x.view
            && let Some(node) = &p.node_name
        {
            t.push_str(&format!(" (on {node})"));
        }
        if let Some(c) = a.fleet.claimed_status(n) {
            t.push_str(&format!("  [{c}]"));
        }
        t
    };
    let up = crate::graph::ancestors(&a.index, &a.graph, i);
    let tree = crate::graph::tree(&a.index, &a.graph, i, 4, family, cap);
    let dependents = a.graph.dependents(i, 1000);
    if up.is_empty() && tree.len() <= 1 && dependents.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "Graph:        observed status (Fleet's summarizer), and Fleet's claim where it reports one"
    );
    for (k, p) in up.iter().rev() {
        let _ = writeln!(
            s,
            "  ^ {} by {}",
            k.verb()
                .replace("owns", "owned")
                .replace("deploys", "deployed"),
            label(*p)
        );
    }
    // Below the first level, expand only what is not ready or what Fleet reports on: the
    // chain that explains a status, not every healthy pod of a chart.
    let mut expand: Vec<bool> = Vec::new();
    for l in &tree {
        let interesting = !l.ready || a.fleet.claimed_status(l.index).is_some();
        expand.truncate(l.depth);
        let parent_expands = l.depth <= 1 || expand.last().copied().unwrap_or(true);
        expand.push(parent_expands && (l.depth == 0 || interesting));
        if !parent_expands {
            continue;
        }
        let indent = "  ".repeat(l.depth + 1);
        match &l.edge {
            None => {
                let _ = writeln!(s, "{indent}{}", label(l.index));
            }
            Some(e) => {
                let _ = writeln!(s, "{indent}{e} {}", label(l.index));
            }
        }
    }
    if !dependents.is_empty() {
        let mut names: Vec<String> = dependents
            .iter()
            .filter_map(|d| a.index.objects.get(*d))
            .map(|x| {
                format!(
                    "{} {}",
                    x.key.kind,
                    if x.key.namespace.is_empty() {
                        x.key.name.clone()
                    } else {
                        format!("{}/{}", x.key.namespace, x.key.name)
                    }
                )
            })
            .collect();
        names.sort();
        let shown = names.len().min(12);
        let _ = writeln!(
            s,
            "Depends on it ({}): {}{}",
            names.len(),
            names
                .iter()
                .take(shown)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if names.len() > shown { ", …" } else { "" }
        );
    }
}

/// `describe`'s storage chain (`facts::storage`): for a VirtualMachine, everything under it
/// (VMI, launcher pods, each claim, its PV, attachments, Longhorn Volume, engines, replicas
/// and their nodes and disks); for a claim or a PersistentVolume, its own chain. Each link
/// with its state and the file and lines that show it, or "absent from the capture".
fn storage_section(a: &Analysis, o: &Object, s: &mut String) {
    use crate::facts::storage;
    let links = match (o.key.group.as_str(), o.key.kind.as_str()) {
        ("kubevirt.io", "VirtualMachine") => a
            .vms
            .of(&o.key.namespace, &o.key.name)
            .map(|f| crate::facts::vm::vm_links(&a.index, &a.storage, f))
            .unwrap_or_default(),
        ("", "PersistentVolumeClaim") => a
            .storage
            .of_claim(&o.key.namespace, &o.key.name)
            .map(|c| storage::volume_links(&a.index, c, 0, true))
            .unwrap_or_default(),
        ("", "PersistentVolume") => a
            .storage
            .volumes
            .iter()
            .find(|c| {
                c.pv.is_some_and(|i| a.index.objects.get(i).is_some_and(|x| x.key == o.key))
            })
            .map(|c| storage::volume_links(&a.index, c, 0, true))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if links.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "Storage:      the chain down to the disks: each link's state, and where the bundle shows it"
    );
    for l in &links {
        let at =
            l.at.and_then(|i| a.index.objects.get(i))
                .map(|x| {
                    format!(
                        "  ({}:{}-{})",
                        a.index.file_of(x).map(|f| f.path.as_str()).unwrap_or(""),
                        x.line,
                        x.end_line
                    )
                })
                .unwrap_or_default();
        let _ = writeln!(
            s,
            "{}{}{}: {}{at}",
            "  ".repeat(l.depth + 1),
            if l.relation.is_empty() {
                String::new()
            } else {
                format!("{} ", l.relation)
            },
            l.what,
            l.state
        );
    }
}

/// `describe vm`'s findings on the way: every warning and error whose subject is a link of the
/// VM's chain (the VM, its VMI, pods, claims, volumes, replicas, migrations), worst first.
fn vm_findings_section(a: &Analysis, o: &Object, s: &mut String) {
    use crate::rules::{ObjectRef, Severity};
    let Some(f) = a.vms.of(&o.key.namespace, &o.key.name) else {
        return;
    };
    let on_the_way: std::collections::HashSet<String> =
        crate::facts::vm::vm_links(&a.index, &a.storage, f)
            .iter()
            .filter_map(|l| l.at.and_then(|i| a.index.objects.get(i)))
            .map(|x| ObjectRef::of(x).subject())
            .collect();
    let (findings, _) = crate::rules::run(&crate::rules::catalog(), &a.context());
    let hits: Vec<_> = findings
        .iter()
        .filter(|x| x.severity > Severity::Info)
        .filter(|x| {
            x.objects
                .first()
                .is_some_and(|r| on_the_way.contains(&r.subject()))
        })
        .collect();
    if hits.is_empty() {
        let _ = writeln!(s, "Findings:     none on the way");
        return;
    }
    let _ = writeln!(s, "Findings:     on the way ({})", hits.len());
    for x in hits {
        let _ = writeln!(
            s,
            "  {:<8}{}  [{}]",
            x.severity.as_str().to_uppercase(),
            x.title,
            x.id
        );
    }
}

/// One `Label:   value` line of `describe`, values aligned at column 14.
fn field(s: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(s, "{:<14}{value}", format!("{label}:"));
}

/// The one object a `describe`/`graph` request names; an error says what is ambiguous or
/// missing.
pub fn find_one<'a>(
    a: &'a Analysis,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
) -> Result<&'a Object> {
    let types = resolve_kind(a, kind)?;
    let scope = Scope {
        namespace: namespace.map(str::to_owned),
        all: namespace.is_none(),
        selector: None,
        with_aliases: kind.contains('.'),
    };
    let objs = select(a, &types, Some(name), &scope)?;
    match objs.as_slice() {
        [] => Err(Error::Usage(format!(
            "{kind} {name:?} not found{}",
            namespace
                .map(|n| format!(" in namespace {n}"))
                .unwrap_or_default()
        ))),
        [o] => Ok(*o),
        many => Err(Error::Usage(format!(
            "{kind} {name:?} exists in several namespaces ({}); use -n",
            many.iter()
                .map(|o| o.key.namespace.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// One object, found as [`find_one`] finds it (any namespace when `namespace` is `None`),
/// described.
pub fn describe(a: &Analysis, kind: &str, name: &str, namespace: Option<&str>) -> Result<String> {
    Ok(describe_object(a, find_one(a, kind, name, namespace)?))
}

/// What `describe` names: `KIND/NAME` (that object), `KIND NAME` (that object, else every
/// object whose name starts with NAME) or `KIND` alone (every object of the kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Describe<'a> {
    /// `KIND/NAME`: exactly that object.
    Exact(&'a str, &'a str),
    /// `KIND NAME`: that object, else the objects whose names start with NAME.
    NameOrPrefix(&'a str, &'a str),
    /// `KIND`: every object of the kind in scope.
    All(&'a str),
}

/// `describe`'s arguments as kubectl takes them: `KIND`, `KIND NAME` or `KIND/NAME`.
pub fn describe_args<'a>(kind: &'a str, name: Option<&'a str>) -> Result<Describe<'a>> {
    match (kind.split_once('/'), name) {
        (Some(_), Some(_)) => Err(Error::Usage(format!(
            "there is no need to give a name after {kind:?}: KIND/NAME names the object already"
        ))),
        (Some((k, n)), None) if !k.is_empty() && !n.is_empty() && !n.contains('/') => {
            Ok(Describe::Exact(k, n))
        }
        (Some(_), None) => Err(Error::Usage(format!("{kind:?}: expected KIND/NAME"))),
        (None, Some(n)) => Ok(Describe::NameOrPrefix(kind, n)),
        (None, None) => Ok(Describe::All(kind)),
    }
}

/// `sbdiag describe` as kubectl's: in the namespace `default` unless `-n` or `-A` says
/// otherwise; `KIND NAME` that names no object describes those whose names start with NAME
/// (each followed by a blank line), `KIND` alone every object of the kind (a blank line
/// between two); nothing found for `KIND` alone is kubectl's `No resources found` note.
pub fn describe_all(a: &Analysis, what: Describe<'_>, scope: &Scope) -> Result<Listing> {
    let (kind, name) = match what {
        Describe::Exact(k, n) | Describe::NameOrPrefix(k, n) => (k, Some(n)),
        Describe::All(k) => (k, None),
    };
    let types = resolve_kind(a, kind)?;
    let scope = Scope {
        with_aliases: kind.contains('.'),
        ..scope.clone()
    };
    let mut out = Listing::default();
    let exact = select(a, &types, name, &scope)?;
    if !exact.is_empty() {
        let texts: Vec<String> = exact.iter().map(|o| describe_object(a, o)).collect();
        out.text = texts.join("\n\n");
        return Ok(out);
    }
    let Some(name) = name else {
        out.note = Some(match scope.namespace() {
            Some(ns) if types.iter().any(|t| t.namespaced) => {
                format!("No resources found in {ns} namespace.")
            }
            _ => "No resources found".to_string(),
        });
        return Ok(out);
    };
    if let Describe::NameOrPrefix(..) = what {
        for o in select(a, &types, None, &scope)? {
            if o.key.name.starts_with(name) {
                out.text.push_str(&describe_object(a, o));
                out.text.push('\n');
            }
        }
        if !out.text.is_empty() {
            return Ok(out);
        }
    }
    let elsewhere: Vec<&str> = match scope.namespace() {
        Some(_) => select(
            a,
            &types,
            Some(name),
            &Scope {
                all: true,
                ..scope.clone()
            },
        )?
        .iter()
        .map(|o| o.key.namespace.as_str())
        .collect(),
        None => Vec::new(),
    };
    Err(Error::Usage(format!(
        "{kind} {name:?} not found{}{}",
        match scope.namespace() {
            Some(ns) if types.iter().any(|t| t.namespaced) => format!(" in namespace {ns}"),
            _ => String::new(),
        },
        if elsewhere.is_empty() {
            String::new()
        } else {
            format!(" (it is in {}: use -n)", elsewhere.join(", "))
        }
    )))
}

/// The description of one object.
fn describe_object(a: &Analysis, o: &Object) -> String {
    let mut s = String::new();
    let file = a.index.file_of(o).map(|f| f.path.as_str()).unwrap_or("");
    field(&mut s, "Name", &o.key.name);
    if !o.key.namespace.is_empty() {
        field(&mut s, "Namespace", &o.key.namespace);
    }
    field(&mut s, "Kind", kinds::qualified(&o.key.kind, &o.key.group));
    field(&mut s, "API version", o.api_version());
    let _ = writeln!(s, "Source:       {file}:{}-{}", o.line, o.end_line);
    let _ = writeln!(
        s,
        "Created:      {} ({} before capture)",
        o.meta.creation_timestamp.as_deref().unwrap_or("<unknown>"),
        age(a, o.meta.creation_timestamp.as_deref())
    );
    if let Some(d) = &o.meta.deletion_timestamp {
        let _ = writeln!(
            s,
            "Deleting:     since {d} ({} before capture)",
            age(a, Some(d))
        );
    }
    if let Some(g) = o.meta.generation {
        let obs = o
            .status
            .observed_generation
            .map(|x| x.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(s, "Generation:   {g} (observed {obs})");
    }
    let map = |s: &mut String, title: &str, m: &crate::model::StrMap| {
        let _ = write!(s, "{title:<14}");
        if m.is_empty() {
            let _ = writeln!(s, "<none>");
        }
        for (i, (k, v)) in m.iter().enumerate() {
            let v: String = if v.chars().count() > 100 {
                v.chars().take(97).chain("...".chars()).collect()
            } else {
                v.replace('\n', " ")
            };
            let pad = if i == 0 { "" } else { "              " };
            let _ = writeln!(s, "{pad}{k}={v}");
        }
    };
    map(&mut s, "Labels:", &o.meta.labels);
    map(&mut s, "Annotations:", &o.meta.annotations);
    if !o.meta.owner_references.is_empty() {
        let owners: Vec<String> = o
            .meta
            .owner_references
            .iter()
            .map(|r| format!("{}/{}", r.kind, r.name))
            .collect();
        field(&mut s, "Owners", owners.join(", "));
    }
    let fin = o.meta.finalizer_names();
    if !fin.is_empty() {
        field(&mut s, "Finalizers", fin.join(", "));
    }
    if let Some(p) = o.status.phase.as_ref().or(o.status.state.as_ref()) {
        let _ = writeln!(s, "Status:       {p}");
    }
    match a.index.view_of(o) {
        View::Pod(p) => {
            field(&mut s, "Node", p.node_name.as_deref().unwrap_or("<none>"));
            field(&mut s, "IP", p.pod_ip.as_deref().unwrap_or("<none>"));
            let _ = writeln!(s, "Containers:");
            for c in &p.containers {
                let st = p.container_statuses.iter().find(|x| x.name == c.name);
                let state = st
                    .map(|x| {
                        if let Some(w) = &x.state.waiting {
                            format!("Waiting ({})", w.reason.as_deref().unwrap_or(""))
                        } else if let Some(t) = &x.state.terminated {
                            format!(
                                "Terminated ({}, exit {})",
                                t.reason.as_deref().unwrap_or(""),
                                t.exit_code.unwrap_or(0)
                            )
                        } else if x.state.running.is_some() {
                            "Running".into()
                        } else {
                            "Unknown".into()
                        }
                    })
                    .unwrap_or_else(|| "no status".into());
                let _ = writeln!(
                    s,
                    "  {}: {} ready={} restarts={} image={}",
                    c.name,
                    state,
                    st.and_then(|x| x.ready).unwrap_or(false),
                    st.and_then(|x| x.restart_count).unwrap_or(0),
                    c.image
                );
                if let Some(last) = st.and_then(|x| x.last_state.terminated.as_ref()) {
                    let _ = writeln!(
                        s,
                        "    last terminated: {} exit {} at {}",
                        last.reason.as_deref().unwrap_or(""),
                        last.exit_code.unwrap_or(0),
                        last.finished_at.as_deref().unwrap_or("")
                    );
                }
            }
        }
        View::Workload(w) => {
            let _ = writeln!(
                s,
                "Replicas:     desired {} / ready {} / available {} / updated {}",
                opt(w.spec_replicas.or(w.desired_number_scheduled)),
                opt(w.ready_replicas.or(w.number_ready)),
                opt(w.available_replicas.or(w.number_available)),
                opt(w.updated_replicas.or(w.updated_number_scheduled))
            );
            for c in &w.containers {
                let _ = writeln!(s, "  container {}: {}", c.name, c.image);
            }
        }
        View::Node(n) => {
            field(
                &mut s,
                "Kubelet",
                n.kubelet_version.as_deref().unwrap_or(""),
            );
            field(&mut s, "OS image", n.os_image.as_deref().unwrap_or(""));
            field(
                &mut s,
                "Addresses",
                n.addresses
                    .iter()
                    .map(|x| format!("{}={}", x.kind, x.address))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            field(&mut s, "Unschedulable", n.unschedulable);
            for t in &n.taints {
                let _ = writeln!(
                    s,
                    "Taint:        {}={}:{}",
                    t.key,
                    t.value.as_deref().unwrap_or(""),
                    t.effect
                );
            }
        }
        View::Setting(st) => {
            field(&mut s, "Value", st.value.as_deref().unwrap_or("<unset>"));
            field(
                &mut s,
                "Default",
                st.default.as_deref().unwrap_or("<unset>"),
            );
        }
        _ => {}
    }
    if !o.status.conditions.is_empty() {
        let rows: Vec<Vec<String>> = o
            .status
            .conditions
            .iter()
            .map(|c| {
                vec![
                    c.kind.clone(),
                    c.status.clone(),
                    c.last_change()
                        .map(|t| age(a, Some(t)))
                        .unwrap_or_else(|| "-".into()),
                    c.reason.clone().unwrap_or_default(),
                    c.message.clone().unwrap_or_default().replace('\n', " "),
                ]
            })
            .collect();
        let _ = writeln!(s, "Conditions:");
        for l in table::render(
            &["  TYPE", "STATUS", "CHANGED", "REASON", "MESSAGE"],
            &rows
                .into_iter()
                .map(|mut r| {
                    if let Some(c) = r.first_mut() {
                        c.insert_str(0, "  ");
                    }
                    r
                })
                .collect::<Vec<_>>(),
        )
        .lines()
        {
            let _ = writeln!(s, "{l}");
        }
    }
    storage_section(a, o, &mut s);
    if (o.key.group.as_str(), o.key.kind.as_str()) == ("kubevirt.io", "VirtualMachine") {
        vm_findings_section(a, o, &mut s);
    }
    graph_section(a, o, &mut s);
    let related: Vec<_> = events(a, None, None)
        .into_iter()
        .filter(|(_, e)| {
            (!o.meta.uid.is_empty() && e.regarding.uid == o.meta.uid)
                || (*e.regarding.kind == *o.key.kind
                    && e.regarding.name == o.key.name
                    && *e.regarding.namespace == *o.key.namespace)
        })
        .collect();
    let _ = write!(s, "Events:");
    if related.is_empty() {
        let _ = writeln!(s, "       <none in the bundle>");
    } else {
        let _ = writeln!(s);
        let rows: Vec<Vec<String>> = related
            .iter()
            .map(|(_, e)| {
                let mut r = event_row(a, e);
                if let Some(c) = r.first_mut() {
                    c.insert_str(0, "  ");
                }
                r
            })
            .collect();
        s.push_str(&table::render(
            &["  LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            &rows,
        ));
    }
    s
}
