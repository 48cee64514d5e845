//! HTTP for the ledger (tag "Ledger").

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use domain::calendar::parse_date;
use domain::ledger::{BalanceStatus, Category, PostingStatus};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::{
    Balance, ManualObligationRequest, ObligationOutcome, Posting, VoidOutcome, VoidRequest,
};
use super::payments::{
    self, EarningsRecorded, EarningsRequest, InterimPaymentOutcome, InterimPaymentRequest,
};
use super::{repo, service};
use crate::api::extract::{JsonBody, RawQuery};
use crate::api::idempotency::{Idempotency, Reply};
use crate::auth::model::{CurrentUser, FINANCE, READERS};
use crate::db::filter::{Arg, Where};
use crate::db::{Page, PageRequest};
use crate::error::{AppError, FieldError, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_postings))
        .routes(routes!(list_balances))
        .routes(routes!(create_obligation))
        .routes(routes!(void_posting))
        .routes(routes!(record_earnings))
        .routes(routes!(interim_payment))
}

const COMMON: &[&str] = &[
    "page",
    "per_page",
    "driver_id",
    "lease_id",
    "vehicle_id",
    "medallion_id",
    "category",
    "status",
    "from_date",
    "to_date",
    "reference_id",
];

/// Shared ledger filters; `date_column` is what the date range applies to.
fn ledger_filter(
    query: &RawQuery,
    status_words: Vec<&'static str>,
    date_column: &str,
    extra: &[&str],
) -> Result<(Where, PageRequest), AppError> {
    let known: Vec<&str> = COMMON.iter().chain(extra.iter()).copied().collect();
    query.reject_unknown(&known)?;
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    let mut errors = Vec::new();
    let mut filter = Where::default();
    for name in ["driver_id", "lease_id", "vehicle_id", "medallion_id"] {
        let mut ids = Vec::new();
        for v in query.list(name) {
            match v.parse::<i64>() {
                Ok(id) => ids.push(id),
                Err(_) => errors.push(FieldError::new(name, format!("'{v}' is not a numeric id"))),
            }
        }
        filter.any_of_int(name, &ids);
    }
    let categories = query.list("category");
    for c in &categories {
        if Category::parse(c).is_none() {
            errors.push(FieldError::new(
                "category",
                format!("'{c}' is not one of: {}", Category::all_words().join(", ")),
            ));
        }
    }
    filter.any_of("category", &categories);
    let statuses = query.list("status");
    for s in &statuses {
        if !status_words.contains(&s.as_str()) {
            errors.push(FieldError::new(
                "status",
                format!("'{s}' is not one of: {}", status_words.join(", ")),
            ));
        }
    }
    filter.any_of("status", &statuses);
    for (name, op) in [("from_date", ">="), ("to_date", "<=")] {
        if let Some(raw) = query.get(name) {
            match parse_date(raw) {
                // Timestamps are RFC 3339 text: "to" a date means up to the end of that day.
                Ok(d) if op == "<=" => filter.compare(
                    &format!("substr({date_column}, 1, 10)"),
                    op,
                    Arg::Text(d.to_string()),
                ),
                Ok(d) => filter.compare(date_column, op, Arg::Text(d.to_string())),
                Err(e) => errors.push(FieldError::new(name, e.to_string())),
            }
        }
    }
    if errors.is_empty() {
        Ok((filter, page))
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The filters of `GET /ledger/postings` (also its export).
pub(crate) fn postings_filter(query: &RawQuery) -> Result<(Where, PageRequest), AppError> {
    let (mut filter, page) = ledger_filter(
        query,
        PostingStatus::all_words(),
        "created_on",
        &["entry_type"],
    )?;
    filter.any_of("entry_type", &query.list("entry_type"));
    filter.any_of("reference_id", &query.list("reference_id"));
    Ok((filter, page))
}

/// The filters of `GET /ledger/balances` (also its export).
pub(crate) fn balances_filter(query: &RawQuery) -> Result<(Where, PageRequest), AppError> {
    let (mut filter, page) = ledger_filter(query, BalanceStatus::all_words(), "due_date", &[])?;
    // A balance carries its obligation's reference; the postings' index finds it.
    filter.in_subquery_any_of(
        "obligation_posting_id",
        "SELECT r.id FROM ledger_postings r",
        "r.reference_id",
        &query.list("reference_id"),
    );
    Ok((filter, page))
}

/// Ledger postings, newest first.
#[utoipa::path(get, path = "/ledger/postings", tag = "Ledger",
    params(("driver_id" = Option<i64>, Query), ("lease_id" = Option<i64>, Query), ("vehicle_id" = Option<i64>, Query), ("medallion_id" = Option<i64>, Query),
           ("category" = Option<String>, Query), ("status" = Option<String>, Query, description = "POSTED or VOIDED"),
           ("entry_type" = Option<String>, Query, description = "OBLIGATION, EARNINGS, INTERIM_PAYMENT, CREDIT, REVERSAL"),
           ("from_date" = Option<String>, Query, description = "created on or after (YYYY-MM-DD)"), ("to_date" = Option<String>, Query),
           ("reference_id" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<Posting>), (status = 422, body = Problem)))]
async fn list_postings(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<Posting>>, AppError> {
    user.require(READERS)?;
    let (filter, page) = postings_filter(&query)?;
    let (items, total) = repo::list_postings(state.db.reader(), &filter, page).await?;
    Ok(Json(Page::new(items, total, page)))
}

/// Obligation balances, by due date.
#[utoipa::path(get, path = "/ledger/balances", tag = "Ledger",
    params(("driver_id" = Option<i64>, Query), ("lease_id" = Option<i64>, Query), ("vehicle_id" = Option<i64>, Query), ("medallion_id" = Option<i64>, Query),
           ("category" = Option<String>, Query), ("status" = Option<String>, Query, description = "OPEN, CLOSED or VOIDED"),
           ("from_date" = Option<String>, Query, description = "due on or after (YYYY-MM-DD)"), ("to_date" = Option<String>, Query),
           ("reference_id" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<Balance>), (status = 422, body = Problem)))]
async fn list_balances(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<Balance>>, AppError> {
    user.require(READERS)?;
    let (filter, page) = balances_filter(&query)?;
    let (items, total) = repo::list_balances(state.db.reader(), &filter, page).await?;
    Ok(Json(Page::new(items, total, page)))
}

/// Record a manual obligation (Lease, Taxes, EZPass, PVB, TLC, Loan, Misc, Cancellation Fee)
/// against a lease's driver manager, with a reason.
#[utoipa::path(post, path = "/ledger/obligations", tag = "Ledger", request_body = ManualObligationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")),
    responses((status = 201, body = ObligationOutcome), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_obligation(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Reply, AppError> {
    user.require(FINANCE)?;
    let request: ManualObligationRequest = body.parse()?;
    let idempotency =
        Idempotency::from_request(&headers, "ledger.obligations".into(), user.id, &body)?;
    if let Some(reply) = idempotency.replay(&state.db).await? {
        return Ok(reply);
    }
    let obligation = request.parse(state.clock.now(), state.config.timezone)?;
    let mut tx = state.db.begin().await?;
    let outcome =
        service::manual_obligation(&mut tx, &obligation, &user, state.clock.now()).await?;
    idempotency
        .commit(
            &state.db,
            tx,
            StatusCode::CREATED,
            to_json(&outcome)?,
            state.clock.now(),
        )
        .await
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(value).map_err(|e| AppError::Internal(e.into()))
}

/// Record weekly earnings per lease (bulk; all rows or none). One per lease and week: a
/// second submission is refused (409) — void the first to correct it. Earnings are applied
/// to the lease's balances by the payment hierarchy when the week's DTRs are generated.
/// Accepts an `Idempotency-Key` header.
#[utoipa::path(post, path = "/ledger/earnings", tag = "Ledger", request_body = EarningsRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")),
    responses((status = 201, body = Vec<EarningsRecorded>), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_earnings(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Reply, AppError> {
    user.require(FINANCE)?;
    let request: EarningsRequest = body.parse()?;
    let idempotency =
        Idempotency::from_request(&headers, "ledger.earnings".into(), user.id, &body)?;
    if let Some(reply) = idempotency.replay(&state.db).await? {
        return Ok(reply);
    }
    let now = state.clock.now();
    let rows = payments::parse_earnings(
        &request.earnings,
        domain::calendar::current_payment_period(now, state.config.timezone),
    )?;
    let mut tx = state.db.begin().await?;
    let recorded = payments::record_earnings(&mut tx, &rows, &user.username, now).await?;
    idempotency
        .commit(
            &state.db,
            tx,
            StatusCode::CREATED,
            to_json(&recorded)?,
            state.clock.now(),
        )
        .await
}

/// An interim payment applied to the balances you name (bypassing the hierarchy); a
/// balance cannot be over-paid. Accepts an `Idempotency-Key` header.
#[utoipa::path(post, path = "/ledger/interim-payments", tag = "Ledger", request_body = InterimPaymentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")),
    responses((status = 201, body = InterimPaymentOutcome), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn interim_payment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: JsonBody,
) -> Result<Reply, AppError> {
    user.require(FINANCE)?;
    let request: InterimPaymentRequest = body.parse()?;
    let idempotency =
        Idempotency::from_request(&headers, "ledger.interim-payments".into(), user.id, &body)?;
    if let Some(reply) = idempotency.replay(&state.db).await? {
        return Ok(reply);
    }
    let payment = request.parse()?;
    let mut tx = state.db.begin().await?;
    let outcome = payments::interim_payment(
        &mut tx,
        &payment,
        &user.username,
        state.clock.now(),
        state.config.timezone,
    )
    .await?;
    idempotency
        .commit(
            &state.db,
            tx,
            StatusCode::CREATED,
            to_json(&outcome)?,
            state.clock.now(),
        )
        .await
}

/// Void a posting: a reversal of opposite sign; the original becomes VOIDED. An obligation's
/// balance is closed as void; a payment's (earnings, interim) allocations are reversed and
/// the balances it paid reopen. Repair installment obligations are voided by cancelling
/// their invoice. Accepts an `Idempotency-Key` header.
#[utoipa::path(post, path = "/ledger/postings/{id}/void", tag = "Ledger", request_body = VoidRequest,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")),
    responses((status = 200, body = VoidOutcome), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn void_posting(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: JsonBody,
) -> Result<Reply, AppError> {
    user.require(FINANCE)?;
    let request: VoidRequest = body.parse()?;
    let idempotency =
        Idempotency::from_request(&headers, format!("ledger.void.{id}"), user.id, &body)?;
    if let Some(reply) = idempotency.replay(&state.db).await? {
        return Ok(reply);
    }
    let mut tx = state.db.begin().await?;
    let outcome = service::void_posting(
        &mut tx,
        state.db.backend(),
        id,
        &request.reason,
        service::VoidSource::Finance,
        &user.username,
        state.clock.now(),
    )
    .await?;
    idempotency
        .commit(
            &state.db,
            tx,
            StatusCode::OK,
            to_json(&outcome)?,
            state.clock.now(),
        )
        .await
}
