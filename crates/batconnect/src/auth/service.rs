//! Business actions on users: bootstrap, login, user management.

use domain::status::Role;
use rand::RngCore;

use super::guard::LoginGuard;
use super::model::{parse_roles, roles_to_text, CurrentUser, LoginResponse, NewUserRequest, User};
use super::password::{self, HashCost};
use super::{repo, TokenKeys};
use crate::audit;
use crate::db::{timestamp, Db, Tx};
use crate::error::AppError;

/// The token secret: from the setting, otherwise generated once and kept in the database so
/// tokens survive restarts and are valid on every instance.
pub async fn load_token_keys(
    db: &Db,
    configured: Option<&str>,
    ttl: i64,
) -> anyhow::Result<TokenKeys> {
    if let Some(secret) = configured {
        return Ok(TokenKeys::new(secret.as_bytes(), ttl));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let generated: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut tx = db.begin().await?;
    let secret =
        crate::db::settings::setting_or_insert(&mut tx, "token_secret", &generated).await?;
    tx.commit().await?;
    Ok(TokenKeys::new(secret.as_bytes(), ttl))
}

/// What bootstrap did about the first administrator.
pub enum AdminBootstrap {
    AlreadyHadUsers,
    Created { generated_password: Option<String> },
}

/// On a database without users, creates `admin` with the configured password or a random
/// one (returned so the caller prints it once).
pub async fn ensure_admin(
    tx: &mut Tx,
    configured_password: Option<&str>,
    cost: HashCost,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<AdminBootstrap> {
    if repo::count(tx).await? > 0 {
        return Ok(AdminBootstrap::AlreadyHadUsers);
    }
    let (password, generated) = match configured_password {
        Some(p) => (p.to_string(), None),
        None => {
            let p = random_password();
            (p.clone(), Some(p))
        }
    };
    let hash = password::hash(password, cost).await?;
    repo::insert(
        tx,
        "admin",
        &hash,
        Role::Admin.as_str(),
        "system",
        &timestamp(now),
    )
    .await?;
    Ok(AdminBootstrap::Created {
        generated_password: generated,
    })
}

fn random_password() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20)
}

/// Who is signing in, from where, and with what.
pub struct LoginAttempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// The client's address, for the throttle (unknown addresses share one count).
    pub address: Option<std::net::IpAddr>,
}

/// Checks a username and password and returns the user and the token generation to issue
/// under. Throttled per (username, address) and per address (429); an unknown username runs
/// a dummy hash, so it answers in the same time as a wrong password.
pub async fn authenticate(
    db: &Db,
    guard: &LoginGuard,
    attempt: &LoginAttempt<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<repo::StoredUser, AppError> {
    let username = attempt.username.trim();
    // Counted before the password is checked (see `LoginGuard::admit`).
    guard.admit(username, attempt.address, now)?;
    let refused = || AppError::Unauthorized("unknown username or wrong password".into());
    let refund = |error: AppError| {
        guard.refund(username, attempt.address);
        error
    };
    let stored = repo::find_by_username(db.reader(), username)
        .await
        .map_err(|e| refund(e.into()))?;
    let matched = guard
        .verify(
            attempt.password,
            stored.as_ref().map(|s| s.password_hash.clone()),
        )
        .await
        .map_err(|e| refund(e.into()))?;
    match stored {
        Some(user) if matched && user.user.is_active => {
            guard.succeeded(username, attempt.address);
            Ok(user)
        }
        _ => Err(refused()),
    }
}

/// [`authenticate`], then a bearer token.
pub async fn login(
    db: &Db,
    keys: &TokenKeys,
    guard: &LoginGuard,
    attempt: &LoginAttempt<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<LoginResponse, AppError> {
    let stored = authenticate(db, guard, attempt, now).await?;
    Ok(LoginResponse {
        access_token: keys.issue(stored.user.id, stored.token_generation, now.timestamp()),
        token_type: "bearer",
        expires_in: keys.ttl_seconds,
    })
}

fn check_username(username: &str) -> Result<(), AppError> {
    let ok = (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::field(
            "username",
            "must be 3–64 characters: letters, digits, '.', '_', '-', '@'",
        ))
    }
}

pub async fn create_user(
    tx: &mut Tx,
    request: &NewUserRequest,
    cost: HashCost,
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<User, AppError> {
    let username = request.username.trim();
    check_username(username)?;
    password::check_policy(&request.password).map_err(|m| AppError::field("password", m))?;
    let roles = parse_roles(&request.roles)?;
    let hash = password::hash(request.password.clone(), cost).await?;
    let now_text = timestamp(now);
    let id = repo::insert(
        tx,
        username,
        &hash,
        &roles_to_text(&roles),
        &actor.username,
        &now_text,
    )
    .await?;
    audit::record(
        tx,
        audit::Entry::new(&actor.username, "user_created", "user", &id.to_string()),
        now,
    )
    .await?;
    Ok(User {
        id,
        username: username.to_string(),
        roles,
        is_active: true,
        created_on: now_text,
    })
}

pub async fn set_roles(
    tx: &mut Tx,
    id: i64,
    words: &[String],
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let roles = parse_roles(words)?;
    if !roles.contains(&Role::Admin) {
        keep_an_admin(tx, id, "remove the admin role of").await?;
    }
    if !repo::set_roles(tx, id, &roles_to_text(&roles), &timestamp(now)).await? {
        return Err(AppError::NotFound(format!("no user with id {id}")));
    }
    let id_text = id.to_string();
    let entry = audit::Entry::new(&actor.username, "user_roles_set", "user", &id_text)
        .details(serde_json::json!({ "roles": roles_to_text(&roles) }));
    audit::record(tx, entry, now).await?;
    Ok(())
}

pub async fn reset_password(
    tx: &mut Tx,
    id: i64,
    new_password: &str,
    cost: HashCost,
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    password::check_policy(new_password).map_err(|m| AppError::field("password", m))?;
    let hash = password::hash(new_password.to_string(), cost).await?;
    if !repo::set_password(tx, id, &hash, &timestamp(now)).await? {
        return Err(AppError::NotFound(format!("no user with id {id}")));
    }
    audit::record(
        tx,
        audit::Entry::new(
            &actor.username,
            "user_password_reset",
            "user",
            &id.to_string(),
        ),
        now,
    )
    .await?;
    Ok(())
}

/// Refuses (409) to take the last active admin away: someone must be able to manage users.
async fn keep_an_admin(tx: &mut Tx, id: i64, what: &str) -> Result<(), AppError> {
    let admins = repo::active_admins(tx).await?;
    if admins == [id] {
        let name = repo::find_by_id_in(tx, id)
            .await?
            .map(|u| u.user.username)
            .unwrap_or_else(|| id.to_string());
        return Err(AppError::Conflict(format!(
            "cannot {what} {name}: they are the last active admin; give another user the admin role first"
        )));
    }
    Ok(())
}

/// Disables (their tokens and sessions stop working at once) or enables a user (admin).
/// The last active admin cannot be disabled.
pub async fn set_active(
    tx: &mut Tx,
    id: i64,
    active: bool,
    actor: &CurrentUser,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<User, AppError> {
    if !active {
        keep_an_admin(tx, id, "disable").await?;
    }
    if !repo::set_active(tx, id, active, &timestamp(now)).await? {
        return Err(AppError::NotFound(format!("no user with id {id}")));
    }
    let action = if active {
        "user_enabled"
    } else {
        "user_disabled"
    };
    audit::record(
        tx,
        audit::Entry::new(&actor.username, action, "user", &id.to_string()),
        now,
    )
    .await?;
    let stored = repo::find_by_id_in(tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no user with id {id}")))?;
    Ok(stored.user)
}
