//! kubectl habits on a dump: `get`, `describe`, `events` and `logs`, answered from the index
//! (and, for `-o yaml` and logs, from the raw lines of the bundle). Ages are relative to the
//! capture time.
pub mod columns;
pub mod get;
pub mod graph;
pub mod jsonpath;
pub mod logs;
pub mod printers;
pub mod select;
pub mod table;
pub mod template;
pub mod whole;
