//! The PersistentVolume view: the bound claim, the storage class and the CSI volume behind it.
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
    csi: Option<CsiSource>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct CsiSource {
    #[serde(deserialize_with = "de::opt_str")]
    driver: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    volume_handle: Option<String>,
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
    /// `spec.csi.driver` (`driver.longhorn.io` for a Longhorn volume).
    pub csi_driver: Option<String>,
    /// `spec.csi.volumeHandle`: the driver's name for the volume (Longhorn's Volume name).
    pub volume_handle: Option<String>,
}

/// Decodes a PersistentVolume.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: Doc<PvSpec, GenericStatus> = parse(text)?;
    let claim = d.spec.claim_ref.unwrap_or_default();
    let csi = d.spec.csi.unwrap_or_default();
    let nonempty = |s: String| (!s.is_empty()).then_some(s);
    Ok(Decoded {
        api_version: d.api_version,
        kind: d.kind,
        meta: d.metadata,
        status: d.status.common(),
        view: View::PersistentVolume(Box::new(PvView {
            claim_namespace: nonempty(claim.namespace.to_string()),
            claim_name: nonempty(claim.name),
            storage_class: d.spec.storage_class_name,
            csi_driver: csi.driver.filter(|s| !s.is_empty()),
            volume_handle: csi.volume_handle.filter(|s| !s.is_empty()),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csi_driver_and_volume_handle() {
        let d = decode(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-1\nspec:\n  claimRef:\n    namespace: ns\n    name: data\n  csi:\n    driver: driver.longhorn.io\n    volumeHandle: pvc-1\n  storageClassName: longhorn\n",
        )
        .unwrap();
        let View::PersistentVolume(v) = d.view else {
            panic!("not a PV view")
        };
        assert_eq!(v.csi_driver.as_deref(), Some("driver.longhorn.io"));
        assert_eq!(v.volume_handle.as_deref(), Some("pvc-1"));
        assert_eq!(v.claim_name.as_deref(), Some("data"));
        let d = decode("apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: nfs\nspec:\n  csi:\n    driver: \"\"\n").unwrap();
        let View::PersistentVolume(v) = d.view else {
            panic!("not a PV view")
        };
        assert_eq!((v.csi_driver, v.volume_handle), (None, None));
    }
}
