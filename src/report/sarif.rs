//! SARIF 2.1.0 (for code-scanning dashboards and CI): one `rule` per sbdiag rule with its
//! description, one `result` per finding with its level, message, and locations = the
//! evidence's bundle-relative file and lines; checks not evaluated as tool execution
//! notifications. Each result's properties name the incident that holds the finding (id and
//! title) and whether it is that incident's cause; the run's properties list the incidents in
//! order. The rule list comes from the report (the analysis stage put the catalog's
//! descriptions there). Built as JSON, deterministic.
use serde_json::{Value, json};

use super::{CheckStatus, Report, Severity};

/// The SARIF JSON schema this output follows.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Renders the SARIF log.
pub fn render(r: &Report) -> String {
    let rules: Vec<Value> = r
        .rules
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "name": i.id.replace(['.', '-'], "_"),
                "shortDescription": {"text": i.title},
                "fullDescription": {"text": i.description},
                "properties": {"versions": i.versions},
            })
        })
        .collect();
    let index_of = |id: &str| r.rules.iter().position(|x| x.id == id);
    let incident_of = |f: &super::Finding| {
        f.incident
            .as_deref()
            .and_then(|id| r.incidents.iter().find(|i| i.id == id))
            .or_else(|| {
                r.incidents
                    .iter()
                    .find(|i| i.cause == f.id || i.effects.contains(&f.id))
            })
    };
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            // A finding an incident holds points at the incident's fix: its own, alone, could
            // undo what the cause needs (the cordon of a running upgrade's drain).
            let fix = match incident_of(f) {
                Some(i) if !i.remediation.trim().is_empty() => {
                    format!("Fix (incident {}: {}):\n{}", i.id, i.title, i.remediation)
                }
                _ => format!("Fix:\n{}", f.remediation),
            };
            let locations: Vec<Value> = f
                .evidence
                .iter()
                .filter(|e| !e.file.is_empty())
                .map(|e| {
                    let mut region = json!({});
                    if e.line > 0 {
                        region = json!({"startLine": e.line, "endLine": e.end_line.max(e.line)});
                        if !e.excerpt.is_empty()
                            && let Some(m) = region.as_object_mut()
                        {
                            m.insert("snippet".into(), json!({"text": e.excerpt}));
                        }
                    }
                    let mut phys =
                        json!({"artifactLocation": {"uri": e.file, "uriBaseId": "BUNDLE"}});
                    if e.line > 0
                        && let Some(m) = phys.as_object_mut()
                    {
                        m.insert("region".into(), region);
                    }
                    json!({"physicalLocation": phys})
                })
                .collect();
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": format!("{}\n\n{}\n\n{fix}", f.title, f.summary)},
                "locations": locations,
                "partialFingerprints": {"sbdiagFindingId": f.id},
                "properties": {
                    "objects": f.objects,
                    "references": f.references,
                },
            });
            if let (Some(i), Some(p)) = (
                incident_of(f),
                result.get_mut("properties").and_then(|p| p.as_object_mut()),
            ) {
                p.insert("incident".into(), json!(i.id));
                p.insert("incidentTitle".into(), json!(i.title));
                p.insert("incidentCause".into(), json!(i.cause == f.id));
            }
            if let Some(i) = index_of(&f.rule)
                && let Some(m) = result.as_object_mut()
            {
                m.insert("ruleIndex".into(), json!(i));
            }
            result
        })
        .collect();
    // Checks that could not be judged from the bundle: tool notifications, so a dashboard shows
    // them instead of counting them as passed.
    let notifications: Vec<Value> = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::NotEvaluated)
        .map(|c| {
            let mut n = json!({
                "level": "note",
                "message": {"text": match &c.check {
                    Some(k) => format!("{} {k} not evaluated: {}", c.rule, c.reason),
                    None => format!("{} not evaluated: {}", c.rule, c.reason),
                }},
            });
            if let (Some(i), Some(m)) = (index_of(&c.rule), n.as_object_mut()) {
                m.insert("associatedRule".into(), json!({"id": c.rule, "index": i}));
            }
            n
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sbdiag",
                "version": r.tool.version,
                "informationUri": "https://github.com/harvester/harvester",
                "rules": rules,
            }},
            "originalUriBaseIds": {"BUNDLE": {"description": {"text": format!("the support bundle {}", r.bundle.source)}}},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "bundle": r.bundle.source,
                "capturedAt": r.bundle.created_at,
                "verdict": r.verdict.headline,
                "incidents": r.incidents.iter().map(|i| json!({
                    "id": i.id,
                    "severity": i.severity.as_str(),
                    "title": i.title,
                    "cause": i.cause,
                    "effects": i.effects.len(),
                })).collect::<Vec<_>>(),
            },
        }],
    });
    let mut s =
        serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::report::Report;
    use crate::report::layout::tests::{incident, node_down_findings};

    #[test]
    fn results_name_their_incident() {
        let mut r = Report::empty_for_tests();
        r.findings = node_down_findings("Node n2 is not Ready");
        incident(
            &mut r,
            "incident:Node/n2",
            "Node n2 is down",
            "node.not-ready:Node/n2",
            &["fleet.stale-status:Bundle/x"],
        );
        r.incidents[0].remediation = "Check the node.\n$ kubectl get node n2".into();
        r.findings[1].remediation = "$ kubectl uncordon n2".into();
        r.findings[2].remediation = "vm fix".into();
        let v: serde_json::Value = serde_json::from_str(&render(&r)).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap();
        let p = |i: usize| &results[i]["properties"];
        assert_eq!(p(0)["incident"], "incident:Node/n2");
        assert_eq!(p(0)["incidentTitle"], "Node n2 is down");
        assert_eq!(p(0)["incidentCause"], true);
        assert_eq!(p(1)["incident"], "incident:Node/n2");
        assert_eq!(p(1)["incidentCause"], false);
        assert!(p(2).get("incident").is_none());
        // A held finding points at its incident's fix, never its own.
        let text = |i: usize| results[i]["message"]["text"].as_str().unwrap().to_string();
        assert!(text(1).ends_with("Fix (incident incident:Node/n2: Node n2 is down):\nCheck the node.\n$ kubectl get node n2"), "{}", text(1));
        assert!(!text(1).contains("uncordon"));
        assert!(text(2).ends_with("Fix:\nvm fix"));
        let incidents = &v["runs"][0]["properties"]["incidents"];
        assert_eq!(incidents[0]["id"], "incident:Node/n2");
        assert_eq!(incidents[0]["effects"], 1);
    }
}
