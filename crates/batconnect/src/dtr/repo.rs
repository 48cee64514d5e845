//! SQL for reading DTRs.

use domain::money::Money;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{Dtr, DtrContent, DtrSummary};
use crate::db::filter::{fetch_page, Where};
use crate::db::PageRequest;

const COLUMNS: &str = "id, dtr_number, lease_id, driver_id, week_start, week_end, status, gross_earnings_cents, total_deducted_cents, \
     net_pay_cents, generated_on, finalized_by, finalized_on";

fn summary(r: &AnyRow) -> Result<DtrSummary, sqlx::Error> {
    Ok(DtrSummary {
        id: r.try_get("id")?,
        dtr_number: r.try_get("dtr_number")?,
        lease_id: r.try_get("lease_id")?,
        driver_id: r.try_get("driver_id")?,
        week_start: r.try_get("week_start")?,
        week_end: r.try_get("week_end")?,
        status: r.try_get("status")?,
        gross_earnings: Money::from_cents(r.try_get("gross_earnings_cents")?),
        total_deducted: Money::from_cents(r.try_get("total_deducted_cents")?),
        net_pay: Money::from_cents(r.try_get("net_pay_cents")?),
        generated_on: r.try_get("generated_on")?,
        finalized_by: r.try_get("finalized_by")?,
        finalized_on: r.try_get("finalized_on")?,
    })
}

pub async fn list(
    pool: &AnyPool,
    filter: &Where,
    page: PageRequest,
) -> Result<(Vec<DtrSummary>, i64), sqlx::Error> {
    fetch_page(
        pool,
        COLUMNS,
        "FROM dtrs",
        filter,
        "week_start DESC, id",
        page,
        summary,
    )
    .await
}

pub async fn get(pool: &AnyPool, id: i64) -> Result<Option<Dtr>, sqlx::Error> {
    let Some(r) = sqlx::query(&format!(
        "SELECT {COLUMNS}, content FROM dtrs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let content: String = r.try_get("content")?;
    let content: DtrContent =
        serde_json::from_str(&content).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Some(Dtr {
        summary: summary(&r)?,
        content,
    }))
}
