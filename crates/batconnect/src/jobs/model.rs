//! Job names and run records.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const POST_DUE_INSTALLMENTS: &str = crate::repairs::jobs::JOB_NAME;
pub const GENERATE_DTRS: &str = "dtr.generate_weekly";

/// Jobs in the order the Sunday chain runs them.
pub const CHAIN: [&str; 2] = [POST_DUE_INSTALLMENTS, GENERATE_DTRS];

pub mod status {
    pub const RUNNING: &str = "running";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    /// Ran and did nothing on purpose (e.g. a step not available yet).
    pub const SKIPPED: &str = "skipped";
}

pub mod trigger {
    pub const SCHEDULE: &str = "schedule";
    pub const MANUAL: &str = "manual";
    pub const CLI: &str = "cli";
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobRun {
    pub id: i64,
    pub job_name: String,
    /// The payment week (its Sunday) the run is for.
    pub period: String,
    pub trigger: String,
    pub status: String,
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
    /// Run date (YYYY-MM-DD); defaults to today in the configured time zone.
    pub as_of: Option<String>,
}
