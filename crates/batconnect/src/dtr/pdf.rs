//! The DTR as a payslip-like PDF: header, summary box, deductions by category, repairs,
//! balances carried forward.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reports::{Block, Column, Document};

use super::model::Dtr;
use crate::house_style::{label, timestamp, us_date, usd};

/// Lays the statement out; `now` and `timezone` print its "Generated" line.
pub fn render(dtr: &Dtr, now: DateTime<Utc>, timezone: Tz) -> Vec<u8> {
    let c = &dtr.content;
    let p = &c.party;
    let mut doc = Document::new(format!(
        "Driver Transaction Receipt {}",
        dtr.summary.dtr_number
    ));
    doc.subtitle = vec![
        "BAT Connect — weekly driver statement".to_string(),
        format!(
            "Week {} to {} · {}",
            us_date(&c.week_start),
            us_date(&c.week_end),
            dtr.summary.status
        ),
    ];
    doc.generated_at = timestamp(now, timezone);
    doc.blocks.push(Block::KeyValues {
        title: Some("Driver and lease".into()),
        pairs: vec![
            (
                "Driver".into(),
                p.driver_name.clone().unwrap_or_else(|| "—".into()),
            ),
            (
                "TLC license".into(),
                p.tlc_license_no.clone().unwrap_or_else(|| "—".into()),
            ),
            (
                "Lease".into(),
                format!("{} ({})", p.lease_business_id, label(&p.lease_type)),
            ),
            ("Medallion".into(), p.medallion_number.clone()),
            ("Vehicle".into(), p.vehicle.clone()),
            (
                "VIN / plate".into(),
                format!(
                    "{} / {}",
                    p.vin,
                    p.plate_number.clone().unwrap_or_else(|| "—".into())
                ),
            ),
        ],
        columns: 2,
    });
    let mut summary = vec![
        ("Gross earnings".into(), usd(c.gross_earnings)),
        ("Deductions".into(), usd(c.total_deducted)),
    ];
    if !c.adjustments.is_empty() {
        summary.push(("Adjustments".into(), usd(c.total_adjustments)));
    }
    summary.push(("Net pay".into(), usd(c.net_pay)));
    summary.push(("Balances carried".into(), usd(c.balances_carried_forward)));
    doc.blocks.push(Block::SummaryBox { items: summary });
    if c.credit_applied.is_positive() {
        doc.blocks.push(Block::Paragraph(format!(
            "Credit applied: {} of the driver's credit (interim payments beyond what was owed) paid \
             what fell due before this week's earnings were applied. Credit is never paid out.",
            usd(c.credit_applied)
        )));
    }
    doc.blocks.push(Block::Heading(
        "Deductions by category (payment order)".into(),
    ));
    doc.blocks.push(Block::Table {
        columns: vec![
            Column::text("Category", 3.0),
            Column::money("Paid this week", 2.0),
            Column::money("Still open", 2.0),
        ],
        rows: c
            .categories
            .iter()
            .map(|l| {
                vec![
                    l.category.clone(),
                    l.deducted.to_string(),
                    l.outstanding.to_string(),
                ]
            })
            .collect(),
        total_row: Some(vec![
            "Total".into(),
            c.total_deducted.to_string(),
            c.balances_carried_forward.to_string(),
        ]),
    });
    if !c.adjustments.is_empty() {
        doc.blocks
            .push(Block::Heading("Adjustments to earlier weeks".into()));
        doc.blocks.push(Block::Paragraph(
            "Postings voided after an earlier week's statement was final. That statement stays as it was; \
             what was paid out is owed back here, and what the voided posting had paid is owed again with the deductions above."
                .into(),
        ));
        doc.blocks.push(Block::Table {
            columns: vec![
                Column::date("Week", 1.6),
                Column::text("Statement", 2.2),
                Column::text("Posting", 1.2),
                Column::text("Reason", 3.6),
                Column::money("Owed again", 1.6),
                Column::money("Owed back", 1.6),
                Column::money("Paid this week", 1.6),
            ],
            rows: c
                .adjustments
                .iter()
                .map(|a| {
                    vec![
                        a.week.clone(),
                        a.dtr_number.clone(),
                        a.posting_id.to_string(),
                        a.reason.clone(),
                        a.owed_again.to_string(),
                        a.amount.to_string(),
                        a.paid_this_week.to_string(),
                    ]
                })
                .collect(),
            total_row: Some(vec![
                "Adjustments paid this week".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                c.total_adjustments.to_string(),
            ]),
        });
    }
    doc.blocks.push(Block::Heading("Repairs".into()));
    if c.repairs.is_empty() {
        doc.blocks.push(Block::Paragraph(
            "No repair installments due or open this week.".into(),
        ));
    } else {
        doc.blocks.push(Block::Table {
            columns: vec![
                Column::text("Repair", 2.2),
                Column::text("Installment", 2.6),
                Column::text("Invoice", 2.0),
                Column::date("Due", 1.6),
                Column::money("Amount due", 1.6),
                Column::money("Paid this week", 1.6),
                Column::text("Status", 1.2),
                Column::money("Invoice balance", 1.8),
            ],
            rows: c
                .repairs
                .iter()
                .map(|r| {
                    vec![
                        r.repair_id.clone(),
                        r.installment_id.clone(),
                        r.invoice_number.clone(),
                        r.due_date.clone(),
                        r.amount_due.to_string(),
                        r.paid_this_week.to_string(),
                        r.status.to_string(),
                        r.invoice_balance_remaining.to_string(),
                    ]
                })
                .collect(),
            total_row: None,
        });
    }
    doc.blocks.push(Block::Paragraph(
        "Earnings pay open balances in this order: Taxes, EZPass, Lease, PVB, TLC, Repair, Loan, Misc — oldest first within each. \
         What is not paid stays open and is carried forward; net pay is never negative."
            .into(),
    ));
    reports::render_pdf(&doc)
}
