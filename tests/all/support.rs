//! What several test modules need: a runtime with the sample functions, and a way to run one
//! execution with the real engine.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use serde_json::Value;
use stepwasm_asl::{ExecutionContext, StateMachine};
use stepwasm_orchestrator::engine::{Engine, ExecutionRecord, WasmTasks};
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

/// A runtime with every sample function and the misbehaving fixture deployed.
pub(crate) fn sample_runtime() -> Result<Runtime> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    for sample in stepwasm_functions::ALL {
        runtime.register(sample.name, sample.component, FunctionConfig::default())?;
    }
    let misbehave = std::fs::read(stepwasm_tests::fixtures::MISBEHAVE).context("reading the fixture")?;
    runtime.register("misbehave", &misbehave, FunctionConfig::default())?;
    Ok(runtime)
}

/// Runs `definition` once with the real engine and Wasm tasks.
pub(crate) async fn run(runtime: &Runtime, definition: &str, input: Value) -> Result<ExecutionRecord> {
    let machine = Arc::new(StateMachine::from_json(definition)?);
    let engine = Engine::new(Arc::new(WasmTasks::new(runtime.clone())));
    let context = ExecutionContext::new("test-machine", "test-execution", engine.clock().now());
    let (_, signals) = tokio::sync::mpsc::unbounded_channel();
    Ok(engine.run(machine, input, context, signals, &mut |_| {}).await)
}

/// The names of the states entered, in order, from a history.
pub(crate) fn states_entered(record: &ExecutionRecord) -> Vec<String> {
    record
        .history
        .iter()
        .filter(|event| event.event_type().ends_with("StateEntered"))
        .filter_map(|event| event.to_aws_json()["stateEnteredEventDetails"]["name"].as_str().map(str::to_owned))
        .collect()
}
