//! Repair records and API shapes.

use chrono::NaiveDate;
use domain::calendar::{parse_date, SundayDate};
use domain::invoice_lines::{self, Line, LineKind, LinesField, Quantity, Subtotals, TaxRate};
use domain::money::Money;
use domain::status::WorkshopType;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::FieldError;

/// Case type prefix of the "Create Repair Invoice" flow: cases are `RPRINV000001`, ….
pub const CASE_PREFIX: &str = "RPRINV";

/// A reference to a fleet record: the internal numeric id or the business id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Internal(i64),
    Business(String),
}

impl Reference {
    fn from_json(value: Option<&serde_json::Value>) -> Result<Reference, &'static str> {
        match value {
            Some(serde_json::Value::Number(n)) => n
                .as_i64()
                .filter(|i| *i > 0)
                .map(Reference::Internal)
                .ok_or("must be a positive id"),
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                Ok(Reference::Business(s.trim().to_string()))
            }
            Some(_) => Err("must be a numeric id or a business id"),
            None => Err("is required"),
        }
    }
}

/// The `REPAIR_ENTER_DETAILS` step data, parsed.
#[derive(Debug, Clone)]
pub struct EnterDetails {
    pub driver: Reference,
    pub lease: Reference,
    pub vehicle: Reference,
    pub medallion: Reference,
    /// The invoice's total: the one typed, or what the lines and tax come to.
    pub total_amount: Money,
    pub invoice_number: String,
    pub invoice_date: NaiveDate,
    /// The guide's workshop word; with no `workshop_id`, it picks that kind's default
    /// workshop.
    pub workshop_type: Option<WorkshopType>,
    pub workshop_id: Option<i64>,
    /// The workshop's lines, in the order sent (none: an invoice given as one total).
    pub lines: Vec<Line>,
    pub tax_rate: TaxRate,
    /// What the lines add up to, when there are lines.
    pub subtotals: Option<Subtotals>,
    pub start_week: NaiveDate,
    pub notes: Option<String>,
    pub preview_only: bool,
    /// An uploaded document (the workshop's invoice) to link to the invoice.
    pub document_id: Option<String>,
}

impl EnterDetails {
    /// Parses schema-validated data into domain types; errors point into `/data`.
    pub fn parse(data: &serde_json::Value) -> Result<EnterDetails, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut reference = |name: &str| {
            Reference::from_json(data.get(name)).unwrap_or_else(|m| {
                errors.push(FieldError::at(format!("/data/{name}"), m));
                Reference::Internal(0)
            })
        };
        let driver = reference("driver_id");
        let lease = reference("lease_id");
        let vehicle = reference("vehicle_id");
        let medallion = reference("medallion_id");
        let typed_total = match data.get("total_amount") {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => Money::amount_from_json(value)
                .map_err(|e| errors.push(FieldError::at("/data/total_amount", e.to_string())))
                .ok(),
        };
        let tax_rate = match data.get("tax_rate") {
            None | Some(serde_json::Value::Null) => TaxRate::ZERO,
            Some(value) => TaxRate::from_json(value).unwrap_or_else(|e| {
                errors.push(FieldError::at("/data/tax_rate", e.to_string()));
                TaxRate::ZERO
            }),
        };
        let lines = parse_lines(data.get("line_items"), &mut errors);
        let sent_total = data.get("total_amount").is_some_and(|v| !v.is_null());
        // Lines were sent (a refused line is reported where it is, not as a missing total).
        let sent_lines =
            matches!(data.get("line_items"), Some(serde_json::Value::Array(a)) if !a.is_empty());
        let (total_amount, subtotals) = match (&lines, typed_total) {
            (Some(lines), _) if !lines.is_empty() => match invoice_lines::totals(lines, tax_rate) {
                Ok(sums) => {
                    if typed_total.is_some_and(|t| t != sums.total) {
                        errors.push(FieldError::at(
                            "/data/total_amount",
                            format!(
                                "is {} but the lines and tax come to {}; send {} or leave total_amount out",
                                typed_total.unwrap_or_default(),
                                sums.total,
                                sums.total
                            ),
                        ));
                    }
                    (sums.total, Some(sums))
                }
                Err(problems) => {
                    for problem in problems {
                        let pointer = match problem.field() {
                            LinesField::Lines => "/data/line_items".to_string(),
                            LinesField::Line(i) => format!("/data/line_items/{i}"),
                            LinesField::TaxRate => "/data/tax_rate".to_string(),
                        };
                        errors.push(FieldError::at(pointer, problem.to_string()));
                    }
                    (Money::ZERO, None)
                }
            },
            (_, Some(total)) => {
                if !tax_rate.is_zero() && !sent_lines {
                    errors.push(FieldError::at(
                        "/data/tax_rate",
                        format!("is {tax_rate} % but the invoice has no taxable line; send tax_rate 0 or the invoice's lines"),
                    ));
                }
                (total, None)
            }
            (_, None) => {
                if !sent_total && !sent_lines {
                    errors.push(FieldError::at(
                        "/data/total_amount",
                        "is required when the invoice has no line_items",
                    ));
                }
                (Money::ZERO, None)
            }
        };
        let text = |name: &str| {
            data.get(name)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .unwrap_or_default()
                .to_string()
        };
        let invoice_number = domain::input::invoice_number(
            data.get("invoice_number")
                .and_then(|v| v.as_str())
                .unwrap_or_default(),
        )
        .unwrap_or_else(|m| {
            errors.push(FieldError::at("/data/invoice_number", m));
            String::new()
        });
        let mut date = |name: &str| {
            parse_date(&text(name)).unwrap_or_else(|e| {
                errors.push(FieldError::at(format!("/data/{name}"), e.to_string()));
                NaiveDate::MIN
            })
        };
        let invoice_date = date("invoice_date");
        let start_week = domain::input::date_or_midnight(&text("start_week")).unwrap_or_else(|m| {
            errors.push(FieldError::at("/data/start_week", m));
            NaiveDate::MIN
        });
        let document_id = Some(text("document_id")).filter(|d| !d.is_empty());
        let workshop_type = match data.get("workshop_type") {
            None | Some(serde_json::Value::Null) => None,
            Some(_) => WorkshopType::parse(&text("workshop_type")).or_else(|| {
                errors.push(FieldError::at(
                    "/data/workshop_type",
                    format!("must be one of: {}", WorkshopType::all_words().join(", ")),
                ));
                None
            }),
        };
        let workshop_id = match data.get("workshop_id") {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => match value.as_i64().filter(|id| *id >= 1) {
                Some(id) => Some(id),
                None => {
                    errors.push(FieldError::at(
                        "/data/workshop_id",
                        "must be a workshop's id (a whole number from 1), from GET /workshops",
                    ));
                    None
                }
            },
        };
        if workshop_id.is_none()
            && workshop_type.is_none()
            && !errors.iter().any(|e| {
                e.pointer
                    .as_deref()
                    .is_some_and(|p| p.starts_with("/data/workshop"))
            })
        {
            errors.push(FieldError::at(
                "/data/workshop_type",
                format!(
                    "is required unless workshop_id names the workshop: one of {}",
                    WorkshopType::all_words().join(", ")
                ),
            ));
        }
        let notes = Some(text("notes")).filter(|n| !n.is_empty());
        if notes.as_ref().is_some_and(|n| n.chars().count() > 500) {
            errors.push(FieldError::at(
                "/data/notes",
                "must be at most 500 characters",
            ));
        }
        let preview_only = data
            .get("preview_only")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(EnterDetails {
            driver,
            lease,
            vehicle,
            medallion,
            total_amount,
            invoice_number,
            invoice_date,
            workshop_type,
            workshop_id,
            lines: lines.unwrap_or_default(),
            tax_rate,
            subtotals,
            start_week,
            notes,
            preview_only,
            document_id,
        })
    }
}

/// Reads `line_items` (absent or `null`: none); each problem points at its line's field.
fn parse_lines(
    value: Option<&serde_json::Value>,
    errors: &mut Vec<FieldError>,
) -> Option<Vec<Line>> {
    let items = match value {
        None | Some(serde_json::Value::Null) => return None,
        Some(serde_json::Value::Array(items)) => items,
        Some(_) => {
            errors.push(FieldError::at(
                "/data/line_items",
                "must be a list of lines",
            ));
            return None;
        }
    };
    if items.len() > invoice_lines::MAX_LINES {
        errors.push(FieldError::at(
            "/data/line_items",
            format!(
                "has {} lines; an invoice has at most {}",
                items.len(),
                invoice_lines::MAX_LINES
            ),
        ));
        return None;
    }
    let before = errors.len();
    let mut lines = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let mut refuse = |field: &str, message: String| {
            errors.push(FieldError::at(
                format!("/data/line_items/{i}/{field}"),
                message,
            ));
        };
        let Some(item) = item.as_object() else {
            errors.push(FieldError::at(
                format!("/data/line_items/{i}"),
                "must be an object with kind, description, quantity, unit_price and taxable",
            ));
            continue;
        };
        let text = |name: &str| item.get(name).and_then(|v| v.as_str()).map(str::trim);
        let kind = match text("kind").and_then(LineKind::parse) {
            Some(kind) => Some(kind),
            None => {
                refuse(
                    "kind",
                    format!("must be one of: {}", LineKind::all_words().join(", ")),
                );
                None
            }
        };
        let description = match text("description") {
            Some(d) if !d.is_empty() && d.chars().count() <= 200 => Some(d.to_string()),
            Some(d) if !d.is_empty() => {
                refuse("description", "must be at most 200 characters".into());
                None
            }
            _ => {
                refuse(
                    "description",
                    "is required: what was repaired or supplied".into(),
                );
                None
            }
        };
        let part_number = match item.get("part_number") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(p)) if p.chars().count() <= 64 => {
                Some(p.trim().to_string()).filter(|p| !p.is_empty())
            }
            Some(_) => {
                refuse(
                    "part_number",
                    "must be text of at most 64 characters".into(),
                );
                None
            }
        };
        let quantity = match item.get("quantity") {
            None => {
                refuse(
                    "quantity",
                    "is required: a number greater than 0, such as 1 or 1.5".into(),
                );
                None
            }
            Some(v) => Quantity::from_json(v)
                .map_err(|e| refuse("quantity", e.to_string()))
                .ok(),
        };
        let unit_price = match item.get("unit_price") {
            None => {
                refuse(
                    "unit_price",
                    "is required: the price of one unit, such as 45.50".into(),
                );
                None
            }
            Some(v) => Money::amount_from_json(v)
                .map_err(|e| refuse("unit_price", e.to_string()))
                .ok(),
        };
        let taxable = match item.get("taxable") {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Bool(b)) => *b,
            Some(_) => {
                refuse("taxable", "must be true or false".into());
                false
            }
        };
        if let (Some(kind), Some(description), Some(quantity), Some(unit_price)) =
            (kind, description, quantity, unit_price)
        {
            lines.push(Line {
                kind,
                description,
                part_number,
                quantity,
                unit_price,
                taxable,
            });
        }
    }
    (errors.len() == before).then_some(lines)
}

/// What has been paid of an invoice or an installment and what is still owed: the ledger's
/// allocations to its balances, partial payments included. Every surface (detail, lists,
/// exports, receipt, DTR) takes its figures from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub paid: Money,
    pub remaining: Money,
}

impl Settlement {
    /// `amount` owed in all, `paid` of it so far; a cancelled invoice or installment owes
    /// nothing more (it can only be cancelled while nothing is paid).
    pub fn of(amount: Money, paid: Money, cancelled: bool) -> Settlement {
        Settlement {
            paid,
            remaining: if cancelled {
                Money::ZERO
            } else {
                (amount - paid).max(Money::ZERO)
            },
        }
    }

    pub fn of_invoice(
        total_cents: i64,
        paid_cents: i64,
        status: domain::status::InvoiceStatus,
    ) -> Settlement {
        Settlement::of(
            Money::from_cents(total_cents),
            Money::from_cents(paid_cents),
            status == domain::status::InvoiceStatus::Cancelled,
        )
    }

    pub fn of_installment(
        amount_cents: i64,
        paid_cents: i64,
        status: domain::status::InstallmentStatus,
    ) -> Settlement {
        Settlement::of(
            Money::from_cents(amount_cents),
            Money::from_cents(paid_cents),
            status == domain::status::InstallmentStatus::Cancelled,
        )
    }
}

/// "11/29/2026 - 12/05/2026", as the back office writes week periods.
pub fn week_period(start: NaiveDate, end: NaiveDate) -> String {
    format!("{} - {}", start.format("%m/%d/%Y"), end.format("%m/%d/%Y"))
}

/// A schedule row of a preview. Every schedule row — preview, invoice detail, receipt,
/// installments list — has `sequence`, `installment_id` (null here: no ids before the
/// invoice exists), `week_start_date`, `week_end_date`, `week_period` and `amount`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleLine {
    pub sequence: u32,
    pub installment_id: Option<String>,
    pub week_start_date: String,
    pub week_end_date: String,
    pub week_period: String,
    #[schema(value_type = String, example = "250.00")]
    pub amount: Money,
    /// Deprecated (one release): the old name of `sequence` in a preview.
    #[schema(deprecated)]
    pub installment: u32,
    /// Deprecated (one release): the old name of `week_start_date` in a preview.
    #[schema(deprecated)]
    pub week_start: String,
    /// Deprecated (one release): the old name of `week_end_date` in a preview.
    #[schema(deprecated)]
    pub week_end: String,
    #[schema(value_type = String)]
    pub prior_balance: Money,
    #[schema(value_type = String)]
    pub balance: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    pub preview: bool,
    #[schema(value_type = String)]
    pub total_amount: Money,
    #[schema(value_type = String)]
    pub weekly_installment: Money,
    pub installment_count: usize,
    #[schema(value_type = String, format = Date)]
    pub start_week: SundayDate,
    pub schedule: Vec<ScheduleLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceCreated {
    pub repair_id: String,
    pub invoice_number: String,
    #[schema(value_type = String)]
    pub total_amount: Money,
    #[schema(value_type = String)]
    pub weekly_installment: Money,
    pub installment_count: i64,
    #[schema(value_type = String)]
    pub status: domain::status::InvoiceStatus,
    pub case_no: Option<String>,
    /// True when this submission found the invoice the case had already created.
    pub already_created: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceListItem {
    pub repair_id: String,
    pub invoice_number: String,
    pub invoice_date: String,
    #[schema(value_type = String)]
    pub status: domain::status::InvoiceStatus,
    pub driver_name: String,
    pub medallion_no: String,
    pub lease_id: String,
    pub lease_type: String,
    pub lease_type_label: String,
    pub workshop: String,
    #[schema(value_type = String)]
    pub amount: Money,
    /// Paid so far, partial payments included.
    #[schema(value_type = String)]
    pub paid: Money,
    /// Still owed (0.00 once cancelled).
    #[schema(value_type = String)]
    pub remaining: Money,
    pub receipt_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceList {
    pub items: Vec<InvoiceListItem>,
    pub total_items: i64,
    pub page: i64,
    pub per_page: i64,
    pub total_pages: i64,
    pub status_list: Vec<&'static str>,
    pub lease_type_list: Vec<&'static str>,
    pub workshop_type_list: Vec<&'static str>,
    pub installment_status_list: Vec<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Totals {
    #[schema(value_type = String)]
    pub repair_amount: Money,
    #[schema(value_type = String)]
    pub total_paid: Money,
    #[schema(value_type = String)]
    pub remaining_balance: Money,
    /// "paid/total" installments.
    pub progress: String,
    pub installments_paid: i64,
    pub installments_total: i64,
}

/// The workshop an invoice names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkshopRef {
    pub id: i64,
    pub name: String,
    /// `in_house` or `external`.
    pub kind: String,
}

/// One line of a workshop's invoice, as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineItem {
    /// 1, 2, … in the order sent.
    pub position: i64,
    /// `part`, `labour`, `fee` or `discount`.
    #[schema(value_type = String, example = "part")]
    pub kind: LineKind,
    pub description: String,
    pub part_number: Option<String>,
    /// A decimal with at most three places, such as "1.5".
    #[schema(value_type = String, example = "1.5")]
    pub quantity: Quantity,
    #[schema(value_type = String, example = "45.50")]
    pub unit_price: Money,
    pub taxable: bool,
    /// Quantity × unit price, half-up to the cent (a discount's is subtracted).
    #[schema(value_type = String, example = "68.25")]
    pub amount: Money,
}

/// What an invoice's lines come to by kind; all 0.00 for an invoice given as one total.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct InvoiceSubtotals {
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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceCard {
    pub repair_id: String,
    pub invoice_number: String,
    pub invoice_date: String,
    /// The guide's word for the workshop's kind: `Big Apple Workshop` (in house) or
    /// `External Workshop`.
    pub workshop_type: String,
    pub workshop: WorkshopRef,
    /// The invoice's total: the lines plus tax, or the total typed for an invoice without
    /// lines.
    #[schema(value_type = String, example = "1250.00")]
    pub total_amount: Money,
    /// The sales-tax rate in percent, such as "8.875" ("0" without tax).
    #[schema(value_type = String, example = "8.875")]
    pub tax_rate: TaxRate,
    /// The workshop's lines (empty for an invoice given as one total).
    pub line_items: Vec<LineItem>,
    pub subtotals: InvoiceSubtotals,
    pub notes: Option<String>,
    #[schema(value_type = String)]
    pub status: domain::status::InvoiceStatus,
    pub start_week: String,
    #[schema(value_type = String)]
    pub weekly_installment: Money,
    pub case_no: Option<String>,
    pub created_by: String,
    pub created_on: String,
    /// Set when the lease ended and the remaining installments were posted at once
    /// ("accelerated at lease end"): the day they fell due.
    pub accelerated_on: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriverCard {
    pub id: i64,
    pub driver_id: String,
    pub full_name: String,
    pub tlc_license_no: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VehicleCard {
    pub id: i64,
    pub vin: String,
    pub make: String,
    pub model: String,
    pub year: i64,
    pub plate_number: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaseCard {
    pub id: i64,
    pub lease_id: String,
    pub lease_type: String,
    pub lease_type_label: String,
    #[schema(value_type = String)]
    pub status: domain::status::LeaseStatus,
    pub medallion_id: i64,
    pub medallion_number: String,
    #[schema(value_type = String)]
    pub weekly_rate: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleRow {
    pub installment_id: String,
    pub sequence: i64,
    pub week_start_date: String,
    pub week_end_date: String,
    pub week_period: String,
    #[schema(value_type = String)]
    pub amount: Money,
    /// Deprecated (one release): the old name of `amount` in the invoice detail.
    #[schema(value_type = String, deprecated)]
    pub installment: Money,
    #[schema(value_type = String)]
    pub prior_balance: Money,
    #[schema(value_type = String)]
    pub balance: Money,
    /// Paid of this installment so far, partial payments included.
    #[schema(value_type = String)]
    pub paid: Money,
    /// Still owed on this installment (0.00 once cancelled).
    #[schema(value_type = String)]
    pub remaining: Money,
    #[schema(value_type = String)]
    pub status: domain::status::InstallmentStatus,
    pub posted_on: Option<String>,
    pub ledger_posting_ref: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceDetail {
    /// The row id, for the console's reads that hang on it (not part of the API).
    #[serde(skip)]
    pub invoice_pk: i64,
    pub repair_id: String,
    pub totals: Totals,
    pub invoice: InvoiceCard,
    pub driver: DriverCard,
    pub vehicle: VehicleCard,
    pub lease: LeaseCard,
    pub schedule: Vec<ScheduleRow>,
    pub receipt_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstallmentItem {
    pub installment_id: String,
    pub sequence: i64,
    pub repair_id: String,
    pub invoice_number: String,
    pub driver_name: String,
    pub medallion_no: String,
    pub lease_id: String,
    pub week_start_date: String,
    pub week_end_date: String,
    pub week_period: String,
    #[schema(value_type = String)]
    pub amount: Money,
    /// Paid of this installment so far, partial payments included.
    #[schema(value_type = String)]
    pub paid: Money,
    /// Still owed on this installment (0.00 once cancelled).
    #[schema(value_type = String)]
    pub remaining: Money,
    #[schema(value_type = String)]
    pub status: domain::status::InstallmentStatus,
    pub posted_on: Option<String>,
    pub ledger_posting_ref: Option<String>,
}
