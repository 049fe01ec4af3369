//! Running executions: the engine that carries out what the ASL interpreter decides.
//!
//! `stepwasm-asl` is a pure state machine: given an event it returns history events and
//! [`Action`](stepwasm_asl::Action)s. This module performs them: it invokes task functions
//! through a [`TaskInvoker`] (normally [`WasmTasks`], backed by the Wasm runtime), runs timers on
//! tokio's clock, and feeds results and external [`Signal`]s back, one at a time.
//!
//! When an execution waits for nothing but timers and callbacks, the engine offers it to its
//! [`StepRecorder`] for parking: if the recorder makes that durable, driving stops
//! ([`Interrupted::Parked`]) and the execution leaves memory until someone rebuilds it from its
//! journal ([`Engine::resume`], with [`Prepared::awaiting`] for callbacks already announced).

mod clock;
mod documents;
mod driver;
mod entropy;
mod replay;
pub(crate) mod tasks;

pub use clock::Clock;
pub use documents::DocumentTexts;
pub use driver::{
    AwaitedCallback, Engine, ExecutionRecord, Heartbeat, Interrupted, Parking, Prepared, Redriven, ReplayEntry, Signal,
    StepRecord, StepRecorder,
};
pub use entropy::{SystemEntropy, random_uuid};
pub(crate) use tasks::function_name;
pub use tasks::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome, WasmTasks};
