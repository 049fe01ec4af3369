//! Two nodes on one PostgreSQL database: a callback, a heartbeat, a stop, an activity worker or
//! the console's view of a waiting task works on the node that does not drive the execution.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionStatus, PostgresStore, Store};
use stepwasm_orchestrator::testing::TestServer;

use crate::parking::{create, deploy_callback, eventually, history_types, scheduled_token};

/// A node on the database at `url`. Its executions are never parked, so every one stays with
/// the node that started it, as a busy execution would. GetActivityTask waits 2 s for a task.
async fn node(url: &str, name: &str) -> Result<Service> {
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(url).await?);
    let config = ServiceConfig {
        node_id: name.to_owned(),
        park_after: None,
        activity_poll: Duration::from_secs(2),
        ..ServiceConfig::default()
    };
    let service = Service::new(store, crate::support::sample_runtime()?, config);
    service.start_background_work().await?;
    Ok(service)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_and_stops_sent_to_the_other_node_reach_the_execution_promptly() -> Result<()> {
    let url = TestServer::database().await?;
    let (driver, other) = (node(&url, "node-a").await?, node(&url, "node-b").await?);
    let machine = deploy_callback(&driver, "approvals", 3_600).await?;
    let mut executions = Vec::new();
    for n in 0..4 {
        executions.push(driver.start_execution(&machine, Some(&format!("order-{n}")), None).await?.0);
    }
    let mut tokens = Vec::new();
    for arn in &executions {
        eventually(Duration::from_secs(10), "the task to hand out its token", || async {
            Ok(scheduled_token(&driver, arn).await.is_ok())
        })
        .await?;
        let token = scheduled_token(&driver, arn).await?;
        // The other node's console offers the approval of a task it does not drive.
        eventually(Duration::from_secs(10), "the token to be recorded", || async {
            let progress = other.execution_progress(arn, None).await?;
            Ok(progress["states"]["AskForApproval"]["taskToken"].as_str() == Some(token.as_str()))
        })
        .await?;
        tokens.push(token);
    }
    ensure!(driver.executions_in_progress() == executions.len(), "node-a drives every execution");
    ensure!(other.executions_in_progress() == 0, "node-b drives none");

    let sent = Instant::now();
    other.send_task_heartbeat(&tokens[0]).await?;
    other.send_task_success(&tokens[0], &json!({"approved": true}).to_string()).await?;
    other.send_task_failure(&tokens[1], Some("Rejected".into()), Some("not today".into())).await?;
    other.stop_execution(&executions[2], Some("Cancelled".into()), Some("by the customer".into())).await?;
    eventually(Duration::from_secs(5), "the three executions to end", || async {
        for arn in &executions[..3] {
            if driver.describe_execution(arn).await?.status == ExecutionStatus::Running {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .await?;
    let latency = sent.elapsed();
    println!("three signals sent to node-b ended node-a's executions within {latency:?}");
    ensure!(latency < Duration::from_secs(2), "the signals took {latency:?}: they waited for a poll, not a notice");

    let approved = driver.describe_execution(&executions[0]).await?;
    ensure!(approved.status == ExecutionStatus::Succeeded, "{approved:?}");
    let output: Value = serde_json::from_str(approved.output.as_deref().context("no output")?)?;
    ensure!(output == json!({"approved": true}), "{output}");
    let rejected = driver.describe_execution(&executions[1]).await?;
    ensure!(
        rejected.status == ExecutionStatus::Failed && rejected.error.as_deref() == Some("Rejected"),
        "{rejected:?}"
    );
    let stopped = driver.describe_execution(&executions[2]).await?;
    ensure!(stopped.status == ExecutionStatus::Aborted && stopped.error.as_deref() == Some("Cancelled"), "{stopped:?}");
    for arn in &executions[..3] {
        let types = history_types(&driver, arn).await?;
        ensure!(types.iter().filter(|t| *t == "TaskScheduled").count() == 1, "{arn}: {types:?}");
        ensure!(other.store().signals(arn).await?.is_empty(), "{arn}: an ended execution keeps no signals");
    }
    ensure!(
        driver.describe_execution(&executions[3]).await?.status == ExecutionStatus::Running,
        "the execution nobody answered still waits"
    );

    // Answers to a task that has ended are refused on either node; a token never issued is invalid.
    for service in [&driver, &other] {
        let spent = service.send_task_success(&tokens[0], "{}").await;
        ensure!(spent.as_ref().is_err_and(|e| e.to_string().contains("TaskTimedOut")), "{spent:?}");
        let unknown = service.send_task_success("no-such-token", "{}").await;
        ensure!(unknown.as_ref().is_err_and(|e| e.to_string().contains("InvalidToken")), "{unknown:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_workers_on_either_node_take_each_task_once_as_soon_as_it_is_scheduled() -> Result<()> {
    let url = TestServer::database().await?;
    let (driver, other) = (node(&url, "node-a").await?, node(&url, "node-b").await?);
    let activity = driver.create_activity("pack-order").await?.arn;
    let definition = json!({
        "StartAt": "Pack",
        "States": {"Pack": {"Type": "Task", "Resource": activity, "TimeoutSeconds": 3_600, "End": true}}
    });
    let machine = create(&driver, "packing", &definition).await?;

    // A worker already polling node-b is woken by a task that node-a schedules: without the
    // notice its poll would end empty.
    let poll = tokio::spawn({
        let (other, activity) = (other.clone(), activity.clone());
        async move { other.get_activity_task(&activity).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let scheduled = Instant::now();
    let first = driver.start_execution(&machine, Some("order-0"), Some(r#"{"order":0}"#)).await?.0;
    let task = poll.await??.context("the polling worker got no task")?;
    let latency = scheduled.elapsed();
    println!("a worker polling node-b got node-a's activity task {latency:?} after the start");
    ensure!(latency < Duration::from_secs(2), "the task took {latency:?}: it waited for a poll, not a notice");
    ensure!(serde_json::from_str::<Value>(&task.input)? == json!({"order": 0}), "{}", task.input);

    // Workers on both nodes share the queue: each task goes to exactly one of them.
    let mut executions = vec![first];
    for n in 1..6 {
        executions.push(
            driver
                .start_execution(&machine, Some(&format!("order-{n}")), Some(&format!(r#"{{"order":{n}}}"#)))
                .await?
                .0,
        );
    }
    let mut tasks = vec![task];
    while tasks.len() < executions.len() {
        let (from_a, from_b) = tokio::join!(driver.get_activity_task(&activity), other.get_activity_task(&activity));
        tasks.extend(from_a?.into_iter().chain(from_b?));
    }
    let mut orders: Vec<i64> = tasks
        .iter()
        .map(|task| serde_json::from_str::<Value>(&task.input)?["order"].as_i64().context("no order"))
        .collect::<Result<_>>()?;
    orders.sort_unstable();
    ensure!(orders == [0, 1, 2, 3, 4, 5], "each order's task handed out once: {orders:?}");

    for task in &tasks {
        let order: Value = serde_json::from_str(&task.input)?;
        other.send_task_success(&task.token, &json!({"packed": order["order"]}).to_string()).await?;
    }
    eventually(Duration::from_secs(5), "every packing to end", || async {
        for arn in &executions {
            if driver.describe_execution(arn).await?.status == ExecutionStatus::Running {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .await?;
    for (n, arn) in executions.iter().enumerate() {
        let execution = driver.describe_execution(arn).await?;
        let output: Value = serde_json::from_str(execution.output.as_deref().context("no output")?)?;
        ensure!(output == json!({"packed": n}), "{arn}: {output}");
    }
    let idle = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(driver.get_activity_task(&activity), other.get_activity_task(&activity))
    })
    .await?;
    ensure!(matches!(idle, (Ok(None), Ok(None))), "no task is handed out twice: {idle:?}");
    Ok(())
}
