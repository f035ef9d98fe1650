//! The single-file HTML report (templates/report.html, embedded at compile time): verdict and
//! the customer's description, then the incidents (each with its impact, its whole fix, its
//! status graph once, its cause, and the findings it explains folded under it), then the
//! findings no incident holds with their own graph and fix, coverage ledger, timeline, filters.
//! A graph scales down to the page's width (viewBox). Offline: no font, image, script or style
//! from the network; every bundle-derived string escaped.
//!
//! This module only formats values already in the [`Report`]: it groups, orders and lays out,
//! it never judges. The template is rendered with minijinja's HTML auto-escaping; the SVG of the
//! status graphs is built here, every string in it passed through [`escape`], and handed to the
//! template as a safe string. The page works with JavaScript disabled (filters and copy buttons
//! only appear when the small inline script runs) and the output is deterministic.
//!
//! Defence in depth: a Content-Security-Policy `<meta>` forbids every fetch (`default-src
//! 'none'`) and allows only the page's own script, by its SHA-256 hash, so even a string that
//! escaped escaping could neither load anything nor run.
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

use minijinja::context;
use minijinja::value::Value;

use super::layout::{Block, blocks, groups, steps};
use super::{CheckStatus, Evidence, Finding, ObjectRef, Severity, SubGraph};
use super::{Report, TimelineEntry};

/// Excerpts longer than this many lines are folded in `<details>`.
const FOLD_LINES: usize = 15;
/// Stands for the inline script's hash in the template's Content-Security-Policy.
const HASH_PLACEHOLDER: &str = "SBDIAG-SCRIPT-HASH";

/// Escapes text for HTML or SVG content and attribute values (`&`, `<`, `>`, `"`, `'`, `/`:
/// the same set minijinja's auto-escaping uses).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            c => out.push(c),
        }
    }
    out
}

/// `Kind namespace/name` (or `Kind name` when cluster-scoped).
fn object_label(o: &ObjectRef) -> String {
    format!("{} {}", o.kind, object_name(o))
}

/// `namespace/name`, or `name` when cluster-scoped.
fn object_name(o: &ObjectRef) -> String {
    if o.namespace.is_empty() {
        o.name.clone()
    } else {
        format!("{}/{}", o.namespace, o.name)
    }
}

/// `file:line-end_line`, `file:line`, or `file` (line 0: the file as a whole).
fn location(file: &str, line: u32, end_line: u32) -> String {
    if line == 0 {
        file.to_string()
    } else if end_line > line {
        format!("{file}:{line}-{end_line}")
    } else {
        format!("{file}:{line}")
    }
}

/// The link target of a reference, when it is a web address (anything else is shown as text).
fn web_link(s: &str) -> Option<&str> {
    let lower = s.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(s.trim())
}

/// One evidence item: its location and its excerpt line by line, with line numbers where known
/// and the focused line marked.
fn evidence_value(e: &Evidence) -> Value {
    let lines: Vec<&str> = e.excerpt.lines().collect();
    let span = if e.line == 0 {
        0
    } else {
        e.end_line.saturating_sub(e.line).saturating_add(1) as usize
    };
    let hit = e.focus.as_deref().filter(|f| !f.is_empty()).and_then(|f| {
        let mut it = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains(f))
            .map(|(i, _)| i);
        if e.focus_last {
            it.next_back()
        } else {
            it.next()
        }
    });
    let rows: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let n = (i < span).then(|| e.line as usize + i);
            context! { n => n, text => *l, hit => hit == Some(i) }
        })
        .collect();
    context! {
        loc => location(&e.file, e.line, e.end_line),
        fold => lines.len() > FOLD_LINES,
        count => lines.len(),
        rows => rows,
    }
}

/// A remediation as blocks: runs of prose lines (a paragraph each), runs of `$ ` commands
/// (one copyable block each) and literal text to paste (one copyable block each, indentation
/// kept).
fn fix_value(remediation: &str) -> Vec<Value> {
    blocks(steps(remediation))
        .into_iter()
        .map(|b| match b {
            Block::Commands(c) => context! { commands => owned(&c) },
            Block::Prose(p) => context! { prose => owned(&p) },
            Block::Literal(l) => context! { literal => l.join("\n") },
        })
        .collect()
}

fn owned(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

/// "8 upgrade.precheck.pod-status, 6 fleet.stale-status": the rules of some findings, most
/// frequent first.
fn by_rule(findings: &[&Finding]) -> String {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        *count.entry(f.rule.as_str()).or_default() += 1;
    }
    let mut v: Vec<(&str, usize)> = count.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A finding with everything the template shows. One an incident holds is drawn without its own
/// graph and fix: the incident's graph and fix stand for it.
fn finding_value(i: usize, f: &Finding, held: bool) -> Value {
    let objects: Vec<Value> = f
        .objects
        .iter()
        .map(|o| {
            context! {
                kind => o.kind.as_str(),
                name => object_name(o),
                api_version => o.api_version.as_str(),
            }
        })
        .collect();
    let references: Vec<Value> = f
        .references
        .iter()
        .map(|s| context! { text => s.as_str(), href => web_link(s) })
        .collect();
    let graph = f
        .graph
        .as_ref()
        .filter(|_| !held)
        .map(|g| Value::from_safe_string(graph_svg(g, &format!("Status graph of {}", f.id))));
    context! {
        anchor => format!("f{i}"),
        id => f.id.as_str(),
        rule => f.rule.as_str(),
        severity => f.severity.as_str(),
        open => f.severity >= Severity::Warning,
        title => f.title.as_str(),
        summary => f.summary.trim_end(),
        objects => objects,
        evidence => f.evidence.iter().map(evidence_value).collect::<Vec<_>>(),
        evidence_open => f.severity == Severity::Error,
        fix => if held { Vec::new() } else { fix_value(&f.remediation) },
        references => references,
        graph => graph,
    }
}

fn timeline_value(t: &TimelineEntry) -> Value {
    context! {
        at => t.at.as_str(),
        ago => t.ago.as_str(),
        kind => t.kind.as_str(),
        level => t.level.as_str(),
        text => t.text.as_str(),
        object => t.object.as_ref().map(object_label),
        evidence => t.evidence.as_ref().map(|e| location(&e.file, e.line, e.end_line)),
    }
}

/// Plural label of a severity group.
fn group_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "Errors",
        Severity::Warning => "Warnings",
        Severity::Info => "Informational",
    }
}

/// Renders the HTML report.
pub fn render(r: &Report) -> String {
    let (held, loose) = groups(r);
    // Anchors follow the report's order of findings.
    let anchor: BTreeMap<&str, usize> = r
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.as_str(), i))
        .collect();
    let value = |f: &Finding, held: bool| {
        finding_value(anchor.get(f.id.as_str()).copied().unwrap_or(0), f, held)
    };
    let incidents: Vec<Value> = held
        .iter()
        .enumerate()
        .map(|(n, g)| {
            let i = g.incident;
            let fix = if i.remediation.trim().is_empty() {
                g.cause.map(|c| c.remediation.as_str()).unwrap_or("")
            } else {
                i.remediation.as_str()
            };
            context! {
                anchor => format!("i{n}"),
                id => i.id.as_str(),
                severity => i.severity.as_str(),
                title => i.title.as_str(),
                impact => (!i.impact.trim().is_empty()).then(|| i.impact.trim()),
                fix => fix_value(fix),
                graph => i.graph.as_ref().map(|gr| {
                    Value::from_safe_string(graph_svg(gr, &format!("Status graph of {}", i.id)))
                }),
                cause => g.cause.map(|c| value(c, true)),
                effects => g.effects.iter().map(|f| value(f, true)).collect::<Vec<_>>(),
                effects_by_rule => by_rule(&g.effects),
            }
        })
        .collect();
    let groups: Vec<Value> = [Severity::Error, Severity::Warning, Severity::Info]
        .into_iter()
        .filter_map(|sev| {
            let items: Vec<Value> = loose
                .iter()
                .filter(|f| f.severity == sev)
                .map(|f| value(f, false))
                .collect();
            (!items.is_empty()).then(|| {
                context! {
                    severity => sev.as_str(),
                    label => group_label(sev),
                    count => items.len(),
                    findings => items,
                }
            })
        })
        .collect();
    let sevs: Vec<Value> = [Severity::Error, Severity::Warning, Severity::Info]
        .into_iter()
        .filter_map(|sev| {
            let n = r.findings.iter().filter(|f| f.severity == sev).count();
            (n > 0).then(|| context! { severity => sev.as_str(), count => n })
        })
        .collect();
    let link = |sev: Severity| {
        if loose.iter().any(|f| f.severity == sev) {
            format!("#sev-{}", sev.as_str())
        } else if !held.is_empty() {
            "#incidents".to_string()
        } else {
            "#findings".to_string()
        }
    };
    let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &r.findings {
        *rules.entry(f.rule.as_str()).or_default() += 1;
    }
    let rules: Vec<Value> = rules
        .into_iter()
        .map(|(rule, count)| context! { rule => rule, count => count })
        .collect();
    let gaps: Vec<Value> = r
        .coverage
        .missing
        .iter()
        .map(|g| {
            context! {
                what => g.what.as_str(),
                why => g.why.as_str(),
                fix => g.fix.as_str(),
                level => g.level.as_str(),
                rule => g.rule.as_str(),
                evidence => g
                    .evidence
                    .iter()
                    .map(|e| location(&e.file, e.line, e.end_line))
                    .collect::<Vec<_>>(),
            }
        })
        .collect();
    let parse_errors: Vec<Value> = r
        .coverage
        .parse_errors
        .iter()
        .map(|p| context! { loc => location(&p.file, p.line, p.line), error => p.error.as_str() })
        .collect();
    let checks: Vec<Value> = r
        .checks
        .iter()
        .map(|c| {
            context! {
                rule => c.rule.as_str(),
                check => c.check.as_deref(),
                status => c.status.as_str(),
                reason => c.reason.as_str(),
            }
        })
        .collect();
    let skipped: Vec<Value> = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::NotEvaluated)
        .map(|c| context! { rule => c.rule.as_str(), check => c.check.as_deref(), reason => c.reason.as_str() })
        .collect();
    let vms: Vec<Value> = r
        .vms
        .iter()
        .map(|v| {
            let finding_link = |id: &String| {
                let i = anchor.get(id.as_str()).copied();
                let f = i.and_then(|i| r.findings.get(i));
                context! {
                    href => i.map(|i| format!("#f{i}")),
                    id => id.as_str(),
                    severity => f.map(|f| f.severity.as_str()),
                    title => f.map(|f| f.title.as_str()).unwrap_or(id.as_str()),
                }
            };
            context! {
                anchor => format!("vm-{}-{}", v.namespace, v.name),
                namespace => v.namespace.as_str(),
                name => v.name.as_str(),
                status => v.status.as_str(),
                worst => v.worst.map(|s| s.as_str()),
                problems => v.findings.len(),
                links => v.links.iter().map(|l| context! {
                    indent => l.depth,
                    relation => l.relation.as_str(),
                    object => l.object.as_str(),
                    state => l.state.as_str(),
                    at => l.file.as_deref().map(|f| {
                        location(f, l.line.unwrap_or(0), l.end_line.unwrap_or(0))
                    }),
                    findings => l.findings.iter().map(finding_link).collect::<Vec<_>>(),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let count = |s: CheckStatus| r.checks.iter().filter(|c| c.status == s).count();
    let b = &r.bundle;
    let c = &r.coverage.collected;
    let ctx = context! {
        tool => context! { name => r.tool.name.as_str(), version => r.tool.version.as_str() },
        bundle => context! {
            source => b.source.as_str(),
            created_at => b.created_at.as_deref(),
            cluster_id => b.cluster_id.as_deref(),
            kubernetes_version => b.kubernetes_version.as_deref(),
            harvester_version => b.harvester_version.as_str(),
            rancher_version => b.rancher_version.as_deref(),
            nodes => b.nodes,
            node_names => b.node_names.clone(),
            files => b.files,
            objects => b.objects,
        },
        verdict => context! {
            headline => r.verdict.headline.as_str(),
            upgrade => r.verdict.upgrade.as_deref().filter(|u| *u != r.verdict.headline),
            errors => r.verdict.errors,
            warnings => r.verdict.warnings,
            infos => r.verdict.infos,
            not_evaluated => r.verdict.not_evaluated,
            worst => r.worst().map(|s| s.as_str()).unwrap_or("none"),
        },
        issue => context! {
            text => b.issue_description.as_deref().map(str::trim).filter(|t| !t.is_empty()),
            url => b.issue_url.as_deref().map(str::trim).filter(|t| !t.is_empty()),
            href => b.issue_url.as_deref().and_then(web_link),
        },
        links => context! {
            error => link(Severity::Error),
            warning => link(Severity::Warning),
            info => link(Severity::Info),
        },
        incidents => incidents,
        sevs => sevs,
        groups => groups,
        total => loose.len(),
        rules => rules,
        coverage => context! {
            resource_lists => c.resource_lists,
            namespaces => c.namespaces.clone(),
            pod_logs => c.pod_logs,
            previous_pod_logs => c.previous_pod_logs,
            node_bundles => c.node_bundles.clone(),
            gaps => gaps,
            collection_errors => r.coverage.collection_errors,
            parse_errors => parse_errors,
            failed => r
                .coverage
                .failed
                .iter()
                .map(|p| context! { file => p.file.as_str(), error => p.error.as_str() })
                .collect::<Vec<_>>(),
        },
        checks => checks,
        skipped => skipped,
        passed => count(CheckStatus::Pass),
        failed_checks => count(CheckStatus::Fail),
        timeline => r.timeline.iter().map(timeline_value).collect::<Vec<_>>(),
        vms => vms,
    };
    match super::render_template("report.html", ctx) {
        Ok(s) => format!("{}\n", with_script_hash(s.trim_end())),
        Err(e) => format!(
            "<!doctype html>\n<meta charset=\"utf-8\">\n<title>sbdiag report</title>\n\
             <p>sbdiag: cannot render the HTML template: {}</p>\n",
            escape(&e.to_string())
        ),
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |v: u32| char::from(ABC.get((v & 63) as usize).copied().unwrap_or(b'='));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(v >> 18));
        out.push(sym(v >> 12));
        out.push(if chunk.len() > 1 { sym(v >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(v) } else { '=' });
    }
    out
}

/// Puts the SHA-256 of the page's inline script (the last `<script>` element: the bundle's text
/// is escaped, so the template's is the only one) into the Content-Security-Policy.
fn with_script_hash(page: &str) -> String {
    use sha2::{Digest, Sha256};
    let body = page.rfind("<script>").and_then(|start| {
        let from = start + "<script>".len();
        let rest = page.get(from..)?;
        rest.find("</script>").and_then(|end| rest.get(..end))
    });
    let hash = body.map_or_else(String::new, |b| base64(&Sha256::digest(b.as_bytes())));
    page.replacen(HASH_PLACEHOLDER, &hash, 1)
}

// ---------------------------------------------------------------------------------------------
// Status graph as inline SVG
// ---------------------------------------------------------------------------------------------

/// Box width.
const BOX_W: i64 = 272;
/// Horizontal space between columns (edge labels live there).
const COL_GAP: i64 = 120;
/// Vertical space between boxes of a column.
const ROW_GAP: i64 = 14;
/// Space around the drawing.
const MARGIN: i64 = 12;
/// Padding inside a box.
const PAD_X: i64 = 10;
/// Padding above and below the text of a box.
const PAD_Y: i64 = 7;
/// Line height inside a box.
const LINE_H: i64 = 15;
/// Characters per line inside a box (11px monospace is about 6.6px a character).
const BOX_CHARS: usize = 38;
/// Characters of an edge label.
const LABEL_CHARS: usize = 16;
/// How far a same-column edge bulges to the right.
const LOOP_W: i64 = 64;

/// Splits `s` into at most `max_lines` lines of at most `width` characters, breaking after a
/// space or punctuation where possible; the last line ends with `…` when text is left over.
/// Control characters become spaces.
fn wrap(s: &str, width: usize, max_lines: usize) -> Vec<String> {
    let chars: Vec<char> = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let width = width.max(2);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < chars.len() && out.len() < max_lines {
        let rest = chars.get(pos..).unwrap_or_default();
        if rest.len() <= width {
            out.push(rest.iter().collect::<String>().trim_end().to_string());
            break;
        }
        if out.len() + 1 == max_lines {
            let mut line: String = rest.iter().take(width - 1).collect();
            line.push('…');
            out.push(line);
            break;
        }
        // Break after a space if there is one in the second half of the line, else after
        // punctuation (names and paths), else anywhere.
        let after = |pred: fn(&char) -> bool| {
            (width / 2..=width)
                .rev()
                .find(|&k| rest.get(k - 1).is_some_and(pred))
        };
        let cut = after(|c| *c == ' ')
            .or_else(|| after(|c| matches!(c, '/' | '-' | ',' | ';' | ':' | '.' | ')' | '_')))
            .unwrap_or(width);
        out.push(
            rest.iter()
                .take(cut)
                .collect::<String>()
                .trim_end()
                .to_string(),
        );
        pos += cut;
        while chars.get(pos) == Some(&' ') {
            pos += 1;
        }
    }
    out
}

/// Shortens `s` to `width` characters with `…`.
fn clip(s: &str, width: usize) -> String {
    wrap(s, width, 1).into_iter().next().unwrap_or_default()
}

/// A node placed in the drawing.
struct Placed {
    x: i64,
    y: i64,
    h: i64,
    col: usize,
    /// (CSS class, text) per line.
    lines: Vec<(&'static str, String)>,
}

impl Placed {
    fn mid_y(&self) -> i64 {
        self.y + self.h / 2
    }
}

/// Columns by breadth-first depth from node 0 (edges taken both ways); nodes not connected to
/// it start further columns, component by component, in index order.
fn columns(g: &SubGraph) -> Vec<Vec<usize>> {
    let n = g.nodes.len();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in &g.edges {
        if e.from < n && e.to < n && e.from != e.to {
            if let Some(a) = adj.get_mut(e.from) {
                a.push(e.to);
            }
            if let Some(a) = adj.get_mut(e.to) {
                a.push(e.from);
            }
        }
    }
    for a in &mut adj {
        a.sort_unstable();
        a.dedup();
    }
    let mut depth: Vec<Option<usize>> = vec![None; n];
    let mut cols: Vec<Vec<usize>> = Vec::new();
    for start in 0..n {
        if depth.get(start).copied().flatten().is_some() {
            continue;
        }
        let base = cols.len();
        let mut queue = VecDeque::from([(start, base)]);
        if let Some(d) = depth.get_mut(start) {
            *d = Some(base);
        }
        while let Some((u, d)) = queue.pop_front() {
            if cols.len() <= d {
                cols.resize_with(d + 1, Vec::new);
            }
            if let Some(c) = cols.get_mut(d) {
                c.push(u);
            }
            for &v in adj.get(u).map(Vec::as_slice).unwrap_or_default() {
                if let Some(slot) = depth.get_mut(v)
                    && slot.is_none()
                {
                    *slot = Some(d + 1);
                    queue.push_back((v, d + 1));
                }
            }
        }
    }
    cols
}

/// The status graph of a finding as an inline SVG element: one column per breadth-first depth
/// from the subject (node 0), a box per object with its kind, name, observed status and Fleet's
/// claim, a red border on objects that are not ready, arrows labelled with the relation. Every
/// string is escaped; hovering a box shows its full text.
fn graph_svg(g: &SubGraph, label: &str) -> String {
    let n = g.nodes.len();
    if n == 0 {
        return String::new();
    }
    let cols = columns(g);
    // Text and size of every box.
    let mut placed: Vec<Placed> = g
        .nodes
        .iter()
        .map(|node| {
            let mut lines = vec![("k", clip(&node.object.kind, BOX_CHARS))];
            lines.extend(
                wrap(&object_name(&node.object), BOX_CHARS, 2)
                    .into_iter()
                    .map(|l| ("nm", l)),
            );
            // An unready object's status is what the reader came for: give it more room.
            let status_lines = if node.ready { 2 } else { 3 };
            lines.extend(
                wrap(&node.status, BOX_CHARS, status_lines)
                    .into_iter()
                    .map(|l| ("st", l)),
            );
            if let Some(c) = &node.claimed {
                lines.extend(wrap(c, BOX_CHARS, 2).into_iter().map(|l| ("cl", l)));
            }
            let h = PAD_Y * 2 + LINE_H * lines.len() as i64;
            Placed {
                x: 0,
                y: 0,
                h,
                col: 0,
                lines,
            }
        })
        .collect();
    let col_h: Vec<i64> = cols
        .iter()
        .map(|c| {
            c.iter()
                .filter_map(|&i| placed.get(i).map(|p| p.h))
                .sum::<i64>()
                + ROW_GAP * (c.len() as i64 - 1).max(0)
        })
        .collect();
    let inner_h = col_h.iter().copied().max().unwrap_or(0);
    for (ci, c) in cols.iter().enumerate() {
        let mut y = MARGIN + (inner_h - col_h.get(ci).copied().unwrap_or(0)) / 2;
        let x = MARGIN + ci as i64 * (BOX_W + COL_GAP);
        for &i in c {
            if let Some(p) = placed.get_mut(i) {
                p.x = x;
                p.y = y;
                p.col = ci;
                y += p.h + ROW_GAP;
            }
        }
    }
    // Edges, without duplicates and self-loops, with a side of each box to attach to.
    let mut edges: Vec<(usize, usize, &str)> = g
        .edges
        .iter()
        .filter(|e| e.from < n && e.to < n && e.from != e.to)
        .map(|e| (e.from, e.to, e.kind.as_str()))
        .collect();
    edges.sort_unstable();
    edges.dedup();
    // Which side of a box an edge leaves or enters: true for the right side.
    let sides = |from: &Placed, to: &Placed| -> (bool, bool) {
        match from.col.cmp(&to.col) {
            std::cmp::Ordering::Less => (true, false),
            std::cmp::Ordering::Greater => (false, true),
            std::cmp::Ordering::Equal => (true, true),
        }
    };
    // Ports: per (node, side), the edges attached, ordered by the other end's height.
    let mut ports: BTreeMap<(usize, bool), Vec<(i64, usize)>> = BTreeMap::new();
    for (k, &(a, b, _)) in edges.iter().enumerate() {
        let (Some(pa), Some(pb)) = (placed.get(a), placed.get(b)) else {
            continue;
        };
        let (sa, sb) = sides(pa, pb);
        ports.entry((a, sa)).or_default().push((pb.mid_y(), k));
        ports.entry((b, sb)).or_default().push((pa.mid_y(), k));
    }
    let mut port_y: BTreeMap<(usize, usize), i64> = BTreeMap::new();
    for ((node, _), list) in &mut ports {
        list.sort_unstable();
        let Some(p) = placed.get(*node) else {
            continue;
        };
        let cnt = list.len() as i64;
        for (j, &(_, k)) in list.iter().enumerate() {
            port_y.insert((k, *node), p.y + p.h * (j as i64 + 1) / (cnt + 1));
        }
    }
    let any_loop = edges.iter().any(|&(a, b, _)| {
        matches!((placed.get(a), placed.get(b)), (Some(pa), Some(pb)) if pa.col == pb.col)
    });
    let ncols = cols.len() as i64;
    let width = MARGIN * 2
        + ncols * BOX_W
        + (ncols - 1).max(0) * COL_GAP
        + if any_loop { LOOP_W + 40 } else { 0 };
    let height = MARGIN * 2 + inner_h;

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"graph\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         role=\"img\" aria-label=\"{l}\"><title>{l}</title>",
        l = escape(label)
    );
    let mut paths = String::new();
    let mut labels = String::new();
    for (k, &(a, b, kind)) in edges.iter().enumerate() {
        let (Some(pa), Some(pb)) = (placed.get(a), placed.get(b)) else {
            continue;
        };
        let (ra, rb) = sides(pa, pb);
        let y1 = port_y.get(&(k, a)).copied().unwrap_or(pa.mid_y());
        let y2 = port_y.get(&(k, b)).copied().unwrap_or(pb.mid_y());
        let x1 = if ra { pa.x + BOX_W } else { pa.x };
        let x2 = if rb { pb.x + BOX_W } else { pb.x };
        // The arrow points into the box: rightwards onto a left side, leftwards onto a right one.
        let dir = if rb { -1 } else { 1 };
        let tip = x2;
        let base = x2 - dir * 8;
        let (c1, c2) = if pa.col == pb.col {
            (x1 + LOOP_W, x2 + LOOP_W)
        } else {
            let dx = (base - x1) / 2;
            (x1 + dx, base - dx)
        };
        let edge_class = if g.nodes.get(b).is_some_and(|n| !n.ready)
            || g.nodes.get(a).is_some_and(|n| !n.ready)
        {
            "e bad"
        } else {
            "e"
        };
        let _ = write!(
            paths,
            "<g class=\"{edge_class}\"><path d=\"M{x1} {y1} C{c1} {y1} {c2} {y2} {base} {y2}\"/>\
             <path class=\"ah\" d=\"M{tip} {y2} L{base} {} L{base} {} Z\"/></g>",
            y2 - 4,
            y2 + 4
        );
        let text = escape(&clip(kind, LABEL_CHARS));
        let title = escape(&format!(
            "{} {} {}",
            g.nodes
                .get(a)
                .map(|n| object_label(&n.object))
                .unwrap_or_default(),
            kind,
            g.nodes
                .get(b)
                .map(|n| object_label(&n.object))
                .unwrap_or_default()
        ));
        let (lx, ly, anchor) = if pa.col == pb.col {
            (x1 + LOOP_W * 3 / 4 + 4, (y1 + y2) / 2 + 4, "start")
        } else if rb {
            (base + 4, y2 - 5, "start")
        } else {
            (base - 4, y2 - 5, "end")
        };
        let _ = write!(
            labels,
            "<text class=\"el\" x=\"{lx}\" y=\"{ly}\" text-anchor=\"{anchor}\"><title>{title}</title>{text}</text>"
        );
    }
    s.push_str("<g class=\"edges\">");
    s.push_str(&paths);
    s.push_str("</g><g class=\"nodes\">");
    for (i, (p, node)) in placed.iter().zip(&g.nodes).enumerate() {
        let mut class = String::from("n");
        if !node.ready {
            class.push_str(" bad");
        }
        if i == 0 {
            class.push_str(" subject");
        }
        let mut title = format!("{}\n{}", object_label(&node.object), node.status);
        if let Some(c) = &node.claimed {
            title.push('\n');
            title.push_str(c);
        }
        let _ = write!(
            s,
            "<g class=\"{class}\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{BOX_W}\" height=\"{}\" rx=\"6\"/>",
            escape(&title),
            p.x,
            p.y,
            p.h
        );
        for (j, (cls, text)) in p.lines.iter().enumerate() {
            let _ = write!(
                s,
                "<text class=\"{cls}\" x=\"{}\" y=\"{}\">{}</text>",
                p.x + PAD_X,
                p.y + PAD_Y + LINE_H * (j as i64 + 1) - 4,
                escape(text)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</g><g class=\"labels\">");
    s.push_str(&labels);
    s.push_str("</g></svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{GraphEdge, GraphNode};

    fn obj(kind: &str, ns: &str, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    fn node(kind: &str, ns: &str, name: &str, status: &str, ready: bool) -> GraphNode {
        GraphNode {
            object: obj(kind, ns, name),
            status: status.into(),
            ready,
            claimed: None,
        }
    }

    fn edge(from: usize, to: usize, kind: &str) -> GraphEdge {
        GraphEdge {
            from,
            to,
            kind: kind.into(),
        }
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert('x') & "y"</script>"#),
            "&lt;script&gt;alert(&#x27;x&#x27;) &amp; &quot;y&quot;&lt;&#x2f;script&gt;"
        );
        assert_eq!(escape("plain-text ✓"), "plain-text ✓");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn script_hash_goes_into_the_policy() {
        let page = "<meta content=\"script-src 'sha256-SBDIAG-SCRIPT-HASH'\"><p>SBDIAG-SCRIPT-HASH</p>\
                    <script>alert(1)</script>";
        // sha256("alert(1)"), base64: what a browser computes for this inline script.
        assert_eq!(
            with_script_hash(page),
            "<meta content=\"script-src 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='\">\
             <p>SBDIAG-SCRIPT-HASH</p><script>alert(1)</script>"
        );
    }

    #[test]
    fn evidence_lines_are_numbered_and_the_focus_marked() {
        let mut e = Evidence {
            file: "f.yaml".into(),
            line: 10,
            end_line: 12,
            excerpt: String::new(),
            focus: Some("reason".into()),
            focus_last: false,
        };
        e.excerpt = "status:\n  reason: Error\n  type: Ready\n… (3 more lines)\n".into();
        let show = |e: &Evidence| {
            minijinja::Environment::new()
                .render_str(
                    "{{ e.loc }}|{% for l in e.rows %}{{ l.n }}:{{ l.hit }};{% endfor %}",
                    context! { e => evidence_value(e) },
                )
                .unwrap_or_default()
        };
        // The trailing "… more lines" note has no number.
        assert_eq!(
            show(&e),
            "f.yaml:10-12|10:False;11:True;12:False;None:False;"
        );
        e.focus_last = true;
        e.excerpt = "reason: A\nreason: B\n".into();
        e.end_line = 11;
        assert_eq!(show(&e), "f.yaml:10-11|10:False;11:True;");
        let whole = Evidence {
            file: "logs/x.log".into(),
            line: 0,
            end_line: 0,
            excerpt: String::new(),
            focus: None,
            focus_last: false,
        };
        assert_eq!(show(&whole), "logs/x.log|");
    }

    #[test]
    fn wrap_breaks_and_clips() {
        assert_eq!(wrap("short", 10, 2), vec!["short"]);
        assert_eq!(
            wrap("aaaa bbbb cccc dddd", 10, 2),
            vec!["aaaa bbbb", "cccc dddd"]
        );
        assert_eq!(wrap("abcdefghijklmnop", 6, 2), vec!["abcdef", "ghijk…"]);
        assert_eq!(wrap("a\nb", 10, 1), vec!["a b"]);
        // A space wins over punctuation.
        assert_eq!(
            wrap("stopped (failed at 2025-02-13T03:28:40Z)", 24, 2),
            vec!["stopped (failed at", "2025-02-13T03:28:40Z)"]
        );
        assert_eq!(
            wrap("ns/name-with-dashes", 12, 2),
            vec!["ns/name-", "with-dashes"]
        );
        assert!(wrap("", 10, 2).is_empty());
        assert_eq!(clip("relationship-kind", 8), "relatio…");
    }

    #[test]
    fn columns_follow_breadth_first_depth() {
        let g = SubGraph {
            nodes: vec![
                node("Volume", "ns", "v", "degraded", false),
                node("Replica", "ns", "r1", "running", true),
                node("Replica", "ns", "r2", "stopped", false),
                node("Node", "", "n1", "active", true),
                node("Pod", "ns", "lonely", "running", true),
            ],
            edges: vec![
                edge(0, 1, "owns"),
                edge(0, 2, "owns"),
                edge(1, 3, "runs on"),
                edge(9, 0, "broken"),
            ],
        };
        assert_eq!(columns(&g), vec![vec![0], vec![1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn graph_svg_escapes_and_marks_not_ready() {
        let mut bad = node(
            "Node",
            "",
            "n<script>alert(1)</script>",
            "<img src=x onerror=alert(2)>",
            false,
        );
        bad.claimed = Some("Fleet claims \"Ready\" & <b>fine</b>".into());
        let g = SubGraph {
            nodes: vec![
                bad,
                node("Pod", "ns", "p", "running", true),
                node("Pod", "ns", "q", "running", true),
            ],
            edges: vec![
                edge(0, 1, "<owns>"),
                edge(0, 2, "owns"),
                edge(1, 2, "selects"),
                edge(2, 2, "self"),
            ],
        };
        let svg = graph_svg(&g, "Status graph of x<y>");
        assert!(svg.starts_with("<svg class=\"graph\""));
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("<img"));
        assert!(!svg.contains("<b>"));
        assert!(!svg.contains("<owns>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("&lt;owns&gt;"));
        assert!(svg.contains("Fleet claims &quot;Ready&quot; &amp;"));
        assert!(svg.contains("<g class=\"n bad subject\">"));
        assert_eq!(svg.matches("<rect ").count(), 3);
        // Three edges drawn (the self-loop is dropped), one of them between boxes of a column.
        assert_eq!(svg.matches("class=\"ah\"").count(), 3);
        assert!(!svg.contains("url("));
        // Deterministic.
        assert_eq!(svg, graph_svg(&g, "Status graph of x<y>"));
    }

    #[test]
    fn boxes_in_a_column_do_not_overlap() {
        let mut nodes = vec![node("Bundle", "fleet-local", "b", "NotReady", false)];
        let mut edges = Vec::new();
        for i in 1..=12 {
            nodes.push(node(
                "Deployment",
                "harvester-system",
                &format!("deployment-with-a-rather-long-name-{i}"),
                "[progressing] Deployment does not have minimum availability., Available: 0/3",
                i % 2 == 0,
            ));
            edges.push(edge(0, i, "deploys"));
        }
        let g = SubGraph { nodes, edges };
        let svg = graph_svg(&g, "g");
        let rects: Vec<(i64, i64, i64)> = svg
            .split("<rect ")
            .skip(1)
            .map(|r| {
                let num = |key: &str| -> i64 {
                    let start = r.find(key).map(|p| p + key.len()).unwrap_or(0);
                    r[start..]
                        .split('"')
                        .next()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(-1)
                };
                (num("x=\""), num("y=\""), num("height=\""))
            })
            .collect();
        assert_eq!(rects.len(), 13);
        for (i, a) in rects.iter().enumerate() {
            for b in rects.iter().skip(i + 1) {
                let overlap = a.0 == b.0 && a.1 < b.1 + b.2 && b.1 < a.1 + a.2;
                assert!(!overlap, "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn incidents_come_first_with_one_graph_and_their_findings_folded() {
        use crate::report::layout::tests::{finding, incident};
        let mut r = Report::empty_for_tests();
        r.verdict.headline = "Node n2 is down".into();
        r.bundle.issue_description = Some("VMs gone <script>x</script>\nsince Monday".into());
        r.bundle.issue_url = Some("https://example.com/t/1".into());
        let graph = |name: &str| SubGraph {
            nodes: vec![
                node("Node", "", name, "NotReady", false),
                node("Pod", "ns", "a", "Running", true),
            ],
            edges: vec![edge(1, 0, "runs on")],
        };
        r.findings = vec![
            finding(
                "node.not-ready:Node/n2",
                Severity::Error,
                "Node n2 is not Ready",
            ),
            finding(
                "upgrade.precheck.pod-status:Pod/ns/a",
                Severity::Error,
                "Pod ns/a is not Ready",
            ),
            finding(
                "node.cordoned:Node/n3",
                Severity::Warning,
                "Node n3 is cordoned",
            ),
        ];
        r.findings[0].graph = Some(graph("n2-own-graph"));
        r.findings[1].graph = Some(graph("a-own-graph"));
        r.findings[1].remediation = "$ kubectl -n ns delete pod a".into();
        r.findings[2].remediation = "$ kubectl uncordon n3".into();
        incident(
            &mut r,
            "incident:Node/n2",
            "Node n2 is down",
            "node.not-ready:Node/n2",
            &["upgrade.precheck.pod-status:Pod/ns/a"],
        );
        r.incidents[0].graph = Some(graph("incident-graph"));
        r.incidents[0].remediation = "Check the node's power.\n$ kubectl get node n2\n$ kubectl describe node n2\nThen wait.".into();
        let html = render(&r);
        let at = |needle: &str| {
            html.find(needle)
                .unwrap_or_else(|| panic!("{needle:?} not in the page"))
        };
        assert!(html.contains("<div class=\"issue-text\">VMs gone &lt;script&gt;x&lt;&#x2f;script&gt;\nsince Monday</div>"));
        assert!(html.contains("<a href=\"https:&#x2f;&#x2f;example.com&#x2f;t&#x2f;1\""));
        assert!(at("id=\"issue\"") < at("<section id=\"incidents\">"));
        assert!(at("<section id=\"incidents\">") < at("<section id=\"findings\">"));
        assert!(at("<span class=\"title\">Node n2 is down</span>") < at("<h4>Cause</h4>"));
        assert!(
            at("<p class=\"impact\"><b>Impact:</b> Impact of incident:Node&#x2f;n2.</p>")
                < at("<h4>Cause</h4>")
        );
        // The fix: prose as paragraphs, the commands in one copyable block.
        assert!(html.contains("<p class=\"step\">Check the node&#x27;s power.</p>\n<div class=\"fix\"><pre id=\"i0-fix2\">kubectl get node n2\nkubectl describe node n2</pre>"), "{html}");
        assert!(html.contains("<p class=\"step\">Then wait.</p>"));
        // One graph for the incident; the findings it holds do not draw their own, nor offer
        // their own fix.
        assert_eq!(html.matches("<svg class=\"graph\"").count(), 1);
        assert!(
            html.contains("incident-graph")
                && !html.contains("n2-own-graph")
                && !html.contains("a-own-graph")
        );
        assert!(!html.contains("delete pod a"));
        assert!(
            at(
                "<details class=\"effects\"><summary>1 related finding(s): 1 upgrade.precheck.pod-status</summary>"
            ) < at("Pod ns&#x2f;a is not Ready")
        );
        // A finding no incident holds keeps its fix, under "Findings outside incidents".
        assert!(
            at("Findings outside incidents (1)")
                < at("<pre id=\"f2-fix1\">kubectl uncordon n3</pre>")
        );
        // Filters count every finding; the error pill points at the incidents.
        assert!(html.contains(
            "data-sev=\"error\" checked> <span class=\"badge error\">error</span>2</label>"
        ));
        assert!(html.contains("<a class=\"pill error\" href=\"#incidents\">"));
        assert!(html.contains("<a class=\"pill warning\" href=\"#sev-warning\">"));
    }

    #[test]
    fn yaml_to_paste_is_one_copyable_block_with_its_indentation() {
        let v = fix_value(
            "Keep the field and tell Fleet to ignore it. Append to spec.diff.comparePatches:\n  - apiVersion: storage.k8s.io/v1\n    kind: StorageClass\n    jsonPointers:\n    - /parameters/numberOfReplicas\nThen force a redeploy:\n$ kubectl -n fleet-local patch bundles.fleet.cattle.io mcc-harvester",
        );
        let got = format!("{v:?}");
        assert_eq!(v.len(), 4, "{got}");
        let mut r = Report::empty_for_tests();
        r.findings = vec![crate::report::layout::tests::finding(
            "fleet.modified:x",
            Severity::Error,
            "Chart drift",
        )];
        r.findings[0].remediation = "Keep the field and tell Fleet to ignore it. Append to spec.diff.comparePatches:\n  - apiVersion: storage.k8s.io/v1\n    kind: StorageClass\n    jsonPointers:\n    - /parameters/numberOfReplicas\nThen force a redeploy:\n$ kubectl -n fleet-local patch bundles.fleet.cattle.io mcc-harvester".into();
        let html = render(&r);
        assert!(html.contains("<pre class=\"literal\" id=\"f0-fix2\">- apiVersion: storage.k8s.io&#x2f;v1\n  kind: StorageClass\n  jsonPointers:\n  - &#x2f;parameters&#x2f;numberOfReplicas</pre>"), "{html}");
        assert!(html.contains("<p class=\"step\">Then force a redeploy:</p>"));
    }

    #[test]
    fn empty_graph_draws_nothing() {
        let g = SubGraph {
            nodes: vec![],
            edges: vec![],
        };
        assert_eq!(graph_svg(&g, "x"), "");
    }
}
