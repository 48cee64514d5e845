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
use crate::db::{timestamp, Backend, Tx};
use crate::http::error::AppError;
use crate::ledger::service::{void_posting, VoidSource};

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

pub async fn change(
    tx: &mut Tx,
    backend: Backend,
    repair_id: &str,
    action: Action,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<LifecycleOutcome, AppError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::field(
            "reason",
            "is required (at most 500 characters)",
        ));
    }
    let lock = if backend == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = sqlx::query(&format!(
        "SELECT id, status FROM repair_invoices WHERE repair_id = $1{lock}"
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
        .details(serde_json::json!({"reason": reason, "from": status, "to": target.as_str(), "voided_postings": voided}));
    audit::record(tx, entry, now).await?;
    Ok(LifecycleOutcome {
        repair_id: repair_id.to_string(),
        status: target.as_str().to_string(),
        voided_postings: voided,
    })
}
