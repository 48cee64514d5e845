//! Scheduled work (§7): the Sunday chain `repairs.post_due_installments` → DTR step, cron
//! schedules in the configured time zone, and the `job_runs` record. The scheduler only
//! decides *that* a (job, period) is due and claims it in the database; the work itself is
//! a plain service function the CLI and API call too.

pub mod model;
pub mod pages;
pub mod repo;
pub mod routes;
pub mod runner;

/// The latest runs of any job, newest first (the dashboard shows the last one).
pub async fn recent_runs(
    pool: &sqlx::AnyPool,
    limit: i64,
) -> Result<Vec<model::JobRun>, sqlx::Error> {
    Ok(repo::list(pool, None, None, limit, 0).await?.0)
}
