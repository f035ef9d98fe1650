//! Kubernetes API paths and query strings, parsed without allocation surprises or panics:
//! which discovery document, collection, object or subresource a request names.

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/readyz`, `/livez`.
    Health,
    /// `/api`: the core group's versions.
    CoreVersions,
    /// `/apis`: every group.
    Groups,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`: the resources of a group version.
    Resources { group: String, version: String },
    /// A collection, an object or an object's subresource.
    Resource(Target),
}

/// A collection, object or subresource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// API group (`""`: core).
    pub group: String,
    /// Version.
    pub version: String,
    /// `namespaces/<ns>/…`; `None` for cluster-wide requests.
    pub namespace: Option<String>,
    /// Plural resource name.
    pub resource: String,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`log`, `status`).
    pub subresource: Option<String>,
}

/// Longest path or query string accepted.
pub const MAX_URI: usize = 16 * 1024;

/// Parses a path (without the query string); `None` when it names nothing the API serves.
pub fn parse(path: &str) -> Option<Route> {
    if path.len() > MAX_URI {
        return None;
    }
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    if segs.iter().any(|s| *s == "." || *s == "..") {
        return None;
    }
    match segs.as_slice() {
        ["version"] => Some(Route::Version),
        ["healthz" | "readyz" | "livez", ..] => Some(Route::Health),
        ["api"] => Some(Route::CoreVersions),
        ["apis"] => Some(Route::Groups),
        ["apis", g] => Some(Route::Group((*g).to_string())),
        ["api", v] => Some(Route::Resources {
            group: String::new(),
            version: (*v).to_string(),
        }),
        ["apis", g, v] => Some(Route::Resources {
            group: (*g).to_string(),
            version: (*v).to_string(),
        }),
        ["api", v, rest @ ..] => target("", v, rest),
        ["apis", g, v, rest @ ..] => target(g, v, rest),
        _ => None,
    }
}

fn target(group: &str, version: &str, rest: &[&str]) -> Option<Route> {
    let t = |namespace: Option<&str>, resource: &str, name: Option<&str>, sub: Option<&str>| {
        Some(Route::Resource(Target {
            group: group.to_string(),
            version: version.to_string(),
            namespace: namespace.map(str::to_owned),
            resource: resource.to_string(),
            name: name.map(str::to_owned),
            subresource: sub.map(str::to_owned),
        }))
    };
    match rest {
        // `namespaces/<ns>` is the Namespace object; `namespaces/<ns>/<resource>…` a
        // namespaced request.
        ["namespaces", ns, resource] => t(Some(ns), resource, None, None),
        ["namespaces", ns, resource, name] => t(Some(ns), resource, Some(name), None),
        ["namespaces", ns, resource, name, sub] => t(Some(ns), resource, Some(name), Some(sub)),
        [resource] => t(None, resource, None, None),
        [resource, name] => t(None, resource, Some(name), None),
        [resource, name, sub] => t(None, resource, Some(name), Some(sub)),
        _ => None,
    }
}

/// `%xx` decoding (invalid escapes kept as written, invalid UTF-8 replaced).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |x: Option<&u8>| x.and_then(|c| (*c as char).to_digit(16));
        match (c, hex(b.get(i + 1)), hex(b.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query string's parameters, decoded (`+` is a space), in order.
pub fn query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// One field selector requirement: `path=value`, `path==value` or `path!=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReq {
    /// Dotted field path (`spec.nodeName`, `involvedObject.name`).
    pub field: String,
    /// `true` for `=`/`==`, `false` for `!=`.
    pub equal: bool,
    /// Value compared with.
    pub value: String,
}

/// Parses a field selector (comma-separated requirements, all required).
pub fn field_selector(s: &str) -> Result<Vec<FieldReq>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        let (field, equal, value) = if let Some((f, v)) = p.split_once("!=") {
            (f, false, v)
        } else if let Some((f, v)) = p.split_once("==") {
            (f, true, v)
        } else if let Some((f, v)) = p.split_once('=') {
            (f, true, v)
        } else {
            return Err(format!(
                "invalid field selector {p:?}: expected field=value"
            ));
        };
        let field = field.trim();
        if field.is_empty()
            || !field
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
        {
            return Err(format!("invalid field selector {p:?}: bad field name"));
        }
        out.push(FieldReq {
            field: field.to_string(),
            equal,
            value: value.trim().to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(
        g: &str,
        v: &str,
        ns: Option<&str>,
        r: &str,
        n: Option<&str>,
        s: Option<&str>,
    ) -> Option<Route> {
        Some(Route::Resource(Target {
            group: g.into(),
            version: v.into(),
            namespace: ns.map(Into::into),
            resource: r.into(),
            name: n.map(Into::into),
            subresource: s.map(Into::into),
        }))
    }

    #[test]
    fn paths_name_discovery_collections_objects_and_subresources() {
        assert_eq!(parse("/version"), Some(Route::Version));
        assert_eq!(parse("/api"), Some(Route::CoreVersions));
        assert_eq!(parse("/apis/"), Some(Route::Groups));
        assert_eq!(parse("/apis/apps"), Some(Route::Group("apps".into())));
        assert_eq!(
            parse("/api/v1"),
            Some(Route::Resources {
                group: "".into(),
                version: "v1".into()
            })
        );
        assert_eq!(
            parse("/api/v1/pods"),
            res("", "v1", None, "pods", None, None)
        );
        assert_eq!(
            parse("/api/v1/namespaces/kube-system/pods/p%2Dx/log"),
            res(
                "",
                "v1",
                Some("kube-system"),
                "pods",
                Some("p-x"),
                Some("log")
            )
        );
        assert_eq!(
            parse("/api/v1/namespaces/default"),
            res("", "v1", None, "namespaces", Some("default"), None)
        );
        assert_eq!(
            parse("/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes"),
            res(
                "longhorn.io",
                "v1beta2",
                Some("longhorn-system"),
                "volumes",
                None,
                None
            )
        );
        assert_eq!(
            parse("/apis/apps/v1/daemonsets/x/status"),
            res("apps", "v1", None, "daemonsets", Some("x"), Some("status"))
        );
    }

    #[test]
    fn malformed_paths_name_nothing() {
        for p in [
            "",
            "/",
            "/nope",
            "/api/v1/namespaces/a/b/c/d/e",
            "/apis/a/b/c/d/e/f/g/h",
            "/api/v1/../../etc/passwd",
            "/api/v1/%ff%fe",
        ] {
            let r = parse(p);
            assert!(
                !matches!(r, Some(Route::Resource(ref t)) if t.resource == ".."),
                "{p}: {r:?}"
            );
        }
        assert_eq!(parse("/nope"), None);
        assert_eq!(parse("/api/v1/../x"), None);
        assert_eq!(parse(&"/a".repeat(MAX_URI)), None);
    }

    #[test]
    fn query_strings_and_field_selectors() {
        assert_eq!(
            query("labelSelector=app%3Dx%2Ctier+in+(a)&watch=1&&x"),
            [
                ("labelSelector".to_string(), "app=x,tier in (a)".to_string()),
                ("watch".into(), "1".into()),
                ("x".into(), "".into())
            ]
        );
        assert_eq!(
            field_selector("spec.nodeName=n1,status.phase!=Failed,metadata.name==a").unwrap(),
            [
                FieldReq {
                    field: "spec.nodeName".into(),
                    equal: true,
                    value: "n1".into()
                },
                FieldReq {
                    field: "status.phase".into(),
                    equal: false,
                    value: "Failed".into()
                },
                FieldReq {
                    field: "metadata.name".into(),
                    equal: true,
                    value: "a".into()
                },
            ]
        );
        assert!(field_selector("nonsense").is_err());
        assert!(field_selector("a b=c").is_err());
        assert!(field_selector("=x").is_err());
    }
}
