//! `fleet.modified`: drift between the chart and the cluster, classified (benign or not), and
//! objects Fleet calls missing.
use super::*;

pub(super) const MODIFIED_INFO: RuleInfo = RuleInfo {
    id: "fleet.modified",
    title: "Drift between a Fleet-deployed chart and the cluster, classified",
    description: "For each object Fleet reports modified, missing or extra, compares Fleet's \
        recorded patch with the captured object field by field: drift limited to a webhook \
        caBundle (and the failurePolicy a cert job writes) is benign by design, an edited \
        image or replica count of a chart-managed workload is not, a missing object whose list \
        was collected is confirmed. Drift keeps the bundle (and its ManagedChart) not Ready, \
        which blocks Harvester upgrades.",
    inputs: INPUTS,
    versions: "all",
};

pub(super) fn modified(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let st = cx.fleet;
    let mut out = Vec::new();
    for j in &st.judged {
        let (Some(s), Some(c)) = (st.sources.get(j.source), st.claim(j)) else {
            continue;
        };
        // Drift, or a missing object, is why Fleet holds the chart not Ready.
        let f = match &j.verdict {
            Verdict::Drifted(class) => drift_finding(cx, s, c, j, class),
            Verdict::ConfirmedMissing => missing_finding(cx, s, c),
            Verdict::Unverifiable(why) if matches!(c.assertion, Assertion::Drift(_)) => {
                unverifiable_finding(cx, s, c, why)
            }
            _ => continue,
        };
        out.push(f.explaining([chart_topic(s)]));
    }
    out
}

pub(super) fn compare_patch_path(path: &str) -> String {
    // webhooks[0].clientConfig.caBundle → /webhooks/0/clientConfig/caBundle
    let mut out = String::new();
    for part in path.split('.') {
        out.push('/');
        match part.split_once('[') {
            Some((name, idx)) => {
                out.push_str(name);
                out.push('/');
                out.push_str(idx.trim_end_matches(']'));
            }
            None => out.push_str(part),
        }
    }
    out
}

fn drift_finding(
    cx: &Context,
    s: &Source,
    c: &Claim,
    j: &Judged,
    class: &Classification,
) -> Finding {
    let live = j.live.and_then(|i| at(cx, i));
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "Claimed by Fleet ({}):\n  {}",
        claim_where(cx, s, c),
        claim_line(c)
    );
    if !class.fields.is_empty() {
        let _ = writeln!(summary, "Fields that differ (chart → cluster):");
        for f in &class.fields {
            let _ = writeln!(summary, "  - {}: {} → {}", f.path, f.chart, f.live);
        }
    }
    let _ = writeln!(
        summary,
        "Classification: {} — {}.",
        if class.benign { "benign" } else { "not benign" },
        class.reason
    );
    if let Some(o) = live.filter(|o| o.meta.creation_timestamp.is_some()) {
        let _ = writeln!(
            summary,
            "The object was created {}.",
            ago(o.meta.creation_timestamp.as_deref(), cx.created_at)
        );
    }
    if !s.is_ready() {
        let _ = write!(summary, "{}", effect(cx, s));
    }
    let chart = chart_name(cx, s);
    let remediation = if class.benign {
        let paths: Vec<&str> = class.fields.iter().map(|f| f.path.as_str()).collect();
        let mut r = String::new();
        let _ = write!(
            r,
            "Leave the object as it is (the field is managed at run time: reverting it would be \
             undone, or break the webhook) and tell Fleet to ignore the field with a \
             diff.comparePatches entry {}",
            compare_patches_entry(s, c, chart.as_deref(), &paths)
        );
        let _ = write!(
            r,
            "Fleet then reports the bundle Ready on its next pass (force one by bumping the \
             Bundle's spec.forceSyncGeneration to {}).",
            next_sync(s)
        );
        r
    } else if c.assertion == Assertion::Drift(crate::model::fleet::Drift::Extra) {
        format!(
            "If the object is no longer wanted, delete it; otherwise add it back to the \
             chart:\n$ kubectl delete {} {}{}",
            c.target.kind.to_lowercase(),
            if c.target.namespace.is_empty() {
                String::new()
            } else {
                format!("-n {} ", c.target.namespace)
            },
            c.target.name
        )
    } else if let Some(r) = no_plain_redeploy(s, c, class, chart.as_deref()) {
        r
    } else {
        format!(
            "Decide which state is wanted. To return to the chart's values, force a redeploy \
             (Helm re-applies them):\n$ kubectl -n {} patch bundles.fleet.cattle.io {} --type \
             merge -p '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'\nTo keep the change, make it \
             in the chart's values ({}) instead of editing the object, or Fleet keeps reporting \
             the bundle Modified.",
            s.namespace,
            s.name,
            next_sync(s),
            chart
                .as_deref()
                .map(|n| format!("ManagedChart {n} spec.values"))
                .unwrap_or_else(|| "the bundle's values".into())
        )
    };
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&c.target));
    let mut evidence = claim_evidence(cx, s, &c.target, c.recorded_in);
    if let Some(o) = live {
        let focus = class.fields.first().map(|f| {
            let leaf = f.path.rsplit('.').next().unwrap_or(&f.path);
            let leaf = leaf.split('[').next().unwrap_or(leaf);
            if f.live.len() < 40 && !f.live.contains('…') && f.live != "(unset)" {
                format!("{leaf}: {}", f.live)
            } else {
                format!("{leaf}:")
            }
        });
        evidence.push(Evidence::of(cx.index, o, focus.as_deref()));
    }
    // Benign drift is harmless to the cluster but still makes the chart not Ready.
    let severity = if class.benign {
        Severity::Warning
    } else if chart.is_some() {
        Severity::Error
    } else {
        Severity::Warning
    };
    Finding::new(
        "fleet.modified",
        subject(s, &c.target),
        severity,
        format!(
            "{} drift on {} ({}): {}",
            if class.benign { "Benign" } else { "Chart" },
            c.target.fleet_name(),
            short_label(cx, s),
            if class.fields.is_empty() {
                text::one_line(&class.reason, 80)
            } else {
                class
                    .fields
                    .iter()
                    .map(|f| f.path.rsplit('.').next().unwrap_or(&f.path).to_string())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
                    + " changed"
            }
        ),
    )
    .with_summary(summary.trim_end().to_string())
    .with_objects(objects)
    .with_evidence(evidence)
    .with_remediation(remediation)
    .with_references(vec!["https://fleet.rancher.io/bundle-diffs".into()])
}

/// The `diff.comparePatches` entry that makes Fleet ignore these fields of the target, with
/// where to put it.
fn compare_patches_entry(s: &Source, c: &Claim, chart: Option<&str>, paths: &[&str]) -> String {
    let mut r = match chart {
        Some(n) => format!(
            "in ManagedChart {n} (Rancher copies spec.diff into the Bundle). Edit it:\n$ kubectl \
             -n {} edit managedcharts.management.cattle.io {n}\nand append to \
             spec.diff.comparePatches:\n",
            s.namespace
        ),
        None => "in the bundle's fleet.yaml (diff.comparePatches):\n".into(),
    };
    let _ = writeln!(
        r,
        "  - apiVersion: {}\n    kind: {}\n    name: {}{}\n    jsonPointers:",
        c.target.api_version,
        c.target.kind,
        c.target.name,
        if c.target.namespace.is_empty() {
            String::new()
        } else {
            format!("\n    namespace: {}", c.target.namespace)
        }
    );
    for p in paths {
        let _ = writeln!(r, "    - {}", compare_patch_path(p));
    }
    r
}

/// The fix for drift a plain `forceSyncGeneration` redeploy does not cure
/// ([`crate::facts::immutable`]): an immutable field (delete and recreate, or ignore it) or a
/// known issue with a documented procedure. `None` when a redeploy is safe.
fn no_plain_redeploy(
    s: &Source,
    c: &Claim,
    class: &Classification,
    chart: Option<&str>,
) -> Option<String> {
    use crate::facts::immutable::{self, Fix};
    let fixes: Vec<(&str, Fix)> = class
        .fields
        .iter()
        .filter_map(|f| {
            immutable::for_field(&c.target.group, &c.target.kind, &f.path)
                .map(|x| (f.path.as_str(), x))
        })
        .collect();
    let bump = format!(
        "$ kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
         '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'",
        s.namespace,
        s.name,
        next_sync(s)
    );
    let immutable: Vec<&str> = fixes
        .iter()
        .filter(|(_, f)| matches!(f, Fix::Immutable { .. }))
        .map(|(p, _)| *p)
        .collect();
    if let Some((_, Fix::Immutable { denial, reference })) = fixes
        .iter()
        .find(|(_, f)| matches!(f, Fix::Immutable { .. }))
    {
        let kind = c.target.kind.to_lowercase();
        let name = &c.target.name;
        let ns = if c.target.namespace.is_empty() {
            String::new()
        } else {
            format!("-n {} ", c.target.namespace)
        };
        return Some(format!(
            "Do not only force a redeploy: {} of a {} cannot be changed in place, so Helm's \
             update is refused (\"{denial}\", {reference}) and the bundle likely goes \
             ErrApplied. Choose one:\n1. Return to the chart's values: save the object, delete \
             it, and force the redeploy, which recreates it from the chart (volumes already \
             provisioned keep their settings; new ones cannot be provisioned with it until it \
             is back):\n$ kubectl get {kind} {ns}{name} -o yaml > {name}.yaml\n$ kubectl delete \
             {kind} {ns}{name}\n{bump}\n2. Keep the cluster's value and tell Fleet to ignore \
             the field with a diff.comparePatches entry {}",
            immutable.join(", "),
            c.target.kind,
            compare_patches_entry(s, c, chart, &immutable).trim_end()
        ));
    }
    if let Some((_, Fix::Procedure { steps, reference })) = fixes.first() {
        return Some(format!(
            "Do not only force a redeploy: {steps} ({reference}). Once that is done:\n{bump}"
        ));
    }
    None
}

fn missing_finding(cx: &Context, s: &Source, c: &Claim) -> Finding {
    let mut summary = format!(
        "Claimed by Fleet ({}):\n  {}\nObserved: the list that would hold it was collected and \
         it is not there, so the object is really missing.\n",
        claim_where(cx, s, c),
        claim_line(c)
    );
    if !s.is_ready() {
        summary.push_str(&effect(cx, s));
    }
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&c.target));
    Finding::new(
        "fleet.modified",
        subject(s, &c.target),
        if chart_name(cx, s).is_some() {
            Severity::Error
        } else {
            Severity::Warning
        },
        format!(
            "{} is missing from the cluster ({} reports it)",
            c.target.fleet_name(),
            source_label(cx, s)
        ),
    )
    .with_summary(summary.trim_end().to_string())
    .with_objects(objects)
    .with_evidence(claim_evidence(cx, s, &c.target, c.recorded_in))
    .with_remediation(format!(
        "Recreate it by forcing a redeploy of the release (Helm re-applies every object):\n$ \
             kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
             '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'\nIf something deletes it again, find \
             what (events, audit log).",
        s.namespace,
        s.name,
        next_sync(s)
    ))
    .with_references(vec!["https://fleet.rancher.io/bundle-diffs".into()])
}

fn unverifiable_finding(cx: &Context, s: &Source, c: &Claim, why: &str) -> Finding {
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&c.target));
    Finding::new(
        "fleet.modified",
        subject(s, &c.target),
        Severity::Warning,
        format!(
            "{} reports {} — the bundle cannot confirm it",
            source_label(cx, s),
            text::one_line(&claim_line(c), 120)
        ),
    )
    .with_summary(format!(
        "Claimed by Fleet ({}):\n  {}\nNot verifiable from this bundle: {why}.{}",
        claim_where(cx, s, c),
        claim_line(c),
        if s.is_ready() {
            String::new()
        } else {
            format!("\n{}", effect(cx, s))
        }
    ))
    .with_objects(objects)
    .with_evidence(claim_evidence(cx, s, &c.target, c.recorded_in))
    .with_remediation(format!(
        "Check on the cluster:\n$ kubectl get {} {}{}\nIf it is really missing or \
             changed, force a redeploy:\n$ kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
             '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'",
        c.target.kind.to_lowercase(),
        if c.target.namespace.is_empty() {
            String::new()
        } else {
            format!("-n {} ", c.target.namespace)
        },
        c.target.name,
        s.namespace,
        s.name,
        next_sync(s)
    ))
}
