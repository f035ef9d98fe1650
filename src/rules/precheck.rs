//! The `upgrade.precheck.*` family: the checks of harvester/upgrade-helpers
//! `pre-check/v1.x/check.sh` that a support bundle can answer, one rule each; those that need
//! the live cluster (host files, kubelet stats, certificates on disk) are `not_evaluated`.
use super::Rule;

/// The pre-check rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    Vec::new()
}
