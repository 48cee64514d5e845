//! Report figures: parsed ranges, groups that add up to their totals, and the weeks of the
//! dashboard's repair chart.

use chrono::{Datelike, Months, NaiveDate};
use domain::money::Money;
use sqlx::AnyPool;

use super::model::{CostGroup, CostGrouping, RepairCosts, RepairWeek};
use super::repo;
use crate::db::Db;
use crate::error::{AppError, FieldError};

/// The longest range a report covers.
pub const MAX_YEARS: u32 = 5;

/// A checked range of dates: `from` not after `to`, at most five years.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    /// `from` and `to` as sent (`YYYY-MM-DD`), both required.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Range, AppError> {
        let mut errors = Vec::new();
        let mut date = |name: &str, value: Option<&str>| match value.map(str::trim) {
            None | Some("") => {
                errors.push(FieldError::new(
                    name,
                    "is required: a date written YYYY-MM-DD",
                ));
                None
            }
            Some(text) => domain::calendar::parse_date(text)
                .map_err(|e| errors.push(FieldError::new(name, e.to_string())))
                .ok(),
        };
        let (from, to) = (date("from", from), date("to", to));
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                errors.push(FieldError::new(
                    "to",
                    format!("{to} is before from ({from})"),
                ));
            } else if from
                .checked_add_months(Months::new(12 * MAX_YEARS))
                .is_none_or(|limit| to > limit)
            {
                errors.push(FieldError::new(
                    "to",
                    format!("the range {from} to {to} is longer than {MAX_YEARS} years"),
                ));
            }
        }
        match (from, to) {
            (Some(from), Some(to)) if errors.is_empty() => Ok(Range { from, to }),
            _ => Err(AppError::Validation(errors)),
        }
    }

    /// The twelve months up to and including `today`'s: the first of the month a year less
    /// eleven months back, to today.
    pub fn last_twelve_months(today: NaiveDate) -> Range {
        let this_month = today.with_day(1).unwrap_or(today);
        let from = this_month
            .checked_sub_months(Months::new(11))
            .unwrap_or(this_month);
        Range { from, to: today }
    }
}

/// `2026-11` → "November 2026".
pub fn month_label(key: &str) -> String {
    NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d")
        .map(|d| d.format("%B %Y").to_string())
        .unwrap_or_else(|_| key.to_string())
}

/// Every month of the range, as `YYYY-MM`.
fn months_of(range: Range) -> Vec<String> {
    let mut months = Vec::new();
    let mut month = range.from.with_day(1).unwrap_or(range.from);
    while month <= range.to {
        months.push(month.format("%Y-%m").to_string());
        match month.checked_add_months(Months::new(1)) {
            Some(next) => month = next,
            None => break,
        }
    }
    months
}

const KIND_LABELS: [(&str, &str); 6] = [
    ("parts", "Parts"),
    ("labour", "Labour"),
    ("fees", "Fees"),
    ("discounts", "Discounts"),
    ("tax", "Tax"),
    ("unitemised", "Without lines"),
];

/// Repair costs over `range`, grouped; the groups add up to the total of the invoices.
pub async fn repair_costs(
    db: &Db,
    grouping: CostGrouping,
    range: Range,
) -> Result<RepairCosts, AppError> {
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let (groups, invoice_count, total) = match grouping {
        CostGrouping::Kind => {
            let (kinds, count, total) =
                repo::cost_kinds(db.reader(), db.backend(), &from, &to).await?;
            let groups = kinds
                .into_iter()
                .map(|(key, count, cents)| CostGroup {
                    key: key.to_string(),
                    label: KIND_LABELS
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map_or(key, |(_, l)| l)
                        .to_string(),
                    count,
                    sum: Money::from_cents(cents),
                })
                .collect();
            (groups, count, total)
        }
        _ => {
            let rows = repo::cost_groups(db.reader(), db.backend(), grouping, &from, &to).await?;
            let count = rows.iter().map(|r| r.count).sum();
            let total = rows.iter().map(|r| r.cents).sum();
            let mut groups: Vec<CostGroup> = rows
                .into_iter()
                .map(|r| CostGroup {
                    label: if grouping == CostGrouping::Month {
                        month_label(&r.key)
                    } else {
                        r.label
                    },
                    key: r.key,
                    count: r.count,
                    sum: Money::from_cents(r.cents),
                })
                .collect();
            if grouping == CostGrouping::Month {
                // Every month of the range, the empty ones too: a chart's axis has no gaps.
                groups = months_of(range)
                    .into_iter()
                    .map(|key| {
                        groups
                            .iter()
                            .find(|g| g.key == key)
                            .cloned()
                            .unwrap_or(CostGroup {
                                label: month_label(&key),
                                key,
                                count: 0,
                                sum: Money::ZERO,
                            })
                    })
                    .collect();
            }
            (groups, count, total)
        }
    };
    Ok(RepairCosts {
        group_by: grouping.as_str().to_string(),
        from,
        to,
        groups,
        invoice_count,
        total: Money::from_cents(total),
    })
}

/// Parts and labour by month over `range` (every month of it): (label, parts, labour).
pub async fn parts_and_labour(
    db: &Db,
    range: Range,
) -> Result<Vec<(String, Money, Money)>, AppError> {
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let rows = repo::parts_and_labour_by_month(db.reader(), db.backend(), &from, &to).await?;
    Ok(months_of(range)
        .into_iter()
        .map(|month| {
            let (parts, labour) = rows
                .iter()
                .find(|(m, ..)| *m == month)
                .map_or((0, 0), |(_, p, l)| (*p, *l));
            (
                month_label(&month),
                Money::from_cents(parts),
                Money::from_cents(labour),
            )
        })
        .collect())
}

/// The twelve payment weeks up to the current one: repair installments due and what
/// payments collected of Repair balances.
pub async fn repair_weeks(
    pool: &AnyPool,
    current: domain::calendar::SundayDate,
) -> Result<Vec<RepairWeek>, AppError> {
    let first = current.date() - chrono::Duration::weeks(11);
    let last = current.date() + chrono::Duration::days(6);
    let (from, to) = (first.to_string(), last.to_string());
    let due = repo::repair_due_by_week(pool, &from, &to).await?;
    let collected = repo::repair_collected_by_day(pool, &from, &to).await?;
    let mut weeks: Vec<RepairWeek> = (0..12)
        .map(|i| RepairWeek {
            week: (first + chrono::Duration::weeks(i)).to_string(),
            due: Money::ZERO,
            collected: Money::ZERO,
        })
        .collect();
    let week_of = |day: &str| {
        domain::calendar::parse_date(day)
            .ok()
            .map(|d| domain::calendar::week_start_of(d).to_string())
    };
    for (day, cents) in due {
        if let Some(w) = weeks
            .iter_mut()
            .find(|w| Some(&w.week) == week_of(&day).as_ref())
        {
            w.due += Money::from_cents(cents);
        }
    }
    for (day, cents) in collected {
        if let Some(w) = weeks
            .iter_mut()
            .find(|w| Some(&w.week) == week_of(&day).as_ref())
        {
            w.collected += Money::from_cents(cents);
        }
    }
    Ok(weeks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        domain::calendar::parse_date(text).unwrap()
    }

    #[test]
    fn a_range_is_both_dates_in_order_and_at_most_five_years() {
        let r = Range::parse(Some("2026-01-01"), Some("2026-12-31")).unwrap();
        assert_eq!(months_of(r).len(), 12);
        assert!(Range::parse(Some("2021-12-07"), Some("2026-12-07")).is_ok());
        let said = |e: AppError| match e {
            AppError::Validation(errors) => errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        let long = said(Range::parse(Some("2021-12-06"), Some("2026-12-07")).unwrap_err());
        assert!(long.contains("longer than 5 years"), "{long}");
        let backwards = said(Range::parse(Some("2026-12-07"), Some("2026-12-06")).unwrap_err());
        assert!(backwards.contains("before from"), "{backwards}");
        match Range::parse(None, Some("nope")).unwrap_err() {
            AppError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["from", "to"]);
            }
            other => panic!("{other}"),
        }
        let year = Range::last_twelve_months(day("2026-12-07"));
        assert_eq!((year.from, year.to), (day("2026-01-01"), day("2026-12-07")));
        assert_eq!(month_label("2026-11"), "November 2026");
    }
}
