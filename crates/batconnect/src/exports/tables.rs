//! The four exports: their SELECTs (with the list's WHERE and ORDER BY), columns and row
//! mappers. The filters come from the list endpoints' own parsers, so an export holds
//! exactly what its list shows, in the same order.

use reports::Column;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{money, Export, ExportColumn};
use crate::db::filter::Where;
use crate::house_style::label;
use crate::repairs::model::Settlement;

fn opt_text(r: &AnyRow, name: &str) -> Result<String, sqlx::Error> {
    Ok(r.try_get::<Option<String>, _>(name)?.unwrap_or_default())
}

fn opt_int(r: &AnyRow, name: &str) -> Result<String, sqlx::Error> {
    Ok(r.try_get::<Option<i64>, _>(name)?
        .map(|v| v.to_string())
        .unwrap_or_default())
}

fn text(r: &AnyRow, name: &str) -> Result<String, sqlx::Error> {
    r.try_get(name)
}

fn cents(r: &AnyRow, name: &str) -> Result<String, sqlx::Error> {
    Ok(money(r.try_get(name)?))
}

/// `GET /payments/vehicle-repairs/list/export`.
pub fn invoices(filter: Where, order_by: &str, title: String, filters: String) -> Export {
    let where_sql = filter.sql();
    Export {
        file_stem: "vehicle_repairs",
        title,
        sheet: "Vehicle Repairs",
        noun: "invoices",
        columns: vec![
            ExportColumn::new("repair_id", Column::text("Repair ID", 16.0)),
            ExportColumn::new("invoice_number", Column::text("Invoice No.", 12.0)),
            ExportColumn::new("invoice_date", Column::date("Invoice Date", 11.0)),
            ExportColumn::new("status", Column::text("Status", 10.0)),
            ExportColumn::new("driver_name", Column::text("Driver", 18.0)),
            ExportColumn::new("medallion_no", Column::text("Medallion", 9.0)),
            ExportColumn::new("lease_id", Column::text("Lease", 10.0)),
            ExportColumn::new("lease_type", Column::text("Lease Type", 14.0)),
            ExportColumn::new("workshop", Column::text("Workshop", 18.0)),
            ExportColumn::new("amount", Column::money("Amount", 11.0)),
            ExportColumn::data_only("weekly_installment", Column::money("Weekly", 10.0)),
            ExportColumn::new("paid", Column::money("Paid", 10.0)),
            ExportColumn::new("remaining", Column::money("Remaining", 11.0)),
            ExportColumn::data_only("workshop_name", Column::text("Workshop Name", 18.0)),
            ExportColumn::data_only("line_count", Column::integer("Lines", 6.0)),
            ExportColumn::data_only("tax_rate", Column::text("Tax Rate %", 8.0)),
            ExportColumn::data_only("parts", Column::money("Parts", 10.0)),
            ExportColumn::data_only("labour", Column::money("Labour", 10.0)),
            ExportColumn::data_only("fees", Column::money("Fees", 10.0)),
            ExportColumn::data_only("discounts", Column::money("Discounts", 10.0)),
            ExportColumn::data_only("tax", Column::money("Tax", 10.0)),
        ],
        select_sql: format!(
            "SELECT repair_id, invoice_number, invoice_date, status, driver_name, medallion_number, lease_ref, \
             lease_type, workshop_type, total_amount_cents, weekly_installment_cents, {paid} AS paid_amount_cents, \
             (SELECT w.name FROM workshops w WHERE w.id = repair_invoices.workshop_id) AS workshop_name, line_count, \
             tax_rate_thousandths, parts_cents, labour_cents, fees_cents, discounts_cents, tax_cents \
             FROM repair_invoices {where_sql} ORDER BY {order_by}",
            paid = crate::repairs::repo::INVOICE_PAID
        ),
        count_sql: format!("SELECT COUNT(*) FROM repair_invoices {where_sql}"),
        args: filter.args,
        row: |r| {
            let status = crate::db::word(r, "status")?;
            let settlement = Settlement::of_invoice(
                r.try_get("total_amount_cents")?,
                r.try_get("paid_amount_cents")?,
                status,
            );
            Ok(vec![
                text(r, "repair_id")?,
                text(r, "invoice_number")?,
                text(r, "invoice_date")?,
                status.to_string(),
                text(r, "driver_name")?,
                text(r, "medallion_number")?,
                text(r, "lease_ref")?,
                label(&text(r, "lease_type")?),
                text(r, "workshop_type")?,
                cents(r, "total_amount_cents")?,
                cents(r, "weekly_installment_cents")?,
                money(settlement.paid.cents()),
                money(settlement.remaining.cents()),
                text(r, "workshop_name")?,
                r.try_get::<i64, _>("line_count")?.to_string(),
                tax_rate(r)?,
                cents(r, "parts_cents")?,
                cents(r, "labour_cents")?,
                cents(r, "fees_cents")?,
                cents(r, "discounts_cents")?,
                cents(r, "tax_cents")?,
            ])
        },
        filters,
        also: None,
    }
}

fn tax_rate(r: &AnyRow) -> Result<String, sqlx::Error> {
    let thousandths: i64 = r.try_get("tax_rate_thousandths")?;
    Ok(
        domain::invoice_lines::TaxRate::from_thousandths(thousandths)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    )
}

/// The lines of the invoices the list's filters select (newest invoice first, its lines in
/// order): the Excel export's second sheet, and `…/list/export/lines`.
pub fn invoice_lines(filter: Where, title: String, filters: String) -> Export {
    let where_sql = filter.sql();
    let chosen = format!("SELECT id FROM repair_invoices {where_sql}");
    Export {
        file_stem: "vehicle_repair_lines",
        title,
        sheet: "Lines",
        noun: "lines",
        columns: vec![
            ExportColumn::new("repair_id", Column::text("Repair ID", 16.0)),
            ExportColumn::new("invoice_number", Column::text("Invoice No.", 12.0)),
            ExportColumn::data_only("invoice_date", Column::date("Invoice Date", 11.0)),
            ExportColumn::new("workshop_name", Column::text("Workshop", 16.0)),
            ExportColumn::new("position", Column::integer("#", 4.0)),
            ExportColumn::new("kind", Column::text("Kind", 9.0)),
            ExportColumn::new("description", Column::text("Description", 26.0)),
            ExportColumn::new("part_number", Column::text("Part No.", 12.0)),
            ExportColumn::new("quantity", Column::text("Quantity", 8.0)),
            ExportColumn::new("unit_price", Column::money("Unit Price", 10.0)),
            ExportColumn::new("taxable", Column::text("Taxable", 7.0)),
            ExportColumn::new("amount", Column::money("Amount", 10.0)),
            ExportColumn::data_only("tax_rate", Column::text("Tax Rate %", 8.0)),
        ],
        select_sql: format!(
            "SELECT v.repair_id, v.invoice_number, v.invoice_date, w.name AS workshop_name, v.tax_rate_thousandths, \
             l.position, l.kind, l.description, l.part_number, l.quantity_thousandths, l.unit_price_cents, l.taxable, l.amount_cents \
             FROM repair_invoice_lines l JOIN repair_invoices v ON v.id = l.invoice_id JOIN workshops w ON w.id = v.workshop_id \
             WHERE l.invoice_id IN ({chosen}) ORDER BY v.invoice_date DESC, v.id DESC, l.position"
        ),
        count_sql: format!(
            "SELECT COUNT(*) FROM repair_invoice_lines l WHERE l.invoice_id IN ({chosen})"
        ),
        args: filter.args,
        row: |r| {
            let kind: domain::invoice_lines::LineKind = crate::db::word(r, "kind")?;
            let amount: i64 = r.try_get("amount_cents")?;
            let quantity: i64 = r.try_get("quantity_thousandths")?;
            Ok(vec![
                text(r, "repair_id")?,
                text(r, "invoice_number")?,
                text(r, "invoice_date")?,
                text(r, "workshop_name")?,
                r.try_get::<i64, _>("position")?.to_string(),
                kind.to_string(),
                text(r, "description")?,
                opt_text(r, "part_number")?,
                domain::invoice_lines::Quantity::from_thousandths(quantity)
                    .map(|q| q.to_string())
                    .unwrap_or_default(),
                cents(r, "unit_price_cents")?,
                if r.try_get::<i64, _>("taxable")? != 0 { "yes" } else { "no" }.into(),
                // A discount is subtracted: negative, so a column sum is the lines' net.
                money(if kind == domain::invoice_lines::LineKind::Discount { -amount } else { amount }),
                tax_rate(r)?,
            ])
        },
        filters,
        also: None,
    }
}

/// `GET /payments/vehicle-repairs/fetch/installments/export`.
pub fn installments(filter: Where, order_by: &str, title: String, filters: String) -> Export {
    let where_sql = filter.sql();
    let from = "FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id";
    Export {
        file_stem: "repair_installments",
        title,
        sheet: "Installments",
        noun: "installments",
        columns: vec![
            ExportColumn::new("installment_id", Column::text("Installment ID", 19.0)),
            ExportColumn::new("repair_id", Column::text("Repair ID", 16.0)),
            ExportColumn::data_only("invoice_number", Column::text("Invoice No.", 12.0)),
            ExportColumn::new("driver_name", Column::text("Driver", 18.0)),
            ExportColumn::data_only("medallion_no", Column::text("Medallion", 10.0)),
            ExportColumn::new("lease_id", Column::text("Lease", 10.0)),
            ExportColumn::new("week_start_date", Column::date("Week Start", 11.0)),
            ExportColumn::new("week_end_date", Column::date("Week End", 11.0)),
            ExportColumn::new("amount", Column::money("Amount", 11.0)),
            ExportColumn::new("paid", Column::money("Paid", 10.0)),
            ExportColumn::new("remaining", Column::money("Remaining", 11.0)),
            ExportColumn::new("status", Column::text("Status", 10.0)),
            ExportColumn::new("posted_on", Column::date("Posted On", 11.0)),
            ExportColumn::data_only("ledger_posting_ref", Column::integer("Ledger Ref", 9.0)),
        ],
        select_sql: format!(
            "SELECT i.installment_id, v.repair_id, v.invoice_number, v.driver_name, v.medallion_number, v.lease_ref, \
             i.week_start_date, i.week_end_date, i.principal_amount_cents, i.paid_amount_cents, i.status, i.posted_on, \
             i.ledger_posting_ref {from} {where_sql} ORDER BY {order_by}"
        ),
        count_sql: format!("SELECT COUNT(*) {from} {where_sql}"),
        args: filter.args,
        row: |r| {
            let status = crate::db::word(r, "status")?;
            let settlement = Settlement::of_installment(
                r.try_get("principal_amount_cents")?,
                r.try_get("paid_amount_cents")?,
                status,
            );
            Ok(vec![
                text(r, "installment_id")?,
                text(r, "repair_id")?,
                text(r, "invoice_number")?,
                text(r, "driver_name")?,
                text(r, "medallion_number")?,
                text(r, "lease_ref")?,
                text(r, "week_start_date")?,
                text(r, "week_end_date")?,
                cents(r, "principal_amount_cents")?,
                money(settlement.paid.cents()),
                money(settlement.remaining.cents()),
                status.to_string(),
                // The posting day (the full time stays in the ledger export).
                opt_text(r, "posted_on")?.chars().take(10).collect(),
                opt_text(r, "ledger_posting_ref")?,
            ])
        },
        filters,
        also: None,
    }
}

/// `GET /ledger/export?kind=postings`, newest first like the list.
pub fn postings(filter: Where, title: String, filters: String) -> Export {
    let where_sql = filter.sql();
    Export {
        file_stem: "ledger_postings",
        title,
        sheet: "Ledger Postings",
        noun: "postings",
        columns: vec![
            ExportColumn::new("id", Column::integer("ID", 7.0)),
            ExportColumn::new("created_on", Column::text("Created On", 20.0)).of_timestamps(),
            ExportColumn::new("category", Column::text("Category", 15.0)),
            ExportColumn::new("entry_type", Column::text("Entry Type", 19.0)),
            ExportColumn::new("status", Column::text("Status", 9.0)),
            ExportColumn::new("amount", Column::money("Amount", 11.0)),
            ExportColumn::new("reference_id", Column::text("Reference", 18.0)),
            ExportColumn::data_only("reversal_for_id", Column::integer("Reverses", 8.0)),
            ExportColumn::data_only("driver_id", Column::integer("Driver", 8.0)),
            ExportColumn::data_only("lease_id", Column::integer("Lease", 8.0)),
            ExportColumn::new("payment_period", Column::text("Period", 11.0)),
            ExportColumn::new("description", Column::text("Description", 20.0)),
            ExportColumn::new("created_by", Column::text("By", 9.0)),
        ],
        select_sql: format!(
            "SELECT id, created_on, category, entry_type, status, amount_cents, reference_id, reversal_for_id, \
             driver_id, lease_id, payment_period, description, created_by \
             FROM ledger_postings {where_sql} ORDER BY id DESC"
        ),
        count_sql: format!("SELECT COUNT(*) FROM ledger_postings {where_sql}"),
        args: filter.args,
        row: |r| {
            Ok(vec![
                r.try_get::<i64, _>("id")?.to_string(),
                text(r, "created_on")?,
                text(r, "category")?,
                label(&text(r, "entry_type")?),
                label(&text(r, "status")?),
                cents(r, "amount_cents")?,
                text(r, "reference_id")?,
                opt_int(r, "reversal_for_id")?,
                opt_int(r, "driver_id")?,
                opt_int(r, "lease_id")?,
                opt_text(r, "payment_period")?,
                opt_text(r, "description")?,
                text(r, "created_by")?,
            ])
        },
        filters,
        also: None,
    }
}

/// `GET /ledger/export?kind=balances`, by due date like the list.
pub fn balances(filter: Where, title: String, filters: String) -> Export {
    let where_sql = filter.sql();
    Export {
        file_stem: "ledger_balances",
        title,
        sheet: "Ledger Balances",
        noun: "balances",
        columns: vec![
            ExportColumn::new("id", Column::integer("ID", 7.0)),
            ExportColumn::new("category", Column::text("Category", 15.0)),
            ExportColumn::new("reference_id", Column::text("Reference", 19.0)),
            ExportColumn::new("obligation_posting_id", Column::integer("Posting", 8.0)),
            ExportColumn::new("driver_id", Column::integer("Driver", 7.0)),
            ExportColumn::new("lease_id", Column::integer("Lease", 7.0)),
            ExportColumn::new("original_amount", Column::money("Original", 11.0)),
            ExportColumn::new("applied_amount", Column::money("Applied", 11.0)),
            ExportColumn::new("current_balance", Column::money("Balance", 11.0)),
            ExportColumn::new("due_date", Column::date("Due Date", 11.0)),
            ExportColumn::new("status", Column::text("Status", 8.0)),
        ],
        select_sql: format!(
            "SELECT id, category, reference_id, obligation_posting_id, driver_id, lease_id, original_cents, \
             balance_cents, due_date, status FROM ledger_balances {where_sql} ORDER BY due_date, id"
        ),
        count_sql: format!("SELECT COUNT(*) FROM ledger_balances {where_sql}"),
        args: filter.args,
        row: |r| {
            let original: i64 = r.try_get("original_cents")?;
            let balance: i64 = r.try_get("balance_cents")?;
            Ok(vec![
                r.try_get::<i64, _>("id")?.to_string(),
                text(r, "category")?,
                text(r, "reference_id")?,
                r.try_get::<i64, _>("obligation_posting_id")?.to_string(),
                opt_int(r, "driver_id")?,
                opt_int(r, "lease_id")?,
                money(original),
                money(original - balance),
                money(balance),
                text(r, "due_date")?,
                label(&text(r, "status")?),
            ])
        },
        filters,
        also: None,
    }
}

/// `GET /ledger/interim-payments/export`, in the list's order.
pub fn interim_payments(filter: Where, order_by: &str, title: String, filters: String) -> Export {
    use crate::ledger::repo::{INTERIM_COLUMNS as COLUMNS, INTERIM_FROM as FROM};
    let where_sql = filter.sql();
    Export {
        file_stem: "interim_payments",
        title,
        sheet: "Interim Payments",
        noun: "payments",
        columns: vec![
            ExportColumn::new("receipt_number", Column::text("Receipt", 16.0)),
            ExportColumn::new("payment_date", Column::date("Paid On", 11.0)),
            ExportColumn::new("payment_method", Column::text("Method", 11.0)),
            ExportColumn::new("check_number", Column::text("Check No.", 10.0)),
            ExportColumn::new("lease_id", Column::text("Lease", 10.0)),
            ExportColumn::new("driver_name", Column::text("Driver", 18.0)),
            ExportColumn::new("medallion_number", Column::text("Medallion", 9.0)),
            ExportColumn::new("amount", Column::money("Amount", 11.0)),
            ExportColumn::new("applied", Column::money("Applied", 11.0)),
            ExportColumn::new("unapplied", Column::money("Credit", 10.0)),
            ExportColumn::new("status", Column::text("Status", 8.0)),
            ExportColumn::new("memo", Column::text("Memo", 18.0)),
            ExportColumn::new("created_by", Column::text("Taken By", 10.0)),
        ],
        select_sql: format!("SELECT {COLUMNS} {FROM} {where_sql} ORDER BY {order_by}"),
        count_sql: format!("SELECT COUNT(*) {FROM} {where_sql}"),
        args: filter.args,
        row: |r| {
            let p = crate::ledger::repo::interim_summary_from_row(r)?;
            Ok(vec![
                p.receipt_number,
                p.payment_date,
                p.payment_method.unwrap_or_default(),
                p.check_number.unwrap_or_default(),
                p.lease_id,
                p.driver_name.unwrap_or_default(),
                p.medallion_number,
                p.amount.to_string(),
                p.applied.to_string(),
                p.unapplied.to_string(),
                p.status,
                p.memo.unwrap_or_default(),
                p.created_by,
            ])
        },
        filters,
        also: None,
    }
}
