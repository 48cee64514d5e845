//! One error type for every business action, rendered over the API as RFC 9457 problem
//! details (`application/problem+json`). Internal causes are logged, never sent to the
//! client. It sits below the features: any of them, and any front door (API, pages, CLI,
//! scheduler), uses it.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One offending input: `field` is the parameter or body field name, `pointer` the JSON
/// pointer into the request body when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            pointer: None,
            message: message.into(),
        }
    }

    /// The same error under another field name (the pointer stays).
    pub fn named(mut self, field: impl Into<String>) -> FieldError {
        self.field = field.into();
        self
    }

    pub fn at(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
        let pointer = pointer.into();
        let field = pointer.rsplit('/').next().unwrap_or_default().to_string();
        FieldError {
            field,
            pointer: Some(pointer),
            message: message.into(),
        }
    }
}

/// Body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// An operator's configuration is wrong (e.g. a step's schema link); the message is
    /// meant for them and is shown as is.
    #[error("{0}")]
    Misconfigured(String),
    /// The request body is larger than allowed (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The uploaded content is of a kind not accepted (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    /// Too many attempts from this client (429): come back after `retry_after` seconds.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// The service is at capacity for this kind of request (503): come back after
    /// `retry_after` seconds.
    #[error("{message}")]
    Busy { message: String, retry_after: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation(_) | AppError::Unprocessable(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) | AppError::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// What a person is told when their action met another one on the same records at the
/// same instant and the database undid it (a deadlock, a serialization failure, SQLite's
/// "database is locked"): nothing was saved, and trying again is safe.
pub const CONCURRENT_CHANGE: &str = "another action changed the same records at the same moment, so nothing of this one was saved; \
     reload and try again";

/// Is this a database error that says "two transactions met", not "this request is wrong"?
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code();
            matches!(
                code.as_deref(),
                // PostgreSQL: deadlock, serialization failure, lock not available.
                Some("40P01" | "40001" | "55P03")
                // SQLite: SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
                | Some("5" | "6" | "261" | "262" | "517" | "773")
            ) || db.message().contains("database is locked")
        }
        _ => false,
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> AppError {
        if is_transient(&error) {
            tracing::warn!(%error, "a transaction met another one and was undone; answered 409");
            return AppError::Conflict(CONCURRENT_CHANGE.into());
        }
        if let sqlx::Error::Database(db) = &error {
            if db.is_unique_violation() {
                return AppError::Conflict(unique_violation_message(db.message(), db.constraint()));
            }
            if db.is_foreign_key_violation() {
                return AppError::Unprocessable(
                    "a referenced record does not exist or is still in use".into(),
                );
            }
        }
        AppError::Internal(error.into())
    }
}

/// Names the field of a unique constraint from PostgreSQL's constraint name
/// (`drivers_tlc_license_no_key`) or SQLite's message (`UNIQUE constraint failed: drivers.vin`).
fn unique_violation_message(message: &str, constraint: Option<&str>) -> String {
    let field = if let Some(columns) = message.strip_prefix("UNIQUE constraint failed: ") {
        columns
            .split(", ")
            .map(|c| c.rsplit('.').next().unwrap_or(c))
            .map(|c| known_index_field(c).unwrap_or_else(|| c.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    } else if let Some(name) = constraint {
        known_index_field(name).unwrap_or_else(|| {
            let column = name.trim_end_matches("_key");
            TABLES
                .iter()
                .find_map(|t| column.strip_prefix(t).and_then(|c| c.strip_prefix('_')))
                .unwrap_or(column)
                .to_string()
        })
    } else {
        "value".to_string()
    };
    format!("{field}: a record with this value already exists")
}

// Longest first, so `repair_invoices` wins over a shorter table name sharing its prefix.
const TABLES: &[&str] = &[
    "case_step_config_paths",
    "case_step_configs",
    "repair_installments",
    "repair_invoices",
    "case_entities",
    "documents",
    "lease_drivers",
    "app_settings",
    "id_sequences",
    "case_types",
    "medallions",
    "vehicles",
    "drivers",
    "leases",
    "cases",
    "users",
];

// Partial unique indexes have names of our choosing; SQLite reports their columns anyway.
fn known_index_field(name: &str) -> Option<String> {
    Some(
        match name {
            "leases_one_active_per_medallion" => "medallion_id",
            "lease_drivers_one_manager" => "is_driver_manager",
            "repair_invoices_invoice_number_key" | "invoice_number_key" => "invoice_number",
            "ledger_postings_interim_receipt_once" => "receipt_number",
            "repair_invoices_case_no" => "case_no",
            _ => return None,
        }
        .to_string(),
    )
}

impl AppError {
    /// The message for a person: each offending field with what is wrong with it for a
    /// validation error, the error's own words otherwise (internal causes included: for
    /// operators' commands, never for API responses).
    pub fn detail(&self) -> String {
        match self {
            AppError::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }
}

impl AppError {
    /// The error a status stands for, with `detail` as its words (an answer written by a
    /// layer below the handlers, shown again as a console page).
    pub fn from_status(status: StatusCode, detail: String) -> AppError {
        match status {
            StatusCode::BAD_REQUEST => AppError::BadRequest(detail),
            StatusCode::UNAUTHORIZED => AppError::Unauthorized(detail),
            StatusCode::FORBIDDEN => AppError::Forbidden(detail),
            StatusCode::NOT_FOUND => AppError::NotFound(detail),
            StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
            StatusCode::CONFLICT => AppError::Conflict(detail),
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(detail),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType(detail),
            StatusCode::UNPROCESSABLE_ENTITY => AppError::Unprocessable(detail),
            StatusCode::TOO_MANY_REQUESTS => AppError::TooManyRequests {
                message: detail,
                retry_after: 1,
            },
            StatusCode::SERVICE_UNAVAILABLE => AppError::Busy {
                message: detail,
                retry_after: 1,
            },
            _ => AppError::Internal(anyhow::anyhow!("{status}: {detail}")),
        }
    }

    /// A race's loser whose error travelled as an internal one (through `anyhow`) is still
    /// a 409 in words, never a 500 (the API's and the console's answers both go through
    /// this).
    pub fn settled(self) -> AppError {
        match self {
            AppError::Internal(cause)
                if cause
                    .chain()
                    .any(|e| e.downcast_ref::<sqlx::Error>().is_some_and(is_transient)) =>
            {
                tracing::warn!(error = ?cause, "a transaction met another one and was undone; answered 409");
                AppError::Conflict(CONCURRENT_CHANGE.into())
            }
            other => other,
        }
    }

    /// Seconds a client should wait before trying again, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyRequests { retry_after, .. } | AppError::Busy { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let this = self.settled();
        let status = this.status();
        let retry_after = this.retry_after();
        let (detail, errors) = match this {
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (
                    "an internal error occurred; it has been logged".to_string(),
                    Vec::new(),
                )
            }
            AppError::Validation(errors) => {
                let detail = AppError::Validation(errors.clone()).detail();
                (detail, errors)
            }
            // Every 422 names what it is about, even when no single field is to blame.
            AppError::Unprocessable(message) => {
                let errors = vec![FieldError::new("body", message.clone())];
                (message, errors)
            }
            AppError::Misconfigured(message) => {
                log_once(&message);
                (message, Vec::new())
            }
            other => (other.to_string(), Vec::new()),
        };
        let problem = Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = problem_response(&problem);
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

/// An operator's configuration mistake is logged the first time a request meets it, not on
/// every request after.
fn log_once(message: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    if !seen.iter().any(|m| m == message) && seen.len() < 100 {
        seen.push(message.to_string());
        tracing::error!(problem = message, "configuration error: fix it and restart");
    }
}

/// A problem as an `application/problem+json` response with its status.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_messages_name_the_field_on_both_backends() {
        assert_eq!(
            unique_violation_message("UNIQUE constraint failed: drivers.tlc_license_no", None),
            "tlc_license_no: a record with this value already exists"
        );
        assert_eq!(
            unique_violation_message("duplicate key", Some("vehicles_vin_key")),
            "vin: a record with this value already exists"
        );
        assert_eq!(
            unique_violation_message("duplicate key", Some("repair_invoices_repair_id_key")),
            "repair_id: a record with this value already exists"
        );
        assert_eq!(
            unique_violation_message("duplicate key", Some("leases_one_active_per_medallion")),
            "medallion_id: a record with this value already exists"
        );
    }
}
