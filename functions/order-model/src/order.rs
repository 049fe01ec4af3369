//! The order as the storefront submits it, and the format checks several steps share.

use serde::{Deserialize, Serialize};

/// An order as the storefront submits it: the execution's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The storefront's id for the order. Every id the pipeline derives starts from it, so it
    /// must be unique; place-order accepts 1–64 characters of `A-Z a-z 0-9 - _`.
    pub order_id: String,
    /// Who bought, and where to send the confirmations.
    pub customer: Customer,
    /// What was bought; at least one line. The same SKU may appear on several lines.
    pub items: Vec<LineItem>,
    /// The card to charge. Raw card data: see the crate README on why a real shop would hold a
    /// processor token here instead.
    pub payment: PaymentDetails,
    /// Where the parcel goes.
    pub shipping_address: Address,
    /// ISO 4217 code of every amount in the order. Defaults to `USD` when the storefront omits it,
    /// which keeps minimal hand-written orders valid.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// When the customer pressed "Buy" (RFC 3339), as stamped by the storefront. Optional: without
    /// it, place-order uses the execution's start time instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
}

/// `currency`'s value when the JSON has none; shared with the document types that repeat the field.
pub(crate) fn default_currency() -> String {
    "USD".to_owned()
}

impl Order {
    /// The sum of every line's `quantity × unitPriceCents`, or `None` if it overflows `u64`
    /// (which only a forged order can reach, so callers reject it rather than saturate).
    pub fn total_cents(&self) -> Option<u64> {
        self.items.iter().try_fold(0u64, |total, item| {
            item.unit_price_cents.checked_mul(u64::from(item.quantity))?.checked_add(total)
        })
    }

    /// How many units the order holds, over all lines.
    pub fn item_count(&self) -> u64 {
        self.items.iter().map(|item| u64::from(item.quantity)).sum()
    }
}

/// The buyer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The storefront's customer id.
    pub id: String,
    /// Full name, used to greet the customer.
    pub name: String,
    /// Where the confirmation email goes; checked by [`is_valid_email`].
    pub email: String,
    /// Where the confirmation SMS goes, in E.164 form (`+14155550123`); see [`is_valid_phone`].
    pub phone: String,
}

impl Customer {
    /// The first word of the name, for a friendly greeting ("Hi Ada").
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or("there")
    }
}

/// One line of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// Stock-keeping unit, the key into the [`CATALOG`](crate::CATALOG).
    pub sku: String,
    /// Units bought, at least 1.
    pub quantity: u32,
    /// Price of one unit in the order's currency, in minor units (cents), as the storefront
    /// showed it to the customer. Integer cents, never floats, so totals are exact.
    pub unit_price_cents: u64,
}

/// The card details, as typed at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetails {
    /// The primary account number. place-order strips the spaces and dashes people type;
    /// validate-payment then insists on 13–19 digits passing the Luhn check.
    pub card_number: String,
    /// Last month the card is valid, `MM/YY`.
    pub expiry: String,
    /// The 3–4 digit security code.
    pub cvv: String,
    /// The name printed on the card.
    pub cardholder: String,
    /// ISO 3166-1 alpha-2 country of the billing address, when the storefront asked for it.
    /// fraud-check compares it with the shipping country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_country: Option<String>,
}

impl PaymentDetails {
    /// The last four characters of the card number: the only part safe to show or store.
    pub fn last4(&self) -> &str {
        let start = self.card_number.len().saturating_sub(4);
        self.card_number.get(start..).unwrap_or("")
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Street and number.
    pub line1: String,
    /// Flat, floor, company: optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City or town.
    pub city: String,
    /// Postal code, in the country's own format (not checked beyond being present).
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 code, upper case (`US`, `DE`); decides the carrier.
    pub country: String,
}

impl Address {
    /// The address as the lines printed on a label or in an email.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.line1.clone()];
        lines.extend(self.line2.iter().filter(|line| !line.is_empty()).cloned());
        lines.push(format!("{} {}", self.postal_code, self.city));
        lines.push(self.country.clone());
        lines
    }
}

/// One thing wrong with an order, reported in an `InvalidOrder` cause so the storefront can point
/// at the field: `{"problems": [{"field": "customer.email", "problem": "…"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where, as a path into the order (`items[2].quantity`).
    pub field: String,
    /// What is wrong, for a person.
    pub problem: String,
}

impl Problem {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { field: field.into(), problem: problem.into() }
    }
}

/// The cause of every `InvalidOrder` error the pipeline raises:
/// `{"orderId": "ord-1", "problems": [{"field": "payment.cvv", "problem": "must be 3 or 4 digits"}]}`.
///
/// One shape for all functions, so the storefront (or cancel-order) can read any of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidOrder {
    /// The order concerned.
    pub order_id: String,
    /// Everything found wrong, not just the first thing.
    pub problems: Vec<Problem>,
}

impl InvalidOrder {
    /// A report of `problems` with the order `order_id`.
    pub fn new(order_id: &str, problems: Vec<Problem>) -> Self {
        Self { order_id: order_id.to_owned(), problems }
    }

    /// A report of a single problem.
    pub fn one(order_id: &str, field: &str, problem: impl Into<String>) -> Self {
        Self::new(order_id, vec![Problem::new(field, problem)])
    }
}

/// Adds up the quantities per SKU, keeping the order in which SKUs first appear.
///
/// Stock is checked per SKU, not per line: two lines of 3 mugs need 6 mugs in stock.
pub fn quantities_by_sku(items: &[LineItem]) -> Vec<(String, u64)> {
    let mut totals: Vec<(String, u64)> = Vec::new();
    for item in items {
        match totals.iter_mut().find(|(sku, _)| *sku == item.sku) {
            Some((_, quantity)) => *quantity += u64::from(item.quantity),
            None => totals.push((item.sku.clone(), u64::from(item.quantity))),
        }
    }
    totals
}

/// A plausible email address: one `@`, a non-empty local part without spaces, and a domain of
/// dot-separated letter/digit/hyphen labels ending in a TLD of two or more letters.
///
/// Deliberately not RFC 5322: quoted local parts and IP-literal domains are legal but no shop
/// wants them, and a check a person can read beats a regex nobody can.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local.chars().any(|c| c.is_whitespace() || c == '@' || c.is_control())
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// Removes the punctuation people type in phone numbers (`+1 (415) 555-0123` → `+14155550123`).
pub fn normalise_phone(phone: &str) -> String {
    phone.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect()
}

/// An E.164 number: `+`, a country code not starting with 0, and 8 to 15 digits in all.
///
/// SMS gateways such as SNS only accept E.164, so anything else would fail at send time; checking
/// early turns that into an `InvalidOrder` the customer can fix.
pub fn is_valid_phone(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0')
}

/// Two upper-case ASCII letters, the shape of an ISO 3166-1 alpha-2 code.
///
/// The shape only: the list of assigned codes changes, and the carrier rejects unknown ones anyway.
pub fn is_valid_country(country: &str) -> bool {
    country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: u32, unit_price_cents: u64) -> LineItem {
        LineItem { sku: sku.into(), quantity, unit_price_cents }
    }

    #[test]
    fn emails() {
        assert!(is_valid_email("ada@example.com"));
        assert!(is_valid_email("ada.lovelace+orders@mail.example.co.uk"));
        assert!(!is_valid_email("ada@example"), "a domain needs a TLD");
        assert!(!is_valid_email("ada example@example.com"));
        assert!(!is_valid_email("@example.com"));
        assert!(!is_valid_email("ada@@example.com"));
        assert!(!is_valid_email("ada@-example.com"));
        assert!(!is_valid_email("ada@example.c0m"));
    }

    #[test]
    fn phones() {
        assert!(is_valid_phone("+14155550123"));
        assert!(is_valid_phone(&normalise_phone("+1 (415) 555-0123")));
        assert!(!is_valid_phone("4155550123"), "E.164 needs the + and country code");
        assert!(!is_valid_phone("+0123456789"));
        assert!(!is_valid_phone("+1234567"), "too short");
        assert!(!is_valid_phone("+1234567890123456"), "too long");
        assert!(!is_valid_phone("+1415555O123"), "letter O, not zero");
    }

    #[test]
    fn totals_are_exact_and_overflow_is_detected() {
        let mut order_items = vec![line("A", 3, 1299), line("B", 1, 4999)];
        assert_eq!(quantities_by_sku(&order_items), vec![("A".to_owned(), 3), ("B".to_owned(), 1)]);
        order_items.push(line("A", 2, 1299));
        assert_eq!(quantities_by_sku(&order_items)[0], ("A".to_owned(), 5));

        let total = |items: Vec<LineItem>| {
            let mut order: Order = serde_json::from_str(include_str!("../testdata/minimal-order.json")).unwrap();
            order.items = items;
            order.total_cents()
        };
        assert_eq!(total(order_items), Some(3 * 1299 + 4999 + 2 * 1299));
        assert_eq!(total(vec![line("A", u32::MAX, u64::MAX / 2)]), None);
    }

    #[test]
    fn currency_defaults_and_optional_fields_stay_out_of_the_json() {
        let order: Order = serde_json::from_str(include_str!("../testdata/minimal-order.json")).unwrap();
        assert_eq!(order.currency, "USD");
        assert_eq!(order.payment.last4(), "4242");
        let json = serde_json::to_value(&order).unwrap();
        assert!(json.get("submittedAt").is_none());
        assert!(json["shippingAddress"].get("line2").is_none());
        assert_eq!(json["items"][0]["unitPriceCents"], 1299);
    }
}
