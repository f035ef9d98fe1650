//! Fields the Kubernetes API server refuses to change in place, and known issues whose drift (or
//! false "missing" report) a plain Fleet redeploy does not fix: what a safe fix for a Fleet
//! claim must do instead of bumping `forceSyncGeneration`.

/// Why a plain redeploy does not fix drift on a field, and what does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// The API server rejects the update: the object must be deleted and recreated (or the
    /// field ignored with `diff.comparePatches`).
    Immutable {
        /// The API server's refusal, as Helm reports it.
        denial: &'static str,
        /// Where this was seen.
        reference: &'static str,
    },
    /// A documented procedure must run before the redeploy.
    Procedure {
        /// What to do, in words.
        steps: &'static str,
        /// Where it is documented.
        reference: &'static str,
    },
}

/// The API server's refusal for a StorageClass field that cannot be updated (every field but
/// `allowVolumeExpansion`, labels and annotations), from its update validation.
fn storage_class_denial(field: &str) -> Option<&'static str> {
    Some(match field {
        "parameters" => "updates to parameters are forbidden",
        "provisioner" => "updates to provisioner are forbidden",
        "reclaimPolicy" => "updates to reclaimPolicy are forbidden",
        "volumeBindingMode" => "updates to volumeBindingMode are forbidden",
        _ => return None,
    })
}

/// The fix a drifted field of an object of this kind needs instead of a plain redeploy, if
/// any. `path` is the field as drift classification writes it (`parameters.numberOfReplicas`).
pub fn for_field(group: &str, kind: &str, path: &str) -> Option<Fix> {
    let top = path.split(['.', '[']).next().unwrap_or(path);
    match (group, kind) {
        ("storage.k8s.io", "StorageClass") => {
            storage_class_denial(top).map(|denial| Fix::Immutable {
                denial,
                reference: "https://github.com/harvester/harvester/issues/7072",
            })
        }
        ("kubevirt.io", "KubeVirt") if path == "spec.configuration.vmStateStorageClass" => {
            Some(Fix::Procedure {
                steps: "Harvester v1.5.0's chart sets this field, which the KubeVirt CRD of \
                        earlier versions does not declare, and Helm does not upgrade CRDs: the \
                        API server prunes the undeclared field on every apply, so a redeploy \
                        alone leaves the chart Modified. Apply the CRDs of the target version's \
                        dependency charts first, then force the redeploy (Harvester upgrade \
                        notes v1.4.2→v1.5.0, known issue 3)",
                reference: "https://github.com/harvester/harvester/issues/8163",
            })
        }
        _ => None,
    }
}

/// A Helm hook object Fleet is known to report missing, with its upstream cause and fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownHook {
    /// Why Fleet reports it, in words.
    pub cause: &'static str,
    /// The upstream fix, and what not to do, in words.
    pub fix: &'static str,
    /// Links: the Harvester issue and the upstream change.
    pub references: [&'static str; 2],
}

/// The known issue behind Fleet's "missing" report about this hook object, if any.
pub fn known_hook(namespace: &str, name: &str) -> Option<KnownHook> {
    match (namespace, name) {
        ("longhorn-system", "longhorn-storageclass") => Some(KnownHook {
            cause: "Harvester's chart replaces Longhorn's longhorn-storageclass ConfigMap with \
                    its own (longhorn-storageclass-override.yaml) from a post-install and \
                    post-upgrade Helm hook, to add migratable: \"true\" to the StorageClass \
                    parameters; Fleet does not track what Helm hooks create, so it keeps \
                    reporting the ConfigMap missing (harvester/harvester#2088)",
            fix: "The fix is upstream: Longhorn's chart exposes the migratable parameter as a \
                  value (longhorn/longhorn#3880), so Harvester sets it without the hook; a \
                  Harvester release that carries the fix for harvester/harvester#2088 no longer \
                  has the hook nor the report. Do not give the hook ConfigMap Fleet's labels \
                  and force a redeploy: Fleet would then compare it with the chart's own \
                  longhorn-storageclass ConfigMap, which lacks migratable, likely turning the \
                  chart Modified, and a redeploy that restores the chart's ConfigMap would \
                  likely make Longhorn recreate its StorageClass without migratable.",
            references: [
                "https://github.com/harvester/harvester/issues/2088",
                "https://github.com/longhorn/longhorn/issues/3880",
            ],
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_class_parameters_are_immutable_but_expansion_is_not() {
        assert!(matches!(
            for_field(
                "storage.k8s.io",
                "StorageClass",
                "parameters.numberOfReplicas"
            ),
            Some(Fix::Immutable { .. })
        ));
        assert!(matches!(
            for_field("storage.k8s.io", "StorageClass", "provisioner"),
            Some(Fix::Immutable {
                denial: "updates to provisioner are forbidden",
                ..
            })
        ));
        assert_eq!(
            for_field("storage.k8s.io", "StorageClass", "allowVolumeExpansion"),
            None
        );
        assert!(matches!(
            for_field(
                "kubevirt.io",
                "KubeVirt",
                "spec.configuration.vmStateStorageClass"
            ),
            Some(Fix::Procedure { .. })
        ));
        assert_eq!(for_field("apps", "Deployment", "spec.replicas"), None);
        assert!(known_hook("longhorn-system", "longhorn-storageclass").is_some());
        assert!(known_hook("longhorn-system", "longhorn-default-setting").is_none());
    }
}
