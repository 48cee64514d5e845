//! Request extractors whose rejections use the API's problem+json shape.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};

/// `Json<T>` whose errors name the offending field.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field ("missing field `username`" / "... at line 1").
            let text = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or(e.body_text());
            let field = text
                .split('`')
                .nth(1)
                .filter(|_| text.contains("field"))
                .unwrap_or("body")
                .to_string();
            AppError::Validation(vec![FieldError::new(field, text)])
        }
        JsonRejection::JsonSyntaxError(e) => {
            let text = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or(e.body_text());
            AppError::BadRequest(format!("the request body is not valid JSON: {text}"))
        }
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest(
            "the request needs the header Content-Type: application/json".into(),
        ),
        other => AppError::BadRequest(other.body_text()),
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
                AppError::BadRequest(format!("cannot read the request body: {}", e.body_text()))
            })?;
        Ok(JsonBody(bytes, is_json))
    }
}

impl JsonBody {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        if !self.1 {
            return Err(AppError::BadRequest(
                "the request needs the header Content-Type: application/json".into(),
            ));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&self.0);
        let value = T::deserialize(&mut deserializer).and_then(|v| deserializer.end().map(|_| v));
        value.map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Data => {
                    let text = e.to_string();
                    let field = text
                        .split('`')
                        .nth(1)
                        .filter(|_| text.contains("field"))
                        .unwrap_or("body")
                        .to_string();
                    AppError::Validation(vec![FieldError::new(field, text)])
                }
                _ => AppError::BadRequest(format!("the request body is not valid JSON: {e}")),
            }
        })
    }
}

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

    /// Rejects parameters an endpoint does not know, so a typo is never silently ignored.
    pub fn reject_unknown(&self, known: &[&str]) -> Result<(), AppError> {
        let unknown: Vec<FieldError> = self
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
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(unknown))
        }
    }
}
