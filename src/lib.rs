//! sbdiag: diagnose a Harvester cluster from its support bundle, offline.
//!
//! Data flows one way: [`archive`] (zip/tar/dir, limits) → [`bundle`] (layout, metadata, node
//! zips) → [`index`] (every object with its file and line range, decoded into the typed views of
//! [`model`]: keys, metadata, conditions, kinds, Fleet's readiness summarizer) → [`facts`]
//! (coverage, versions, Fleet ownership, Harvester's behaviour by version) → [`graph`] (the status
//! graph) → [`fleet`] (what Fleet claims vs what was captured) → [`upgrade`] and [`webhook`] →
//! [`rules`] (findings and checks) → [`analyze`] (the verdict, the timeline, and the `Report`
//! built in the contract's types) → [`report`] (renderers, which only format). [`text`] holds the
//! text helpers every stage shares. [`query`] answers kubectl-like questions from the same index.
//! The binary in `main.rs` is a thin CLI over this library; [`cli`] defines its arguments. The library has no `unsafe` code, and
//! may not get any. `tests/architecture.rs` fails on any import cycle between modules.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod analyze;
pub mod archive;
pub mod bundle;
pub mod cli;
pub mod diff;
pub mod error;
pub mod facts;
pub mod fleet;
pub mod graph;
pub mod index;
pub mod mcp;
pub mod model;
pub mod query;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod text;
pub mod upgrade;
pub mod webhook;

pub use error::{Error, Result};
