//! `fleet.not-ready`: a claim the capture confirms, with the real reason the object is not
//! ready.
use super::*;

pub(super) const NOT_READY_INFO: RuleInfo = RuleInfo {
    id: "fleet.not-ready",
    title: "Bundle or ManagedChart not ready, confirmed by the captured objects",
    description: "For each object Fleet reports not ready, the recomputed readiness of the \
        captured object agrees: the finding names the object and the real reason — pods not \
        ready and on which node, image pull and crash-loop errors, unschedulable pods, a \
        deletion stuck on a finalizer and since when, the Warning events — so a Fleet resync \
        will not help.",
    inputs: INPUTS,
    versions: "all",
};

pub(super) fn not_ready(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let st = cx.fleet;
    let mut out = Vec::new();
    for j in &st.judged {
        let Verdict::ConfirmedNotReady {
            observed,
            detail_differs,
        } = &j.verdict
        else {
            continue;
        };
        let (Some(s), Some(c)) = (st.sources.get(j.source), st.claim(j)) else {
            continue;
        };
        let Some(o) = j.live.and_then(|i| at(cx, i)) else {
            continue;
        };
        // A verdict the captured objects confirm is why the chart is not Ready.
        out.push(
            not_ready_finding(cx, s, c, o, observed, *detail_differs).explaining([chart_topic(s)]),
        );
    }
    out
}

/// The real reason an object is not ready, with the evidence for it.
/// Why a captured object is not ready, found from its own status and its neighbours.
pub(super) struct Reason {
    /// The reasons, in words.
    pub(super) lines: Vec<String>,
    /// Where each shows.
    pub(super) evidence: Vec<Evidence>,
    /// What to do.
    pub(super) fixes: Vec<String>,
    /// Objects involved.
    pub(super) objects: Vec<ObjectRef>,
}

pub(super) fn reason_for(cx: &Context, o: &Object) -> Reason {
    let cap = cx.created_at;
    let mut r = Reason {
        lines: Vec::new(),
        evidence: Vec::new(),
        fixes: Vec::new(),
        objects: Vec::new(),
    };
    let Some(oi) = cx.index.position(&o.key) else {
        return r;
    };
    if let Some(d) = &o.meta.deletion_timestamp {
        let fins = o.meta.finalizer_names();
        r.lines.push(format!(
            "Deletion requested {} but not finished: finalizers {}.",
            ago(Some(d), cap),
            if fins.is_empty() {
                "none (waiting on dependents)".to_string()
            } else {
                fins.join(", ")
            }
        ));
        r.evidence
            .push(Evidence::of(cx.index, o, Some("deletionTimestamp")));
        if fins.contains(&"kubernetes.io/pvc-protection") && o.key.kind == "PersistentVolumeClaim" {
            let users: Vec<&Object> = cx
                .index
                .of_kind("", "Pod")
                .filter(|p| {
                    p.key.namespace == o.key.namespace
                        && matches!(&p.view, View::Pod(v) if v.claims.contains(&o.key.name))
                })
                .collect();
            if users.is_empty() {
                r.lines.push(
                    "No captured pod mounts it, so kubernetes.io/pvc-protection should have been \
                     released: check kube-controller-manager."
                        .into(),
                );
            } else {
                r.lines.push(format!(
                    "kubernetes.io/pvc-protection holds it while pods still use it: {}.",
                    users
                        .iter()
                        .map(|p| p.key.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                for p in users {
                    r.evidence
                        .push(Evidence::of(cx.index, p, Some(&o.key.name)));
                    r.objects.push(ObjectRef::of(p));
                }
            }
            r.fixes.push(format!(
                "The PVC finishes deleting once no pod uses it. If the deletion was intended, \
                 stop or delete the pods that mount it; if not, the chart needs the PVC back: \
                 after it is gone, force a redeploy so Helm recreates it. Do not strip the \
                 finalizer by hand while a pod still writes to {}.",
                o.key.name
            ));
        } else {
            r.fixes.push(
                "Find what holds the finalizer (its controller's logs) and let it finish; remove \
                 a finalizer by hand only when its controller is gone for good."
                    .into(),
            );
        }
    }
    let mut pods: Vec<usize> = cx.graph.pods_of(cx.index, oi);
    if o.key.kind == "Pod" {
        pods = vec![oi];
    }
    let mut bad = 0;
    for p in pods {
        let Some(po) = at(cx, p) else { continue };
        if let Some(problem) = fleet::pod_problem(po) {
            bad += 1;
            if bad <= 5 {
                r.lines.push(format!("Pod {problem}."));
                r.evidence
                    .push(Evidence::of(cx.index, po, Some("containerStatuses")));
                r.objects.push(ObjectRef::of(po));
                if let View::Pod(v) = &po.view {
                    let waiting: Vec<&str> = v
                        .container_statuses
                        .iter()
                        .chain(&v.init_container_statuses)
                        .filter_map(|c| c.state.waiting.as_ref()?.reason.as_deref())
                        .collect();
                    if waiting
                        .iter()
                        .any(|w| *w == "ImagePullBackOff" || *w == "ErrImagePull")
                    {
                        let imgs: Vec<&str> =
                            v.containers.iter().map(|c| c.image.as_str()).collect();
                        r.fixes.push(format!(
                            "Make the image available to the node ({}): on an air-gapped \
                             cluster push it to the private registry or import it into \
                             containerd on every node; the kubelet retries on its own.",
                            imgs.join(", ")
                        ));
                    }
                    if waiting.contains(&"CrashLoopBackOff") {
                        r.fixes.push(format!(
                            "Read why the container exits:\n$ {}",
                            cx.sbdiag(
                                "logs",
                                &format!("-n {} {} --previous", po.key.namespace, po.key.name)
                            )
                        ));
                    }
                    if let Some(n) = v.node_name.as_deref()
                        && let Some(node) = cx.index.find("", "Node", "", n)
                        && condition(&node.status.conditions, "Ready")
                            .is_some_and(|c| c.status != "True")
                    {
                        r.lines.push(format!("Its node {n} is NotReady."));
                        r.evidence
                            .push(Evidence::of(cx.index, node, Some("type: Ready")));
                    }
                }
            }
        }
    }
    if bad > 5 {
        r.lines
            .push(format!("… and {} more pods not ready.", bad - 5));
    }
    // Warning events about the object or its pods, newest first.
    let names: std::collections::BTreeSet<&str> = std::iter::once(o.key.name.as_str())
        .chain(r.objects.iter().map(|x| x.name.as_str()))
        .collect();
    let mut evs: Vec<(&Object, String, String)> = cx
        .index
        .of_kind("", "Event")
        .chain(cx.index.of_kind("events.k8s.io", "Event"))
        .filter_map(|e| match &e.view {
            View::Event(v)
                if v.kind.as_deref() == Some("Warning")
                    && e.key.namespace == o.key.namespace
                    && names.contains(v.regarding.name.as_str()) =>
            {
                Some((
                    e,
                    v.last.clone().unwrap_or_default(),
                    format!(
                        "{} {}: {}",
                        v.reason.as_deref().unwrap_or(""),
                        v.regarding.name,
                        text::head_tail(v.message.as_deref().unwrap_or(""), 300)
                    ),
                ))
            }
            _ => None,
        })
        .collect();
    // Most telling first: the kubelet's detailed messages before its "Error: <reason>" echoes.
    let generic = |t: &str| t.contains(": Error: ") || t.contains(": Back-off ");
    evs.sort_by(|a, b| {
        generic(&a.2)
            .cmp(&generic(&b.2))
            .then_with(|| b.1.cmp(&a.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    evs.dedup_by(|a, b| a.2 == b.2);
    for (e, last, text) in evs.into_iter().take(3) {
        r.lines.push(format!(
            "Event (Warning, last {}): {text}",
            ago(Some(&last), cap)
        ));
        r.evidence.push(Evidence::of(cx.index, e, Some("message:")));
    }
    if r.fixes.is_empty() {
        r.fixes.push(format!(
            "Fix {} {} itself; Fleet follows within seconds of its next status change. What \
             it reports:\n$ {}",
            o.key.kind,
            o.key.name,
            cx.sbdiag(
                "describe",
                &if o.key.namespace.is_empty() {
                    // Cluster-scoped: no namespace to name.
                    format!("{} {}", o.key.kind.to_lowercase(), o.key.name)
                } else {
                    format!(
                        "{} {} -n {}",
                        o.key.kind.to_lowercase(),
                        o.key.name,
                        o.key.namespace
                    )
                }
            )
        ));
    }
    r
}

fn not_ready_finding(
    cx: &Context,
    s: &Source,
    c: &Claim,
    o: &Object,
    observed: &Summary,
    detail_differs: bool,
) -> Finding {
    let cap = cx.created_at;
    let reason = reason_for(cx, o);
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "Claimed by Fleet ({}):\n  {}\n  recorded {}",
        claim_where(cx, s, c),
        claim_line(c),
        ago(s.claimed_at(), cap)
    );
    let _ = writeln!(
        summary,
        "Observed in the capture:\n  {}",
        describe_observed(o, observed)
    );
    if detail_differs {
        let _ = writeln!(
            summary,
            "Fleet's numbers are older than the capture (the verdict is right, the detail is \
             not refreshed)."
        );
    }
    if !reason.lines.is_empty() {
        let _ = writeln!(summary, "Why:");
        for l in &reason.lines {
            let _ = writeln!(summary, "  - {l}");
        }
    }
    let _ = writeln!(
        summary,
        "Fleet is right: a resync will not make it Ready until the object recovers."
    );
    if !s.is_ready() {
        let _ = write!(summary, "{}", effect(cx, s));
    }
    let mut objects = source_objects(cx, s);
    objects.push(ObjectRef::of(o));
    objects.extend(reason.objects);
    let mut evidence = claim_evidence(cx, s, &c.target, c.recorded_in);
    evidence.push(Evidence::of(cx.index, o, Some("  status:")));
    evidence.extend(reason.evidence);
    let first_reason = reason
        .lines
        .first()
        .map(|l| format!(": {}", l.trim_end_matches('.')))
        .unwrap_or_default();
    Finding::new(
        "fleet.not-ready",
        subject(s, &c.target),
        Severity::Error,
        format!(
            "{} not ready because {} is not ready ({}){}",
            chart_name(cx, s)
                .map(|n| format!("ManagedChart {n}"))
                .unwrap_or_else(|| format!("Bundle {}", s.name)),
            c.target.fleet_name(),
            short_counts(o).unwrap_or_else(|| observed.message_text()),
            text::one_line(&first_reason, 160)
        ),
    )
    .with_summary(summary.trim_end().to_string())
    .with_objects(objects)
    .with_evidence(evidence)
    .with_remediation(reason.fixes.join("\n"))
}
