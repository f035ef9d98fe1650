//! The Validating/MutatingWebhookConfiguration view: each webhook's name, failure policy
//! and target, and the whole entry as JSON with the generator's `"null"` strings undone.
use serde::Deserialize;

use super::{CommonStatus, Decoded, View, parse};
use crate::model::{Meta, de};

/// One webhook of a Validating/MutatingWebhookConfiguration: the fields rules read, plus the
/// whole entry as JSON (strings un-mangled) to compare with what a chart renders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Webhook {
    /// `name`.
    pub name: String,
    /// `failurePolicy` (`Fail` when unset, as the API defaults it).
    pub failure_policy: String,
    /// `clientConfig.service` namespace and name, when the webhook calls a Service.
    pub service: Option<(String, String)>,
    /// `clientConfig.url`, when it calls a URL.
    pub url: Option<String>,
    /// The entry as JSON.
    pub raw: serde_json::Value,
}

/// A Validating/MutatingWebhookConfiguration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookConfigView {
    /// Its webhooks, in order.
    pub webhooks: Vec<Webhook>,
}

/// Replaces the generator's `"null"` strings by JSON null, recursively.
fn unmangle_json(mut v: serde_json::Value) -> serde_json::Value {
    unmangle_in_place(&mut v);
    v
}

/// [`unmangle_json`] without rebuilding the tree: only the strings that change are touched.
fn unmangle_in_place(v: &mut serde_json::Value) {
    use serde_json::Value as J;
    match v {
        J::String(s) => match de::unmangle(s) {
            None => *v = J::Null,
            Some(t) if t.len() == s.len() => {}
            Some(t) => {
                let n = t.len();
                s.truncate(n);
            }
        },
        J::Array(a) => a.iter_mut().for_each(unmangle_in_place),
        J::Object(m) => m.values_mut().for_each(unmangle_in_place),
        _ => {}
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WebhookDoc {
    #[serde(deserialize_with = "de::string")]
    api_version: String,
    #[serde(deserialize_with = "de::string")]
    kind: String,
    metadata: Meta,
    #[serde(deserialize_with = "de::lenient_vec")]
    webhooks: Vec<serde_json::Value>,
}

impl Webhook {
    fn from_json(raw: serde_json::Value) -> Webhook {
        let raw = unmangle_json(raw);
        let s = |v: Option<&serde_json::Value>| v.and_then(|x| x.as_str()).map(str::to_owned);
        let cc = raw.get("clientConfig");
        let service = cc.and_then(|c| c.get("service")).map(|svc| {
            (
                s(svc.get("namespace")).unwrap_or_default(),
                s(svc.get("name")).unwrap_or_default(),
            )
        });
        Webhook {
            name: s(raw.get("name")).unwrap_or_default(),
            failure_policy: s(raw.get("failurePolicy")).unwrap_or_else(|| "Fail".into()),
            service,
            url: s(cc.and_then(|c| c.get("url"))),
            raw,
        }
    }
}

/// Decodes a Validating or MutatingWebhookConfiguration.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: WebhookDoc = parse(text)?;
    Ok(Decoded {
        api_version: d.api_version,
        kind: d.kind,
        meta: d.metadata,
        status: CommonStatus::default(),
        view: View::Webhooks(Box::new(WebhookConfigView {
            webhooks: d.webhooks.into_iter().map(Webhook::from_json).collect(),
        })),
    })
}
