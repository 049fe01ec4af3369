//! Who may call the API: every request is checked against the server's access keys, signed with
//! SigV4 by an AWS client or carrying the console's session cookie. A server without keys is
//! open, which `stepwasm serve` allows on loopback only.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stepwasm_asl::Timestamp;

use super::AppState;
use crate::access::{self, AccessKeys, Refusal, Session, SignedRequest};

/// The console's session cookie.
const COOKIE: &str = "stepwasm_session";

/// The largest body read for checking a signature: a component's upload.
const MAX_SIGNED_BODY: usize = 64 << 20;

/// What needs no credentials: the console's own files, and signing in.
fn is_public(method: &Method, path: &str) -> bool {
    match path.strip_prefix("/console") {
        Some("" | "/") => method == Method::GET,
        Some(rest) if rest.starts_with("/api/") => rest == "/api/session",
        Some(_) => method == Method::GET,
        None => false,
    }
}

pub(crate) fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(millis)
}

/// Lets a request through when the server is open, when it is public, or when it carries a
/// valid session or SigV4 signature; otherwise answers as AWS does.
pub(crate) async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let keys = state.service.access_keys();
    if keys.is_empty() || is_public(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let now = now();
    if session_of(request.headers(), keys, now).is_some() || scraper_of(request.uri().path(), request.headers(), keys) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_SIGNED_BODY).await else {
        return refuse(&Refusal::Malformed("the request body could not be read".to_owned()));
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &headers,
        body: &bytes,
    };
    match access::verify(&signed, keys, now) {
        Ok(_) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(refusal) => refuse(&refusal),
    }
}

/// Marks a response as a refusal here, for the request metrics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused;

fn refuse(refusal: &Refusal) -> Response {
    let status = if *refusal == Refusal::Missing { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST };
    let body =
        json!({"__type": format!("com.amazon.coral.service#{}", refusal.error_type()), "message": refusal.message()});
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
    response.extensions_mut().insert(Refused);
    response
}

fn session_of(headers: &HeaderMap, keys: &AccessKeys, now: Timestamp) -> Option<String> {
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|value| value.to_str().ok());
    let token = cookies
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, token)| token.to_owned())?;
    Session::verify(keys, &token, now)
}

/// Whether a `/metrics` scrape carries an access key and its secret as HTTP basic credentials,
/// which is how Prometheus authenticates (`basic_auth` in its scrape configuration).
fn scraper_of(path: &str, headers: &HeaderMap, keys: &AccessKeys) -> bool {
    use base64::Engine as _;
    if path != "/metrics" {
        return false;
    }
    let Some(encoded) =
        headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()?.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else { return false };
    let Ok(decoded) = String::from_utf8(decoded) else { return false };
    decoded
        .split_once(':')
        .is_some_and(|(id, secret)| keys.secret(id).is_some_and(|known| constant_time_eq(known, secret)))
}

/// `GET /console/api/session`: whether the console must sign in, and whether it has.
pub(crate) async fn describe(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let keys = state.service.access_keys();
    let signed_in = session_of(&headers, keys, now());
    Json(
        json!({"required": !keys.is_empty(), "signedIn": keys.is_empty() || signed_in.is_some(), "accessKeyId": signed_in}),
    )
}

/// `POST /console/api/session`: signs in with an access key and its secret, or with a session
/// token the server printed; the session is an HttpOnly, same-site cookie.
pub(crate) async fn sign_in(State(state): State<AppState>, body: Bytes) -> Response {
    let keys = state.service.access_keys();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let now = now();
    let expires = now.add_millis(Session::LIFETIME_MILLIS);
    let token = match (request["accessKeyId"].as_str(), request["secretAccessKey"].as_str(), request["token"].as_str())
    {
        (_, _, Some(token)) => Session::verify(keys, token, now).map(|_| token.to_owned()),
        (Some(id), Some(secret), _) if keys.secret(id).is_some_and(|known| constant_time_eq(known, secret)) => {
            Session::issue(keys, id, expires)
        }
        _ => None,
    };
    let Some(token) = token else {
        return refuse(&Refusal::UnknownKey);
    };
    let cookie =
        format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", Session::LIFETIME_MILLIS / 1000);
    let mut response = Json(json!({"signedIn": true})).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `DELETE /console/api/session`: signs out.
pub(crate) async fn sign_out() -> Response {
    let mut response = Json(json!({"signedIn": false})).into_response();
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// A session token for the first key, for the sign-in link a server prints.
pub fn sign_in_token(keys: &AccessKeys) -> Option<String> {
    let (id, _) = keys.first()?;
    Session::issue(keys, id, now().add_millis(Session::LIFETIME_MILLIS))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |differ, (x, y)| differ | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_consoles_files_and_sign_in_are_public() {
        assert!(is_public(&Method::GET, "/console/"));
        assert!(is_public(&Method::GET, "/console/js/main.js"));
        assert!(is_public(&Method::POST, "/console/api/session"));
        assert!(!is_public(&Method::GET, "/console/api/executions/x/progress"));
        assert!(!is_public(&Method::POST, "/"));
        assert!(!is_public(&Method::PUT, "/functions/echo"));
        assert!(!is_public(&Method::GET, "/functions"));
    }
}
