//! Cron schedules (the Sunday chain's settings) evaluated in the configured time zone,
//! DST-correct (the `cron` crate walks local wall-clock times of a `chrono_tz` zone).

use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone)]
pub struct CronSchedule {
    pub expression: String,
    schedule: cron::Schedule,
}

impl CronSchedule {
    /// Accepts classic 5-field crontab (`30 4 * * Sun`) or 6/7 fields with seconds first.
    pub fn parse(expression: &str) -> Result<CronSchedule, String> {
        let fields = expression.split_whitespace().count();
        let full = match fields {
            5 => format!("0 {expression}"),
            6 | 7 => expression.to_string(),
            _ => {
                return Err(format!(
                "'{expression}' must have 5 fields (minute hour day-of-month month day-of-week)"
            ))
            }
        };
        let schedule = cron::Schedule::from_str(&full)
            .map_err(|e| format!("'{expression}' is not a cron expression: {e}"))?;
        Ok(CronSchedule {
            expression: expression.to_string(),
            schedule,
        })
    }

    /// The first fire time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.schedule
            .after(&after.with_timezone(&tz))
            .next()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The latest fire time at or before `now`, looking back at most 8 days (weekly jobs).
    pub fn latest_at_or_before(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let mut latest = None;
        let mut cursor = now - Duration::days(8);
        while let Some(next) = self.next_after(cursor, tz) {
            if next > now {
                break;
            }
            latest = Some(next);
            cursor = next;
        }
        latest
    }
}

/// The period a fire time belongs to: its local date (a Sunday for the weekly chain).
pub fn period_of(fire: DateTime<Utc>, tz: Tz) -> NaiveDate {
    fire.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::New_York;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn sunday_0430_new_york_across_spring_forward() {
        let s = CronSchedule::parse("30 4 * * Sun").unwrap();
        // 2026-03-08: clocks go 02:00 EST → 03:00 EDT; 04:30 EDT = 08:30 UTC.
        assert_eq!(
            s.next_after(utc(2026, 3, 7, 12, 0), New_York),
            Some(utc(2026, 3, 8, 8, 30))
        );
        // The Sunday before was still EST: 04:30 EST = 09:30 UTC.
        assert_eq!(
            s.next_after(utc(2026, 2, 28, 12, 0), New_York),
            Some(utc(2026, 3, 1, 9, 30))
        );
    }

    #[test]
    fn sunday_0430_new_york_across_fall_back() {
        let s = CronSchedule::parse("30 4 * * Sun").unwrap();
        // 2026-11-01: 02:00 EDT → 01:00 EST; 04:30 EST = 09:30 UTC.
        assert_eq!(
            s.next_after(utc(2026, 10, 31, 12, 0), New_York),
            Some(utc(2026, 11, 1, 9, 30))
        );
        assert_eq!(
            s.next_after(utc(2026, 10, 24, 12, 0), New_York),
            Some(utc(2026, 10, 25, 8, 30))
        );
        let dtr = CronSchedule::parse("0 5 * * Sun").unwrap();
        assert_eq!(
            dtr.next_after(utc(2026, 10, 31, 12, 0), New_York),
            Some(utc(2026, 11, 1, 10, 0))
        );
    }

    #[test]
    fn latest_fire_and_its_period() {
        let s = CronSchedule::parse("30 4 * * Sun").unwrap();
        // Wednesday 2026-11-25: the latest run was Sunday 2026-11-22 04:30 EST.
        let latest = s
            .latest_at_or_before(utc(2026, 11, 25, 15, 0), New_York)
            .unwrap();
        assert_eq!(latest, utc(2026, 11, 22, 9, 30));
        assert_eq!(period_of(latest, New_York).to_string(), "2026-11-22");
        // Sunday 04:29 local: the latest is the previous Sunday.
        let before = s
            .latest_at_or_before(utc(2026, 11, 29, 9, 29), New_York)
            .unwrap();
        assert_eq!(period_of(before, New_York).to_string(), "2026-11-22");
    }

    #[test]
    fn bad_expressions_are_refused() {
        assert!(CronSchedule::parse("every sunday").is_err());
        assert!(CronSchedule::parse("61 4 * * Sun").is_err());
    }
}
