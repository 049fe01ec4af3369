//! Parallel: runs every branch with the same input; the output is the array of branch outputs in
//! branch order. A failing branch fails the state with the branch's own error and cause.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::compile::{Fields, Site};
use crate::execution::{Children, Failure, Flow, StateCx, Wait};
use crate::history::EventKind;
use crate::machine::{Builder, State, StateMachine};
use crate::model::ParallelState;
use crate::states::Kind;

/// A Parallel state's own fields.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    /// The index of each branch's start state.
    pub(crate) branches: Vec<usize>,
}

impl Spec {
    pub(crate) fn describe(&self, machine: &StateMachine, out: &mut Map<String, Value>) {
        out.insert("branches".into(), self.branches.iter().map(|&b| machine.id_value(b)).collect());
    }
}

pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, p: &ParallelState) -> State {
    let ql = site.ql(p.query_language);
    if p.branches.is_empty() {
        b.diag("SCHEMA_VALIDATION_FAILED", &site.at("Branches"), "A Parallel state needs at least one branch");
    }
    let branches = p
        .branches
        .iter()
        .enumerate()
        .map(|(i, branch)| b.sub_scope(branch, &format!("{}/{i}/", site.id), &site.at(&format!("Branches/{i}")), ql))
        .collect();
    let fields = Fields {
        input_path: p.input_path.as_ref(),
        output_path: p.output_path.as_ref(),
        result_path: p.result_path.as_ref(),
        parameters: p.parameters.as_ref(),
        result_selector: p.result_selector.as_ref(),
        assign: p.assign.as_ref(),
        arguments: p.arguments.as_ref(),
        output: p.output.as_ref(),
        retry: p.retry.as_ref(),
        catch: p.catch.as_ref(),
        next: p.next.as_deref(),
        end: p.end,
        query_language: p.query_language,
        ..Fields::default()
    };
    State { common: b.common(site, &fields), kind: Kind::Parallel(Spec { branches }) }
}

pub(crate) fn run(mut sc: StateCx<'_, '_>, spec: &Spec) -> Flow {
    let input = match sc.input().and_then(|input| sc.arguments(&input)) {
        Ok(v) => v,
        Err(failure) => return sc.fail(failure),
    };
    let fid = sc.fid;
    sc.cx.emit(fid, EventKind::ParallelStateStarted);
    let outer = sc.cx.scope(fid).map(|s| s.flattened()).unwrap_or_default();
    let mut children = Children {
        running: Vec::new(),
        results: vec![None; spec.branches.len()],
        pending: VecDeque::new(),
        max_concurrency: 0,
        failures: 0,
        tolerated_count: None,
        tolerated_percentage: None,
        outer: outer.clone(),
        map_run: None,
        log: None,
    };
    for (slot, start) in spec.branches.iter().enumerate() {
        let child = sc.cx.spawn(fid, slot, *start, Arc::clone(&input), outer.clone(), false);
        children.running.push((slot, child));
    }
    sc.active.wait = Wait::Children(Box::new(children));
    sc.block()
}

pub(crate) fn on_child(mut sc: StateCx<'_, '_>, slot: usize, child: usize, result: Result<Value, Failure>) -> Flow {
    let Wait::Children(mut children) = std::mem::replace(&mut sc.active.wait, Wait::None) else {
        return sc.block();
    };
    children.running.retain(|(_, f)| *f != child);
    match result {
        Ok(output) => {
            if let Some(r) = children.results.get_mut(slot) {
                *r = Some(output);
            }
            if !children.running.is_empty() {
                sc.active.wait = Wait::Children(children);
                return sc.block();
            }
            let outputs = Value::Array(children.results.into_iter().map(Option::unwrap_or_default).collect());
            sc.finish(Arc::new(outputs))
        }
        Err(failure) => {
            let fid = sc.fid;
            sc.cx.cancel_children(fid, sc.st, &children);
            // The finished branches' results stay, for a redrive.
            children.running.clear();
            sc.active.wait = Wait::Children(children);
            sc.active.children_failed = true;
            sc.fail(failure)
        }
    }
}

/// A redrive runs the unsuccessful branches again.
pub(crate) fn resume(mut sc: StateCx<'_, '_>, branches: Vec<(usize, usize)>) -> Flow {
    let Wait::Children(mut children) = std::mem::replace(&mut sc.active.wait, Wait::None) else {
        return sc.block();
    };
    children.running.clear();
    for (slot, branch) in branches {
        if sc.cx.restore(branch) {
            children.running.push((slot, branch));
        }
    }
    sc.active.wait = Wait::Children(children);
    sc.block()
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
