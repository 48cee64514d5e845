//! HTTP for invoice documents: upload to a case (tag "BPM") or an invoice (tag "Vehicle
//! Repairs"), list them, download one.

use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::{Document, UploadForm};
use super::repo;
use super::service::{self, Target};
use crate::auth::model::{CurrentUser, OPERATORS, READERS};
use crate::error::{AppError, Problem};
use crate::state::AppState;

/// Room for the multipart framing around the file itself.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

pub fn router(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(upload_to_case, case_documents))
        .routes(routes!(upload_to_invoice, invoice_documents))
        .layer(DefaultBodyLimit::max(max_upload_bytes + MULTIPART_OVERHEAD));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(download))
}

/// Streams one multipart part into storage and checks it: the API and the console's forms
/// both read their file through this. `None` for a file input left empty (no name, no
/// bytes).
pub(super) async fn stream_file(
    field: &mut axum::extract::multipart::Field<'_>,
    storage: &crate::storage::Storage,
    max: usize,
) -> Result<Option<service::Received>, AppError> {
    let file_name = field.file_name().unwrap_or_default().to_string();
    let mut intake = service::Intake::begin(storage, max)?;
    let mut empty = true;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                empty = empty && chunk.is_empty();
                if let Err(e) = intake.write(chunk).await {
                    intake.abandon().await;
                    return Err(e);
                }
            }
            Ok(None) => break,
            Err(e) => {
                intake.abandon().await;
                return Err(multipart_error(e, max));
            }
        }
    }
    if empty && file_name.is_empty() {
        intake.abandon().await;
        return Ok(None);
    }
    intake.finish(&file_name).await.map(Some)
}

fn multipart_error(e: MultipartError, max: usize) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge(format!(
            "file: larger than the {} limit (BAT_MAX_UPLOAD_BYTES)",
            service::human_size(max)
        ))
    } else {
        AppError::BadRequest(format!("cannot read the upload: {}", e.body_text()))
    }
}

/// Streams the one part named `file` to storage and records it. Any other part, or a
/// second file, is refused (422) and nothing is kept.
async fn receive_upload(
    state: &AppState,
    user: &CurrentUser,
    target: Target,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Document, AppError> {
    let mut multipart = multipart.map_err(|_| {
        AppError::UnsupportedMediaType(
            "send the file as multipart/form-data with a part named 'file'".into(),
        )
    })?;
    let attach = service::attach_to(&state.db, target).await?;
    let max = state.config.max_upload_bytes;
    let mut received = None;
    let outcome = async {
        while let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| multipart_error(e, max))?
        {
            match field.name() {
                Some("file") if received.is_none() => {}
                Some("file") => {
                    return Err(AppError::field(
                        "file",
                        "only one file per upload: send one part named 'file'",
                    ))
                }
                other => {
                    return Err(AppError::field(
                        other.unwrap_or("(unnamed part)"),
                        "is not a part of this upload: send one part named 'file'",
                    ))
                }
            }
            received = Some(
                stream_file(&mut field, &state.storage, max)
                    .await?
                    .ok_or_else(|| AppError::field("file", "the file is empty"))?,
            );
        }
        Ok(())
    }
    .await;
    let received = match (outcome, received) {
        (Ok(()), Some(received)) => received,
        (Ok(()), None) => {
            return Err(AppError::field(
                "file",
                "is required: a multipart part named 'file'",
            ))
        }
        (Err(e), stored) => {
            if let Some(stored) = stored {
                service::discard(&state.storage, stored).await;
            }
            return Err(e);
        }
    };
    service::record(
        &state.db,
        &state.storage,
        attach,
        received,
        user,
        state.clock.now(),
    )
    .await
}

/// Upload the workshop's invoice file to a repair case.
///
/// Before submitting its step: the step links it to the invoice it creates. PDF, JPEG or
/// PNG, checked by content and structure (a signature alone is refused); exactly one part
/// named `file`, streamed to storage; at most `BAT_MAX_UPLOAD_BYTES` (default 10 MiB).
#[utoipa::path(post, path = "/case/{case_no}/documents", tag = "BPM", params(("case_no" = String, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Document), (status = 404, body = Problem), (status = 413, body = Problem, description = "larger than BAT_MAX_UPLOAD_BYTES"),
              (status = 415, body = Problem, description = "not a PDF, JPEG or PNG, or a name that says otherwise"), (status = 422, body = Problem)))]
async fn upload_to_case(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(case_no): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Document>), AppError> {
    user.require(OPERATORS)?;
    let document = receive_upload(&state, &user, Target::Case(case_no), multipart).await?;
    Ok((StatusCode::CREATED, Json(document)))
}

/// Documents uploaded to a case.
#[utoipa::path(get, path = "/case/{case_no}/documents", tag = "BPM", params(("case_no" = String, Path)),
    responses((status = 200, body = Vec<Document>), (status = 404, body = Problem)))]
async fn case_documents(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(case_no): Path<String>,
) -> Result<Json<Vec<Document>>, AppError> {
    user.require(READERS)?;
    let pool = state.db.reader();
    if crate::bpm::repo::find_case(pool, &case_no).await?.is_none() {
        return Err(AppError::NotFound(format!("no case {case_no}")));
    }
    Ok(Json(repo::for_case(pool, &case_no).await?))
}

/// Upload a document to an existing repair invoice.
///
/// PDF, JPEG or PNG, checked by content and structure; exactly one part named `file`;
/// at most `BAT_MAX_UPLOAD_BYTES`.
#[utoipa::path(post, path = "/payments/vehicle-repairs/{repair_id}/documents", tag = "Vehicle Repairs", params(("repair_id" = String, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Document), (status = 404, body = Problem), (status = 413, body = Problem),
              (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn upload_to_invoice(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(repair_id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Document>), AppError> {
    user.require(OPERATORS)?;
    let document = receive_upload(&state, &user, Target::Invoice(repair_id), multipart).await?;
    Ok((StatusCode::CREATED, Json(document)))
}

/// An invoice's documents, including those uploaded to its case.
#[utoipa::path(get, path = "/payments/vehicle-repairs/{repair_id}/documents", tag = "Vehicle Repairs", params(("repair_id" = String, Path)),
    responses((status = 200, body = Vec<Document>), (status = 404, body = Problem)))]
async fn invoice_documents(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(repair_id): Path<String>,
) -> Result<Json<Vec<Document>>, AppError> {
    user.require(READERS)?;
    let pool = state.db.reader();
    let id = crate::repairs::repo::invoice_id_by_repair_id(pool, &repair_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no repair invoice {repair_id}")))?;
    Ok(Json(repo::for_invoice(pool, id).await?))
}

/// Download a document.
///
/// As an attachment, with the content type found at upload.
#[utoipa::path(get, path = "/documents/{document_id}", tag = "Vehicle Repairs", params(("document_id" = String, Path)),
    responses((status = 200, description = "The file", content(
            (Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"))),
        (status = 404, body = Problem)))]
async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document_id): Path<String>,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    let (document, bytes) = service::download(&state.db, &state.storage, &document_id).await?;
    Ok(crate::exports::stream::file_response(
        Body::from(bytes),
        &document.content_type,
        &document.file_name,
    ))
}
