//! The types a driver exchanges with an [`Execution`](super::Execution).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::history::HistoryEvent;
use crate::resource::TaskResource;
use crate::timestamp::Timestamp;

/// Who and what an execution is: the data behind `$$.Execution` and `$$.StateMachine`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionContext {
    /// `$$.Execution.Id`.
    pub execution_arn: String,
    /// `$$.Execution.Name`.
    pub execution_name: String,
    /// `$$.StateMachine.Id`.
    pub state_machine_arn: String,
    /// `$$.StateMachine.Name`.
    pub state_machine_name: String,
    /// `$$.Execution.RoleArn`.
    pub role_arn: String,
    /// `$$.Execution.StartTime`.
    pub start_time: Timestamp,
    /// Region reported in `TaskScheduled` events.
    pub region: String,
    /// `$$.Execution.RedriveCount`: how many times the execution was redriven.
    pub redrive_count: u32,
    /// `$$.Execution.RedriveTime`: when it was last redriven.
    pub redrive_time: Option<Timestamp>,
    /// Keep each Distributed Map child as an execution of its own, with its history
    /// ([`Execution::child_executions`](super::Execution::child_executions)), to inspect them.
    /// It changes nothing the execution does; drivers leave it off, since it costs memory.
    pub child_executions: bool,
    /// How long waits really take, as a fraction of what the definition says: 1 (the default)
    /// as written, 0.1 ten times faster, 0 at once. It scales Wait states, retry back-offs, the
    /// machine's `TimeoutSeconds` and the timeouts and heartbeats the driver is asked to enforce,
    /// for tests that must not sleep; the history records the times things really happened.
    pub wait_time_scale: f64,
    /// Keep what each step of a state's data flow made of its input (`afterInputPath`,
    /// `afterParameters` or `afterArguments`, `result`, `afterResultSelector`, `afterResultPath`),
    /// as TestState's DEBUG inspection level shows it ([`Execution::inspection`](super::Execution::inspection)).
    pub inspect: bool,
    /// The workflow variables the execution starts with (TestState's `variables`).
    pub variables: serde_json::Map<String, Value>,
    /// The retries the first state has used already, by each of its retriers (TestState's
    /// `retrierRetryCount`): its next failure is retried only if that leaves some.
    pub retries_used: u64,
}

impl ExecutionContext {
    /// A context with AWS-shaped ARNs in region `us-east-1`, account `000000000000`.
    pub fn new(state_machine_name: &str, execution_name: &str, start_time: Timestamp) -> Self {
        let prefix = "arn:aws:states:us-east-1:000000000000";
        ExecutionContext {
            execution_arn: format!("{prefix}:execution:{state_machine_name}:{execution_name}"),
            execution_name: execution_name.to_owned(),
            state_machine_arn: format!("{prefix}:stateMachine:{state_machine_name}"),
            state_machine_name: state_machine_name.to_owned(),
            role_arn: "arn:aws:iam::000000000000:role/stepwasm".to_owned(),
            start_time,
            region: "us-east-1".to_owned(),
            redrive_count: 0,
            redrive_time: None,
            child_executions: false,
            wait_time_scale: 1.0,
            inspect: false,
            variables: serde_json::Map::new(),
            retries_used: 0,
        }
    }
}

/// Identifies one task invocation within an execution (a retry is a new invocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub u64);

/// Identifies one timer within an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// Where an invocation comes from, for logs, tokens and the function's own context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskCallContext {
    /// The Task state's name.
    pub state_name: String,
    /// The Task state's qualified id (`Parallel/0/Charge`).
    pub state_id: String,
    /// 0 for the first attempt, then 1, 2, … for retries.
    pub attempt: u64,
    /// The execution's ARN.
    pub execution_arn: String,
    /// For `.waitForTaskToken` resources: the token the worker must send back.
    pub task_token: Option<String>,
}

/// Something the driver must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Run a task and report its result with [`Input::TaskSucceeded`], [`Input::TaskFailed`] or
    /// [`Input::TaskTimedOut`]. The driver enforces `timeout` and `heartbeat`
    /// ([`Input::TaskHeartbeatTimedOut`]).
    InvokeTask {
        /// Echo this in the reply.
        task_id: TaskId,
        /// What to run (for `lambda:invoke`, the resolved `FunctionName`).
        resource: TaskResource,
        /// The function's input. Shared with the `TaskScheduled` event that records it: serialise
        /// it for the function, there is no need to copy it.
        payload: Arc<Value>,
        /// `TimeoutSeconds`.
        timeout: Option<Duration>,
        /// `HeartbeatSeconds`.
        heartbeat: Option<Duration>,
        /// Which state asks, and the task token if any.
        context: TaskCallContext,
    },
    /// Deliver [`Input::TimerFired`] at `fire_at` (at once if it is in the past).
    StartTimer {
        /// Echo this in [`Input::TimerFired`].
        timer_id: TimerId,
        /// When to fire.
        fire_at: Timestamp,
    },
    /// The task's result is no longer wanted (its branch failed or the execution ended).
    CancelTask {
        /// The task to cancel.
        task_id: TaskId,
    },
    /// The timer is no longer wanted.
    CancelTimer {
        /// The timer to cancel.
        timer_id: TimerId,
    },
    /// The execution is over; no further inputs will be accepted.
    Complete(ExecutionOutcome),
}

/// How an execution ended.
#[derive(Clone, Debug, PartialEq)]
pub enum ExecutionOutcome {
    /// `SUCCEEDED` with this output.
    Succeeded(Value),
    /// `FAILED`; either may be null (a Fail state without `Error`).
    Failed {
        /// Error name.
        error: Option<String>,
        /// Human-readable cause.
        cause: Option<String>,
    },
    /// `TIMED_OUT`: the machine-level `TimeoutSeconds` elapsed.
    TimedOut,
    /// `ABORTED` by [`Input::Stop`].
    Aborted {
        /// Error given to StopExecution.
        error: Option<String>,
        /// Cause given to StopExecution.
        cause: Option<String>,
    },
}

impl ExecutionOutcome {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub fn status(&self) -> &'static str {
        match self {
            ExecutionOutcome::Succeeded(_) => "SUCCEEDED",
            ExecutionOutcome::Failed { .. } => "FAILED",
            ExecutionOutcome::TimedOut => "TIMED_OUT",
            ExecutionOutcome::Aborted { .. } => "ABORTED",
        }
    }
}

/// Something that happened outside the interpreter.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// The task returned `output` (for `lambda:invoke`, the function's own return value: the
    /// interpreter wraps it in the Lambda Invoke response shape).
    TaskSucceeded {
        /// From [`Action::InvokeTask`].
        task_id: TaskId,
        /// The task's result.
        output: Arc<Value>,
    },
    /// The task failed with an error name (e.g. the exception type) and cause.
    TaskFailed {
        /// From [`Action::InvokeTask`].
        task_id: TaskId,
        /// Error name, matched by Retry/Catch `ErrorEquals`.
        error: String,
        /// Human-readable cause.
        cause: Option<String>,
    },
    /// The task exceeded its `TimeoutSeconds` (error `States.Timeout`).
    TaskTimedOut {
        /// From [`Action::InvokeTask`].
        task_id: TaskId,
    },
    /// The task's worker sent no heartbeat within its `HeartbeatSeconds` (error
    /// `States.HeartbeatTimeout`).
    TaskHeartbeatTimedOut {
        /// From [`Action::InvokeTask`].
        task_id: TaskId,
    },
    /// The call of a `.waitForTaskToken` service integration (`lambda:invoke.waitForTaskToken`)
    /// returned `output`: recorded as `TaskSubmitted`, and the task goes on waiting for its token.
    /// Journaled, so that a resume knows the call was made and does not make it again.
    TaskSubmitted {
        /// From [`Action::InvokeTask`].
        task_id: TaskId,
        /// What the call returned.
        output: Value,
    },
    /// A timer from [`Action::StartTimer`] fired.
    TimerFired {
        /// From [`Action::StartTimer`].
        timer_id: TimerId,
    },
    /// StopExecution.
    Stop {
        /// Optional error name.
        error: Option<String>,
        /// Optional cause.
        cause: Option<String>,
    },
    /// UpdateMapRun: a running Distributed Map takes new limits; each one given replaces the
    /// definition's. Ignored unless the Map Run is running.
    UpdateMapRun(MapRunUpdate),
    /// RedriveExecution: an execution that failed, timed out or was stopped runs again from the
    /// states that did not succeed (see [`Execution::redrivable`](super::Execution::redrivable)).
    /// Ignored while the execution runs or after it succeeded.
    Redrive,
}

/// New limits for a running Map Run ([`Input::UpdateMapRun`]).
#[derive(Clone, Debug, PartialEq)]
pub struct MapRunUpdate {
    /// The Map Run, as `MapRunStarted` names it.
    pub map_run_arn: String,
    /// Children running at once (0: no limit). More start at once if it grew.
    pub max_concurrency: Option<u64>,
    /// Failed children tolerated, from the next failure on.
    pub tolerated_failure_count: Option<u64>,
    /// Percentage of failed children tolerated, from the next failure on.
    pub tolerated_failure_percentage: Option<f64>,
}

/// The result of starting an execution or applying one input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Step {
    /// New history events, in order.
    pub history: Vec<HistoryEvent>,
    /// What the driver must do, in order.
    pub actions: Vec<Action>,
}
