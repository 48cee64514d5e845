//! Bearer-token check in front of every protected route.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use super::model::CurrentUser;
use super::repo;
use crate::error::AppError;
use crate::state::AppState;

pub async fn require_auth(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::Unauthorized("this endpoint needs an Authorization: Bearer <token> header; get a token from POST /auth/login".into()))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| {
            AppError::Unauthorized("the Authorization header must be 'Bearer <token>'".into())
        })?;
    let (user_id, generation) = state
        .tokens
        .verify(token.trim(), state.clock.now().timestamp())?;
    let stored = repo::find_by_id(state.db.reader(), user_id)
        .await?
        .filter(|s| s.user.is_active)
        .ok_or_else(|| {
            AppError::Unauthorized("the token's user no longer exists or is disabled".into())
        })?;
    if stored.token_generation != generation {
        return Err(AppError::Unauthorized(
            "the token was revoked (password reset, role change or the user was disabled); log in again"
                .into(),
        ));
    }
    request.extensions_mut().insert(CurrentUser {
        id: stored.user.id,
        username: stored.user.username,
        roles: stored.user.roles,
    });
    Ok(next.run(request).await)
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| AppError::Unauthorized("authentication required".into()))
    }
}
