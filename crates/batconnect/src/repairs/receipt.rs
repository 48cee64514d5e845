//! The repair receipt (§5.4 `GET /{repair_id}/receipt`): a PDF of the invoice, driver,
//! vehicle, lease and the whole schedule, stored under `receipts/<repair_id>.pdf`.
//!
//! When it is made: right after the case step that creates the invoice commits (a
//! post-commit hook of the flow), and again on `POST …/receipt`. If that first attempt
//! failed (storage down) or the stored file is gone, the first `GET` makes and stores
//! it, so a committed invoice always has a receipt to download.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::money::Money;
use reports::{Block, Column, Document};
use sqlx::AnyPool;

use super::model::InvoiceDetail;
use super::service;
use crate::audit;
use crate::http::error::AppError;
use crate::http::AppState;

/// Where a receipt is stored.
pub fn storage_key(repair_id: &str) -> String {
    format!("receipts/{repair_id}.pdf")
}

fn usd(m: Money) -> String {
    m.to_usd()
}

fn us_date(iso: &str) -> String {
    domain::calendar::parse_date(iso)
        .map(|d| d.format("%m/%d/%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// Lays the receipt out.
pub fn render(detail: &InvoiceDetail, fleet_name: &str, generated_at: &str) -> Vec<u8> {
    let invoice = &detail.invoice;
    let mut doc = Document::new(fleet_name);
    doc.subtitle = vec![
        format!("Vehicle repair receipt {}", detail.repair_id),
        format!(
            "Workshop invoice {} of {} · {}",
            invoice.invoice_number,
            us_date(&invoice.invoice_date),
            invoice.workshop_type
        ),
    ];
    doc.generated_at = generated_at.to_string();
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
            ("Status".into(), invoice.status.clone()),
            ("Invoice number".into(), invoice.invoice_number.clone()),
            ("Invoice date".into(), us_date(&invoice.invoice_date)),
            ("Workshop".into(), invoice.workshop_type.clone()),
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
        ],
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
    let total: Money = detail.schedule.iter().map(|s| s.installment).sum();
    doc.blocks.push(Block::Table {
        columns: vec![
            Column::integer("#", 5.0),
            Column::text("Installment", 17.0),
            Column::text("Week", 20.0),
            Column::money("Amount", 10.0),
            Column::money("Prior balance", 11.0),
            Column::money("Balance", 10.0),
            Column::text("Status", 9.0),
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
                    s.installment.to_string(),
                    s.prior_balance.to_string(),
                    s.balance.to_string(),
                    s.status.clone(),
                    s.posted_on
                        .as_deref()
                        .map(|p| us_date(p.get(..10).unwrap_or(p)))
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
            String::new(),
            String::new(),
            String::new(),
        ]),
    });
    doc.blocks.push(Block::Paragraph(format!(
        "Each installment is deducted from the driver's weekly statement (DTR) for its week, \
         Sunday to Saturday. Recorded by {} on {}.",
        invoice.created_by,
        us_date(invoice.created_on.get(..10).unwrap_or(&invoice.created_on))
    )));
    reports::render_pdf(&doc)
}

fn generated_at(now: DateTime<Utc>, timezone: Tz) -> String {
    now.with_timezone(&timezone)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

async fn receipt_ref(pool: &AnyPool, repair_id: &str) -> Result<Option<Option<String>>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT receipt_ref FROM repair_invoices WHERE repair_id = $1")
            .bind(repair_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// Renders the receipt from the invoice as it is now, stores it (replacing any earlier
/// one) and records its key and an audit entry.
#[tracing::instrument(skip_all, fields(repair_id))]
pub async fn store(state: &AppState, repair_id: &str, actor: &str) -> Result<Bytes, AppError> {
    let detail = service::detail(state.db.reader(), repair_id).await?;
    let now = state.clock.now();
    let pdf = Bytes::from(render(
        &detail,
        &state.config.fleet_name,
        &generated_at(now, state.config.timezone),
    ));
    let key = storage_key(repair_id);
    state.storage.put(&key, pdf.clone()).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE repair_invoices SET receipt_ref = $1 WHERE repair_id = $2")
        .bind(&key)
        .bind(repair_id)
        .execute(&mut *tx)
        .await?;
    let mut entry = audit::Entry::new(actor, "receipt_generated", "repair_invoice", repair_id)
        .details(serde_json::json!({ "receipt_ref": key, "size_bytes": pdf.len() }));
    if let Some(case_no) = detail.invoice.case_no.as_deref() {
        entry = entry.case(case_no, None);
    }
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(pdf)
}

/// Stores the receipt unless the invoice already has one (the post-commit hook).
pub async fn ensure_stored(state: &AppState, repair_id: &str, actor: &str) -> Result<(), AppError> {
    match receipt_ref(state.db.reader(), repair_id).await? {
        Some(None) => store(state, repair_id, actor).await.map(|_| ()),
        _ => Ok(()),
    }
}

/// The stored receipt; made and stored now if it never was or its file is gone.
pub async fn fetch(state: &AppState, repair_id: &str, actor: &str) -> Result<Bytes, AppError> {
    match receipt_ref(state.db.reader(), repair_id).await? {
        None => Err(AppError::NotFound(format!("no repair invoice {repair_id}"))),
        Some(Some(key)) => match state.storage.get(&key).await? {
            Some(bytes) => Ok(bytes),
            None => {
                tracing::warn!(
                    repair_id,
                    key,
                    "stored receipt is missing; generating it again"
                );
                store(state, repair_id, actor).await
            }
        },
        Some(None) => store(state, repair_id, actor).await,
    }
}
