//! Nested executions: a Task whose `Resource` is `arn:aws:states:::states:startExecution` starts
//! an execution of a state machine, as on AWS.
//!
//! | resource | the task ends |
//! |---|---|
//! | `…:states:startExecution` | at once, with `{"ExecutionArn", "StartDate"}` |
//! | `…:states:startExecution.sync` | when the child ends, with its description (`Input` and `Output` as JSON text) |
//! | `…:states:startExecution.sync:2` | the same, with `Input` and `Output` as JSON |
//! | `…:states:startExecution.waitForTaskToken` | when a SendTaskSuccess or SendTaskFailure quotes its token |
//!
//! A `.sync` child that does not succeed fails the task with `States.TaskFailed`, its
//! description as the cause. Stopping the parent (or failing the branch that waits) stops a
//! `.sync` child too.
//!
//! Starting is idempotent across a crash of the parent: a child started without a `Name` is named
//! after the parent and the task (the same name every time that task asks), and a resumed parent
//! that asks again finds its child instead of starting another. The parent waits for a `.sync`
//! child in memory, watching this node's executions end and reading the store now and then for a
//! child another node drives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use stepwasm_asl::{TaskId, TaskResource, names};
use tokio::sync::broadcast;

use super::error::{ErrorKind, ServiceError};
use super::executions::{Started, SyncOutcome};
use super::{Inner, Service};
use crate::engine::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome};
use crate::store::{ExecutionRecord, ExecutionStatus, MachineType};

/// How often a parent reads the store for a `.sync` child that another node may be driving.
/// Children that run on this node are seen the moment they end.
const CHILD_POLL: Duration = Duration::from_secs(1);

/// The input field that names the execution that started a child, as AWS's console reads it.
const STARTED_BY_FIELD: &str = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID";

/// Which integration pattern a `states:startExecution` resource asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pattern {
    /// Answer with the started execution.
    RequestResponse,
    /// Answer when it ends; `json_documents`: `Input` and `Output` as JSON, not as text (`:2`).
    Sync { json_documents: bool },
    /// Answer with the started execution; the task token ends the task.
    WaitForTaskToken,
}

fn pattern(resource: &TaskResource) -> Option<Pattern> {
    let TaskResource::Other(arn) = resource else { return None };
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "states", "", "", "states", action, version @ ..] if partition.starts_with("aws") => {
            match (*action, version) {
                ("startExecution", []) => Some(Pattern::RequestResponse),
                ("startExecution.sync", []) => Some(Pattern::Sync { json_documents: false }),
                ("startExecution.sync", ["2"]) => Some(Pattern::Sync { json_documents: true }),
                ("startExecution.waitForTaskToken", []) => Some(Pattern::WaitForTaskToken),
                _ => None,
            }
        }
        _ => None,
    }
}

/// What the task's `Parameters` (or `Arguments`) ask to start.
#[derive(Debug)]
struct Request {
    state_machine_arn: String,
    name: Option<String>,
    /// JSON text.
    input: String,
}

impl Request {
    fn parse(payload: &Value) -> Result<Request, TaskOutcome> {
        let state_machine_arn = match payload.get("StateMachineArn") {
            Some(Value::String(arn)) => arn.clone(),
            _ => {
                return Err(integration_failure(&ServiceError::new(
                    ErrorKind::MissingRequiredParameter,
                    "The Parameters of a states:startExecution task need a string 'StateMachineArn'",
                )));
            }
        };
        let name = match payload.get("Name") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.clone()),
            Some(other) => {
                return Err(integration_failure(&ServiceError::validation(format!(
                    "The Name of a states:startExecution task must be a string, not {other}"
                ))));
            }
        };
        // AWS takes the input as JSON text or as a JSON document.
        let input = match payload.get("Input") {
            None | Some(Value::Null) => "{}".to_owned(),
            Some(Value::String(text)) => text.clone(),
            Some(document) => document.to_string(),
        };
        Ok(Request { state_machine_arn, name, input })
    }

    /// Whether `existing`, found under the child's name, is the child this task started before
    /// its parent was resumed.
    fn started_before(&self, existing: &ExecutionRecord, parent_arn: &str) -> bool {
        let (Ok(wanted), Ok(found)) =
            (serde_json::from_str::<Value>(&self.input), serde_json::from_str::<Value>(&existing.input))
        else {
            return false;
        };
        // A name of the user's own may have been used before, by another execution: only an
        // input that names this parent as its starter proves it is this task's.
        let ours = self.name.is_none() || found.get(STARTED_BY_FIELD).and_then(Value::as_str) == Some(parent_arn);
        ours && wanted == found
    }
}

/// Starts child executions for `states:startExecution` tasks; every other task goes to `inner`.
pub(super) struct NestedExecutions {
    service: Weak<Inner>,
    inner: Arc<dyn TaskInvoker>,
    /// The `.sync` children being waited for, by parent execution and task: stopped if their
    /// parent stops waiting.
    waiting: Arc<Mutex<HashMap<(String, TaskId), String>>>,
}

impl NestedExecutions {
    pub(super) fn new(service: Weak<Inner>, inner: Arc<dyn TaskInvoker>) -> Self {
        NestedExecutions { service, inner, waiting: Arc::default() }
    }

    async fn run(&self, service: Service, pattern: Pattern, call: TaskCall) -> TaskOutcome {
        let request = match Request::parse(&call.payload) {
            Ok(request) => request,
            Err(failure) => return failure,
        };
        let parent = &call.context.execution_arn;
        let name = request.name.clone().unwrap_or_else(|| child_name(parent, call.task_id));
        // Subscribed before the start, so that a child that ends at once is not missed.
        let mut endings = service.inner.endings.subscribe();
        let target = match service.start_target(&request.state_machine_arn).await {
            Ok(target) => target,
            Err(error) => return integration_failure(&error),
        };
        if target.machine.machine_type == MachineType::Express && matches!(pattern, Pattern::Sync { .. }) {
            return match service
                .start_sync_execution(&request.state_machine_arn, Some(&name), Some(&request.input))
                .await
            {
                Ok(done) => sync_outcome(&description(&express_record(done)), pattern),
                Err(error) => integration_failure(&error),
            };
        }
        let (child, start_date) =
            match service.start_or_find(&request.state_machine_arn, Some(&name), Some(&request.input)).await {
                Ok(Started::New { arn, start_date }) => (arn, start_date),
                Ok(Started::Existing(existing)) if request.started_before(&existing, parent) => {
                    (existing.arn.clone(), existing.start_date)
                }
                Ok(Started::Existing(existing)) => {
                    return integration_failure(&ServiceError::new(
                        ErrorKind::ExecutionAlreadyExists,
                        format!("Execution Already Exists: '{}'", existing.arn),
                    ));
                }
                Err(error) => return integration_failure(&error),
            };
        let Pattern::Sync { .. } = pattern else {
            return TaskOutcome::Succeeded(json!({"ExecutionArn": child, "StartDate": start_date}));
        };
        let key = (parent.clone(), call.task_id);
        let _waiting = Waiting::register(&self.waiting, key, child.clone());
        let ended = wait_for_end(&service, &child, &mut endings);
        let ended = match call.timeout {
            Some(timeout) => match tokio::time::timeout(timeout, ended).await {
                Ok(ended) => ended,
                Err(_) => return TaskOutcome::TimedOut,
            },
            None => ended.await,
        };
        match ended {
            Ok(record) => sync_outcome(&description(&record), pattern),
            Err(error) => integration_failure(&error),
        }
    }
}

impl TaskInvoker for NestedExecutions {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        let Some(pattern) = pattern(&call.resource) else {
            return self.inner.invoke(call);
        };
        Box::pin(async move {
            let Some(inner) = self.service.upgrade() else {
                let cause = "The service is shutting down".to_owned();
                return (TaskOutcome::Failed { error: names::TASK_FAILED.to_owned(), cause: Some(cause) }, None);
            };
            (self.run(Service { inner }, pattern, call).await, None)
        })
    }

    fn cancel(&self, execution_arn: &str, task_id: TaskId) {
        let child =
            self.waiting.lock().unwrap_or_else(PoisonError::into_inner).remove(&(execution_arn.to_owned(), task_id));
        let (Some(child), Some(inner)) = (child, self.service.upgrade()) else {
            return;
        };
        let service = Service { inner };
        let cause = format!("The parent execution {execution_arn} no longer waits for it");
        tokio::spawn(async move {
            if let Err(error) = service.stop_execution(&child, None, Some(cause)).await {
                tracing::warn!(execution = %child, "a child execution could not be stopped: {error}");
            }
        });
    }
}

/// Keeps a `.sync` child in the waiting list while its parent waits for it.
struct Waiting {
    list: Arc<Mutex<HashMap<(String, TaskId), String>>>,
    key: (String, TaskId),
}

impl Waiting {
    fn register(list: &Arc<Mutex<HashMap<(String, TaskId), String>>>, key: (String, TaskId), child: String) -> Self {
        list.lock().unwrap_or_else(PoisonError::into_inner).insert(key.clone(), child);
        Waiting { list: Arc::clone(list), key }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.list.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.key);
    }
}

/// The name of a child started without one: a UUID, as AWS gives, that is the same each time the
/// task asks.
fn child_name(parent_arn: &str, task_id: TaskId) -> String {
    let digest = Sha256::new().chain_update(parent_arn).chain_update(task_id.0.to_le_bytes()).finalize();
    let half =
        |range: std::ops::Range<usize>| digest[range].iter().fold(0u64, |value, byte| (value << 8) | u64::from(*byte));
    stepwasm_asl::uuid_from_bits(half(0..8), half(8..16))
}

/// Waits until `arn` has ended, and returns it as stored then.
async fn wait_for_end(
    service: &Service,
    arn: &str,
    endings: &mut broadcast::Receiver<String>,
) -> Result<ExecutionRecord, ServiceError> {
    loop {
        let record =
            service.inner.store.execution(arn).await?.ok_or_else(|| ServiceError::execution_does_not_exist(arn))?;
        if record.status != ExecutionStatus::Running {
            return Ok(record);
        }
        let poll = tokio::time::sleep(CHILD_POLL);
        tokio::pin!(poll);
        loop {
            tokio::select! {
                ended = endings.recv() => match ended {
                    Ok(ended) if ended != arn => {}
                    // Ended here, or missed among many endings: read the store.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => {
                        poll.as_mut().await;
                        break;
                    }
                },
                () = &mut poll => break,
            }
        }
    }
}

/// An EXPRESS child's outcome, as if it were stored.
fn express_record(done: SyncOutcome) -> ExecutionRecord {
    ExecutionRecord {
        arn: done.execution_arn,
        state_machine_arn: done.state_machine_arn,
        name: done.name,
        definition: String::new(),
        status: done.status,
        input: done.input,
        output: done.output,
        error: done.error,
        cause: done.cause,
        start_date: done.start_date,
        stop_date: Some(done.stop_date),
        version_arn: None,
        alias_arn: None,
        redrive_count: 0,
        redrive_date: None,
        redrive_token: None,
    }
}

/// DescribeExecution's answer, as a `.sync` task reports it (AWS's SDK field names).
fn description(record: &ExecutionRecord) -> Value {
    let mut described = json!({
        "ExecutionArn": record.arn,
        "StateMachineArn": record.state_machine_arn,
        "Name": record.name,
        "Status": record.status.as_str(),
        "StartDate": record.start_date,
        "Input": record.input,
        "InputDetails": {"Included": true},
        "RedriveCount": record.redrive_count,
    });
    let fields = [
        ("StopDate", record.stop_date.map(Value::from)),
        ("Output", record.output.clone().map(Value::String)),
        ("OutputDetails", record.output.as_ref().map(|_| json!({"Included": true}))),
        ("Error", record.error.clone().map(Value::String)),
        ("Cause", record.cause.clone().map(Value::String)),
        ("StateMachineVersionArn", record.version_arn.clone().map(Value::String)),
        ("StateMachineAliasArn", record.alias_arn.clone().map(Value::String)),
    ];
    for (field, value) in fields {
        if let Some(value) = value {
            described[field] = value;
        }
    }
    described
}

/// A `.sync` task's outcome: the child's description if it succeeded, `States.TaskFailed` with
/// it as the cause otherwise.
fn sync_outcome(described: &Value, pattern: Pattern) -> TaskOutcome {
    let mut described = described.clone();
    if pattern == (Pattern::Sync { json_documents: true }) {
        for field in ["Input", "Output"] {
            if let Some(Value::String(text)) = described.get(field)
                && let Ok(document) = serde_json::from_str::<Value>(text)
            {
                described[field] = document;
            }
        }
    }
    if described["Status"] == "SUCCEEDED" {
        TaskOutcome::Succeeded(described)
    } else {
        TaskOutcome::Failed { error: names::TASK_FAILED.to_owned(), cause: Some(described.to_string()) }
    }
}

/// A refused start, named as AWS names Step Functions errors in a service integration
/// (`StepFunctions.StateMachineDoesNotExistException`).
fn integration_failure(error: &ServiceError) -> TaskOutcome {
    let name = error.kind.name();
    let suffix = if name.ends_with("Exception") { "" } else { "Exception" };
    TaskOutcome::Failed { error: format!("StepFunctions.{name}{suffix}"), cause: Some(error.message.clone()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_name_their_pattern() {
        let of = |arn: &str| pattern(&TaskResource::parse(arn).unwrap());
        assert_eq!(of("arn:aws:states:::states:startExecution"), Some(Pattern::RequestResponse));
        assert_eq!(of("arn:aws:states:::states:startExecution.sync"), Some(Pattern::Sync { json_documents: false }));
        assert_eq!(of("arn:aws:states:::states:startExecution.sync:2"), Some(Pattern::Sync { json_documents: true }));
        assert_eq!(of("arn:aws:states:::states:startExecution.waitForTaskToken"), Some(Pattern::WaitForTaskToken));
        assert_eq!(of("arn:aws:states:::states:startExecution.sync:3"), None);
        assert_eq!(of("arn:aws:states:::sqs:sendMessage"), None);
        assert_eq!(of("arn:aws:lambda:us-east-1:1:function:f"), None);
    }

    #[test]
    fn a_child_name_is_a_uuid_fixed_by_its_parent_and_task() {
        let parent = "arn:aws:states:us-east-1:000000000000:execution:m:e";
        let name = child_name(parent, TaskId(3));
        assert_eq!(name, child_name(parent, TaskId(3)));
        assert_ne!(name, child_name(parent, TaskId(4)));
        assert_ne!(name, child_name("arn:aws:states:us-east-1:000000000000:execution:m:f", TaskId(3)));
        assert_eq!(name.len(), 36);
        assert_eq!(&name[14..15], "4");
    }

    #[test]
    fn requests_take_input_as_text_or_document() {
        let request = Request::parse(&json!({"StateMachineArn": "a", "Input": {"x": 1}})).unwrap();
        assert_eq!((request.input.as_str(), request.name), (r#"{"x":1}"#, None));
        let request = Request::parse(&json!({"StateMachineArn": "a", "Input": "[1]", "Name": "n"})).unwrap();
        assert_eq!((request.input.as_str(), request.name.as_deref()), ("[1]", Some("n")));
        assert_eq!(Request::parse(&json!({"StateMachineArn": "a"})).unwrap().input, "{}");
        let Err(TaskOutcome::Failed { error, .. }) = Request::parse(&json!({"Input": {}})) else {
            panic!("a request without StateMachineArn was taken")
        };
        assert_eq!(error, "StepFunctions.MissingRequiredParameterException");
    }

    #[test]
    fn sync_outcomes_carry_the_description() {
        let record = ExecutionRecord {
            arn: "arn:child".into(),
            state_machine_arn: "arn:machine".into(),
            name: "child".into(),
            definition: String::new(),
            status: ExecutionStatus::Succeeded,
            input: r#"{"a":1}"#.into(),
            output: Some(r#"{"b":2}"#.into()),
            error: None,
            cause: None,
            start_date: 1000,
            stop_date: Some(2000),
            version_arn: None,
            alias_arn: None,
            redrive_count: 0,
            redrive_date: None,
            redrive_token: None,
        };
        let TaskOutcome::Succeeded(text) = sync_outcome(&description(&record), Pattern::Sync { json_documents: false })
        else {
            panic!("a succeeded child failed its task")
        };
        assert_eq!(
            (&text["Output"], &text["StopDate"], &text["Status"]),
            (&json!(r#"{"b":2}"#), &json!(2000), &json!("SUCCEEDED"))
        );
        let TaskOutcome::Succeeded(documents) =
            sync_outcome(&description(&record), Pattern::Sync { json_documents: true })
        else {
            panic!("a succeeded child failed its task")
        };
        assert_eq!((&documents["Input"], &documents["Output"]), (&json!({"a": 1}), &json!({"b": 2})));

        let failed = ExecutionRecord {
            status: ExecutionStatus::Failed,
            output: None,
            error: Some("Boom".into()),
            cause: Some("it broke".into()),
            ..record
        };
        let TaskOutcome::Failed { error, cause } =
            sync_outcome(&description(&failed), Pattern::Sync { json_documents: true })
        else {
            panic!("a failed child succeeded its task")
        };
        let cause: Value = serde_json::from_str(&cause.unwrap()).unwrap();
        assert_eq!(
            (error.as_str(), &cause["Error"], &cause["Status"]),
            ("States.TaskFailed", &json!("Boom"), &json!("FAILED"))
        );
    }
}
