//! Reports as files: CSV (the groups, machine-readable), Excel (typed cells, a total row)
//! and PDF (the house style: a bar chart, then the table with its total).

use axum::body::Body;
use axum::response::Response;
use reports::{Bar, Block, Column, Document};

use super::model::RepairCosts;
use crate::error::AppError;
use crate::exports::stream::file_response;
use crate::exports::{Format, Stamp};
use crate::house_style::usd;

fn columns(grouping: &str) -> Vec<Column> {
    let header = match grouping {
        "month" => "Month",
        "workshop" => "Workshop",
        "vehicle" => "Vehicle",
        "driver" => "Driver",
        _ => "Kind",
    };
    vec![
        Column::text("Key", 12.0),
        Column::text(header, 34.0),
        Column::integer("Invoices", 10.0),
        Column::money("Amount", 14.0),
    ]
}

fn rows(costs: &RepairCosts) -> Vec<Vec<String>> {
    costs
        .groups
        .iter()
        .map(|g| {
            vec![
                g.key.clone(),
                g.label.clone(),
                g.count.to_string(),
                g.sum.to_string(),
            ]
        })
        .collect()
}

/// The repair-cost report in `format`.
pub fn repair_costs(
    costs: &RepairCosts,
    format: Format,
    stamp: Stamp,
    fleet_name: &str,
) -> Result<Response, AppError> {
    let name = format!(
        "repair_costs_{}_{}.{}",
        costs.group_by,
        stamp.file_date(),
        format.extension()
    );
    let total_row = vec![
        String::new(),
        "Total".to_string(),
        costs.invoice_count.to_string(),
        costs.total.to_string(),
    ];
    let body = match format {
        Format::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new());
            let write = |w: &mut csv::Writer<Vec<u8>>, row: &[String]| w.write_record(row);
            write(
                &mut writer,
                &["key", "label", "count", "sum"].map(String::from),
            )
            .and_then(|_| rows(costs).iter().try_for_each(|r| write(&mut writer, r)))
            .map_err(|e| AppError::Internal(e.into()))?;
            writer
                .into_inner()
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        }
        Format::Excel => {
            let all = rows(costs).into_iter().chain(std::iter::once(total_row));
            reports::render_xlsx("Repair costs", &columns(&costs.group_by), all)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        }
        Format::Pdf => {
            let mut doc = Document::new(fleet_name);
            doc.subtitle = vec![format!(
                "Repair costs by {}, invoice dates {} to {} · {} invoices",
                costs.group_by,
                crate::house_style::us_date(&costs.from),
                crate::house_style::us_date(&costs.to),
                reports::thousands(costs.invoice_count)
            )];
            doc.generated_at = stamp.generated_at();
            doc.blocks.push(Block::SummaryBox {
                items: vec![
                    ("Total".into(), usd(costs.total)),
                    ("Invoices".into(), reports::thousands(costs.invoice_count)),
                ],
            });
            doc.blocks.push(Block::Bars {
                bars: costs
                    .groups
                    .iter()
                    .take(40)
                    .map(|g| Bar {
                        label: g.label.clone(),
                        value: g.sum.cents() as f64,
                        text: usd(g.sum),
                    })
                    .collect(),
            });
            doc.blocks.push(Block::Table {
                columns: columns(&costs.group_by),
                rows: rows(costs),
                total_row: Some(total_row),
            });
            reports::render_pdf(&doc)
        }
    };
    Ok(file_response(
        Body::from(body),
        format.content_type(),
        &name,
    ))
}

fn render(
    name: String,
    format: Format,
    sheet: &str,
    columns: &[Column],
    rows: Vec<Vec<String>>,
    doc: impl FnOnce(Vec<Vec<String>>) -> Document,
) -> Result<Response, AppError> {
    let body = match format {
        Format::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new());
            let header: Vec<String> = columns
                .iter()
                .map(|c| c.header.to_ascii_lowercase().replace([' ', '–', '+'], "_"))
                .collect();
            writer
                .write_record(&header)
                .map_err(|e| AppError::Internal(e.into()))?;
            for row in &rows {
                writer
                    .write_record(row)
                    .map_err(|e| AppError::Internal(e.into()))?;
            }
            writer
                .into_inner()
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        }
        Format::Excel => reports::render_xlsx(sheet, columns, rows.into_iter())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
        Format::Pdf => reports::render_pdf(&doc(rows)),
    };
    Ok(file_response(
        Body::from(body),
        format.content_type(),
        &name,
    ))
}

/// The aging report in `format`: a row per lease and category, the totals last.
pub fn aging(
    report: &super::ledger_reports::Aging,
    format: Format,
    stamp: Stamp,
    fleet_name: &str,
) -> Result<Response, AppError> {
    let columns = vec![
        Column::text("Lease", 11.0),
        Column::text("Driver", 18.0),
        Column::text("Medallion", 9.0),
        Column::text("Category", 12.0),
        Column::money("Not due", 11.0),
        Column::money("1-7", 10.0),
        Column::money("8-28", 10.0),
        Column::money("29-56", 10.0),
        Column::money("57 plus", 10.0),
        Column::money("Total", 11.0),
    ];
    let mut rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.lease_id.clone(),
                r.driver.clone().unwrap_or_default(),
                r.medallion.clone(),
                r.category.clone(),
            ];
            row.extend(r.buckets.amounts().iter().map(|m| m.to_string()));
            row.push(r.buckets.total.to_string());
            row
        })
        .collect();
    let mut total = vec![
        "Total".to_string(),
        String::new(),
        String::new(),
        String::new(),
    ];
    total.extend(report.totals.amounts().iter().map(|m| m.to_string()));
    total.push(report.totals.total.to_string());
    if format != Format::Pdf {
        rows.push(total.clone());
    }
    let name = format!("aging_{}.{}", report.as_of, format.extension());
    let totals = report.totals;
    let as_of = report.as_of.clone();
    render(name, format, "Aging", &columns.clone(), rows, move |rows| {
        let mut doc = Document::new(fleet_name);
        doc.landscape = true;
        doc.subtitle = vec![format!(
            "Receivables aging as of {}",
            crate::house_style::us_date(&as_of)
        )];
        doc.generated_at = stamp.generated_at();
        let labels = ["Not due", "1–7 days", "8–28 days", "29–56 days", "57+ days"];
        doc.blocks.push(Block::Bars {
            bars: labels
                .iter()
                .zip(totals.amounts())
                .map(|(l, m)| Bar {
                    label: l.to_string(),
                    value: m.cents() as f64,
                    text: usd(m),
                })
                .collect(),
        });
        doc.blocks.push(Block::Table {
            columns,
            rows,
            total_row: Some(total),
        });
        doc
    })
}

/// A lease's statement of account in `format`: the document a cashier hands the driver.
pub fn statement(
    s: &super::ledger_reports::AccountStatement,
    format: Format,
    stamp: Stamp,
    fleet_name: &str,
    _timezone: chrono_tz::Tz,
) -> Result<Response, AppError> {
    let columns = vec![
        Column::date("Date", 11.0),
        Column::text("Entry", 14.0),
        Column::text("Category", 12.0),
        Column::text("Reference", 22.0),
        Column::text("Description", 30.0),
        Column::money("Amount", 11.0),
        Column::money("Applied", 11.0),
        Column::money("Balance", 12.0),
    ];
    let label = |kind: &str| match kind {
        "charge" => "Charge",
        "earnings" => "Earnings",
        "interim_payment" => "Interim payment",
        "credit" => "Credit",
        "void" => "Void",
        _ => "Applied",
    };
    let rows: Vec<Vec<String>> = s
        .entries
        .iter()
        .map(|e| {
            vec![
                e.date.clone(),
                label(&e.kind).to_string(),
                e.category.clone(),
                e.reference.clone(),
                e.description.clone(),
                if e.kind == "applied" {
                    String::new()
                } else {
                    e.amount.to_string()
                },
                e.applied.map(|a| a.to_string()).unwrap_or_default(),
                e.balance.to_string(),
            ]
        })
        .collect();
    let name = format!(
        "statement_{}_{}_{}.{}",
        s.lease_id,
        s.from,
        s.to,
        format.extension()
    );
    render(name, format, "Statement", &columns.clone(), rows, |rows| {
        let mut doc = Document::new(fleet_name);
        doc.landscape = true;
        doc.subtitle = vec![
            format!("Statement of account · lease {}", s.lease_id),
            format!(
                "{} to {}",
                crate::house_style::us_date(&s.from),
                crate::house_style::us_date(&s.to)
            ),
        ];
        doc.generated_at = stamp.generated_at();
        doc.blocks.push(Block::SummaryBox {
            items: vec![
                ("Opening balance".into(), usd(s.opening_balance)),
                ("Closing balance".into(), usd(s.closing_balance)),
                ("Open balances".into(), usd(s.open_balances)),
                ("Unapplied credit".into(), usd(s.unapplied_credit)),
            ],
        });
        doc.blocks.push(Block::Paragraph(
            "A positive balance is what the driver owes. Charges add to it; earnings, payments and credits take from it; \
             \"Applied\" lines show which balance a payment paid and change nothing. The closing balance is the open \
             balances less the credit not yet applied."
                .into(),
        ));
        doc.blocks.push(Block::Table {
            columns,
            rows,
            total_row: None,
        });
        doc
    })
}

/// The collections report in `format`: a row per week and category.
pub fn collections(
    report: &super::ledger_reports::Collections,
    format: Format,
    stamp: Stamp,
    fleet_name: &str,
) -> Result<Response, AppError> {
    let columns = vec![
        Column::date("Week", 11.0),
        Column::text("Category", 14.0),
        Column::money("Charged", 11.0),
        Column::money("Earnings", 11.0),
        Column::money("Interim", 11.0),
        Column::money("Credit applied", 11.0),
        Column::money("Collected", 11.0),
        Column::money("Adjustments", 11.0),
        Column::money("Voided", 11.0),
        Column::text("Rate", 8.0),
    ];
    let cells = |week: &str, category: &str, f: &super::ledger_reports::CollectionFigures| {
        vec![
            week.to_string(),
            category.to_string(),
            f.charged.to_string(),
            f.collected_earnings.to_string(),
            f.collected_interim.to_string(),
            f.credit_applied.to_string(),
            f.collected.to_string(),
            f.adjustments_collected.to_string(),
            f.voided_or_adjusted.to_string(),
            f.rate
                .map(|r| format!("{:.1}%", r * 100.0))
                .unwrap_or_default(),
        ]
    };
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| cells(&r.week, &r.category, &r.figures))
        .collect();
    let total = cells("", "Total", &report.totals);
    let name = format!(
        "collections_{}_{}.{}",
        report.from_week,
        report.to_week,
        format.extension()
    );
    let weeks = report.weeks.clone();
    let (from, to) = (report.from_week.clone(), report.to_week.clone());
    render(
        name,
        format,
        "Collections",
        &columns.clone(),
        rows,
        move |rows| {
            let mut doc = Document::new(fleet_name);
            doc.landscape = true;
            doc.subtitle = vec![format!(
                "Weekly collections, weeks of {} to {}",
                crate::house_style::us_date(&from),
                crate::house_style::us_date(&to)
            )];
            doc.generated_at = stamp.generated_at();
            doc.blocks.push(Block::Bars {
                bars: weeks
                    .iter()
                    .map(|w| Bar {
                        label: format!(
                            "{} collected of {}",
                            crate::house_style::us_date(&w.week),
                            usd(w.figures.charged)
                        ),
                        value: w.figures.collected.cents() as f64,
                        text: usd(w.figures.collected),
                    })
                    .collect(),
            });
            doc.blocks.push(Block::Table {
                columns,
                rows,
                total_row: Some(total),
            });
            doc
        },
    )
}
