//! The stepwasm orchestrator: the workflow engine around the Wasm task runtime.
//!
//! stepwasm runs workflows written in Amazon States Language, with each `Task` state carried out
//! by a WebAssembly task function in `stepwasm-runtime`. This crate holds what sits above the
//! runtime: resolving task resources to deployed functions, the data directory, and the
//! `stepwasm` command-line interface (`src/cli/`).
//!
//! # Core concepts
//!
//! - [`DataDir`]: where stepwasm keeps what must survive a restart (compiled artifacts today).
//! - [`FunctionSource`]: where a function's component comes from: a file or a bundled sample.
//!
//! ```
//! use stepwasm_orchestrator::FunctionSource;
//!
//! let source = FunctionSource::resolve("validate-payment")?;
//! assert_eq!(source.name(), "validate-payment");
//! assert!(source.component()?.starts_with(b"\0asm"));
//! # Ok::<(), stepwasm_orchestrator::Error>(())
//! ```

#![warn(missing_docs)]

pub mod api;
mod client;
pub mod conformance;
mod data_dir;
pub mod engine;
mod error;
mod function_source;
mod function_store;
pub mod service;
pub mod store;

pub use client::{Client, ClientError};
pub use data_dir::DataDir;
pub use error::{Error, Result};
pub use function_source::FunctionSource;
pub use function_store::FunctionDirectory;
