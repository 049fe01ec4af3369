//! Local stand-ins for the services the sample pipeline calls: a card processor, an email
//! provider and an SMS gateway, each on its own 127.0.0.1 port and each checking its own API
//! key. `stepwasm demo` starts them and grants each function exactly its provider's origin, so
//! the pipeline makes real outbound requests on a laptop with no account anywhere.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use stepwasm_runtime::Secrets;

/// One running stand-in.
pub(crate) struct StandIn {
    /// The sample function that calls it.
    pub(crate) function: &'static str,
    /// What it stands in for, for the banner.
    pub(crate) service: &'static str,
    /// `http://127.0.0.1:PORT`.
    pub(crate) origin: String,
    /// The variable the function reads the URL from, and the secret holding the key.
    pub(crate) url_setting: &'static str,
    pub(crate) key_secret: &'static str,
    key: String,
    accepted: Arc<AtomicU64>,
}

impl StandIn {
    /// How many requests it accepted.
    pub(crate) fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// The deployment parameters that point the function at this stand-in.
    pub(crate) fn grants(&self) -> [(&'static str, String); 3] {
        [
            ("allowOutbound", self.origin.clone()),
            ("variable", format!("{}={}", self.url_setting, self.origin)),
            ("secret", self.key_secret.to_owned()),
        ]
    }
}

/// What each stand-in serves: (function, service, path, variable, secret).
const SERVICES: &[(&str, &str, &str, &str, &str)] = &[
    ("validate-payment", "card processor", "/authorizations", "PAYMENT_API_URL", "PAYMENT_API_KEY"),
    ("send-email", "email provider", "/emails", "EMAIL_API_URL", "EMAIL_API_KEY"),
    ("send-sms", "SMS gateway", "/sms", "SMS_API_URL", "SMS_API_KEY"),
];

/// Starts the three stand-ins on the current tokio runtime; they serve until it stops.
pub(crate) async fn start() -> Result<Vec<StandIn>> {
    let mut stand_ins = Vec::new();
    for &(function, service, path, url_setting, key_secret) in SERVICES {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.context("binding a stand-in")?;
        let origin = format!("http://{}", listener.local_addr()?);
        let key = format!("demo_{:016x}", std::collections::hash_map::RandomState::new().build_hasher().finish());
        let accepted = Arc::new(AtomicU64::new(0));
        let state = Accepting { expected: format!("Bearer {key}"), accepted: Arc::clone(&accepted), service };
        let app = axum::Router::new().route(path, post(accept)).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        stand_ins.push(StandIn { function, service, origin, url_setting, key_secret, key, accepted });
    }
    Ok(stand_ins)
}

/// The API keys, as the server's secrets.
pub(crate) fn secrets(stand_ins: &[StandIn]) -> Secrets {
    Secrets::new(stand_ins.iter().map(|stand_in| (stand_in.key_secret.to_owned(), stand_in.key.clone())))
}

#[derive(Clone)]
struct Accepting {
    expected: String,
    accepted: Arc<AtomicU64>,
    service: &'static str,
}

/// Accepts a well-formed, authorized request, as the real service would answer it.
async fn accept(
    State(state): State<Accepting>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let authorized = headers.get("authorization").is_some_and(|value| value.as_bytes() == state.expected.as_bytes());
    if !authorized {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "missing or wrong API key"})));
    }
    let Some(idempotency_key) = headers.get("idempotency-key").and_then(|value| value.to_str().ok()) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"message": "an idempotency-key header is required"})));
    };
    state.accepted.fetch_add(1, Ordering::Relaxed);
    let reply = match state.service {
        "card processor" => json!({"authorizationId": body["authorizationId"], "status": "held"}),
        _ => json!({"id": idempotency_key, "status": "queued"}),
    };
    (StatusCode::CREATED, Json(reply))
}
