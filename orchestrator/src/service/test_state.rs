//! TestState: one state, run on its own with a given input, variables and context, its task
//! answered by a mock or by its real function, and what became of it reported step by step.
//!
//! The state runs as the first state of a small machine whose other states are stand-ins for
//! the states it can go to, so the interpreter that runs executions runs it too, with every rule
//! of its type and query language. It stops as soon as the state is done: when it exits (the
//! next state entered is `nextState`), fails, or is about to retry (`RETRIABLE`: the retry is
//! not run). Waits take no time.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use stepwasm_asl::{
    Action, Execution, ExecutionContext, ExecutionOutcome, HistoryEvent, Input, StateMachine, TaskResource,
};

use super::compiled::compile;
use super::error::{ErrorKind, ServiceError};
use super::{Service, ServiceResult};
use crate::engine::{SystemEntropy, TaskCall, TaskOutcome};

/// How far a step may go: a state that never settles is reported instead of run forever.
const MAX_STEPS: usize = 10_000;

/// The name the state runs under when the definition is the state alone.
const SINGLE_STATE: &str = "TestState";

/// A TestState request, as the API takes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateRequest {
    /// One state's definition, or a whole state machine's with `state_name`.
    pub definition: Option<String>,
    /// The state to test inside a whole definition.
    pub state_name: Option<String>,
    /// The state's input, as JSON text.
    pub input: Option<String>,
    /// `INFO` (default), `DEBUG` or `TRACE`.
    pub inspection_level: Option<String>,
    /// The workflow variables the state can read, as a JSON object's text.
    pub variables: Option<String>,
    /// Context object values (`Execution`, `StateMachine`), as a JSON object's text.
    pub context: Option<String>,
    /// The task's answer, instead of running it.
    pub mock: Option<TestStateMock>,
    /// Not taken, as AWS's IAM is not: accepted and ignored.
    pub role_arn: Option<String>,
    /// Whether an HTTP Task's credentials may be shown: accepted, but they stay masked here.
    pub reveal_secrets: Option<bool>,
    /// Retry counts and Map failure counts to start from.
    pub state_configuration: Option<StateConfiguration>,
}

/// `stateConfiguration`: where the tested state stands when it starts.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateConfiguration {
    /// Retries already used by the retrier that matches the mocked error.
    pub retrier_retry_count: Option<u64>,
    /// Which inner state a Map or Parallel state's mocked error came from: recorded by AWS for
    /// the console; nothing here depends on it.
    pub error_caused_by_state: Option<String>,
    /// How many iterations of a mocked Map failed: past its tolerated failures, the Map fails.
    pub map_iteration_failure_count: Option<u64>,
    /// The items a Distributed Map's ItemReader would read.
    pub map_item_reader_data: Option<String>,
}

/// `mock`: the task's result or error.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateMock {
    /// The task's result, as JSON text.
    pub result: Option<String>,
    /// The task's error.
    pub error_output: Option<MockError>,
    /// `STRICT` (default), `PRESENT` or `NONE`: how the result is checked against what the
    /// resource returns.
    pub field_validation_mode: Option<String>,
}

/// `mock.errorOutput`.
#[derive(Debug, Default, Deserialize)]
pub struct MockError {
    /// The error name.
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
}

/// TestState's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateReply {
    /// `SUCCEEDED`, `FAILED`, `RETRIABLE` or `CAUGHT_ERROR`.
    pub status: &'static str,
    /// The state it goes to, unless it ends the execution or failed.
    pub next_state: Option<String>,
    /// Its output, as JSON text.
    pub output: Option<String>,
    /// Its error, when it failed.
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
    /// What each step made of the input (`DEBUG` and `TRACE`).
    pub inspection_data: Option<Value>,
}

fn validation(message: impl Into<String>) -> ServiceError {
    ServiceError::validation(message)
}

fn json_text(text: &str, field: &str) -> ServiceResult<Value> {
    serde_json::from_str(text).map_err(|error| validation(format!("The {field} is not valid JSON: {error}")))
}

impl Service {
    /// TestState.
    pub async fn test_state(&self, request: TestStateRequest) -> ServiceResult<TestStateReply> {
        let level = request.inspection_level.as_deref().unwrap_or("INFO");
        if !matches!(level, "INFO" | "DEBUG" | "TRACE") {
            return Err(validation(format!(
                "1 validation error detected: Value '{level}' at 'inspectionLevel' failed to satisfy constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]"
            )));
        }
        let definition = request
            .definition
            .as_deref()
            .ok_or_else(|| ServiceError::new(ErrorKind::MissingRequiredParameter, "TestState needs a 'definition'"))?;
        let plan = Plan::new(definition, request.state_name.as_deref(), request.mock.is_some())?;
        let machine = Arc::new(compile(&plan.machine.to_string())?);
        let input = json_text(request.input.as_deref().unwrap_or("{}"), "input")?;
        let mut context =
            ExecutionContext::new("TestStateMachine", "TestStateExecution", self.inner.engine.clock().now());
        context.inspect = true;
        let configuration = request.state_configuration.unwrap_or_default();
        context.retries_used = configuration.retrier_retry_count.unwrap_or(0);
        if configuration.map_item_reader_data.is_some() && !plan.original.contains_key("ItemReader") {
            return Err(validation("stateConfiguration.mapItemReaderData is for a Map state with an ItemReader"));
        }
        if let Some(state) = &configuration.error_caused_by_state
            && !(1..=80).contains(&state.chars().count())
        {
            return Err(validation(
                "1 validation error detected: Value at 'stateConfiguration.errorCausedByState' failed to satisfy constraint: Member must have length between 1 and 80",
            ));
        }
        if let Some(variables) = &request.variables {
            match json_text(variables, "variables")? {
                Value::Object(variables) => context.variables = variables,
                _ => return Err(validation("The variables must be a JSON object")),
            }
        }
        if let Some(given) = &request.context {
            apply_context(&mut context, &json_text(given, "context")?);
        }
        let mock = match &request.mock {
            Some(mock) => Some(plan.tolerating(plan.mocked_answer(mock)?, configuration.map_iteration_failure_count)?),
            None => {
                plan.check_runnable()?;
                None
            }
        };
        let raw_input = input.to_string();
        let mut variables = context.variables.clone();
        // A mocked Map still reads and selects its items: a fault there fails it, and DEBUG shows
        // each step.
        let map_steps = match plan.kind.as_str() {
            "Map" => {
                let reader_data = configuration.map_item_reader_data.as_deref();
                match self.map_steps(&plan, &input, &context, reader_data).await? {
                    Ok(steps) => steps,
                    Err((error, cause)) => {
                        return Ok(TestStateReply {
                            status: "FAILED",
                            next_state: None,
                            output: None,
                            error,
                            cause,
                            inspection_data: (level != "INFO").then(|| json!({"input": raw_input})),
                        });
                    }
                }
            }
            _ => Map::new(),
        };
        let (outcome, http_exchange) = self.run_test_state(machine, input, context, &plan, mock).await?;
        variables.extend(outcome.assigned.clone());
        let inspection_data = (level != "INFO").then(|| {
            let mut data = Map::new();
            data.insert("input".into(), raw_input.into());
            for (step, value) in &outcome.inspection {
                // A Map's Parameters are its items' selector, shown as afterItemSelector.
                if plan.kind == "Map" && matches!(step.as_str(), "afterParameters" | "afterArguments") {
                    continue;
                }
                data.insert(step.clone(), value.to_string().into());
            }
            data.extend(map_steps.clone());
            if !variables.is_empty() {
                data.insert("variables".into(), Value::Object(variables.clone()).to_string().into());
            }
            if let Some(details) = &outcome.error_details {
                data.insert("errorDetails".into(), details.clone());
            }
            // An HTTP Task's request and response, as AWS shows them at TRACE only.
            if let Some(exchange) = http_exchange.as_ref().filter(|_| level == "TRACE") {
                data.insert("request".into(), exchange["request"].clone());
                data.insert("response".into(), exchange["response"].clone());
            }
            Value::Object(data)
        });
        Ok(TestStateReply {
            status: outcome.status,
            next_state: outcome.next_state,
            output: outcome.output.map(|output| output.to_string()),
            error: outcome.error,
            cause: outcome.cause,
            inspection_data,
        })
    }

    async fn run_test_state(
        &self,
        machine: Arc<StateMachine>,
        input: Value,
        context: ExecutionContext,
        plan: &Plan,
        mock: Option<TaskOutcome>,
    ) -> ServiceResult<(Ran, Option<Value>)> {
        let clock = self.inner.engine.clock().clone();
        let mut http_exchange = None;
        let mut entropy = SystemEntropy;
        let (mut execution, step) = Execution::start(machine, input, context, clock.now(), &mut entropy);
        let mut watch = Watch::new(&plan.name, plan.is_wait);
        let mut actions = std::collections::VecDeque::from(step.actions);
        if let Some(ran) = watch.absorb(&step.history, &actions, &execution) {
            return Ok((ran, http_exchange));
        }
        for _ in 0..MAX_STEPS {
            let Some(action) = actions.pop_front() else {
                return Err(ServiceError::internal("the state neither ended nor waited for anything"));
            };
            let input = match action {
                Action::InvokeTask { task_id, resource, payload, timeout, context, .. } => {
                    let outcome = match &mock {
                        Some(mocked) => mocked.clone(),
                        None => {
                            let call = TaskCall { task_id, resource, payload, payload_text: None, timeout, context };
                            let (outcome, record) = self.inner.engine.tasks().invoke(call).await;
                            if let Some(exchange) = record.and_then(|record| record.http_exchange) {
                                http_exchange = Some(exchange);
                            }
                            outcome
                        }
                    };
                    match outcome {
                        TaskOutcome::Succeeded(output) => Input::TaskSucceeded { task_id, output: output.into() },
                        TaskOutcome::Failed { error, cause } => Input::TaskFailed { task_id, error, cause },
                        TaskOutcome::TimedOut => Input::TaskTimedOut { task_id },
                    }
                }
                // Only a Wait state's own timer is run, and at once: any other is a retry's.
                Action::StartTimer { timer_id, .. } => Input::TimerFired { timer_id },
                Action::CancelTask { .. } | Action::CancelTimer { .. } | Action::Complete(_) => continue,
            };
            let step = execution.apply(input, clock.now(), &mut entropy);
            actions.extend(step.actions);
            if let Some(ran) = watch.absorb(&step.history, &actions, &execution) {
                return Ok((ran, http_exchange));
            }
        }
        Err(validation(format!("The state did not settle within {MAX_STEPS} steps")))
    }
}

/// The failure of a step, as an error and a cause.
type StepFailure = (Option<String>, Option<String>);

impl Service {
    /// What a Map's own steps make of `input`, by inspection name: its items (`afterItemsPath`,
    /// read from `reader_data` when it has an ItemReader), each item selected
    /// (`afterItemSelector`) and batched (`afterItemBatcher`), and its limits. Each step runs in
    /// the interpreter, as the Map with a processor that passes its input on.
    async fn map_steps(
        &self,
        plan: &Plan,
        input: &Value,
        context: &ExecutionContext,
        reader_data: Option<&str>,
    ) -> ServiceResult<Result<Map<String, Value>, StepFailure>> {
        let state = &plan.original;
        let jsonata =
            plan.machine.get("QueryLanguage").or_else(|| state.get("QueryLanguage")) == Some(&json!("JSONata"));
        let selector = ["ItemSelector", if jsonata { "Arguments" } else { "Parameters" }]
            .into_iter()
            .find(|field| state.contains_key(*field));
        let mut steps = Map::new();
        let mut variants = vec![("afterItemsPath", false, false)];
        if selector.is_some() {
            variants.push(("afterItemSelector", true, false));
        }
        if state.contains_key("ItemBatcher") {
            variants.push(("afterItemBatcher", true, true));
        }
        for (step, select, batch) in variants {
            let machine = selection_machine(&plan.machine, &plan.name, state, select, batch);
            match self.evaluate(&machine, input, context, reader_data).await? {
                Ok(value) if step != "afterItemsPath" || !jsonata => {
                    steps.insert(step.into(), value.to_string().into());
                }
                Ok(_) => {}
                Err(failure) => return Ok(Err(failure)),
            }
        }
        for (field, name) in [
            ("MaxConcurrency", "maxConcurrency"),
            ("ToleratedFailureCount", "toleratedFailureCount"),
            ("ToleratedFailurePercentage", "toleratedFailurePercentage"),
        ] {
            if let Some(number) = state.get(field).filter(|value| value.is_number()) {
                steps.insert(name.into(), number.clone());
            }
        }
        Ok(Ok(steps))
    }

    /// Runs `machine` (whose only task is an ItemReader, answered from `reader_data`) to its end.
    async fn evaluate(
        &self,
        machine: &Value,
        input: &Value,
        context: &ExecutionContext,
        reader_data: Option<&str>,
    ) -> ServiceResult<Result<Value, StepFailure>> {
        let machine = Arc::new(compile(&machine.to_string())?);
        let mut context = context.clone();
        context.inspect = false;
        let clock = self.inner.engine.clock().clone();
        let mut entropy = SystemEntropy;
        let (mut execution, step) = Execution::start(machine, input.clone(), context, clock.now(), &mut entropy);
        let mut actions = std::collections::VecDeque::from(step.actions);
        for _ in 0..MAX_STEPS {
            match execution.outcome() {
                Some(ExecutionOutcome::Succeeded(output)) => return Ok(Ok(output.clone())),
                Some(ExecutionOutcome::Failed { error, cause }) => return Ok(Err((error.clone(), cause.clone()))),
                Some(_) => return Err(ServiceError::internal("the Map's items neither came nor failed")),
                None => {}
            }
            let Some(action) = actions.pop_front() else {
                return Err(ServiceError::internal("the Map's items neither came nor failed"));
            };
            let input = match action {
                Action::InvokeTask { task_id, resource: TaskResource::ItemReader { .. }, payload, .. } => {
                    match read_given(&payload, reader_data) {
                        Ok(items) => Input::TaskSucceeded { task_id, output: Value::Array(items).into() },
                        Err(cause) => Input::TaskFailed {
                            task_id,
                            error: stepwasm_asl::names::ITEM_READER_FAILED.to_owned(),
                            cause: Some(cause),
                        },
                    }
                }
                Action::InvokeTask { task_id, .. } => Input::TaskFailed {
                    task_id,
                    error: stepwasm_asl::names::TASK_FAILED.to_owned(),
                    cause: Some("A Map's items are read by its ItemReader alone here".to_owned()),
                },
                Action::StartTimer { timer_id, .. } => Input::TimerFired { timer_id },
                Action::CancelTask { .. } | Action::CancelTimer { .. } | Action::Complete(_) => continue,
            };
            let step = execution.apply(input, clock.now(), &mut entropy);
            actions.extend(step.actions);
        }
        Err(validation(format!("The Map's items did not settle within {MAX_STEPS} steps")))
    }
}

/// The items an ItemReader reads from `stateConfiguration.mapItemReaderData`, as its
/// `ReaderConfig` says.
fn read_given(payload: &Value, reader_data: Option<&str>) -> Result<Vec<Value>, String> {
    let Some(data) = reader_data else {
        return Err(
            "The Map reads its items with an ItemReader: give them as stateConfiguration.mapItemReaderData".into()
        );
    };
    let empty = Map::new();
    let config = payload.get("ReaderConfig").and_then(Value::as_object).unwrap_or(&empty);
    let max_items =
        config.get("MaxItems").and_then(Value::as_u64).map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    crate::objects::parse_items(data.as_bytes(), config, max_items, "mapItemReaderData")
}

/// The machine that runs a Map's own steps only: `state` without what shapes its result, its
/// processor a Pass that hands each child's input on, and, unless `select` and `batch` say
/// otherwise, no ItemSelector and no ItemBatcher.
fn selection_machine(machine: &Value, name: &str, state: &Map<String, Value>, select: bool, batch: bool) -> Value {
    let mut map = state.clone();
    let drop = [
        "ResultPath",
        "ResultSelector",
        "OutputPath",
        "Output",
        "Assign",
        "Retry",
        "Catch",
        "Next",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ResultWriter",
    ];
    for field in drop {
        map.remove(field);
    }
    if !select {
        for field in ["ItemSelector", "Parameters", "Arguments"] {
            map.remove(field);
        }
    }
    if !batch {
        map.remove("ItemBatcher");
    }
    map.insert("End".into(), true.into());
    let processor = ["ItemProcessor", "Iterator"].into_iter().find_map(|field| map.remove(field));
    let config = processor.as_ref().and_then(|p| p.get("ProcessorConfig")).cloned();
    let mut pass_on = json!({"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}});
    if let Some(config) = config {
        pass_on["ProcessorConfig"] = config;
    }
    map.insert("ItemProcessor".into(), pass_on);
    let mut selection = json!({"StartAt": name, "States": {name: map}});
    if let Some(query_language) = machine.get("QueryLanguage") {
        selection["QueryLanguage"] = query_language.clone();
    }
    selection
}

/// The machine a state is tested in.
struct Plan {
    /// The state's name.
    name: String,
    /// The state's definition.
    state: Map<String, Value>,
    /// `{"StartAt": name, "States": {name: state, …stand-ins}}`.
    machine: Value,
    is_wait: bool,
    /// The state's `Type`.
    kind: String,
    /// The state as given, before a mocked Map or Parallel became a Task.
    original: Map<String, Value>,
}

impl Plan {
    /// `mocked`: the request has a mock, which a Map or Parallel state needs.
    fn new(definition: &str, state_name: Option<&str>, mocked: bool) -> ServiceResult<Plan> {
        let invalid = |message: String| {
            ServiceError::new(ErrorKind::InvalidDefinition, format!("Invalid State Machine Definition: '{message}'"))
        };
        let document: Value =
            serde_json::from_str(definition).map_err(|error| invalid(format!("not JSON: {error}")))?;
        let Value::Object(document) = document else { return Err(invalid("not a JSON object".into())) };
        let (name, state, query_language) = match state_name {
            Some(name) => {
                let state = find_state(&document, name)
                    .ok_or_else(|| validation(format!("The definition has no state named '{name}'")))?;
                (name.to_owned(), state.clone(), document.get("QueryLanguage").cloned())
            }
            None if document.contains_key("States") => {
                return Err(validation("A whole state machine definition needs the 'stateName' of the state to test"));
            }
            None => (SINGLE_STATE.to_owned(), document, None),
        };
        let kind = state.get("Type").and_then(Value::as_str).unwrap_or_default().to_owned();
        let original = state.clone();
        let state = match kind.as_str() {
            "Map" | "Parallel" if !mocked => {
                return Err(validation(format!("A {kind} state is tested with a 'mock' of its result, as on AWS")));
            }
            "Map" | "Parallel" => as_mocked_task(&kind, state),
            _ => state,
        };
        let mut states = Map::new();
        for target in targets(&state) {
            if target != name {
                states.insert(target, json!({"Type": "Succeed"}));
            }
        }
        states.insert(name.clone(), Value::Object(state.clone()));
        let mut machine = Map::new();
        if let Some(query_language) = query_language {
            machine.insert("QueryLanguage".into(), query_language);
        }
        machine.insert("StartAt".into(), name.clone().into());
        machine.insert("States".into(), Value::Object(states));
        Ok(Plan { name, is_wait: kind == "Wait", kind, original, state, machine: Value::Object(machine) })
    }

    fn resource(&self) -> Option<TaskResource> {
        // A Map or Parallel state runs as a Task whose result is the mock (see `as_mocked_task`).
        (self.state.get("Type")? == "Task").then_some(())?;
        TaskResource::parse(self.state.get("Resource")?.as_str()?).ok()
    }

    /// A task that waits for a token or a worker cannot run here: AWS too requires a mock.
    fn check_runnable(&self) -> ServiceResult<()> {
        let Some(resource) = self.resource() else { return Ok(()) };
        let callback = match &resource {
            TaskResource::Activity { .. } => true,
            TaskResource::LambdaInvoke { wait_for_task_token, .. } => *wait_for_task_token,
            TaskResource::Other(arn) => arn.ends_with(".waitForTaskToken") || arn.contains(".sync"),
            _ => false,
        };
        if callback {
            return Err(validation(format!(
                "The resource {resource} waits for a task token, a worker or a child: test it with a 'mock'"
            )));
        }
        Ok(())
    }

    /// A mocked Map's outcome once `failures` of its iterations failed: past what it tolerates,
    /// it fails with `States.ExceedToleratedFailureThreshold` instead.
    fn tolerating(&self, outcome: TaskOutcome, failures: Option<u64>) -> ServiceResult<TaskOutcome> {
        let Some(failures) = failures else { return Ok(outcome) };
        if self.kind != "Map" {
            return Err(validation("stateConfiguration.mapIterationFailureCount applies to a Map state"));
        }
        let number = |field: &str| self.original.get(field).and_then(Value::as_f64);
        let tolerated_count = number("ToleratedFailureCount");
        let tolerated_percentage = number("ToleratedFailurePercentage");
        let total = match &outcome {
            TaskOutcome::Succeeded(Value::Array(results)) => results.len() as f64 + failures as f64,
            _ => failures as f64,
        };
        let exceeded = match (tolerated_count, tolerated_percentage) {
            (None, None) => failures > 0,
            (count, percentage) => {
                count.is_some_and(|count| failures as f64 > count)
                    || percentage.is_some_and(|percentage| failures as f64 * 100.0 / total.max(1.0) > percentage)
            }
        };
        Ok(if exceeded {
            TaskOutcome::Failed {
                error: stepwasm_asl::names::EXCEED_TOLERATED_FAILURE_THRESHOLD.to_owned(),
                cause: Some("The specified tolerated failure threshold was exceeded".to_owned()),
            }
        } else {
            outcome
        })
    }

    /// The task's outcome the mock gives, checked as its `fieldValidationMode` says.
    fn mocked_answer(&self, mock: &TestStateMock) -> ServiceResult<TaskOutcome> {
        let Some(resource) = self.resource() else {
            return Err(validation("A 'mock' answers a Task state's resource; this state has none"));
        };
        let mode = mock.field_validation_mode.as_deref().unwrap_or("STRICT");
        if !matches!(mode, "STRICT" | "PRESENT" | "NONE") {
            return Err(validation(format!(
                "1 validation error detected: Value '{mode}' at 'mock.fieldValidationMode' failed to satisfy constraint: Member must satisfy enum value set: [STRICT, PRESENT, NONE]"
            )));
        }
        match (&mock.result, &mock.error_output) {
            (Some(result), None) => {
                let result = json_text(result, "mock result")?;
                if let TaskResource::LambdaInvoke { wait_for_task_token: false, .. } = resource {
                    check_lambda_response(&result, mode)?;
                    let payload = result.get("Payload").cloned().unwrap_or(Value::Null);
                    return Ok(TaskOutcome::Succeeded(payload));
                }
                Ok(TaskOutcome::Succeeded(result))
            }
            (None, Some(error)) => {
                Ok(TaskOutcome::Failed { error: error.error.clone().unwrap_or_default(), cause: error.cause.clone() })
            }
            _ => Err(validation("A 'mock' has either a 'result' or an 'errorOutput'")),
        }
    }
}

/// The Task that stands for a mocked Map or Parallel state: the mock is the result its children
/// would have made, so it keeps the fields that shape its input and output, and its Retry and
/// Catch, and drops those that run children.
fn as_mocked_task(kind: &str, mut state: Map<String, Value>) -> Map<String, Value> {
    let children = [
        "Branches",
        "ItemsPath",
        "Items",
        "ItemSelector",
        "ItemProcessor",
        "Iterator",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "Label",
    ];
    for field in children {
        state.remove(field);
    }
    // A Map's `Parameters` is its legacy ItemSelector, not what a Task's would be.
    if kind == "Map" {
        state.remove("Parameters");
        state.remove("Arguments");
    }
    state.insert("Type".into(), "Task".into());
    state.insert("Resource".into(), format!("wasm:mocked-{}", kind.to_lowercase()).into());
    state
}

/// The fields of Lambda's Invoke response, and whether each is a number.
const LAMBDA_RESPONSE: [(&str, bool); 7] = [
    ("StatusCode", true),
    ("Payload", false),
    ("ExecutedVersion", false),
    ("FunctionError", false),
    ("LogResult", false),
    ("SdkHttpMetadata", false),
    ("SdkResponseMetadata", false),
];

/// Checks a mocked `lambda:invoke` result against Lambda's Invoke response: under `STRICT`
/// every field must be one of it, rightly typed, with `StatusCode` and `Payload` present; under
/// `PRESENT` only the fields given are checked; `NONE` checks nothing.
fn check_lambda_response(result: &Value, mode: &str) -> ServiceResult<()> {
    if mode == "NONE" {
        return Ok(());
    }
    let Value::Object(fields) = result else {
        return Err(validation(
            "The mock result of a lambda:invoke task must be Lambda's Invoke response, a JSON object",
        ));
    };
    for (field, value) in fields {
        match LAMBDA_RESPONSE.iter().find(|(name, _)| name == field) {
            None => {
                return Err(validation(format!(
                    "Mock result schema validation error: Field '{field}' is not supported by the Lambda Invoke response"
                )));
            }
            Some((_, true)) if !value.is_i64() => {
                return Err(validation(format!(
                    "Mock result schema validation error: Field '{field}' must be an integer"
                )));
            }
            Some((name, false)) if *name != "Payload" && !value.is_string() && !value.is_object() => {
                return Err(validation(format!(
                    "Mock result schema validation error: Field '{field}' has the wrong type"
                )));
            }
            _ => {}
        }
    }
    if mode == "STRICT" {
        for required in ["StatusCode", "Payload"] {
            if !fields.contains_key(required) {
                return Err(validation(format!("Mock result schema validation error: Field '{required}' is required")));
            }
        }
    }
    Ok(())
}

/// The state named `name`, at the top level or inside a Parallel branch or a Map's processor.
fn find_state<'d>(document: &'d Map<String, Value>, name: &str) -> Option<&'d Map<String, Value>> {
    let states = document.get("States")?.as_object()?;
    if let Some(Value::Object(state)) = states.get(name) {
        return Some(state);
    }
    states.values().filter_map(Value::as_object).find_map(|state| {
        let branches =
            state.get("Branches").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object);
        let processor = ["ItemProcessor", "Iterator"].into_iter().filter_map(|field| state.get(field)?.as_object());
        branches.chain(processor).find_map(|inner| find_state(inner, name))
    })
}

/// The states a state can go to.
fn targets(state: &Map<String, Value>) -> BTreeSet<String> {
    let mut targets = BTreeSet::new();
    let mut add = |value: Option<&Value>| {
        if let Some(Value::String(target)) = value {
            targets.insert(target.clone());
        }
    };
    add(state.get("Next"));
    add(state.get("Default"));
    for list in ["Choices", "Catch"] {
        for item in state.get(list).and_then(Value::as_array).into_iter().flatten() {
            add(item.get("Next"));
        }
    }
    targets
}

/// `context`: the context object's values, for the fields an execution's context holds.
fn apply_context(context: &mut ExecutionContext, given: &Value) {
    let text = |pointer: &str| given.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    if let Some(id) = text("/Execution/Id") {
        context.execution_arn = id;
    }
    if let Some(name) = text("/Execution/Name") {
        context.execution_name = name;
    }
    if let Some(role) = text("/Execution/RoleArn") {
        context.role_arn = role;
    }
    if let Some(start) = text("/Execution/StartTime").and_then(|t| stepwasm_asl::Timestamp::parse_rfc3339(&t)) {
        context.start_time = start;
    }
    if let Some(id) = text("/StateMachine/Id") {
        context.state_machine_arn = id;
    }
    if let Some(name) = text("/StateMachine/Name") {
        context.state_machine_name = name;
    }
}

/// How the tested state came out.
struct Ran {
    status: &'static str,
    next_state: Option<String>,
    output: Option<Value>,
    error: Option<String>,
    cause: Option<String>,
    inspection: Map<String, Value>,
    /// The variables the state assigned.
    assigned: Map<String, Value>,
    error_details: Option<Value>,
}

/// Follows the history until the tested state is done.
struct Watch<'p> {
    name: &'p str,
    is_wait: bool,
    /// The tested state's output, once it exited.
    exited: Option<Value>,
    /// The last error it met (a task's failure, a timeout), with its cause.
    failure: Option<(Option<String>, Option<String>)>,
    /// The variables it assigned as it exited.
    assigned: Map<String, Value>,
}

impl<'p> Watch<'p> {
    fn new(name: &'p str, is_wait: bool) -> Self {
        Watch { name, is_wait, exited: None, failure: None, assigned: Map::new() }
    }

    fn absorb(
        &mut self,
        history: &[HistoryEvent],
        pending: &std::collections::VecDeque<Action>,
        execution: &Execution,
    ) -> Option<Ran> {
        let done =
            |status, next_state, output, failure: Option<(Option<String>, Option<String>)>, error_details, assigned| {
                let (error, cause) = failure.unwrap_or_default();
                Some(Ran {
                    status,
                    next_state,
                    output,
                    error,
                    cause,
                    inspection: execution.inspection().cloned().unwrap_or_default(),
                    assigned,
                    error_details,
                })
            };
        for event in history {
            let aws = event.to_aws_json();
            let kind = event.event_type();
            let details = aws.as_object().and_then(|object| {
                object.iter().find(|(key, _)| key.ends_with("EventDetails")).map(|(_, details)| details)
            });
            if kind.ends_with("StateEntered") && self.exited.is_some() {
                let next = details.and_then(|d| d["name"].as_str()).map(str::to_owned);
                let status = if self.failure.is_some() { "CAUGHT_ERROR" } else { "SUCCEEDED" };
                return done(
                    status,
                    next,
                    self.exited.take(),
                    self.failure.take(),
                    None,
                    std::mem::take(&mut self.assigned),
                );
            }
            if kind.ends_with("StateExited") && details.and_then(|d| d["name"].as_str()) == Some(self.name) {
                self.exited =
                    details.and_then(|d| d["output"].as_str()).and_then(|text| serde_json::from_str(text).ok());
                // Each assigned variable is recorded as JSON text.
                let assigned = details.and_then(|d| d["assignedVariables"].as_object()).into_iter().flatten();
                self.assigned = assigned
                    .filter_map(|(name, text)| Some((name.clone(), serde_json::from_str(text.as_str()?).ok()?)))
                    .collect();
                continue;
            }
            if kind == "ExecutionSucceeded" {
                let output = self.exited.take().or_else(|| match execution.outcome() {
                    Some(ExecutionOutcome::Succeeded(output)) => Some(output.clone()),
                    _ => None,
                });
                return done("SUCCEEDED", None, output, None, None, std::mem::take(&mut self.assigned));
            }
            if kind == "ExecutionFailed" {
                let error = details.and_then(|d| d["error"].as_str()).map(str::to_owned);
                let cause = details.and_then(|d| d["cause"].as_str()).map(str::to_owned);
                return done("FAILED", None, None, Some((error, cause)), None, Map::new());
            }
            if let Some(details) = details
                && (kind.ends_with("Failed") || kind.ends_with("TimedOut"))
                && details.get("error").is_some()
            {
                let text = |field: &str| details[field].as_str().map(str::to_owned);
                self.failure = Some((text("error"), text("cause")));
            }
        }
        // A timer the state waits on, other than its own Wait, is a retry's back-off.
        if !self.is_wait && self.exited.is_none() && self.failure.is_some() {
            let backoff = pending.iter().find_map(|action| match action {
                Action::StartTimer { fire_at, .. } => Some(*fire_at),
                _ => None,
            });
            if let Some(fire_at) = backoff {
                let now = history.last().map_or(fire_at, |event| event.timestamp);
                let seconds = (fire_at.0 - now.0).max(0) as f64 / 1000.0;
                let details = json!({"retryBackoffIntervalSeconds": seconds.round() as i64});
                return done("RETRIABLE", None, None, self.failure.take(), Some(details), Map::new());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_runs_in_a_machine_of_its_own() {
        let plan = Plan::new(
            r#"{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":1,"Next":"One"}],"Default":"Other"}"#,
            None,
            false,
        )
        .unwrap();
        assert_eq!(plan.name, SINGLE_STATE);
        let states = plan.machine["States"].as_object().unwrap();
        assert_eq!(states.keys().collect::<Vec<_>>(), ["One", "Other", "TestState"]);
        assert_eq!(states["One"], json!({"Type": "Succeed"}));

        let whole = r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Parallel","End":true,
            "Branches":[{"StartAt":"Inner","States":{"Inner":{"Type":"Pass","Next":"Last"},"Last":{"Type":"Succeed"}}}]}}}"#;
        let plan = Plan::new(whole, Some("Inner"), false).unwrap();
        assert_eq!(plan.machine["QueryLanguage"], "JSONata", "the machine's query language carries over");
        assert_eq!(plan.machine["StartAt"], "Inner");
        assert!(Plan::new(whole, Some("Nowhere"), false).is_err());
        assert!(Plan::new(whole, None, false).is_err(), "a whole machine needs a state name");
        assert!(Plan::new(whole, Some("P"), false).is_err(), "a Parallel state needs a mock");
        let mocked = Plan::new(whole, Some("P"), true).unwrap();
        let state = &mocked.machine["States"]["P"];
        assert_eq!((&state["Type"], state.get("Branches")), (&json!("Task"), None));
    }

    #[test]
    fn lambda_mocks_are_checked_as_the_mode_says() {
        let strict = |result: Value| check_lambda_response(&result, "STRICT");
        assert!(strict(json!({"StatusCode": 200, "Payload": {"ok": true}})).is_ok());
        assert!(strict(json!({"Payload": {}})).is_err(), "STRICT wants StatusCode");
        assert!(strict(json!({"StatusCode": "200", "Payload": {}})).is_err());
        assert!(strict(json!({"StatusCode": 200, "Payload": {}, "Body": 1})).is_err());
        assert!(check_lambda_response(&json!({"Payload": {}}), "PRESENT").is_ok());
        assert!(check_lambda_response(&json!({"Body": 1}), "PRESENT").is_err());
        assert!(check_lambda_response(&json!(["anything"]), "NONE").is_ok());
    }
}
