//! Runs AWS-recorded executions and compares stepwasm's results with what AWS recorded.
//!
//! A case file holds one JSON object per line (the format of `shared/conformance/README.md`):
//! a definition, an input, and AWS's status, output, error, cause and history event types.
//! Task states call Wasm stand-ins for the recorded Lambda handlers, chosen by the handler file
//! each case's `lambdas` names. Each case runs on tokio's paused clock, starting at the time AWS
//! recorded it, so Wait states and retry back-offs take no real time and dates compare as they
//! did on AWS.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stepwasm_asl::{ExecutionContext, ExecutionOutcome, StateMachine, Timestamp};
use stepwasm_runtime::{FunctionConfig, Runtime};

use crate::engine::{Clock, Engine, WasmTasks};
use crate::error::{Error, Result};

/// One recorded execution.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// Unique name of the case.
    pub id: String,
    /// Grouping for reports, such as `state:Map` or `jsonata`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The state machine, as JSON.
    pub definition: Value,
    /// The execution input.
    #[serde(default)]
    pub input: Value,
    /// What AWS recorded.
    pub expected: Expected,
    /// The type of every history event, in order.
    #[serde(default)]
    pub expected_event_types: Vec<String>,
    /// Lambda function ARN → the handler file that ran there.
    #[serde(default)]
    pub lambdas: BTreeMap<String, String>,
    /// When AWS ran it, `DD-MM-YYYY, HH:MM:SS` in UTC.
    #[serde(default)]
    pub recorded_date: Option<String>,
}

impl Case {
    /// When AWS ran the case. A case runs at that time, because some results depend on the
    /// date: a Wait until a fixed timestamp fails only when that is over 2³¹ seconds away.
    pub fn recorded_at(&self) -> Option<Timestamp> {
        let (date, time) = self.recorded_date.as_deref()?.split_once(", ")?;
        let mut parts = date.split('-');
        let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
        Timestamp::parse_rfc3339(&format!("{year}-{month}-{day}T{time}Z"))
    }
}

/// How a recorded execution ended.
#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: String,
    /// The output, on success.
    #[serde(default)]
    pub output: Option<Value>,
    /// The error, on failure.
    #[serde(default)]
    pub error: Option<String>,
    /// The cause, on failure.
    #[serde(default)]
    pub cause: Option<String>,
    /// The recorded cause differs per run (it holds an ARN or a date), so it is not compared.
    #[serde(default)]
    pub cause_ambiguous: bool,
}

/// What differed between AWS and stepwasm in one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Mismatch {
    /// The definition did not compile, though AWS ran it.
    Definition {
        /// The diagnostics.
        diagnostics: Vec<String>,
    },
    /// Different final status.
    Status {
        /// AWS's status.
        expected: String,
        /// stepwasm's status.
        actual: String,
    },
    /// Different output.
    Output {
        /// AWS's output.
        expected: Value,
        /// stepwasm's output.
        actual: Value,
    },
    /// Different error name.
    Error {
        /// AWS's error.
        expected: Option<String>,
        /// stepwasm's error.
        actual: Option<String>,
    },
    /// Different cause.
    Cause {
        /// AWS's cause.
        expected: Option<String>,
        /// stepwasm's cause.
        actual: Option<String>,
    },
    /// Different history event types.
    EventTypes {
        /// AWS's event types.
        expected: Vec<String>,
        /// stepwasm's event types.
        actual: Vec<String>,
    },
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    /// The case's id.
    pub id: String,
    /// The case's tags.
    pub tags: Vec<String>,
    /// Everything that differed; empty when the case passed.
    pub mismatches: Vec<Mismatch>,
}

impl CaseReport {
    /// Whether stepwasm did what AWS did.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// Whether the only difference is the history's event types.
    pub fn event_types_only(&self) -> bool {
        !self.mismatches.is_empty() && self.mismatches.iter().all(|m| matches!(m, Mismatch::EventTypes { .. }))
    }
}

/// Reads a case file: one JSON object per line, blank lines ignored.
pub fn load_cases(path: &Path) -> Result<Vec<Case>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|source| Error::CaseFile {
                path: path.to_path_buf(),
                line: index + 1,
                message: source.to_string(),
            })
        })
        .collect()
}

/// Runs cases against Wasm stand-ins of the recorded Lambda handlers.
pub struct Runner {
    runtime: Runtime,
    /// Handler file → the Wasm component that stands in for it.
    handlers: &'static [(&'static str, &'static [u8])],
}

impl Runner {
    /// A runner on `runtime`, with `handlers` standing in for the Lambda handler files that
    /// cases call, keyed by file name. Each case's `lambdas` names the handler behind every
    /// function it calls, so no case needs a mapping of its own.
    pub fn new(runtime: Runtime, handlers: &'static [(&'static str, &'static [u8])]) -> Self {
        Self { runtime, handlers }
    }

    /// Runs one case and compares it with the recording.
    pub fn run(&self, case: &Case) -> CaseReport {
        let report = |mismatches| CaseReport { id: case.id.clone(), tags: case.tags.clone(), mismatches };
        let machine = match StateMachine::from_value(&case.definition) {
            Ok(machine) => Arc::new(machine),
            Err(stepwasm_asl::Error::InvalidDefinition(diagnostics)) => {
                let diagnostics = diagnostics.iter().map(ToString::to_string).collect();
                return report(vec![Mismatch::Definition { diagnostics }]);
            }
            Err(error) => return report(vec![Mismatch::Definition { diagnostics: vec![error.to_string()] }]),
        };
        for (arn, handler) in &case.lambdas {
            let name = function_name_of(arn);
            if let Some((_, component)) = self.handlers.iter().find(|(file, _)| handler_file(handler) == *file) {
                // A failure to register leaves the function missing, which the case then shows.
                let _ = self.runtime.register(&name, component, FunctionConfig::default());
            }
        }

        let outcome = match run_on_virtual_time(&self.runtime, machine, case.input.clone(), case.recorded_at()) {
            Ok(record) => record,
            Err(error) => {
                return report(vec![Mismatch::Status { expected: case.expected.status.clone(), actual: error }]);
            }
        };
        report(compare(case, &outcome.0, &outcome.1))
    }
}

fn run_on_virtual_time(
    runtime: &Runtime,
    machine: Arc<StateMachine>,
    input: Value,
    recorded_at: Option<Timestamp>,
) -> Result<(ExecutionOutcome, Vec<String>), String> {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|error| format!("no tokio runtime: {error}"))?;
    let tasks = Arc::new(WasmTasks::new(runtime.clone()));
    tokio.block_on(async move {
        let clock = recorded_at.map_or_else(Clock::new, Clock::starting_at);
        let engine = Engine::with_clock(tasks, clock);
        let context = ExecutionContext::new("ConformanceMachine", "conformance-execution", engine.clock().now());
        let (_, signals) = tokio::sync::mpsc::unbounded_channel();
        let record = engine.run(machine, input, context, signals, &mut |_| {}).await;
        let types = record.history.iter().map(stepwasm_asl::HistoryEvent::event_type).collect();
        Ok((record.outcome, types))
    })
}

/// `tests/…/lambdafunctions/id_function.py` → `id_function.py`.
fn handler_file(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` → `NAME`.
fn function_name_of(arn: &str) -> String {
    let rest = arn.rsplit_once(":function:").map_or(arn, |(_, rest)| rest);
    rest.split(':').next().unwrap_or(rest).to_owned()
}

fn compare(case: &Case, outcome: &ExecutionOutcome, event_types: &[String]) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    let expected = &case.expected;
    let (status, output, error, cause) = match outcome {
        ExecutionOutcome::Succeeded(output) => ("SUCCEEDED", Some(output), None, None),
        ExecutionOutcome::Failed { error, cause } => ("FAILED", None, error.clone(), cause.clone()),
        ExecutionOutcome::TimedOut => ("TIMED_OUT", None, None, None),
        ExecutionOutcome::Aborted { error, cause } => ("ABORTED", None, error.clone(), cause.clone()),
    };
    if status != expected.status {
        mismatches.push(Mismatch::Status { expected: expected.status.clone(), actual: status.to_owned() });
    }
    if status == "SUCCEEDED" && expected.status == "SUCCEEDED" {
        let expected_output = expected.output.clone().unwrap_or(Value::Null);
        let actual = output.cloned().unwrap_or(Value::Null);
        if !stepwasm_asl::json_equal(&expected_output, &actual) {
            mismatches.push(Mismatch::Output { expected: expected_output, actual });
        }
    }
    if expected.status == "FAILED" && status == "FAILED" {
        if expected.error != error {
            mismatches.push(Mismatch::Error { expected: expected.error.clone(), actual: error });
        }
        if !expected.cause_ambiguous && expected.cause != cause {
            mismatches.push(Mismatch::Cause { expected: expected.cause.clone(), actual: cause });
        }
    }
    if !case.expected_event_types.is_empty() && !same_events(case, event_types) {
        mismatches
            .push(Mismatch::EventTypes { expected: case.expected_event_types.clone(), actual: event_types.to_vec() });
    }
    mismatches
}

/// Event types must match in order, except where branches or iterations run concurrently:
/// AWS interleaves those in no fixed order, so there they are compared as multisets.
fn same_events(case: &Case, actual: &[String]) -> bool {
    if case.expected_event_types == actual {
        return true;
    }
    let concurrent =
        case.definition.to_string().contains("\"Parallel\"") || case.definition.to_string().contains("\"Map\"");
    if !concurrent {
        return false;
    }
    let mut expected = case.expected_event_types.clone();
    let mut actual = actual.to_vec();
    expected.sort();
    actual.sort();
    expected == actual
}

#[cfg(test)]
mod tests {
    use stepwasm_asl::json_equal;

    #[test]
    fn numbers_compare_by_value() {
        assert!(json_equal(&serde_json::json!({"a": [3, 1.5]}), &serde_json::json!({"a": [3.0, 1.5]})));
        assert!(!json_equal(&serde_json::json!({"a": 3}), &serde_json::json!({"a": "3"})));
        assert!(!json_equal(&serde_json::json!([1, 2]), &serde_json::json!([1])));
    }
}
