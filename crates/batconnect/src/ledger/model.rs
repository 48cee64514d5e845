//! Ledger records and API shapes.

use domain::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What kind of entry a posting is.
pub mod entry_type {
    pub const OBLIGATION: &str = "OBLIGATION";
    pub const EARNINGS: &str = "EARNINGS";
    pub const INTERIM_PAYMENT: &str = "INTERIM_PAYMENT";
    /// Money the fleet owes the driver back on a charge it corrects (rent for days after
    /// a lease ended): applied to balances like a payment, never paid out as cash.
    pub const CREDIT: &str = "CREDIT";
    pub const REVERSAL: &str = "REVERSAL";
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Posting {
    pub id: i64,
    pub category: String,
    /// Signed: obligations (debits) positive, payments and earnings (credits) negative.
    #[schema(value_type = String, example = "250.00")]
    pub amount: Money,
    pub entry_type: String,
    pub status: String,
    pub reference_id: String,
    pub reversal_for_id: Option<i64>,
    pub driver_id: Option<i64>,
    pub lease_id: Option<i64>,
    pub vehicle_id: Option<i64>,
    pub medallion_id: Option<i64>,
    pub payment_period: Option<String>,
    pub description: Option<String>,
    pub created_by: String,
    pub created_on: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Balance {
    pub id: i64,
    pub category: String,
    pub reference_id: String,
    pub obligation_posting_id: i64,
    pub driver_id: Option<i64>,
    pub lease_id: Option<i64>,
    pub vehicle_id: Option<i64>,
    pub medallion_id: Option<i64>,
    #[schema(value_type = String)]
    pub original_amount: Money,
    #[schema(value_type = String)]
    pub current_balance: Money,
    #[schema(value_type = String)]
    pub applied_amount: Money,
    pub due_date: String,
    pub status: String,
}

/// An obligation to record; `reference_id` names its source (e.g. an installment id).
#[derive(Debug, Clone)]
pub struct NewObligation {
    pub category: domain::ledger::Category,
    pub reference_id: String,
    pub amount: Money,
    pub driver_id: Option<i64>,
    pub lease_id: Option<i64>,
    pub vehicle_id: Option<i64>,
    pub medallion_id: Option<i64>,
    pub due_date: chrono::NaiveDate,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObligationOutcome {
    pub posting_id: i64,
    pub balance_id: i64,
    /// False when the obligation already existed (nothing was posted twice).
    pub created: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ManualObligationRequest {
    /// Internal lease id.
    pub lease_id: i64,
    /// Taxes, EZPass, Lease, PVB, TLC, Loan, Misc, Cancellation Fee.
    pub category: String,
    #[schema(value_type = String, example = "75.00")]
    pub amount: serde_json::Value,
    /// Defaults to the current payment period's Sunday.
    pub due_date: Option<String>,
    pub reason: String,
    /// Source reference, unique per category; generated when omitted.
    pub reference_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VoidRequest {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoidOutcome {
    pub voided_posting_id: i64,
    pub reversal_posting_id: i64,
}
