//! The cashier's desk: an interim payment as it is taken at the window — an amount, the day
//! the driver paid, how (a fixed list; a check's number), a memo — applied first to the
//! balances the cashier chose, then by the payment hierarchy over the lease's open
//! balances; what no balance needed stays the lease's unapplied credit, which the next
//! statement applies before the week's earnings (never paid out). Every payment has a
//! numbered receipt (`IP-2026-000123`) the driver can take away as a PDF.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::calendar::{local_date, parse_date, SundayDate};
use domain::ledger::{allocate_interim, AllocationError, Category, EntryType, OpenBalance};
use domain::money::Money;
use domain::status::PaymentMethod;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::payments::{apply_allocations, open_balances, AllocationView, ChosenBalance};
use super::repo::{self, PostingRow};
use crate::audit;
use crate::db::{next_sequence, timestamp, Tx};
use crate::error::{AppError, FieldError};

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct InterimPaymentRequest {
    /// The lease: its internal id (a number) or its lease id (`LS-01001`).
    #[schema(value_type = crate::fleet::model::Named, example = "LS-01001")]
    pub lease_id: serde_json::Value,
    #[schema(value_type = String, example = "150.00")]
    pub amount: serde_json::Value,
    /// The day the driver paid (YYYY-MM-DD): not in the future, not before the lease
    /// started; default today.
    pub payment_date: Option<String>,
    /// `Cash`, `Check` (with `check_number`), `Money order`, `Card` or `ACH` (any letter
    /// case).
    pub payment_method: Option<String>,
    /// Required for a check.
    pub check_number: Option<String>,
    pub memo: Option<String>,
    /// Deprecated alias of `memo` (one release).
    pub note: Option<String>,
    /// The receipt number; generated (`IP-2026-000123`, the year of the payment) when
    /// omitted.
    pub receipt_number: Option<String>,
    /// Amounts the cashier chose per balance (each at most what is left on it). Whatever
    /// of `amount` is not chosen is applied by the payment hierarchy, oldest due first,
    /// and what no balance needs is kept as the lease's credit.
    #[serde(default)]
    pub allocations: Vec<ChosenBalance>,
}

/// An interim payment that parsed.
#[derive(Debug, Clone)]
pub struct InterimPayment {
    pub lease: LeaseRef,
    pub amount: Money,
    /// `None`: today.
    pub payment_date: Option<NaiveDate>,
    pub method: PaymentMethod,
    pub check_number: Option<String>,
    pub memo: Option<String>,
    pub receipt_number: Option<String>,
    /// (balance id, amount), in the request's order.
    pub allocations: Vec<(i64, Money)>,
}

/// A lease named in a body: by internal id or by lease id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseRef {
    Id(i64),
    Key(String),
}

impl LeaseRef {
    pub fn describe(&self) -> String {
        match self {
            LeaseRef::Id(id) => format!("with id {id}"),
            LeaseRef::Key(key) => key.clone(),
        }
    }
}

/// A number is the internal id; text of digits is the internal id too, other text the
/// lease id.
fn lease_ref(value: &serde_json::Value) -> Result<LeaseRef, String> {
    match value {
        serde_json::Value::Number(n) => n
            .as_i64()
            .filter(|id| *id > 0)
            .map(LeaseRef::Id)
            .ok_or_else(|| "must be a lease's id (a positive whole number) or its lease id".into()),
        serde_json::Value::String(text) => {
            let text = text.trim();
            if text.is_empty() || text.len() > 40 {
                Err("must be a lease's id or its lease id (1 to 40 characters)".into())
            } else if let Ok(id) = text.parse::<i64>() {
                Ok(LeaseRef::Id(id))
            } else {
                Ok(LeaseRef::Key(text.to_string()))
            }
        }
        _ => Err("must be a lease's id or its lease id".into()),
    }
}

/// `IP-2026-000123`, in any letter case: the form of generated receipt numbers.
fn looks_generated(receipt: &str) -> bool {
    let b = receipt.as_bytes();
    b.len() == 14
        && b[..3].eq_ignore_ascii_case(b"IP-")
        && b[3..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..].iter().all(u8::is_ascii_digit)
}

/// `Money order`, `money_order` and `MONEY ORDER` are the same method.
pub fn parse_method(text: &str) -> Option<PaymentMethod> {
    let wanted = text.trim().replace(['_', '-'], " ");
    PaymentMethod::ALL
        .iter()
        .copied()
        .find(|m| m.as_str().eq_ignore_ascii_case(&wanted))
}

fn optional_text(
    value: Option<&String>,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let text = value.map(|v| v.trim()).filter(|v| !v.is_empty())?;
    if text.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Some(text.to_string())
}

impl InterimPaymentRequest {
    /// Every field checked; every bad one named.
    pub fn parse(&self) -> Result<InterimPayment, AppError> {
        let mut errors = Vec::new();
        let lease = lease_ref(&self.lease_id)
            .map_err(|m| errors.push(FieldError::new("lease_id", m)))
            .ok();
        let amount = Money::amount_from_json(&self.amount)
            .map_err(|e| errors.push(FieldError::new("amount", e.to_string())))
            .ok();
        let payment_date = match self.payment_date.as_deref().map(str::trim) {
            None => None,
            Some(text) => parse_date(text)
                .map_err(|e| errors.push(FieldError::new("payment_date", e.to_string())))
                .ok(),
        };
        let method = match self.payment_method.as_deref() {
            None => {
                errors.push(FieldError::new(
                    "payment_method",
                    format!(
                        "is required: one of {}",
                        PaymentMethod::all_words().join(", ")
                    ),
                ));
                None
            }
            Some(text) => parse_method(text).or_else(|| {
                errors.push(FieldError::new(
                    "payment_method",
                    format!(
                        "'{text}' is not one of: {}",
                        PaymentMethod::all_words().join(", ")
                    ),
                ));
                None
            }),
        };
        let check_number =
            optional_text(self.check_number.as_ref(), "check_number", 30, &mut errors);
        match (method, &check_number) {
            (Some(PaymentMethod::Check), None) => errors.push(FieldError::new(
                "check_number",
                "is required for a payment by check",
            )),
            (Some(m), Some(_)) if m != PaymentMethod::Check => errors.push(FieldError::new(
                "check_number",
                "is only for a payment by check",
            )),
            _ => {}
        }
        let memo = match (&self.memo, &self.note) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "note",
                    "give memo or its old name note, not both",
                ));
                None
            }
            (memo, note) => {
                optional_text(memo.as_ref().or(note.as_ref()), "memo", 500, &mut errors)
            }
        };
        let receipt_number = optional_text(
            self.receipt_number.as_ref(),
            "receipt_number",
            64,
            &mut errors,
        );
        if receipt_number.as_deref().is_some_and(looks_generated) {
            // A typed number the sequence will reach later would block it then.
            errors.push(FieldError::new(
                "receipt_number",
                "IP-YYYY-NNNNNN is the form of the numbers the service gives; leave receipt_number out to get one",
            ));
        }
        let mut allocations = Vec::with_capacity(self.allocations.len());
        for (i, a) in self.allocations.iter().enumerate() {
            match Money::amount_from_json(&a.amount) {
                Ok(m) => allocations.push((a.balance_id, m)),
                Err(e) => errors.push(FieldError::at(
                    format!("/allocations/{i}/amount"),
                    e.to_string(),
                )),
            }
        }
        match (lease, amount, method) {
            (Some(lease), Some(amount), Some(method)) if errors.is_empty() => Ok(InterimPayment {
                lease,
                amount,
                payment_date,
                method,
                check_number,
                memo,
                receipt_number,
                allocations,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InterimPaymentOutcome {
    pub posting_id: i64,
    pub receipt_number: String,
    /// The lease's id (`LS-01001`).
    pub lease_id: String,
    #[schema(value_type = String)]
    pub amount: Money,
    pub payment_date: String,
    pub payment_method: String,
    pub check_number: Option<String>,
    pub memo: Option<String>,
    pub allocations: Vec<AllocationView>,
    /// What no open balance needed: kept as the lease's credit for its next statement.
    #[schema(value_type = String)]
    pub unapplied: Money,
    /// The receipt PDF.
    pub receipt_url: String,
}

pub fn receipt_url(receipt_number: &str) -> String {
    format!(
        "/ledger/interim-payments/{}/receipt",
        percent_encoding::utf8_percent_encode(receipt_number, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// Where a reviewed payment goes: (balance id, amount) in the hierarchy's order, and the
/// credit kept. A payment taken as reviewed is taken only while it still goes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewed {
    pub allocations: Vec<(i64, Money)>,
    pub credit: Money,
}

/// The message of a payment whose balances changed between its review and its taking.
pub const CHANGED_SINCE_REVIEW: &str =
    "the open balances changed since the payment was reviewed; nothing was taken: check the new review";

/// Takes an interim payment in the caller's transaction (one business action). With
/// `reviewed`, it is taken only if, with the lease's balances locked, it goes exactly where
/// the review said (else 409 [`CHANGED_SINCE_REVIEW`]).
pub async fn take_payment(
    tx: &mut Tx,
    lease_id: i64,
    payment: &InterimPayment,
    reviewed: Option<&Reviewed>,
    actor: &str,
    now: DateTime<Utc>,
    timezone: chrono_tz::Tz,
) -> Result<InterimPaymentOutcome, AppError> {
    let today = local_date(now, timezone);
    // Lock order: the lease first, then its balances (a lease end or a statement run of the
    // same lease takes its turn).
    crate::fleet::repo::lock_leases(tx, &[lease_id]).await?;
    let facts = crate::fleet::repo::lease_payment_facts(tx, lease_id)
        .await?
        .ok_or_else(|| {
            AppError::field("lease_id", format!("no lease {}", payment.lease.describe()))
        })?;
    let payment_date = payment.payment_date.unwrap_or(today);
    if payment_date > today {
        return Err(AppError::field(
            "payment_date",
            format!("{payment_date} is in the future (today is {today})"),
        ));
    }
    if payment_date < facts.start_date {
        return Err(AppError::field(
            "payment_date",
            format!(
                "{payment_date} is before lease {} started ({})",
                facts.lease_id, facts.start_date
            ),
        ));
    }
    let open = open_balances(tx, lease_id).await?;
    let balances: Vec<OpenBalance> = open.iter().map(|(b, _)| b.clone()).collect();
    let result = match allocate_interim(payment.amount, &balances, &payment.allocations) {
        Ok(result) => result,
        // Never redirected: the cashier reloads and decides.
        Err(e @ AllocationError::OverPayment { .. }) => {
            return Err(AppError::Conflict(format!(
                "{e}; nothing was recorded: reload the open balances"
            )))
        }
        // A balance of this lease with nothing left (paid meanwhile, perhaps by another
        // cashier) is the same conflict.
        Err(AllocationError::UnknownBalance { balance_id })
            if repo::balance_lease(tx, balance_id).await? == Some(lease_id) =>
        {
            return Err(AppError::Conflict(format!(
                "balance {balance_id} has nothing left to pay; nothing was recorded: reload the open balances"
            )))
        }
        Err(other) => {
            return Err(AppError::field(
                "allocations",
                format!("{other} (open balances of lease {} only)", facts.lease_id),
            ))
        }
    };
    if let Some(reviewed) = reviewed {
        let now_goes = Reviewed {
            allocations: result
                .allocations
                .iter()
                .map(|a| (a.balance_id, a.amount))
                .collect(),
            credit: result.remaining,
        };
        if &now_goes != reviewed {
            return Err(AppError::Conflict(CHANGED_SINCE_REVIEW.into()));
        }
    }
    // A lease that has ended has no next statement to apply credit to: take only what it
    // owes (a refund is not the cashier's to give).
    if facts.ended && result.remaining.is_positive() {
        return Err(AppError::field(
            "amount",
            format!(
                "lease {} has ended; it owes {} in all, so {} of this payment would be kept as credit no statement will use",
                facts.lease_id, result.allocated, result.remaining
            ),
        ));
    }
    let receipt_number = match &payment.receipt_number {
        Some(r) => r.clone(),
        None => {
            let year = payment_date.year();
            let n = next_sequence(tx, &format!("interim_payment_{year}")).await?;
            format!("IP-{year}-{n:06}")
        }
    };
    let now_text = timestamp(now);
    let description = format!(
        "Interim payment ({}{})",
        payment.method.as_str(),
        payment
            .check_number
            .as_ref()
            .map(|n| format!(" no. {n}"))
            .unwrap_or_default()
    );
    let posting_id = repo::insert_posting(
        tx,
        &PostingRow {
            category: Category::InterimPayment,
            amount_cents: -payment.amount.cents(),
            entry_type: EntryType::InterimPayment,
            reference_id: &receipt_number,
            reversal_for_id: None,
            driver_id: facts.driver_id,
            lease_id: Some(lease_id),
            vehicle_id: Some(facts.vehicle_id),
            medallion_id: Some(facts.medallion_id),
            payment_period: Some(SundayDate::containing(payment_date).to_string()),
            description: Some(&description),
            actor,
            now: &now_text,
        },
    )
    .await
    .map_err(|e| receipt_taken(e, &receipt_number))?;
    repo::insert_interim_payment(
        tx,
        &repo::InterimPaymentRow {
            receipt_number: &receipt_number,
            posting_id,
            lease_id,
            driver_id: facts.driver_id,
            payment_date,
            method: payment.method,
            check_number: payment.check_number.as_deref(),
            memo: payment.memo.as_deref(),
            amount: payment.amount,
            actor,
            now: &now_text,
        },
    )
    .await
    .map_err(|e| receipt_taken(e, &receipt_number))?;
    let applied = apply_allocations(tx, &[(posting_id, result.allocations)], &now_text).await?;
    let by_id: HashMap<i64, &(OpenBalance, String)> = open.iter().map(|o| (o.0.id, o)).collect();
    let allocations = applied
        .iter()
        .map(|(balance_id, amount, after)| AllocationView {
            balance_id: *balance_id,
            category: by_id
                .get(balance_id)
                .map(|o| o.0.category.as_str().to_string())
                .unwrap_or_default(),
            reference_id: by_id
                .get(balance_id)
                .map(|o| o.1.clone())
                .unwrap_or_default(),
            amount: *amount,
            balance_after: *after,
        })
        .collect();
    let entry = audit::Entry::new(
        actor,
        "interim_payment_recorded",
        "ledger_posting",
        &receipt_number,
    )
    .details(serde_json::json!({
        "posting_id": posting_id, "amount": payment.amount, "lease_id": facts.lease_id,
        "payment_date": payment_date, "method": payment.method.as_str(),
        "check_number": payment.check_number, "unapplied": result.remaining,
    }));
    audit::record(tx, entry, now).await?;
    Ok(InterimPaymentOutcome {
        posting_id,
        receipt_url: receipt_url(&receipt_number),
        receipt_number,
        lease_id: facts.lease_id,
        amount: payment.amount,
        payment_date: payment_date.to_string(),
        payment_method: payment.method.as_str().to_string(),
        check_number: payment.check_number.clone(),
        memo: payment.memo.clone(),
        allocations,
        unapplied: result.remaining,
    })
}

/// The receipt number is unique (an index, so two cashiers typing the same number at once
/// cannot both record it).
fn receipt_taken(e: sqlx::Error, receipt_number: &str) -> AppError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => AppError::Conflict(format!(
            "receipt_number: '{receipt_number}' is already recorded"
        )),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn methods_in_any_letter_case() {
        assert_eq!(parse_method("money_order"), Some(PaymentMethod::MoneyOrder));
        assert_eq!(parse_method(" CASH "), Some(PaymentMethod::Cash));
        assert_eq!(parse_method("ach"), Some(PaymentMethod::Ach));
        assert_eq!(parse_method("bitcoin"), None);
    }

    #[test]
    fn leases_by_id_or_lease_id() {
        assert_eq!(lease_ref(&json!(7)), Ok(LeaseRef::Id(7)));
        assert_eq!(lease_ref(&json!("7")), Ok(LeaseRef::Id(7)));
        assert_eq!(
            lease_ref(&json!(" LS-01001 ")),
            Ok(LeaseRef::Key("LS-01001".into()))
        );
        assert!(lease_ref(&json!(0)).is_err());
        assert!(lease_ref(&json!("")).is_err());
        assert!(lease_ref(&json!(null)).is_err());
    }

    #[test]
    fn generated_receipt_numbers_cannot_be_typed() {
        assert!(looks_generated("IP-2026-000042") && looks_generated("ip-2026-000042"));
        assert!(
            !looks_generated("IP-0000042")
                && !looks_generated("R-77")
                && !looks_generated("IP-2026-00004x")
        );
    }

    #[test]
    fn a_check_needs_its_number_and_nothing_else_takes_one() {
        let request = |method: &str, check: Option<&str>| InterimPaymentRequest {
            lease_id: json!(1),
            amount: json!("10.00"),
            payment_date: None,
            payment_method: Some(method.into()),
            check_number: check.map(Into::into),
            memo: None,
            note: None,
            receipt_number: None,
            allocations: Vec::new(),
        };
        assert!(request("Check", Some("1042")).parse().is_ok());
        for (method, check, field) in [
            ("Check", None, "check_number"),
            ("Cash", Some("1"), "check_number"),
            ("IOU", None, "payment_method"),
        ] {
            match request(method, check).parse() {
                Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, field),
                other => panic!("{method}: {other:?}"),
            }
        }
    }
}
