//! Outbound HTTP: which origins may be reached, and how a request goes out.
//!
//! Guests reach the network only through `wasi:http/outgoing-handler`, and only to the origins
//! their function was deployed with. The engine's HTTP Task (`arn:aws:states:::http:invoke`)
//! goes through [`send`] under the server's own [`AllowList`]. Both check the origin before any
//! DNS lookup or connection, cap the response body, and never follow a redirect on their own:
//! a redirect is a new request, checked again.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::uri::Uri;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

/// A scheme, host and port: what an allow-list grants.
///
/// Written `https://api.example.com` or `http://127.0.0.1:8080`; the port defaults to the
/// scheme's. Hosts compare case-insensitively. A path, query, user or fragment is refused, so
/// that nobody believes a grant is narrower than it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: OriginScheme,
    host: String,
    port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum OriginScheme {
    Http,
    Https,
}

impl OriginScheme {
    fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    fn parse(scheme: &str) -> Option<Self> {
        if scheme.eq_ignore_ascii_case("http") {
            Some(Self::Http)
        } else if scheme.eq_ignore_ascii_case("https") {
            Some(Self::Https)
        } else {
            None
        }
    }
}

/// Why a text is not an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an origin (scheme://host[:port], such as https://api.example.com): {reason}")]
pub struct InvalidOrigin {
    text: String,
    reason: &'static str,
}

impl Origin {
    /// The origin a request URI goes to, if it names one this module can reach.
    pub fn of(uri: &Uri) -> Option<Self> {
        let scheme = OriginScheme::parse(uri.scheme_str()?)?;
        let host = uri.host()?.to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(scheme.default_port());
        Some(Self { scheme, host, port })
    }
}

impl FromStr for Origin {
    type Err = InvalidOrigin;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| InvalidOrigin { text: text.to_owned(), reason };
        let trimmed = text.strip_suffix('/').unwrap_or(text);
        let uri: Uri = trimmed.parse().map_err(|_| invalid("it is not a URL"))?;
        if uri.scheme().is_none() {
            return Err(invalid("it has no scheme"));
        }
        if uri.authority().is_some_and(|authority| authority.as_str().contains('@')) {
            return Err(invalid("an origin has no user name or password"));
        }
        if uri.path_and_query().is_some_and(|path| path.as_str() != "/" && !path.as_str().is_empty()) {
            return Err(invalid("an origin has no path or query"));
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("it has no host"));
        }
        Self::of(&uri).ok_or_else(|| invalid("the scheme must be http or https"))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            OriginScheme::Http => "http",
            OriginScheme::Https => "https",
        };
        if self.port == self.scheme.default_port() {
            write!(f, "{scheme}://{}", self.host)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The origins requests may go to. Empty (the default) grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AllowList {
    origins: Vec<Origin>,
}

impl AllowList {
    /// Grants exactly `origins`.
    pub fn new(origins: impl IntoIterator<Item = Origin>) -> Self {
        let mut origins: Vec<Origin> = origins.into_iter().collect();
        origins.dedup();
        Self { origins }
    }

    /// Whether a request to `uri` may go out.
    pub fn permits(&self, uri: &Uri) -> bool {
        Origin::of(uri).is_some_and(|origin| self.origins.contains(&origin))
    }

    /// The granted origins.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }
}

/// Why an outbound request did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The origin is not on the allow-list; nothing was sent.
    #[error("{origin} is not on the outbound allow-list, so no request was made")]
    NotAllowed {
        /// The origin asked for (or the URL, when it has none).
        origin: String,
    },
    /// No answer within the time given.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// The body is larger than the cap.
    #[error("the response body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The server could not be reached, or the exchange broke off.
    #[error("{0}")]
    Failed(String),
}

/// Sends one request under `allow` and returns the whole response, its body at most
/// `max_body_bytes` long. Used by the engine's HTTP Task; guests go through `wasi:http`.
pub async fn send(
    request: http::Request<Bytes>,
    allow: &AllowList,
    timeout: Duration,
    max_body_bytes: u64,
) -> Result<http::Response<Bytes>, OutboundError> {
    if !allow.permits(request.uri()) {
        return Err(OutboundError::NotAllowed { origin: origin_text(request.uri()) });
    }
    let exchange = async {
        let request =
            request.map(|body| http_body_util::Full::new(body).map_err(|never| match never {}).boxed_unsync());
        let request = with_host_header(request);
        let (response, connection) = wasmtime_wasi_http::default_send_request(request, None)
            .await
            .map_err(|error| OutboundError::Failed(error.to_string()))?;
        // The connection's I/O runs beside the body's reads, as hyper requires.
        let connection = tokio::spawn(connection);
        let (parts, body) = response.into_parts();
        if declared_length(&parts.headers).is_some_and(|length| length > max_body_bytes) {
            connection.abort();
            return Err(OutboundError::TooLarge { limit: max_body_bytes });
        }
        let body = CappedBody::new(body.boxed_unsync(), max_body_bytes).collect().await;
        connection.abort();
        match body {
            Ok(collected) => Ok(http::Response::from_parts(parts, collected.to_bytes())),
            Err(wasmtime_wasi_http::Error::HttpResponseBodySize(_)) => {
                Err(OutboundError::TooLarge { limit: max_body_bytes })
            }
            Err(error) => Err(OutboundError::Failed(error.to_string())),
        }
    };
    tokio::time::timeout(timeout, exchange).await.unwrap_or(Err(OutboundError::Timeout(timeout)))
}

fn origin_text(uri: &Uri) -> String {
    Origin::of(uri).map_or_else(|| uri.to_string(), |origin| origin.to_string())
}

/// HTTP/1.1 needs a Host header; `wasi:http` adds one itself, `send`'s callers need not.
fn with_host_header<B>(mut request: http::Request<B>) -> http::Request<B> {
    if !request.headers().contains_key(http::header::HOST)
        && let Some(authority) = request.uri().authority()
        && let Ok(value) = http::HeaderValue::from_str(authority.as_str())
    {
        request.headers_mut().insert(http::header::HOST, value);
    }
    request
}

fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// What a guest's requests may do: where they may go and how much they may read. One per
/// invocation.
pub(crate) struct GuestHooks {
    pub(crate) allow: std::sync::Arc<AllowList>,
    pub(crate) max_body_bytes: u64,
}

impl WasiHttpHooks for GuestHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<
        dyn Future<
                Output = wasmtime_wasi_http::Result<(
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
                )>,
            > + Send,
    > {
        drop(fut);
        if !self.allow.permits(request.uri()) {
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        // No deadline of its own: the call's deadline stops a request that outlasts it, and
        // reports it as `States.Timeout` like any other overrun.
        let max_body_bytes = self.max_body_bytes;
        Box::new(async move {
            let (response, connection) = wasmtime_wasi_http::default_send_request(request, options).await?;
            let (parts, body) = response.into_parts();
            if declared_length(&parts.headers).is_some_and(|length| length > max_body_bytes) {
                return Err(wasmtime_wasi_http::Error::HttpResponseBodySize(Some(max_body_bytes)));
            }
            let body = CappedBody::new(body.boxed_unsync(), max_body_bytes).boxed_unsync();
            let connection: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send> = Box::new(connection);
            Ok((http::Response::from_parts(parts, body), connection))
        })
    }
}

/// A response body that fails once more than `limit` bytes have come, whatever the headers
/// said (a chunked body declares no length).
struct CappedBody {
    inner: WasiBody,
    limit: u64,
    seen: u64,
}

impl CappedBody {
    fn new(inner: WasiBody, limit: u64) -> Self {
        Self { inner, limit, seen: 0 }
    }
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.seen = self.seen.saturating_add(data.len() as u64);
            if self.seen > self.limit {
                return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpResponseBodySize(Some(self.limit)))));
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_to_scheme_host_and_port() {
        let origin: Origin = "HTTPS://Api.Example.com/".parse().unwrap();
        assert_eq!(origin.to_string(), "https://api.example.com");
        let local: Origin = "http://127.0.0.1:8080".parse().unwrap();
        assert_eq!(local.to_string(), "http://127.0.0.1:8080");
        for bad in ["api.example.com", "ftp://example.com", "https://example.com/v1", "https://u:p@example.com", ""] {
            assert!(bad.parse::<Origin>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn an_allow_list_grants_exact_origins_only() {
        let allow = AllowList::new(["https://api.example.com".parse().unwrap(), "http://127.0.0.1:9".parse().unwrap()]);
        let permits = |url: &str| allow.permits(&url.parse().unwrap());
        assert!(permits("https://api.example.com/v1/charge?x=1"));
        assert!(permits("https://API.example.com:443/"));
        assert!(permits("http://127.0.0.1:9/path"));
        assert!(!permits("http://api.example.com/"), "the scheme is part of the origin");
        assert!(!permits("https://api.example.com:8443/"), "so is the port");
        assert!(!permits("https://evil.example.com/"));
        assert!(!permits("https://api.example.com.evil.net/"));
        assert!(!permits("http://127.0.0.1:10/"));
        assert!(!AllowList::default().permits(&"https://api.example.com/".parse().unwrap()));
    }
}
