use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::capture::{CapturedText, LogLine};

/// Error names the runtime reports for failures the guest did not name itself.
///
/// Every name is matched by `States.ALL` in a workflow's `Retry` and `Catch`, and can be matched
/// on its own. None is retried unless a `Retry` rule says so.
pub mod error_names {
    /// The call ran out of fuel or past its deadline. This is the name AWS uses for a Task that
    /// exceeds `TimeoutSeconds`, so existing `Retry`/`Catch` rules keep working.
    pub const TIMEOUT: &str = "States.Timeout";
    /// The guest panicked (or reported an uncaught exception) and trapped.
    pub const PANIC: &str = "Runtime.Panic";
    /// The guest asked for more memory than its limit and trapped.
    pub const OUT_OF_MEMORY: &str = "Runtime.OutOfMemory";
    /// The guest trapped for another reason (out-of-bounds access, stack overflow, …).
    pub const TRAP: &str = "Runtime.Trap";
    /// The guest returned a result that is not JSON.
    pub const INVALID_OUTPUT: &str = "Runtime.InvalidOutput";
    /// The guest named its error with the reserved `States.` prefix.
    pub const RESERVED_ERROR_NAME: &str = "Runtime.ReservedErrorName";
}

/// Everything known about one finished invocation.
#[derive(Debug, Clone)]
pub struct InvocationReport {
    /// The function's JSON result, or why there is none.
    pub outcome: Result<Value, TaskFailure>,
    /// Structured log lines, in the order the guest sent them.
    pub logs: Vec<LogLine>,
    /// Log lines dropped because the output cap was reached.
    pub dropped_log_lines: u64,
    /// What the guest wrote to stdout.
    pub stdout: CapturedText,
    /// What the guest wrote to stderr.
    pub stderr: CapturedText,
    /// Fuel units the call consumed: a deterministic measure of work.
    pub fuel_consumed: u64,
    /// Wall-clock time from instantiation to the result.
    pub duration: Duration,
    /// Where the invocation's wall-clock time went, from the sandbox's creation to its removal.
    pub phases: InvocationPhases,
}

/// The wall-clock time of each part of an invocation.
///
/// A fresh sandbox per call is the price of isolation; these figures show how much of an
/// invocation that price is, next to the function's own work in `call`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvocationPhases {
    /// Creating the store, its WASI context and its limits.
    pub setup: Duration,
    /// Instantiating the component in the store.
    pub instantiate: Duration,
    /// The call itself: passing the input in, the guest's work, and reading the result back.
    pub call: Duration,
    /// Classifying the result and removing the sandbox: the instance's memory is reset and its
    /// slot returned to the pool.
    pub teardown: Duration,
}

/// Why an invocation produced no result. `error` is what `Retry` and `Catch` match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailure {
    /// The ASL error name, such as `PaymentDeclined` or `States.Timeout`.
    pub error: String,
    /// A human-readable explanation, or JSON chosen by the guest.
    pub cause: String,
    /// Which kind of failure this was, for the host's own decisions.
    pub kind: FailureKind,
}

/// The kinds of failure, and the error name each is reported under.
///
/// | kind | detected by | error name |
/// |---|---|---|
/// | [`Guest`](Self::Guest) | the guest returned `Err(task-error)` | the guest's own name |
/// | [`Timeout`](Self::Timeout) | trap `OutOfFuel` or `Interrupt` (epoch deadline) | `States.Timeout` |
/// | [`OutOfMemory`](Self::OutOfMemory) | the memory limiter refused a growth, then any trap | `Runtime.OutOfMemory` |
/// | [`Panic`](Self::Panic) | the guest called `report-panic`, then trapped | `Runtime.Panic` |
/// | [`Trap`](Self::Trap) | any other trap | `Runtime.Trap` |
/// | [`InvalidOutput`](Self::InvalidOutput) | the `ok` result is not JSON | `Runtime.InvalidOutput` |
/// | [`ReservedErrorName`](Self::ReservedErrorName) | the guest's error starts with `States.` | `Runtime.ReservedErrorName` |
///
/// Traps are recognised by downcasting wasmtime's error to `wasmtime::Trap`, never by reading
/// message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The guest reported a named failure.
    Guest,
    /// The call exhausted a limit on time or work.
    Timeout(TimeoutKind),
    /// The guest exceeded its memory limit.
    OutOfMemory,
    /// The guest panicked.
    Panic,
    /// The guest trapped.
    Trap,
    /// The guest's result is not JSON.
    InvalidOutput,
    /// The guest used an error name reserved for the engine.
    ReservedErrorName,
}

/// Which limit stopped a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// The fuel budget ran out.
    Fuel,
    /// The wall-clock deadline passed.
    Deadline,
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl TaskFailure {
    pub(crate) fn new(kind: FailureKind, error: &str, cause: String) -> Self {
        Self { error: error.to_owned(), cause, kind }
    }
}
