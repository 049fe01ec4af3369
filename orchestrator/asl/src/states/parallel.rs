//! Parallel: runs every branch with the same input; the output is the array of branch outputs in
//! branch order. A failing branch fails the state with the branch's own error and cause.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value;

use super::{Children, Flow, effective_input, finish_result, runtime};
use crate::execution::{Active, Cx, Failure, Wait};
use crate::history::EventKind;
use crate::ir::State;

pub(crate) fn run(cx: &mut Cx<'_>, fid: usize, active: Active, st: &State, branches: &[usize]) -> Flow {
    let effective = match effective_input(cx, fid, &active, st) {
        Ok(v) => v,
        Err(failure) => return Flow::Fail { active, failure },
    };
    let input = match &st.parameters {
        Some(t) => match cx.eval(fid, &active, &effective, None, |env, e| t.eval(env, e)) {
            Ok(v) => Arc::new(v),
            Err(d) => {
                return Flow::Fail { failure: runtime(st, &active, &d), active };
            }
        },
        None => effective,
    };
    start_shared(cx, fid, active, branches, &input)
}

/// Starts every branch with `input`.
pub(crate) fn start(cx: &mut Cx<'_>, fid: usize, active: Active, branches: &[usize], input: &Value) -> Flow {
    start_shared(cx, fid, active, branches, &Arc::new(input.clone()))
}

/// Starts every branch with `input`, which they all share.
fn start_shared(cx: &mut Cx<'_>, fid: usize, mut active: Active, branches: &[usize], input: &Arc<Value>) -> Flow {
    cx.emit(fid, EventKind::ParallelStateStarted);
    let outer = cx.scope(fid).map(|s| s.flattened()).unwrap_or_default();
    let mut children = Children {
        running: Vec::new(),
        results: vec![None; branches.len()],
        pending: VecDeque::new(),
        max_concurrency: 0,
        failures: 0,
        tolerated_count: None,
        tolerated_percentage: None,
        outer: outer.clone(),
    };
    for (slot, start) in branches.iter().enumerate() {
        let child = cx.spawn(fid, slot, *start, Arc::clone(input), outer.clone(), false);
        children.running.push((slot, child));
    }
    active.wait = Wait::Children(Box::new(children));
    Flow::Block(active)
}

pub(crate) fn on_child(
    cx: &mut Cx<'_>,
    fid: usize,
    mut active: Active,
    st: &State,
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
            if !children.running.is_empty() {
                active.wait = Wait::Children(children);
                return Flow::Block(active);
            }
            let outputs = Value::Array(children.results.into_iter().map(Option::unwrap_or_default).collect());
            if st.jsonata.is_some() {
                let input = active.raw_input.share();
                return crate::jsonata_states::exit_with(cx, fid, active, st, &input, &outputs);
            }
            finish_result(cx, fid, active, st, Arc::new(outputs))
        }
        Err(failure) => {
            for other in children.running_frames() {
                cx.abort_frame(other);
            }
            active.children_failed = true;
            Flow::Fail { active, failure }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::run_json;

    #[test]
    fn outputs_in_branch_order_and_branch_errors_propagate() {
        let out = run_json(
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
                {"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Result":1,"End":true}}},
                {"StartAt":"C","States":{"C":{"Type":"Pass","Result":2,"End":true}}}]}}}"#,
            json!({}),
        );
        assert_eq!(out.output(), Some(json!([1, 2])));
        assert_eq!(
            out.event_types(),
            [
                "ExecutionStarted",
                "ParallelStateEntered",
                "ParallelStateStarted",
                "PassStateEntered",
                "PassStateEntered",
                "PassStateExited",
                "PassStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ParallelStateExited",
                "ExecutionSucceeded"
            ]
        );
        let out = run_json(
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Retry":[{"ErrorEquals":["E"],"MaxAttempts":1}],"Branches":[
                {"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"c"}}}]}}}"#,
            json!({}),
        );
        assert_eq!(out.failure(), Some((Some("E".into()), Some("c".into()))));
        assert_eq!(
            out.event_types(),
            [
                "ExecutionStarted",
                "ParallelStateEntered",
                "ParallelStateStarted",
                "FailStateEntered",
                "ParallelStateStarted",
                "FailStateEntered",
                "ParallelStateFailed",
                "ExecutionFailed"
            ]
        );
    }
}
