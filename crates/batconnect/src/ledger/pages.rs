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
use crate::error::AppError;
use crate::state::AppState;
use crate::web::layout::{
    badge, csrf, date, field, filter_footer, input_field, money, money_cell, pagination, time,
};
use crate::web::{FieldErrors, Form, Page, PageError, Signed, PREFIX};

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

fn value<'a>(query: &'a RawQuery, name: &str) -> &'a str {
    query.get(name).unwrap_or_default()
}

fn may_finance(signed: &Signed) -> bool {
    signed.user().has_any(FINANCE)
}

/// A `select` of words with "Any" first, the chosen one selected.
fn word_select(name: &str, words: &[(&str, &str)], chosen: &str) -> Markup {
    html! {
        select id=(name) name=(name) {
            option value="" { "Any" }
            @for (word, shown) in words {
                option value=(word) selected[chosen.eq_ignore_ascii_case(word)] { (shown) }
            }
        }
    }
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

fn export_links(kind: &str, filters: &RawQuery) -> Markup {
    let link = |format: &str| {
        let mut pairs: Vec<(String, String)> = filters
            .0
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .cloned()
            .collect();
        pairs.push(("kind".into(), kind.into()));
        pairs.push(("format".into(), format.into()));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{PREFIX}/ledger/export?{query}")
    };
    html! {
        a.button href=(link("csv")) download { "Export CSV" }
        a.button href=(link("excel")) download { "Export Excel" }
        a.button href=(link("pdf")) download { "Export PDF" }
    }
}

const PARTY_FILTERS: &[(&str, &str)] = &[
    ("lease_id", "Lease"),
    ("driver_name", "Driver name"),
    ("medallion_number", "Medallion"),
    ("reference_id", "Reference"),
];

fn categories() -> Vec<(&'static str, &'static str)> {
    Category::ALL
        .iter()
        .map(|c| (c.as_str(), c.as_str()))
        .collect()
}

async fn postings(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let filters = query.filled();
    let (result, errors) = match super::query::postings_filter(state.db.reader(), &filters).await {
        Ok((filter, page)) => {
            let (mut items, total) = repo::list_postings(state.db.reader(), &filter, page).await?;
            super::query::label_postings(state.db.reader(), &mut items).await?;
            (
                Some(DbPage::new(items, total, page)),
                FieldErrors::default(),
            )
        }
        Err(error) => (None, FieldErrors::from_error(error)?),
    };
    let tz = state.config.timezone;
    let entry_types: Vec<(&str, &str)> = EntryType::ALL
        .iter()
        .map(|e| (e.as_str(), e.label()))
        .collect();
    let statuses: Vec<(&str, &str)> = PostingStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    let content = html! {
        (tabs("postings"))
        form.card method="get" action={ (PREFIX) "/ledger" } aria-label="Filters" {
            div.filters {
                @for (name, text) in PARTY_FILTERS {
                    (input_field(text, name, value(&filters, name), "search", &errors))
                }
                (field("Category", "category", word_select("category", &categories(), value(&filters, "category")), errors.for_field("category")))
                (field("Entry type", "entry_type", word_select("entry_type", &entry_types, value(&filters, "entry_type")), errors.for_field("entry_type")))
                (field("Status", "status", word_select("status", &statuses, value(&filters, "status")), errors.for_field("status")))
                (input_field("Created from", "from_date", value(&filters, "from_date"), "date", &errors))
                (input_field("Created to", "to_date", value(&filters, "to_date"), "date", &errors))
            }
            (filter_footer("/ledger", &errors, &["lease_id", "driver_name", "medallion_number", "reference_id", "category", "entry_type", "status", "from_date", "to_date"]))
        }
        @if let Some(page) = &result {
            div.actions {
                span { (reports::thousands(page.total_items)) " postings" }
                (export_links("postings", &filters))
            }
            @if page.items.is_empty() {
                p.empty.card { "No posting matches these filters." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Postings" {
                    table {
                        caption.muted { "Ledger postings, newest first, page " (page.page) }
                        thead { tr {
                            th { "ID" } th { "Created" } th { "Lease" } th { "Driver" } th { "Category" }
                            th { "Entry type" } th { "Reference" } th.num { "Amount" } th { "Status" }
                        } }
                        tbody {
                            @for p in &page.items {
                                tr {
                                    td { a href={ (PREFIX) "/ledger/postings/" (p.id) } { (p.id) } }
                                    td { (time(&p.created_on, tz)) }
                                    td { (p.lease_business_id.as_deref().unwrap_or("—")) }
                                    td { (p.driver_name.as_deref().unwrap_or("—")) }
                                    td { (p.category.as_str()) }
                                    td { (p.entry_type.label()) }
                                    td { (p.reference_id) }
                                    (money_cell(p.amount))
                                    td { (badge(p.status.label())) }
                                }
                            }
                        }
                    }
                }
                (pagination(&format!("{PREFIX}/ledger"), &filters.0, page.page, page.total_pages))
            }
        }
    };
    Ok(Page {
        title: "Ledger",
        crumbs: &[("Dashboard", "/app/")],
        signed: Some(&signed),
        section: "ledger",
    }
    .render(content))
}

async fn balances(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let filters = query.filled();
    let (result, errors) = match super::query::balances_filter(state.db.reader(), &filters).await {
        Ok((filter, page)) => {
            let (mut items, total) = repo::list_balances(state.db.reader(), &filter, page).await?;
            super::query::label_balances(state.db.reader(), &mut items).await?;
            (
                Some(DbPage::new(items, total, page)),
                FieldErrors::default(),
            )
        }
        Err(error) => (None, FieldErrors::from_error(error)?),
    };
    let statuses: Vec<(&str, &str)> = BalanceStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    let content = html! {
        (tabs("balances"))
        form.card method="get" action={ (PREFIX) "/ledger/balances" } aria-label="Filters" {
            div.filters {
                @for (name, text) in PARTY_FILTERS {
                    (input_field(text, name, value(&filters, name), "search", &errors))
                }
                (field("Category", "category", word_select("category", &categories(), value(&filters, "category")), errors.for_field("category")))
                (field("Status", "status", word_select("status", &statuses, value(&filters, "status")), errors.for_field("status")))
                (input_field("Due from", "from_date", value(&filters, "from_date"), "date", &errors))
                (input_field("Due to", "to_date", value(&filters, "to_date"), "date", &errors))
            }
            (filter_footer("/ledger/balances", &errors, &["lease_id", "driver_name", "medallion_number", "reference_id", "category", "status", "from_date", "to_date"]))
        }
        @if let Some(page) = &result {
            div.actions {
                span { (reports::thousands(page.total_items)) " balances" }
                (export_links("balances", &filters))
            }
            @if page.items.is_empty() {
                p.empty.card { "No balance matches these filters." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Balances" {
                    table {
                        caption.muted { "Balances by due date, page " (page.page) }
                        thead { tr {
                            th { "Due" } th { "Lease" } th { "Driver" } th { "Category" } th { "Reference" }
                            th.num { "Original" } th.num { "Paid" } th.num { "Balance" } th { "Status" }
                        } }
                        tbody {
                            @for b in &page.items { (balance_row(b)) }
                        }
                    }
                }
                (pagination(&format!("{PREFIX}/ledger/balances"), &filters.0, page.page, page.total_pages))
            }
        }
    };
    Ok(Page {
        title: "Ledger balances",
        crumbs: &[("Dashboard", "/app/"), ("Ledger", "/app/ledger")],
        signed: Some(&signed),
        section: "ledger",
    }
    .render(content))
}

fn balance_row(b: &Balance) -> Markup {
    html! {
        tr {
            td { (date(&b.due_date)) }
            td { (b.lease_business_id.as_deref().unwrap_or("—")) }
            td { (b.driver_name.as_deref().unwrap_or("—")) }
            td { (b.category.as_str()) }
            td { a href={ (PREFIX) "/ledger/postings/" (b.obligation_posting_id) } { (b.reference_id) } }
            (money_cell(b.original_amount))
            (money_cell(b.applied_amount))
            (money_cell(b.current_balance))
            td { (badge(b.status.label())) }
        }
    }
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
    render_posting(
        &state,
        &signed,
        id,
        &FieldErrors::default(),
        "",
        StatusCode::OK,
    )
    .await
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
    entered_reason: &str,
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
                    (field("Reason (10 to 500 characters)", "reason", html! {
                        textarea #reason name="reason" required minlength="10" maxlength="500"
                            aria-invalid=[errors.for_field("reason").map(|_| "true")]
                            aria-describedby=[errors.for_field("reason").map(|_| "reason-error")] { (entered_reason) }
                    }, errors.for_field("reason")))
                    div.choice {
                        input #confirm type="checkbox" name="confirm" value="yes" required;
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
    let form = Form::parse(&body);
    form.check_csrf(&signed)?;
    signed.user().require(FINANCE)?;
    let once = crate::web::once::Once::of(&form, &signed, &format!("void:{id}"), b"");
    if let Some(done) = crate::web::once::replayed(once.as_ref(), &state.db).await? {
        return Ok(done);
    }
    let reason = form.get("reason").unwrap_or_default().to_string();
    let state = &state;
    let signed = &signed;
    let reason_shown = reason.as_str();
    let refused = |errors: FieldErrors| async move {
        render_posting(
            state,
            signed,
            id,
            &errors,
            reason_shown,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    };
    if form.get("confirm") != Some("yes") {
        return refused(FieldErrors(vec![crate::error::FieldError::new(
            "confirm",
            "tick the box to confirm the void",
        )]))
        .await;
    }
    if !(10..=500).contains(&reason.chars().count()) {
        return refused(FieldErrors(vec![crate::error::FieldError::new(
            "reason",
            "must say why in 10 to 500 characters",
        )]))
        .await;
    }
    let mut tx = state.db.begin().await?;
    let voided = service::void_posting(
        &mut tx,
        state.db.backend(),
        id,
        &reason,
        service::VoidSource::Finance,
        &signed.user().username,
        state.clock.now(),
    )
    .await;
    match voided {
        Ok(_) => {
            crate::web::once::finish(
                once.as_ref(),
                &state.db,
                tx,
                &format!("{PREFIX}/ledger/postings/{id}"),
                &format!("the void of posting {id}"),
                state.clock.now(),
            )
            .await
        }
        Err(error) => {
            drop(tx);
            refused(FieldErrors::from_error(error)?).await
        }
    }
}

/// What the earnings page shows after a form: what was recorded, or what was wrong.
#[derive(Default)]
struct EarningsOutcome {
    recorded: Option<String>,
    errors: FieldErrors,
    lines: Vec<String>,
    entered: (String, String, String),
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
            .map(|n| format!("{n} earnings row(s) recorded.")),
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
    let (lease, period, amount) = &outcome.entered;
    let period = if period.is_empty() { &week } else { period };
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
                    (input_field("Lease (id or LS-…)", "lease_id", lease, "text", errors))
                    (input_field("Week (its Sunday)", "period", period, "date", errors))
                    (input_field("Earnings ($)", "amount", amount, "text", errors))
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
    let form = Form::parse(&body);
    form.check_csrf(&signed)?;
    signed.user().require(FINANCE)?;
    let once = crate::web::once::Once::of(&form, &signed, "earnings", b"");
    if let Some(done) = crate::web::once::replayed(once.as_ref(), &state.db).await? {
        return Ok(done);
    }
    let entered = (
        form.get("lease_id").unwrap_or_default().to_string(),
        form.get("period").unwrap_or_default().to_string(),
        form.get("amount").unwrap_or_default().to_string(),
    );
    let row = EarningsRequestRow {
        lease_id: serde_json::Value::String(entered.0.clone()),
        driver_id: None,
        period: entered.1.clone(),
        amount: serde_json::Value::String(entered.2.clone()),
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    match payments::record_earnings_rows(
        &mut tx,
        &[row],
        &signed.user().username,
        now,
        state.config.timezone,
    )
    .await
    {
        Ok(recorded) => {
            crate::web::once::finish(
                once.as_ref(),
                &state.db,
                tx,
                &format!("{PREFIX}/earnings?recorded={}", recorded.len()),
                "the earnings recorded",
                now,
            )
            .await
        }
        Err(error) => {
            drop(tx);
            // Row errors name `earnings/0/<field>`: show them at the field.
            let mut errors = FieldErrors::from_error(error)?;
            for e in &mut errors.0 {
                if let Some(field) = e.pointer.as_deref().and_then(|p| p.rsplit('/').next()) {
                    e.field = field.to_string();
                }
            }
            let outcome = EarningsOutcome {
                errors,
                entered,
                ..EarningsOutcome::default()
            };
            Ok(render_earnings(
                &state,
                &signed,
                &outcome,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

async fn earnings_upload(
    State(state): State<AppState>,
    signed: Signed,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (form, file) =
        crate::web::read_form_with_small_file(&signed, multipart, MAX_EARNINGS_FILE).await?;
    signed.user().require(FINANCE)?;
    let once = crate::web::once::Once::of(
        &form,
        &signed,
        "earnings-file",
        file.as_deref().unwrap_or_default(),
    );
    if let Some(done) = crate::web::once::replayed(once.as_ref(), &state.db).await? {
        return Ok(done);
    }
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
    let mut tx = state.db.begin().await?;
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
            crate::web::once::finish(
                once.as_ref(),
                &state.db,
                tx,
                &format!("{PREFIX}/earnings?recorded={n}"),
                "the earnings recorded from the file",
                state.clock.now(),
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
