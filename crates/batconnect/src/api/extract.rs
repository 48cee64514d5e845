//! Request extractors whose rejections use the API's problem+json shape.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};

/// `Json<T>` whose errors name the offending field: [`JsonBody`] read and parsed at once.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = JsonBody::from_request(req, state).await?;
        Ok(ApiJson(body.parse()?))
    }
}

/// The client's IP address, when the server knows it (it serves with connect info; an
/// in-process caller may not).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<ClientAddress>() {
            return Ok(*known);
        }
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

impl ClientAddress {
    /// The client's address: the peer's, unless the peer is a trusted proxy, when it is the
    /// right-most address of `X-Forwarded-For` that is not itself a trusted proxy (the
    /// left part of that header is whatever the client wrote, and is never believed).
    pub fn of(
        peer: Option<std::net::IpAddr>,
        forwarded_for: Option<&str>,
        trusted: &[std::net::IpAddr],
    ) -> ClientAddress {
        let Some(peer) = peer else {
            return ClientAddress(None);
        };
        if !trusted.contains(&peer) {
            return ClientAddress(Some(peer));
        }
        let mut client = peer;
        if let Some(list) = forwarded_for {
            for hop in list.rsplit(',').map(str::trim) {
                // An address may come with its port (`203.0.113.7:5123`, `[2001:db8::1]:443`).
                let parsed = hop
                    .parse::<std::net::IpAddr>()
                    .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|s| s.ip()));
                match parsed {
                    Ok(address) if trusted.contains(&address) => client = address,
                    Ok(address) => {
                        client = address;
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        ClientAddress(Some(client))
    }
}

/// A JSON body read now but parsed later, so a handler checks the caller's role before it
/// reports what is wrong with the body.
pub struct JsonBody(axum::body::Bytes, bool);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge(
                        "the request body is larger than this endpoint accepts".into(),
                    )
                } else {
                    AppError::BadRequest(format!("cannot read the request body: {}", e.body_text()))
                }
            })?;
        Ok(JsonBody(bytes, is_json))
    }
}

impl JsonBody {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The body as `T`: 415 without a JSON content type, 400 when it is not JSON, 422 when
    /// a string breaks the text rule ([`crate::api::clean`]) or a field is missing or of the
    /// wrong type, naming it.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        if !self.1 {
            return Err(AppError::UnsupportedMediaType(
                "the request needs the header Content-Type: application/json".into(),
            ));
        }
        let value: serde_json::Value = serde_json::from_slice(&self.0).map_err(|e| {
            AppError::BadRequest(format!("the request body is not valid JSON: {e}"))
        })?;
        let errors = crate::api::clean::check_json(&value);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        // Every request body is an object; serde would otherwise read `[1, 2]` as a struct's
        // fields in order and complain about the first one.
        if !value.is_object() {
            return Err(AppError::Validation(vec![FieldError::new(
                "body",
                "must be a JSON object",
            )]));
        }
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            AppError::Validation(vec![shape_error(&path, &inner)])
        })
    }
}

/// A body of the wrong shape, in words: the field (its path, `earnings[3].amount`, or the
/// missing one) and what it should be, not the deserializer's "expected struct … at line 1".
fn shape_error(path: &str, message: &str) -> FieldError {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next());
    if let Some(name) = missing {
        let field = if path == "." {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        return FieldError::new(field, "is required");
    }
    let field = if path == "." {
        "body".to_string()
    } else {
        path.to_string()
    };
    let wanted = message.split_once(", expected ").map(|(_, w)| w);
    let plain = match wanted {
        Some(w) if w.starts_with("struct ") || w.starts_with("a map") => {
            "must be a JSON object".to_string()
        }
        Some(w) if w.starts_with("a sequence") => "must be a JSON array".to_string(),
        Some(w) if w.starts_with("i64") || w.starts_with("u64") || w.starts_with("i32") => {
            "must be a whole number".to_string()
        }
        Some("a string") => "must be a string".to_string(),
        Some("a boolean") => "must be true or false".to_string(),
        _ => message.to_string(),
    };
    FieldError::new(field, plain)
}

/// Query parameters that take several values (repeated, or comma-separated).
pub const MULTI_VALUED: &[&str] = &[
    "status",
    "category",
    "entry_type",
    "repair_id",
    "invoice_number",
    "installment_id",
    "reference_id",
    "driver_name",
    "medallion_no",
    "lease_id",
    "vin",
    "workshop_type",
];

/// Raw query parameters as (name, value) pairs, in order; endpoints validate each one and
/// name it in their errors instead of relying on serde's messages.
pub struct RawQuery(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for RawQuery {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(pairs) =
            axum::extract::Query::<Vec<(String, String)>>::from_request_parts(parts, state)
                .await
                .map_err(|e: QueryRejection| AppError::BadRequest(e.body_text()))?;
        Ok(RawQuery(pairs))
    }
}

impl RawQuery {
    /// The query without blank values: a filter field left empty on a page means "any".
    pub fn filled(&self) -> RawQuery {
        RawQuery(
            self.0
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .cloned()
                .collect(),
        )
    }

    /// The last value given for `name`, if any and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// Every value of `name`, comma-separated lists flattened (`status=Open,Hold&status=Closed`).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Rejects parameters an endpoint does not know, so a typo is never silently ignored,
    /// and a single-valued parameter given twice or empty (`?page=1&page=2`, `?page=`), so
    /// no value is silently taken over another; the filters that take lists
    /// ([`MULTI_VALUED`]) may repeat.
    pub fn reject_unknown(&self, known: &[&str]) -> Result<(), AppError> {
        let mut errors: Vec<FieldError> = self
            .0
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, _)| {
                FieldError::new(
                    k.clone(),
                    format!("unknown parameter; known: {}", known.join(", ")),
                )
            })
            .collect();
        // A list filter given with nothing in it would silently filter nothing.
        for name in known.iter().filter(|n| MULTI_VALUED.contains(n)) {
            let blank = |v: &str| v.split(',').all(|item| item.trim().is_empty());
            if self.0.iter().any(|(k, v)| k == name && blank(v)) {
                errors.push(FieldError::new(
                    *name,
                    "is empty; give a value or leave the parameter out",
                ));
            }
        }
        for name in known.iter().filter(|n| !MULTI_VALUED.contains(n)) {
            let values: Vec<&str> = self
                .0
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect();
            if values.len() > 1 {
                errors.push(FieldError::new(
                    *name,
                    format!("given {} times; give it once", values.len()),
                ));
            } else if values.first().is_some_and(|v| v.trim().is_empty()) {
                errors.push(FieldError::new(
                    *name,
                    "is empty; give a value or leave the parameter out",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(errors))
        }
    }
}
