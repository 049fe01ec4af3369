use std::error::Error as StdError;
use std::io;
use std::path::PathBuf;

/// A failure of the host, as opposed to a failure of the guest.
///
/// Guest failures (a named task error, a trap, a timeout) are not errors of the runtime: they are
/// reported in [`InvocationReport::outcome`](crate::InvocationReport::outcome) so the workflow
/// can retry or catch them. This type covers what goes wrong before a guest can run: an unknown
/// function, a component that does not fit the contract, an unusable cache directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine could not be created with any supported configuration.
    #[error("the WebAssembly engine could not be configured: {source}")]
    Engine {
        /// What wasmtime reported for the last configuration tried.
        source: Box<dyn StdError + Send + Sync>,
    },

    /// The bytes are not a component that implements the `stepwasm:task` world.
    #[error("`{function}` is not a valid task function: {reason}")]
    InvalidComponent {
        /// The name the function was being registered under.
        function: String,
        /// What is wrong with it, in terms of the contract.
        reason: String,
    },

    /// The limits asked for cannot be honoured by this runtime.
    #[error("invalid limits for `{function}`: {reason}")]
    InvalidLimits {
        /// The function being registered.
        function: String,
        /// Which limit, and why.
        reason: String,
    },

    /// A directory granted to a function cannot be opened.
    #[error("the directory {path} granted to `{function}` cannot be opened: {source}")]
    GrantedDirectory {
        /// The function being registered.
        function: String,
        /// The host path that was granted.
        path: PathBuf,
        /// Why it cannot be opened.
        source: io::Error,
    },

    /// A function is granted a secret the server does not have.
    #[error("`{function}` is granted the secret `{secret}`, which this server does not have")]
    MissingSecret {
        /// The function being registered.
        function: String,
        /// The secret's name.
        secret: String,
    },

    /// No function of that name is registered.
    #[error("no function named `{0}` is registered")]
    UnknownFunction(String),

    /// The artifact cache directory cannot be used.
    #[error("the artifact cache at {path} cannot be used: {source}")]
    Cache {
        /// The file or directory involved.
        path: PathBuf,
        /// The I/O failure.
        source: io::Error,
    },

    /// The host could not set up an instance for an invocation (not the guest's fault).
    #[error("`{function}` could not be instantiated: {source}")]
    Instantiation {
        /// The function being invoked.
        function: String,
        /// What wasmtime reported.
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Keeps wasmtime's error chain (its `Display` with `{:#}`) in a boxed source.
pub(crate) fn boxed(error: &wasmtime::Error) -> Box<dyn StdError + Send + Sync> {
    format!("{error:#}").into()
}
