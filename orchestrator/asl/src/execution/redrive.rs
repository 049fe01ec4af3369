//! RedriveExecution: an execution that failed, timed out or was stopped runs again from where it
//! did not succeed.
//!
//! While an execution runs, every frame that fails or is abandoned leaves an [`Unfinished`]
//! behind: its place in the frame tree, its variables, and the state it was in. A failure that
//! Retry or Catch handles, or a container state that still succeeds, makes what its children left
//! behind irrelevant, so it is forgotten. When the execution has ended unsuccessfully, what
//! remains is exactly the unsuccessful part of the tree, and a redrive rebuilds it:
//!
//! - a frame whose current state is a Parallel or Map waiting on children resumes that state, with
//!   the results of the children that succeeded; only its unsuccessful children run again (and,
//!   for a Map, the iterations never started);
//! - any other frame enters its state again, with the input it had the first time, and fresh
//!   retry counters.
//!
//! Successful states are never run again, as on AWS.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use super::{Active, ChildLine, Cursor, Cx, ExecutionOutcome, Frame, MAX_HISTORY_EVENTS, Wait};
use crate::history::EventKind;
use crate::payload::Scope;
use crate::states;

/// What is left of a frame that failed or was stopped.
#[derive(Clone, Debug)]
struct Unfinished {
    parent: Option<(usize, usize)>,
    silent: bool,
    child: Option<ChildLine>,
    scope: Scope,
    resume: Resume,
}

#[derive(Clone, Debug)]
enum Resume {
    /// Enter this state again with this input.
    Enter { state: usize, input: Arc<Value> },
    /// A Parallel or Map state, with what its children achieved.
    Children(Active),
}

/// The unfinished frames of an execution, indexed by parent so that a Map with thousands of
/// failed iterations is rebuilt, or forgotten, in O(n log n).
#[derive(Clone, Debug, Default)]
pub(super) struct Leftovers {
    frames: BTreeMap<usize, Unfinished>,
    /// Parent frame → (slot, child frame).
    children: BTreeMap<usize, BTreeSet<(usize, usize)>>,
}

impl Leftovers {
    fn insert(&mut self, fid: usize, unfinished: Unfinished) {
        if let Some((parent, slot)) = unfinished.parent {
            self.children.entry(parent).or_default().insert((slot, fid));
        }
        self.frames.insert(fid, unfinished);
    }

    fn remove(&mut self, fid: usize) -> Option<Unfinished> {
        let unfinished = self.frames.remove(&fid)?;
        if let Some((parent, slot)) = unfinished.parent
            && let Some(siblings) = self.children.get_mut(&parent)
        {
            siblings.remove(&(slot, fid));
            if siblings.is_empty() {
                self.children.remove(&parent);
            }
        }
        Some(unfinished)
    }

    /// (slot, frame) of the unfinished children of frame `fid`, in slot order.
    fn children_of(&self, fid: usize) -> Vec<(usize, usize)> {
        self.children.get(&fid).map(|set| set.iter().copied().collect()).unwrap_or_default()
    }

    /// Forgets everything left under frame `fid` (not `fid` itself).
    fn forget_under(&mut self, fid: usize) {
        let mut parents = vec![fid];
        while let Some(parent) = parents.pop() {
            for (_, child) in self.children.remove(&parent).unwrap_or_default() {
                self.frames.remove(&child);
                parents.push(child);
            }
        }
    }

    pub(super) fn clear(&mut self) {
        self.frames.clear();
        self.children.clear();
    }

    fn contains(&self, fid: usize) -> bool {
        self.frames.contains_key(&fid)
    }
}

impl super::Execution {
    /// Whether [`Input::Redrive`](super::Input::Redrive) would run the execution again: it ended
    /// unsuccessfully, something is left to resume, and its history has room for more events.
    pub fn redrivable(&self) -> bool {
        matches!(
            self.outcome,
            Some(ExecutionOutcome::Failed { .. } | ExecutionOutcome::TimedOut | ExecutionOutcome::Aborted { .. })
        ) && self.unfinished.contains(0)
            && self.next_event_id < MAX_HISTORY_EVENTS
    }
}

impl Cx<'_> {
    /// Keeps what a redrive needs of `frame`, which has just failed or been abandoned.
    pub(super) fn keep_unfinished(&mut self, fid: usize, frame: Frame) {
        let Frame { parent, silent, child, scope, cursor, .. } = frame;
        let resume = match cursor {
            Cursor::Enter { state, input } => Resume::Enter { state, input },
            Cursor::Run(active) | Cursor::Blocked(active) => match active.wait {
                Wait::Children(_) => Resume::Children(active),
                _ => Resume::Enter { state: active.state, input: active.raw_input.share() },
            },
            Cursor::Done => return,
        };
        self.exec.unfinished.insert(fid, Unfinished { parent, silent, child, scope, resume });
    }

    /// Frame `fid`'s failure was handled, or its state finished: what its children left behind
    /// will never be resumed.
    pub(super) fn forget_unfinished_under(&mut self, fid: usize) {
        self.exec.unfinished.forget_under(fid);
    }

    /// Runs an unsuccessfully ended execution again: records `ExecutionRedriven`, re-arms the
    /// machine's timeout, rebuilds the unsuccessful frames and runs them.
    pub(super) fn redrive(&mut self) {
        if !self.exec.redrivable() {
            return;
        }
        self.exec.outcome = None;
        self.exec.ctx.redrive_count += 1;
        self.exec.ctx.redrive_time = Some(self.now);
        let last = self.exec.next_event_id - 1;
        let redrive_count = self.exec.ctx.redrive_count;
        self.push_event(last, EventKind::ExecutionRedriven { redrive_count });
        self.start_execution_timeout();
        self.restore(0);
        // Anything not reached from the top level belonged to failures already handled.
        self.exec.unfinished.clear();
        self.run();
    }

    /// Rebuilds unfinished frame `fid`, and under it its unfinished children; `false` if
    /// nothing of it was kept.
    pub(crate) fn restore(&mut self, fid: usize) -> bool {
        let Some(left) = self.exec.unfinished.remove(fid) else {
            return false;
        };
        let last_event = match left.parent {
            Some((parent, _)) => self.exec.frames.get(parent).and_then(Option::as_ref).map_or(0, |f| f.last_event),
            None => self.exec.next_event_id - 1,
        };
        let children = self.exec.unfinished.children_of(fid);
        // A Distributed Map child runs again as the same child execution, redriven.
        let child = self.child_redriven(fid, left.child).or(left.child);
        let (parent, silent, scope) = (left.parent, left.silent, left.scope);
        let frame = |last_event, cursor| Frame { parent, silent, child, entries: 0, scope, last_event, cursor };
        let cursor = match left.resume {
            Resume::Children(active) if !children.is_empty() => {
                // What the children do next follows on from the state's entry, so a reader of
                // the history finds them inside it.
                let last_event = if silent { last_event } else { active.entered_id };
                self.put_frame(fid, frame(last_event, Cursor::Done));
                let mut active = active;
                active.children_failed = false;
                let flow = self.with_state(fid, active, |sc| states::resume(sc, children));
                self.handle(fid, flow);
                return true;
            }
            // Failed before any child could: the whole state runs again.
            Resume::Children(active) => Cursor::Enter { state: active.state, input: active.raw_input.share() },
            Resume::Enter { state, input } => Cursor::Enter { state, input },
        };
        let frame = frame(last_event, cursor);
        self.put_frame(fid, frame);
        self.exec.ready.push_back(fid);
        true
    }

    fn put_frame(&mut self, fid: usize, frame: Frame) {
        if let Some(slot) = self.exec.frames.get_mut(fid) {
            *slot = Some(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::{Action, Execution, ExecutionContext, ExecutionOutcome, Input, Step, TaskId, TimerId};
    use crate::entropy::SeededEntropy;
    use crate::history::HistoryEvent;
    use crate::machine::StateMachine;
    use crate::timestamp::Timestamp;

    /// One execution, its whole history, and the tasks it waits for.
    struct Run {
        exec: Execution,
        history: Vec<HistoryEvent>,
        tasks: Vec<(TaskId, Value)>,
        timers: Vec<TimerId>,
        now: i64,
    }

    impl Run {
        fn start(def: &str, input: Value) -> Run {
            let machine = std::sync::Arc::new(StateMachine::from_json(def).unwrap());
            let ctx = ExecutionContext::new("sm", "ex", Timestamp(0));
            let (exec, step) = Execution::start(machine, input, ctx, Timestamp(0), &mut SeededEntropy::new(1));
            let mut run = Run { exec, history: Vec::new(), tasks: Vec::new(), timers: Vec::new(), now: 0 };
            run.absorb(step);
            run
        }

        fn absorb(&mut self, step: Step) {
            for action in step.actions {
                match action {
                    Action::InvokeTask { task_id, payload, .. } => self.tasks.push((task_id, Value::clone(&payload))),
                    Action::CancelTask { task_id } => self.tasks.retain(|(id, _)| *id != task_id),
                    Action::StartTimer { timer_id, .. } => self.timers.push(timer_id),
                    Action::CancelTimer { timer_id } => self.timers.retain(|id| *id != timer_id),
                    Action::Complete(_) => {}
                }
            }
            self.history.extend(step.history);
        }

        fn apply(&mut self, input: Input) -> Vec<String> {
            self.now += 1_000;
            let step = self.exec.apply(input, Timestamp(self.now), &mut SeededEntropy::new(1));
            let types = step.history.iter().map(HistoryEvent::event_type).collect();
            self.absorb(step);
            types
        }

        /// Answers the task whose payload is `payload`.
        fn answer(&mut self, payload: &Value, ok: bool) -> Vec<String> {
            let index = self.tasks.iter().position(|(_, p)| p == payload).unwrap_or_else(|| {
                panic!("no task for {payload}; waiting for {:?}", self.tasks);
            });
            let (task_id, payload) = self.tasks.remove(index);
            self.apply(if ok {
                Input::TaskSucceeded { task_id, output: json!({ "done": payload }).into() }
            } else {
                Input::TaskFailed { task_id, error: "Boom".into(), cause: Some("it broke".into()) }
            })
        }

        fn payloads(&self) -> Vec<Value> {
            self.tasks.iter().map(|(_, payload)| payload.clone()).collect()
        }

        fn outcome(&self) -> Option<&ExecutionOutcome> {
            self.exec.outcome()
        }
    }

    fn task(payload: &str, next: &str) -> String {
        format!(r#"{{"Type":"Task","Resource":"wasm:f","Parameters":{payload},{next}}}"#)
    }

    #[test]
    fn a_failed_task_runs_again_with_its_input_and_the_states_before_it_do_not() {
        let def = format!(
            r#"{{"StartAt":"Prepare","States":{{"Prepare":{{"Type":"Pass","Result":{{"order":7}},"Next":"Charge"}},
            "Charge":{}}}}}"#,
            task(r#"{"order.$":"$.order","redrives.$":"$$.Execution.RedriveCount"}"#, r#""End":true"#)
        );
        let mut run = Run::start(&def, json!({}));
        assert_eq!(run.payloads(), [json!({"order": 7, "redrives": 0})]);
        run.answer(&json!({"order": 7, "redrives": 0}), false);
        assert!(matches!(run.outcome(), Some(ExecutionOutcome::Failed { error: Some(e), .. }) if e == "Boom"));
        assert!(run.exec.redrivable());

        let events = run.apply(Input::Redrive);
        assert_eq!(events[..3], ["ExecutionRedriven", "TaskStateEntered", "LambdaFunctionScheduled"]);
        assert!(!events.iter().any(|e| e.starts_with("Pass")), "Prepare succeeded: {events:?}");
        assert_eq!(run.payloads(), [json!({"order": 7, "redrives": 1})], "the same input, a new RedriveCount");
        let redriven = run.history.iter().find(|e| e.event_type() == "ExecutionRedriven").unwrap();
        assert_eq!(redriven.to_aws_json()["executionRedrivenEventDetails"], json!({"redriveCount": 1}));
        assert_eq!(redriven.previous_event_id, redriven.id - 1, "follows ExecutionFailed");

        run.answer(&json!({"order": 7, "redrives": 1}), true);
        assert_eq!(run.outcome(), Some(&ExecutionOutcome::Succeeded(json!({"done": {"order": 7, "redrives": 1}}))));
        assert!(!run.exec.redrivable(), "a succeeded execution cannot be redriven");
        assert_eq!(run.apply(Input::Redrive), Vec::<String>::new());
        for (n, event) in run.history.iter().enumerate() {
            assert_eq!(event.id, n as u64 + 1, "ids stay gap-free across the redrive");
        }
    }

    #[test]
    fn only_the_failed_parallel_branch_runs_again() {
        let def = format!(
            r#"{{"StartAt":"Both","States":{{"Both":{{"Type":"Parallel","End":true,"Branches":[
            {{"StartAt":"A","States":{{"A":{}}}}},
            {{"StartAt":"B0","States":{{"B0":{{"Type":"Pass","Next":"B"}},"B":{}}}}}]}}}}}}"#,
            task(r#"{"branch":"a"}"#, r#""End":true"#),
            task(r#"{"branch":"b"}"#, r#""End":true"#)
        );
        let mut run = Run::start(&def, json!({}));
        run.answer(&json!({"branch": "a"}), true);
        run.answer(&json!({"branch": "b"}), false);
        assert!(matches!(run.outcome(), Some(ExecutionOutcome::Failed { .. })));

        let events = run.apply(Input::Redrive);
        assert_eq!(
            events[..3],
            ["ExecutionRedriven", "TaskStateEntered", "LambdaFunctionScheduled"],
            "B only, B0 not again"
        );
        assert_eq!(run.payloads(), [json!({"branch": "b"})]);
        run.answer(&json!({"branch": "b"}), true);
        assert_eq!(
            run.outcome(),
            Some(&ExecutionOutcome::Succeeded(json!([{"done": {"branch": "a"}}, {"done": {"branch": "b"}}]))),
            "branch A's first result is kept"
        );
    }

    #[test]
    fn the_progress_of_a_redriven_parallel_shows_it_running_again_then_done() {
        use crate::progress::{StateStatus, project};
        let def = format!(
            r#"{{"StartAt":"Both","States":{{"Both":{{"Type":"Parallel","End":true,"Branches":[
            {{"StartAt":"A","States":{{"A":{}}}}},{{"StartAt":"B","States":{{"B":{}}}}}]}}}}}}"#,
            task(r#"{"branch":"a"}"#, r#""End":true"#),
            task(r#"{"branch":"b"}"#, r#""End":true"#)
        );
        let mut run = Run::start(&def, json!({}));
        let statuses = |run: &Run| {
            let events: Vec<Value> = run.history.iter().map(HistoryEvent::to_aws_json).collect();
            let progress = project(run.exec.machine(), &events);
            ["Both", "Both/0/A", "Both/1/B"].map(|id| progress.states[id].status)
        };
        run.answer(&json!({"branch": "a"}), true);
        run.answer(&json!({"branch": "b"}), false);
        assert_eq!(statuses(&run), [StateStatus::Failed, StateStatus::Succeeded, StateStatus::Failed]);
        run.apply(Input::Redrive);
        assert_eq!(statuses(&run), [StateStatus::InProgress, StateStatus::Succeeded, StateStatus::InProgress]);
        run.answer(&json!({"branch": "b"}), true);
        assert_eq!(statuses(&run), [StateStatus::Succeeded; 3]);
    }

    #[test]
    fn only_unsuccessful_map_iterations_run_again_and_unstarted_ones_follow() {
        let def = format!(
            r#"{{"StartAt":"Each","States":{{"Each":{{"Type":"Map","MaxConcurrency":2,"End":true,
            "ItemProcessor":{{"StartAt":"Work","States":{{"Work":{}}}}}}}}}}}"#,
            task(r#"{"item.$":"$"}"#, r#""End":true"#)
        );
        let mut run = Run::start(&def, json!([0, 1, 2, 3]));
        run.answer(&json!({"item": 0}), true);
        // Item 2 starts in item 0's place; item 1 fails, abandoning item 2, and item 3 never starts.
        run.answer(&json!({"item": 1}), false);
        assert!(matches!(run.outcome(), Some(ExecutionOutcome::Failed { .. })));

        let events = run.apply(Input::Redrive);
        assert_eq!(
            events.iter().filter(|e| *e == "MapIterationStarted").count(),
            2,
            "iterations 1 and 2 start again: {events:?}"
        );
        assert_eq!(run.payloads(), [json!({"item": 1}), json!({"item": 2})]);
        run.answer(&json!({"item": 2}), true);
        assert_eq!(run.payloads(), [json!({"item": 1}), json!({"item": 3})], "item 3 takes the free place");
        run.answer(&json!({"item": 3}), true);
        run.answer(&json!({"item": 1}), true);
        let done = |i: i64| json!({"done": {"item": i}});
        assert_eq!(run.outcome(), Some(&ExecutionOutcome::Succeeded(json!([done(0), done(1), done(2), done(3)]))));
    }

    #[test]
    fn stopped_and_timed_out_executions_resume_where_they_were() {
        let def = format!(
            r#"{{"StartAt":"Pause","TimeoutSeconds":30,"States":{{"Pause":{{"Type":"Wait","Seconds":10,"Next":"Work"}},
            "Work":{}}}}}"#,
            task(r#"{"step":"work"}"#, r#""End":true"#)
        );
        let mut run = Run::start(&def, json!({}));
        run.apply(Input::Stop { error: Some("Operator".into()), cause: None });
        assert!(matches!(run.outcome(), Some(ExecutionOutcome::Aborted { .. })));
        let events = run.apply(Input::Redrive);
        assert_eq!(events, ["ExecutionRedriven", "WaitStateEntered"], "the Wait starts over");
        assert_eq!(run.timers.len(), 2, "the machine's timeout and the Wait's timer are armed again");

        // Let the wait pass, then run out of time in the task.
        let wait = run.timers[1];
        run.apply(Input::TimerFired { timer_id: wait });
        assert_eq!(run.payloads(), [json!({"step": "work"})]);
        let timeout = run.timers[0];
        run.apply(Input::TimerFired { timer_id: timeout });
        assert_eq!(run.outcome(), Some(&ExecutionOutcome::TimedOut));
        assert!(run.tasks.is_empty(), "the task was cancelled");

        let events = run.apply(Input::Redrive);
        assert_eq!(
            events[..3],
            ["ExecutionRedriven", "TaskStateEntered", "LambdaFunctionScheduled"],
            "the Wait is not redone"
        );
        assert_eq!(run.exec.context().redrive_count, 2);
        run.answer(&json!({"step": "work"}), true);
        assert!(matches!(run.outcome(), Some(ExecutionOutcome::Succeeded(_))));
    }

    #[test]
    fn failures_that_were_caught_or_retried_are_not_resumed() {
        let def = format!(
            r#"{{"StartAt":"Try","States":{{
            "Try":{{"Type":"Parallel","Branches":[{{"StartAt":"Risky","States":{{"Risky":{}}}}}],
                "Retry":[{{"ErrorEquals":["Boom"],"MaxAttempts":1,"IntervalSeconds":1}}],
                "Catch":[{{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Then"}}],"Next":"Then"}},
            "Then":{}}}}}"#,
            task(r#"{"step":"risky"}"#, r#""End":true"#),
            task(r#"{"step":"then"}"#, r#""End":true"#)
        );
        let mut run = Run::start(&def, json!({}));
        run.answer(&json!({"step": "risky"}), false);
        let backoff = *run.timers.last().unwrap();
        run.apply(Input::TimerFired { timer_id: backoff });
        run.answer(&json!({"step": "risky"}), false);
        run.answer(&json!({"step": "then"}), false);
        assert!(matches!(run.outcome(), Some(ExecutionOutcome::Failed { .. })));

        let events = run.apply(Input::Redrive);
        assert_eq!(events[..3], ["ExecutionRedriven", "TaskStateEntered", "LambdaFunctionScheduled"]);
        assert_eq!(run.payloads(), [json!({"step": "then"})], "the caught branch stays behind");
    }
}
