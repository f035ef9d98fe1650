//! `vm.migration-headroom`: whether the other nodes have room for each node's running VMs. An
//! upgrade (and maintenance mode) drains one node at a time and waits until its VMs have
//! live-migrated; a migration's target pod asks the scheduler for what the VM's virt-launcher
//! pod requests, so when the other nodes cannot hold those requests the target stays Pending
//! and the drain waits. Users asked the pre-check for exactly this ("CPU and memory headroom
//! for live migration", `reference/upgrade-blockers.md` §E). Judged from the capture's
//! requests and allocatable, as the scheduler counts them: affinity, taints and hugepages are
//! not simulated, hence "likely".
use std::collections::BTreeMap;

use super::{Context, Evidence, Finding, ObjectRef, Rule, RuleDef, RuleInfo, Severity};
use crate::facts::vm::{LAUNCHER_LABEL, VM_NAME_LABEL};
use crate::facts::{cluster, node};
use crate::index::Object;
use crate::model::quantity::{show_bytes, show_millicores};
use crate::model::views::Requests;
use crate::model::views::View;
use crate::text::plural;

/// The rules of this family.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(
        RuleDef::new(HEADROOM, migration_headroom).needs(headroom_inputs),
    )]
}

static HEADROOM: RuleInfo = RuleInfo {
    id: "vm.migration-headroom",
    title: "Room on the other nodes for each node's VMs to live-migrate",
    description: "For each node running VMs: whether the other schedulable nodes (Ready, not \
        cordoned, not witnesses) have enough allocatable CPU and memory, after the requests of \
        the pods already on them, to take that node's virt-launcher pods. An upgrade or \
        maintenance drains one node at a time and waits for its VMs to migrate; a VM with no \
        room stays, and the drain with it. Counts requests as the scheduler does (largest VM \
        first, onto the node with the most free memory); affinity and taints are not \
        simulated.",
    inputs: &[
        crate::facts::input::lists::NODES,
        crate::facts::input::Input::Resource("", "pods"),
    ],
    versions: "all",
};

/// A node's room: allocatable less the requests of the pods bound to it.
#[derive(Debug, Clone)]
struct Room<'a> {
    node: &'a Object,
    cpu: Option<u64>,
    memory: Option<u64>,
    cpu_used: u64,
    memory_used: u64,
    /// A node a migration could go to.
    target: bool,
}

impl Room<'_> {
    fn free_cpu(&self) -> Option<u64> {
        Some(self.cpu?.saturating_sub(self.cpu_used))
    }
    fn free_memory(&self) -> Option<u64> {
        Some(self.memory?.saturating_sub(self.memory_used))
    }
}

/// A pod bound to a node and not finished: it holds its requests there.
fn holds(p: &Object) -> bool {
    !matches!(p.status.phase.as_deref(), Some("Succeeded" | "Failed"))
}

fn launcher(p: &Object) -> bool {
    p.meta.labels.get(LAUNCHER_LABEL.0).map(String::as_str) == Some(LAUNCHER_LABEL.1)
        && p.status.phase.as_deref() == Some("Running")
        && p.meta.deletion_timestamp.is_none()
}

fn requests(p: &Object) -> Requests {
    match &p.view {
        View::Pod(v) => v.requests(),
        _ => Requests::default(),
    }
}

/// `Err` when the capture cannot say: no node lists allocatable memory, or no running
/// launcher pod lists its requests.
fn headroom_inputs(cx: &Context) -> Result<(), String> {
    let any_allocatable = cx
        .index
        .of_kind("", "Node")
        .any(|n| matches!(&n.view, View::Node(v) if v.allocatable.contains_key("memory")));
    if !any_allocatable {
        return Err("no Node in the capture has status.allocatable memory".into());
    }
    let launchers: Vec<&Object> = cx
        .index
        .of_kind("", "Pod")
        .filter(|p| launcher(p))
        .collect();
    if !launchers.is_empty() && launchers.iter().all(|p| requests(p).memory.is_none()) {
        return Err("the running virt-launcher pods list no memory requests".into());
    }
    Ok(())
}

fn rooms<'a>(cx: &'a Context) -> BTreeMap<&'a str, Room<'a>> {
    let mut out: BTreeMap<&str, Room> = BTreeMap::new();
    for n in cx.index.of_kind("", "Node") {
        let View::Node(v) = &n.view else { continue };
        let ready = node::node_ready(n) == Some("True");
        out.insert(
            n.key.name.as_str(),
            Room {
                node: n,
                cpu: v
                    .allocatable
                    .get("cpu")
                    .and_then(|q| crate::model::quantity::millicores(q)),
                memory: v
                    .allocatable
                    .get("memory")
                    .and_then(|q| crate::model::quantity::bytes(q)),
                cpu_used: 0,
                memory_used: 0,
                target: ready && !v.unschedulable && !cluster::is_witness(n),
            },
        );
    }
    for p in cx.index.of_kind("", "Pod").filter(|p| holds(p)) {
        let View::Pod(v) = &p.view else { continue };
        let Some(room) = v.node_name.as_deref().and_then(|n| out.get_mut(n)) else {
            continue;
        };
        let r = v.requests();
        room.cpu_used = room.cpu_used.saturating_add(r.cpu.unwrap_or(0));
        room.memory_used = room.memory_used.saturating_add(r.memory.unwrap_or(0));
    }
    out
}

/// A VM that would have to move, with what its launcher pod requests.
struct Mover<'a> {
    pod: &'a Object,
    vm: String,
    cpu: u64,
    memory: u64,
}

fn migration_headroom(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let rooms = rooms(cx);
    let mut by_node: BTreeMap<&str, Vec<Mover>> = BTreeMap::new();
    for p in cx.index.of_kind("", "Pod").filter(|p| launcher(p)) {
        let View::Pod(v) = &p.view else { continue };
        let Some(n) = v.node_name.as_deref() else {
            continue;
        };
        let r = v.requests();
        by_node.entry(n).or_default().push(Mover {
            pod: p,
            vm: p
                .meta
                .labels
                .get(VM_NAME_LABEL)
                .cloned()
                .unwrap_or_else(|| p.key.name.clone()),
            cpu: r.cpu.unwrap_or(0),
            memory: r.memory.unwrap_or(0),
        });
    }
    let mut out = Vec::new();
    for (source, mut movers) in by_node {
        let Some(src) = rooms.get(source) else {
            continue;
        };
        // The others a migration could go to, with what they have free.
        let mut free: Vec<(&Room, u64, u64)> = rooms
            .values()
            .filter(|r| r.target && r.node.key.name != source)
            .filter_map(|r| Some((r, r.free_cpu().unwrap_or(u64::MAX), r.free_memory()?)))
            .collect();
        if free.is_empty() {
            // No other node at all: the upgrade stops VMs on a single node, it does not
            // migrate them (and a node with no target is the C24 or node rules' matter).
            continue;
        }
        let before: Vec<(String, u64, u64)> = free
            .iter()
            .map(|(r, c, m)| (r.node.key.name.clone(), *c, *m))
            .collect();
        movers.sort_by(|a, b| b.memory.cmp(&a.memory).then(b.cpu.cmp(&a.cpu)));
        let mut stranded: Vec<&Mover> = Vec::new();
        for m in &movers {
            // Onto the node with the most free memory that fits both.
            let pick = free
                .iter_mut()
                .filter(|(_, c, mem)| *mem >= m.memory && *c >= m.cpu)
                .max_by_key(|(_, _, mem)| *mem);
            match pick {
                Some((_, c, mem)) => {
                    *c -= m.cpu;
                    *mem -= m.memory;
                }
                None => stranded.push(m),
            }
        }
        if stranded.is_empty() {
            continue;
        }
        let need_mem: u64 = stranded.iter().map(|m| m.memory).sum();
        let short_cpu = stranded.iter().any(|m| {
            !before
                .iter()
                .any(|(_, c, mem)| *c >= m.cpu && *mem >= m.memory)
                && before.iter().any(|(_, _, mem)| *mem >= m.memory)
        });
        let vms: Vec<String> = stranded
            .iter()
            .map(|m| {
                format!(
                    "{}/{} ({} memory, {} CPU)",
                    m.pod.key.namespace,
                    m.vm,
                    show_bytes(m.memory),
                    show_millicores(m.cpu)
                )
            })
            .collect();
        let others: Vec<String> = before
            .iter()
            .map(|(n, c, m)| {
                format!(
                    "{n} {} memory and {} CPU free",
                    show_bytes(*m),
                    if *c == u64::MAX {
                        "unknown".to_string()
                    } else {
                        show_millicores(*c)
                    }
                )
            })
            .collect();
        let title = format!(
            "Draining node {source} would likely leave {} without room to live-migrate",
            plural(stranded.len(), "VM", "VMs")
        );
        let summary = format!(
            "Node {source} runs {} (by their virt-launcher pods' requests). After placing the \
             largest first onto the other schedulable nodes, {} would not fit: {}. Free on the \
             other nodes now (allocatable less the requests of the pods bound to them): {}.{} \
             An upgrade or maintenance of {source} waits for every VM to migrate, so it would \
             likely stop there, with the target pods Pending (`Insufficient {}`). This counts \
             requests only; node affinity, taints and CPU models can leave even less room.",
            plural(movers.len(), "running VM", "running VMs"),
            plural(stranded.len(), "VM", "VMs"),
            vms.join(", "),
            others.join("; "),
            if src.target {
                ""
            } else {
                " (The node itself is not a migration target now: cordoned, not Ready or a \
                 witness.)"
            },
            if short_cpu { "cpu" } else { "memory" },
        );
        let mut evidence = vec![Evidence::of(cx.index, src.node, Some("allocatable:"))];
        evidence.extend(
            before
                .iter()
                .filter_map(|(n, _, _)| rooms.get(n.as_str()))
                .map(|r| Evidence::of(cx.index, r.node, Some("allocatable:"))),
        );
        evidence.extend(
            stranded
                .iter()
                .take(5)
                .map(|m| Evidence::of(cx.index, m.pod, Some("requests:"))),
        );
        let mut objects = vec![ObjectRef::of(src.node)];
        objects.extend(stranded.iter().map(|m| ObjectRef::of(m.pod)));
        out.push(
            Finding::about(info.id, src.node, Severity::Warning, title)
                .with_subject_aspect("migration-headroom")
                .with_summary(summary)
                .with_objects(objects)
                .with_evidence(evidence)
                .with_remediation(format!(
                    "Before an upgrade or maintenance of {source}, make {} of memory room on \
                     the other nodes: stop VMs that can wait, or move them off with a \
                     migration you watch, or add a node. Then check again:\n\
                     $ kubectl describe node {source} | grep -A8 'Allocated resources'\n\
                     During a drain, a stuck migration shows as a Pending target pod:\n\
                     $ kubectl get vmim -A\n\
                     $ kubectl get pods -A -l kubevirt.io=virt-launcher --field-selector status.phase=Pending",
                    show_bytes(need_mem)
                )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::views::Requests;

    #[test]
    fn a_pod_reserves_its_containers_or_its_largest_init_container() {
        let y = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n  - name: i\n    resources:\n      requests:\n        memory: 3Gi\n  containers:\n  - name: a\n    resources:\n      requests:\n        cpu: 250m\n        memory: 1Gi\n  - name: b\n    resources:\n      requests:\n        cpu: \"1\"\n        memory: 512Mi\n";
        let d = crate::model::views::decode("Pod", "", y).expect("pod");
        let View::Pod(v) = d.view else { panic!() };
        assert_eq!(
            v.requests(),
            Requests {
                cpu: Some(1250),
                memory: Some(3 << 30)
            }
        );
    }
}
