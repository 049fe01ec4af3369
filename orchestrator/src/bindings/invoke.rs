//! Carrying out the Task states that call bound integrations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};
use stepwasm_asl::TaskResource;

use super::{Binding, Bindings, Integration, NOT_BOUND, Pattern, how_to_bind};
use crate::engine::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome};
use crate::http_task::{self, HttpTaskConfig, MAX_REQUEST_TIME};
use crate::queues::{Outgoing, QueueError, Queues, queue_name};

/// How long an endpoint may ask to be polled after, at most, whatever its `Retry-After` says.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// And at least: an endpoint that says `Retry-After: 0` for hours is not called in a tight loop.
const MIN_RETRY_AFTER: Duration = Duration::from_millis(200);

/// Runs the Task states that call a service integration through its binding; every other task
/// goes to `inner`, which also runs the functions bindings name.
pub struct BoundIntegrations {
    inner: Arc<dyn TaskInvoker>,
    bindings: Bindings,
    http: HttpTaskConfig,
    /// Where `sqs:sendMessage` sends when nothing else binds it.
    queues: Queues,
}

impl BoundIntegrations {
    /// Integrations bound by `bindings`; endpoints are called under `http`'s allow-list, and
    /// an unbound `sqs:sendMessage` sends to `queues`.
    pub fn new(inner: Arc<dyn TaskInvoker>, bindings: Bindings, http: HttpTaskConfig, queues: Queues) -> Self {
        Self { inner, bindings, http, queues }
    }
}

impl TaskInvoker for BoundIntegrations {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        let integration = match &call.resource {
            TaskResource::Other(resource) => Integration::of_resource(resource),
            _ => None,
        };
        let Some(integration) = integration else { return self.inner.invoke(call) };
        Box::pin(async move {
            let binding = match self.bindings.find(&integration.name).await {
                Ok(Some((binding, _))) => binding,
                Ok(None) if integration.has_fallback() => {
                    return (send_to_queue(&self.queues, &call).await, None);
                }
                Ok(None) => {
                    let cause = format!(
                        "No binding for the integration {} (state {}): {}",
                        integration.name,
                        call.context.state_name,
                        how_to_bind(&integration.name)
                    );
                    return (failed(NOT_BOUND, cause), None);
                }
                Err(error) => {
                    let cause = format!("The binding of {} could not be read: {error}", integration.name);
                    return (failed(stepwasm_asl::names::TASK_FAILED, cause), None);
                }
            };
            match (&binding.function, &binding.url) {
                (Some(function), _) => self.call_function(&integration, &binding, function, &call).await,
                (None, Some(url)) => self.call_endpoint(&integration, &binding, url, &call).await,
                (None, None) => (failed(stepwasm_asl::names::TASK_FAILED, "The binding names nothing to run"), None),
            }
        })
    }

    fn cancel(&self, execution_arn: &str, task_id: stepwasm_asl::TaskId) {
        self.inner.cancel(execution_arn, task_id);
    }
}

impl BoundIntegrations {
    /// Calls the bound function with the state's arguments; for `.sync` with a `poll`
    /// function, polls until the job it started ends.
    async fn call_function(
        &self,
        integration: &Integration,
        binding: &Binding,
        function: &str,
        call: &TaskCall,
    ) -> (TaskOutcome, Option<InvocationRecord>) {
        let (outcome, mut record) = self.run_function(integration, function, Arc::clone(&call.payload), call).await;
        let (TaskOutcome::Succeeded(job), Pattern::Sync, Some(poll)) = (&outcome, integration.pattern, &binding.poll)
        else {
            return (outcome, record);
        };
        let job = Arc::new(job.clone());
        loop {
            tokio::time::sleep(Duration::from_secs(poll.seconds)).await;
            let (polled, poll_record) = self.run_function(integration, &poll.function, Arc::clone(&job), call).await;
            record = merged(record, poll_record);
            let status = match polled {
                TaskOutcome::Succeeded(status) => status,
                other => return (other, record),
            };
            match status.get("Status").and_then(Value::as_str) {
                Some("SUCCEEDED") => {
                    let output = status.get("Output").cloned().unwrap_or(status);
                    return (TaskOutcome::Succeeded(output), record);
                }
                Some("FAILED") => {
                    let text = |field: &str| status.get(field).and_then(Value::as_str).map(str::to_owned);
                    let error = text("Error").unwrap_or_else(|| stepwasm_asl::names::TASK_FAILED.to_owned());
                    let cause = text("Cause").unwrap_or_else(|| status.to_string());
                    return (TaskOutcome::Failed { error, cause: Some(cause) }, record);
                }
                _ => {}
            }
        }
    }

    async fn run_function(
        &self,
        integration: &Integration,
        function: &str,
        payload: Arc<Value>,
        call: &TaskCall,
    ) -> (TaskOutcome, Option<InvocationRecord>) {
        let bound = TaskCall {
            task_id: call.task_id,
            resource: TaskResource::Wasm { name: function.to_owned() },
            payload,
            payload_text: None,
            timeout: call.timeout,
            context: call.context.clone(),
        };
        let (outcome, record) = self.inner.invoke(bound).await;
        let outcome = match outcome {
            TaskOutcome::Failed { error, .. } if error == "Lambda.ResourceNotFoundException" => failed(
                &error,
                format!("The binding of {} names the function {function:?}, which is not deployed", integration.name),
            ),
            other => other,
        };
        (outcome, record)
    }

    /// POSTs the state's arguments to the bound endpoint; for `.sync`, follows a `202
    /// Accepted` to its `Location` until the job ends.
    async fn call_endpoint(
        &self,
        integration: &Integration,
        binding: &Binding,
        url: &str,
        call: &TaskCall,
    ) -> (TaskOutcome, Option<InvocationRecord>) {
        let started = Instant::now();
        let outcome = match self.exchange(integration, binding, url, call).await {
            Ok(outcome) | Err(outcome) => outcome,
        };
        crate::metrics::global().task_invoked(
            &integration.name,
            crate::engine::tasks::outcome_label(&outcome),
            started.elapsed(),
            0,
        );
        (outcome, Some(InvocationRecord::without_function(call, started, None)))
    }

    async fn exchange(
        &self,
        integration: &Integration,
        binding: &Binding,
        url: &str,
        call: &TaskCall,
    ) -> Result<TaskOutcome, TaskOutcome> {
        let each_request = call.timeout.map_or(MAX_REQUEST_TIME, |timeout| timeout.min(MAX_REQUEST_TIME));
        let body = serde_json::to_vec(&*call.payload).unwrap_or_default();
        let mut request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .header("x-stepwasm-integration", integration.name.as_str())
            .header("x-stepwasm-execution-arn", call.context.execution_arn.as_str())
            .header("x-stepwasm-state", state_header(&call.context.state_name));
        for (name, value) in &binding.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request.body(Bytes::from(body)).map_err(|error| {
            failed(
                stepwasm_asl::names::RUNTIME,
                format!("The binding of {} cannot be called: {error}", integration.name),
            )
        })?;
        let mut response = http_task::send(&self.http, request, Instant::now() + each_request).await?;
        let mut at = url::Url::parse(url).map_err(|error| failed(stepwasm_asl::names::RUNTIME, error.to_string()))?;
        while integration.pattern == Pattern::Sync && response.status() == http::StatusCode::ACCEPTED {
            let Some(location) = header(&response, http::header::LOCATION) else { break };
            at = at.join(&location).map_err(|error| {
                failed(
                    stepwasm_asl::names::TASK_FAILED,
                    format!("{url} answered 202 with an unusable Location: {error}"),
                )
            })?;
            let wait = header(&response, http::header::RETRY_AFTER)
                .and_then(|seconds| seconds.trim().parse::<u64>().ok())
                .map_or(Duration::from_secs(1), Duration::from_secs)
                .clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER);
            tokio::time::sleep(wait).await;
            let mut poll = http::Request::get(at.as_str()).header(http::header::ACCEPT, "application/json");
            for (name, value) in &binding.headers {
                poll = poll.header(name.as_str(), value.as_str());
            }
            let poll =
                poll.body(Bytes::new()).map_err(|error| failed(stepwasm_asl::names::RUNTIME, error.to_string()))?;
            response = http_task::send(&self.http, poll, Instant::now() + each_request).await?;
        }
        Ok(outcome_of(&integration.name, &response))
    }
}

/// `sqs:sendMessage` to a queue in the store: `QueueUrl` names it, `MessageBody` is the body (a
/// JSON value other than a string is sent as its text, as Step Functions does). The message id
/// comes from the execution and the task, so the task run again after a crash sends once.
async fn send_to_queue(queues: &Queues, call: &TaskCall) -> TaskOutcome {
    let arguments = &*call.payload;
    let text = |field: &str| arguments.get(field).and_then(Value::as_str);
    let Some(url) = text("QueueUrl") else {
        return failed("SQS.InvalidParameterValueException", "The parameter QueueUrl is required");
    };
    let body = match arguments.get("MessageBody") {
        Some(Value::String(body)) => body.clone(),
        Some(Value::Null) | None => {
            return failed("SQS.InvalidParameterValueException", "The parameter MessageBody is required");
        }
        Some(other) => other.to_string(),
    };
    let id = {
        use sha2::{Digest as _, Sha256};
        let digest = Sha256::digest(format!("{}\n{:?}", call.context.execution_arn, call.task_id).as_bytes());
        let half = |range: std::ops::Range<usize>| digest[range].iter().fold(0u64, |n, byte| n << 8 | u64::from(*byte));
        stepwasm_asl::uuid_from_bits(half(0..8), half(8..16))
    };
    let outgoing = Outgoing {
        body,
        attributes: arguments.get("MessageAttributes").cloned().unwrap_or(Value::Null),
        delay_seconds: arguments.get("DelaySeconds").and_then(Value::as_u64),
        id: Some(id),
    };
    let sent = match queue_name(url) {
        Ok(name) => queues.send(name, outgoing).await,
        Err(error) => Err(error),
    };
    match sent {
        Ok(sent) => TaskOutcome::Succeeded(json!({
            "MD5OfMessageBody": sent.md5_of_body,
            "MessageId": sent.message_id,
            "SdkHttpMetadata": {"HttpHeaders": {"Content-Type": "application/x-amz-json-1.0"}, "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": sent.message_id},
        })),
        Err(QueueError::DoesNotExist) => failed(
            "SQS.QueueDoesNotExistException",
            format!("The specified queue does not exist: {url} (create it with CreateQueue on this server)"),
        ),
        Err(QueueError::Store(error)) => {
            failed(stepwasm_asl::names::TASK_FAILED, format!("The queue could not be written: {error}"))
        }
        Err(other) => failed("SQS.InvalidParameterValueException", other.to_string()),
    }
}

/// A state name as a header value: names are Unicode, headers are not.
fn state_header(name: &str) -> http::HeaderValue {
    http::HeaderValue::from_str(name).unwrap_or_else(|_| {
        let encoded = crate::access::uri_encode(name);
        http::HeaderValue::from_str(&encoded).unwrap_or(http::HeaderValue::from_static(""))
    })
}

fn header(response: &http::Response<Bytes>, name: http::header::HeaderName) -> Option<String> {
    response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
}

/// What an endpoint's answer means for the task: a 2xx answer's body (JSON, or text) is the
/// result; any other fails the task, named by the body's `error` (or `Error`, or `__type`) when
/// it has one, else `States.Http.StatusCode.NNN`.
fn outcome_of(integration: &str, response: &http::Response<Bytes>) -> TaskOutcome {
    let text = String::from_utf8_lossy(response.body());
    let body = if text.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str::<Value>(&text).unwrap_or_else(|_| Value::String(text.clone().into_owned()))
    };
    let status = response.status();
    if status.is_success() {
        return TaskOutcome::Succeeded(body);
    }
    let field =
        |names: &[&str]| names.iter().find_map(|name| body.get(*name).and_then(Value::as_str)).map(str::to_owned);
    let error =
        field(&["error", "Error", "__type"]).unwrap_or_else(|| format!("States.Http.StatusCode.{}", status.as_u16()));
    let cause = field(&["cause", "Cause", "message", "Message"])
        .unwrap_or_else(|| format!("The endpoint bound to {integration} answered {status}: {text}"));
    TaskOutcome::Failed { error, cause: Some(cause) }
}

/// One record for a job's start and its polls: the start's, with every poll's logs and fuel.
fn merged(record: Option<InvocationRecord>, poll: Option<InvocationRecord>) -> Option<InvocationRecord> {
    match (record, poll) {
        (Some(mut record), Some(poll)) => {
            record.finished = poll.finished;
            record.fuel_consumed = record.fuel_consumed.saturating_add(poll.fuel_consumed);
            record.logs.extend(poll.logs);
            Some(record)
        }
        (record, poll) => record.or(poll),
    }
}

fn failed(error: &str, cause: impl Into<String>) -> TaskOutcome {
    TaskOutcome::Failed { error: error.to_owned(), cause: Some(cause.into()) }
}
