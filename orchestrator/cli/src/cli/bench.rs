//! `stepwasm bench`: performance figures, printed, never asserted.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::function_source::FunctionSource;
use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use serde_json::Value;
use stepwasm_runtime::{FunctionConfig, Invocation, Runtime, RuntimeConfig};

use super::invoke::format_duration;

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Fresh, isolated invocations of validate-payment with fuel, deadline and memory cap on.
    Invoke(InvokeBenchArgs),
    /// The interpreter on a Pass chain, and the order pipeline with its Wasm tasks, in memory.
    Engine(EngineBenchArgs),
    /// Whole executions through the HTTP API: as many as the server finishes, then the latency
    /// at half that rate.
    Server(ServerBenchArgs),
    /// StartExecution of a ten-Pass machine through the HTTP API, durable and in memory.
    Api(ApiBenchArgs),
    /// The memory an execution costs while it waits: N executions parked in a Wait state, then
    /// woken.
    Parked(ParkedBenchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ParkedBenchArgs {
    /// How many executions to park.
    #[arg(default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    executions: u64,

    /// How long each waits, from the first start [default: 10 s + 1 s per 2,000 executions].
    #[arg(long, value_parser = positive_seconds)]
    wait_seconds: Option<f64>,

    /// Where the server keeps executions.
    #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
    store: StoreKind,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ApiBenchArgs {
    /// How long each measurement lasts, in seconds.
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    seconds: f64,

    /// Keep-alive connections, each sending its next StartExecution when the last is answered.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    connections: u32,

    /// The stores to measure, in order.
    #[arg(long = "store", value_enum, default_values_t = [StoreKind::Sqlite, StoreKind::Memory])]
    stores: Vec<StoreKind>,

    /// Print one JSON object per store instead of a table.
    #[arg(long)]
    json: bool,
}

/// Where a benchmarked server keeps executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum StoreKind {
    /// The durable SQLite store (`synchronous=FULL`), in a temporary directory.
    Sqlite,
    /// The in-memory store (`stepwasm serve --in-memory`).
    Memory,
}

#[derive(Debug, Args)]
pub(crate) struct ServerBenchArgs {
    /// How long each measurement lasts, in seconds.
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    seconds: f64,

    /// Keep-alive connections the load generator starts executions on.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    connections: u32,

    /// The workflow to start: the order pipeline with its ten Wasm tasks, or a chain of ten Pass
    /// states (the engine and the store without any task).
    #[arg(long, value_enum, default_value_t = ServerWorkflow::OrderPipeline)]
    workflow: ServerWorkflow,

    /// Where the server keeps executions.
    #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
    store: StoreKind,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// What `bench server` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ServerWorkflow {
    /// `functions/order-pipeline.asl.json` on the large order.
    OrderPipeline,
    /// Ten Pass states with Parameters and ResultPath.
    PassChain,
}

#[derive(Debug, Args)]
pub(crate) struct EngineBenchArgs {
    /// How long each measurement lasts, in seconds.
    #[arg(long, default_value_t = 3.0, value_parser = positive_seconds)]
    seconds: f64,

    /// Pipeline executions kept in flight during the throughput run.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    in_flight: u32,
}

#[derive(Debug, Args)]
pub(crate) struct InvokeBenchArgs {
    /// Invocations timed one by one for the latency figures.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    samples: u32,

    /// How long each throughput run lasts, in seconds.
    #[arg(long, default_value_t = 3.0, value_parser = positive_seconds)]
    seconds: f64,

    /// Benchmark another function (a sample's name or a `.wasm` path) instead of validate-payment.
    /// The native floor is only measured for validate-payment.
    #[arg(long, requires = "input")]
    function: Option<String>,

    /// The input for `--function`, as JSON.
    #[arg(long)]
    input: Option<String>,
}

/// A measurement length: a positive number of seconds, at most a day.
fn positive_seconds(text: &str) -> Result<f64, String> {
    let seconds: f64 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 {
        Ok(seconds)
    } else {
        Err(format!("{text} must be more than 0 and at most 86400 seconds"))
    }
}

pub(crate) fn run(command: &BenchCommand) -> Result<ExitCode> {
    match command {
        BenchCommand::Invoke(args) => bench_invoke(args),
        BenchCommand::Engine(args) => super::bench_engine::run(args.seconds, args.in_flight as usize),
        BenchCommand::Server(args) => {
            super::bench_server::run(args.seconds, args.connections as usize, args.workflow, args.store, args.json)
        }
        BenchCommand::Parked(args) => super::bench_parked::run(
            args.executions,
            args.wait_seconds.map(Duration::from_secs_f64),
            args.store,
            args.json,
        ),
        BenchCommand::Api(args) => {
            super::bench_api::run(args.seconds, args.connections as usize, &args.stores, args.json)
        }
    }
}

const FUNCTION: &str = "validate-payment";

fn bench_invoke(args: &InvokeBenchArgs) -> Result<ExitCode> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    if let (Some(function), Some(input)) = (&args.function, &args.input) {
        let source = FunctionSource::resolve(function)?;
        runtime.register(FUNCTION, &source.component()?, FunctionConfig::default())?;
        let input: Value = serde_json::from_str(input).context("--input is not valid JSON")?;
        println!("stepwasm bench invoke: {}, one fresh instance per invocation", source.name());
        return measure(&runtime, &input, args, false);
    }
    for name in ["place-order", FUNCTION] {
        let sample = stepwasm_functions::find(name).with_context(|| format!("sample {name}"))?;
        // Default limits: ~1 CPU-second of fuel, a 60 s deadline, a 64 MiB memory cap.
        runtime.register(name, sample.component, FunctionConfig::default())?;
    }
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;

    // validate-payment takes the document place-order produces.
    let order: Value = serde_json::from_str(stepwasm_functions::samples::GOOD_ORDER)?;
    let request = serde_json::json!({ "order": order, "receivedAt": "2026-11-24T12:00:00Z" });
    let placed = match tokio.block_on(runtime.invoke("place-order", Invocation::new(&request)))?.outcome {
        Ok(placed) => placed,
        Err(failure) => bail!("place-order failed on the sample order: {failure}"),
    };

    println!("stepwasm bench invoke: {FUNCTION}, one fresh instance per invocation");
    measure(&runtime, &placed, args, true)
}

fn measure(runtime: &Runtime, placed: &Value, args: &InvokeBenchArgs, with_native_floor: bool) -> Result<ExitCode> {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let check = tokio.block_on(runtime.invoke(FUNCTION, Invocation::new(placed)))?;
    if let Err(failure) = &check.outcome {
        bail!("the function failed on the benchmark input: {failure}");
    }
    println!("allocator: {}", runtime.allocator());
    println!("limits: fuel 12e9 units, deadline 60 s, memory cap 64 MiB, stdout/stderr captured");
    println!("fuel per invocation: {}", check.fuel_consumed);

    // Warm-up: page in the code, fill the pool's warm slots.
    for _ in 0..2_000 {
        tokio.block_on(runtime.invoke(FUNCTION, Invocation::new(placed)))?;
    }
    let samples = args.samples as usize;
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let invocation = Invocation::new(placed);
        let started = Instant::now();
        let report = tokio.block_on(runtime.invoke(FUNCTION, invocation))?;
        latencies.push(started.elapsed());
        if report.outcome.is_err() {
            bail!("an invocation failed during the benchmark");
        }
    }
    let wasm = Percentiles::of(&mut latencies);

    println!();
    println!("{:<34} {:>10} {:>10} {:>10}", "latency per invocation", "median", "p99", "mean");
    println!("{:<34} {:>10} {:>10} {:>10}", "wasm, fresh isolated instance", wasm.median(), wasm.p99(), wasm.mean());
    if with_native_floor {
        let native = native_floor(placed, args.samples as usize)?;
        println!("{:<34} {:>10} {:>10} {:>10}", "native call (floor)", native.median(), native.p99(), native.mean());
        println!("overhead over native: {:.1}x (median)", wasm.median.as_secs_f64() / native.median.as_secs_f64());
    }

    println!();
    println!("{:<34} {:>14}", "throughput", "invocations/s");
    for threads in [1, 2] {
        let rate = throughput(runtime, placed, threads, Duration::from_secs_f64(args.seconds))?;
        println!("{:<34} {:>14.0}", format!("{threads} thread{}", if threads == 1 { "" } else { "s" }), rate);
    }
    Ok(ExitCode::SUCCESS)
}

/// The same work without Wasm: parse the document, run the payment checks, serialise the result.
fn native_floor(placed: &Value, samples: usize) -> Result<Percentiles> {
    let input = serde_json::to_string(placed)?;
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples + 2_000 {
        let started = Instant::now();
        let order: order_model::PlacedOrder = serde_json::from_str(&input)?;
        let authorization = validate_payment::authorize(&order).map_err(|error| anyhow::anyhow!("{error}"))?;
        let output = serde_json::to_string(&authorization)?;
        std::hint::black_box(output);
        latencies.push(started.elapsed());
    }
    latencies.drain(..2_000);
    Ok(Percentiles::of(&mut latencies))
}

/// Invocations per second with `threads` OS threads, each driving its own tokio runtime.
fn throughput(runtime: &Runtime, placed: &Value, threads: usize, length: Duration) -> Result<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let runtime = runtime.clone();
            let placed = placed.clone();
            let stop = Arc::clone(&stop);
            let completed = Arc::clone(&completed);
            std::thread::spawn(move || -> Result<()> {
                let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                let mut count = 0;
                while !stop.load(Ordering::Relaxed) {
                    tokio.block_on(runtime.invoke(FUNCTION, Invocation::new(&placed)))?;
                    count += 1;
                }
                completed.fetch_add(count, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(length);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().map_err(|_| anyhow::anyhow!("a benchmark thread panicked"))??;
    }
    Ok(completed.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// Summary statistics of a set of latencies.
pub(crate) struct Percentiles {
    pub(crate) median: Duration,
    pub(crate) p99: Duration,
    mean: Duration,
}

impl Percentiles {
    pub(crate) fn of(latencies: &mut [Duration]) -> Self {
        if latencies.is_empty() {
            return Self { median: Duration::ZERO, p99: Duration::ZERO, mean: Duration::ZERO };
        }
        latencies.sort_unstable();
        let at = |fraction: f64| latencies[((latencies.len() - 1) as f64 * fraction).round() as usize];
        let total: Duration = latencies.iter().sum();
        Self { median: at(0.5), p99: at(0.99), mean: total / latencies.len().max(1) as u32 }
    }

    pub(crate) fn median(&self) -> String {
        format_duration(self.median)
    }

    pub(crate) fn p99(&self) -> String {
        format_duration(self.p99)
    }

    pub(crate) fn mean(&self) -> String {
        format_duration(self.mean)
    }
}
