//! The shop's products and their stock.
//!
//! A real inventory service would read and decrement a database. Task functions get no network
//! or files unless granted, so the sample compiles the table into every function that needs it:
//! each execution sees the full stock below, and nothing is decremented between executions.

use crate::order::LineItem;

/// One product the warehouse stocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// The key orders refer to.
    pub sku: &'static str,
    /// What customers see in emails.
    pub name: &'static str,
    /// Units on the shelf.
    pub stock: u64,
    /// Shipping weight of one unit, with its own box.
    pub weight_grams: u64,
    /// Where pickers find it: aisle-shelf-bin.
    pub bin: &'static str,
}

/// The stock table. `MONITOR-4K-27` is sold out and `KEYBOARD-MECH` nearly so, to give the
/// out-of-stock path something to find.
pub const CATALOG: &[Product] = &[
    Product { sku: "MUG-CERAMIC-350", name: "Ceramic mug, 350 ml", stock: 120, weight_grams: 380, bin: "A-01-1" },
    Product {
        sku: "TEE-ORGANIC-M",
        name: "Organic cotton T-shirt, size M",
        stock: 40,
        weight_grams: 180,
        bin: "A-02-3",
    },
    Product { sku: "STICKER-FERRIS", name: "Ferris the crab sticker", stock: 1000, weight_grams: 5, bin: "A-00-9" },
    Product {
        sku: "BOOK-RUST-2E",
        name: "The Rust Programming Language, 2nd edition",
        stock: 12,
        weight_grams: 1050,
        bin: "B-04-2",
    },
    Product { sku: "HEADPHONES-NC", name: "Noise-cancelling headphones", stock: 20, weight_grams: 260, bin: "C-01-1" },
    Product { sku: "KEYBOARD-MECH", name: "Mechanical keyboard", stock: 3, weight_grams: 950, bin: "C-03-2" },
    Product { sku: "LAPTOP-PRO-14", name: "14-inch laptop", stock: 5, weight_grams: 1600, bin: "D-01-1" },
    Product { sku: "MONITOR-4K-27", name: "27-inch 4K monitor", stock: 0, weight_grams: 6200, bin: "D-02-1" },
];

/// Weight of the outer carton and filling, added once per parcel.
const PACKAGING_GRAMS: u64 = 150;

/// Looks a product up by SKU (exact match: SKUs are codes, not names).
pub fn product(sku: &str) -> Option<&'static Product> {
    CATALOG.iter().find(|product| product.sku == sku)
}

/// The weight of one parcel holding `items`, packaging included.
///
/// Fails with the first SKU the catalog does not know: its weight is unknown, and guessing would
/// buy the wrong postage.
pub fn parcel_weight_grams(items: &[LineItem]) -> Result<u64, String> {
    items.iter().try_fold(PACKAGING_GRAMS, |total, item| match product(&item.sku) {
        Some(product) => Ok(total + product.weight_grams * u64::from(item.quantity)),
        None => Err(item.sku.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_unique() {
        for (index, product) in CATALOG.iter().enumerate() {
            assert!(CATALOG[index + 1..].iter().all(|other| other.sku != product.sku), "{}", product.sku);
        }
    }

    #[test]
    fn parcel_weight_adds_units_and_packaging() {
        let items = [
            LineItem { sku: "MUG-CERAMIC-350".into(), quantity: 2, unit_price_cents: 1299 },
            LineItem { sku: "STICKER-FERRIS".into(), quantity: 10, unit_price_cents: 199 },
        ];
        assert_eq!(parcel_weight_grams(&items), Ok(150 + 2 * 380 + 10 * 5));
        let unknown = [LineItem { sku: "NOPE".into(), quantity: 1, unit_price_cents: 1 }];
        assert_eq!(parcel_weight_grams(&unknown), Err("NOPE".to_owned()));
    }
}
