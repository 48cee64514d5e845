//! HTTP for the ledger (tag "Ledger").

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::interim::{InterimPaymentOutcome, InterimPaymentRequest, LeaseRef};
use super::interim_list::{self, InterimPaymentDetail, InterimPaymentSummary, InterimQuery};
use super::model::{
    Balance, ManualObligationRequest, ObligationOutcome, Posting, VoidOutcome, VoidRequest,
};
use super::payments::{self, EarningsRecorded, EarningsRequest};
use super::query::{balances_filter, label_balances, label_postings, postings_filter};
use super::{repo, service};
use crate::api::extract::{JsonBody, RawQuery};
use crate::api::idempotency::{Idempotency, Reply};
use crate::auth::model::{CurrentUser, FINANCE, READERS};
use crate::db::Page;
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_postings))
        .routes(routes!(list_balances))
        .routes(routes!(create_obligation))
        .routes(routes!(void_posting))
        .routes(routes!(record_earnings))
        .routes(routes!(interim_payment, list_interim_payments))
        .routes(routes!(export_interim_payments))
        .routes(routes!(interim_payment_detail))
        .routes(routes!(interim_payment_receipt))
}

/// Ledger postings, newest first.
#[utoipa::path(get, path = "/ledger/postings", tag = "Ledger",
    params(("driver_id" = Option<String>, Query, description = "internal id, or a part of the driver id"), ("lease_id" = Option<String>, Query, description = "internal id, or a part of the lease id"),
           ("vehicle_id" = Option<String>, Query, description = "internal id, or a part of the VIN"), ("medallion_id" = Option<String>, Query, description = "internal id, or a part of the medallion number"),
           ("driver_name" = Option<String>, Query, description = "a part of the driver's name"), ("vin" = Option<String>, Query, description = "a part of the VIN"), ("medallion_number" = Option<String>, Query, description = "a part of the medallion number"),
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
    let (filter, page) = postings_filter(state.db.reader(), &query).await?;
    let (mut items, total) = repo::list_postings(state.db.reader(), &filter, page).await?;
    label_postings(state.db.reader(), &mut items).await?;
    Ok(Json(Page::new(items, total, page)))
}

/// Obligation balances, by due date.
#[utoipa::path(get, path = "/ledger/balances", tag = "Ledger",
    params(("driver_id" = Option<String>, Query, description = "internal id, or a part of the driver id"), ("lease_id" = Option<String>, Query, description = "internal id, or a part of the lease id"),
           ("vehicle_id" = Option<String>, Query, description = "internal id, or a part of the VIN"), ("medallion_id" = Option<String>, Query, description = "internal id, or a part of the medallion number"),
           ("driver_name" = Option<String>, Query, description = "a part of the driver's name"), ("vin" = Option<String>, Query, description = "a part of the VIN"), ("medallion_number" = Option<String>, Query, description = "a part of the medallion number"),
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
    let (filter, page) = balances_filter(state.db.reader(), &query).await?;
    let (mut items, total) = repo::list_balances(state.db.reader(), &filter, page).await?;
    label_balances(state.db.reader(), &mut items).await?;
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
    let mut tx = state.db.begin().await?;
    let lease_id = match payments::lease_key(&request.lease_id) {
        Ok(key) => crate::fleet::repo::lease_keys(&mut tx, &[key.as_str()])
            .await?
            .get(&key)
            .copied()
            .ok_or_else(|| AppError::field("lease_id", format!("no lease {key}")))?,
        Err(message) => return Err(AppError::field("lease_id", message)),
    };
    let obligation = request.parse(lease_id, state.clock.now(), state.config.timezone)?;
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
    if request.earnings.is_empty() || request.earnings.len() > 10_000 {
        return Err(AppError::field("earnings", "give 1 to 10000 rows"));
    }
    let mut tx = state.db.begin().await?;
    let recorded = payments::record_earnings_rows(
        &mut tx,
        &request.earnings,
        &user.username,
        now,
        state.config.timezone,
    )
    .await?;
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

/// An interim payment as the cashier takes it: amount, payment date, method (a check with
/// its number), memo. The amounts you choose per balance are applied first (one larger than
/// what is left on its balance is 409, never redirected); the rest by the payment hierarchy,
/// oldest due first, over the lease's open balances; what no balance needs is kept as the
/// lease's credit for its next statement. A numbered receipt with a PDF. Accepts an
/// `Idempotency-Key` header.
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
    let lease_id = match &payment.lease {
        LeaseRef::Id(id) => *id,
        LeaseRef::Key(key) => crate::fleet::repo::lease_pk(state.db.reader(), key)
            .await?
            .ok_or_else(|| AppError::field("lease_id", format!("no lease {key}")))?,
    };
    let mut tx = state.db.begin().await?;
    let outcome = super::interim::take_payment(
        &mut tx,
        lease_id,
        &payment,
        None,
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

/// Interim payments, newest payment date first: each with its lease, driver, medallion,
/// method, what it paid and any credit it holds. Filters: `lease_id` (internal id or a part
/// of the lease id), `driver_name` (part, any case), `from_date`/`to_date` (payment date),
/// `payment_method`, `receipt_number` (part), `status` (POSTED or VOIDED); several values
/// separated by commas.
#[utoipa::path(get, path = "/ledger/interim-payments", tag = "Ledger",
    params(("lease_id" = Option<String>, Query), ("driver_name" = Option<String>, Query),
           ("from_date" = Option<String>, Query, description = "paid on or after (YYYY-MM-DD)"), ("to_date" = Option<String>, Query),
           ("payment_method" = Option<String>, Query), ("receipt_number" = Option<String>, Query), ("status" = Option<String>, Query),
           ("sort_by" = Option<String>, Query, description = "payment_date (default), receipt_number, amount, payment_method, lease_id, driver_name, medallion_number, status, created_on"),
           ("sort_order" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<InterimPaymentSummary>), (status = 422, body = Problem)))]
async fn list_interim_payments(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<InterimPaymentSummary>>, AppError> {
    user.require(READERS)?;
    let q = InterimQuery::parse(&query)?;
    let (items, total) = repo::interim_payments(state.db.reader(), &q).await?;
    Ok(Json(Page::new(items, total, q.page)))
}

/// Interim payments as a file (CSV, XLSX or PDF): the list's filters and sort plus
/// `format`; every matching payment (`page`/`per_page` ignored).
#[utoipa::path(get, path = "/ledger/interim-payments/export", tag = "Ledger",
    params(("format" = Option<String>, Query, description = "csv (default), excel (or xlsx), pdf"),
           ("lease_id" = Option<String>, Query), ("driver_name" = Option<String>, Query),
           ("from_date" = Option<String>, Query), ("to_date" = Option<String>, Query),
           ("payment_method" = Option<String>, Query), ("receipt_number" = Option<String>, Query), ("status" = Option<String>, Query),
           ("sort_by" = Option<String>, Query), ("sort_order" = Option<String>, Query),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"))),
        (status = 422, body = Problem)))]
async fn export_interim_payments(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<axum::response::Response, AppError> {
    user.require(READERS)?;
    interim_file(&state, &query).await
}

/// The interim payments export for the list's filters plus `format`; the console's list
/// downloads the same file.
pub(crate) async fn interim_file(
    state: &AppState,
    query: &RawQuery,
) -> Result<axum::response::Response, AppError> {
    let format = crate::exports::Format::parse(query)?;
    let q = InterimQuery::parse(&crate::exports::list_params(query, &["format"]))?;
    let export = crate::exports::tables::interim_payments(
        q.filter,
        &q.order_by,
        format!("{} — Interim payments", state.config.fleet_name),
        crate::exports::describe_filters(query),
    );
    let slot = crate::exports::stream::take_slot(&state.export_slots)?;
    let stamp = crate::exports::Stamp::now(state);
    crate::exports::stream::respond(state.db.reader(), export, format, stamp, slot).await
}

/// One interim payment by its receipt number: the payment, what it paid balance by balance
/// (and what each has left now), any credit it holds, and its void if voided.
#[utoipa::path(get, path = "/ledger/interim-payments/{receipt_number}", tag = "Ledger",
    params(("receipt_number" = String, Path)),
    responses((status = 200, body = InterimPaymentDetail), (status = 404, body = Problem)))]
async fn interim_payment_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(receipt_number): Path<String>,
) -> Result<Json<InterimPaymentDetail>, AppError> {
    user.require(READERS)?;
    repo::interim_payment(state.db.reader(), &receipt_number)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("no interim payment {receipt_number}")))
}

/// The interim payment's receipt for the driver, a PDF made from the payment as it is now
/// (a voided payment says so).
#[utoipa::path(get, path = "/ledger/interim-payments/{receipt_number}/receipt", tag = "Ledger",
    params(("receipt_number" = String, Path)),
    responses((status = 200, description = "The receipt, as an attachment named receipt_<receipt_number>.pdf", content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = Problem)))]
async fn interim_payment_receipt(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(receipt_number): Path<String>,
) -> Result<axum::response::Response, AppError> {
    user.require(READERS)?;
    let detail = repo::interim_payment(state.db.reader(), &receipt_number)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no interim payment {receipt_number}")))?;
    let stamp = crate::exports::Stamp::now(&state);
    let pdf =
        interim_list::receipt_pdf(&detail, &state.config.fleet_name, stamp.now, stamp.timezone);
    let file: String = receipt_number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(crate::exports::stream::file_response(
        axum::body::Body::from(pdf),
        "application/pdf",
        &format!("receipt_{file}.pdf"),
    ))
}

/// Void a posting: a reversal of opposite sign; the original becomes VOIDED. An obligation's
/// balance is closed as void; a payment's (earnings, interim) allocations are reversed and
/// the balances it paid reopen. Repair installment obligations are voided by cancelling
/// their invoice. A payment that a finalized statement counted (its lease's statement of
/// its week) may be voided: that statement stays as it is (`finalized_statements` names
/// it) and the lease's first statement not yet finalized carries the correction under
/// "Adjustments to earlier weeks" (`carried_as`). Accepts an `Idempotency-Key` header.
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
    // A void undoes money: the reason has to say why, for whoever reads the ledger later.
    let reason_length = request.reason.trim().chars().count();
    if !(10..=500).contains(&reason_length) {
        return Err(AppError::field(
            "reason",
            "must say why in 10 to 500 characters",
        ));
    }
    let idempotency =
        Idempotency::from_request(&headers, format!("ledger.void.{id}"), user.id, &body)?;
    if let Some(reply) = idempotency.replay(&state.db).await? {
        return Ok(reply);
    }
    let mut tx = state.db.begin().await?;
    // Through the statements' corrections: a void a finalized statement counted is carried
    // by the lease's next statement.
    let outcome = crate::dtr::corrections::void_posting(
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
