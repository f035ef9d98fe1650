//! `bundle.*` rules: gaps in the bundle itself, read from the coverage ledger. They make
//! "not collected" visible as findings, so nobody mistakes a missing input for health.
use super::finding::slug;
use super::{Context, Evidence, Finding, Input, Rule, RuleInfo, Severity};
use crate::bundle::coverage::GapLevel;

struct GapRule(RuleInfo, &'static str, &'static [&'static str]);

const INPUTS: &[Input] = &[Input::Coverage];

const RULES: &[(RuleInfo, &str, &[&str])] = &[
    (
        RuleInfo {
            id: "bundle.metadata",
            title: "Bundle metadata missing or unreadable",
            description: "metadata.yaml gives the capture time every age is measured from, the cluster id and the Kubernetes version.",
            inputs: INPUTS,
            versions: "all",
        },
        "Collect a new support bundle; if it must be this one, pass the capture time by hand when reading ages.",
        &[],
    ),
    (
        RuleInfo {
            id: "bundle.collection-errors",
            title: "The bundle generator logged collection failures",
            description: "bundleGenerationError.log lines that lose data (failed LISTs, failed log fetches, aborted log collection); LISTs of verb-less resources are normal and ignored.",
            inputs: INPUTS,
            versions: "all",
        },
        "Check the listed API paths on the live cluster (e.g. `kubectl get --raw <path>`); fix the failing API service, then collect a new bundle.",
        &["https://docs.harvesterhci.io/v1.4/troubleshooting/harvester#generate-a-support-bundle"],
    ),
    (
        RuleInfo {
            id: "bundle.resources",
            title: "Resource lists not collected",
            description: "The whole yamls/ folder, the CRD list, Harvester settings or Secrets are absent, so checks on them cannot run.",
            inputs: INPUTS,
            versions: "all",
        },
        "yamls/ is skipped whole when API discovery fails: find the unavailable API service (`kubectl get apiservices | grep False`), fix or remove it, and collect a new bundle.",
        &["https://github.com/rancher/support-bundle-kit/issues/137"],
    ),
    (
        RuleInfo {
            id: "bundle.namespaces",
            title: "Namespaces not collected",
            description: "Only default, kube-system, cattle-system and Harvester's own namespaces are collected unless the support-bundle-namespaces setting lists more; VM namespaces are often missing.",
            inputs: INPUTS,
            versions: "all",
        },
        "Add the namespaces to the `support-bundle-namespaces` setting (Harvester v1.6+: the bundle's extraCollectionNamespaces) and collect a new bundle.",
        &["https://docs.harvesterhci.io/v1.4/advanced/index#support-bundle-namespaces"],
    ),
    (
        RuleInfo {
            id: "bundle.node-bundles",
            title: "Node bundles missing or empty",
            description: "nodes/<node>.zip holds each node's kernel, rke2, kubelet and containerd logs and its configs; nodes that did not report back are missing.",
            inputs: INPUTS,
            versions: "all",
        },
        "Check the missing nodes are Ready and raise `support-bundle-node-collection-timeout`, then collect a new bundle.",
        &["https://github.com/harvester/harvester/issues/1765"],
    ),
    (
        RuleInfo {
            id: "bundle.pod-logs",
            title: "Pod logs missing",
            description: "logs/ is absent, or started pods in collected namespaces have no log files.",
            inputs: INPUTS,
            versions: "all",
        },
        "Fetch the missing logs from the live cluster with `kubectl logs -n <ns> <pod> --all-containers`.",
        &[],
    ),
    (
        RuleInfo {
            id: "bundle.parse-errors",
            title: "Files that could not be read or parsed",
            description: "Resource lists, node zips or archive entries sbdiag could not read; objects in them are not analysed.",
            inputs: INPUTS,
            versions: "all",
        },
        "Check whether the archive was truncated in transfer (compare its size and checksum with the original), and re-download it.",
        &[],
    ),
];

/// The `bundle.*` rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    RULES
        .iter()
        .map(|(info, fix, refs)| Box::new(GapRule(*info, fix, refs)) as Box<dyn Rule>)
        .collect()
}

fn severity(level: GapLevel) -> Severity {
    match level {
        GapLevel::Info => Severity::Info,
        GapLevel::Warning => Severity::Warning,
        GapLevel::Error => Severity::Error,
    }
}

impl Rule for GapRule {
    fn info(&self) -> &RuleInfo {
        &self.0
    }

    fn evaluate(&self, cx: &Context) -> Vec<Finding> {
        let id = self.0.id;
        let mut out: Vec<Finding> = cx
            .coverage
            .missing
            .iter()
            .filter(|g| g.rule == id)
            .map(|g| Finding {
                id: format!("{id}:{}", slug(&g.what)),
                rule: id.to_string(),
                severity: severity(g.level),
                title: format!("{}: {}", self.0.title, g.what),
                summary: format!("{}: {}", g.what, g.why),
                objects: Vec::new(),
                evidence: g
                    .evidence
                    .iter()
                    .take(20)
                    .map(|e| Evidence::lines(e.file.clone(), e.line, e.end_line))
                    .collect(),
                remediation: if g.fix.is_empty() {
                    self.1.to_string()
                } else {
                    g.fix.to_string()
                },
                order: 0,
                graph: None,
                references: self.2.iter().map(|s| s.to_string()).collect(),
            })
            .collect();
        if id == "bundle.parse-errors" {
            for p in &cx.coverage.parse_errors {
                out.push(Finding {
                    id: format!("{id}:{}:{}", slug(&p.file), p.line),
                    rule: id.to_string(),
                    severity: Severity::Warning,
                    title: format!("Unparsable content in {}", p.file),
                    summary: format!(
                        "{} line {}: {}. Objects in this part are not analysed.",
                        p.file, p.line, p.error
                    ),
                    objects: Vec::new(),
                    evidence: vec![Evidence::lines(p.file.clone(), p.line, p.line)],
                    remediation: self.1.to_string(),
                    order: 0,
                    graph: None,
                    references: Vec::new(),
                });
            }
            for p in &cx.coverage.failed {
                out.push(Finding {
                    id: format!("{id}:{}", slug(&p.file)),
                    rule: id.to_string(),
                    severity: Severity::Warning,
                    title: format!("Unreadable entry {}", p.file),
                    summary: format!("{}: {}", p.file, p.error),
                    objects: Vec::new(),
                    evidence: vec![Evidence::lines(p.file.clone(), 0, 0)],
                    remediation: self.1.to_string(),
                    order: 0,
                    graph: None,
                    references: Vec::new(),
                });
            }
        }
        // Ids must be unique within a run.
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out.dedup_by(|a, b| a.id == b.id);
        out
    }
}
