//! The AWS-recorded corpus in `../shared/conformance`, run through the real engine with Wasm
//! stand-ins for the recorded Lambda handlers.

use std::path::{Path, PathBuf};

use anyhow::Result;
use stepwasm_orchestrator::conformance::{Runner, load_cases};
use stepwasm_runtime::{Runtime, RuntimeConfig};

/// The corpus lives beside the checkout, in `../shared`, as on CI; without it these tests fail.
fn shared_conformance() -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    anyhow::ensure!(
        dir.is_dir(),
        "the AWS-recorded corpus is missing: {} should be `shared/conformance` beside the checkout",
        dir.display()
    );
    Ok(dir)
}

fn pass_rate(file: &str, json_ata: Option<bool>) -> Result<(usize, usize)> {
    let dir = shared_conformance()?;
    let runner = Runner::new(Runtime::new(RuntimeConfig::default())?, stepwasm_functions::CONFORMANCE_HANDLERS);
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
    Ok((passed, total))
}

#[test]
fn every_recorded_case_without_jsonata_passes() -> Result<()> {
    let (passed, total) = pass_rate("aws-recorded.jsonl", Some(false))?;
    assert!(total > 400, "the corpus has shrunk: {total} cases");
    assert_eq!(passed, total, "{} recorded cases fail", total - passed);
    Ok(())
}

#[test]
fn every_recorded_case_with_jsonata_passes() -> Result<()> {
    let (passed, total) = pass_rate("aws-recorded.jsonl", Some(true))?;
    assert!(total > 50, "the corpus has shrunk: {total} cases");
    assert_eq!(passed, total, "{} recorded cases fail", total - passed);
    Ok(())
}

#[test]
fn every_recorded_task_case_passes_with_wasm_functions() -> Result<()> {
    let (passed, total) = pass_rate("aws-recorded-task.jsonl", None)?;
    assert!(total >= 26, "the corpus has shrunk: {total} cases");
    assert_eq!(passed, total, "{} recorded cases fail", total - passed);
    Ok(())
}
