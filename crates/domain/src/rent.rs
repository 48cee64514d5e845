//! Weekly lease rent: a lease pays its weekly rate for every payment week (Sunday–Saturday)
//! its term covers, and a share of it for a week it covers in part.
//!
//! Rounding, stated once: a part week costs `weekly rate × days ÷ 7`, **rounded down to the
//! cent**. So a driver is never charged more than the days used, and however a week is cut
//! into parts (seven one-day charges, a start and an end in the same week), the parts never
//! add up to more than the weekly rate.

use chrono::NaiveDate;

use crate::calendar::SundayDate;
use crate::money::Money;

/// The days of `week` within a lease term from `start` to `end` (inclusive; open-ended when
/// `None`): 0 to 7.
pub fn days_in_week(week: SundayDate, start: NaiveDate, end: Option<NaiveDate>) -> u32 {
    let first = start.max(week.date());
    let last = end.map_or(week.week_end(), |e| e.min(week.week_end()));
    if last < first {
        return 0;
    }
    u32::try_from((last - first).num_days() + 1)
        .unwrap_or(0)
        .min(7)
}

/// `weekly × days ÷ 7`, rounded down to the cent (see the module documentation); the whole
/// rate for 7 days or more, nothing for none.
pub fn prorated(weekly: Money, days: u32) -> Money {
    match days {
        0 => Money::ZERO,
        d if d >= 7 => weekly,
        d => Money::from_cents(
            i64::try_from(i128::from(weekly.cents()) * i128::from(d) / 7).unwrap_or(i64::MAX),
        ),
    }
}

/// What a lease owes for `week`: its weekly rate for the days of its term in that week.
pub fn rent_for_week(
    weekly: Money,
    week: SundayDate,
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> Money {
    prorated(weekly, days_in_week(week, start, end))
}

#[cfg(test)]
mod tests {
    // Amounts are written as dollars_cents (`450_00` is 450.00), as in the matrix tests.
    #![allow(clippy::inconsistent_digit_grouping)]

    use super::*;
    use crate::calendar::parse_date;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn week(s: &str) -> SundayDate {
        SundayDate::parse(s).unwrap()
    }

    fn m(c: i64) -> Money {
        Money::from_cents(c)
    }

    #[test]
    fn days_of_a_term_in_a_week() {
        let w = week("2026-11-29");
        assert_eq!(days_in_week(w, d("2026-01-04"), None), 7);
        // Starts Wednesday: Wednesday to Saturday.
        assert_eq!(days_in_week(w, d("2026-12-02"), None), 4);
        // Ends Tuesday: Sunday to Tuesday.
        assert_eq!(days_in_week(w, d("2026-01-04"), Some(d("2026-12-01"))), 3);
        // Starts and ends in the week.
        assert_eq!(days_in_week(w, d("2026-11-30"), Some(d("2026-12-03"))), 4);
        assert_eq!(days_in_week(w, d("2026-12-05"), Some(d("2026-12-05"))), 1);
        // Outside the week.
        assert_eq!(days_in_week(w, d("2026-12-06"), None), 0);
        assert_eq!(days_in_week(w, d("2026-01-04"), Some(d("2026-11-28"))), 0);
        assert_eq!(days_in_week(w, d("2026-12-03"), Some(d("2026-12-01"))), 0);
    }

    #[test]
    fn part_weeks_are_rounded_down_to_the_cent() {
        let rate = m(525_00);
        assert_eq!(prorated(rate, 7), rate);
        assert_eq!(prorated(rate, 0), Money::ZERO);
        assert_eq!(prorated(rate, 1), m(75_00));
        // 450.00 × 3 / 7 = 192.857… → 192.85
        assert_eq!(prorated(m(450_00), 3), m(192_85));
        // 100.00 / 7 = 14.2857… → 14.28; seven of them, 99.96, never more than the week.
        assert_eq!(prorated(m(100_00), 1), m(14_28));
        assert_eq!(
            rent_for_week(m(450_00), week("2026-11-29"), d("2026-12-02"), None),
            m(257_14)
        );
    }

    proptest! {
        #[test]
        fn the_parts_of_a_week_never_exceed_its_rate(cents in 0i64..=10_000_000, cut in 1u32..7) {
            let rate = m(cents);
            let one_day_each: Money = (0..7).map(|_| prorated(rate, 1)).sum();
            prop_assert!(one_day_each <= rate);
            prop_assert!(prorated(rate, cut) + prorated(rate, 7 - cut) <= rate);
            // More days never cost less, and never more than a cent short of exact.
            prop_assert!(prorated(rate, cut) <= prorated(rate, cut + 1));
            let exact_times_7 = i128::from(cents) * i128::from(cut);
            let charged_times_7 = i128::from(prorated(rate, cut).cents()) * 7;
            prop_assert!(charged_times_7 <= exact_times_7 && exact_times_7 - charged_times_7 < 7);
        }
    }
}
