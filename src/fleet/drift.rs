//! Drift classification: compares the JSON merge patch Fleet recorded for a modified object
//! with the captured object, field by field, and says whether the drift is still there and
//! whether it is benign (a webhook `caBundle` rotated by its certificate controller) or an
//! edit that Fleet will fight (an image changed by hand on a chart-managed Deployment).
use serde_json::Value as J;

use crate::index::Object;
use crate::model::views::View;

/// Outcome of comparing a patch with the captured object.
#[derive(Debug, Clone, PartialEq)]
pub enum Compared {
    /// Every field the patch sets already has the chart's value: the drift is gone.
    Matches,
    /// Some fields differ (or cannot be compared).
    Differs(Classification),
}

/// What kind of drift it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// Benign by design.
    pub benign: bool,
    /// Whether the fields could be compared with the captured object at all.
    pub verified: bool,
    /// Fields that differ (`webhooks[0].clientConfig.caBundle`), chart value vs live value.
    pub fields: Vec<FieldDiff>,
    /// Why, in words.
    pub reason: String,
}

/// One differing field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    /// Path.
    pub path: String,
    /// What the chart renders (short).
    pub chart: String,
    /// What the cluster has (short).
    pub live: String,
}

impl Classification {
    /// An orphaned object still present (`extra`).
    pub fn extra() -> Classification {
        Classification {
            benign: false,
            verified: true,
            fields: Vec::new(),
            reason: "the object is no longer part of the release but still exists in the \
                     cluster; Fleet would delete it on the next successful deploy"
                .into(),
        }
    }
}

/// The captured object's fields that a patch can be compared with, as JSON.
fn projection(o: &Object) -> Option<J> {
    match &o.view {
        View::Webhooks(w) => Some(serde_json::json!({
            "webhooks": w.webhooks.iter().map(|h| h.raw.clone()).collect::<Vec<_>>()
        })),
        View::Workload(w) => Some(serde_json::json!({
            "spec": {
                "replicas": w.spec_replicas,
                "template": {"spec": {"containers": w.containers.iter().map(|c| serde_json::json!({
                    "name": c.name, "image": c.image
                })).collect::<Vec<_>>()}}
            }
        })),
        _ => None,
    }
}

fn empty(v: Option<&J>) -> bool {
    match v {
        None | Some(J::Null) => true,
        Some(J::String(s)) => s.is_empty(),
        _ => false,
    }
}

fn short(v: Option<&J>) -> String {
    let s = match v {
        None | Some(J::Null) => "(unset)".to_string(),
        Some(J::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if s.chars().count() > 60 {
        let mut t: String = s.chars().take(24).collect();
        t.push('…');
        t.extend(
            s.chars()
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .into_iter()
                .rev(),
        );
        t
    } else {
        s
    }
}

/// Walks the desired (patch) value against the live value. Leaves that differ go to `diffs`;
/// leaves the projection does not hold go to `unknown`.
fn walk(
    path: &str,
    want: &J,
    live: Option<&J>,
    known: bool,
    diffs: &mut Vec<FieldDiff>,
    unknown: &mut Vec<String>,
) {
    match want {
        J::Object(m) => {
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let l = live.and_then(|x| x.get(k));
                let still_known = known && live.is_some_and(|x| x.is_object());
                walk(&p, v, l, still_known && l.is_some(), diffs, unknown);
            }
        }
        J::Array(a) => {
            let la = live.and_then(|x| x.as_array());
            for (i, v) in a.iter().enumerate() {
                // Match list elements by `name` when they have one, else by position.
                let l = match v.get("name").and_then(|n| n.as_str()) {
                    Some(n) => la.and_then(|x| {
                        x.iter()
                            .find(|e| e.get("name").and_then(|m| m.as_str()) == Some(n))
                    }),
                    None => la.and_then(|x| x.get(i)),
                };
                walk(
                    &format!("{path}[{i}]"),
                    v,
                    l,
                    known && la.is_some(),
                    diffs,
                    unknown,
                );
            }
        }
        leaf => {
            if !known && live.is_none() {
                if !empty(Some(leaf)) {
                    unknown.push(path.to_string());
                }
                return;
            }
            let same = match (leaf, live) {
                (J::Number(a), Some(J::Number(b))) => a.as_f64() == b.as_f64(),
                (a, b) if empty(Some(a)) && empty(b) => true,
                (a, Some(b)) => a == b,
                (a, None) => empty(Some(a)),
            };
            if !same {
                diffs.push(FieldDiff {
                    path: path.to_string(),
                    chart: short(Some(leaf)),
                    live: short(live),
                });
            }
        }
    }
}

fn is_ca_bundle(p: &str) -> bool {
    p.ends_with("clientConfig.caBundle")
        || p.ends_with("caBundle")
        || p.ends_with("spec.conversion.webhook.clientConfig.caBundle")
}

/// Compares a modified object's patch with the captured object.
pub fn classify(o: &Object, patch: &str) -> Compared {
    let Ok(want) = serde_json::from_str::<J>(patch) else {
        return Compared::Differs(Classification {
            benign: false,
            verified: false,
            fields: Vec::new(),
            reason: "Fleet's recorded patch is not valid JSON (truncated?), so it cannot be \
                     compared with the captured object"
                .into(),
        });
    };
    let Some(live) = projection(o) else {
        return Compared::Differs(Classification {
            benign: false,
            verified: false,
            fields: Vec::new(),
            reason: format!(
                "sbdiag does not compare {} fields with Fleet's patch; compare them by hand \
                 (sbdiag get {} {} -o yaml)",
                o.key.kind,
                o.key.kind.to_lowercase(),
                o.key.name
            ),
        });
    };
    let mut diffs = Vec::new();
    let mut unknown = Vec::new();
    walk("", &want, Some(&live), true, &mut diffs, &mut unknown);
    if diffs.is_empty() && unknown.is_empty() {
        return Compared::Matches;
    }
    let webhook = matches!(o.view, View::Webhooks(_));
    // kube-webhook-certgen's patch job (rancher-monitoring, ingress-nginx, …) installs the
    // webhook with failurePolicy Ignore and switches it to Fail once the certificate is in.
    let certgen_policy = |d: &FieldDiff| {
        d.path.ends_with("failurePolicy") && d.chart == "Ignore" && d.live == "Fail"
    };
    let only_ca = !diffs.is_empty() && diffs.iter().all(|d| is_ca_bundle(&d.path));
    let ca_and_policy = webhook
        && !diffs.is_empty()
        && diffs
            .iter()
            .all(|d| is_ca_bundle(&d.path) || certgen_policy(d));
    let verified = unknown.is_empty();
    let (benign, reason) = if only_ca {
        (
            true,
            "only the webhook CA bundle differs: the certificate is generated and rotated at \
             run time (by the webhook server or a cert job) and written into the configuration, \
             while the chart renders a placeholder; the cluster is fine as it is"
                .to_string(),
        )
    } else if ca_and_policy {
        (
            true,
            "the chart installs the webhook with failurePolicy Ignore and its admission-patch job \
             (kube-webhook-certgen) switches it to Fail (and writes the CA bundle) once the \
             certificate exists, by design; the cluster is fine as it is"
                .to_string(),
        )
    } else if diffs.iter().any(|d| d.path.ends_with(".image")) {
        (
            false,
            "a container image of a chart-managed workload was changed in the cluster (edited \
             by hand or by a hotfix); Fleet keeps reporting it and a redeploy reverts it"
                .to_string(),
        )
    } else if !diffs.is_empty() && diffs.iter().all(|d| d.path.ends_with("spec.replicas")) {
        (
            false,
            "the replica count was changed in the cluster (scaled by hand or by an \
             autoscaler); Fleet keeps reporting it and a redeploy resets it"
                .to_string(),
        )
    } else if diffs.is_empty() {
        (
            false,
            format!(
                "the fields Fleet reports ({}) are not kept by sbdiag's view of {}; compare \
                 them by hand",
                unknown.join(", "),
                o.key.kind
            ),
        )
    } else {
        (
            false,
            "a chart-managed object was changed in the cluster; Fleet keeps reporting it and \
             a redeploy reverts it"
                .to_string(),
        )
    };
    Compared::Differs(Classification {
        benign,
        verified: verified || benign,
        fields: diffs,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, group: &str, yaml: &str) -> Object {
        Object::from_yaml(kind, group, yaml)
    }

    const WEBHOOK: &str = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: w\nwebhooks:\n- clientConfig:\n    caBundle: TElWRQ==\n    service:\n      name: s\n      namespace: n\n  failurePolicy: Fail\n  name: w.example.io\n  sideEffects: None\n";

    #[test]
    fn ca_bundle_only_is_benign() {
        let o = object(
            "ValidatingWebhookConfiguration",
            "admissionregistration.k8s.io",
            WEBHOOK,
        );
        let patch = r#"{"webhooks":[{"clientConfig":{"caBundle":"Q0hBUlQ=","service":{"name":"s","namespace":"n"}},"failurePolicy":"Fail","name":"w.example.io","sideEffects":"None"}]}"#;
        let Compared::Differs(c) = classify(&o, patch) else {
            panic!("drift expected")
        };
        assert!(c.benign && c.verified, "{c:?}");
        assert_eq!(c.fields.len(), 1);
        assert_eq!(c.fields[0].path, "webhooks[0].clientConfig.caBundle");
    }

    #[test]
    fn policy_flip_to_ignore_is_not_benign_and_matching_patch_is_gone() {
        let o = object(
            "ValidatingWebhookConfiguration",
            "admissionregistration.k8s.io",
            WEBHOOK,
        );
        // The chart wants Fail but the cluster has Ignore? Here: chart Ignore→live Fail is the
        // certgen pattern; the reverse (someone relaxed the policy) is not benign.
        let relaxed = WEBHOOK.replace("failurePolicy: Fail", "failurePolicy: Ignore");
        let o2 = object(
            "ValidatingWebhookConfiguration",
            "admissionregistration.k8s.io",
            &relaxed,
        );
        let patch = r#"{"webhooks":[{"failurePolicy":"Fail","name":"w.example.io"}]}"#;
        let Compared::Differs(c) = classify(&o2, patch) else {
            panic!("drift expected")
        };
        assert!(!c.benign);
        assert_eq!(classify(&o, patch), Compared::Matches);
        let certgen = r#"{"webhooks":[{"failurePolicy":"Ignore","name":"w.example.io"}]}"#;
        let Compared::Differs(c) = classify(&o, certgen) else {
            panic!("drift expected")
        };
        assert!(c.benign, "{c:?}");
    }

    #[test]
    fn image_edit_is_not_benign_and_unknown_kinds_are_unverified() {
        let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: n\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - image: x:2\n        name: c\n";
        let o = object("Deployment", "apps", dep);
        let patch = r#"{"spec":{"template":{"spec":{"containers":[{"image":"x:1","name":"c"}]}}}}"#;
        let Compared::Differs(c) = classify(&o, patch) else {
            panic!("drift expected")
        };
        assert!(!c.benign && c.verified);
        assert_eq!(c.fields[0].live, "x:2");
        let unknown = r#"{"spec":{"strategy":{"type":"Recreate"}}}"#;
        let Compared::Differs(c) = classify(&o, unknown) else {
            panic!("drift expected")
        };
        assert!(!c.verified, "{c:?}");
        let cm = object(
            "ConfigMap",
            "",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        );
        let Compared::Differs(c) = classify(&cm, r#"{"data":{"a":"b"}}"#) else {
            panic!("drift expected")
        };
        assert!(!c.verified);
        let Compared::Differs(c) = classify(&cm, "{not json") else {
            panic!("drift expected")
        };
        assert!(!c.verified);
    }
}
