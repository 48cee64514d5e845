//! SQL for documents.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{download_url, Document};
use crate::db::Tx;

const SELECT: &str = "SELECT d.document_id, d.case_no, d.invoice_id, d.file_name, d.content_type, d.size_bytes, d.sha256, \
     d.storage_key, d.uploaded_by, d.uploaded_on FROM documents d";

/// A document as stored; its invoice's repair id is filled in by [`documents`].
fn from_row(r: &AnyRow) -> Result<Document, sqlx::Error> {
    let document_id: String = r.try_get("document_id")?;
    Ok(Document {
        download_url: download_url(&document_id),
        document_id,
        case_no: r.try_get("case_no")?,
        repair_id: None,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_on: r.try_get("uploaded_on")?,
    })
}

pub struct NewDocument<'a> {
    pub document_id: &'a str,
    pub case_no: Option<&'a str>,
    pub invoice_id: Option<i64>,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub uploaded_by: &'a str,
    pub uploaded_on: &'a str,
}

pub async fn insert(tx: &mut Tx, d: &NewDocument<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO documents (document_id, case_no, invoice_id, file_name, content_type, size_bytes, sha256, \
         storage_key, uploaded_by, uploaded_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(d.document_id)
    .bind(d.case_no)
    .bind(d.invoice_id)
    .bind(d.file_name)
    .bind(d.content_type)
    .bind(d.size_bytes)
    .bind(d.sha256)
    .bind(d.storage_key)
    .bind(d.uploaded_by)
    .bind(d.uploaded_on)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The document and its storage key.
pub async fn find(
    pool: &AnyPool,
    document_id: &str,
) -> Result<Option<(Document, String)>, sqlx::Error> {
    let Some(row) = sqlx::query(&format!("{SELECT} WHERE d.document_id = $1"))
        .bind(document_id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let key: String = row.try_get("storage_key")?;
    Ok(documents(pool, &[row]).await?.pop().map(|d| (d, key)))
}

/// The documents of these rows, with the repair id of the invoice each is attached to
/// (one keyed read of the repairs' repo for all of them).
async fn documents(pool: &AnyPool, rows: &[AnyRow]) -> Result<Vec<Document>, sqlx::Error> {
    let invoice_ids: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get::<Option<i64>, _>("invoice_id"))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let repair_ids = crate::repairs::repo::repair_ids_of(pool, &invoice_ids).await?;
    rows.iter()
        .map(|r| {
            let mut document = from_row(r)?;
            document.repair_id = r
                .try_get::<Option<i64>, _>("invoice_id")?
                .and_then(|id| repair_ids.get(&id).cloned());
            Ok(document)
        })
        .collect()
}

pub async fn for_case(pool: &AnyPool, case_no: &str) -> Result<Vec<Document>, sqlx::Error> {
    let rows = sqlx::query(&format!("{SELECT} WHERE d.case_no = $1 ORDER BY d.id"))
        .bind(case_no)
        .fetch_all(pool)
        .await?;
    documents(pool, &rows).await
}

pub async fn for_invoice(pool: &AnyPool, invoice_id: i64) -> Result<Vec<Document>, sqlx::Error> {
    let rows = sqlx::query(&format!("{SELECT} WHERE d.invoice_id = $1 ORDER BY d.id"))
        .bind(invoice_id)
        .fetch_all(pool)
        .await?;
    documents(pool, &rows).await
}

/// Links the documents uploaded to a case to the invoice the case's step just created;
/// returns how many.
pub async fn link_case_documents(
    tx: &mut Tx,
    case_no: &str,
    invoice_id: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE documents SET invoice_id = $1 WHERE case_no = $2 AND invoice_id IS NULL",
    )
    .bind(invoice_id)
    .bind(case_no)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Whether a document exists, and the invoice it is attached to if any.
pub async fn document_invoice(
    tx: &mut Tx,
    document_id: &str,
) -> Result<Option<Option<i64>>, sqlx::Error> {
    sqlx::query_scalar::<_, Option<i64>>("SELECT invoice_id FROM documents WHERE document_id = $1")
        .bind(document_id)
        .fetch_optional(&mut **tx)
        .await
}

/// Attaches a document not yet attached to an invoice; returns whether it was.
pub async fn link_document(
    tx: &mut Tx,
    document_id: &str,
    invoice_id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE documents SET invoice_id = $1 WHERE document_id = $2 AND invoice_id IS NULL",
    )
    .bind(invoice_id)
    .bind(document_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A file kept for a refused form's next try (see `documents::pending`).
pub struct PendingRow {
    pub token: String,
    pub document_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_on: String,
}

pub async fn insert_pending(tx: &mut Tx, owner: &str, p: &PendingRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pending_uploads (token, owner, document_id, file_name, content_type, size_bytes, sha256, created_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&p.token)
    .bind(owner)
    .bind(&p.document_id)
    .bind(&p.file_name)
    .bind(&p.content_type)
    .bind(p.size_bytes)
    .bind(&p.sha256)
    .bind(&p.created_on)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes the owner's pending file named by `token` out of the table (it is claimed once).
pub async fn take_pending(
    tx: &mut Tx,
    owner: &str,
    token: &str,
) -> Result<Option<PendingRow>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM pending_uploads WHERE token = $1 AND owner = $2 \
         RETURNING token, document_id, file_name, content_type, size_bytes, sha256, created_on",
    )
    .bind(token)
    .bind(owner)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(PendingRow {
            token: r.try_get("token")?,
            document_id: r.try_get("document_id")?,
            file_name: r.try_get("file_name")?,
            content_type: r.try_get("content_type")?,
            size_bytes: r.try_get("size_bytes")?,
            sha256: r.try_get("sha256")?,
            created_on: r.try_get("created_on")?,
        })
    })
    .transpose()
}

/// Takes every pending file created before `before` out of the table: their document ids.
pub async fn take_stale_pending(tx: &mut Tx, before: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM pending_uploads WHERE created_on < $1 RETURNING document_id")
        .bind(before)
        .fetch_all(&mut **tx)
        .await
}
