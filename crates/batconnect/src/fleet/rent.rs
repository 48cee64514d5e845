//! `leases.post_weekly_rent`, a step of the Sunday chain: the chain of Sunday S posts the
//! rent of the week S–S+6 as one `Lease` obligation (due S) for every lease whose term
//! overlaps that week — the weekly rate, or its share for the days a lease starting or
//! ending in the week covers (`domain::rent`). Exactly once per (lease, week), whoever runs
//! it: the reference `RENT-<lease>-<week>` is unique among obligations.
//!
//! Rent is never posted for a week before the go-live week: `BAT_RENT_START_WEEK`, or else
//! the first week this step ran on the database (recorded then), so a fleet imported with
//! leases that started years ago is billed no back rent.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::calendar::SundayDate;
use domain::ledger::Category;
use domain::money::Money;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo::{self as fleet_repo, RentTerm};
use crate::db::{timestamp, Backend, Db, Tx};
use crate::error::AppError;
use crate::ledger::repo::{self as ledger_repo, WeekObligation};

pub const JOB_NAME: &str = crate::jobs::model::POST_WEEKLY_RENT;

/// This job's step of the Sunday chain: the rent of the week that starts on the run's Sunday.
pub const STEP: crate::jobs::registry::ChainStep = crate::jobs::registry::ChainStep {
    name: JOB_NAME,
    run: |run| {
        Box::pin(async move {
            post_weekly_rent(
                &run.ctx.db,
                SundayDate::containing(run.as_of),
                run.ctx.rent_start_week,
                run.actor,
                run.ctx.clock.now(),
            )
            .await
            .map(crate::jobs::registry::counts)
        })
    },
};

/// The `app_settings` key holding the go-live week when `BAT_RENT_START_WEEK` is not set.
const START_WEEK_SETTING: &str = "rent_start_week";

/// Leases a statement of rent rows holds (and, on PostgreSQL, a transaction posts).
const CHUNK: usize = 1000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RentReport {
    pub week: String,
    /// The go-live week: no rent is posted for earlier weeks.
    pub start_week: String,
    /// Leases whose term overlaps the week.
    pub leases: i64,
    /// Rent obligations posted now (the others existed already).
    pub posted: i64,
    #[schema(value_type = String)]
    pub amount: Money,
}

/// The reference of a lease's rent for a week.
pub fn rent_reference(lease_id: &str, week: SundayDate) -> String {
    format!("RENT-{lease_id}-{week}")
}

/// The go-live week: `configured`, or the one recorded the first time rent was posted on
/// this database (recording `week` now if none is).
pub async fn start_week(
    db: &Db,
    configured: Option<SundayDate>,
    week: SundayDate,
) -> Result<SundayDate, AppError> {
    if let Some(start) = configured {
        return Ok(start);
    }
    let mut tx = db.begin().await?;
    let recorded =
        crate::db::settings::setting_or_insert(&mut tx, START_WEEK_SETTING, &week.to_string())
            .await?;
    tx.commit().await?;
    SundayDate::parse(&recorded)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("app_settings {START_WEEK_SETTING}: {e}")))
}

/// Posts the rent of `week` for every lease whose term overlaps it (nothing before the
/// go-live week). Set-based: a few statements per thousand leases.
#[tracing::instrument(skip_all, fields(week = %week))]
pub async fn post_weekly_rent(
    db: &Db,
    week: SundayDate,
    configured_start: Option<SundayDate>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RentReport, AppError> {
    let start = start_week(db, configured_start, week).await?;
    let mut report = RentReport {
        week: week.to_string(),
        start_week: start.to_string(),
        ..Default::default()
    };
    if week < start {
        return Ok(report);
    }
    let week_text = week.to_string();
    let now_text = timestamp(now);
    // The fleet streams from one query and is written a page of leases at a time: what is
    // held is one page's terms and rows, whatever the size of the fleet.
    let mut terms = fleet_repo::rent_terms(db.reader(), week.date(), week.week_end());
    let mut next_page = async || -> Result<Vec<RentTerm>, AppError> {
        let mut page = Vec::with_capacity(CHUNK);
        while page.len() < CHUNK {
            match terms.try_next().await? {
                Some(term) => page.push(term),
                None => break,
            }
        }
        Ok(page)
    };
    match db.backend() {
        // A transaction per thousand leases; the new postings come back from the insert.
        Backend::Postgres => loop {
            let terms = next_page().await?;
            if terms.is_empty() {
                break;
            }
            report.leases += terms.len() as i64;
            let rows = rent_rows(&terms, week);
            if rows.is_empty() {
                continue;
            }
            let mut tx = db.begin().await?;
            let made = ledger_repo::insert_week_obligations(
                &mut tx,
                Category::Lease,
                &week_text,
                &rows,
                actor,
                &now_text,
                true,
            )
            .await?;
            let ids: Vec<i64> = made.iter().map(|(id, _)| *id).collect();
            ledger_repo::open_balances_of_postings(&mut tx, &ids).await?;
            tx.commit().await?;
            report.posted += made.len() as i64;
            report.amount += made
                .iter()
                .map(|(_, cents)| Money::from_cents(*cents))
                .sum();
        },
        // One writer: the week's rent in one transaction, and the postings it made are the
        // ones numbered after the ledger's last (rows read back one by one cost more).
        Backend::Sqlite => {
            let mut tx = db.begin().await?;
            let before = ledger_repo::last_posting_id(&mut tx).await?;
            loop {
                let terms = next_page().await?;
                if terms.is_empty() {
                    break;
                }
                report.leases += terms.len() as i64;
                let rows = rent_rows(&terms, week);
                for chunk in rows.chunks(crate::db::rows_per_statement(Backend::Sqlite, 7)) {
                    ledger_repo::insert_week_obligations(
                        &mut tx,
                        Category::Lease,
                        &week_text,
                        chunk,
                        actor,
                        &now_text,
                        false,
                    )
                    .await?;
                }
            }
            ledger_repo::open_balances_posted_after(&mut tx, Category::Lease, before).await?;
            let (posted, cents) =
                ledger_repo::obligations_posted_after(&mut tx, Category::Lease, before).await?;
            tx.commit().await?;
            report.posted = posted;
            report.amount = Money::from_cents(cents);
        }
    }
    tracing::info!(
        leases = report.leases,
        posted = report.posted,
        "weekly rent posted"
    );
    Ok(report)
}

/// The week's rent obligation of each lease that owes some for it.
fn rent_rows(terms: &[RentTerm], week: SundayDate) -> Vec<WeekObligation> {
    terms
        .iter()
        .filter_map(|t| {
            let days = domain::rent::days_in_week(week, t.start, t.end);
            let amount = domain::rent::prorated(t.weekly, days);
            if !amount.is_positive() {
                return None;
            }
            let part = if days < 7 {
                format!(" ({days} of 7 days)")
            } else {
                String::new()
            };
            Some(WeekObligation {
                reference_id: rent_reference(&t.lease_id, week),
                amount,
                driver_id: t.parties.driver_id,
                lease_id: t.id,
                vehicle_id: t.parties.vehicle_id,
                medallion_id: t.parties.medallion_id,
                description: format!(
                    "Lease rent {}, week of {}{part}",
                    t.lease_id,
                    week.date().format("%m/%d/%Y")
                ),
            })
        })
        .collect()
}

/// The chain's rent posted for each week from `from` on, for one lease (not a manual Lease
/// charge of the same week): (week, posting id, balance id, amount).
pub async fn posted_rent_since(
    tx: &mut Tx,
    lease_id: &str,
    lease_pk: i64,
    from: SundayDate,
) -> Result<Vec<(SundayDate, i64, i64, Money)>, AppError> {
    let posted =
        ledger_repo::posted_obligations_since(tx, lease_pk, Category::Lease, &from.to_string())
            .await?;
    let mut found: HashMap<String, (SundayDate, i64, i64, Money)> = HashMap::new();
    for p in posted {
        let Ok(week) = SundayDate::parse(&p.period) else {
            continue;
        };
        if p.reference_id == rent_reference(lease_id, week) {
            found.insert(p.reference_id, (week, p.posting_id, p.balance_id, p.amount));
        }
    }
    let mut out: Vec<_> = found.into_values().collect();
    out.sort_by_key(|(week, ..)| *week);
    Ok(out)
}
