use std::io;
use std::path::PathBuf;

/// Failures of the orchestrator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The failure.
        source: io::Error,
    },

    /// A line of a conformance case file is not a case.
    #[error("{path}:{line}: not a conformance case: {message}")]
    CaseFile {
        /// The case file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },

    /// The Wasm runtime refused something.
    #[error(transparent)]
    Runtime(#[from] stepwasm_runtime::Error),
}

/// The orchestrator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
