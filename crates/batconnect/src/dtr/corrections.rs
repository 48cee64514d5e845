//! Corrections after a statement is final. A finalized DTR is what the driver was handed, so
//! a closed week is never rewritten: voiding earnings or a payment that a finalized statement
//! counted (the one of its lease and week) is booked now, and the lease's first statement
//! not yet finalized carries it under "Adjustments to earlier weeks".
//!
//! What the void changes for the driver is split in two:
//! - what the voided posting had paid of the lease's balances is owed again (the void
//!   reopens them); the next statement's earnings pay it with the other deductions;
//! - what voided earnings had left as net pay was paid out and is owed back: that amount is
//!   an obligation on the lease (`Misc`, reference `ADJ-<posting>`, due the carrying week),
//!   which that statement's earnings pay after every deduction. What they cannot pay stays
//!   an open balance, so net pay is never negative.
//!
//! When the lease has ended and its last statement is final, nothing carries it: it stays an
//! open balance of the lease. Lock order: the lease, then the posting (as every void), then
//! the statements.

use chrono::{DateTime, Utc};
use domain::calendar::SundayDate;
use domain::ledger::{Category, EntryType};
use domain::money::Money;

use super::repo::{self, NewAdjustment};
use crate::db::{timestamp, Backend, Tx};
use crate::error::AppError;
use crate::ledger::model::{FinalizedStatementRef, NewObligation, VoidOutcome};

/// The correction is shown on the lease's first statement not yet finalized.
pub const NEXT_STATEMENT: &str = "next_statement";
/// The lease has ended and its last statement is final: the correction stays an open
/// balance (what is owed back), shown on the lease's page.
pub const OPEN_BALANCE: &str = "open_balance";

/// The reference of the obligation that takes back the net pay of voided earnings.
pub fn adjustment_reference(voided_posting_id: i64) -> String {
    format!("ADJ-{voided_posting_id}")
}

/// The voided posting an adjustment obligation's reference names.
pub fn adjusted_posting(reference: &str) -> Option<i64> {
    reference.strip_prefix("ADJ-")?.parse().ok()
}

/// The finalized statement that counted a payment posting: the statement of its lease for
/// its week (id, number, week). `None` for anything else (an obligation's void only lowers
/// what is owed).
pub async fn counting_statement<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    posting: &crate::ledger::model::Posting,
) -> Result<Option<(i64, String, String)>, AppError> {
    let is_payment = matches!(
        posting.entry_type,
        EntryType::Earnings | EntryType::InterimPayment | EntryType::Credit
    );
    let (Some(lease), Some(week)) = (posting.lease_id, posting.payment_period.as_deref()) else {
        return Ok(None);
    };
    if !is_payment {
        return Ok(None);
    }
    Ok(repo::finalized_statement(db, lease, week)
        .await?
        .map(|(id, number)| (id, number, week.to_string())))
}

/// Voids a posting ([`crate::ledger::service::void_posting`]) and, when a finalized
/// statement counted it, books the correction for the lease's next statement.
pub async fn void_posting(
    tx: &mut Tx,
    backend: Backend,
    posting_id: i64,
    reason: &str,
    source: crate::ledger::service::VoidSource,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<VoidOutcome, AppError> {
    if let Some(lease) = crate::ledger::repo::lease_of_posting(tx, posting_id).await? {
        crate::fleet::repo::lock_leases(tx, &[lease]).await?;
    }
    let posting =
        crate::ledger::repo::posting_for_update(tx, posting_id, backend == Backend::Postgres)
            .await?;
    let counted = match &posting {
        Some(posting) => counting_statement(&mut **tx, posting).await?,
        None => None,
    };
    // What the posting paid before the void: owed again once it is voided.
    let paid: i64 = crate::ledger::repo::live_allocations_of(tx, &[posting_id])
        .await?
        .iter()
        .map(|(_, _, amount)| amount.cents())
        .sum();
    let mut outcome =
        crate::ledger::service::void_posting(tx, backend, posting_id, reason, source, actor, now)
            .await?;
    let (Some(posting), Some((dtr_id, dtr_number, week))) = (posting, counted) else {
        return Ok(outcome);
    };
    let Some(lease) = posting.lease_id else {
        return Ok(outcome);
    };
    // Earnings left as net pay what they did not pay; a payment at the window never pays out.
    let amount = if posting.entry_type == EntryType::Earnings {
        (posting.amount.cents().abs() - paid).max(0)
    } else {
        0
    };
    let (due_week, carried_as, draft) = carrying_statement(tx, lease, &week).await?;
    let obligation_posting_id = if amount > 0 {
        let due_date = SundayDate::parse(&due_week)
            .map_err(|e| anyhow::anyhow!("due week {due_week}: {e}"))?
            .date();
        let created = crate::ledger::service::create_obligation(
            tx,
            &NewObligation {
                category: Category::Misc,
                reference_id: adjustment_reference(posting_id),
                amount: Money::from_cents(amount),
                driver_id: posting.driver_id,
                lease_id: Some(lease),
                vehicle_id: posting.vehicle_id,
                medallion_id: posting.medallion_id,
                due_date,
                description: Some(format!(
                    "Net pay of the week of {week} taken back: posting {posting_id} voided after statement {dtr_number} was final ({})",
                    reason.trim()
                )),
            },
            actor,
            now,
        )
        .await?;
        Some(created.posting_id)
    } else {
        None
    };
    let now_text = timestamp(now);
    repo::insert_adjustment(
        tx,
        &NewAdjustment {
            lease_id: lease,
            voided_posting_id: posting_id,
            finalized_dtr_id: dtr_id,
            week: &week,
            due_week: &due_week,
            reason: reason.trim(),
            amount_cents: amount,
            owed_again_cents: paid.max(0),
            obligation_posting_id,
            created_by: actor,
            created_on: &now_text,
        },
    )
    .await?;
    if draft {
        // The carrying statement exists as a draft: made again now, it shows the correction.
        super::service::regenerate_for_lease(
            tx,
            lease,
            SundayDate::parse(&due_week).map_err(|e| anyhow::anyhow!("{e}"))?,
            now,
        )
        .await?;
    }
    let dtr_text = dtr_id.to_string();
    let entry = crate::audit::Entry::new(actor, "statement_adjusted", "dtr", &dtr_text).details(
        serde_json::json!({
            "dtr_number": dtr_number,
            "week": week,
            "voided_posting_id": posting_id,
            "amount": Money::from_cents(amount).to_string(),
            "owed_again": Money::from_cents(paid.max(0)).to_string(),
            "carried_by_week": due_week,
            "carried_as": carried_as,
        }),
    );
    crate::audit::record(tx, entry, now).await?;
    outcome.finalized_statements = vec![FinalizedStatementRef { dtr_number, week }];
    outcome.carried_as = Some(carried_as.to_string());
    Ok(outcome)
}

/// The week of the lease's first statement not yet finalized after `week`, how the
/// correction is carried, and whether that statement exists as a draft already.
async fn carrying_statement(
    tx: &mut Tx,
    lease: i64,
    week: &str,
) -> Result<(String, &'static str, bool), AppError> {
    let later = repo::statements_after(tx, lease, week).await?;
    if let Some((draft_week, _)) = later.iter().find(|(_, draft)| *draft) {
        return Ok((draft_week.clone(), NEXT_STATEMENT, true));
    }
    let last = later
        .last()
        .map(|(w, _)| w.as_str())
        .unwrap_or(week)
        .to_string();
    let next = SundayDate::parse(&last)
        .map_err(|e| anyhow::anyhow!("statement week {last}: {e}"))?
        .plus_weeks(1)
        .to_string();
    let status = crate::fleet::repo::lock_lease_status(tx, lease).await?;
    let open = status
        .as_deref()
        .and_then(domain::status::LeaseStatus::parse)
        .is_some_and(|s| {
            matches!(
                s,
                domain::status::LeaseStatus::Active
                    | domain::status::LeaseStatus::InProgress
                    | domain::status::LeaseStatus::Suspended
            )
        });
    let carried_as = if open { NEXT_STATEMENT } else { OPEN_BALANCE };
    Ok((next, carried_as, false))
}

/// A lease's correction after a final statement, as its page shows it.
pub struct LeaseAdjustment {
    pub week: String,
    pub dtr_number: String,
    pub posting_id: i64,
    pub reason: String,
    /// The week of the statement that carries it.
    pub carried_by_week: String,
    pub amount: Money,
    pub owed_again: Money,
    /// What is still open of `amount`.
    pub still_open: Money,
}

/// The lease's corrections after final statements, oldest first, with what is still open.
pub async fn of_lease(pool: &sqlx::AnyPool, lease: i64) -> Result<Vec<LeaseAdjustment>, AppError> {
    let rows = repo::adjustments_of_lease(pool, lease).await?;
    let obligations: Vec<i64> = rows.iter().filter_map(|(_, o)| *o).collect();
    let open = crate::ledger::repo::open_of_obligations(pool, &obligations).await?;
    Ok(rows
        .into_iter()
        .map(|(row, obligation)| LeaseAdjustment {
            still_open: obligation
                .and_then(|o| open.get(&o).copied())
                .unwrap_or_default(),
            week: row.week,
            dtr_number: row.dtr_number,
            posting_id: row.voided_posting_id,
            reason: row.reason,
            carried_by_week: row.due_week,
            amount: Money::from_cents(row.amount_cents),
            owed_again: Money::from_cents(row.owed_again_cents),
        })
        .collect())
}
