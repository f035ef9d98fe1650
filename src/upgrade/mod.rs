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
pub mod plan;
#[cfg(test)]
mod testkit;

use crate::facts::version::Version;
use crate::fleet::FleetState;
use crate::graph::Graph;
use crate::index::Index;
use crate::model::Timestamp;

/// The version an upgrade would go to, and its Version object when there is one.
#[derive(Debug, Clone, Default)]
pub struct TargetVersion {
    /// The version.
    pub version: Version,
    /// The `versions.harvesterhci.io` object in harvester-system, when present.
    pub object: Option<usize>,
    /// Where it came from (`--to-version`, or the newest Version object).
    pub source: String,
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
    pub from: Version,
    /// Where the running version was read.
    pub from_source: String,
    /// The target, when known.
    pub to: Option<TargetVersion>,
    /// Whether a resource list (group, plural) was collected (absent lists mean "none").
    pub collected: &'a dyn Fn(&str, &str) -> bool,
    /// Whether an input is there (`Err` says why not): the engine's judgement, which decides
    /// `not_evaluated` for a check before it runs.
    pub available: &'a dyn Fn(crate::facts::input::Input) -> Result<(), String>,
    /// Pod log lines the analysis searched for before the rules (known-issue patterns,
    /// pre-drain steps).
    pub log_hits: &'a [known::LogHit],
}

/// Version objects in harvester-system, newest first.
pub fn version_objects(index: &Index) -> Vec<(usize, Version)> {
    let mut v: Vec<(usize, Version)> = index
        .of_kind("harvesterhci.io", "Version")
        .filter(|o| o.key.namespace == "harvester-system")
        .filter_map(|o| Some((index.position(&o.key)?, Version::parse(&o.key.name))))
        .collect();
    v.sort_by(|a, b| b.1.num.cmp(&a.1.num).then_with(|| a.1.raw.cmp(&b.1.raw)));
    v
}

/// The target: `--to-version` (with its Version object when present), else the newest Version
/// object above the running version — what the UI would offer.
pub fn target(index: &Index, from: &Version, requested: Option<&str>) -> Option<TargetVersion> {
    let versions = version_objects(index);
    match requested {
        Some(r) => {
            let want = Version::parse(r);
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
