//! `send-email`: renders the order confirmation email.
//!
//! It builds the real message (subject, plain-text body with the lines, total, payment and
//! delivery address) with a message id. With `EMAIL_API_URL` set (and its origin granted), it
//! hands the message to that email provider (`POST /emails`, the `EMAIL_API_KEY` secret as
//! bearer token); without it, rendering is the whole step.
//!
//! The message id is derived from the order and the recipient, so a retried step produces the
//! same id, which lets a mail service drop the duplicate instead of mailing the customer twice.
//!
//! The email is sent in parallel with the shipping label, so it cannot contain the tracking
//! number; it says the tracking number follows.
//!
//! # Contract
//!
//! - Input: the order document ([`OrderDocument`]); uses `$.checks.authorization` if present.
//! - Output: [`EmailMessage`], filed at `$.fulfilment.notifications.email`.
//! - Errors: `InvalidOrder` when `customer.email` is not an email address (SES would reject it).

use std::fmt::Write as _;

use stepwasm_guest::{Context, TaskError};

use order_model::{
    EmailMessage, Fingerprint, InvalidOrder, OrderDocument, errors, format_money, is_valid_email, product, providers,
};

/// The sender address.
const FROM: &str = "stepwasm sample shop <orders@shop.example>";

/// The task function: render, and hand the message to the email provider when one is
/// configured (see [`order_model::providers`]).
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(doc: OrderDocument, _ctx: &Context) -> Result<EmailMessage, TaskError> {
    let email = render(&doc)?;
    // The message id is the idempotency key: a retried step cannot mail the customer twice.
    if let Some(response) = providers::EMAIL.post("/emails", &email.message_id, &email)? {
        response.error_for_status()?;
        stepwasm_guest::info!("email {} to {} accepted by the provider: {}", email.message_id, email.to, email.subject);
    } else {
        stepwasm_guest::info!("email {} to {}: {}", email.message_id, email.to, email.subject);
    }
    Ok(email)
}

/// Renders the confirmation for an order document.
pub fn render(doc: &OrderDocument) -> Result<EmailMessage, TaskError> {
    let to = doc.customer.email.as_str();
    if !is_valid_email(to) {
        let report = InvalidOrder::one(&doc.order_id, "customer.email", format!("{to:?} is not an email address"));
        return Err(TaskError::with_details(errors::INVALID_ORDER, &report));
    }

    let money = |cents: u64| format_money(cents, &doc.currency);
    let mut body = format!(
        "Hi {},\n\nThank you for your order {}. Here is what we are getting ready for you:\n\n",
        doc.customer.first_name(),
        doc.order_id
    );
    for item in &doc.items {
        // The catalog's name reads better than a SKU; an unknown SKU still shows up as itself.
        let name = product(&item.sku).map_or(item.sku.as_str(), |product| product.name);
        let line_total = item.unit_price_cents.saturating_mul(u64::from(item.quantity));
        // `write!` to a String cannot fail.
        let _ = writeln!(body, "  {:>3} x {:<44} {:>16}", item.quantity, name, money(line_total));
    }
    let _ = writeln!(body, "\n  {:<50} {:>16}\n", "Total", money(doc.total_cents));

    // The card is authorized now and charged when the parcel ships: say exactly that.
    if let Some(auth) = doc.authorization() {
        let _ = writeln!(
            body,
            "We have reserved {} on your {} ending in {}; you will be charged when your parcel ships.\n",
            money(auth.amount_cents),
            auth.card_brand,
            auth.last4
        );
    }
    body.push_str("It will be delivered to:\n\n");
    let _ = writeln!(body, "  {}", doc.customer.name);
    for line in doc.shipping_address.lines() {
        let _ = writeln!(body, "  {line}");
    }
    let _ = write!(
        body,
        "\nWe will email you the tracking number as soon as it leaves our warehouse.\n\n\
         Order placed {}.\n-- \nstepwasm sample shop\n",
        doc.placed_at
    );

    Ok(EmailMessage {
        message_id: Fingerprint::new("email").text(&doc.order_id).text(to).uuid(),
        from: FROM.to_owned(),
        to: to.to_owned(),
        subject: format!("Your order {} is confirmed", doc.order_id),
        text_body: body,
    })
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use order_model::{Order, PlacedOrder, Timestamp};

    use super::*;

    fn doc(edit: impl FnOnce(&mut Order)) -> OrderDocument {
        let mut order: Order = serde_json::from_str(include_str!("../../samples/good-order.json")).unwrap();
        edit(&mut order);
        let placed = PlacedOrder::new(order, Timestamp::parse("2025-11-24T09:30:00Z").unwrap()).unwrap();
        let mut json = serde_json::to_value(placed).unwrap();
        json["checks"] = json!({
            "authorization": {"authorizationId": "auth_x", "amountCents": 7194, "currency": "USD",
                              "cardBrand": "Visa", "last4": "4242"},
            "fraud": {"score": 0, "threshold": 70, "triggeredRules": []}
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn renders_the_order_into_the_message() {
        let email = render(&doc(|_| {})).unwrap();
        assert_eq!(email.to, "ada@example.com");
        assert_eq!(email.subject, "Your order ord-1000 is confirmed");
        let body = &email.text_body;
        assert!(body.starts_with("Hi Ada,\n"));
        assert!(body.contains("2 x Ceramic mug, 350 ml"), "{body}");
        assert!(body.contains("25.98 USD"), "line total of two mugs: {body}");
        assert!(body.contains("71.94 USD"), "order total: {body}");
        assert!(body.contains("Visa ending in 4242"));
        assert!(body.contains("  Suite 300\n  94105 San Francisco\n  US\n"));
        assert!(body.contains("Order placed 2025-11-24T09:30:00Z."));
    }

    #[test]
    fn message_ids_are_stable_per_order_and_recipient() {
        let first = render(&doc(|_| {})).unwrap().message_id;
        assert_eq!(render(&doc(|_| {})).unwrap().message_id, first);
        let other = render(&doc(|order| order.customer.email = "ada@example.org".into())).unwrap().message_id;
        assert_ne!(other, first);
        assert_eq!(first.len(), 36);
    }

    #[test]
    fn a_bad_address_is_invalid_order() {
        let error = render(&doc(|order| order.customer.email = "ada at example.com".into())).unwrap_err();
        assert_eq!(error.error, "InvalidOrder");
        assert!(error.cause.contains("customer.email"));
    }

    #[test]
    fn without_an_authorization_the_payment_sentence_is_left_out() {
        let mut doc = doc(|_| {});
        doc.checks = None;
        let email = render(&doc).unwrap();
        assert!(!email.text_body.contains("reserved"));
    }
}
