//! Pass: passes its input, or a fixed `Result`, to its output.

use std::sync::Arc;

use serde_json::Value;

use super::{Flow, effective_input, finish_result, runtime};
use crate::execution::{Active, Cx};
use crate::ir::State;

pub(crate) fn run(cx: &mut Cx<'_>, fid: usize, active: Active, st: &State, result: Option<&Arc<Value>>) -> Flow {
    let effective = match effective_input(cx, fid, &active, st) {
        Ok(v) => v,
        Err(failure) => return Flow::Fail { active, failure },
    };
    // `Parameters` replaces the effective input; `Result` replaces it again. Neither merges.
    let parameters = match &st.parameters {
        Some(t) => match cx.eval(fid, &active, &effective, None, |env, e| t.eval(env, e)) {
            Ok(v) => Arc::new(v),
            Err(d) => {
                return Flow::Fail { failure: runtime(st, &active, &d), active };
            }
        },
        None => effective,
    };
    let result = result.map_or(parameters, Arc::clone);
    finish_result(cx, fid, active, st, result)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::run_json;

    #[test]
    fn result_parameters_and_paths() {
        let out = run_json(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","Parameters":{"x.$":"$.in","lit":"$.no"},"ResultPath":"$.r","Next":"B"},
                "B":{"Type":"Pass","Result":{"fixed":true},"ResultPath":"$.r.f","OutputPath":"$.r","End":true}}}"#,
            json!({"in": 1}),
        );
        assert_eq!(out.output(), Some(json!({"x": 1, "lit": "$.no", "f": {"fixed": true}})));
        assert_eq!(
            out.event_types(),
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded"
            ]
        );
    }

    #[test]
    fn null_paths_and_missing_input_path() {
        let out = run_json(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":null,"OutputPath":null,"End":true}}}"#,
            json!({"a": 1}),
        );
        assert_eq!(out.output(), Some(json!({})));
        let out = run_json(
            r#"{"StartAt":"pass","States":{"pass":{"Type":"Pass","InputPath":"$.NoSuch","End":true}}}"#,
            json!({}),
        );
        assert_eq!(
            out.failure(),
            Some((
                Some("States.Runtime".to_owned()),
                Some("An error occurred while executing the state 'pass' (entered at the event id #2). Invalid path '$.NoSuch' : No results for path: $['NoSuch']".to_owned())
            ))
        );
        assert_eq!(out.event_types(), ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]);
    }
}
