//! Golden-file tests for [`stepwasm_asl::progress::project`]. Adding a case needs no Rust.
//!
//! Each directory `tests/progress/NAME/` holds a real execution:
//!
//! - `definition.asl.json`: the state machine;
//! - `history.json`: its history, as `GetExecutionHistory` returns it (`{"events": [...]}`, or a
//!   bare array of events), recorded with `stepwasm run --json --history` or from a server;
//! - `progress.json`: the expected projection, compared as JSON;
//! - optionally `iteration.json` (`{"map": "<qualified Map id>", "index": N}`) and
//!   `progress-iteration.json`, the expected projection focused on that Map iteration.
//!
//! `BLESS=1 cargo test -p stepwasm-asl --test all progress` writes `progress.json` from what the
//! crate produces now; read it before committing it. The test also cuts each history after every
//! event, as the console sees it while the execution runs: the projection of every prefix must
//! cover only states that the whole history ran.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use stepwasm_asl::StateMachine;
use stepwasm_asl::progress::{ExecutionProgress, MapIteration, project, project_iteration};

use crate::golden::{check_snapshot, shown};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/progress");
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    cases
}

fn load(case: &Path) -> Result<(StateMachine, Vec<Value>), String> {
    let read = |name: &str| fs::read_to_string(case.join(name)).map_err(|e| format!("cannot read {name}: {e}"));
    let machine = StateMachine::from_json(&read("definition.asl.json")?).map_err(|e| format!("definition: {e}"))?;
    let history: Value = serde_json::from_str(&read("history.json")?).map_err(|e| format!("history.json: {e}"))?;
    let events = match history {
        Value::Array(events) => events,
        Value::Object(mut fields) => match fields.remove("events") {
            Some(Value::Array(events)) => events,
            _ => return Err("history.json has no \"events\" array".into()),
        },
        _ => return Err("history.json is neither an array nor {\"events\": [...]}".into()),
    };
    Ok((machine, events))
}

/// Compares `progress` with the JSON snapshot `name` in `case`.
fn check_progress(case: &Path, name: &str, progress: &ExecutionProgress) -> Result<(), String> {
    let actual = serde_json::to_value(progress).map_err(|e| e.to_string())?;
    let text = format!("{}\n", serde_json::to_string_pretty(&actual).map_err(|e| e.to_string())?);
    check_snapshot(&case.join(name), &text, |expected| {
        serde_json::from_str::<Value>(expected).is_ok_and(|expected| expected == actual)
    })
}

fn check(case: &Path) -> Result<(), String> {
    let (machine, events) = load(case)?;
    let progress = project(&machine, &events);
    check_progress(case, "progress.json", &progress)?;
    if let Ok(text) = fs::read_to_string(case.join("iteration.json")) {
        let focus: Value = serde_json::from_str(&text).map_err(|e| format!("iteration.json: {e}"))?;
        let iteration = MapIteration {
            map: focus["map"].as_str().ok_or("iteration.json needs \"map\"")?.to_owned(),
            index: focus["index"].as_u64().ok_or("iteration.json needs \"index\"")?,
        };
        check_progress(case, "progress-iteration.json", &project_iteration(&machine, &events, &iteration))?;
    }
    // Every prefix is a moment the console may see while the execution runs.
    for cut in 0..events.len() {
        let partial = project(&machine, &events[..cut]);
        for id in partial.states.keys() {
            if !progress.states.contains_key(id) {
                return Err(format!("after {cut} events, {id} shows, but the whole history never ran it"));
            }
        }
    }
    Ok(())
}

#[test]
fn histories_project_to_their_recorded_progress() {
    let cases = cases();
    assert!(cases.len() >= 5, "expected the recorded cases in tests/progress, found {}", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check(case).err().map(|problem| format!("{}: {problem}", shown(case))))
        .collect();
    assert!(
        failures.is_empty(),
        "{} progress cases failed (BLESS=1 rewrites them):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
