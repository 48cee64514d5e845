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
use super::service::{self, Target, Upload};
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

fn too_large(max: usize) -> AppError {
    AppError::PayloadTooLarge(format!(
        "file: larger than the {} limit (BAT_MAX_UPLOAD_BYTES)",
        human_size(max)
    ))
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

fn multipart_error(e: MultipartError, max: usize) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(max)
    } else {
        AppError::BadRequest(format!("cannot read the upload: {}", e.body_text()))
    }
}

/// Reads the part named `file` (or the first part with a file name), refusing it as soon
/// as it passes the size limit.
async fn read_upload(
    multipart: Result<Multipart, MultipartRejection>,
    max: usize,
) -> Result<Upload, AppError> {
    let mut multipart = multipart.map_err(|_| {
        AppError::UnsupportedMediaType(
            "send the file as multipart/form-data with a part named 'file'".into(),
        )
    })?;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, max))?
    {
        if field.name() != Some("file") && field.file_name().is_none() {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        let mut oversized = false;
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, max))? {
            // Past the limit the rest is read and dropped (up to the body limit), so the
            // client gets the 413 instead of a connection closed under its upload.
            oversized = oversized || bytes.len() + chunk.len() > max;
            if !oversized {
                bytes.extend_from_slice(&chunk);
            }
        }
        if oversized {
            return Err(too_large(max));
        }
        return Ok(Upload {
            file_name,
            bytes: bytes.into(),
        });
    }
    Err(AppError::field(
        "file",
        "is required: a multipart part named 'file'",
    ))
}

/// Upload the workshop's invoice file to a repair case.
///
/// Before submitting its step: the step links it to the invoice it creates. PDF, JPEG or
/// PNG, checked by content; at most `BAT_MAX_UPLOAD_BYTES` (default 10 MiB).
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
    let upload = read_upload(multipart, state.config.max_upload_bytes).await?;
    let document = service::upload(
        &state.db,
        &state.storage,
        Target::Case(case_no),
        upload,
        &user,
        state.clock.now(),
    )
    .await?;
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
/// PDF, JPEG or PNG, checked by content; at most `BAT_MAX_UPLOAD_BYTES`.
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
    let upload = read_upload(multipart, state.config.max_upload_bytes).await?;
    let document = service::upload(
        &state.db,
        &state.storage,
        Target::Invoice(repair_id),
        upload,
        &user,
        state.clock.now(),
    )
    .await?;
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
