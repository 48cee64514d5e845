//! Job names and run records.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const POST_DUE_INSTALLMENTS: &str = crate::repairs::jobs::JOB_NAME;
pub const POST_WEEKLY_RENT: &str = crate::fleet::rent::JOB_NAME;
pub const GENERATE_DTRS: &str = "dtr.generate_weekly";

/// Jobs in the order the Sunday chain runs them: what fell due (installments, the week's
/// rent) is posted before the statements of the week that ended are made.
pub const CHAIN: [&str; 3] = [POST_DUE_INSTALLMENTS, POST_WEEKLY_RENT, GENERATE_DTRS];

pub mod status {
    pub const RUNNING: &str = "running";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    /// Ran and did nothing on purpose (e.g. a step not available yet).
    pub const SKIPPED: &str = "skipped";
    /// A Sunday further back than the scheduler catches up on its own: not run; its row
    /// says which command fills it.
    pub const MISSED: &str = "missed";
}

pub mod trigger {
    pub const SCHEDULE: &str = "schedule";
    /// Asked for over the API (`POST /jobs/{job}/run`, `post-installment` with
    /// `post_all_due`); earlier versions recorded such runs as `manual`.
    pub const API: &str = "api";
    pub const CLI: &str = "cli";
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobRun {
    pub id: i64,
    pub job_name: String,
    /// The payment week (its Sunday) the run is for.
    pub period: String,
    pub trigger: String,
    /// Who asked for an API or CLI run (null for scheduled runs).
    pub requested_by: Option<String>,
    pub status: String,
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
