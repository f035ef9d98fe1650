//! Typed, read-only views of Kubernetes objects: keys, metadata, owner references,
//! conditions, per-kind views, typed views of the kinds kept whole as a tree, kind names as
//! users type them, and capture-relative time.
pub mod de;
pub mod fastyaml;
pub mod fleet;
pub mod kinds;
pub mod quantity;
pub mod sparse;
pub mod strmap;
pub mod summary;
pub mod time;
pub mod tree;
pub mod typed;
pub mod views;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use sparse::{Empty, Sparse};
pub use strmap::StrMap;
pub use time::{Age, Timestamp};
pub use views::View;

/// Identity of an object in a bundle: (group, kind, namespace, name). The core group is `""`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    /// API group, `""` for the core group.
    pub group: String,
    /// Kind, as the API spells it (`DaemonSet`).
    pub kind: String,
    /// Namespace, `""` for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// An owner reference.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct OwnerRef {
    #[serde(deserialize_with = "de::string")]
    pub api_version: String,
    #[serde(deserialize_with = "de::string")]
    pub kind: String,
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub uid: String,
    #[serde(deserialize_with = "de::opt_bool")]
    pub controller: Option<bool>,
}

/// Object metadata as written: what [`Meta`] is decoded from.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct MetaDoc {
    #[serde(deserialize_with = "de::string")]
    name: String,
    #[serde(deserialize_with = "de::string")]
    namespace: String,
    #[serde(deserialize_with = "de::string")]
    uid: String,
    #[serde(deserialize_with = "de::opt_str")]
    resource_version: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    generation: Option<i64>,
    #[serde(deserialize_with = "de::opt_str")]
    creation_timestamp: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    deletion_timestamp: Option<String>,
    #[serde(deserialize_with = "de::str_pairs")]
    labels: StrMap,
    #[serde(deserialize_with = "de::str_pairs")]
    annotations: StrMap,
    #[serde(deserialize_with = "de::lenient_vec")]
    owner_references: Vec<OwnerRef>,
    #[serde(deserialize_with = "de::lenient_vec")]
    finalizers: Vec<de::Scalar>,
}

/// Object metadata, with the fields rules and queries use (never managedFields): the name and
/// namespace, then the rest ([`MetaCore`], reached through `Deref`: `d.meta.uid`). An indexed
/// object keeps only the [`MetaCore`]: its name and namespace are moved into its key, not
/// held twice.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(from = "MetaDoc")]
pub struct Meta {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// Everything else.
    pub core: MetaCore,
}

/// Object metadata but the name and namespace (see [`Meta`]). The fields most objects leave
/// empty ([`MetaRare`]: labels, annotations, owners, finalizers, deletion time, generation)
/// are boxed only when one is set, and reached through `Deref` (`o.meta.labels`): inline they
/// took 136 bytes of every object, events above all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaCore {
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.resourceVersion`.
    pub resource_version: Option<String>,
    /// `metadata.creationTimestamp`.
    pub creation_timestamp: Option<String>,
    rare: Sparse<MetaRare>,
}

/// The metadata fields most objects leave empty (see [`MetaCore`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaRare {
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// `metadata.deletionTimestamp`.
    pub deletion_timestamp: Option<String>,
    /// `metadata.labels`.
    pub labels: StrMap,
    /// `metadata.annotations`.
    pub annotations: StrMap,
    /// `metadata.ownerReferences`.
    pub owner_references: Vec<OwnerRef>,
    /// `metadata.finalizers`.
    pub finalizers: Vec<de::Scalar>,
}

impl Empty for MetaRare {
    const EMPTY: &'static MetaRare = &MetaRare {
        generation: None,
        deletion_timestamp: None,
        labels: StrMap::new(),
        annotations: StrMap::new(),
        owner_references: Vec::new(),
        finalizers: Vec::new(),
    };
}

impl From<MetaDoc> for Meta {
    fn from(d: MetaDoc) -> Meta {
        let rare = MetaRare {
            generation: d.generation,
            deletion_timestamp: d.deletion_timestamp,
            labels: d.labels,
            annotations: d.annotations,
            owner_references: d.owner_references,
            finalizers: d.finalizers,
        };
        Meta {
            name: d.name,
            namespace: d.namespace,
            core: MetaCore {
                uid: d.uid,
                resource_version: d.resource_version,
                creation_timestamp: d.creation_timestamp,
                rare: rare.into(),
            },
        }
    }
}

impl std::ops::Deref for Meta {
    type Target = MetaCore;
    fn deref(&self) -> &MetaCore {
        &self.core
    }
}

impl std::ops::DerefMut for Meta {
    fn deref_mut(&mut self) -> &mut MetaCore {
        &mut self.core
    }
}

impl std::ops::Deref for MetaCore {
    type Target = MetaRare;
    fn deref(&self) -> &MetaRare {
        &self.rare
    }
}

impl std::ops::DerefMut for MetaCore {
    fn deref_mut(&mut self) -> &mut MetaRare {
        &mut self.rare
    }
}

impl MetaRare {
    /// Finalizers as plain strings.
    pub fn finalizer_names(&self) -> Vec<&str> {
        self.finalizers
            .iter()
            .filter_map(|s| s.0.as_deref())
            .collect()
    }

    /// The controlling owner, if any.
    pub fn controller(&self) -> Option<&OwnerRef> {
        self.owner_references
            .iter()
            .find(|o| o.controller == Some(true))
            .or_else(|| self.owner_references.first())
    }
}

/// A status condition as written: what [`Condition`] is decoded from.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ConditionDoc {
    #[serde(rename = "type", deserialize_with = "de::string")]
    kind: String,
    #[serde(deserialize_with = "de::string")]
    status: String,
    #[serde(deserialize_with = "de::opt_str")]
    reason: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    message: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    last_transition_time: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    last_update_time: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    last_heartbeat_time: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    last_probe_time: Option<String>,
}

/// A status condition (Kubernetes, wrangler and Fleet shapes share these fields). The fields
/// a healthy condition leaves empty ([`ConditionRare`]: reason, message and the other times)
/// are boxed only when one is set, and reached through `Deref` (`c.reason`): inline they took
/// 120 of the 192 bytes of each of a bundle's hundred thousand conditions.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(from = "ConditionDoc", into = "ConditionOut")]
pub struct Condition {
    /// `type`.
    pub kind: String,
    /// `status`.
    pub status: String,
    /// `lastTransitionTime`.
    pub last_transition_time: Option<String>,
    rare: Sparse<ConditionRare>,
}

/// The condition fields mostly empty (see [`Condition`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionRare {
    /// `reason`.
    pub reason: Option<String>,
    /// `message`.
    pub message: Option<String>,
    /// `lastUpdateTime`.
    pub last_update_time: Option<String>,
    /// `lastHeartbeatTime`.
    pub last_heartbeat_time: Option<String>,
    /// `lastProbeTime`.
    pub last_probe_time: Option<String>,
}

impl Empty for ConditionRare {
    const EMPTY: &'static ConditionRare = &ConditionRare {
        reason: None,
        message: None,
        last_update_time: None,
        last_heartbeat_time: None,
        last_probe_time: None,
    };
}

impl From<ConditionDoc> for Condition {
    fn from(d: ConditionDoc) -> Condition {
        let rare = ConditionRare {
            reason: d.reason,
            message: d.message,
            last_update_time: d.last_update_time,
            last_heartbeat_time: d.last_heartbeat_time,
            last_probe_time: d.last_probe_time,
        };
        Condition {
            kind: d.kind,
            status: d.status,
            last_transition_time: d.last_transition_time,
            rare: rare.into(),
        }
    }
}

impl std::ops::Deref for Condition {
    type Target = ConditionRare;
    fn deref(&self) -> &ConditionRare {
        &self.rare
    }
}

impl std::ops::DerefMut for Condition {
    fn deref_mut(&mut self) -> &mut ConditionRare {
        &mut self.rare
    }
}

/// A condition serialized with all its fields, as it was written.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConditionOut {
    #[serde(rename = "type")]
    kind: String,
    status: String,
    reason: Option<String>,
    message: Option<String>,
    last_transition_time: Option<String>,
    last_update_time: Option<String>,
    last_heartbeat_time: Option<String>,
    last_probe_time: Option<String>,
}

impl From<Condition> for ConditionOut {
    fn from(c: Condition) -> ConditionOut {
        let r = c.rare.into_inner();
        ConditionOut {
            kind: c.kind,
            status: c.status,
            reason: r.reason,
            message: r.message,
            last_transition_time: c.last_transition_time,
            last_update_time: r.last_update_time,
            last_heartbeat_time: r.last_heartbeat_time,
            last_probe_time: r.last_probe_time,
        }
    }
}

impl Condition {
    /// The most recent of the condition's timestamps.
    pub fn last_change(&self) -> Option<&str> {
        [
            self.last_transition_time.as_deref(),
            self.last_update_time.as_deref(),
            self.last_heartbeat_time.as_deref(),
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

/// Finds a condition by type.
pub fn condition<'a>(conds: &'a [Condition], kind: &str) -> Option<&'a Condition> {
    conds.iter().find(|c| c.kind == kind)
}

/// Splits `group/version` (or a bare core `v1`) into (group, version).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_condition_fields_are_boxed_only_when_set_and_serialize_whole() {
        let ok: Condition = yaml_serde::from_str(
            "type: Ready\nstatus: \"True\"\nlastProbeTime: \"null\"\nlastTransitionTime: t1\n",
        )
        .unwrap();
        assert!(!ok.rare.is_set());
        assert_eq!((ok.kind.as_str(), ok.status.as_str()), ("Ready", "True"));
        assert_eq!(ok.last_transition_time.as_deref(), Some("t1"));
        assert!(ok.reason.is_none() && ok.last_probe_time.is_none());
        let bad: Condition = yaml_serde::from_str(
            "type: Ready\nstatus: \"False\"\nreason: NotReady\nmessage: m\nlastHeartbeatTime: t2\n",
        )
        .unwrap();
        assert!(bad.rare.is_set());
        assert_eq!(bad.reason.as_deref(), Some("NotReady"));
        assert_eq!(bad.last_change(), Some("t2"));
        assert_eq!(
            serde_json::to_value(&bad).unwrap(),
            serde_json::json!({"type": "Ready", "status": "False", "reason": "NotReady",
                "message": "m", "lastTransitionTime": null, "lastUpdateTime": null,
                "lastHeartbeatTime": "t2", "lastProbeTime": null})
        );
    }

    #[test]
    fn rare_metadata_is_boxed_only_when_set() {
        let plain: Meta = yaml_serde::from_str("name: e\nnamespace: d\nuid: u\n").unwrap();
        assert!(!plain.core.rare.is_set());
        assert!(plain.labels.is_empty() && plain.generation.is_none());
        let labelled: Meta =
            yaml_serde::from_str("name: p\nlabels:\n  app: x\nfinalizers:\n- f\n").unwrap();
        assert!(labelled.core.rare.is_set());
        assert_eq!(labelled.labels.get("app").map(String::as_str), Some("x"));
        assert_eq!(labelled.finalizer_names(), ["f"]);
        let mut m = plain.clone();
        m.labels.insert("k".into(), "v".into());
        assert!(m.core.rare.is_set() && m != plain);
    }

    #[test]
    fn meta_tolerates_quirks() {
        let y = r#"
name: image-kzndn
namespace: default
generation: 1.1e+07
creationTimestamp: "2022-03-06T23:09:58Z"
labels:
  a: "null"
finalizers:
- wrangler.cattle.io/vm-image-controller
ownerReferences:
- apiVersion: apps/v1
  kind: ReplicaSet
  name: rs
  uid: u1
  controller: true
"#;
        let m: Meta = yaml_serde::from_str(y).unwrap();
        assert_eq!(m.generation, Some(11_000_000));
        assert_eq!(m.labels.get("a").map(String::as_str), Some(""));
        assert_eq!(
            m.finalizer_names(),
            vec!["wrangler.cattle.io/vm-image-controller"]
        );
        assert_eq!(m.controller().unwrap().kind, "ReplicaSet");
    }

    #[test]
    fn condition_null_probe_time() {
        let c: Condition = yaml_serde::from_str(
            "lastProbeTime: \"null\"\nlastTransitionTime: \"2022-03-06T23:10:00Z\"\nstatus: \"True\"\ntype: Ready\n",
        )
        .unwrap();
        assert_eq!(c.last_probe_time, None);
        assert_eq!(c.status, "True");
        assert_eq!(c.last_change(), Some("2022-03-06T23:10:00Z"));
    }

    #[test]
    fn api_version_split() {
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
    }
}
