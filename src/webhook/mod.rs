//! Admission webhooks at capture time: for every webhook of every Validating/Mutating
//! WebhookConfiguration, the chain clientConfig → Service → Endpoints/EndpointSlices → Pods →
//! Nodes, judged link by link, and the API operations the webhook intercepts, in plain words.
//! A broken chain with `failurePolicy: Fail` blocks every matching API call. A combiner over
//! the index; the `webhook.*` rules turn its results into findings.
use crate::index::Index;
use crate::model::condition;
use crate::model::typed::core::{EndpointSlice, Endpoints};
use crate::model::views::{View, Webhook};

/// The weakest link of a webhook's chain.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// Chain intact: at least one ready endpoint.
    Healthy {
        /// Ready endpoints.
        ready: usize,
    },
    /// The Service does not exist (its namespace's services were collected).
    ServiceMissing,
    /// The Service has no ready endpoint; why, from its pods and nodes.
    NoReadyEndpoint {
        /// Pods behind it, with their problem (or `None` when ready).
        pods: Vec<(usize, Option<String>)>,
        /// Nodes of those pods that are not Ready.
        nodes_down: Vec<usize>,
        /// No pod matches the Service at all.
        no_pods: bool,
    },
    /// The bundle cannot tell (URL client config, services not collected).
    Unknown(String),
}

/// One webhook and its chain.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The configuration object.
    pub config: usize,
    /// Webhook name.
    pub name: String,
    /// Fail or Ignore.
    pub failure_policy: String,
    /// The Service, when it exists.
    pub service: Option<usize>,
    /// `namespace/name` of the Service it calls, or the URL.
    pub target: String,
    /// Endpoints / EndpointSlice objects looked at.
    pub endpoints: Vec<usize>,
    /// The verdict.
    pub link: Link,
    /// What it intercepts, in words.
    pub operations: Vec<String>,
}

fn selector_words(v: Option<&serde_json::Value>) -> Option<String> {
    let v = v?;
    let mut parts = Vec::new();
    if let Some(m) = v.get("matchLabels").and_then(|m| m.as_object()) {
        for (k, val) in m {
            parts.push(format!("{k}={}", val.as_str().unwrap_or("")));
        }
    }
    if let Some(ex) = v.get("matchExpressions").and_then(|e| e.as_array()) {
        for e in ex {
            let key = e.get("key").and_then(|k| k.as_str()).unwrap_or("");
            let op = e.get("operator").and_then(|k| k.as_str()).unwrap_or("");
            let vals: Vec<&str> = e
                .get("values")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            parts.push(match op {
                "In" => format!("{key} in ({})", vals.join(",")),
                "NotIn" => format!("{key} not in ({})", vals.join(",")),
                "Exists" => key.to_string(),
                "DoesNotExist" => format!("!{key}"),
                _ => format!("{key} {op} {}", vals.join(",")),
            });
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The operations a webhook intercepts, one line per rule:
/// `CREATE/UPDATE of upgrades.harvesterhci.io in all namespaces`.
pub fn operations(h: &Webhook) -> Vec<String> {
    let ns = match selector_words(h.raw.get("namespaceSelector")) {
        Some(s) => format!("in namespaces labelled {s}"),
        None => "in all namespaces".into(),
    };
    let obj = selector_words(h.raw.get("objectSelector"))
        .map(|s| format!(", for objects labelled {s}"))
        .unwrap_or_default();
    let rules = h
        .raw
        .get("rules")
        .and_then(|r| r.as_array())
        .cloned()
        .unwrap_or_default();
    let strs = |v: Option<&serde_json::Value>| -> Vec<String> {
        v.and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    rules
        .iter()
        .map(|r| {
            let ops = strs(r.get("operations"));
            // The core group is `""`, which the bundle generator rewrites to `"null"` (read
            // back as a null): both mean core.
            let mut groups: Vec<String> = r
                .get("apiGroups")
                .and_then(|x| x.as_array())
                .map(|a| {
                    a.iter()
                        .map(|g| match g.as_str() {
                            Some("null") | None => String::new(),
                            Some(g) => g.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            if groups.is_empty() {
                groups.push(String::new());
            }
            let res = strs(r.get("resources"));
            let ops = if ops.iter().any(|o| o == "*") {
                "every operation on".to_string()
            } else {
                format!("{} of", ops.join("/"))
            };
            let resources: Vec<String> = res
                .iter()
                .flat_map(|r| {
                    groups.iter().map(move |g| match (g.as_str(), r.as_str()) {
                        ("*", "*") => "every resource".to_string(),
                        (_, "*") => format!("every resource of {g}"),
                        ("", r) => format!("{r} (core)"),
                        ("*", r) => format!("{r} (any group)"),
                        (g, r) => format!("{r}.{g}"),
                    })
                })
                .collect();
            let scope = match r.get("scope").and_then(|s| s.as_str()) {
                Some("Cluster") => " (cluster-scoped)".to_string(),
                _ => String::new(),
            };
            format!("{ops} {}{scope} {ns}{obj}", resources.join(", "))
        })
        .collect()
}

/// Every webhook's chain.
pub fn chains(index: &Index, collected: &dyn Fn(&str, &str) -> bool) -> Vec<Chain> {
    let mut out = Vec::new();
    for kind in [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ] {
        for cfg in index.of_kind("admissionregistration.k8s.io", kind) {
            let View::Webhooks(v) = &cfg.view else {
                continue;
            };
            let Some(ci) = index.position(&cfg.key) else {
                continue;
            };
            for h in &v.webhooks {
                out.push(chain(index, ci, h, collected));
            }
        }
    }
    out
}

fn chain(index: &Index, ci: usize, h: &Webhook, collected: &dyn Fn(&str, &str) -> bool) -> Chain {
    let mut c = Chain {
        config: ci,
        name: h.name.clone(),
        failure_policy: h.failure_policy.clone(),
        service: None,
        target: String::new(),
        endpoints: Vec::new(),
        link: Link::Unknown(String::new()),
        operations: operations(h),
    };
    let Some((ns, name)) = &h.service else {
        c.target = h.url.clone().unwrap_or_default();
        c.link = Link::Unknown(format!(
            "it calls a URL ({}), whose server the bundle does not show",
            h.url.as_deref().unwrap_or("none")
        ));
        return c;
    };
    c.target = format!("{ns}/{name}");
    let Some(svc) = index.find("", "Service", ns, name) else {
        let services_here =
            index.has_list_in("", "services", ns) || index.files.iter().any(|f| f.namespace == *ns);
        c.link = if services_here && collected("", "services") {
            Link::ServiceMissing
        } else {
            Link::Unknown(format!("namespace {ns} was not collected"))
        };
        return c;
    };
    c.service = index.position(&svc.key);
    // Endpoints: ready and not-ready addresses with their pods.
    let mut ready = 0usize;
    let mut pods: Vec<usize> = Vec::new();
    let mut seen_endpoints = false;
    let has_endpoints = index.find("", "Endpoints", ns, name).is_some();
    if let Some(ep) = index.find("", "Endpoints", ns, name) {
        seen_endpoints = true;
        if let Some(i) = index.position(&ep.key) {
            c.endpoints.push(i);
        }
        for a in Endpoints::of(ep).into_iter().flat_map(Endpoints::addresses) {
            if a.ready() {
                ready += 1;
            }
            if let Some(p) = a
                .target_name()
                .and_then(|n| index.position(&pod_key(ns, n)))
            {
                pods.push(p);
            }
        }
    }
    for es in index.of_kind("discovery.k8s.io", "EndpointSlice") {
        if es.key.namespace != *ns || es.meta.labels.get("kubernetes.io/service-name") != Some(name)
        {
            continue;
        }
        seen_endpoints = true;
        if let Some(i) = index.position(&es.key) {
            c.endpoints.push(i);
        }
        for e in EndpointSlice::of(es)
            .into_iter()
            .flat_map(EndpointSlice::endpoints)
        {
            // When the Endpoints object exists its addresses were counted already.
            if e.ready() && !has_endpoints {
                ready += 1;
            }
            if let Some(p) = e
                .target_name()
                .and_then(|n| index.position(&pod_key(ns, n)))
            {
                pods.push(p);
            }
        }
    }
    // No endpoint objects collected: judge from the pods the selector picks.
    let View::Service(sv) = &svc.view else {
        c.link = Link::Unknown("the Service could not be read".into());
        return c;
    };
    if !seen_endpoints {
        if sv.selector.is_empty() {
            c.link =
                Link::Unknown("the Service has no selector and no Endpoints were collected".into());
            return c;
        }
        for p in index.of_kind("", "Pod") {
            if p.key.namespace == *ns
                && sv
                    .selector
                    .iter()
                    .all(|(k, v)| p.meta.labels.get(k) == Some(v))
                && let Some(pi) = index.position(&p.key)
            {
                pods.push(pi);
                if condition(&p.status.conditions, "Ready").is_some_and(|c| c.status == "True") {
                    ready += 1;
                }
            }
        }
    } else if pods.is_empty() && !sv.selector.is_empty() {
        // Endpoints list nothing: show the pods the selector picks, ready or not.
        for p in index.of_kind("", "Pod") {
            if p.key.namespace == *ns
                && sv
                    .selector
                    .iter()
                    .all(|(k, v)| p.meta.labels.get(k) == Some(v))
                && let Some(pi) = index.position(&p.key)
            {
                pods.push(pi);
            }
        }
    }
    pods.sort_unstable();
    pods.dedup();
    if ready > 0 {
        c.link = Link::Healthy { ready };
        return c;
    }
    let mut nodes_down = Vec::new();
    let described: Vec<(usize, Option<String>)> = pods
        .iter()
        .filter_map(|&p| {
            let po = index.objects.get(p)?;
            if let View::Pod(v) = &po.view
                && let Some(n) = v.node_name.as_deref()
                && let Some(node) = index.find("", "Node", "", n)
                && condition(&node.status.conditions, "Ready").is_some_and(|c| c.status != "True")
                && let Some(ni) = index.position(&node.key)
            {
                nodes_down.push(ni);
            }
            Some((p, crate::fleet::pod_problem(po)))
        })
        .collect();
    nodes_down.sort_unstable();
    nodes_down.dedup();
    c.link = Link::NoReadyEndpoint {
        no_pods: described.is_empty(),
        pods: described,
        nodes_down,
    };
    c
}

fn pod_key(ns: &str, name: &str) -> crate::model::ObjectKey {
    crate::model::ObjectKey {
        group: String::new(),
        kind: "Pod".into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_in_words() {
        let h = Webhook {
            name: "validator.harvesterhci.io".into(),
            failure_policy: "Fail".into(),
            service: None,
            url: None,
            raw: serde_json::json!({
                "rules": [
                    {"operations": ["CREATE", "UPDATE"], "apiGroups": ["harvesterhci.io"],
                     "resources": ["upgrades", "versions"], "scope": "Namespaced"},
                    {"operations": ["*"], "apiGroups": [""], "resources": ["nodes"]},
                    {"operations": ["DELETE"], "apiGroups": [null], "resources": ["persistentvolumeclaims"]}
                ],
                "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]}
            }),
        };
        let ops = operations(&h);
        assert_eq!(
            ops[0],
            "CREATE/UPDATE of upgrades.harvesterhci.io, versions.harvesterhci.io in namespaces labelled kubernetes.io/metadata.name not in (kube-system)"
        );
        assert!(ops[1].starts_with("every operation on nodes (core)"));
        // `""` rewritten to "null" by the bundle generator is still the core group.
        assert!(
            ops[2].starts_with("DELETE of persistentvolumeclaims (core) in"),
            "{ops:?}"
        );
    }
}
