//! HTTP for login, "who am I" and user administration (tag "Auth").

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::{
    CurrentUser, LoginRequest, LoginResponse, NewUserRequest, ResetPasswordRequest,
    SetRolesRequest, User, ADMINS, READERS,
};
use super::{repo, service};
use crate::api::extract::{ApiJson, ClientAddress, JsonBody};
use crate::error::{AppError, Problem};
use crate::state::AppState;

/// Routes reachable without a token.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(set_roles))
        .routes(routes!(reset_password))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
}

/// Exchange a username and password for a bearer token. Repeated failures for a username
/// from one address, or from one address at all, are answered 429 with `Retry-After`; when
/// too many password checks are already running, 503 with `Retry-After`.
#[utoipa::path(post, path = "/auth/login", tag = "Auth", security(()), request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem),
        (status = 429, body = Problem), (status = 503, body = Problem)))]
async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let attempt = service::LoginAttempt {
        username: &body.username,
        password: &body.password,
        address,
    };
    Ok(Json(
        service::login(
            &state.db,
            &state.tokens,
            &state.login_guard,
            &attempt,
            state.clock.now(),
        )
        .await?,
    ))
}

/// The calling user and their roles.
#[utoipa::path(get, path = "/auth/me", tag = "Auth", responses((status = 200, body = User), (status = 401, body = Problem)))]
async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<User>, AppError> {
    user.require(READERS)?;
    let stored = repo::find_by_id(state.db.reader(), user.id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("the token's user no longer exists".into()))?;
    Ok(Json(stored.user))
}

/// All users (admin).
#[utoipa::path(get, path = "/auth/users", tag = "Auth", responses((status = 200, body = Vec<User>), (status = 403, body = Problem)))]
async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<User>>, AppError> {
    user.require(ADMINS)?;
    Ok(Json(repo::list(state.db.reader()).await?))
}

/// Create a user with roles (admin).
#[utoipa::path(post, path = "/auth/users", tag = "Auth", request_body = NewUserRequest,
    responses((status = 201, body = User), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    raw_body: JsonBody,
) -> Result<(StatusCode, Json<User>), AppError> {
    user.require(ADMINS)?;
    let body: NewUserRequest = raw_body.parse()?;
    let mut tx = state.db.begin().await?;
    let created =
        service::create_user(&mut tx, &body, state.hash_cost, &user, state.clock.now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Replace a user's roles (admin).
#[utoipa::path(put, path = "/auth/users/{id}/roles", tag = "Auth", request_body = SetRolesRequest,
    params(("id" = i64, Path, description = "user id")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn set_roles(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    raw_body: JsonBody,
) -> Result<StatusCode, AppError> {
    user.require(ADMINS)?;
    let body: SetRolesRequest = raw_body.parse()?;
    let mut tx = state.db.begin().await?;
    service::set_roles(&mut tx, id, &body.roles, &user, state.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a new password for a user (admin).
#[utoipa::path(post, path = "/auth/users/{id}/password", tag = "Auth", request_body = ResetPasswordRequest,
    params(("id" = i64, Path, description = "user id")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    raw_body: JsonBody,
) -> Result<StatusCode, AppError> {
    user.require(ADMINS)?;
    let body: ResetPasswordRequest = raw_body.parse()?;
    let mut tx = state.db.begin().await?;
    service::reset_password(
        &mut tx,
        id,
        &body.password,
        state.hash_cost,
        &user,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a user (admin): their tokens and console sessions stop working at once. The
/// last active admin cannot be disabled (409).
#[utoipa::path(post, path = "/auth/users/{id}/disable", tag = "Auth",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = User), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn disable_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<User>, AppError> {
    set_active(state, user, id, false).await
}

/// Enable a disabled user again (admin); they sign in anew.
#[utoipa::path(post, path = "/auth/users/{id}/enable", tag = "Auth",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
async fn enable_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<User>, AppError> {
    set_active(state, user, id, true).await
}

async fn set_active(
    state: AppState,
    user: CurrentUser,
    id: i64,
    active: bool,
) -> Result<Json<User>, AppError> {
    user.require(ADMINS)?;
    let mut tx = state.db.begin().await?;
    let changed = service::set_active(&mut tx, id, active, &user, state.clock.now()).await?;
    tx.commit().await?;
    Ok(Json(changed))
}
