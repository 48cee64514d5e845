//! One workshop invoice, one debt: invoice numbers are unique across workshops on their
//! key (`domain::input::invoice_number_key`: letters and digits only, case-folded, in upper
//! case). Here: the clashes existing rows have under that key (listed before an upgrade
//! by `batconnect invoices clashes`, and refused by the migration while any remain), and
//! the correction of a number entered wrong (audited; refused once anything of the invoice
//! is posted).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::db::{timestamp, Tx};
use crate::error::{AppError, FieldError};

pub use crate::db::invoice_numbers::{clashes, describe, Clash};

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RenumberRequest {
    /// The invoice number as the workshop wrote it (with at least one letter or digit).
    #[schema(min_length = 1, max_length = 100)]
    pub invoice_number: String,
    /// Why it is corrected (10 to 500 characters), kept in the audit trail.
    #[schema(min_length = 10, max_length = 500)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Renumbered {
    pub repair_id: String,
    pub previous_invoice_number: String,
    pub invoice_number: String,
}

/// Corrects an invoice's number (a typo, or one of a clash). Refused once any installment
/// of it is posted (the ledger and the driver's statements carry the number then), when
/// the invoice is cancelled, and when another invoice that is not cancelled has the new
/// number's key.
pub async fn renumber(
    tx: &mut Tx,
    repair_id: &str,
    request: &RenumberRequest,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Renumbered, AppError> {
    let mut errors = Vec::new();
    let number = domain::input::invoice_number(&request.invoice_number)
        .map_err(|e| errors.push(FieldError::new("invoice_number", e)))
        .ok();
    let reason = request.reason.trim();
    if !(10..=500).contains(&reason.chars().count()) {
        errors.push(FieldError::new(
            "reason",
            "must be 10 to 500 characters: say why the number is corrected",
        ));
    }
    let (Some(number), true) = (number, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    if let Some(lease) = super::repo::lease_of_invoice(tx, repair_id).await? {
        crate::fleet::repo::lock_leases(tx, &[lease]).await?;
    }
    let (invoice_id, _, status) = super::repo::invoice_for_update(tx, repair_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no repair invoice {repair_id}")))?;
    if status == domain::status::InvoiceStatus::Cancelled {
        return Err(AppError::Conflict(format!(
            "invoice {repair_id} is cancelled; its number is kept as it was"
        )));
    }
    let posted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM repair_installments WHERE invoice_id = $1 AND status <> 'Scheduled' AND status <> 'Cancelled'",
    )
    .bind(invoice_id)
    .fetch_one(&mut **tx)
    .await?;
    if posted > 0 {
        return Err(AppError::Conflict(format!(
            "invoice {repair_id} has {posted} installment(s) posted to the ledger; its number can no longer be corrected \
             (cancel it and enter it again once its payments are voided)"
        )));
    }
    let previous: String =
        sqlx::query_scalar("SELECT invoice_number FROM repair_invoices WHERE id = $1")
            .bind(invoice_id)
            .fetch_one(&mut **tx)
            .await?;
    let key = domain::input::invoice_number_key(&number);
    if let Some((other, other_number)) = super::repo::invoice_number_in_use(tx, &key).await? {
        if other != repair_id {
            return Err(AppError::Validation(vec![FieldError::new(
                "invoice_number",
                format!("'{number}' is already recorded as {other} (invoice number '{other_number}'; numbers are compared by their letters and digits only)"),
            )]));
        }
    }
    sqlx::query(
        "UPDATE repair_invoices SET invoice_number = $1, invoice_number_key = $2, updated_by = $3, updated_on = $4 WHERE id = $5",
    )
    .bind(&number)
    .bind(&key)
    .bind(actor)
    .bind(timestamp(now))
    .bind(invoice_id)
    .execute(&mut **tx)
    .await?;
    let entry = audit::Entry::new(
        actor,
        "repair_invoice_renumbered",
        "repair_invoice",
        repair_id,
    )
    .details(serde_json::json!({"from": previous, "to": number, "reason": reason}));
    audit::record(tx, entry, now).await?;
    Ok(Renumbered {
        repair_id: repair_id.to_string(),
        previous_invoice_number: previous,
        invoice_number: number,
    })
}
