//! Per-kind typed views, decoded straight from one item's YAML text (never from a generic
//! tree): only the fields rules and queries use are kept. Kinds without a dedicated view keep
//! their metadata and common status (conditions, phase, state).
//!
//! One file per view (`pod.rs`, `node.rs`, `workload.rs`, `job.rs`, `service.rs`, `event.rs`,
//! `setting.rs`, `pv.rs`, `webhook.rs`; Fleet objects in `fleet.rs`, kinds kept whole in
//! `tree_kinds.rs`, the common status in `generic.rs`), each with its decoder; [`decode`]
//! picks one by group and kind.
mod event;
mod fleet;
mod generic;
mod job;
mod node;
mod pod;
mod pv;
mod service;
mod setting;
mod tree_kinds;
mod webhook;
mod workload;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{Condition, Meta, de};

pub use event::{EventRef, EventView};
pub use job::JobView;
pub use node::{Address, NodeView, Taint};
pub use pod::{ContainerSpec, ContainerState, ContainerStatus, PodView, Requests, StateDetail};
pub use pv::PvView;
pub use service::{ServicePort, ServiceView};
pub use setting::SettingView;
pub use webhook::{Webhook, WebhookConfigView};
pub use workload::WorkloadView;

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
/// VMs, CAPI clusters and machines, SUC plans, PodDisruptionBudgets). The Longhorn, KubeVirt,
/// Harvester and CAPI ones are read through their typed views ([`super::typed`]).
pub const TREE_KINDS: &[(&str, &str)] = &[
    ("harvesterhci.io", "Upgrade"),
    ("harvesterhci.io", "Version"),
    ("harvesterhci.io", "VirtualMachineBackup"),
    ("harvesterhci.io", "ScheduleVMBackup"),
    ("harvesterhci.io", "Addon"),
    ("harvesterhci.io", "UpgradeLog"),
    ("management.harvesterhci.io", "UpgradePlan"),
    ("harvesterhci.io", "VirtualMachineImage"),
    ("harvesterhci.io", "BlockDevice"),
    ("longhorn.io", "Volume"),
    ("longhorn.io", "Engine"),
    ("longhorn.io", "Replica"),
    ("longhorn.io", "Node"),
    ("longhorn.io", "BackingImage"),
    ("longhorn.io", "BackingImageManager"),
    ("longhorn.io", "InstanceManager"),
    ("storage.k8s.io", "VolumeAttachment"),
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
    match (group, kind) {
        ("", "Pod") => pod::decode(text),
        ("", "Node") => node::decode(text),
        ("apps" | "extensions", "DaemonSet" | "Deployment" | "StatefulSet" | "ReplicaSet") => {
            workload::decode(text)
        }
        ("batch", "Job") => job::decode(text),
        ("", "Service") => service::decode(text),
        ("" | "events.k8s.io", "Event") => event::decode(text),
        ("", "PersistentVolume") => pv::decode(text),
        ("fleet.cattle.io", "Bundle" | "BundleDeployment" | "Cluster" | "GitRepo")
        | ("management.cattle.io", "ManagedChart") => fleet::decode(text),
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
        ) => webhook::decode(text),
        (g, k) if TREE_KINDS.contains(&(g, k)) => tree_kinds::decode(text),
        (_, "Setting") => setting::decode(text),
        _ => generic::decode(text),
    }
}

/// Decodes only the generic part, used when a kind-specific decode fails on odd data.
pub fn decode_generic(text: &str) -> Result<Decoded, yaml_serde::Error> {
    decode("", "", text)
}
