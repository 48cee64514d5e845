//! SQL for `job_runs`: claims that make each scheduled (job, period) run once.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{status, trigger, JobRun};
use crate::db::Db;

const COLUMNS: &str = "id, job_name, period, trigger, status, owner, attempts, started_on, heartbeat_on, finished_on, counts, error";

fn from_row(r: &AnyRow) -> Result<JobRun, sqlx::Error> {
    Ok(JobRun {
        id: r.try_get("id")?,
        job_name: r.try_get("job_name")?,
        period: r.try_get("period")?,
        trigger: r.try_get("trigger")?,
        status: r.try_get("status")?,
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

/// How many times a failed scheduled run is retried before it is left for an operator.
pub const MAX_ATTEMPTS: i64 = 5;

/// Claims the scheduled run of (job, period): inserts it, or takes over a failed run or one
/// whose worker stopped heart-beating before `stale_before`. `None`: someone else has it.
pub async fn claim_scheduled(
    db: &Db,
    job: &str,
    period: &str,
    owner: &str,
    now: &str,
    stale_before: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO job_runs (job_name, period, trigger, status, owner, attempts, started_on, heartbeat_on) \
         VALUES ($1, $2, 'schedule', 'running', $3, 1, $4, $4) \
         ON CONFLICT (job_name, period) WHERE trigger = 'schedule' DO NOTHING RETURNING id",
    )
    .bind(job)
    .bind(period)
    .bind(owner)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let claimed = match inserted {
        Some(id) => Some(id),
        None => {
            sqlx::query_scalar(
                "UPDATE job_runs SET status = 'running', owner = $3, attempts = attempts + 1, started_on = $4, heartbeat_on = $4, \
                 finished_on = NULL, error = NULL \
                 WHERE job_name = $1 AND period = $2 AND trigger = 'schedule' AND attempts < $6 \
                 AND (status = 'failed' OR (status = 'running' AND heartbeat_on < $5)) RETURNING id",
            )
            .bind(job)
            .bind(period)
            .bind(owner)
            .bind(now)
            .bind(stale_before)
            .bind(MAX_ATTEMPTS)
            .fetch_optional(&mut *tx)
            .await?
        }
    };
    tx.commit().await?;
    Ok(claimed)
}

pub async fn start_unscheduled(
    db: &Db,
    job: &str,
    period: &str,
    how: &str,
    owner: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    debug_assert_ne!(how, trigger::SCHEDULE);
    let mut tx = db.begin().await?;
    let id = sqlx::query_scalar(
        "INSERT INTO job_runs (job_name, period, trigger, status, owner, attempts, started_on, heartbeat_on) \
         VALUES ($1, $2, $3, 'running', $4, 1, $5, $5) RETURNING id",
    )
    .bind(job)
    .bind(period)
    .bind(how)
    .bind(owner)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn heartbeat(db: &Db, id: i64, now: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE job_runs SET heartbeat_on = $1 WHERE id = $2 AND status = 'running'")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

pub async fn finish(
    db: &Db,
    id: i64,
    outcome: &str,
    counts: Option<&serde_json::Value>,
    error: Option<&str>,
    now: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE job_runs SET status = $1, counts = $2, error = $3, finished_on = $4, heartbeat_on = $4 WHERE id = $5")
        .bind(outcome)
        .bind(counts.map(|c| c.to_string()))
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
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
    run.status == status::SUCCEEDED || run.status == status::SKIPPED
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
