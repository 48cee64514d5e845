//! SQL for the workshops registry.

use domain::status::WorkshopKind;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{Workshop, WorkshopFilter};
use crate::db::{backend_of, word, Backend, PageRequest, Tx};

const COLUMNS: &str = "id, name, kind, address, phone, email, tax_registration_no, is_active, \
     default_for_kind, created_by, created_on, updated_by, updated_on";

fn from_row(r: &AnyRow) -> Result<Workshop, sqlx::Error> {
    let default_for: Option<String> = r.try_get("default_for_kind")?;
    Ok(Workshop {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: word(r, "kind")?,
        address: r.try_get("address")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
        tax_registration_no: r.try_get("tax_registration_no")?,
        active: r.try_get::<i64, _>("is_active")? != 0,
        is_default: default_for.is_some(),
        created_by: r.try_get("created_by")?,
        created_on: r.try_get("created_on")?,
        updated_by: r.try_get("updated_by")?,
        updated_on: r.try_get("updated_on")?,
    })
}

/// Workshops by part of their name, kind and whether active; defaults first, then by name.
pub async fn list(
    pool: &AnyPool,
    ilike: &str,
    f: &WorkshopFilter,
    page: PageRequest,
) -> Result<(Vec<Workshop>, i64), sqlx::Error> {
    let filter = format!(
        "WHERE ($1 IS NULL OR name {ilike} $1 ESCAPE '\\') AND ($2 IS NULL OR kind = $2) \
         AND ($3 IS NULL OR is_active = $3)"
    );
    let search = f
        .search
        .as_ref()
        .map(|s| format!("%{}%", crate::db::filter::escape_like(s.trim())));
    let kind = f.kind.map(|k| k.as_str());
    let active = f.active.map(i64::from);
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM workshops {filter}"))
        .bind(&search)
        .bind(kind)
        .bind(active)
        .fetch_one(pool)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM workshops {filter} \
         ORDER BY CASE WHEN default_for_kind IS NULL THEN 1 ELSE 0 END, name_key, id LIMIT $4 OFFSET $5"
    ))
    .bind(&search)
    .bind(kind)
    .bind(active)
    .bind(page.per_page)
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, total))
}

pub async fn by_id(pool: &AnyPool, id: i64) -> Result<Option<Workshop>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM workshops WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The workshop, locked for a change (PostgreSQL: `FOR UPDATE`; SQLite has one writer).
pub async fn lock(tx: &mut Tx, id: i64) -> Result<Option<Workshop>, sqlx::Error> {
    let lock = crate::db::lock_rows(tx);
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM workshops WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The workshop a new invoice names, held so that it cannot be deactivated until the
/// invoice is written (PostgreSQL `FOR SHARE`: invoices at one workshop do not wait for each
/// other, a deactivation waits for them).
pub async fn hold_for_invoice(tx: &mut Tx, id: i64) -> Result<Option<Workshop>, sqlx::Error> {
    let lock = match backend_of(tx) {
        Backend::Postgres => " FOR SHARE",
        Backend::Sqlite => "",
    };
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM workshops WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The id of the default workshop of a kind.
pub async fn default_of(tx: &mut Tx, kind: WorkshopKind) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM workshops WHERE default_for_kind = $1")
        .bind(kind.as_str())
        .fetch_optional(&mut **tx)
        .await
}

/// Another workshop with this name key: its id and name.
pub async fn name_taken(
    tx: &mut Tx,
    key: &str,
    except: Option<i64>,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT id, name FROM workshops WHERE name_key = $1 AND id <> $2")
        .bind(key)
        .bind(except.unwrap_or(0))
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .transpose()
}

pub struct WorkshopRow<'a> {
    pub name: &'a str,
    pub name_key: &'a str,
    pub kind: WorkshopKind,
    pub address: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub tax_registration_no: Option<&'a str>,
}

pub async fn insert(
    tx: &mut Tx,
    row: &WorkshopRow<'_>,
    actor: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO workshops (name, name_key, kind, address, phone, email, tax_registration_no, is_active, \
         created_by, created_on, updated_by, updated_on) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $8, $9) RETURNING id",
    )
    .bind(row.name)
    .bind(row.name_key)
    .bind(row.kind.as_str())
    .bind(row.address)
    .bind(row.phone)
    .bind(row.email)
    .bind(row.tax_registration_no)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

pub async fn update(
    tx: &mut Tx,
    id: i64,
    row: &WorkshopRow<'_>,
    actor: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE workshops SET name = $1, name_key = $2, kind = $3, address = $4, phone = $5, email = $6, \
         tax_registration_no = $7, updated_by = $8, updated_on = $9 WHERE id = $10",
    )
    .bind(row.name)
    .bind(row.name_key)
    .bind(row.kind.as_str())
    .bind(row.address)
    .bind(row.phone)
    .bind(row.email)
    .bind(row.tax_registration_no)
    .bind(actor)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_active(
    tx: &mut Tx,
    id: i64,
    active: bool,
    actor: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE workshops SET is_active = $1, updated_by = $2, updated_on = $3 WHERE id = $4",
    )
    .bind(i64::from(active))
    .bind(actor)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The active workshops a clerk may choose for a new invoice: id, name and kind; defaults
/// first.
pub async fn choices(pool: &AnyPool) -> Result<Vec<(i64, String, WorkshopKind)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, name, kind FROM workshops WHERE is_active = 1 \
         ORDER BY CASE WHEN default_for_kind IS NULL THEN 1 ELSE 0 END, kind, name_key",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?, word(r, "kind")?)))
        .collect()
}
