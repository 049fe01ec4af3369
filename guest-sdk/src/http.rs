//! A blocking HTTP client over `wasi:http`.
//!
//! A function reaches only the origins it was deployed with (`stepwasm function deploy …
//! --allow-outbound https://api.example.com`); a request anywhere else fails with
//! `Http.OriginNotAllowed` before any connection is made. Requests count against the call's
//! deadline, and response bodies are capped by the host (`Http.ResponseTooLarge`).
//!
//! ```no_run
//! use stepwasm_guest::{TaskError, http};
//!
//! fn charge(order_id: &str) -> Result<serde_json::Value, TaskError> {
//!     let response = http::Request::post("https://payments.example.com/charges")
//!         .header("idempotency-key", order_id)
//!         .json(&serde_json::json!({ "order": order_id }))?
//!         .send()?;
//!     if response.status() == 402 {
//!         return Err(TaskError::new("PaymentDeclined", response.text()));
//!     }
//!     // Any other failure status becomes `Http.StatusCode.NNN`, which Retry and Catch match.
//!     response.error_for_status()?.json()
//! }
//! ```
//!
//! An [`HttpError`] converts into a [`TaskError`] of the same name, so `?` hands it to the
//! workflow:
//!
//! | name | when |
//! |---|---|
//! | `Http.OriginNotAllowed` | the origin is not one the function may reach |
//! | `Http.Timeout` | connecting or waiting for the answer took too long |
//! | `Http.ConnectionFailed` | the host name did not resolve, or the connection or TLS failed |
//! | `Http.ResponseTooLarge` | the body is larger than the function's limit |
//! | `Http.TooManyRedirects` | more than five redirects |
//! | `Http.InvalidRequest` | the URL, a header or the body could not be sent as given |
//! | `Http.StatusCode.NNN` | [`Response::error_for_status`] on a 4xx or 5xx answer |
//! | `Http.Error` | anything else; the cause says what |

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::TaskError;

/// Redirects followed before giving up, as browsers and curl bound them.
const MAX_REDIRECTS: usize = 5;

/// A request that failed before a complete response arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// The name a workflow's Retry and Catch match, such as `Http.Timeout`.
    pub error: String,
    /// What happened, with the URL.
    pub cause: String,
}

impl HttpError {
    fn new(error: &str, cause: impl Into<String>) -> Self {
        Self { error: error.to_owned(), cause: cause.into() }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for TaskError {
    fn from(error: HttpError) -> Self {
        TaskError::new(error.error, error.cause)
    }
}

/// An HTTP request, built up and then sent with [`Request::send`].
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    follow_redirects: bool,
}

impl Request {
    /// A request with any method.
    pub fn new(method: &str, url: &str) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            follow_redirects: true,
        }
    }

    /// A GET request.
    pub fn get(url: &str) -> Self {
        Self::new("GET", url)
    }

    /// A POST request.
    pub fn post(url: &str) -> Self {
        Self::new("POST", url)
    }

    /// A PUT request.
    pub fn put(url: &str) -> Self {
        Self::new("PUT", url)
    }

    /// A DELETE request.
    pub fn delete(url: &str) -> Self {
        Self::new("DELETE", url)
    }

    /// Adds a header (a name may repeat).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and its content type.
    pub fn json(mut self, body: &impl Serialize) -> Result<Self, HttpError> {
        self.body = serde_json::to_vec(body).map_err(|err| HttpError::new("Http.InvalidRequest", err.to_string()))?;
        self.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        self.headers.push(("content-type".to_owned(), "application/json".to_owned()));
        Ok(self)
    }

    /// Returns a 3xx answer as it is instead of following it.
    pub fn no_redirects(mut self) -> Self {
        self.follow_redirects = false;
        self
    }

    /// Sends the request and reads the whole response, following up to five redirects (each
    /// one a new request, which the host checks against the allow-list).
    pub fn send(self) -> Result<Response, HttpError> {
        let mut request = self;
        for _ in 0..=MAX_REDIRECTS {
            let response = transport::send(&request)?;
            let location = response.header("location").map(str::to_owned);
            let redirected = matches!(response.status, 301 | 302 | 303 | 307 | 308);
            match location {
                Some(location) if redirected && request.follow_redirects => {
                    request.url = resolve(&request.url, &location);
                    // As browsers do: a 303, or a 301/302 after a POST, repeats as a GET.
                    if response.status == 303 || (matches!(response.status, 301 | 302) && request.method == "POST") {
                        request.method = "GET".to_owned();
                        request.body.clear();
                        request.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
                    }
                }
                _ => return Ok(response),
            }
        }
        Err(HttpError::new(
            "Http.TooManyRedirects",
            format!("more than {MAX_REDIRECTS} redirects from {}", request.url),
        ))
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    url: String,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// All headers, in the order received.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; a body that does not fit `T` fails with `Http.InvalidResponse`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, TaskError> {
        serde_json::from_slice(&self.body)
            .map_err(|err| TaskError::new("Http.InvalidResponse", format!("{} answered {err}", self.url)))
    }

    /// `self` for a 1xx–3xx status; a 4xx or 5xx fails as `Http.StatusCode.NNN` with the body as
    /// cause, the names the engine's own HTTP Task uses under `States.`.
    pub fn error_for_status(self) -> Result<Self, TaskError> {
        if self.status < 400 {
            return Ok(self);
        }
        Err(TaskError::new(format!("Http.StatusCode.{}", self.status), self.text()))
    }
}

/// The URL a `Location` header points to, relative to `base`.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let Some((scheme, rest)) = base.split_once("://") else { return location.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    if let Some(network_path) = location.strip_prefix("//") {
        return format!("{scheme}://{network_path}");
    }
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let directory = path.rsplit_once('/').map_or("", |(directory, _)| directory);
    format!("{scheme}://{authority}{directory}/{location}")
}

/// The URL's scheme, authority and path with query, as `wasi:http` takes them.
#[cfg_attr(not(target_family = "wasm"), allow(dead_code, reason = "natively nothing is sent"))]
fn split_url(url: &str) -> Result<(&str, &str, &str), HttpError> {
    let invalid = || HttpError::new("Http.InvalidRequest", format!("{url:?} is not an http or https URL"));
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(invalid());
    }
    let rest = rest.split('#').next().unwrap_or(rest);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    if authority.is_empty() {
        return Err(invalid());
    }
    Ok((scheme, authority, if path.is_empty() { "/" } else { path }))
}

#[cfg(target_family = "wasm")]
mod transport {
    use super::{HttpError, Request, Response, split_url};
    use crate::bindings::wasi::http::outgoing_handler;
    use crate::bindings::wasi::http::types::{
        ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme,
    };
    use crate::bindings::wasi::io::streams::StreamError;

    /// What one write may hand the host; `blocking-write-and-flush` takes at most 4096 bytes.
    const WRITE_CHUNK: usize = 4096;
    const READ_CHUNK: u64 = 64 * 1024;

    pub(super) fn send(request: &Request) -> Result<Response, HttpError> {
        let (scheme, authority, path) = split_url(&request.url)?;
        let invalid = |what: String| HttpError::new("Http.InvalidRequest", what);
        let headers = Fields::new();
        for (name, value) in &request.headers {
            headers
                .append(name, value.as_bytes())
                .map_err(|err| invalid(format!("the header {name:?} cannot be sent: {err:?}")))?;
        }
        // A declared length suits more servers than a chunked body, and the body is all here.
        let has_body = !request.body.is_empty() || matches!(request.method.as_str(), "POST" | "PUT" | "PATCH");
        if has_body && !request.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-length")) {
            headers
                .append("content-length", request.body.len().to_string().as_bytes())
                .map_err(|err| invalid(format!("the content length cannot be sent: {err:?}")))?;
        }
        let outgoing = OutgoingRequest::new(headers);
        let method = match request.method.as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_owned()),
        };
        let scheme = if scheme.eq_ignore_ascii_case("https") { Scheme::Https } else { Scheme::Http };
        outgoing.set_method(&method).map_err(|()| invalid(format!("the method {:?} is not valid", request.method)))?;
        outgoing.set_scheme(Some(&scheme)).map_err(|()| invalid("the scheme is not valid".to_owned()))?;
        outgoing.set_authority(Some(authority)).map_err(|()| invalid(format!("{authority:?} is not a host")))?;
        outgoing.set_path_with_query(Some(path)).map_err(|()| invalid(format!("{path:?} is not a path")))?;
        let body = outgoing.body().map_err(|()| invalid("the request body was already taken".to_owned()))?;
        let pending = outgoing_handler::handle(outgoing, None).map_err(|code| failure(&request.url, &code))?;
        write_body(body, &request.body).map_err(|cause| HttpError::new("Http.Error", cause))?;

        pending.subscribe().block();
        let incoming = match pending.get() {
            Some(Ok(Ok(incoming))) => incoming,
            Some(Ok(Err(code))) => return Err(failure(&request.url, &code)),
            Some(Err(())) | None => return Err(HttpError::new("Http.Error", "the response was already taken")),
        };
        let status = incoming.status();
        let headers = incoming
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let body = incoming.consume().map_err(|()| HttpError::new("Http.Error", "the body was already taken"))?;
        let body = read_body(body).map_err(|code| failure(&request.url, &code))?;
        Ok(Response { status, headers, body, url: request.url.clone() })
    }

    fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), String> {
        {
            let stream = body.write().map_err(|()| "the request body stream was already taken".to_owned())?;
            for chunk in bytes.chunks(WRITE_CHUNK) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(|err| format!("the request body could not be sent: {err:?}"))?;
            }
        }
        OutgoingBody::finish(body, None).map_err(|code| format!("the request could not be finished: {code:?}"))
    }

    fn read_body(body: IncomingBody) -> Result<Vec<u8>, ErrorCode> {
        let mut bytes = Vec::new();
        {
            let stream = body.stream().map_err(|()| ErrorCode::InternalError(Some("body stream taken".into())))?;
            loop {
                match stream.blocking_read(READ_CHUNK) {
                    Ok(chunk) => bytes.extend_from_slice(&chunk),
                    Err(StreamError::Closed) => break,
                    Err(StreamError::LastOperationFailed(error)) => {
                        if let Some(code) = crate::bindings::wasi::http::types::http_error_code(&error) {
                            return Err(code);
                        }
                        // wasmtime 48 hands a capped body's error over untyped; its text is all
                        // there is to go on.
                        let text = error.to_debug_string();
                        let first_line = text.lines().next().unwrap_or_default().to_owned();
                        if first_line.contains("body size exceeds limit") {
                            return Err(ErrorCode::HttpResponseBodySize(None));
                        }
                        return Err(ErrorCode::InternalError(Some(first_line)));
                    }
                }
            }
        }
        drop(IncomingBody::finish(body));
        Ok(bytes)
    }

    fn failure(url: &str, code: &ErrorCode) -> HttpError {
        let name = match code {
            ErrorCode::HttpRequestDenied => "Http.OriginNotAllowed",
            ErrorCode::HttpResponseBodySize(_) => "Http.ResponseTooLarge",
            ErrorCode::DnsTimeout
            | ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout
            | ErrorCode::HttpResponseTimeout => "Http.Timeout",
            ErrorCode::DnsError(_)
            | ErrorCode::DestinationNotFound
            | ErrorCode::DestinationUnavailable
            | ErrorCode::DestinationIpProhibited
            | ErrorCode::DestinationIpUnroutable
            | ErrorCode::ConnectionRefused
            | ErrorCode::ConnectionTerminated
            | ErrorCode::TlsProtocolError
            | ErrorCode::TlsCertificateError
            | ErrorCode::TlsAlertReceived(_) => "Http.ConnectionFailed",
            ErrorCode::HttpRequestMethodInvalid
            | ErrorCode::HttpRequestUriInvalid
            | ErrorCode::HttpRequestUriTooLong
            | ErrorCode::HttpRequestHeaderSize(_)
            | ErrorCode::HttpRequestHeaderSectionSize(_)
            | ErrorCode::HttpRequestBodySize(_) => "Http.InvalidRequest",
            _ => "Http.Error",
        };
        let cause = match code {
            ErrorCode::HttpRequestDenied => {
                format!("{url}: this function may not reach that origin; deploy it with --allow-outbound to grant it")
            }
            other => format!("{url}: {other:?}"),
        };
        HttpError::new(name, cause)
    }
}

/// Outside Wasm (a handler's native unit tests) there is no host to send through.
#[cfg(not(target_family = "wasm"))]
mod transport {
    use super::{HttpError, Request, Response};

    pub(super) fn send(request: &Request) -> Result<Response, HttpError> {
        Err(HttpError::new(
            "Http.Unavailable",
            format!("{}: outbound HTTP needs the stepwasm host; unit tests should not reach the network", request.url),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_what_wasi_http_takes() {
        assert_eq!(split_url("https://api.example.com").unwrap(), ("https", "api.example.com", "/"));
        assert_eq!(
            split_url("http://127.0.0.1:8080/v1/charge?x=1#frag").unwrap(),
            ("http", "127.0.0.1:8080", "/v1/charge?x=1")
        );
        assert_eq!(split_url("https://h?q=1").unwrap(), ("https", "h", "?q=1"));
        for bad in ["api.example.com/x", "ftp://h/", "https:///path"] {
            assert_eq!(split_url(bad).unwrap_err().error, "Http.InvalidRequest", "{bad}");
        }
    }

    #[test]
    fn redirect_locations_resolve_against_the_request() {
        let base = "https://a.example/v1/orders/7?x=1";
        assert_eq!(resolve(base, "https://b.example/y"), "https://b.example/y");
        assert_eq!(resolve(base, "/login"), "https://a.example/login");
        assert_eq!(resolve(base, "8"), "https://a.example/v1/orders/8");
        assert_eq!(resolve(base, "//c.example/z"), "https://c.example/z");
    }

    #[test]
    fn a_failure_status_is_named_for_catch() {
        let response = Response { status: 503, headers: vec![], body: b"down".to_vec(), url: "u".into() };
        let error = response.error_for_status().unwrap_err();
        assert_eq!((error.error.as_str(), error.cause.as_str()), ("Http.StatusCode.503", "down"));
        let found = Response {
            status: 200,
            headers: vec![("Content-Type".into(), "a/b".into())],
            body: vec![],
            url: "u".into(),
        };
        assert_eq!(found.header("content-type"), Some("a/b"));
    }

    #[test]
    fn natively_there_is_no_network() {
        assert_eq!(Request::get("https://example.com").send().unwrap_err().error, "Http.Unavailable");
    }
}
