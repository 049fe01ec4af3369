//! Serde types that mirror the Amazon States Language JSON exactly (the authoring format).
//!
//! Field names are ASL's own (`StartAt`, `InputPath`, …). Fields that may hold either a number or a
//! JSONata expression, and payload templates, are kept as raw [`Value`]s; [`compile`](crate::compile)
//! checks and resolves them. Unknown fields are rejected, as AWS rejects them.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`), which ASL gives
/// different meanings (`"InputPath": null` makes the input `{}`).
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Keeps an explicit `null` (`Some(Value::Null)`) apart from an absent field (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The query language of a state machine or state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryLanguage {
    /// Paths, `Parameters` and intrinsic functions (the default).
    JSONPath,
    /// `{% … %}` expressions, `Arguments` and `Output`.
    JSONata,
}

/// A whole state machine definition.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StateMachineDefinition {
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The name of the first state.
    pub start_at: String,
    /// The states, by name.
    pub states: BTreeMap<String, State>,
    /// Maximum run time of an execution, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// ASL version, `"1.0"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The default query language of every state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
}

/// A Parallel branch, or the processor of a Map state (`ItemProcessor` / legacy `Iterator`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SubMachine {
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The name of the first state.
    pub start_at: String,
    /// The states, by name.
    pub states: BTreeMap<String, State>,
    /// Map only: `INLINE` (default) or `DISTRIBUTED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_config: Option<ProcessorConfig>,
}

/// How a Map state runs its iterations.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ProcessorConfig {
    /// `INLINE` or `DISTRIBUTED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `STANDARD` or `EXPRESS` (DISTRIBUTED only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_type: Option<String>,
}

/// One state, tagged by its `Type`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "Type")]
#[allow(clippy::large_enum_variant)]
pub enum State {
    /// Passes its input (or `Result`) to its output.
    Pass(PassState),
    /// Runs a unit of work.
    Task(TaskState),
    /// Branches on its input.
    Choice(ChoiceState),
    /// Delays the execution.
    Wait(WaitState),
    /// Ends the execution (or branch) successfully.
    Succeed(SucceedState),
    /// Ends the execution (or branch) with an error.
    Fail(FailState),
    /// Runs branches concurrently.
    Parallel(ParallelState),
    /// Runs a processor for each item of an array.
    Map(MapState),
}

/// `Retry` entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Retrier {
    /// Error names this retrier handles.
    pub error_equals: Vec<String>,
    /// Seconds before the first retry (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u64>,
    /// Retries after the first attempt (default 3; 0 never retries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    /// Multiplier of the interval per retry (default 2.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_rate: Option<f64>,
    /// Upper bound of the interval, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_seconds: Option<u64>,
    /// `FULL` or `NONE` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_strategy: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `Catch` entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Catcher {
    /// Error names this catcher handles.
    pub error_equals: Vec<String>,
    /// The state to go to.
    pub next: String,
    /// Where the error output goes in the state input (default `$`; `null` discards it).
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub result_path: Option<Option<String>>,
    /// Variables to set (JSONPath `.$` keys are evaluated against the error output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign: Option<Value>,
    /// JSONata output.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

macro_rules! common_fields {
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase", deny_unknown_fields)]
        pub struct $name {
            /// Free text.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub comment: Option<String>,
            /// Overrides the machine's query language for this state.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub query_language: Option<QueryLanguage>,
            $($body)*
        }
    };
}

common_fields! {
    /// A Pass state.
    pub struct PassState {
        /// Selects part of the raw input (`null` → `{}`).
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub input_path: Option<Option<String>>,
        /// Selects part of the output (`null` → `{}`).
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub output_path: Option<Option<String>>,
        /// Where the result goes in the input (`null` discards it).
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub result_path: Option<Option<String>>,
        /// Payload template replacing the effective input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parameters: Option<Value>,
        /// Fixed result.
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        pub result: Option<Value>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub end: Option<bool>,
        /// Variables to set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub assign: Option<Value>,
        /// JSONata output.
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        pub output: Option<Value>,
    }
}

common_fields! {
    /// A Task state.
    pub struct TaskState {
        /// What to run: a Lambda ARN, `arn:aws:states:::lambda:invoke`, an activity ARN, `wasm:NAME`, …
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub resource: Option<String>,
        /// Selects part of the raw input.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub input_path: Option<Option<String>>,
        /// Selects part of the output.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub output_path: Option<Option<String>>,
        /// Where the result goes in the input.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub result_path: Option<Option<String>>,
        /// Payload template.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parameters: Option<Value>,
        /// Reshapes the task result.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub result_selector: Option<Value>,
        /// Retry policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub retry: Option<Vec<Retrier>>,
        /// Error handlers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub catch: Option<Vec<Catcher>>,
        /// Task timeout in seconds (number, or JSONata expression).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timeout_seconds: Option<Value>,
        /// Path to the task timeout.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timeout_seconds_path: Option<String>,
        /// Heartbeat timeout in seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub heartbeat_seconds: Option<Value>,
        /// Path to the heartbeat timeout.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub heartbeat_seconds_path: Option<String>,
        /// Role to assume (accepted, unused).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub credentials: Option<Value>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub end: Option<bool>,
        /// Variables to set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub assign: Option<Value>,
        /// JSONata arguments.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub arguments: Option<Value>,
        /// JSONata output.
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        pub output: Option<Value>,
    }
}

common_fields! {
    /// A Choice state.
    pub struct ChoiceState {
        /// Selects part of the raw input.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub input_path: Option<Option<String>>,
        /// Selects part of the output.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub output_path: Option<Option<String>>,
        /// The rules, tried in order.
        #[serde(default)]
        pub choices: Vec<ChoiceRule>,
        /// The state to go to when no rule matches.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub default: Option<String>,
        /// Variables to set when `Default` is taken.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub assign: Option<Value>,
        /// JSONata output when `Default` is taken.
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        pub output: Option<Value>,
    }
}

common_fields! {
    /// A Wait state.
    pub struct WaitState {
        /// Selects part of the raw input.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub input_path: Option<Option<String>>,
        /// Selects part of the output.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub output_path: Option<Option<String>>,
        /// Seconds to wait (number, or JSONata expression).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub seconds: Option<Value>,
        /// Path to the seconds to wait.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub seconds_path: Option<String>,
        /// Instant to wait until (RFC 3339, or JSONata expression).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timestamp: Option<Value>,
        /// Path to the instant to wait until.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timestamp_path: Option<String>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub end: Option<bool>,
        /// Variables to set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub assign: Option<Value>,
        /// JSONata output.
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        pub output: Option<Value>,
    }
}

common_fields! {
    /// A Succeed state.
    pub struct SucceedState {
        /// Selects part of the raw input.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub input_path: Option<Option<String>>,
        /// Selects part of the output.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub output_path: Option<Option<String>>,
        /// JSONata output.
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        pub output: Option<Value>,
    }
}

common_fields! {
    /// A Fail state.
    pub struct FailState {
        /// The error name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error: Option<String>,
        /// Path or intrinsic giving the error name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error_path: Option<String>,
        /// The human-readable cause.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cause: Option<String>,
        /// Path or intrinsic giving the cause.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cause_path: Option<String>,
    }
}

common_fields! {
    /// A Parallel state.
    pub struct ParallelState {
        /// The branches, all run with the state's effective input.
        #[serde(default)]
        pub branches: Vec<SubMachine>,
        /// Selects part of the raw input.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub input_path: Option<Option<String>>,
        /// Selects part of the output.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub output_path: Option<Option<String>>,
        /// Where the result goes in the input.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub result_path: Option<Option<String>>,
        /// Payload template for the branches' input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parameters: Option<Value>,
        /// Reshapes the array of branch outputs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub result_selector: Option<Value>,
        /// Retry policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub retry: Option<Vec<Retrier>>,
        /// Error handlers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub catch: Option<Vec<Catcher>>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub end: Option<bool>,
        /// Variables to set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub assign: Option<Value>,
        /// JSONata arguments.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub arguments: Option<Value>,
        /// JSONata output.
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        pub output: Option<Value>,
    }
}

common_fields! {
    /// A Map state.
    pub struct MapState {
        /// The processor run for each item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub item_processor: Option<SubMachine>,
        /// Legacy name of `ItemProcessor`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub iterator: Option<SubMachine>,
        /// Path to the items array in the effective input (default `$`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub items_path: Option<String>,
        /// JSONata items.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub items: Option<Value>,
        /// Template building each iteration's input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub item_selector: Option<Value>,
        /// Legacy name of `ItemSelector`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parameters: Option<Value>,
        /// Reads the items from an object store (Distributed Map only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub item_reader: Option<Value>,
        /// Hands the items to the processor in batches (Distributed Map only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub item_batcher: Option<Value>,
        /// Writes the results to an object store (refused when compiled: not supported yet).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub result_writer: Option<Value>,
        /// Iterations running at once (0 = unlimited).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_concurrency: Option<Value>,
        /// Path to `MaxConcurrency`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_concurrency_path: Option<String>,
        /// Failed iterations tolerated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tolerated_failure_count: Option<Value>,
        /// Path to `ToleratedFailureCount`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tolerated_failure_count_path: Option<String>,
        /// Percentage of failed iterations tolerated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tolerated_failure_percentage: Option<Value>,
        /// Path to `ToleratedFailurePercentage`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tolerated_failure_percentage_path: Option<String>,
        /// Distributed map label.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub label: Option<String>,
        /// Selects part of the raw input.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub input_path: Option<Option<String>>,
        /// Selects part of the output.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub output_path: Option<Option<String>>,
        /// Where the result goes in the input.
        #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
        pub result_path: Option<Option<String>>,
        /// Reshapes the array of iteration outputs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub result_selector: Option<Value>,
        /// Retry policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub retry: Option<Vec<Retrier>>,
        /// Error handlers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub catch: Option<Vec<Catcher>>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub end: Option<bool>,
        /// Variables to set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub assign: Option<Value>,
        /// JSONata arguments.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub arguments: Option<Value>,
        /// JSONata output.
        #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
        pub output: Option<Value>,
    }
}

/// A Choice rule: a comparison on `Variable`, a combination (`And`, `Or`, `Not`) or a JSONata
/// `Condition`. Only top-level rules carry `Next`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ChoiceRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign: Option<Value>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub and: Option<Vec<ChoiceRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub or: Option<Vec<ChoiceRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<ChoiceRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_less_than: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_less_than_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_greater_than: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_greater_than_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_less_than_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_less_than_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_greater_than_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_greater_than_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_matches: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_less_than: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_less_than_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_greater_than: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_greater_than_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_less_than_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_less_than_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_greater_than_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric_greater_than_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boolean_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boolean_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_less_than: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_less_than_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_greater_than: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_greater_than_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_less_than_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_less_than_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_greater_than_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_greater_than_equals_path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_null: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_present: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_numeric: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_string: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_boolean: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_timestamp: Option<Value>,
}

impl ChoiceRule {
    /// The comparison operators that are set, as (ASL name, operand).
    pub(crate) fn operators(&self) -> Vec<(&'static str, &Value)> {
        let all: [(&'static str, &Option<Value>); 39] = [
            ("StringEquals", &self.string_equals),
            ("StringEqualsPath", &self.string_equals_path),
            ("StringLessThan", &self.string_less_than),
            ("StringLessThanPath", &self.string_less_than_path),
            ("StringGreaterThan", &self.string_greater_than),
            ("StringGreaterThanPath", &self.string_greater_than_path),
            ("StringLessThanEquals", &self.string_less_than_equals),
            ("StringLessThanEqualsPath", &self.string_less_than_equals_path),
            ("StringGreaterThanEquals", &self.string_greater_than_equals),
            ("StringGreaterThanEqualsPath", &self.string_greater_than_equals_path),
            ("StringMatches", &self.string_matches),
            ("NumericEquals", &self.numeric_equals),
            ("NumericEqualsPath", &self.numeric_equals_path),
            ("NumericLessThan", &self.numeric_less_than),
            ("NumericLessThanPath", &self.numeric_less_than_path),
            ("NumericGreaterThan", &self.numeric_greater_than),
            ("NumericGreaterThanPath", &self.numeric_greater_than_path),
            ("NumericLessThanEquals", &self.numeric_less_than_equals),
            ("NumericLessThanEqualsPath", &self.numeric_less_than_equals_path),
            ("NumericGreaterThanEquals", &self.numeric_greater_than_equals),
            ("NumericGreaterThanEqualsPath", &self.numeric_greater_than_equals_path),
            ("BooleanEquals", &self.boolean_equals),
            ("BooleanEqualsPath", &self.boolean_equals_path),
            ("TimestampEquals", &self.timestamp_equals),
            ("TimestampEqualsPath", &self.timestamp_equals_path),
            ("TimestampLessThan", &self.timestamp_less_than),
            ("TimestampLessThanPath", &self.timestamp_less_than_path),
            ("TimestampGreaterThan", &self.timestamp_greater_than),
            ("TimestampGreaterThanPath", &self.timestamp_greater_than_path),
            ("TimestampLessThanEquals", &self.timestamp_less_than_equals),
            ("TimestampLessThanEqualsPath", &self.timestamp_less_than_equals_path),
            ("TimestampGreaterThanEquals", &self.timestamp_greater_than_equals),
            ("TimestampGreaterThanEqualsPath", &self.timestamp_greater_than_equals_path),
            ("IsNull", &self.is_null),
            ("IsPresent", &self.is_present),
            ("IsNumeric", &self.is_numeric),
            ("IsString", &self.is_string),
            ("IsBoolean", &self.is_boolean),
            ("IsTimestamp", &self.is_timestamp),
        ];
        all.into_iter().filter_map(|(n, v)| v.as_ref().map(|v| (n, v))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_fields() {
        let ok: StateMachineDefinition = serde_json::from_str(
            r#"{"StartAt":"A","Version":"1.0","States":{"A":{"Type":"Pass","InputPath":null,"End":true}}}"#,
        )
        .unwrap();
        match &ok.states["A"] {
            State::Pass(p) => {
                assert_eq!(p.input_path, Some(None));
                assert_eq!(p.output_path, None);
            }
            other => panic!("{other:?}"),
        }
        let bad = serde_json::from_str::<StateMachineDefinition>(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Bogus":1,"End":true}}}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("Bogus"));
    }
}
