//! HTTP for DTRs (tag "DTR").

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::calendar::SundayDate;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::{Dtr, DtrSummary, GenerationReport};
use super::query::dtr_filter;
use super::{repo, service};
use crate::api::extract::{JsonBody, RawQuery};
use crate::auth::model::{CurrentUser, FINANCE, READERS};
use crate::db::Page;
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dtrs))
        .routes(routes!(get_dtr))
        .routes(routes!(dtr_pdf))
        .routes(routes!(finalize_dtr))
        .routes(routes!(generate_dtrs))
}

/// DTRs, newest week first; filter by week (its Sunday), driver, lease, status.
#[utoipa::path(get, path = "/dtrs", tag = "DTR",
    params(("week" = Option<String>, Query, description = "the week's Sunday, YYYY-MM-DD"), ("driver_id" = Option<String>, Query, description = "internal id, or a part of the driver id"),
           ("lease_id" = Option<String>, Query, description = "internal id, or a part of the lease id"), ("status" = Option<String>, Query, description = "Draft or Finalized, any letter case"),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<DtrSummary>), (status = 422, body = Problem)))]
async fn list_dtrs(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<DtrSummary>>, AppError> {
    user.require(READERS)?;
    let (filter, page) = dtr_filter(state.db.reader(), &query).await?;
    let (items, total) = repo::list(state.db.reader(), &filter, page).await?;
    Ok(Json(Page::new(items, total, page)))
}

async fn load(state: &AppState, id: i64) -> Result<Dtr, AppError> {
    repo::get(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no DTR {id}")))
}

/// One DTR with its full contents.
#[utoipa::path(get, path = "/dtrs/{id}", tag = "DTR", params(("id" = i64, Path)),
    responses((status = 200, body = Dtr), (status = 404, body = Problem)))]
async fn get_dtr(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Dtr>, AppError> {
    user.require(READERS)?;
    Ok(Json(load(&state, id).await?))
}

/// The DTR as a PDF.
#[utoipa::path(get, path = "/dtrs/{id}/pdf", tag = "DTR", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem)))]
async fn dtr_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    let (dtr, pdf) = super::record::pdf(&state, id).await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.pdf\"", dtr.summary.dtr_number),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// Finalize a draft DTR (finance); it is never changed afterwards. Its PDF is stored once
/// with its SHA-256, and every later download serves exactly those bytes.
#[utoipa::path(post, path = "/dtrs/{id}/finalize", tag = "DTR", params(("id" = i64, Path)),
    responses((status = 200, body = Dtr), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn finalize_dtr(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Dtr>, AppError> {
    user.require(FINANCE)?;
    Ok(Json(
        super::record::finalize(&state, id, &user.username).await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct GenerateRequest {
    /// The week's Sunday (YYYY-MM-DD).
    pub week: String,
}

/// (Re)generate the DTRs of a week now (finance): drafts are replaced, finalized ones kept.
#[utoipa::path(post, path = "/dtrs/generate", tag = "DTR", request_body = GenerateRequest,
    responses((status = 200, body = GenerationReport), (status = 422, body = Problem)))]
async fn generate_dtrs(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody,
) -> Result<Json<GenerationReport>, AppError> {
    user.require(FINANCE)?;
    let request: GenerateRequest = body.parse()?;
    let week = SundayDate::parse(request.week.trim())
        .map_err(|e| AppError::field("week", e.to_string()))?;
    Ok(Json(
        service::generate(&state.db, week, &user.username, state.clock.now()).await?,
    ))
}
