//! Runs the AWS-recorded executions in `shared/conformance/` and compares status, output, error,
//! cause and the history's event types with what AWS recorded.
//!
//! Run with `cargo test -p stepwasm-asl --test all conformance -- --nocapture` to see per-tag counts
//! and the failing cases. The test asserts the project's thresholds: ≥ 98 % of the non-JSONata
//! cases of `aws-recorded.jsonl` and ≥ 95 % of `aws-recorded-task.jsonl`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use stepwasm_asl::{
    Action, Completion, ExecutionContext, ExecutionOutcome, Input, SeededEntropy, StateMachine, TaskResource,
    Timestamp, run_to_completion,
};

fn corpus_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance"))
}

/// Handlers of the Lambda functions the recorded cases call (see the corpus README).
#[derive(Clone, Copy, Debug)]
enum Handler {
    Id,
    Echo,
    Raise,
    Bytes,
    Wait60,
    /// Returns more than 256 KiB.
    Large,
}

/// Functions that cases name only through `Parameters.FunctionName`, so their `lambdas` map is
/// empty. The handlers are the templates the originating LocalStack tests deploy under those
/// names (fixture data for the fake invoker, not interpreter logic).
const NAMED_ONLY: &[(&str, Handler)] = &[
    ("fn-ref-var-gbhojad8", Handler::Bytes),
    ("lambda_func_lxz0m2jq", Handler::Large),
    ("lambda_func_3902jakr", Handler::Raise),
    ("lambda_1_func_wynneldl", Handler::Wait60),
];

fn handler_for_file(file: &str) -> Option<Handler> {
    [
        ("id_function.py", Handler::Id),
        ("echo_function.py", Handler::Echo),
        ("raise_exception.py", Handler::Raise),
        ("return_bytes_str.py", Handler::Bytes),
        ("wait_60_seconds.py", Handler::Wait60),
    ]
    .into_iter()
    .find(|(suffix, _)| file.ends_with(suffix))
    .map(|(_, h)| h)
}

fn function_of_arn(arn: &str) -> &str {
    arn.split(":function:").nth(1).unwrap_or(arn)
}

fn fake_invoker(lambdas: &BTreeMap<String, String>) -> impl FnMut(&Action) -> Input + '_ {
    move |action| {
        let Action::InvokeTask { task_id, resource, payload, timeout, .. } = action else {
            panic!("the driver only passes InvokeTask");
        };
        let function = match resource {
            TaskResource::Lambda { function, .. } => function.clone(),
            TaskResource::LambdaInvoke { function, .. } => function.clone(),
            TaskResource::Wasm { name } => name.clone(),
            other => format!("{other:?}"),
        };
        let handler = lambdas
            .iter()
            .find(|(arn, _)| function_of_arn(arn) == function)
            .and_then(|(_, file)| handler_for_file(file))
            .or_else(|| NAMED_ONLY.iter().find(|(name, _)| *name == function).map(|(_, h)| *h));
        let task_id = *task_id;
        match handler {
            Some(Handler::Id) => Input::TaskSucceeded { task_id, output: Arc::clone(payload) },
            Some(Handler::Echo) => Input::TaskSucceeded { task_id, output: json!({"Return": "HelloWorld"}).into() },
            Some(Handler::Bytes) => Input::TaskSucceeded { task_id, output: json!("HelloWorld!").into() },
            Some(Handler::Large) => {
                Input::TaskSucceeded { task_id, output: Value::String("€".repeat(100_000)).into() }
            }
            Some(Handler::Raise) => Input::TaskFailed {
                task_id,
                error: "Exception".into(),
                cause: Some(
                    json!({"errorMessage": "Some exception was raised.", "errorType": "Exception", "stackTrace": []})
                        .to_string(),
                ),
            },
            Some(Handler::Wait60) if timeout.is_some_and(|t| t.as_secs() < 60) => Input::TaskTimedOut { task_id },
            Some(Handler::Wait60) => Input::TaskSucceeded { task_id, output: Arc::clone(payload) },
            None => Input::TaskFailed {
                task_id,
                error: "Lambda.ResourceNotFoundException".into(),
                cause: Some(format!("Function not found: {function}")),
            },
        }
    }
}

/// `recorded_date` is `DD-MM-YYYY, HH:MM:SS` (UTC).
fn recorded_time(case: &Value) -> Timestamp {
    let parse = || -> Option<Timestamp> {
        let text = case.get("recorded_date")?.as_str()?;
        let (date, time) = text.split_once(", ")?;
        let mut d = date.split('-');
        let (day, month, year) = (d.next()?, d.next()?, d.next()?);
        Timestamp::parse_rfc3339(&format!("{year}-{month}-{day}T{time}Z"))
    };
    parse().unwrap_or(Timestamp::from_millis(1_704_067_200_000))
}

fn has_parallel(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.get("Type").and_then(Value::as_str) == Some("Parallel") || m.values().any(has_parallel),
        Value::Array(items) => items.iter().any(has_parallel),
        _ => false,
    }
}

/// Checks one case; `Err` explains the first difference.
fn check(case: &Value) -> Result<(), String> {
    let definition = case.get("definition").ok_or("no definition")?;
    let machine = StateMachine::from_value(definition).map_err(|e| format!("rejected definition: {e}"))?;
    let input = case.get("input").cloned().unwrap_or(Value::Null);
    let lambdas: BTreeMap<String, String> = case
        .get("lambdas")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    let ctx = ExecutionContext::new("conformance", "case", recorded_time(case));
    let mut invoker = fake_invoker(&lambdas);
    let done: Completion = run_to_completion(Arc::new(machine), input, ctx, &mut invoker, &mut SeededEntropy::new(7));
    let expected = case.get("expected").ok_or("no expectation")?;
    let status = expected.get("status").and_then(Value::as_str).unwrap_or_default();
    if done.outcome.status() != status {
        return Err(format!("status {} != expected {status} (outcome {:?})", done.outcome.status(), done.outcome));
    }
    match &done.outcome {
        ExecutionOutcome::Succeeded(output) => {
            let want = expected.get("output").unwrap_or(&Value::Null);
            if !stepwasm_asl::json_equal(output, want) {
                return Err(format!("output {output}\n      expected {want}"));
            }
        }
        ExecutionOutcome::Failed { error, cause } => {
            let want_error = expected.get("error").and_then(Value::as_str);
            if error.as_deref() != want_error {
                return Err(format!("error {error:?} != expected {want_error:?} (cause {cause:?})"));
            }
            let ambiguous = expected.get("cause_ambiguous").and_then(Value::as_bool).unwrap_or(false);
            let want_cause = expected.get("cause").and_then(Value::as_str);
            if !ambiguous && cause.as_deref() != want_cause {
                return Err(format!("cause {cause:?}\n      expected {want_cause:?}"));
            }
        }
        _ => {}
    }
    if let Some(want) = case.get("expected_event_types").and_then(Value::as_array) {
        let want: Vec<String> = want.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        let mut got = done.event_types();
        let mut want_cmp = want.clone();
        // AWS does not order events of concurrent Parallel branches: compare those as multisets.
        if has_parallel(definition) && std::env::var_os("ASL_EXACT_EVENTS").is_none() {
            got.sort();
            want_cmp.sort();
        }
        if got != want_cmp {
            return Err(format!("events {:?}\n      expected {want:?}", done.event_types()));
        }
    }
    Ok(())
}

struct Report {
    passed: usize,
    total: usize,
    failures: Vec<(String, String)>,
}

/// Runs every case of `name`, prints per-tag pass counts, and returns each case with its result.
fn run_file(name: &str) -> Option<Vec<(Value, Result<(), String>)>> {
    let path = corpus_dir().join(name);
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("conformance corpus {} not found: skipping", path.display());
        return None;
    };
    let mut per_tag: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut results = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("corpus line is JSON");
        let result = std::panic::catch_unwind(|| check(&case)).unwrap_or_else(|_| Err("PANIC".into()));
        for tag in case.get("tags").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            let e = per_tag.entry(tag.to_owned()).or_default();
            e.1 += 1;
            e.0 += usize::from(result.is_ok());
        }
        results.push((case, result));
    }
    let passed = results.iter().filter(|(_, r)| r.is_ok()).count();
    println!("== {name}: {passed}/{} of all cases pass", results.len());
    for (tag, (p, t)) in &per_tag {
        println!("   {tag:<24} {p:>4}/{t:<4}");
    }
    Some(results)
}

fn report(results: &[(Value, Result<(), String>)], filter: impl Fn(&Value) -> bool) -> Report {
    let mut r = Report { passed: 0, total: 0, failures: Vec::new() };
    for (case, result) in results.iter().filter(|(c, _)| filter(c)) {
        r.total += 1;
        match result {
            Ok(()) => r.passed += 1,
            Err(reason) => {
                let id = case.get("id").and_then(Value::as_str).unwrap_or("?").to_owned();
                r.failures.push((id, reason.clone()));
            }
        }
    }
    r
}

fn print_failures(label: &str, r: &Report) {
    println!("== {label}: {}/{} pass ({:.1} %)", r.passed, r.total, 100.0 * r.passed as f64 / r.total.max(1) as f64);
    for (id, reason) in &r.failures {
        let short = id.split("::").skip(1).collect::<Vec<_>>().join("::");
        println!("  FAIL {short}\n      {reason}");
    }
}

fn is_jsonata(case: &Value) -> bool {
    case.get("tags").and_then(Value::as_array).is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some("jsonata")))
}

#[test]
fn aws_recorded_executions() {
    let Some(main) = run_file("aws-recorded.jsonl") else {
        return;
    };
    let non_jsonata = report(&main, |c| !is_jsonata(c));
    print_failures("aws-recorded.jsonl, non-JSONata cases", &non_jsonata);
    print_failures("aws-recorded.jsonl, JSONata cases (not asserted: JSONata is a subset)", &report(&main, is_jsonata));
    let Some(task) = run_file("aws-recorded-task.jsonl") else {
        return;
    };
    let task = report(&task, |_| true);
    print_failures("aws-recorded-task.jsonl", &task);
    let rate = |r: &Report| r.passed as f64 / r.total.max(1) as f64;
    assert!(rate(&non_jsonata) >= 0.98, "non-JSONata pass rate {:.3} is below 98 %", rate(&non_jsonata));
    assert!(rate(&task) >= 0.95, "Task pass rate {:.3} is below 95 %", rate(&task));
}

/// Every corpus definition, and mangled versions of it, with hostile inputs and task replies:
/// nothing may panic.
#[test]
fn hostile_inputs_never_panic() {
    let Ok(text) = std::fs::read_to_string(corpus_dir().join("aws-recorded.jsonl")) else {
        println!("conformance corpus not found: skipping");
        return;
    };
    let inputs =
        [json!(null), json!("s"), json!([]), json!({"a": {"b": [1, {"c": null}]}}), json!(1.5), json!({"Values": "x"})];
    let mut definitions: Vec<Value> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("corpus line is JSON");
        let Some(def) = case.get("definition") else {
            continue;
        };
        definitions.push(def.clone());
        // Mangle: replace every string leaf with a path-like string and every number with -1.
        definitions.push(mangle(def));
    }
    let compiled = definitions.iter().filter(|d| StateMachine::from_value(d).is_ok()).count();
    println!("hostile inputs: {compiled}/{} definitions compile", definitions.len());
    assert!(compiled > definitions.len() / 2, "the mangled definitions should mostly still compile");
    for def in &definitions {
        let result = std::panic::catch_unwind(|| {
            let _ = stepwasm_asl::validate(&def.to_string());
            let Ok(machine) = StateMachine::from_value(def) else {
                return;
            };
            let machine = Arc::new(machine);
            for input in &inputs {
                let ctx = ExecutionContext::new("fuzz", "case", Timestamp::from_millis(0));
                let mut replies = 0u32;
                let mut invoker = |a: &Action| {
                    let Action::InvokeTask { task_id, .. } = a else { panic!("only InvokeTask") };
                    replies += 1;
                    match replies % 3 {
                        0 => Input::TaskSucceeded { task_id: *task_id, output: json!({"Payload": [1, 2]}).into() },
                        1 => Input::TaskFailed { task_id: *task_id, error: "States.ALL".into(), cause: None },
                        _ => Input::TaskTimedOut { task_id: *task_id },
                    }
                };
                run_to_completion(Arc::clone(&machine), input.clone(), ctx, &mut invoker, &mut SeededEntropy::new(3));
            }
        });
        assert!(result.is_ok(), "panic for definition {def}");
    }
}

fn mangle(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let keep =
                        matches!(k.as_str(), "Type" | "StartAt" | "Next" | "Default" | "States" | "Branches" | "End");
                    (k.clone(), if keep { v.clone() } else { mangle(v) })
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mangle).collect()),
        Value::String(s) if s.starts_with("States.") => Value::String(format!("{s}(")),
        Value::String(_) => Value::String("$.a[0].b".into()),
        Value::Number(_) => json!(-1),
        other => other.clone(),
    }
}
