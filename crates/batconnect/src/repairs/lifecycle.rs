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
use sqlx::Row;
use utoipa::ToSchema;

use crate::audit;
use crate::db::{timestamp, Tx};
use crate::error::AppError;
use crate::ledger::model::NewObligation;
use crate::ledger::service::{create_obligation, void_posting, VoidSource};
use domain::ledger::Category;
use domain::money::Money;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LifecycleRequest {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LifecycleOutcome {
    pub repair_id: String,
    pub status: String,
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
    fn word(self) -> &'static str {
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
    let rows = sqlx::query(
        "SELECT i.id, i.installment_id, i.principal_amount_cents, v.driver_id, v.lease_id, v.vehicle_id, v.medallion_id, v.invoice_number \
         FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id \
         WHERE i.invoice_id = $1 AND i.status = 'Scheduled' ORDER BY i.sequence",
    )
    .bind(invoice_id)
    .fetch_all(&mut **tx)
    .await?;
    let now_text = timestamp(now);
    for r in &rows {
        let installment: String = r.try_get("installment_id")?;
        let invoice_number: String = r.try_get("invoice_number")?;
        let obligation = NewObligation {
            category: Category::Repair,
            reference_id: installment.clone(),
            amount: Money::from_cents(r.try_get("principal_amount_cents")?),
            driver_id: Some(r.try_get("driver_id")?),
            lease_id: Some(r.try_get("lease_id")?),
            vehicle_id: Some(r.try_get("vehicle_id")?),
            medallion_id: Some(r.try_get("medallion_id")?),
            due_date: due,
            description: Some(format!(
                "Repair installment {installment} (invoice {invoice_number}), accelerated at lease end"
            )),
        };
        let outcome = create_obligation(tx, &obligation, actor, now).await?;
        sqlx::query(
            "UPDATE repair_installments SET status = 'Posted', posted_on = $1, ledger_posting_ref = $2 WHERE id = $3",
        )
        .bind(&now_text)
        .bind(outcome.posting_id.to_string())
        .bind(r.try_get::<i64, _>("id")?)
        .execute(&mut **tx)
        .await?;
    }
    if !rows.is_empty() {
        sqlx::query("UPDATE repair_invoices SET accelerated_on = $1, updated_by = $2, updated_on = $3 WHERE id = $4")
            .bind(due.to_string())
            .bind(actor)
            .bind(&now_text)
            .bind(invoice_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(rows.len())
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
    let invoices: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT id, repair_id FROM repair_invoices WHERE lease_id = $1 AND status = 'Open' ORDER BY id{}",
        crate::db::lock_rows(tx)
    ))
    .bind(lease_id)
    .fetch_all(&mut **tx)
    .await?;
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
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::field(
            "reason",
            "is required (at most 500 characters)",
        ));
    }
    let backend = crate::db::backend_of(tx);
    let row = sqlx::query(&format!(
        "SELECT id, status FROM repair_invoices WHERE repair_id = $1{}",
        crate::db::lock_rows(tx)
    ))
    .bind(repair_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no repair invoice {repair_id}")))?;
    let invoice_id: i64 = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let target = match (action, status.as_str()) {
        (Action::Hold, "Open") => InvoiceStatus::Hold,
        (Action::Resume, "Hold") => InvoiceStatus::Open,
        (Action::Cancel, "Open" | "Hold" | "Draft") => InvoiceStatus::Cancelled,
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
        let paid: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(paid_amount_cents), 0) AS BIGINT) FROM repair_installments WHERE invoice_id = $1")
            .bind(invoice_id)
            .fetch_one(&mut **tx)
            .await?;
        if paid > 0 {
            return Err(AppError::Conflict(format!(
                "cannot cancel invoice {repair_id}: {} has been paid; void those payments first",
                domain::money::Money::from_cents(paid)
            )));
        }
        let postings: Vec<String> = sqlx::query_scalar(
            "SELECT ledger_posting_ref FROM repair_installments WHERE invoice_id = $1 AND status = 'Posted' AND ledger_posting_ref IS NOT NULL",
        )
        .bind(invoice_id)
        .fetch_all(&mut **tx)
        .await?;
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
        sqlx::query(
            "UPDATE repair_installments SET status = 'Cancelled' WHERE invoice_id = $1 AND status IN ('Scheduled', 'Posted')",
        )
        .bind(invoice_id)
        .execute(&mut **tx)
        .await?;
    }
    let mut accelerated = 0;
    if action == Action::Resume {
        // A held invoice whose lease has ended since: what is left of it is due now.
        let lease: (String, Option<String>) = sqlx::query_as(
            "SELECT l.status, l.end_date FROM leases l JOIN repair_invoices v ON v.lease_id = l.id WHERE v.id = $1",
        )
        .bind(invoice_id)
        .fetch_one(&mut **tx)
        .await?;
        if matches!(lease.0.as_str(), "Terminated" | "Expired") {
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
    sqlx::query(
        "UPDATE repair_invoices SET status = $1, updated_by = $2, updated_on = $3 WHERE id = $4",
    )
    .bind(target.as_str())
    .bind(actor)
    .bind(&now_text)
    .bind(invoice_id)
    .execute(&mut **tx)
    .await?;
    let action_name = format!("repair_invoice_{}", action.word());
    let entry = audit::Entry::new(actor, &action_name, "repair_invoice", repair_id)
        .details(serde_json::json!({"reason": reason, "from": status, "to": target.as_str(), "voided_postings": voided,
            "accelerated_installments": accelerated}));
    audit::record(tx, entry, now).await?;
    Ok(LifecycleOutcome {
        repair_id: repair_id.to_string(),
        status: target.as_str().to_string(),
        voided_postings: voided,
    })
}
