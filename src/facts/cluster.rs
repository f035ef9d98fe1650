//! Cluster facts several rules read: a Setting's value in effect, the `upgrade-config` setting,
//! whether a node is a witness. Each is derived here once, the way Harvester's own code reads
//! it, so that two rules cannot disagree about it.
use crate::index::{Index, Object};
use crate::model::views::View;

/// Label Harvester puts on witness nodes (`node-role.harvesterhci.io/witness`).
pub const WITNESS_LABEL: &str = "node-role.harvesterhci.io/witness";

/// A Harvester (cluster-scoped) or Longhorn (`longhorn-system`) Setting object.
pub fn setting_object<'a>(index: &'a Index, group: &str, name: &str) -> Option<&'a Object> {
    let ns = if group == "longhorn.io" {
        "longhorn-system"
    } else {
        ""
    };
    index.find(group, "Setting", ns, name)
}

/// A Setting's value in effect: `value`, or `default` when the value is empty, as Harvester's
/// settings code reads it; `None` when both are empty.
pub fn setting_value(o: &Object) -> Option<&str> {
    let View::Setting(s) = &o.view else {
        return None;
    };
    match s.value.as_deref() {
        Some(v) if !v.is_empty() => Some(v),
        _ => s.default.as_deref().filter(|d| !d.is_empty()),
    }
}

/// The value in effect of a Setting, by name.
pub fn setting(index: &Index, group: &str, name: &str) -> Option<String> {
    setting_value(setting_object(index, group, name)?).map(str::to_string)
}

/// Whether a node is a witness: it carries the witness role label, whatever its value
/// (Harvester's `IsWitnessNode`).
pub fn is_witness(node: &Object) -> bool {
    node.meta.labels.contains_key(WITNESS_LABEL)
}

/// Harvester's `upgrade-config` setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpgradeConfig {
    /// `restoreVM` as written, when present.
    pub restore_vm: Option<serde_json::Value>,
    /// `nodeUpgradeOption.strategy.mode` (`auto` or `manual`, v1.7+), when present.
    pub node_upgrade_mode: Option<String>,
    /// `nodeUpgradeOption.strategy.pauseNodes` (v1.7+): the nodes a `manual` upgrade pauses
    /// before their pre-drain.
    pub pause_nodes: Vec<String>,
    /// `logReadyTimeout` as written (minutes, a string; v1.7+), when present.
    pub log_ready_timeout: Option<String>,
}

impl UpgradeConfig {
    /// Whether Harvester treats `restoreVM` as on: only a JSON `true` (its Go decoder rejects a
    /// string, and `IsRestoreVM` then reports false).
    pub fn restore_vm(&self) -> bool {
        self.restore_vm == Some(serde_json::Value::Bool(true))
    }

    /// Whether upgrade-helpers' check.sh treats `restoreVM` as on: `jq -r .restoreVM` prints
    /// `true` for the JSON `true` and for the string `"true"` alike, so the script (unlike
    /// Harvester, see [`UpgradeConfig::restore_vm`]) accepts both.
    pub fn restore_vm_for_check_sh(&self) -> bool {
        match &self.restore_vm {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        }
    }

    /// Parses the setting's value; `None` when it is not a JSON object.
    pub fn parse(value: &str) -> Option<UpgradeConfig> {
        let v: serde_json::Value = serde_json::from_str(value).ok()?;
        let o = v.as_object()?;
        let strategy = v.pointer("/nodeUpgradeOption/strategy");
        Some(UpgradeConfig {
            restore_vm: o.get("restoreVM").cloned(),
            node_upgrade_mode: strategy
                .and_then(|s| s.get("mode"))
                .and_then(|m| m.as_str())
                .map(str::to_string),
            pause_nodes: strategy
                .and_then(|s| s.get("pauseNodes"))
                .and_then(|p| p.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            log_ready_timeout: o.get("logReadyTimeout").and_then(|t| match t {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
        })
    }
}

/// The `upgrade-config` setting in effect; `None` when absent or unreadable.
pub fn upgrade_config(index: &Index) -> Option<UpgradeConfig> {
    UpgradeConfig::parse(&setting(index, "harvesterhci.io", "upgrade-config")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_upgrade_strategy_and_log_timeout() {
        let c = UpgradeConfig::parse(
            r#"{"nodeUpgradeOption":{"strategy":{"mode":"manual","pauseNodes":["n2"]}},"logReadyTimeout":"10"}"#,
        )
        .unwrap();
        assert_eq!(c.node_upgrade_mode.as_deref(), Some("manual"));
        assert_eq!(c.pause_nodes, vec!["n2".to_string()]);
        assert_eq!(c.log_ready_timeout.as_deref(), Some("10"));
        let d = UpgradeConfig::parse(r#"{"restoreVM":true}"#).unwrap();
        assert_eq!(d.node_upgrade_mode, None);
        assert!(d.pause_nodes.is_empty());
        assert_eq!(d.log_ready_timeout, None);
    }

    #[test]
    fn restore_vm_only_for_json_true() {
        let p = |s: &str| UpgradeConfig::parse(s).map(|c| c.restore_vm());
        assert_eq!(p(r#"{"restoreVM":true}"#), Some(true));
        assert_eq!(p(r#"{"restoreVM":false}"#), Some(false));
        assert_eq!(p(r#"{"restoreVM":"true"}"#), Some(false));
        assert_eq!(p(r#"{"imagePreloadOption":{}}"#), Some(false));
        assert_eq!(p("not json"), None);
        let sh = |s: &str| UpgradeConfig::parse(s).map(|c| c.restore_vm_for_check_sh());
        assert_eq!(sh(r#"{"restoreVM":"true"}"#), Some(true));
        assert_eq!(sh(r#"{"restoreVM":true}"#), Some(true));
        assert_eq!(sh(r#"{"restoreVM":"True"}"#), Some(false));
        assert_eq!(
            UpgradeConfig::parse(r#"{"restoreVM":"true"}"#)
                .and_then(|c| c.restore_vm)
                .and_then(|v| v.as_str().map(str::to_string))
                .as_deref(),
            Some("true")
        );
    }

    #[test]
    fn settings_and_witness_from_objects() {
        let idx = Index::from_yaml_objects(&[
            "apiVersion: harvesterhci.io/v1beta1\nkind: Setting\nmetadata:\n  name: upgrade-config\nvalue: \"\"\ndefault: '{\"restoreVM\": true}'\n",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: w\n  labels:\n    node-role.harvesterhci.io/witness: \"false\"\n",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n",
        ]);
        assert_eq!(
            setting(&idx, "harvesterhci.io", "upgrade-config").as_deref(),
            Some("{\"restoreVM\": true}")
        );
        assert!(upgrade_config(&idx).is_some_and(|c| c.restore_vm()));
        let w = idx.find("", "Node", "", "w").expect("node w");
        let n = idx.find("", "Node", "", "n").expect("node n");
        assert!(is_witness(w));
        assert!(!is_witness(n));
    }
}
