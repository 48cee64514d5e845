//! `repairs.post_due_installments` (the guide's `app/repairs/tasks.py`): every `Scheduled`
//! installment due on or before the run date, of an `Open` invoice, becomes one `Repair`
//! obligation and turns `Posted`, in the same transaction. Set-based, in batches; a crash
//! between batches loses nothing and a rerun posts nothing twice (the ledger's unique
//! obligation index makes that impossible in any case).

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use domain::status::{InstallmentStatus, InvoiceStatus};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::repo;
use crate::db::{id_list, timestamp, Backend, Db, Tx};
use crate::error::AppError;

pub const JOB_NAME: &str = crate::jobs::model::POST_DUE_INSTALLMENTS;

/// This job's step of the Sunday chain: every installment due by the run's date.
pub const STEP: crate::jobs::registry::ChainStep = crate::jobs::registry::ChainStep {
    name: JOB_NAME,
    run: |run| {
        Box::pin(async move {
            let settings = &run.ctx.posting;
            let options = PostingOptions {
                batch_size: settings.batch_size,
                workers: settings.workers,
                fail_after_batches: settings.fail_after_batches,
                pause_between_batches: settings.pause_between_batches,
                stop: run.stop.clone(),
            };
            post_due_installments(
                &run.ctx.db,
                run.as_of,
                run.actor,
                run.ctx.clock.now(),
                &options,
            )
            .await
            .map(crate::jobs::registry::counts)
        })
    },
};

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
    /// Raised when the run must stop after the batch in hand (its run was taken over).
    pub stop: crate::stop::StopFlag,
}

impl PostingOptions {
    /// What a run uses unless configured otherwise (`BAT_POSTING_BATCH_SIZE`,
    /// `BAT_POSTING_WORKERS`).
    pub fn for_backend(backend: Backend) -> Self {
        PostingOptions {
            batch_size: default_batch_size(backend),
            workers: DEFAULT_WORKERS,
            fail_after_batches: None,
            pause_between_batches: None,
            stop: Default::default(),
        }
    }
}

pub use crate::config::{
    default_posting_batch_size as default_batch_size, DEFAULT_POSTING_WORKERS as DEFAULT_WORKERS,
};

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, ToSchema)]
pub struct PostingReport {
    pub as_of: String,
    pub posted: i64,
    pub batches: i64,
    /// Invoices found paid off but not closed (e.g. paid while on Hold), closed now.
    #[serde(default)]
    pub closed: i64,
}

/// The installments one batch posts.
enum Due<'a> {
    /// The walk's next stretch: `Scheduled`, due by `as_of`, of an `Open` invoice, after
    /// `after` in (week, id) order.
    Next {
        as_of: &'a str,
        after: &'a (String, i64),
        limit: i64,
    },
    /// These installments, already checked by the caller.
    Listed(&'a [i64]),
}

/// What a posting copies from its installment and invoice.
const DUE_COLUMNS: &str = "i.id, i.installment_id, i.week_start_date, i.principal_amount_cents, \
     v.driver_id, v.lease_id, v.vehicle_id, v.medallion_id, v.invoice_number";
const DUE_FROM: &str = "FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id";

/// Statements on a batch take the actor as `$1` and the time as `$2`; the walk's own
/// parameters follow (`Due::query`).
impl Due<'_> {
    /// Which installments are due, over `i` (installment) and `v` (its invoice).
    fn condition(&self) -> String {
        match self {
            Due::Next { .. } => "i.status = 'Scheduled' AND i.week_start_date <= $3 \
                 AND (i.week_start_date, i.id) > ($4, $5) AND v.status = 'Open'"
                .to_string(),
            Due::Listed(ids) => format!("i.id IN ({}) AND i.status = 'Scheduled'", id_list(ids)),
        }
    }

    /// The batch's installments with what their postings copy.
    fn select(&self) -> String {
        let condition = self.condition();
        match self {
            Due::Next { .. } => format!(
                "SELECT {DUE_COLUMNS} {DUE_FROM} WHERE {condition} ORDER BY i.week_start_date, i.id LIMIT $6"
            ),
            Due::Listed(_) => format!("SELECT {DUE_COLUMNS} {DUE_FROM} WHERE {condition}"),
        }
    }

    /// A statement on the batch with `$1` to `$6` bound. The walk's statements are the same
    /// text every batch and stay prepared; a listed batch's carry its ids.
    fn query<'q>(&self, sql: &'q str, actor: &'q str, now: &'q str) -> AnyQuery<'q> {
        let query = sqlx::query(sql)
            .persistent(matches!(self, Due::Next { .. }))
            .bind(actor)
            .bind(now);
        match self {
            Due::Next {
                as_of,
                after,
                limit,
            } => query
                .bind(as_of.to_string())
                .bind(after.0.clone())
                .bind(after.1)
                .bind(*limit),
            Due::Listed(_) => query,
        }
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// One batch's outcome: how many turned `Posted`, and the (week, id) the walk goes on after.
struct BatchOutcome {
    posted: i64,
    last: Option<(String, i64)>,
}

/// Nothing was due: the walk is over.
const NOTHING_DUE: BatchOutcome = BatchOutcome {
    posted: 0,
    last: None,
};

/// The posting row made from a due installment (`d`); `$1` is the actor, `$2` the time.
const POSTING_INSERT: &str = "INSERT INTO ledger_postings (category, amount_cents, entry_type, status, reference_id, driver_id, lease_id, \
     vehicle_id, medallion_id, payment_period, description, created_by, created_on) \
     SELECT 'Repair', d.principal_amount_cents, 'OBLIGATION', 'POSTED', d.installment_id, d.driver_id, d.lease_id, d.vehicle_id, \
     d.medallion_id, d.week_start_date, 'Repair installment ' || d.installment_id || ' (invoice ' || d.invoice_number || ')', $1, $2";
const POSTING_CONFLICT: &str =
    "ON CONFLICT (category, reference_id) WHERE entry_type = 'OBLIGATION' DO NOTHING";

/// The balance of each posting just made (`p`); `$2` is the time. An obligation that
/// already existed got its balance in the same transaction back then.
const BALANCE_INSERT: &str = "INSERT INTO ledger_balances (category, reference_id, obligation_posting_id, driver_id, lease_id, vehicle_id, \
     medallion_id, original_cents, balance_cents, due_date, status, created_on, updated_on) \
     SELECT p.category, p.reference_id, p.id, p.driver_id, p.lease_id, p.vehicle_id, p.medallion_id, p.amount_cents, \
     p.amount_cents, p.payment_period, 'OPEN', $2, $2";

/// Marks the installments `which` selects `Posted` (at the time in placeholder `now`) with
/// their obligation's id, whoever made it.
fn mark_posted_sql(which: &str, now: &str) -> String {
    format!(
        "UPDATE repair_installments SET status = 'Posted', posted_on = {now}, ledger_posting_ref = \
         (SELECT CAST(p.id AS TEXT) FROM ledger_postings p WHERE p.category = 'Repair' AND p.entry_type = 'OBLIGATION' \
          AND p.reference_id = repair_installments.installment_id) \
         WHERE {which}"
    )
}

/// Posts one batch as Repair obligations with their balances and marks the installments
/// `Posted`, inside the caller's transaction.
async fn post_batch(
    tx: &mut Tx,
    backend: Backend,
    due: &Due<'_>,
    actor: &str,
    now: &str,
) -> Result<BatchOutcome, sqlx::Error> {
    match backend {
        Backend::Postgres => post_batch_postgres(tx, due, actor, now).await,
        Backend::Sqlite => post_batch_sqlite(tx, due, actor, now).await,
    }
}

/// PostgreSQL: the whole batch is one statement — take the due rows (locking them; a walk
/// beside this one skips them), insert their postings, the postings' balances, and mark
/// the installments with the postings' ids — so nothing is read back or sent twice.
async fn post_batch_postgres(
    tx: &mut Tx,
    due: &Due<'_>,
    actor: &str,
    now: &str,
) -> Result<BatchOutcome, sqlx::Error> {
    // The invoices are locked too (the weakest lock, which only a hold, resume or cancel
    // taking the invoice FOR UPDATE conflicts with): an invoice whose hold or cancel
    // committed after this statement's snapshot is re-checked on its new row and drops out,
    // and a hold or cancel in progress waits for this batch (or is skipped by the walk).
    let lock = match due {
        Due::Next { .. } => "FOR UPDATE OF i SKIP LOCKED FOR KEY SHARE OF v SKIP LOCKED",
        // Chosen rows are waited for; one another run just posted drops out. The caller
        // has locked their invoices already (invoice before installment, as a cancel does).
        Due::Listed(_) => "FOR UPDATE OF i FOR KEY SHARE OF v",
    };
    let sql = format!(
        "WITH due AS ({select} {lock}), \
         p AS ({POSTING_INSERT} FROM due d {POSTING_CONFLICT} RETURNING *), \
         b AS ({BALANCE_INSERT} FROM p ON CONFLICT (obligation_posting_id) DO NOTHING), \
         u AS (UPDATE repair_installments r SET status = 'Posted', posted_on = $2, ledger_posting_ref = CAST(p.id AS TEXT) \
               FROM p WHERE r.installment_id = p.reference_id RETURNING r.id) \
         SELECT d.week_start_date, d.id, (SELECT COUNT(*) FROM u) AS posted, \
         (SELECT string_agg(CAST(e.id AS TEXT), ',') FROM due e WHERE e.installment_id NOT IN (SELECT reference_id FROM p)) AS unposted \
         FROM due d ORDER BY d.week_start_date DESC, d.id DESC LIMIT 1",
        select = due.select()
    );
    // The installments are found by their unique key, a few thousand probes; from the
    // batch's row estimate alone the planner would rather hash the whole installments
    // table. Hash and merge joins stay off for the rest of this (the batch's) transaction.
    sqlx::query(
        "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)",
    )
    .execute(&mut **tx)
    .await?;
    let row = due
        .query(&sql, actor, now)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else {
        return Ok(NOTHING_DUE);
    };
    let mut posted: i64 = row.try_get("posted")?;
    // An installment whose obligation already existed (the unique index refused a second
    // one): it is marked with that obligation, as the posting would have done.
    if let Some(unposted) = row.try_get::<Option<String>, _>("unposted")? {
        let ids = unposted
            .split(',')
            .map(|id| id.parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let marked = sqlx::query(&mark_posted_sql(
            &format!("id IN ({}) AND status = 'Scheduled'", id_list(&ids)),
            "$1",
        ))
        .persistent(false)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        posted += marked.rows_affected() as i64;
    }
    Ok(BatchOutcome {
        posted,
        last: Some((row.try_get("week_start_date")?, row.try_get("id")?)),
    })
}

/// A statement on a SQLite batch's range: `$1` to `$6` as usual, then its last (week, id).
fn range_query<'q>(
    sql: &'q str,
    due: &Due<'_>,
    actor: &'q str,
    now: &'q str,
    last: Option<&(String, i64)>,
) -> AnyQuery<'q> {
    let query = due.query(sql, actor, now);
    match last {
        Some((week, id)) => query.bind(week.clone()).bind(*id),
        None => query,
    }
}

/// SQLite (one writer, so nothing moves between the statements of a batch): the walk's
/// LIMIT is resolved to the batch's last (week, id) first, then the postings, their
/// balances and the status change each take exactly that range in one statement, with
/// nothing sent back and forth row by row.
async fn post_batch_sqlite(
    tx: &mut Tx,
    due: &Due<'_>,
    actor: &str,
    now: &str,
) -> Result<BatchOutcome, sqlx::Error> {
    let (condition, last) = match due {
        Due::Next { .. } => {
            let bound = format!(
                "SELECT d.week_start_date, d.id FROM ({}) d ORDER BY d.week_start_date DESC, d.id DESC LIMIT 1",
                due.select()
            );
            let last = due
                .query(&bound, actor, now)
                .fetch_optional(&mut **tx)
                .await?;
            let Some(last) = last else {
                return Ok(NOTHING_DUE);
            };
            let last: (String, i64) = (last.try_get("week_start_date")?, last.try_get("id")?);
            (
                format!(
                    "{} AND (i.week_start_date, i.id) <= ($7, $8)",
                    due.condition()
                ),
                Some(last),
            )
        }
        Due::Listed(_) => (due.condition(), None),
    };
    // The postings made now are the ones numbered after the ledger's last (one writer).
    let before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM ledger_postings")
        .fetch_one(&mut **tx)
        .await?;
    // `WHERE true`: SQLite would read the upsert's ON as the FROM clause's join condition.
    let insert_postings = format!(
        "{POSTING_INSERT} FROM (SELECT {DUE_COLUMNS} {DUE_FROM} WHERE {condition}) d WHERE true {POSTING_CONFLICT}"
    );
    range_query(&insert_postings, due, actor, now, last.as_ref())
        .execute(&mut **tx)
        .await?;
    sqlx::query(&format!(
        "{BALANCE_INSERT} FROM ledger_postings p WHERE p.id > $3 AND p.entry_type = 'OBLIGATION' ON CONFLICT (obligation_posting_id) DO NOTHING"
    ))
    .bind(actor)
    .bind(now)
    .bind(before)
    .execute(&mut **tx)
    .await?;
    // Marked with their obligation, new or (should one have existed) the earlier one.
    let mark_posted = mark_posted_sql(
        &format!("id IN (SELECT i.id {DUE_FROM} WHERE {condition})"),
        "$2",
    );
    let updated = range_query(&mark_posted, due, actor, now, last.as_ref())
        .execute(&mut **tx)
        .await?;
    Ok(BatchOutcome {
        posted: updated.rows_affected() as i64,
        last,
    })
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
    report.closed = close_paid_off(db, &now_text).await?;
    tracing::info!(
        posted = report.posted,
        batches = report.batches,
        workers,
        "due installments posted"
    );
    Ok(report)
}

/// One worker's walk over the due installments, a batch per transaction: (posted, batches).
/// It goes through the partial index of Scheduled installments in (week, id) order from
/// where the previous batch ended, so no batch steps over the entries earlier ones left.
async fn walk_due(
    db: &Db,
    as_of: NaiveDate,
    actor: &str,
    now: &str,
    options: &PostingOptions,
) -> Result<(i64, i64), AppError> {
    let as_of = as_of.to_string();
    let mut after = (String::new(), 0_i64);
    let (mut posted, mut batches) = (0, 0);
    loop {
        let mut tx = db.begin().await?;
        let due = Due::Next {
            as_of: &as_of,
            after: &after,
            limit: options.batch_size as i64,
        };
        let outcome = post_batch(&mut tx, db.backend(), &due, actor, now).await?;
        let Some(last) = outcome.last else {
            tx.commit().await?;
            return Ok((posted, batches));
        };
        if options
            .fail_after_batches
            .is_some_and(|n| batches as usize >= n)
        {
            tx.rollback().await?;
            return Err(AppError::Internal(anyhow::anyhow!(
                "injected failure after {batches} batches"
            )));
        }
        tx.commit().await?;
        after = last;
        posted += outcome.posted;
        batches += 1;
        if let Some(pause) = options.pause_between_batches {
            tokio::time::sleep(pause).await;
        }
        if options.stop.is_raised() {
            return Err(AppError::Conflict(format!(
                "stopped after {batches} batches: the run was taken over by another worker, which goes on from here"
            )));
        }
    }
}

/// Closes every invoice on `Hold` whose installments are all paid. The ledger's
/// reconciliation closes an invoice (Open or on Hold) in the payment's own transaction; this
/// catches the ones it never saw, such as invoices paid on Hold before it closed those.
/// (An Open invoice has always been closed by its last payment, so only the few held
/// invoices are read, through the status index.)
async fn close_paid_off(db: &Db, now: &str) -> Result<i64, AppError> {
    let mut tx = db.begin().await?;
    let closed = repo::close_paid_off_held(&mut tx, now).await?;
    tx.commit().await?;
    Ok(closed as i64)
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
    let found = repo::installments_to_post(&mut tx, installment_ids).await?;
    let mut results = Vec::with_capacity(installment_ids.len());
    let mut to_post = Vec::new();
    let mut listed = HashSet::new();
    let as_of_text = as_of.to_string();
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
        if row.status != InstallmentStatus::Scheduled {
            let mut r = refused(format!("already {}", row.status));
            r.ledger_posting_ref = row.ledger_posting_ref.clone();
            results.push(r);
        } else if row.invoice_status != InvoiceStatus::Open {
            results.push(refused(format!(
                "invoice {} is {}; only Open invoices are posted",
                row.repair_id, row.invoice_status
            )));
        } else if row.week_start > as_of_text {
            results.push(refused(format!(
                "not due until the week of {}",
                row.week_start
            )));
        } else if !listed.insert(row.id) {
            results.push(refused("listed twice".into()));
        } else {
            to_post.push(row.id);
            results.push(InstallmentPostResult {
                installment_id: installment_id.clone(),
                posted: true,
                ledger_posting_ref: None,
                reason: None,
            });
        }
    }
    if !to_post.is_empty() {
        if db.backend() == Backend::Postgres {
            repo::lock_invoices_of_installments(&mut tx, &to_post).await?;
        }
        post_batch(
            &mut tx,
            db.backend(),
            &Due::Listed(&to_post),
            actor,
            &timestamp(now),
        )
        .await?;
        let refs = repo::posting_refs_of_installments(&mut tx, &to_post).await?;
        for result in results.iter_mut().filter(|r| r.posted) {
            result.ledger_posting_ref = refs.get(&result.installment_id).cloned().flatten();
            if result.ledger_posting_ref.is_none() {
                // Its invoice was held or cancelled between the check above and the batch.
                result.posted = false;
                result.reason = Some("its invoice changed meanwhile (held or cancelled)".into());
            }
        }
    }
    tx.commit().await?;
    Ok(results)
}
