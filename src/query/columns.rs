//! One column model for `get` and `serve`: per kind, typed columns (name, type, format,
//! priority: 1 only with `-o wide`) and the rows of cells, as kubectl prints them.
//!
//! - Built-in kinds: kubectl's columns (its `printers.go`), from the typed views; PVCs, PVs
//!   and PodDisruptionBudgets from the object as captured.
//! - Custom resources: the `additionalPrinterColumns` of the CRD when the bundle has it and it
//!   declares some; otherwise, for Longhorn, KubeVirt and Harvester kinds, the columns their
//!   CRDs declare ([`KNOWN_PRINTER_COLUMNS`]); otherwise sbdiag's generic READY/STATUS/AGE.
//!
//! Ages are measured at a reference time: the capture (`get`) or, for `serve`, either the
//! capture or now.
use super::jsonpath::{self, Path};
use super::whole::Whole;
use crate::analyze::Capture;
use crate::index::Object;
use crate::model::time::Timestamp;
use crate::model::views::{ContainerSpec, EventView, View};
use crate::model::{Age, condition};

/// A column's value type, as the Table API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// `true`/`false`.
    Boolean,
    /// A timestamp, printed as an age.
    Date,
}

impl ColumnType {
    /// The Table API's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Integer => "integer",
            ColumnType::Number => "number",
            ColumnType::Boolean => "boolean",
            ColumnType::Date => "date",
        }
    }

    fn parse(s: &str) -> ColumnType {
        match s {
            "integer" => ColumnType::Integer,
            "number" => ColumnType::Number,
            "boolean" => ColumnType::Boolean,
            "date" => ColumnType::Date,
            _ => ColumnType::String,
        }
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// As kubectl's server sends it (`Up-to-date`); `get` prints it upper-cased.
    pub name: String,
    /// Value type.
    pub kind: ColumnType,
    /// `name` for the object's name column, else empty.
    pub format: &'static str,
    /// 0: always shown; 1: only with `-o wide`.
    pub priority: u8,
    /// What the column shows.
    pub description: String,
}

impl Column {
    pub(super) fn new(name: &str, kind: ColumnType, priority: u8, description: &str) -> Column {
        Column {
            name: name.into(),
            kind,
            format: "",
            priority,
            description: description.into(),
        }
    }

    pub(super) fn name_column() -> Column {
        Column {
            format: "name",
            ..Column::new("Name", ColumnType::String, 0, "Name of the object.")
        }
    }

    /// The header `get` prints.
    pub fn header(&self) -> String {
        self.name.to_uppercase()
    }
}

/// Columns and one row of cells per object (in the objects' order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Every column, wide ones included.
    pub columns: Vec<Column>,
    /// Cells, one per column.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Adds kubectl's `--show-labels` column: each object's labels, `k=v` comma-separated.
    pub fn add_labels(&mut self, objs: &[&Object]) {
        self.columns.push(Column::new(
            "Labels",
            ColumnType::String,
            0,
            "The object's labels.",
        ));
        for (r, o) in self.rows.iter_mut().zip(objs) {
            let l: Vec<String> = o
                .meta
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            r.push(if l.is_empty() {
                "<none>".into()
            } else {
                l.join(",")
            });
        }
    }

    /// Headers and rows of the columns shown (`wide`: all), the namespace first when
    /// `namespaces` holds one per row.
    pub fn render(&self, wide: bool, namespaces: Option<&[&str]>) -> String {
        let keep: Vec<bool> = self
            .columns
            .iter()
            .map(|c| wide || c.priority == 0)
            .collect();
        let mut headers: Vec<String> = self
            .columns
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c.header())
            .collect();
        let mut rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(c, _)| c.clone())
                    .collect()
            })
            .collect();
        if let Some(ns) = namespaces {
            headers.insert(0, "NAMESPACE".into());
            for (r, n) in rows.iter_mut().zip(ns) {
                r.insert(0, (*n).to_string());
            }
        }
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        super::table::render(&headers, &rows)
    }
}

/// A CRD printer column: what to read and how to show it.
#[derive(Debug, Clone)]
pub struct PrinterColumn {
    column: Column,
    path: Path,
}

/// A declared printer column: (name, type, JSONPath, priority).
pub type KnownColumn = (&'static str, &'static str, &'static str, u8);

/// Printer columns the Longhorn, KubeVirt and Harvester CRDs declare, used when the bundle
/// lacks the CRD (or holds it without them): (group, kind, [(name, type, JSONPath, priority)]).
pub const KNOWN_PRINTER_COLUMNS: &[(&str, &str, &[KnownColumn])] = &[
    (
        "longhorn.io",
        "Volume",
        &[
            ("State", "string", ".status.state", 0),
            ("Robustness", "string", ".status.robustness", 0),
            (
                "Scheduled",
                "string",
                ".status.conditions[?(@.type=='Scheduled')].status",
                0,
            ),
            ("Size", "string", ".spec.size", 0),
            ("Node", "string", ".status.currentNodeID", 0),
            ("Age", "date", ".metadata.creationTimestamp", 0),
        ],
    ),
    (
        "longhorn.io",
        "Engine",
        &[
            ("State", "string", ".status.currentState", 0),
            ("Node", "string", ".spec.nodeID", 0),
            (
                "InstanceManager",
                "string",
                ".status.instanceManagerName",
                0,
            ),
            ("Image", "string", ".status.currentImage", 0),
            ("Age", "date", ".metadata.creationTimestamp", 0),
        ],
    ),
    (
        "longhorn.io",
        "Replica",
        &[
            ("State", "string", ".status.currentState", 0),
            ("Node", "string", ".spec.nodeID", 0),
            ("Disk", "string", ".spec.diskID", 0),
            (
                "InstanceManager",
                "string",
                ".status.instanceManagerName",
                0,
            ),
            ("Image", "string", ".status.currentImage", 0),
            ("Age", "date", ".metadata.creationTimestamp", 0),
        ],
    ),
    (
        "longhorn.io",
        "Node",
        &[
            (
                "Ready",
                "string",
                ".status.conditions[?(@.type=='Ready')].status",
                0,
            ),
            ("AllowScheduling", "boolean", ".spec.allowScheduling", 0),
            (
                "Schedulable",
                "string",
                ".status.conditions[?(@.type=='Schedulable')].status",
                0,
            ),
            ("Age", "date", ".metadata.creationTimestamp", 0),
        ],
    ),
    (
        "kubevirt.io",
        "VirtualMachine",
        &[
            ("Age", "date", ".metadata.creationTimestamp", 0),
            ("Status", "string", ".status.printableStatus", 0),
            (
                "Ready",
                "string",
                ".status.conditions[?(@.type=='Ready')].status",
                0,
            ),
        ],
    ),
    (
        "kubevirt.io",
        "VirtualMachineInstance",
        &[
            ("Age", "date", ".metadata.creationTimestamp", 0),
            ("Phase", "string", ".status.phase", 0),
            ("IP", "string", ".status.interfaces[0].ipAddress", 0),
            ("NodeName", "string", ".status.nodeName", 0),
            (
                "Ready",
                "string",
                ".status.conditions[?(@.type=='Ready')].status",
                0,
            ),
            (
                "Live-Migratable",
                "string",
                ".status.conditions[?(@.type=='LiveMigratable')].status",
                1,
            ),
            (
                "Paused",
                "string",
                ".status.conditions[?(@.type=='Paused')].status",
                1,
            ),
        ],
    ),
    (
        "kubevirt.io",
        "VirtualMachineInstanceMigration",
        &[
            ("Phase", "string", ".status.phase", 0),
            ("VMI", "string", ".spec.vmiName", 0),
        ],
    ),
    (
        "harvesterhci.io",
        "VirtualMachineImage",
        &[
            ("Display-Name", "string", ".spec.displayName", 0),
            ("Size", "integer", ".status.size", 0),
            ("Age", "date", ".metadata.creationTimestamp", 0),
        ],
    ),
];

/// Harvester's Upgrade has no printer columns in its CRD; its state is a label
/// ([`crate::facts::upgrade::STATE_LABEL`]), shown with the target version.
fn upgrade_columns() -> Vec<PrinterColumn> {
    let label = crate::facts::upgrade::STATE_LABEL.replace('.', "\\.");
    [
        ("Version", ".spec.version".to_string()),
        ("State", format!(".metadata.labels.{label}")),
    ]
    .into_iter()
    .filter_map(|(n, p)| {
        Some(PrinterColumn {
            column: Column::new(n, ColumnType::String, 0, ""),
            path: Path::parse(&p).ok()?,
        })
    })
    .chain(
        Path::parse(".metadata.creationTimestamp")
            .ok()
            .map(|path| PrinterColumn {
                column: Column::new("Age", ColumnType::Date, 0, ""),
                path,
            }),
    )
    .collect()
}

/// The printer columns of a custom resource kind: the CRD's in the bundle when it declares
/// some (for the version `version`, else the storage version), else the known ones.
pub fn printer_columns(
    a: &Capture,
    whole: &Whole<'_>,
    group: &str,
    kind: &str,
    version: &str,
) -> Option<Vec<PrinterColumn>> {
    let suffix = format!(".{group}");
    let crd = a
        .index
        .of_kind("apiextensions.k8s.io", "CustomResourceDefinition")
        .filter(|c| c.key.name.ends_with(&suffix))
        .filter_map(|c| whole.json(c, false))
        .find(|c| {
            c.pointer("/spec/names/kind").and_then(|k| k.as_str()) == Some(kind)
                && c.pointer("/spec/group").and_then(|g| g.as_str()) == Some(group)
        });
    if let Some(crd) = crd {
        let versions = crd
            .pointer("/spec/versions")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        let chosen = versions
            .iter()
            .find(|v| v.get("name").and_then(|n| n.as_str()) == Some(version))
            .or_else(|| {
                versions
                    .iter()
                    .find(|v| v.get("storage").and_then(|s| s.as_bool()) == Some(true))
            });
        let declared = chosen
            .and_then(|v| v.get("additionalPrinterColumns"))
            .or_else(|| crd.pointer("/spec/additionalPrinterColumns"))
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default();
        let cols: Vec<PrinterColumn> = declared
            .iter()
            .filter_map(|c| {
                let name = c.get("name")?.as_str()?;
                let path = c.get("jsonPath").or_else(|| c.get("JSONPath"))?.as_str()?;
                Some(PrinterColumn {
                    column: Column::new(
                        name,
                        ColumnType::parse(c.get("type").and_then(|t| t.as_str()).unwrap_or("")),
                        c.get("priority")
                            .and_then(|p| p.as_u64())
                            .map(|p| p.min(1) as u8)
                            .unwrap_or(0),
                        c.get("description").and_then(|d| d.as_str()).unwrap_or(""),
                    ),
                    path: Path::parse(path).ok()?,
                })
            })
            .collect();
        if !cols.is_empty() {
            return Some(cols);
        }
    }
    if (group, kind) == ("harvesterhci.io", "Upgrade") {
        return Some(upgrade_columns());
    }
    let (_, _, known) = KNOWN_PRINTER_COLUMNS
        .iter()
        .find(|(g, k, _)| *g == group && *k == kind)?;
    Some(
        known
            .iter()
            .filter_map(|(name, t, p, prio)| {
                Some(PrinterColumn {
                    column: Column::new(name, ColumnType::parse(t), *prio, ""),
                    path: Path::parse(p).ok()?,
                })
            })
            .collect(),
    )
}

/// How a kind is tabled.
enum Shape {
    Pod,
    Node,
    DaemonSet,
    Deployment,
    StatefulSet,
    ReplicaSet,
    Job,
    Service,
    Event,
    Setting,
    Pdb,
    Pvc,
    Pv,
    Printer(Vec<PrinterColumn>),
    Builtin(super::printers::Builtin),
    Generic,
}

/// Builds tables of objects.
pub struct Tables<'a> {
    a: &'a Capture,
    whole: &'a Whole<'a>,
    at: Option<Timestamp>,
}

use ColumnType::{Date, Integer, String as Text};

impl<'a> Tables<'a> {
    /// Tables whose ages are measured at `at` (the capture time for `get`).
    pub fn new(a: &'a Capture, whole: &'a Whole<'a>, at: Option<Timestamp>) -> Self {
        Tables { a, whole, at }
    }

    fn age(&self, ts: Option<&str>) -> String {
        Age::at(ts, self.at)
            .map(|x| x.to_string())
            .unwrap_or_else(|| "<unknown>".into())
    }

    fn shape(&self, o: &Object) -> Shape {
        let view = self.a.index.view_of(o);
        match (view, o.key.group.as_str(), o.key.kind.as_str()) {
            (View::Pod(_), ..) => Shape::Pod,
            (View::Node(_), ..) => Shape::Node,
            (View::Workload(_), _, "DaemonSet") => Shape::DaemonSet,
            (View::Workload(_), _, "Deployment") => Shape::Deployment,
            (View::Workload(_), _, "StatefulSet") => Shape::StatefulSet,
            (View::Workload(_), ..) => Shape::ReplicaSet,
            (View::Job(_), ..) => Shape::Job,
            (View::Service(_), ..) => Shape::Service,
            (View::Event(_), ..) => Shape::Event,
            (View::Setting(_), ..) => Shape::Setting,
            (_, "policy", "PodDisruptionBudget") => Shape::Pdb,
            (_, "", "PersistentVolumeClaim") => Shape::Pvc,
            (_, "", "PersistentVolume") => Shape::Pv,
            (_, g, k) => match super::printers::Builtin::of(g, k) {
                Some(b) => Shape::Builtin(b),
                None => match printer_columns(self.a, self.whole, g, k, &o.version) {
                    Some(c) => Shape::Printer(c),
                    None => Shape::Generic,
                },
            },
        }
    }

    fn columns(shape: &Shape) -> Vec<Column> {
        let c = |n: &str, t: ColumnType, p: u8, d: &str| Column::new(n, t, p, d);
        let age = || c("Age", Text, 0, "Time since the object was created.");
        let containers = || {
            [
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
            ]
        };
        let mut v = match shape {
            Shape::Event => {
                return vec![
                    c("Last Seen", Text, 0, "When the event was last seen."),
                    c("Type", Text, 0, "Normal or Warning."),
                    c("Reason", Text, 0, "Why the event was emitted."),
                    c("Object", Text, 0, "The object the event is about."),
                    c("Subobject", Text, 1, "The part of the object (fieldPath)."),
                    c(
                        "Source",
                        Text,
                        1,
                        "The component, and host, that reported it.",
                    ),
                    c("Message", Text, 0, "What happened."),
                    c("First Seen", Text, 1, "When the event was first seen."),
                    c("Count", Text, 1, "Times it was seen."),
                    Column {
                        format: "name",
                        ..c("Name", Text, 1, "Name of the event.")
                    },
                ];
            }
            Shape::Pod => vec![
                c("Ready", Text, 0, "Ready containers of all containers."),
                c("Status", Text, 0, "The aggregate status of the containers."),
                c("Restarts", Integer, 0, "Container restarts."),
                age(),
                c("IP", Text, 1, "Pod IP."),
                c("Node", Text, 1, "Node the pod is scheduled on."),
                c(
                    "Nominated Node",
                    Text,
                    1,
                    "Node the scheduler nominated for preemption.",
                ),
                c(
                    "Readiness Gates",
                    Text,
                    1,
                    "Readiness gates met of all readiness gates.",
                ),
            ],
            Shape::Node => vec![
                c("Status", Text, 0, "The status of the node."),
                c("Roles", Text, 0, "The roles of the node."),
                age(),
                c("Version", Text, 0, "Kubelet version."),
                c("Internal-IP", Text, 1, "InternalIP address."),
                c("External-IP", Text, 1, "ExternalIP address."),
                c("OS-Image", Text, 1, "OS image."),
                c("Kernel-Version", Text, 1, "Kernel version."),
                c("Container-Runtime", Text, 1, "Container runtime version."),
            ],
            Shape::DaemonSet => {
                let mut v = vec![
                    c(
                        "Desired",
                        Integer,
                        0,
                        "Nodes that should run the daemon pod.",
                    ),
                    c(
                        "Current",
                        Integer,
                        0,
                        "Nodes running at least one daemon pod.",
                    ),
                    c("Ready", Integer, 0, "Nodes with a ready daemon pod."),
                    c(
                        "Up-to-date",
                        Integer,
                        0,
                        "Nodes running the updated daemon pod.",
                    ),
                    c(
                        "Available",
                        Integer,
                        0,
                        "Nodes with an available daemon pod.",
                    ),
                    c(
                        "Node Selector",
                        Text,
                        0,
                        "Labels a node must have to run the daemon pod.",
                    ),
                    age(),
                ];
                v.extend(containers());
                v
            }
            Shape::Deployment => {
                let mut v = vec![
                    c("Ready", Text, 0, "Ready replicas of desired replicas."),
                    c("Up-to-date", Integer, 0, "Updated replicas."),
                    c("Available", Integer, 0, "Available replicas."),
                    age(),
                ];
                v.extend(containers());
                v
            }
            Shape::StatefulSet => {
                let mut v = vec![
                    c("Ready", Text, 0, "Ready replicas of desired replicas."),
                    age(),
                ];
                v.extend(containers().into_iter().take(2));
                v
            }
            Shape::ReplicaSet => {
                let mut v = vec![
                    c("Desired", Integer, 0, "Desired replicas."),
                    c("Current", Integer, 0, "Current replicas."),
                    c("Ready", Integer, 0, "Ready replicas."),
                    age(),
                ];
                v.extend(containers());
                v
            }
            Shape::Job => {
                let mut v = vec![
                    c(
                        "Status",
                        Text,
                        0,
                        "Complete, Failed, Terminating, Suspended, FailureTarget or Running.",
                    ),
                    c("Completions", Text, 0, "Succeeded of desired completions."),
                    c(
                        "Duration",
                        Text,
                        0,
                        "Time the job ran (so far, if running).",
                    ),
                    age(),
                ];
                v.extend(containers());
                v
            }
            Shape::Service => vec![
                c("Type", Text, 0, "Service type."),
                c("Cluster-IP", Text, 0, "Cluster IP."),
                c("External-IP", Text, 0, "External IPs."),
                c("Port(s)", Text, 0, "Ports."),
                age(),
                c("Selector", Text, 1, "Label selector of the pods."),
            ],
            Shape::Setting => vec![c("Value", Text, 0, "Effective value."), age()],
            Shape::Pdb => vec![
                c("Min Available", Text, 0, "Pods that must stay available."),
                c("Max Unavailable", Text, 0, "Pods that may be unavailable."),
                c(
                    "Allowed Disruptions",
                    Integer,
                    0,
                    "Pods that may be disrupted now.",
                ),
                age(),
            ],
            Shape::Pvc => vec![
                c("Status", Text, 0, "Phase of the claim."),
                c("Volume", Text, 0, "The bound PersistentVolume."),
                c("Capacity", Text, 0, "Capacity of the bound volume."),
                c("Access Modes", Text, 0, "Access modes."),
                c("StorageClass", Text, 0, "Storage class."),
                age(),
                c("VolumeMode", Text, 1, "Filesystem or Block."),
            ],
            Shape::Pv => vec![
                c("Capacity", Text, 0, "Capacity."),
                c("Access Modes", Text, 0, "Access modes."),
                c(
                    "Reclaim Policy",
                    Text,
                    0,
                    "What happens when the claim is released.",
                ),
                c("Status", Text, 0, "Phase of the volume."),
                c("Claim", Text, 0, "The bound claim."),
                c("StorageClass", Text, 0, "Storage class."),
                c("Reason", Text, 0, "Why the volume is in its phase."),
                age(),
                c("VolumeMode", Text, 1, "Filesystem or Block."),
            ],
            Shape::Printer(cols) => cols.iter().map(|p| p.column.clone()).collect(),
            Shape::Builtin(b) => super::printers::columns(*b),
            Shape::Generic => vec![
                c("Ready", Text, 0, "Status of the Ready condition."),
                c("Status", Text, 0, "status.phase or status.state."),
                age(),
            ],
        };
        v.insert(0, Column::name_column());
        v
    }

    /// The table of `objs` (of one kind), every column included.
    pub fn table(&self, objs: &[&Object]) -> Table {
        let Some(first) = objs.first() else {
            return Table {
                columns: Vec::new(),
                rows: Vec::new(),
            };
        };
        let shape = self.shape(first);
        let columns = Self::columns(&shape);
        let rows = objs
            .iter()
            .map(|o| {
                let mut r = self.row(&shape, o);
                r.resize(columns.len(), String::new());
                r
            })
            .collect();
        Table { columns, rows }
    }

    fn row(&self, shape: &Shape, o: &Object) -> Vec<String> {
        let created = self.age(o.meta.creation_timestamp.as_deref());
        let mut row = vec![o.key.name.clone()];
        let view = self.a.index.view_of(o);
        match (shape, view) {
            (Shape::Event, View::Event(e)) => {
                let mut cells = event_cells(self.at, e);
                let j = self.whole.json(o, false).unwrap_or_default();
                let text = |ps: &[&str]| {
                    ps.iter()
                        .filter_map(|p| j.pointer(p))
                        .map(jsonpath::text)
                        .find(|t| !t.is_empty() && t != "null")
                        .unwrap_or_default()
                };
                // kubectl's formatEventSource: component (or reporting controller), then
                // ", host" (or reporting instance) when there is one.
                let component = text(&[
                    "/source/component",
                    "/deprecatedSource/component",
                    "/reportingComponent",
                    "/reportingController",
                ]);
                let host = text(&[
                    "/source/host",
                    "/deprecatedSource/host",
                    "/reportingInstance",
                ]);
                let source = if host.is_empty() {
                    component
                } else {
                    format!("{component}, {host}")
                };
                let subobject = text(&["/involvedObject/fieldPath", "/regarding/fieldPath"]);
                cells.insert(4, subobject);
                cells.insert(5, source);
                cells.push(self.age(e.first.as_deref().or(e.last.as_deref())));
                cells.push(e.count.to_string());
                cells.push(o.key.name.clone());
                return cells;
            }
            (Shape::Pod, View::Pod(p)) => {
                let (r, t) = p.ready_count();
                let j = self.whole.json(o, false).unwrap_or_default();
                // kubectl: "N (AGE ago)" after a restart whose end the status records.
                let last_restart = p
                    .container_statuses
                    .iter()
                    .filter_map(|c| c.last_state.terminated.as_ref())
                    .filter_map(|t| t.finished_at.as_deref())
                    .filter_map(|t| crate::model::time::parse(t).map(|x| (x, t)))
                    .max_by_key(|(x, _)| *x)
                    .map(|(_, t)| t);
                let restarts = match (p.restarts(), last_restart) {
                    (0, _) | (_, None) => p.restarts().to_string(),
                    (n, Some(t)) => format!("{n} ({} ago)", self.age(Some(t))),
                };
                let gates: Vec<&str> = j
                    .pointer("/spec/readinessGates")
                    .and_then(|g| g.as_array())
                    .map(|g| {
                        g.iter()
                            .filter_map(|x| x.get("conditionType").and_then(|t| t.as_str()))
                            .collect()
                    })
                    .unwrap_or_default();
                let gates = if gates.is_empty() {
                    "<none>".to_string()
                } else {
                    let met = gates
                        .iter()
                        .filter(|g| {
                            condition(&o.status.conditions, g).is_some_and(|c| c.status == "True")
                        })
                        .count();
                    format!("{met}/{}", gates.len())
                };
                row.extend([
                    format!("{r}/{t}"),
                    p.display_status(
                        o.status.phase.as_deref(),
                        o.meta.deletion_timestamp.is_some(),
                    ),
                    restarts,
                    created,
                    p.pod_ip.clone().unwrap_or_else(|| "<none>".into()),
                    p.node_name.clone().unwrap_or_else(|| "<none>".into()),
                    j.pointer("/status/nominatedNodeName")
                        .and_then(|n| n.as_str())
                        .filter(|n| !n.is_empty() && *n != "null")
                        .unwrap_or("<none>")
                        .to_string(),
                    gates,
                ]);
            }
            (Shape::Node, View::Node(n)) => {
                let mut status = match ready_cond(o).as_str() {
                    "True" => "Ready".to_string(),
                    "" => "Unknown".to_string(),
                    _ => "NotReady".to_string(),
                };
                if n.unschedulable {
                    status.push_str(",SchedulingDisabled");
                }
                let mut roles: Vec<&str> = o
                    .meta
                    .labels
                    .keys()
                    .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                    .collect();
                roles.sort();
                let roles = if roles.is_empty() {
                    "<none>".to_string()
                } else {
                    roles.join(",")
                };
                row.extend([
                    status,
                    roles,
                    created,
                    n.kubelet_version.clone().unwrap_or_default(),
                    n.address("InternalIP").unwrap_or("<none>").to_string(),
                    n.address("ExternalIP").unwrap_or("<none>").to_string(),
                    n.os_image.clone().unwrap_or_default(),
                    n.kernel_version.clone().unwrap_or_default(),
                    n.container_runtime_version.clone().unwrap_or_default(),
                ]);
            }
            (Shape::DaemonSet, View::Workload(w)) => {
                row.extend([
                    opt(w.desired_number_scheduled),
                    opt(w.current_number_scheduled),
                    opt(w.number_ready),
                    opt(w.updated_number_scheduled),
                    opt(w.number_available),
                    labels_text(
                        self.whole
                            .json(o, false)
                            .and_then(|j| j.pointer("/spec/template/spec/nodeSelector").cloned())
                            .as_ref(),
                    ),
                    created,
                ]);
                row.extend(containers(&w.containers, &w.selector));
            }
            (Shape::Deployment, View::Workload(w)) => {
                row.extend([
                    format!("{}/{}", opt(w.ready_replicas), opt(w.spec_replicas)),
                    opt(w.updated_replicas),
                    opt(w.available_replicas),
                    created,
                ]);
                row.extend(containers(&w.containers, &w.selector));
            }
            (Shape::StatefulSet, View::Workload(w)) => {
                row.extend([
                    format!("{}/{}", opt(w.ready_replicas), opt(w.spec_replicas)),
                    created,
                ]);
                row.extend(containers(&w.containers, &w.selector).into_iter().take(2));
            }
            (Shape::ReplicaSet, View::Workload(w)) => {
                row.extend([
                    opt(w.spec_replicas),
                    opt(w.replicas),
                    opt(w.ready_replicas),
                    created,
                ]);
                row.extend(containers(&w.containers, &w.selector));
            }
            (Shape::Job, View::Job(j)) => {
                // kubectl's printJob: the first condition set, in this order.
                let has = |t: &str| {
                    condition(&o.status.conditions, t).is_some_and(|c| c.status == "True")
                };
                let status = if has("Complete") {
                    "Complete"
                } else if has("Failed") {
                    "Failed"
                } else if o.meta.deletion_timestamp.is_some() {
                    "Terminating"
                } else if has("Suspended") {
                    "Suspended"
                } else if has("FailureTarget") {
                    "FailureTarget"
                } else {
                    "Running"
                };
                let completions = match (j.completions, j.parallelism.unwrap_or(0)) {
                    (Some(c), _) => format!("{}/{c}", opt(j.succeeded)),
                    (None, p) if p > 1 => format!("{}/1 of {p}", opt(j.succeeded)),
                    (None, _) => format!("{}/1", opt(j.succeeded)),
                };
                // Start to completion, or to the reference time while running.
                let duration = match (&j.start_time, &j.completion_time) {
                    (None, _) => String::new(),
                    (Some(s), None) => self.age(Some(s)),
                    (Some(s), Some(c)) => crate::model::time::parse(c)
                        .and_then(|c| Age::at(Some(s), Some(c)))
                        .map(|x| x.to_string())
                        .unwrap_or_default(),
                };
                let selector = self
                    .whole
                    .json(o, false)
                    .and_then(|x| x.pointer("/spec/selector/matchLabels").cloned());
                row.extend([status.into(), completions, duration, created]);
                row.extend(containers(&j.containers, &Default::default()));
                if let Some(last) = row.last_mut() {
                    *last = labels_text(selector.as_ref());
                }
            }
            (Shape::Service, View::Service(s)) => {
                let ports: Vec<String> = s
                    .ports
                    .iter()
                    .map(|p| match p.node_port {
                        Some(np) => format!(
                            "{}:{}/{}",
                            opt(p.port),
                            np,
                            p.protocol.as_deref().unwrap_or("TCP")
                        ),
                        None => {
                            format!("{}/{}", opt(p.port), p.protocol.as_deref().unwrap_or("TCP"))
                        }
                    })
                    .collect();
                row.extend([
                    s.kind.clone().unwrap_or_else(|| "ClusterIP".into()),
                    s.cluster_ip.clone().unwrap_or_else(|| "<none>".into()),
                    if s.external_ips.is_empty() {
                        "<none>".into()
                    } else {
                        s.external_ips.join(",")
                    },
                    if ports.is_empty() {
                        "<none>".into()
                    } else {
                        ports.join(",")
                    },
                    created,
                    labels_text(
                        self.whole
                            .json(o, false)
                            .and_then(|j| j.pointer("/spec/selector").cloned())
                            .as_ref(),
                    ),
                ]);
            }
            (Shape::Setting, View::Setting(s)) => {
                let v = s.effective().unwrap_or("").replace('\n', " ");
                let v: String = if v.chars().count() > 60 {
                    v.chars().take(57).chain("...".chars()).collect()
                } else {
                    v
                };
                row.extend([v, created]);
            }
            (Shape::Pdb | Shape::Pvc | Shape::Pv, _) => {
                let j = self.whole.json(o, false).unwrap_or_default();
                let s = |p: &str| -> Option<String> {
                    j.pointer(p)
                        .filter(|v| !v.is_null())
                        .map(jsonpath::text)
                        .filter(|t| !t.is_empty())
                };
                let modes = |p: &str| -> String {
                    j.pointer(p)
                        .and_then(|m| m.as_array())
                        .map(|m| {
                            m.iter()
                                .filter_map(|x| x.as_str())
                                .map(|x| match x {
                                    "ReadWriteOnce" => "RWO",
                                    "ReadOnlyMany" => "ROX",
                                    "ReadWriteMany" => "RWX",
                                    "ReadWriteOncePod" => "RWOP",
                                    other => other,
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default()
                };
                let class = || {
                    s("/spec/storageClassName")
                        .or_else(|| {
                            s("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
                        })
                        .unwrap_or_default()
                };
                let mode = || s("/spec/volumeMode").unwrap_or_else(|| "Filesystem".into());
                match shape {
                    Shape::Pdb => row.extend([
                        s("/spec/minAvailable").unwrap_or_else(|| "N/A".into()),
                        s("/spec/maxUnavailable").unwrap_or_else(|| "N/A".into()),
                        s("/status/disruptionsAllowed").unwrap_or_else(|| "0".into()),
                        created,
                    ]),
                    Shape::Pvc => {
                        let bound = s("/status/phase").as_deref() == Some("Bound");
                        row.extend([
                            s("/status/phase").unwrap_or_default(),
                            s("/spec/volumeName").unwrap_or_default(),
                            if bound {
                                s("/status/capacity/storage").unwrap_or_default()
                            } else {
                                String::new()
                            },
                            if bound {
                                modes("/status/accessModes")
                            } else {
                                String::new()
                            },
                            class(),
                            created,
                            mode(),
                        ]);
                    }
                    _ => {
                        let claim = match (s("/spec/claimRef/namespace"), s("/spec/claimRef/name"))
                        {
                            (Some(ns), Some(n)) => format!("{ns}/{n}"),
                            (None, Some(n)) => n,
                            _ => String::new(),
                        };
                        row.extend([
                            s("/spec/capacity/storage").unwrap_or_default(),
                            modes("/spec/accessModes"),
                            s("/spec/persistentVolumeReclaimPolicy").unwrap_or_default(),
                            s("/status/phase").unwrap_or_default(),
                            claim,
                            class(),
                            s("/status/reason").unwrap_or_default(),
                            created,
                            mode(),
                        ]);
                    }
                }
            }
            (Shape::Builtin(b), _) => {
                let j = self.whole.json(o, false).unwrap_or_default();
                if super::printers::is_default_class(*b, &j)
                    && let Some(name) = row.first_mut()
                {
                    name.push_str(" (default)");
                }
                row.extend(super::printers::cells(*b, &j, &|t| self.age(t)));
            }
            (Shape::Printer(cols), _) => {
                let j = self.whole.json(o, false).unwrap_or_default();
                for c in cols {
                    // The generator writes some empty values as the string "null".
                    let found: Vec<&serde_json::Value> = c
                        .path
                        .find(&j)
                        .into_iter()
                        .filter(|v| !v.is_null() && v.as_str() != Some("null"))
                        .collect();
                    let cell = if found.is_empty() {
                        "<none>".to_string()
                    } else if c.column.kind == Date {
                        let t = found.first().and_then(|v| v.as_str());
                        self.age(t)
                    } else {
                        found
                            .iter()
                            .map(|v| match v.as_f64() {
                                // Integers the generator wrote as floats (`231131136.0`).
                                Some(f)
                                    if c.column.kind == Integer
                                        && f.fract() == 0.0
                                        && f.abs() < 9e15 =>
                                {
                                    (f as i64).to_string()
                                }
                                _ => jsonpath::text(v),
                            })
                            .collect::<Vec<_>>()
                            .join(",")
                    };
                    row.push(cell);
                }
            }
            _ => {
                let status = o
                    .status
                    .phase
                    .clone()
                    .or_else(|| o.status.state.clone())
                    .unwrap_or_default();
                row.extend([ready_cond(o), status, created]);
            }
        }
        row
    }
}

/// The cells of one event (LAST SEEN TYPE REASON OBJECT MESSAGE), its age measured at `at`.
pub fn event_cells(at: Option<Timestamp>, e: &EventView) -> Vec<String> {
    let obj = format!("{}/{}", e.regarding.kind.to_lowercase(), e.regarding.name);
    let count = if e.count > 1 {
        format!(" (x{})", e.count)
    } else {
        String::new()
    };
    vec![
        Age::at(e.last.as_deref(), at)
            .map(|x| x.to_string())
            .unwrap_or_else(|| "<unknown>".into()),
        e.kind.as_deref().unwrap_or_default().to_string(),
        e.reason.as_deref().unwrap_or_default().to_string(),
        obj,
        format!(
            "{}{count}",
            e.message.clone().unwrap_or_default().replace('\n', " ")
        ),
    ]
}

fn opt(v: Option<i64>) -> String {
    v.unwrap_or(0).to_string()
}

/// Labels (a node or label selector) as kubectl formats them: `k=v` comma-separated, sorted by
/// key, `<none>` when there are none.
pub(super) fn labels_text(m: Option<&serde_json::Value>) -> String {
    let mut pairs: Vec<String> = m
        .and_then(|m| m.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", jsonpath::text(v)))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    if pairs.is_empty() {
        "<none>".into()
    } else {
        pairs.join(",")
    }
}

fn ready_cond(o: &Object) -> String {
    condition(&o.status.conditions, "Ready")
        .map(|c| c.status.clone())
        .unwrap_or_default()
}

fn containers(
    cs: &[ContainerSpec],
    selector: &std::collections::BTreeMap<String, String>,
) -> [String; 3] {
    [
        cs.iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
        cs.iter()
            .map(|c| c.image.as_str())
            .collect::<Vec<_>>()
            .join(","),
        if selector.is_empty() {
            "<none>".into()
        } else {
            selector
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        },
    ]
}
