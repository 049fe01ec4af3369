//! Amazon SQS's JSON protocol on `POST /` (`X-Amz-Target: AmazonSQS.<Operation>`), over the
//! queues in the store ([`crate::queues`]), so SQS clients (boto3's `sqs`, `aws sqs`) pointed
//! at the server work unchanged. Errors carry SQS's `__type` and the `x-amzn-query-error`
//! header that clients map to their exception classes.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::queues::{ACCOUNT, Outgoing, QueueError, Queues, queue_name};

/// An SQS error as the wire shows it.
pub(crate) struct SqsError {
    status: StatusCode,
    name: &'static str,
    query_code: &'static str,
    message: String,
}

impl SqsError {
    fn invalid(message: impl Into<String>) -> Self {
        SqsError {
            status: StatusCode::BAD_REQUEST,
            name: "InvalidParameterValueException",
            query_code: "InvalidParameterValue;Sender",
            message: message.into(),
        }
    }

    fn missing(member: &str) -> Self {
        SqsError {
            status: StatusCode::BAD_REQUEST,
            name: "MissingParameter",
            query_code: "MissingParameter;Sender",
            message: format!("The request must contain the parameter {member}."),
        }
    }
}

impl From<QueueError> for SqsError {
    fn from(error: QueueError) -> Self {
        let message = error.to_string();
        let (status, name, query_code) = match error {
            QueueError::DoesNotExist => {
                (StatusCode::BAD_REQUEST, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue;Sender")
            }
            QueueError::NameExists(_) => (StatusCode::BAD_REQUEST, "QueueNameExists", "QueueAlreadyExists;Sender"),
            QueueError::InvalidParameter(_) => {
                (StatusCode::BAD_REQUEST, "InvalidParameterValueException", "InvalidParameterValue;Sender")
            }
            QueueError::ReceiptHandleIsInvalid(_) => {
                (StatusCode::BAD_REQUEST, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid;Sender")
            }
            QueueError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "InternalError;Receiver"),
        };
        SqsError { status, name, query_code, message }
    }
}

impl IntoResponse for SqsError {
    fn into_response(self) -> Response {
        let body = json!({"__type": format!("com.amazonaws.sqs#{}", self.name), "message": self.message});
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
        headers.insert("x-amzn-query-error", HeaderValue::from_static(self.query_code));
        response
    }
}

type Reply = Result<Value, SqsError>;

/// The operations served, which metrics label by name.
pub(crate) const OPERATIONS: &[&str] = &[
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "DeleteQueue",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "GetQueueAttributes",
    "PurgeQueue",
];

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Request {
    queue_name: Option<String>,
    queue_url: Option<String>,
    queue_name_prefix: Option<String>,
    attributes: BTreeMap<String, String>,
    message_body: Option<String>,
    message_attributes: Option<Value>,
    delay_seconds: Option<u64>,
    max_number_of_messages: Option<u64>,
    visibility_timeout: Option<u64>,
    wait_time_seconds: Option<u64>,
    receipt_handle: Option<String>,
    attribute_names: Vec<String>,
    message_attribute_names: Vec<String>,
    message_system_attribute_names: Vec<String>,
}

/// Runs one SQS operation; `headers` give the host queue URLs are made of.
pub(crate) async fn dispatch(queues: &Queues, operation: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let request: Request = if body.is_empty() {
        Request::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => return SqsError::invalid(format!("The request is not valid: {error}")).into_response(),
        }
    };
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or("localhost");
    let url = |name: &str| format!("http://{host}/{ACCOUNT}/{name}");
    let reply = match operation {
        "CreateQueue" => create_queue(queues, &request).await.map(|name| json!({"QueueUrl": url(&name)})),
        "GetQueueUrl" => get_queue_url(queues, &request).await.map(|name| json!({"QueueUrl": url(&name)})),
        "ListQueues" => list_queues(queues, &request, url).await,
        "DeleteQueue" => delete_queue(queues, &request).await,
        "SendMessage" => send_message(queues, &request).await,
        "ReceiveMessage" => receive_message(queues, &request).await,
        "DeleteMessage" => delete_message(queues, &request).await,
        "ChangeMessageVisibility" => change_visibility(queues, &request).await,
        "GetQueueAttributes" => get_attributes(queues, &request).await,
        "PurgeQueue" => purge(queues, &request).await,
        other => Err(SqsError {
            status: StatusCode::BAD_REQUEST,
            name: "UnsupportedOperation",
            query_code: "AWS.SimpleQueueService.UnsupportedOperation;Sender",
            message: format!("{other} is not an SQS operation this server supports"),
        }),
    };
    match reply {
        Ok(value) => {
            let mut response = value.to_string().into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
            response
        }
        Err(error) => error.into_response(),
    }
}

/// The queue a request's `QueueUrl` names.
fn queue_of(request: &Request) -> Result<&str, SqsError> {
    let url = request.queue_url.as_deref().ok_or_else(|| SqsError::missing("QueueUrl"))?;
    Ok(queue_name(url)?)
}

async fn create_queue(queues: &Queues, request: &Request) -> Result<String, SqsError> {
    let name = request.queue_name.as_deref().ok_or_else(|| SqsError::missing("QueueName"))?;
    Ok(queues.create(name, &request.attributes).await?.name)
}

async fn get_queue_url(queues: &Queues, request: &Request) -> Result<String, SqsError> {
    let name = request.queue_name.as_deref().ok_or_else(|| SqsError::missing("QueueName"))?;
    Ok(queues.get(name).await?.name)
}

async fn list_queues(queues: &Queues, request: &Request, url: impl Fn(&str) -> String) -> Reply {
    let listed = queues.list(request.queue_name_prefix.as_deref().unwrap_or_default()).await?;
    let urls: Vec<String> = listed.iter().map(|queue| url(&queue.name)).collect();
    Ok(json!({ "QueueUrls": urls }))
}

async fn delete_queue(queues: &Queues, request: &Request) -> Reply {
    queues.delete(queue_of(request)?).await?;
    Ok(json!({}))
}

async fn send_message(queues: &Queues, request: &Request) -> Reply {
    let queue = queue_of(request)?;
    let body = request.message_body.clone().ok_or_else(|| SqsError::missing("MessageBody"))?;
    let outgoing = Outgoing {
        body,
        attributes: request.message_attributes.clone().unwrap_or(Value::Null),
        delay_seconds: request.delay_seconds,
        id: None,
    };
    let sent = queues.send(queue, outgoing).await?;
    Ok(json!({"MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_of_body}))
}

async fn receive_message(queues: &Queues, request: &Request) -> Reply {
    let queue = queue_of(request)?;
    let received = queues
        .receive(queue, request.max_number_of_messages, request.visibility_timeout, request.wait_time_seconds)
        .await?;
    let wants =
        |names: &[String], name: &str| names.iter().any(|wanted| wanted == "All" || wanted == name || wanted == ".*");
    let messages: Vec<Value> = received
        .into_iter()
        .map(|received| {
            let message = &received.message;
            let mut reply = json!({
                "MessageId": message.id,
                "ReceiptHandle": received.receipt,
                "MD5OfBody": received.md5_of_body,
                "Body": message.body,
            });
            let system = [&request.attribute_names[..], &request.message_system_attribute_names[..]].concat();
            let mut attributes = Map::new();
            for (name, value) in [
                ("SentTimestamp", message.sent.to_string()),
                ("ApproximateReceiveCount", message.receive_count.to_string()),
                ("ApproximateFirstReceiveTimestamp", message.sent.to_string()),
            ] {
                if wants(&system, name) {
                    attributes.insert(name.to_owned(), Value::String(value));
                }
            }
            if !attributes.is_empty() {
                reply["Attributes"] = Value::Object(attributes);
            }
            // Message attributes go back only when asked for, as SQS does; without their
            // MD5, which clients check only when it is there.
            if let Ok(Value::Object(stored)) = serde_json::from_str::<Value>(&message.attributes) {
                let chosen: Map<String, Value> =
                    stored.into_iter().filter(|(name, _)| wants(&request.message_attribute_names, name)).collect();
                if !chosen.is_empty() {
                    reply["MessageAttributes"] = Value::Object(chosen);
                }
            }
            reply
        })
        .collect();
    Ok(if messages.is_empty() { json!({}) } else { json!({ "Messages": messages }) })
}

async fn delete_message(queues: &Queues, request: &Request) -> Reply {
    let queue = queue_of(request)?;
    let receipt = request.receipt_handle.as_deref().ok_or_else(|| SqsError::missing("ReceiptHandle"))?;
    queues.delete_message(queue, receipt).await?;
    Ok(json!({}))
}

async fn change_visibility(queues: &Queues, request: &Request) -> Reply {
    let queue = queue_of(request)?;
    let receipt = request.receipt_handle.as_deref().ok_or_else(|| SqsError::missing("ReceiptHandle"))?;
    let seconds = request.visibility_timeout.ok_or_else(|| SqsError::missing("VisibilityTimeout"))?;
    queues.change_visibility(queue, receipt, seconds).await?;
    Ok(json!({}))
}

async fn get_attributes(queues: &Queues, request: &Request) -> Reply {
    let all = queues.attributes(queue_of(request)?).await?;
    let chosen: BTreeMap<&String, &String> = all
        .iter()
        .filter(|(name, _)| request.attribute_names.iter().any(|wanted| wanted == "All" || wanted == *name))
        .collect();
    Ok(json!({ "Attributes": chosen }))
}

async fn purge(queues: &Queues, request: &Request) -> Reply {
    queues.purge(queue_of(request)?).await?;
    Ok(json!({}))
}
