//! The ledger's reports (§14): receivables aging as of any day and a lease's statement of
//! account, both rebuilt from postings, allocations and voids as they stood at the end of
//! that day in the fleet's time zone.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::ledger::Category;
use domain::money::Money;
use serde::Serialize;
use sqlx::AnyPool;
use utoipa::ToSchema;

use super::repo::{self, AgingFilter};
use crate::db::page::PageRequest;
use crate::error::{AppError, FieldError};

/// The bucket keys of an aging report, in order.
pub const BUCKETS: [&str; 5] = ["not_due", "d1_7", "d8_28", "d29_56", "d57_plus"];

/// Open amounts by days past due (`as_of` − due date; due on `as_of` or later: not yet due).
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct Buckets {
    #[schema(value_type = String)]
    pub not_due: Money,
    #[schema(value_type = String)]
    pub d1_7: Money,
    #[schema(value_type = String)]
    pub d8_28: Money,
    #[schema(value_type = String)]
    pub d29_56: Money,
    #[schema(value_type = String)]
    pub d57_plus: Money,
    #[schema(value_type = String)]
    pub total: Money,
}

impl Buckets {
    fn of(cents: [i64; 5]) -> Buckets {
        let m = Money::from_cents;
        Buckets {
            not_due: m(cents[0]),
            d1_7: m(cents[1]),
            d8_28: m(cents[2]),
            d29_56: m(cents[3]),
            d57_plus: m(cents[4]),
            total: m(cents.iter().sum()),
        }
    }

    fn add(&mut self, o: &Buckets) {
        self.not_due += o.not_due;
        self.d1_7 += o.d1_7;
        self.d8_28 += o.d8_28;
        self.d29_56 += o.d29_56;
        self.d57_plus += o.d57_plus;
        self.total += o.total;
    }

    /// The amounts in bucket order.
    pub fn amounts(&self) -> [Money; 5] {
        [
            self.not_due,
            self.d1_7,
            self.d8_28,
            self.d29_56,
            self.d57_plus,
        ]
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgingRow {
    /// The lease's internal id and its lease id.
    pub lease_pk: i64,
    pub lease_id: String,
    pub driver: Option<String>,
    pub medallion: String,
    pub category: String,
    #[serde(flatten)]
    pub buckets: Buckets,
}

/// One category's open amounts over every lease.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgingCategory {
    pub category: String,
    /// Leases with some of it open.
    pub leases: i64,
    #[serde(flatten)]
    pub buckets: Buckets,
}

/// What was open at the end of `as_of`, per lease and category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Aging {
    #[schema(format = Date)]
    pub as_of: String,
    /// A page of the rows (one per lease and category), in lease and category order (the
    /// files hold every row).
    pub rows: Vec<AgingRow>,
    /// Per bucket over all rows (every page); `total` is the grand total.
    pub totals: Buckets,
    /// Per category over all rows, in category order.
    pub by_category: Vec<AgingCategory>,
    pub total_items: i64,
    pub page: i64,
    pub per_page: i64,
    pub total_pages: i64,
}

/// The UTC instant a local day ends (the next local midnight), as stored timestamps write it.
pub fn end_of_day(day: NaiveDate, timezone: Tz) -> String {
    let next = day + Duration::days(1);
    let local = next
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(timezone).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| next.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    crate::db::timestamp(local)
}

/// A date parameter: required or not, not after today.
pub fn day_param(
    name: &str,
    value: Option<&str>,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDate> {
    let text = value?.trim();
    match domain::calendar::parse_date(text) {
        Err(e) => {
            errors.push(FieldError::new(name, e.to_string()));
            None
        }
        Ok(day) if day > today => {
            errors.push(FieldError::new(
                name,
                format!("{day} is after today ({today})"),
            ));
            None
        }
        Ok(day) => Some(day),
    }
}

/// A category filter: one of the ledger's obligation categories.
pub fn category_param(value: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(word) = value.map(str::trim) else {
        return Ok(None);
    };
    let known: Vec<&str> = Category::ALL
        .iter()
        .filter(|c| c.is_obligation())
        .map(|c| c.as_str())
        .collect();
    match known.iter().find(|k| k.eq_ignore_ascii_case(word)) {
        Some(k) => Ok(Some(k.to_string())),
        None => Err(AppError::field(
            "category",
            format!(
                "'{word}' is not a category; the categories are: {}",
                known.join(", ")
            ),
        )),
    }
}

/// Receivables aging at the end of `as_of`.
pub async fn aging(
    pool: &AnyPool,
    as_of: NaiveDate,
    today: NaiveDate,
    timezone: Tz,
    filter: &AgingFilter,
    page: Option<PageRequest>,
) -> Result<Aging, AppError> {
    let bound = |days: i64| (as_of - Duration::days(days)).to_string();
    let bounds = [as_of.to_string(), bound(7), bound(28), bound(56)];
    let end = end_of_day(as_of, timezone);
    let current = as_of == today;
    let categories = repo::aging_by_category(pool, &end, &bounds, filter, current).await?;
    let mut totals = Buckets::default();
    let by_category: Vec<AgingCategory> = categories
        .into_iter()
        .map(|(category, leases, amounts)| {
            let buckets = Buckets::of(amounts);
            totals.add(&buckets);
            AgingCategory {
                category,
                leases,
                buckets,
            }
        })
        .collect();
    // A row per lease and category: a category's leases are its rows.
    let total_items: i64 = by_category.iter().map(|c| c.leases).sum();
    let (limit, offset, page_number, per_page) = match page {
        Some(p) => (p.per_page, p.offset(), p.page, p.per_page),
        None => (i64::MAX, 0, 1, total_items.max(1)),
    };
    let rows = if offset < total_items {
        repo::aging(pool, &end, &bounds, filter, current, (limit, offset)).await?
    } else {
        Vec::new()
    };
    let rows: Vec<AgingRow> = rows
        .into_iter()
        .map(|r| AgingRow {
            lease_pk: r.lease_id,
            lease_id: r.lease,
            driver: r.driver,
            medallion: r.medallion,
            category: r.category,
            buckets: Buckets::of(r.buckets),
        })
        .collect();
    Ok(Aging {
        as_of: as_of.to_string(),
        rows,
        totals,
        by_category,
        total_items,
        page: page_number,
        per_page,
        total_pages: (total_items + per_page - 1) / per_page,
    })
}

/// One entry of a statement of account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountEntry {
    /// The day it was recorded, in the fleet's time zone.
    #[schema(format = Date)]
    pub date: String,
    pub recorded_on: String,
    /// `charge`, `earnings`, `interim_payment`, `credit`, `void` or `applied`.
    pub kind: String,
    pub category: String,
    pub reference: String,
    pub description: String,
    /// The posting, or for `applied` the payment applied.
    pub posting_id: i64,
    /// What it adds to what the driver owes (a payment is negative; `applied` moves money
    /// from a payment to a balance and adds nothing).
    #[schema(value_type = String)]
    pub amount: Money,
    /// For `applied`: how much of the payment went to the balance.
    #[schema(value_type = Option<String>)]
    pub applied: Option<Money>,
    /// What the driver owes after this entry.
    #[schema(value_type = String)]
    pub balance: Money,
}

/// Why a lease's driver owes what they owe: every entry over a range with a running balance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountStatement {
    pub lease_pk: i64,
    pub lease_id: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    /// Owed at the start of `from` (positive: the driver owes).
    #[schema(value_type = String)]
    pub opening_balance: Money,
    pub entries: Vec<AccountEntry>,
    /// Owed at the end of `to`: the open balances less the unapplied credit that day.
    #[schema(value_type = String)]
    pub closing_balance: Money,
    #[schema(value_type = String)]
    pub open_balances: Money,
    #[schema(value_type = String)]
    pub unapplied_credit: Money,
}

fn local_day(stored: &str, timezone: Tz) -> String {
    DateTime::parse_from_rfc3339(stored)
        .map(|t| t.with_timezone(&timezone).date_naive().to_string())
        .unwrap_or_else(|_| stored.chars().take(10).collect())
}

fn kind_of(entry_type: &str) -> &'static str {
    match entry_type {
        "OBLIGATION" => "charge",
        "EARNINGS" => "earnings",
        "INTERIM_PAYMENT" => "interim_payment",
        "CREDIT" => "credit",
        _ => "void",
    }
}

/// The statement of account of lease `lease_pk` over `from..=to` (local days).
pub async fn statement(
    pool: &AnyPool,
    lease_pk: i64,
    lease_id: String,
    from: NaiveDate,
    to: NaiveDate,
    timezone: Tz,
) -> Result<AccountStatement, AppError> {
    let start = end_of_day(from - Duration::days(1), timezone);
    let end = end_of_day(to, timezone);
    let postings = repo::lease_postings(pool, lease_pk, &end).await?;
    let allocations = repo::lease_allocations(pool, lease_pk, &start, &end).await?;
    let opening: i64 = postings
        .iter()
        .filter(|p| p.created_on < start)
        .map(|p| p.amount_cents)
        .sum();
    // Postings and applications in the order they were recorded; at one instant, by
    // posting, each payment followed by where it was applied.
    let mut merged: Vec<(String, i64, u8, AccountEntry)> = Vec::new();
    for p in postings.iter().filter(|p| p.created_on >= start) {
        merged.push((
            p.created_on.clone(),
            p.id,
            0,
            AccountEntry {
                date: local_day(&p.created_on, timezone),
                recorded_on: p.created_on.clone(),
                kind: kind_of(&p.entry_type).into(),
                category: p.category.clone(),
                reference: p.reference.clone(),
                description: p
                    .description
                    .clone()
                    .unwrap_or_else(|| match p.reversal_for {
                        Some(original) => format!("Void of posting {original}"),
                        None => String::new(),
                    }),
                posting_id: p.id,
                amount: Money::from_cents(p.amount_cents),
                applied: None,
                balance: Money::ZERO,
            },
        ));
    }
    for (created_on, payment, category, reference, cents) in allocations {
        merged.push((
            created_on.clone(),
            payment,
            1,
            AccountEntry {
                date: local_day(&created_on, timezone),
                recorded_on: created_on,
                kind: "applied".into(),
                description: format!("Payment {payment} applied to {category} {reference}"),
                category,
                reference,
                posting_id: payment,
                amount: Money::ZERO,
                applied: Some(Money::from_cents(cents)),
                balance: Money::ZERO,
            },
        ));
    }
    merged.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    let mut running = Money::from_cents(opening);
    let entries: Vec<AccountEntry> = merged
        .into_iter()
        .map(|(_, _, _, mut e)| {
            running += e.amount;
            e.balance = running;
            e
        })
        .collect();
    let (open, unapplied) = repo::lease_position(pool, lease_pk, &end).await?;
    Ok(AccountStatement {
        lease_pk,
        lease_id,
        from: from.to_string(),
        to: to.to_string(),
        opening_balance: Money::from_cents(opening),
        entries,
        closing_balance: running,
        open_balances: Money::from_cents(open),
        unapplied_credit: Money::from_cents(unapplied),
    })
}

/// What was charged and collected in a week, for one category or all of them.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct CollectionFigures {
    /// Obligations whose due date falls in the week.
    #[schema(value_type = String)]
    pub charged: Money,
    /// Paid by that week's earnings (the statements' `total_deducted`).
    #[schema(value_type = String)]
    pub collected_earnings: Money,
    /// Paid by interim payments when they were taken.
    #[schema(value_type = String)]
    pub collected_interim: Money,
    /// Paid by credit a statement applied (money paid earlier and kept).
    #[schema(value_type = String)]
    pub credit_applied: Money,
    /// The three above.
    #[schema(value_type = String)]
    pub collected: Money,
    /// Paid of corrections (`ADJ-`) after a final statement (a statement's adjustments).
    #[schema(value_type = String)]
    pub adjustments_collected: Money,
    /// Reversals posted that week (voids), as posted: a voided charge negative, a voided
    /// payment positive.
    #[schema(value_type = String)]
    pub voided_or_adjusted: Money,
    /// Collected ÷ charged; null when nothing was charged.
    pub rate: Option<f64>,
}

impl CollectionFigures {
    fn settle(&mut self) {
        self.collected = self.collected_earnings + self.collected_interim + self.credit_applied;
        self.rate = (!self.charged.is_zero()).then(|| {
            let r = self.collected.cents() as f64 / self.charged.cents() as f64;
            (r * 10_000.0).round() / 10_000.0
        });
    }

    fn add(&mut self, o: &CollectionFigures) {
        self.charged += o.charged;
        self.collected_earnings += o.collected_earnings;
        self.collected_interim += o.collected_interim;
        self.credit_applied += o.credit_applied;
        self.adjustments_collected += o.adjustments_collected;
        self.voided_or_adjusted += o.voided_or_adjusted;
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollectionRow {
    #[schema(format = Date)]
    pub week: String,
    pub category: String,
    #[serde(flatten)]
    pub figures: CollectionFigures,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollectionWeek {
    #[schema(format = Date)]
    pub week: String,
    #[serde(flatten)]
    pub figures: CollectionFigures,
}

/// Weekly collections over `from_week..=to_week` (Sundays).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Collections {
    #[schema(format = Date)]
    pub from_week: String,
    #[schema(format = Date)]
    pub to_week: String,
    /// Per week and category.
    pub rows: Vec<CollectionRow>,
    /// Per week, all categories.
    pub weeks: Vec<CollectionWeek>,
    pub totals: CollectionFigures,
}

/// The local week (its Sunday) of a UTC hour written `YYYY-MM-DDTHH`.
fn week_of_hour(hour: &str, timezone: Tz) -> Option<NaiveDate> {
    let at = DateTime::parse_from_rfc3339(&format!("{hour}:00:00Z")).ok()?;
    Some(domain::calendar::week_start_of(
        at.with_timezone(&timezone).date_naive(),
    ))
}

/// Weekly collections, per week and category.
pub async fn collections(
    pool: &AnyPool,
    from_week: NaiveDate,
    to_week: NaiveDate,
    timezone: Tz,
) -> Result<Collections, AppError> {
    let last_day = to_week + Duration::days(6);
    let start = end_of_day(from_week - Duration::days(1), timezone);
    let end = end_of_day(last_day, timezone);
    let weeks: Vec<NaiveDate> =
        std::iter::successors(Some(from_week), |w| Some(*w + Duration::weeks(1)))
            .take_while(|w| *w <= to_week)
            .collect();
    let mut cells: std::collections::BTreeMap<(NaiveDate, String), CollectionFigures> =
        Default::default();
    let in_range = |w: NaiveDate| w >= from_week && w <= to_week;
    for (day, category, cents) in
        repo::charged_by_day(pool, &from_week.to_string(), &last_day.to_string()).await?
    {
        if let Ok(d) = domain::calendar::parse_date(&day) {
            let w = domain::calendar::week_start_of(d);
            cells.entry((w, category)).or_default().charged += Money::from_cents(cents);
        }
    }
    let collected = repo::collected(
        pool,
        (&from_week.to_string(), &to_week.to_string()),
        (&start, &end),
    )
    .await?;
    for c in collected {
        let by_period = || {
            c.period
                .as_deref()
                .and_then(|p| domain::calendar::parse_date(p).ok())
        };
        let (week, field): (Option<NaiveDate>, u8) = match (c.entry_type.as_str(), c.at_once) {
            ("EARNINGS", _) => (by_period(), 0),
            ("INTERIM_PAYMENT", true) => (by_period(), 1),
            _ => (week_of_hour(&c.hour, timezone), 2),
        };
        let Some(week) = week.filter(|w| in_range(*w)) else {
            continue;
        };
        let cell = cells.entry((week, c.category.clone())).or_default();
        let amount = Money::from_cents(c.cents);
        match (c.adjustment, field) {
            (true, _) => cell.adjustments_collected += amount,
            (false, 0) => cell.collected_earnings += amount,
            (false, 1) => cell.collected_interim += amount,
            _ => cell.credit_applied += amount,
        }
    }
    for (hour, category, cents) in repo::reversals(pool, &start, &end).await? {
        if let Some(week) = week_of_hour(&hour, timezone).filter(|w| in_range(*w)) {
            cells
                .entry((week, category))
                .or_default()
                .voided_or_adjusted += Money::from_cents(cents);
        }
    }
    let mut totals = CollectionFigures::default();
    let mut per_week: Vec<CollectionWeek> = weeks
        .iter()
        .map(|w| CollectionWeek {
            week: w.to_string(),
            figures: CollectionFigures::default(),
        })
        .collect();
    let rows: Vec<CollectionRow> = cells
        .into_iter()
        .map(|((week, category), mut figures)| {
            figures.settle();
            if let Some(w) = per_week.iter_mut().find(|w| w.week == week.to_string()) {
                w.figures.add(&figures);
            }
            totals.add(&figures);
            CollectionRow {
                week: week.to_string(),
                category,
                figures,
            }
        })
        .collect();
    for w in &mut per_week {
        w.figures.settle();
    }
    totals.settle();
    Ok(Collections {
        from_week: from_week.to_string(),
        to_week: to_week.to_string(),
        rows,
        weeks: per_week,
        totals,
    })
}
