//! `stepwasm demo`: the sample order pipeline on three sample orders.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use serde_json::Value;
use stepwasm_asl::{ExecutionOutcome, StateMachine};
use stepwasm_orchestrator::DataDir;
use stepwasm_orchestrator::engine::ExecutionRecord;

use super::invoke::format_duration;
use super::run::{run_once, sample_runtime};

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {}

/// The orders the demo runs, and what each shows.
const ORDERS: &[(&str, &str, &str)] = &[
    ("good-order", stepwasm_functions::samples::GOOD_ORDER, "completes; the carrier fails once and is retried"),
    ("declined-card", stepwasm_functions::samples::DECLINED_CARD, "the card is declined; the order is cancelled"),
    ("out-of-stock", stepwasm_functions::samples::OUT_OF_STOCK, "an item is out of stock; refund, then cancel"),
];

pub(crate) fn run(_args: &DemoArgs, data_dir: &DataDir) -> Result<ExitCode> {
    let runtime = sample_runtime(data_dir)?;
    let machine = Arc::new(StateMachine::from_json(stepwasm_functions::ORDER_PIPELINE)?);
    println!("stepwasm demo: the order pipeline (functions/order-pipeline.asl.json)");
    println!("{} task functions deployed; Wasm allocator: {}", stepwasm_functions::ALL.len(), runtime.allocator());
    let mut all_as_expected = true;
    for (name, order, story) in ORDERS {
        println!("\n== {name}: {story}");
        let input: Value = serde_json::from_str(order)?;
        let started = std::time::Instant::now();
        let record = run_once(&runtime, Arc::clone(&machine), input, "order-pipeline")?;
        print_path(&record);
        match &record.outcome {
            ExecutionOutcome::Succeeded(output) => {
                println!("   SUCCEEDED in {}", format_duration(started.elapsed()));
                println!("   output: {output}");
            }
            ExecutionOutcome::Failed { error, cause } => {
                println!("   FAILED in {}", format_duration(started.elapsed()));
                println!("   error: {}", error.as_deref().unwrap_or("null"));
                println!("   cause: {}", cause.as_deref().unwrap_or("null"));
            }
            other => println!("   {}", other.status()),
        }
        let expected_success = *name == "good-order";
        all_as_expected &= matches!(record.outcome, ExecutionOutcome::Succeeded(_)) == expected_success;
    }
    println!("\nRun one yourself:");
    println!(
        "  stepwasm run functions/order-pipeline.asl.json --input-file functions/samples/good-order.json --history"
    );
    Ok(if all_as_expected { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// One line per task attempt: the state, the attempt, and how it ended.
fn print_path(record: &ExecutionRecord) {
    let mut invocations: Vec<_> = record.invocations.iter().collect();
    invocations.sort_by_key(|invocation| invocation.started);
    for invocation in invocations {
        let retry = if invocation.attempt > 1 { format!(" (attempt {})", invocation.attempt) } else { String::new() };
        let took = format_duration(invocation.finished.saturating_duration_since(invocation.started));
        println!("   {:<24} {:>9}  {:>7} fuel{retry}", invocation.state_name, took, invocation.fuel_consumed);
    }
}
