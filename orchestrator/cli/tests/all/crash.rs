//! `kill -9` in the middle of 500 executions after a restart on SQLite, or of 1,000 that also
//! wait for a callback on the other node of two sharing PostgreSQL: every execution must finish
//! with the right output, and every history must be gap-free with no event written twice.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use stepwasm_orchestrator::Client;

const EXECUTIONS: usize = 500;

/// A running `stepwasm serve` and its endpoint.
struct Server {
    child: Child,
    endpoint: String,
}

impl Server {
    fn start(data_dir: &Path) -> Result<Self> {
        Self::start_with(data_dir, &["--node-id", "crash-test"])
    }

    fn start_with(data_dir: &Path, options: &[&str]) -> Result<Self> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stepwasm"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let endpoint = loop {
            let line = lines.next().context("stepwasm serve exited before serving")??;
            if let Some(rest) = line.strip_prefix("stepwasm serving on ") {
                break rest.split_whitespace().next().context("no address")?.to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Self { child, endpoint })
    }

    fn kill_hard(mut self) -> Result<()> {
        // SIGKILL: no shutdown hooks, no flushes; only what was durable survives.
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two Wasm tasks around a short durable Wait; the output depends on the input, so a wrong
/// or repeated step shows.
fn definition() -> Value {
    json!({
        "StartAt": "First",
        "States": {
            "First": {"Type": "Task", "Resource": "wasm:echo", "Parameters": {"n.$": "$.n", "step": 1}, "ResultPath": "$.first", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Second"},
            "Second": {"Type": "Task", "Resource": "wasm:echo", "Parameters": {"n.$": "$.first.n", "step": 2}, "ResultPath": "$.second", "Next": "Done"},
            "Done": {"Type": "Pass", "Parameters": {"n.$": "$.n", "steps.$": "States.Array($.first.step, $.second.step)"}, "End": true}
        }
    })
}

/// [`definition`] with a callback after the Wait: the function is handed a task token, and the
/// execution waits for a SendTaskSuccess whose output it keeps.
fn definition_with_callback() -> Value {
    let mut definition = definition();
    definition["States"]["Pause"]["Next"] = json!("Approve");
    definition["States"]["Approve"] = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:echo",
            "Payload": {"n.$": "$.n", "token.$": "$$.Task.Token"}
        },
        "ResultPath": "$.approval",
        "Next": "Second"
    });
    definition["States"]["Done"]["Parameters"]["approvedFor.$"] = json!("$.approval.approvedFor");
    definition
}

/// Deploys the echo function on `server` and, unless it exists, the state machine; its ARN.
fn deploy(server: &Server) -> Result<String> {
    deploy_definition(server, &definition())
}

fn deploy_definition(server: &Server, definition: &Value) -> Result<String> {
    let (_, echo) = stepwasm_functions::CONFORMANCE_HANDLERS
        .iter()
        .find(|(handler, _)| *handler == "id_function.py")
        .context("the id_function stand-in")?;
    let client = Client::new(&server.endpoint);
    client.deploy_function("echo", echo, &[]).context("deploying echo")?;
    let created = client.call(
        "CreateStateMachine",
        &json!({"name": "crash", "definition": definition.to_string(), "roleArn": "arn:aws:iam::123456789012:role/x"}),
    )?;
    Ok(created["stateMachineArn"].as_str().context("no ARN")?.to_owned())
}

/// Starts execution `run-n` of `machine` on `server`; its ARN.
fn start_execution(server: &Server, machine: &str, n: usize) -> Result<String> {
    let started = Client::new(&server.endpoint).call(
        "StartExecution",
        &json!({"stateMachineArn": machine, "name": format!("run-{n}"), "input": json!({"n": n}).to_string()}),
    )?;
    Ok(started["executionArn"].as_str().context("no ARN")?.to_owned())
}

/// What [`check_all_finished_once`] expects of each execution.
struct Expected {
    output: fn(usize) -> Value,
    /// How many times each event type appears in every history.
    events: &'static [(&'static str, usize)],
}

const WAIT_AND_TASKS: Expected = Expected {
    output: |n| json!({"n": n, "steps": [1, 2]}),
    events: &[
        ("ExecutionStarted", 1),
        ("TaskStateEntered", 2),
        ("LambdaFunctionSucceeded", 2),
        ("WaitStateEntered", 1),
        ("WaitStateExited", 1),
        ("PassStateEntered", 1),
        ("ExecutionSucceeded", 1),
    ],
};

/// Waits until `server` sees no execution of `machine` running, then checks every one of `arns`
/// (execution `n` is `run-n`): its output, and each state's events exactly once.
fn check_all_finished_once(server: &Server, machine: &str, arns: &[String], limit: Duration) -> Result<()> {
    check_all_finished_as(server, machine, arns, limit, &WAIT_AND_TASKS)
}

fn check_all_finished_as(
    server: &Server,
    machine: &str,
    arns: &[String],
    limit: Duration,
    expected: &Expected,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let running = Client::new(&server.endpoint).call(
            "ListExecutions",
            &json!({"stateMachineArn": machine, "statusFilter": "RUNNING", "maxResults": 1000}),
        )?;
        let Some(still) = running["executions"].as_array().filter(|executions| !executions.is_empty()) else {
            break;
        };
        if Instant::now() >= deadline {
            // Whether the survivor was slow or an execution is stuck shows in where it stopped.
            let arn = still[0]["executionArn"].as_str().unwrap_or_default();
            let tail = Client::new(&server.endpoint)
                .call("GetExecutionHistory", &json!({"executionArn": arn, "maxResults": 5, "reverseOrder": true}))?;
            let last: Vec<&str> =
                tail["events"].as_array().into_iter().flatten().filter_map(|event| event["type"].as_str()).collect();
            panic!(
                "{} executions still running {limit:?} after the kill; the latest events of {arn}, newest first: {last:?}",
                still.len()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    for (n, arn) in arns.iter().enumerate() {
        let described = Client::new(&server.endpoint).call("DescribeExecution", &json!({"executionArn": arn}))?;
        assert_eq!(described["status"], "SUCCEEDED", "{arn}: {described}");
        let output: Value = serde_json::from_str(described["output"].as_str().context("no output")?)?;
        assert_eq!(output, (expected.output)(n), "{arn}");

        let history = Client::new(&server.endpoint)
            .call("GetExecutionHistory", &json!({"executionArn": arn, "maxResults": 1000}))?;
        let events = history["events"].as_array().context("no events")?;
        let ids: Vec<u64> = events.iter().filter_map(|event| event["id"].as_u64()).collect();
        assert_eq!(ids, (1..=events.len() as u64).collect::<Vec<_>>(), "{arn}: ids must be 1..N without gaps");
        let types: Vec<&str> = events.iter().filter_map(|event| event["type"].as_str()).collect();
        for &(event_type, expected) in expected.events {
            let count = types.iter().filter(|found| **found == event_type).count();
            assert_eq!(count, expected, "{arn}: {event_type} appears {count} times in {types:?}");
        }
    }
    Ok(())
}

#[test]
fn executions_survive_kill_9_and_resume_without_duplicates() -> Result<()> {
    let data = tempfile::tempdir()?;
    let server = Server::start(data.path())?;
    let machine = deploy(&server)?;
    let arns = (0..EXECUTIONS).map(|n| start_execution(&server, &machine, n)).collect::<Result<Vec<_>>>()?;
    // Midway: most executions are in their Wait or between tasks.
    std::thread::sleep(Duration::from_millis(300));
    server.kill_hard()?;

    let server = Server::start(data.path())?;
    check_all_finished_once(&server, &machine, &arns, Duration::from_secs(120))
}

#[test]
fn two_nodes_on_postgres_finish_what_a_killed_node_started() -> Result<()> {
    const LEASE_SECONDS: &str = "3";
    const EXECUTIONS: usize = 1_000;
    let url = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(stepwasm_orchestrator::testing::TestServer::database())?;
    let (data_a, data_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let node = |data: &Path, id: &str| {
        Server::start_with(data, &["--store", &url, "--node-id", id, "--lease-seconds", LEASE_SECONDS])
    };
    let (a, b) = (node(data_a.path(), "node-a")?, node(data_b.path(), "node-b")?);
    // Deployed through A only: the function and the state machine live in the shared database.
    let machine = deploy_definition(&a, &definition_with_callback())?;
    let arns = (0..EXECUTIONS)
        .map(|n| start_execution(if n % 2 == 0 { &a } else { &b }, &machine, n))
        .collect::<Result<Vec<_>>>()?;
    std::thread::sleep(Duration::from_millis(300));
    a.kill_hard()?;

    // Every callback goes to the survivor, whichever node scheduled its task; B takes A's
    // executions over once A's leases lapse, and finishes its own meanwhile.
    let started = Instant::now();
    let mut waiting: Vec<(usize, &String)> = arns.iter().enumerate().collect();
    while !waiting.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "{} tasks never handed out a token", waiting.len());
        let mut still = Vec::new();
        for (n, arn) in waiting {
            match scheduled_token(&b, arn)? {
                Some(token) => {
                    let output = json!({"approvedFor": n}).to_string();
                    Client::new(&b.endpoint).call("SendTaskSuccess", &json!({"taskToken": token, "output": output}))?;
                }
                None => still.push((n, arn)),
            }
        }
        waiting = still;
        std::thread::sleep(Duration::from_millis(100));
    }
    let expected = Expected {
        output: |n| json!({"n": n, "steps": [1, 2], "approvedFor": n}),
        events: &[
            ("ExecutionStarted", 1),
            ("TaskStateEntered", 3),
            ("LambdaFunctionSucceeded", 2),
            ("TaskSucceeded", 1),
            ("WaitStateEntered", 1),
            ("WaitStateExited", 1),
            ("PassStateEntered", 1),
            ("ExecutionSucceeded", 1),
        ],
    };
    check_all_finished_as(&b, &machine, &arns, Duration::from_secs(60), &expected)
}

/// The newest task token the execution's history hands out, if it has scheduled its callback.
fn scheduled_token(server: &Server, arn: &str) -> Result<Option<String>> {
    let history = Client::new(&server.endpoint)
        .call("GetExecutionHistory", &json!({"executionArn": arn, "maxResults": 1000, "reverseOrder": true}))?;
    let events = history["events"].as_array().context("no events")?;
    let scheduled = events.iter().find_map(|event| event["taskScheduledEventDetails"]["parameters"].as_str());
    let Some(parameters) = scheduled else { return Ok(None) };
    let parameters: Value = serde_json::from_str(parameters)?;
    Ok(parameters["Payload"]["token"].as_str().map(str::to_owned))
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused() -> Result<()> {
    let data = tempfile::tempdir()?;
    let first = Server::start_with(data.path(), &[])?;
    let second = Command::new(env!("CARGO_BIN_EXE_stepwasm"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .output()?;
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "the second server started");
    assert!(stderr.contains("another stepwasm server is using the data directory"), "{stderr}");
    // The first still serves; once it is gone, the directory is free again.
    Client::new(&first.endpoint).call("ListStateMachines", &json!({}))?;
    first.kill_hard()?;
    let again = Server::start_with(data.path(), &[])?;
    Client::new(&again.endpoint).call("ListStateMachines", &json!({}))?;
    Ok(())
}
