//! The crate's error type.

use crate::diagnostic::Diagnostic;

/// Errors returned by this crate's fallible functions.
///
/// Failures *inside* an execution (a task error, `States.Runtime`, …) are not Rust errors: they
/// are part of the execution's history and outcome.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The definition is invalid; every problem found is listed.
    #[error("invalid state machine definition: {}", join(.0))]
    InvalidDefinition(Vec<Diagnostic>),
    /// A JSON document could not be parsed.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn join(diags: &[Diagnostic]) -> String {
    diags.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
