//! The console's kit: what every feature's pages share — the signed-in session (cookie),
//! CSRF on every form, HTML error pages and redirects to sign-in, the layout and the
//! formats people read (`$1,234.56`, `MM/DD/YYYY`), and the embedded assets. Pages live
//! beside each feature's API (`repairs/pages.rs` next to `repairs/routes.rs`) and call the
//! same services; `http` assembles them under [`PREFIX`].

pub mod action;
pub mod chart;
pub mod layout;
pub mod list;
pub mod once;
pub mod refused;
mod sign_in;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::auth::session::{self, Session};
use crate::auth::CurrentUser;
use crate::error::{AppError, FieldError};
use crate::state::AppState;

pub use layout::Page;

/// Every console page lives under this prefix, so no page path meets an API path (routes
/// spell it out: `/app/…`).
pub const PREFIX: &str = "/app";
const COOKIE: &str = "bat_session";
const CSRF_FIELD: &str = "_csrf";

/// The kit's own pages (sign-in, sign-out) and assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(|| async { see_other("/app/") }))
        .route("/app/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/app/sign-out", axum::routing::post(sign_in::sign_out))
        .route("/app/assets/console.css", get(assets::css))
        .route("/app/assets/console.js", get(assets::js))
}

/// A page that could not be shown: a redirect to sign-in, or an HTML error page.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): to the sign-in page, then back to `next`.
    /// `unsaved`: a form was sent without a session, so the sign-in page says nothing was
    /// saved (what was typed cannot come back: its CSRF token ended with the session).
    SignIn {
        next: String,
        unsaved: bool,
    },
    App(AppError),
    /// A ready answer that ends the request early (a resent one-time form's first result).
    Answer(Box<Response>),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> PageError {
        PageError::App(e)
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> PageError {
        PageError::App(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next, unsaved } => {
                let next = form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
                let unsaved = if unsaved { "&unsaved=1" } else { "" };
                Redirect::to(&format!("{PREFIX}/sign-in?next={next}{unsaved}")).into_response()
            }
            PageError::App(error) => layout::error_page(error),
            PageError::Answer(response) => *response,
        }
    }
}

/// The signed-in user of a page request and their session's CSRF token.
pub struct Signed(pub Session);

impl Signed {
    pub fn user(&self) -> &CurrentUser {
        &self.0.user
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // After sign-in, back to the page asked for; for a form sent, to the page it was
        // sent from (sign-in keeps only a path of this console).
        let unsaved = parts.method != Method::GET && parts.method != Method::HEAD;
        let next = if unsaved {
            let page = form_page(&parts.headers, &parts.uri, state);
            let pages = parts.extensions.get::<ConsolePages>().cloned();
            match (page, pages) {
                (Some(page), Some(pages)) if pages.is_a_page(&page).await => Some(page),
                // A form shown again at its own address (a refused one) is no page to go
                // back to: the dashboard then.
                _ => None,
            }
        } else {
            parts.uri.path_and_query().map(|p| p.as_str().to_string())
        }
        .unwrap_or_else(|| format!("{PREFIX}/"));
        let sign_in = || PageError::SignIn {
            next: next.clone(),
            unsaved,
        };
        let Some(secret) = cookie_value(&parts.headers) else {
            return Err(sign_in());
        };
        match session::resume(&state.db, &secret, state.clock.now()).await? {
            Some(session) => Ok(Signed(session)),
            None => Err(sign_in()),
        }
    }
}

/// The path and query of the page a form was sent from (its `Referer`), when that page is
/// a console page of this server (`BAT_PUBLIC_URL`'s origin when set, as behind a proxy the
/// `Host` header may name the upstream) and its address holds no control character.
fn form_page(headers: &HeaderMap, uri: &axum::http::Uri, state: &AppState) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let origin = match state.config.public_url.as_deref() {
        Some(public) => public.splitn(4, '/').take(3).collect::<Vec<_>>().join("/"),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .or_else(|| uri.authority().map(|a| a.as_str()))?;
            let scheme = if referer.starts_with("https://") {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{host}")
        }
    };
    let path = referer.strip_prefix(origin.as_str())?;
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    (path.starts_with(&format!("{PREFIX}/"))
        && path.bytes().all(|b| b.is_ascii_graphic())
        && crate::api::clean::check_text("page", &decoded).is_ok())
    .then(|| path.to_string())
}

fn session_cookie(state: &AppState, secret: &str, max_age: i64) -> HeaderValue {
    let secure = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let value = format!(
        "{COOKIE}={secret}; Path={PREFIX}; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).expect("cookie is ASCII")
}

/// A form body (`application/x-www-form-urlencoded`), as (name, value) pairs in order.
#[derive(Clone)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The last non-blank value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// The last value of `name` as sent, blank kept (`None` when the form has no such field).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Passes when the form carries this session's CSRF token; a forged or cross-site
    /// form gets 403.
    pub fn check_csrf(&self, session: &Signed) -> Result<(), PageError> {
        let sent = self.get(CSRF_FIELD).unwrap_or_default();
        if constant_time_eq(sent.as_bytes(), session.0.csrf_token.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::App(AppError::Forbidden(
                "this form has expired or did not come from this console; reload the page and try again"
                    .into(),
            )))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The console's pages, to draw the page a refused form came from ([`clean_forms`]).
#[derive(Clone)]
pub struct ConsolePages(pub axum::Router);

impl ConsolePages {
    /// Whether `path` is a page (a GET route) rather than a form's address: asked without a
    /// session, a page answers with the way to sign-in, a form's address with 405.
    async fn is_a_page(&self, path: &str) -> bool {
        let Ok(uri) = path.parse::<axum::http::Uri>() else {
            return false;
        };
        let mut probe = Request::new(axum::body::Body::empty());
        *probe.uri_mut() = uri;
        match tower::ServiceExt::oneshot(self.0.clone(), probe).await {
            Ok(answer) => answer.status().is_redirection() || answer.status().is_success(),
            Err(never) => match never {},
        }
    }
}

/// The one text rule (`api::clean`) at the console's front door: a form field holding a
/// NUL or another control character (line breaks and tabs only in free text) is refused
/// with a page naming the field, before any handler — or the database — sees it. The
/// sign-in form shows the error beside its field itself.
pub async fn clean_forms(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_form = request.method() == Method::POST
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form || request.uri().path() == "/app/sign-in" {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // Console forms without a file are small; a bigger one is not a form of ours.
    let bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return layout::error_page(AppError::PayloadTooLarge(
                "the form is larger than 1 MB".into(),
            ))
        }
    };
    if let Some((field, message)) = bad_form_text(&bytes, &[]) {
        // Shown on the page the form was sent from, beside its field, with what was typed;
        // without that page (no Referer, or one that is not a page: a refused form shown at
        // its own address), on its own.
        let page = form_page(&parts.headers, &parts.uri, &state)
            .and_then(|page| page.parse::<axum::http::Uri>().ok());
        let pages = parts.extensions.get::<ConsolePages>().cloned();
        if let (Some(page), Some(ConsolePages(pages))) = (page, pages) {
            let mut again = Request::new(axum::body::Body::empty());
            *again.uri_mut() = page;
            // A fresh request: the POST's routing (its path parameters) must not carry over.
            for name in [
                header::COOKIE,
                header::HOST,
                header::USER_AGENT,
                header::ACCEPT,
            ] {
                if let Some(value) = parts.headers.get(&name) {
                    again.headers_mut().insert(name, value.clone());
                }
            }
            let refused =
                refused::Refused::new(field.clone(), message.clone(), &Form::parse(&bytes));
            let shown = refused.show(tower::ServiceExt::oneshot(pages, again)).await;
            let Ok(mut shown) = shown;
            let is_html = shown
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            if shown.status() == StatusCode::OK && is_html {
                *shown.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return shown;
            }
        }
        return layout::error_page(AppError::Validation(vec![FieldError::new(
            field,
            format!("{message}; nothing was saved: go back, correct it and send the form again"),
        )]));
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// The first field of an urlencoded form that is not UTF-8 or breaks the text rule (the
/// fields named in `skip` aside).
pub fn bad_form_text(body: &[u8], skip: &[&str]) -> Option<(String, String)> {
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut halves = pair.splitn(2, |b| *b == b'=');
        let (name, value) = (
            halves.next().unwrap_or_default(),
            halves.next().unwrap_or_default(),
        );
        let decode = |raw: &[u8]| {
            let spaced: Vec<u8> = raw
                .iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect();
            percent_encoding::percent_decode(&spaced)
                .decode_utf8()
                .map(|t| t.into_owned())
        };
        let Ok(name) = decode(name) else {
            return Some(("form".into(), "a field name is not valid UTF-8 text".into()));
        };
        if skip.contains(&name.as_str()) {
            continue;
        }
        let Ok(value) = decode(value) else {
            return Some((name, "is not valid UTF-8 text".into()));
        };
        if let Err(message) = crate::api::clean::check_text("name", &name) {
            return Some(("form".into(), format!("a field name {message}")));
        }
        if let Err(message) = crate::api::clean::check_text(&name, &value) {
            return Some((name, message));
        }
    }
    None
}

/// Refuses a state-changing request that a browser says came from another site, before
/// the CSRF token is even looked at.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let headers = request.headers();
        // `Sec-Fetch-Site` is the browser's own word on where the form came from; an
        // `Origin` naming another site says the same for browsers without it. (`null` is
        // what a privacy setting sends; the CSRF token still decides then.)
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let cross_site = matches!(fetch_site, Some("cross-site" | "same-site"));
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .filter(|origin| *origin != "null");
        let foreign_origin = origin.is_some_and(|origin| !is_own_origin(&state, &request, origin));
        if cross_site || foreign_origin {
            return layout::error_page(AppError::Forbidden(
                "a form from another site cannot act in this console".into(),
            ));
        }
    }
    next.run(request).await
}

/// Whether `origin` is this service: the origin of `BAT_PUBLIC_URL` when it is set (behind
/// a proxy the `Host` header may name the upstream), else the host the request was sent to.
fn is_own_origin(state: &AppState, request: &Request, origin: &str) -> bool {
    if let Some(public) = state.config.public_url.as_deref() {
        let public_origin: String = public.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        return origin.eq_ignore_ascii_case(&public_origin);
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    let origin_host = origin.split("://").nth(1).unwrap_or(origin);
    host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
}

/// The errors of a refused form, by field, for showing next to each input.
#[derive(Debug, Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Validation errors become field errors; anything else is one error for the form.
    pub fn from_error(error: AppError) -> Result<FieldErrors, PageError> {
        match error {
            AppError::Validation(errors) => Ok(FieldErrors(errors)),
            // A conflict that names its field (`invoice_number: …`, a unique value taken)
            // is shown beside that field.
            AppError::Conflict(message) => Ok(FieldErrors(vec![match message.split_once(": ") {
                Some((field, rest))
                    if !field.is_empty()
                        && field.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
                {
                    FieldError::new(field, rest)
                }
                _ => FieldError::new("form", message),
            }])),
            AppError::Unprocessable(message) => {
                Ok(FieldErrors(vec![FieldError::new("form", message)]))
            }
            other => Err(PageError::App(other)),
        }
    }

    /// A refused upload, shown beside the file field (`file`) whatever its reason.
    pub fn from_file_refusal(error: AppError) -> FieldErrors {
        match error {
            AppError::Validation(errors) => FieldErrors(errors),
            other => {
                let message = other.to_string();
                let message = message.strip_prefix("file: ").unwrap_or(&message);
                FieldErrors(vec![FieldError::new("file", message)])
            }
        }
    }

    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field || e.pointer.as_deref() == Some(&format!("/data/{field}")))
            .map(|e| e.message.as_str())
    }

    /// Errors that belong to no input shown on the form.
    pub fn general<'a>(&'a self, shown: &'a [&str]) -> impl Iterator<Item = &'a FieldError> {
        self.0.iter().filter(move |e| {
            !shown
                .iter()
                .any(|f| e.field == *f || e.pointer.as_deref() == Some(&format!("/data/{f}")))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A multipart form carrying one small file (a CSV upload), read into memory: its text
/// fields and the part named `file` (`None` when it is missing or empty). A form larger
/// than `max` bytes is refused with 413; the CSRF token must come before the file, so
/// nothing of a forged form is read further.
pub async fn read_form_with_small_file(
    signed: &Signed,
    multipart: Result<
        axum::extract::multipart::Multipart,
        axum::extract::multipart::MultipartRejection,
    >,
    max: usize,
) -> Result<(Form, Option<Vec<u8>>), PageError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        AppError::BadRequest(format!("cannot read the form: {}", e.body_text()))
    };
    let mut multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut form = Form(Vec::new());
    let mut file = None;
    let mut total = 0usize;
    while let Some(mut part) = multipart.next_field().await.map_err(unreadable)? {
        let name = part.name().unwrap_or_default().to_string();
        if name == "file" {
            form.check_csrf(signed)?;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = part.chunk().await.map_err(unreadable)? {
            total += chunk.len();
            if total > max {
                return Err(AppError::PayloadTooLarge(format!(
                    "the form is larger than {} KB",
                    max / 1024
                ))
                .into());
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "file" {
            file = Some(bytes).filter(|b| !b.is_empty());
        } else {
            let text = String::from_utf8(bytes)
                .map_err(|_| AppError::field(name.clone(), "is not valid UTF-8 text"))?;
            crate::api::clean::check_text(&name, &text)
                .map_err(|message| AppError::field(name.clone(), message))?;
            form.0.push((name, text));
        }
    }
    form.check_csrf(signed)?;
    Ok((form, file))
}

/// A money field as people type it (`$1,234.56`, `1,234.56`, `$450`) in the form the API
/// takes (`1234.56`). Anything else is left as typed, for the service to refuse in words;
/// the API itself stays strict.
pub fn money_typed(text: &str) -> String {
    let trimmed = text.trim();
    let bare = trimmed.strip_prefix('$').unwrap_or(trimmed).trim_start();
    let (whole, cents) = match bare.split_once('.') {
        Some((whole, cents)) => (whole, Some(cents)),
        None => (bare, None),
    };
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped = groups.len() == 1
        || (!groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
        return trimmed.to_string();
    }
    let digits = groups.concat();
    match cents {
        Some(cents) => format!("{digits}.{cents}"),
        None => digits,
    }
}

/// The page a form-only address belongs to: where a GET of that address leads.
pub fn page_of_form(path: &str) -> String {
    let parts: Vec<&str> = path
        .trim_start_matches(PREFIX)
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let page = match parts.as_slice() {
        ["repairs", "new"] => "/repairs".to_string(),
        ["earnings", "upload"] => "/earnings".to_string(),
        ["fleet", "import"] | ["fleet", "new", ..] => "/fleet/new".to_string(),
        ["admin", "users", ..] => "/admin/users".to_string(),
        ["dtrs", "generate"] => "/dtrs".to_string(),
        ["jobs", ..] => "/jobs".to_string(),
        ["sign-out"] | [] => "/".to_string(),
        [parent @ .., _] => format!("/{}", parent.join("/")),
    };
    format!("{PREFIX}{page}")
}

/// 303 to a page after a form did its work (so reload never posts twice).
pub fn see_other(path: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, path.to_string())],
    )
        .into_response()
}

mod assets {
    use axum::http::header;
    use axum::response::IntoResponse;

    const CSS: &str = include_str!("assets/console.css");
    const JS: &str = include_str!("assets/console.js");

    pub async fn css() -> impl IntoResponse {
        (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            CSS,
        )
    }

    pub async fn js() -> impl IntoResponse {
        (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            JS,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_taken_as_people_type_it() {
        assert_eq!(money_typed("$1,234.56"), "1234.56");
        assert_eq!(money_typed(" 1,234.56 "), "1234.56");
        assert_eq!(money_typed("$450"), "450");
        assert_eq!(money_typed("$ 12,345,678.9"), "12345678.9");
        assert_eq!(money_typed("1234.56"), "1234.56");
        // Not a grouping people write: left as typed, for the service to refuse in words.
        assert_eq!(money_typed("1,23.45"), "1,23.45");
        assert_eq!(money_typed("12.345"), "12.345");
        assert_eq!(money_typed("abc"), "abc");
        assert_eq!(money_typed("$-5"), "$-5");
    }

    #[test]
    fn a_form_address_leads_to_its_page() {
        assert_eq!(page_of_form("/app/repairs/new"), "/app/repairs");
        assert_eq!(page_of_form("/app/earnings/upload"), "/app/earnings");
        assert_eq!(page_of_form("/app/fleet/import"), "/app/fleet/new");
        assert_eq!(page_of_form("/app/fleet/new/driver"), "/app/fleet/new");
        assert_eq!(
            page_of_form("/app/fleet/leases/4/terminate"),
            "/app/fleet/leases/4"
        );
        assert_eq!(
            page_of_form("/app/admin/users/3/disable"),
            "/app/admin/users"
        );
        assert_eq!(
            page_of_form("/app/ledger/postings/9/void"),
            "/app/ledger/postings/9"
        );
        assert_eq!(
            page_of_form("/app/jobs/dtr.generate_weekly/run"),
            "/app/jobs"
        );
    }
}
