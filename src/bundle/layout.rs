//! Bundle layout: where the root is (the folder holding `metadata.yaml`, whatever its name)
//! and what each path is (cluster or namespaced resource list, pod log, node zip, ...).

/// What a bundle-relative path holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathKind {
    /// `metadata.yaml`.
    Metadata,
    /// `bundleGenerationError.log`.
    GenerationErrors,
    /// `prometheus-alerts.json`.
    PrometheusAlerts,
    /// `yamls/cluster/<gv>/<resource>.yaml` or `yamls/namespaced/<ns>/<gv>/<resource>.yaml`.
    ResourceList {
        /// `""` for cluster-scoped lists.
        namespace: String,
        /// API group, `""` for core.
        group: String,
        /// API version.
        version: String,
        /// Plural resource name.
        resource: String,
    },
    /// `logs/<ns>/<pod>/<container>.log[.1]`.
    PodLog {
        namespace: String,
        pod: String,
        container: String,
        /// `.log.1`: the previous container instance.
        previous: bool,
    },
    /// `nodes/<node>.zip`.
    NodeZip {
        /// Node name.
        node: String,
    },
    /// A folder or anything else.
    Other,
}

/// Classifies a bundle-relative path.
pub fn classify(path: &str) -> PathKind {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["metadata.yaml"] => PathKind::Metadata,
        ["bundleGenerationError.log"] => PathKind::GenerationErrors,
        ["prometheus-alerts.json"] => PathKind::PrometheusAlerts,
        ["yamls", "cluster", rest @ ..] => resource("", rest),
        ["yamls", "namespaced", ns, rest @ ..] => resource(ns, rest),
        ["logs", ns, pod, file] => {
            let (container, previous) = if let Some(c) = file.strip_suffix(".log.1") {
                (c, true)
            } else if let Some(c) = file.strip_suffix(".log") {
                (c, false)
            } else {
                return PathKind::Other;
            };
            PathKind::PodLog {
                namespace: ns.to_string(),
                pod: pod.to_string(),
                container: container.to_string(),
                previous,
            }
        }
        ["nodes", file] => match file.strip_suffix(".zip") {
            Some(node) if !node.is_empty() => PathKind::NodeZip {
                node: node.to_string(),
            },
            _ => PathKind::Other,
        },
        _ => PathKind::Other,
    }
}

fn resource(namespace: &str, rest: &[&str]) -> PathKind {
    let (group, version, file) = match rest {
        [version, file] => ("", *version, *file),
        [group, version, file] => (*group, *version, *file),
        _ => return PathKind::Other,
    };
    match file.strip_suffix(".yaml") {
        Some(res) if !res.is_empty() => PathKind::ResourceList {
            namespace: namespace.to_string(),
            group: group.to_string(),
            version: version.to_string(),
            resource: res.to_string(),
        },
        _ => PathKind::Other,
    }
}

/// Finds the bundle root among archive paths: the shallowest folder holding `metadata.yaml`;
/// failing that, the shallowest holding `yamls/` or `logs/`. Returns the prefix (`""` or
/// `dir/`) and whether `metadata.yaml` was found.
pub fn find_root<'a>(paths: impl Iterator<Item = &'a str>) -> Option<(String, bool)> {
    let mut best_meta: Option<String> = None;
    let mut best_other: Option<String> = None;
    let shallower = |cur: &Option<String>, cand: &str| match cur {
        None => true,
        Some(c) => {
            let (dc, dn) = (c.matches('/').count(), cand.matches('/').count());
            dn < dc || (dn == dc && cand < c.as_str())
        }
    };
    for p in paths {
        if let Some(prefix) = p.strip_suffix("metadata.yaml")
            && (prefix.is_empty() || prefix.ends_with('/'))
            && shallower(&best_meta, prefix)
        {
            best_meta = Some(prefix.to_string());
        }
        for marker in ["yamls/", "logs/"] {
            if let Some(i) = p.find(marker) {
                let prefix = p.get(..i).unwrap_or_default();
                if (prefix.is_empty() || prefix.ends_with('/')) && shallower(&best_other, prefix) {
                    best_other = Some(prefix.to_string());
                }
            }
        }
    }
    match (best_meta, best_other) {
        (Some(m), _) => Some((m, true)),
        (None, Some(o)) => Some((o, false)),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        assert_eq!(
            classify("yamls/cluster/v1/nodes.yaml"),
            PathKind::ResourceList {
                namespace: "".into(),
                group: "".into(),
                version: "v1".into(),
                resource: "nodes".into()
            }
        );
        assert_eq!(
            classify("yamls/namespaced/longhorn-system/longhorn.io/v1beta2/volumes.yaml"),
            PathKind::ResourceList {
                namespace: "longhorn-system".into(),
                group: "longhorn.io".into(),
                version: "v1beta2".into(),
                resource: "volumes".into()
            }
        );
        assert_eq!(
            classify("logs/kube-system/p/c.log.1"),
            PathKind::PodLog {
                namespace: "kube-system".into(),
                pod: "p".into(),
                container: "c".into(),
                previous: true
            }
        );
        assert_eq!(
            classify("nodes/n1.zip"),
            PathKind::NodeZip { node: "n1".into() }
        );
        assert_eq!(classify("metadata.yaml"), PathKind::Metadata);
        assert_eq!(classify("yamls/cluster/v1/.DS_Store"), PathKind::Other);
        assert_eq!(classify("nodes/.zip"), PathKind::Other);
    }

    #[test]
    fn root_by_metadata_not_by_name() {
        let paths = [
            "renamed/metadata.yaml",
            "renamed/yamls/cluster/v1/nodes.yaml",
            "x/y/metadata.yaml",
        ];
        assert_eq!(
            find_root(paths.into_iter()),
            Some(("renamed/".into(), true))
        );
        let flat = ["metadata.yaml", "yamls/a"];
        assert_eq!(find_root(flat.into_iter()), Some(("".into(), true)));
        let nometa = ["b/yamls/cluster/v1/nodes.yaml"];
        assert_eq!(find_root(nometa.into_iter()), Some(("b/".into(), false)));
        assert_eq!(find_root(["readme.txt"].into_iter()), None);
    }
}
