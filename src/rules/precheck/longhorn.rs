//! Pre-checks #11 Longhorn-Volume-Health-Status, #12 Stale-Longhorn-Volumes and #13
//! Longhorn-Backing-Images (from v1.4.0), over Longhorn Volumes and BackingImages.
use crate::facts::version::Range;
use std::collections::BTreeSet;

use super::{Hit, RES, TROUBLESHOOTING, findings, full, in_ns, of_kind, opt, subject, with_pvc};
use crate::index::Object;
use crate::model::typed::longhorn::{LhBackingImage, LhVolume};
use crate::rules::{Context, Input, RuleDef, RuleInfo, Severity};
use crate::text::plural;

pub(super) const LONGHORN_VOLUME_HEALTH: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.longhorn-volume-health",
        title: "Pre-check #11 Longhorn-Volume-Health-Status: no single-replica or degraded volume",
        description: "check_volumes (skipped on 1-node clusters) takes the volume of every \
            engines.longhorn.io (label longhornvolume): spec.numberOfReplicas == 1 fails \
            (running: it blocks the node drain; detached: potential data integrity \
            concerns); otherwise a volume whose status.robustness is not healthy fails — \
            unless it is detached and has at least spec.numberOfReplicas \
            replicas.longhorn.io labelled longhornvolume=<volume>.",
        inputs: &[
            RES,
            Input::Resource("", "nodes"),
            Input::Resource("longhorn.io", "engines"),
            Input::Resource("longhorn.io", "volumes"),
            Input::Resource("longhorn.io", "replicas"),
        ],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &[
                TROUBLESHOOTING,
                "https://github.com/harvester/harvester/issues/6425",
            ],
            eval_volume_health(cx),
        )
    },
);

pub(super) const STALE_LONGHORN_VOLUMES: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.stale-longhorn-volumes",
        title: "Pre-check #12 Stale-Longhorn-Volumes: no attached volume without a running workload",
        description: "check_attached_volumes fails on every volumes.longhorn.io with \
            status.state attached whose status.kubernetesStatus.workloadsStatus is empty or \
            has no entry with podStatus Running (issue #3648): such a volume stays attached \
            and holds the node drain.",
        inputs: &[RES, Input::Resource("longhorn.io", "volumes")],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &[
                TROUBLESHOOTING,
                "https://github.com/harvester/harvester/issues/3648",
            ],
            eval_stale_volumes(cx),
        )
    },
);

pub(super) const LONGHORN_BACKING_IMAGES: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.longhorn-backing-images",
        title: "Pre-check #13 Longhorn-Backing-Images: enough copies of every backing image",
        description: "check_images (Harvester v1.4.0 and later only) reads \
            spec.minNumberOfCopies of every backingimages.longhorn.io: 0 fails, 1 or 2 is a \
            warning (a backing image with too few copies can be lost while nodes are \
            drained and rebooted). An absent field is not judged. Below v1.4.0 the rule \
            returns nothing.",
        inputs: &[
            RES,
            Input::HarvesterVersion,
            Input::Resource("longhorn.io", "backingimages"),
        ],
        versions: "v1.4.0+ (nothing below)",
    },
    |info, cx| findings(info, cx, &[], eval_backing_images(cx)),
)
.only(Range::since(1, 4, 0));

// ---------------------------------------------------------------- #11 longhorn-volume-health

fn volume_health<'a>(
    node_count: usize,
    engines: &[&'a Object],
    volumes: &[&'a Object],
    replicas: &[&'a Object],
) -> Vec<Hit<'a>> {
    if node_count == 1 {
        return Vec::new();
    }
    let names: BTreeSet<&str> = engines
        .iter()
        .filter_map(|e| e.meta.labels.get("longhornvolume").map(String::as_str))
        .filter(|v| !v.is_empty())
        .collect();
    let mut hits = Vec::new();
    for name in names {
        let Some(v) = volumes.iter().copied().find(|v| v.key.name == name) else {
            continue;
        };
        let Some(t) = LhVolume::of(v) else { continue };
        let wanted = t.number_of_replicas();
        let state = t.state().unwrap_or("");
        let robustness = t.robustness().unwrap_or("");
        let label = with_pvc(v);
        if wanted == Some(1) {
            let detached = state == "detached";
            hits.push(Hit {
                subject: subject(v, "single-replica"),
                severity: Severity::Error,
                title: format!(
                    "Longhorn volume {label} has a single replica ({})",
                    if detached {
                        "detached: potential data integrity concerns"
                    } else {
                        "it will block the node drain"
                    }
                ),
                summary: format!(
                    "volumes.longhorn.io longhorn-system/{name}: spec.numberOfReplicas 1, state \
                     {state}, robustness {robustness}. check_volumes fails on every \
                     single-replica volume ({}); Longhorn-Volume-Health-Status Test: Failed. The \
                     upgrade webhook denies the same (C22/C23).",
                    if detached {
                        "detached: the upgrade may have potential data integrity concerns"
                    } else {
                        "running: it will block the node drain"
                    }
                ),
                objects: vec![(v, Some("numberOfReplicas:".into()))],
                remediation: format!(
                    "Raise the replica count (Longhorn UI, or the command below), or shut down \
                     the workload using it before upgrading:\n$ kubectl -n longhorn-system patch \
                     volumes.longhorn.io {name} --type merge -p \
                     '{{\"spec\":{{\"numberOfReplicas\":3}}}}'"
                ),
            });
            continue;
        }
        if robustness == "healthy" {
            continue;
        }
        if state == "detached" {
            let have = replicas
                .iter()
                .filter(|r| r.meta.labels.get("longhornvolume").map(String::as_str) == Some(name))
                .count();
            let want = wanted.unwrap_or(0);
            if i64::try_from(have).unwrap_or(i64::MAX) >= want {
                continue;
            }
            let mut objects: Vec<(&'a Object, Option<String>)> =
                vec![(v, Some("numberOfReplicas:".into()))];
            objects.extend(
                replicas
                    .iter()
                    .filter(|r| {
                        r.meta.labels.get("longhornvolume").map(String::as_str) == Some(name)
                    })
                    .map(|r| (*r, None)),
            );
            hits.push(Hit {
                subject: subject(v, "missing-replicas"),
                severity: Severity::Error,
                title: format!("Detached Longhorn volume {label} has {have} of {want} replicas"),
                summary: format!(
                    "volumes.longhorn.io longhorn-system/{name}: detached, robustness \
                     {robustness}, spec.numberOfReplicas {want}, but only {} labelled \
                     longhornvolume={name}. check_volumes accepts a detached volume that is not \
                     healthy only when it has all its replicas; Longhorn-Volume-Health-Status \
                     Test: Failed.",
                    plural(
                        have,
                        "replicas.longhorn.io object is",
                        "replicas.longhorn.io objects are"
                    )
                ),
                objects,
                remediation: format!(
                    "Attach the volume (start its VM, or attach it in the Longhorn UI) so that \
                     Longhorn rebuilds the missing replicas, then detach it again; or, when the \
                     replicas cannot be scheduled, lower spec.numberOfReplicas to what the \
                     cluster can hold:\n$ kubectl -n longhorn-system patch volumes.longhorn.io \
                     {name} --type merge -p '{{\"spec\":{{\"numberOfReplicas\":{have}}}}}'"
                ),
            });
        } else {
            hits.push(Hit {
                subject: subject(v, "degraded"),
                severity: Severity::Error,
                title: format!(
                    "Longhorn volume {label} is {} while {}",
                    if robustness.is_empty() {
                        "of unknown robustness"
                    } else {
                        robustness
                    },
                    if state.is_empty() {
                        "in no state"
                    } else {
                        state
                    }
                ),
                summary: format!(
                    "volumes.longhorn.io longhorn-system/{name}: state {state}, robustness \
                     {robustness}, spec.numberOfReplicas {}. check_volumes prints \"Degraded \
                     Longhorn Volume found: {name}\"; Longhorn-Volume-Health-Status Test: \
                     Failed. The node drain waits for such a volume (\"Waiting for volume … to \
                     be healthy\").",
                    opt(wanted)
                ),
                objects: vec![(v, Some("robustness:".into()))],
                remediation: "Wait for Longhorn to rebuild the replicas (Longhorn UI → Volumes), \
                              or bring back the node or disk holding the missing replica. On \
                              clusters with fewer schedulable nodes or disks than \
                              numberOfReplicas (2-node, witness), lower spec.numberOfReplicas."
                    .into(),
            });
        }
    }
    hits
}

fn eval_volume_health<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    volume_health(
        cx.index.of_kind("", "Node").count(),
        &in_ns(cx.index, "longhorn.io", "Engine", "longhorn-system"),
        &in_ns(cx.index, "longhorn.io", "Volume", "longhorn-system"),
        &in_ns(cx.index, "longhorn.io", "Replica", "longhorn-system"),
    )
}

// ---------------------------------------------------------------- #12 stale-longhorn-volumes

fn stale_volumes<'a>(volumes: &[&'a Object]) -> Vec<Hit<'a>> {
    volumes
        .iter()
        .filter_map(|v| {
            let t = LhVolume::of(*v)?;
            if t.state() != Some("attached") {
                return None;
            }
            let name = &v.key.name;
            let label = with_pvc(v);
            let workloads: Vec<_> = t.workloads().collect();
            let node = t
                .current_node_id()
                .map(|n| format!(" on {n}"))
                .unwrap_or_default();
            if workloads.is_empty() {
                return Some(Hit {
                    subject: subject(v, "no-workload"),
                    severity: Severity::Error,
                    title: format!("Longhorn volume {label} is attached{node} but has no workload"),
                    summary: format!(
                        "volumes.longhorn.io {}: status.state attached{node}, \
                         status.kubernetesStatus.workloadsStatus empty. check_attached_volumes \
                         prints \"Volume {name} is attached but has no workload.\"; \
                         Stale-Longhorn-Volumes Test: Failed (issue #3648).",
                        full(v)
                    ),
                    objects: vec![(*v, Some("kubernetesStatus:".into()))],
                    remediation: stale_fix(name),
                });
            }
            let pods: Vec<String> = workloads
                .iter()
                .map(|w| {
                    format!(
                        "{} {}",
                        w.pod_name().unwrap_or("?"),
                        w.pod_status().unwrap_or("?")
                    )
                })
                .collect();
            let running = workloads.iter().any(|w| w.pod_status() == Some("Running"));
            if running {
                return None;
            }
            Some(Hit {
                subject: subject(v, "workload-not-running"),
                severity: Severity::Error,
                title: format!(
                    "Longhorn volume {label} is attached{node} but none of its workloads runs \
                     ({})",
                    pods.join(", ")
                ),
                summary: format!(
                    "volumes.longhorn.io {}: status.state attached{node}; workloadsStatus: {}. \
                     check_attached_volumes fails when no workload pod is Running (\"Volume \
                     {name} is attached, but one or more of its workloads is not running.\"); \
                     Stale-Longhorn-Volumes Test: Failed (issue #3648).",
                    full(v),
                    pods.join(", ")
                ),
                objects: vec![(*v, Some("workloadsStatus:".into()))],
                remediation: stale_fix(name),
            })
        })
        .collect()
}

fn stale_fix(name: &str) -> String {
    format!(
        "A volume attached without a running workload holds its node's drain. If its VM or pod \
         is gone or stopped, detach the volume: find what still attaches it, and remove the \
         stale attachment, or detach it in the Longhorn UI; if the VM is meant to run, start it \
         again.\n$ kubectl get volumeattachments.storage.k8s.io | grep {name}\n$ kubectl -n \
         longhorn-system get volumeattachments.longhorn.io {name} -o yaml"
    )
}

fn eval_stale_volumes<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    stale_volumes(&of_kind(cx.index, "longhorn.io", "Volume"))
}

// ---------------------------------------------------------------- #13 longhorn-backing-images

fn backing_images<'a>(images: &[&'a Object]) -> Vec<Hit<'a>> {
    images
        .iter()
        .filter_map(|b| {
            let copies = LhBackingImage::of(*b)?.min_number_of_copies()?;
            if copies >= 3 {
                return None;
            }
            let name = &b.key.name;
            let (severity, what) = if copies <= 0 {
                (Severity::Error, "fails")
            } else {
                (Severity::Warning, "warns")
            };
            Some(Hit {
                subject: subject(b, ""),
                severity,
                title: format!(
                    "Longhorn backing image {name} keeps minNumberOfCopies {copies}{}",
                    if copies <= 0 {
                        " (no guaranteed copy)"
                    } else {
                        " (< 3)"
                    }
                ),
                summary: format!(
                    "backingimages.longhorn.io {}: spec.minNumberOfCopies {copies}. check_images \
                     fails on 0 and warns below 3: while nodes are drained and rebooted one by \
                     one, a backing image with fewer copies may have none available, and VMs \
                     using the image cannot start or rebuild replicas. Here it {what}.",
                    full(b)
                ),
                objects: vec![(*b, Some("minNumberOfCopies:".into()))],
                remediation: format!(
                    "Raise the minimum number of copies to 3 before upgrading (Longhorn UI → \
                     Backing Image → Update Minimum Copies Count), or with:\n$ kubectl -n \
                     longhorn-system patch backingimages.longhorn.io {name} --type merge -p \
                     '{{\"spec\":{{\"minNumberOfCopies\":3}}}}'"
                ),
            })
        })
        .collect()
}

fn eval_backing_images<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    backing_images(&of_kind(cx.index, "longhorn.io", "BackingImage"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::precheck::fixtures::object;

    fn volume(name: &str, replicas: u32, state: &str, robustness: &str) -> Object {
        object(
            "Volume",
            "longhorn.io",
            &format!(
                "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  name: {name}\n  \
                 namespace: longhorn-system\nspec:\n  numberOfReplicas: {replicas}\nstatus:\n  \
                 kubernetesStatus:\n    namespace: default\n    pvcName: {name}-pvc\n  \
                 robustness: {robustness}\n  state: {state}\n"
            ),
        )
    }

    fn labelled(kind: &str, name: &str, vol: &str) -> Object {
        object(
            kind,
            "longhorn.io",
            &format!(
                "apiVersion: longhorn.io/v1beta2\nkind: {kind}\nmetadata:\n  name: {name}\n  \
                 namespace: longhorn-system\n  labels:\n    longhornvolume: {vol}\n"
            ),
        )
    }

    #[test]
    fn volume_health_detached_with_fewer_replicas_vs_degraded() {
        let vols = [
            volume("healthy", 3, "attached", "healthy"),
            volume("degraded", 3, "attached", "degraded"),
            // Detached with all replicas: not healthy (unknown) but accepted.
            volume("parked", 3, "detached", "unknown"),
            // Detached with 2 of 3 replicas: fails.
            volume("short", 3, "detached", "unknown"),
            volume("single", 1, "detached", "unknown"),
        ];
        let engines: Vec<Object> = vols
            .iter()
            .map(|v| labelled("Engine", &format!("{}-e-0", v.key.name), &v.key.name))
            .collect();
        let mut replicas = Vec::new();
        for (vol, n) in [("parked", 3), ("short", 2), ("degraded", 3), ("single", 1)] {
            for i in 0..n {
                replicas.push(labelled("Replica", &format!("{vol}-r-{i}"), vol));
            }
        }
        let e: Vec<&Object> = engines.iter().collect();
        let v: Vec<&Object> = vols.iter().collect();
        let r: Vec<&Object> = replicas.iter().collect();
        let hits = volume_health(3, &e, &v, &r);
        let subjects: Vec<&str> = hits.iter().map(|h| h.subject.as_str()).collect();
        assert_eq!(
            subjects,
            vec![
                "Volume/longhorn-system/degraded:degraded",
                "Volume/longhorn-system/short:missing-replicas",
                "Volume/longhorn-system/single:single-replica"
            ]
        );
        assert!(
            hits[1].title.contains("2 of 3 replicas"),
            "{}",
            hits[1].title
        );
        assert!(hits[2].title.contains("data integrity"));
        assert!(
            hits[0]
                .summary
                .contains("Degraded Longhorn Volume found: degraded")
        );
        // Single-node clusters are skipped.
        assert!(volume_health(1, &e, &v, &r).is_empty());
    }

    #[test]
    fn stale_volumes_need_a_running_workload() {
        let mk = |name: &str, workloads: &str| {
            object(
                "Volume",
                "longhorn.io",
                &format!(
                    "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  name: {name}\n  \
                     namespace: longhorn-system\nstatus:\n  kubernetesStatus:\n    \
                     workloadsStatus:{workloads}\n  state: attached\n"
                ),
            )
        };
        let none = mk("v-none", " \"null\"");
        let migrated = mk(
            "v-migrated",
            "\n    - podName: a\n      podStatus: Succeeded\n    - podName: b\n      podStatus: Running",
        );
        let dead = mk("v-dead", "\n    - podName: a\n      podStatus: Succeeded");
        let hits = stale_volumes(&[&none, &migrated, &dead]);
        let subjects: Vec<&str> = hits.iter().map(|h| h.subject.as_str()).collect();
        assert_eq!(
            subjects,
            vec![
                "Volume/longhorn-system/v-none:no-workload",
                "Volume/longhorn-system/v-dead:workload-not-running"
            ]
        );
    }

    #[test]
    fn backing_image_copies() {
        let mk = |name: &str, n: &str| {
            object(
                "BackingImage",
                "longhorn.io",
                &format!(
                    "apiVersion: longhorn.io/v1beta2\nkind: BackingImage\nmetadata:\n  name: \
                     {name}\n  namespace: longhorn-system\nspec:\n  minNumberOfCopies: {n}\n"
                ),
            )
        };
        let (a, b, c) = (mk("zero", "0"), mk("two", "2.0"), mk("three", "3"));
        let hits = backing_images(&[&a, &b, &c]);
        let sev: Vec<(&str, Severity)> = hits
            .iter()
            .map(|h| (h.subject.as_str(), h.severity))
            .collect();
        assert_eq!(
            sev,
            vec![
                ("BackingImage/longhorn-system/zero", Severity::Error),
                ("BackingImage/longhorn-system/two", Severity::Warning)
            ]
        );
        assert!(hits[0].remediation.contains("\"minNumberOfCopies\":3"));
    }
}
