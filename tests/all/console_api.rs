//! The console's HTTP side: its embedded files, graphs, per-state progress with approval tokens, and
//! history as server-sent events that resume.

use std::io::{BufRead, BufReader};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use stepwasm_orchestrator::Client;
use stepwasm_orchestrator::api::{self, AppState};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::MemoryStore;

/// Reads a server-sent event stream to its end: `(id, event type)` of every `history` event.
fn read_stream(url: &str, last_event_id: Option<&str>) -> Result<Vec<(u64, String)>> {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut request = agent.get(url);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let mut response = request.call()?;
    anyhow::ensure!(response.status().is_success(), "status {}", response.status());
    let reader = BufReader::new(response.body_mut().as_reader());
    let (mut events, mut id) = (Vec::new(), 0);
    for line in reader.lines() {
        let line = line?;
        if let Some(value) = line.strip_prefix("id:") {
            id = value.trim().parse()?;
        } else if let Some(data) = line.strip_prefix("data:") {
            let event: Value = serde_json::from_str(data.trim())?;
            events.push((id, event["type"].as_str().unwrap_or_default().to_owned()));
        }
    }
    Ok(events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_streams_live_and_resumes_from_the_last_event_id() -> Result<()> {
    let endpoint = serve_with_sample_functions().await?;

    let definition = json!({
        "StartAt": "Before",
        "States": {
            "Before": {"Type": "Pass", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "After"},
            "After": {"Type": "Pass", "End": true}
        }
    });
    let endpoint_for_client = endpoint.clone();
    let (machine, execution, graph) = tokio::task::spawn_blocking(move || -> Result<(String, String, Value)> {
        let client = Client::new(&endpoint_for_client);
        let machine =
            client.deploy_state_machine("paced", &definition.to_string(), "STANDARD", "arn:aws:iam::1:role/x")?;
        let started = client.call("StartExecution", &json!({"stateMachineArn": machine, "input": "{}"}))?;
        let execution = started["executionArn"].as_str().context("no ARN")?.to_owned();
        let graph = client.get(&format!("/console/api/state-machines/{machine}/graph"))?;
        Ok((machine, execution, graph))
    })
    .await??;
    let states: Vec<&str> =
        graph["graph"]["states"].as_array().into_iter().flatten().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(states, ["Before", "Pause", "After"], "{graph}");
    assert!(machine.ends_with(":paced"));

    // Joined while the execution waits: stored events first, then live ones, to the end.
    let url = format!("{endpoint}/console/api/executions/{execution}/events");
    let live = tokio::task::spawn_blocking({
        let url = url.clone();
        move || read_stream(&url, None)
    })
    .await??;
    let ids: Vec<u64> = live.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (1..=live.len() as u64).collect::<Vec<_>>(), "every event once, in order: {live:?}");
    assert_eq!(live.first().map(|(_, kind)| kind.as_str()), Some("ExecutionStarted"));
    assert_eq!(live.last().map(|(_, kind)| kind.as_str()), Some("ExecutionSucceeded"));
    assert!(live.iter().any(|(_, kind)| kind == "WaitStateExited"));

    // Reconnecting after event 3 resumes at 4 and ends with the execution.
    let resumed = tokio::task::spawn_blocking(move || read_stream(&url, Some("3"))).await??;
    assert_eq!(resumed, live[3..].to_vec());
    Ok(())
}

/// The AWS-shaped error of a 400 reply: `{"__type": ..., "message": ...}`.
fn aws_error(mut reply: ureq::http::Response<ureq::Body>) -> Result<Value> {
    anyhow::ensure!(reply.status() == 400, "expected 400, got {}", reply.status());
    Ok(serde_json::from_str(&reply.body_mut().read_to_string()?)?)
}

/// Serves the API on a free port with the sample functions and an in-memory store.
async fn serve_with_sample_functions() -> Result<String> {
    let runtime = crate::support::sample_runtime()?;
    let service = Service::new(Arc::new(MemoryStore::default()), runtime, ServiceConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    service.start_background_work().await?;
    tokio::spawn(api::run(listener, AppState { service }, std::future::pending()));
    Ok(endpoint)
}

/// GETs `path` until `ready` holds of the reply, for at most 30 s.
fn poll(client: &Client, path: &str, ready: impl Fn(&Value) -> bool) -> Result<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let reply = client.get(path)?;
        if ready(&reply) {
            return Ok(reply);
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "{path} never got there: {reply}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Polls the execution's progress until `ready` holds.
fn progress_until(client: &Client, execution: &str, ready: impl Fn(&Value) -> bool) -> Result<Value> {
    poll(client, &format!("/console/api/executions/{execution}/progress"), ready)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_shows_each_state_and_hands_out_the_approval_token() -> Result<()> {
    let endpoint = serve_with_sample_functions().await?;
    tokio::task::spawn_blocking(move || -> Result<()> {
        let client = Client::new(&endpoint);
        let machine = client.deploy_state_machine(
            "approvals",
            stepwasm_functions::ORDER_PIPELINE_WITH_APPROVAL,
            "STANDARD",
            "arn:aws:iam::1:role/x",
        )?;
        let started = client.call(
            "StartExecution",
            &json!({"stateMachineArn": machine, "input": stepwasm_functions::samples::LARGE_ORDER}),
        )?;
        let execution = started["executionArn"].as_str().context("no ARN")?.to_owned();

        let waiting = progress_until(&client, &execution, |p| p["states"]["RequestApproval"]["taskToken"].is_string())?;
        assert_eq!(waiting["status"], "RUNNING");
        assert_eq!(waiting["states"]["RequestApproval"]["status"], "in-progress");
        assert_eq!(waiting["states"]["PlaceOrder"]["status"], "succeeded");
        assert_eq!(waiting["states"]["NeedsApproval"]["status"], "succeeded");
        assert!(waiting["states"]["AuthorizeAndScreen"].is_null(), "not started yet: {waiting}");
        let place_order_output: Value =
            serde_json::from_str(waiting["states"]["PlaceOrder"]["output"].as_str().context("no output")?)?;
        assert!(place_order_output["totalCents"].as_u64().is_some_and(|cents| cents > 100_000));

        // A page asks for one state's payloads only.
        let narrowed = client.get(&format!("/console/api/executions/{execution}/progress?details=PlaceOrder"))?;
        assert_eq!(narrowed["states"]["PlaceOrder"]["output"], waiting["states"]["PlaceOrder"]["output"]);
        assert!(narrowed["states"]["NeedsApproval"]["input"].is_null(), "{narrowed}");
        assert_eq!(narrowed["states"]["NeedsApproval"]["status"], "succeeded");
        let none = client.get(&format!("/console/api/executions/{execution}/progress?details="))?;
        assert!(none["states"]["PlaceOrder"]["input"].is_null(), "{none}");
        assert!(none["states"]["RequestApproval"]["taskToken"].is_string(), "{none}");

        let token = waiting["states"]["RequestApproval"]["taskToken"].as_str().context("no token")?;
        client.call(
            "SendTaskSuccess",
            &json!({"taskToken": token, "output": json!({"approved": true, "approvedBy": "test"}).to_string()}),
        )?;
        let done = progress_until(&client, &execution, |p| p["status"] != "RUNNING")?;
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        let request = &done["states"]["RequestApproval"];
        assert_eq!(request["status"], "succeeded");
        assert!(request["taskToken"].is_null(), "an answered task hands out no token");
        for state in ["AuthorizeAndScreen/0/ValidatePayment", "Fulfil/1/Notify/1/SendSms", "CompleteOrder"] {
            assert_eq!(done["states"][state]["status"], "succeeded", "{state}: {done}");
        }
        assert_eq!(done["transitions"], 15);

        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let url = format!("{endpoint}/console/api/executions/{execution}/progress?map=Nowhere&iteration=x");
        let error = aws_error(agent.get(&url).call()?)?;
        assert!(error["__type"].as_str().is_some_and(|kind| kind.ends_with("ValidationException")), "{error}");
        Ok(())
    })
    .await?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_preview_graphs_valid_definitions_and_rejects_invalid_ones() -> Result<()> {
    let endpoint = serve_with_sample_functions().await?;
    tokio::task::spawn_blocking(move || -> Result<()> {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let url = format!("{endpoint}/console/api/graph");
        let mut valid = agent.post(&url).send(stepwasm_functions::ORDER_PIPELINE_WITH_APPROVAL)?;
        assert_eq!(valid.status(), 200);
        let graph: Value = serde_json::from_str(&valid.body_mut().read_to_string()?)?;
        let choice = graph["graph"]["states"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|state| state["id"] == "NeedsApproval")
            .context("no NeedsApproval")?;
        assert_eq!(choice["rules"], json!(["$.totalCents > 100000"]));

        let broken = stepwasm_functions::ORDER_PIPELINE.replace("\"Next\": \"CompleteOrder\"", "\"Next\": \"Nowhere\"");
        assert_ne!(broken, stepwasm_functions::ORDER_PIPELINE, "the edit must apply");
        let error = aws_error(agent.post(&url).send(broken.as_str())?)?;
        assert!(error["__type"].as_str().is_some_and(|kind| kind.ends_with("InvalidDefinition")), "{error}");
        assert!(error["message"].as_str().is_some_and(|message| message.contains("Nowhere")), "{error}");

        let error = aws_error(agent.post(&url).send(&[0xff, 0xfe, 0x7b][..])?)?;
        assert!(error["message"].as_str().is_some_and(|message| message.contains("UTF-8")), "{error}");
        Ok(())
    })
    .await?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_from_the_binary() -> Result<()> {
    let endpoint = serve_with_sample_functions().await?;
    tokio::task::spawn_blocking(move || -> Result<()> {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().new_agent();
        let bare = agent.get(&format!("{endpoint}/console")).call()?;
        assert_eq!(bare.status(), 308);
        assert_eq!(bare.headers().get("location").and_then(|v| v.to_str().ok()), Some("/console/"));

        let mut index = agent.get(&format!("{endpoint}/console/")).call()?;
        assert_eq!(index.status(), 200);
        assert_eq!(index.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/html; charset=utf-8"));
        let etag = index.headers().get("etag").and_then(|v| v.to_str().ok()).context("no ETag")?.to_owned();
        let html = index.body_mut().read_to_string()?;
        assert!(html.contains("elk.bundled.js"), "the page loads the vendored layout engine: {html}");

        let unchanged = agent.get(&format!("{endpoint}/console/")).header("If-None-Match", &etag).call()?;
        assert_eq!(unchanged.status(), 304);

        let elk = agent.get(&format!("{endpoint}/console/vendor/elkjs/elk.bundled.js")).call()?;
        assert_eq!(elk.status(), 200);
        assert!(
            elk.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("text/javascript"))
        );

        for missing in ["/console/nope.js", "/console/%2e%2e/Cargo.toml", "/console/js/../../Cargo.toml"] {
            let response = agent.get(&format!("{endpoint}{missing}")).call()?;
            assert_eq!(response.status(), 404, "{missing}");
        }
        // The AWS API still owns POST /.
        let listed = Client::new(&endpoint).call("ListStateMachines", &json!({}))?;
        assert!(listed["stateMachines"].is_array());
        Ok(())
    })
    .await?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_waiting_map_iteration_gets_its_own_approval_token() -> Result<()> {
    let endpoint = serve_with_sample_functions().await?;
    tokio::task::spawn_blocking(move || -> Result<()> {
        let client = Client::new(&endpoint);
        let definition = json!({
            "StartAt": "Place",
            "States": {
                "Place": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:place-order",
                    "Parameters": {"order.$": "$.order", "receivedAt.$": "$$.Execution.StartTime"},
                    "ResultPath": "$.placed",
                    "Next": "AskEachReviewer"
                },
                "AskEachReviewer": {
                    "Type": "Map",
                    "ItemsPath": "$.reviewers",
                    "ItemSelector": {"order.$": "$.placed"},
                    "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                        "Parameters": {
                            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:request-approval",
                            "Payload": {"order.$": "$.order", "taskToken.$": "$$.Task.Token"}
                        },
                        "End": true
                    }}},
                    "End": true
                }
            }
        });
        let machine =
            client.deploy_state_machine("reviews", &definition.to_string(), "STANDARD", "arn:aws:iam::1:role/x")?;
        let order: Value = serde_json::from_str(stepwasm_functions::samples::LARGE_ORDER)?;
        let input = json!({"order": order, "reviewers": ["ana", "ben", "cy"]});
        let started =
            client.call("StartExecution", &json!({"stateMachineArn": machine, "input": input.to_string()}))?;
        let execution = started["executionArn"].as_str().context("no ARN")?.to_owned();
        let progress_of =
            |index: u64| format!("/console/api/executions/{execution}/progress?map=AskEachReviewer&iteration={index}");

        // Every iteration waits with a token of its own.
        let mut tokens = Vec::new();
        for index in 0..3 {
            let waiting =
                poll(&client, &progress_of(index), |p| p["states"]["AskEachReviewer/Ask"]["taskToken"].is_string())?;
            tokens.push(waiting["states"]["AskEachReviewer/Ask"]["taskToken"].as_str().context("token")?.to_owned());
        }
        let distinct: std::collections::BTreeSet<&String> = tokens.iter().collect();
        assert_eq!(distinct.len(), 3, "{tokens:?}");

        // Answering iteration 1's token answers iteration 1, and only it.
        client.call("SendTaskSuccess", &json!({"taskToken": tokens[1], "output": r#"{"reviewer": 1}"#}))?;
        let answered = poll(&client, &progress_of(1), |p| p["states"]["AskEachReviewer/Ask"]["status"] == "succeeded")?;
        assert!(answered["states"]["AskEachReviewer/Ask"]["taskToken"].is_null());
        for index in [0, 2] {
            let still = client.get(&progress_of(index))?;
            assert_eq!(
                still["states"]["AskEachReviewer/Ask"]["taskToken"].as_str(),
                Some(tokens[index as usize].as_str())
            );
        }
        // The aggregate view offers a token that still waits.
        let aggregate = client.get(&format!("/console/api/executions/{execution}/progress"))?;
        let offered = aggregate["states"]["AskEachReviewer/Ask"]["taskToken"].as_str().context("no token offered")?;
        assert!(offered == tokens[0] || offered == tokens[2], "{offered}");

        for index in [0, 2] {
            let output = json!({"reviewer": index}).to_string();
            client.call("SendTaskSuccess", &json!({"taskToken": tokens[index], "output": output}))?;
        }
        let done = progress_until(&client, &execution, |p| p["status"] != "RUNNING")?;
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        let described = client.call("DescribeExecution", &json!({"executionArn": execution}))?;
        let output: Value = serde_json::from_str(described["output"].as_str().context("no output")?)?;
        assert_eq!(output, json!([{"reviewer": 0}, {"reviewer": 1}, {"reviewer": 2}]));
        Ok(())
    })
    .await?
}
