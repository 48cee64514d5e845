//! SQL for postings, balances and allocations.

use domain::money::Money;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{Balance, NewObligation, Posting};
use crate::db::filter::{fetch_page, Where};
use crate::db::{PageRequest, Tx};

pub const POSTING_COLUMNS: &str =
    "id, category, amount_cents, entry_type, status, reference_id, reversal_for_id, driver_id, \
     lease_id, vehicle_id, medallion_id, payment_period, description, created_by, created_on";

pub fn posting_from_row(r: &AnyRow) -> Result<Posting, sqlx::Error> {
    Ok(Posting {
        id: r.try_get("id")?,
        category: r.try_get("category")?,
        amount: Money::from_cents(r.try_get("amount_cents")?),
        entry_type: r.try_get("entry_type")?,
        status: r.try_get("status")?,
        reference_id: r.try_get("reference_id")?,
        reversal_for_id: r.try_get("reversal_for_id")?,
        driver_id: r.try_get("driver_id")?,
        lease_id: r.try_get("lease_id")?,
        vehicle_id: r.try_get("vehicle_id")?,
        medallion_id: r.try_get("medallion_id")?,
        payment_period: r.try_get("payment_period")?,
        description: r.try_get("description")?,
        created_by: r.try_get("created_by")?,
        created_on: r.try_get("created_on")?,
    })
}

pub const BALANCE_COLUMNS: &str =
    "id, category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, \
     medallion_id, original_cents, balance_cents, due_date, status";

pub fn balance_from_row(r: &AnyRow) -> Result<Balance, sqlx::Error> {
    let original: i64 = r.try_get("original_cents")?;
    let current: i64 = r.try_get("balance_cents")?;
    Ok(Balance {
        id: r.try_get("id")?,
        category: r.try_get("category")?,
        reference_id: r.try_get("reference_id")?,
        obligation_posting_id: r.try_get("obligation_posting_id")?,
        driver_id: r.try_get("driver_id")?,
        lease_id: r.try_get("lease_id")?,
        vehicle_id: r.try_get("vehicle_id")?,
        medallion_id: r.try_get("medallion_id")?,
        original_amount: Money::from_cents(original),
        current_balance: Money::from_cents(current),
        applied_amount: Money::from_cents(original - current),
        due_date: r.try_get("due_date")?,
        status: r.try_get("status")?,
    })
}

pub struct PostingRow<'a> {
    pub category: &'a str,
    pub amount_cents: i64,
    pub entry_type: &'a str,
    pub reference_id: &'a str,
    pub reversal_for_id: Option<i64>,
    pub driver_id: Option<i64>,
    pub lease_id: Option<i64>,
    pub vehicle_id: Option<i64>,
    pub medallion_id: Option<i64>,
    pub payment_period: Option<String>,
    pub description: Option<&'a str>,
    pub actor: &'a str,
    pub now: &'a str,
}

pub async fn insert_posting(tx: &mut Tx, p: &PostingRow<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, reversal_for_id, driver_id, \
         lease_id, vehicle_id, medallion_id, payment_period, description, created_by, created_on) \
         VALUES ($1, $2, $3, 'POSTED', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(p.category)
    .bind(p.amount_cents)
    .bind(p.entry_type)
    .bind(p.reference_id)
    .bind(p.reversal_for_id)
    .bind(p.driver_id)
    .bind(p.lease_id)
    .bind(p.vehicle_id)
    .bind(p.medallion_id)
    .bind(&p.payment_period)
    .bind(p.description)
    .bind(p.actor)
    .bind(p.now)
    .fetch_one(&mut **tx)
    .await
}

/// Inserts the obligation posting unless one exists for (category, reference); returns the
/// posting id and whether this call created it.
pub async fn insert_obligation_once(
    tx: &mut Tx,
    o: &NewObligation,
    period: &str,
    actor: &str,
    now: &str,
) -> Result<(i64, bool), sqlx::Error> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, vehicle_id, \
         medallion_id, payment_period, description, created_by, created_on) \
         VALUES ($1, $2, 'OBLIGATION', 'POSTED', $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (category, reference_id) WHERE entry_type = 'OBLIGATION' DO NOTHING RETURNING id",
    )
    .bind(o.category.as_str())
    .bind(o.amount.cents())
    .bind(&o.reference_id)
    .bind(o.driver_id)
    .bind(o.lease_id)
    .bind(o.vehicle_id)
    .bind(o.medallion_id)
    .bind(period)
    .bind(&o.description)
    .bind(actor)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = inserted {
        sqlx::query(
            "INSERT INTO ledger_balances (category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, medallion_id, \
             original_cents, balance_cents, due_date, status, created_on, updated_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, 'OPEN', $10, $10)",
        )
        .bind(o.category.as_str())
        .bind(&o.reference_id)
        .bind(id)
        .bind(o.driver_id)
        .bind(o.lease_id)
        .bind(o.vehicle_id)
        .bind(o.medallion_id)
        .bind(o.amount.cents())
        .bind(o.due_date.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        return Ok((id, true));
    }
    let existing: i64 = sqlx::query_scalar(
        "SELECT id FROM ledger_postings WHERE category = $1 AND reference_id = $2 AND entry_type = 'OBLIGATION'",
    )
    .bind(o.category.as_str())
    .bind(&o.reference_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok((existing, false))
}

pub async fn balance_of_posting(
    tx: &mut Tx,
    posting_id: i64,
) -> Result<Option<Balance>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {BALANCE_COLUMNS} FROM ledger_balances WHERE obligation_posting_id = $1"
    ))
    .bind(posting_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| balance_from_row(&r))
    .transpose()
}

pub async fn posting_for_update(
    tx: &mut Tx,
    id: i64,
    postgres: bool,
) -> Result<Option<Posting>, sqlx::Error> {
    let lock = if postgres { " FOR UPDATE" } else { "" };
    sqlx::query(&format!(
        "SELECT {POSTING_COLUMNS} FROM ledger_postings WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| posting_from_row(&r))
    .transpose()
}

/// Flags a posting voided; false when it was not `POSTED` any more (someone else won).
pub async fn mark_voided(tx: &mut Tx, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE ledger_postings SET status = 'VOIDED' WHERE id = $1 AND status = 'POSTED'",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Closes an obligation's balance as void, only while nothing is paid of it; false when a
/// payment reached it first (on PostgreSQL this waits for a payment in flight on the same
/// balance and then sees what it did).
pub async fn close_balance_as_void(
    tx: &mut Tx,
    balance_id: i64,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE ledger_balances SET status = 'VOIDED', balance_cents = 0, updated_on = $1 \
         WHERE id = $2 AND status = 'OPEN' AND balance_cents = original_cents",
    )
    .bind(now)
    .bind(balance_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list_postings(
    pool: &AnyPool,
    filter: &Where,
    page: PageRequest,
) -> Result<(Vec<Posting>, i64), sqlx::Error> {
    fetch_page(
        pool,
        POSTING_COLUMNS,
        "FROM ledger_postings",
        filter,
        "id DESC",
        page,
        posting_from_row,
    )
    .await
}

pub async fn list_balances(
    pool: &AnyPool,
    filter: &Where,
    page: PageRequest,
) -> Result<(Vec<Balance>, i64), sqlx::Error> {
    fetch_page(
        pool,
        BALANCE_COLUMNS,
        "FROM ledger_balances",
        filter,
        "due_date, id",
        page,
        balance_from_row,
    )
    .await
}
