//! JSON renderer (`report.json`, `--json`): pretty-printed, deterministic.
use super::Report;

/// Renders the report as JSON text with a trailing newline.
pub fn render(report: &Report) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!("{{\"error\": \"cannot serialise report: {e}\"}}\n"),
    }
}
