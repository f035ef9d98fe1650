//! What every kind has: the common status (conditions, phase, state, observed generation,
//! own summary) and, for kinds without a view, `spec.active`.
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{CommonStatus, Decoded, Doc, OwnSummary, StatusFields, View, parse};
use crate::model::{Condition, de};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct GenericStatus {
    #[serde(deserialize_with = "de::lenient_vec")]
    conditions: Vec<Condition>,
    #[serde(deserialize_with = "de::opt_str")]
    phase: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    state: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    observed_generation: Option<i64>,
    /// KubeVirt's `printableStatus` (Running, Stopped, ...), shown as the state.
    #[serde(deserialize_with = "de::opt_str")]
    printable_status: Option<String>,
    #[serde(deserialize_with = "own_summary")]
    display: Option<OwnSummary>,
    #[serde(deserialize_with = "own_summary")]
    summary: Option<OwnSummary>,
}

/// `Some` only for a non-empty map (wrangler ignores empty or non-map values).
fn own_summary<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<OwnSummary>, D::Error> {
    let v = yaml_serde::Value::deserialize(d)?;
    match v {
        yaml_serde::Value::Mapping(m) if !m.is_empty() => {
            Ok(OwnSummary::deserialize(yaml_serde::Value::Mapping(m)).ok())
        }
        _ => Ok(None),
    }
}

/// The only `spec` field read from kinds without a view: `spec.active`. Any other shape of
/// `spec` (or none) is skipped without buffering it.
#[derive(Default)]
struct GenericSpec {
    active: Option<String>,
}

impl<'de> Deserialize<'de> for GenericSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GenericSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a spec")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<GenericSpec, A::Error> {
                let mut spec = GenericSpec::default();
                while let Some(k) = a.next_key::<de::Scalar>()? {
                    if k.0.as_deref() == Some("active") {
                        spec.active = a.next_value::<de::Scalar>()?.0;
                    } else {
                        a.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(spec)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<GenericSpec, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(GenericSpec::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_unit<E>(self) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
            fn visit_none<E>(self) -> Result<GenericSpec, E> {
                Ok(GenericSpec::default())
            }
        }
        d.deserialize_any(V)
    }
}

impl GenericStatus {
    pub(super) fn common(self) -> CommonStatus {
        StatusFields {
            conditions: self.conditions,
            phase: self.phase,
            state: self.state.or(self.printable_status),
            observed_generation: self.observed_generation,
            own_summary: self.display.or(self.summary),
            spec_active: None,
        }
        .into()
    }
}

/// Decodes a kind without a dedicated view: metadata, common status and `spec.active`.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: Doc<GenericSpec, GenericStatus> = parse(text)?;
    let mut status = d.status.common();
    if d.spec.active.is_some() {
        status.spec_active = d.spec.active;
    }
    Ok(Decoded {
        api_version: d.api_version,
        kind: d.kind,
        meta: d.metadata,
        status,
        view: View::Generic,
    })
}
