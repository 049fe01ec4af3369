//! Pass: passes its input, or a fixed `Result`, to its output.

use std::sync::Arc;

use serde_json::Value;

use crate::compile::{Fields, Site};
use crate::execution::{Flow, StateCx};
use crate::machine::{Builder, State};
use crate::model::PassState;
use crate::states::Kind;

/// A Pass state's own fields.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    /// `Result`, shared with every execution that passes it on.
    result: Option<Arc<Value>>,
}

pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, p: &PassState) -> State {
    let fields = Fields {
        input_path: p.input_path.as_ref(),
        output_path: p.output_path.as_ref(),
        result_path: p.result_path.as_ref(),
        parameters: p.parameters.as_ref(),
        assign: p.assign.as_ref(),
        output: p.output.as_ref(),
        next: p.next.as_deref(),
        end: p.end,
        query_language: p.query_language,
        ..Fields::default()
    };
    let common = b.common(site, &fields);
    State { common, kind: Kind::Pass(Spec { result: p.result.clone().map(Arc::new) }) }
}

pub(crate) fn run(mut sc: StateCx<'_, '_>, spec: &Spec) -> Flow {
    // `Parameters` replaces the effective input; `Result` replaces it again. Neither merges.
    let arguments = match sc.input().and_then(|input| sc.arguments(&input)) {
        Ok(v) => v,
        Err(failure) => return sc.fail(failure),
    };
    let result = spec.result.as_ref().map_or(arguments, Arc::clone);
    sc.finish(result)
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
