//! A small client for a running stepwasm server: AWS operations and `/functions`.

use serde_json::{Value, json};

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached, or answered with something that is not JSON.
    #[error("{0}")]
    Transport(String),
    /// The server answered with an AWS error.
    #[error("{code}: {message}")]
    Aws {
        /// The error name, such as `ExecutionDoesNotExist`.
        code: String,
        /// AWS's message.
        message: String,
    },
}

/// Talks to one stepwasm server over plain HTTP, signing its requests (SigV4) when it has
/// credentials.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: String,
    agent: ureq::Agent,
    credentials: Option<Credentials>,
}

#[derive(Clone)]
struct Credentials {
    access_key_id: String,
    secret: String,
    region: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `endpoint`, such as `http://127.0.0.1:8083`, with the
    /// credentials AWS's tools read: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`). Without them it does not sign, which a server
    /// without access keys accepts.
    pub fn new(endpoint: &str) -> Self {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let credentials = match (variable("AWS_ACCESS_KEY_ID"), variable("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret)) => {
                let region = variable("AWS_REGION")
                    .or_else(|| variable("AWS_DEFAULT_REGION"))
                    .unwrap_or_else(|| "us-east-1".into());
                Some(Credentials { access_key_id, secret, region })
            }
            _ => None,
        };
        Self { endpoint: endpoint.trim_end_matches('/').to_owned(), agent, credentials }
    }

    /// The same client, signing with this access key.
    pub fn with_credentials(mut self, access_key_id: &str, secret_access_key: &str) -> Self {
        self.credentials = Some(Credentials {
            access_key_id: access_key_id.to_owned(),
            secret: secret_access_key.to_owned(),
            region: "us-east-1".to_owned(),
        });
        self
    }

    /// Sends one request, signed when the client has credentials.
    fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(bool, Value), ClientError> {
        let url = format!("{}{path_and_query}", self.endpoint);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(credentials) = &self.credentials {
            let uri: ureq::http::Uri =
                url.parse().map_err(|error| ClientError::Transport(format!("{url}: {error}")))?;
            let host = uri.authority().map(|authority| authority.as_str().to_owned()).unwrap_or_default();
            let mut signed: Vec<(String, String)> = vec![("host".to_owned(), host)];
            signed.extend(headers.iter().map(|(name, value)| (name.to_ascii_lowercase(), (*value).to_owned())));
            let to_sign = crate::access::SignedRequest {
                method,
                path: uri.path(),
                query: uri.query().unwrap_or_default(),
                headers: &signed,
                body,
            };
            let now = crate::api::now();
            for (name, value) in crate::access::sign(
                &to_sign,
                &credentials.access_key_id,
                &credentials.secret,
                &credentials.region,
                "states",
                now,
            ) {
                request = request.header(name, value);
            }
        }
        let request = request.body(body.to_vec()).map_err(|error| ClientError::Transport(error.to_string()))?;
        read(self.agent.run(request))
    }

    /// Calls an AWS Step Functions operation with a JSON request.
    pub fn call(&self, operation: &str, request: &Value) -> Result<Value, ClientError> {
        let target = format!("AWSStepFunctions.{operation}");
        let headers = [("X-Amz-Target", target.as_str()), ("Content-Type", "application/x-amz-json-1.0")];
        plain(self.send("POST", "/", &headers, request.to_string().as_bytes())?)
    }

    /// Deploys a component as function `name`.
    ///
    /// `parameters` are the deployment's query parameters (see `PUT /functions/{name}`), such as
    /// `("allowOutbound", "https://api.example.com")`; they are URL-encoded here.
    pub fn deploy_function(
        &self,
        name: &str,
        component: &[u8],
        parameters: &[(&str, String)],
    ) -> Result<Value, ClientError> {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in parameters {
            query.append_pair(key, value);
        }
        let query = query.finish();
        let query = if query.is_empty() { query } else { format!("?{query}") };
        plain(self.send(
            "PUT",
            &format!("/functions/{name}{query}"),
            &[("Content-Type", "application/wasm")],
            component,
        )?)
    }

    /// `PUT` a JSON document to a path such as `/bindings/sns:publish`.
    pub fn put_json(&self, path: &str, document: &Value) -> Result<Value, ClientError> {
        plain(self.send("PUT", path, &[("Content-Type", "application/json")], document.to_string().as_bytes())?)
    }

    /// `GET` a path such as `/functions`.
    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        plain(self.send("GET", path, &[], b"")?)
    }

    /// `DELETE` a path such as `/functions/echo`.
    pub fn delete(&self, path: &str) -> Result<Value, ClientError> {
        plain(self.send("DELETE", path, &[], b"")?)
    }

    /// Creates the state machine, or updates its definition and role if it exists.
    pub fn deploy_state_machine(
        &self,
        name: &str,
        definition: &str,
        machine_type: &str,
        role_arn: &str,
    ) -> Result<String, ClientError> {
        let created = self.call(
            "CreateStateMachine",
            &json!({"name": name, "definition": definition, "roleArn": role_arn, "type": machine_type}),
        );
        match created {
            Ok(reply) => Ok(reply["stateMachineArn"].as_str().unwrap_or_default().to_owned()),
            Err(ClientError::Aws { code, .. }) if code == "StateMachineAlreadyExists" => {
                let arn = format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}");
                self.call(
                    "UpdateStateMachine",
                    &json!({"stateMachineArn": arn, "definition": definition, "roleArn": role_arn}),
                )?;
                Ok(arn)
            }
            Err(error) => Err(error),
        }
    }
}

fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<(bool, Value), ClientError> {
    let mut response = response.map_err(|error| ClientError::Transport(error.to_string()))?;
    let success = response.status().is_success();
    let text = response.body_mut().read_to_string().map_err(|error| ClientError::Transport(error.to_string()))?;
    let body =
        serde_json::from_str(&text).map_err(|_| ClientError::Transport(format!("the server answered {text:?}")))?;
    Ok((success, body))
}

fn plain((success, body): (bool, Value)) -> Result<Value, ClientError> {
    if success {
        return Ok(body);
    }
    let code = body["__type"].as_str().and_then(|kind| kind.rsplit('#').next()).unwrap_or("Error");
    Err(ClientError::Aws {
        code: code.to_owned(),
        message: body["message"].as_str().unwrap_or("the request failed").to_owned(),
    })
}
