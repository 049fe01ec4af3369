//! The functional core of stepwasm's Amazon States Language (ASL) engine.
//!
//! This crate turns a state machine definition into a validated, compiled [`StateMachine`] and
//! runs executions of it as pure, event-sourced state machines. It performs no I/O, spawns no
//! threads, reads no clock and owns no source of randomness: time arrives as a [`Timestamp`] with
//! every call, randomness through an [`Entropy`], and everything the outside world must do
//! (run a task, start a timer) leaves as an [`Action`]. The orchestrator's driver carries those
//! out with tokio, the Wasm runtime and the store; tests carry them out with
//! [`run_to_completion`] on a virtual clock.
//!
//! Semantics follow real AWS Step Functions, as recorded in the conformance corpus: Jayway-style
//! JSONPath (definite paths error, indefinite ones yield arrays), all 18 intrinsic functions,
//! `States.Runtime` causes worded like AWS's, Retry/Catch with AWS's special error names, Parallel
//! and Map (inline and distributed) with concurrency limits and tolerated failures, workflow
//! variables (`Assign`) and a subset of JSONata.
//!
//! # Core concepts
//!
//! - [`StateMachine`]: the compiled definition. Build it once per definition version with
//!   [`StateMachine::from_json`] (or [`parse_definition`] + [`compile`]); invalid definitions
//!   yield every [`Diagnostic`] at once. Share it as `Arc<StateMachine>`;
//!   [`StateMachine::describe`] renders its shape as JSON (states, transitions, Retry/Catch).
//! - [`Execution`]: one run. [`Execution::start`] records `ExecutionStarted` and runs until every
//!   branch waits for a task or timer; [`Execution::apply`] feeds one [`Input`] (a task result, a
//!   fired timer, a stop request) and runs again. Both return a [`Step`]. An execution that
//!   failed, timed out or was stopped keeps what did not succeed, and [`Input::Redrive`] runs it
//!   again from there ([`Execution::redrivable`]).
//! - [`HistoryEvent`]: what happened, in AWS `GetExecutionHistory` shape
//!   ([`HistoryEvent::to_aws_json`]), with ids and `previousEventId` links.
//! - [`Action`] / [`Input`]: the driver's side of the conversation. `InvokeTask` is answered with
//!   `TaskSucceeded` / `TaskFailed` / `TaskTimedOut`; `StartTimer` with `TimerFired`; `Complete`
//!   carries the [`ExecutionOutcome`]. A Distributed Map's `ItemReader` is work for the driver too:
//!   an `InvokeTask` of [`TaskResource::ItemReader`], answered with the items.
//! - [`MapRun`]: one run of a Distributed Map, its children counted as they start and end
//!   ([`Execution::map_runs`]); [`Input::UpdateMapRun`] changes its limits while it runs. Each
//!   child runs inside its parent, and is kept as a [`ChildExecution`] with a history of its own
//!   when [`ExecutionContext::child_executions`] asks for it.
//! - Testing aids, each a field of [`ExecutionContext`] that changes nothing else:
//!   `wait_time_scale` (waits take a fraction of their time), `inspect` (each step of a state's
//!   data flow, [`Execution::inspection`]) and `variables` (the variables an execution starts
//!   with).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//!
//! use serde_json::json;
//! use stepwasm_asl::{run_to_completion, Action, ExecutionContext, Input, SeededEntropy, StateMachine, Timestamp};
//!
//! let machine = StateMachine::from_json(r#"{
//!     "StartAt": "Greet",
//!     "States": {
//!         "Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.name)"}, "Next": "Done"},
//!         "Done": {"Type": "Pass", "ResultPath": "$.done", "Result": true, "End": true}
//!     }
//! }"#)?;
//! let ctx = ExecutionContext::new("hello", "run-1", Timestamp::from_millis(0));
//! let mut no_tasks = |_: &Action| -> Input { unreachable!("this machine has no Task state") };
//! let done = run_to_completion(Arc::new(machine), json!({"name": "Ada"}), ctx, &mut no_tasks, &mut SeededEntropy::new(1));
//! assert_eq!(done.output(), Some(json!({"greeting": "Hello, Ada!", "done": true})));
//! assert_eq!(
//!     done.event_types(),
//!     ["ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
//! );
//! # Ok::<(), stepwasm_asl::Error>(())
//! ```
//!
//! # Layers
//!
//! Each layer imports only from the layers above it in this list:
//!
//! 1. **Languages and leaves**: `jsonpath` (Jayway-style paths), `intrinsics` (the 18
//!    `States.*` functions), `jsonata` (the expression language), `timestamp`, `entropy`,
//!    `names` (the error names), `diagnostic` (problems found in a definition), `history`
//!    (the events).
//! 2. **`model`**: the authoring types, matching ASL JSON field for field.
//! 3. **Compiled pieces**: `template` (JSONPath templates and JSONata values, parsed once),
//!    `resource` (what a Task runs) and `ir` (what every compiled state shares: transitions,
//!    Retry, Catch and its query-language fields).
//! 4. **`compile`**: parsing a definition, and the toolkit that compiles the shared pieces while
//!    collecting diagnostics with the JSON pointer of each fault.
//! 5. **The interpreter**: `machine` (the compiled [`StateMachine`]: it walks a definition's
//!    scopes and has each state compiled by its type), `states/` (one file per state type: its
//!    own fields, their compilation and its work, in both query languages), `query` (the verbs
//!    states use to read input and shape output, one implementation per query language),
//!    `payload` (JSONPath's `$`, `$$` and variable roots) and `execution` (frames, Retry and
//!    Catch, timers, the [`Execution`] that is fed [`Input`]s). The frame engine and the state
//!    types call each other by nature (the engine enters a state; a Parallel state starts frames),
//!    so this layer is one unit.
//! 6. **Around it**: `driver` ([`run_to_completion`] on a virtual clock, for tests and tools) and
//!    [`progress`] (a history folded back into per-state status, for the console).

#![warn(missing_docs)]

mod compile;
mod diagnostic;
mod driver;
mod entropy;
mod error;
mod execution;
mod history;
mod intrinsics;
mod ir;
mod jsonata;
mod jsonpath;
mod machine;
pub mod model;
pub mod names;
mod payload;
pub mod progress;
mod query;
mod resource;
mod states;
mod template;
mod timestamp;

pub use compile::{definition_from_value, parse_definition};
pub use diagnostic::Diagnostic;
pub use driver::{Completion, run_to_completion};
pub use entropy::{Entropy, SeededEntropy, uuid_from_bits};
pub use error::{Error, Result};
pub use execution::{
    Action, ChildExecution, Execution, ExecutionContext, ExecutionOutcome, Input, MapRun, MapRunCounts, MapRunStatus,
    MapRunUpdate, Step, TaskCallContext, TaskId, TaskResource, TimerId, parent_of_child,
};
pub use history::{EventKind, HistoryEvent, StateType, TaskFamily};
pub use intrinsics::json_equal;
pub use jsonata::{Bindings as JsonataBindings, EvalOptions, Jsonata, JsonataError};
pub use machine::{StateInfo, StateMachine, compile, validate};
pub use states::map::execution_of_map_run;
pub use timestamp::Timestamp;

#[cfg(test)]
mod testing {
    //! Helpers for the per-state unit tests.

    use std::sync::Arc;

    use serde_json::Value;

    use crate::{
        Action, Completion, ExecutionContext, Input, SeededEntropy, StateMachine, Timestamp, run_to_completion,
    };

    /// 2024-01-01T00:00:00Z.
    const START: i64 = 1_704_067_200_000;

    pub(crate) fn run_with(def: &str, input: Value, tasks: &mut dyn FnMut(&Action) -> Input) -> Completion {
        let machine = StateMachine::from_json(def).unwrap_or_else(|e| panic!("{e}"));
        let ctx = ExecutionContext::new("test", "exec", Timestamp::from_millis(START));
        run_to_completion(Arc::new(machine), input, ctx, tasks, &mut SeededEntropy::new(42))
    }

    /// Runs `def`; tasks echo their payload.
    pub(crate) fn run_json(def: &str, input: Value) -> Completion {
        run_with(def, input, &mut |a: &Action| match a {
            Action::InvokeTask { task_id, payload, .. } => {
                Input::TaskSucceeded { task_id: *task_id, output: Arc::clone(payload) }
            }
            _ => unreachable!(),
        })
    }
}
