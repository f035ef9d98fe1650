//! Pre-check #6 Node-Status: nodes schedulable and Ready, the witness-node rules, and
//! (v1.4.x only) Longhorn eviction requested on a node or one of its disks.
use crate::facts::cluster::WITNESS_LABEL;
use crate::facts::node::{self as node_facts, Cordon};
use std::fmt::Write as _;

use super::{Hit, RES, findings, in_ns, of_kind, running, subject};
use crate::index::Object;
use crate::model::condition;
use crate::model::typed::longhorn::LhNode;
use crate::model::views::View;
use crate::rules::finding::topic;
use crate::rules::{Context, Input, RuleDef, RuleInfo, Severity};

pub(super) const NODE_STATUS: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.node-status",
        title: "Pre-check #6 Node-Status: nodes schedulable and Ready, witness rules, Longhorn eviction",
        description: "check_nodes fails on any Node with spec.unschedulable: true (cordoned \
            or in maintenance) and any Node without a Ready=True condition; of the witness \
            nodes (label node-role.harvesterhci.io/witness=true) there may be at most one and \
            each must carry the taint node-role.kubernetes.io/etcd=true:NoExecute. When the \
            running version is v1.4.x it also fails on nodes.longhorn.io with \
            spec.evictionRequested: true or a disk with spec.disks.<d>.evictionRequested: \
            true (longhorn-manager crash, issue #7717 / longhorn#10464).",
        inputs: &[RES, Input::Resource("", "nodes")],
        versions: "all; the Longhorn eviction part only when the running version is v1.4.x \
            (not run when the version is unknown)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &[
                "https://github.com/harvester/harvester/issues/7717",
                "https://longhorn.io/kb/troubleshooting-longhorn-manager-crashes-due-to-backing-image-eviction/",
            ],
            eval_node_status(cx),
        )
        .into_iter()
        .map(|f| {
            // An unschedulable node's finding is about its cordon: whoever put it there (a
            // running upgrade, maintenance mode) explains it.
            let cordoned = f
                .id
                .ends_with(":unschedulable")
                .then(|| f.objects.first().map(|o| topic::cordon(&o.name)))
                .flatten();
            match cordoned {
                Some(t) => f.with_topic(t),
                None => f,
            }
        })
        .collect()
    },
);

/// check.sh selects witness nodes with `-l node-role.harvesterhci.io/witness=true` (Harvester
/// itself only asks whether the label is there: [`crate::facts::cluster::is_witness`]).
fn is_witness(o: &Object) -> bool {
    o.meta.labels.get(WITNESS_LABEL).map(String::as_str) == Some("true")
}

fn node_status<'a>(nodes: &[&'a Object]) -> Vec<Hit<'a>> {
    let mut hits = Vec::new();
    for n in nodes {
        let name = &n.key.name;
        if let View::Node(v) = &n.view
            && v.unschedulable
        {
            let maint = n.meta.annotations.get("harvesterhci.io/maintain-status");
            hits.push(Hit {
                subject: subject(n, "unschedulable"),
                severity: Severity::Error,
                title: format!(
                    "Node {name} is unschedulable ({})",
                    if maint.is_some() {
                        "in maintenance mode"
                    } else {
                        "cordoned"
                    }
                ),
                summary: format!(
                    "Node {name} has spec.unschedulable: true{}. check_nodes prints \"There are \
                     unschedulable nodes:\" with {name}; Node-Status Test: Failed.",
                    maint
                        .map(|m| format!(" and annotation harvesterhci.io/maintain-status: {m}"))
                        .unwrap_or_default()
                ),
                objects: vec![(*n, Some("unschedulable".into()))],
                remediation: if maint.is_some() {
                    format!(
                        "Take {name} out of maintenance mode before upgrading, the Harvester way \
                         (it lifts the cordon and the annotation together; not `kubectl \
                         uncordon`):\nUI: Hosts → {name} → ⋮ → Disable Maintenance Mode."
                    )
                } else {
                    format!("Uncordon the node before upgrading:\n$ kubectl uncordon {name}")
                },
            });
        }
        let ready = condition(&n.status.conditions, "Ready");
        if ready.is_none_or(|c| c.status != "True") {
            let state = match ready {
                Some(c) => format!(
                    "Ready={}{}{}{}",
                    c.status,
                    c.reason
                        .as_deref()
                        .map(|r| format!(", reason {r}"))
                        .unwrap_or_default(),
                    c.message
                        .as_deref()
                        .map(|m| format!(": {}", crate::text::one_line(m, 200)))
                        .unwrap_or_default(),
                    c.last_transition_time
                        .as_deref()
                        .map(|t| format!(" (since {t})"))
                        .unwrap_or_default()
                ),
                None => "no Ready condition".into(),
            };
            hits.push(Hit {
                subject: subject(n, "not-ready"),
                severity: Severity::Error,
                title: format!("Node {name} is not Ready ({state})"),
                summary: format!(
                    "Node {name}: {state}. check_nodes requires a Ready=True condition on every \
                     node and prints \"Node {name} is not ready!\"; Node-Status Test: Failed."
                ),
                objects: vec![(*n, Some("type: Ready".into()))],
                remediation: format!(
                    "Bring {name} back to Ready before upgrading: see `sbdiag describe node \
                     {name}` and the kubelet and rke2 logs in its node bundle."
                ),
            });
        }
    }
    let witnesses: Vec<&'a Object> = nodes.iter().copied().filter(|n| is_witness(n)).collect();
    if witnesses.len() > 1 {
        let names: Vec<&str> = witnesses.iter().map(|w| w.key.name.as_str()).collect();
        hits.push(Hit {
            subject: "witness-count".into(),
            severity: Severity::Error,
            title: format!(
                "{} witness nodes ({}): a cluster may have at most one",
                witnesses.len(),
                names.join(", ")
            ),
            summary: format!(
                "Nodes labelled {WITNESS_LABEL}=true: {}. check_nodes allows at most one witness \
                 node; Node-Status Test: Failed.",
                names.join(", ")
            ),
            objects: witnesses
                .iter()
                .map(|w| (*w, Some(WITNESS_LABEL.to_string())))
                .collect(),
            remediation: "Keep a single witness node: remove the extra ones from the cluster and \
                          rejoin them as regular (management or worker) nodes."
                .into(),
        });
    }
    for w in &witnesses {
        let name = &w.key.name;
        let tainted = matches!(&w.view, View::Node(v) if v.taints.iter().any(|t| {
            t.key == "node-role.kubernetes.io/etcd"
                && t.value.as_deref() == Some("true")
                && t.effect == "NoExecute"
        }));
        if tainted {
            continue;
        }
        let taints = match &w.view {
            View::Node(v) if !v.taints.is_empty() => v
                .taints
                .iter()
                .map(|t| {
                    format!(
                        "{}={}:{}",
                        t.key,
                        t.value.as_deref().unwrap_or(""),
                        t.effect
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => "none".into(),
        };
        hits.push(Hit {
            subject: subject(w, "witness-taint"),
            severity: Severity::Error,
            title: format!(
                "Witness node {name} lacks the taint node-role.kubernetes.io/etcd=true:NoExecute"
            ),
            summary: format!(
                "Node {name} is a witness node ({WITNESS_LABEL}=true); its taints: {taints}. \
                 check_nodes requires node-role.kubernetes.io/etcd=true:NoExecute on a witness \
                 node, which keeps workloads off it; Node-Status Test: Failed."
            ),
            objects: vec![(
                *w,
                Some(if taints == "none" {
                    WITNESS_LABEL.to_string()
                } else {
                    "taints:".to_string()
                }),
            )],
            remediation: format!(
                "Restore the witness taint:\n$ kubectl taint node {name} \
                 node-role.kubernetes.io/etcd=true:NoExecute"
            ),
        });
    }
    hits
}

/// Longhorn nodes (v1.4.x only) with eviction requested on the node or one of its disks.
fn eviction<'a>(lh_nodes: &[&'a Object]) -> Vec<Hit<'a>> {
    lh_nodes
        .iter()
        .filter_map(|n| {
            let t = LhNode::of(*n)?;
            let node_level = t.eviction_requested() == Some(true);
            let disks: Vec<&str> = t
                .disks()
                .filter(|(_, d)| d.eviction_requested() == Some(true))
                .map(|(name, _)| name)
                .collect();
            if !node_level && disks.is_empty() {
                return None;
            }
            let name = &n.key.name;
            let mut what = Vec::new();
            if node_level {
                what.push("spec.evictionRequested: true".to_string());
            }
            for d in &disks {
                what.push(format!("spec.disks.{d}.evictionRequested: true"));
            }
            let mut fix = String::new();
            if node_level {
                let _ = writeln!(
                    fix,
                    "$ kubectl -n longhorn-system patch nodes.longhorn.io {name} --type merge -p \
                     '{{\"spec\":{{\"evictionRequested\":false}}}}'"
                );
            }
            for d in &disks {
                let _ = writeln!(
                    fix,
                    "$ kubectl -n longhorn-system patch nodes.longhorn.io {name} --type json -p \
                     '[{{\"op\":\"replace\",\"path\":\"/spec/disks/{d}/evictionRequested\",\
                     \"value\":false}}]'"
                );
            }
            Some(Hit {
                subject: subject(n, "eviction-requested"),
                severity: Severity::Error,
                title: format!(
                    "Longhorn node {name} has eviction requested ({})",
                    what.join(", ")
                ),
                summary: format!(
                    "nodes.longhorn.io longhorn-system/{name}: {}. On Harvester v1.4.x \
                     (Longhorn v1.7) an eviction request makes longhorn-manager crash during the \
                     upgrade (issue #7717, longhorn#10464); check_longhorn_eviction_status \
                     reports it as an ERROR and Node-Status fails.",
                    what.join(", ")
                ),
                objects: vec![(*n, Some("evictionRequested: true".into()))],
                remediation: format!(
                    "Let the eviction finish or cancel it, and set evictionRequested to false \
                     before starting the upgrade (Longhorn UI → Node → Edit node and disks → \
                     Eviction Requested: False), or:\n{}",
                    fix.trim_end()
                ),
            })
        })
        .collect()
}

fn eval_node_status<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    let mut hits = node_status(&of_kind(cx.index, "", "Node"));
    // The check does fail on a node a running upgrade cordoned, but that cordon is the
    // upgrade's own: the way forward is the upgrade, never an uncordon.
    for h in &mut hits {
        let Some(n) = h
            .objects
            .first()
            .map(|(o, _)| *o)
            .filter(|o| o.key.kind == "Node")
        else {
            continue;
        };
        let name = &n.key.name;
        if h.subject.ends_with(":not-ready") {
            h.remediation = format!(
                "Bring {name} back to Ready before upgrading: check its power and network, then \
                 its kubelet and rke2 logs (from its node bundle, when the bundle holds one):\n\
                 $ {}\n$ {}",
                cx.sbdiag("describe", &format!("node {name}")),
                cx.sbdiag("logs", &format!("{name} -c kubelet"))
            );
            continue;
        }
        if h.subject.ends_with(":unschedulable")
            && let Some(Cordon::Upgrade { upgrade, state }) = node_facts::cordon(cx.index, n)
        {
            h.title = format!("Node {name} is unschedulable (cordoned by upgrade {upgrade})");
            h.summary = format!(
                "{} Upgrade {upgrade} has not finished and records {name} in state {state}: \
                 its drain cordoned the node, and lifts the cordon when the node's upgrade \
                 completes.",
                h.summary
            );
            h.remediation = format!(
                "Do not uncordon {name}: upgrade {upgrade}, which is still running, owns the \
                 cordon. The way forward is that upgrade (see upgrade.stuck), not an uncordon; \
                 check.sh passes once it has finished."
            );
        }
    }
    if running(cx).is_some_and(|v| v.minor() == Some((1, 4))) {
        if cx.collected("longhorn.io", "nodes") {
            hits.extend(eviction(&in_ns(
                cx.index,
                "longhorn.io",
                "Node",
                "longhorn-system",
            )));
        } else {
            hits.push(Hit {
                subject: "longhorn-eviction:not-evaluated".into(),
                severity: Severity::Info,
                title: "Longhorn eviction check of Node-Status not evaluated: nodes.longhorn.io \
                        not collected"
                    .into(),
                summary: "On v1.4.x check_nodes also fails on Longhorn nodes or disks with \
                          evictionRequested: true; the bundle has no nodes.longhorn.io list."
                    .into(),
                objects: Vec::new(),
                remediation: "On the cluster, look for evictionRequested: true:\n$ kubectl -n \
                              longhorn-system get nodes.longhorn.io -o yaml | grep \
                              evictionRequested"
                    .into(),
            });
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::precheck::fixtures::{node, object};

    const WITNESS: &str = "    node-role.harvesterhci.io/witness: \"true\"\n";

    const ETCD_TAINT: &str = "  taints:\n  - effect: NoExecute\n    key: node-role.kubernetes.io/etcd\n    value: \"true\"\n";

    #[test]
    fn node_status_witness_rules() {
        let a = node("a", "", "", "True");
        let good_witness = node("w1", WITNESS, ETCD_TAINT, "True");
        assert!(node_status(&[&a, &good_witness]).is_empty());

        let wrong_effect = ETCD_TAINT.replace("NoExecute", "NoSchedule");
        let untainted = node("w2", WITNESS, &wrong_effect, "True");
        let hits = node_status(&[&a, &good_witness, &untainted]);
        let subjects: Vec<&str> = hits.iter().map(|h| h.subject.as_str()).collect();
        assert_eq!(subjects, vec!["witness-count", "Node/w2:witness-taint"]);
        assert!(
            hits[1]
                .remediation
                .contains("kubectl taint node w2 node-role.kubernetes.io/etcd=true:NoExecute")
        );
        assert!(hits[1].summary.contains("NoSchedule"));
    }

    #[test]
    fn node_status_unschedulable_and_not_ready() {
        let cordoned = object(
            "Node",
            "",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: c\nspec:\n  unschedulable: true\nstatus:\n  conditions:\n  - status: \"False\"\n    reason: KubeletNotReady\n    type: Ready\n",
        );
        let no_cond = object(
            "Node",
            "",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n",
        );
        let hits = node_status(&[&cordoned, &no_cond]);
        let subjects: Vec<&str> = hits.iter().map(|h| h.subject.as_str()).collect();
        assert_eq!(
            subjects,
            vec![
                "Node/c:unschedulable",
                "Node/c:not-ready",
                "Node/n:not-ready"
            ]
        );
        assert!(hits[0].remediation.contains("kubectl uncordon c"));
        assert!(hits[1].title.contains("KubeletNotReady"));
    }

    #[test]
    fn longhorn_eviction_requests() {
        let lh = object(
            "Node",
            "longhorn.io",
            "apiVersion: longhorn.io/v1beta2\nkind: Node\nmetadata:\n  name: n1\n  namespace: longhorn-system\nspec:\n  disks:\n    d1:\n      evictionRequested: true\n    d2:\n      evictionRequested: false\n  evictionRequested: false\n",
        );
        let clean = object(
            "Node",
            "longhorn.io",
            "apiVersion: longhorn.io/v1beta2\nkind: Node\nmetadata:\n  name: n2\n  namespace: longhorn-system\nspec:\n  disks:\n    d1:\n      evictionRequested: false\n  evictionRequested: \"false\"\n",
        );
        let hits = eviction(&[&lh, &clean]);
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].subject,
            "Node/longhorn-system/n1:eviction-requested"
        );
        assert!(hits[0].title.contains("spec.disks.d1.evictionRequested"));
        assert!(
            hits[0]
                .remediation
                .contains("/spec/disks/d1/evictionRequested")
        );
    }
}
