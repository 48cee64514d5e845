//! SQL for cases, step configs, schema links and case entities.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{CaseEntity, CaseRecord, CaseSummary};
use crate::db::{PageRequest, Tx};

const CASE_SELECT: &str =
    "SELECT c.case_no, t.name AS case_type, t.prefix, c.status, c.current_step_id, c.created_by, \
     c.created_on FROM cases c JOIN case_types t ON t.id = c.case_type_id";

fn case_from_row(r: &AnyRow) -> Result<CaseRecord, sqlx::Error> {
    Ok(CaseRecord {
        case_no: r.try_get("case_no")?,
        case_type: r.try_get("case_type")?,
        prefix: r.try_get("prefix")?,
        status: crate::db::word(r, "status")?,
        current_step: r.try_get("current_step_id")?,
        created_by: r.try_get("created_by")?,
        created_on: r.try_get("created_on")?,
    })
}

pub async fn find_case(pool: &AnyPool, case_no: &str) -> Result<Option<CaseRecord>, sqlx::Error> {
    sqlx::query(&format!("{CASE_SELECT} WHERE c.case_no = $1"))
        .bind(case_no)
        .fetch_optional(pool)
        .await?
        .map(|r| case_from_row(&r))
        .transpose()
}

/// The case, read inside `tx` and (on PostgreSQL) locked so concurrent submissions of the
/// same case queue up instead of racing.
pub async fn lock_case(
    tx: &mut Tx,
    case_no: &str,
    postgres: bool,
) -> Result<Option<CaseRecord>, sqlx::Error> {
    let lock = if postgres { " FOR UPDATE OF c" } else { "" };
    sqlx::query(&format!("{CASE_SELECT} WHERE c.case_no = $1{lock}"))
        .bind(case_no)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| case_from_row(&r))
        .transpose()
}

pub async fn case_type_id(tx: &mut Tx, prefix: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM case_types WHERE prefix = $1")
        .bind(prefix)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn insert_case(
    tx: &mut Tx,
    case_no: &str,
    case_type_id: i64,
    first_step: Option<&str>,
    actor: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cases (case_no, case_type_id, status, current_step_id, created_by, created_on, updated_on) \
         VALUES ($1, $2, 'Open', $3, $4, $5, $5)",
    )
    .bind(case_no)
    .bind(case_type_id)
    .bind(first_step)
    .bind(actor)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_case(
    tx: &mut Tx,
    case_no: &str,
    status: domain::status::CaseStatus,
    current_step: Option<&str>,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cases SET status = $1, current_step_id = $2, updated_on = $3 WHERE case_no = $4",
    )
    .bind(status.as_str())
    .bind(current_step)
    .bind(now)
    .bind(case_no)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn used_steps(pool: &AnyPool, case_no: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT step_id FROM audit_log WHERE case_no = $1 AND action = 'step_submitted' AND step_id IS NOT NULL",
    )
    .bind(case_no)
    .fetch_all(pool)
    .await
}

/// The path of the newest active schema link of a step (highest id wins).
pub async fn active_schema_path(
    pool: &AnyPool,
    step_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT p.path FROM case_step_config_paths p JOIN case_step_configs s ON s.id = p.case_step_config_id \
         WHERE s.step_id = $1 AND p.is_active = 1 ORDER BY p.id DESC LIMIT 1",
    )
    .bind(step_id)
    .fetch_optional(pool)
    .await
}

pub async fn link_schema(
    tx: &mut Tx,
    step_id: &str,
    path: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let config_id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM case_step_configs WHERE step_id = $1")
            .bind(step_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(config_id) = config_id else {
        return Ok(false);
    };
    sqlx::query("INSERT INTO case_step_config_paths (case_step_config_id, path, is_active, created_on) VALUES ($1, $2, 1, $3)")
        .bind(config_id)
        .bind(path)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

pub async fn upsert_case_type(
    tx: &mut Tx,
    name: &str,
    prefix: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO case_types (name, prefix, created_on) VALUES ($1, $2, $3) \
         ON CONFLICT (prefix) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(name)
    .bind(prefix)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn upsert_step_config(
    tx: &mut Tx,
    step_id: &str,
    name: &str,
    case_type_id: i64,
    next_step: Option<&str>,
    allowed_roles: &str,
    sequence: i64,
    now: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO case_step_configs (step_id, step_name, case_type_id, next_step_id, allowed_roles, sequence, created_on, updated_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (step_id) DO UPDATE SET step_name = excluded.step_name, case_type_id = excluded.case_type_id, \
         next_step_id = excluded.next_step_id, allowed_roles = excluded.allowed_roles, sequence = excluded.sequence, \
         updated_on = excluded.updated_on RETURNING id",
    )
    .bind(step_id)
    .bind(name)
    .bind(case_type_id)
    .bind(next_step)
    .bind(allowed_roles)
    .bind(sequence)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

pub async fn set_first_step(
    tx: &mut Tx,
    case_type_id: i64,
    step_config_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_type_first_steps (case_type_id, case_step_config_id) VALUES ($1, $2) \
         ON CONFLICT (case_type_id) DO UPDATE SET case_step_config_id = excluded.case_step_config_id",
    )
    .bind(case_type_id)
    .bind(step_config_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Links the default schema unless the step already has an active link.
pub async fn ensure_default_link(
    tx: &mut Tx,
    step_config_id: i64,
    path: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_step_config_paths (case_step_config_id, path, is_active, created_on) \
         SELECT $1, $2, 1, $3 WHERE NOT EXISTS \
         (SELECT 1 FROM case_step_config_paths WHERE case_step_config_id = $1 AND is_active = 1)",
    )
    .bind(step_config_id)
    .bind(path)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn add_entity(
    tx: &mut Tx,
    case_no: &str,
    entity: &CaseEntity,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_entities (case_no, entity_name, identifier, identifier_value, created_on) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (case_no, entity_name, identifier_value) DO NOTHING",
    )
    .bind(case_no)
    .bind(&entity.entity_name)
    .bind(&entity.identifier)
    .bind(&entity.identifier_value)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn entities(pool: &AnyPool, case_no: &str) -> Result<Vec<CaseEntity>, sqlx::Error> {
    let rows = sqlx::query("SELECT entity_name, identifier, identifier_value FROM case_entities WHERE case_no = $1 ORDER BY id")
        .bind(case_no)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CaseEntity {
                entity_name: r.try_get("entity_name")?,
                identifier: r.try_get("identifier")?,
                identifier_value: r.try_get("identifier_value")?,
            })
        })
        .collect()
}

pub async fn cases_by_type(
    pool: &AnyPool,
    prefix: &str,
    page: PageRequest,
) -> Result<(Vec<CaseSummary>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases c JOIN case_types t ON t.id = c.case_type_id WHERE t.prefix = $1",
    )
    .bind(prefix)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query(
        "SELECT c.case_no, c.status, c.current_step_id, c.created_by, c.created_on FROM cases c \
         JOIN case_types t ON t.id = c.case_type_id WHERE t.prefix = $1 ORDER BY c.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(prefix)
    .bind(page.per_page)
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(CaseSummary {
                case_no: r.try_get("case_no")?,
                status: crate::db::word(r, "status")?,
                current_step: r.try_get("current_step_id")?,
                created_by: r.try_get("created_by")?,
                created_on: r.try_get("created_on")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((items, total))
}

/// Cases of a type still `Open` (nothing submitted yet), newest first.
pub async fn open_cases(
    pool: &AnyPool,
    prefix: &str,
    limit: i64,
) -> Result<Vec<CaseSummary>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.case_no, c.status, c.current_step_id, c.created_by, c.created_on FROM cases c \
         JOIN case_types t ON t.id = c.case_type_id WHERE t.prefix = $1 AND c.status = 'Open' \
         ORDER BY c.id DESC LIMIT $2",
    )
    .bind(prefix)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CaseSummary {
                case_no: r.try_get("case_no")?,
                status: crate::db::word(r, "status")?,
                current_step: r.try_get("current_step_id")?,
                created_by: r.try_get("created_by")?,
                created_on: r.try_get("created_on")?,
            })
        })
        .collect()
}
