//! The `upgrade.precheck.*` family: the checks of harvester/upgrade-helpers
//! `pre-check/v1.x/check.sh` (reference/upgrade-blockers.md §C), one rule per check, with the
//! script's thresholds and exemptions. Checks that need the live machine (the host the script
//! runs on, RKE2 certificate files, kubelet stats, `/oem` files, the COS_STATE partition) declare
//! `Input::Live` and are `not_evaluated`. Checks the script runs only on some versions (backing
//! images from v1.4.0, backup target on v1.4.1–v1.4.2, RWX network from v1.8.0) need the running
//! version and return nothing outside their range; Node-Status reads Longhorn eviction requests
//! only on v1.4.x. Where the bundle cannot answer exactly (Secrets left out by the generator,
//! Whereabouts allocations the index does not keep), an informational finding says so. Each
//! check is a function over the objects it reads (unit-tested below); the rules gather them
//! from the index and turn every failing condition into a finding — error for the script's
//! failures, warning for its WARNs — with id `upgrade.precheck.<check>:<object or aspect>`.
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use serde_json::Value;

use super::upgrade::{ev, obj_ref};
use super::{Context, Finding, Input, ObjectRef, Rule, RuleInfo, Severity};
use crate::facts::version::Version;
use crate::index::{Index, Object};
use crate::model::condition;
use crate::model::fleet::BundleSummary;
use crate::model::tree::{Node, Tree};
use crate::model::views::View;
use crate::text::plural;

const SCRIPT: &str =
    "https://github.com/harvester/upgrade-helpers/blob/main/pre-check/v1.x/check.sh";
const TROUBLESHOOTING: &str = "https://docs.harvesterhci.io/v1.4/upgrade/troubleshooting";

/// The pre-check rules, in the script's order.
pub fn rules() -> Vec<Box<dyn Rule>> {
    CHECKS
        .iter()
        .map(|c| Box::new(*c) as Box<dyn Rule>)
        .collect()
}

// ---------------------------------------------------------------- framework

/// One failing condition of a check, before it becomes a finding.
struct Hit<'a> {
    /// Id suffix: the object or aspect.
    aspect: String,
    severity: Severity,
    title: String,
    summary: String,
    /// Objects concerned, each with the text its evidence focuses on.
    objects: Vec<(&'a Object, Option<String>)>,
    remediation: String,
}

type Eval = for<'a> fn(&Context<'a>) -> Vec<Hit<'a>>;

/// A pre-check rule: its description and the function that runs it.
#[derive(Clone, Copy)]
struct Check {
    info: RuleInfo,
    eval: Eval,
    refs: &'static [&'static str],
}

impl Rule for Check {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn evaluate(&self, cx: &Context) -> Vec<Finding> {
        (self.eval)(cx)
            .into_iter()
            .map(|h| to_finding(cx.index, &self.info, self.refs, h))
            .collect()
    }
}

fn to_finding(index: &Index, info: &RuleInfo, refs: &[&str], h: Hit) -> Finding {
    let mut objects: Vec<ObjectRef> = Vec::new();
    for (o, _) in &h.objects {
        let r = obj_ref(o);
        if !objects.contains(&r) {
            objects.push(r);
        }
    }
    let mut references: Vec<String> = vec![SCRIPT.to_string()];
    references.extend(refs.iter().map(|r| r.to_string()));
    Finding {
        order: 0,
        graph: None,
        id: format!("{}:{}", info.id, h.aspect),
        rule: info.id.to_string(),
        severity: h.severity,
        title: h.title,
        summary: h.summary.trim_end().to_string(),
        objects,
        evidence: h
            .objects
            .iter()
            .take(12)
            .map(|(o, f)| {
                let mut e = ev(index, o, f.as_deref());
                e.focus_last = f.as_deref() == Some(BUNDLE_STATUS_END);
                e
            })
            .collect(),
        remediation: h.remediation,
        references,
    }
}

/// Evidence focus on a Fleet Bundle's last status key, looking back from it: the lines before
/// are the end of `status.summary` (a Bundle's first `summary:` is a partition's).
const BUNDLE_STATUS_END: &str = "unavailablePartitions:";

/// Never called: the engine reports a rule with a live input as `not_evaluated`.
fn live<'a>(_: &Context<'a>) -> Vec<Hit<'a>> {
    Vec::new()
}

// ---------------------------------------------------------------- shared helpers

fn tree(o: &Object) -> Option<&Tree> {
    match &o.view {
        View::Tree(t) => Some(t),
        _ => None,
    }
}

/// `ns/name`, or `name` when cluster-scoped.
fn full(o: &Object) -> String {
    if o.key.namespace.is_empty() {
        o.key.name.clone()
    } else {
        format!("{}/{}", o.key.namespace, o.key.name)
    }
}

fn running(cx: &Context) -> Option<Version> {
    cx.harvester_version().map(|(v, _)| v)
}

fn of_kind<'a>(index: &'a Index, group: &str, kind: &str) -> Vec<&'a Object> {
    index.of_kind(group, kind).collect()
}

fn in_ns<'a>(index: &'a Index, group: &str, kind: &str, ns: &str) -> Vec<&'a Object> {
    index
        .of_kind(group, kind)
        .filter(|o| o.key.namespace == ns)
        .collect()
}

/// A Harvester (cluster-scoped) or Longhorn (longhorn-system) Setting.
fn setting_obj<'a>(index: &'a Index, group: &str, name: &str) -> Option<&'a Object> {
    let ns = if group == "longhorn.io" {
        "longhorn-system"
    } else {
        ""
    };
    index.find(group, "Setting", ns, name)
}

/// The value in effect (`value`, else `default`), `None` when unset or empty.
fn effective(o: &Object) -> Option<&str> {
    match &o.view {
        View::Setting(s) => s.effective().map(str::trim).filter(|v| !v.is_empty()),
        _ => None,
    }
}

fn json(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// A boolean that may be written as a string.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// [`truthy`] for a value of a tree.
fn truthy_node(v: Option<&Node>) -> bool {
    match v {
        Some(Node::Bool(b)) => *b,
        Some(Node::Str(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn opt(v: Option<i64>) -> String {
    v.map(|n| n.to_string())
        .unwrap_or_else(|| "(absent)".into())
}

/// `status.kubernetesStatus` PVC of a Longhorn volume.
fn pvc_of(t: &Tree) -> Option<String> {
    Some(format!(
        "{}/{}",
        t.str("/status/kubernetesStatus/namespace")?,
        t.str("/status/kubernetesStatus/pvcName")?
    ))
}

fn with_pvc(o: &Object) -> String {
    match tree(o).and_then(pvc_of) {
        Some(p) => format!("{} (PVC {p})", o.key.name),
        None => o.key.name.clone(),
    }
}

// ---------------------------------------------------------------- the rules

const RES: Input = Input::Resources;

static CHECKS: &[Check] = &[
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.host",
            title: "Pre-check #1 Host: the script runs on a control-plane node",
            description: "check_host compares `hostname` of the machine running the script with \
                the nodes labelled node-role.kubernetes.io/control-plane=true and prompts when it \
                is not one of them (skipped with -y). It is about where the script runs, not \
                about the cluster, so a bundle cannot answer it.",
            inputs: &[Input::Live(
                "the hostname of the machine running check.sh, compared with the control-plane \
                 nodes",
            )],
            versions: "all (check.sh v1.x)",
        },
        eval: live,
        refs: &[],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.certificates",
            title: "Pre-check #2 Certificates: RKE2 certificates on the node not expired or expiring",
            description: "check_certs runs `openssl x509 -checkend` on every \
                /var/lib/rancher/rke2/server/tls/**/*.crt of the node it runs on: an expired \
                certificate fails, one expiring within 10 days (864000 s) is a warning. Fix: \
                bump spec.rkeConfig.rotateCertificates.generation of \
                clusters.provisioning.cattle.io local -n fleet-local (or enable setting \
                auto-rotate-rke2-certs); issue #3863. Support bundles do not hold the \
                certificate files.",
            inputs: &[Input::Live(
                "the certificate files /var/lib/rancher/rke2/server/tls/**/*.crt on a \
                 control-plane node (openssl x509 -checkend 0 / 864000)",
            )],
            versions: "all (check.sh v1.x)",
        },
        eval: live,
        refs: &["https://github.com/harvester/harvester/issues/3863"],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.node-free-space",
            title: "Pre-check #3 Node-Free-Space: room for the new images on every node",
            description: "check_free_space reads each node's kubelet stats \
                (/api/v1/nodes/<n>/proxy/stats/summary: node.fs.usedBytes, capacityBytes) and \
                fails when (used + 13958643712 B) / capacity > 0.85 — the webhook's image-GC \
                check (C18) with a fixed 85 % threshold. Kubelet stats are not in a bundle (the \
                upgrade.admission C17/C18 findings give the DiskPressure proxy); run `df -h \
                /usr/local` on each node.",
            inputs: &[Input::Live(
                "kubelet /stats/summary of every node (node.fs.usedBytes, node.fs.capacityBytes)",
            )],
            versions: "all (check.sh v1.x)",
        },
        eval: live,
        refs: &[],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.helm-bundles",
            title: "Pre-check #4 Helm-Bundles: every Helm bundle but mcc-harvester has a ready deployment",
            description: "check_bundles lists bundles.fleet.cattle.io in all namespaces and fails \
                when a bundle other than mcc-harvester with spec.helm set has \
                status.summary.ready == 0 (an absent counter is not 0). The index does not keep \
                a Bundle's spec.helm: a bundle counts as a Helm bundle when its name starts \
                with mcc- or it names a chart or release.",
            inputs: &[RES, Input::Resource("fleet.cattle.io", "bundles")],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_helm_bundles,
        refs: &["https://fleet.rancher.io/ref-status-fields"],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.harvester-bundle",
            title: "Pre-check #5 Harvester-Bundles: mcc-harvester summary exactly {desiredReady: 1, ready: 1}",
            description: "check_harvester_bundle diffs status.summary of \
                bundles.fleet.cattle.io/mcc-harvester -n fleet-local against exactly \
                {desiredReady: 1, ready: 1}: any other key (modified, notReady, \
                nonReadyResources, … even at 0) or another value fails, and so does a missing \
                bundle.",
            inputs: &[RES, Input::Resource("fleet.cattle.io", "bundles")],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_harvester_bundle,
        refs: &[
            "https://fleet.rancher.io/ref-status-fields",
            "https://github.com/harvester/harvester/issues/7454",
        ],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.node-status",
            title: "Pre-check #6 Node-Status: nodes schedulable and Ready, witness rules, Longhorn eviction",
            description: "check_nodes fails on any Node with spec.unschedulable: true (cordoned \
                or in maintenance) and any Node without a Ready=True condition; of the witness \
                nodes (label node-role.harvesterhci.io/witness=true) there may be at most one and \
                each must carry the taint node-role.kubernetes.io/etcd=true:NoExecute. When the \
                running version is v1.4.x it also fails on nodes.longhorn.io with \
                spec.evictionRequested: true or a disk with spec.disks.<d>.evictionRequested: \
                true (longhorn-manager crash, issue #7717 / longhorn#10464).",
            inputs: &[RES, Input::Resource("", "nodes")],
            versions: "all; the Longhorn eviction part only when the running version is v1.4.x \
                (not run when the version is unknown)",
        },
        eval: eval_node_status,
        refs: &[
            "https://github.com/harvester/harvester/issues/7717",
            "https://longhorn.io/kb/troubleshooting-longhorn-manager-crashes-due-to-backing-image-eviction/",
        ],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.capi-cluster-state",
            title: "Pre-check #7 CAPI-Cluster-State: clusters.cluster.x-k8s.io fleet-local/local is Provisioned",
            description: "check_cluster reads status.phase of the CAPI Cluster fleet-local/local \
                and fails unless it is Provisioned (a missing cluster fails too).",
            inputs: &[RES, Input::Resource("cluster.x-k8s.io", "clusters")],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_capi_cluster_state,
        refs: &[
            TROUBLESHOOTING,
            "https://github.com/harvester/harvester/issues/3863",
        ],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.capi-cluster-pause",
            title: "Pre-check #8 CAPI-Cluster-Pause: fleet-local/local is not paused",
            description: "check_cluster_pause fails when spec.paused of the CAPI Cluster \
                fleet-local/local is true: the upgrade stalls until spec.paused is cleared.",
            inputs: &[RES, Input::Resource("cluster.x-k8s.io", "clusters")],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_capi_cluster_pause,
        refs: &[],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.capi-machine-count",
            title: "Pre-check #9 CAPI-Machine-Count: as many CAPI machines in fleet-local as nodes",
            description: "check_machines compares the number of machines.cluster.x-k8s.io in \
                fleet-local with the number of Nodes and fails when they differ (orphan \
                machines of removed or reinstalled nodes, issues #6253, #6095, #8236).",
            inputs: &[
                RES,
                Input::Resource("cluster.x-k8s.io", "machines"),
                Input::Resource("", "nodes"),
            ],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_capi_machine_count,
        refs: &[
            "https://github.com/harvester/harvester/issues/6253",
            "https://github.com/harvester/harvester/issues/8236",
        ],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.capi-machine-state",
            title: "Pre-check #10 CAPI-Machine-State: every CAPI machine in fleet-local is Running",
            description: "check_machines fails on every machines.cluster.x-k8s.io in fleet-local \
                whose status.phase is not Running.",
            inputs: &[RES, Input::Resource("cluster.x-k8s.io", "machines")],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_capi_machine_state,
        refs: &[
            TROUBLESHOOTING,
            "https://github.com/harvester/harvester/issues/6253",
        ],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.longhorn-volume-health",
            title: "Pre-check #11 Longhorn-Volume-Health-Status: no single-replica or degraded volume",
            description: "check_volumes (skipped on 1-node clusters) takes the volume of every \
                engines.longhorn.io (label longhornvolume): spec.numberOfReplicas == 1 fails \
                (running: it blocks the node drain; detached: potential data integrity \
                concerns); otherwise a volume whose status.robustness is not healthy fails — \
                unless it is detached and has at least spec.numberOfReplicas \
                replicas.longhorn.io labelled longhornvolume=<volume>.",
            inputs: &[
                RES,
                Input::Resource("", "nodes"),
                Input::Resource("longhorn.io", "engines"),
                Input::Resource("longhorn.io", "volumes"),
                Input::Resource("longhorn.io", "replicas"),
            ],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_volume_health,
        refs: &[
            TROUBLESHOOTING,
            "https://github.com/harvester/harvester/issues/6425",
        ],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.stale-longhorn-volumes",
            title: "Pre-check #12 Stale-Longhorn-Volumes: no attached volume without a running workload",
            description: "check_attached_volumes fails on every volumes.longhorn.io with \
                status.state attached whose status.kubernetesStatus.workloadsStatus is empty or \
                has no entry with podStatus Running (issue #3648): such a volume stays attached \
                and holds the node drain.",
            inputs: &[RES, Input::Resource("longhorn.io", "volumes")],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_stale_volumes,
        refs: &[
            TROUBLESHOOTING,
            "https://github.com/harvester/harvester/issues/3648",
        ],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.longhorn-backing-images",
            title: "Pre-check #13 Longhorn-Backing-Images: enough copies of every backing image",
            description: "check_images (Harvester v1.4.0 and later only) reads \
                spec.minNumberOfCopies of every backingimages.longhorn.io: 0 fails, 1 or 2 is a \
                warning (a backing image with too few copies can be lost while nodes are \
                drained and rebooted). An absent field is not judged. Below v1.4.0 the rule \
                returns nothing.",
            inputs: &[
                RES,
                Input::HarvesterVersion,
                Input::Resource("longhorn.io", "backingimages"),
            ],
            versions: "v1.4.0+ (nothing below)",
        },
        eval: eval_backing_images,
        refs: &[],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.virtual-machines",
            title: "Pre-check #14 Virtual-Machines: no running VM that cannot live-migrate",
            description: "check_virtual_machines_live_migration reads setting upgrade-config \
                (restoreVM) and every virtualmachines.kubevirt.io whose status.printableStatus \
                is not Stopped: unless restoreVM is true, a VM with a cdrom disk in \
                spec.template.spec.domain.devices.disks[] or with \
                spec.template.spec.domain.devices.hostDevices fails (it cannot live-migrate off \
                a node being drained).",
            inputs: &[RES, Input::Resource("kubevirt.io", "virtualmachines")],
            versions: "all (check.sh v1.x; restoreVM exists from v1.6.0)",
        },
        eval: eval_virtual_machines,
        refs: &[TROUBLESHOOTING],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.pod-status",
            title: "Pre-check #15 Pod-Status: no pod with Ready=False (except completed ones)",
            description: "check_error_pods fails on every Pod with a condition Ready=False whose \
                reason is not PodCompleted (pods of finished Jobs are exempt; a pod without a \
                Ready condition is not flagged).",
            inputs: &[RES, Input::Resource("", "pods")],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_pod_status,
        refs: &[],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.kubeconfig-secret",
            title: "Pre-check #16 Kubeconfig Secret: local-kubeconfig carries cluster.x-k8s.io/cluster-name=local",
            description: "check_kubeconfig_secret lists secrets -n fleet-local -l \
                cluster.x-k8s.io/cluster-name=local and fails unless local-kubeconfig is among \
                them: without the label capi-controller-manager gets Unauthorized and the \
                upgrade stalls (v1.2.2/v1.3.0 → v1.3.1 known issue, #6041). Support bundles \
                usually hold no Secrets, or only fleet-local machine-plan secrets; then the \
                check cannot be judged and an informational finding says so.",
            inputs: &[RES, Input::Resource("", "secrets")],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_kubeconfig_secret,
        refs: &[
            "https://docs.harvesterhci.io/v1.3/upgrade/v1-2-2-to-v1-3-1#known-issues",
            "https://github.com/harvester/harvester/issues/6041",
        ],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.backup-target",
            title: "Pre-check #17 Backup-Target: refreshIntervalInSeconds set on a configured backup target",
            description: "check_backup_target (only when running v1.4.1 or v1.4.2) parses the \
                effective value of setting backup-target: when `type` is set, \
                refreshIntervalInSeconds must be > 0, otherwise Harvester refreshes the target \
                constantly after the upgrade (high CPU, docs v1.4.1→v1.4.2 known issue 1, \
                #7885). Other versions: nothing.",
            inputs: &[
                RES,
                Input::HarvesterVersion,
                Input::Resource("harvesterhci.io", "settings"),
            ],
            versions: "v1.4.1 and v1.4.2 only (nothing on other versions)",
        },
        eval: eval_backup_target,
        refs: &[
            "https://docs.harvesterhci.io/v1.4/upgrade/v1-4-1-to-v1-4-2",
            "https://github.com/harvester/harvester/issues/7885",
        ],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.storage-network-ip",
            title: "Pre-check #18 Storage-Network-IP-Availability: free storage-network IPs for the new Longhorn managers",
            description: "check_storage_network_ip_availability (when setting storage-network \
                has an effective value) counts the free IPv4 addresses of its range — CIDR size \
                minus network and broadcast, minus the `exclude` CIDRs, minus the allocations of \
                the Whereabouts IPPool kube-system/<range with dashes> — and fails when they are \
                fewer than instancemanagers.longhorn.io + backingimagemanagers.longhorn.io (+1 \
                when RWX volumes share the storage network: rwx-network \
                share-storage-network on v1.8+, else Longhorn setting \
                storage-network-for-rwx-volume-enabled). sbdiag reads an IPPool's \
                spec.allocations only when the index keeps IPPools whole (a JSON tree); \
                otherwise it counts Whereabouts' OverlappingRangeIPReservations in the range \
                (one per allocation), else the addresses in the range in the pods' \
                k8s.v1.cni.cncf.io/network-status annotations — a lower bound, so a pass on it \
                is reported as an informational finding. Each finding says which source it \
                used.",
            inputs: &[
                RES,
                Input::Resource("harvesterhci.io", "settings"),
                Input::Resource("longhorn.io", "instancemanagers"),
            ],
            versions: "all (check.sh v1.x)",
        },
        eval: eval_storage_network_ip,
        refs: &["https://docs.harvesterhci.io/v1.4/advanced/storagenetwork"],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.rwx-network-ip",
            title: "Pre-check #19 RWX-Network-IP-Availability: a free IP on the dedicated RWX network",
            description: "check_rwx_network_ip_availability (v1.8.0 and later, when setting \
                rwx-network has a dedicated `network`, i.e. share-storage-network is not true) \
                counts the free IPv4 addresses of that network's range the same way as \
                storage-network-ip and fails when none is left for the upgrade repository's RWX \
                volume. Below v1.8.0: nothing.",
            inputs: &[
                RES,
                Input::HarvesterVersion,
                Input::Resource("harvesterhci.io", "settings"),
            ],
            versions: "v1.8.0+ (nothing below)",
        },
        eval: eval_rwx_network_ip,
        refs: &[],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.network-config",
            title: "Pre-check #20 Network-Config: OEM network configuration in the layout the upgrade expects",
            description: "Only when the running version is v1.6.x: a DaemonSet \
                upgrade-helper-network-config-check reads each node's /oem/90_custom.yaml, \
                /oem/99_custom.yaml and /oem/harvester.config. /oem/90_custom.yaml must exist \
                (systems installed with v1.0 have 99_custom.yaml and need it renamed), and \
                harvester.config must set install.managementinterface (or \
                install.management_interface) and not use the old install.networks schema. Node \
                bundles do not contain /oem.",
            inputs: &[Input::Live(
                "/oem/90_custom.yaml, /oem/99_custom.yaml and /oem/harvester.config on every node \
                 (the check runs only when the running version is v1.6.x)",
            )],
            versions: "v1.6.x only",
        },
        eval: live,
        refs: &[],
    },
    Check {
        info: RuleInfo {
            id: "upgrade.precheck.cos-state-size",
            title: "Pre-check #21 COS_STATE-Size: the COS_STATE partition can hold the v1.8 OS image",
            description: "Only when the running version is v1.7.x: a DaemonSet runs `df \
                /run/initramfs/cos-state/` on every node; a partition smaller than 15 GB is an \
                error — upgrading to Harvester v1.8.x would result in a corrupt OS image (issue \
                #10687).",
            inputs: &[Input::Live(
                "the size of /run/initramfs/cos-state on every node (df; the check runs only when \
                 the running version is v1.7.x)",
            )],
            versions: "v1.7.x only",
        },
        eval: live,
        refs: &["https://github.com/harvester/harvester/issues/10687"],
    },
];

// ---------------------------------------------------------------- #4 helm-bundles

/// Whether a Bundle deploys a Helm chart: `spec.helm` is not indexed, so a ManagedChart
/// bundle (`mcc-*`) or one naming a chart or release.
fn is_helm_bundle(o: &Object) -> bool {
    o.key.name.starts_with("mcc-")
        || matches!(&o.view, View::Fleet(f) if f.chart.is_some() || f.release_name.is_some())
}

/// `desiredReady: 1, ready: 0, notReady: 1, nonReadyResources: [local NotReady]`.
fn summary_text(s: &BundleSummary) -> String {
    let mut parts: Vec<String> = [
        ("desiredReady", s.desired_ready),
        ("ready", s.ready),
        ("notReady", s.not_ready),
        ("waitApplied", s.wait_applied),
        ("errApplied", s.err_applied),
        ("outOfSync", s.out_of_sync),
        ("modified", s.modified),
        ("pending", s.pending),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|n| format!("{k}: {n}")))
    .collect();
    if !s.non_ready_resources.is_empty() {
        parts.push(format!(
            "nonReadyResources: [{}]",
            s.non_ready_resources
                .iter()
                .map(|r| format!("{} {}", r.name, r.bundle_state))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if parts.is_empty() {
        "(empty)".into()
    } else {
        format!("{{{}}}", parts.join(", "))
    }
}

fn ready_condition(o: &Object) -> String {
    match condition(&o.status.conditions, "Ready") {
        Some(c) => format!(
            "Ready={}{}",
            c.status,
            c.message
                .as_deref()
                .map(|m| format!(" ({})", crate::text::one_line(m, 300)))
                .unwrap_or_default()
        ),
        None => "no Ready condition".into(),
    }
}

fn force_sync(o: &Object) -> String {
    let next = match &o.view {
        View::Fleet(f) => f.force_sync_generation.unwrap_or(0) + 1,
        _ => 1,
    };
    format!(
        "kubectl -n {} patch bundles.fleet.cattle.io {} --type merge -p \
         '{{\"spec\":{{\"forceSyncGeneration\":{next}}}}}'",
        o.key.namespace, o.key.name
    )
}

fn helm_bundles<'a>(bundles: &[&'a Object]) -> Vec<Hit<'a>> {
    bundles
        .iter()
        .filter(|b| b.key.name != "mcc-harvester" && is_helm_bundle(b))
        .filter_map(|b| {
            let View::Fleet(f) = &b.view else {
                return None;
            };
            if f.summary.ready != Some(0) {
                return None;
            }
            let chart = f
                .chart
                .as_deref()
                .map(|c| format!(" (chart {c})"))
                .unwrap_or_default();
            let mut summary = String::new();
            let _ = writeln!(
                summary,
                "Bundle {}{chart} records status.summary {}; {}.",
                full(b),
                summary_text(&f.summary),
                ready_condition(b)
            );
            let _ = writeln!(
                summary,
                "check_bundles fails on a Helm bundle other than mcc-harvester whose \
                 status.summary.ready is 0; it prints \"There are non-ready Helm bundles:\" with \
                 {} and Helm-Bundles Test: Failed.",
                full(b)
            );
            Some(Hit {
                aspect: full(b),
                severity: Severity::Error,
                title: format!(
                    "Helm bundle {} has no ready deployment (status.summary.ready: 0)",
                    full(b)
                ),
                summary,
                objects: vec![(*b, Some(BUNDLE_STATUS_END.into()))],
                remediation: format!(
                    "See the fleet.* findings for {}: they tell a stale status (force a \
                     re-evaluation: {}), a drift (revert it, or add a comparePatches entry on \
                     the ManagedChart) and a resource really not ready (fix it).{}",
                    b.key.name,
                    force_sync(b),
                    b.key
                        .name
                        .strip_prefix("mcc-")
                        .map(|c| format!(
                            " The bundle is generated from ManagedChart {}/{c}: make value and \
                                 comparePatches changes there.",
                            b.key.namespace
                        ))
                        .unwrap_or_default()
                ),
            })
        })
        .collect()
}

fn eval_helm_bundles<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    helm_bundles(&of_kind(cx.index, "fleet.cattle.io", "Bundle"))
}

// ---------------------------------------------------------------- #5 harvester-bundle

/// How a summary differs from exactly `{desiredReady: 1, ready: 1}`.
fn summary_deviations(s: &BundleSummary) -> Vec<String> {
    let mut d = Vec::new();
    if s.desired_ready != Some(1) {
        d.push(format!("desiredReady is {}", opt(s.desired_ready)));
    }
    if s.ready != Some(1) {
        d.push(format!("ready is {}", opt(s.ready)));
    }
    for (k, v) in [
        ("notReady", s.not_ready),
        ("waitApplied", s.wait_applied),
        ("errApplied", s.err_applied),
        ("outOfSync", s.out_of_sync),
        ("modified", s.modified),
        ("pending", s.pending),
    ] {
        if let Some(n) = v {
            d.push(format!("extra key {k}: {n}"));
        }
    }
    if !s.non_ready_resources.is_empty() {
        d.push(format!(
            "extra key nonReadyResources ({})",
            s.non_ready_resources
                .iter()
                .map(|r| {
                    let mut t = format!("{} {}", r.name, r.bundle_state);
                    if let Some(m) = &r.message {
                        let _ = write!(t, ": {}", crate::text::one_line(m, 200));
                    }
                    t
                })
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    d
}

fn harvester_bundle(b: Option<&Object>) -> Vec<Hit<'_>> {
    let Some(b) = b else {
        return vec![Hit {
            aspect: "fleet-local/mcc-harvester".into(),
            severity: Severity::Error,
            title: "Bundle fleet-local/mcc-harvester is missing".into(),
            summary: "The bundle has no bundles.fleet.cattle.io fleet-local/mcc-harvester: \
                      the summary check_harvester_bundle compares is empty, so it prints \
                      \"Harvester bundle is not ready!\" and Harvester-Bundles Test: Failed."
                .into(),
            objects: Vec::new(),
            remediation: "Rancher generates this Bundle from ManagedChart fleet-local/harvester: \
                          check that the ManagedChart exists and the Rancher pods in \
                          cattle-system run (their logs say why the bundle is not created)."
                .into(),
        }];
    };
    let View::Fleet(f) = &b.view else {
        return Vec::new();
    };
    let dev = summary_deviations(&f.summary);
    let Some(first) = dev.first() else {
        return Vec::new();
    };
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "Bundle fleet-local/mcc-harvester records status.summary {}; {}.",
        summary_text(&f.summary),
        ready_condition(b)
    );
    let _ = writeln!(summary, "Differences from {{desiredReady: 1, ready: 1}}:");
    for d in &dev {
        let _ = writeln!(summary, "  - {d}");
    }
    let _ = writeln!(
        summary,
        "check_harvester_bundle diffs the whole summary against exactly {{desiredReady: 1, \
         ready: 1}} — any other key fails, even a zero counter — and prints \"Harvester bundle \
         is not ready!\" with Harvester-Bundles Test: Failed."
    );
    vec![Hit {
        aspect: "fleet-local/mcc-harvester".into(),
        severity: Severity::Error,
        title: format!(
            "Bundle fleet-local/mcc-harvester summary is not exactly {{desiredReady: 1, ready: \
             1}}: {first}{}",
            if dev.len() > 1 {
                format!(" (+{} more)", dev.len() - 1)
            } else {
                String::new()
            }
        ),
        summary,
        objects: vec![(b, Some(BUNDLE_STATUS_END.into()))],
        remediation: format!(
            "Make mcc-harvester Ready again; the fleet.* findings say why it is not. A stale \
             status: force Fleet to re-evaluate it ({}). Drift (Modified): revert the object to \
             the chart's values, apply missing CRDs of the release, or add a comparePatches entry \
             on ManagedChart fleet-local/harvester. A resource really not ready: fix it.",
            force_sync(b)
        ),
    }]
}

fn eval_harvester_bundle<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    harvester_bundle(
        cx.index
            .find("fleet.cattle.io", "Bundle", "fleet-local", "mcc-harvester"),
    )
}

// ---------------------------------------------------------------- #6 node-status

const WITNESS_LABEL: &str = "node-role.harvesterhci.io/witness";

fn is_witness(o: &Object) -> bool {
    o.meta.labels.get(WITNESS_LABEL).map(String::as_str) == Some("true")
}

fn node_status<'a>(nodes: &[&'a Object]) -> Vec<Hit<'a>> {
    let mut hits = Vec::new();
    for n in nodes {
        let name = &n.key.name;
        if let View::Node(v) = &n.view
            && v.unschedulable
        {
            let maint = n.meta.annotations.get("harvesterhci.io/maintain-status");
            hits.push(Hit {
                aspect: format!("{name}:unschedulable"),
                severity: Severity::Error,
                title: format!(
                    "Node {name} is unschedulable ({})",
                    if maint.is_some() {
                        "in maintenance mode"
                    } else {
                        "cordoned"
                    }
                ),
                summary: format!(
                    "Node {name} has spec.unschedulable: true{}. check_nodes prints \"There are \
                     unschedulable nodes:\" with {name}; Node-Status Test: Failed.",
                    maint
                        .map(|m| format!(" and annotation harvesterhci.io/maintain-status: {m}"))
                        .unwrap_or_default()
                ),
                objects: vec![(*n, Some("unschedulable".into()))],
                remediation: if maint.is_some() {
                    format!(
                        "Take {name} out of maintenance mode (UI: Hosts → {name} → Disable \
                         Maintenance Mode) before upgrading."
                    )
                } else {
                    format!("Uncordon the node before upgrading: kubectl uncordon {name}")
                },
            });
        }
        let ready = condition(&n.status.conditions, "Ready");
        if ready.is_none_or(|c| c.status != "True") {
            let state = match ready {
                Some(c) => format!(
                    "Ready={}{}{}{}",
                    c.status,
                    c.reason
                        .as_deref()
                        .map(|r| format!(", reason {r}"))
                        .unwrap_or_default(),
                    c.message
                        .as_deref()
                        .map(|m| format!(": {}", crate::text::one_line(m, 200)))
                        .unwrap_or_default(),
                    c.last_transition_time
                        .as_deref()
                        .map(|t| format!(" (since {t})"))
                        .unwrap_or_default()
                ),
                None => "no Ready condition".into(),
            };
            hits.push(Hit {
                aspect: format!("{name}:not-ready"),
                severity: Severity::Error,
                title: format!("Node {name} is not Ready ({state})"),
                summary: format!(
                    "Node {name}: {state}. check_nodes requires a Ready=True condition on every \
                     node and prints \"Node {name} is not ready!\"; Node-Status Test: Failed."
                ),
                objects: vec![(*n, Some("type: Ready".into()))],
                remediation: format!(
                    "Bring {name} back to Ready before upgrading: see `sbdiag describe node \
                     {name}` and the kubelet and rke2 logs in its node bundle."
                ),
            });
        }
    }
    let witnesses: Vec<&'a Object> = nodes.iter().copied().filter(|n| is_witness(n)).collect();
    if witnesses.len() > 1 {
        let names: Vec<&str> = witnesses.iter().map(|w| w.key.name.as_str()).collect();
        hits.push(Hit {
            aspect: "witness-count".into(),
            severity: Severity::Error,
            title: format!(
                "{} witness nodes ({}): a cluster may have at most one",
                witnesses.len(),
                names.join(", ")
            ),
            summary: format!(
                "Nodes labelled {WITNESS_LABEL}=true: {}. check_nodes allows at most one witness \
                 node; Node-Status Test: Failed.",
                names.join(", ")
            ),
            objects: witnesses
                .iter()
                .map(|w| (*w, Some(WITNESS_LABEL.to_string())))
                .collect(),
            remediation: "Keep a single witness node: remove the extra ones from the cluster and \
                          rejoin them as regular (management or worker) nodes."
                .into(),
        });
    }
    for w in &witnesses {
        let name = &w.key.name;
        let tainted = matches!(&w.view, View::Node(v) if v.taints.iter().any(|t| {
            t.key == "node-role.kubernetes.io/etcd"
                && t.value.as_deref() == Some("true")
                && t.effect == "NoExecute"
        }));
        if tainted {
            continue;
        }
        let taints = match &w.view {
            View::Node(v) if !v.taints.is_empty() => v
                .taints
                .iter()
                .map(|t| {
                    format!(
                        "{}={}:{}",
                        t.key,
                        t.value.as_deref().unwrap_or(""),
                        t.effect
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => "none".into(),
        };
        hits.push(Hit {
            aspect: format!("{name}:witness-taint"),
            severity: Severity::Error,
            title: format!(
                "Witness node {name} lacks the taint node-role.kubernetes.io/etcd=true:NoExecute"
            ),
            summary: format!(
                "Node {name} is a witness node ({WITNESS_LABEL}=true); its taints: {taints}. \
                 check_nodes requires node-role.kubernetes.io/etcd=true:NoExecute on a witness \
                 node, which keeps workloads off it; Node-Status Test: Failed."
            ),
            objects: vec![(
                *w,
                Some(if taints == "none" {
                    WITNESS_LABEL.to_string()
                } else {
                    "taints:".to_string()
                }),
            )],
            remediation: format!(
                "Restore the witness taint: kubectl taint node {name} \
                 node-role.kubernetes.io/etcd=true:NoExecute"
            ),
        });
    }
    hits
}

/// Longhorn nodes (v1.4.x only) with eviction requested on the node or one of its disks.
fn eviction<'a>(lh_nodes: &[&'a Object]) -> Vec<Hit<'a>> {
    lh_nodes
        .iter()
        .filter_map(|n| {
            let t = tree(n)?;
            let node_level = truthy_node(t.at("/spec/evictionRequested"));
            let disks: Vec<&std::sync::Arc<str>> = t
                .at("/spec/disks")
                .and_then(Node::as_object)
                .map(|m| {
                    m.iter()
                        .filter(|(_, d)| truthy_node(d.get("evictionRequested")))
                        .map(|(k, _)| k)
                        .collect()
                })
                .unwrap_or_default();
            if !node_level && disks.is_empty() {
                return None;
            }
            let name = &n.key.name;
            let mut what = Vec::new();
            if node_level {
                what.push("spec.evictionRequested: true".to_string());
            }
            for d in &disks {
                what.push(format!("spec.disks.{d}.evictionRequested: true"));
            }
            let mut fix = String::new();
            if node_level {
                let _ = writeln!(
                    fix,
                    "kubectl -n longhorn-system patch nodes.longhorn.io {name} --type merge -p \
                     '{{\"spec\":{{\"evictionRequested\":false}}}}'"
                );
            }
            for d in &disks {
                let _ = writeln!(
                    fix,
                    "kubectl -n longhorn-system patch nodes.longhorn.io {name} --type json -p \
                     '[{{\"op\":\"replace\",\"path\":\"/spec/disks/{d}/evictionRequested\",\
                     \"value\":false}}]'"
                );
            }
            Some(Hit {
                aspect: format!("{name}:eviction-requested"),
                severity: Severity::Error,
                title: format!(
                    "Longhorn node {name} has eviction requested ({})",
                    what.join(", ")
                ),
                summary: format!(
                    "nodes.longhorn.io longhorn-system/{name}: {}. On Harvester v1.4.x \
                     (Longhorn v1.7) an eviction request makes longhorn-manager crash during the \
                     upgrade (issue #7717, longhorn#10464); check_longhorn_eviction_status \
                     reports it as an ERROR and Node-Status fails.",
                    what.join(", ")
                ),
                objects: vec![(*n, Some("evictionRequested: true".into()))],
                remediation: format!(
                    "Let the eviction finish or cancel it, and set evictionRequested to false \
                     before starting the upgrade (Longhorn UI → Node → Edit node and disks → \
                     Eviction Requested: False), or:\n{}",
                    fix.trim_end()
                ),
            })
        })
        .collect()
}

fn eval_node_status<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    let mut hits = node_status(&of_kind(cx.index, "", "Node"));
    if running(cx).is_some_and(|v| v.minor() == Some((1, 4))) {
        if cx.collected("longhorn.io", "nodes") {
            hits.extend(eviction(&in_ns(
                cx.index,
                "longhorn.io",
                "Node",
                "longhorn-system",
            )));
        } else {
            hits.push(Hit {
                aspect: "longhorn-eviction:not-evaluated".into(),
                severity: Severity::Info,
                title: "Longhorn eviction check of Node-Status not evaluated: nodes.longhorn.io \
                        not collected"
                    .into(),
                summary: "On v1.4.x check_nodes also fails on Longhorn nodes or disks with \
                          evictionRequested: true; the bundle has no nodes.longhorn.io list."
                    .into(),
                objects: Vec::new(),
                remediation: "On the cluster: kubectl -n longhorn-system get nodes.longhorn.io \
                              -o yaml | grep evictionRequested"
                    .into(),
            });
        }
    }
    hits
}

// ---------------------------------------------------------------- #7, #8 CAPI cluster

fn capi_cluster<'a>(cx: &Context<'a>) -> Option<&'a Object> {
    cx.index
        .find("cluster.x-k8s.io", "Cluster", "fleet-local", "local")
}

const CAPI_FIX: &str = "Wait until CAPI cluster fleet-local/local is Provisioned. If it stays \
    Provisioning: check expired RKE2 certificates (bump spec.rkeConfig.rotateCertificates.generation \
    of clusters.provisioning.cattle.io local -n fleet-local, or enable setting \
    auto-rotate-rke2-certs), that secret fleet-local/local-kubeconfig carries the label \
    cluster.x-k8s.io/cluster-name=local, that spec.paused is not set, and the \
    capi-controller-manager logs (cattle-provisioning-capi-system); restarting that deployment \
    often unsticks it.";

fn capi_cluster_state(c: Option<&Object>) -> Vec<Hit<'_>> {
    let Some(c) = c else {
        return vec![Hit {
            aspect: "fleet-local/local".into(),
            severity: Severity::Error,
            title: "CAPI Cluster fleet-local/local is missing".into(),
            summary: "The bundle has no clusters.cluster.x-k8s.io fleet-local/local: \
                      check_cluster reads an empty phase and prints \"Cluster is not provisioned \
                      ()\"; CAPI-Cluster-State Test: Failed."
                .into(),
            objects: Vec::new(),
            remediation: CAPI_FIX.into(),
        }];
    };
    let phase = tree(c).and_then(|t| t.str("/status/phase")).unwrap_or("");
    if phase == "Provisioned" {
        return Vec::new();
    }
    let shown = if phase.is_empty() { "empty" } else { phase };
    vec![Hit {
        aspect: "fleet-local/local".into(),
        severity: Severity::Error,
        title: format!("CAPI Cluster fleet-local/local is not Provisioned (phase {shown})"),
        summary: format!(
            "clusters.cluster.x-k8s.io fleet-local/local has status.phase {shown}. check_cluster \
             requires Provisioned and prints \"Cluster is not provisioned ({phase})\"; \
             CAPI-Cluster-State Test: Failed. The upgrade webhook denies the same (C8), and the \
             upgrade script waits on it."
        ),
        objects: vec![(c, Some("phase:".into()))],
        remediation: CAPI_FIX.into(),
    }]
}

fn eval_capi_cluster_state<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    capi_cluster_state(capi_cluster(cx))
}

fn capi_cluster_pause(c: Option<&Object>) -> Vec<Hit<'_>> {
    let Some(c) = c else { return Vec::new() };
    if !tree(c).is_some_and(|t| truthy_node(t.at("/spec/paused"))) {
        return Vec::new();
    }
    vec![Hit {
        aspect: "fleet-local/local".into(),
        severity: Severity::Error,
        title: "CAPI Cluster fleet-local/local is paused (spec.paused: true)".into(),
        summary: "clusters.cluster.x-k8s.io fleet-local/local has spec.paused: true: CAPI does \
                  not reconcile it, so the upgrade will stall until spec.paused is cleared; \
                  CAPI-Cluster-Pause Test: Failed."
            .into(),
        objects: vec![(c, Some("paused:".into()))],
        remediation: "Clear spec.paused before upgrading: kubectl -n fleet-local patch \
                      clusters.cluster.x-k8s.io local --type merge -p \
                      '{\"spec\":{\"paused\":false}}'"
            .into(),
    }]
}

fn eval_capi_cluster_pause<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    capi_cluster_pause(capi_cluster(cx))
}

// ---------------------------------------------------------------- #9, #10 CAPI machines

const MACHINE_FIX: &str = "Delete orphan machines — ones whose node was removed or reinstalled — \
    after checking they have no node: kubectl -n fleet-local delete machines.cluster.x-k8s.io \
    <name> (issues #6253, #6095). A node without a machine must be reinstalled/rejoined.";

fn machine_node(m: &Object) -> Option<&str> {
    tree(m).and_then(|t| t.str("/status/nodeRef/name"))
}

fn capi_machine_count<'a>(machines: &[&'a Object], nodes: &[&'a Object]) -> Vec<Hit<'a>> {
    if machines.len() == nodes.len() {
        return Vec::new();
    }
    let node_names: BTreeSet<&str> = nodes.iter().map(|n| n.key.name.as_str()).collect();
    let referenced: BTreeSet<&str> = machines.iter().filter_map(|m| machine_node(m)).collect();
    let orphans: Vec<&'a Object> = machines
        .iter()
        .copied()
        .filter(|m| machine_node(m).is_none_or(|n| !node_names.contains(n)))
        .collect();
    let bare: Vec<&'a Object> = nodes
        .iter()
        .copied()
        .filter(|n| !referenced.contains(n.key.name.as_str()))
        .collect();
    let mut summary = format!(
        "fleet-local has {} and the cluster {}. check_machines requires equal counts and prints \
         \"CAPI machine count ({}) is not equal to node count ({})\"; CAPI-Machine-Count Test: \
         Failed.\n",
        plural(machines.len(), "CAPI machine", "CAPI machines"),
        plural(nodes.len(), "node", "nodes"),
        machines.len(),
        nodes.len()
    );
    for m in &orphans {
        let _ = writeln!(
            summary,
            "  - machine {} (phase {}) {}",
            m.key.name,
            tree(m)
                .and_then(|t| t.str("/status/phase"))
                .unwrap_or("(none)"),
            match machine_node(m) {
                Some(n) => format!("refers to node {n}, which does not exist"),
                None => "has no status.nodeRef".into(),
            }
        );
    }
    for n in &bare {
        let _ = writeln!(
            summary,
            "  - node {} is not the nodeRef of any machine",
            n.key.name
        );
    }
    let mut objects: Vec<(&'a Object, Option<String>)> = orphans
        .iter()
        .map(|m| (*m, Some("nodeRef".to_string())))
        .collect();
    objects.extend(bare.iter().map(|n| (*n, None)));
    vec![Hit {
        aspect: "count".into(),
        severity: Severity::Error,
        title: format!(
            "{} in fleet-local for {}",
            plural(machines.len(), "CAPI machine", "CAPI machines"),
            plural(nodes.len(), "node", "nodes")
        ),
        summary,
        objects,
        remediation: MACHINE_FIX.into(),
    }]
}

fn eval_capi_machine_count<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    capi_machine_count(
        &in_ns(cx.index, "cluster.x-k8s.io", "Machine", "fleet-local"),
        &of_kind(cx.index, "", "Node"),
    )
}

fn capi_machine_state<'a>(machines: &[&'a Object]) -> Vec<Hit<'a>> {
    machines
        .iter()
        .filter_map(|m| {
            let phase = tree(m).and_then(|t| t.str("/status/phase")).unwrap_or("");
            if phase == "Running" {
                return None;
            }
            let shown = if phase.is_empty() { "empty" } else { phase };
            let node = machine_node(m)
                .map(|n| format!("node {n}"))
                .unwrap_or_else(|| "no node".into());
            Some(Hit {
                aspect: full(m),
                severity: Severity::Error,
                title: format!("CAPI machine {} is not Running (phase {shown})", full(m)),
                summary: format!(
                    "machines.cluster.x-k8s.io {} has status.phase {shown} ({node}). \
                     check_machines prints \"CAPI machine {} phase is not 'Running' but is: \
                     {phase}.\"; CAPI-Machine-State Test: Failed. The upgrade webhook denies the \
                     same (C20).",
                    full(m),
                    m.key.name
                ),
                objects: vec![(*m, Some("phase:".into()))],
                remediation: format!(
                    "Find why the machine is not Running (capi-controller-manager logs in \
                     cattle-provisioning-capi-system). {MACHINE_FIX}"
                ),
            })
        })
        .collect()
}

fn eval_capi_machine_state<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    capi_machine_state(&in_ns(
        cx.index,
        "cluster.x-k8s.io",
        "Machine",
        "fleet-local",
    ))
}

// ---------------------------------------------------------------- #11 longhorn-volume-health

fn volume_health<'a>(
    node_count: usize,
    engines: &[&'a Object],
    volumes: &[&'a Object],
    replicas: &[&'a Object],
) -> Vec<Hit<'a>> {
    if node_count == 1 {
        return Vec::new();
    }
    let names: BTreeSet<&str> = engines
        .iter()
        .filter_map(|e| e.meta.labels.get("longhornvolume").map(String::as_str))
        .filter(|v| !v.is_empty())
        .collect();
    let mut hits = Vec::new();
    for name in names {
        let Some(v) = volumes.iter().copied().find(|v| v.key.name == name) else {
            continue;
        };
        let Some(t) = tree(v) else { continue };
        let wanted = t.int("/spec/numberOfReplicas");
        let state = t.str("/status/state").unwrap_or("");
        let robustness = t.str("/status/robustness").unwrap_or("");
        let label = with_pvc(v);
        if wanted == Some(1) {
            let detached = state == "detached";
            hits.push(Hit {
                aspect: format!("{name}:single-replica"),
                severity: Severity::Error,
                title: format!(
                    "Longhorn volume {label} has a single replica ({})",
                    if detached {
                        "detached: potential data integrity concerns"
                    } else {
                        "it will block the node drain"
                    }
                ),
                summary: format!(
                    "volumes.longhorn.io longhorn-system/{name}: spec.numberOfReplicas 1, state \
                     {state}, robustness {robustness}. check_volumes fails on every \
                     single-replica volume ({}); Longhorn-Volume-Health-Status Test: Failed. The \
                     upgrade webhook denies the same (C22/C23).",
                    if detached {
                        "detached: the upgrade may have potential data integrity concerns"
                    } else {
                        "running: it will block the node drain"
                    }
                ),
                objects: vec![(v, Some("numberOfReplicas:".into()))],
                remediation: format!(
                    "Raise the replica count (Longhorn UI, or kubectl -n longhorn-system patch \
                     volumes.longhorn.io {name} --type merge -p \
                     '{{\"spec\":{{\"numberOfReplicas\":3}}}}'), or shut down the workload \
                     using it before upgrading."
                ),
            });
            continue;
        }
        if robustness == "healthy" {
            continue;
        }
        if state == "detached" {
            let have = replicas
                .iter()
                .filter(|r| r.meta.labels.get("longhornvolume").map(String::as_str) == Some(name))
                .count();
            let want = wanted.unwrap_or(0);
            if i64::try_from(have).unwrap_or(i64::MAX) >= want {
                continue;
            }
            let mut objects: Vec<(&'a Object, Option<String>)> =
                vec![(v, Some("numberOfReplicas:".into()))];
            objects.extend(
                replicas
                    .iter()
                    .filter(|r| {
                        r.meta.labels.get("longhornvolume").map(String::as_str) == Some(name)
                    })
                    .map(|r| (*r, None)),
            );
            hits.push(Hit {
                aspect: format!("{name}:missing-replicas"),
                severity: Severity::Error,
                title: format!("Detached Longhorn volume {label} has {have} of {want} replicas"),
                summary: format!(
                    "volumes.longhorn.io longhorn-system/{name}: detached, robustness \
                     {robustness}, spec.numberOfReplicas {want}, but only {} labelled \
                     longhornvolume={name}. check_volumes accepts a detached volume that is not \
                     healthy only when it has all its replicas; Longhorn-Volume-Health-Status \
                     Test: Failed.",
                    plural(
                        have,
                        "replicas.longhorn.io object is",
                        "replicas.longhorn.io objects are"
                    )
                ),
                objects,
                remediation: format!(
                    "Attach the volume (start its VM, or attach it in the Longhorn UI) so that \
                     Longhorn rebuilds the missing replicas, then detach it again; or lower \
                     spec.numberOfReplicas to what the cluster can hold (kubectl -n \
                     longhorn-system patch volumes.longhorn.io {name} --type merge -p \
                     '{{\"spec\":{{\"numberOfReplicas\":{have}}}}}') when the replicas cannot \
                     be scheduled."
                ),
            });
        } else {
            hits.push(Hit {
                aspect: format!("{name}:degraded"),
                severity: Severity::Error,
                title: format!(
                    "Longhorn volume {label} is {} while {}",
                    if robustness.is_empty() {
                        "of unknown robustness"
                    } else {
                        robustness
                    },
                    if state.is_empty() {
                        "in no state"
                    } else {
                        state
                    }
                ),
                summary: format!(
                    "volumes.longhorn.io longhorn-system/{name}: state {state}, robustness \
                     {robustness}, spec.numberOfReplicas {}. check_volumes prints \"Degraded \
                     Longhorn Volume found: {name}\"; Longhorn-Volume-Health-Status Test: \
                     Failed. The node drain waits for such a volume (\"Waiting for volume … to \
                     be healthy\").",
                    opt(wanted)
                ),
                objects: vec![(v, Some("robustness:".into()))],
                remediation: "Wait for Longhorn to rebuild the replicas (Longhorn UI → Volumes), \
                              or bring back the node or disk holding the missing replica. On \
                              clusters with fewer schedulable nodes or disks than \
                              numberOfReplicas (2-node, witness), lower spec.numberOfReplicas."
                    .into(),
            });
        }
    }
    hits
}

fn eval_volume_health<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    volume_health(
        cx.index.of_kind("", "Node").count(),
        &in_ns(cx.index, "longhorn.io", "Engine", "longhorn-system"),
        &in_ns(cx.index, "longhorn.io", "Volume", "longhorn-system"),
        &in_ns(cx.index, "longhorn.io", "Replica", "longhorn-system"),
    )
}

// ---------------------------------------------------------------- #12 stale-longhorn-volumes

fn stale_volumes<'a>(volumes: &[&'a Object]) -> Vec<Hit<'a>> {
    volumes
        .iter()
        .filter_map(|v| {
            let t = tree(v)?;
            if t.str("/status/state") != Some("attached") {
                return None;
            }
            let name = &v.key.name;
            let label = with_pvc(v);
            let workloads = t.list("/status/kubernetesStatus/workloadsStatus");
            let node = t
                .str("/status/currentNodeID")
                .map(|n| format!(" on {n}"))
                .unwrap_or_default();
            if workloads.is_empty() {
                return Some(Hit {
                    aspect: format!("{name}:no-workload"),
                    severity: Severity::Error,
                    title: format!("Longhorn volume {label} is attached{node} but has no workload"),
                    summary: format!(
                        "volumes.longhorn.io {}: status.state attached{node}, \
                         status.kubernetesStatus.workloadsStatus empty. check_attached_volumes \
                         prints \"Volume {name} is attached but has no workload.\"; \
                         Stale-Longhorn-Volumes Test: Failed (issue #3648).",
                        full(v)
                    ),
                    objects: vec![(*v, Some("kubernetesStatus:".into()))],
                    remediation: stale_fix(name),
                });
            }
            let pods: Vec<String> = workloads
                .iter()
                .map(|w| {
                    let s = |k: &str| w.get(k).and_then(Node::as_str).unwrap_or("?");
                    format!("{} {}", s("podName"), s("podStatus"))
                })
                .collect();
            let running = workloads
                .iter()
                .any(|w| w.get("podStatus").and_then(Node::as_str) == Some("Running"));
            if running {
                return None;
            }
            Some(Hit {
                aspect: format!("{name}:workload-not-running"),
                severity: Severity::Error,
                title: format!(
                    "Longhorn volume {label} is attached{node} but none of its workloads runs \
                     ({})",
                    pods.join(", ")
                ),
                summary: format!(
                    "volumes.longhorn.io {}: status.state attached{node}; workloadsStatus: {}. \
                     check_attached_volumes fails when no workload pod is Running (\"Volume \
                     {name} is attached, but one or more of its workloads is not running.\"); \
                     Stale-Longhorn-Volumes Test: Failed (issue #3648).",
                    full(v),
                    pods.join(", ")
                ),
                objects: vec![(*v, Some("workloadsStatus:".into()))],
                remediation: stale_fix(name),
            })
        })
        .collect()
}

fn stale_fix(name: &str) -> String {
    format!(
        "A volume attached without a running workload holds its node's drain. If its VM or pod \
         is gone or stopped, detach the volume: find what still attaches it (kubectl get \
         volumeattachments.storage.k8s.io | grep {name}; kubectl -n longhorn-system get \
         volumeattachments.longhorn.io {name} -o yaml) and remove the stale attachment, or \
         detach it in the Longhorn UI; if the VM is meant to run, start it again."
    )
}

fn eval_stale_volumes<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    stale_volumes(&of_kind(cx.index, "longhorn.io", "Volume"))
}

// ---------------------------------------------------------------- #13 longhorn-backing-images

fn backing_images<'a>(images: &[&'a Object]) -> Vec<Hit<'a>> {
    images
        .iter()
        .filter_map(|b| {
            let copies = tree(b)?.int("/spec/minNumberOfCopies")?;
            if copies >= 3 {
                return None;
            }
            let name = &b.key.name;
            let (severity, what) = if copies <= 0 {
                (Severity::Error, "fails")
            } else {
                (Severity::Warning, "warns")
            };
            Some(Hit {
                aspect: name.clone(),
                severity,
                title: format!(
                    "Longhorn backing image {name} keeps minNumberOfCopies {copies}{}",
                    if copies <= 0 {
                        " (no guaranteed copy)"
                    } else {
                        " (< 3)"
                    }
                ),
                summary: format!(
                    "backingimages.longhorn.io {}: spec.minNumberOfCopies {copies}. check_images \
                     fails on 0 and warns below 3: while nodes are drained and rebooted one by \
                     one, a backing image with fewer copies may have none available, and VMs \
                     using the image cannot start or rebuild replicas. Here it {what}.",
                    full(b)
                ),
                objects: vec![(*b, Some("minNumberOfCopies:".into()))],
                remediation: format!(
                    "Raise the minimum number of copies to 3 before upgrading (Longhorn UI → \
                     Backing Image → Update Minimum Copies Count, or kubectl -n longhorn-system \
                     patch backingimages.longhorn.io {name} --type merge -p \
                     '{{\"spec\":{{\"minNumberOfCopies\":3}}}}')."
                ),
            })
        })
        .collect()
}

fn eval_backing_images<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    if !running(cx).is_some_and(|v| v.at_least((1, 4, 0))) {
        return Vec::new();
    }
    backing_images(&of_kind(cx.index, "longhorn.io", "BackingImage"))
}

// ---------------------------------------------------------------- #14 virtual-machines

/// `restoreVM` of an `upgrade-config` value.
fn restore_vm(upgrade_config: Option<&str>) -> bool {
    upgrade_config
        .and_then(json)
        .is_some_and(|v| truthy(v.get("restoreVM")))
}

fn virtual_machines<'a>(vms: &[&'a Object], restore: bool) -> Vec<Hit<'a>> {
    if restore {
        return Vec::new();
    }
    vms.iter()
        .filter_map(|vm| {
            let t = tree(vm)?;
            let status = t.str("/status/printableStatus").unwrap_or("");
            if status == "Stopped" {
                return None;
            }
            let cdroms: Vec<&str> = t
                .list("/spec/template/spec/domain/devices/disks")
                .iter()
                .filter(|d| d.get("cdrom").is_some_and(|c| !c.is_null()))
                .map(|d| d.get("name").and_then(Node::as_str).unwrap_or("?"))
                .collect();
            let host_devices: Vec<&str> = t
                .list("/spec/template/spec/domain/devices/hostDevices")
                .iter()
                .map(|d| {
                    d.get("name")
                        .or_else(|| d.get("deviceName"))
                        .and_then(Node::as_str)
                        .unwrap_or("?")
                })
                .collect();
            if cdroms.is_empty() && host_devices.is_empty() {
                return None;
            }
            let mut why = Vec::new();
            if !cdroms.is_empty() {
                why.push(format!("CD-ROM disk {}", cdroms.join(", ")));
            }
            if !host_devices.is_empty() {
                why.push(format!("host device {}", host_devices.join(", ")));
            }
            let shown = if status.is_empty() {
                "no printableStatus"
            } else {
                status
            };
            Some(Hit {
                aspect: full(vm),
                severity: Severity::Error,
                title: format!(
                    "VM {} ({shown}) cannot live-migrate: {}",
                    full(vm),
                    why.join("; ")
                ),
                summary: format!(
                    "virtualmachines.kubevirt.io {} is {shown} and has {}; setting \
                     upgrade-config restoreVM is false. check_virtual_machines_live_migration \
                     fails on every VM that is not Stopped with a cdrom disk or host devices: it \
                     cannot live-migrate off a node being drained, so the upgrade waits in \
                     pre-drain (\"Waiting for VM live-migration or shutdown\"); \
                     Virtual-Machines Test: Failed.",
                    full(vm),
                    why.join(" and ")
                ),
                objects: vec![(
                    *vm,
                    Some(if cdroms.is_empty() {
                        "hostDevices:".into()
                    } else {
                        "cdrom:".into()
                    }),
                )],
                remediation: "Shut the VM down before the upgrade (start it again afterwards), \
                              or eject the CD-ROM / detach the host device. From v1.6.0, \
                              setting upgrade-config {\"restoreVM\": true} makes the upgrade \
                              shut such VMs down and restore them."
                    .into(),
            })
        })
        .collect()
}

fn eval_virtual_machines<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    let config = setting_obj(cx.index, "harvesterhci.io", "upgrade-config");
    virtual_machines(
        &of_kind(cx.index, "kubevirt.io", "VirtualMachine"),
        restore_vm(config.and_then(effective)),
    )
}

// ---------------------------------------------------------------- #15 pod-status

fn pod_status<'a>(pods: &[&'a Object]) -> Vec<Hit<'a>> {
    pods.iter()
        .filter_map(|p| {
            let c = condition(&p.status.conditions, "Ready")?;
            if c.status != "False" || c.reason.as_deref() == Some("PodCompleted") {
                return None;
            }
            let phase = p.status.phase.as_deref().unwrap_or("(no phase)");
            let (display, node, waiting) = match &p.view {
                View::Pod(v) => {
                    let (ready, total) = v.ready_count();
                    let bad: Vec<String> = v
                        .container_statuses
                        .iter()
                        .filter(|s| s.ready != Some(true))
                        .map(|s| {
                            let why = s
                                .state
                                .waiting
                                .as_ref()
                                .and_then(|w| w.reason.clone())
                                .or_else(|| {
                                    s.state.terminated.as_ref().map(|t| {
                                        t.reason.clone().unwrap_or_else(|| "Terminated".into())
                                    })
                                })
                                .unwrap_or_else(|| "not ready".into());
                            format!("{} {why}", s.name)
                        })
                        .collect();
                    (
                        format!(
                            "{} ({ready}/{total} ready)",
                            v.display_status(
                                p.status.phase.as_deref(),
                                p.meta.deletion_timestamp.is_some()
                            )
                        ),
                        v.node_name.clone(),
                        bad,
                    )
                }
                _ => (phase.to_string(), None, Vec::new()),
            };
            let on = node.map(|n| format!(" on {n}")).unwrap_or_default();
            let reason = c.reason.as_deref().unwrap_or("no reason");
            let mut summary = format!(
                "Pod {}{on}: phase {phase}, {display}; condition Ready=False, reason {reason}{}.",
                full(p),
                c.last_transition_time
                    .as_deref()
                    .map(|t| format!(" since {t}"))
                    .unwrap_or_default()
            );
            if !waiting.is_empty() {
                let _ = write!(summary, " Containers not ready: {}.", waiting.join(", "));
            }
            let _ = write!(
                summary,
                "\ncheck_error_pods fails on every pod with Ready=False whose reason is not \
                 PodCompleted and lists {}; Pod-Status Test: Failed.",
                full(p)
            );
            Some(Hit {
                aspect: full(p),
                severity: Severity::Error,
                title: format!("Pod {} is not Ready: {display}", full(p)),
                summary,
                objects: vec![(*p, Some("type: Ready".into()))],
                remediation: format!(
                    "Fix the pod before upgrading (sbdiag describe pod -n {ns} {name}: events, \
                     container states, logs). A pod left behind by a deleted workload or a \
                     finished job can be deleted: kubectl -n {ns} delete pod {name}",
                    ns = p.key.namespace,
                    name = p.key.name
                ),
            })
        })
        .collect()
}

fn eval_pod_status<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    pod_status(&of_kind(cx.index, "", "Pod"))
}

// ---------------------------------------------------------------- #16 kubeconfig-secret

const KUBECONFIG_FIX: &str =
    "kubectl label secret local-kubeconfig -n fleet-local cluster.x-k8s.io/cluster-name=local";

/// Whether Secrets were really collected: the generator keeps at most fleet-local's
/// machine-plan secrets, which say nothing about `local-kubeconfig`.
fn secrets_collected(secrets: &[&Object]) -> bool {
    secrets.iter().any(|s| {
        s.key.name == "local-kubeconfig"
            || s.key.namespace != "fleet-local"
            || !s.key.name.ends_with("-machine-plan")
    })
}

fn kubeconfig_secret<'a>(secrets: &[&'a Object]) -> Vec<Hit<'a>> {
    if !secrets_collected(secrets) {
        return vec![Hit {
            aspect: "not-evaluated".into(),
            severity: Severity::Info,
            title: "Kubeconfig Secret check not evaluated: the bundle holds no Secrets besides \
                    machine plans"
                .into(),
            summary: format!(
                "The support bundle generator excludes Secrets (it keeps at most fleet-local's \
                 machine-plan secrets: {} here), so whether fleet-local/local-kubeconfig carries \
                 the label cluster.x-k8s.io/cluster-name=local cannot be read.",
                secrets.len()
            ),
            objects: Vec::new(),
            remediation: format!(
                "On the cluster: kubectl get secrets -n fleet-local -l \
                 cluster.x-k8s.io/cluster-name=local | grep local-kubeconfig — if nothing is \
                 listed: {KUBECONFIG_FIX}"
            ),
        }];
    }
    let found = secrets
        .iter()
        .copied()
        .find(|s| s.key.namespace == "fleet-local" && s.key.name == "local-kubeconfig");
    match found {
        Some(s)
            if s.meta
                .labels
                .get("cluster.x-k8s.io/cluster-name")
                .map(String::as_str)
                == Some("local") =>
        {
            Vec::new()
        }
        Some(s) => {
            let label = s
                .meta
                .labels
                .get("cluster.x-k8s.io/cluster-name")
                .map(|v| format!("has cluster.x-k8s.io/cluster-name={v}"))
                .unwrap_or_else(|| "has no cluster.x-k8s.io/cluster-name label".into());
            vec![Hit {
                aspect: "fleet-local/local-kubeconfig".into(),
                severity: Severity::Error,
                title: format!(
                    "Secret fleet-local/local-kubeconfig {label} (needs \
                     cluster.x-k8s.io/cluster-name=local)"
                ),
                summary: format!(
                    "Secret fleet-local/local-kubeconfig {label}, so `kubectl get secrets -n \
                     fleet-local -l cluster.x-k8s.io/cluster-name=local` does not list it. \
                     capi-controller-manager then cannot use it (Unauthorized) and the upgrade \
                     stalls waiting for the CAPI cluster (known issue of v1.2.2/v1.3.0 → v1.3.1, \
                     #6041). check_kubeconfig_secret prints \"Couldn't find the appropriate \
                     label on the local-kubeconfig secret.\"; Kubeconfig-Secret Test: Failed."
                ),
                objects: vec![(s, Some("labels:".into()))],
                remediation: format!("Label the secret: {KUBECONFIG_FIX}"),
            }]
        }
        None => vec![Hit {
            aspect: "fleet-local/local-kubeconfig".into(),
            severity: Severity::Error,
            title: "Secret fleet-local/local-kubeconfig is missing".into(),
            summary: "The bundle's Secrets include other secrets but not \
                      fleet-local/local-kubeconfig, so check_kubeconfig_secret does not find it \
                      among the secrets labelled cluster.x-k8s.io/cluster-name=local; \
                      Kubeconfig-Secret Test: Failed."
                .into(),
            objects: Vec::new(),
            remediation: format!(
                "Check on the cluster whether the secret exists (kubectl -n fleet-local get \
                 secret local-kubeconfig --show-labels); when it lacks the label: \
                 {KUBECONFIG_FIX}"
            ),
        }],
    }
}

fn eval_kubeconfig_secret<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    kubeconfig_secret(&of_kind(cx.index, "", "Secret"))
}

// ---------------------------------------------------------------- #17 backup-target

fn backup_target(setting: Option<&Object>) -> Vec<Hit<'_>> {
    let Some(s) = setting else { return Vec::new() };
    let Some(v) = effective(s).and_then(json) else {
        return Vec::new();
    };
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() {
        return Vec::new();
    }
    let interval = v.get("refreshIntervalInSeconds").and_then(|x| {
        x.as_i64()
            .or_else(|| x.as_f64().map(|f| f as i64))
            .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
    });
    if interval.is_some_and(|i| i > 0) {
        return Vec::new();
    }
    let endpoint = v.get("endpoint").and_then(Value::as_str).unwrap_or("");
    let shown = interval
        .map(|i| i.to_string())
        .unwrap_or_else(|| "absent".into());
    vec![Hit {
        aspect: "backup-target".into(),
        severity: Severity::Error,
        title: format!(
            "Backup target ({kind} {endpoint}) has refreshIntervalInSeconds {shown}: high CPU \
             after the upgrade"
        ),
        summary: format!(
            "Setting backup-target is {{\"type\": \"{kind}\", \"endpoint\": \"{endpoint}\", …}} \
             with refreshIntervalInSeconds {shown}. From v1.4.2 Harvester refreshes the backup \
             target every refreshIntervalInSeconds; empty or 0 means constantly, which causes \
             high CPU usage after the upgrade (docs v1.4.1→v1.4.2 known issue 1, #7885). \
             check_backup_target requires a value > 0 when a target is configured; Backup-Target \
             Test: Failed."
        ),
        objects: vec![(s, Some("value:".into()))],
        remediation: "Set refreshIntervalInSeconds to a larger number (for example 60) before \
                      upgrading: kubectl edit settings.harvesterhci.io backup-target, keeping \
                      the value's other keys, e.g. value: '{\"type\":\"nfs\",\"endpoint\":\"nfs://…\",\
                      \"refreshIntervalInSeconds\":60}'."
            .into(),
    }]
}

fn eval_backup_target<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    if !running(cx).is_some_and(|v| v.within((1, 4, 1), Some((1, 4, 2)))) {
        return Vec::new();
    }
    backup_target(setting_obj(cx.index, "harvesterhci.io", "backup-target"))
}

// ---------------------------------------------------------------- #18, #19 network IPs

/// An IPv4 network: first address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    base: u32,
    prefix: u32,
}

impl Cidr {
    /// `a.b.c.d/n` (a bare address is a /32); `None` for anything else (IPv6 included).
    fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, p.trim().parse::<u32>().ok()?),
            None => (s, 32),
        };
        if prefix > 32 {
            return None;
        }
        let ip: Ipv4Addr = addr.trim().parse().ok()?;
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        Some(Cidr {
            base: u32::from(ip) & mask,
            prefix,
        })
    }

    fn size(&self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    /// First and last address, inclusive.
    fn span(&self) -> (u64, u64) {
        let start = u64::from(self.base);
        (start, start + self.size() - 1)
    }

    fn contains(&self, ip: Ipv4Addr) -> bool {
        let (a, b) = self.span();
        (a..=b).contains(&u64::from(u32::from(ip)))
    }
}

/// A network of a setting (`storage-network`, `rwx-network`.network).
#[derive(Debug, Clone, PartialEq)]
struct Network {
    range: String,
    exclude: Vec<String>,
}

fn network_of(v: &Value) -> Option<Network> {
    let range = v.get("range").and_then(Value::as_str)?.trim().to_string();
    if range.is_empty() {
        return None;
    }
    let exclude = v
        .get("exclude")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some(Network { range, exclude })
}

/// Usable addresses of the range: its size minus network and broadcast, minus the excluded
/// CIDRs (merged, clipped to the range). `Err` names an invalid CIDR.
fn usable_ips(net: &Network) -> Result<(Cidr, u64, u64), String> {
    let cidr = Cidr::parse(&net.range)
        .filter(|_| net.range.contains('/'))
        .ok_or_else(|| format!("range {:?} is not an IPv4 CIDR", net.range))?;
    if cidr.size() <= 2 {
        return Ok((cidr, 0, 0));
    }
    let (first, last) = cidr.span();
    let (lo, hi) = (first + 1, last - 1);
    let mut spans: Vec<(u64, u64)> = Vec::new();
    for e in &net.exclude {
        let x = Cidr::parse(e).ok_or_else(|| format!("exclude {e:?} is not an IPv4 CIDR"))?;
        let (a, b) = x.span();
        let (a, b) = (a.max(lo), b.min(hi));
        if a <= b {
            spans.push((a, b));
        }
    }
    spans.sort_unstable();
    let mut excluded = 0u64;
    let mut cur: Option<(u64, u64)> = None;
    for (a, b) in spans {
        cur = match cur {
            Some((ca, cb)) if a <= cb.saturating_add(1) => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                excluded += cb - ca + 1;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((ca, cb)) = cur {
        excluded += cb - ca + 1;
    }
    let hosts = hi - lo + 1;
    Ok((cidr, hosts - excluded, excluded))
}

/// Whereabouts names an IPPool after its range: `10.0.0.0/24` → `10.0.0.0-24`.
fn pool_name(range: &str) -> String {
    range.trim().replace(['/', ':'], "-")
}

/// Addresses Whereabouts has allocated in a range, and where sbdiag read them.
struct Allocated<'a> {
    count: u64,
    source: String,
    /// Whether `count` is what the script reads; else a lower bound.
    exact: bool,
    /// Objects to cite, with the text their evidence focuses on.
    objects: Vec<(&'a Object, Option<String>)>,
}

fn allocated<'a>(index: &'a Index, cidr: Cidr, pool: &str) -> Allocated<'a> {
    const G: &str = "whereabouts.cni.cncf.io";
    let pool_obj = index.find(G, "IPPool", "kube-system", pool).or_else(|| {
        index
            .of_kind(G, "IPPool")
            .find(|o| o.key.namespace == "kube-system" && o.key.name.ends_with(pool))
    });
    if let Some(p) = pool_obj
        && let Some(t) = tree(p)
    {
        let count = t
            .at("/spec/allocations")
            .and_then(Node::as_object)
            .map(|m| m.len())
            .unwrap_or(0);
        return Allocated {
            count: count as u64,
            source: format!("spec.allocations of IPPool {}", full(p)),
            exact: true,
            objects: vec![(p, Some("allocations:".into()))],
        };
    }
    if pool_obj.is_none() && index.has_list(G, "ippools") {
        return Allocated {
            count: 0,
            source: format!("IPPool kube-system/{pool} does not exist: nothing allocated"),
            exact: true,
            objects: Vec::new(),
        };
    }
    let why = match pool_obj {
        Some(p) => format!("sbdiag does not keep the spec of IPPool {}", full(p)),
        None => "the bundle has no IPPool list".into(),
    };
    if index.has_list(G, "overlappingrangeipreservations") {
        let res: Vec<&'a Object> = index
            .of_kind(G, "OverlappingRangeIPReservation")
            .filter(|o| {
                o.key
                    .name
                    .parse::<Ipv4Addr>()
                    .is_ok_and(|ip| cidr.contains(ip))
            })
            .collect();
        return Allocated {
            count: res.len() as u64,
            source: format!(
                "counted from Whereabouts' OverlappingRangeIPReservations named by an address in \
                 the range, as {why}"
            ),
            exact: true,
            objects: res.into_iter().take(3).map(|o| (o, None)).collect(),
        };
    }
    let mut ips: BTreeSet<Ipv4Addr> = BTreeSet::new();
    let mut pods: Vec<&'a Object> = Vec::new();
    for p in index.of_kind("", "Pod") {
        let Some(status) = p
            .meta
            .annotations
            .get("k8s.v1.cni.cncf.io/network-status")
            .and_then(|s| json(s))
        else {
            continue;
        };
        let mut hit = false;
        for net in status.as_array().map(Vec::as_slice).unwrap_or_default() {
            for ip in net
                .get("ips")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if let Some(ip) = ip.as_str().and_then(|s| s.parse::<Ipv4Addr>().ok())
                    && cidr.contains(ip)
                {
                    ips.insert(ip);
                    hit = true;
                }
            }
        }
        if hit {
            pods.push(p);
        }
    }
    Allocated {
        count: ips.len() as u64,
        source: format!(
            "counted from the addresses in the range in the pods' \
             k8s.v1.cni.cncf.io/network-status annotations, as {why}; a lower bound, since \
             allocations left by pods that are gone are not seen"
        ),
        exact: false,
        objects: pods
            .into_iter()
            .take(3)
            .map(|o| (o, Some("k8s.v1.cni.cncf.io/network-status".into())))
            .collect(),
    }
}

/// What the upgrade needs on a network.
struct Need {
    count: u64,
    why: String,
}

/// The availability verdict for one network: `aspect` and `label` name it.
fn ip_availability<'a>(
    aspect: &str,
    label: &str,
    setting: &'a Object,
    net: &Network,
    alloc: &Allocated<'a>,
    need: &Need,
    fix: &str,
) -> Vec<Hit<'a>> {
    let (cidr, usable, excluded) = match usable_ips(net) {
        Ok(u) => u,
        Err(e) => {
            return vec![Hit {
                aspect: format!("{aspect}:invalid"),
                severity: Severity::Warning,
                title: format!("The {label} range cannot be counted: {e}"),
                summary: format!(
                    "Setting {}: range {:?}, exclude {:?}: {e}. The script's IP arithmetic \
                     needs an IPv4 CIDR; free addresses were not counted.",
                    setting.key.name, net.range, net.exclude
                ),
                objects: vec![(setting, Some("value:".into()))],
                remediation: fix.into(),
            }];
        }
    };
    let free = usable.saturating_sub(alloc.count);
    if free >= need.count {
        if alloc.exact {
            return Vec::new();
        }
        return vec![Hit {
            aspect: format!("{aspect}:allocations-estimated"),
            severity: Severity::Info,
            title: format!(
                "The {label} {} has at most {free} free IPs for the {} the upgrade needs \
                 (allocations estimated)",
                net.range, need.count
            ),
            summary: format!(
                "Usable: {} − 2 (network, broadcast) − {excluded} excluded = {usable}; allocated: \
                 at least {} ({}); needed: {} — {}. The script reads the IPPool's allocations, \
                 which the bundle does not give sbdiag; verify on the cluster when the margin is \
                 small.",
                cidr.size(),
                alloc.count,
                alloc.source,
                need.count,
                need.why
            ),
            objects: vec![(setting, Some("value:".into()))],
            remediation: format!(
                "On the cluster: kubectl -n kube-system get ippools.whereabouts.cni.cncf.io {} -o \
                 yaml — the number of spec.allocations must leave at least {} of the {usable} \
                 usable addresses free.",
                pool_name(&net.range),
                need.count
            ),
        }];
    }
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "Setting {} defines {label} {} ({} addresses) with exclude [{}].",
        setting.key.name,
        net.range,
        cidr.size(),
        net.exclude.join(", ")
    );
    let _ = writeln!(
        summary,
        "Usable: {} − 2 (network, broadcast) − {excluded} excluded = {usable}; allocated: {}{} — \
         {}; free: {}{free}.",
        cidr.size(),
        if alloc.exact { "" } else { "at least " },
        alloc.count,
        alloc.source,
        if alloc.exact { "" } else { "at most " }
    );
    let _ = writeln!(
        summary,
        "Needed: {} — {}. The script fails when the free addresses are fewer; the new pods \
         then wait for an address and the upgrade stalls.",
        need.count, need.why
    );
    let mut objects: Vec<(&'a Object, Option<String>)> = vec![(setting, Some("value:".into()))];
    objects.extend(alloc.objects.iter().cloned());
    vec![Hit {
        aspect: aspect.into(),
        severity: Severity::Error,
        title: format!(
            "The {label} {} has {}{free} free IPs, the upgrade needs {}",
            net.range,
            if alloc.exact { "" } else { "at most " },
            need.count
        ),
        summary,
        objects,
        remediation: fix.into(),
    }]
}

/// Whether RWX volumes share the storage network: `rwx-network` (v1.8+) `share-storage-network`,
/// else Longhorn's `storage-network-for-rwx-volume-enabled`.
fn rwx_shares_storage(index: &Index) -> (bool, String) {
    if let Some(v) = setting_obj(index, "harvesterhci.io", "rwx-network")
        .and_then(effective)
        .and_then(json)
    {
        let shared = truthy(v.get("share-storage-network"));
        return (
            shared,
            format!("setting rwx-network share-storage-network is {shared}"),
        );
    }
    let lh = setting_obj(
        index,
        "longhorn.io",
        "storage-network-for-rwx-volume-enabled",
    )
    .and_then(effective)
    .map(|v| v.eq_ignore_ascii_case("true"));
    match lh {
        Some(b) => (
            b,
            format!("Longhorn setting storage-network-for-rwx-volume-enabled is {b}"),
        ),
        None => (false, "RWX does not use the storage network".into()),
    }
}

const STORAGE_FIX: &str = "Give the storage network enough free addresses before upgrading: widen \
    the range or drop excludes in setting storage-network (Harvester UI → Advanced → Settings → \
    storage-network; changing it requires every VM to be stopped), and check the Whereabouts \
    IPPool in kube-system for allocations whose pods are gone.";

fn storage_network<'a>(
    setting: &'a Object,
    shared: (bool, String),
    instance_managers: usize,
    backing_image_managers: usize,
    alloc: impl FnOnce(Cidr, &str) -> Allocated<'a>,
) -> Vec<Hit<'a>> {
    let Some(value) = effective(setting) else {
        return Vec::new();
    };
    let Some(net) = json(value).as_ref().and_then(network_of) else {
        return vec![Hit {
            aspect: "storage-network:invalid".into(),
            severity: Severity::Warning,
            title: "Setting storage-network has no readable range".into(),
            summary: format!(
                "Setting storage-network is {value:?}: no JSON object with a range, so free \
                 addresses cannot be counted."
            ),
            objects: vec![(setting, Some("value:".into()))],
            remediation: STORAGE_FIX.into(),
        }];
    };
    let mut need = Need {
        count: (instance_managers + backing_image_managers) as u64,
        why: format!(
            "one per new Longhorn manager: {} + {}",
            plural(instance_managers, "instance manager", "instance managers"),
            plural(
                backing_image_managers,
                "backing-image manager",
                "backing-image managers"
            )
        ),
    };
    if shared.0 {
        need.count += 1;
        let _ = write!(
            need.why,
            ", + 1 for the upgrade repository's RWX volume ({})",
            shared.1
        );
    }
    if need.count == 0 {
        return Vec::new();
    }
    let allocated = match Cidr::parse(&net.range) {
        Some(c) => alloc(c, &pool_name(&net.range)),
        None => Allocated {
            count: 0,
            source: String::new(),
            exact: true,
            objects: Vec::new(),
        },
    };
    ip_availability(
        "storage-network",
        "storage network",
        setting,
        &net,
        &allocated,
        &need,
        STORAGE_FIX,
    )
}

fn eval_storage_network_ip<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    if !cx.index.has_list("harvesterhci.io", "settings") {
        // Harvester always has settings: an absent list was not collected (bundles before
        // support-bundle-kit v0.0.26 / Harvester v1.1.3 leave it out).
        return vec![Hit {
            aspect: "not-evaluated".into(),
            severity: Severity::Info,
            title: "Storage-network IP check not evaluated: the bundle has no Harvester settings"
                .into(),
            summary: "settings.harvesterhci.io is not in the bundle (support-bundle-kit adds it \
                      from v0.0.26, Harvester v1.1.3), so whether a storage network is configured \
                      cannot be read."
                .into(),
            objects: Vec::new(),
            remediation: "On the cluster: kubectl get settings.harvesterhci.io storage-network -o \
                          yaml; when it has a value, compare the free addresses of its range with \
                          the number of Longhorn instance and backing-image managers."
                .into(),
        }];
    }
    let Some(setting) = setting_obj(cx.index, "harvesterhci.io", "storage-network") else {
        return Vec::new();
    };
    storage_network(
        setting,
        rwx_shares_storage(cx.index),
        cx.index.of_kind("longhorn.io", "InstanceManager").count(),
        cx.index
            .of_kind("longhorn.io", "BackingImageManager")
            .count(),
        |c, p| allocated(cx.index, c, p),
    )
}

const RWX_FIX: &str = "Free an address on the dedicated RWX network before upgrading: widen the \
    range or drop excludes in setting rwx-network, and check the Whereabouts IPPool in \
    kube-system for allocations whose pods are gone.";

fn rwx_network<'a>(
    setting: &'a Object,
    alloc: impl FnOnce(Cidr, &str) -> Allocated<'a>,
) -> Vec<Hit<'a>> {
    let Some(v) = effective(setting).and_then(json) else {
        return Vec::new();
    };
    if truthy(v.get("share-storage-network")) {
        return Vec::new();
    }
    let Some(net) = v.get("network").and_then(network_of) else {
        return Vec::new();
    };
    let allocated = match Cidr::parse(&net.range) {
        Some(c) => alloc(c, &pool_name(&net.range)),
        None => Allocated {
            count: 0,
            source: String::new(),
            exact: true,
            objects: Vec::new(),
        },
    };
    ip_availability(
        "rwx-network",
        "dedicated RWX network",
        setting,
        &net,
        &allocated,
        &Need {
            count: 1,
            why: "one for the upgrade repository's RWX volume".into(),
        },
        RWX_FIX,
    )
}

fn eval_rwx_network_ip<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    if !running(cx).is_some_and(|v| v.at_least((1, 8, 0))) {
        return Vec::new();
    }
    let Some(setting) = setting_obj(cx.index, "harvesterhci.io", "rwx-network") else {
        return Vec::new();
    };
    rwx_network(setting, |c, p| allocated(cx.index, c, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, group: &str, yaml: &str) -> Object {
        Object::from_yaml(kind, group, yaml)
    }

    fn bundle(name: &str, summary: &str) -> Object {
        object(
            "Bundle",
            "fleet.cattle.io",
            &format!(
                "apiVersion: fleet.cattle.io/v1alpha1\nkind: Bundle\nmetadata:\n  name: {name}\n  \
                 namespace: fleet-local\nspec:\n  helm:\n    chart: harvester\n    releaseName: \
                 harvester\nstatus:\n  summary:\n{summary}"
            ),
        )
    }

    #[test]
    fn every_rule_is_named_and_live_checks_declare_live_inputs() {
        let rules = rules();
        assert_eq!(rules.len(), 21);
        for r in &rules {
            assert!(r.info().id.starts_with("upgrade.precheck."));
        }
        for id in [
            "host",
            "certificates",
            "node-free-space",
            "network-config",
            "cos-state-size",
        ] {
            let r = rules
                .iter()
                .find(|r| r.info().id == format!("upgrade.precheck.{id}"))
                .unwrap();
            assert!(matches!(r.info().inputs, [Input::Live(_)]), "{id}");
        }
    }

    #[test]
    fn harvester_bundle_must_be_exact() {
        let ok = bundle("mcc-harvester", "    desiredReady: 1\n    ready: 1\n");
        assert!(harvester_bundle(Some(&ok)).is_empty());

        // An extra counter fails even at zero, as the script's diff does.
        let zero = bundle(
            "mcc-harvester",
            "    desiredReady: 1\n    notReady: 0\n    ready: 1\n",
        );
        let h = harvester_bundle(Some(&zero));
        assert_eq!(h.len(), 1);
        assert!(
            h[0].title.contains("extra key notReady: 0"),
            "{}",
            h[0].title
        );

        let modified = bundle(
            "mcc-harvester",
            "    desiredReady: 1\n    modified: 1\n    nonReadyResources:\n    - bundleState: \
             Modified\n      name: fleet-local/local\n    ready: 0\n",
        );
        let h = harvester_bundle(Some(&modified));
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].aspect, "fleet-local/mcc-harvester");
        assert_eq!(h[0].severity, Severity::Error);
        assert!(h[0].summary.contains("ready is 0"));
        assert!(h[0].summary.contains("extra key modified: 1"));
        assert!(
            h[0].summary
                .contains("nonReadyResources (fleet-local/local Modified)")
        );
        assert!(h[0].remediation.contains("forceSyncGeneration\":1"));

        let missing = harvester_bundle(None);
        assert_eq!(missing.len(), 1);
        assert!(missing[0].title.contains("missing"));
    }

    #[test]
    fn helm_bundles_flag_ready_zero_except_mcc_harvester() {
        let bad = bundle(
            "mcc-rancher-monitoring-crd",
            "    desiredReady: 1\n    ready: 0\n",
        );
        let harvester = bundle("mcc-harvester", "    desiredReady: 1\n    ready: 0\n");
        let absent = bundle("mcc-other", "    desiredReady: 1\n");
        let hits = helm_bundles(&[&bad, &harvester, &absent]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].aspect, "fleet-local/mcc-rancher-monitoring-crd");
    }

    fn node(name: &str, labels: &str, taints: &str, ready: &str) -> Object {
        object(
            "Node",
            "",
            &format!(
                "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n{labels}    \
                 kubernetes.io/hostname: {name}\nspec:\n{taints}status:\n  conditions:\n  - \
                 status: \"{ready}\"\n    type: Ready\n"
            ),
        )
    }

    const WITNESS: &str = "    node-role.harvesterhci.io/witness: \"true\"\n";
    const ETCD_TAINT: &str = "  taints:\n  - effect: NoExecute\n    key: node-role.kubernetes.io/etcd\n    value: \"true\"\n";

    #[test]
    fn node_status_witness_rules() {
        let a = node("a", "", "", "True");
        let good_witness = node("w1", WITNESS, ETCD_TAINT, "True");
        assert!(node_status(&[&a, &good_witness]).is_empty());

        let wrong_effect = ETCD_TAINT.replace("NoExecute", "NoSchedule");
        let untainted = node("w2", WITNESS, &wrong_effect, "True");
        let hits = node_status(&[&a, &good_witness, &untainted]);
        let aspects: Vec<&str> = hits.iter().map(|h| h.aspect.as_str()).collect();
        assert_eq!(aspects, vec!["witness-count", "w2:witness-taint"]);
        assert!(
            hits[1]
                .remediation
                .contains("kubectl taint node w2 node-role.kubernetes.io/etcd=true:NoExecute")
        );
        assert!(hits[1].summary.contains("NoSchedule"));
    }

    #[test]
    fn node_status_unschedulable_and_not_ready() {
        let cordoned = object(
            "Node",
            "",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: c\nspec:\n  unschedulable: true\nstatus:\n  conditions:\n  - status: \"False\"\n    reason: KubeletNotReady\n    type: Ready\n",
        );
        let no_cond = object(
            "Node",
            "",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n",
        );
        let hits = node_status(&[&cordoned, &no_cond]);
        let aspects: Vec<&str> = hits.iter().map(|h| h.aspect.as_str()).collect();
        assert_eq!(
            aspects,
            vec!["c:unschedulable", "c:not-ready", "n:not-ready"]
        );
        assert!(hits[0].remediation.contains("kubectl uncordon c"));
        assert!(hits[1].title.contains("KubeletNotReady"));
    }

    #[test]
    fn longhorn_eviction_requests() {
        let lh = object(
            "Node",
            "longhorn.io",
            "apiVersion: longhorn.io/v1beta2\nkind: Node\nmetadata:\n  name: n1\n  namespace: longhorn-system\nspec:\n  disks:\n    d1:\n      evictionRequested: true\n    d2:\n      evictionRequested: false\n  evictionRequested: false\n",
        );
        let clean = object(
            "Node",
            "longhorn.io",
            "apiVersion: longhorn.io/v1beta2\nkind: Node\nmetadata:\n  name: n2\n  namespace: longhorn-system\nspec:\n  disks:\n    d1:\n      evictionRequested: false\n  evictionRequested: \"false\"\n",
        );
        let hits = eviction(&[&lh, &clean]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].aspect, "n1:eviction-requested");
        assert!(hits[0].title.contains("spec.disks.d1.evictionRequested"));
        assert!(
            hits[0]
                .remediation
                .contains("/spec/disks/d1/evictionRequested")
        );
    }

    fn pod(name: &str, status: &str, reason: &str) -> Object {
        object(
            "Pod",
            "",
            &format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ns\nspec:\n  \
                 containers:\n  - name: c\n    image: i\nstatus:\n  conditions:\n  - reason: \
                 {reason}\n    status: \"{status}\"\n    type: Ready\n  phase: Running\n"
            ),
        )
    }

    #[test]
    fn pod_status_exempts_pod_completed() {
        let done = pod("job-x", "False", "PodCompleted");
        let broken = pod("web", "False", "ContainersNotReady");
        let fine = pod("ok", "True", "null");
        let no_cond = object(
            "Pod",
            "",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pending\n  namespace: ns\nstatus:\n  phase: Pending\n",
        );
        let hits = pod_status(&[&done, &broken, &fine, &no_cond]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].aspect, "ns/web");
        assert!(hits[0].summary.contains("ContainersNotReady"));
        assert!(hits[0].remediation.contains("kubectl -n ns delete pod web"));
    }

    fn volume(name: &str, replicas: u32, state: &str, robustness: &str) -> Object {
        object(
            "Volume",
            "longhorn.io",
            &format!(
                "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  name: {name}\n  \
                 namespace: longhorn-system\nspec:\n  numberOfReplicas: {replicas}\nstatus:\n  \
                 kubernetesStatus:\n    namespace: default\n    pvcName: {name}-pvc\n  \
                 robustness: {robustness}\n  state: {state}\n"
            ),
        )
    }

    fn labelled(kind: &str, name: &str, vol: &str) -> Object {
        object(
            kind,
            "longhorn.io",
            &format!(
                "apiVersion: longhorn.io/v1beta2\nkind: {kind}\nmetadata:\n  name: {name}\n  \
                 namespace: longhorn-system\n  labels:\n    longhornvolume: {vol}\n"
            ),
        )
    }

    #[test]
    fn volume_health_detached_with_fewer_replicas_vs_degraded() {
        let vols = [
            volume("healthy", 3, "attached", "healthy"),
            volume("degraded", 3, "attached", "degraded"),
            // Detached with all replicas: not healthy (unknown) but accepted.
            volume("parked", 3, "detached", "unknown"),
            // Detached with 2 of 3 replicas: fails.
            volume("short", 3, "detached", "unknown"),
            volume("single", 1, "detached", "unknown"),
        ];
        let engines: Vec<Object> = vols
            .iter()
            .map(|v| labelled("Engine", &format!("{}-e-0", v.key.name), &v.key.name))
            .collect();
        let mut replicas = Vec::new();
        for (vol, n) in [("parked", 3), ("short", 2), ("degraded", 3), ("single", 1)] {
            for i in 0..n {
                replicas.push(labelled("Replica", &format!("{vol}-r-{i}"), vol));
            }
        }
        let e: Vec<&Object> = engines.iter().collect();
        let v: Vec<&Object> = vols.iter().collect();
        let r: Vec<&Object> = replicas.iter().collect();
        let hits = volume_health(3, &e, &v, &r);
        let aspects: Vec<&str> = hits.iter().map(|h| h.aspect.as_str()).collect();
        assert_eq!(
            aspects,
            vec![
                "degraded:degraded",
                "short:missing-replicas",
                "single:single-replica"
            ]
        );
        assert!(
            hits[1].title.contains("2 of 3 replicas"),
            "{}",
            hits[1].title
        );
        assert!(hits[2].title.contains("data integrity"));
        assert!(
            hits[0]
                .summary
                .contains("Degraded Longhorn Volume found: degraded")
        );
        // Single-node clusters are skipped.
        assert!(volume_health(1, &e, &v, &r).is_empty());
    }

    #[test]
    fn stale_volumes_need_a_running_workload() {
        let mk = |name: &str, workloads: &str| {
            object(
                "Volume",
                "longhorn.io",
                &format!(
                    "apiVersion: longhorn.io/v1beta2\nkind: Volume\nmetadata:\n  name: {name}\n  \
                     namespace: longhorn-system\nstatus:\n  kubernetesStatus:\n    \
                     workloadsStatus:{workloads}\n  state: attached\n"
                ),
            )
        };
        let none = mk("v-none", " \"null\"");
        let migrated = mk(
            "v-migrated",
            "\n    - podName: a\n      podStatus: Succeeded\n    - podName: b\n      podStatus: Running",
        );
        let dead = mk("v-dead", "\n    - podName: a\n      podStatus: Succeeded");
        let hits = stale_volumes(&[&none, &migrated, &dead]);
        let aspects: Vec<&str> = hits.iter().map(|h| h.aspect.as_str()).collect();
        assert_eq!(
            aspects,
            vec!["v-none:no-workload", "v-dead:workload-not-running"]
        );
    }

    #[test]
    fn backing_image_copies() {
        let mk = |name: &str, n: &str| {
            object(
                "BackingImage",
                "longhorn.io",
                &format!(
                    "apiVersion: longhorn.io/v1beta2\nkind: BackingImage\nmetadata:\n  name: \
                     {name}\n  namespace: longhorn-system\nspec:\n  minNumberOfCopies: {n}\n"
                ),
            )
        };
        let (a, b, c) = (mk("zero", "0"), mk("two", "2.0"), mk("three", "3"));
        let hits = backing_images(&[&a, &b, &c]);
        let sev: Vec<(&str, Severity)> = hits
            .iter()
            .map(|h| (h.aspect.as_str(), h.severity))
            .collect();
        assert_eq!(
            sev,
            vec![("zero", Severity::Error), ("two", Severity::Warning)]
        );
        assert!(hits[0].remediation.contains("\"minNumberOfCopies\":3"));
    }

    #[test]
    fn virtual_machines_with_cdrom_unless_restore_vm() {
        let vm = object(
            "VirtualMachine",
            "kubevirt.io",
            "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: vm1\n  namespace: default\nspec:\n  template:\n    spec:\n      domain:\n        devices:\n          disks:\n          - cdrom:\n              bus: sata\n            name: iso\n          - disk:\n              bus: virtio\n            name: root\nstatus:\n  printableStatus: Running\n",
        );
        let stopped = object(
            "VirtualMachine",
            "kubevirt.io",
            "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata:\n  name: vm2\n  namespace: default\nspec:\n  template:\n    spec:\n      domain:\n        devices:\n          hostDevices:\n          - deviceName: nvidia.com/GP\n            name: gpu\nstatus:\n  printableStatus: Stopped\n",
        );
        let hits = virtual_machines(&[&vm, &stopped], false);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].aspect, "default/vm1");
        assert!(hits[0].title.contains("CD-ROM disk iso"));
        assert!(virtual_machines(&[&vm], true).is_empty());
        assert!(restore_vm(Some("{\"restoreVM\":true}")));
        assert!(!restore_vm(Some("{\"imagePreloadOption\":{}}")));
    }

    fn setting(name: &str, value: &str) -> Object {
        object(
            "Setting",
            "harvesterhci.io",
            &format!(
                "apiVersion: harvesterhci.io/v1beta1\nkind: Setting\nmetadata:\n  name: \
                 {name}\nvalue: '{value}'\n"
            ),
        )
    }

    fn alloc<'a>(n: u64) -> impl FnOnce(Cidr, &str) -> Allocated<'a> {
        move |_, _| Allocated {
            count: n,
            source: "test".into(),
            exact: true,
            objects: Vec::new(),
        }
    }

    fn estimated<'a>(n: u64) -> impl FnOnce(Cidr, &str) -> Allocated<'a> {
        move |_, _| Allocated {
            count: n,
            source: "pods".into(),
            exact: false,
            objects: Vec::new(),
        }
    }

    #[test]
    fn storage_network_ip_counting() {
        // /29: 8 addresses, 6 hosts; excludes .1/32 and .0/30 (clipped to .1–.3, merged): 3.
        let net = Network {
            range: "10.0.0.0/29".into(),
            exclude: vec!["10.0.0.1/32".into(), "10.0.0.0/30".into()],
        };
        assert_eq!(usable_ips(&net).unwrap().1, 3);
        let net = Network {
            range: "192.168.0.0/24".into(),
            exclude: vec!["192.168.0.250".into(), "10.0.0.0/8".into()],
        };
        assert_eq!(usable_ips(&net).unwrap().1, 253);
        assert!(
            usable_ips(&Network {
                range: "192.168.0.0".into(),
                exclude: vec![]
            })
            .is_err()
        );
        assert_eq!(pool_name("10.0.0.0/29"), "10.0.0.0-29");

        let s = setting(
            "storage-network",
            r#"{"vlan":100,"clusterNetwork":"storage","range":"10.0.0.0/29","exclude":["10.0.0.1/32"]}"#,
        );
        // 5 usable, 3 allocated → 2 free; 2 instance managers fit…
        assert!(storage_network(&s, (false, String::new()), 2, 0, alloc(3)).is_empty());
        // …3 do not, nor 2 plus a backing-image manager, nor 2 plus a shared RWX network.
        let hits = storage_network(&s, (false, String::new()), 3, 0, alloc(3));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].aspect, "storage-network");
        assert!(
            hits[0].title.contains("2 free IPs, the upgrade needs 3"),
            "{}",
            hits[0].title
        );
        assert!(
            hits[0]
                .summary
                .contains("8 − 2 (network, broadcast) − 1 excluded = 5")
        );
        assert_eq!(
            storage_network(&s, (false, String::new()), 2, 1, alloc(3)).len(),
            1
        );
        assert_eq!(
            storage_network(&s, (true, "shared".into()), 2, 0, alloc(3)).len(),
            1
        );
        // Allocations estimated from pods: a pass is only informational, a failure stands.
        let info = storage_network(&s, (false, String::new()), 2, 0, estimated(3));
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].severity, Severity::Info);
        let fail = storage_network(&s, (false, String::new()), 3, 0, estimated(3));
        assert_eq!(fail[0].severity, Severity::Error);
        assert!(fail[0].title.contains("at most 2 free IPs"));
        // Not configured: nothing to check.
        let empty = object(
            "Setting",
            "harvesterhci.io",
            "apiVersion: harvesterhci.io/v1beta1\nkind: Setting\nmetadata:\n  name: storage-network\nvalue: \"null\"\n",
        );
        assert!(storage_network(&empty, (true, String::new()), 9, 9, alloc(0)).is_empty());
    }

    #[test]
    fn rwx_network_needs_one_free_ip_on_a_dedicated_network() {
        let dedicated = setting(
            "rwx-network",
            r#"{"share-storage-network":false,"network":{"vlan":20,"clusterNetwork":"rwx","range":"10.1.0.0/30"}}"#,
        );
        assert!(rwx_network(&dedicated, alloc(1)).is_empty());
        assert_eq!(rwx_network(&dedicated, alloc(2)).len(), 1);
        let shared = setting("rwx-network", r#"{"share-storage-network":true}"#);
        assert!(rwx_network(&shared, alloc(100)).is_empty());
    }

    #[test]
    fn backup_target_refresh_interval() {
        let bad = setting("backup-target", r#"{"type":"nfs","endpoint":"nfs://x:/b"}"#);
        let hits = backup_target(Some(&bad));
        assert_eq!(hits.len(), 1);
        assert!(hits[0].title.contains("refreshIntervalInSeconds absent"));
        let ok = setting(
            "backup-target",
            r#"{"type":"nfs","endpoint":"nfs://x:/b","refreshIntervalInSeconds":60}"#,
        );
        assert!(backup_target(Some(&ok)).is_empty());
        let unset = setting("backup-target", r#"{"type":"","endpoint":""}"#);
        assert!(backup_target(Some(&unset)).is_empty());
    }

    #[test]
    fn kubeconfig_secret_label() {
        let plan = object(
            "Secret",
            "",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: custom-1-machine-plan\n  namespace: fleet-local\n",
        );
        let hits = kubeconfig_secret(&[&plan]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].severity, Severity::Info);

        let unlabelled = object(
            "Secret",
            "",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: local-kubeconfig\n  namespace: fleet-local\n",
        );
        let hits = kubeconfig_secret(&[&plan, &unlabelled]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].severity, Severity::Error);
        assert_eq!(
            hits[0].remediation,
            format!("Label the secret: {KUBECONFIG_FIX}")
        );
        let labelled = object(
            "Secret",
            "",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: local-kubeconfig\n  namespace: fleet-local\n  labels:\n    cluster.x-k8s.io/cluster-name: local\n",
        );
        assert!(kubeconfig_secret(&[&plan, &labelled]).is_empty());
    }

    #[test]
    fn capi_cluster_phase_and_pause() {
        let c = object(
            "Cluster",
            "cluster.x-k8s.io",
            "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata:\n  name: local\n  namespace: fleet-local\nspec:\n  paused: true\nstatus:\n  phase: Provisioning\n",
        );
        assert_eq!(capi_cluster_state(Some(&c)).len(), 1);
        let p = capi_cluster_pause(Some(&c));
        assert_eq!(p.len(), 1);
        assert!(p[0].remediation.contains("\"paused\":false"));
        assert_eq!(capi_cluster_state(None).len(), 1);
        assert!(capi_cluster_pause(None).is_empty());
    }

    #[test]
    fn capi_machine_count_names_orphans() {
        let m = |name: &str, node: &str, phase: &str| {
            object(
                "Machine",
                "cluster.x-k8s.io",
                &format!(
                    "apiVersion: cluster.x-k8s.io/v1beta1\nkind: Machine\nmetadata:\n  name: \
                     {name}\n  namespace: fleet-local\nstatus:\n  nodeRef:\n    name: {node}\n  \
                     phase: {phase}\n"
                ),
            )
        };
        let (m1, m2) = (m("m1", "a", "Running"), m("m2", "gone", "Provisioning"));
        let a = node("a", "", "", "True");
        let hits = capi_machine_count(&[&m1, &m2], &[&a]);
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0]
                .summary
                .contains("machine m2 (phase Provisioning) refers to node gone")
        );
        assert!(capi_machine_count(&[&m1], &[&a]).is_empty());
        let state = capi_machine_state(&[&m1, &m2]);
        assert_eq!(state.len(), 1);
        assert_eq!(state[0].aspect, "fleet-local/m2");
    }
}
