//! Scheduled work (§7): the Sunday chain `repairs.post_due_installments` → DTR step, cron
//! schedules in the configured time zone, and the `job_runs` record. The scheduler only
//! decides *that* a (job, period) is due and claims it in the database; the work itself is
//! a plain service function the CLI and API call too.

pub mod model;
pub mod pages;
pub mod registry;
pub mod repo;
pub mod routes;
pub mod runner;

/// The latest runs of any job, newest first (the dashboard shows the last one), after
/// marking abandoned ones failed ([`sweep_abandoned`]).
pub async fn recent_runs(
    db: &crate::db::Db,
    now: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> Result<Vec<model::JobRun>, sqlx::Error> {
    sweep_abandoned(db, now).await?;
    Ok(repo::list(db.reader(), None, None, limit, 0).await?.0)
}

/// Marks failed every run whose process stopped heart-beating (`abandoned: …`), so no run
/// shows `running` forever. Whichever process next reads or claims runs does it — the API,
/// the console, the CLI or the scheduler — so it happens with no scheduler running too.
pub async fn sweep_abandoned(
    db: &crate::db::Db,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    let stale = now - chrono::Duration::from_std(runner::STALE_AFTER).unwrap_or_default();
    let ids =
        repo::fail_abandoned(db, &crate::db::timestamp(stale), &crate::db::timestamp(now)).await?;
    for id in ids {
        tracing::error!(
            run_id = id,
            "a run's process stopped before it finished; marked failed"
        );
    }
    Ok(())
}
