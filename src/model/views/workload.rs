//! The workload view of DaemonSets, Deployments, StatefulSets and ReplicaSets: replica
//! counters, selector, containers, update strategy and revisions.
use std::collections::BTreeMap;

use serde::Deserialize;

use super::pod::TemplateSpec;
use super::{ContainerSpec, Decoded, Doc, StatusFields, View, parse};
use crate::model::{Condition, de};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Selector {
    #[serde(deserialize_with = "de::str_map")]
    match_labels: BTreeMap<String, String>,
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

/// Decodes a DaemonSet, Deployment, StatefulSet or ReplicaSet.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: Doc<WorkloadSpec, WorkloadStatus> = parse(text)?;
    let s = d.status;
    Ok(Decoded {
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
    })
}

#[cfg(test)]
mod tests {
    use crate::model::views::{View, decode};

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
}
