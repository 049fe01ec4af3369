//! `stepwasm bench parked N`: what an execution costs while it waits.
//!
//! N executions are started through the API; each enters a Wait state until a time shortly
//! after the last of them has started. The server's resident memory is read before and once all
//! are parked; then they all wake, and each must SUCCEED.

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use stepwasm_orchestrator::Client;
use stepwasm_orchestrator::store::{ExecutionFilter, ExecutionStatus, PageRequest, Store};
use stepwasm_runtime::{Runtime, RuntimeConfig};

use super::bench::StoreKind;
use super::bench_api::wait_until_finished;
use super::bench_load::{BenchServer, Load};

/// The goal from the performance issue: a server with a million parked executions stays within
/// 300 MB of resident memory.
const GOAL_RSS_FOR_A_MILLION: u64 = 300_000_000;

pub(crate) fn run(count: u64, wait: Option<Duration>, store_kind: StoreKind, as_json: bool) -> Result<ExitCode> {
    let bench = BenchServer::start(store_kind, Runtime::new(RuntimeConfig::default())?, "parked")?;
    let (address, service, store) = (bench.address, &bench.service, &bench.store);
    let definition = json!({
        "StartAt": "Received",
        "States": {
            "Received": {"Type": "Pass", "Result": "parked", "ResultPath": "$.note", "Next": "AwaitDelivery"},
            "AwaitDelivery": {"Type": "Wait", "TimestampPath": "$.wakeAt", "Next": "Delivered"},
            "Delivered": {"Type": "Pass", "End": true}
        }
    });
    let machine = Client::new(&format!("http://{address}")).call(
        "CreateStateMachine",
        &json!({"name": "parked", "definition": definition.to_string(), "roleArn": "arn:aws:iam::123456789012:role/bench"}),
    )?["stateMachineArn"]
        .as_str()
        .context("no state machine ARN")?
        .to_owned();

    // Long enough to start them all at a modest 2,000/s, unless told otherwise.
    let wait = wait.unwrap_or_else(|| Duration::from_secs(10 + count / 2_000));
    let wake_at = SystemTime::now() + wait;
    let input = json!({"order": "ord-1", "wakeAt": rfc3339(wake_at)?}).to_string();
    if !as_json {
        println!(
            "stepwasm bench parked: {count} executions waiting {:.0} s in a Wait state, {} store",
            wait.as_secs_f64(),
            store_kind.name()
        );
    }
    let before = resident_bytes()?;
    let began = Instant::now();
    let load = Load {
        addresses: vec![address],
        machine: machine.clone(),
        input,
        connections: 64,
        length: wait,
        total: Some(count),
        prefix: "parked-".into(),
        rate: None,
        admit: None,
    };
    let started = load.run()?.latencies.len() as u64;
    let start_seconds = began.elapsed().as_secs_f64();
    if started < count {
        bail!("only {started} of {count} executions started before the first woke; give a longer --wait-seconds");
    }
    // Parking follows the start by one store write.
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

    let remaining = wake_at.duration_since(SystemTime::now()).unwrap_or_default();
    std::thread::sleep(remaining);
    let woke = Instant::now();
    wait_until_finished(store.as_ref(), &machine)?;
    let wake_seconds = woke.elapsed().as_secs_f64();
    // Before counting: the count reads every execution's row.
    let after = resident_bytes()?;
    let succeeded = succeeded(store.as_ref(), &machine)?;

    if as_json {
        println!(
            "{}",
            json!({
                "bench": "parked",
                "store": store_kind.name(),
                "executions": count,
                "start_seconds": start_seconds,
                "rss_before_bytes": before,
                "rss_parked_bytes": parked,
                "rss_after_wake_bytes": after,
                "growth_bytes_per_parked_execution": per_execution.round(),
                "goal_rss_bytes_for_a_million": GOAL_RSS_FOR_A_MILLION,
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
            "  all woke and ran to the end in {wake_seconds:.1} s; RSS then {:.1} MB; {succeeded} of {count} SUCCEEDED",
            after as f64 / 1e6
        );
    }
    drop(bench);
    if succeeded as u64 != count {
        bail!("{} executions did not succeed", count - succeeded as u64);
    }
    Ok(ExitCode::SUCCESS)
}

/// How many executions of `machine` SUCCEEDED, a page at a time.
fn succeeded(store: &dyn Store, machine: &str) -> Result<usize> {
    let filter = ExecutionFilter {
        state_machine_arn: Some(machine.to_owned()),
        status: Some(ExecutionStatus::Succeeded),
        ..ExecutionFilter::default()
    };
    // The benchmark's own threads are not async; its store reads run on a runtime of their own.
    let reads = tokio::runtime::Builder::new_current_thread().build()?;
    let (mut total, mut after) = (0, None);
    loop {
        let page =
            reads.block_on(store.list_executions(&filter, &PageRequest { limit: 1000, after, reverse: false }))?;
        total += page.items.len();
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(total),
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
