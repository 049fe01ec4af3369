//! `stepwasm bench engine`: the interpreter alone, and the order pipeline in memory.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};
use stepwasm_asl::{Execution, ExecutionContext, ExecutionOutcome, SeededEntropy, StateMachine, Timestamp};
use stepwasm_orchestrator::engine::{Engine, WasmTasks};
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

use super::bench::Percentiles;

/// The goal from the performance issue for the order pipeline in memory on 2 cores.
const GOAL_PIPELINE_PER_SECOND: f64 = 8_000.0;

pub(crate) fn run(seconds: f64, in_flight: usize, perf_map: bool, as_json: bool) -> Result<ExitCode> {
    let length = Duration::from_secs_f64(seconds);
    let transitions = pass_chain(length)?;
    let evaluations = jsonata_transform(length)?;
    let pipeline = pipeline(length, in_flight.max(1), perf_map)?;
    if as_json {
        let micros = |duration: Duration| duration.as_secs_f64() * 1e6;
        let figures = json!({
            "pass_chain_transitions_per_second": transitions,
            "jsonata_evaluations_per_second": evaluations,
            "pipeline": {
                "executions_per_second": pipeline.per_second,
                "in_flight": in_flight,
                "solo_p50_us": micros(pipeline.solo.median),
                "solo_p99_us": micros(pipeline.solo.p99),
                "loaded_p50_us": micros(pipeline.loaded.median),
                "loaded_p99_us": micros(pipeline.loaded.p99),
                "goal_executions_per_second": GOAL_PIPELINE_PER_SECOND,
            },
        });
        println!("{figures}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("stepwasm bench engine");
    println!();
    println!("interpreter, chain of 10 Pass states, one core:");
    println!("  {transitions:>12.0} state transitions/s");
    println!();
    println!("JSONata Pass state, Output = $map($filter(...)) over 100 items, one core:");
    println!("  {evaluations:>12.0} evaluations/s");
    println!();
    println!("order pipeline, 10 Wasm tasks per execution (samples/large-order.json), in memory:");
    println!("  one at a time:        p50 {:>10}   p99 {:>10}", pipeline.solo.median(), pipeline.solo.p99());
    println!(
        "  2 cores, {in_flight} in flight: {:>8.0} executions/s (goal {GOAL_PIPELINE_PER_SECOND:.0})   p50 {:>10}   p99 {:>10}",
        pipeline.per_second,
        pipeline.loaded.median(),
        pipeline.loaded.p99()
    );
    Ok(ExitCode::SUCCESS)
}

/// The order pipeline's figures: alone, and under load.
struct PipelineFigures {
    solo: Percentiles,
    loaded: Percentiles,
    per_second: f64,
}

/// Ten Pass states, each with a Parameters template and a ResultPath, so paths are really
/// evaluated. Shared with `bench server --workflow pass-chain`.
pub(crate) fn pass_chain_definition() -> serde_json::Value {
    let mut states = serde_json::Map::new();
    for index in 0..10 {
        let mut state = json!({
            "Type": "Pass",
            "Parameters": {"step": index, "order.$": "$.order", "seen.$": "$.seen"},
            "ResultPath": "$"
        });
        if index < 9 {
            state["Next"] = json!(format!("Step{}", index + 1));
        } else {
            state["End"] = json!(true);
        }
        states.insert(format!("Step{index}"), state);
    }
    json!({"StartAt": "Step0", "States": states})
}

/// The input the Pass chain runs on.
pub(crate) fn pass_chain_input() -> serde_json::Value {
    json!({"order": {"id": "ord-1", "items": [1, 2, 3]}, "seen": 0})
}

/// State transitions per second of the pure interpreter on one core, on the Pass chain.
fn pass_chain(length: Duration) -> Result<f64> {
    let machine = Arc::new(StateMachine::from_value(&pass_chain_definition())?);
    let input = pass_chain_input();
    let mut entropy = SeededEntropy::new(7);
    let context = ExecutionContext::new("bench", "bench", Timestamp(0));

    let started = Instant::now();
    let mut executions = 0u64;
    while started.elapsed() < length {
        let (_, step) =
            Execution::start(Arc::clone(&machine), input.clone(), context.clone(), Timestamp(0), &mut entropy);
        if !matches!(step.actions.last(), Some(stepwasm_asl::Action::Complete(ExecutionOutcome::Succeeded(_)))) {
            bail!("the Pass chain did not succeed");
        }
        executions += 1;
    }
    Ok(executions as f64 * 10.0 / started.elapsed().as_secs_f64())
}

/// A JSONata Pass state whose `Output` maps and filters a 100-element array: evaluations per
/// second of the whole state (input, expression, output), one core.
fn jsonata_transform(length: Duration) -> Result<f64> {
    let machine = Arc::new(StateMachine::from_value(&json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Transform",
        "States": {"Transform": {
            "Type": "Pass",
            "Output": "{% $map($filter($states.input.items, function($v) { $v.qty > 2 }), function($v) { {'sku': $v.sku, 'total': $v.price * $v.qty} }) %}",
            "End": true
        }}
    }))?);
    let items: Vec<Value> =
        (0..100).map(|index| json!({"sku": format!("SKU-{index}"), "qty": index % 7, "price": 100 + index})).collect();
    let input = json!({ "items": items });
    let mut entropy = SeededEntropy::new(7);
    let context = ExecutionContext::new("bench", "bench", Timestamp(0));
    let started = Instant::now();
    let mut evaluations = 0u64;
    while started.elapsed() < length {
        let (_, step) =
            Execution::start(Arc::clone(&machine), input.clone(), context.clone(), Timestamp(0), &mut entropy);
        match step.actions.last() {
            Some(stepwasm_asl::Action::Complete(ExecutionOutcome::Succeeded(Value::Array(out)))) if out.len() == 56 => {
            }
            other => bail!("the JSONata transform gave {other:?}"),
        }
        evaluations += 1;
    }
    Ok(evaluations as f64 / started.elapsed().as_secs_f64())
}

/// The order pipeline with its real Wasm tasks, in memory, on a 2-worker tokio runtime.
fn pipeline(length: Duration, in_flight: usize, perf_map: bool) -> Result<PipelineFigures> {
    let runtime = Runtime::new(RuntimeConfig { perf_map, ..RuntimeConfig::default() })?;
    for sample in stepwasm_functions::ALL {
        runtime.register(sample.name, sample.component, FunctionConfig::default())?;
    }
    let machine = Arc::new(StateMachine::from_json(stepwasm_functions::ORDER_PIPELINE)?);
    // The large order goes through all ten tasks without a retry back-off; the good order
    // waits out a real one-second IntervalSeconds, which would measure the timer, not stepwasm.
    let input: Value = serde_json::from_str(stepwasm_functions::samples::LARGE_ORDER)?;
    let engine = Engine::new(Arc::new(WasmTasks::new(runtime)));
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;

    let run_one = {
        move |name: String| {
            let engine = engine.clone();
            let machine = Arc::clone(&machine);
            let input = input.clone();
            async move {
                let context = ExecutionContext::new("order-pipeline", &name, engine.clock().now());
                let (_, signals) = tokio::sync::mpsc::unbounded_channel();
                let started = Instant::now();
                let record = engine.run(machine, input, context, signals, &mut |_| {}).await;
                (started.elapsed(), matches!(record.outcome, ExecutionOutcome::Succeeded(_)))
            }
        }
    };

    // Unloaded latency: one execution at a time.
    let mut solo = Vec::new();
    tokio.block_on(async {
        for index in 0..200 {
            let (took, ok) = run_one(format!("solo-{index}")).await;
            if ok {
                solo.push(took);
            }
        }
    });
    if solo.len() < 200 {
        bail!("pipeline executions failed during the benchmark");
    }
    let solo = Percentiles::of(&mut solo);

    // Throughput: keep `in_flight` executions running for `length`.
    let (completed, mut loaded, elapsed) = tokio.block_on(async {
        let started = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        let mut latencies = Vec::new();
        let mut next = 0usize;
        let mut completed = 0u64;
        for _ in 0..in_flight {
            set.spawn(run_one(format!("load-{next}")));
            next += 1;
        }
        while let Some(done) = set.join_next().await {
            if let Ok((took, true)) = done {
                completed += 1;
                latencies.push(took);
            }
            if started.elapsed() < length {
                set.spawn(run_one(format!("load-{next}")));
                next += 1;
            }
        }
        (completed, latencies, started.elapsed())
    });
    Ok(PipelineFigures {
        solo,
        loaded: Percentiles::of(&mut loaded),
        per_second: completed as f64 / elapsed.as_secs_f64(),
    })
}
