//! Job names and run records.

use domain::status::{JobStatus, JobTrigger};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const POST_DUE_INSTALLMENTS: &str = crate::repairs::jobs::JOB_NAME;
pub const POST_WEEKLY_RENT: &str = crate::fleet::rent::JOB_NAME;
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
