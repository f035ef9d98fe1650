//! The Event view, one shape for core and `events.k8s.io` Events (count, first and last
//! time, regarding object, reason, message).
use std::sync::Arc;

use serde::Deserialize;

use super::{CommonStatus, Decoded, View, parse};
use crate::model::{Meta, de};

/// The object an event is about.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct EventRef {
    #[serde(deserialize_with = "de::shared")]
    pub kind: Arc<str>,
    #[serde(deserialize_with = "de::shared")]
    pub namespace: Arc<str>,
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub uid: String,
    // `fieldPath` (which container) is not kept: nothing reads it, and a bundle holds tens of
    // thousands of events.
}

/// Who reported an event (`source` / `deprecatedSource`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct EventSource {
    #[serde(deserialize_with = "de::opt_shared")]
    host: Option<Arc<str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventSeries {
    #[serde(deserialize_with = "de::opt_int")]
    count: Option<i64>,
    #[serde(rename = "lastObservedTime", deserialize_with = "de::opt_str")]
    last_observed_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EventDoc {
    #[serde(deserialize_with = "de::string")]
    api_version: String,
    #[serde(deserialize_with = "de::string")]
    kind: String,
    metadata: Meta,
    #[serde(rename = "type", deserialize_with = "de::opt_shared")]
    kind_of_event: Option<Arc<str>>,
    #[serde(deserialize_with = "de::opt_shared")]
    reason: Option<Arc<str>>,
    #[serde(deserialize_with = "de::opt_str")]
    message: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    note: Option<String>,
    involved_object: Option<EventRef>,
    regarding: Option<EventRef>,
    source: Option<EventSource>,
    deprecated_source: Option<EventSource>,
    #[serde(deserialize_with = "de::opt_int")]
    count: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    deprecated_count: Option<i64>,
    series: Option<EventSeries>,
    #[serde(deserialize_with = "de::opt_str")]
    first_timestamp: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    deprecated_first_timestamp: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    last_timestamp: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    deprecated_last_timestamp: Option<String>,
    #[serde(deserialize_with = "de::opt_str")]
    event_time: Option<String>,
}

/// An Event, from either API group, in one shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventView {
    /// `type`: Normal or Warning (shared, like the reason, the regarded kind and namespace and
    /// the host: they repeat across a bundle's events).
    pub kind: Option<Arc<str>>,
    pub reason: Option<Arc<str>>,
    pub message: Option<String>,
    pub regarding: EventRef,
    pub count: i64,
    pub first: Option<String>,
    pub last: Option<String>,
    /// The node whose component reported it (`source.host`), when set.
    pub host: Option<Arc<str>>,
}

/// Decodes a core or `events.k8s.io` Event into one shape.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let d: EventDoc = parse(text)?;
    let regarding = d.involved_object.or(d.regarding).unwrap_or_default();
    let host = d
        .source
        .or(d.deprecated_source)
        .and_then(|s| s.host)
        .filter(|h| !h.is_empty() && &**h != "null");
    let count = d
        .count
        .or(d.deprecated_count)
        .or(d.series.as_ref().and_then(|s| s.count))
        .unwrap_or(1);
    let last = d
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.clone())
        .or(d.last_timestamp)
        .or(d.deprecated_last_timestamp)
        .or(d.event_time.clone());
    let first = d
        .first_timestamp
        .or(d.deprecated_first_timestamp)
        .or(d.event_time);
    Ok(Decoded {
        api_version: d.api_version,
        kind: d.kind,
        meta: d.metadata,
        status: CommonStatus::default(),
        view: View::Event(Box::new(EventView {
            kind: d.kind_of_event,
            reason: d.reason,
            message: d.message.or(d.note),
            regarding,
            count,
            first,
            last,
            host,
        })),
    })
}

#[cfg(test)]
mod tests {
    use crate::model::views::{View, decode};

    #[test]
    fn events_from_both_groups_look_alike() {
        let core = "apiVersion: v1\nkind: Event\nmetadata:\n  name: e\n  namespace: default\n  uid: u\ncount: 3\nfirstTimestamp: \"2022-03-06T23:09:58Z\"\nlastTimestamp: \"2022-03-06T23:10:58Z\"\neventTime: \"null\"\ninvolvedObject:\n  kind: Pod\n  name: p\n  namespace: default\nmessage: hello\nreason: Pulled\nsource:\n  component: kubelet\ntype: Normal\n";
        let new = "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata:\n  name: e\n  namespace: default\n  uid: u\ndeprecatedCount: 3\ndeprecatedFirstTimestamp: \"2022-03-06T23:09:58Z\"\ndeprecatedLastTimestamp: \"2022-03-06T23:10:58Z\"\neventTime: \"null\"\nregarding:\n  kind: Pod\n  name: p\n  namespace: default\nnote: hello\nreason: Pulled\ndeprecatedSource:\n  component: kubelet\ntype: Normal\n";
        let a = decode("Event", "", core).unwrap();
        let b = decode("Event", "events.k8s.io", new).unwrap();
        assert_eq!(a.view, b.view);
        let View::Event(e) = a.view else { panic!() };
        assert_eq!(e.count, 3);
        assert_eq!(e.message.as_deref(), Some("hello"));
        assert_eq!(e.last.as_deref(), Some("2022-03-06T23:10:58Z"));
        let host = "apiVersion: v1\nkind: Event\nmetadata:\n  name: e\nsource:\n  component: kubelet\n  host: node2\n";
        let View::Event(h) = decode("Event", "", host).unwrap().view else {
            panic!()
        };
        assert_eq!(h.host.as_deref(), Some("node2"));
    }
}
