//! Per-kind typed views, decoded straight from one item's YAML text (never from a generic
//! tree): only the fields rules and queries use are kept. Kinds without a dedicated view keep
//! their metadata and common status (conditions, phase, state).
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use std::collections::BTreeMap;

use super::{Condition, Meta, de};

/// Status fields shared by most kinds. Reached through [`CommonStatus`], which derefs to it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct StatusFields {
    /// `status.conditions`.
    pub conditions: Vec<Condition>,
    /// `status.phase` (Pods, PVCs, Namespaces, ...).
    pub phase: Option<String>,
    /// `status.state` (Longhorn, Harvester, Fleet display, ...).
    pub state: Option<String>,
    /// `status.observedGeneration`.
    pub observed_generation: Option<i64>,
    /// A summary the object publishes about itself (`status.display`, else `status.summary`),
    /// as Rancher and Fleet objects do; wrangler's summarizer starts from it.
    pub own_summary: Option<OwnSummary>,
    /// `spec.active` as text (norman-style objects), read by wrangler's `checkActive`.
    pub spec_active: Option<String>,
}

impl super::Empty for StatusFields {
    const EMPTY: &'static StatusFields = &StatusFields {
        conditions: Vec::new(),
        phase: None,
        state: None,
        observed_generation: None,
        own_summary: None,
        spec_active: None,
    };
}

/// An object's [`StatusFields`], boxed only when it has some: most objects of a bundle
/// (events above all) have none, and inline the fields took a quarter of every object.
/// Derefs to the fields (`o.status.conditions`); writing through it allocates them.
pub type CommonStatus = super::Sparse<StatusFields>;

/// The `state`/`transitioning`/`error`/`message` keys of `status.display` or `status.summary`;
/// `None` means the key is absent (presence matters to wrangler).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct OwnSummary {
    #[serde(deserialize_with = "de::opt_str")]
    pub state: Option<String>,
    #[serde(deserialize_with = "de::opt_bool")]
    pub transitioning: Option<bool>,
    #[serde(deserialize_with = "de::opt_bool")]
    pub error: Option<bool>,
    #[serde(deserialize_with = "de::opt_str")]
    pub message: Option<String>,
}

/// The decoded view of one object.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// No dedicated view for this kind.
    Generic,
    /// core Pod.
    Pod(Box<PodView>),
    /// core Node.
    Node(Box<NodeView>),
    /// apps DaemonSet, Deployment, StatefulSet, ReplicaSet.
    Workload(Box<WorkloadView>),
    /// batch Job.
    Job(Box<JobView>),
    /// core Service.
    Service(Box<ServiceView>),
    /// core or events.k8s.io Event.
    Event(Box<EventView>),
    /// a Setting (Harvester, Rancher, Longhorn): a top-level `value`.
    Setting(Box<SettingView>),
    /// core PersistentVolume: where its claim lives.
    PersistentVolume(Box<PvView>),
    /// Fleet Bundle, BundleDeployment, Cluster, GitRepo, or Rancher ManagedChart.
    Fleet(Box<super::fleet::FleetView>),
    /// Validating or Mutating WebhookConfiguration.
    Webhooks(Box<WebhookConfigView>),
    /// A kind the upgrade rules read deeply (see [`TREE_KINDS`]): the whole object but its
    /// `metadata` (which is in [`Meta`]) as a compact tree, `"null"` strings turned back into
    /// nulls.
    Tree(Box<super::tree::Tree>),
}

/// Kinds kept whole as a JSON tree: few objects each, read at many depths by the upgrade
/// rules (Harvester Upgrade/Version/backups/addons, Longhorn volumes and replicas, KubeVirt
/// VMs, CAPI clusters and machines, SUC plans, PodDisruptionBudgets).
pub const TREE_KINDS: &[(&str, &str)] = &[
    ("harvesterhci.io", "Upgrade"),
    ("harvesterhci.io", "Version"),
    ("harvesterhci.io", "VirtualMachineBackup"),
    ("harvesterhci.io", "ScheduleVMBackup"),
    ("harvesterhci.io", "Addon"),
    ("harvesterhci.io", "UpgradeLog"),
    ("harvesterhci.io", "VirtualMachineImage"),
    ("longhorn.io", "Volume"),
    ("longhorn.io", "Engine"),
    ("longhorn.io", "Replica"),
    ("longhorn.io", "Node"),
    ("longhorn.io", "BackingImage"),
    ("kubevirt.io", "VirtualMachine"),
    ("kubevirt.io", "VirtualMachineInstance"),
    ("kubevirt.io", "VirtualMachineInstanceMigration"),
    ("cluster.x-k8s.io", "Cluster"),
    ("cluster.x-k8s.io", "Machine"),
    ("provisioning.cattle.io", "Cluster"),
    ("upgrade.cattle.io", "Plan"),
    ("policy", "PodDisruptionBudget"),
    ("", "Endpoints"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("", "PersistentVolumeClaim"),
    ("whereabouts.cni.cncf.io", "IPPool"),
];

/// One webhook of a Validating/MutatingWebhookConfiguration: the fields rules read, plus the
/// whole entry as JSON (strings un-mangled) to compare with what a chart renders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Webhook {
    /// `name`.
    pub name: String,
    /// `failurePolicy` (`Fail` when unset, as the API defaults it).
    pub failure_policy: String,
    /// `clientConfig.service` namespace and name, when the webhook calls a Service.
    pub service: Option<(String, String)>,
    /// `clientConfig.url`, when it calls a URL.
    pub url: Option<String>,
    /// The entry as JSON.
    pub raw: serde_json::Value,
}

/// A Validating/MutatingWebhookConfiguration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookConfigView {
    /// Its webhooks, in order.
    pub webhooks: Vec<Webhook>,
}

/// Replaces the generator's `"null"` strings by JSON null, recursively.
fn unmangle_json(mut v: serde_json::Value) -> serde_json::Value {
    unmangle_in_place(&mut v);
    v
}

/// [`unmangle_json`] without rebuilding the tree: only the strings that change are touched.
fn unmangle_in_place(v: &mut serde_json::Value) {
    use serde_json::Value as J;
    match v {
        J::String(s) => match de::unmangle(s) {
            None => *v = J::Null,
            Some(t) if t.len() == s.len() => {}
            Some(t) => {
                let n = t.len();
                s.truncate(n);
            }
        },
        J::Array(a) => a.iter_mut().for_each(unmangle_in_place),
        J::Object(m) => m.values_mut().for_each(unmangle_in_place),
        _ => {}
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WebhookDoc {
    #[serde(deserialize_with = "de::string")]
    api_version: String,
    #[serde(deserialize_with = "de::string")]
    kind: String,
    metadata: Meta,
    #[serde(deserialize_with = "de::lenient_vec")]
    webhooks: Vec<serde_json::Value>,
}

impl Webhook {
    fn from_json(raw: serde_json::Value) -> Webhook {
        let raw = unmangle_json(raw);
        let s = |v: Option<&serde_json::Value>| v.and_then(|x| x.as_str()).map(str::to_owned);
        let cc = raw.get("clientConfig");
        let service = cc.and_then(|c| c.get("service")).map(|svc| {
            (
                s(svc.get("namespace")).unwrap_or_default(),
                s(svc.get("name")).unwrap_or_default(),
            )
        });
        Webhook {
            name: s(raw.get("name")).unwrap_or_default(),
            failure_policy: s(raw.get("failurePolicy")).unwrap_or_else(|| "Fail".into()),
            service,
            url: s(cc.and_then(|c| c.get("url"))),
            raw,
        }
    }
}

/// One decoded object: identity fields, metadata, common status and the typed view.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// `apiVersion` as written.
    pub api_version: String,
    /// `kind` as written.
    pub kind: String,
    /// `metadata`.
    pub meta: Meta,
    /// Common status fields.
    pub status: CommonStatus,
    /// Kind-specific view.
    pub view: View,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Doc<S: Default, T: Default> {
    #[serde(rename = "apiVersion", deserialize_with = "de::string")]
    api_version: String,
    #[serde(deserialize_with = "de::string")]
    kind: String,
    metadata: Meta,
    spec: S,
    status: T,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GenericStatus {
    #[serde(deserialize_with = "de::lenient_vec")]
    conditions: Vec<Condition>,
    #[serde(deserialize_with = "de::opt_str")]
    phase: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    state: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    observed_generation: Option<i64>,
    /// KubeVirt's `printableStatus` (Running, Stopped, ...), shown as the state.
    #[serde(deserialize_with = "de::opt_str")]
    printable_status: Option<String>,
    #[serde(deserialize_with = "own_summary")]
    display: Option<OwnSummary>,
    #[serde(deserialize_with = "own_summary")]
    summary: Option<OwnSummary>,
}

/// `Some` only for a non-empty map (wrangler ignores empty or non-map values).
fn own_summary<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<OwnSummary>, D::Error> {
    let v = yaml_serde::Value::deserialize(d)?;
    match v {
        yaml_serde::Value::Mapping(m) if !m.is_empty() => {
            Ok(OwnSummary::deserialize(yaml_serde::Value::Mapping(m)).ok())
        }
        _ => Ok(None),
    }
}

/// The only `spec` field read from kinds without a view: `spec.active`. Any other shape of
/// `spec` (or none) is skipped without buffering it.
#[derive(Default)]
struct GenericSpec {
    active: Option<String>,
}

impl<'de> Deserialize<'de> for GenericSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GenericSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a spec")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<GenericSpec, A::Error> {
                let mut spec = GenericSpec::default();
                while let Some(k) = a.next_key::<de::Scalar>()? {
                    if k.0.as_deref() == Some("active") {
                        spec.active = a.next_value::<de::Scalar>()?.0;
                    } else {
                        a.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(spec)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<GenericSpec, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(GenericSpec::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_unit<E>(self) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_none<E>(self) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
        }
        d.deserialize_any(V)
    }
}

impl GenericStatus {
    fn common(self) -> CommonStatus {
        StatusFields {
            conditions: self.conditions,
            phase: self.phase,
            state: self.state.or(self.printable_status),
            observed_generation: self.observed_generation,
            own_summary: self.display.or(self.summary),
            spec_active: None,
        }
        .into()
    }
}

// ---------------------------------------------------------------- Pod

/// A container in a pod spec.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainerSpec {
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub image: String,
}

/// Details of one container state.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct StateDetail {
    #[serde(deserialize_with = "de::opt_str")]
    pub reason: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    pub message: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    pub exit_code: Option<i64>,
    #[serde(deserialize_with = "de::opt_str")]
    pub started_at: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    pub finished_at: Option<String>,
}

/// `state` / `lastState` of a container (details boxed: at most one is set, and inline the
/// three took 336 bytes of each of the two states of every container status).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainerState {
    pub waiting: Option<Box<StateDetail>>,
    pub running: Option<Box<StateDetail>>,
    pub terminated: Option<Box<StateDetail>>,
}

/// A container status.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerStatus {
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::opt_bool")]
    pub ready: Option<bool>,
    #[serde(deserialize_with = "de::opt_int")]
    pub restart_count: Option<i64>,
    #[serde(deserialize_with = "de::string")]
    pub image: String,
    pub state: ContainerState,
    pub last_state: ContainerState,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PodSpec {
    #[serde(deserialize_with = "de::opt_str")]
    node_name: Option<String>,
    #[serde(deserialize_with = "de::lenient_vec")]
    volumes: Vec<Volume>,
    #[serde(deserialize_with = "de::lenient_vec")]
    containers: Vec<ContainerSpec>,
    #[serde(deserialize_with = "de::lenient_vec")]
    init_containers: Vec<ContainerSpec>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Volume {
    persistent_volume_claim: Option<ClaimSource>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ClaimSource {
    #[serde(deserialize_with = "de::string")]
    claim_name: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PodStatus {
    #[serde(deserialize_with = "de::lenient_vec")]
    conditions: Vec<Condition>,
    #[serde(deserialize_with = "de::opt_str")]
    phase: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    reason: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    message: Option<String>,
    #[serde(rename = "podIP", deserialize_with = "de::opt_str")]
    pod_ip: Option<String>,
    #[serde(rename = "hostIP", deserialize_with = "de::opt_str")]
    host_ip: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    start_time: Option<String>,
    #[serde(deserialize_with = "de::lenient_vec")]
    container_statuses: Vec<ContainerStatus>,
    #[serde(deserialize_with = "de::lenient_vec")]
    init_container_statuses: Vec<ContainerStatus>,
}

/// A Pod.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodView {
    pub node_name: Option<String>,
    /// PVCs mounted (`spec.volumes[].persistentVolumeClaim.claimName`).
    pub claims: Vec<String>,
    pub containers: Vec<ContainerSpec>,
    pub init_containers: Vec<ContainerSpec>,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub pod_ip: Option<String>,
    pub host_ip: Option<String>,
    pub start_time: Option<String>,
    pub container_statuses: Vec<ContainerStatus>,
    pub init_container_statuses: Vec<ContainerStatus>,
}

impl PodView {
    /// (ready containers, containers).
    pub fn ready_count(&self) -> (usize, usize) {
        let ready = self
            .container_statuses
            .iter()
            .filter(|c| c.ready == Some(true))
            .count();
        (
            ready,
            self.containers.len().max(self.container_statuses.len()),
        )
    }

    /// Sum of container restarts.
    pub fn restarts(&self) -> i64 {
        self.container_statuses
            .iter()
            .filter_map(|c| c.restart_count)
            .sum()
    }

    /// kubectl's STATUS column: a waiting/terminated reason wins over the phase.
    pub fn display_status(&self, phase: Option<&str>, deleting: bool) -> String {
        for c in self.init_container_statuses.iter() {
            if let Some(r) = c.state.waiting.as_ref().and_then(|w| w.reason.as_deref()) {
                if r != "PodInitializing" {
                    return format!("Init:{r}");
                }
            }
        }
        let mut status = self
            .reason
            .clone()
            .or_else(|| phase.map(str::to_owned))
            .unwrap_or_else(|| "Unknown".into());
        for c in self.container_statuses.iter().rev() {
            if let Some(r) = c.state.waiting.as_ref().and_then(|w| w.reason.clone()) {
                status = r;
            } else if let Some(t) = c.state.terminated.as_ref() {
                status = t.reason.clone().unwrap_or_else(|| "Terminated".into());
            }
        }
        if deleting {
            "Terminating".into()
        } else {
            status
        }
    }
}

// ---------------------------------------------------------------- Node

/// A node taint.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Taint {
    #[serde(deserialize_with = "de::string")]
    pub key: String,
    #[serde(deserialize_with = "de::opt_str")]
    pub value: Option<String>,
    #[serde(deserialize_with = "de::string")]
    pub effect: String,
}

/// A node address.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Address {
    #[serde(rename = "type", deserialize_with = "de::string")]
    pub kind: String,
    #[serde(deserialize_with = "de::string")]
    pub address: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct NodeSpec {
    #[serde(deserialize_with = "de::opt_bool")]
    unschedulable: Option<bool>,
    #[serde(deserialize_with = "de::lenient_vec")]
    taints: Vec<Taint>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct NodeInfo {
    #[serde(deserialize_with = "de::opt_str")]
    kubelet_version: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    os_image: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    kernel_version: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    container_runtime_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct NodeStatus {
    #[serde(deserialize_with = "de::lenient_vec")]
    conditions: Vec<Condition>,
    #[serde(deserialize_with = "de::lenient_vec")]
    addresses: Vec<Address>,
    node_info: NodeInfo,
    #[serde(deserialize_with = "de::str_map")]
    capacity: BTreeMap<String, String>,
    #[serde(deserialize_with = "de::str_map")]
    allocatable: BTreeMap<String, String>,
}

/// A Node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeView {
    pub unschedulable: bool,
    pub taints: Vec<Taint>,
    pub addresses: Vec<Address>,
    pub kubelet_version: Option<String>,
    pub os_image: Option<String>,
    pub kernel_version: Option<String>,
    pub container_runtime_version: Option<String>,
    pub capacity: BTreeMap<String, String>,
    pub allocatable: BTreeMap<String, String>,
}

impl NodeView {
    /// The address of a type (`InternalIP`, `Hostname`).
    pub fn address(&self, kind: &str) -> Option<&str> {
        self.addresses
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| a.address.as_str())
    }
}

// ---------------------------------------------------------------- workloads

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Selector {
    #[serde(deserialize_with = "de::str_map")]
    match_labels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TemplateSpec {
    spec: PodSpec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WorkloadSpec {
    #[serde(deserialize_with = "de::opt_int")]
    replicas: Option<i64>,
    selector: Selector,
    template: TemplateSpec,
    #[serde(deserialize_with = "de::opt_bool")]
    paused: Option<bool>,
    #[serde(deserialize_with = "de::opt_int")]
    progress_deadline_seconds: Option<i64>,
    update_strategy: UpdateStrategy,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct UpdateStrategy {
    #[serde(rename = "type", deserialize_with = "de::opt_str")]
    kind: Option<String>,
    rolling_update: RollingUpdate,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RollingUpdate {
    #[serde(deserialize_with = "de::opt_int")]
    partition: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WorkloadStatus {
    #[serde(deserialize_with = "de::lenient_vec")]
    conditions: Vec<Condition>,
    #[serde(deserialize_with = "de::opt_int")]
    observed_generation: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    replicas: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    ready_replicas: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    available_replicas: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    updated_replicas: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    unavailable_replicas: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    current_replicas: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    desired_number_scheduled: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    current_number_scheduled: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    number_ready: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    number_available: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    number_unavailable: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    number_misscheduled: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    updated_number_scheduled: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    fully_labeled_replicas: Option<i64>,
    #[serde(deserialize_with = "de::opt_str")]
    current_revision: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    update_revision: Option<String>,
}

/// A DaemonSet, Deployment, StatefulSet or ReplicaSet: desired and observed counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkloadView {
    pub spec_replicas: Option<i64>,
    pub selector: BTreeMap<String, String>,
    pub containers: Vec<ContainerSpec>,
    pub paused: bool,
    pub replicas: Option<i64>,
    pub ready_replicas: Option<i64>,
    pub available_replicas: Option<i64>,
    pub updated_replicas: Option<i64>,
    pub unavailable_replicas: Option<i64>,
    pub current_replicas: Option<i64>,
    pub desired_number_scheduled: Option<i64>,
    pub current_number_scheduled: Option<i64>,
    pub number_ready: Option<i64>,
    pub number_available: Option<i64>,
    pub number_unavailable: Option<i64>,
    pub number_misscheduled: Option<i64>,
    pub updated_number_scheduled: Option<i64>,
    pub fully_labeled_replicas: Option<i64>,
    /// `spec.progressDeadlineSeconds` (Deployments).
    pub progress_deadline_seconds: Option<i64>,
    /// `spec.updateStrategy.type`.
    pub update_strategy: Option<String>,
    /// `spec.updateStrategy.rollingUpdate.partition` (StatefulSets).
    pub partition: Option<i64>,
    /// `status.currentRevision` (StatefulSets).
    pub current_revision: Option<String>,
    /// `status.updateRevision` (StatefulSets).
    pub update_revision: Option<String>,
}

// ---------------------------------------------------------------- Job

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JobSpec {
    #[serde(deserialize_with = "de::opt_int")]
    completions: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    parallelism: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    backoff_limit: Option<i64>,
    template: TemplateSpec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JobStatus {
    #[serde(deserialize_with = "de::lenient_vec")]
    conditions: Vec<Condition>,
    #[serde(deserialize_with = "de::opt_int")]
    active: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    succeeded: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    failed: Option<i64>,
    #[serde(deserialize_with = "de::opt_str")]
    start_time: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    completion_time: Option<String>,
}

/// A Job.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobView {
    pub completions: Option<i64>,
    pub parallelism: Option<i64>,
    pub backoff_limit: Option<i64>,
    pub containers: Vec<ContainerSpec>,
    pub active: Option<i64>,
    pub succeeded: Option<i64>,
    pub failed: Option<i64>,
    pub start_time: Option<String>,
    pub completion_time: Option<String>,
}

// ---------------------------------------------------------------- Service

/// A service port.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(deserialize_with = "de::opt_str")]
    pub name: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    pub port: Option<i64>,
    #[serde(deserialize_with = "de::opt_str")]
    pub protocol: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    pub target_port: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    pub node_port: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ServiceSpec {
    #[serde(rename = "type", deserialize_with = "de::opt_str")]
    kind: Option<String>,
    #[serde(rename = "clusterIP", deserialize_with = "de::opt_str")]
    cluster_ip: Option<String>,
    #[serde(rename = "externalIPs", deserialize_with = "de::lenient_vec")]
    external_ips: Vec<String>,
    #[serde(deserialize_with = "de::lenient_vec")]
    ports: Vec<ServicePort>,
    #[serde(deserialize_with = "de::str_map")]
    selector: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ServiceStatus {
    load_balancer: LoadBalancerStatus,
    #[serde(flatten)]
    generic: GenericStatus,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoadBalancerStatus {
    #[serde(deserialize_with = "de::lenient_vec")]
    ingress: Vec<IgnoredAny>,
}

/// A Service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceView {
    /// `status.loadBalancer.ingress` entries.
    pub lb_ingress: usize,
    pub kind: Option<String>,
    pub cluster_ip: Option<String>,
    pub external_ips: Vec<String>,
    pub ports: Vec<ServicePort>,
    pub selector: BTreeMap<String, String>,
}

// ---------------------------------------------------------------- Event

/// The object an event is about.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct EventRef {
    #[serde(deserialize_with = "de::string")]
    pub kind: String,
    #[serde(deserialize_with = "de::string")]
    pub namespace: String,
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub uid: String,
    #[serde(deserialize_with = "de::opt_str")]
    pub field_path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventSeries {
    #[serde(deserialize_with = "de::opt_int")]
    count: Option<i64>,
    #[serde(rename = "lastObservedTime", deserialize_with = "de::opt_str")]
    last_observed_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EventDoc {
    #[serde(deserialize_with = "de::string")]
    api_version: String,
    #[serde(deserialize_with = "de::string")]
    kind: String,
    metadata: Meta,
    #[serde(rename = "type", deserialize_with = "de::opt_str")]
    kind_of_event: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    reason: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    message: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    note: Option<String>,
    involved_object: Option<EventRef>,
    regarding: Option<EventRef>,
    #[serde(deserialize_with = "de::opt_int")]
    count: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    deprecated_count: Option<i64>,
    series: Option<EventSeries>,
    #[serde(deserialize_with = "de::opt_str")]
    first_timestamp: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    deprecated_first_timestamp: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    last_timestamp: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    deprecated_last_timestamp: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    event_time: Option<String>,
}

/// An Event, from either API group, in one shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventView {
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub regarding: EventRef,
    pub count: i64,
    pub first: Option<String>,
    pub last: Option<String>,
}

// ---------------------------------------------------------------- Setting

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SettingDoc {
    #[serde(deserialize_with = "de::string")]
    api_version: String,
    #[serde(deserialize_with = "de::string")]
    kind: String,
    metadata: Meta,
    #[serde(deserialize_with = "de::opt_str")]
    value: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    default: Option<String>,
    status: GenericStatus,
}

/// A Setting: `value` and `default` at the top level.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingView {
    pub value: Option<String>,
    pub default: Option<String>,
}

impl SettingView {
    /// The value in effect: `value`, or `default` when unset.
    pub fn effective(&self) -> Option<&str> {
        self.value.as_deref().or(self.default.as_deref())
    }
}

// ---------------------------------------------------------------- PersistentVolume

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PvSpec {
    claim_ref: Option<EventRef>,
    #[serde(deserialize_with = "de::opt_str")]
    storage_class_name: Option<String>,
}

/// A PersistentVolume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PvView {
    /// Namespace of the bound claim.
    pub claim_namespace: Option<String>,
    /// Name of the bound claim.
    pub claim_name: Option<String>,
    /// Storage class.
    pub storage_class: Option<String>,
}

// ---------------------------------------------------------------- decoding

/// Which YAML parser [`decode_with`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YamlPath {
    /// The fast path ([`super::fastyaml`]) first, `yaml_serde` when it declines (what
    /// [`decode`] does).
    #[default]
    Auto,
    /// `yaml_serde` only.
    Slow,
    /// The fast path only: an item it declines fails to decode (for tests and measurements).
    Fast,
}

thread_local! {
    /// The parser [`parse`] uses on this thread; set only for the duration of [`decode_with`].
    static YAML_PATH: std::cell::Cell<YamlPath> = const { std::cell::Cell::new(YamlPath::Auto) };
}

/// Every item is decoded here: the fast path for the generator's block YAML, else
/// `yaml_serde` (which then gives the result or the error, exactly as before the fast path).
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, yaml_serde::Error> {
    let path = YAML_PATH.with(std::cell::Cell::get);
    if path != YamlPath::Slow {
        if let Some(v) = super::fastyaml::from_str(text) {
            return Ok(v);
        }
        if path == YamlPath::Fast {
            return Err(serde::de::Error::custom("declined by the fast YAML path"));
        }
    }
    yaml_serde::from_str(text)
}

/// [`decode`] with the YAML parser chosen: [`YamlPath::Slow`] and [`YamlPath::Fast`] let tests
/// check that both parsers give the same views.
pub fn decode_with(
    kind: &str,
    group: &str,
    text: &str,
    path: YamlPath,
) -> Result<Decoded, yaml_serde::Error> {
    struct Restore(YamlPath);
    impl Drop for Restore {
        fn drop(&mut self) {
            YAML_PATH.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(YAML_PATH.with(|p| p.replace(path)));
    decode(kind, group, text)
}

/// Decodes one item's YAML text. `kind` (read textually beforehand) picks the view.
pub fn decode(kind: &str, group: &str, text: &str) -> Result<Decoded, yaml_serde::Error> {
    Ok(match (group, kind) {
        ("", "Pod") => {
            let d: Doc<PodSpec, PodStatus> = parse(text)?;
            let s = d.status;
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: StatusFields {
                    conditions: s.conditions,
                    phase: s.phase,
                    ..StatusFields::default()
                }
                .into(),
                view: View::Pod(Box::new(PodView {
                    node_name: d.spec.node_name,
                    claims: d
                        .spec
                        .volumes
                        .into_iter()
                        .filter_map(|v| v.persistent_volume_claim.map(|c| c.claim_name))
                        .filter(|c| !c.is_empty())
                        .collect(),
                    containers: d.spec.containers,
                    init_containers: d.spec.init_containers,
                    reason: s.reason,
                    message: s.message,
                    pod_ip: s.pod_ip,
                    host_ip: s.host_ip,
                    start_time: s.start_time,
                    container_statuses: s.container_statuses,
                    init_container_statuses: s.init_container_statuses,
                })),
            }
        }
        ("", "Node") => {
            let d: Doc<NodeSpec, NodeStatus> = parse(text)?;
            let s = d.status;
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: StatusFields {
                    conditions: s.conditions,
                    ..StatusFields::default()
                }
                .into(),
                view: View::Node(Box::new(NodeView {
                    unschedulable: d.spec.unschedulable.unwrap_or(false),
                    taints: d.spec.taints,
                    addresses: s.addresses,
                    kubelet_version: s.node_info.kubelet_version,
                    os_image: s.node_info.os_image,
                    kernel_version: s.node_info.kernel_version,
                    container_runtime_version: s.node_info.container_runtime_version,
                    capacity: s.capacity,
                    allocatable: s.allocatable,
                })),
            }
        }
        ("apps" | "extensions", "DaemonSet" | "Deployment" | "StatefulSet" | "ReplicaSet") => {
            let d: Doc<WorkloadSpec, WorkloadStatus> = parse(text)?;
            let s = d.status;
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: StatusFields {
                    conditions: s.conditions,
                    observed_generation: s.observed_generation,
                    ..StatusFields::default()
                }
                .into(),
                view: View::Workload(Box::new(WorkloadView {
                    spec_replicas: d.spec.replicas,
                    selector: d.spec.selector.match_labels,
                    containers: d.spec.template.spec.containers,
                    paused: d.spec.paused.unwrap_or(false),
                    replicas: s.replicas,
                    ready_replicas: s.ready_replicas,
                    available_replicas: s.available_replicas,
                    updated_replicas: s.updated_replicas,
                    unavailable_replicas: s.unavailable_replicas,
                    current_replicas: s.current_replicas,
                    desired_number_scheduled: s.desired_number_scheduled,
                    current_number_scheduled: s.current_number_scheduled,
                    number_ready: s.number_ready,
                    number_available: s.number_available,
                    number_unavailable: s.number_unavailable,
                    number_misscheduled: s.number_misscheduled,
                    updated_number_scheduled: s.updated_number_scheduled,
                    fully_labeled_replicas: s.fully_labeled_replicas,
                    progress_deadline_seconds: d.spec.progress_deadline_seconds,
                    update_strategy: d.spec.update_strategy.kind,
                    partition: d.spec.update_strategy.rolling_update.partition,
                    current_revision: s.current_revision,
                    update_revision: s.update_revision,
                })),
            }
        }
        ("batch", "Job") => {
            let d: Doc<JobSpec, JobStatus> = parse(text)?;
            let s = d.status;
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: StatusFields {
                    conditions: s.conditions,
                    ..StatusFields::default()
                }
                .into(),
                view: View::Job(Box::new(JobView {
                    completions: d.spec.completions,
                    parallelism: d.spec.parallelism,
                    backoff_limit: d.spec.backoff_limit,
                    containers: d.spec.template.spec.containers,
                    active: s.active,
                    succeeded: s.succeeded,
                    failed: s.failed,
                    start_time: s.start_time,
                    completion_time: s.completion_time,
                })),
            }
        }
        ("", "Service") => {
            let d: Doc<ServiceSpec, ServiceStatus> = parse(text)?;
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: d.status.generic.common(),
                view: View::Service(Box::new(ServiceView {
                    lb_ingress: d.status.load_balancer.ingress.len(),
                    kind: d.spec.kind,
                    cluster_ip: d.spec.cluster_ip,
                    external_ips: d.spec.external_ips,
                    ports: d.spec.ports,
                    selector: d.spec.selector,
                })),
            }
        }
        ("" | "events.k8s.io", "Event") => {
            let d: EventDoc = parse(text)?;
            let regarding = d.involved_object.or(d.regarding).unwrap_or_default();
            let count = d
                .count
                .or(d.deprecated_count)
                .or(d.series.as_ref().and_then(|s| s.count))
                .unwrap_or(1);
            let last = d
                .series
                .as_ref()
                .and_then(|s| s.last_observed_time.clone())
                .or(d.last_timestamp)
                .or(d.deprecated_last_timestamp)
                .or(d.event_time.clone());
            let first = d
                .first_timestamp
                .or(d.deprecated_first_timestamp)
                .or(d.event_time);
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: CommonStatus::default(),
                view: View::Event(Box::new(EventView {
                    kind: d.kind_of_event,
                    reason: d.reason,
                    message: d.message.or(d.note),
                    regarding,
                    count,
                    first,
                    last,
                })),
            }
        }
        ("", "PersistentVolume") => {
            let d: Doc<PvSpec, GenericStatus> = parse(text)?;
            let claim = d.spec.claim_ref.unwrap_or_default();
            let nonempty = |s: String| (!s.is_empty()).then_some(s);
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: d.status.common(),
                view: View::PersistentVolume(Box::new(PvView {
                    claim_namespace: nonempty(claim.namespace),
                    claim_name: nonempty(claim.name),
                    storage_class: d.spec.storage_class_name,
                })),
            }
        }
        ("fleet.cattle.io", "Bundle" | "BundleDeployment" | "Cluster" | "GitRepo")
        | ("management.cattle.io", "ManagedChart") => {
            let mut d: Doc<super::fleet::FleetSpec, super::fleet::FleetStatus> = parse(text)?;
            let conditions = std::mem::take(&mut d.status.conditions);
            let observed_generation = d.status.observed_generation;
            let view = super::fleet::FleetView::from_parts(d.spec, d.status);
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: StatusFields {
                    conditions,
                    observed_generation,
                    state: view.display.get("state").cloned(),
                    own_summary: view.own_summary(),
                    ..StatusFields::default()
                }
                .into(),
                view: View::Fleet(Box::new(view)),
            }
        }
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
        ) => {
            let d: WebhookDoc = parse(text)?;
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: CommonStatus::default(),
                view: View::Webhooks(Box::new(WebhookConfigView {
                    webhooks: d.webhooks.into_iter().map(Webhook::from_json).collect(),
                })),
            }
        }
        (g, k) if TREE_KINDS.contains(&(g, k)) => {
            let mut v: serde_json::Value = parse(text)?;
            // The metadata lives in `meta` only: the tree keeps the rest (labels and
            // annotations held twice were a third of a tree's memory).
            let meta = v
                .as_object_mut()
                .and_then(|m| m.remove("metadata"))
                .and_then(|m| Meta::deserialize(m).ok())
                .unwrap_or_default();
            let status = v
                .get("status")
                .and_then(|st| GenericStatus::deserialize(st).ok())
                .unwrap_or_default()
                .common();
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            Decoded {
                api_version: s("apiVersion"),
                kind: s("kind"),
                meta,
                status,
                view: View::Tree(Box::new(super::tree::Tree::from_bundle(v))),
            }
        }
        (_, "Setting") => {
            let d: SettingDoc = parse(text)?;
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status: d.status.common(),
                view: View::Setting(Box::new(SettingView {
                    value: d.value,
                    default: d.default,
                })),
            }
        }
        _ => {
            let d: Doc<GenericSpec, GenericStatus> = parse(text)?;
            let mut status = d.status.common();
            if d.spec.active.is_some() {
                status.spec_active = d.spec.active;
            }
            Decoded {
                api_version: d.api_version,
                kind: d.kind,
                meta: d.metadata,
                status,
                view: View::Generic,
            }
        }
    })
}

/// Decodes only the generic part, used when a kind-specific decode fails on odd data.
pub fn decode_generic(text: &str) -> Result<Decoded, yaml_serde::Error> {
    decode("", "", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_view() {
        let y = r#"
apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: ns
spec:
  containers:
  - image: img:1
    name: c
  nodeName: n1
status:
  conditions:
  - lastProbeTime: "null"
    status: "True"
    type: Ready
  containerStatuses:
  - name: c
    ready: false
    restartCount: 4
    state:
      waiting:
        reason: CrashLoopBackOff
  phase: Running
  podIP: 10.0.0.1
"#;
        let d = decode("Pod", "", y).unwrap();
        let View::Pod(p) = &d.view else { panic!() };
        assert_eq!(p.node_name.as_deref(), Some("n1"));
        assert_eq!(p.ready_count(), (0, 1));
        assert_eq!(p.restarts(), 4);
        assert_eq!(
            p.display_status(d.status.phase.as_deref(), false),
            "CrashLoopBackOff"
        );
        assert_eq!(
            p.display_status(d.status.phase.as_deref(), true),
            "Terminating"
        );
    }

    #[test]
    fn events_from_both_groups_look_alike() {
        let core = "apiVersion: v1\nkind: Event\nmetadata:\n  name: e\n  namespace: default\n  uid: u\ncount: 3\nfirstTimestamp: \"2022-03-06T23:09:58Z\"\nlastTimestamp: \"2022-03-06T23:10:58Z\"\neventTime: \"null\"\ninvolvedObject:\n  kind: Pod\n  name: p\n  namespace: default\nmessage: hello\nreason: Pulled\nsource:\n  component: kubelet\ntype: Normal\n";
        let new = "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata:\n  name: e\n  namespace: default\n  uid: u\ndeprecatedCount: 3\ndeprecatedFirstTimestamp: \"2022-03-06T23:09:58Z\"\ndeprecatedLastTimestamp: \"2022-03-06T23:10:58Z\"\neventTime: \"null\"\nregarding:\n  kind: Pod\n  name: p\n  namespace: default\nnote: hello\nreason: Pulled\ndeprecatedSource:\n  component: kubelet\ntype: Normal\n";
        let a = decode("Event", "", core).unwrap();
        let b = decode("Event", "events.k8s.io", new).unwrap();
        assert_eq!(a.view, b.view);
        let View::Event(e) = a.view else { panic!() };
        assert_eq!(e.count, 3);
        assert_eq!(e.message.as_deref(), Some("hello"));
        assert_eq!(e.last.as_deref(), Some("2022-03-06T23:10:58Z"));
    }

    #[test]
    fn workload_counts_from_floats() {
        let y = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: d\nspec:\n  selector:\n    matchLabels:\n      app: x\nstatus:\n  desiredNumberScheduled: 7\n  numberAvailable: 6\n  observedGeneration: 1e+06\n";
        let d = decode("DaemonSet", "apps", y).unwrap();
        let View::Workload(w) = d.view else { panic!() };
        assert_eq!(w.desired_number_scheduled, Some(7));
        assert_eq!(w.number_available, Some(6));
        assert_eq!(d.status.observed_generation, Some(1_000_000));
        assert_eq!(w.selector["app"], "x");
    }

    #[test]
    fn setting_value() {
        let y = "apiVersion: harvesterhci.io/v1beta1\nkind: Setting\nmetadata:\n  name: server-version\nvalue: v1.4.0\ndefault: \"null\"\n";
        let d = decode("Setting", "harvesterhci.io", y).unwrap();
        let View::Setting(s) = d.view else { panic!() };
        assert_eq!(s.effective(), Some("v1.4.0"));
    }
}
