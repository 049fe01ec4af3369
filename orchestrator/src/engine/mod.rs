//! Running executions: the engine that carries out what the ASL interpreter decides.
//!
//! `stepwasm-asl` is a pure state machine: given an event it returns history events and
//! [`Action`](stepwasm_asl::Action)s. This module performs them: it invokes task functions
//! through a [`TaskInvoker`] (normally [`WasmTasks`], backed by the Wasm runtime), runs timers on
//! tokio's clock, and feeds results and external [`Signal`]s back, one at a time.

mod clock;
mod driver;
mod entropy;
mod replay;
mod tasks;

pub use clock::Clock;
pub use driver::{
    AwaitedCallback, Engine, ExecutionRecord, Interrupted, Parking, Prepared, ReplayEntry, Signal, StepRecord,
    StepRecorder,
};
pub use entropy::{SystemEntropy, random_uuid};
pub use tasks::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome, WasmTasks};
