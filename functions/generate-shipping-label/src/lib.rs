//! `generate-shipping-label`: picks a carrier and buys the label.
//!
//! **Carrier.** The warehouse is in the US. Light domestic parcels (up to 450 g) go with USPS,
//! heavier domestic ones and those to Canada and Mexico with UPS, everything else with DHL
//! Express. The weight comes from the stock table plus packaging.
//!
//! **Tracking number.** Derived from the order id, in each carrier's real format with its real
//! check digit, so it survives validation by tools that know those formats:
//!
//! - UPS: `1Z`, shipper account, service code, package number, and the UPS check digit
//!   (odd/even weighted sum with letters mapped to digits).
//! - USPS: 22 digits starting `9400`, ending in a GS1 mod-10 check digit (weights 3, 1, …).
//! - DHL Express: a 10-digit waybill whose last digit is the first nine modulo 7.
//!
//! Deriving it means a retried call buys *the same* label rather than a second one.
//!
//! **A transient failure, on purpose.** Carrier APIs have bad moments, and the workflow is
//! expected to retry them. To make that path visible and testable, this stand-in refuses the
//! *first attempt* for about one order in four: those whose fingerprint
//! `Fingerprint::new("carrier-hub").text(orderId)` is divisible by 4 (their "hub" is busy). It
//! fails with `CarrierUnavailable`, and succeeds from attempt 2 on (it reads `ctx.attempt()`).
//! The sample `good-order.json` (`ord-1000`) is such an order. Deterministic, so the demo and
//! the tests see the retry every time; see [`hub_busy_on_first_attempt`].
//!
//! # Contract
//!
//! - Input: the order document ([`PlacedOrder`]).
//! - Output: [`ShippingLabel`], filed at `$.fulfilment.shippingLabel`.
//! - Errors: `CarrierUnavailable` (transient; cause `{"orderId", "carrier", "attempt", "status", "message"}`),
//!   `InvalidOrder` (a SKU without a known weight).

use serde_json::json;
use stepwasm_guest::{Context, TaskError};

use order_model::{Carrier, Fingerprint, InvalidOrder, PlacedOrder, ShippingLabel, errors, parcel_weight_grams};

/// Heaviest parcel USPS gets; above it UPS is cheaper for domestic shipping.
const USPS_MAX_GRAMS: u64 = 450;
/// Our UPS shipper account number, which every UPS tracking number embeds.
const UPS_SHIPPER: &str = "8V5W31";
/// The sender block printed on every label.
const SHIP_FROM: &str = "stepwasm sample shop, 1 Warehouse Way, San Francisco CA 94107, US";

/// The task function: choose the carrier, fail transiently if its API is busy, issue the label.
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(order: PlacedOrder, ctx: &Context) -> Result<ShippingLabel, TaskError> {
    let result = issue_label(&order, ctx.attempt());
    match &result {
        Ok(label) => stepwasm_guest::info!(
            "label {} {} for order {} on attempt {}",
            label.carrier,
            label.tracking_number,
            order.order_id,
            ctx.attempt()
        ),
        Err(error) => stepwasm_guest::warn!("attempt {}: {error}", ctx.attempt()),
    }
    result
}

/// The whole step, without logging, so unit tests can call it natively. `attempt` is
/// [`Context::attempt`]: 1 on the first try.
pub fn issue_label(order: &PlacedOrder, attempt: u32) -> Result<ShippingLabel, TaskError> {
    let order_id = order.order_id.as_str();
    let weight_grams = parcel_weight_grams(&order.items).map_err(|sku| {
        let report = InvalidOrder::one(order_id, "items", format!("no shipping weight for SKU {sku}"));
        TaskError::with_details(errors::INVALID_ORDER, &report)
    })?;
    let address = &order.shipping_address;
    let (carrier, service, estimated_delivery_days) = choose_carrier(&address.country, weight_grams);

    if attempt <= 1 && hub_busy_on_first_attempt(order_id) {
        return Err(TaskError::with_details(
            errors::CARRIER_UNAVAILABLE,
            &json!({
                "orderId": order_id,
                "carrier": carrier,
                "attempt": attempt,
                "status": 503,
                "message": format!("{carrier} label API is temporarily unavailable; retry later"),
            }),
        ));
    }

    let tracking_number = tracking_number(carrier, order_id);
    let mut label_text = format!("FROM: {SHIP_FROM}\nTO:   {}\n", order.customer.name);
    for line in address.lines() {
        label_text.push_str(&format!("      {line}\n"));
    }
    label_text.push_str(&format!(
        "{carrier} {service}, {}.{:03} kg\nTRACKING: {tracking_number}",
        weight_grams / 1000,
        weight_grams % 1000
    ));

    Ok(ShippingLabel {
        carrier,
        service: service.to_owned(),
        tracking_url: carrier.tracking_url(&tracking_number),
        tracking_number,
        weight_grams,
        estimated_delivery_days,
        ship_to: address.clone(),
        label_text,
    })
}

/// Carrier, service and usual business days for a destination and weight.
pub fn choose_carrier(country: &str, weight_grams: u64) -> (Carrier, &'static str, u32) {
    match country {
        "US" if weight_grams <= USPS_MAX_GRAMS => (Carrier::Usps, "Ground Advantage", 4),
        "US" => (Carrier::Ups, "Ground", 3),
        "CA" | "MX" => (Carrier::Ups, "Standard", 5),
        _ => (Carrier::Dhl, "Express Worldwide", 3),
    }
}

/// Whether the carrier refuses this order's first attempt (see the crate docs).
pub fn hub_busy_on_first_attempt(order_id: &str) -> bool {
    Fingerprint::new("carrier-hub").text(order_id).finish().is_multiple_of(4)
}

/// The tracking number for an order, in the carrier's format, check digit included.
pub fn tracking_number(carrier: Carrier, order_id: &str) -> String {
    let seed = Fingerprint::new("tracking").text(order_id).finish();
    match carrier {
        Carrier::Ups => {
            // Account, service code 03 (Ground), 7-digit package number.
            let body = format!("{UPS_SHIPPER}03{:07}", seed % 10_000_000);
            format!("1Z{body}{}", ups_check_digit(&body))
        }
        Carrier::Usps => {
            let body = format!("94001{:016}", seed % 10_000_000_000_000_000);
            format!("{body}{}", gs1_check_digit(&body))
        }
        Carrier::Dhl => {
            let serial = seed % 1_000_000_000;
            format!("{serial:09}{}", serial % 7)
        }
    }
}

/// The UPS check digit of the 15 characters after `1Z`: letters count as `(letter - 'A' + 2) % 10`,
/// characters at odd (0-based) positions are doubled, and the digit tops the sum up to a
/// multiple of 10.
pub fn ups_check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(index, c)| {
            let value = if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                u32::from(c.to_ascii_uppercase() - b'A' + 2) % 10
            };
            if index % 2 == 1 { value * 2 } else { value }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// The GS1 mod-10 check digit (barcodes, USPS): weights 3 and 1 alternating from the right.
pub fn gs1_check_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, c)| u32::from(c - b'0') * if index % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use order_model::{Order, Timestamp};

    use super::*;

    fn placed(json: &str) -> PlacedOrder {
        let order: Order = serde_json::from_str(json).unwrap();
        PlacedOrder::new(order, Timestamp::parse("2025-11-24T09:30:00Z").unwrap()).unwrap()
    }

    #[test]
    fn check_digits_match_published_examples() {
        // UPS's own sample number 1Z 999AA1 01 2345678 4, and a UPC-A barcode (GS1 mod 10).
        assert_eq!(ups_check_digit("999AA1012345678"), 4);
        assert_eq!(ups_check_digit("999AA1012345679"), 3, "one digit changed, different check digit");
        assert_eq!(gs1_check_digit("03600029145"), 2);
    }

    #[test]
    fn tracking_numbers_are_well_formed_and_stable() {
        let ups = tracking_number(Carrier::Ups, "ord-1000");
        assert_eq!(ups.len(), 18);
        assert!(ups.starts_with("1Z8V5W3103"));
        assert_eq!(ups_check_digit(&ups[2..17]), ups[17..].parse::<u32>().unwrap());

        let usps = tracking_number(Carrier::Usps, "ord-1000");
        assert_eq!(usps.len(), 22);
        assert_eq!(gs1_check_digit(&usps[..21]), usps[21..].parse::<u32>().unwrap());

        let dhl = tracking_number(Carrier::Dhl, "ord-1000");
        let serial: u64 = dhl[..9].parse().unwrap();
        assert_eq!(serial % 7, dhl[9..].parse::<u64>().unwrap());

        assert_eq!(tracking_number(Carrier::Ups, "ord-1000"), ups);
        assert_ne!(tracking_number(Carrier::Ups, "ord-1001"), ups);
    }

    #[test]
    fn carrier_depends_on_country_and_weight() {
        assert_eq!(choose_carrier("US", 450).0, Carrier::Usps);
        assert_eq!(choose_carrier("US", 451).0, Carrier::Ups);
        assert_eq!(choose_carrier("CA", 100).0, Carrier::Ups);
        assert_eq!(choose_carrier("DE", 100).0, Carrier::Dhl);
    }

    #[test]
    fn the_good_sample_fails_on_attempt_1_and_succeeds_on_attempt_2() {
        let order = placed(include_str!("../../samples/good-order.json"));
        assert!(hub_busy_on_first_attempt("ord-1000"), "the demo relies on ord-1000 needing a retry");

        let first = issue_label(&order, 1).unwrap_err();
        assert_eq!(first.error, "CarrierUnavailable");
        assert!(first.cause.contains(r#""attempt":1"#));

        let label = issue_label(&order, 2).unwrap();
        // 2 mugs, a book and 3 stickers, plus packaging: too heavy for USPS.
        assert_eq!(label.weight_grams, 150 + 2 * 380 + 1050 + 3 * 5);
        assert_eq!(label.carrier, Carrier::Ups);
        assert!(label.label_text.contains("Suite 300"));
        assert!(label.label_text.ends_with(&label.tracking_number));
        // A third attempt buys the same label, not another one.
        assert_eq!(issue_label(&order, 3).unwrap(), label);
    }

    #[test]
    fn about_one_order_in_four_needs_a_retry() {
        let busy = (0..1000).filter(|n| hub_busy_on_first_attempt(&format!("ord-{n}"))).count();
        assert!((200..300).contains(&busy), "{busy}");
        // The other samples go through at once.
        for other in ["ord-1001", "ord-1002", "ord-1003"] {
            assert!(!hub_busy_on_first_attempt(other), "{other}");
        }
    }

    #[test]
    fn the_large_sample_goes_abroad_with_dhl() {
        let label = issue_label(&placed(include_str!("../../samples/large-order.json")), 1).unwrap();
        assert_eq!(label.carrier, Carrier::Dhl);
        assert_eq!(label.tracking_number.len(), 10);
        assert!(label.tracking_url.ends_with(&label.tracking_number));
    }
}
