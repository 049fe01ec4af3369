//! `/functions`: deploying Wasm task functions, which AWS has no API for.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stepwasm_runtime::{FuelBudget, FunctionConfig, FunctionLimits};

use super::AppState;
use super::error::ApiError;
use crate::service::FunctionDescription;

/// `PUT /functions/{name}`: the body is the component; limits come as query parameters
/// (`timeoutMillis`, `fuel`, `memoryMib`, `maxOutputBytes`). The function is stored, so every
/// node sharing the store runs it.
pub(crate) async fn deploy(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|rejection| super::too_large(&rejection))?;
    let config = FunctionConfig { limits: limits_from(&query)?, read_only_directory: None };
    let deployed = state.service.deploy_function(&name, body.to_vec(), config).await?;
    Ok((StatusCode::OK, Json(describe(&deployed))).into_response())
}

/// `GET /functions`.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let functions: Vec<Value> = state.service.functions().await?.iter().map(describe).collect();
    Ok(Json(json!({ "functions": functions })))
}

/// `GET /functions/{name}`.
pub(crate) async fn get(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(describe(&state.service.function(&name).await?)))
}

/// `DELETE /functions/{name}`.
pub(crate) async fn delete(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    state.service.delete_function(&name).await?;
    Ok(Json(json!({})))
}

fn describe(function: &FunctionDescription) -> Value {
    let mut described = json!({
        "name": function.name,
        "sha256": function.sha256,
        "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{}", function.name),
        "limits": function.config.limits,
    });
    if let Some(deployed) = function.deployed {
        described["deployed"] = json!(super::operations::seconds(deployed));
    }
    described
}

fn limits_from(query: &HashMap<String, String>) -> Result<FunctionLimits, ApiError> {
    let mut limits = FunctionLimits::default();
    let number = |key: &str| -> Result<Option<u64>, ApiError> {
        query
            .get(key)
            .map(|text| {
                text.parse::<u64>()
                    .map_err(|_| ApiError::validation(format!("{key} must be a whole number, got {text:?}")))
            })
            .transpose()
    };
    if let Some(timeout) = number("timeoutMillis")? {
        limits.timeout_millis = timeout;
    }
    if let Some(fuel) = number("fuel")? {
        limits.fuel = if fuel == 0 { FuelBudget::Unlimited } else { FuelBudget::Units(fuel) };
    }
    if let Some(memory) = number("memoryMib")? {
        limits.max_memory_bytes = memory.saturating_mul(1 << 20);
    }
    if let Some(output) = number("maxOutputBytes")? {
        limits.max_output_bytes = output;
    }
    Ok(limits)
}
