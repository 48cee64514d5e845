//! Invoice documents in the console: upload from the invoice page (or with the wizard's
//! form), download. The same checks as the API (kind and structure by content, one file,
//! the size limit), streamed to storage.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::service::{self, Received, Target};
use crate::auth::model::{OPERATORS, READERS};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::action::FormAction;
use crate::web::{see_other, Form, PageError, Signed, PREFIX};

/// Room for the multipart framing and the form's other fields around the file.
pub const FORM_OVERHEAD: usize = 256 * 1024;
/// Longest text field accepted in a form that carries a file.
const MAX_TEXT_FIELD: usize = 16 * 1024;

pub fn router(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/app/repairs/{repair_id}/documents",
            post(upload_to_invoice).layer(DefaultBodyLimit::max(max_upload_bytes + FORM_OVERHEAD)),
        )
        .route("/app/documents/{document_id}", get(download))
}

/// A multipart form: its text fields, and the part named `file` streamed to storage and
/// checked (`None` when no file was chosen). The CSRF token must come before the file, so
/// nothing from a forged form is stored.
pub async fn read_form_with_file(
    state: &AppState,
    signed: &Signed,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(Form, Option<Received>), PageError> {
    let (form, file) = read_form_keeping_fields(state, signed, multipart).await?;
    Ok((form, file?))
}

/// Why the form's file was refused (its kind, its size, an empty file): the page shows it
/// beside the file field ([`crate::web::FieldErrors::from_file_refusal`]).
pub type FileRefused = AppError;

/// [`read_form_with_file`], where a file of the wrong kind or size does not lose the rest
/// of the form: its refusal comes back beside the text fields, so the page can show the
/// form again as typed with the error at the file field.
pub async fn read_form_keeping_fields(
    state: &AppState,
    signed: &Signed,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(Form, Result<Option<Received>, FileRefused>), PageError> {
    let mut multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let max = state.config.max_upload_bytes;
    let mut form = Form(Vec::new());
    let mut received: Option<Received> = None;
    let mut refused: Option<FileRefused> = None;
    let outcome: Result<(), PageError> =
        async {
            while let Some(mut field) = multipart.next_field().await.map_err(|e| {
                AppError::BadRequest(format!("cannot read the form: {}", e.body_text()))
            })? {
                let name = field.name().unwrap_or_default().to_string();
                if name != "file" {
                    // Read in chunks and stopped at the limit, so a huge text part is never
                    // held whole.
                    let mut bytes = Vec::new();
                    while let Some(chunk) = field.chunk().await.map_err(|e| {
                        AppError::BadRequest(format!("cannot read the form: {}", e.body_text()))
                    })? {
                        if bytes.len() + chunk.len() > MAX_TEXT_FIELD {
                            return Err(AppError::field(name, "is too long").into());
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    let text = String::from_utf8(bytes)
                        .map_err(|_| AppError::field(name.clone(), "is not UTF-8 text"))?;
                    form.0.push((name, text));
                    continue;
                }
                form.check_csrf(signed)?;
                if received.is_some() || refused.is_some() {
                    return Err(AppError::field("file", "choose one file").into());
                }
                // The rest of a refused file is skipped by the next field's read.
                match super::routes::stream_file(&mut field, &state.storage, max).await {
                    Ok(file) => received = file,
                    Err(
                        error @ (AppError::UnsupportedMediaType(_)
                        | AppError::PayloadTooLarge(_)
                        | AppError::Validation(_)),
                    ) => refused = Some(error),
                    Err(other) => return Err(other.into()),
                }
            }
            Ok(())
        }
        .await;
    match outcome {
        Ok(()) => Ok((
            form,
            match refused {
                Some(refusal) => Err(refusal),
                None => Ok(received),
            },
        )),
        Err(error) => {
            if let Some(stored) = received {
                service::discard(&state.storage, stored).await;
            }
            Err(error)
        }
    }
}

async fn upload_to_invoice(
    State(state): State<AppState>,
    signed: Signed,
    Path(repair_id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    signed.user().require(OPERATORS)?;
    let attach = service::attach_to(&state.db, Target::Invoice(repair_id.clone())).await?;
    let (form, file) = read_form_with_file(&state, &signed, multipart).await?;
    if let Err(error) = FormAction::for_roles(OPERATORS)
        .open_form(&state, &signed, form, b"")
        .await
    {
        if let Some(file) = file {
            service::discard(&state.storage, file).await;
        }
        return Err(error);
    }
    let Some(file) = file else {
        return Err(AppError::field("file", "choose a PDF, JPEG or PNG file to upload").into());
    };
    service::record(
        &state.db,
        &state.storage,
        attach,
        file,
        signed.user(),
        state.clock.now(),
    )
    .await?;
    Ok(see_other(&format!(
        "{PREFIX}/repairs/{repair_id}#documents"
    )))
}

/// Attaches a checked, stored file to the case whose step just created its invoice: it
/// belongs to both, and shows in the case's history.
pub async fn attach_to_case_invoice(
    state: &AppState,
    signed: &Signed,
    case_no: &str,
    file: Received,
) -> Result<(), AppError> {
    let attach = match service::attach_to(&state.db, Target::Case(case_no.to_string())).await {
        Ok(attach) => attach,
        Err(e) => {
            service::discard(&state.storage, file).await;
            return Err(e);
        }
    };
    service::record(
        &state.db,
        &state.storage,
        attach,
        file,
        signed.user(),
        state.clock.now(),
    )
    .await?;
    Ok(())
}

async fn download(
    State(state): State<AppState>,
    signed: Signed,
    Path(document_id): Path<String>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let (document, bytes) = service::download(&state.db, &state.storage, &document_id).await?;
    Ok(crate::exports::stream::file_response(
        axum::body::Body::from(bytes),
        &document.content_type,
        &document.file_name,
    ))
}
