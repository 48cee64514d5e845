//! Ledger records and API shapes.

use domain::ledger::{BalanceStatus, Category, EntryType, PostingStatus};
use domain::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Posting {
    pub id: i64,
    #[schema(value_type = String)]
    pub category: Category,
    /// Signed: obligations (debits) positive, payments and earnings (credits) negative.
    #[schema(value_type = String, example = "250.00")]
    pub amount: Money,
    #[schema(value_type = String)]
    pub entry_type: EntryType,
    #[schema(value_type = String)]
    pub status: PostingStatus,
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
    /// The lease's id (`LS-01001`), its driver manager's name and its medallion number, as
    /// a person reads them.
    pub lease_business_id: Option<String>,
    pub driver_name: Option<String>,
    pub medallion_number: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Balance {
    pub id: i64,
    #[schema(value_type = String)]
    pub category: Category,
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
    #[schema(value_type = String)]
    pub status: BalanceStatus,
    /// The lease's id (`LS-01001`), its driver manager's name and its medallion number, as
    /// a person reads them.
    pub lease_business_id: Option<String>,
    pub driver_name: Option<String>,
    pub medallion_number: Option<String>,
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
    /// The lease's internal id (a number) or its lease id (`LS-01001`).
    #[schema(value_type = crate::fleet::model::Named, example = "LS-01001")]
    pub lease_id: serde_json::Value,
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
    /// The finalized statements that counted the voided posting (earnings or a payment of
    /// their week). They stay exactly as handed to the driver; the correction is carried as
    /// `carried_as` says. Empty when no finalized statement counted it.
    pub finalized_statements: Vec<FinalizedStatementRef>,
    /// `next_statement`: the lease's first statement not yet finalized shows the correction
    /// under "Adjustments to earlier weeks"; `open_balance`: the lease has ended and its last
    /// statement is final, so the correction stays an open balance of the lease. Null when
    /// no finalized statement counted the posting.
    pub carried_as: Option<String>,
}

/// A finalized statement a void changed the figures of.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FinalizedStatementRef {
    pub dtr_number: String,
    /// The statement's week (its Sunday).
    pub week: String,
}
