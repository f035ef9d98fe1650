//! The PersistentVolume view: the bound claim and the storage class.
use serde::Deserialize;

use super::generic::GenericStatus;
use super::{Decoded, Doc, EventRef, View, parse};
use crate::model::de;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PvSpec {
    claim_ref: Option<EventRef>,
    #[serde(deserialize_with = "de::opt_str")]
    storage_class_name: Option<String>,
}

/// A PersistentVolume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PvView {
    /// Namespace of the bound claim.
    pub claim_namespace: Option<String>,
    /// Name of the bound claim.
    pub claim_name: Option<String>,
    /// Storage class.
    pub storage_class: Option<String>,
}

/// Decodes a PersistentVolume.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: Doc<PvSpec, GenericStatus> = parse(text)?;
    let claim = d.spec.claim_ref.unwrap_or_default();
    let nonempty = |s: String| (!s.is_empty()).then_some(s);
    Ok(Decoded {
        api_version: d.api_version,
        kind: d.kind,
        meta: d.metadata,
        status: d.status.common(),
        view: View::PersistentVolume(Box::new(PvView {
            claim_namespace: nonempty(claim.namespace),
            claim_name: nonempty(claim.name),
            storage_class: d.spec.storage_class_name,
        })),
    })
}
