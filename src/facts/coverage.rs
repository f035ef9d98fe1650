//! The coverage ledger: what the bundle holds, what is missing and why, and what failed.
//! A gap here is what turns a rule's silence into "not evaluated" instead of "healthy".
//! Built after the index, from the bundle's file list, its generation errors and the indexed
//! objects (nodes, pods, settings).
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::detect::Versions;
use crate::bundle::generr::{CollectionError, ErrorKind};
use crate::bundle::{Bundle, PathKind, Problem};
use crate::index::{Index, ParseError};
use crate::model::View;

/// Severity of a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GapLevel {
    /// Worth knowing.
    Info,
    /// Some checks lose their input.
    Warning,
    /// Most checks lose their input.
    Error,
}

/// Where a gap shows in the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapEvidence {
    /// Bundle-relative file.
    pub file: String,
    /// First line (1-based; 0 when the whole file or its absence is meant).
    pub line: u32,
    /// Last line.
    pub end_line: u32,
}

impl GapEvidence {
    /// Lines `line..=end_line` of `file`.
    pub fn new(file: impl Into<String>, line: u32, end_line: u32) -> GapEvidence {
        GapEvidence {
            file: file.into(),
            line,
            end_line,
        }
    }
}

/// Something not collected (or collected only in part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// Which `bundle.*` rule reports it.
    #[serde(skip)]
    pub rule: &'static str,
    /// Severity.
    #[serde(skip)]
    pub level: GapLevel,
    /// The identity of what is missing, the subject of the finding id
    /// (`bundle.pod-logs:Namespace/harvester-system`): a path, an object (`Kind/name`) or a
    /// fixed token, never a count or prose, so the same gap has the same id in every capture.
    #[serde(skip)]
    pub key: String,
    /// What is missing.
    pub what: String,
    /// Why, and what it means for the analysis.
    pub why: String,
    /// Where it shows.
    #[serde(skip)]
    pub evidence: Vec<GapEvidence>,
    /// What to do about this gap in particular (empty: the rule's general advice).
    #[serde(skip)]
    pub fix: &'static str,
    /// Objects the gap is about (`Pod/ns/name` of the pods whose logs could not be read), for
    /// the incident stage: a down node explains why its pods' logs are missing.
    #[serde(skip)]
    pub concerns: Vec<String>,
}

/// What the bundle holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Collected {
    /// Resource list files.
    pub resource_lists: usize,
    /// Namespaces with resource lists or logs.
    pub namespaces: Vec<String>,
    /// Pod log files (current instance).
    pub pod_logs: usize,
    /// Previous-instance log files (`.log.1`).
    pub previous_pod_logs: usize,
    /// Node bundles, by node name.
    pub node_bundles: Vec<String>,
}

/// The ledger.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// What was collected.
    pub collected: Collected,
    /// Gaps.
    pub missing: Vec<Gap>,
    /// Number of collection errors the generator logged that lose data (benign ones, such as
    /// LISTs of verb-less resources, are not counted).
    pub collection_errors: usize,
    /// Files and items that could not be parsed.
    pub parse_errors: Vec<ParseError>,
    /// Files that could not be read, and archive entries refused (unsafe names, links).
    pub failed: Vec<Problem>,
}

const GEN_LOG: &str = "bundleGenerationError.log";
const CRD_LIST: &str = "yamls/cluster/apiextensions.k8s.io/v1/customresourcedefinitions.yaml";
const SETTINGS_LIST: &str = "yamls/cluster/harvesterhci.io/v1beta1/settings.yaml";

impl Coverage {
    /// Builds the ledger from the bundle and its index.
    pub fn build(bundle: &Bundle, index: &Index, versions: &Versions) -> Coverage {
        let mut c = Coverage::default();
        let mut namespaces = BTreeSet::new();
        let mut log_pods: BTreeSet<(String, String)> = BTreeSet::new();
        for f in &bundle.files {
            match &f.kind {
                PathKind::ResourceList { namespace, .. } => {
                    c.collected.resource_lists += 1;
                    if !namespace.is_empty() {
                        namespaces.insert(namespace.clone());
                    }
                }
                PathKind::PodLog {
                    namespace,
                    pod,
                    previous,
                    ..
                } => {
                    namespaces.insert(namespace.clone());
                    log_pods.insert((namespace.clone(), pod.clone()));
                    if *previous {
                        c.collected.previous_pod_logs += 1;
                    } else {
                        c.collected.pod_logs += 1;
                    }
                }
                _ => {}
            }
        }
        c.collected.namespaces = namespaces.iter().cloned().collect();
        c.collected.node_bundles = bundle.nodes.iter().map(|n| n.name.clone()).collect();
        c.parse_errors = index.parse_errors.clone();
        c.failed.extend(bundle.problems.iter().cloned());
        c.failed.extend(bundle.node_problems());
        c.failed
            .extend(bundle.archive.rejected().iter().map(|r| Problem {
                file: r.name.clone(),
                error: format!("entry refused: {}", r.reason),
            }));

        c.metadata_gaps(bundle);
        c.generation_gaps(bundle, index);
        c.resource_gaps(bundle, index, versions, &namespaces);
        c.node_gaps(bundle, index);
        c.log_gaps(bundle, index, &namespaces, &log_pods);
        c
    }

    fn gap(
        &mut self,
        rule: &'static str,
        level: GapLevel,
        key: String,
        what: String,
        why: String,
        evidence: Vec<GapEvidence>,
    ) -> &mut Gap {
        self.missing.push(Gap {
            rule,
            level,
            key,
            what,
            why,
            fix: "",
            evidence,
            concerns: Vec::new(),
        });
        let Some(gap) = self.missing.last_mut() else {
            unreachable!("a gap was just pushed")
        };
        gap
    }

    fn metadata_gaps(&mut self, bundle: &Bundle) {
        let ev = |line| vec![GapEvidence::new("metadata.yaml", line, line)];
        if bundle.file("metadata.yaml").is_none() {
            self.gap("bundle.metadata", GapLevel::Warning, "metadata.yaml".into(), "metadata.yaml".into(),
                "absent: capture time, cluster id and Kubernetes version are unknown; ages cannot be computed".into(), vec![]);
        } else if bundle.metadata.is_none() {
            self.gap(
                "bundle.metadata",
                GapLevel::Warning,
                "metadata.yaml".into(),
                "metadata.yaml".into(),
                "unreadable: capture time, cluster id and Kubernetes version are unknown".into(),
                ev(1),
            );
        } else if bundle.created_at.is_none() {
            self.gap("bundle.metadata", GapLevel::Warning, "metadata.yaml:bundlecreatedat".into(), "capture time (bundlecreatedat)".into(),
                "missing or not an RFC 3339 time in metadata.yaml: ages relative to capture cannot be computed".into(), ev(1));
        }
    }

    fn generation_gaps(&mut self, bundle: &Bundle, index: &Index) {
        let Some(errors) = &bundle.generation_errors else {
            self.gap(
                "bundle.collection-errors",
                GapLevel::Info,
                GEN_LOG.into(),
                GEN_LOG.into(),
                "absent: collection failures cannot be told from empty lists".into(),
                vec![],
            );
            return;
        };
        // (what was lost, its key in the finding id) → the errors that lost it.
        type Bucket = (&'static str, &'static str);
        let mut lost: BTreeMap<Bucket, Vec<&CollectionError>> = BTreeMap::new();
        for e in errors {
            let bucket = match &e.kind {
                ErrorKind::ListFailed { benign: true, .. } => continue,
                ErrorKind::ListFailed { .. } | ErrorKind::ParseFailed { .. } => {
                    ("resource lists", "resource-lists")
                }
                ErrorKind::FileFailed { .. } => ("files", "files"),
                // A restarted container whose previous instance is gone: only history is lost.
                ErrorKind::LogFailed { .. }
                    if e.message.contains("previous terminated container") =>
                {
                    ("previous pod logs", "previous-pod-logs")
                }
                ErrorKind::LogFailed { .. } | ErrorKind::PodInfoFailed { .. } => {
                    ("pod logs", "pod-logs")
                }
                ErrorKind::PodListFailed => (
                    "pod log collection (aborted for the remaining namespaces)",
                    "pod-log-collection",
                ),
                ErrorKind::ResourcesSkipped { .. } => {
                    ("all resource YAMLs of a module", "module-resources")
                }
                ErrorKind::Other => ("other", "other"),
            };
            lost.entry(bucket).or_default().push(e);
        }
        self.collection_errors = lost.values().map(Vec::len).sum();
        for ((bucket, key), errs) in lost {
            // The pods whose logs were lost, by name (the generator's message has no namespace).
            let pods: BTreeSet<&str> = errs
                .iter()
                .filter_map(|e| match &e.kind {
                    ErrorKind::LogFailed { pod, .. } => Some(pod.as_str()),
                    _ => None,
                })
                .collect();
            let concerns: Vec<String> = if pods.is_empty() {
                Vec::new()
            } else {
                index
                    .of_kind("", "Pod")
                    .filter(|p| pods.contains(p.key.name.as_str()))
                    .map(|p| format!("Pod/{}/{}", p.key.namespace, p.key.name))
                    .collect()
            };
            let first = errs.first().map(|e| e.message.clone()).unwrap_or_default();
            let level =
                if bucket.starts_with("all resource") || bucket.starts_with("pod log collection") {
                    GapLevel::Error
                } else if bucket == "previous pod logs" {
                    GapLevel::Info
                } else {
                    GapLevel::Warning
                };
            self.gap(
                "bundle.collection-errors",
                level,
                key.into(),
                format!("{bucket}: {} collection error(s)", errs.len()),
                format!("the generator logged failures, so absent data is not proof of absence; first: {first}"),
                errs.iter()
                    .map(|e| GapEvidence::new(GEN_LOG, e.line, e.line))
                    .collect(),
            )
            .concerns = concerns;
        }
    }

    fn resource_gaps(
        &mut self,
        bundle: &Bundle,
        index: &Index,
        versions: &Versions,
        namespaces: &BTreeSet<String>,
    ) {
        if !bundle.has_dir("yamls") {
            self.gap("bundle.resources", GapLevel::Error, "yamls/".into(), "yamls/ (every resource list)".into(),
                "absent: the generator skips all YAMLs when API discovery fails (e.g. an aggregated API is down); no object-based check can run".into(),
                vec![]);
            return;
        }
        if !index.has_list("apiextensions.k8s.io", "customresourcedefinitions")
            && index
                .primary()
                .any(|o| o.key.group.contains('.') && !o.key.group.ends_with("k8s.io"))
        {
            self.gap("bundle.resources", GapLevel::Info,
                CRD_LIST.into(), CRD_LIST.into(),
                "absent although custom resources are present: CRD versions and schemas cannot be checked".into(), vec![]).fix =
                "Usually the list was too large or failed to fetch; run `kubectl get crds -o yaml` on the live cluster if a check needs it.";
        }
        if !index.has_list("harvesterhci.io", "settings") {
            // Only a warning when nothing else told the Harvester version.
            let level = if versions.harvester.is_some() {
                GapLevel::Info
            } else {
                GapLevel::Warning
            };
            self.gap("bundle.resources", level,
                SETTINGS_LIST.into(), SETTINGS_LIST.into(),
                "absent (written by support-bundle-kit v0.0.26+, Harvester v1.1.3+): settings-based checks cannot run and the Harvester version comes from other sources".into(), vec![]).fix =
                "Expected on bundles from Harvester before v1.1.3; otherwise run `kubectl get settings.harvesterhci.io -o yaml` on the live cluster.";
        }
        if !index.has_list("", "secrets")
            || index
                .files
                .iter()
                .filter(|f| f.resource == "secrets" && f.group.is_empty())
                .all(|f| f.namespace == "fleet-local")
        {
            self.gap("bundle.resources", GapLevel::Info, "core-secrets".into(), "core Secrets".into(),
                "excluded by the generator (only fleet-local machine-plan secrets are kept): certificate and credential checks cannot run".into(), vec![]).fix =
                "Nothing to do: Secrets are never collected. Check certificates on the live cluster when a finding points at them.";
        }
        // Namespaces that exist but were not collected, with the volumes they hold.
        let ns_file = index
            .files
            .iter()
            .position(|f| f.group.is_empty() && f.resource == "namespaces");
        let mut claims: BTreeMap<String, usize> = BTreeMap::new();
        for pv in index.of_kind("", "PersistentVolume") {
            if let View::PersistentVolume(v) = &pv.view
                && let Some(ns) = &v.claim_namespace
            {
                *claims.entry(ns.clone()).or_default() += 1;
            }
        }
        for ns in index.of_kind("", "Namespace") {
            let name = &ns.key.name;
            if namespaces.contains(name) {
                continue;
            }
            let file = ns_file
                .and_then(|i| index.files.get(i))
                .map(|f| f.path.clone())
                .unwrap_or_default();
            let ev = vec![GapEvidence::new(file, ns.name_line, ns.name_line)];
            match claims.get(name) {
                Some(n) => self.gap("bundle.namespaces", GapLevel::Warning,
                    format!("Namespace/{name}"), format!("namespace {name}"),
                    format!("not collected although it holds {n} persistent volume claim(s), likely VM disks: its VMs, pods and events are invisible; add it to the support-bundle-namespaces setting and collect again"),
                    ev),
                None => self.gap("bundle.namespaces", GapLevel::Info,
                    format!("Namespace/{name}"), format!("namespace {name}"),
                    "not collected (only default, kube-system, cattle-system and Harvester's namespaces are, unless listed in support-bundle-namespaces)".into(),
                    ev),
            };
        }
    }

    fn node_gaps(&mut self, bundle: &Bundle, index: &Index) {
        let nodes: Vec<_> = index.of_kind("", "Node").collect();
        let node_file = index
            .files
            .iter()
            .find(|f| f.group.is_empty() && f.resource == "nodes")
            .map(|f| f.path.clone());
        let ev_of = |n: &crate::index::Object| match &node_file {
            Some(f) => vec![GapEvidence::new(f.clone(), n.name_line, n.name_line)],
            None => vec![],
        };
        if bundle.nodes.is_empty() {
            self.gap("bundle.node-bundles", GapLevel::Warning, "nodes/".into(), "nodes/ (every node bundle)".into(),
                "absent: no node agent reported back (timeout, nodes not Ready, or standalone collection); node logs (kernel, rke2, kubelet) and configs are unavailable".into(),
                nodes.iter().flat_map(|n| ev_of(n)).collect());
            return;
        }
        for nb in &bundle.nodes {
            if nb.is_empty() {
                self.gap("bundle.node-bundles", GapLevel::Warning, format!("Node/{}", nb.name), format!("node bundle {}", nb.name),
                    "empty: the node collector found no collector for the node's OS (a known generator bug on OS-ID changes); its logs and configs are unavailable".into(),
                    vec![GapEvidence::new(nb.zip_path.clone(), 0, 0)]);
            } else if let Some(e) = &nb.error {
                self.gap(
                    "bundle.node-bundles",
                    GapLevel::Warning,
                    format!("Node/{}", nb.name),
                    format!("node bundle {}", nb.name),
                    format!("unreadable: {e}"),
                    vec![GapEvidence::new(nb.zip_path.clone(), 0, 0)],
                );
            }
        }
        for n in &nodes {
            if !bundle.nodes.iter().any(|nb| nb.name == n.key.name) {
                self.gap("bundle.node-bundles", GapLevel::Warning, format!("Node/{}", n.key.name), format!("node bundle {}", n.key.name),
                    "absent: the node did not report back in time (nodes not Ready are not waited for); its logs and configs are unavailable".into(),
                    ev_of(n));
            }
        }
    }

    fn log_gaps(
        &mut self,
        bundle: &Bundle,
        index: &Index,
        namespaces: &BTreeSet<String>,
        log_pods: &BTreeSet<(String, String)>,
    ) {
        if !bundle.has_dir("logs") {
            self.gap(
                "bundle.pod-logs",
                GapLevel::Warning,
                "logs/".into(),
                "logs/ (every pod log)".into(),
                "absent: no pod log can be used as evidence".into(),
                vec![],
            );
            return;
        }
        let mut missing: BTreeMap<String, Vec<&crate::index::Object>> = BTreeMap::new();
        for p in index.of_kind("", "Pod") {
            let ns = &p.key.namespace;
            if !namespaces.contains(ns) || log_pods.contains(&(ns.clone(), p.key.name.clone())) {
                continue;
            }
            let View::Pod(v) = &p.view else { continue };
            let started = v.container_statuses.iter().any(|c| {
                c.state.running.is_some()
                    || c.state.terminated.is_some()
                    || c.restart_count.unwrap_or(0) > 0
            });
            // The bundle's own agent pods are created after logs are taken.
            if started && !p.key.name.starts_with("supportbundle-agent-") {
                missing.entry(ns.clone()).or_default().push(p);
            }
        }
        for (ns, pods) in missing {
            let names: Vec<&str> = pods.iter().map(|p| p.key.name.as_str()).collect();
            let shown = names.iter().take(8).copied().collect::<Vec<_>>().join(", ");
            let more = if names.len() > 8 {
                format!(" and {} more", names.len() - 8)
            } else {
                String::new()
            };
            let file = pods
                .first()
                .and_then(|p| index.file_of(p))
                .map(|f| f.path.clone())
                .unwrap_or_default();
            self.gap("bundle.pod-logs", GapLevel::Info,
                format!("Namespace/{ns}"),
                format!("logs of {} started pod(s) in {ns}: {shown}{more}", names.len()),
                "not in the bundle (log fetch failed, the file was dropped, or the pod started after collection): their logs cannot be used as evidence".into(),
                pods.iter().map(|p| GapEvidence::new(file.clone(), p.name_line, p.name_line)).collect());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::archive::Limits;

    fn coverage_of(root: &Path) -> Coverage {
        let bundle = Bundle::open(root, &Limits::default()).unwrap();
        let index = Index::build(&bundle, &|_, _| {});
        let versions = crate::facts::detect::versions(&bundle, &index);
        Coverage::build(&bundle, &index, &versions)
    }

    fn copy_tree(from: &Path, to: &Path) {
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let dst = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                std::fs::create_dir_all(&dst).unwrap();
                copy_tree(&e.path(), &dst);
            } else {
                std::fs::copy(e.path(), &dst).unwrap();
            }
        }
    }

    /// `(rule, key, what)` of every gap.
    fn gaps(c: &Coverage) -> Vec<(&str, &str, &str)> {
        c.missing
            .iter()
            .map(|g| (g.rule, g.key.as_str(), g.what.as_str()))
            .collect()
    }

    #[test]
    fn gap_keys_are_the_same_in_two_captures_whose_counts_differ() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/healthy-v1.4.0");
        let first = coverage_of(&sample);
        // A later capture of the same cluster: one more pod without logs in kube-system, one
        // more lost previous log.
        let t = tempfile::tempdir().unwrap();
        copy_tree(&sample, t.path());
        std::fs::remove_dir_all(
            t.path()
                .join("logs/kube-system/harvester-whereabouts-6mp6s"),
        )
        .unwrap();
        let log = t.path().join(GEN_LOG);
        let mut text = std::fs::read_to_string(&log).unwrap();
        text.push_str(
            "BUG: Support bundle: cannot get log for pod rke2-canal-tn2z4 container calico-node: \
             previous terminated container \"calico-node\" in pod \"rke2-canal-tn2z4\" not found\n",
        );
        std::fs::write(&log, text).unwrap();
        let second = coverage_of(t.path());

        let (a, b) = (gaps(&first), gaps(&second));
        let keys = |g: &[(&str, &str, &str)]| -> Vec<(String, String)> {
            g.iter()
                .map(|(r, k, _)| (r.to_string(), k.to_string()))
                .collect()
        };
        assert_eq!(keys(&a), keys(&b));
        // The counts did change, in the text only.
        let find = |g: &[(&str, &str, &str)], rule: &str, key: &str| -> String {
            g.iter()
                .find(|(r, k, _)| *r == rule && *k == key)
                .map(|(_, _, w)| w.to_string())
                .unwrap_or_else(|| panic!("no {rule} {key} in {g:?}"))
        };
        let ks = "Namespace/kube-system";
        assert!(find(&a, "bundle.pod-logs", ks).starts_with("logs of 18 started pod(s)"));
        assert!(find(&b, "bundle.pod-logs", ks).starts_with("logs of 19 started pod(s)"));
        let prev = "previous-pod-logs";
        assert_eq!(
            find(&a, "bundle.collection-errors", prev),
            "previous pod logs: 1 collection error(s)"
        );
        assert_eq!(
            find(&b, "bundle.collection-errors", prev),
            "previous pod logs: 2 collection error(s)"
        );
    }

    #[test]
    fn gap_keys_are_unique_per_rule_and_name_what_is_missing() {
        let sample =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/node-down-vm-degraded-v1.4.0");
        let c = coverage_of(&sample);
        let mut seen = BTreeSet::new();
        for g in &c.missing {
            assert!(
                seen.insert((g.rule, g.key.clone())),
                "{} {} twice",
                g.rule,
                g.key
            );
            assert!(!g.key.contains(' '), "{:?} is prose", g.key);
        }
        let has = |rule: &str, key: &str| c.missing.iter().any(|g| g.rule == rule && g.key == key);
        assert!(has("bundle.node-bundles", "Node/harvester-node-2"));
        assert!(has("bundle.namespaces", "Namespace/kube-public"));
        assert!(has("bundle.pod-logs", "Namespace/harvester-system"));
        assert!(has("bundle.collection-errors", "pod-logs"));
        assert!(has("bundle.resources", "core-secrets"));
    }
}
