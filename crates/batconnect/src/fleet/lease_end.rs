//! Ending a lease (`POST /fleet/leases/{id}/terminate`), in one transaction:
//!
//! - the lease becomes `Expired` (reason `completed`) or `Terminated`, with its last day,
//!   and its medallion is free for a new lease;
//! - rent already posted for the weeks from the one containing the last day is brought to
//!   what the days up to that day cost (`domain::rent`), with a credit entry per week — the
//!   ledger is never edited — applied to that week's rent first and then to whatever else
//!   the lease owes; it is never paid out as cash;
//! - an early termination posts the fee (`BAT_EARLY_TERMINATION_FEE`) as a
//!   `Cancellation Fee` obligation due on the last day;
//! - every Open repair invoice on the lease is accelerated: its remaining installments are
//!   posted at once, due on the last day (a held one is accelerated when it is resumed);
//! - the lease's statement of the week containing the last day is its final one: made by
//!   the next Sunday chain, or made again now when that week's statements already ran.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::calendar::{current_payment_period, local_date, parse_date, SundayDate};
use domain::ledger::{allocate, Allocation, Category};
use domain::money::Money;
use domain::status::TerminationReason;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::db::{timestamp, Tx};
use crate::error::{AppError, FieldError};
use crate::ledger::model::NewObligation;
use crate::ledger::payments::{apply_allocations, open_balances};
use crate::ledger::repo::{insert_posting, PostingRow};

#[derive(Debug, Deserialize, ToSchema)]
pub struct TerminateRequest {
    /// The lease's last day (YYYY-MM-DD): not in the future, not before the lease started,
    /// not in a week whose statement is finalized.
    pub end_date: String,
    /// completed, early_termination, driver_left, vehicle_total_loss or other.
    pub reason: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RentCorrection {
    pub week: String,
    #[schema(value_type = String)]
    pub posted: Money,
    /// What the days of the lease in that week cost.
    #[schema(value_type = String)]
    pub corrected_to: Money,
    pub credit_posting_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TerminationOutcome {
    pub lease_id: String,
    #[schema(value_type = String)]
    pub status: domain::status::LeaseStatus,
    pub end_date: String,
    pub reason: String,
    pub rent_corrections: Vec<RentCorrection>,
    /// The early-termination fee's obligation posting, if one was charged.
    pub early_termination_fee_posting_id: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub early_termination_fee: Option<Money>,
    /// Repair invoices whose remaining installments were posted now: (repair id, count).
    pub accelerated_invoices: Vec<AcceleratedInvoice>,
    /// Rent credit applied to other balances the lease owed.
    #[schema(value_type = String)]
    pub credit_applied_elsewhere: Money,
    /// Rent credit left for the driver (nothing else owed); never paid out as cash.
    #[schema(value_type = String)]
    pub credit_left: Money,
    /// The week whose statement is the lease's final one.
    pub final_statement_week: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceleratedInvoice {
    pub repair_id: String,
    pub installments: i64,
}

/// Settings the termination applies.
#[derive(Clone, Copy)]
pub struct Terms {
    pub early_termination_fee: Money,
    pub timezone: Tz,
}

fn parse_request(
    request: &TerminateRequest,
) -> Result<(NaiveDate, TerminationReason, Option<String>), AppError> {
    let mut errors = Vec::new();
    let end = parse_date(request.end_date.trim())
        .map_err(|e| errors.push(FieldError::new("end_date", e.to_string())))
        .ok();
    let reason = TerminationReason::parse(request.reason.trim())
        .ok_or(())
        .map_err(|_| {
            errors.push(FieldError::new(
                "reason",
                format!(
                    "'{}' is not one of: {}",
                    request.reason,
                    TerminationReason::all_words().join(", ")
                ),
            ))
        })
        .ok();
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        errors.push(FieldError::new("note", "must be at most 500 characters"));
    }
    match (end, reason) {
        (Some(end), Some(reason)) if errors.is_empty() => Ok((end, reason, note)),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Ends the lease `id` (see the module documentation). The caller commits.
pub async fn terminate(
    tx: &mut Tx,
    id: i64,
    request: &TerminateRequest,
    terms: Terms,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<TerminationOutcome, AppError> {
    let (end, reason, note) = parse_request(request)?;
    // Lock order: the lease first (`repo::lock_leases`), as every money action does.
    super::repo::lock_leases(tx, &[id]).await?;
    let lease = super::repo::lease_for_end(tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no lease with id {id}")))?;
    if let Some(ended) = lease
        .end
        .filter(|_| matches!(lease.status.as_str(), "Terminated" | "Expired"))
    {
        return Err(AppError::Conflict(format!(
            "lease {} already ended on {ended} ({})",
            lease.lease_id,
            lease.reason.as_deref().unwrap_or(&lease.status)
        )));
    }
    if !matches!(lease.status.as_str(), "Active" | "Suspended") {
        return Err(AppError::Conflict(format!(
            "lease {} is {}; only an Active or Suspended lease can be ended",
            lease.lease_id, lease.status
        )));
    }
    let today = local_date(now, terms.timezone);
    let end_week = SundayDate::containing(end);
    let field = |message: String| AppError::Validation(vec![FieldError::new("end_date", message)]);
    if end > today {
        return Err(field(format!("{end} is in the future (today is {today})")));
    }
    if end < lease.start {
        return Err(field(format!(
            "{end} is before the lease started ({})",
            lease.start
        )));
    }
    let finalized = crate::dtr::repo::statement_weeks(tx, lease.id, &end_week.to_string())
        .await?
        .into_iter()
        .rev()
        .find(|(_, finalized)| *finalized)
        .map(|(week, _)| week);
    if let Some(week) = finalized {
        return Err(field(format!(
            "the statement of the week of {week} is finalized; the lease can only end after that week"
        )));
    }
    let status = reason.lease_status();
    let now_text = timestamp(now);
    super::repo::end_lease(
        tx,
        lease.id,
        status,
        end,
        reason,
        note.as_deref(),
        actor,
        &now_text,
    )
    .await?;
    // Its medallion is free again once no other lease holds it.
    super::repo::medallion_follows_leases(tx, lease.medallion_id).await?;

    let (corrections, mut credits) =
        correct_rent(tx, &lease, end, end_week, actor, &now_text).await?;
    let mut fee_posting = None;
    let fee = terms.early_termination_fee;
    if reason == TerminationReason::EarlyTermination && fee.is_positive() {
        let obligation = NewObligation {
            category: Category::CancellationFee,
            reference_id: format!("ETF-{}", lease.lease_id),
            amount: fee,
            driver_id: lease.driver_id,
            lease_id: Some(lease.id),
            vehicle_id: Some(lease.vehicle_id),
            medallion_id: Some(lease.medallion_id),
            due_date: end,
            description: Some(format!("Early termination of lease {}", lease.lease_id)),
        };
        let outcome =
            crate::ledger::service::create_obligation(tx, &obligation, actor, now).await?;
        fee_posting = Some(outcome.posting_id);
    }
    let accelerated = crate::repairs::lifecycle::accelerate_lease(tx, lease.id, end, actor, now)
        .await?
        .into_iter()
        .map(|(repair_id, count)| AcceleratedInvoice {
            repair_id,
            installments: count as i64,
        })
        .collect::<Vec<_>>();
    // Rent credit beyond the week's own rent pays what else the lease owes, in the
    // payment hierarchy; what is left stays the driver's credit.
    let mut balances: Vec<_> = open_balances(tx, lease.id)
        .await?
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    let mut applied_elsewhere = Money::ZERO;
    let mut payments: Vec<(i64, Vec<Allocation>)> = Vec::new();
    for (posting, left) in &mut credits {
        let result = allocate(*left, &balances);
        for a in &result.allocations {
            if let Some(b) = balances.iter_mut().find(|b| b.id == a.balance_id) {
                b.balance -= a.amount;
            }
        }
        applied_elsewhere += result.allocated;
        *left = result.remaining;
        payments.push((*posting, result.allocations));
    }
    apply_allocations(tx, &payments, &now_text).await?;
    let credit_left: Money = credits.iter().map(|(_, left)| *left).sum();

    // The final statement: the next chain makes it when its week has not been statemented
    // yet; otherwise it (and any later draft of this lease) is made again now.
    let current = current_payment_period(now, terms.timezone);
    if end_week < current {
        // Finalized ones from the last week on were refused above: every one is a draft.
        let mut weeks: Vec<String> =
            crate::dtr::repo::statement_weeks(tx, lease.id, &end_week.next().to_string())
                .await?
                .into_iter()
                .map(|(week, _)| week)
                .collect();
        weeks.push(end_week.to_string());
        for week in weeks {
            let week = SundayDate::parse(&week).map_err(|e| anyhow::anyhow!("dtr week: {e}"))?;
            crate::dtr::service::regenerate_for_lease(tx, lease.id, week, now).await?;
        }
    }
    let outcome = TerminationOutcome {
        lease_id: lease.lease_id.clone(),
        status,
        end_date: end.to_string(),
        reason: reason.as_str().to_string(),
        rent_corrections: corrections,
        early_termination_fee_posting_id: fee_posting,
        early_termination_fee: fee_posting.map(|_| fee),
        accelerated_invoices: accelerated,
        credit_applied_elsewhere: applied_elsewhere,
        credit_left,
        final_statement_week: end_week.to_string(),
    };
    let entry = audit::Entry::new(actor, "lease_terminated", "lease", &lease.lease_id).details(
        serde_json::json!({"note": note, "outcome": serde_json::to_value(&outcome).map_err(anyhow::Error::from)?}),
    );
    audit::record(tx, entry, now).await?;
    Ok(outcome)
}

/// Brings the rent posted for the weeks from `end_week` on to what the lease's days in
/// them cost: a credit per week for the difference, applied to that week's rent. Returns
/// the corrections and each credit's posting with what is left of it.
async fn correct_rent(
    tx: &mut Tx,
    lease: &super::repo::EndingLease,
    end: NaiveDate,
    end_week: SundayDate,
    actor: &str,
    now: &str,
) -> Result<(Vec<RentCorrection>, Vec<(i64, Money)>), AppError> {
    let mut corrections = Vec::new();
    let mut credits = Vec::new();
    let posted = super::rent::posted_rent_since(tx, &lease.lease_id, lease.id, end_week).await?;
    for (week, _posting_id, balance_id, amount) in posted {
        let due = domain::rent::rent_for_week(lease.weekly, week, lease.start, Some(end));
        let credit = amount - due;
        if !credit.is_positive() {
            continue;
        }
        let days = domain::rent::days_in_week(week, lease.start, Some(end));
        let description = format!(
            "Rent correction for the week of {}: lease {} ended {} ({days} of 7 days)",
            week.date().format("%m/%d/%Y"),
            lease.lease_id,
            end.format("%m/%d/%Y")
        );
        let reference = format!("{}-END", super::rent::rent_reference(&lease.lease_id, week));
        let credit_id = insert_posting(
            tx,
            &PostingRow {
                category: Category::Lease,
                amount_cents: -credit.cents(),
                entry_type: domain::ledger::EntryType::Credit,
                reference_id: &reference,
                reversal_for_id: None,
                driver_id: lease.driver_id,
                lease_id: Some(lease.id),
                vehicle_id: Some(lease.vehicle_id),
                medallion_id: Some(lease.medallion_id),
                payment_period: Some(week.to_string()),
                description: Some(&description),
                actor,
                now,
            },
        )
        .await?;
        let open = crate::ledger::repo::balances_now(tx, &[balance_id])
            .await?
            .get(&balance_id)
            .copied()
            .unwrap_or(0);
        let on_rent = credit.min(Money::from_cents(open));
        if on_rent.is_positive() {
            apply_allocations(
                tx,
                &[(
                    credit_id,
                    vec![Allocation {
                        balance_id,
                        amount: on_rent,
                    }],
                )],
                now,
            )
            .await?;
        }
        credits.push((credit_id, credit - on_rent));
        corrections.push(RentCorrection {
            week: week.to_string(),
            posted: amount,
            corrected_to: due,
            credit_posting_id: credit_id,
        });
    }
    Ok((corrections, credits))
}
