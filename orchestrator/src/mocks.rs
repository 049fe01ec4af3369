//! Mocked task responses, in the format of AWS Step Functions Local's `MockConfigFile`.
//!
//! ```json
//! {
//!   "StateMachines": {
//!     "OrderPipeline": {
//!       "TestCases": {
//!         "CarrierRetry": { "ShipOrder": "CarrierFlaky" }
//!       }
//!     }
//!   },
//!   "MockedResponses": {
//!     "CarrierFlaky": {
//!       "0-1": { "Throw": { "Error": "CarrierUnavailable", "Cause": "the carrier's API is down" } },
//!       "2": { "Return": { "trackingNumber": "1Z999" } }
//!     }
//!   }
//! }
//! ```
//!
//! A test case maps state names (a state inside a Parallel or Map is named alone) to a mocked
//! response; a mocked response maps invocation numbers (`"0"`, or a range `"1-2"`, counting every
//! invocation of that state in the execution from 0, retries included) to `Return` (the task's
//! result) or `Throw` (its error). States the test case does not name run for real. For
//! `arn:aws:states:::lambda:invoke` a `Return` is Lambda's whole Invoke response, as on Step
//! Functions Local: its `Payload` is what the function returned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};
use stepwasm_asl::{TaskId, TaskResource};

use crate::engine::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome};

/// What is wrong with a mock configuration, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct MockConfigError {
    /// Where, as a JSON pointer (`/MockedResponses/CarrierFlaky/0-1`).
    pub path: String,
    /// What.
    pub message: String,
}

fn fault(path: impl Into<String>, message: impl Into<String>) -> MockConfigError {
    MockConfigError { path: path.into(), message: message.into() }
}

/// One mocked answer.
#[derive(Debug, Clone, PartialEq)]
pub enum MockedAnswer {
    /// The task's result.
    Return(Value),
    /// The task fails with this error and cause.
    Throw {
        /// The error name, as Retry and Catch match it.
        error: String,
        /// The cause.
        cause: Option<String>,
    },
}

/// A mocked response: answers by invocation number.
#[derive(Debug, Clone, PartialEq)]
struct MockedResponse {
    /// (first, last) invocation, inclusive, and the answer.
    answers: Vec<(u64, u64, MockedAnswer)>,
}

/// A parsed `MockConfigFile`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MockConfig {
    /// State machine name → test case name → state name → mocked response name.
    state_machines: HashMap<String, HashMap<String, HashMap<String, String>>>,
    responses: HashMap<String, MockedResponse>,
}

/// What a test case says about one invocation of a state.
#[derive(Debug, Clone, PartialEq)]
pub enum Mocked {
    /// The test case does not mock this state: it runs for real.
    NotMocked,
    /// This answer.
    Answer(MockedAnswer),
    /// The state is mocked, but not for this invocation.
    Exhausted {
        /// The mocked response's name.
        response: String,
        /// The invocation, from 0.
        invocation: u64,
    },
}

impl MockConfig {
    /// Parses and checks a configuration: every test case names responses that exist, and every
    /// response has `Return` or `Throw` (not both) for invocation ranges that do not overlap.
    pub fn parse(text: &str) -> Result<Self, MockConfigError> {
        let document: Value = serde_json::from_str(text).map_err(|error| fault("", format!("not JSON: {error}")))?;
        Self::from_value(&document)
    }

    /// [`MockConfig::parse`], of a document already read.
    pub fn from_value(document: &Value) -> Result<Self, MockConfigError> {
        let root = object(document, "")?;
        let mut responses = HashMap::new();
        if let Some(mocked) = root.get("MockedResponses") {
            for (name, response) in object(mocked, "/MockedResponses")? {
                let path = format!("/MockedResponses/{name}");
                responses.insert(name.clone(), parse_response(response, &path)?);
            }
        }
        let mut state_machines = HashMap::new();
        if let Some(machines) = root.get("StateMachines") {
            for (machine, cases) in object(machines, "/StateMachines")? {
                let machine_path = format!("/StateMachines/{machine}");
                let cases_value = object(cases, &machine_path)?
                    .get("TestCases")
                    .ok_or_else(|| fault(&machine_path, "a state machine needs 'TestCases'"))?;
                let mut test_cases = HashMap::new();
                for (case, states) in object(cases_value, &format!("{machine_path}/TestCases"))? {
                    let case_path = format!("{machine_path}/TestCases/{case}");
                    let mut mocked_states = HashMap::new();
                    for (state, response) in object(states, &case_path)? {
                        let state_path = format!("{case_path}/{state}");
                        let Value::String(response) = response else {
                            return Err(fault(state_path, "a state is mocked by the name of a mocked response"));
                        };
                        if !responses.contains_key(response) {
                            return Err(fault(state_path, format!("no mocked response is named '{response}'")));
                        }
                        mocked_states.insert(state.clone(), response.clone());
                    }
                    test_cases.insert(case.clone(), mocked_states);
                }
                state_machines.insert(machine.clone(), test_cases);
            }
        }
        if let Some(key) = root.keys().find(|key| !matches!(key.as_str(), "StateMachines" | "MockedResponses")) {
            return Err(fault(format!("/{key}"), "only 'StateMachines' and 'MockedResponses' belong here"));
        }
        Ok(MockConfig { state_machines, responses })
    }

    /// Adds the state machines and responses of `other`, which must use names of its own.
    pub fn merge(&mut self, other: MockConfig) -> Result<(), MockConfigError> {
        if let Some(name) = other.state_machines.keys().find(|name| self.state_machines.contains_key(*name)) {
            return Err(fault(format!("/StateMachines/{name}"), "is configured twice"));
        }
        if let Some(name) = other.responses.keys().find(|name| self.responses.contains_key(*name)) {
            return Err(fault(format!("/MockedResponses/{name}"), "is configured twice"));
        }
        self.state_machines.extend(other.state_machines);
        self.responses.extend(other.responses);
        Ok(())
    }

    /// Whether the configuration has `test_case` for the state machine `machine`.
    pub fn has_test_case(&self, machine: &str, test_case: &str) -> bool {
        self.state_machines.get(machine).is_some_and(|cases| cases.contains_key(test_case))
    }

    /// The test cases of `machine`, by name.
    pub fn test_cases(&self, machine: &str) -> Vec<&str> {
        let mut cases: Vec<&str> = self
            .state_machines
            .get(machine)
            .map(|cases| cases.keys().map(String::as_str).collect())
            .unwrap_or_default();
        cases.sort_unstable();
        cases
    }

    /// What `test_case` of `machine` answers for invocation `invocation` of `state`.
    pub fn answer(&self, machine: &str, test_case: &str, state: &str, invocation: u64) -> Mocked {
        let Some(name) = self.state_machines.get(machine).and_then(|cases| cases.get(test_case)?.get(state)) else {
            return Mocked::NotMocked;
        };
        let answer = self.responses.get(name).and_then(|response| {
            response.answers.iter().find(|(first, last, _)| (*first..=*last).contains(&invocation))
        });
        match answer {
            Some((_, _, answer)) => Mocked::Answer(answer.clone()),
            None => Mocked::Exhausted { response: name.clone(), invocation },
        }
    }
}

fn object<'v>(value: &'v Value, path: &str) -> Result<&'v Map<String, Value>, MockConfigError> {
    value.as_object().ok_or_else(|| fault(path, "expected a JSON object"))
}

fn parse_response(value: &Value, path: &str) -> Result<MockedResponse, MockConfigError> {
    let mut answers: Vec<(u64, u64, MockedAnswer)> = Vec::new();
    for (range, answer) in object(value, path)? {
        let at = format!("{path}/{range}");
        let (first, last) = parse_range(range)
            .ok_or_else(|| fault(&at, "an invocation is a number from 0 (\"0\") or a range of them (\"1-2\")"))?;
        if let Some((taken, _, _)) = answers.iter().find(|(f, l, _)| first <= *l && *f <= last) {
            return Err(fault(&at, format!("overlaps the range that starts at invocation {taken}")));
        }
        let answer = object(answer, &at)?;
        let parsed = match (answer.get("Return"), answer.get("Throw")) {
            (Some(result), None) => MockedAnswer::Return(result.clone()),
            (None, Some(thrown)) => {
                let thrown_at = format!("{at}/Throw");
                let thrown = object(thrown, &thrown_at)?;
                let Some(Value::String(error)) = thrown.get("Error") else {
                    return Err(fault(thrown_at, "'Throw' needs a string 'Error'"));
                };
                let cause = match thrown.get("Cause") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(cause)) => Some(cause.clone()),
                    Some(_) => return Err(fault(format!("{thrown_at}/Cause"), "'Cause' must be a string")),
                };
                MockedAnswer::Throw { error: error.clone(), cause }
            }
            _ => return Err(fault(&at, "an answer has either 'Return' or 'Throw'")),
        };
        answers.push((first, last, parsed));
    }
    Ok(MockedResponse { answers })
}

fn parse_range(text: &str) -> Option<(u64, u64)> {
    let number = |part: &str| part.trim().parse::<u64>().ok();
    match text.split_once('-') {
        Some((first, last)) => Some((number(first)?, number(last)?)).filter(|(first, last)| first <= last),
        None => number(text).map(|n| (n, n)),
    }
}

/// The task's outcome for a mocked answer to a call of `resource`.
pub fn mocked_outcome(resource: &TaskResource, answer: MockedAnswer) -> TaskOutcome {
    match answer {
        // The interpreter wraps a lambda:invoke function's result in Lambda's response itself. (A
        // `.waitForTaskToken` task's result is what SendTaskSuccess sent: nothing to unwrap.)
        MockedAnswer::Return(Value::Object(mut response))
            if matches!(resource, TaskResource::LambdaInvoke { wait_for_task_token: false, .. }) =>
        {
            TaskOutcome::Succeeded(response.remove("Payload").unwrap_or(Value::Null))
        }
        MockedAnswer::Return(result) => TaskOutcome::Succeeded(result),
        MockedAnswer::Throw { error, cause } => TaskOutcome::Failed { error, cause },
    }
}

/// The mocks of one execution: its state machine's name in the configuration, and its test
/// case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockedExecution {
    /// The state machine's name in `StateMachines`.
    pub machine: String,
    /// The test case.
    pub test_case: String,
}

/// Finds the test case of an execution this process has not registered (one started before a
/// restart, say), from wherever it was recorded.
pub type TestCaseLookup = Arc<dyn Fn(String) -> BoxFuture<'static, Option<MockedExecution>> + Send + Sync>;

/// Answers the tasks of executions started with a test case from a [`MockConfig`]; every other
/// task goes to `inner`.
pub struct MockedTasks {
    config: Arc<MockConfig>,
    inner: Arc<dyn TaskInvoker>,
    lookup: Option<TestCaseLookup>,
    /// The executions that run a test case.
    executions: Mutex<HashMap<String, MockedExecution>>,
    /// How many times each (execution, state) was invoked.
    invocations: Mutex<HashMap<(String, String), u64>>,
}

impl MockedTasks {
    /// Mocks from `config`, over `inner`; `lookup` finds the test cases of executions not
    /// registered here.
    pub fn new(config: Arc<MockConfig>, inner: Arc<dyn TaskInvoker>, lookup: Option<TestCaseLookup>) -> Self {
        MockedTasks { config, inner, lookup, executions: Mutex::default(), invocations: Mutex::default() }
    }

    /// The configuration.
    pub fn config(&self) -> &MockConfig {
        &self.config
    }

    /// From now on, `execution_arn` runs `mocked`.
    pub fn register(&self, execution_arn: &str, mocked: MockedExecution) {
        self.executions.lock().unwrap_or_else(PoisonError::into_inner).insert(execution_arn.to_owned(), mocked);
    }

    /// The answer for this call, counting it, if its execution runs `mocked`.
    fn answer(&self, call: &TaskCall, mocked: &MockedExecution) -> Mocked {
        let state = &call.context.state_name;
        let invocation = {
            let mut invocations = self.invocations.lock().unwrap_or_else(PoisonError::into_inner);
            let count = invocations.entry((call.context.execution_arn.clone(), state.clone())).or_insert(0);
            *count += 1;
            *count - 1
        };
        self.config.answer(&mocked.machine, &mocked.test_case, state, invocation)
    }

    /// The test case `execution_arn` runs, if any.
    async fn test_case_of(&self, execution_arn: &str) -> Option<MockedExecution> {
        let known = self.executions.lock().unwrap_or_else(PoisonError::into_inner).get(execution_arn).cloned();
        if known.is_some() {
            return known;
        }
        let found = (self.lookup.as_ref()?)(execution_arn.to_owned()).await?;
        self.register(execution_arn, found.clone());
        Some(found)
    }
}

impl TaskInvoker for MockedTasks {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        // An ItemReader or a ResultWriter is the Map's own work, not a state's task.
        if matches!(call.resource, TaskResource::ItemReader { .. } | TaskResource::ResultWriter { .. }) {
            return self.inner.invoke(call);
        }
        Box::pin(async move {
            let Some(mocked) = self.test_case_of(&call.context.execution_arn).await else {
                return self.inner.invoke(call).await;
            };
            match self.answer(&call, &mocked) {
                Mocked::NotMocked => self.inner.invoke(call).await,
                Mocked::Answer(answer) => (mocked_outcome(&call.resource, answer), None),
                Mocked::Exhausted { response, invocation } => {
                    let cause = format!(
                        "The mocked response '{response}' has no answer for invocation {invocation} of state '{}'",
                        call.context.state_name
                    );
                    let error = stepwasm_asl::names::TASK_FAILED.to_owned();
                    (TaskOutcome::Failed { error, cause: Some(cause) }, None)
                }
            }
        })
    }

    fn cancel(&self, execution_arn: &str, task_id: TaskId) {
        self.inner.cancel(execution_arn, task_id);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const LOCAL: &str = r#"{
      "StateMachines": {
        "LambdaSQSIntegration": {
          "TestCases": {
            "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
            "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"}
          }
        }
      },
      "MockedResponses": {
        "MockedLambdaSuccess": {"0": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}},
        "MockedSQSSuccess": {"0": {"Return": {"MD5OfMessageBody": "3bcb6e8e", "MessageId": "7c9ef30f"}}},
        "MockedLambdaRetry": {
          "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}},
          "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
          "3": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}
        }
      }
    }"#;

    #[test]
    fn a_step_functions_local_file_answers_by_invocation() {
        let config = MockConfig::parse(LOCAL).unwrap();
        assert!(config.has_test_case("LambdaSQSIntegration", "RetryPath"));
        assert_eq!(config.test_cases("LambdaSQSIntegration"), ["HappyPath", "RetryPath"]);
        let answer = |state: &str, n| config.answer("LambdaSQSIntegration", "RetryPath", state, n);
        let thrown = |error: &str| match answer("LambdaState", 0) {
            Mocked::Answer(MockedAnswer::Throw { error: got, .. }) => got == error,
            _ => false,
        };
        assert!(thrown("Lambda.ResourceNotReadyException"));
        for n in [1, 2] {
            assert!(
                matches!(answer("LambdaState", n), Mocked::Answer(MockedAnswer::Throw { error, .. }) if error == "Lambda.TimeoutException")
            );
        }
        assert!(matches!(answer("LambdaState", 3), Mocked::Answer(MockedAnswer::Return(_))));
        assert_eq!(answer("LambdaState", 4), Mocked::Exhausted { response: "MockedLambdaRetry".into(), invocation: 4 });
        assert_eq!(answer("Unmocked", 0), Mocked::NotMocked);
        assert_eq!(config.answer("Other", "RetryPath", "LambdaState", 0), Mocked::NotMocked);
    }

    #[test]
    fn lambda_invoke_mocks_give_the_function_its_payload() {
        let resource = TaskResource::LambdaInvoke { function: "f".into(), wait_for_task_token: false };
        let answer = MockedAnswer::Return(json!({"StatusCode": 200, "Payload": {"ok": true}}));
        assert_eq!(mocked_outcome(&resource, answer.clone()), TaskOutcome::Succeeded(json!({"ok": true})));
        let plain = TaskResource::Wasm { name: "f".into() };
        let whole = TaskOutcome::Succeeded(json!({"StatusCode": 200, "Payload": {"ok": true}}));
        assert_eq!(mocked_outcome(&plain, answer.clone()), whole);
        let callback = TaskResource::LambdaInvoke { function: "f".into(), wait_for_task_token: true };
        assert_eq!(mocked_outcome(&callback, answer), whole, "a callback's result is what the token was sent");
    }

    #[test]
    fn faults_are_named_by_their_path() {
        let fault_of = |text: &str| MockConfig::parse(text).unwrap_err().path;
        assert_eq!(
            fault_of(r#"{"StateMachines":{"M":{"TestCases":{"T":{"S":"Missing"}}}},"MockedResponses":{}}"#),
            "/StateMachines/M/TestCases/T/S"
        );
        assert_eq!(fault_of(r#"{"MockedResponses":{"R":{"0-x":{"Return":1}}}}"#), "/MockedResponses/R/0-x");
        assert_eq!(
            fault_of(r#"{"MockedResponses":{"R":{"0-2":{"Return":1},"2":{"Return":2}}}}"#),
            "/MockedResponses/R/2"
        );
        assert_eq!(
            fault_of(r#"{"MockedResponses":{"R":{"0":{"Return":1,"Throw":{"Error":"E"}}}}}"#),
            "/MockedResponses/R/0"
        );
        assert_eq!(fault_of(r#"{"MockedResponses":{"R":{"0":{"Throw":{}}}}}"#), "/MockedResponses/R/0/Throw");
        assert_eq!(fault_of(r#"{"Extra":1}"#), "/Extra");
        assert_eq!(fault_of("[1"), "");
    }
}
