//! Sign-in and sign-out: the same users, password checks, throttle and revocation as
//! `POST /auth/login`, with the session in an HttpOnly cookie.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::{cookie_value, session_cookie, Form, Page, PageError, Signed, PREFIX};
use crate::api::extract::{ClientAddress, RawQuery};
use crate::auth::service::LoginAttempt;
use crate::auth::session;
use crate::error::AppError;
use crate::state::AppState;

/// Only a console path of this server, so the sign-in page cannot send anyone elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with(&format!("{PREFIX}/"))
                && path.bytes().all(|b| b.is_ascii_graphic())
                && !path.starts_with("//")
                && !path.contains("://")
                && !path.contains('\\') =>
        {
            path.to_string()
        }
        _ => format!("{PREFIX}/"),
    }
}

fn render(
    next: &str,
    username: &str,
    error: Option<&str>,
    unsaved: bool,
    status: StatusCode,
) -> Response {
    Page {
        title: "Sign in",
        crumbs: &[],
        signed: None,
        section: "",
    }
    .render_with(
        status,
        html! {
            form.card.narrow method="post" action={ (PREFIX) "/sign-in" } {
                @if let Some(message) = error {
                    p.notice.error role="alert" { (message) }
                }
                @if unsaved {
                    p.notice.error role="alert" {
                        "Your session ended before the form was sent: nothing was saved. "
                        "Sign in to go back to the form and send it again."
                    }
                }
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="username" { "Username" }
                    input #username name="username" type="text" value=(username)
                        autocomplete="username" required autofocus;
                }
                div.field {
                    label for="password" { "Password" }
                    input #password name="password" type="password"
                        autocomplete="current-password" required;
                }
                button.primary type="submit" { "Sign in" }
            }
        },
    )
}

pub async fn form(query: RawQuery) -> Response {
    render(
        &safe_next(query.get("next")),
        "",
        None,
        query.get("unsaved") == Some("1"),
        StatusCode::OK,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Form::parse(&body);
    let next = safe_next(form.get("next"));
    let username = form.get("username").unwrap_or_default().to_string();
    // The one text rule: a NUL or another control character is refused at its field (it
    // never reaches the database, where PostgreSQL would refuse it with an error). `next`
    // is left alone: anything but a console path is replaced by the dashboard.
    if let Some((field, message)) = super::bad_form_text(&body, &["next"]) {
        let shown = if field == "username" {
            ""
        } else {
            username.as_str()
        };
        let label = if field == "password" {
            "Password"
        } else {
            "Username"
        };
        return Ok(render(
            &next,
            shown,
            Some(&format!("{label} {message}.")),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let attempt = LoginAttempt {
        username: &username,
        password: form
            .0
            .iter()
            .rev()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default(),
        address,
    };
    let signed_in = session::sign_in(
        &state.db,
        &state.login_guard,
        &attempt,
        state.config.token_ttl_seconds,
        state.clock.now(),
    )
    .await;
    match signed_in {
        Ok(signed_in) => {
            let cookie = super::session_cookie(
                &state,
                &signed_in.cookie_secret,
                state.config.token_ttl_seconds,
            );
            let mut response = super::see_other(&next);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(AppError::Unauthorized(_)) => Ok(render(
            &next,
            &username,
            Some("Unknown username or wrong password."),
            false,
            StatusCode::UNAUTHORIZED,
        )),
        Err(error @ (AppError::TooManyRequests { .. } | AppError::Busy { .. })) => {
            let status = error.status();
            Ok(render(
                &next,
                &username,
                Some(&error.to_string()),
                false,
                status,
            ))
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    signed: Signed,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    Form::parse(&body).check_csrf(&signed)?;
    if let Some(secret) = cookie_value(&headers) {
        session::sign_out(&state.db, &secret).await?;
    }
    let mut response = super::see_other(&format!("{PREFIX}/sign-in"));
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(response.into_response())
}
