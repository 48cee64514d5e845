//! What people type, checked the same way whichever door it comes through (the API, a
//! case step, a CSV import): identifiers such as workshop invoice numbers, the key that
//! makes them unique, and the date windows of invoices, due dates, schedules and
//! earnings. Amounts are [`crate::money::Money`]'s own rules.
//!
//! Each check returns a message that follows the field's name ("invoice_date must not be
//! in the future"), so callers only add where the field is.

use chrono::{Days, Months, NaiveDate};
use unicode_normalization::UnicodeNormalization;

use crate::calendar::SundayDate;

/// Longest workshop invoice number accepted, in characters.
pub const MAX_INVOICE_NUMBER_CHARS: usize = 100;

/// How far ahead a schedule may start unless configured otherwise
/// (`BAT_MAX_START_WEEKS_AHEAD`): a mistyped year must not delay collection by a year.
pub const DEFAULT_MAX_START_WEEKS_AHEAD: u32 = 8;

/// No business date before this one is believable (a typo such as 0226 for 2026).
pub fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date")
}

/// Trims and collapses runs of whitespace to one space.
fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An invoice number as the workshop wrote it, tidied: trimmed, inner whitespace collapsed.
/// Refused when empty, longer than [`MAX_INVOICE_NUMBER_CHARS`], or holding control
/// characters (a pasted tab, line break or NUL is never part of a number).
pub fn invoice_number(raw: &str) -> Result<String, String> {
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    let tidy = collapse_whitespace(raw);
    if tidy.is_empty() {
        return Err("is required".into());
    }
    if tidy.chars().count() > MAX_INVOICE_NUMBER_CHARS {
        return Err(format!(
            "must be at most {MAX_INVOICE_NUMBER_CHARS} characters"
        ));
    }
    if invoice_number_key(&tidy).is_empty() {
        // Numbers are told apart by their letters and digits only (see the key below).
        return Err("must contain a letter or a digit".into());
    }
    Ok(tidy)
}

/// The key invoice numbers are unique on, across all workshops: the number case-folded
/// with full Unicode folding (`ß` and `SS` agree), compatibility-normalized (a full-width
/// `１` is a `1`), with every character that is not a letter or a digit removed (any
/// script's), in upper case. `BAW-77123`, `baw 77123`, `BAW_77123` and `baw.77123` are one
/// invoice number.
pub fn invoice_number_key(number: &str) -> String {
    let folded = caseless::default_case_fold_str(&number.nfd().collect::<String>());
    folded
        .nfkc()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A date written `YYYY-MM-DD`, or as the midnight date-time some screens send for a date
/// (`2026-11-29T00:00:00.000Z`, `2026-11-29T00:00:00+00:00`): taken as its written date,
/// whatever the offset. Any other time of day is refused.
pub fn date_or_midnight(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let date = crate::calendar::parse_date(date).map_err(|e| e.to_string())?;
    if let Some(time) = time {
        let clock = time.trim_end_matches('Z');
        let clock = clock
            .split_once(['+', '-'])
            .map_or(clock, |(clock, _offset)| clock);
        let midnight = ["00:00", "00:00:00"].contains(&clock)
            || clock
                .strip_prefix("00:00:00.")
                .is_some_and(|f| !f.is_empty() && f.bytes().all(|b| b == b'0'));
        if !midnight {
            return Err(format!(
                "'{text}' has a time of day; give the date (YYYY-MM-DD) or its midnight"
            ));
        }
    }
    Ok(date)
}

/// A workshop invoice is dated between 2000-01-01 and today.
pub fn invoice_date(date: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if date < earliest_date() {
        return Err(format!("must be on or after {}", earliest_date()));
    }
    if date > today {
        return Err(format!("must not be in the future (today is {today})"));
    }
    Ok(())
}

/// The latest due date accepted today: one year ahead.
pub fn latest_due_date(today: NaiveDate) -> NaiveDate {
    today.checked_add_months(Months::new(12)).unwrap_or(today)
}

/// An obligation falls due between 2000-01-01 and one year from today.
pub fn due_date(date: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if date < earliest_date() {
        return Err(format!("must be on or after {}", earliest_date()));
    }
    let latest = latest_due_date(today);
    if date > latest {
        return Err(format!(
            "must be at most one year ahead (on or before {latest})"
        ));
    }
    Ok(())
}

/// A schedule starts in the current payment week or up to `max_weeks_ahead` weeks later.
pub fn start_week(
    week: SundayDate,
    current: SundayDate,
    max_weeks_ahead: u32,
) -> Result<(), String> {
    if week < current {
        return Err(format!(
            "{week} is before the current payment period, which starts {current}"
        ));
    }
    let latest = current
        .checked_plus_weeks(max_weeks_ahead)
        .unwrap_or(current);
    if week > latest {
        return Err(format!(
            "{week} is more than {max_weeks_ahead} weeks after the current payment period ({current}); the latest first week allowed is {latest}"
        ));
    }
    Ok(())
}

/// Earnings are recorded for a week that has begun: the current one or an earlier one.
pub fn earnings_period(period: SundayDate, current: SundayDate) -> Result<(), String> {
    if period > current {
        return Err(format!(
            "{period} is after the current payment week ({current}); earnings are recorded for a week that has begun"
        ));
    }
    if period.date() < earliest_date() {
        return Err(format!("must be on or after {}", earliest_date()));
    }
    Ok(())
}

/// `date + days`, saturating at the end of the calendar.
pub fn plus_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days)).unwrap_or(date)
}

/// A phone number as typed: at most 30 characters (blanks counted), at least 7 digits once
/// trimmed; blank is no phone.
pub fn phone(raw: &str) -> Result<Option<String>, &'static str> {
    if raw.chars().count() > 30 {
        return Err("must be at most 30 characters");
    }
    let phone = raw.trim();
    if phone.is_empty() {
        return Ok(None);
    }
    if phone.chars().filter(|c| c.is_ascii_digit()).count() < 7 {
        return Err("must be a phone number with at least 7 digits");
    }
    Ok(Some(phone.to_string()))
}

/// An email address as typed: at most 254 characters (blanks counted), an `@` and no blank
/// inside once trimmed; blank is no address.
pub fn email(raw: &str) -> Result<Option<String>, &'static str> {
    if raw.chars().count() > 254 {
        return Err("must be at most 254 characters");
    }
    let email = raw.trim();
    if email.is_empty() {
        return Ok(None);
    }
    if !email.contains('@') || email.chars().any(char::is_whitespace) {
        return Err("must be an email address");
    }
    Ok(Some(email.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_or_its_midnight() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        for text in [
            "2026-11-29",
            "2026-11-29T00:00:00.000Z",
            "2026-11-29T00:00:00Z",
            "2026-11-29T00:00:00+00:00",
            "2026-11-29T00:00-05:00",
        ] {
            assert_eq!(date_or_midnight(text), Ok(d), "{text}");
        }
        for text in [
            "2026-11-29T05:00:00Z",
            "2026-11-29T00:00:00.001Z",
            "11/29/2026",
            "2026-11-29T",
        ] {
            assert!(date_or_midnight(text).is_err(), "{text}");
        }
    }
    use crate::calendar::parse_date;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn sunday(s: &str) -> SundayDate {
        SundayDate::parse(s).unwrap()
    }

    #[test]
    fn invoice_numbers_are_tidied_and_bounded() {
        assert_eq!(invoice_number("  BAW-1187 ").unwrap(), "BAW-1187");
        assert_eq!(invoice_number("BAW    1187").unwrap(), "BAW 1187");
        assert!(invoice_number("BAW\t1187").is_err());
        assert_eq!(invoice_number("   ").unwrap_err(), "is required");
        assert_eq!(
            invoice_number("BAW\u{0}1187").unwrap_err(),
            "must not contain control characters"
        );
        assert_eq!(
            invoice_number("BAW\u{7}1187").unwrap_err(),
            "must not contain control characters"
        );
        let long = "x".repeat(MAX_INVOICE_NUMBER_CHARS);
        assert_eq!(invoice_number(&long).unwrap(), long);
        assert_eq!(
            invoice_number(&format!("{long}y")).unwrap_err(),
            "must be at most 100 characters"
        );
        // Characters, not bytes.
        assert!(invoice_number(&"№".repeat(MAX_INVOICE_NUMBER_CHARS)).is_ok());
    }

    #[test]
    fn invoice_number_keys_fold_case_fully() {
        let key = invoice_number_key;
        assert_eq!(key("BAW-1187"), key("baw-1187"));
        assert_eq!(key(" BAW-1187  "), key("baw-1187"));
        assert_eq!(key("BAW  1187"), key("baw 1187"));
        assert_eq!(key("STRASSE-7"), key("straße-7"));
        assert_eq!(key("ÜNÏ-ñ-42"), key("üNï-Ñ-42"));
        // Composed and decomposed forms of one letter agree.
        assert_eq!(key("Ñ-1"), key("N\u{303}-1"));
        assert_eq!(key("ＢＡＷ-１１８７"), key("baw-1187"));
        assert_eq!(key("ΣΑΣ-1"), key("σας-1"));
        assert_ne!(key("BAW-1187"), key("BAW-1188"));
        // Punctuation and spacing never make a second invoice of one number.
        for same in [
            "baw 77123",
            "BAW_77123",
            "baw.77123",
            "BAW77123",
            "b-a-w/77123",
        ] {
            assert_eq!(key(same), key("BAW-77123"), "{same}");
        }
        assert_eq!(key("BAW-77123"), "BAW77123");
        assert_eq!(key("№ ÜNÏ-ñ-42"), "NOÜNÏÑ42");
        assert_eq!(
            invoice_number("--/--").unwrap_err(),
            "must contain a letter or a digit"
        );
    }

    #[test]
    fn invoice_dates_are_from_2000_to_today() {
        let today = d("2026-11-30");
        assert!(invoice_date(d("2000-01-01"), today).is_ok());
        assert!(invoice_date(today, today).is_ok());
        assert_eq!(
            invoice_date(d("1999-12-31"), today).unwrap_err(),
            "must be on or after 2000-01-01"
        );
        assert_eq!(
            invoice_date(d("2026-12-01"), today).unwrap_err(),
            "must not be in the future (today is 2026-11-30)"
        );
    }

    #[test]
    fn due_dates_are_at_most_a_year_ahead() {
        let today = d("2026-11-30");
        assert!(due_date(d("2027-11-30"), today).is_ok());
        assert!(due_date(d("2026-01-04"), today).is_ok());
        assert_eq!(
            due_date(d("2027-12-01"), today).unwrap_err(),
            "must be at most one year ahead (on or before 2027-11-30)"
        );
        assert!(due_date(d("1999-01-01"), today).is_err());
        // Leap day: one year later is the last day of February.
        assert_eq!(latest_due_date(d("2028-02-29")), d("2029-02-28"));
    }

    #[test]
    fn start_weeks_are_the_current_week_up_to_a_bound() {
        let current = sunday("2026-11-29");
        assert!(start_week(current, current, 8).is_ok());
        assert!(start_week(sunday("2027-01-24"), current, 8).is_ok());
        let err = start_week(sunday("2027-01-31"), current, 8).unwrap_err();
        assert!(
            err.contains("more than 8 weeks") && err.contains("2027-01-24"),
            "{err}"
        );
        let err = start_week(sunday("2026-11-22"), current, 8).unwrap_err();
        assert_eq!(
            err,
            "2026-11-22 is before the current payment period, which starts 2026-11-29"
        );
        assert!(start_week(sunday("2027-11-28"), current, 52).is_ok());
        assert!(start_week(current, current, 0).is_ok());
        assert!(start_week(current.next(), current, 0).is_err());
    }

    #[test]
    fn earnings_are_for_a_week_that_has_begun() {
        let current = sunday("2026-11-29");
        assert!(earnings_period(current, current).is_ok());
        assert!(earnings_period(sunday("2026-11-01"), current).is_ok());
        let err = earnings_period(current.next(), current).unwrap_err();
        assert!(err.contains("after the current payment week"), "{err}");
        assert!(earnings_period(sunday("1999-12-26"), current).is_err());
    }
}
