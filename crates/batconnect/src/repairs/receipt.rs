//! The repair receipt (§5.4 `GET /{repair_id}/receipt`): a PDF of the invoice, driver,
//! vehicle, lease and the whole schedule with what has been paid.
//!
//! A receipt is stored per invoice version: the key names a hash of everything it shows
//! (`receipts/<repair_id>/<version>.pdf`, the current one in `repair_invoices.receipt_ref`
//! and `receipt_version`). A download compares the invoice as it is now with the stored
//! version and serves the stored file only while they agree; otherwise it makes, stores and
//! serves a new one, so a receipt never shows a state the invoice has left (a payment, a
//! hold, a cancellation). The first version is made right after the case step that creates
//! the invoice commits; if storage is down then, the first download makes it.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::money::Money;
use reports::{Block, Column, Document};
use sqlx::AnyPool;

use super::model::InvoiceDetail;
use super::service;
use crate::audit;
use crate::db::Db;
use crate::error::AppError;
use crate::house_style::{stored_day, stored_timestamp, timestamp, us_date, usd};
use crate::storage::Storage;

/// Where the receipt of one version of an invoice is stored.
pub fn storage_key(repair_id: &str, version: &str) -> String {
    format!("receipts/{repair_id}/{version}.pdf")
}

/// A short hash of everything the receipt shows: it changes whenever the invoice, its
/// schedule, a status or an amount paid changes.
pub fn version_of(detail: &InvoiceDetail) -> Result<String, AppError> {
    use sha2::Digest;
    let bytes = serde_json::to_vec(detail).map_err(anyhow::Error::from)?;
    let hash = format!("{:x}", sha2::Sha256::digest(&bytes));
    Ok(hash[..20].to_string())
}

/// Lays the receipt out, printing times in `timezone` (the house style).
pub fn render(
    detail: &InvoiceDetail,
    fleet_name: &str,
    now: DateTime<Utc>,
    timezone: Tz,
) -> Vec<u8> {
    let invoice = &detail.invoice;
    let mut doc = Document::new(fleet_name);
    doc.subtitle = vec![
        format!("Vehicle repair receipt {}", detail.repair_id),
        format!(
            "Workshop invoice {} of {} · {}",
            invoice.invoice_number,
            us_date(&invoice.invoice_date),
            invoice.workshop.name
        ),
    ];
    doc.generated_at = timestamp(now, timezone);
    doc.blocks.push(Block::SummaryBox {
        items: vec![
            ("Repair total".into(), usd(detail.totals.repair_amount)),
            ("Weekly installment".into(), usd(invoice.weekly_installment)),
            ("Paid to date".into(), usd(detail.totals.total_paid)),
            (
                "Remaining balance".into(),
                usd(detail.totals.remaining_balance),
            ),
        ],
    });
    doc.blocks.push(Block::Heading("Invoice".into()));
    doc.blocks.push(Block::KeyValues {
        title: None,
        pairs: vec![
            ("Repair ID".into(), detail.repair_id.clone()),
            ("Status".into(), invoice.status.to_string()),
            ("Invoice number".into(), invoice.invoice_number.clone()),
            ("Invoice date".into(), us_date(&invoice.invoice_date)),
            (
                "Workshop".into(),
                format!("{} ({})", invoice.workshop.name, invoice.workshop_type),
            ),
            ("First week".into(), us_date(&invoice.start_week)),
            (
                "Installments".into(),
                format!(
                    "{} paid of {}",
                    detail.totals.installments_paid, detail.totals.installments_total
                ),
            ),
            (
                "Case".into(),
                invoice.case_no.clone().unwrap_or_else(|| "—".into()),
            ),
        ]
        .into_iter()
        .chain(invoice.accelerated_on.as_deref().map(|due| {
            (
                "Accelerated at lease end".to_string(),
                format!("all remaining due {}", us_date(due)),
            )
        }))
        .collect(),
        columns: 2,
    });
    doc.blocks.push(Block::Heading("Description".into()));
    doc.blocks.push(Block::Paragraph(
        invoice
            .notes
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "No description was recorded.".into()),
    ));
    if !invoice.line_items.is_empty() {
        lines(&mut doc, invoice);
    }
    doc.blocks
        .push(Block::Heading("Driver, vehicle and lease".into()));
    let vehicle = &detail.vehicle;
    let lease = &detail.lease;
    doc.blocks.push(Block::KeyValues {
        title: None,
        pairs: vec![
            ("Driver".into(), detail.driver.full_name.clone()),
            ("VIN".into(), vehicle.vin.clone()),
            ("Lease".into(), lease.lease_id.clone()),
            ("TLC license".into(), detail.driver.tlc_license_no.clone()),
            (
                "Vehicle".into(),
                format!("{} {} {}", vehicle.year, vehicle.make, vehicle.model),
            ),
            ("Lease type".into(), lease.lease_type_label.clone()),
            ("Driver ID".into(), detail.driver.driver_id.clone()),
            (
                "Plate".into(),
                vehicle.plate_number.clone().unwrap_or_else(|| "—".into()),
            ),
            ("Medallion".into(), lease.medallion_number.clone()),
        ],
        columns: 3,
    });
    doc.blocks.push(Block::Heading("Repayment schedule".into()));
    let total: Money = detail.schedule.iter().map(|s| s.amount).sum();
    doc.blocks.push(Block::Table {
        columns: vec![
            Column::integer("#", 4.0),
            Column::text("Installment", 17.0),
            Column::text("Week", 19.0),
            Column::money("Amount", 10.0),
            Column::money("Balance after", 11.0),
            Column::money("Paid", 9.0),
            Column::text("Status", 10.0),
            Column::text("Posted", 10.0),
        ],
        rows: detail
            .schedule
            .iter()
            .map(|s| {
                vec![
                    s.sequence.to_string(),
                    s.installment_id.clone(),
                    s.week_period.clone(),
                    s.amount.to_string(),
                    s.balance.to_string(),
                    s.paid.to_string(),
                    s.status.to_string(),
                    s.posted_on
                        .as_deref()
                        .map(|p| stored_day(p, timezone))
                        .unwrap_or_default(),
                ]
            })
            .collect(),
        total_row: Some(vec![
            String::new(),
            "Total".into(),
            String::new(),
            total.to_string(),
            String::new(),
            detail.totals.total_paid.to_string(),
            String::new(),
            String::new(),
        ]),
    });
    doc.blocks.push(Block::Paragraph(format!(
        "Each installment is deducted from the driver's weekly statement (DTR) for its week, \
         Sunday to Saturday. Recorded by {} on {}.",
        invoice.created_by,
        stored_timestamp(&invoice.created_on, timezone)
    )));
    reports::render_pdf(&doc)
}

/// The workshop's lines, then the subtotals, the tax and the total.
fn lines(doc: &mut Document, invoice: &super::model::InvoiceCard) {
    use domain::invoice_lines::LineKind;
    doc.blocks.push(Block::Heading("Invoice lines".into()));
    let signed = |kind: LineKind, amount: Money| match kind {
        LineKind::Discount => (-amount).to_string(),
        _ => amount.to_string(),
    };
    doc.blocks.push(Block::Table {
        columns: vec![
            Column::integer("#", 4.0),
            Column::text("Kind", 9.0),
            Column::text("Description", 30.0),
            Column::text("Part number", 13.0),
            Column::text("Quantity", 9.0),
            Column::money("Unit price", 11.0),
            Column::text("Taxable", 8.0),
            Column::money("Amount", 11.0),
        ],
        rows: invoice
            .line_items
            .iter()
            .map(|l| {
                vec![
                    l.position.to_string(),
                    l.kind.to_string(),
                    l.description.clone(),
                    l.part_number.clone().unwrap_or_default(),
                    l.quantity.to_string(),
                    l.unit_price.to_string(),
                    if l.taxable { "Yes" } else { "No" }.into(),
                    signed(l.kind, l.amount),
                ]
            })
            .collect(),
        total_row: None,
    });
    let sums = &invoice.subtotals;
    doc.blocks.push(Block::KeyValues {
        title: None,
        pairs: vec![
            ("Parts".into(), usd(sums.parts)),
            ("Labour".into(), usd(sums.labour)),
            ("Fees".into(), usd(sums.fees)),
            ("Discounts".into(), usd(-sums.discounts)),
            (format!("Tax ({} %)", invoice.tax_rate), usd(sums.tax)),
            ("Invoice total".into(), usd(invoice.total_amount)),
        ],
        columns: 3,
    });
}

/// What making and keeping receipts uses.
#[derive(Clone, Copy)]
pub struct Receipts<'a> {
    pub db: &'a Db,
    pub storage: &'a Storage,
    /// Printed at the top.
    pub fleet_name: &'a str,
    /// Of the "generated" time.
    pub timezone: Tz,
}

impl<'a> Receipts<'a> {
    pub fn from_state(state: &'a crate::state::AppState) -> Receipts<'a> {
        Receipts {
            db: &state.db,
            storage: &state.storage,
            fleet_name: &state.config.fleet_name,
            timezone: state.config.timezone,
        }
    }
}

/// The stored receipt's key and version: `None` for an unknown invoice.
async fn stored_receipt(
    pool: &AnyPool,
    repair_id: &str,
) -> Result<Option<(Option<String>, Option<String>)>, AppError> {
    Ok(super::repo::stored_receipt(pool, repair_id).await?)
}

/// Renders the receipt from the invoice as it is now, stores it (replacing any earlier
/// one of the same version) and records its key, version and an audit entry.
#[tracing::instrument(skip_all, fields(repair_id))]
pub async fn store(
    receipts: Receipts<'_>,
    repair_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Bytes, AppError> {
    let detail = service::detail(receipts.db.reader(), repair_id).await?;
    let version = version_of(&detail)?;
    store_version(receipts, &detail, &version, actor, now).await
}

async fn store_version(
    receipts: Receipts<'_>,
    detail: &InvoiceDetail,
    version: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Bytes, AppError> {
    let repair_id = detail.repair_id.as_str();
    let pdf = Bytes::from(render(detail, receipts.fleet_name, now, receipts.timezone));
    let key = storage_key(repair_id, version);
    receipts.storage.put(&key, pdf.clone()).await?;
    let mut tx = receipts.db.begin().await?;
    super::repo::set_receipt(&mut tx, repair_id, &key, version).await?;
    let mut entry = audit::Entry::new(actor, "receipt_generated", "repair_invoice", repair_id)
        .details(
            serde_json::json!({ "receipt_ref": key, "version": version, "size_bytes": pdf.len() }),
        );
    if let Some(case_no) = detail.invoice.case_no.as_deref() {
        entry = entry.case(case_no, None);
    }
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(pdf)
}

/// Stores the receipt unless the invoice already has one (the post-commit hook).
pub async fn ensure_stored(
    receipts: Receipts<'_>,
    repair_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    match stored_receipt(receipts.db.reader(), repair_id).await? {
        Some((None, _)) => store(receipts, repair_id, actor, now).await.map(|_| ()),
        _ => Ok(()),
    }
}

/// The receipt of the invoice as it is now: the stored file while it shows this version,
/// otherwise a new one, made and stored now.
pub async fn fetch(
    receipts: Receipts<'_>,
    repair_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Bytes, AppError> {
    let Some((key, stored_version)) = stored_receipt(receipts.db.reader(), repair_id).await? else {
        return Err(AppError::NotFound(format!("no repair invoice {repair_id}")));
    };
    let detail = service::detail(receipts.db.reader(), repair_id).await?;
    let version = version_of(&detail)?;
    if let (Some(key), Some(stored)) = (key, stored_version) {
        if stored == version {
            match receipts.storage.get(&key).await? {
                Some(bytes) => return Ok(bytes),
                None => {
                    tracing::warn!(repair_id, key, "stored receipt is missing; making it again")
                }
            }
        }
    }
    store_version(receipts, &detail, &version, actor, now).await
}
