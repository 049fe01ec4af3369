//! Fail: ends its frame with an error and cause (literal, path, variable or intrinsic).

use serde_json::Value;

use super::{Flow, runtime};
use crate::execution::{Active, Cx, Failure};
use crate::ir::{FailSpec, State, StrSource};

fn resolve(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    source: Option<&StrSource>,
) -> Result<Option<String>, Failure> {
    let input = active.raw_input.share();
    let value = match source {
        None => return Ok(None),
        Some(StrSource::Literal(s)) => return Ok(Some(s.clone())),
        Some(StrSource::Path(p)) => cx.eval(fid, active, &input, None, |env, _| p.eval(env)),
        Some(StrSource::Call(c)) => cx.eval(fid, active, &input, None, |env, e| c.eval(env, e)),
        Some(StrSource::Jsonata(_)) => {
            return Err(runtime(st, active, "JSONata is not supported here"));
        }
    };
    match value {
        Ok(Value::String(s)) => Ok(Some(s)),
        Ok(other) => Err(runtime(st, active, &format!("The value {other} is not a string"))),
        Err(d) => Err(runtime(st, active, &d)),
    }
}

pub(crate) fn run(cx: &mut Cx<'_>, fid: usize, active: Active, st: &State, spec: &FailSpec) -> Flow {
    let error = match resolve(cx, fid, &active, st, spec.error.as_ref()) {
        Ok(e) => e,
        Err(failure) => return Flow::Fail { active, failure },
    };
    let cause = match resolve(cx, fid, &active, st, spec.cause.as_ref()) {
        Ok(c) => c,
        Err(failure) => return Flow::Fail { active, failure },
    };
    // A Fail state has no Retry or Catch, so this propagates to the enclosing frame.
    Flow::Fail { active, failure: Failure { error, cause, from_task: false } }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::run_json;

    #[test]
    fn literal_path_intrinsic_and_empty() {
        let out = run_json(r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}}"#, json!({}));
        assert_eq!(out.failure(), Some((Some("E".into()), Some("C".into()))));
        assert_eq!(out.event_types(), ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]);
        let out = run_json(
            r#"{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"States.Format('{}', $.e)","CausePath":"$$.State.Name"}}}"#,
            json!({"e": "err"}),
        );
        assert_eq!(out.failure(), Some((Some("err".into()), Some("F".into()))));
        let out = run_json(r#"{"StartAt":"F","States":{"F":{"Type":"Fail"}}}"#, json!({}));
        assert_eq!(out.failure(), Some((None, None)));
        let out = run_json(r#"{"StartAt":"F","States":{"F":{"Type":"Fail","CausePath":"$.missing"}}}"#, json!({}));
        assert_eq!(out.failure().unwrap().0.as_deref(), Some("States.Runtime"));
    }
}
