//! `ship-order`: hands the parcel to the carrier and captures the payment.
//!
//! This is the point of no return, so it checks that the document is consistent before acting,
//! rather than trusting that the workflow wired every step correctly:
//!
//! - the authorization covers exactly the order total (capturing more is not allowed, and less
//!   would mean the order changed after it was authorized);
//! - the reservation holds exactly the order's quantities, SKU by SKU (shipping what was not
//!   reserved would oversell);
//! - the label goes to the order's shipping address.
//!
//! Capture happens *at* shipping, not at checkout, as card networks require for physical goods.
//!
//! # Contract
//!
//! - Input: the order document ([`OrderDocument`]) with `$.checks`, `$.inventory` and
//!   `$.fulfilment`.
//! - Output: [`Shipment`], filed at `$.shipment`.
//! - Errors: `InvalidOrder` when a piece is missing or inconsistent (cause
//!   `{"orderId", "problems": [{"field", "problem"}]}`).

use stepwasm_guest::{Context, ResultExt, TaskError};

use order_model::{Fingerprint, InvalidOrder, OrderDocument, Problem, Shipment, errors, quantities_by_sku};

/// The task function: check, capture, hand over.
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(doc: OrderDocument, _ctx: &Context) -> Result<Shipment, TaskError> {
    let shipment = ship(&doc)?;
    stepwasm_guest::info!(
        "order {} handed to {} as {}; captured {}",
        doc.order_id,
        shipment.carrier,
        shipment.tracking_number,
        shipment.captured_cents
    );
    Ok(shipment)
}

/// The whole step, without logging, so unit tests can call it natively.
pub fn ship(doc: &OrderDocument) -> Result<Shipment, TaskError> {
    let order_id = doc.order_id.as_str();
    let authorization =
        OrderDocument::require(doc.authorization(), "$.checks.authorization").err_name(errors::INVALID_ORDER)?;
    let reservation = OrderDocument::require(doc.inventory.as_ref(), "$.inventory").err_name(errors::INVALID_ORDER)?;
    let fulfilment = OrderDocument::require(doc.fulfilment.as_ref(), "$.fulfilment").err_name(errors::INVALID_ORDER)?;
    let label = &fulfilment.shipping_label;

    let mut problems = Vec::new();
    if authorization.amount_cents != doc.total_cents {
        problems.push(Problem::new(
            "checks.authorization.amountCents",
            format!("authorized {} but the order totals {}", authorization.amount_cents, doc.total_cents),
        ));
    }
    let ordered = quantities_by_sku(&doc.items);
    let reserved: Vec<(String, u64)> = reservation.lines.iter().map(|line| (line.sku.clone(), line.quantity)).collect();
    if ordered != reserved {
        problems
            .push(Problem::new("inventory.lines", format!("reserved {reserved:?} but the order needs {ordered:?}")));
    }
    if label.ship_to != doc.shipping_address {
        problems
            .push(Problem::new("fulfilment.shippingLabel.shipTo", "the label is not for the order's shipping address"));
    }
    if !problems.is_empty() {
        return Err(TaskError::with_details(errors::INVALID_ORDER, &InvalidOrder::new(order_id, problems)));
    }

    Ok(Shipment {
        shipment_id: format!("shp_{}", Fingerprint::new("shipment").text(order_id).text(&label.tracking_number).hex()),
        carrier: label.carrier,
        tracking_number: label.tracking_number.clone(),
        tracking_url: label.tracking_url.clone(),
        authorization_id: authorization.authorization_id.clone(),
        captured_cents: authorization.amount_cents,
        reservation_id: reservation.reservation_id.clone(),
        estimated_delivery_days: label.estimated_delivery_days,
    })
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// The good sample's document as it reaches ShipOrder, written out as the workflow builds it.
    fn document() -> Value {
        let mut doc: Value = serde_json::from_str(include_str!("../../samples/good-order.json")).unwrap();
        doc["customer"]["phone"] = json!("+14155550132");
        doc["payment"]["cardNumber"] = json!("4242424242424242");
        doc["placedAt"] = json!("2025-11-24T09:30:00Z");
        doc["totalCents"] = json!(7194);
        doc["itemCount"] = json!(6);
        doc["checks"] = json!({
            "authorization": {"authorizationId": "auth_1", "amountCents": 7194, "currency": "USD",
                              "cardBrand": "Visa", "last4": "4242"},
            "fraud": {"score": 0, "threshold": 70, "triggeredRules": []}
        });
        doc["inventory"] = json!({"reservationId": "res_1", "warehouse": "SFO-1", "lines": [
            {"sku": "MUG-CERAMIC-350", "quantity": 2, "bin": "A-01-1", "stockAfter": 118},
            {"sku": "BOOK-RUST-2E", "quantity": 1, "bin": "B-04-2", "stockAfter": 11},
            {"sku": "STICKER-FERRIS", "quantity": 3, "bin": "A-00-9", "stockAfter": 997}
        ]});
        doc["fulfilment"] = json!({
            "shippingLabel": {"carrier": "UPS", "service": "Ground", "trackingNumber": "1Z8V5W31030000001X",
                              "trackingUrl": "https://www.ups.com/track?tracknum=1Z8V5W31030000001X",
                              "weightGrams": 1975, "estimatedDeliveryDays": 3,
                              "shipTo": doc["shippingAddress"].clone(), "labelText": "…"},
            "notifications": {
                "email": {"messageId": "m1", "from": "a@b.example", "to": "ada@example.com", "subject": "s", "textBody": "b"},
                "sms": {"messageId": "m2", "to": "+14155550132", "body": "b", "length": 1}
            }
        });
        doc
    }

    fn ship_json(doc: Value) -> Result<Shipment, TaskError> {
        ship(&serde_json::from_value(doc).unwrap())
    }

    #[test]
    fn a_consistent_document_ships_and_captures_the_authorization() {
        let shipment = ship_json(document()).unwrap();
        assert_eq!(shipment.captured_cents, 7194);
        assert_eq!(shipment.authorization_id, "auth_1");
        assert_eq!(shipment.reservation_id, "res_1");
        assert_eq!(shipment.tracking_number, "1Z8V5W31030000001X");
        assert!(shipment.shipment_id.starts_with("shp_"));
    }

    #[test]
    fn a_missing_piece_is_named() {
        let mut doc = document();
        doc.as_object_mut().unwrap().remove("inventory");
        let error = ship_json(doc).unwrap_err();
        assert_eq!(error.error, "InvalidOrder");
        assert!(error.cause.contains("$.inventory"), "{}", error.cause);
    }

    #[test]
    fn inconsistencies_are_refused_before_capturing() {
        let mut doc = document();
        doc["checks"]["authorization"]["amountCents"] = json!(7000);
        doc["inventory"]["lines"][0]["quantity"] = json!(1);
        doc["fulfilment"]["shippingLabel"]["shipTo"]["city"] = json!("Oakland");
        let error = ship_json(doc).unwrap_err();
        let cause: Value = serde_json::from_str(&error.cause).unwrap();
        let fields: Vec<&str> =
            cause["problems"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["checks.authorization.amountCents", "inventory.lines", "fulfilment.shippingLabel.shipTo"]);
    }
}
