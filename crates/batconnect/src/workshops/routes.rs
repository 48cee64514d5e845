//! HTTP for the workshops registry (tag "Workshops"): every role reads it; admin and
//! operations change it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::status::WorkshopKind;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::{Workshop, WorkshopDetail, WorkshopFilter, WorkshopInput, WorkshopUpdate};
use super::{repo, service};
use crate::api::extract::{JsonBody, RawQuery};
use crate::auth::model::{CurrentUser, OPERATORS, READERS};
use crate::db::{Page, PageRequest};
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workshops, create_workshop))
        .routes(routes!(get_workshop, update_workshop))
        .routes(routes!(deactivate_workshop))
        .routes(routes!(activate_workshop))
}

/// The registry's search, parsed from a query (the API's and the console's).
pub fn filter_of(query: &RawQuery) -> Result<WorkshopFilter, AppError> {
    let mut errors = Vec::new();
    let kind = query.get("kind").and_then(|k| {
        WorkshopKind::parse(k.trim())
            .ok_or_else(|| {
                errors.push(crate::error::FieldError::new(
                    "kind",
                    format!(
                        "'{k}' is not one of: {}",
                        WorkshopKind::all_words().join(", ")
                    ),
                ))
            })
            .ok()
    });
    let active = match query.get("active").map(str::trim) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            errors.push(crate::error::FieldError::new(
                "active",
                format!("'{other}' is not one of: true, false"),
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(WorkshopFilter {
        search: query.get("search").map(str::to_string),
        kind,
        active,
    })
}

/// Search the workshops registry by part of a name, kind and whether active. The default
/// workshops come first, then by name.
#[utoipa::path(get, path = "/workshops", tag = "Workshops",
    params(("search" = Option<String>, Query, description = "part of the name, any letter case"),
           ("kind" = Option<String>, Query, description = "in_house or external"),
           ("active" = Option<String>, Query, description = "true or false"),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<Workshop>), (status = 422, body = Problem)))]
async fn list_workshops(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<Workshop>>, AppError> {
    user.require(READERS)?;
    query.reject_unknown(&["search", "kind", "active", "page", "per_page"])?;
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let filter = filter_of(&query)?;
    let (items, total) = repo::list(state.db.reader(), state.db.ilike(), &filter, page).await?;
    Ok(Json(Page::new(items, total, page)))
}

/// A workshop with what has been spent there (its invoices that are not cancelled).
pub async fn detail(state: &AppState, id: i64) -> Result<WorkshopDetail, AppError> {
    let workshop = repo::by_id(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no workshop with id {id}")))?;
    let spend = crate::repairs::repo::workshop_spend(state.db.reader(), id).await?;
    Ok(WorkshopDetail { workshop, spend })
}

/// Register a workshop (admin, operations). Audited.
#[utoipa::path(post, path = "/workshops", tag = "Workshops", request_body = WorkshopInput,
    responses((status = 201, body = WorkshopDetail), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_workshop(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody,
) -> Result<(StatusCode, Json<WorkshopDetail>), AppError> {
    user.require(OPERATORS)?;
    let input: WorkshopInput = body.parse()?;
    let mut tx = state.db.begin().await?;
    let id = service::create(&mut tx, &input, &user.username, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(detail(&state, id).await?)))
}

/// One workshop, with its spend.
#[utoipa::path(get, path = "/workshops/{id}", tag = "Workshops", params(("id" = i64, Path)),
    responses((status = 200, body = WorkshopDetail), (status = 404, body = Problem)))]
async fn get_workshop(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<WorkshopDetail>, AppError> {
    user.require(READERS)?;
    Ok(Json(detail(&state, id).await?))
}

/// Change a workshop's details (admin, operations). A field left out stays; an optional
/// detail given as `""` is cleared. Audited.
#[utoipa::path(patch, path = "/workshops/{id}", tag = "Workshops", params(("id" = i64, Path)),
    request_body = WorkshopUpdate,
    responses((status = 200, body = WorkshopDetail), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_workshop(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: JsonBody,
) -> Result<Json<WorkshopDetail>, AppError> {
    user.require(OPERATORS)?;
    let update: WorkshopUpdate = body.parse()?;
    let mut tx = state.db.begin().await?;
    service::update(&mut tx, id, &update, &user.username, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Json(detail(&state, id).await?))
}

async fn set_active(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    active: bool,
) -> Result<Json<Workshop>, AppError> {
    user.require(OPERATORS)?;
    let mut tx = state.db.begin().await?;
    let workshop =
        service::set_active(&mut tx, id, active, &user.username, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Json(workshop))
}

/// Deactivate a workshop (admin, operations): it cannot be chosen for a new invoice; its
/// invoices keep it. A default workshop stays active (409). Audited.
#[utoipa::path(post, path = "/workshops/{id}/deactivate", tag = "Workshops", params(("id" = i64, Path)),
    responses((status = 200, body = Workshop), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn deactivate_workshop(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Workshop>, AppError> {
    set_active(&state, &user, id, false).await
}

/// Activate a workshop again (admin, operations). Audited.
#[utoipa::path(post, path = "/workshops/{id}/activate", tag = "Workshops", params(("id" = i64, Path)),
    responses((status = 200, body = Workshop), (status = 404, body = Problem)))]
async fn activate_workshop(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Workshop>, AppError> {
    set_active(&state, &user, id, true).await
}
