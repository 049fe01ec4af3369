//! `/functions`: deploying Wasm task functions, which AWS has no API for.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stepwasm_runtime::{FuelBudget, FunctionConfig, FunctionLimits};

use super::AppState;
use super::error::ApiError;
use crate::service::{ErrorKind, ServiceError};

/// `PUT /functions/{name}`: the body is the component; limits come as query parameters
/// (`timeoutMillis`, `fuel`, `memoryMib`, `maxOutputBytes`).
pub(crate) async fn deploy(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let limits = limits_from(&query)?;
    let config = FunctionConfig { limits, read_only_directory: None };
    let runtime = state.service.runtime().clone();
    let functions = state.functions.clone();
    let deployed = tokio::task::spawn_blocking(move || -> Result<Value, ServiceError> {
        let function = runtime
            .register(&name, &body, config.clone())
            .map_err(|error| ServiceError::new(ErrorKind::ValidationException, error.to_string()))?;
        if let Some(functions) = functions {
            functions.save(&name, &body, &config).map_err(ServiceError::internal)?;
        }
        Ok(describe(&name, function.sha256(), &config))
    })
    .await
    .map_err(ServiceError::internal)??;
    Ok((StatusCode::OK, Json(deployed)).into_response())
}

/// `GET /functions`.
pub(crate) async fn list(State(state): State<AppState>) -> Json<Value> {
    let runtime = state.service.runtime();
    let functions: Vec<Value> = runtime
        .function_names()
        .iter()
        .filter_map(|name| runtime.function(name))
        .map(|function| describe(function.name(), function.sha256(), function.config()))
        .collect();
    Json(json!({ "functions": functions }))
}

/// `GET /functions/{name}`.
pub(crate) async fn get(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let function = state.service.runtime().function(&name).ok_or_else(|| not_found(&name))?;
    Ok(Json(describe(function.name(), function.sha256(), function.config())))
}

/// `DELETE /functions/{name}`.
pub(crate) async fn delete(State(state): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    state.service.runtime().unregister(&name).ok_or_else(|| not_found(&name))?;
    if let Some(functions) = &state.functions {
        functions.remove(&name).map_err(ServiceError::internal)?;
    }
    Ok(Json(json!({})))
}

fn not_found(name: &str) -> ApiError {
    ApiError(ServiceError::new(ErrorKind::ResourceNotFound, format!("Function not found: {name}")))
}

fn describe(name: &str, sha256: &str, config: &FunctionConfig) -> Value {
    json!({
        "name": name,
        "sha256": sha256,
        "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
        "limits": config.limits,
    })
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
