//! HTTP for vehicle repairs (tag "Vehicle Repairs", prefix `/payments/vehicle-repairs`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::status::{InstallmentStatus, InvoiceStatus, LeaseType, WorkshopType};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::jobs::{InstallmentPostResult, PostingReport};
use super::lifecycle::{Action, LifecycleOutcome, LifecycleRequest};
use super::model::{InstallmentItem, InvoiceDetail, InvoiceList};
use super::query::{InstallmentQuery, InvoiceQuery};
use super::{repo, service};
use crate::api::extract::{JsonBody, RawQuery};
use crate::auth::model::{CurrentUser, FINANCE, FINANCE_OR_OPERATIONS, OPERATORS, READERS};
use crate::bpm::model::CaseCreated;
use crate::db::Page;
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub use super::model::CASE_PREFIX;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_case))
        .routes(routes!(list_invoices))
        .routes(routes!(list_installments))
        .routes(routes!(repayment_matrix))
        .routes(routes!(invoice_detail))
        .routes(routes!(post_installments))
        .routes(routes!(invoice_receipt, regenerate_receipt))
        .routes(routes!(hold_invoice))
        .routes(routes!(resume_invoice))
        .routes(routes!(cancel_invoice))
        .routes(routes!(renumber_invoice))
}

/// Correct an invoice's workshop invoice number (finance or operations), audited with the
/// reason: a typo, or one of two invoices whose numbers clash on their letters and digits.
/// Refused (409) once any installment of it is posted, and for a cancelled invoice; a
/// number another open invoice has is refused at its field (422).
#[utoipa::path(post, path = "/payments/vehicle-repairs/{repair_id}/invoice-number", tag = "Vehicle Repairs",
    request_body = super::numbers::RenumberRequest, params(("repair_id" = String, Path)),
    responses((status = 200, body = super::numbers::Renumbered), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn renumber_invoice(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(repair_id): Path<String>,
    body: JsonBody,
) -> Result<Json<super::numbers::Renumbered>, AppError> {
    user.require(FINANCE_OR_OPERATIONS)?;
    let request: super::numbers::RenumberRequest = body.parse()?;
    let mut tx = state.db.begin().await?;
    let done = super::numbers::renumber(
        &mut tx,
        &repair_id,
        &request,
        &user.username,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(done))
}

async fn lifecycle(
    state: &AppState,
    user: &CurrentUser,
    repair_id: &str,
    action: Action,
    body: &JsonBody,
) -> Result<Json<LifecycleOutcome>, AppError> {
    user.require(FINANCE_OR_OPERATIONS)?;
    let request: LifecycleRequest = body.parse()?;
    let mut tx = state.db.begin().await?;
    let outcome = super::lifecycle::change(
        &mut tx,
        repair_id,
        action,
        &request.reason,
        &user.username,
        state.clock.now(),
        state.config.timezone,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(outcome))
}

/// Put an Open invoice on Hold: the weekly posting skips its installments until resumed.
#[utoipa::path(post, path = "/payments/vehicle-repairs/{repair_id}/hold", tag = "Vehicle Repairs", request_body = super::lifecycle::HoldRequest,
    params(("repair_id" = String, Path)), responses((status = 200, body = LifecycleOutcome), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn hold_invoice(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(repair_id): Path<String>,
    body: JsonBody,
) -> Result<Json<LifecycleOutcome>, AppError> {
    lifecycle(&state, &user, &repair_id, Action::Hold, &body).await
}

/// Resume a held invoice: its due installments are posted at the next run.
#[utoipa::path(post, path = "/payments/vehicle-repairs/{repair_id}/resume", tag = "Vehicle Repairs", request_body = LifecycleRequest,
    params(("repair_id" = String, Path)), responses((status = 200, body = LifecycleOutcome), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn resume_invoice(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(repair_id): Path<String>,
    body: JsonBody,
) -> Result<Json<LifecycleOutcome>, AppError> {
    lifecycle(&state, &user, &repair_id, Action::Resume, &body).await
}

/// Cancel an invoice while nothing is paid; posted installments are voided in the ledger
/// by reversal. Its invoice number becomes free again.
#[utoipa::path(post, path = "/payments/vehicle-repairs/{repair_id}/cancel", tag = "Vehicle Repairs", request_body = LifecycleRequest,
    params(("repair_id" = String, Path)), responses((status = 200, body = LifecycleOutcome), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel_invoice(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(repair_id): Path<String>,
    body: JsonBody,
) -> Result<Json<LifecycleOutcome>, AppError> {
    lifecycle(&state, &user, &repair_id, Action::Cancel, &body).await
}

/// Body of the manual posting: exactly one of the two.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct PostInstallmentsRequest {
    pub installment_ids: Option<Vec<String>>,
    pub post_all_due: Option<bool>,
    /// Run date for `post_all_due` and the due check (YYYY-MM-DD), today or earlier;
    /// default today.
    pub as_of: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PostInstallmentsResponse {
    pub posted: i64,
    pub results: Vec<InstallmentPostResult>,
    pub report: Option<PostingReport>,
    /// `post_all_due`: the run recorded in `GET /jobs/runs`.
    pub run_id: Option<i64>,
}

/// Post installments to the ledger now (finance): chosen ones, each with its result, or
/// everything due. Posting twice never creates a second obligation.
#[utoipa::path(post, path = "/payments/vehicle-repairs/ledger/post-installment", tag = "Vehicle Repairs", request_body = PostInstallmentsRequest,
    responses((status = 200, body = PostInstallmentsResponse), (status = 422, body = Problem)))]
async fn post_installments(
    State(state): State<AppState>,
    user: CurrentUser,
    body: JsonBody,
) -> Result<Json<PostInstallmentsResponse>, AppError> {
    user.require(FINANCE)?;
    let request: PostInstallmentsRequest = body.parse()?;
    let as_of = crate::jobs::model::run_date(
        request.as_of.as_deref(),
        domain::calendar::local_date(state.clock.now(), state.config.timezone),
    )?;
    let actor = user.username.as_str();
    match (request.installment_ids, request.post_all_due) {
        (Some(ids), None | Some(false)) if !ids.is_empty() && ids.len() <= 1000 => {
            let results =
                super::jobs::post_installments(&state.db, &ids, as_of, actor, state.clock.now())
                    .await?;
            let posted = results.iter().filter(|r| r.posted).count() as i64;
            Ok(Json(PostInstallmentsResponse {
                posted,
                results,
                report: None,
                run_id: None,
            }))
        }
        (Some(_), None | Some(false)) => Err(AppError::field(
            "installment_ids",
            "give 1 to 1000 installment ids",
        )),
        (None, Some(true)) => {
            // A run like the Sunday one, on record with who asked for it.
            let ctx = state.job_context();
            let requester = crate::jobs::runner::Requester {
                trigger: domain::status::JobTrigger::Api,
                username: actor,
            };
            let run_id = crate::jobs::runner::run_now(
                &ctx,
                crate::jobs::model::POST_DUE_INSTALLMENTS,
                as_of,
                requester,
            )
            .await
            .map_err(crate::jobs::runner::failure)?;
            let run = crate::jobs::repo::by_id(state.db.reader(), run_id)
                .await?
                .ok_or_else(|| AppError::NotFound("run vanished".into()))?;
            let report: PostingReport = run
                .counts
                .and_then(|c| serde_json::from_value(c).ok())
                .unwrap_or_default();
            Ok(Json(PostInstallmentsResponse {
                posted: report.posted,
                results: Vec::new(),
                report: Some(report),
                run_id: Some(run_id),
            }))
        }
        _ => Err(AppError::field(
            "installment_ids",
            "give exactly one of installment_ids or post_all_due: true",
        )),
    }
}

/// One bracket of the repayment matrix: totals over `over` up to `up_to` (inclusive) repay
/// `weekly` a week.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MatrixBracket {
    #[schema(value_type = String, example = "200.00")]
    pub over: domain::money::Money,
    /// Null on the last bracket: no upper bound.
    #[schema(value_type = Option<String>, example = "500.00")]
    pub up_to: Option<domain::money::Money>,
    /// Null: the whole amount in one installment.
    #[schema(value_type = Option<String>, example = "100.00")]
    pub weekly: Option<domain::money::Money>,
    /// The rule in words, e.g. "over $200.00 up to $500.00: $100.00 a week".
    pub description: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MatrixView {
    pub brackets: Vec<MatrixBracket>,
    /// Whether the defaults or `BAT_REPAYMENT_MATRIX` are in force.
    pub configured: bool,
}

/// The repayment matrix in force: the weekly installment by invoice total. New invoices
/// are scheduled by it; an invoice keeps the schedule it was created with.
#[utoipa::path(get, path = "/payments/vehicle-repairs/matrix", tag = "Vehicle Repairs",
    responses((status = 200, body = MatrixView)))]
async fn repayment_matrix(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<MatrixView>, AppError> {
    user.require(READERS)?;
    let matrix = &state.config.repayment_matrix;
    let mut over = domain::money::Money::ZERO;
    let mut brackets = Vec::new();
    for b in matrix.brackets() {
        let range = match b.up_to {
            Some(up_to) if over.is_zero() => format!("up to {}", reports::usd(up_to.cents())),
            Some(up_to) => format!(
                "over {} up to {}",
                reports::usd(over.cents()),
                reports::usd(up_to.cents())
            ),
            None => format!("over {}", reports::usd(over.cents())),
        };
        let rule = match b.weekly {
            Some(weekly) => format!("{} a week", reports::usd(weekly.cents())),
            None => "the whole amount in one installment".to_string(),
        };
        brackets.push(MatrixBracket {
            over,
            up_to: b.up_to,
            weekly: b.weekly,
            description: format!("{range}: {rule}"),
        });
        over = b.up_to.unwrap_or(over);
    }
    Ok(Json(MatrixView {
        brackets,
        configured: *matrix != domain::matrix::RepaymentMatrix::default(),
    }))
}

/// Start the "Create Repair Invoice" workflow: opens an `RPRINV` case.
#[utoipa::path(post, path = "/payments/vehicle-repairs/create-case", tag = "Vehicle Repairs", operation_id = "create_repair_case",
    responses((status = 201, body = CaseCreated), (status = 403, body = Problem)))]
async fn create_case(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<(StatusCode, Json<CaseCreated>), AppError> {
    let mut tx = state.db.begin().await?;
    let case_no = crate::bpm::service::create_case(
        &mut tx,
        &state.flows,
        CASE_PREFIX,
        &user,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CaseCreated {
            message: "Repair invoice case created".into(),
            case_no,
        }),
    ))
}

/// Repair invoices: filters (comma-separated values match any), sort and pagination.
#[utoipa::path(get, path = "/payments/vehicle-repairs", tag = "Vehicle Repairs",
    params(
        ("page" = Option<i64>, Query, description = "≥ 1, default 1"),
        ("per_page" = Option<i64>, Query, description = "1–100, default 20"),
        ("sort_by" = Option<String>, Query, description = "repair_id, invoice_number, invoice_date (default), date, driver_name, medallion_no, lease_type, workshop_type, amount, status"),
        ("sort_order" = Option<String>, Query, description = "asc or desc (default)"),
        ("repair_id" = Option<String>, Query), ("invoice_number" = Option<String>, Query),
        ("from_invoice_date" = Option<String>, Query, description = "YYYY-MM-DD"), ("to_invoice_date" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("lease_type" = Option<String>, Query, description = "dov, long-term, short-term, shift-lease, medallion-only"),
        ("workshop_type" = Option<String>, Query, description = "Big Apple Workshop, External Workshop"),
        ("workshop_id" = Option<i64>, Query, description = "the workshop's id in the registry (/workshops)"),
        ("from_total_amount" = Option<String>, Query), ("to_total_amount" = Option<String>, Query),
        ("status" = Option<String>, Query, description = "Draft, Open, Closed, Hold, Cancelled"),
        ("driver_name" = Option<String>, Query, description = "partial, any case"),
        ("tlc_license_no" = Option<String>, Query, description = "the driver's TLC license, partial"),
        ("plate_number" = Option<String>, Query, description = "the vehicle's plate, partial, any case"),
        ("medallion_no" = Option<String>, Query), ("lease_id" = Option<String>, Query), ("vin" = Option<String>, Query),
    ),
    responses((status = 200, body = InvoiceList), (status = 422, body = Problem)))]
async fn list_invoices(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<InvoiceList>, AppError> {
    user.require(READERS)?;
    let q = InvoiceQuery::parse(&query, true, state.db.backend())?;
    let (items, total) = repo::list_invoices(state.db.reader(), &q).await?;
    let page = Page::new(items, total, q.page);
    Ok(Json(InvoiceList {
        items: page.items,
        total_items: page.total_items,
        page: page.page,
        per_page: page.per_page,
        total_pages: page.total_pages,
        status_list: InvoiceStatus::all_words(),
        lease_type_list: LeaseType::all_words(),
        workshop_type_list: WorkshopType::all_words(),
        installment_status_list: InstallmentStatus::all_words(),
    }))
}

/// Installments across invoices, by week.
#[utoipa::path(get, path = "/payments/vehicle-repairs/fetch/installments", tag = "Vehicle Repairs",
    params(
        ("repair_id" = Option<String>, Query), ("lease_id" = Option<String>, Query, description = "internal id or lease id"),
        ("driver_id" = Option<String>, Query, description = "internal id or driver id"),
        ("medallion_id" = Option<String>, Query, description = "internal id or medallion number"),
        ("vehicle_id" = Option<String>, Query, description = "internal id or VIN"),
        ("status" = Option<String>, Query, description = "Scheduled, Posted, Paid"),
        ("from_week" = Option<String>, Query), ("to_week" = Option<String>, Query),
        ("sort_by" = Option<String>, Query, description = "week (default; also week_start_date)"),
        ("sort_order" = Option<String>, Query, description = "asc (default) or desc, by week"),
        ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query),
    ),
    responses((status = 200, body = Page<InstallmentItem>), (status = 422, body = Problem)))]
async fn list_installments(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<InstallmentItem>>, AppError> {
    user.require(READERS)?;
    let q = InstallmentQuery::parse(&query, state.db.backend())?;
    let (items, total) = repo::list_installments(state.db.reader(), &q).await?;
    Ok(Json(Page::new(items, total, q.page)))
}

/// One invoice: totals, cards, and the schedule with prior balance and balance.
#[utoipa::path(get, path = "/payments/vehicle-repairs/{repair_id}", tag = "Vehicle Repairs", params(("repair_id" = String, Path)),
    responses((status = 200, body = InvoiceDetail), (status = 404, body = Problem)))]
async fn invoice_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(repair_id): Path<String>,
) -> Result<Json<InvoiceDetail>, AppError> {
    user.require(READERS)?;
    Ok(Json(service::detail(state.db.reader(), &repair_id).await?))
}

/// The repair receipt (PDF).
///
/// Fleet header, invoice, driver, vehicle, lease, totals and the full schedule with
/// status. Stored when the invoice is created; made and stored now if it is missing.
#[utoipa::path(get, path = "/payments/vehicle-repairs/{repair_id}/receipt", tag = "Vehicle Repairs", params(("repair_id" = String, Path)),
    responses((status = 200, description = "The receipt, as an attachment named receipt_<repair_id>.pdf", content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = Problem)))]
async fn invoice_receipt(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(repair_id): Path<String>,
) -> Result<axum::response::Response, AppError> {
    user.require(READERS)?;
    let receipts = super::receipt::Receipts::from_state(&state);
    let pdf =
        super::receipt::fetch(receipts, &repair_id, &user.username, state.clock.now()).await?;
    Ok(crate::exports::stream::file_response(
        axum::body::Body::from(pdf),
        "application/pdf",
        &format!("receipt_{repair_id}.pdf"),
    ))
}

/// What regenerating a receipt produced.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReceiptGenerated {
    pub repair_id: String,
    pub receipt_url: String,
    pub size_bytes: usize,
}

/// Make the receipt again.
///
/// From the invoice as it is now (schedule statuses, paid to date), stored in place of
/// the previous one.
#[utoipa::path(post, path = "/payments/vehicle-repairs/{repair_id}/receipt", tag = "Vehicle Repairs", params(("repair_id" = String, Path)),
    responses((status = 200, body = ReceiptGenerated), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn regenerate_receipt(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(repair_id): Path<String>,
) -> Result<Json<ReceiptGenerated>, AppError> {
    user.require(OPERATORS)?;
    let receipts = super::receipt::Receipts::from_state(&state);
    let pdf =
        super::receipt::store(receipts, &repair_id, &user.username, state.clock.now()).await?;
    Ok(Json(ReceiptGenerated {
        receipt_url: repo::receipt_url(&repair_id).unwrap_or_default(),
        repair_id,
        size_bytes: pdf.len(),
    }))
}
