//! The outside services the pipeline's functions call: a payment processor, an email provider
//! and an SMS gateway.
//!
//! A function calls its provider when it is deployed with the provider's base URL as a variable
//! and that origin granted, and with the API key as a secret:
//!
//! ```text
//! stepwasm function deploy validate-payment validate-payment \
//!     --variable PAYMENT_API_URL=https://payments.example.com \
//!     --allow-outbound https://payments.example.com --secret PAYMENT_API_KEY
//! ```
//!
//! Without the URL the function decides on its own, as a test environment's stand-in would,
//! so the pipeline also runs with no network at all (`stepwasm test`, the conformance runs).
//! `stepwasm demo` starts local stand-ins for all three and deploys the functions against them.

use serde::Serialize;
use stepwasm_guest::http::{Request, Response};
use stepwasm_guest::{TaskError, config};

/// One provider: the settings that name its URL and its key.
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    /// The variable holding the base URL, such as `PAYMENT_API_URL`.
    pub url_setting: &'static str,
    /// The secret holding the API key, sent as a bearer token.
    pub key_secret: &'static str,
}

/// The card processor validate-payment asks for an authorization (`POST /authorizations`).
pub const PAYMENTS: Provider = Provider { url_setting: "PAYMENT_API_URL", key_secret: "PAYMENT_API_KEY" };
/// The email provider send-email hands the confirmation to (`POST /emails`).
pub const EMAIL: Provider = Provider { url_setting: "EMAIL_API_URL", key_secret: "EMAIL_API_KEY" };
/// The SMS gateway send-sms hands the text to (`POST /sms`).
pub const SMS: Provider = Provider { url_setting: "SMS_API_URL", key_secret: "SMS_API_KEY" };
/// Where the integration bindings (sns-publish, ses-send-email) deliver what they record.
pub const WEBHOOK: Provider = Provider { url_setting: "WEBHOOK_URL", key_secret: "WEBHOOK_TOKEN" };

impl Provider {
    /// POSTs `body` as JSON to `path` under the provider's URL, with the idempotency key the
    /// provider uses to drop a retried duplicate. `Ok(None)` when no URL is configured.
    ///
    /// A 4xx or 5xx answer other than those the caller handles is returned as it is; transport
    /// failures are `Http.*` errors that a workflow's Retry can match.
    pub fn post(
        &self,
        path: &str,
        idempotency_key: &str,
        body: &impl Serialize,
    ) -> Result<Option<Response>, TaskError> {
        let Some(base) = config::get(self.url_setting) else { return Ok(None) };
        let mut request = Request::post(&format!("{}{path}", base.trim_end_matches('/')))
            .header("idempotency-key", idempotency_key)
            .json(body)?;
        if let Some(key) = config::get(self.key_secret) {
            request = request.header("authorization", &format!("Bearer {key}"));
        }
        Ok(Some(request.send()?))
    }
}
