//! `sns-publish`: what `arn:aws:states:::sns:publish` does here, bound to this function.
//!
//! It checks the Publish request as SNS does (a `TopicArn`, `TargetArn` or `PhoneNumber`, and a
//! `Message`; with `MessageStructure: json`, a JSON object with a `default`), records the
//! message in the invocation's log, and answers as the Step Functions integration does:
//! `{"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}`, plus a `SequenceNumber` for a
//! FIFO topic. Deployed with `WEBHOOK_URL` (its origin granted, and `WEBHOOK_TOKEN` as a secret
//! if the hook wants a bearer token), it also POSTs the message there, `POST /sns`, keyed by
//! the message id so that a retried step is delivered once.
//!
//! The message id is derived from the execution, the state and the message, so a retry of the
//! same step publishes the same id.
//!
//! # Errors
//!
//! `SNS.InvalidParameterException`, with SNS's wording, for a request SNS would refuse.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use stepwasm_guest::{Context, TaskError};

use order_model::Fingerprint;
use order_model::providers::WEBHOOK;

/// The error SNS answers a request it refuses with, as Step Functions names it.
pub const INVALID_PARAMETER: &str = "SNS.InvalidParameterException";

/// Publish's request, as a state's `Parameters` or `Arguments` give it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Publish {
    topic_arn: Option<String>,
    target_arn: Option<String>,
    phone_number: Option<String>,
    message: Option<Value>,
    subject: Option<String>,
    message_structure: Option<String>,
    #[serde(default)]
    message_attributes: Map<String, Value>,
    message_group_id: Option<String>,
    message_deduplication_id: Option<String>,
}

/// The message as recorded and delivered.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub message_id: String,
    /// The topic, target or phone number.
    pub destination: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub message_attributes: Map<String, Value>,
}

/// The task function.
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(request: Publish, ctx: &Context) -> Result<Value, TaskError> {
    let published = check(&request, ctx)?;
    match WEBHOOK.post("/sns", &published.message_id, &published)? {
        Some(response) => {
            response.error_for_status()?;
            stepwasm_guest::info!(
                "SNS {} to {} delivered: {}",
                published.message_id,
                published.destination,
                published.message
            );
        }
        None => {
            stepwasm_guest::info!("SNS {} to {}: {}", published.message_id, published.destination, published.message)
        }
    }
    let mut answer = json!({
        "MessageId": published.message_id,
        "SdkHttpMetadata": {"HttpHeaders": {"Content-Type": "text/xml", "x-amzn-RequestId": published.message_id}, "HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": published.message_id},
    });
    if published.destination.ends_with(".fifo") {
        let sequence = Fingerprint::new("sns-sequence").text(&published.message_id).finish() % 10u64.pow(18);
        answer["SequenceNumber"] = json!(format!("{sequence:020}"));
    }
    Ok(answer)
}

/// Checks the request as SNS does, and renders what is published.
pub fn check(request: &Publish, ctx: &Context) -> Result<Published, TaskError> {
    let invalid = |what: &str| TaskError::new(INVALID_PARAMETER, format!("Invalid parameter: {what}"));
    let destinations = [&request.topic_arn, &request.target_arn, &request.phone_number];
    let destination = match destinations.iter().filter_map(|destination| destination.as_deref()).collect::<Vec<_>>()[..]
    {
        [one] if !one.is_empty() => one.to_owned(),
        [] => return Err(invalid("TopicArn or TargetArn Reason: no value for required parameter")),
        _ => return Err(invalid("TopicArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given")),
    };
    if let Some(phone) = &request.phone_number
        && !(phone.starts_with('+') && phone.len() > 4 && phone[1..].bytes().all(|byte| byte.is_ascii_digit()))
    {
        return Err(invalid("PhoneNumber Reason: +NUMBER is not valid to publish to"));
    }
    let message = match &request.message {
        Some(Value::String(text)) if !text.is_empty() => text.clone(),
        // Step Functions sends a JSON object as its text, as SNS expects a string.
        Some(other @ (Value::Object(_) | Value::Array(_) | Value::Number(_) | Value::Bool(_))) => other.to_string(),
        _ => return Err(invalid("Message Reason: Empty message")),
    };
    if message.len() > 256 * 1024 {
        return Err(invalid("Message too long"));
    }
    if request.message_structure.as_deref() == Some("json") {
        let structured: Value = serde_json::from_str(&message)
            .map_err(|_| invalid("Message Structure - JSON message body failed to parse"))?;
        if structured.get("default").and_then(Value::as_str).is_none() {
            return Err(invalid("Message Structure - No default entry in JSON message body"));
        }
    }
    if let Some(subject) = &request.subject
        && (subject.is_empty() || subject.chars().count() > 100 || subject.contains(['\n', '\r']))
    {
        return Err(invalid("Subject"));
    }
    let fifo = destination.ends_with(".fifo");
    if fifo && request.message_group_id.is_none() {
        return Err(invalid("The MessageGroupId parameter is required for FIFO topics"));
    }
    if !fifo && (request.message_group_id.is_some() || request.message_deduplication_id.is_some()) {
        return Err(invalid(
            "MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type",
        ));
    }
    let message_id = Fingerprint::new("sns")
        .text(ctx.execution_id())
        .text(ctx.state_name())
        .text(&destination)
        .text(&message)
        .uuid();
    Ok(Published {
        message_id,
        destination,
        subject: request.subject.clone(),
        message,
        message_attributes: request.message_attributes.clone(),
    })
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(request: Value) -> Result<Value, TaskError> {
        handle(serde_json::from_value(request).unwrap(), &Context::for_test("Notify"))
    }

    #[test]
    fn answers_as_the_integration_does() {
        let answer =
            publish(json!({"TopicArn": "arn:aws:sns:us-east-1:123456789012:orders", "Message": "shipped"})).unwrap();
        let id = answer["MessageId"].as_str().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(answer["SdkHttpMetadata"]["HttpStatusCode"], 200);
        assert_eq!(answer["SdkResponseMetadata"]["RequestId"], id);
        assert!(answer.get("SequenceNumber").is_none());
        let again =
            publish(json!({"TopicArn": "arn:aws:sns:us-east-1:123456789012:orders", "Message": "shipped"})).unwrap();
        assert_eq!(again["MessageId"], id, "a retried step publishes the same message id");
        let other = publish(json!({"PhoneNumber": "+15555550100", "Message": "shipped"})).unwrap();
        assert_ne!(other["MessageId"], id);
    }

    #[test]
    fn fifo_topics_need_a_group_and_get_a_sequence_number() {
        let topic = "arn:aws:sns:us-east-1:123456789012:orders.fifo";
        let answer = publish(json!({"TopicArn": topic, "Message": "m", "MessageGroupId": "g"})).unwrap();
        assert_eq!(answer["SequenceNumber"].as_str().unwrap().len(), 20);
        let error = publish(json!({"TopicArn": topic, "Message": "m"})).unwrap_err();
        assert!(error.cause.contains("MessageGroupId"), "{}", error.cause);
    }

    #[test]
    fn refuses_what_sns_refuses() {
        for (request, says) in [
            (json!({"Message": "m"}), "no value for required parameter"),
            (json!({"TopicArn": "t", "PhoneNumber": "+15555550100", "Message": "m"}), "Only one of"),
            (json!({"TopicArn": "t"}), "Empty message"),
            (json!({"TopicArn": "t", "Message": ""}), "Empty message"),
            (json!({"PhoneNumber": "555-0100", "Message": "m"}), "PhoneNumber"),
            (json!({"TopicArn": "t", "Message": "{}", "MessageStructure": "json"}), "No default entry"),
            (json!({"TopicArn": "t", "Message": "m", "Subject": "line\nbreak"}), "Subject"),
            (json!({"TopicArn": "t", "Message": "m", "MessageGroupId": "g"}), "not valid for this topic type"),
        ] {
            let error = publish(request.clone()).unwrap_err();
            assert_eq!(error.error, INVALID_PARAMETER, "{request}");
            assert!(error.cause.contains(says), "{request}: {}", error.cause);
        }
    }

    #[test]
    fn an_object_message_is_sent_as_its_json_text() {
        let request: Publish = serde_json::from_value(json!({"TopicArn": "t", "Message": {"orderId": "o-1"}})).unwrap();
        let published = check(&request, &Context::for_test("Notify")).unwrap();
        assert_eq!(published.message, r#"{"orderId":"o-1"}"#);
    }
}
