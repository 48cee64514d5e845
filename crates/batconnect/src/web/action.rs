//! A form action declared, not written. [`FormAction`] says who may send the form and
//! whether it is taken once; [`FormAction::open`] checks the session's CSRF token and the
//! role and answers a resent one-time form with its first result. The action's work is done
//! in the one transaction of [`Sent::begin`]; [`Sent::finish`] then, on success, commits it
//! (with the form's token) and sends a 303 to the result; on a refusal it draws the form's page again, 422, with **every** error
//! beside its field and **every** typed value in its input ([`super::refused`]), whatever
//! the page's own code shows by default.

use axum::http::StatusCode;
use axum::response::Response;

use super::once::{self, Once};
use super::refused::Refused;
use super::{FieldErrors, Form, PageError, Signed};
use crate::db::Tx;
use crate::error::AppError;
use crate::state::AppState;
use domain::status::Role;

/// Who may send a form, and whether it is taken once (forms that move money or run a job).
pub struct FormAction {
    roles: &'static [Role],
    once: Option<String>,
}

/// Where a done action leads, and how its result is named when the same one-time form
/// comes again ("the void of posting 42").
pub struct Done {
    pub location: String,
    pub label: String,
}

impl Done {
    pub fn to(location: impl Into<String>, label: impl Into<String>) -> Done {
        Done {
            location: location.into(),
            label: label.into(),
        }
    }
}

impl FormAction {
    /// A form the given roles may send.
    pub fn for_roles(roles: &'static [Role]) -> FormAction {
        FormAction { roles, once: None }
    }

    /// Taken once per one-time token ([`super::once`]); `endpoint` names the action and
    /// its record (`void:42`).
    pub fn once(mut self, endpoint: impl Into<String>) -> FormAction {
        self.once = Some(endpoint.into());
        self
    }

    /// Reads an urlencoded form sent by `signed`.
    pub async fn open<'a>(
        self,
        state: &'a AppState,
        signed: &'a Signed,
        body: &[u8],
    ) -> Result<Sent<'a>, PageError> {
        self.open_form(state, signed, Form::parse(body), b"").await
    }

    /// A form already read (a multipart one, its file as `extra` bytes of the request the
    /// one-time token is bound to): CSRF, role, then a resent form's first result.
    pub async fn open_form<'a>(
        self,
        state: &'a AppState,
        signed: &'a Signed,
        form: Form,
        extra: &[u8],
    ) -> Result<Sent<'a>, PageError> {
        form.check_csrf(signed)?;
        signed.user().require(self.roles)?;
        let once = match &self.once {
            Some(endpoint) => Once::of(&form, signed, endpoint, extra),
            None => None,
        };
        if let Some(first) = once::replayed(once.as_ref(), &state.db).await? {
            return Err(PageError::Answer(Box::new(first)));
        }
        Ok(Sent {
            state,
            signed,
            form,
            once,
        })
    }
}

/// A form that passed its checks, ready to act.
pub struct Sent<'a> {
    pub state: &'a AppState,
    pub signed: &'a Signed,
    pub form: Form,
    once: Option<Once>,
}

impl Sent<'_> {
    /// The last non-blank value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.form.get(name)
    }

    /// The value of `name` as sent, blank kept: a field emptied on purpose clears what it
    /// holds; an absent field reads as blank.
    pub fn raw(&self, name: &str) -> String {
        self.form.raw(name).unwrap_or_default().to_string()
    }

    /// For an action that commits its own work (a statement run, a finalize): keeps the
    /// form's token once it is done, and leads to its result ([`once::remember`]).
    pub async fn remember(self, done: Done) -> Response {
        once::remember(
            self.once.as_ref(),
            &self.state.db,
            &done.location,
            &done.label,
            self.state.clock.now(),
        )
        .await
    }

    /// For an action that must not start twice (a job run): takes the form's token before
    /// it starts. `Some` is the answer to give instead: a twin took it first.
    pub async fn claim(&self, done: &Done) -> Result<Option<Response>, PageError> {
        once::claim(
            self.once.as_ref(),
            &self.state.db,
            &done.location,
            &done.label,
            self.state.clock.now(),
        )
        .await
    }

    /// The one transaction of the action.
    pub async fn begin(&self) -> Result<Tx, PageError> {
        Ok(self.state.db.begin().await.map_err(AppError::from)?)
    }

    /// Ends the action done in `tx`. Done: commits it with the form's token and leads to
    /// `done(result)`. Refused (a validation error, a conflict naming a field): nothing is
    /// kept and `page` draws the form again with every error and every typed value.
    pub async fn finish<T>(
        self,
        tx: Tx,
        outcome: Result<T, AppError>,
        done: impl FnOnce(&T) -> Done,
        page: impl AsyncFnOnce(FieldErrors) -> Result<Response, PageError>,
    ) -> Result<Response, PageError> {
        match outcome {
            Ok(result) => {
                let done = done(&result);
                self.commit(tx, done).await
            }
            Err(error) => {
                drop(tx);
                self.refuse(FieldErrors::from_error(error)?, page).await
            }
        }
    }

    /// Commits the action done in `tx` with the form's token and leads to its result.
    pub async fn commit(self, tx: Tx, done: Done) -> Result<Response, PageError> {
        once::finish(
            self.once.as_ref(),
            &self.state.db,
            tx,
            &done.location,
            &done.label,
            self.state.clock.now(),
        )
        .await
    }

    /// The form's page drawn again, 422, with `errors` beside their fields and what was
    /// typed in every input. Nothing was saved.
    pub async fn refuse(
        &self,
        errors: FieldErrors,
        page: impl AsyncFnOnce(FieldErrors) -> Result<Response, PageError>,
    ) -> Result<Response, PageError> {
        let refused = Refused::of_form(errors.0.clone(), &self.form);
        let mut shown = refused.show(page(errors)).await?;
        *shown.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(shown)
    }
}
