//! Typed views of what Fleet records: Bundle, BundleDeployment, Cluster and GitRepo
//! (`fleet.cattle.io`) and Rancher's ManagedChart (`management.cattle.io`), whose status is a
//! copy of its Bundle's. Also the parser of Fleet's aggregated `Ready` message
//! (`NotReady(1) [Cluster fleet-local/local]; daemonset.apps kube-system/x [progressing] …`),
//! for when only the message says which resources Fleet considers not ready or modified.
use std::collections::BTreeMap;

use serde::Deserialize;

use super::de;
use super::summary::Summary;

/// A `nonReadyStatus[]` entry: an object Fleet's agent summarised as not ready.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct NonReadyStatus {
    #[serde(deserialize_with = "de::string")]
    pub uid: String,
    #[serde(deserialize_with = "de::string")]
    pub kind: String,
    #[serde(deserialize_with = "de::string")]
    pub api_version: String,
    #[serde(deserialize_with = "de::string")]
    pub namespace: String,
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    pub summary: RecordedSummary,
}

/// The summary as Fleet stored it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RecordedSummary {
    #[serde(deserialize_with = "de::string")]
    pub state: String,
    #[serde(deserialize_with = "de::opt_bool")]
    pub error: Option<bool>,
    #[serde(deserialize_with = "de::opt_bool")]
    pub transitioning: Option<bool>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub message: Vec<de::Scalar>,
}

impl RecordedSummary {
    /// As a [`Summary`].
    pub fn to_summary(&self) -> Summary {
        Summary {
            state: self.state.clone(),
            error: self.error.unwrap_or(false),
            transitioning: self.transitioning.unwrap_or(false),
            message: self.message.iter().filter_map(|m| m.0.clone()).collect(),
        }
    }
}

/// A `modifiedStatus[]` entry: drift between the release and the cluster.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ModifiedStatus {
    #[serde(deserialize_with = "de::string")]
    pub kind: String,
    #[serde(deserialize_with = "de::string")]
    pub api_version: String,
    #[serde(deserialize_with = "de::string")]
    pub namespace: String,
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::opt_bool")]
    pub missing: Option<bool>,
    #[serde(deserialize_with = "de::opt_bool")]
    pub exist: Option<bool>,
    #[serde(deserialize_with = "de::opt_bool")]
    pub delete: Option<bool>,
    #[serde(deserialize_with = "de::opt_str")]
    pub patch: Option<String>,
}

/// What kind of drift a modified entry records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The release's object is absent, or lacks Fleet's objectset labels (≤ 0.10).
    Missing,
    /// Present but not owned by this release (≥ 0.11).
    NotOwned,
    /// Present in the cluster, no longer in the release.
    Extra,
    /// Differs from the release; the JSON merge patch that would restore it.
    Patch(String),
}

impl ModifiedStatus {
    /// The kind of drift.
    pub fn drift(&self) -> Drift {
        if self.missing == Some(true) {
            Drift::Missing
        } else if self.exist == Some(true) {
            Drift::NotOwned
        } else if self.delete == Some(true) {
            Drift::Extra
        } else {
            Drift::Patch(self.patch.clone().unwrap_or_default())
        }
    }
}

/// One `summary.nonReadyResources[]` entry: a BundleDeployment (named by its cluster on a
/// Bundle, by its bundle on a Cluster) that is not Ready.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct NonReadyResource {
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub bundle_state: String,
    #[serde(deserialize_with = "de::opt_str")]
    pub message: Option<String>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub modified_status: Vec<ModifiedStatus>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub non_ready_status: Vec<NonReadyStatus>,
}

/// `status.summary` of a Bundle, Cluster, GitRepo or ManagedChart.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct BundleSummary {
    #[serde(deserialize_with = "de::opt_int")]
    pub not_ready: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    pub wait_applied: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    pub err_applied: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    pub out_of_sync: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    pub modified: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    pub ready: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    pub pending: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    pub desired_ready: Option<i64>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub non_ready_resources: Vec<NonReadyResource>,
}

/// A rollout partition.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Partition {
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::opt_int")]
    pub count: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    pub unavailable: Option<i64>,
    pub summary: BundleSummary,
}

/// An object of the release as Fleet lists it (BundleDeployment `status.resources[]`,
/// Bundle `status.resourceKey[]`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceKey {
    #[serde(deserialize_with = "de::string")]
    pub api_version: String,
    #[serde(deserialize_with = "de::string")]
    pub kind: String,
    #[serde(deserialize_with = "de::string")]
    pub namespace: String,
    #[serde(deserialize_with = "de::string")]
    pub name: String,
}

/// `status.agent` of a fleet Cluster.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentStatus {
    #[serde(deserialize_with = "de::opt_str")]
    pub last_seen: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    pub namespace: Option<String>,
    /// Present only with Fleet ≤ 0.9.
    #[serde(deserialize_with = "de::opt_int")]
    pub ready_nodes: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct FleetSpec {
    #[serde(deserialize_with = "de::opt_bool")]
    paused: Option<bool>,
    #[serde(deserialize_with = "de::opt_int")]
    force_sync_generation: Option<i64>,
    #[serde(rename = "deploymentID", deserialize_with = "de::opt_str")]
    deployment_id: Option<String>,
    #[serde(rename = "stagedDeploymentID", deserialize_with = "de::opt_str")]
    staged_deployment_id: Option<String>,
    options: BdOptions,
    #[serde(deserialize_with = "de::opt_str")]
    default_namespace: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    release_name: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    chart: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    version: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    timeout_seconds: Option<i64>,
    helm: HelmOptions,
    #[serde(deserialize_with = "de::opt_int")]
    redeploy_agent_generation: Option<i64>,
    diff: DiffOptions,
    /// ManagedChart `spec.values`, buffered so an odd shape drops only this field.
    values: Option<de::Maybe<ChartValues>>,
}

/// The part of a ManagedChart's `spec.values` the upgrade rules read:
/// `kubevirt.spec.workloadUpdateStrategy.workloadUpdateMethods`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ChartValues {
    kubevirt: KubevirtValues,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KubevirtValues {
    spec: KubevirtValuesSpec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct KubevirtValuesSpec {
    workload_update_strategy: WorkloadUpdateStrategy,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WorkloadUpdateStrategy {
    workload_update_methods: Option<Vec<de::Scalar>>,
}

/// Bundle / ManagedChart `spec.diff`, BundleDeployment `spec.options.diff`.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct DiffOptions {
    #[serde(deserialize_with = "de::lenient_vec")]
    compare_patches: Vec<ComparePatch>,
}

/// One `diff.comparePatches` entry: which object, and the fields Fleet's agent leaves out of
/// its comparison (`jsonPointers`) or normalises on both sides (`operations`).
#[derive(Deserialize, Default, Debug, Clone, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ComparePatch {
    /// `apiVersion` of the objects it applies to.
    #[serde(deserialize_with = "de::opt_str")]
    pub api_version: Option<String>,
    /// `kind` (Fleet matches it as a glob).
    #[serde(deserialize_with = "de::opt_str")]
    pub kind: Option<String>,
    /// `name` (empty: every object of the kind).
    #[serde(deserialize_with = "de::opt_str")]
    pub name: Option<String>,
    /// `namespace` (empty: any namespace).
    #[serde(deserialize_with = "de::opt_str")]
    pub namespace: Option<String>,
    /// `operations`: JSON patch operations applied to both sides before comparing.
    #[serde(deserialize_with = "de::lenient_vec")]
    pub operations: Vec<PatchOperation>,
    /// `jsonPointers`: fields removed from both sides before comparing.
    #[serde(deserialize_with = "de::lenient_vec")]
    pub json_pointers: Vec<String>,
}

/// One operation of a `comparePatches` entry (its `value` is not needed to know which field it
/// touches).
#[derive(Deserialize, Default, Debug, Clone, PartialEq, Eq)]
#[serde(default)]
pub struct PatchOperation {
    /// `op`: `remove`, `replace`, `add`, … or Fleet's own `ignore`.
    #[serde(deserialize_with = "de::opt_str")]
    pub op: Option<String>,
    /// `path`: a JSON pointer.
    #[serde(deserialize_with = "de::opt_str")]
    pub path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct BdOptions {
    #[serde(deserialize_with = "de::opt_int")]
    force_sync_generation: Option<i64>,
    #[serde(deserialize_with = "de::opt_str")]
    default_namespace: Option<String>,
    helm: HelmOptions,
    diff: DiffOptions,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct HelmOptions {
    #[serde(deserialize_with = "de::opt_str")]
    release_name: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    chart: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct FleetStatus {
    #[serde(deserialize_with = "de::lenient_vec")]
    pub(crate) conditions: Vec<super::Condition>,
    #[serde(deserialize_with = "de::opt_int")]
    pub(crate) observed_generation: Option<i64>,
    summary: BundleSummary,
    #[serde(deserialize_with = "de::str_map")]
    display: BTreeMap<String, String>,
    #[serde(deserialize_with = "de::opt_int")]
    unavailable: Option<i64>,
    #[serde(deserialize_with = "de::lenient_vec")]
    partitions: Vec<Partition>,
    #[serde(rename = "appliedDeploymentID", deserialize_with = "de::opt_str")]
    applied_deployment_id: Option<String>,
    #[serde(deserialize_with = "de::opt_bool")]
    ready: Option<bool>,
    #[serde(deserialize_with = "de::opt_bool")]
    non_modified: Option<bool>,
    #[serde(deserialize_with = "de::lenient_vec")]
    non_ready_status: Vec<NonReadyStatus>,
    #[serde(deserialize_with = "de::lenient_vec")]
    modified_status: Vec<ModifiedStatus>,
    #[serde(deserialize_with = "de::opt_int")]
    sync_generation: Option<i64>,
    #[serde(deserialize_with = "de::opt_str")]
    release: Option<String>,
    #[serde(deserialize_with = "de::opt_bool")]
    incomplete_state: Option<bool>,
    agent: Option<AgentStatus>,
    #[serde(deserialize_with = "de::opt_str")]
    namespace: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    agent_deployed_generation: Option<i64>,
    #[serde(deserialize_with = "de::opt_str")]
    commit: Option<String>,
    #[serde(deserialize_with = "de::lenient_vec")]
    resources: Vec<ResourceKey>,
    #[serde(deserialize_with = "de::lenient_vec")]
    resource_key: Vec<ResourceKey>,
}

/// Spec and status fields of a Fleet object or ManagedChart that the Fleet rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetView {
    /// `spec.paused`.
    pub paused: bool,
    /// Bundle `spec.forceSyncGeneration`, or BundleDeployment `spec.options.forceSyncGeneration`.
    pub force_sync_generation: Option<i64>,
    /// BundleDeployment `spec.deploymentID`.
    pub deployment_id: Option<String>,
    /// BundleDeployment `spec.stagedDeploymentID`.
    pub staged_deployment_id: Option<String>,
    /// Namespace the chart deploys into (ManagedChart/Bundle/BD `defaultNamespace`).
    pub default_namespace: Option<String>,
    /// Helm release name.
    pub release_name: Option<String>,
    /// Chart name and version (ManagedChart, Bundle `helm`).
    pub chart: Option<String>,
    /// Chart version.
    pub chart_version: Option<String>,
    /// ManagedChart `spec.timeoutSeconds`.
    pub timeout_seconds: Option<i64>,
    /// Cluster `spec.redeployAgentGeneration`.
    pub redeploy_agent_generation: Option<i64>,
    /// `spec.diff.comparePatches` (Bundle, ManagedChart) or `spec.options.diff.comparePatches`
    /// (BundleDeployment).
    pub compare_patches: Vec<ComparePatch>,
    /// ManagedChart `spec.values.kubevirt.spec.workloadUpdateStrategy.workloadUpdateMethods`,
    /// when the key is there (and not null).
    pub workload_update_methods: Option<Vec<String>>,
    /// `status.summary`.
    pub summary: BundleSummary,
    /// `status.display`.
    pub display: BTreeMap<String, String>,
    /// `status.unavailable`.
    pub unavailable: Option<i64>,
    /// `status.partitions`.
    pub partitions: Vec<Partition>,
    /// BundleDeployment `status.appliedDeploymentID`.
    pub applied_deployment_id: Option<String>,
    /// BundleDeployment `status.ready`.
    pub ready: Option<bool>,
    /// BundleDeployment `status.nonModified`.
    pub non_modified: Option<bool>,
    /// BundleDeployment `status.nonReadyStatus`.
    pub non_ready_status: Vec<NonReadyStatus>,
    /// BundleDeployment `status.modifiedStatus`.
    pub modified_status: Vec<ModifiedStatus>,
    /// BundleDeployment `status.syncGeneration`.
    pub sync_generation: Option<i64>,
    /// BundleDeployment `status.release`.
    pub release: Option<String>,
    /// BundleDeployment `status.incompleteState` (≥ 0.12).
    pub incomplete_state: bool,
    /// Cluster `status.agent`.
    pub agent: Option<AgentStatus>,
    /// Cluster `status.namespace`.
    pub cluster_namespace: Option<String>,
    /// Cluster `status.agentDeployedGeneration`.
    pub agent_deployed_generation: Option<i64>,
    /// GitRepo `status.commit`.
    pub commit: Option<String>,
    /// The release's objects as Fleet lists them (BD `status.resources`, else Bundle
    /// `status.resourceKey`).
    pub resources: Vec<ResourceKey>,
}

impl FleetView {
    /// The summary wrangler's `checkStatusSummary` would read from `status.display`.
    pub fn own_summary(&self) -> Option<super::views::OwnSummary> {
        if self.display.is_empty() {
            return None;
        }
        let flag = |k: &str| self.display.get(k).map(|v| v == "true");
        Some(super::views::OwnSummary {
            state: self.display.get("state").cloned(),
            transitioning: flag("transitioning"),
            error: flag("error"),
            message: self.display.get("message").cloned(),
        })
    }

    pub(crate) fn from_parts(spec: FleetSpec, status: FleetStatus) -> FleetView {
        let helm = |h: &HelmOptions| (h.release_name.clone(), h.chart.clone(), h.version.clone());
        let (h_rel, h_chart, h_ver) = helm(&spec.helm);
        let (o_rel, _, _) = helm(&spec.options.helm);
        FleetView {
            paused: spec.paused.unwrap_or(false),
            workload_update_methods: spec
                .values
                .and_then(|v| v.0)
                .and_then(|v| {
                    v.kubevirt
                        .spec
                        .workload_update_strategy
                        .workload_update_methods
                })
                .map(|m| m.into_iter().filter_map(|x| x.0).collect()),
            force_sync_generation: spec
                .force_sync_generation
                .or(spec.options.force_sync_generation),
            deployment_id: spec.deployment_id,
            staged_deployment_id: spec.staged_deployment_id,
            default_namespace: spec.default_namespace.or(spec.options.default_namespace),
            release_name: spec.release_name.or(h_rel).or(o_rel),
            chart: spec.chart.or(h_chart),
            chart_version: spec.version.or(h_ver),
            timeout_seconds: spec.timeout_seconds,
            redeploy_agent_generation: spec.redeploy_agent_generation,
            compare_patches: if spec.diff.compare_patches.is_empty() {
                spec.options.diff.compare_patches
            } else {
                spec.diff.compare_patches
            },
            summary: status.summary,
            display: status.display,
            unavailable: status.unavailable,
            partitions: status.partitions,
            applied_deployment_id: status.applied_deployment_id,
            ready: status.ready,
            non_modified: status.non_modified,
            non_ready_status: status.non_ready_status,
            modified_status: status.modified_status,
            sync_generation: status.sync_generation,
            release: status.release,
            incomplete_state: status.incomplete_state.unwrap_or(false),
            agent: status.agent,
            cluster_namespace: status.namespace,
            agent_deployed_generation: status.agent_deployed_generation,
            commit: status.commit,
            resources: if status.resources.is_empty() {
                status.resource_key
            } else {
                status.resources
            },
        }
    }
}

// ---------------------------------------------------------------- aggregated message

/// A resource as Fleet names it in messages: `daemonset.apps kube-system/x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedResource {
    /// Lower-case kind (`daemonset`).
    pub kind: String,
    /// Group head (`apps`, `rbac.authorization.k8s.io`) or `v1` for core; empty when absent.
    pub group: String,
    /// Namespace, empty for cluster-scoped.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// One `"; "`-separated part of a Fleet `Ready` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessagePart {
    /// `NotReady(1) [Cluster fleet-local/local]` or `ErrApplied(1) [Cluster x: <error>]`.
    State {
        /// Deployment state (`NotReady`, `ErrApplied`, ...).
        state: String,
        /// How many BundleDeployments are in it.
        count: u32,
        /// `Cluster` (on Bundles) or `Bundle` (on Clusters).
        kind: String,
        /// Name of the first one.
        name: String,
        /// Its Deployed/Installed/Monitored message, if any.
        message: Option<String>,
    },
    /// `daemonset.apps ns/x [progressing] Available: 6/7`.
    NonReady {
        /// The resource.
        resource: NamedResource,
        /// `[progressing`.
        transitioning: bool,
        /// `error]`.
        error: bool,
        /// The summary's messages, joined by `", "`.
        message: String,
    },
    /// `configmap.v1 ns/x missing`, `… extra`, `… is not owned by us`, `… modified {patch}`.
    Modified {
        /// The resource.
        resource: NamedResource,
        /// The drift.
        drift: Drift,
    },
    /// A part that matched no known format, kept verbatim.
    Other(String),
}

fn parse_state_part(p: &str) -> Option<MessagePart> {
    let open = p.find('(')?;
    let state = &p[..open];
    if state.is_empty() || !state.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let rest = &p[open + 1..];
    let close = rest.find(')')?;
    let count: u32 = rest[..close].parse().ok()?;
    let rest = rest[close + 1..].strip_prefix(" [")?;
    let body = rest.strip_suffix(']')?;
    let (kind, tail) = body.split_once(' ')?;
    let (name, message) = match tail.split_once(": ") {
        Some((n, m)) => (n, Some(m.to_string())),
        None => (tail, None),
    };
    Some(MessagePart::State {
        state: state.to_string(),
        count,
        kind: kind.to_string(),
        name: name.to_string(),
        message,
    })
}

fn parse_named(head: &str, id: &str) -> Option<NamedResource> {
    if head.is_empty()
        || !head
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return None;
    }
    let (kind, group) = match head.split_once('.') {
        Some((k, g)) => (k, g),
        None => (head, ""),
    };
    let (namespace, name) = match id.split_once('/') {
        Some((ns, n)) => (ns, n),
        None => ("", id),
    };
    if name.is_empty() {
        return None;
    }
    Some(NamedResource {
        kind: kind.to_string(),
        group: group.to_string(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    })
}

fn parse_resource_part(p: &str) -> Option<MessagePart> {
    let mut it = p.splitn(3, ' ');
    let head = it.next()?;
    let id = it.next()?;
    let rest = it.next().unwrap_or("");
    let resource = parse_named(head, id)?;
    let non_ready = |transitioning: bool, error: bool, msg: &str| MessagePart::NonReady {
        resource: resource.clone(),
        transitioning,
        error,
        message: msg.trim().to_string(),
    };
    if let Some(m) = rest.strip_prefix("[progressing,error]") {
        return Some(non_ready(true, true, m));
    }
    if let Some(m) = rest.strip_prefix("[progressing]") {
        return Some(non_ready(true, false, m));
    }
    if let Some(m) = rest.strip_prefix("error]") {
        return Some(non_ready(false, true, m));
    }
    let drift = match rest {
        "missing" => Drift::Missing,
        "extra" => Drift::Extra,
        "is not owned by us" => Drift::NotOwned,
        _ => Drift::Patch(rest.strip_prefix("modified ")?.to_string()),
    };
    Some(MessagePart::Modified {
        resource: resource.clone(),
        drift,
    })
}

fn starts_part(s: &str) -> bool {
    parse_state_part(s.split("; ").next().unwrap_or(s)).is_some() || {
        let mut it = s.splitn(3, ' ');
        match (it.next(), it.next(), it.next()) {
            (Some(h), Some(id), Some(rest)) => {
                parse_named(h, id).is_some()
                    && (rest.starts_with("[progressing")
                        || rest.starts_with("error]")
                        || rest.starts_with("missing")
                        || rest.starts_with("extra")
                        || rest.starts_with("is not owned by us")
                        || rest.starts_with("modified "))
            }
            _ => false,
        }
    }
}

/// Parses an aggregated `Ready` message into its parts. Parts are split at `"; "` only where
/// a new part begins, so messages and patches that contain `"; "` stay whole.
pub fn parse_ready_message(msg: &str) -> Vec<MessagePart> {
    let mut pieces: Vec<String> = Vec::new();
    for raw in msg.split("; ") {
        match pieces.last_mut() {
            Some(last) if !starts_part(raw) => {
                last.push_str("; ");
                last.push_str(raw);
            }
            _ => pieces.push(raw.to_string()),
        }
    }
    pieces
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| {
            parse_state_part(&p)
                .or_else(|| parse_resource_part(&p))
                .unwrap_or(MessagePart::Other(p))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_message() {
        let parts = parse_ready_message(
            "NotReady(1) [Cluster fleet-local/local]; daemonset.apps kube-system/harvester-whereabouts [progressing] Available: 6/7",
        );
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0],
            MessagePart::State {
                state: "NotReady".into(),
                count: 1,
                kind: "Cluster".into(),
                name: "fleet-local/local".into(),
                message: None
            }
        );
        let MessagePart::NonReady {
            resource,
            transitioning,
            error,
            message,
        } = &parts[1]
        else {
            panic!("{parts:?}")
        };
        assert_eq!(resource.kind, "daemonset");
        assert_eq!(resource.group, "apps");
        assert_eq!(resource.namespace, "kube-system");
        assert_eq!(resource.name, "harvester-whereabouts");
        assert!(*transitioning && !*error);
        assert_eq!(message, "Available: 6/7");
    }

    #[test]
    fn errapplied_modified_missing_and_patches_with_semicolons() {
        let parts = parse_ready_message(
            "ErrApplied(1) [Cluster fleet-local/local: encountered 2 deletion errors; first: x]; Modified(1) [Bundle mcc-harvester]; cdi.cdi.kubevirt.io cdi missing; kubevirt.kubevirt.io harvester-system/kubevirt modified {\"a\":\"b; c\"}; pod.v1 ns/p error] boom, x",
        );
        assert_eq!(parts.len(), 5, "{parts:?}");
        assert!(
            matches!(&parts[0], MessagePart::State { state, message: Some(m), .. }
            if state == "ErrApplied" && m == "encountered 2 deletion errors; first: x")
        );
        assert!(matches!(&parts[1], MessagePart::State { kind, name, .. }
            if kind == "Bundle" && name == "mcc-harvester"));
        assert!(
            matches!(&parts[2], MessagePart::Modified { resource, drift: Drift::Missing }
            if resource.group == "cdi.kubevirt.io" && resource.namespace.is_empty())
        );
        assert!(
            matches!(&parts[3], MessagePart::Modified { drift: Drift::Patch(p), .. }
            if p == "{\"a\":\"b; c\"}")
        );
        assert!(matches!(
            &parts[4],
            MessagePart::NonReady {
                error: true,
                transitioning: false,
                ..
            }
        ));
    }

    #[test]
    fn garbage_is_kept() {
        let parts = parse_ready_message("something odd");
        assert_eq!(parts, vec![MessagePart::Other("something odd".into())]);
        assert!(parse_ready_message("").is_empty());
    }
}
