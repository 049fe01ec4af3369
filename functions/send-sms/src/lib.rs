//! `send-sms`: renders the order confirmation text message.
//!
//! It builds the real text with a derived message id (stable across retries, like send-email's).
//! With `SMS_API_URL` set (and its origin granted), it hands the text to that SMS gateway
//! (`POST /sms`, the `SMS_API_KEY` secret as bearer token); without it, rendering is the step.
//!
//! **One segment.** An SMS carries 160 characters of the GSM 03.38 alphabet; a longer text is
//! split into segments that are billed separately and may arrive out of order, and a single
//! character outside that alphabet switches the whole text to UCS-2, where a segment holds only
//! 70. So the text is built from safe characters only, and shortened step by step until it fits
//! 160: first the greeting goes (the customer's name is the one part we do not control; it is
//! also left out when it has characters outside the safe set), then the closing sentence, and
//! as a last resort the text is cut.
//!
//! # Contract
//!
//! - Input: the order document ([`OrderDocument`]).
//! - Output: [`SmsMessage`], filed at `$.fulfilment.notifications.sms`.
//! - Errors: `InvalidOrder` when `customer.phone` is not E.164 (SNS would reject it).

use stepwasm_guest::{Context, TaskError};

use order_model::{
    Fingerprint, InvalidOrder, OrderDocument, SmsMessage, errors, format_money, is_valid_phone, providers,
};

/// The longest text that fits one SMS segment in the GSM 7-bit alphabet.
pub const MAX_SMS_CHARS: usize = 160;

/// The task function: render, and hand the text to the SMS gateway when one is configured (see
/// [`order_model::providers`]).
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(doc: OrderDocument, _ctx: &Context) -> Result<SmsMessage, TaskError> {
    let sms = render(&doc)?;
    // The message id is the idempotency key: a retried step cannot text the customer twice.
    if let Some(response) = providers::SMS.post("/sms", &sms.message_id, &sms)? {
        response.error_for_status()?;
        stepwasm_guest::info!("sms {} to {} ({} chars) accepted by the gateway", sms.message_id, sms.to, sms.length);
    } else {
        stepwasm_guest::info!("sms {} to {} ({} chars)", sms.message_id, sms.to, sms.length);
    }
    Ok(sms)
}

/// Renders the confirmation text for an order document.
pub fn render(doc: &OrderDocument) -> Result<SmsMessage, TaskError> {
    let to = doc.customer.phone.as_str();
    if !is_valid_phone(to) {
        let report = InvalidOrder::one(&doc.order_id, "customer.phone", format!("{to:?} is not an E.164 number"));
        return Err(TaskError::with_details(errors::INVALID_ORDER, &report));
    }

    let units = doc.item_count;
    let core = format!(
        "order {} is confirmed: {units} item{}, {}.",
        doc.order_id,
        if units == 1 { "" } else { "s" },
        format_money(doc.total_cents, &doc.currency)
    );
    let first_name = doc.customer.first_name();
    let closing = " We'll text you the tracking number when it ships.";

    // From friendliest to shortest; the first that fits wins.
    let mut candidates = Vec::new();
    if first_name.chars().all(is_gsm_safe) {
        candidates.push(format!("Hi {first_name}, your {core}{closing}"));
    }
    candidates.push(format!("Your {core}{closing}"));
    candidates.push(format!("Your {core}"));
    let body = candidates
        .into_iter()
        .find(|text| text.chars().count() <= MAX_SMS_CHARS)
        .unwrap_or_else(|| cut(&format!("Your {core}")));

    Ok(SmsMessage {
        message_id: Fingerprint::new("sms").text(&doc.order_id).text(to).uuid(),
        to: to.to_owned(),
        length: body.chars().count(),
        body,
    })
}

/// Characters that are one septet in GSM 03.38's basic table *and* plain ASCII: letters,
/// digits, space and common punctuation. (Brackets, `~`, `^` and `|` are GSM escapes costing
/// two; accented letters are partly in the table, but leaving them out keeps the rule simple.)
fn is_gsm_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || " !\"#%&'()*+,-./:;<=>?@_$".contains(c)
}

/// Cuts a text to one segment, marking the cut. Only reached for an order id far longer than
/// place-order allows, but a stand-in for SNS must still never send two segments.
fn cut(text: &str) -> String {
    let mut cut: String = text.chars().filter(|c| is_gsm_safe(*c)).take(MAX_SMS_CHARS - 3).collect();
    cut.push_str("...");
    cut
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use order_model::{Order, PlacedOrder, Timestamp};

    use super::*;

    fn doc(edit: impl FnOnce(&mut Order)) -> OrderDocument {
        let mut order: Order = serde_json::from_str(include_str!("../../samples/good-order.json")).unwrap();
        order.customer.phone = "+14155550132".into();
        edit(&mut order);
        let placed = PlacedOrder::new(order, Timestamp::parse("2025-11-24T09:30:00Z").unwrap()).unwrap();
        OrderDocument::from(placed)
    }

    #[test]
    fn the_good_sample_gets_the_full_friendly_text() {
        let sms = render(&doc(|_| {})).unwrap();
        assert_eq!(
            sms.body,
            "Hi Ada, your order ord-1000 is confirmed: 6 items, 71.94 USD. We'll text you the tracking number when it ships."
        );
        assert_eq!(sms.length, sms.body.chars().count());
        assert!(sms.length <= MAX_SMS_CHARS);
        assert_eq!(sms.to, "+14155550132");
    }

    #[test]
    fn long_texts_are_shortened_to_one_segment() {
        let long_id = "x".repeat(64);
        let sms = render(&doc(|order| {
            order.order_id = long_id.clone();
            order.customer.name = "Bartholomew-Maximilian".into();
        }))
        .unwrap();
        assert!(sms.length <= MAX_SMS_CHARS, "{} chars: {}", sms.length, sms.body);
        assert!(sms.body.contains(&long_id), "the order id survives: {}", sms.body);
        assert!(!sms.body.starts_with("Hi"), "the greeting went first: {}", sms.body);

        // Far beyond anything place-order lets through: cut, but still one segment.
        let sms = render(&doc(|order| order.order_id = "y".repeat(300))).unwrap();
        assert_eq!(sms.length, MAX_SMS_CHARS);
        assert!(sms.body.ends_with("..."));
    }

    #[test]
    fn names_outside_the_gsm_alphabet_are_left_out() {
        let sms = render(&doc(|order| order.customer.name = "Zoë Ångström".into())).unwrap();
        assert!(sms.body.starts_with("Your order"), "{}", sms.body);
        assert!(sms.body.chars().all(is_gsm_safe));
    }

    #[test]
    fn one_item_is_singular() {
        let sms = render(&doc(|order| order.items.truncate(1))).unwrap();
        assert!(sms.body.contains("2 items"));
        let sms = render(&doc(|order| {
            order.items.truncate(1);
            order.items[0].quantity = 1;
        }))
        .unwrap();
        assert!(sms.body.contains("1 item, 12.99 USD"), "{}", sms.body);
    }

    #[test]
    fn a_number_that_is_not_e164_is_invalid_order() {
        let error = render(&doc(|order| order.customer.phone = "555-0132".into())).unwrap_err();
        assert_eq!(error.error, "InvalidOrder");
        assert!(error.cause.contains("customer.phone"));
    }
}
