//! `app_settings`: values an instance records once and every instance then agrees on (the
//! token secret, the rent go-live week, the demo seed marker).

use super::Tx;

/// Stores `value` under `key` unless one is already stored, and returns the stored value;
/// several instances starting together agree on one value.
pub async fn setting_or_insert(tx: &mut Tx, key: &str, value: &str) -> Result<String, sqlx::Error> {
    sqlx::query(
        "INSERT INTO app_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(value)
    .execute(&mut **tx)
    .await?;
    sqlx::query_scalar("SELECT value FROM app_settings WHERE key = $1")
        .bind(key)
        .fetch_one(&mut **tx)
        .await
}

/// Stores `value` under `key` if nothing is stored yet; true when this call stored it.
pub async fn insert_setting_if_absent(
    tx: &mut Tx,
    key: &str,
    value: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO app_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(value)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
