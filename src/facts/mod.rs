//! Facts: what several rules need, derived once from the index and the typed views
//! (insights-core's combiners). A Harvester fact (a version gate, a denial text, a label, a
//! setting's meaning) is written here once; rules, explanations and fixes read it from here.

pub mod cluster;
pub mod coverage;
pub mod detect;
pub mod harvester;
pub mod immutable;
pub mod input;
pub mod kernel;
pub mod logcause;
pub mod node;
pub mod objectset;
pub mod services;
pub mod storage;
pub mod upgrade;
pub mod version;
pub mod vm;
