//! `/functions`: deploying Wasm task functions, which AWS has no API for.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stepwasm_runtime::{AllowList, FuelBudget, FunctionConfig, FunctionLimits, Origin, TcpAllowList, TcpEndpoint};

use super::AppState;
use super::error::ApiError;
use crate::service::FunctionDescription;

/// `PUT /functions/{name}`: the body is the component; limits come as query parameters
/// (`timeoutMillis`, `fuel`, `memoryMib`, `maxOutputBytes`, `maxHttpResponseBytes`), and so do
/// the grants, each repeatable: `allowOutbound=ORIGIN`, `allowTcp=HOST:PORT`,
/// `variable=NAME=VALUE` and `secret=NAME`. The function is stored, so every node sharing the store runs it.
pub(crate) async fn deploy(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|rejection| super::too_large(&rejection))?;
    let config = config_from(&pairs)?;
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
        "allowedOutbound": function.config.allowed_outbound,
        "allowedTcp": function.config.allowed_tcp,
        "variables": function.config.variables,
        // Names only: a secret's value never leaves the server.
        "secrets": function.config.secrets,
    });
    if let Some(deployed) = function.deployed {
        described["deployed"] = json!(super::operations::seconds(deployed));
    }
    described
}

fn config_from(pairs: &[(String, String)]) -> Result<FunctionConfig, ApiError> {
    let mut single = HashMap::new();
    let mut origins = Vec::new();
    let mut endpoints = Vec::new();
    let mut variables = BTreeMap::new();
    let mut secrets = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "allowOutbound" => {
                origins.push(
                    value.parse::<Origin>().map_err(|error| ApiError::validation(format!("allowOutbound: {error}")))?,
                );
            }
            "allowTcp" => {
                endpoints.push(
                    value.parse::<TcpEndpoint>().map_err(|error| ApiError::validation(format!("allowTcp: {error}")))?,
                );
            }
            "variable" => {
                let Some((name, value)) = value.split_once('=').filter(|(name, _)| !name.is_empty()) else {
                    return Err(ApiError::validation(format!("variable must be NAME=VALUE, got {value:?}")));
                };
                variables.insert(name.to_owned(), value.to_owned());
            }
            "secret" if !value.is_empty() => secrets.push(value.clone()),
            "secret" => return Err(ApiError::validation("secret must name a server secret")),
            "timeoutMillis" | "fuel" | "memoryMib" | "maxOutputBytes" | "maxHttpResponseBytes" => {
                single.insert(key.clone(), value.clone());
            }
            other => return Err(ApiError::validation(format!("unknown deployment parameter {other:?}"))),
        }
    }
    secrets.sort();
    secrets.dedup();
    Ok(FunctionConfig {
        limits: limits_from(&single)?,
        read_only_directory: None,
        allowed_outbound: AllowList::new(origins),
        allowed_tcp: TcpAllowList::new(endpoints),
        variables,
        secrets,
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
    if let Some(response) = number("maxHttpResponseBytes")? {
        limits.max_http_response_bytes = response;
    }
    Ok(limits)
}
