//! Harvester upgrades from the bundle alone (`reference/upgrade-blockers.md`): what the
//! upgrade admission webhook of the running version would deny ([`admission`]), the upgrade in
//! progress and what it waits on ([`lifecycle`]), what finished or failed upgrades left behind
//! ([`leftover`]), the upgrade-helpers pre-check script's checks ([`precheck`]), and known issues
//! by upgrade path, kept as data ([`known`]). A combiner over the index: rules turn its results
//! into findings; nothing here reads the archive.
pub mod admission;
pub mod known;
pub mod leftover;
pub mod lifecycle;
pub mod version;

use crate::fleet::FleetState;
use crate::graph::Graph;
use crate::index::Index;
use crate::model::Timestamp;
use crate::model::views::View;
use version::HVersion;

/// The version an upgrade would go to, and its Version object when there is one.
#[derive(Debug, Clone, Default)]
pub struct TargetVersion {
    /// The version.
    pub version: HVersion,
    /// The `versions.harvesterhci.io` object in harvester-system, when present.
    pub object: Option<usize>,
    /// Where it came from (`--to-version`, or the newest Version object).
    pub source: String,
}

impl Default for HVersion {
    fn default() -> HVersion {
        HVersion::parse("")
    }
}

/// What the upgrade logic looks at.
pub struct Env<'a> {
    /// The index.
    pub index: &'a Index,
    /// The status graph.
    pub graph: &'a Graph,
    /// Fleet's state.
    pub fleet: &'a FleetState,
    /// Capture time.
    pub capture: Option<Timestamp>,
    /// The running ("from") version.
    pub from: HVersion,
    /// Where the running version was read.
    pub from_source: String,
    /// The target, when known.
    pub to: Option<TargetVersion>,
    /// Whether a resource list (group, plural) was collected (absent lists mean "none").
    pub collected: &'a dyn Fn(&str, &str) -> bool,
}

/// Version objects in harvester-system, newest first.
pub fn version_objects(index: &Index) -> Vec<(usize, HVersion)> {
    let mut v: Vec<(usize, HVersion)> = index
        .of_kind("harvesterhci.io", "Version")
        .filter(|o| o.key.namespace == "harvester-system")
        .filter_map(|o| Some((index.position(&o.key)?, HVersion::parse(&o.key.name))))
        .collect();
    v.sort_by(|a, b| b.1.num.cmp(&a.1.num).then_with(|| a.1.raw.cmp(&b.1.raw)));
    v
}

/// The target: `--to-version` (with its Version object when present), else the newest Version
/// object above the running version — what the UI would offer.
pub fn target(index: &Index, from: &HVersion, requested: Option<&str>) -> Option<TargetVersion> {
    let versions = version_objects(index);
    match requested {
        Some(r) => {
            let want = HVersion::parse(r);
            let object = versions
                .iter()
                .find(|(_, v)| {
                    v.raw == want.raw || (v.num.is_some() && v.num == want.num && v.pre == want.pre)
                })
                .map(|(i, _)| *i);
            Some(TargetVersion {
                version: want,
                object,
                source: "--to-version".into(),
            })
        }
        None => versions
            .into_iter()
            .find(|(_, v)| matches!((v.num, from.num), (Some(a), Some(b)) if a > b))
            .map(|(i, v)| TargetVersion {
                version: v,
                object: Some(i),
                source: "the newest Version object in harvester-system above the running version"
                    .into(),
            }),
    }
}

/// The name of a Setting's effective value.
pub fn setting(index: &Index, group: &str, name: &str) -> Option<String> {
    index
        .find(
            group,
            "Setting",
            if group == "longhorn.io" {
                "longhorn-system"
            } else {
                ""
            },
            name,
        )
        .and_then(|o| match &o.view {
            View::Setting(s) => s.effective().map(str::to_string),
            _ => None,
        })
}
