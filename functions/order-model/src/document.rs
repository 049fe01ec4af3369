//! The order document as it travels through the workflow, and the pieces steps add to it.
//!
//! Every piece is a plain serde type in camelCase, exactly as it appears in the execution's JSON,
//! so the ASL's paths (`$.checks.authorization.authorizationId`) can be read off these types.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::Fingerprint;
use crate::order::{Address, Customer, LineItem, Order, PaymentDetails, default_currency};
use crate::time::Timestamp;

/// Orders whose total is above this many minor units (1,000.00) need a person's approval in the
/// approval workflow. The workflow's `Choice` state repeats the number: ASL cannot import it.
pub const APPROVAL_THRESHOLD_CENTS: u64 = 100_000;

/// The order after place-order: checked, normalised and stamped.
///
/// This is what every later step can count on. The document must stay one flat JSON object that
/// `ResultPath` can add keys to, so the storefront's fields sit at the top level beside the stamp.
///
/// They are declared here one by one rather than as an embedded `#[serde(flatten)] order: Order`.
/// Flatten gives the same JSON, but serde cannot tell in advance which keys belong to the inner
/// struct, so it first buffers the whole object into an intermediate tree and then deserialises
/// from that tree: a second pass and extra allocations for every value, on every step's hot path
/// (about a quarter of validate-payment's work, measured in fuel). With plain fields serde reads
/// each value straight into place and skips the keys it does not know without allocating.
/// [`PlacedOrder::new`] takes the fields over from an [`Order`] and names every one of them, so a
/// field added to `Order` does not compile until it is added here too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacedOrder {
    /// [`Order::order_id`], trimmed.
    pub order_id: String,
    /// [`Order::customer`]: trimmed, the email lower-cased, the phone in E.164 form.
    pub customer: Customer,
    /// [`Order::items`], SKUs trimmed and upper-cased.
    pub items: Vec<LineItem>,
    /// [`Order::payment`], the card number without the spaces and dashes people type.
    pub payment: PaymentDetails,
    /// [`Order::shipping_address`]: trimmed, the country upper-cased, an empty second line dropped.
    pub shipping_address: Address,
    /// [`Order::currency`], upper-cased (`USD` when the JSON has none, as for an `Order`).
    #[serde(default = "default_currency")]
    pub currency: String,
    /// [`Order::submitted_at`], as the storefront sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
    /// When the order was placed, canonical UTC (`2025-11-24T09:30:00Z`). The pipeline's only
    /// "now": card expiry is judged against it, never against a clock.
    pub placed_at: String,
    /// Sum of all lines, in minor units. Computed once here so every step charges, checks and
    /// prints the same number.
    pub total_cents: u64,
    /// Units over all lines.
    pub item_count: u64,
}

impl PlacedOrder {
    /// Stamps a checked order with the moment it was placed and its totals.
    ///
    /// Returns `None` when the total does not fit in `u64`, which no real order reaches: the
    /// caller rejects the order rather than charge a wrapped-around amount.
    pub fn new(order: Order, placed_at: Timestamp) -> Option<Self> {
        let total_cents = order.total_cents()?;
        let item_count = order.item_count();
        // No `..` here: a field added to `Order` must be carried over (or dropped) on purpose.
        let Order { order_id, customer, items, payment, shipping_address, currency, submitted_at } = order;
        Some(Self {
            order_id,
            customer,
            items,
            payment,
            shipping_address,
            currency,
            submitted_at,
            placed_at: placed_at.to_string(),
            total_cents,
            item_count,
        })
    }

    /// `placedAt` as an instant, or `None` if the document was edited into an invalid shape.
    pub fn placed_at(&self) -> Option<Timestamp> {
        Timestamp::parse(&self.placed_at)
    }
}

/// The whole document, as any step after place-order receives it.
///
/// It starts with the same top-level fields as [`PlacedOrder`], declared again rather than
/// flattened in for the reason given there; `From<PlacedOrder>` names every one of them, so the
/// two lists cannot drift apart unnoticed. Then come the pieces later steps add.
///
/// Each piece is optional because which ones exist depends on how far the execution got; a
/// function asks for the pieces it needs with [`OrderDocument::require`] and fails with
/// `InvalidOrder` if the workflow wired it in too early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDocument {
    /// [`PlacedOrder::order_id`].
    pub order_id: String,
    /// [`PlacedOrder::customer`].
    pub customer: Customer,
    /// [`PlacedOrder::items`].
    pub items: Vec<LineItem>,
    /// [`PlacedOrder::payment`].
    pub payment: PaymentDetails,
    /// [`PlacedOrder::shipping_address`].
    pub shipping_address: Address,
    /// [`PlacedOrder::currency`].
    #[serde(default = "default_currency")]
    pub currency: String,
    /// [`PlacedOrder::submitted_at`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
    /// When the order was placed, as on [`PlacedOrder`].
    pub placed_at: String,
    /// [`PlacedOrder::total_cents`].
    pub total_cents: u64,
    /// [`PlacedOrder::item_count`].
    pub item_count: u64,
    /// `$.checks`: the payment ‖ fraud Parallel's results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Checks>,
    /// `$.approval`: a person's answer, in the approval workflow only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// `$.inventory`: check-inventory's reservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Reservation>,
    /// `$.fulfilment`: the label ‖ notifications Parallel's results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<Fulfilment>,
    /// `$.shipment`: ship-order's handover record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<Shipment>,
    /// `$.refund`: refund-payment's result, on the compensation path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<Refund>,
    /// `$.error`: the failure a `Catch` caught, on the compensation path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CaughtError>,
}

impl From<PlacedOrder> for OrderDocument {
    /// The document as place-order leaves it: the placed order, no pieces yet.
    fn from(placed: PlacedOrder) -> Self {
        // No `..` here either: this is what keeps the two field lists in step.
        let PlacedOrder {
            order_id,
            customer,
            items,
            payment,
            shipping_address,
            currency,
            submitted_at,
            placed_at,
            total_cents,
            item_count,
        } = placed;
        Self {
            order_id,
            customer,
            items,
            payment,
            shipping_address,
            currency,
            submitted_at,
            placed_at,
            total_cents,
            item_count,
            checks: None,
            approval: None,
            inventory: None,
            fulfilment: None,
            shipment: None,
            refund: None,
            error: None,
        }
    }
}

impl OrderDocument {
    /// `placedAt` as an instant, like [`PlacedOrder::placed_at()`].
    pub fn placed_at(&self) -> Option<Timestamp> {
        Timestamp::parse(&self.placed_at)
    }

    /// The payment authorization, if the payment step ran and succeeded.
    pub fn authorization(&self) -> Option<&Authorization> {
        self.checks.as_ref().map(|checks| &checks.authorization)
    }

    /// Unwraps a piece a step cannot work without, naming its path when it is missing.
    ///
    /// ```
    /// # use order_model::OrderDocument;
    /// # fn demo(doc: &OrderDocument) -> Result<(), order_model::MissingPiece> {
    /// let reservation = OrderDocument::require(doc.inventory.as_ref(), "$.inventory")?;
    /// # Ok(()) }
    /// ```
    pub fn require<'a, T>(piece: Option<&'a T>, path: &'static str) -> Result<&'a T, MissingPiece> {
        piece.ok_or(MissingPiece { path })
    }
}

/// A piece of the document that a step needs is not there: the workflow runs the step before the
/// step that produces it, or a `ResultPath` files the piece elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPiece {
    /// The JSONPath where the piece was expected.
    pub path: &'static str,
}

impl fmt::Display for MissingPiece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the order document has no {}: the step that adds it has not run, or its ResultPath points elsewhere",
            self.path
        )
    }
}

impl std::error::Error for MissingPiece {}

/// `$.checks`: what the payment ‖ fraud Parallel adds, shaped by its `ResultSelector`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checks {
    /// validate-payment's result (the Parallel's first branch).
    pub authorization: Authorization,
    /// fraud-check's result (the second branch).
    pub fraud: FraudAssessment,
}

/// A hold on the customer's card for the order total; captured by ship-order, reversed by
/// refund-payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// `auth_` + 16 hex digits, see [`Authorization::id_for`].
    pub authorization_id: String,
    /// The amount held, in minor units: the order total.
    pub amount_cents: u64,
    /// ISO 4217 code of the amount.
    pub currency: String,
    /// The card network, from the card number's prefix.
    pub card_brand: CardBrand,
    /// The card's last four digits, for receipts and support.
    pub last4: String,
}

impl Authorization {
    /// The authorization id for an order, amount and card.
    ///
    /// Derived rather than random so that a retried validate-payment asks the processor for the
    /// same authorization instead of a second hold, and so that a compensation can name the
    /// authorization even when the step's result was lost (see cancel-order).
    pub fn id_for(order_id: &str, amount_cents: u64, last4: &str) -> String {
        format!("auth_{}", Fingerprint::new("authorization").text(order_id).number(amount_cents).text(last4).hex())
    }
}

/// A card network, recognised from the card number's leading digits (its IIN range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardBrand {
    /// Starts with 4.
    Visa,
    /// 51–55, or 2221–2720.
    Mastercard,
    /// 34 or 37.
    Amex,
    /// 6011, 644–649 or 65.
    Discover,
    /// Any other range: accepted, since the processor knows more networks than this table.
    Unknown,
}

impl fmt::Display for CardBrand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Visa => "Visa",
            Self::Mastercard => "Mastercard",
            Self::Amex => "American Express",
            Self::Discover => "Discover",
            Self::Unknown => "card",
        })
    }
}

/// fraud-check's verdict on an order it let through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FraudAssessment {
    /// Sum of the points of the rules that fired.
    pub score: u32,
    /// The score at which an order is rejected; `score` is always below it here.
    pub threshold: u32,
    /// The rules that fired, so a reviewer can see why the score is what it is.
    pub triggered_rules: Vec<TriggeredRule>,
}

/// One fraud rule that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggeredRule {
    /// Stable rule code (`COUNTRY_MISMATCH`), for dashboards and tuning.
    pub rule: String,
    /// Points it added to the score.
    pub points: u32,
    /// The evidence, for a person.
    pub detail: String,
}

/// `$.inventory`: the stock check-inventory set aside for the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    /// `res_` + 16 hex digits, derived from the order id: reserving twice reserves once.
    pub reservation_id: String,
    /// The warehouse holding the stock.
    pub warehouse: String,
    /// One line per SKU (duplicate order lines are merged), in order of first appearance.
    pub lines: Vec<ReservedLine>,
}

/// Stock reserved for one SKU: also the picking list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservedLine {
    /// The product.
    pub sku: String,
    /// Units reserved.
    pub quantity: u64,
    /// Where the picker finds them.
    pub bin: String,
    /// Units left on the shelf after this reservation.
    pub stock_after: u64,
}

/// Why an `OutOfStock` order could not be reserved, one entry per SKU; the error's cause is
/// `{"orderId": …, "shortages": [StockShortage, …]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockShortage {
    /// The product.
    pub sku: String,
    /// Units the order asks for, over all its lines.
    pub requested: u64,
    /// Units on the shelf: 0 for an unknown SKU.
    pub available: u64,
    /// `true` when the catalog has no such SKU at all (a storefront bug rather than a sell-out).
    pub unknown_sku: bool,
}

/// `$.fulfilment`: what the label ‖ notifications Parallel adds, shaped by its `ResultSelector`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfilment {
    /// generate-shipping-label's result.
    pub shipping_label: ShippingLabel,
    /// The confirmations sent (the inner email ‖ SMS Parallel).
    pub notifications: Notifications,
}

/// A shipping label, bought from the carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingLabel {
    /// Who carries the parcel.
    pub carrier: Carrier,
    /// The carrier's service level (`Ground`, `Express Worldwide`, …).
    pub service: String,
    /// The carrier's tracking number, check digit included.
    pub tracking_number: String,
    /// Where the customer can follow the parcel.
    pub tracking_url: String,
    /// Weight the postage was bought for, packaging included.
    pub weight_grams: u64,
    /// The service's usual delivery time, in business days.
    pub estimated_delivery_days: u32,
    /// The address printed on the label.
    pub ship_to: Address,
    /// The label as printed: sender, recipient, service and tracking number.
    pub label_text: String,
}

/// The carriers the warehouse (in the US) ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Carrier {
    /// United States Postal Service: light domestic parcels.
    Usps,
    /// UPS: heavier domestic parcels, and Canada and Mexico.
    Ups,
    /// DHL Express: everything else abroad.
    Dhl,
}

impl Carrier {
    /// The public tracking page for a tracking number.
    pub fn tracking_url(self, tracking_number: &str) -> String {
        match self {
            Self::Usps => format!("https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking_number}"),
            Self::Ups => format!("https://www.ups.com/track?tracknum={tracking_number}"),
            Self::Dhl => format!("https://www.dhl.com/global-en/home/tracking.html?tracking-id={tracking_number}"),
        }
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Usps => "USPS",
            Self::Ups => "UPS",
            Self::Dhl => "DHL Express",
        })
    }
}

/// The confirmations sent to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notifications {
    /// send-email's result.
    pub email: EmailMessage,
    /// send-sms's result.
    pub sms: SmsMessage,
}

/// An email as handed to the mail service (a stand-in for SES `SendEmail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailMessage {
    /// UUID-shaped, derived from the order and the recipient: a retried send reuses it, so the
    /// mail service can drop the duplicate.
    pub message_id: String,
    /// Sender address.
    pub from: String,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text_body: String,
}

/// A text message as handed to the SMS gateway (a stand-in for SNS `Publish`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsMessage {
    /// UUID-shaped and derived, like [`EmailMessage::message_id`].
    pub message_id: String,
    /// E.164 phone number.
    pub to: String,
    /// The text, at most 160 characters so it goes out as one SMS segment.
    pub body: String,
    /// `body`'s length in characters.
    pub length: usize,
}

/// `$.shipment`: the parcel left with the carrier and the payment was captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    /// `shp_` + 16 hex digits, derived from the order and tracking number.
    pub shipment_id: String,
    /// Who has the parcel.
    pub carrier: Carrier,
    /// Its tracking number.
    pub tracking_number: String,
    /// Where to follow it.
    pub tracking_url: String,
    /// The authorization that was captured.
    pub authorization_id: String,
    /// The amount captured, in minor units: the whole authorization, as nothing is back-ordered.
    pub captured_cents: u64,
    /// The reservation the parcel was picked from.
    pub reservation_id: String,
    /// The carrier service's usual delivery time, in business days.
    pub estimated_delivery_days: u32,
}

/// `$.refund`: refund-payment's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// What happened.
    pub status: RefundStatus,
    /// `rfnd_` + 16 hex digits derived from the authorization id, so refunding the same
    /// authorization twice yields the same refund; absent when there was nothing to refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// The authorization reversed, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_id: Option<String>,
    /// Amount returned to the card, in minor units.
    pub amount_cents: u64,
    /// ISO 4217 code of the amount.
    pub currency: String,
}

/// The outcome of a refund request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    /// The authorization was reversed.
    Refunded,
    /// The document holds no authorization: the payment never went through, so a compensation
    /// that runs anyway succeeds without doing anything.
    NothingToRefund,
}

/// `$.error`: what a `Catch` with `"ResultPath": "$.error"` stores, in the engine's own casing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaughtError {
    /// The error name (`OutOfStock`).
    #[serde(rename = "Error")]
    pub error: String,
    /// Its cause. Null for some engine errors (a `States.Timeout` has none).
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// `$.approval`: the output a person sends with `SendTaskSuccess` in the approval workflow,
/// e.g. `{"approved": true, "approvedBy": "grace@shop.example"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// Whether the order may proceed. The workflow continues only on `true`.
    pub approved: bool,
    /// Who decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Why, if they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn placed_json() -> serde_json::Value {
        let mut doc: serde_json::Value = serde_json::from_str(include_str!("../testdata/minimal-order.json")).unwrap();
        doc["placedAt"] = json!("2025-11-24T09:30:00Z");
        doc["totalCents"] = json!(1299);
        doc["itemCount"] = json!(1);
        doc
    }

    #[test]
    fn a_fresh_document_has_no_pieces_and_unknown_keys_are_ignored() {
        let mut json = placed_json();
        json["somethingAStepAdded"] = json!({"x": 1});
        let doc: OrderDocument = serde_json::from_value(json).unwrap();
        assert_eq!(doc.order_id, "ord-test-1");
        assert_eq!(doc.placed_at().map(|ts| ts.date()), Some((2025, 11, 24)));
        assert!(doc.checks.is_none() && doc.inventory.is_none() && doc.error.is_none());
        let missing = OrderDocument::require(doc.inventory.as_ref(), "$.inventory").unwrap_err();
        assert!(missing.to_string().contains("$.inventory"));
    }

    #[test]
    fn pieces_are_read_from_their_result_paths() {
        let mut json = placed_json();
        json["checks"] = json!({
            "authorization": {"authorizationId": "auth_1", "amountCents": 1299, "currency": "USD",
                              "cardBrand": "Visa", "last4": "4242"},
            "fraud": {"score": 0, "threshold": 70, "triggeredRules": []}
        });
        json["error"] = json!({"Error": "OutOfStock", "Cause": null});
        let doc: OrderDocument = serde_json::from_value(json).unwrap();
        assert_eq!(doc.authorization().map(|auth| auth.card_brand), Some(CardBrand::Visa));
        assert_eq!(doc.error, Some(CaughtError { error: "OutOfStock".into(), cause: None }));
    }

    /// The top-level keys of a JSON object as serde_json prints it, in order. (A `Value` would
    /// sort them, and the order is part of what this test pins down.)
    fn top_level_keys(pretty: &str) -> Vec<&str> {
        pretty.lines().filter_map(|line| line.strip_prefix("  \"")?.split('"').next()).collect()
    }

    /// `testdata/full-document.json` holds every piece, and was written by the earlier version of
    /// these types, which embedded `Order` and `PlacedOrder` with `#[serde(flatten)]`: the flat
    /// fields must produce exactly the same bytes.
    #[test]
    fn a_full_document_round_trips_as_the_same_flat_object() {
        let fixture = include_str!("../testdata/full-document.json");
        let doc: OrderDocument = serde_json::from_str(fixture).unwrap();
        let written = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        assert_eq!(written, fixture);
        assert_eq!(serde_json::from_str::<OrderDocument>(&written).unwrap(), doc);

        let placed_keys = [
            "orderId",
            "customer",
            "items",
            "payment",
            "shippingAddress",
            "currency",
            "submittedAt",
            "placedAt",
            "totalCents",
            "itemCount",
        ];
        let pieces = ["checks", "approval", "inventory", "fulfilment", "shipment", "refund", "error"];
        assert_eq!(top_level_keys(&written), [&placed_keys[..], &pieces[..]].concat());

        // The placed order alone: the same keys, and the same bytes as a document without pieces.
        let placed: PlacedOrder = serde_json::from_str(fixture).unwrap();
        let placed_json = serde_json::to_string_pretty(&placed).unwrap();
        assert_eq!(top_level_keys(&placed_json), placed_keys);
        assert_eq!(placed_json, serde_json::to_string_pretty(&OrderDocument::from(placed)).unwrap());
    }

    #[test]
    fn authorization_ids_depend_on_order_amount_and_card() {
        let id = Authorization::id_for("ord-1", 1299, "4242");
        assert!(id.starts_with("auth_") && id.len() == 21);
        assert_eq!(id, Authorization::id_for("ord-1", 1299, "4242"));
        assert_ne!(id, Authorization::id_for("ord-1", 1300, "4242"));
        assert_ne!(id, Authorization::id_for("ord-2", 1299, "4242"));
    }

    #[test]
    fn enums_use_the_documented_spelling() {
        assert_eq!(serde_json::to_value(Carrier::Usps).unwrap(), json!("USPS"));
        assert_eq!(serde_json::to_value(RefundStatus::NothingToRefund).unwrap(), json!("NOTHING_TO_REFUND"));
        assert_eq!(serde_json::to_value(CardBrand::Amex).unwrap(), json!("Amex"));
    }
}
