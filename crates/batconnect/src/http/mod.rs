//! The API's front door: assembles every feature's router, the OpenAPI document and
//! Swagger UI, and the HTTP concerns around them (fallbacks, panics, request spans). Nothing
//! below it imports it.

mod health;

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
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(crate::auth::routes::public_router())
        .merge(protected)
        .split_for_parts()
}

pub fn router(state: AppState) -> Router {
    let (routes, openapi) = api(&state);
    routes
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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

async fn not_found(uri: axum::http::Uri) -> AppError {
    AppError::NotFound(format!("no such path: {}", uri.path()))
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::error!("handler panicked");
    AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}
