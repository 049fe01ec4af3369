//! Service integrations bound to what runs here.
//!
//! Definitions written for AWS call services through integration resources:
//! `arn:aws:states:::sns:publish`, `arn:aws:states:::sqs:sendMessage.waitForTaskToken`,
//! `arn:aws:states:::ecs:runTask.sync`, `arn:aws:states:::aws-sdk:dynamodb:getItem`. A
//! self-hosted engine cannot be AWS; a **binding** says what such an integration means on this
//! server. It is one of:
//!
//! - a deployed **function**, which receives the state's arguments (its `Parameters` or
//!   `Arguments`) and returns what the service would;
//! - an **HTTP endpoint** on the server's outbound allow-list, to which the arguments are
//!   POSTed as JSON; its JSON answer is the result.
//!
//! A binding is keyed by its **integration**, `SERVICE:ACTION` (`sns:publish`,
//! `aws-sdk:dynamodb:getItem`), and serves every integration pattern of that action:
//!
//! | pattern | resource | the task ends |
//! |---|---|---|
//! | request-response | `…:sns:publish` | with the function's or endpoint's answer |
//! | run a job | `…:ecs:runTask.sync` (or `.sync:2`) | when the job is done: at once, unless the binding has a `poll` function, which is then called with the answer until it says `SUCCEEDED` or `FAILED`; an endpoint that answers `202 Accepted` with a `Location` is polled there until it answers anything else |
//! | wait for a callback | `…:sqs:sendMessage.waitForTaskToken` | when SendTaskSuccess or SendTaskFailure quotes the token the arguments carry (`$$.Task.Token`) |
//!
//! Bindings come from the server's configuration file (`[bindings."sns:publish"]`), fixed for
//! the node's life, and from the API (`PUT /bindings/sns:publish`), kept in the store so that
//! every node sees the same. What stepwasm runs itself (`lambda:invoke`, `http:invoke`,
//! `states:startExecution`) needs no binding, and `sqs:sendMessage` sends to the server's own
//! queues ([`crate::queues`]) unless one is bound. An execution that reaches an integration nothing
//! binds fails with [`NOT_BOUND`], naming the binding to add; validation warns of it first.

mod invoke;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use invoke::BoundIntegrations;

use crate::store::{Store, StoreError};

/// The error an execution fails with when it reaches an integration nothing binds.
pub const NOT_BOUND: &str = "Stepwasm.IntegrationNotBound";

/// The one integration that runs without a binding: it sends to the server's own queues
/// ([`crate::queues`]) unless a binding says otherwise.
pub const SQS_SEND_MESSAGE: &str = "sqs:sendMessage";

/// The code of ValidateStateMachineDefinition's warning for an integration nothing binds.
pub const UNBOUND_WARNING: &str = "UNBOUND_INTEGRATION";

/// The longest a `poll` function may ask to wait between polls, in seconds.
pub const MAX_POLL_SECONDS: u64 = 3600;

/// How an integration is called: AWS's three service integration patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Call the service and take its answer.
    RequestResponse,
    /// Start a job and wait for it to end (`.sync`, `.sync:2`).
    Sync,
    /// Call the service, then wait for the task token to come back (`.waitForTaskToken`).
    WaitForTaskToken,
}

/// A call of a service integration: which one, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integration {
    /// `SERVICE:ACTION`, or `aws-sdk:SERVICE:ACTION`.
    pub name: String,
    /// The pattern the resource asks for.
    pub pattern: Pattern,
}

impl Integration {
    /// The integration a Task's `Resource` calls, if it is one that needs a binding: an
    /// `arn:PARTITION:states:::SERVICE:ACTION[.PATTERN]` that stepwasm does not run itself.
    pub fn of_resource(resource: &str) -> Option<Integration> {
        let parts: Vec<&str> = resource.splitn(6, ':').collect();
        let ["arn", partition, "states", "", "", rest] = parts.as_slice() else { return None };
        if !partition.starts_with("aws") {
            return None;
        }
        let (rest, pattern) = if let Some(action) = rest.strip_suffix(".sync:2").or_else(|| rest.strip_suffix(".sync"))
        {
            (action, Pattern::Sync)
        } else if let Some(action) = rest.strip_suffix(".waitForTaskToken") {
            (action, Pattern::WaitForTaskToken)
        } else {
            (*rest, Pattern::RequestResponse)
        };
        let name = checked_name(rest).ok()?;
        let runs_itself = ["lambda:invoke", "http:invoke", "states:startExecution"].contains(&name.as_str());
        (!runs_itself).then_some(Integration { name, pattern })
    }

    /// Whether the server runs this integration itself when nothing binds it (`sqs:sendMessage`,
    /// to its own queues).
    pub fn has_fallback(&self) -> bool {
        self.name == SQS_SEND_MESSAGE
    }

    /// The integration a user names to bind it: `sns:publish`, `aws-sdk:dynamodb:getItem`, or a
    /// resource that calls it (`arn:aws:states:::ecs:runTask.sync` binds `ecs:runTask`).
    pub fn parse_name(text: &str) -> Result<String, InvalidBinding> {
        if text.starts_with("arn:") {
            return Integration::of_resource(text).map(|integration| integration.name).ok_or_else(|| {
                InvalidBinding(format!(
                    "{text:?} is not a service integration that can be bound (arn:aws:states:::SERVICE:ACTION; \
                     lambda:invoke, http:invoke and states:startExecution run here without one)"
                ))
            });
        }
        checked_name(text)
    }
}

/// `SERVICE:ACTION` or `aws-sdk:SERVICE:ACTION`, each part a word.
fn checked_name(text: &str) -> Result<String, InvalidBinding> {
    let parts: Vec<&str> = text.split(':').collect();
    let word = |part: &&str| {
        !part.is_empty()
            && part.len() <= 128
            && part.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-_.".contains(&byte))
    };
    let shaped = match parts.as_slice() {
        ["aws-sdk", service, action] => word(service) && word(action),
        [service, action] => *service != "aws-sdk" && word(service) && word(action),
        _ => false,
    };
    if shaped {
        Ok(text.to_owned())
    } else {
        Err(InvalidBinding(format!(
            "{text:?} does not name a service integration: expected SERVICE:ACTION (sns:publish) or \
             aws-sdk:SERVICE:ACTION (aws-sdk:dynamodb:getItem)"
        )))
    }
}

/// What an integration runs here: a function or an endpoint. In a configuration file:
///
/// ```toml
/// [bindings."sns:publish"]
/// function = "publish-notification"
///
/// [bindings."ecs:runTask"]
/// function = "start-job"
/// poll = { function = "job-status", seconds = 5 }
///
/// [bindings."aws-sdk:dynamodb:getItem"]
/// url = "https://tables.internal.example.com/get-item"
/// headers = { "x-team" = "orders" }
/// ```
///
/// and the same fields as JSON through the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// The function to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// For `.sync`: the function that says whether the job `function` started is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Poll>,
    /// The endpoint to POST to, instead of a function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Headers sent with every request to `url`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// How a `.sync` binding follows the job its function started.
///
/// The poll function is called with what the binding's function answered, every `seconds`
/// seconds, and answers `{"Status": "RUNNING"}` (or any other status) while the job runs,
/// `{"Status": "SUCCEEDED", "Output": …}` when it is done (the task's result is `Output`, or
/// the whole answer without one), or `{"Status": "FAILED", "Error": …, "Cause": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    /// The function to call.
    pub function: String,
    /// How long to wait before each poll. Default 5.
    #[serde(default = "default_poll_seconds")]
    pub seconds: u64,
}

fn default_poll_seconds() -> u64 {
    5
}

/// A binding that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidBinding(pub String);

impl Binding {
    /// A binding from its JSON text.
    pub fn from_json(text: &str) -> Result<Binding, InvalidBinding> {
        let binding: Binding =
            serde_json::from_str(text).map_err(|error| InvalidBinding(format!("Invalid binding: {error}")))?;
        binding.check()?;
        Ok(binding)
    }

    /// Says what is wrong with the binding, if anything.
    pub fn check(&self) -> Result<(), InvalidBinding> {
        let invalid = |message: &str| Err(InvalidBinding(message.to_owned()));
        match (&self.function, &self.url) {
            (Some(_), Some(_)) => return invalid("A binding names a function or a url, not both"),
            (None, None) => return invalid("A binding needs a function or a url"),
            (Some(function), None) if function.is_empty() => return invalid("The binding's function has no name"),
            (None, Some(url)) => check_url(url)?,
            (Some(_), None) => {}
        }
        if let Some(poll) = &self.poll {
            if self.function.is_none() {
                return invalid(
                    "poll follows a function's job; an endpoint is followed by answering 202 Accepted with a Location",
                );
            }
            if poll.function.is_empty() {
                return invalid("The binding's poll function has no name");
            }
            if !(1..=MAX_POLL_SECONDS).contains(&poll.seconds) {
                return Err(InvalidBinding(format!("poll seconds must be from 1 to {MAX_POLL_SECONDS}")));
            }
        }
        if !self.headers.is_empty() && self.url.is_none() {
            return invalid("headers go with a url");
        }
        for (name, value) in &self.headers {
            if http::HeaderName::try_from(name.as_str()).is_err()
                || http::HeaderValue::try_from(value.as_str()).is_err()
            {
                return Err(InvalidBinding(format!("{name:?} is not a usable header")));
            }
        }
        Ok(())
    }

    /// The binding as JSON text, as the store keeps it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The binding as a JSON object, for the API.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

fn check_url(url: &str) -> Result<(), InvalidBinding> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(()),
        Ok(_) => Err(InvalidBinding(format!("The binding's url {url:?} must be http:// or https://"))),
        Err(error) => Err(InvalidBinding(format!("The binding's url {url:?} is not a URL: {error}"))),
    }
}

/// Where a binding was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The server's configuration file; the API cannot change it.
    Configuration,
    /// The API; kept in the store.
    Api,
}

/// Every binding this node knows: the configuration's, then the store's.
#[derive(Clone)]
pub struct Bindings {
    configured: Arc<BTreeMap<String, Binding>>,
    store: Arc<dyn Store>,
}

impl Bindings {
    /// The bindings of `configured` (fixed) and of `store`.
    pub fn new(configured: BTreeMap<String, Binding>, store: Arc<dyn Store>) -> Self {
        Self { configured: Arc::new(configured), store }
    }

    /// The binding of `integration`, and where it was made.
    pub async fn find(&self, integration: &str) -> Result<Option<(Binding, Source)>, StoreError> {
        if let Some(binding) = self.configured.get(integration) {
            return Ok(Some((binding.clone(), Source::Configuration)));
        }
        let Some(record) = self.store.binding(integration).await? else { return Ok(None) };
        let binding = Binding::from_json(&record.target)
            .map_err(|error| StoreError::Corrupt(format!("the binding of {integration}: {error}")))?;
        Ok(Some((binding, Source::Api)))
    }

    /// The bindings of the configuration file, by integration.
    pub fn configured(&self) -> &BTreeMap<String, Binding> {
        &self.configured
    }
}

/// Every integration a definition calls, with the JSON pointer of the Task state's
/// `Resource` that calls it, in the order of the document.
pub fn integrations_in(definition: &Value) -> Vec<(String, Integration)> {
    crate::service::task_resources(definition, "")
        .into_iter()
        .filter_map(|(location, resource)| {
            Integration::of_resource(&resource).map(|integration| (format!("{location}/Resource"), integration))
        })
        .collect()
}

/// The advice an unbound integration's error and warning give.
pub fn how_to_bind(integration: &str) -> String {
    format!(
        "bind it to a function or an HTTP endpoint: [bindings.\"{integration}\"] in the server's configuration \
         file, or PUT /bindings/{integration}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_name_their_integration_and_pattern() {
        let of = |resource: &str| Integration::of_resource(resource).map(|found| (found.name, found.pattern));
        let named = |name: &str, pattern| Some((name.to_owned(), pattern));
        assert_eq!(of("arn:aws:states:::sns:publish"), named("sns:publish", Pattern::RequestResponse));
        assert_eq!(of("arn:aws:states:::ecs:runTask.sync"), named("ecs:runTask", Pattern::Sync));
        assert_eq!(of("arn:aws:states:::glue:startJobRun.sync:2"), named("glue:startJobRun", Pattern::Sync));
        assert_eq!(
            of("arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
            named("sqs:sendMessage", Pattern::WaitForTaskToken)
        );
        assert_eq!(
            of("arn:aws:states:::aws-sdk:dynamodb:getItem"),
            named("aws-sdk:dynamodb:getItem", Pattern::RequestResponse)
        );
        assert_eq!(of("arn:aws-cn:states:::sns:publish"), named("sns:publish", Pattern::RequestResponse));
        for runs_here in [
            "arn:aws:states:::lambda:invoke",
            "arn:aws:states:::http:invoke",
            "arn:aws:states:::states:startExecution.sync:2",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "arn:aws:states:us-east-1:123456789012:activity:a",
            "arn:aws:states:::sns",
            "arn:other:states:::sns:publish",
        ] {
            assert_eq!(of(runs_here), None, "{runs_here}");
        }
    }

    #[test]
    fn names_to_bind_are_integrations_or_resources_that_call_them() {
        assert_eq!(Integration::parse_name("sns:publish").unwrap(), "sns:publish");
        assert_eq!(Integration::parse_name("arn:aws:states:::ecs:runTask.sync").unwrap(), "ecs:runTask");
        assert_eq!(Integration::parse_name("aws-sdk:s3:getObject").unwrap(), "aws-sdk:s3:getObject");
        for wrong in ["sns", "sns:", ":publish", "aws-sdk:s3", "a:b:c", "sns:pub lish", "arn:aws:states:::http:invoke"]
        {
            assert!(Integration::parse_name(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn bindings_name_one_target_and_poll_only_functions() {
        let parse = |text: &str| Binding::from_json(text);
        assert!(parse(r#"{"function":"publish"}"#).is_ok());
        assert!(parse(r#"{"url":"https://hooks.example.com/sns","headers":{"x-key":"1"}}"#).is_ok());
        assert!(parse(r#"{"function":"start","poll":{"function":"status","seconds":2}}"#).is_ok());
        for (wrong, says) in [
            (r#"{}"#, "needs a function or a url"),
            (r#"{"function":"a","url":"https://x.example"}"#, "not both"),
            (r#"{"url":"ftp://x.example/"}"#, "http:// or https://"),
            (r#"{"url":"https://x.example","poll":{"function":"p"}}"#, "202 Accepted"),
            (r#"{"function":"a","poll":{"function":"p","seconds":0}}"#, "poll seconds"),
            (r#"{"function":"a","headers":{"x":"1"}}"#, "headers go with a url"),
            (r#"{"url":"https://x.example","headers":{"bad header":"1"}}"#, "not a usable header"),
            (r#"{"function":"a","retries":3}"#, "unknown field"),
        ] {
            let error = parse(wrong).expect_err(wrong).to_string();
            assert!(error.contains(says), "{wrong}: {error}");
        }
    }
}
