//! JSONata states: `Arguments`, `Output`, `Assign`, `Items`, `Condition` and `{% … %}` values.
//!
//! Only strings that are exactly `{% … %}` are expressions; everything else is literal. The
//! expression language itself lives in [`crate::jsonata`]; expressions are parsed once, when the
//! definition is compiled, and a failing one fails the state with `States.QueryEvaluationError`.

use serde_json::{Map, Value, json};

use crate::compile::{Diagnostic, Diagnostics};
use crate::execution::{Active, Cx, Failure};
use crate::history::EventKind;
use crate::ir::{Catcher, Kind, NumSource, State, StrSource, Transition, WaitSpec};
use crate::jsonata::{Bindings, EvalOptions, Jsonata};
use crate::payload::Scope;
use crate::states::{self, Flow, cause_prefix};
use crate::timestamp::Timestamp;

/// A value whose `{% … %}` strings are JSONata expressions.
#[derive(Clone, Debug)]
pub(crate) enum JTemplate {
    Literal(Value),
    Expr { text: String, expr: Jsonata },
    Object(Vec<(String, JTemplate)>),
    Array(Vec<JTemplate>),
}

fn expression_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%").and_then(|r| r.strip_suffix("%}"))
}

fn has_expressions(v: &Value) -> bool {
    match v {
        Value::String(s) => expression_text(s).is_some(),
        Value::Array(items) => items.iter().any(has_expressions),
        Value::Object(m) => m.values().any(has_expressions),
        _ => false,
    }
}

impl JTemplate {
    pub(crate) fn compile(v: &Value, loc: &str, diags: &mut Diagnostics) -> JTemplate {
        if !has_expressions(v) {
            return JTemplate::Literal(v.clone());
        }
        match v {
            Value::String(s) => {
                let text = expression_text(s).unwrap_or_default().trim().to_owned();
                match Jsonata::parse(&text) {
                    Ok(expr) => JTemplate::Expr { text, expr },
                    Err(e) => {
                        diags.push(Diagnostic::new(
                            "SCHEMA_VALIDATION_FAILED",
                            loc,
                            format!("Invalid JSONata expression '{text}': {}", e.message),
                        ));
                        JTemplate::Literal(Value::Null)
                    }
                }
            }
            Value::Array(items) => JTemplate::Array(
                items.iter().enumerate().map(|(i, v)| JTemplate::compile(v, &format!("{loc}/{i}"), diags)).collect(),
            ),
            Value::Object(m) => JTemplate::Object(
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            JTemplate::compile(v, &format!("{loc}/{}", crate::compile::escape_pointer(k)), diags),
                        )
                    })
                    .collect(),
            ),
            other => JTemplate::Literal(other.clone()),
        }
    }

    /// Evaluates; `field` names the field for error messages (`Output/result`).
    fn eval(&self, vars: &Vars<'_>, field: &str) -> Result<Value, String> {
        match self {
            JTemplate::Literal(v) => Ok(v.clone()),
            JTemplate::Expr { text, expr } => match expr.evaluate(vars.states.get("input"), vars, &vars.options) {
                Ok(Some(v)) => Ok(v),
                Ok(None) => Err(format!(
                    "The JSONata expression '{text}' specified for the field '{field}' returned nothing (undefined)."
                )),
                Err(e) => Err(format!(
                    "An error occurred while evaluating the JSONata expression '{text}' specified for the field '{field}': {}",
                    e.message
                )),
            },
            JTemplate::Array(items) => {
                items.iter().map(|t| t.eval(vars, field)).collect::<Result<Vec<_>, _>>().map(Value::Array)
            }
            JTemplate::Object(fields) => {
                let mut out = Map::new();
                for (k, t) in fields {
                    out.insert(k.clone(), t.eval(vars, &format!("{field}/{k}"))?);
                }
                Ok(Value::Object(out))
            }
        }
    }

    /// For `Assign`: the top-level fields.
    fn fields(&self) -> Vec<(String, JTemplate)> {
        match self {
            JTemplate::Object(fields) => fields.clone(),
            JTemplate::Literal(Value::Object(m)) => {
                m.iter().map(|(k, v)| (k.clone(), JTemplate::Literal(v.clone()))).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// What an expression reads besides its own bindings: `$states` and the workflow variables.
struct Vars<'a> {
    states: &'a Value,
    scope: &'a Scope,
    options: EvalOptions,
}

impl Bindings for Vars<'_> {
    fn lookup(&self, name: &str) -> Option<&Value> {
        if name == "states" { Some(self.states) } else { self.scope.get(name) }
    }
}

/// What `$states` holds for one evaluation.
struct States<'a> {
    input: &'a Value,
    result: Option<&'a Value>,
    error_output: Option<&'a Value>,
    map_item: Option<(usize, &'a Value)>,
}

fn eval_in(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    t: &JTemplate,
    field: &str,
    s: &States<'_>,
) -> Result<Value, Failure> {
    let mut context = json!({
        "Execution": {
            "Id": cx.ctx().execution_arn, "Name": cx.ctx().execution_name, "RoleArn": cx.ctx().role_arn,
            "StartTime": cx.ctx().start_time.to_rfc3339(), "RedriveCount": 0,
        },
        "State": {"EnteredTime": active.entered_at.to_rfc3339(), "Name": st.name, "RetryCount": active.retry_count},
        "StateMachine": {"Id": cx.ctx().state_machine_arn, "Name": cx.ctx().state_machine_name},
    });
    if let (Some((i, v)), Some(obj)) = (s.map_item, context.as_object_mut()) {
        obj.insert("Map".into(), json!({"Item": {"Index": i, "Value": v}}));
    }
    if let (Some(token), Some(obj)) = (&active.task_token, context.as_object_mut()) {
        obj.insert("Task".into(), json!({"Token": token}));
    }
    let mut states = Map::new();
    states.insert("input".into(), s.input.clone());
    states.insert("context".into(), context);
    if let Some(r) = s.result {
        states.insert("result".into(), r.clone());
    }
    if let Some(e) = s.error_output {
        states.insert("errorOutput".into(), e.clone());
    }
    let states = Value::Object(states);
    let empty = crate::payload::Scope::default();
    let scope = cx.scope(fid).cloned().unwrap_or(empty);
    let options = EvalOptions { now_millis: cx.now.0, random_seed: cx.entropy.next_u64() };
    let vars = Vars { states: &states, scope: &scope, options };
    t.eval(&vars, field).map_err(|detail| {
        Failure::new("States.QueryEvaluationError", Some(format!("{} {detail}", cause_prefix(st, active))))
    })
}

/// Evaluates `t` against the state's raw input (for numeric fields such as
/// `ToleratedFailureCount`).
pub(crate) fn eval_value(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    t: &JTemplate,
    field: &str,
) -> Result<Value, Failure> {
    let input = active.raw_input.clone();
    let s = States { input: &input, result: None, error_output: None, map_item: None };
    eval_in(cx, fid, active, st, t, field, &s)
}

/// A JSONata evaluation failure: AWS records `EvaluationFailed` before the state fails.
fn evaluation_failed(cx: &mut Cx<'_>, fid: usize, active: Active, st: &State, failure: Failure) -> Flow {
    cx.emit(
        fid,
        EventKind::EvaluationFailed {
            error: failure.error.clone().unwrap_or_default(),
            cause: failure.cause.clone().unwrap_or_default(),
            location: None,
            state: st.name.clone(),
        },
    );
    Flow::Fail { active, failure }
}

macro_rules! try_eval {
    ($cx:expr, $fid:expr, $active:expr, $st:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(f) => return evaluation_failed($cx, $fid, $active, $st, f),
        }
    };
}

fn assign_vars(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    t: Option<&JTemplate>,
    s: &States<'_>,
) -> Result<Option<Map<String, Value>>, Failure> {
    let Some(t) = t else { return Ok(None) };
    let mut out = Map::new();
    for (name, field) in t.fields() {
        out.insert(name.clone(), eval_in(cx, fid, active, st, &field, &format!("Assign/{name}"), s)?);
    }
    Ok(Some(out))
}

/// Runs an entered JSONata state.
pub(crate) fn run_state(cx: &mut Cx<'_>, fid: usize, mut active: Active, st: &State) -> Flow {
    let spec = st.jsonata.clone().unwrap_or_default();
    let input = active.raw_input.clone();
    let s = States { input: &input, result: None, error_output: None, map_item: None };
    match &st.kind {
        Kind::Pass { .. } | Kind::Succeed => exit_with(cx, fid, active, st, &input, &input),
        Kind::Fail(f) => {
            let resolve = |src: &Option<StrSource>, field: &str, cx: &mut Cx<'_>| -> Result<Option<String>, Failure> {
                match src {
                    None => Ok(None),
                    Some(StrSource::Literal(s)) => Ok(Some(s.clone())),
                    Some(StrSource::Jsonata(t)) => match eval_in(cx, fid, &active, st, t, field, &s)? {
                        Value::String(v) => Ok(Some(v)),
                        other => Ok(Some(other.to_string())),
                    },
                    Some(_) => Ok(None),
                }
            };
            let error = resolve(&f.error, "Error", cx);
            let cause = resolve(&f.cause, "Cause", cx);
            match (error, cause) {
                (Ok(error), Ok(cause)) => Flow::Fail { active, failure: Failure { error, cause, from_task: false } },
                (Err(f), _) | (_, Err(f)) => evaluation_failed(cx, fid, active, st, f),
            }
        }
        Kind::Choice(c) => {
            for b in &c.branches {
                let states::choice::Rule::Condition(cond) = &b.rule else {
                    continue;
                };
                let v = try_eval!(cx, fid, active, st, eval_in(cx, fid, &active, st, cond, "Condition", &s));
                if v == Value::Bool(true) {
                    let assigned = try_eval!(
                        cx,
                        fid,
                        active,
                        st,
                        assign_vars(cx, fid, &active, st, b.jsonata_assign.as_ref(), &s)
                    );
                    let output = match &b.jsonata_output {
                        Some(t) => try_eval!(cx, fid, active, st, eval_in(cx, fid, &active, st, t, "Output", &s)),
                        None => input.clone(),
                    };
                    return Flow::Exit { active, output, next: Transition::Next(b.next), assigned };
                }
            }
            match c.default {
                Some(d) => {
                    let assigned =
                        try_eval!(cx, fid, active, st, assign_vars(cx, fid, &active, st, spec.assign.as_ref(), &s));
                    let output = match &spec.output {
                        Some(t) => try_eval!(cx, fid, active, st, eval_in(cx, fid, &active, st, t, "Output", &s)),
                        None => input.clone(),
                    };
                    Flow::Exit { active, output, next: Transition::Next(d), assigned }
                }
                None => {
                    let cause = format!("{} No Matches!", cause_prefix(st, &active));
                    Flow::Fail { active, failure: Failure::new("States.NoChoiceMatched", Some(cause)) }
                }
            }
        }
        Kind::Wait(w) => {
            let now = cx.now;
            let until = match w {
                WaitSpec::Seconds(NumSource::Fixed(v)) => {
                    Ok(now.add_millis(v.as_i64().unwrap_or(0).saturating_mul(1000)))
                }
                WaitSpec::Seconds(NumSource::Jsonata(t)) => {
                    eval_in(cx, fid, &active, st, t, "Seconds", &s).and_then(|v| match v.as_i64() {
                        Some(n) if n >= 0 => Ok(now.add_millis(n.saturating_mul(1000))),
                        _ => Err(Failure::new(
                            "States.QueryEvaluationError",
                            Some(format!(
                                "{} The Seconds value {v} is not a non-negative integer",
                                cause_prefix(st, &active)
                            )),
                        )),
                    })
                }
                WaitSpec::Timestamp(StrSource::Literal(text)) => Ok(Timestamp::parse_rfc3339(text).unwrap_or(now)),
                WaitSpec::Timestamp(StrSource::Jsonata(t)) => eval_in(cx, fid, &active, st, t, "Timestamp", &s)
                    .and_then(|v| {
                        v.as_str().and_then(Timestamp::parse_rfc3339).ok_or_else(|| {
                            Failure::new(
                                "States.QueryEvaluationError",
                                Some(format!(
                                    "{} The Timestamp value {v} is not a valid timestamp",
                                    cause_prefix(st, &active)
                                )),
                            )
                        })
                    }),
                _ => Ok(now),
            };
            let until = try_eval!(cx, fid, active, st, until);
            active.effective = input;
            if until <= now {
                return states::wait::on_timer(cx, fid, active);
            }
            active.wait = crate::execution::Wait::Timer(cx.state_timer(fid, until));
            Flow::Block(active)
        }
        Kind::Task(t) => {
            let args = match &spec.arguments {
                Some(a) => try_eval!(cx, fid, active, st, eval_in(cx, fid, &active, st, a, "Arguments", &s)),
                None => input.clone(),
            };
            let num = |src: &Option<NumSource>, field: &str, cx: &mut Cx<'_>| -> Result<Option<u64>, Failure> {
                match src {
                    None => Ok(None),
                    Some(NumSource::Fixed(v)) => Ok(v.as_u64()),
                    Some(NumSource::Jsonata(t)) => eval_in(cx, fid, &active, st, t, field, &s).map(|v| v.as_u64()),
                    Some(NumSource::Path(_)) => Ok(None),
                }
            };
            let timeout = try_eval!(cx, fid, active, st, num(&t.timeout, "TimeoutSeconds", cx));
            let heartbeat = try_eval!(cx, fid, active, st, num(&t.heartbeat, "HeartbeatSeconds", cx));
            states::task::invoke(cx, fid, active, st, t, args, timeout, heartbeat)
        }
        Kind::Parallel { branches } => {
            let args = match &spec.arguments {
                Some(a) => try_eval!(cx, fid, active, st, eval_in(cx, fid, &active, st, a, "Arguments", &s)),
                None => input.clone(),
            };
            states::parallel::start(cx, fid, active, branches, &args)
        }
        Kind::Map(m) => {
            let items = match &m.jsonata_items {
                Some(t) => try_eval!(cx, fid, active, st, eval_in(cx, fid, &active, st, t, "Items", &s)),
                None => input.clone(),
            };
            let Value::Array(items) = items else {
                let detail = match &m.jsonata_items {
                    Some(JTemplate::Expr { text, .. }) => format!(
                        "The JSONata expression '{text}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {items}",
                        type_name(&items)
                    ),
                    _ => format!("Map state input must be an array but was: {items}"),
                };
                let failure = Failure::new(
                    "States.QueryEvaluationError",
                    Some(format!("{} {detail}", cause_prefix(st, &active))),
                );
                return evaluation_failed(cx, fid, active, st, failure);
            };
            let max = match &m.max_concurrency {
                Some((NumSource::Fixed(v), _)) => v.as_u64().unwrap_or(0),
                Some((NumSource::Jsonata(t), _)) => {
                    try_eval!(cx, fid, active, st, eval_in(cx, fid, &active, st, t, "MaxConcurrency", &s))
                        .as_u64()
                        .unwrap_or(0)
                }
                _ => 0,
            };
            states::map::start(cx, fid, active, st, m, input, items, max as usize)
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The input of Map iteration `index` (a JSONata `ItemSelector`, or the item itself).
pub(crate) fn item_input(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    index: usize,
    item: &Value,
) -> Result<Value, Failure> {
    match st.jsonata.as_ref().and_then(|s| s.arguments.as_ref()) {
        Some(t) => {
            let input = active.raw_input.clone();
            let s = States { input: &input, result: None, error_output: None, map_item: Some((index, item)) };
            eval_in(cx, fid, active, st, t, "ItemSelector", &s)
        }
        None => Ok(item.clone()),
    }
}

/// Leaves a JSONata state: `Assign` and `Output` (default: the result).
pub(crate) fn exit_with(
    cx: &mut Cx<'_>,
    fid: usize,
    active: Active,
    st: &State,
    input: &Value,
    result: &Value,
) -> Flow {
    let spec = st.jsonata.clone().unwrap_or_default();
    let s = States { input, result: Some(result), error_output: None, map_item: None };
    let assigned = try_eval!(cx, fid, active, st, assign_vars(cx, fid, &active, st, spec.assign.as_ref(), &s));
    let output = match &spec.output {
        Some(t) => try_eval!(cx, fid, active, st, eval_in(cx, fid, &active, st, t, "Output", &s)),
        None => result.clone(),
    };
    let next = if matches!(st.kind, Kind::Succeed) { Transition::End } else { st.next };
    Flow::Exit { active, output, next, assigned }
}

/// Output of a JSONata state whose error `catcher` caught.
pub(crate) fn catch_output(
    cx: &mut Cx<'_>,
    fid: usize,
    active: Active,
    st: &State,
    catcher: &Catcher,
    error_output: &Value,
) -> Flow {
    let input = active.raw_input.clone();
    let s = States { input: &input, result: None, error_output: Some(error_output), map_item: None };
    let assigned = match assign_vars(cx, fid, &active, st, catcher.jsonata_assign.as_ref(), &s) {
        Ok(a) => a,
        Err(f) => return Flow::FailFrame(f),
    };
    let output = match &catcher.jsonata_output {
        Some(t) => match eval_in(cx, fid, &active, st, t, "Output", &s) {
            Ok(v) => v,
            Err(f) => return Flow::FailFrame(f),
        },
        None => error_output.clone(),
    };
    Flow::Exit { active, output, next: Transition::Next(catcher.next), assigned }
}
