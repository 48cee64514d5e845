//! Ledger business actions, each inside the caller's transaction.

use chrono::{DateTime, NaiveDate, Utc};
use domain::calendar::{current_payment_period, parse_date, SundayDate};
use domain::ledger::{Category, EntryType, PostingStatus};
use domain::money::Money;

use super::model::{ManualObligationRequest, NewObligation, ObligationOutcome, VoidOutcome};
use super::repo::{self, PostingRow};
use crate::audit;
use crate::auth::CurrentUser;
use crate::db::{next_sequence, timestamp, Backend, Tx};
use crate::error::{AppError, FieldError};

/// Records an obligation and its balance, once per (category, reference_id): a second call
/// returns the existing posting and writes nothing.
pub async fn create_obligation(
    tx: &mut Tx,
    obligation: &NewObligation,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<ObligationOutcome, AppError> {
    if !obligation.amount.is_positive() {
        return Err(AppError::field(
            "amount",
            "an obligation must be greater than 0",
        ));
    }
    let period = SundayDate::containing(obligation.due_date).to_string();
    let (posting_id, created) =
        repo::insert_obligation_once(tx, obligation, &period, actor, &timestamp(now)).await?;
    let balance = repo::balance_of_posting(tx, posting_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("obligation posting {posting_id} has no balance"))?;
    Ok(ObligationOutcome {
        posting_id,
        balance_id: balance.id,
        created,
    })
}

/// A manual obligation that parsed.
#[derive(Debug, Clone)]
pub struct ManualObligation {
    pub lease_id: i64,
    pub category: Category,
    pub amount: Money,
    pub due_date: NaiveDate,
    pub reason: String,
    /// Generated (`MAN-0000001`) when `None`.
    pub reference_id: Option<String>,
}

impl ManualObligationRequest {
    /// The category (one a person may charge), amount, due date (the current payment
    /// period's Sunday when omitted) and reason checked; every bad field is named.
    pub fn parse(
        &self,
        lease_id: i64,
        now: DateTime<Utc>,
        timezone: chrono_tz::Tz,
    ) -> Result<ManualObligation, AppError> {
        let request = self;
        let mut errors = Vec::new();
        let category = match Category::parse(request.category.trim()) {
            Some(c) if c.is_obligation() && c != Category::Repair => Some(c),
            Some(Category::Repair) => {
                errors.push(FieldError::new(
                    "category",
                    "Repair obligations come from repair installments, not manual entries",
                ));
                None
            }
            _ => {
                let allowed: Vec<&str> = Category::ALL
                    .iter()
                    .filter(|c| c.is_obligation() && **c != Category::Repair)
                    .map(|c| c.as_str())
                    .collect();
                errors.push(FieldError::new(
                    "category",
                    format!(
                        "'{}' is not one of: {}",
                        request.category,
                        allowed.join(", ")
                    ),
                ));
                None
            }
        };
        let amount = Money::amount_from_json(&request.amount)
            .map_err(|e| errors.push(FieldError::new("amount", e.to_string())))
            .ok();
        let due_date = match request.due_date.as_deref().map(str::trim) {
            // Left out: the current week. Given, it must be a date (an empty one is a
            // mistake, not a request for the default).
            None => Some(current_payment_period(now, timezone).date()),
            Some(text) => parse_date(text)
                .map_err(|e| e.to_string())
                .and_then(|d| {
                    domain::input::due_date(d, domain::calendar::local_date(now, timezone))
                        .map(|_| d)
                })
                .map_err(|e| errors.push(FieldError::new("due_date", e)))
                .ok(),
        };
        let reason = request.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            errors.push(FieldError::new(
                "reason",
                "is required (at most 500 characters)",
            ));
        }
        let (Some(category), Some(amount), Some(due_date), true) =
            (category, amount, due_date, errors.is_empty())
        else {
            return Err(AppError::Validation(errors));
        };
        Ok(ManualObligation {
            lease_id,
            category,
            amount,
            due_date,
            reason: reason.to_string(),
            reference_id: request
                .reference_id
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string),
        })
    }
}

/// A manual obligation for a lease (finance): charged to the lease's driver manager.
pub async fn manual_obligation(
    tx: &mut Tx,
    request: &ManualObligation,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<ObligationOutcome, AppError> {
    let (category, amount, due_date, reason) = (
        request.category,
        request.amount,
        request.due_date,
        request.reason.as_str(),
    );
    let lease = crate::fleet::repo::lease_parties(tx, &[request.lease_id])
        .await?
        .remove(&request.lease_id)
        .ok_or_else(|| {
            AppError::field("lease_id", format!("no lease with id {}", request.lease_id))
        })?;
    let reference_id = match &request.reference_id {
        Some(r) => r.clone(),
        None => format!("MAN-{:07}", next_sequence(tx, "manual_obligation").await?),
    };
    let obligation = NewObligation {
        category,
        reference_id: reference_id.clone(),
        amount,
        driver_id: lease.driver_id,
        lease_id: Some(request.lease_id),
        vehicle_id: Some(lease.vehicle_id),
        medallion_id: Some(lease.medallion_id),
        due_date,
        description: Some(reason.to_string()),
    };
    let outcome = create_obligation(tx, &obligation, &user.username, now).await?;
    if !outcome.created {
        return Err(AppError::Conflict(format!(
            "reference_id: a {category} obligation '{reference_id}' already exists"
        )));
    }
    let entry = audit::Entry::new(&user.username, "obligation_created", "ledger_posting", &reference_id)
        .details(serde_json::json!({"category": category.as_str(), "amount": amount, "lease_id": request.lease_id, "reason": reason}));
    audit::record(tx, entry, now).await?;
    Ok(outcome)
}

/// Who may void what: a `Repair` obligation only through its invoice's cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoidSource {
    Finance,
    InvoiceCancellation,
}

/// Voids a posting with a reversal of opposite sign and flags the original `VOIDED`. An
/// obligation's balance is closed as void (refused while payments are applied to it); a
/// payment's (earnings, interim) allocations are reversed and the balances it paid reopen. A posting is voided at most once, also under concurrency
/// (row lock on PostgreSQL, single writer on SQLite, and a unique index on reversals).
pub async fn void_posting(
    tx: &mut Tx,
    backend: Backend,
    posting_id: i64,
    reason: &str,
    source: VoidSource,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<VoidOutcome, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::field("reason", "is required"));
    }
    // Lock order: the posting's lease first (see `fleet::repo::lock_leases`), then the
    // posting. Its lease never changes, so reading it unlocked is safe.
    if let Some(lease) = repo::lease_of_posting(tx, posting_id).await? {
        crate::fleet::repo::lock_leases(tx, &[lease]).await?;
    }
    let posting = repo::posting_for_update(tx, posting_id, backend == Backend::Postgres)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no ledger posting {posting_id}")))?;
    if posting.status != PostingStatus::Posted {
        return Err(AppError::Conflict(format!(
            "posting {posting_id} is already voided"
        )));
    }
    if posting.entry_type == EntryType::Reversal {
        return Err(AppError::field(
            "posting_id",
            format!("posting {posting_id} is a reversal; reversals cannot be voided"),
        ));
    }
    let is_payment = matches!(
        posting.entry_type,
        EntryType::Earnings | EntryType::InterimPayment | EntryType::Credit
    );
    if !is_payment && posting.entry_type != EntryType::Obligation {
        return Err(AppError::field(
            "posting_id",
            format!(
                "posting {posting_id} ({}) cannot be voided",
                posting.entry_type
            ),
        ));
    }
    if posting.category == Category::Repair && source != VoidSource::InvoiceCancellation {
        return Err(AppError::field(
            "posting_id",
            format!("posting {posting_id} is a Repair installment obligation; cancel its repair invoice instead, which voids it"),
        ));
    }
    let balance = if is_payment {
        None
    } else {
        repo::balance_of_posting(tx, posting_id).await?
    };
    if let Some(b) = &balance {
        if b.applied_amount.is_positive() {
            return Err(AppError::Conflict(format!(
                "posting {posting_id} has {} paid against it; void those payments first",
                b.applied_amount
            )));
        }
    }
    if !repo::mark_voided(tx, posting_id).await? {
        return Err(AppError::Conflict(format!(
            "posting {posting_id} is already voided"
        )));
    }
    let now_text = timestamp(now);
    let description = format!("Void of posting {posting_id}: {reason}");
    let reversal_id = repo::insert_posting(
        tx,
        &PostingRow {
            category: posting.category,
            amount_cents: -posting.amount.cents(),
            entry_type: EntryType::Reversal,
            reference_id: &posting.reference_id,
            reversal_for_id: Some(posting_id),
            driver_id: posting.driver_id,
            lease_id: posting.lease_id,
            vehicle_id: posting.vehicle_id,
            medallion_id: posting.medallion_id,
            payment_period: posting.payment_period.clone(),
            description: Some(&description),
            actor,
            now: &now_text,
        },
    )
    .await?;
    if let Some(b) = balance {
        // The check above read the balance unlocked; this is the one that counts.
        if !repo::close_balance_as_void(tx, b.id, &now_text).await? {
            return Err(AppError::Conflict(format!(
                "posting {posting_id} was paid (in part) at the same moment; void that payment first"
            )));
        }
    }
    if is_payment {
        // What the payment paid is owed again.
        super::payments::reverse_allocations(tx, posting_id, &now_text).await?;
    }
    let posting_text = posting_id.to_string();
    let entry = audit::Entry::new(actor, "posting_voided", "ledger_posting", &posting_text)
        .details(serde_json::json!({"reversal_posting_id": reversal_id, "reason": reason}));
    audit::record(tx, entry, now).await?;
    Ok(VoidOutcome {
        voided_posting_id: posting_id,
        reversal_posting_id: reversal_id,
        finalized_statements: Vec::new(),
        carried_as: None,
    })
}
