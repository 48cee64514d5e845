//! Document actions: store an upload, then record it (one transaction with its audit
//! entry); read one back for download.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::model::{check_file, clean_file_name, Document, Refusal};
use super::repo::{self, NewDocument};
use crate::audit;
use crate::auth::CurrentUser;
use crate::db::{timestamp, Db};
use crate::error::AppError;
use crate::storage::Storage;
use chrono::{DateTime, Utc};

/// What an upload is attached to.
pub enum Target {
    Case(String),
    Invoice(String),
}

/// A received file, read whole (the route caps its size).
pub struct Upload {
    pub file_name: String,
    pub bytes: Bytes,
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> AppError {
        match refusal {
            Refusal::Empty => AppError::field("file", "the file is empty"),
            other => AppError::UnsupportedMediaType(other.message()),
        }
    }
}

/// Checks the file, stores it under `documents/<uuid>` and records it. Uploading to a
/// case whose step already created its invoice attaches it to that invoice too.
#[tracing::instrument(skip_all, fields(size = upload.bytes.len()))]
pub async fn upload(
    db: &Db,
    storage: &Storage,
    target: Target,
    upload: Upload,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<Document, AppError> {
    let pool = db.reader();
    let (case_no, invoice_id) = match &target {
        Target::Case(case_no) => {
            if crate::bpm::repo::find_case(pool, case_no).await?.is_none() {
                return Err(AppError::NotFound(format!("no case {case_no}")));
            }
            (
                Some(case_no.clone()),
                crate::repairs::repo::invoice_id_of_case(pool, case_no).await?,
            )
        }
        Target::Invoice(repair_id) => {
            let id = crate::repairs::repo::invoice_id_by_repair_id(pool, repair_id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no repair invoice {repair_id}")))?;
            (None, Some(id))
        }
    };
    let kind = check_file(&upload.file_name, &upload.bytes)?;
    let file_name = clean_file_name(&upload.file_name, kind);
    let document_id = uuid::Uuid::new_v4().to_string();
    let storage_key = format!("documents/{document_id}");
    let sha256: String = Sha256::digest(&upload.bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let size = upload.bytes.len() as i64;
    // File first, row second: a row never points at a missing file; a failed insert
    // removes the file again.
    storage.put(&storage_key, upload.bytes).await?;
    let recorded = async {
        let mut tx = db.begin().await?;
        repo::insert(
            &mut tx,
            &NewDocument {
                document_id: &document_id,
                case_no: case_no.as_deref(),
                invoice_id,
                file_name: &file_name,
                content_type: kind.content_type(),
                size_bytes: size,
                sha256: &sha256,
                storage_key: &storage_key,
                uploaded_by: &user.username,
                uploaded_on: &timestamp(now),
            },
        )
        .await?;
        let mut entry =
            audit::Entry::new(&user.username, "document_uploaded", "document", &document_id)
                .details(serde_json::json!({
                    "file_name": file_name,
                    "content_type": kind.content_type(),
                    "size_bytes": size,
                    "sha256": sha256,
                    "repair_id": match &target { Target::Invoice(r) => Some(r.as_str()), Target::Case(_) => None },
                }));
        if let Some(case_no) = &case_no {
            entry = entry.case(case_no, None);
        }
        audit::record(&mut tx, entry, now).await?;
        tx.commit().await?;
        Ok::<(), AppError>(())
    }
    .await;
    if let Err(error) = recorded {
        if let Err(e) = storage.delete(&storage_key).await {
            tracing::warn!(error = %e, key = storage_key, "could not remove the file of a failed upload");
        }
        return Err(error);
    }
    let (document, _) = repo::find(pool, &document_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("document {document_id} vanished after insert"))?;
    Ok(document)
}

/// The document's record and bytes.
pub async fn download(
    db: &Db,
    storage: &Storage,
    document_id: &str,
) -> Result<(Document, Bytes), AppError> {
    let (document, key) = repo::find(db.reader(), document_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no document {document_id}")))?;
    let bytes = storage.get(&key).await?.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "the file of document {document_id} ({key}) is missing from {}",
            storage.location()
        ))
    })?;
    Ok((document, bytes))
}
