//! Weekly driver statements in the console: the DTRs of a week (by default the last
//! finished one) with lease, driver and status filters; a statement's page, which mirrors
//! its PDF; the PDF itself; finalizing (finance) with a confirmation; regenerating a week's
//! drafts. The same services as the API.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use domain::calendar::SundayDate;
use domain::status::DtrStatus;
use maud::html;

use super::model::{Dtr, DtrSummary};
use super::{record, repo, service};
use crate::api::extract::RawQuery;
use crate::auth::model::{FINANCE, READERS};
use crate::db::Page as DbPage;
use crate::error::AppError;
use crate::house_style::label;
use crate::state::AppState;
use crate::web::action::{Done, FormAction};
use crate::web::layout::{badge, csrf, date, money, money_cell, time};
use crate::web::list::{count, listed, Column, Filter, ListPage};
use crate::web::{Page, PageError, Signed, PREFIX};

/// The counts of a regeneration the statements list reports after it.
const REPORT: [&str; 3] = ["made", "replaced", "kept"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/dtrs", get(list))
        .route("/app/dtrs/generate", post(generate))
        .route("/app/dtrs/{id}", get(statement))
        .route("/app/dtrs/{id}/pdf", get(pdf))
        .route("/app/dtrs/{id}/finalize", post(finalize))
}

/// The week that ended last: what a clerk hands out this week.
fn last_finished_week(state: &AppState) -> SundayDate {
    domain::calendar::current_payment_period(state.clock.now(), state.config.timezone).previous()
}

async fn list(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let mut filters = RawQuery(
        query
            .0
            .iter()
            .filter(|(k, v)| !v.trim().is_empty() && !REPORT.contains(&k.as_str()))
            .cloned()
            .collect(),
    );
    if filters.get("week").is_none() {
        filters
            .0
            .push(("week".into(), last_finished_week(&state).to_string()));
    }
    let week = filters.get("week").unwrap_or_default().to_string();
    // What a regeneration did: a fixed message, its counts read as numbers.
    let counts: Vec<Option<i64>> = REPORT
        .iter()
        .map(|k| query.get(k).and_then(|n| n.parse().ok()))
        .collect();
    let generated = match counts.as_slice() {
        [Some(made), Some(replaced), Some(kept)] => Some(format!(
            "Week of {}: {} made, {} replaced, {} kept.",
            date(&week),
            count(*made, "statement", "statements"),
            reports::thousands(*replaced),
            count(*kept, "finalized statement", "finalized statements"),
        )),
        _ => None,
    };
    let db = state.db.reader();
    let parsed = super::query::dtr_filter(db, &filters).await;
    let listed = listed(parsed, async |(filter, page)| {
        let (items, total) = repo::list(db, &filter, page).await?;
        Ok(DbPage::new(items, total, page))
    })
    .await?;
    let labels = match &listed {
        Ok(page) => super::query::lease_labels(db, &page.items).await?,
        Err(_) => Default::default(),
    };
    let may = signed.user().has_any(FINANCE);
    let caption = format!("Statements of the week of {}", date(&week));
    let empty = format!(
        "No statement for the week of {} matches. Statements are made by the Sunday run, or by “Regenerate the week's drafts”.",
        date(&week)
    );
    let above = html! {
        @if let Some(report) = &generated {
            p.notice role="status" { (report) }
        }
        @if may && SundayDate::parse(&week).is_ok() {
            details.confirm {
                summary.button role="button" { "Regenerate this week’s drafts…" }
                form method="post" action={ (PREFIX) "/dtrs/generate" } {
                    (csrf(&signed))
                    (crate::web::once::fresh())
                    input type="hidden" name="week" value=(week);
                    p { "Every draft statement of the week of " (date(&week)) " is made again from the ledger as it is now (earnings applied by the payment hierarchy). Finalized statements are kept as they are." }
                    button.primary type="submit" { "Regenerate drafts" }
                }
            }
        }
    };
    Ok(ListPage {
        title: "Driver statements (DTRs)",
        crumbs: &[("Dashboard", "/app/")],
        section: "dtrs",
        path: "/dtrs",
        above,
        filters: vec![
            Filter::date("week", "Week (its Sunday)"),
            Filter::search("lease_id", "Lease"),
            Filter::search("driver_id", "Driver"),
            Filter::choice(
                "status",
                "Status",
                DtrStatus::ALL.iter().map(|s| (s.as_str(), s.as_str())),
            ),
        ],
        export: None,
        noun: ("statement", "statements"),
        empty: &empty,
        caption: &caption,
        columns: vec![
            Column::link("DTR", |d: &DtrSummary| {
                (format!("/dtrs/{}", d.id), d.dtr_number.clone())
            }),
            Column::shown("Week", |d: &DtrSummary| {
                format!("{} – {}", date(&d.week_start), date(&d.week_end))
            }),
            Column::new("Lease", |d: &DtrSummary| match labels.get(&d.lease_id) {
                Some((lease, _)) => html! { a href={ (PREFIX) "/fleet/leases/" (d.lease_id) } { (lease) } },
                None => html! { (d.lease_id) },
            }),
            Column::new("Driver", |d: &DtrSummary| {
                html! { (labels.get(&d.lease_id).and_then(|(_, driver)| driver.as_deref()).unwrap_or("—")) }
            }),
            Column::money("Gross earnings", |d: &DtrSummary| d.gross_earnings),
            Column::money("Deductions", |d: &DtrSummary| d.total_deducted),
            Column::money("Net pay", |d: &DtrSummary| d.net_pay),
            Column::badge("Status", |d: &DtrSummary| d.status.as_str()),
        ],
    }
    .render(&signed, &filters, listed))
}

async fn load(state: &AppState, id: i64) -> Result<Dtr, AppError> {
    repo::get(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no DTR {id}")))
}

async fn statement(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    render_statement(&state, &signed, id, None, StatusCode::OK).await
}

async fn render_statement(
    state: &AppState,
    signed: &Signed,
    id: i64,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let dtr = load(state, id).await?;
    let c = &dtr.content;
    let p = &c.party;
    let tz = state.config.timezone;
    let draft = dtr.summary.status == DtrStatus::Draft;
    let title = format!("DTR {}", dtr.summary.dtr_number);
    let content = html! {
        div.actions {
            (badge(dtr.summary.status.as_str()))
            a.button href={ (PREFIX) "/dtrs/" (id) "/pdf" } download { "Download PDF" }
        }
        @if let Some(message) = error {
            p.notice.error role="alert" { "Could not finalize: " (message) }
        }
        p.muted { "Week " (date(&c.week_start)) " to " (date(&c.week_end))
            @if let (Some(by), Some(on)) = (&dtr.summary.finalized_by, &dtr.summary.finalized_on) {
                " · finalized " (time(on, tz)) " by " (by)
            } @else { " · made " (time(&dtr.summary.generated_on, tz)) } }
        div.cards {
            section.card {
                h2 { "Driver and lease" }
                dl.facts {
                    dt { "Driver" } dd { (p.driver_name.as_deref().unwrap_or("—")) }
                    dt { "TLC license" } dd { (p.tlc_license_no.as_deref().unwrap_or("—")) }
                    dt { "Lease" } dd { (p.lease_business_id) " (" (label(&p.lease_type)) ")" }
                    dt { "Medallion" } dd { (p.medallion_number) }
                    dt { "Vehicle" } dd { (p.vehicle) }
                    dt { "VIN / plate" } dd { (p.vin) " / " (p.plate_number.as_deref().unwrap_or("—")) }
                }
            }
            section.card aria-label="Summary" {
                h2 { "Summary" }
                dl.facts {
                    dt { "Gross earnings" } dd { (money(c.gross_earnings)) }
                    dt { "Deductions" } dd { (money(c.total_deducted)) }
                    @if !c.adjustments.is_empty() { dt { "Adjustments to earlier weeks" } dd { (money(c.total_adjustments)) } }
                    dt { "Net pay" } dd.stat { (money(c.net_pay)) }
                    dt { "Balances carried" } dd { (money(c.balances_carried_forward)) }
                    @if c.credit_applied.is_positive() { dt { "Credit applied" } dd { (money(c.credit_applied)) } }
                }
            }
        }
        section.card {
            h2 { "Deductions by category (payment order)" }
            div.table-wrap tabindex="0" role="region" aria-label="Deductions" {
                table {
                    thead { tr { th { "Category" } th.num { "Paid this week" } th.num { "Still open" } } }
                    tbody {
                        @for l in &c.categories {
                            tr { td { (l.category) } (money_cell(l.deducted)) (money_cell(l.outstanding)) }
                        }
                    }
                    tfoot { tr { td { "Total" } (money_cell(c.total_deducted)) (money_cell(c.balances_carried_forward)) } }
                }
            }
        }
        @if !c.adjustments.is_empty() {
            section.card aria-label="Adjustments to earlier weeks" {
                h2 { "Adjustments to earlier weeks" }
                p.muted { "Postings voided after an earlier week's statement was final. That statement stays as it was; what was paid out is owed back here, and what the voided posting had paid is owed again with the deductions above." }
                div.table-wrap tabindex="0" role="region" aria-label="Adjustments" {
                    table {
                        thead { tr {
                            th { "Week" } th { "Statement" } th { "Posting" } th { "Reason" }
                            th.num { "Owed again" } th.num { "Owed back" } th.num { "Paid this week" }
                        } }
                        tbody {
                            @for a in &c.adjustments {
                                tr {
                                    td { (date(&a.week)) }
                                    td { (a.dtr_number) }
                                    td { a href={ (PREFIX) "/ledger/postings/" (a.posting_id) } { (a.posting_id) } }
                                    td { (a.reason) }
                                    (money_cell(a.owed_again)) (money_cell(a.amount)) (money_cell(a.paid_this_week))
                                }
                            }
                        }
                        tfoot { tr { td colspan="6" { "Adjustments paid this week" } (money_cell(c.total_adjustments)) } }
                    }
                }
            }
        }
        section.card {
            h2 { "Repairs" }
            @if c.repairs.is_empty() {
                p.empty { "No repair installments due or open this week." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Repairs" {
                    table {
                        thead { tr {
                            th { "Repair" } th { "Installment" } th { "Invoice" } th { "Due" }
                            th.num { "Amount due" } th.num { "Paid this week" } th { "Status" } th.num { "Invoice balance" }
                        } }
                        tbody {
                            @for r in &c.repairs {
                                tr {
                                    td { a href={ (PREFIX) "/repairs/" (r.repair_id) } { (r.repair_id) } }
                                    td { (r.installment_id) }
                                    td { (r.invoice_number) }
                                    td { (date(&r.due_date)) }
                                    (money_cell(r.amount_due)) (money_cell(r.paid_this_week))
                                    td { (badge(r.status.as_str())) }
                                    (money_cell(r.invoice_balance_remaining))
                                }
                            }
                        }
                    }
                }
            }
        }
        @if draft && signed.user().has_any(FINANCE) {
            details.confirm open[error.is_some()] {
                summary.button role="button" { "Finalize this statement…" }
                form method="post" action={ (PREFIX) "/dtrs/" (id) "/finalize" } {
                    (csrf(signed))
                    (crate::web::once::fresh())
                    p { "A finalized statement is a record: its PDF is stored once and never changes again, and later runs keep it as it is. Net pay " (money(c.net_pay)) " for the week of " (date(&c.week_start)) "." }
                    div.choice {
                        input #confirm type="checkbox" name="confirm" value="yes" required;
                        label for="confirm" { "Yes, finalize " (dtr.summary.dtr_number) }
                    }
                    button.primary type="submit" { "Finalize" }
                }
            }
        }
    };
    Ok(Page {
        title: &title,
        crumbs: &[("Dashboard", "/app/"), ("DTRs", "/app/dtrs")],
        signed: Some(signed),
        section: "dtrs",
    }
    .render_with(status, content))
}

async fn pdf(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let (dtr, bytes) = record::pdf(&state, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.pdf\"", dtr.summary.dtr_number),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn finalize(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(FINANCE)
        .once(format!("finalize:{id}"))
        .open(&state, &signed, &body)
        .await?;
    if sent.get("confirm") != Some("yes") {
        return render_statement(
            &state,
            &signed,
            id,
            Some("tick the box to confirm"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match record::finalize(&state, id, &signed.user().username).await {
        Ok(dtr) => Ok(sent
            .remember(Done::to(
                format!("{PREFIX}/dtrs/{id}"),
                dtr.summary.dtr_number,
            ))
            .await),
        Err(AppError::Conflict(message)) => {
            render_statement(&state, &signed, id, Some(&message), StatusCode::CONFLICT).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn generate(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(FINANCE)
        .once("generate")
        .open(&state, &signed, &body)
        .await?;
    let week = SundayDate::parse(sent.get("week").unwrap_or_default())
        .map_err(|e| AppError::field("week", e.to_string()))?;
    let report =
        service::generate(&state.db, week, &signed.user().username, state.clock.now()).await?;
    let query = format!(
        "week={week}&made={}&replaced={}&kept={}",
        report.created, report.replaced, report.skipped_finalized
    );
    Ok(sent
        .remember(Done::to(
            format!("{PREFIX}/dtrs?{query}"),
            format!("the statements of the week of {}", date(&report.week_start)),
        ))
        .await)
}
