//! `stepwasm test`: runs workflow test files in virtual time, with mocked or real task functions.
//!
//! A test file is JSON:
//!
//! ```json
//! {
//!   "stateMachine": "order-pipeline.asl.json",
//!   "mockConfig": "order-pipeline.mocks.json",
//!   "mockStateMachine": "OrderPipeline",
//!   "cases": [
//!     {
//!       "name": "the carrier is down twice, then ships",
//!       "inputFile": "samples/good-order.json",
//!       "testCase": "CarrierRetry",
//!       "expect": {"status": "SUCCEEDED", "outputContains": {"status": "COMPLETED"},
//!                  "path": ["PlaceOrder", "ShipOrder", "CompleteOrder"], "attempts": {"GenerateShippingLabel": 3}}
//!     }
//!   ]
//! }
//! ```
//!
//! Paths are relative to the test file. `mockConfig` is a Step Functions Local `MockConfigFile`
//! (or the same object inline); a case's `testCase` picks one of its test cases for
//! `mockStateMachine` (default: the definition file's name without `.asl.json`). States a test
//! case does not mock run their real Wasm function. Time is virtual: a Wait, a retry back-off or
//! a task's `TimeoutSeconds` passes at once, and a callback task nobody answers times out at its
//! `TimeoutSeconds`.
//!
//! Expectations: `status`; `output` (equal) or `outputContains` (a JSON subset); `error` and
//! `cause`; `path` (these states are entered in this order, others may come between);
//! `notEntered`; `attempts` (state → how many times its task ran).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde_json::Value;
use stepwasm_asl::{
    Action, Execution, ExecutionContext, ExecutionOutcome, HistoryEvent, Input, SeededEntropy, StateMachine, TaskId,
    TaskResource, Timestamp, progress,
};
use stepwasm_orchestrator::DataDir;
use stepwasm_orchestrator::engine::{TaskCall, TaskInvoker, TaskOutcome, WasmTasks};
use stepwasm_orchestrator::mocks::{MockConfig, Mocked, mocked_outcome};
use stepwasm_runtime::{FunctionConfig, Runtime};

use super::run::{load_definition, outcome_parts, sample_runtime};
use crate::function_source::FunctionSource;

#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// The test files to run.
    #[arg(required = true)]
    files: Vec<PathBuf>,

    /// Deploy a function for the tests, as NAME=FILE.wasm (repeatable). The sample pipeline's
    /// functions are always available.
    #[arg(long = "function", value_name = "NAME=FILE")]
    functions: Vec<String>,

    /// Also write the results as JUnit XML, for CI.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// One case's result.
struct CaseResult {
    name: String,
    elapsed: Duration,
    /// Every expectation that did not hold.
    failures: Vec<String>,
}

/// One file's results.
struct FileResult {
    file: String,
    cases: Vec<CaseResult>,
}

pub(crate) fn run(args: &TestArgs, data_dir: &DataDir) -> Result<ExitCode> {
    let started = Instant::now();
    let runtime = sample_runtime(data_dir)?;
    for spec in &args.functions {
        let (name, path) = spec.split_once('=').context("--function takes NAME=FILE.wasm")?;
        let source = FunctionSource::resolve(path)?;
        runtime.register(name, &source.component()?, FunctionConfig::default())?;
    }
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut results = Vec::new();
    for path in &args.files {
        let suite = Suite::load(path)?;
        println!("{}", path.display());
        let mut cases = Vec::new();
        for case in &suite.cases {
            let result = suite.run(case, &runtime, &tokio);
            match result.failures.as_slice() {
                [] => println!("  ok    {} ({} ms)", result.name, result.elapsed.as_millis()),
                failures => {
                    println!("  FAIL  {} ({} ms)", result.name, result.elapsed.as_millis());
                    for failure in failures {
                        println!("        {failure}");
                    }
                }
            }
            cases.push(result);
        }
        results.push(FileResult { file: path.display().to_string(), cases });
    }
    let failed = results.iter().flat_map(|file| &file.cases).filter(|case| !case.failures.is_empty()).count();
    let passed = results.iter().map(|file| file.cases.len()).sum::<usize>() - failed;
    if let Some(junit) = &args.junit {
        std::fs::write(junit, junit_xml(&results)).with_context(|| format!("writing {}", junit.display()))?;
    }
    println!("({} ms in all)", started.elapsed().as_millis());
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A test file, loaded and checked.
struct Suite {
    machine: Arc<StateMachine>,
    machine_name: String,
    mocks: Option<(MockConfig, String)>,
    cases: Vec<Case>,
}

struct Case {
    name: String,
    input: Value,
    test_case: Option<String>,
    expect: serde_json::Map<String, Value>,
}

/// The expectations a case may state.
const EXPECTATIONS: [&str; 8] =
    ["status", "output", "outputContains", "error", "cause", "path", "notEntered", "attempts"];

impl Suite {
    fn load(path: &Path) -> Result<Suite> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let at = |field: &str| format!("{}: {field}", path.display());
        let definition = file
            .get("stateMachine")
            .and_then(Value::as_str)
            .with_context(|| format!("{} needs 'stateMachine', the path of the definition to test", path.display()))?;
        let definition_path = dir.join(definition);
        let machine = Arc::new(load_definition(&definition_path)?);
        let machine_name = definition_path
            .file_name()
            .map(|name| name.to_string_lossy().trim_end_matches(".json").trim_end_matches(".asl").to_owned())
            .unwrap_or_else(|| "state-machine".to_owned());
        let mocks = match file.get("mockConfig") {
            None => None,
            Some(config) => {
                let config = match config {
                    Value::String(mock_path) => {
                        let mock_path = dir.join(mock_path);
                        let text = std::fs::read_to_string(&mock_path)
                            .with_context(|| format!("reading {}", mock_path.display()))?;
                        MockConfig::parse(&text).with_context(|| format!("{}", mock_path.display()))?
                    }
                    inline => MockConfig::from_value(inline).with_context(|| at("mockConfig"))?,
                };
                let mock_machine = match file.get("mockStateMachine") {
                    Some(Value::String(name)) => name.clone(),
                    Some(_) => bail!("{}", at("mockStateMachine must be a string")),
                    None => machine_name.clone(),
                };
                Some((config, mock_machine))
            }
        };
        let Some(Value::Array(cases)) = file.get("cases") else {
            bail!("{} needs 'cases', an array of test cases", path.display());
        };
        let mut loaded = Vec::new();
        for (index, case) in cases.iter().enumerate() {
            let name = case.get("name").and_then(Value::as_str).map_or_else(|| format!("case {index}"), str::to_owned);
            let here = |what: &str| format!("{}: case '{name}': {what}", path.display());
            let input = match (case.get("input"), case.get("inputFile")) {
                (Some(_), Some(_)) => bail!("{}", here("give 'input' or 'inputFile', not both")),
                (Some(input), None) => input.clone(),
                (None, Some(Value::String(file))) => {
                    let input_path = dir.join(file);
                    let text = std::fs::read_to_string(&input_path)
                        .with_context(|| format!("reading {}", input_path.display()))?;
                    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", input_path.display()))?
                }
                (None, Some(_)) => bail!("{}", here("'inputFile' must be a path")),
                (None, None) => Value::Object(serde_json::Map::new()),
            };
            let test_case = match case.get("testCase") {
                None => None,
                Some(Value::String(test_case)) => {
                    let Some((config, mock_machine)) = &mocks else {
                        bail!("{}", here("'testCase' needs a 'mockConfig' in the file"));
                    };
                    if !config.has_test_case(mock_machine, test_case) {
                        bail!(
                            "{}",
                            here(&format!(
                                "the mock configuration has no test case '{test_case}' for '{mock_machine}' (it has: {})",
                                config.test_cases(mock_machine).join(", ")
                            ))
                        );
                    }
                    Some(test_case.clone())
                }
                Some(_) => bail!("{}", here("'testCase' must be a string")),
            };
            let expect = match case.get("expect") {
                Some(Value::Object(expect)) => expect.clone(),
                _ => bail!("{}", here("'expect' must be an object of expectations")),
            };
            if let Some(unknown) = expect.keys().find(|key| !EXPECTATIONS.contains(&key.as_str())) {
                bail!("{}", here(&format!("unknown expectation '{unknown}' (known: {})", EXPECTATIONS.join(", "))));
            }
            loaded.push(Case { name, input, test_case, expect });
        }
        Ok(Suite { machine, machine_name, mocks, cases: loaded })
    }

    fn run(&self, case: &Case, runtime: &Runtime, tokio: &tokio::runtime::Runtime) -> CaseResult {
        let started = Instant::now();
        let mut tasks = CaseTasks {
            wasm: WasmTasks::new(runtime.clone()),
            tokio,
            mocks: self
                .mocks
                .as_ref()
                .zip(case.test_case.as_ref())
                .map(|((config, machine), test_case)| (config, machine.as_str(), test_case.as_str())),
            invocations: HashMap::new(),
        };
        let (outcome, history) = run_virtual(&self.machine, case.input.clone(), &self.machine_name, &mut tasks);
        let failures = check(&self.machine, &case.expect, &outcome, &history);
        CaseResult { name: case.name.clone(), elapsed: started.elapsed(), failures }
    }
}

/// How one case's tasks are answered.
struct CaseTasks<'a> {
    wasm: WasmTasks,
    tokio: &'a tokio::runtime::Runtime,
    /// The mock configuration, its state machine name and the case's test case.
    mocks: Option<(&'a MockConfig, &'a str, &'a str)>,
    invocations: HashMap<String, u64>,
}

/// What became of a task: its reply now, or none (a callback nobody answers).
enum Answer {
    Now(Input),
    Never,
}

impl CaseTasks<'_> {
    fn answer(&mut self, call: TaskCall) -> Answer {
        let task_id = call.task_id;
        let reply = |outcome: TaskOutcome| {
            Answer::Now(match outcome {
                TaskOutcome::Succeeded(output) => Input::TaskSucceeded { task_id, output: output.into() },
                TaskOutcome::Failed { error, cause } => Input::TaskFailed { task_id, error, cause },
                TaskOutcome::TimedOut => Input::TaskTimedOut { task_id },
            })
        };
        if let Some((config, machine, test_case)) = self.mocks {
            let state = &call.context.state_name;
            let count = self.invocations.entry(state.clone()).or_insert(0);
            let invocation = *count;
            *count += 1;
            match config.answer(machine, test_case, state, invocation) {
                Mocked::Answer(answer) => return reply(mocked_outcome(&call.resource, answer)),
                Mocked::Exhausted { response, invocation } => {
                    return reply(TaskOutcome::Failed {
                        error: stepwasm_asl::names::TASK_FAILED.to_owned(),
                        cause: Some(format!(
                            "The mocked response '{response}' has no answer for invocation {invocation} of state '{state}'"
                        )),
                    });
                }
                Mocked::NotMocked => {}
            }
        }
        let unsupported = |what: &str| {
            reply(TaskOutcome::Failed {
                error: stepwasm_asl::names::TASK_FAILED.to_owned(),
                cause: Some(format!(
                    "{what} cannot run in a test: mock state '{}' in the case's test case",
                    call.context.state_name
                )),
            })
        };
        match &call.resource {
            TaskResource::Activity { .. } => return unsupported("An activity"),
            TaskResource::Other(arn) if !arn.ends_with(".waitForTaskToken") => {
                return unsupported(&format!("The service integration {arn}"));
            }
            TaskResource::ItemReader { .. } | TaskResource::ResultWriter { .. } => {
                return unsupported("A Distributed Map's bucket");
            }
            _ => {}
        }
        let callback = call.context.task_token.is_some();
        let (outcome, _) = self.tokio.block_on(self.wasm.invoke(call));
        match outcome {
            // The function announced the task; no one will send its token back.
            TaskOutcome::Succeeded(_) if callback => Answer::Never,
            other => reply(other),
        }
    }
}

/// Runs one execution to its end on a virtual clock: timers fire, and callbacks time out, as
/// soon as nothing else is left to do.
fn run_virtual(
    machine: &Arc<StateMachine>,
    input: Value,
    machine_name: &str,
    tasks: &mut CaseTasks<'_>,
) -> (ExecutionOutcome, Vec<HistoryEvent>) {
    let mut now = stepwasm_orchestrator::engine::Clock::new().now();
    let context = ExecutionContext::new(machine_name, "test", now);
    let mut entropy = SeededEntropy::new(7);
    let (mut execution, step) = Execution::start(Arc::clone(machine), input, context, now, &mut entropy);
    let mut history = step.history;
    let mut actions: VecDeque<Action> = step.actions.into();
    // Due inputs by (time, order): timers firing, callbacks timing out.
    let mut due: BTreeMap<(Timestamp, u64), Input> = BTreeMap::new();
    let mut order = 0u64;
    let mut deadlines: HashMap<TaskId, (Timestamp, u64)> = HashMap::new();
    loop {
        if let Some(outcome) = execution.outcome() {
            return (outcome.clone(), history);
        }
        let input = if let Some(action) = actions.pop_front() {
            match action {
                Action::InvokeTask { task_id, resource, payload, timeout, context, .. } => {
                    let call = TaskCall { task_id, resource, payload, payload_text: None, timeout, context };
                    match tasks.answer(call) {
                        Answer::Now(input) => input,
                        Answer::Never => {
                            if let Some(timeout) = timeout {
                                order += 1;
                                let at = now.add_millis(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX));
                                due.insert((at, order), Input::TaskTimedOut { task_id });
                                deadlines.insert(task_id, (at, order));
                            }
                            continue;
                        }
                    }
                }
                Action::StartTimer { timer_id, fire_at } => {
                    order += 1;
                    due.insert((fire_at, order), Input::TimerFired { timer_id });
                    continue;
                }
                Action::CancelTimer { timer_id } => {
                    due.retain(|_, input| !matches!(input, Input::TimerFired { timer_id: t } if *t == timer_id));
                    continue;
                }
                Action::CancelTask { task_id } => {
                    if let Some(key) = deadlines.remove(&task_id) {
                        due.remove(&key);
                    }
                    continue;
                }
                Action::Complete(_) => continue,
            }
        } else if let Some(((at, _), input)) = due.pop_first() {
            now = now.max(at);
            input
        } else {
            let cause = "The execution waits for a task token nobody sends: mock the callback state, or give it a TimeoutSeconds";
            return (
                ExecutionOutcome::Failed { error: Some("States.Runtime".into()), cause: Some(cause.into()) },
                history,
            );
        };
        let step = execution.apply(input, now, &mut entropy);
        history.extend(step.history);
        actions.extend(step.actions);
    }
}

/// Every expectation of `expect` that the run does not meet, said plainly.
fn check(
    machine: &StateMachine,
    expect: &serde_json::Map<String, Value>,
    outcome: &ExecutionOutcome,
    history: &[HistoryEvent],
) -> Vec<String> {
    let (status, output, error, cause) = outcome_parts(outcome);
    let mut failures = Vec::new();
    let shown = |value: &Value| {
        let text = value.to_string();
        if text.len() > 300 { format!("{}…", &text[..text.floor_char_boundary(300)]) } else { text }
    };
    let mut same = |field: &str, got: &Value| {
        if let Some(want) = expect.get(field)
            && want != got
        {
            failures.push(format!("{field}: expected {}, got {}", shown(want), shown(got)));
        }
    };
    same("status", &Value::from(status));
    same("output", &output);
    same("error", &error);
    same("cause", &cause);
    // A failure nobody expected is explained by its error and cause.
    if !failures.is_empty() && !error.is_null() && !expect.contains_key("cause") {
        failures.push(format!("the execution failed with {}: {}", shown(&error), shown(&cause)));
    }
    if let Some(want) = expect.get("outputContains")
        && !contains(&output, want)
    {
        failures.push(format!("output: expected it to contain {}, got {}", shown(want), shown(&output)));
    }
    let entered: Vec<String> = history
        .iter()
        .map(HistoryEvent::to_aws_json)
        .filter(|event| event["type"].as_str().is_some_and(|t| t.ends_with("StateEntered")))
        .filter_map(|event| event["stateEnteredEventDetails"]["name"].as_str().map(str::to_owned))
        .collect();
    if let Some(Value::Array(path)) = expect.get("path") {
        let mut rest = entered.iter();
        if let Some(missing) = path.iter().find(|want| !rest.any(|state| Some(state.as_str()) == want.as_str())) {
            failures.push(format!(
                "path: expected {} to be entered, in the order given; entered: {}",
                shown(missing),
                entered.join(" → ")
            ));
        }
    }
    if let Some(Value::Array(never)) = expect.get("notEntered") {
        for state in never.iter().filter_map(Value::as_str) {
            if entered.iter().any(|name| name == state) {
                failures.push(format!("notEntered: {state} was entered"));
            }
        }
    }
    if let Some(Value::Object(attempts)) = expect.get("attempts") {
        let events: Vec<Value> = history.iter().map(HistoryEvent::to_aws_json).collect();
        let projection = progress::project(machine, &events);
        for (state, want) in attempts {
            let got: u64 = projection.states.values().filter(|p| &p.name == state).map(|p| p.attempts).sum();
            if want.as_u64() != Some(got) {
                failures.push(format!("attempts of {state}: expected {want}, got {got}"));
            }
        }
    }
    failures
}

/// Whether `got` has everything `want` has: objects by their keys, arrays element by element,
/// anything else equal.
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(got), Value::Object(want)) => {
            want.iter().all(|(key, value)| got.get(key).is_some_and(|found| contains(found, value)))
        }
        (Value::Array(got), Value::Array(want)) => {
            got.len() == want.len() && got.iter().zip(want).all(|(got, want)| contains(got, want))
        }
        _ => got == want,
    }
}

fn junit_xml(results: &[FileResult]) -> String {
    let escape =
        |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for file in results {
        let failures = file.cases.iter().filter(|case| !case.failures.is_empty()).count();
        let time: f64 = file.cases.iter().map(|case| case.elapsed.as_secs_f64()).sum();
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{time:.3}\">\n",
            escape(&file.file),
            file.cases.len()
        ));
        for case in &file.cases {
            xml.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&file.file),
                escape(&case.name),
                case.elapsed.as_secs_f64()
            ));
            if case.failures.is_empty() {
                xml.push_str("/>\n");
            } else {
                let message = escape(&case.failures[0]);
                let details = escape(&case.failures.join("\n"));
                xml.push_str(&format!(
                    ">\n      <failure message=\"{message}\">{details}</failure>\n    </testcase>\n"
                ));
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn subsets_match_by_key() {
        let got = json!({"a": 1, "b": {"c": [1, {"d": 2, "e": 3}]}, "f": null});
        assert!(contains(&got, &json!({"b": {"c": [1, {"d": 2}]}})));
        assert!(contains(&got, &json!({})));
        assert!(!contains(&got, &json!({"b": {"c": [1]}})), "arrays keep their length");
        assert!(!contains(&got, &json!({"a": 2})));
        assert!(!contains(&got, &json!({"x": null})), "a missing key is not null");
    }

    #[test]
    fn junit_escapes_what_it_quotes() {
        let results = [FileResult {
            file: "a<b>.json".into(),
            cases: vec![
                CaseResult { name: "fine".into(), elapsed: Duration::from_millis(5), failures: vec![] },
                CaseResult { name: "\"bad\" & sad".into(), elapsed: Duration::ZERO, failures: vec!["x < y".into()] },
            ],
        }];
        let xml = junit_xml(&results);
        assert!(xml.contains(r#"<testsuite name="a&lt;b&gt;.json" tests="2" failures="1""#), "{xml}");
        assert!(xml.contains(r#"name="&quot;bad&quot; &amp; sad""#));
        assert!(xml.contains(r#"<failure message="x &lt; y">x &lt; y</failure>"#));
    }
}
