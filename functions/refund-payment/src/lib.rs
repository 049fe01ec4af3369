//! `refund-payment`: the compensation that reverses the payment authorization.
//!
//! It runs on the failure path, after the payment was authorized but the order cannot be
//! fulfilled (out of stock, or a later step failed). Two properties matter more than anything
//! else for a compensation:
//!
//! - **It must not fail for lack of data.** The document may be half-built when it runs, so its
//!   input asks for the least it can: the order id, `$.checks.authorization` if any, and an
//!   earlier `$.refund` if any. With no authorization there is nothing to reverse, and it
//!   succeeds with `NOTHING_TO_REFUND` instead of failing the compensation path.
//! - **It must be idempotent**, because a compensation is exactly what gets retried or redriven.
//!   The refund id is derived from the authorization id, so refunding one authorization twice
//!   names the same refund (a processor rejects the duplicate), and a document that already
//!   records the refund gets that record back unchanged.
//!
//! It also refuses an authorization that was not issued for this order (its id does not match
//! the one validate-payment derives from order, amount and card): refunding someone else's
//! payment is worse than refunding none.
//!
//! # Contract
//!
//! - Input: `{"orderId", "currency"?, "checks"?: {"authorization"?}, "refund"?}` (the order
//!   document has all of these; other keys are ignored).
//! - Output: [`Refund`], filed at `$.refund`.
//! - Errors: `InvalidOrder` when the authorization does not belong to the order.

use serde::Deserialize;
use stepwasm_guest::{Context, TaskError};

use order_model::{Authorization, Fingerprint, InvalidOrder, Refund, RefundStatus, errors};

/// The parts of the order document a refund needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundInput {
    /// The order being compensated.
    pub order_id: String,
    /// The order's currency, for the `NOTHING_TO_REFUND` record.
    #[serde(default)]
    pub currency: Option<String>,
    /// `$.checks`, when the payment step ran.
    #[serde(default)]
    pub checks: Option<PaymentChecks>,
    /// `$.refund`, when an earlier run of this step already refunded.
    #[serde(default)]
    pub refund: Option<Refund>,
}

/// `$.checks`, reduced to the authorization (the fraud result is irrelevant to a refund).
#[derive(Debug, Deserialize)]
pub struct PaymentChecks {
    /// validate-payment's authorization.
    #[serde(default)]
    pub authorization: Option<Authorization>,
}

/// The task function: reverse the authorization, once.
pub fn handle(input: RefundInput, _ctx: &Context) -> Result<Refund, TaskError> {
    let refund = refund(input)?;
    match &refund.refund_id {
        Some(id) => stepwasm_guest::info!("refund {id}: {} back on the card", refund.amount_cents),
        None => stepwasm_guest::info!("nothing to refund"),
    }
    Ok(refund)
}

/// The whole step, without logging, so unit tests can call it natively.
pub fn refund(input: RefundInput) -> Result<Refund, TaskError> {
    let Some(auth) = input.checks.and_then(|checks| checks.authorization) else {
        return Ok(Refund {
            status: RefundStatus::NothingToRefund,
            refund_id: None,
            authorization_id: None,
            amount_cents: 0,
            currency: input.currency.unwrap_or_else(|| "USD".to_owned()),
        });
    };

    let expected = Authorization::id_for(&input.order_id, auth.amount_cents, &auth.last4);
    if auth.authorization_id != expected {
        let problem = format!("{} was not issued for this order", auth.authorization_id);
        let report = InvalidOrder::one(&input.order_id, "checks.authorization.authorizationId", problem);
        return Err(TaskError::with_details(errors::INVALID_ORDER, &report));
    }

    // Already refunded by an earlier run: hand back the same record.
    if let Some(previous) = input.refund.filter(|previous| {
        previous.status == RefundStatus::Refunded
            && previous.authorization_id.as_deref() == Some(&auth.authorization_id)
    }) {
        return Ok(previous);
    }

    Ok(Refund {
        status: RefundStatus::Refunded,
        refund_id: Some(format!("rfnd_{}", Fingerprint::new("refund").text(&auth.authorization_id).hex())),
        authorization_id: Some(auth.authorization_id),
        amount_cents: auth.amount_cents,
        currency: auth.currency,
    })
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// The out-of-stock sample's document as it reaches RefundPayment (only the keys read).
    fn document() -> Value {
        json!({
            "orderId": "ord-1002",
            "currency": "GBP",
            "totalCents": 60599,
            "checks": {
                "authorization": {
                    "authorizationId": Authorization::id_for("ord-1002", 60599, "4444"),
                    "amountCents": 60599, "currency": "GBP", "cardBrand": "Mastercard", "last4": "4444"
                },
                "fraud": {"score": 0, "threshold": 70, "triggeredRules": []}
            },
            "error": {"Error": "OutOfStock", "Cause": "{}"}
        })
    }

    fn refund_json(doc: Value) -> Result<Refund, TaskError> {
        refund(serde_json::from_value(doc).unwrap())
    }

    #[test]
    fn reverses_the_whole_authorization() {
        let refund = refund_json(document()).unwrap();
        assert_eq!(refund.status, RefundStatus::Refunded);
        assert_eq!(refund.amount_cents, 60599);
        assert_eq!(refund.currency, "GBP");
        assert_eq!(refund.authorization_id, Some(Authorization::id_for("ord-1002", 60599, "4444")));
        assert!(refund.refund_id.as_deref().is_some_and(|id| id.starts_with("rfnd_")));
    }

    #[test]
    fn is_idempotent_by_authorization_id() {
        let first = refund_json(document()).unwrap();
        // Run again on the same document: the same refund, not a second one.
        assert_eq!(refund_json(document()).unwrap(), first);
        // Run again on a document that records the first refund: that record comes back as is.
        let mut doc = document();
        doc["refund"] = serde_json::to_value(&first).unwrap();
        assert_eq!(refund_json(doc).unwrap(), first);
    }

    #[test]
    fn nothing_to_refund_is_a_success() {
        let mut doc = document();
        doc.as_object_mut().unwrap().remove("checks");
        let refund = refund_json(doc).unwrap();
        assert_eq!(refund.status, RefundStatus::NothingToRefund);
        assert_eq!((refund.refund_id, refund.amount_cents), (None, 0));
        assert_eq!(refund.currency, "GBP");
        assert_eq!(refund_json(json!({"orderId": "ord-9"})).unwrap().currency, "USD");
    }

    #[test]
    fn refuses_an_authorization_of_another_order() {
        let mut doc = document();
        doc["orderId"] = json!("ord-1000");
        let error = refund_json(doc).unwrap_err();
        assert_eq!(error.error, "InvalidOrder");
        assert!(error.cause.contains("was not issued for this order"));
    }
}
