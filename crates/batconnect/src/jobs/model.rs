//! Job names and run records.

use chrono::NaiveDate;
use domain::calendar::parse_date;
use domain::status::{JobStatus, JobTrigger};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;

// The chain's job names; each job's step is registered by its feature (`jobs::registry`).
pub const POST_DUE_INSTALLMENTS: &str = "repairs.post_due_installments";
pub const POST_WEEKLY_RENT: &str = "leases.post_weekly_rent";
pub const GENERATE_DTRS: &str = "dtr.generate_weekly";

/// Jobs in the order the Sunday chain runs them: what fell due (installments, the week's
/// rent) is posted before the statements of the week that ended are made.
pub const CHAIN: [&str; 3] = [POST_DUE_INSTALLMENTS, POST_WEEKLY_RENT, GENERATE_DTRS];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobRun {
    pub id: i64,
    pub job_name: String,
    /// The payment week (its Sunday) the run is for.
    pub period: String,
    /// `schedule`, `api` or `cli`.
    #[schema(value_type = String)]
    pub trigger: JobTrigger,
    /// Who asked for an API or CLI run (null for scheduled runs).
    pub requested_by: Option<String>,
    /// `running`, `succeeded`, `failed`, `skipped` or `missed`.
    #[schema(value_type = String)]
    pub status: JobStatus,
    /// The process running it (host:pid:id); a scheduled run taken over from a worker
    /// that stopped heart-beating shows its new owner and one more attempt.
    pub owner: String,
    pub attempts: i64,
    pub started_on: String,
    pub heartbeat_on: String,
    pub finished_on: Option<String>,
    #[schema(value_type = Object)]
    pub counts: Option<serde_json::Value>,
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RunJobRequest {
    /// Run date (YYYY-MM-DD), today or earlier; defaults to today in the configured time
    /// zone. For `dtr.generate_weekly`, the statements of the week before it.
    pub as_of: Option<String>,
}

/// The date a manual run is for: `as_of` when given (today or earlier), else today.
pub fn run_date(as_of: Option<&str>, today: NaiveDate) -> Result<NaiveDate, AppError> {
    match as_of.map(str::trim) {
        None => Ok(today),
        Some("") => Err(AppError::field(
            "as_of",
            "must be a date in the form YYYY-MM-DD (leave it out for today)",
        )),
        Some(text) => {
            let date = parse_date(text).map_err(|e| AppError::field("as_of", e.to_string()))?;
            if date > today {
                return Err(AppError::field(
                    "as_of",
                    format!("{date} is later than today ({today}); nothing is posted or statemented ahead of its time"),
                ));
            }
            Ok(date)
        }
    }
}

/// What a job does, for people.
pub fn job_label(job: &str) -> &'static str {
    match job {
        POST_DUE_INSTALLMENTS => "Post due repair installments",
        GENERATE_DTRS => "Make the week's statements (DTRs)",
        POST_WEEKLY_RENT => "Post the week's lease rent",
        _ => "Another job",
    }
}

/// The week (its Sunday) a run of `job` as of `period` worked for: the statements are the
/// week that ended before the run; installments and rent are the run's own week.
pub fn run_week(job: &str, period: &str) -> Option<domain::calendar::SundayDate> {
    let date = domain::calendar::parse_date(period).ok()?;
    let week = domain::calendar::SundayDate::containing(date);
    Some(if job == GENERATE_DTRS {
        week.previous()
    } else {
        week
    })
}
