//! Task: asks the driver to run a unit of work and waits for its reply.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::compile::{Fields, Site};
use crate::entropy;
use crate::execution::{Action, Failure, Flow, StateCx, TaskCallContext, TaskReply, Wait};
use crate::history::EventKind;
use crate::ir::NumSource;
use crate::machine::{Builder, State};
use crate::model::TaskState;
use crate::names;
use crate::payload::{MAX_PAYLOAD_BYTES, json_len_exceeds};
use crate::resource::{TaskResource, function_name};
use crate::states::Kind;

/// A Task state's own fields.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    /// `Resource`.
    pub(crate) resource: TaskResource,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub(crate) timeout: Option<NumSource>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub(crate) heartbeat: Option<NumSource>,
}

impl Spec {
    pub(crate) fn describe(&self, out: &mut Map<String, Value>) {
        out.insert("resource".into(), self.resource.to_string().into());
    }
}

pub(crate) fn compile(b: &mut Builder, site: &Site<'_>, t: &TaskState) -> State {
    let resource = match t.resource.as_deref() {
        None => {
            b.diag("SCHEMA_VALIDATION_FAILED", &site.at("Resource"), "A Task state requires a 'Resource'");
            TaskResource::Other(String::new())
        }
        Some(r) => TaskResource::parse(r).unwrap_or_else(|e| {
            b.diag("INVALID_RESOURCE", &site.at("Resource"), e);
            TaskResource::Other(r.to_owned())
        }),
    };
    let ql = t.query_language;
    let timeout = b.num_source(site, ql, t.timeout_seconds.as_ref(), t.timeout_seconds_path.as_ref(), "TimeoutSeconds");
    let heartbeat =
        b.num_source(site, ql, t.heartbeat_seconds.as_ref(), t.heartbeat_seconds_path.as_ref(), "HeartbeatSeconds");
    if let (Some(NumSource::Fixed(beat)), Some(NumSource::Fixed(limit))) = (&heartbeat, &timeout)
        && let (Some(beat), Some(limit)) = (beat.as_u64(), limit.as_u64())
        && beat >= limit
    {
        b.diag(
            "SCHEMA_VALIDATION_FAILED",
            &site.at("HeartbeatSeconds"),
            format!("HeartbeatSeconds ({beat}) must be smaller than TimeoutSeconds ({limit})"),
        );
    }
    let fields = Fields {
        input_path: t.input_path.as_ref(),
        output_path: t.output_path.as_ref(),
        result_path: t.result_path.as_ref(),
        parameters: t.parameters.as_ref(),
        result_selector: t.result_selector.as_ref(),
        assign: t.assign.as_ref(),
        arguments: t.arguments.as_ref(),
        output: t.output.as_ref(),
        retry: t.retry.as_ref(),
        catch: t.catch.as_ref(),
        next: t.next.as_deref(),
        end: t.end,
        query_language: t.query_language,
        ..Fields::default()
    };
    State { common: b.common(site, &fields), kind: Kind::Task(Spec { resource, timeout, heartbeat }) }
}

/// `TimeoutSeconds` or `HeartbeatSeconds`: a positive whole number of seconds.
fn seconds(
    sc: &mut StateCx<'_, '_>,
    source: Option<&NumSource>,
    field: &str,
    input: &Value,
) -> Result<Option<u64>, Failure> {
    let Some(source) = source else { return Ok(None) };
    let v = sc.number(source, field, input)?;
    match v.as_u64() {
        Some(n) if n > 0 => Ok(Some(n)),
        _ => {
            let field = match source {
                NumSource::Path(_) => format!("{field}Path"),
                _ => field.to_owned(),
            };
            Err(sc.invalid(&format!("The {field} field refers to value {v} which is not a positive integer")))
        }
    }
}

pub(crate) fn run(mut sc: StateCx<'_, '_>, spec: &Spec) -> Flow {
    let input = match sc.input() {
        Ok(v) => v,
        Err(failure) => return sc.fail(failure),
    };
    if spec.resource.uses_token() && sc.active.task_token.is_none() {
        let token = format!("{}{}", entropy::uuid_v4(sc.cx.entropy), entropy::uuid_v4(sc.cx.entropy));
        sc.active.task_token = Some(token.replace('-', ""));
    }
    let arguments = match sc.arguments(&input) {
        Ok(v) => v,
        Err(failure) => return sc.fail(failure),
    };
    let timeout = seconds(&mut sc, spec.timeout.as_ref(), "TimeoutSeconds", &input);
    let heartbeat =
        timeout.and_then(|t| Ok((t, seconds(&mut sc, spec.heartbeat.as_ref(), "HeartbeatSeconds", &input)?)));
    match heartbeat {
        Ok((timeout, heartbeat)) => invoke(sc, spec, arguments, timeout, heartbeat),
        Err(failure) => sc.fail(failure),
    }
}

/// Records the scheduling events and asks the driver to run the task with `arguments`.
fn invoke(
    mut sc: StateCx<'_, '_>,
    spec: &Spec,
    arguments: Arc<Value>,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
) -> Flow {
    let family = spec.resource.family();
    let (resource_type, resource_name) = spec.resource.names();
    let (resource, payload) = match &spec.resource {
        TaskResource::LambdaInvoke { wait_for_task_token, .. } => {
            let Some(function) = arguments.get("FunctionName").and_then(Value::as_str) else {
                let failure = sc.runtime("The Parameters of a lambda:invoke task need a string 'FunctionName'");
                return sc.fail(failure);
            };
            let payload = Arc::new(arguments.get("Payload").cloned().unwrap_or_else(|| json!({})));
            (
                TaskResource::LambdaInvoke {
                    function: function_name(function),
                    wait_for_task_token: *wait_for_task_token,
                },
                payload,
            )
        }
        other => (other.clone(), Arc::clone(&arguments)),
    };
    let fid = sc.fid;
    let region = sc.cx.ctx().region.clone();
    sc.cx.emit(
        fid,
        EventKind::TaskScheduled {
            family,
            resource_type: resource_type.clone(),
            resource: resource_name.clone(),
            region,
            parameters: arguments,
            timeout_in_seconds: timeout,
            heartbeat_in_seconds: heartbeat,
        },
    );
    sc.cx.emit(fid, EventKind::TaskStarted { family, resource_type, resource: resource_name });
    let task_id = sc.cx.new_task_id(fid, sc.active.task_token.as_deref());
    let context = TaskCallContext {
        state_name: sc.st.name.clone(),
        state_id: sc.st.id.clone(),
        attempt: sc.active.retry_count,
        execution_arn: sc.cx.ctx().execution_arn.clone(),
        task_token: sc.active.task_token.clone(),
    };
    sc.cx.action(Action::InvokeTask {
        task_id,
        resource,
        payload,
        timeout: timeout.map(|seconds| sc.cx.scaled_duration(Duration::from_secs(seconds))),
        heartbeat: heartbeat.map(|seconds| sc.cx.scaled_duration(Duration::from_secs(seconds))),
        context,
    });
    sc.active.wait = Wait::Task(task_id);
    sc.block()
}

/// What Lambda's Invoke API answers, around the function's own result: the task's result for
/// `lambda:invoke`, and the `TaskSubmitted` output of `lambda:invoke.waitForTaskToken`.
fn lambda_invoke_response(output: Value, entropy: &mut dyn crate::Entropy) -> Value {
    let request_id = entropy::uuid_v4(entropy);
    let mut response = json!({
        "ExecutedVersion": "$LATEST",
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
    });
    response["Payload"] = output;
    response
}

/// The call of a `.waitForTaskToken` integration returned: record it; the token still decides.
pub(crate) fn on_submitted(sc: StateCx<'_, '_>, spec: &Spec, output: Value) -> Flow {
    let submitted = match &spec.resource {
        TaskResource::LambdaInvoke { wait_for_task_token: true, .. } => lambda_invoke_response(output, sc.cx.entropy),
        TaskResource::Other(_) => output,
        // Activities and plain functions have nothing submitted.
        _ => return sc.block(),
    };
    let (resource_type, resource) = spec.resource.names();
    let fid = sc.fid;
    sc.cx.emit(fid, EventKind::TaskSubmitted { resource_type, resource, output: Arc::new(submitted) });
    sc.block()
}

/// The driver reported the task's outcome.
pub(crate) fn on_reply(sc: StateCx<'_, '_>, spec: &Spec, reply: TaskReply) -> Flow {
    let fid = sc.fid;
    let family = spec.resource.family();
    let (resource_type, resource) = spec.resource.names();
    match reply {
        TaskReply::Succeeded(output) => {
            if json_len_exceeds(&output, MAX_PAYLOAD_BYTES) {
                let what = if resource_type.is_empty() { "lambda" } else { resource_type.as_str() };
                let cause = format!(
                    "The state/task '{what}' returned a result with a size exceeding the maximum number of bytes service limit."
                );
                let (error, cause) = (Some(names::DATA_LIMIT_EXCEEDED.to_owned()), Some(cause));
                sc.cx.emit(
                    fid,
                    EventKind::TaskFailed {
                        family,
                        resource_type,
                        resource,
                        error: error.clone(),
                        cause: cause.clone(),
                    },
                );
                return sc.fail(Failure { error, cause, from_task: true });
            }
            let result = match &spec.resource {
                TaskResource::LambdaInvoke { wait_for_task_token: false, .. } => {
                    Arc::new(lambda_invoke_response(Arc::unwrap_or_clone(output), sc.cx.entropy))
                }
                _ => output,
            };
            sc.cx.emit(fid, EventKind::TaskSucceeded { family, resource_type, resource, output: Arc::clone(&result) });
            sc.finish(result)
        }
        TaskReply::Failed(error, cause) => {
            sc.cx.emit(
                fid,
                EventKind::TaskFailed {
                    family,
                    resource_type,
                    resource,
                    error: Some(error.clone()),
                    cause: cause.clone(),
                },
            );
            sc.fail(Failure { error: Some(error), cause, from_task: true })
        }
        TaskReply::TimedOut | TaskReply::HeartbeatTimedOut => {
            let name = if matches!(reply, TaskReply::TimedOut) { names::TIMEOUT } else { names::HEARTBEAT_TIMEOUT };
            let error = Some(name.to_owned());
            sc.cx.emit(
                fid,
                EventKind::TaskTimedOut { family, resource_type, resource, error: error.clone(), cause: None },
            );
            sc.fail(Failure { error, cause: None, from_task: true })
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
            Input::TaskSucceeded { task_id: *task_id, output: Arc::clone(payload) }
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

    #[test]
    fn a_missed_heartbeat_fails_with_heartbeat_timeout_which_task_failed_catches() {
        let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "HeartbeatSeconds":5,"TimeoutSeconds":60,"Parameters":{"MessageBody.$":"$$.Task.Token"},"End":true}}}"#;
        let mut heartbeat = None;
        let out = run_with(def, json!({}), &mut |a: &Action| {
            let Action::InvokeTask { task_id, heartbeat: h, .. } = a else { unreachable!() };
            heartbeat = *h;
            Input::TaskHeartbeatTimedOut { task_id: *task_id }
        });
        assert_eq!(heartbeat, Some(Duration::from_secs(5)), "the driver is told the heartbeat to enforce");
        assert_eq!(out.failure(), Some((Some("States.HeartbeatTimeout".into()), None)));
        let timed_out = out.history.iter().find(|event| event.event_type() == "TaskTimedOut").unwrap().to_aws_json();
        assert_eq!(timed_out["taskTimedOutEventDetails"]["error"], "States.HeartbeatTimeout");

        let caught = def.replace(r#""End":true}}}"#, r#""Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}"#);
        let out = run_with(&caught, json!({}), &mut |a: &Action| {
            let Action::InvokeTask { task_id, .. } = a else { unreachable!() };
            Input::TaskHeartbeatTimedOut { task_id: *task_id }
        });
        assert_eq!(out.output(), Some(json!({"Error": "States.HeartbeatTimeout"})));
    }

    #[test]
    fn a_callback_task_records_its_submission_then_waits_for_the_token() {
        use crate::{Execution, ExecutionContext, SeededEntropy, Timestamp};

        let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters":{"FunctionName":"notify","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}"#;
        let machine = Arc::new(crate::StateMachine::from_json(def).unwrap());
        let ctx = ExecutionContext::new("m", "e", Timestamp::from_millis(0));
        let entropy = &mut SeededEntropy::new(3);
        let (mut execution, step) = Execution::start(machine, json!({}), ctx, Timestamp::from_millis(1), entropy);
        let Some(Action::InvokeTask { task_id, context, .. }) = step.actions.first() else { panic!("an invocation") };
        let (task_id, token) = (*task_id, context.task_token.clone().unwrap());
        let step =
            execution.apply(Input::TaskSubmitted { task_id, output: json!(null) }, Timestamp::from_millis(2), entropy);
        let submitted = step.history[0].to_aws_json();
        assert_eq!(submitted["type"], "TaskSubmitted");
        let details = &submitted["taskSubmittedEventDetails"];
        assert_eq!(
            (details["resourceType"].as_str(), details["resource"].as_str()),
            (Some("lambda"), Some("invoke.waitForTaskToken"))
        );
        let output: Value = serde_json::from_str(details["output"].as_str().unwrap()).unwrap();
        assert_eq!(output["StatusCode"], 200);
        assert!(step.actions.is_empty() && execution.outcome().is_none(), "the token still decides");
        assert_eq!(execution.task_for_token(&token), Some(task_id));
        execution.apply(
            Input::TaskSucceeded { task_id, output: json!({"ok": true}).into() },
            Timestamp::from_millis(3),
            entropy,
        );
        assert!(
            matches!(execution.outcome(), Some(crate::ExecutionOutcome::Succeeded(v)) if v == &json!({"ok": true}))
        );
    }
}
