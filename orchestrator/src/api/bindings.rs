//! `/bindings`: what the service integrations of definitions run here, which AWS has no API
//! for. `PUT /bindings/sns:publish` with `{"function": "publish"}` or `{"url": "https://…"}`
//! (see [`crate::bindings::Binding`]); the integration may also be given as a resource that
//! calls it, percent-encoded.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use crate::bindings::{Binding, Source};
use crate::service::BindingDescription;

/// `PUT /bindings/{integration}`.
pub(crate) async fn put(
    State(state): State<AppState>,
    Path(integration): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|rejection| super::too_large(&rejection))?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::validation("The binding must be JSON text"))?;
    let binding = Binding::from_json(text).map_err(|error| ApiError::validation(error.0))?;
    Ok(Json(describe(&state.service.put_binding(&integration, binding).await?)))
}

/// `GET /bindings`.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let bindings: Vec<Value> = state.service.bindings().await?.iter().map(describe).collect();
    Ok(Json(json!({ "bindings": bindings })))
}

/// `GET /bindings/{integration}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(integration): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(describe(&state.service.binding(&integration).await?)))
}

/// `DELETE /bindings/{integration}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(integration): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.service.delete_binding(&integration).await?;
    Ok(Json(json!({})))
}

fn describe(found: &BindingDescription) -> Value {
    let mut described = found.binding.to_value();
    described["integration"] = json!(found.integration);
    described["source"] = json!(match found.source {
        Source::Configuration => "configuration",
        Source::Api => "api",
    });
    if let Some(updated) = found.updated {
        described["updated"] = json!(super::operations::seconds(updated));
    }
    described
}
