//! A pure driver with a virtual clock, for tests, conformance runs and `TestState`-like tools.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use crate::entropy::Entropy;
use crate::execution::{Action, Execution, ExecutionContext, ExecutionOutcome, Input, TaskId, TimerId};
use crate::history::HistoryEvent;
use crate::machine::StateMachine;
use crate::timestamp::Timestamp;

/// A finished execution, as [`run_to_completion`] returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// How it ended.
    pub outcome: ExecutionOutcome,
    /// The whole history.
    pub history: Vec<HistoryEvent>,
}

impl Completion {
    /// The output, if the execution succeeded.
    pub fn output(&self) -> Option<Value> {
        match &self.outcome {
            ExecutionOutcome::Succeeded(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// (error, cause), if the execution failed.
    pub fn failure(&self) -> Option<(Option<String>, Option<String>)> {
        match &self.outcome {
            ExecutionOutcome::Failed { error, cause } => Some((error.clone(), cause.clone())),
            _ => None,
        }
    }

    /// The history's event types, in order.
    pub fn event_types(&self) -> Vec<String> {
        self.history.iter().map(HistoryEvent::event_type).collect()
    }
}

/// Runs an execution to its end on a virtual clock.
///
/// Every [`Action::InvokeTask`] is passed to `tasks`, whose reply is applied at once (tasks take
/// no virtual time), in the order the actions were emitted. When no task is outstanding, the
/// earliest timer fires and the clock jumps to it, so Wait states and retry back-offs cost
/// nothing. The clock starts at `ctx.start_time`.
pub fn run_to_completion(
    machine: Arc<StateMachine>,
    input: Value,
    ctx: ExecutionContext,
    tasks: &mut dyn FnMut(&Action) -> Input,
    entropy: &mut dyn Entropy,
) -> Completion {
    let mut now = ctx.start_time;
    let (mut exec, step) = Execution::start(machine, input, ctx, now, entropy);
    let mut history = step.history;
    let mut pending = Pending::default();
    let mut outcome = pending.absorb(step.actions);
    while outcome.is_none() {
        let input = if let Some(action) = pending.invocations.pop_front() {
            let Action::InvokeTask { task_id, .. } = &action else {
                continue;
            };
            if pending.cancelled.contains(task_id) {
                continue;
            }
            tasks(&action)
        } else if let Some((at, timer_id)) = pending.timers.pop_first() {
            pending.timer_times.remove(&timer_id);
            now = now.max(at);
            Input::TimerFired { timer_id }
        } else {
            // Nothing can happen any more (a task token nobody will send back).
            outcome = Some(ExecutionOutcome::Failed {
                error: Some(crate::names::RUNTIME.into()),
                cause: Some("The execution is blocked: no task or timer is pending.".into()),
            });
            break;
        };
        let step = exec.apply(input, now, entropy);
        history.extend(step.history);
        outcome = pending.absorb(step.actions);
    }
    Completion { outcome: outcome.unwrap_or(ExecutionOutcome::TimedOut), history }
}

/// Work the virtual-clock driver still has to do.
#[derive(Default)]
struct Pending {
    invocations: VecDeque<Action>,
    timers: BTreeSet<(Timestamp, TimerId)>,
    timer_times: BTreeMap<TimerId, Timestamp>,
    cancelled: BTreeSet<TaskId>,
}

impl Pending {
    fn absorb(&mut self, actions: Vec<Action>) -> Option<ExecutionOutcome> {
        let mut outcome = None;
        for a in actions {
            match a {
                Action::InvokeTask { .. } => self.invocations.push_back(a),
                Action::StartTimer { timer_id, fire_at } => {
                    self.timers.insert((fire_at, timer_id));
                    self.timer_times.insert(timer_id, fire_at);
                }
                Action::CancelTimer { timer_id } => {
                    if let Some(at) = self.timer_times.remove(&timer_id) {
                        self.timers.remove(&(at, timer_id));
                    }
                }
                Action::CancelTask { task_id } => {
                    self.cancelled.insert(task_id);
                }
                Action::Complete(o) => outcome = Some(o),
            }
        }
        outcome
    }
}
