//! The fleet records in the console: drivers, leases, vehicles and medallions — search
//! and detail pages; for operations, the changes that may be made (a driver's contact
//! details and status, a vehicle's plate, a lease's additional drivers) and the lease-end
//! flow. A vehicle's and a driver's pages list their repair invoices with totals.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::status::{DriverStatus, LeaseStatus, LeaseType, TerminationReason};
use maud::{html, Markup};

use super::model::{Driver, Lease, Medallion, Vehicle};
use super::{edit, repo};
use crate::api::extract::RawQuery;
use crate::auth::model::{OPERATORS, READERS};
use crate::db::{Page as DbPage, PageRequest};
use crate::error::AppError;
use crate::repairs::service::HistoryOf;
use crate::state::AppState;
use crate::web::action::{Done, FormAction};
use crate::web::layout::{
    badge, checkbox, csrf, date, field, input_field, money, money_cell, select,
};
use crate::web::list::{listed, Column, Filter, ListPage};
use crate::web::{see_other, FieldErrors, Page, PageError, Signed, PREFIX};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/fleet",
            get(|| async { see_other("/app/fleet/drivers") }),
        )
        .route("/app/fleet/drivers", get(drivers))
        .route("/app/fleet/drivers/{id}", get(driver).post(driver_save))
        .route("/app/fleet/leases", get(leases))
        .route("/app/fleet/leases/{id}", get(lease))
        .route("/app/fleet/leases/{id}/drivers", post(lease_drivers_save))
        .route("/app/fleet/leases/{id}/terminate", post(lease_terminate))
        .route("/app/fleet/vehicles", get(vehicles))
        .route("/app/fleet/vehicles/{id}", get(vehicle).post(vehicle_save))
        .route("/app/fleet/medallions", get(medallions))
        .route("/app/fleet/medallions/{id}", get(medallion))
        .route("/app/fleet/new", get(new_records))
        .route("/app/fleet/new/{kind}", post(create_record))
        .route(
            "/app/fleet/import",
            post(import).layer(axum::extract::DefaultBodyLimit::max(
                MAX_IMPORT_FILE + 64 * 1024,
            )),
        )
}

/// Largest fleet CSV the console takes.
const MAX_IMPORT_FILE: usize = 5 * 1024 * 1024;

fn may_operate(signed: &Signed) -> bool {
    signed.user().has_any(OPERATORS)
}

fn tabs(current: &str, signed: &Signed) -> Markup {
    let may = may_operate(signed);
    html! {
        nav.tabs aria-label="Fleet records" {
            @for (key, text) in [("drivers", "Drivers"), ("leases", "Leases"), ("vehicles", "Vehicles"), ("medallions", "Medallions"), ("new", "New records and import")] {
                @if key == "new" && !may { } @else {
                @let href = format!("{PREFIX}/fleet/{key}");
                @if key == current { a href=(href) aria-current="page" { (text) } }
                @else { a href=(href) { (text) } }
                }
            }
        }
    }
}

fn render(
    signed: &Signed,
    title: &str,
    crumbs: &[(&str, &str)],
    status: StatusCode,
    content: Markup,
) -> Response {
    Page {
        title,
        crumbs,
        signed: Some(signed),
        section: "fleet",
    }
    .render_with(status, content)
}

fn page_of(query: &RawQuery) -> Result<PageRequest, AppError> {
    PageRequest::parse(query.get("page"), query.get("per_page"))
}

async fn drivers(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    let db = &state.db;
    let parsed = (|| {
        Ok((
            repo::DriverFilter {
                tlc_license_no: q.get("tlc_license_no").map(str::to_string),
                name: q.get("name").map(str::to_string),
                status: known_word(&q, "status", DriverStatus::parse)?,
            },
            page_of(&q)?,
        ))
    })();
    let listed = listed(parsed, async |(filter, page)| {
        let (items, total) = repo::list_drivers(db.reader(), db.ilike(), &filter, page).await?;
        Ok(DbPage::new(items, total, page))
    })
    .await?;
    Ok(ListPage {
        title: "Drivers",
        crumbs: &[("Dashboard", "/app/")],
        section: "fleet",
        path: "/fleet/drivers",
        above: tabs("drivers", &signed),
        filters: vec![
            Filter::search("name", "Name"),
            Filter::search("tlc_license_no", "TLC license"),
            Filter::choice(
                "status",
                "Status",
                DriverStatus::ALL.iter().map(|s| (s.as_str(), s.as_str())),
            ),
        ],
        export: None,
        noun: ("driver", "drivers"),
        empty: "No driver matches.",
        caption: "Drivers",
        columns: vec![
            Column::link("Driver", |d: &Driver| {
                (format!("/fleet/drivers/{}", d.id), d.driver_id.clone())
            }),
            Column::text("Name", |d: &Driver| Some(d.full_name.as_str())),
            Column::text("TLC license", |d: &Driver| Some(d.tlc_license_no.as_str())),
            Column::text("Phone", |d: &Driver| d.phone.as_deref()),
            Column::badge("Status", |d: &Driver| d.status.as_str()),
        ],
    }
    .render(&signed, &q, listed))
}

/// A filter that must be one of a set of words: the word as stored, or a 422 for its field.
fn known_word<W>(
    q: &RawQuery,
    name: &str,
    parse: impl Fn(&str) -> Option<W>,
) -> Result<Option<String>, AppError> {
    match q.get(name) {
        None => Ok(None),
        Some(word) if parse(word).is_some() => Ok(Some(word.to_string())),
        Some(_) => Err(AppError::field(name, "is not one of the words offered")),
    }
}

/// The repair invoices of a vehicle or driver with their totals.
async fn repair_history(state: &AppState, of: HistoryOf) -> Result<Markup, PageError> {
    let (rows, totals) = crate::repairs::service::repair_history(state.db.reader(), of).await?;
    Ok(html! {
        section.card aria-label="Repair history" {
            h2 { "Repair history" }
            dl.facts {
                dt { "Invoices" } dd { (totals.invoices) }
                dt { "Total repair cost" } dd.stat { (money(totals.amount)) }
                dt { "Paid" } dd { (money(totals.paid)) }
                dt { "Remaining" } dd { (money(totals.remaining)) }
            }
            @if rows.is_empty() { p.empty { "No repair invoice." } } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Repair invoices" {
                    table {
                        thead { tr { th { "Repair ID" } th { "Invoice" } th { "Date" } th { "Workshop" } th.num { "Amount" } th.num { "Paid" } th.num { "Remaining" } th { "Status" } } }
                        tbody {
                            @for r in &rows {
                                tr {
                                    td { a href={ (PREFIX) "/repairs/" (r.repair_id) } { (r.repair_id) } }
                                    td { (r.invoice_number) } td { (date(&r.invoice_date)) } td { (r.workshop) }
                                    (money_cell(r.settlement.paid + r.settlement.remaining))
                                    (money_cell(r.settlement.paid)) (money_cell(r.settlement.remaining))
                                    td { (badge(r.status.as_str())) }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

async fn driver(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    render_driver(&state, &signed, id, &FieldErrors::default(), StatusCode::OK).await
}

async fn render_driver(
    state: &AppState,
    signed: &Signed,
    id: i64,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let d = repo::driver_by_id(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no driver with id {id}")))?;
    let filter = repo::LeaseFilter {
        status: None,
        lease_type: None,
        medallion_number: None,
        driver_id: Some(id),
        managed_only: false,
        search: None,
    };
    let (leases, _) = repo::list_leases(
        state.db.reader(),
        &filter,
        PageRequest::parse(None, Some("100"))?,
    )
    .await?;
    let history = repair_history(state, HistoryOf::Driver(id)).await?;
    let title = format!("{} ({})", d.full_name, d.driver_id);
    let content = html! {
        div.actions { (badge(d.status.as_str())) }
        div.cards {
            section.card {
                h2 { "Driver" }
                dl.facts {
                    dt { "Name" } dd { (d.full_name) }
                    dt { "TLC license" } dd { (d.tlc_license_no) }
                    dt { "Phone" } dd { (d.phone.as_deref().unwrap_or("—")) }
                    dt { "Email" } dd { (d.email.as_deref().unwrap_or("—")) }
                    dt { "Paid by" } dd { (d.pay_to) }
                }
            }
            section.card aria-label="Leases" {
                h2 { "Leases" }
                @if leases.is_empty() { p.empty { "No lease." } }
                ul {
                    @for l in &leases {
                        li { a href={ (PREFIX) "/fleet/leases/" (l.id) } { (l.lease_id) } " · " (l.lease_type_label) " · " (l.status.as_str()) }
                    }
                }
            }
        }
        @if may_operate(signed) {
            form.card method="post" action={ (PREFIX) "/fleet/drivers/" (id) } aria-label="Change contact details" {
                h2 { "Contact details and status" }
                (csrf(signed))
                div.filters {
                    (input_field("Phone", "phone", d.phone.as_deref().unwrap_or_default(), "tel", errors))
                    (input_field("Email", "email", d.email.as_deref().unwrap_or_default(), "email", errors))
                    (field("Status", "status", html! {
                        select #status name="status" {
                            @for s in DriverStatus::ALL { option value=(s.as_str()) selected[*s == d.status] { (s.as_str()) } }
                        }
                    }, errors.for_field("status")))
                }
                @for e in errors.general(&["phone", "email", "status"]) { p.notice.error role="alert" { (e.message) } }
                button.primary type="submit" { "Save driver" }
            }
        }
        (history)
    };
    Ok(render(
        signed,
        &title,
        &[("Dashboard", "/app/"), ("Drivers", "/app/fleet/drivers")],
        status,
        content,
    ))
}

async fn driver_save(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(OPERATORS)
        .open(&state, &signed, &body)
        .await?;
    let update = edit::DriverUpdate {
        phone: Some(sent.raw("phone")),
        email: Some(sent.raw("email")),
        status: sent.get("status").map(str::to_string),
    };
    let mut tx = sent.begin().await?;
    let updated = edit::update_driver(
        &mut tx,
        id,
        &update,
        &signed.user().username,
        state.clock.now(),
    )
    .await;
    let (state, signed) = (&state, &signed);
    sent.finish(
        tx,
        updated,
        |_| {
            Done::to(
                format!("{PREFIX}/fleet/drivers/{id}"),
                "the driver's details",
            )
        },
        async |errors| {
            render_driver(state, signed, id, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        },
    )
    .await
}

async fn leases(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    let db = state.db.reader();
    let parsed = (|| {
        Ok((
            repo::LeaseFilter {
                status: known_word(&q, "status", LeaseStatus::parse)?,
                lease_type: known_word(&q, "lease_type", LeaseType::parse)?,
                medallion_number: q.get("medallion_number").map(|m| m.to_ascii_uppercase()),
                driver_id: None,
                managed_only: false,
                search: q.get("search").map(str::to_string),
            },
            page_of(&q)?,
        ))
    })();
    let listed = listed(parsed, async |(filter, page)| {
        let (items, total) = repo::list_leases(db, &filter, page).await?;
        Ok(DbPage::new(items, total, page))
    })
    .await?;
    Ok(ListPage {
        title: "Leases",
        crumbs: &[("Dashboard", "/app/")],
        section: "fleet",
        path: "/fleet/leases",
        above: tabs("leases", &signed),
        filters: vec![
            Filter::choice(
                "status",
                "Status",
                LeaseStatus::ALL.iter().map(|s| (s.as_str(), s.as_str())),
            ),
            Filter::choice(
                "lease_type",
                "Lease type",
                LeaseType::ALL.iter().map(|t| (t.as_str(), t.label())),
            ),
            Filter::search("medallion_number", "Medallion"),
        ],
        export: None,
        noun: ("lease", "leases"),
        empty: "No lease matches.",
        caption: "Leases",
        columns: vec![
            Column::link("Lease", |l: &Lease| {
                (format!("/fleet/leases/{}", l.id), l.lease_id.clone())
            }),
            Column::text("Type", |l: &Lease| Some(l.lease_type_label.as_str())),
            Column::text("Driver manager", |l: &Lease| {
                l.drivers
                    .iter()
                    .find(|d| d.is_driver_manager)
                    .map(|d| d.full_name.as_str())
            }),
            Column::text("Medallion", |l: &Lease| Some(l.medallion_number.as_str())),
            Column::text("VIN", |l: &Lease| Some(l.vin.as_str())),
            Column::money("Weekly rate", |l: &Lease| l.weekly_rate),
            Column::shown("Start", |l: &Lease| date(&l.start_date)),
            Column::badge("Status", |l: &Lease| l.status.as_str()),
        ],
    }
    .render(&signed, &q, listed))
}

async fn lease(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let ended = query.get("done") == Some("ended");
    render_lease(&state, &signed, id, &FieldErrors::default(), ended).await
}

async fn render_lease(
    state: &AppState,
    signed: &Signed,
    id: i64,
    errors: &FieldErrors,
    ended: bool,
) -> Result<Response, PageError> {
    let l = repo::lease_by_id(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no lease with id {id}")))?;
    let open = matches!(
        l.status,
        LeaseStatus::Active | LeaseStatus::InProgress | LeaseStatus::Suspended
    );
    let additional: Vec<String> = l
        .drivers
        .iter()
        .filter(|d| !d.is_driver_manager)
        .map(|d| d.driver_business_id.clone())
        .collect();
    let today = domain::calendar::local_date(state.clock.now(), state.config.timezone).to_string();
    // A refused form comes back as it was sent (the kit's inputs show what was typed):
    // resent as shown, it does what was asked.
    let additional = additional.join(", ");
    let ended = ended.then(|| {
        let end = l.end_date.as_deref().map(date).unwrap_or_default();
        format!("The lease ended on {end} ({}).", l.status.as_str())
    });
    let corrections = crate::dtr::corrections::of_lease(state.db.reader(), id).await?;
    let title = format!("Lease {}", l.lease_id);
    let content = html! {
        div.actions {
            (badge(l.status.as_str()))
            a.button href={ (PREFIX) "/leases/" (id) "/statement" } { "Statement of account" }
        }
        @if let Some(said) = &ended { p.notice role="status" { (said) } }
        div.cards {
            section.card {
                h2 { "Lease" }
                dl.facts {
                    dt { "Type" } dd { (l.lease_type_label) }
                    dt { "Weekly rate" } dd { (money(l.weekly_rate)) }
                    dt { "Vehicle" } dd { a href={ (PREFIX) "/fleet/vehicles/" (l.vehicle_id) } { (l.vin) } " · plate " (l.plate_number.as_deref().unwrap_or("—")) }
                    dt { "Medallion" } dd { (l.medallion_number) }
                    dt { "Start" } dd { (date(&l.start_date)) }
                    dt { "End" } dd { (l.end_date.as_deref().map(date).unwrap_or_else(|| "—".into())) }
                }
            }
            section.card aria-label="Drivers" {
                h2 { "Drivers" }
                ul {
                    @for d in &l.drivers {
                        li {
                            a href={ (PREFIX) "/fleet/drivers/" (d.driver_id) } { (d.full_name) }
                            " (" (d.driver_business_id) ", TLC " (d.tlc_license_no) ") · "
                            @if d.is_driver_manager { "driver manager" } @else { "additional driver" }
                        }
                    }
                }
            }
        }
        @if !corrections.is_empty() {
            section.card aria-label="Corrections after final statements" {
                h2 { "Corrections after final statements" }
                p.muted { "Postings voided after the statement that counted them was final. The statement stays as it was; the correction is carried by the statement of the week shown, or, once the lease's last statement is final, stays an open balance of the lease." }
                div.table-wrap tabindex="0" role="region" aria-label="Corrections" {
                    table {
                        thead { tr { th { "Week" } th { "Statement" } th { "Posting" } th { "Reason" } th { "Carried by" } th.num { "Owed again" } th.num { "Owed back" } th.num { "Still open" } } }
                        tbody {
                            @for a in &corrections {
                                tr {
                                    td { (date(&a.week)) } td { (a.dtr_number) }
                                    td { a href={ (PREFIX) "/ledger/postings/" (a.posting_id) } { (a.posting_id) } }
                                    td { (a.reason) }
                                    td { "week of " (date(&a.carried_by_week)) }
                                    (money_cell(a.owed_again)) (money_cell(a.amount)) (money_cell(a.still_open))
                                }
                            }
                        }
                    }
                }
            }
        }
        @if may_operate(signed) && open {
            form.card method="post" action={ (PREFIX) "/fleet/leases/" (id) "/drivers" } aria-label="Additional drivers" {
                h2 { "Additional drivers" }
                (csrf(signed))
                (input_field("Additional drivers (driver ids or TLC licenses, separated by commas)", "additional_drivers", &additional, "text", errors))
                @for e in errors.general(&["additional_drivers", "end_date", "reason", "note", "confirm"]) { p.notice.error role="alert" { (e.message) } }
                button.primary type="submit" { "Save drivers" }
            }
            details.confirm open[errors.for_field("end_date").is_some() || errors.for_field("reason").is_some() || errors.for_field("confirm").is_some()] {
                summary.button.danger role="button" { "End this lease…" }
                form method="post" action={ (PREFIX) "/fleet/leases/" (id) "/terminate" } {
                    (csrf(signed))
                    (crate::web::once::fresh())
                    p { "The lease ends on its last day: its medallion is free again, the rent of its last week is prorated, open repair invoices have their remaining installments posted at once, and the next Sunday run makes its final statement." }
                    (input_field("Last day", "end_date", &today, "date", errors))
                    (field("Reason", "reason", select("reason", TerminationReason::ALL.iter().map(|r| (r.as_str(), r.as_str().replace('_', " "))), "", errors.for_field("reason")), errors.for_field("reason")))
                    (input_field("Note", "note", "", "text", errors))
                    div.choice {
                        (checkbox("confirm", "yes", false, true))
                        label for="confirm" { "Yes, end lease " (l.lease_id) }
                    }
                    button.primary.danger type="submit" { "End lease" }
                }
            }
        }
    };
    Ok(render(
        signed,
        &title,
        &[("Dashboard", "/app/"), ("Leases", "/app/fleet/leases")],
        StatusCode::OK,
        content,
    ))
}

async fn lease_drivers_save(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(OPERATORS)
        .open(&state, &signed, &body)
        .await?;
    let named: Vec<serde_json::Value> = sent
        .raw("additional_drivers")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| serde_json::Value::String(s.to_string()))
        .collect();
    let update = edit::LeaseUpdate {
        additional_drivers: Some(named),
    };
    let mut tx = sent.begin().await?;
    let updated = edit::update_lease(
        &mut tx,
        id,
        &update,
        &signed.user().username,
        state.clock.now(),
    )
    .await;
    let (state, signed) = (&state, &signed);
    sent.finish(
        tx,
        updated,
        |_| Done::to(format!("{PREFIX}/fleet/leases/{id}"), "the lease's drivers"),
        async |mut errors| {
            // The API's errors point into its JSON (`/additional_drivers/1`); here they
            // belong beside the one field.
            for e in &mut errors.0 {
                e.pointer = None;
            }
            render_lease(state, signed, id, &errors, false).await
        },
    )
    .await
}

async fn lease_terminate(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(OPERATORS)
        .once(format!("end-lease:{id}"))
        .open(&state, &signed, &body)
        .await?;
    let request = super::lease_end::TerminateRequest {
        end_date: sent.get("end_date").unwrap_or_default().to_string(),
        reason: sent.get("reason").unwrap_or_default().to_string(),
        note: sent.get("note").map(str::to_string),
    };
    let confirmed = sent.get("confirm") == Some("yes");
    let terms = super::lease_end::Terms {
        early_termination_fee: state.config.early_termination_fee,
        timezone: state.config.timezone,
    };
    let mut tx = sent.begin().await?;
    let ended = if confirmed {
        super::lease_end::terminate(
            &mut tx,
            id,
            &request,
            terms,
            &signed.user().username,
            state.clock.now(),
        )
        .await
    } else {
        Err(AppError::field("confirm", "tick the box to confirm"))
    };
    let (state, signed) = (&state, &signed);
    sent.finish(
        tx,
        ended,
        |outcome| {
            Done::to(
                format!("{PREFIX}/fleet/leases/{id}?done=ended"),
                format!("the end of lease {}", outcome.lease_id),
            )
        },
        async |errors| render_lease(state, signed, id, &errors, false).await,
    )
    .await
}

async fn vehicles(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    let db = state.db.reader();
    let vin = q.get("vin").map(|v| v.to_ascii_uppercase());
    let plate = q.get("plate_number").map(|v| v.to_ascii_uppercase());
    let listed = listed(page_of(&q), async |page| {
        let (items, total) =
            repo::list_vehicles(db, vin.as_deref(), plate.as_deref(), page).await?;
        Ok(DbPage::new(items, total, page))
    })
    .await?;
    Ok(ListPage {
        title: "Vehicles",
        crumbs: &[("Dashboard", "/app/")],
        section: "fleet",
        path: "/fleet/vehicles",
        above: tabs("vehicles", &signed),
        filters: vec![
            Filter::search("vin", "VIN"),
            Filter::search("plate_number", "Plate"),
        ],
        export: None,
        noun: ("vehicle", "vehicles"),
        empty: "No vehicle matches.",
        caption: "Vehicles",
        columns: vec![
            Column::link("VIN", |v: &Vehicle| {
                (format!("/fleet/vehicles/{}", v.id), v.vin.clone())
            }),
            Column::shown("Vehicle", |v: &Vehicle| {
                format!("{} {} {}", v.year, v.make, v.model)
            }),
            Column::text("Plate", |v: &Vehicle| v.plate_number.as_deref()),
        ],
    }
    .render(&signed, &q, listed))
}

async fn vehicle(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    render_vehicle(&state, &signed, id, &FieldErrors::default(), StatusCode::OK).await
}

async fn render_vehicle(
    state: &AppState,
    signed: &Signed,
    id: i64,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let v = repo::vehicle_by_id(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no vehicle with id {id}")))?;
    let history = repair_history(state, HistoryOf::Vehicle(id)).await?;
    let title = format!("{} {} {} ({})", v.year, v.make, v.model, v.vin);
    let content = html! {
        section.card {
            h2 { "Vehicle" }
            dl.facts {
                dt { "VIN" } dd { (v.vin) }
                dt { "Plate" } dd { (v.plate_number.as_deref().unwrap_or("—")) }
            }
        }
        @if may_operate(signed) {
            form.card method="post" action={ (PREFIX) "/fleet/vehicles/" (id) } aria-label="Change the plate" {
                h2 { "Plate" }
                (csrf(signed))
                (input_field("Plate number", "plate_number", v.plate_number.as_deref().unwrap_or_default(), "text", errors))
                @for e in errors.general(&["plate_number"]) { p.notice.error role="alert" { (e.message) } }
                button.primary type="submit" { "Save plate" }
            }
        }
        (history)
    };
    Ok(render(
        signed,
        &title,
        &[("Dashboard", "/app/"), ("Vehicles", "/app/fleet/vehicles")],
        status,
        content,
    ))
}

async fn vehicle_save(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(OPERATORS)
        .open(&state, &signed, &body)
        .await?;
    let update = edit::VehicleUpdate {
        plate_number: Some(sent.raw("plate_number")),
    };
    let mut tx = sent.begin().await?;
    let updated = edit::update_vehicle(
        &mut tx,
        id,
        &update,
        &signed.user().username,
        state.clock.now(),
    )
    .await;
    let (state, signed) = (&state, &signed);
    sent.finish(
        tx,
        updated,
        |_| {
            Done::to(
                format!("{PREFIX}/fleet/vehicles/{id}"),
                "the vehicle's plate",
            )
        },
        async |errors| {
            render_vehicle(state, signed, id, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        },
    )
    .await
}

async fn medallions(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    let db = state.db.reader();
    let number = q.get("medallion_number").map(|m| m.to_ascii_uppercase());
    let listed = listed(page_of(&q), async |page| {
        let (items, total) = repo::list_medallions(db, number.as_deref(), page).await?;
        Ok(DbPage::new(items, total, page))
    })
    .await?;
    Ok(ListPage {
        title: "Medallions",
        crumbs: &[("Dashboard", "/app/")],
        section: "fleet",
        path: "/fleet/medallions",
        above: tabs("medallions", &signed),
        filters: vec![Filter::search("medallion_number", "Medallion number")],
        export: None,
        noun: ("medallion", "medallions"),
        empty: "No medallion matches.",
        caption: "Medallions",
        columns: vec![
            Column::link("Medallion", |m: &Medallion| {
                (
                    format!("/fleet/medallions/{}", m.id),
                    m.medallion_number.clone(),
                )
            }),
            Column::badge("Status", |m: &Medallion| m.status.as_str()),
            Column::shown("Since", |m: &Medallion| date(&m.created_on)),
        ],
    }
    .render(&signed, &q, listed))
}

/// Which new-record form failed and its errors (what was typed comes back through the
/// kit's inputs), or the import's bad lines, or what was done.
#[derive(Default)]
struct Failed {
    kind: String,
    errors: FieldErrors,
    lines: Vec<String>,
    done: Option<String>,
}

impl Failed {
    fn errors(&self, kind: &str) -> &FieldErrors {
        static NONE: std::sync::OnceLock<FieldErrors> = std::sync::OnceLock::new();
        if self.kind == kind {
            &self.errors
        } else {
            NONE.get_or_init(FieldErrors::default)
        }
    }
}

async fn new_records(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(OPERATORS)?;
    // A fixed message, the count and kind read as a number and one of four words.
    let imported = query.get("imported").and_then(|n| n.parse::<i64>().ok());
    let entity = query
        .get("entity")
        .filter(|e| ["drivers", "vehicles", "medallions", "leases"].contains(e));
    let done = match (imported, entity) {
        (Some(n), Some(entity)) => {
            let one = entity.trim_end_matches('s');
            Some(format!(
                "{} imported.",
                crate::web::list::count(n, one, entity)
            ))
        }
        _ => None,
    };
    let failed = Failed {
        done,
        ..Failed::default()
    };
    Ok(render_new(&state, &signed, &failed, StatusCode::OK))
}

fn render_new(state: &AppState, signed: &Signed, failed: &Failed, status: StatusCode) -> Response {
    let today = domain::calendar::local_date(state.clock.now(), state.config.timezone).to_string();
    let general = |kind: &str, shown: &'static [&'static str]| {
        let errors = failed.errors(kind);
        html! { @for e in errors.general(shown) { p.notice.error role="alert" { (e.field) ": " (e.message) } } }
    };
    let content = html! {
        (tabs("new", signed))
        @if let Some(done) = &failed.done { p.notice role="status" { (done) } }
        div.cards {
            form.card method="post" action={ (PREFIX) "/fleet/new/driver" } aria-label="New driver" {
                h2 { "New driver" }
                (csrf(signed))
                (input_field("First name", "first_name", "", "text", failed.errors("driver")))
                (input_field("Last name", "last_name", "", "text", failed.errors("driver")))
                (input_field("TLC license number", "tlc_license_no", "", "text", failed.errors("driver")))
                (input_field("Phone (optional)", "phone", "", "tel", failed.errors("driver")))
                (general("driver", &["first_name", "last_name", "tlc_license_no", "phone"]))
                button.primary type="submit" { "Create driver" }
            }
            form.card method="post" action={ (PREFIX) "/fleet/new/vehicle" } aria-label="New vehicle" {
                h2 { "New vehicle" }
                (csrf(signed))
                (input_field("VIN", "vin", "", "text", failed.errors("vehicle")))
                (input_field("Make", "make", "", "text", failed.errors("vehicle")))
                (input_field("Model", "model", "", "text", failed.errors("vehicle")))
                (input_field("Year", "year", "", "number", failed.errors("vehicle")))
                (input_field("Plate (optional)", "plate_number", "", "text", failed.errors("vehicle")))
                (general("vehicle", &["vin", "make", "model", "year", "plate_number"]))
                button.primary type="submit" { "Create vehicle" }
            }
            form.card method="post" action={ (PREFIX) "/fleet/new/medallion" } aria-label="New medallion" {
                h2 { "New medallion" }
                (csrf(signed))
                (input_field("Medallion number", "medallion_number", "", "text", failed.errors("medallion")))
                (general("medallion", &["medallion_number"]))
                button.primary type="submit" { "Create medallion" }
            }
            form.card method="post" action={ (PREFIX) "/fleet/new/lease" } aria-label="New lease" {
                h2 { "New lease" }
                (csrf(signed))
                (field("Lease type", "lease_type", select("lease_type", LeaseType::ALL.iter().map(|t| (t.as_str(), t.label())), "", failed.errors("lease").for_field("lease_type")), failed.errors("lease").for_field("lease_type")))
                (input_field("Weekly rate ($)", "weekly_rate", "", "text", failed.errors("lease")))
                (input_field("Vehicle (VIN)", "vehicle_id", "", "text", failed.errors("lease")))
                (input_field("Medallion (its number)", "medallion_id", "", "text", failed.errors("lease")))
                (input_field("Start date", "start_date", &today, "date", failed.errors("lease")))
                (input_field("Driver manager (driver id or TLC license)", "manager", "", "text", failed.errors("lease")))
                (general("lease", &["lease_type", "weekly_rate", "vehicle_id", "medallion_id", "start_date", "manager"]))
                button.primary type="submit" { "Create lease" }
            }
        }
        form.card method="post" action={ (PREFIX) "/fleet/import" } enctype="multipart/form-data" aria-label="Import" {
            h2 { "Import a CSV file" }
            (csrf(signed))
            p.muted { "The headers of " code { "batconnect import" } " (see the README). Every bad line is listed by number, and nothing is written unless every line is good." }
            @if !failed.lines.is_empty() {
                section.notice.error role="alert" aria-label="Problems in the file" {
                    p { "Nothing was imported: fix these lines and upload the file again." }
                    ul { @for line in &failed.lines { li { (line) } } }
                }
            }
            div.filters {
                (field("Records", "entity", html! {
                    select #entity name="entity" {
                        @for (word, text) in [("drivers", "Drivers"), ("vehicles", "Vehicles"), ("medallions", "Medallions"), ("leases", "Leases")] { option value=(word) { (text) } }
                    }
                }, None))
                div.field { label for="file" { "CSV file" } input #file name="file" type="file" accept=".csv,text/csv" required; }
            }
            button.primary type="submit" { "Import" }
        }
    };
    render(
        signed,
        "New fleet records",
        &[("Dashboard", "/app/"), ("Fleet", "/app/fleet/drivers")],
        status,
        content,
    )
}

async fn create_record(
    State(state): State<AppState>,
    signed: Signed,
    Path(kind): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    if !["driver", "vehicle", "medallion", "lease"].contains(&kind.as_str()) {
        return Err(AppError::NotFound(format!("no such record kind: {kind}")).into());
    }
    let sent = FormAction::for_roles(OPERATORS)
        .open(&state, &signed, &body)
        .await?;
    let form = sent.form.clone();
    let text = |name: &str| form.get(name).unwrap_or_default().to_string();
    let optional = |name: &str| form.get(name).map(str::to_string);
    let now = state.clock.now();
    let user = signed.user();
    let mut tx = sent.begin().await?;
    let tx_ref = &mut tx;
    let created: Result<String, AppError> = async {
        let tx = &mut *tx_ref;
        match kind.as_str() {
            "driver" => {
                let input = super::model::DriverInput {
                    first_name: text("first_name"),
                    last_name: text("last_name"),
                    tlc_license_no: text("tlc_license_no"),
                    phone: optional("phone"),
                    ..Default::default()
                };
                let id = super::service::create_driver(tx, &input, user, now).await?;
                Ok(format!("{PREFIX}/fleet/drivers/{id}"))
            }
            "vehicle" => {
                let input = super::model::VehicleInput {
                    vin: text("vin"),
                    make: text("make"),
                    model: text("model"),
                    year: text("year").parse().unwrap_or(0),
                    plate_number: optional("plate_number"),
                };
                let id = super::service::create_vehicle(tx, &input, user, now).await?;
                Ok(format!("{PREFIX}/fleet/vehicles/{id}"))
            }
            "medallion" => {
                let input = super::model::MedallionInput {
                    medallion_number: text("medallion_number"),
                    status: None,
                };
                super::service::create_medallion(tx, &input, user, now).await?;
                let number: String = form_urlencoded::byte_serialize(
                    text("medallion_number").to_ascii_uppercase().as_bytes(),
                )
                .collect();
                Ok(format!(
                    "{PREFIX}/fleet/medallions?medallion_number={number}"
                ))
            }
            _ => {
                // The manager by driver id (`DRV-…`) or TLC license, as the clerk knows them.
                let manager = match repo::driver_by_id_or_tlc(tx, text("manager").trim()).await? {
                    Some(pk) => super::model::Named::Id(pk),
                    None => super::model::Named::Key(text("manager")),
                };
                let request = super::model::LeaseRequest {
                    lease_id: None,
                    lease_type: text("lease_type"),
                    status: None,
                    weekly_rate: serde_json::Value::String(crate::web::money_typed(&text(
                        "weekly_rate",
                    ))),
                    vehicle_id: super::model::Named::Key(text("vehicle_id")),
                    medallion_id: super::model::Named::Key(text("medallion_id")),
                    start_date: text("start_date"),
                    end_date: None,
                    drivers: vec![super::model::LeaseDriverRequest {
                        driver_id: manager,
                        is_driver_manager: true,
                        is_additional_driver: false,
                    }],
                };
                // The API's `drivers` is the form's one manager field.
                let named_manager = |error: AppError| match error {
                    AppError::Validation(mut errors) => {
                        for e in &mut errors {
                            if e.field == "drivers" {
                                e.field = "manager".into();
                            }
                        }
                        AppError::Validation(errors)
                    }
                    other => other,
                };
                let input = super::service::resolve_lease_request(tx, &request)
                    .await
                    .map_err(named_manager)?;
                let id = super::service::create_lease(tx, &input, user, now)
                    .await
                    .map_err(named_manager)?;
                Ok(format!("{PREFIX}/fleet/leases/{id}"))
            }
        }
    }
    .await;
    let (state_ref, signed_ref, kind_ref) = (&state, &signed, &kind);
    sent.finish(
        tx,
        created,
        |location| Done::to(location.clone(), "the new record"),
        async |errors| {
            let failed = Failed {
                kind: kind_ref.clone(),
                errors,
                ..Failed::default()
            };
            Ok(render_new(
                state_ref,
                signed_ref,
                &failed,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        },
    )
    .await
}

async fn import(
    State(state): State<AppState>,
    signed: Signed,
    multipart: Result<
        axum::extract::multipart::Multipart,
        axum::extract::multipart::MultipartRejection,
    >,
) -> Result<Response, PageError> {
    let (form, file) =
        crate::web::read_form_with_small_file(&signed, multipart, MAX_IMPORT_FILE).await?;
    let sent = FormAction::for_roles(OPERATORS)
        .open_form(&state, &signed, form, b"")
        .await?;
    let entity = match sent.get("entity") {
        Some("drivers") => crate::import::Entity::Drivers,
        Some("vehicles") => crate::import::Entity::Vehicles,
        Some("medallions") => crate::import::Entity::Medallions,
        Some("leases") => crate::import::Entity::Leases,
        _ => {
            return Err(
                AppError::field("entity", "choose drivers, vehicles, medallions or leases").into(),
            )
        }
    };
    let refused = |lines: Vec<String>| {
        let failed = Failed {
            lines,
            ..Failed::default()
        };
        render_new(&state, &signed, &failed, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let Some(file) = file else {
        return Ok(refused(vec!["choose a CSV file to upload".into()]));
    };
    match crate::import::run_csv(
        &state.db,
        entity,
        &file,
        signed.user(),
        state.clock.now(),
        state.config.timezone,
    )
    .await
    {
        Ok(n) => Ok(see_other(&format!(
            "{PREFIX}/fleet/new?imported={n}&entity={}",
            sent.get("entity").unwrap_or_default()
        ))),
        Err(crate::import::ImportError::BadRows(lines)) => Ok(refused(lines)),
        Err(crate::import::ImportError::Read(_, why)) => Ok(refused(vec![format!(
            "the file could not be read as CSV: {why}"
        )])),
        Err(crate::import::ImportError::Other(e)) => Err(AppError::Internal(e).into()),
    }
}

async fn medallion(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let m = repo::medallion_by_id(state.db.reader(), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no medallion with id {id}")))?;
    let filter = repo::LeaseFilter {
        status: None,
        lease_type: None,
        medallion_number: Some(m.medallion_number.clone()),
        driver_id: None,
        managed_only: false,
        search: None,
    };
    let (leases, _) = repo::list_leases(
        state.db.reader(),
        &filter,
        PageRequest::parse(None, Some("100"))?,
    )
    .await?;
    let title = format!("Medallion {}", m.medallion_number);
    let content = html! {
        div.actions { (badge(m.status.as_str())) }
        section.card aria-label="Leases" {
            h2 { "Leases on this medallion" }
            @if leases.is_empty() { p.empty { "No lease." } }
            ul {
                @for l in &leases {
                    li { a href={ (PREFIX) "/fleet/leases/" (l.id) } { (l.lease_id) } " · " (l.lease_type_label) " · " (l.status.as_str()) " · from " (date(&l.start_date)) }
                }
            }
        }
    };
    Ok(render(
        &signed,
        &title,
        &[
            ("Dashboard", "/app/"),
            ("Medallions", "/app/fleet/medallions"),
        ],
        StatusCode::OK,
        content,
    ))
}
