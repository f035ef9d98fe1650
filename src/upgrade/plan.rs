//! Upgrade V2: the UpgradePlans of the experimental harvester-upgrade-manager addon (v1.8+),
//! read as what they are — a phase, node states and conditions — and never as a legacy
//! Upgrade. The addon must not run while a legacy upgrade does (Harvester's Upgrade Manager
//! documentation, "Mutual exclusion with the built-in upgrade path").
use crate::index::{Index, Object};
use crate::model::condition;
use crate::model::typed::harvester::UpgradePlan;

/// The phases after which a plan does no more work.
const FINAL: [&str; 2] = ["Succeeded", "Failed"];

/// One UpgradePlan as captured.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Position in the index.
    pub object: usize,
    /// `spec.version`.
    pub version: String,
    /// `status.previousVersion`.
    pub from: Option<String>,
    /// `status.currentPhase` (empty when not set yet).
    pub phase: String,
    /// When it entered that phase.
    pub since: Option<String>,
    /// Node states: (node, state, reason or message).
    pub nodes: Vec<(String, String, Option<String>)>,
    /// The `Degraded` condition's message when it is True.
    pub degraded: Option<String>,
}

impl Plan {
    /// Whether it still works (no final phase).
    pub fn running(&self) -> bool {
        !FINAL.contains(&self.phase.as_str())
    }

    /// Whether it failed.
    pub fn failed(&self) -> bool {
        self.phase == "Failed"
    }
}

/// Every captured UpgradePlan.
pub fn plans(index: &Index) -> Vec<Plan> {
    index
        .typed::<UpgradePlan>()
        .filter_map(|(o, p)| {
            let object = index.position(&o.key)?;
            let phase = p.phase().unwrap_or("").to_string();
            Some(Plan {
                object,
                version: p.version().unwrap_or("").to_string(),
                from: p.previous_version().map(str::to_string),
                since: p.phase_since(&phase).map(str::to_string),
                nodes: p
                    .node_statuses()
                    .map(|(n, st)| {
                        (
                            n.to_string(),
                            st.state().unwrap_or("").to_string(),
                            st.reason().or(st.message()).map(str::to_string),
                        )
                    })
                    .collect(),
                degraded: degraded(o),
                phase,
            })
        })
        .collect()
}

fn degraded(o: &Object) -> Option<String> {
    condition(&o.status.conditions, "Degraded")
        .filter(|c| c.status == "True")
        .map(|c| c.message.clone().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::upgrade::testkit::World;

    fn plan(phase: &str, degraded: Option<&str>) -> serde_json::Value {
        let mut conditions =
            vec![json!({"type": "Progressing", "status": "True", "reason": "Executing"})];
        if let Some(m) = degraded {
            conditions.push(
                json!({"type": "Degraded", "status": "True", "reason": "Failed", "message": m}),
            );
        }
        json!({
            "apiVersion": "management.harvesterhci.io/v1beta1", "kind": "UpgradePlan",
            "metadata": {"name": "hvst-upgrade-abcde"},
            "spec": {"version": "v1.8.1", "mode": "automatic"},
            "status": {
                "currentPhase": phase, "previousVersion": "v1.8.0", "conditions": conditions,
                "phaseTransitionTimestamps": [
                    {"phase": "Initializing", "phaseTransitionTimestamp": "2026-05-01T10:00:00Z"},
                    {"phase": phase, "phaseTransitionTimestamp": "2026-05-01T11:00:00Z"}],
                "nodeUpgradeStatuses": {
                    "n1": {"state": "OSUpgraded"},
                    "n2": {"state": "OSUpgradeFailed", "reason": "Failed", "message": "job failed"}}
            }
        })
    }

    #[test]
    fn plans_are_read_with_phase_nodes_and_degraded_message() {
        let w = World::new(&[plan("NodeUpgrading", None)]);
        let p = plans(&w.index);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].version, "v1.8.1");
        assert_eq!(p[0].from.as_deref(), Some("v1.8.0"));
        assert_eq!(p[0].since.as_deref(), Some("2026-05-01T11:00:00Z"));
        assert!(p[0].running() && !p[0].failed());
        assert_eq!(
            p[0].nodes[1],
            ("n2".into(), "OSUpgradeFailed".into(), Some("Failed".into()))
        );
        let w = World::new(&[plan("Failed", Some("node n2 failed to upgrade"))]);
        let p = plans(&w.index);
        assert!(p[0].failed() && !p[0].running());
        assert_eq!(p[0].degraded.as_deref(), Some("node n2 failed to upgrade"));
    }
}
