//! What a rule or a sub-check needs from the bundle, as typed values: the engine checks each
//! declared [`Input`] against what was collected and records `not_evaluated` with the missing
//! input instead of running the check, so a silent check always means "checked and fine".
use std::fmt;

/// An input a rule or check needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// `metadata.yaml` with a capture time.
    CaptureTime,
    /// Any resource YAML at all.
    Resources,
    /// A resource list, by (group, plural).
    Resource(&'static str, &'static str),
    /// `bundleGenerationError.log`.
    GenerationLog,
    /// The coverage ledger (always available).
    Coverage,
    /// At least one node bundle.
    NodeBundles,
    /// Pod logs.
    PodLogs,
    /// The running Harvester version (detected, or `--from-version`).
    HarvesterVersion,
    /// Something only the live cluster has (kubelet stats, host files, TLS handshakes): never
    /// in a bundle, so a rule needing it is always `not_evaluated`, with this description.
    Live(&'static str),
}

impl Input {
    /// Human name, for `rules --explain` and not-evaluated reasons.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::CaptureTime => f.write_str("capture time (metadata.yaml bundlecreatedat)"),
            Input::Resources => f.write_str("resource YAMLs (yamls/)"),
            Input::Resource("", r) => write!(f, "{r} (core)"),
            Input::Resource(g, r) => write!(f, "{r}.{g}"),
            Input::GenerationLog => f.write_str("bundleGenerationError.log"),
            Input::Coverage => f.write_str("coverage ledger"),
            Input::NodeBundles => f.write_str("node bundles (nodes/*.zip)"),
            Input::PodLogs => f.write_str("pod logs (logs/)"),
            Input::Live(what) => write!(f, "live data: {what}"),
            Input::HarvesterVersion => f.write_str(
                "Harvester version (server-version setting, node release file, or --from-version)",
            ),
        }
    }
}

/// Resource lists rules and checks read, named once.
pub mod lists {
    use super::Input;
    /// `nodes` (core).
    pub const NODES: Input = Input::Resource("", "nodes");
    /// `upgrades.harvesterhci.io`.
    pub const UPGRADES: Input = Input::Resource("harvesterhci.io", "upgrades");
    /// `versions.harvesterhci.io`.
    pub const VERSIONS: Input = Input::Resource("harvesterhci.io", "versions");
    /// `settings.harvesterhci.io`.
    pub const SETTINGS: Input = Input::Resource("harvesterhci.io", "settings");
    /// `addons.harvesterhci.io`.
    pub const ADDONS: Input = Input::Resource("harvesterhci.io", "addons");
    /// `virtualmachinebackups.harvesterhci.io`.
    pub const VM_BACKUPS: Input = Input::Resource("harvesterhci.io", "virtualmachinebackups");
    /// `schedulevmbackups.harvesterhci.io`.
    pub const BACKUP_SCHEDULES: Input = Input::Resource("harvesterhci.io", "schedulevmbackups");
    /// `volumes.longhorn.io`.
    pub const LH_VOLUMES: Input = Input::Resource("longhorn.io", "volumes");
    /// `clusters.cluster.x-k8s.io`.
    pub const CAPI_CLUSTERS: Input = Input::Resource("cluster.x-k8s.io", "clusters");
    /// `machines.cluster.x-k8s.io`.
    pub const CAPI_MACHINES: Input = Input::Resource("cluster.x-k8s.io", "machines");
    /// `managedcharts.management.cattle.io`.
    pub const MANAGED_CHARTS: Input = Input::Resource("management.cattle.io", "managedcharts");
    /// `virtualmachines.kubevirt.io`.
    pub const VMS: Input = Input::Resource("kubevirt.io", "virtualmachines");
    /// `virtualmachineinstances.kubevirt.io`.
    pub const VMIS: Input = Input::Resource("kubevirt.io", "virtualmachineinstances");
    /// `endpoints` (core).
    pub const ENDPOINTS: Input = Input::Resource("", "endpoints");
    /// `endpointslices.discovery.k8s.io`.
    pub const ENDPOINT_SLICES: Input = Input::Resource("discovery.k8s.io", "endpointslices");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes() {
        assert_eq!(lists::NODES.describe(), "nodes (core)");
        assert_eq!(lists::LH_VOLUMES.describe(), "volumes.longhorn.io");
        assert_eq!(Input::Live("x").describe(), "live data: x");
    }
}
