//! Storage rules that read the storage chain (`facts::storage`): `storage.volume-lost` (a
//! Longhorn PV or claim with no Longhorn Volume behind it, or one stuck deleting while still
//! attached or mounted), `storage.attachment-stuck` (a VolumeAttachment that says attached
//! while Longhorn's volume is detached or elsewhere), `storage.backing-image` (backing image
//! copies failed or unknown on a disk, volumes waiting for a backing image) and
//! `storage.instance-manager` (instance managers not running on a node that holds replicas).
//! The volume health rules (`storage.volume-health`, `storage.single-replica`,
//! `storage.replicas-one-node`) are in `health.rs`.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{Context, Evidence, Finding, Input, ObjectRef, Rule, RuleDef, RuleInfo, Severity};
use crate::facts::objectset;
use crate::facts::storage::{self as storage_facts, Lost, VolumeChain};
use crate::graph::EdgeKind;
use crate::index::Object;
use crate::model::typed::core::VolumeAttachment;
use crate::model::typed::longhorn::{
    LhBackingImage, LhBackingImageManager, LhEngine, LhInstanceManager, LhReplica, LhVolume,
};
use crate::rules::finding::topic;
use crate::text::plural;

/// The storage chain rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(RuleDef::new(VOLUME_LOST, volume_lost)),
        Box::new(RuleDef::new(ATTACHMENT_STUCK, attachment_stuck)),
        Box::new(RuleDef::new(BACKING_IMAGE, backing_image)),
        Box::new(RuleDef::new(INSTANCE_MANAGER, instance_manager)),
    ]
}

/// Most log files a lost volume's finding cites.
const MAX_LOG_EVIDENCE: usize = 4;

/// `Kind ns/name`, or `Kind name` for a cluster-scoped object.
fn named(o: &Object) -> String {
    if o.key.namespace.is_empty() {
        format!("{} {}", o.key.kind, o.key.name)
    } else {
        format!("{} {}/{}", o.key.kind, o.key.namespace, o.key.name)
    }
}

/// The workload a pod belongs to (its owner, through a ReplicaSet to its Deployment).
fn workload_of<'a>(cx: &'a Context, pod: &Object) -> Option<&'a Object> {
    let mut n = cx.index.position(&pod.key)?;
    let mut top = None;
    for _ in 0..3 {
        let Some(p) = cx.graph.parents(n, EdgeKind::Owns).next() else {
            break;
        };
        top = Some(p);
        n = p;
    }
    top.and_then(|i| cx.index.objects.get(i))
}

/// The controller that recreates a deleted pod: its owner, or a ReplicaSet's Deployment.
fn controller_of<'a>(cx: &'a Context, pod: &Object) -> Option<&'a Object> {
    let i = cx.index.position(&pod.key)?;
    let owner = cx.graph.parents(i, EdgeKind::Owns).next()?;
    let o = cx.index.objects.get(owner)?;
    if o.key.kind == "ReplicaSet"
        && let Some(d) = cx
            .graph
            .parents(owner, EdgeKind::Owns)
            .next()
            .and_then(|d| cx.index.objects.get(d))
    {
        return Some(d);
    }
    Some(o)
}

/// What happens once a pod mounting a deleting claim is deleted, as a parenthesis: who
/// recreates the pod, and where its claim comes back from.
fn recreated(cx: &Context, pod: &Object, claim: Option<&Object>) -> String {
    let Some(w) = controller_of(cx, pod) else {
        return " (nothing in the capture recreates it)".into();
    };
    let from_chart = claim
        .and_then(chart_of)
        .and_then(|c| c.strip_prefix("chart:").map(str::to_string));
    match (w.key.kind.as_str(), from_chart) {
        ("StatefulSet", _) => format!(
            " (StatefulSet {} recreates it, with a new claim from its volumeClaimTemplates)",
            w.key.name
        ),
        (kind, Some(bundle)) => format!(
            " ({kind} {} recreates it; it stays Pending until the claim exists again: Fleet \
             bundle {bundle} deployed it, and redeploying that bundle recreates it)",
            w.key.name
        ),
        (kind, None) => format!(
            " ({kind} {} recreates it; it stays Pending until the claim is created again)",
            w.key.name
        ),
    }
}

/// The Fleet chart (`chart:fleet-local/mcc-X`) that deployed an object, from its objectset id
/// annotation.
fn chart_of(o: &Object) -> Option<String> {
    let id = o.meta.annotations.get(objectset::ID_ANNOTATION)?;
    let bundle = id
        .strip_prefix("default-")?
        .strip_suffix("-cattle-fleet-local-system")?;
    Some(topic::chart("fleet-local", bundle))
}

// ---------------------------------------------------------------- lost volumes

static VOLUME_LOST: RuleInfo = RuleInfo {
    id: "storage.volume-lost",
    title: "Volumes Longhorn no longer has, or stuck deleting while in use",
    description: "A PersistentVolume of Longhorn's CSI driver (driver.longhorn.io), or a claim \
        bound to one, with no Longhorn Volume of that name in the capture (nor engine or \
        replica): the pods mounting it run on a volume Longhorn no longer serves. Also a PV or \
        claim stuck deleting (deletionTimestamp) while a VolumeAttachment says attached or a \
        pod still mounts it. Names the PV, the claim, the pods and attachments, how long it has \
        been deleting, and Longhorn's own `not found` log lines for it.",
    inputs: &[Input::Resources, Input::Resource("", "persistentvolumes")],
    versions: "all",
};

fn volume_lost(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    // Longhorn's Volume list collected, in Longhorn's namespace: only then is a volume absent.
    let listed =
        cx.collected("longhorn.io", "volumes") && storage_facts::longhorn_collected(cx.index);
    cx.storage
        .lost(cx.index, listed)
        .into_iter()
        .filter_map(|(c, lost)| lost_finding(info, cx, c, &lost))
        .collect()
}

fn lost_finding(info: &RuleInfo, cx: &Context, c: &VolumeChain, lost: &Lost) -> Option<Finding> {
    let subject = c.pv(cx.index).or(c.pvc(cx.index))?;
    let lh = c.longhorn_name.as_deref().unwrap_or(&c.name);
    let claim = c
        .claim
        .as_ref()
        .map(|(ns, n)| format!("{ns}/{n}"))
        .unwrap_or_default();
    let pods: Vec<&str> = lost
        .mounted_by
        .iter()
        .map(|p| p.key.name.as_str())
        .collect();
    let title = format!(
        "{} {}{}{}",
        if lost.no_volume {
            "Longhorn has no volume"
        } else {
            "Volume stuck deleting:"
        },
        c.name,
        if claim.is_empty() {
            String::new()
        } else {
            format!(" (claim {claim})")
        },
        match pods.as_slice() {
            [] if lost.attached.is_empty() => String::new(),
            [] => format!(
                ", still attached to {}",
                lost.attached
                    .iter()
                    .map(|a| a.1)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            [p] => format!(", mounted by pod {p}"),
            many => format!(", mounted by {}", plural(many.len(), "pod", "pods")),
        }
    );
    // The facts, link by link.
    let mut s = String::new();
    match (c.pv(cx.index), c.pvc(cx.index)) {
        (Some(pv), _) => {
            let _ = write!(
                s,
                "PersistentVolume {} (CSI driver {}) is {}",
                pv.key.name,
                storage_facts::LONGHORN_DRIVER,
                pv.status.phase.as_deref().unwrap_or("of unknown phase")
            );
        }
        (None, Some(_)) => {
            let _ = write!(
                s,
                "Claim {claim} is bound to PersistentVolume {}, which is not in the capture",
                c.name
            );
        }
        (None, None) => {}
    }
    if !claim.is_empty() && c.pv.is_some() {
        let _ = write!(
            s,
            " for claim {claim}{}",
            match c.pvc(cx.index) {
                Some(p) => format!(
                    " ({})",
                    p.status.phase.as_deref().unwrap_or("phase unknown")
                ),
                None => " (not in the capture)".into(),
            }
        );
    }
    s.push('.');
    for (o, since) in &lost.deleting {
        let _ = write!(
            s,
            " {} has been deleting since {}, held by finalizers {}.",
            named(o),
            cx.ago(Some(since)),
            {
                let f: Vec<&str> = o
                    .meta
                    .finalizers
                    .iter()
                    .filter_map(|f| f.0.as_deref())
                    .collect();
                if f.is_empty() {
                    "none".to_string()
                } else {
                    f.join(", ")
                }
            }
        );
    }
    if lost.no_volume {
        let _ = write!(
            s,
            " Longhorn's Volume list has no volume {lh}{}: the data it held is likely gone \
             unless a Longhorn backup holds it.",
            match (c.engines.is_empty(), c.replicas.is_empty()) {
                (true, true) => ", and no engine or replica of it either",
                _ => "",
            }
        );
    }
    for (a, node) in &lost.attached {
        let _ = write!(
            s,
            " VolumeAttachment {} still says attached to {node}.",
            a.key.name
        );
    }
    for p in &lost.mounted_by {
        let node = match &p.view {
            crate::model::views::View::Pod(v) => v.node_name.as_deref(),
            _ => None,
        };
        let _ = write!(
            s,
            " Pod {}/{} ({}{}) mounts the claim.",
            p.key.namespace,
            p.key.name,
            p.status.phase.as_deref().unwrap_or("phase unknown"),
            node.map(|n| format!(" on {n}")).unwrap_or_default()
        );
    }
    let hits: Vec<&crate::upgrade::known::LogHit> = cx
        .log_hits
        .iter()
        .filter(|h| h.issue == format!("{}{lh}", storage_facts::NOT_FOUND_HIT))
        .collect();
    for h in &hits {
        let _ = write!(
            s,
            "\nLonghorn's log {} has {} naming it \"not found\", the last at line {}: {}",
            h.file,
            plural(h.count, "line", "lines"),
            h.line,
            around_not_found(&h.text)
        );
    }

    // Evidence: each link, then Longhorn's log lines.
    let mut evidence = Vec::new();
    let mut objects = vec![ObjectRef::of(subject)];
    for o in [c.pv(cx.index), c.pvc(cx.index)].into_iter().flatten() {
        let focus = if o.meta.deletion_timestamp.is_some() {
            "deletionTimestamp"
        } else if o.key.kind == "PersistentVolume" {
            "volumeHandle"
        } else {
            "volumeName"
        };
        evidence.push(Evidence::of(cx.index, o, Some(focus)));
        if !std::ptr::eq(o, subject) {
            objects.push(ObjectRef::of(o));
        }
    }
    for (a, _) in &lost.attached {
        evidence.push(Evidence::of(cx.index, a, Some("attached")));
        objects.push(ObjectRef::of(a));
    }
    for p in &lost.mounted_by {
        let claim_name = c.claim.as_ref().map(|(_, n)| n.as_str()).unwrap_or("");
        evidence.push(Evidence::of(
            cx.index,
            p,
            Some(&format!("claimName: {claim_name}")),
        ));
        objects.push(ObjectRef::of(p));
    }
    evidence.extend(
        hits.iter()
            .take(MAX_LOG_EVIDENCE)
            .map(|h| Evidence::lines(h.file.clone(), h.line, h.line)),
    );

    // What it explains: the claim, the pods and their workloads, the charts that deployed them.
    let mut explains: BTreeSet<String> = BTreeSet::new();
    for o in [c.pv(cx.index), c.pvc(cx.index)].into_iter().flatten() {
        explains.insert(ObjectRef::of(o).subject());
        explains.extend(chart_of(o));
    }
    for (a, _) in &lost.attached {
        explains.insert(ObjectRef::of(a).subject());
    }
    for p in &lost.mounted_by {
        explains.insert(ObjectRef::of(p).subject());
        explains.extend(chart_of(p));
        if let Some(w) = workload_of(cx, p) {
            explains.insert(ObjectRef::of(w).subject());
            explains.extend(chart_of(w));
            objects.push(ObjectRef::of(w));
        }
    }
    for &v in &c.vmis {
        if let Some(o) = cx.index.objects.get(v) {
            explains.insert(ObjectRef::of(o).subject());
            objects.push(ObjectRef::of(o));
        }
    }

    // The fix, in steps.
    let mut fix = String::new();
    if lost.no_volume {
        let ns = storage_facts::LONGHORN_NAMESPACE;
        let backup = cx.index.find("longhorn.io", "BackupVolume", ns, lh);
        let _ = writeln!(
            fix,
            "{}\n$ kubectl -n {ns} get backupvolumes.longhorn.io {lh}",
            match backup {
                Some(_) => format!(
                    "Longhorn no longer has volume {lh}, but the capture lists a BackupVolume of \
                     that name: its backups can be restored into a new volume (Longhorn UI → \
                     Backup). See what it holds:"
                ),
                None if cx.index.has_list_in("longhorn.io", "backupvolumes", ns) => format!(
                    "Longhorn no longer has volume {lh}, and the capture's BackupVolume list has \
                     none of that name: there is likely no backup of it. Check on the cluster \
                     before giving the data up:"
                ),
                None => format!(
                    "Longhorn no longer has volume {lh}: before anything else, look for a backup \
                     of it (a BackupVolume of that name; the capture holds no BackupVolume list):"
                ),
            }
        );
    }
    for p in &lost.mounted_by {
        let _ = writeln!(
            fix,
            "Pod {}/{} still mounts the claim, so the claim cannot finish deleting. Once the \
             data is saved or given up, delete the pod{}:\n$ kubectl -n {} delete pod {}",
            p.key.namespace,
            p.key.name,
            recreated(cx, p, c.pvc(cx.index)),
            p.key.namespace,
            p.key.name
        );
    }
    for (a, _) in &lost.attached {
        let _ = writeln!(
            fix,
            "If VolumeAttachment {} stays once no pod uses the volume (the CSI attacher cannot \
             detach a volume Longhorn does not know), remove its finalizer:\n$ kubectl patch \
             volumeattachment {} --type merge -p '{{\"metadata\":{{\"finalizers\":null}}}}'",
            a.key.name, a.key.name
        );
    }
    let severity = if lost.no_volume {
        Severity::Error
    } else {
        Severity::Warning
    };
    objects.dedup();
    Some(
        Finding::about(info.id, subject, severity, title)
            .with_summary(s)
            .with_objects(objects.into_iter().skip(1).collect())
            .with_evidence(evidence)
            .explaining(explains)
            .with_remediation(fix.trim_end().to_string()),
    )
}

/// The command that shows a Longhorn pod's log: `sbdiag logs` when the bundle holds it, else
/// `kubectl logs` on the cluster (with `grep`, the lines matching it).
fn log_command(cx: &Context, namespace: &str, pod: &str, grep: Option<&str>) -> String {
    if cx.pod_logs(namespace, pod).is_empty() {
        format!(
            "kubectl -n {namespace} logs {pod}{}",
            grep.map(|g| format!(" | grep -E '{g}'"))
                .unwrap_or_default()
        )
    } else {
        cx.sbdiag(
            "logs",
            &format!(
                "-n {namespace}{} {pod}",
                grep.map(|g| format!(" --grep '{g}'")).unwrap_or_default()
            ),
        )
    }
}

/// A long log line as a finding quotes it: from the message (`msg=`) when logrus wrote it;
/// when longer than 300 characters, its first 80 characters and the 160 before `not found`, to
/// the end of the line (at most 60 characters on).
fn around_not_found(line: &str) -> String {
    let flat = crate::text::one_line(line, usize::MAX);
    let body = match flat.find("msg=") {
        Some(i) => &flat[i + 4..],
        None => flat.as_str(),
    };
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    if chars.len() <= 300 {
        return body.to_string();
    }
    let Some(at) = body.find(storage_facts::NOT_FOUND) else {
        return crate::text::one_line(body, 300);
    };
    let at_char = chars.iter().position(|c| c.0 == at).unwrap_or(0);
    let from = at_char.saturating_sub(160).max(80);
    let to = (at_char + storage_facts::NOT_FOUND.len() + 60).min(chars.len());
    let head: String = chars.iter().take(80).map(|c| c.1).collect();
    let tail: String = chars
        .get(from..to)
        .unwrap_or_default()
        .iter()
        .map(|c| c.1)
        .collect();
    format!(
        "{head}{}{tail}{}",
        if from > 80 { " … " } else { "" },
        if to < chars.len() { " …" } else { "" }
    )
}

// ---------------------------------------------------------------- attachments

static ATTACHMENT_STUCK: RuleInfo = RuleInfo {
    id: "storage.attachment-stuck",
    title: "VolumeAttachments that disagree with Longhorn",
    description: "A VolumeAttachment of driver.longhorn.io that says attached to a node while \
        the Longhorn Volume is detached or attached to another node: Kubernetes and Longhorn \
        disagree, and the next pod on that volume likely fails to mount or attach it. A volume \
        Longhorn does not have at all is storage.volume-lost.",
    inputs: &[
        Input::Resources,
        Input::Resource("storage.k8s.io", "volumeattachments"),
        Input::Resource("longhorn.io", "volumes"),
    ],
    versions: "all",
};

fn attachment_stuck(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &cx.storage.volumes {
        let Some(vo) = c.volume(cx.index) else {
            continue;
        };
        let Some(v) = LhVolume::of(vo) else { continue };
        for a in VolumeChain::objects(cx.index, &c.attachments) {
            let Some(t) = VolumeAttachment::of(a) else {
                continue;
            };
            if t.attached() != Some(true) || t.attacher() != Some(storage_facts::LONGHORN_DRIVER) {
                continue;
            }
            let node = t.node_name().unwrap_or("");
            let state = v.state().unwrap_or("");
            let on = v.current_node_id().unwrap_or("");
            let disagree = match state {
                "detached" => Some(format!("Longhorn's volume {} is detached", vo.key.name)),
                "attached" if !on.is_empty() && on != node => Some(format!(
                    "Longhorn's volume {} is attached to {on}, not {node}",
                    vo.key.name
                )),
                _ => None,
            };
            let Some(disagree) = disagree else { continue };
            let pods: Vec<String> = VolumeChain::objects(cx.index, &c.pods)
                .iter()
                .map(|p| format!("{}/{}", p.key.namespace, p.key.name))
                .collect();
            out.push(
                Finding::about(
                    info.id,
                    a,
                    Severity::Warning,
                    format!(
                        "VolumeAttachment {} says {} is attached to {node}, but {disagree}",
                        a.key.name, c.name
                    ),
                )
                .with_summary(format!(
                    "VolumeAttachment {} (attacher {}) says PersistentVolume {} is attached to \
                     {node}; {disagree}.{}",
                    a.key.name,
                    storage_facts::LONGHORN_DRIVER,
                    c.name,
                    if pods.is_empty() {
                        " No pod in the capture mounts its claim.".to_string()
                    } else {
                        format!(" Pods mounting its claim: {}.", pods.join(", "))
                    }
                ))
                .with_objects(vec![ObjectRef::of(vo)])
                .with_evidence(vec![
                    Evidence::of(cx.index, a, Some("attached")),
                    Evidence::of(cx.index, vo, Some("state")),
                ])
                .explaining(c.pods.iter().filter_map(|&p| {
                    cx.index.objects.get(p).map(|o| ObjectRef::of(o).subject())
                }))
                .with_remediation(format!(
                    "Compare what Longhorn and Kubernetes say about the volume, and read \
                     longhorn-manager's log for it:\n$ kubectl -n {ns} get volumes.longhorn.io {v}\n\
                     $ kubectl get volumeattachment {a}\nThe CSI attacher reconciles the \
                     attachment when the pod using the volume is restarted.",
                    ns = vo.key.namespace,
                    v = vo.key.name,
                    a = a.key.name
                )),
            );
        }
    }
    out
}

// ---------------------------------------------------------------- backing images

static BACKING_IMAGE: RuleInfo = RuleInfo {
    id: "storage.backing-image",
    title: "Backing image copies failed or unknown, volumes waiting for a backing image",
    description: "A Longhorn BackingImage whose copy on a disk is failed or unknown \
        (status.diskFileStatusMap), with the node of that disk and its BackingImageManager's \
        state: replicas of VM volumes built on the image cannot be placed on that disk. A \
        volume whose WaitForBackingImage condition is True waits for such a copy (Harvester's \
        pre-check flags it before an upgrade).",
    inputs: &[
        Input::Resources,
        Input::Resource("longhorn.io", "backingimages"),
    ],
    versions: "all",
};

fn backing_image(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let managers: BTreeMap<&str, (&Object, LhBackingImageManager)> = cx
        .index
        .typed::<LhBackingImageManager>()
        .filter_map(|(o, m)| Some((m.disk_uuid()?, (o, m))))
        .collect();
    // Volumes waiting for each backing image.
    let mut waiting: BTreeMap<&str, Vec<&Object>> = BTreeMap::new();
    let mut out = Vec::new();
    for (o, v) in cx.index.typed::<LhVolume>() {
        let Some(w) = v.condition("WaitForBackingImage") else {
            continue;
        };
        if w.status != "True" {
            continue;
        }
        let image = v.backing_image().unwrap_or("");
        waiting.entry(image).or_default().push(o);
        let mut f = Finding::about(
            info.id,
            o,
            Severity::Warning,
            format!(
                "Longhorn volume {}{} waits for backing image {}",
                o.key.name,
                v.pvc()
                    .map(|(ns, n)| format!(" (claim {ns}/{n})"))
                    .unwrap_or_default(),
                if image.is_empty() {
                    "(none named)"
                } else {
                    image
                }
            ),
        )
        .with_summary(format!(
            "Condition WaitForBackingImage is True{}{}: Longhorn cannot start its replicas until \
             a copy of the backing image is ready on their disks.",
            w.reason.map(|r| format!(" ({r})")).unwrap_or_default(),
            w.message
                .filter(|m| !m.is_empty())
                .map(|m| format!(": {}", crate::text::one_line(m, 300)))
                .unwrap_or_default()
        ))
        .with_evidence(vec![Evidence::of(cx.index, o, Some("WaitForBackingImage"))])
        .with_remediation(format!(
            "See the state of each copy of the backing image (and the backing-image finding \
             about it, if any):\n$ kubectl -n {} get backingimages.longhorn.io {} -o yaml",
            o.key.namespace,
            if image.is_empty() {
                o.key.name.as_str()
            } else {
                image
            }
        ));
        if let Some(bi) = cx
            .index
            .find("longhorn.io", "BackingImage", &o.key.namespace, image)
        {
            f = f.with_objects(vec![ObjectRef::of(bi)]);
        }
        out.push(f);
    }
    let mut covered_disks: BTreeSet<&str> = BTreeSet::new();
    for (o, b) in cx.index.typed::<LhBackingImage>() {
        let files: Vec<_> = b.disk_files().collect();
        let bad: Vec<_> = files
            .iter()
            .filter(|(_, f)| matches!(f.state(), Some("failed" | "unknown")))
            .collect();
        if bad.is_empty() {
            continue;
        }
        let ready = files
            .iter()
            .filter(|(_, f)| f.state() == Some("ready"))
            .count();
        let mut lines = Vec::new();
        let mut evidence = vec![Evidence::of(
            cx.index,
            o,
            Some(&format!(
                "state: {}",
                bad.first().and_then(|(_, f)| f.state()).unwrap_or("")
            )),
        )];
        let mut objects = Vec::new();
        let mut nodes = BTreeSet::new();
        for (disk, f) in &bad {
            covered_disks.insert(disk);
            let m = managers.get(disk);
            let node = m.and_then(|(_, m)| m.node_id());
            nodes.extend(node);
            let mut l = format!(
                "copy on disk {disk}{} is {} since {}",
                node.map(|n| format!(" (node {n})")).unwrap_or_default(),
                f.state().unwrap_or("?"),
                cx.ago(f.since())
            );
            if let Some(msg) = f.message().filter(|m| !m.is_empty()) {
                let _ = write!(l, ": \"{}\"", crate::text::one_line(msg, 300));
            }
            if let Some((mo, mt)) = m {
                let _ = write!(
                    l,
                    "; its BackingImageManager {} is {}",
                    mo.key.name,
                    mt.current_state().unwrap_or("of unknown state")
                );
                evidence.push(Evidence::of(cx.index, mo, Some("currentState")));
                objects.push(ObjectRef::of(mo));
            }
            lines.push(l);
        }
        let vols = waiting
            .get(o.key.name.as_str())
            .cloned()
            .unwrap_or_default();
        let severity = if ready == 0 {
            Severity::Error
        } else {
            Severity::Warning
        };
        out.push(
            Finding::about(
                info.id,
                o,
                severity,
                format!(
                    "Backing image {} has {} on {}",
                    o.key.name,
                    plural(
                        bad.len(),
                        "failed or unknown copy",
                        "failed or unknown copies"
                    ),
                    if nodes.is_empty() {
                        "a disk of unknown node".to_string()
                    } else {
                        nodes.into_iter().collect::<Vec<_>>().join(", ")
                    }
                ),
            )
            .with_summary(format!(
                "BackingImage {}{}: {}. {} of {} copies ready{}.",
                o.key.name,
                o.meta
                    .annotations
                    .get("harvesterhci.io/imageId")
                    .map(|i| format!(" (Harvester image {i})"))
                    .unwrap_or_default(),
                lines.join("; "),
                ready,
                files.len(),
                if vols.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; volumes waiting for it: {}",
                        vols.iter()
                            .map(|v| v.key.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ))
            .with_objects(objects)
            .with_evidence(evidence)
            .explaining(vols.iter().map(|v| ObjectRef::of(v).subject()))
            .with_remediation({
                let manager = bad
                    .iter()
                    .filter_map(|(d, _)| managers.get(*d))
                    .map(|(mo, _)| mo)
                    .next();
                let read = match manager {
                    Some(mo) => format!(
                        "Read why the copy failed in the log of the BackingImageManager's pod (named \
                         like it), and check the disk on that node (space, filesystem errors):\n$ {}",
                        log_command(cx, &mo.key.namespace, &mo.key.name, Some("failed|error"))
                    ),
                    None => "Check the disk the failed copy is on (space, filesystem errors); the \
                             capture holds no BackingImageManager for it."
                        .to_string(),
                };
                format!(
                    "{read}\nOnce the disk is healthy, clean up that disk's copy from the backing \
                     image's page in the Longhorn UI, so that Longhorn copies it again from a \
                     ready one."
                )
            }),
        );
    }
    // Managers not running whose disk no failed copy already named.
    for (disk, (mo, m)) in &managers {
        let state = m.current_state().unwrap_or("unknown");
        if state == "running" || covered_disks.contains(disk) {
            continue;
        }
        out.push(
            Finding::about(
                info.id,
                mo,
                Severity::Warning,
                format!(
                    "BackingImageManager {} on {} is {state}",
                    mo.key.name,
                    m.node_id().unwrap_or("an unknown node")
                ),
            )
            .with_summary(format!(
                "BackingImageManager {} serves the backing images of disk {disk}{}; its \
                 currentState is {state}, so no backing image copy on that disk is served.",
                mo.key.name,
                m.node_id().map(|n| format!(" on {n}")).unwrap_or_default()
            ))
            .with_evidence(vec![Evidence::of(cx.index, mo, Some("currentState"))])
            .with_remediation(format!(
                "Check that the node and its disk are up, then read the manager's log:\n$ {}",
                cx.sbdiag("logs", &format!("-n {} {}", mo.key.namespace, mo.key.name))
            )),
        );
    }
    out
}

// ---------------------------------------------------------------- instance managers

static INSTANCE_MANAGER: RuleInfo = RuleInfo {
    id: "storage.instance-manager",
    title: "Instance managers not running on nodes that hold replicas or engines",
    description: "A Longhorn InstanceManager whose currentState is not running on a node that \
        holds replicas or engines: those replicas and engines do not run, so the volumes \
        concerned are degraded, or faulted when every replica is there.",
    inputs: &[
        Input::Resources,
        Input::Resource("longhorn.io", "instancemanagers"),
    ],
    versions: "all",
};

fn instance_manager(info: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let mut on_node: BTreeMap<&str, Vec<&Object>> = BTreeMap::new();
    for (o, r) in cx.index.typed::<LhReplica>() {
        if let Some(n) = r.node_id() {
            on_node.entry(n).or_default().push(o);
        }
    }
    for (o, e) in cx.index.typed::<LhEngine>() {
        if let Some(n) = e.node_id() {
            on_node.entry(n).or_default().push(o);
        }
    }
    cx.index
        .typed::<LhInstanceManager>()
        .filter_map(|(o, m)| {
            let state = m.current_state().unwrap_or("unknown");
            let node = m.node_id()?;
            if state == "running" {
                return None;
            }
            let held = on_node.get(node)?;
            let kind = m.manager_type().unwrap_or("");
            let held: Vec<&&Object> = held
                .iter()
                .filter(|h| match kind {
                    "engine" => h.key.kind == "Engine",
                    "replica" => h.key.kind == "Replica",
                    _ => true,
                })
                .collect();
            if held.is_empty() {
                return None;
            }
            let names: Vec<&str> = held.iter().map(|h| h.key.name.as_str()).collect();
            Some(
                Finding::about(
                    info.id,
                    o,
                    Severity::Warning,
                    format!(
                        "Instance manager {} on {node} is {state} while it holds {}",
                        o.key.name,
                        plural(held.len(), "replica or engine", "replicas or engines")
                    ),
                )
                .with_summary(format!(
                    "InstanceManager {} ({} type) on {node} has currentState {state}; it runs \
                     {}{}.",
                    o.key.name,
                    if kind.is_empty() { "unknown" } else { kind },
                    names
                        .iter()
                        .take(10)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", "),
                    if names.len() > 10 { ", …" } else { "" }
                ))
                .with_objects(held.iter().map(|h| ObjectRef::of(h)).collect())
                .with_evidence(vec![Evidence::of(cx.index, o, Some("currentState"))])
                .explaining(held.iter().map(|h| ObjectRef::of(h).subject()))
                .with_remediation(format!(
                    "Check node {node} (Ready, disk, longhorn-manager pod there), then the \
                     instance manager's own log:\n$ {}",
                    log_command(cx, &o.key.namespace, &o.key.name, None)
                )),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::TestBed;
    use crate::upgrade::known::LogHit;

    const PV: &str = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-1\n  \
        deletionTimestamp: \"2025-02-01T00:00:00Z\"\n  finalizers:\n  - kubernetes.io/pv-protection\n\
        spec:\n  claimRef:\n    namespace: mon\n    name: data\n  csi:\n    \
        driver: driver.longhorn.io\n    volumeHandle: pvc-1\nstatus:\n  phase: Bound\n";
    const PVC: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  \
        namespace: mon\n  annotations:\n    objectset.rio.cattle.io/id: \
        default-mcc-monitoring-cattle-fleet-local-system\nspec:\n  volumeName: pvc-1\nstatus:\n  \
        phase: Bound\n";
    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: graf-0\n  namespace: mon\n\
        spec:\n  nodeName: n1\n  volumes:\n  - name: storage\n    persistentVolumeClaim:\n      \
        claimName: data\nstatus:\n  phase: Running\n";
    const VA: &str = "apiVersion: storage.k8s.io/v1\nkind: VolumeAttachment\nmetadata:\n  \
        name: csi-1\nspec:\n  attacher: driver.longhorn.io\n  nodeName: n1\n  source:\n    \
        persistentVolumeName: pvc-1\nstatus:\n  attached: true\n";
    const VOLUME: &str = "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  \
        name: pvc-1\n  namespace: longhorn-system\nstatus:\n  state: detached\n  \
        robustness: unknown\n";
    /// Something in Longhorn's namespace: the capture collected it.
    const LH_NODE: &str = "apiVersion: longhorn.io/v1beta2\nkind: Node\nmetadata:\n  name: n1\n  \
        namespace: longhorn-system\n";

    #[test]
    fn a_lost_volume_names_pv_claim_pod_attachment_and_longhorns_log() {
        let rule = RuleDef::new(VOLUME_LOST, volume_lost);
        let hit = LogHit {
            issue: "storage:not-found:pvc-1".into(),
            pattern: "not found".into(),
            file: "logs/longhorn-system/longhorn-csi-plugin-x/longhorn-csi-plugin.log".into(),
            line: 42,
            text: "NodeGetVolumeStats: volume pvc-1 not found".into(),
            count: 5164,
        };
        // Longhorn's namespace not collected: its volume's absence proves nothing, but the
        // deletion stuck while attached and mounted is still reported.
        let f = TestBed::new(&[PV, PVC, POD, VA], None).run(&rule);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].title.starts_with("Volume stuck deleting: pvc-1"));
        let f = TestBed::new(&[PV, PVC, POD, VA, LH_NODE], Some("v1.4.0"))
            .with_log_hits(vec![hit])
            .run(&rule);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.id, "storage.volume-lost:PersistentVolume/pvc-1");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.title,
            "Longhorn has no volume pvc-1 (claim mon/data), mounted by pod graf-0"
        );
        assert!(
            f.summary.contains(
                "PersistentVolume pvc-1 has been deleting since 2025-02-01T00:00:00Z (13d before \
             capture), held by finalizers kubernetes.io/pv-protection."
            ),
            "{}",
            f.summary
        );
        assert!(
            f.summary
                .contains("Longhorn's Volume list has no volume pvc-1")
        );
        assert!(
            f.summary
                .contains("VolumeAttachment csi-1 still says attached to n1.")
        );
        assert!(
            f.summary
                .contains("Pod mon/graf-0 (Running on n1) mounts the claim.")
        );
        assert!(
            f.summary
                .contains("has 5164 lines naming it \"not found\", the last at line 42")
        );
        let kinds: Vec<&str> = f.objects.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "PersistentVolume",
                "PersistentVolumeClaim",
                "VolumeAttachment",
                "Pod"
            ]
        );
        let files: Vec<(&str, u32)> = f
            .evidence
            .iter()
            .map(|e| (e.file.as_str(), e.line))
            .collect();
        assert_eq!(files.len(), 5);
        assert_eq!(
            files[4],
            (
                "logs/longhorn-system/longhorn-csi-plugin-x/longhorn-csi-plugin.log",
                42
            )
        );
        for k in [
            "Pod/mon/graf-0",
            "PersistentVolumeClaim/mon/data",
            "chart:fleet-local/mcc-monitoring",
        ] {
            assert!(f.explains.iter().any(|e| e == k), "{k}: {:?}", f.explains);
        }
        assert!(f.remediation.starts_with(
            "Longhorn no longer has volume pvc-1: before anything else, look for a backup of it \
             (a BackupVolume of that name; the capture holds no BackupVolume list):\n$ kubectl -n \
             longhorn-system get backupvolumes.longhorn.io pvc-1\n"
        ));
        assert!(f.remediation.contains("$ kubectl -n mon delete pod graf-0"));
        assert!(f.remediation.contains(
            "$ kubectl patch volumeattachment csi-1 --type merge -p \
             '{\"metadata\":{\"finalizers\":null}}'"
        ));
    }

    #[test]
    fn a_long_log_line_is_quoted_around_what_is_not_found() {
        let line = format!(
            "t=1 level=error msg=\"NodeGetVolumeStats: req {} err: volume pvc-1 not found\"",
            "x".repeat(500)
        );
        let q = around_not_found(&line);
        assert!(q.starts_with("\"NodeGetVolumeStats: req xxx"), "{q}");
        assert!(q.contains("x … xxx"), "{q}");
        assert!(q.ends_with("err: volume pvc-1 not found\""), "{q}");
        assert_eq!(q.chars().count(), 80 + 3 + 160 + 10);
        assert_eq!(around_not_found("short line"), "short line");
    }

    #[test]
    fn a_present_volume_is_lost_only_while_deleting_and_in_use() {
        let rule = RuleDef::new(VOLUME_LOST, volume_lost);
        // Its Longhorn volume exists: only the stuck deletion is reported, as a warning.
        let f = TestBed::new(&[PV, PVC, POD, VA, VOLUME], None).run(&rule);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].title.starts_with("Volume stuck deleting: pvc-1"));
        assert!(!f[0].remediation.contains("backupvolumes"));
        // Not deleting, volume there: nothing.
        let pv = PV.replace("  deletionTimestamp: \"2025-02-01T00:00:00Z\"\n", "");
        assert!(
            TestBed::new(&[&pv, PVC, POD, VA, VOLUME], None)
                .run(&rule)
                .is_empty()
        );
        // Deleting but nothing uses it any more, volume there: a deletion in progress.
        assert!(TestBed::new(&[PV, PVC, VOLUME], None).run(&rule).is_empty());
    }

    #[test]
    fn an_attachment_to_a_detached_volume_disagrees() {
        let rule = RuleDef::new(ATTACHMENT_STUCK, attachment_stuck);
        let pv = PV.replace("  deletionTimestamp: \"2025-02-01T00:00:00Z\"\n", "");
        let f = TestBed::new(&[&pv, PVC, POD, VA, VOLUME], None).run(&rule);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "storage.attachment-stuck:VolumeAttachment/csi-1");
        assert_eq!(
            f[0].title,
            "VolumeAttachment csi-1 says pvc-1 is attached to n1, but Longhorn's volume pvc-1 \
             is detached"
        );
        let attached = VOLUME.replace("state: detached", "state: attached\n  currentNodeID: n1");
        assert!(
            TestBed::new(&[&pv, PVC, POD, VA, &attached], None)
                .run(&rule)
                .is_empty()
        );
        let elsewhere = VOLUME.replace("state: detached", "state: attached\n  currentNodeID: n2");
        let f = TestBed::new(&[&pv, PVC, POD, VA, &elsewhere], None).run(&rule);
        assert!(f[0].title.ends_with("is attached to n2, not n1"));
        // A lost volume is not judged here.
        assert!(
            TestBed::new(&[&pv, PVC, POD, VA], None)
                .run(&rule)
                .is_empty()
        );
    }

    const IMAGE: &str = "apiVersion: longhorn.io/v1beta1\nkind: BackingImage\nmetadata:\n  \
        name: default-image-k\n  namespace: longhorn-system\n  annotations:\n    \
        harvesterhci.io/imageId: default/image-k\nstatus:\n  diskFileStatusMap:\n    d1:\n      \
        state: ready\n    d2:\n      state: failed\n      message: failed to calculate checksum\n      \
        lastStateTransitionTime: \"2025-02-14T08:41:07Z\"\n";
    const BIM: &str = "apiVersion: longhorn.io/v1beta1\nkind: BackingImageManager\nmetadata:\n  \
        name: bim-d2\n  namespace: longhorn-system\nspec:\n  nodeID: n2\n  diskUUID: d2\nstatus:\n  \
        currentState: unknown\n";
    const WAITING: &str = "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  \
        name: pvc-2\n  namespace: longhorn-system\nspec:\n  backingImage: default-image-k\nstatus:\n  \
        conditions:\n  - type: WaitForBackingImage\n    status: \"True\"\n    \
        reason: WaitForBackingImageFailed\n";

    #[test]
    fn a_failed_backing_image_copy_with_its_node_and_manager_and_the_volumes_waiting() {
        let rule = RuleDef::new(BACKING_IMAGE, backing_image);
        let f = TestBed::new(&[IMAGE, BIM, WAITING], None).run(&rule);
        let ids: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "storage.backing-image:Volume/longhorn-system/pvc-2",
                "storage.backing-image:BackingImage/longhorn-system/default-image-k",
            ]
        );
        let b = &f[1];
        assert_eq!(b.severity, Severity::Warning);
        assert_eq!(
            b.title,
            "Backing image default-image-k has 1 failed or unknown copy on n2"
        );
        assert!(
            b.summary.contains(
                "copy on disk d2 (node n2) is failed since 2025-02-14T08:41:07Z (1h before \
             capture): \"failed to calculate checksum\"; its BackingImageManager bim-d2 is \
             unknown"
            ),
            "{}",
            b.summary
        );
        assert!(
            b.summary
                .contains("1 of 2 copies ready; volumes waiting for it: pvc-2")
        );
        assert_eq!(b.explains, ["Volume/longhorn-system/pvc-2"]);
        assert!(
            f[0].title
                .contains("waits for backing image default-image-k")
        );
        // No copy ready at all: an error. A manager down with no failed copy: its own finding.
        let none_ready = IMAGE.replace("state: ready", "state: unknown");
        let f = TestBed::new(&[&none_ready], None).run(&rule);
        assert_eq!(f[0].severity, Severity::Error);
        let f = TestBed::new(&[BIM], None).run(&rule);
        assert_eq!(
            f[0].id,
            "storage.backing-image:BackingImageManager/longhorn-system/bim-d2"
        );
    }

    #[test]
    fn an_instance_manager_down_where_replicas_live() {
        let rule = RuleDef::new(INSTANCE_MANAGER, instance_manager);
        let im = "apiVersion: longhorn.io/v1beta1\nkind: InstanceManager\nmetadata:\n  \
            name: im-r-1\n  namespace: longhorn-system\nspec:\n  nodeID: n2\n  type: replica\n\
            status:\n  currentState: error\n";
        let replica = "apiVersion: longhorn.io/v1beta2\nkind: Replica\nmetadata:\n  name: r1\n  \
            namespace: longhorn-system\nspec:\n  volumeName: pvc-1\n  nodeID: n2\n";
        let f = TestBed::new(&[im, replica], None).run(&rule);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].title,
            "Instance manager im-r-1 on n2 is error while it holds 1 replica or engine"
        );
        assert_eq!(f[0].explains, ["Replica/longhorn-system/r1"]);
        let running = im.replace("error", "running");
        assert!(
            TestBed::new(&[&running, replica], None)
                .run(&rule)
                .is_empty()
        );
        assert!(TestBed::new(&[im], None).run(&rule).is_empty());
    }
}
