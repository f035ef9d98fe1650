//! Kind names as users type them (kubectl habits): kinds, singular and plural resource names,
//! short names (`ds`, `po`) and `resource.group` forms (`bundles.fleet.cattle.io`), resolved
//! against the resource types actually present in a bundle.

/// A resource type known to be in the bundle (from its files) or built in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceType {
    /// API group, `""` for core.
    pub group: String,
    /// Kind (`DaemonSet`).
    pub kind: String,
    /// Plural resource name (`daemonsets`).
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

/// kubectl's short names for the kinds a Harvester bundle holds: (short, group, plural).
const SHORT_NAMES: &[(&str, &str, &str)] = &[
    ("po", "", "pods"),
    ("no", "", "nodes"),
    ("ns", "", "namespaces"),
    ("svc", "", "services"),
    ("ep", "", "endpoints"),
    ("cm", "", "configmaps"),
    ("ev", "", "events"),
    ("pv", "", "persistentvolumes"),
    ("pvc", "", "persistentvolumeclaims"),
    ("sa", "", "serviceaccounts"),
    ("rc", "", "replicationcontrollers"),
    ("limits", "", "limitranges"),
    ("quota", "", "resourcequotas"),
    ("cs", "", "componentstatuses"),
    ("ds", "apps", "daemonsets"),
    ("deploy", "apps", "deployments"),
    ("rs", "apps", "replicasets"),
    ("sts", "apps", "statefulsets"),
    ("cj", "batch", "cronjobs"),
    ("ing", "networking.k8s.io", "ingresses"),
    ("netpol", "networking.k8s.io", "networkpolicies"),
    ("pdb", "policy", "poddisruptionbudgets"),
    ("sc", "storage.k8s.io", "storageclasses"),
    ("crd", "apiextensions.k8s.io", "customresourcedefinitions"),
    ("crds", "apiextensions.k8s.io", "customresourcedefinitions"),
    ("hpa", "autoscaling", "horizontalpodautoscalers"),
    ("vm", "kubevirt.io", "virtualmachines"),
    ("vms", "kubevirt.io", "virtualmachines"),
    ("vmi", "kubevirt.io", "virtualmachineinstances"),
    ("vmis", "kubevirt.io", "virtualmachineinstances"),
    ("vmim", "kubevirt.io", "virtualmachineinstancemigrations"),
    ("vmims", "kubevirt.io", "virtualmachineinstancemigrations"),
    ("kv", "kubevirt.io", "kubevirts"),
    ("mcc", "management.cattle.io", "managedcharts"),
    ("mc", "management.cattle.io", "managedcharts"),
    ("lhv", "longhorn.io", "volumes"),
    ("lhr", "longhorn.io", "replicas"),
    ("lhe", "longhorn.io", "engines"),
    ("lhn", "longhorn.io", "nodes"),
    ("lhs", "longhorn.io", "settings"),
    ("bd", "harvesterhci.io", "blockdevices"),
    ("vmimage", "harvesterhci.io", "virtualmachineimages"),
    ("vmimages", "harvesterhci.io", "virtualmachineimages"),
    ("vmbackup", "harvesterhci.io", "virtualmachinebackups"),
    ("vmbackups", "harvesterhci.io", "virtualmachinebackups"),
    ("vmrestore", "harvesterhci.io", "virtualmachinerestores"),
    ("vmrestores", "harvesterhci.io", "virtualmachinerestores"),
    ("vmtemplate", "harvesterhci.io", "virtualmachinetemplates"),
    ("vmtemplates", "harvesterhci.io", "virtualmachinetemplates"),
    (
        "vmtemplateversion",
        "harvesterhci.io",
        "virtualmachinetemplateversions",
    ),
    (
        "vmtemplateversions",
        "harvesterhci.io",
        "virtualmachinetemplateversions",
    ),
    (
        "net-attach-def",
        "k8s.cni.cncf.io",
        "network-attachment-definitions",
    ),
    ("kvs", "kubevirt.io", "kubevirts"),
    ("dv", "cdi.kubevirt.io", "datavolumes"),
    ("dvs", "cdi.kubevirt.io", "datavolumes"),
    ("lhb", "longhorn.io", "backups"),
    ("lhbv", "longhorn.io", "backupvolumes"),
    ("lhbt", "longhorn.io", "backuptargets"),
    ("lhbi", "longhorn.io", "backingimages"),
    ("lhei", "longhorn.io", "engineimages"),
    ("lhim", "longhorn.io", "instancemanagers"),
    ("lhsm", "longhorn.io", "sharemanagers"),
    ("lhrj", "longhorn.io", "recurringjobs"),
    ("lhva", "longhorn.io", "volumeattachments"),
    ("lhsnap", "longhorn.io", "snapshots"),
    ("csr", "certificates.k8s.io", "certificatesigningrequests"),
    ("pc", "scheduling.k8s.io", "priorityclasses"),
    ("fleetcluster", "fleet.cattle.io", "clusters"),
    ("bd", "fleet.cattle.io", "bundledeployments"),
    ("gitrepo", "fleet.cattle.io", "gitrepos"),
    ("plan", "upgrade.cattle.io", "plans"),
    ("plans", "upgrade.cattle.io", "plans"),
    (
        "vwc",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    (
        "mwc",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
];

/// kubectl's short names of the resource `plural` of `group`.
pub fn short_names(group: &str, plural: &str) -> Vec<&'static str> {
    SHORT_NAMES
        .iter()
        .filter(|(s, g, p)| *g == group && *p == plural && *s != plural)
        .map(|(s, _, _)| *s)
        .collect()
}

/// `group`, `kind`, `plural`, `shortNames` of a CRD, read from its `spec.names` lines (no parse of its
/// schema, which is most of its bytes).
pub fn crd_names(yaml: &str) -> Option<(String, String, String, Vec<String>)> {
    let mut in_spec = false;
    let mut in_names = false;
    let mut in_short = false;
    let (mut group, mut kind, mut plural, mut short) =
        (String::new(), String::new(), String::new(), Vec::new());
    for l in yaml.lines() {
        let indent = l.len() - l.trim_start().len();
        let t = l.trim();
        if indent == 0 {
            in_spec = t == "spec:";
            in_names = false;
            continue;
        }
        if !in_spec {
            continue;
        }
        if indent == 2 {
            in_names = t == "names:";
            in_short = false;
            if let Some(g) = t.strip_prefix("group:") {
                group = g.trim().trim_matches('"').to_string();
            }
            continue;
        }
        if in_names && in_short && t.starts_with("- ") {
            short.push(
                t.trim_start_matches("- ")
                    .trim()
                    .trim_matches('"')
                    .to_string(),
            );
            continue;
        }
        if in_names && indent == 4 {
            in_short = t == "shortNames:";
            if let Some(k) = t.strip_prefix("kind:") {
                kind = k.trim().trim_matches('"').to_string();
            } else if let Some(p) = t.strip_prefix("plural:") {
                plural = p.trim().trim_matches('"').to_string();
            }
            continue;
        }
    }
    (!kind.is_empty() && !plural.is_empty()).then_some((group, kind, plural, short))
}

/// Kinds of resources whose lists are often empty in a bundle (so no object names the kind)
/// and whose CRD, if any, may be missing: (plural, kind).
const KNOWN_KINDS: &[(&str, &str)] = &[
    ("limitranges", "LimitRange"),
    ("resourcequotas", "ResourceQuota"),
    ("replicationcontrollers", "ReplicationController"),
    ("podtemplates", "PodTemplate"),
    ("persistentvolumeclaims", "PersistentVolumeClaim"),
    ("persistentvolumes", "PersistentVolume"),
    ("serviceaccounts", "ServiceAccount"),
    ("horizontalpodautoscalers", "HorizontalPodAutoscaler"),
    ("cronjobs", "CronJob"),
    ("networkpolicies", "NetworkPolicy"),
    ("poddisruptionbudgets", "PodDisruptionBudget"),
    ("ingresses", "Ingress"),
    ("statefulsets", "StatefulSet"),
    ("replicasets", "ReplicaSet"),
    ("daemonsets", "DaemonSet"),
    ("deployments", "Deployment"),
    ("volumeattachments", "VolumeAttachment"),
    ("storageclasses", "StorageClass"),
    ("virtualmachines", "VirtualMachine"),
    ("virtualmachineinstances", "VirtualMachineInstance"),
    (
        "virtualmachineinstancemigrations",
        "VirtualMachineInstanceMigration",
    ),
    ("virtualmachineimages", "VirtualMachineImage"),
    ("virtualmachinebackups", "VirtualMachineBackup"),
    ("virtualmachinerestores", "VirtualMachineRestore"),
    ("virtualmachinesnapshots", "VirtualMachineSnapshot"),
    (
        "virtualmachinesnapshotcontents",
        "VirtualMachineSnapshotContent",
    ),
    ("virtualmachinetemplates", "VirtualMachineTemplate"),
    (
        "virtualmachinetemplateversions",
        "VirtualMachineTemplateVersion",
    ),
    (
        "network-attachment-definitions",
        "NetworkAttachmentDefinition",
    ),
    ("keypairs", "KeyPair"),
    ("backingimages", "BackingImage"),
    ("backups", "Backup"),
    ("upgrades", "Upgrade"),
    ("supportbundles", "SupportBundle"),
    ("certificatesigningrequests", "CertificateSigningRequest"),
    ("machinedeployments", "MachineDeployment"),
    ("machinehealthchecks", "MachineHealthCheck"),
    ("machinesets", "MachineSet"),
    ("bgpconfigurations", "BGPConfiguration"),
    ("bgppeers", "BGPPeer"),
    ("blockaffinities", "BlockAffinity"),
    ("globalnetworkpolicies", "GlobalNetworkPolicy"),
    ("globalnetworksets", "GlobalNetworkSet"),
    ("hostendpoints", "HostEndpoint"),
    ("ipamblocks", "IPAMBlock"),
    ("ipamconfigs", "IPAMConfig"),
    ("ipamhandles", "IPAMHandle"),
    ("networksets", "NetworkSet"),
    ("bundledeployments", "BundleDeployment"),
    ("bundlenamespacemappings", "BundleNamespaceMapping"),
    ("clusterregistrationtokens", "ClusterRegistrationToken"),
    ("gitreporestrictions", "GitRepoRestriction"),
    ("gitrepos", "GitRepo"),
    ("imagescans", "ImageScan"),
    ("gitjobs", "GitJob"),
    ("blockdevices", "BlockDevice"),
    (
        "virtualmachineinstancepresets",
        "VirtualMachineInstancePreset",
    ),
    (
        "virtualmachineinstancereplicasets",
        "VirtualMachineInstanceReplicaSet",
    ),
    ("loadbalancers", "LoadBalancer"),
    ("backupvolumes", "BackupVolume"),
    ("recurringjobs", "RecurringJob"),
    ("sharemanagers", "ShareManager"),
    ("groupmembers", "GroupMember"),
    ("nodedrivers", "NodeDriver"),
    ("alertmanagerconfigs", "AlertmanagerConfig"),
    ("podmonitors", "PodMonitor"),
    ("thanosrulers", "ThanosRuler"),
    ("runtimeclasses", "RuntimeClass"),
    ("rkebootstraptemplates", "RKEBootstrapTemplate"),
    ("rkebootstraps", "RKEBootstrap"),
    ("volumesnapshotcontents", "VolumeSnapshotContent"),
    ("volumesnapshots", "VolumeSnapshot"),
    ("volumesnapshotclasses", "VolumeSnapshotClass"),
    ("csistoragecapacities", "CSIStorageCapacity"),
    ("navlinks", "NavLink"),
    ("managedcharts", "ManagedChart"),
    ("clusterrepos", "ClusterRepo"),
    ("servicemonitors", "ServiceMonitor"),
    ("prometheusrules", "PrometheusRule"),
    ("instancemanagers", "InstanceManager"),
    ("engineimages", "EngineImage"),
    ("backingimagemanagers", "BackingImageManager"),
    ("backingimagedatasources", "BackingImageDataSource"),
    ("schedulevmbackups", "ScheduleVMBackup"),
    ("upgradelogs", "UpgradeLog"),
    ("upgradeplans", "UpgradePlan"),
    ("ippools", "IPPool"),
];

/// A kind for a resource no object and no CRD names: a [`KNOWN_KINDS`] one, else the
/// singular capitalized (`widgets` → `Widget`).
pub fn kind_for_plural(plural: &str) -> String {
    if let Some((_, k)) = KNOWN_KINDS.iter().find(|(p, _)| *p == plural) {
        return (*k).to_string();
    }
    let singular = plural
        .strip_suffix("ies")
        .map(|s| format!("{s}y"))
        .or_else(|| {
            ["sses", "ches", "shes", "xes"]
                .iter()
                .any(|e| plural.ends_with(e))
                .then(|| plural.get(..plural.len() - 2).unwrap_or(plural).to_string())
        })
        .unwrap_or_else(|| plural.strip_suffix('s').unwrap_or(plural).to_string());
    let mut c = singular.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// kube-apiserver's built-in API groups in its discovery order: the group priority of each
/// one's APIService (`pkg/controlplane/apiserver/aggregator.go` and the kube-apiserver's
/// additions: apps 17800, events.k8s.io 17750 … storagemigration.k8s.io 15800), highest
/// first, ties by name; the aggregator's own group leads. `extensions` (17900, gone since
/// Kubernetes 1.22) is left to the other groups so that the objects an old bundle holds in
/// both `extensions` and `networking.k8s.io` resolve to the current group.
const BUILTIN_GROUPS: &[&str] = &[
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "resource.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "storagemigration.k8s.io",
];

/// Aggregated APIs whose APIService asks a lower priority (100) than CRD groups (1000), so
/// they come last.
const LATE_GROUPS: &[&str] = &["metrics.k8s.io"];

/// Where `group` comes in a Kubernetes API server's discovery, as a sort key: the core group,
/// then the built-in groups in their priority order, then CRD groups (one shared priority,
/// so by name, as aggregated discovery orders them), then low-priority aggregated APIs.
/// kubectl resolves a resource name several groups serve to the first group in this order.
pub fn discovery_order(group: &str) -> (u8, usize, &str) {
    if group.is_empty() {
        return (0, 0, "");
    }
    if let Some(i) = BUILTIN_GROUPS.iter().position(|g| *g == group) {
        return (1, i, "");
    }
    if let Some(i) = LATE_GROUPS.iter().position(|g| *g == group) {
        return (3, i, "");
    }
    (2, 0, group)
}

/// How a user's KIND matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Exactly these types (one, or the same kind served by several groups).
    Types(Vec<ResourceType>),
    /// Several types match; the user must qualify with a group.
    Ambiguous(Vec<String>),
    /// Nothing matches.
    Unknown,
}

/// Short names beyond kubectl's well-known ones: (short, group, plural), from the bundle's CRDs.
pub type ShortNames = [(String, String, String)];

fn matches_long_name(t: &ResourceType, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let kind = t.kind.to_ascii_lowercase();
    name == t.plural || name == kind || name == format!("{kind}s")
}

fn matches_short_name(t: &ResourceType, name: &str, extra: &ShortNames) -> bool {
    let name = name.to_ascii_lowercase();
    SHORT_NAMES
        .iter()
        .any(|(s, g, p)| *s == name && *g == t.group && *p == t.plural)
        || extra
            .iter()
            .any(|(s, g, p)| *s == name && *g == t.group && *p == t.plural)
}

fn matches_name(t: &ResourceType, name: &str, extra: &ShortNames) -> bool {
    matches_long_name(t, name) || matches_short_name(t, name, extra)
}

fn group_matches(t: &ResourceType, group: &str) -> bool {
    let group = group.to_ascii_lowercase();
    t.group == group
        || t.group.starts_with(&format!("{group}."))
        || (group == "core" && t.group.is_empty())
}

/// Resolves `input` (`ds`, `pods`, `Pod`, `bundles.fleet.cattle.io`, `deployments.apps`,
/// `nodes.v1beta1.longhorn.io`) against `types`.
pub fn resolve(input: &str, types: &[ResourceType]) -> Resolved {
    resolve_with(input, types, &[])
}

/// [`resolve`], with the short names the bundle's CRDs declare. A name several groups serve
/// resolves as kubectl resolves it: a plural or singular name before a short name, then the
/// first group in discovery order ([`discovery_order`]): `settings` is Harvester's
/// `settings.harvesterhci.io` when the bundle also holds Longhorn's and Rancher's, `bd` is
/// `bundledeployments.fleet.cattle.io` when both it and Harvester's blockdevices are present.
pub fn resolve_with(input: &str, types: &[ResourceType], extra: &ShortNames) -> Resolved {
    let input = input.trim();
    let mut found: Vec<&ResourceType> = types
        .iter()
        .filter(|t| matches_name(t, input, extra))
        .collect();
    if found.is_empty()
        && let Some((name, group)) = input.split_once('.')
    {
        // `resource.version.group` is accepted too: drop a leading version.
        let group = match group.split_once('.') {
            Some((v, rest))
                if v.starts_with('v') && v[1..].starts_with(|c: char| c.is_ascii_digit()) =>
            {
                rest
            }
            _ => group,
        };
        found = types
            .iter()
            .filter(|t| matches_name(t, name, extra) && group_matches(t, group))
            .collect();
    }
    if found.is_empty() {
        return Resolved::Unknown;
    }
    // kubectl expands a short name only when no resource has that plural or singular name,
    // then takes the first group in discovery order that serves the resource.
    if found.iter().any(|t| matches_long_name(t, input)) {
        found.retain(|t| matches_long_name(t, input));
    }
    if let Some(first) = found
        .iter()
        .map(|t| t.group.clone())
        .min_by(|x, y| discovery_order(x).cmp(&discovery_order(y)))
    {
        found.retain(|t| t.group == first);
    }
    let mut out: Vec<ResourceType> = found.into_iter().cloned().collect();
    out.sort();
    out.dedup();
    Resolved::Types(out)
}

/// Edit distance (insertions, deletions, substitutions) between two short names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// The names (plurals, kinds, short names) of `types` closest to a mistyped `input`, at most
/// three, nearest first; empty when nothing is close (more than a third of the name apart).
pub fn closest(input: &str, types: &[ResourceType]) -> Vec<String> {
    let input = input.to_ascii_lowercase();
    let input = input.split('.').next().unwrap_or_default();
    if input.is_empty() || input.len() > 100 {
        return Vec::new();
    }
    let limit = (input.chars().count() / 3).max(1);
    // Per type, its nearest name (plural, kind or short name); the plural is shown.
    let mut near: Vec<(usize, String)> = types
        .iter()
        .filter_map(|t| {
            let d = std::iter::once(t.plural.clone())
                .chain(std::iter::once(t.kind.to_ascii_lowercase()))
                .chain(
                    short_names(&t.group, &t.plural)
                        .iter()
                        .map(|s| s.to_string()),
                )
                .map(|n| distance(input, &n))
                .min()?;
            (d <= limit).then(|| (d, t.plural.clone()))
        })
        .collect();
    near.sort();
    let mut seen = std::collections::BTreeSet::new();
    near.retain(|(_, n)| seen.insert(n.clone()));
    near.into_iter().take(3).map(|(_, n)| n).collect()
}

/// A kind's printable name with its group, as in `DaemonSet.apps`.
pub fn qualified(kind: &str, group: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(group: &str, kind: &str, plural: &str) -> ResourceType {
        ResourceType {
            group: group.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced: true,
        }
    }

    fn types() -> Vec<ResourceType> {
        vec![
            t("", "Pod", "pods"),
            t("", "Node", "nodes"),
            t("longhorn.io", "Node", "nodes"),
            t("metrics.k8s.io", "NodeMetrics", "nodes"),
            t("apps", "DaemonSet", "daemonsets"),
            t("fleet.cattle.io", "Bundle", "bundles"),
            t("management.cattle.io", "ManagedChart", "managedcharts"),
            t("harvesterhci.io", "Setting", "settings"),
            t("management.cattle.io", "Setting", "settings"),
        ]
    }

    fn one(input: &str) -> (String, String) {
        match resolve(input, &types()) {
            Resolved::Types(v) if v.len() == 1 => (v[0].group.clone(), v[0].kind.clone()),
            other => panic!("{input}: {other:?}"),
        }
    }

    #[test]
    fn short_plural_kind_and_group_forms() {
        assert_eq!(one("ds"), ("apps".into(), "DaemonSet".into()));
        assert_eq!(one("po"), ("".into(), "Pod".into()));
        assert_eq!(one("Pod"), ("".into(), "Pod".into()));
        assert_eq!(
            one("managedcharts"),
            ("management.cattle.io".into(), "ManagedChart".into())
        );
        assert_eq!(
            one("mcc"),
            ("management.cattle.io".into(), "ManagedChart".into())
        );
        assert_eq!(
            one("bundles.fleet.cattle.io"),
            ("fleet.cattle.io".into(), "Bundle".into())
        );
        assert_eq!(
            one("bundle.fleet"),
            ("fleet.cattle.io".into(), "Bundle".into())
        );
        assert_eq!(one("nodes"), ("".into(), "Node".into()));
        assert_eq!(
            one("nodes.longhorn.io"),
            ("longhorn.io".into(), "Node".into())
        );
        assert_eq!(
            one("nodes.v1beta2.longhorn.io"),
            ("longhorn.io".into(), "Node".into())
        );
        assert_eq!(one("daemonsets.apps"), ("apps".into(), "DaemonSet".into()));
    }

    #[test]
    fn typos_get_the_closest_names() {
        assert_eq!(closest("podz", &types()), ["pods"]);
        assert_eq!(closest("deamonsets", &types()), ["daemonsets"]);
        assert!(closest("frobnicators", &types()).is_empty());
    }

    #[test]
    fn kinds_of_plurals_no_object_names() {
        assert_eq!(kind_for_plural("virtualmachines"), "VirtualMachine");
        assert_eq!(kind_for_plural("widgets"), "Widget");
        assert_eq!(kind_for_plural("policies"), "Policy");
        assert_eq!(kind_for_plural("addresses"), "Address");
    }

    #[test]
    fn a_short_name_two_groups_claim_goes_to_the_first_in_discovery_order() {
        let types = vec![
            t("harvesterhci.io", "BlockDevice", "blockdevices"),
            t("fleet.cattle.io", "BundleDeployment", "bundledeployments"),
        ];
        let first = |i: &str| match resolve(i, &types) {
            Resolved::Types(v) => v.iter().map(|t| t.plural.clone()).collect::<Vec<_>>(),
            other => panic!("{i}: {other:?}"),
        };
        assert_eq!(first("bd"), ["bundledeployments"]);
        assert_eq!(first("bd.harvesterhci.io"), ["blockdevices"]);
        assert_eq!(first("blockdevices"), ["blockdevices"]);
        let only_harvester = vec![t("harvesterhci.io", "BlockDevice", "blockdevices")];
        assert!(matches!(
            resolve("bd", &only_harvester),
            Resolved::Types(v) if v[0].plural == "blockdevices"
        ));
        // Short names a CRD declares that kubectl's well-known list lacks.
        let extra = [(
            "lcf".to_string(),
            "logging.banzaicloud.io".to_string(),
            "clusterflows".to_string(),
        )];
        let flows = vec![t("logging.banzaicloud.io", "ClusterFlow", "clusterflows")];
        assert_eq!(resolve("lcf", &flows), Resolved::Unknown);
        assert!(matches!(
            resolve_with("lcf", &flows, &extra),
            Resolved::Types(v) if v[0].plural == "clusterflows"
        ));
    }

    #[test]
    fn shared_names_resolve_in_discovery_order_and_unknown() {
        let first = |i: &str, types: &[ResourceType]| match resolve(i, types) {
            Resolved::Types(v) => v[0].group.clone(),
            other => panic!("{i}: {other:?}"),
        };
        assert_eq!(first("settings", &types()), "harvesterhci.io");
        let mut with_longhorn = types();
        with_longhorn.push(ResourceType {
            group: "longhorn.io".into(),
            kind: "Setting".into(),
            plural: "settings".into(),
            namespaced: true,
        });
        assert_eq!(first("settings", &with_longhorn), "harvesterhci.io");
        assert_eq!(first("settings.longhorn.io", &with_longhorn), "longhorn.io");
        assert_eq!(first("nodes", &with_longhorn), "");
        assert_eq!(resolve("frobnicators", &types()), Resolved::Unknown);
        let mut groups = vec![
            "longhorn.io",
            "metrics.k8s.io",
            "apps",
            "",
            "batch",
            "aaa.io",
        ];
        groups.sort_by_key(|g| discovery_order(g));
        assert_eq!(
            groups,
            [
                "",
                "apps",
                "batch",
                "aaa.io",
                "longhorn.io",
                "metrics.k8s.io"
            ]
        );
    }
}
