//! `cancel-order`: the compensation that closes a failed order.
//!
//! It runs last on every failure path, after the `Catch` stored the failure at `$.error` (and,
//! when money was held, after refund-payment). It undoes what is left and tells the customer:
//!
//! - **Releases the stock** reserved at `$.inventory`, if the order got that far.
//! - **Voids the card hold** that no refund covered. Usually that is `$.checks.authorization`.
//!   One case needs care: when fraud-check rejects the order, validate-payment ran *in parallel*
//!   and may have authorized the card, but a failed Parallel state discards its branches'
//!   results, so the document never saw that authorization. Its id is derived from order,
//!   amount and card ([`Authorization::id_for`]), so cancel-order re-derives it and voids it;
//!   voiding a hold that was never placed is a no-op for a processor.
//! - **Renders the customer's notice**, explaining the reason in the customer's terms (the
//!   out-of-stock SKUs and quantities, the fields to fix, …) and what happened to their money.
//!
//! Like refund-payment, it asks for as little of the document as it can, and it never fails on
//! an unfamiliar error: an unknown reason still cancels, with a generic explanation.
//!
//! # Contract
//!
//! - Input: `{"orderId", "customer", "totalCents"?, "payment"?, "checks"?,
//!   "inventory"?, "refund"?, "error"?}` (the order document has all of these).
//! - Output: [`Cancellation`], filed at `$.cancellation`.
//! - Errors: none of its own (only the SDK's `InvalidInput` for a document without `orderId`
//!   or `customer`).

use serde::{Deserialize, Serialize};
use stepwasm_guest::{Context, TaskError};

use order_model::{
    Authorization, CaughtError, Customer, EmailMessage, Fingerprint, InvalidOrder, Refund, RefundStatus, Reservation,
    StockShortage, errors, format_money, product,
};

/// The parts of the order document a cancellation needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelInput {
    /// The order being cancelled.
    pub order_id: String,
    /// Who to tell.
    pub customer: Customer,
    /// The order total, to re-derive an unrecorded authorization.
    #[serde(default)]
    pub total_cents: Option<u64>,
    /// The card, reduced to its number, for the same purpose.
    #[serde(default)]
    pub payment: Option<CardNumber>,
    /// `$.checks`, when the payment ‖ fraud Parallel succeeded.
    #[serde(default)]
    pub checks: Option<PaymentChecks>,
    /// `$.inventory`, when stock was reserved.
    #[serde(default)]
    pub inventory: Option<Reservation>,
    /// `$.refund`, when refund-payment ran.
    #[serde(default)]
    pub refund: Option<Refund>,
    /// `$.error`, what the `Catch` caught.
    #[serde(default)]
    pub error: Option<CaughtError>,
}

/// `$.payment`, reduced to the card number.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardNumber {
    /// The normalised card number (place-order strips spaces).
    pub card_number: String,
}

/// `$.checks`, reduced to the authorization.
#[derive(Debug, Deserialize)]
pub struct PaymentChecks {
    /// validate-payment's authorization.
    #[serde(default)]
    pub authorization: Option<Authorization>,
}

/// What cancel-order did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    /// The order.
    pub order_id: String,
    /// Always `CANCELLED`.
    pub status: String,
    /// The caught error's name (`OutOfStock`), or `Unknown` when the workflow passed none.
    pub reason: String,
    /// The caught error's cause, as it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The refund that returned the money, if refund-payment ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// The card hold voided here because no refund covered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided_authorization_id: Option<String>,
    /// The stock reservation released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_reservation_id: Option<String>,
    /// The email telling the customer.
    pub customer_notice: EmailMessage,
}

/// The task function: undo what is left, and tell the customer.
pub fn handle(input: CancelInput, _ctx: &Context) -> Result<Cancellation, TaskError> {
    let cancellation = cancel(input);
    stepwasm_guest::info!(
        "cancelled order {} ({}); notice {} to {}",
        cancellation.order_id,
        cancellation.reason,
        cancellation.customer_notice.message_id,
        cancellation.customer_notice.to
    );
    Ok(cancellation)
}

/// The whole step, without logging, so unit tests can call it natively. Infallible by design.
pub fn cancel(input: CancelInput) -> Cancellation {
    let reason = input.error.as_ref().map_or("Unknown", |error| error.error.as_str()).to_owned();
    let detail = input.error.as_ref().and_then(|error| error.cause.clone());
    let refund = input.refund.as_ref().filter(|refund| refund.status == RefundStatus::Refunded);

    let recorded = input.checks.as_ref().and_then(|checks| checks.authorization.as_ref());
    let voided_authorization_id = match (refund, recorded) {
        (Some(_), _) => None,
        (None, Some(auth)) => Some(auth.authorization_id.clone()),
        (None, None) if reason == errors::FRAUD_SUSPECTED => match (&input.payment, input.total_cents) {
            (Some(card), Some(total)) => {
                let last4 = card.card_number.get(card.card_number.len().saturating_sub(4)..).unwrap_or("");
                Some(Authorization::id_for(&input.order_id, total, last4))
            }
            _ => None,
        },
        (None, None) => None,
    };

    let mut body = format!(
        "Hi {},\n\nWe are sorry: we have cancelled your order {} because {}.\n\n",
        input.customer.first_name(),
        input.order_id,
        explain(&reason, detail.as_deref())
    );
    body.push_str(&match (refund, &voided_authorization_id) {
        (Some(refund), _) => format!(
            "The {} held on your card has been released in full (refund {}).",
            format_money(refund.amount_cents, &refund.currency),
            refund.refund_id.as_deref().unwrap_or("-")
        ),
        (None, Some(_)) => "No money has been taken, and the hold on your card has been released.".to_owned(),
        (None, None) => "No money has been taken from your card.".to_owned(),
    });
    body.push_str("\n\nIf you have questions, just reply to this email.\n-- \nstepwasm sample shop\n");

    let to = input.customer.email.clone();
    Cancellation {
        status: "CANCELLED".to_owned(),
        refund_id: refund.and_then(|refund| refund.refund_id.clone()),
        voided_authorization_id,
        released_reservation_id: input.inventory.map(|reservation| reservation.reservation_id),
        customer_notice: EmailMessage {
            message_id: Fingerprint::new("cancellation-email").text(&input.order_id).text(&to).uuid(),
            from: "stepwasm sample shop <orders@shop.example>".to_owned(),
            subject: format!("Your order {} has been cancelled", input.order_id),
            to,
            text_body: body,
        },
        order_id: input.order_id,
        reason,
        detail,
    }
}

/// The part of an `OutOfStock` cause the notice uses (check-inventory writes the cause).
#[derive(Debug, Deserialize)]
struct OutOfStockCause {
    shortages: Vec<StockShortage>,
}

/// The reason, in the customer's terms. Reads the JSON causes the pipeline's functions write.
///
/// Each cause is parsed straight into the shape that reason's function writes, with no
/// `serde_json::Value` in between; a cause in any other shape, or not JSON at all, gets the
/// reason's generic wording.
fn explain(reason: &str, cause: Option<&str>) -> String {
    match reason {
        errors::PAYMENT_DECLINED => "your card issuer declined the payment".to_owned(),
        errors::FRAUD_SUSPECTED => "we could not verify the order; please contact us to complete it".to_owned(),
        errors::OUT_OF_STOCK => {
            let shortages = cause
                .and_then(|cause| serde_json::from_str::<OutOfStockCause>(cause).ok())
                .map(|cause| cause.shortages)
                .unwrap_or_default();
            let items: Vec<String> = shortages
                .iter()
                .map(|shortage| {
                    let name = product(&shortage.sku).map_or(shortage.sku.as_str(), |product| product.name);
                    if shortage.unknown_sku {
                        format!("{name} (no longer sold)")
                    } else {
                        format!("{name} (you asked for {}, we have {})", shortage.requested, shortage.available)
                    }
                })
                .collect();
            if items.is_empty() {
                "some items are out of stock".to_owned()
            } else {
                format!("we do not have enough of: {}", items.join("; "))
            }
        }
        errors::INVALID_ORDER => {
            let fields: Vec<String> = cause
                .and_then(|cause| serde_json::from_str::<InvalidOrder>(cause).ok())
                .map(|report| report.problems.into_iter().map(|problem| problem.field).collect())
                .unwrap_or_default();
            if fields.is_empty() {
                "some details of the order were not valid".to_owned()
            } else {
                format!("some details of the order were not valid ({})", fields.join(", "))
            }
        }
        errors::APPROVAL_REJECTED => "it was not approved".to_owned(),
        "States.Timeout" | "States.HeartbeatTimeout" => "it could not be processed in time".to_owned(),
        other => format!("we could not complete it ({other})"),
    }
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn document(error: &str, cause: &Value) -> Value {
        json!({
            "orderId": "ord-1001",
            "customer": {"id": "cus-grace", "name": "Grace Hopper", "email": "grace@example.com", "phone": "+12025550147"},
            "currency": "USD",
            "totalCents": 29900,
            "payment": {"cardNumber": "4000000000000002", "expiry": "08/27", "cvv": "321", "cardholder": "Grace Hopper"},
            "error": {"Error": error, "Cause": cause.to_string()}
        })
    }

    fn cancel_json(doc: Value) -> Cancellation {
        cancel(serde_json::from_value(doc).unwrap())
    }

    #[test]
    fn a_declined_card_cancels_without_touching_money() {
        let cancellation = cancel_json(document("PaymentDeclined", &json!({"declineCode": "generic_decline"})));
        assert_eq!(cancellation.status, "CANCELLED");
        assert_eq!(cancellation.reason, "PaymentDeclined");
        assert_eq!((cancellation.refund_id, cancellation.voided_authorization_id), (None, None));
        let body = &cancellation.customer_notice.text_body;
        assert!(body.contains("because your card issuer declined the payment."), "{body}");
        assert!(body.contains("No money has been taken from your card."));
        assert_eq!(cancellation.customer_notice.to, "grace@example.com");
    }

    #[test]
    fn fraud_voids_the_authorization_the_parallel_dropped() {
        let cancellation = cancel_json(document("FraudSuspected", &json!({"score": 70})));
        assert_eq!(cancellation.voided_authorization_id, Some(Authorization::id_for("ord-1001", 29900, "0002")));
        assert!(cancellation.customer_notice.text_body.contains("the hold on your card has been released"));
    }

    #[test]
    fn out_of_stock_after_a_refund_names_the_items_and_the_refund() {
        let mut doc = document(
            "OutOfStock",
            &json!({"orderId": "ord-1001", "shortages": [
                {"sku": "KEYBOARD-MECH", "requested": 5, "available": 3, "unknownSku": false}
            ]}),
        );
        doc["checks"] = json!({"authorization": {"authorizationId": "auth_1", "amountCents": 29900, "currency": "USD",
                                                  "cardBrand": "Visa", "last4": "0002"}});
        doc["refund"] = json!({"status": "REFUNDED", "refundId": "rfnd_1", "authorizationId": "auth_1",
                               "amountCents": 29900, "currency": "USD"});
        let cancellation = cancel_json(doc);
        assert_eq!(cancellation.refund_id.as_deref(), Some("rfnd_1"));
        assert_eq!(cancellation.voided_authorization_id, None, "the refund already covers the hold");
        let body = &cancellation.customer_notice.text_body;
        assert!(body.contains("we do not have enough of: Mechanical keyboard (you asked for 5, we have 3)"), "{body}");
        assert!(body.contains("The 299.00 USD held on your card has been released in full (refund rfnd_1)."), "{body}");
    }

    #[test]
    fn a_late_failure_releases_the_reservation_and_voids_the_recorded_hold() {
        let mut doc = document("States.TaskFailed", &json!("boom"));
        doc["checks"] = json!({"authorization": {"authorizationId": "auth_9", "amountCents": 29900, "currency": "USD",
                                                  "cardBrand": "Visa", "last4": "0002"}});
        doc["inventory"] = json!({"reservationId": "res_9", "warehouse": "SFO-1", "lines": []});
        let cancellation = cancel_json(doc);
        assert_eq!(cancellation.released_reservation_id.as_deref(), Some("res_9"));
        assert_eq!(cancellation.voided_authorization_id.as_deref(), Some("auth_9"));
        assert!(cancellation.customer_notice.text_body.contains("we could not complete it (States.TaskFailed)"));
    }

    #[test]
    fn invalid_orders_name_the_fields_and_a_missing_error_still_cancels() {
        let cause = json!({"orderId": "ord-1001", "problems": [{"field": "payment.cvv", "problem": "x"}]});
        assert!(
            cancel_json(document("InvalidOrder", &cause)).customer_notice.text_body.contains("not valid (payment.cvv)")
        );
        // A cause in some other shape still cancels, with the generic wording.
        let text = cancel_json(document("InvalidOrder", &json!("bad cvv"))).customer_notice.text_body;
        assert!(text.contains("some details of the order were not valid."), "{text}");

        let mut doc = document("x", &json!(null));
        doc.as_object_mut().unwrap().remove("error");
        let cancellation = cancel_json(doc);
        assert_eq!(cancellation.reason, "Unknown");
        assert_eq!(cancellation.detail, None);
    }
}
