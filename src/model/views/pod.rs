//! The Pod view: node, mounted claims, containers and their statuses, and kubectl's
//! readiness, restart and STATUS columns.
use serde::Deserialize;

use super::{Decoded, Doc, StatusFields, View, parse};
use crate::model::{Condition, de};

/// A container in a pod spec.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainerSpec {
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub image: String,
    /// `resources.requests`, as the scheduler reads them.
    #[serde(rename = "resources")]
    pub requests: Requests,
}

/// A container's `resources.requests` (CPU in millicores, memory in bytes), or a pod's total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    /// CPU, millicores.
    pub cpu: Option<u64>,
    /// Memory, bytes.
    pub memory: Option<u64>,
}

impl<'de> Deserialize<'de> for Requests {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Quantities {
            #[serde(deserialize_with = "de::opt_str")]
            cpu: Option<String>,
            #[serde(deserialize_with = "de::opt_str")]
            memory: Option<String>,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Resources {
            requests: Option<Quantities>,
        }
        let r = Option::<Resources>::deserialize(d)?
            .unwrap_or_default()
            .requests
            .unwrap_or_default();
        Ok(Requests {
            cpu: r
                .cpu
                .as_deref()
                .and_then(crate::model::quantity::millicores),
            memory: r.memory.as_deref().and_then(crate::model::quantity::bytes),
        })
    }
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
pub(super) struct PodSpec {
    #[serde(deserialize_with = "de::opt_str")]
    node_name: Option<String>,
    #[serde(deserialize_with = "de::lenient_vec")]
    volumes: Vec<Volume>,
    #[serde(deserialize_with = "de::lenient_vec")]
    pub(super) containers: Vec<ContainerSpec>,
    #[serde(deserialize_with = "de::lenient_vec")]
    init_containers: Vec<ContainerSpec>,
}

/// A pod template (`spec.template` of workloads and Jobs): only its pod spec is read.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct TemplateSpec {
    pub(super) spec: PodSpec,
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
    /// What the scheduler reserves for the pod: the sum of its containers' requests, or the
    /// largest init container's when that is more (`spec.overhead` is not read).
    pub fn requests(&self) -> Requests {
        let sum = |f: fn(&Requests) -> Option<u64>| -> Option<u64> {
            let apps: Option<u64> = self
                .containers
                .iter()
                .filter_map(|c| f(&c.requests))
                .reduce(|a, b| a.saturating_add(b));
            let init = self
                .init_containers
                .iter()
                .filter_map(|c| f(&c.requests))
                .max();
            match (apps, init) {
                (Some(a), Some(i)) => Some(a.max(i)),
                (a, i) => a.or(i),
            }
        };
        Requests {
            cpu: sum(|r| r.cpu),
            memory: sum(|r| r.memory),
        }
    }

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
            if let Some(r) = c.state.waiting.as_ref().and_then(|w| w.reason.as_deref())
                && r != "PodInitializing"
            {
                return format!("Init:{r}");
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

/// Decodes a Pod.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: Doc<PodSpec, PodStatus> = parse(text)?;
    let s = d.status;
    Ok(Decoded {
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
    })
}

#[cfg(test)]
mod tests {
    use crate::model::views::{View, decode};

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
}
