//! Who did what and when: one row per state-changing action, written in the action's own
//! transaction so an action and its audit entry land (or roll back) together.

use serde::Serialize;
use sqlx::Row;

use crate::db::{timestamp, Tx};

pub struct Entry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub case_no: Option<&'a str>,
    pub step_id: Option<&'a str>,
    pub details: Option<serde_json::Value>,
}

impl<'a> Entry<'a> {
    pub fn new(actor: &'a str, action: &'a str, entity_type: &'a str, entity_id: &'a str) -> Self {
        Entry {
            actor,
            action,
            entity_type,
            entity_id,
            case_no: None,
            step_id: None,
            details: None,
        }
    }

    pub fn case(mut self, case_no: &'a str, step_id: Option<&'a str>) -> Self {
        self.case_no = Some(case_no);
        self.step_id = step_id;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

pub async fn record(
    tx: &mut Tx,
    entry: Entry<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (actor, action, entity_type, entity_id, case_no, step_id, details, created_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.entity_type)
    .bind(entry.entity_id)
    .bind(entry.case_no)
    .bind(entry.step_id)
    .bind(entry.details.map(|d| d.to_string()))
    .bind(timestamp(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub step_id: Option<String>,
    /// What the action carried (null when nothing).
    #[schema(value_type = Option<Object>, nullable)]
    pub details: Option<serde_json::Value>,
    pub created_on: String,
}

pub async fn for_case(
    pool: &sqlx::AnyPool,
    case_no: &str,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, actor, action, entity_type, entity_id, step_id, details, created_on \
         FROM audit_log WHERE case_no = $1 ORDER BY id",
    )
    .bind(case_no)
    .fetch_all(pool)
    .await?;
    rows.iter().map(record_of).collect()
}

/// The history of one thing (`entity_type`, `entity_id`) and of the case it came from,
/// oldest first.
pub async fn history(
    pool: &sqlx::AnyPool,
    entity_type: &str,
    entity_id: &str,
    case_no: Option<&str>,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, actor, action, entity_type, entity_id, step_id, details, created_on FROM audit_log \
         WHERE (entity_type = $1 AND entity_id = $2) OR case_no = $3 ORDER BY id",
    )
    .bind(entity_type)
    .bind(entity_id)
    .bind(case_no.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    rows.iter().map(record_of).collect()
}

fn record_of(r: &sqlx::any::AnyRow) -> Result<AuditRecord, sqlx::Error> {
    Ok(AuditRecord {
        id: r.try_get("id")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        entity_type: r.try_get("entity_type")?,
        entity_id: r.try_get("entity_id")?,
        step_id: r.try_get("step_id")?,
        details: r
            .try_get::<Option<String>, _>("details")?
            .and_then(|d| serde_json::from_str(&d).ok()),
        created_on: r.try_get("created_on")?,
    })
}
