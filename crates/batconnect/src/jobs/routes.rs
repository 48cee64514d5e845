//! HTTP for job runs (tag "Jobs").

use axum::extract::{Path, State};
use axum::Json;
use domain::calendar::{local_date, parse_date};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::{JobRun, RunJobRequest, CHAIN};
use super::{repo, runner};
use crate::api::extract::{JsonBody, RawQuery};
use crate::auth::model::{CurrentUser, FINANCE, READERS};
use crate::db::{Page, PageRequest};
use crate::error::{AppError, Problem};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_runs))
        .routes(routes!(run_job))
}

/// Recorded runs, newest first: scheduled (the Sunday chain: `repairs.post_due_installments`
/// at 04:30, then `dtr.generate_weekly` at 05:00, America/New_York by default), manual and CLI.
#[utoipa::path(get, path = "/jobs/runs", tag = "Jobs",
    params(("job" = Option<String>, Query), ("period" = Option<String>, Query, description = "the week's Sunday, YYYY-MM-DD"),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<JobRun>), (status = 422, body = Problem)))]
async fn list_runs(
    State(state): State<AppState>,
    user: CurrentUser,
    query: RawQuery,
) -> Result<Json<Page<JobRun>>, AppError> {
    user.require(READERS)?;
    query.reject_unknown(&["job", "period", "page", "per_page"])?;
    let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
    if let Some(job) = query.get("job") {
        if !CHAIN.contains(&job) {
            return Err(AppError::field(
                "job",
                format!("'{job}' is not one of: {}", CHAIN.join(", ")),
            ));
        }
    }
    if let Some(period) = query.get("period") {
        parse_date(period).map_err(|e| AppError::field("period", e.to_string()))?;
    }
    super::sweep_abandoned(&state.db, state.clock.now()).await?;
    let (items, total) = repo::list(
        state.db.reader(),
        query.get("job"),
        query.get("period"),
        page.per_page,
        page.offset(),
    )
    .await?;
    Ok(Json(Page::new(items, total, page)))
}

/// Run a job now (finance), recorded in the job runs (trigger `api`, with who asked) and the
/// audit trail: `repairs.post_due_installments` posts everything due on or before `as_of`
/// (never an installment twice); `dtr.generate_weekly` makes the statements of the week
/// before `as_of`. `as_of` is today or earlier.
#[utoipa::path(post, path = "/jobs/{job}/run", tag = "Jobs", request_body = RunJobRequest, params(("job" = String, Path)),
    responses((status = 200, body = JobRun), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn run_job(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(job): Path<String>,
    body: JsonBody,
) -> Result<Json<JobRun>, AppError> {
    user.require(FINANCE)?;
    let request: RunJobRequest = body.parse()?;
    if !CHAIN.contains(&job.as_str()) {
        return Err(AppError::NotFound(format!(
            "no job '{job}'; known: {}",
            CHAIN.join(", ")
        )));
    }
    let as_of = super::model::run_date(
        request.as_of.as_deref(),
        local_date(state.clock.now(), state.config.timezone),
    )?;
    let ctx = state.job_context();
    let requester = runner::Requester {
        trigger: domain::status::JobTrigger::Api,
        username: &user.username,
    };
    // A failed run is recorded with its error; the answer is the run either way.
    let run_id = match runner::run_now(&ctx, &job, as_of, requester).await {
        Ok(id) => id,
        Err(error) => return Err(runner::failure(error)),
    };
    repo::by_id(state.db.reader(), run_id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::NotFound("run vanished".into()))
}
