//! Fleet ownership of a captured object: the objectset id annotation and hash label the Fleet
//! agent puts on every object of a release it applied. Read by the status graph (to find a
//! release's objects), by the Fleet combiner and by the Fleet rules (to tell an object Fleet
//! can see as its own from one it would report missing).
use crate::index::Object;

/// The Fleet objectset id annotation the agent puts on every object of a release.
pub const ID_ANNOTATION: &str = "objectset.rio.cattle.io/id";
/// The Fleet objectset hash label.
pub const HASH_LABEL: &str = "objectset.rio.cattle.io/hash";

/// The objectset id of objects deployed by the local agent for bundle `name`.
pub fn local_id(bundle: &str) -> String {
    format!("default-{bundle}-cattle-fleet-local-system")
}

/// The ManagedChart a Bundle is generated from: Rancher names the Bundle of ManagedChart `X`
/// `mcc-X`, in the chart's namespace.
pub fn managed_chart_of(bundle: &str) -> Option<&str> {
    bundle.strip_prefix("mcc-").filter(|c| !c.is_empty())
}

/// Whether Fleet's agent can see this object as its own (id annotation and hash label).
pub fn owned_by_fleet(o: &Object) -> bool {
    o.meta
        .annotations
        .get(ID_ANNOTATION)
        .is_some_and(|v| v.starts_with("default-"))
        && o.meta.labels.contains_key(HASH_LABEL)
}

/// Helm's release annotation on every object a Helm release installed.
pub const HELM_RELEASE_ANNOTATION: &str = "meta.helm.sh/release-name";

/// The bundle an objectset id names, for the local agent's ids
/// (`default-mcc-harvester-cattle-fleet-local-system` → `mcc-harvester`).
pub fn bundle_of_id(id: &str) -> Option<&str> {
    id.strip_prefix("default-")?
        .strip_suffix("-cattle-fleet-local-system")
        .filter(|b| !b.is_empty())
}

/// Which of Fleet's ownership marks a captured object carries, in words, for a finding to say
/// exactly what it saw: the objectset id annotation (and whose bundle it names, when `bundle`,
/// the bundle of the claim, is in `fleet-local`), the hash label, and Helm's release annotation
/// when Fleet's marks are absent.
pub fn marks(o: &Object, bundle: Option<&str>) -> String {
    let id = o.meta.annotations.get(ID_ANNOTATION);
    let hash = o.meta.labels.get(HASH_LABEL);
    let id_words = id.map(|v| {
        let whose = match (bundle_of_id(v), bundle) {
            (Some(b), Some(mine)) if b == mine => " (this bundle's)".to_string(),
            (Some(b), Some(_)) => format!(" (Bundle {b}'s, not this bundle's)"),
            _ => String::new(),
        };
        format!("annotation {ID_ANNOTATION}={v}{whose}")
    });
    let hash_words = hash.map(|v| format!("label {HASH_LABEL}={v}"));
    let mut out = match (id_words, hash_words) {
        (Some(i), Some(h)) => format!("carries {i} and {h}"),
        (Some(i), None) => format!("carries {i} but no label {HASH_LABEL}"),
        (None, Some(h)) => format!("carries {h} but no annotation {ID_ANNOTATION}"),
        (None, None) => {
            format!("carries neither annotation {ID_ANNOTATION} nor label {HASH_LABEL}")
        }
    };
    if !(id.is_some() && hash.is_some())
        && let Some(r) = o.meta.annotations.get(HELM_RELEASE_ANNOTATION)
    {
        out.push_str(&format!(
            "; it carries Helm's release annotation {HELM_RELEASE_ANNOTATION}={r}"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::index_file_bytes;

    fn objects(yaml: &str) -> Vec<Object> {
        index_file_bytes(
            "yamls/namespaced/default/v1/configmaps.yaml",
            yaml.as_bytes(),
        )
        .0
    }

    #[test]
    fn owned_needs_the_local_id_and_the_hash() {
        let id = local_id("mcc-harvester");
        assert_eq!(id, "default-mcc-harvester-cattle-fleet-local-system");
        let yaml = format!(
            "apiVersion: v1\nkind: List\nitems:\n\
             - apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: both\n    namespace: default\n\
             \x20   annotations:\n      {ID_ANNOTATION}: {id}\n    labels:\n      {HASH_LABEL}: abc\n\
             - apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: no-hash\n    namespace: default\n\
             \x20   annotations:\n      {ID_ANNOTATION}: {id}\n\
             - apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: foreign-id\n    namespace: default\n\
             \x20   annotations:\n      {ID_ANNOTATION}: other-x\n    labels:\n      {HASH_LABEL}: abc\n"
        );
        let objs = objects(&yaml);
        let owned: Vec<(&str, bool)> = objs
            .iter()
            .map(|o| (o.key.name.as_str(), owned_by_fleet(o)))
            .collect();
        assert_eq!(
            owned,
            [("both", true), ("no-hash", false), ("foreign-id", false)]
        );
    }

    #[test]
    fn marks_say_which_ownership_labels_an_object_carries() {
        let id = local_id("mcc-harvester");
        let yaml = format!(
            "apiVersion: v1\nkind: List\nitems:\n\
             - apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: both\n    namespace: default\n\
             \x20   annotations:\n      {ID_ANNOTATION}: {id}\n    labels:\n      {HASH_LABEL}: abc\n\
             - apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: other\n    namespace: default\n\
             \x20   annotations:\n      {ID_ANNOTATION}: default-mcc-rancher-monitoring-cattle-fleet-local-system\n\
             - apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: helm\n    namespace: default\n\
             \x20   annotations:\n      {HELM_RELEASE_ANNOTATION}: harvester\n"
        );
        let o = objects(&yaml);
        assert_eq!(
            marks(&o[0], Some("mcc-harvester")),
            format!(
                "carries annotation {ID_ANNOTATION}={id} (this bundle's) and label {HASH_LABEL}=abc"
            )
        );
        assert_eq!(
            marks(&o[1], Some("mcc-harvester")),
            format!(
                "carries annotation {ID_ANNOTATION}=default-mcc-rancher-monitoring-cattle-fleet-local-system \
                 (Bundle mcc-rancher-monitoring's, not this bundle's) but no label {HASH_LABEL}"
            )
        );
        assert_eq!(
            marks(&o[2], None),
            format!(
                "carries neither annotation {ID_ANNOTATION} nor label {HASH_LABEL}; it carries \
                 Helm's release annotation {HELM_RELEASE_ANNOTATION}=harvester"
            )
        );
        assert_eq!(bundle_of_id("default--cattle-fleet-local-system"), None);
    }
}
