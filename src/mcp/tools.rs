//! The tools: each one's input (a serde struct whose JSON Schema schemars derives), its
//! description for a model, and its answer from the loaded bundles through the library (the
//! report's findings and incidents, `query::get`, `query::logs`, `query::graph`, `diff`).
//! Everything here is synchronous and reads only memory and the bundle: the server runs it on
//! a blocking thread.
use std::fmt::Write as _;

use rmcp::handler::server::common::schema_for_type;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::logfilter::{self, Filter};
use super::page::{self, Answer, inline};
use super::{Bundles, Loaded, Slot};
use crate::query::get::{self, Output, Scope};
use crate::query::logs::{self, LogRequest};
use crate::report::{CheckStatus, Finding, Severity};

/// A tool's failure: the message the model reads (`isError: true`).
pub type ToolResult = Result<Answer, String>;

/// `bundles`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundlesArgs {}

/// `incidents`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentsArgs {
    /// Which loaded bundle (name from `bundles`, or its path); may be omitted when only one is loaded.
    pub bundle: Option<String>,
    /// The `next_cursor` of the previous answer, for the next page.
    pub cursor: Option<String>,
    /// Incidents per page (default 200).
    pub limit: Option<usize>,
}

/// A severity threshold.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MinSeverity {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Everything.
    Info,
}

impl MinSeverity {
    fn admits(self, s: Severity) -> bool {
        s >= match self {
            MinSeverity::Error => Severity::Error,
            MinSeverity::Warning => Severity::Warning,
            MinSeverity::Info => Severity::Info,
        }
    }
}

/// `findings`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingsArgs {
    /// Which loaded bundle (name from `bundles`, or its path); may be omitted when only one is loaded.
    pub bundle: Option<String>,
    /// A rule id (`fleet.stale-status`), a family or prefix (`fleet`, `upgrade.precheck`), or
    /// one finding's full id.
    pub rule: Option<String>,
    /// Only findings at or above this severity.
    pub severity: Option<MinSeverity>,
    /// Only findings about objects of this kind (`ConfigMap`, `Node`; case-insensitive).
    pub kind: Option<String>,
    /// Only findings about objects in this namespace.
    pub namespace: Option<String>,
    /// Only findings about objects of this name.
    pub name: Option<String>,
    /// The `next_cursor` of the previous answer, for the next page.
    pub cursor: Option<String>,
    /// Findings per page (default 200; a page also stops at 30 KB).
    pub limit: Option<usize>,
}

/// `get`'s output.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GetOutput {
    /// kubectl's table.
    #[default]
    Table,
    /// The table with kubectl's wide columns.
    Wide,
    /// The objects as captured (YAML).
    Yaml,
    /// `kind.group/name` per line.
    Name,
}

/// `get`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetArgs {
    /// Which loaded bundle (name from `bundles`, or its path); may be omitted when only one is loaded.
    pub bundle: Option<String>,
    /// Kind, plural, short name or resource.group (`pods`, `po`, `ds`, `volumes.longhorn.io`,
    /// `managedcharts`), KIND/NAME, or `api-resources` for what the bundle holds.
    pub kind: String,
    /// One object's name.
    pub name: Option<String>,
    /// Namespace; omitted: all namespaces.
    pub namespace: Option<String>,
    /// Label selector (`app=x,tier!=y`).
    pub selector: Option<String>,
    /// table (default), wide, yaml or name.
    pub output: Option<GetOutput>,
    /// The `next_cursor` of the previous answer, for the next page.
    pub cursor: Option<String>,
    /// Lines per page (default 200; a page also stops at 30 KB).
    pub limit: Option<usize>,
}

/// `describe`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescribeArgs {
    /// Which loaded bundle (name from `bundles`, or its path); may be omitted when only one is loaded.
    pub bundle: Option<String>,
    /// Kind (as for `get`), or KIND/NAME (`po/virt-handler-8wnxm`) for exactly that object.
    pub kind: String,
    /// Object name; when no object has it, every object whose name starts with it. Omitted
    /// (and no KIND/NAME): every object of the kind.
    pub name: Option<String>,
    /// Namespace; omitted: all namespaces.
    pub namespace: Option<String>,
    /// The `next_cursor` of the previous answer, for the next page.
    pub cursor: Option<String>,
    /// Lines per page (default 200).
    pub limit: Option<usize>,
}

/// `events`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsArgs {
    /// Which loaded bundle (name from `bundles`, or its path); may be omitted when only one is loaded.
    pub bundle: Option<String>,
    /// Only events in this namespace.
    pub namespace: Option<String>,
    /// Only events about this object: KIND/NAME (`Pod/virt-launcher-x`) or NAME.
    pub object: Option<String>,
    /// Only events of this type: `Warning` or `Normal`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The `next_cursor` of the previous answer, for the next page.
    pub cursor: Option<String>,
    /// Events per page (default 200).
    pub limit: Option<usize>,
}

/// `logs`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsArgs {
    /// Which loaded bundle (name from `bundles`, or its path); may be omitted when only one is loaded.
    pub bundle: Option<String>,
    /// Pod name, or a node name for the node's own logs.
    pub pod: String,
    /// The pod's namespace (needed only when the name exists in several).
    pub namespace: Option<String>,
    /// Container; for a node, the log (`kernel`, `rke2-server`, `kubelet`, …). Omitted: the
    /// pod's first container (the answer says which).
    pub container: Option<String>,
    /// The previous container instance (`.log.1`) or the previous boot.
    #[serde(default)]
    pub previous: bool,
    /// Only lines matching this regular expression (Rust regex syntax; `(?i)` for any case).
    pub grep: Option<String>,
    /// Only lines at or after this time: a duration before the capture (`2h`, `30m`, `1d`) or
    /// an RFC 3339 time.
    pub since: Option<String>,
    /// Only lines at or before this time: a duration before the capture or an RFC 3339 time.
    pub until: Option<String>,
    /// Only the last N of the lines the other filters keep.
    pub tail: Option<usize>,
    /// The `next_cursor` of the previous answer, for the next page.
    pub cursor: Option<String>,
    /// Lines per page (default 200; a page also stops at 30 KB).
    pub limit: Option<usize>,
}

/// `graph`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphArgs {
    /// Which loaded bundle (name from `bundles`, or its path); may be omitted when only one is loaded.
    pub bundle: Option<String>,
    /// KIND/NAME (`ds/harvester-whereabouts`, `managedchart/harvester`, `node/node1`).
    pub object: String,
    /// Namespace (needed only when the name exists in several).
    pub namespace: Option<String>,
    /// How many edges away to go (default 3, at most 6).
    pub depth: Option<usize>,
    /// The `next_cursor` of the previous answer, for the next page.
    pub cursor: Option<String>,
    /// Lines per page (default 200).
    pub limit: Option<usize>,
}

/// `coverage`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageArgs {
    /// Which loaded bundle (name from `bundles`, or its path); may be omitted when only one is loaded.
    pub bundle: Option<String>,
    /// Only gaps and checks of rules with this id or prefix (`upgrade.precheck`).
    pub rule: Option<String>,
    /// The `next_cursor` of the previous answer, for the next page.
    pub cursor: Option<String>,
    /// Items per page (default 200).
    pub limit: Option<usize>,
}

/// `diff`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiffArgs {
    /// One bundle (name or path); with `new`, both may be omitted when exactly two are loaded.
    pub old: Option<String>,
    /// The other bundle of the same cluster (the two are ordered by capture time).
    pub new: Option<String>,
    /// Compare bundles of different clusters anyway.
    #[serde(default)]
    pub force: bool,
    /// The `next_cursor` of the previous answer, for the next page.
    pub cursor: Option<String>,
    /// Lines per page (default 200).
    pub limit: Option<usize>,
}

fn tool<T: JsonSchema + 'static>(
    name: &'static str,
    description: impl Into<std::borrow::Cow<'static, str>>,
) -> Tool {
    // The tool's description says what the struct's doc comment would: keep the schema to
    // the arguments, with `properties` even when there are none (some clients require it).
    let mut schema = schema_for_type::<T>().as_ref().clone();
    schema.remove("title");
    schema.remove("description");
    schema
        .entry("properties")
        .or_insert_with(|| Value::Object(JsonObject::new()));
    let mut t = Tool::new(name, description, schema);
    t.annotations = Some(ToolAnnotations::from_raw(
        None,
        Some(true),
        Some(false),
        Some(true),
        Some(false),
    ));
    t
}

const PAGED: &str = " Answers are paged (200 items or 30 KB): a cut answer says so and gives a `next_cursor`; pass it back as `cursor` with the same arguments for the rest.";

/// Every tool, with its input schema and description.
pub fn list() -> Vec<Tool> {
    // Owned, not leaked: every server (a test, the fuzz target) builds its own list.
    let d = |s: &str| format!("{s}{PAGED}");
    vec![
        tool::<BundlesArgs>(
            "bundles",
            "Lists the support bundles this server loaded: name (pass it as `bundle` to the other tools), Harvester and Kubernetes versions, capture time, nodes, files, objects, findings by severity and incidents. Call it first when you do not know the bundle names or need the capture time (every age and `since` is relative to it).",
        ),
        tool::<IncidentsArgs>(
            "incidents",
            d(
                "The diagnosis, worst first: each incident is one root cause (a finding) with the symptoms it explains folded under it, its impact and remediation, and file:line evidence. Start here to answer 'what is wrong with this cluster'; then use `findings` for the details of one cause.",
            ),
        ),
        tool::<FindingsArgs>(
            "findings",
            d(
                "Every finding of the analysis (errors, warnings, informational), each with its rule, severity, the objects concerned, a summary, file:line evidence with the quoted excerpt of the bundle, the remediation and the incident it belongs to. Filter by rule id or family (`fleet.stale-status`, `upgrade`), minimum severity, or object kind/namespace/name. Use it to get the evidence behind an incident, or to check whether a given object has problems.",
            ),
        ),
        tool::<GetArgs>(
            "get",
            d(
                "Lists objects of the captured cluster like `kubectl get` (ages relative to the capture time): a table, the wide table, the names, or the YAML as captured (with a name for one object). All namespaces unless `namespace` is given; `kind: api-resources` lists what the bundle holds. Use it to look at the state of resources the findings mention, or resources no rule covers.",
            ),
        ),
        tool::<DescribeArgs>(
            "describe",
            d(
                "One object like `kubectl describe`: where it is in the bundle (file:line), metadata, status and conditions, its related events, and its neighbours in the status graph (what deploys it, what it runs on, what Fleet claims about it).",
            ),
        ),
        tool::<EventsArgs>(
            "events",
            d(
                "Kubernetes events of the capture, merged across API groups, de-duplicated, oldest first, each with its file:line. Filter by namespace, involved object, or type (`Warning`). Use it to see what happened to an object before the capture.",
            ),
        ),
        tool::<LogsArgs>(
            "logs",
            d(
                "Lines of one pod container's log (current or previous instance), or of a node's own logs (kernel, rke2-server, kubelet, …), each prefixed with its line number in the file named in the answer, so they can be cited. Filter with `grep` (regex), `since`/`until` (relative to the capture, e.g. `2h`), and `tail`. Never returns a whole large file: narrow with grep or a time window rather than paging through thousands of lines.",
            ),
        ),
        tool::<GraphArgs>(
            "graph",
            d(
                "An object's neighbourhood in the status graph as an indented tree: what it hangs from (owners, the chart and Fleet bundle that deploy it), what it deploys, owns, selects, calls, stores on and runs on, each with its observed status and Fleet's claim, and how many objects depend on it. Use it to follow a problem from a symptom to its cause or to see the blast radius.",
            ),
        ),
        tool::<CoverageArgs>(
            "coverage",
            d(
                "What the bundle lacks and what the analysis could therefore not check: missing resource lists and logs (with why each matters and the rules it affects), parse errors, and every check reported `not_evaluated` with its reason. Use it before concluding that something is fine: a check that could not run is not a pass.",
            ),
        ),
        tool::<DiffArgs>(
            "diff",
            d(
                "What changed between two loaded bundles of the same cluster (ordered by capture time): objects added and removed, status changes, findings that appeared or cleared, Fleet and upgrade transitions. Needs the server started with two bundles or more.",
            ),
        ),
    ]
}

fn args<T: DeserializeOwned>(tool: &str, a: Option<JsonObject>) -> Result<T, String> {
    serde_json::from_value(Value::Object(a.unwrap_or_default()))
        .map_err(|e| format!("invalid arguments for `{tool}`: {e}"))
}

/// Runs tool `name` with `a` over `b`.
pub fn call(name: &str, a: Option<JsonObject>, b: &Bundles) -> ToolResult {
    match name {
        "bundles" => {
            let _: BundlesArgs = args(name, a)?;
            bundles(b)
        }
        "incidents" => incidents(b, args(name, a)?),
        "findings" => findings(b, args(name, a)?),
        "get" => get_tool(b, args(name, a)?),
        "describe" => describe(b, args(name, a)?),
        "events" => events(b, args(name, a)?),
        "logs" => logs_tool(b, args(name, a)?),
        "graph" => graph(b, args(name, a)?),
        "coverage" => coverage(b, args(name, a)?),
        "diff" => diff(b, args(name, a)?),
        other => Err(format!(
            "no tool {other:?}; the tools are: {}",
            list()
                .iter()
                .map(|t| t.name.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A library message in the tools' words: the CLI's flags become the tools' arguments.
fn cli_words(msg: &str) -> String {
    msg.replace(
        "`sbdiag get api-resources -b BUNDLE`",
        "`get` with kind `api-resources`",
    )
    .replace("; use -n", "; pass `namespace`")
    .replace("with -c", "with `container`")
    .replace("pass --force", "pass \"force\": true")
}

/// The bundle a call names.
fn pick<'a>(b: &'a Bundles, name: Option<&str>) -> Result<&'a Loaded, String> {
    let names = || {
        b.slots
            .iter()
            .map(|s| s.name().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // A model may copy a name with the code span it was shown in.
    let slot = match name
        .map(|n| n.trim().trim_matches('`'))
        .filter(|n| !n.is_empty())
    {
        None => match b.slots.as_slice() {
            [one] => one,
            _ => {
                return Err(format!(
                    "several bundles are loaded: pass `bundle`, one of: {}",
                    names()
                ));
            }
        },
        Some(n) => {
            let by_name: Vec<&Slot> = b.slots.iter().filter(|s| s.name() == n).collect();
            match by_name.as_slice() {
                [one] => *one,
                [] => b
                    .slots
                    .iter()
                    .find(|s| s.path().to_string_lossy() == n)
                    .ok_or_else(|| {
                        format!(
                            "no bundle {n:?} is loaded; the loaded ones are: {}",
                            names()
                        )
                    })?,
                _ => {
                    return Err(format!(
                        "several loaded bundles are named {n:?}: pass the path instead ({})",
                        by_name
                            .iter()
                            .map(|s| s.path().display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
    };
    match slot {
        Slot::Ready(l) => Ok(l),
        Slot::Failed { name, error, .. } => {
            Err(format!("bundle {name} could not be loaded: {error}"))
        }
    }
}

/// `text` split into lines, paged.
fn lines_answer(
    tool: &str,
    what: &str,
    title: &str,
    text: &str,
    header_lines: usize,
    (cursor, limit): (Option<&str>, Option<usize>),
    extra: Value,
) -> ToolResult {
    let mut all: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<String> = all.drain(..header_lines.min(all.len())).collect();
    let start = page::parse_cursor(cursor, all.len())?;
    let p = page::page(&all, start, page::parse_limit(limit)?);
    let header = (!header.is_empty()).then(|| header.join("\n"));
    Ok(page::answer(
        tool,
        title,
        what,
        header.as_deref(),
        &p,
        extra,
    ))
}

fn bundles(b: &Bundles) -> ToolResult {
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for s in &b.slots {
        match s {
            Slot::Ready(l) => {
                let r = &l.report;
                let count = |sev: Severity| r.findings.iter().filter(|f| f.severity == sev).count();
                let (e, w, i) = (
                    count(Severity::Error),
                    count(Severity::Warning),
                    count(Severity::Info),
                );
                rows.push(vec![
                    l.name.clone(),
                    r.bundle.harvester_version.clone(),
                    r.bundle
                        .created_at
                        .clone()
                        .unwrap_or_else(|| "unknown".into()),
                    r.bundle.nodes.to_string(),
                    r.bundle.files.to_string(),
                    r.bundle.objects.to_string(),
                    format!("{e}/{w}/{i}"),
                    r.incidents.len().to_string(),
                    l.path.display().to_string(),
                ]);
                items.push(json!({
                    "name": l.name,
                    "path": l.path.display().to_string(),
                    "harvester_version": r.bundle.harvester_version,
                    "kubernetes_version": r.bundle.kubernetes_version,
                    "cluster_id": r.bundle.cluster_id,
                    "created_at": r.bundle.created_at,
                    "nodes": r.bundle.nodes,
                    "files": r.bundle.files,
                    "objects": r.bundle.objects,
                    "findings": {"error": e, "warning": w, "info": i},
                    "incidents": r.incidents.len(),
                    "headline": r.verdict.headline,
                }));
            }
            Slot::Failed { name, path, error } => {
                rows.push(vec![
                    name.clone(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    format!("{} (not loaded: {error})", path.display()),
                ]);
                items.push(
                    json!({"name": name, "path": path.display().to_string(), "error": error}),
                );
            }
        }
    }
    let table = crate::query::table::render(
        &[
            "NAME",
            "HARVESTER",
            "CAPTURED",
            "NODES",
            "FILES",
            "OBJECTS",
            "FINDINGS E/W/I",
            "INCIDENTS",
            "PATH",
        ],
        &rows,
    );
    let mut lines: Vec<String> = table.lines().map(str::to_owned).collect();
    let header = if lines.is_empty() {
        String::new()
    } else {
        lines.remove(0)
    };
    for (s, line) in b.slots.iter().zip(lines.iter_mut()) {
        if let Slot::Ready(l) = s {
            let _ = write!(line, "\n  verdict: {}", l.report.verdict.headline);
        }
    }
    let p = page::page(&lines, 0, page::MAX_LIMIT);
    Ok(page::answer(
        "bundles",
        &format!("{} bundle(s) loaded", b.slots.len()),
        "bundles",
        Some(&header),
        &p,
        json!({ "bundles": items }),
    ))
}

/// `Kind ns/name` of an object reference.
fn object_name(o: &crate::report::ObjectRef) -> String {
    if o.namespace.is_empty() {
        format!("{} {}", o.kind, o.name)
    } else {
        format!("{} {}/{}", o.kind, o.namespace, o.name)
    }
}

fn indent(s: &str, by: &str) -> String {
    s.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn location(f: &Finding) -> String {
    f.evidence
        .first()
        .map(|e| format!("{}:{}", e.file, e.line))
        .unwrap_or_else(|| "no file".into())
}

/// Lines of an evidence excerpt shown per evidence (the rest is one `get`/`logs` away).
const EXCERPT_LINES: usize = 15;
/// Bytes of one excerpt line shown.
const EXCERPT_WIDTH: usize = 300;

fn finding_block(f: &Finding) -> String {
    let mut s = format!("[{}] {}\n", f.severity.as_str(), f.title);
    let _ = writeln!(s, "  id: {}", f.id);
    if !f.objects.is_empty() {
        let _ = writeln!(
            s,
            "  objects: {}",
            f.objects
                .iter()
                .map(object_name)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !f.summary.is_empty() {
        let _ = writeln!(s, "  summary:\n{}", indent(&f.summary, "    "));
    }
    if !f.evidence.is_empty() {
        let _ = writeln!(s, "  evidence:");
        for e in &f.evidence {
            let range = if e.end_line > e.line {
                format!("{}-{}", e.line, e.end_line)
            } else {
                e.line.to_string()
            };
            let _ = writeln!(s, "    {}:{range}", e.file);
            let lines: Vec<&str> = e.excerpt.lines().collect();
            for l in lines.iter().take(EXCERPT_LINES) {
                let mut end = EXCERPT_WIDTH.min(l.len());
                while !l.is_char_boundary(end) {
                    end -= 1;
                }
                let cut = if end < l.len() { " […]" } else { "" };
                let _ = writeln!(s, "      | {}{cut}", l.get(..end).unwrap_or_default());
            }
            if lines.len() > EXCERPT_LINES {
                let _ = writeln!(
                    s,
                    "      | […{} more excerpt lines in the file]",
                    lines.len() - EXCERPT_LINES
                );
            }
        }
    }
    if !f.remediation.is_empty() {
        let _ = writeln!(s, "  remediation:\n{}", indent(&f.remediation, "    "));
    }
    if !f.references.is_empty() {
        let _ = writeln!(s, "  references: {}", f.references.join(", "));
    }
    if let Some(i) = &f.incident {
        let _ = writeln!(s, "  incident: {i}");
    }
    s
}

fn finding_json(f: &Finding) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("graph");
    }
    v
}

fn incidents(b: &Bundles, a: IncidentsArgs) -> ToolResult {
    let l = pick(b, a.bundle.as_deref())?;
    let r = &l.report;
    let by_id = |id: &str| r.findings.iter().find(|f| f.id == id);
    let mut items = Vec::new();
    for (n, i) in r.incidents.iter().enumerate() {
        let mut s = format!("{}. [{}] {}\n", n + 1, i.severity.as_str(), i.title);
        let _ = writeln!(s, "  id: {}", i.id);
        if !i.impact.is_empty() {
            let _ = writeln!(s, "  impact: {}", i.impact);
        }
        match by_id(&i.cause) {
            Some(f) => {
                let _ = writeln!(
                    s,
                    "  cause: [{}] {}\n    finding {} at {}",
                    f.severity.as_str(),
                    f.title,
                    f.id,
                    location(f)
                );
            }
            None => {
                let _ = writeln!(s, "  cause: {}", i.cause);
            }
        }
        if !i.effects.is_empty() {
            let _ = writeln!(s, "  symptoms it explains ({}):", i.effects.len());
            for e in &i.effects {
                match by_id(e) {
                    Some(f) => {
                        let _ = writeln!(
                            s,
                            "    - [{}] {} (finding {} at {})",
                            f.severity.as_str(),
                            f.title,
                            f.id,
                            location(f)
                        );
                    }
                    None => {
                        let _ = writeln!(s, "    - {e}");
                    }
                }
            }
        }
        if !i.remediation.is_empty() {
            let _ = writeln!(s, "  remediation:\n{}", indent(&i.remediation, "    "));
        }
        items.push(s);
    }
    let start = page::parse_cursor(a.cursor.as_deref(), items.len())?;
    let p = page::page(&items, start, page::parse_limit(a.limit)?);
    let shown: Vec<Value> = r
        .incidents
        .iter()
        .skip(p.from)
        .take(p.to - p.from)
        .map(|i| {
            let mut v = serde_json::to_value(i).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.remove("graph");
            }
            v
        })
        .collect();
    let header = format!("verdict: {}", r.verdict.headline);
    Ok(page::answer(
        "incidents",
        &format!(
            "Incidents of bundle {} (root causes, worst first; use `findings` with a finding id for its full evidence)",
            inline(&l.name)
        ),
        "incidents",
        Some(&header),
        &p,
        json!({"bundle": l.name, "incidents": shown}),
    ))
}

fn rule_matches(filter: &str, f: &Finding) -> bool {
    let want = filter.trim().trim_end_matches('.');
    f.id == filter.trim()
        || f.rule == want
        || f.rule
            .strip_prefix(want)
            .is_some_and(|rest| rest.starts_with('.'))
}

fn findings(b: &Bundles, a: FindingsArgs) -> ToolResult {
    let l = pick(b, a.bundle.as_deref())?;
    let r = &l.report;
    let about = |f: &Finding| {
        (a.kind.is_none() && a.namespace.is_none() && a.name.is_none())
            || f.objects.iter().any(|o| {
                a.kind
                    .as_deref()
                    .is_none_or(|k| o.kind.eq_ignore_ascii_case(k.trim()))
                    && a.namespace.as_deref().is_none_or(|n| o.namespace == n)
                    && a.name.as_deref().is_none_or(|n| o.name == n)
            })
    };
    if let Some(rule) = &a.rule
        && !r.findings.iter().any(|f| rule_matches(rule, f))
        && !r.rules.iter().any(|d| {
            let want = rule.trim().trim_end_matches('.');
            d.id == want || d.id.starts_with(&format!("{want}."))
        })
    {
        return Err(format!(
            "no rule or finding id matches {rule:?}; rule ids look like fleet.stale-status, families like fleet or upgrade.precheck (the `rules` of the report list them all)"
        ));
    }
    let kept: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| a.rule.as_deref().is_none_or(|x| rule_matches(x, f)))
        .filter(|f| a.severity.is_none_or(|s| s.admits(f.severity)))
        .filter(|f| about(f))
        .collect();
    let items: Vec<String> = kept.iter().map(|f| finding_block(f)).collect();
    let start = page::parse_cursor(a.cursor.as_deref(), items.len())?;
    let p = page::page(&items, start, page::parse_limit(a.limit)?);
    let shown: Vec<Value> = kept
        .iter()
        .skip(p.from)
        .take(p.to - p.from)
        .map(|f| finding_json(f))
        .collect();
    let mut filters = Vec::new();
    if let Some(x) = &a.rule {
        filters.push(format!("rule {}", inline(x)));
    }
    if let Some(s) = a.severity {
        filters.push(format!("severity ≥ {s:?}").to_lowercase());
    }
    for (what, v) in [
        ("kind", &a.kind),
        ("namespace", &a.namespace),
        ("name", &a.name),
    ] {
        if let Some(v) = v {
            filters.push(format!("{what} {}", inline(v)));
        }
    }
    Ok(page::answer(
        "findings",
        &format!(
            "Findings of bundle {}{} ({} of {} match)",
            inline(&l.name),
            if filters.is_empty() {
                String::new()
            } else {
                format!(", {}", filters.join(", "))
            },
            kept.len(),
            r.findings.len()
        ),
        "findings",
        None,
        &p,
        json!({"bundle": l.name, "findings": shown}),
    ))
}

fn get_tool(b: &Bundles, a: GetArgs) -> ToolResult {
    let l = pick(b, a.bundle.as_deref())?;
    let output = a.output.unwrap_or_default();
    let scope = Scope {
        namespace: a.namespace.clone(),
        all: a.namespace.is_none(),
        selector: a.selector.clone(),
        with_aliases: false,
    };
    let listing = get::get_all(
        &l.analysis,
        &a.kind,
        a.name.as_deref(),
        &scope,
        match output {
            GetOutput::Table => Output::Table,
            GetOutput::Wide => Output::Wide,
            GetOutput::Yaml => Output::Yaml,
            GetOutput::Name => Output::Name,
        },
        false,
        &get::Print::default(),
    )
    .map_err(|e| cli_words(&e.to_string()))?;
    let table = matches!(output, GetOutput::Table | GetOutput::Wide) || a.kind == "api-resources";
    let title = format!(
        "get {}{} in bundle {}{}{}",
        inline(&a.kind),
        a.name
            .as_deref()
            .map(|n| format!(" {}", inline(n)))
            .unwrap_or_default(),
        inline(&l.name),
        match &a.namespace {
            Some(n) => format!(", namespace {}", inline(n)),
            None => ", all namespaces".into(),
        },
        listing
            .note
            .as_deref()
            .map(|n| format!(" — {}", inline(n)))
            .unwrap_or_default()
    );
    lines_answer(
        "get",
        "lines",
        &title,
        &listing.text,
        usize::from(table && !listing.text.is_empty()),
        (a.cursor.as_deref(), a.limit),
        json!({"bundle": l.name}),
    )
}

fn describe(b: &Bundles, a: DescribeArgs) -> ToolResult {
    let l = pick(b, a.bundle.as_deref())?;
    let what =
        get::describe_args(&a.kind, a.name.as_deref()).map_err(|e| cli_words(&e.to_string()))?;
    let scope = Scope {
        namespace: a.namespace.clone(),
        all: a.namespace.is_none(),
        selector: None,
        with_aliases: false,
    };
    let listing =
        get::describe_all(&l.analysis, what, &scope).map_err(|e| cli_words(&e.to_string()))?;
    let title = format!(
        "describe {}{} in bundle {}{}{}",
        inline(&a.kind),
        a.name
            .as_deref()
            .map(|n| format!(" {}", inline(n)))
            .unwrap_or_default(),
        inline(&l.name),
        match &a.namespace {
            Some(n) => format!(", namespace {}", inline(n)),
            None => ", all namespaces".into(),
        },
        listing
            .note
            .as_deref()
            .map(|n| format!(" — {}", inline(n)))
            .unwrap_or_default()
    );
    lines_answer(
        "describe",
        "lines",
        &title,
        &listing.text,
        0,
        (a.cursor.as_deref(), a.limit),
        json!({"bundle": l.name}),
    )
}

fn events(b: &Bundles, a: EventsArgs) -> ToolResult {
    let l = pick(b, a.bundle.as_deref())?;
    let an = &l.analysis;
    if let Some(t) = &a.kind
        && !["warning", "normal"].contains(&t.to_ascii_lowercase().as_str())
    {
        return Err(format!("type {t:?}: events are of type Warning or Normal"));
    }
    let (want_kind, want_name) = match a.object.as_deref().map(str::trim) {
        None | Some("") => (None, None),
        Some(o) => match o.split_once('/') {
            Some((k, n)) if !k.is_empty() && !n.is_empty() => (Some(k), Some(n)),
            Some(_) => return Err(format!("object {o:?}: expected KIND/NAME or NAME")),
            None => (None, Some(o)),
        },
    };
    let evs: Vec<_> = get::events(an, a.namespace.as_deref(), a.kind.as_deref())
        .into_iter()
        .filter(|(_, e)| {
            want_kind.is_none_or(|k| e.regarding.kind.eq_ignore_ascii_case(k))
                && want_name.is_none_or(|n| e.regarding.name == n)
        })
        .collect();
    let rows: Vec<Vec<String>> = evs
        .iter()
        .map(|(o, e)| {
            let mut r = vec![o.key.namespace.clone()];
            r.extend(crate::query::columns::event_cells(an.bundle.created_at, e));
            let file = an
                .index
                .file_of(o)
                .map(|f| f.path.as_str())
                .unwrap_or_default();
            r.push(format!("{file}:{}", o.line));
            r
        })
        .collect();
    let text = if rows.is_empty() {
        String::new()
    } else {
        crate::query::table::render(
            &[
                "NAMESPACE",
                "LAST SEEN",
                "TYPE",
                "REASON",
                "OBJECT",
                "MESSAGE",
                "SOURCE",
            ],
            &rows,
        )
    };
    let mut filters = Vec::new();
    for (what, v) in [
        ("namespace", &a.namespace),
        ("object", &a.object),
        ("type", &a.kind),
    ] {
        if let Some(v) = v {
            filters.push(format!("{what} {}", inline(v)));
        }
    }
    lines_answer(
        "events",
        "events",
        &format!(
            "Events of bundle {}{} (LAST SEEN is the age at capture time, oldest first)",
            inline(&l.name),
            if filters.is_empty() {
                String::new()
            } else {
                format!(", {}", filters.join(", "))
            }
        ),
        &text,
        usize::from(!text.is_empty()),
        (a.cursor.as_deref(), a.limit),
        json!({"bundle": l.name}),
    )
    .map(|mut ans| {
        if let Some(o) = ans.structured.as_object_mut() {
            // Paged over table lines; one line per event.
            o.insert("events".into(), json!(evs.len()));
        }
        ans
    })
}

fn logs_tool(b: &Bundles, a: LogsArgs) -> ToolResult {
    let l = pick(b, a.bundle.as_deref())?;
    let capture = l.analysis.bundle.created_at;
    let text = logs::logs(
        &l.analysis,
        &LogRequest {
            target: a.pod.clone(),
            namespace: a.namespace.clone(),
            container: a.container.clone(),
            previous: a.previous,
            grep: None,
            tail: None,
        },
    )
    .map_err(|e| cli_words(&e.to_string()))?;
    let kept = logfilter::apply(
        &text.text,
        &Filter {
            grep: a.grep.clone(),
            since: a.since.clone(),
            until: a.until.clone(),
            tail: a.tail,
        },
        capture,
    )?;
    let mut title = format!(
        "Log {} ({} lines in the file; each line below starts with its line number)",
        inline(&text.source),
        kept.file_lines
    );
    for n in &text.notes {
        let _ = write!(title, "\nnote: {}", inline(n));
    }
    // The time window's note is the server's own words (times it formatted).
    for n in &kept.notes {
        let _ = write!(title, "\nnote: {n}");
    }
    let start = page::parse_cursor(a.cursor.as_deref(), kept.lines.len())?;
    let p = page::page(&kept.lines, start, page::parse_limit(a.limit)?);
    let mut ans = page::answer(
        "logs",
        &title,
        "lines",
        None,
        &p,
        json!({"bundle": l.name, "source": text.source, "file_lines": kept.file_lines}),
    );
    if p.total == 0 && kept.file_lines > 0 {
        ans.text
            .push_str("No line matched: widen `grep` or the time window.\n");
    }
    Ok(ans)
}

fn graph(b: &Bundles, a: GraphArgs) -> ToolResult {
    let l = pick(b, a.bundle.as_deref())?;
    let Some((kind, name)) = a.object.split_once('/') else {
        return Err(format!(
            "object {:?}: expected KIND/NAME (e.g. ds/harvester-whereabouts)",
            a.object
        ));
    };
    let depth = a.depth.unwrap_or(3);
    if depth > 6 {
        return Err(format!("depth {depth} is above the maximum of 6"));
    }
    let text = crate::query::graph::render(
        &l.analysis,
        kind,
        name,
        a.namespace.as_deref(),
        depth,
        crate::query::graph::Format::Text,
    )
    .map_err(|e| cli_words(&e.to_string()))?;
    lines_answer(
        "graph",
        "lines",
        &format!(
            "Status graph around {} in bundle {} (depth {depth})",
            inline(&a.object),
            inline(&l.name)
        ),
        &text,
        0,
        (a.cursor.as_deref(), a.limit),
        json!({"bundle": l.name}),
    )
}

fn coverage(b: &Bundles, a: CoverageArgs) -> ToolResult {
    let l = pick(b, a.bundle.as_deref())?;
    let r = &l.report;
    let c = &r.coverage;
    let want = |rule: &str| {
        a.rule.as_deref().is_none_or(|x| {
            let x = x.trim().trim_end_matches('.');
            rule == x || rule.starts_with(&format!("{x}."))
        })
    };
    let mut items = Vec::new();
    for g in c.missing.iter().filter(|g| want(&g.rule)) {
        let mut s = format!("gap [{}] {}\n  why: {}\n", g.level.as_str(), g.what, g.why);
        if !g.rule.is_empty() {
            let _ = writeln!(s, "  rule: {}", g.rule);
        }
        for e in &g.evidence {
            let _ = writeln!(s, "  evidence: {}:{}", e.file, e.line);
        }
        if !g.fix.is_empty() {
            let _ = writeln!(s, "  fix: {}", g.fix);
        }
        items.push(s);
    }
    if a.rule.is_none() {
        for e in &c.parse_errors {
            items.push(format!("parse error {}:{}: {}", e.file, e.line, e.error));
        }
    }
    for ch in r
        .checks
        .iter()
        .filter(|ch| ch.status == CheckStatus::NotEvaluated && want(&ch.rule))
    {
        items.push(format!(
            "not evaluated: {}{}\n  reason: {}",
            ch.rule,
            ch.check
                .as_deref()
                .map(|x| format!(" {x}"))
                .unwrap_or_default(),
            ch.reason
        ));
    }
    let col = &c.collected;
    let header = format!(
        "collected: {} resource lists, {} namespaces, {} pod logs ({} previous), node bundles: {}; collection errors: {}",
        col.resource_lists,
        col.namespaces.len(),
        col.pod_logs,
        col.previous_pod_logs,
        if col.node_bundles.is_empty() {
            "none".to_string()
        } else {
            col.node_bundles.join(", ")
        },
        c.collection_errors
    );
    let start = page::parse_cursor(a.cursor.as_deref(), items.len())?;
    let p = page::page(&items, start, page::parse_limit(a.limit)?);
    let not_evaluated = r
        .checks
        .iter()
        .filter(|ch| ch.status == CheckStatus::NotEvaluated)
        .count();
    Ok(page::answer(
        "coverage",
        &format!(
            "Coverage of bundle {}: {} gap(s), {} parse error(s), {} check(s) not evaluated",
            inline(&l.name),
            c.missing.len(),
            c.parse_errors.len(),
            not_evaluated
        ),
        "items",
        Some(&header),
        &p,
        json!({"bundle": l.name, "gaps": c.missing.len(), "parse_errors": c.parse_errors.len(), "not_evaluated": not_evaluated}),
    ))
}

fn diff(b: &Bundles, a: DiffArgs) -> ToolResult {
    let ready: Vec<&Loaded> = b
        .slots
        .iter()
        .filter_map(|s| match s {
            Slot::Ready(l) => Some(l.as_ref()),
            Slot::Failed { .. } => None,
        })
        .collect();
    let (old, new) = match (a.old.as_deref(), a.new.as_deref()) {
        (Some(o), Some(n)) => (pick(b, Some(o))?, pick(b, Some(n))?),
        (None, None) if b.slots.len() == 2 => match ready.as_slice() {
            [x, y] => (*x, *y),
            _ => return Err("one of the two bundles could not be loaded (see `bundles`)".into()),
        },
        (None, None) => {
            return Err(format!(
                "diff compares two bundles, and {} {} loaded: start the server with two bundles of one cluster (`sbdiag mcp OLD NEW`), or pass `old` and `new`",
                b.slots.len(),
                if b.slots.len() == 1 { "is" } else { "are" }
            ));
        }
        _ => {
            return Err(
                "pass both `old` and `new`, or neither when exactly two bundles are loaded".into(),
            );
        }
    };
    if std::ptr::eq(old, new) {
        return Err(format!(
            "`old` and `new` are the same bundle ({}): pass two different ones",
            old.name
        ));
    }
    let first = crate::diff::Snapshot::take(&old.analysis, &old.report);
    let second = crate::diff::Snapshot::take(&new.analysis, &new.report);
    let d = crate::diff::compare(first, second, a.force).map_err(|e| cli_words(&e.to_string()))?;
    let text = crate::diff::render::text(&d);
    lines_answer(
        "diff",
        "lines",
        &format!(
            "What changed between bundles {} and {}",
            inline(&old.name),
            inline(&new.name)
        ),
        &text,
        0,
        (a.cursor.as_deref(), a.limit),
        json!({"old": old.name, "new": new.name}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn failed(name: &str, path: &str) -> Slot {
        Slot::Failed {
            name: name.into(),
            path: PathBuf::from(path),
            error: "not a support bundle".into(),
        }
    }

    fn obj(v: Value) -> Option<JsonObject> {
        v.as_object().cloned()
    }

    fn sample() -> Bundles {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/fleet-stale-v1.4.0");
        let l = Loaded::load(&dir, &crate::archive::Limits::default(), &|_, _| {}).unwrap();
        Bundles {
            slots: vec![Slot::Ready(Box::new(l))],
        }
    }

    #[test]
    fn the_bundle_is_chosen_by_name_or_path() {
        let b = Bundles {
            slots: vec![
                failed("a", "/x/a.zip"),
                failed("b", "/x/b.zip"),
                failed("b", "/y/b.tgz"),
            ],
        };
        assert!(
            pick(&b, None)
                .err()
                .unwrap()
                .contains("several bundles are loaded: pass `bundle`, one of: a, b, b")
        );
        assert!(
            pick(&b, Some("c"))
                .err()
                .unwrap()
                .contains("no bundle \"c\" is loaded")
        );
        assert!(
            pick(&b, Some("b"))
                .err()
                .unwrap()
                .contains("pass the path instead (/x/b.zip, /y/b.tgz)")
        );
        // Found, by name (a code span's backticks ignored) or by path, but not loaded.
        for n in ["a", "`a`", "/x/a.zip"] {
            let e = pick(&b, Some(n)).err().unwrap();
            assert_eq!(e, "bundle a could not be loaded: not a support bundle");
        }
        let one = Bundles {
            slots: vec![failed("a", "/x/a.zip")],
        };
        assert!(
            pick(&one, None)
                .err()
                .unwrap()
                .starts_with("bundle a could not be loaded")
        );
    }

    #[test]
    fn bad_arguments_are_tool_errors_that_say_why() {
        let b = Bundles { slots: vec![] };
        let e = call("findings", obj(json!({"rul": "fleet"})), &b).unwrap_err();
        assert!(
            e.starts_with("invalid arguments for `findings`: unknown field `rul`"),
            "{e}"
        );
        let e = call("findings", obj(json!({"severity": "fatal"})), &b).unwrap_err();
        assert!(e.contains("unknown variant `fatal`"), "{e}");
        let e = call("logs", obj(json!({"grep": "x"})), &b).unwrap_err();
        assert!(e.contains("missing field `pod`"), "{e}");
        let e = call("logs", obj(json!({"pod": "p", "tail": -1})), &b).unwrap_err();
        assert!(e.contains("invalid value"), "{e}");
        let e = call("kubectl", None, &b).unwrap_err();
        assert!(
            e.starts_with("no tool \"kubectl\"; the tools are: bundles, incidents"),
            "{e}"
        );
        assert_eq!(
            cli_words("x exists in several namespaces (a, b); use -n"),
            "x exists in several namespaces (a, b); pass `namespace`"
        );
    }

    #[test]
    fn every_schema_is_an_object_of_named_arguments() {
        for t in list() {
            let s = t.input_schema.as_ref();
            assert_eq!(s.get("type"), Some(&json!("object")), "{}", t.name);
            assert!(
                s.get("properties").is_some_and(Value::is_object),
                "{}",
                t.name
            );
            assert!(s.get("title").is_none() && s.get("description").is_none());
            assert!(t.description.as_deref().unwrap_or_default().len() > 120);
        }
    }

    /// Found by the `mcp` fuzz target (LeakSanitizer): every `list()`, so every server,
    /// leaked the paged tools' descriptions.
    #[test]
    fn tool_descriptions_are_owned_not_leaked() {
        let tools = list();
        let paged: Vec<_> = tools
            .iter()
            .filter(|t| t.description.as_deref().is_some_and(|d| d.ends_with(PAGED)))
            .collect();
        assert!(paged.len() >= 8, "{}", paged.len());
        for t in paged {
            assert!(
                matches!(t.description, Some(std::borrow::Cow::Owned(_))),
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn rules_match_by_id_family_or_finding() {
        let b = sample();
        let Slot::Ready(l) = &b.slots[0] else {
            panic!("sample not loaded")
        };
        let f = l
            .report
            .findings
            .iter()
            .find(|f| f.rule == "fleet.stale-status")
            .unwrap();
        for filter in ["fleet.stale-status", "fleet", "fleet.", f.id.as_str()] {
            assert!(rule_matches(filter, f), "{filter}");
        }
        for filter in ["fleet.stale", "stale-status", "upgrade"] {
            assert!(!rule_matches(filter, f), "{filter}");
        }
        let e = call("findings", obj(json!({"rule": "flet"})), &b).unwrap_err();
        assert!(e.contains("no rule or finding id matches \"flet\""), "{e}");
        // A rule that exists but found nothing is an empty answer, not an error.
        let a = call(
            "findings",
            obj(json!({"rule": "vm.not-live-migratable"})),
            &b,
        )
        .unwrap();
        assert_eq!(a.structured["total"], 0, "{}", a.text);
    }

    #[test]
    fn findings_page_by_cursor_without_repeats() {
        let b = sample();
        let all = call("findings", None, &b).unwrap();
        let total = all.structured["total"].as_u64().unwrap() as usize;
        assert!(total > 3);
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut args = json!({"limit": 3});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let a = call("findings", obj(args), &b).unwrap();
            for f in a.structured["findings"].as_array().unwrap() {
                ids.push(f["id"].as_str().unwrap().to_string());
            }
            match a.structured["next_cursor"].as_str() {
                Some(c) => {
                    assert!(a.text.contains(&format!("\"cursor\": \"{c}\"")));
                    cursor = Some(c.to_string());
                }
                None => break,
            }
        }
        // (The first page stopped at 30 KB, before the 200th finding.)
        assert!(all.text.contains("CUT: "));
        let Slot::Ready(l) = &b.slots[0] else {
            panic!("sample not loaded")
        };
        let want: Vec<String> = l.report.findings.iter().map(|f| f.id.clone()).collect();
        assert_eq!(ids, want);
        let e = call("findings", obj(json!({"cursor": total.to_string()})), &b).unwrap_err();
        assert!(e.contains("past the end"), "{e}");
        let e = call("findings", obj(json!({"limit": 0})), &b).unwrap_err();
        assert!(e.contains("at least 1"), "{e}");
    }

    #[test]
    fn query_errors_speak_of_the_tools_arguments() {
        let b = sample();
        let e = call("get", obj(json!({"kind": "nope"})), &b).unwrap_err();
        assert!(e.contains("`get` with kind `api-resources`"), "{e}");
        let e = call("logs", obj(json!({"pod": "harvester-node-0"})), &b).unwrap_err();
        assert!(e.contains("choose a log with `container`: "), "{e}");
        let e = call("graph", obj(json!({"object": "harvester"})), &b).unwrap_err();
        assert!(e.contains("expected KIND/NAME"), "{e}");
        let e = call(
            "graph",
            obj(json!({"object": "ds/harvester-whereabouts", "depth": 7})),
            &b,
        )
        .unwrap_err();
        assert!(e.contains("maximum of 6"), "{e}");
        let e = call("events", obj(json!({"type": "Error"})), &b).unwrap_err();
        assert!(e.contains("Warning or Normal"), "{e}");
        let e = call("diff", None, &b).unwrap_err();
        assert!(e.contains("1 is loaded"), "{e}");
    }
}
