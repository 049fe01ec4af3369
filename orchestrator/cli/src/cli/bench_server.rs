//! `stepwasm bench server`: whole executions through the HTTP API, started as fast as the
//! server finishes them, then at half that rate for their latency.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use stepwasm_orchestrator::Client;
use stepwasm_orchestrator::store::{ExecutionFilter, ExecutionRecord, ExecutionStatus, PageRequest, Store};
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

use super::bench::{Percentiles, ServerWorkflow, StoreKind};
use super::bench_api::wait_until_finished;
use super::bench_engine::{pass_chain_definition, pass_chain_input};
use super::bench_load::{BenchServer, Load, Outcome};

/// The goals from the performance issue: executions/s at saturation, and the p50 at half load.
fn goals(workflow: ServerWorkflow, store: StoreKind) -> (f64, Duration) {
    match (workflow, store) {
        (ServerWorkflow::OrderPipeline, StoreKind::Sqlite) => (2_000.0, Duration::from_millis(10)),
        (ServerWorkflow::OrderPipeline, StoreKind::Memory) => (8_000.0, Duration::from_millis(10)),
        (ServerWorkflow::PassChain, StoreKind::Sqlite) => (10_000.0, Duration::from_millis(10)),
        (ServerWorkflow::PassChain, StoreKind::Memory) => (20_000.0, Duration::from_millis(10)),
    }
}

pub(crate) fn run(
    seconds: f64,
    connections: usize,
    workflow: ServerWorkflow,
    store_kind: StoreKind,
    as_json: bool,
) -> Result<ExitCode> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    if workflow == ServerWorkflow::OrderPipeline {
        for sample in stepwasm_functions::ALL {
            runtime.register(sample.name, sample.component, FunctionConfig::default())?;
        }
    }
    let bench = BenchServer::start(store_kind, runtime, "server")?;
    let (address, service, store) = (bench.address, bench.service.clone(), &bench.store);

    let (name, definition, input) = match workflow {
        // The large order runs all ten tasks with no retry back-off (see `bench engine`).
        ServerWorkflow::OrderPipeline => (
            "order-pipeline",
            stepwasm_functions::ORDER_PIPELINE.to_owned(),
            stepwasm_functions::samples::LARGE_ORDER.to_owned(),
        ),
        ServerWorkflow::PassChain => {
            ("pass-chain", pass_chain_definition().to_string(), pass_chain_input().to_string())
        }
    };
    let machine = Client::new(&format!("http://{address}")).call(
        "CreateStateMachine",
        &json!({"name": name, "definition": definition, "roleArn": "arn:aws:iam::123456789012:role/bench"}),
    )?["stateMachineArn"]
        .as_str()
        .context("no state machine ARN")?
        .to_owned();
    let store_name = store_kind.name();
    if !as_json {
        println!("stepwasm bench server: {name} through the HTTP API on {address}, {store_name} store");
    }

    // Saturation: start as fast as the server takes them, with at most a few executions per
    // connection unfinished, so what is measured is finishing them, not queueing them.
    let length = Duration::from_secs_f64(seconds);
    let limit = connections * 4;
    let admit = Arc::new(move || service.executions_in_progress() < limit);
    let began = Instant::now();
    let saturated = Load {
        address,
        machine: machine.clone(),
        input: input.clone(),
        connections,
        length,
        total: None,
        prefix: "load-".into(),
        rate: None,
        admit: Some(admit),
    }
    .run()?;
    wait_until_finished(store.as_ref(), &machine)?;
    let rate = saturated.latencies.len() as f64 / began.elapsed().as_secs_f64();

    // Latency at half that rate, open loop: starts are paced, not waiting for completions.
    let paced = Load {
        address,
        machine: machine.clone(),
        input,
        connections,
        length,
        total: None,
        prefix: "paced-".into(),
        rate: Some((rate / 2.0).max(1.0)),
        admit: None,
    };
    let Outcome { latencies: mut start_latencies, .. } = paced.run()?;
    wait_until_finished(store.as_ref(), &machine)?;

    let executions = executions(store.as_ref(), &machine)?;
    let succeeded = executions.iter().filter(|e| e.status == ExecutionStatus::Succeeded).count();
    // Start to completion as the server recorded it (startDate to stopDate, in milliseconds).
    let mut completion_latencies: Vec<Duration> = executions
        .iter()
        .filter(|e| e.name.starts_with("paced-"))
        .filter_map(|e| e.stop_date.map(|stop| Duration::from_millis(u64::try_from(stop - e.start_date).unwrap_or(0))))
        .collect();
    let completion = Percentiles::of(&mut completion_latencies);
    let start = Percentiles::of(&mut start_latencies);
    let (goal_rate, goal_p50) = goals(workflow, store_kind);
    if as_json {
        println!(
            "{}",
            json!({
                "bench": "server",
                "workflow": name,
                "store": store_name,
                "connections": connections,
                "executions_per_second": rate.round(),
                "goal_executions_per_second": goal_rate,
                "half_load_rate": (rate / 2.0).round(),
                "completion_p50_ms": completion.median.as_secs_f64() * 1e3,
                "completion_p99_ms": completion.p99.as_secs_f64() * 1e3,
                "goal_completion_p50_ms": goal_p50.as_secs_f64() * 1e3,
                "start_p50_ms": start.median.as_secs_f64() * 1e3,
                "executions": executions.len(),
                "succeeded": succeeded,
            })
        );
    } else {
        println!(
            "  saturated ({connections} connections): {rate:>8.0} executions/s (goal {goal_rate:.0}), {} in {:.1} s",
            saturated.latencies.len(),
            saturated.elapsed.as_secs_f64()
        );
        println!(
            "  at half that rate ({:.0}/s): start-to-completion p50 {:>9}  p99 {:>9} (goal p50 {}); StartExecution p50 {}",
            rate / 2.0,
            completion.median(),
            completion.p99(),
            super::invoke::format_duration(goal_p50),
            start.median(),
        );
        println!("  {succeeded} of {} executions SUCCEEDED", executions.len());
    }
    drop(bench);
    if succeeded != executions.len() {
        bail!("{} executions did not succeed", executions.len() - succeeded);
    }
    Ok(ExitCode::SUCCESS)
}

/// Every execution of `machine`.
pub(crate) fn executions(store: &dyn Store, machine: &str) -> Result<Vec<ExecutionRecord>> {
    let filter = ExecutionFilter { state_machine_arn: Some(machine.to_owned()), status: None };
    // The benchmark's own threads are not async; its store reads run on a runtime of their own.
    let reads = tokio::runtime::Builder::new_current_thread().build()?;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page =
            reads.block_on(store.list_executions(&filter, &PageRequest { limit: 1000, after, reverse: false }))?;
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}
