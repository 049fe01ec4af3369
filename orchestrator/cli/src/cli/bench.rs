//! `stepwasm bench`: performance figures, printed, never asserted.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};

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
    /// The memory an execution costs while it waits: N executions parked, half in a Wait state
    /// and half on a callback, then woken.
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

/// Where `bench server` keeps executions.
#[derive(Debug, Clone)]
pub(crate) enum ServerStore {
    /// A store of the benchmark's own.
    Local(StoreKind),
    /// A PostgreSQL database, by URL.
    Postgres(String),
}

fn server_store(text: &str) -> Result<ServerStore, String> {
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Ok(ServerStore::Postgres(text.to_owned()));
    }
    <StoreKind as clap::ValueEnum>::from_str(text, true)
        .map(ServerStore::Local)
        .map_err(|_| format!("expected sqlite, memory or a postgres:// URL, not `{text}`"))
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

    /// Where the server keeps executions: `sqlite`, `memory`, or a PostgreSQL database
    /// (`postgres://…`, as `stepwasm serve --store` takes it), measured with one node and then
    /// two nodes sharing it. Each run on a database uses a state machine of its own.
    #[arg(long, default_value = "sqlite", value_parser = server_store, value_name = "sqlite|memory|POSTGRES_URL")]
    store: ServerStore,

    /// Print one JSON object per configuration instead of a table.
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

    /// Write a perf map, so `perf report` names the guests' functions.
    #[arg(long)]
    perf_map: bool,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InvokeBenchArgs {
    /// Invocations timed one by one for the latency figures.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub(crate) samples: u32,

    /// How long each throughput run lasts, in seconds.
    #[arg(long, default_value_t = 3.0, value_parser = positive_seconds)]
    pub(crate) seconds: f64,

    /// Benchmark another function (a sample's name or a `.wasm` path) instead of validate-payment.
    /// The native floor is only measured for validate-payment.
    #[arg(long, requires = "input")]
    pub(crate) function: Option<String>,

    /// The input for `--function`, as JSON.
    #[arg(long)]
    pub(crate) input: Option<String>,

    /// Compare the pipeline's steps across languages: fraud-check in Rust and Python, send-email
    /// in Rust and JavaScript, the ports read from DIR (as `guest-sdk/build-polyglot DIR` writes
    /// them).
    #[arg(long, value_name = "DIR", conflicts_with = "function")]
    pub(crate) languages: Option<std::path::PathBuf>,

    /// Invoke the order pipeline's functions, each on the input a real run gives it: each alone,
    /// back to back, and all in turn, as an execution calls them. The gap between the two is
    /// what running nine different modules costs the processor's caches.
    #[arg(long, conflicts_with_all = ["function", "languages"])]
    pub(crate) pipeline: bool,

    /// Write a perf map, so `perf report` names the guest's functions.
    #[arg(long)]
    pub(crate) perf_map: bool,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
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
        BenchCommand::Invoke(args) => super::bench_invoke::run(args),
        BenchCommand::Engine(args) => {
            super::bench_engine::run(args.seconds, args.in_flight as usize, args.perf_map, args.json)
        }
        BenchCommand::Server(args) => super::bench_server::run(
            args.seconds,
            args.connections as usize,
            args.workflow,
            match &args.store {
                ServerStore::Local(kind) => (*kind, None),
                // A database keeps executions durably: the durable goals apply.
                ServerStore::Postgres(url) => (StoreKind::Sqlite, Some(url.as_str())),
            },
            args.json,
        ),
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
