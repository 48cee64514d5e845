//! The workshops registry in the console: the list (every role), a workshop's page with its
//! spend and its invoices, and for operations the forms to register, change, deactivate and
//! activate a workshop.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::status::WorkshopKind;
use maud::{html, Markup};

use super::model::{Workshop, WorkshopInput, WorkshopUpdate};
use super::{repo, routes, service};
use crate::api::extract::RawQuery;
use crate::auth::model::{OPERATORS, READERS};
use crate::db::{Page as DbPage, PageRequest};
use crate::repairs::model::InvoiceListItem;
use crate::state::AppState;
use crate::web::action::{Done, FormAction};
use crate::web::layout::{badge, csrf, date, field, input_field, money, money_cell, select};
use crate::web::list::{listed, Column, Filter, ListPage};
use crate::web::{FieldErrors, Page, PageError, Signed, PREFIX};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/workshops", get(workshops))
        .route("/app/workshops/new", get(new_workshop).post(create))
        .route("/app/workshops/{id}", get(workshop).post(save))
        .route("/app/workshops/{id}/active", post(set_active))
}

fn may_change(signed: &Signed) -> bool {
    signed.user().has_any(OPERATORS)
}

fn kind_choices() -> impl Iterator<Item = (&'static str, &'static str)> {
    WorkshopKind::ALL.iter().map(|k| (k.as_str(), k.label()))
}

async fn workshops(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    let db = &state.db;
    let parsed = (|| {
        Ok((
            routes::filter_of(&q)?,
            PageRequest::parse(q.get("page"), q.get("per_page"))?,
        ))
    })();
    let listed = listed(parsed, async |(filter, page)| {
        let (items, total) = repo::list(db.reader(), db.ilike(), &filter, page).await?;
        Ok(DbPage::new(items, total, page))
    })
    .await?;
    let above = html! {
        @if may_change(&signed) {
            p { a.button.primary href={ (PREFIX) "/workshops/new" } { "Register a workshop" } }
        }
    };
    Ok(ListPage {
        title: "Workshops",
        crumbs: &[("Dashboard", "/app/")],
        section: "workshops",
        path: "/workshops",
        above,
        filters: vec![
            Filter::search("search", "Name"),
            Filter::choice("kind", "Kind", kind_choices()),
            Filter::choice(
                "active",
                "Active",
                [("true", "Active"), ("false", "Inactive")],
            ),
        ],
        export: None,
        noun: ("workshop", "workshops"),
        empty: "No workshop matches.",
        caption: "Workshops",
        columns: vec![
            Column::link("Workshop", |w: &Workshop| {
                (format!("/workshops/{}", w.id), w.name.clone())
            }),
            Column::shown("Kind", |w: &Workshop| {
                let default = if w.is_default { " (default)" } else { "" };
                format!("{}{default}", w.kind.label())
            }),
            Column::text("Phone", |w: &Workshop| w.phone.as_deref()),
            Column::text("Email", |w: &Workshop| w.email.as_deref()),
            Column::badge(
                "Status",
                |w: &Workshop| {
                    if w.active {
                        "Active"
                    } else {
                        "Inactive"
                    }
                },
            ),
        ],
    }
    .render(&signed, &q, listed))
}

/// The details form, for a new workshop (`None`) or a change.
fn details_form(signed: &Signed, workshop: Option<&Workshop>, errors: &FieldErrors) -> Markup {
    let (action, heading, button) = match workshop {
        Some(w) => (
            format!("{PREFIX}/workshops/{}", w.id),
            "Change details",
            "Save details",
        ),
        None => (
            format!("{PREFIX}/workshops/new"),
            "Workshop",
            "Register workshop",
        ),
    };
    let value = |f: fn(&Workshop) -> Option<&str>| workshop.and_then(f).unwrap_or_default();
    let kind = workshop.map_or("external", |w| w.kind.as_str());
    html! {
        form.card method="post" action=(action) aria-label=(heading) {
            h2 { (heading) }
            (csrf(signed))
            (input_field("Name", "name", value(|w| Some(w.name.as_str())), "text", errors))
            (field("Kind", "kind", select("kind", kind_choices(), kind, errors.for_field("kind")), errors.for_field("kind")))
            (input_field("Address", "address", value(|w| w.address.as_deref()), "text", errors))
            (input_field("Phone", "phone", value(|w| w.phone.as_deref()), "tel", errors))
            (input_field("Email", "email", value(|w| w.email.as_deref()), "email", errors))
            (input_field("Tax registration number", "tax_registration_no", value(|w| w.tax_registration_no.as_deref()), "text", errors))
            @for e in errors.general(&["name", "kind", "address", "phone", "email", "tax_registration_no"]) {
                p.notice.error role="alert" { (e.message) }
            }
            button.primary type="submit" { (button) }
        }
    }
}

fn render(signed: &Signed, title: &str, status: StatusCode, content: Markup) -> Response {
    Page {
        title,
        crumbs: &[("Dashboard", "/app/"), ("Workshops", "/app/workshops")],
        signed: Some(signed),
        section: "workshops",
    }
    .render_with(status, content)
}

async fn new_workshop(
    State(_state): State<AppState>,
    signed: Signed,
) -> Result<Response, PageError> {
    signed.user().require(OPERATORS)?;
    Ok(render_new(&signed, &FieldErrors::default()))
}

fn render_new(signed: &Signed, errors: &FieldErrors) -> Response {
    render(
        signed,
        "Register a workshop",
        StatusCode::OK,
        details_form(signed, None, errors),
    )
}

async fn create(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(OPERATORS)
        .open(&state, &signed, &body)
        .await?;
    let optional = |name: &str| Some(sent.raw(name));
    let input = WorkshopInput {
        name: sent.raw("name"),
        kind: sent.raw("kind"),
        address: optional("address"),
        phone: optional("phone"),
        email: optional("email"),
        tax_registration_no: optional("tax_registration_no"),
    };
    let mut tx = sent.begin().await?;
    let created =
        service::create(&mut tx, &input, &signed.user().username, state.clock.now()).await;
    let signed = &signed;
    sent.finish(
        tx,
        created,
        |id| {
            Done::to(
                format!("{PREFIX}/workshops/{id}?done=created"),
                "the new workshop",
            )
        },
        async |errors| Ok(render_new(signed, &errors)),
    )
    .await
}

async fn workshop(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let done = match query.get("done") {
        Some("created") => Some("The workshop is registered."),
        Some("saved") => Some("The workshop's details are saved."),
        Some("deactivated") => {
            Some("The workshop is inactive: it cannot be chosen for a new invoice.")
        }
        Some("activated") => Some("The workshop is active again."),
        _ => None,
    };
    render_workshop(&state, &signed, id, &FieldErrors::default(), done).await
}

/// The newest invoices recorded at the workshop, through the repairs list's own query.
async fn newest_invoices(
    state: &AppState,
    id: i64,
) -> Result<(Vec<InvoiceListItem>, i64), PageError> {
    let query = RawQuery(vec![
        ("workshop_id".into(), id.to_string()),
        ("per_page".into(), "20".into()),
    ]);
    let parsed = crate::repairs::query::InvoiceQuery::parse(&query, true, state.db.backend())?;
    Ok(crate::repairs::service::invoices(state.db.reader(), &parsed).await?)
}

async fn render_workshop(
    state: &AppState,
    signed: &Signed,
    id: i64,
    errors: &FieldErrors,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let detail = routes::detail(state, id).await?;
    let (w, spend) = (&detail.workshop, &detail.spend);
    let (invoices, invoice_total) = newest_invoices(state, id).await?;
    let content = html! {
        @if let Some(done) = done { p.notice role="status" { (done) } }
        div.cards {
            section.card {
                h2 { "Workshop" }
                dl.facts {
                    dt { "Kind" } dd { (w.kind.label()) @if w.is_default { " — the default (workshop type “" (w.kind.workshop_type()) "”)" } }
                    dt { "Status" } dd { (badge(if w.active { "Active" } else { "Inactive" })) }
                    dt { "Address" } dd { (w.address.as_deref().unwrap_or("—")) }
                    dt { "Phone" } dd { (w.phone.as_deref().unwrap_or("—")) }
                    dt { "Email" } dd { (w.email.as_deref().unwrap_or("—")) }
                    dt { "Tax registration" } dd { (w.tax_registration_no.as_deref().unwrap_or("—")) }
                }
            }
            section.card aria-labelledby="spend-heading" {
                h2 #spend-heading { "Spend" }
                p { "Invoices that are not cancelled." }
                dl.facts {
                    dt { "Invoices" } dd { (reports::thousands(spend.invoice_count)) }
                    dt { "Total" } dd { (money(spend.total)) }
                    dt { "Parts" } dd { (money(spend.parts)) }
                    dt { "Labour" } dd { (money(spend.labour)) }
                    dt { "Fees" } dd { (money(spend.fees)) }
                    dt { "Discounts" } dd { "−" (money(spend.discounts)) }
                    dt { "Tax" } dd { (money(spend.tax)) }
                    dt { "Without lines" } dd { (money(spend.unitemised)) }
                }
            }
        }
        section.card aria-labelledby="invoices-heading" {
            h2 #invoices-heading { "Invoices" }
            @if invoices.is_empty() {
                p { "No invoice names this workshop yet." }
            } @else {
                div.table-wrap {
                    table {
                        caption { "The newest invoices at " (w.name) }
                        thead { tr { th { "Repair" } th { "Invoice" } th { "Date" } th { "Driver" } th { "Status" } th.num { "Amount" } } }
                        tbody {
                            @for i in &invoices {
                                tr {
                                    td { a href={ (PREFIX) "/repairs/" (i.repair_id) } { (i.repair_id) } }
                                    td { (i.invoice_number) }
                                    td { (date(&i.invoice_date)) }
                                    td { (i.driver_name) }
                                    td { (badge(i.status.as_str())) }
                                    (money_cell(i.amount))
                                }
                            }
                        }
                    }
                }
                p { a href={ (PREFIX) "/repairs?workshop_id=" (id) } { "All " (reports::thousands(invoice_total)) " invoices of this workshop" } }
            }
        }
        @if may_change(signed) {
            (details_form(signed, Some(w), errors))
            form.card method="post" action={ (PREFIX) "/workshops/" (id) "/active" } aria-label="Activation" {
                h2 { "Activation" }
                (csrf(signed))
                @if w.active {
                    input type="hidden" name="active" value="false";
                    @if w.is_default {
                        p { "The default " (w.kind.label().to_lowercase()) " workshop stays active: an invoice given only its workshop type is recorded here." }
                    } @else {
                        p { "An inactive workshop cannot be chosen for a new invoice; its invoices keep it." }
                        @for e in errors.general(&["name", "kind", "address", "phone", "email", "tax_registration_no"]) {
                            p.notice.error role="alert" { (e.message) }
                        }
                        button.danger type="submit" { "Deactivate workshop" }
                    }
                } @else {
                    input type="hidden" name="active" value="true";
                    p { "This workshop is inactive." }
                    button.primary type="submit" { "Activate workshop" }
                }
            }
        }
    };
    Ok(render(signed, &w.name, StatusCode::OK, content))
}

async fn save(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(OPERATORS)
        .open(&state, &signed, &body)
        .await?;
    let update = WorkshopUpdate {
        name: Some(sent.raw("name")),
        kind: Some(sent.raw("kind")),
        address: Some(sent.raw("address")),
        phone: Some(sent.raw("phone")),
        email: Some(sent.raw("email")),
        tax_registration_no: Some(sent.raw("tax_registration_no")),
    };
    let mut tx = sent.begin().await?;
    let saved = service::update(
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
        saved,
        |_| {
            Done::to(
                format!("{PREFIX}/workshops/{id}?done=saved"),
                "the workshop's details",
            )
        },
        async |errors| render_workshop(state, signed, id, &errors, None).await,
    )
    .await
}

async fn set_active(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(OPERATORS)
        .open(&state, &signed, &body)
        .await?;
    let active = sent.get("active") == Some("true");
    let mut tx = sent.begin().await?;
    let changed = service::set_active(
        &mut tx,
        id,
        active,
        &signed.user().username,
        state.clock.now(),
    )
    .await;
    let (state, signed) = (&state, &signed);
    let word = if active { "activated" } else { "deactivated" };
    sent.finish(
        tx,
        changed,
        |_| {
            Done::to(
                format!("{PREFIX}/workshops/{id}?done={word}"),
                "the workshop's activation",
            )
        },
        async |errors| render_workshop(state, signed, id, &errors, None).await,
    )
    .await
}
