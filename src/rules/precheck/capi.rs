//! Pre-checks #7 CAPI-Cluster-State, #8 CAPI-Cluster-Pause, #9 CAPI-Machine-Count and
//! #10 CAPI-Machine-State, over `clusters.cluster.x-k8s.io` fleet-local/local and the
//! fleet-local CAPI Machines.
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{Hit, RES, TROUBLESHOOTING, findings, full, in_ns, of_kind, subject};
use crate::index::Object;
use crate::model::typed::capi::{CapiCluster, CapiMachine};
use crate::rules::{Context, Input, RuleDef, RuleInfo, Severity};
use crate::text::plural;

pub(super) const CAPI_CLUSTER_STATE: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.capi-cluster-state",
        title: "Pre-check #7 CAPI-Cluster-State: clusters.cluster.x-k8s.io fleet-local/local is Provisioned",
        description: "check_cluster reads status.phase of the CAPI Cluster fleet-local/local \
            and fails unless it is Provisioned (a missing cluster fails too).",
        inputs: &[RES, Input::Resource("cluster.x-k8s.io", "clusters")],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &[
                TROUBLESHOOTING,
                "https://github.com/harvester/harvester/issues/3863",
            ],
            eval_capi_cluster_state(cx),
        )
    },
);

pub(super) const CAPI_CLUSTER_PAUSE: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.capi-cluster-pause",
        title: "Pre-check #8 CAPI-Cluster-Pause: fleet-local/local is not paused",
        description: "check_cluster_pause fails when spec.paused of the CAPI Cluster \
            fleet-local/local is true: the upgrade stalls until spec.paused is cleared.",
        inputs: &[RES, Input::Resource("cluster.x-k8s.io", "clusters")],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| findings(info, cx, &[], eval_capi_cluster_pause(cx)),
);

pub(super) const CAPI_MACHINE_COUNT: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.capi-machine-count",
        title: "Pre-check #9 CAPI-Machine-Count: as many CAPI machines in fleet-local as nodes",
        description: "check_machines compares the number of machines.cluster.x-k8s.io in \
            fleet-local with the number of Nodes and fails when they differ (orphan \
            machines of removed or reinstalled nodes, issues #6253, #6095, #8236).",
        inputs: &[
            RES,
            Input::Resource("cluster.x-k8s.io", "machines"),
            Input::Resource("", "nodes"),
        ],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &[
                "https://github.com/harvester/harvester/issues/6253",
                "https://github.com/harvester/harvester/issues/8236",
            ],
            eval_capi_machine_count(cx),
        )
    },
);

pub(super) const CAPI_MACHINE_STATE: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.capi-machine-state",
        title: "Pre-check #10 CAPI-Machine-State: every CAPI machine in fleet-local is Running",
        description: "check_machines fails on every machines.cluster.x-k8s.io in fleet-local \
            whose status.phase is not Running.",
        inputs: &[RES, Input::Resource("cluster.x-k8s.io", "machines")],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &[
                TROUBLESHOOTING,
                "https://github.com/harvester/harvester/issues/6253",
            ],
            eval_capi_machine_state(cx),
        )
    },
);

// ---------------------------------------------------------------- #7, #8 CAPI cluster

fn capi_cluster<'a>(cx: &Context<'a>) -> Option<&'a Object> {
    cx.index
        .find("cluster.x-k8s.io", "Cluster", "fleet-local", "local")
}

/// Where the capi-controller-manager logs are for this cluster, and whether the bundle has
/// them: the namespace moved in v1.8.0 and the bundle's default namespaces do not follow.
pub(crate) fn capi_logs(cx: &Context) -> String {
    let running = cx.harvester_version().map(|(v, _)| v);
    let ns = crate::facts::harvester::capi_namespace(running.as_ref());
    if cx.coverage.collected.namespaces.iter().any(|n| n == ns) {
        format!(
            "the capi-controller-manager logs (namespace {ns}, in this bundle under logs/{ns}/)"
        )
    } else {
        format!(
            "the capi-controller-manager logs (namespace {ns}, not collected in this bundle: add \
             it to setting support-bundle-namespaces and collect again)"
        )
    }
}

fn capi_fix(cx: &Context) -> String {
    format!(
        "Wait until CAPI cluster fleet-local/local is Provisioned. If it stays Provisioning: check \
         expired RKE2 certificates (bump spec.rkeConfig.rotateCertificates.generation of \
         clusters.provisioning.cattle.io local -n fleet-local, or enable setting \
         auto-rotate-rke2-certs), that secret fleet-local/local-kubeconfig carries the label \
         cluster.x-k8s.io/cluster-name=local, that spec.paused is not set, and {}; restarting \
         that deployment often unsticks it.",
        capi_logs(cx)
    )
}

fn capi_cluster_state<'a>(c: Option<&'a Object>, fix: &str) -> Vec<Hit<'a>> {
    let Some(c) = c else {
        return vec![Hit {
            subject: "Cluster/fleet-local/local".into(),
            severity: Severity::Error,
            title: "CAPI Cluster fleet-local/local is missing".into(),
            summary: "The bundle has no clusters.cluster.x-k8s.io fleet-local/local: \
                      check_cluster reads an empty phase and prints \"Cluster is not provisioned \
                      ()\"; CAPI-Cluster-State Test: Failed."
                .into(),
            objects: Vec::new(),
            remediation: fix.into(),
        }];
    };
    let phase = CapiCluster::of(c)
        .and_then(CapiCluster::phase)
        .unwrap_or("");
    if phase == "Provisioned" {
        return Vec::new();
    }
    let shown = if phase.is_empty() { "empty" } else { phase };
    vec![Hit {
        subject: "Cluster/fleet-local/local".into(),
        severity: Severity::Error,
        title: format!("CAPI Cluster fleet-local/local is not Provisioned (phase {shown})"),
        summary: format!(
            "clusters.cluster.x-k8s.io fleet-local/local has status.phase {shown}. check_cluster \
             requires Provisioned and prints \"Cluster is not provisioned ({phase})\"; \
             CAPI-Cluster-State Test: Failed. The upgrade webhook denies the same (C8), and the \
             upgrade script waits on it."
        ),
        objects: vec![(c, Some("phase:".into()))],
        remediation: fix.into(),
    }]
}

fn eval_capi_cluster_state<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    capi_cluster_state(capi_cluster(cx), &capi_fix(cx))
}

fn capi_cluster_pause(c: Option<&Object>) -> Vec<Hit<'_>> {
    let Some(c) = c else { return Vec::new() };
    if CapiCluster::of(c).and_then(CapiCluster::paused) != Some(true) {
        return Vec::new();
    }
    vec![Hit {
        subject: "Cluster/fleet-local/local".into(),
        severity: Severity::Error,
        title: "CAPI Cluster fleet-local/local is paused (spec.paused: true)".into(),
        summary: "clusters.cluster.x-k8s.io fleet-local/local has spec.paused: true: CAPI does \
                  not reconcile it, so the upgrade will stall until spec.paused is cleared; \
                  CAPI-Cluster-Pause Test: Failed."
            .into(),
        objects: vec![(c, Some("paused:".into()))],
        remediation: "Clear spec.paused before upgrading:\n$ kubectl -n fleet-local patch \
                      clusters.cluster.x-k8s.io local --type merge -p \
                      '{\"spec\":{\"paused\":false}}'"
            .into(),
    }]
}

fn eval_capi_cluster_pause<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    capi_cluster_pause(capi_cluster(cx))
}

// ---------------------------------------------------------------- #9, #10 CAPI machines

/// Deleting orphan machines (those given), and what to do for a node without a machine.
fn machine_fix(orphans: &[&Object]) -> String {
    let mut s = String::from(
        "Delete orphan machines — ones whose node was removed or reinstalled — after checking \
         they have no node (issues #6253, #6095).",
    );
    for m in orphans {
        s.push_str(&format!(
            "\n$ kubectl -n {} delete machines.cluster.x-k8s.io {}",
            m.key.namespace, m.key.name
        ));
    }
    s.push_str("\nA node without a machine must be reinstalled or rejoined.");
    s
}

fn machine_phase(m: &Object) -> Option<&str> {
    CapiMachine::of(m).and_then(CapiMachine::phase)
}

fn machine_node(m: &Object) -> Option<&str> {
    CapiMachine::of(m).and_then(CapiMachine::node_ref_name)
}

fn capi_machine_count<'a>(machines: &[&'a Object], nodes: &[&'a Object]) -> Vec<Hit<'a>> {
    if machines.len() == nodes.len() {
        return Vec::new();
    }
    let node_names: BTreeSet<&str> = nodes.iter().map(|n| n.key.name.as_str()).collect();
    let referenced: BTreeSet<&str> = machines.iter().filter_map(|m| machine_node(m)).collect();
    let orphans: Vec<&'a Object> = machines
        .iter()
        .copied()
        .filter(|m| machine_node(m).is_none_or(|n| !node_names.contains(n)))
        .collect();
    let bare: Vec<&'a Object> = nodes
        .iter()
        .copied()
        .filter(|n| !referenced.contains(n.key.name.as_str()))
        .collect();
    let mut summary = format!(
        "fleet-local has {} and the cluster {}. check_machines requires equal counts and prints \
         \"CAPI machine count ({}) is not equal to node count ({})\"; CAPI-Machine-Count Test: \
         Failed.\n",
        plural(machines.len(), "CAPI machine", "CAPI machines"),
        plural(nodes.len(), "node", "nodes"),
        machines.len(),
        nodes.len()
    );
    for m in &orphans {
        let _ = writeln!(
            summary,
            "  - machine {} (phase {}) {}",
            m.key.name,
            machine_phase(m).unwrap_or("(none)"),
            match machine_node(m) {
                Some(n) => format!("refers to node {n}, which does not exist"),
                None => "has no status.nodeRef".into(),
            }
        );
    }
    for n in &bare {
        let _ = writeln!(
            summary,
            "  - node {} is not the nodeRef of any machine",
            n.key.name
        );
    }
    let mut objects: Vec<(&'a Object, Option<String>)> = orphans
        .iter()
        .map(|m| (*m, Some("nodeRef".to_string())))
        .collect();
    objects.extend(bare.iter().map(|n| (*n, None)));
    vec![Hit {
        subject: "count".into(),
        severity: Severity::Error,
        title: format!(
            "{} in fleet-local for {}",
            plural(machines.len(), "CAPI machine", "CAPI machines"),
            plural(nodes.len(), "node", "nodes")
        ),
        summary,
        objects,
        remediation: machine_fix(&orphans),
    }]
}

fn eval_capi_machine_count<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    capi_machine_count(
        &in_ns(cx.index, "cluster.x-k8s.io", "Machine", "fleet-local"),
        &of_kind(cx.index, "", "Node"),
    )
}

fn capi_machine_state<'a>(machines: &[&'a Object], logs: &str) -> Vec<Hit<'a>> {
    machines
        .iter()
        .filter_map(|m| {
            let phase = machine_phase(m).unwrap_or("");
            if phase == "Running" {
                return None;
            }
            let shown = if phase.is_empty() { "empty" } else { phase };
            let node = machine_node(m)
                .map(|n| format!("node {n}"))
                .unwrap_or_else(|| "no node".into());
            Some(Hit {
                subject: subject(m, ""),
                severity: Severity::Error,
                title: format!("CAPI machine {} is not Running (phase {shown})", full(m)),
                summary: format!(
                    "machines.cluster.x-k8s.io {} has status.phase {shown} ({node}). \
                     check_machines prints \"CAPI machine {} phase is not 'Running' but is: \
                     {phase}.\"; CAPI-Machine-State Test: Failed. The upgrade webhook denies the \
                     same (C20).",
                    full(m),
                    m.key.name
                ),
                objects: vec![(*m, Some("phase:".into()))],
                remediation: format!(
                    "Find why the machine is not Running (read {}). {}",
                    logs,
                    machine_fix(&[*m])
                ),
            })
        })
        .collect()
}

fn eval_capi_machine_state<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    capi_machine_state(
        &in_ns(cx.index, "cluster.x-k8s.io", "Machine", "fleet-local"),
        &capi_logs(cx),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::precheck::fixtures::{node, object};

    #[test]
    fn capi_cluster_phase_and_pause() {
        let c = object(
            "Cluster",
            "cluster.x-k8s.io",
            "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata:\n  name: local\n  namespace: fleet-local\nspec:\n  paused: true\nstatus:\n  phase: Provisioning\n",
        );
        assert_eq!(capi_cluster_state(Some(&c), "fix").len(), 1);
        let p = capi_cluster_pause(Some(&c));
        assert_eq!(p.len(), 1);
        assert!(p[0].remediation.contains("\"paused\":false"));
        assert_eq!(capi_cluster_state(None, "fix").len(), 1);
        assert!(capi_cluster_pause(None).is_empty());
    }

    #[test]
    fn capi_fix_names_the_controllers_namespace_of_the_running_version() {
        let c = "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata:\n  name: local\n  namespace: fleet-local\nstatus:\n  phase: Provisioning\n";
        let fix = |v: &str| {
            let bed = crate::rules::TestBed::new(&[c], Some(v));
            let out = bed.run(&CAPI_CLUSTER_STATE);
            assert_eq!(out.len(), 1, "{out:#?}");
            out[0].remediation.clone()
        };
        let old = fix("v1.7.3");
        assert!(
            old.contains("namespace cattle-provisioning-capi-system, not collected in this bundle"),
            "{old}"
        );
        // v1.8+: the controllers moved; the bundle's default namespaces did not follow.
        let new = fix("v1.8.0");
        assert!(
            new.contains("the capi-controller-manager logs (namespace cattle-capi-system, not collected in this bundle: add it to setting support-bundle-namespaces and collect again)"),
            "{new}"
        );
    }

    #[test]
    fn capi_machine_count_names_orphans() {
        let m = |name: &str, node: &str, phase: &str| {
            object(
                "Machine",
                "cluster.x-k8s.io",
                &format!(
                    "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Machine\nmetadata:\n  name: \
                     {name}\n  namespace: fleet-local\nstatus:\n  nodeRef:\n    name: {node}\n  \
                     phase: {phase}\n"
                ),
            )
        };
        let (m1, m2) = (m("m1", "a", "Running"), m("m2", "gone", "Provisioning"));
        let a = node("a", "", "", "True");
        let hits = capi_machine_count(&[&m1, &m2], &[&a]);
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0]
                .summary
                .contains("machine m2 (phase Provisioning) refers to node gone")
        );
        assert!(capi_machine_count(&[&m1], &[&a]).is_empty());
        let state = capi_machine_state(&[&m1, &m2], "the logs");
        assert_eq!(state.len(), 1);
        assert_eq!(state[0].subject, "Machine/fleet-local/m2");
    }
}
