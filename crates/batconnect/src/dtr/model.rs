//! DTR contents and API shapes.

use domain::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Party {
    pub driver_id: Option<i64>,
    pub driver_business_id: Option<String>,
    pub driver_name: Option<String>,
    pub tlc_license_no: Option<String>,
    pub lease_id: i64,
    pub lease_business_id: String,
    pub lease_type: String,
    pub vin: String,
    pub plate_number: Option<String>,
    pub vehicle: String,
    pub medallion_number: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategoryLine {
    pub category: String,
    /// Paid this week from the week's earnings.
    #[schema(value_type = String)]
    pub deducted: Money,
    /// Still open after this week's deductions.
    #[schema(value_type = String)]
    pub outstanding: Money,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RepairLine {
    pub repair_id: String,
    pub installment_id: String,
    pub invoice_number: String,
    pub due_date: String,
    #[schema(value_type = String)]
    pub amount_due: Money,
    #[schema(value_type = String)]
    pub paid_this_week: Money,
    /// Paid of this installment so far (this week and before), partial payments included.
    #[schema(value_type = String, default = "0.00")]
    #[serde(default)]
    pub paid: Money,
    /// Still owed on this installment after this week.
    #[schema(value_type = String, default = "0.00")]
    #[serde(default)]
    pub remaining: Money,
    #[schema(value_type = String)]
    pub status: domain::status::InstallmentStatus,
    #[schema(value_type = String)]
    pub invoice_balance_remaining: Money,
}

/// The whole statement, as stored and as shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DtrContent {
    pub week_start: String,
    pub week_end: String,
    pub party: Party,
    #[schema(value_type = String)]
    pub gross_earnings: Money,
    /// Hierarchy order: Taxes, EZPass, Lease, PVB, TLC, Repair, Loan, Misc (+ others).
    pub categories: Vec<CategoryLine>,
    #[schema(value_type = String)]
    pub total_deducted: Money,
    #[schema(value_type = String)]
    pub net_pay: Money,
    /// Unapplied credit of the lease (interim payments beyond what was owed, rent corrected
    /// at a lease's end) applied to what fell due before the week's earnings: it pays
    /// balances, never net pay.
    #[serde(default)]
    #[schema(value_type = String)]
    pub credit_applied: Money,
    pub repairs: Vec<RepairLine>,
    #[schema(value_type = String)]
    pub balances_carried_forward: Money,
    /// Corrections of earlier weeks whose statements were final ("Adjustments to earlier
    /// weeks"): net pay = gross earnings − total deducted − adjustments.
    #[serde(default)]
    pub adjustments: Vec<AdjustmentLine>,
    /// What this week's earnings paid of the adjustments.
    #[serde(default)]
    #[schema(value_type = String, default = "0.00")]
    pub total_adjustments: Money,
}

/// A void after an earlier week's statement was final, as the next statement shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentLine {
    /// The finalized statement's week (its Sunday) and number.
    pub week: String,
    pub dtr_number: String,
    /// The voided posting.
    pub posting_id: i64,
    pub reason: String,
    /// The net pay the voided earnings had left, owed back (0.00 for a payment).
    #[schema(value_type = String)]
    pub amount: Money,
    /// What the voided posting had paid of the lease's balances, owed again and paid with
    /// the deductions above.
    #[schema(value_type = String)]
    pub owed_again: Money,
    /// What this statement's earnings paid of `amount`; the rest stays an open balance.
    #[schema(value_type = String)]
    pub paid_this_week: Money,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DtrSummary {
    pub id: i64,
    pub dtr_number: String,
    pub lease_id: i64,
    pub driver_id: Option<i64>,
    pub week_start: String,
    pub week_end: String,
    #[schema(value_type = String)]
    pub status: domain::status::DtrStatus,
    #[schema(value_type = String)]
    pub gross_earnings: Money,
    #[schema(value_type = String)]
    pub total_deducted: Money,
    #[schema(value_type = String)]
    pub net_pay: Money,
    pub generated_on: String,
    pub finalized_by: Option<String>,
    pub finalized_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dtr {
    #[serde(flatten)]
    pub summary: DtrSummary,
    pub content: DtrContent,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GenerationReport {
    pub week_start: String,
    pub leases: i64,
    pub created: i64,
    pub replaced: i64,
    pub skipped_finalized: i64,
    #[schema(value_type = String)]
    pub allocated: Money,
}
