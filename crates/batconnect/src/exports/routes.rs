//! HTTP for exports: `…/list/export`, `…/fetch/installments/export` (tag "Vehicle
//! Repairs") and `/ledger/export` (tag "Ledger"). Each takes its list's parameters plus
//! `format`, parsed by the list's own parser.

use axum::extract::State;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{describe_filters, list_params, stream, tables, Format, Stamp};
use crate::api::extract::RawQuery;
use crate::auth::model::{CurrentUser, READERS};
use crate::error::{AppError, Problem};
use crate::repairs::query::InstallmentQuery;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_invoices))
        .routes(routes!(export_invoice_lines))
        .routes(routes!(export_installments))
        .routes(routes!(export_ledger))
}

/// Repair invoices as a file (CSV, XLSX or PDF); the Excel file has a second sheet, "Lines",
/// with the invoices' line items (also `…/list/export/lines`).
///
/// Every filter and sort of `GET /payments/vehicle-repairs`, plus `format`. `page` and `per_page` are accepted and ignored (the file holds every
/// matching invoice). CSV is streamed with no row limit (RFC 4180, UTF-8, header row);
/// XLSX (typed cells) and PDF (paginated table with the filters and the time) hold at most
/// 100,000 rows and then say so in their last row. No match gives a file with only the
/// header. The file is named `vehicle_repairs_YYYY-MM-DD.csv|xlsx|pdf`.
#[utoipa::path(get, path = "/payments/vehicle-repairs/list/export", tag = "Vehicle Repairs",
    params(
        ("format" = Option<String>, Query, description = "csv (default), excel (or xlsx), pdf"),
        ("page" = Option<i64>, Query, description = "accepted and ignored: the file holds every row"),
        ("per_page" = Option<i64>, Query, description = "accepted and ignored"),
        ("sort_by" = Option<String>, Query, description = "as the list: repair_id, invoice_number, invoice_date (default), date, driver_name, medallion_no, lease_type, workshop_type, amount, status"),
        ("sort_order" = Option<String>, Query, description = "asc or desc (default)"),
        ("repair_id" = Option<String>, Query), ("invoice_number" = Option<String>, Query),
        ("from_invoice_date" = Option<String>, Query, description = "YYYY-MM-DD"), ("to_invoice_date" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("lease_type" = Option<String>, Query), ("workshop_type" = Option<String>, Query),
        ("workshop_id" = Option<i64>, Query, description = "the workshop's id in the registry (/workshops)"),
        ("from_total_amount" = Option<String>, Query), ("to_total_amount" = Option<String>, Query),
        ("status" = Option<String>, Query), ("driver_name" = Option<String>, Query, description = "partial, any case"),
        ("tlc_license_no" = Option<String>, Query, description = "the driver's TLC license, partial"),
        ("plate_number" = Option<String>, Query, description = "the vehicle's plate, partial, any case"),
        ("medallion_no" = Option<String>, Query), ("lease_id" = Option<String>, Query), ("vin" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"))),
        (status = 422, body = Problem, description = "A parameter is invalid; the error names it")))]
async fn export_invoices(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    super::invoices_file(&state, &query).await
}

/// The lines of the repair invoices the list's filters select, as a file (CSV, XLSX or PDF).
///
/// One row per line (repair id, invoice number, workshop, kind, description, part number,
/// quantity, unit price, taxable, amount; a discount's amount negative), newest invoice
/// first and its lines in order. Takes every filter of `GET /payments/vehicle-repairs`
/// (`sort_by` is accepted; the order stays newest first). Invoices without lines have none.
/// Named `vehicle_repair_lines_YYYY-MM-DD.csv|xlsx|pdf`.
#[utoipa::path(get, path = "/payments/vehicle-repairs/list/export/lines", tag = "Vehicle Repairs",
    params(
        ("format" = Option<String>, Query, description = "csv (default), excel (or xlsx), pdf"),
        ("page" = Option<i64>, Query, description = "accepted and ignored: the file holds every row"),
        ("per_page" = Option<i64>, Query, description = "accepted and ignored"),
        ("sort_by" = Option<String>, Query, description = "as the list: repair_id, invoice_number, invoice_date (default), date, driver_name, medallion_no, lease_type, workshop_type, amount, status"),
        ("sort_order" = Option<String>, Query, description = "asc or desc (default)"),
        ("repair_id" = Option<String>, Query), ("invoice_number" = Option<String>, Query),
        ("from_invoice_date" = Option<String>, Query, description = "YYYY-MM-DD"), ("to_invoice_date" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("lease_type" = Option<String>, Query), ("workshop_type" = Option<String>, Query),
        ("workshop_id" = Option<i64>, Query, description = "the workshop's id in the registry (/workshops)"),
        ("from_total_amount" = Option<String>, Query), ("to_total_amount" = Option<String>, Query),
        ("status" = Option<String>, Query), ("driver_name" = Option<String>, Query, description = "partial, any case"),
        ("tlc_license_no" = Option<String>, Query, description = "the driver's TLC license, partial"),
        ("plate_number" = Option<String>, Query, description = "the vehicle's plate, partial, any case"),
        ("medallion_no" = Option<String>, Query), ("lease_id" = Option<String>, Query), ("vin" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"))),
        (status = 422, body = Problem, description = "A parameter is invalid; the error names it")))]
async fn export_invoice_lines(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    super::invoice_lines_file(&state, &query).await
}

/// Installments as a file (CSV, XLSX or PDF).
///
/// Every filter and sort of `GET /payments/vehicle-repairs/fetch/installments`, plus `format` (as the invoice
/// export: CSV streamed, XLSX and PDF up to 100,000 rows). Named
/// `repair_installments_YYYY-MM-DD.csv|xlsx|pdf`.
#[utoipa::path(get, path = "/payments/vehicle-repairs/fetch/installments/export", tag = "Vehicle Repairs",
    params(
        ("format" = Option<String>, Query, description = "csv (default), excel (or xlsx), pdf"),
        ("page" = Option<i64>, Query, description = "accepted and ignored: the file holds every row"),
        ("per_page" = Option<i64>, Query, description = "accepted and ignored"),
        ("repair_id" = Option<String>, Query), ("lease_id" = Option<String>, Query, description = "internal id or lease id"),
        ("driver_id" = Option<String>, Query, description = "internal id or driver id"),
        ("medallion_id" = Option<String>, Query, description = "internal id or medallion number"),
        ("vehicle_id" = Option<String>, Query, description = "internal id or VIN"),
        ("status" = Option<String>, Query, description = "Scheduled, Posted, Paid"),
        ("from_week" = Option<String>, Query), ("to_week" = Option<String>, Query),
        ("sort_by" = Option<String>, Query, description = "week (default; also week_start_date)"),
        ("sort_order" = Option<String>, Query, description = "asc (default) or desc, by week"),
    ),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"))),
        (status = 422, body = Problem)))]
async fn export_installments(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    let format = Format::parse(&query)?;
    let q = InstallmentQuery::parse(&list_params(&query, &["format"]), state.db.backend())?;
    let export = tables::installments(
        q.filter,
        &q.order_by,
        format!("{} — Repair installments", state.config.fleet_name),
        describe_filters(&query),
    );
    let slot = stream::take_slot(&state.export_slots)?;
    stream::respond(state.db.reader(), export, format, Stamp::now(&state), slot).await
}

/// Ledger postings or balances as a file (CSV, XLSX or PDF).
///
/// Postings (`kind=postings`, newest first) or balances (`kind=balances`, by due date), with the filters of `GET /ledger/postings` or `GET /ledger/balances`
/// plus `format` (CSV streamed; XLSX and PDF up to 100,000 rows). Named
/// `ledger_postings_YYYY-MM-DD.…` or `ledger_balances_YYYY-MM-DD.…`.
#[utoipa::path(get, path = "/ledger/export", tag = "Ledger",
    params(
        ("kind" = String, Query, description = "postings or balances"),
        ("format" = Option<String>, Query, description = "csv (default), excel (or xlsx), pdf"),
        ("page" = Option<i64>, Query, description = "accepted and ignored: the file holds every row"),
        ("per_page" = Option<i64>, Query, description = "accepted and ignored"),
        ("driver_id" = Option<String>, Query, description = "internal id, or a part of the driver id"), ("lease_id" = Option<String>, Query, description = "internal id, or a part of the lease id"),
           ("vehicle_id" = Option<String>, Query, description = "internal id, or a part of the VIN"), ("medallion_id" = Option<String>, Query, description = "internal id, or a part of the medallion number"),
           ("driver_name" = Option<String>, Query, description = "a part of the driver's name"), ("vin" = Option<String>, Query, description = "a part of the VIN"), ("medallion_number" = Option<String>, Query, description = "a part of the medallion number"),
        ("category" = Option<String>, Query), ("status" = Option<String>, Query),
        ("entry_type" = Option<String>, Query, description = "postings only"),
        ("from_date" = Option<String>, Query), ("to_date" = Option<String>, Query), ("reference_id" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"))),
        (status = 422, body = Problem)))]
async fn export_ledger(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    super::ledger_file(&state, &query).await
}
