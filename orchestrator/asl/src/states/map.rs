//! Map: runs its processor once per item, at most `MaxConcurrency` at a time (0 = unlimited); the
//! output is the array of iteration outputs in item order.
//!
//! INLINE iterations appear in the parent history (`MapIterationStarted` …); a DISTRIBUTED Map
//! appears as `MapRunStarted` → `MapRunSucceeded`, its iterations being separate child executions
//! on AWS, so their events are not recorded here.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value;

use super::{Children, Flow, effective_input, finish_result, runtime};
use crate::entropy;
use crate::execution::{Active, Cx, Failure, Wait};
use crate::history::EventKind;
use crate::ir::{MapSpec, NumSource, State};

/// Reads `MaxConcurrency`, `ToleratedFailureCount` or `ToleratedFailurePercentage`; the `*Path`
/// forms accept a number or a numeric string.
pub(crate) fn number(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    source: Option<&(NumSource, &'static str)>,
    input: &Value,
) -> Result<Option<f64>, Failure> {
    let Some((source, field)) = source else {
        return Ok(None);
    };
    let (v, path) = match source {
        NumSource::Fixed(v) => (v.clone(), None),
        NumSource::Path(p) => {
            (cx.eval(fid, active, input, None, |env, _| p.eval(env)).map_err(|d| runtime(st, active, &d))?, Some(p))
        }
        NumSource::Jsonata(t) => {
            (crate::jsonata_states::eval_value(cx, fid, active, st, t, field.trim_end_matches("Path"))?, None)
        }
    };
    let parsed = match &v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let integral = *field != "ToleratedFailurePercentagePath";
    match parsed {
        Some(n) if n >= 0.0 && (!integral || n.fract() == 0.0) => Ok(Some(n)),
        _ => {
            let shown = match &v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let path = path.map_or_else(String::new, |p| p.text().to_owned());
            Err(runtime(
                st,
                active,
                &format!("The {field} field refers to value \"{shown}\" which is not a valid integer: {path}"),
            ))
        }
    }
}

pub(crate) fn run(cx: &mut Cx<'_>, fid: usize, active: Active, st: &State, spec: &MapSpec) -> Flow {
    let effective = match effective_input(cx, fid, &active, st) {
        Ok(v) => v,
        Err(failure) => return Flow::Fail { active, failure },
    };
    let items = match &spec.items_path {
        Some(p) => match cx.eval(fid, &active, &effective, None, |env, _| p.eval(env)) {
            Ok(v) => v,
            Err(d) => {
                return Flow::Fail { failure: runtime(st, &active, &d), active };
            }
        },
        None => Value::clone(&effective),
    };
    let Value::Array(items) = items else {
        let detail = format!("Map state input must be an array but was: {items}");
        return Flow::Fail { failure: runtime(st, &active, &detail), active };
    };
    let max = match number(cx, fid, &active, st, spec.max_concurrency.as_ref(), &effective) {
        Ok(m) => m.unwrap_or(0.0),
        Err(failure) => return Flow::Fail { active, failure },
    };
    start(cx, fid, active, st, spec, Arc::unwrap_or_clone(effective), items, max as usize)
}

/// Records `MapStateStarted` and starts the first iterations.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start(
    cx: &mut Cx<'_>,
    fid: usize,
    mut active: Active,
    st: &State,
    spec: &MapSpec,
    effective: Value,
    items: Vec<Value>,
    max: usize,
) -> Flow {
    cx.emit(fid, EventKind::MapStateStarted { length: items.len() });
    let tolerated_count = number(cx, fid, &active, st, spec.tolerated_count.as_ref(), &effective);
    let tolerated_percentage = number(cx, fid, &active, st, spec.tolerated_percentage.as_ref(), &effective);
    let (tolerated_count, tolerated_percentage) = match (tolerated_count, tolerated_percentage) {
        (Ok(c), Ok(p)) => (c.map(|c| c as u64), p),
        (Err(failure), _) | (_, Err(failure)) => return Flow::Fail { active, failure },
    };
    if spec.distributed {
        let arn = format!(
            "{}/{}:{}",
            cx.ctx().state_machine_arn.replacen(":stateMachine:", ":mapRun:", 1),
            st.name,
            entropy::uuid_v4(cx.entropy)
        );
        cx.emit(fid, EventKind::MapRunStarted { map_run_arn: arn });
    }
    let outer = cx.scope(fid).map(|s| s.flattened()).unwrap_or_default();
    let children = Children {
        running: Vec::new(),
        results: vec![None; items.len()],
        pending: items.into_iter().enumerate().collect::<VecDeque<_>>(),
        max_concurrency: max,
        failures: 0,
        tolerated_count,
        tolerated_percentage,
        outer,
    };
    active.effective = effective;
    fill(cx, fid, active, st, spec, Box::new(children))
}

/// Starts iterations while there is room, or completes the state when all are done.
fn fill(
    cx: &mut Cx<'_>,
    fid: usize,
    mut active: Active,
    st: &State,
    spec: &MapSpec,
    mut children: Box<Children>,
) -> Flow {
    while children.max_concurrency == 0 || children.running.len() < children.max_concurrency {
        let Some((index, item)) = children.pending.pop_front() else {
            break;
        };
        let input = if st.jsonata.is_some() {
            crate::jsonata_states::item_input(cx, fid, &active, st, index, &item)
        } else {
            match &spec.item_selector {
                Some(t) => cx
                    .eval(fid, &active, &active.effective, Some((index as u64, &item)), |env, e| t.eval(env, e))
                    .map_err(|d| runtime(st, &active, &d)),
                None => Ok(item),
            }
        };
        let input = match input {
            Ok(v) => v,
            Err(failure) => {
                for other in children.running_frames() {
                    cx.abort_frame(other);
                }
                return Flow::Fail { active, failure };
            }
        };
        if !spec.distributed {
            cx.emit(fid, EventKind::MapIterationStarted { name: st.name.clone(), index });
        }
        let child = cx.spawn(fid, index, spec.processor, Arc::new(input), children.outer.clone(), spec.distributed);
        children.running.push((index, child));
    }
    if !children.running.is_empty() {
        active.wait = Wait::Children(children);
        return Flow::Block(active);
    }
    if spec.distributed {
        cx.emit(fid, EventKind::MapRunSucceeded);
    }
    cx.emit(fid, EventKind::MapStateSucceeded);
    let outputs = Value::Array(children.results.into_iter().map(Option::unwrap_or_default).collect());
    if st.jsonata.is_some() {
        let input = active.raw_input.share();
        return crate::jsonata_states::exit_with(cx, fid, active, st, &input, &outputs);
    }
    finish_result(cx, fid, active, st, Arc::new(outputs))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn on_child(
    cx: &mut Cx<'_>,
    fid: usize,
    mut active: Active,
    st: &State,
    spec: &MapSpec,
    slot: usize,
    child: usize,
    result: Result<Value, Failure>,
) -> Flow {
    let Wait::Children(mut children) = std::mem::replace(&mut active.wait, Wait::None) else {
        return Flow::Block(active);
    };
    children.running.retain(|(_, f)| *f != child);
    match result {
        Ok(output) => {
            if let Some(r) = children.results.get_mut(slot) {
                *r = Some(output);
            }
            if !spec.distributed {
                cx.emit(fid, EventKind::MapIterationSucceeded { name: st.name.clone(), index: slot });
            }
        }
        Err(failure) => {
            if !spec.distributed {
                cx.emit(fid, EventKind::MapIterationFailed { name: st.name.clone(), index: slot });
            }
            children.failures += 1;
            let total = children.results.len().max(1) as f64;
            let tolerance_set = children.tolerated_count.is_some() || children.tolerated_percentage.is_some();
            let exceeded = !tolerance_set
                || children.tolerated_count.is_some_and(|c| children.failures > c)
                || children.tolerated_percentage.is_some_and(|p| children.failures as f64 * 100.0 / total > p);
            if exceeded {
                for other in children.running_frames() {
                    cx.abort_frame(other);
                }
                let failure = if tolerance_set {
                    Failure::new(
                        "States.ExceedToleratedFailureThreshold",
                        Some("The specified tolerated failure threshold was exceeded".into()),
                    )
                } else {
                    failure
                };
                if spec.distributed {
                    cx.emit(
                        fid,
                        EventKind::MapRunFailed { error: failure.error.clone(), cause: failure.cause.clone() },
                    );
                }
                active.children_failed = true;
                return Flow::Fail { active, failure };
            }
        }
    }
    fill(cx, fid, active, st, spec, children)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::run_json;

    #[test]
    fn selector_concurrency_and_events() {
        let out = run_json(
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":1,
                "ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index","k.$":"$.k"},
                "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"ResultPath":"$.out","End":true}}}"#,
            json!({"xs": ["a", "b"], "k": 1}),
        );
        assert_eq!(
            out.output(),
            Some(json!({"xs": ["a", "b"], "k": 1, "out": [{"v": "a", "i": 0, "k": 1}, {"v": "b", "i": 1, "k": 1}]}))
        );
        assert_eq!(
            out.event_types(),
            [
                "ExecutionStarted",
                "MapStateEntered",
                "MapStateStarted",
                "MapIterationStarted",
                "PassStateEntered",
                "PassStateExited",
                "MapIterationSucceeded",
                "MapIterationStarted",
                "PassStateEntered",
                "PassStateExited",
                "MapIterationSucceeded",
                "MapStateSucceeded",
                "MapStateExited",
                "ExecutionSucceeded"
            ]
        );
    }

    #[test]
    fn failures_tolerance_and_bad_paths() {
        let def = |extra: &str| {
            format!(
                r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map",{extra}"ItemProcessor":{{"StartAt":"C","States":{{
                "C":{{"Type":"Choice","Choices":[{{"Variable":"$","NumericEquals":2,"Next":"F"}}],"Default":"P"}},
                "F":{{"Type":"Fail","Error":"Two"}},"P":{{"Type":"Pass","End":true}}}}}},"End":true}}}}}}"#
            )
        };
        let out = run_json(&def(""), json!([1, 2, 3]));
        assert_eq!(out.failure(), Some((Some("Two".into()), None)));
        let out = run_json(&def(r#""ToleratedFailureCount":1,"#), json!([1, 2, 3]));
        assert_eq!(out.output(), Some(json!([1, null, 3])));
        let out = run_json(&def(r#""ToleratedFailurePercentage":10,"#), json!([1, 2, 3]));
        assert_eq!(out.failure().unwrap().0.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
        let out = run_json(&def(r#""MaxConcurrencyPath":"$$.Execution.Input.nope","#), json!([1]));
        assert_eq!(out.failure().unwrap().0.as_deref(), Some("States.Runtime"));
    }
}
