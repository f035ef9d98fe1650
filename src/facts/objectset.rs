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
}
