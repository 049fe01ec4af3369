//! `ses-send-email`: what `arn:aws:states:::aws-sdk:sesv2:sendEmail` (and the older
//! `aws-sdk:ses:sendEmail`) do here, bound to this function.
//!
//! It reads either request shape: SES v2's (`FromEmailAddress`, `Destination`,
//! `Content.Simple.{Subject, Body}`) or SES v1's (`Source`, `Destination`,
//! `Message.{Subject, Body}`). It checks the addresses and the content as SES does, records the
//! email in the invocation's log, and answers `{"MessageId"}`. Deployed with `WEBHOOK_URL` (its
//! origin granted, and `WEBHOOK_TOKEN` as a secret if the hook wants a bearer token), it also
//! POSTs the email there, `POST /email`, keyed by the message id so that a retried step is
//! delivered once. Deployed with `SMTP_SERVER=host:port` (that endpoint granted with
//! `--allow-tcp`, and optionally `SMTP_HELO_NAME`, the name it greets the relay with), it hands
//! the email to that SMTP relay ([`smtp`]).
//!
//! # Errors
//!
//! `SesV2.BadRequestException` (v2) or `Ses.InvalidParameterValueException` (v1) for a request
//! SES would refuse, with SES's wording. `SesV2.MessageRejectedException` (v2) or
//! `Ses.MessageRejectedException` (v1) when the SMTP relay refuses the email for good (a 5xx
//! reply), and [`smtp::UNAVAILABLE`] when it cannot be reached or answers 4xx, which a Retry can
//! match.

pub mod smtp;

use serde::Serialize;
use serde_json::{Value, json};
use stepwasm_guest::{Context, TaskError, config};

use order_model::providers::WEBHOOK;
use order_model::{Fingerprint, is_valid_email};

/// SES v2's error for a request it refuses, as Step Functions names it.
pub const BAD_REQUEST_V2: &str = "SesV2.BadRequestException";
/// SES v1's.
pub const INVALID_PARAMETER_V1: &str = "Ses.InvalidParameterValueException";
/// SES v2's error for an email it could not send.
pub const MESSAGE_REJECTED_V2: &str = "SesV2.MessageRejectedException";
/// SES v1's.
pub const MESSAGE_REJECTED_V1: &str = "Ses.MessageRejectedException";

/// The variable naming the SMTP relay, `host:port`.
pub const SMTP_SERVER: &str = "SMTP_SERVER";
/// The variable naming this side in `EHLO`; `localhost` when unset.
pub const SMTP_HELO_NAME: &str = "SMTP_HELO_NAME";

/// SES's limit on the recipients of one email.
const MAX_RECIPIENTS: usize = 50;

/// The email as recorded and delivered.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Email {
    pub message_id: String,
    pub from: String,
    pub to: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<String>,
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html_body: Option<String>,
}

/// The task function.
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(request: Value, ctx: &Context) -> Result<Value, TaskError> {
    let email = read(&request, ctx)?;
    let to = email.to.join(", ");
    let mut delivered_to = Vec::new();
    if let Some(server) = config::get(SMTP_SERVER) {
        let helo_name = config::get(SMTP_HELO_NAME).unwrap_or_else(|| "localhost".into());
        let rejected = if is_v2(&request) { MESSAGE_REJECTED_V2 } else { MESSAGE_REJECTED_V1 };
        smtp::send(&server, &helo_name, &email).map_err(|error| error.into_task_error(rejected))?;
        delivered_to.push(format!("SMTP server {server}"));
    }
    if let Some(response) = WEBHOOK.post("/email", &email.message_id, &email)? {
        response.error_for_status()?;
        delivered_to.push("the webhook".to_owned());
    }
    if delivered_to.is_empty() {
        stepwasm_guest::info!("email {} to {to}: {}", email.message_id, email.subject);
    } else {
        let through = delivered_to.join(" and ");
        stepwasm_guest::info!("email {} to {to} delivered to {through}: {}", email.message_id, email.subject);
    }
    Ok(json!({ "MessageId": email.message_id }))
}

/// Reads and checks either version's request.
pub fn read(request: &Value, ctx: &Context) -> Result<Email, TaskError> {
    let v2 = is_v2(request);
    let refuse = |message: String| TaskError::new(if v2 { BAD_REQUEST_V2 } else { INVALID_PARAMETER_V1 }, message);
    let text = |value: &Value, path: &[&str]| -> Option<String> {
        path.iter().try_fold(value, |at, key| at.get(key)).and_then(Value::as_str).map(str::to_owned)
    };
    let (from, content) = if v2 {
        (text(request, &["FromEmailAddress"]), request.pointer("/Content/Simple"))
    } else {
        (text(request, &["Source"]), request.get("Message"))
    };
    let from = from.ok_or_else(|| {
        refuse(if v2 {
            "Missing required field FromEmailAddress".into()
        } else {
            "Missing required parameter Source".into()
        })
    })?;
    if !is_valid_mailbox(&from) {
        return Err(refuse(format!("Illegal address: {from}")));
    }
    let content = content.ok_or_else(|| {
        refuse(if v2 {
            "Content.Simple is required (Raw and Template content is not bound here)".into()
        } else {
            "Missing required parameter Message".into()
        })
    })?;
    let addresses = |field: &str| -> Result<Vec<String>, TaskError> {
        let listed = request.pointer(&format!("/Destination/{field}")).cloned().unwrap_or(json!([]));
        let listed: Vec<String> = serde_json::from_value(listed)
            .map_err(|_| refuse(format!("Destination.{field} must be a list of addresses")))?;
        match listed.iter().find(|address| !is_valid_mailbox(address)) {
            Some(bad) => Err(refuse(format!("Illegal address: {bad}"))),
            None => Ok(listed),
        }
    };
    let (to, cc, bcc) = (addresses("ToAddresses")?, addresses("CcAddresses")?, addresses("BccAddresses")?);
    let recipients = to.len() + cc.len() + bcc.len();
    if recipients == 0 {
        return Err(refuse("Missing final '@domain': the email has no recipients".into()));
    }
    if recipients > MAX_RECIPIENTS {
        return Err(refuse(format!("Recipient count exceeds {MAX_RECIPIENTS}")));
    }
    let subject =
        text(content, &["Subject", "Data"]).ok_or_else(|| refuse("Missing required field Subject.Data".into()))?;
    let text_body = text(content, &["Body", "Text", "Data"]);
    let html_body = text(content, &["Body", "Html", "Data"]);
    if text_body.is_none() && html_body.is_none() {
        return Err(refuse("Missing required field Body: Text or Html".into()));
    }
    let message_id = Fingerprint::new("ses")
        .text(ctx.execution_id())
        .text(ctx.state_name())
        .text(&to.join(","))
        .text(&subject)
        .uuid();
    Ok(Email { message_id, from, to, cc, bcc, subject, text_body, html_body })
}

/// A valid address, with a display name or without; a line break would let a mailbox add
/// headers of its own to the message.
fn is_valid_mailbox(mailbox: &str) -> bool {
    is_valid_email(address_of(mailbox)) && !mailbox.chars().any(char::is_control)
}

/// Whether `request` is SES v2's shape rather than v1's.
fn is_v2(request: &Value) -> bool {
    request.get("Content").is_some() || request.get("FromEmailAddress").is_some()
}

/// `Name <address>` or `address`: the address.
pub(crate) fn address_of(mailbox: &str) -> &str {
    match (mailbox.rfind('<'), mailbox.ends_with('>')) {
        (Some(open), true) => &mailbox[open + 1..mailbox.len() - 1],
        _ => mailbox,
    }
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use super::*;

    fn send(request: Value) -> Result<Value, TaskError> {
        handle(request, &Context::for_test("SendEmail"))
    }

    fn v2(to: &Value) -> Value {
        json!({
            "FromEmailAddress": "Shop <orders@shop.example>",
            "Destination": {"ToAddresses": to},
            "Content": {"Simple": {"Subject": {"Data": "Your order o-1"}, "Body": {"Text": {"Data": "Thanks!"}}}}
        })
    }

    #[test]
    fn both_versions_are_read_and_answered_with_a_message_id() {
        let answer = send(v2(&json!(["ada@example.com"]))).unwrap();
        let id = answer["MessageId"].as_str().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(send(v2(&json!(["ada@example.com"]))).unwrap()["MessageId"], id, "stable across retries");

        let v1 = json!({
            "Source": "orders@shop.example",
            "Destination": {"ToAddresses": ["ada@example.com"], "BccAddresses": ["audit@shop.example"]},
            "Message": {"Subject": {"Data": "Your order o-1"}, "Body": {"Html": {"Data": "<p>Thanks!</p>"}}}
        });
        let email = read(&v1, &Context::for_test("SendEmail")).unwrap();
        assert_eq!(email.bcc, ["audit@shop.example"]);
        assert_eq!(email.html_body.as_deref(), Some("<p>Thanks!</p>"));
        assert_eq!(email.text_body, None);
    }

    #[test]
    fn refuses_what_ses_refuses() {
        let mut no_body = v2(&json!(["ada@example.com"]));
        no_body["Content"]["Simple"]["Body"] = json!({});
        for (request, error, says) in [
            (v2(&json!([])), BAD_REQUEST_V2, "no recipients"),
            (v2(&json!(["ada at example.com"])), BAD_REQUEST_V2, "Illegal address: ada at example.com"),
            (v2(&json!(["Ada\r\nBcc: eve@example.com <ada@example.com>"])), BAD_REQUEST_V2, "Illegal address"),
            (no_body, BAD_REQUEST_V2, "Body"),
            (
                json!({"Source": "orders@shop.example", "Destination": {"ToAddresses": ["a@b.example"]}}),
                INVALID_PARAMETER_V1,
                "Message",
            ),
            (json!({"Destination": {"ToAddresses": ["a@b.example"]}, "Message": {}}), INVALID_PARAMETER_V1, "Source"),
        ] {
            let refused = send(request.clone()).unwrap_err();
            assert_eq!(refused.error, error, "{request}");
            assert!(refused.cause.contains(says), "{request}: {}", refused.cause);
        }
        let many: Vec<String> = (0..51).map(|n| format!("r{n}@example.com")).collect();
        assert!(send(v2(&json!(many))).unwrap_err().cause.contains("exceeds 50"));
    }
}
