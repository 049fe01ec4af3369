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

/// Talks to one stepwasm server over plain HTTP.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the server at `endpoint`, such as `http://127.0.0.1:8083`.
    pub fn new(endpoint: &str) -> Self {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        Self { endpoint: endpoint.trim_end_matches('/').to_owned(), agent }
    }

    /// Calls an AWS Step Functions operation with a JSON request.
    pub fn call(&self, operation: &str, request: &Value) -> Result<Value, ClientError> {
        let response = self
            .agent
            .post(&format!("{}/", self.endpoint))
            .header("X-Amz-Target", &format!("AWSStepFunctions.{operation}"))
            .header("Content-Type", "application/x-amz-json-1.0")
            .send(request.to_string());
        let (success, body) = read(response)?;
        if success {
            Ok(body)
        } else {
            let code = body["__type"].as_str().and_then(|kind| kind.rsplit('#').next()).unwrap_or("Error");
            Err(ClientError::Aws {
                code: code.to_owned(),
                message: body["message"].as_str().unwrap_or_default().to_owned(),
            })
        }
    }

    /// Deploys a component as function `name`; `query` carries limits (`?timeoutMillis=…`).
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
        let response = self
            .agent
            .put(&format!("{}/functions/{name}{query}", self.endpoint))
            .header("Content-Type", "application/wasm")
            .send(component);
        plain(read(response)?)
    }

    /// `GET` a path such as `/functions`.
    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        plain(read(self.agent.get(&format!("{}{path}", self.endpoint)).call())?)
    }

    /// `DELETE` a path such as `/functions/echo`.
    pub fn delete(&self, path: &str) -> Result<Value, ClientError> {
        plain(read(self.agent.delete(&format!("{}{path}", self.endpoint)).call())?)
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
        Ok(body)
    } else {
        Err(ClientError::Aws {
            code: "Error".into(),
            message: body["message"].as_str().unwrap_or("the request failed").to_owned(),
        })
    }
}
