//! The sandboxed WebAssembly host that runs stepwasm task functions.
//!
//! A workflow's `Task` state names a *task function*: a WebAssembly component implementing the
//! `stepwasm:task` world (see `wit/task.wit` and `wit/README.md`). This crate compiles such
//! components, keeps them ready to instantiate, and runs each invocation in a fresh, isolated
//! instance under hard limits, standing in for what Lambda does with a function's timeout and
//! memory setting.
//!
//! # Core concepts
//!
//! - [`Runtime`]: one per process. It owns the wasmtime engine (with the pooling allocator tuned
//!   for thousands of short-lived instances), the artifact cache and the registered functions.
//! - [`Function`]: a registered component, compiled once, with its [`FunctionConfig`]. Compiled
//!   code is cached on disk by content hash, so a restart does not recompile.
//! - [`Invocation`]: one call: the JSON input, the execution and state it runs for, the attempt
//!   number and an optional shorter deadline. It produces an [`InvocationReport`]: the JSON
//!   output or a [`TaskFailure`], the guest's logs and captured stdout/stderr, the fuel used and
//!   the duration.
//! - [`FunctionLimits`] and [`FuelBudget`]: what one invocation may consume. Fuel bounds work
//!   (deterministically), the deadline bounds wall-clock time, and the memory cap bounds linear
//!   memory. Exhausting fuel or time fails the call with `States.Timeout`.
//!
//! # Isolation
//!
//! Every invocation gets a new `Store` and instance: no global, heap byte or file handle survives
//! from one call to the next. Nothing is granted by default: no filesystem, no network, no
//! environment variables, no arguments. A function may be granted one read-only directory,
//! outbound HTTP to listed origins ([`outbound`]), TCP connections to listed endpoints ([`tcp`]),
//! variables, and named server secrets that it reads through `wasi:config/store` and that the
//! host masks in everything it records ([`Secrets`]). stdout and stderr are captured up to a cap; the excess is dropped and counted. A guest in an
//! endless loop is stopped at its deadline and yields its thread once per epoch tick meanwhile,
//! so it never stalls other invocations on the same tokio runtime.
//!
//! # Failures
//!
//! A guest that returns `Err(task-error)` keeps its own error name, which the workflow's `Retry`
//! and `Catch` match. Traps are classified by downcasting wasmtime's error to
//! [`wasmtime::Trap`](https://docs.rs/wasmtime/48/wasmtime/enum.Trap.html); the table is on
//! [`FailureKind`]. Failures of the host itself (an unknown function, an invalid component) are
//! [`Error`]s.
//!
//! # Example
//!
//! ```
//! use stepwasm_runtime::{Error, FunctionConfig, Runtime, RuntimeConfig};
//!
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! // Bytes that are not a `stepwasm:task` component are refused at registration, not at the
//! // first invocation.
//! let refused = runtime.register("not-a-function", b"\0asm garbage", FunctionConfig::default());
//! assert!(matches!(refused, Err(Error::InvalidComponent { .. })));
//! assert!(runtime.function("not-a-function").is_none());
//! # Ok::<(), Error>(())
//! ```
//!
//! Running a real component (built with the `stepwasm-guest` SDK):
//!
//! ```no_run
//! # async fn run(wasm: &[u8]) -> Result<(), stepwasm_runtime::Error> {
//! use stepwasm_runtime::{FunctionConfig, Invocation, Runtime, RuntimeConfig};
//!
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! runtime.register("validate-payment", wasm, FunctionConfig::default())?;
//! let report = runtime
//!     .invoke("validate-payment", Invocation::new(&serde_json::json!({"orderId": "o-1"})))
//!     .await?;
//! match report.outcome {
//!     Ok(output) => println!("{output} in {:?}, {} fuel", report.duration, report.fuel_consumed),
//!     Err(failure) => println!("{}: {}", failure.error, failure.cause),
//! }
//! # Ok(()) }
//! ```

mod cache;
mod capture;
mod config;
mod engine;
mod error;
mod function;
mod invoke;
pub mod outbound;
mod report;
mod secrets;
pub mod tcp;

pub use cache::ArtifactSource;
pub use capture::{CapturedText, LogLevel, LogLine};
pub use config::{FuelBudget, FunctionConfig, FunctionLimits, GrantedDirectory, RuntimeConfig};
pub use engine::AllocatorKind;
pub use error::{Error, Result};
pub use function::{Function, Runtime};
pub use invoke::Invocation;
pub use outbound::{AllowList, Origin};
pub use report::{FailureKind, InvocationPhases, InvocationReport, TaskFailure, TimeoutKind, error_names};
pub use secrets::{MASK, Masker, Secrets};
pub use tcp::{TcpAllowList, TcpEndpoint};
