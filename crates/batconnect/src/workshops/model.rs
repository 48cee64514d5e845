//! Workshop records and API shapes.

use domain::money::Money;
use domain::status::WorkshopKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A workshop in the registry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Workshop {
    pub id: i64,
    pub name: String,
    /// `in_house` or `external`.
    #[schema(value_type = String, example = "external")]
    pub kind: WorkshopKind,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub tax_registration_no: Option<String>,
    pub active: bool,
    /// True for the workshop an invoice given only `workshop_type` of this kind is recorded
    /// at (the guide's `Big Apple Workshop` and `External Workshop`).
    pub is_default: bool,
    pub created_by: String,
    pub created_on: String,
    pub updated_by: String,
    pub updated_on: String,
}

/// What the fleet has spent at a workshop: its invoices that are not cancelled.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct WorkshopSpend {
    pub invoice_count: i64,
    /// The invoices' totals.
    #[schema(value_type = String, example = "1250.00")]
    pub total: Money,
    #[schema(value_type = String)]
    pub parts: Money,
    #[schema(value_type = String)]
    pub labour: Money,
    #[schema(value_type = String)]
    pub fees: Money,
    /// Subtracted from the total.
    #[schema(value_type = String)]
    pub discounts: Money,
    #[schema(value_type = String)]
    pub tax: Money,
    /// Totals of invoices recorded without lines.
    #[schema(value_type = String)]
    pub unitemised: Money,
}

/// A workshop with what has been spent there.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkshopDetail {
    #[serde(flatten)]
    pub workshop: Workshop,
    pub spend: WorkshopSpend,
}

/// A new workshop. Blank optional details are left empty.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WorkshopInput {
    /// 1 to 120 characters; no two workshops share a name (in any letter case).
    pub name: String,
    /// `in_house` or `external`.
    pub kind: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub tax_registration_no: Option<String>,
}

/// A workshop's details that may change. A field left out stays; `address`, `phone`,
/// `email` or `tax_registration_no` given as `""` is cleared. A workshop's kind changes only
/// while no invoice names it. Deactivate and activate have their own actions.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WorkshopUpdate {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub address: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub tax_registration_no: Option<String>,
}

/// A member of a change that is there must hold a value (`null` is refused: leave it out).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// The registry's search: part of a name, a kind, active or not.
#[derive(Debug, Clone, Default)]
pub struct WorkshopFilter {
    pub search: Option<String>,
    pub kind: Option<WorkshopKind>,
    pub active: Option<bool>,
}

/// The key two workshop names are compared by: lower case, blanks collapsed.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
