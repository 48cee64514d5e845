//! The finance desk in the console: the ledger (postings and balances with the API's
//! filters and exports), a posting's page (what it paid or what paid it, its reversal) with
//! the void, and recording the week's earnings (one lease, or a CSV file with the rules of
//! `import earnings`). Every page calls the same services as the API; forms carry the
//! session's CSRF token.

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::ledger::{BalanceStatus, Category, EntryType, PostingStatus};
use maud::{html, Markup};

use super::model::{Balance, Posting};
use super::payments::{self, EarningsRequestRow};
use super::repo::{self, AllocationLine};
use super::service;
use crate::api::extract::RawQuery;
use crate::auth::model::{FINANCE, READERS};
use crate::db::Page as DbPage;
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::action::{Done, FormAction};
use crate::web::layout::{
    badge, checkbox, csrf, date, field, input_field, money, money_cell, textarea, time,
};
use crate::web::list::{listed, Column, Export, Filter, ListPage};
use crate::web::{FieldErrors, Page, PageError, Signed, PREFIX};

/// Largest earnings file the console takes (10,000 rows fit in well under this).
const MAX_EARNINGS_FILE: usize = 2 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/ledger", get(postings))
        .route("/app/ledger/balances", get(balances))
        .route("/app/ledger/export", get(export))
        .route("/app/ledger/postings/{id}", get(posting))
        .route("/app/ledger/postings/{id}/void", post(void))
        .route("/app/earnings", get(earnings_form).post(earnings_one))
        .route(
            "/app/earnings/upload",
            post(earnings_upload).layer(DefaultBodyLimit::max(MAX_EARNINGS_FILE + 64 * 1024)),
        )
}

fn may_finance(signed: &Signed) -> bool {
    signed.user().has_any(FINANCE)
}

/// The ledger's two tabs.
fn tabs(current: &str) -> Markup {
    html! {
        nav.tabs aria-label="Ledger views" {
            @for (key, text, href) in [("postings", "Postings", format!("{PREFIX}/ledger")), ("balances", "Balances", format!("{PREFIX}/ledger/balances"))] {
                @if key == current { a href=(href) aria-current="page" { (text) } }
                @else { a href=(href) { (text) } }
            }
            @if current == "earnings" { a href={ (PREFIX) "/earnings" } aria-current="page" { "Record earnings" } }
            @else { a href={ (PREFIX) "/earnings" } { "Record earnings" } }
            a href={ (PREFIX) "/interim-payments" } { "Interim payments" }
        }
    }
}

/// The filters the postings and balances lists share: the party, then the category.
fn party_filters() -> Vec<Filter> {
    vec![
        Filter::search("lease_id", "Lease"),
        Filter::search("driver_name", "Driver name"),
        Filter::search("medallion_number", "Medallion"),
        Filter::search("reference_id", "Reference"),
        Filter::choice(
            "category",
            "Category",
            Category::ALL.iter().map(|c| (c.as_str(), c.as_str())),
        ),
    ]
}

async fn postings(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let filters = query.filled();
    let db = state.db.reader();
    let parsed = super::query::postings_filter(db, &filters).await;
    let listed = listed(parsed, async |(filter, page)| {
        let (mut items, total) = repo::list_postings(db, &filter, page).await?;
        super::query::label_postings(db, &mut items).await?;
        Ok(DbPage::new(items, total, page))
    })
    .await?;
    let tz = state.config.timezone;
    let mut filter_inputs = party_filters();
    filter_inputs.extend([
        Filter::choice(
            "entry_type",
            "Entry type",
            EntryType::ALL.iter().map(|e| (e.as_str(), e.label())),
        ),
        Filter::choice(
            "status",
            "Status",
            PostingStatus::ALL.iter().map(|s| (s.as_str(), s.label())),
        ),
        Filter::date("from_date", "Created from"),
        Filter::date("to_date", "Created to"),
    ]);
    Ok(ListPage {
        title: "Ledger",
        crumbs: &[("Dashboard", "/app/")],
        section: "ledger",
        path: "/ledger",
        above: tabs("postings"),
        filters: filter_inputs,
        export: Some(Export {
            also: &[],
            path: "/ledger/export",
            fixed: &[("kind", "postings")],
        }),
        noun: ("posting", "postings"),
        empty: "No posting matches these filters.",
        caption: "Ledger postings, newest first",
        columns: vec![
            Column::link("ID", |p: &Posting| {
                (format!("/ledger/postings/{}", p.id), p.id.to_string())
            }),
            Column::shown("Created", move |p: &Posting| time(&p.created_on, tz)),
            Column::text("Lease", |p: &Posting| p.lease_business_id.as_deref()),
            Column::text("Driver", |p: &Posting| p.driver_name.as_deref()),
            Column::text("Category", |p: &Posting| Some(p.category.as_str())),
            Column::text("Entry type", |p: &Posting| Some(p.entry_type.label())),
            Column::text("Reference", |p: &Posting| Some(p.reference_id.as_str())),
            Column::money("Amount", |p: &Posting| p.amount),
            Column::badge("Status", |p: &Posting| p.status.label()),
        ],
    }
    .render(&signed, &filters, listed))
}

async fn balances(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let filters = query.filled();
    let db = state.db.reader();
    let parsed = super::query::balances_filter(db, &filters).await;
    let listed = listed(parsed, async |(filter, page)| {
        let (mut items, total) = repo::list_balances(db, &filter, page).await?;
        super::query::label_balances(db, &mut items).await?;
        Ok(DbPage::new(items, total, page))
    })
    .await?;
    let mut filter_inputs = party_filters();
    filter_inputs.extend([
        Filter::choice(
            "status",
            "Status",
            BalanceStatus::ALL.iter().map(|s| (s.as_str(), s.label())),
        ),
        Filter::date("from_date", "Due from"),
        Filter::date("to_date", "Due to"),
    ]);
    Ok(ListPage {
        title: "Ledger balances",
        crumbs: &[("Dashboard", "/app/"), ("Ledger", "/app/ledger")],
        section: "ledger",
        path: "/ledger/balances",
        above: tabs("balances"),
        filters: filter_inputs,
        export: Some(Export {
            also: &[],
            path: "/ledger/export",
            fixed: &[("kind", "balances")],
        }),
        noun: ("balance", "balances"),
        empty: "No balance matches these filters.",
        caption: "Balances by due date",
        columns: vec![
            Column::shown("Due", |b: &Balance| date(&b.due_date)),
            Column::text("Lease", |b: &Balance| b.lease_business_id.as_deref()),
            Column::text("Driver", |b: &Balance| b.driver_name.as_deref()),
            Column::text("Category", |b: &Balance| Some(b.category.as_str())),
            Column::link("Reference", |b: &Balance| {
                (
                    format!("/ledger/postings/{}", b.obligation_posting_id),
                    b.reference_id.clone(),
                )
            }),
            Column::money("Original", |b: &Balance| b.original_amount),
            Column::money("Paid", |b: &Balance| b.applied_amount),
            Column::money("Balance", |b: &Balance| b.current_balance),
            Column::badge("Status", |b: &Balance| b.status.label()),
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
    Ok(crate::exports::ledger_file(&state, &query.filled()).await?)
}

async fn posting(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    render_posting(&state, &signed, id, &FieldErrors::default(), StatusCode::OK).await
}

/// What voiding this posting reopens, in words, for the confirmation.
fn void_consequence(p: &Posting, allocations: &[AllocationLine]) -> String {
    let live: Vec<&AllocationLine> = allocations
        .iter()
        .filter(|a| !a.reversed && a.payment_posting_id == p.id)
        .collect();
    match p.entry_type {
        EntryType::Obligation => format!(
            "A reversal of {} is posted and the balance {} is closed as void: nobody owes it any more.",
            money(-p.amount),
            p.reference_id
        ),
        _ if live.is_empty() => format!(
            "A reversal of {} is posted. It paid no balance, so nothing reopens.",
            money(-p.amount)
        ),
        _ => format!(
            "A reversal of {} is posted and what it paid reopens: {}.",
            money(-p.amount),
            live.iter()
                .map(|a| format!("{} {} ({})", a.category, a.reference_id, money(a.amount)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

async fn render_posting(
    state: &AppState,
    signed: &Signed,
    id: i64,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let pool = state.db.reader();
    let mut found = repo::posting(pool, id)
        .await?
        .map(|p| vec![p])
        .ok_or_else(|| AppError::NotFound(format!("no posting {id}")))?;
    super::query::label_postings(pool, &mut found).await?;
    let p = found.remove(0);
    let allocations = repo::allocations_of_posting(pool, id).await?;
    let reversal = repo::reversal_of(pool, id).await?;
    let tz = state.config.timezone;
    let paid_by_it = p.entry_type != EntryType::Obligation;
    let may_void = may_finance(signed)
        && p.status == PostingStatus::Posted
        && p.entry_type != EntryType::Reversal;
    // The finalized statement a void would leave as it is, and correct on the next one.
    let counted = if may_void {
        crate::dtr::corrections::counting_statement(pool, &p).await?
    } else {
        None
    };
    let title = format!("Posting {id}");
    let content = html! {
        div.actions {
            (badge(p.status.label()))
            span { (p.entry_type.label()) " · " (p.category.as_str()) }
        }
        @for e in errors.general(&["reason", "confirm"]) {
            p.notice.error role="alert" { "Could not void: " (e.message) }
        }
        div.cards {
            section.card {
                h2 { "Posting" }
                dl.facts {
                    dt { "Amount" } dd { (money(p.amount)) }
                    dt { "Reference" } dd { (p.reference_id) }
                    dt { "Lease" } dd { (p.lease_business_id.as_deref().unwrap_or("—")) }
                    dt { "Driver" } dd { (p.driver_name.as_deref().unwrap_or("—")) }
                    dt { "Medallion" } dd { (p.medallion_number.as_deref().unwrap_or("—")) }
                    @if let Some(period) = &p.payment_period { dt { "Week" } dd { (date(period)) } }
                    @if let Some(d) = &p.description { dt { "Description" } dd { (d) } }
                    dt { "Posted" } dd { (time(&p.created_on, tz)) " by " (p.created_by) }
                    @if let Some(original) = p.reversal_for_id {
                        dt { "Reverses" } dd { a href={ (PREFIX) "/ledger/postings/" (original) } { "posting " (original) } }
                    }
                }
            }
            @if let Some(r) = &reversal {
                section.card aria-label="Reversal" {
                    h2 { "Voided" }
                    dl.facts {
                        dt { "Reversal" } dd { a href={ (PREFIX) "/ledger/postings/" (r.id) } { "posting " (r.id) } }
                        dt { "Amount" } dd { (money(r.amount)) }
                        dt { "When" } dd { (time(&r.created_on, tz)) " by " (r.created_by) }
                        @if let Some(d) = &r.description { dt { "Reason" } dd { (d) } }
                    }
                }
            }
        }
        section.card {
            h2 { @if paid_by_it { "What it paid" } @else { "What paid it" } }
            @if allocations.is_empty() {
                p.empty { @if paid_by_it { "It has paid no balance (yet)." } @else { "Nothing has paid it yet." } }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Allocations" {
                    table {
                        thead { tr {
                            @if paid_by_it { th { "Balance" } th { "Category" } th { "Due" } }
                            @else { th { "Payment" } }
                            th.num { "Amount" } th { "State" }
                        } }
                        tbody {
                            @for a in &allocations {
                                tr {
                                    @if paid_by_it {
                                        td { a href={ (PREFIX) "/ledger/postings/" (a.obligation_posting_id) } { (a.reference_id) } }
                                        td { (a.category) }
                                        td { (date(&a.due_date)) }
                                    } @else {
                                        td { a href={ (PREFIX) "/ledger/postings/" (a.payment_posting_id) } { "posting " (a.payment_posting_id) } }
                                    }
                                    (money_cell(a.amount))
                                    td { @if a.reversed { (badge("Reversed")) } @else { (badge("Applied")) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if may_void {
            details.confirm open[!errors.is_empty()] {
                summary.button.danger role="button" { "Void this posting…" }
                form method="post" action={ (PREFIX) "/ledger/postings/" (id) "/void" } {
                    (csrf(signed))
                    (crate::web::once::fresh())
                    p { (void_consequence(&p, &allocations)) }
                    @if let Some((_, number, week)) = &counted {
                        p.notice role="note" {
                            "Statement " strong { (number) } " of the week of " (date(week)) " is final and counted this posting. It stays exactly as handed to the driver; the lease's next statement not yet final carries the correction under “Adjustments to earlier weeks”."
                        }
                    }
                    (field("Reason (10 to 500 characters)", "reason", textarea("reason", "", errors.for_field("reason"), 10..=500), errors.for_field("reason")))
                    div.choice {
                        (checkbox("confirm", "yes", false, true))
                        label for="confirm" { "Yes, void posting " (id) }
                    }
                    button.primary.danger type="submit" { "Void posting" }
                }
            }
        }
    };
    Ok(Page {
        title: &title,
        crumbs: &[("Dashboard", "/app/"), ("Ledger", "/app/ledger")],
        signed: Some(signed),
        section: "ledger",
    }
    .render_with(status, content))
}

async fn void(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(FINANCE)
        .once(format!("void:{id}"))
        .open(&state, &signed, &body)
        .await?;
    let reason = sent.get("reason").unwrap_or_default().to_string();
    let mut refused = Vec::new();
    if sent.get("confirm") != Some("yes") {
        refused.push(FieldError::new(
            "confirm",
            "tick the box to confirm the void",
        ));
    }
    if !(10..=500).contains(&reason.chars().count()) {
        refused.push(FieldError::new(
            "reason",
            "must say why in 10 to 500 characters",
        ));
    }
    let mut tx = sent.begin().await?;
    let voided = if refused.is_empty() {
        crate::dtr::corrections::void_posting(
            &mut tx,
            state.db.backend(),
            id,
            &reason,
            service::VoidSource::Finance,
            &signed.user().username,
            state.clock.now(),
        )
        .await
    } else {
        Err(AppError::Validation(refused))
    };
    let (state, signed) = (&state, &signed);
    sent.finish(
        tx,
        voided,
        |_| {
            Done::to(
                format!("{PREFIX}/ledger/postings/{id}"),
                format!("the void of posting {id}"),
            )
        },
        async |errors| {
            render_posting(state, signed, id, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        },
    )
    .await
}

/// What the earnings page shows after a form: what was recorded, or what was wrong.
#[derive(Default)]
struct EarningsOutcome {
    recorded: Option<String>,
    errors: FieldErrors,
    lines: Vec<String>,
}

async fn earnings_form(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let outcome = EarningsOutcome {
        recorded: query
            .get("recorded")
            .and_then(|n| n.parse::<i64>().ok())
            .map(|n| {
                format!(
                    "{} recorded.",
                    crate::web::list::count(n, "earnings row", "earnings rows")
                )
            }),
        ..EarningsOutcome::default()
    };
    Ok(render_earnings(&state, &signed, &outcome, StatusCode::OK))
}

fn render_earnings(
    state: &AppState,
    signed: &Signed,
    outcome: &EarningsOutcome,
    status: StatusCode,
) -> Response {
    let week = domain::calendar::current_payment_period(state.clock.now(), state.config.timezone)
        .previous()
        .to_string();
    let errors = &outcome.errors;
    let may = may_finance(signed);
    let content = html! {
        (tabs("earnings"))
        @if let Some(done) = &outcome.recorded {
            p.notice role="status" { (done) " They are applied to the leases' balances when the week's DTRs are generated." }
        }
        @if !outcome.lines.is_empty() {
            section.notice.error role="alert" aria-label="Problems in the file" {
                p { "Nothing was recorded: fix these lines and upload the file again." }
                ul { @for line in &outcome.lines { li { (line) } } }
            }
        }
        @if !may {
            p.notice { "Recording earnings needs the finance role; you can read the ledger." }
        } @else {
            div.cards {
                form.card method="post" action={ (PREFIX) "/earnings" } aria-label="One lease and week" {
                    h2 { "One lease and week" }
                    (csrf(signed))
                    (crate::web::once::fresh())
                    (input_field("Lease (id or LS-…)", "lease_id", "", "text", errors))
                    (input_field("Week (its Sunday)", "period", &week, "date", errors))
                    (input_field("Earnings ($)", "amount", "", "text", errors))
                    @for e in errors.general(&["lease_id", "period", "amount"]) {
                        p.notice.error role="alert" { (e.message) }
                    }
                    button.primary type="submit" { "Record earnings" }
                }
                form.card method="post" action={ (PREFIX) "/earnings/upload" } enctype="multipart/form-data" aria-label="Upload a file" {
                    h2 { "Upload the week's file" }
                    (csrf(signed))
                    (crate::web::once::fresh())
                    p.muted { "CSV with a header row " code { "lease_id,period,amount" } " — the same rules as " code { "batconnect import earnings" } ": every bad line is listed, and nothing is written unless all are good." }
                    div.field {
                        label for="file" { "Earnings CSV" }
                        input #file name="file" type="file" accept=".csv,text/csv" required;
                    }
                    button.primary type="submit" { "Upload and record" }
                }
            }
        }
    };
    Page {
        title: "Record earnings",
        crumbs: &[("Dashboard", "/app/"), ("Ledger", "/app/ledger")],
        signed: Some(signed),
        section: "ledger",
    }
    .render_with(status, content)
}

async fn earnings_one(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> Result<Response, PageError> {
    let sent = FormAction::for_roles(FINANCE)
        .once("earnings")
        .open(&state, &signed, &body)
        .await?;
    let row = EarningsRequestRow {
        lease_id: serde_json::Value::String(sent.raw("lease_id").trim().to_string()),
        driver_id: None,
        period: sent.raw("period").trim().to_string(),
        amount: serde_json::Value::String(crate::web::money_typed(&sent.raw("amount"))),
    };
    let now = state.clock.now();
    let mut tx = sent.begin().await?;
    let recorded = payments::record_earnings_rows(
        &mut tx,
        &[row],
        &signed.user().username,
        now,
        state.config.timezone,
    )
    .await
    .map_err(|error| match error {
        // Row errors name `earnings/0/<field>`: shown at the field.
        AppError::Validation(mut errors) => {
            for e in &mut errors {
                if let Some(field) = e.pointer.as_deref().and_then(|p| p.rsplit('/').next()) {
                    e.field = field.to_string();
                }
            }
            AppError::Validation(errors)
        }
        other => other,
    });
    let (state, signed) = (&state, &signed);
    sent.finish(
        tx,
        recorded,
        |recorded| {
            Done::to(
                format!("{PREFIX}/earnings?recorded={}", recorded.len()),
                "the earnings recorded",
            )
        },
        async |errors| {
            let outcome = EarningsOutcome {
                errors,
                ..EarningsOutcome::default()
            };
            Ok(render_earnings(
                state,
                signed,
                &outcome,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        },
    )
    .await
}

async fn earnings_upload(
    State(state): State<AppState>,
    signed: Signed,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (form, file) =
        crate::web::read_form_with_small_file(&signed, multipart, MAX_EARNINGS_FILE).await?;
    let sent = FormAction::for_roles(FINANCE)
        .once("earnings-file")
        .open_form(&state, &signed, form, file.as_deref().unwrap_or_default())
        .await?;
    let Some(file) = file else {
        let outcome = EarningsOutcome {
            lines: vec!["choose a CSV file to upload".into()],
            ..EarningsOutcome::default()
        };
        return Ok(render_earnings(
            &state,
            &signed,
            &outcome,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    let mut tx = sent.begin().await?;
    match crate::import::earnings_csv_in(
        &mut tx,
        file.as_slice(),
        signed.user(),
        state.clock.now(),
        state.config.timezone,
    )
    .await
    {
        Ok(n) => {
            sent.commit(
                tx,
                Done::to(
                    format!("{PREFIX}/earnings?recorded={n}"),
                    "the earnings recorded from the file",
                ),
            )
            .await
        }
        Err(crate::import::ImportError::BadRows(lines)) => {
            let outcome = EarningsOutcome {
                lines,
                ..EarningsOutcome::default()
            };
            Ok(render_earnings(
                &state,
                &signed,
                &outcome,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(crate::import::ImportError::Read(_, why)) => {
            let outcome = EarningsOutcome {
                lines: vec![format!("the file could not be read as CSV: {why}")],
                ..EarningsOutcome::default()
            };
            Ok(render_earnings(
                &state,
                &signed,
                &outcome,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
        Err(crate::import::ImportError::Other(e)) => Err(AppError::Internal(e).into()),
    }
}
