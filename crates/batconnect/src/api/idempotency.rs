//! `Idempotency-Key` for money-moving POSTs: a repeat with the same key and body returns
//! the first response without acting again; the same key with another body is 409. The key
//! is stored in the action's own transaction, so it exists exactly when the action does.

use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::extract::JsonBody;
use crate::db::{timestamp, Db, Tx};
use crate::error::AppError;

pub const HEADER: &str = "idempotency-key";

pub struct Idempotency {
    key: Option<String>,
    endpoint: String,
    user_id: i64,
    request_hash: String,
}

pub type Reply = (StatusCode, Json<serde_json::Value>);

impl Idempotency {
    /// `endpoint` names the action (with its path parameters), so one key can't replay
    /// another endpoint's answer.
    pub fn from_request(
        headers: &HeaderMap,
        endpoint: String,
        user_id: i64,
        body: &JsonBody,
    ) -> Result<Idempotency, AppError> {
        let key = match headers.get(HEADER) {
            None => None,
            Some(value) => {
                let text = value.to_str().map(str::trim).unwrap_or_default();
                if text.is_empty() || text.len() > 200 {
                    return Err(AppError::BadRequest(
                        "Idempotency-Key must be 1 to 200 visible characters".into(),
                    ));
                }
                Some(text.to_string())
            }
        };
        let request_hash = Sha256::digest(body.bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Idempotency {
            key,
            endpoint,
            user_id,
            request_hash,
        })
    }

    /// A key for a console form (`web::once`): the form's one-time token, the request it
    /// stands for as bytes (its fields and files, CSRF token left out).
    pub fn for_form(key: &str, endpoint: String, user_id: i64, request: &[u8]) -> Idempotency {
        Idempotency {
            key: Some(key.to_string()),
            endpoint,
            user_id,
            request_hash: Sha256::digest(request)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        }
    }

    /// What an earlier request with this key was answered, and whether it was the same
    /// request: `(same, status, body)`.
    pub async fn stored(
        &self,
        db: &Db,
    ) -> Result<Option<(bool, StatusCode, serde_json::Value)>, AppError> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = $1 AND endpoint = $2 AND user_id = $3")
            .bind(key)
            .bind(&self.endpoint)
            .bind(self.user_id)
            .fetch_optional(db.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = row.try_get("request_hash")?;
        let status: i64 = row.try_get("status_code")?;
        let response: String = row.try_get("response")?;
        Ok(Some((
            hash == self.request_hash,
            StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
            serde_json::from_str(&response).map_err(anyhow::Error::from)?,
        )))
    }

    /// The stored reply of an earlier request with this key, if any; the same key with
    /// another body is 409.
    pub async fn replay(&self, db: &Db) -> Result<Option<Reply>, AppError> {
        match self.stored(db).await? {
            None => Ok(None),
            Some((false, _, _)) => Err(AppError::Conflict(
                "this Idempotency-Key was already used with a different request body".into(),
            )),
            Some((true, status, body)) => Ok(Some((status, Json(body)))),
        }
    }

    /// Stores the reply with the action and commits both. If a concurrent twin committed
    /// first, this action is rolled back and the twin's reply returned.
    pub async fn commit(
        &self,
        db: &Db,
        tx: Tx,
        status: StatusCode,
        body: serde_json::Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Reply, AppError> {
        Ok(self
            .commit_or_twin(db, tx, status, body.clone(), now)
            .await?
            .unwrap_or((status, Json(body))))
    }

    /// [`Idempotency::commit`], telling which happened: `None` when this action was
    /// committed with its reply, `Some` (the twin's reply) when a concurrent twin with the
    /// same key committed first and this one was rolled back.
    pub async fn commit_or_twin(
        &self,
        db: &Db,
        mut tx: Tx,
        status: StatusCode,
        body: serde_json::Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Reply>, AppError> {
        if let Some(key) = &self.key {
            let stored = sqlx::query(
                "INSERT INTO idempotency_keys (key, endpoint, user_id, request_hash, status_code, response, created_on) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(key)
            .bind(&self.endpoint)
            .bind(self.user_id)
            .bind(&self.request_hash)
            .bind(i64::from(status.as_u16()))
            .bind(body.to_string())
            .bind(timestamp(now))
            .execute(&mut *tx)
            .await;
            if let Err(sqlx::Error::Database(e)) = &stored {
                if e.is_unique_violation() {
                    tx.rollback().await?;
                    return self.replay(db).await?.map(Some).ok_or_else(|| {
                        AppError::Conflict(
                            "a request with this Idempotency-Key is in progress".into(),
                        )
                    });
                }
            }
            stored?;
        }
        tx.commit().await?;
        Ok(None)
    }
}
