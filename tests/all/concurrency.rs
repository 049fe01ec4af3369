//! Parallel branches and Map iterations really run at the same time, and MaxConcurrency bounds
//! them. Judged from the invocations' recorded start and end times, not from wall-clock totals.
//! And concurrent starts never get an execution driven twice.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::json;
use stepwasm_asl::ExecutionOutcome;
use stepwasm_orchestrator::engine::InvocationRecord;
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionStatus, MachineType, MemoryStore};

use crate::support::{run, sample_runtime};

/// The most invocations that were running at one instant.
fn peak_overlap(invocations: &[InvocationRecord]) -> usize {
    let mut edges: Vec<(Instant, i32)> =
        invocations.iter().flat_map(|call| [(call.started, 1), (call.finished, -1)]).collect();
    // At equal instants, count ends before starts: touching is not overlapping.
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut running, mut peak) = (0i32, 0i32);
    for (_, delta) in edges {
        running += delta;
        peak = peak.max(running);
    }
    usize::try_from(peak).unwrap_or(0)
}

fn sleeping_task(millis: u64) -> serde_json::Value {
    json!({
        "Type": "Task",
        "Resource": "wasm:misbehave",
        "Parameters": {"mode": "sleep", "millis": millis},
        "End": true
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_branches_overlap_in_time() -> Result<()> {
    let branch = |name: &str| json!({"StartAt": name, "States": {name: sleeping_task(300)}});
    let definition = json!({
        "StartAt": "Fan",
        "States": {"Fan": {"Type": "Parallel", "Branches": [branch("A"), branch("B"), branch("C")], "End": true}}
    });
    let record = run(&sample_runtime()?, &definition.to_string(), json!({})).await?;
    let ExecutionOutcome::Succeeded(output) = &record.outcome else { bail!("{:?}", record.outcome) };
    assert_eq!(output.as_array().map(Vec::len), Some(3));
    assert_eq!(record.invocations.len(), 3);
    assert_eq!(peak_overlap(&record.invocations), 3, "all three branches run at once");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_iterations_overlap_and_max_concurrency_bounds_them() -> Result<()> {
    let map = |max: u64| {
        json!({
            "StartAt": "Each",
            "States": {"Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": max,
                "ItemProcessor": {"StartAt": "Work", "States": {"Work": sleeping_task(200)}},
                "End": true
            }}
        })
        .to_string()
    };
    let input = json!({"items": [1, 2, 3, 4, 5, 6]});
    let runtime = sample_runtime()?;

    let unbounded = run(&runtime, &map(0), input.clone()).await?;
    assert!(matches!(unbounded.outcome, ExecutionOutcome::Succeeded(_)), "{:?}", unbounded.outcome);
    assert_eq!(peak_overlap(&unbounded.invocations), 6, "MaxConcurrency 0 runs every item at once");

    let bounded = run(&runtime, &map(2), input).await?;
    let ExecutionOutcome::Succeeded(output) = &bounded.outcome else { bail!("{:?}", bounded.outcome) };
    assert_eq!(output.as_array().map(Vec::len), Some(6));
    assert_eq!(bounded.invocations.len(), 6);
    assert_eq!(peak_overlap(&bounded.invocations), 2, "MaxConcurrency 2: two at a time, and really two");
    Ok(())
}

/// One node never drives an execution twice. The background resumer takes up RUNNING executions
/// that nobody on the node drives; it must not take up one that a start has created and is about
/// to drive. (A second driver runs tasks twice, and when its signal channel is replaced, aborts
/// an execution that waits for a callback.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_executions_are_never_taken_up_twice() -> Result<()> {
    // A 300 ms lease makes the resumer look for executions to take up every 100 ms.
    let config = ServiceConfig { lease_ttl_millis: 300, ..ServiceConfig::default() };
    let service = Service::new(Arc::new(MemoryStore::default()), sample_runtime()?, config);
    service.start_background_work().await?;
    let definition = json!({"StartAt": "AwaitCallback", "States": {"AwaitCallback": crate::parking::callback_task()}});
    let machine = service
        .create_state_machine(
            "callbacks",
            &definition.to_string(),
            "arn:aws:iam::123456789012:role/test",
            MachineType::Standard,
            &BTreeMap::new(),
            serde_json::Value::Null,
            serde_json::Value::Null,
        )
        .await?;
    let mut executions = Vec::new();
    for _burst in 0..6 {
        let mut starts = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let (service, machine) = (service.clone(), machine.arn.clone());
            starts.spawn(async move { service.start_execution(&machine, None, None).await });
        }
        while let Some(started) = starts.join_next().await {
            executions.push(started??.0);
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    // Long enough for several resumer rounds after the last start.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ended = Vec::new();
    for arn in &executions {
        if let Ok(record) = service.describe_execution(arn).await
            && record.status != ExecutionStatus::Running
        {
            ended.push(format!("{arn}: {:?} {:?}", record.status, record.cause));
        }
    }
    assert!(
        ended.is_empty(),
        "{} of {} executions stopped waiting:\n{}",
        ended.len(),
        executions.len(),
        ended.join("\n")
    );
    for arn in &executions {
        service.stop_execution(arn, None, None).await?;
    }
    Ok(())
}
