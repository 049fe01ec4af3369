use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use stepwasm_asl::{
    Action, Execution, ExecutionContext, ExecutionOutcome, HistoryEvent, Input, MapRunUpdate, StateMachine, Step,
    TaskId, TaskResource, TimerId, Timestamp,
};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use super::clock::Clock;
use super::documents::DocumentTexts;
use super::replay::{Outstanding, RecordingEntropy, ReplayEntropy};
use super::tasks::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome};
use crate::store::StoreError;

/// Something from outside the execution that it may be waiting for.
///
/// Its serde form is how signals are posted to the store for another node to deliver.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
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
    /// Fire the execution's earliest timer now (a Wait, a retry's back-off): for stepping through
    /// a long workflow by hand.
    NextTimer,
    /// `UpdateMapRun`.
    UpdateMapRun {
        /// The Map Run.
        map_run_arn: String,
        /// New `MaxConcurrency`.
        max_concurrency: Option<u64>,
        /// New `ToleratedFailureCount`.
        tolerated_failure_count: Option<u64>,
        /// New `ToleratedFailurePercentage`.
        tolerated_failure_percentage: Option<f64>,
    },
    /// `StopExecution`.
    Stop {
        /// The error to record.
        error: Option<String>,
        /// The cause to record.
        cause: Option<String>,
    },
}

impl Signal {
    /// A heartbeat or a timer fired by hand acts on what a driver holds in memory (a deadline, a
    /// sleep), not on the journal: once a driver has it, it has done its work, and kept it would
    /// act again at every resume.
    pub fn is_ephemeral(&self) -> bool {
        matches!(self, Signal::TaskHeartbeat { .. } | Signal::NextTimer)
    }
}

/// A finished execution.
#[derive(Debug, Clone)]
pub struct ExecutionRecord {
    /// How it ended.
    pub outcome: ExecutionOutcome,
    /// Every history event, in order; none when driven after [`Prepared::forget_history`].
    pub history: Vec<HistoryEvent>,
    /// Every task function invocation, in the order they finished.
    pub invocations: Vec<InvocationRecord>,
}

/// One interpreter step, as it must be journaled before its actions are carried out.
#[derive(Debug)]
pub struct StepRecord<'a> {
    /// 0 for the start, then 1, 2, … with no gaps.
    pub sequence: u64,
    /// The input applied; `None` for the start.
    pub input: Option<&'a Input>,
    /// The time the interpreter was given.
    pub at: Timestamp,
    /// The random numbers the step drew.
    pub entropy: &'a [u64],
    /// The history events it produced.
    pub history: &'a [HistoryEvent],
    /// The JSON text of documents among them that were serialised already (the inputs of the
    /// tasks the step schedules), for the store to use instead of serialising them again.
    pub documents: &'a DocumentTexts,
    /// What the engine does once the step is stored: among them, the tasks it schedules and
    /// their tokens.
    pub actions: &'a [Action],
    /// Set when the step ended the execution.
    pub outcome: Option<&'a ExecutionOutcome>,
}

/// Makes steps durable. The engine waits for `record` before acting on a step, so nothing
/// happens that a restart could not reproduce.
pub trait StepRecorder: Send {
    /// Stores one step; an error stops the execution here, still RUNNING, for a later resume.
    fn record<'a>(&'a mut self, step: StepRecord<'a>) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The execution waits for nothing but timers and callbacks: may it be parked? If this
    /// answers `true` what it waits for is durable, and the engine stops driving the execution
    /// (dropping it from memory) with [`Interrupted::Parked`]; whoever wakes it, when its time
    /// comes or a callback arrives, rebuilds it from its journal and hands it its callbacks
    /// again ([`Prepared::awaiting`]). The default keeps every execution in memory.
    fn park<'a>(&'a mut self, parking: Parking<'a>) -> BoxFuture<'a, Result<bool, StoreError>> {
        let _ = parking;
        Box::pin(std::future::ready(Ok(false)))
    }
}

/// What an execution that could be parked waits for.
#[derive(Debug, Clone, Copy)]
pub struct Parking<'a> {
    /// Its first timer or callback deadline; `None`: only a callback or a stop wakes it.
    pub wake_at: Option<Timestamp>,
    /// The callbacks it waits for.
    pub callbacks: &'a [AwaitedCallback],
}

/// A `.waitForTaskToken` task whose function has returned: only SendTaskSuccess,
/// SendTaskFailure or its deadline ends it now, and a rebuilt execution must not run the
/// function again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitedCallback {
    /// The task.
    pub task_id: TaskId,
    /// Its token.
    pub token: String,
    /// When it times out, if it has a `TimeoutSeconds`.
    pub deadline: Option<Timestamp>,
    /// Its `HeartbeatSeconds`, if it has one.
    pub heartbeat: Option<Heartbeat>,
}

/// How long a callback task's worker may go without a SendTaskHeartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// `HeartbeatSeconds`.
    pub interval: std::time::Duration,
    /// When the task misses its heartbeat unless one arrives first; `None`: one interval from
    /// when driving (re)starts, as after a crash, when the last heartbeat is not known.
    pub deadline: Option<Timestamp>,
}

/// One journaled step, to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayEntry {
    /// The input; `None` for the start.
    pub input: Option<Input>,
    /// The time it was applied at.
    pub at: Timestamp,
    /// The random numbers it drew.
    pub entropy: Vec<u64>,
}

/// A redriven execution, and the step that redrove it.
pub struct Redriven {
    /// The execution, ready to be driven (once the step is stored).
    pub prepared: Prepared,
    /// The step's journal sequence number.
    pub sequence: u64,
    /// The step's journal entry.
    pub entry: ReplayEntry,
    /// The step's history events, `ExecutionRedriven` first.
    pub history: Vec<HistoryEvent>,
}

/// An execution ready to be driven: just started, or rebuilt from its journal.
pub struct Prepared {
    execution: Execution,
    /// Actions to carry out first.
    actions: Vec<Action>,
    /// History so far (already recorded when resumed).
    history: Vec<HistoryEvent>,
    /// The next journal sequence number.
    next_sequence: u64,
    /// Step 0, still to be recorded (only for a fresh start).
    start: Option<(Timestamp, Vec<u64>, Vec<HistoryEvent>)>,
    /// Set when the journal already ends the execution.
    finished: Option<ExecutionOutcome>,
    /// Callbacks whose function already returned before the execution was parked.
    awaiting: Vec<AwaitedCallback>,
    /// Whether driving keeps every event for the [`ExecutionRecord`].
    keep_history: bool,
    /// The JSON text of the inputs of the tasks in `actions`, for a fresh start.
    texts: DocumentTexts,
}

impl Prepared {
    /// Marks `callbacks` as already announced: driving waits for them without running their
    /// functions again, and times them out at their original deadlines.
    pub fn awaiting(mut self, callbacks: Vec<AwaitedCallback>) -> Self {
        for callback in callbacks {
            match self.awaiting.iter_mut().find(|known| known.task_id == callback.task_id) {
                // A parking knows when the last heartbeat arrived; the journal does not.
                Some(known) => known.heartbeat = callback.heartbeat.or(known.heartbeat),
                None => self.awaiting.push(callback),
            }
        }
        self
    }

    /// What driving does first: the tasks the start (or redrive) step schedules, say.
    pub fn start_actions(&self) -> &[Action] {
        &self.actions
    }

    /// The JSON text of the start step's task inputs, made once for the store and the tasks.
    pub fn start_documents(&self) -> &DocumentTexts {
        &self.texts
    }

    /// The history events of the start step: what `create_execution` stores with the row.
    pub fn start_history(&self) -> &[HistoryEvent] {
        self.start.as_ref().map_or(&[], |(_, _, history)| history)
    }

    /// The start step's time and random draws, for its journal entry.
    pub fn start_entry(&self) -> Option<(Timestamp, &[u64])> {
        self.start.as_ref().map(|(at, entropy, _)| (*at, entropy.as_slice()))
    }

    /// The outcome, if the start step (or the replayed journal) already ended the execution.
    pub fn finished(&self) -> Option<&ExecutionOutcome> {
        self.finished.as_ref()
    }

    /// The execution, for looking up task tokens.
    pub fn execution(&self) -> &Execution {
        &self.execution
    }

    /// Drives without keeping the history in memory: the [`ExecutionRecord`] comes back with
    /// none. For a caller whose recorder stores every step, the events are then freed once
    /// stored, and so are the documents only they held; a state can then place its result into
    /// its input without copying the input.
    pub fn forget_history(mut self) -> Self {
        self.keep_history = false;
        self.history = Vec::new();
        self
    }

    /// Treats the start step as recorded already (stored together with the execution's row),
    /// so driving does not record it again.
    pub fn without_start(mut self) -> Self {
        if let Some((_, _, history)) = self.start.take() {
            self.history.extend(history);
        }
        self
    }
}

/// Why driving an execution stopped before it ended.
#[derive(Debug, thiserror::Error)]
pub enum Interrupted {
    /// A step could not be made durable; the execution stays RUNNING for a later resume.
    #[error("the execution was interrupted: a step could not be journaled: {0}")]
    Record(#[from] StoreError),
    /// The journal cannot be replayed.
    #[error("the execution was interrupted: {0}")]
    Journal(String),
    /// The execution is parked until its next timer (see [`StepRecorder::park`]). `pending`
    /// holds the signals that arrived while it was being parked, in order: they are for it.
    #[error("the execution is parked until its next timer")]
    Parked {
        /// Signals received but not applied.
        pending: Vec<Signal>,
    },
}

/// Runs executions: the imperative shell around the pure interpreter in `stepwasm-asl`.
///
/// The interpreter decides; the engine carries its [`Action`]s out. Task invocations and timers
/// run as concurrent tokio tasks, so Parallel branches and Map iterations really overlap; their
/// results come back as [`Input`]s, one at a time, in the order they complete. With a
/// [`StepRecorder`], every step is durable before its actions run.
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
    Heartbeat(TaskId),
}

impl Engine {
    /// An engine that runs tasks with `tasks`, reading time from a fresh [`Clock`].
    pub fn new(tasks: Arc<dyn TaskInvoker>) -> Self {
        Self::with_clock(tasks, Clock::new())
    }

    /// An engine that runs tasks with `tasks`, reading time from `clock`.
    pub fn with_clock(tasks: Arc<dyn TaskInvoker>, clock: Clock) -> Self {
        Self { tasks, clock }
    }

    /// What runs the tasks.
    pub fn tasks(&self) -> &Arc<dyn TaskInvoker> {
        &self.tasks
    }

    /// The engine's clock: use it to stamp [`ExecutionContext::start_time`].
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Runs one execution to its end, in memory.
    ///
    /// `signals` delivers callbacks and stop requests; once every sender is dropped, an
    /// execution left waiting for a callback fails instead of hanging. `observe` sees every
    /// history event as soon as it exists.
    pub async fn run(
        &self,
        machine: Arc<StateMachine>,
        input: Value,
        context: ExecutionContext,
        signals: mpsc::UnboundedReceiver<Signal>,
        observe: &mut (dyn FnMut(&HistoryEvent) + Send),
    ) -> ExecutionRecord {
        let prepared = self.start(machine, input, context);
        match self.drive(prepared, signals, observe, None).await {
            Ok(record) => record,
            // Without a recorder nothing can interrupt the run.
            Err(interrupted) => ExecutionRecord {
                outcome: ExecutionOutcome::Failed {
                    error: Some(stepwasm_asl::names::RUNTIME.into()),
                    cause: Some(interrupted.to_string()),
                },
                history: Vec::new(),
                invocations: Vec::new(),
            },
        }
    }

    /// Takes the first step of a new execution, without carrying out its actions yet.
    pub fn start(&self, machine: Arc<StateMachine>, input: Value, context: ExecutionContext) -> Prepared {
        let mut entropy = RecordingEntropy::default();
        let at = self.clock.now();
        let (execution, step) = Execution::start(machine, input, context, at, &mut entropy);
        let finished = completion(&step.actions);
        Prepared {
            execution,
            texts: DocumentTexts::of_task_inputs(&step.actions),
            actions: step.actions,
            history: Vec::new(),
            next_sequence: 1,
            start: Some((at, entropy.take(), step.history)),
            finished,
            awaiting: Vec::new(),
            keep_history: true,
        }
    }

    /// Rebuilds an execution from its journal: the same inputs at the same times with the same
    /// random draws give the same state. What was issued but not answered is carried out again
    /// when the execution is driven: an in-flight task attempt runs again, a pending timer fires
    /// at its original time.
    pub fn resume(
        &self,
        machine: Arc<StateMachine>,
        input: Value,
        context: ExecutionContext,
        journal: Vec<ReplayEntry>,
    ) -> Result<Prepared, Interrupted> {
        let mut entries = journal.into_iter();
        let Some(first) = entries.next().filter(|entry| entry.input.is_none()) else {
            return Err(Interrupted::Journal("the journal does not begin with the start".into()));
        };
        let (mut execution, step) =
            Execution::start(machine, input, context, first.at, &mut ReplayEntropy::new(first.entropy));
        let mut outstanding = Outstanding::default();
        let mut history = step.history;
        outstanding.absorb(&step.actions, first.at);
        let mut finished = completion(&step.actions);
        let mut next_sequence = 1;
        for entry in entries {
            let Some(input) = entry.input else {
                return Err(Interrupted::Journal(format!("journal entry {next_sequence} is a second start")));
            };
            match &input {
                Input::TaskSucceeded { task_id, .. }
                | Input::TaskFailed { task_id, .. }
                | Input::TaskTimedOut { task_id }
                | Input::TaskHeartbeatTimedOut { task_id } => {
                    outstanding.task_done(*task_id);
                }
                Input::TaskSubmitted { task_id, .. } => outstanding.task_submitted(*task_id),
                Input::TimerFired { timer_id } => outstanding.timer_done(*timer_id),
                Input::Stop { .. } | Input::UpdateMapRun(_) | Input::Redrive => {}
            }
            let redrive = matches!(input, Input::Redrive);
            let at = entry.at;
            let mut step = execution.apply(input, at, &mut ReplayEntropy::new(entry.entropy));
            outstanding.absorb(&step.actions, at);
            if redrive && !step.history.is_empty() {
                finished = None;
            }
            finished = finished.or_else(|| completion(&step.actions));
            history.append(&mut step.history);
            next_sequence += 1;
        }
        let awaiting = outstanding.submitted();
        Ok(Prepared {
            execution,
            actions: outstanding.into_actions(),
            history,
            next_sequence,
            start: None,
            finished,
            awaiting,
            keep_history: true,
            texts: DocumentTexts::default(),
        })
    }

    /// Redrives an execution that [`Engine::resume`] rebuilt after it ended unsuccessfully: takes
    /// the redrive step, to be stored with [`Redriven::entry`] before the execution is driven
    /// again. `None` if the execution cannot be redriven.
    pub fn redrive(&self, prepared: Prepared) -> Option<Redriven> {
        let Prepared { mut execution, history, next_sequence, .. } = prepared;
        if !execution.redrivable() {
            return None;
        }
        let at = self.clock.now();
        let mut entropy = RecordingEntropy::default();
        let step = execution.apply(Input::Redrive, at, &mut entropy);
        let entry = ReplayEntry { input: Some(Input::Redrive), at, entropy: entropy.take() };
        let finished = completion(&step.actions);
        Some(Redriven {
            prepared: Prepared {
                execution,
                actions: step.actions,
                history,
                next_sequence: next_sequence + 1,
                start: None,
                finished,
                awaiting: Vec::new(),
                keep_history: true,
                texts: DocumentTexts::default(),
            },
            sequence: next_sequence,
            entry,
            history: step.history,
        })
    }

    /// Carries out a prepared execution until it ends.
    ///
    /// With a `recorder`, each step is recorded before its actions run; if recording fails the
    /// execution stops with [`Interrupted`] and stays resumable from its journal.
    pub async fn drive(
        &self,
        prepared: Prepared,
        mut signals: mpsc::UnboundedReceiver<Signal>,
        observe: &mut (dyn FnMut(&HistoryEvent) + Send),
        mut recorder: Option<&mut dyn StepRecorder>,
    ) -> Result<ExecutionRecord, Interrupted> {
        let Prepared {
            mut execution,
            actions,
            mut history,
            mut next_sequence,
            start,
            finished,
            awaiting,
            keep_history,
            texts,
        } = prepared;
        let records = Arc::new(Mutex::new(Vec::new()));
        if let Some((at, entropy, start_history)) = start {
            if let Some(recorder) = recorder.as_deref_mut() {
                let step = StepRecord {
                    sequence: 0,
                    input: None,
                    at,
                    entropy: &entropy,
                    history: &start_history,
                    documents: &texts,
                    actions: &actions,
                    outcome: finished.as_ref(),
                };
                recorder.record(step).await.map_err(Interrupted::Record)?;
            }
            for event in &start_history {
                observe(event);
            }
            if keep_history {
                history.extend(start_history);
            }
        }
        if let Some(outcome) = finished {
            return Ok(ExecutionRecord { outcome, history, invocations: Vec::new() });
        }

        let (completed, mut completions) = mpsc::unbounded_channel::<Input>();
        let mut work = JoinSet::new();
        let mut handles: HashMap<Work, AbortHandle> = HashMap::new();
        let mut signals_open = true;
        let mut entropy = RecordingEntropy::default();
        let mut step = Step { history: Vec::new(), actions };
        let mut step_texts = texts;
        // What a parked execution would wait for: when each pending timer fires, and the
        // callbacks whose functions have returned (with those announced before a parking).
        let mut timers: HashMap<TimerId, Timestamp> = HashMap::new();
        let mut callbacks: HashMap<TaskId, AwaitedCallback> = HashMap::new();
        let mut announced: HashMap<TaskId, AwaitedCallback> =
            awaiting.into_iter().map(|callback| (callback.task_id, callback)).collect();
        // Callback tasks whose function is running, and those that cannot be parked (an
        // activity's task lives in this node's memory until a worker takes it).
        let mut announcing: HashMap<TaskId, AwaitedCallback> = HashMap::new();
        let mut unparkable: std::collections::HashSet<TaskId> = std::collections::HashSet::new();
        let (returned, mut callback_functions_returned) = mpsc::unbounded_channel::<(TaskId, Value)>();

        loop {
            let mut finished = None;
            let texts = std::mem::take(&mut step_texts);
            for action in std::mem::take(&mut step.actions) {
                match action {
                    Action::Complete(outcome) => finished = Some(outcome),
                    Action::InvokeTask { task_id, ref resource, timeout, heartbeat, ref context, .. }
                        if waits_for_callback(resource) =>
                    {
                        if matches!(resource, TaskResource::Activity { .. }) {
                            unparkable.insert(task_id);
                        }
                        // Announced before the execution was parked: wait, do not announce again.
                        if let Some(mut callback) = announced.remove(&task_id) {
                            if let Some(deadline) = callback.deadline {
                                self.arm_callback_deadline(task_id, deadline, &completed, &mut work, &mut handles);
                            }
                            self.arm_heartbeat(&mut callback, None, &completed, &mut work, &mut handles);
                            callbacks.insert(task_id, callback);
                            continue;
                        }
                        // The deadline runs from scheduling, across the function and the wait.
                        let mut callback = AwaitedCallback {
                            task_id,
                            token: context.task_token.clone().unwrap_or_default(),
                            deadline: timeout.map(|timeout| self.clock.after(timeout)),
                            heartbeat: heartbeat.map(|interval| Heartbeat { interval, deadline: None }),
                        };
                        if let Some(deadline) = callback.deadline {
                            self.arm_callback_deadline(task_id, deadline, &completed, &mut work, &mut handles);
                        }
                        self.arm_heartbeat(&mut callback, None, &completed, &mut work, &mut handles);
                        announcing.insert(task_id, callback);
                        self.perform(action, &texts, &completed, &returned, &records, &mut work, &mut handles);
                    }
                    other => {
                        match &other {
                            Action::StartTimer { timer_id, fire_at } => {
                                timers.insert(*timer_id, *fire_at);
                            }
                            Action::CancelTimer { timer_id } => {
                                timers.remove(timer_id);
                            }
                            Action::CancelTask { task_id } => {
                                callbacks.remove(task_id);
                                announcing.remove(task_id);
                                self.tasks.cancel(&execution.context().execution_arn, *task_id);
                            }
                            _ => {}
                        }
                        self.perform(other, &texts, &completed, &returned, &records, &mut work, &mut handles);
                    }
                }
            }
            // Dropped once the step's work has started, before its replies are applied: a
            // document the texts still held would have to be copied by a state that changes it.
            drop(texts);
            if let Some(outcome) = finished {
                work.abort_all();
                let invocations = std::mem::take(&mut *records.lock().unwrap_or_else(PoisonError::into_inner));
                return Ok(ExecutionRecord { outcome, history, invocations });
            }

            let next = loop {
                // Waiting on timers and callbacks alone, the execution needs no memory until one
                // of them answers.
                let waits_only = handles
                    .keys()
                    .all(|work| matches!(work, Work::Timer(_) | Work::CallbackDeadline(_) | Work::Heartbeat(_)))
                    && !(handles.is_empty() && callbacks.is_empty())
                    && callbacks.keys().all(|task_id| !unparkable.contains(task_id));
                if waits_only
                    && completions.is_empty()
                    && signals.is_empty()
                    && callback_functions_returned.is_empty()
                    && let Some(recorder) = recorder.as_deref_mut()
                {
                    let awaited: Vec<AwaitedCallback> = callbacks.values().cloned().collect();
                    let deadlines = awaited.iter().flat_map(|callback| {
                        [callback.deadline, callback.heartbeat.and_then(|heartbeat| heartbeat.deadline)]
                    });
                    let wake_at = timers.values().copied().chain(deadlines.flatten()).min();
                    match recorder.park(Parking { wake_at, callbacks: &awaited }).await {
                        Ok(true) => {
                            work.abort_all();
                            // Nothing more can be sent; what was sent before is handed back.
                            signals.close();
                            let mut pending = Vec::new();
                            while let Ok(signal) = signals.try_recv() {
                                pending.push(signal);
                            }
                            return Err(Interrupted::Parked { pending });
                        }
                        Ok(false) => {}
                        Err(error) => {
                            work.abort_all();
                            return Err(Interrupted::Record(error));
                        }
                    }
                }
                if work.is_empty() && completions.is_empty() && !signals_open {
                    break Input::Stop {
                        error: Some(stepwasm_asl::names::RUNTIME.into()),
                        cause: Some("The execution is waiting for a task token that can no longer be sent.".into()),
                    };
                }
                tokio::select! {
                    Some(input) = completions.recv() => break input,
                    signal = signals.recv(), if signals_open => match signal {
                        // A heartbeat only moves a deadline: nothing for the interpreter.
                        Some(Signal::TaskHeartbeat { token }) => {
                            let now = self.clock.now();
                            if let Some(task_id) = execution.task_for_token(&token)
                                && let Some(callback) = callbacks.get_mut(&task_id).or(announcing.get_mut(&task_id))
                            {
                                self.arm_heartbeat(callback, Some(now), &completed, &mut work, &mut handles);
                            }
                        }
                        Some(Signal::NextTimer) => {
                            let earliest = timers.iter().min_by_key(|(id, at)| (**at, **id)).map(|(id, _)| *id);
                            if let Some(timer_id) = earliest {
                                if let Some(sleep) = handles.remove(&Work::Timer(timer_id)) {
                                    sleep.abort();
                                }
                                break Input::TimerFired { timer_id };
                            }
                        }
                        Some(signal) => {
                            if let Some(input) = signal_input(&execution, signal) {
                                break input;
                            }
                        }
                        None => signals_open = false,
                    },
                    Some((task_id, output)) = callback_functions_returned.recv() => {
                        handles.remove(&Work::Task(task_id));
                        if let Some(callback) = announcing.remove(&task_id) {
                            callbacks.insert(task_id, callback);
                        }
                        // An activity's task was only queued; an integration's call was made,
                        // and the journal must say so before anything could run it again.
                        if !unparkable.contains(&task_id) {
                            break Input::TaskSubmitted { task_id, output };
                        }
                    }
                    Some(_) = work.join_next(), if !work.is_empty() => {}
                }
            };
            forget_work(&next, &mut handles);
            match &next {
                Input::TimerFired { timer_id } => {
                    timers.remove(timer_id);
                }
                // Still awaited: `callbacks` has it since its function returned.
                Input::TaskSubmitted { .. } => {}
                Input::TaskSucceeded { task_id, .. }
                | Input::TaskFailed { task_id, .. }
                | Input::TaskTimedOut { task_id }
                | Input::TaskHeartbeatTimedOut { task_id } => {
                    callbacks.remove(task_id);
                    announcing.remove(task_id);
                    unparkable.remove(task_id);
                }
                Input::Stop { .. } | Input::UpdateMapRun(_) | Input::Redrive => {}
            }
            let at = self.clock.now();
            // A task's output is shared with the journal, not copied; other inputs are small.
            let journaled = recorder.is_some().then(|| next.clone());
            step = execution.apply(next, at, &mut entropy);
            let drawn = entropy.take();
            step_texts = DocumentTexts::of_task_inputs(&step.actions);
            if let Some(recorder) = recorder.as_deref_mut() {
                let outcome = completion_in(&step.actions);
                let record = StepRecord {
                    sequence: next_sequence,
                    input: journaled.as_ref(),
                    at,
                    entropy: &drawn,
                    history: &step.history,
                    documents: &step_texts,
                    actions: &step.actions,
                    outcome,
                };
                if let Err(error) = recorder.record(record).await {
                    work.abort_all();
                    return Err(Interrupted::Record(error));
                }
            }
            next_sequence += 1;
            for event in &step.history {
                observe(event);
            }
            if keep_history {
                history.append(&mut step.history);
            } else {
                step.history.clear();
            }
        }
    }

    /// Times a callback out at `deadline`.
    fn arm_callback_deadline(
        &self,
        task_id: TaskId,
        deadline: Timestamp,
        completed: &mpsc::UnboundedSender<Input>,
        work: &mut JoinSet<()>,
        handles: &mut HashMap<Work, AbortHandle>,
    ) {
        let delay = self.clock.until(deadline);
        let completed = completed.clone();
        let handle = work.spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = completed.send(Input::TaskTimedOut { task_id });
        });
        handles.insert(Work::CallbackDeadline(task_id), handle);
    }

    /// Arms `callback`'s heartbeat deadline, if it has a `HeartbeatSeconds`: one interval after
    /// `beat` (a heartbeat that just arrived), or at the deadline it has, or one interval from
    /// now. A deadline armed before is replaced.
    fn arm_heartbeat(
        &self,
        callback: &mut AwaitedCallback,
        beat: Option<Timestamp>,
        completed: &mpsc::UnboundedSender<Input>,
        work: &mut JoinSet<()>,
        handles: &mut HashMap<Work, AbortHandle>,
    ) {
        let Some(heartbeat) = &mut callback.heartbeat else { return };
        let interval = heartbeat.interval;
        let deadline = match (beat, heartbeat.deadline) {
            (Some(beat), _) => beat.add_millis(i64::try_from(interval.as_millis()).unwrap_or(i64::MAX)),
            (None, Some(deadline)) => deadline,
            (None, None) => self.clock.after(interval),
        };
        heartbeat.deadline = Some(deadline);
        let task_id = callback.task_id;
        let delay = self.clock.until(deadline);
        let completed = completed.clone();
        let handle = work.spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = completed.send(Input::TaskHeartbeatTimedOut { task_id });
        });
        if let Some(earlier) = handles.insert(Work::Heartbeat(task_id), handle) {
            earlier.abort();
        }
    }

    /// Starts the work one action asks for; its result arrives on `completed`, or, for a
    /// callback task whose function has announced it, on `returned`.
    #[allow(clippy::too_many_arguments)] // the driver's own bookkeeping, passed apart to borrow apart
    fn perform(
        &self,
        action: Action,
        texts: &DocumentTexts,
        completed: &mpsc::UnboundedSender<Input>,
        returned: &mpsc::UnboundedSender<(TaskId, Value)>,
        records: &Arc<Mutex<Vec<InvocationRecord>>>,
        work: &mut JoinSet<()>,
        handles: &mut HashMap<Work, AbortHandle>,
    ) {
        match action {
            Action::InvokeTask { task_id, resource, payload, timeout, context, .. } => {
                let waits_for_callback = waits_for_callback(&resource);
                let payload_text = texts.get(&payload).cloned();
                let call = TaskCall { task_id, resource, payload, payload_text, timeout, context };
                let tasks = Arc::clone(&self.tasks);
                let (completed, returned) = (completed.clone(), returned.clone());
                let records = Arc::clone(records);
                let handle = work.spawn(async move {
                    let (outcome, record) = tasks.invoke(call).await;
                    if let Some(record) = record {
                        records.lock().unwrap_or_else(PoisonError::into_inner).push(record);
                    }
                    let input = match outcome {
                        // The function only announced the task; SendTaskSuccess ends it.
                        TaskOutcome::Succeeded(output) if waits_for_callback => {
                            let _ = returned.send((task_id, output));
                            return;
                        }
                        TaskOutcome::Succeeded(output) => Input::TaskSucceeded { task_id, output: output.into() },
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
                for key in [Work::Task(task_id), Work::CallbackDeadline(task_id), Work::Heartbeat(task_id)] {
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
            Action::Complete(_) => {}
        }
    }
}

/// Drops the bookkeeping for work that has just answered.
fn forget_work(input: &Input, handles: &mut HashMap<Work, AbortHandle>) {
    match input {
        Input::TaskSucceeded { task_id, .. }
        | Input::TaskFailed { task_id, .. }
        | Input::TaskTimedOut { task_id }
        | Input::TaskHeartbeatTimedOut { task_id } => {
            handles.remove(&Work::Task(*task_id));
            for deadline in [Work::CallbackDeadline(*task_id), Work::Heartbeat(*task_id)] {
                if let Some(deadline) = handles.remove(&deadline) {
                    deadline.abort();
                }
            }
        }
        Input::TimerFired { timer_id } => {
            handles.remove(&Work::Timer(*timer_id));
        }
        // The call is over; its deadline still runs until the token answers.
        Input::TaskSubmitted { task_id, .. } => {
            handles.remove(&Work::Task(*task_id));
        }
        Input::Stop { .. } | Input::UpdateMapRun(_) | Input::Redrive => {}
    }
}

/// Turns a signal into the interpreter's input, if it concerns a task still waiting.
fn signal_input(execution: &Execution, signal: Signal) -> Option<Input> {
    match signal {
        Signal::TaskSuccess { token, output } => {
            execution.task_for_token(&token).map(|task_id| Input::TaskSucceeded { task_id, output: output.into() })
        }
        Signal::TaskFailure { token, error, cause } => {
            execution.task_for_token(&token).map(|task_id| Input::TaskFailed { task_id, error, cause })
        }
        // The driver moves the heartbeat deadline, or fires the timer, itself.
        Signal::TaskHeartbeat { .. } | Signal::NextTimer => None,
        Signal::Stop { error, cause } => Some(Input::Stop { error, cause }),
        Signal::UpdateMapRun {
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
    }
}

fn completion(actions: &[Action]) -> Option<ExecutionOutcome> {
    completion_in(actions).cloned()
}

fn completion_in(actions: &[Action]) -> Option<&ExecutionOutcome> {
    actions.iter().find_map(|action| match action {
        Action::Complete(outcome) => Some(outcome),
        _ => None,
    })
}

fn waits_for_callback(resource: &TaskResource) -> bool {
    match resource {
        TaskResource::LambdaInvoke { wait_for_task_token, .. } => *wait_for_task_token,
        TaskResource::Other(arn) => arn.ends_with(".waitForTaskToken"),
        // Activity workers answer through SendTaskSuccess, like a callback.
        TaskResource::Activity { .. } => true,
        _ => false,
    }
}
