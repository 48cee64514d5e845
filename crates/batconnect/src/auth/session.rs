//! Console sessions: the same users, roles, login protections and revocation as bearer
//! tokens, held server-side so signing out ends a session at once. The browser keeps only a
//! random secret (an HttpOnly cookie); the database keeps its SHA-256, never the secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::guard::LoginGuard;
use super::model::CurrentUser;
use super::repo;
use super::service::{authenticate, LoginAttempt};
use crate::db::{timestamp, Db};
use crate::error::AppError;

/// A signed-in console user and the token their forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: CurrentUser,
    pub csrf_token: String,
}

/// A new session: the secret for the cookie, and the session itself.
pub struct SignedIn {
    pub cookie_secret: String,
    pub session: Session,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn session_id(cookie_secret: &str) -> String {
    Sha256::digest(cookie_secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks the username and password exactly as `POST /auth/login` does (throttle, dummy
/// hash, disabled users refused) and opens a session lasting `ttl_seconds`.
pub async fn sign_in(
    db: &Db,
    guard: &LoginGuard,
    attempt: &LoginAttempt<'_>,
    ttl_seconds: i64,
    now: DateTime<Utc>,
) -> Result<SignedIn, AppError> {
    let stored = authenticate(db, guard, attempt, now).await?;
    let cookie_secret = random_token();
    let csrf_token = random_token();
    let mut tx = db.begin().await?;
    // Expired sessions go as new ones come, so the table never grows without bound.
    repo::delete_expired_sessions(&mut tx, &timestamp(now)).await?;
    repo::insert_session(
        &mut tx,
        &session_id(&cookie_secret),
        stored.user.id,
        stored.token_generation,
        &csrf_token,
        &timestamp(now),
        &timestamp(now + chrono::Duration::seconds(ttl_seconds)),
    )
    .await?;
    tx.commit().await?;
    Ok(SignedIn {
        cookie_secret,
        session: Session {
            user: CurrentUser {
                id: stored.user.id,
                username: stored.user.username,
                roles: stored.user.roles,
            },
            csrf_token,
        },
    })
}

/// The session a cookie names, while it is unexpired and its user active and unchanged
/// (a password reset, role change or disabling ends it); `None` otherwise.
pub async fn resume(
    db: &Db,
    cookie_secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, AppError> {
    let Some((stored, user)) = repo::find_session(db.reader(), &session_id(cookie_secret)).await?
    else {
        return Ok(None);
    };
    if stored.expires_on <= timestamp(now) {
        return Ok(None);
    }
    if !user.user.is_active || user.token_generation != stored.token_generation {
        return Ok(None);
    }
    Ok(Some(Session {
        user: CurrentUser {
            id: user.user.id,
            username: user.user.username,
            roles: user.user.roles,
        },
        csrf_token: stored.csrf_token,
    }))
}

/// Ends the session at once (its cookie is worthless from now on).
pub async fn sign_out(db: &Db, cookie_secret: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    repo::delete_session(&mut tx, &session_id(cookie_secret)).await?;
    tx.commit().await?;
    Ok(())
}
