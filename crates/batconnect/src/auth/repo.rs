//! SQL for users and persisted settings.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{roles_from_text, User};
use crate::db::Tx;

pub struct StoredUser {
    pub user: User,
    pub password_hash: String,
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
    })
}

const USER_COLUMNS: &str = "id, username, password_hash, roles, is_active, created_on";

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
    let done = sqlx::query("UPDATE users SET roles = $1, updated_on = $2 WHERE id = $3")
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
    let done = sqlx::query("UPDATE users SET password_hash = $1, updated_on = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}
