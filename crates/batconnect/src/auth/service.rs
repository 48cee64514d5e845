//! Business actions on users: bootstrap, login, user management.

use domain::status::Role;
use rand::RngCore;

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

pub async fn login(
    db: &Db,
    keys: &TokenKeys,
    username: &str,
    password: &str,
    now_unix: i64,
) -> Result<LoginResponse, AppError> {
    let refused = || AppError::Unauthorized("unknown username or wrong password".into());
    let stored = repo::find_by_username(db.reader(), username.trim())
        .await?
        .ok_or_else(refused)?;
    if !stored.user.is_active || !password::verify(password.to_string(), stored.password_hash).await
    {
        return Err(refused());
    }
    Ok(LoginResponse {
        access_token: keys.issue(stored.user.id, now_unix),
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
