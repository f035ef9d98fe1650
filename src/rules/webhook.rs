//! Webhook rules: `webhook.unavailable` (an admission webhook whose backend chain is broken,
//! and what it blocks) and `webhook.denial` (denials and call failures found in events and pod
//! logs, tied to the webhook and the object, with Harvester's upgrade denials recognised).
use crate::rules::finding::topic;
use std::fmt::Write as _;

use super::{Context, Evidence, Finding, Input, ObjectRef, Rule, RuleDef, RuleInfo, Severity};
use crate::index::Object;
use crate::model::views::View;
use crate::webhook::{self, Link};

/// The webhook rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(RuleDef::new(UNAVAILABLE_INFO, unavailable)),
        Box::new(RuleDef::new(DENIAL_INFO, denial)),
    ]
}

const UNAVAILABLE_INFO: RuleInfo = RuleInfo {
    id: "webhook.unavailable",
    title: "Admission webhooks whose service has no ready backend",
    description: "Follows every webhook of every Validating/MutatingWebhookConfiguration: \
        clientConfig → Service → Endpoints/EndpointSlices → Pods → Nodes. A broken chain \
        (Service missing, no ready endpoint, pods not ready or crash-looping, their node not \
        Ready) with failurePolicy Fail blocks every API call the webhook intercepts — listed in \
        plain words from its rules and selectors; with Ignore the calls pass unvalidated. \
        URL-based webhooks cannot be judged from YAML.",
    inputs: &[
        Input::Resources,
        Input::Resource(
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
        ),
        Input::Resource("", "services"),
    ],
    versions: "all",
};

fn unavailable(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let collected = |g: &str, p: &str| cx.collected(g, p);
    webhook::chains(cx.index, &collected)
        .into_iter()
        .filter_map(|c| finding(cx, &c))
        .collect()
}

fn label(o: &Object) -> String {
    if o.key.namespace.is_empty() {
        format!("{} {}", o.key.kind, o.key.name)
    } else {
        format!("{} {}/{}", o.key.kind, o.key.namespace, o.key.name)
    }
}

fn finding(cx: &Context, c: &webhook::Chain) -> Option<Finding> {
    let cfg = cx.index.objects.get(c.config)?;
    let fail = c.failure_policy != "Ignore";
    let (broken, severity) = match &c.link {
        Link::Healthy { .. } => return None,
        Link::Unknown(why) if why.contains("URL") => {
            (format!("cannot be judged: {why}"), Severity::Info)
        }
        Link::Unknown(_) => return None,
        Link::ServiceMissing => (
            format!("its Service {} does not exist", c.target),
            if fail {
                Severity::Error
            } else {
                Severity::Warning
            },
        ),
        Link::NoReadyEndpoint {
            pods,
            nodes_down,
            no_pods,
        } => {
            let mut s = format!("its Service {} has no ready endpoint", c.target);
            if *no_pods {
                s.push_str(": no pod backs it");
            } else {
                let bad: Vec<&str> = pods.iter().filter_map(|(_, p)| p.as_deref()).collect();
                if !bad.is_empty() {
                    let _ = write!(s, ": {}", bad.join("; "));
                }
            }
            if !nodes_down.is_empty() {
                let names: Vec<String> = nodes_down
                    .iter()
                    .filter_map(|n| cx.index.objects.get(*n))
                    .map(|n| n.key.name.clone())
                    .collect();
                let _ = write!(s, "; node(s) not Ready: {}", names.join(", "));
            }
            (
                s,
                if fail {
                    Severity::Error
                } else {
                    Severity::Warning
                },
            )
        }
    };
    // What the failing pods' logs say: likely why there is no ready endpoint.
    let causes: Vec<&crate::facts::logcause::CauseLine> = match &c.link {
        Link::NoReadyEndpoint { pods, .. } => pods
            .iter()
            .filter(|(_, problem)| problem.is_some())
            .filter_map(|(p, _)| cx.index.objects.get(*p))
            .flat_map(|p| cx.log_causes(&p.key.namespace, &p.key.name))
            .collect(),
        _ => Vec::new(),
    };
    let (cause_words, cause_evidence) = crate::rules::quote_causes(&causes);
    let mut summary = format!(
        "{} webhook {:?} ({}) calls {}, and {broken}.\n",
        cfg.key.kind, c.name, cfg.key.name, c.target
    );
    if !cause_words.is_empty() {
        summary.push_str("The pods' logs likely say why they fail:\n");
        for w in &cause_words {
            let _ = writeln!(summary, "  - {w}");
        }
    }
    if severity == Severity::Info {
        summary.push_str("The bundle shows no server for it; check it from the cluster.\n");
    } else if fail {
        summary.push_str(
            "failurePolicy is Fail: the API server refuses every call it intercepts with \
             \"failed calling webhook\" until a backend is ready:\n",
        );
    } else {
        summary.push_str(
            "failurePolicy is Ignore: the calls it intercepts go through without its \
             validation or mutation:\n",
        );
    }
    for op in &c.operations {
        let _ = writeln!(summary, "  - {op}");
    }
    let mut objects = vec![ObjectRef::of(cfg)];
    let mut evidence = vec![Evidence::of(
        cx.index,
        cfg,
        Some(&format!("name: {}", c.name)),
    )];
    if let Some(s) = c.service.and_then(|i| cx.index.objects.get(i)) {
        objects.push(ObjectRef::of(s));
        evidence.push(Evidence::of(cx.index, s, Some("selector:")));
    }
    for e in &c.endpoints {
        if let Some(o) = cx.index.objects.get(*e) {
            objects.push(ObjectRef::of(o));
            evidence.push(Evidence::of(cx.index, o, Some("notReadyAddresses")));
        }
    }
    let mut fix = String::new();
    if let Link::NoReadyEndpoint {
        pods, nodes_down, ..
    } = &c.link
    {
        for (p, problem) in pods {
            if let Some(o) = cx.index.objects.get(*p) {
                objects.push(ObjectRef::of(o));
                if problem.is_some() {
                    evidence.push(Evidence::of(cx.index, o, Some("containerStatuses")));
                }
            }
        }
        for n in nodes_down {
            if let Some(o) = cx.index.objects.get(*n) {
                objects.push(ObjectRef::of(o));
                evidence.push(Evidence::of(cx.index, o, Some("type: Ready")));
            }
        }
        let first_pod = pods
            .iter()
            .find(|(_, p)| p.is_some())
            .and_then(|(p, _)| cx.index.objects.get(*p));
        match first_pod {
            Some(p) => {
                let _ = writeln!(
                    fix,
                    "Bring the webhook's pods back: read why they fail, fix the cause, and the \
                     API calls go through again:\n$ {}",
                    cx.sbdiag(
                        "logs",
                        &format!("-n {} {} --previous", p.key.namespace, p.key.name)
                    )
                );
            }
            None => {
                fix.push_str("Start the webhook's workload so its Service has a ready endpoint.\n")
            }
        }
    }
    if severity != Severity::Info && fail {
        let _ = write!(
            fix,
            "While it cannot be fixed and the blocked calls are urgent, the webhook can be taken out \
             of the path temporarily (its controller recreates it; never for long — it is what \
             validates those objects):\n$ kubectl delete {} {}",
            cfg.key.kind.to_lowercase(),
            cfg.key.name
        );
    }
    evidence.extend(cause_evidence);
    objects.sort();
    objects.dedup();
    // The title names the likely cause when a log gives one, else the broken link.
    let broken_title = match causes.first() {
        Some(first) => format!(
            "its Service {} has no ready endpoint; its pods' log: \"{}\"",
            c.target,
            crate::text::head_tail(&first.text, 160)
        ),
        None => crate::text::one_line(&broken, 140),
    };
    let title = if severity == Severity::Info {
        format!("Webhook {} calls a URL the bundle cannot judge", c.name)
    } else {
        format!(
            "Webhook {} ({}) is unavailable — {broken_title}; {}",
            c.name,
            label(cfg),
            if fail {
                format!(
                    "blocks {}",
                    c.operations.first().cloned().unwrap_or_default()
                )
            } else {
                "calls pass unvalidated (Ignore)".into()
            }
        )
    };
    // The configuration's kind is in the id too: a Validating and a Mutating configuration may
    // share their name and their webhooks' names (rancher-monitoring-admission does).
    let subject = format!("{}/{}:{}", cfg.key.kind, cfg.key.name, c.name);
    Some(
        Finding::new("webhook.unavailable", subject, severity, title)
            .with_summary(summary.trim_end().to_string())
            .with_objects(objects)
            .with_evidence(evidence)
            .with_remediation(fix.trim_end().to_string())
            .with_references(vec![FAILURE_POLICY_DOC.into()])
            .explaining([topic::webhook(&c.name)]),
    )
}

/// Kubernetes' documentation of a webhook's failure policy.
const FAILURE_POLICY_DOC: &str = "https://kubernetes.io/docs/reference/access-authn-authz/\
                                  extensible-admission-controllers/#failure-policy";

// ---------------------------------------------------------------- webhook.denial

const DENIAL_INFO: RuleInfo = RuleInfo {
    id: "webhook.denial",
    title: "Admission denials and webhook call failures in events and pod logs",
    description: "Finds `admission webhook \"X\" denied the request: …`, `failed calling \
        webhook \"X\"` (timeouts, `context deadline exceeded`, `x509` certificate errors, \
        connection refused) in events and in every pod log, ties each to its webhook \
        configuration and, for events, to the object that was refused; recognises Harvester's \
        upgrade-webhook denials by their check (C3, C12, …).",
    inputs: &[Input::Resources],
    versions: "all",
};

fn denial(_: &RuleInfo, cx: &Context) -> Vec<Finding> {
    let re = crate::text::regex(
        r#"(admission webhook|failed calling webhook|failed to call webhook) \\?"([^"\\]+)\\?"(?:[^:]*?denied the request)?:?\s*(.*)"#,
    );
    let Ok(re) = re else { return Vec::new() };
    // (webhook, class) → occurrences.
    let mut groups: std::collections::BTreeMap<(String, String), Vec<Occurrence>> =
        std::collections::BTreeMap::new();
    for e in cx
        .index
        .of_kind("", "Event")
        .chain(cx.index.of_kind("events.k8s.io", "Event"))
    {
        let View::Event(v) = &e.view else { continue };
        let Some(msg) = v.message.as_deref() else {
            continue;
        };
        if !msg.contains("webhook") {
            continue;
        }
        if let Some(c) = re.captures(msg) {
            let name = c.get(2).map(|m| m.as_str()).unwrap_or("").to_string();
            let rest = c.get(3).map(|m| m.as_str()).unwrap_or("");
            let class = classify(c.get(1).map(|m| m.as_str()).unwrap_or(""), rest);
            groups
                .entry((name, class))
                .or_default()
                .push(Occurrence::Event {
                    event: e,
                    message: msg.to_string(),
                });
        }
    }
    for h in cx
        .log_hits
        .iter()
        .filter(|h| h.issue.starts_with("webhook:"))
    {
        if let Some((_, rest)) = h.text.split_once("operation is rejected: ") {
            let name = h.issue.trim_start_matches("webhook:").to_string();
            let class = classify("admission webhook", rest);
            groups
                .entry((name, class))
                .or_default()
                .push(Occurrence::Log(h.clone()));
        } else if let Some(c) = re.captures(&h.text) {
            let name = c.get(2).map(|m| m.as_str()).unwrap_or("").to_string();
            let rest = c.get(3).map(|m| m.as_str()).unwrap_or("");
            let class = classify(c.get(1).map(|m| m.as_str()).unwrap_or(""), rest);
            groups
                .entry((name, class))
                .or_default()
                .push(Occurrence::Log(h.clone()));
        }
    }
    groups
        .into_iter()
        .map(|((name, class), occ)| denial_finding(cx, &name, &class, &occ))
        .collect()
}

enum Occurrence<'a> {
    Event { event: &'a Object, message: String },
    Log(crate::upgrade::known::LogHit),
}

fn classify(kind: &str, rest: &str) -> String {
    if kind != "admission webhook" {
        let why = if rest.contains("x509") {
            "certificate (x509)"
        } else if rest.contains("connection refused") {
            "connection refused"
        } else if rest.contains("deadline exceeded")
            || rest.contains("i/o timeout")
            || rest.contains("Client.Timeout")
            || rest.contains("timed out")
        {
            "timeout"
        } else if rest.contains("no endpoints available") {
            "no endpoints"
        } else {
            "call failed"
        };
        return format!("failed: {why}");
    }
    if let Some(id) = crate::facts::harvester::recognise(rest) {
        return if crate::facts::harvester::upgradelog_denial(id).is_some() {
            format!("denied: upgradelog check {id}")
        } else {
            format!("denied: upgrade check {id}")
        };
    }
    "denied".into()
}

/// A class from [`classify`] as an id fragment (`denied: upgrade check C12` →
/// `denied-upgrade-check-c12`): the classes are a fixed vocabulary, so the id never holds
/// the denial's own words.
fn class_key(class: &str) -> String {
    let mut out = String::with_capacity(class.len());
    for c in class.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The refusal itself, without the log prefix: what follows "denied the request:" or
/// "operation is rejected:", else the line.
fn denial_text(line: &str) -> String {
    for marker in [
        "denied the request: ",
        "operation is rejected: ",
        "failed calling webhook ",
    ] {
        if let Some((_, rest)) = line.split_once(marker) {
            let rest = rest.trim_end().trim_end_matches(['"', '\\']);
            return if marker.starts_with("failed") {
                format!("failed calling webhook {rest}")
            } else {
                rest.to_string()
            };
        }
    }
    line.to_string()
}

fn denial_finding(cx: &Context, name: &str, class: &str, occ: &[Occurrence]) -> Finding {
    let cfg = [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ]
    .iter()
    .flat_map(|k| cx.index.of_kind("admissionregistration.k8s.io", k))
    .find(|o| matches!(&o.view, View::Webhooks(v) if v.webhooks.iter().any(|h| h.name == name)));
    let mut summary = String::new();
    let mut objects: Vec<ObjectRef> = cfg.iter().map(|o| ObjectRef::of(o)).collect();
    let mut evidence: Vec<Evidence> = cfg
        .iter()
        .map(|o| Evidence::of(cx.index, o, Some(&format!("name: {name}"))))
        .collect();
    let mut sample = String::new();
    let mut total = 0usize;
    for o in occ.iter().take(8) {
        match o {
            Occurrence::Event { event, message } => {
                let View::Event(v) = &event.view else {
                    continue;
                };
                total += v.count.max(1) as usize;
                let _ = writeln!(
                    summary,
                    "  - event {} on {} {}/{} (x{}, last {}): {}",
                    v.reason.as_deref().unwrap_or(""),
                    v.regarding.kind,
                    v.regarding.namespace,
                    v.regarding.name,
                    v.count,
                    v.last.as_deref().unwrap_or("?"),
                    crate::text::head_tail(message, 300)
                );
                if sample.is_empty() {
                    sample = denial_text(message);
                }
                objects.push(ObjectRef::of(event));
                if let Some(r) = cx.index.find(
                    "",
                    &v.regarding.kind,
                    &v.regarding.namespace,
                    &v.regarding.name,
                ) {
                    objects.push(ObjectRef::of(r));
                }
                evidence.push(Evidence::of(cx.index, event, Some("message:")));
            }
            Occurrence::Log(h) => {
                total += h.count;
                let _ = writeln!(
                    summary,
                    "  - {}:{} ({} line(s) in this log, the last): {}",
                    h.file,
                    h.line,
                    h.count,
                    crate::text::head_tail(&h.text, 300)
                );
                if sample.is_empty() {
                    sample = denial_text(&h.text);
                }
                evidence.push(Evidence::lines(h.file.clone(), h.line, h.line));
            }
        }
    }
    if occ.len() > 8 {
        let _ = writeln!(summary, "  … and {} more sources", occ.len() - 8);
    }
    let head = match cfg {
        Some(c) => format!("Webhook {name:?} ({} {})", c.key.kind, c.key.name),
        None => format!("Webhook {name:?} (no configuration of that name was captured)"),
    };
    let verdict = if class.starts_with("failed") {
        format!(
            "{head}: the API server could not call it ({}); with failurePolicy Fail the requests \
             were refused.",
            class.trim_start_matches("failed: ")
        )
    } else {
        format!("{head} refused requests ({class}).")
    };
    let remediation = if class.starts_with("failed") {
        format!(
            "See webhook.unavailable for the state of {name}'s backend; for x509 errors the \
             webhook's caBundle does not match its serving certificate (restart the webhook's \
             pod so it re-issues and re-injects it)."
        )
    } else if class.contains("upgrade check") {
        "See upgrade.admission: it lists every check that denies the upgrade now, with its fix."
            .to_string()
    } else if let Some(d) = class
        .strip_prefix("denied: upgradelog check ")
        .and_then(crate::facts::harvester::upgradelog_denial)
    {
        format!(
            "Harvester's UpgradeLog webhook ({}) refused it: {} Do not create or edit \
             UpgradeLogs by hand; the upgrade creates its own while it sets logging up.",
            d.id, d.meaning
        )
    } else {
        "Read the denial text: the webhook explains what it refused and why.".to_string()
    };
    objects.sort();
    objects.dedup();
    Finding::new(
        "webhook.denial",
        format!("{name}:{}", class_key(class)),
        if class.starts_with("failed") {
            Severity::Error
        } else {
            Severity::Warning
        },
        format!(
            "{} {name}: {} ({} occurrence(s))",
            if class.starts_with("failed") {
                "Calls to webhook failed"
            } else {
                "Requests denied by webhook"
            },
            crate::text::head_tail(&sample, 160),
            total
        ),
    )
    .with_summary(format!("{verdict}\n{}", summary.trim_end()))
    .with_objects(objects)
    .with_evidence(evidence)
    .with_remediation(remediation)
    .with_topic(topic::webhook(name))
    .with_topics(
        class
            .strip_prefix("denied: upgrade check ")
            .map(topic::check),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::TestBed;

    #[test]
    fn an_upgradelog_denial_is_named_with_its_meaning() {
        let ev = "apiVersion: v1\nkind: Event\nmetadata:\n  name: e1\n  namespace: harvester-system\ninvolvedObject:\n  kind: Upgrade\n  name: hvst-upgrade-x\n  namespace: harvester-system\nreason: FailedCreate\ntype: Warning\ncount: 3\nmessage: 'admission webhook \"validator.harvesterhci.io\" denied the request: upgradelog hvst-upgrade-x-upgradelog already exists for upgrade hvst-upgrade-x'\n";
        let bed = TestBed::new(&[ev], Some("v1.9.0"));
        let out = denial(&DENIAL_INFO, &bed.cx());
        assert_eq!(out.len(), 1, "{out:#?}");
        let f = &out[0];
        assert_eq!(
            f.id,
            "webhook.denial:validator.harvesterhci.io:denied-upgradelog-check-ul9"
        );
        assert!(
            f.summary.contains("(denied: upgradelog check UL9)"),
            "{}",
            f.summary
        );
        assert!(
            f.remediation
                .contains("the Upgrade already has an UpgradeLog; a second one was refused"),
            "{}",
            f.remediation
        );
    }
}
