//! SQL for `job_runs`: claims that make each scheduled (job, period) run once, heartbeats
//! and outcomes that only the run's current owner may write.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use domain::status::{JobStatus, JobTrigger};

use super::model::JobRun;
use crate::db::{word, Db};

const COLUMNS: &str = "id, job_name, period, trigger, requested_by, status, owner, attempts, started_on, heartbeat_on, finished_on, counts, error";

fn from_row(r: &AnyRow) -> Result<JobRun, sqlx::Error> {
    Ok(JobRun {
        id: r.try_get("id")?,
        job_name: r.try_get("job_name")?,
        period: r.try_get("period")?,
        trigger: word(r, "trigger")?,
        requested_by: r.try_get("requested_by")?,
        status: word(r, "status")?,
        owner: r.try_get("owner")?,
        attempts: r.try_get("attempts")?,
        started_on: r.try_get("started_on")?,
        heartbeat_on: r.try_get("heartbeat_on")?,
        finished_on: r.try_get("finished_on")?,
        counts: r
            .try_get::<Option<String>, _>("counts")?
            .and_then(|c| serde_json::from_str(&c).ok()),
        error: r.try_get("error")?,
    })
}

/// How many times a failed scheduled run is tried before it is left for an operator.
pub const MAX_ATTEMPTS: i64 = 5;

/// A scheduled run this process now owns.
#[derive(Debug, Clone)]
pub struct Claim {
    pub run_id: i64,
    pub attempts: i64,
    /// The worker it was taken over from (a failed run, or one that stopped heart-beating).
    pub taken_from: Option<String>,
}

/// Claims the scheduled run of (job, period): inserts it, or takes over a failed run (while
/// it has attempts left) or one whose worker stopped heart-beating before `stale_before`.
/// `None`: someone else has it, or it is done, or it has used up its attempts.
pub async fn claim_scheduled(
    db: &Db,
    job: &str,
    period: &str,
    owner: &str,
    now: &str,
    stale_before: &str,
) -> Result<Option<Claim>, sqlx::Error> {
    claim(
        db,
        job,
        period,
        owner,
        None,
        now,
        stale_before,
        Some(MAX_ATTEMPTS),
    )
    .await
}

/// Claims the scheduled run of (job, period) for an operator's CLI command: like the
/// scheduler, but also a run that used up its attempts or a `missed` Sunday (the command
/// is how those are filled). `None`: done already, or running in a live process.
pub async fn claim_for_operator(
    db: &Db,
    job: &str,
    period: &str,
    owner: &str,
    requested_by: &str,
    now: &str,
    stale_before: &str,
) -> Result<Option<Claim>, sqlx::Error> {
    claim(
        db,
        job,
        period,
        owner,
        Some(requested_by),
        now,
        stale_before,
        None,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn claim(
    db: &Db,
    job: &str,
    period: &str,
    owner: &str,
    requested_by: Option<&str>,
    now: &str,
    stale_before: &str,
    max_attempts: Option<i64>,
) -> Result<Option<Claim>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO job_runs (job_name, period, trigger, requested_by, status, owner, attempts, started_on, heartbeat_on) \
         VALUES ($1, $2, 'schedule', $3, 'running', $4, 1, $5, $5) \
         ON CONFLICT (job_name, period) WHERE trigger = 'schedule' DO NOTHING RETURNING id",
    )
    .bind(job)
    .bind(period)
    .bind(requested_by)
    .bind(owner)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let claim = match inserted {
        Some(run_id) => Some(Claim {
            run_id,
            attempts: 1,
            taken_from: None,
        }),
        None => {
            let previous: Option<(i64, String)> = sqlx::query_as(&format!(
                "SELECT id, owner FROM job_runs WHERE job_name = $1 AND period = $2 AND trigger = 'schedule'{}",
                crate::db::lock_rows(&tx)
            ))
            .bind(job)
            .bind(period)
            .fetch_optional(&mut *tx)
            .await?;
            let row = sqlx::query(
                "UPDATE job_runs SET status = 'running', owner = $3, requested_by = COALESCE($7, requested_by), \
                 attempts = attempts + 1, started_on = $4, heartbeat_on = $4, finished_on = NULL, error = NULL \
                 WHERE job_name = $1 AND period = $2 AND trigger = 'schedule' AND ($6 IS NULL OR attempts < $6) \
                 AND (status IN ('failed', 'missed') OR (status = 'running' AND heartbeat_on < $5)) RETURNING id, attempts",
            )
            .bind(job)
            .bind(period)
            .bind(owner)
            .bind(now)
            .bind(stale_before)
            .bind(max_attempts)
            .bind(requested_by)
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                Some(r) => Some(Claim {
                    run_id: r.try_get("id")?,
                    attempts: r.try_get("attempts")?,
                    taken_from: previous.map(|(_, owner)| owner),
                }),
                None => None,
            }
        }
    };
    tx.commit().await?;
    Ok(claim)
}

/// Records a run asked for over the API or the CLI (never claimed: it runs when asked).
pub async fn start_unscheduled(
    db: &Db,
    job: &str,
    period: &str,
    how: JobTrigger,
    requested_by: &str,
    owner: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    debug_assert_ne!(how, JobTrigger::Schedule);
    let mut tx = db.begin().await?;
    let id = sqlx::query_scalar(
        "INSERT INTO job_runs (job_name, period, trigger, requested_by, status, owner, attempts, started_on, heartbeat_on) \
         VALUES ($1, $2, $3, $4, 'running', $5, 1, $6, $6) RETURNING id",
    )
    .bind(job)
    .bind(period)
    .bind(how.as_str())
    .bind(requested_by)
    .bind(owner)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Marks the run alive; false when `owner` no longer owns it (taken over, or finished).
pub async fn heartbeat(db: &Db, id: i64, owner: &str, now: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE job_runs SET heartbeat_on = $1 WHERE id = $2 AND owner = $3 AND status = 'running'",
    )
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Records a run's outcome; false (and nothing written) when `owner` no longer owns it.
pub async fn finish(
    db: &Db,
    id: i64,
    owner: &str,
    outcome: JobStatus,
    counts: Option<&serde_json::Value>,
    error: Option<&str>,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE job_runs SET status = $1, counts = $2, error = $3, finished_on = $4, heartbeat_on = $4 \
         WHERE id = $5 AND owner = $6 AND status = 'running'",
    )
    .bind(outcome.as_str())
    .bind(counts.map(|c| c.to_string()))
    .bind(error)
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// The latest period whose scheduled `job` succeeded: where the scheduler's catch-up
/// starts from.
pub async fn last_completed(pool: &AnyPool, job: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MAX(period) FROM job_runs WHERE job_name = $1 AND trigger = 'schedule' AND status = 'succeeded'",
    )
    .bind(job)
    .fetch_one(pool)
    .await
}

/// Records a Sunday the scheduler will not catch up on its own; true when it was not
/// recorded before (so it is logged once).
pub async fn record_missed(
    db: &Db,
    job: &str,
    period: &str,
    note: &str,
    owner: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO job_runs (job_name, period, trigger, status, owner, attempts, started_on, heartbeat_on, finished_on, error) \
         VALUES ($1, $2, 'schedule', 'missed', $3, 0, $4, $4, $4, $5) \
         ON CONFLICT (job_name, period) WHERE trigger = 'schedule' DO NOTHING RETURNING id",
    )
    .bind(job)
    .bind(period)
    .bind(owner)
    .bind(now)
    .bind(note)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(inserted.is_some())
}

/// Runs whose process died (no heartbeat since `stale_before`) are failed with the reason,
/// instead of showing `running` forever; a scheduled one is then claimed again like any
/// failed run. Returns their ids.
pub async fn fail_abandoned(
    db: &Db,
    stale_before: &str,
    now: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    // Called on every read of the runs (pages, API): look first without writing, so a
    // dashboard load takes no write lock (SQLite has one writer) when nothing is stale.
    let stale: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM job_runs WHERE status = 'running' AND heartbeat_on < $1 LIMIT 1",
    )
    .bind(stale_before)
    .fetch_optional(db.reader())
    .await?;
    if stale.is_none() {
        return Ok(Vec::new());
    }
    let mut tx = db.begin().await?;
    let ids = sqlx::query_scalar(
        "UPDATE job_runs SET status = 'failed', finished_on = $2, \
         error = 'abandoned: its process stopped (no heartbeat since ' || heartbeat_on || ')' \
         WHERE status = 'running' AND heartbeat_on < $1 RETURNING id",
    )
    .bind(stale_before)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ids)
}

/// The scheduled run of (job, period), if any.
pub async fn scheduled_run(
    pool: &AnyPool,
    job: &str,
    period: &str,
) -> Result<Option<JobRun>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM job_runs WHERE job_name = $1 AND period = $2 AND trigger = 'schedule'"))
        .bind(job)
        .bind(period)
        .fetch_optional(pool)
        .await?
        .map(|r| from_row(&r))
        .transpose()
}

pub fn is_done(run: &JobRun) -> bool {
    matches!(run.status, JobStatus::Succeeded | JobStatus::Skipped)
}

pub async fn list(
    pool: &AnyPool,
    job: Option<&str>,
    period: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<JobRun>, i64), sqlx::Error> {
    let filter = "WHERE ($1 IS NULL OR job_name = $1) AND ($2 IS NULL OR period = $2)";
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM job_runs {filter}"))
        .bind(job)
        .bind(period)
        .fetch_one(pool)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM job_runs {filter} ORDER BY id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(job)
    .bind(period)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, total))
}

pub async fn by_id(pool: &AnyPool, id: i64) -> Result<Option<JobRun>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM job_runs WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|r| from_row(&r))
        .transpose()
}
