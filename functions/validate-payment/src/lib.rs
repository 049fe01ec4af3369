//! `validate-payment`: checks the card and authorizes the order total.
//!
//! It plays the card processor's part in a test environment: it validates the card fields the
//! way a checkout form and a processor would, declines the processor's well-known *decline test
//! cards*, and otherwise returns an [`Authorization`], a hold for the order total that ship-order
//! later captures and refund-payment can reverse.
//!
//! The checks, in the order a processor applies them:
//!
//! - **Card number**: digits only, 13–19 of them (the ISO/IEC 7812 range), passing the Luhn
//!   checksum, which catches every single-digit typo and most swaps of neighbouring digits.
//! - **Expiry** `MM/YY`: the card is valid through the *last day* of that month, judged against
//!   the order's `placedAt`, never a clock, so a replay next year decides the same way.
//! - **CVV**: 3 or 4 digits (American Express prints 4).
//! - **Cardholder**: present.
//!
//! Field problems are the customer's to fix, so they fail as `InvalidOrder` listing every
//! problem. A decline is the issuer's decision and fails as `PaymentDeclined`: retrying the same
//! card cannot help, so the workflow catches it and cancels the order.
//!
//! # Contract
//!
//! - Input: the order document ([`PlacedOrder`]; extra keys are ignored).
//! - Output: [`Authorization`], filed by the workflow at `$.checks.authorization`.
//! - Errors: `InvalidOrder` (`{"orderId", "problems": [{"field", "problem"}]}`),
//!   `PaymentDeclined` (`{"orderId", "declineCode", "message", "last4"}`), and when a processor
//!   is configured, the `Http.*` names of [`stepwasm_guest::http`].
//!
//! With `PAYMENT_API_URL` set (and its origin granted), a card that passes these checks is
//! then held with the processor (`POST /authorizations`, the authorization as JSON, the
//! `PAYMENT_API_KEY` secret as bearer token); its 402 is a decline.

use serde::Serialize;
use stepwasm_guest::{Context, TaskError};

use order_model::{Authorization, CardBrand, InvalidOrder, PlacedOrder, Problem, Timestamp, errors, providers};

/// Card numbers a test processor always declines, with the decline code it reports.
///
/// These are the numbers payment processors document for testing declines (Stripe's, for
/// instance), so a storefront's test suite can drive the decline path without a real card.
const DECLINE_TEST_CARDS: &[(&str, &str, &str)] = &[
    ("4000000000000002", "generic_decline", "The card issuer declined the payment."),
    ("4000000000009995", "insufficient_funds", "The card has insufficient funds."),
    ("4000000000009987", "lost_card", "The card has been reported lost."),
];

/// The cause of a `PaymentDeclined` error.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Decline<'a> {
    order_id: &'a str,
    decline_code: &'a str,
    message: &'a str,
    last4: &'a str,
}

/// What the processor says when it refuses a hold (HTTP 402).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessorDecline {
    decline_code: String,
    message: String,
}

/// The task function: validate the card, then authorize, with the card processor when one is
/// configured (see [`order_model::providers`]).
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(order: PlacedOrder, _ctx: &Context) -> Result<Authorization, TaskError> {
    let result = authorize(&order).and_then(|authorization| hold_with_processor(&order, authorization));
    match &result {
        Ok(auth) => stepwasm_guest::info!(
            "authorized {} on {} ending {} for order {}",
            auth.amount_cents,
            auth.card_brand,
            auth.last4,
            order.order_id
        ),
        Err(error) => stepwasm_guest::warn!("payment for order {} failed: {error}", order.order_id),
    }
    result
}

/// Asks the processor to hold the amount. The authorization id is the idempotency key, so a
/// retried step never places a second hold.
fn hold_with_processor(order: &PlacedOrder, authorization: Authorization) -> Result<Authorization, TaskError> {
    let Some(response) =
        providers::PAYMENTS.post("/authorizations", &authorization.authorization_id, &authorization)?
    else {
        return Ok(authorization);
    };
    if response.status() == 402 {
        let decline: ProcessorDecline = response.json()?;
        let decline = Decline {
            order_id: &order.order_id,
            decline_code: &decline.decline_code,
            message: &decline.message,
            last4: &authorization.last4,
        };
        return Err(TaskError::with_details(errors::PAYMENT_DECLINED, &decline));
    }
    response.error_for_status()?;
    Ok(authorization)
}

/// The whole step, without logging, so unit tests can call it natively.
pub fn authorize(order: &PlacedOrder) -> Result<Authorization, TaskError> {
    let payment = &order.payment;
    let order_id = order.order_id.as_str();

    let problems = check_card(order);
    if !problems.is_empty() {
        return Err(TaskError::with_details(errors::INVALID_ORDER, &InvalidOrder::new(order_id, problems)));
    }

    let last4 = payment.last4();
    if let Some((_, code, message)) = DECLINE_TEST_CARDS.iter().find(|(card, _, _)| *card == payment.card_number) {
        let decline = Decline { order_id, decline_code: code, message, last4 };
        return Err(TaskError::with_details(errors::PAYMENT_DECLINED, &decline));
    }

    Ok(Authorization {
        authorization_id: Authorization::id_for(order_id, order.total_cents, last4),
        amount_cents: order.total_cents,
        currency: order.currency.clone(),
        card_brand: card_brand(&payment.card_number),
        last4: last4.to_owned(),
    })
}

/// Every problem with the card fields, empty when they are fine.
pub fn check_card(order: &PlacedOrder) -> Vec<Problem> {
    let payment = &order.payment;
    let mut problems = Vec::new();

    let number = payment.card_number.as_str();
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        problems.push(Problem::new("payment.cardNumber", "must contain digits only"));
    } else if !(13..=19).contains(&number.len()) {
        problems.push(Problem::new("payment.cardNumber", "must have 13 to 19 digits"));
    } else if !luhn_valid(number) {
        problems.push(Problem::new("payment.cardNumber", "is not a valid card number (Luhn check failed)"));
    }

    match (parse_expiry(&payment.expiry), order.placed_at()) {
        (None, _) => problems.push(Problem::new("payment.expiry", "must be MM/YY with a month from 01 to 12")),
        (Some(expiry), Some(placed_at)) if is_expired(expiry, placed_at) => problems.push(Problem::new(
            "payment.expiry",
            format!("the card expired ({}) before the order was placed ({})", payment.expiry, order.placed_at),
        )),
        (Some(_), Some(_)) => {}
        // place-order always writes a valid placedAt; an edited document cannot skip the check.
        (Some(_), None) => problems.push(Problem::new("placedAt", "must be an RFC 3339 timestamp")),
    }

    let cvv = payment.cvv.as_str();
    if !(3..=4).contains(&cvv.len()) || !cvv.chars().all(|c| c.is_ascii_digit()) {
        problems.push(Problem::new("payment.cvv", "must be 3 or 4 digits"));
    }
    if payment.cardholder.trim().is_empty() {
        problems.push(Problem::new("payment.cardholder", "must not be empty"));
    }
    problems
}

/// The Luhn (mod 10) checksum of a string of ASCII digits.
///
/// From the right, every second digit is doubled (9 + … subtracted when it exceeds 9); the sum
/// of all digits must be a multiple of 10.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (position, c) in digits.bytes().rev().enumerate() {
        if !c.is_ascii_digit() {
            return false;
        }
        let mut digit = u32::from(c - b'0');
        if position % 2 == 1 {
            digit *= 2;
            if digit > 9 {
                digit -= 9;
            }
        }
        sum += digit;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// The card network, from the number's issuer identification prefix.
pub fn card_brand(digits: &str) -> CardBrand {
    let prefix = |len: usize| digits.get(..len).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
    match (prefix(1), prefix(2), prefix(3), prefix(4)) {
        (4, _, _, _) => CardBrand::Visa,
        (_, 51..=55, _, _) | (_, _, _, 2221..=2720) => CardBrand::Mastercard,
        (_, 34 | 37, _, _) => CardBrand::Amex,
        (_, 65, _, _) | (_, _, 644..=649, _) | (_, _, _, 6011) => CardBrand::Discover,
        _ => CardBrand::Unknown,
    }
}

/// Parses `MM/YY` into (year, month). Two-digit years are taken as 20YY: cards are issued for
/// at most a few years ahead, so the century is never in doubt.
pub fn parse_expiry(expiry: &str) -> Option<(i64, u32)> {
    let (month, year) = expiry.split_once('/')?;
    if month.len() != 2 || year.len() != 2 || !(month.chars().chain(year.chars())).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let month: u32 = month.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    (1..=12).contains(&month).then_some((2000 + year, month))
}

/// A card is good through the end of its expiry month, so it has expired only once the order
/// was placed in a *later* month.
fn is_expired((year, month): (i64, u32), placed_at: Timestamp) -> bool {
    let (placed_year, placed_month, _) = placed_at.date();
    (year, month) < (placed_year, placed_month)
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use order_model::Order;

    use super::*;

    fn placed(json: &str, placed_at: &str) -> PlacedOrder {
        let mut order: Order = serde_json::from_str(json).unwrap();
        order.payment.card_number.retain(|c| c.is_ascii_digit());
        PlacedOrder::new(order, Timestamp::parse(placed_at).unwrap()).unwrap()
    }

    fn good() -> PlacedOrder {
        placed(include_str!("../../samples/good-order.json"), "2025-11-24T09:30:00Z")
    }

    fn fields(error: &TaskError) -> Vec<String> {
        let cause: Value = serde_json::from_str(&error.cause).unwrap();
        cause["problems"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn luhn_accepts_real_test_numbers_and_rejects_typos() {
        for valid in ["4242424242424242", "5555555555554444", "378282246310005", "6011111111111117", "79927398713"] {
            assert!(luhn_valid(valid), "{valid}");
        }
        // One digit changed, and two neighbours swapped.
        assert!(!luhn_valid("4242424242424241"));
        assert!(!luhn_valid("4242424242424224"));
        assert!(!luhn_valid("79927398710"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn a_good_card_is_authorized_for_the_total() {
        let order = good();
        let auth = authorize(&order).unwrap();
        assert_eq!(auth.amount_cents, 7194);
        assert_eq!(auth.last4, "4242");
        assert_eq!(auth.card_brand, CardBrand::Visa);
        assert_eq!(auth.authorization_id, Authorization::id_for("ord-1000", 7194, "4242"));
        // Deterministic: a retry asks for the same authorization, not a second hold.
        assert_eq!(authorize(&order).unwrap(), auth);
    }

    #[test]
    fn the_decline_test_card_is_declined() {
        let order = placed(include_str!("../../samples/declined-card.json"), "2025-11-24T10:05:00Z");
        let error = authorize(&order).unwrap_err();
        assert_eq!(error.error, "PaymentDeclined");
        let cause: Value = serde_json::from_str(&error.cause).unwrap();
        assert_eq!(cause["declineCode"], "generic_decline");
        assert_eq!(cause["last4"], "0002");
        assert_eq!(cause["orderId"], "ord-1001");
    }

    #[test]
    fn field_problems_are_invalid_order_and_all_reported() {
        let mut order = good();
        order.payment.card_number = "4242424242424241".into();
        order.payment.cvv = "12".into();
        order.payment.expiry = "13/28".into();
        let error = authorize(&order).unwrap_err();
        assert_eq!(error.error, "InvalidOrder");
        assert_eq!(fields(&error), ["payment.cardNumber", "payment.expiry", "payment.cvv"]);

        for (number, problem) in [("4242-4242", "digits only"), ("424242424242", "13 to 19"), ("", "digits only")] {
            let mut order = good();
            order.payment.card_number = number.into();
            let error = authorize(&order).unwrap_err();
            assert!(error.cause.contains(problem), "{number}: {}", error.cause);
        }
    }

    #[test]
    fn invalid_fields_are_reported_before_a_decline() {
        let mut order = placed(include_str!("../../samples/declined-card.json"), "2025-11-24T10:05:00Z");
        order.payment.cvv = "1".into();
        assert_eq!(authorize(&order).unwrap_err().error, "InvalidOrder");
    }

    #[test]
    fn expiry_is_judged_against_placed_at_to_the_end_of_the_month() {
        let json = include_str!("../../samples/good-order.json");
        let with_expiry = |expiry: &str, placed_at: &str| {
            let mut order = placed(json, placed_at);
            order.payment.expiry = expiry.into();
            authorize(&order)
        };
        // Expiring this month: still good on its last day.
        assert!(with_expiry("11/25", "2025-11-30T23:59:59Z").is_ok());
        assert!(with_expiry("11/25", "2025-12-01T00:00:00Z").is_err());
        // The month is the UTC month: 00:30 in Berlin on 1 December is still November in UTC.
        assert!(with_expiry("11/25", "2025-12-01T00:30:00+01:00").is_ok());
        assert!(with_expiry("12/24", "2025-01-01T00:00:00Z").unwrap_err().cause.contains("expired"));
        assert_eq!(parse_expiry("00/30"), None);
        assert_eq!(parse_expiry("1/30"), None);
        assert_eq!(parse_expiry("07/31"), Some((2031, 7)));
    }

    #[test]
    fn cvv_is_three_or_four_digits() {
        let mut order = good();
        for (cvv, ok) in [("123", true), ("1234", true), ("12", false), ("12345", false), ("12a", false)] {
            order.payment.cvv = cvv.into();
            assert_eq!(authorize(&order).is_ok(), ok, "{cvv}");
        }
    }

    #[test]
    fn brands_from_prefixes() {
        assert_eq!(card_brand("4242424242424242"), CardBrand::Visa);
        assert_eq!(card_brand("5555555555554444"), CardBrand::Mastercard);
        assert_eq!(card_brand("2223003122003222"), CardBrand::Mastercard);
        assert_eq!(card_brand("378282246310005"), CardBrand::Amex);
        assert_eq!(card_brand("6011111111111117"), CardBrand::Discover);
        assert_eq!(card_brand("3530111333300000"), CardBrand::Unknown);
    }
}
