//! `place-order`: the first step of the order pipeline.
//!
//! It turns what the storefront submitted into the order document every later step relies on:
//!
//! 1. **Normalise** the harmless variations people and storefronts produce (surrounding spaces,
//!    lower-case country codes, `+1 (415) 555-0123`, card numbers typed in groups), so later
//!    steps compare like with like.
//! 2. **Check** the shape of the order and report *every* problem at once as `InvalidOrder`, so
//!    the storefront can highlight all the bad fields in one round trip.
//! 3. **Stamp** it with `placedAt`, the total and the unit count (a [`PlacedOrder`]).
//!
//! Card data is only normalised here; judging it is validate-payment's job.
//!
//! # Contract
//!
//! - Input: `{"order": Order, "receivedAt": "<RFC 3339>"}`. The workflow passes
//!   `$$.Execution.StartTime` as `receivedAt`; the order's own `submittedAt` wins when present,
//!   because it is when the customer actually clicked "Buy".
//! - Output: the [`PlacedOrder`], which becomes the whole document (`ResultPath` `$`).
//! - Errors: `InvalidOrder`, cause `{"orderId": …, "problems": [{"field", "problem"}]}`.

use serde::Deserialize;
use stepwasm_guest::{Context, TaskError};

use order_model::{
    InvalidOrder, Order, PlacedOrder, Problem, Timestamp, errors, is_valid_country, is_valid_email, is_valid_phone,
    normalise_phone,
};

/// Most lines one order may have; more is a storefront bug or abuse, not a basket.
const MAX_LINES: usize = 100;
/// Most units of one line; catches a quantity typed into the price field.
const MAX_QUANTITY: u32 = 1_000;

/// What the workflow passes in (see the crate docs).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceOrderInput {
    /// The order as submitted.
    pub order: Order,
    /// When the execution started; the fallback for `order.submittedAt`.
    #[serde(default)]
    pub received_at: Option<String>,
}

/// The task function: normalise, check, stamp.
pub fn handle(input: PlaceOrderInput, _ctx: &Context) -> Result<PlacedOrder, TaskError> {
    let placed = place(input)?;
    stepwasm_guest::info!(
        "placed order {} at {}: {} units, {} minor units of {}",
        placed.order_id,
        placed.placed_at,
        placed.item_count,
        placed.total_cents,
        placed.currency
    );
    Ok(placed)
}

/// The whole step, without logging, so unit tests can call it natively.
pub fn place(input: PlaceOrderInput) -> Result<PlacedOrder, TaskError> {
    let order = normalise(input.order);
    let mut problems = check(&order);

    // The storefront's clock is authoritative; the engine's start time only stands in for it.
    let (field, stamp) = match &order.submitted_at {
        Some(submitted) => ("submittedAt", Some(submitted.as_str())),
        None => ("receivedAt", input.received_at.as_deref()),
    };
    let placed_at = match stamp.map(Timestamp::parse) {
        Some(Some(instant)) => Some(instant),
        Some(None) => {
            problems.push(Problem::new(field, "must be an RFC 3339 timestamp with a zone"));
            None
        }
        None => {
            problems.push(Problem::new("submittedAt", "missing, and the workflow passed no receivedAt"));
            None
        }
    };

    let order_id = order.order_id.clone();
    let placed = match placed_at {
        Some(instant) if problems.is_empty() => PlacedOrder::new(order, instant),
        _ => None,
    };
    match placed {
        Some(placed) => Ok(placed),
        None => {
            if problems.is_empty() {
                problems.push(Problem::new("items", "the order total does not fit in 64 bits"));
            }
            Err(TaskError::with_details(errors::INVALID_ORDER, &InvalidOrder::new(&order_id, problems)))
        }
    }
}

/// Irons out formatting differences that do not change what the customer meant.
pub fn normalise(mut order: Order) -> Order {
    fn trim(text: &mut String) {
        let trimmed = text.trim();
        if trimmed.len() != text.len() {
            *text = trimmed.to_owned();
        }
    }

    trim(&mut order.order_id);
    trim(&mut order.customer.id);
    trim(&mut order.customer.name);
    // Domains are case-insensitive and mailboxes practically so; one spelling keeps ids stable.
    order.customer.email = order.customer.email.trim().to_lowercase();
    order.customer.phone = normalise_phone(order.customer.phone.trim());
    order.currency = order.currency.trim().to_uppercase();
    for item in &mut order.items {
        // SKUs are codes: `mug-ceramic-350` is a typo for `MUG-CERAMIC-350`, not another product.
        item.sku = item.sku.trim().to_uppercase();
    }

    let payment = &mut order.payment;
    payment.card_number.retain(|c| !matches!(c, ' ' | '-'));
    trim(&mut payment.expiry);
    trim(&mut payment.cvv);
    trim(&mut payment.cardholder);
    if let Some(country) = &mut payment.billing_country {
        *country = country.trim().to_uppercase();
    }

    let address = &mut order.shipping_address;
    trim(&mut address.line1);
    trim(&mut address.city);
    trim(&mut address.postal_code);
    address.country = address.country.trim().to_uppercase();
    // An empty second line is the same as none; dropping it keeps labels free of blank lines.
    address.line2 = address.line2.take().map(|line| line.trim().to_owned()).filter(|line| !line.is_empty());
    order
}

/// Every problem with a normalised order's shape, empty when it is fine.
pub fn check(order: &Order) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut require = |ok: bool, field: &str, problem: &str| {
        if !ok {
            problems.push(Problem::new(field, problem));
        }
    };

    let id_ok = (1..=64).contains(&order.order_id.len())
        && order.order_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    // Every derived id and the SMS text embed the order id, hence the tight alphabet and length.
    require(id_ok, "orderId", "must be 1-64 characters of A-Z, a-z, 0-9, '-' and '_'");

    let customer = &order.customer;
    require(!customer.id.is_empty(), "customer.id", "must not be empty");
    require(!customer.name.is_empty(), "customer.name", "must not be empty");
    require(is_valid_email(&customer.email), "customer.email", "must be an email address like name@example.com");
    require(is_valid_phone(&customer.phone), "customer.phone", "must be an E.164 number like +14155550123");

    require(!order.items.is_empty(), "items", "an order needs at least one line");
    require(order.items.len() <= MAX_LINES, "items", "an order has at most 100 lines");
    for (index, item) in order.items.iter().enumerate() {
        require(!item.sku.is_empty(), &format!("items[{index}].sku"), "must not be empty");
        require(
            (1..=MAX_QUANTITY).contains(&item.quantity),
            &format!("items[{index}].quantity"),
            "must be between 1 and 1000",
        );
    }

    let address = &order.shipping_address;
    require(!address.line1.is_empty(), "shippingAddress.line1", "must not be empty");
    require(!address.city.is_empty(), "shippingAddress.city", "must not be empty");
    require(!address.postal_code.is_empty(), "shippingAddress.postalCode", "must not be empty");
    require(is_valid_country(&address.country), "shippingAddress.country", "must be an ISO 3166-1 alpha-2 code");
    if let Some(country) = &order.payment.billing_country {
        require(is_valid_country(country), "payment.billingCountry", "must be an ISO 3166-1 alpha-2 code");
    }
    require(
        order.currency.len() == 3 && order.currency.chars().all(|c| c.is_ascii_uppercase()),
        "currency",
        "must be an ISO 4217 code like USD",
    );
    problems
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn input(order_json: &str, received_at: Option<&str>) -> PlaceOrderInput {
        PlaceOrderInput { order: serde_json::from_str(order_json).unwrap(), received_at: received_at.map(Into::into) }
    }

    fn problems(error: &TaskError) -> Vec<String> {
        let cause: Value = serde_json::from_str(&error.cause).unwrap();
        cause["problems"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn the_good_sample_is_placed_and_normalised() {
        let placed = place(input(include_str!("../../samples/good-order.json"), None)).unwrap();
        assert_eq!(placed.placed_at, "2025-11-24T09:30:00Z");
        assert_eq!(placed.total_cents, 2 * 1299 + 3999 + 3 * 199);
        assert_eq!(placed.item_count, 6);
        // The sample types its phone and card number the way people do.
        assert_eq!(placed.customer.phone, "+14155550132");
        assert_eq!(placed.payment.card_number, "4242424242424242");
    }

    #[test]
    fn submitted_at_wins_over_the_execution_start() {
        let placed = place(input(include_str!("../../samples/good-order.json"), Some("2030-01-01T00:00:00Z"))).unwrap();
        assert_eq!(placed.placed_at, "2025-11-24T09:30:00Z");
    }

    #[test]
    fn the_execution_start_is_the_fallback_and_is_canonicalised() {
        let mut order: Value = serde_json::from_str(include_str!("../../samples/good-order.json")).unwrap();
        order.as_object_mut().unwrap().remove("submittedAt");
        let placed = place(input(&order.to_string(), Some("2025-11-24T10:30:00.123+01:00"))).unwrap();
        assert_eq!(placed.placed_at, "2025-11-24T09:30:00Z");

        let missing = place(input(&order.to_string(), None)).unwrap_err();
        assert_eq!(missing.error, "InvalidOrder");
        assert_eq!(problems(&missing), ["submittedAt"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut order: Value = serde_json::from_str(include_str!("../../samples/good-order.json")).unwrap();
        order["orderId"] = "ord 1".into();
        order["customer"]["email"] = "ada-at-example.com".into();
        order["customer"]["phone"] = "415 555 0132".into();
        order["items"][1]["quantity"] = 0.into();
        order["shippingAddress"]["country"] = "USA".into();
        let error = place(input(&order.to_string(), None)).unwrap_err();
        assert_eq!(error.error, "InvalidOrder");
        assert_eq!(
            problems(&error),
            ["orderId", "customer.email", "customer.phone", "items[1].quantity", "shippingAddress.country"]
        );
    }

    #[test]
    fn normalising_trims_and_upper_cases_codes() {
        let mut order: Value = serde_json::from_str(include_str!("../../samples/good-order.json")).unwrap();
        order["items"][0]["sku"] = " mug-ceramic-350 ".into();
        order["shippingAddress"]["country"] = "us".into();
        order["shippingAddress"]["line2"] = "  ".into();
        order["customer"]["email"] = " Ada@Example.COM".into();
        let placed = place(input(&order.to_string(), None)).unwrap();
        assert_eq!(placed.items[0].sku, "MUG-CERAMIC-350");
        assert_eq!(placed.shipping_address.country, "US");
        assert_eq!(placed.shipping_address.line2, None);
        assert_eq!(placed.customer.email, "ada@example.com");
    }

    #[test]
    fn an_overflowing_total_is_invalid_not_wrapped() {
        let mut order: Value = serde_json::from_str(include_str!("../../samples/good-order.json")).unwrap();
        order["items"][0]["unitPriceCents"] = u64::MAX.into();
        let error = place(input(&order.to_string(), None)).unwrap_err();
        assert_eq!(problems(&error), ["items"]);
    }

    #[test]
    fn the_workflow_input_shape_deserialises() {
        let json = format!(
            r#"{{"order": {}, "receivedAt": "2025-11-24T09:30:00Z"}}"#,
            include_str!("../../samples/good-order.json")
        );
        let parsed: PlaceOrderInput = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed.received_at.as_deref(), Some("2025-11-24T09:30:00Z"));
    }
}
