//! Interim payments as the cashier looks back on them (`ledger::interim_list`): one query
//! over the payments and the lease, driver and medallion that name them, for the list, its
//! export and one payment with what it paid and any void.

use domain::money::Money;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::db::filter::fetch_page;
use crate::ledger::interim_list::{
    InterimPaymentDetail, InterimPaymentSummary, InterimQuery, PaidBalance, PaymentVoid,
};

/// One query over the payments and what names them; the list, its export and the detail
/// read the same columns.
pub const INTERIM_FROM: &str =
    "FROM interim_payments ip JOIN ledger_postings p ON p.id = ip.posting_id \
     JOIN leases l ON l.id = ip.lease_id JOIN medallions m ON m.id = l.medallion_id \
     LEFT JOIN drivers d ON d.id = ip.driver_id";

pub const INTERIM_COLUMNS: &str = "ip.receipt_number, ip.posting_id, ip.payment_date, ip.method, ip.check_number, ip.memo, \
     ip.amount_cents, ip.created_by, ip.created_on, p.status, l.id AS lease_pk, l.lease_id, d.full_name, m.medallion_number, \
     (SELECT CAST(COALESCE(SUM(a.amount_cents), 0) AS BIGINT) FROM ledger_allocations a \
      WHERE a.payment_posting_id = ip.posting_id AND a.reversed = 0) AS applied_cents";

pub fn interim_summary_from_row(r: &AnyRow) -> Result<InterimPaymentSummary, sqlx::Error> {
    let receipt_number: String = r.try_get("receipt_number")?;
    let amount = Money::from_cents(r.try_get("amount_cents")?);
    let applied = Money::from_cents(r.try_get("applied_cents")?);
    let status: String = r.try_get("status")?;
    Ok(InterimPaymentSummary {
        receipt_url: crate::ledger::interim::receipt_url(&receipt_number),
        receipt_number,
        posting_id: r.try_get("posting_id")?,
        unapplied: if status == "POSTED" {
            amount - applied
        } else {
            Money::ZERO
        },
        status,
        payment_date: r.try_get("payment_date")?,
        payment_method: r.try_get("method")?,
        check_number: r.try_get("check_number")?,
        memo: r.try_get("memo")?,
        amount,
        applied,
        lease_pk: r.try_get("lease_pk")?,
        lease_id: r.try_get("lease_id")?,
        driver_name: r.try_get("full_name")?,
        medallion_number: r.try_get("medallion_number")?,
        created_by: r.try_get("created_by")?,
        created_on: r.try_get("created_on")?,
    })
}

/// One page of interim payments, as the list's query asks.
pub async fn interim_payments(
    pool: &AnyPool,
    query: &InterimQuery,
) -> Result<(Vec<InterimPaymentSummary>, i64), sqlx::Error> {
    fetch_page(
        pool,
        INTERIM_COLUMNS,
        INTERIM_FROM,
        &query.filter,
        &query.order_by,
        query.page,
        interim_summary_from_row,
    )
    .await
}

/// One interim payment by its receipt number, with what it paid and any void.
pub async fn interim_payment(
    pool: &AnyPool,
    receipt_number: &str,
) -> Result<Option<InterimPaymentDetail>, sqlx::Error> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {INTERIM_COLUMNS} {INTERIM_FROM} WHERE ip.receipt_number = $1"
    ))
    .bind(receipt_number)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let payment = interim_summary_from_row(&row)?;
    let allocations = sqlx::query(
        "SELECT a.balance_id, a.amount_cents, a.reversed, b.category, b.reference_id, b.due_date, b.balance_cents \
         FROM ledger_allocations a JOIN ledger_balances b ON b.id = a.balance_id \
         WHERE a.payment_posting_id = $1 ORDER BY a.id",
    )
    .bind(payment.posting_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(PaidBalance {
            balance_id: r.try_get("balance_id")?,
            category: r.try_get("category")?,
            reference_id: r.try_get("reference_id")?,
            due_date: r.try_get("due_date")?,
            amount: Money::from_cents(r.try_get("amount_cents")?),
            reversed: r.try_get::<i64, _>("reversed")? != 0,
            balance_now: Money::from_cents(r.try_get("balance_cents")?),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let void = sqlx::query(
        "SELECT id, description, created_by, created_on FROM ledger_postings WHERE reversal_for_id = $1",
    )
    .bind(payment.posting_id)
    .fetch_optional(pool)
    .await?
    .map(|r| {
        let description: Option<String> = r.try_get("description")?;
        Ok::<_, sqlx::Error>(PaymentVoid {
            reversal_posting_id: r.try_get("id")?,
            // Stored as "Void of posting N: reason".
            reason: description.map(|d| match d.split_once(": ") {
                Some((_, reason)) => reason.to_string(),
                None => d,
            }),
            voided_by: r.try_get("created_by")?,
            voided_on: r.try_get("created_on")?,
        })
    })
    .transpose()?;
    Ok(Some(InterimPaymentDetail {
        payment,
        allocations,
        void,
    }))
}
