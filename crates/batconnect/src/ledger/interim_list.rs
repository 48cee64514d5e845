//! The interim payments a cashier looks back on: the list (and its export) with each
//! payment's lease, driver and medallion, the filters staff type, and one payment with what
//! it paid and any void. Their SQL is in `ledger/repo.rs`.

use domain::calendar::parse_date;
use domain::money::Money;
use domain::status::PaymentMethod;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::extract::RawQuery;
use crate::db::filter::{Arg, Where};
use crate::db::PageRequest;
use crate::error::{AppError, FieldError};

pub const PARAMS: &[&str] = &[
    "page",
    "per_page",
    "sort_by",
    "sort_order",
    "lease_id",
    "driver_name",
    "from_date",
    "to_date",
    "payment_method",
    "receipt_number",
    "status",
];

/// Sort keys and their columns: every column the list shows.
pub const SORTS: &[(&str, &str)] = &[
    ("payment_date", "ip.payment_date"),
    ("receipt_number", "ip.receipt_number"),
    ("amount", "ip.amount_cents"),
    ("payment_method", "ip.method"),
    ("lease_id", "l.lease_id"),
    ("driver_name", "d.full_name"),
    ("medallion_number", "m.medallion_number"),
    ("status", "p.status"),
    ("created_on", "ip.created_on"),
];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InterimPaymentSummary {
    pub receipt_number: String,
    pub posting_id: i64,
    /// `POSTED`, or `VOIDED` once voided.
    pub status: String,
    pub payment_date: String,
    /// Null for payments recorded before methods were kept.
    pub payment_method: Option<String>,
    pub check_number: Option<String>,
    pub memo: Option<String>,
    #[schema(value_type = String)]
    pub amount: Money,
    /// What it paid of balances (live allocations).
    #[schema(value_type = String)]
    pub applied: Money,
    /// What it holds as the lease's credit, not yet applied (zero once voided).
    #[schema(value_type = String)]
    pub unapplied: Money,
    pub lease_pk: i64,
    pub lease_id: String,
    pub driver_name: Option<String>,
    pub medallion_number: String,
    pub created_by: String,
    pub created_on: String,
    pub receipt_url: String,
}

/// The filters of the list (and its export), newest payment first unless sorted.
pub struct InterimQuery {
    pub filter: Where,
    pub order_by: String,
    pub page: PageRequest,
}

impl InterimQuery {
    pub fn parse(query: &RawQuery) -> Result<InterimQuery, AppError> {
        query.reject_unknown(PARAMS)?;
        let page = PageRequest::parse(query.get("page"), query.get("per_page"))?;
        let mut errors = Vec::new();
        let mut filter = Where::default();
        filter.id_or_key_contains("l.id", "l.lease_id", &query.list("lease_id"));
        filter.contains_any("d.full_name", &query.list("driver_name"));
        filter.contains_any("ip.receipt_number", &query.list("receipt_number"));
        let mut methods = Vec::new();
        for text in query.list("payment_method") {
            match super::interim::parse_method(&text) {
                Some(m) => methods.push(m.as_str().to_string()),
                None => errors.push(FieldError::new(
                    "payment_method",
                    format!(
                        "'{text}' is not one of: {}",
                        PaymentMethod::all_words().join(", ")
                    ),
                )),
            }
        }
        filter.any_of("ip.method", &methods);
        let mut statuses = Vec::new();
        for text in query.list("status") {
            match domain::ledger::PostingStatus::ALL
                .iter()
                .find(|s| s.as_str().eq_ignore_ascii_case(&text))
            {
                Some(s) => statuses.push(s.as_str().to_string()),
                None => errors.push(FieldError::new(
                    "status",
                    format!("'{text}' is not one of: POSTED, VOIDED"),
                )),
            }
        }
        filter.any_of("p.status", &statuses);
        for (name, op) in [("from_date", ">="), ("to_date", "<=")] {
            if let Some(raw) = query.get(name) {
                match parse_date(raw) {
                    Ok(d) => filter.compare("ip.payment_date", op, Arg::Text(d.to_string())),
                    Err(e) => errors.push(FieldError::new(name, e.to_string())),
                }
            }
        }
        let direction = match query
            .get("sort_order")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("desc") => "DESC",
            Some("asc") => "ASC",
            Some(other) => {
                errors.push(FieldError::new(
                    "sort_order",
                    format!("'{other}' is not one of: asc, desc"),
                ));
                "DESC"
            }
        };
        let sort_key = query.get("sort_by").unwrap_or("payment_date");
        let order_by = match SORTS.iter().find(|(k, _)| *k == sort_key) {
            Some((_, column)) => format!("{column} {direction}, ip.id {direction}"),
            None => {
                let keys: Vec<&str> = SORTS.iter().map(|(k, _)| *k).collect();
                errors.push(FieldError::new(
                    "sort_by",
                    format!("'{sort_key}' is not one of: {}", keys.join(", ")),
                ));
                String::new()
            }
        };
        if errors.is_empty() {
            Ok(InterimQuery {
                filter,
                order_by,
                page,
            })
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

/// What one payment paid, balance by balance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaidBalance {
    pub balance_id: i64,
    pub category: String,
    pub reference_id: String,
    pub due_date: String,
    #[schema(value_type = String)]
    pub amount: Money,
    /// True once the payment was voided (the balance reopened by this amount).
    pub reversed: bool,
    /// What the balance has left now.
    #[schema(value_type = String)]
    pub balance_now: Money,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentVoid {
    pub reversal_posting_id: i64,
    pub reason: Option<String>,
    pub voided_by: String,
    pub voided_on: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InterimPaymentDetail {
    #[serde(flatten)]
    pub payment: InterimPaymentSummary,
    pub allocations: Vec<PaidBalance>,
    pub void: Option<PaymentVoid>,
}

/// The receipt the driver takes away: the payment, how it was paid, what it paid and what
/// each balance has left, and any credit kept for the next statement.
pub fn receipt_pdf(
    detail: &InterimPaymentDetail,
    fleet_name: &str,
    now: chrono::DateTime<chrono::Utc>,
    timezone: chrono_tz::Tz,
) -> Vec<u8> {
    use crate::house_style::{stored_timestamp, timestamp, us_date, usd};
    use reports::{Block, Column, Document};
    let p = &detail.payment;
    let mut doc = Document::new(fleet_name);
    doc.subtitle = vec![
        format!("Interim payment receipt {}", p.receipt_number),
        format!("Paid {} · lease {}", us_date(&p.payment_date), p.lease_id),
    ];
    doc.generated_at = timestamp(now, timezone);
    doc.blocks.push(Block::SummaryBox {
        items: vec![
            ("Amount paid".into(), usd(p.amount)),
            ("Applied to balances".into(), usd(p.applied)),
            ("Credit kept".into(), usd(p.unapplied)),
        ],
    });
    let method = match (&p.payment_method, &p.check_number) {
        (Some(m), Some(n)) => format!("{m} no. {n}"),
        (Some(m), None) => m.clone(),
        (None, _) => "not recorded".into(),
    };
    let mut pairs = vec![
        ("Receipt".to_string(), p.receipt_number.clone()),
        ("Payment date".into(), us_date(&p.payment_date)),
        ("Method".into(), method),
        (
            "Driver".into(),
            p.driver_name.clone().unwrap_or_else(|| "—".into()),
        ),
        ("Lease".into(), p.lease_id.clone()),
        ("Medallion".into(), p.medallion_number.clone()),
        ("Taken by".into(), p.created_by.clone()),
    ];
    if let Some(memo) = &p.memo {
        pairs.push(("Memo".into(), memo.clone()));
    }
    if let Some(void) = &detail.void {
        pairs.push((
            "VOIDED".into(),
            format!(
                "on {} by {}{}",
                stored_timestamp(&void.voided_on, timezone),
                void.voided_by,
                void.reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        ));
    }
    doc.blocks.push(Block::KeyValues {
        title: Some("Payment".into()),
        pairs,
        columns: 1,
    });
    doc.blocks.push(Block::Heading("What it paid".into()));
    doc.blocks.push(Block::Table {
        columns: vec![
            Column::text("Balance", 4.0),
            Column::text("Category", 2.0),
            Column::date("Due", 1.6),
            Column::money("Paid", 1.6),
            Column::money("Left now", 1.6),
        ],
        rows: detail
            .allocations
            .iter()
            .map(|a| {
                vec![
                    if a.reversed {
                        format!("{} (reversed)", a.reference_id)
                    } else {
                        a.reference_id.clone()
                    },
                    a.category.clone(),
                    a.due_date.clone(),
                    a.amount.to_string(),
                    a.balance_now.to_string(),
                ]
            })
            .collect(),
        total_row: Some(vec![
            "Total".into(),
            String::new(),
            String::new(),
            p.applied.to_string(),
            String::new(),
        ]),
    });
    if p.unapplied.is_positive() {
        doc.blocks.push(Block::Paragraph(format!(
            "{} was more than the lease owed today. It is kept as the driver's credit and pays \
             what falls due on the next weekly statement, before that week's earnings.",
            usd(p.unapplied)
        )));
    }
    reports::render_pdf(&doc)
}
