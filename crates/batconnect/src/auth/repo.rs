//! SQL for users and persisted settings.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{roles_from_text, User};
use crate::db::Tx;

pub struct StoredUser {
    pub user: User,
    pub password_hash: String,
    /// Tokens issued under another generation are revoked.
    pub token_generation: i64,
}

fn user_from_row(row: &AnyRow) -> Result<StoredUser, sqlx::Error> {
    Ok(StoredUser {
        user: User {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            roles: roles_from_text(&row.try_get::<String, _>("roles")?),
            is_active: row.try_get::<i64, _>("is_active")? != 0,
            created_on: row.try_get("created_on")?,
        },
        password_hash: row.try_get("password_hash")?,
        token_generation: row.try_get("token_generation")?,
    })
}

const USER_COLUMNS: &str =
    "id, username, password_hash, roles, is_active, created_on, token_generation";

pub async fn find_by_username(
    pool: &AnyPool,
    username: &str,
) -> Result<Option<StoredUser>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?
    .map(|r| user_from_row(&r))
    .transpose()
}

pub async fn find_by_id(pool: &AnyPool, id: i64) -> Result<Option<StoredUser>, sqlx::Error> {
    sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
}

/// [`find_by_id`] inside a transaction (sees its own writes).
pub async fn find_by_id_in(tx: &mut Tx, id: i64) -> Result<Option<StoredUser>, sqlx::Error> {
    sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
}

pub async fn list(pool: &AnyPool) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY username"
    ))
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| user_from_row(r).map(|s| s.user))
    .collect()
}

pub async fn count(tx: &mut Tx) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut **tx)
        .await
}

pub async fn insert(
    tx: &mut Tx,
    username: &str,
    password_hash: &str,
    roles: &str,
    actor: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, roles, is_active, created_on, created_by) \
         VALUES ($1, $2, $3, 1, $4, $5) RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(roles)
    .bind(now)
    .bind(actor)
    .fetch_one(&mut **tx)
    .await
}

pub async fn set_roles(tx: &mut Tx, id: i64, roles: &str, now: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET roles = $1, updated_on = $2, token_generation = token_generation + 1 WHERE id = $3",
    )
        .bind(roles)
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_password(
    tx: &mut Tx,
    id: i64,
    hash: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, updated_on = $2, token_generation = token_generation + 1 WHERE id = $3",
    )
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Enables or disables a user; disabling revokes their tokens. False for an unknown user.
pub async fn set_active(
    tx: &mut Tx,
    id: i64,
    active: bool,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET is_active = $1, updated_on = $2, \
         token_generation = token_generation + (CASE WHEN $1 = 0 THEN 1 ELSE 0 END) WHERE id = $3",
    )
    .bind(i64::from(active))
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The active users with the admin role, locked on PostgreSQL so two requests cannot each
/// remove a different last admin.
pub async fn active_admins(tx: &mut Tx) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT id, roles FROM users WHERE is_active = 1 ORDER BY id{}",
        crate::db::lock_rows(tx)
    ))
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, roles)| roles_from_text(roles).contains(&domain::status::Role::Admin))
        .map(|(id, _)| id)
        .collect())
}

/// A console session as stored (the id is the SHA-256 of the cookie's secret).
pub struct StoredSession {
    pub token_generation: i64,
    pub csrf_token: String,
    pub expires_on: String,
}

pub async fn insert_session(
    tx: &mut Tx,
    id: &str,
    user_id: i64,
    token_generation: i64,
    csrf_token: &str,
    created_on: &str,
    expires_on: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_sessions (id, user_id, token_generation, csrf_token, created_on, expires_on)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(user_id)
    .bind(token_generation)
    .bind(csrf_token)
    .bind(created_on)
    .bind(expires_on)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A session and its user in one read (every console page asks).
pub async fn find_session(
    pool: &AnyPool,
    id: &str,
) -> Result<Option<(StoredSession, StoredUser)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT s.token_generation AS session_generation, s.csrf_token, s.expires_on, \
         u.id, u.username, u.password_hash, u.roles, u.is_active, u.created_on, u.token_generation \
         FROM console_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok((
            StoredSession {
                token_generation: row.try_get("session_generation")?,
                csrf_token: row.try_get("csrf_token")?,
                expires_on: row.try_get("expires_on")?,
            },
            user_from_row(&row)?,
        ))
    })
    .transpose()
}

/// Ends one session.
pub async fn delete_session(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM console_sessions WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Removes every session that has expired (sign-in calls it, so the table stays small).
pub async fn delete_expired_sessions(tx: &mut Tx, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM console_sessions WHERE expires_on < $1")
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
