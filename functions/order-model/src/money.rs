//! Amounts, for people.

/// Formats an amount in minor units for a message: `123456, "USD"` → `1,234.56 USD`.
///
/// Assumes two decimal places, like every currency the sample shop sells in (USD, EUR, GBP…).
/// A shop selling in JPY (no minor unit) or BHD (three) would need the ISO 4217 exponent table.
pub fn format_money(cents: u64, currency: &str) -> String {
    let units = (cents / 100).to_string();
    // Group the integer part in threes from the right.
    let mut grouped = String::with_capacity(units.len() + units.len() / 3);
    for (index, digit) in units.chars().enumerate() {
        if index > 0 && (units.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped}.{:02} {currency}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands_and_pads_cents() {
        assert_eq!(format_money(0, "USD"), "0.00 USD");
        assert_eq!(format_money(5, "EUR"), "0.05 EUR");
        assert_eq!(format_money(99_900, "USD"), "999.00 USD");
        assert_eq!(format_money(100_000, "USD"), "1,000.00 USD");
        assert_eq!(format_money(123_456_789, "GBP"), "1,234,567.89 GBP");
    }
}
