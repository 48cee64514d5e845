//! How documents people read print values: money `$1,234.56`, dates `MM/DD/YYYY`,
//! timestamps in the fleet's time zone (`BAT_TIMEZONE`) with the zone named, and labels
//! instead of stored codes. Every PDF (receipts, DTRs, interim-payment receipts, list
//! exports) formats through here, so they cannot drift apart. CSV and XLSX keep
//! machine-friendly values (ISO dates, plain numbers) but use the same labels.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::ledger::{BalanceStatus, EntryType, PostingStatus};
use domain::money::Money;
use domain::status::LeaseType;

/// `$1,234.56`, `-$12.00`.
pub fn usd(m: Money) -> String {
    reports::usd(m.cents())
}

/// `YYYY-MM-DD` (or the date of a longer ISO text) as `MM/DD/YYYY`; anything else as
/// given.
pub fn us_date(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso.get(..10).unwrap_or(iso), "%Y-%m-%d") {
        Ok(d) => d.format("%m/%d/%Y").to_string(),
        Err(_) => iso.to_string(),
    }
}

/// A moment in the fleet's time zone: `11/25/2026 10:05 AM EST`, `11/29/2026 4:30 AM EST`.
pub fn timestamp(at: DateTime<Utc>, timezone: Tz) -> String {
    at.with_timezone(&timezone)
        .format("%m/%d/%Y %-I:%M %p %Z")
        .to_string()
}

/// A stored RFC 3339 timestamp (`2026-11-25T15:05:00Z`) printed like [`timestamp`]; text
/// that is not one is shown as given.
pub fn stored_timestamp(stored: &str, timezone: Tz) -> String {
    match DateTime::parse_from_rfc3339(stored.trim()) {
        Ok(at) => timestamp(at.with_timezone(&Utc), timezone),
        Err(_) => stored.to_string(),
    }
}

/// The day of a stored RFC 3339 timestamp in the fleet's time zone, `MM/DD/YYYY`; a bare
/// `YYYY-MM-DD` is printed as that day.
pub fn stored_day(stored: &str, timezone: Tz) -> String {
    match DateTime::parse_from_rfc3339(stored.trim()) {
        Ok(at) => at.with_timezone(&timezone).format("%m/%d/%Y").to_string(),
        Err(_) => us_date(stored),
    }
}

/// The label of a stored code a document or export shows: lease types
/// (`shift-lease` → `Shift Lease`), ledger entry types (`INTERIM_PAYMENT` → `Interim
/// Payment`), posting and balance statuses (`VOIDED` → `Voided`). Words that are labels
/// already (`Open`, `Big Apple Workshop`) come back unchanged.
pub fn label(code: &str) -> String {
    if let Some(t) = LeaseType::parse(code) {
        return t.label().to_string();
    }
    if let Some(e) = EntryType::parse(code) {
        return e.label().to_string();
    }
    if let Some(s) = PostingStatus::parse(code) {
        return s.label().to_string();
    }
    if let Some(s) = BalanceStatus::parse(code) {
        return s.label().to_string();
    }
    code.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_money_print_the_us_way() {
        assert_eq!(us_date("2026-11-29"), "11/29/2026");
        assert_eq!(us_date("soon"), "soon");
        assert_eq!(usd(Money::from_cents(123_456)), "$1,234.56");
        assert_eq!(usd(Money::from_cents(-1_200)), "-$12.00");
    }

    #[test]
    fn timestamps_print_in_the_fleet_zone_with_the_zone() {
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            stored_timestamp("2026-11-25T15:05:00Z", ny),
            "11/25/2026 10:05 AM EST"
        );
        assert_eq!(
            stored_timestamp("2026-07-04T01:30:00Z", ny),
            "07/03/2026 9:30 PM EDT"
        );
        assert_eq!(stored_timestamp("not a time", ny), "not a time");
        assert_eq!(stored_day("2026-11-29T03:00:00Z", ny), "11/28/2026");
        assert_eq!(stored_day("2026-11-29", ny), "11/29/2026");
    }

    #[test]
    fn codes_print_as_labels() {
        assert_eq!(label("shift-lease"), "Shift Lease");
        assert_eq!(label("dov"), "Driver-Owned Vehicle");
        assert_eq!(label("INTERIM_PAYMENT"), "Interim Payment");
        assert_eq!(label("VOIDED"), "Voided");
        assert_eq!(label("OPEN"), "Open");
        assert_eq!(label("Big Apple Workshop"), "Big Apple Workshop");
        assert_eq!(label("Posted"), "Posted");
    }
}
