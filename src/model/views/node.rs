//! The Node view: schedulability, taints, addresses, node info, capacity.
use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Decoded, Doc, StatusFields, View, parse};
use crate::model::{Condition, de};

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

/// Decodes a Node.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: Doc<NodeSpec, NodeStatus> = parse(text)?;
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
    })
}
