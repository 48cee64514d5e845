//! A form that moves money (or runs a job) is taken once. Each such form carries a one-time
//! token (`_once`), made when the form is first shown and kept while it is shown again
//! with errors or a review. Sending it again — a double click, Back and resend, a second
//! tab — with the same fields records nothing new and leads to the first result; with
//! other fields it is refused (409) with a link to the first result. A form opened afresh
//! gets a new token. It is the API's `Idempotency-Key` (`api::idempotency`), stored in the
//! action's own transaction: the token exists exactly when the action does.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

use super::{layout, see_other, Form, PageError, Signed};
use crate::api::idempotency::Idempotency;
use crate::db::{Db, Tx};
use crate::error::AppError;

pub const FIELD: &str = "_once";

/// The hidden token of a form shown for the first time — or, on the page of a refused form,
/// the token it was sent with (tokens are bound to their action, so another form on that
/// page carrying it acts on its own).
pub fn fresh() -> Markup {
    let token = super::refused::typed(FIELD)
        .filter(|t| !t.is_empty() && t.len() <= 64)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    html! { input type="hidden" name=(FIELD) value=(token); }
}

/// The token of a form shown again (after an error or a review): the one it was sent with.
pub fn kept(form: &Form) -> Markup {
    match form.get(FIELD) {
        Some(token) => html! { input type="hidden" name=(FIELD) value=(token); },
        None => fresh(),
    }
}

/// A sent form's token, bound to what it asks for.
pub struct Once(Idempotency);

impl Once {
    /// The token of `form` sent to `endpoint` (a name for the action and its record, e.g.
    /// `console.void:42`), with `extra` bytes (an uploaded file) as part of the request.
    /// `None` when the form carries no token (a form from before tokens; it acts as sent).
    pub fn of(form: &Form, signed: &Signed, endpoint: &str, extra: &[u8]) -> Option<Once> {
        let token = form.get(FIELD)?;
        if token.len() > 64 {
            return None;
        }
        let mut fields: Vec<&(String, String)> = form
            .0
            .iter()
            .filter(|(k, _)| k != FIELD && k != super::CSRF_FIELD)
            .collect();
        fields.sort();
        let mut request = Vec::new();
        for (k, v) in fields {
            request.extend_from_slice(k.as_bytes());
            request.push(0);
            request.extend_from_slice(v.trim().as_bytes());
            request.push(0);
        }
        request.extend_from_slice(extra);
        Some(Once(Idempotency::for_form(
            token,
            format!("console:{endpoint}"),
            signed.user().id,
            &request,
        )))
    }

    /// The answer when this token was used already: the first result (same fields), or a
    /// 409 page naming it (other fields).
    pub async fn replay(&self, db: &Db) -> Result<Option<Response>, PageError> {
        let Some((same, _, first)) = self.0.stored(db).await? else {
            return Ok(None);
        };
        let location = first["location"]
            .as_str()
            .unwrap_or(super::PREFIX)
            .to_string();
        if same {
            return Ok(Some(see_other(&location)));
        }
        let label = first["label"].as_str().unwrap_or("the first result");
        Ok(Some(layout::error_page_with(
            AppError::Conflict(format!(
                "This form was already sent with other values, and that was recorded ({label}); \
                 nothing was done this time. Open a new form to do something else."
            )),
            Some((&location, label)),
        )))
    }

    /// Commits the action with its token. `Twin` when a twin of this form sent at the same
    /// instant committed first: this one is undone, and the answer is the twin's result.
    async fn store(
        &self,
        db: &Db,
        tx: Tx,
        location: &str,
        label: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Stored, PageError> {
        let body = serde_json::json!({"location": location, "label": label});
        match self
            .0
            .commit_or_twin(db, tx, StatusCode::SEE_OTHER, body, now)
            .await
        {
            Ok(None) => Ok(Stored::Mine),
            // A twin with the same fields was taken first: its result.
            Ok(Some((_, axum::Json(first)))) => Ok(Stored::Twin(see_other(
                first["location"].as_str().unwrap_or(super::PREFIX),
            ))),
            // A twin with other fields won: say so, naming its result. Anything else (the
            // database undid this transaction) is the error it is.
            Err(error @ AppError::Conflict(_)) => match self.replay(db).await? {
                Some(response) => Ok(Stored::Twin(response)),
                None => Err(error.into()),
            },
            Err(other) => Err(other.into()),
        }
    }
}

/// What became of a form's token when its action was committed.
pub enum Stored {
    /// This form's action was recorded with its token.
    Mine,
    /// A twin of this form was taken first; this is the answer to give.
    Twin(Response),
}

/// Commits `tx` and leads to `location`, through the form's token when it has one.
pub async fn finish(
    once: Option<&Once>,
    db: &Db,
    tx: Tx,
    location: &str,
    label: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Response, PageError> {
    match commit_then_show(once, db, tx, location, label, now).await? {
        Some(twin) => Ok(twin),
        None => Ok(see_other(location)),
    }
}

/// Commits `tx` with the form's token for a handler that shows its result itself; `Some`
/// is the answer to give instead when a twin of this form was taken first.
pub async fn commit_then_show(
    once: Option<&Once>,
    db: &Db,
    tx: Tx,
    location: &str,
    label: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Response>, PageError> {
    let Some(once) = once else {
        tx.commit().await.map_err(AppError::from)?;
        return Ok(None);
    };
    match once.store(db, tx, location, label, now).await? {
        Stored::Mine => Ok(None),
        Stored::Twin(response) => Ok(Some(response)),
    }
}

/// The first result when this form's token was used already (see [`Once::replay`]).
pub async fn replayed(once: Option<&Once>, db: &Db) -> Result<Option<Response>, PageError> {
    match once {
        Some(once) => once.replay(db).await,
        None => Ok(None),
    }
}

/// Keeps the token of an action that commits its own work (a statement run, a finalize)
/// once it is done. The action stands whatever happens here: a failure to keep the token
/// is logged, and the answer still leads to `location`.
pub async fn remember(
    once: Option<&Once>,
    db: &Db,
    location: &str,
    label: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let kept = match db.begin().await {
        Ok(tx) => commit_then_show(once, db, tx, location, label, now).await,
        Err(error) => Err(AppError::from(error).into()),
    };
    match kept {
        Ok(Some(twin)) => twin,
        Ok(None) => see_other(location),
        Err(_) => {
            tracing::warn!(
                location,
                "an action was done but its form's token could not be kept"
            );
            see_other(location)
        }
    }
}

/// Takes the token before an action that must not start twice (a job run): `Some` is the
/// answer to give instead (a twin took it first); `None` means go ahead.
pub async fn claim(
    once: Option<&Once>,
    db: &Db,
    location: &str,
    label: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Response>, PageError> {
    let tx = db.begin().await.map_err(AppError::from)?;
    commit_then_show(once, db, tx, location, label, now).await
}
