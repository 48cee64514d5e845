//! Document actions: store an upload, then record it (one transaction with its audit
//! entry); read one back for download.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::model::{check_file, clean_file_name, Document, FileKind, FileShape, Refusal};
use super::repo::{self, NewDocument};
use crate::audit;
use crate::auth::CurrentUser;
use crate::db::{timestamp, Db};
use crate::error::AppError;
use crate::storage::{Storage, StorageWriter};
use chrono::{DateTime, Utc};

/// What an upload is attached to.
pub enum Target {
    Case(String),
    Invoice(String),
}

/// Where a document goes, checked before a byte of the file is stored.
pub struct Attach {
    target: Target,
    case_no: Option<String>,
    invoice_id: Option<i64>,
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> AppError {
        match refusal {
            Refusal::Empty => AppError::field("file", "the file is empty"),
            other => AppError::UnsupportedMediaType(other.message()),
        }
    }
}

/// 404 for a case or invoice that does not exist. Uploading to a case whose step already
/// created its invoice attaches the document to that invoice too.
pub async fn attach_to(db: &Db, target: Target) -> Result<Attach, AppError> {
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
    Ok(Attach {
        target,
        case_no,
        invoice_id,
    })
}

/// A file arriving in chunks: streamed to storage under a new key as it comes, with its
/// size, digest and [`FileShape`] kept on the way, so even the largest accepted file is
/// never held whole in memory.
pub struct Intake {
    writer: Option<StorageWriter>,
    document_id: String,
    digest: Sha256,
    shape: FileShape,
    max_bytes: usize,
}

/// A file stored whole and checked, not yet recorded.
pub struct Received {
    pub(super) document_id: String,
    pub(super) file_name: String,
    pub(super) kind: FileKind,
    pub(super) size: i64,
    pub(super) sha256: String,
}

impl Received {
    pub fn file_name(&self) -> &str {
        &self.file_name
    }
}

pub(super) fn storage_key(document_id: &str) -> String {
    format!("documents/{document_id}")
}

impl Intake {
    pub fn begin(storage: &Storage, max_bytes: usize) -> Result<Intake, AppError> {
        let document_id = uuid::Uuid::new_v4().to_string();
        let writer = storage.writer(&storage_key(&document_id))?;
        Ok(Intake {
            writer: Some(writer),
            document_id,
            digest: Sha256::new(),
            shape: FileShape::default(),
            max_bytes,
        })
    }

    /// Whether the file has passed the size limit; from then on chunks are only counted.
    fn oversized(&self) -> bool {
        self.shape.size() > self.max_bytes as u64
    }

    pub async fn write(&mut self, chunk: Bytes) -> Result<(), AppError> {
        self.shape.feed(&chunk);
        if self.oversized() {
            // Past the limit the rest is read and dropped, so the client gets its 413
            // rather than a connection closed under its upload.
            if let Some(writer) = self.writer.take() {
                writer.abort().await;
            }
            return Ok(());
        }
        self.digest.update(&chunk);
        if let Some(writer) = self.writer.as_mut() {
            writer.write(chunk).await?;
        }
        Ok(())
    }

    /// Gives the file up; nothing is left in storage.
    pub async fn abandon(mut self) {
        if let Some(writer) = self.writer.take() {
            writer.abort().await;
        }
    }

    /// Completes the stored file once its size, kind and structure pass; a refused file is
    /// removed again.
    pub async fn finish(mut self, file_name: &str) -> Result<Received, AppError> {
        if self.oversized() {
            let max = self.max_bytes;
            self.abandon().await;
            return Err(AppError::PayloadTooLarge(format!(
                "file: larger than the {} limit (BAT_MAX_UPLOAD_BYTES)",
                human_size(max)
            )));
        }
        let checked = check_file(file_name, &self.shape);
        let Some(writer) = self.writer.take() else {
            return Err(AppError::Internal(anyhow::anyhow!(
                "upload writer already closed"
            )));
        };
        let kind = match checked {
            Ok(kind) => kind,
            Err(refusal) => {
                writer.abort().await;
                return Err(refusal.into());
            }
        };
        writer.finish().await?;
        let received = Received {
            file_name: clean_file_name(file_name, kind),
            kind,
            size: self.shape.size() as i64,
            sha256: self
                .digest
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            document_id: self.document_id,
        };
        Ok(received)
    }
}

/// Removes a stored file that will not be recorded (its upload was refused after it).
pub async fn discard(storage: &Storage, file: Received) {
    let key = storage_key(&file.document_id);
    if let Err(e) = storage.delete(&key).await {
        tracing::warn!(error = %e, key, "could not remove the file of a refused upload");
    }
}

/// Records a stored file (one transaction with its audit entry); when that fails the file
/// is removed again, so a row never points at a missing file and no file is orphaned.
#[tracing::instrument(skip_all, fields(size = file.size))]
pub async fn record(
    db: &Db,
    storage: &Storage,
    attach: Attach,
    file: Received,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<Document, AppError> {
    let key = storage_key(&file.document_id);
    let recorded = async {
        let mut tx = db.begin().await?;
        repo::insert(
            &mut tx,
            &NewDocument {
                document_id: &file.document_id,
                case_no: attach.case_no.as_deref(),
                invoice_id: attach.invoice_id,
                file_name: &file.file_name,
                content_type: file.kind.content_type(),
                size_bytes: file.size,
                sha256: &file.sha256,
                storage_key: &key,
                uploaded_by: &user.username,
                uploaded_on: &timestamp(now),
            },
        )
        .await?;
        let mut entry =
            audit::Entry::new(&user.username, "document_uploaded", "document", &file.document_id)
                .details(serde_json::json!({
                    "file_name": file.file_name,
                    "content_type": file.kind.content_type(),
                    "size_bytes": file.size,
                    "sha256": file.sha256,
                    "repair_id": match &attach.target { Target::Invoice(r) => Some(r.as_str()), Target::Case(_) => None },
                }));
        if let Some(case_no) = &attach.case_no {
            entry = entry.case(case_no, None);
        }
        audit::record(&mut tx, entry, now).await?;
        tx.commit().await?;
        Ok::<(), AppError>(())
    }
    .await;
    if let Err(error) = recorded {
        if let Err(e) = storage.delete(&key).await {
            tracing::warn!(error = %e, key, "could not remove the file of a failed upload");
        }
        return Err(error);
    }
    let (document, _) = repo::find(db.reader(), &file.document_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("document {} vanished after insert", file.document_id))?;
    Ok(document)
}

/// A byte count as people read it ("10 MiB").
pub fn human_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// An invoice's documents (its case's included), by the invoice's row id, for its page.
pub async fn of_invoice(db: &Db, invoice_pk: i64) -> Result<Vec<Document>, AppError> {
    Ok(repo::for_invoice(db.reader(), invoice_pk).await?)
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
