use std::sync::Arc;
use std::time::Duration;

use stepwasm_asl::{Action, ExecutionOutcome, Input, MapRunUpdate, TaskId, TimerId, Timestamp};

use crate::engine::{AwaitedCallback, BoxFuture, Clock, Heartbeat, Parking, ReplayEntry, StepRecord, StepRecorder};
use crate::store::{
    self, Append, Completion, ExecutionStatus, IssuedToken, JournalEntry, JournalInput, Store, StoreError,
};

/// Journals every step of one execution in the store before the engine acts on it, and parks
/// it there when it only waits for a timer far enough off.
pub(crate) struct StoreRecorder {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) execution_arn: String,
    pub(crate) clock: Clock,
    /// Waits at least this long are parked; `None`: never park.
    pub(crate) park_after: Option<Duration>,
    /// Told after each park, so the wake-up loop learns the new time.
    pub(crate) parked: Arc<dyn Fn() + Send + Sync>,
}

impl StepRecorder for StoreRecorder {
    fn record<'a>(&'a mut self, step: StepRecord<'a>) -> BoxFuture<'a, Result<(), StoreError>> {
        let append = to_append(&self.execution_arn, &step);
        Box::pin(async move {
            issue_tokens(&*self.store, &self.execution_arn, step.actions).await?;
            let entered = crate::metrics::states_entered(&append.events);
            let finished = append.completion.as_ref().map(|completion| completion.status);
            self.store.append(append).await?;
            let metrics = crate::metrics::global();
            metrics.states_entered(entered);
            if let Some(status) = finished {
                metrics.execution_finished(crate::metrics::machine_of(&self.execution_arn), status.as_str());
            }
            Ok(())
        })
    }

    fn park<'a>(&'a mut self, parking: Parking<'a>) -> BoxFuture<'a, Result<bool, StoreError>> {
        // A wake-up soon costs less kept in memory than rebuilt from the journal.
        let worth_it =
            self.park_after.is_some_and(|after| parking.wake_at.is_none_or(|at| self.clock.until(at) >= after));
        Box::pin(async move {
            if !worth_it {
                return Ok(false);
            }
            let stored = store::Parking {
                wake_at: parking.wake_at.map(|at| at.0),
                callbacks: parking
                    .callbacks
                    .iter()
                    .map(|callback| store::AwaitedCallback {
                        task_id: callback.task_id.0,
                        token: callback.token.clone(),
                        deadline: callback.deadline.map(|at| at.0),
                        heartbeat_seconds: callback.heartbeat.map(|heartbeat| heartbeat.interval.as_secs()),
                        heartbeat_deadline: callback.heartbeat.and_then(|heartbeat| heartbeat.deadline).map(|at| at.0),
                    })
                    .collect(),
            };
            self.store.park(&self.execution_arn, &stored).await?;
            (self.parked)();
            Ok(true)
        })
    }
}

/// Records the task tokens that `actions` hand out, before the step that schedules them is
/// stored: once a client can read a token in the history, any node can route its answer.
pub(crate) async fn issue_tokens(store: &dyn Store, execution_arn: &str, actions: &[Action]) -> Result<(), StoreError> {
    for action in actions {
        let Action::InvokeTask { context, .. } = action else { continue };
        let Some(token) = &context.task_token else { continue };
        let issued = IssuedToken {
            token: token.clone(),
            execution_arn: execution_arn.to_owned(),
            state_name: context.state_name.clone(),
            issued: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX)),
        };
        store.issue_token(&issued).await?;
    }
    Ok(())
}

/// The engine's form of the callbacks a parked execution waits for.
pub(crate) fn awaited_callbacks(parking: &store::Parking) -> Vec<AwaitedCallback> {
    parking
        .callbacks
        .iter()
        .map(|callback| AwaitedCallback {
            task_id: TaskId(callback.task_id),
            token: callback.token.clone(),
            deadline: callback.deadline.map(Timestamp),
            heartbeat: callback.heartbeat_seconds.map(|seconds| Heartbeat {
                interval: std::time::Duration::from_secs(seconds),
                deadline: callback.heartbeat_deadline.map(Timestamp),
            }),
        })
        .collect()
}

/// The store's form of one engine step.
pub(crate) fn to_append(execution_arn: &str, step: &StepRecord<'_>) -> Append {
    Append {
        execution_arn: execution_arn.to_owned(),
        entry: JournalEntry {
            sequence: step.sequence,
            input: step.input.map_or(JournalInput::Start, journal_input),
            at: step.at.0,
            entropy: step.entropy.to_vec(),
        },
        events: step.history.to_vec(),
        documents: step.documents.clone(),
        completion: step.outcome.map(|outcome| completion(outcome, step.at)),
    }
}

pub(crate) fn completion(outcome: &ExecutionOutcome, at: Timestamp) -> Completion {
    let (status, output, error, cause) = match outcome {
        ExecutionOutcome::Succeeded(output) => (ExecutionStatus::Succeeded, Some(output.to_string()), None, None),
        ExecutionOutcome::Failed { error, cause } => (ExecutionStatus::Failed, None, error.clone(), cause.clone()),
        ExecutionOutcome::TimedOut => (ExecutionStatus::TimedOut, None, None, None),
        ExecutionOutcome::Aborted { error, cause } => (ExecutionStatus::Aborted, None, error.clone(), cause.clone()),
    };
    Completion { status, output, error, cause, stop_date: at.0 }
}

fn journal_input(input: &Input) -> JournalInput {
    match input {
        Input::TaskSucceeded { task_id, output } => {
            JournalInput::TaskSucceeded { task_id: task_id.0, output: Arc::clone(output) }
        }
        Input::TaskFailed { task_id, error, cause } => {
            JournalInput::TaskFailed { task_id: task_id.0, error: error.clone(), cause: cause.clone() }
        }
        Input::TaskTimedOut { task_id } => JournalInput::TaskTimedOut { task_id: task_id.0 },
        Input::TaskHeartbeatTimedOut { task_id } => JournalInput::TaskHeartbeatTimedOut { task_id: task_id.0 },
        Input::TaskSubmitted { task_id, output } => {
            JournalInput::TaskSubmitted { task_id: task_id.0, output: output.clone() }
        }
        Input::TimerFired { timer_id } => JournalInput::TimerFired { timer_id: timer_id.0 },
        Input::Stop { error, cause } => JournalInput::Stop { error: error.clone(), cause: cause.clone() },
        Input::UpdateMapRun(update) => JournalInput::UpdateMapRun {
            map_run_arn: update.map_run_arn.clone(),
            max_concurrency: update.max_concurrency,
            tolerated_failure_count: update.tolerated_failure_count,
            tolerated_failure_percentage: update.tolerated_failure_percentage,
        },
        Input::Redrive => JournalInput::Redrive,
    }
}

/// The engine's form of a stored journal entry.
pub(crate) fn replay_entry(entry: JournalEntry) -> ReplayEntry {
    let input = match entry.input {
        JournalInput::Start => None,
        JournalInput::TaskSucceeded { task_id, output } => {
            Some(Input::TaskSucceeded { task_id: TaskId(task_id), output })
        }
        JournalInput::TaskFailed { task_id, error, cause } => {
            Some(Input::TaskFailed { task_id: TaskId(task_id), error, cause })
        }
        JournalInput::TaskTimedOut { task_id } => Some(Input::TaskTimedOut { task_id: TaskId(task_id) }),
        JournalInput::TaskHeartbeatTimedOut { task_id } => {
            Some(Input::TaskHeartbeatTimedOut { task_id: TaskId(task_id) })
        }
        JournalInput::TaskSubmitted { task_id, output } => {
            Some(Input::TaskSubmitted { task_id: TaskId(task_id), output })
        }
        JournalInput::TimerFired { timer_id } => Some(Input::TimerFired { timer_id: TimerId(timer_id) }),
        JournalInput::Stop { error, cause } => Some(Input::Stop { error, cause }),
        JournalInput::UpdateMapRun {
            map_run_arn,
            max_concurrency,
            tolerated_failure_count,
            tolerated_failure_percentage,
        } => Some(Input::UpdateMapRun(MapRunUpdate {
            map_run_arn,
            max_concurrency,
            tolerated_failure_count,
            tolerated_failure_percentage,
        })),
        JournalInput::Redrive => Some(Input::Redrive),
    };
    ReplayEntry { input, at: Timestamp(entry.at), entropy: entry.entropy }
}
