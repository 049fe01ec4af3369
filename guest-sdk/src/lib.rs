//! Write stepwasm task functions in Rust.
//!
//! A stepwasm workflow is written in Amazon States Language; each of its `Task` states runs a
//! *task function*: a WebAssembly component that takes the state's JSON input and returns JSON,
//! or fails with a named error. This crate turns an ordinary Rust function into such a component.
//!
//! # Core concepts
//!
//! - **Handler**: `fn(Input, &Context) -> Result<Output, TaskError>`, where `Input` is any
//!   `serde::Deserialize` type and `Output` any `serde::Serialize` type. The SDK parses the JSON
//!   input into `Input` and serialises `Output` back.
//! - [`export_task!`]: exports a handler as the component's `handle` function. One per crate.
//! - [`TaskError`]: a failure with a *name*. The name is what the workflow's `Retry` and `Catch`
//!   rules match in `ErrorEquals`, so choose names a workflow author can act on
//!   (`PaymentDeclined`, `CarrierUnavailable`), and keep them stable.
//! - [`Context`]: which execution, state and attempt this call is for, and how much time is left.
//! - Logging: [`info!`], [`warn!`], [`error!`], [`debug!`] and [`trace!`] send structured lines to
//!   the host, which keeps them with the invocation's report. `println!` works too (stdout is
//!   captured, up to a size cap), but log lines keep their level.
//!
//! - [`http`]: a blocking HTTP client, for the origins the function was deployed with
//!   (`--allow-outbound`); everything else is refused before any connection.
//! - [`config`]: the variables and secrets the function was deployed with.
//!
//! Every call runs in a fresh instance: globals, the heap and anything a previous call left behind
//! are gone. The host grants no files, network or environment variables unless the function was
//! deployed with them.
//!
//! # Failures the SDK reports for you
//!
//! | what happened | error name |
//! |---|---|
//! | the input JSON does not fit `Input` | `InvalidInput` |
//! | `Output` cannot be serialised | `InvalidOutput` |
//! | the handler panicked | `Runtime.Panic` (reported by the host, with the panic message as cause) |
//!
//! # Walk-through
//!
//! A function that prices an order line (the full file is `examples/price-order.rs`):
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use stepwasm_guest::{Context, ResultExt, TaskError};
//!
//! #[derive(Deserialize)]
//! struct Line { sku: String, quantity: u32 }
//!
//! #[derive(Serialize)]
//! struct Priced { sku: String, quantity: u32, total_cents: u64 }
//!
//! fn price(line: Line, ctx: &Context) -> Result<Priced, TaskError> {
//!     if line.quantity == 0 {
//!         // A named failure: a Catch on "InvalidQuantity" in the workflow can route it.
//!         return Err(TaskError::new("InvalidQuantity", "quantity must be at least 1"));
//!     }
//!     stepwasm_guest::info!("pricing {} for {}", line.sku, ctx.execution_id());
//!     // `err_name` turns any error into a named TaskError, so `?` works on it.
//!     let unit_cents: u64 = "1999".parse().err_name("PriceTableCorrupt")?;
//!     Ok(Priced { total_cents: unit_cents * u64::from(line.quantity), sku: line.sku, quantity: line.quantity })
//! }
//!
//! stepwasm_guest::export_task!(price);
//! # fn main() {}
//! ```
//!
//! Build it as a component with `cargo build --target wasm32-wasip2 --release` from a crate whose
//! `[lib]` has `crate-type = ["cdylib"]`, then run it with `stepwasm invoke`.
//!
//! A handler can be unit-tested natively like any Rust function: call it with a [`Context`] made
//! by [`Context::for_test`].

#![warn(missing_docs)]

pub mod config;
pub mod http;

use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Bindings generated from the `stepwasm:task` WIT world.
///
/// Public only so that [`export_task!`] can reach them from the user's crate; function authors
/// never need to touch them.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)] // generated code
pub mod bindings {
    wit_bindgen::generate!({
        world: "task",
        // The contract lives with the host, so host and SDK can never disagree about it.
        path: "../runtime/wit",
        pub_export_macro: true,
        default_bindings_module: "stepwasm_guest::bindings",
        // The WASI interfaces the world imports (wasi:http and what it uses, wasi:config).
        generate_all,
    });
}

use bindings::stepwasm::task::host;
use bindings::stepwasm::task::types;

/// A named failure, reported to the workflow.
///
/// The `error` name is matched by `ErrorEquals` in the workflow's `Retry` and `Catch` rules; the
/// `cause` is the human-readable (or JSON) explanation. Names starting with `States.` are
/// reserved for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// The name that `Retry` and `Catch` match on, such as `OutOfStock`.
    pub error: String,
    /// Why it happened, free text or JSON.
    pub cause: String,
}

impl TaskError {
    /// A failure named `error`, explained by `cause`.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self { error: error.into(), cause: cause.into() }
    }

    /// A failure whose cause is a JSON document, so a `Catch` handler can read its fields with
    /// `States.StringToJson($.Cause)`.
    pub fn with_details(error: impl Into<String>, details: &impl Serialize) -> Self {
        let cause = serde_json::to_string(details).unwrap_or_else(|err| err.to_string());
        Self::new(error, cause)
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for TaskError {}

/// Names any error, so `?` can be used on it inside a handler.
pub trait ResultExt<T> {
    /// Turns the error into a [`TaskError`] named `error`, with the error's text as cause.
    fn err_name(self, error: &str) -> Result<T, TaskError>;
}

impl<T, E: fmt::Display> ResultExt<T> for Result<T, E> {
    fn err_name(self, error: &str) -> Result<T, TaskError> {
        self.map_err(|err| TaskError::new(error, err.to_string()))
    }
}

/// What an invocation is running for.
#[derive(Debug, Clone)]
pub struct Context {
    function_name: String,
    execution_id: String,
    state_name: String,
    attempt: u32,
    deadline: Instant,
}

impl Context {
    /// A context for calling a handler natively in unit tests: attempt 1, one minute left.
    pub fn for_test(state_name: &str) -> Self {
        Self {
            function_name: "test".into(),
            execution_id: "arn:aws:states:local:000000000000:execution:test:test".into(),
            state_name: state_name.into(),
            attempt: 1,
            deadline: Instant::now() + Duration::from_secs(60),
        }
    }

    /// The same context on a later attempt, for testing retry-dependent behaviour.
    pub fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt;
        self
    }

    /// The name the function was deployed under.
    pub fn function_name(&self) -> &str {
        &self.function_name
    }

    /// The ARN of the workflow execution.
    pub fn execution_id(&self) -> &str {
        &self.execution_id
    }

    /// The name of the Task state being executed.
    pub fn state_name(&self) -> &str {
        &self.state_name
    }

    /// 1 on the first attempt, 2 on the first retry, and so on.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Wall-clock time left before the host stops this call with `States.Timeout`.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

impl From<types::Context> for Context {
    fn from(ctx: types::Context) -> Self {
        Self {
            function_name: ctx.function_name,
            execution_id: ctx.execution_id,
            state_name: ctx.state_name,
            attempt: ctx.attempt,
            deadline: Instant::now() + Duration::from_millis(ctx.remaining_millis),
        }
    }
}

/// Severity of a log line; see the logging macros.
#[doc(hidden)]
pub use host::Level;

/// Sends one log line to the host. Use the macros ([`info!`] and friends) instead.
#[doc(hidden)]
#[cfg(target_family = "wasm")]
pub fn __log(level: Level, message: &str) {
    host::log(level, message);
}

/// Outside Wasm (a handler's native unit tests) there is no host: log lines go to stderr, where
/// the test harness shows them for failing tests.
#[doc(hidden)]
#[cfg(not(target_family = "wasm"))]
pub fn __log(level: Level, message: &str) {
    eprintln!("[{level:?}] {message}");
}

/// Logs at `info` level, with `format!` syntax.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::__log($crate::Level::Info, &::std::format!($($arg)*)) };
}

/// Logs at `warn` level, with `format!` syntax.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::__log($crate::Level::Warn, &::std::format!($($arg)*)) };
}

/// Logs at `error` level, with `format!` syntax.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::__log($crate::Level::Error, &::std::format!($($arg)*)) };
}

/// Logs at `debug` level, with `format!` syntax.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::__log($crate::Level::Debug, &::std::format!($($arg)*)) };
}

/// Logs at `trace` level, with `format!` syntax.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => { $crate::__log($crate::Level::Trace, &::std::format!($($arg)*)) };
}

/// Runs a typed handler on the raw WIT call. Used by [`export_task!`].
#[doc(hidden)]
pub fn __run<I, O>(
    input: &str,
    ctx: types::Context,
    handler: impl FnOnce(I, &Context) -> Result<O, TaskError>,
) -> Result<String, types::TaskError>
where
    I: DeserializeOwned,
    O: Serialize,
{
    install_panic_reporter();
    let ctx = Context::from(ctx);
    let outcome = serde_json::from_str::<I>(input)
        .map_err(|err| TaskError::new("InvalidInput", err.to_string()))
        .and_then(|input| handler(input, &ctx))
        .and_then(|output| {
            serde_json::to_string(&output).map_err(|err| TaskError::new("InvalidOutput", err.to_string()))
        });
    outcome.map_err(|err| types::TaskError { error: err.error, cause: err.cause })
}

/// Routes panic messages to the host before the instance traps.
///
/// Wasm targets abort on panic, so without this the host would only see an anonymous
/// `unreachable` trap. Installed on every call: each call runs in a fresh instance, so there is
/// no "once" to remember.
fn install_panic_reporter() {
    std::panic::set_hook(Box::new(|info| {
        let message = match info.payload().downcast_ref::<&str>() {
            Some(text) => (*text).to_owned(),
            None => match info.payload().downcast_ref::<String>() {
                Some(text) => text.clone(),
                None => "Box<dyn Any>".to_owned(),
            },
        };
        let report = match info.location() {
            Some(location) => format!("{message} (at {}:{})", location.file(), location.line()),
            None => message,
        };
        host::report_panic(&report);
    }));
}

/// Exports a handler as this component's task function.
///
/// The handler is any function (or non-capturing closure) of the shape
/// `fn(Input, &Context) -> Result<Output, TaskError>`. Use it once per crate, at the top level.
#[macro_export]
macro_rules! export_task {
    ($handler:expr) => {
        #[doc(hidden)]
        struct __StepwasmTask;

        impl $crate::bindings::Guest for __StepwasmTask {
            fn handle(
                input: ::std::string::String,
                ctx: $crate::bindings::stepwasm::task::types::Context,
            ) -> ::std::result::Result<
                ::std::string::String,
                $crate::bindings::stepwasm::task::types::TaskError,
            > {
                $crate::__run(&input, ctx, $handler)
            }
        }

        $crate::bindings::export!(__StepwasmTask with_types_in $crate::bindings);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err_name_keeps_the_message_as_cause() {
        let failure = "x".parse::<u32>().err_name("BadNumber").unwrap_err();
        assert_eq!(failure.error, "BadNumber");
        assert_eq!(failure.cause, "invalid digit found in string");
    }

    #[test]
    fn details_are_serialised_as_json_cause() {
        let failure = TaskError::with_details("OutOfStock", &serde_json::json!({"sku": "A-1"}));
        assert_eq!(failure.cause, r#"{"sku":"A-1"}"#);
    }

    #[test]
    fn logging_works_outside_wasm() {
        // Natively there is no host import to call; this must not reach wit-bindgen's stub.
        crate::info!("order {} priced", 7);
    }

    #[test]
    fn test_context_counts_down() {
        let ctx = Context::for_test("Charge").with_attempt(3);
        assert_eq!(ctx.attempt(), 3);
        assert!(ctx.remaining() <= Duration::from_secs(60));
        assert!(ctx.remaining() > Duration::from_secs(50));
    }
}
