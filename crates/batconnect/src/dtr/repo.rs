//! SQL for DTRs: the statement step's reads and writes, and the lists.

use std::collections::{HashMap, HashSet};

use domain::money::Money;
use domain::status::DtrStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{Dtr, DtrContent, DtrSummary};
use crate::db::filter::{fetch_page, Where};
use crate::db::{id_list, word, PageRequest, Tx};

const COLUMNS: &str = "id, dtr_number, lease_id, driver_id, week_start, week_end, status, gross_earnings_cents, total_deducted_cents, \
     net_pay_cents, generated_on, finalized_by, finalized_on";

fn summary(r: &AnyRow) -> Result<DtrSummary, sqlx::Error> {
    Ok(DtrSummary {
        id: r.try_get("id")?,
        dtr_number: r.try_get("dtr_number")?,
        lease_id: r.try_get("lease_id")?,
        driver_id: r.try_get("driver_id")?,
        week_start: r.try_get("week_start")?,
        week_end: r.try_get("week_end")?,
        status: word(r, "status")?,
        gross_earnings: Money::from_cents(r.try_get("gross_earnings_cents")?),
        total_deducted: Money::from_cents(r.try_get("total_deducted_cents")?),
        net_pay: Money::from_cents(r.try_get("net_pay_cents")?),
        generated_on: r.try_get("generated_on")?,
        finalized_by: r.try_get("finalized_by")?,
        finalized_on: r.try_get("finalized_on")?,
    })
}

pub async fn list(
    pool: &AnyPool,
    filter: &Where,
    page: PageRequest,
) -> Result<(Vec<DtrSummary>, i64), sqlx::Error> {
    fetch_page(
        pool,
        COLUMNS,
        "FROM dtrs",
        filter,
        "week_start DESC, id",
        page,
        summary,
    )
    .await
}

pub async fn get(pool: &AnyPool, id: i64) -> Result<Option<Dtr>, sqlx::Error> {
    let Some(r) = sqlx::query(&format!(
        "SELECT {COLUMNS}, content FROM dtrs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let content: String = r.try_get("content")?;
    let content: DtrContent =
        serde_json::from_str(&content).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Some(Dtr {
        summary: summary(&r)?,
        content,
    }))
}

/// Of these leases, those whose statement of `week` is finalized (never changed again).
pub async fn finalized_leases(
    tx: &mut Tx,
    week: &str,
    leases: &[i64],
) -> Result<HashSet<i64>, sqlx::Error> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT lease_id FROM dtrs WHERE week_start = $1 AND status = 'Finalized' AND lease_id IN ({})",
        id_list(leases)
    ))
    .persistent(false)
    .bind(week)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect())
}

/// The statements of `week` these leases have already, by lease.
pub async fn existing_statements(
    tx: &mut Tx,
    week: &str,
    leases: &[i64],
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT lease_id, id FROM dtrs WHERE week_start = $1 AND lease_id IN ({})",
        id_list(leases)
    ))
    .persistent(false)
    .bind(week)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("lease_id")?, r.try_get("id")?)))
    .collect()
}

/// The credit the drafts of `week` about to be made again showed as applied, by lease: it
/// was applied when they were first made, and a remade statement still shows it.
pub async fn draft_credit_applied(
    tx: &mut Tx,
    week: &str,
    leases: &[i64],
) -> Result<HashMap<i64, Money>, crate::error::AppError> {
    let mut found = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT lease_id, content FROM dtrs WHERE week_start = $1 AND status = 'Draft' AND lease_id IN ({})",
        id_list(leases)
    ))
    .persistent(false)
    .bind(week)
    .fetch_all(&mut **tx)
    .await?
    {
        let content: String = r.try_get("content")?;
        let content: DtrContent = serde_json::from_str(&content).map_err(anyhow::Error::from)?;
        if content.credit_applied.is_positive() {
            found.insert(r.try_get("lease_id")?, content.credit_applied);
        }
    }
    Ok(found)
}

/// Replaces a draft's contents (a finalized statement is left as it is).
pub async fn replace_draft(
    tx: &mut Tx,
    id: i64,
    content: &DtrContent,
    json: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE dtrs SET driver_id = $1, gross_earnings_cents = $2, total_deducted_cents = $3, net_pay_cents = $4, content = $5, \
         generated_on = $6 WHERE id = $7 AND status = 'Draft'",
    )
    .bind(content.party.driver_id)
    .bind(content.gross_earnings.cents())
    .bind(content.total_deducted.cents())
    .bind(content.net_pay.cents())
    .bind(json)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A new draft: its number, lease, contents and contents as stored.
pub struct NewDraft<'a> {
    pub number: String,
    pub lease_id: i64,
    pub content: &'a DtrContent,
    pub json: String,
}

/// Inserts new drafts of `week` in multi-row statements.
pub async fn insert_drafts(
    tx: &mut Tx,
    week: &str,
    drafts: &[NewDraft<'_>],
    now: &str,
) -> Result<(), sqlx::Error> {
    // $1 week, $2 time; 8 parameters a row after that.
    for batch in drafts.chunks(crate::db::rows_per_statement(crate::db::backend_of(tx), 8)) {
        let values: Vec<String> = (0..batch.len())
            .map(|n| {
                let b = 2 + n * 8;
                format!(
                    "(${}, ${}, ${}, $1, ${}, 'Draft', ${}, ${}, ${}, ${}, $2)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO dtrs (dtr_number, lease_id, driver_id, week_start, week_end, status, gross_earnings_cents, total_deducted_cents, \
             net_pay_cents, content, generated_on) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(week).bind(now);
        for d in batch {
            query = query
                .bind(&d.number)
                .bind(d.lease_id)
                .bind(d.content.party.driver_id)
                .bind(&d.content.week_end)
                .bind(d.content.gross_earnings.cents())
                .bind(d.content.total_deducted.cents())
                .bind(d.content.net_pay.cents())
                .bind(&d.json);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The lease a statement is of (unlocked: it never changes).
pub async fn lease_of(tx: &mut Tx, id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT lease_id FROM dtrs WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// A statement's status, locked on PostgreSQL.
pub async fn status_for_update(tx: &mut Tx, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT status FROM dtrs WHERE id = $1{}",
        crate::db::lock_rows(tx)
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn mark_finalized(
    tx: &mut Tx,
    id: i64,
    actor: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE dtrs SET status = 'Finalized', finalized_by = $1, finalized_on = $2 WHERE id = $3 AND status = 'Draft'",
    )
    .bind(actor)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Of these leases, the weeks from `from` on that have a statement, and whether it is
/// finalized: (week, finalized).
pub async fn statement_weeks(
    tx: &mut Tx,
    lease_id: i64,
    from: &str,
) -> Result<Vec<(String, bool)>, sqlx::Error> {
    sqlx::query(
        "SELECT week_start, status FROM dtrs WHERE lease_id = $1 AND week_start >= $2 ORDER BY week_start",
    )
    .bind(lease_id)
    .bind(from)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("week_start")?,
            word::<DtrStatus>(r, "status")? == DtrStatus::Finalized,
        ))
    })
    .collect()
}

/// Where a finalized statement's PDF is stored and its SHA-256, when recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPdf {
    pub key: String,
    pub sha256: String,
}

/// The stored PDF of a statement, if one is recorded.
pub async fn stored_pdf(pool: &AnyPool, id: i64) -> Result<Option<StoredPdf>, sqlx::Error> {
    let row: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT pdf_ref, pdf_sha256 FROM dtrs WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(match row {
        Some((Some(key), Some(sha256))) => Some(StoredPdf { key, sha256 }),
        _ => None,
    })
}

/// Records the stored PDF of a finalized statement; `false` when one was recorded already
/// (the first one stays: a record is never replaced).
pub async fn record_pdf(tx: &mut Tx, id: i64, pdf: &StoredPdf) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE dtrs SET pdf_ref = $1, pdf_sha256 = $2 WHERE id = $3 AND status = 'Finalized' AND pdf_sha256 IS NULL",
    )
    .bind(&pdf.key)
    .bind(&pdf.sha256)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every finalized statement with a recorded PDF: (id, number, stored PDF), by id.
pub async fn recorded_pdfs(pool: &AnyPool) -> Result<Vec<(i64, String, StoredPdf)>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT id, dtr_number, pdf_ref, pdf_sha256 FROM dtrs \
         WHERE status = 'Finalized' AND pdf_sha256 IS NOT NULL ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, number, key, sha256)| (id, number, StoredPdf { key, sha256 }))
        .collect())
}

/// How many finalized statements have no recorded PDF yet (finalized before records
/// were kept; their first download records one).
pub async fn finalized_without_pdf(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM dtrs WHERE status = 'Finalized' AND pdf_sha256 IS NULL",
    )
    .fetch_one(pool)
    .await
}

/// The finalized statement of `lease` for `week`: its id and number.
pub async fn finalized_statement<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    lease: i64,
    week: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, dtr_number FROM dtrs WHERE lease_id = $1 AND week_start = $2 AND status = 'Finalized'",
    )
    .bind(lease)
    .bind(week)
    .fetch_optional(db)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("dtr_number")?)))
        .transpose()
}

/// The lease's statements after `week` (their weeks and whether each is a draft), oldest first.
pub async fn statements_after(
    tx: &mut Tx,
    lease: i64,
    week: &str,
) -> Result<Vec<(String, bool)>, sqlx::Error> {
    sqlx::query("SELECT week_start, status FROM dtrs WHERE lease_id = $1 AND week_start > $2 ORDER BY week_start")
        .bind(lease)
        .bind(week)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("week_start")?,
                r.try_get::<String, _>("status")? == "Draft",
            ))
        })
        .collect()
}

/// A correction after a statement was final (see `dtr::corrections`).
pub struct NewAdjustment<'a> {
    pub lease_id: i64,
    pub voided_posting_id: i64,
    pub finalized_dtr_id: i64,
    pub week: &'a str,
    pub due_week: &'a str,
    pub reason: &'a str,
    pub amount_cents: i64,
    pub owed_again_cents: i64,
    pub obligation_posting_id: Option<i64>,
    pub created_by: &'a str,
    pub created_on: &'a str,
}

pub async fn insert_adjustment(tx: &mut Tx, a: &NewAdjustment<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO statement_adjustments (lease_id, voided_posting_id, finalized_dtr_id, week, due_week, reason, \
         amount_cents, owed_again_cents, obligation_posting_id, created_by, created_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(a.lease_id)
    .bind(a.voided_posting_id)
    .bind(a.finalized_dtr_id)
    .bind(a.week)
    .bind(a.due_week)
    .bind(a.reason)
    .bind(a.amount_cents)
    .bind(a.owed_again_cents)
    .bind(a.obligation_posting_id)
    .bind(a.created_by)
    .bind(a.created_on)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An adjustment as a statement shows it.
pub struct AdjustmentRow {
    pub lease_id: i64,
    pub voided_posting_id: i64,
    pub dtr_number: String,
    pub week: String,
    pub due_week: String,
    pub reason: String,
    pub amount_cents: i64,
    pub owed_again_cents: i64,
}

fn adjustment_from_row(r: &AnyRow) -> Result<AdjustmentRow, sqlx::Error> {
    Ok(AdjustmentRow {
        lease_id: r.try_get("lease_id")?,
        voided_posting_id: r.try_get("voided_posting_id")?,
        dtr_number: r.try_get("dtr_number")?,
        week: r.try_get("week")?,
        due_week: r.try_get("due_week")?,
        reason: r.try_get("reason")?,
        amount_cents: r.try_get("amount_cents")?,
        owed_again_cents: r.try_get("owed_again_cents")?,
    })
}

/// The adjustments of these leases carried by the statement of `week`, or by an earlier one
/// whose obligation is named in `also` (`ADJ-<posting>` references still being paid).
pub async fn adjustments_for(
    tx: &mut Tx,
    leases: &[i64],
    week: &str,
    also: &[i64],
) -> Result<Vec<AdjustmentRow>, sqlx::Error> {
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    let also = if also.is_empty() {
        String::new()
    } else {
        format!(" OR a.voided_posting_id IN ({})", id_list(also))
    };
    sqlx::query(&format!(
        "SELECT a.lease_id, a.voided_posting_id, d.dtr_number, a.week, a.due_week, a.reason, a.amount_cents, a.owed_again_cents \
         FROM statement_adjustments a JOIN dtrs d ON d.id = a.finalized_dtr_id \
         WHERE a.lease_id IN ({}) AND (a.due_week = $1{also}) ORDER BY a.lease_id, a.week, a.id",
        id_list(leases)
    ))
    .persistent(false)
    .bind(week)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(adjustment_from_row)
    .collect()
}

/// A lease's corrections after final statements, oldest first: the adjustment and its
/// obligation posting (when it took back net pay).
pub async fn adjustments_of_lease(
    pool: &AnyPool,
    lease: i64,
) -> Result<Vec<(AdjustmentRow, Option<i64>)>, sqlx::Error> {
    sqlx::query(
        "SELECT a.lease_id, a.voided_posting_id, d.dtr_number, a.week, a.due_week, a.reason, a.amount_cents, \
         a.owed_again_cents, a.obligation_posting_id \
         FROM statement_adjustments a JOIN dtrs d ON d.id = a.finalized_dtr_id WHERE a.lease_id = $1 ORDER BY a.week, a.id",
    )
    .bind(lease)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            adjustment_from_row(r)?,
            r.try_get("obligation_posting_id")?,
        ))
    })
    .collect()
}
