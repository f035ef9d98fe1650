//! `fleet.modified`: drift between the chart and the cluster, classified (benign or not), and
//! objects Fleet calls missing.
use super::*;
use crate::fleet::drift;

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
    if c.assertion == Assertion::Drift(crate::model::fleet::Drift::Extra)
        && let Some(o) = live
    {
        let _ = writeln!(
            summary,
            "Observed: {} exists and {}.",
            c.target.fleet_name(),
            objectset::marks(o, (s.namespace == "fleet-local").then_some(s.name.as_str()))
        );
    }
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
        let paths: Vec<&str> = class.fields.iter().map(|f| f.pointer.as_str()).collect();
        let mut r = String::new();
        let _ = write!(
            r,
            "Leave the object as it is (the field is managed at run time: reverting it would be \
             undone, or break what sets it) and tell Fleet to ignore the field with a \
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
    } else if let Some(r) = no_plain_redeploy(cx, s, c, class, chart.as_deref()) {
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

/// The `diff.comparePatches` entry that makes Fleet ignore these fields (JSON pointers) of the
/// target, with where to put it: the ManagedChart a `mcc-*` bundle is generated from (Rancher
/// copies its `spec.diff` into the Bundle, and would overwrite an edit of the Bundle itself),
/// else the bundle's fleet.yaml.
fn compare_patches_entry(s: &Source, c: &Claim, chart: Option<&str>, pointers: &[&str]) -> String {
    let from_name = objectset::managed_chart_of(&s.name);
    let mut r = match (chart, from_name) {
        (Some(n), _) => format!(
            "in ManagedChart {n} (Rancher copies spec.diff into the Bundle). Edit it:\n$ kubectl \
             -n {} edit managedcharts.management.cattle.io {n}\nand append to \
             spec.diff.comparePatches:\n",
            s.namespace
        ),
        (None, Some(n)) => format!(
            "in ManagedChart {n}, which Bundle {} is generated from (the ManagedChart is not in \
             this capture; Rancher copies its spec.diff into the Bundle, so edit the ManagedChart, \
             not the Bundle):\n$ kubectl -n {} edit managedcharts.management.cattle.io {n}\nand \
             append to spec.diff.comparePatches:\n",
            s.name, s.namespace
        ),
        (None, None) => "in the bundle's fleet.yaml (diff.comparePatches):\n".into(),
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
    for p in pointers {
        let _ = writeln!(r, "    - {p}");
    }
    r
}

/// The fix for drift a plain `forceSyncGeneration` redeploy does not cure
/// ([`crate::facts::immutable`]): an immutable field (delete and recreate, or ignore it) or a
/// known issue with a documented procedure. `None` when a redeploy is safe.
fn no_plain_redeploy(
    cx: &Context,
    s: &Source,
    c: &Claim,
    class: &Classification,
    chart: Option<&str>,
) -> Option<String> {
    use crate::facts::immutable::{self, Fix, Recreate};
    let fixes: Vec<(&drift::FieldDiff, Fix)> = class
        .fields
        .iter()
        .filter_map(|f| {
            immutable::for_field(&c.target.group, &c.target.kind, &f.path).map(|x| (f, x))
        })
        .collect();
    let bump = format!(
        "$ kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
         '{{\"spec\":{{\"forceSyncGeneration\":{}}}}}'",
        s.namespace,
        s.name,
        next_sync(s)
    );
    let immutable: Vec<&drift::FieldDiff> = fixes
        .iter()
        .filter(|(_, f)| matches!(f, Fix::Immutable { .. }))
        .map(|(d, _)| *d)
        .collect();
    if let Some((
        _,
        Fix::Immutable {
            denial,
            reference,
            recreate,
        },
    )) = fixes
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
        let paths: Vec<&str> = immutable.iter().map(|d| d.path.as_str()).collect();
        let pointers: Vec<&str> = immutable.iter().map(|d| d.pointer.as_str()).collect();
        let entry = compare_patches_entry(s, c, chart, &pointers);
        let head = format!(
            "{} of a {} cannot be changed in place, so Helm's update is refused (\"{denial}\", \
             {reference}) and the bundle likely goes ErrApplied.",
            paths.join(", "),
            c.target.kind
        );
        return Some(match recreate {
            Recreate::Never(why) => format!(
                "Do not force a redeploy, and do not delete the {} to let Fleet recreate it: \
                 {head} Deleting it is not a fix: {why}. Keep the cluster's value and tell \
                 Fleet to ignore the field with a diff.comparePatches entry {}",
                c.target.kind,
                entry.trim_end()
            ),
            Recreate::Delete(what) | Recreate::Orphan(what) => {
                let orphan = matches!(recreate, Recreate::Orphan(_));
                format!(
                    "Do not only force a redeploy: {head} Choose one:\n1. Return to the chart's \
                     values: save the object, delete it{}, and force the redeploy, which \
                     recreates it from the chart ({what}):\n$ kubectl get {kind} {ns}{name} -o \
                     yaml > {name}.yaml\n$ kubectl delete {kind} {ns}{name}{}\n{bump}\n2. Keep \
                     the cluster's value and tell Fleet to ignore the field with a \
                     diff.comparePatches entry {}",
                    if orphan { " without its pods" } else { "" },
                    if orphan { " --cascade=orphan" } else { "" },
                    entry.trim_end()
                )
            }
        });
    }
    if let Some((
        _,
        Fix::Procedure {
            steps,
            commands,
            reference,
        },
    )) = fixes.first()
    {
        let tag = target_tag(cx, s);
        let mut r = format!("Do not only force a redeploy: {steps} ({reference}).\n");
        for l in commands.iter() {
            match (&tag, l.contains("{tag}")) {
                (Some(t), true) => r.push_str(&l.replace("{tag}", t)),
                (None, true) => r.push_str(
                    "(The target version is not known from the capture: take the file from \
                     the Harvester source at the tag you upgrade to.)",
                ),
                (_, false) => r.push_str(l),
            }
            r.push('\n');
        }
        let _ = write!(r, "Once that is done, force the redeploy:\n{bump}");
        return Some(r);
    }
    None
}

/// The Harvester tag the chart deploys (`v1.5.0`): the ManagedChart's (or Bundle's) chart
/// version, which the upgrade sets to the target version.
fn target_tag(cx: &Context, s: &Source) -> Option<String> {
    [s.chart, s.bundle]
        .into_iter()
        .flatten()
        .filter_map(|i| at(cx, i))
        .find_map(|o| match &o.view {
            crate::model::views::View::Fleet(f) => f.chart_version.clone(),
            _ => None,
        })
        .filter(|v| !v.is_empty())
        .map(|v| {
            if v.starts_with('v') {
                v
            } else {
                format!("v{v}")
            }
        })
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
