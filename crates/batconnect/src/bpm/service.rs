//! Case engine actions: registration at start-up, case creation, step fetch and submission.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::status::CaseStatus;

use super::engine::{FetchContext, ProcessContext, Registry};
use super::model::{CaseRecord, CaseView, StepGroup, SubStep};
use super::{repo, schemas};
use crate::audit;
use crate::auth::model::roles_to_text;
use crate::auth::CurrentUser;
use crate::config::Config;
use crate::db::{next_sequence, timestamp, Backend, Db, Tx};
use crate::error::AppError;
use crate::storage::Storage;

/// Upserts every registered case type and step config, sets first steps, and links each
/// step's default schema when it has no active link. Safe to run from several instances.
pub async fn register_flows(
    db: &Db,
    registry: &Registry,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let now = timestamp(now);
    let mut tx = db.begin().await?;
    for flow in registry.flows() {
        let type_id =
            repo::upsert_case_type(&mut tx, flow.case_type_name, flow.prefix, &now).await?;
        for (index, step) in flow.steps.iter().enumerate() {
            let next = flow.steps.get(index + 1).map(|s| s.step_id);
            let config_id = repo::upsert_step_config(
                &mut tx,
                step.step_id,
                step.name,
                type_id,
                next,
                &roles_to_text(step.allowed_roles),
                index as i64 + 1,
                &now,
            )
            .await?;
            if index == 0 {
                repo::set_first_step(&mut tx, type_id, config_id).await?;
            }
            repo::ensure_default_link(&mut tx, config_id, step.default_schema, &now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Opens a case of the type with `prefix`, numbered `PREFIX000001`, … (never reused).
pub async fn create_case(
    tx: &mut Tx,
    registry: &Registry,
    prefix: &str,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let flow = registry.flow(prefix).ok_or_else(|| {
        AppError::field("case_type", format!("unknown case type prefix '{prefix}'"))
    })?;
    user.require(flow.steps[0].allowed_roles)?;
    let type_id = repo::case_type_id(tx, prefix).await?.ok_or_else(|| {
        AppError::Misconfigured(format!(
            "case type {prefix} is not registered; restart the service"
        ))
    })?;
    let seq = next_sequence(tx, &format!("case:{prefix}")).await?;
    let case_no = domain::ids::case_no(prefix, seq);
    repo::insert_case(
        tx,
        &case_no,
        type_id,
        Some(flow.steps[0].step_id),
        &user.username,
        &timestamp(now),
    )
    .await?;
    audit::record(
        tx,
        audit::Entry::new(&user.username, "case_created", "case", &case_no).case(&case_no, None),
        now,
    )
    .await?;
    Ok(case_no)
}

/// What the case engine's actions use: the database, the registered flows, the settings
/// (schema directory, time zone, what step handlers check against) and the file storage
/// (for what steps make after they commit, such as receipts).
#[derive(Clone, Copy)]
pub struct Cases<'a> {
    pub db: &'a Db,
    pub flows: &'a Registry,
    pub config: &'a Config,
    pub storage: &'a Storage,
}

impl<'a> Cases<'a> {
    pub fn from_state(state: &'a crate::state::AppState) -> Cases<'a> {
        Cases {
            db: &state.db,
            flows: &state.flows,
            config: &state.config,
            storage: &state.storage,
        }
    }
}

async fn load_case(cases: &Cases<'_>, case_no: &str) -> Result<CaseRecord, AppError> {
    repo::find_case(cases.db.reader(), case_no)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no case {case_no}")))
}

/// The case and every step of its type with the step's fetch output.
pub async fn view_case(
    cases: &Cases<'_>,
    case_no: &str,
    query: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Result<CaseView, AppError> {
    let case = load_case(cases, case_no).await?;
    let flow = cases.flows.flow(&case.prefix).ok_or_else(|| {
        AppError::Misconfigured(format!(
            "no flow is registered for case type {}",
            case.prefix
        ))
    })?;
    let used = repo::used_steps(cases.db.reader(), case_no).await?;
    let mut sub_steps = Vec::new();
    for step in &flow.steps {
        let ctx = FetchContext {
            db: cases.db,
            case: &case,
            query,
            now,
            timezone: cases.config.timezone,
        };
        sub_steps.push(SubStep {
            step_id: step.step_id.to_string(),
            name: step.name.to_string(),
            step_data: step.handler.fetch(ctx).await?,
            is_current_step: case.current_step.as_deref() == Some(step.step_id),
            has_already_been_used: used.iter().any(|u| u == step.step_id),
        });
    }
    Ok(CaseView {
        case_info: case,
        steps: vec![StepGroup {
            step_name: flow.case_type_name.to_string(),
            sub_steps,
        }],
    })
}

pub async fn fetch_step(
    cases: &Cases<'_>,
    case_no: &str,
    step_id: &str,
    query: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, AppError> {
    let case = load_case(cases, case_no).await?;
    let (flow, step) = cases.flows.step(step_id).ok_or_else(|| {
        AppError::BadRequest(format!("step_id: '{step_id}' is not a registered step"))
    })?;
    if flow.prefix != case.prefix {
        return Err(AppError::BadRequest(format!(
            "step_id: '{step_id}' is not a step of case type {}",
            case.prefix
        )));
    }
    let ctx = FetchContext {
        db: cases.db,
        case: &case,
        query,
        now,
        timezone: cases.config.timezone,
    };
    step.handler.fetch(ctx).await
}

/// Submits a step, checking in the order of §4: case → step → role → schema link →
/// schema → handler (one transaction, with its audit entry).
pub async fn submit_step(
    cases: &Cases<'_>,
    case_no: &str,
    step_id: &str,
    data: serde_json::Value,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, AppError> {
    let case = load_case(cases, case_no).await?;
    let (flow, step) = cases.flows.step(step_id).ok_or_else(|| {
        AppError::BadRequest(format!("step_id: '{step_id}' is not a registered step"))
    })?;
    if flow.prefix != case.prefix {
        return Err(AppError::BadRequest(format!(
            "step_id: '{step_id}' is not a step of case type {}",
            case.prefix
        )));
    }
    user.require(step.allowed_roles)?;
    let path = repo::active_schema_path(cases.db.reader(), step_id).await?.ok_or_else(|| {
        AppError::Misconfigured(format!(
            "step {step_id} has no active schema link in case_step_config_paths; link one with `batconnect link-schema`"
        ))
    })?;
    let schema = schemas::load(cases.config.schema_dir.as_deref(), &path)?;
    schemas::validate(&path, &schema, &data)?;
    let mut tx = cases.db.begin().await?;
    // Re-read under a lock so two submissions of one case, or a submission and a close,
    // run one after the other; the checks below are on this locked row.
    let locked = repo::lock_case(&mut tx, case_no, cases.db.backend() == Backend::Postgres)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no case {case_no}")))?;
    if locked.status == CaseStatus::Closed {
        return Err(AppError::Conflict(format!("case {case_no} is closed")));
    }
    let ctx = ProcessContext {
        case: &locked,
        user,
        now,
        timezone: cases.config.timezone,
        config: cases.config,
    };
    let output = step.handler.process(ctx, &mut tx, data).await?;
    let previewed = output
        .get("preview")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if previewed {
        // A preview writes nothing, not even an audit entry.
        tx.rollback().await?;
        return Ok(output);
    }
    let status = if locked.status == CaseStatus::Open {
        CaseStatus::InProgress
    } else {
        locked.status
    };
    repo::update_case(
        &mut tx,
        case_no,
        status,
        locked.current_step.as_deref(),
        &timestamp(now),
    )
    .await?;
    let entry = audit::Entry::new(&user.username, "step_submitted", "case", case_no)
        .case(case_no, Some(step_id))
        .details(output.clone());
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    let after = super::engine::AfterCommit {
        cases,
        case: &locked,
        user,
        now,
    };
    step.handler.after_commit(after, &output).await;
    Ok(output)
}

/// Cases of a type nobody has submitted yet (to resume), newest first.
pub async fn unfinished_cases(
    db: &Db,
    prefix: &str,
    limit: i64,
) -> Result<Vec<crate::bpm::model::CaseSummary>, AppError> {
    Ok(repo::open_cases(db.reader(), prefix, limit).await?)
}

/// Advances a case to its next step, or closes it.
pub async fn move_case(
    cases: &Cases<'_>,
    case_no: &str,
    action: &str,
    reason: Option<&str>,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<CaseRecord, AppError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(AppError::field("reason", "must be at most 500 characters"));
    }
    let case = load_case(cases, case_no).await?;
    let flow = cases.flows.flow(&case.prefix).ok_or_else(|| {
        AppError::Misconfigured(format!(
            "no flow is registered for case type {}",
            case.prefix
        ))
    })?;
    user.require(flow.steps[0].allowed_roles)?;
    if !matches!(action, "close" | "next") {
        return Err(AppError::field(
            "action",
            format!("'{action}' is not one of: next, close"),
        ));
    }
    let mut tx = cases.db.begin().await?;
    // Decided on the locked row: a close and a step submission never interleave.
    let case = repo::lock_case(&mut tx, case_no, cases.db.backend() == Backend::Postgres)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no case {case_no}")))?;
    if case.status == CaseStatus::Closed {
        return Err(AppError::Conflict(format!(
            "case {case_no} is already closed"
        )));
    }
    let (status, step) = match action {
        "close" => (CaseStatus::Closed, case.current_step.clone()),
        // "next", checked above.
        _ => {
            let position = flow
                .steps
                .iter()
                .position(|s| Some(s.step_id) == case.current_step.as_deref());
            match position.and_then(|i| flow.steps.get(i + 1)) {
                Some(next) => (CaseStatus::InProgress, Some(next.step_id.to_string())),
                None => (CaseStatus::Closed, case.current_step.clone()),
            }
        }
    };
    repo::update_case(&mut tx, case_no, status, step.as_deref(), &timestamp(now)).await?;
    let entry = audit::Entry::new(&user.username, "case_moved", "case", case_no)
        .case(case_no, None)
        .details(serde_json::json!({ "action": action, "status": status.as_str(), "current_step": step, "reason": reason }));
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    load_case(cases, case_no).await
}
