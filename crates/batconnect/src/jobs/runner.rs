//! Runs jobs: claims, heartbeats, records. The scheduler loop ticks, finds the latest
//! Sunday chain period, and runs posting then DTR generation for it, each exactly once
//! across every process sharing the database.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::model::{status, trigger, GENERATE_DTRS, POST_DUE_INSTALLMENTS};
use super::repo;
use super::schedule::{period_of, CronSchedule};
use crate::clock::Clock;
use crate::db::{timestamp, Db};
use crate::repairs::jobs::{post_due_installments, PostingOptions};

/// A worker stopped heart-beating this long ago is presumed dead; its run may be taken over.
const STALE_AFTER: Duration = Duration::from_secs(60);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct JobContext {
    pub db: Db,
    pub clock: Clock,
    pub timezone: Tz,
    pub posting: PostingOptions,
    /// Identifies this process in `job_runs.owner`.
    pub owner: String,
}

pub fn owner_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &id[..8])
}

/// Runs `job` for `period` under the already-recorded run `run_id`, then records the outcome.
pub async fn execute(
    ctx: &JobContext,
    job: &str,
    run_id: i64,
    as_of: NaiveDate,
) -> Result<serde_json::Value, String> {
    let beat = {
        let db = ctx.db.clone();
        let clock = ctx.clock.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT_EVERY).await;
                if let Err(error) = repo::heartbeat(&db, run_id, &timestamp(clock.now())).await {
                    tracing::warn!(%error, run_id, "job heartbeat failed");
                }
            }
        })
    };
    let result = match job {
        POST_DUE_INSTALLMENTS => post_due_installments(
            &ctx.db,
            as_of,
            &format!("job:{job}"),
            ctx.clock.now(),
            &ctx.posting,
        )
        .await
        .map(|r| {
            (
                status::SUCCEEDED,
                serde_json::to_value(r).unwrap_or_default(),
            )
        })
        .map_err(|e| format!("{e:?}")),
        // The DTRs of the week that ended the day before the run (Sunday–Saturday).
        GENERATE_DTRS => {
            let week = domain::calendar::SundayDate::containing(as_of).previous();
            crate::dtr::service::generate(&ctx.db, week, &format!("job:{job}"), ctx.clock.now())
                .await
                .map(|r| {
                    (
                        status::SUCCEEDED,
                        serde_json::to_value(r).unwrap_or_default(),
                    )
                })
                .map_err(|e| format!("{e:?}"))
        }
        other => Err(format!("unknown job {other}")),
    };
    beat.abort();
    let now = timestamp(ctx.clock.now());
    let recorded = match &result {
        Ok((outcome, counts)) => {
            repo::finish(&ctx.db, run_id, outcome, Some(counts), None, &now).await
        }
        Err(error) => {
            tracing::error!(job, run_id, %error, "job failed");
            repo::finish(&ctx.db, run_id, status::FAILED, None, Some(error), &now).await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, run_id, "could not record the job's outcome");
    }
    result.map(|(_, counts)| counts)
}

/// Runs a job now (API or CLI), recorded with its trigger; not subject to the schedule claim.
pub async fn run_now(
    ctx: &JobContext,
    job: &str,
    as_of: NaiveDate,
    how: &str,
) -> Result<i64, String> {
    if !super::model::CHAIN.contains(&job) {
        return Err(format!(
            "unknown job '{job}'; known: {}",
            super::model::CHAIN.join(", ")
        ));
    }
    let run_id = repo::start_unscheduled(
        &ctx.db,
        job,
        &as_of.to_string(),
        how,
        &ctx.owner,
        &timestamp(ctx.clock.now()),
    )
    .await
    .map_err(|e| e.to_string())?;
    execute(ctx, job, run_id, as_of).await.map(|_| run_id)
}

pub struct Scheduler {
    pub ctx: JobContext,
    pub post: CronSchedule,
    pub dtr: CronSchedule,
    pub tick: Duration,
}

impl Scheduler {
    /// Claims and runs the scheduled (job, period) if it is not done yet; true when done.
    async fn run_scheduled(
        &self,
        job: &str,
        period: NaiveDate,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let period_text = period.to_string();
        if let Some(run) = repo::scheduled_run(self.ctx.db.reader(), job, &period_text).await? {
            if repo::is_done(&run) {
                return Ok(true);
            }
        }
        let stale_before = timestamp(now - chrono::Duration::from_std(STALE_AFTER)?);
        let Some(run_id) = repo::claim_scheduled(
            &self.ctx.db,
            job,
            &period_text,
            &self.ctx.owner,
            &timestamp(now),
            &stale_before,
        )
        .await?
        else {
            return Ok(false);
        };
        tracing::info!(job, period = %period_text, run_id, "running scheduled job");
        Ok(execute(&self.ctx, job, run_id, period).await.is_ok())
    }

    /// One pass: the chain of the latest period whose posting time has come. A worker that
    /// was down over a Sunday catches up here; posting covers everything due by then.
    pub async fn tick_once(&self) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        let tz = self.ctx.timezone;
        let Some(post_fire) = self.post.latest_at_or_before(now, tz) else {
            return Ok(());
        };
        let period = period_of(post_fire, tz);
        if !self
            .run_scheduled(POST_DUE_INSTALLMENTS, period, now)
            .await?
        {
            return Ok(());
        }
        // DTRs of the same period, once their own time has come — never before posting is done.
        let dtr_due = self
            .dtr
            .latest_at_or_before(now, tz)
            .is_some_and(|fire| fire >= post_fire && period_of(fire, tz) == period);
        if dtr_due {
            self.run_scheduled(GENERATE_DTRS, period, now).await?;
        }
        Ok(())
    }

    /// Ticks until `shutdown` resolves.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()>) {
        tracing::info!(post = %self.post.expression, dtr = %self.dtr.expression, timezone = %self.ctx.timezone, owner = %self.ctx.owner, "scheduler started");
        tokio::pin!(shutdown);
        loop {
            if let Err(error) = self.tick_once().await {
                tracing::error!(error = ?error, "scheduler tick failed");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.tick) => {}
            }
        }
        tracing::info!("scheduler stopped");
    }
}

pub use trigger::{CLI, MANUAL};
