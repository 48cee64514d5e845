//! The cashier's window in the console: pick a lease, see its open balances in the order
//! the payment hierarchy pays them, enter the payment (amounts per balance, or leave the
//! rest to the hierarchy), review what each balance will have left, then take it; the
//! receipt number is shown and its PDF printable. And the interim payments list with its
//! filters and exports. The same rules and services as `POST /ledger/interim-payments`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::ledger::{allocate_interim, OpenBalance};
use domain::money::Money;
use domain::status::PaymentMethod;
use maud::{html, Markup};

use super::interim::InterimPaymentRequest;
use super::interim_list::{self, InterimPaymentSummary, InterimQuery};
use super::payments::ChosenBalance;
use super::repo;
use crate::api::extract::RawQuery;
use crate::auth::model::{FINANCE, READERS};
use crate::db::Page as DbPage;
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::action::{Done, FormAction};
use crate::web::layout::{badge, csrf, date, field, input_field, money, money_cell};
use crate::web::list::{listed, Column, Export, Filter, ListPage};
use crate::web::{FieldErrors, Form, Page, PageError, Signed, PREFIX};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/interim-payments", get(list))
        .route("/app/interim-payments/export", get(export))
        .route(
            "/app/interim-payments/new",
            get(new_payment).post(review_or_take),
        )
        .route("/app/interim-payments/{receipt}", get(detail))
        .route("/app/interim-payments/{receipt}/receipt", get(receipt_pdf))
}

async fn list(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let filters = query.filled();
    let db = state.db.reader();
    let listed = listed(InterimQuery::parse(&filters), async |q| {
        let (items, total) = super::repo::interim_payments(db, &q).await?;
        Ok(DbPage::new(items, total, q.page))
    })
    .await?;
    let above = html! {
        @if signed.user().has_any(FINANCE) {
            div.actions { a.button.primary href={ (PREFIX) "/interim-payments/new" } { "Take a payment" } }
        }
    };
    Ok(ListPage {
        title: "Interim payments",
        crumbs: &[("Dashboard", "/app/"), ("Ledger", "/app/ledger")],
        section: "ledger",
        path: "/interim-payments",
        above,
        filters: vec![
            Filter::search("lease_id", "Lease"),
            Filter::search("driver_name", "Driver name"),
            Filter::search("receipt_number", "Receipt"),
            Filter::choice(
                "payment_method",
                "Method",
                PaymentMethod::ALL.iter().map(|m| (m.as_str(), m.as_str())),
            ),
            Filter::date("from_date", "Paid from"),
            Filter::date("to_date", "Paid to"),
        ],
        export: Some(Export::at("/interim-payments/export")),
        noun: ("payment", "payments"),
        empty: "No interim payment matches.",
        caption: "Interim payments, newest first",
        columns: vec![
            Column::link("Receipt", |p: &InterimPaymentSummary| {
                (
                    format!("/interim-payments/{}", p.receipt_number),
                    p.receipt_number.clone(),
                )
            }),
            Column::shown("Paid on", |p: &InterimPaymentSummary| date(&p.payment_date)),
            Column::text("Lease", |p: &InterimPaymentSummary| {
                Some(p.lease_id.as_str())
            }),
            Column::text("Driver", |p: &InterimPaymentSummary| {
                p.driver_name.as_deref()
            }),
            Column::text("Method", |p: &InterimPaymentSummary| {
                p.payment_method.as_deref()
            }),
            Column::money("Amount", |p: &InterimPaymentSummary| p.amount),
            Column::money("Applied", |p: &InterimPaymentSummary| p.applied),
            Column::money("Credit", |p: &InterimPaymentSummary| p.unapplied),
            Column::badge("Status", |p: &InterimPaymentSummary| {
                crate::house_style::label(&p.status)
            }),
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
    Ok(super::routes::interim_file(&state, &query.filled()).await?)
}

/// The lease a form names, and its open balances in the order the hierarchy pays them.
async fn lease_and_balances(
    state: &AppState,
    named: &str,
) -> Result<Option<(i64, String, Vec<(OpenBalance, String)>)>, AppError> {
    let named = named.trim();
    if named.is_empty() {
        return Ok(None);
    }
    let id = match crate::fleet::service::lease_named(state.db.reader(), named).await? {
        Some(id) => id,
        None => match crate::fleet::service::leases_matching(state.db.reader(), named, 2)
            .await?
            .as_slice()
        {
            // One lease answers to it (part of its id, its driver's name or TLC license).
            [one] => one.id,
            [] => {
                return Err(AppError::field(
                    "lease",
                    format!("no lease matches “{named}”: type a lease id or part of it, a driver's name or a TLC license"),
                ))
            }
            _ => {
                return Err(AppError::field(
                    "lease",
                    format!("several leases match “{named}”: choose one below"),
                ))
            }
        },
    };
    let named = crate::fleet::service::lease_business_id(state.db.reader(), id)
        .await?
        .unwrap_or_else(|| named.to_string());
    let named = named.as_str();
    let mut balances = repo::open_balances_to_show(state.db.reader(), id).await?;
    balances.sort_by_key(|(b, _)| {
        (
            b.category.hierarchy_rank().unwrap_or(u8::MAX),
            b.due_date,
            b.id,
        )
    });
    Ok(Some((id, named.to_string(), balances)))
}

/// What the cashier typed, kept between review and taking.
#[derive(Default)]
struct Entered {
    lease: String,
    amount: String,
    payment_date: String,
    method: String,
    check_number: String,
    memo: String,
    /// (balance id, amount typed) for balances with an amount.
    chosen: Vec<(i64, String)>,
    /// The form's one-time token (`web::once`), kept across reviews.
    once: String,
}

impl Entered {
    fn from_form(form: &Form) -> Entered {
        let text = |name: &str| form.get(name).unwrap_or_default().to_string();
        Entered {
            lease: text("lease"),
            amount: crate::web::money_typed(&text("amount")),
            payment_date: text("payment_date"),
            method: text("payment_method"),
            check_number: text("check_number"),
            memo: text("memo"),
            once: form
                .get(crate::web::once::FIELD)
                .map(str::to_string)
                .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
            chosen: form
                .0
                .iter()
                .filter_map(|(k, v)| {
                    let id = k.strip_prefix("pay_")?.parse::<i64>().ok()?;
                    Some((id, crate::web::money_typed(v))).filter(|(_, v)| !v.is_empty())
                })
                .collect(),
        }
    }

    fn request(&self, lease_id: i64) -> InterimPaymentRequest {
        let some = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
        InterimPaymentRequest {
            lease_id: serde_json::json!(lease_id),
            amount: serde_json::Value::String(self.amount.clone()),
            payment_date: some(&self.payment_date),
            payment_method: some(&self.method),
            check_number: some(&self.check_number),
            memo: some(&self.memo),
            note: None,
            receipt_number: None,
            allocations: self
                .chosen
                .iter()
                .map(|(id, amount)| ChosenBalance {
                    balance_id: *id,
                    amount: serde_json::Value::String(amount.clone()),
                })
                .collect(),
        }
    }
}

async fn new_payment(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(FINANCE)?;
    let entered = Entered {
        lease: query.get("lease").unwrap_or_default().to_string(),
        once: uuid::Uuid::new_v4().simple().to_string(),
        ..Entered::default()
    };
    render_new(
        &state,
        &signed,
        &entered,
        None,
        &FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// A review of where the money goes: (balance, reference, pays, left after) and the credit.
struct Review {
    rows: Vec<(OpenBalance, String, Money)>,
    credit: Money,
    /// Set when "Take payment" found the payment changed since it was reviewed.
    changed: bool,
}

impl Review {
    /// Where `payment` goes among the lease's open `balances` (the hierarchy's rules).
    fn of(
        balances: &[(OpenBalance, String)],
        payment: &super::interim::InterimPayment,
    ) -> Result<Review, domain::ledger::AllocationError> {
        let open: Vec<OpenBalance> = balances.iter().map(|(b, _)| b.clone()).collect();
        let result = allocate_interim(payment.amount, &open, &payment.allocations)?;
        Ok(Review {
            rows: result
                .allocations
                .iter()
                .filter_map(|a| {
                    balances
                        .iter()
                        .find(|(b, _)| b.id == a.balance_id)
                        .map(|(b, r)| (b.clone(), r.clone(), a.amount))
                })
                .collect(),
            credit: result.remaining,
            changed: false,
        })
    }

    /// What was reviewed, as one value: every field typed and where each cent goes. "Take
    /// payment" takes the payment only while this is what the cashier saw.
    fn fingerprint(&self, entered: &Entered) -> String {
        use sha2::{Digest, Sha256};
        let mut text = format!(
            "{}|{}|{}|{}|{}|{}|",
            entered.lease.trim().to_ascii_uppercase(),
            entered.amount,
            entered.payment_date,
            entered.method,
            entered.check_number,
            entered.memo
        );
        let mut chosen = entered.chosen.clone();
        chosen.sort();
        for (id, amount) in chosen {
            text.push_str(&format!("c{id}={amount};"));
        }
        for (b, _, pays) in &self.rows {
            text.push_str(&format!(
                "b{}:{}:{};",
                b.id,
                b.balance.cents(),
                pays.cents()
            ));
        }
        text.push_str(&format!("credit={}", self.credit.cents()));
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

async fn render_new(
    state: &AppState,
    signed: &Signed,
    entered: &Entered,
    review: Option<&Review>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let found = match lease_and_balances(state, &entered.lease).await {
        Ok(found) => found,
        Err(AppError::Validation(e)) => {
            let errors = FieldErrors(e);
            let matches =
                crate::fleet::service::leases_matching(state.db.reader(), &entered.lease, 20)
                    .await?;
            return Ok(render_picker(
                signed,
                entered,
                &errors,
                &matches,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let Some((_, lease, balances)) = found else {
        return Ok(render_picker(signed, entered, errors, &[], status));
    };
    let today = domain::calendar::local_date(state.clock.now(), state.config.timezone).to_string();
    let chosen = |id: i64| {
        entered
            .chosen
            .iter()
            .find(|(b, _)| *b == id)
            .map(|(_, a)| a.clone())
            .unwrap_or_default()
    };
    let content = html! {
        (picker(entered, errors, &[]))
        form.card method="post" action={ (PREFIX) "/interim-payments/new" } aria-label="Payment" {
            (csrf(signed))
            input type="hidden" name=(crate::web::once::FIELD) value=(entered.once);
            input type="hidden" name="lease" value=(lease);
            @if let Some(r) = review { input type="hidden" name="reviewed" value=(r.fingerprint(entered)); }
            h2 { "Open balances of " (lease) ", in the order the payment hierarchy pays them" }
            @if balances.is_empty() {
                p.empty { "Nothing is open: the whole payment is kept as the driver's credit for the next statement." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Open balances" {
                    table {
                        thead { tr { th { "Category" } th { "Reference" } th { "Due" } th.num { "Open" } th { "Pay (optional)" } @if review.is_some() { th.num { "Pays" } th.num { "Left after" } } } }
                        tbody {
                            @for (b, reference) in &balances {
                                @let input = format!("pay_{}", b.id);
                                tr {
                                    td { (b.category.as_str()) } td { (reference) } td { (date(&b.due_date.to_string())) }
                                    (money_cell(b.balance))
                                    td { input id=(input) name=(input) type="text" inputmode="decimal" value=(chosen(b.id)) aria-label={ "Pay on " (reference) }; }
                                    @if let Some(r) = review {
                                        @let pays = r.rows.iter().find(|(x, _, _)| x.id == b.id).map(|(_, _, m)| *m).unwrap_or(Money::ZERO);
                                        (money_cell(pays)) (money_cell(b.balance - pays))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            div.filters {
                (input_field("Amount paid ($)", "amount", &entered.amount, "text", errors))
                (input_field("Payment date", "payment_date", if entered.payment_date.is_empty() { &today } else { &entered.payment_date }, "date", errors))
                (field("Method", "payment_method", html! {
                    select #payment_method name="payment_method" {
                        @for m in PaymentMethod::ALL { option value=(m.as_str()) selected[entered.method == m.as_str()] { (m.as_str()) } }
                    }
                }, errors.for_field("payment_method")))
                (input_field("Check number (checks only)", "check_number", &entered.check_number, "text", errors))
                (input_field("Memo", "memo", &entered.memo, "text", errors))
            }
            @for e in errors.general(&["lease", "amount", "payment_date", "payment_method", "check_number", "memo"]) {
                p.notice.error role="alert" { (e.message) }
            }
            @if let Some(r) = review {
                @if r.changed {
                    p.notice.error role="alert" { "The payment changed after it was reviewed, or its balances did: nothing was taken. Check this new review, then take the payment." }
                }
                section.notice role="status" aria-label="Review" {
                    p { "Amounts left blank are paid by the hierarchy, oldest due first. " (money(r.rows.iter().map(|(_, _, m)| *m).sum::<Money>())) " goes to balances"
                        @if r.credit.is_positive() { "; " (money(r.credit)) " is kept as the driver's credit for the next statement" } "." }
                }
                div.actions {
                    button.primary type="submit" name="action" value="take" { "Take payment" }
                    button type="submit" name="action" value="review" { "Review again" }
                }
            } @else {
                button.primary type="submit" name="action" value="review" { "Review" }
            }
        }
    };
    Ok(Page {
        title: "Take an interim payment",
        crumbs: &[
            ("Dashboard", "/app/"),
            ("Interim payments", "/app/interim-payments"),
        ],
        signed: Some(signed),
        section: "ledger",
    }
    .render_with(status, content))
}

fn picker(
    entered: &Entered,
    errors: &FieldErrors,
    matches: &[crate::fleet::model::Lease],
) -> Markup {
    html! {
        form.card method="get" action={ (PREFIX) "/interim-payments/new" } aria-label="Lease" {
            (input_field("Lease (its id or part of it, a driver's name or TLC license)", "lease", &entered.lease, "search", errors))
            button type="submit" { "Show open balances" }
            @if !matches.is_empty() {
                ul.matches aria-label="Leases that match" {
                    @for l in matches {
                        li {
                            a href={ (PREFIX) "/interim-payments/new?lease=" (l.lease_id) } { (l.lease_id) }
                            " · " (l.drivers.iter().find(|d| d.is_driver_manager).map(|d| d.full_name.as_str()).unwrap_or("—"))
                            " · medallion " (l.medallion_number) " · " (l.status.as_str())
                        }
                    }
                }
            }
        }
    }
}

fn render_picker(
    signed: &Signed,
    entered: &Entered,
    errors: &FieldErrors,
    matches: &[crate::fleet::model::Lease],
    status: StatusCode,
) -> Response {
    Page {
        title: "Take an interim payment",
        crumbs: &[
            ("Dashboard", "/app/"),
            ("Interim payments", "/app/interim-payments"),
        ],
        signed: Some(signed),
        section: "ledger",
    }
    .render_with(status, picker(entered, errors, matches))
}

async fn review_or_take(
    State(state): State<AppState>,
    signed: Signed,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Form::parse(&body);
    // Only taking moves money: a review is shown as often as asked.
    let taking = form.get("action") == Some("take");
    let action = FormAction::for_roles(FINANCE);
    let action = if taking {
        action.once("interim-payment")
    } else {
        action
    };
    let sent = action.open_form(&state, &signed, form, b"").await?;
    let mut entered = Entered::from_form(&sent.form);
    let Some((lease_id, lease, balances)) = lease_and_balances(&state, &entered.lease).await?
    else {
        return Err(AppError::field("lease", "name the lease").into());
    };
    // The lease as found (`LS-01001` for "ahmed"): what the review shows and the form sends.
    entered.lease = lease;
    let (state, signed, entered) = (&state, &signed, &entered);
    let page = async |errors: FieldErrors| {
        render_new(
            state,
            signed,
            entered,
            None,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    };
    let payment = match entered.request(lease_id).parse() {
        Ok(p) => p,
        Err(error) => {
            let mut errors = FieldErrors::from_error(error)?;
            for e in &mut errors.0 {
                if e.pointer
                    .as_deref()
                    .is_some_and(|p| p.starts_with("/allocations/"))
                {
                    e.field = "allocations".into();
                    e.message = format!("an amount per balance: {}", e.message);
                }
            }
            return sent.refuse(errors, page).await;
        }
    };
    let mut review = match Review::of(&balances, &payment) {
        Ok(review) => review,
        Err(e) => {
            let errors = FieldErrors(vec![FieldError::new("allocations", e.to_string())]);
            return sent.refuse(errors, page).await;
        }
    };
    // What was reviewed is what is taken: a field changed after the review (or a balance
    // paid meanwhile) shows the new review and takes nothing.
    let reviewed = sent.get("reviewed") == Some(review.fingerprint(entered).as_str());
    if !taking || !reviewed {
        review.changed = taking;
        return render_new(
            state,
            signed,
            entered,
            Some(&review),
            &FieldErrors::default(),
            StatusCode::OK,
        )
        .await;
    }
    // Bound to the review under the lease's lock: balances paid or voided since the review
    // (read above without a lock) make it a new review, and nothing is taken.
    let reviewed = super::interim::Reviewed {
        allocations: review
            .rows
            .iter()
            .map(|(b, _, pays)| (b.id, *pays))
            .collect(),
        credit: review.credit,
    };
    let mut tx = sent.begin().await?;
    let taken = super::interim::take_payment(
        &mut tx,
        lease_id,
        &payment,
        Some(&reviewed),
        &signed.user().username,
        state.clock.now(),
        state.config.timezone,
    )
    .await;
    match taken {
        Err(AppError::Conflict(message)) if message == super::interim::CHANGED_SINCE_REVIEW => {
            drop(tx);
            let Some((_, _, balances)) = lease_and_balances(state, &entered.lease).await? else {
                return Err(AppError::field("lease", "name the lease").into());
            };
            match Review::of(&balances, &payment) {
                Ok(mut review) => {
                    review.changed = true;
                    render_new(
                        state,
                        signed,
                        entered,
                        Some(&review),
                        &FieldErrors::default(),
                        StatusCode::CONFLICT,
                    )
                    .await
                }
                Err(e) => {
                    let errors = FieldErrors(vec![FieldError::new("allocations", e.to_string())]);
                    sent.refuse(errors, page).await
                }
            }
        }
        taken => {
            sent.finish(
                tx,
                taken,
                |outcome| {
                    Done::to(
                        format!("{PREFIX}/interim-payments/{}", outcome.receipt_number),
                        outcome.receipt_number.clone(),
                    )
                },
                page,
            )
            .await
        }
    }
}

async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Path(receipt): Path<String>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let d = super::repo::interim_payment(state.db.reader(), &receipt)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no interim payment {receipt}")))?;
    let p = &d.payment;
    let title = format!("Receipt {}", p.receipt_number);
    let content = html! {
        div.actions {
            (badge(&crate::house_style::label(&p.status)))
            a.button.primary href={ (PREFIX) "/interim-payments/" (p.receipt_number) "/receipt" } { "Print receipt (PDF)" }
            a.button href={ (PREFIX) "/ledger/postings/" (p.posting_id) } { "Ledger posting" }
        }
        div.cards {
            section.card aria-label="Payment" {
                h2 { "Payment" }
                dl.facts {
                    dt { "Receipt number" } dd.stat { (p.receipt_number) }
                    dt { "Amount paid" } dd { (money(p.amount)) }
                    dt { "Applied to balances" } dd { (money(p.applied)) }
                    dt { "Credit kept" } dd { (money(p.unapplied)) }
                    dt { "Paid on" } dd { (date(&p.payment_date)) }
                    dt { "Method" } dd { (p.payment_method.as_deref().unwrap_or("—")) @if let Some(n) = &p.check_number { " no. " (n) } }
                    dt { "Lease" } dd { (p.lease_id) }
                    dt { "Driver" } dd { (p.driver_name.as_deref().unwrap_or("—")) }
                    @if let Some(m) = &p.memo { dt { "Memo" } dd { (m) } }
                    dt { "Taken by" } dd { (p.created_by) }
                }
            }
            section.card aria-label="What it paid" {
                h2 { "What it paid" }
                @if d.allocations.is_empty() { p.empty { "No balance: all of it is the driver's credit." } } @else {
                    div.table-wrap tabindex="0" role="region" aria-label="What it paid" {
                    table {
                        thead { tr { th { "Balance" } th { "Category" } th.num { "Paid" } th.num { "Left now" } } }
                        tbody {
                            @for a in &d.allocations {
                                tr { td { (a.reference_id) @if a.reversed { " (reversed)" } } td { (a.category) } (money_cell(a.amount)) (money_cell(a.balance_now)) }
                            }
                        }
                    }
                    }
                }
            }
        }
    };
    Ok(Page {
        title: &title,
        crumbs: &[
            ("Dashboard", "/app/"),
            ("Interim payments", "/app/interim-payments"),
        ],
        signed: Some(&signed),
        section: "ledger",
    }
    .render(content))
}

async fn receipt_pdf(
    State(state): State<AppState>,
    signed: Signed,
    Path(receipt): Path<String>,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let d = super::repo::interim_payment(state.db.reader(), &receipt)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no interim payment {receipt}")))?;
    let stamp = crate::exports::Stamp::now(&state);
    let pdf = interim_list::receipt_pdf(&d, &state.config.fleet_name, stamp.now, stamp.timezone);
    let file: String = receipt
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"receipt_{file}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
