//! The crate's integration tests, as modules of one binary so that CI links once.
//!
//! - `conformance`: executions recorded on AWS, replayed against the interpreter.
//! - `jsonata`: the JSONata case files in `tests/jsonata/`.
//! - `ui`: golden files for parsing and validation (`tests/ui/`; `BLESS=1` rewrites them).
//! - `progress`: golden files for the per-state projection of histories (`tests/progress/`).

mod conformance;
mod golden;
mod jsonata;
mod progress;
mod ui;
