//! SQL for repair invoices and installments.

use domain::invoice_lines::{Line, Quantity, Subtotals, TaxRate};
use domain::money::Money;
use domain::status::{InstallmentStatus, InvoiceStatus, LeaseType, WorkshopType};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::model::{
    InstallmentItem, InvoiceCard, InvoiceListItem, InvoiceSubtotals, LineItem, ScheduleRow,
    Settlement, WorkshopRef,
};
use super::query::{InstallmentQuery, InvoiceQuery};
use crate::db::filter::{bind_all, bind_all_scalar};
use crate::db::{word, Tx};
use crate::fleet::repo::LeaseFacts;

/// The repair id of an invoice that is not cancelled and whose number has this key.
pub async fn invoice_number_in_use(
    tx: &mut Tx,
    invoice_number_key: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT repair_id, invoice_number FROM repair_invoices WHERE invoice_number_key = $1 AND status <> 'Cancelled'",
    )
    .bind(invoice_number_key)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| Ok((r.try_get("repair_id")?, r.try_get("invoice_number")?)))
        .transpose()
}

/// What a case's invoice was created with, to answer a second submission of its step.
pub struct ExistingInvoice {
    pub repair_id: String,
    pub invoice_number: String,
    pub total_cents: i64,
    pub weekly_cents: i64,
    pub status: InvoiceStatus,
    pub installment_count: i64,
    pub driver_id: i64,
    pub lease_id: i64,
    pub vehicle_id: i64,
    pub medallion_id: i64,
    pub invoice_date: String,
    pub workshop_type: WorkshopType,
    pub workshop_id: i64,
    pub tax_rate_thousandths: i64,
    pub line_count: i64,
    pub start_week: String,
    pub notes: Option<String>,
}

pub async fn invoice_of_case(
    tx: &mut Tx,
    case_no: &str,
) -> Result<Option<ExistingInvoice>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT v.repair_id, v.invoice_number, v.total_amount_cents, v.weekly_installment_cents, v.status, \
         v.driver_id, v.lease_id, v.vehicle_id, v.medallion_id, v.invoice_date, v.workshop_type, v.start_week, v.notes, \
         v.workshop_id, v.tax_rate_thousandths, v.line_count, (SELECT COUNT(*) FROM repair_installments i WHERE i.invoice_id = v.id) AS installment_count \
         FROM repair_invoices v WHERE v.case_no = $1",
    )
    .bind(case_no)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(ExistingInvoice {
            repair_id: r.try_get("repair_id")?,
            invoice_number: r.try_get("invoice_number")?,
            total_cents: r.try_get("total_amount_cents")?,
            weekly_cents: r.try_get("weekly_installment_cents")?,
            status: word(&r, "status")?,
            installment_count: r.try_get("installment_count")?,
            driver_id: r.try_get("driver_id")?,
            lease_id: r.try_get("lease_id")?,
            vehicle_id: r.try_get("vehicle_id")?,
            medallion_id: r.try_get("medallion_id")?,
            invoice_date: r.try_get("invoice_date")?,
            workshop_type: word(&r, "workshop_type")?,
            workshop_id: r.try_get("workshop_id")?,
            tax_rate_thousandths: r.try_get("tax_rate_thousandths")?,
            line_count: r.try_get("line_count")?,
            start_week: r.try_get("start_week")?,
            notes: r.try_get("notes")?,
        })
    })
    .transpose()
}

pub struct NewInvoiceRow<'a> {
    pub repair_id: &'a str,
    pub invoice_number: &'a str,
    pub invoice_number_key: &'a str,
    pub invoice_date: String,
    pub driver_id: i64,
    pub driver_name: &'a str,
    pub lease: &'a LeaseFacts,
    pub workshop_id: i64,
    pub workshop_type: WorkshopType,
    pub tax_rate: TaxRate,
    /// What the lines add up to, and how many there are; `None` for an invoice given as one
    /// total.
    pub subtotals: Option<Subtotals>,
    pub line_count: i64,
    pub notes: Option<&'a str>,
    pub total_cents: i64,
    pub weekly_cents: i64,
    pub start_week: String,
    pub status: InvoiceStatus,
    pub case_no: Option<&'a str>,
    pub actor: &'a str,
    pub now: &'a str,
}

pub async fn insert_invoice(tx: &mut Tx, row: &NewInvoiceRow<'_>) -> Result<i64, sqlx::Error> {
    let sums = row.subtotals;
    let line_count = row.line_count;
    sqlx::query_scalar(
        "INSERT INTO repair_invoices (repair_id, invoice_number, invoice_date, driver_id, lease_id, vehicle_id, medallion_id, \
         driver_name, lease_ref, lease_type, medallion_number, vin, workshop_type, notes, total_amount_cents, \
         weekly_installment_cents, start_week, status, case_no, created_by, created_on, updated_by, updated_on, invoice_number_key, \
         workshop_id, tax_rate_thousandths, line_count, parts_cents, labour_cents, fees_cents, discounts_cents, tax_cents) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $20, $21, $22, \
         $23, $24, $25, $26, $27, $28, $29, $30) RETURNING id",
    )
    .bind(row.repair_id)
    .bind(row.invoice_number)
    .bind(&row.invoice_date)
    .bind(row.driver_id)
    .bind(row.lease.id)
    .bind(row.lease.vehicle_id)
    .bind(row.lease.medallion_id)
    .bind(row.driver_name)
    .bind(&row.lease.lease_id)
    .bind(row.lease.lease_type.as_str())
    .bind(&row.lease.medallion_number)
    .bind(&row.lease.vin)
    .bind(row.workshop_type.as_str())
    .bind(row.notes)
    .bind(row.total_cents)
    .bind(row.weekly_cents)
    .bind(&row.start_week)
    .bind(row.status.as_str())
    .bind(row.case_no)
    .bind(row.actor)
    .bind(row.now)
    .bind(row.invoice_number_key)
    .bind(row.workshop_id)
    .bind(row.tax_rate.thousandths())
    .bind(sums.map_or(0, |_| line_count))
    .bind(sums.unwrap_or_default().parts.cents())
    .bind(sums.unwrap_or_default().labour.cents())
    .bind(sums.unwrap_or_default().fees.cents())
    .bind(sums.unwrap_or_default().discounts.cents())
    .bind(sums.unwrap_or_default().tax.cents())
    .fetch_one(&mut **tx)
    .await
}

/// Writes an invoice's lines, in the order sent, a few hundred rows a statement.
pub async fn insert_lines(tx: &mut Tx, invoice_id: i64, lines: &[Line]) -> Result<(), sqlx::Error> {
    const PARAMS: usize = 9;
    let per_statement = crate::db::rows_per_statement(crate::db::backend_of(tx), PARAMS);
    for (chunk_no, chunk) in lines.chunks(per_statement.max(1)).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=PARAMS)
                    .map(|p| format!("${}", i * PARAMS + p))
                    .collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO repair_invoice_lines (invoice_id, position, kind, description, part_number, quantity_thousandths, \
             unit_price_cents, taxable, amount_cents) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (i, line) in chunk.iter().enumerate() {
            query = query
                .bind(invoice_id)
                .bind((chunk_no * per_statement + i + 1) as i64)
                .bind(line.kind.as_str())
                .bind(line.description.as_str())
                .bind(line.part_number.as_deref())
                .bind(line.quantity.thousandths())
                .bind(line.unit_price.cents())
                .bind(i64::from(line.taxable))
                .bind(line.amount().cents());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

pub struct NewInstallmentRow {
    pub installment_id: String,
    pub sequence: i64,
    pub week_start: String,
    pub week_end: String,
    pub amount_cents: i64,
}

/// Inserts a schedule in multi-row statements (a few round trips, not one per week).
pub async fn insert_installments(
    tx: &mut Tx,
    invoice_id: i64,
    rows: &[NewInstallmentRow],
    status: InstallmentStatus,
    now: &str,
) -> Result<(), sqlx::Error> {
    // $1 = invoice id, $2 = time; 6 parameters a row after that.
    for chunk in rows.chunks(crate::db::rows_per_statement(crate::db::backend_of(tx), 6)) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = 2 + i * 6;
                format!(
                    "(${}, $1, ${}, ${}, ${}, ${}, ${}, $2)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO repair_installments (installment_id, invoice_id, sequence, week_start_date, week_end_date, \
             principal_amount_cents, status, created_on) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(invoice_id).bind(now);
        for r in chunk {
            query = query
                .bind(&r.installment_id)
                .bind(r.sequence)
                .bind(&r.week_start)
                .bind(&r.week_end)
                .bind(r.amount_cents)
                .bind(status.as_str());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn set_invoice_status(
    tx: &mut Tx,
    invoice_id: i64,
    status: InvoiceStatus,
    actor: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE repair_invoices SET status = $1, updated_by = $2, updated_on = $3 WHERE id = $4",
    )
    .bind(status.as_str())
    .bind(actor)
    .bind(now)
    .bind(invoice_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the invoice in `repair_invoices` has been paid: its row of `repair_invoice_paid`
/// (none until something is paid).
pub const INVOICE_PAID: &str = "COALESCE((SELECT p.paid_cents FROM repair_invoice_paid p WHERE p.invoice_id = repair_invoices.id), 0)";
/// [`INVOICE_PAID`] for an invoice aliased `v`.
pub const INVOICE_PAID_V: &str =
    "COALESCE((SELECT p.paid_cents FROM repair_invoice_paid p WHERE p.invoice_id = v.id), 0)";

/// The receipt's download route on this service (never a storage URL): every invoice has
/// one, made at creation or on first download (see `receipt`).
pub fn receipt_url(repair_id: &str) -> Option<String> {
    Some(format!("/payments/vehicle-repairs/{repair_id}/receipt"))
}

fn list_item(r: &AnyRow) -> Result<InvoiceListItem, sqlx::Error> {
    let repair_id: String = r.try_get("repair_id")?;
    let lease_type: String = r.try_get("lease_type")?;
    let status = word(r, "status")?;
    let total: i64 = r.try_get("total_amount_cents")?;
    let settlement = Settlement::of_invoice(total, r.try_get("paid_amount_cents")?, status);
    Ok(InvoiceListItem {
        receipt_url: receipt_url(&repair_id),
        repair_id,
        invoice_number: r.try_get("invoice_number")?,
        invoice_date: r.try_get("invoice_date")?,
        status,
        driver_name: r.try_get("driver_name")?,
        medallion_no: r.try_get("medallion_number")?,
        lease_id: r.try_get("lease_ref")?,
        lease_type_label: LeaseType::parse(&lease_type)
            .map(|t| t.label().to_string())
            .unwrap_or_else(|| lease_type.clone()),
        lease_type,
        workshop: r.try_get("workshop_type")?,
        amount: Money::from_cents(total),
        paid: settlement.paid,
        remaining: settlement.remaining,
    })
}

/// One page of invoices and the total count for the same filter.
pub async fn list_invoices(
    pool: &AnyPool,
    q: &InvoiceQuery,
) -> Result<(Vec<InvoiceListItem>, i64), sqlx::Error> {
    let where_sql = q.filter.sql();
    let count_sql = match &q.status_only {
        // Kept by triggers: the unfiltered list (or a status-only filter) needs no count of a
        // million rows. A keyed lookup of the status rows, never a scan of a table that may
        // carry dead row versions between vacuums.
        Some(statuses) if statuses.is_empty() => "SELECT CAST(COALESCE(SUM(invoices), 0) AS BIGINT) FROM repair_invoice_counts \
             WHERE status IN ('Draft', 'Open', 'Closed', 'Hold', 'Cancelled')"
            .to_string(),
        Some(_) => format!(
            "SELECT CAST(COALESCE(SUM(invoices), 0) AS BIGINT) FROM repair_invoice_counts {where_sql}"
        ),
        None => format!("SELECT COUNT(*) FROM repair_invoices {where_sql}"),
    };
    // The page's ids first, then their rows: the filter and sort run on indexes alone where
    // one covers them (a driver's invoices by date), instead of reading every matching row
    // to sort it (tens of thousands for a common name part). The count rides along as an
    // uncorrelated subquery (run once), so a page is one round trip to the database; only
    // a page past the end, which has no row to carry it, asks for the count on its own.
    let page_sql = format!(
        "SELECT repair_id, invoice_number, invoice_date, status, driver_name, medallion_number, lease_ref, lease_type, \
         workshop_type, total_amount_cents, {INVOICE_PAID} AS paid_amount_cents, ({count_sql}) AS total_items \
         FROM repair_invoices WHERE id IN \
         (SELECT id FROM repair_invoices {where_sql} ORDER BY {order} LIMIT {} OFFSET {}) ORDER BY {order}",
        q.filter.next_placeholder(1),
        q.filter.next_placeholder(2),
        order = q.order_by,
    );
    let rows = bind_all(sqlx::query(&page_sql), &q.filter.args)
        .bind(q.page.per_page)
        .bind(q.page.offset())
        .fetch_all(pool)
        .await?;
    let total: i64 = match rows.first() {
        Some(row) => row.try_get("total_items")?,
        None => {
            bind_all_scalar(sqlx::query_scalar(&count_sql), &q.filter.args)
                .fetch_one(pool)
                .await?
        }
    };
    Ok((rows.iter().map(list_item).collect::<Result<_, _>>()?, total))
}

pub struct DetailParts {
    /// The invoice's row id (documents hang on it).
    pub invoice_pk: i64,
    pub invoice: InvoiceCard,
    pub paid_cents: i64,
    pub total_cents: i64,
    /// The fleet records the invoice is for (internal ids): the service reads their cards
    /// through the fleet's repo.
    pub driver_id: i64,
    pub vehicle_id: i64,
    pub lease_id: i64,
    pub medallion_id: i64,
    pub schedule: Vec<ScheduleRow>,
}

pub async fn invoice_detail(
    pool: &AnyPool,
    repair_id: &str,
) -> Result<Option<DetailParts>, sqlx::Error> {
    let Some(r) = sqlx::query(&format!(
        "SELECT v.id AS invoice_pk, v.repair_id, v.invoice_number, v.invoice_date, v.workshop_type, v.notes, v.status, \
         v.start_week, v.weekly_installment_cents, v.total_amount_cents, {INVOICE_PAID_V} AS paid_amount_cents, v.case_no, v.created_by, v.created_on, v.accelerated_on, \
         v.driver_id, v.vehicle_id, v.lease_id, v.medallion_id, v.workshop_id, \
         v.tax_rate_thousandths, v.parts_cents, v.labour_cents, v.fees_cents, v.discounts_cents, v.tax_cents \
         FROM repair_invoices v WHERE v.repair_id = $1",
    ))
    .bind(repair_id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let invoice_pk: i64 = r.try_get("invoice_pk")?;
    let total_cents: i64 = r.try_get("total_amount_cents")?;
    let installments = sqlx::query(
        "SELECT installment_id, sequence, week_start_date, week_end_date, principal_amount_cents, paid_amount_cents, status, \
         posted_on, ledger_posting_ref FROM repair_installments WHERE invoice_id = $1 ORDER BY sequence",
    )
    .bind(invoice_pk)
    .fetch_all(pool)
    .await?;
    let line_items = invoice_lines(pool, &[invoice_pk])
        .await?
        .into_iter()
        .map(|(_, line)| line)
        .collect();
    let cents =
        |column: &str| -> Result<Money, sqlx::Error> { Ok(Money::from_cents(r.try_get(column)?)) };
    let subtotals = InvoiceSubtotals {
        parts: cents("parts_cents")?,
        labour: cents("labour_cents")?,
        fees: cents("fees_cents")?,
        discounts: cents("discounts_cents")?,
        tax: cents("tax_cents")?,
    };
    let mut remaining = total_cents;
    let mut schedule = Vec::with_capacity(installments.len());
    for i in &installments {
        let amount: i64 = i.try_get("principal_amount_cents")?;
        let status = word(i, "status")?;
        let settlement =
            Settlement::of_installment(amount, i.try_get("paid_amount_cents")?, status);
        let start: String = i.try_get("week_start_date")?;
        let end: String = i.try_get("week_end_date")?;
        schedule.push(ScheduleRow {
            installment_id: i.try_get("installment_id")?,
            sequence: i.try_get("sequence")?,
            week_period: period_text(&start, &end),
            week_start_date: start,
            week_end_date: end,
            amount: Money::from_cents(amount),
            installment: Money::from_cents(amount),
            prior_balance: Money::from_cents(remaining),
            balance: Money::from_cents(remaining - amount),
            paid: settlement.paid,
            remaining: settlement.remaining,
            status,
            posted_on: i.try_get("posted_on")?,
            ledger_posting_ref: i.try_get("ledger_posting_ref")?,
        });
        remaining -= amount;
    }
    Ok(Some(DetailParts {
        invoice_pk,
        invoice: InvoiceCard {
            repair_id: r.try_get("repair_id")?,
            invoice_number: r.try_get("invoice_number")?,
            invoice_date: r.try_get("invoice_date")?,
            workshop_type: r.try_get("workshop_type")?,
            // Named by the service, from the registry.
            workshop: WorkshopRef {
                id: r.try_get("workshop_id")?,
                name: String::new(),
                kind: String::new(),
            },
            total_amount: Money::from_cents(total_cents),
            tax_rate: TaxRate::from_thousandths(r.try_get("tax_rate_thousandths")?)
                .unwrap_or_default(),
            line_items,
            subtotals,
            notes: r.try_get("notes")?,
            status: word(&r, "status")?,
            start_week: r.try_get("start_week")?,
            weekly_installment: Money::from_cents(r.try_get("weekly_installment_cents")?),
            case_no: r.try_get("case_no")?,
            created_by: r.try_get("created_by")?,
            created_on: r.try_get("created_on")?,
            accelerated_on: r.try_get("accelerated_on")?,
        },
        total_cents,
        paid_cents: r.try_get("paid_amount_cents")?,
        driver_id: r.try_get("driver_id")?,
        vehicle_id: r.try_get("vehicle_id")?,
        lease_id: r.try_get("lease_id")?,
        medallion_id: r.try_get("medallion_id")?,
        schedule,
    }))
}

/// The lines of these invoices (row ids), each with its invoice's row id, in invoice and
/// line order.
pub async fn invoice_lines(
    pool: &AnyPool,
    invoice_pks: &[i64],
) -> Result<Vec<(i64, LineItem)>, sqlx::Error> {
    if invoice_pks.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT invoice_id, position, kind, description, part_number, quantity_thousandths, unit_price_cents, taxable, amount_cents \
         FROM repair_invoice_lines WHERE invoice_id IN ({}) ORDER BY invoice_id, position",
        crate::db::id_list(invoice_pks)
    ))
    .persistent(false)
    .fetch_all(pool)
    .await?;
    rows.iter().map(line_from_row).collect()
}

pub fn line_from_row(r: &AnyRow) -> Result<(i64, LineItem), sqlx::Error> {
    let quantity: i64 = r.try_get("quantity_thousandths")?;
    Ok((
        r.try_get("invoice_id")?,
        LineItem {
            position: r.try_get("position")?,
            kind: word(r, "kind")?,
            description: r.try_get("description")?,
            part_number: r.try_get("part_number")?,
            quantity: Quantity::from_thousandths(quantity)
                .map_err(|e| sqlx::Error::Decode(format!("quantity {quantity}: {e}").into()))?,
            unit_price: Money::from_cents(r.try_get("unit_price_cents")?),
            taxable: r.try_get::<i64, _>("taxable")? != 0,
            amount: Money::from_cents(r.try_get("amount_cents")?),
        },
    ))
}

fn period_text(start: &str, end: &str) -> String {
    match (
        domain::calendar::parse_date(start),
        domain::calendar::parse_date(end),
    ) {
        (Ok(s), Ok(e)) => super::model::week_period(s, e),
        _ => format!("{start} - {end}"),
    }
}

pub async fn list_installments(
    pool: &AnyPool,
    q: &InstallmentQuery,
) -> Result<(Vec<InstallmentItem>, i64), sqlx::Error> {
    let where_sql = q.filter.sql();
    let from = "FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id";
    let total: i64 = bind_all_scalar(
        sqlx::query_scalar(&format!("SELECT COUNT(*) {from} {where_sql}")),
        &q.filter.args,
    )
    .fetch_one(pool)
    .await?;
    let sql = format!(
        "SELECT i.installment_id, i.sequence, v.repair_id, v.invoice_number, v.driver_name, v.medallion_number, v.lease_ref, \
         i.week_start_date, i.week_end_date, i.principal_amount_cents, i.paid_amount_cents, i.status, i.posted_on, i.ledger_posting_ref \
         {from} {where_sql} ORDER BY {} LIMIT {} OFFSET {}",
        q.order_by,
        q.filter.next_placeholder(1),
        q.filter.next_placeholder(2)
    );
    let rows = bind_all(sqlx::query(&sql), &q.filter.args)
        .bind(q.page.per_page)
        .bind(q.page.offset())
        .fetch_all(pool)
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            let start: String = r.try_get("week_start_date")?;
            let end: String = r.try_get("week_end_date")?;
            let amount: i64 = r.try_get("principal_amount_cents")?;
            let status = word(r, "status")?;
            let settlement =
                Settlement::of_installment(amount, r.try_get("paid_amount_cents")?, status);
            Ok(InstallmentItem {
                installment_id: r.try_get("installment_id")?,
                sequence: r.try_get("sequence")?,
                repair_id: r.try_get("repair_id")?,
                invoice_number: r.try_get("invoice_number")?,
                driver_name: r.try_get("driver_name")?,
                medallion_no: r.try_get("medallion_number")?,
                lease_id: r.try_get("lease_ref")?,
                week_period: period_text(&start, &end),
                week_start_date: start,
                week_end_date: end,
                amount: Money::from_cents(amount),
                paid: settlement.paid,
                remaining: settlement.remaining,
                status,
                posted_on: r.try_get("posted_on")?,
                ledger_posting_ref: r.try_get("ledger_posting_ref")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((items, total))
}

/// An installment as a weekly statement's repairs section shows it.
pub struct StatementLine {
    pub lease_id: i64,
    pub repair_id: String,
    pub invoice_number: String,
    pub invoice_status: InvoiceStatus,
    pub invoice_total_cents: i64,
    pub invoice_paid_cents: i64,
    pub installment_id: String,
    pub week_start: String,
    pub amount_cents: i64,
    pub paid_cents: i64,
    pub status: InstallmentStatus,
}

/// The installments the statements of `week` show for these leases, by lease and week:
/// those due in the week, earlier ones still open, and earlier ones paid this week
/// (`paid_this_week`, by installment id); never a later week's, nor a cancelled one, nor
/// one of an invoice closed before the week.
///
/// Two keyed reads — the leases' invoices by the lease index, then their installments by
/// the invoice index — joined here: as one join PostgreSQL planned a scan of every
/// installment for each thousand leases.
pub async fn statement_lines(
    tx: &mut Tx,
    leases: &[i64],
    week: domain::calendar::SundayDate,
    paid_this_week: &std::collections::HashMap<String, i64>,
) -> Result<Vec<StatementLine>, sqlx::Error> {
    use std::collections::HashMap;
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    // Open or held invoices, and closed ones whose last installments this week paid; an
    // invoice closed before has nothing this week's statement shows.
    let mut closed_this_week: Vec<&str> = paid_this_week
        .keys()
        // An installment id is its invoice's repair id and a sequence number.
        .filter_map(|id| id.rsplit_once('-').map(|(repair_id, _)| repair_id))
        .collect();
    closed_this_week.sort_unstable();
    closed_this_week.dedup();
    let closed = if closed_this_week.is_empty() {
        String::new()
    } else {
        format!(
            " OR (v.status = 'Closed' AND v.repair_id IN ({}))",
            crate::db::text_list(&closed_this_week)
        )
    };
    let mut invoices: HashMap<i64, (i64, String, String, InvoiceStatus, i64, i64)> = HashMap::new();
    for chunk in leases.chunks(1000) {
        for r in sqlx::query(&format!(
            "SELECT v.id, v.lease_id, v.repair_id, v.invoice_number, v.status, v.total_amount_cents, {INVOICE_PAID_V} AS paid \
             FROM repair_invoices v WHERE v.lease_id IN ({}) AND (v.status IN ('Open', 'Hold'){closed})",
            crate::db::id_list(chunk)
        ))
        .persistent(false)
        .fetch_all(&mut **tx)
        .await?
        {
            invoices.insert(
                r.try_get("id")?,
                (
                    r.try_get("lease_id")?,
                    r.try_get("repair_id")?,
                    r.try_get("invoice_number")?,
                    word(&r, "status")?,
                    r.try_get("total_amount_cents")?,
                    r.try_get("paid")?,
                ),
            );
        }
    }
    let ids: Vec<i64> = invoices.keys().copied().collect();
    let week_start = week.to_string();
    let week_end = week.week_end().to_string();
    let mut lines = Vec::new();
    for chunk in ids.chunks(1000) {
        for r in sqlx::query(&format!(
            "SELECT invoice_id, installment_id, week_start_date, principal_amount_cents, paid_amount_cents, status \
             FROM repair_installments WHERE invoice_id IN ({}) AND status <> 'Cancelled' AND week_start_date <= $1",
            crate::db::id_list(chunk)
        ))
        .persistent(false)
        .bind(&week_end)
        .fetch_all(&mut **tx)
        .await?
        {
            let installment_id: String = r.try_get("installment_id")?;
            let status: InstallmentStatus = word(&r, "status")?;
            let start: String = r.try_get("week_start_date")?;
            let shown = start >= week_start
                || status == InstallmentStatus::Posted
                || paid_this_week.contains_key(&installment_id);
            if !shown {
                continue;
            }
            let Some((lease_id, repair_id, number, invoice_status, total, paid)) =
                invoices.get(&r.try_get::<i64, _>("invoice_id")?)
            else {
                continue;
            };
            lines.push(StatementLine {
                lease_id: *lease_id,
                repair_id: repair_id.clone(),
                invoice_number: number.clone(),
                invoice_status: *invoice_status,
                invoice_total_cents: *total,
                invoice_paid_cents: *paid,
                installment_id,
                week_start: start,
                amount_cents: r.try_get("principal_amount_cents")?,
                paid_cents: r.try_get("paid_amount_cents")?,
                status,
            });
        }
    }
    lines.sort_by(|a, b| {
        (a.lease_id, &a.week_start, &a.installment_id).cmp(&(
            b.lease_id,
            &b.week_start,
            &b.installment_id,
        ))
    });
    Ok(lines)
}

/// Installments follow their ledger balances — given as (installment id, paid cents, open
/// cents): what has been paid of them, `Paid` at nothing open, `Posted` otherwise (a
/// cancelled one stays cancelled) — and invoices their installments: what has been paid of
/// them, all paid → `Closed` (from `Open` or `Hold`), a `Closed` one reopened → `Open`.
///
/// Every statement is driven by a literal key list and looks related rows up by key, one
/// index probe each, whatever the planner's statistics say (right after the Sunday run they
/// lag far behind the tables).
pub async fn follow_ledger(
    tx: &mut Tx,
    settlements: &[(String, i64, i64)],
    now: &str,
) -> Result<(), sqlx::Error> {
    if settlements.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = settlements
        .iter()
        .map(|(installment, paid, open)| {
            format!(
                "({}, {paid}, {open})",
                crate::db::text_list(std::slice::from_ref(installment))
            )
        })
        .collect();
    let mut invoices: Vec<i64> = sqlx::query_scalar(&format!(
        "UPDATE repair_installments SET paid_amount_cents = v.column2, \
         status = CASE WHEN v.column3 = 0 THEN 'Paid' ELSE 'Posted' END \
         FROM (VALUES {}) AS v WHERE repair_installments.installment_id = v.column1 \
         AND repair_installments.status IN ('Posted', 'Paid') RETURNING repair_installments.invoice_id",
        values.join(", ")
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await?;
    invoices.sort_unstable();
    invoices.dedup();
    if invoices.is_empty() {
        return Ok(());
    }
    let invoices = crate::db::id_list(&invoices);
    sqlx::query(&format!(
        "INSERT INTO repair_invoice_paid (invoice_id, paid_cents) \
         SELECT i.invoice_id, CAST(SUM(i.paid_amount_cents) AS BIGINT) FROM repair_installments i \
         WHERE i.invoice_id IN ({invoices}) GROUP BY i.invoice_id \
         ON CONFLICT (invoice_id) DO UPDATE SET paid_cents = excluded.paid_cents"
    ))
    .persistent(false)
    .execute(&mut **tx)
    .await?;
    let unpaid = "(SELECT COUNT(*) FROM repair_installments i WHERE i.invoice_id = repair_invoices.id AND i.status <> 'Paid')";
    // Paid off closes an invoice whatever its state (one on Hold too); a void reopens it.
    for (from, to, condition) in [
        ("'Open', 'Hold'", "Closed", "= 0"),
        ("'Closed'", "Open", "> 0"),
    ] {
        sqlx::query(&format!(
            "UPDATE repair_invoices SET status = '{to}', updated_by = 'ledger', updated_on = $1 \
             WHERE id IN ({invoices}) AND status IN ({from}) AND {unpaid} {condition}"
        ))
        .persistent(false)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A `Scheduled` installment with what its obligation copies from the invoice.
pub struct ScheduledInstallment {
    pub id: i64,
    pub installment_id: String,
    pub amount: Money,
    pub driver_id: i64,
    pub lease_id: i64,
    pub vehicle_id: i64,
    pub medallion_id: i64,
    pub invoice_number: String,
}

/// The installments of an invoice not posted yet, in order.
pub async fn scheduled_installments(
    tx: &mut Tx,
    invoice_id: i64,
) -> Result<Vec<ScheduledInstallment>, sqlx::Error> {
    sqlx::query(
        "SELECT i.id, i.installment_id, i.principal_amount_cents, v.driver_id, v.lease_id, v.vehicle_id, v.medallion_id, v.invoice_number \
         FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id \
         WHERE i.invoice_id = $1 AND i.status = 'Scheduled' ORDER BY i.sequence",
    )
    .bind(invoice_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok(ScheduledInstallment {
            id: r.try_get("id")?,
            installment_id: r.try_get("installment_id")?,
            amount: Money::from_cents(r.try_get("principal_amount_cents")?),
            driver_id: r.try_get("driver_id")?,
            lease_id: r.try_get("lease_id")?,
            vehicle_id: r.try_get("vehicle_id")?,
            medallion_id: r.try_get("medallion_id")?,
            invoice_number: r.try_get("invoice_number")?,
        })
    })
    .collect()
}

pub async fn mark_installment_posted(
    tx: &mut Tx,
    id: i64,
    posting_id: i64,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE repair_installments SET status = 'Posted', posted_on = $1, ledger_posting_ref = $2 WHERE id = $3",
    )
    .bind(now)
    .bind(posting_id.to_string())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_accelerated(
    tx: &mut Tx,
    invoice_id: i64,
    due: chrono::NaiveDate,
    actor: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE repair_invoices SET accelerated_on = $1, updated_by = $2, updated_on = $3 WHERE id = $4")
        .bind(due.to_string())
        .bind(actor)
        .bind(now)
        .bind(invoice_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A lease's Open invoices (id, repair id), locked on PostgreSQL.
pub async fn open_invoices_of_lease(
    tx: &mut Tx,
    lease_id: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, repair_id FROM repair_invoices WHERE lease_id = $1 AND status = 'Open' ORDER BY id{}",
        crate::db::lock_rows(tx)
    ))
    .bind(lease_id)
    .fetch_all(&mut **tx)
    .await
}

/// The lease an invoice is charged to (unlocked: it never changes).
pub async fn lease_of_invoice(tx: &mut Tx, repair_id: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT lease_id FROM repair_invoices WHERE repair_id = $1")
        .bind(repair_id)
        .fetch_optional(&mut **tx)
        .await
}

/// An invoice's id, lease and status, locked on PostgreSQL (a posting batch waits for it).
pub async fn invoice_for_update(
    tx: &mut Tx,
    repair_id: &str,
) -> Result<Option<(i64, i64, InvoiceStatus)>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT id, lease_id, status FROM repair_invoices WHERE repair_id = $1{}",
        crate::db::lock_rows(tx)
    ))
    .bind(repair_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("lease_id")?,
            word(&r, "status")?,
        ))
    })
    .transpose()
}

/// What has been paid of an invoice's installments, in cents.
pub async fn paid_of_invoice(tx: &mut Tx, invoice_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(paid_amount_cents), 0) AS BIGINT) FROM repair_installments WHERE invoice_id = $1",
    )
    .bind(invoice_id)
    .fetch_one(&mut **tx)
    .await
}

/// The ledger postings of an invoice's `Posted` installments.
pub async fn posted_refs(tx: &mut Tx, invoice_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT ledger_posting_ref FROM repair_installments WHERE invoice_id = $1 AND status = 'Posted' AND ledger_posting_ref IS NOT NULL",
    )
    .bind(invoice_id)
    .fetch_all(&mut **tx)
    .await
}

/// Every installment of a cancelled invoice left is cancelled.
pub async fn cancel_installments(tx: &mut Tx, invoice_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE repair_installments SET status = 'Cancelled' WHERE invoice_id = $1 AND status IN ('Scheduled', 'Posted')",
    )
    .bind(invoice_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The stored receipt's key and version: `None` for an unknown invoice.
pub async fn stored_receipt(
    pool: &AnyPool,
    repair_id: &str,
) -> Result<Option<(Option<String>, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT receipt_ref, receipt_version FROM repair_invoices WHERE repair_id = $1")
        .bind(repair_id)
        .fetch_optional(pool)
        .await
}

pub async fn set_receipt(
    tx: &mut Tx,
    repair_id: &str,
    key: &str,
    version: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE repair_invoices SET receipt_ref = $1, receipt_version = $2 WHERE repair_id = $3",
    )
    .bind(key)
    .bind(version)
    .bind(repair_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The repair id of the invoice a case created, if any.
pub async fn repair_id_of_case(
    pool: &AnyPool,
    case_no: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT repair_id FROM repair_invoices WHERE case_no = $1")
        .bind(case_no)
        .fetch_optional(pool)
        .await
}

/// Closes every invoice on `Hold` whose installments are all paid; how many it closed.
pub async fn close_paid_off_held(tx: &mut Tx, now: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE repair_invoices SET status = 'Closed', updated_by = 'ledger', updated_on = $1 \
         WHERE status = 'Hold' \
         AND NOT EXISTS (SELECT 1 FROM repair_installments i WHERE i.invoice_id = repair_invoices.id AND i.status <> 'Paid')",
    )
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// An installment as a manual posting request checks it.
pub struct InstallmentToPost {
    pub id: i64,
    pub status: InstallmentStatus,
    pub week_start: String,
    pub ledger_posting_ref: Option<String>,
    pub invoice_status: InvoiceStatus,
    pub repair_id: String,
}

/// The installments with these public ids (those that exist), by public id, in one read.
pub async fn installments_to_post(
    tx: &mut Tx,
    installment_ids: &[String],
) -> Result<std::collections::HashMap<String, InstallmentToPost>, sqlx::Error> {
    if installment_ids.is_empty() {
        return Ok(Default::default());
    }
    let marks: Vec<String> = (1..=installment_ids.len())
        .map(|n| format!("${n}"))
        .collect();
    let sql = format!(
        "SELECT i.id, i.installment_id, i.status, i.week_start_date, i.ledger_posting_ref, v.status AS invoice_status, v.repair_id \
         FROM repair_installments i JOIN repair_invoices v ON v.id = i.invoice_id WHERE i.installment_id IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql).persistent(false);
    for installment_id in installment_ids {
        query = query.bind(installment_id);
    }
    query
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("installment_id")?,
                InstallmentToPost {
                    id: r.try_get("id")?,
                    status: word(r, "status")?,
                    week_start: r.try_get("week_start_date")?,
                    ledger_posting_ref: r.try_get("ledger_posting_ref")?,
                    invoice_status: word(r, "invoice_status")?,
                    repair_id: r.try_get("repair_id")?,
                },
            ))
        })
        .collect()
}

/// Takes a key-share lock on the invoices of these installments, in id order: invoices
/// before installments, the order a hold or cancel takes them in (PostgreSQL only).
pub async fn lock_invoices_of_installments(
    tx: &mut Tx,
    installment_ids: &[i64],
) -> Result<(), sqlx::Error> {
    if installment_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "SELECT v.id FROM repair_invoices v WHERE v.id IN \
         (SELECT i.invoice_id FROM repair_installments i WHERE i.id IN ({})) ORDER BY v.id FOR KEY SHARE",
        crate::db::id_list(installment_ids)
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await?;
    Ok(())
}

/// The ledger posting reference of each of these installments, by public id.
pub async fn posting_refs_of_installments(
    tx: &mut Tx,
    installment_ids: &[i64],
) -> Result<std::collections::HashMap<String, Option<String>>, sqlx::Error> {
    if installment_ids.is_empty() {
        return Ok(Default::default());
    }
    sqlx::query_as(&format!(
        "SELECT installment_id, ledger_posting_ref FROM repair_installments WHERE id IN ({})",
        crate::db::id_list(installment_ids)
    ))
    .persistent(false)
    .fetch_all(&mut **tx)
    .await
    .map(|rows: Vec<(String, Option<String>)>| rows.into_iter().collect())
}

/// The internal id of an invoice by repair id.
pub async fn invoice_id_by_repair_id(
    pool: &AnyPool,
    repair_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM repair_invoices WHERE repair_id = $1")
        .bind(repair_id)
        .fetch_optional(pool)
        .await
}

/// The invoice a case already created, if any.
pub async fn invoice_id_of_case(pool: &AnyPool, case_no: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM repair_invoices WHERE case_no = $1")
        .bind(case_no)
        .fetch_optional(pool)
        .await
}

/// The repair id of each of these invoices (internal ids), in one read per thousand.
pub async fn repair_ids_of(
    pool: &AnyPool,
    invoice_ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    let mut found = std::collections::HashMap::with_capacity(invoice_ids.len());
    for chunk in invoice_ids.chunks(1000) {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT id, repair_id FROM repair_invoices WHERE id IN ({})",
            crate::db::id_list(chunk)
        ))
        .persistent(false)
        .fetch_all(pool)
        .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Invoices by status: (status, count, total amount in cents), for the dashboard.
pub async fn totals_by_status(pool: &AnyPool) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT status, CAST(COUNT(*) AS BIGINT) AS invoices, \
         CAST(COALESCE(SUM(total_amount_cents), 0) AS BIGINT) AS amount \
         FROM repair_invoices GROUP BY status ORDER BY status",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("status")?,
                r.try_get("invoices")?,
                r.try_get("amount")?,
            ))
        })
        .collect()
}

/// Installments of one week: (count, amount in cents, how many are still `Scheduled`).
pub async fn week_installments(pool: &AnyPool, week: &str) -> Result<(i64, i64, i64), sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(COALESCE(SUM(principal_amount_cents), 0) AS BIGINT) AS amount, \
         CAST(COALESCE(SUM(CASE WHEN status = 'Scheduled' THEN 1 ELSE 0 END), 0) AS BIGINT) AS waiting \
         FROM repair_installments WHERE week_start_date = $1 AND status <> 'Cancelled'",
    )
    .bind(week)
    .fetch_one(pool)
    .await?;
    Ok((
        row.try_get("n")?,
        row.try_get("amount")?,
        row.try_get("waiting")?,
    ))
}

/// Whose repair history: a vehicle's or a driver's (internal ids).
#[derive(Debug, Clone, Copy)]
pub enum HistoryOf {
    Vehicle(i64),
    Driver(i64),
}

/// One invoice of a repair history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub repair_id: String,
    pub invoice_number: String,
    pub invoice_date: String,
    pub workshop: String,
    pub status: InvoiceStatus,
    pub settlement: Settlement,
}

/// What a repair history adds up to: invoices, their amount (cancelled ones left out), what
/// was paid and what is left.
#[derive(Debug, Clone, Copy, Default)]
pub struct HistoryTotals {
    pub invoices: i64,
    pub amount: Money,
    pub paid: Money,
    pub remaining: Money,
}

/// The newest `limit` invoices of a vehicle or driver, and the totals of all of them.
pub async fn history(
    pool: &AnyPool,
    of: HistoryOf,
    limit: i64,
) -> Result<(Vec<HistoryRow>, HistoryTotals), sqlx::Error> {
    let (column, id) = match of {
        HistoryOf::Vehicle(id) => ("vehicle_id", id),
        HistoryOf::Driver(id) => ("driver_id", id),
    };
    let rows = sqlx::query(&format!(
        "SELECT repair_id, invoice_number, invoice_date, workshop_type, status, total_amount_cents, \
         {INVOICE_PAID} AS paid_cents FROM repair_invoices WHERE {column} = $1 ORDER BY invoice_date DESC, id DESC"
    ))
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut items = Vec::new();
    let (mut amount, mut paid, mut remaining) = (Money::ZERO, Money::ZERO, Money::ZERO);
    for r in &rows {
        let status: InvoiceStatus = word(r, "status")?;
        let settlement = Settlement::of_invoice(
            r.try_get("total_amount_cents")?,
            r.try_get("paid_cents")?,
            status,
        );
        if status != InvoiceStatus::Cancelled {
            amount += Money::from_cents(r.try_get("total_amount_cents")?);
        }
        paid += settlement.paid;
        remaining += settlement.remaining;
        if (items.len() as i64) < limit {
            items.push(HistoryRow {
                repair_id: r.try_get("repair_id")?,
                invoice_number: r.try_get("invoice_number")?,
                invoice_date: r.try_get("invoice_date")?,
                workshop: r.try_get("workshop_type")?,
                status,
                settlement,
            });
        }
    }
    let totals = HistoryTotals {
        invoices: rows.len() as i64,
        amount,
        paid,
        remaining,
    };
    Ok((items, totals))
}

/// Whether any invoice names the workshop.
pub async fn workshop_has_invoices(tx: &mut Tx, id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM repair_invoices WHERE workshop_id = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.is_some())
}

/// What has been spent at a workshop: its invoices that are not cancelled.
pub async fn workshop_spend(
    pool: &AnyPool,
    id: i64,
) -> Result<crate::workshops::model::WorkshopSpend, sqlx::Error> {
    let sum =
        |expr: &str, name: &str| format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT) AS {name}");
    let sql = format!(
        "SELECT COUNT(*) AS n, {}, {}, {}, {}, {}, {}, {} FROM repair_invoices \
         WHERE workshop_id = $1 AND status <> 'Cancelled'",
        sum("total_amount_cents", "total"),
        sum("parts_cents", "parts"),
        sum("labour_cents", "labour"),
        sum("fees_cents", "fees"),
        sum("discounts_cents", "discounts"),
        sum("tax_cents", "tax"),
        sum(
            "CASE WHEN line_count = 0 THEN total_amount_cents ELSE 0 END",
            "unitemised"
        ),
    );
    let r = sqlx::query(&sql).bind(id).fetch_one(pool).await?;
    let money =
        |column: &str| -> Result<Money, sqlx::Error> { Ok(Money::from_cents(r.try_get(column)?)) };
    Ok(crate::workshops::model::WorkshopSpend {
        invoice_count: r.try_get("n")?,
        total: money("total")?,
        parts: money("parts")?,
        labour: money("labour")?,
        fees: money("fees")?,
        discounts: money("discounts")?,
        tax: money("tax")?,
        unitemised: money("unitemised")?,
    })
}
