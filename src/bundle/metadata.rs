//! `metadata.yaml`: capture time, cluster id, Kubernetes version (lower-cased Go field names,
//! as yaml.v2 writes the generator's struct).
use serde::{Deserialize, Serialize};

use crate::model::de;

/// The bundle's `metadata.yaml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct Metadata {
    /// SupportBundle CR name.
    #[serde(deserialize_with = "de::opt_str")]
    pub bundlename: Option<String>,
    /// Always `0.1.0`.
    #[serde(deserialize_with = "de::opt_str")]
    pub bundleversion: Option<String>,
    /// API server version.
    #[serde(deserialize_with = "de::opt_str")]
    pub kubernetesversion: Option<String>,
    /// UID of `harvester-system`: the cluster id.
    #[serde(deserialize_with = "de::opt_str")]
    pub projectnamespaceuuid: Option<String>,
    /// Capture time, RFC 3339 UTC.
    #[serde(deserialize_with = "de::opt_str")]
    pub bundlecreatedat: Option<String>,
    /// Issue URL given when the bundle was requested.
    #[serde(deserialize_with = "de::opt_str")]
    pub issueurl: Option<String>,
    /// Description given when the bundle was requested.
    #[serde(deserialize_with = "de::opt_str")]
    pub issuedescription: Option<String>,
}

impl Metadata {
    /// Parses the file; an empty string field (written `""`) is absent.
    pub fn parse(text: &str) -> Result<Metadata, String> {
        // A real metadata.yaml is flat; refuse nesting before the parser pays for it.
        if let Some(why) = crate::model::de::too_deep(text) {
            return Err(why);
        }
        let mut m: Metadata = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        for f in [
            &mut m.bundlename,
            &mut m.kubernetesversion,
            &mut m.projectnamespaceuuid,
            &mut m.bundlecreatedat,
            &mut m.issueurl,
            &mut m.issuedescription,
        ] {
            if f.as_deref() == Some("") {
                *f = None;
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_shape() {
        let m = Metadata::parse("bundlename: \"\"\nbundleversion: 0.1.0\nkubernetesversion: v1.21.7+rke2r1\nprojectnamespaceuuid: 9b6b22de-6e5d-4905-aec8-1f226e413986\nbundlecreatedat: \"2022-03-22T23:49:32Z\"\nissueurl: \"\"\nissuedescription: \"\"\n").unwrap();
        assert_eq!(m.bundlecreatedat.as_deref(), Some("2022-03-22T23:49:32Z"));
        assert_eq!(m.bundlename, None);
        assert_eq!(m.kubernetesversion.as_deref(), Some("v1.21.7+rke2r1"));
    }

    #[test]
    fn tolerates_garbage_types() {
        assert!(
            Metadata::parse("bundlecreatedat: [1,2]\n")
                .unwrap()
                .bundlecreatedat
                .is_none()
        );
        assert!(Metadata::parse("{{{").is_err());
    }
}
