//! The verbs for JSONata states: `Arguments`, `Output`, `Assign` and `{% … %}` field values,
//! evaluated with `$states` (`input`, `result`, `errorOutput`, `context`) and the workflow
//! variables bound. A failing expression is `States.QueryEvaluationError`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::execution::{Failure, Flow, StateCx};
use crate::history::EventKind;
use crate::ir::Transition;
use crate::jsonata::{Bindings, EvalOptions};
use crate::names;
use crate::payload::Scope;
use crate::template::JTemplate;

impl JTemplate {
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

impl<'a> States<'a> {
    fn of(input: &'a Value) -> Self {
        States { input, result: None, error_output: None, map_item: None }
    }
}

/// Evaluates `t` without recording anything; the failure is a `States.QueryEvaluationError`.
fn eval(sc: &mut StateCx<'_, '_>, t: &JTemplate, field: &str, s: &States<'_>) -> Result<Value, Failure> {
    let ctx = sc.cx.ctx();
    let mut context = json!({
        "Execution": {
            "Id": ctx.execution_arn, "Name": ctx.execution_name, "RoleArn": ctx.role_arn,
            "StartTime": ctx.start_time.to_rfc3339(), "RedriveCount": ctx.redrive_count,
        },
        "State": {"EnteredTime": sc.active.entered_at.to_rfc3339(), "Name": sc.st.name, "RetryCount": sc.active.retry_count},
        "StateMachine": {"Id": ctx.state_machine_arn, "Name": ctx.state_machine_name},
    });
    if let (Some(time), Some(execution)) = (ctx.redrive_time, context["Execution"].as_object_mut()) {
        execution.insert("RedriveTime".into(), Value::String(time.to_rfc3339()));
    }
    if let (Some((i, v)), Some(obj)) = (s.map_item, context.as_object_mut()) {
        obj.insert("Map".into(), json!({"Item": {"Index": i, "Value": v}}));
    }
    if let (Some(token), Some(obj)) = (&sc.active.task_token, context.as_object_mut()) {
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
    let scope = sc.cx.scope(sc.fid).cloned().unwrap_or_default();
    let options = EvalOptions { now_millis: sc.cx.now.0, random_seed: sc.cx.entropy.next_u64() };
    let vars = Vars { states: &states, scope: &scope, options };
    t.eval(&vars, field)
        .map_err(|detail| Failure::new(names::QUERY_EVALUATION_ERROR, Some(format!("{} {detail}", sc.cause_prefix()))))
}

/// Records `EvaluationFailed`, as AWS does before a JSONata state fails, and returns `failure`.
fn recorded(sc: &mut StateCx<'_, '_>, failure: Failure) -> Failure {
    sc.cx.emit(
        sc.fid,
        EventKind::EvaluationFailed {
            error: failure.error.clone().unwrap_or_default(),
            cause: failure.cause.clone().unwrap_or_default(),
            location: None,
            state: sc.st.name.clone(),
        },
    );
    failure
}

/// A `States.QueryEvaluationError` of the state with AWS's cause prefix, recorded.
pub(super) fn evaluation_failed(sc: &mut StateCx<'_, '_>, detail: &str) -> Failure {
    let failure = Failure::new(names::QUERY_EVALUATION_ERROR, Some(format!("{} {detail}", sc.cause_prefix())));
    recorded(sc, failure)
}

/// Evaluates a field of the state with `$states.input` = `input`; a failure is recorded.
pub(super) fn state_value(
    sc: &mut StateCx<'_, '_>,
    t: &JTemplate,
    field: &str,
    input: &Value,
    map_item: Option<(usize, &Value)>,
) -> Result<Value, Failure> {
    let s = States { map_item, ..States::of(input) };
    eval(sc, t, field, &s).map_err(|failure| recorded(sc, failure))
}

fn assign(
    sc: &mut StateCx<'_, '_>,
    t: Option<&JTemplate>,
    s: &States<'_>,
) -> Result<Option<Map<String, Value>>, Failure> {
    let Some(t) = t else { return Ok(None) };
    let mut out = Map::new();
    for (name, field) in t.fields() {
        out.insert(name.clone(), eval(sc, &field, &format!("Assign/{name}"), s)?);
    }
    Ok(Some(out))
}

/// `Assign` and `Output` (default: `result`, else `input`, passed on without a copy), then
/// `next`.
pub(super) fn leave(
    mut sc: StateCx<'_, '_>,
    assign_template: Option<&JTemplate>,
    output: Option<&JTemplate>,
    input: &Arc<Value>,
    result: Option<&Arc<Value>>,
    next: Transition,
) -> Flow {
    let s = States { result: result.map(|r| &**r), ..States::of(input) };
    let assigned = match assign(&mut sc, assign_template, &s) {
        Ok(a) => a,
        Err(failure) => {
            let failure = recorded(&mut sc, failure);
            return sc.fail(failure);
        }
    };
    let output = match output {
        Some(t) => match eval(&mut sc, t, "Output", &s) {
            Ok(v) => Arc::new(v),
            Err(failure) => {
                let failure = recorded(&mut sc, failure);
                return sc.fail(failure);
            }
        },
        None => Arc::clone(result.unwrap_or(input)),
    };
    sc.exit(output, next, assigned)
}

/// A catcher's `Assign` and `Output` with `$states.errorOutput` bound. A failure here fails the
/// frame: the state has already failed.
pub(super) fn catch_output(
    mut sc: StateCx<'_, '_>,
    assign_template: Option<&JTemplate>,
    output: Option<&JTemplate>,
    next: usize,
    error_output: &Value,
) -> Flow {
    let input = sc.active.raw_input.share();
    let s = States { error_output: Some(error_output), ..States::of(&input) };
    let assigned = match assign(&mut sc, assign_template, &s) {
        Ok(a) => a,
        Err(f) => return Flow::FailFrame(Some(sc.active), f),
    };
    let output = match output {
        Some(t) => match eval(&mut sc, t, "Output", &s) {
            Ok(v) => v,
            Err(f) => return Flow::FailFrame(Some(sc.active), f),
        },
        None => error_output.clone(),
    };
    sc.exit(Arc::new(output), Transition::Next(next), assigned)
}
