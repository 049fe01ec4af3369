//! Read endpoints for the web console: workflow graphs, each state's progress in an execution,
//! and a live stream of an execution's history as server-sent events that resumes from the last
//! event id the client saw.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use stepwasm_asl::progress::MapIteration;
use tokio::sync::{broadcast, mpsc};

use super::AppState;
use super::error::ApiError;
use crate::service::Service;
use crate::store::PageRequest;

/// `GET /console/api/state-machines/{arn}/graph`: the compiled definition as nodes and edges.
pub(crate) async fn state_machine_graph(
    State(state): State<AppState>,
    Path(arn): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let machine = state.service.describe_state_machine(&arn).await?;
    Ok(Json(json!({ "stateMachineArn": machine.arn, "graph": state.service.graph_of(&machine.definition)? })))
}

/// `GET /console/api/executions/{arn}/graph`: the graph of the definition the execution runs.
pub(crate) async fn execution_graph(
    State(state): State<AppState>,
    Path(arn): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let execution = state.service.describe_execution(&arn).await?;
    Ok(Json(json!({ "executionArn": execution.arn, "graph": state.service.graph_of(&execution.definition)? })))
}

/// `POST /console/api/graph`: the graph of a definition sent as the body, for the editor's live
/// preview. An invalid definition gets `InvalidDefinition`, as `CreateStateMachine` would.
pub(crate) async fn definition_graph(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    if body.len() > super::MAX_REQUEST_BYTES {
        return Err(ApiError::validation("the definition is larger than 1 MB"));
    }
    let definition = std::str::from_utf8(&body)
        .map_err(|error| ApiError::validation(format!("the definition is not UTF-8: {error}")))?;
    Ok(Json(json!({ "graph": state.service.draft_graph(definition)? })))
}

#[derive(Deserialize)]
pub(crate) struct ProgressQuery {
    /// Show the states inside this Map (a qualified state id) for one iteration …
    map: Option<String>,
    /// … this one. Text, so a malformed number gets an AWS-shaped error rather than axum's.
    iteration: Option<String>,
    /// Only this state (a qualified id) carries its input and output; empty: none does.
    /// Without it, every state does.
    details: Option<String>,
}

/// `GET /console/api/executions/{arn}/progress[?map=<id>&iteration=<n>][&details=<id>]`: each
/// state's status, input, output, attempts and failures, folded from the history; a state
/// waiting for a callback carries its task token. Payloads can be large, so a page that
/// refetches this as an execution runs asks for the inputs and outputs of the state it shows.
/// `POST /console/api/executions/{arn}/next-timer`: fires the execution's earliest timer now.
pub(crate) async fn next_timer(
    State(state): State<AppState>,
    Path(arn): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.service.next_timer(&arn).await?;
    Ok(Json(serde_json::json!({ "executionArn": arn })))
}

pub(crate) async fn execution_progress(
    State(state): State<AppState>,
    Path(arn): Path<String>,
    Query(query): Query<ProgressQuery>,
) -> Result<Json<Value>, ApiError> {
    let iteration = match (query.map, query.iteration) {
        (Some(map), Some(index)) => {
            let index = index
                .parse()
                .map_err(|_| ApiError::validation(format!("iteration must be a whole number, not {index:?}")))?;
            Some(MapIteration { map, index })
        }
        (None, None) => None,
        _ => return Err(ApiError::validation("give both map and iteration, or neither")),
    };
    let mut progress = state.service.execution_progress(&arn, iteration.as_ref()).await?;
    if let (Some(shown), Some(states)) = (query.details, progress["states"].as_object_mut()) {
        for (_, state) in states.iter_mut().filter(|(id, _)| **id != shown) {
            if let Some(fields) = state.as_object_mut() {
                fields.remove("input");
                fields.remove("output");
            }
        }
    }
    Ok(Json(progress))
}

#[derive(Deserialize)]
pub(crate) struct StreamQuery {
    /// Resume after this event id (the `Last-Event-ID` header wins when both are given).
    after: Option<String>,
}

/// `GET /console/api/executions/{arn}/events`: every history event after the last one the
/// client saw, then new ones as they are written; the stream ends with the execution.
pub(crate) async fn execution_events(
    State(state): State<AppState>,
    Path(arn): Path<String>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    state.service.describe_execution(&arn).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok());
    let after = match (after, query.after) {
        (Some(after), _) => after,
        (None, Some(text)) => {
            text.parse().map_err(|_| ApiError::validation(format!("after must be a history event id, not {text:?}")))?
        }
        (None, None) => 0,
    };
    // Subscribe before reading the store, so nothing written in between is missed; ids tell
    // the two sources' overlap apart.
    let live = state.service.subscribe();
    let (sender, receiver) = mpsc::channel(256);
    tokio::spawn(relay(state.service, arn, after, live, sender));
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Sends stored events after `after`, then live ones, until the execution ends or the client
/// goes away.
async fn relay(
    service: Service,
    arn: String,
    after: u64,
    mut live: broadcast::Receiver<crate::service::ExecutionEvent>,
    sender: mpsc::Sender<Event>,
) {
    let mut last = after;
    match send_stored(&service, &arn, &mut last, &sender).await {
        Some(true) | None => return,
        Some(false) => {}
    }
    loop {
        match live.recv().await {
            Ok(event) if event.execution_arn == arn => {
                let id = event.event["id"].as_u64().unwrap_or(0);
                if id <= last {
                    continue;
                }
                // A gap means this subscriber missed events; the store has them.
                if id > last + 1 {
                    match send_stored(&service, &arn, &mut last, &sender).await {
                        Some(true) | None => return,
                        Some(false) => continue,
                    }
                }
                let ended = is_final(&event.event);
                if sender.send(to_sse(id, &event.event)).await.is_err() {
                    return;
                }
                last = id;
                if ended {
                    return;
                }
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {
                match send_stored(&service, &arn, &mut last, &sender).await {
                    Some(true) | None => return,
                    Some(false) => {}
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Sends the stored events after `last`. `Some(true)` when the execution has ended, `None`
/// when the client is gone or the store failed. Only the last event can end it: a redriven
/// execution's history goes on past its first end.
async fn send_stored(service: &Service, arn: &str, last: &mut u64, sender: &mpsc::Sender<Event>) -> Option<bool> {
    let mut ended = false;
    loop {
        let page = PageRequest { limit: 500, after: Some(last.to_string()), reverse: false };
        let page = service.store().history(arn, &page).await.ok()?;
        for stored in &page.items {
            if stored.id <= *last {
                continue;
            }
            sender.send(to_sse(stored.id, &stored.event)).await.ok()?;
            *last = stored.id;
            ended = is_final(&stored.event);
        }
        if page.next.is_none() {
            return Some(ended);
        }
    }
}

fn is_final(event: &Value) -> bool {
    matches!(
        event["type"].as_str(),
        Some("ExecutionSucceeded" | "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted")
    )
}

fn to_sse(id: u64, event: &Value) -> Event {
    Event::default().id(id.to_string()).event("history").data(event.to_string())
}
