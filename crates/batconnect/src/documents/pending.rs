//! Pending uploads: a file sent with a console form that was refused for another reason is
//! kept, stored and checked, for that session's next try — the page shows it by name with
//! a way to remove it, and the form carries its token instead of asking for the file again.
//! A pending file belongs to the session that sent it, is claimed at most once, and lives at
//! most [`LIFETIME_HOURS`]; [`sweep`] removes what no form claimed, with its stored file.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::model::FileKind;
use super::repo::{self, PendingRow};
use super::service::{self, storage_key, Received};
use crate::db::{timestamp, Db};
use crate::error::AppError;
use crate::storage::Storage;

/// How long a pending file waits for its form.
pub const LIFETIME_HOURS: i64 = 24;

/// The form field carrying a pending file's token.
pub const FIELD: &str = "pending_upload";

/// A kept file, as its form shows it.
#[derive(Debug, Clone)]
pub struct Pending {
    pub token: String,
    pub file_name: String,
    pub size_bytes: i64,
}

/// The owner of a session's pending files: the SHA-256 of its CSRF token (a secret of that
/// session alone, never stored as it is here).
pub fn owner_of(csrf_token: &str) -> String {
    Sha256::digest(csrf_token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Keeps `file` for the session `owner`'s next try. Stale pending files are swept on the
/// way, so the table holds only what may still be claimed.
pub async fn keep(
    db: &Db,
    storage: &Storage,
    owner: &str,
    file: Received,
    now: DateTime<Utc>,
) -> Result<Pending, AppError> {
    sweep(db, storage, now).await;
    let row = PendingRow {
        token: uuid::Uuid::new_v4().simple().to_string(),
        document_id: file.document_id.clone(),
        file_name: file.file_name.clone(),
        content_type: file.kind.content_type().to_string(),
        size_bytes: file.size,
        sha256: file.sha256.clone(),
        created_on: timestamp(now),
    };
    let kept = async {
        let mut tx = db.begin().await?;
        repo::insert_pending(&mut tx, owner, &row).await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = kept {
        service::discard(storage, file).await;
        return Err(error.into());
    }
    Ok(Pending {
        token: row.token,
        file_name: row.file_name,
        size_bytes: row.size_bytes,
    })
}

/// Claims the session's pending file named by `token`: the stored file, ready to record,
/// or `None` when there is no such file for this session or it has expired (its file then
/// goes).
pub async fn claim(
    db: &Db,
    storage: &Storage,
    owner: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Received>, AppError> {
    let mut tx = db.begin().await?;
    let taken = repo::take_pending(&mut tx, owner, token).await?;
    tx.commit().await?;
    let Some(row) = taken else {
        return Ok(None);
    };
    let kind = match row.content_type.as_str() {
        "application/pdf" => FileKind::Pdf,
        "image/jpeg" => FileKind::Jpeg,
        _ => FileKind::Png,
    };
    let file = Received {
        document_id: row.document_id,
        file_name: row.file_name,
        kind,
        size: row.size_bytes,
        sha256: row.sha256,
    };
    if row.created_on < timestamp(now - Duration::hours(LIFETIME_HOURS)) {
        service::discard(storage, file).await;
        return Ok(None);
    }
    Ok(Some(file))
}

/// Removes the session's pending file named by `token` (the clerk took it off the form).
pub async fn remove(db: &Db, storage: &Storage, owner: &str, token: &str, now: DateTime<Utc>) {
    match claim(db, storage, owner, token, now).await {
        Ok(Some(file)) => service::discard(storage, file).await,
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "could not remove a pending upload"),
    }
}

/// Removes every pending file older than [`LIFETIME_HOURS`], rows and stored files: how
/// many. A failure is logged; the next sweep tries again.
pub async fn sweep(db: &Db, storage: &Storage, now: DateTime<Utc>) -> usize {
    let before = timestamp(now - Duration::hours(LIFETIME_HOURS));
    let taken = async {
        let mut tx = db.begin().await?;
        let stale = repo::take_stale_pending(&mut tx, &before).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(stale)
    }
    .await;
    let stale = match taken {
        Ok(stale) => stale,
        Err(error) => {
            tracing::warn!(%error, "could not sweep pending uploads");
            return 0;
        }
    };
    for document_id in &stale {
        let key = storage_key(document_id);
        if let Err(error) = storage.delete(&key).await {
            tracing::warn!(%error, key, "could not remove the file of a stale pending upload");
        }
    }
    stale.len()
}
