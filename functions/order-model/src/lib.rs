//! The domain of the sample order pipeline, shared by all of its task functions.
//!
//! The pipeline passes one JSON *order document* from state to state. The storefront submits an
//! [`Order`]; `place-order` checks and normalises it into a [`PlacedOrder`]; every later step reads
//! the document and returns only its own piece, which the workflow's `ResultPath` files under a
//! key of the document. After the whole happy path the document looks like this:
//!
//! ```text
//! { orderId, customer, items, payment, shippingAddress, currency,   <- the storefront's Order
//!   placedAt, totalCents, itemCount,                                <- place-order (PlacedOrder)
//!   checks:     { authorization, fraud },                           <- validate-payment ‖ fraud-check
//!   inventory:  Reservation,                                        <- check-inventory
//!   fulfilment: { shippingLabel, notifications: { email, sms } },   <- label ‖ (email ‖ sms)
//!   shipment:   Shipment }                                          <- ship-order
//! ```
//!
//! and on the compensation path `error` (the caught `{Error, Cause}`) and `refund` appear.
//! [`OrderDocument`] is that whole shape, with every piece optional, so a function deserialises
//! exactly what it needs and ignores the rest.
//!
//! This crate is plain Rust: no SDK, no I/O and no clock, so every function built on it is a pure
//! function of its input. That is what makes the pipeline replayable and its tests exact.
//!
//! # Core concepts
//!
//! - [`Order`], [`PlacedOrder`], [`OrderDocument`]: the document at its three stages.
//! - The pieces steps add: [`Authorization`], [`FraudAssessment`], [`Reservation`],
//!   [`ShippingLabel`], [`EmailMessage`], [`SmsMessage`], [`Shipment`], [`Refund`], [`Approval`].
//! - [`CATALOG`]: the stock table, compiled into every function that needs it.
//! - [`errors`]: the error names the workflow's `Retry` and `Catch` rules match.
//! - [`Fingerprint`]: deterministic ids (authorization, reservation, tracking, message ids)
//!   derived from the order, so a retried step produces the same id instead of a duplicate.
//! - [`Timestamp`]: RFC 3339 parsing, because `placedAt` is the pipeline's only notion of "now".
//!
//! ```
//! use order_model::{Fingerprint, format_money};
//!
//! // Ids are derived from content, so the same order always gets the same id.
//! let a = Fingerprint::new("auth").text("ord-1000").number(4997).finish();
//! let b = Fingerprint::new("auth").text("ord-1000").number(4997).finish();
//! assert_eq!(a, b);
//! assert_eq!(format_money(123_456, "USD"), "1,234.56 USD");
//! ```
//!
//! # Layout
//!
//! - `order`: the storefront's order and its checks.
//! - `document`: the placed order, the pieces steps add, and the document holding them all.
//! - `catalog`: products, stock and parcel weights.
//! - `ids`: content-derived ids and check digits.
//! - `time`: RFC 3339 timestamps without a clock.
//! - `money`: formatting amounts for people.

#![warn(missing_docs)]

mod catalog;
mod document;
mod ids;
mod money;
mod order;
pub mod providers;
mod time;

pub use catalog::{CATALOG, Product, parcel_weight_grams, product};
pub use document::{
    APPROVAL_THRESHOLD_CENTS, Approval, Authorization, CardBrand, Carrier, CaughtError, Checks, EmailMessage,
    FraudAssessment, Fulfilment, MissingPiece, Notifications, OrderDocument, PlacedOrder, Refund, RefundStatus,
    Reservation, ReservedLine, Shipment, ShippingLabel, SmsMessage, StockShortage, TriggeredRule,
};
pub use ids::Fingerprint;
pub use money::format_money;
pub use order::{
    Address, Customer, InvalidOrder, LineItem, Order, PaymentDetails, Problem, is_valid_country, is_valid_email,
    is_valid_phone, normalise_phone, quantities_by_sku,
};
pub use time::Timestamp;

/// The error names the pipeline's functions fail with.
///
/// These are the strings the workflow's `Retry` and `Catch` rules list in `ErrorEquals`, so they
/// are part of the pipeline's contract: renaming one silently disables the rule that matched it.
pub mod errors {
    /// The card issuer refused the payment. Not retryable: the same card will be refused again.
    pub const PAYMENT_DECLINED: &str = "PaymentDeclined";
    /// The fraud score reached the threshold. The cause lists the rules that fired, as JSON.
    pub const FRAUD_SUSPECTED: &str = "FraudSuspected";
    /// An item is unknown or short. The cause lists the shortages, as JSON
    /// ([`StockShortage`](crate::StockShortage) entries under `shortages`).
    pub const OUT_OF_STOCK: &str = "OutOfStock";
    /// The order (or a piece a step relies on) is malformed: the customer or the storefront must
    /// fix it, so retrying cannot help.
    pub const INVALID_ORDER: &str = "InvalidOrder";
    /// The carrier's API is temporarily unavailable. Transient: a `Retry` rule should match it.
    pub const CARRIER_UNAVAILABLE: &str = "CarrierUnavailable";
    /// A person refused the order in the approval workflow (sent with `SendTaskFailure`).
    pub const APPROVAL_REJECTED: &str = "ApprovalRejected";
}
