use std::collections::{BTreeMap, VecDeque};

use stepwasm_asl::{Action, Entropy, TaskId, TimerId};

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
    tasks: BTreeMap<TaskId, Action>,
    timers: BTreeMap<TimerId, Action>,
}

impl Outstanding {
    /// Notes the actions of one replayed step.
    pub(crate) fn absorb(&mut self, actions: &[Action]) {
        for action in actions {
            match action {
                Action::InvokeTask { task_id, .. } => {
                    self.tasks.insert(*task_id, action.clone());
                }
                Action::StartTimer { timer_id, .. } => {
                    self.timers.insert(*timer_id, action.clone());
                }
                Action::CancelTask { task_id } => {
                    self.tasks.remove(task_id);
                }
                Action::CancelTimer { timer_id } => {
                    self.timers.remove(timer_id);
                }
                Action::Complete(_) => {}
            }
        }
    }

    /// Notes that a task was answered.
    pub(crate) fn task_done(&mut self, task_id: TaskId) {
        self.tasks.remove(&task_id);
    }

    /// Notes that a timer fired.
    pub(crate) fn timer_done(&mut self, timer_id: TimerId) {
        self.timers.remove(&timer_id);
    }

    /// What must be carried out again after the replay, in the order it was first issued.
    pub(crate) fn into_actions(self) -> Vec<Action> {
        self.tasks.into_values().chain(self.timers.into_values()).collect()
    }
}
