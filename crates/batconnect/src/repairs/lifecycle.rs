//! Invoice lifecycle beyond creation: hold (the weekly posting skips it), resume, cancel
//! (allowed while nothing is paid; posted installments are voided in the ledger and every
//! installment left becomes `Cancelled`).
//!
//! The invoice row is locked first (PostgreSQL), and the posting run locks the invoices of
//! the installments it posts, so a hold or cancel and a posting batch never interleave:
//! whichever commits first, the other sees it.

use chrono::{DateTime, Utc};
use domain::status::InvoiceStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo;
use crate::audit;
use crate::db::{timestamp, Tx};
use crate::error::AppError;
use crate::ledger::model::NewObligation;
use crate::ledger::service::{create_obligation, void_posting, VoidSource};
use domain::ledger::Category;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LifecycleRequest {
    pub reason: String,
}

/// Why an invoice is put on hold, in 10 to 500 characters: shown on the invoice while it is
/// held.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HoldRequest {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LifecycleOutcome {
    pub repair_id: String,
    #[schema(value_type = String)]
    pub status: domain::status::InvoiceStatus,
    /// Ledger postings voided by a cancellation.
    pub voided_postings: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Hold,
    Resume,
    Cancel,
}

impl Action {
    pub fn word(self) -> &'static str {
        match self {
            Action::Hold => "hold",
            Action::Resume => "resume",
            Action::Cancel => "cancel",
        }
    }
}

/// Posts every `Scheduled` installment of the invoice at once, due `due` — its lease ended
/// — and records the day on the invoice (`accelerated_on`, shown as "accelerated at lease
/// end"). Returns how many were posted.
pub async fn accelerate(
    tx: &mut Tx,
    invoice_id: i64,
    due: chrono::NaiveDate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let left = repo::scheduled_installments(tx, invoice_id).await?;
    let now_text = timestamp(now);
    for installment in &left {
        let obligation = NewObligation {
            category: Category::Repair,
            reference_id: installment.installment_id.clone(),
            amount: installment.amount,
            driver_id: Some(installment.driver_id),
            lease_id: Some(installment.lease_id),
            vehicle_id: Some(installment.vehicle_id),
            medallion_id: Some(installment.medallion_id),
            due_date: due,
            description: Some(format!(
                "Repair installment {} (invoice {}), accelerated at lease end",
                installment.installment_id, installment.invoice_number
            )),
        };
        let outcome = create_obligation(tx, &obligation, actor, now).await?;
        repo::mark_installment_posted(tx, installment.id, outcome.posting_id, &now_text).await?;
    }
    if !left.is_empty() {
        repo::set_accelerated(tx, invoice_id, due, actor, &now_text).await?;
    }
    Ok(left.len())
}

/// Accelerates every Open invoice of a lease that has ended (held ones wait for their
/// resume). Returns the repair ids and how many installments each had left.
pub async fn accelerate_lease(
    tx: &mut Tx,
    lease_id: i64,
    due: chrono::NaiveDate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(String, usize)>, AppError> {
    let invoices = repo::open_invoices_of_lease(tx, lease_id).await?;
    let mut accelerated = Vec::new();
    for (id, repair_id) in invoices {
        let count = accelerate(tx, id, due, actor, now).await?;
        if count > 0 {
            let entry = audit::Entry::new(
                actor,
                "repair_invoice_accelerated",
                "repair_invoice",
                &repair_id,
            )
            .details(
                serde_json::json!({"installments": count, "due_date": due, "why": "lease ended"}),
            );
            audit::record(tx, entry, now).await?;
            accelerated.push((repair_id, count));
        }
    }
    Ok(accelerated)
}

pub async fn change(
    tx: &mut Tx,
    repair_id: &str,
    action: Action,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
    timezone: chrono_tz::Tz,
) -> Result<LifecycleOutcome, AppError> {
    let reason = reason.trim();
    // A hold stops money coming in: like a void, it says why in 10 to 500 characters (the
    // invoice shows it while it is held).
    if action == Action::Hold && !(10..=500).contains(&reason.chars().count()) {
        return Err(AppError::field(
            "reason",
            "must say why in 10 to 500 characters",
        ));
    }
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::field(
            "reason",
            "is required (at most 500 characters)",
        ));
    }
    let backend = crate::db::backend_of(tx);
    // Lock order: the invoice's lease first, then the invoice (a lease end locks the lease,
    // then its invoices). An invoice's lease never changes, so reading it unlocked is safe.
    if let Some(lease) = repo::lease_of_invoice(tx, repair_id).await? {
        crate::fleet::repo::lock_leases(tx, &[lease]).await?;
    }
    let (invoice_id, lease_id, status) = repo::invoice_for_update(tx, repair_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no repair invoice {repair_id}")))?;
    let target = match (action, status) {
        (Action::Hold, InvoiceStatus::Open) => InvoiceStatus::Hold,
        (Action::Resume, InvoiceStatus::Hold) => InvoiceStatus::Open,
        (Action::Cancel, InvoiceStatus::Open | InvoiceStatus::Hold | InvoiceStatus::Draft) => {
            InvoiceStatus::Cancelled
        }
        (_, current) => {
            return Err(AppError::Conflict(format!(
                "cannot {} invoice {repair_id}: it is {current}",
                action.word()
            )));
        }
    };
    let mut voided = Vec::new();
    let now_text = timestamp(now);
    if action == Action::Cancel {
        let paid = repo::paid_of_invoice(tx, invoice_id).await?;
        if paid > 0 {
            return Err(AppError::Conflict(format!(
                "cannot cancel invoice {repair_id}: {} has been paid; void those payments first",
                domain::money::Money::from_cents(paid)
            )));
        }
        let postings = repo::posted_refs(tx, invoice_id).await?;
        for posting in postings {
            let id: i64 = posting
                .parse()
                .map_err(|_| anyhow::anyhow!("bad ledger_posting_ref {posting}"))?;
            let outcome = void_posting(
                tx,
                backend,
                id,
                &format!("invoice {repair_id} cancelled: {reason}"),
                VoidSource::InvoiceCancellation,
                actor,
                now,
            )
            .await?;
            voided.push(outcome.voided_posting_id);
        }
        // Cancelled is final for the schedule too: nothing Scheduled is posted later and
        // nothing Posted points at a live obligation.
        repo::cancel_installments(tx, invoice_id).await?;
    }
    let mut accelerated = 0;
    if action == Action::Resume {
        // A held invoice whose lease has ended since: what is left of it is due now.
        let lease_status = crate::fleet::repo::lease_status(tx, lease_id).await?;
        if matches!(lease_status.as_deref(), Some("Terminated" | "Expired")) {
            accelerated = accelerate(
                tx,
                invoice_id,
                domain::calendar::local_date(now, timezone),
                actor,
                now,
            )
            .await?;
        }
    }
    repo::set_invoice_status(tx, invoice_id, target, actor, &now_text).await?;
    let action_name = format!("repair_invoice_{}", action.word());
    let entry = audit::Entry::new(actor, &action_name, "repair_invoice", repair_id)
        .details(serde_json::json!({"reason": reason, "from": status, "to": target.as_str(), "voided_postings": voided,
            "accelerated_installments": accelerated}));
    audit::record(tx, entry, now).await?;
    Ok(LifecycleOutcome {
        repair_id: repair_id.to_string(),
        status: target,
        voided_postings: voided,
    })
}
