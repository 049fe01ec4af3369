//! `complete-order`: the last step; checks the finished document and summarises it.
//!
//! The workflow files this step's result at `$`, so the [`OrderSummary`] *replaces* the order
//! document and becomes the execution's output. That is deliberate tidiness: the output a
//! caller of `DescribeExecution` sees holds the ids support staff need and no card data.
//!
//! Before summarising, it checks that every step left its piece and that the money adds up (the
//! captured amount is the order total), so a wiring mistake in the workflow fails loudly here
//! instead of producing a "completed" order that was never paid.
//!
//! # Contract
//!
//! - Input: the order document ([`OrderDocument`]) after ship-order.
//! - Output: [`OrderSummary`], the execution's output.
//! - Errors: `InvalidOrder` when a piece is missing or the captured amount is not the total.

use serde::{Deserialize, Serialize};
use stepwasm_guest::{Context, ResultExt, TaskError};

use order_model::{Carrier, InvalidOrder, OrderDocument, errors, format_money};

/// What a completed order execution returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    /// The order.
    pub order_id: String,
    /// Always `COMPLETED`: a failed order ends the execution with an error instead.
    pub status: String,
    /// The buyer.
    pub customer_id: String,
    /// When it was placed.
    pub placed_at: String,
    /// Units shipped.
    pub item_count: u64,
    /// The order total, in minor units.
    pub total_cents: u64,
    /// ISO 4217 code of the amounts.
    pub currency: String,
    /// The captured authorization.
    pub authorization_id: String,
    /// The amount captured, in minor units (equal to `totalCents`).
    pub captured_cents: u64,
    /// The fraud score the order passed with.
    pub fraud_score: u32,
    /// The stock reservation it was picked from.
    pub reservation_id: String,
    /// Who carries it.
    pub carrier: Carrier,
    /// Its tracking number.
    pub tracking_number: String,
    /// Where to follow it.
    pub tracking_url: String,
    /// The confirmation email's message id.
    pub email_message_id: String,
    /// The confirmation SMS's message id.
    pub sms_message_id: String,
    /// Who approved the order, in the approval workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// One line for people and logs.
    pub summary: String,
}

/// The task function: check and summarise.
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(doc: OrderDocument, _ctx: &Context) -> Result<OrderSummary, TaskError> {
    let summary = complete(&doc)?;
    stepwasm_guest::info!("{}", summary.summary);
    Ok(summary)
}

/// The whole step, without logging, so unit tests can call it natively.
pub fn complete(doc: &OrderDocument) -> Result<OrderSummary, TaskError> {
    let checks = OrderDocument::require(doc.checks.as_ref(), "$.checks").err_name(errors::INVALID_ORDER)?;
    let reservation = OrderDocument::require(doc.inventory.as_ref(), "$.inventory").err_name(errors::INVALID_ORDER)?;
    let fulfilment = OrderDocument::require(doc.fulfilment.as_ref(), "$.fulfilment").err_name(errors::INVALID_ORDER)?;
    let shipment = OrderDocument::require(doc.shipment.as_ref(), "$.shipment").err_name(errors::INVALID_ORDER)?;

    if shipment.captured_cents != doc.total_cents {
        let problem = format!("captured {} of a {} total", shipment.captured_cents, doc.total_cents);
        let report = InvalidOrder::one(&doc.order_id, "shipment.capturedCents", problem);
        return Err(TaskError::with_details(errors::INVALID_ORDER, &report));
    }

    let total = format_money(doc.total_cents, &doc.currency);
    Ok(OrderSummary {
        summary: format!(
            "order {} completed: {} item(s), {total} captured, shipped with {} as {}",
            doc.order_id, doc.item_count, shipment.carrier, shipment.tracking_number
        ),
        order_id: doc.order_id.clone(),
        status: "COMPLETED".to_owned(),
        customer_id: doc.customer.id.clone(),
        placed_at: doc.placed_at.clone(),
        item_count: doc.item_count,
        total_cents: doc.total_cents,
        currency: doc.currency.clone(),
        authorization_id: checks.authorization.authorization_id.clone(),
        captured_cents: shipment.captured_cents,
        fraud_score: checks.fraud.score,
        reservation_id: reservation.reservation_id.clone(),
        carrier: shipment.carrier,
        tracking_number: shipment.tracking_number.clone(),
        tracking_url: shipment.tracking_url.clone(),
        email_message_id: fulfilment.notifications.email.message_id.clone(),
        sms_message_id: fulfilment.notifications.sms.message_id.clone(),
        approved_by: doc.approval.as_ref().and_then(|approval| approval.approved_by.clone()),
    })
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn document() -> Value {
        let mut doc: Value = serde_json::from_str(include_str!("../../samples/good-order.json")).unwrap();
        doc["placedAt"] = json!("2025-11-24T09:30:00Z");
        doc["totalCents"] = json!(7194);
        doc["itemCount"] = json!(6);
        doc["checks"] = json!({
            "authorization": {"authorizationId": "auth_1", "amountCents": 7194, "currency": "USD",
                              "cardBrand": "Visa", "last4": "4242"},
            "fraud": {"score": 10, "threshold": 70, "triggeredRules": []}
        });
        doc["inventory"] = json!({"reservationId": "res_1", "warehouse": "SFO-1", "lines": []});
        doc["fulfilment"] = json!({
            "shippingLabel": {"carrier": "UPS", "service": "Ground", "trackingNumber": "1Z1", "trackingUrl": "u",
                              "weightGrams": 1975, "estimatedDeliveryDays": 3,
                              "shipTo": doc["shippingAddress"].clone(), "labelText": "…"},
            "notifications": {
                "email": {"messageId": "email-1", "from": "a@b.example", "to": "ada@example.com", "subject": "s", "textBody": "b"},
                "sms": {"messageId": "sms-1", "to": "+14155550132", "body": "b", "length": 1}
            }
        });
        doc["shipment"] = json!({"shipmentId": "shp_1", "carrier": "UPS", "trackingNumber": "1Z1", "trackingUrl": "u",
                                 "authorizationId": "auth_1", "capturedCents": 7194, "reservationId": "res_1",
                                 "estimatedDeliveryDays": 3});
        doc
    }

    fn complete_json(doc: Value) -> Result<OrderSummary, TaskError> {
        complete(&serde_json::from_value(doc).unwrap())
    }

    #[test]
    fn summarises_every_step_without_card_data() {
        let summary = complete_json(document()).unwrap();
        assert_eq!(summary.status, "COMPLETED");
        assert_eq!((summary.fraud_score, summary.captured_cents), (10, 7194));
        assert_eq!((summary.email_message_id.as_str(), summary.sms_message_id.as_str()), ("email-1", "sms-1"));
        assert_eq!(summary.summary, "order ord-1000 completed: 6 item(s), 71.94 USD captured, shipped with UPS as 1Z1");
        let json = serde_json::to_string(&summary).unwrap();
        assert!(!json.contains("4242424242424242") && !json.contains("cardNumber"));
        assert!(!json.contains("approvedBy"));
    }

    #[test]
    fn the_approver_is_kept() {
        let mut doc = document();
        doc["approval"] = json!({"approved": true, "approvedBy": "grace@shop.example"});
        assert_eq!(complete_json(doc).unwrap().approved_by.as_deref(), Some("grace@shop.example"));
    }

    #[test]
    fn an_unshipped_or_short_captured_order_is_not_completed() {
        let mut doc = document();
        doc.as_object_mut().unwrap().remove("shipment");
        assert!(complete_json(doc).unwrap_err().cause.contains("$.shipment"));

        let mut doc = document();
        doc["shipment"]["capturedCents"] = json!(7000);
        let error = complete_json(doc).unwrap_err();
        assert_eq!(error.error, "InvalidOrder");
        assert!(error.cause.contains("captured 7000 of a 7194 total"));
    }
}
