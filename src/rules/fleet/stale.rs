//! `fleet.stale-status`: Fleet claims a resource not ready, modified or missing while the capture
//! contradicts it (or Fleet cannot see the object as its own), and the cluster- and chart-level
//! status that lags behind its bundles.
use super::not_ready::reason_for;
use super::*;

pub(super) const STALE_INFO: RuleInfo = RuleInfo {
    id: "fleet.stale-status",
    title: "Fleet status contradicted by the captured objects",
    description: "Recomputes the readiness of every object Fleet reports on (Bundle and \
        ManagedChart summaries, BundleDeployments, the Ready message) with Fleet's own \
        summarizer, for the Fleet version in the bundle, and reports claims the capture \
        contradicts: not ready / modified / missing while the object is ready, present and \
        matching, or ready while it is not; also objects Fleet cannot see as its own \
        (no objectset labels) and ManagedCharts whose copy of the Bundle status lags. Each \
        finding shows claimed vs observed, when each last changed, why the claim is frozen \
        and whether a resync clears it.",
    inputs: INPUTS,
    versions: "all (Fleet v0.7+ rules, both summarizer families)",
};

pub(super) fn stale_status(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let st = cx.fleet;
    let mut out = Vec::new();
    for j in &st.judged {
        let Some(s) = st.sources.get(j.source) else {
            continue;
        };
        match &j.verdict {
            // A stale claim is the agent's if it is down. A stale "not ready", "modified" or
            // "missing" is why the chart is not Ready; a stale "ready" hides a broken object
            // and explains nothing.
            Verdict::Stale(kind) => {
                let f = stale_finding(cx, s, j, kind).with_topic(topic::FLEET_AGENT);
                out.push(match kind {
                    Stale::ReadyButNotReady(_) => f,
                    _ => f.explaining([chart_topic(s)]),
                })
            }
            Verdict::InFlux {
                observed,
                changed_at,
            } => out
                .push(in_flux_finding(cx, s, j, observed, changed_at).explaining([chart_topic(s)])),
            // Fleet cannot see the object as its own, so it keeps the chart not Ready.
            Verdict::NotOwned => out.push(not_owned_finding(cx, s, j).explaining([chart_topic(s)])),
            _ => {}
        }
    }
    out.extend(chart_lag(cx));
    out.extend(cluster_lag(cx));
    out
}

/// S5: the fleet Cluster's summary names bundles in states their own status contradicts
/// (it says a bundle is not ready while the Bundle is Ready, or the reverse).
fn cluster_lag(cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(c) = cx.fleet.agent.cluster.and_then(|i| at(cx, i)) else {
        return out;
    };
    let View::Fleet(cv) = &c.view else {
        return out;
    };
    let listed: std::collections::BTreeMap<&str, &str> = cv
        .summary
        .non_ready_resources
        .iter()
        .map(|e| (e.name.as_str(), e.bundle_state.as_str()))
        .collect();
    let truncated = cv.summary.non_ready_resources.len() >= 10;
    for s in &cx.fleet.sources {
        if s.namespace != c.key.namespace || s.bundle.is_none() || s.ready.is_none() {
            continue;
        }
        let in_list = listed.get(s.name.as_str()).copied();
        let contradiction = match in_list {
            Some(state) if s.is_ready() => Some(format!(
                "the Cluster lists bundle {} as {state}, while the Bundle itself is Ready",
                s.name
            )),
            None if !s.is_ready() && !truncated => Some(format!(
                "the Bundle {} is {} but the Cluster's summary does not list it",
                s.name,
                if s.state.is_empty() {
                    "not Ready"
                } else {
                    s.state.as_str()
                }
            )),
            _ => None,
        };
        let Some(why) = contradiction else { continue };
        let Some(b) = s.bundle.and_then(|i| at(cx, i)) else {
            continue;
        };
        out.push(
            Finding::new(
                "fleet.stale-status",
                format!("Cluster/{}/{}:{}", c.key.namespace, c.key.name, s.name),
                Severity::Warning,
                format!(
                    "Cluster {}/{} and Bundle {} disagree",
                    c.key.namespace, c.key.name, s.name
                ),
            )
            .with_summary(format!(
                "fleet-controller recomputes the Cluster's summary from the same BundleDeployments \
                 as the Bundle's; here {why}. One of the two was not updated (controller lag)."
            ))
            .with_objects(vec![ObjectRef::of(c), ObjectRef::of(b)])
            .with_evidence(vec![
                Evidence::of(cx.index, c, Some(s.name.as_str())),
                Evidence::of(cx.index, b, Some("type: Ready")),
            ])
            .with_remediation(
                "Restart fleet-controller so it recomputes both:\n$ kubectl -n \
                          cattle-fleet-system rollout restart deployment/fleet-controller"
                    .into(),
            )
            .with_references(vec!["https://fleet.rancher.io/ref-status-fields".into()]),
        );
    }
    out
}

fn stale_finding(cx: &Context, s: &Source, j: &Judged, kind: &Stale) -> Finding {
    let claim = cx.fleet.claim(j);
    let Some(t) = target_of(cx, j) else {
        return fallback(cx, s, j);
    };
    let live = j.live.and_then(|i| at(cx, i));
    let (title, severity) = stale_title(cx, s, &t, live, kind, claim);
    let mut summary = String::new();
    write_claim(&mut summary, cx, s, claim);
    let mut extra_evidence = write_observed(&mut summary, cx, s, &t, live, kind);
    if let Stale::DriftIgnored(by) = kind
        && let Some((i, _)) = fleet::compare_patches(cx.index, s)
        && let Some(o) = at(cx, i)
    {
        let _ = writeln!(
            summary,
            "{} lists {} in diff.comparePatches for this object: Fleet's agent removes these \
             fields from both the chart's and the cluster's copy before comparing, so a pass of \
             a running agent reports no drift here. The claim predates the entry, or the agent \
             has not evaluated the bundle since.",
            o.key,
            by.join(", ")
        );
        extra_evidence.push(Evidence::of(cx.index, o, Some("comparePatches:")));
    }
    let change = write_story(&mut summary, cx, s, j, kind);
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&t));
    let mut evidence = match claim {
        Some(c) => claim_evidence(cx, s, &t, c.recorded_in),
        None => s
            .primary()
            .and_then(|i| at(cx, i))
            .map(|o| vec![Evidence::of(cx.index, o, Some("type: Ready"))])
            .unwrap_or_default(),
    };
    if let Some(o) = live {
        evidence.push(Evidence::of(cx.index, o, Some("  status:")));
    }
    if let Some(ch) = &change
        && Some(ch.object) != j.live
        && let Some(p) = at(cx, ch.object)
    {
        evidence.push(Evidence::of(
            cx.index,
            p,
            Some(&format!("lastTransitionTime: \"{}\"", ch.at)),
        ));
    }
    evidence.extend(extra_evidence);
    if let Some(c) = cx.fleet.agent.cluster.and_then(|i| at(cx, i)) {
        evidence.push(Evidence::of(cx.index, c, Some("lastSeen")));
    }
    Finding::new("fleet.stale-status", subject(s, &t), severity, title)
        .with_summary(summary.trim_end().to_string())
        .with_objects(objects)
        .with_evidence(evidence)
        .with_remediation(resync_fix(cx, s))
        .with_references(FLEET_REFS.iter().map(|s| s.to_string()).collect())
}

/// The finding's title and severity: what Fleet claims against what the capture shows.
fn stale_title(
    cx: &Context,
    s: &Source,
    t: &Target,
    live: Option<&Object>,
    kind: &Stale,
    claim: Option<&Claim>,
) -> (String, Severity) {
    match kind {
        Stale::NotReadyButReady(obs) | Stale::Recreated(obs) => {
            let claimed = match claim.map(|c| &c.assertion) {
                Some(Assertion::NotReady(c)) => c.message_text(),
                _ => String::new(),
            };
            let seen = live
                .and_then(short_counts)
                .unwrap_or_else(|| obs.state.clone());
            // A not-Ready chart in fleet-local blocks upgrades only where the running version
            // has C12; with the version unknown, it likely does.
            let chart =
                !s.is_ready() && chart_name(cx, s).is_some() && s.namespace == "fleet-local";
            let lead = match (kind, chart.then(|| c12_applies(cx)).flatten(), chart) {
                (Stale::Recreated(_), _, _) => "Fleet status is about a recreated object",
                (_, Some(true), _) => "Stale Fleet status blocks upgrades",
                (_, None, true) => "Stale Fleet status likely blocks upgrades",
                _ => "Fleet status is stale",
            };
            (
                format!(
                    "{lead}: {} claims {} {}/{} is not ready ({claimed}); the capture shows it \
                     ready ({seen})",
                    short_label(cx, s),
                    t.kind,
                    t.namespace,
                    t.name
                ),
                Severity::Error,
            )
        }
        Stale::ReadyButNotReady(obs) => (
            format!(
                "Fleet status is stale: {} reports Ready, but {} {}{} is not ready ({})",
                source_label(cx, s),
                t.kind,
                if t.namespace.is_empty() {
                    String::new()
                } else {
                    format!("{}/", t.namespace)
                },
                t.name,
                live.and_then(short_counts)
                    .unwrap_or_else(|| obs.message_text())
            ),
            if cx.fleet.agent.heartbeat_stale() {
                Severity::Error
            } else {
                Severity::Warning
            },
        ),
        Stale::MissingButPresent => (
            format!(
                "Fleet status is stale: {} says {} is missing, but it is in the capture with \
                 Fleet's labels",
                source_label(cx, s),
                t.fleet_name()
            ),
            Severity::Error,
        ),
        Stale::DriftGone => (
            format!(
                "Fleet status is stale: {} reports drift on {}, but the captured object \
                 matches the chart again",
                source_label(cx, s),
                t.fleet_name()
            ),
            Severity::Error,
        ),
        Stale::DriftIgnored(by) => (
            format!(
                "Fleet status is stale: {} reports drift on {} only in fields its \
                 diff.comparePatches now ignores ({})",
                source_label(cx, s),
                t.fleet_name(),
                by.join(", ")
            ),
            Severity::Error,
        ),
        Stale::ExtraUnowned => (
            format!(
                "Fleet status is stale: {} reports {} as left over, but it no longer carries \
                 Fleet's objectset hash label",
                source_label(cx, s),
                t.fleet_name()
            ),
            Severity::Error,
        ),
        Stale::ExtraGone => (
            format!(
                "Fleet status is stale: {} reports {} as left over, but it is gone",
                source_label(cx, s),
                t.fleet_name()
            ),
            Severity::Error,
        ),
        Stale::ObjectGone => (
            format!(
                "Fleet status is stale: {} reports on {}, which no longer exists",
                source_label(cx, s),
                t.fleet_name()
            ),
            Severity::Error,
        ),
    }
}

/// The bundle whose objectset id the local agent puts on its objects, for saying whose id an
/// object carries (only `fleet-local` ids are known).
fn local_bundle(s: &Source) -> Option<&str> {
    (s.namespace == "fleet-local").then_some(s.name.as_str())
}

/// "Claimed by Fleet": where and when Fleet recorded its claim.
fn write_claim(summary: &mut String, cx: &Context, s: &Source, claim: Option<&Claim>) {
    let cap = cx.created_at;
    if let Some(c) = claim {
        let _ = writeln!(
            summary,
            "Claimed by Fleet ({}):\n  {}\n  recorded {} (Ready condition lastUpdateTime), \
             bundle state {}",
            claim_where(cx, s, c),
            claim_line(c),
            ago(s.claimed_at(), cap),
            if c.bundle_state.is_empty() {
                s.state.as_str()
            } else {
                c.bundle_state.as_str()
            }
        );
    } else {
        let _ = writeln!(
            summary,
            "Claimed by Fleet: {} is Ready (Ready condition True since {}), so every object of \
             its release is ready as far as Fleet knows.",
            source_label(cx, s),
            ago(s.claimed_at(), cap)
        );
    }
}

/// "Observed in the capture": the object as captured (and, when it is not ready, why); returns
/// the evidence of the reasons.
fn write_observed(
    summary: &mut String,
    cx: &Context,
    s: &Source,
    t: &Target,
    live: Option<&Object>,
    kind: &Stale,
) -> Vec<Evidence> {
    let cap = cx.created_at;
    let mut extra_evidence = Vec::new();
    match (live, kind) {
        (Some(o), Stale::ReadyButNotReady(obs)) => {
            let _ = writeln!(
                summary,
                "Observed in the capture:\n  {}",
                describe_observed(o, obs)
            );
            let why = reason_for(cx, o);
            for l in why.lines.iter().take(4) {
                let _ = writeln!(summary, "  - {l}");
            }
            extra_evidence = why.evidence;
        }
        (Some(o), Stale::NotReadyButReady(obs)) => {
            let _ = writeln!(
                summary,
                "Observed in the capture:\n  {}",
                describe_observed(o, obs)
            );
        }
        (Some(o), Stale::Recreated(obs)) => {
            let _ = writeln!(
                summary,
                "Observed in the capture:\n  {}\n  Its uid is {} while Fleet recorded {}: the \
                 object was recreated at {} and the claim is about the previous one.",
                describe_observed(o, obs),
                o.meta.uid,
                t.uid.as_deref().unwrap_or("?"),
                ago(o.meta.creation_timestamp.as_deref(), cap)
            );
        }
        (Some(o), _) => {
            let _ = writeln!(
                summary,
                "Observed in the capture: {} {} exists and {}.",
                o.key.kind,
                o.key.name,
                objectset::marks(o, local_bundle(s))
            );
        }
        (None, _) => {
            let _ = writeln!(
                summary,
                "Observed in the capture: no such object, although its list was collected."
            );
        }
    }
    extra_evidence
}

/// When the object last changed against the claim, why Fleet did not re-evaluate it, whether a
/// resync clears it, and the effect; returns the last change.
fn write_story(
    summary: &mut String,
    cx: &Context,
    s: &Source,
    j: &Judged,
    kind: &Stale,
) -> Option<fleet::Change> {
    let cap = cx.created_at;
    let change = j
        .live
        .and_then(|l| fleet::last_change_detail(cx.index, cx.graph, l));
    if let Some(ch) = &change {
        let order = match s
            .claimed_at()
            .and_then(time::parse)
            .zip(time::parse(&ch.at))
        {
            Some((cl, t)) if t > cl => "after Fleet's claim",
            Some(_) => "before Fleet's claim",
            None => "",
        };
        let _ = writeln!(
            summary,
            "The object last changed {}: {}, {order}.",
            ago(Some(&ch.at), cap),
            ch.what
        );
    }
    let _ = writeln!(
        summary,
        "Why the claim is frozen: {}.",
        why_frozen(cx, s, j.changed_at.as_deref())
    );
    let resync = match kind {
        Stale::ReadyButNotReady(_) => {
            "A resync makes Fleet report the object's real state; the object itself still needs \
             fixing (see the object's own findings)."
        }
        Stale::ExtraUnowned => {
            "A resync clears it. Fleet no longer sees the object as its own, so it will not \
             delete it either: if it is not wanted, delete it yourself."
        }
        _ => "A resync clears it: the object is fine, only Fleet's record is old.",
    };
    let _ = writeln!(summary, "{resync}");
    if !s.is_ready() {
        let _ = write!(summary, "{}", effect(cx, s));
    }
    change
}

fn fallback(cx: &Context, s: &Source, j: &Judged) -> Finding {
    Finding::new(
        "fleet.stale-status",
        format!("Bundle/{}/{}:{}", s.namespace, s.name, j.claim),
        Severity::Warning,
        format!(
            "Fleet status of {} contradicts the capture",
            source_label(cx, s)
        ),
    )
    .with_objects(source_objects(cx, s))
    .with_remediation(resync_fix(cx, s))
}

fn in_flux_finding(
    cx: &Context,
    s: &Source,
    j: &Judged,
    observed: &Summary,
    changed_at: &str,
) -> Finding {
    let t = target_of(cx, j).unwrap_or_else(|| Target {
        group: String::new(),
        kind: String::new(),
        namespace: String::new(),
        name: String::new(),
        api_version: String::new(),
        uid: None,
    });
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&t));
    let mut evidence = Vec::new();
    if let Some(o) = j.live.and_then(|i| at(cx, i)) {
        evidence.push(Evidence::of(cx.index, o, Some("  status:")));
    }
    Finding::new(
        "fleet.stale-status",
        subject(s, &t),
        Severity::Info,
        format!(
            "Fleet and the capture disagree on {} {}, which changed minutes before capture",
            t.kind, t.name
        ),
    )
    .with_summary(format!(
        "{} and the captured object disagree (observed: {}), but the object last changed \
             {}, within {} minutes of the capture: the bundle caught it mid-change and Fleet \
             lags by seconds. Not a stale claim.",
        source_label(cx, s),
        if observed.is_ready() {
            "ready".to_string()
        } else {
            observed.display()
        },
        ago(Some(changed_at), cx.created_at),
        fleet::IN_FLUX_SECS / 60
    ))
    .with_objects(objects)
    .with_evidence(evidence)
    .with_remediation(
        "Nothing to do unless it persists: take a new support bundle in a few \
                      minutes and compare the two with `sbdiag diff`."
            .into(),
    )
}

fn not_owned_finding(cx: &Context, s: &Source, j: &Judged) -> Finding {
    let claim = cx.fleet.claim(j);
    let t = target_of(cx, j).unwrap_or_else(|| Target {
        group: String::new(),
        kind: String::new(),
        namespace: String::new(),
        name: String::new(),
        api_version: String::new(),
        uid: None,
    });
    let live = j.live.and_then(|i| at(cx, i));
    let mut summary = String::new();
    if let Some(c) = claim {
        let _ = writeln!(
            summary,
            "Claimed by Fleet ({}):\n  {}",
            claim_where(cx, s, c),
            claim_line(c)
        );
    }
    let hook = live.and_then(|o| o.meta.annotations.get("helm.sh/hook").cloned());
    let known = crate::facts::immutable::known_hook(&t.namespace, &t.name);
    if let (Some(o), Some(h)) = (live, hook.as_deref()) {
        let _ = writeln!(
            summary,
            "Observed: {} exists (created {}), is a Helm hook ({h}) and {}. Helm creates hook \
             objects itself, outside Fleet's apply, so they never carry Fleet's objectset marks \
             and Fleet reports them missing — a false \"missing\" (S9 in sbdiag's Fleet notes). \
             The object is fine; a resync does not clear the report, because the hook is \
             recreated the same way on every install or upgrade.",
            t.fleet_name(),
            ago(o.meta.creation_timestamp.as_deref(), cx.created_at),
            objectset::marks(o, local_bundle(s))
        );
        if let Some(k) = known {
            let _ = writeln!(summary, "Known issue: {}.", k.cause);
        }
    } else if let Some(o) = live {
        let _ = writeln!(
            summary,
            "Observed: {} exists (created {}), but it {}: Fleet only counts objects carrying \
             both its id annotation and its hash label, so it reports this one as missing and \
             leaves it out of readiness (harvester/harvester#5505). A resync does not clear \
             this.",
            t.fleet_name(),
            ago(o.meta.creation_timestamp.as_deref(), cx.created_at),
            objectset::marks(o, local_bundle(s))
        );
    }
    if !s.is_ready() {
        let _ = write!(summary, "{}", effect(cx, s));
    }
    let mut objects = source_objects(cx, s);
    objects.push(target_ref(&t));
    let mut evidence = claim
        .map(|c| claim_evidence(cx, s, &t, c.recorded_in))
        .unwrap_or_default();
    if let Some(o) = live {
        evidence.push(Evidence::of(
            cx.index,
            o,
            hook.as_deref().map(|_| "helm.sh/hook:"),
        ));
    }
    Finding::new(
        "fleet.stale-status",
        subject(s, &t),
        Severity::Error,
        match hook.as_deref() {
            Some(h) => format!(
                "Fleet reports Helm hook {} missing although it exists ({h} hooks lack Fleet's \
                 labels); {} stays not Ready",
                t.fleet_name(),
                chart_name(cx, s)
                    .map(|c| format!("ManagedChart {c}"))
                    .unwrap_or_else(|| format!("Bundle {}", s.name))
            ),
            None => format!(
                "Fleet cannot see {} as its own: it exists without Fleet's objectset labels, so \
                 {} reports it missing",
                t.fleet_name(),
                source_label(cx, s)
            ),
        },
    )
    .with_summary(summary.trim_end().to_string())
    .with_objects(objects)
    .with_evidence(evidence)
    .with_remediation(match (&hook, known) {
        (Some(_), Some(k)) => k.fix.to_string(),
        (Some(_), None) => hook_fix(cx, s, &t),
        (None, _) => not_owned_fix(cx, s, &t),
    })
    .with_references(match (&hook, known) {
        (Some(_), Some(k)) => k.references.iter().map(|r| r.to_string()).collect(),
        _ => vec!["https://github.com/harvester/harvester/issues/5505".into()],
    })
}

/// The objectset hash label carried by the other objects of a bundle's release.
fn release_hash(cx: &Context, s: &Source) -> Option<String> {
    let id = objectset::local_id(&s.name);
    cx.index
        .primary()
        .filter(|o| o.meta.annotations.get(objectset::ID_ANNOTATION) == Some(&id))
        .find_map(|o| o.meta.labels.get(objectset::HASH_LABEL).cloned())
}

fn kubectl_target(t: &Target) -> String {
    format!(
        "{}{} {}",
        if t.namespace.is_empty() {
            String::new()
        } else {
            format!("-n {} ", t.namespace)
        },
        t.kind.to_lowercase(),
        t.name
    )
}

fn hook_fix(cx: &Context, s: &Source, t: &Target) -> String {
    let label = match release_hash(cx, s) {
        Some(hash) => format!(
            "$ kubectl label {} {}={hash}",
            kubectl_target(t),
            objectset::HASH_LABEL
        ),
        None => no_hash(t),
    };
    format!(
        "Give the hook Fleet's markers so that Fleet counts it, then let Fleet re-evaluate:\n$ \
         kubectl annotate {tgt} {id}={idv}\n{label}\n$ kubectl -n \
         {bns} patch bundles.fleet.cattle.io {bundle} --type merge -p \
         '{{\"spec\":{{\"forceSyncGeneration\":{n}}}}}'\nThe next install or upgrade of the chart \
         recreates the hook without them; deleting it does not help either (Helm recreates it the \
         same way). Do not delete the Bundle or its BundleDeployment.",
        tgt = kubectl_target(t),
        id = objectset::ID_ANNOTATION,
        idv = objectset::local_id(&s.name),
        bns = s.namespace,
        bundle = s.name,
        n = next_sync(s),
    )
}

/// In words, when the bundle holds no other object of the release to read the hash from.
fn no_hash(t: &Target) -> String {
    format!(
        "Label it {} with the value the release's other objects carry (the bundle holds none \
         of them; `kubectl get {} -A --show-labels` on the cluster shows it).",
        objectset::HASH_LABEL,
        t.kind.to_lowercase()
    )
}

fn not_owned_fix(cx: &Context, s: &Source, t: &Target) -> String {
    let hash = match release_hash(cx, s) {
        Some(h) => format!("label {}={h}", objectset::HASH_LABEL),
        None => format!(
            "label {} with the value the release's other objects carry (the bundle holds none \
             of them; `kubectl get {} -A --show-labels` on the cluster shows it)",
            objectset::HASH_LABEL,
            t.kind.to_lowercase()
        ),
    };
    format!(
        "Let Fleet adopt the object again. Either delete it and force a redeploy so Helm \
             recreates it with Fleet's labels (only if nothing depends on it meanwhile):\n$ \
             kubectl delete {kind} {nsflag}{name}\n$ kubectl -n {bns} patch bundles.fleet.cattle.io \
             {bundle} --type merge -p '{{\"spec\":{{\"forceSyncGeneration\":{n}}}}}'\nor add the \
             markers by hand: annotation {id}={idv} and {hash}.",
        kind = t.kind.to_lowercase(),
        nsflag = if t.namespace.is_empty() {
            String::new()
        } else {
            format!("-n {} ", t.namespace)
        },
        name = t.name,
        bns = s.namespace,
        bundle = s.name,
        n = next_sync(s),
        id = objectset::ID_ANNOTATION,
        idv = objectset::local_id(&s.name),
    )
}

/// S6: a ManagedChart whose status copy disagrees with its Bundle, or whose `Defined` is False.
fn chart_lag(cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &cx.fleet.sources {
        let (Some(bi), Some(mi)) = (s.bundle, s.chart) else {
            continue;
        };
        let (Some(b), Some(m)) = (at(cx, bi), at(cx, mi)) else {
            continue;
        };
        let br = condition(&b.status.conditions, "Ready");
        let mr = condition(&m.status.conditions, "Ready");
        let defined = condition(&m.status.conditions, "Defined");
        let mut why = Vec::new();
        if let Some(d) = defined.filter(|d| d.status == "False") {
            why.push(format!(
                "its Defined condition is False since {} ({}): Rancher's handler fails before \
                 it copies the Bundle status",
                ago(d.last_update_time.as_deref(), cx.created_at),
                d.message.as_deref().unwrap_or("no message")
            ));
        }
        let differs = match (br, mr) {
            (Some(b), Some(m)) => b.status != m.status || b.message != m.message,
            (Some(_), None) => true,
            _ => false,
        };
        if differs {
            why.push(format!(
                "its Ready condition ({}) differs from Bundle {}'s ({})",
                mr.map(|c| c.status.as_str()).unwrap_or("absent"),
                s.name,
                br.map(|c| c.status.as_str()).unwrap_or("absent")
            ));
        }
        if why.is_empty() {
            continue;
        }
        let mr_false = mr.is_some_and(|c| c.status != "True");
        out.push(
            Finding::new(
                "fleet.stale-status",
                format!("ManagedChart/{}/{}", m.key.namespace, m.key.name),
                if mr_false {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                format!(
                    "ManagedChart {} shows a stale copy of Bundle {}'s status",
                    m.key.name, s.name
                ),
            )
            .with_summary(format!(
                "Rancher copies the Bundle's status into the ManagedChart; here {}. The upgrade \
                 webhook reads the ManagedChart, not the Bundle.",
                why.join("; ")
            ))
            .with_objects(vec![ObjectRef::of(m), ObjectRef::of(b)])
            .with_evidence(vec![
                Evidence::of(cx.index, m, Some("type: Defined")),
                Evidence::of(cx.index, b, Some("type: Ready")),
            ])
            .with_remediation(
                "Fix what blocks Rancher's ManagedChart handler (the Defined message; \
                          usually the chart cannot be fetched from ClusterRepo harvester-charts), \
                          then restart Rancher so it copies the status again:\n$ kubectl -n \
                          cattle-system rollout restart deployment/rancher"
                    .into(),
            )
            .with_references(vec!["https://fleet.rancher.io/ref-status-fields".into()]),
        );
    }
    out
}
