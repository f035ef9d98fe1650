//! Fleet "modified" claims judged on the whole captured object, end to end: a bundle built
//! in the test (ManagedChart `harvester`'s Bundle claiming four objects modified, with the
//! patches of the Harvester issues they come from) gives `fleet.stale-status` for a capture
//! that already holds the chart's values and `fleet.modified` naming the field and both values
//! for one that does not.
mod common;

use serde_json::Value;

const SC_PATCH: &str = r#"{"parameters":{"numberOfReplicas":"3"}}"#;
const DEP_PATCH: &str = r#"{"spec":{"template":{"spec":{"containers":[{"args":["--leader-elect"],"env":[{"name":"NAMESPACE","value":"harvester-system"}],"name":"harvester-network-manager","resources":{"limits":{"cpu":"100m","memory":"128Mi"}}}]}}}}"#;
const KV_PATCH: &str =
    r#"{"spec":{"configuration":{"vmStateStorageClass":"vmstate-persistence"}}}"#;
const CM_PATCH: &str = r#"{"data":{"default-replica-count":"3"}}"#;

/// The fixture: every captured object as the chart wants it.
fn fixture() -> String {
    let entry = |api: &str, kind: &str, ns: &str, name: &str, patch: &str| {
        format!(
            "      - apiVersion: {api}\n        kind: {kind}\n        namespace: \"{ns}\"\n        name: {name}\n        patch: '{patch}'\n"
        )
    };
    let modified = [
        entry(
            "storage.k8s.io/v1",
            "StorageClass",
            "",
            "harvester-longhorn",
            SC_PATCH,
        ),
        entry(
            "apps/v1",
            "Deployment",
            "harvester-system",
            "harvester-network-controller-manager",
            DEP_PATCH,
        ),
        entry(
            "kubevirt.io/v1",
            "KubeVirt",
            "harvester-system",
            "kubevirt",
            KV_PATCH,
        ),
        entry(
            "v1",
            "ConfigMap",
            "longhorn-system",
            "longhorn-default-setting",
            CM_PATCH,
        ),
    ]
    .concat();
    format!(
        r#"# Fleet drift claims judged on whole objects (built in tests/fleet_whole.rs).
# Assumed capture time of the support bundle: 2025-01-27T10:00:00Z
---
apiVersion: fleet.cattle.io/v1alpha1
kind: Bundle
metadata:
  name: mcc-harvester
  namespace: fleet-local
  generation: 9
  ownerReferences:
  - {{apiVersion: management.cattle.io/v3, kind: ManagedChart, name: harvester, controller: true, blockOwnerDeletion: true, uid: 7e2c9a10-1111-4a2b-9c3d-0e1f2a3b4c5d}}
spec:
  defaultNamespace: harvester-system
  helm: {{releaseName: harvester, version: 1.4.0, timeoutSeconds: 600}}
  targets:
  - clusterName: local
status:
  conditions:
  - type: Ready
    status: "False"
    message: 'Modified(1) [Cluster fleet-local/local]; storageclass.storage.k8s.io harvester-longhorn modified {{"parameters":{{"numberOfReplicas":"3"}}}}'
    lastUpdateTime: "2025-01-20T08:15:42Z"
  display: {{readyClusters: 0/1, state: Modified}}
  observedGeneration: 9
  summary:
    desiredReady: 1
    modified: 1
    ready: 0
    nonReadyResources:
    - name: fleet-local/local
      bundleState: Modified
      modifiedStatus:
{modified}---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: harvester-longhorn
  labels: {{app.kubernetes.io/managed-by: Helm}}
parameters:
  migratable: "true"
  numberOfReplicas: "3"
  staleReplicaTimeout: "30"
provisioner: driver.longhorn.io
reclaimPolicy: Delete
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: harvester-network-controller-manager
  namespace: harvester-system
  generation: 2
spec:
  replicas: 2
  selector:
    matchLabels: {{app: network-controller-manager}}
  template:
    spec:
      containers:
      - args:
        - --leader-elect
        env:
        - name: NAMESPACE
          value: harvester-system
        image: rancher/harvester-network-controller:v0.5.4
        imagePullPolicy: IfNotPresent
        name: harvester-network-manager
        resources:
          limits:
            cpu: 100m
            memory: 128Mi
        terminationMessagePath: /dev/termination-log
status:
  observedGeneration: 2
  replicas: 2
  readyReplicas: 2
  availableReplicas: 2
  updatedReplicas: 2
---
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata:
  name: kubevirt
  namespace: harvester-system
spec:
  configuration:
    developerConfiguration:
      featureGates:
      - LiveMigration
    vmStateStorageClass: vmstate-persistence
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: longhorn-default-setting
  namespace: longhorn-system
data:
  default-replica-count: "3"
"#
    )
}

fn analyse(text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let root = common::build_bundle(text, dir.path());
    common::report(&root)
}

/// The fleet.* findings about `Kind/ns/name`, as (rule, summary, remediation).
fn about<'a>(r: &'a Value, target: &str) -> Vec<(&'a str, &'a str, &'a str)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule"].as_str().unwrap().starts_with("fleet.")
                && f["id"].as_str().unwrap().ends_with(target)
        })
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["summary"].as_str().unwrap(),
                f["remediation"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

/// The fixture with every captured object changed from the chart's values.
fn drifted() -> String {
    let mut t = fixture();
    for (from, to) in [
        ("  numberOfReplicas: \"3\"\n", "  numberOfReplicas: \"2\"\n"),
        ("            memory: 128Mi\n", "            memory: 512Mi\n"),
        ("    vmStateStorageClass: vmstate-persistence\n", ""),
        (
            "  default-replica-count: \"3\"\n",
            "  default-replica-count: \"2\"\n",
        ),
    ] {
        assert!(t.contains(from), "{from}");
        t = t.replacen(from, to, 1);
    }
    t
}

const TARGETS: [&str; 4] = [
    "StorageClass/harvester-longhorn",
    "Deployment/harvester-system/harvester-network-controller-manager",
    "KubeVirt/harvester-system/kubevirt",
    "ConfigMap/longhorn-system/longhorn-default-setting",
];

#[test]
fn capture_holding_the_chart_values_makes_every_claim_stale() {
    let r = analyse(&fixture());
    for t in TARGETS {
        let f = about(&r, &format!(":{t}"));
        assert_eq!(f.len(), 1, "{t}: {f:#?}");
        assert_eq!(f[0].0, "fleet.stale-status", "{t}: {f:#?}");
        assert!(!f[0].1.contains("by hand"), "{t}: {}", f[0].1);
    }
}

#[test]
fn capture_differing_from_the_chart_names_each_field_and_both_values() {
    let r = analyse(&drifted());
    let want = [
        "parameters.numberOfReplicas: 3 → 2",
        "spec.template.spec.containers[0].resources.limits.memory: 128Mi → 512Mi",
        "spec.configuration.vmStateStorageClass: vmstate-persistence → (unset)",
        "data.default-replica-count: 3 → 2",
    ];
    for (t, line) in TARGETS.iter().zip(want) {
        let f = about(&r, &format!(":{t}"));
        assert_eq!(f.len(), 1, "{t}: {f:#?}");
        assert_eq!(f[0].0, "fleet.modified", "{t}: {f:#?}");
        assert!(f[0].1.contains(line), "{t}: {}", f[0].1);
        assert!(!f[0].1.contains("by hand"), "{t}: {}", f[0].1);
    }
}

#[test]
fn immutable_and_known_issue_drift_never_gets_a_plain_resync() {
    let r = analyse(&drifted());
    let sc = about(&r, ":StorageClass/harvester-longhorn")[0].2;
    for want in [
        "updates to parameters are forbidden",
        "harvester/harvester/issues/7072",
        "$ kubectl get storageclass harvester-longhorn -o yaml > harvester-longhorn.yaml\n$ kubectl delete storageclass harvester-longhorn\n",
        "  - apiVersion: storage.k8s.io/v1\n    kind: StorageClass\n    name: harvester-longhorn\n    jsonPointers:\n    - /parameters/numberOfReplicas",
    ] {
        assert!(sc.contains(want), "{want}\n---\n{sc}");
    }
    assert!(sc.starts_with("Do not only force a redeploy"), "{sc}");
    let kv = about(&r, ":KubeVirt/harvester-system/kubevirt")[0].2;
    assert!(kv.starts_with("Do not only force a redeploy"), "{kv}");
    assert!(
        kv.contains("Apply the CRDs of the target version's dependency charts first"),
        "{kv}"
    );
    assert!(kv.contains("harvester/harvester/issues/8163"), "{kv}");
    // A Deployment's resources can be re-applied: the plain redeploy stays.
    let dep = about(
        &r,
        ":Deployment/harvester-system/harvester-network-controller-manager",
    )[0]
    .2;
    assert!(dep.starts_with("Decide which state is wanted"), "{dep}");
}

#[test]
fn kubevirt_procedure_gives_its_commands_and_the_entry_goes_to_the_managed_chart() {
    let r = analyse(&drifted());
    let kv = about(&r, ":KubeVirt/harvester-system/kubevirt")[0].2;
    for want in [
        "\n$ kubectl get crd kubevirts.kubevirt.io -o yaml | grep -c vmStateStorageClass\n",
        // The tag is the chart version the bundle deploys (helm.version 1.4.0 here).
        "\n$ kubectl apply --server-side --force-conflicts -f https://raw.githubusercontent.com/harvester/harvester/v1.4.0/deploy/charts/harvester/dependency_charts/kubevirt-operator/crds/crd-kubevirt.yaml\n",
        "Once that is done, force the redeploy:\n$ kubectl -n fleet-local patch bundles.fleet.cattle.io mcc-harvester",
    ] {
        assert!(kv.contains(want), "{want}\n---\n{kv}");
    }
    // The ManagedChart is not captured: the comparePatches entry still goes to it, by name.
    let sc = about(&r, ":StorageClass/harvester-longhorn")[0].2;
    assert!(
        sc.contains("in ManagedChart harvester, which Bundle mcc-harvester is generated from"),
        "{sc}"
    );
    assert!(
        sc.contains("$ kubectl -n fleet-local edit managedcharts.management.cattle.io harvester")
    );
    assert!(!sc.contains("fleet.yaml"), "{sc}");
}

#[test]
fn drift_only_in_fields_the_bundle_tells_fleet_to_ignore_is_a_stale_claim() {
    let entry = "spec:\n  diff:\n    comparePatches:\n    - apiVersion: storage.k8s.io/v1\n      kind: StorageClass\n      name: harvester-longhorn\n      jsonPointers:\n      - /parameters/numberOfReplicas\n  defaultNamespace: harvester-system\n";
    let text = drifted().replacen("spec:\n  defaultNamespace: harvester-system\n", entry, 1);
    assert_ne!(text, drifted());
    let r = analyse(&text);
    let sc = about(&r, ":StorageClass/harvester-longhorn");
    assert_eq!(sc.len(), 1, "{sc:#?}");
    assert_eq!(sc[0].0, "fleet.stale-status", "{sc:#?}");
    assert!(
        sc[0].1.contains("Bundle/fleet-local/mcc-harvester lists /parameters/numberOfReplicas in diff.comparePatches"),
        "{}",
        sc[0].1
    );
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["id"]
                .as_str()
                .unwrap()
                .ends_with(":StorageClass/harvester-longhorn")
        })
        .unwrap();
    assert!(
        f["title"].as_str().unwrap().ends_with(
            "only in fields its diff.comparePatches now ignores (/parameters/numberOfReplicas)"
        ),
        "{}",
        f["title"]
    );
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["excerpt"]
                .as_str()
                .unwrap_or_default()
                .contains("comparePatches:")),
        "{:#?}",
        f["evidence"]
    );
    // The entry covers only that field: the other claims are judged as before.
    let dep = about(
        &r,
        ":Deployment/harvester-system/harvester-network-controller-manager",
    );
    assert_eq!(dep[0].0, "fleet.modified");
}

#[test]
fn an_immutable_selector_gets_delete_and_recreate_and_a_claim_never_loses_data() {
    // The chart's selector differs from the captured Deployment's.
    let patch = r#"{"spec":{"selector":{"matchLabels":{"app":"network-controller"}}}}"#;
    let text = drifted().replacen(DEP_PATCH, patch, 1);
    let r = analyse(&text);
    let dep = about(
        &r,
        ":Deployment/harvester-system/harvester-network-controller-manager",
    );
    assert_eq!(dep[0].0, "fleet.modified", "{dep:#?}");
    for want in [
        "spec.selector.matchLabels.app of a Deployment cannot be changed in place",
        "(\"field is immutable\", Kubernetes API validation)",
        "its pods are deleted with it and come back when the redeploy recreates it",
        "$ kubectl delete deployment -n harvester-system harvester-network-controller-manager\n",
        "    - /spec/selector/matchLabels/app",
    ] {
        assert!(dep[0].2.contains(want), "{want}\n---\n{}", dep[0].2);
    }
}

#[test]
fn a_claim_data_depends_on_is_never_fixed_by_deleting_it() {
    // A PVC whose storage class differs from the chart's: the fix must not delete it.
    let claim = "      - apiVersion: v1\n        kind: PersistentVolumeClaim\n        namespace: \"harvester-system\"\n        name: data\n        patch: '{\"spec\":{\"storageClassName\":\"harvester-longhorn\"}}'\n";
    let pvc = "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: harvester-system\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n  storageClassName: longhorn\n";
    let base = drifted();
    let at = base.find("      - apiVersion: storage.k8s.io/v1").unwrap();
    let text = format!("{}{claim}{}{pvc}", &base[..at], &base[at..]);
    let r = analyse(&text);
    let f = about(&r, ":PersistentVolumeClaim/harvester-system/data");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].0, "fleet.modified", "{f:#?}");
    assert!(
        f[0].1
            .contains("spec.storageClassName: harvester-longhorn → longhorn"),
        "{}",
        f[0].1
    );
    let fix = f[0].2;
    assert!(
        fix.starts_with("Do not force a redeploy, and do not delete the PersistentVolumeClaim"),
        "{fix}"
    );
    assert!(fix.contains("deletes the data on it"), "{fix}");
    assert!(!fix.contains("kubectl delete"), "{fix}");
    assert!(!fix.contains("forceSyncGeneration"), "{fix}");
    assert!(fix.contains("    - /spec/storageClassName"), "{fix}");
}

/// The fixture with more claims (modifiedStatus entries) and more captured objects.
fn with(claims: &str, objects: &str) -> String {
    let base = fixture();
    let at = base.find("      - apiVersion: storage.k8s.io/v1").unwrap();
    format!("{}{claims}{}{objects}", &base[..at], &base[at..])
}

fn config_map(name: &str, meta: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: harvester-system\n{meta}data:\n  a: b\n"
    )
}

const FLEET_MARKS: &str = "  annotations:\n    objectset.rio.cattle.io/id: default-mcc-harvester-cattle-fleet-local-system\n  labels:\n    objectset.rio.cattle.io/hash: 5d1f0c\n";

#[test]
fn missing_and_extra_claims_say_which_ownership_marks_the_object_carries() {
    let claim = |name: &str, flag: &str| {
        format!(
            "      - apiVersion: v1\n        kind: ConfigMap\n        namespace: \"harvester-system\"\n        name: {name}\n        {flag}: true\n"
        )
    };
    let claims = [
        claim("owned", "missing"),
        claim("helm-only", "missing"),
        claim("orphan", "delete"),
        claim("released", "delete"),
    ]
    .concat();
    let objects = [
        config_map("owned", FLEET_MARKS),
        config_map(
            "helm-only",
            "  annotations:\n    meta.helm.sh/release-name: harvester\n",
        ),
        config_map("orphan", FLEET_MARKS),
        config_map("released", ""),
    ]
    .concat();
    let r = analyse(&with(&claims, &objects));
    let one = |name: &str| {
        let f = about(&r, &format!(":ConfigMap/harvester-system/{name}"));
        assert_eq!(f.len(), 1, "{name}: {f:#?}");
        f[0]
    };
    let owned = one("owned");
    assert_eq!(owned.0, "fleet.stale-status");
    assert!(owned.1.contains("exists and carries annotation objectset.rio.cattle.io/id=default-mcc-harvester-cattle-fleet-local-system (this bundle's) and label objectset.rio.cattle.io/hash=5d1f0c."), "{}", owned.1);
    let helm = one("helm-only");
    assert_eq!(helm.0, "fleet.stale-status");
    assert!(helm.1.contains("but it carries neither annotation objectset.rio.cattle.io/id nor label objectset.rio.cattle.io/hash; it carries Helm's release annotation meta.helm.sh/release-name=harvester"), "{}", helm.1);
    // Extra and still Fleet's: a real leftover.
    let orphan = one("orphan");
    assert_eq!(orphan.0, "fleet.modified");
    assert!(orphan.1.contains("Observed: configmap.v1 harvester-system/orphan exists and carries annotation objectset.rio.cattle.io/id="), "{}", orphan.1);
    assert!(
        orphan
            .2
            .contains("$ kubectl delete configmap -n harvester-system orphan"),
        "{}",
        orphan.2
    );
    // Extra but no longer labelled: Fleet cannot see it any more, the claim is stale.
    let released = one("released");
    assert_eq!(released.0, "fleet.stale-status");
    assert!(
        released.1.contains(
            "Fleet no longer sees the object as its own, so it will not delete it either"
        ),
        "{}",
        released.1
    );
}

#[test]
fn replicas_an_autoscaler_sets_are_benign_drift() {
    let patch = r#"{"spec":{"replicas":1}}"#;
    let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: ncm\n  namespace: harvester-system\nspec:\n  maxReplicas: 3\n  minReplicas: 1\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: harvester-network-controller-manager\n";
    let without = fixture().replacen(DEP_PATCH, patch, 1);
    let r = analyse(&without);
    let dep = about(
        &r,
        ":Deployment/harvester-system/harvester-network-controller-manager",
    );
    assert_eq!(dep[0].0, "fleet.modified", "{dep:#?}");
    assert!(
        dep[0].1.contains("Classification: not benign"),
        "{}",
        dep[0].1
    );
    let r = analyse(&format!("{without}{hpa}"));
    let dep = about(
        &r,
        ":Deployment/harvester-system/harvester-network-controller-manager",
    );
    assert_eq!(dep[0].0, "fleet.modified", "{dep:#?}");
    assert!(
        dep[0].1.contains(
            "Classification: benign — HorizontalPodAutoscaler harvester-system/ncm scales it"
        ),
        "{}",
        dep[0].1
    );
    assert!(dep[0].2.contains("    - /spec/replicas"), "{}", dep[0].2);
}
