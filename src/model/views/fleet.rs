//! Decoding of Fleet objects and ManagedCharts into [`FleetView`] (the view itself and its
//! readiness logic are in `model/fleet.rs`).
use super::{Decoded, Doc, StatusFields, View, parse};
use crate::model::fleet::{FleetSpec, FleetStatus, FleetView};

/// Decodes a Fleet Bundle, BundleDeployment, Cluster or GitRepo, or a ManagedChart.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let mut d: Doc<FleetSpec, FleetStatus> = parse(text)?;
    let conditions = std::mem::take(&mut d.status.conditions);
    let observed_generation = d.status.observed_generation;
    let view = FleetView::from_parts(d.spec, d.status);
    Ok(Decoded {
        api_version: d.api_version,
        kind: d.kind,
        meta: d.metadata,
        status: StatusFields {
            conditions,
            observed_generation,
            state: view.display.get("state").cloned(),
            own_summary: view.own_summary(),
            ..StatusFields::default()
        }
        .into(),
        view: View::Fleet(Box::new(view)),
    })
}
