//! The repairs desk in the console: the dashboard, the invoice list with its filters and
//! exports, the "Create Repair Invoice" wizard (the guide's BPM case in a browser), the
//! invoice page with its actions, and the installments list. Every page calls the same
//! services as the API; forms carry the session's CSRF token.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use domain::money::Money;
use domain::status::{InvoiceStatus, WorkshopType};
use maud::{html, Markup};
use std::collections::HashMap;

use super::lifecycle::Action;
use super::model::{InstallmentItem, InvoiceDetail, InvoiceListItem, CASE_PREFIX};
use super::query::{InstallmentQuery, InvoiceQuery};
use super::{repo, service, wizard_lines};
use crate::api::extract::RawQuery;
use crate::auth::model::{FINANCE_OR_OPERATIONS, OPERATORS, READERS};
use crate::bpm::service::Cases;
use crate::db::Page as DbPage;
use crate::documents::pending::{self, Pending};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::action::{Done, FormAction, Sent};
use crate::web::layout::{self, badge, csrf, date, field, input_field, money, money_cell, time};
use crate::web::list::{listed, Column, Export, Filter, ListPage};
use crate::web::{see_other, FieldErrors, Form, Page, PageError, Signed, PREFIX};

/// The step the wizard fills in.
const STEP: &str = "REPAIR_ENTER_DETAILS";

pub fn router(max_upload_bytes: usize) -> Router<AppState> {
    let form_limit = max_upload_bytes + crate::documents::pages::FORM_OVERHEAD;
    Router::new()
        .route("/app/", get(dashboard))
        .route("/app/repairs", get(list))
        .route("/app/repairs/export", get(export))
        .route("/app/repairs/export/lines", get(export_lines))
        .route("/app/repairs/new", post(new_case))
        .route(
            "/app/cases/{case_no}",
            get(wizard)
                .post(wizard_submit)
                .layer(axum::extract::DefaultBodyLimit::max(form_limit)),
        )
        .route("/app/cases/{case_no}/discard", post(discard_case))
        .route("/app/repairs/{repair_id}", get(invoice))
        .route("/app/repairs/{repair_id}/receipt", get(receipt))
        .route("/app/repairs/{repair_id}/{action}", post(change))
        .route("/app/installments", get(installments))
        .route("/app/repairs/schedule-preview", get(live_preview))
}

/// The repair id an invoice-number clash names ("… is already recorded as RPR…").
fn clashing_invoice(message: &str) -> Option<&str> {
    let rest = message.split("already recorded as ").nth(1)?;
    let id = rest
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .next()?;
    (!id.is_empty()).then_some(id)
}

fn value<'a>(query: &'a RawQuery, name: &str) -> &'a str {
    query.get(name).unwrap_or_default()
}

async fn dashboard(State(state): State<AppState>, signed: Signed) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let pool = state.db.reader();
    let by_status = repo::totals_by_status(pool).await?;
    let now = state.clock.now();
    let week = domain::calendar::current_payment_period(now, state.config.timezone);
    let (due, due_amount, waiting) = repo::week_installments(pool, &week.to_string()).await?;
    let runs = crate::jobs::recent_runs(&state.db, now, 4).await?;
    let next_run = state
        .config
        .post_schedule
        .next_after(now, state.config.timezone);
    let tz = state.config.timezone;
    let weeks = crate::reporting::service::repair_weeks(pool, week).await?;
    let repair_weeks = crate::web::chart::BarChart {
        stacked: false,
        title: "Repair installments: due against collected, the last 12 weeks".into(),
        category_header: "Week of".into(),
        categories: weeks.iter().map(|w| date(&w.week)).collect(),
        series: vec![
            crate::web::chart::Series {
                name: "Due".into(),
                values: weeks.iter().map(|w| w.due).collect(),
            },
            crate::web::chart::Series {
                name: "Collected".into(),
                values: weeks.iter().map(|w| w.collected).collect(),
            },
        ],
    };
    let content = html! {
        @if layout::may_operate(&signed) {
            form.actions method="post" action={ (PREFIX) "/repairs/new" } {
                (csrf(&signed))
                button.primary type="submit" { "Create Repair Invoice" }
            }
        }
        div.cards {
            section.card {
                h2 { "Invoices by status" }
                @if by_status.is_empty() {
                    p.empty { "No repair invoices yet. Press “Create Repair Invoice” to record the first." }
                } @else {
                    table {
                        thead { tr { th { "Status" } th.num { "Invoices" } th.num { "Amount" } } }
                        tbody {
                            @for (status, count, amount) in &by_status {
                                tr {
                                    td { a href={ (PREFIX) "/repairs?status=" (status) } { (badge(status)) } }
                                    td.num { (reports::thousands(*count)) }
                                    (money_cell(Money::from_cents(*amount)))
                                }
                            }
                        }
                    }
                }
            }
            section.card {
                h2 { "This week's installments" }
                p.muted { "Week of " (date(&week.to_string())) " – " (date(&week.week_end().to_string())) }
                p.stat { (reports::thousands(due)) " due, " (money(Money::from_cents(due_amount))) }
                p { (reports::thousands(waiting)) " not yet posted to the ledger." }
                p { a href={ (PREFIX) "/installments?from_week=" (week) "&to_week=" (week) } { "See this week's installments" } }
            }
            section.card {
                h2 { "Sunday run" }
                @match runs.first() {
                    Some(run) => {
                        dl.facts {
                            dt { "Last run" } dd {
                                (crate::jobs::model::job_label(&run.job_name))
                                @if let Some(week) = crate::jobs::model::run_week(&run.job_name, &run.period) {
                                    " for the week of " (date(&week.to_string()))
                                }
                            }
                            dt { "Status" } dd { (badge(run.status.as_str())) }
                            dt { "Started" } dd { (time(&run.started_on, tz)) }
                            @if let Some(error) = &run.error { dt { "Error" } dd { (error) } }
                        }
                    }
                    None => { p.empty { "No run recorded yet." } }
                }
                @if let Some(next) = next_run {
                    p { "Next posting run: " (time(&crate::db::timestamp(next), tz)) }
                }
            }
        }
        (repair_weeks.figure("repair-weeks"))
        p.muted { "Due: the installments of each week. Collected: what earnings, interim payments and applied credit paid of repair balances, counted in the week they were paid for (a payment without a week in the week it was made). " a href={ (PREFIX) "/reports/repair-costs" } { "What repairs cost" } }
    };
    Ok(Page {
        title: "Dashboard",
        crumbs: &[],
        signed: Some(&signed),
        section: "dashboard",
    }
    .render(content))
}

/// The invoice list's text filters, between its status and workshop.
fn text_filters() -> Vec<Filter> {
    vec![
        Filter::search("driver_name", "Driver name"),
        Filter::search("tlc_license_no", "TLC license"),
        Filter::search("plate_number", "Plate"),
        Filter::search("medallion_no", "Medallion"),
        Filter::search("vin", "VIN"),
        Filter::search("invoice_number", "Invoice number"),
        Filter::search("repair_id", "Repair ID"),
        Filter::search("lease_id", "Lease"),
    ]
}

async fn list(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    // `discarded` is the notice of a discarded case, not a filter.
    let filters = RawQuery(
        query
            .filled()
            .0
            .into_iter()
            .filter(|(k, _)| k != "discarded")
            .collect(),
    );
    let db = state.db.reader();
    let parsed = InvoiceQuery::parse(&filters, true, state.db.backend());
    let listed = listed(parsed, async |q| {
        let (items, total) = repo::list_invoices(db, &q).await?;
        Ok(DbPage::new(items, total, q.page))
    })
    .await?;
    let may_operate = layout::may_operate(&signed);
    let unfinished = if may_operate {
        crate::bpm::service::unfinished_cases(&state.db, CASE_PREFIX, 10).await?
    } else {
        Vec::new()
    };
    let tz = state.config.timezone;
    // A fixed message; the case number is shown only in the shape case numbers have.
    let discarded = query.get("discarded").filter(|c| {
        c.len() <= 20
            && c.starts_with(CASE_PREFIX)
            && c[CASE_PREFIX.len()..].bytes().all(|b| b.is_ascii_digit())
    });
    let above = html! {
        @if let Some(case_no) = discarded {
            p.notice role="status" { "Case " (case_no) " was discarded." }
        }
        @if may_operate {
            form.actions method="post" action={ (PREFIX) "/repairs/new" } {
                (csrf(&signed))
                button.primary type="submit" { "Create Repair Invoice" }
            }
        }
        @if !unfinished.is_empty() {
            section.card aria-label="Unfinished cases" {
                h2 { "Unfinished cases" }
                ul {
                    @for case in &unfinished {
                        li {
                            a href={ (PREFIX) "/cases/" (case.case_no) } { "Resume " (case.case_no) }
                            span.muted { " · started " (time(&case.created_on, tz)) " by " (case.created_by) }
                        }
                    }
                }
            }
        }
    };
    // Inactive workshops too: their invoices are still listed.
    let workshops: Vec<(String, String)> =
        crate::workshops::service::all(state.db.reader(), state.db.ilike())
            .await?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect();
    let mut filter_inputs = vec![Filter::choice(
        "status",
        "Status",
        InvoiceStatus::all_words().into_iter().map(|s| (s, s)),
    )];
    filter_inputs.extend(text_filters());
    filter_inputs.extend([
        Filter::choice(
            "workshop_type",
            "Workshop type",
            WorkshopType::all_words().into_iter().map(|w| (w, w)),
        ),
        Filter::choice("workshop_id", "Workshop", workshops),
        Filter::date("from_invoice_date", "Invoice date from"),
        Filter::date("to_invoice_date", "Invoice date to"),
        Filter::order(
            "sort_by",
            "Sort by",
            [
                ("invoice_date", "Invoice date"),
                ("repair_id", "Repair ID"),
                ("driver_name", "Driver"),
                ("amount", "Amount"),
                ("status", "Status"),
                ("medallion_no", "Medallion"),
                ("workshop_type", "Workshop"),
            ],
        ),
        Filter::order(
            "sort_order",
            "Order",
            [
                ("desc", "Newest / largest first"),
                ("asc", "Oldest / smallest first"),
            ],
        ),
    ]);
    Ok(ListPage {
        title: "Vehicle Repairs",
        crumbs: &[("Dashboard", "/app/")],
        section: "repairs",
        path: "/repairs",
        above,
        filters: filter_inputs,
        export: Some(
            Export::at("/repairs/export").and_csv(&[("/repairs/export/lines", "Export lines CSV")]),
        ),
        noun: ("invoice", "invoices"),
        empty: "No invoice matches these filters. Clear a filter, or create a repair invoice.",
        caption: "Repair invoices",
        columns: vec![
            Column::link("Repair ID", |i: &InvoiceListItem| {
                (format!("/repairs/{}", i.repair_id), i.repair_id.clone())
            }),
            Column::text("Invoice", |i: &InvoiceListItem| {
                Some(i.invoice_number.as_str())
            }),
            Column::shown("Date", |i: &InvoiceListItem| date(&i.invoice_date)),
            Column::text("Driver", |i: &InvoiceListItem| Some(i.driver_name.as_str())),
            Column::text("Medallion", |i: &InvoiceListItem| {
                Some(i.medallion_no.as_str())
            }),
            Column::text("Workshop", |i: &InvoiceListItem| Some(i.workshop.as_str())),
            Column::money_totalled("Amount", |i: &InvoiceListItem| i.amount),
            Column::money_totalled("Paid", |i: &InvoiceListItem| i.paid),
            Column::money_totalled("Remaining", |i: &InvoiceListItem| i.remaining),
            Column::badge("Status", |i: &InvoiceListItem| i.status.as_str()),
        ],
    }
    .render(&signed, &filters, listed))
}

async fn export(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    Ok(crate::exports::invoices_file(&state, &query.filled()).await?)
}

async fn export_lines(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    Ok(crate::exports::invoice_lines_file(&state, &query.filled()).await?)
}

async fn new_case(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(OPERATORS)
        .open(&state, &signed, &body)
        .await?;
    let mut tx = sent.begin().await?;
    let created = crate::bpm::service::create_case(
        &mut tx,
        &state.flows,
        CASE_PREFIX,
        signed.user(),
        state.clock.now(),
    )
    .await;
    sent.finish(
        tx,
        created,
        |case_no| Done::to(format!("{PREFIX}/cases/{case_no}"), case_no.clone()),
        async |errors| Err(PageError::App(AppError::Validation(errors.0))),
    )
    .await
}

/// What the clerk has typed so far, kept across "Find driver" and "Preview schedule".
#[derive(Default)]
struct Entered {
    tlc_license_no: String,
    lease: String,
    invoice_number: String,
    invoice_date: String,
    workshop_id: String,
    total_amount: String,
    tax_rate: String,
    lines: Vec<wizard_lines::EnteredLine>,
    start_week: String,
    notes: String,
}

impl Entered {
    fn from_pairs(pairs: &[(String, String)], get: impl Fn(&str) -> Option<String>) -> Entered {
        let v = |name: &str| get(name).unwrap_or_default();
        Entered {
            workshop_id: v("workshop_id"),
            tax_rate: v("tax_rate"),
            lines: wizard_lines::rows_of(pairs),
            tlc_license_no: v("tlc_license_no"),
            lease: v("lease"),
            invoice_number: v("invoice_number"),
            invoice_date: v("invoice_date"),
            total_amount: v("total_amount"),
            start_week: v("start_week"),
            notes: v("notes"),
        }
    }
}

/// The driver and leases the step finds for a TLC license number.
async fn find_driver(
    state: &AppState,
    case_no: &str,
    tlc: &str,
) -> Result<serde_json::Value, AppError> {
    let mut query = HashMap::new();
    if !tlc.is_empty() {
        query.insert("tlc_license_no".to_string(), tlc.to_string());
    }
    crate::bpm::service::fetch_step(
        &Cases::from_state(state),
        case_no,
        STEP,
        &query,
        state.clock.now(),
    )
    .await
}

async fn wizard(
    State(state): State<AppState>,
    signed: Signed,
    Path(case_no): Path<String>,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let entered = Entered::from_pairs(&query.0, |n| query.get(n).map(str::to_string));
    let found = find_driver(&state, &case_no, &entered.tlc_license_no).await?;
    if let Some(repair_id) = found["repair_id"].as_str() {
        return Ok(see_other(&format!("{PREFIX}/repairs/{repair_id}")));
    }
    let workshops = workshop_choices(&state).await?;
    Ok(render_wizard(
        &state,
        &signed,
        &case_no,
        &entered,
        &found,
        &workshops,
        None,
        None,
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

/// The workshops a clerk may choose: the registry's active ones, defaults first.
async fn workshop_choices(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    Ok(crate::workshops::service::choices(state.db.reader())
        .await?
        .into_iter()
        .map(|(id, name, kind)| {
            (
                id.to_string(),
                format!("{name} ({})", kind.label().to_lowercase()),
            )
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn render_wizard(
    state: &AppState,
    signed: &Signed,
    case_no: &str,
    entered: &Entered,
    found: &serde_json::Value,
    workshops: &[(String, String)],
    preview: Option<&serde_json::Value>,
    pending: Option<&Pending>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let driver = &found["driver"];
    let leases = found["leases"].as_array().cloned().unwrap_or_default();
    let now = state.clock.now();
    let current = domain::calendar::current_payment_period(now, state.config.timezone);
    let weeks: Vec<String> = (0..=state.config.max_start_weeks_ahead)
        .map(|n| current.plus_weeks(n).to_string())
        .collect();
    let start_week = if entered.start_week.is_empty() {
        current.to_string()
    } else {
        entered.start_week.clone()
    };
    let may_create = layout::may_operate(signed);
    // The fields shown on the form; errors of others (the lease's driver, vehicle and
    // medallion, which follow from the lease chosen) show above the buttons.
    let field_names = [
        "lease_id",
        "invoice_number",
        "invoice_date",
        "workshop_id",
        "total_amount",
        "tax_rate",
        "line_items",
        "start_week",
        "notes",
        "file",
    ];
    // A line's own errors show in its row.
    let line_fields: Vec<String> = errors
        .0
        .iter()
        .map(|e| e.field.clone())
        .filter(|f| f.starts_with("line_"))
        .collect();
    let field_names: Vec<&str> = field_names
        .iter()
        .copied()
        .chain(line_fields.iter().map(String::as_str))
        .collect();
    let content = html! {
        p.muted { "Case " (case_no) }
        form.card method="get" action={ (PREFIX) "/cases/" (case_no) } {
            div.field {
                label for="tlc_license_no" { "TLC license number" }
                input #tlc_license_no name="tlc_license_no" type="text" value=(entered.tlc_license_no) required;
            }
            button type="submit" { "Find driver" }
            @if !entered.tlc_license_no.is_empty() && driver.is_null() {
                p.notice.error role="alert" { "No driver has TLC license number " (entered.tlc_license_no) "." }
            }
        }
        @if !driver.is_null() {
            section.card {
                h2 { "Driver" }
                dl.facts {
                    dt { "Name" } dd { (driver["full_name"].as_str().unwrap_or_default()) }
                    dt { "Driver ID" } dd { (driver["driver_id"].as_str().unwrap_or_default()) }
                    dt { "TLC license" } dd { (driver["tlc_license_no"].as_str().unwrap_or_default()) }
                }
            }
            @if leases.is_empty() {
                p.notice.error { "This driver manages no active lease, so no repair invoice can be recorded for them." }
            } @else if may_create {
                form.card method="post" action={ (PREFIX) "/cases/" (case_no) } enctype="multipart/form-data"
                    data-preview-url={ (PREFIX) "/repairs/schedule-preview" } {
                    (csrf(signed))
                    input type="hidden" name="tlc_license_no" value=(entered.tlc_license_no);
                    fieldset.invalid[errors.for_field("lease_id").is_some()] {
                        legend { "Lease" }
                        @for (i, lease) in leases.iter().enumerate() {
                            @let id = lease["id"].to_string();
                            @let input_id = format!("lease-{id}");
                            div.choice {
                                input id=(input_id) type="radio" name="lease" value=(id) required
                                    checked[entered.lease == id || (entered.lease.is_empty() && i == 0)];
                                label for=(input_id) {
                                    strong { (lease["lease_id"].as_str().unwrap_or_default()) }
                                    " · " (lease["lease_type_label"].as_str().unwrap_or_default())
                                    " · medallion " (lease["medallion_number"].as_str().unwrap_or_default())
                                    " · " (lease["vehicle"].as_str().unwrap_or_default())
                                    " · plate " (lease["plate_number"].as_str().unwrap_or("—"))
                                }
                            }
                        }
                        @if let Some(e) = errors.for_field("lease_id") { p.field-error { (e) } }
                    }
                    div.form-grid {
                        div {
                            (input_field("Invoice number", "invoice_number", &entered.invoice_number, "text", errors))
                            @if let Some(existing) = errors.for_field("invoice_number").and_then(clashing_invoice) {
                                p.field-note { a href=(format!("{PREFIX}/repairs/{existing}")) { "Open invoice " (existing) } }
                            }
                        }
                        (input_field("Invoice date", "invoice_date", &entered.invoice_date, "date", errors))
                        (field("Workshop", "workshop_id", layout::select("workshop_id", workshops.iter().map(|(v, l)| (v.as_str(), l.as_str())), &entered.workshop_id, errors.for_field("workshop_id")), errors.for_field("workshop_id")))
                        (input_field("Total amount", "total_amount", &entered.total_amount, "text", errors))
                        (field("First week", "start_week", html! {
                            select #start_week name="start_week" {
                                @for w in &weeks { option value=(w) selected[*w == start_week] { "Sunday " (date(w)) } }
                            }
                        }, errors.for_field("start_week")))
                    }
                    (wizard_lines::fieldset(&entered.lines, &entered.tax_rate, errors))
                    (field("Notes", "notes", html! {
                        textarea #notes name="notes" rows="3" maxlength="500" { (entered.notes) }
                    }, errors.for_field("notes")))
                    (field("Workshop's invoice file (PDF, JPEG or PNG, optional)", "file", html! {
                        @if let Some(kept) = pending {
                            div.pending-file {
                                input type="hidden" name=(pending::FIELD) value=(kept.token);
                                p { "Kept from your last try: " strong { (kept.file_name) } " (" (crate::documents::service::human_size(kept.size_bytes.max(0) as usize)) "). It is attached when you create the invoice; choose another file to replace it." }
                                div.choice {
                                    input #remove_pending type="checkbox" name="remove_pending" value="yes";
                                    label for="remove_pending" { "Remove " (kept.file_name) }
                                }
                            }
                        }
                        input #file name="file" type="file" accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
                            aria-describedby="file-hint";
                        p.muted #file-hint { "Attached to the invoice when you create it. A file sent with a preview, or with a form that was refused, is kept for you for up to 24 hours." }
                    }, errors.for_field("file")))
                    @for e in errors.general(&field_names) {
                        p.notice.error role="alert" { (e.message) }
                    }
                    // Refreshed in place as the amount or the first week changes (console.js);
                    // without JavaScript, "Preview schedule" fills it.
                    div #preview aria-live="polite" {
                        @if let Some(preview) = preview {
                            (schedule_preview(preview))
                        }
                    }
                    div.actions {
                        button type="submit" name="action" value="preview" { "Preview schedule" }
                        button.primary type="submit" name="action" value="create" { "Create invoice" }
                    }
                }
            }
        }
        @if may_create {
            details.confirm {
                summary.button role="button" { "Discard this case…" }
                form method="post" action={ (PREFIX) "/cases/" (case_no) "/discard" } {
                    (csrf(signed))
                    p { "The case is closed without an invoice and no longer listed as unfinished. Its history keeps the reason." }
                    div.field {
                        label for="discard-reason" { "Reason (10 to 500 characters)" }
                        input #discard-reason name="reason" type="text" required minlength="10" maxlength="500";
                    }
                    button type="submit" { "Discard case" }
                }
            }
        }
    };
    Page {
        title: "Create Repair Invoice",
        crumbs: &[("Dashboard", "/app/"), ("Vehicle Repairs", "/app/repairs")],
        signed: Some(signed),
        section: "repairs",
    }
    .render_with(status, content)
}

fn schedule_preview(preview: &serde_json::Value) -> Markup {
    let lines = preview["schedule"].as_array().cloned().unwrap_or_default();
    let amount = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| Money::parse(s).ok())
            .map(money)
            .unwrap_or_default()
    };
    html! {
        section aria-label="Schedule preview" {
            h2 { "Schedule preview" }
            p { (crate::web::list::count(preview["installment_count"].as_i64().unwrap_or_default(), "weekly installment", "weekly installments")) " of " (amount(&preview["weekly_installment"]))
                " for " (amount(&preview["total_amount"])) ". Nothing is saved until you create the invoice." }
            div.table-wrap {
                table {
                    thead { tr { th { "#" } th { "Week" } th.num { "Installment" } th.num { "Balance after" } } }
                    tbody {
                        @for line in &lines {
                            tr {
                                td { (line["sequence"]) }
                                td { (date(line["week_start_date"].as_str().unwrap_or_default())) " – " (date(line["week_end_date"].as_str().unwrap_or_default())) }
                                td.num { (amount(&line["amount"])) }
                                td.num { (amount(&line["balance"])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The schedule an amount and first week would get, as a fragment of the wizard (the
/// same matrix, amount rule and first-week window as the step; writes nothing).
async fn live_preview(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let amount = Money::parse_amount(&crate::web::money_typed(value(&query, "total_amount")));
    let week = domain::calendar::SundayDate::parse(value(&query, "start_week"));
    let current =
        domain::calendar::current_payment_period(state.clock.now(), state.config.timezone);
    let window = week.as_ref().map_err(|_| ()).and_then(|w| {
        domain::input::start_week(*w, current, state.config.max_start_weeks_ahead).map_err(|_| ())
    });
    let fragment = match (amount, week) {
        (_, Ok(_)) if window.is_err() => {
            html! { p.muted { "Choose one of the offered first weeks to see the schedule." } }
        }
        (Ok(total), Ok(start)) => {
            match domain::matrix::build_schedule(total, start, &state.config.repayment_matrix) {
                Ok(schedule) => {
                    let preview = serde_json::json!({
                        "installment_count": schedule.len(),
                        "weekly_installment": schedule.first().map(|s| s.amount.to_string()),
                        "total_amount": total.to_string(),
                        "schedule": schedule.iter().map(|s| serde_json::json!({
                            // The step's own preview's names: one drawing for both.
                            "sequence": s.sequence,
                            "week_start_date": s.week_start.to_string(),
                            "week_end_date": s.week_end.to_string(),
                            "amount": s.amount.to_string(),
                            "balance": s.balance.to_string(),
                        })).collect::<Vec<_>>(),
                    });
                    schedule_preview(&preview)
                }
                Err(e) => html! { p.muted { (e.to_string()) } },
            }
        }
        (Err(_), _) => {
            html! { p.muted { "Enter the total amount (dollars, at most two decimals) to see the schedule." } }
        }
        (_, Err(_)) => html! { p.muted { "Choose the first week to see the schedule." } },
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        fragment.into_string(),
    )
        .into_response())
}

async fn wizard_submit(
    State(state): State<AppState>,
    signed: Signed,
    Path(case_no): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, PageError> {
    use axum::extract::FromRequest;
    signed.user().require(OPERATORS)?;
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (form, file) = if multipart {
        let parts = axum::extract::Multipart::from_request(request, &state).await;
        crate::documents::pages::read_form_keeping_fields(&state, &signed, parts).await?
    } else {
        let body = Bytes::from_request(request, &state)
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()))?;
        (Form::parse(&body), Ok(None))
    };
    // A file of the wrong kind or size: the form comes back as typed, the reason beside the
    // file field, and nothing is saved.
    let (mut file, file_refused) = match file {
        Ok(file) => (file, None),
        Err(refusal) => (None, Some(FieldErrors::from_file_refusal(refusal))),
    };
    let sent = match FormAction::for_roles(OPERATORS)
        .open_form(&state, &signed, form, b"")
        .await
    {
        Ok(sent) => sent,
        Err(error) => {
            if let Some(left) = file {
                crate::documents::service::discard(&state.storage, left).await;
            }
            return Err(error);
        }
    };
    // The file kept from an earlier try: taken off the form, replaced by a new file, or
    // claimed for this one.
    if let Some(token) = sent.get(pending::FIELD) {
        let owner = pending::owner_of(&signed.0.csrf_token);
        let now = state.clock.now();
        if file.is_some() || sent.get("remove_pending") == Some("yes") {
            pending::remove(&state.db, &state.storage, &owner, token, now).await;
        } else {
            file = pending::claim(&state.db, &state.storage, &owner, token, now).await?;
        }
    }
    // Whatever happens below, a stored file that was neither attached to a new invoice nor
    // kept for the next try is removed.
    let outcome = submit_wizard(&sent, &case_no, &mut file, file_refused).await;
    if let Some(left) = file {
        crate::documents::service::discard(&state.storage, left).await;
    }
    outcome
}

/// Discards an unfinished case: closed through the case engine's own move, with the reason
/// in its history; the list no longer offers it.
async fn discard_case(
    State(state): State<AppState>,
    signed: Signed,
    Path(case_no): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(OPERATORS)
        .open(&state, &signed, &body)
        .await?;
    let reason = sent.get("reason").unwrap_or_default().to_string();
    if !(10..=500).contains(&reason.chars().count()) {
        return Err(AppError::field("reason", "must say why in 10 to 500 characters").into());
    }
    crate::bpm::service::move_case(
        &Cases::from_state(&state),
        &case_no,
        "close",
        Some(&reason),
        signed.user(),
        state.clock.now(),
    )
    .await?;
    Ok(see_other(&format!("{PREFIX}/repairs?discarded={case_no}")))
}

/// Keeps the form's file for the session's next try (a preview, a refused form): what the
/// page shows in place of asking for it again.
async fn keep_for_next_try(
    state: &AppState,
    signed: &Signed,
    file: &mut Option<crate::documents::service::Received>,
) -> Option<Pending> {
    let file = file.take()?;
    let owner = pending::owner_of(&signed.0.csrf_token);
    match pending::keep(&state.db, &state.storage, &owner, file, state.clock.now()).await {
        Ok(kept) => Some(kept),
        Err(error) => {
            tracing::warn!(%error, "could not keep a refused form's file");
            None
        }
    }
}

async fn submit_wizard(
    sent: &Sent<'_>,
    case_no: &str,
    file: &mut Option<crate::documents::service::Received>,
    file_refused: Option<FieldErrors>,
) -> Result<Response, PageError> {
    let (state, signed) = (sent.state, sent.signed);
    let mut entered = Entered::from_pairs(&sent.form.0, |n| sent.get(n).map(str::to_string));
    let found = find_driver(state, case_no, &entered.tlc_license_no).await?;
    let workshops = workshop_choices(state).await?;
    if let Some(repair_id) = found["repair_id"].as_str() {
        let location = format!("{PREFIX}/repairs/{repair_id}");
        // Already created. The same form again (a second click, the back button): the same
        // invoice. Other values (another tab): a conflict, as the API answers, never a
        // silent visit to the other tab's invoice.
        let made = service::detail(state.db.reader(), repair_id).await?;
        let key = |n: &str| {
            n.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_uppercase()
        };
        let amount = Money::parse_amount(&crate::web::money_typed(&entered.total_amount))
            .ok()
            .or_else(|| wizard_lines::total_of(&entered.lines, &entered.tax_rate));
        let same = key(&entered.invoice_number) == key(&made.invoice.invoice_number)
            && entered.invoice_date == made.invoice.invoice_date
            && amount == Some(made.totals.repair_amount);
        if same || sent.get("action") != Some("create") {
            return Ok(see_other(&location));
        }
        return Ok(layout::error_page_with(
            AppError::Conflict(format!(
                "This case already created invoice {repair_id} ({}, {}) from other values — another tab, or an earlier send; nothing was done this time",
                made.invoice.invoice_number,
                money(made.totals.repair_amount)
            )),
            Some((&location, repair_id)),
        ));
    }
    let lease = found["leases"].as_array().and_then(|leases| {
        leases.iter().find(|l| {
            l["id"].as_i64().map(|id| id.to_string()).as_deref() == Some(entered.lease.as_str())
        })
    });
    // "Add a line", "Remove": the form again with the rows changed; nothing is checked.
    if let Some(rows) = wizard_lines::edited(sent.get("action"), entered.lines.clone()) {
        entered.lines = rows;
        let kept = keep_for_next_try(state, signed, file).await;
        let errors = file_refused.unwrap_or_default();
        return Ok(render_wizard(
            state,
            signed,
            case_no,
            &entered,
            &found,
            &workshops,
            None,
            kept.as_ref(),
            &errors,
            StatusCode::OK,
        ));
    }
    let preview_only = sent.get("action") != Some("create");
    let (line_items, line_rows) = wizard_lines::step_lines(&entered.lines);
    // Every error of the form in one round: the file's, the lease's and the step's.
    let mut errors = file_refused.unwrap_or_default();
    let output = match lease {
        None => {
            errors.0.push(crate::error::FieldError::new(
                "lease_id",
                "choose one of the driver's leases",
            ));
            None
        }
        Some(lease) => {
            let mut data = serde_json::json!({
                "driver_id": found["driver"]["id"],
                "lease_id": lease["id"],
                "vehicle_id": lease["vehicle_id"],
                "medallion_id": lease["medallion_id"],
                "invoice_number": entered.invoice_number,
                "invoice_date": entered.invoice_date,
                "start_week": entered.start_week,
                // With the file refused, the step only checks: nothing is created.
                "preview_only": preview_only || !errors.is_empty(),
            });
            if !entered.notes.is_empty() {
                data["notes"] = serde_json::Value::String(entered.notes.clone());
            }
            // The workshop chosen; a form of before the registry names only its type.
            match (
                entered.workshop_id.parse::<i64>(),
                sent.get("workshop_type"),
            ) {
                (Ok(id), _) => data["workshop_id"] = id.into(),
                (Err(_), Some(word)) => data["workshop_type"] = word.into(),
                (Err(_), None) => data["workshop_id"] = entered.workshop_id.clone().into(),
            }
            if !entered.total_amount.is_empty() {
                // As people type money ($1,234.56); the step itself stays strict.
                data["total_amount"] = crate::web::money_typed(&entered.total_amount).into();
            }
            if !line_items.is_empty() {
                data["line_items"] = line_items.into();
            }
            if !entered.tax_rate.is_empty() {
                data["tax_rate"] = entered.tax_rate.clone().into();
            }
            let submitted = crate::bpm::service::submit_step(
                &Cases::from_state(state),
                case_no,
                STEP,
                data,
                signed.user(),
                state.clock.now(),
            )
            .await;
            match submitted {
                Ok(output) => Some(output),
                Err(error) => {
                    let refused = FieldErrors::from_error(error)?;
                    errors
                        .0
                        .extend(wizard_lines::beside_rows(refused, &line_rows).0);
                    None
                }
            }
        }
    };
    if !errors.is_empty() {
        let kept = keep_for_next_try(state, signed, file).await;
        return sent
            .refuse(errors, async |errors| {
                Ok(render_wizard(
                    state,
                    signed,
                    case_no,
                    &entered,
                    &found,
                    &workshops,
                    None,
                    kept.as_ref(),
                    &errors,
                    StatusCode::OK,
                ))
            })
            .await;
    }
    let output = output.unwrap_or_default();
    if preview_only {
        let kept = keep_for_next_try(state, signed, file).await;
        return Ok(render_wizard(
            state,
            signed,
            case_no,
            &entered,
            &found,
            &workshops,
            Some(&output),
            kept.as_ref(),
            &FieldErrors::default(),
            StatusCode::OK,
        ));
    }
    let repair_id = output["repair_id"]
        .as_str()
        .or_else(|| output["data"]["repair_id"].as_str())
        .unwrap_or_default()
        .to_string();
    if let Some(file) = file.take() {
        // The invoice exists whatever happens to its file; a failure is logged and the file
        // can be uploaded again from the invoice page.
        if let Err(e) =
            crate::documents::pages::attach_to_case_invoice(state, signed, case_no, file).await
        {
            tracing::error!(error = %e, repair_id, "could not attach the wizard's file to the new invoice");
        }
    }
    Ok(see_other(&format!("{PREFIX}/repairs/{repair_id}")))
}

/// The workshop's lines of an invoice, with the subtotals, the tax and the total under them.
fn invoice_lines_table(inv: &super::model::InvoiceCard) -> Markup {
    let sums = &inv.subtotals;
    let summary = [
        ("Parts", sums.parts, false),
        ("Labour", sums.labour, false),
        ("Fees", sums.fees, false),
        ("Discounts", sums.discounts, true),
    ];
    html! {
        section aria-labelledby="lines-heading" {
            h2 #lines-heading { "Lines" }
            div.table-wrap {
                table {
                    caption { "The workshop's invoice " (inv.invoice_number) ", line by line" }
                    thead { tr { th { "#" } th { "Kind" } th { "Description" } th { "Part number" } th.num { "Quantity" } th.num { "Unit price" } th { "Taxable" } th.num { "Amount" } } }
                    tbody {
                        @for line in &inv.line_items {
                            tr {
                                td { (line.position) }
                                td { (line.kind) }
                                td { (line.description) }
                                td { (line.part_number.as_deref().unwrap_or("—")) }
                                td.num { (line.quantity) }
                                (money_cell(line.unit_price))
                                td { @if line.taxable { "Yes" } @else { "No" } }
                                td.num { @if line.kind == domain::invoice_lines::LineKind::Discount { "−" } (money(line.amount)) }
                            }
                        }
                    }
                    tfoot {
                        @for (label, amount, minus) in summary {
                            @if !amount.is_zero() {
                                tr { th colspan="7" scope="row" { (label) } td.num { @if minus { "−" } (money(amount)) } }
                            }
                        }
                        tr { th colspan="7" scope="row" { "Tax (" (inv.tax_rate) " %)" } td.num { (money(sums.tax)) } }
                        tr { th colspan="7" scope="row" { "Total" } td.num { strong { (money(inv.total_amount)) } } }
                    }
                }
            }
        }
    }
}

/// An invoice's documents and history, read side by side.
async fn invoice_extras(
    state: &AppState,
    detail: &InvoiceDetail,
) -> Result<
    (
        Vec<crate::documents::model::Document>,
        Vec<crate::audit::AuditRecord>,
    ),
    AppError,
> {
    let (documents, history) = tokio::join!(
        crate::documents::service::of_invoice(&state.db, detail.invoice_pk),
        crate::audit::history(
            state.db.reader(),
            "repair_invoice",
            &detail.repair_id,
            detail.invoice.case_no.as_deref(),
        )
    );
    Ok((documents?, history?))
}

async fn invoice(
    State(state): State<AppState>,
    signed: Signed,
    Path(repair_id): Path<String>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let detail = service::detail(state.db.reader(), &repair_id).await?;
    let (documents, history) = invoice_extras(&state, &detail).await?;
    Ok(render_invoice(
        &state,
        &signed,
        &detail,
        &documents,
        &history,
        None,
        StatusCode::OK,
    ))
}

fn render_invoice(
    state: &AppState,
    signed: &Signed,
    detail: &InvoiceDetail,
    documents: &[crate::documents::model::Document],
    history: &[crate::audit::AuditRecord],
    error: Option<(&str, &str)>,
    status: StatusCode,
) -> Response {
    let tz = state.config.timezone;
    let inv = &detail.invoice;
    let may_change = signed.user().has_any(FINANCE_OR_OPERATIONS);
    let actions: Vec<(&str, &str, &str)> = match inv.status {
        InvoiceStatus::Open => vec![
            ("hold", "Put on hold", "Its installments are not posted until it is resumed."),
            ("cancel", "Cancel invoice", "Posted installments are voided in the ledger and nothing more is collected. This cannot be undone."),
        ],
        InvoiceStatus::Hold => vec![
            ("resume", "Resume", "Its due installments are posted at the next run."),
            ("cancel", "Cancel invoice", "Posted installments are voided in the ledger and nothing more is collected. This cannot be undone."),
        ],
        _ => vec![],
    };
    let base = format!("{PREFIX}/repairs/{}", detail.repair_id);
    // Why it is held, from the latest hold in its history, while it is held.
    let held_because = (inv.status == InvoiceStatus::Hold)
        .then(|| {
            history
                .iter()
                .rev()
                .find(|h| h.details.as_ref().and_then(|d| d["to"].as_str()) == Some("Hold"))
        })
        .flatten()
        .map(|h| {
            let reason = h
                .details
                .as_ref()
                .and_then(|d| d["reason"].as_str())
                .unwrap_or_default()
                .to_string();
            (reason, h.actor.clone(), h.created_on.clone())
        });
    let content = html! {
        div.actions {
            (badge(inv.status.as_str()))
            a.button href={ (base) "/receipt" } { "Receipt (PDF)" }
        }
        @if let Some((reason, by, on)) = &held_because {
            p.notice role="status" { strong { "On hold: " } (reason) " — " (by) ", " (time(on, tz)) }
        }
        @if let Some((action, message)) = error {
            p.notice.error role="alert" { "Could not " (action) ": " (message) }
        }
        @if may_change && !actions.is_empty() {
            div.actions {
                @for (action, label, consequence) in &actions {
                    details.confirm {
                        summary.button.danger[*action == "cancel"] role="button" { (label) "…" }
                        form method="post" action={ (base) "/" (action) } {
                            (csrf(signed))
                            (crate::web::once::fresh())
                            p { (consequence) }
                            @let reason_id = format!("reason-{action}");
                            @let at_least = if *action == "hold" { 10 } else { 1 };
                            div.field {
                                label for=(reason_id) { @if *action == "hold" { "Reason (10 to 500 characters)" } @else { "Reason" } }
                                input id=(reason_id) name="reason" type="text" required minlength=(at_least) maxlength="500";
                            }
                            @if *action == "cancel" {
                                div.choice {
                                    input #confirm-cancel type="checkbox" name="confirm" value="yes" required;
                                    label for="confirm-cancel" { "Yes, cancel invoice " (detail.repair_id) }
                                }
                            }
                            button.primary.danger[*action == "cancel"] type="submit" { (label) }
                        }
                    }
                }
            }
        }
        div.cards {
            section.card {
                h2 { "Totals" }
                dl.facts {
                    dt { "Repair amount" } dd { (money(detail.totals.repair_amount)) }
                    dt { "Paid" } dd { (money(detail.totals.total_paid)) }
                    dt { "Remaining" } dd { (money(detail.totals.remaining_balance)) }
                    dt { "Installments paid" } dd { (detail.totals.progress) }
                }
            }
            section.card {
                h2 { "Invoice" }
                dl.facts {
                    dt { "Invoice number" } dd { (inv.invoice_number) }
                    dt { "Invoice date" } dd { (date(&inv.invoice_date)) }
                    dt { "Workshop" } dd { a href={ (PREFIX) "/workshops/" (inv.workshop.id) } { (inv.workshop.name) } " · " (inv.workshop_type) }
                    @if !inv.line_items.is_empty() { dt { "Tax rate" } dd { (inv.tax_rate) " %" } }
                    dt { "Weekly" } dd { (money(inv.weekly_installment)) }
                    dt { "First week" } dd { (date(&inv.start_week)) }
                    @if let Some(notes) = &inv.notes { dt { "Notes" } dd { (notes) } }
                    dt { "Created" } dd { (time(&inv.created_on, tz)) " by " (inv.created_by) }
                }
            }
            section.card {
                h2 { "Driver" }
                dl.facts {
                    dt { "Name" } dd { a href={ (PREFIX) "/fleet/drivers/" (detail.driver.id) } { (detail.driver.full_name) } }
                    dt { "Driver ID" } dd { (detail.driver.driver_id) }
                    dt { "TLC license" } dd { (detail.driver.tlc_license_no) }
                }
            }
            section.card {
                h2 { "Vehicle and lease" }
                dl.facts {
                    dt { "Vehicle" } dd { (detail.vehicle.year) " " (detail.vehicle.make) " " (detail.vehicle.model) }
                    dt { "VIN" } dd { a href={ (PREFIX) "/fleet/vehicles/" (detail.vehicle.id) } { (detail.vehicle.vin) } }
                    dt { "Plate" } dd { (detail.vehicle.plate_number.as_deref().unwrap_or("—")) }
                    dt { "Lease" } dd { a href={ (PREFIX) "/fleet/leases/" (detail.lease.id) } { (detail.lease.lease_id) } " · " (detail.lease.lease_type_label) }
                    dt { "Medallion" } dd { a href={ (PREFIX) "/fleet/medallions/" (detail.lease.medallion_id) } { (detail.lease.medallion_number) } }
                }
            }
        }
        @if !inv.line_items.is_empty() { (invoice_lines_table(inv)) }
        h2 { "Schedule" }
        div.table-wrap {
            table {
                thead { tr {
                    th { "#" } th { "Week" } th.num { "Installment" } th.num { "Paid" } th.num { "Remaining" }
                    th { "Status" } th { "Posted" }
                } }
                tbody {
                    @for row in &detail.schedule {
                        tr {
                            td { (row.sequence) }
                            td { (date(&row.week_start_date)) " – " (date(&row.week_end_date)) }
                            (money_cell(row.amount)) (money_cell(row.paid)) (money_cell(row.remaining))
                            td { (badge(row.status.as_str())) }
                            td { @if let Some(on) = &row.posted_on { (time(on, tz)) } @else { "—" } }
                        }
                    }
                }
            }
        }
        h2 #documents { "Documents" }
        @if documents.is_empty() {
            p.empty { "No document yet." }
        } @else {
            ul {
                @for d in documents {
                    li {
                        a href={ (PREFIX) "/documents/" (d.document_id) } { (d.file_name) }
                        " · " (reports::thousands(d.size_bytes)) " bytes · " (time(&d.uploaded_on, tz)) " by " (d.uploaded_by)
                    }
                }
            }
        }
        @if layout::may_operate(signed) {
            form.card method="post" action={ (base) "/documents" } enctype="multipart/form-data" {
                (csrf(signed))
                (field("Attach a document (PDF, JPEG or PNG)", "document-file", html! {
                    input #document-file name="file" type="file" required
                        accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png";
                }, None))
                button type="submit" { "Upload" }
            }
        }
        h2 { "History" }
        div.table-wrap {
            table {
                thead { tr { th { "When" } th { "Who" } th { "What" } } }
                tbody {
                    @for entry in history {
                        tr {
                            td { (time(&entry.created_on, tz)) }
                            td { (entry.actor) }
                            td { (entry.action.replace('_', " ")) @if let Some(reason) = entry.details.as_ref().and_then(|d| d["reason"].as_str()) { ": " (reason) } }
                        }
                    }
                }
            }
        }
    };
    Page {
        title: &format!("Repair invoice {}", detail.repair_id),
        crumbs: &[("Dashboard", "/app/"), ("Vehicle Repairs", "/app/repairs")],
        signed: Some(signed),
        section: "repairs",
    }
    .render_with(status, content)
}

async fn receipt(
    State(state): State<AppState>,
    signed: Signed,
    Path(repair_id): Path<String>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let receipts = super::receipt::Receipts::from_state(&state);
    let pdf = super::receipt::fetch(
        receipts,
        &repair_id,
        &signed.user().username,
        state.clock.now(),
    )
    .await?;
    Ok(crate::exports::stream::file_response(
        axum::body::Body::from(pdf),
        "application/pdf",
        &format!("receipt_{repair_id}.pdf"),
    ))
}

async fn change(
    State(state): State<AppState>,
    signed: Signed,
    Path((repair_id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, PageError> {
    let action = match action.as_str() {
        "hold" => Action::Hold,
        "resume" => Action::Resume,
        "cancel" => Action::Cancel,
        other => return Err(AppError::NotFound(format!("no such action: {other}")).into()),
    };
    let sent = FormAction::for_roles(FINANCE_OR_OPERATIONS)
        .once(format!("{}:{repair_id}", action.word()))
        .open(&state, &signed, &body)
        .await?;
    let mut tx = sent.begin().await?;
    let changed = if action == Action::Cancel && sent.get("confirm") != Some("yes") {
        Err(AppError::field(
            "confirm",
            "tick the box to confirm the cancellation",
        ))
    } else {
        super::lifecycle::change(
            &mut tx,
            &repair_id,
            action,
            sent.get("reason").unwrap_or_default(),
            &signed.user().username,
            state.clock.now(),
            state.config.timezone,
        )
        .await
    };
    let (state, signed, repair_id) = (&state, &signed, &repair_id);
    sent.finish(
        tx,
        changed,
        |_| {
            Done::to(
                format!("{PREFIX}/repairs/{repair_id}"),
                format!("the {} of {repair_id}", action.word()),
            )
        },
        async |errors| {
            let message = errors
                .0
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            refused_change(state, signed, repair_id, action, message).await
        },
    )
    .await
}

/// The invoice page again, saying why the action was refused.
async fn refused_change(
    state: &AppState,
    signed: &Signed,
    repair_id: &str,
    action: Action,
    message: String,
) -> Result<Response, PageError> {
    let detail = service::detail(state.db.reader(), repair_id).await?;
    let (documents, history) = invoice_extras(state, &detail).await?;
    let word = match action {
        Action::Hold => "put on hold",
        Action::Resume => "resume",
        Action::Cancel => "cancel",
    };
    Ok(render_invoice(
        state,
        signed,
        &detail,
        &documents,
        &history,
        Some((word, &message)),
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

async fn installments(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let filters = query.filled();
    let db = state.db.reader();
    let listed = listed(
        InstallmentQuery::parse(&filters, state.db.backend()),
        async |q| {
            let (items, total) = repo::list_installments(db, &q).await?;
            Ok(DbPage::new(items, total, q.page))
        },
    )
    .await?;
    Ok(ListPage {
        title: "Installments",
        crumbs: &[("Dashboard", "/app/")],
        section: "installments",
        path: "/installments",
        above: html! {},
        filters: vec![
            Filter::choice(
                "status",
                "Status",
                domain::status::InstallmentStatus::all_words()
                    .into_iter()
                    .map(|s| (s, s)),
            ),
            Filter::search("repair_id", "Repair ID"),
            Filter::search("lease_id", "Lease"),
            Filter::search("driver_id", "Driver"),
            Filter::search("medallion_id", "Medallion"),
            Filter::search("vehicle_id", "Vehicle (VIN)"),
            Filter::date("from_week", "Week from"),
            Filter::date("to_week", "Week to"),
        ],
        export: None,
        noun: ("installment", "installments"),
        empty: "No installment matches these filters.",
        caption: "Installments",
        columns: vec![
            Column::text("Installment", |i: &InstallmentItem| {
                Some(i.installment_id.as_str())
            }),
            Column::link("Repair ID", |i: &InstallmentItem| {
                (format!("/repairs/{}", i.repair_id), i.repair_id.clone())
            }),
            Column::text("Driver", |i: &InstallmentItem| Some(i.driver_name.as_str())),
            Column::text("Medallion", |i: &InstallmentItem| {
                Some(i.medallion_no.as_str())
            }),
            Column::shown("Week", |i: &InstallmentItem| date(&i.week_start_date)),
            Column::money("Amount", |i: &InstallmentItem| i.amount),
            Column::money("Paid", |i: &InstallmentItem| i.paid),
            Column::money("Remaining", |i: &InstallmentItem| i.remaining),
            Column::badge("Status", |i: &InstallmentItem| i.status.as_str()),
        ],
    }
    .render(&signed, &filters, listed))
}
