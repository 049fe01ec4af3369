//! Fail: ends its frame with an error and cause (literal, path, intrinsic or expression).

use serde_json::Value;

use crate::compile::{Fields, Site};
use crate::execution::{Failure, Flow, StateCx};
use crate::ir::StrSource;
use crate::machine::{Builder, State};
use crate::model::FailState;
use crate::states::Kind;

/// A Fail state's own fields.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    /// `Error` / `ErrorPath`.
    pub(crate) error: Option<StrSource>,
    /// `Cause` / `CausePath`.
    pub(crate) cause: Option<StrSource>,
}

pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, f: &FailState) -> State {
    let error = b.str_source(site, f.query_language, f.error.as_ref(), f.error_path.as_ref(), "Error");
    let cause = b.str_source(site, f.query_language, f.cause.as_ref(), f.cause_path.as_ref(), "Cause");
    let fields = Fields { terminal_kind: true, query_language: f.query_language, ..Fields::default() };
    State { common: b.common(site, &fields), kind: Kind::Fail(Spec { error, cause }) }
}

/// The text of `Error` or `Cause`. A path or intrinsic must give a string; an expression's other
/// values are written as JSON.
fn resolve(sc: &mut StateCx<'_, '_>, source: Option<&StrSource>, field: &str) -> Result<Option<String>, Failure> {
    let Some(source) = source else { return Ok(None) };
    let input = sc.active.raw_input.share();
    match (sc.string(source, field, &input)?, source) {
        (Value::String(s), _) => Ok(Some(s)),
        (other, StrSource::Expr(_)) => Ok(Some(other.to_string())),
        (other, _) => Err(sc.invalid(&format!("The value {other} is not a string"))),
    }
}

pub(crate) fn run(mut sc: StateCx<'_, '_>, spec: &Spec) -> Flow {
    let error = match resolve(&mut sc, spec.error.as_ref(), "Error") {
        Ok(e) => e,
        Err(failure) => return sc.fail(failure),
    };
    let cause = match resolve(&mut sc, spec.cause.as_ref(), "Cause") {
        Ok(c) => c,
        Err(failure) => return sc.fail(failure),
    };
    // A Fail state has no Retry or Catch, so this propagates to the enclosing frame.
    sc.fail(Failure { error, cause, from_task: false })
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
