//! RFC 3339 timestamps, parsed without a clock.
//!
//! Task functions have no clock they may trust: a retried or replayed step must decide exactly as
//! the first attempt did. So the pipeline's "now" is the order's `placedAt`, and this module only
//! parses and prints instants; it never asks the system for the time.

use std::fmt;

/// An instant in UTC, to the second.
///
/// Fractions of a second are dropped when parsing: no decision in the pipeline depends on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    unix_seconds: i64,
}

impl Timestamp {
    /// Parses an RFC 3339 date-time such as `2025-11-24T09:30:00Z`,
    /// `2025-11-24T10:30:00.250+01:00` or Step Functions' `$$.Execution.StartTime`.
    ///
    /// Returns `None` for anything else, including a missing zone: without a zone the instant is
    /// ambiguous by up to a day, and card expiry is decided on the month boundary.
    pub fn parse(text: &str) -> Option<Self> {
        let (date, rest) = text.split_once(['T', 't'])?;
        let [year, month, day] = split_fields(date, '-')?;
        let (year, month, day) = (i64::from(digits(year, 4)?), digits(month, 2)?, digits(day, 2)?);
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }

        // The zone is the suffix after the seconds: `Z`, or `+HH:MM` / `-HH:MM`.
        let (clock, offset_seconds) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
            (clock, 0)
        } else {
            let sign_at = rest.rfind(['+', '-'])?;
            let [hours, minutes] = split_fields(&rest[sign_at + 1..], ':')?;
            let (hours, minutes) = (digits(hours, 2)?, digits(minutes, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let magnitude = i64::from(hours * 3600 + minutes * 60);
            (&rest[..sign_at], if rest[sign_at..].starts_with('-') { -magnitude } else { magnitude })
        };

        let (clock, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
        if fraction.is_empty() || !fraction.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let [hour, minute, second] = split_fields(clock, ':')?;
        let (hour, minute, second) = (digits(hour, 2)?, digits(minute, 2)?, digits(second, 2)?);
        // 60 is a leap second; it is folded into the next one, as most systems do.
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }

        let local = days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        // Local time minus its offset is UTC: 10:30+01:00 is 09:30Z.
        Some(Self { unix_seconds: local - offset_seconds })
    }

    /// The instant `unix_seconds` after 1970-01-01T00:00:00Z.
    pub fn from_unix_seconds(unix_seconds: i64) -> Self {
        Self { unix_seconds }
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(self) -> i64 {
        self.unix_seconds
    }

    /// The UTC calendar date: (year, month 1–12, day 1–31).
    pub fn date(self) -> (i64, u32, u32) {
        civil_from_days(self.unix_seconds.div_euclid(86_400))
    }
}

/// Prints the canonical form the pipeline stores: `YYYY-MM-DDTHH:MM:SSZ`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.date();
        let second_of_day = self.unix_seconds.rem_euclid(86_400);
        let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
        write!(f, "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    }
}

/// Splits `text` into exactly `N` fields on `separator`.
///
/// Fills a fixed array instead of collecting a `Vec`: every step that checks `placedAt` parses a
/// timestamp, and this way parsing one allocates nothing.
fn split_fields<const N: usize>(text: &str, separator: char) -> Option<[&str; N]> {
    let mut parts = text.split(separator);
    let mut fields = [""; N];
    for field in &mut fields {
        *field = parts.next()?;
    }
    // More than `N` fields is as wrong as fewer.
    parts.next().is_none().then_some(fields)
}

/// Parses exactly `width` ASCII digits. (`str::parse` alone would also accept `+1`.)
fn digits(text: &str, width: usize) -> Option<u32> {
    if text.len() != width || !text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
///
/// Howard Hinnant's `days_from_civil`: counting years from March puts the leap day last, so
/// every month before it has a fixed length and the day of the year is a closed formula.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    // Both values are small and non-negative by construction, so the conversions cannot fail.
    let day = u32::try_from(day_of_year - (153 * month_from_march + 2) / 5 + 1).unwrap_or(1);
    let month =
        u32::try_from(if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 }).unwrap_or(1);
    let year = year_of_era + era * 400;
    (if month <= 2 { year + 1 } else { year }, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_and_offsets_to_the_same_instant() {
        let utc = Timestamp::parse("2025-11-24T09:30:00Z").unwrap();
        assert_eq!(utc.unix_seconds(), 1_763_976_600);
        assert_eq!(Timestamp::parse("2025-11-24T10:30:00.250+01:00"), Some(utc));
        assert_eq!(Timestamp::parse("2025-11-24T04:30:00-05:00"), Some(utc));
        assert_eq!(utc.to_string(), "2025-11-24T09:30:00Z");
    }

    #[test]
    fn an_offset_can_move_the_date_and_the_month() {
        // Just after midnight on 1 December in Berlin is still November in UTC.
        let ts = Timestamp::parse("2025-12-01T00:30:00+01:00").unwrap();
        assert_eq!(ts.date(), (2025, 11, 30));
        assert_eq!(ts.to_string(), "2025-11-30T23:30:00Z");
    }

    #[test]
    fn calendar_round_trips_across_leap_years() {
        for (text, date) in [
            ("1970-01-01T00:00:00Z", (1970, 1, 1)),
            ("2000-02-29T12:00:00Z", (2000, 2, 29)),
            ("2024-02-29T23:59:59Z", (2024, 2, 29)),
            ("2100-03-01T00:00:00Z", (2100, 3, 1)),
        ] {
            let ts = Timestamp::parse(text).unwrap();
            assert_eq!(ts.date(), date, "{text}");
            assert_eq!(ts.to_string(), text);
        }
    }

    #[test]
    fn rejects_what_is_not_rfc_3339() {
        for text in [
            "2025-11-24 09:30:00Z",  // no T
            "2025-11-24T09:30:00",   // no zone
            "2025-13-01T00:00:00Z",  // month 13
            "2023-02-29T00:00:00Z",  // not a leap year
            "2025-11-24T25:00:00Z",  // hour 25
            "2025-11-24T09:30:00.Z", // empty fraction
            "2025-11-24T09:30:00+1:00",
            "+2025-11-24T09:30:00Z",
            "",
        ] {
            assert_eq!(Timestamp::parse(text), None, "{text}");
        }
    }
}
