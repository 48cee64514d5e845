//! Finalized DTRs are records. Finalizing renders the statement once, stores the PDF in
//! the file storage (local or S3, like receipts) and keeps its SHA-256 in `dtrs`; every
//! later download serves exactly those bytes, checked against the hash, and
//! `batconnect dtr verify` checks every stored statement. Drafts are rendered on request.
//!
//! The key names the hash (`dtrs/<week>/<number>-<hash prefix>.pdf`), so two renderings
//! can never overwrite each other's file: whichever is recorded first is the record.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::status::DtrStatus;
use sha2::Digest;

use super::model::Dtr;
use super::repo::{self, StoredPdf};
use super::service;
use crate::error::AppError;
use crate::state::AppState;
use crate::storage::Storage;

/// Lowercase hex SHA-256 of a file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", sha2::Sha256::digest(bytes))
}

fn storage_key(dtr: &Dtr, sha256: &str) -> String {
    format!(
        "dtrs/{}/{}-{}.pdf",
        dtr.summary.week_start,
        dtr.summary.dtr_number,
        &sha256[..16]
    )
}

async fn render(state: &AppState, dtr: Dtr, now: DateTime<Utc>) -> Result<Bytes, AppError> {
    let timezone = state.config.timezone;
    let pdf = tokio::task::spawn_blocking(move || super::pdf::render(&dtr, now, timezone))
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Bytes::from(pdf))
}

/// Renders and stores a finalized statement's PDF; returns where and its hash.
async fn store(
    state: &AppState,
    dtr: &Dtr,
    now: DateTime<Utc>,
) -> Result<(StoredPdf, Bytes), AppError> {
    let pdf = render(state, dtr.clone(), now).await?;
    let sha256 = sha256_hex(&pdf);
    let key = storage_key(dtr, &sha256);
    state.storage.put(&key, pdf.clone()).await?;
    Ok((StoredPdf { key, sha256 }, pdf))
}

/// Finalizes a draft (finance) and stores its PDF as the record, in one transaction: if
/// the file cannot be stored, the statement stays a draft.
pub async fn finalize(state: &AppState, id: i64, actor: &str) -> Result<Dtr, AppError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    service::finalize(&mut tx, id, actor, now).await?;
    // The row is locked and its content does not change on finalizing: the statement as
    // read before, with the status it has now.
    let mut dtr = load(state, id).await?;
    dtr.summary.status = DtrStatus::Finalized;
    dtr.summary.finalized_by = Some(actor.to_string());
    dtr.summary.finalized_on = Some(crate::db::timestamp(now));
    let (stored, _) = store(state, &dtr, now).await?;
    repo::record_pdf(&mut tx, id, &stored).await?;
    tx.commit().await?;
    load(state, id).await
}

async fn load(state: &AppState, id: i64) -> Result<Dtr, AppError> {
    repo::get(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no DTR {id}")))
}

/// The PDF a download serves: a draft rendered now; a finalized statement's stored record,
/// checked against its hash. A statement finalized before records were kept gets its
/// record on its first download.
pub async fn pdf(state: &AppState, id: i64) -> Result<(Dtr, Bytes), AppError> {
    let dtr = load(state, id).await?;
    let now = state.clock.now();
    if dtr.summary.status == DtrStatus::Draft {
        let pdf = render(state, dtr.clone(), now).await?;
        return Ok((dtr, pdf));
    }
    if let Some(stored) = repo::stored_pdf(state.db.reader(), id).await? {
        let pdf = read_checked(&state.storage, &stored).await.map_err(|problem| {
            tracing::error!(dtr = id, %problem, "a finalized DTR's stored PDF failed its check");
            anyhow::anyhow!("DTR {id}: {problem}")
        })?;
        return Ok((dtr, pdf));
    }
    let (stored, pdf) = store(state, &dtr, now).await?;
    let mut tx = state.db.begin().await?;
    let recorded = repo::record_pdf(&mut tx, id, &stored).await?;
    tx.commit().await?;
    if recorded {
        return Ok((dtr, pdf));
    }
    // Another download recorded its rendering first: that one is the record.
    let stored = repo::stored_pdf(state.db.reader(), id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("DTR {id}: its record vanished"))?;
    let pdf = read_checked(&state.storage, &stored)
        .await
        .map_err(|problem| anyhow::anyhow!("DTR {id}: {problem}"))?;
    Ok((dtr, pdf))
}

/// The stored bytes, if they are there and still hash to the recorded SHA-256; else what
/// is wrong with them.
async fn read_checked(storage: &Storage, stored: &StoredPdf) -> Result<Bytes, String> {
    match storage.get(&stored.key).await {
        Err(e) => Err(format!("its PDF {} could not be read: {e}", stored.key)),
        Ok(None) => Err(format!(
            "its PDF {} is missing from the file storage",
            stored.key
        )),
        Ok(Some(bytes)) => {
            let actual = sha256_hex(&bytes);
            if actual == stored.sha256 {
                Ok(bytes)
            } else {
                Err(format!(
                    "its PDF {} has SHA-256 {actual}, but {} was recorded when it was finalized",
                    stored.key, stored.sha256
                ))
            }
        }
    }
}

/// What `batconnect dtr verify` found.
#[derive(Debug, Default)]
pub struct Verification {
    /// Stored statements whose bytes match their hash.
    pub checked: usize,
    /// One line per statement whose file is missing, unreadable or changed.
    pub problems: Vec<String>,
    /// Finalized statements without a record yet (finalized before records were kept).
    pub not_recorded: i64,
}

/// Checks every finalized statement's stored PDF against its recorded SHA-256.
pub async fn verify(pool: &sqlx::AnyPool, storage: &Storage) -> Result<Verification, AppError> {
    let mut found = Verification {
        not_recorded: repo::finalized_without_pdf(pool).await?,
        ..Verification::default()
    };
    for (id, number, stored) in repo::recorded_pdfs(pool).await? {
        match read_checked(storage, &stored).await {
            Ok(_) => found.checked += 1,
            Err(problem) => found
                .problems
                .push(format!("DTR {id} ({number}): {problem}")),
        }
    }
    Ok(found)
}
