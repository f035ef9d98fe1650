//! The read-only Kubernetes API over an analysed bundle, independent of the HTTP stack: a
//! request (method, path, query, `Accept`) in, a [`Reply`] out. Discovery for every resource
//! list the bundle holds (with or without its CRD), list/get with label and field selectors,
//! `meta.k8s.io/v1` Tables from the column model, watch (the current objects as `ADDED`), pod
//! logs, and a 405 `Status` for every write.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::route::{self, FieldReq, Route, Target};
use crate::analyze::Capture;
use crate::index::Object;
use crate::model::kinds;
use crate::model::time::Timestamp;
use crate::model::views::View;
use crate::query::columns::{ColumnType, Tables};
use crate::query::logs::{self, LogRequest};
use crate::query::select::Selector;
use crate::query::whole::Whole;

/// A resource the API serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResource {
    /// API group (`""`: core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Plural name.
    pub plural: String,
    /// Kind.
    pub kind: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Short names (from the CRD, else kubectl's well-known ones).
    pub short_names: Vec<String>,
}

/// How ages and timestamps read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeFrom {
    /// Timestamps as captured; ages relative to now.
    Now,
    /// Timestamps shifted by (now − capture time), so ages read as at the capture.
    Capture,
}

/// A reply.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body (for a watch: the initial events).
    pub body: Vec<u8>,
    /// A watch: keep the stream open after the body, for at most these seconds (`None`: until
    /// the client leaves).
    pub watch: Option<Option<u64>>,
}

impl Reply {
    fn json(status: u16, v: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: serde_json::to_vec(v).unwrap_or_default(),
            watch: None,
        }
    }
}

/// A Kubernetes `Status` failure.
pub fn status(code: u16, reason: &str, message: &str) -> Reply {
    Reply::json(
        code,
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }),
    )
}

/// The message of every refused write.
pub const READ_ONLY: &str = "this API is a read-only support bundle (sbdiag serve): nothing can be created, changed or deleted";

/// The API over one bundle.
pub struct Api {
    a: &'static Capture,
    whole: Whole<'static>,
    /// Every resource served, sorted by (group, version, plural).
    pub resources: Vec<ApiResource>,
    /// (now − capture) when timestamps are shifted.
    shift: Option<chrono::Duration>,
    age_from: AgeFrom,
    /// The Kubernetes version the bundle reveals, for `/version`.
    kubernetes: Option<String>,
}

/// Kubernetes' version order: GA over beta over alpha, then by number.
fn version_rank(v: &str) -> (u8, u32, u32) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = rest.get(digits.len()..).unwrap_or_default();
    let (level, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (level, major, minor)
}

impl Api {
    /// The API over `a` (kept for the life of the process).
    pub fn new(a: &'static Capture, age_from: AgeFrom) -> Api {
        let whole = Whole::new(&a.bundle, &a.index);
        // (group, plural) → kind, from the objects.
        let mut kinds_of: BTreeMap<(String, String), String> = BTreeMap::new();
        for t in a.index.resource_types() {
            kinds_of.insert((t.group, t.plural), t.kind);
        }
        // CRD names: kinds of empty lists and short names.
        let mut crds: BTreeMap<(String, String), (String, Vec<String>)> = BTreeMap::new();
        for c in a
            .index
            .of_kind("apiextensions.k8s.io", "CustomResourceDefinition")
        {
            if let Some((g, k, p, s)) = whole.yaml(c, false).as_deref().and_then(kinds::crd_names) {
                crds.insert((g, p), (k, s));
            }
        }
        let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
        let mut resources = Vec::new();
        for f in &a.index.files {
            if f.resource.is_empty() || f.version.is_empty() {
                continue;
            }
            if !seen.insert((f.group.clone(), f.version.clone(), f.resource.clone())) {
                continue;
            }
            let key = (f.group.clone(), f.resource.clone());
            let crd = crds.get(&key);
            let kind = kinds_of
                .get(&key)
                .cloned()
                .or_else(|| crd.map(|c| c.0.clone()))
                .unwrap_or_else(|| kinds::kind_for_plural(&f.resource));
            let short_names = match crd {
                Some((_, s)) if !s.is_empty() => s.clone(),
                _ => kinds::short_names(&f.group, &f.resource)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            };
            resources.push(ApiResource {
                group: f.group.clone(),
                version: f.version.clone(),
                plural: f.resource.clone(),
                kind,
                namespaced: !f.namespace.is_empty(),
                short_names,
            });
        }
        // A resource listed both per namespace and cluster-wide is namespaced.
        let namespaced: BTreeSet<(String, String)> = resources
            .iter()
            .filter(|r| r.namespaced)
            .map(|r| (r.group.clone(), r.plural.clone()))
            .collect();
        for r in &mut resources {
            r.namespaced |= namespaced.contains(&(r.group.clone(), r.plural.clone()));
        }
        resources.sort_by(|x, y| {
            (&x.group, &x.version, &x.plural).cmp(&(&y.group, &y.version, &y.plural))
        });
        let shift = match age_from {
            AgeFrom::Capture => a.bundle.created_at.map(|c| chrono::Utc::now() - c),
            AgeFrom::Now => None,
        };
        Api {
            a,
            whole,
            resources,
            shift,
            age_from,
            kubernetes: crate::facts::detect::versions(&a.bundle, &a.index).kubernetes,
        }
    }

    /// The capture time, when the bundle records it.
    pub fn capture(&self) -> Option<Timestamp> {
        self.a.bundle.created_at
    }

    /// The time ages are measured at.
    fn age_reference(&self) -> Option<Timestamp> {
        match self.age_from {
            AgeFrom::Capture => self.a.bundle.created_at,
            AgeFrom::Now => Some(chrono::Utc::now()),
        }
    }

    /// Answers one request without a body.
    pub fn handle(&self, method: &str, path: &str, query: &str, accept: &str) -> Reply {
        self.handle_body(method, path, query, accept, &[])
    }

    /// Whether a request is one whose body the API reads: the access reviews kubectl's
    /// `auth can-i` POSTs (they ask, and change nothing).
    pub fn reads_body(method: &str, path: &str) -> bool {
        method == "POST" && review_kind(path).is_some()
    }

    /// Answers one request, with its body when [`Api::reads_body`].
    pub fn handle_body(
        &self,
        method: &str,
        path: &str,
        query: &str,
        accept: &str,
        body: &[u8],
    ) -> Reply {
        if method == "POST"
            && let Some(kind) = review_kind(path)
        {
            return review(kind, body);
        }
        if method != "GET" && method != "HEAD" {
            return status(405, "MethodNotAllowed", READ_ONLY);
        }
        if query.len() > route::MAX_URI {
            return status(400, "BadRequest", "query string too long");
        }
        let q = route::query(query);
        let param = |k: &str| q.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
        match route::parse(path) {
            Some(Route::Version) => Reply::json(200, &self.version()),
            Some(Route::Health) => Reply {
                status: 200,
                content_type: "text/plain",
                body: b"ok".to_vec(),
                watch: None,
            },
            Some(Route::CoreVersions) => Reply::json(
                200,
                &json!({
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [],
                }),
            ),
            Some(Route::Groups) => Reply::json(200, &self.groups()),
            Some(Route::Group(g)) => match self.group(&g) {
                Some(v) => Reply::json(200, &v),
                None => not_found_path(path),
            },
            Some(Route::Resources { group, version }) => {
                if (group.is_empty() && version != "v1")
                    || !self
                        .resources
                        .iter()
                        .any(|r| r.group == group && r.version == version)
                        && !group.is_empty()
                {
                    return not_found_path(path);
                }
                Reply::json(200, &self.resource_list(&group, &version))
            }
            Some(Route::Resource(t)) => self.resource(&t, &param, accept),
            None if path.trim_end_matches('/') == "/openapi/v2"
                || path.starts_with("/openapi/v3") =>
            {
                status(
                    404,
                    "NotFound",
                    "a support bundle holds no OpenAPI schema, so `kubectl explain` and \
                     client-side validation cannot work on it (sbdiag serve serves the captured \
                     objects only)",
                )
            }
            None => not_found_path(path),
        }
    }

    fn version(&self) -> Value {
        let v = self.kubernetes.clone().unwrap_or_else(|| "v0.0.0".into());
        let mut parts = v.trim_start_matches('v').split('.');
        let major = parts.next().unwrap_or("0").to_string();
        let minor: String = parts
            .next()
            .unwrap_or("0")
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        json!({
            "major": major,
            "minor": minor,
            "gitVersion": v,
            "gitCommit": "",
            "gitTreeState": "",
            "buildDate": self.capture().map(|c| c.to_rfc3339()).unwrap_or_default(),
            "goVersion": "",
            "compiler": "sbdiag",
            "platform": "support-bundle",
        })
    }

    fn group_versions(&self, group: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .resources
            .iter()
            .filter(|r| r.group == group)
            .map(|r| r.version.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(version_rank(x)));
        v
    }

    fn group_json(&self, group: &str) -> Value {
        let versions: Vec<Value> = self
            .group_versions(group)
            .iter()
            .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
            .collect();
        json!({
            "name": group,
            "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
            "versions": versions,
        })
    }

    /// `/apis`: the groups in a real API server's discovery order (built-in groups by their
    /// priority, then CRD groups by name), which kubectl follows to resolve a resource name
    /// several groups serve (`settings`).
    fn groups(&self) -> Value {
        let mut names: Vec<&str> = self
            .resources
            .iter()
            .map(|r| r.group.as_str())
            .filter(|g| !g.is_empty())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        names.sort_by_key(|g| kinds::discovery_order(g));
        json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": names.iter().map(|g| self.group_json(g)).collect::<Vec<_>>(),
        })
    }

    fn group(&self, group: &str) -> Option<Value> {
        if !self.resources.iter().any(|r| r.group == group) {
            return None;
        }
        let mut v = self.group_json(group);
        if let Some(m) = v.as_object_mut() {
            m.insert("kind".into(), "APIGroup".into());
            m.insert("apiVersion".into(), "v1".into());
        }
        Some(v)
    }

    fn resource_list(&self, group: &str, version: &str) -> Value {
        let mut list = Vec::new();
        for r in self
            .resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
        {
            list.push(json!({
                "name": r.plural,
                "singularName": r.kind.to_lowercase(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "list", "watch"],
                "shortNames": r.short_names,
            }));
            if group.is_empty() && r.plural == "pods" {
                list.push(json!({
                    "name": "pods/log",
                    "singularName": "",
                    "namespaced": true,
                    "kind": "Pod",
                    "verbs": ["get"],
                }));
            }
        }
        json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": if group.is_empty() { version.to_string() } else { format!("{group}/{version}") },
            "resources": list,
        })
    }

    fn resource<'q>(
        &self,
        t: &Target,
        param: &dyn Fn(&str) -> Option<&'q str>,
        accept: &str,
    ) -> Reply {
        let Some(r) = self
            .resources
            .iter()
            .find(|r| r.group == t.group && r.version == t.version && r.plural == t.resource)
        else {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        };
        if t.namespace.is_some() && !r.namespaced {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        }
        if let Some(sub) = &t.subresource {
            return match (r.group.as_str(), r.plural.as_str(), sub.as_str()) {
                ("", "pods", "log") => self.log(t, param),
                _ => status(
                    404,
                    "NotFound",
                    &format!("the bundle holds no {sub} subresource of {}", r.plural),
                ),
            };
        }
        let labels = match param("labelSelector").filter(|s| !s.is_empty()) {
            Some(s) => match Selector::parse(s) {
                Ok(x) => Some(x),
                Err(e) => return status(400, "BadRequest", &e),
            },
            None => None,
        };
        let fields = match param("fieldSelector").filter(|s| !s.is_empty()) {
            Some(s) => match route::field_selector(s) {
                Ok(x) => x,
                Err(e) => return status(400, "BadRequest", &e),
            },
            None => Vec::new(),
        };
        let mut objs: Vec<&Object> = self
            .a
            .index
            .of_kind_all(&r.group, &r.kind)
            .filter(|o| o.version == r.version)
            .filter(|o| t.namespace.as_ref().is_none_or(|n| *n == o.key.namespace))
            .filter(|o| t.name.as_ref().is_none_or(|n| *n == o.key.name))
            .filter(|o| labels.as_ref().is_none_or(|s| s.matches(&o.meta.labels)))
            .collect();
        // Same key twice in one version (two files): the first.
        objs.dedup_by(|x, y| x.key == y.key);
        if !fields.is_empty() {
            objs.retain(|o| fields.iter().all(|f| self.field_matches(o, f)));
        }
        let table = accept.contains("as=Table");
        let watch = matches!(param("watch"), Some("true" | "1"));
        if watch {
            let timeout = param("timeoutSeconds").and_then(|s| s.parse().ok());
            return self.watch(r, &objs, table, param, timeout);
        }
        if let Some(name) = &t.name {
            let Some(o) = objs.first() else {
                return status(
                    404,
                    "NotFound",
                    &format!(
                        "{}{} {name:?} not found",
                        r.plural,
                        if r.group.is_empty() {
                            String::new()
                        } else {
                            format!(".{}", r.group)
                        }
                    ),
                );
            };
            if table {
                return Reply::json(200, &self.table(&[o], param, true));
            }
            return Reply::json(200, &self.object(o));
        }
        if table {
            return Reply::json(200, &self.table(&objs, param, true));
        }
        let items: Vec<Value> = objs.iter().map(|o| self.object(o)).collect();
        Reply::json(
            200,
            &json!({
                "kind": format!("{}List", r.kind),
                "apiVersion": api_version(&r.group, &r.version),
                "metadata": {"resourceVersion": "1"},
                "items": items,
            }),
        )
    }

    fn watch<'q>(
        &self,
        r: &ApiResource,
        objs: &[&Object],
        table: bool,
        param: &dyn Fn(&str) -> Option<&'q str>,
        timeout: Option<u64>,
    ) -> Reply {
        let mut body = Vec::new();
        // A watch that resumes from a list (resourceVersion given, not "0") has seen the
        // objects already.
        let resumed = param("resourceVersion").is_some_and(|v| !v.is_empty() && v != "0");
        if !resumed {
            for (i, o) in objs.iter().enumerate() {
                let object = if table {
                    self.table(&[o], param, i == 0)
                } else {
                    self.object(o)
                };
                let _ =
                    serde_json::to_writer(&mut body, &json!({"type": "ADDED", "object": object}));
                body.push(b'\n');
            }
        }
        let _ = r;
        Reply {
            status: 200,
            content_type: "application/json",
            body,
            watch: Some(timeout),
        }
    }

    /// The object as captured, as JSON (timestamps shifted with `--age-from capture`).
    fn object(&self, o: &Object) -> Value {
        let mut v = self.whole.json(o, true).unwrap_or_else(|| {
            json!({
                "metadata": self.metadata(o),
            })
        });
        if let Some(m) = v.as_object_mut() {
            m.entry("apiVersion")
                .or_insert_with(|| o.api_version().into());
            m.entry("kind").or_insert_with(|| o.key.kind.clone().into());
        }
        unmangle(&mut v);
        if (o.key.group.as_str(), o.key.kind.as_str()) == ("discovery.k8s.io", "EndpointSlice") {
            default_port_names(&mut v);
        }
        if let Some(d) = self.shift {
            shift_times(&mut v, d);
        }
        v
    }

    fn metadata(&self, o: &Object) -> Value {
        let mut m = json!({
            "name": o.key.name,
            "uid": o.meta.uid,
            "resourceVersion": "1",
            "labels": o.meta.labels.iter().map(|(k, v)| (k.to_string(), Value::from(v.to_string()))).collect::<serde_json::Map<_, _>>(),
            "creationTimestamp": o.meta.creation_timestamp,
        });
        if let Some(x) = m.as_object_mut() {
            if !o.key.namespace.is_empty() {
                x.insert("namespace".into(), o.key.namespace.clone().into());
            }
            if let Some(d) = &o.meta.deletion_timestamp {
                x.insert("deletionTimestamp".into(), d.clone().into());
            }
        }
        if let Some(d) = self.shift {
            shift_times(&mut m, d);
        }
        m
    }

    fn table<'q>(
        &self,
        objs: &[&Object],
        param: &dyn Fn(&str) -> Option<&'q str>,
        with_columns: bool,
    ) -> Value {
        let t = Tables::new(self.a, &self.whole, self.age_reference()).table(objs);
        let include = param("includeObject").unwrap_or("Metadata");
        let rows: Vec<Value> = t
            .rows
            .iter()
            .zip(objs)
            .map(|(cells, o)| {
                let cells: Vec<Value> = cells
                    .iter()
                    .zip(&t.columns)
                    .map(|(c, col)| match col.kind {
                        ColumnType::Integer => c
                            .parse::<i64>()
                            .map(Value::from)
                            .unwrap_or_else(|_| c.clone().into()),
                        _ => {
                            let mut v: Value = c.clone().into();
                            // An absolute time (CREATED AT) moves with every other
                            // timestamp under --age-from capture.
                            if let (ColumnType::Date, Some(d)) = (col.kind, self.shift) {
                                shift_times(&mut v, d);
                            }
                            v
                        }
                    })
                    .collect();
                let object = match include {
                    "None" => Value::Null,
                    "Object" => self.object(o),
                    _ => json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": self.metadata(o),
                    }),
                };
                json!({"cells": cells, "object": object})
            })
            .collect();
        let columns: Vec<Value> = if with_columns {
            t.columns
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name,
                        "type": c.kind.as_str(),
                        "format": c.format,
                        "description": c.description,
                        "priority": c.priority,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": "1"},
            "columnDefinitions": columns,
            "rows": rows,
        })
    }

    /// Whether `o` satisfies one field selector requirement. Fields the index knows are read
    /// from it; others from the object as captured (a missing field reads as empty).
    fn field_matches(&self, o: &Object, f: &FieldReq) -> bool {
        let view = self.a.index.view_of(o);
        let known: Option<String> = match (f.field.as_str(), view) {
            ("metadata.name", _) => Some(o.key.name.clone()),
            ("metadata.namespace", _) => Some(o.key.namespace.clone()),
            ("metadata.uid", _) => Some(o.meta.uid.clone()),
            ("spec.nodeName", View::Pod(p)) => Some(p.node_name.clone().unwrap_or_default()),
            ("status.phase", View::Pod(_)) => Some(o.status.phase.clone().unwrap_or_default()),
            (field, View::Event(e)) => {
                let sub = field
                    .strip_prefix("involvedObject.")
                    .or_else(|| field.strip_prefix("regarding."));
                match (sub, field) {
                    (Some("kind"), _) => Some(e.regarding.kind.to_string()),
                    (Some("name"), _) => Some(e.regarding.name.clone()),
                    (Some("namespace"), _) => Some(e.regarding.namespace.to_string()),
                    (Some("uid"), _) => Some(e.regarding.uid.clone()),
                    (_, "type") => Some(e.kind.as_deref().unwrap_or_default().to_string()),
                    (_, "reason") => Some(e.reason.as_deref().unwrap_or_default().to_string()),
                    _ => None,
                }
            }
            _ => None,
        };
        let value = known.unwrap_or_else(|| {
            let ptr: String = f
                .field
                .split('.')
                .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
                .collect();
            self.whole
                .json(o, false)
                .and_then(|v| v.pointer(&ptr).map(crate::query::jsonpath::text))
                .unwrap_or_default()
        });
        (value == f.value) == f.equal
    }

    fn log<'q>(&self, t: &Target, param: &dyn Fn(&str) -> Option<&'q str>) -> Reply {
        let Some(name) = &t.name else {
            return status(400, "BadRequest", "a pod name is required");
        };
        let tail = match param("tailLines") {
            Some(n) => match n.parse::<i64>() {
                Ok(n) if n >= 0 => Some(n as usize),
                Ok(_) => None,
                Err(_) => return status(400, "BadRequest", "tailLines: not a number"),
            },
            None => None,
        };
        let req = LogRequest {
            target: name.clone(),
            namespace: t.namespace.clone(),
            container: param("container")
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            previous: matches!(param("previous"), Some("true" | "1")),
            grep: None,
            tail,
        };
        match logs::logs(self.a, &req) {
            Ok(l) => Reply {
                status: 200,
                content_type: "text/plain",
                body: l.text.into_bytes(),
                watch: None,
            },
            Err(e) => {
                let exists = self.a.index.of_kind("", "Pod").any(|o| {
                    o.key.name == *name
                        && t.namespace.as_ref().is_none_or(|n| *n == o.key.namespace)
                });
                if exists {
                    status(400, "BadRequest", &e.to_string())
                } else {
                    status(404, "NotFound", &format!("pods {name:?} not found"))
                }
            }
        }
    }
}

/// The access review a path names: `SelfSubjectAccessReview` (`kubectl auth can-i VERB
/// RESOURCE`) or `SelfSubjectRulesReview` (`kubectl auth can-i --list`).
fn review_kind(path: &str) -> Option<&'static str> {
    match path.trim_end_matches('/') {
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" => Some("SelfSubjectAccessReview"),
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews" => Some("SelfSubjectRulesReview"),
        _ => None,
    }
}

/// The verbs the API answers: reads.
const READ_VERBS: [&str; 3] = ["get", "list", "watch"];

/// Answers an access review, as `kubectl auth can-i` asks it: reads (get, list, watch) are
/// allowed, every other verb is denied with the reason; `--list` gets the same as rules.
/// Nothing is stored: the review is answered and forgotten, as an API server does.
fn review(kind: &str, body: &[u8]) -> Reply {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return status(400, "BadRequest", &format!("the {kind} is not JSON"));
    };
    let spec = req.get("spec").cloned().unwrap_or_else(|| json!({}));
    let answer = if kind == "SelfSubjectRulesReview" {
        json!({
            "resourceRules": [{"verbs": READ_VERBS, "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        })
    } else {
        let verb = spec
            .pointer("/resourceAttributes/verb")
            .or_else(|| spec.pointer("/nonResourceAttributes/verb"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if READ_VERBS.contains(&verb) {
            json!({"allowed": true, "reason": "sbdiag serve answers reads from the support bundle"})
        } else {
            json!({"allowed": false, "denied": true, "reason": READ_ONLY})
        }
    };
    Reply::json(
        201,
        &json!({
            "kind": kind,
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "spec": spec,
            "status": answer,
        }),
    )
}

fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn not_found_path(path: &str) -> Reply {
    let shown: String = path.chars().take(200).collect();
    status(
        404,
        "NotFound",
        &format!("the server could not find the requested resource ({shown})"),
    )
}

/// Undoes the generator's quirks so that Go clients decode the objects: its `"null"` strings
/// (an empty value, [`crate::model::de::unmangle`]) become nulls and its integers written as
/// floats (`1194914199.0`) integers again.
pub fn unmangle(v: &mut Value) {
    match v {
        Value::String(s) => match crate::model::de::unmangle(s) {
            None => *v = Value::Null,
            Some(t) if t.len() != s.len() => *s = t.to_string(),
            Some(_) => {}
        },
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(unmangle),
        Value::Object(m) => m.values_mut().for_each(unmangle),
        _ => {}
    }
}

/// The API server defaults an EndpointSlice port's `name` to `""`; the generator writes that
/// as `"null"`, which [`unmangle`] turns into a null, and `kubectl describe service` then
/// dereferences the missing name and panics. Restores the server's `""`.
fn default_port_names(v: &mut Value) {
    for p in v
        .get_mut("ports")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(m) = p.as_object_mut()
            && m.get("name").is_none_or(Value::is_null)
        {
            m.insert("name".into(), Value::from(""));
        }
    }
}

/// Shifts every RFC 3339 timestamp string in `v` by `d`.
pub fn shift_times(v: &mut Value, d: chrono::Duration) {
    match v {
        Value::String(s) => {
            if s.len() >= 20
                && s.len() <= 40
                && s.as_bytes().get(10) == Some(&b'T')
                && let Some(t) = crate::model::time::parse(s)
            {
                let fractional = s.contains('.');
                *s = (t + d).to_rfc3339_opts(
                    if fractional {
                        chrono::SecondsFormat::AutoSi
                    } else {
                        chrono::SecondsFormat::Secs
                    },
                    true,
                );
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift_times(x, d)),
        Value::Object(m) => m.values_mut().for_each(|x| shift_times(x, d)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_rank_as_kubernetes_orders_them() {
        let mut v = vec!["v1beta1", "v1alpha1", "v2", "v1", "v1beta2"];
        v.sort_by_key(|x| std::cmp::Reverse(version_rank(x)));
        assert_eq!(v, ["v2", "v1", "v1beta2", "v1beta1", "v1alpha1"]);
    }

    #[test]
    fn crd_names_are_read_from_spec_names() {
        let y = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: volumes.longhorn.io\nspec:\n  group: longhorn.io\n  names:\n    kind: Volume\n    plural: volumes\n    shortNames:\n    - lhv\n    singular: volume\n  scope: Namespaced\nstatus:\n  acceptedNames:\n    kind: Wrong\n";
        assert_eq!(
            kinds::crd_names(y),
            Some((
                "longhorn.io".into(),
                "Volume".into(),
                "volumes".into(),
                vec!["lhv".into()]
            ))
        );
    }

    #[test]
    fn generator_quirks_are_undone_for_go_clients() {
        let mut v = json!({"t": "null", "n": 1194914199.0, "f": 0.5, "s": "a\"null", "i": 3});
        unmangle(&mut v);
        assert_eq!(
            v,
            json!({"t": null, "n": 1194914199, "f": 0.5, "s": "a\"", "i": 3})
        );
    }

    #[test]
    fn timestamps_are_shifted_and_other_strings_kept() {
        let mut v = json!({"a": "2022-03-22T23:49:32Z", "b": ["2022-03-22T23:49:32.5Z"], "c": "2022-03-22", "d": "x"});
        shift_times(&mut v, chrono::Duration::hours(1));
        assert_eq!(
            v,
            json!({"a": "2022-03-23T00:49:32Z", "b": ["2022-03-23T00:49:32.500Z"], "c": "2022-03-22", "d": "x"})
        );
    }
}
