//! Executions that wait on a timer are parked: out of memory, woken from the store when due,
//! across a restart too, and by StopExecution.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use stepwasm_orchestrator::engine::{Clock, Signal};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{CallbackStore as _, ExecutionStatus, MachineType, SqliteStore, Store};
use stepwasm_runtime::{Runtime, RuntimeConfig};

/// A runtime for one run of a node on 2 workers: dropping it ends the service and closes its
/// store, as a restart would.
fn node_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

fn service(path: &Path) -> Result<Service> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path)?);
    Ok(Service::new(store, Runtime::new(RuntimeConfig::default())?, ServiceConfig::default()))
}

/// A service whose Task states can run the sample functions and the misbehaving fixture.
fn service_with_functions(path: &Path) -> Result<Service> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path)?);
    Ok(Service::new(store, crate::support::sample_runtime()?, ServiceConfig::default()))
}

/// A machine whose one Task hands its token to a function, then waits for the callback.
pub(crate) async fn deploy_callback(service: &Service, name: &str, timeout_seconds: u64) -> Result<String> {
    let mut ask = callback_task();
    ask["TimeoutSeconds"] = json!(timeout_seconds);
    create(service, name, &json!({"StartAt": "AskForApproval", "States": {"AskForApproval": ask}})).await
}

/// A Task state that hands its token to a function, which echoes it, then waits for the
/// callback; it ends the execution.
pub(crate) fn callback_task() -> Value {
    json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:misbehave",
            "Payload": {"mode": "echo", "value": {"token.$": "$$.Task.Token"}}
        },
        "End": true
    })
}

/// The token the execution's callback task was scheduled with, from its history.
pub(crate) async fn scheduled_token(service: &Service, arn: &str) -> Result<String> {
    let page = service.history(arn, Some(1000), false, None, true).await?;
    let scheduled =
        page.events.iter().find(|event| event["type"] == "TaskScheduled").context("no TaskScheduled event")?;
    let parameters: Value =
        serde_json::from_str(scheduled["taskScheduledEventDetails"]["parameters"].as_str().context("no parameters")?)?;
    Ok(parameters["Payload"]["value"]["token"].as_str().context("no token in the parameters")?.to_owned())
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
    create(service, &format!("pause-{seconds}"), &definition).await
}

pub(crate) async fn create(service: &Service, name: &str, definition: &Value) -> Result<String> {
    let machine = service
        .create_state_machine(
            name,
            &definition.to_string(),
            "arn:aws:iam::123456789012:role/test",
            MachineType::Standard,
            &BTreeMap::new(),
            Value::Null,
            Value::Null,
        )
        .await?;
    Ok(machine.arn)
}

/// Polls until `done` holds, for at most `limit`.
pub(crate) async fn eventually<F: Future<Output = Result<bool>>>(
    limit: Duration,
    what: &str,
    mut done: impl FnMut() -> F,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !done().await? {
        ensure!(Instant::now() < deadline, "{what} did not happen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

pub(crate) async fn history_types(service: &Service, arn: &str) -> Result<Vec<String>> {
    let page = service.history(arn, Some(1000), false, None, true).await?;
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
    eventually(Duration::from_secs(1), "parking every execution", || async {
        Ok(service.executions_in_progress() == 0)
    })
    .await?;
    ensure!(started.elapsed() < Duration::from_secs(2), "the executions finished before they were seen parked");
    for arn in &arns {
        ensure!(service.describe_execution(arn).await?.status == ExecutionStatus::Running, "{arn} is still running");
    }
    ensure!(service.store().running_executions().await?.is_empty(), "parked executions need no driver");

    eventually(Duration::from_secs(10), "waking every execution", || async {
        for arn in &arns {
            if !service.describe_execution(arn).await.is_ok_and(|e| e.status == ExecutionStatus::Succeeded) {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .await?;
    for arn in &arns {
        let execution = service.describe_execution(arn).await?;
        let waited = execution.stop_date.context("no stop date")? - execution.start_date;
        ensure!(waited >= 2_000, "{arn} woke after {waited} ms, before its 2 s wait was over");
        let output: Value = serde_json::from_str(execution.output.as_deref().context("no output")?)?;
        ensure!(output == json!({"n": 1, "note": "waited"}), "{arn}: {output}");
        let types = history_types(&service, arn).await?;
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
        let before = node_runtime()?;
        before.block_on(async {
            let service = service(&path)?;
            service.start_background_work().await?;
            let machine = deploy(&service, 3).await?;
            let waiting = service.start_execution(&machine, Some("waiting"), None).await?.0;
            let stopped = service.start_execution(&machine, Some("stopped"), None).await?.0;
            eventually(Duration::from_secs(1), "parking", || async { Ok(service.executions_in_progress() == 0) })
                .await?;
            // StopExecution wakes a parked execution to stop it.
            service.stop_execution(&stopped, Some("Enough".into()), None).await?;
            let status = service.describe_execution(&stopped).await?.status;
            ensure!(status == ExecutionStatus::Aborted, "a stopped parked execution is {status:?}");
            Ok::<_, anyhow::Error>((waiting, stopped))
        })?
    };

    let after = node_runtime()?;
    after.block_on(async {
        let service = service(&path)?;
        service.start_background_work().await?;
        ensure!(service.describe_execution(&waiting).await?.status == ExecutionStatus::Running);
        eventually(Duration::from_secs(10), "waking after the restart", || async {
            Ok(service.describe_execution(&waiting).await?.status == ExecutionStatus::Succeeded)
        })
        .await?;
        let types = history_types(&service, &waiting).await?;
        ensure!(types.iter().filter(|t| *t == "WaitStateExited").count() == 1, "{types:?}");
        ensure!(types.last().map(String::as_str) == Some("ExecutionSucceeded"), "{types:?}");
        let stopped_types = history_types(&service, &stopped).await?;
        ensure!(stopped_types.last().map(String::as_str) == Some("ExecutionAborted"), "{stopped_types:?}");
        Ok(())
    })
}

#[test]
fn an_execution_waiting_for_a_callback_is_parked_and_woken_by_it_after_a_restart() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let executions = {
        let before = node_runtime()?;
        before.block_on(async {
            let service = service_with_functions(&path)?;
            service.start_background_work().await?;
            let machine = deploy_callback(&service, "approvals", 3_600).await?;
            let mut executions = Vec::new();
            for n in 0..20 {
                executions.push(service.start_execution(&machine, Some(&format!("order-{n}")), None).await?.0);
            }
            eventually(Duration::from_secs(10), "parking every execution", || async {
                Ok(service.executions_in_progress() == 0)
            })
            .await?;
            for arn in &executions {
                ensure!(service.describe_execution(arn).await?.status == ExecutionStatus::Running, "{arn} is waiting");
                // The console still hands out the token of a parked execution.
                let progress = service.execution_progress(arn, None).await?;
                let token = progress["states"]["AskForApproval"]["taskToken"].as_str();
                ensure!(token == Some(scheduled_token(&service, arn).await?.as_str()), "{arn}: {progress}");
            }
            Ok::<_, anyhow::Error>(executions)
        })?
    };

    let after = node_runtime()?;
    after.block_on(async {
        let service = service_with_functions(&path)?;
        service.start_background_work().await?;
        for (n, arn) in executions.iter().enumerate() {
            let token = scheduled_token(&service, arn).await?;
            if n == 0 {
                service.send_task_failure(&token, Some("Rejected".into()), Some("not today".into())).await?;
            } else {
                service.send_task_heartbeat(&token).await?;
                service.send_task_success(&token, &json!({"approved": n}).to_string()).await?;
            }
        }
        eventually(Duration::from_secs(10), "every callback to arrive", || async {
            for arn in &executions {
                if !service.describe_execution(arn).await.is_ok_and(|e| e.status != ExecutionStatus::Running) {
                    return Ok(false);
                }
            }
            Ok(true)
        })
        .await?;
        for (n, arn) in executions.iter().enumerate() {
            let execution = service.describe_execution(arn).await?;
            let types = history_types(&service, arn).await?;
            // The function that handed out the token ran once, before the parking, never again.
            ensure!(types.iter().filter(|t| *t == "TaskScheduled").count() == 1, "{arn}: {types:?}");
            ensure!(types.iter().filter(|t| *t == "TaskStarted").count() == 1, "{arn}: {types:?}");
            if n == 0 {
                ensure!(execution.status == ExecutionStatus::Failed, "{arn}: {execution:?}");
                ensure!(execution.error.as_deref() == Some("Rejected"), "{arn}: {execution:?}");
            } else {
                ensure!(execution.status == ExecutionStatus::Succeeded, "{arn}: {execution:?}");
                let output: Value = serde_json::from_str(execution.output.as_deref().context("no output")?)?;
                ensure!(output == json!({"approved": n}), "{arn}: {output}");
            }
        }
        // A token whose task has ended is no longer awaited.
        let spent = scheduled_token(&service, &executions[1]).await?;
        ensure!(service.send_task_success(&spent, "{}").await.is_err(), "a spent token is refused");
        Ok(())
    })
}

/// SendTaskSuccess answers once the answer is durable, and the execution resumes after. A node
/// that stops in between must not lose the answer: the next node to start takes it.
#[test]
fn an_answer_accepted_just_before_its_node_stopped_is_taken_after_the_restart() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let (arn, token) = {
        let before = node_runtime()?;
        before.block_on(async {
            let service = service_with_functions(&path)?;
            service.start_background_work().await?;
            let machine = deploy_callback(&service, "approvals", 3_600).await?;
            let arn = service.start_execution(&machine, Some("order-1"), None).await?.0;
            eventually(Duration::from_secs(10), "parking", || async { Ok(service.executions_in_progress() == 0) })
                .await?;
            let token = scheduled_token(&service, &arn).await?;
            Ok::<_, anyhow::Error>((arn, token))
        })?
    };

    let after = node_runtime()?;
    after.block_on(async {
        // What SendTaskSuccess had written when its node stopped, before the execution resumed.
        let answer = Signal::TaskSuccess { token, output: json!({"approved": true}) };
        SqliteStore::open(&path)?.post_signal(&arn, &serde_json::to_string(&answer)?).await?;

        let service = service_with_functions(&path)?;
        service.start_background_work().await?;
        eventually(Duration::from_secs(10), "the answer to be taken after the restart", || async {
            Ok(service.describe_execution(&arn).await?.status != ExecutionStatus::Running)
        })
        .await?;
        let execution = service.describe_execution(&arn).await?;
        ensure!(execution.status == ExecutionStatus::Succeeded, "{execution:?}");
        let output: Value = serde_json::from_str(execution.output.as_deref().context("no output")?)?;
        ensure!(output == json!({"approved": true}), "{output}");
        let types = history_types(&service, &arn).await?;
        ensure!(types.iter().filter(|t| *t == "TaskSucceeded").count() == 1, "{types:?}");
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_callback_times_out_at_its_original_deadline() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let service = service_with_functions(&dir.path().join("store.db"))?;
    service.start_background_work().await?;
    let machine = deploy_callback(&service, "short", 2).await?;
    let arn = service.start_execution(&machine, None, None).await?.0;
    eventually(Duration::from_secs(5), "parking", || async { Ok(service.executions_in_progress() == 0) }).await?;
    eventually(Duration::from_secs(10), "the deadline", || async {
        Ok(service.describe_execution(&arn).await?.status != ExecutionStatus::Running)
    })
    .await?;
    let execution = service.describe_execution(&arn).await?;
    ensure!(execution.status == ExecutionStatus::Failed, "{execution:?}");
    ensure!(execution.error.as_deref() == Some("States.Timeout"), "{execution:?}");
    let waited = execution.stop_date.context("no stop date")? - execution.start_date;
    ensure!((2_000..4_000).contains(&waited), "timed out after {waited} ms, not at its 2 s deadline");
    Ok(())
}

/// A hundred thousand executions parked at once on an hour-long timer: none is held in memory
/// while it waits, none wakes early, and all wake and finish once the hour has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_parked_executions_all_wake_and_finish() -> Result<()> {
    const EXECUTIONS: usize = 100_000;
    const WAIT: Duration = Duration::from_secs(3600);
    let dir = tempfile::tempdir()?;
    let clock = Clock::new();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("store.db"))?);
    let config = ServiceConfig { clock: clock.clone(), ..ServiceConfig::default() };
    let service = Service::new(store, Runtime::new(RuntimeConfig::default())?, config);
    service.start_background_work().await?;
    let definition = json!({
        "StartAt": "AwaitDelivery",
        "States": {"AwaitDelivery": {"Type": "Wait", "TimestampPath": "$.wakeAt", "End": true}}
    });
    let machine = create(&service, "deliveries", &definition).await?;
    let wake_at = clock.after(WAIT);
    let input = json!({"wakeAt": wake_at.to_rfc3339()}).to_string();
    let mut starts = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let (service, machine, input) = (service.clone(), machine.clone(), input.clone());
        starts.spawn(async move {
            for n in (worker..EXECUTIONS).step_by(16) {
                service.start_execution(&machine, Some(&format!("delivery-{n}")), Some(&input)).await?;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(started) = starts.join_next().await {
        started??;
    }
    eventually(Duration::from_secs(10), "parking every execution", || async {
        Ok(service.executions_in_progress() == 0)
    })
    .await?;
    ensure!(service.store().running_executions().await?.is_empty(), "parked executions need no driver");

    let filter = |status| stepwasm_orchestrator::store::ExecutionFilter {
        state_machine_arn: Some(machine.clone()),
        status: Some(status),
        ..Default::default()
    };
    let first = stepwasm_orchestrator::store::PageRequest { limit: 1, after: None, reverse: false };
    let finished_early = service.store().list_executions(&filter(ExecutionStatus::Succeeded), &first).await?;
    ensure!(finished_early.items.is_empty(), "an execution finished before its hour had passed");

    clock.advance(WAIT);
    eventually(Duration::from_secs(180), "every execution to wake and finish", || async {
        Ok(service.store().list_executions(&filter(ExecutionStatus::Running), &first).await?.items.is_empty())
    })
    .await?;
    let mut succeeded = 0;
    let mut after = None;
    loop {
        let page = stepwasm_orchestrator::store::PageRequest { limit: 1000, after, reverse: false };
        let page = service.store().list_executions(&filter(ExecutionStatus::Succeeded), &page).await?;
        for execution in &page.items {
            ensure!(execution.stop_date.is_some_and(|stop| stop >= wake_at.0), "{} woke early", execution.arn);
        }
        succeeded += page.items.len();
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    ensure!(succeeded == EXECUTIONS, "{succeeded} of {EXECUTIONS} executions succeeded");
    Ok(())
}

/// Two Map iterations wait for callbacks. The first answer wakes the execution, which parks
/// again with the one callback left, and the second answer must find it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_callback_of_a_parked_map_reaches_it() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let service = service_with_functions(&dir.path().join("store.db"))?;
    service.start_background_work().await?;
    let definition = json!({
        "StartAt": "AskEach",
        "States": {"AskEach": {
            "Type": "Map",
            "ItemsPath": "$.reviewers",
            "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": callback_task()}},
            "End": true
        }}
    });
    let machine = create(&service, "reviews", &definition).await?;
    for round in 0..5 {
        let arn = service
            .start_execution(&machine, Some(&format!("round-{round}")), Some(r#"{"reviewers": ["ana", "ben"]}"#))
            .await?
            .0;
        eventually(Duration::from_secs(10), "parking", || async { Ok(service.executions_in_progress() == 0) }).await?;
        let page = service.history(&arn, Some(1000), false, None, true).await?;
        let tokens: Vec<String> = page
            .events
            .iter()
            .filter(|event| event["type"] == "TaskScheduled")
            .filter_map(|event| {
                let parameters: Value =
                    serde_json::from_str(event["taskScheduledEventDetails"]["parameters"].as_str()?).ok()?;
                parameters["Payload"]["value"]["token"].as_str().map(str::to_owned)
            })
            .collect();
        ensure!(tokens.len() == 2, "{tokens:?}");
        service.send_task_success(&tokens[0], &json!({"review": 0}).to_string()).await?;
        eventually(Duration::from_secs(10), "the first answer, and parking again", || async {
            Ok(service.executions_in_progress() == 0
                && history_types(&service, &arn).await?.contains(&"TaskSucceeded".into()))
        })
        .await?;
        service.send_task_success(&tokens[1], &json!({"review": 1}).to_string()).await?;
        eventually(Duration::from_secs(10), "both answers", || async {
            Ok(service.describe_execution(&arn).await?.status == ExecutionStatus::Succeeded)
        })
        .await?;
        let output: Value =
            serde_json::from_str(service.describe_execution(&arn).await?.output.as_deref().context("output")?)?;
        ensure!(output == json!([{"review": 0}, {"review": 1}]), "{output}");
    }
    Ok(())
}

/// A client may answer a task the moment its token shows in the history, whether the task is
/// the execution's first state or comes later: the token is routable before it is visible.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_answerable_as_soon_as_the_history_shows_it() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let service = service_with_functions(&dir.path().join("store.db"))?;
    service.start_background_work().await?;
    let first = deploy_callback(&service, "asks-first", 60).await?;
    let later = create(
        &service,
        "asks-later",
        &json!({
            "StartAt": "Price",
            "States": {
                "Price": {"Type": "Pass", "Result": {"total": 250}, "Next": "AskForApproval"},
                "AskForApproval": callback_task()
            }
        }),
    )
    .await?;
    for (n, machine) in [&first, &later].into_iter().cycle().take(100).enumerate() {
        let arn = service.start_execution(machine, Some(&format!("run-{n}")), None).await?.0;
        let token = loop {
            match scheduled_token(&service, &arn).await {
                Ok(token) => break token,
                Err(_) => tokio::task::yield_now().await,
            }
        };
        service.send_task_success(&token, r#"{"approved":true}"#).await.with_context(|| arn.clone())?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_timer_fires_at_once_in_memory_or_parked() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let service = service(&dir.path().join("store.db"))?;
    service.start_background_work().await?;
    // Two hour-long Waits one after the other: each nudge skips one.
    let definition = json!({
        "StartAt": "First",
        "States": {
            "First": {"Type": "Wait", "Seconds": 3600, "Next": "Second"},
            "Second": {"Type": "Wait", "Seconds": 3600, "End": true}
        }
    });
    let machine = create(&service, "two-hours", &definition).await?;
    let (arn, _) = service.start_execution(&machine, None, Some("{}")).await?;
    eventually(Duration::from_secs(5), "parking the execution", || async { Ok(service.executions_in_progress() == 0) })
        .await?;
    service.next_timer(&arn).await?;
    eventually(Duration::from_secs(5), "the first Wait ending", || async {
        Ok(history_types(&service, &arn).await?.iter().filter(|t| *t == "WaitStateEntered").count() == 2)
    })
    .await?;
    ensure!(service.describe_execution(&arn).await?.status == ExecutionStatus::Running, "one nudge fires one timer");
    service.next_timer(&arn).await?;
    eventually(Duration::from_secs(5), "the second Wait ending", || async {
        Ok(service.describe_execution(&arn).await?.status == ExecutionStatus::Succeeded)
    })
    .await?;
    let error = service.next_timer(&arn).await.expect_err("an ended execution has no timers");
    ensure!(error.kind.name() == "ValidationException", "{error}");
    Ok(())
}
