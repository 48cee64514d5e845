//! HTTP for reports (tag "Reports"): every role reads them; nothing is written.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::ledger_reports;
use super::model::{CostGrouping, RepairCosts};
use super::repo::AgingFilter;
use super::service::{self, Range};
use crate::api::extract::RawQuery;
use crate::auth::model::{CurrentUser, READERS};
use crate::error::{AppError, Problem};
use crate::exports::{Format, Stamp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(repair_costs))
        .routes(routes!(aging))
        .routes(routes!(collections))
        .routes(routes!(lease_statement))
}

/// The grouping of a query: `group_by` (month when absent).
pub fn grouping_of(query: &RawQuery) -> Result<CostGrouping, AppError> {
    match query.get("group_by").map(str::trim) {
        None => Ok(CostGrouping::Month),
        Some(word) => CostGrouping::parse(word).ok_or_else(|| {
            AppError::field(
                "group_by",
                format!(
                    "'{word}' is not one of: {}",
                    CostGrouping::words().join(", ")
                ),
            )
        }),
    }
}

/// What repairs cost, grouped by month, workshop, vehicle, driver or kind.
///
/// Covers the invoices that are not cancelled whose invoice date is in `from`..`to` (both
/// required, at most 5 years apart). The groups add up to `total`, the sum of those
/// invoices to the cent: by kind, parts + labour + fees − discounts (a negative group) +
/// tax + the totals of invoices without lines. With `format` the same figures come as a
/// file (`repair_costs_<group_by>_YYYY-MM-DD.csv|xlsx|pdf`; the PDF has a bar chart and the
/// table).
#[utoipa::path(get, path = "/reports/repair-costs", tag = "Reports",
    params(
        ("group_by" = Option<String>, Query, description = "month (default), workshop, vehicle, driver or kind"),
        ("from" = String, Query, description = "first invoice date, YYYY-MM-DD"),
        ("to" = String, Query, description = "last invoice date, YYYY-MM-DD; at most 5 years after from"),
        ("format" = Option<String>, Query, description = "csv, excel (or xlsx), pdf; JSON when absent"),
    ),
    responses(
        (status = 200, body = RepairCosts, content(
            (RepairCosts = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"))),
        (status = 422, body = Problem)))]
async fn repair_costs(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    query.reject_unknown(&["group_by", "from", "to", "format"])?;
    let grouping = grouping_of(&query)?;
    let range = Range::parse(query.get("from"), query.get("to"))?;
    let format = match query.0.iter().any(|(k, _)| k == "format") {
        false => None,
        true => Some(Format::parse(&query)?),
    };
    let costs = service::repair_costs(&state.db, grouping, range).await?;
    match format {
        None => Ok(Json(costs).into_response()),
        Some(format) => Ok(super::files::repair_costs(
            &costs,
            format,
            Stamp::now(&state),
            &state.config.fleet_name,
        )?),
    }
}

/// `lease_id`, `driver_id`, `medallion_id` of a query, each by either id; unknown is 404.
async fn aging_filter(state: &AppState, query: &RawQuery) -> Result<AgingFilter, AppError> {
    use crate::fleet::service as fleet;
    let pool = state.db.reader();
    let mut filter = AgingFilter {
        category: ledger_reports::category_param(query.get("category"))?,
        ..AgingFilter::default()
    };
    if let Some(named) = query.get("lease_id") {
        filter.lease_id = Some(
            fleet::lease_named(pool, named)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no lease {named}")))?,
        );
    }
    if let Some(named) = query.get("driver_id") {
        filter.driver_id = Some(
            fleet::driver_named(pool, named)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no driver {named}")))?,
        );
    }
    if let Some(named) = query.get("medallion_id") {
        filter.medallion_id = Some(
            fleet::medallion_named(pool, named)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no medallion {named}")))?,
        );
    }
    Ok(filter)
}

/// Today in the fleet's time zone.
pub fn today(state: &AppState) -> chrono::NaiveDate {
    domain::calendar::local_date(state.clock.now(), state.config.timezone)
}

/// The aging report for a query (the API's and the console's).
pub async fn aging_of(
    state: &AppState,
    query: &RawQuery,
) -> Result<ledger_reports::Aging, AppError> {
    query.reject_unknown(&[
        "as_of",
        "category",
        "lease_id",
        "driver_id",
        "medallion_id",
        "format",
        "page",
        "per_page",
    ])?;
    // JSON and the page answer a page of rows; a file holds them all.
    let page = match query.get("format") {
        Some(_) => None,
        None => Some(crate::db::page::PageRequest::parse(
            query.get("page"),
            query.get("per_page"),
        )?),
    };
    let today = today(state);
    let mut errors = Vec::new();
    let as_of = match query.get("as_of") {
        None => Some(today),
        value => ledger_reports::day_param("as_of", value, today, &mut errors),
    };
    let Some(as_of) = as_of.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let filter = aging_filter(state, query).await?;
    ledger_reports::aging(
        state.db.reader(),
        as_of,
        today,
        state.config.timezone,
        &filter,
        page,
    )
    .await
}

/// Receivables aging: what was open at the end of `as_of` (today when absent), per lease
/// and category, by days past due.
///
/// Buckets count `as_of` − due date: `not_due` (due on `as_of` or later), `d1_7`,
/// `d8_28`, `d29_56`, `d57_plus`, and `total`. "Open that day" is at the end of that day
/// in the fleet's time zone, after that day's Sunday chain. A past `as_of` is rebuilt from
/// postings, allocations and voids as they stood then; for today the grand total equals
/// the open balances of `/ledger/balances`. Filters take either id. The JSON holds a page of
/// the rows (`page`, `per_page`, `total_items`, `total_pages`, as every list), with
/// `totals` and `by_category` over all of them; with `format` every row comes as a file.
#[utoipa::path(get, path = "/reports/aging", tag = "Reports",
    params(
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD, not after today; today when absent"),
        ("category" = Option<String>, Query, description = "an obligation category"),
        ("lease_id" = Option<String>, Query, description = "internal id or lease id"),
        ("driver_id" = Option<String>, Query, description = "internal id or driver id"),
        ("medallion_id" = Option<String>, Query, description = "internal id or medallion number"),
        ("format" = Option<String>, Query, description = "csv, excel (or xlsx), pdf; JSON when absent"),
        ("page" = Option<i64>, Query, description = "the page of rows (JSON); 1 when absent"),
        ("per_page" = Option<i64>, Query, description = "rows per page, 1 to 100; 20 when absent"),
    ),
    responses(
        (status = 200, body = ledger_reports::Aging, content(
            (ledger_reports::Aging = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"))),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn aging(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    let report = aging_of(&state, &query).await?;
    match query.0.iter().any(|(k, _)| k == "format") {
        false => Ok(Json(report).into_response()),
        true => super::files::aging(
            &report,
            Format::parse(&query)?,
            Stamp::now(&state),
            &state.config.fleet_name,
        ),
    }
}

/// The statement of account for a query on lease `named` (the API's and the console's).
pub async fn statement_of(
    state: &AppState,
    named: &str,
    query: &RawQuery,
) -> Result<ledger_reports::AccountStatement, AppError> {
    query.reject_unknown(&["from", "to", "format"])?;
    let pool = state.db.reader();
    let lease_pk = crate::fleet::service::lease_named(pool, named)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no lease {named}")))?;
    let lease = crate::fleet::repo::lease_by_id(pool, lease_pk)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no lease {named}")))?;
    let today = today(state);
    let mut errors = Vec::new();
    let to = match query.get("to") {
        None => Some(today),
        value => ledger_reports::day_param("to", value, today, &mut errors),
    };
    let start = domain::calendar::parse_date(&lease.start_date).unwrap_or(today);
    let from = match query.get("from") {
        // The lease's start, or five years before `to` for an older lease: a default never
        // asks for more than a range may cover.
        None => {
            let to = to.unwrap_or(today);
            let earliest = to
                .checked_sub_months(chrono::Months::new(12 * service::MAX_YEARS))
                .unwrap_or(to);
            Some(start.clamp(earliest, to))
        }
        value => ledger_reports::day_param("from", value, today, &mut errors),
    };
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.push(crate::error::FieldError::new(
                "to",
                format!("{to} is before from ({from})"),
            ));
        } else if from
            .checked_add_months(chrono::Months::new(12 * service::MAX_YEARS))
            .is_none_or(|limit| to > limit)
        {
            errors.push(crate::error::FieldError::new(
                "from",
                format!(
                    "the range {from} to {to} is longer than {} years",
                    service::MAX_YEARS
                ),
            ));
        }
    }
    match (from, to) {
        (Some(from), Some(to)) if errors.is_empty() => {
            ledger_reports::statement(
                pool,
                lease_pk,
                lease.lease_id,
                from,
                to,
                state.config.timezone,
            )
            .await
        }
        _ => Err(AppError::Validation(errors)),
    }
}

/// A lease's statement of account: why the driver owes what they owe.
///
/// Every posting, application of a payment, void and credit of the lease over `from`
/// (the lease's start when absent) to `to` (today when absent), in the order recorded,
/// with a running balance: `opening_balance`, `entries`, `closing_balance` (positive: the
/// driver owes). The closing balance equals the lease's open balances less its unapplied
/// credit at the end of `to` (both given). The lease by either id. `format=pdf|csv` gives
/// the document a cashier hands the driver, or the entries as CSV.
#[utoipa::path(get, path = "/ledger/leases/{id}/statement", tag = "Reports",
    params(
        ("id" = String, Path, description = "internal id or lease id"),
        ("from" = Option<String>, Query, description = "YYYY-MM-DD; the lease's start when absent (at most 5 years before to)"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD, not after today; today when absent"),
        ("format" = Option<String>, Query, description = "pdf, csv or excel (or xlsx); JSON when absent"),
    ),
    responses(
        (status = 200, body = ledger_reports::AccountStatement, content(
            (ledger_reports::AccountStatement = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"))),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn lease_statement(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    query: RawQuery,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    let statement = statement_of(&state, &id, &query).await?;
    match query.0.iter().any(|(k, _)| k == "format") {
        false => Ok(Json(statement).into_response()),
        true => {
            let format = Format::parse(&query)?;
            super::files::statement(
                &statement,
                format,
                Stamp::now(&state),
                &state.config.fleet_name,
                state.config.timezone,
            )
        }
    }
}

/// A week parameter: a Sunday not after the current week.
fn week_param(
    name: &str,
    value: Option<&str>,
    current: chrono::NaiveDate,
    errors: &mut Vec<crate::error::FieldError>,
) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    let text = value?.trim();
    match domain::calendar::parse_date(text) {
        Err(e) => {
            errors.push(crate::error::FieldError::new(name, e.to_string()));
            None
        }
        Ok(day) if day.weekday() != chrono::Weekday::Sun => {
            errors.push(crate::error::FieldError::new(
                name,
                format!(
                    "{day} is a {}; weeks are named by their Sunday ({})",
                    day.format("%A"),
                    domain::calendar::week_start_of(day)
                ),
            ));
            None
        }
        Ok(day) if day > current => {
            errors.push(crate::error::FieldError::new(
                name,
                format!("{day} is after the current week ({current})"),
            ));
            None
        }
        Ok(day) => Some(day),
    }
}

/// The collections report for a query (the API's and the console's).
pub async fn collections_of(
    state: &AppState,
    query: &RawQuery,
) -> Result<ledger_reports::Collections, AppError> {
    query.reject_unknown(&["from_week", "to_week", "format"])?;
    let current = domain::calendar::week_start_of(today(state));
    let mut errors = Vec::new();
    let to = match query.get("to_week") {
        None => Some(current),
        value => week_param("to_week", value, current, &mut errors),
    };
    let from = match query.get("from_week") {
        None => Some(to.unwrap_or(current) - chrono::Duration::weeks(11)),
        value => week_param("from_week", value, current, &mut errors),
    };
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.push(crate::error::FieldError::new(
                "to_week",
                format!("{to} is before from_week ({from})"),
            ));
        } else if from
            .checked_add_months(chrono::Months::new(12 * service::MAX_YEARS))
            .is_none_or(|limit| to > limit)
        {
            errors.push(crate::error::FieldError::new(
                "to_week",
                format!(
                    "the weeks {from} to {to} span more than {} years",
                    service::MAX_YEARS
                ),
            ));
        }
    }
    match (from, to) {
        (Some(from), Some(to)) if errors.is_empty() => {
            ledger_reports::collections(state.db.reader(), from, to, state.config.timezone).await
        }
        _ => Err(AppError::Validation(errors)),
    }
}

/// Weekly collections: per week and category, what was charged (obligations due that
/// week), what was collected (by that week's earnings, by interim payments when taken, by
/// credit a statement applied), what corrections collected, what was voided (reversals
/// posted that week) and the rate (collected ÷ charged; null when nothing was charged).
///
/// Weeks are Sundays, `from_week` to `to_week` (the last 12 weeks when absent). A week's
/// earnings collected is what its statements deducted; a later void shows under
/// `voided_or_adjusted` in the week it was posted. With `format` the rows come as a file.
#[utoipa::path(get, path = "/reports/collections", tag = "Reports",
    params(
        ("from_week" = Option<String>, Query, description = "a Sunday, YYYY-MM-DD; 11 weeks before to_week when absent"),
        ("to_week" = Option<String>, Query, description = "a Sunday, not after the current week; the current week when absent"),
        ("format" = Option<String>, Query, description = "csv, excel (or xlsx), pdf; JSON when absent"),
    ),
    responses(
        (status = 200, body = ledger_reports::Collections, content(
            (ledger_reports::Collections = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/pdf"))),
        (status = 422, body = Problem)))]
async fn collections(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Response, AppError> {
    user.require(READERS)?;
    let report = collections_of(&state, &query).await?;
    match query.0.iter().any(|(k, _)| k == "format") {
        false => Ok(Json(report).into_response()),
        true => super::files::collections(
            &report,
            Format::parse(&query)?,
            Stamp::now(&state),
            &state.config.fleet_name,
        ),
    }
}
