//! The Service view: type, cluster IP, external IPs, ports, selector, load-balancer
//! ingresses.
use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::generic::GenericStatus;
use super::{Decoded, Doc, View, parse};
use crate::model::de;

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

/// Decodes a Service.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: Doc<ServiceSpec, ServiceStatus> = parse(text)?;
    Ok(Decoded {
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
    })
}
