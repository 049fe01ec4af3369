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
    (store_kind, postgres): (StoreKind, Option<&str>),
    as_json: bool,
) -> Result<ExitCode> {
    let functions = Runtime::new(RuntimeConfig::default())?;
    if workflow == ServerWorkflow::OrderPipeline {
        for sample in stepwasm_functions::ALL {
            functions.register(sample.name, sample.component, FunctionConfig::default())?;
        }
    }
    let length = Duration::from_secs_f64(seconds);
    let (goal_rate, goal_p50) = goals(workflow, store_kind);
    let mut failed = 0;
    let runs: Vec<(String, Vec<BenchServer>)> = match postgres {
        None => vec![(store_kind.name().to_owned(), vec![BenchServer::start(store_kind, functions, "server")?])],
        // One node, then two on the same database, side by side. The nodes share this process
        // (and its two cores); each has its own runtime, connection pool and leases.
        Some(url) => {
            let mut runs = Vec::new();
            for nodes in [1, 2] {
                let servers = (0..nodes)
                    .map(|node| {
                        BenchServer::start_on_postgres(url, &format!("bench-{nodes}-{node}"), functions.clone())
                    })
                    .collect::<Result<Vec<_>>>()?;
                runs.push((format!("postgres, {nodes} node{}", if nodes == 1 { "" } else { "s" }), servers));
            }
            runs
        }
    };
    for (label, servers) in runs {
        let figures = measure(&servers, workflow, connections, length, as_json, &label)?;
        failed += figures.executions - figures.succeeded;
        if as_json {
            println!(
                "{}",
                json!({
                    "bench": "server",
                    "workflow": figures.workflow,
                    "store": label,
                    "nodes": servers.len(),
                    "connections": connections,
                    "executions_per_second": figures.rate.round(),
                    "goal_executions_per_second": goal_rate,
                    "half_load_rate": (figures.rate / 2.0).round(),
                    "completion_p50_ms": figures.completion.median.as_secs_f64() * 1e3,
                    "completion_p99_ms": figures.completion.p99.as_secs_f64() * 1e3,
                    "goal_completion_p50_ms": goal_p50.as_secs_f64() * 1e3,
                    "start_p50_ms": figures.start.median.as_secs_f64() * 1e3,
                    "executions": figures.executions,
                    "succeeded": figures.succeeded,
                })
            );
        } else {
            println!(
                "  saturated ({connections} connections): {:>8.0} executions/s (goal {goal_rate:.0}), {} in {:.1} s",
                figures.rate, figures.saturated, figures.saturated_seconds
            );
            println!(
                "  at half that rate ({:.0}/s): start-to-completion p50 {:>9}  p99 {:>9} (goal p50 {}); StartExecution p50 {}",
                figures.rate / 2.0,
                figures.completion.median(),
                figures.completion.p99(),
                super::invoke::format_duration(goal_p50),
                figures.start.median(),
            );
            println!("  {} of {} executions SUCCEEDED", figures.succeeded, figures.executions);
        }
    }
    if failed > 0 {
        bail!("{failed} executions did not succeed");
    }
    Ok(ExitCode::SUCCESS)
}

/// What one configuration measured.
struct Figures {
    workflow: &'static str,
    rate: f64,
    saturated: usize,
    saturated_seconds: f64,
    completion: Percentiles,
    start: Percentiles,
    executions: usize,
    succeeded: usize,
}

/// Saturates `servers` (the connections spread over them), then runs them at half that rate.
fn measure(
    servers: &[BenchServer],
    workflow: ServerWorkflow,
    connections: usize,
    length: Duration,
    as_json: bool,
    label: &str,
) -> Result<Figures> {
    let addresses: Vec<_> = servers.iter().map(|server| server.address).collect();
    let store = &servers[0].store;
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
    // A database that outlives the run may hold an earlier run's executions: a machine of its
    // own keeps them apart.
    let machine_name = format!("{name}-{}-{}", servers.len(), std::process::id());
    let machine = Client::new(&format!("http://{}", addresses[0])).call(
        "CreateStateMachine",
        &json!({"name": machine_name, "definition": definition, "roleArn": "arn:aws:iam::123456789012:role/bench"}),
    )?["stateMachineArn"]
        .as_str()
        .context("no state machine ARN")?
        .to_owned();
    if !as_json {
        let on: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        println!("stepwasm bench server: {name} through the HTTP API on {}, {label} store", on.join(" and "));
    }

    // Saturation: start as fast as the servers take them, with at most a few executions per
    // connection unfinished, so what is measured is finishing them, not queueing them.
    let limit = connections * 4;
    let services: Vec<_> = servers.iter().map(|server| server.service.clone()).collect();
    let admit =
        Arc::new(move || services.iter().map(|service| service.executions_in_progress()).sum::<usize>() < limit);
    let began = Instant::now();
    let saturated = Load {
        addresses: addresses.clone(),
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
        addresses,
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
    Ok(Figures {
        workflow: name,
        rate,
        saturated: saturated.latencies.len(),
        saturated_seconds: saturated.elapsed.as_secs_f64(),
        completion: Percentiles::of(&mut completion_latencies),
        start: Percentiles::of(&mut start_latencies),
        executions: executions.len(),
        succeeded,
    })
}

/// Every execution of `machine`.
pub(crate) fn executions(store: &dyn Store, machine: &str) -> Result<Vec<ExecutionRecord>> {
    let filter = ExecutionFilter { state_machine_arn: Some(machine.to_owned()), ..ExecutionFilter::default() };
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
