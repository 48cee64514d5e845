//! Runs jobs: claims, heartbeats, records. The scheduler loop ticks and runs the Sunday
//! chain (posting the installments due and the week's rent, then the statements of the week
//! that ended) of every Sunday it has not completed yet, oldest first, each (job, Sunday)
//! exactly once across every process sharing the database.
//!
//! - Catch-up: from the week after the last chain the scheduler completed up to the latest
//!   Sunday whose posting time has come, in date order; on a fresh database, the latest
//!   Sunday only. At most `max_catch_up_weeks` Sundays are caught up automatically; older
//!   ones are recorded as `missed` (logged at error level) with the command that fills them.
//! - A run whose worker stops heart-beating for [`STALE_AFTER`] is taken over by the next
//!   tick (one more attempt, the new owner); the old worker's heartbeat then finds it no
//!   longer owns the run and stops it at its next batch. Only the owner records an outcome.
//! - A scheduled run that fails is tried again at the next ticks, [`repo::MAX_ATTEMPTS`] times
//!   in all; then it stays `failed` with its error until an operator fills it
//!   (`batconnect run-chain`), and the chain of later Sundays waits for it.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::calendar::SundayDate;
use domain::status::{JobStatus, JobTrigger};

use super::model::{CHAIN, GENERATE_DTRS};
use super::repo::{self, Claim};
use crate::clock::Clock;
use crate::cron::{period_of, CronSchedule};
use crate::db::{timestamp, Db};
use crate::stop::StopFlag;

/// A run whose worker has not heart-beaten for this long is presumed dead; the next tick
/// takes it over (scheduled) or fails it as abandoned (API and CLI runs).
pub const STALE_AFTER: Duration = Duration::from_secs(60);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct JobContext {
    pub db: Db,
    pub clock: Clock,
    pub timezone: Tz,
    pub posting: PostingSettings,
    /// The chain's steps, registered by their features.
    pub steps: std::sync::Arc<super::registry::Steps>,
    /// The go-live week of rent (`BAT_RENT_START_WEEK`); unset: the first week rent runs.
    pub rent_start_week: Option<SundayDate>,
    /// Identifies this process in `job_runs.owner`.
    pub owner: String,
}

/// How the posting step works (`BAT_POSTING_*`), with its test hooks.
#[derive(Debug, Clone)]
pub struct PostingSettings {
    pub batch_size: usize,
    /// Connections posting side by side (PostgreSQL only; SQLite has one writer).
    pub workers: usize,
    /// Test hook: fail (roll back) the batch after this many committed batches.
    pub fail_after_batches: Option<usize>,
    /// Test hook: pause after each committed batch (to kill a worker mid-run).
    pub pause_between_batches: Option<Duration>,
}

pub fn owner_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &id[..8])
}

fn stale_before(now: DateTime<Utc>) -> String {
    let stale = chrono::Duration::from_std(STALE_AFTER).unwrap_or(chrono::Duration::seconds(60));
    timestamp(now - stale)
}

/// Runs `job` for `period` under the run `run_id` this process owns, heart-beating while it
/// works, then records the outcome (unless the run was taken over meanwhile).
pub async fn execute(
    ctx: &JobContext,
    job: &str,
    run_id: i64,
    as_of: NaiveDate,
) -> Result<serde_json::Value, String> {
    let stop = StopFlag::default();
    let beat = {
        let (db, clock, owner, stop) = (
            ctx.db.clone(),
            ctx.clock.clone(),
            ctx.owner.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT_EVERY).await;
                match repo::heartbeat(&db, run_id, &owner, &timestamp(clock.now())).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(
                            run_id,
                            "this run was taken over by another worker; stopping it"
                        );
                        stop.raise();
                        return;
                    }
                    Err(error) => tracing::warn!(%error, run_id, "job heartbeat failed"),
                }
            }
        })
    };
    let actor = format!("job:{job}");
    // Every step is safe to run again (exactly-once comes from the database), so a step
    // undone by a concurrent action (a deadlock, a serialization failure, a balance paid
    // at the same instant) is run again, a bounded number of times, before it fails.
    let mut attempt = 1;
    let result = loop {
        let outcome = run_step(ctx, job, as_of, &actor, &stop).await;
        match outcome {
            Err(crate::error::AppError::Conflict(reason))
                if attempt < STEP_ATTEMPTS && !stop.is_raised() =>
            {
                tracing::warn!(job, run_id, attempt, %reason, "the step met a concurrent change; running it again");
                attempt += 1;
            }
            other => break other.map_err(|e| format!("{e:?}")),
        }
    };
    beat.abort();
    let now = timestamp(ctx.clock.now());
    let recorded = match &result {
        Ok(counts) => {
            repo::finish(
                &ctx.db,
                run_id,
                &ctx.owner,
                JobStatus::Succeeded,
                Some(counts),
                None,
                &now,
            )
            .await
        }
        Err(error) => {
            tracing::error!(job, run_id, %error, "job failed");
            repo::finish(
                &ctx.db,
                run_id,
                &ctx.owner,
                JobStatus::Failed,
                None,
                Some(error),
                &now,
            )
            .await
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            run_id,
            job,
            "the run was taken over meanwhile; its outcome is the new owner's to record"
        ),
        Err(e) => tracing::error!(error = %e, run_id, "could not record the job's outcome"),
    }
    result
}

/// How many times a chain step undone by a concurrent action is run before its run fails.
const STEP_ATTEMPTS: u32 = 3;

/// One run of a chain step.
async fn run_step(
    ctx: &JobContext,
    job: &str,
    as_of: NaiveDate,
    actor: &str,
    stop: &StopFlag,
) -> Result<serde_json::Value, crate::error::AppError> {
    let step = ctx
        .steps
        .find(job)
        .ok_or_else(|| crate::error::AppError::NotFound(format!("unknown job {job}")))?;
    (step.run)(super::registry::StepRun {
        ctx,
        as_of,
        actor,
        stop,
    })
    .await
}

/// The answer to a person whose run failed (the run is recorded as failed either way): a
/// run that other actions kept undoing is a 409 that says to run it again, anything else
/// an internal error.
pub fn failure(error: String) -> crate::error::AppError {
    if error.starts_with("Conflict(\"stopped:") {
        crate::error::AppError::Conflict(
            "the run was taken over by another worker, which goes on from where it stopped; see the job runs".into(),
        )
    } else if error.starts_with("Conflict(") {
        crate::error::AppError::Conflict(format!(
            "the run was undone {STEP_ATTEMPTS} times by other actions changing the same records at the same moment; \
             it is recorded as failed: run it again"
        ))
    } else {
        crate::error::AppError::Internal(anyhow::anyhow!(error))
    }
}

/// Who asked for a run, for the record.
pub struct Requester<'a> {
    /// `Api` or `Cli` (a scheduled run is claimed, not requested).
    pub trigger: JobTrigger,
    pub username: &'a str,
}

/// Runs a job now for `as_of` (API or CLI), recorded in `job_runs` with who asked and in the
/// audit trail; not subject to the schedule's claim. Returns the run's id.
pub async fn run_now(
    ctx: &JobContext,
    job: &str,
    as_of: NaiveDate,
    requester: Requester<'_>,
) -> Result<i64, String> {
    if !CHAIN.contains(&job) {
        return Err(format!("unknown job '{job}'; known: {}", CHAIN.join(", ")));
    }
    let now = ctx.clock.now();
    super::sweep_abandoned(&ctx.db, now)
        .await
        .map_err(|e| e.to_string())?;
    let run_id = repo::start_unscheduled(
        &ctx.db,
        job,
        &as_of.to_string(),
        requester.trigger,
        requester.username,
        &ctx.owner,
        &timestamp(now),
    )
    .await
    .map_err(|e| e.to_string())?;
    audit_request(ctx, job, run_id, as_of, requester, now)
        .await
        .map_err(|e| e.to_string())?;
    execute(ctx, job, run_id, as_of).await.map(|_| run_id)
}

async fn audit_request(
    ctx: &JobContext,
    job: &str,
    run_id: i64,
    as_of: NaiveDate,
    requester: Requester<'_>,
    now: DateTime<Utc>,
) -> Result<(), crate::error::AppError> {
    let mut tx = ctx.db.begin().await?;
    let run = run_id.to_string();
    let entry = crate::audit::Entry::new(requester.username, "job_run_requested", "job_run", &run)
        .details(serde_json::json!({"job": job, "as_of": as_of, "trigger": requester.trigger}));
    crate::audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs the whole chain of every Sunday from `first` to `last` in order, for an operator:
/// each (job, Sunday) not done yet is claimed like the scheduler would (also one that used
/// up its attempts or was left `missed`) and run. Stops at the first that fails.
/// Returns the runs it made (job, Sunday, run id).
pub async fn run_chain(
    ctx: &JobContext,
    first: SundayDate,
    last: SundayDate,
    username: &str,
) -> Result<Vec<(String, NaiveDate, i64)>, String> {
    super::sweep_abandoned(&ctx.db, ctx.clock.now())
        .await
        .map_err(|e| e.to_string())?;
    let mut made = Vec::new();
    let mut period = first;
    while period <= last {
        for job in CHAIN {
            let now = ctx.clock.now();
            let claim = repo::claim_for_operator(
                &ctx.db,
                job,
                &period.to_string(),
                &ctx.owner,
                username,
                &timestamp(now),
                &stale_before(now),
            )
            .await
            .map_err(|e| e.to_string())?;
            let Some(Claim { run_id, .. }) = claim else {
                let run = repo::scheduled_run(ctx.db.reader(), job, &period.to_string())
                    .await
                    .map_err(|e| e.to_string())?;
                match run {
                    Some(run) if repo::is_done(&run) => continue,
                    _ => {
                        return Err(format!(
                            "{job} for {period} is running in another process; try again when it has finished"
                        ))
                    }
                }
            };
            audit_request(
                ctx,
                job,
                run_id,
                period.date(),
                Requester {
                    trigger: JobTrigger::Cli,
                    username,
                },
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
            execute(ctx, job, run_id, period.date()).await?;
            made.push((job.to_string(), period.date(), run_id));
        }
        period = period.next();
    }
    Ok(made)
}

pub struct Scheduler {
    pub ctx: JobContext,
    pub post: CronSchedule,
    pub dtr: CronSchedule,
    pub tick: Duration,
    /// Missed Sundays caught up automatically; older ones are recorded as `missed`.
    pub max_catch_up_weeks: u32,
}

/// What became of a scheduled (job, Sunday) this tick.
enum Step {
    Done,
    /// Not done and not runnable now (another worker has it, its attempts are used up, or
    /// it failed this time): the chain of later Sundays waits.
    Blocked,
}

impl Scheduler {
    /// Claims and runs the scheduled (job, period) unless it is done already.
    async fn run_scheduled(
        &self,
        job: &str,
        period: NaiveDate,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Step> {
        let period_text = period.to_string();
        if let Some(run) = repo::scheduled_run(self.ctx.db.reader(), job, &period_text).await? {
            if repo::is_done(&run) {
                return Ok(Step::Done);
            }
        }
        let Some(claim) = repo::claim_scheduled(
            &self.ctx.db,
            job,
            &period_text,
            &self.ctx.owner,
            &timestamp(now),
            &stale_before(now),
        )
        .await?
        else {
            return Ok(Step::Blocked);
        };
        match &claim.taken_from {
            Some(previous) if previous != &self.ctx.owner => tracing::warn!(
                job, period = %period_text, run_id = claim.run_id, attempt = claim.attempts, previous_owner = %previous,
                "taking over a scheduled run"
            ),
            _ => {
                tracing::info!(job, period = %period_text, run_id = claim.run_id, attempt = claim.attempts, "running scheduled job")
            }
        }
        match execute(&self.ctx, job, claim.run_id, period).await {
            Ok(_) => Ok(Step::Done),
            Err(error) => {
                if claim.attempts >= repo::MAX_ATTEMPTS {
                    tracing::error!(
                        job, period = %period_text, run_id = claim.run_id, attempts = claim.attempts, %error,
                        "scheduled run failed on its last attempt; the Sunday chain waits until an operator fills it with `batconnect run-chain --from {period_text}`"
                    );
                }
                Ok(Step::Blocked)
            }
        }
    }

    /// One pass: fail abandoned API/CLI runs, then run the chain of every Sunday not yet
    /// completed, oldest first, each step once its own time has come.
    pub async fn tick_once(&self) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        let tz = self.ctx.timezone;
        super::sweep_abandoned(&self.ctx.db, now).await?;
        let Some(latest_fire) = self.post.latest_at_or_before(now, tz) else {
            return Ok(());
        };
        let latest = SundayDate::containing(period_of(latest_fire, tz));
        let first = match repo::last_completed(self.ctx.db.reader(), GENERATE_DTRS).await? {
            // A fresh database starts with the current week.
            None => latest,
            Some(done) => match domain::calendar::parse_date(&done) {
                Ok(done) => SundayDate::containing(done).next(),
                Err(_) => latest,
            },
        };
        if first > latest {
            return Ok(());
        }
        let first = self.record_gap(first, latest, now).await?;
        let dtr_fire = self.dtr.latest_at_or_before(now, tz);
        let mut period = first;
        while period <= latest {
            for job in CHAIN {
                if job == GENERATE_DTRS {
                    // The statements of the week that ended, once their time has come after
                    // this Sunday's posting — never before it.
                    let post_fire = if period == latest {
                        Some(latest_fire)
                    } else {
                        self.post.latest_at_or_before(end_of_week(period, tz), tz)
                    };
                    let dtr_due =
                        matches!((dtr_fire, post_fire), (Some(dtr), Some(post)) if dtr >= post);
                    if !dtr_due {
                        return Ok(());
                    }
                }
                if let Step::Blocked = self.run_scheduled(job, period.date(), now).await? {
                    return Ok(());
                }
            }
            period = period.next();
        }
        Ok(())
    }

    /// Records the Sundays from `first` that lie beyond the catch-up bound as `missed` and
    /// returns the first Sunday to catch up.
    async fn record_gap(
        &self,
        first: SundayDate,
        latest: SundayDate,
        now: DateTime<Utc>,
    ) -> anyhow::Result<SundayDate> {
        let behind = first.weeks_until(latest) + 1;
        let bound = i64::from(self.max_catch_up_weeks.max(1));
        if behind <= bound {
            return Ok(first);
        }
        let resume = latest.previous_weeks(bound as u32 - 1);
        let last_missed = resume.previous();
        let command = format!("batconnect run-chain --from {first} --to {last_missed}");
        let note = format!(
            "not run: the scheduler was {behind} weeks behind and catches up {bound} on its own; fill this week with `{command}`"
        );
        let mut period = first;
        let mut newly = 0;
        while period <= last_missed {
            for job in CHAIN {
                if repo::record_missed(
                    &self.ctx.db,
                    job,
                    &period.to_string(),
                    &note,
                    &self.ctx.owner,
                    &timestamp(now),
                )
                .await?
                {
                    newly += 1;
                }
            }
            period = period.next();
        }
        if newly > 0 {
            tracing::error!(
                from = %first, to = %last_missed, behind, bound,
                "Sunday chains older than the catch-up bound were not run; fill them with `{command}`"
            );
        }
        Ok(resume)
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

/// The last instant of the payment week `period` (Saturday 23:59:59 local time).
fn end_of_week(period: SundayDate, tz: Tz) -> DateTime<Utc> {
    use chrono::TimeZone;
    let saturday = period
        .week_end()
        .and_hms_opt(23, 59, 59)
        .unwrap_or_default();
    tz.from_local_datetime(&saturday)
        .latest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&saturday))
}

/// How the scheduler and API-triggered runs are made from the shared state.
impl crate::state::AppState {
    /// What jobs need to run from this state (API-triggered runs and the in-process scheduler).
    pub fn job_context(&self) -> JobContext {
        JobContext {
            db: self.db.clone(),
            clock: self.clock.clone(),
            timezone: self.config.timezone,
            posting: PostingSettings {
                batch_size: self.config.posting_batch_size,
                workers: self.config.posting_workers,
                pause_between_batches: self
                    .config
                    .posting_pause_ms
                    .map(std::time::Duration::from_millis),
                fail_after_batches: None,
            },
            steps: self.steps.clone(),
            rent_start_week: self.config.rent_start_week,
            owner: owner_name(),
        }
    }

    pub fn scheduler(&self) -> Scheduler {
        Scheduler {
            ctx: self.job_context(),
            post: self.config.post_schedule.clone(),
            dtr: self.config.dtr_schedule.clone(),
            tick: std::time::Duration::from_secs(self.config.scheduler_tick_seconds),
            max_catch_up_weeks: self.config.catch_up_weeks,
        }
    }
}
