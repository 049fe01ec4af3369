use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use stepwasm_asl::{TaskCallContext, TaskId, TaskResource};
use stepwasm_runtime::{FailureKind, Invocation, InvocationReport, Runtime};

/// One Task-state attempt, as the engine hands it to a [`TaskInvoker`].
#[derive(Debug, Clone)]
pub struct TaskCall {
    /// Which task of its execution this is: unique within the execution, across retries and
    /// redrives, and the same when a resumed execution asks again.
    pub task_id: TaskId,
    /// The state's `Resource`, parsed.
    pub resource: TaskResource,
    /// The effective input (after `InputPath` and `Parameters`); for `lambda:invoke`, the
    /// `Payload`. Shared with the execution's history, so it is serialised, never copied.
    pub payload: Arc<Value>,
    /// `payload` as JSON text, when the engine has serialised it already: it does so once for
    /// a function task, for the journal and the function alike.
    pub payload_text: Option<Arc<str>>,
    /// The Task's `TimeoutSeconds`, if any.
    pub timeout: Option<Duration>,
    /// The execution, state and attempt the call belongs to.
    pub context: TaskCallContext,
}

/// How a task attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// The function's result.
    Succeeded(Value),
    /// A named failure, matched by `Retry` and `Catch`.
    Failed {
        /// The error name.
        error: String,
        /// The explanation.
        cause: Option<String>,
    },
    /// The attempt ran out of time (`States.Timeout`).
    TimedOut,
}

/// What is known about one invocation besides its outcome, for histories and the console.
#[derive(Debug, Clone)]
pub struct InvocationRecord {
    /// The Task state's name.
    pub state_name: String,
    /// The attempt number, from 1.
    pub attempt: u64,
    /// The function that ran, if one did.
    pub function: Option<String>,
    /// When the attempt started and ended, on the process's monotonic clock.
    pub started: Instant,
    /// See `started`.
    pub finished: Instant,
    /// Fuel the guest consumed.
    pub fuel_consumed: u64,
    /// The guest's log lines, as `LEVEL message`.
    pub logs: Vec<String>,
    /// For an HTTP Task, the request sent and the response read, as TestState shows them at
    /// `TRACE` (`{"request": {…}, "response": {…}}`, credentials masked).
    pub http_exchange: Option<serde_json::Value>,
}

impl InvocationRecord {
    /// The record of an attempt of `call` that ran no function (an HTTP request, say), started
    /// at `started` and ending now.
    pub fn without_function(call: &TaskCall, started: Instant, http_exchange: Option<serde_json::Value>) -> Self {
        InvocationRecord {
            state_name: call.context.state_name.clone(),
            attempt: call.context.attempt.saturating_add(1),
            function: None,
            started,
            finished: Instant::now(),
            fuel_consumed: 0,
            logs: Vec::new(),
            http_exchange,
        }
    }
}

/// A boxed future, so [`TaskInvoker`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Carries out Task states. The engine depends on this trait only, so it can be driven by the
/// Wasm runtime in production and by plain closures in tests.
pub trait TaskInvoker: Send + Sync {
    /// Runs one attempt.
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)>;

    /// The execution no longer wants task `task_id`'s result: it was stopped, or the task's
    /// branch failed. The attempt's future is dropped as well; this is for work that outlives
    /// it, such as a child execution. Not called when a node merely lets an execution go.
    fn cancel(&self, execution_arn: &str, task_id: TaskId) {
        let _ = (execution_arn, task_id);
    }
}

/// Runs Task states as Wasm task functions registered in a [`Runtime`].
///
/// Resources resolve by function name, so AWS definitions run unchanged:
///
/// | `Resource` | function |
/// |---|---|
/// | `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` | `NAME` |
/// | `arn:aws:states:::lambda:invoke` with `Parameters.FunctionName` | the name, or the name inside a function ARN |
/// | `wasm:NAME` (stepwasm's short form) | `NAME` |
///
/// A name with no registered function fails the way AWS fails for a missing Lambda function:
/// `Lambda.ResourceNotFoundException`.
#[derive(Clone)]
pub struct WasmTasks {
    runtime: Runtime,
}

impl WasmTasks {
    /// Invokes functions registered in `runtime`.
    pub fn new(runtime: Runtime) -> Self {
        Self { runtime }
    }
}

impl TaskInvoker for WasmTasks {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        Box::pin(async move {
            let started = Instant::now();
            let name = match function_name(&call.resource) {
                Ok(name) => name,
                Err(failure) => return (failure, None),
            };
            let Some(function) = self.runtime.function(&name) else {
                return (not_found(&name), None);
            };
            let mut invocation = match &call.payload_text {
                Some(text) => Invocation::from_json_text(text.to_string()),
                None => Invocation::new(&call.payload),
            };
            invocation.execution_id.clone_from(&call.context.execution_arn);
            invocation.state_name.clone_from(&call.context.state_name);
            // The interpreter counts retries from 0; the task contract counts attempts from 1.
            invocation.attempt = u32::try_from(call.context.attempt.saturating_add(1)).unwrap_or(u32::MAX);
            invocation.timeout = call.timeout;
            let report = match function.invoke(invocation).await {
                Ok(report) => report,
                Err(error) => {
                    let failure =
                        TaskOutcome::Failed { error: "Lambda.ServiceException".into(), cause: Some(error.to_string()) };
                    return (failure, None);
                }
            };
            let record = record(&call, &name, started, &report);
            let outcome = match report.outcome {
                Ok(output) => TaskOutcome::Succeeded(output),
                Err(failure) if matches!(failure.kind, FailureKind::Timeout(_)) => TaskOutcome::TimedOut,
                Err(failure) => TaskOutcome::Failed { error: failure.error, cause: Some(failure.cause) },
            };
            crate::metrics::global().task_invoked(
                &name,
                outcome_label(&outcome),
                report.duration,
                report.fuel_consumed,
            );
            (outcome, Some(record))
        })
    }
}

/// How an attempt ended, as the metrics label it.
pub(crate) fn outcome_label(outcome: &TaskOutcome) -> &'static str {
    match outcome {
        TaskOutcome::Succeeded(_) => "succeeded",
        TaskOutcome::Failed { .. } => "failed",
        TaskOutcome::TimedOut => "timed_out",
    }
}

fn record(call: &TaskCall, function: &str, started: Instant, report: &InvocationReport) -> InvocationRecord {
    InvocationRecord {
        state_name: call.context.state_name.clone(),
        attempt: call.context.attempt.saturating_add(1),
        function: Some(function.to_owned()),
        started,
        finished: Instant::now(),
        fuel_consumed: report.fuel_consumed,
        logs: report.logs.iter().map(|line| format!("{:?} {}", line.level, line.message)).collect(),
        http_exchange: None,
    }
}

/// The function a resource names.
pub(crate) fn function_name(resource: &TaskResource) -> Result<String, TaskOutcome> {
    match resource {
        TaskResource::Lambda { function, .. } | TaskResource::LambdaInvoke { function, .. } => {
            Ok(lambda_function_name(function))
        }
        TaskResource::Wasm { name } => Ok(name.clone()),
        TaskResource::Activity { arn } => Err(TaskOutcome::Failed {
            error: stepwasm_asl::names::TASK_FAILED.into(),
            cause: Some(format!("Activity tasks need a worker polling through the API server ({arn})")),
        }),
        TaskResource::ItemReader { arn } => Err(TaskOutcome::Failed {
            error: stepwasm_asl::names::ITEM_READER_FAILED.into(),
            cause: Some(format!("No buckets are configured here to read items from ({arn})")),
        }),
        TaskResource::ResultWriter { arn } => Err(TaskOutcome::Failed {
            error: stepwasm_asl::names::RESULT_WRITER_FAILED.into(),
            cause: Some(format!("No buckets are configured here to write results to ({arn})")),
        }),
        TaskResource::Other(resource) => Err(TaskOutcome::Failed {
            error: stepwasm_asl::names::TASK_FAILED.into(),
            cause: Some(format!("stepwasm does not support the resource {resource}")),
        }),
    }
}

/// `NAME`, `NAME:QUALIFIER`, `ACCOUNT:function:NAME` and full function ARNs all name `NAME`.
fn lambda_function_name(reference: &str) -> String {
    let after_function = reference.rsplit_once(":function:").map_or(reference, |(_, rest)| rest);
    after_function.split(':').next().unwrap_or(after_function).to_owned()
}

fn not_found(name: &str) -> TaskOutcome {
    TaskOutcome::Failed {
        error: "Lambda.ResourceNotFoundException".into(),
        cause: Some(format!(
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name} \
             (Service: Lambda, Status Code: 404, Error Code: ResourceNotFoundException)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_references_resolve_to_the_function_name() {
        for reference in [
            "place-order",
            "place-order:live",
            "123456789012:function:place-order",
            "arn:aws:lambda:us-east-1:123456789012:function:place-order",
            "arn:aws:lambda:us-east-1:123456789012:function:place-order:7",
        ] {
            assert_eq!(lambda_function_name(reference), "place-order", "{reference}");
        }
    }
}
