//! `stepwasm conformance`: run AWS-recorded cases and report how many stepwasm matches.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use serde_json::json;
use stepwasm_orchestrator::DataDir;
use stepwasm_orchestrator::conformance::{CaseReport, Mismatch, Runner, load_cases};
use stepwasm_runtime::{Runtime, RuntimeConfig};

#[derive(Debug, Args)]
pub(crate) struct ConformanceArgs {
    /// Case files (JSON lines, as in shared/conformance).
    #[arg(required = true)]
    files: Vec<PathBuf>,

    /// Write a per-case report here, as JSON.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,

    /// Only run cases whose id contains this text.
    #[arg(long)]
    filter: Option<String>,
}

pub(crate) fn run(args: &ConformanceArgs, data_dir: &DataDir) -> Result<ExitCode> {
    let runtime =
        Runtime::new(RuntimeConfig { artifact_cache: Some(data_dir.artifacts()), ..RuntimeConfig::default() })?;
    let runner = Runner::new(runtime, stepwasm_functions::CONFORMANCE_HANDLERS);
    let mut reports = Vec::new();
    for file in &args.files {
        let cases = load_cases(file).with_context(|| format!("loading {}", file.display()))?;
        for case in cases.iter().filter(|case| args.filter.as_ref().is_none_or(|filter| case.id.contains(filter))) {
            let report = runner.run(case);
            if !report.passed() {
                print_failure(&report);
            }
            reports.push(report);
        }
    }
    print_tags(&reports);
    let passed = reports.iter().filter(|report| report.passed()).count();
    let failed = reports.len() - passed;
    if let Some(path) = &args.json {
        let summary = json!({
            "passed": passed,
            "failed": failed,
            "failedOnEventTypesOnly": reports.iter().filter(|report| report.event_types_only()).count(),
            "cases": reports,
        });
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_failure(report: &CaseReport) {
    println!("FAIL {}", report.id);
    for mismatch in &report.mismatches {
        match mismatch {
            Mismatch::Definition { diagnostics } => println!("  definition rejected: {}", diagnostics.join("; ")),
            Mismatch::Status { expected, actual } => println!("  status: expected {expected}, got {actual}"),
            Mismatch::Output { expected, actual } => {
                println!("  output: expected {expected}");
                println!("          got      {actual}");
            }
            Mismatch::Error { expected, actual } => println!("  error: expected {expected:?}, got {actual:?}"),
            Mismatch::Cause { expected, actual } => {
                println!("  cause: expected {expected:?}");
                println!("         got      {actual:?}");
            }
            Mismatch::EventTypes { expected, actual } => {
                let first =
                    expected.iter().zip(actual).position(|(a, b)| a != b).unwrap_or(expected.len().min(actual.len()));
                println!(
                    "  event types differ from #{}: expected {:?}, got {:?}",
                    first + 1,
                    expected.get(first..),
                    actual.get(first..)
                );
            }
        }
    }
}

fn print_tags(reports: &[CaseReport]) {
    let mut tags: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for report in reports {
        for tag in &report.tags {
            let entry = tags.entry(tag).or_default();
            entry.0 += usize::from(report.passed());
            entry.1 += 1;
        }
    }
    if !tags.is_empty() {
        println!("per tag (passed/total):");
        for (tag, (passed, total)) in tags {
            println!("  {tag:<28} {passed}/{total}");
        }
    }
}
