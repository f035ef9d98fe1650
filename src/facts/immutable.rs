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
        /// What deleting the object to let the redeploy recreate it does.
        recreate: Recreate,
    },
    /// A documented procedure must run before the redeploy.
    Procedure {
        /// What to do, in words.
        steps: &'static str,
        /// Commands, one per line; `{tag}` stands for the target version's tag (`v1.5.0`).
        commands: &'static [&'static str],
        /// Where it is documented.
        reference: &'static str,
    },
}

/// What recreating an object with an immutable field costs, so the fix can say it or refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recreate {
    /// Delete and let the redeploy recreate it; the words say what happens meanwhile.
    Delete(&'static str),
    /// Delete with `--cascade=orphan` (its pods keep running and are adopted again).
    Orphan(&'static str),
    /// Never delete it to fix drift: the words say what would be lost.
    Never(&'static str),
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

/// Whether `path` is `field` or a field under it (`spec.selector.matchLabels.app` is under
/// `spec.selector`).
fn under(path: &str, field: &str) -> bool {
    path.strip_prefix(field)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

const API_VALIDATION: &str = "Kubernetes API validation";
const FIELD_IMMUTABLE: &str = "field is immutable";
/// The fields of a StatefulSet's spec the API server lets an update change.
const STATEFULSET_MUTABLE: [&str; 6] = [
    "spec.replicas",
    "spec.ordinals",
    "spec.template",
    "spec.updateStrategy",
    "spec.persistentVolumeClaimRetentionPolicy",
    "spec.minReadySeconds",
];
/// The PersistentVolume spec fields that hold its volume source.
const PV_SOURCES: [&str; 8] = [
    "spec.csi",
    "spec.hostPath",
    "spec.local",
    "spec.nfs",
    "spec.iscsi",
    "spec.fc",
    "spec.rbd",
    "spec.cephfs",
];

/// The fix a drifted field of an object of this kind needs instead of a plain redeploy, if
/// any. `path` is the field as drift classification writes it (`parameters.numberOfReplicas`).
pub fn for_field(group: &str, kind: &str, path: &str) -> Option<Fix> {
    let top = path.split(['.', '[']).next().unwrap_or(path);
    let immutable = |denial, recreate| {
        Some(Fix::Immutable {
            denial,
            reference: API_VALIDATION,
            recreate,
        })
    };
    let pods_go = Recreate::Delete(
        "its pods are deleted with it and come back when the redeploy recreates it, so the \
         workload is down meanwhile",
    );
    match (group, kind) {
        ("storage.k8s.io", "StorageClass") => {
            storage_class_denial(top).map(|denial| Fix::Immutable {
                denial,
                reference: "https://github.com/harvester/harvester/issues/7072",
                recreate: Recreate::Delete(
                    "volumes already provisioned keep their settings; new ones cannot be \
                     provisioned with it until it is back",
                ),
            })
        }
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") if under(path, "spec.selector") => {
            immutable(FIELD_IMMUTABLE, pods_go)
        }
        ("apps", "StatefulSet")
            if under(path, "spec") && !STATEFULSET_MUTABLE.iter().any(|f| under(path, f)) =>
        {
            immutable(
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', \
                 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and \
                 'minReadySeconds' are forbidden",
                Recreate::Orphan(
                    "its pods and their volumes stay; the recreated StatefulSet adopts them, and \
                     a change to volumeClaimTemplates applies only to volumes created later",
                ),
            )
        }
        ("batch", "Job") if under(path, "spec.template") || under(path, "spec.selector") => {
            immutable(
                FIELD_IMMUTABLE,
                Recreate::Delete(
                    "its pods and their logs go with it, and the redeploy creates the Job again, \
                     which runs it again",
                ),
            )
        }
        ("", "PersistentVolumeClaim")
            if under(path, "spec") && !under(path, "spec.resources.requests") =>
        {
            immutable(
                "spec is immutable after creation except resources.requests for bound claims",
                Recreate::Never(
                    "deleting the claim releases its volume, and with the usual Delete reclaim \
                     policy deletes the data on it",
                ),
            )
        }
        ("", "PersistentVolume") if PV_SOURCES.iter().any(|f| under(path, f)) => immutable(
            "spec.persistentvolumesource is immutable after creation",
            Recreate::Never("the volume's data and the claim bound to it depend on it"),
        ),
        ("", "Service") if under(path, "spec.clusterIP") || under(path, "spec.clusterIPs") => {
            immutable(
                FIELD_IMMUTABLE,
                Recreate::Delete(
                    "the Service gets a new cluster IP, so clients that kept the old address \
                     (not its DNS name) lose it",
                ),
            )
        }
        ("kubevirt.io", "KubeVirt") if path == "spec.configuration.vmStateStorageClass" => {
            Some(Fix::Procedure {
                steps: "Harvester v1.5.0's chart sets this field, which the KubeVirt CRD of \
                        earlier versions does not declare, and Helm does not upgrade CRDs: the \
                        API server prunes the undeclared field on every apply, so a redeploy \
                        alone leaves the chart Modified. Apply the CRDs of the target version's \
                        dependency charts first, then force the redeploy (Harvester upgrade \
                        notes v1.4.2→v1.5.0, known issue 3)",
                commands: &[
                    "Check that the cluster's KubeVirt CRD lacks the field (a count of 0 means it does):",
                    "$ kubectl get crd kubevirts.kubevirt.io -o yaml | grep -c vmStateStorageClass",
                    "Apply the KubeVirt CRD of the target version, from the Harvester source at its tag (deploy/charts/harvester/dependency_charts/kubevirt-operator/crds/crd-kubevirt.yaml; in an air-gapped site, copy that file in). The CRD is too large for a client-side apply:",
                    "$ kubectl apply --server-side --force-conflicts -f https://raw.githubusercontent.com/harvester/harvester/{tag}/deploy/charts/harvester/dependency_charts/kubevirt-operator/crds/crd-kubevirt.yaml",
                ],
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
        assert_eq!(for_field("apps", "Deployment", "spec.selectorX"), None);
        assert!(matches!(
            for_field("apps", "Deployment", "spec.selector.matchLabels.app"),
            Some(Fix::Immutable {
                denial: FIELD_IMMUTABLE,
                ..
            })
        ));
        assert!(matches!(
            for_field("apps", "StatefulSet", "spec.volumeClaimTemplates[0].spec"),
            Some(Fix::Immutable {
                recreate: Recreate::Orphan(_),
                ..
            })
        ));
        assert_eq!(
            for_field(
                "apps",
                "StatefulSet",
                "spec.template.spec.containers[0].image"
            ),
            None
        );
        assert!(matches!(
            for_field("batch", "Job", "spec.template.spec.containers[0].image"),
            Some(Fix::Immutable { .. })
        ));
        assert!(matches!(
            for_field("", "PersistentVolumeClaim", "spec.storageClassName"),
            Some(Fix::Immutable {
                recreate: Recreate::Never(_),
                ..
            })
        ));
        assert_eq!(
            for_field(
                "",
                "PersistentVolumeClaim",
                "spec.resources.requests.storage"
            ),
            None
        );
        assert!(matches!(
            for_field("", "Service", "spec.clusterIP"),
            Some(Fix::Immutable {
                recreate: Recreate::Delete(_),
                ..
            })
        ));
        assert_eq!(for_field("", "Service", "spec.ports[0].port"), None);
        assert!(known_hook("longhorn-system", "longhorn-storageclass").is_some());
        assert!(known_hook("longhorn-system", "longhorn-default-setting").is_none());
    }
}
