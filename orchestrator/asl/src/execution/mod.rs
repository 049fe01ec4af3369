//! The event-sourced interpreter: an [`Execution`] consumes [`Input`]s and produces a [`Step`] of
//! history events and [`Action`]s for a driver to carry out.

use std::cell::OnceCell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::entropy::{self, Entropy};
use crate::history::{EventKind, HistoryEvent, StateType};
use crate::ir::Transition;
use crate::machine::{State, StateMachine};
use crate::names;
use crate::payload::{ContextSource, Env, MAX_PAYLOAD_BYTES, Scope, json_len_exceeds};
use crate::states::{self, Kind};
use crate::timestamp::Timestamp;

mod children;
mod io;
mod map_runs;
mod redrive;
mod state_cx;
mod stopping;

pub use crate::resource::TaskResource;
use children::ChildLine;
pub(crate) use children::child_names;
pub use children::{ChildExecution, parent_of_child};
pub use io::{Action, ExecutionContext, ExecutionOutcome, Input, MapRunUpdate, Step, TaskCallContext, TaskId, TimerId};
pub use map_runs::{MapRun, MapRunCounts, MapRunStatus};
use redrive::Leftovers;
pub(crate) use state_cx::{Children, Flow, StateCx};

/// AWS fails an execution whose history would exceed 25,000 events; the same bound guarantees that
/// a loop of Pass and Choice states cannot make one `apply` run forever.
const MAX_HISTORY_EVENTS: u64 = 25_000;

/// The most states one step (a start, or one input applied) may enter, across all its frames: a
/// bound on what one step can cost whatever the definition, far beyond any real step (100,000
/// Distributed Map children of a hundred states each, all at once).
const MAX_ENTRIES_PER_STEP: u64 = 10_000_000;

/// An error raised inside a state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Failure {
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
    /// Raised by a task's own work, so `States.TaskFailed` matches it.
    pub(crate) from_task: bool,
}

impl Failure {
    pub(crate) fn new(error: &str, cause: Option<String>) -> Self {
        Failure { error: Some(error.to_owned()), cause, from_task: false }
    }

    fn is_runtime(&self) -> bool {
        self.error.as_deref() == Some(names::RUNTIME)
    }

    /// Retry/Catch matching with AWS's special names.
    pub(crate) fn matches(&self, names: &[String]) -> bool {
        let error = self.error.as_deref();
        names.iter().any(|n| match n.as_str() {
            names::ALL => !matches!(error, Some(names::RUNTIME | names::DATA_LIMIT_EXCEEDED)),
            names::TASK_FAILED => self.from_task && error != Some(names::TIMEOUT),
            name => error == Some(name),
        })
    }
}

/// What a frame waits for while its current state is blocked.
#[derive(Clone, Debug)]
pub(crate) enum Wait {
    None,
    Task(TaskId),
    Timer(TimerId),
    Backoff(TimerId),
    Children(Box<Children>),
}

/// A JSON document shared, not copied, between a frame and the history events that record it.
///
/// State inputs and outputs are immutable once produced: the same document is a state's
/// `StateEntered` input, its raw input while it runs and (unchanged by Choice, Pass or Succeed)
/// the next state's input. [`Doc::share`] hands out another reference in O(1).
///
/// Deliberately not `Clone`: code written against the old `raw_input: Value` (the JSONata
/// states) calls `.clone()` and expects a `Value`, which auto-deref still gives it.
#[derive(Debug)]
pub(crate) struct Doc(Arc<Value>);

impl Doc {
    /// Another reference to the same document.
    pub(crate) fn share(&self) -> Arc<Value> {
        Arc::clone(&self.0)
    }

    /// The document, for its last reader; `null` is left in its place.
    pub(crate) fn take(&mut self) -> Arc<Value> {
        std::mem::replace(&mut self.0, Arc::new(Value::Null))
    }
}

impl std::ops::Deref for Doc {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.0
    }
}

/// The current state of a frame, between entering and exiting it.
#[derive(Debug)]
pub(crate) struct Active {
    pub(crate) state: usize,
    /// The state's input as it entered, shared with its `StateEntered` event.
    pub(crate) raw_input: Doc,
    /// Input after `InputPath` (and for Map, the items source), kept while blocked.
    pub(crate) effective: Value,
    pub(crate) entered_id: u64,
    pub(crate) entered_at: Timestamp,
    /// Retries used, per retrier.
    pub(crate) attempts: Vec<u64>,
    /// Retries used in total (`$$.State.RetryCount`).
    pub(crate) retry_count: u64,
    pub(crate) task_token: Option<String>,
    /// A child frame failed the state (AWS then records `MapStateFailed` / `ParallelStateFailed`,
    /// which it does not for the state's own runtime errors).
    pub(crate) children_failed: bool,
    pub(crate) wait: Wait,
    /// A Distributed Map whose children have ended waits for its `ResultWriter` (`wait` is the
    /// writing task): what it goes on with once the results are written.
    pub(crate) writing: Option<Box<crate::states::Writing>>,
}

impl Clone for Active {
    fn clone(&self) -> Self {
        Active {
            state: self.state,
            raw_input: Doc(self.raw_input.share()),
            effective: self.effective.clone(),
            entered_id: self.entered_id,
            entered_at: self.entered_at,
            attempts: self.attempts.clone(),
            retry_count: self.retry_count,
            task_token: self.task_token.clone(),
            children_failed: self.children_failed,
            wait: self.wait.clone(),
            writing: self.writing.clone(),
        }
    }
}

#[derive(Clone, Debug)]
enum Cursor {
    Enter { state: usize, input: Arc<Value> },
    Run(Active),
    Blocked(Active),
    Done,
}

/// A thread of control: the top level, one Parallel branch or one Map iteration.
#[derive(Clone, Debug)]
struct Frame {
    parent: Option<(usize, usize)>,
    /// Distributed Map children run as separate executions on AWS: nothing they do appears in
    /// the parent's history.
    silent: bool,
    /// Inside a Distributed Map child whose execution is kept: where its events go.
    child: Option<ChildLine>,
    /// States entered in this frame. A Distributed Map child records no events in the
    /// execution's history, so the history limit cannot end a loop of its states; on AWS such a
    /// child is an execution of its own and meets that limit there: this counts for it.
    entries: u64,
    scope: Scope,
    last_event: u64,
    cursor: Cursor,
}

#[derive(Clone, Copy, Debug)]
enum TimerPurpose {
    State(usize),
    ExecutionTimeout,
}

/// The complete state of one execution: its frames (top level, Parallel branches, Map
/// iterations), pending tasks and timers, retry counters, variables and the next event id.
///
/// Start one with [`Execution::start`], then feed it every [`Input`] with [`Execution::apply`].
/// It never performs I/O or reads a clock: it returns [`Step`]s for a driver to carry out.
#[derive(Clone, Debug)]
pub struct Execution {
    machine: Arc<StateMachine>,
    ctx: ExecutionContext,
    input: Arc<Value>,
    frames: Vec<Option<Frame>>,
    ready: VecDeque<usize>,
    tasks: BTreeMap<TaskId, usize>,
    tokens: BTreeMap<String, TaskId>,
    timers: BTreeMap<TimerId, TimerPurpose>,
    timeout_timer: Option<TimerId>,
    next_event_id: u64,
    next_task_id: u64,
    next_timer_id: u64,
    outcome: Option<ExecutionOutcome>,
    /// The frames that failed or were stopped, where a redrive would resume them.
    unfinished: Leftovers,
    /// Every Distributed Map run so far, in the order they started.
    map_runs: Vec<MapRun>,
    /// The Distributed Map children as executions, when kept
    /// ([`ExecutionContext::child_executions`]).
    children: Option<Vec<ChildExecution>>,
    /// What each step of the data flow made, when kept ([`ExecutionContext::inspect`]).
    inspection: Option<Map<String, Value>>,
}

impl Execution {
    /// Starts an execution: records `ExecutionStarted` and runs until every branch waits for a
    /// task or a timer (or the execution ends).
    pub fn start(
        machine: Arc<StateMachine>,
        input: Value,
        ctx: ExecutionContext,
        now: Timestamp,
        entropy: &mut dyn Entropy,
    ) -> (Execution, Step) {
        let start = machine.start;
        let input = Arc::new(input);
        let children = ctx.child_executions.then(Vec::new);
        let inspection = ctx.inspect.then(Map::new);
        let variables: BTreeMap<String, Value> = ctx.variables.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut exec = Execution {
            machine,
            ctx,
            input: Arc::clone(&input),
            frames: Vec::new(),
            ready: VecDeque::new(),
            tasks: BTreeMap::new(),
            tokens: BTreeMap::new(),
            timers: BTreeMap::new(),
            timeout_timer: None,
            next_event_id: 1,
            next_task_id: 1,
            next_timer_id: 1,
            outcome: None,
            unfinished: Leftovers::default(),
            map_runs: Vec::new(),
            children,
            inspection,
        };
        let mut cx = Cx { exec: &mut exec, now, entropy, out: Step::default() };
        let kind = EventKind::ExecutionStarted {
            input: Arc::clone(&input),
            role_arn: cx.exec.ctx.role_arn.clone(),
            state_machine_arn: cx.exec.ctx.state_machine_arn.clone(),
        };
        cx.push_event(0, kind);
        cx.start_execution_timeout();
        cx.exec.frames.push(Some(Frame {
            parent: None,
            silent: false,
            child: None,
            entries: 0,
            scope: Scope { own: variables, ..Scope::default() },
            last_event: 0,
            cursor: Cursor::Enter { state: start, input },
        }));
        cx.exec.ready.push_back(0);
        cx.run();
        let step = cx.out;
        (exec, step)
    }

    /// Applies one input and runs until every branch is blocked again. Inputs for unknown or
    /// cancelled tasks and timers are ignored, as is everything after the execution ended.
    pub fn apply(&mut self, input: Input, now: Timestamp, entropy: &mut dyn Entropy) -> Step {
        let mut cx = Cx { exec: self, now, entropy, out: Step::default() };
        if matches!(input, Input::Redrive) {
            cx.redrive();
            return cx.out;
        }
        if cx.exec.outcome.is_some() {
            return cx.out;
        }
        match input {
            Input::TaskSucceeded { task_id, output } => cx.task_reply(task_id, TaskReply::Succeeded(output)),
            Input::TaskFailed { task_id, error, cause } => cx.task_reply(task_id, TaskReply::Failed(error, cause)),
            Input::TaskTimedOut { task_id } => cx.task_reply(task_id, TaskReply::TimedOut),
            Input::TaskHeartbeatTimedOut { task_id } => cx.task_reply(task_id, TaskReply::HeartbeatTimedOut),
            Input::TaskSubmitted { task_id, output } => cx.task_submitted(task_id, output),
            Input::TimerFired { timer_id } => cx.timer_fired(timer_id),
            Input::Stop { error, cause } => {
                let last = cx.last_top_event();
                cx.push_event(last, EventKind::ExecutionAborted { error: error.clone(), cause: cause.clone() });
                cx.end(ExecutionOutcome::Aborted { error, cause });
            }
            Input::UpdateMapRun(update) => cx.update_map_run(&update),
            Input::Redrive => {}
        }
        cx.run();
        cx.out
    }

    /// The Distributed Map runs, in the order they started.
    pub fn map_runs(&self) -> &[MapRun] {
        &self.map_runs
    }

    /// What the data flow of the states made of their input, by step, as TestState's DEBUG
    /// inspection level names them; the last state's steps when several ran. `None` unless the
    /// execution was started with [`ExecutionContext::inspect`].
    pub fn inspection(&self) -> Option<&Map<String, Value>> {
        self.inspection.as_ref()
    }

    /// The Distributed Map children as executions, in the order they started; empty unless the
    /// execution was started with [`ExecutionContext::child_executions`].
    pub fn child_executions(&self) -> &[ChildExecution] {
        self.children.as_deref().unwrap_or_default()
    }

    /// How the execution ended, or `None` while it runs.
    pub fn outcome(&self) -> Option<&ExecutionOutcome> {
        self.outcome.as_ref()
    }

    /// The execution's context (ARNs, name, start time).
    pub fn context(&self) -> &ExecutionContext {
        &self.ctx
    }

    /// The compiled state machine this execution runs.
    pub fn machine(&self) -> &Arc<StateMachine> {
        &self.machine
    }

    /// The pending task waiting for `token` (SendTaskSuccess / SendTaskFailure).
    pub fn task_for_token(&self, token: &str) -> Option<TaskId> {
        self.tokens.get(token).copied().filter(|id| self.tasks.contains_key(id))
    }

    /// Tasks currently awaited.
    pub fn pending_tasks(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.tasks.keys().copied()
    }
}

pub(crate) enum TaskReply {
    Succeeded(Arc<Value>),
    Failed(String, Option<String>),
    TimedOut,
    HeartbeatTimedOut,
}

/// One `start` / `apply` in progress: the execution plus the step being built.
pub(crate) struct Cx<'a> {
    exec: &'a mut Execution,
    pub(crate) now: Timestamp,
    pub(crate) entropy: &'a mut dyn Entropy,
    out: Step,
}

impl<'x> Cx<'x> {
    /// Hands the state that `active` is in, in frame `fid`, to `f`.
    fn with_state(&mut self, fid: usize, active: Active, f: impl for<'a> FnOnce(StateCx<'a, 'x>) -> Flow) -> Flow {
        let machine = self.machine();
        match machine.state(active.state) {
            Some(st) => f(StateCx { cx: self, fid, st, active }),
            None => Flow::FailFrame(None, Failure::new(names::RUNTIME, Some("internal: unknown state".into()))),
        }
    }

    pub(crate) fn machine(&self) -> Arc<StateMachine> {
        Arc::clone(&self.exec.machine)
    }

    pub(crate) fn ctx(&self) -> &ExecutionContext {
        &self.exec.ctx
    }

    fn push_event(&mut self, previous: u64, kind: EventKind) -> u64 {
        let id = self.exec.next_event_id;
        self.exec.next_event_id += 1;
        self.out.history.push(HistoryEvent { id, previous_event_id: previous, timestamp: self.now, kind });
        id
    }

    /// Records an event in `fid`'s line of history (nothing for silent frames).
    pub(crate) fn emit(&mut self, fid: usize, kind: EventKind) -> u64 {
        let Some(frame) = self.exec.frames.get(fid).and_then(Option::as_ref) else {
            return 0;
        };
        if frame.silent {
            // What a Distributed Map child does belongs to the child's own history, if kept.
            // The id stays 0 either way: keeping children must change nothing else.
            if frame.child.is_some() {
                self.child_event(fid, kind);
            }
            return 0;
        }
        let prev = frame.last_event;
        let id = self.push_event(prev, kind);
        if let Some(f) = self.exec.frames.get_mut(fid).and_then(Option::as_mut) {
            f.last_event = id;
        }
        id
    }

    pub(crate) fn is_silent(&self, fid: usize) -> bool {
        self.exec.frames.get(fid).and_then(Option::as_ref).is_none_or(|f| f.silent)
    }

    /// Notes what step `name` of a state's data flow made, when the execution keeps that.
    pub(crate) fn inspect(&mut self, name: &str, value: &Value) {
        if let Some(inspection) = self.exec.inspection.as_mut() {
            inspection.insert(name.to_owned(), value.clone());
        }
    }

    pub(crate) fn action(&mut self, action: Action) {
        self.out.actions.push(action);
    }

    fn last_top_event(&self) -> u64 {
        self.exec.frames.first().and_then(Option::as_ref).map_or(self.exec.next_event_id - 1, |f| f.last_event)
    }

    pub(crate) fn new_task_id(&mut self, fid: usize, token: Option<&str>) -> TaskId {
        let id = TaskId(self.exec.next_task_id);
        self.exec.next_task_id += 1;
        self.exec.tasks.insert(id, fid);
        if let Some(t) = token {
            self.exec.tokens.insert(t.to_owned(), id);
        }
        id
    }

    /// Arms the machine's `TimeoutSeconds`, from now.
    fn start_execution_timeout(&mut self) {
        if let Some(secs) = self.exec.machine.timeout_seconds {
            let fire_at = self.now.add_millis(i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000));
            let id = self.start_timer(fire_at, TimerPurpose::ExecutionTimeout);
            self.exec.timeout_timer = Some(id);
        }
    }

    fn start_timer(&mut self, fire_at: Timestamp, purpose: TimerPurpose) -> TimerId {
        let fire_at = self.now.add_millis(self.scaled_millis(fire_at.0.saturating_sub(self.now.0)));
        let id = TimerId(self.exec.next_timer_id);
        self.exec.next_timer_id += 1;
        self.exec.timers.insert(id, purpose);
        self.out.actions.push(Action::StartTimer { timer_id: id, fire_at });
        id
    }

    /// `millis` of waiting, as [`ExecutionContext::wait_time_scale`] has it really take.
    fn scaled_millis(&self, millis: i64) -> i64 {
        let scale = self.exec.ctx.wait_time_scale;
        if scale == 1.0 || millis <= 0 {
            return millis;
        }
        let scaled = millis as f64 * scale.max(0.0);
        if scaled.is_finite() { scaled.round().min(i64::MAX as f64) as i64 } else { i64::MAX / 4 }
    }

    /// A task's `TimeoutSeconds` or `HeartbeatSeconds`, as the driver is to enforce it.
    pub(crate) fn scaled_duration(&self, duration: std::time::Duration) -> std::time::Duration {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        std::time::Duration::from_millis(u64::try_from(self.scaled_millis(millis)).unwrap_or(0))
    }

    pub(crate) fn state_timer(&mut self, fid: usize, fire_at: Timestamp) -> TimerId {
        self.start_timer(fire_at, TimerPurpose::State(fid))
    }

    /// Evaluates with the roots of state `active` in frame `fid`, `$` being `input`.
    pub(crate) fn eval<R>(
        &mut self,
        fid: usize,
        active: &Active,
        input: &Value,
        map_item: Option<(u64, &Value)>,
        f: impl FnOnce(&Env<'_>, &mut dyn Entropy) -> R,
    ) -> R {
        let exec: &Execution = self.exec;
        let empty = Scope::default();
        let scope = exec.frames.get(fid).and_then(Option::as_ref).map_or(&empty, |fr| &fr.scope);
        let name = exec.machine.state(active.state).map_or("", |s| s.name.as_str());
        let source = ContextSource {
            exec: &exec.ctx,
            exec_input: &exec.input,
            state_name: name,
            entered_time: active.entered_at,
            retry_count: active.retry_count,
            map_item,
            task_token: active.task_token.as_deref(),
        };
        let cell = OnceCell::new();
        let env = Env { input, source: &source, context: &cell, scope };
        f(&env, &mut *self.entropy)
    }

    /// The variables frame `fid` can read.
    pub(crate) fn scope(&self, fid: usize) -> Option<&Scope> {
        self.exec.frames.get(fid).and_then(Option::as_ref).map(|f| &f.scope)
    }

    /// Starts a child frame (a Parallel branch or a Map iteration) at `start`.
    pub(crate) fn spawn(
        &mut self,
        parent: usize,
        slot: usize,
        start: usize,
        input: Arc<Value>,
        outer: Arc<BTreeMap<String, Value>>,
        silent: bool,
    ) -> usize {
        let parent_frame = self.exec.frames.get(parent).and_then(Option::as_ref);
        let last_event = parent_frame.map_or(0, |f| f.last_event);
        let child = parent_frame.and_then(|f| f.child);
        let parent_silent = self.is_silent(parent);
        let frame = Frame {
            parent: Some((parent, slot)),
            silent: silent || parent_silent,
            // A new Distributed Map child starts a line of its own (`child_started`).
            child: if silent { None } else { child },
            entries: 0,
            scope: Scope { outer, own: BTreeMap::new() },
            last_event,
            cursor: Cursor::Enter { state: start, input },
        };
        // Slots are never reused, so a stale timer or task id can never reach a newer frame.
        self.exec.frames.push(Some(frame));
        let fid = self.exec.frames.len() - 1;
        self.exec.ready.push_back(fid);
        fid
    }

    fn run(&mut self) {
        let mut entered = 0u64;
        while self.exec.outcome.is_none() {
            let Some(fid) = self.exec.ready.pop_front() else {
                break;
            };
            if self.exec.next_event_id > MAX_HISTORY_EVENTS {
                self.fail_execution(format!(
                    "The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS})."
                ));
                break;
            }
            let Some(frame) = self.exec.frames.get_mut(fid).and_then(Option::as_mut) else {
                continue;
            };
            if matches!(frame.cursor, Cursor::Enter { .. }) {
                frame.entries += 1;
                if frame.entries > MAX_HISTORY_EVENTS {
                    // Only a silent frame gets here: any other met the history limit first.
                    let cause =
                        format!("The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS}).");
                    self.finish_frame(fid, Err(Failure::new(names::RUNTIME, Some(cause))));
                    continue;
                }
            }
            match std::mem::replace(&mut frame.cursor, Cursor::Done) {
                Cursor::Enter { .. } if entered >= MAX_ENTRIES_PER_STEP => {
                    self.fail_execution(format!(
                        "The execution entered {MAX_ENTRIES_PER_STEP} states without waiting for anything: a loop of states that never ends?"
                    ));
                    break;
                }
                Cursor::Enter { state, input } => {
                    entered += 1;
                    self.enter(fid, state, input);
                }
                Cursor::Run(active) => {
                    let flow = self.with_state(fid, active, states::run);
                    self.handle(fid, flow);
                }
                other => frame.cursor = other,
            }
        }
    }

    /// Ends the execution with `States.Runtime` and `cause`: a limit of the service was reached.
    fn fail_execution(&mut self, cause: String) {
        let last = self.last_top_event();
        let (error, cause) = (Some(names::RUNTIME.to_owned()), Some(cause));
        self.push_event(last, EventKind::ExecutionFailed { error: error.clone(), cause: cause.clone() });
        self.end(ExecutionOutcome::Failed { error, cause });
    }

    fn set_cursor(&mut self, fid: usize, cursor: Cursor) {
        if let Some(f) = self.exec.frames.get_mut(fid).and_then(Option::as_mut) {
            f.cursor = cursor;
        }
    }

    fn enter(&mut self, fid: usize, state: usize, input: Arc<Value>) {
        let machine = self.machine();
        let Some(st) = machine.state(state) else {
            return;
        };
        let entered_id = self.emit(
            fid,
            EventKind::StateEntered {
                state_type: StateType::from_name(st.kind.type_name()),
                name: st.name.clone(),
                input: Arc::clone(&input),
            },
        );
        // The first state may start with retries used (TestState's `retrierRetryCount`).
        let first = fid == 0 && self.exec.frames.first().and_then(Option::as_ref).is_some_and(|f| f.entries == 1);
        let retries_used = if first { self.exec.ctx.retries_used } else { 0 };
        let active = Active {
            state,
            raw_input: Doc(input),
            effective: Value::Null,
            entered_id,
            entered_at: self.now,
            attempts: vec![retries_used; st.retry.len()],
            retry_count: retries_used,
            task_token: None,
            children_failed: false,
            wait: Wait::None,
            writing: None,
        };
        self.set_cursor(fid, Cursor::Run(active));
        self.exec.ready.push_back(fid);
    }

    /// Carries out what a state decided.
    pub(crate) fn handle(&mut self, fid: usize, flow: Flow) {
        match flow {
            // An output that is the state's input unchanged was checked when it was made.
            Flow::Exit { active, output, .. }
                if !std::ptr::eq(&*output, &*active.raw_input) && json_len_exceeds(&output, MAX_PAYLOAD_BYTES) =>
            {
                let name = self.machine().state(active.state).map(|st| st.name.clone()).unwrap_or_default();
                let cause = format!(
                    "The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."
                );
                self.fail_state(fid, active, Failure::new(names::DATA_LIMIT_EXCEEDED, Some(cause)));
            }
            Flow::Exit { mut active, output, next, assigned } => {
                // Let go of the input first: a branch's last state shares it with the Parallel or
                // Map that is told of the branch's end within this call, and that state may place
                // its result into it, in place when nothing else holds it.
                drop(active.raw_input.take());
                self.exit_state(fid, &active, output, next, assigned);
            }
            Flow::Block(active) => self.set_cursor(fid, Cursor::Blocked(active)),
            Flow::Fail { active, failure } => self.fail_state(fid, active, failure),
            Flow::FailFrame(active, failure) => {
                if let Some(active) = active {
                    self.set_cursor(fid, Cursor::Blocked(active));
                }
                self.finish_frame(fid, Err(failure));
            }
        }
    }

    fn exit_state(
        &mut self,
        fid: usize,
        active: &Active,
        output: Arc<Value>,
        next: Transition,
        assigned: Option<Map<String, Value>>,
    ) {
        let machine = self.machine();
        let Some(st) = machine.state(active.state) else {
            return;
        };
        if !suppress_exit(&machine, fid, st, self) {
            self.emit(
                fid,
                EventKind::StateExited {
                    state_type: StateType::from_name(st.kind.type_name()),
                    name: st.name.clone(),
                    output: Arc::clone(&output),
                    assigned_variables: assigned.clone(),
                },
            );
        }
        self.forget_unfinished_under(fid);
        if let (Some(vars), Some(frame)) = (assigned, self.exec.frames.get_mut(fid).and_then(Option::as_mut)) {
            frame.scope.own.extend(vars);
        }
        match next {
            Transition::Next(state) => {
                self.set_cursor(fid, Cursor::Enter { state, input: output });
                self.exec.ready.push_back(fid);
            }
            Transition::End => self.finish_frame(fid, Ok(output)),
        }
    }

    /// Retry, then Catch, then propagate.
    fn fail_state(&mut self, fid: usize, mut active: Active, failure: Failure) {
        let machine = self.machine();
        let Some(st) = machine.state(active.state) else {
            return;
        };
        if !failure.is_runtime()
            && let Some(i) = st.retry.iter().position(|r| failure.matches(&r.errors))
        {
            let (r, used) = (&st.retry[i], active.attempts.get(i).copied().unwrap_or(0));
            if used < r.max_attempts {
                let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(used.min(1000) as i32) * 1000.0;
                if let Some(max) = r.max_delay_seconds {
                    delay = delay.min(max as f64 * 1000.0);
                }
                let mut delay_ms = if delay.is_finite() { delay.min(1.0e15) as i64 } else { i64::MAX / 4 };
                if r.full_jitter {
                    delay_ms = entropy::below(self.entropy, delay_ms.max(0) as u64 + 1) as i64;
                }
                if let Some(a) = active.attempts.get_mut(i) {
                    *a += 1;
                }
                active.retry_count += 1;
                active.children_failed = false;
                self.forget_unfinished_under(fid);
                let timer = self.state_timer(fid, self.now.add_millis(delay_ms));
                active.wait = Wait::Backoff(timer);
                self.set_cursor(fid, Cursor::Blocked(active));
                return;
            }
        }
        if (active.children_failed || !failure.is_runtime())
            && let Some(event) = st.kind.failed_event()
        {
            self.emit(fid, event);
        }
        if !failure.is_runtime()
            && let Some(catcher) = st.catch.iter().find(|c| failure.matches(&c.errors))
        {
            let mut error_output = Map::new();
            error_output.insert("Error".into(), failure.error.clone().map_or(Value::Null, Value::String));
            if let Some(c) = &failure.cause {
                error_output.insert("Cause".into(), Value::String(c.clone()));
            }
            let error_output = Value::Object(error_output);
            self.forget_unfinished_under(fid);
            let flow = self.with_state(fid, active, |sc| sc.catch_output(catcher, &error_output));
            self.handle(fid, flow);
            return;
        }
        // Kept as the frame's last cursor, for a redrive to resume from.
        self.set_cursor(fid, Cursor::Blocked(active));
        self.finish_frame(fid, Err(failure));
    }

    /// A retry back-off elapsed, a Wait finished, or the execution timed out.
    fn timer_fired(&mut self, timer_id: TimerId) {
        let Some(purpose) = self.exec.timers.remove(&timer_id) else {
            return;
        };
        match purpose {
            TimerPurpose::ExecutionTimeout => {
                let last = self.last_top_event();
                self.push_event(
                    last,
                    EventKind::ExecutionTimedOut {
                        error: Some(names::TIMEOUT.into()),
                        cause: Some("The execution exceeded its TimeoutSeconds.".into()),
                    },
                );
                self.end(ExecutionOutcome::TimedOut);
            }
            TimerPurpose::State(fid) => {
                let Some(frame) = self.exec.frames.get_mut(fid).and_then(Option::as_mut) else {
                    return;
                };
                let Cursor::Blocked(mut active) = std::mem::replace(&mut frame.cursor, Cursor::Done) else {
                    return;
                };
                match std::mem::replace(&mut active.wait, Wait::None) {
                    Wait::Backoff(t) if t == timer_id => {
                        // Re-run the state's work without a new Entered event.
                        self.set_cursor(fid, Cursor::Run(active));
                        self.exec.ready.push_back(fid);
                    }
                    Wait::Timer(t) if t == timer_id => {
                        let flow = self.with_state(fid, active, states::on_timer);
                        self.handle(fid, flow);
                    }
                    other => {
                        active.wait = other;
                        self.set_cursor(fid, Cursor::Blocked(active));
                    }
                }
            }
        }
    }

    fn task_submitted(&mut self, task_id: TaskId, output: Value) {
        let Some(&fid) = self.exec.tasks.get(&task_id) else {
            return;
        };
        let Some(frame) = self.exec.frames.get_mut(fid).and_then(Option::as_mut) else {
            return;
        };
        let Cursor::Blocked(active) = std::mem::replace(&mut frame.cursor, Cursor::Done) else {
            return;
        };
        if !matches!(active.wait, Wait::Task(t) if t == task_id) {
            self.set_cursor(fid, Cursor::Blocked(active));
            return;
        }
        let flow = self.with_state(fid, active, |sc| states::on_task_submitted(sc, output));
        self.handle(fid, flow);
    }

    fn task_reply(&mut self, task_id: TaskId, reply: TaskReply) {
        let Some(fid) = self.exec.tasks.remove(&task_id) else {
            return;
        };
        self.exec.tokens.retain(|_, id| *id != task_id);
        let Some(frame) = self.exec.frames.get_mut(fid).and_then(Option::as_mut) else {
            return;
        };
        let Cursor::Blocked(active) = std::mem::replace(&mut frame.cursor, Cursor::Done) else {
            return;
        };
        if !matches!(active.wait, Wait::Task(t) if t == task_id) {
            self.set_cursor(fid, Cursor::Blocked(active));
            return;
        }
        let flow = self.with_state(fid, active, |sc| states::on_task_reply(sc, reply));
        self.handle(fid, flow);
    }

    /// A frame reached its end (or failed): report to its parent or end the execution.
    fn finish_frame(&mut self, fid: usize, result: Result<Arc<Value>, Failure>) {
        let Some(frame) = self.exec.frames.get_mut(fid).and_then(Option::take) else {
            return;
        };
        let (parent, silent, last_event) = (frame.parent, frame.silent, frame.last_event);
        if frame.child.is_some() {
            self.child_ended(fid, &frame, Some(&result));
            if let Some((pfid, _)) = parent {
                self.child_frame_finished(&frame, pfid);
            }
        }
        if result.is_err() {
            self.keep_unfinished(fid, frame);
        }
        match parent {
            None => {
                let last = last_event;
                match result {
                    Ok(output) => {
                        self.push_event(last, EventKind::ExecutionSucceeded { output: Arc::clone(&output) });
                        self.end(ExecutionOutcome::Succeeded(Arc::unwrap_or_clone(output)));
                    }
                    Err(f) => {
                        self.push_event(
                            last,
                            EventKind::ExecutionFailed { error: f.error.clone(), cause: f.cause.clone() },
                        );
                        self.end(ExecutionOutcome::Failed { error: f.error, cause: f.cause });
                    }
                }
            }
            Some((pfid, slot)) => {
                let Some(parent) = self.exec.frames.get_mut(pfid).and_then(Option::as_mut) else {
                    return;
                };
                if !silent {
                    parent.last_event = parent.last_event.max(last_event);
                }
                let Cursor::Blocked(active) = std::mem::replace(&mut parent.cursor, Cursor::Done) else {
                    return;
                };
                let result = result.map(Arc::unwrap_or_clone);
                let flow = self.with_state(pfid, active, |sc| states::on_child(sc, slot, fid, result));
                self.handle(pfid, flow);
            }
        }
    }

    fn end(&mut self, outcome: ExecutionOutcome) {
        let frames: Vec<usize> = (0..self.exec.frames.len()).collect();
        for fid in frames {
            self.abort_frame(fid);
        }
        if let Some(t) = self.exec.timeout_timer.take()
            && self.exec.timers.remove(&t).is_some()
        {
            self.out.actions.push(Action::CancelTimer { timer_id: t });
        }
        self.exec.ready.clear();
        if matches!(outcome, ExecutionOutcome::Succeeded(_)) {
            self.exec.unfinished.clear();
        }
        self.out.actions.push(Action::Complete(outcome.clone()));
        self.exec.outcome = Some(outcome);
    }
}

/// AWS records no `ParallelStateExited` for a Parallel state that ends a branch of another
/// Parallel state (recorded: nested Parallel states show a single `ParallelStateExited`).
fn suppress_exit(machine: &StateMachine, fid: usize, st: &State, cx: &Cx<'_>) -> bool {
    if !matches!(st.kind, Kind::Parallel(_)) || st.next != Transition::End {
        return false;
    }
    let Some((pfid, _)) = cx.exec.frames.get(fid).and_then(Option::as_ref).and_then(|f| f.parent) else {
        return false;
    };
    match cx.exec.frames.get(pfid).and_then(Option::as_ref).map(|f| &f.cursor) {
        Some(Cursor::Blocked(a)) | Some(Cursor::Run(a)) => {
            machine.state(a.state).is_some_and(|p| matches!(p.kind, Kind::Parallel(_)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod send_sync {
    /// The driver moves executions and machines across tokio tasks.
    #[test]
    fn core_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Execution>();
        check::<crate::StateMachine>();
        check::<super::Step>();
    }
}
