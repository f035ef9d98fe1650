//! The `upgrade.precheck.*` family: the checks of harvester/upgrade-helpers
//! `pre-check/v1.x/check.sh` (reference/upgrade-blockers.md §C), one rule per check, with the
//! script's thresholds and exemptions. Checks that need the live machine (the host the script
//! runs on, RKE2 certificate files, kubelet stats, `/oem` files, the COS_STATE partition) declare
//! `Input::Live` and are `not_evaluated`. Checks the script runs only on some versions (backing
//! images from v1.4.0, backup target on v1.4.1–v1.4.2, RWX network from v1.8.0, network config
//! on v1.6.x, COS_STATE size on v1.7.x) are `RuleDef`s with `only`: `not_applicable`
//! elsewhere. Node-Status reads Longhorn eviction requests only on v1.4.x. Where the bundle
//! cannot answer exactly (Secrets left out by the generator, Whereabouts allocations the index
//! does not keep), an informational finding says so.
//!
//! Each pre-check is a [`RuleDef`](super::RuleDef): its declaration, and a function that runs a
//! check function over the objects it reads (context-free, unit-tested beside it) and turns
//! every failing condition ([`Hit`]) into a finding with [`findings`] — error for the script's
//! failures, warning for its WARNs — citing the script, with id
//! `upgrade.precheck.<check>:<Kind/namespace/name>[:aspect]` (a stable key when the hit is about
//! no one object).
//!
//! This file lists the rules, turns hits into findings and holds the helpers the topics share;
//! each topic file declares its checks and evaluates them: `live.rs` (#1–#3, #20, #21),
//! `bundles.rs` (#4, #5), `nodes.rs` (#6), `capi.rs` (#7–#10), `longhorn.rs` (#11–#13),
//! `vms.rs` (#14), `pods.rs` (#15), `kubeconfig.rs` (#16), `backup.rs` (#17), `network.rs`
//! (#18, #19; its address arithmetic in `cidr.rs`).
mod backup;
mod bundles;
mod capi;
pub(crate) use capi::capi_logs;
mod cidr;
mod kubeconfig;
mod live;
mod longhorn;
mod network;
mod nodes;
mod pods;
mod vms;

use serde_json::Value;

use super::{Context, Evidence, Finding, Input, ObjectRef, Rule, RuleInfo, Severity, subject};
use crate::facts::cluster;
use crate::facts::version::Version;
use crate::index::{Index, Object};
use crate::model::typed::longhorn::LhVolume;

const SCRIPT: &str =
    "https://github.com/harvester/upgrade-helpers/blob/main/pre-check/v1.x/check.sh";
const TROUBLESHOOTING: &str = "https://docs.harvesterhci.io/v1.4/upgrade/troubleshooting";

/// The pre-check rules, in the script's order (#1 to #21).
pub fn rules() -> Vec<Box<dyn Rule>> {
    [
        live::HOST,
        live::CERTIFICATES,
        live::NODE_FREE_SPACE,
        bundles::HELM_BUNDLES,
        bundles::HARVESTER_BUNDLE,
        nodes::NODE_STATUS,
        capi::CAPI_CLUSTER_STATE,
        capi::CAPI_CLUSTER_PAUSE,
        capi::CAPI_MACHINE_COUNT,
        capi::CAPI_MACHINE_STATE,
        longhorn::LONGHORN_VOLUME_HEALTH,
        longhorn::STALE_LONGHORN_VOLUMES,
        longhorn::LONGHORN_BACKING_IMAGES,
        vms::VIRTUAL_MACHINES,
        pods::POD_STATUS,
        kubeconfig::KUBECONFIG_SECRET,
        backup::BACKUP_TARGET,
        network::STORAGE_NETWORK_IP,
        network::RWX_NETWORK_IP,
        live::NETWORK_CONFIG,
        live::COS_STATE_SIZE,
    ]
    .into_iter()
    .map(|r| Box::new(r) as Box<dyn Rule>)
    .collect()
}

const RES: Input = Input::Resources;

// ---------------------------------------------------------------- hits to findings

/// One failing condition of a check, before it becomes a finding: a topic's check function
/// returns these (unit-tested without a context), and [`findings`] turns them into findings.
struct Hit<'a> {
    /// The id's subject: the object's `Kind/namespace/name` ([`super::subject`]), with `:aspect` when
    /// one object can fail the check in several ways; a stable key (`count`) when the hit is
    /// about no one object.
    subject: String,
    severity: Severity,
    title: String,
    summary: String,
    /// Objects concerned, each with the text its evidence focuses on.
    objects: Vec<(&'a Object, Option<String>)>,
    remediation: String,
}

/// The findings of a pre-check rule: each hit through the kit, citing the script and `refs`.
fn findings(info: &RuleInfo, cx: &Context, refs: &[&str], hits: Vec<Hit>) -> Vec<Finding> {
    hits.into_iter()
        .map(|h| finding(cx, info, refs, h))
        .collect()
}

/// A hit as a finding, with the script's references. A hit about a failing pod (the pod is its
/// subject, as in Pod-Status) also quotes the log line that likely explains the failure
/// (`Context::log_causes`), with its file and line.
fn finding(cx: &Context, info: &RuleInfo, refs: &[&str], h: Hit) -> Finding {
    let index = cx.index;
    let mut objects: Vec<ObjectRef> = Vec::new();
    for (o, _) in &h.objects {
        let r = ObjectRef::of(o);
        if !objects.contains(&r) {
            objects.push(r);
        }
    }
    let mut references: Vec<String> = vec![SCRIPT.to_string()];
    references.extend(refs.iter().map(|r| r.to_string()));
    let mut evidence: Vec<Evidence> = h
        .objects
        .iter()
        .take(12)
        .map(|(o, f)| {
            let mut e = Evidence::of(index, o, f.as_deref());
            e.focus_last = f.as_deref() == Some(BUNDLE_STATUS_END);
            e
        })
        .collect();
    let causes: Vec<&crate::facts::logcause::CauseLine> = h
        .objects
        .iter()
        // Only the pod the hit is about (its subject), not pods a hit merely counts.
        .filter(|(o, _)| {
            o.key.group.is_empty() && o.key.kind == "Pod" && ObjectRef::of(o).subject() == h.subject
        })
        .flat_map(|(o, _)| cx.log_causes(&o.key.namespace, &o.key.name))
        .collect();
    let (cause_words, cause_evidence) = crate::rules::quote_causes(&causes);
    let mut summary = h.summary.trim_end().to_string();
    if !cause_words.is_empty() {
        summary.push_str("\nIts log likely says why:");
        for w in &cause_words {
            summary.push_str("\n  - ");
            summary.push_str(w);
        }
    }
    evidence.extend(cause_evidence);
    Finding::new(info.id, &h.subject, h.severity, h.title)
        .with_summary(summary)
        .with_objects(objects)
        .with_evidence(evidence)
        .with_remediation(h.remediation)
        .with_references(references)
}

/// Evidence focus on a Fleet Bundle's last status key, looking back from it: the lines before
/// are the end of `status.summary` (a Bundle's first `summary:` is a partition's).
const BUNDLE_STATUS_END: &str = "unavailablePartitions:";

// ---------------------------------------------------------------- shared helpers

/// `ns/name`, or `name` when cluster-scoped.
fn full(o: &Object) -> String {
    if o.key.namespace.is_empty() {
        o.key.name.clone()
    } else {
        format!("{}/{}", o.key.namespace, o.key.name)
    }
}

fn running(cx: &Context) -> Option<Version> {
    cx.harvester_version().map(|(v, _)| v)
}

fn of_kind<'a>(index: &'a Index, group: &str, kind: &str) -> Vec<&'a Object> {
    index.of_kind(group, kind).collect()
}

fn in_ns<'a>(index: &'a Index, group: &str, kind: &str, ns: &str) -> Vec<&'a Object> {
    index
        .of_kind(group, kind)
        .filter(|o| o.key.namespace == ns)
        .collect()
}

/// The value in effect, trimmed; `None` when unset or empty.
fn effective(o: &Object) -> Option<&str> {
    cluster::setting_value(o)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn json(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// A boolean that may be written as a string.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn opt(v: Option<i64>) -> String {
    v.map(|n| n.to_string())
        .unwrap_or_else(|| "(absent)".into())
}

/// A Longhorn volume's name, with the PVC using it when known.
fn with_pvc(o: &Object) -> String {
    match LhVolume::of(o).and_then(LhVolume::pvc) {
        Some((ns, n)) => format!("{} (PVC {ns}/{n})", o.key.name),
        None => o.key.name.clone(),
    }
}

#[cfg(test)]
mod fixtures {
    //! Objects the topic tests build.
    use crate::index::Object;

    /// An object of `kind` in `group` decoded from `yaml`, as the index would hold it.
    pub(super) fn object(kind: &str, group: &str, yaml: &str) -> Object {
        Object::from_yaml(kind, group, yaml)
    }

    /// A Node with extra `labels` and `taints` (YAML lines) and its Ready status.
    pub(super) fn node(name: &str, labels: &str, taints: &str, ready: &str) -> Object {
        object(
            "Node",
            "",
            &format!(
                "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n{labels}    \
                 kubernetes.io/hostname: {name}\nspec:\n{taints}status:\n  conditions:\n  - \
                 status: \"{ready}\"\n    type: Ready\n"
            ),
        )
    }

    /// A Harvester Setting with its `value`.
    pub(super) fn setting(name: &str, value: &str) -> Object {
        object(
            "Setting",
            "harvesterhci.io",
            &format!(
                "apiVersion: harvesterhci.io/v1beta1\nkind: Setting\nmetadata:\n  name: \
                 {name}\nvalue: '{value}'\n"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_named_and_live_checks_declare_live_inputs() {
        let rules = rules();
        assert_eq!(rules.len(), 21);
        for r in &rules {
            assert!(r.info().id.starts_with("upgrade.precheck."));
        }
        for id in [
            "host",
            "certificates",
            "node-free-space",
            "network-config",
            "cos-state-size",
        ] {
            let r = rules
                .iter()
                .find(|r| r.info().id == format!("upgrade.precheck.{id}"))
                .unwrap();
            assert!(matches!(r.info().inputs, [Input::Live(_)]), "{id}");
        }
    }

    /// The pre-checks that apply to the running version `v`.
    fn applying(v: &str) -> Vec<&'static str> {
        let bed = crate::rules::TestBed::new(&[], Some(v));
        rules()
            .iter()
            .filter(|r| r.applies(&bed.cx()).is_ok())
            .map(|r| r.info().id.trim_start_matches("upgrade.precheck."))
            .collect()
    }

    #[test]
    fn checks_the_script_runs_on_some_versions_apply_only_there() {
        const BI: &str = "backing-images";
        const BT: &str = "backup-target";
        const RWX: &str = "rwx-network-ip";
        const NET: &str = "network-config";
        const COS: &str = "cos-state-size";
        let gated = [BI, BT, RWX, NET, COS];
        let absent = |v: &str| -> Vec<&'static str> {
            let on = applying(v);
            gated
                .iter()
                .copied()
                .filter(|id| !on.iter().any(|o| o.ends_with(id)))
                .collect()
        };
        assert_eq!(applying("v1.3.2").len(), 21 - gated.len());
        assert_eq!(absent("v1.3.2"), gated);
        assert_eq!(absent("v1.4.0"), [BT, RWX, NET, COS]);
        assert_eq!(absent("v1.4.1"), [RWX, NET, COS]);
        assert_eq!(absent("v1.4.2"), [RWX, NET, COS]);
        assert_eq!(absent("v1.4.3"), [BT, RWX, NET, COS]);
        assert_eq!(absent("v1.5.2"), [BT, RWX, NET, COS]);
        assert_eq!(absent("v1.6.0"), [BT, RWX, COS]);
        assert_eq!(absent("v1.6.1"), [BT, RWX, COS]);
        assert_eq!(absent("v1.7.0"), [BT, RWX, NET]);
        assert_eq!(absent("v1.7.3"), [BT, RWX, NET]);
        assert_eq!(absent("v1.8.0"), [BT, NET, COS]);
        // An unknown version: the engine decides on the inputs (HarvesterVersion), not here.
        let bed = crate::rules::TestBed::new(&[], None);
        assert!(rules().iter().all(|r| r.applies(&bed.cx()).is_ok()));
    }
}
