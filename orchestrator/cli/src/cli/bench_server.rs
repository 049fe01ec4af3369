//! `stepwasm bench server`: executions started through the HTTP API, durable store.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use stepwasm_orchestrator::Client;
use stepwasm_orchestrator::api::{self, AppState};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::SqliteStore;
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

use super::bench::{Percentiles, ServerWorkflow};
use super::bench_engine::{pass_chain_definition, pass_chain_input};

/// Executions waiting for their final event: ARN → when StartExecution was sent.
type Pending = Arc<Mutex<HashMap<String, Instant>>>;

pub(crate) fn run(seconds: f64, clients: usize, workflow: ServerWorkflow) -> Result<ExitCode> {
    let data = tempfile_dir()?;
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    for sample in stepwasm_functions::ALL {
        runtime.register(sample.name, sample.component, FunctionConfig::default())?;
    }
    let store = Arc::new(SqliteStore::open(&data.join("stepwasm.db"))?);
    let service = Service::new(store, runtime, ServiceConfig::default());
    let (endpoint, finished) = tokio.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let finished = service.subscribe();
        tokio::spawn(api::run(listener, AppState { service, functions: None }, std::future::pending()));
        Ok::<_, anyhow::Error>((endpoint, finished))
    })?;
    let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    tokio.spawn(collect_completions(finished, Arc::clone(&pending), Arc::clone(&latencies)));

    let client = Client::new(&endpoint);
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
    let machine = client.call(
        "CreateStateMachine",
        &json!({"name": name, "definition": definition, "roleArn": "arn:aws:iam::123456789012:role/bench"}),
    )?["stateMachineArn"]
        .as_str()
        .context("no state machine ARN")?
        .to_owned();
    println!("stepwasm bench server: {name} through the HTTP API on {endpoint}, SQLite store (synchronous=FULL)");

    // Saturation: `clients` load-generator threads, each starting executions back to back while
    // keeping at most a few of its own in flight.
    let length = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let (client, machine, input, pending, counter) =
                (client.clone(), machine.clone(), input.clone(), Arc::clone(&pending), Arc::clone(&counter));
            std::thread::spawn(move || -> Result<()> {
                let mut index = 0;
                while started.elapsed() < length {
                    // Backpressure: wait while this many executions are unfinished.
                    while pending.lock().unwrap_or_else(PoisonError::into_inner).len() >= clients * 8 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    start_one(&client, &machine, &input, &format!("load-{worker}-{index}"), &pending)?;
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    index += 1;
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().map_err(|_| anyhow::anyhow!("a load thread panicked"))??;
    }
    wait_until_drained(&pending)?;
    let elapsed = started.elapsed();
    let completed = latencies.lock().unwrap_or_else(PoisonError::into_inner).len();
    let rate = completed as f64 / elapsed.as_secs_f64();
    println!(
        "  saturated ({clients} client threads): {rate:>8.0} executions/s ({completed} in {:.1} s)",
        elapsed.as_secs_f64()
    );

    // Latency at half that rate, open loop: starts are paced, not waiting for completions.
    latencies.lock().unwrap_or_else(PoisonError::into_inner).clear();
    let half = (rate / 2.0).max(1.0);
    let interval = Duration::from_secs_f64(1.0 / half);
    let paced_start = Instant::now();
    let mut next = paced_start;
    let mut index = 0;
    while paced_start.elapsed() < length {
        let now = Instant::now();
        if now < next {
            std::thread::sleep(next - now);
        }
        next += interval;
        start_one(&client, &machine, &input, &format!("paced-{index}"), &pending)?;
        index += 1;
    }
    wait_until_drained(&pending)?;
    let mut paced = latencies.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let percentiles = Percentiles::of(&mut paced);
    println!(
        "  at half that rate ({half:.0}/s, {} executions): start-to-completion p50 {:>10}  p99 {:>10}",
        paced.len(),
        percentiles.median(),
        percentiles.p99()
    );
    let _ = std::fs::remove_dir_all(&data);
    Ok(ExitCode::SUCCESS)
}

fn start_one(client: &Client, machine: &str, input: &str, name: &str, pending: &Pending) -> Result<()> {
    let sent = Instant::now();
    let reply = client.call("StartExecution", &json!({"stateMachineArn": machine, "name": name, "input": input}))?;
    let arn = reply["executionArn"].as_str().context("no execution ARN")?.to_owned();
    // The completion may already have been seen; then it is recorded on arrival below.
    pending.lock().unwrap_or_else(PoisonError::into_inner).entry(arn).or_insert(sent);
    Ok(())
}

async fn collect_completions(
    mut events: tokio::sync::broadcast::Receiver<stepwasm_orchestrator::service::ExecutionEvent>,
    pending: Pending,
    latencies: Arc<Mutex<Vec<Duration>>>,
) {
    loop {
        match events.recv().await {
            Ok(event) => {
                let kind = event.event["type"].as_str().unwrap_or_default();
                if matches!(kind, "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted") {
                    // Wait for the starter to register the ARN (the reply can trail the events).
                    for _ in 0..1000 {
                        let sent = pending.lock().unwrap_or_else(PoisonError::into_inner).remove(&event.execution_arn);
                        if let Some(sent) = sent {
                            latencies.lock().unwrap_or_else(PoisonError::into_inner).push(sent.elapsed());
                            break;
                        }
                        tokio::time::sleep(Duration::from_micros(100)).await;
                    }
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                eprintln!("bench: the event stream dropped {missed} events; figures undercount");
            }
            Err(_) => return,
        }
    }
}

fn wait_until_drained(pending: &Pending) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !pending.lock().unwrap_or_else(PoisonError::into_inner).is_empty() {
        if Instant::now() > deadline {
            bail!("executions did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("stepwasm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
