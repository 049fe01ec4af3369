//! The HTTP API: the AWS Step Functions JSON 1.0 protocol on `POST /`, `/functions` for
//! deploying Wasm task functions, `/bindings` for what service integrations run here, the web
//! console at `/console/`, and `/console/api` for the
//! console's graphs, per-state progress and live history streams (server-sent events that
//! resume from `Last-Event-ID`).
//!
//! A server with access keys accepts only requests signed with one of them (SigV4, as every AWS
//! client signs) or carrying a console session made from one; see [`crate::access`].
//!
//! AWS clients (boto3, the AWS CLI, the SDKs) work against it with `--endpoint-url`. Every
//! operation is `POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>`; errors are rendered
//! in one place, [`ApiError`].

mod bindings;
mod console;
mod console_assets;
mod error;
mod functions;
mod operations;
mod session;
mod sqs;
mod versions;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::net::TcpListener;

pub use error::ApiError;
pub(crate) use session::now;
pub use session::sign_in_token;

use crate::service::{ErrorKind, Service, ServiceError};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The Step Functions service.
    pub service: Service,
}

/// The API as a router, for serving or for `oneshot` tests.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", post(aws_operation))
        .route("/functions", get(functions::list))
        .route("/bindings", get(bindings::list))
        .route("/bindings/{integration}", get(bindings::get).put(bindings::put).delete(bindings::delete))
        .route("/functions/{name}", get(functions::get).put(functions::deploy).delete(functions::delete))
        .route("/console", get(console_assets::redirect_to_index))
        .route("/console/", get(console_assets::index))
        .route("/console/{*path}", get(console_assets::file))
        .route("/console/api/graph", post(console::definition_graph))
        .route("/console/api/state-machines/{arn}/graph", get(console::state_machine_graph))
        .route("/console/api/executions/{arn}/graph", get(console::execution_graph))
        .route("/console/api/executions/{arn}/progress", get(console::execution_progress))
        .route("/console/api/executions/{arn}/events", get(console::execution_events))
        .route("/console/api/executions/{arn}/next-timer", post(console::next_timer))
        .route("/console/api/session", get(session::describe).post(session::sign_in).delete(session::sign_out))
        .route("/metrics", get(metrics))
        // AWS's request quota is 1 MB; components are larger, so /functions gets its own.
        .layer(DefaultBodyLimit::max(64 << 20))
        .layer(middleware::from_fn_with_state(state.clone(), session::authenticate))
        .layer(middleware::from_fn(request_ids))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

/// The largest request body of an AWS operation.
const MAX_REQUEST_BYTES: usize = 1 << 20;

async fn aws_operation(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok()).unwrap_or_default();
    if let Some(operation) = target.strip_prefix("AmazonSQS.") {
        let body = body.map_err(|rejection| too_large(&rejection))?;
        if body.len() > MAX_REQUEST_BYTES {
            return Err(ApiError::validation("the request is larger than 1 MB"));
        }
        return Ok(sqs::dispatch(state.service.queues(), operation, &headers, &body).await);
    }
    let Some(operation) = target.strip_prefix("AWSStepFunctions.") else {
        return Err(ApiError(ServiceError::new(
            ErrorKind::UnknownOperation,
            format!("missing or unknown X-Amz-Target header {target:?}"),
        )));
    };
    // A body past the server's limit is refused before it is read, as AWS shapes a refusal.
    let body = body.map_err(|rejection| too_large(&rejection))?;
    if body.len() > MAX_REQUEST_BYTES {
        return Err(ApiError::validation("the request is larger than 1 MB"));
    }
    let request: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ApiError(ServiceError::new(
                ErrorKind::ValidationException,
                format!("the request body is not JSON: {error}"),
            ))
        })?
    };
    if !request.is_object() {
        return Err(ApiError::validation("the request body must be a JSON object"));
    }
    let reply = operations::dispatch(&state.service, operation, request).await?;
    let mut response = reply.to_string().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
    Ok(response)
}

/// Gives every response a request id (botocore reports it) and logs failures once.
async fn request_ids(request: Request, next: Next) -> Response {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} {}", request.method(), request.uri().path()));
    let id = format!("stepwasm-{:016x}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let route = route_label(request.method().as_str(), request.uri().path());
    let mut response = next.run(request).await;
    if let Some(error) = response.extensions().get::<ServiceError>()
        && error.kind == ErrorKind::InternalFailure
    {
        tracing::error!(operation = %operation, request_id = %id, "the request failed in the server: {error}");
    }
    // Labels come from a closed set, so no request can grow the metrics without bound.
    let label = if response.extensions().get::<session::Refused>().is_some() {
        "unauthenticated"
    } else if response.extensions().get::<ServiceError>().is_some_and(|error| error.kind == ErrorKind::UnknownOperation)
    {
        "unknown"
    } else if let Some(name) = operation.strip_prefix("AWSStepFunctions.") {
        name
    } else if operation.strip_prefix("AmazonSQS.").is_some_and(|name| sqs::OPERATIONS.contains(&name)) {
        operation.as_str()
    } else {
        route
    };
    crate::metrics::global().request_answered(label, response.status().as_u16());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// The route a request that is not an AWS operation went to, without its parameters.
fn route_label(method: &str, path: &str) -> &'static str {
    match (method, path) {
        ("GET", "/metrics") => "GET /metrics",
        ("GET", "/functions") => "GET /functions",
        ("GET", path) if path.starts_with("/functions/") => "GET /functions/{name}",
        ("PUT", path) if path.starts_with("/functions/") => "PUT /functions/{name}",
        ("DELETE", path) if path.starts_with("/functions/") => "DELETE /functions/{name}",
        ("GET", "/bindings") => "GET /bindings",
        ("GET", path) if path.starts_with("/bindings/") => "GET /bindings/{integration}",
        ("PUT", path) if path.starts_with("/bindings/") => "PUT /bindings/{integration}",
        ("DELETE", path) if path.starts_with("/bindings/") => "DELETE /bindings/{integration}",
        (_, path) if path.starts_with("/console/api/") => "console api",
        (_, path) if path.starts_with("/console") => "console files",
        _ => "other",
    }
}

/// `GET /metrics`: the server's figures in Prometheus' text format.
async fn metrics(State(state): State<AppState>) -> Response {
    let metrics = crate::metrics::global();
    match state.service.store().execution_counts().await {
        Ok(counts) => metrics.set_executions(counts.running, counts.parked),
        Err(error) => tracing::warn!("counting executions for /metrics failed: {error}"),
    }
    let mut response = metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

/// A request body that could not be read, usually one past the server's limit.
pub(crate) fn too_large(rejection: &BytesRejection) -> ApiError {
    ApiError::validation(format!("the request body could not be read: {rejection}"))
}
