//! Runs the JSONata case files in `tests/jsonata/*.json` against [`Jsonata`].
//!
//! Each file holds a default `input` and a list of `cases`: an `expr`, optional `input`,
//! `bindings` and `now` (milliseconds for `$now()`/`$millis()`), and one expectation: `result`
//! (numbers compared to 1e-9 relative), `"undefined": true`, or `error` (a JSONata error code).
//! Adding a case needs no Rust.

use std::path::PathBuf;

use serde_json::{Map, Value};
use stepwasm_asl::{EvalOptions, Jsonata};

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

/// Runs one case; `Err` describes the mismatch.
fn run_case(case: &Value, default_input: &Value) -> Result<(), String> {
    let expr = case["expr"].as_str().ok_or("case without \"expr\"")?;
    let input = case.get("input").unwrap_or(default_input);
    let bindings: Map<String, Value> = case.get("bindings").and_then(Value::as_object).cloned().unwrap_or_default();
    let options = EvalOptions { now_millis: case.get("now").and_then(Value::as_i64).unwrap_or(0), random_seed: 7 };
    let got = Jsonata::parse(expr).and_then(|e| e.evaluate(Some(input), &bindings, &options));
    match (&got, case.get("error"), case.get("undefined"), case.get("result")) {
        (Err(e), Some(want), _, _) if want.as_str() == Some(e.code) => Ok(()),
        (Ok(None), None, Some(Value::Bool(true)), _) => Ok(()),
        (Ok(Some(v)), None, None, Some(want)) if close(v, want) => Ok(()),
        _ => Err(format!("{expr}\n      got {got:?}\n      want {}", {
            let mut want = case.clone();
            if let Some(m) = want.as_object_mut() {
                m.retain(|k, _| matches!(k.as_str(), "result" | "undefined" | "error"));
            }
            want
        })),
    }
}

#[test]
fn jsonata_case_files() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/jsonata"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/jsonata exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut total, mut failures) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable case file");
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let cases = doc["cases"].as_array().unwrap_or_else(|| panic!("{}: no \"cases\" array", file.display()));
        let mut passed = 0;
        for (i, case) in cases.iter().enumerate() {
            total += 1;
            match run_case(case, &doc["input"]) {
                Ok(()) => passed += 1,
                Err(e) => failures.push(format!("{}: case {i}: {e}", file.display())),
            }
        }
        println!("   {:<20} {passed:>3}/{}", file.file_name().unwrap_or_default().to_string_lossy(), cases.len());
    }
    println!("{} passed, {} failed", total - failures.len(), failures.len());
    assert!(total >= 150, "expected at least 150 JSONata cases, found {total}");
    assert!(failures.is_empty(), "{} of {total} JSONata cases failed:\n{}", failures.len(), failures.join("\n"));
}
