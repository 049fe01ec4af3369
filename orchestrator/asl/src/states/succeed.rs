//! Succeed: ends its frame (the execution, a branch or an iteration) successfully.

use crate::compile::{Fields, Site};
use crate::execution::{Flow, StateCx};
use crate::ir::Transition;
use crate::machine::{Builder, State};
use crate::model::SucceedState;
use crate::states::Kind;

pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, s: &SucceedState) -> State {
    let fields = Fields {
        input_path: s.input_path.as_ref(),
        output_path: s.output_path.as_ref(),
        output: s.output.as_ref(),
        terminal_kind: true,
        query_language: s.query_language,
        ..Fields::default()
    };
    State { common: b.common(site, &fields), kind: Kind::Succeed }
}

pub(crate) fn run(mut sc: StateCx<'_, '_>) -> Flow {
    match sc.input() {
        Ok(input) => sc.pass_on(input, None, Transition::End),
        Err(failure) => sc.fail(failure),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::run_json;

    #[test]
    fn succeed_ends_with_output_path() {
        let out =
            run_json(r#"{"StartAt":"S","States":{"S":{"Type":"Succeed","OutputPath":"$.a"}}}"#, json!({"a": [1]}));
        assert_eq!(out.output(), Some(json!([1])));
        assert_eq!(
            out.event_types(),
            ["ExecutionStarted", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"]
        );
    }
}
