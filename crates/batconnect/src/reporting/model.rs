//! Report shapes.

use domain::money::Money;
use serde::Serialize;
use utoipa::ToSchema;

/// How repair costs are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostGrouping {
    Month,
    Workshop,
    Vehicle,
    Driver,
    Kind,
}

impl CostGrouping {
    pub const ALL: [CostGrouping; 5] = [
        CostGrouping::Month,
        CostGrouping::Workshop,
        CostGrouping::Vehicle,
        CostGrouping::Driver,
        CostGrouping::Kind,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CostGrouping::Month => "month",
            CostGrouping::Workshop => "workshop",
            CostGrouping::Vehicle => "vehicle",
            CostGrouping::Driver => "driver",
            CostGrouping::Kind => "kind",
        }
    }

    pub fn parse(word: &str) -> Option<CostGrouping> {
        CostGrouping::ALL.into_iter().find(|g| g.as_str() == word)
    }

    pub fn words() -> Vec<&'static str> {
        CostGrouping::ALL.iter().map(|g| g.as_str()).collect()
    }
}

/// One group of repair costs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostGroup {
    /// `2026-11` (month), the workshop's, vehicle's or driver's id, or the kind
    /// (`parts`, `labour`, `fees`, `discounts`, `tax`, `unitemised`).
    pub key: String,
    pub label: String,
    /// Invoices in the group (for a kind: invoices with an amount of that kind).
    pub count: i64,
    /// The group's amount; discounts are negative, so the groups add up to the total.
    #[schema(value_type = String, example = "1250.00")]
    pub sum: Money,
}

/// What repairs cost over a range of invoice dates, grouped.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepairCosts {
    /// `month`, `workshop`, `vehicle`, `driver` or `kind`.
    pub group_by: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    /// Months in order (every month of the range, empty ones too); the others largest
    /// first; kinds in a fixed order.
    pub groups: Vec<CostGroup>,
    /// The invoices covered (not cancelled, invoice date in the range).
    pub invoice_count: i64,
    /// Their totals, to the cent; the groups add up to it.
    #[schema(value_type = String, example = "1250.00")]
    pub total: Money,
}

/// One payment week of repair installments: what fell due and what was collected.
#[derive(Debug, Clone, Serialize)]
pub struct RepairWeek {
    /// The week's Sunday.
    pub week: String,
    pub due: Money,
    pub collected: Money,
}
