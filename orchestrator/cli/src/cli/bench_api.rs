//! `stepwasm bench api`: StartExecution of the ten-Pass machine as fast as the API takes it.
//!
//! The load generator is an open set of keep-alive HTTP/1.1 connections on a thread of its own,
//! each sending its next StartExecution as soon as the last one is answered; bodies are built
//! once, so it costs the server's two cores as little as a client can. After the run every
//! started execution must have SUCCEEDED, or the benchmark fails.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use stepwasm_orchestrator::Client;
use stepwasm_orchestrator::store::{ExecutionFilter, ExecutionStatus, PageRequest, Store};
use stepwasm_runtime::{Runtime, RuntimeConfig};

use super::bench::{Percentiles, StoreKind};
use super::bench_engine::{pass_chain_definition, pass_chain_input};
use super::bench_load::{BenchServer, Load, Outcome};
use super::bench_server::executions;

/// The goals from the performance issue, printed beside the figures.
fn goal(store: StoreKind) -> f64 {
    match store {
        StoreKind::Sqlite => 10_000.0,
        StoreKind::Memory => 20_000.0,
    }
}

/// One store's figures.
struct Figures {
    started: usize,
    succeeded: usize,
    seconds: f64,
    latency: Percentiles,
}

pub(crate) fn run(seconds: f64, connections: usize, stores: &[StoreKind], as_json: bool) -> Result<ExitCode> {
    let mut all = Vec::new();
    for &store in stores {
        let figures = measure(store, seconds, connections, as_json)?;
        let rate = figures.started as f64 / figures.seconds;
        if as_json {
            println!(
                "{}",
                json!({
                    "bench": "api",
                    "workflow": "pass-chain",
                    "store": store.name(),
                    "connections": connections,
                    "seconds": figures.seconds,
                    "started": figures.started,
                    "succeeded": figures.succeeded,
                    "starts_per_second": rate.round(),
                    "goal_starts_per_second": goal(store),
                    "p50_ms": figures.latency.median.as_secs_f64() * 1e3,
                    "p99_ms": figures.latency.p99.as_secs_f64() * 1e3,
                })
            );
        } else {
            println!(
                "  {:<8} {:>8.0} starts/s (goal {:>6.0})   StartExecution p50 {:>9}  p99 {:>9}   {} of {} SUCCEEDED",
                store.name(),
                rate,
                goal(store),
                figures.latency.median(),
                figures.latency.p99(),
                figures.succeeded,
                figures.started,
            );
        }
        all.push(figures);
    }
    let all_succeeded = all.iter().all(|figures| figures.succeeded == figures.started);
    Ok(if all_succeeded { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn measure(kind: StoreKind, seconds: f64, connections: usize, quiet: bool) -> Result<Figures> {
    let bench = BenchServer::start(kind, Runtime::new(RuntimeConfig::default())?, "api")?;
    let (address, store) = (bench.address, &bench.store);
    let endpoint = format!("http://{address}");
    let machine = Client::new(&endpoint).call(
        "CreateStateMachine",
        &json!({
            "name": "pass-chain",
            "definition": pass_chain_definition().to_string(),
            "roleArn": "arn:aws:iam::123456789012:role/bench",
        }),
    )?["stateMachineArn"]
        .as_str()
        .context("no state machine ARN")?
        .to_owned();
    if !quiet && kind == StoreKind::Sqlite {
        println!(
            "stepwasm bench api: StartExecution of a ten-Pass machine, {connections} keep-alive connections on {endpoint}"
        );
    }

    let load = Load {
        addresses: vec![address],
        machine: machine.clone(),
        input: pass_chain_input().to_string(),
        connections,
        length: Duration::from_secs_f64(seconds),
        total: None,
        prefix: "load-".into(),
        rate: None,
        admit: None,
    };
    let Outcome { mut latencies, elapsed } = load.run()?;
    let started = latencies.len();

    wait_until_finished(store.as_ref(), &machine)?;
    let succeeded =
        executions(store.as_ref(), &machine)?.iter().filter(|e| e.status == ExecutionStatus::Succeeded).count();
    drop(bench);
    // The kernel is still writing back what a durable store wrote; on a 2-core machine that
    // took a fifth of the next store's throughput. Finish it before the next measurement.
    rustix::fs::sync();
    Ok(Figures { started, succeeded, seconds: elapsed.as_secs_f64(), latency: Percentiles::of(&mut latencies) })
}

/// Waits until no execution of `machine` is RUNNING, parked ones included.
pub(crate) fn wait_until_finished(store: &dyn Store, machine: &str) -> Result<()> {
    // The benchmark's own threads are not async; its store reads run on a runtime of their own.
    let reads = tokio::runtime::Builder::new_current_thread().build()?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let running = ExecutionFilter {
        state_machine_arn: Some(machine.to_owned()),
        status: Some(ExecutionStatus::Running),
        ..ExecutionFilter::default()
    };
    let one = PageRequest { limit: 1, after: None, reverse: false };
    while !reads.block_on(store.list_executions(&running, &one))?.items.is_empty() {
        if Instant::now() > deadline {
            bail!("executions were still running five minutes after the load stopped");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

impl StoreKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Memory => "memory",
        }
    }
}
