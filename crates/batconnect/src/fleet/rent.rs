//! `leases.post_weekly_rent`, a step of the Sunday chain: the chain of Sunday S posts the
//! rent of the week S–S+6 as one `Lease` obligation (due S) for every lease whose term
//! overlaps that week — the weekly rate, or its share for the days a lease starting or
//! ending in the week covers (`domain::rent`). Exactly once per (lease, week), whoever runs
//! it: the reference `RENT-<lease>-<week>` is unique among obligations.
//!
//! Rent is never posted for a week before the go-live week: `BAT_RENT_START_WEEK`, or else
//! the first week this step ran on the database (recorded then), so a fleet imported with
//! leases that started years ago is billed no back rent.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::calendar::{parse_date, SundayDate};
use domain::money::Money;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::db::{id_list, timestamp, Backend, Db, Tx};
use crate::error::AppError;

pub const JOB_NAME: &str = "leases.post_weekly_rent";

/// The `app_settings` key holding the go-live week when `BAT_RENT_START_WEEK` is not set.
const START_WEEK_SETTING: &str = "rent_start_week";

/// Leases a statement of rent rows holds (and, on PostgreSQL, a transaction posts).
const CHUNK: usize = 1000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RentReport {
    pub week: String,
    /// The go-live week: no rent is posted for earlier weeks.
    pub start_week: String,
    /// Leases whose term overlaps the week.
    pub leases: i64,
    /// Rent obligations posted now (the others existed already).
    pub posted: i64,
    #[schema(value_type = String)]
    pub amount: Money,
}

/// The reference of a lease's rent for a week.
pub fn rent_reference(lease_id: &str, week: SundayDate) -> String {
    format!("RENT-{lease_id}-{week}")
}

/// The go-live week: `configured`, or the one recorded the first time rent was posted on
/// this database (recording `week` now if none is).
pub async fn start_week(
    db: &Db,
    configured: Option<SundayDate>,
    week: SundayDate,
) -> Result<SundayDate, AppError> {
    if let Some(start) = configured {
        return Ok(start);
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO app_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(START_WEEK_SETTING)
    .bind(week.to_string())
    .execute(&mut *tx)
    .await?;
    let recorded: String = sqlx::query_scalar("SELECT value FROM app_settings WHERE key = $1")
        .bind(START_WEEK_SETTING)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    SundayDate::parse(&recorded)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("app_settings {START_WEEK_SETTING}: {e}")))
}

/// A lease's term and parties, as its rent needs them.
struct LeaseTerm {
    id: i64,
    lease_id: String,
    weekly: Money,
    start: chrono::NaiveDate,
    end: Option<chrono::NaiveDate>,
    driver_id: Option<i64>,
    vehicle_id: i64,
    medallion_id: i64,
}

/// Posts the rent of `week` for every lease whose term overlaps it (nothing before the
/// go-live week). Set-based: a few statements per thousand leases.
#[tracing::instrument(skip_all, fields(week = %week))]
pub async fn post_weekly_rent(
    db: &Db,
    week: SundayDate,
    configured_start: Option<SundayDate>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RentReport, AppError> {
    let start = start_week(db, configured_start, week).await?;
    let mut report = RentReport {
        week: week.to_string(),
        start_week: start.to_string(),
        ..Default::default()
    };
    if week < start {
        return Ok(report);
    }
    let terms = overlapping_leases(db, week).await?;
    report.leases = terms.len() as i64;
    let now_text = timestamp(now);
    match db.backend() {
        // A transaction per thousand leases; the new postings come back from the insert.
        Backend::Postgres => {
            for chunk in terms.chunks(CHUNK) {
                let mut tx = db.begin().await?;
                let made = insert_rent_rows(&mut tx, chunk, week, actor, &now_text, true).await?;
                let ids: Vec<i64> = made.iter().map(|(id, _)| *id).collect();
                if !ids.is_empty() {
                    add_balances(&mut tx, &format!("p.id IN ({})", id_list(&ids))).await?;
                }
                tx.commit().await?;
                report.posted += made.len() as i64;
                report.amount += made
                    .iter()
                    .map(|(_, cents)| Money::from_cents(*cents))
                    .sum();
            }
        }
        // One writer: the week's rent in one transaction, and the postings it made are the
        // ones numbered after the ledger's last (rows read back one by one cost more).
        Backend::Sqlite => {
            let mut tx = db.begin().await?;
            let before: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM ledger_postings")
                    .fetch_one(&mut *tx)
                    .await?;
            for chunk in terms.chunks(crate::db::rows_per_statement(Backend::Sqlite, 7)) {
                insert_rent_rows(&mut tx, chunk, week, actor, &now_text, false).await?;
            }
            let made =
                format!("p.id > {before} AND p.category = 'Lease' AND p.entry_type = 'OBLIGATION'");
            add_balances(&mut tx, &made).await?;
            let (posted, cents): (i64, i64) = sqlx::query_as(&format!(
                "SELECT COUNT(*), CAST(COALESCE(SUM(p.amount_cents), 0) AS BIGINT) FROM ledger_postings p WHERE {made}"
            ))
            .persistent(false)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            report.posted = posted;
            report.amount = Money::from_cents(cents);
        }
    }
    tracing::info!(
        leases = report.leases,
        posted = report.posted,
        "weekly rent posted"
    );
    Ok(report)
}

/// Leases billed for `week`: in force (active or suspended), or ended within or after it.
async fn overlapping_leases(db: &Db, week: SundayDate) -> Result<Vec<LeaseTerm>, AppError> {
    let rows = sqlx::query(
        "SELECT l.id, l.lease_id, l.weekly_rate_cents, l.start_date, l.end_date, l.vehicle_id, l.medallion_id, ld.driver_id \
         FROM leases l LEFT JOIN lease_drivers ld ON ld.lease_id = l.id AND ld.is_driver_manager = 1 \
         WHERE l.status IN ('Active', 'Suspended', 'Terminated', 'Expired') AND l.weekly_rate_cents > 0 \
         AND l.start_date <= $1 AND (l.end_date IS NULL OR l.end_date >= $2) ORDER BY l.id",
    )
    .bind(week.week_end().to_string())
    .bind(week.to_string())
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let start: String = r.try_get("start_date")?;
            let end: Option<String> = r.try_get("end_date")?;
            Ok(LeaseTerm {
                id: r.try_get("id")?,
                lease_id: r.try_get("lease_id")?,
                weekly: Money::from_cents(r.try_get("weekly_rate_cents")?),
                start: parse_date(&start).map_err(|e| anyhow::anyhow!("lease start: {e}"))?,
                end: end
                    .as_deref()
                    .map(parse_date)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("lease end: {e}"))?,
                driver_id: r.try_get("driver_id")?,
                vehicle_id: r.try_get("vehicle_id")?,
                medallion_id: r.try_get("medallion_id")?,
            })
        })
        .collect::<Result<_, AppError>>()
}

/// Inserts the chunk's rent obligations (those not posted yet); with `returning`, the
/// postings made as (id, cents).
async fn insert_rent_rows(
    tx: &mut Tx,
    terms: &[LeaseTerm],
    week: SundayDate,
    actor: &str,
    now: &str,
    returning: bool,
) -> Result<Vec<(i64, i64)>, AppError> {
    let mut rows = Vec::with_capacity(terms.len());
    for t in terms {
        let days = domain::rent::days_in_week(week, t.start, t.end);
        let amount = domain::rent::prorated(t.weekly, days);
        if amount.is_positive() {
            let part = if days < 7 {
                format!(" ({days} of 7 days)")
            } else {
                String::new()
            };
            rows.push((
                t,
                amount,
                format!(
                    "Lease rent {}, week of {}{part}",
                    t.lease_id,
                    week.date().format("%m/%d/%Y")
                ),
            ));
        }
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // $1 week, $2 actor, $3 time; 7 parameters a row after that.
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            let b = 3 + i * 7;
            format!(
                "('Lease', ${}, 'OBLIGATION', 'POSTED', ${}, ${}, ${}, ${}, ${}, $1, ${}, $2, $3)",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, vehicle_id, \
         medallion_id, payment_period, description, created_by, created_on) VALUES {} \
         ON CONFLICT (category, reference_id) WHERE entry_type = 'OBLIGATION' DO NOTHING{}",
        values.join(", "),
        if returning { " RETURNING id, amount_cents" } else { "" }
    );
    let mut query = sqlx::query(&sql)
        .persistent(false)
        .bind(week.to_string())
        .bind(actor)
        .bind(now);
    for (t, amount, description) in &rows {
        query = query
            .bind(amount.cents())
            .bind(rent_reference(&t.lease_id, week))
            .bind(t.driver_id)
            .bind(t.id)
            .bind(t.vehicle_id)
            .bind(t.medallion_id)
            .bind(description.as_str());
    }
    if !returning {
        query.execute(&mut **tx).await?;
        return Ok(Vec::new());
    }
    let inserted = query.fetch_all(&mut **tx).await?;
    inserted
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("amount_cents")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The balances of the rent postings `which` selects (over `p`).
async fn add_balances(tx: &mut Tx, which: &str) -> Result<(), AppError> {
    sqlx::query(&format!(
        "INSERT INTO ledger_balances (category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, medallion_id, \
         original_cents, balance_cents, due_date, status, created_on, updated_on) \
         SELECT p.category, p.reference_id, p.id, p.driver_id, p.lease_id, p.vehicle_id, p.medallion_id, p.amount_cents, \
         p.amount_cents, p.payment_period, 'OPEN', p.created_on, p.created_on FROM ledger_postings p WHERE {which} \
         ON CONFLICT (obligation_posting_id) DO NOTHING"
    ))
    .persistent(false)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The rent posted for each week from `from` on, for one lease: (week, posting id,
/// balance id, amount).
pub async fn posted_rent_since(
    tx: &mut Tx,
    lease_id: &str,
    lease_pk: i64,
    from: SundayDate,
) -> Result<Vec<(SundayDate, i64, i64, Money)>, AppError> {
    let rows = sqlx::query(
        "SELECT p.id, p.payment_period, p.amount_cents, p.reference_id, b.id AS balance_id FROM ledger_postings p \
         JOIN ledger_balances b ON b.obligation_posting_id = p.id \
         WHERE p.lease_id = $1 AND p.category = 'Lease' AND p.entry_type = 'OBLIGATION' AND p.status = 'POSTED' \
         AND p.payment_period >= $2 ORDER BY p.payment_period",
    )
    .bind(lease_pk)
    .bind(from.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let mut found: HashMap<String, (SundayDate, i64, i64, Money)> = HashMap::new();
    for r in &rows {
        let period: String = r.try_get("payment_period")?;
        let Ok(week) = SundayDate::parse(&period) else {
            continue;
        };
        let reference: String = r.try_get("reference_id")?;
        // Only the chain's rent, not a manual Lease charge of the same week.
        if reference != rent_reference(lease_id, week) {
            continue;
        }
        found.insert(
            reference,
            (
                week,
                r.try_get("id")?,
                r.try_get("balance_id")?,
                Money::from_cents(r.try_get("amount_cents")?),
            ),
        );
    }
    let mut out: Vec<_> = found.into_values().collect();
    out.sort_by_key(|(week, ..)| *week);
    Ok(out)
}
