//! A Distributed Map's children as executions of their own.
//!
//! On AWS each child of a Distributed Map (an item, or a batch) runs as a child execution with its
//! own ARN, status and history, listed by `ListExecutions(mapRunArn)`. Here a child runs inside
//! its parent, as a frame that records nothing in the parent's history. An execution started with
//! [`ExecutionContext::child_executions`](super::ExecutionContext::child_executions) also keeps,
//! for each child, the execution it stands for ([`ChildExecution`]): its events, numbered from 1
//! as a history of its own, and how it ended. Drivers leave that off (it costs memory and changes
//! nothing the parent does); inspection rebuilds the parent from its journal with it on.

use std::sync::Arc;

use serde_json::Value;

use super::{Cx, ExecutionOutcome, Failure, Frame};
use crate::history::{EventKind, HistoryEvent};
use crate::timestamp::Timestamp;

/// One child of a Distributed Map run, as an execution.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildExecution {
    /// `arn:…:execution:MACHINE/LABEL:EXECUTION:NAME`: like AWS's child ARNs
    /// (`…:execution:MACHINE/LABEL:NAME`), with the parent execution's name, so that the ARN
    /// says which execution to rebuild ([`parent_of_child`]).
    pub arn: String,
    /// A UUID, fixed by the Map Run and the child's index.
    pub name: String,
    /// The Map Run it belongs to.
    pub map_run_arn: String,
    /// `arn:…:stateMachine:MACHINE/LABEL`, as AWS names a Map Run's processor.
    pub state_machine_arn: String,
    /// Its index in the Map Run: the item's, or the batch's.
    pub index: usize,
    /// Its input: the item (after `ItemSelector`), or the batch.
    pub input: Arc<Value>,
    /// How it ended; `None` while it runs.
    pub outcome: Option<ExecutionOutcome>,
    /// When it started.
    pub start: Timestamp,
    /// When it ended.
    pub stop: Option<Timestamp>,
    /// How many times a redrive of its Map Run ran it again.
    pub redrive_count: u32,
    /// Its history, numbered from 1.
    pub history: Vec<HistoryEvent>,
    /// The frame that runs it.
    root: usize,
}

impl ChildExecution {
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub fn status(&self) -> &'static str {
        self.outcome.as_ref().map_or("RUNNING", ExecutionOutcome::status)
    }

    fn push(&mut self, previous_event_id: u64, timestamp: Timestamp, kind: EventKind) -> u64 {
        let id = self.history.len() as u64 + 1;
        self.history.push(HistoryEvent { id, previous_event_id, timestamp, kind });
        id
    }
}

/// Where a frame inside a child execution records its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChildLine {
    /// The child, by its place in the execution's list.
    index: usize,
    /// The frame's last event in the child's history.
    last: u64,
}

/// The parent execution of a child execution's ARN, as [`ChildExecution::arn`] makes them.
pub fn parent_of_child(child_arn: &str) -> Option<String> {
    let (prefix, rest) = child_arn.split_once(":execution:")?;
    let (machine, rest) = rest.split_once('/')?;
    let (_label, rest) = rest.split_once(':')?;
    let (execution, name) = rest.split_once(':')?;
    (!machine.is_empty() && !execution.is_empty() && !name.is_empty() && !name.contains(':'))
        .then(|| format!("{prefix}:execution:{machine}:{execution}"))
}

/// The child's ARN, its state machine's ARN and its name, from its Map Run's
/// (`arn:…:mapRun:MACHINE/LABEL:EXECUTION:UUID`) and its index.
pub(crate) fn child_names(map_run_arn: &str, index: usize) -> Option<(String, String, String)> {
    let (prefix, rest) = map_run_arn.split_once(":mapRun:")?;
    let (machine_and_label, rest) = rest.split_once(':')?;
    let (execution, _uuid) = rest.rsplit_once(':')?;
    let name = child_uuid(map_run_arn, index);
    Some((
        format!("{prefix}:execution:{machine_and_label}:{execution}:{name}"),
        format!("{prefix}:stateMachine:{machine_and_label}"),
        name,
    ))
}

/// A UUID-shaped name that is the same whenever the child is rebuilt: the interpreter may draw no
/// randomness for it, or a rebuild with child executions would differ from the run it rebuilds.
fn child_uuid(map_run_arn: &str, index: usize) -> String {
    let mix = |seed: u64| {
        let mut h = seed;
        for byte in map_run_arn.bytes().chain(index.to_le_bytes()) {
            h = (h ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        // SplitMix64's finaliser spreads the last bytes' influence over every bit.
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    };
    crate::entropy::uuid_from_bits(mix(0xcbf2_9ce4_8422_2325), mix(0x8422_2325_cbf2_9ce4))
}

impl Cx<'_> {
    /// Frame `fid` has just been spawned to run child `index` of Map Run `map_run`: when child
    /// executions are kept, it starts one.
    pub(crate) fn child_started(&mut self, fid: usize, map_run: Option<usize>, index: usize, input: &Arc<Value>) {
        let now = self.now;
        let role_arn = self.exec.ctx.role_arn.clone();
        let Some(run) = map_run.and_then(|run| self.exec.map_runs.get(run)) else { return };
        let Some((arn, state_machine_arn, name)) = child_names(&run.arn, index) else { return };
        let map_run_arn = run.arn.clone();
        let Some(children) = self.exec.children.as_mut() else { return };
        let mut child = ChildExecution {
            arn,
            name,
            map_run_arn,
            state_machine_arn: state_machine_arn.clone(),
            index,
            input: Arc::clone(input),
            outcome: None,
            start: now,
            stop: None,
            redrive_count: 0,
            history: Vec::new(),
            root: fid,
        };
        let started = EventKind::ExecutionStarted { input: Arc::clone(input), role_arn, state_machine_arn };
        let last = child.push(0, now, started);
        children.push(child);
        let line = ChildLine { index: children.len() - 1, last };
        if let Some(frame) = self.exec.frames.get_mut(fid).and_then(Option::as_mut) {
            frame.child = Some(line);
        }
    }

    /// Records `kind` in the history of the child that frame `fid` runs in, if kept.
    pub(super) fn child_event(&mut self, fid: usize, kind: EventKind) {
        let now = self.now;
        let Some(frame) = self.exec.frames.get_mut(fid).and_then(Option::as_mut) else { return };
        let (Some(line), Some(children)) = (frame.child.as_mut(), self.exec.children.as_mut()) else { return };
        if let Some(child) = children.get_mut(line.index) {
            line.last = child.push(line.last, now, kind);
        }
    }

    /// A frame inside a child finished: its parent, in the same child, goes on after its events.
    pub(super) fn child_frame_finished(&mut self, frame: &Frame, parent: usize) {
        let Some(line) = frame.child else { return };
        if let Some(Some(parent)) = self.exec.frames.get_mut(parent)
            && let Some(outer) = parent.child.as_mut()
            && outer.index == line.index
        {
            outer.last = outer.last.max(line.last);
        }
    }

    /// Frame `fid`, which ran a child, ended with `result` (or, for `None`, was abandoned).
    pub(super) fn child_ended(&mut self, fid: usize, frame: &Frame, result: Option<&Result<Arc<Value>, Failure>>) {
        let now = self.now;
        let (Some(line), Some(children)) = (frame.child, self.exec.children.as_mut()) else { return };
        let Some(child) = children.get_mut(line.index).filter(|child| child.root == fid && child.outcome.is_none())
        else {
            return;
        };
        let (kind, outcome) = match result {
            Some(Ok(output)) => (
                EventKind::ExecutionSucceeded { output: Arc::clone(output) },
                ExecutionOutcome::Succeeded(Value::clone(output)),
            ),
            Some(Err(failure)) => (
                EventKind::ExecutionFailed { error: failure.error.clone(), cause: failure.cause.clone() },
                ExecutionOutcome::Failed { error: failure.error.clone(), cause: failure.cause.clone() },
            ),
            None => (
                EventKind::ExecutionAborted { error: None, cause: None },
                ExecutionOutcome::Aborted { error: None, cause: None },
            ),
        };
        child.push(line.last, now, kind);
        child.outcome = Some(outcome);
        child.stop = Some(now);
    }

    /// A redrive runs the child that frame `fid` ran again.
    pub(super) fn child_redriven(&mut self, fid: usize, line: Option<ChildLine>) -> Option<ChildLine> {
        let now = self.now;
        let (mut line, children) = (line?, self.exec.children.as_mut()?);
        let child = children.get_mut(line.index).filter(|child| child.root == fid)?;
        child.redrive_count += 1;
        child.outcome = None;
        child.stop = None;
        let last = child.history.len() as u64;
        line.last = child.push(last, now, EventKind::ExecutionRedriven { redrive_count: child.redrive_count });
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::entropy::SeededEntropy;
    use crate::execution::{Action, Execution, ExecutionContext, Input, Step};
    use crate::machine::StateMachine;

    const DEFINITION: &str = r#"{"StartAt":"Each","States":{"Each":{"Type":"Map","Label":"each","End":true,
        "ToleratedFailureCount":5,
        "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Tag",
        "States":{"Tag":{"Type":"Pass","Parameters":{"n.$":"$"},"Next":"Work"},
        "Work":{"Type":"Task","Resource":"wasm:work","End":true}}}}}}"#;

    /// Runs the machine over `[0, 1, 2]`, failing the task for item 1, keeping child executions
    /// or not; returns the execution and every history event and action type of the parent.
    fn run(definition: &str, keep: bool, redrive_and_fix: bool) -> (Execution, Vec<String>) {
        let machine = Arc::new(StateMachine::from_json(definition).unwrap());
        let mut ctx = ExecutionContext::new("orders", "run-1", Timestamp(0));
        ctx.child_executions = keep;
        let entropy = &mut SeededEntropy::new(7);
        let (mut exec, step) = Execution::start(machine, json!([0, 1, 2]), ctx, Timestamp(0), entropy);
        let mut events: Vec<String> = step.history.iter().map(HistoryEvent::event_type).collect();
        let mut pending: Vec<Action> = step.actions;
        let mut now = 0;
        let mut redriven = false;
        loop {
            while let Some(action) = pending.pop() {
                now += 10;
                let input = match action {
                    Action::InvokeTask { task_id, payload, .. } if payload["n"] == 1 && !redriven => {
                        Input::TaskFailed { task_id, error: "Boom".into(), cause: Some("item 1".into()) }
                    }
                    Action::InvokeTask { task_id, payload, .. } => {
                        Input::TaskSucceeded { task_id, output: payload["n"].clone().into() }
                    }
                    _ => continue,
                };
                let step: Step = exec.apply(input, Timestamp(now), entropy);
                events.extend(step.history.iter().map(HistoryEvent::event_type));
                pending.extend(step.actions);
            }
            if !redrive_and_fix || redriven {
                return (exec, events);
            }
            redriven = true;
            let step = exec.apply(Input::Redrive, Timestamp(now), entropy);
            events.extend(step.history.iter().map(HistoryEvent::event_type));
            pending.extend(step.actions);
        }
    }

    #[test]
    fn children_are_kept_as_executions_without_changing_the_parent() {
        let (plain, plain_events) = run(DEFINITION, false, false);
        let (kept, kept_events) = run(DEFINITION, true, false);
        assert_eq!(plain_events, kept_events, "keeping children changes nothing the parent records");
        assert_eq!(plain.outcome(), kept.outcome());
        assert!(plain.child_executions().is_empty());

        let children = kept.child_executions();
        assert_eq!(
            children.iter().map(|c| (c.index, c.status())).collect::<Vec<_>>(),
            [(0, "SUCCEEDED"), (1, "FAILED"), (2, "SUCCEEDED")]
        );
        let map_run = &kept.map_runs()[0].arn;
        for child in children {
            assert_eq!(&child.map_run_arn, map_run);
            assert_eq!(parent_of_child(&child.arn).as_deref(), Some(kept.context().execution_arn.as_str()));
            assert_eq!(*child.input, json!(child.index));
            let ids: Vec<u64> = child.history.iter().map(|e| e.id).collect();
            assert_eq!(ids, (1..=child.history.len() as u64).collect::<Vec<_>>(), "ids count from 1");
            assert!(child.history.iter().all(|e| e.previous_event_id < e.id));
        }
        let types = |i: usize| children[i].history.iter().map(HistoryEvent::event_type).collect::<Vec<_>>();
        assert_eq!(
            types(0),
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "TaskStateEntered",
                "LambdaFunctionScheduled",
                "LambdaFunctionStarted",
                "LambdaFunctionSucceeded",
                "TaskStateExited",
                "ExecutionSucceeded"
            ]
        );
        assert_eq!(types(1).last().map(String::as_str), Some("ExecutionFailed"));
        assert_eq!(
            children[1].outcome,
            Some(ExecutionOutcome::Failed { error: Some("Boom".into()), cause: Some("item 1".into()) })
        );
        assert_eq!(children[0].outcome, Some(ExecutionOutcome::Succeeded(json!(0))));
    }

    #[test]
    fn a_redrive_runs_a_failed_child_again_as_the_same_execution() {
        let one_at_a_time = DEFINITION.replace(r#""ToleratedFailureCount":5,"#, r#""MaxConcurrency":1,"#);
        let (plain, plain_events) = run(&one_at_a_time, false, true);
        let (kept, kept_events) = run(&one_at_a_time, true, true);
        assert_eq!(plain_events, kept_events);
        assert_eq!(kept.outcome(), Some(&ExecutionOutcome::Succeeded(json!([0, 1, 2]))));
        assert_eq!(plain.outcome(), kept.outcome());
        let children = kept.child_executions();
        assert_eq!(
            children.iter().map(|c| (c.index, c.status(), c.redrive_count)).collect::<Vec<_>>(),
            [(0, "SUCCEEDED", 0), (1, "SUCCEEDED", 1), (2, "SUCCEEDED", 0)],
            "the failed child ran again; the one never started started once"
        );
        let redriven: Vec<String> = children[1].history.iter().map(HistoryEvent::event_type).collect();
        let at = redriven.iter().position(|t| t == "ExecutionRedriven").expect("an ExecutionRedriven event");
        assert_eq!(redriven[at - 1], "ExecutionFailed");
        assert_eq!(redriven.last().map(String::as_str), Some("ExecutionSucceeded"));
        assert!(children[1].history.iter().all(|e| e.previous_event_id < e.id));
    }

    #[test]
    fn child_arns_name_their_parent() {
        let run = "arn:aws:states:us-east-1:1:mapRun:orders/Sum:run-7:5f0c1a2b-0000-4000-8000-000000000000";
        let (arn, machine, name) = child_names(run, 3).unwrap();
        assert_eq!(arn, format!("arn:aws:states:us-east-1:1:execution:orders/Sum:run-7:{name}"));
        assert_eq!(machine, "arn:aws:states:us-east-1:1:stateMachine:orders/Sum");
        assert_eq!(parent_of_child(&arn).as_deref(), Some("arn:aws:states:us-east-1:1:execution:orders:run-7"));
        assert_eq!(name, child_names(run, 3).unwrap().2, "the same child gets the same name");
        assert_ne!(name, child_names(run, 4).unwrap().2);
        assert_eq!((name.len(), &name[14..15]), (36, "4"));
        assert_eq!(parent_of_child("arn:aws:states:us-east-1:1:execution:orders:run-7"), None);
    }
}
