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
    /// Fields still differ, but every one lies under a field the bundle's `diff.comparePatches`
    /// tells Fleet's agent to leave out (the pointers that cover them): a current agent does
    /// not report this drift.
    Ignored(Vec<String>),
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
    /// Path for people (`webhooks[0].clientConfig.caBundle`; a key with a dot stays whole:
    /// `data.storageclass.yaml`).
    pub path: String,
    /// The same field as a JSON pointer (RFC 6901), as Fleet's `diff.comparePatches`
    /// `jsonPointers` take it: `/data/storageclass.yaml`, `/webhooks/0/clientConfig/caBundle`.
    pub pointer: String,
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
/// leaves the projection does not hold go to `unknown`. With `whole` (the live value is the
/// whole captured object) an absent field is absent in the cluster, never unknown, and a list
/// whose length differs from the chart's differs as a whole.
struct Walk {
    /// The live value is the whole captured object.
    whole: bool,
    diffs: Vec<FieldDiff>,
    unknown: Vec<String>,
}

impl Walk {
    fn walk(&mut self, path: &str, pointer: &str, want: &J, live: Option<&J>, known: bool) {
        let whole = self.whole;
        match want {
            J::Object(m) => {
                for (k, v) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    let ptr = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                    let l = live.and_then(|x| x.get(k));
                    let still_known = known && live.is_some_and(|x| x.is_object());
                    self.walk(&p, &ptr, v, l, whole || (still_known && l.is_some()));
                }
            }
            J::Array(a)
                if whole && live.and_then(|x| x.as_array()).map(Vec::len) != Some(a.len()) =>
            {
                // Merge patches replace lists whole: a list the cluster lacks, or one with more or
                // fewer items than the chart's, differs as a whole.
                let count = |n: usize| format!("{n} item{}", if n == 1 { "" } else { "s" });
                self.diffs.push(FieldDiff {
                    path: path.to_string(),
                    pointer: pointer.to_string(),
                    chart: count(a.len()),
                    live: match live {
                        Some(J::Array(l)) => count(l.len()),
                        other => short(other),
                    },
                });
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
                    self.walk(
                        &format!("{path}[{i}]"),
                        &format!("{pointer}/{i}"),
                        v,
                        l,
                        whole || (known && la.is_some()),
                    );
                }
            }
            leaf => {
                if !known && live.is_none() {
                    if !empty(Some(leaf)) {
                        self.unknown.push(path.to_string());
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
                    self.diffs.push(FieldDiff {
                        path: path.to_string(),
                        pointer: pointer.to_string(),
                        chart: short(Some(leaf)),
                        live: short(live),
                    });
                }
            }
        }
    }
}

fn is_ca_bundle(p: &str) -> bool {
    p.ends_with("clientConfig.caBundle")
        || p.ends_with("caBundle")
        || p.ends_with("spec.conversion.webhook.clientConfig.caBundle")
}

/// Compares a modified object's patch with the captured object's typed view only.
pub fn classify(o: &Object, patch: &str) -> Compared {
    classify_with(o, patch, None)
}

/// Glob match as Fleet's ignore normalizer does it for group and kind: `*` matches any run of
/// characters, everything else matches itself; an empty pattern matches only the empty text.
fn glob(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut left) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('*').collect();
    let Some((last, middle)) = parts.split_last() else {
        return true;
    };
    for p in middle {
        match left.find(p) {
            Some(i) => left = left.get(i + p.len()..).unwrap_or(""),
            None => return false,
        }
    }
    left.len() >= last.len() && left.ends_with(last)
}

/// The fields Fleet's agent leaves out when it compares `target` with the chart: the
/// `jsonPointers` of every `diff.comparePatches` entry that matches it (group and kind as
/// globs, name and namespace equal or empty, as Fleet's ignore normalizer), and the paths of the
/// entries' `operations` (applied to both sides, so a field they set or remove cannot differ;
/// Fleet matches those by exact apiVersion, kind, name and namespace). Fleet's own `ignore`
/// operation is about creating objects, not comparing them, and is not counted.
pub fn ignored_pointers(
    patches: &[crate::model::fleet::ComparePatch],
    group: &str,
    kind: &str,
    api_version: &str,
    namespace: &str,
    name: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in patches {
        let av = p.api_version.as_deref().unwrap_or("");
        let p_group = av.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        let p_kind = p.kind.as_deref().unwrap_or("");
        let p_name = p.name.as_deref().unwrap_or("");
        let p_ns = p.namespace.as_deref().unwrap_or("");
        let key_ok =
            (p_name.is_empty() || p_name == name) && (p_ns.is_empty() || p_ns == namespace);
        if key_ok && glob(p_group, group) && glob(p_kind, kind) {
            out.extend(p.json_pointers.iter().cloned());
        }
        if av == api_version && p_kind == kind && p_name == name && p_ns == namespace {
            out.extend(
                p.operations
                    .iter()
                    .filter(|o| o.op.as_deref() != Some("ignore"))
                    .filter_map(|o| o.path.clone()),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether JSON pointer `field` is `ignored` or lies under it (segment by segment).
fn covered(field: &str, ignored: &str) -> bool {
    field == ignored
        || field
            .strip_prefix(ignored)
            .is_some_and(|rest| rest.starts_with('/') || ignored.ends_with('/'))
}

/// Compares a modified object's patch with the captured object like
/// [`classify_with`], then leaves out the fields the bundle's `diff.comparePatches` tell Fleet
/// to ignore (`ignored`, from [`ignored_pointers`]): drift only in ignored fields is
/// [`Compared::Ignored`]; drift in other fields stays, and the ignored ones are dropped from
/// the list.
pub fn classify_ignoring(
    o: &Object,
    patch: &str,
    whole: Option<&J>,
    ignored: &[String],
) -> Compared {
    let c = classify_with(o, patch, whole);
    let Compared::Differs(mut class) = c else {
        return c;
    };
    if ignored.is_empty() || class.fields.is_empty() {
        return Compared::Differs(class);
    }
    let by: Vec<String> = ignored
        .iter()
        .filter(|i| class.fields.iter().any(|f| covered(&f.pointer, i)))
        .cloned()
        .collect();
    if by.is_empty() {
        return Compared::Differs(class);
    }
    class
        .fields
        .retain(|f| !ignored.iter().any(|i| covered(&f.pointer, i)));
    if class.fields.is_empty() && class.verified {
        return Compared::Ignored(by);
    }
    Compared::Differs(class)
}

/// Compares a modified object's patch with the captured object: with `whole` (the whole
/// captured object as JSON) every field the patch names is compared, whatever the kind;
/// without it, only the fields the typed view keeps.
///
/// The decision follows Fleet's JSON merge patch of desired over live: a patch value `null`
/// means the chart wants the field absent; objects recurse; a scalar compares whole; a list
/// compares item by item (matched by `name`, else by position) and differs as a whole when
/// its length does. Only the fields the patch sets in a list item are compared, so values the
/// API server fills in (`imagePullPolicy`, `terminationMessagePath`) do not count as drift.
/// If nothing differs, applying the patch would change nothing: the claim is stale.
pub fn classify_with(o: &Object, patch: &str, whole: Option<&J>) -> Compared {
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
    let is_whole = whole.is_some();
    let Some(live) = whole.cloned().or_else(|| projection(o)) else {
        return Compared::Differs(Classification {
            benign: false,
            verified: false,
            fields: Vec::new(),
            reason: format!(
                "sbdiag could not read the captured {} whole (larger than 4 MiB or not \
                 parseable), so Fleet's patch was not compared with it; compare them by hand \
                 (sbdiag get {} {} -o yaml)",
                o.key.kind,
                o.key.kind.to_lowercase(),
                o.key.name
            ),
        });
    };
    let mut w = Walk {
        whole: is_whole,
        diffs: Vec::new(),
        unknown: Vec::new(),
    };
    w.walk("", "", &want, Some(&live), true);
    let Walk { diffs, unknown, .. } = w;
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
                "the fields Fleet reports ({}) are not kept by sbdiag's view of {} and the \
                 whole captured object could not be read; compare them by hand",
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
        assert_eq!(c.fields[0].pointer, "/webhooks/0/clientConfig/caBundle");
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

    fn whole(yaml: &str) -> J {
        yaml_serde::from_str(yaml).expect("test YAML")
    }

    /// Classifies a patch against the whole object given as YAML.
    fn judge(kind: &str, group: &str, yaml: &str, patch: &str) -> Compared {
        classify_with(&object(kind, group, yaml), patch, Some(&whole(yaml)))
    }

    fn differs(c: Compared) -> Classification {
        match c {
            Compared::Differs(c) => c,
            other => panic!("drift expected, got {other:?}"),
        }
    }

    #[test]
    fn globs_match_as_fleet_does() {
        assert!(glob("", ""));
        assert!(!glob("", "apps"));
        assert!(glob("*", "apps"));
        assert!(glob("*", ""));
        assert!(glob(
            "admissionregistration.k8s.io",
            "admissionregistration.k8s.io"
        ));
        assert!(glob(
            "*WebhookConfiguration",
            "MutatingWebhookConfiguration"
        ));
        assert!(glob("a*c*e", "abcde"));
        assert!(!glob("a*c*e", "abcd"));
        assert!(!glob("ab*ba", "aba"));
    }

    fn entry(yaml: &str) -> crate::model::fleet::ComparePatch {
        yaml_serde::from_str(yaml).expect("test YAML")
    }

    #[test]
    fn compare_patches_name_the_fields_fleet_ignores() {
        let e = vec![
            entry(
                "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nname: harvester-longhorn\njsonPointers:\n- /parameters/numberOfReplicas\n",
            ),
            entry(
                "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nname: other\njsonPointers:\n- /parameters/x\n",
            ),
            entry("apiVersion: storage.k8s.io/v1\nkind: '*'\njsonPointers:\n- /metadata/labels\n"),
            entry(
                "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nname: harvester-longhorn\noperations:\n- {op: remove, path: /reclaimPolicy}\n- {op: ignore}\n",
            ),
        ];
        let got = ignored_pointers(
            &e,
            "storage.k8s.io",
            "StorageClass",
            "storage.k8s.io/v1",
            "",
            "harvester-longhorn",
        );
        assert_eq!(
            got,
            [
                "/metadata/labels",
                "/parameters/numberOfReplicas",
                "/reclaimPolicy"
            ]
        );
        // A core-group entry (`apiVersion: v1`) has group "" and matches only core kinds.
        let core = vec![entry(
            "apiVersion: v1\nkind: ConfigMap\njsonPointers:\n- /data\n",
        )];
        assert_eq!(
            ignored_pointers(&core, "", "ConfigMap", "v1", "ns", "c"),
            ["/data"]
        );
        assert!(ignored_pointers(&core, "apps", "ConfigMap", "apps/v1", "ns", "c").is_empty());
        assert!(covered("/data/storageclass.yaml", "/data"));
        assert!(!covered("/database", "/data"));
    }

    #[test]
    fn drift_only_in_ignored_fields_is_ignored_and_the_rest_stays() {
        let edited = SC.replace("numberOfReplicas: \"3\"", "numberOfReplicas: \"2\"");
        let o = object("StorageClass", "storage.k8s.io", &edited);
        let w = whole(&edited);
        let patch = r#"{"parameters":{"numberOfReplicas":"3","staleReplicaTimeout":"60"}}"#;
        let one = ["/parameters/numberOfReplicas".to_string()];
        let c = differs(classify_ignoring(&o, patch, Some(&w), &one));
        let paths: Vec<&str> = c.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["parameters.staleReplicaTimeout"]);
        let both = ["/parameters".to_string()];
        assert_eq!(
            classify_ignoring(&o, patch, Some(&w), &both),
            Compared::Ignored(vec!["/parameters".into()])
        );
        // An entry that does not cover the drift changes nothing.
        let other = ["/provisioner".to_string()];
        assert_eq!(
            differs(classify_ignoring(&o, patch, Some(&w), &other))
                .fields
                .len(),
            2
        );
    }

    const SC: &str = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: harvester-longhorn\nparameters:\n  migratable: \"true\"\n  numberOfReplicas: \"3\"\n  staleReplicaTimeout: \"30\"\nprovisioner: driver.longhorn.io\nreclaimPolicy: Delete\n";

    #[test]
    fn storage_class_parameters_compared_with_the_whole_object() {
        // harvester/harvester#7072: the chart wants numberOfReplicas "3".
        let patch = r#"{"parameters":{"numberOfReplicas":"3"}}"#;
        assert_eq!(
            judge("StorageClass", "storage.k8s.io", SC, patch),
            Compared::Matches
        );
        // Without the whole object the typed view cannot tell.
        let sc = object("StorageClass", "storage.k8s.io", SC);
        assert!(!differs(classify(&sc, patch)).verified);
        let edited = SC.replace("numberOfReplicas: \"3\"", "numberOfReplicas: \"2\"");
        let c = differs(judge("StorageClass", "storage.k8s.io", &edited, patch));
        assert!(c.verified && !c.benign, "{c:?}");
        assert_eq!(
            c.fields,
            vec![FieldDiff {
                path: "parameters.numberOfReplicas".into(),
                pointer: "/parameters/numberOfReplicas".into(),
                chart: "3".into(),
                live: "2".into()
            }]
        );
        // `null` in a merge patch: the chart wants the field absent.
        let absent = r#"{"parameters":{"staleReplicaTimeout":null}}"#;
        let c = differs(judge("StorageClass", "storage.k8s.io", SC, absent));
        assert_eq!(c.fields[0].chart, "(unset)");
        assert_eq!(c.fields[0].live, "30");
        let gone = r#"{"parameters":{"fromBackup":null}}"#;
        assert_eq!(
            judge("StorageClass", "storage.k8s.io", SC, gone),
            Compared::Matches
        );
    }

    const NCM: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: harvester-network-controller-manager\n  namespace: harvester-system\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - args:\n        - --leader-elect\n        env:\n        - name: NAMESPACE\n          value: harvester-system\n        image: rancher/harvester-network-controller:v1.6.0\n        imagePullPolicy: IfNotPresent\n        name: harvester-network-manager\n        resources:\n          limits:\n            cpu: 100m\n            memory: 128Mi\n        terminationMessagePath: /dev/termination-log\n";

    #[test]
    fn deployment_resources_args_env_compared_with_the_whole_object() {
        // harvester/harvester#8604: the chart's container resources, args and env.
        let patch = r#"{"spec":{"template":{"spec":{"containers":[{"args":["--leader-elect"],"env":[{"name":"NAMESPACE","value":"harvester-system"}],"image":"rancher/harvester-network-controller:v1.6.0","name":"harvester-network-manager","resources":{"limits":{"cpu":"100m","memory":"128Mi"}}}]}}}}"#;
        // Server-filled fields (imagePullPolicy, terminationMessagePath) are not drift.
        assert_eq!(judge("Deployment", "apps", NCM, patch), Compared::Matches);
        let edited = NCM
            .replace("memory: 128Mi", "memory: 512Mi")
            .replace("- --leader-elect", "- --leader-elect\n        - --debug")
            .replace("value: harvester-system", "value: kube-system");
        let c = differs(judge("Deployment", "apps", &edited, patch));
        assert!(c.verified && !c.benign, "{c:?}");
        let got: Vec<(&str, &str, &str)> = c
            .fields
            .iter()
            .map(|d| (d.path.as_str(), d.chart.as_str(), d.live.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("spec.template.spec.containers[0].args", "1 item", "2 items"),
                (
                    "spec.template.spec.containers[0].env[0].value",
                    "harvester-system",
                    "kube-system"
                ),
                (
                    "spec.template.spec.containers[0].resources.limits.memory",
                    "128Mi",
                    "512Mi"
                ),
            ]
        );
    }

    const KUBEVIRT: &str = "apiVersion: kubevirt.io/v1\nkind: KubeVirt\nmetadata:\n  name: kubevirt\n  namespace: harvester-system\nspec:\n  configuration:\n    developerConfiguration:\n      featureGates:\n      - LiveMigration\n    vmStateStorageClass: vmstate-persistence\n";

    #[test]
    fn kubevirt_vm_state_storage_class_compared_with_the_whole_object() {
        // harvester/harvester#8163: the chart sets vmStateStorageClass; an old CRD prunes it.
        let patch = r#"{"spec":{"configuration":{"vmStateStorageClass":"vmstate-persistence"}}}"#;
        assert_eq!(
            judge("KubeVirt", "kubevirt.io", KUBEVIRT, patch),
            Compared::Matches
        );
        let pruned = KUBEVIRT.replace("    vmStateStorageClass: vmstate-persistence\n", "");
        let c = differs(judge("KubeVirt", "kubevirt.io", &pruned, patch));
        assert!(c.verified, "{c:?}");
        assert_eq!(c.fields[0].path, "spec.configuration.vmStateStorageClass");
        assert_eq!(
            (c.fields[0].chart.as_str(), c.fields[0].live.as_str()),
            ("vmstate-persistence", "(unset)")
        );
    }

    #[test]
    fn config_map_data_compared_with_the_whole_object() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: longhorn-storageclass\n  namespace: longhorn-system\ndata:\n  storageclass.yaml: |\n    kind: StorageClass\n";
        let patch = r#"{"data":{"storageclass.yaml":"kind: StorageClass\n"}}"#;
        assert_eq!(judge("ConfigMap", "", cm, patch), Compared::Matches);
        let other = r#"{"data":{"storageclass.yaml":"kind: Other\n","extra":"x"}}"#;
        let c = differs(judge("ConfigMap", "", cm, other));
        assert!(c.verified);
        let paths: Vec<&str> = c.fields.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, vec!["data.extra", "data.storageclass.yaml"]);
        let pointers: Vec<&str> = c.fields.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(pointers, vec!["/data/extra", "/data/storageclass.yaml"]);
        assert_eq!(c.fields[0].live, "(unset)");
    }
}
