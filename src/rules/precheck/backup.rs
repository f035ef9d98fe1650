//! Pre-check #17 Backup-Target (v1.4.1–v1.4.2): `refreshIntervalInSeconds` set on a
//! configured backup target.

use crate::facts::cluster;
use crate::facts::version::Range;
use serde_json::Value;

use super::{Hit, RES, effective, findings, json, subject};
use crate::index::Object;
use crate::rules::{Context, Input, RuleDef, RuleInfo, Severity};

pub(super) const BACKUP_TARGET: RuleDef = RuleDef::new(
    RuleInfo {
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
    |info, cx| findings(info, cx, &[
        "https://docs.harvesterhci.io/v1.4/upgrade/v1-4-1-to-v1-4-2",
        "https://github.com/harvester/harvester/issues/7885",
    ], eval_backup_target(cx)),
)
.only(Range::between((1, 4, 1), (1, 4, 2)));

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
    let remediation = {
        // The setting's own value with the interval set: every other key is kept.
        let mut fixed = v.clone();
        if let Some(m) = fixed.as_object_mut() {
            m.insert("refreshIntervalInSeconds".into(), Value::from(60));
        }
        let patch = serde_json::json!({ "value": fixed.to_string() }).to_string();
        // A value holding more than where the target is (credentials, certificates) is
        // not copied into the report.
        let plain = v.as_object().is_some_and(|m| {
            m.keys().all(|k| {
                matches!(
                    k.as_str(),
                    "type"
                        | "endpoint"
                        | "refreshIntervalInSeconds"
                        | "bucketName"
                        | "bucketRegion"
                        | "virtualHostedStyle"
                )
            })
        });
        if !plain {
            "Set refreshIntervalInSeconds to a larger number (for example 60) in the \
                 setting's value before upgrading, keeping its other keys: Harvester UI → \
                 Advanced → Settings → backup-target."
                .to_string()
        } else {
            format!(
                "Set refreshIntervalInSeconds to a larger number (for example 60) before \
                 upgrading, keeping the value's other keys (Harvester UI → Advanced → Settings → \
                 backup-target), or with:\n$ kubectl patch settings.harvesterhci.io backup-target \
                 --type merge -p {}",
                crate::text::shell_quote(&patch)
            )
        }
    };
    vec![Hit {
        subject: subject(s, ""),
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
        remediation,
    }]
}

fn eval_backup_target<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    backup_target(cluster::setting_object(
        cx.index,
        "harvesterhci.io",
        "backup-target",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::precheck::fixtures::setting;

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
}
