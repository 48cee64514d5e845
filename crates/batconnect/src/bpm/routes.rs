//! HTTP for the case engine (tag "BPM").

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::{
    CaseCreated, CaseRecord, CaseSummary, CaseView, MoveRequest, NewCaseRequest, StepResult,
    StepSubmission,
};
use super::{repo, service};
use crate::api::extract::{ApiJson, JsonBody, RawQuery};
use crate::audit::{self, AuditRecord};
use crate::auth::model::{CurrentUser, FINANCE_OR_OPERATIONS, READERS};
use crate::db::{Page, PageRequest};
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_case))
        .routes(routes!(get_case, submit_step))
        .routes(routes!(get_step))
        .routes(routes!(move_case))
        .routes(routes!(case_history))
        .routes(routes!(cases_by_type))
}

/// Open a case of a type, by prefix (e.g. `RPRINV`).
#[utoipa::path(post, path = "/case", tag = "BPM", request_body = NewCaseRequest,
    responses((status = 201, body = CaseCreated), (status = 422, body = Problem)))]
async fn create_case(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<NewCaseRequest>,
) -> Result<(StatusCode, Json<CaseCreated>), AppError> {
    let mut tx = state.db.begin().await?;
    let case_no = service::create_case(
        &mut tx,
        &state.flows,
        body.case_type.trim(),
        &user,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CaseCreated {
            message: "Case created".into(),
            case_no,
        }),
    ))
}

/// The case and its steps with each step's data; query parameters go to the fetch handlers
/// (e.g. `?tlc_license_no=5123456`).
#[utoipa::path(get, path = "/case/{case_no}", tag = "BPM",
    params(("case_no" = String, Path), ("tlc_license_no" = Option<String>, Query, description = "driver lookup for REPAIR_ENTER_DETAILS")),
    responses((status = 200, body = CaseView), (status = 404, body = Problem)))]
async fn get_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(case_no): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<CaseView>, AppError> {
    user.require(READERS)?;
    refuse_empty(&query)?;
    Ok(Json(
        service::view_case(
            &service::Cases::from_state(&state),
            &case_no,
            &query,
            state.clock.now(),
        )
        .await?,
    ))
}

/// Submit a step: `{"step_id": "...", "data": {...}}`. The data is validated against the
/// step's linked JSON Schema (422 lists every violation with its JSON pointer).
#[utoipa::path(post, path = "/case/{case_no}", tag = "BPM", request_body = StepSubmission, params(("case_no" = String, Path)),
    responses((status = 200, body = StepResult), (status = 400, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn submit_step(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(case_no): Path<String>,
    raw_body: JsonBody,
) -> Result<Json<StepResult>, AppError> {
    // A coarse gate first (a role that may write at all), so a viewer learns 403 before
    // anything about the body; the step's own roles are checked by the service, in SPEC
    // §4's order (404, then 400, then 403).
    user.require(FINANCE_OR_OPERATIONS)?;
    let body: StepSubmission = raw_body.parse()?;
    let data = service::submit_step(
        &service::Cases::from_state(&state),
        &case_no,
        body.step_id.trim(),
        body.data,
        &user,
        state.clock.now(),
    )
    .await?;
    Ok(Json(StepResult {
        message: "OK".into(),
        data,
    }))
}

/// One step's fetch output.
#[utoipa::path(get, path = "/case/{case_no}/{step_id}", tag = "BPM", params(("case_no" = String, Path), ("step_id" = String, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn get_step(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((case_no, step_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, AppError> {
    user.require(READERS)?;
    refuse_empty(&query)?;
    Ok(Json(
        service::fetch_step(
            &service::Cases::from_state(&state),
            &case_no,
            &step_id,
            &query,
            state.clock.now(),
        )
        .await?,
    ))
}

/// Advance a case to its next step (`next`) or close it (`close`).
#[utoipa::path(post, path = "/case/{case_no}/move", tag = "BPM", request_body = MoveRequest, params(("case_no" = String, Path)),
    responses((status = 200, body = CaseRecord), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn move_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(case_no): Path<String>,
    ApiJson(body): ApiJson<MoveRequest>,
) -> Result<Json<CaseRecord>, AppError> {
    Ok(Json(
        service::move_case(
            &service::Cases::from_state(&state),
            &case_no,
            body.action.trim(),
            body.reason.as_deref(),
            &user,
            state.clock.now(),
        )
        .await?,
    ))
}

/// The audit trail of a case, oldest first.
#[utoipa::path(get, path = "/case-history/{case_no}", tag = "BPM", params(("case_no" = String, Path)),
    responses((status = 200, body = Vec<AuditRecord>), (status = 404, body = Problem)))]
async fn case_history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(case_no): Path<String>,
) -> Result<Json<Vec<AuditRecord>>, AppError> {
    user.require(READERS)?;
    if repo::find_case(state.db.reader(), &case_no)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound(format!("no case {case_no}")));
    }
    Ok(Json(audit::for_case(state.db.reader(), &case_no).await?))
}

/// Cases of one type, newest first.
#[utoipa::path(get, path = "/cases/by-type/{prefix}", tag = "BPM",
    params(("prefix" = String, Path), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<CaseSummary>), (status = 404, body = Problem)))]
async fn cases_by_type(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(prefix): Path<String>,
    query: RawQuery,
) -> Result<Json<Page<CaseSummary>>, AppError> {
    user.require(READERS)?;
    query.reject_unknown(&["page", "per_page"])?;
    if state.flows.flow(&prefix).is_none() {
        return Err(AppError::NotFound(format!(
            "no case type with prefix {prefix}"
        )));
    }
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let (items, total) = repo::cases_by_type(state.db.reader(), &prefix, page).await?;
    Ok(Json(Page::new(items, total, page)))
}

/// A lookup parameter given empty (`?tlc_license_no=`) is refused, not taken as "none".
fn refuse_empty(query: &HashMap<String, String>) -> Result<(), AppError> {
    let mut empty: Vec<crate::error::FieldError> = query
        .iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| {
            crate::error::FieldError::new(
                k.clone(),
                "is empty; give a value or leave the parameter out",
            )
        })
        .collect();
    empty.sort_by(|a, b| a.field.cmp(&b.field));
    if empty.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(empty))
    }
}
