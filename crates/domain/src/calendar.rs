//! Payment weeks.
//!
//! A payment period runs Sunday 00:00 through Saturday 23:59:59 in the
//! fleet's local time zone, and is named by its Sunday. "Now" is always
//! converted to the local date first, so the period flips at local midnight
//! regardless of daylight-saving changes.
//!
//! Date arithmetic panics only within a week of chrono's representable range
//! (±262,000 years); checked variants exist where input is untrusted.

use std::fmt;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The fleet's time zone unless configured otherwise.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::America::New_York;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("'{0}' is not a date in the form YYYY-MM-DD")]
    BadDate(String),
    #[error("{date} is a {weekday}, not a Sunday")]
    NotSunday { date: NaiveDate, weekday: String },
}

/// The Sunday on or before `d`.
pub fn week_start_of(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_sunday()))
}

/// The Saturday on or after `d`.
pub fn week_end_of(d: NaiveDate) -> NaiveDate {
    week_start_of(d) + Days::new(6)
}

/// Full English weekday name; chrono's own Display abbreviates ("Wed").
pub fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// A date known to be a Sunday: the name of a payment week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct SundayDate(NaiveDate);

impl SundayDate {
    pub fn new(d: NaiveDate) -> Result<SundayDate, CalendarError> {
        if d.weekday() == Weekday::Sun {
            Ok(SundayDate(d))
        } else {
            Err(CalendarError::NotSunday {
                date: d,
                weekday: weekday_name(d.weekday()).to_string(),
            })
        }
    }

    /// Strict `YYYY-MM-DD` that must fall on a Sunday.
    pub fn parse(s: &str) -> Result<SundayDate, CalendarError> {
        SundayDate::new(parse_date(s)?)
    }

    /// The payment week that contains `d`.
    pub fn containing(d: NaiveDate) -> SundayDate {
        SundayDate(week_start_of(d))
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// The Saturday that closes this week.
    pub fn week_end(self) -> NaiveDate {
        self.0 + Days::new(6)
    }

    pub fn plus_weeks(self, n: u32) -> SundayDate {
        self.checked_plus_weeks(n)
            .expect("payment week beyond the representable date range")
    }

    /// [`SundayDate::plus_weeks`] that reports running off chrono's date range.
    pub fn checked_plus_weeks(self, n: u32) -> Option<SundayDate> {
        self.0
            .checked_add_days(Days::new(7 * u64::from(n)))
            .map(SundayDate)
    }

    pub fn next(self) -> SundayDate {
        self.plus_weeks(1)
    }

    pub fn previous(self) -> SundayDate {
        SundayDate(self.0 - Days::new(7))
    }

    /// The Sunday `n` weeks earlier (saturating at the start of the calendar).
    pub fn previous_weeks(self, n: u32) -> SundayDate {
        self.0
            .checked_sub_days(Days::new(7 * u64::from(n)))
            .map(SundayDate)
            .unwrap_or(self)
    }

    /// Whole weeks from `self` to `later` (negative when `later` is earlier).
    pub fn weeks_until(self, later: SundayDate) -> i64 {
        (later.0 - self.0).num_days() / 7
    }

    /// Whether `d` falls within this Sunday..Saturday week.
    pub fn contains(self, d: NaiveDate) -> bool {
        week_start_of(d) == self.0
    }
}

impl fmt::Display for SundayDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0.format("%Y-%m-%d").to_string())
    }
}

impl std::str::FromStr for SundayDate {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SundayDate::parse(s)
    }
}

impl From<SundayDate> for NaiveDate {
    fn from(s: SundayDate) -> NaiveDate {
        s.0
    }
}

impl<'de> Deserialize<'de> for SundayDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SundayVisitor;

        impl Visitor<'_> for SundayVisitor {
            type Value = SundayDate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Sunday in the form YYYY-MM-DD")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<SundayDate, E> {
                SundayDate::parse(v).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(SundayVisitor)
    }
}

/// The calendar date at `now` in `tz`.
pub fn local_date(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The payment week containing the local date at `now`.
pub fn current_payment_period(now: DateTime<Utc>, tz: Tz) -> SundayDate {
    SundayDate::containing(local_date(now, tz))
}

/// Strict `YYYY-MM-DD`: exactly four-digit year, two-digit month and day.
///
/// chrono's `%Y-%m-%d` alone also takes `2026-1-5`, signed or five-digit
/// years, so the shape is checked first.
pub fn parse_date(s: &str) -> Result<NaiveDate, CalendarError> {
    let bad = || CalendarError::BadDate(s.to_string());
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, &c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape_ok {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().map_err(|_| bad());
    let year = i32::try_from(num(0..4)?).map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn sun(s: &str) -> SundayDate {
        SundayDate::parse(s).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn week_bounds() {
        let cases = [
            // (date, Sunday, Saturday)
            ("2026-11-25", "2026-11-22", "2026-11-28"),
            ("2026-11-22", "2026-11-22", "2026-11-28"),
            ("2026-11-28", "2026-11-22", "2026-11-28"),
            // Year boundaries: 2026-01-01 is a Thursday, 2027-01-01 a Friday.
            ("2026-01-01", "2025-12-28", "2026-01-03"),
            ("2025-12-31", "2025-12-28", "2026-01-03"),
            ("2027-01-01", "2026-12-27", "2027-01-02"),
            // Leap day.
            ("2028-02-29", "2028-02-27", "2028-03-04"),
        ];
        for (date, start, end) in cases {
            assert_eq!(week_start_of(d(date)), d(start), "{date}");
            assert_eq!(week_end_of(d(date)), d(end), "{date}");
            assert_eq!(SundayDate::containing(d(date)), sun(start));
            assert_eq!(sun(start).week_end(), d(end));
            assert!(sun(start).contains(d(date)));
        }
    }

    #[test]
    fn sunday_date_navigation() {
        let s = sun("2026-12-27");
        assert_eq!(s.next(), sun("2027-01-03"));
        assert_eq!(s.previous(), sun("2026-12-20"));
        assert_eq!(s.plus_weeks(0), s);
        assert_eq!(s.plus_weeks(52), sun("2027-12-26"));
        assert_eq!(sun("2027-12-26").previous_weeks(52), s);
        assert_eq!(s.previous_weeks(0), s);
        assert_eq!(s.weeks_until(sun("2027-12-26")), 52);
        assert_eq!(sun("2027-12-26").weeks_until(s), -52);
        assert_eq!(s.date(), d("2026-12-27"));
        assert_eq!(s.to_string(), "2026-12-27");
        assert_eq!(format!("{s:>12}"), "  2026-12-27");
        assert!(!s.contains(d("2027-01-03")));
        let last = SundayDate::containing(NaiveDate::MAX - Days::new(7));
        assert_eq!(last.checked_plus_weeks(2), None);
    }

    #[test]
    fn sunday_date_errors() {
        let err = SundayDate::parse("2026-11-25").unwrap_err();
        assert_eq!(
            err,
            CalendarError::NotSunday {
                date: d("2026-11-25"),
                weekday: "Wednesday".into()
            }
        );
        assert_eq!(err.to_string(), "2026-11-25 is a Wednesday, not a Sunday");
        assert_eq!(
            SundayDate::parse("Nov 22").unwrap_err().to_string(),
            "'Nov 22' is not a date in the form YYYY-MM-DD"
        );
        assert!(SundayDate::new(d("2026-11-22")).is_ok());
        assert!("2026-11-22".parse::<SundayDate>().is_ok());
    }

    #[test]
    fn parse_date_is_strict() {
        assert_eq!(
            parse_date("2026-03-08"),
            Ok(NaiveDate::from_ymd_opt(2026, 3, 8).unwrap())
        );
        assert_eq!(
            parse_date("2028-02-29"),
            Ok(NaiveDate::from_ymd_opt(2028, 2, 29).unwrap())
        );
        for bad in [
            "",
            "2026-3-8",
            "2026-03-8",
            "26-03-08",
            "+2026-03-08",
            "02026-03-08",
            "2026/03/08",
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            " 2026-03-08",
            "2026-03-08 ",
            "2026-03-08T00:00:00",
            "2026-0a-08",
            "２０２６-03-08",
        ] {
            assert_eq!(
                parse_date(bad),
                Err(CalendarError::BadDate(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn spring_forward_2026_03_08() {
        let tz = DEFAULT_TIME_ZONE;
        // EST (UTC-5) until 02:00 local on Sunday March 8.
        assert_eq!(
            current_payment_period(utc("2026-03-08T04:59:59Z"), tz),
            sun("2026-03-01")
        );
        assert_eq!(local_date(utc("2026-03-08T04:59:59Z"), tz), d("2026-03-07"));
        assert_eq!(
            current_payment_period(utc("2026-03-08T05:00:00Z"), tz),
            sun("2026-03-08")
        );
        // 03:00 EDT, just after the skipped hour.
        assert_eq!(
            current_payment_period(utc("2026-03-08T07:00:00Z"), tz),
            sun("2026-03-08")
        );
        // Saturday 23:59:59 EDT closes the week.
        assert_eq!(
            current_payment_period(utc("2026-03-15T03:59:59Z"), tz),
            sun("2026-03-08")
        );
        assert_eq!(
            current_payment_period(utc("2026-03-15T04:00:00Z"), tz),
            sun("2026-03-15")
        );
    }

    #[test]
    fn fall_back_2026_11_01() {
        let tz = DEFAULT_TIME_ZONE;
        // Still EDT (UTC-4) at local midnight: Saturday Oct 31 ends at 03:59:59Z.
        assert_eq!(local_date(utc("2026-11-01T03:59:59Z"), tz), d("2026-10-31"));
        assert_eq!(
            current_payment_period(utc("2026-11-01T03:59:59Z"), tz),
            sun("2026-10-25")
        );
        assert_eq!(
            current_payment_period(utc("2026-11-01T04:00:00Z"), tz),
            sun("2026-11-01")
        );
        // 00:30 EDT and 01:00 EDT on Sunday.
        assert_eq!(
            current_payment_period(utc("2026-11-01T04:30:00Z"), tz),
            sun("2026-11-01")
        );
        assert_eq!(
            current_payment_period(utc("2026-11-01T05:00:00Z"), tz),
            sun("2026-11-01")
        );
        // 01:30 EST: the repeated hour is still Sunday.
        assert_eq!(
            current_payment_period(utc("2026-11-01T06:30:00Z"), tz),
            sun("2026-11-01")
        );
        // Saturday 23:59:59 EST closes the week.
        assert_eq!(
            current_payment_period(utc("2026-11-08T04:59:59Z"), tz),
            sun("2026-11-01")
        );
        assert_eq!(
            current_payment_period(utc("2026-11-08T05:00:00Z"), tz),
            sun("2026-11-08")
        );
    }

    #[test]
    fn year_boundary_and_other_zones() {
        let ny = DEFAULT_TIME_ZONE;
        // 22:00 EST on Thursday Dec 31 2026 is already 2027 in UTC.
        let now = utc("2027-01-01T03:00:00Z");
        assert_eq!(local_date(now, ny), d("2026-12-31"));
        assert_eq!(current_payment_period(now, ny), sun("2026-12-27"));
        assert_eq!(
            current_payment_period(now, chrono_tz::UTC),
            sun("2026-12-27")
        );
        // Saturday evening in Los Angeles is Sunday in Tokyo.
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap();
        assert_eq!(
            current_payment_period(now, chrono_tz::America::Los_Angeles),
            sun("2026-11-15")
        );
        assert_eq!(
            current_payment_period(now, chrono_tz::Asia::Tokyo),
            sun("2026-11-22")
        );
    }

    #[test]
    fn serde() {
        let s = sun("2026-11-01");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"2026-11-01\"");
        assert_eq!(
            serde_json::from_str::<SundayDate>("\"2026-11-01\"").unwrap(),
            s
        );
        let err = serde_json::from_str::<SundayDate>("\"2026-11-02\"").unwrap_err();
        assert!(
            err.to_string().contains("is a Monday, not a Sunday"),
            "{err}"
        );
        let err = serde_json::from_str::<SundayDate>("\"11/01/2026\"").unwrap_err();
        assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
        assert!(serde_json::from_str::<SundayDate>("20261101").is_err());
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        // Days since 0001-01-01 through 9999-12-31.
        (0i64..3_652_059)
            .prop_map(|n| NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + chrono::Duration::days(n))
    }

    proptest! {
        #[test]
        fn week_start_is_the_sunday_on_or_before(date in any_date()) {
            let start = week_start_of(date);
            prop_assert_eq!(start.weekday(), Weekday::Sun);
            prop_assert!(start <= date);
            prop_assert!((date - start).num_days() < 7);
            let end = week_end_of(date);
            prop_assert_eq!(end.weekday(), Weekday::Sat);
            prop_assert_eq!((end - start).num_days(), 6);
            prop_assert!(date <= end);
        }

        #[test]
        fn parse_display_round_trip(date in any_date()) {
            let s = SundayDate::containing(date);
            prop_assert_eq!(SundayDate::parse(&s.to_string()), Ok(s));
            prop_assert_eq!(parse_date(&date.to_string()), Ok(date));
        }
    }
}
