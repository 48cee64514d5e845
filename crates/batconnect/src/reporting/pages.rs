//! The reports in the console: "Repair costs" — the last twelve months (or the range
//! chosen), the top 20 vehicles, the spend per workshop, parts against labour — each a
//! chart with its table, and the files of every grouping.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::html;

use super::model::{CostGrouping, RepairCosts};
use super::service::{self, Range};
use crate::api::extract::RawQuery;
use crate::auth::model::READERS;
use crate::state::AppState;
use crate::web::chart::{BarChart, Series};
use crate::web::layout::{date, money};
use crate::web::{FieldErrors, Page, PageError, Signed, PREFIX};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/reports/repair-costs", get(repair_costs))
        .route("/app/reports/repair-costs/export", get(export))
        .route("/app/reports/aging", get(aging))
        .route("/app/reports/collections", get(collections))
        .route("/app/leases/{id}/statement", get(statement))
}

fn tabs(current: &str) -> maud::Markup {
    html! {
        nav.tabs aria-label="Reports" {
            @for (key, path, text) in [("repair-costs", "/reports/repair-costs", "Repair costs"), ("aging", "/reports/aging", "Aging"), ("collections", "/reports/collections", "Collections")] {
                @let href = format!("{PREFIX}{path}");
                @if key == current { a href=(href) aria-current="page" { (text) } } @else { a href=(href) { (text) } }
            }
        }
    }
}

/// Receivables aging: a stacked view of the buckets by category, the table under it, and
/// each lease's statement of account.
async fn aging(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    if q.0.iter().any(|(k, _)| k == "format") {
        let report = super::routes::aging_of(&state, &q).await?;
        return Ok(super::files::aging(
            &report,
            crate::exports::Format::parse(&q)?,
            crate::exports::Stamp::now(&state),
            &state.config.fleet_name,
        )?);
    }
    let (report, errors) = match super::routes::aging_of(&state, &q).await {
        Ok(report) => (Some(report), FieldErrors::default()),
        Err(error) => (None, FieldErrors::from_error(error)?),
    };
    let today = super::routes::today(&state).to_string();
    let as_of = q.get("as_of").unwrap_or(&today).to_string();
    let labels = ["Not due", "1–7 days", "8–28 days", "29–56 days", "57+ days"];
    let content = html! {
        (tabs("aging"))
        form.card.filters method="get" action={ (PREFIX) "/reports/aging" } aria-label="Aging filters" {
            div.form-grid {
                (crate::web::layout::input_field("As of", "as_of", &as_of, "date", &errors))
                (crate::web::layout::input_field("Category", "category", q.get("category").unwrap_or_default(), "text", &errors))
                (crate::web::layout::input_field("Lease", "lease_id", q.get("lease_id").unwrap_or_default(), "text", &errors))
                (crate::web::layout::input_field("Driver", "driver_id", q.get("driver_id").unwrap_or_default(), "text", &errors))
            }
            @for e in errors.general(&["as_of", "category", "lease_id", "driver_id"]) { p.notice.error role="alert" { (e.field) ": " (e.message) } }
            div.actions { button.primary type="submit" { "Show" } a.button href={ (PREFIX) "/reports/aging" } { "Today" } }
        }
        @if let Some(report) = &report {
            @let categories: Vec<String> = report.by_category.iter().map(|c| c.category.clone()).collect();
            @let chart = BarChart {
                stacked: true,
                title: format!("Open by days past due and category, as of {}", date(&report.as_of)),
                category_header: "Category".into(),
                categories: categories.clone(),
                series: labels.iter().enumerate().map(|(i, label)| Series {
                    name: label.to_string(),
                    values: report.by_category.iter().map(|c| c.buckets.amounts()[i]).collect(),
                }).collect(),
            };
            (chart.figure("aging-chart"))
            section.card aria-labelledby="aging-heading" {
                h2 #aging-heading { "By lease" }
                @let file = |format: &str| format!("{PREFIX}/reports/aging?as_of={}&format={format}", report.as_of);
                p { a href=(file("csv")) download { "CSV" } " · " a href=(file("excel")) download { "Excel" } " · " a href=(file("pdf")) download { "PDF" } }
                @if report.rows.is_empty() {
                    p.empty { "Nothing was open." }
                } @else {
                    div.table-wrap {
                        table {
                            caption { "Open amounts as of " (date(&report.as_of)) }
                            thead { tr { th { "Lease" } th { "Driver" } th { "Category" } @for l in labels { th.num { (l) } } th.num { "Total" } } }
                            tbody {
                                @for r in &report.rows {
                                    tr {
                                        td { a href={ (PREFIX) "/leases/" (r.lease_pk) "/statement?to=" (report.as_of) } { (r.lease_id) } }
                                        td { (r.driver.as_deref().unwrap_or("—")) }
                                        td { (r.category) }
                                        @for m in r.buckets.amounts() { td.num { (money(m)) } }
                                        td.num { (money(r.buckets.total)) }
                                    }
                                }
                            }
                            tfoot { tr { th colspan="3" scope="row" { "Total" } @for m in report.totals.amounts() { td.num { (money(m)) } } td.num { strong { (money(report.totals.total)) } } } }
                        }
                    }
                    (crate::web::layout::pagination(&format!("{PREFIX}/reports/aging"), &q.0, report.page, report.total_pages))
                }
            }
        }
    };
    Ok(Page {
        title: "Aging",
        crumbs: &[("Dashboard", "/app/")],
        signed: Some(&signed),
        section: "reports",
    }
    .render(content))
}

/// Weekly collections: charged against collected, a chart of the weeks and the tables.
async fn collections(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    if q.0.iter().any(|(k, _)| k == "format") {
        let report = super::routes::collections_of(&state, &q).await?;
        return Ok(super::files::collections(
            &report,
            crate::exports::Format::parse(&q)?,
            crate::exports::Stamp::now(&state),
            &state.config.fleet_name,
        )?);
    }
    let (report, errors) = match super::routes::collections_of(&state, &q).await {
        Ok(report) => (Some(report), FieldErrors::default()),
        Err(error) => (None, FieldErrors::from_error(error)?),
    };
    let shown = |name: &str, fallback: Option<&String>| {
        q.get(name)
            .map(str::to_string)
            .or(fallback.cloned())
            .unwrap_or_default()
    };
    let rate = |r: Option<f64>| {
        r.map(|r| format!("{:.1} %", r * 100.0))
            .unwrap_or_else(|| "—".into())
    };
    let content = html! {
        (tabs("collections"))
        form.card.filters method="get" action={ (PREFIX) "/reports/collections" } aria-label="Weeks" {
            div.form-grid {
                (crate::web::layout::input_field("From the week of (a Sunday)", "from_week", &shown("from_week", report.as_ref().map(|r| &r.from_week)), "date", &errors))
                (crate::web::layout::input_field("To the week of (a Sunday)", "to_week", &shown("to_week", report.as_ref().map(|r| &r.to_week)), "date", &errors))
            }
            @for e in errors.general(&["from_week", "to_week"]) { p.notice.error role="alert" { (e.field) ": " (e.message) } }
            div.actions { button.primary type="submit" { "Show" } a.button href={ (PREFIX) "/reports/collections" } { "The last 12 weeks" } }
        }
        @if let Some(report) = &report {
            @let chart = BarChart {
        stacked: false,
                title: format!("Charged against collected, weeks of {} to {}", date(&report.from_week), date(&report.to_week)),
                category_header: "Week of".into(),
                categories: report.weeks.iter().map(|w| date(&w.week)).collect(),
                series: vec![
                    Series { name: "Charged".into(), values: report.weeks.iter().map(|w| w.figures.charged).collect() },
                    Series { name: "Collected".into(), values: report.weeks.iter().map(|w| w.figures.collected).collect() },
                ],
            };
            (chart.figure("collections-chart"))
            @let file = |format: &str| format!("{PREFIX}/reports/collections?from_week={}&to_week={}&format={format}", report.from_week, report.to_week);
            p { a href=(file("csv")) download { "CSV" } " · " a href=(file("excel")) download { "Excel" } " · " a href=(file("pdf")) download { "PDF" } }
            div.table-wrap {
                table {
                    caption { "Each week, every category" }
                    thead { tr { th { "Week of" } th.num { "Charged" } th.num { "Earnings" } th.num { "Interim" } th.num { "Credit applied" } th.num { "Collected" } th.num { "Adjustments" } th.num { "Voided" } th.num { "Rate" } } }
                    tbody {
                        @for w in &report.weeks {
                            tr {
                                th scope="row" { (date(&w.week)) }
                                @for m in [w.figures.charged, w.figures.collected_earnings, w.figures.collected_interim, w.figures.credit_applied, w.figures.collected, w.figures.adjustments_collected, w.figures.voided_or_adjusted] { td.num { (money(m)) } }
                                td.num { (rate(w.figures.rate)) }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" { "Total" }
                        @let t = &report.totals;
                        @for m in [t.charged, t.collected_earnings, t.collected_interim, t.credit_applied, t.collected, t.adjustments_collected, t.voided_or_adjusted] { td.num { (money(m)) } }
                        td.num { (rate(t.rate)) }
                    } }
                }
            }
        }
    };
    Ok(Page {
        title: "Collections",
        crumbs: &[("Dashboard", "/app/")],
        signed: Some(&signed),
        section: "reports",
    }
    .render(content))
}

/// A lease's statement of account, with its PDF and CSV.
async fn statement(
    State(state): State<AppState>,
    signed: Signed,
    axum::extract::Path(id): axum::extract::Path<String>,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    let s = super::routes::statement_of(&state, &id, &q).await?;
    if q.0.iter().any(|(k, _)| k == "format") {
        return Ok(super::files::statement(
            &s,
            crate::exports::Format::parse(&q)?,
            crate::exports::Stamp::now(&state),
            &state.config.fleet_name,
            state.config.timezone,
        )?);
    }
    let file = |format: &str| {
        format!(
            "{PREFIX}/leases/{}/statement?from={}&to={}&format={format}",
            s.lease_pk, s.from, s.to
        )
    };
    let content = html! {
        section.card {
            dl.facts {
                dt { "Lease" } dd { a href={ (PREFIX) "/fleet/leases/" (s.lease_pk) } { (s.lease_id) } }
                dt { "From" } dd { (date(&s.from)) }
                dt { "To" } dd { (date(&s.to)) }
                dt { "Opening balance" } dd { (money(s.opening_balance)) }
                dt { "Closing balance" } dd { strong { (money(s.closing_balance)) } }
                dt { "Open balances" } dd { (money(s.open_balances)) }
                dt { "Unapplied credit" } dd { (money(s.unapplied_credit)) }
            }
            p { a.button href=(file("pdf")) download { "Statement (PDF)" } " " a.button href=(file("csv")) download { "CSV" } }
        }
        div.table-wrap {
            table {
                caption { "Statement of account of lease " (s.lease_id) }
                thead { tr { th { "Date" } th { "Entry" } th { "Category" } th { "Reference" } th { "Description" } th.num { "Amount" } th.num { "Applied" } th.num { "Balance" } } }
                tbody {
                    tr { td { (date(&s.from)) } td colspan="6" { "Opening balance" } td.num { (money(s.opening_balance)) } }
                    @for e in &s.entries {
                        tr {
                            td { (date(&e.date)) }
                            td { (e.kind.replace('_', " ")) }
                            td { (e.category) }
                            td { (e.reference) }
                            td { (e.description) }
                            td.num { @if e.kind != "applied" { (money(e.amount)) } }
                            td.num { @if let Some(a) = e.applied { (money(a)) } }
                            td.num { (money(e.balance)) }
                        }
                    }
                }
                tfoot { tr { th colspan="7" scope="row" { "Closing balance" } td.num { strong { (money(s.closing_balance)) } } } }
            }
        }
    };
    let title = format!("Statement of account — {}", s.lease_id);
    Ok(Page {
        title: &title,
        crumbs: &[("Dashboard", "/app/"), ("Aging", "/app/reports/aging")],
        signed: Some(&signed),
        section: "reports",
    }
    .render(content))
}

/// The report as a file, for the console's links (the API's route takes a bearer token).
async fn export(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    q.reject_unknown(&["group_by", "from", "to", "format"])?;
    let grouping = super::routes::grouping_of(&q)?;
    let range = Range::parse(q.get("from"), q.get("to"))?;
    let format = crate::exports::Format::parse(&q)?;
    let costs = service::repair_costs(&state.db, grouping, range).await?;
    Ok(super::files::repair_costs(
        &costs,
        format,
        crate::exports::Stamp::now(&state),
        &state.config.fleet_name,
    )?)
}

fn chart_of(title: String, header: &str, costs: &RepairCosts, limit: usize) -> BarChart {
    let shown = costs.groups.iter().take(limit);
    BarChart {
        stacked: false,
        title,
        category_header: header.into(),
        categories: shown.clone().map(|g| g.label.clone()).collect(),
        series: vec![Series {
            name: "Amount".into(),
            values: shown.map(|g| g.sum).collect(),
        }],
    }
}

async fn repair_costs(
    State(state): State<AppState>,
    signed: Signed,
    query: RawQuery,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let q = query.filled();
    let today = domain::calendar::local_date(state.clock.now(), state.config.timezone);
    let default = Range::last_twelve_months(today);
    let asked = q.get("from").is_some() || q.get("to").is_some();
    let (range, errors) = if asked {
        match Range::parse(q.get("from"), q.get("to")) {
            Ok(range) => (range, FieldErrors::default()),
            Err(error) => (default, FieldErrors::from_error(error)?),
        }
    } else {
        (default, FieldErrors::default())
    };
    let db = &state.db;
    let months = service::repair_costs(db, CostGrouping::Month, range).await?;
    let vehicles = service::repair_costs(db, CostGrouping::Vehicle, range).await?;
    let workshops = service::repair_costs(db, CostGrouping::Workshop, range).await?;
    let kinds = service::repair_costs(db, CostGrouping::Kind, range).await?;
    let parts_labour = service::parts_and_labour(db, range).await?;
    let span = format!("{} to {}", date(&months.from), date(&months.to));
    let by_month = chart_of(
        format!("Repair costs by month, {span}"),
        "Month",
        &months,
        usize::MAX,
    );
    let top_vehicles = chart_of(
        format!("The 20 vehicles that cost most, {span}"),
        "Vehicle",
        &vehicles,
        20,
    );
    let per_workshop = chart_of(
        format!("Spend per workshop, {span}"),
        "Workshop",
        &workshops,
        usize::MAX,
    );
    let parts_against_labour = BarChart {
        stacked: false,
        title: format!("Parts against labour, {span}"),
        category_header: "Month".into(),
        categories: parts_labour.iter().map(|(m, ..)| m.clone()).collect(),
        series: vec![
            Series {
                name: "Parts".into(),
                values: parts_labour.iter().map(|(_, p, _)| *p).collect(),
            },
            Series {
                name: "Labour".into(),
                values: parts_labour.iter().map(|(.., l)| *l).collect(),
            },
        ],
    };
    let file = |grouping: CostGrouping, format: &str| {
        format!(
            "{PREFIX}/reports/repair-costs/export?group_by={}&from={}&to={}&format={format}",
            grouping.as_str(),
            months.from,
            months.to
        )
    };
    let content = html! {
        (tabs("repair-costs"))
        form.card.filters method="get" action={ (PREFIX) "/reports/repair-costs" } aria-label="Range" {
            div.form-grid {
                (crate::web::layout::input_field("From", "from", &range.from.to_string(), "date", &errors))
                (crate::web::layout::input_field("To", "to", &range.to.to_string(), "date", &errors))
            }
            div.actions { button.primary type="submit" { "Show" } a.button href={ (PREFIX) "/reports/repair-costs" } { "The last 12 months" } }
        }
        section.card aria-label="Totals" {
            dl.facts {
                dt { "Invoices" } dd { (reports::thousands(months.invoice_count)) }
                dt { "Total" } dd { (money(months.total)) }
                @for g in &kinds.groups { dt { (g.label) } dd { (money(g.sum)) } }
            }
            p.muted { "Invoices that are not cancelled, by invoice date. Discounts are subtracted; \"Without lines\" is the totals of invoices recorded as one amount." }
        }
        (by_month.figure("by-month"))
        (top_vehicles.figure("top-vehicles"))
        (per_workshop.figure("per-workshop"))
        (parts_against_labour.figure("parts-labour"))
        section.card aria-labelledby="files-heading" {
            h2 #files-heading { "Files" }
            p { "The same figures over the same range, for every grouping (the API's " code { "/reports/repair-costs" } ")." }
            ul {
                @for grouping in CostGrouping::ALL {
                    li {
                        "By " (grouping.as_str()) ": "
                        a href=(file(grouping, "csv")) download { "CSV" } " · "
                        a href=(file(grouping, "excel")) download { "Excel" } " · "
                        a href=(file(grouping, "pdf")) download { "PDF" }
                    }
                }
            }
        }
    };
    Ok(Page {
        title: "Repair costs",
        crumbs: &[("Dashboard", "/app/")],
        signed: Some(&signed),
        section: "reports",
    }
    .render(content))
}
