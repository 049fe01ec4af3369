//! `stepwasm bench invoke`: fresh, isolated invocations of one task function, and where their
//! time goes.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use stepwasm_asl::{EventKind, ExecutionContext, ExecutionOutcome, StateMachine};
use stepwasm_orchestrator::engine::{Engine, WasmTasks};
use stepwasm_runtime::{FunctionConfig, Invocation, Runtime, RuntimeConfig};

use super::bench::{InvokeBenchArgs, Percentiles};
use crate::function_source::FunctionSource;

const FUNCTION: &str = "validate-payment";

/// The goals from the performance issue, printed beside the figures.
const GOAL_MEDIAN: Duration = Duration::from_micros(12);
const GOAL_TWO_THREADS_PER_SECOND: f64 = 150_000.0;

pub(crate) fn run(args: &InvokeBenchArgs) -> Result<ExitCode> {
    if let Some(dir) = &args.languages {
        return compare_languages(dir, args);
    }
    if args.pipeline {
        return pipeline_in_turn(args);
    }
    let runtime = Runtime::new(RuntimeConfig { perf_map: args.perf_map, ..RuntimeConfig::default() })?;
    if let (Some(function), Some(input)) = (&args.function, &args.input) {
        let source = FunctionSource::resolve(function)?;
        runtime.register(FUNCTION, &source.component()?, FunctionConfig::default())?;
        let input: Value = serde_json::from_str(input).context("--input is not valid JSON")?;
        return measure(&runtime, source.name(), &input, args, false);
    }
    for name in ["place-order", FUNCTION] {
        let sample = stepwasm_functions::find(name).with_context(|| format!("sample {name}"))?;
        // Default limits: ~1 CPU-second of fuel, a 60 s deadline, a 64 MiB memory cap.
        runtime.register(name, sample.component, FunctionConfig::default())?;
    }
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;

    // validate-payment takes the document place-order produces.
    let order: Value = serde_json::from_str(stepwasm_functions::samples::GOOD_ORDER)?;
    let request = json!({ "order": order, "receivedAt": "2026-11-24T12:00:00Z" });
    let placed = match tokio.block_on(runtime.invoke("place-order", Invocation::new(&request)))?.outcome {
        Ok(placed) => placed,
        Err(failure) => bail!("place-order failed on the sample order: {failure}"),
    };
    measure(&runtime, FUNCTION, &placed, args, true)
}

fn measure(runtime: &Runtime, name: &str, input: &Value, args: &InvokeBenchArgs, native: bool) -> Result<ExitCode> {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let input_text = serde_json::to_string(input)?;
    let invocation = || Invocation::from_json_text(input_text.clone());
    let check = tokio.block_on(runtime.invoke(FUNCTION, invocation()))?;
    if let Err(failure) = &check.outcome {
        bail!("the function failed on the benchmark input: {failure}");
    }
    if !args.json {
        println!("stepwasm bench invoke: {name}, one fresh instance per invocation");
        println!("allocator: {}", runtime.allocator());
        println!("limits: fuel 12e9 units, deadline 60 s, memory cap 64 MiB, stdout/stderr captured");
        println!("input: {} bytes; fuel per invocation: {}", input_text.len(), check.fuel_consumed);
    }

    // Warm-up: page in the code, fill the pool's warm slots.
    for _ in 0..2_000 {
        tokio.block_on(runtime.invoke(FUNCTION, invocation()))?;
    }
    let samples = args.samples as usize;
    let mut latencies = Vec::with_capacity(samples);
    let mut phases: [Vec<Duration>; 4] = std::array::from_fn(|_| Vec::with_capacity(samples));
    for _ in 0..samples {
        let invocation = invocation();
        let started = Instant::now();
        let report = tokio.block_on(runtime.invoke(FUNCTION, invocation))?;
        latencies.push(started.elapsed());
        if report.outcome.is_err() {
            bail!("an invocation failed during the benchmark");
        }
        let parts = report.phases;
        for (times, part) in phases.iter_mut().zip([parts.setup, parts.instantiate, parts.call, parts.teardown]) {
            times.push(part);
        }
    }
    let wasm = Percentiles::of(&mut latencies);
    let [setup, instantiate, call, teardown] = phases.map(|mut times| Percentiles::of(&mut times));
    let native = if native { Some(native_floor(input, samples)?) } else { None };
    let length = Duration::from_secs_f64(args.seconds);
    let one_thread = throughput(runtime, FUNCTION, &input_text, 1, length)?;
    let two_threads = throughput(runtime, FUNCTION, &input_text, 2, length)?;

    if args.json {
        let micros = |duration: Duration| duration.as_secs_f64() * 1e6;
        let figures = json!({
            "function": name,
            "input_bytes": input_text.len(),
            "fuel_per_invocation": check.fuel_consumed,
            "median_us": micros(wasm.median),
            "p99_us": micros(wasm.p99),
            "phases_median_us": {
                "setup": micros(setup.median),
                "instantiate": micros(instantiate.median),
                "call": micros(call.median),
                "teardown": micros(teardown.median),
            },
            "native_median_us": native.as_ref().map(|native| micros(native.median)),
            "invocations_per_second": {"1_thread": one_thread, "2_threads": two_threads},
            "goal_median_us": micros(GOAL_MEDIAN),
            "goal_2_threads_per_second": GOAL_TWO_THREADS_PER_SECOND,
        });
        println!("{figures}");
        return Ok(ExitCode::SUCCESS);
    }

    println!();
    println!("{:<34} {:>10} {:>10} {:>10}", "latency per invocation", "median", "p99", "mean");
    let row = |label: &str, figures: &Percentiles| {
        println!("{label:<34} {:>10} {:>10} {:>10}", figures.median(), figures.p99(), figures.mean());
    };
    row("wasm, fresh isolated instance", &wasm);
    row("  setup (store, WASI, limits)", &setup);
    row("  instantiate", &instantiate);
    row("  call (input in, work, output)", &call);
    row("  teardown (reset, free the slot)", &teardown);
    if let Some(native) = &native {
        row("native call (floor)", native);
        println!("overhead over native: {:.1}x (median)", wasm.median.as_secs_f64() / native.median.as_secs_f64());
    }
    println!("goal: median ≤ {}", super::invoke::format_duration(GOAL_MEDIAN));

    println!();
    println!("{:<34} {:>14}", "throughput", "invocations/s");
    println!("{:<34} {:>14.0}", "1 thread", one_thread);
    println!("{:<34} {:>14.0}   (goal {GOAL_TWO_THREADS_PER_SECOND:.0})", "2 threads", two_threads);
    Ok(ExitCode::SUCCESS)
}

/// The same steps of the pipeline in Rust, Python and JavaScript: fraud-check against its
/// Python port and send-email against its JavaScript port, on the document the pipeline gives
/// each.
fn compare_languages(dir: &std::path::Path, args: &InvokeBenchArgs) -> Result<ExitCode> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let mut contenders = Vec::new();
    for (step, language, port) in
        [("fraud-check", "python", "fraud-check-py"), ("send-email", "javascript", "send-email-js")]
    {
        let sample = stepwasm_functions::find(step).with_context(|| format!("sample {step}"))?;
        runtime.register(step, sample.component, FunctionConfig::default())?;
        let path = dir.join(format!("{port}.wasm"));
        let component = std::fs::read(&path).with_context(|| {
            format!("reading {} (build it with guest-sdk/build-polyglot {})", path.display(), dir.display())
        })?;
        runtime.register(port, &component, FunctionConfig::default())?;
        contenders.push((step, "rust", step));
        contenders.push((step, language, port));
    }
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let order: Value = serde_json::from_str(stepwasm_functions::samples::GOOD_ORDER)?;
    let request = json!({ "order": order, "receivedAt": "2026-11-24T12:00:00Z" });
    let place_order = stepwasm_functions::find("place-order").context("sample place-order")?;
    runtime.register("place-order", place_order.component, FunctionConfig::default())?;
    let placed = match tokio.block_on(runtime.invoke("place-order", Invocation::new(&request)))?.outcome {
        Ok(placed) => placed,
        Err(failure) => bail!("place-order failed on the sample order: {failure}"),
    };
    let input = serde_json::to_string(&placed)?;

    let samples = args.samples as usize;
    let length = Duration::from_secs_f64(args.seconds);
    let mut rows = Vec::new();
    for (step, language, function) in contenders {
        let check = tokio.block_on(runtime.invoke(function, Invocation::from_json_text(input.clone())))?;
        if let Err(failure) = &check.outcome {
            bail!("{function} failed on the benchmark input: {failure}");
        }
        for _ in 0..samples.min(200) {
            tokio.block_on(runtime.invoke(function, Invocation::from_json_text(input.clone())))?;
        }
        let mut latencies = Vec::with_capacity(samples);
        for _ in 0..samples {
            let started = Instant::now();
            tokio.block_on(runtime.invoke(function, Invocation::from_json_text(input.clone())))?;
            latencies.push(started.elapsed());
        }
        let latency = Percentiles::of(&mut latencies);
        let one = throughput(&runtime, function, &input, 1, length)?;
        let two = throughput(&runtime, function, &input, 2, length)?;
        rows.push((step, language, latency, check.fuel_consumed, one, two));
    }

    if args.json {
        let micros = |duration: Duration| duration.as_secs_f64() * 1e6;
        let figures: Vec<Value> = rows
            .iter()
            .map(|(step, language, latency, fuel, one, two)| {
                json!({
                    "step": step, "language": language, "median_us": micros(latency.median), "p99_us": micros(latency.p99),
                    "fuel_per_invocation": fuel, "invocations_per_second": {"1_thread": one, "2_threads": two},
                })
            })
            .collect();
        println!("{}", Value::Array(figures));
        return Ok(ExitCode::SUCCESS);
    }
    println!("stepwasm bench invoke --languages: one fresh instance per invocation, default limits");
    println!(
        "{:<12} {:<11} {:>10} {:>10} {:>12} {:>12} {:>12}",
        "step", "language", "median", "p99", "fuel", "1 thread/s", "2 threads/s"
    );
    for (step, language, latency, fuel, one, two) in &rows {
        println!(
            "{step:<12} {language:<11} {:>10} {:>10} {fuel:>12} {one:>12.0} {two:>12.0}",
            latency.median(),
            latency.p99()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The order pipeline's functions on the inputs a run of the large order gives them, timed alone
/// (the same function back to back, as the other modes measure) and in turn (one after another
/// in pipeline order, as an execution calls them).
fn pipeline_in_turn(args: &InvokeBenchArgs) -> Result<ExitCode> {
    let runtime = Runtime::new(RuntimeConfig { perf_map: args.perf_map, ..RuntimeConfig::default() })?;
    for sample in stepwasm_functions::ALL {
        runtime.register(sample.name, sample.component, FunctionConfig::default())?;
    }
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let calls = pipeline_calls(&runtime, &tokio)?;
    let invoke = |(function, input): &(String, String)| -> Result<Duration> {
        let started = Instant::now();
        let report = tokio.block_on(runtime.invoke(function, Invocation::from_json_text(input.clone())))?;
        if let Err(failure) = report.outcome {
            bail!("{function} failed on its pipeline input: {failure}");
        }
        Ok(started.elapsed())
    };

    let rounds = (args.samples as usize / calls.len()).max(100);
    let mut alone = Vec::with_capacity(calls.len());
    for call in &calls {
        for _ in 0..rounds.min(1_000) {
            invoke(call)?;
        }
        let mut latencies = (0..rounds).map(|_| invoke(call)).collect::<Result<Vec<_>>>()?;
        alone.push(Percentiles::of(&mut latencies));
    }
    let mut in_turn: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); calls.len()];
    for round in 0..rounds + rounds.min(1_000) / 10 {
        for (call, latencies) in calls.iter().zip(&mut in_turn) {
            let took = invoke(call)?;
            // The first rounds only warm up.
            if round >= rounds.min(1_000) / 10 {
                latencies.push(took);
            }
        }
    }
    let in_turn: Vec<Percentiles> = in_turn.iter_mut().map(|latencies| Percentiles::of(latencies)).collect();
    let mean_median = |figures: &[Percentiles]| {
        figures.iter().map(|figure| figure.median).sum::<Duration>() / u32::try_from(figures.len()).unwrap_or(1)
    };

    if args.json {
        let micros = |duration: Duration| duration.as_secs_f64() * 1e6;
        let rows: Vec<Value> = calls
            .iter()
            .zip(alone.iter().zip(&in_turn))
            .map(|((function, input), (alone, in_turn))| {
                json!({
                    "function": function, "input_bytes": input.len(),
                    "alone_median_us": micros(alone.median), "in_turn_median_us": micros(in_turn.median),
                })
            })
            .collect();
        let figures = json!({
            "functions": rows,
            "alone_mean_median_us": micros(mean_median(&alone)),
            "in_turn_mean_median_us": micros(mean_median(&in_turn)),
        });
        println!("{figures}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("stepwasm bench invoke --pipeline: the order pipeline's functions on their inputs from a run");
    println!("of the large order, one fresh instance per invocation, default limits, one thread");
    println!();
    println!("{:<26} {:>7} {:>18} {:>18}", "function", "input", "alone (median)", "in turn (median)");
    for ((function, input), (alone, in_turn)) in calls.iter().zip(alone.iter().zip(&in_turn)) {
        println!("{function:<26} {:>6}B {:>18} {:>18}", input.len(), alone.median(), in_turn.median());
    }
    println!(
        "{:<26} {:>7} {:>18} {:>18}",
        "mean",
        "",
        super::invoke::format_duration(mean_median(&alone)),
        super::invoke::format_duration(mean_median(&in_turn))
    );
    Ok(ExitCode::SUCCESS)
}

/// Each task of one in-memory run of the order pipeline on the large order: its function and the
/// input it was given, in the order they were scheduled.
fn pipeline_calls(runtime: &Runtime, tokio: &tokio::runtime::Runtime) -> Result<Vec<(String, String)>> {
    let machine = Arc::new(StateMachine::from_json(stepwasm_functions::ORDER_PIPELINE)?);
    let input: Value = serde_json::from_str(stepwasm_functions::samples::LARGE_ORDER)?;
    let engine = Engine::new(Arc::new(WasmTasks::new(runtime.clone())));
    let record = tokio.block_on(async {
        let context = ExecutionContext::new("order-pipeline", "inputs", engine.clock().now());
        let (_, signals) = tokio::sync::mpsc::unbounded_channel();
        engine.run(machine, input, context, signals, &mut |_| {}).await
    });
    if !matches!(record.outcome, ExecutionOutcome::Succeeded(_)) {
        bail!("the order pipeline did not succeed on the large order: {:?}", record.outcome);
    }
    let calls: Vec<(String, String)> = record
        .history
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::TaskScheduled { resource, parameters, .. } => {
                let function = resource.rsplit_once(":function:").map_or(resource.as_str(), |(_, name)| name);
                Some(serde_json::to_string(parameters).map(|input| (function.to_owned(), input)))
            }
            _ => None,
        })
        .collect::<Result<_, _>>()?;
    if calls.is_empty() {
        bail!("the order pipeline scheduled no task");
    }
    Ok(calls)
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
fn throughput(runtime: &Runtime, function: &str, input: &str, threads: usize, length: Duration) -> Result<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let runtime = runtime.clone();
            let (function, input) = (function.to_owned(), input.to_owned());
            let stop = Arc::clone(&stop);
            let completed = Arc::clone(&completed);
            std::thread::spawn(move || -> Result<()> {
                let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                let mut count = 0;
                while !stop.load(Ordering::Relaxed) {
                    tokio.block_on(runtime.invoke(&function, Invocation::from_json_text(input.clone())))?;
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
