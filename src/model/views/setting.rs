//! The Setting view (Harvester, Rancher, Longhorn): `value` and `default` at the top level.
use serde::Deserialize;

use super::generic::GenericStatus;
use super::{Decoded, View, parse};
use crate::model::{Meta, de};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SettingDoc {
    #[serde(deserialize_with = "de::string")]
    api_version: String,
    #[serde(deserialize_with = "de::string")]
    kind: String,
    metadata: Meta,
    #[serde(deserialize_with = "de::opt_str")]
    value: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    default: Option<String>,
    status: GenericStatus,
}

/// A Setting: `value` and `default` at the top level.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingView {
    pub value: Option<String>,
    pub default: Option<String>,
}

impl SettingView {
    /// The value in effect: `value`, or `default` when unset.
    pub fn effective(&self) -> Option<&str> {
        self.value.as_deref().or(self.default.as_deref())
    }
}

/// Decodes a Setting (Harvester, Rancher, Longhorn).
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: SettingDoc = parse(text)?;
    Ok(Decoded {
        api_version: d.api_version,
        kind: d.kind,
        meta: d.metadata,
        status: d.status.common(),
        view: View::Setting(Box::new(SettingView {
            value: d.value,
            default: d.default,
        })),
    })
}

#[cfg(test)]
mod tests {
    use crate::model::views::{View, decode};

    #[test]
    fn setting_value() {
        let y = "apiVersion: harvesterhci.io/v1beta1\nkind: Setting\nmetadata:\n  name: server-version\nvalue: v1.4.0\ndefault: \"null\"\n";
        let d = decode("Setting", "harvesterhci.io", y).unwrap();
        let View::Setting(s) = d.view else { panic!() };
        assert_eq!(s.effective(), Some("v1.4.0"));
    }
}
