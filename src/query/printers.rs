//! kubectl's columns for the built-in kinds whose cells read plainly from the object as
//! captured (config maps, secrets, namespaces, RBAC, storage classes, leases, CRDs…), as the
//! API server's `printers.go` defines them, for the column model ([`super::columns`]). The
//! kinds with typed views (pods, nodes, workloads, jobs, services, events) are in
//! [`super::columns`] itself.
use serde_json::Value;

use super::columns::{Column, ColumnType, labels_text};
use super::jsonpath;

/// A built-in kind with columns of its own here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    ConfigMap,
    Secret,
    Namespace,
    ServiceAccount,
    Endpoints,
    LimitRange,
    StorageClass,
    VolumeAttachment,
    CsiNode,
    Lease,
    CustomResourceDefinition,
    Role,
    RoleBinding,
    ControllerRevision,
    WebhookConfiguration,
    ApiService,
    IngressClass,
    RuntimeClass,
    EndpointSlice,
    CronJob,
}

impl Builtin {
    /// The built-in kind of `group`/`kind`, when it has columns here.
    pub fn of(group: &str, kind: &str) -> Option<Builtin> {
        use Builtin::*;
        Some(match (group, kind) {
            ("", "ConfigMap") => ConfigMap,
            ("", "Secret") => Secret,
            ("", "Namespace") => Namespace,
            ("", "ServiceAccount") => ServiceAccount,
            ("", "Endpoints") => Endpoints,
            ("", "LimitRange") => LimitRange,
            ("storage.k8s.io", "StorageClass") => StorageClass,
            ("storage.k8s.io", "VolumeAttachment") => VolumeAttachment,
            ("storage.k8s.io", "CSINode") => CsiNode,
            ("coordination.k8s.io", "Lease") => Lease,
            ("apiextensions.k8s.io", "CustomResourceDefinition") => CustomResourceDefinition,
            ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => Role,
            ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => RoleBinding,
            ("apps", "ControllerRevision") => ControllerRevision,
            (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
            ) => WebhookConfiguration,
            ("apiregistration.k8s.io", "APIService") => ApiService,
            ("networking.k8s.io", "IngressClass") => IngressClass,
            ("node.k8s.io", "RuntimeClass") => RuntimeClass,
            ("discovery.k8s.io", "EndpointSlice") => EndpointSlice,
            ("batch", "CronJob") => CronJob,
            _ => return None,
        })
    }
}

/// The columns after NAME (which the column model adds).
pub fn columns(b: Builtin) -> Vec<Column> {
    use Builtin::*;
    use ColumnType::{Boolean, Date, Integer, String as Text};
    let c = |n: &str, t: ColumnType, p: u8, d: &str| Column::new(n, t, p, d);
    let age = || c("Age", Text, 0, "Time since the object was created.");
    let created = || {
        // A timestamp as written (RFC 3339), not an age: kubectl's "Created At".
        Column {
            format: "date",
            ..c("Created At", Date, 0, "When the object was created.")
        }
    };
    match b {
        ConfigMap => vec![c("Data", Integer, 0, "Number of data entries."), age()],
        Secret => vec![
            c("Type", Text, 0, "Secret type."),
            c("Data", Integer, 0, "Number of data entries."),
            age(),
        ],
        Namespace => vec![c("Status", Text, 0, "The status of the namespace."), age()],
        ServiceAccount => vec![c("Secrets", Integer, 0, "Number of secrets listed."), age()],
        Endpoints => vec![c("Endpoints", Text, 0, "Addresses and ports."), age()],
        LimitRange | Role => vec![created()],
        CustomResourceDefinition => vec![created()],
        StorageClass => vec![
            c("Provisioner", Text, 0, "The volume provisioner."),
            c(
                "ReclaimPolicy",
                Text,
                0,
                "What happens to released volumes.",
            ),
            c("VolumeBindingMode", Text, 0, "When volumes are bound."),
            c(
                "AllowVolumeExpansion",
                Boolean,
                0,
                "Whether volumes may grow.",
            ),
            age(),
        ],
        VolumeAttachment => vec![
            c("Attacher", Text, 0, "The CSI driver that attaches."),
            c("PV", Text, 0, "The PersistentVolume attached."),
            c("Node", Text, 0, "The node attached to."),
            c("Attached", Boolean, 0, "Whether the attach succeeded."),
            age(),
        ],
        CsiNode => vec![c("Drivers", Integer, 0, "CSI drivers on the node."), age()],
        Lease => vec![c("Holder", Text, 0, "Holder of the lease."), age()],
        RoleBinding => vec![
            c("Role", Text, 0, "Kind/name of the role bound."),
            age(),
            c("Users", Text, 1, "Users bound."),
            c("Groups", Text, 1, "Groups bound."),
            c("ServiceAccounts", Text, 1, "Service accounts bound."),
        ],
        ControllerRevision => vec![
            c(
                "Controller",
                Text,
                0,
                "The controller that owns the revision.",
            ),
            c("Revision", Integer, 0, "Revision number."),
            age(),
        ],
        WebhookConfiguration => vec![c("Webhooks", Integer, 0, "Number of webhooks."), age()],
        ApiService => vec![
            c("Service", Text, 0, "The service serving the API, or Local."),
            c("Available", Text, 0, "The Available condition."),
            age(),
        ],
        IngressClass => vec![
            c("Controller", Text, 0, "The controller of the class."),
            c("Parameters", Text, 0, "The parameters object."),
            age(),
        ],
        RuntimeClass => vec![c("Handler", Text, 0, "The CRI handler."), age()],
        EndpointSlice => vec![
            c("AddressType", Text, 0, "Type of the addresses."),
            c("Ports", Text, 0, "Ports."),
            c("Endpoints", Text, 0, "Addresses."),
            age(),
        ],
        CronJob => vec![
            c("Schedule", Text, 0, "Cron schedule."),
            c("Timezone", Text, 0, "Time zone of the schedule."),
            c("Suspend", Boolean, 0, "Whether runs are suspended."),
            c("Active", Integer, 0, "Running jobs."),
            c(
                "Last Schedule",
                Text,
                0,
                "Time since the last run was scheduled.",
            ),
            age(),
            c(
                "Containers",
                Text,
                1,
                "Names of each container in the template.",
            ),
            c(
                "Images",
                Text,
                1,
                "Images referenced by each container in the template.",
            ),
            c("Selector", Text, 1, "Label selector of the jobs' pods."),
        ],
    }
}

/// The cells after NAME (the name itself too for storage classes, which mark the default).
/// `age` turns a timestamp into kubectl's age at the reference time.
pub fn cells(b: Builtin, j: &Value, age: &dyn Fn(Option<&str>) -> String) -> Vec<String> {
    use Builtin::*;
    let s = |p: &str| -> Option<String> {
        j.pointer(p)
            .filter(|v| !v.is_null() && v.as_str() != Some("null"))
            .map(jsonpath::text)
    };
    let len = |p: &str| -> usize {
        match j.pointer(p) {
            Some(Value::Object(m)) => m.len(),
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        }
    };
    let created_ts = s("/metadata/creationTimestamp");
    let created = age(created_ts.as_deref());
    let bool_text = |p: &str, default: bool| -> String {
        j.pointer(p)
            .and_then(Value::as_bool)
            .unwrap_or(default)
            .to_string()
    };
    match b {
        ConfigMap => vec![(len("/data") + len("/binaryData")).to_string(), created],
        Secret => vec![
            s("/type").unwrap_or_default(),
            len("/data").to_string(),
            created,
        ],
        Namespace => vec![s("/status/phase").unwrap_or_default(), created],
        ServiceAccount => vec![len("/secrets").to_string(), created],
        Endpoints => vec![endpoints(j), created],
        LimitRange | Role | CustomResourceDefinition => vec![created_ts.unwrap_or_default()],
        StorageClass => vec![
            s("/provisioner").unwrap_or_default(),
            s("/reclaimPolicy").unwrap_or_else(|| "Delete".into()),
            s("/volumeBindingMode").unwrap_or_else(|| "Immediate".into()),
            bool_text("/allowVolumeExpansion", false),
            created,
        ],
        VolumeAttachment => vec![
            s("/spec/attacher").unwrap_or_default(),
            s("/spec/source/persistentVolumeName").unwrap_or_default(),
            s("/spec/nodeName").unwrap_or_default(),
            bool_text("/status/attached", false),
            created,
        ],
        CsiNode => vec![len("/spec/drivers").to_string(), created],
        Lease => vec![s("/spec/holderIdentity").unwrap_or_default(), created],
        RoleBinding => {
            let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
            for x in j
                .pointer("/subjects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let f = |k: &str| x.get(k).and_then(Value::as_str).unwrap_or_default();
                match f("kind") {
                    "User" => users.push(f("name").to_string()),
                    "Group" => groups.push(f("name").to_string()),
                    "ServiceAccount" => sas.push(format!("{}/{}", f("namespace"), f("name"))),
                    _ => {}
                }
            }
            vec![
                format!(
                    "{}/{}",
                    s("/roleRef/kind").unwrap_or_default(),
                    s("/roleRef/name").unwrap_or_default()
                ),
                created,
                users.join(", "),
                groups.join(", "),
                sas.join(", "),
            ]
        }
        ControllerRevision => {
            let controller = j
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|o| {
                    o.iter()
                        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
                })
                .map(|r| {
                    let f = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
                    let group = f("apiVersion").rsplit_once('/').map(|(g, _)| g);
                    let kind = f("kind").to_lowercase();
                    match group {
                        Some(g) => format!("{kind}.{g}/{}", f("name")),
                        None => format!("{kind}/{}", f("name")),
                    }
                })
                .unwrap_or_else(|| "<none>".into());
            vec![
                controller,
                integer(s("/revision")).unwrap_or_default(),
                created,
            ]
        }
        WebhookConfiguration => vec![len("/webhooks").to_string(), created],
        ApiService => {
            let service = match (s("/spec/service/namespace"), s("/spec/service/name")) {
                (Some(ns), Some(n)) => format!("{ns}/{n}"),
                _ => "Local".into(),
            };
            let available = j
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| {
                    c.iter()
                        .find(|x| x.get("type").and_then(Value::as_str) == Some("Available"))
                })
                .map(|c| {
                    let f = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default();
                    if f("status") == "True" {
                        "True".to_string()
                    } else {
                        format!("{} ({})", f("status"), f("reason"))
                    }
                })
                .unwrap_or_else(|| "Unknown".into());
            vec![service, available, created]
        }
        IngressClass => {
            let parameters = match (s("/spec/parameters/kind"), s("/spec/parameters/name")) {
                (Some(k), Some(n)) => match s("/spec/parameters/apiGroup") {
                    Some(g) => format!("{k}.{g}/{n}"),
                    None => format!("{k}/{n}"),
                },
                _ => "<none>".into(),
            };
            vec![
                s("/spec/controller").unwrap_or_default(),
                parameters,
                created,
            ]
        }
        RuntimeClass => vec![s("/handler").unwrap_or_default(), created],
        EndpointSlice => {
            let ports: Vec<String> = j
                .pointer("/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    integer(p.get("port").map(jsonpath::text)).unwrap_or_else(|| "<unset>".into())
                })
                .collect();
            let addresses: Vec<String> = j
                .pointer("/endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("addresses").and_then(Value::as_array))
                .flatten()
                .map(jsonpath::text)
                .collect();
            vec![
                s("/addressType").unwrap_or_default(),
                first_three(&ports),
                first_three(&addresses),
                created,
            ]
        }
        CronJob => {
            let containers = j
                .pointer("/spec/jobTemplate/spec/template/spec/containers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let names = |k: &str| -> String {
                containers
                    .iter()
                    .filter_map(|c| c.get(k).and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            vec![
                s("/spec/schedule").unwrap_or_default(),
                s("/spec/timeZone").unwrap_or_else(|| "<none>".into()),
                bool_text("/spec/suspend", false),
                len("/status/active").to_string(),
                match s("/status/lastScheduleTime") {
                    Some(t) => age(Some(&t)),
                    None => "<none>".into(),
                },
                created,
                names("name"),
                names("image"),
                labels_text(j.pointer("/spec/jobTemplate/spec/selector/matchLabels")),
            ]
        }
    }
}

/// Whether a storage class is the default one (kubectl adds ` (default)` to its name).
pub fn is_default_class(b: Builtin, j: &Value) -> bool {
    b == Builtin::StorageClass
        && [
            "/metadata/annotations/storageclass.kubernetes.io~1is-default-class",
            "/metadata/annotations/storageclass.beta.kubernetes.io~1is-default-class",
        ]
        .iter()
        .any(|p| j.pointer(p).and_then(Value::as_str) == Some("true"))
}

/// A number as an integer (the generator writes some as floats: `3.0`).
fn integer(v: Option<String>) -> Option<String> {
    v.map(|t| match t.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && f.abs() < 9e15 => (f as i64).to_string(),
        _ => t,
    })
}

/// The first `n` values, comma-separated.
fn first(v: &[String], n: usize) -> String {
    v.iter().take(n).cloned().collect::<Vec<_>>().join(",")
}

/// kubectl's list of at most three values, `a,b,c + N more...`, `<unset>` when empty.
fn first_three(v: &[String]) -> String {
    match v.len() {
        0 => "<unset>".into(),
        n if n > 3 => format!("{} + {} more...", first(v, 3), n - 3),
        _ => v.join(","),
    }
}

/// kubectl's ENDPOINTS cell: `ip:port` for each port of each subset, at most three, then
/// `+ N more...`; bare addresses for a subset without ports; `<none>` without subsets.
fn endpoints(j: &Value) -> String {
    let Some(subsets) = j
        .pointer("/subsets")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
    else {
        return "<none>".into();
    };
    let (mut list, mut count) = (Vec::new(), 0usize);
    for ss in subsets {
        let addrs: Vec<String> = ss
            .get("addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("ip").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        let ports: Vec<String> = ss
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| integer(p.get("port").map(jsonpath::text)))
            .collect();
        if ports.is_empty() {
            count += addrs.len();
            list.extend(addrs.iter().cloned());
            continue;
        }
        for p in &ports {
            count += addrs.len();
            list.extend(addrs.iter().map(|a| {
                if a.contains(':') {
                    format!("[{a}]:{p}")
                } else {
                    format!("{a}:{p}")
                }
            }));
        }
    }
    if count > 3 {
        format!("{} + {} more...", first(&list, 3), count - 3)
    } else {
        list.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoints_print_as_kubectl() {
        let one =
            json!({"subsets": [{"addresses": [{"ip": "10.52.0.5"}], "ports": [{"port": 443}]}]});
        assert_eq!(endpoints(&one), "10.52.0.5:443");
        let many = json!({"subsets": [{"addresses": [{"ip": "a"}, {"ip": "b"}], "ports": [{"port": 1}, {"port": 2.0}]}]});
        assert_eq!(endpoints(&many), "a:1,b:1,a:2 + 1 more...");
        assert_eq!(endpoints(&json!({})), "<none>");
    }

    #[test]
    fn cells_read_the_object() {
        let age = |t: Option<&str>| t.map(|_| "5d".to_string()).unwrap_or_default();
        let cm = json!({"metadata": {"creationTimestamp": "2025-01-01T00:00:00Z"}, "data": {"a": "1", "b": "2"}});
        assert_eq!(cells(Builtin::ConfigMap, &cm, &age), ["2", "5d"]);
        let rb = json!({"roleRef": {"kind": "ClusterRole", "name": "admin"}, "subjects": [
            {"kind": "ServiceAccount", "namespace": "x", "name": "y"}, {"kind": "User", "name": "u"}]});
        assert_eq!(
            cells(Builtin::RoleBinding, &rb, &age),
            ["ClusterRole/admin", "", "u", "", "x/y"]
        );
        let crd = json!({"metadata": {"creationTimestamp": "2025-01-01T00:00:00Z"}});
        assert_eq!(
            cells(Builtin::CustomResourceDefinition, &crd, &age),
            ["2025-01-01T00:00:00Z"]
        );
        assert_eq!(columns(Builtin::Secret).len(), 3);
    }
}
