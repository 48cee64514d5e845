//! `repairs.post_due_installments` (the guide's `app/repairs/tasks.py`): every `Scheduled`
//! installment due on or before the run date, of an `Open` invoice, becomes one `Repair`
//! obligation and turns `Posted`, in the same transaction. Set-based, in batches; a crash
//! between batches loses nothing and a rerun posts nothing twice (the ledger's unique
//! obligation index makes that impossible in any case).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::db::{id_list, timestamp, Backend, Db, Tx};
use crate::http::error::AppError;

pub const JOB_NAME: &str = "repairs.post_due_installments";

/// Tuning and test hooks; production uses the defaults.
#[derive(Debug, Clone)]
pub struct PostingOptions {
    pub batch_size: usize,
    /// Connections posting side by side (PostgreSQL only; SQLite has one writer).
    pub workers: usize,
    /// Test hook: fail (roll back) the batch after this many committed batches.
    pub fail_after_batches: Option<usize>,
    /// Test hook: pause after each committed batch (to kill a worker mid-run).
    pub pause_between_batches: Option<Duration>,
}

impl Default for PostingOptions {
    fn default() -> Self {
        PostingOptions {
            batch_size: 5_000,
            workers: 2,
            fail_after_batches: None,
            pause_between_batches: None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct PostingReport {
    pub as_of: String,
    pub posted: i64,
    pub batches: i64,
}

/// Posts the installments with these ids (already known to be due, `Scheduled`, of an
/// `Open` invoice) as Repair obligations; returns how many turned `Posted`.
async fn post_batch(
    tx: &mut Tx,
    backend: Backend,
    ids: &[i64],
    actor: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    let ids = id_list(ids);
    let insert_postings = format!(
        "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, vehicle_id, \
         medallion_id, payment_period, description, created_by, created_on) \
         SELECT 'Repair', i.principal_amount_cents, 'OBLIGATION', 'POSTED', i.installment_id, v.driver_id, v.lease_id, v.vehicle_id, \
         v.medallion_id, i.week_start_date, 'Repair installment ' || i.installment_id || ' (invoice ' || v.invoice_number || ')', $1, $2 \
         FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id WHERE i.id IN ({ids}) \
         ON CONFLICT (category, reference_id) WHERE entry_type = 'OBLIGATION' DO NOTHING"
    );
    // Balances of exactly the postings just made. An obligation that already existed got
    // its balance in the same transaction back then.
    let insert_balances = |now_parameter: &str| {
        format!(
            "INSERT INTO ledger_balances (category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, \
             medallion_id, original_cents, balance_cents, due_date, status, created_on, updated_on) \
             SELECT p.category, p.reference_id, p.id, p.driver_id, p.lease_id, p.vehicle_id, p.medallion_id, p.amount_cents, \
             p.amount_cents, p.payment_period, 'OPEN', {now_parameter}, {now_parameter}"
        )
    };
    match backend {
        // One statement: the balances come from the rows the insert returns, not read back.
        Backend::Postgres => {
            sqlx::query(&format!(
                "WITH p AS ({insert_postings} RETURNING *) {} FROM p ON CONFLICT (category, reference_id) DO NOTHING",
                insert_balances("$2")
            ))
            .persistent(false)
            .bind(actor)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Backend::Sqlite => {
            let posted: Vec<i64> = sqlx::query_scalar(&format!("{insert_postings} RETURNING id"))
                .persistent(false)
                .bind(actor)
                .bind(now)
                .fetch_all(&mut **tx)
                .await?;
            for chunk in posted.chunks(5000) {
                sqlx::query(&format!(
                    "{} FROM ledger_postings p WHERE p.id IN ({}) ON CONFLICT (category, reference_id) DO NOTHING",
                    insert_balances("$1"),
                    id_list(chunk)
                )).persistent(false)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    let updated = sqlx::query(&format!(
        "UPDATE repair_installments SET status = 'Posted', posted_on = $1, ledger_posting_ref = \
         (SELECT CAST(p.id AS TEXT) FROM ledger_postings p WHERE p.category = 'Repair' AND p.entry_type = 'OBLIGATION' \
          AND p.reference_id = repair_installments.installment_id) \
         WHERE id IN ({ids}) AND status = 'Scheduled'"
    )).persistent(false)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(updated.rows_affected() as i64)
}

/// Posts everything due on or before `as_of`. Used by the scheduler, the CLI and the API.
///
/// On PostgreSQL `options.workers` connections walk the due list side by side (each skips
/// the rows another holds), so the run uses more than one core of the database server;
/// SQLite has one writer, so one walk.
#[tracing::instrument(skip_all, fields(as_of = %as_of))]
pub async fn post_due_installments(
    db: &Db,
    as_of: NaiveDate,
    actor: &str,
    now: DateTime<Utc>,
    options: &PostingOptions,
) -> Result<PostingReport, AppError> {
    let now_text = timestamp(now);
    let workers = match db.backend() {
        Backend::Postgres => options.workers.max(1),
        Backend::Sqlite => 1,
    };
    let walks = futures_util::future::join_all(
        (0..workers).map(|_| walk_due(db, as_of, actor, &now_text, options)),
    )
    .await;
    let mut report = PostingReport {
        as_of: as_of.to_string(),
        ..Default::default()
    };
    // Every walk runs to its end; what any of them committed stays posted (a rerun goes on
    // from there). The first failure is the run's.
    for walk in walks {
        let (posted, batches) = walk?;
        report.posted += posted;
        report.batches += batches;
    }
    tracing::info!(
        posted = report.posted,
        batches = report.batches,
        workers,
        "due installments posted"
    );
    Ok(report)
}

/// One worker's walk over the due installments, a batch per transaction: (posted, batches).
async fn walk_due(
    db: &Db,
    as_of: NaiveDate,
    actor: &str,
    now: &str,
    options: &PostingOptions,
) -> Result<(i64, i64), AppError> {
    let lock = if db.backend() == Backend::Postgres {
        " FOR UPDATE OF i SKIP LOCKED"
    } else {
        ""
    };
    // Walks the partial index of Scheduled installments in (week, id) order from where the
    // previous batch ended, so no batch steps over the entries the earlier ones left behind.
    let select = format!(
        "SELECT i.id, i.week_start_date FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id \
         WHERE i.status = 'Scheduled' AND i.week_start_date <= $1 AND (i.week_start_date, i.id) > ($3, $4) AND v.status = 'Open' \
         ORDER BY i.week_start_date, i.id LIMIT $2{lock}"
    );
    let mut after = (String::new(), 0_i64);
    let (mut posted, mut batches) = (0, 0);
    loop {
        let mut tx = db.begin().await?;
        let rows = sqlx::query(&select)
            .bind(as_of.to_string())
            .bind(options.batch_size as i64)
            .bind(&after.0)
            .bind(after.1)
            .fetch_all(&mut *tx)
            .await?;
        let ids = rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<Vec<i64>, _>>()?;
        let Some(last) = rows.last() else {
            tx.commit().await?;
            return Ok((posted, batches));
        };
        after = (last.try_get("week_start_date")?, last.try_get("id")?);
        if options
            .fail_after_batches
            .is_some_and(|n| batches as usize >= n)
        {
            tx.rollback().await?;
            return Err(AppError::Internal(anyhow::anyhow!(
                "injected failure after {batches} batches"
            )));
        }
        posted += post_batch(&mut tx, db.backend(), &ids, actor, now).await?;
        tx.commit().await?;
        batches += 1;
        if let Some(pause) = options.pause_between_batches {
            tokio::time::sleep(pause).await;
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstallmentPostResult {
    pub installment_id: String,
    pub posted: bool,
    pub ledger_posting_ref: Option<String>,
    /// Why it was not posted.
    pub reason: Option<String>,
}

/// Manual posting of chosen installments: each is posted or gets the reason it was not.
pub async fn post_installments(
    db: &Db,
    installment_ids: &[String],
    as_of: NaiveDate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<InstallmentPostResult>, AppError> {
    let mut tx = db.begin().await?;
    // Every listed installment in one read (the route allows up to 1,000 ids, bound).
    let marks: Vec<String> = (1..=installment_ids.len())
        .map(|n| format!("${n}"))
        .collect();
    let sql = format!(
        "SELECT i.id, i.installment_id, i.status, i.week_start_date, i.ledger_posting_ref, v.status AS invoice_status, v.repair_id \
         FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id WHERE i.installment_id IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql).persistent(false);
    for installment_id in installment_ids {
        query = query.bind(installment_id);
    }
    let mut found: HashMap<String, sqlx::any::AnyRow> = HashMap::new();
    for row in query.fetch_all(&mut *tx).await? {
        found.insert(row.try_get("installment_id")?, row);
    }
    let mut results = Vec::with_capacity(installment_ids.len());
    let mut to_post = Vec::new();
    let mut listed = HashSet::new();
    for installment_id in installment_ids {
        let refused = |reason: String| InstallmentPostResult {
            installment_id: installment_id.clone(),
            posted: false,
            ledger_posting_ref: None,
            reason: Some(reason),
        };
        let Some(row) = found.get(installment_id) else {
            results.push(refused("no such installment".into()));
            continue;
        };
        let id: i64 = row.try_get("id")?;
        let status: String = row.try_get("status")?;
        let week: String = row.try_get("week_start_date")?;
        let invoice_status: String = row.try_get("invoice_status")?;
        let repair_id: String = row.try_get("repair_id")?;
        if status != "Scheduled" {
            let mut r = refused(format!("already {status}"));
            r.ledger_posting_ref = row.try_get("ledger_posting_ref")?;
            results.push(r);
        } else if invoice_status != "Open" {
            results.push(refused(format!(
                "invoice {repair_id} is {invoice_status}; only Open invoices are posted"
            )));
        } else if week > as_of.to_string() {
            results.push(refused(format!("not due until the week of {week}")));
        } else if !listed.insert(id) {
            results.push(refused("listed twice".into()));
        } else {
            to_post.push(id);
            results.push(InstallmentPostResult {
                installment_id: installment_id.clone(),
                posted: true,
                ledger_posting_ref: None,
                reason: None,
            });
        }
    }
    if !to_post.is_empty() {
        post_batch(&mut tx, db.backend(), &to_post, actor, &timestamp(now)).await?;
        let mut refs: HashMap<String, Option<String>> = HashMap::new();
        for r in sqlx::query(&format!(
            "SELECT installment_id, ledger_posting_ref FROM repair_installments WHERE id IN ({})",
            id_list(&to_post)
        ))
        .persistent(false)
        .fetch_all(&mut *tx)
        .await?
        {
            refs.insert(
                r.try_get("installment_id")?,
                r.try_get("ledger_posting_ref")?,
            );
        }
        for result in results.iter_mut().filter(|r| r.posted) {
            result.ledger_posting_ref = refs.get(&result.installment_id).cloned().flatten();
        }
    }
    tx.commit().await?;
    Ok(results)
}
