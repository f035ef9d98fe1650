//! Batch scanning of archived bundles (`sbdiag scan`): discovery, stable shards, duplicate
//! detection, bounded parallel analysis, per-bundle reports and the cross-bundle summary
//! (`scan.jsonl`, `scan.csv`, `scan.html`), and the merge of shard outputs.
//!
//! Memory stays bounded: at most `jobs` bundles are analysed at once, each analysis is
//! dropped as soon as its reports are written, and only a small [`Row`] per bundle is kept.
//! The summary is computed from the rows alone and rows are sorted by their unique name, so
//! the merge of shard outputs (which reads their `scan.jsonl`) gives byte-identical summary
//! files to an unsharded scan. Nothing in the output depends on the time of the run or on the
//! machine (paths are relative to the PATH arguments).
pub mod discover;
pub mod hash;
pub mod shard;
pub mod summary;

use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};

use crate::analyze::Analysis;
use crate::archive::Limits;
use crate::report::CheckStatus;
use crate::report::{self, Report};
use crate::text::{flatten, one_line, plural};

pub use discover::{Candidate, Discovery, discover};
pub use shard::Shard;

/// Errors that stop a scan or a merge (a broken bundle does not: it becomes an error row).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A path cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An argument cannot be used.
    #[error("{0}")]
    Usage(String),
    /// A shard output cannot be merged.
    #[error("{path}:{line}: {reason}")]
    Merge {
        /// The `scan.jsonl` file.
        path: PathBuf,
        /// 1-based line (0: the file as a whole).
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ScanError + '_ {
    move |source| ScanError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A per-bundle report file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// `report.html`.
    Html,
    /// `report.md`.
    Md,
    /// `report.json`.
    Json,
    /// `report.sarif`.
    Sarif,
    /// `report.junit.xml`.
    Junit,
}

impl ReportFormat {
    /// Every format, in the order their files are listed.
    pub const ALL: [ReportFormat; 5] = [
        ReportFormat::Html,
        ReportFormat::Md,
        ReportFormat::Json,
        ReportFormat::Sarif,
        ReportFormat::Junit,
    ];

    /// The file name inside the bundle's report folder.
    pub fn file_name(self) -> &'static str {
        match self {
            ReportFormat::Html => "report.html",
            ReportFormat::Md => "report.md",
            ReportFormat::Json => "report.json",
            ReportFormat::Sarif => "report.sarif",
            ReportFormat::Junit => "report.junit.xml",
        }
    }

    /// Renders a report in this format.
    pub fn render(self, r: &Report) -> String {
        match self {
            ReportFormat::Html => report::html::render(r),
            ReportFormat::Md => report::markdown::render(r),
            ReportFormat::Json => report::json::render(r),
            ReportFormat::Sarif => report::sarif::render(r),
            ReportFormat::Junit => report::junit::render(r),
        }
    }

    fn from_file_name(name: &str) -> Option<ReportFormat> {
        Self::ALL.into_iter().find(|f| f.file_name() == name)
    }
}

/// Writes a bundle's report files into `dir` (created if needed); returns the file names
/// written, in the order of `formats`.
pub fn write_reports(
    dir: &Path,
    r: &Report,
    formats: &[ReportFormat],
) -> Result<Vec<String>, ScanError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut written = Vec::new();
    for f in formats {
        let path = dir.join(f.file_name());
        std::fs::write(&path, f.render(r)).map_err(io_err(&path))?;
        if !written.iter().any(|w| w == f.file_name()) {
            written.push(f.file_name().to_string());
        }
    }
    Ok(written)
}

/// `--rules`: which findings the summary counts. Empty keeps every rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleFilter {
    patterns: Vec<String>,
}

impl RuleFilter {
    /// Parses a comma-separated list of rule ids (`fleet.stale-status`), families (`fleet`,
    /// which keeps `fleet.*`) or prefixes (`fleet.`, `upgrade.pre*`). Every entry must match a
    /// rule of `known`.
    pub fn parse(list: &str, known: &[&str]) -> Result<RuleFilter, ScanError> {
        let patterns: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let f = RuleFilter { patterns };
        for p in &f.patterns {
            if !known.iter().any(|r| Self::matches_one(p, r)) {
                return Err(ScanError::Usage(format!(
                    "--rules: {p:?} matches no rule; `sbdiag rules` lists them"
                )));
            }
        }
        Ok(f)
    }

    fn matches_one(p: &str, rule: &str) -> bool {
        if let Some(prefix) = p.strip_suffix('*') {
            return rule.starts_with(prefix);
        }
        if p.ends_with('.') {
            return rule.starts_with(p);
        }
        rule == p
            || rule
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('.'))
    }

    /// Whether findings of `rule` are kept.
    pub fn matches(&self, rule: &str) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| Self::matches_one(p, rule))
    }

    /// Whether the filter keeps everything.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// Everything `scan` needs besides the bundles.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output folder: per-bundle reports in `<output>/<name>/`, the summary at the top.
    pub output: PathBuf,
    /// Bundles analysed at once (at least 1).
    pub jobs: usize,
    /// This run's shard, if any.
    pub shard: Option<Shard>,
    /// Findings counted in the summary.
    pub rules: RuleFilter,
    /// Per-bundle report files.
    pub formats: Vec<ReportFormat>,
    /// Archive safety limits.
    pub limits: Limits,
}

/// What became of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Analysed; its reports are in `<output>/<name>/`.
    Ok,
    /// Could not be analysed (`error` says why).
    Error,
    /// Same bytes as another bundle (`duplicate_of`), skipped.
    Duplicate,
}

/// A finding as the summary keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingBrief {
    /// Stable finding id.
    pub id: String,
    /// Rule id.
    pub rule: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// Title.
    pub title: String,
}

impl FindingBrief {
    /// Severity rank: error 2, warning 1, info 0.
    pub fn rank(&self) -> u8 {
        severity_rank(&self.severity)
    }
}

/// Rank of a severity name (error 2, warning 1, anything else 0).
pub fn severity_rank(s: &str) -> u8 {
    match s {
        "error" => 2,
        "warning" => 1,
        _ => 0,
    }
}

/// One bundle of the scan: a line of `scan.jsonl`, of `scan.csv` and of stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Unique name; the reports are in `<output>/<name>/`.
    pub name: String,
    /// Path relative to the PATH argument it was found under (the shard key).
    pub path: String,
    /// Outcome.
    pub status: Status,
    /// SHA-256 of the archive bytes (of the sorted listing and contents for folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Why the bundle could not be analysed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The bundle with the same content that was analysed instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Container format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Cluster id (`bundle.cluster_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// Harvester version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harvester_version: Option<String>,
    /// Kubernetes version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// Capture time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Node count.
    #[serde(default)]
    pub nodes: usize,
    /// Distinct objects indexed.
    #[serde(default)]
    pub objects: usize,
    /// Error findings (of the selected rules).
    #[serde(default)]
    pub errors: usize,
    /// Warning findings.
    #[serde(default)]
    pub warnings: usize,
    /// Informational findings.
    #[serde(default)]
    pub infos: usize,
    /// Selected rules that could not be evaluated.
    #[serde(default)]
    pub not_evaluated: usize,
    /// The report's one-sentence verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// The most severe finding's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_finding: Option<String>,
    /// Findings of the selected rules, most severe first.
    #[serde(default)]
    pub findings: Vec<FindingBrief>,
    /// Report files in `<output>/<name>/`.
    #[serde(default)]
    pub reports: Vec<String>,
}

/// Longest finding title shown on a stdout line (the summary files keep it whole).
const LINE_TITLE: usize = 100;

impl Row {
    fn empty(name: &str, path: &str, status: Status) -> Row {
        Row {
            name: name.to_string(),
            path: path.to_string(),
            status,
            sha256: None,
            error: None,
            duplicate_of: None,
            format: None,
            cluster_id: None,
            harvester_version: None,
            kubernetes_version: None,
            created_at: None,
            nodes: 0,
            objects: 0,
            errors: 0,
            warnings: 0,
            infos: 0,
            not_evaluated: 0,
            verdict: None,
            top_finding: None,
            findings: Vec::new(),
            reports: Vec::new(),
        }
    }

    /// A bundle that could not be analysed.
    pub fn failed(c: &Candidate, sha256: Option<String>, error: String) -> Row {
        let mut r = Row::empty(&c.name, &c.key, Status::Error);
        r.sha256 = sha256;
        r.error = Some(flatten(&error));
        r
    }

    /// A duplicate of `keeper`: only its identity is kept, so a duplicate found by a scan and
    /// one found by a merge of shards are the same row.
    pub fn duplicate(name: &str, path: &str, sha256: &str, keeper: &str) -> Row {
        Row {
            sha256: Some(sha256.to_string()),
            duplicate_of: Some(keeper.to_string()),
            ..Row::empty(name, path, Status::Duplicate)
        }
    }

    /// The row of an analysed bundle; findings and checks outside `rules` are left out.
    pub fn analysed(
        c: &Candidate,
        sha256: Option<String>,
        r: &Report,
        rules: &RuleFilter,
        reports: Vec<String>,
    ) -> Row {
        let findings: Vec<FindingBrief> = r
            .findings
            .iter()
            .filter(|f| rules.matches(&f.rule))
            .map(|f| FindingBrief {
                id: f.id.clone(),
                rule: f.rule.clone(),
                severity: f.severity.as_str().to_string(),
                title: flatten(&f.title),
            })
            .collect();
        let count = |s: &str| findings.iter().filter(|f| f.severity == s).count();
        let b = &r.bundle;
        Row {
            sha256,
            format: serde_json::to_value(b.format)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string)),
            cluster_id: b.cluster_id.clone(),
            harvester_version: Some(b.harvester_version.clone()),
            kubernetes_version: b.kubernetes_version.clone(),
            created_at: b.created_at.clone(),
            nodes: b.nodes,
            objects: b.objects,
            errors: count("error"),
            warnings: count("warning"),
            infos: count("info"),
            not_evaluated: r
                .checks
                .iter()
                .filter(|k| k.status == CheckStatus::NotEvaluated && rules.matches(&k.rule))
                .count(),
            verdict: Some(flatten(&r.verdict.headline)),
            top_finding: findings.first().map(|f| f.id.clone()),
            findings,
            reports,
            ..Row::empty(&c.name, &c.key, Status::Ok)
        }
    }

    /// The stdout line: name, cluster, Harvester version, capture time, counts, top finding.
    pub fn line(&self) -> String {
        let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        match self.status {
            Status::Error => format!(
                "{}  ERROR  {}",
                self.name,
                self.error.as_deref().unwrap_or("unknown error")
            ),
            Status::Duplicate => format!(
                "{}  DUPLICATE  same SHA-256 as {}, skipped",
                self.name,
                self.duplicate_of.as_deref().unwrap_or("-")
            ),
            Status::Ok => {
                let top = self
                    .findings
                    .first()
                    .map(|f| {
                        format!(
                            "top: {} {} {}",
                            f.severity,
                            f.id,
                            one_line(&f.title, LINE_TITLE)
                        )
                    })
                    .unwrap_or_else(|| "top: none".into());
                format!(
                    "{}  cluster {}  harvester {}  captured {}  {}, {}, {} info  {}",
                    self.name,
                    dash(&self.cluster_id),
                    dash(&self.harvester_version),
                    dash(&self.created_at),
                    plural(self.errors, "error", "errors"),
                    plural(self.warnings, "warning", "warnings"),
                    self.infos,
                    top
                )
            }
        }
    }
}

/// Progress of a scan, reported on the calling thread.
#[derive(Debug)]
pub enum Event<'a> {
    /// Content hashes computed (duplicate detection), `done` of `total`.
    Hashing {
        /// Hashed so far.
        done: usize,
        /// To hash.
        total: usize,
    },
    /// A bundle is finished (rows come in name order).
    Row {
        /// Its row.
        row: &'a Row,
        /// Rows reported so far, this one included.
        done: usize,
        /// Bundles of this shard.
        total: usize,
    },
}

/// The result of a scan or a merge.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Bundles found before sharding.
    pub discovered: usize,
    /// Rows, sorted by name.
    pub rows: Vec<Row>,
}

impl Outcome {
    /// Rows of a status.
    pub fn count(&self, s: Status) -> usize {
        self.rows.iter().filter(|r| r.status == s).count()
    }

    /// The most severe finding rank over analysed bundles (2 error, 1 warning, 0 info).
    pub fn worst(&self) -> Option<u8> {
        self.rows
            .iter()
            .flat_map(|r| r.findings.iter().map(FindingBrief::rank))
            .max()
    }
}

/// For each content hash, the row that keeps it: the smallest name.
fn keepers<'a>(rows: impl Iterator<Item = (&'a str, &'a str)>) -> HashMap<&'a str, &'a str> {
    let mut k: HashMap<&str, &str> = HashMap::new();
    for (name, sha) in rows {
        let e = k.entry(sha).or_insert(name);
        if name < *e {
            *e = name;
        }
    }
    k
}

/// Runs `work(i)` for `0..n` on `jobs` threads; `on(i, result)` runs on the calling thread,
/// in index order.
fn pool<T: Send>(
    n: usize,
    jobs: usize,
    work: &(dyn Fn(usize) -> T + Sync),
    on: &mut dyn FnMut(usize, T),
) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    if tx.send((i, work(i))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<usize, T> = BTreeMap::new();
        let mut emit = 0;
        for (i, t) in rx {
            pending.insert(i, t);
            while let Some(t) = pending.remove(&emit) {
                on(emit, t);
                emit += 1;
            }
        }
    });
}

/// Analyses one bundle and writes its reports; never panics (a panic in the analysis of a
/// hostile bundle becomes an error row).
fn analyse(c: &Candidate, sha256: Option<String>, opts: &Options) -> Row {
    let shown = c.path.display().to_string();
    let relative = |msg: String| msg.replace(&shown, &c.key);
    let run = || -> Result<Row, String> {
        let a = Analysis::load(&c.path, &opts.limits, &|_, _| {})
            .map_err(|e| relative(e.to_string()))?;
        let r = a.report();
        drop(a);
        let rel = discover::safe_relative(&c.name)
            .ok_or_else(|| format!("{}: unusable report folder name", c.key))?;
        let files = write_reports(&opts.output.join(rel), &r, &opts.formats)
            .map_err(|e| format!("cannot write the reports: {e}"))?;
        Ok(Row::analysed(c, sha256.clone(), &r, &opts.rules, files))
    };
    match std::panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(row)) => row,
        Ok(Err(e)) => Row::failed(c, sha256, e),
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Row::failed(
                c,
                sha256,
                format!("{}: internal error while analysing: {what}", c.key),
            )
        }
    }
}

/// Scans the candidates of this shard: hashes them, skips duplicates, analyses the rest
/// (`opts.jobs` at a time), writes their reports and the summary. `on` sees progress and each
/// row, in name order.
pub fn run(
    candidates: &[Candidate],
    opts: &Options,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<Outcome, ScanError> {
    std::fs::create_dir_all(&opts.output).map_err(io_err(&opts.output))?;
    let mine: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| opts.shard.is_none_or(|s| s.contains(&c.key)))
        .collect();
    let total = mine.len();
    // 1. Content hashes, for duplicates.
    let mut hashes: Vec<Result<String, String>> = Vec::with_capacity(total);
    pool(
        total,
        opts.jobs,
        &|i| {
            let Some(c) = mine.get(i) else {
                return Err("internal: no such candidate".to_string());
            };
            let h = if c.is_dir {
                hash::folder(&c.path)
            } else {
                hash::file(&c.path)
            };
            h.map_err(|e| e.to_string().replace(&c.path.display().to_string(), &c.key))
        },
        &mut |i, h| {
            hashes.push(h);
            on(Event::Hashing { done: i + 1, total });
        },
    );
    let keep: HashMap<String, String> = keepers(
        mine.iter()
            .zip(&hashes)
            .filter_map(|(c, h)| h.as_ref().ok().map(|h| (c.name.as_str(), h.as_str()))),
    )
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // 2. Analysis of what is not a duplicate.
    enum Plan {
        Analyse(Option<String>),
        Done(Box<Row>),
    }
    let plans: Vec<Plan> = mine
        .iter()
        .zip(hashes)
        .map(|(c, h)| match h {
            Ok(sha) => match keep.get(&sha) {
                Some(k) if *k != c.name => {
                    Plan::Done(Box::new(Row::duplicate(&c.name, &c.key, &sha, k)))
                }
                _ => Plan::Analyse(Some(sha)),
            },
            Err(e) => Plan::Done(Box::new(Row::failed(c, None, e))),
        })
        .collect();
    let mut rows: Vec<Row> = Vec::with_capacity(total);
    pool(
        total,
        opts.jobs,
        &|i| match (plans.get(i), mine.get(i)) {
            (Some(Plan::Analyse(sha)), Some(c)) => Some(analyse(c, sha.clone(), opts)),
            _ => None,
        },
        &mut |i, row| {
            let row = match (row, plans.get(i)) {
                (Some(r), _) => r,
                (None, Some(Plan::Done(r))) => (**r).clone(),
                _ => return,
            };
            rows.push(row);
            if let Some(r) = rows.last() {
                on(Event::Row {
                    row: r,
                    done: i + 1,
                    total,
                });
            }
        },
    );
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    summary::write(&opts.output, &rows)?;
    Ok(Outcome {
        discovered: candidates.len(),
        rows,
    })
}

/// Reads the rows of a `scan.jsonl`.
pub fn read_rows(path: &Path) -> Result<Vec<Row>, ScanError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Row = serde_json::from_str(line).map_err(|e| ScanError::Merge {
            path: path.to_path_buf(),
            line: n + 1,
            reason: format!("not a scan row: {e}"),
        })?;
        if discover::safe_relative(&r.name).is_none() {
            return Err(ScanError::Merge {
                path: path.to_path_buf(),
                line: n + 1,
                reason: format!("unusable bundle name {:?}", r.name),
            });
        }
        rows.push(r);
    }
    Ok(rows)
}

/// Combines shard outputs (`DIR/scan.jsonl` of each) into one summary in `output`, and copies
/// each analysed bundle's report files there, so the result equals an unsharded scan: the
/// same rows (duplicates across shards resolved as a single scan resolves them) and
/// byte-identical `scan.jsonl`, `scan.csv` and `scan.html`.
pub fn merge(dirs: &[PathBuf], output: &Path) -> Result<Outcome, ScanError> {
    std::fs::create_dir_all(output).map_err(io_err(output))?;
    let out_canon = std::fs::canonicalize(output).map_err(io_err(output))?;
    let mut by_name: BTreeMap<String, (Row, PathBuf)> = BTreeMap::new();
    for d in dirs {
        let file = d.join(summary::JSONL);
        for row in read_rows(&file)? {
            match by_name.get(&row.name) {
                Some((old, _)) if *old == row => {}
                Some((_, from)) => {
                    return Err(ScanError::Merge {
                        path: file.clone(),
                        line: 0,
                        reason: format!(
                            "bundle {:?} is also in {} with different results; were the shards \
                             made from the same PATH arguments?",
                            row.name,
                            from.display()
                        ),
                    });
                }
                None => {
                    by_name.insert(row.name.clone(), (row, d.clone()));
                }
            }
        }
    }
    // Duplicates across shards: the smallest name keeps the content, as in one scan.
    let keep: HashMap<String, String> = keepers(
        by_name
            .values()
            .filter_map(|(r, _)| r.sha256.as_deref().map(|s| (r.name.as_str(), s))),
    )
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut rows = Vec::with_capacity(by_name.len());
    for (name, (row, from)) in by_name {
        let keeper = row.sha256.as_ref().and_then(|s| keep.get(s));
        let row = match (keeper, &row.sha256) {
            (Some(k), Some(sha)) if *k != name => Row::duplicate(&name, &row.path, sha, k),
            _ => row,
        };
        if row.status == Status::Ok {
            copy_reports(&row, &from, output, &out_canon)?;
        }
        rows.push(row);
    }
    summary::write(output, &rows)?;
    Ok(Outcome {
        discovered: rows.len(),
        rows,
    })
}

/// Copies a row's report files from a shard folder into the merged output.
fn copy_reports(row: &Row, from: &Path, output: &Path, out_canon: &Path) -> Result<(), ScanError> {
    let Some(rel) = discover::safe_relative(&row.name) else {
        return Ok(());
    };
    let src = from.join(&rel);
    let dst = output.join(&rel);
    if std::fs::canonicalize(from).ok().as_deref() == Some(out_canon) {
        return Ok(());
    }
    std::fs::create_dir_all(&dst).map_err(io_err(&dst))?;
    for f in &row.reports {
        // Only the report files sbdiag writes, whatever the row says.
        let Some(fmt) = ReportFormat::from_file_name(f) else {
            continue;
        };
        let s = src.join(fmt.file_name());
        let d = dst.join(fmt.file_name());
        std::fs::copy(&s, &d).map_err(io_err(&s))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<&'static str> {
        vec![
            "fleet.stale-status",
            "fleet.not-ready",
            "upgrade.admission",
            "upgrade.precheck.host",
        ]
    }

    #[test]
    fn rule_filter_matches_ids_families_and_prefixes() {
        let f = RuleFilter::parse("fleet.,upgrade.admission", &known()).unwrap();
        assert!(f.matches("fleet.stale-status"));
        assert!(f.matches("upgrade.admission"));
        assert!(!f.matches("upgrade.precheck.host"));
        let f = RuleFilter::parse("upgrade", &known()).unwrap();
        assert!(f.matches("upgrade.precheck.host"));
        assert!(!f.matches("fleet.not-ready"));
        let f = RuleFilter::parse("upgrade.pre*", &known()).unwrap();
        assert!(f.matches("upgrade.precheck.host"));
        assert!(RuleFilter::parse("nope", &known()).is_err());
        assert!(RuleFilter::parse("fleet.stale", &known()).is_err());
        assert!(RuleFilter::default().matches("anything"));
    }

    #[test]
    fn duplicates_keep_the_smallest_name() {
        let k = keepers(
            [("b", "x"), ("a", "x"), ("c", "y")]
                .iter()
                .map(|(n, s)| (*n, *s)),
        );
        assert_eq!(k.get("x"), Some(&"a"));
        assert_eq!(k.get("y"), Some(&"c"));
    }

    #[test]
    fn pool_reports_in_order() {
        let mut seen = Vec::new();
        pool(20, 3, &|i| i * 2, &mut |i, v| seen.push((i, v)));
        assert_eq!(seen, (0..20).map(|i| (i, i * 2)).collect::<Vec<_>>());
        let mut none = 0;
        pool(0, 3, &|i| i, &mut |_, _| none += 1);
        assert_eq!(none, 0);
    }

    #[test]
    fn rows_round_trip_through_json() {
        let r = Row::duplicate("a", "a.zip", "00", "b");
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(
            s,
            r#"{"name":"a","path":"a.zip","status":"duplicate","sha256":"00","duplicate_of":"b","nodes":0,"objects":0,"errors":0,"warnings":0,"infos":0,"not_evaluated":0,"findings":[],"reports":[]}"#
        );
        let back: Row = serde_json::from_str(&s).unwrap();
        assert_eq!(back, r);
    }
}
