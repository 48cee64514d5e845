//! The weekly run in the console: recorded runs with their status, counts, errors and
//! durations, the next scheduled times in `BAT_TIMEZONE`, and "Run now" (finance) with a
//! confirmation. While a run is going, the table refreshes itself (a small script fetches
//! `/app/jobs/runs`); without the script the page still shows everything on reload.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::DateTime;
use domain::status::JobStatus;
use maud::{html, Markup};

use super::model::{job_label, run_week, JobRun, CHAIN};
use super::runner;
use crate::auth::model::{FINANCE, READERS};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::action::{Done, FormAction};
use crate::web::layout::{badge, csrf, date, time};
use crate::web::{see_other, Page, PageError, Signed, PREFIX};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/jobs", get(runs_page))
        .route("/app/jobs/runs", get(runs_fragment))
        .route("/app/jobs/{job}/run", post(run_now))
}

const SHOWN_RUNS: i64 = 30;

/// How long a run took (or has been going), as "1 min 05 s".
fn duration(run: &JobRun) -> String {
    let parse = |t: &str| DateTime::parse_from_rfc3339(t).ok();
    let (Some(start), Some(end)) = (
        parse(&run.started_on),
        parse(run.finished_on.as_deref().unwrap_or(&run.heartbeat_on)),
    ) else {
        return String::new();
    };
    let seconds = (end - start).num_seconds().max(0);
    if seconds >= 60 {
        format!("{} min {:02} s", seconds / 60, seconds % 60)
    } else {
        format!("{seconds} s")
    }
}

/// A run's counts in words: "12 installments posted, 3 invoices".
fn counts(run: &JobRun) -> String {
    match &run.counts {
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .filter(|(k, v)| (v.is_number() || v.is_string()) && k.as_str() != "week_start")
            .map(|(k, v)| {
                let shown = match v.as_i64() {
                    Some(n) => reports::thousands(n),
                    None => v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                };
                format!("{shown} {}", k.replace('_', " "))
            })
            .collect::<Vec<_>>()
            .join(" · "),
        _ => String::new(),
    }
}

/// The week a run worked for, as "11/22/2026 – 11/28/2026".
fn week_shown(run: &JobRun) -> String {
    match run_week(&run.job_name, &run.period) {
        Some(week) => format!(
            "{} – {}",
            date(&week.to_string()),
            date(&week.week_end().to_string())
        ),
        None => date(&run.period),
    }
}

/// The runs table; it asks to be refreshed while a run is going.
fn runs_table(runs: &[JobRun], timezone: chrono_tz::Tz) -> Markup {
    let running = runs.iter().any(|r| r.status == JobStatus::Running);
    html! {
        div #runs.table-wrap tabindex="0" role="region" aria-label="Runs" data-refresh-url={ (PREFIX) "/jobs/runs" } data-running=(if running { "yes" } else { "no" }) aria-live="polite" {
            @if runs.is_empty() {
                p.empty { "No run recorded yet." }
            } @else {
                table.wrap {
                    caption.muted { "The latest runs, newest first" }
                    thead { tr {
                        th { "Job" } th { "Week" } th { "Status" } th { "Started" } th { "Heartbeat" }
                        th { "Took" } th { "Counts" } th { "By" } th { "Error" }
                    } }
                    tbody {
                        @for r in runs {
                            tr {
                                td { (job_label(&r.job_name)) }
                                td { (week_shown(r)) }
                                td { (badge(r.status.as_str())) }
                                td { (time(&r.started_on, timezone)) }
                                td { (time(&r.heartbeat_on, timezone)) }
                                td { (duration(r)) }
                                td { (counts(r)) }
                                td { (r.requested_by.as_deref().unwrap_or(r.trigger.as_str())) }
                                td { (r.error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn runs_page(State(state): State<AppState>, signed: Signed) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let runs = crate::jobs::recent_runs(&state.db, state.clock.now(), SHOWN_RUNS).await?;
    let tz = state.config.timezone;
    let now = state.clock.now();
    let next = |schedule: &crate::cron::CronSchedule| {
        schedule
            .next_after(now, tz)
            .map(|at| time(&crate::db::timestamp(at), tz))
            .unwrap_or_else(|| "not scheduled".into())
    };
    let today = domain::calendar::local_date(now, tz).to_string();
    let may = signed.user().has_any(FINANCE);
    let content = html! {
        section.card aria-label="Schedule" {
            h2 { "Next scheduled runs (" (tz.name()) ")" }
            dl.facts {
                dt { "Posting (installments, rent)" } dd { (next(&state.config.post_schedule)) }
                dt { "Statements (DTRs)" } dd { (next(&state.config.dtr_schedule)) }
            }
        }
        @if may {
            section.card aria-label="Run now" {
                h2 { "Run now" }
                p.muted { "A run is recorded with your name. Nothing is posted twice: an installment or a week's rent already posted is skipped." }
                div.actions {
                    @for job in CHAIN {
                        details.confirm {
                            summary.button role="button" { (job_label(job)) "…" }
                            form method="post" action={ (PREFIX) "/jobs/" (job) "/run" } {
                                (csrf(&signed))
                                (crate::web::once::fresh())
                                @let id = format!("as_of-{}", job.replace('.', "-"));
                                div.field {
                                    label for=(id) { "As of (today or earlier)" }
                                    input id=(id) name="as_of" type="date" value=(today) max=(today) required;
                                }
                                p { "Runs “" (job_label(job)) "” now for that date." }
                                button.primary type="submit" { "Run now" }
                            }
                        }
                    }
                }
            }
        }
        (runs_table(&runs, tz))
    };
    Ok(Page {
        title: "Weekly run",
        crumbs: &[("Dashboard", "/app/")],
        signed: Some(&signed),
        section: "jobs",
    }
    .render(content))
}

/// The runs table alone, for the page's refresh while a run is going.
async fn runs_fragment(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Response, PageError> {
    signed.user().require(READERS)?;
    let runs = crate::jobs::recent_runs(&state.db, state.clock.now(), SHOWN_RUNS).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        runs_table(&runs, state.config.timezone).into_string(),
    )
        .into_response())
}

async fn run_now(
    State(state): State<AppState>,
    signed: Signed,
    Path(job): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    if !CHAIN.contains(&job.as_str()) {
        return Err(AppError::NotFound(format!("no job '{job}'")).into());
    }
    let sent = FormAction::for_roles(FINANCE)
        .once(format!("run:{job}"))
        .open(&state, &signed, &body)
        .await?;
    let as_of = super::model::run_date(
        sent.get("as_of"),
        domain::calendar::local_date(state.clock.now(), state.config.timezone),
    )?;
    // The token is kept before the run starts: a resent form never starts a second run.
    let done = Done::to(
        format!("{PREFIX}/jobs"),
        format!("the run of {job} as of {as_of}"),
    );
    if let Some(twin) = sent.claim(&done).await? {
        return Ok(twin);
    }
    let ctx = state.job_context();
    let username = signed.user().username.clone();
    // The run goes on in the background; a short one is over before the page is shown
    // again, a long one shows as running and the table follows it. A failed run is
    // recorded with its error either way.
    let run = tokio::spawn(async move {
        let requester = runner::Requester {
            trigger: domain::status::JobTrigger::Api,
            username: &username,
        };
        if let Err(error) = runner::run_now(&ctx, &job, as_of, requester).await {
            tracing::warn!(%error, job, "a run started from the console failed");
        }
    });
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), run).await;
    Ok(see_other(&done.location))
}
