//! Succeed: ends its frame (the execution, a branch or an iteration) successfully.

use super::{Flow, effective_input, select_shared};
use crate::execution::{Active, Cx};
use crate::ir::{State, Transition};

pub(crate) fn run(cx: &mut Cx<'_>, fid: usize, active: Active, st: &State) -> Flow {
    let effective = match effective_input(cx, fid, &active, st) {
        Ok(v) => v,
        Err(failure) => return Flow::Fail { active, failure },
    };
    match select_shared(cx, fid, &active, st, &st.output_path, effective) {
        Ok(output) => Flow::ExitShared { active, output, next: Transition::End, assigned: None },
        Err(failure) => Flow::Fail { failure, active },
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
