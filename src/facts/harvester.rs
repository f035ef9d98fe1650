//! Harvester's behaviour by version, stated once: every check of the upgrade admission webhook
//! (`validator.harvesterhci.io`, `reference/upgrade-blockers.md` §A) with the versions it exists
//! in, the exact denial text of each version, and the inputs sbdiag needs to judge it; the
//! version gates of behaviours inside checks; and the webhook's name. The admission simulation,
//! the Fleet "effect" sentences, leftover explanations and the log recogniser all quote from
//! here, so a text is right everywhere or wrong everywhere.
use std::sync::OnceLock;

use super::input::{Input, lists};
use super::version::{Range, Version};

/// The name a user sees in `admission webhook "…" denied the request: …`.
pub const WEBHOOK: &str = "validator.harvesterhci.io";

/// The line a user sees when the webhook denies with `message`.
pub fn as_user_sees(message: &str) -> String {
    format!("admission webhook \"{WEBHOOK}\" denied the request: {message}")
}

/// One text a check returns, in the versions that return it. `{name}` marks a value the
/// webhook fills in; everything else is verbatim (typos included).
#[derive(Debug, Clone, Copy)]
pub struct Text {
    /// Which of the check's denials (`""` when it has one).
    pub case: &'static str,
    /// Versions returning this text.
    pub versions: Range,
    /// The text.
    pub text: &'static str,
}

/// How sbdiag judges a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// From the bundle's objects.
    Simulated,
    /// Needs live data; the bundle offers at most a proxy.
    Live,
    /// Not simulated (defensive, or about the new Upgrade's own annotations); recognised in
    /// events and logs only.
    Recognised,
}

/// One check of the upgrade admission webhook (or the version gate the controller applies).
#[derive(Debug, Clone, Copy)]
pub struct AdmissionCheck {
    /// Id as in the reference (`C12`).
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// Versions that have the check.
    pub versions: Range,
    /// What sbdiag needs to judge it: missing inputs make it `not_evaluated`.
    pub inputs: &'static [Input],
    /// The fields it reads, in words (for `rules --explain`).
    pub reads: &'static str,
    /// Its denial texts.
    pub texts: &'static [Text],
    /// How sbdiag judges it.
    pub judged: Judged,
}

impl AdmissionCheck {
    /// Whether the webhook of `v` has this check.
    pub fn exists_in(&self, v: &Version) -> bool {
        self.versions.contains(v)
    }

    /// The text for `case` that `v` returns, with `args` filled in; `None` when `v` has no such
    /// check or no such text.
    pub fn text(&self, case: &str, v: &Version, args: &[(&str, &str)]) -> Option<String> {
        if !self.exists_in(v) {
            return None;
        }
        // A text from the user's knowledge files for this version wins over the table's.
        let extra = EXTRA_TEXTS
            .get()
            .into_iter()
            .flatten()
            .find(|(id, t)| id == self.id && t.case == case && t.versions.contains(v))
            .map(|(_, t)| t);
        let t = extra.or_else(|| {
            self.texts
                .iter()
                .find(|t| t.case == case && t.versions.contains(v))
        })?;
        Some(fill(t.text, args))
    }
}

/// Denial texts from the user's knowledge files (`--knowledge`): (check id, text), for
/// releases newer than the table knows or texts it lacks. Installed once, before any analysis.
static EXTRA_TEXTS: OnceLock<Vec<(String, Text)>> = OnceLock::new();

/// Installs denial texts from knowledge files for the rest of the process (the first call
/// wins). The texts live as long as the process, as the table's do.
pub fn install_texts(texts: Vec<(String, String, Range, String)>) -> bool {
    let texts = texts
        .into_iter()
        .map(|(id, case, versions, text)| {
            let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
            (
                id,
                Text {
                    case: leak(case),
                    versions,
                    text: leak(text),
                },
            )
        })
        .collect();
    EXTRA_TEXTS.set(texts).is_ok()
}

/// Fills `{name}` slots of a text.
fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

const fn t(case: &'static str, versions: Range, text: &'static str) -> Text {
    Text {
        case,
        versions,
        text,
    }
}

const ALL: Range = Range::ALL;

/// Backups with no `status` count as in progress (C10) only in v1.4.x
/// (`IsBackupProgressing`).
pub const BACKUP_WITHOUT_STATUS_IN_PROGRESS: Range = Range::through_minor((1, 4, 0), (1, 4));
/// C24 also counts VMIs with a CD-ROM disk or a container disk (commit 6fe02736a; removed in
/// v1.8.0).
pub const MIGRATION_CHECK_COUNTS_CDROM: Range = Range::through_minor((1, 4, 1), (1, 7));
/// C24 counts a VMI whose `hostDevices` is there at all (`!= nil`), an empty list included;
/// v1.9 counts only a non-empty list (§E).
pub const MIGRATION_CHECK_COUNTS_EMPTY_HOST_DEVICES: Range = Range::between((1, 2, 2), (1, 8, 2));
/// C24–C26 know witness nodes and `restoreVM` (Harvester #8526, v1.6.0): a witness does not
/// count towards their single-node skip, C24 does not count a witness as a node a VM could
/// migrate to, and `restoreVM: true` skips those checks.
pub const RESTORE_VM_AND_WITNESS_AWARE: Range = Range::since(1, 6, 0);
/// The controller's version guard (`upgrade-helper version-guard`) replaced the plain
/// minimum-version comparison.
pub const VERSION_GUARD: Range = Range::since(1, 4, 0);
/// Rancher's CAPI controllers (capi-controller-manager) run in namespace `cattle-capi-system`
/// from v1.8.0, in `cattle-provisioning-capi-system` before; the support bundle's default
/// namespace list still names only the old one, so a v1.8+ bundle lacks their logs unless the
/// user added the namespace.
pub const CAPI_IN_CATTLE_CAPI_SYSTEM: Range = Range::since(1, 8, 0);

/// Harvester releases this knowledge was checked against (GA tags), oldest first. v1.9.0 was
/// read from its last release candidate (§E). A running version newer than the last is judged
/// with the newest rules, and says so.
pub const RELEASES: &[(u64, u64, u64)] = &[
    (1, 0, 0),
    (1, 0, 1),
    (1, 0, 2),
    (1, 0, 3),
    (1, 1, 0),
    (1, 1, 1),
    (1, 1, 2),
    (1, 1, 3),
    (1, 2, 0),
    (1, 2, 1),
    (1, 2, 2),
    (1, 3, 0),
    (1, 3, 1),
    (1, 3, 2),
    (1, 4, 0),
    (1, 4, 1),
    (1, 4, 2),
    (1, 4, 3),
    (1, 5, 0),
    (1, 5, 1),
    (1, 5, 2),
    (1, 6, 0),
    (1, 6, 1),
    (1, 7, 0),
    (1, 7, 1),
    (1, 7, 2),
    (1, 7, 3),
    (1, 8, 0),
    (1, 8, 1),
    (1, 8, 2),
    (1, 9, 0),
];

/// A behaviour that changed between releases, by name, for `sbdiag rules --versions`.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    /// Its name in this module.
    pub name: &'static str,
    /// The releases that behave this way (any of these ranges).
    pub versions: &'static [Range],
    /// What changes, in words.
    pub what: &'static str,
}

/// Every named version gate: written once above, listed here for `rules --versions`.
pub static GATES: &[Gate] = &[
    Gate {
        name: "BACKUP_WITHOUT_STATUS_IN_PROGRESS",
        versions: &[BACKUP_WITHOUT_STATUS_IN_PROGRESS],
        what: "C10 counts a backup without status as in progress",
    },
    Gate {
        name: "MIGRATION_CHECK_COUNTS_CDROM",
        versions: &[MIGRATION_CHECK_COUNTS_CDROM],
        what: "C24 counts CD-ROM and containerDisk VMs",
    },
    Gate {
        name: "MIGRATION_CHECK_COUNTS_EMPTY_HOST_DEVICES",
        versions: &[MIGRATION_CHECK_COUNTS_EMPTY_HOST_DEVICES],
        what: "C24 counts an empty hostDevices list",
    },
    Gate {
        name: "RESTORE_VM_AND_WITNESS_AWARE",
        versions: &[RESTORE_VM_AND_WITNESS_AWARE],
        what: "C24-C26 know witness nodes and restoreVM",
    },
    Gate {
        name: "VERSION_GUARD",
        versions: &[VERSION_GUARD],
        what: "the controller's version guard (A.5)",
    },
    Gate {
        name: "CAPI_IN_CATTLE_CAPI_SYSTEM",
        versions: &[CAPI_IN_CATTLE_CAPI_SYSTEM],
        what: "CAPI controllers in cattle-capi-system",
    },
    Gate {
        name: "WAIT_MANAGED_CHART_UNAVAILABLE",
        versions: &[WAIT_MANAGED_CHART_UNAVAILABLE],
        what: "the upgrade waits for charts' status.unavailable 0",
    },
    Gate {
        name: "KUBERNETES_IPS_FROM_ENDPOINT_SLICES",
        versions: &[KUBERNETES_IPS_FROM_ENDPOINT_SLICES],
        what: "C27/C28 read EndpointSlices",
    },
    Gate {
        name: "UPGRADELOG_WEBHOOK",
        versions: &[UPGRADELOG_WEBHOOK],
        what: "the UpgradeLog webhook (UL1-UL10)",
    },
    Gate {
        name: "upgrade::NODE_UPGRADE_PAUSE",
        versions: &[super::upgrade::NODE_UPGRADE_PAUSE],
        what: "node-upgrade pause (manual mode, pauseNodes)",
    },
    Gate {
        name: "upgrade::REPO_DEPLOYMENT",
        versions: &[super::upgrade::REPO_DEPLOYMENT],
        what: "the repository is a Deployment, not a VM",
    },
    Gate {
        name: "upgrade::REPO_IMAGE_IN_LONGHORN_STATIC",
        versions: &[super::upgrade::REPO_IMAGE_IN_LONGHORN_STATIC],
        what: "the repository image is in longhorn-static",
    },
    Gate {
        name: "upgrade::RESTORE_VM_JOBS",
        versions: &[super::upgrade::RESTORE_VM_JOBS],
        what: "restore-VM jobs on multi-node clusters",
    },
    Gate {
        name: "upgrade::WORKLOAD_UPDATE_METHODS_BACKUP",
        versions: super::upgrade::WORKLOAD_UPDATE_METHODS_BACKUP,
        what: "KubeVirt workload update methods backed up",
    },
    Gate {
        name: "upgrade::SKIP_RKE2_MANIFESTS",
        versions: super::upgrade::SKIP_RKE2_MANIFESTS,
        what: "skip-rke2-manifests plans",
    },
];

/// The newest release the knowledge covers.
pub fn newest_release() -> (u64, u64, u64) {
    RELEASES.last().copied().unwrap_or((0, 0, 0))
}

/// How `range` covers the releases of minor `(major, minor)`: `yes` (all), `-` (none), `.2+`
/// (from patch 2), `-.2` (up to patch 2), or the patches listed.
pub fn coverage_cell(ranges: &[Range], major: u64, minor: u64) -> String {
    let patches: Vec<(u64, bool)> = RELEASES
        .iter()
        .filter(|r| r.0 == major && r.1 == minor)
        .map(|r| {
            (r.2, {
                let v = Version::parse(&format!("v{}.{}.{}", r.0, r.1, r.2));
                ranges.iter().any(|x| x.contains(&v))
            })
        })
        .collect();
    let has: Vec<u64> = patches.iter().filter(|p| p.1).map(|p| p.0).collect();
    if has.is_empty() {
        return "-".into();
    }
    if has.len() == patches.len() {
        return "yes".into();
    }
    let first = patches.iter().position(|p| p.1).unwrap_or(0);
    let suffix = patches.iter().skip(first).all(|p| p.1);
    let prefix = first == 0 && patches.iter().skip_while(|p| p.1).all(|p| !p.1);
    match (suffix, prefix, has.first(), has.last()) {
        (true, _, Some(f), _) => format!(".{f}+"),
        (_, true, _, Some(l)) => format!("-.{l}"),
        _ => has
            .iter()
            .map(|p| format!(".{p}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The table `sbdiag rules --versions` prints: every admission check, UpgradeLog denial group
/// and named gate against each minor release (`v1.0` … `v1.9`).
pub fn version_matrix() -> (Vec<String>, Vec<Vec<String>>) {
    let mut minors: Vec<(u64, u64)> = RELEASES.iter().map(|r| (r.0, r.1)).collect();
    minors.dedup();
    let mut header = vec!["CHECK".to_string(), "WHAT".to_string()];
    header.extend(minors.iter().map(|(a, b)| format!("v{a}.{b}")));
    let row = |id: &str, what: &str, ranges: &[Range]| {
        let mut r = vec![id.to_string(), what.to_string()];
        r.extend(minors.iter().map(|(a, b)| coverage_cell(ranges, *a, *b)));
        r
    };
    let mut rows: Vec<Vec<String>> = ADMISSION
        .iter()
        .map(|c| row(c.id, c.name, std::slice::from_ref(&c.versions)))
        .collect();
    rows.extend(GATES.iter().map(|g| row(g.name, g.what, g.versions)));
    (header, rows)
}

/// The namespace of Rancher's CAPI controllers on the running version (the older one when the
/// version is not known).
pub fn capi_namespace(running: Option<&Version>) -> &'static str {
    if running.is_some_and(|v| CAPI_IN_CATTLE_CAPI_SYSTEM.contains(v)) {
        "cattle-capi-system"
    } else {
        "cattle-provisioning-capi-system"
    }
}

/// Upgrades to these versions run an `upgrade_manifests.sh` whose `wait_managed_chart` also
/// waits for the ManagedChart's `status.unavailable` to be 0, so a chart can be Ready and still
/// hold the upgrade (harvester/harvester#10693). The script is the target version's.
pub const WAIT_MANAGED_CHART_UNAVAILABLE: Range = Range::since(1, 9, 0);
/// Where the webhook finds the API server addresses for its certificate check (C27/C28): the
/// ready IPv4 endpoints of default/kubernetes's EndpointSlices from v1.9.0 (harvester
/// "common: drop the Endpoints"), the Endpoints object's addresses before.
pub const KUBERNETES_IPS_FROM_ENDPOINT_SLICES: Range = Range::since(1, 9, 0);

/// The webhook's checks in its order of evaluation (§A.1), then the controller's version gate.
pub static ADMISSION: &[AdmissionCheck] = &[
    AdmissionCheck {
        id: "C1",
        name: "version or image specified",
        versions: Range::since(1, 0, 0),
        inputs: &[],
        reads: "the new Upgrade's spec.version / spec.image",
        texts: &[t("", ALL, "version or image field are not specified.")],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C2",
        name: "target Version object exists",
        versions: Range::since(1, 2, 0),
        inputs: &[lists::VERSIONS],
        reads: "versions.harvesterhci.io harvester-system/<spec.version>",
        texts: &[t("", ALL, "version {version} is not found")],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C3",
        name: "no other upgrade in progress",
        versions: Range::since(1, 0, 0),
        inputs: &[lists::UPGRADES],
        reads: "upgrades.harvesterhci.io in harvester-system, label harvesterhci.io/upgradeState \
                notin (Succeeded,Failed) — a missing label matches too",
        texts: &[t(
            "",
            ALL,
            "cannot proceed until previous upgrade \"{upgrade}\" completes",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C4",
        name: "no upgrade waiting for cleanup",
        versions: Range::since(1, 7, 0),
        inputs: &[lists::UPGRADES],
        reads: "upgrades.harvesterhci.io, label harvesterhci.io/upgradeCleanup=Pending",
        texts: &[t(
            "",
            ALL,
            "cannot proceed until the following upgrades completed their cleanup process: \
             {upgrades}",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C5",
        name: "upgrade-state selector (defensive)",
        versions: Range::since(1, 1, 2),
        inputs: &[],
        reads: "nothing in the cluster (defensive)",
        texts: &[t("", ALL, "{label} label is already set as {a} or {b}")],
        judged: Judged::Recognised,
    },
    AdmissionCheck {
        id: "C6",
        name: "node-upgrade pause map of the new Upgrade",
        versions: Range::since(1, 7, 0),
        inputs: &[],
        reads: "annotation harvesterhci.io/node-upgrade-pause-map of the new Upgrade",
        texts: &[
            t(
                "unmarshal",
                ALL,
                "fail to unmarshal {annotation} annotation, err: {err}",
            ),
            t(
                "action",
                ALL,
                "desired action for node {node} must be either \"pause\" or \"unpause\"",
            ),
            t("node", ALL, "node {node} does not exist"),
        ],
        judged: Judged::Recognised,
    },
    AdmissionCheck {
        id: "C7",
        name: "no degraded volume (3+ nodes)",
        versions: Range::since(1, 1, 0),
        inputs: &[lists::NODES, lists::LH_VOLUMES],
        reads: "nodes (count); volumes.longhorn.io in longhorn-system, status.robustness",
        texts: &[t(
            "",
            ALL,
            "there are degraded volumes, please check all volumes are healthy",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C8/C9",
        name: "CAPI cluster fleet-local/local provisioned",
        versions: Range::since(1, 1, 0),
        inputs: &[lists::CAPI_CLUSTERS],
        reads: "clusters.cluster.x-k8s.io fleet-local/local, status.phase (the phase from v1.1.2)",
        texts: &[
            t(
                "missing",
                ALL,
                "can't find fleet-local/local cluster, err: clusters.cluster.x-k8s.io \"local\" \
                 not found",
            ),
            t(
                "phase",
                Range::since(1, 1, 2),
                "cluster fleet-local/local status is {phase}, please wait for it to be provisioned",
            ),
        ],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C10",
        name: "no VM backup or snapshot in progress",
        versions: Range::since(1, 4, 0),
        inputs: &[lists::VM_BACKUPS],
        reads: "virtualmachinebackups.harvesterhci.io, status.error and status.readyToUse (a \
                missing status counts in v1.4.x)",
        texts: &[t(
            "",
            ALL,
            "please wait until all vmbackups are stopped, for example {backup} is under \
             processing",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C11",
        name: "every backup/snapshot schedule suspended",
        versions: Range::since(1, 4, 0),
        inputs: &[lists::BACKUP_SCHEDULES],
        reads: "schedulevmbackups.harvesterhci.io, status.suspended",
        texts: &[t(
            "",
            ALL,
            "please suspend all backup/snapshot schedule, for example {schedule} is running",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C12",
        name: "every ManagedChart in fleet-local Ready",
        versions: Range::since(1, 1, 2),
        inputs: &[lists::MANAGED_CHARTS],
        reads: "managedcharts.management.cattle.io in fleet-local, the first \
                status.conditions[type=Ready]",
        texts: &[
            t(
                "",
                Range::through_minor((1, 1, 2), (1, 6)),
                "managed chart {chart} is not ready, please wait for it to be ready",
            ),
            t(
                "",
                Range::since(1, 7, 0),
                "managed chart {chart} is not ready, please wait for it to be ready or fix it",
            ),
        ],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C13",
        name: "addons settled",
        versions: Range::since(1, 7, 0),
        inputs: &[lists::ADDONS],
        reads: "addons.harvesterhci.io, spec.enabled and status.status",
        texts: &[t(
            "",
            ALL,
            "addon {addon} is {enabled} but still on status {status}, please wait for it to be \
             ready or fix it",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C14",
        name: "every node Ready",
        versions: Range::since(1, 1, 2),
        inputs: &[lists::NODES],
        reads: "nodes, status.conditions[type=Ready]",
        texts: &[t(
            "",
            ALL,
            "node {node} is not ready, please wait for it to be ready",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C15",
        name: "no node unschedulable (cordoned, maintenance)",
        versions: Range::since(1, 1, 2),
        inputs: &[lists::NODES],
        reads: "nodes, spec.unschedulable",
        texts: &[t(
            "",
            ALL,
            "node {node} is unschedulable, please wait for it to be schedulable",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C16",
        name: "every node has rke2.io/internal-ip",
        versions: Range::since(1, 2, 0),
        inputs: &[lists::NODES],
        reads: "nodes, annotation rke2.io/internal-ip",
        texts: &[t(
            "",
            ALL,
            "node {node} doesn't have rke2.io/internal-ip annotation",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C17",
        name: "free system partition space (30 GiB)",
        versions: Range::between((1, 2, 0), (1, 4, 3)),
        inputs: &[Input::Live(
            "each kubelet's /stats/summary (free bytes of the system partition)",
        )],
        reads: "kubelet /stats/summary of each node (live)",
        texts: &[t(
            "",
            ALL,
            "Node \"{node}\" has insufficient free system partition space {free} ({df}). The \
             upgrade requires at least {min} of free system partition space on each node.",
        )],
        judged: Judged::Live,
    },
    AdmissionCheck {
        id: "C18",
        name: "image garbage-collection threshold after loading new images",
        versions: Range::since(1, 2, 2),
        inputs: &[Input::Live("each kubelet's /stats/summary and /configz")],
        reads: "kubelet /stats/summary and /configz of each node (live)",
        texts: &[
            t(
                "",
                Range::through_minor((1, 2, 2), (1, 3)),
                "Node \"{node}\" uses {percent}% storage space. It's higher than kubelet image \
                 garbage collection threshold {threshold}%.",
            ),
            t(
                "",
                Range::since(1, 4, 0),
                "Node \"{node}\" will reach {percent}% storage space after loading new images. \
                 It's higher than kubelet image garbage collection threshold {threshold}%.",
            ),
        ],
        judged: Judged::Live,
    },
    AdmissionCheck {
        id: "C19",
        name: "kubelet stats reachable",
        versions: Range::since(1, 2, 0),
        inputs: &[Input::Live("each kubelet's /stats/summary endpoint")],
        reads: "kubelet endpoints (live transport)",
        texts: &[
            t(
                "request",
                ALL,
                "node {node}, can't make http request to get {url}, err: {err}",
            ),
            t(
                "status",
                ALL,
                "node {node}, http response from {url} is {code}",
            ),
            t(
                "stats",
                ALL,
                "can't get node {node} filesystem stats from {url}, err: {err}",
            ),
            t(
                "json",
                ALL,
                "node {node}, can't parse json response {url}, err: {err}",
            ),
        ],
        judged: Judged::Recognised,
    },
    AdmissionCheck {
        id: "C20",
        name: "every CAPI machine Running",
        versions: Range::since(1, 1, 2),
        inputs: &[lists::CAPI_MACHINES],
        reads: "machines.cluster.x-k8s.io in fleet-local, status.phase",
        texts: &[t("", ALL, "machine {machine} is not running")],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C21",
        name: "nodes and machines match",
        versions: Range::since(1, 5, 1),
        inputs: &[lists::NODES, lists::CAPI_MACHINES],
        reads: "nodes (label harvesterhci.io/managed, annotation cluster.x-k8s.io/machine); \
                machines, status.nodeRef",
        texts: &[
            t("no-node", ALL, "no node was listed, this shall not happen"),
            t(
                "count",
                ALL,
                "nodes({nodes}) and machines({machines}) do not match, check the cluster provision",
            ),
            t(
                "empty-noderef",
                ALL,
                "machine {machine} has empty NodeRef, check the cluster provision",
            ),
            t("no-labels", ALL, "node {node} has no labels"),
            t(
                "no-managed-label",
                ALL,
                "node {node} has no expected label harvesterhci.io/managed",
            ),
            // The typo is the webhook's own.
            t("no-annotations", ALL, "node {node} has no nnnotations"),
            t(
                "no-machine-annotation",
                ALL,
                "node {node} has no expected annotation cluster.x-k8s.io/machine, check the \
                 cluster provision",
            ),
            t(
                "missing-machine",
                ALL,
                "node {node} refers to machine {machine}, but the machine does not exist",
            ),
            t(
                "other-node",
                ALL,
                "node {node} refers to machine {machine}, but the machine refers to another node \
                 {other}",
            ),
        ],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C22",
        name: "no active single-replica volume",
        versions: Range::between((1, 3, 0), (1, 4, 3)),
        inputs: &[lists::NODES, lists::LH_VOLUMES],
        reads: "volumes.longhorn.io spec.numberOfReplicas and status.state; \
                status.kubernetesStatus",
        texts: &[t(
            "",
            ALL,
            "The backing volumes of the following PVCs have single replica configured, please \
             consider shutdown the corresponding workload before upgrade: {pvcs}",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C23",
        name: "no single-replica volume, even detached",
        versions: Range::since(1, 5, 0),
        inputs: &[lists::NODES, lists::LH_VOLUMES],
        reads: "volumes.longhorn.io spec.numberOfReplicas; status.kubernetesStatus",
        texts: &[
            t(
                "",
                ALL,
                "Following PVCs with single-replica volume, even the volume is detached, upgrade \
                 may have potential data integrity concerns: {pvcs}",
            ),
            t(
                "skip-detached",
                ALL,
                "Following PVCs with active single-replica volume, please consider shutdown the \
                 corresponding workload before upgrade: {pvcs}",
            ),
        ],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C24",
        name: "no non-live-migratable VM running",
        versions: Range::since(1, 2, 2),
        inputs: &[lists::NODES, lists::VMIS, lists::SETTINGS],
        reads: "virtualmachineinstances.kubevirt.io (nodeSelector, hostDevices — present at all \
                up to v1.8.2, non-empty from v1.9 —, whether another schedulable node, \
                non-witness from v1.6, matches its required node affinity or, without one, \
                exists; cdrom/containerDisk in v1.4.1–v1.7.x); nodes; setting upgrade-config \
                restoreVM (v1.6+)",
        texts: &[t(
            "",
            ALL,
            "There are non-live migratable VMs that need to be shut off before initiating the \
             upgrade: {vms}",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C25",
        name: "no pending volume hotplug request",
        versions: Range::since(1, 8, 2),
        inputs: &[lists::NODES, lists::VMS, lists::SETTINGS],
        reads: "virtualmachines.kubevirt.io status.volumeRequests",
        texts: &[t(
            "",
            ALL,
            "There are VMs with pending volume hotplug requests (status.volumeRequests) which are \
             no longer processed with the DeclarativeHotplugVolumes feature gate and block the VM \
             reconciliation. Stop and start these VMs before initiating the upgrade: {vms}",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C26",
        name: "no hot-plugged volume missing from the VM spec",
        versions: Range::since(1, 8, 2),
        inputs: &[lists::NODES, lists::VMS, lists::VMIS, lists::SETTINGS],
        reads: "virtualmachineinstances.kubevirt.io volumes (hotpluggable) vs \
                virtualmachines.kubevirt.io spec.template.spec.volumes",
        texts: &[t(
            "",
            ALL,
            "There are running VMs with hot-plugged volumes that exist in the VMI but not in the \
             VM spec. Such volumes are hot-unplugged automatically with the \
             DeclarativeHotplugVolumes feature gate. Remove the volumes or make them persistent \
             before initiating the upgrade: {vms}",
        )],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "C27",
        name: "RKE2 certificates valid for 7+ days",
        versions: Range::since(1, 5, 0),
        inputs: &[Input::Live(
            "a TLS handshake with default/kubernetes (certificate expiry)",
        )],
        reads: "a live TLS handshake with default/kubernetes",
        texts: &[t(
            "",
            ALL,
            "earliest expiring cert for default/kubernetes ClusterIP is {cert}, it will expire in \
             {days} days. Please rotate RKE2 certificates.",
        )],
        judged: Judged::Live,
    },
    AdmissionCheck {
        id: "C28",
        name: "kubernetes service reachable for the certificate check",
        versions: Range::since(1, 5, 0),
        inputs: &[lists::ENDPOINTS, lists::ENDPOINT_SLICES],
        reads: "the addresses of default/kubernetes: its Endpoints object (to v1.8.x), the ready \
                IPv4 endpoints of its EndpointSlices (v1.9.0+)",
        texts: &[
            t(
                "no-ip",
                ALL,
                "can't get kubernetes ip, err: cluster ip is empty",
            ),
            t("list", ALL, "can't get list of kubernetes ip, err: {err}"),
            t(
                "handshake",
                ALL,
                "can't get earliest expiring cert, err: {err}",
            ),
        ],
        judged: Judged::Simulated,
    },
    AdmissionCheck {
        id: "A.5",
        name: "version compatibility (controller, after the repo VM is up)",
        versions: Range::since(1, 2, 2),
        inputs: &[lists::VERSIONS],
        reads: "the running version; the target Version's spec.minUpgradableVersion",
        texts: &[
            t(
                "min-version",
                Range::through_minor((1, 2, 2), (1, 3)),
                "The current version {from} is less than the minimum upgradable version {min}.",
            ),
            t(
                "min-version",
                VERSION_GUARD,
                "current version does not meet minimum upgrade requirement",
            ),
            t(
                "dev-to-release",
                VERSION_GUARD,
                "upgrading from dev versions to non-dev versions is prohibited",
            ),
            t("dev", VERSION_GUARD, "incomparable: dev version"),
            t("downgrade", VERSION_GUARD, "downgrading is prohibited"),
            t(
                "prerelease",
                VERSION_GUARD,
                "cross-version upgrades from/to any prerelease version are prohibited",
            ),
        ],
        judged: Judged::Simulated,
    },
];

/// The UpgradeLog validating webhook exists (harvester/harvester#10674).
pub const UPGRADELOG_WEBHOOK: Range = Range::since(1, 9, 0);

/// One refusal of the UpgradeLog validating webhook.
#[derive(Debug, Clone, Copy)]
pub struct UpgradeLogDenial {
    /// Id (`UL1` … in the order the webhook checks).
    pub id: &'static str,
    /// The text (Go `%s`/`%v` as `{slots}`).
    pub text: Text,
    /// What it means for a support engineer, and what to do.
    pub meaning: &'static str,
}

/// The UpgradeLog validating webhook (v1.9.0+, harvester/harvester#10674): it lets only
/// Harvester's controller create an UpgradeLog, for an existing Upgrade with logging on that is
/// still setting logging up, once per Upgrade. A denial is therefore about a hand-made or
/// duplicate UpgradeLog, or an upgrade past its logging phase.
pub static UPGRADELOG_ADMISSION: &[UpgradeLogDenial] = &[
    UpgradeLogDenial {
        id: "UL1",
        text: t(
            "",
            UPGRADELOG_WEBHOOK,
            "upgradelog can only be created by the harvester controller",
        ),
        meaning: "someone (a user, a script, a restored backup) tried to create an UpgradeLog; only \
                  Harvester's controller may. Leave UpgradeLogs to the upgrade.",
    },
    UpgradeLogDenial {
        id: "UL2",
        text: t("", UPGRADELOG_WEBHOOK, "upgradeName field is not specified"),
        meaning: "an UpgradeLog without spec.upgradeName was refused.",
    },
    UpgradeLogDenial {
        id: "UL3",
        text: t(
            "",
            UPGRADELOG_WEBHOOK,
            "UpgradeLog must be created in namespace {ns}",
        ),
        meaning: "an UpgradeLog outside harvester-system was refused.",
    },
    UpgradeLogDenial {
        id: "UL4",
        text: t(
            "",
            UPGRADELOG_WEBHOOK,
            "referenced upgrade {upgrade} not found in namespace {ns}",
        ),
        meaning: "the UpgradeLog names an Upgrade that does not exist (deleted, or a leftover \
                  re-applied).",
    },
    UpgradeLogDenial {
        id: "UL5",
        text: t(
            "",
            UPGRADELOG_WEBHOOK,
            "failed to get upgrade {upgrade}: {err}",
        ),
        meaning: "the webhook could not read the Upgrade (API server trouble at that moment).",
    },
    UpgradeLogDenial {
        id: "UL6",
        text: t(
            "",
            UPGRADELOG_WEBHOOK,
            "LogEnabled is false for upgrade {upgrade}",
        ),
        meaning: "the Upgrade was created with logging off (spec.logEnabled false), so no \
                  UpgradeLog may exist for it.",
    },
    UpgradeLogDenial {
        id: "UL7",
        text: t(
            "",
            UPGRADELOG_WEBHOOK,
            "cannot create upgradeLog: upgrade {upgrade} is not initializing or waiting for logging infrastructure",
        ),
        meaning: "the Upgrade is already past its logging phase (or finished); its UpgradeLog \
                  cannot be created now.",
    },
    UpgradeLogDenial {
        id: "UL8",
        text: t(
            "",
            UPGRADELOG_WEBHOOK,
            "failed to list existing upgradelogs: {err}",
        ),
        meaning: "the webhook could not list UpgradeLogs (API server trouble at that moment).",
    },
    UpgradeLogDenial {
        id: "UL9",
        text: t(
            "",
            UPGRADELOG_WEBHOOK,
            "upgradelog {log} already exists for upgrade {upgrade}",
        ),
        meaning: "the Upgrade already has an UpgradeLog; a second one was refused.",
    },
    UpgradeLogDenial {
        id: "UL10",
        text: t(
            "",
            UPGRADELOG_WEBHOOK,
            "spec.upgradeName is immutable and cannot be changed",
        ),
        meaning: "an edit tried to point an UpgradeLog at another Upgrade.",
    },
];

/// The UpgradeLog webhook's denial with this id.
pub fn upgradelog_denial(id: &str) -> Option<&'static UpgradeLogDenial> {
    UPGRADELOG_ADMISSION.iter().find(|d| d.id == id)
}

/// Denials of DELETE (deleting an Upgrade to stop it, §A.3).
pub static ADMISSION_DELETE: &[Text] = &[
    t(
        "provisioning",
        Range::since(1, 1, 0),
        "cluster fleet-local/local status is provisioning, please wait for it to be provisioned",
    ),
    t(
        "node-upgrade",
        Range::since(1, 3, 2),
        "node upgrade is in progressing, please wait for it to be provisioned",
    ),
];

/// The check with this id.
pub fn check(id: &str) -> Option<&'static AdmissionCheck> {
    ADMISSION.iter().find(|c| c.id == id)
}

/// The text check `id` returns for `case` in version `v`, filled in; `None` when the webhook of
/// `v` has no such check (or no such text).
pub fn denial(id: &str, case: &str, v: &Version, args: &[(&str, &str)]) -> Option<String> {
    check(id)?.text(case, v, args)
}

/// The denial a not-Ready ManagedChart gets from the webhook of `v` (C12); `None` when that
/// webhook does not check ManagedCharts.
pub fn managed_chart_denial(chart: &str, v: &Version) -> Option<String> {
    denial("C12", "", v, &[("chart", chart)])
}

/// Which check a denial text seen in an event or a log comes from (`C12`, `delete`), whatever
/// the version: every text of the table, with its slots matching anything.
pub fn recognise(message: &str) -> Option<&'static str> {
    static PATTERNS: OnceLock<Vec<(&'static str, regex::Regex)>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        let extra = EXTRA_TEXTS
            .get()
            .into_iter()
            .flatten()
            .filter_map(|(id, t)| check(id).map(|c| (c.id, t.text)));
        let texts = ADMISSION
            .iter()
            .flat_map(|c| c.texts.iter().map(move |t| (c.id, t.text)))
            .chain(extra)
            .chain(ADMISSION_DELETE.iter().map(|t| ("delete", t.text)))
            .chain(UPGRADELOG_ADMISSION.iter().map(|d| (d.id, d.text.text)));
        // Most literal text first, so that a short text whose slots could swallow a longer
        // one (`node {node} does not exist`) never shadows it.
        let mut v: Vec<(usize, &'static str, regex::Regex)> = texts
            .filter_map(|(id, text)| {
                Some((
                    literal_len(text),
                    id,
                    regex::Regex::new(&pattern(text)).ok()?,
                ))
            })
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.0));
        v.into_iter().map(|(_, id, re)| (id, re)).collect()
    });
    patterns
        .iter()
        .find(|(_, re)| re.is_match(message))
        .map(|(id, _)| *id)
}

/// Characters of `text` outside its `{slots}`.
fn literal_len(text: &str) -> usize {
    let mut n = 0;
    let mut depth = false;
    for c in text.chars() {
        match c {
            '{' => depth = true,
            '}' => depth = false,
            _ if !depth => n += 1,
            _ => {}
        }
    }
    n
}

/// A regular expression matching `text` with its `{slots}` filled by anything (a trailing
/// period optional: logs and events often drop it).
fn pattern(text: &str) -> String {
    let text = text.strip_suffix('.').unwrap_or(text);
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&regex::escape(&rest[..open]));
        out.push_str(".*?");
        rest = &rest[open + close + 1..];
    }
    out.push_str(&regex::escape(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s)
    }

    #[test]
    fn ids_unique_and_texts_within_check_versions() {
        let mut ids: Vec<&str> = ADMISSION.iter().map(|c| c.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate check id");
        for c in ADMISSION {
            assert!(!c.texts.is_empty(), "{} has no text", c.id);
            // Every version the check exists in has a text for its default case (or every case
            // is named).
            for probe in [
                "v1.0.0", "v1.1.2", "v1.2.2", "v1.3.2", "v1.4.1", "v1.5.1", "v1.6.0",
            ]
            .iter()
            .chain(&["v1.7.0", "v1.8.2", "v1.9.0"])
            {
                let pv = v(probe);
                if c.exists_in(&pv) {
                    let cases: Vec<&str> = c.texts.iter().map(|t| t.case).collect();
                    assert!(
                        cases.iter().any(|case| c.text(case, &pv, &[]).is_some()),
                        "{} has no text in {probe}",
                        c.id
                    );
                }
            }
        }
    }

    #[test]
    fn managed_chart_text_by_version() {
        assert_eq!(managed_chart_denial("harvester", &v("v1.1.1")), None);
        assert_eq!(
            managed_chart_denial("harvester", &v("v1.4.0")).as_deref(),
            Some("managed chart harvester is not ready, please wait for it to be ready")
        );
        assert_eq!(
            managed_chart_denial("harvester", &v("v1.6.9")).as_deref(),
            Some("managed chart harvester is not ready, please wait for it to be ready")
        );
        assert_eq!(
            managed_chart_denial("harvester", &v("v1.7.0")).as_deref(),
            Some("managed chart harvester is not ready, please wait for it to be ready or fix it")
        );
        assert_eq!(managed_chart_denial("harvester", &v("master-head")), None);
    }

    #[test]
    fn texts_by_version_and_case() {
        assert_eq!(denial("C4", "", &v("v1.6.1"), &[]), None);
        assert!(
            denial("C4", "", &v("v1.7.0"), &[("upgrades", "a,b")])
                .is_some_and(|t| t.ends_with(": a,b"))
        );
        assert_eq!(denial("C8/C9", "phase", &v("v1.1.0"), &[]), None);
        assert!(denial("C8/C9", "missing", &v("v1.1.0"), &[]).is_some());
        assert!(
            denial(
                "A.5",
                "min-version",
                &v("v1.3.2"),
                &[("from", "v1.3.2"), ("min", "v1.4.0")]
            )
            .is_some_and(|t| t.starts_with("The current version v1.3.2 is less"))
        );
        assert_eq!(
            denial("A.5", "min-version", &v("v1.4.0"), &[]).as_deref(),
            Some("current version does not meet minimum upgrade requirement")
        );
        assert!(denial("C18", "", &v("v1.3.0"), &[]).is_some_and(|t| t.contains(" uses ")));
        assert!(denial("C18", "", &v("v1.4.0"), &[]).is_some_and(|t| t.contains("will reach")));
        assert_eq!(denial("C17", "", &v("v1.5.0"), &[]), None);
        assert_eq!(denial("C22", "", &v("v1.5.0"), &[]), None);
        assert!(denial("C23", "", &v("v1.5.0"), &[]).is_some());
    }

    #[test]
    fn the_version_matrix_shows_partial_minors() {
        assert_eq!(coverage_cell(&[Range::since(1, 8, 2)], 1, 8), ".2+");
        assert_eq!(coverage_cell(&[Range::since(1, 8, 2)], 1, 9), "yes");
        assert_eq!(coverage_cell(&[Range::since(1, 8, 2)], 1, 7), "-");
        assert_eq!(
            coverage_cell(&[Range::between((1, 2, 0), (1, 4, 3))], 1, 4),
            "yes"
        );
        assert_eq!(
            coverage_cell(&[MIGRATION_CHECK_COUNTS_EMPTY_HOST_DEVICES], 1, 2),
            ".2+"
        );
        assert_eq!(
            coverage_cell(&[Range::between((1, 5, 0), (1, 5, 1))], 1, 5),
            "-.1"
        );
        let (header, rows) = version_matrix();
        assert_eq!(header.get(2).map(String::as_str), Some("v1.0"));
        assert_eq!(header.last().map(String::as_str), Some("v1.9"));
        let c25 = rows.iter().find(|r| r[0] == "C25").expect("C25");
        assert_eq!(
            &c25[c25.len() - 2..],
            [".2+".to_string(), "yes".to_string()]
        );
        assert!(rows.iter().any(|r| r[0] == "UPGRADELOG_WEBHOOK"));
        // A gate of two ranges: v1.7.2+ of v1.7, and v1.8.1+.
        let w = rows
            .iter()
            .find(|r| r[0] == "upgrade::WORKLOAD_UPDATE_METHODS_BACKUP")
            .expect("gate");
        assert_eq!(
            &w[w.len() - 3..],
            [".2+".to_string(), ".1+".to_string(), "yes".to_string()]
        );
    }

    #[test]
    fn capi_controllers_move_to_cattle_capi_system_in_v1_8() {
        assert_eq!(
            capi_namespace(Some(&v("v1.7.3"))),
            "cattle-provisioning-capi-system"
        );
        assert_eq!(capi_namespace(Some(&v("v1.8.0"))), "cattle-capi-system");
        assert_eq!(capi_namespace(None), "cattle-provisioning-capi-system");
    }

    #[test]
    fn recognises_the_upgradelog_webhooks_denials() {
        assert_eq!(
            recognise(
                "upgradelog hvst-upgrade-x-upgradelog already exists for upgrade hvst-upgrade-x"
            ),
            Some("UL9")
        );
        assert_eq!(
            recognise(
                "cannot create upgradeLog: upgrade hvst-upgrade-x is not initializing or waiting for logging infrastructure"
            ),
            Some("UL7")
        );
        assert_eq!(
            recognise("upgradelog can only be created by the harvester controller"),
            Some("UL1")
        );
        assert_eq!(UPGRADELOG_ADMISSION.len(), 10);
        assert!(
            UPGRADELOG_ADMISSION
                .iter()
                .all(|d| d.text.versions.contains(&v("v1.9.0"))
                    && !d.text.versions.contains(&v("v1.8.2")))
        );
    }

    #[test]
    fn recognises_texts_from_any_version() {
        let seen = |m: &str| recognise(m);
        assert_eq!(
            seen("managed chart harvester is not ready, please wait for it to be ready"),
            Some("C12")
        );
        assert_eq!(
            seen(
                "managed chart rancher-monitoring-crd is not ready, please wait for it to be ready or fix it"
            ),
            Some("C12")
        );
        assert_eq!(seen("version or image field are not specified"), Some("C1"));
        assert_eq!(
            seen("cannot proceed until previous upgrade \"hvst-upgrade-x\" completes"),
            Some("C3")
        );
        assert_eq!(seen("node n1 has no nnnotations"), Some("C21"));
        assert_eq!(
            seen("node n1 refers to machine m1, but the machine does not exist"),
            Some("C21")
        );
        assert_eq!(seen("node n9 does not exist"), Some("C6"));
        assert_eq!(
            seen("node upgrade is in progressing, please wait for it to be provisioned"),
            Some("delete")
        );
        assert_eq!(
            seen(
                "cluster fleet-local/local status is Provisioning, please wait for it to be provisioned"
            ),
            Some("C8/C9")
        );
        assert_eq!(seen("something else entirely"), None);
    }

    #[test]
    fn user_line() {
        assert_eq!(
            as_user_sees("x"),
            "admission webhook \"validator.harvesterhci.io\" denied the request: x"
        );
    }
}
