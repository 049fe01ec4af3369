//! Executions that wait on a timer are parked: out of memory, woken from the store when due,
//! across a restart too, and by StopExecution.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionStatus, MachineType, SqliteStore, Store};
use stepwasm_runtime::{Runtime, RuntimeConfig};

fn service(path: &Path) -> Result<Service> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path)?);
    Ok(Service::new(store, Runtime::new(RuntimeConfig::default())?, ServiceConfig::default()))
}

async fn deploy(service: &Service, seconds: u64) -> Result<String> {
    let definition = json!({
        "StartAt": "Before",
        "States": {
            "Before": {"Type": "Pass", "Result": "waited", "ResultPath": "$.note", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": seconds, "Next": "After"},
            "After": {"Type": "Pass", "End": true}
        }
    });
    let machine = service.create_state_machine(
        &format!("pause-{seconds}"),
        &definition.to_string(),
        "arn:aws:iam::123456789012:role/test",
        MachineType::Standard,
        &BTreeMap::new(),
        Value::Null,
        Value::Null,
    )?;
    Ok(machine.arn)
}

/// Polls until `done` holds, for at most `limit`.
async fn eventually(limit: Duration, what: &str, mut done: impl FnMut() -> Result<bool>) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !done()? {
        ensure!(Instant::now() < deadline, "{what} did not happen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn history_types(service: &Service, arn: &str) -> Result<Vec<String>> {
    let page = service.history(arn, Some(1000), false, None, true)?;
    Ok(page.events.iter().filter_map(|event| event["type"].as_str().map(str::to_owned)).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_waiting_on_a_timer_leave_memory_and_wake_on_time() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let service = service(&dir.path().join("store.db"))?;
    service.start_background_work().await?;
    let machine = deploy(&service, 2).await?;
    let started = Instant::now();
    let mut arns = Vec::new();
    for _ in 0..200 {
        arns.push(service.start_execution(&machine, None, Some(r#"{"n": 1}"#)).await?.0);
    }
    eventually(Duration::from_secs(1), "parking every execution", || Ok(service.executions_in_progress() == 0)).await?;
    ensure!(started.elapsed() < Duration::from_secs(2), "the executions finished before they were seen parked");
    for arn in &arns {
        ensure!(service.describe_execution(arn)?.status == ExecutionStatus::Running, "{arn} is still running");
    }
    ensure!(service.store().running_executions()?.is_empty(), "parked executions need no driver");

    eventually(Duration::from_secs(10), "waking every execution", || {
        Ok(arns.iter().all(|arn| service.describe_execution(arn).is_ok_and(|e| e.status == ExecutionStatus::Succeeded)))
    })
    .await?;
    for arn in &arns {
        let execution = service.describe_execution(arn)?;
        let waited = execution.stop_date.context("no stop date")? - execution.start_date;
        ensure!(waited >= 2_000, "{arn} woke after {waited} ms, before its 2 s wait was over");
        let output: Value = serde_json::from_str(execution.output.as_deref().context("no output")?)?;
        ensure!(output == json!({"n": 1, "note": "waited"}), "{arn}: {output}");
        let types = history_types(&service, arn)?;
        let expected = [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ];
        ensure!(types == expected, "{arn}: {types:?}");
    }
    Ok(())
}

#[test]
fn a_parked_execution_survives_a_restart_and_stops_when_asked() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let (waiting, stopped) = {
        let before = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        before.block_on(async {
            let service = service(&path)?;
            service.start_background_work().await?;
            let machine = deploy(&service, 3).await?;
            let waiting = service.start_execution(&machine, Some("waiting"), None).await?.0;
            let stopped = service.start_execution(&machine, Some("stopped"), None).await?.0;
            eventually(Duration::from_secs(1), "parking", || Ok(service.executions_in_progress() == 0)).await?;
            // StopExecution wakes a parked execution to stop it.
            service.stop_execution(&stopped, Some("Enough".into()), None).await?;
            let status = service.describe_execution(&stopped)?.status;
            ensure!(status == ExecutionStatus::Aborted, "a stopped parked execution is {status:?}");
            Ok::<_, anyhow::Error>((waiting, stopped))
        })?
        // Dropping the runtime ends the service and closes the store, as a restart would.
    };

    let after = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    after.block_on(async {
        let service = service(&path)?;
        service.start_background_work().await?;
        ensure!(service.describe_execution(&waiting)?.status == ExecutionStatus::Running);
        eventually(Duration::from_secs(10), "waking after the restart", || {
            Ok(service.describe_execution(&waiting)?.status == ExecutionStatus::Succeeded)
        })
        .await?;
        let types = history_types(&service, &waiting)?;
        ensure!(types.iter().filter(|t| *t == "WaitStateExited").count() == 1, "{types:?}");
        ensure!(types.last().map(String::as_str) == Some("ExecutionSucceeded"), "{types:?}");
        let stopped_types = history_types(&service, &stopped)?;
        ensure!(stopped_types.last().map(String::as_str) == Some("ExecutionAborted"), "{stopped_types:?}");
        Ok(())
    })
}
