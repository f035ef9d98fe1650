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
    Ingress,
    HorizontalPodAutoscaler,
    ResourceQuota,
    PriorityClass,
    CsiDriver,
    FlowSchema,
    PriorityLevelConfiguration,
    ReplicationController,
    CertificateSigningRequest,
    PodTemplate,
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
            ("networking.k8s.io" | "extensions", "Ingress") => Ingress,
            ("autoscaling", "HorizontalPodAutoscaler") => HorizontalPodAutoscaler,
            ("", "ResourceQuota") => ResourceQuota,
            ("scheduling.k8s.io", "PriorityClass") => PriorityClass,
            ("storage.k8s.io", "CSIDriver") => CsiDriver,
            ("flowcontrol.apiserver.k8s.io", "FlowSchema") => FlowSchema,
            ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration") => {
                PriorityLevelConfiguration
            }
            ("", "ReplicationController") => ReplicationController,
            ("certificates.k8s.io", "CertificateSigningRequest") => CertificateSigningRequest,
            ("", "PodTemplate") => PodTemplate,
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
        Ingress => vec![
            c("Class", Text, 0, "The IngressClass of the ingress."),
            c("Hosts", Text, 0, "Hosts the rules match."),
            c("Address", Text, 0, "Load-balancer ingress points."),
            c("Ports", Text, 0, "Ports open: 80, and 443 with TLS."),
            age(),
        ],
        HorizontalPodAutoscaler => vec![
            c("Reference", Text, 0, "Kind/name of the scaled object."),
            c("Targets", Text, 0, "Current/target of each metric."),
            c("MinPods", Text, 0, "Lower replica limit."),
            c("MaxPods", Integer, 0, "Upper replica limit."),
            c("Replicas", Integer, 0, "Current replicas."),
            age(),
        ],
        ResourceQuota => vec![
            c("Request", Text, 0, "Used/hard of each request quota."),
            c("Limit", Text, 0, "Used/hard of each limits quota."),
            age(),
        ],
        PriorityClass => vec![
            c("Value", Integer, 0, "The priority."),
            c(
                "Global-Default",
                Boolean,
                0,
                "Whether pods without a class get it.",
            ),
            age(),
            c(
                "PreemptionPolicy",
                Text,
                0,
                "Whether its pods preempt lower ones.",
            ),
        ],
        CsiDriver => vec![
            c(
                "AttachRequired",
                Boolean,
                0,
                "Whether volumes need an attach.",
            ),
            c("PodInfoOnMount", Boolean, 0, "Whether mounts get pod info."),
            c(
                "StorageCapacity",
                Boolean,
                0,
                "Whether the scheduler checks capacity.",
            ),
            c("TokenRequests", Text, 0, "Audiences of the tokens passed."),
            c(
                "RequiresRepublish",
                Boolean,
                0,
                "Whether mounts are redone.",
            ),
            c("Modes", Text, 0, "Volume lifecycle modes."),
            age(),
        ],
        FlowSchema => vec![
            c(
                "PriorityLevel",
                Text,
                0,
                "The priority level of matched requests.",
            ),
            c("MatchingPrecedence", Integer, 0, "Lower matches first."),
            c("DistinguisherMethod", Text, 0, "How flows are told apart."),
            age(),
            c(
                "MissingPL",
                Text,
                0,
                "Whether the priority level is missing (Dangling condition).",
            ),
        ],
        PriorityLevelConfiguration => vec![
            c("Type", Text, 0, "Exempt or Limited."),
            c("NominalConcurrencyShares", Text, 0, "Concurrency shares."),
            c("Queues", Text, 0, "Queues."),
            c("HandSize", Text, 0, "Queues a flow is dealt."),
            c("QueueLengthLimit", Text, 0, "Requests a queue holds."),
            age(),
        ],
        ReplicationController => vec![
            c("Desired", Integer, 0, "Desired replicas."),
            c("Current", Integer, 0, "Current replicas."),
            c("Ready", Integer, 0, "Ready replicas."),
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
            c("Selector", Text, 1, "Label selector of the pods."),
        ],
        CertificateSigningRequest => vec![
            age(),
            c("SignerName", Text, 0, "The signer requested."),
            c("Requestor", Text, 0, "Who asked."),
            c("RequestedDuration", Text, 0, "Validity asked for."),
            c(
                "Condition",
                Text,
                0,
                "Approved, Denied or Pending; Failed, Issued.",
            ),
        ],
        PodTemplate => vec![
            c(
                "Containers",
                Text,
                0,
                "Names of each container in the template.",
            ),
            c(
                "Images",
                Text,
                0,
                "Images referenced by each container in the template.",
            ),
            c("Pod Labels", Text, 0, "The labels of the pod template."),
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
        Ingress => vec![
            s("/spec/ingressClassName").unwrap_or_else(|| "<none>".into()),
            ingress_hosts(j),
            load_balancer(j),
            if len("/spec/tls") > 0 {
                "80, 443"
            } else {
                "80"
            }
            .into(),
            created,
        ],
        HorizontalPodAutoscaler => vec![
            format!(
                "{}/{}",
                s("/spec/scaleTargetRef/kind").unwrap_or_default(),
                s("/spec/scaleTargetRef/name").unwrap_or_default()
            ),
            hpa_targets(j),
            integer(s("/spec/minReplicas")).unwrap_or_else(|| "<unset>".into()),
            integer(s("/spec/maxReplicas")).unwrap_or_else(|| "0".into()),
            integer(s("/status/currentReplicas")).unwrap_or_else(|| "0".into()),
            created,
        ],
        ResourceQuota => {
            let (request, limit) = quota(j);
            vec![request, limit, created]
        }
        PriorityClass => vec![
            integer(s("/value")).unwrap_or_else(|| "0".into()),
            bool_text("/globalDefault", false),
            created,
            s("/preemptionPolicy").unwrap_or_default(),
        ],
        CsiDriver => {
            let modes: Vec<String> = j
                .pointer("/spec/volumeLifecycleModes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(jsonpath::text)
                .collect();
            let tokens = j
                .pointer("/spec/tokenRequests")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(|x| x.get("audience").map(jsonpath::text))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_else(|| "<unset>".into());
            vec![
                bool_text("/spec/attachRequired", true),
                bool_text("/spec/podInfoOnMount", false),
                bool_text("/spec/storageCapacity", false),
                tokens,
                bool_text("/spec/requiresRepublish", false),
                if modes.is_empty() {
                    "<none>".into()
                } else {
                    modes.join(",")
                },
                created,
            ]
        }
        FlowSchema => {
            let dangling = j
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| {
                    c.iter()
                        .find(|x| x.get("type").and_then(Value::as_str) == Some("Dangling"))
                })
                .and_then(|c| c.get("status").map(jsonpath::text))
                .unwrap_or_else(|| "?".into());
            vec![
                s("/spec/priorityLevelConfiguration/name").unwrap_or_default(),
                integer(s("/spec/matchingPrecedence")).unwrap_or_else(|| "0".into()),
                s("/spec/distinguisherMethod/type").unwrap_or_else(|| "<none>".into()),
                created,
                dangling,
            ]
        }
        PriorityLevelConfiguration => {
            let limited = j.pointer("/spec/limited").filter(|v| v.is_object());
            let none = || "<none>".to_string();
            let queuing = |k: &str| {
                limited
                    .and_then(|l| l.pointer(&format!("/limitResponse/queuing/{k}")))
                    .map(|v| integer(Some(jsonpath::text(v))).unwrap_or_default())
                    .unwrap_or_else(none)
            };
            // v1beta1/v1beta2 name the shares `assuredConcurrencyShares`.
            let shares = limited
                .and_then(|l| {
                    l.get("nominalConcurrencyShares")
                        .or_else(|| l.get("assuredConcurrencyShares"))
                })
                .map(|v| integer(Some(jsonpath::text(v))).unwrap_or_default())
                .unwrap_or_else(none);
            vec![
                s("/spec/type").unwrap_or_default(),
                shares,
                queuing("queues"),
                queuing("handSize"),
                queuing("queueLengthLimit"),
                created,
            ]
        }
        ReplicationController => {
            let (names, images) = template_containers(j.pointer("/spec/template/spec/containers"));
            vec![
                integer(s("/spec/replicas")).unwrap_or_else(|| "0".into()),
                integer(s("/status/replicas")).unwrap_or_else(|| "0".into()),
                integer(s("/status/readyReplicas")).unwrap_or_else(|| "0".into()),
                created,
                names,
                images,
                labels_text(j.pointer("/spec/selector")),
            ]
        }
        CertificateSigningRequest => vec![
            created,
            s("/spec/signerName")
                .filter(|x| !x.is_empty())
                .unwrap_or_else(|| "<none>".into()),
            s("/spec/username").unwrap_or_default(),
            j.pointer("/spec/expirationSeconds")
                .and_then(Value::as_f64)
                .map(|secs| human_duration(secs as i64))
                .unwrap_or_else(|| "<none>".into()),
            csr_condition(j),
        ],
        PodTemplate => {
            let (names, images) = template_containers(j.pointer("/template/spec/containers"));
            vec![
                names,
                images,
                labels_text(j.pointer("/template/metadata/labels")),
            ]
        }
    }
}

/// apimachinery's `duration.HumanDuration` (kubectl's REQUESTEDDURATION): `90s`, `5m30s`,
/// `24h`, `3d4h`, `400d`, `2y10d`.
fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        return match secs % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// kubectl's CONTAINERS and IMAGES cells of a pod template: names and images, comma-separated.
fn template_containers(cs: Option<&Value>) -> (String, String) {
    let cs = cs.and_then(Value::as_array).cloned().unwrap_or_default();
    let join = |k: &str| {
        cs.iter()
            .filter_map(|c| c.get(k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(",")
    };
    (join("name"), join("image"))
}

/// kubectl's HOSTS cell: the rules' hosts, at most three then `+ N more...`, `*` when none.
fn ingress_hosts(j: &Value) -> String {
    let rules = j
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (mut hosts, mut more) = (Vec::new(), false);
    for r in &rules {
        if hosts.len() == 3 {
            more = true;
        }
        if let Some(h) = r
            .get("host")
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty())
            && !more
        {
            hosts.push(h.to_string());
        }
    }
    if hosts.is_empty() {
        "*".into()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - 3)
    } else {
        hosts.join(",")
    }
}

/// kubectl's ADDRESS cell of an ingress: each load-balancer ingress's IP, else hostname,
/// sorted and de-duplicated (the server sends it whole; kubectl does not clip it then).
fn load_balancer(j: &Value) -> String {
    let mut set: Vec<String> = j
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let f = |k: &str| i.get(k).and_then(Value::as_str).filter(|x| !x.is_empty());
            f("ip").or_else(|| f("hostname")).map(str::to_owned)
        })
        .collect();
    set.sort();
    set.dedup();
    set.join(",")
}

/// kubectl's TARGETS cell of an HPA (`autoscaling/v2` metrics, or `v1`'s CPU target): at
/// most two `current/target`, then `+ N more...`; `<none>` without metrics. Quantities are
/// shown as captured.
fn hpa_targets(j: &Value) -> String {
    let text = |v: Option<&Value>| v.map(jsonpath::text);
    if let Some(target) = j.pointer("/spec/targetCPUUtilizationPercentage") {
        let current = text(j.pointer("/status/currentCPUUtilizationPercentage"))
            .map(|c| format!("{}%", integer(Some(c)).unwrap_or_default()))
            .unwrap_or_else(|| "<unknown>".into());
        return format!(
            "cpu: {current}/{}%",
            integer(Some(jsonpath::text(target))).unwrap_or_default()
        );
    }
    let specs = j
        .pointer("/spec/metrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if specs.is_empty() {
        return "<none>".into();
    }
    let statuses = j
        .pointer("/status/currentMetrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let unknown = || "<unknown>".to_string();
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let st = statuses.get(i);
            let cur = |src: &str, k: &str| {
                text(st.and_then(|s| s.pointer(&format!("/{src}/current/{k}"))))
            };
            let tgt = |src: &str, k: &str| text(spec.pointer(&format!("/{src}/target/{k}")));
            match spec.get("type").and_then(Value::as_str).unwrap_or_default() {
                t @ ("External" | "Object") => {
                    let src = if t == "External" {
                        "external"
                    } else {
                        "object"
                    };
                    match tgt(src, "averageValue") {
                        Some(avg) => format!(
                            "{}/{avg} (avg)",
                            cur(src, "averageValue").unwrap_or_else(unknown)
                        ),
                        None => format!(
                            "{}/{}",
                            cur(src, "value").unwrap_or_else(unknown),
                            tgt(src, "value").unwrap_or_default()
                        ),
                    }
                }
                "Pods" => format!(
                    "{}/{}",
                    cur("pods", "averageValue").unwrap_or_else(unknown),
                    tgt("pods", "averageValue").unwrap_or_default()
                ),
                t @ ("Resource" | "ContainerResource") => {
                    let src = if t == "Resource" {
                        "resource"
                    } else {
                        "containerResource"
                    };
                    let name = text(spec.pointer(&format!("/{src}/name"))).unwrap_or_default();
                    match tgt(src, "averageValue") {
                        Some(avg) => format!(
                            "{name}: {}/{avg}",
                            cur(src, "averageValue").unwrap_or_else(unknown)
                        ),
                        None => {
                            let pct = |v: Option<String>| {
                                v.map(|x| format!("{}%", integer(Some(x)).unwrap_or_default()))
                            };
                            format!(
                                "{name}: {}/{}",
                                pct(cur(src, "averageUtilization")).unwrap_or_else(unknown),
                                pct(tgt(src, "averageUtilization"))
                                    .unwrap_or_else(|| "<auto>".into())
                            )
                        }
                    }
                }
                _ => "<unknown type>".into(),
            }
        })
        .collect();
    if list.len() > 2 {
        format!(
            "{} + {} more...",
            list.iter().take(2).cloned().collect::<Vec<_>>().join(", "),
            list.len() - 2
        )
    } else {
        list.join(", ")
    }
}

/// kubectl's REQUEST and LIMIT cells of a quota: `name: used/hard` for each hard resource,
/// sorted by name, `limits.*` in LIMIT and the rest in REQUEST.
fn quota(j: &Value) -> (String, String) {
    let hard = j.pointer("/status/hard").and_then(Value::as_object);
    let used = j.pointer("/status/used");
    let (mut request, mut limit) = (Vec::new(), Vec::new());
    let mut names: Vec<&String> = hard.map(|h| h.keys().collect()).unwrap_or_default();
    names.sort();
    for n in names {
        let h = hard
            .and_then(|h| h.get(n))
            .map(jsonpath::text)
            .unwrap_or_default();
        let u = used
            .and_then(|u| u.get(n))
            .map(jsonpath::text)
            .unwrap_or_else(|| "0".into());
        let cell = format!("{n}: {u}/{h}");
        if n.split('.').count() > 1 && n.starts_with("limits.") {
            limit.push(cell);
        } else {
            request.push(cell);
        }
    }
    (request.join(", "), limit.join(", "))
}

/// kubectl's CONDITION cell of a CSR: Denied, Approved or Pending, then `,Failed` and
/// `,Issued`.
fn csr_condition(j: &Value) -> String {
    let types: Vec<&str> = j
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("type").and_then(Value::as_str))
        .collect();
    let mut s = if types.contains(&"Denied") {
        "Denied"
    } else if types.contains(&"Approved") {
        "Approved"
    } else {
        "Pending"
    }
    .to_string();
    if types.contains(&"Failed") {
        s.push_str(",Failed");
    }
    if j.pointer("/status/certificate")
        .and_then(Value::as_str)
        .is_some_and(|c| !c.is_empty())
    {
        s.push_str(",Issued");
    }
    s
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

    /// Kinds the bundles hold none of: cells as kubectl's printers.go builds them.
    #[test]
    fn hpa_quota_csr_rc_podtemplate_and_ingress_cells() {
        let age = |t: Option<&str>| t.map(|_| "5d".to_string()).unwrap_or_default();
        let meta = json!({"creationTimestamp": "2025-01-01T00:00:00Z"});
        let hpa = json!({"metadata": meta,
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
                    {"type": "Pods", "pods": {"target": {"averageValue": "10"}}}]},
            "status": {"currentReplicas": 2, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 35}}}]}});
        assert_eq!(
            cells(Builtin::HorizontalPodAutoscaler, &hpa, &age),
            [
                "Deployment/web",
                "cpu: 35%/80%, memory: <unknown>/1Gi + 1 more...",
                "1",
                "5",
                "2",
                "5d"
            ]
        );
        let v1 = json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
            "targetCPUUtilizationPercentage": 50}});
        assert_eq!(
            cells(Builtin::HorizontalPodAutoscaler, &v1, &age)[1..4],
            ["cpu: <unknown>/50%", "<unset>", "3"]
        );
        let rq = json!({"status": {"hard": {"pods": "10", "limits.cpu": "4", "requests.memory": "1Gi"},
            "used": {"pods": "3", "limits.cpu": "500m"}}});
        assert_eq!(
            cells(Builtin::ResourceQuota, &rq, &age),
            [
                "pods: 3/10, requests.memory: 0/1Gi",
                "limits.cpu: 500m/4",
                ""
            ]
        );
        let csr = json!({"metadata": meta, "spec": {"signerName": "kubernetes.io/kubelet-serving",
            "username": "system:node:n1", "expirationSeconds": 86400},
            "status": {"conditions": [{"type": "Approved"}], "certificate": "LS0t"}});
        assert_eq!(
            cells(Builtin::CertificateSigningRequest, &csr, &age),
            [
                "5d",
                "kubernetes.io/kubelet-serving",
                "system:node:n1",
                "24h",
                "Approved,Issued"
            ]
        );
        let rc = json!({"metadata": meta, "spec": {"replicas": 2, "selector": {"app": "x"},
            "template": {"spec": {"containers": [{"name": "a", "image": "i:1"}, {"name": "b", "image": "j:2"}]}}},
            "status": {"replicas": 2, "readyReplicas": 1}});
        assert_eq!(
            cells(Builtin::ReplicationController, &rc, &age),
            ["2", "2", "1", "5d", "a,b", "i:1,j:2", "app=x"]
        );
        let pt = json!({"template": {"metadata": {"labels": {"b": "2", "a": "1"}},
            "spec": {"containers": [{"name": "c", "image": "img"}]}}});
        assert_eq!(
            cells(Builtin::PodTemplate, &pt, &age),
            ["c", "img", "a=1,b=2"]
        );
        let ing = json!({"spec": {"ingressClassName": "nginx", "tls": [{}],
            "rules": [{"host": "a"}, {"host": "b"}, {}, {"host": "c"}, {"host": "d"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.2"}, {"hostname": "lb"}, {"ip": "10.0.0.2"}]}}});
        assert_eq!(
            cells(Builtin::Ingress, &ing, &age),
            ["nginx", "a,b,c + 2 more...", "10.0.0.2,lb", "80, 443", ""]
        );
        // Every kind's cells line up with its columns.
        for b in [
            Builtin::Ingress,
            Builtin::HorizontalPodAutoscaler,
            Builtin::ResourceQuota,
            Builtin::PriorityClass,
            Builtin::CsiDriver,
            Builtin::FlowSchema,
            Builtin::PriorityLevelConfiguration,
            Builtin::ReplicationController,
            Builtin::CertificateSigningRequest,
            Builtin::PodTemplate,
        ] {
            assert_eq!(columns(b).len(), cells(b, &json!({}), &age).len(), "{b:?}");
        }
    }
}
