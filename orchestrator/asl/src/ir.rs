//! The compiled form of a state machine: immutable, shared through `Arc`, built once per definition.

use serde_json::{Map, Value, json};

use crate::intrinsics::Call;
use crate::jsonata_states::JTemplate;
use crate::jsonpath::Path;
use crate::model::QueryLanguage;
use crate::payload::Template;
use crate::states::choice::Rule;
use crate::states::task::TaskResource;

/// A validated, compiled state machine.
///
/// Build it once per definition with [`StateMachine::from_json`] or [`compile`](crate::compile) and
/// share it (`Arc<StateMachine>`) between all executions of that definition.
#[derive(Debug)]
pub struct StateMachine {
    pub(crate) states: Vec<State>,
    pub(crate) start: usize,
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) comment: Option<String>,
    pub(crate) query_language: QueryLanguage,
}

/// Read-only view of one compiled state, for graphs and diagnostics.
#[derive(Clone, Debug)]
pub struct StateInfo<'a> {
    /// Qualified id: `Name` at the top level, `Parallel/1/Name` inside branch 1 of `Parallel`,
    /// `Map/Name` inside the processor of `Map`.
    pub id: &'a str,
    /// The state's own name.
    pub name: &'a str,
    /// `Pass`, `Task`, `Choice`, `Wait`, `Succeed`, `Fail`, `Parallel` or `Map`.
    pub state_type: &'static str,
    /// Qualified ids of the states this one can go to (Next, Choice targets, Catch targets).
    pub transitions: Vec<&'a str>,
    /// A Fail state's `Error`, when it is given literally rather than by a path or expression.
    pub fail_error: Option<&'a str>,
    /// A Fail state's `Cause`, likewise.
    pub fail_cause: Option<&'a str>,
}

impl StateMachine {
    /// The qualified id of the top-level start state.
    pub fn start_at(&self) -> &str {
        self.states.get(self.start).map_or("", |s| s.id.as_str())
    }

    /// Every state, top level and nested, in a stable order (each scope breadth-first from its
    /// start state).
    pub fn states(&self) -> impl Iterator<Item = StateInfo<'_>> {
        fn literal(source: &Option<StrSource>) -> Option<&str> {
            match source {
                Some(StrSource::Literal(text)) => Some(text.as_str()),
                _ => None,
            }
        }
        self.states.iter().map(move |s| {
            let fail = match &s.kind {
                Kind::Fail(fail) => Some(fail),
                _ => None,
            };
            StateInfo {
                id: &s.id,
                name: &s.name,
                state_type: s.kind.type_name(),
                transitions: s.targets().filter_map(|i| self.states.get(i)).map(|t| t.id.as_str()).collect(),
                fail_error: fail.and_then(|fail| literal(&fail.error)),
                fail_cause: fail.and_then(|fail| literal(&fail.cause)),
            }
        })
    }

    /// The machine-level `TimeoutSeconds`.
    pub fn timeout_seconds(&self) -> Option<u64> {
        self.timeout_seconds
    }

    /// The machine's default query language.
    pub fn query_language(&self) -> QueryLanguage {
        self.query_language
    }

    /// The top-level `Comment`.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    pub(crate) fn state(&self, idx: usize) -> Option<&State> {
        self.states.get(idx)
    }

    /// A stable JSON summary of the compiled machine: its shape, not its payload processing.
    ///
    /// Meant for golden-file tests and for the console's graph. The result looks like
    ///
    /// ```json
    /// {"startAt": "Charge", "queryLanguage": "JSONPath", "timeoutSeconds": 300, "states": [
    ///   {"id": "Charge", "type": "Task", "resource": "wasm:charge", "next": "Ship",
    ///    "retry": [{"errorEquals": ["States.Timeout"], "intervalSeconds": 1, "maxAttempts": 3, "backoffRate": 2.0}],
    ///    "catch": [{"errorEquals": ["States.ALL"], "next": "Refund", "resultPath": "$.error"}]},
    ///   {"id": "Fulfil", "type": "Parallel", "branches": ["Fulfil/0/Pack", "Fulfil/1/Notify"], "end": true},
    ///   {"id": "Each", "type": "Map", "processor": "Each/Item", "mode": "INLINE", "end": true},
    ///   {"id": "Route", "type": "Choice", "choices": ["Ship", "Hold"],
    ///    "rules": ["$.paid == true", "$.hold is present"], "default": "Ship"}
    /// ]}
    /// ```
    ///
    /// States are listed in the order of [`StateMachine::states`] and named by qualified id.
    /// `next` / `end` is the state's own transition (Choice, Succeed and Fail have neither);
    /// Choice lists the target of each rule in order and, under `rules`, each rule as text;
    /// Parallel lists the start state of each branch and Map the start state of its processor.
    /// Retriers show their effective values, defaults included. Optional keys are left out rather than set to `null`, except a catcher's
    /// `resultPath`, where `null` means the error output is discarded.
    pub fn describe(&self) -> Value {
        let mut out = Map::new();
        out.insert("startAt".into(), self.start_at().into());
        out.insert("queryLanguage".into(), json!(self.query_language));
        if let Some(t) = self.timeout_seconds {
            out.insert("timeoutSeconds".into(), t.into());
        }
        out.insert("states".into(), self.states.iter().map(|s| self.describe_state(s)).collect());
        Value::Object(out)
    }

    /// The qualified id of the state at `idx`, as JSON.
    fn id_value(&self, idx: usize) -> Value {
        self.states.get(idx).map_or(Value::Null, |s| Value::from(s.id.as_str()))
    }

    fn describe_state(&self, s: &State) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), s.id.as_str().into());
        o.insert("type".into(), s.kind.type_name().into());
        let ql = if s.jsonata.is_some() { QueryLanguage::JSONata } else { QueryLanguage::JSONPath };
        if ql != self.query_language {
            o.insert("queryLanguage".into(), json!(ql));
        }
        match &s.kind {
            Kind::Task(t) => {
                o.insert("resource".into(), t.resource.to_string().into());
            }
            Kind::Choice(c) => {
                o.insert("choices".into(), c.branches.iter().map(|b| self.id_value(b.next)).collect());
                o.insert("rules".into(), c.branches.iter().map(|b| Value::from(b.rule.label())).collect());
                if let Some(d) = c.default {
                    o.insert("default".into(), self.id_value(d));
                }
            }
            Kind::Parallel { branches } => {
                o.insert("branches".into(), branches.iter().map(|&b| self.id_value(b)).collect());
            }
            Kind::Map(m) => {
                o.insert("processor".into(), self.id_value(m.processor));
                o.insert("mode".into(), if m.distributed { "DISTRIBUTED" } else { "INLINE" }.into());
            }
            Kind::Pass { .. } | Kind::Wait(_) | Kind::Succeed | Kind::Fail(_) => {}
        }
        match s.next {
            Transition::Next(n) => {
                o.insert("next".into(), self.id_value(n));
            }
            // Choice, Succeed and Fail end (or branch) by their nature, not by `"End": true`.
            Transition::End if !matches!(s.kind, Kind::Choice(_) | Kind::Succeed | Kind::Fail(_)) => {
                o.insert("end".into(), true.into());
            }
            Transition::End => {}
        }
        if !s.retry.is_empty() {
            o.insert("retry".into(), s.retry.iter().map(Retrier::describe).collect());
        }
        if !s.catch.is_empty() {
            o.insert("catch".into(), s.catch.iter().map(|c| c.describe(self.id_value(c.next))).collect());
        }
        Value::Object(o)
    }
}

/// `InputPath` / `OutputPath`.
#[derive(Clone, Debug)]
pub(crate) enum PathOpt {
    /// Absent: `$`.
    Default,
    /// `null`: `{}`.
    Null,
    Path(Path),
}

/// `ResultPath`.
#[derive(Clone, Debug)]
pub(crate) enum ResultPath {
    /// Absent: the result replaces the input.
    Default,
    /// `null`: the result is discarded.
    Discard,
    Path(Path),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    Next(usize),
    End,
}

#[derive(Clone, Debug)]
pub(crate) struct Retrier {
    pub(crate) errors: Vec<String>,
    pub(crate) interval_seconds: u64,
    pub(crate) max_attempts: u64,
    pub(crate) backoff_rate: f64,
    pub(crate) max_delay_seconds: Option<u64>,
    pub(crate) full_jitter: bool,
}

impl Retrier {
    fn describe(&self) -> Value {
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

#[derive(Clone, Debug)]
pub(crate) struct Catcher {
    pub(crate) errors: Vec<String>,
    pub(crate) next: usize,
    pub(crate) result_path: ResultPath,
    pub(crate) assign: Option<Template>,
    pub(crate) jsonata_assign: Option<JTemplate>,
    pub(crate) jsonata_output: Option<JTemplate>,
}

impl Catcher {
    fn describe(&self, next: Value) -> Value {
        let mut k = Map::new();
        k.insert("errorEquals".into(), json!(self.errors));
        k.insert("next".into(), next);
        match &self.result_path {
            ResultPath::Default => {}
            ResultPath::Discard => {
                k.insert("resultPath".into(), Value::Null);
            }
            ResultPath::Path(p) => {
                k.insert("resultPath".into(), p.text().into());
            }
        }
        Value::Object(k)
    }
}

/// A number given literally or through a path (`TimeoutSeconds` / `TimeoutSecondsPath`, …).
#[derive(Clone, Debug)]
pub(crate) enum NumSource {
    Fixed(Value),
    Path(Path),
    Jsonata(JTemplate),
}

/// A string given literally, through a path, or by an intrinsic (Fail's `Error` / `ErrorPath`).
#[derive(Clone, Debug)]
pub(crate) enum StrSource {
    Literal(String),
    Path(Path),
    Call(Call),
    Jsonata(JTemplate),
}

#[derive(Clone, Debug)]
pub(crate) struct TaskSpec {
    pub(crate) resource: TaskResource,
    pub(crate) timeout: Option<NumSource>,
    pub(crate) heartbeat: Option<NumSource>,
}

#[derive(Clone, Debug)]
pub(crate) enum WaitSpec {
    Seconds(NumSource),
    Timestamp(StrSource),
}

#[derive(Clone, Debug)]
pub(crate) struct FailSpec {
    pub(crate) error: Option<StrSource>,
    pub(crate) cause: Option<StrSource>,
}

#[derive(Clone, Debug)]
pub(crate) struct ChoiceBranch {
    pub(crate) rule: Rule,
    pub(crate) next: usize,
    pub(crate) assign: Option<Template>,
    pub(crate) jsonata_assign: Option<JTemplate>,
    pub(crate) jsonata_output: Option<JTemplate>,
}

#[derive(Clone, Debug)]
pub(crate) struct ChoiceSpec {
    pub(crate) branches: Vec<ChoiceBranch>,
    pub(crate) default: Option<usize>,
}

#[derive(Clone, Debug)]
pub(crate) struct MapSpec {
    pub(crate) processor: usize,
    pub(crate) items_path: Option<Path>,
    pub(crate) jsonata_items: Option<JTemplate>,
    pub(crate) item_selector: Option<Template>,
    pub(crate) max_concurrency: Option<(NumSource, &'static str)>,
    pub(crate) tolerated_count: Option<(NumSource, &'static str)>,
    pub(crate) tolerated_percentage: Option<(NumSource, &'static str)>,
    pub(crate) distributed: bool,
}

// Built once per definition, so the size spread between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// `Result`, shared with every execution that passes it on.
    Pass {
        result: Option<std::sync::Arc<Value>>,
    },
    Task(TaskSpec),
    Choice(ChoiceSpec),
    Wait(WaitSpec),
    Succeed,
    Fail(FailSpec),
    Parallel {
        branches: Vec<usize>,
    },
    Map(MapSpec),
}

impl Kind {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "Pass",
            Kind::Task(_) => "Task",
            Kind::Choice(_) => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail(_) => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map(_) => "Map",
        }
    }
}

/// JSONata fields of a state (`Arguments`, `Output`, `Assign`).
#[derive(Clone, Debug, Default)]
pub(crate) struct JsonataSpec {
    pub(crate) arguments: Option<JTemplate>,
    pub(crate) output: Option<JTemplate>,
    pub(crate) assign: Option<JTemplate>,
}

#[derive(Clone, Debug)]
pub(crate) struct State {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) jsonata: Option<JsonataSpec>,
    pub(crate) input_path: PathOpt,
    pub(crate) output_path: PathOpt,
    pub(crate) result_path: ResultPath,
    pub(crate) parameters: Option<Template>,
    pub(crate) result_selector: Option<Template>,
    pub(crate) assign: Option<Template>,
    pub(crate) retry: Vec<Retrier>,
    pub(crate) catch: Vec<Catcher>,
    pub(crate) next: Transition,
    pub(crate) kind: Kind,
}

impl State {
    /// Indices of every state this one can transition to.
    pub(crate) fn targets(&self) -> impl Iterator<Item = usize> + '_ {
        let next = match self.next {
            Transition::Next(i) => Some(i),
            Transition::End => None,
        };
        let choice: Vec<usize> = match &self.kind {
            Kind::Choice(c) => c.branches.iter().map(|b| b.next).chain(c.default).collect(),
            _ => Vec::new(),
        };
        next.into_iter().chain(choice).chain(self.catch.iter().map(|c| c.next))
    }
}
