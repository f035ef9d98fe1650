//! Known upgrade issues as data (`src/upgrade/known-issues.yaml`, embedded): each entry has a
//! running-version range, a signature (objects and fields, Fleet verdicts and states, pod log
//! lines, node counts), the symptom users see, the cause, the workaround and links. New
//! entries need no code. Log signatures are searched before the rules run (the analysis reads
//! the logs once, for every pattern); here they are only matched.
use regex::Regex;
use serde::Deserialize;

use super::Env;
use crate::facts::harvester;
use crate::facts::node::{MachineNode, machine_node, node_ready};
use crate::facts::version::{Range, Version};
use crate::fleet::{Verdict, drift::Classification};
use crate::index::Object;
use crate::model::condition;

/// The embedded catalog.
pub const CATALOG: &str = include_str!("known-issues.yaml");

/// A version range as the catalogue writes it (`{since: v1.4.0, until: v1.4.2}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    /// First version (inclusive).
    pub since: Option<String>,
    /// Last version (inclusive).
    pub until: Option<String>,
}

impl Span {
    /// The range of versions it names.
    pub fn range(&self) -> Range {
        let num = |s: &Option<String>| s.as_deref().and_then(|s| Version::parse(s).num);
        Range {
            since: num(&self.since).unwrap_or((0, 0, 0)),
            until: num(&self.until),
        }
    }
}

/// A field test on an object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldTest {
    /// JSON pointer.
    pub path: String,
    /// Equal to this (string, number or boolean).
    pub equals: Option<serde_json::Value>,
    /// Not equal to this.
    pub not_equals: Option<serde_json::Value>,
    /// Matches this regex (strings).
    pub matches: Option<String>,
    /// Absent, or does not match this regex.
    pub not_matches: Option<String>,
    /// Present and non-empty.
    pub present: Option<bool>,
    /// Absent or empty.
    pub absent: Option<bool>,
}

/// Condition test.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CondTest {
    /// Condition type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Status.
    pub status: String,
}

/// How many objects must match.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Count {
    /// At least.
    pub min: Option<usize>,
    /// At most.
    pub max: Option<usize>,
}

/// An object matcher.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectMatch {
    /// API group (`""` for core).
    #[serde(default)]
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: Option<String>,
    /// Exact name.
    pub name: Option<String>,
    /// Name prefix.
    pub name_prefix: Option<String>,
    /// Name suffix.
    pub name_suffix: Option<String>,
    /// Field tests.
    #[serde(default)]
    pub fields: Vec<FieldTest>,
    /// A condition.
    pub condition: Option<CondTest>,
    /// Labels (`"*"`: any value).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Annotations (`"*"`: any value).
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
    /// How many must match.
    pub count: Option<Count>,
    /// The node the object belongs to (Machine only: its nodeRef, or the node annotated with
    /// it, see `facts::node::machine_node`).
    pub node: Option<NodeTest>,
}

/// A test on the node an object belongs to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeTest {
    /// `true`: a Node object is the object's; `false`: none is (gone, or never joined).
    pub exists: bool,
}

/// A Fleet claim matcher. A claim is wrong in a direction: Fleet says not ready while the
/// object is ready, or says ready while it is not; `claims` and `observed` say which. A `stale`
/// matcher must name both (see [`FleetMatch::check`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetMatch {
    /// Bundle name.
    pub bundle: Option<String>,
    /// `stale`, `in-flux`, `not-ready`, `not-owned`, `drift`, `missing`, `unverifiable`.
    pub verdict: String,
    /// What Fleet claims, any of `fleet::CLAIMS` (`not-ready`, `modified`, `ready` …);
    /// empty: any claim.
    #[serde(default)]
    pub claims: Vec<String>,
    /// What the capture shows, any of `fleet::OBSERVED` (`ready`, `not-ready`,
    /// `as-released` …); empty: anything.
    #[serde(default)]
    pub observed: Vec<String>,
    /// Kind of the claimed object.
    pub kind: Option<String>,
}

/// Verdict names a Fleet matcher may use.
pub const VERDICTS: &[&str] = &[
    "stale",
    "in-flux",
    "not-ready",
    "not-owned",
    "drift",
    "missing",
    "unverifiable",
];

impl FleetMatch {
    /// Whether the matcher is well formed: a known verdict, known direction words, and, for
    /// `stale`, both directions named (a stale claim and its opposite are different issues).
    pub fn check(&self) -> Result<(), String> {
        if !VERDICTS.contains(&self.verdict.as_str()) {
            return Err(format!("unknown Fleet verdict {:?}", self.verdict));
        }
        for c in &self.claims {
            if !crate::fleet::CLAIMS.contains(&c.as_str()) {
                return Err(format!("unknown Fleet claim {c:?}"));
            }
        }
        for o in &self.observed {
            if !crate::fleet::OBSERVED.contains(&o.as_str()) {
                return Err(format!("unknown observed state {o:?}"));
            }
        }
        if self.verdict == "stale" && (self.claims.is_empty() || self.observed.is_empty()) {
            return Err(
                "a stale Fleet matcher names its direction: claims (what Fleet says) and \
                 observed (what the capture shows)"
                    .into(),
            );
        }
        Ok(())
    }
}

/// A bundle deployment-state matcher.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetStateMatch {
    /// Bundle name.
    pub bundle: Option<String>,
    /// `ErrApplied`, `WaitApplied`, `Modified`, …
    pub state: String,
    /// Regex on the deploy message.
    pub message_matches: Option<String>,
}

/// A pod-log matcher.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogMatch {
    /// Namespace of the pod.
    pub namespace: String,
    /// Pod name prefix.
    pub pod_prefix: Option<String>,
    /// Regex on a line.
    pub matches: String,
    /// Only pods working on a node that an unfinished Upgrade has in one of these states (the
    /// node of an upgrade job's pod: its `harvesterhci.io/node` label, else where it runs), so
    /// a finished job's log of an earlier node does not match.
    #[serde(default)]
    pub node_in: Vec<String>,
}

/// Node-count matcher.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodesMatch {
    /// At least.
    pub min: Option<usize>,
    /// At most.
    pub max: Option<usize>,
}

/// One matcher, as written: a map with exactly one key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatcherSpec {
    object: Option<ObjectMatch>,
    fleet: Option<FleetMatch>,
    fleet_state: Option<FleetStateMatch>,
    log: Option<LogMatch>,
    nodes: Option<NodesMatch>,
}

/// One matcher.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "MatcherSpec")]
pub enum Matcher {
    /// Objects.
    Object(Box<ObjectMatch>),
    /// A Fleet verdict.
    Fleet(FleetMatch),
    /// A Fleet deployment state.
    FleetState(FleetStateMatch),
    /// A pod log line.
    Log(LogMatch),
    /// Node count.
    Nodes(NodesMatch),
}

impl TryFrom<MatcherSpec> for Matcher {
    type Error = String;
    fn try_from(s: MatcherSpec) -> Result<Matcher, String> {
        let mut v: Vec<Matcher> = Vec::new();
        if let Some(o) = &s.object
            && o.node.is_some()
            && (o.group.as_str(), o.kind.as_str()) != ("cluster.x-k8s.io", "Machine")
        {
            return Err(format!(
                "a node test applies to cluster.x-k8s.io Machines only (not {})",
                o.kind
            ));
        }
        if let Some(f) = &s.fleet {
            f.check()?;
        }
        v.extend(s.object.map(|o| Matcher::Object(Box::new(o))));
        v.extend(s.fleet.map(Matcher::Fleet));
        v.extend(s.fleet_state.map(Matcher::FleetState));
        v.extend(s.log.map(Matcher::Log));
        v.extend(s.nodes.map(Matcher::Nodes));
        match v.len() {
            1 => v.pop().ok_or_else(|| "empty matcher".to_string()),
            n => Err(format!(
                "a matcher has exactly one of object, fleet, fleet_state, log, nodes (got {n})"
            )),
        }
    }
}

/// One known issue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownIssue {
    /// Stable id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `error`, `warning`, `info`.
    #[serde(default = "warning")]
    pub severity: String,
    /// Running versions it applies to.
    pub from: Option<Span>,
    /// Signature.
    pub when: Vec<Matcher>,
    /// What users see.
    pub symptom: String,
    /// Why.
    pub cause: String,
    /// The documented fix.
    pub workaround: String,
    /// References.
    #[serde(default)]
    pub links: Vec<String>,
}

fn warning() -> String {
    "warning".into()
}

/// Known issues loaded from the user's knowledge files (`--knowledge DIR`,
/// `SBDIAG_KNOWLEDGE`), installed once per process before any analysis.
static EXTRA: std::sync::OnceLock<Vec<KnownIssue>> = std::sync::OnceLock::new();

/// The embedded catalog (checked by a unit test, so it cannot fail at run time; parsed once
/// per process) with the installed knowledge files' entries: an entry with an embedded entry's
/// id replaces it, a new id is added after the embedded ones.
pub fn catalog() -> Vec<KnownIssue> {
    static EMBEDDED: std::sync::OnceLock<Vec<KnownIssue>> = std::sync::OnceLock::new();
    let mut c: Vec<KnownIssue> = EMBEDDED
        .get_or_init(|| yaml_serde::from_str(CATALOG).unwrap_or_default())
        .clone();
    for k in EXTRA.get().map(Vec::as_slice).unwrap_or_default() {
        match c.iter_mut().find(|e| e.id == k.id) {
            Some(e) => *e = k.clone(),
            None => c.push(k.clone()),
        }
    }
    c
}

/// Installs known issues from knowledge files for the rest of the process (the first call
/// wins; later calls are ignored and say so with `false`).
pub fn install(extra: Vec<KnownIssue>) -> bool {
    EXTRA.set(extra).is_ok()
}

/// A knowledge file that cannot be used: which file, which line when known, and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct KnowledgeError {
    /// The file.
    pub file: std::path::PathBuf,
    /// The line (1-based), when known.
    pub line: Option<usize>,
    /// What is wrong, naming the field.
    pub message: String,
}

/// Checks what the schema alone cannot: the severity word, a signature, regexes that compile,
/// versions that parse, and `{denial CHECK}` names of known checks. `Err` names the field.
pub fn validate(k: &KnownIssue) -> Result<(), String> {
    if k.id.trim().is_empty() {
        return Err("id: must not be empty".into());
    }
    if !matches!(k.severity.as_str(), "error" | "warning" | "info") {
        return Err(format!(
            "severity: {:?} is not error, warning or info",
            k.severity
        ));
    }
    if k.when.is_empty() {
        return Err("when: needs at least one matcher (an empty list never matches)".into());
    }
    let regex = |field: &str, r: &str| {
        Regex::new(r)
            .map(|_| ())
            .map_err(|e| format!("{field}: {r:?} is not a regular expression: {e}"))
    };
    for w in &k.when {
        match w {
            Matcher::Log(l) => regex("when.log.matches", &l.matches)?,
            Matcher::Fleet(f) => f.check().map_err(|e| format!("when.fleet: {e}"))?,
            Matcher::FleetState(f) => {
                if let Some(r) = &f.message_matches {
                    regex("when.fleet_state.message_matches", r)?;
                }
            }
            Matcher::Object(o) => {
                for f in &o.fields {
                    for r in f.matches.iter().chain(&f.not_matches) {
                        regex("when.object.fields.matches", r)?;
                    }
                }
            }
            Matcher::Nodes(_) => {}
        }
    }
    if let Some(r) = &k.from {
        for (field, v) in [("from.since", &r.since), ("from.until", &r.until)] {
            if let Some(v) = v
                && Version::parse(v).num.is_none()
            {
                return Err(format!("{field}: {v:?} is not a version like v1.9.0"));
            }
        }
    }
    let mut rest = k.symptom.as_str();
    while let Some(i) = rest.find("{denial ") {
        let after = rest.get(i + 8..).unwrap_or_default();
        let id = after.split_whitespace().next().unwrap_or_default();
        let id = id.trim_end_matches('}');
        if !harvester::is_check(id) {
            return Err(format!("symptom: names unknown upgrade check {id}"));
        }
        rest = after;
    }
    Ok(())
}

/// A denial text a knowledge file adds to a check of the upgrade webhook: the text a release
/// the embedded table does not know returns (or a text it lacks).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenialText {
    /// The check (`C12`): one the table has (a new check needs code to be judged).
    pub check: String,
    /// Which of its denials (`""` when it has one).
    #[serde(default)]
    pub case: String,
    /// First release returning it.
    pub since: String,
    /// Last release returning it (open when absent).
    pub until: Option<String>,
    /// The text, with `{slots}` as the table writes them.
    pub text: String,
}

/// A knowledge file written as a mapping: known issues, denial texts, and additions to the
/// version table in its own schema (`releases`, `checks`, `gates`: see
/// `src/facts/versions.yaml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeMap {
    #[serde(default)]
    known_issues: Vec<KnownIssue>,
    #[serde(default)]
    denials: Vec<DenialText>,
    #[serde(default)]
    releases: Vec<String>,
    #[serde(default)]
    checks: Vec<harvester::CheckData>,
    #[serde(default)]
    gates: Vec<harvester::GateData>,
}

/// What the knowledge files of a folder add.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    /// Known issues (an embedded entry's id replaces it).
    pub issues: Vec<KnownIssue>,
    /// What the files add to the version table: releases, check versions and texts (the
    /// files' `denials` included), gate versions.
    pub table: harvester::TableData,
}

impl Knowledge {
    /// Installs it for the rest of the process: the known issues into the catalogue, the rest
    /// into the version table.
    pub fn install(self) {
        install(self.issues);
        harvester::install(self.table);
    }
}

/// A denial text as the version table writes a check's text.
fn as_check(d: DenialText) -> harvester::CheckData {
    harvester::CheckData {
        id: d.check,
        texts: vec![harvester::TextData {
            case: d.case,
            versions: Some(harvester::Bounds {
                since: Some(d.since),
                until: d.until,
            }),
            text: d.text,
        }],
        ..Default::default()
    }
}

/// Checks a denial text: a check the table has, one of its cases, versions that parse, a text.
fn validate_denial(table: &harvester::Table, d: &DenialText) -> Result<(), String> {
    let Some(c) = table.checks.iter().find(|c| c.id == d.check) else {
        return Err(format!(
            "check: {:?} is not a check of the upgrade webhook (`sbdiag rules --versions` lists \
             them; a new check needs a new sbdiag, its evaluation is code)",
            d.check
        ));
    };
    if !c.texts.iter().any(|t| t.case == d.case) {
        let cases: Vec<&str> = c.texts.iter().map(|t| t.case.as_str()).collect();
        return Err(format!(
            "case: {:?} is not a case of {} (its cases: {cases:?})",
            d.case, d.check
        ));
    }
    for (field, v) in [("since", Some(&d.since)), ("until", d.until.as_ref())] {
        if let Some(v) = v
            && Version::parse(v).num.is_none()
        {
            return Err(format!("{field}: {v:?} is not a version like v1.10.0"));
        }
    }
    if d.text.trim().is_empty() {
        return Err("text: must not be empty".into());
    }
    Ok(())
}

/// Reads every `*.yaml` / `*.yml` file of `dir` (sorted by name), validated: a file is a list
/// of known issues in the catalogue's schema, or a mapping with `known_issues:` and `denials:`
/// (texts for checks of the upgrade webhook); a known issue's id may appear once across the
/// files.
pub fn load_dir(dir: &std::path::Path) -> Result<Knowledge, KnowledgeError> {
    let err = |file: &std::path::Path, line: Option<usize>, message: String| KnowledgeError {
        file: file.to_path_buf(),
        line,
        message,
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| err(dir, None, format!("cannot read the knowledge folder: {e}")))?;
    let mut files: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut out: Vec<KnownIssue> = Vec::new();
    let mut table = harvester::TableData::default();
    // Every file's additions are tried on the table as it would be, so that an error names
    // its file.
    let mut probe = harvester::Table::embedded()
        .map_err(|m| err(dir, None, format!("the embedded version table: {m}")))?;
    for f in &files {
        let text =
            std::fs::read_to_string(f).map_err(|e| err(f, None, format!("cannot read: {e}")))?;
        let yaml_err = |e: yaml_serde::Error| {
            let line = e.location().map(|l| l.line());
            err(f, line, e.to_string())
        };
        let shape: yaml_serde::Value = yaml_serde::from_str(&text).map_err(yaml_err)?;
        let file = if shape.is_sequence() || shape.is_null() {
            KnowledgeMap {
                known_issues: yaml_serde::from_str(&text).map_err(yaml_err)?,
                ..KnowledgeMap::default()
            }
        } else {
            yaml_serde::from_str::<KnowledgeMap>(&text).map_err(yaml_err)?
        };
        for d in file.denials {
            let line = text
                .lines()
                .position(|l| l.contains(&format!("check: {}", d.check)))
                .map(|n| n + 1);
            validate_denial(&probe, &d)
                .map_err(|m| err(f, line, format!("denial of {}: {m}", d.check)))?;
            table.checks.push(as_check(d));
        }
        let added = harvester::TableData {
            releases: file.releases,
            checks: file.checks,
            gates: file.gates,
            ..Default::default()
        };
        probe.add(&added, false).map_err(|m| {
            // The line of the entry the message names (`checks C25: …` → `id: C25`).
            let name = m.split([':', ' ']).nth(1).unwrap_or("");
            let line = text
                .lines()
                .position(|l| {
                    let l = l.trim_start_matches(['-', ' ']);
                    !name.is_empty()
                        && ["id:", "name:"].iter().any(|k| {
                            l.strip_prefix(k)
                                .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == name)
                        })
                })
                .or_else(|| {
                    m.starts_with("releases")
                        .then(|| text.lines().position(|l| l.starts_with("releases")))
                        .flatten()
                })
                .map(|n| n + 1);
            err(f, line, m)
        })?;
        table.releases.extend(added.releases);
        table.checks.extend(added.checks);
        table.gates.extend(added.gates);
        for k in file.known_issues {
            let line = text
                .lines()
                .position(|l| {
                    l.trim_start_matches(['-', ' '])
                        .strip_prefix("id:")
                        .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == k.id)
                })
                .map(|n| n + 1);
            validate(&k).map_err(|m| err(f, line, format!("known issue {}: {m}", k.id)))?;
            if out.iter().any(|o| o.id == k.id) {
                return Err(err(
                    f,
                    line,
                    format!(
                        "known issue {}: the id is already used in another knowledge file",
                        k.id
                    ),
                ));
            }
            out.push(k);
        }
    }
    Ok(Knowledge { issues: out, table })
}

/// A log pattern to search before the rules run.
#[derive(Debug, Clone)]
pub struct LogPattern {
    /// Issue id.
    pub issue: String,
    /// Namespace of the pods.
    pub namespace: String,
    /// Pod name prefix.
    pub pod_prefix: String,
    /// The compiled regex.
    pub regex: Regex,
}

/// Every log pattern of the catalog.
pub fn log_patterns() -> Vec<LogPattern> {
    catalog()
        .into_iter()
        .flat_map(|k| {
            let id = k.id.clone();
            k.when.into_iter().filter_map(move |m| match m {
                Matcher::Log(l) => Some(LogPattern {
                    issue: id.clone(),
                    namespace: l.namespace,
                    pod_prefix: l.pod_prefix.unwrap_or_default(),
                    regex: crate::text::regex(&l.matches).ok()?,
                }),
                _ => None,
            })
        })
        .collect()
}

/// A log line that matched a pattern.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogHit {
    /// Issue id of the pattern.
    pub issue: String,
    /// The pattern's regex source.
    pub pattern: String,
    /// Bundle-relative log file.
    pub file: String,
    /// Line (1-based) of the last match.
    pub line: u32,
    /// That line (trimmed to 400 characters).
    pub text: String,
    /// How many lines matched in the file.
    pub count: usize,
}

/// What made an issue match.
#[derive(Debug, Clone, Default)]
pub struct Match {
    /// Objects, with a focus for evidence.
    pub objects: Vec<(usize, Option<String>)>,
    /// Log hits.
    pub logs: Vec<LogHit>,
    /// Each matcher's finding, in words.
    pub details: Vec<String>,
}

fn in_range(v: Option<&Version>, r: &Option<Span>) -> bool {
    let Some(r) = r else { return true };
    v.is_some_and(|v| r.range().contains(v))
}

fn meta_value(o: &Object, path: &str) -> Option<serde_json::Value> {
    let rest = path.strip_prefix("/metadata/")?;
    let (field, key) = match rest.split_once('/') {
        Some((f, k)) => (f, Some(k.replace("~1", "/").replace("~0", "~"))),
        None => (rest, None),
    };
    let s = |x: &str| Some(serde_json::Value::String(x.to_string()));
    match (field, key) {
        ("name", None) => s(&o.key.name),
        ("namespace", None) => s(&o.key.namespace),
        ("labels", Some(k)) => o.meta.labels.get(&k).and_then(|v| s(v)),
        ("annotations", Some(k)) => o.meta.annotations.get(&k).and_then(|v| s(v)),
        ("uid", None) => s(&o.meta.uid),
        ("resourceVersion", None) => o.meta.resource_version.as_deref().and_then(s),
        ("generation", None) => o.meta.generation.map(serde_json::Value::from),
        ("creationTimestamp", None) => o.meta.creation_timestamp.as_deref().and_then(s),
        ("deletionTimestamp", None) => o.meta.deletion_timestamp.as_deref().and_then(s),
        ("finalizers", Some(n)) => n
            .parse::<usize>()
            .ok()
            .and_then(|n| o.meta.finalizers.get(n))
            .and_then(|f| f.0.as_deref())
            .and_then(s),
        _ => None,
    }
}

fn value_at(o: &Object, path: &str) -> Option<serde_json::Value> {
    // Trees hold everything but the metadata, which only `meta` has.
    if path.starts_with("/metadata/") {
        return meta_value(o, path);
    }
    o.tree()
        .and_then(|t| t.at(path).map(crate::model::tree::Node::to_json))
}

fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::String(x), J::Bool(y)) | (J::Bool(y), J::String(x)) => x == &y.to_string(),
        (J::String(x), J::Number(y)) | (J::Number(y), J::String(x)) => {
            x.parse::<f64>().ok() == y.as_f64()
        }
        _ => a == b,
    }
}

fn field_ok(o: &Object, f: &FieldTest) -> bool {
    let v = value_at(o, &f.path);
    let empty = match &v {
        None | Some(serde_json::Value::Null) => true,
        Some(serde_json::Value::String(s)) => s.is_empty(),
        Some(serde_json::Value::Array(a)) => a.is_empty(),
        Some(serde_json::Value::Object(m)) => m.is_empty(),
        _ => false,
    };
    if f.present == Some(true) && empty {
        return false;
    }
    if f.absent == Some(true) && !empty {
        return false;
    }
    if let Some(want) = &f.equals
        && !v.as_ref().is_some_and(|x| same(x, want))
    {
        return false;
    }
    if let Some(not) = &f.not_equals
        && v.as_ref().is_some_and(|x| same(x, not))
    {
        return false;
    }
    if let Some(re) = &f.not_matches {
        let Ok(re) = crate::text::regex(re) else {
            return false;
        };
        let hit = match &v {
            Some(serde_json::Value::String(s)) => re.is_match(s),
            Some(serde_json::Value::Null) | None => false,
            Some(other) => re.is_match(&other.to_string()),
        };
        if hit {
            return false;
        }
    }
    if let Some(re) = &f.matches {
        let Ok(re) = crate::text::regex(re) else {
            return false;
        };
        let text = match &v {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => return false,
        };
        if !re.is_match(&text) {
            return false;
        }
    }
    true
}

fn map_ok(have: &crate::model::StrMap, want: &std::collections::BTreeMap<String, String>) -> bool {
    want.iter()
        .all(|(k, v)| have.get(k).is_some_and(|h| v == "*" || h == v))
}

fn object_matches(env: &Env, m: &ObjectMatch) -> Vec<usize> {
    env.index
        .of_kind(&m.group, &m.kind)
        .filter(|o| m.namespace.as_ref().is_none_or(|n| *n == o.key.namespace))
        .filter(|o| m.name.as_ref().is_none_or(|n| *n == o.key.name))
        .filter(|o| {
            m.name_prefix
                .as_ref()
                .is_none_or(|p| o.key.name.starts_with(p.as_str()))
        })
        .filter(|o| {
            m.name_suffix
                .as_ref()
                .is_none_or(|p| o.key.name.ends_with(p.as_str()))
        })
        .filter(|o| {
            map_ok(&o.meta.labels, &m.labels) && map_ok(&o.meta.annotations, &m.annotations)
        })
        .filter(|o| {
            m.condition.as_ref().is_none_or(|c| {
                condition(&o.status.conditions, &c.kind).is_some_and(|x| x.status == c.status)
            })
        })
        .filter(|o| m.fields.iter().all(|f| field_ok(o, f)))
        .filter(|o| {
            m.node.as_ref().is_none_or(|t| {
                matches!(machine_node(env.index, o), MachineNode::Exists(_)) == t.exists
            })
        })
        .filter_map(|o| env.index.position(&o.key))
        .collect()
}

/// An object as a known-issue match lists it: its name, and, where the matcher tests its node,
/// the values of the fields it tests and what the capture shows of the node (`custom-a (phase
/// Provisioning; node n1 exists and is Ready)`).
fn object_detail(env: &Env, m: &ObjectMatch, o: &Object) -> String {
    let name = if o.key.namespace.is_empty() {
        o.key.name.clone()
    } else {
        format!("{}/{}", o.key.namespace, o.key.name)
    };
    if m.node.is_none() {
        return name;
    }
    let mut parts: Vec<String> = m
        .fields
        .iter()
        .map(|f| {
            let field = f.path.rsplit('/').next().unwrap_or_default();
            match value_at(o, &f.path) {
                Some(serde_json::Value::String(v)) if !v.is_empty() => format!("{field} {v}"),
                Some(serde_json::Value::String(_) | serde_json::Value::Null) | None => {
                    format!("no {field}")
                }
                Some(v) => format!("{field} {v}"),
            }
        })
        .collect();
    parts.push(match machine_node(env.index, o) {
        MachineNode::Exists(n) => format!(
            "node {} exists and is {}",
            n.key.name,
            match node_ready(n) {
                Some("True") => "Ready".to_string(),
                Some(s) => format!("not Ready (Ready={s})"),
                None => "of unknown readiness (no Ready condition)".to_string(),
            }
        ),
        MachineNode::Gone(Some(n)) => format!("its nodeRef names node {n}, which does not exist"),
        MachineNode::Gone(None) => "no nodeRef, and no node is annotated with it".to_string(),
    });
    format!("{name} ({})", parts.join("; "))
}

fn verdict_name(v: &Verdict) -> &'static str {
    match v {
        Verdict::Stale(_) => "stale",
        Verdict::InFlux { .. } => "in-flux",
        Verdict::ConfirmedNotReady { .. } => "not-ready",
        Verdict::NotOwned => "not-owned",
        Verdict::Drifted(Classification { .. }) => "drift",
        Verdict::ConfirmedMissing => "missing",
        Verdict::Unverifiable(_) => "unverifiable",
    }
}

/// Matches one issue: every matcher must hold. `None` when it does not apply.
pub fn matches(env: &Env, issue: &KnownIssue, hits: &[LogHit]) -> Option<Match> {
    if issue.when.is_empty() || !in_range(Some(&env.from), &issue.from) {
        return None;
    }
    let mut m = Match::default();
    for w in &issue.when {
        match w {
            Matcher::Object(om) => {
                let found = object_matches(env, om);
                let min = om.count.as_ref().and_then(|c| c.min).unwrap_or(1);
                let max = om.count.as_ref().and_then(|c| c.max).unwrap_or(usize::MAX);
                if found.len() < min || found.len() > max {
                    return None;
                }
                let names: Vec<String> = found
                    .iter()
                    .filter_map(|i| env.index.objects.get(*i))
                    .map(|o| object_detail(env, om, o))
                    .collect();
                if !names.is_empty() {
                    m.details.push(format!("{} {}", om.kind, names.join(", ")));
                }
                let focus = om
                    .fields
                    .first()
                    .map(|f| f.path.rsplit('/').next().unwrap_or("").to_string())
                    .or_else(|| om.condition.as_ref().map(|c| format!("type: {}", c.kind)));
                m.objects
                    .extend(found.into_iter().take(10).map(|i| (i, focus.clone())));
            }
            Matcher::Fleet(fm) => {
                let hit: Vec<&crate::fleet::Judged> = env
                    .fleet
                    .judged
                    .iter()
                    .filter(|j| verdict_name(&j.verdict) == fm.verdict)
                    .filter(|j| {
                        fm.claims.is_empty() || fm.claims.iter().any(|c| c == env.fleet.claimed(j))
                    })
                    .filter(|j| {
                        fm.observed.is_empty()
                            || fm.observed.iter().any(|o| o == j.verdict.observed())
                    })
                    .filter(|j| {
                        fm.bundle.as_ref().is_none_or(|b| {
                            env.fleet
                                .sources
                                .get(j.source)
                                .is_some_and(|s| s.name == *b)
                        })
                    })
                    .filter(|j| {
                        fm.kind.as_ref().is_none_or(|k| {
                            j.live
                                .and_then(|l| env.index.objects.get(l))
                                .is_some_and(|o| o.key.kind == *k)
                        })
                    })
                    .collect();
                if hit.is_empty() {
                    return None;
                }
                for j in hit {
                    if let Some(o) = j.live.and_then(|l| env.index.objects.get(l)) {
                        m.details.push(format!(
                            "Fleet claims {} {}/{} is {}; the capture shows it {} ({})",
                            o.key.kind,
                            o.key.namespace,
                            o.key.name,
                            env.fleet.claimed(j).replace('-', " "),
                            j.verdict.observed().replace('-', " "),
                            fm.verdict
                        ));
                        if let Some(l) = j.live {
                            m.objects.push((l, Some("  status:".into())));
                        }
                    }
                }
            }
            Matcher::FleetState(fs) => {
                let re = fs
                    .message_matches
                    .as_deref()
                    .and_then(|r| crate::text::regex(r).ok());
                let mut any = false;
                for s in &env.fleet.sources {
                    if fs.bundle.as_ref().is_some_and(|b| *b != s.name) {
                        continue;
                    }
                    for (cluster, state, msg) in &s.entries {
                        if *state != fs.state {
                            continue;
                        }
                        let text = msg
                            .clone()
                            .or_else(|| s.ready.as_ref().and_then(|c| c.message.clone()))
                            .unwrap_or_default();
                        if re.as_ref().is_some_and(|r| !r.is_match(&text)) {
                            continue;
                        }
                        any = true;
                        m.details.push(format!(
                            "bundle {} is {state} for {cluster}: {}",
                            s.name,
                            crate::text::one_line(&text, 200)
                        ));
                        if let Some(p) = s.primary() {
                            m.objects.push((p, Some(state.clone())));
                        }
                    }
                }
                if !any {
                    return None;
                }
            }
            Matcher::Log(lm) => {
                let found: Vec<&LogHit> = hits
                    .iter()
                    .filter(|h| h.issue == issue.id && h.pattern == lm.matches)
                    .filter(|h| lm.node_in.is_empty() || pod_node_in(env, &h.file, &lm.node_in))
                    .collect();
                if found.is_empty() {
                    return None;
                }
                for h in found {
                    m.details.push(format!(
                        "{}:{} ({} matching line(s)): {}",
                        h.file, h.line, h.count, h.text
                    ));
                    m.logs.push(h.clone());
                }
            }
            Matcher::Nodes(nm) => {
                let n = env.index.of_kind("", "Node").count();
                if nm.min.is_some_and(|x| n < x) || nm.max.is_some_and(|x| n > x) {
                    return None;
                }
                m.details.push(format!("{n} node(s)"));
            }
        }
    }
    Some(m)
}

/// Whether the pod whose log is `file` (`logs/<namespace>/<pod>/…`) works on a node that an
/// unfinished Upgrade has in one of `states`.
fn pod_node_in(env: &Env, file: &str, states: &[String]) -> bool {
    let mut parts = file.split('/');
    let (Some("logs"), Some(ns), Some(pod)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(p) = env.index.find("", "Pod", ns, pod) else {
        return false;
    };
    let node = p
        .meta
        .labels
        .get("harvesterhci.io/node")
        .cloned()
        .or(match &p.view {
            crate::model::views::View::Pod(v) => v.node_name.clone(),
            _ => None,
        });
    let Some(node) = node else { return false };
    crate::facts::upgrade::unfinished(env.index).any(|u| {
        crate::facts::upgrade::node_state(u, &node).is_some_and(|s| states.iter().any(|w| w == s))
    })
}

/// A catalog symptom with the names of what the issue matched: `$Kind` (in a `{denial …}`
/// argument or in prose) becomes the name of the first matched object of that kind, so no
/// symptom shows a placeholder (`chart=$ManagedChart` → `chart=hvst-upgrade-x7b2p-upgradelog-operator`).
pub fn matched_names(text: &str, index: &crate::index::Index, m: &Match) -> String {
    let mut out = text.to_string();
    for (i, _) in &m.objects {
        if let Some(o) = index.objects.get(*i) {
            let token = format!("${}", o.key.kind);
            if out.contains(&token) {
                out = out.replacen(&token, &o.key.name, usize::MAX);
            }
        }
    }
    out
}

/// A symptom as the running version `v` shows it: each `{denial CHECK key=value …}` becomes
/// the line a user sees when the upgrade webhook of `v` denies with that check, or a plain
/// mention of the check where `v` is unknown or lacks it (no text is quoted that `v` would not
/// return).
pub fn symptom(text: &str, v: &Version) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{denial ") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let mut words = rest[start + "{denial ".len()..start + len].split_whitespace();
        let id = words.next().unwrap_or_default();
        let args: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
        match harvester::denial(id, "", v, &args) {
            Some(t) => out.push_str(&harvester::as_user_sees(&t)),
            None => out.push_str(&format!(
                "the upgrade webhook refuses a new Upgrade (check {id}{})",
                if v.is_dev() {
                    "; the running version is not known, so its text is not quoted".to_string()
                } else {
                    format!(", which {v} does not have")
                }
            )),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// The kind of the first `{Kind.name}` / `{Kind.namespace}` template in a line.
fn object_template(line: &str) -> Option<&str> {
    line.split('{').skip(1).find_map(|rest| {
        let inner = &rest[..rest.find('}')?];
        let (kind, field) = inner.split_once('.')?;
        (matches!(field, "name" | "namespace")
            && !kind.is_empty()
            && kind.chars().all(|c| c.is_ascii_alphabetic()))
        .then_some(kind)
    })
}

/// A catalog workaround with the bundle's values in place of its templates, so that no
/// remediation holds a placeholder:
/// - `{Kind.name}` / `{Kind.namespace}`: the line is repeated for each object of that kind the
///   issue matched (dropped when it matched none);
/// - `{next-force-sync NAME}`: Bundle fleet-local/NAME's `spec.forceSyncGeneration + 1`;
/// - `{drained-instance-manager-pdb}`: the line is repeated for each instance-manager PDB of
///   a node a running upgrade is draining (the PDB and the instance-manager pod share a name).
pub fn workaround(text: &str, index: &crate::index::Index, m: &Match) -> String {
    let matched: Vec<&Object> = m
        .objects
        .iter()
        .filter_map(|(i, _)| index.objects.get(*i))
        .collect();
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let mut line = line.to_string();
        while let Some(start) = line.find("{next-force-sync ") {
            let Some(len) = line[start..].find('}') else {
                break;
            };
            let name = &line[start + "{next-force-sync ".len()..start + len];
            let next = index
                .find("fleet.cattle.io", "Bundle", "fleet-local", name)
                .and_then(|b| match &b.view {
                    crate::model::views::View::Fleet(f) => f.force_sync_generation,
                    _ => None,
                })
                .unwrap_or(0)
                + 1;
            line.replace_range(start..start + len + 1, &next.to_string());
        }
        if line.contains("{drained-instance-manager-pdb}") {
            for pdb in index.of_kind("policy", "PodDisruptionBudget").filter(|p| {
                p.key.namespace == "longhorn-system"
                    && p.key.name.starts_with("instance-manager")
                    && index
                        .find("", "Pod", "longhorn-system", &p.key.name)
                        .and_then(|pod| match &pod.view {
                            crate::model::views::View::Pod(v) => v.node_name.as_deref(),
                            _ => None,
                        })
                        .is_some_and(|n| crate::facts::node::upgrade_working_on(index, n).is_some())
            }) {
                out.push(line.replace("{drained-instance-manager-pdb}", &pdb.key.name));
            }
            continue;
        }
        let kind = object_template(&line).map(str::to_string);
        match kind {
            Some(kind) => {
                let mut seen = std::collections::BTreeSet::new();
                for o in matched.iter().filter(|o| o.key.kind == kind) {
                    let l = line
                        .replace(&format!("{{{kind}.name}}"), &o.key.name)
                        .replace(&format!("{{{kind}.namespace}}"), &o.key.namespace);
                    if seen.insert(l.clone()) {
                        out.push(l);
                    }
                }
            }
            None => out.push(line),
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symptoms_name_what_matched() {
        let ix = crate::index::Index::from_yaml_objects(&[
            "apiVersion: management.cattle.io/v3\nkind: ManagedChart\nmetadata:\n  name: hvst-upgrade-a-upgradelog-operator\n  namespace: fleet-local\n",
        ]);
        let m = Match {
            objects: vec![(0, None)],
            logs: Vec::new(),
            details: Vec::new(),
        };
        let s = matched_names("{denial C12 chart=$ManagedChart}", &ix, &m);
        assert_eq!(s, "{denial C12 chart=hvst-upgrade-a-upgradelog-operator}");
        assert!(
            symptom(&s, &Version::parse("v1.4.0"))
                .contains("managed chart hvst-upgrade-a-upgradelog-operator is not ready")
        );
        // Nothing matched of that kind: left as written.
        let none = Match {
            objects: Vec::new(),
            logs: Vec::new(),
            details: Vec::new(),
        };
        assert_eq!(matched_names("x $Node", &ix, &none), "x $Node");
    }

    #[test]
    fn symptoms_quote_the_running_version() {
        let s = "{denial C12 chart=harvester} — while x";
        assert_eq!(
            symptom(s, &Version::parse("v1.4.0")),
            "admission webhook \"validator.harvesterhci.io\" denied the request: managed chart \
             harvester is not ready, please wait for it to be ready — while x"
        );
        assert!(symptom(s, &Version::parse("v1.7.0")).contains("ready or fix it — while x"));
        assert!(symptom(s, &Version::default()).contains("(check C12; the running version"));
        assert!(symptom(s, &Version::parse("v1.0.3")).contains("which v1.0.3 does not have"));
        assert_eq!(symptom("plain", &Version::default()), "plain");
    }

    #[test]
    fn catalog_parses_and_every_regex_compiles() {
        let c: Vec<KnownIssue> = yaml_serde::from_str(CATALOG).expect("known-issues.yaml parses");
        assert!(c.len() >= 10);
        let mut ids = std::collections::BTreeSet::new();
        for k in &c {
            assert!(ids.insert(k.id.clone()), "duplicate id {}", k.id);
            validate(k).unwrap_or_else(|e| panic!("{}: {e}", k.id));
            assert!(!k.when.is_empty(), "{} has no signature", k.id);
            assert!(
                matches!(k.severity.as_str(), "error" | "warning" | "info"),
                "{}",
                k.id
            );
            for w in &k.when {
                match w {
                    Matcher::Log(l) => {
                        Regex::new(&l.matches).expect("log regex");
                    }
                    Matcher::Fleet(f) => {
                        f.check().unwrap_or_else(|e| panic!("{}: {e}", k.id));
                        if f.verdict == "stale" {
                            // The direction is explicit: the claim and the capture disagree.
                            assert!(
                                f.claims.iter().all(|c| !f.observed.contains(c)),
                                "{}: a stale claim cannot be what the capture shows",
                                k.id
                            );
                        }
                    }
                    Matcher::FleetState(f) => {
                        if let Some(r) = &f.message_matches {
                            Regex::new(r).expect("message regex");
                        }
                    }
                    Matcher::Object(o) => {
                        for f in &o.fields {
                            for r in f.matches.iter().chain(&f.not_matches) {
                                Regex::new(r).expect("field regex");
                            }
                        }
                    }
                    _ => {}
                }
            }
            let mut rest = k.symptom.as_str();
            while let Some(i) = rest.find("{denial ") {
                let id = rest[i + 8..].split_whitespace().next().unwrap_or_default();
                let id = id.trim_end_matches('}');
                assert!(
                    harvester::check(id).is_some(),
                    "{}: symptom names unknown check {id}",
                    k.id
                );
                rest = &rest[i + 8..];
            }
            if let Some(r) = &k.from {
                for v in [&r.since, &r.until].into_iter().flatten() {
                    assert!(Version::parse(v).num.is_some(), "{}: bad version {v}", k.id);
                }
            }
        }
        assert_eq!(
            log_patterns().len(),
            c.iter()
                .flat_map(|k| &k.when)
                .filter(|w| matches!(w, Matcher::Log(_)))
                .count()
        );
    }

    #[test]
    fn knowledge_files_load_and_malformed_ones_name_file_line_and_field() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = "- id: made-up-v1-99\n  title: Made-up issue\n  severity: info\n  from: {since: v1.99.0}\n  when:\n    - nodes: {min: 1}\n  symptom: s\n  cause: c\n  workaround: w\n";
        std::fs::write(dir.path().join("a.yaml"), good).expect("write");
        std::fs::write(dir.path().join("notes.txt"), "ignored").expect("write");
        let k = load_dir(dir.path()).expect("loads").issues;
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].id, "made-up-v1-99");
        // An unknown field: serde's message names it, with the line.
        std::fs::write(
            dir.path().join("b.yaml"),
            "- id: x\n  title: t\n  colour: red\n",
        )
        .expect("write");
        let e = load_dir(dir.path()).expect_err("unknown field");
        assert!(e.file.ends_with("b.yaml"), "{e}");
        assert!(e.line.is_some(), "{e}");
        assert!(e.to_string().contains("colour"), "{e}");
        // A regex that does not compile: the entry's line and the field.
        let bad = good.replace("made-up-v1-99", "bad-regex").replace(
            "    - nodes: {min: 1}\n",
            "    - log: {namespace: ns, matches: \"(unclosed\"}\n",
        );
        std::fs::write(dir.path().join("b.yaml"), format!("# comment\n{bad}")).expect("write");
        let e = load_dir(dir.path()).expect_err("bad regex");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(
            e.to_string()
                .contains("known issue bad-regex: when.log.matches"),
            "{e}"
        );
        // The same id twice across files.
        std::fs::write(dir.path().join("b.yaml"), good).expect("write");
        let e = load_dir(dir.path()).expect_err("duplicate");
        assert!(e.to_string().contains("already used"), "{e}");
        // A bad version.
        std::fs::write(
            dir.path().join("b.yaml"),
            good.replace("made-up-v1-99", "v").replace("v1.99.0", "one"),
        )
        .expect("write");
        let e = load_dir(dir.path()).expect_err("version");
        assert!(
            e.to_string()
                .contains("from.since: \"one\" is not a version"),
            "{e}"
        );
    }

    #[test]
    fn knowledge_files_add_denial_texts_to_known_checks_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let map = "known_issues: []\ndenials:\n  - check: C12\n    since: v1.10.0\n    text: managed chart {chart} is not ready yet\n";
        std::fs::write(dir.path().join("v1.10.yaml"), map).expect("write");
        let k = load_dir(dir.path()).expect("loads");
        assert_eq!(k.table.checks.len(), 1);
        assert_eq!(k.table.checks[0].id, "C12");
        for (bad, want) in [
            (
                "C99",
                "check: \"C99\" is not a check of the upgrade webhook",
            ),
            ("C12\n    case: nope", "case: \"nope\" is not a case of C12"),
        ] {
            std::fs::write(
                dir.path().join("v1.10.yaml"),
                map.replace("check: C12", &format!("check: {bad}")),
            )
            .expect("write");
            let e = load_dir(dir.path()).expect_err(want);
            assert!(e.to_string().contains(want), "{e}");
            assert_eq!(e.line, Some(3), "{e}");
        }
    }

    #[test]
    fn knowledge_files_extend_the_version_table_and_name_file_and_line_when_wrong() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = "releases: [v1.10.0]\nchecks:\n  - id: C25\n    versions: {since: v1.8.2, until: v1.9.x}\ngates:\n  - name: WAIT_MANAGED_CHART_UNAVAILABLE\n    versions: [{since: v1.9.0, until: v1.9.x}]\n";
        std::fs::write(dir.path().join("v1.10.yaml"), good).expect("write");
        let k = load_dir(dir.path()).expect("loads");
        let mut t = harvester::Table::embedded().expect("table");
        t.add(&k.table, false).expect("adds");
        assert_eq!(t.releases.last(), Some(&(1, 10, 0)));
        let v = |s: &str| Version::parse(s);
        let c25 = t.checks.iter().find(|c| c.id == "C25").expect("C25");
        assert!(c25.exists_in(&v("v1.9.1")) && !c25.exists_in(&v("v1.10.0")));
        let g = t
            .gates
            .iter()
            .find(|g| g.name == "WAIT_MANAGED_CHART_UNAVAILABLE")
            .expect("gate");
        assert!(!g.versions.iter().any(|r| r.contains(&v("v1.10.0"))));
        for (bad, want, line) in [
            (
                "id: C25",
                "checks C99: is not a check of the upgrade webhook",
                3,
            ),
            (
                "name: WAIT_MANAGED_CHART_UNAVAILABLE",
                "gates NOPE: is not a gate of this sbdiag",
                6,
            ),
            ("until: v1.9.x}", "is not a version like v1.10.0", 3),
            (
                "releases: [v1.10.0]",
                "releases: \"banana\" is not a version",
                1,
            ),
        ] {
            let text = match bad {
                "id: C25" => good.replace(bad, "id: C99"),
                "releases: [v1.10.0]" => good.replace(bad, "releases: [banana]"),
                "until: v1.9.x}" => good.replace(bad, "until: v1.banana}"),
                _ => good.replace(bad, "name: NOPE"),
            };
            std::fs::write(dir.path().join("v1.10.yaml"), text).expect("write");
            let e = load_dir(dir.path()).expect_err(want);
            assert!(e.to_string().contains(want), "{e}");
            assert!(e.to_string().contains("v1.10.yaml"), "{e}");
            assert_eq!(e.line, Some(line), "{e}");
        }
    }

    #[test]
    fn a_stale_fleet_matcher_must_name_its_direction() {
        let parse = |m: &str| yaml_serde::from_str::<Vec<Matcher>>(m).map(|_| ());
        let err = parse("- fleet: {bundle: b, verdict: stale}").unwrap_err();
        assert!(err.to_string().contains("names its direction"), "{err}");
        assert!(parse("- fleet: {verdict: stale, claims: [not-ready]}").is_err());
        assert!(parse("- fleet: {verdict: stale, claims: [broken], observed: [ready]}").is_err());
        assert!(parse("- fleet: {verdict: stalled, claims: [ready], observed: [ready]}").is_err());
        parse("- fleet: {verdict: stale, claims: [not-ready], observed: [ready]}").unwrap();
        parse("- fleet: {verdict: not-ready}").unwrap();
        let stale = catalog()
            .into_iter()
            .find(|k| k.id == "stale-fleet-status-after-reboot")
            .expect("entry");
        let Some(Matcher::Fleet(f)) = stale.when.first() else {
            panic!("a Fleet matcher")
        };
        assert_eq!(f.claims, ["not-ready", "modified"]);
        assert_eq!(f.observed, ["ready", "as-released"]);
        assert!(
            parse("- object: {kind: Pod, node: {exists: true}}")
                .unwrap_err()
                .to_string()
                .contains("Machines only")
        );
    }

    /// Known-issue ids that match in a world of these objects on v1.4.0, with their details.
    fn matched(objects: &[serde_json::Value]) -> Vec<(String, Vec<String>)> {
        let w = crate::upgrade::testkit::World::new(objects);
        w.env("v1.4.0", None, |env| {
            catalog()
                .iter()
                .filter_map(|k| matches(env, k, &[]).map(|m| (k.id.clone(), m.details)))
                .collect()
        })
    }

    #[test]
    fn a_machine_is_an_orphan_only_when_its_node_is_gone() {
        use crate::upgrade::testkit::{cluster, machine, set};
        use serde_json::json;
        // Machine m-n2 Provisioning while node n2 exists and is Ready.
        let mut objects = cluster(2);
        objects[3] = set(
            machine("m-n2", "n2"),
            "/status/phase",
            json!("Provisioning"),
        );
        let found = matched(&objects);
        assert!(
            !found.iter().any(|(id, _)| id == "orphan-capi-machine"),
            "{found:?}"
        );
        let (_, details) = found
            .iter()
            .find(|(id, _)| id == "capi-machine-not-running-node-present")
            .expect("the machine is reported for what it is");
        assert_eq!(
            details,
            &["Machine fleet-local/m-n2 (phase Provisioning; node n2 exists and is Ready)"]
        );
        // The same machine whose node is gone.
        let mut objects = cluster(2);
        objects[3] = set(machine("m-n2", "n9"), "/status/phase", json!("Failed"));
        objects.remove(2);
        let found = matched(&objects);
        assert!(
            !found
                .iter()
                .any(|(id, _)| id == "capi-machine-not-running-node-present"),
            "{found:?}"
        );
        let (_, details) = found
            .iter()
            .find(|(id, _)| id == "orphan-capi-machine")
            .expect("an orphan");
        assert_eq!(
            details,
            &[
                "Machine fleet-local/m-n2 (phase Failed; its nodeRef names node n9, which does not \
               exist)"
            ]
        );
        let sev = |id: &str| {
            catalog()
                .into_iter()
                .find(|k| k.id == id)
                .map(|k| k.severity)
                .unwrap_or_default()
        };
        assert_eq!(sev("orphan-capi-machine"), "error");
        assert_eq!(sev("capi-machine-not-running-node-present"), "warning");
    }

    #[test]
    fn pre_drain_log_lines_count_only_for_the_node_being_pre_drained() {
        use crate::upgrade::testkit::{World, cluster, set, upgrade};
        const ID: &str = "pre-drain-waits-for-degraded-volume";
        let k = catalog().into_iter().find(|k| k.id == ID).unwrap();
        let pattern = k
            .when
            .iter()
            .find_map(|w| match w {
                Matcher::Log(l) => Some(l.matches.clone()),
                _ => None,
            })
            .unwrap();
        let mut u = upgrade("hvst-upgrade-a", Some("UpgradingNodes"), None);
        u = set(
            u,
            "/status/nodeStatuses",
            serde_json::json!({"node-0": {"state": "Succeeded"}, "node-1": {"state": "Pre-draining"}}),
        );
        let pod = |node: &str| {
            serde_json::json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("hvst-upgrade-a-pre-drain-{node}-x"), "namespace": "harvester-system",
                             "labels": {"harvesterhci.io/node": node}},
                "spec": {"nodeName": node},
            })
        };
        let hit = |node: &str| LogHit {
            issue: ID.into(),
            pattern: pattern.clone(),
            file: format!("logs/harvester-system/hvst-upgrade-a-pre-drain-{node}-x/apply.log"),
            line: 7,
            text: "Waiting for volume pvc-1 to be healthy...".into(),
            count: 3,
        };
        let mut objects = cluster(2);
        objects.extend([u, pod("node-0"), pod("node-1")]);
        let w = World::new(&objects);
        let found =
            |hits: Vec<LogHit>| w.env("v1.4.0", None, |env| matches(env, &k, &hits).is_some());
        // The node being pre-drained: its job's log line counts.
        assert!(found(vec![hit("node-1")]));
        // An earlier node's finished pre-drain job: its old line does not.
        assert!(!found(vec![hit("node-0")]));
    }

    #[test]
    fn an_upgrade_log_chart_is_a_leftover_only_when_no_upgrade_runs() {
        use crate::upgrade::testkit::{cluster, managed_chart, upgrade};
        const ID: &str = "leftover-upgradelog-operator-chart";
        let chart = managed_chart(
            "fleet-local",
            "hvst-upgrade-a-upgradelog-operator",
            Some("False"),
        );
        let with = |u: serde_json::Value| {
            let mut v = cluster(1);
            v.extend([chart.clone(), u]);
            matched(&v).into_iter().any(|(id, _)| id == ID)
        };
        assert!(with(upgrade("hvst-upgrade-a", Some("Failed"), None)));
        // Its own upgrade, still preparing the logging infrastructure, or one without a state.
        assert!(!with(upgrade(
            "hvst-upgrade-a",
            Some("PreparingLoggingInfra"),
            None
        )));
        assert!(!with(upgrade("hvst-upgrade-a", None, None)));
    }

    #[test]
    fn metadata_paths_read_meta_on_kinds_kept_whole() {
        let yaml = "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  name: pvc-1\n  \
                    namespace: longhorn-system\n  uid: u-1\n  resourceVersion: \"7\"\n  \
                    generation: 3\n  labels:\n    a/b: c\n  finalizers:\n  - longhorn.io\n\
                    spec:\n  numberOfReplicas: 3\n";
        let o = Object::from_yaml("Volume", "longhorn.io", yaml);
        let crate::model::View::Tree(t) = &o.view else {
            panic!("a Volume is kept whole")
        };
        assert!(t.at("/metadata").is_none(), "metadata lives in meta only");
        let at = |p: &str| value_at(&o, p);
        assert_eq!(at("/metadata/name"), Some(serde_json::json!("pvc-1")));
        assert_eq!(at("/metadata/uid"), Some(serde_json::json!("u-1")));
        assert_eq!(
            at("/metadata/resourceVersion"),
            Some(serde_json::json!("7"))
        );
        assert_eq!(at("/metadata/generation"), Some(serde_json::json!(3)));
        assert_eq!(at("/metadata/labels/a~1b"), Some(serde_json::json!("c")));
        assert_eq!(
            at("/metadata/finalizers/0"),
            Some(serde_json::json!("longhorn.io"))
        );
        assert_eq!(at("/metadata/finalizers/1"), None);
        assert_eq!(at("/metadata/ownerReferences"), None);
        assert_eq!(at("/spec/numberOfReplicas"), Some(serde_json::json!(3)));
    }

    #[test]
    fn workarounds_hold_the_bundles_values() {
        let index = crate::index::Index::from_yaml_objects(&[
            "apiVersion: management.cattle.io/v3\nkind: ManagedChart\nmetadata:\n  name: a\n  namespace: fleet-local\n",
            "apiVersion: management.cattle.io/v3\nkind: ManagedChart\nmetadata:\n  name: b\n  namespace: fleet-local\n",
            "apiVersion: fleet.cattle.io/v1alpha1\nkind: Bundle\nmetadata:\n  name: mcc-harvester\n  namespace: fleet-local\nspec:\n  forceSyncGeneration: 4\n",
        ]);
        let m = Match {
            objects: (0..index.objects.len()).map(|i| (i, None)).collect(),
            ..Match::default()
        };
        let text = "Resume each:\n$ kubectl -n {ManagedChart.namespace} patch managedcharts {ManagedChart.name}\n$ kubectl delete machines {Machine.name}\n$ x '{\"forceSyncGeneration\":{next-force-sync mcc-harvester}}'\n$ y {next-force-sync none}";
        assert_eq!(
            workaround(text, &index, &m),
            "Resume each:\n$ kubectl -n fleet-local patch managedcharts a\n$ kubectl -n fleet-local \
             patch managedcharts b\n$ x '{\"forceSyncGeneration\":5}'\n$ y 1"
        );
        // No node is being drained: no PDB line at all.
        assert_eq!(
            workaround(
                "Then:\n$ kubectl delete pdb {drained-instance-manager-pdb}",
                &index,
                &m
            ),
            "Then:"
        );
    }
}
