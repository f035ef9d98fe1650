//! The cross-bundle summary, computed from the rows alone (so a merge of shards renders the
//! same bytes as one scan): `scan.jsonl` (one JSON object per bundle, for jq, DuckDB or a data
//! warehouse), `scan.csv` (RFC 4180, one line per bundle) and `scan.html` (self-contained:
//! shared findings, the matrix finding × bundle grouped by cluster and Harvester version,
//! trends per cluster over capture time, failed and duplicate bundles; no script, nothing
//! from the network, every string escaped by the template engine).
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, context};
use serde::Serialize;

use super::{Row, ScanError, Status, severity_rank};

/// The JSON Lines summary file.
pub const JSONL: &str = "scan.jsonl";
/// The CSV summary file.
pub const CSV: &str = "scan.csv";
/// The HTML summary file.
pub const HTML: &str = "scan.html";

/// The HTML template, embedded at compile time.
const TEMPLATE: &str = include_str!("../../templates/scan.html");

/// Writes the three summary files into `dir`.
pub fn write(dir: &Path, rows: &[Row]) -> Result<(), ScanError> {
    for (name, body) in [(JSONL, jsonl(rows)), (CSV, csv(rows)), (HTML, html(rows))] {
        let p = dir.join(name);
        std::fs::write(&p, body).map_err(|source| ScanError::Io { path: p, source })?;
    }
    Ok(())
}

/// One JSON object per line, rows in the order given.
pub fn jsonl(rows: &[Row]) -> String {
    let mut out = String::new();
    for r in rows {
        match serde_json::to_string(r) {
            Ok(s) => out.push_str(&s),
            Err(e) => out.push_str(&format!(
                "{{\"name\":{:?},\"status\":\"error\",\"error\":\"cannot serialise: {e}\"}}",
                r.name
            )),
        }
        out.push('\n');
    }
    out
}

/// CSV columns.
const CSV_HEADER: &[&str] = &[
    "name",
    "path",
    "status",
    "cluster_id",
    "harvester_version",
    "kubernetes_version",
    "created_at",
    "nodes",
    "objects",
    "errors",
    "warnings",
    "infos",
    "not_evaluated",
    "top_severity",
    "top_finding",
    "top_title",
    "findings",
    "verdict",
    "sha256",
    "duplicate_of",
    "error",
];

/// A CSV text field: quoted when it holds a comma, quote, CR or LF (quotes doubled), and
/// prefixed with `'` when it starts like a spreadsheet formula (`=`, `+`, `-`, `@`, tab, CR),
/// so opening the file in a spreadsheet never evaluates bundle content.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// One line per bundle; `findings` holds the finding ids separated by `;`.
pub fn csv(rows: &[Row]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for r in rows {
        let top = r.findings.first();
        let text = |s: Option<&str>| csv_field(s.unwrap_or(""));
        let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
        let status = match r.status {
            Status::Ok => "ok",
            Status::Error => "error",
            Status::Duplicate => "duplicate",
        };
        let fields = [
            csv_field(&r.name),
            csv_field(&r.path),
            status.to_string(),
            text(r.cluster_id.as_deref()),
            text(r.harvester_version.as_deref()),
            text(r.kubernetes_version.as_deref()),
            text(r.created_at.as_deref()),
            r.nodes.to_string(),
            r.objects.to_string(),
            r.errors.to_string(),
            r.warnings.to_string(),
            r.infos.to_string(),
            r.not_evaluated.to_string(),
            text(top.map(|f| f.severity.as_str())),
            text(top.map(|f| f.id.as_str())),
            text(top.map(|f| f.title.as_str())),
            csv_field(&ids.join(";")),
            text(r.verdict.as_deref()),
            text(r.sha256.as_deref()),
            text(r.duplicate_of.as_deref()),
            text(r.error.as_deref()),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Percent-encodes a `/`-separated relative name for an `href` (each segment; `/` kept).
pub fn href(name: &str, file: &str) -> String {
    let mut out = String::new();
    for (i, seg) in name.split('/').chain(std::iter::once(file)).enumerate() {
        if i > 0 {
            out.push('/');
        }
        for b in seg.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Compares version-like strings by their numeric runs (`v1.10.0` after `v1.9.2`).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut v = Vec::new();
        let mut start = 0;
        let mut digit = None;
        for (i, c) in s.char_indices() {
            let d = c.is_ascii_digit();
            if digit.is_some_and(|x| x != d) {
                if let Some(part) = s.get(start..i) {
                    v.push((digit == Some(true), part));
                }
                start = i;
            }
            digit = Some(d);
        }
        if let Some(part) = s.get(start..)
            && !part.is_empty()
        {
            v.push((digit == Some(true), part));
        }
        v
    }
    let (x, y) = (chunks(a), chunks(b));
    for (p, q) in x.iter().zip(y.iter()) {
        let o = match (p, q) {
            ((true, m), (true, n)) => {
                let (m, n) = (m.trim_start_matches('0'), n.trim_start_matches('0'));
                m.len().cmp(&n.len()).then_with(|| m.cmp(n))
            }
            ((_, m), (_, n)) => m.cmp(n),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    x.len().cmp(&y.len()).then_with(|| a.cmp(b))
}

const UNKNOWN: &str = "unknown";

/// The report link of a row: its HTML report, else the first report file.
fn report_link(r: &Row) -> Option<String> {
    r.reports
        .iter()
        .find(|f| f.as_str() == "report.html")
        .or_else(|| r.reports.first())
        .map(|f| href(&r.name, f))
}

#[derive(Serialize)]
struct Column {
    name: String,
    href: Option<String>,
    created_at: String,
    cluster: String,
    version: String,
    errors: usize,
    warnings: usize,
    infos: usize,
}

#[derive(Serialize)]
struct Span {
    label: String,
    span: usize,
}

#[derive(Serialize)]
struct MatrixRow {
    id: String,
    rule: String,
    severity: String,
    title: String,
    bundles: usize,
    clusters: usize,
    cells: Vec<String>,
}

#[derive(Serialize)]
struct RuleGroup {
    rule: String,
    rows: Vec<MatrixRow>,
}

#[derive(Serialize)]
struct SharedFinding {
    id: String,
    severity: String,
    title: String,
    bundles: Vec<Column>,
    clusters: Vec<String>,
}

#[derive(Serialize)]
struct Point {
    name: String,
    href: Option<String>,
    created_at: String,
    version: String,
    errors: usize,
    warnings: usize,
    infos: usize,
    appeared: Vec<String>,
    resolved: Vec<String>,
    x: usize,
    err_y: usize,
    err_h: usize,
    warn_y: usize,
    warn_h: usize,
}

#[derive(Serialize)]
struct Trend {
    cluster: String,
    width: usize,
    points: Vec<Point>,
}

/// Chart geometry of the trends (pixels).
const BAR_STEP: usize = 22;
const BAR_HEIGHT: usize = 60;
const CHART_TOP: usize = 6;

fn cluster_of(r: &Row) -> String {
    r.cluster_id.clone().unwrap_or_else(|| UNKNOWN.into())
}

fn version_of(r: &Row) -> String {
    r.harvester_version
        .clone()
        .unwrap_or_else(|| UNKNOWN.into())
}

/// Clusters sort by id, the unknown cluster last.
fn cluster_cmp(a: &str, b: &str) -> Ordering {
    (a == UNKNOWN).cmp(&(b == UNKNOWN)).then_with(|| a.cmp(b))
}

fn column(r: &Row) -> Column {
    Column {
        name: r.name.clone(),
        href: report_link(r),
        created_at: r.created_at.clone().unwrap_or_else(|| "-".into()),
        cluster: cluster_of(r),
        version: version_of(r),
        errors: r.errors,
        warnings: r.warnings,
        infos: r.infos,
    }
}

fn spans(labels: impl Iterator<Item = String>) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for l in labels {
        match out.last_mut() {
            Some(s) if s.label == l => s.span += 1,
            _ => out.push(Span { label: l, span: 1 }),
        }
    }
    out
}

fn trends(ok: &[&Row]) -> Vec<Trend> {
    let mut by_cluster: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in ok {
        by_cluster.entry(cluster_of(r)).or_default().push(r);
    }
    let mut clusters: Vec<(String, Vec<&Row>)> = by_cluster.into_iter().collect();
    clusters.sort_by(|a, b| cluster_cmp(&a.0, &b.0));
    clusters
        .into_iter()
        .map(|(cluster, mut rows)| {
            rows.sort_by(|a, b| (&a.created_at, &a.name).cmp(&(&b.created_at, &b.name)));
            let max = rows
                .iter()
                .map(|r| r.errors + r.warnings)
                .max()
                .unwrap_or(0)
                .max(1);
            let scale = |v: usize| (v * BAR_HEIGHT + max / 2) / max;
            let mut prev: Option<BTreeSet<&str>> = None;
            let points = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let ids: BTreeSet<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
                    let (appeared, resolved) = match &prev {
                        Some(p) => (
                            ids.difference(p).map(|s| s.to_string()).collect(),
                            p.difference(&ids).map(|s| s.to_string()).collect(),
                        ),
                        None => (Vec::new(), Vec::new()),
                    };
                    prev = Some(ids);
                    let err_h = scale(r.errors);
                    let warn_h = scale(r.errors + r.warnings).saturating_sub(err_h);
                    let bottom = CHART_TOP + BAR_HEIGHT;
                    Point {
                        name: r.name.clone(),
                        href: report_link(r),
                        created_at: r.created_at.clone().unwrap_or_else(|| "-".into()),
                        version: version_of(r),
                        errors: r.errors,
                        warnings: r.warnings,
                        infos: r.infos,
                        appeared,
                        resolved,
                        x: 4 + i * BAR_STEP,
                        err_y: bottom - err_h,
                        err_h,
                        warn_y: bottom - err_h - warn_h,
                        warn_h,
                    }
                })
                .collect::<Vec<_>>();
            Trend {
                cluster,
                width: 8 + points.len() * BAR_STEP,
                points,
            }
        })
        .collect()
}

/// The HTML summary.
pub fn html(rows: &[Row]) -> String {
    let mut ok: Vec<&Row> = rows.iter().filter(|r| r.status == Status::Ok).collect();
    ok.sort_by(|a, b| {
        cluster_cmp(&cluster_of(a), &cluster_of(b))
            .then_with(|| natural_cmp(&version_of(a), &version_of(b)))
            .then_with(|| a.created_at.cmp(&b.created_at))
            .then_with(|| a.name.cmp(&b.name))
    });
    let columns: Vec<Column> = ok.iter().map(|r| column(r)).collect();
    let cluster_spans = spans(columns.iter().map(|c| c.cluster.clone()));
    let version_spans = spans(
        columns
            .iter()
            .map(|c| format!("{}\u{0}{}", c.cluster, c.version)),
    )
    .into_iter()
    .map(|s| Span {
        label: s
            .label
            .split_once('\u{0}')
            .map(|(_, v)| v.to_string())
            .unwrap_or_default(),
        span: s.span,
    })
    .collect::<Vec<_>>();
    // Findings: severity per column, title from the first bundle by name that has it.
    struct Acc {
        rule: String,
        title: String,
        title_from: String,
        rank: u8,
        cells: Vec<String>,
        bundles: Vec<usize>,
        clusters: BTreeSet<String>,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for (col, r) in ok.iter().enumerate() {
        for f in &r.findings {
            let a = acc.entry(f.id.clone()).or_insert_with(|| Acc {
                rule: f.rule.clone(),
                title: f.title.clone(),
                title_from: r.name.clone(),
                rank: 0,
                cells: vec![String::new(); ok.len()],
                bundles: Vec::new(),
                clusters: BTreeSet::new(),
            });
            if r.name < a.title_from {
                a.title = f.title.clone();
                a.title_from = r.name.clone();
            }
            a.rank = a.rank.max(f.rank());
            if let Some(c) = a.cells.get_mut(col)
                && (c.is_empty() || severity_rank(c) < f.rank())
            {
                *c = f.severity.clone();
            }
            if a.bundles.last() != Some(&col) {
                a.bundles.push(col);
            }
            a.clusters.insert(cluster_of(r));
        }
    }
    let sev = |rank: u8| match rank {
        2 => "error",
        1 => "warning",
        _ => "info",
    };
    let mut matrix: Vec<MatrixRow> = acc
        .iter()
        .map(|(id, a)| MatrixRow {
            id: id.clone(),
            rule: a.rule.clone(),
            severity: sev(a.rank).to_string(),
            title: a.title.clone(),
            bundles: a.bundles.len(),
            clusters: a.clusters.len(),
            cells: a.cells.clone(),
        })
        .collect();
    matrix.sort_by(|a, b| (&a.rule, &a.id).cmp(&(&b.rule, &b.id)));
    let mut rules: Vec<RuleGroup> = Vec::new();
    for m in matrix {
        match rules.last_mut() {
            Some(g) if g.rule == m.rule => g.rows.push(m),
            _ => rules.push(RuleGroup {
                rule: m.rule.clone(),
                rows: vec![m],
            }),
        }
    }
    // The rules with the worst findings first (errors at the top of the matrix), then by id.
    let worst = |g: &RuleGroup| {
        g.rows
            .iter()
            .map(|r| severity_rank(&r.severity))
            .max()
            .unwrap_or(0)
    };
    rules.sort_by(|a, b| worst(b).cmp(&worst(a)).then_with(|| a.rule.cmp(&b.rule)));
    let mut shared: Vec<SharedFinding> = acc
        .iter()
        .filter(|(_, a)| a.bundles.len() > 1)
        .map(|(id, a)| SharedFinding {
            id: id.clone(),
            severity: sev(a.rank).to_string(),
            title: a.title.clone(),
            bundles: a
                .bundles
                .iter()
                .filter_map(|&i| ok.get(i).map(|r| column(r)))
                .collect(),
            clusters: a.clusters.iter().cloned().collect(),
        })
        .collect();
    shared.sort_by(|a, b| {
        severity_rank(&b.severity)
            .cmp(&severity_rank(&a.severity))
            .then_with(|| b.bundles.len().cmp(&a.bundles.len()))
            .then_with(|| a.id.cmp(&b.id))
    });
    let failed: Vec<(String, String, String)> = rows
        .iter()
        .filter(|r| r.status == Status::Error)
        .map(|r| {
            (
                r.name.clone(),
                r.path.clone(),
                r.error.clone().unwrap_or_default(),
            )
        })
        .collect();
    let duplicates: Vec<(String, String, String)> = rows
        .iter()
        .filter(|r| r.status == Status::Duplicate)
        .map(|r| {
            (
                r.name.clone(),
                r.path.clone(),
                r.duplicate_of.clone().unwrap_or_default(),
            )
        })
        .collect();
    let cluster_count = ok
        .iter()
        .map(|r| cluster_of(r))
        .collect::<BTreeSet<_>>()
        .len();
    let ctx = context! {
        version => env!("CARGO_PKG_VERSION"),
        total => rows.len(),
        analysed => ok.len(),
        failed => Value::from(Serde(&failed)),
        duplicates => Value::from(Serde(&duplicates)),
        clusters => cluster_count,
        columns => Value::from(Serde(&columns)),
        cluster_spans => Value::from(Serde(&cluster_spans)),
        version_spans => Value::from(Serde(&version_spans)),
        rules => Value::from(Serde(&rules)),
        shared => Value::from(Serde(&shared)),
        trends => Value::from(Serde(trends(&ok))),
        bar_bottom => CHART_TOP + BAR_HEIGHT,
        chart_height => CHART_TOP + BAR_HEIGHT + 4,
    };
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    match env.render_str(TEMPLATE, ctx) {
        Ok(s) => format!("{}\n", s.trim_end()),
        Err(e) => format!(
            "<!doctype html><title>sbdiag scan</title><p>cannot render the summary: {}</p>\n",
            crate::report::html::escape(&e.to_string())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::FindingBrief;
    use super::*;

    fn row(name: &str, cluster: &str, at: &str, ids: &[(&str, &str)]) -> Row {
        let findings: Vec<FindingBrief> = ids
            .iter()
            .map(|(id, sev)| FindingBrief {
                id: id.to_string(),
                rule: id.split(':').next().unwrap_or("").to_string(),
                severity: sev.to_string(),
                title: format!("title of {id}"),
            })
            .collect();
        Row {
            name: name.into(),
            path: format!("{name}.zip"),
            status: Status::Ok,
            sha256: Some(format!("sha-{name}")),
            error: None,
            duplicate_of: None,
            format: Some("zip".into()),
            cluster_id: Some(cluster.into()),
            harvester_version: Some("v1.4.0".into()),
            kubernetes_version: None,
            created_at: Some(at.into()),
            nodes: 3,
            objects: 10,
            errors: findings.iter().filter(|f| f.severity == "error").count(),
            warnings: findings.iter().filter(|f| f.severity == "warning").count(),
            infos: findings.iter().filter(|f| f.severity == "info").count(),
            not_evaluated: 0,
            verdict: Some("v".into()),
            top_finding: findings.first().map(|f| f.id.clone()),
            findings,
            reports: vec!["report.html".into()],
        }
    }

    #[test]
    fn csv_quotes_and_defuses() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@sum"), "'@sum");
        let rows = vec![row(
            "a,b",
            "c1",
            "2025-01-01T00:00:00Z",
            &[("x.y:1", "error")],
        )];
        let text = csv(&rows);
        let mut lines = text.split("\r\n");
        assert_eq!(lines.next().map(|l| l.split(',').count()), Some(21));
        assert!(
            lines
                .next()
                .unwrap_or("")
                .starts_with("\"a,b\",\"a,b.zip\",ok,c1,")
        );
    }

    #[test]
    fn html_escapes_bundle_content() {
        let mut evil = row(
            "<script>alert(1)</script>",
            "c\"1",
            "2025-01-01T00:00:00Z",
            &[("x.y:<img src=x onerror=alert(1)>", "error")],
        );
        evil.findings[0].title = "<b>bold</b> & more".into();
        let other = row("b", "c\"1", "2025-01-02T00:00:00Z", &[]);
        let h = html(&[evil, other]);
        assert!(!h.contains("<script>alert"));
        assert!(!h.contains("<img src=x"));
        assert!(!h.contains("<b>bold"));
        assert!(h.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(h.contains("&lt;b&gt;bold&lt;&#x2f;b&gt; &amp; more"));
        // The link is percent-encoded, then escaped.
        assert!(h.contains("href=\"%3Cscript%3Ealert%281%29%3C&#x2f;script%3E&#x2f;report.html\""));
        assert!(!h.contains("<script"), "the summary carries no script");
        assert!(!h.contains("http://") && !h.contains("https://"));
    }

    #[test]
    fn html_is_deterministic_and_names_shared_findings() {
        let rows = vec![
            row("a", "c1", "2025-01-01T00:00:00Z", &[("f.x:1", "error")]),
            row(
                "b",
                "c1",
                "2025-01-02T00:00:00Z",
                &[("f.x:1", "error"), ("g.y:2", "warning")],
            ),
            row("c", "c2", "2025-01-01T00:00:00Z", &[("g.y:2", "warning")]),
        ];
        let h = html(&rows);
        assert_eq!(h, html(&rows));
        assert!(h.contains("f.x:1"));
        assert!(h.contains("appeared"));
        let t = trends(&rows.iter().collect::<Vec<_>>());
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].points[1].appeared, vec!["g.y:2".to_string()]);
    }

    #[test]
    fn versions_sort_naturally() {
        assert_eq!(natural_cmp("v1.10.0", "v1.9.2"), Ordering::Greater);
        assert_eq!(natural_cmp("v1.4.0", "v1.4.0"), Ordering::Equal);
        assert_eq!(natural_cmp("v1.4.0-rc1", "v1.4.0"), Ordering::Greater);
        assert_eq!(href("a b/c", "report.html"), "a%20b/c/report.html");
    }
}
