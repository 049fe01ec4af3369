//! The AWS-recorded corpus in `../shared/conformance`, run through the real engine with Wasm
//! stand-ins for the recorded Lambda handlers.

use std::path::{Path, PathBuf};

use anyhow::Result;
use stepwasm_orchestrator::conformance::{Runner, load_cases};
use stepwasm_runtime::{Runtime, RuntimeConfig};

fn shared_conformance() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    dir.is_dir().then_some(dir)
}

fn pass_rate(file: &str, json_ata: Option<bool>) -> Result<Option<(usize, usize)>> {
    let Some(dir) = shared_conformance() else {
        eprintln!("SKIPPED: ../shared/conformance is absent (CI always has it)");
        return Ok(None);
    };
    let names =
        Runner::load_function_names(&Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/function-names.json"))?;
    let runner = Runner::new(Runtime::new(RuntimeConfig::default())?, stepwasm_functions::CONFORMANCE_HANDLERS, names);
    let (mut passed, mut total) = (0, 0);
    for case in load_cases(&dir.join(file))? {
        let is_jsonata = case.tags.iter().any(|tag| tag == "jsonata");
        if json_ata.is_some_and(|wanted| wanted != is_jsonata) {
            continue;
        }
        let report = runner.run(&case);
        total += 1;
        if report.passed() {
            passed += 1;
        } else {
            eprintln!("FAIL {}: {:?}", report.id, report.mismatches);
        }
    }
    eprintln!("{file}: {passed}/{total}");
    Ok(Some((passed, total)))
}

#[test]
fn recorded_cases_without_jsonata_pass_at_98_percent() -> Result<()> {
    if let Some((passed, total)) = pass_rate("aws-recorded.jsonl", Some(false))? {
        assert!(total > 400, "the corpus has shrunk: {total} cases");
        assert!(passed * 100 >= total * 98, "{passed}/{total} is below 98%");
    }
    Ok(())
}

#[test]
fn recorded_cases_with_jsonata_pass_at_98_percent() -> Result<()> {
    if let Some((passed, total)) = pass_rate("aws-recorded.jsonl", Some(true))? {
        assert!(total > 50, "the corpus has shrunk: {total} cases");
        assert!(passed * 100 >= total * 98, "{passed}/{total} is below 98%");
    }
    Ok(())
}

#[test]
fn recorded_task_cases_pass_at_95_percent_with_wasm_functions() -> Result<()> {
    if let Some((passed, total)) = pass_rate("aws-recorded-task.jsonl", None)? {
        assert!(total >= 26, "the corpus has shrunk: {total} cases");
        assert!(passed * 100 >= total * 95, "{passed}/{total} is below 95%");
    }
    Ok(())
}
