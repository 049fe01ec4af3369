//! Problems found in a definition, each with the JSON pointer of the field to fix.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One problem found in a definition.
///
/// `code` follows AWS `ValidateStateMachineDefinition` where a matching code is known
/// (`SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET` — which AWS also uses for unreachable
/// states —, `DUPLICATE_STATE_NAME`, `INVALID_JSON_DESCRIPTION`, …); `location` is a JSON pointer
/// into the definition (`/States/Charge/Next`), pointing at the field to fix wherever possible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Machine-readable problem class.
    pub code: String,
    /// JSON pointer to the offending field (`""` for the whole document).
    pub location: String,
    /// Human-readable explanation.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(code: &str, location: &str, message: impl Into<String>) -> Self {
        Diagnostic { code: code.to_owned(), location: location.to_owned(), message: message.into() }
    }
}

/// Formatted like statelint: `<location>: <message>`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = if self.location.is_empty() { "/" } else { &self.location };
        write!(f, "{loc}: {}", self.message)
    }
}

/// The problems found so far, in the order they were found.
pub(crate) type Diagnostics = Vec<Diagnostic>;

/// Escapes a key for use in a JSON pointer.
pub(crate) fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
