//! Pre-checks #4 Helm-Bundles (every Helm bundle but mcc-harvester has a ready
//! deployment) and #5 Harvester-Bundles (mcc-harvester's summary is exactly
//! `{desiredReady: 1, ready: 1}`), over Fleet's Bundles in fleet-local.
use std::fmt::Write as _;

use super::{BUNDLE_STATUS_END, Hit, RES, findings, full, of_kind, opt, subject};
use crate::facts::objectset;
use crate::index::Object;
use crate::model::condition;
use crate::model::fleet::BundleSummary;
use crate::model::views::View;
use crate::rules::{Context, Input, RuleDef, RuleInfo, Severity};

pub(super) const HELM_BUNDLES: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.helm-bundles",
        title: "Pre-check #4 Helm-Bundles: every Helm bundle but mcc-harvester has a ready deployment",
        description: "check_bundles lists bundles.fleet.cattle.io in all namespaces and fails \
            when a bundle other than mcc-harvester with spec.helm set has \
            status.summary.ready == 0 (an absent counter is not 0). The index does not keep \
            a Bundle's spec.helm: a bundle counts as a Helm bundle when its name starts \
            with mcc- or it names a chart or release.",
        inputs: &[RES, Input::Resource("fleet.cattle.io", "bundles")],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &["https://fleet.rancher.io/ref-status-fields"],
            eval_helm_bundles(cx),
        )
    },
);

pub(super) const HARVESTER_BUNDLE: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.harvester-bundle",
        title: "Pre-check #5 Harvester-Bundles: mcc-harvester summary exactly {desiredReady: 1, ready: 1}",
        description: "check_harvester_bundle diffs status.summary of \
            bundles.fleet.cattle.io/mcc-harvester -n fleet-local against exactly \
            {desiredReady: 1, ready: 1}: any other key (modified, notReady, \
            nonReadyResources, … even at 0) or another value fails, and so does a missing \
            bundle.",
        inputs: &[RES, Input::Resource("fleet.cattle.io", "bundles")],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &[
                "https://fleet.rancher.io/ref-status-fields",
                "https://github.com/harvester/harvester/issues/7454",
            ],
            eval_harvester_bundle(cx),
        )
    },
);

// ---------------------------------------------------------------- #4 helm-bundles

/// Whether a Bundle deploys a Helm chart: `spec.helm` is not indexed, so a ManagedChart
/// bundle (`mcc-*`) or one naming a chart or release.
fn is_helm_bundle(o: &Object) -> bool {
    objectset::managed_chart_of(&o.key.name).is_some()
        || matches!(&o.view, View::Fleet(f) if f.chart.is_some() || f.release_name.is_some())
}

/// `desiredReady: 1, ready: 0, notReady: 1, nonReadyResources: [local NotReady]`.
fn summary_text(s: &BundleSummary) -> String {
    let mut parts: Vec<String> = [
        ("desiredReady", s.desired_ready),
        ("ready", s.ready),
        ("notReady", s.not_ready),
        ("waitApplied", s.wait_applied),
        ("errApplied", s.err_applied),
        ("outOfSync", s.out_of_sync),
        ("modified", s.modified),
        ("pending", s.pending),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|n| format!("{k}: {n}")))
    .collect();
    if !s.non_ready_resources.is_empty() {
        parts.push(format!(
            "nonReadyResources: [{}]",
            s.non_ready_resources
                .iter()
                .map(|r| format!("{} {}", r.name, r.bundle_state))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if parts.is_empty() {
        "(empty)".into()
    } else {
        format!("{{{}}}", parts.join(", "))
    }
}

fn ready_condition(o: &Object) -> String {
    match condition(&o.status.conditions, "Ready") {
        Some(c) => format!(
            "Ready={}{}",
            c.status,
            c.message
                .as_deref()
                .map(|m| format!(" ({})", crate::text::one_line(m, 300)))
                .unwrap_or_default()
        ),
        None => "no Ready condition".into(),
    }
}

fn force_sync(o: &Object) -> String {
    let next = match &o.view {
        View::Fleet(f) => f.force_sync_generation.unwrap_or(0) + 1,
        _ => 1,
    };
    format!(
        "kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
         '{{\"spec\":{{\"forceSyncGeneration\":{next}}}}}'",
        o.key.namespace, o.key.name
    )
}

fn helm_bundles<'a>(bundles: &[&'a Object]) -> Vec<Hit<'a>> {
    bundles
        .iter()
        .filter(|b| b.key.name != "mcc-harvester" && is_helm_bundle(b))
        .filter_map(|b| {
            let View::Fleet(f) = &b.view else {
                return None;
            };
            if f.summary.ready != Some(0) {
                return None;
            }
            let chart = f
                .chart
                .as_deref()
                .map(|c| format!(" (chart {c})"))
                .unwrap_or_default();
            let mut summary = String::new();
            let _ = writeln!(
                summary,
                "Bundle {}{chart} records status.summary {}; {}.",
                full(b),
                summary_text(&f.summary),
                ready_condition(b)
            );
            let _ = writeln!(
                summary,
                "check_bundles fails on a Helm bundle other than mcc-harvester whose \
                 status.summary.ready is 0; it prints \"There are non-ready Helm bundles:\" with \
                 {} and Helm-Bundles Test: Failed.",
                full(b)
            );
            Some(Hit {
                subject: subject(b, ""),
                severity: Severity::Error,
                title: format!(
                    "Helm bundle {} has no ready deployment (status.summary.ready: 0)",
                    full(b)
                ),
                summary,
                objects: vec![(*b, Some(BUNDLE_STATUS_END.into()))],
                remediation: format!(
                    "See the fleet.* findings for {}: they tell a stale status, a drift \
                     (revert it, or add a comparePatches entry on the ManagedChart) and a \
                     resource really not ready (fix it).{}\nFor a stale status, force a \
                     re-evaluation:\n$ {}",
                    b.key.name,
                    objectset::managed_chart_of(&b.key.name)
                        .map(|c| format!(
                            " The bundle is generated from ManagedChart {}/{c}: make value and \
                                 comparePatches changes there.",
                            b.key.namespace
                        ))
                        .unwrap_or_default(),
                    force_sync(b),
                ),
            })
        })
        .collect()
}

fn eval_helm_bundles<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    helm_bundles(&of_kind(cx.index, "fleet.cattle.io", "Bundle"))
}

// ---------------------------------------------------------------- #5 harvester-bundle

/// How a summary differs from exactly `{desiredReady: 1, ready: 1}`.
fn summary_deviations(s: &BundleSummary) -> Vec<String> {
    let mut d = Vec::new();
    if s.desired_ready != Some(1) {
        d.push(format!("desiredReady is {}", opt(s.desired_ready)));
    }
    if s.ready != Some(1) {
        d.push(format!("ready is {}", opt(s.ready)));
    }
    for (k, v) in [
        ("notReady", s.not_ready),
        ("waitApplied", s.wait_applied),
        ("errApplied", s.err_applied),
        ("outOfSync", s.out_of_sync),
        ("modified", s.modified),
        ("pending", s.pending),
    ] {
        if let Some(n) = v {
            d.push(format!("extra key {k}: {n}"));
        }
    }
    if !s.non_ready_resources.is_empty() {
        d.push(format!(
            "extra key nonReadyResources ({})",
            s.non_ready_resources
                .iter()
                .map(|r| {
                    let mut t = format!("{} {}", r.name, r.bundle_state);
                    if let Some(m) = &r.message {
                        let _ = write!(t, ": {}", crate::text::one_line(m, 200));
                    }
                    t
                })
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    d
}

fn harvester_bundle(b: Option<&Object>) -> Vec<Hit<'_>> {
    let Some(b) = b else {
        return vec![Hit {
            subject: "Bundle/fleet-local/mcc-harvester".into(),
            severity: Severity::Error,
            title: "Bundle fleet-local/mcc-harvester is missing".into(),
            summary: "The bundle has no bundles.fleet.cattle.io fleet-local/mcc-harvester: \
                      the summary check_harvester_bundle compares is empty, so it prints \
                      \"Harvester bundle is not ready!\" and Harvester-Bundles Test: Failed."
                .into(),
            objects: Vec::new(),
            remediation: "Rancher generates this Bundle from ManagedChart fleet-local/harvester: \
                          check that the ManagedChart exists and the Rancher pods in \
                          cattle-system run (their logs say why the bundle is not created)."
                .into(),
        }];
    };
    let View::Fleet(f) = &b.view else {
        return Vec::new();
    };
    let dev = summary_deviations(&f.summary);
    let Some(first) = dev.first() else {
        return Vec::new();
    };
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "Bundle fleet-local/mcc-harvester records status.summary {}; {}.",
        summary_text(&f.summary),
        ready_condition(b)
    );
    let _ = writeln!(summary, "Differences from {{desiredReady: 1, ready: 1}}:");
    for d in &dev {
        let _ = writeln!(summary, "  - {d}");
    }
    let _ = writeln!(
        summary,
        "check_harvester_bundle diffs the whole summary against exactly {{desiredReady: 1, \
         ready: 1}} — any other key fails, even a zero counter — and prints \"Harvester bundle \
         is not ready!\" with Harvester-Bundles Test: Failed."
    );
    vec![Hit {
        subject: "Bundle/fleet-local/mcc-harvester".into(),
        severity: Severity::Error,
        title: format!(
            "Bundle fleet-local/mcc-harvester summary is not exactly {{desiredReady: 1, ready: \
             1}}: {first}{}",
            if dev.len() > 1 {
                format!(" (+{} more)", dev.len() - 1)
            } else {
                String::new()
            }
        ),
        summary,
        objects: vec![(b, Some(BUNDLE_STATUS_END.into()))],
        remediation: format!(
            "Make mcc-harvester Ready again; the fleet.* findings say why it is not. Drift \
             (Modified): revert the object to the chart's values, apply missing CRDs of the \
             release, or add a comparePatches entry on ManagedChart fleet-local/harvester. A \
             resource really not ready: fix it. A stale status: force Fleet to re-evaluate \
             it:\n$ {}",
            force_sync(b)
        ),
    }]
}

fn eval_harvester_bundle<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    harvester_bundle(
        cx.index
            .find("fleet.cattle.io", "Bundle", "fleet-local", "mcc-harvester"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::precheck::fixtures::object;

    fn bundle(name: &str, summary: &str) -> Object {
        object(
            "Bundle",
            "fleet.cattle.io",
            &format!(
                "apiVersion: fleet.cattle.io/v1alpha1\nkind: Bundle\nmetadata:\n  name: {name}\n  \
                 namespace: fleet-local\nspec:\n  helm:\n    chart: harvester\n    releaseName: \
                 harvester\nstatus:\n  summary:\n{summary}"
            ),
        )
    }

    #[test]
    fn harvester_bundle_must_be_exact() {
        let ok = bundle("mcc-harvester", "    desiredReady: 1\n    ready: 1\n");
        assert!(harvester_bundle(Some(&ok)).is_empty());

        // An extra counter fails even at zero, as the script's diff does.
        let zero = bundle(
            "mcc-harvester",
            "    desiredReady: 1\n    notReady: 0\n    ready: 1\n",
        );
        let h = harvester_bundle(Some(&zero));
        assert_eq!(h.len(), 1);
        assert!(
            h[0].title.contains("extra key notReady: 0"),
            "{}",
            h[0].title
        );

        let modified = bundle(
            "mcc-harvester",
            "    desiredReady: 1\n    modified: 1\n    nonReadyResources:\n    - bundleState: \
             Modified\n      name: fleet-local/local\n    ready: 0\n",
        );
        let h = harvester_bundle(Some(&modified));
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].subject, "Bundle/fleet-local/mcc-harvester");
        assert_eq!(h[0].severity, Severity::Error);
        assert!(h[0].summary.contains("ready is 0"));
        assert!(h[0].summary.contains("extra key modified: 1"));
        assert!(
            h[0].summary
                .contains("nonReadyResources (fleet-local/local Modified)")
        );
        assert!(h[0].remediation.contains("forceSyncGeneration\":1"));

        let missing = harvester_bundle(None);
        assert_eq!(missing.len(), 1);
        assert!(missing[0].title.contains("missing"));
    }

    #[test]
    fn helm_bundles_flag_ready_zero_except_mcc_harvester() {
        let bad = bundle(
            "mcc-rancher-monitoring-crd",
            "    desiredReady: 1\n    ready: 0\n",
        );
        let harvester = bundle("mcc-harvester", "    desiredReady: 1\n    ready: 0\n");
        let absent = bundle("mcc-other", "    desiredReady: 1\n");
        let hits = helm_bundles(&[&bad, &harvester, &absent]);
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].subject,
            "Bundle/fleet-local/mcc-rancher-monitoring-crd"
        );
    }
}
