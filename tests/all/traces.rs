//! One OpenTelemetry trace per execution, sent over OTLP/HTTP to a collector on 127.0.0.1: a
//! root span for the execution, a span per state, and a span per task attempt beneath its state.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use serde_json::Value;
use stepwasm_orchestrator::service::{Service, ServiceConfig};
use stepwasm_orchestrator::store::{ExecutionStatus, MemoryStore};
use stepwasm_orchestrator::traces::TraceExporter;

use crate::http_stub::HttpStub;
use crate::parking::{create, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_execution_arrives_as_one_trace_with_a_span_per_state() -> Result<()> {
    let collector = HttpStub::start().await;
    let config =
        ServiceConfig { traces: Some(Arc::new(TraceExporter::new(&collector.origin))), ..ServiceConfig::default() };
    let service = Service::new(Arc::new(MemoryStore::default()), crate::support::sample_runtime()?, config);
    service.start_background_work().await?;
    let pipeline: Value = serde_json::from_str(stepwasm_functions::ORDER_PIPELINE)?;
    let machine = create(&service, "order-pipeline", &pipeline).await?;
    let (arn, _) = service.start_execution(&machine, None, Some(stepwasm_functions::samples::GOOD_ORDER)).await?;
    eventually(Duration::from_secs(30), "the order completing", || async {
        Ok(service.describe_execution(&arn).await?.status == ExecutionStatus::Succeeded)
    })
    .await?;
    eventually(Duration::from_secs(10), "the trace reaching the collector", || async {
        Ok(collector.seen().iter().any(|request| request.path == "/v1/traces"))
    })
    .await?;

    let sent = collector.seen().into_iter().find(|request| request.path == "/v1/traces").context("no trace")?;
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.headers.get("content-type").map(String::as_str), Some("application/json"));
    let request: Value = serde_json::from_str(&sent.body)?;
    let spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().context("no spans")?;
    let trace_ids: HashSet<&str> = spans.iter().filter_map(|span| span["traceId"].as_str()).collect();
    ensure!(trace_ids.len() == 1, "one trace per execution, got {trace_ids:?}");
    ensure!(trace_ids.iter().all(|id| id.len() == 32), "{trace_ids:?}");

    let root = spans.iter().find(|span| span.get("parentSpanId").is_none()).context("no root span")?;
    assert_eq!(root["name"], "execution order-pipeline");
    let root_id = root["spanId"].as_str().context("no root id")?;
    let attribute = |span: &Value, key: &str| {
        span["attributes"].as_array().and_then(|attributes| {
            attributes
                .iter()
                .find(|a| a["key"] == key)
                .and_then(|a| a["value"]["stringValue"].as_str().map(str::to_owned))
        })
    };
    assert_eq!(attribute(root, "stepwasm.execution.arn").as_deref(), Some(arn.as_str()));

    // A span per state entered, each under the execution, each with its start before its end.
    let page = service.history(&arn, Some(1000), false, None, true).await?;
    let entered: Vec<&str> = page
        .events
        .iter()
        .filter(|event| event["type"].as_str().is_some_and(|kind| kind.ends_with("StateEntered")))
        .filter_map(|event| event["stateEnteredEventDetails"]["name"].as_str())
        .collect();
    let state_spans: Vec<&Value> =
        spans.iter().filter(|span| attribute(span, "stepwasm.state.name").is_some()).collect();
    ensure!(
        state_spans.len() == entered.len(),
        "{} state spans for {} states entered",
        state_spans.len(),
        entered.len()
    );
    for span in &state_spans {
        assert_eq!(span["parentSpanId"], root_id);
        let (start, end): (u64, u64) = (
            span["startTimeUnixNano"].as_str().context("start")?.parse()?,
            span["endTimeUnixNano"].as_str().context("end")?.parse()?,
        );
        ensure!(start > 0 && start <= end, "{span}");
    }

    // Task attempts sit under their state: the shipping label failed once, then succeeded.
    let state_of: BTreeMap<&str, String> = state_spans
        .iter()
        .filter_map(|span| Some((span["spanId"].as_str()?, attribute(span, "stepwasm.state.name")?)))
        .collect();
    let attempts = |state: &str| -> Vec<&Value> {
        spans
            .iter()
            .filter(|span| {
                span["parentSpanId"].as_str().and_then(|parent| state_of.get(parent)).is_some_and(|name| name == state)
            })
            .collect()
    };
    let label = attempts("GenerateShippingLabel");
    ensure!(label.len() == 2, "{label:?}");
    let codes: Vec<i64> = label.iter().map(|span| span["status"]["code"].as_i64().unwrap_or_default()).collect();
    ensure!(codes == [2, 1], "the first attempt failed, the second succeeded: {codes:?}");
    ensure!(attempts("PlaceOrder").len() == 1);
    Ok(())
}
