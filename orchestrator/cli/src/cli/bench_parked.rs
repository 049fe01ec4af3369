//! `stepwasm bench parked N`: what an execution costs while it waits.
//!
//! N executions are started through the API. Half of them enter a Wait state until a time
//! shortly after the last of them has started; the other half hand a task token to a function
//! and wait for its callback, as an approval does. The server's resident memory is read before
//! and once all are parked. Then every callback is answered with SendTaskSuccess, the timers
//! come due, and each execution must SUCCEED.

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use stepwasm_orchestrator::Client;
use stepwasm_orchestrator::store::{ExecutionFilter, ExecutionRecord, ExecutionStatus, PageRequest, Store};
use stepwasm_runtime::{FunctionConfig, Runtime, RuntimeConfig};

use super::bench::{Percentiles, StoreKind};
use super::bench_api::wait_until_finished;
use super::bench_load::{BenchServer, Load};

/// The goal from the performance issue: a server with a million parked executions stays within
/// 300 MB of resident memory.
const GOAL_RSS_FOR_A_MILLION: u64 = 300_000_000;

/// The function the callback executions hand their token to. It returns at once; the execution
/// then waits for whoever holds the token, as it would for a person.
const NOTIFIER: &str = "notify";

/// Callbacks answered one at a time first, for the latency of a reply on an unloaded server.
const ANSWERED_ALONE: usize = 200;

/// Connections answering the callbacks at once.
const ANSWERING_CONNECTIONS: usize = 16;

pub(crate) fn run(count: u64, wait: Option<Duration>, store_kind: StoreKind, as_json: bool) -> Result<ExitCode> {
    let functions = Runtime::new(RuntimeConfig::default())?;
    let &(_, notifier) = stepwasm_functions::CONFORMANCE_HANDLERS
        .iter()
        .find(|(handler, _)| *handler == "echo_function.py")
        .context("the echo function is not built in")?;
    functions.register(NOTIFIER, notifier, FunctionConfig::default())?;
    let bench = BenchServer::start(store_kind, functions, "parked")?;
    let (address, service, store) = (bench.address, &bench.service, &bench.store);
    let client = Client::new(&format!("http://{address}"));
    let timer_machine = create_machine(
        &client,
        "parked-on-a-timer",
        &json!({
            "StartAt": "Received",
            "States": {
                "Received": {"Type": "Pass", "Result": "parked", "ResultPath": "$.note", "Next": "AwaitDelivery"},
                "AwaitDelivery": {"Type": "Wait", "TimestampPath": "$.wakeAt", "Next": "Delivered"},
                "Delivered": {"Type": "Pass", "End": true}
            }
        }),
    )?;
    let callback_machine = create_machine(
        &client,
        "parked-on-a-callback",
        &json!({
            "StartAt": "Received",
            "States": {
                "Received": {"Type": "Pass", "Result": "parked", "ResultPath": "$.note", "Next": "AwaitConfirmation"},
                "AwaitConfirmation": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {
                        "FunctionName": format!("arn:aws:lambda:us-east-1:123456789012:function:{NOTIFIER}"),
                        "Payload": {"order.$": "$.order", "token.$": "$$.Task.Token"}
                    },
                    "TimeoutSeconds": 86_400,
                    "ResultPath": "$.confirmation",
                    "Next": "Delivered"
                },
                "Delivered": {"Type": "Pass", "End": true}
            }
        }),
    )?;

    let (on_timers, on_callbacks) = (count - count / 2, count / 2);
    // Long enough to start them all at a modest 2,000/s, unless told otherwise.
    let wait = wait.unwrap_or_else(|| Duration::from_secs(10 + count / 2_000));
    let wake_at = SystemTime::now() + wait;
    if !as_json {
        println!(
            "stepwasm bench parked: {count} executions, {on_timers} waiting {:.0} s in a Wait state and {on_callbacks} for a callback, {} store",
            wait.as_secs_f64(),
            store_kind.name()
        );
    }
    let before = resident_bytes()?;
    let began = Instant::now();
    let load = |machine: &str, input: String, total: u64, prefix: &str| Load {
        addresses: vec![address],
        machine: machine.to_owned(),
        input,
        connections: 64,
        length: wait,
        total: Some(total),
        prefix: prefix.into(),
        rate: None,
        admit: None,
    };
    let timer_input = json!({"order": "ord-1", "wakeAt": rfc3339(wake_at)?}).to_string();
    let mut started = load(&timer_machine, timer_input, on_timers, "timer-").run()?.latencies.len() as u64;
    if on_callbacks > 0 {
        let callback_input = json!({"order": "ord-1"}).to_string();
        started += load(&callback_machine, callback_input, on_callbacks, "callback-").run()?.latencies.len() as u64;
    }
    let start_seconds = began.elapsed().as_secs_f64();
    if started < count {
        bail!("only {started} of {count} executions started before the first woke; give a longer --wait-seconds");
    }
    // Parking follows the start by one store write, or for a callback, by the function's call.
    let deadline = Instant::now() + Duration::from_secs(30);
    while service.executions_in_progress() > 0 {
        if Instant::now() > deadline || SystemTime::now() >= wake_at {
            bail!("{} executions were still in memory", service.executions_in_progress());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let parked = resident_bytes()?;
    // Growth over the idle server: the load generator's own records and the caches that fill
    // once are in it, so it overstates what one parked execution holds.
    let per_execution = parked.saturating_sub(before) as f64 / count as f64;

    let answering = Instant::now();
    let tokens = awaited_tokens(store.as_ref(), &callback_machine)?;
    if tokens.len() as u64 != on_callbacks {
        bail!("{} of {on_callbacks} executions wait for a callback", tokens.len());
    }
    let reply = answer(&client, &tokens)?;
    let answer_seconds = answering.elapsed().as_secs_f64();
    // SendTaskSuccess answers once the callback is durable; the executions resume after it.
    wait_until_finished(store.as_ref(), &callback_machine)?;
    let answered_done_seconds = answering.elapsed().as_secs_f64();

    let remaining = wake_at.duration_since(SystemTime::now()).unwrap_or_default();
    std::thread::sleep(remaining);
    let woke = Instant::now();
    wait_until_finished(store.as_ref(), &timer_machine)?;
    wait_until_finished(store.as_ref(), &callback_machine)?;
    let wake_seconds = woke.elapsed().as_secs_f64();
    // Before counting: the count reads every execution's row.
    let after = resident_bytes()?;
    let succeeded = succeeded(store.as_ref(), &timer_machine)? + succeeded(store.as_ref(), &callback_machine)?;

    if as_json {
        println!(
            "{}",
            json!({
                "bench": "parked",
                "store": store_kind.name(),
                "executions": count,
                "parked_on_timers": on_timers,
                "parked_on_callbacks": on_callbacks,
                "start_seconds": start_seconds,
                "rss_before_bytes": before,
                "rss_parked_bytes": parked,
                "rss_after_wake_bytes": after,
                "growth_bytes_per_parked_execution": per_execution.round(),
                "goal_rss_bytes_for_a_million": GOAL_RSS_FOR_A_MILLION,
                "answer_seconds": answer_seconds,
                "answered_done_seconds": answered_done_seconds,
                "answer_alone_p50_us": reply.median.as_secs_f64() * 1e6,
                "answer_alone_p99_us": reply.p99.as_secs_f64() * 1e6,
                "wake_seconds": wake_seconds,
                "succeeded": succeeded,
            })
        );
    } else {
        println!("  started {count} in {start_seconds:.1} s ({:.0}/s), every one parked", count as f64 / start_seconds);
        println!(
            "  process RSS: {:.1} MB idle, {:.1} MB with all {count} parked ({per_execution:.0} bytes more per execution); goal with 1,000,000 parked: ≤ {:.0} MB",
            before as f64 / 1e6,
            parked as f64 / 1e6,
            GOAL_RSS_FOR_A_MILLION as f64 / 1e6
        );
        println!(
            "  answered {on_callbacks} callbacks with SendTaskSuccess in {answer_seconds:.1} s; their executions had all ended {answered_done_seconds:.1} s after the first answer"
        );
        println!(
            "  a reply to SendTaskSuccess, one at a time ({} of them): p50 {}   p99 {}",
            on_callbacks.min(ANSWERED_ALONE as u64),
            reply.median(),
            reply.p99()
        );
        println!(
            "  the timers came due; everything ran to the end {wake_seconds:.1} s later; RSS then {:.1} MB; {succeeded} of {count} SUCCEEDED",
            after as f64 / 1e6
        );
    }
    drop(bench);
    if succeeded as u64 != count {
        bail!("{} executions did not succeed", count - succeeded as u64);
    }
    Ok(ExitCode::SUCCESS)
}

fn create_machine(client: &Client, name: &str, definition: &Value) -> Result<String> {
    let created = client.call(
        "CreateStateMachine",
        &json!({"name": name, "definition": definition.to_string(), "roleArn": "arn:aws:iam::123456789012:role/bench"}),
    )?;
    Ok(created["stateMachineArn"].as_str().context("no state machine ARN")?.to_owned())
}

/// The task token each running execution of `machine` waits on, from its parking record: what
/// a person would find in the request the function sent them.
fn awaited_tokens(store: &dyn Store, machine: &str) -> Result<Vec<String>> {
    let mut tokens = Vec::new();
    each_execution(store, machine, ExecutionStatus::Running, |reads, execution| {
        let parking = reads.block_on(store.parking(&execution.arn))?;
        let callback = parking.and_then(|parking| parking.callbacks.into_iter().next());
        tokens.push(callback.with_context(|| format!("{} is not parked on a callback", execution.arn))?.token);
        Ok(())
    })?;
    Ok(tokens)
}

/// Sends SendTaskSuccess for every token: the first few one at a time, timing each reply, then
/// the rest from several connections at once.
fn answer(client: &Client, tokens: &[String]) -> Result<Percentiles> {
    let output = json!({"confirmed": true}).to_string();
    let (alone, tokens) = tokens.split_at(tokens.len().min(ANSWERED_ALONE));
    let mut latencies = Vec::with_capacity(alone.len());
    for token in alone {
        let sent = Instant::now();
        client.call("SendTaskSuccess", &json!({"taskToken": token, "output": output}))?;
        latencies.push(sent.elapsed());
    }
    let share = tokens.len().div_ceil(ANSWERING_CONNECTIONS).max(1);
    std::thread::scope(|scope| {
        let answerers: Vec<_> = tokens
            .chunks(share)
            .map(|tokens| {
                let (client, output) = (client.clone(), &output);
                scope.spawn(move || {
                    for token in tokens {
                        client.call("SendTaskSuccess", &json!({"taskToken": token, "output": output}))?;
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for answerer in answerers {
            answerer.join().map_err(|_| anyhow::anyhow!("an answering thread panicked"))??;
        }
        anyhow::Ok(())
    })?;
    Ok(Percentiles::of(&mut latencies))
}

/// How many executions of `machine` SUCCEEDED.
fn succeeded(store: &dyn Store, machine: &str) -> Result<usize> {
    let mut total = 0;
    each_execution(store, machine, ExecutionStatus::Succeeded, |_, _| {
        total += 1;
        Ok(())
    })?;
    Ok(total)
}

/// Calls `visit` for every execution of `machine` with `status`, reading a page at a time.
fn each_execution(
    store: &dyn Store,
    machine: &str,
    status: ExecutionStatus,
    mut visit: impl FnMut(&tokio::runtime::Runtime, &ExecutionRecord) -> Result<()>,
) -> Result<()> {
    let filter = ExecutionFilter {
        state_machine_arn: Some(machine.to_owned()),
        status: Some(status),
        ..ExecutionFilter::default()
    };
    // The benchmark's own threads are not async; its store reads run on a runtime of their own.
    let reads = tokio::runtime::Builder::new_current_thread().build()?;
    let mut after = None;
    loop {
        let page =
            reads.block_on(store.list_executions(&filter, &PageRequest { limit: 1000, after, reverse: false }))?;
        for execution in &page.items {
            visit(&reads, execution)?;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

/// This process's resident set size, from `/proc/self/status`.
fn resident_bytes() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).context("no VmRSS in /proc/self/status")?;
    let kib: u64 = line.split_whitespace().nth(1).context("a malformed VmRSS line")?.parse()?;
    Ok(kib * 1024)
}

/// `time` as an RFC 3339 timestamp in UTC, with milliseconds, as ASL's TimestampPath takes it.
fn rfc3339(time: SystemTime) -> Result<String> {
    let millis = time.duration_since(SystemTime::UNIX_EPOCH)?.as_millis();
    Ok(stepwasm_asl::Timestamp(i64::try_from(millis)?).to_rfc3339())
}
