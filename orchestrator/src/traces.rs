//! Traces: one OpenTelemetry trace per execution, sent over OTLP/HTTP (JSON) when it ends.
//!
//! The trace is built from the execution's history, which holds every time that matters: a root
//! span for the execution, a span per state entered (Parallel branches and Map iterations
//! included), and beneath each Task state a span per attempt. Ids derive from the execution's
//! ARN and its events, so the same execution always gives the same trace, whichever node drove
//! it. Export happens on a thread of its own and never holds up an execution; a collector that
//! is down costs a warning, not a failure.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use stepwasm_asl::HistoryEvent;

/// Sends execution traces to an OTLP/HTTP collector.
#[derive(Debug)]
pub struct TraceExporter {
    queue: mpsc::SyncSender<Value>,
    endpoint: String,
}

/// How many finished traces may wait for the collector before new ones are dropped.
const QUEUE: usize = 1024;

impl TraceExporter {
    /// Exports to the collector at `endpoint` (`http://host:4318`, as in
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `ENDPOINT/v1/traces`.
    pub fn new(endpoint: &str) -> Self {
        let endpoint = endpoint.trim_end_matches('/');
        let url = if endpoint.ends_with("/v1/traces") { endpoint.to_owned() } else { format!("{endpoint}/v1/traces") };
        let (queue, pending) = mpsc::sync_channel::<Value>(QUEUE);
        let target = url.clone();
        std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .new_agent();
                for request in pending {
                    let sent = agent.post(&target).header("Content-Type", "application/json").send(request.to_string());
                    match sent {
                        Ok(response) if response.status().is_success() => {}
                        Ok(response) => {
                            tracing::warn!(status = %response.status(), "the trace collector refused a trace")
                        }
                        Err(error) => tracing::warn!("a trace could not be sent to {target}: {error}"),
                    }
                }
            })
            .map_or_else(|error| tracing::warn!("no thread for exporting traces: {error}"), drop);
        Self { queue, endpoint: url }
    }

    /// Where traces go.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Queues the trace of an execution that has ended.
    pub fn export(&self, execution_arn: &str, history: &[HistoryEvent]) {
        let spans = execution_spans(execution_arn, history);
        if spans.is_empty() {
            return;
        }
        let request = json!({"resourceSpans": [{
            "resource": {"attributes": [attribute("service.name", "stepwasm")]},
            "scopeSpans": [{"scope": {"name": "stepwasm", "version": env!("CARGO_PKG_VERSION")}, "spans": spans}],
        }]});
        if self.queue.try_send(request).is_err() {
            tracing::warn!("the trace of {execution_arn} was dropped: the collector is behind");
        }
    }
}

fn attribute(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn hex_id(parts: &[&str], bytes: usize) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize()[..bytes].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// An open span, until its closing event.
struct Open {
    span_id: String,
    parent: String,
    name: String,
    start: u64,
    attributes: Vec<Value>,
}

fn nanos(event: &Value) -> u64 {
    // AWS's timestamps are seconds with millisecond precision.
    let millis = (event["timestamp"].as_f64().unwrap_or(0.0) * 1000.0).round();
    (millis.max(0.0) as u64).saturating_mul(1_000_000)
}

fn close(open: Open, trace_id: &str, end: u64, failed: bool) -> Value {
    let Open { span_id, parent, name, start, attributes } = open;
    json!({
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": end.max(start).to_string(),
        "attributes": attributes,
        "status": {"code": if failed { 2 } else { 1 }},
    })
}

/// Whether an event belongs to a task attempt (Lambda, activity or service integration).
fn is_task_event(kind: &str) -> bool {
    (kind.starts_with("Task") && !kind.starts_with("TaskState"))
        || kind.starts_with("LambdaFunction")
        || kind.starts_with("Activity")
}

fn ends_attempt(kind: &str) -> bool {
    is_task_event(kind)
        && ["Succeeded", "Failed", "TimedOut", "StartFailed", "ScheduleFailed", "SubmitFailed"]
            .iter()
            .any(|end| kind.ends_with(end))
}

fn state_name(event: &Value) -> Option<&str> {
    event["stateEnteredEventDetails"]["name"].as_str().or_else(|| event["stateExitedEventDetails"]["name"].as_str())
}

/// The spans of one execution, in OTLP's JSON form.
pub fn execution_spans(execution_arn: &str, history: &[HistoryEvent]) -> Vec<Value> {
    let events: Vec<Value> = history.iter().map(HistoryEvent::to_aws_json).collect();
    let (Some(first), Some(last)) = (events.first(), events.last()) else { return Vec::new() };
    let trace_id = hex_id(&[execution_arn], 16);
    let root_id = hex_id(&[execution_arn, "execution"], 8);
    let by_id: HashMap<u64, &Value> = events.iter().filter_map(|event| Some((event["id"].as_u64()?, event))).collect();
    let machine = crate::metrics::machine_of(execution_arn);
    let last_kind = last["type"].as_str().unwrap_or_default();
    let execution_failed = matches!(last_kind, "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted");

    let mut spans = Vec::new();
    // Open states by event id; open attempts by the id of their Scheduled event.
    let mut states: HashMap<u64, Open> = HashMap::new();
    let mut by_name: HashMap<String, VecDeque<u64>> = HashMap::new();
    let mut attempts: HashMap<u64, Open> = HashMap::new();
    // The state (Entered event id) each task event belongs to.
    let mut owner: HashMap<u64, u64> = HashMap::new();
    for event in &events {
        let kind = event["type"].as_str().unwrap_or_default();
        let id = event["id"].as_u64().unwrap_or_default();
        let previous = event["previousEventId"].as_u64().unwrap_or_default();
        if kind.ends_with("StateEntered") {
            let name = state_name(event).unwrap_or("state").to_owned();
            let state_type = kind.trim_end_matches("StateEntered");
            let span_id = hex_id(&[execution_arn, &id.to_string()], 8);
            by_name.entry(name.clone()).or_default().push_back(id);
            let attributes =
                vec![attribute("stepwasm.state.name", &name), attribute("stepwasm.state.type", state_type)];
            states.insert(id, Open { span_id, parent: root_id.clone(), name, start: nanos(event), attributes });
        } else if kind.ends_with("StateExited") {
            let name = state_name(event).unwrap_or_default();
            let entered = by_name.get_mut(name).and_then(VecDeque::pop_front);
            if let Some(open) = entered.and_then(|entered| states.remove(&entered)) {
                spans.push(close(open, &trace_id, nanos(event), false));
            }
        } else if is_task_event(kind) {
            // A task's first event follows its state's Entered event; later ones follow the
            // task's own events (a retry follows the failure), so ownership is inherited.
            let state = if states.contains_key(&previous) { Some(previous) } else { owner.get(&previous).copied() };
            let Some(state) = state else { continue };
            owner.insert(id, state);
            if kind.ends_with("Scheduled") {
                let parent = states.get(&state).map(|open| open.span_id.clone()).unwrap_or_else(|| root_id.clone());
                let resource = event.as_object().and_then(|details| {
                    details
                        .values()
                        .find_map(|detail| detail.get("resource").and_then(Value::as_str).map(str::to_owned))
                });
                let number = attempts.values().filter(|attempt| attempt.parent == parent).count()
                    + spans.iter().filter(|span| span["parentSpanId"] == parent.as_str()).count()
                    + 1;
                let mut attributes = vec![attribute("stepwasm.attempt", &number.to_string())];
                if let Some(resource) = &resource {
                    attributes.push(attribute("stepwasm.task.resource", resource));
                }
                let span_id = hex_id(&[execution_arn, &id.to_string()], 8);
                attempts.insert(
                    id,
                    Open { span_id, parent, name: format!("attempt {number}"), start: nanos(event), attributes },
                );
            } else if ends_attempt(kind) {
                // Walk back to the Scheduled event this ends.
                let mut at = previous;
                let mut steps = 0;
                while !attempts.contains_key(&at) && steps < 16 {
                    at = by_id.get(&at).and_then(|event| event["previousEventId"].as_u64()).unwrap_or_default();
                    steps += 1;
                }
                if let Some(open) = attempts.remove(&at) {
                    let failed = !kind.ends_with("Succeeded");
                    spans.push(close(open, &trace_id, nanos(event), failed));
                }
            }
        }
    }
    // What never closed ended with the execution (a failure, a stop).
    let end = nanos(last);
    spans.extend(attempts.into_values().map(|open| close(open, &trace_id, end, execution_failed)));
    spans.extend(states.into_values().map(|open| close(open, &trace_id, end, execution_failed)));
    let root = Open {
        span_id: root_id,
        parent: String::new(),
        name: format!("execution {machine}"),
        start: nanos(first),
        attributes: vec![
            attribute("stepwasm.execution.arn", execution_arn),
            attribute("stepwasm.state_machine", machine),
            attribute("stepwasm.execution.status", last_kind.trim_start_matches("Execution")),
        ],
    };
    let mut root = close(root, &trace_id, end, execution_failed);
    if let Some(span) = root.as_object_mut() {
        span.remove("parentSpanId");
    }
    spans.insert(0, root);
    spans
}
