use std::collections::{BTreeMap, BTreeSet, VecDeque};

use stepwasm_asl::{Action, Entropy, TaskId, TimerId, Timestamp};

use super::driver::{AwaitedCallback, Heartbeat};
use super::entropy::SystemEntropy;

/// Draws from the operating system and remembers every value, so the step can be journaled and
/// replayed with the same randomness.
#[derive(Debug, Default)]
pub(crate) struct RecordingEntropy {
    drawn: Vec<u64>,
}

impl RecordingEntropy {
    /// The values drawn since the last call, leaving the record empty.
    pub(crate) fn take(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.drawn)
    }
}

impl Entropy for RecordingEntropy {
    fn next_u64(&mut self) -> u64 {
        let value = SystemEntropy.next_u64();
        self.drawn.push(value);
        value
    }
}

/// Hands back journaled values in order. Replaying the same inputs draws the same number of
/// values; should a journal be short anyway (written by an older interpreter), fresh randomness
/// keeps the execution going rather than failing it.
#[derive(Debug)]
pub(crate) struct ReplayEntropy {
    values: VecDeque<u64>,
}

impl ReplayEntropy {
    pub(crate) fn new(values: Vec<u64>) -> Self {
        Self { values: values.into() }
    }
}

impl Entropy for ReplayEntropy {
    fn next_u64(&mut self) -> u64 {
        self.values.pop_front().unwrap_or_else(|| SystemEntropy.next_u64())
    }
}

/// The actions emitted but not yet answered, while replaying a journal.
#[derive(Debug, Default)]
pub(crate) struct Outstanding {
    /// Each task's invocation, with when it was issued.
    tasks: BTreeMap<TaskId, (Action, Timestamp)>,
    timers: BTreeMap<TimerId, Action>,
    /// Callback tasks whose call was made (`TaskSubmitted`): they wait for their token only.
    submitted: BTreeSet<TaskId>,
}

impl Outstanding {
    /// Notes the actions of one replayed step, taken at `at`.
    pub(crate) fn absorb(&mut self, actions: &[Action], at: Timestamp) {
        for action in actions {
            match action {
                Action::InvokeTask { task_id, .. } => {
                    self.tasks.insert(*task_id, (action.clone(), at));
                }
                Action::StartTimer { timer_id, .. } => {
                    self.timers.insert(*timer_id, action.clone());
                }
                Action::CancelTask { task_id } => {
                    self.tasks.remove(task_id);
                    self.submitted.remove(task_id);
                }
                Action::CancelTimer { timer_id } => {
                    self.timers.remove(timer_id);
                }
                Action::Complete(_) => {}
            }
        }
    }

    /// Notes that a callback task's call was made.
    pub(crate) fn task_submitted(&mut self, task_id: TaskId) {
        if self.tasks.contains_key(&task_id) {
            self.submitted.insert(task_id);
        }
    }

    /// The callback tasks whose call was made and that still wait, so that driving waits for
    /// their tokens instead of calling again. Their deadlines run from when they were scheduled.
    pub(crate) fn submitted(&self) -> Vec<AwaitedCallback> {
        self.submitted
            .iter()
            .filter_map(|task_id| match self.tasks.get(task_id)? {
                (Action::InvokeTask { context, timeout, heartbeat, .. }, issued) => Some(AwaitedCallback {
                    task_id: *task_id,
                    token: context.task_token.clone().unwrap_or_default(),
                    deadline: timeout
                        .map(|timeout| issued.add_millis(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX))),
                    heartbeat: heartbeat.map(|interval| Heartbeat { interval, deadline: None }),
                }),
                _ => None,
            })
            .collect()
    }

    /// Notes that a task was answered.
    pub(crate) fn task_done(&mut self, task_id: TaskId) {
        self.tasks.remove(&task_id);
        self.submitted.remove(&task_id);
    }

    /// Notes that a timer fired.
    pub(crate) fn timer_done(&mut self, timer_id: TimerId) {
        self.timers.remove(&timer_id);
    }

    /// What must be carried out again after the replay, in the order it was first issued.
    pub(crate) fn into_actions(self) -> Vec<Action> {
        self.tasks.into_values().map(|(action, _)| action).chain(self.timers.into_values()).collect()
    }
}
