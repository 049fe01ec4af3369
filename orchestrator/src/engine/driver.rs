use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use stepwasm_asl::{
    Action, Entropy, Execution, ExecutionContext, ExecutionOutcome, HistoryEvent, Input, StateMachine, TaskId,
    TaskResource, TimerId,
};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use super::clock::Clock;
use super::entropy::SystemEntropy;
use super::tasks::{InvocationRecord, TaskCall, TaskInvoker, TaskOutcome};

/// Something from outside the execution that it may be waiting for.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// `SendTaskSuccess` for a `.waitForTaskToken` task.
    TaskSuccess {
        /// The task token from `$$.Task.Token`.
        token: String,
        /// The task's result.
        output: Value,
    },
    /// `SendTaskFailure` for a `.waitForTaskToken` task.
    TaskFailure {
        /// The task token.
        token: String,
        /// The error name, matched by `Retry` and `Catch`.
        error: String,
        /// The explanation.
        cause: Option<String>,
    },
    /// `SendTaskHeartbeat`: the worker is still busy.
    TaskHeartbeat {
        /// The task token.
        token: String,
    },
    /// `StopExecution`.
    Stop {
        /// The error to record.
        error: Option<String>,
        /// The cause to record.
        cause: Option<String>,
    },
}

/// A finished execution.
#[derive(Debug, Clone)]
pub struct ExecutionRecord {
    /// How it ended.
    pub outcome: ExecutionOutcome,
    /// Every history event, in order.
    pub history: Vec<HistoryEvent>,
    /// Every task function invocation, in the order they finished.
    pub invocations: Vec<InvocationRecord>,
}

/// Runs executions: the imperative shell around the pure interpreter in `stepwasm-asl`.
///
/// The interpreter decides; the engine carries its [`Action`]s out. Task invocations and timers
/// run as concurrent tokio tasks, so Parallel branches and Map iterations really overlap; their
/// results come back as [`Input`]s, one at a time, in the order they complete.
#[derive(Clone)]
pub struct Engine {
    tasks: Arc<dyn TaskInvoker>,
    clock: Clock,
}

/// What the engine is waiting on, so a cancelled branch can stop its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Work {
    Task(TaskId),
    Timer(TimerId),
    CallbackDeadline(TaskId),
}

impl Engine {
    /// An engine that runs tasks with `tasks`, reading time from a fresh [`Clock`].
    pub fn new(tasks: Arc<dyn TaskInvoker>) -> Self {
        Self { tasks, clock: Clock::new() }
    }

    /// The engine's clock: use it to stamp [`ExecutionContext::start_time`].
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Runs one execution to its end.
    ///
    /// `signals` delivers callbacks and stop requests; once every sender is dropped, an
    /// execution left waiting for a callback fails instead of hanging. `observe` sees every
    /// history event as soon as it exists.
    pub async fn run(
        &self,
        machine: Arc<StateMachine>,
        input: Value,
        context: ExecutionContext,
        mut signals: mpsc::UnboundedReceiver<Signal>,
        observe: &mut (dyn FnMut(&HistoryEvent) + Send),
    ) -> ExecutionRecord {
        let mut entropy = SystemEntropy;
        let (mut execution, mut step) = Execution::start(machine, input, context, self.clock.now(), &mut entropy);
        let (completed, mut completions) = mpsc::unbounded_channel::<Input>();
        let records = Arc::new(Mutex::new(Vec::new()));
        let mut work = JoinSet::new();
        let mut handles: HashMap<Work, AbortHandle> = HashMap::new();
        let mut history = Vec::new();
        let mut signals_open = true;

        loop {
            for event in &step.history {
                observe(event);
            }
            history.append(&mut step.history);
            let mut finished = None;
            for action in std::mem::take(&mut step.actions) {
                match action {
                    Action::InvokeTask { task_id, resource, payload, timeout, context, .. } => {
                        let waits_for_callback = waits_for_callback(&resource);
                        if waits_for_callback && let Some(timeout) = timeout {
                            // The callback's deadline runs from scheduling, across the
                            // notifying call and the wait.
                            let completed = completed.clone();
                            let deadline = work.spawn(async move {
                                tokio::time::sleep(timeout).await;
                                let _ = completed.send(Input::TaskTimedOut { task_id });
                            });
                            handles.insert(Work::CallbackDeadline(task_id), deadline);
                        }
                        let call = TaskCall { resource, payload, timeout, context };
                        let tasks = Arc::clone(&self.tasks);
                        let completed = completed.clone();
                        let records = Arc::clone(&records);
                        let handle = work.spawn(async move {
                            let (outcome, record) = tasks.invoke(call).await;
                            if let Some(record) = record {
                                records.lock().unwrap_or_else(PoisonError::into_inner).push(record);
                            }
                            let input = match outcome {
                                // The function only announced the task; SendTaskSuccess ends it.
                                TaskOutcome::Succeeded(_) if waits_for_callback => return,
                                TaskOutcome::Succeeded(output) => Input::TaskSucceeded { task_id, output },
                                TaskOutcome::Failed { error, cause } => Input::TaskFailed { task_id, error, cause },
                                TaskOutcome::TimedOut => Input::TaskTimedOut { task_id },
                            };
                            let _ = completed.send(input);
                        });
                        handles.insert(Work::Task(task_id), handle);
                    }
                    Action::StartTimer { timer_id, fire_at } => {
                        let delay = self.clock.until(fire_at);
                        let completed = completed.clone();
                        let handle = work.spawn(async move {
                            tokio::time::sleep(delay).await;
                            let _ = completed.send(Input::TimerFired { timer_id });
                        });
                        handles.insert(Work::Timer(timer_id), handle);
                    }
                    Action::CancelTask { task_id } => {
                        for key in [Work::Task(task_id), Work::CallbackDeadline(task_id)] {
                            if let Some(handle) = handles.remove(&key) {
                                handle.abort();
                            }
                        }
                    }
                    Action::CancelTimer { timer_id } => {
                        if let Some(handle) = handles.remove(&Work::Timer(timer_id)) {
                            handle.abort();
                        }
                    }
                    Action::Complete(outcome) => finished = Some(outcome),
                }
            }
            if let Some(outcome) = finished {
                work.abort_all();
                let invocations = std::mem::take(&mut *records.lock().unwrap_or_else(PoisonError::into_inner));
                return ExecutionRecord { outcome, history, invocations };
            }

            let next = loop {
                if work.is_empty() && completions.is_empty() && !signals_open {
                    break Input::Stop {
                        error: Some("States.Runtime".into()),
                        cause: Some("The execution is waiting for a task token that can no longer be sent.".into()),
                    };
                }
                tokio::select! {
                    Some(input) = completions.recv() => break input,
                    signal = signals.recv(), if signals_open => match signal {
                        Some(signal) => {
                            if let Some(input) = self.signal_input(&execution, signal, &mut handles) {
                                break input;
                            }
                        }
                        None => signals_open = false,
                    },
                    Some(_) = work.join_next(), if !work.is_empty() => {}
                }
            };
            if let Input::TaskSucceeded { task_id, .. }
            | Input::TaskFailed { task_id, .. }
            | Input::TaskTimedOut { task_id } = &next
            {
                handles.remove(&Work::Task(*task_id));
                if let Some(deadline) = handles.remove(&Work::CallbackDeadline(*task_id)) {
                    deadline.abort();
                }
            }
            if let Input::TimerFired { timer_id } = &next {
                handles.remove(&Work::Timer(*timer_id));
            }
            step = execution.apply(next, self.clock.now(), &mut entropy as &mut dyn Entropy);
        }
    }

    /// Turns a signal into the interpreter's input, if it concerns a task still waiting.
    fn signal_input(
        &self,
        execution: &Execution,
        signal: Signal,
        handles: &mut HashMap<Work, AbortHandle>,
    ) -> Option<Input> {
        match signal {
            Signal::TaskSuccess { token, output } => {
                execution.task_for_token(&token).map(|task_id| Input::TaskSucceeded { task_id, output })
            }
            Signal::TaskFailure { token, error, cause } => {
                execution.task_for_token(&token).map(|task_id| Input::TaskFailed { task_id, error, cause })
            }
            Signal::TaskHeartbeat { token } => {
                // Heartbeat deadlines are not tracked separately yet; the task's overall
                // deadline still applies, so there is nothing to reset.
                let _ = (execution.task_for_token(&token), handles);
                None
            }
            Signal::Stop { error, cause } => Some(Input::Stop { error, cause }),
        }
    }
}

fn waits_for_callback(resource: &TaskResource) -> bool {
    match resource {
        TaskResource::LambdaInvoke { wait_for_task_token, .. } => *wait_for_task_token,
        TaskResource::Other(arn) => arn.ends_with(".waitForTaskToken"),
        _ => false,
    }
}
