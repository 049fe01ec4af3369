//! Two nodes on one PostgreSQL database: a callback, a heartbeat, a stop, an activity worker or
//! the console's view of a waiting task works on the node that does not drive the execution; a
//! node that loses its lease, or its database, stops driving, and the other finishes the work
//! once.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use stepwasm_orchestrator::engine::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionStatus, PostgresStore, Store};
use stepwasm_orchestrator::testing::TestServer;

use crate::parking::{create, deploy_callback, eventually, history_types, scheduled_token};

/// A node on the database at `url`. Its executions are never parked, so every one stays with
/// the node that started it, as a busy execution would. GetActivityTask waits 2 s for a task.
///
/// Its leases last 10 minutes, so it renews them, and looks for work it missed, only every
/// 200 s: whatever reaches an execution within a test's patience came by a notice.
async fn node(url: &str, name: &str) -> Result<Service> {
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(url).await?);
    let config = ServiceConfig {
        node_id: name.to_owned(),
        park_after: None,
        activity_poll: Duration::from_secs(2),
        lease_ttl_millis: 600_000,
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
    // The only other way for the signals to arrive is the lease renewal's sweep, 200 s away, so
    // ending within this wait shows they were noticed. How soon is printed, not asserted: it
    // depends on the machine's load.
    eventually(Duration::from_secs(30), "the three executions to end", || async {
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

/// Answers every task with its input, and remembers which node ran it for which execution.
#[derive(Default)]
struct CountedTasks {
    calls: Mutex<Vec<(String, String)>>,
}

/// One node's door to [`CountedTasks`].
struct NodeTasks {
    node: String,
    counted: Arc<CountedTasks>,
}

impl TaskInvoker for NodeTasks {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        let mut calls = self.counted.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.push((self.node.clone(), call.context.execution_arn.clone()));
        let output = Value::clone(&call.payload);
        Box::pin(async move { (TaskOutcome::Succeeded(output), None) })
    }
}

impl CountedTasks {
    /// The nodes that ran a task for `execution_arn`, in order.
    fn runs_of(&self, execution_arn: &str) -> Vec<String> {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.iter().filter(|(_, arn)| arn == execution_arn).map(|(node, _)| node.clone()).collect()
    }
}

/// A node with 1.5 s leases whose tasks are counted in `counted`.
async fn counted_node(url: &str, name: &str, counted: &Arc<CountedTasks>) -> Result<Service> {
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(url).await?);
    let config = ServiceConfig {
        node_id: name.to_owned(),
        park_after: None,
        lease_ttl_millis: 1_500,
        ..ServiceConfig::default()
    };
    let tasks = Arc::new(NodeTasks { node: name.to_owned(), counted: Arc::clone(counted) });
    let service = Service::with_invoker(store, crate::support::sample_runtime()?, tasks, config);
    service.start_background_work().await?;
    Ok(service)
}

/// A 3 s Wait, then a task: long enough for a lease to lapse and be taken over in between.
async fn deploy_wait_then_task(service: &Service) -> Result<String> {
    let definition = json!({
        "StartAt": "Hold",
        "States": {
            "Hold": {"Type": "Wait", "Seconds": 3, "Next": "Ship"},
            "Ship": {"Type": "Task", "Resource": "wasm:ship", "End": true}
        }
    });
    create(service, "hold-then-ship", &definition).await
}

async fn sql(url: &str, statement: &str) -> Result<()> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client.batch_execute(statement).await?;
    Ok(())
}

/// Every execution ended SUCCEEDED with its input as output, ran its task exactly once, on
/// `expected_node` (by ARN), and has each state's events once.
async fn each_ran_once(
    service: &Service,
    counted: &CountedTasks,
    executions: &[String],
    expected_node: impl Fn(&str) -> &'static str,
) -> Result<()> {
    each_succeeded_with_every_state_once(service, executions).await?;
    for arn in executions {
        let runs = counted.runs_of(arn);
        ensure!(runs == [expected_node(arn)], "{arn}: its task ran on {runs:?}");
    }
    Ok(())
}

/// Every execution ended SUCCEEDED with its input (`{"order": n}`) as output, and has each
/// state's events once.
async fn each_succeeded_with_every_state_once(service: &Service, executions: &[String]) -> Result<()> {
    for (n, arn) in executions.iter().enumerate() {
        let execution = service.describe_execution(arn).await?;
        ensure!(execution.status == ExecutionStatus::Succeeded, "{arn}: {execution:?}");
        let output: Value = serde_json::from_str(execution.output.as_deref().context("no output")?)?;
        ensure!(output == json!({"order": n}), "{arn}: {output}");
        let types = history_types(service, arn).await?;
        for once in ["WaitStateExited", "LambdaFunctionScheduled", "LambdaFunctionSucceeded", "ExecutionSucceeded"] {
            ensure!(types.iter().filter(|t| *t == once).count() == 1, "{arn}: {once} not once in {types:?}");
        }
    }
    Ok(())
}

async fn start_orders(service: &Service, machine: &str, count: usize) -> Result<Vec<String>> {
    start_orders_across(&[service], machine, 0..count).await
}

/// Starts orders `numbers`, each on the next of `services` in turn.
async fn start_orders_across(
    services: &[&Service],
    machine: &str,
    numbers: std::ops::Range<usize>,
) -> Result<Vec<String>> {
    let mut executions = Vec::new();
    for n in numbers {
        let input = json!({"order": n}).to_string();
        let service = services[n % services.len()];
        executions.push(service.start_execution(machine, Some(&format!("order-{n}")), Some(&input)).await?.0);
    }
    Ok(executions)
}

async fn all_ended(service: &Service, executions: &[String]) -> Result<bool> {
    for arn in executions {
        if service.describe_execution(arn).await?.status == ExecutionStatus::Running {
            return Ok(false);
        }
    }
    Ok(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_lease_is_taken_stops_driving_that_execution() -> Result<()> {
    let url = TestServer::database().await?;
    let counted = Arc::new(CountedTasks::default());
    let (a, b) = (counted_node(&url, "node-a", &counted).await?, counted_node(&url, "node-b", &counted).await?);
    let machine = deploy_wait_then_task(&a).await?;
    let executions = start_orders(&a, &machine, 3).await?;
    ensure!(a.executions_in_progress() == 3, "node-a drives what it started");

    // As if node-b had claimed it after node-a's lease lapsed, while node-a did not notice.
    let taken = executions[0].clone();
    sql(
        &url,
        &format!(
            "UPDATE leases SET owner = 'node-b', expires = (extract(epoch FROM now()) * 1000)::BIGINT + 60000 \
             WHERE execution_arn = '{taken}'"
        ),
    )
    .await?;
    eventually(Duration::from_secs(2), "node-a to give the taken execution up", || async {
        Ok(a.executions_in_progress() == 2)
    })
    .await?;
    eventually(Duration::from_secs(2), "node-b to drive what it holds", || async {
        Ok(b.executions_in_progress() == 1)
    })
    .await?;
    eventually(Duration::from_secs(10), "every execution to end", || async {
        Ok(a.executions_in_progress() + b.executions_in_progress() == 0)
    })
    .await?;
    each_ran_once(&a, &counted, &executions, |arn| if arn == taken { "node-b" } else { "node-a" }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_the_database_stops_driving_and_the_other_finishes_everything_once() -> Result<()> {
    let url = TestServer::database().await?;
    // node-a logs in as a role of its own, so that it alone can be shut out.
    let database = url.rsplit('/').next().context("no database in the URL")?.to_owned();
    let role = format!("node_a_{database}");
    sql(&url, &format!("CREATE ROLE {role} LOGIN SUPERUSER")).await?;
    let (scheme, rest) = url.split_once("://").context("a URL")?;
    let (_, host) = rest.split_once('@').context("a user in the URL")?;
    let node_a_url = format!("{scheme}://{role}@{host}");

    let counted = Arc::new(CountedTasks::default());
    let a = counted_node(&node_a_url, "node-a", &counted).await?;
    let b = counted_node(&url, "node-b", &counted).await?;
    let machine = deploy_wait_then_task(&a).await?;
    let executions = start_orders(&a, &machine, 20).await?;
    ensure!(a.executions_in_progress() == 20 && b.executions_in_progress() == 0, "node-a drives all it started");

    // The partition: node-a's connections are killed and it cannot open new ones.
    let cut = Instant::now();
    sql(
        &url,
        &format!(
            "ALTER ROLE {role} NOLOGIN; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
        ),
    )
    .await?;
    eventually(Duration::from_secs(3), "node-a to stop driving once its leases may have lapsed", || async {
        Ok(a.executions_in_progress() == 0)
    })
    .await?;
    let gave_up = cut.elapsed();
    eventually(Duration::from_secs(10), "node-b to finish every execution", || all_ended(&b, &executions)).await?;
    println!(
        "node-a gave up its executions {gave_up:?} after the cut; node-b finished them {:?} after it",
        cut.elapsed()
    );

    // Healed, node-a finds nothing left to do.
    sql(&url, &format!("ALTER ROLE {role} LOGIN")).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    ensure!(a.executions_in_progress() == 0, "node-a took up finished executions");
    each_ran_once(&b, &counted, &executions, |_| "node-b").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_reconnect_after_the_database_restarts_and_finish_every_execution() -> Result<()> {
    let server = TestServer::dedicated()?;
    let url = server.new_database().await?;
    let counted = Arc::new(CountedTasks::default());
    let (a, b) = (counted_node(&url, "node-a", &counted).await?, counted_node(&url, "node-b", &counted).await?);
    let machine = deploy_wait_then_task(&a).await?;
    let mut executions = start_orders_across(&[&a, &b], &machine, 0..40).await?;
    ensure!(a.executions_in_progress() == 20 && b.executions_in_progress() == 20, "each node drives its half");

    let restart = Instant::now();
    server.restart().await?;
    println!("the database restarted in {:?}", restart.elapsed());

    // The pools open new connections: both nodes take new work, and finish the old.
    executions.extend(start_orders_across(&[&a, &b], &machine, 40..42).await?);
    // Generous: the test is about every execution ending, and on a loaded machine the restart,
    // the reconnections and the lapsed leases' takeovers take several times as long as alone.
    eventually(Duration::from_secs(60), "every execution to end", || all_ended(&b, &executions)).await?;
    println!("every execution ended {:?} after the restart began", restart.elapsed());
    each_succeeded_with_every_state_once(&a, &executions).await?;
    for arn in &executions {
        // A task whose result a node could not journal is run again; one that was journaled is not.
        ensure!(!counted.runs_of(arn).is_empty(), "{arn}: its task never ran");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_under_the_same_name_is_refused() -> Result<()> {
    let url = TestServer::database().await?;
    let named = |instance: &str| ServiceConfig {
        node_id: "twin".to_owned(),
        instance_id: instance.to_owned(),
        ..ServiceConfig::default()
    };
    let first = Service::new(
        Arc::new(PostgresStore::connect(&url).await?),
        crate::support::sample_runtime()?,
        named("data-dir-a"),
    );
    first.start_background_work().await?;
    let second = Service::new(
        Arc::new(PostgresStore::connect(&url).await?),
        crate::support::sample_runtime()?,
        named("data-dir-b"),
    );
    let refused = second.start_background_work().await.err().context("a second node named twin started")?;
    ensure!(refused.message.contains("another node named \"twin\""), "{}", refused.message);
    // The same instance coming back (a restart on its data directory) takes its name at once.
    let restarted = Service::new(
        Arc::new(PostgresStore::connect(&url).await?),
        crate::support::sample_runtime()?,
        named("data-dir-a"),
    );
    restarted.start_background_work().await?;
    Ok(())
}
