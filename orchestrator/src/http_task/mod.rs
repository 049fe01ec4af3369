//! The HTTP Task: `arn:aws:states:::http:invoke`, which calls an HTTPS API without a function.
//!
//! The state's arguments are AWS's: `ApiEndpoint`, `Method`, `Authentication.ConnectionArn`,
//! and optionally `Headers`, `QueryParameters`, `RequestBody` and `Transform`
//! (`RequestBodyEncoding: URL_ENCODED` with `RequestEncodingOptions.ArrayFormat`). The result
//! is AWS's too: `{"Headers": {name: [values]}, "ResponseBody", "StatusCode", "StatusText"}`,
//! the body parsed when it is JSON. A status of 400 or more fails the task with
//! `States.Http.StatusCode.NNN` and that result, as JSON, for cause.
//!
//! Every request goes out only to an origin on the server's outbound allow-list
//! (`serve --allow-outbound`); any other fails the task with `States.Http.OriginNotAllowed`
//! before any connection. A request with no answer in time (the Task's `TimeoutSeconds`, at
//! most 60 s, as on AWS) or no connection fails with `States.Http.Socket`.

mod connections;
mod request;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Value, json};
use stepwasm_asl::TaskResource;
use stepwasm_runtime::outbound::{self, OutboundError};
use stepwasm_runtime::{AllowList, Masker};

pub use connections::{Authorization, Connection, Connections, connection_name};

use crate::engine::{BoxFuture, InvocationRecord, TaskCall, TaskInvoker, TaskOutcome};

/// AWS stops an HTTP Task's request after 60 seconds.
pub const MAX_REQUEST_TIME: Duration = Duration::from_secs(60);

/// What HTTP Tasks may do on this server.
#[derive(Debug, Clone)]
pub struct HttpTaskConfig {
    /// The origins requests may go to (the token endpoints of OAuth connections included).
    pub allow: AllowList,
    /// The connections `Authentication.ConnectionArn` can name.
    pub connections: Connections,
    /// The largest response body read. Default 8 MiB; a state's output is held to 256 KiB
    /// after that anyway.
    pub max_response_bytes: u64,
}

impl Default for HttpTaskConfig {
    fn default() -> Self {
        Self { allow: AllowList::default(), connections: Connections::default(), max_response_bytes: 8 << 20 }
    }
}

/// Runs HTTP Tasks; every other task goes to `inner`.
pub struct HttpTasks {
    inner: Arc<dyn TaskInvoker>,
    config: HttpTaskConfig,
}

impl HttpTasks {
    /// HTTP Tasks under `config`, everything else through `inner`.
    pub fn new(inner: Arc<dyn TaskInvoker>, config: HttpTaskConfig) -> Self {
        Self { inner, config }
    }
}

/// Whether `resource` is the HTTP Task's.
pub fn is_http_invoke(resource: &TaskResource) -> bool {
    let TaskResource::Other(arn) = resource else { return false };
    matches!(arn.split(':').collect::<Vec<_>>().as_slice(), ["arn", partition, "states", "", "", "http", "invoke"] if partition.starts_with("aws"))
}

impl TaskInvoker for HttpTasks {
    fn invoke(&self, call: TaskCall) -> BoxFuture<'_, (TaskOutcome, Option<InvocationRecord>)> {
        if !is_http_invoke(&call.resource) {
            return self.inner.invoke(call);
        }
        Box::pin(async move {
            let started = Instant::now();
            let timeout = call.timeout.map_or(MAX_REQUEST_TIME, |timeout| timeout.min(MAX_REQUEST_TIME));
            let mut exchange = None;
            let outcome = match self.call(&call.payload, timeout, &mut exchange).await {
                Ok(outcome) | Err(outcome) => outcome,
            };
            crate::metrics::global().task_invoked(
                "http:invoke",
                crate::engine::tasks::outcome_label(&outcome),
                started.elapsed(),
                0,
            );
            (outcome, Some(InvocationRecord::without_function(&call, started, exchange)))
        })
    }
}

impl HttpTasks {
    /// Runs the task; `exchange` gets what was sent and read, for TestState.
    async fn call(
        &self,
        arguments: &Value,
        timeout: Duration,
        exchange: &mut Option<Value>,
    ) -> Result<TaskOutcome, TaskOutcome> {
        let invocation = request::HttpInvocation::parse(arguments).map_err(invalid)?;
        let connection = self.config.connections.find(&invocation.connection_arn).ok_or_else(|| {
            failed(
                "States.Http.ConnectionNotFound",
                format!(
                    "No connection named {:?} is configured on this server (from {}); configured: {:?}",
                    connection_name(&invocation.connection_arn).unwrap_or_default(),
                    invocation.connection_arn,
                    self.config.connections.names()
                ),
            )
        })?;
        let deadline = Instant::now() + timeout;
        let (request, response, credential) = match self.send_authorized(&invocation, connection, deadline).await {
            Ok(sent) => sent,
            Err(outcome) => return Err(mask_outcome(outcome, &Masker::new(connection.secret_values()))),
        };
        // An API that echoes what it was sent must not put a credential into the history.
        let masker = Masker::new(connection.secret_values().into_iter().chain(credential));
        *exchange = Some(request::exchange_of(&request, &response, &masker));
        let result = request::result_of(&response);
        let status = response.status().as_u16();
        if status >= 400 {
            let cause = masker.mask(&result.to_string());
            return Err(failed(&format!("States.Http.StatusCode.{status}"), cause));
        }
        let mut result = result;
        masker.mask_json(&mut result);
        Ok(TaskOutcome::Succeeded(result))
    }

    /// Sends the request with the connection's authorization, and says which credential went
    /// with it. An OAuth token the API refuses is fetched again once, since it may have been
    /// revoked before it expired.
    async fn send_authorized(
        &self,
        invocation: &request::HttpInvocation,
        connection: &Connection,
        deadline: Instant,
    ) -> Result<(http::Request<Bytes>, http::Response<Bytes>, Option<String>), TaskOutcome> {
        let oauth = matches!(connection.authorization, Authorization::OAuthClientCredentials { .. });
        for attempt in 0..2 {
            let authorization = self.authorization(connection, deadline).await?;
            let request = invocation.build(connection, authorization.as_deref()).map_err(invalid)?;
            let response = self.send(request.clone(), deadline).await?;
            if oauth && attempt == 0 && response.status() == http::StatusCode::UNAUTHORIZED {
                connection.forget_token();
                continue;
            }
            // `Basic XYZ` or `Bearer XYZ`: XYZ is the credential.
            let credential =
                authorization.and_then(|value| value.split_once(' ').map(|(_, credential)| credential.to_owned()));
            return Ok((request, response, credential));
        }
        unreachable!("the loop returns on its second turn")
    }

    /// The `Authorization` header's value, if the connection has one.
    async fn authorization(&self, connection: &Connection, deadline: Instant) -> Result<Option<String>, TaskOutcome> {
        match &connection.authorization {
            Authorization::ApiKey { .. } => Ok(None),
            Authorization::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
                Ok(Some(format!("Basic {encoded}")))
            }
            Authorization::OAuthClientCredentials { endpoint, method, client_id, client_secret, parameters } => {
                if let Some(token) = connection.cached_token() {
                    return Ok(Some(format!("Bearer {token}")));
                }
                let form = token_form(client_id, parameters);
                let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}"));
                let (uri, body) = if method.eq_ignore_ascii_case("GET") {
                    let separator = if endpoint.contains('?') { '&' } else { '?' };
                    (format!("{endpoint}{separator}{form}"), Bytes::new())
                } else {
                    (endpoint.clone(), Bytes::from(form))
                };
                let request = http::Request::builder()
                    .method(method.to_ascii_uppercase().as_str())
                    .uri(uri)
                    .header(http::header::AUTHORIZATION, format!("Basic {basic}"))
                    .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(http::header::ACCEPT, "application/json")
                    .body(body)
                    .map_err(|error| {
                        invalid(format!("The OAuth endpoint of connection {} is not usable: {error}", connection.name))
                    })?;
                let response = self.send(request, deadline).await?;
                let token: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
                let Some(access_token) =
                    token.get("access_token").and_then(Value::as_str).filter(|_| response.status().is_success())
                else {
                    return Err(failed(
                        "States.Http.AuthorizationFailed",
                        format!(
                            "The OAuth endpoint of connection {} answered {} without an access_token",
                            connection.name,
                            response.status()
                        ),
                    ));
                };
                let valid_for = Duration::from_secs(token.get("expires_in").and_then(Value::as_u64).unwrap_or(3600));
                connection.keep_token(access_token.to_owned(), valid_for);
                Ok(Some(format!("Bearer {access_token}")))
            }
        }
    }

    async fn send(
        &self,
        request: http::Request<Bytes>,
        deadline: Instant,
    ) -> Result<http::Response<Bytes>, TaskOutcome> {
        send(&self.config, request, deadline).await
    }
}

/// Sends `request` under `config`'s allow-list and body cap, answering by `deadline`; a request
/// that cannot be made fails the way an HTTP Task fails.
pub(crate) async fn send(
    config: &HttpTaskConfig,
    request: http::Request<Bytes>,
    deadline: Instant,
) -> Result<http::Response<Bytes>, TaskOutcome> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let url = request.uri().to_string();
    outbound::send(request, &config.allow, remaining, config.max_response_bytes).await.map_err(|error| match error {
        OutboundError::NotAllowed { origin } => failed(
            "States.Http.OriginNotAllowed",
            format!(
                "{origin} is not on this server's outbound allow-list (serve --allow-outbound), so {url} was not called"
            ),
        ),
        OutboundError::TooLarge { limit } => failed(
            stepwasm_asl::names::DATA_LIMIT_EXCEEDED,
            format!("The response of {url} is larger than {limit} bytes"),
        ),
        OutboundError::Timeout(after) => {
            failed("States.Http.Socket", format!("{url} did not answer within {:.1} s", after.as_secs_f64()))
        }
        OutboundError::Failed(reason) => failed("States.Http.Socket", format!("{url}: {reason}")),
    })
}

fn token_form(client_id: &str, parameters: &[(String, String)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    form.append_pair("client_id", client_id);
    for (key, value) in parameters {
        form.append_pair(key, value);
    }
    form.finish()
}

fn failed(error: &str, cause: impl Into<String>) -> TaskOutcome {
    TaskOutcome::Failed { error: error.to_owned(), cause: Some(cause.into()) }
}

/// The definition asked for something that cannot be sent; AWS fails such a task at run time
/// with `States.Runtime`.
fn invalid(cause: String) -> TaskOutcome {
    failed(stepwasm_asl::names::RUNTIME, cause)
}

fn mask_outcome(outcome: TaskOutcome, masker: &Masker) -> TaskOutcome {
    match outcome {
        TaskOutcome::Failed { error, cause } => {
            TaskOutcome::Failed { error, cause: cause.map(|cause| masker.mask(&cause)) }
        }
        other => other,
    }
}

/// A result's headers as AWS shows them: each name (lower case) with its values.
fn headers_of(response: &http::Response<Bytes>) -> Value {
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let values = headers.entry(name.as_str().to_owned()).or_insert_with(|| json!([]));
        if let Value::Array(values) = values {
            values.push(Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()));
        }
    }
    Value::Object(headers)
}
