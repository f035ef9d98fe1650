//! The Job view: completions, parallelism, back-off limit, and the active/succeeded/failed
//! counters with start and completion times.
use serde::Deserialize;

use super::pod::TemplateSpec;
use super::{ContainerSpec, Decoded, Doc, StatusFields, View, parse};
use crate::model::{Condition, de};

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

/// Decodes a Job.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: Doc<JobSpec, JobStatus> = parse(text)?;
    let s = d.status;
    Ok(Decoded {
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
    })
}
