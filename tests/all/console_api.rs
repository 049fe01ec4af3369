//! The console's read API: graphs, and history as server-sent events that resume.

use std::io::{BufRead, BufReader};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use stepwasm_orchestrator::Client;
use stepwasm_orchestrator::api::{self, AppState};
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::MemoryStore;
use stepwasm_runtime::{Runtime, RuntimeConfig};

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
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let service = Service::new(Arc::new(MemoryStore::default()), runtime, ServiceConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    tokio::spawn(api::run(listener, AppState { service, functions: None }, std::future::pending()));

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
