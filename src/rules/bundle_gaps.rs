//! `bundle.*` rules: gaps in the bundle itself, read from the coverage ledger. They make
//! "not collected" visible as findings, so nobody mistakes a missing input for health.
use std::collections::BTreeMap;

use super::{Context, Evidence, Finding, Input, Rule, RuleDef, RuleInfo, Severity};
use crate::bundle::Problem;
use crate::facts::coverage::GapLevel;
use crate::index::ParseError;

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
        "Check the API paths of the cited bundleGenerationError.log lines on the live cluster (`kubectl get --raw` with each path); fix the failing API service, then collect a new bundle.",
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
        "Fetch the missing logs from the live cluster with `kubectl logs --all-containers`, pod by pod.",
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
        .map(|(info, _, _)| Box::new(RuleDef::new(*info, gaps)) as Box<dyn Rule>)
        .collect()
}

fn severity(level: GapLevel) -> Severity {
    match level {
        GapLevel::Info => Severity::Info,
        GapLevel::Warning => Severity::Warning,
        GapLevel::Error => Severity::Error,
    }
}

/// The general advice and the references of a `bundle.*` rule, from its row of [`RULES`].
fn advice(id: &str) -> (&'static str, &'static [&'static str]) {
    RULES
        .iter()
        .find(|(info, _, _)| info.id == id)
        .map(|(_, fix, refs)| (*fix, *refs))
        .unwrap_or(("", &[]))
}

/// The findings of one `bundle.*` rule: its gaps in the coverage ledger.
fn gaps(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let id = info.id;
    let (fix, refs) = advice(id);
    let mut out: Vec<Finding> = cx
        .coverage
        .missing
        .iter()
        .filter(|g| g.rule == id)
        .map(|g| {
            Finding::new(
                id,
                &g.key,
                severity(g.level),
                format!("{}: {}", info.title, g.what),
            )
            .with_summary(format!("{}: {}", g.what, g.why))
            .with_evidence(
                g.evidence
                    .iter()
                    .take(20)
                    .map(|e| Evidence::lines(e.file.clone(), e.line, e.end_line))
                    .collect(),
            )
            .with_remediation(if !g.fix.is_empty() {
                g.fix.to_string()
            } else if id == "bundle.pod-logs" {
                missing_logs_fix(cx, g).unwrap_or_else(|| fix.to_string())
            } else {
                fix.to_string()
            })
            .with_references(refs.iter().map(|s| s.to_string()).collect())
            // The gap's key names what is missing (`Node/n2`, `Namespace/x`): whatever
            // explains that object explains the gap, as it does the pods whose logs were lost.
            .with_topic(&g.key)
            .with_topics(g.concerns.iter().cloned())
        })
        .collect();
    if id == "bundle.parse-errors" {
        out.extend(unreadable_files(
            &cx.coverage.parse_errors,
            &cx.coverage.failed,
            fix,
        ));
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The `kubectl logs` commands for the pods of a `bundle.pod-logs` gap (its key names the
/// namespace, its text the pods), at most 8 of them; `None` when the index does not hold them.
fn missing_logs_fix(cx: &Context, g: &crate::facts::coverage::Gap) -> Option<String> {
    let ns = g.key.strip_prefix("Namespace/")?;
    let pods: Vec<&str> = cx
        .index
        .of_kind("", "Pod")
        .filter(|p| p.key.namespace == ns && cx.pod_logs(ns, &p.key.name).is_empty())
        .map(|p| p.key.name.as_str())
        .filter(|name| {
            g.what
                .split([':', ',', ' '])
                .any(|w| !w.is_empty() && w == *name)
        })
        .collect();
    if pods.is_empty() {
        return None;
    }
    let mut s = String::from("Fetch the missing logs from the live cluster:");
    for p in pods.iter().take(8) {
        s.push_str(&format!("\n$ kubectl -n {ns} logs {p} --all-containers"));
    }
    if pods.len() > 8 {
        s.push_str(&format!(
            "\nThe same for the other {} pods listed above.",
            pods.len() - 8
        ));
    }
    Some(s)
}

/// One finding per file that could not be read or parsed, whatever the number of errors in
/// it: the id is the file (its identity), so the same broken file keeps its id in the next
/// capture even when its errors move to other lines.
fn unreadable_files(parse: &[ParseError], failed: &[Problem], fix: &str) -> Vec<Finding> {
    let mut by_file: BTreeMap<&str, (Vec<&ParseError>, Vec<&Problem>)> = BTreeMap::new();
    for p in parse {
        by_file.entry(&p.file).or_default().0.push(p);
    }
    for p in failed {
        by_file.entry(&p.file).or_default().1.push(p);
    }
    by_file
        .into_iter()
        .map(|(file, (parse, failed))| {
            let mut lines: Vec<String> = failed
                .iter()
                .map(|p| format!("{file}: {}", p.error))
                .collect();
            lines.extend(
                parse
                    .iter()
                    .map(|p| format!("{file} line {}: {}", p.line, p.error)),
            );
            let mut evidence: Vec<Evidence> = Vec::new();
            if !failed.is_empty() {
                evidence.push(Evidence::lines(file, 0, 0));
            }
            evidence.extend(
                parse
                    .iter()
                    .take(20)
                    .map(|p| Evidence::lines(file, p.line, p.line)),
            );
            let (title, summary) = if failed.is_empty() {
                (
                    format!("Unparsable content in {file}"),
                    format!(
                        "{}. Objects in {} not analysed.",
                        lines.join(";\n"),
                        if lines.len() == 1 {
                            "this part are"
                        } else {
                            "these parts are"
                        }
                    ),
                )
            } else {
                (format!("Unreadable entry {file}"), lines.join(";\n"))
            };
            Finding::new("bundle.parse-errors", file, Severity::Warning, title)
                .with_summary(summary)
                .with_evidence(evidence)
                .with_remediation(fix.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(file: &str, line: u32) -> ParseError {
        ParseError {
            file: file.into(),
            line,
            error: format!("bad item at {line}"),
        }
    }

    #[test]
    fn one_finding_per_broken_file_whatever_its_errors() {
        // Paths alike in their first 80 characters: the old slugged ids cut them to one.
        let a = "yamls/namespaced/cattle-provisioning-capi-system/cluster.x-k8s.io/v1beta1/machinesets.yaml";
        let b = "yamls/namespaced/cattle-provisioning-capi-system/cluster.x-k8s.io/v1beta1/machinedeployments.yaml";
        assert_eq!(a[..80], b[..80]);
        let failed = [Problem {
            file: "nodes/n1.zip".into(),
            error: "not a zip".into(),
        }];
        let first = unreadable_files(&[parse(a, 10), parse(a, 40), parse(b, 7)], &failed, "fix");
        let ids: Vec<&str> = first.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "bundle.parse-errors:nodes/n1.zip",
                &format!("bundle.parse-errors:{b}"),
                &format!("bundle.parse-errors:{a}"),
            ]
        );
        let fa = &first[2];
        assert_eq!(fa.title, format!("Unparsable content in {a}"));
        assert_eq!(
            fa.summary,
            format!(
                "{a} line 10: bad item at 10;\n{a} line 40: bad item at 40. Objects in these \
                 parts are not analysed."
            )
        );
        assert_eq!(fa.evidence.len(), 2);
        assert_eq!(first[0].title, "Unreadable entry nodes/n1.zip");
        assert_eq!(first[0].summary, "nodes/n1.zip: not a zip");
        assert_eq!(
            first[1].summary,
            format!("{b} line 7: bad item at 7. Objects in this part are not analysed.")
        );
        // The next capture: the same files broken at other lines keep their ids.
        let next = unreadable_files(&[parse(a, 12), parse(b, 9), parse(b, 90)], &failed, "fix");
        let next_ids: Vec<&str> = next.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, next_ids);
    }
}
