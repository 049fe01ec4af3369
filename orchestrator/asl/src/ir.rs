//! The compiled pieces every state shares: transitions, Retry and Catch, and the query-language
//! fields that shape a state's input and output.
//!
//! These are plain data, built once by the compiler and read by the interpreter. What is particular
//! to one state type (a Wait's duration, a Task's resource) lives in that type's own module under
//! `states/`; [`crate::machine`] puts the two together.

use serde_json::{Map, Value, json};

use crate::intrinsics::Call;
use crate::jsonpath::Path;
use crate::model::QueryLanguage;
use crate::template::{JTemplate, Template};

/// `InputPath` / `OutputPath`.
#[derive(Clone, Debug)]
pub(crate) enum PathOpt {
    /// Absent: `$`.
    Default,
    /// `null`: `{}`.
    Null,
    /// A path into the document.
    Path(Path),
}

/// `ResultPath`.
#[derive(Clone, Debug)]
pub(crate) enum ResultPath {
    /// Absent: the result replaces the input.
    Default,
    /// `null`: the result is discarded.
    Discard,
    /// A reference path (`$.a.b`) where the result is placed in the input.
    Path(Path),
}

/// Where a state goes when it leaves: the index of the next state in its scope, or the end of
/// its frame (the execution, a Parallel branch or a Map iteration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    /// The state at this index of [`crate::machine::StateMachine`]'s states.
    Next(usize),
    /// The frame ends with the state's output.
    End,
}

/// One `Retry` entry, with AWS's defaults filled in.
#[derive(Clone, Debug)]
pub(crate) struct Retrier {
    /// `ErrorEquals`: the error names it retries.
    pub(crate) errors: Vec<String>,
    /// `IntervalSeconds` (default 1): the delay before the first retry.
    pub(crate) interval_seconds: u64,
    /// `MaxAttempts` (default 3): retries allowed; 0 never retries.
    pub(crate) max_attempts: u64,
    /// `BackoffRate` (default 2.0): the factor the delay grows by on each retry.
    pub(crate) backoff_rate: f64,
    /// `MaxDelaySeconds`: the cap on any one delay.
    pub(crate) max_delay_seconds: Option<u64>,
    /// `JitterStrategy: FULL`: each delay is drawn uniformly from zero to its computed value.
    pub(crate) full_jitter: bool,
}

impl Retrier {
    pub(crate) fn describe(&self) -> Value {
        let mut r = Map::new();
        r.insert("errorEquals".into(), json!(self.errors));
        r.insert("intervalSeconds".into(), self.interval_seconds.into());
        r.insert("maxAttempts".into(), self.max_attempts.into());
        r.insert("backoffRate".into(), self.backoff_rate.into());
        if let Some(d) = self.max_delay_seconds {
            r.insert("maxDelaySeconds".into(), d.into());
        }
        if self.full_jitter {
            r.insert("jitterStrategy".into(), "FULL".into());
        }
        Value::Object(r)
    }
}

/// One `Catch` entry.
#[derive(Clone, Debug)]
pub(crate) struct Catcher {
    /// `ErrorEquals`: the error names it catches.
    pub(crate) errors: Vec<String>,
    /// The index of the state it goes to.
    pub(crate) next: usize,
    /// What it makes of the error output on the way.
    pub(crate) io: BranchIo,
}

impl Catcher {
    pub(crate) fn describe(&self, next: Value) -> Value {
        let mut k = Map::new();
        k.insert("errorEquals".into(), json!(self.errors));
        k.insert("next".into(), next);
        if let BranchIo::JsonPath { result_path, .. } = &self.io {
            match result_path {
                ResultPath::Default => {}
                ResultPath::Discard => {
                    k.insert("resultPath".into(), Value::Null);
                }
                ResultPath::Path(p) => {
                    k.insert("resultPath".into(), p.text().into());
                }
            }
        }
        Value::Object(k)
    }
}

/// A number given literally, through a path, or by a JSONata expression (`TimeoutSeconds` /
/// `TimeoutSecondsPath`, `MaxConcurrency`, …).
#[derive(Clone, Debug)]
pub(crate) enum NumSource {
    /// Written in the definition, checked when it was compiled.
    Fixed(Value),
    /// A `…Path` field, read from the state's effective input.
    Path(Path),
    /// A `{% … %}` expression of a JSONata state.
    Expr(JTemplate),
}

/// A string given literally, through a path, by an intrinsic, or by a JSONata expression (a Fail
/// state's `Error` / `ErrorPath`, a Wait's `Timestamp` / `TimestampPath`).
#[derive(Clone, Debug)]
pub(crate) enum StrSource {
    /// Written in the definition.
    Literal(String),
    /// A `…Path` field, read from the state's effective input.
    Path(Path),
    /// A `…Path` field holding an intrinsic call (`States.Format(…)`).
    Call(Call),
    /// A `{% … %}` expression of a JSONata state.
    Expr(JTemplate),
}

/// A template in the state's query language, evaluated per use (a Map's `ItemSelector` and
/// `Items`, a JSONata Choice rule's `Condition`).
#[derive(Clone, Debug)]
pub(crate) enum Selector {
    /// A JSONPath-state template (`ItemSelector`) or path (`ItemsPath`).
    JsonPath(Template),
    /// A JSONata-state value.
    Jsonata(JTemplate),
}

/// The fields that shape a state's input and output, in its query language.
///
/// Which fields a state type takes is checked when it is compiled; a field the type does not take
/// is simply absent here.
// Built once per state, so the size spread between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum StateIo {
    /// A JSONPath state.
    JsonPath(JsonPathIo),
    /// A JSONata state.
    Jsonata(JsonataIo),
}

/// The input and output fields of a JSONPath state, in the order they apply.
#[derive(Clone, Debug)]
pub(crate) struct JsonPathIo {
    /// Selects the effective input from the raw input.
    pub(crate) input_path: PathOpt,
    /// Builds the task's or branch's input (Pass: the result) from the effective input.
    pub(crate) parameters: Option<Template>,
    /// Reshapes the result.
    pub(crate) result_selector: Option<Template>,
    /// Workflow variables set from the (selected) result.
    pub(crate) assign: Option<Template>,
    /// Where the result goes in the raw input.
    pub(crate) result_path: ResultPath,
    /// Selects the output from that combination.
    pub(crate) output_path: PathOpt,
}

/// The input and output fields of a JSONata state.
#[derive(Clone, Debug, Default)]
pub(crate) struct JsonataIo {
    /// The task's or branch's input (Map: the `ItemSelector`); default `$states.input`.
    pub(crate) arguments: Option<JTemplate>,
    /// The state's output; default the result.
    pub(crate) output: Option<JTemplate>,
    /// Workflow variables.
    pub(crate) assign: Option<JTemplate>,
}

/// What a Choice rule or a catcher does with the document it passes on, besides choosing the
/// next state.
#[derive(Clone, Debug)]
pub(crate) enum BranchIo {
    /// JSONPath: variables assigned from the document, and (catchers) where the error output
    /// goes in the raw input.
    JsonPath {
        /// `Assign`.
        assign: Option<Template>,
        /// A catcher's `ResultPath`; [`ResultPath::Default`] for a Choice rule.
        result_path: ResultPath,
    },
    /// JSONata: variables and the output.
    Jsonata {
        /// `Assign`.
        assign: Option<JTemplate>,
        /// `Output`; default the document passed on.
        output: Option<JTemplate>,
    },
}

impl StateIo {
    /// The language these fields are written in.
    pub(crate) fn query_language(&self) -> QueryLanguage {
        match self {
            StateIo::JsonPath(_) => QueryLanguage::JSONPath,
            StateIo::Jsonata(_) => QueryLanguage::JSONata,
        }
    }
}

/// What every compiled state has, whatever its type.
#[derive(Clone, Debug)]
pub(crate) struct Common {
    /// Qualified id: `Name` at the top level, `Parallel/1/Name` inside branch 1 of `Parallel`,
    /// `Map/Name` inside the processor of `Map`.
    pub(crate) id: String,
    /// The name the definition gives it; unique in the whole machine.
    pub(crate) name: String,
    /// Its input and output fields.
    pub(crate) io: StateIo,
    /// `Retry`, in order (empty for types that take none).
    pub(crate) retry: Vec<Retrier>,
    /// `Catch`, in order (empty for types that take none).
    pub(crate) catch: Vec<Catcher>,
    /// `Next` or `End`; [`Transition::End`] for Choice, Succeed and Fail.
    pub(crate) next: Transition,
}
