//! The pipeline end to end: open the bundle, index it, detect versions, build the coverage
//! ledger, run the rules, attach status-graph pieces to error findings, compute the verdict
//! ([`verdict`]) and the timeline ([`timeline`]), fill evidence excerpts from the bundle, and
//! build the `Report` (the contract types, converted in [`report`]). Renderers take it from
//! there and only format.
pub mod incidents;
pub mod report;
pub mod subgraph;
pub mod timeline;
pub mod verdict;

use std::collections::BTreeMap;
use std::path::Path;

use crate::archive::Limits;
use crate::bundle::Bundle;
use crate::error::Result;
use crate::facts::coverage::Coverage;
use crate::facts::detect::{self, Versions};
use crate::facts::logcause::{self, CauseLine};
use crate::facts::storage::{self, Storage};
use crate::fleet::FleetState;
use crate::graph::Graph;
use crate::index::Index;
use crate::index::Object;
use crate::report::{BundleSummary, Report, SCHEMA_VERSION, Tool};
use crate::rules::{self, AnalysisOptions, Context, Evidence, Finding, ObjectRef};
use crate::upgrade::known::{self, LogHit};

/// Largest pod log searched for known-issue patterns.
const MAX_SCANNED_LOG: u64 = 128 * 1024 * 1024;

/// Largest object whose whole YAML is read again for Fleet's drift claims: above what any
/// stored object can be (etcd refuses requests over 1.5 MiB by default; YAML with its
/// indentation is larger than the JSON stored), so in practice every captured object is read.
const MAX_WHOLE_OBJECT: usize = 4 * 1024 * 1024;

/// Reads, on demand, the whole captured YAML of the few objects Fleet claims modified or
/// missing (from the object's own lines in its list file), as JSON for the Fleet combiner,
/// which compares Fleet's patch with it without a typed view. Each file is read at most once.
struct WholeObjects<'a> {
    bundle: &'a Bundle,
    index: &'a Index,
    /// File texts read so far (`None`: unreadable), by index file number.
    files: std::cell::RefCell<BTreeMap<u32, Option<std::rc::Rc<str>>>>,
}

impl<'a> WholeObjects<'a> {
    fn new(bundle: &'a Bundle, index: &'a Index) -> Self {
        WholeObjects {
            bundle,
            index,
            files: std::cell::RefCell::new(BTreeMap::new()),
        }
    }

    /// The object as captured, or `None` when its file or item cannot be read or parsed, or
    /// the item is larger than [`MAX_WHOLE_OBJECT`].
    fn get(&self, o: &Object) -> Option<serde_json::Value> {
        if o.alias_of.is_some() {
            return None;
        }
        let text = {
            let mut files = self.files.borrow_mut();
            files
                .entry(o.file)
                .or_insert_with(|| {
                    let f = self.index.file_of(o)?;
                    self.bundle.read_text(&f.path).ok().map(std::rc::Rc::from)
                })
                .clone()?
        };
        let item = crate::index::split::item_at(&text, o.line)?;
        if item.text.len() > MAX_WHOLE_OBJECT || crate::model::de::too_deep(&item.text).is_some() {
            return None;
        }
        let v: serde_json::Value = yaml_serde::from_str(&item.text).ok()?;
        // The item must be the object asked for (the line range is the index's).
        let name = v.pointer("/metadata/name").and_then(|n| n.as_str());
        (name == Some(o.key.name.as_str()) && v.is_object()).then_some(v)
    }
}

/// Searches the pod logs the known-issue patterns and the pre-drain steps name (by namespace
/// and pod prefix), in parallel; keeps, per pattern and file, the last matching line and the
/// number of matches.
fn scan_logs(bundle: &Bundle) -> Vec<LogHit> {
    use rayon::prelude::*;
    let mut patterns = known::log_patterns();
    // Where the pre-drain job is: the life cycle names the blocker of the step its log shows.
    patterns.extend(
        crate::facts::upgrade::PRE_DRAIN_STEPS
            .iter()
            .filter_map(|s| {
                Some(known::LogPattern {
                    issue: format!("{}{}", crate::facts::upgrade::PRE_DRAIN_STEP_HIT, s.name),
                    namespace: crate::facts::upgrade::NAMESPACE.into(),
                    pod_prefix: crate::facts::upgrade::PRE_DRAIN_POD_PREFIX.into(),
                    regex: crate::text::regex(s.lines).ok()?,
                })
            }),
    );
    // etcd's clock-drift warnings (the clock-skew rule).
    {
        use crate::facts::services::{CLOCK_DRIFT_HIT, CLOCK_DRIFT_LINE, ETCD_PODS};
        if let Ok(regex) = crate::text::regex(&regex::escape(CLOCK_DRIFT_LINE)) {
            patterns.push(known::LogPattern {
                issue: CLOCK_DRIFT_HIT.into(),
                namespace: ETCD_PODS.0.into(),
                pod_prefix: ETCD_PODS.1.into(),
                regex,
            });
        }
    }
    let jobs: Vec<(&str, Vec<&known::LogPattern>)> = bundle
        .files
        .iter()
        .filter(|f| f.size <= MAX_SCANNED_LOG)
        .filter_map(|f| match &f.kind {
            crate::bundle::PathKind::PodLog { namespace, pod, .. } => {
                let p: Vec<&known::LogPattern> = patterns
                    .iter()
                    .filter(|p| p.namespace == *namespace && pod.starts_with(&p.pod_prefix))
                    .collect();
                (!p.is_empty()).then_some((f.path.as_str(), p))
            }
            _ => None,
        })
        .collect();
    let mut hits: Vec<LogHit> = jobs
        .par_iter()
        .flat_map(|(path, pats)| {
            let mut found: Vec<Option<LogHit>> = vec![None; pats.len()];
            // Streamed: a log is never held whole.
            let read = bundle.for_each_line(path, |n, line| {
                for (k, p) in pats.iter().enumerate() {
                    if p.regex.is_match(line)
                        && let Some(slot) = found.get_mut(k)
                    {
                        let count = slot.as_ref().map(|h| h.count).unwrap_or(0) + 1;
                        *slot = Some(LogHit {
                            issue: p.issue.clone(),
                            pattern: p.regex.as_str().to_string(),
                            file: path.to_string(),
                            line: n,
                            text: line.chars().take(400).collect(),
                            count,
                        });
                    }
                }
                true
            });
            if read.is_err() {
                return Vec::new();
            }
            found.into_iter().flatten().collect::<Vec<_>>()
        })
        .collect();
    hits.extend(scan_webhook_lines(bundle));
    hits.sort_by(|a, b| (&a.issue, &a.file, a.line).cmp(&(&b.issue, &b.file, b.line)));
    hits
}

/// The Longhorn logs that name a lost volume ([`facts::storage`](crate::facts::storage)):
/// longhorn-csi-plugin's `NodeGetVolumeStats … not found` and longhorn-manager's
/// `volume.longhorn.io "…" not found`. Read only when a volume is lost, streamed; per file and
/// volume the last such line and how many there were (`issue` =
/// [`storage::NOT_FOUND_HIT`] and the volume's Longhorn name).
fn scan_volume_logs(bundle: &Bundle, index: &Index, storage: &Storage) -> Vec<LogHit> {
    use rayon::prelude::*;
    let names: Vec<&str> = storage
        .lost(index, storage::longhorn_collected(index))
        .into_iter()
        .filter_map(|(c, _)| c.longhorn_name.as_deref())
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let files: Vec<&str> = bundle
        .files
        .iter()
        .filter(|f| f.size <= MAX_SCANNED_LOG)
        .filter(|f| match &f.kind {
            crate::bundle::PathKind::PodLog { namespace, pod, .. } => {
                namespace == storage::LONGHORN_NAMESPACE
                    && storage::VOLUME_LOG_PODS.iter().any(|p| pod.starts_with(p))
            }
            _ => false,
        })
        .map(|f| f.path.as_str())
        .collect();
    let mut hits: Vec<LogHit> = files
        .par_iter()
        .flat_map(|path| {
            let mut found: BTreeMap<&str, LogHit> = BTreeMap::new();
            // Streamed: a log is never held whole.
            let read = bundle.for_each_line(path, |n, line| {
                let Some(at) = line.find(storage::NOT_FOUND) else {
                    return true;
                };
                for name in names.iter().filter(|v| line.contains(*v)) {
                    let e = found.entry(name).or_insert_with(|| LogHit {
                        issue: format!("{}{name}", storage::NOT_FOUND_HIT),
                        pattern: storage::NOT_FOUND.to_string(),
                        file: path.to_string(),
                        line: 0,
                        text: String::new(),
                        count: 0,
                    });
                    e.count += 1;
                    e.line = n;
                    e.text = hit_text(line, at);
                }
                true
            });
            if read.is_err() {
                return Vec::new();
            }
            found.into_values().collect::<Vec<_>>()
        })
        .collect();
    hits.sort_by(|a, b| (&a.issue, &a.file, a.line).cmp(&(&b.issue, &b.file, b.line)));
    hits
}

/// The node bundles' logs, each file streamed once, nodes in parallel: the kernel logs
/// (oldest boot first) for storage, filesystem and memory errors (`facts::kernel`), the rke2,
/// kubelet and containerd logs for service failures and clock evidence (`facts::services`),
/// which also keeps the kernel logs' last lines (the node's clock at collection).
fn scan_node_logs(
    bundle: &Bundle,
) -> (
    Vec<crate::facts::kernel::NodeKernel>,
    Vec<crate::facts::services::NodeServices>,
) {
    use crate::facts::kernel::{self, Scanner};
    use crate::facts::services::{self, Service};
    use chrono::Datelike;
    use rayon::prelude::*;
    let year = bundle.created_at.map(|t| (t.year(), t.month()));
    let mut out: Vec<(Option<kernel::NodeKernel>, Option<services::NodeServices>)> = bundle
        .nodes
        .par_iter()
        .map(|n| {
            let mut files: Vec<String> = n
                .files
                .iter()
                .filter(|f| kernel::is_kernel_log(f))
                .cloned()
                .collect();
            kernel::read_order(&mut files);
            let units: Vec<(&String, Service)> = n
                .files
                .iter()
                .filter_map(|f| Some((f, Service::of_file(f)?)))
                .collect();
            let mut svc = services::Scanner::new(&n.name, year);
            let kernel = (!files.is_empty()).then(|| {
                let mut s = Scanner::new(&n.name, year);
                for inner in files {
                    let path = format!("{}!{inner}", n.zip_path);
                    s.file(&path);
                    svc.other_file(&path);
                    // Streamed: a log is never held whole.
                    let _ = bundle.for_each_line(&path, |i, line| {
                        s.add(i, line);
                        svc.last_line(i, line);
                        true
                    });
                }
                s.finish()
            });
            if units.is_empty() && kernel.is_none() {
                return (None, None);
            }
            for (inner, service) in units {
                let path = format!("{}!{inner}", n.zip_path);
                svc.file(&path, service);
                let _ = bundle.for_each_line(&path, |i, line| {
                    svc.add(i, line);
                    true
                });
            }
            (kernel, Some(svc.finish()))
        })
        .collect();
    out.sort_by(|a, b| {
        let name = |x: &(Option<kernel::NodeKernel>, Option<services::NodeServices>)| {
            x.1.as_ref().map(|s| s.node.clone())
        };
        name(a).cmp(&name(b))
    });
    let (k, s): (Vec<_>, Vec<_>) = out.into_iter().unzip();
    (
        k.into_iter().flatten().collect(),
        s.into_iter().flatten().collect(),
    )
}

/// A container by (namespace, pod, container).
type ContainerKey<'a> = (&'a str, &'a str, &'a str);

/// A container's log files: (previous, path), the current log first once sorted.
type LogFiles<'a> = Vec<(bool, &'a str)>;

/// Most failing containers whose logs are read for a root cause.
const MAX_CAUSE_CONTAINERS: usize = 200;

/// The line that likely explains each failing container (`facts::logcause`): only the logs
/// (current and previous) of the containers the index shows failing are read, streamed, at
/// most [`MAX_CAUSE_CONTAINERS`] of them.
fn scan_causes(bundle: &Bundle, index: &Index) -> Vec<CauseLine> {
    use rayon::prelude::*;
    use std::collections::BTreeSet;
    let failing: BTreeSet<ContainerKey> = index
        .of_kind("", "Pod")
        .flat_map(|p| {
            logcause::failing_containers(p)
                .into_iter()
                .map(move |c| (p.key.namespace.as_str(), p.key.name.as_str(), c))
        })
        .take(MAX_CAUSE_CONTAINERS)
        .collect();
    if failing.is_empty() {
        return Vec::new();
    }
    // (namespace, pod, container) → [(previous, path)].
    let mut files: BTreeMap<ContainerKey, LogFiles> = BTreeMap::new();
    for f in bundle.files.iter().filter(|f| f.size <= MAX_SCANNED_LOG) {
        if let crate::bundle::PathKind::PodLog {
            namespace,
            pod,
            container,
            previous,
        } = &f.kind
            && let Some(k) = failing.get(&(namespace.as_str(), pod.as_str(), container.as_str()))
        {
            files
                .entry(*k)
                .or_default()
                .push((*previous, f.path.as_str()));
        }
    }
    let jobs: Vec<(ContainerKey, LogFiles)> = files.into_iter().collect();
    let mut out: Vec<CauseLine> = jobs
        .par_iter()
        .filter_map(|((ns, pod, container), paths)| {
            let mut paths = paths.clone();
            paths.sort();
            let read: Vec<(&str, logcause::FileCauses)> = paths
                .iter()
                .filter_map(|(_, path)| {
                    let mut c = logcause::FileCauses::default();
                    // Streamed: a log is never held whole.
                    bundle
                        .for_each_line(path, |n, line| {
                            c.add(n, line);
                            true
                        })
                        .ok()?;
                    Some((*path, c))
                })
                .collect();
            let (file, line, level, text) = logcause::pick(&read)?;
            Some(CauseLine {
                namespace: ns.to_string(),
                pod: pod.to_string(),
                container: container.to_string(),
                file: file.to_string(),
                line,
                level,
                text: text.to_string(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.namespace, &a.pod, &a.container).cmp(&(&b.namespace, &b.pod, &b.container))
    });
    out
}

/// Admission webhook denials and call failures in any pod log: per file and webhook name, the
/// last such line and how many there were (`issue` = `webhook:<name>`).
fn scan_webhook_lines(bundle: &Bundle) -> Vec<LogHit> {
    use rayon::prelude::*;
    let Ok(re) = crate::text::regex(
        r#"(?:admission webhook|failed calling webhook|failed to call webhook) \\?"([^"\\]+)\\?""#,
    ) else {
        return Vec::new();
    };
    let files: Vec<&str> = bundle
        .files
        .iter()
        .filter(|f| f.size <= MAX_SCANNED_LOG)
        .filter(|f| matches!(f.kind, crate::bundle::PathKind::PodLog { .. }))
        .map(|f| f.path.as_str())
        .collect();
    files
        .par_iter()
        .flat_map(|path| {
            let mut by_name: std::collections::BTreeMap<String, LogHit> =
                std::collections::BTreeMap::new();
            // Harvester's own webhook logs its denials as "… operation is rejected: <msg>".
            let harvester_webhook = path.starts_with("logs/harvester-system/harvester-webhook-");
            // Streamed: a log is never held whole.
            let read = bundle.for_each_line(path, |n, line| {
                let found = if line.contains("webhook") {
                    re.captures(line).and_then(|c| {
                        let whole = c.get(0)?;
                        Some((c.get(1)?.as_str().to_string(), whole.start()))
                    })
                } else {
                    None
                };
                let start = found.as_ref().map(|f| f.1).unwrap_or(0);
                let name = found.map(|f| f.0);
                let name = match name {
                    Some(n) => n,
                    None if harvester_webhook && line.contains("operation is rejected: ") => {
                        "validator.harvesterhci.io".to_string()
                    }
                    None => return true,
                };
                let e = by_name.entry(name.clone()).or_insert_with(|| LogHit {
                    issue: format!("webhook:{name}"),
                    pattern: re.as_str().to_string(),
                    file: path.to_string(),
                    line: 0,
                    text: String::new(),
                    count: 0,
                });
                e.count += 1;
                e.line = n;
                e.text = hit_text(line, start);
                true
            });
            if read.is_err() {
                return Vec::new();
            }
            by_name.into_values().collect::<Vec<_>>()
        })
        .collect()
}

/// The part of a long log line kept for a webhook hit: up to 120 characters before the match
/// and the rest of the line from it (where the cause is: "connection refused", "x509", …),
/// at most [`HIT_WIDTH`] characters in all.
fn hit_text(line: &str, start: usize) -> String {
    if line.chars().count() <= HIT_WIDTH {
        return line.to_string();
    }
    let before: Vec<(usize, char)> = line[..start].char_indices().collect();
    let from = before.len().saturating_sub(120);
    let head = before.get(from).map(|c| c.0).unwrap_or(start);
    let prefix = if head > 0 { "…" } else { "" };
    let kept: String = line[head..].chars().take(HIT_WIDTH).collect();
    format!("{prefix}{kept}")
}

/// Longest text kept for a webhook hit in a pod log, in characters.
const HIT_WIDTH: usize = 600;

/// Longest excerpt kept per evidence, in lines.
const EXCERPT_LINES: usize = 40;
/// Longest excerpt line kept, in characters.
const EXCERPT_WIDTH: usize = 400;

/// What the capture itself holds: the bundle and its index, nothing derived. `serve` and the
/// query functions it calls (tables, printer columns, logs) need only this, so `serve` loads
/// it alone; [`Analysis`] holds one and derefs to it.
pub struct Capture {
    /// The bundle.
    pub bundle: Bundle,
    /// Its index.
    pub index: Index,
}

impl Capture {
    /// Opens and indexes a bundle. `progress(done, total)` reports indexed files.
    pub fn load(
        path: &Path,
        limits: &Limits,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Capture> {
        Ok(Capture::of(Bundle::open(path, limits)?, progress))
    }

    /// Indexes an opened bundle.
    pub fn of(bundle: Bundle, progress: &(dyn Fn(usize, usize) + Sync)) -> Capture {
        let index = Index::build(&bundle, progress);
        Capture { bundle, index }
    }
}

impl std::ops::Deref for Analysis {
    type Target = Capture;
    fn deref(&self) -> &Capture {
        &self.capture
    }
}

/// A loaded bundle: everything queries and rules need.
pub struct Analysis {
    /// The bundle and its index ([`Analysis`] derefs to it: `a.bundle`, `a.index`).
    pub capture: Capture,
    /// Detected versions.
    pub versions: Versions,
    /// Coverage ledger.
    pub coverage: Coverage,
    /// The status graph.
    pub graph: Graph,
    /// Fleet's claims and their verdicts.
    pub fleet: FleetState,
    /// Command-line options for the rules.
    pub options: AnalysisOptions,
    /// Pod log lines matching the known-issue patterns (read once, before the rules).
    pub log_hits: Vec<LogHit>,
    /// The line that likely explains each failing container (read once, before the rules).
    pub causes: Vec<CauseLine>,
    /// The storage chain of every volume (built once, before the rules).
    pub storage: Storage,
    /// Kernel storage, filesystem and memory errors per node (read once, before the rules).
    pub kernel: Vec<crate::facts::kernel::NodeKernel>,
    /// Every VM with its VMI, launcher pods, volume chains and migrations (built once).
    pub vms: crate::facts::vm::Vms,
    /// Service failures and clock evidence per node (read with the kernel logs).
    pub services: Vec<crate::facts::services::NodeServices>,
}

impl Analysis {
    /// Opens and indexes a bundle. `progress(done, total)` reports indexed files.
    pub fn load(
        path: &Path,
        limits: &Limits,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Analysis> {
        Ok(Analysis::of(Bundle::open(path, limits)?, progress))
    }

    /// Indexes and analyzes an opened bundle (one held in memory, e.g. a redacted copy).
    pub fn of(bundle: Bundle, progress: &(dyn Fn(usize, usize) + Sync)) -> Analysis {
        let capture = Capture::of(bundle, progress);
        let Capture { bundle, index } = &capture;
        let versions = detect::versions(bundle, index);
        let coverage = Coverage::build(bundle, index, &versions);
        let graph = Graph::build(index);
        let storage = Storage::build(index);
        let vms = crate::facts::vm::Vms::build(index, &storage);
        let mut log_hits = scan_logs(bundle);
        log_hits.extend(scan_volume_logs(bundle, index, &storage));
        let causes = scan_causes(bundle, index);
        let (kernel, services) = scan_node_logs(bundle);
        let whole = WholeObjects::new(bundle, index);
        let fleet = FleetState::build_with(
            index,
            &graph,
            versions.harvester.as_deref(),
            bundle.created_at,
            &|o: &Object| whole.get(o),
        );
        Analysis {
            capture,
            versions,
            coverage,
            graph,
            fleet,
            options: AnalysisOptions::default(),
            log_hits,
            causes,
            storage,
            kernel,
            vms,
            services,
        }
    }

    /// The rule context.
    pub fn context(&self) -> Context<'_> {
        Context {
            index: &self.index,
            graph: &self.graph,
            fleet: &self.fleet,
            coverage: &self.coverage,
            versions: &self.versions,
            created_at: self.bundle.created_at,
            nodes: &self.bundle.nodes,
            has_resources: self.bundle.has_dir("yamls"),
            has_generation_log: self.bundle.generation_errors.is_some(),
            has_pod_logs: self.bundle.has_dir("logs"),
            generation_errors: self.bundle.generation_errors.as_deref().unwrap_or_default(),
            options: &self.options,
            files: &self.bundle.files,
            log_hits: &self.log_hits,
            causes: &self.causes,
            storage: &self.storage,
            kernel: &self.kernel,
            vms: &self.vms,
            services: &self.services,
            source: &self.bundle.source,
        }
    }

    /// Runs every rule and builds the report.
    pub fn report(&self) -> Report {
        let catalog = rules::catalog();
        let (mut findings, checks) = rules::run(&catalog, &self.context());
        subgraph::attach_graphs(self, &mut findings);
        let mut incidents = incidents::correlate(&self.index, &self.graph, &findings);
        // Each error incident's graph shows what explains it: its cause and what it explains,
        // joined through the status graph (the cause's own graph when they do not connect).
        for i in incidents
            .iter_mut()
            .filter(|i| i.severity == rules::Severity::Error)
        {
            let (Some(cause), effects) = (
                findings.get(i.cause),
                i.effects
                    .iter()
                    .filter_map(|&e| findings.get(e))
                    .collect::<Vec<_>>(),
            ) else {
                continue;
            };
            if let Some(g) = subgraph::incident_graph(self, cause, &effects) {
                i.graph = Some(g);
            }
        }
        let verdict = verdict::verdict(self, &findings, &checks, &incidents);
        let mut timeline = timeline::timeline(self);
        fill_excerpts(&self.bundle, &mut findings);
        {
            let mut evs: Vec<&mut Evidence> = timeline
                .iter_mut()
                .filter_map(|t| t.evidence.as_mut())
                .collect();
            fill_evidence(&self.bundle, &mut evs);
        }
        let b = &self.bundle;
        let meta = b.metadata.as_ref();
        let node_names: Vec<String> = {
            let from_objects: Vec<String> = self
                .index
                .of_kind("", "Node")
                .map(|n| n.key.name.clone())
                .collect();
            if from_objects.is_empty() {
                b.nodes.iter().map(|n| n.name.clone()).collect()
            } else {
                from_objects
            }
        };
        let findings = report::findings(findings, &incidents);
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "sbdiag".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            bundle: BundleSummary {
                source: b.source.clone(),
                format: b.archive.format().into(),
                created_at: b
                    .created_at
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                cluster_id: meta.and_then(|m| m.projectnamespaceuuid.clone()),
                kubernetes_version: self.versions.kubernetes.clone(),
                harvester_version: self
                    .versions
                    .harvester
                    .clone()
                    .unwrap_or_else(|| "unknown".into()),
                harvester_version_source: self.versions.harvester_source.clone(),
                rancher_version: self.versions.rancher.clone(),
                nodes: node_names.len(),
                node_names,
                files: b.files.len(),
                objects: self.index.object_count(),
                duplicate_objects: self.index.objects.len() - self.index.object_count(),
                issue_description: meta
                    .and_then(|m| m.issuedescription.clone())
                    .filter(|d| !d.trim().is_empty() && d != "null"),
                issue_url: meta
                    .and_then(|m| m.issueurl.clone())
                    .filter(|d| !d.trim().is_empty() && d != "null"),
            },
            coverage: report::coverage(&self.coverage),
            vms: report::vm_views(&self.index, &self.storage, &self.vms, &findings),
            findings,
            incidents: incidents.into_iter().map(report::incident).collect(),
            checks: checks.into_iter().map(report::check).collect(),
            verdict,
            timeline: timeline.into_iter().map(report::timeline_entry).collect(),
            rules: report::rules(&catalog),
        }
    }
}

/// The reference to an indexed object.
fn obj_ref(o: &Object) -> ObjectRef {
    ObjectRef {
        api_version: o.api_version(),
        kind: o.key.kind.clone(),
        namespace: o.key.namespace.clone(),
        name: o.key.name.clone(),
    }
}

/// A text with the byte offset of each line's start, so any line is reached without scanning
/// the file again (a large list file can be cited thousands of times). Offsets are `u32`
/// (half the memory of `usize` on the largest lists, read while the whole index is held):
/// lines starting past 4 GiB, beyond the default entry limit, are not indexed.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<u32>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1)
                .filter(|&i| i < text.len())
                .map_while(|i| u32::try_from(i).ok()),
        );
        if text.is_empty() {
            starts.clear();
        }
        Lines { text, starts }
    }

    /// Number of lines, as `str::lines` counts them.
    fn count(&self) -> usize {
        self.starts.len()
    }

    /// Line `n` (1-based) without its line ending, as `str::lines` gives it.
    fn get(&self, n: usize) -> Option<&'a str> {
        let start = *self.starts.get(n.checked_sub(1)?)? as usize;
        let end = self.starts.get(n).map_or(self.text.len(), |&e| e as usize);
        let l = &self.text[start..end];
        let l = l.strip_suffix('\n').unwrap_or(l);
        Some(l.strip_suffix('\r').unwrap_or(l))
    }
}

/// The excerpt of lines `line..=end_line` (1-based), trimmed.
pub fn excerpt(text: &str, line: u32, end_line: u32) -> String {
    excerpt_in(&Lines::new(text), line, end_line)
}

fn excerpt_in(lines: &Lines, line: u32, end_line: u32) -> String {
    excerpt_with(&|n| lines.get(n), line, end_line)
}

/// The lines [`excerpt_with`] reads for an excerpt of `line..=end_line`: `line` up to
/// [`EXCERPT_LINES`] lines on.
fn excerpt_window(line: u32, end_line: u32) -> (u32, u32) {
    let count = end_line.max(line) - line + 1;
    (
        line,
        line.saturating_add(count.min(EXCERPT_LINES as u32) - 1),
    )
}

/// [`excerpt_in`] over any source of lines (`get(n)`: line `n`, 1-based).
fn excerpt_with<'a>(get: &dyn Fn(usize) -> Option<&'a str>, line: u32, end_line: u32) -> String {
    if line == 0 {
        return String::new();
    }
    let count = (end_line.max(line) - line + 1) as usize;
    let mut out = String::new();
    for l in (line as usize..line as usize + count.min(EXCERPT_LINES)).map_while(get) {
        if l.chars().count() > EXCERPT_WIDTH {
            out.extend(l.chars().take(EXCERPT_WIDTH));
            out.push('…');
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    if count > EXCERPT_LINES && get(line as usize).is_some() {
        out.push_str(&format!("… ({} more lines)\n", count - EXCERPT_LINES));
    }
    out
}

/// Lines kept before and after a focused line.
const FOCUS_BEFORE: u32 = 2;
const FOCUS_AFTER: u32 = 8;

/// Narrows `e` to the lines around the first (or, for `focus_last`, the last) line in its range
/// that contains `focus`.
fn narrow(lines: &Lines, e: &mut Evidence, focus: &str) {
    let last_line = lines.count() as u32;
    let to = e.end_line.min(last_line);
    let mut hits = (e.line..=to)
        .filter_map(|n| Some((n, lines.get(n as usize)?)))
        .filter(|(_, l)| is_focus_hit(l, focus))
        .map(|(n, _)| n);
    let hit = if e.focus_last {
        hits.next_back()
    } else {
        hits.next()
    };
    narrow_to(e, hit, last_line);
}

/// Whether line `l` holds `focus`. managedFields (kept in the file, blanked for parsing) repeat
/// every field name as `f:<name>`; never focus on them.
fn is_focus_hit(l: &str, focus: &str) -> bool {
    l.contains(focus) && !l.trim_start().starts_with("f:")
}

/// Narrows `e` around `hit`, its focused line (none: no line in its range holds the focus), in
/// a file of `last_line` lines.
fn narrow_to(e: &mut Evidence, hit: Option<u32>, last_line: u32) {
    let first = e.line;
    match hit {
        Some(h) if e.focus_last => {
            e.line = h.saturating_sub(FOCUS_AFTER).max(first);
            e.end_line = (h + FOCUS_BEFORE).min(e.end_line).max(e.line);
            // A log's end: the lines exist only up to the file's last line.
            e.end_line = e.end_line.min(last_line.max(e.line));
        }
        Some(h) => {
            let start = h.saturating_sub(FOCUS_BEFORE).max(first);
            let end = (h + FOCUS_AFTER).min(e.end_line);
            e.line = start;
            e.end_line = end.max(start);
        }
        None if e.end_line == u32::MAX => {
            e.line = last_line.saturating_sub(FOCUS_AFTER).max(1);
            e.end_line = last_line.max(e.line);
        }
        None => {}
    }
}

/// Narrows the focused evidence of `evs` (all in `file`) in one streamed pass that keeps no
/// line, only each one's first or last focused line; `false` when the file cannot be read.
fn narrow_streamed(bundle: &Bundle, file: &str, evs: &mut [&mut Evidence]) -> bool {
    narrow_over(|f| bundle.for_each_line(file, f).is_ok(), evs)
}

/// [`narrow_streamed`] over any pass over a file's lines: `each(f)` hands `f` every line with
/// its 1-based number until `f` returns `false`, and says whether the file could be read.
fn narrow_over(
    each: impl FnOnce(&mut dyn FnMut(u32, &str) -> bool) -> bool,
    evs: &mut [&mut Evidence],
) -> bool {
    // (first line, last line, focus, evidence position), by first line.
    let mut order: Vec<(u32, u32, &str, usize)> = evs
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((e.line, e.end_line, e.focus.as_deref()?, i)))
        .collect();
    if order.is_empty() {
        return true;
    }
    order.sort_unstable();
    let stop = order.iter().map(|o| o.1).max().unwrap_or(0);
    let mut hits: Vec<(Option<u32>, Option<u32>)> = vec![(None, None); evs.len()];
    let mut active: Vec<(u32, &str, usize)> = Vec::new();
    let mut next = 0;
    let mut count = 0u32;
    let read = each(&mut |n, l| {
        count = n;
        while let Some(&(start, end, focus, i)) = order.get(next) {
            if start > n {
                break;
            }
            active.push((end, focus, i));
            next += 1;
        }
        active.retain(|a| a.0 >= n);
        for &(_, focus, i) in &active {
            if is_focus_hit(l, focus)
                && let Some(h) = hits.get_mut(i)
            {
                h.0.get_or_insert(n);
                h.1 = Some(n);
            }
        }
        n < stop
    });
    if !read {
        return false;
    }
    for (i, e) in evs.iter_mut().enumerate() {
        if e.focus.is_none() {
            continue;
        }
        let (first, last) = hits.get(i).copied().unwrap_or_default();
        let hit = if e.focus_last { last } else { first };
        narrow_to(e, hit, count);
    }
    true
}

/// Files larger than this have their cited lines streamed (when no evidence in them needs a
/// search), instead of being read whole while the whole index is held.
const STREAM_EVIDENCE_OVER: u64 = 4 << 20;

/// Fills the excerpts of `evs` (all in `file`, none focused or open-ended) from the file's
/// lines streamed once, keeping only the lines the excerpts show. `false` when the file could
/// not be streamed (the caller reads it whole, or reports it).
fn excerpts_streamed(bundle: &Bundle, file: &str, evs: &mut [&mut Evidence]) -> bool {
    let mut windows: Vec<(u32, u32)> = evs
        .iter()
        .filter(|e| e.line > 0)
        .map(|e| excerpt_window(e.line, e.end_line))
        .collect();
    windows.sort_unstable();
    let Some(last) = windows.iter().map(|w| w.1).max() else {
        return true;
    };
    let mut kept: BTreeMap<u32, String> = BTreeMap::new();
    let mut next = 0;
    let read = bundle.for_each_line(file, |n, l| {
        while windows.get(next).is_some_and(|w| w.1 < n) {
            next += 1;
        }
        if windows.get(next).is_some_and(|w| w.0 <= n) {
            kept.insert(n, l.to_string());
        }
        n < last
    });
    if read.is_err() {
        return false;
    }
    let get = |n: usize| {
        u32::try_from(n)
            .ok()
            .and_then(|n| kept.get(&n))
            .map(String::as_str)
    };
    for e in evs.iter_mut() {
        e.excerpt = excerpt_with(&get, e.line, e.end_line);
    }
    true
}

fn fill_excerpts(bundle: &Bundle, findings: &mut [Finding]) {
    let mut evs: Vec<&mut Evidence> = findings
        .iter_mut()
        .flat_map(|f| f.evidence.iter_mut())
        .collect();
    fill_evidence(bundle, &mut evs);
}

/// Fills excerpts (and narrows focused ranges) of evidence, reading each file once.
fn fill_evidence(bundle: &Bundle, evs: &mut [&mut Evidence]) {
    let mut wanted: BTreeMap<String, Vec<&mut Evidence>> = BTreeMap::new();
    for e in evs.iter_mut() {
        if e.line > 0 && e.excerpt.is_empty() {
            wanted.entry(e.file.clone()).or_default().push(&mut **e);
        }
    }
    for (file, mut evs) in wanted {
        // A file inside a node zip has no size in the listing: stream it too.
        let large = file.contains('!')
            || bundle
                .file(&file)
                .is_some_and(|f| f.size > STREAM_EVIDENCE_OVER);
        // A large file is never held whole: focused evidence is narrowed in a first pass that
        // keeps no line, then only the cited lines are read. Open-ended evidence without a
        // focus (none is made so) would need the whole file.
        if large
            && evs
                .iter()
                .all(|e| e.focus.is_some() || e.end_line != u32::MAX)
            && narrow_streamed(bundle, &file, &mut evs)
            && excerpts_streamed(bundle, &file, &mut evs)
        {
            continue;
        }
        let Ok(text) = bundle.read_text(&file) else {
            for e in evs {
                if e.end_line == u32::MAX {
                    e.end_line = e.line;
                }
            }
            continue;
        };
        let lines = Lines::new(&text);
        for e in evs {
            if let Some(f) = e.focus.clone() {
                narrow(&lines, e, &f);
            }
            e.excerpt = excerpt_in(&lines, e.line, e.end_line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Lines, excerpt, hit_text};

    #[test]
    fn lines_match_str_lines() {
        for text in ["", "a", "a\n", "a\r\nb", "a\n\nb\n", "\n", "x\ny\r\n\r\nz"] {
            let l = Lines::new(text);
            let want: Vec<&str> = text.lines().collect();
            assert_eq!(l.count(), want.len(), "{text:?}");
            for (i, w) in want.iter().enumerate() {
                assert_eq!(l.get(i + 1), Some(*w), "{text:?} line {}", i + 1);
            }
            assert_eq!(l.get(0), None);
            assert_eq!(l.get(want.len() + 1), None);
        }
    }

    #[test]
    fn webhook_hits_keep_the_cause_of_long_lines() {
        let line = format!(
            "{}failed calling webhook \"v.x.io\": {} connect: connection refused",
            "é".repeat(500),
            "p".repeat(100)
        );
        let start = line.find("failed calling").unwrap();
        let t = hit_text(&line, start);
        assert!(t.starts_with('…'));
        assert!(t.contains("failed calling webhook"));
        assert!(t.ends_with("connection refused"));
        assert_eq!(hit_text("short", 0), "short");
    }

    #[test]
    fn streamed_narrowing_matches_the_whole_file() {
        use crate::rules::finding::Evidence;
        let text: String = (1..=300)
            .map(|i| match i % 37 {
                0 => format!("  f:needle {i}\n"),
                5 => format!("  needle at {i}\n"),
                _ => format!("line {i}\n"),
            })
            .collect();
        let lines = super::Lines::new(&text);
        let cases = [
            (10, 120, false),
            (10, 120, true),
            (1, u32::MAX, true),
            (1, u32::MAX, false),
            (200, 210, false),
            (150, 400, true),
        ];
        for focus in ["needle", "absent"] {
            let mut whole: Vec<Evidence> = cases
                .iter()
                .map(|&(l, e, last)| {
                    let mut ev = Evidence::lines("f.log", l, e);
                    ev.focus = Some(focus.into());
                    ev.focus_last = last;
                    ev
                })
                .collect();
            let mut streamed = whole.clone();
            for e in &mut whole {
                let f = e.focus.clone().unwrap();
                super::narrow(&lines, e, &f);
            }
            let mut refs: Vec<&mut Evidence> = streamed.iter_mut().collect();
            assert!(super::narrow_over(
                |f| {
                    for (i, l) in text.lines().enumerate() {
                        if !f(i as u32 + 1, l) {
                            break;
                        }
                    }
                    true
                },
                &mut refs
            ));
            for (w, s) in whole.iter().zip(&streamed) {
                assert_eq!((w.line, w.end_line), (s.line, s.end_line), "{focus} {w:?}");
            }
        }
    }

    #[test]
    fn excerpts_are_bounded() {
        let text: String = (1..=100).map(|i| format!("line{i}\n")).collect();
        assert_eq!(excerpt(&text, 2, 3), "line2\nline3\n");
        let long = excerpt(&text, 1, 100);
        assert!(long.ends_with("… (60 more lines)\n"));
        assert_eq!(excerpt(&text, 0, 0), "");
        assert_eq!(excerpt(&text, 200, 201), "");
    }
}
