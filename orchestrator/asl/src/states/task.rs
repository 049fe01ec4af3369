//! Task: asks the driver to run a unit of work and waits for its reply.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Flow, effective_input, finish_result, runtime};
use crate::entropy;
use crate::execution::{Action, Active, Cx, Failure, TaskCallContext, TaskReply, Wait};
use crate::history::{EventKind, TaskFamily};
use crate::ir::{NumSource, State, TaskSpec};

/// AWS's payload limit for a task result (256 KiB).
const MAX_RESULT_BYTES: usize = 256 * 1024;

/// What a Task state runs, parsed from its `Resource`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskResource {
    /// A plain Lambda function ARN, `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:alias]`.
    /// Produces `LambdaFunction*` events; the payload is the effective input.
    Lambda {
        /// The full ARN, as written.
        arn: String,
        /// `NAME` or `NAME:alias`.
        function: String,
    },
    /// `arn:aws:states:::lambda:invoke` (optionally `.waitForTaskToken`). The function comes from
    /// `Parameters.FunctionName` (a name or ARN, reduced to the name) and the payload from
    /// `Parameters.Payload`; the result is wrapped like Lambda's Invoke response
    /// (`{"Payload": …, "StatusCode": 200, …}`) unless the task waits for a token.
    LambdaInvoke {
        /// The function name; empty in the compiled machine, filled in when invoked.
        function: String,
        /// Whether the task completes only when its task token is sent back.
        wait_for_task_token: bool,
    },
    /// An activity, `arn:aws:states:REGION:ACCOUNT:activity:NAME`; produces `Activity*` events.
    Activity {
        /// The activity ARN.
        arn: String,
    },
    /// stepwasm's native form `wasm:NAME`: runs the Wasm function `NAME` directly, with the same
    /// semantics and events as a plain Lambda ARN.
    Wasm {
        /// The function name.
        name: String,
    },
    /// Any other service integration (`arn:aws:states:::sqs:sendMessage`, …), passed to the driver
    /// as written; produces `Task*` events.
    Other(String),
}

impl TaskResource {
    /// Parses a `Resource` string.
    pub fn parse(resource: &str) -> Result<TaskResource, String> {
        if let Some(name) = resource.strip_prefix("wasm:") {
            if name.is_empty() {
                return Err("The resource 'wasm:' must name a function (wasm:NAME)".into());
            }
            return Ok(TaskResource::Wasm { name: name.to_owned() });
        }
        let parts: Vec<&str> = resource.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", _, _, "function", name @ ..] if !name.is_empty() && !name[0].is_empty() => {
                Ok(TaskResource::Lambda { arn: resource.to_owned(), function: name.join(":") })
            }
            ["arn", _, "states", _, _, "activity", name] if !name.is_empty() => {
                Ok(TaskResource::Activity { arn: resource.to_owned() })
            }
            ["arn", _, "states", "", "", "lambda", action] if action.starts_with("invoke") => {
                Ok(TaskResource::LambdaInvoke {
                    function: String::new(),
                    wait_for_task_token: action.ends_with(".waitForTaskToken"),
                })
            }
            ["arn", _, _, ..] if parts.len() >= 6 => Ok(TaskResource::Other(resource.to_owned())),
            _ => Err(format!("Invalid resource '{resource}': expected an ARN or wasm:NAME")),
        }
    }

    fn family(&self) -> TaskFamily {
        match self {
            TaskResource::Lambda { .. } | TaskResource::Wasm { .. } => TaskFamily::Lambda,
            TaskResource::Activity { .. } => TaskFamily::Activity,
            TaskResource::LambdaInvoke { .. } | TaskResource::Other(_) => TaskFamily::Service,
        }
    }

    /// (resourceType, resource) as `TaskScheduled` reports them, or the ARN for other families.
    fn names(&self) -> (String, String) {
        match self {
            TaskResource::Lambda { arn, .. } | TaskResource::Activity { arn } => (String::new(), arn.clone()),
            TaskResource::Wasm { name } => (String::new(), format!("wasm:{name}")),
            TaskResource::LambdaInvoke { wait_for_task_token, .. } => {
                ("lambda".into(), if *wait_for_task_token { "invoke.waitForTaskToken".into() } else { "invoke".into() })
            }
            TaskResource::Other(arn) => {
                let parts: Vec<&str> = arn.splitn(7, ':').collect();
                (
                    parts.get(5).copied().unwrap_or_default().to_owned(),
                    parts.get(6).copied().unwrap_or_default().to_owned(),
                )
            }
        }
    }

    fn uses_token(&self) -> bool {
        match self {
            TaskResource::LambdaInvoke { wait_for_task_token, .. } => *wait_for_task_token,
            TaskResource::Activity { .. } => true,
            TaskResource::Other(arn) => arn.ends_with(".waitForTaskToken"),
            _ => false,
        }
    }
}

/// The resource as an ARN (or `wasm:NAME`). `lambda:invoke` is shown in the `aws` partition, since
/// the parsed form does not keep the partition it was written with.
impl std::fmt::Display for TaskResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskResource::Lambda { arn, .. } | TaskResource::Activity { arn } | TaskResource::Other(arn) => {
                f.write_str(arn)
            }
            TaskResource::Wasm { name } => write!(f, "wasm:{name}"),
            TaskResource::LambdaInvoke { wait_for_task_token, .. } => {
                let suffix = if *wait_for_task_token { ".waitForTaskToken" } else { "" };
                write!(f, "arn:aws:states:::lambda:invoke{suffix}")
            }
        }
    }
}

/// Reduces a `FunctionName` (name, partial or full ARN) to `NAME[:alias]`.
fn function_name(v: &str) -> String {
    match v.split_once(":function:") {
        Some((_, name)) => name.to_owned(),
        None => v.to_owned(),
    }
}

fn seconds(
    cx: &mut Cx<'_>,
    fid: usize,
    active: &Active,
    st: &State,
    source: Option<&NumSource>,
    field: &str,
    input: &Value,
) -> Result<Option<u64>, Failure> {
    let v = match source {
        None => return Ok(None),
        Some(NumSource::Fixed(v)) => v.clone(),
        Some(NumSource::Path(p)) => {
            cx.eval(fid, active, input, None, |env, _| p.eval(env)).map_err(|d| runtime(st, active, &d))?
        }
        Some(NumSource::Jsonata(_)) => {
            return Err(runtime(st, active, "JSONata values cannot be used in a JSONPath state"));
        }
    };
    match v.as_u64() {
        Some(n) if n > 0 => Ok(Some(n)),
        _ => {
            Err(runtime(st, active, &format!("The {field} field refers to value {v} which is not a positive integer")))
        }
    }
}

pub(crate) fn run(cx: &mut Cx<'_>, fid: usize, mut active: Active, st: &State, spec: &TaskSpec) -> Flow {
    let effective = match effective_input(cx, fid, &active, st) {
        Ok(v) => v,
        Err(failure) => return Flow::Fail { active, failure },
    };
    if spec.resource.uses_token() && active.task_token.is_none() {
        active.task_token =
            Some(format!("{}{}", entropy::uuid_v4(cx.entropy), entropy::uuid_v4(cx.entropy)).replace('-', ""));
    }
    let params = match &st.parameters {
        Some(t) => match cx.eval(fid, &active, &effective, None, |env, e| t.eval(env, e)) {
            Ok(v) => Arc::new(v),
            Err(d) => {
                return Flow::Fail { failure: runtime(st, &active, &d), active };
            }
        },
        None => Arc::clone(&effective),
    };
    let timeout = seconds(cx, fid, &active, st, spec.timeout.as_ref(), "TimeoutSecondsPath", &effective);
    let heartbeat = seconds(cx, fid, &active, st, spec.heartbeat.as_ref(), "HeartbeatSecondsPath", &effective);
    match (timeout, heartbeat) {
        (Ok(t), Ok(h)) => invoke_shared(cx, fid, active, st, spec, params, t, h),
        (Err(failure), _) | (_, Err(failure)) => Flow::Fail { active, failure },
    }
}

/// Records the scheduling events and asks the driver to run the task with `params`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn invoke(
    cx: &mut Cx<'_>,
    fid: usize,
    active: Active,
    st: &State,
    spec: &TaskSpec,
    params: Value,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
) -> Flow {
    invoke_shared(cx, fid, active, st, spec, Arc::new(params), timeout, heartbeat)
}

/// [`invoke`] with parameters that may be shared with the state's input.
#[allow(clippy::too_many_arguments)]
fn invoke_shared(
    cx: &mut Cx<'_>,
    fid: usize,
    mut active: Active,
    st: &State,
    spec: &TaskSpec,
    params: Arc<Value>,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
) -> Flow {
    let family = spec.resource.family();
    let (resource_type, resource_name) = spec.resource.names();
    let (resource, payload) = match &spec.resource {
        TaskResource::LambdaInvoke { wait_for_task_token, .. } => {
            let Some(function) = params.get("FunctionName").and_then(Value::as_str) else {
                return Flow::Fail {
                    failure: runtime(
                        st,
                        &active,
                        "The Parameters of a lambda:invoke task need a string 'FunctionName'",
                    ),
                    active,
                };
            };
            let payload = Arc::new(params.get("Payload").cloned().unwrap_or_else(|| json!({})));
            (
                TaskResource::LambdaInvoke {
                    function: function_name(function),
                    wait_for_task_token: *wait_for_task_token,
                },
                payload,
            )
        }
        other => (other.clone(), Arc::clone(&params)),
    };
    let region = cx.ctx().region.clone();
    cx.emit(
        fid,
        EventKind::TaskScheduled {
            family,
            resource_type: resource_type.clone(),
            resource: resource_name.clone(),
            region,
            // Service integrations record their Parameters; Lambda and activity tasks their
            // input, which is also `params` (only `lambda:invoke`, a service, narrows it).
            parameters: params,
            timeout_in_seconds: timeout,
            heartbeat_in_seconds: heartbeat,
        },
    );
    cx.emit(fid, EventKind::TaskStarted { family, resource_type, resource: resource_name });
    let task_id = cx.new_task_id(fid, active.task_token.as_deref());
    let context = TaskCallContext {
        state_name: st.name.clone(),
        state_id: st.id.clone(),
        attempt: active.retry_count,
        execution_arn: cx.ctx().execution_arn.clone(),
        task_token: active.task_token.clone(),
    };
    cx.action(Action::InvokeTask {
        task_id,
        resource,
        payload,
        timeout: timeout.map(Duration::from_secs),
        heartbeat: heartbeat.map(Duration::from_secs),
        context,
    });
    active.wait = Wait::Task(task_id);
    Flow::Block(active)
}

/// Whether `value` serialised as JSON is longer than `limit` bytes, found without building the
/// text (and stopping as soon as the limit is passed).
fn json_len_exceeds(value: &Value, limit: usize) -> bool {
    struct Counter {
        left: usize,
    }
    impl io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.left = self.left.checked_sub(buf.len()).ok_or_else(|| io::Error::other("over the limit"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    // Serialising a `Value` fails only when the counter refuses.
    serde_json::to_writer(Counter { left: limit }, value).is_err()
}

/// The driver reported the task's outcome.
pub(crate) fn on_reply(cx: &mut Cx<'_>, fid: usize, active: Active, reply: TaskReply) -> Flow {
    let machine = cx.machine();
    let Some((st, spec)) = machine.state(active.state).and_then(|s| match &s.kind {
        crate::ir::Kind::Task(spec) => Some((s, spec)),
        _ => None,
    }) else {
        return Flow::Block(active);
    };
    let family = spec.resource.family();
    let (resource_type, resource) = spec.resource.names();
    match reply {
        TaskReply::Succeeded(output) => {
            if json_len_exceeds(&output, MAX_RESULT_BYTES) {
                let what = if resource_type.is_empty() { "lambda" } else { resource_type.as_str() };
                let cause = format!(
                    "The state/task '{what}' returned a result with a size exceeding the maximum number of bytes service limit."
                );
                let (error, cause) = (Some("States.DataLimitExceeded".to_owned()), Some(cause));
                cx.emit(
                    fid,
                    EventKind::TaskFailed {
                        family,
                        resource_type,
                        resource,
                        error: error.clone(),
                        cause: cause.clone(),
                    },
                );
                return Flow::Fail { active, failure: Failure { error, cause, from_task: true } };
            }
            let result = match &spec.resource {
                TaskResource::LambdaInvoke { wait_for_task_token: false, .. } => {
                    let request_id = entropy::uuid_v4(cx.entropy);
                    json!({
                        "ExecutedVersion": "$LATEST",
                        "Payload": output,
                        "SdkHttpMetadata": {
                            "AllHttpHeaders": {
                                "X-Amz-Executed-Version": ["$LATEST"],
                                "x-amzn-Remapped-Content-Length": ["0"],
                                "Connection": ["keep-alive"],
                                "x-amzn-RequestId": [request_id],
                                "Content-Type": ["application/json"],
                            },
                            "HttpHeaders": {
                                "Connection": "keep-alive",
                                "Content-Type": "application/json",
                                "X-Amz-Executed-Version": "$LATEST",
                                "x-amzn-Remapped-Content-Length": "0",
                                "x-amzn-RequestId": request_id,
                            },
                            "HttpStatusCode": 200,
                        },
                        "SdkResponseMetadata": {"RequestId": request_id},
                        "StatusCode": 200,
                    })
                }
                _ => output,
            };
            let result = Arc::new(result);
            cx.emit(fid, EventKind::TaskSucceeded { family, resource_type, resource, output: Arc::clone(&result) });
            if st.jsonata.is_some() {
                let input = active.raw_input.share();
                return crate::jsonata_states::exit_with(cx, fid, active, st, &input, &result);
            }
            finish_result(cx, fid, active, st, result)
        }
        TaskReply::Failed(error, cause) => {
            cx.emit(
                fid,
                EventKind::TaskFailed {
                    family,
                    resource_type,
                    resource,
                    error: Some(error.clone()),
                    cause: cause.clone(),
                },
            );
            Flow::Fail { active, failure: Failure { error: Some(error), cause, from_task: true } }
        }
        TaskReply::TimedOut => {
            let error = Some("States.Timeout".to_owned());
            cx.emit(
                fid,
                EventKind::TaskTimedOut { family, resource_type, resource, error: error.clone(), cause: None },
            );
            Flow::Fail { active, failure: Failure { error, cause: None, from_task: true } }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::execution::Input;
    use crate::testing::run_with;

    #[test]
    fn parses_resources() {
        assert_eq!(
            TaskResource::parse("arn:aws:lambda:us-east-1:1:function:f:live").unwrap(),
            TaskResource::Lambda {
                arn: "arn:aws:lambda:us-east-1:1:function:f:live".into(),
                function: "f:live".into()
            }
        );
        assert_eq!(
            TaskResource::parse("arn:aws:states:::lambda:invoke.waitForTaskToken").unwrap(),
            TaskResource::LambdaInvoke { function: String::new(), wait_for_task_token: true }
        );
        assert_eq!(TaskResource::parse("wasm:charge").unwrap(), TaskResource::Wasm { name: "charge".into() });
        assert!(matches!(
            TaskResource::parse("arn:aws:states:us-east-1:1:activity:a").unwrap(),
            TaskResource::Activity { .. }
        ));
        assert!(matches!(TaskResource::parse("arn:aws:states:::sqs:sendMessage").unwrap(), TaskResource::Other(_)));
        assert!(TaskResource::parse("nope").is_err());
        assert_eq!(function_name("arn:aws:lambda:us-east-1:1:function:fn"), "fn");
    }

    #[test]
    fn retry_then_catch_with_backoff_events() {
        let def = r#"{"StartAt":"T","States":{
            "T":{"Type":"Task","Resource":"wasm:f","Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":2,"IntervalSeconds":1}],
                 "Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.err","Next":"C"}],"End":true},
            "C":{"Type":"Pass","End":true}}}"#;
        let mut calls = 0;
        let out = run_with(def, json!({"in": 1}), &mut |a: &Action| {
            calls += 1;
            let Action::InvokeTask { task_id, context, .. } = a else { unreachable!() };
            assert_eq!(context.attempt, calls - 1);
            Input::TaskFailed { task_id: *task_id, error: "Boom".into(), cause: Some("c".into()) }
        });
        assert_eq!(calls, 3);
        assert_eq!(out.output(), Some(json!({"in": 1, "err": {"Error": "Boom", "Cause": "c"}})));
        let types = out.event_types();
        assert_eq!(types.iter().filter(|t| *t == "LambdaFunctionFailed").count(), 3);
        assert_eq!(
            types[types.len() - 4..],
            ["TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
        );
        // Back-off: 1 s, then 2 s.
        assert_eq!(out.history.last().unwrap().timestamp.as_millis() - out.history[0].timestamp.as_millis(), 3000);
    }

    #[test]
    fn lambda_invoke_wraps_and_times_out() {
        let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
            "Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:1:function:fn","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}"#;
        let out = run_with(def, json!({"x": 1}), &mut |a: &Action| {
            let Action::InvokeTask { task_id, resource, payload, .. } = a else { unreachable!() };
            assert_eq!(resource, &TaskResource::LambdaInvoke { function: "fn".into(), wait_for_task_token: false });
            Input::TaskSucceeded { task_id: *task_id, output: Value::clone(payload) }
        });
        assert_eq!(out.output(), Some(json!({"x": 1})));
        assert_eq!(out.event_types()[2..5], ["TaskScheduled", "TaskStarted", "TaskSucceeded"]);
        let out = run_with(def, json!({}), &mut |a: &Action| {
            let Action::InvokeTask { task_id, .. } = a else { unreachable!() };
            Input::TaskTimedOut { task_id: *task_id }
        });
        assert_eq!(out.failure(), Some((Some("States.Timeout".into()), None)));
        assert_eq!(out.event_types()[4], "TaskTimedOut");
    }
}
