//! The API's front door: assembles every feature's router, the OpenAPI document and
//! Swagger UI, and the HTTP concerns around them (fallbacks, panics, request spans). Nothing
//! below it imports it.

mod health;
mod links;
mod openapi;
mod request_rules;
pub mod serve;

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::AppError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "BAT Connect Repairs", description = "Repair invoices, installment schedules, ledger and weekly driver statements for a taxi fleet.\n\nMoney is always a decimal string with exactly two places (\"1234.50\"); inputs accept a string or a number with at most two decimals. Dates are ISO 8601 (YYYY-MM-DD). Errors are RFC 9457 problem details."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "Vehicle Repairs", description = "Repair invoices and their weekly installments"),
        (name = "BPM", description = "Case engine: cases, steps, schema-validated submissions"),
        (name = "Ledger", description = "Centralized ledger: postings and balances"),
        (name = "DTR", description = "Weekly driver transaction receipts"),
        (name = "Fleet", description = "Drivers, medallions, vehicles, leases"),
        (name = "Reports", description = "Read-only figures: what repairs cost"),
        (name = "Workshops", description = "The workshops registry: who repairs the fleet, and the spend at each"),
        (name = "Auth", description = "Login and users"),
        (name = "Jobs", description = "Scheduled runs"),
        (name = "Health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document and the routes it describes.
pub fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let protected = OpenApiRouter::new()
        .merge(crate::auth::routes::router())
        .merge(crate::fleet::router())
        .merge(crate::workshops::routes::router())
        .merge(crate::reporting::routes::router())
        .merge(crate::bpm::routes::router())
        .merge(crate::repairs::routes::router())
        .merge(crate::ledger::routes::router())
        .merge(crate::jobs::routes::router())
        .merge(crate::exports::routes::router())
        .merge(crate::documents::routes::router(
            state.config.max_upload_bytes,
        ))
        .merge(crate::dtr::routes::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::middleware::require_auth,
        ));
    let (routes, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(crate::auth::routes::public_router())
        .merge(protected)
        .split_for_parts();
    openapi::document_problems(&mut document);
    let this_year = chrono::Datelike::year(&domain::calendar::local_date(
        state.clock.now(),
        state.config.timezone,
    ));
    request_rules::document_request_rules(&mut document, i64::from(this_year));
    (routes, document)
}

/// The console's pages under `/app`: the web kit's own (sign-in, assets) and each
/// feature's, with HTML error pages and the cross-site guard.
fn console(state: &AppState) -> Router<AppState> {
    let max_upload = state.config.max_upload_bytes;
    let pages = Router::new()
        .merge(crate::web::router())
        .merge(crate::repairs::pages::router(max_upload))
        .merge(crate::documents::pages::router(max_upload))
        .merge(crate::ledger::pages::router())
        .merge(crate::ledger::cashier_pages::router())
        .merge(crate::dtr::pages::router())
        .merge(crate::jobs::pages::router())
        .merge(crate::fleet::pages::router())
        .merge(crate::workshops::pages::router())
        .merge(crate::reporting::pages::router())
        .merge(crate::auth::pages::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::clean_forms,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::guard,
        ));
    // A form refused at the front door is answered with the page it came from, drawn by
    // these same pages (`web::clean_forms`), so they travel with each request.
    let again = crate::web::ConsolePages(pages.clone().with_state(state.clone()));
    pages.layer(axum::Extension(again))
}

pub fn router(state: AppState) -> Router {
    let (routes, openapi) = api(&state);
    let mut document = serde_json::to_value(&openapi).expect("the API document serializes");
    links::document_links(&mut document);
    routes
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", document))
        .merge(console(&state))
        .route(
            "/",
            axum::routing::get(|| async { axum::response::Redirect::to("/app/") }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(
            crate::api::clean::refuse_control_characters,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            client_address,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            refuse_declared_oversize,
        ))
        .layer(axum::middleware::from_fn(problems_and_headers))
        .layer(axum::middleware::from_fn(close_if_body_unread))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_else(|| "unmatched".into());
                    tracing::info_span!("request", method = %request.method(), route, uri = %request.uri())
                })
                .on_response(|response: &axum::response::Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_millis() as u64, "response");
                }),
        )
        .with_state(state)
}

/// The most body a route accepts (its `DefaultBodyLimit`; axum's 2 MiB elsewhere), for
/// refusing a declared `Content-Length` above it before any of the body is read. A route
/// with a smaller limit of its own still stops at its limit while reading.
fn body_limit_of(path: &str, max_upload: usize) -> usize {
    const AXUM_DEFAULT: usize = 2 * 1024 * 1024;
    if path.ends_with("/documents") || path.starts_with("/app/cases/") {
        max_upload + crate::documents::pages::FORM_OVERHEAD
    } else if path == "/app/fleet/import" {
        5 * 1024 * 1024 + 64 * 1024
    } else if path == "/app/earnings/upload" {
        AXUM_DEFAULT + 64 * 1024
    } else {
        AXUM_DEFAULT
    }
}

/// A declared `Content-Length` above what the route accepts is answered 413 at once,
/// before any of the body is read (and the connection is closed: the body is not wanted).
async fn refuse_declared_oversize(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit = body_limit_of(request.uri().path(), state.config.max_upload_bytes);
    if declared.is_some_and(|n| n > limit as u64) {
        let error = AppError::PayloadTooLarge(format!(
            "the request body is larger than this endpoint accepts ({limit} bytes at most)"
        ));
        let mut response = if is_page(request.uri().path()) {
            crate::web::layout::error_page(error)
        } else {
            error.into_response()
        };
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return response;
    }
    next.run(request).await
}

/// The client's address for the sign-in throttle: behind a trusted proxy
/// (`BAT_TRUSTED_PROXIES`), the one it forwarded for; otherwise the peer's.
async fn client_address(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !state.config.trusted_proxies.is_empty() {
        let peer = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let address = crate::api::extract::ClientAddress::of(
            peer,
            forwarded.as_deref(),
            &state.config.trusted_proxies,
        );
        request.extensions_mut().insert(address);
    }
    next.run(request).await
}

fn is_page(path: &str) -> bool {
    path == crate::web::PREFIX || path.starts_with("/app/")
}

/// A request answered before its body was read to the end (a 401 before the body, a 413
/// over the limit) leaves the rest of that body on the connection, so the connection cannot
/// carry another request: the response says `Connection: close`, and the client opens a
/// new one instead of failing its next request on this one.
async fn close_if_body_unread(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use futures_util::StreamExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let has_body = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map_or(
            request
                .headers()
                .contains_key(axum::http::header::TRANSFER_ENCODING),
            |n| n != "0",
        );
    if !has_body {
        return next.run(request).await;
    }
    let finished = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let marker = finished.clone();
    let tracked = body.into_data_stream().chain(
        futures_util::stream::once(async move {
            marker.store(true, Ordering::Release);
        })
        .filter_map(|_| async { None }),
    );
    let request = Request::from_parts(parts, axum::body::Body::from_stream(tracked));
    let mut response = next.run(request).await;
    if !finished.load(Ordering::Acquire) {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Every response: defensive headers; and a rejection that axum wrote as plain text (a path
/// parameter that does not parse, a malformed query string) becomes problem+json, like
/// every other error of the API.
async fn problems_and_headers(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let docs = request.uri().path().starts_with("/docs");
    let page = is_page(request.uri().path());
    let mut response = next.run(request).await;
    // Under /app an error is a page of the console, never problem+json (a query value
    // that is not UTF-8, a form-only URL opened with GET, …).
    let problem = page
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/problem+json"));
    if problem {
        let status = response.status();
        let detail = axum::body::to_bytes(std::mem::take(response.body_mut()), 64 * 1024)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|p| p["detail"].as_str().map(str::to_string))
            .unwrap_or_default();
        let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
        let connection = response.headers().get(header::CONNECTION).cloned();
        response = crate::web::layout::error_page(AppError::from_status(status, detail));
        for (name, value) in [
            (header::RETRY_AFTER, retry_after),
            (header::CONNECTION, connection),
        ] {
            if let Some(value) = value {
                response.headers_mut().insert(name, value);
            }
        }
    }
    let plain_error = !page
        && (response.status().is_client_error() || response.status().is_server_error())
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"));
    if plain_error {
        let status = response.status();
        let text = axum::body::to_bytes(std::mem::take(response.body_mut()), 64 * 1024)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        response = crate::error::problem_response(&crate::error::Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: text,
            errors: Vec::new(),
        });
    }
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The console's own forms send their origin (for the cross-site check); nothing
    // leaves for other sites.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(if page { "same-origin" } else { "no-referrer" }),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Swagger UI runs an inline start-up script and styles; nothing else needs them.
    let policy = if docs {
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
    } else if page {
        // The console: its own embedded assets only, forms only to itself.
        "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    if !docs && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/app/") {
        return crate::web::layout::error_page(AppError::NotFound(format!(
            "There is no page at {}.",
            uri.path()
        )));
    }
    AppError::NotFound(format!("no such path: {}", uri.path())).into_response()
}

async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/app/") {
        // A form's address opened as a page (a bookmark, a reload after a refusal, a link
        // shared): the page the form lives on.
        if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
            return crate::web::see_other(&crate::web::page_of_form(uri.path()));
        }
        return crate::web::layout::error_page(AppError::MethodNotAllowed);
    }
    AppError::MethodNotAllowed.into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::error!("handler panicked");
    AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}
