//! `check-inventory`: reserves the order's stock, or explains what is missing.
//!
//! Quantities are added up per SKU first (two lines of 3 mugs need 6 mugs), then each SKU is
//! looked up in the stock table ([`CATALOG`](order_model::CATALOG)), which is compiled into the
//! function: task functions get no database, and a compiled-in table keeps every run
//! reproducible. The flip side is that nothing is decremented between executions; each order
//! sees the full stock.
//!
//! All-or-nothing: if any SKU is short or unknown, nothing is reserved and the step fails with
//! `OutOfStock` listing *every* shortage, so the customer learns everything in one message. The
//! payment was already authorized by then, which is why the workflow's `Catch` on this step runs
//! refund-payment before cancel-order.
//!
//! # Contract
//!
//! - Input: the order document ([`PlacedOrder`]).
//! - Output: [`Reservation`] (with each SKU's bin: the picking list), filed at `$.inventory`.
//! - Errors: `OutOfStock`, cause `{"orderId", "shortages": [StockShortage…]}`.

use serde_json::json;
use stepwasm_guest::{Context, TaskError};

use order_model::{
    Fingerprint, PlacedOrder, Reservation, ReservedLine, StockShortage, errors, product, quantities_by_sku,
};

/// The warehouse the compiled-in stock table describes.
const WAREHOUSE: &str = "SFO-1";

/// The task function: reserve or explain.
#[expect(clippy::needless_pass_by_value, reason = "export_task! hands the handler its input by value")]
pub fn handle(order: PlacedOrder, _ctx: &Context) -> Result<Reservation, TaskError> {
    let result = reserve(&order);
    match &result {
        Ok(reservation) => stepwasm_guest::info!(
            "reserved {} SKU(s) for order {} as {}",
            reservation.lines.len(),
            order.order_id,
            reservation.reservation_id
        ),
        Err(error) => stepwasm_guest::warn!("order {} cannot be reserved: {}", order.order_id, error.cause),
    }
    result
}

/// The whole step, without logging, so unit tests can call it natively.
pub fn reserve(order: &PlacedOrder) -> Result<Reservation, TaskError> {
    let mut lines = Vec::new();
    let mut shortages = Vec::new();
    for (sku, requested) in quantities_by_sku(&order.items) {
        match product(&sku) {
            Some(product) if product.stock >= requested => lines.push(ReservedLine {
                quantity: requested,
                bin: product.bin.to_owned(),
                stock_after: product.stock - requested,
                sku,
            }),
            Some(product) => {
                shortages.push(StockShortage { sku, requested, available: product.stock, unknown_sku: false })
            }
            None => shortages.push(StockShortage { sku, requested, available: 0, unknown_sku: true }),
        }
    }

    if !shortages.is_empty() {
        return Err(TaskError::with_details(
            errors::OUT_OF_STOCK,
            &json!({ "orderId": order.order_id, "shortages": shortages }),
        ));
    }
    Ok(Reservation {
        // From the order id alone: a retried reservation is the same reservation.
        reservation_id: format!("res_{}", Fingerprint::new("reservation").text(&order.order_id).hex()),
        warehouse: WAREHOUSE.to_owned(),
        lines,
    })
}

stepwasm_guest::export_task!(handle);

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use order_model::{LineItem, Order, Timestamp};

    use super::*;

    fn placed(json: &str, edit: impl FnOnce(&mut Order)) -> PlacedOrder {
        let mut order: Order = serde_json::from_str(json).unwrap();
        edit(&mut order);
        PlacedOrder::new(order, Timestamp::parse("2025-11-24T09:30:00Z").unwrap()).unwrap()
    }

    fn item(sku: &str, quantity: u32) -> LineItem {
        LineItem { sku: sku.into(), quantity, unit_price_cents: 100 }
    }

    #[test]
    fn the_good_sample_is_reserved_line_by_line() {
        let order = placed(include_str!("../../samples/good-order.json"), |_| {});
        let reservation = reserve(&order).unwrap();
        let picked: Vec<(&str, u64, u64)> =
            reservation.lines.iter().map(|line| (line.sku.as_str(), line.quantity, line.stock_after)).collect();
        assert_eq!(picked, [("MUG-CERAMIC-350", 2, 118), ("BOOK-RUST-2E", 1, 11), ("STICKER-FERRIS", 3, 997)]);
        assert!(reservation.reservation_id.starts_with("res_"));
        assert_eq!(reserve(&order).unwrap().reservation_id, reservation.reservation_id);
    }

    #[test]
    fn the_out_of_stock_sample_reports_its_shortage() {
        let order = placed(include_str!("../../samples/out-of-stock.json"), |_| {});
        let error = reserve(&order).unwrap_err();
        assert_eq!(error.error, "OutOfStock");
        let cause: Value = serde_json::from_str(&error.cause).unwrap();
        assert_eq!(cause["orderId"], "ord-1002");
        assert_eq!(
            cause["shortages"],
            serde_json::json!([{"sku": "KEYBOARD-MECH", "requested": 5, "available": 3, "unknownSku": false}])
        );
    }

    #[test]
    fn lines_of_one_sku_are_added_up_before_checking() {
        // 2 + 2 keyboards fit nowhere in a stock of 3, although each line alone would.
        let order = placed(include_str!("../../samples/good-order.json"), |order| {
            order.items = vec![item("KEYBOARD-MECH", 2), item("KEYBOARD-MECH", 2)];
        });
        let cause: Value = serde_json::from_str(&reserve(&order).unwrap_err().cause).unwrap();
        assert_eq!(cause["shortages"][0]["requested"], 4);

        let order = placed(include_str!("../../samples/good-order.json"), |order| {
            order.items = vec![item("KEYBOARD-MECH", 2), item("KEYBOARD-MECH", 1)];
        });
        assert_eq!(reserve(&order).unwrap().lines[0].stock_after, 0);
    }

    #[test]
    fn unknown_and_sold_out_skus_are_all_listed() {
        let order = placed(include_str!("../../samples/good-order.json"), |order| {
            order.items = vec![item("MUG-CERAMIC-350", 1), item("NO-SUCH-SKU", 1), item("MONITOR-4K-27", 1)];
        });
        let cause: Value = serde_json::from_str(&reserve(&order).unwrap_err().cause).unwrap();
        let shortages = cause["shortages"].as_array().unwrap();
        assert_eq!(shortages.len(), 2);
        assert_eq!(shortages[0]["unknownSku"], true);
        assert_eq!(shortages[1]["sku"], "MONITOR-4K-27");
        assert_eq!(shortages[1]["available"], 0);
    }
}
