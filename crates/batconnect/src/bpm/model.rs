//! Case engine records and API shapes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseRecord {
    pub case_no: String,
    pub case_type: String,
    pub prefix: String,
    #[schema(value_type = String)]
    pub status: domain::status::CaseStatus,
    pub current_step: Option<String>,
    pub created_by: String,
    pub created_on: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubStep {
    pub step_id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub step_data: serde_json::Value,
    pub is_current_step: bool,
    pub has_already_been_used: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepGroup {
    pub step_name: String,
    pub sub_steps: Vec<SubStep>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub case_info: CaseRecord,
    pub steps: Vec<StepGroup>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCaseRequest {
    /// Case type prefix, e.g. `RPRINV`.
    pub case_type: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseCreated {
    pub message: String,
    pub case_no: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StepSubmission {
    pub step_id: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepResult {
    pub message: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveRequest {
    /// `next` (advance to the next step) or `close`.
    pub action: String,
    /// Why (kept in the case's history): discarding an unfinished case says so.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub case_no: String,
    #[schema(value_type = String)]
    pub status: domain::status::CaseStatus,
    pub current_step: Option<String>,
    pub created_by: String,
    pub created_on: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseEntity {
    pub entity_name: String,
    pub identifier: String,
    pub identifier_value: String,
}
