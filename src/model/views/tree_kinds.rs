//! Decoding of the kinds kept whole ([`super::TREE_KINDS`]) into a compact tree.
use serde::Deserialize;

use super::generic::GenericStatus;
use super::{Decoded, View, parse};
use crate::model::Meta;
use crate::model::tree::Tree;

/// Decodes a kind kept whole ([`super::TREE_KINDS`]): its metadata into [`Meta`], the rest
/// into a compact tree.
pub(super) fn decode(text: &str) -> Result<Decoded, yaml_serde::Error> {
    let mut v: serde_json::Value = parse(text)?;
    // The metadata lives in `meta` only: the tree keeps the rest (labels and
    // annotations held twice were a third of a tree's memory).
    let meta = v
        .as_object_mut()
        .and_then(|m| m.remove("metadata"))
        .and_then(|m| Meta::deserialize(m).ok())
        .unwrap_or_default();
    let status = v
        .get("status")
        .and_then(|st| GenericStatus::deserialize(st).ok())
        .unwrap_or_default()
        .common();
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    Ok(Decoded {
        api_version: s("apiVersion"),
        kind: s("kind"),
        meta,
        status,
        view: View::Tree(Box::new(Tree::from_bundle(v))),
    })
}
