//! Test kit for the upgrade logic (test builds only): an [`Env`] over a small index built from
//! objects written as JSON values (serialised to item YAML), with chosen inputs reported as not
//! collected, and builders for the objects the admission checks, the leftover rules and the
//! life-cycle read. Each builder gives a healthy object; tests change one field with [`set`].
use serde_json::{Value, json};

use super::Env;
use crate::facts::input::Input;
use crate::facts::version::Version;
use crate::fleet::FleetState;
use crate::graph::Graph;
use crate::index::Index;

/// A small cluster: its index, graph and Fleet state, and the inputs to report missing.
pub struct World {
    /// The index.
    pub index: Index,
    graph: Graph,
    fleet: FleetState,
    missing: Vec<Input>,
    hits: Vec<super::known::LogHit>,
}

impl World {
    /// A world of these objects.
    pub fn new(objects: &[Value]) -> World {
        let texts: Vec<String> = objects
            .iter()
            .map(|o| yaml_serde::to_string(o).expect("object serialises to YAML"))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let index = Index::from_yaml_objects(&refs);
        let graph = Graph::build(&index);
        let fleet = FleetState::build(&index, &graph, None, None);
        World {
            index,
            graph,
            fleet,
            missing: Vec::new(),
            hits: Vec::new(),
        }
    }

    /// The same world with `input` not collected.
    pub fn without(mut self, input: Input) -> World {
        self.missing.push(input);
        self
    }

    /// The same world with these pod log lines found before the rules.
    pub fn with_hits(mut self, hits: Vec<super::known::LogHit>) -> World {
        self.hits = hits;
        self
    }

    /// Runs `f` on the environment of running version `from`, with target `to` (its Version
    /// object found as `upgrade::target` finds it).
    pub fn env<T>(&self, from: &str, to: Option<&str>, f: impl FnOnce(&Env) -> T) -> T {
        let from = Version::parse(from);
        let to = to.and_then(|t| super::target(&self.index, &from, Some(t)));
        let collected = |_: &str, _: &str| true;
        let available = |i: Input| {
            if self.missing.contains(&i) {
                Err(format!("{i} was not collected"))
            } else {
                Ok(())
            }
        };
        let env = Env {
            index: &self.index,
            graph: &self.graph,
            fleet: &self.fleet,
            capture: None,
            from,
            from_source: "test".into(),
            to,
            collected: &collected,
            available: &available,
            log_hits: &self.hits,
        };
        f(&env)
    }

    /// Position of an object in the index.
    pub fn pos(&self, group: &str, kind: &str, ns: &str, name: &str) -> usize {
        let o = self
            .index
            .find(group, kind, ns, name)
            .unwrap_or_else(|| panic!("{kind} {ns}/{name} in the test world"));
        self.index.position(&o.key).expect("indexed")
    }
}

/// A JSON pointer's token unescaped (`~1` is `/`, `~0` is `~`).
fn token(t: &str) -> String {
    t.replace("~1", "/").replace("~0", "~")
}

/// `v` with the value at JSON pointer `path` set to `value` (missing maps created; a number
/// indexes a list, one past its end appends).
pub fn set(mut v: Value, path: &str, value: Value) -> Value {
    fn step<'a>(cur: &'a mut Value, p: &str) -> &'a mut Value {
        if let Value::Array(a) = cur {
            let i: usize = p.parse().expect("a list index");
            return &mut a[i];
        }
        if !cur.get(p).is_some_and(|x| x.is_object() || x.is_array()) {
            cur[p] = json!({});
        }
        &mut cur[p]
    }
    let parts: Vec<String> = path.trim_start_matches('/').split('/').map(token).collect();
    let (last, init) = parts.split_last().expect("a non-empty path");
    let mut cur = &mut v;
    for p in init {
        cur = step(cur, p);
    }
    match cur {
        Value::Array(a) => {
            let i: usize = last.parse().expect("a list index");
            if i == a.len() {
                a.push(value);
            } else {
                a[i] = value;
            }
        }
        _ => cur[last.as_str()] = value,
    }
    v
}

/// `v` without the value at JSON pointer `path`.
pub fn unset(mut v: Value, path: &str) -> Value {
    let (parent, last) = path.rsplit_once('/').expect("a pointer");
    if let Some(Value::Object(m)) = v.pointer_mut(parent) {
        m.remove(&token(last));
    }
    v
}

/// A Ready, schedulable, Harvester-managed node with its internal IP and its machine
/// `m-<name>`.
pub fn node(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"harvesterhci.io/managed": "true", "kubernetes.io/hostname": name},
            "annotations": {
                "rke2.io/internal-ip": "10.0.0.1",
                "cluster.x-k8s.io/machine": format!("m-{name}"),
            },
        },
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "nodeInfo": {"osImage": "Harvester v1.4.0", "kubeletVersion": "v1.29.9+rke2r1"},
        },
    })
}

/// A witness node.
pub fn witness(name: &str) -> Value {
    set(
        node(name),
        "/metadata/labels/node-role.harvesterhci.io~1witness",
        json!("true"),
    )
}

/// A Running CAPI machine in fleet-local for `node`.
pub fn machine(name: &str, node: &str) -> Value {
    json!({
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Machine",
        "metadata": {"name": name, "namespace": "fleet-local"},
        "spec": {"clusterName": "local"},
        "status": {"phase": "Running", "nodeRef": {"kind": "Node", "name": node}},
    })
}

/// The CAPI cluster fleet-local/local in `phase`.
pub fn capi_cluster(phase: &str) -> Value {
    json!({
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "metadata": {"name": "local", "namespace": "fleet-local"},
        "spec": {},
        "status": {"phase": phase},
    })
}

/// A ManagedChart with a Ready condition of `ready` (none when `None`).
pub fn managed_chart(ns: &str, name: &str, ready: Option<&str>) -> Value {
    let conditions: Vec<Value> = ready
        .map(|s| json!({"type": "Ready", "status": s, "message": "NotReady(1) [Cluster fleet-local/local]"}))
        .into_iter()
        .collect();
    json!({
        "apiVersion": "management.cattle.io/v3",
        "kind": "ManagedChart",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"chart": name, "version": "1.4.0"},
        "status": {"conditions": conditions},
    })
}

/// A Version object in harvester-system.
pub fn version_object(name: &str, min: Option<&str>) -> Value {
    let mut spec = json!({"isoURL": format!("https://releases/{name}/harvester.iso")});
    if let Some(m) = min {
        spec["minUpgradableVersion"] = json!(m);
    }
    json!({
        "apiVersion": "harvesterhci.io/v1beta1",
        "kind": "Version",
        "metadata": {"name": name, "namespace": "harvester-system"},
        "spec": spec,
    })
}

/// An Upgrade in harvester-system with label `upgradeState` (none when `None`) and a
/// `Completed` condition of `completed` (none when `None`).
pub fn upgrade(name: &str, state: Option<&str>, completed: Option<&str>) -> Value {
    let mut labels = serde_json::Map::new();
    if let Some(s) = state {
        labels.insert("harvesterhci.io/upgradeState".into(), json!(s));
    }
    let conditions: Vec<Value> = completed
        .map(|s| json!({"type": "Completed", "status": s, "lastTransitionTime": "2026-01-01T00:00:00Z"}))
        .into_iter()
        .collect();
    json!({
        "apiVersion": "harvesterhci.io/v1beta1",
        "kind": "Upgrade",
        "metadata": {
            "name": name,
            "namespace": "harvester-system",
            "labels": labels,
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"version": "v1.4.1"},
        "status": {"previousVersion": "v1.4.0", "conditions": conditions},
    })
}

/// A Longhorn volume with `replicas` replicas, `state` and `robustness`, for PVC
/// `default/<name>`.
pub fn volume(name: &str, replicas: i64, state: &str, robustness: &str) -> Value {
    json!({
        "apiVersion": "longhorn.io/v1beta2",
        "kind": "Volume",
        "metadata": {"name": name, "namespace": "longhorn-system"},
        "spec": {"numberOfReplicas": replicas},
        "status": {
            "state": state,
            "robustness": robustness,
            "kubernetesStatus": {"namespace": "default", "pvcName": name},
        },
    })
}

/// A running VMI `default/<name>` on `node` that can live-migrate.
pub fn vmi(name: &str, node: &str) -> Value {
    json!({
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstance",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "domain": {"devices": {"disks": [{"name": "disk-0", "disk": {"bus": "virtio"}}]}},
            "volumes": [{"name": "disk-0", "persistentVolumeClaim": {"claimName": format!("{name}-disk-0")}}],
        },
        "status": {"nodeName": node, "phase": "Running"},
    })
}

/// A VM `default/<name>` whose template has the volume `disk-0`.
pub fn vm(name: &str) -> Value {
    json!({
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"template": {"spec": {
            "volumes": [{"name": "disk-0", "persistentVolumeClaim": {"claimName": format!("{name}-disk-0")}}],
        }}},
        "status": {"printableStatus": "Running"},
    })
}

/// A Harvester setting with `value`.
pub fn setting(name: &str, value: &str) -> Value {
    json!({
        "apiVersion": "harvesterhci.io/v1beta1",
        "kind": "Setting",
        "metadata": {"name": name},
        "value": value,
    })
}

/// A healthy cluster of `n` nodes `n1`…: nodes, their machines, the provisioned CAPI cluster,
/// the Ready `harvester` ManagedChart.
pub fn cluster(n: usize) -> Vec<Value> {
    let mut v = Vec::new();
    for i in 1..=n {
        let name = format!("n{i}");
        v.push(node(&name));
        v.push(machine(&format!("m-{name}"), &name));
    }
    v.push(capi_cluster("Provisioned"));
    v.push(managed_chart("fleet-local", "harvester", Some("True")));
    v
}
